"""torch fast primitives for ``multiloss._ops`` (fused ATen kernels).

Imported by ``multiloss._namespace`` the first time a ``torch.Tensor`` is seen."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from array_api_compat import torch as xp_torch

from .. import _ops
from .torch_fused import linear_softmax_cross_entropy as _linear_softmax_cross_entropy
from .torch_fused_losses import fused_loss as _fused_loss

_NS = "array_api_compat.torch"


def _pick(x, labels, axis=-1):
    return torch.gather(x, axis, labels.unsqueeze(axis)).squeeze(axis)


def _one_hot(labels, num_classes, dtype=None, axis=-1):
    hot = F.one_hot(labels.clamp(0, num_classes - 1), num_classes)
    hot = hot * ((labels >= 0) & (labels < num_classes)).unsqueeze(-1)
    hot = hot.to(dtype if dtype is not None else torch.float32)
    return hot if axis in (-1, labels.ndim) else torch.movedim(hot, -1, axis)


try:  # functorch transforms (torch.func.vmap/grad) wrap tensors; .item() fails under vmap
    _is_wrapped = torch._C._functorch.is_functorch_wrapped_tensor
except AttributeError:  # pragma: no cover - torch without functorch
    def _is_wrapped(x):
        return False


def _is_concrete(x):
    # values are readable only eagerly: not while torch.compile traces (dynamo constant-folds
    # is_compiling() to True, so value checks vanish from the graph without a break), not
    # under torch.func transforms, not on the meta device (shape-only tensors)
    if torch.compiler.is_compiling():
        return False
    return not x.is_meta and not _is_wrapped(x)  # (is_meta: 0.06 us; device.type: 0.5 us)


def _is_host(x):
    # values on the host: reading them costs no device synchronisation (multiloss.checks)
    return x.is_cpu


def _can_device_assert(x):
    # torch._assert_async works eagerly (CPU: raises at once; CUDA: a device-side assert, no
    # sync) and in torch.compile graphs (eager, aot_eager and inductor keep it); torch.func
    # transforms (vmap, grad) wrap tensors and it has no batching rule
    return torch.compiler.is_compiling() or not _is_wrapped(x)


def _device_assert(cond, message):
    torch._assert_async(cond, message)


def _min_max(x, of=None):
    # one pass (aminmax) over the detached values: a value check records nothing for autograd
    if of is not None:
        x = of(x)
    return tuple(torch.aminmax(x.detach() if x.requires_grad else x))


def _clamped_log(x, min=-100.0):
    # same value and safe gradient as the generic one, in fewer kernels
    return torch.where(x > 0, torch.log(x.clamp_min(torch.finfo(x.dtype).tiny)), x.new_full((), min)).clamp_min(min)


def _log_softmax_pick(x, labels, axis=-1):
    # one fused log_softmax kernel (and one backward kernel) + a gather: ~1.05x
    # F.cross_entropy fwd+bwd at 4096x1000, vs ~1.9x for the generic logsumexp - pick (torch's
    # logsumexp is a composite of ~4 full passes and its backward 3 more)
    return torch.gather(torch.log_softmax(x, dim=axis), axis, labels.unsqueeze(axis)).squeeze(axis)


def _squared_difference(x, y):
    # aten::mse_loss(reduction=none): one fused forward kernel, one fused backward kernel
    if x.shape == y.shape and x.dtype == y.dtype:
        return F.mse_loss(x, y, reduction="none")
    d = x - y
    return d * d


def _logistic_loss(x, t):
    # aten::binary_cross_entropy_with_logits: one fused kernel forward, one backward (torch
    # computes the same (1 - t) x - log_sigmoid(x), torch/nn/functional.py -> ATen Loss.cpp)
    if x.shape == t.shape and x.dtype == t.dtype:
        return F.binary_cross_entropy_with_logits(x, t, reduction="none")
    return (1 - t) * x - F.logsigmoid(x)


def _binary_log_loss(p, t):
    # aten::binary_cross_entropy(reduction=none): one fused kernel each way (its log clamp at
    # -100 is the canonical one). float16 keeps the generic body: torch's endpoint gradient
    # (p - t) / max(p (1 - p), 1e-12) overflows float16; bfloat16 (float32's range) does not,
    # and its generic body was 6x slower with 5x the memory at 8192x32000 on an H100.
    if p.shape == t.shape and p.dtype == t.dtype and p.dtype in (torch.float32, torch.float64, torch.bfloat16):
        return F.binary_cross_entropy(p, t, reduction="none")
    return _ops.binary_log_loss.generic(xp_torch, p, t)


def _softmax_cross_entropy(x, t, axis=-1):
    # aten::cross_entropy with probability targets (torch's class axis 1, or 0 unbatched)
    class_dim = 0 if x.dim() == 1 else 1
    if axis % x.dim() == class_dim and x.shape == t.shape and x.dtype == t.dtype:
        return F.cross_entropy(x, t, reduction="none")
    return _ops.softmax_cross_entropy.generic(xp_torch, x, t, axis=axis)


def _huber(x, y, delta=1.0):
    # aten::huber_loss(reduction=none): fused forward and backward kernels
    if x.shape == y.shape and x.dtype == y.dtype and isinstance(delta, (int, float)):
        return F.huber_loss(x, y, reduction="none", delta=float(delta))
    d = x - y
    a = d.abs()
    return torch.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def _ctc_neg_log_likelihood(log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=False,
                            log_epsilon=None):
    # aten::ctc_loss(reduction=none): torch's own kernel, values and (non-autodiff) gradient;
    # float16/bfloat16 through float32 (its CPU kernel has no half-precision version). optax's
    # finite log(0) (log_epsilon) is the generic body's, and so is torch.compile's graph: the
    # native op's output shape depends on the lengths' values, which breaks fullgraph tracing
    # (torch.nn.CTCLoss itself does not compile with fullgraph=True); the generic recursion
    # traces to a static-shape graph with the same values and gradient.
    if log_epsilon is not None or torch.compiler.is_compiling():
        return _ops.ctc_neg_log_likelihood.generic(xp_torch, log_probs, targets, input_lengths, target_lengths,
                                                   blank, zero_infinity, log_epsilon)
    if log_probs.dtype in (torch.float32, torch.float64):
        return torch.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, 0, zero_infinity)
    out = torch.ctc_loss(log_probs.float(), targets, input_lengths, target_lengths, blank, 0, zero_infinity)
    return out.to(log_probs.dtype)


def _long(t):
    return t if t.dtype == torch.int64 else t.long()  # ATen's margin kernels take int64 targets


_ATEN_MARGIN_DTYPES = (torch.float32, torch.float64)  # ATen's CPU margin kernels: no Half/BFloat16


def _aten_margin_dtype(x) -> bool:
    # ATen's CUDA margin kernels do have float16/bfloat16 versions
    return x.dtype in _ATEN_MARGIN_DTYPES or (x.is_cuda and x.is_floating_point())


def _multilabel_margin(x, t):
    if torch.compiler.is_compiling() or not _aten_margin_dtype(x):
        # torch 2.13's traced multilabel_margin_loss is wrong (aot_eager: 4.94 where eager
        # gives 1.18 on the same inputs); the generic body compiles correctly
        return _ops.multilabel_margin.generic(xp_torch, x, t)
    # ATen's kernel: one pass, O(N C) memory (the generic body sorts each row twice)
    return F.multilabel_margin_loss(x, _long(t), reduction="none")


def _multi_margin(x, t, p=1, margin=1.0, weight=None):
    if not _aten_margin_dtype(x):
        return _ops.multi_margin.generic(xp_torch, x, t, p, margin, weight)
    return F.multi_margin_loss(x, _long(t), p=p, margin=margin, weight=weight, reduction="none")


_ops.register(
    _NS,
    # a whole torch-semantics loss as its one ATen kernel where exact (torch_fused_losses.py)
    fused_loss=_fused_loss,
    multilabel_margin=_multilabel_margin,
    multi_margin=_multi_margin,
    ctc_neg_log_likelihood=_ctc_neg_log_likelihood,
    # torch has no scan op: the eager Python loop, autograd recording each step (its CTC, the
    # recursion behind scan's main use, runs the native kernel above instead)
    scan=lambda f, init, xs: _ops.scan.generic(xp_torch, f, init, xs),
    logistic_loss=_logistic_loss,
    binary_log_loss=_binary_log_loss,
    # aten::pairwise_distance = norm(x1 - x2 + eps, p, -1): one fused norm kernel each way
    pairwise_distance=lambda x1, x2, p=2.0, eps=1e-6, keepdim=False: torch.pairwise_distance(x1, x2, p, eps, keepdim),
    softmax_cross_entropy=_softmax_cross_entropy,
    # chunked linear-head cross-entropy, gradient computed chunk by chunk (torch_fused.py)
    linear_softmax_cross_entropy=_linear_softmax_cross_entropy,
    min_max=_min_max,
    # no ATen op: the generic three-branch where, as torch tensors (jax: jax.nn.sparse_plus)
    sparse_plus=lambda z: _ops.sparse_plus.generic(xp_torch, z),
    # torch.maximum's backward shares a tie: grad / 2 to each side, 1/2 at z == 0 (one op)
    positive_part=lambda z: torch.maximum(z, z.new_zeros(())),
    huber=_huber,
    clamped_log=_clamped_log,
    log_softmax_pick=_log_softmax_pick,
    squared_difference=_squared_difference,
    stop_gradient=lambda x: x.detach(),
    log_softmax=lambda x, axis=-1: torch.log_softmax(x, dim=axis),
    softmax=lambda x, axis=-1: torch.softmax(x, dim=axis),
    logsumexp=lambda x, axis=-1, keepdims=False: torch.logsumexp(x, dim=axis, keepdim=keepdims),
    softplus=F.softplus,
    log_sigmoid=F.logsigmoid,
    sigmoid=torch.sigmoid,
    take_along_axis=lambda x, indices, axis=-1: torch.take_along_dim(x, indices, dim=axis),
    pick=_pick,
    one_hot=_one_hot,
    xlogy=torch.xlogy,
    is_concrete=_is_concrete,
    is_host=_is_host,
    can_device_assert=_can_device_assert,
    device_assert=_device_assert,
)


class _Sparsemax(torch.autograd.Function):
    """``_ops.sparsemax``: the generic forward (one sort), the sparsemax Jacobian written out
    backward, ``g_S - mean_S(g_S)`` on the support S (no sort backward, a scatter: ~25% faster
    forward+backward at 4096x1000 on CPU). Double backward: the support is piecewise constant,
    so the result is linear in ``g`` and its gradient w.r.t. the input is 0, as the autodiff
    of the generic body gives."""

    generate_vmap_rule = True  # torch.func.vmap / grad

    @staticmethod
    def forward(x, axis):
        return _ops.sparsemax.generic(xp_torch, x, axis)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.axis = inputs[1]
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g):
        (p,) = ctx.saved_tensors
        s = p > 0
        gs = torch.where(s, g, 0)
        size = s.sum(ctx.axis, keepdim=True).clamp_min(1)  # a fully masked row: p = 0, no 0/0
        return gs - s * (gs.sum(ctx.axis, keepdim=True) / size), None


_ops.register(_NS, sparsemax=lambda x, axis=-1: _Sparsemax.apply(x, axis))
