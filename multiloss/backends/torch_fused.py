"""torch override of ``multiloss._ops.linear_softmax_cross_entropy``: the softmax
cross-entropy of a linear head, ``r_n = a_n logsumexp(z_n) - sum_c T_{n,c} z_{n,c}`` with
``z = x @ w.T + b``, computed ``chunk_size`` rows at a time by its own
``torch.autograd.Function``, so neither the forward nor the backward pass ever holds the full
``(N, C)`` logits.

* ``reduce=True`` (the ``mean``/``sum`` reductions of ``linear_cross_entropy``): the result is
  a scalar, so the whole gradient is known in the forward pass. Each chunk's logits become
  ``G = a * softmax(z) - T`` in place (float32 for half inputs: the target's ``1 - p`` never
  cancels in half precision) and are consumed at once by three matmuls (``d/dx = G @ w``,
  ``d/dw += G.T @ x``, ``d/db += G.sum(0)``); the backward pass only multiplies the stored
  gradients by the upstream scalar. Peak: one ``(chunk, C)`` block plus the gradients.
* ``reduce=False`` (``reduction="none"``): per-row values; the upstream gradient is a vector
  known only in backward, which recomputes each chunk's logits (one extra matmul per chunk,
  the trade-off of torch 2.13's ``_linear_cross_entropy_batch_chunked_no_reduction``,
  torch/nn/modules/linear_cross_entropy.py).

Gradients also flow to ``coef`` (``logsumexp``), ``target_coef`` (minus the target logit) and
dense targets (minus the logits): class weights and soft targets may require grad. Logits are
computed in the input dtype (as ``F.linear``); everything after in float32 for float16/bfloat16.
Anything else -- ``w`` of rank > 2 (K-dimensional heads), tracing under ``torch.compile``,
``torch.func`` transforms, mixed dtypes -- runs the generic Array API body (plain autograd).
Double backward is not supported by the fused path (``once_differentiable``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from array_api_compat import torch as xp_torch
from torch.autograd.function import once_differentiable

from .. import _ops

__all__ = ["linear_softmax_cross_entropy"]

try:
    _is_wrapped = torch._C._functorch.is_functorch_wrapped_tensor
except AttributeError:  # pragma: no cover - torch without functorch

    def _is_wrapped(x):
        return False


def _acc_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _spans(n: int, chunk_size: int | None):
    step = n if chunk_size is None or chunk_size >= n else chunk_size
    return [(s, min(s + step, n)) for s in range(0, n, max(step, 1))]


def _acc(t, acc):
    return None if t is None else (t if t.dtype == acc else t.to(acc))


def _chunked(x, w, b, target, coef, tcoef, chunk_size, scale=None, need=(False,) * 6):
    """Per-row ``r`` and (where ``need``: x, w, b, coef, target_coef, target) the gradients of
    ``sum(scale * r)`` (``scale`` per row, 1 when ``None``), one block of logits at a time."""
    need_x, need_w, need_b, need_c, need_tc, need_t = need
    acc = _acc_dtype(x.dtype)
    n = x.shape[0]
    dense = target is not None and target.is_floating_point()
    any_grad = any(need)
    r = torch.empty(n, dtype=acc, device=x.device)
    # half inputs on CUDA: the two gradient GEMMs take G rounded to the input dtype (cuBLAS
    # accumulates in float32; as torch's unchunked backward, which rounds its logits' gradient),
    # at tensor-core speed, and d/dw accumulates in place in w's dtype (torch 2.13's "compact"
    # policy, its CUDA default): no float32 copy or accumulator of w's size. Elsewhere (CPU,
    # whose half GEMMs are slow) they run in float32, d/dw accumulated in float32.
    half_mm = x.dtype != acc and x.is_cuda
    w_acc = _acc(w, acc) if need_x and not half_mm else None
    gx = torch.empty_like(x) if need_x else None
    gw = torch.zeros(w.shape, dtype=w.dtype if half_mm else acc, device=w.device) if need_w else None
    gb = torch.zeros(w.shape[0], dtype=acc, device=w.device) if need_b else None
    gc = torch.empty(n, dtype=acc, device=x.device) if need_c else None
    gtc = torch.empty(n, dtype=acc, device=x.device) if need_tc else None
    gt = torch.empty(target.shape, dtype=acc, device=x.device) if need_t else None
    for s, e in _spans(n, chunk_size):
        z = F.linear(x[s:e], w, b)
        if z.dtype != acc:
            z = z.to(acc)
        lse = torch.logsumexp(z, dim=1)
        a = None if coef is None else _acc(coef[s:e], acc)
        g = None if scale is None else _acc(scale[s:e], acc)
        rb = lse if a is None else a * lse
        if dense:
            tb = _acc(target[s:e], acc)
            rb = rb - (tb * z).sum(1)
        elif target is not None:
            idx = target[s:e].unsqueeze(1)
            zt = z.gather(1, idx).squeeze(1)
            c = None if tcoef is None else _acc(tcoef[s:e], acc)
            rb = rb - (zt if c is None else c * zt)
        r[s:e] = rb
        if not any_grad:
            continue
        if need_c:
            gc[s:e] = lse if g is None else lse * g
        if need_tc:
            gtc[s:e] = -zt if g is None else -zt * g
        if need_t:
            gt[s:e] = -z if g is None else -z * g.unsqueeze(1)
        if not (need_x or need_w or need_b):
            continue
        # z becomes G = scale * (a * softmax(z) - T), in place: the only logits-sized buffer
        rowc = a if g is None else (g if a is None else a * g)
        z.sub_(lse.unsqueeze(1)).exp_()
        if rowc is not None:
            z.mul_(rowc.unsqueeze(1))
        if dense:
            z.sub_(tb if g is None else tb * g.unsqueeze(1))
        elif target is not None:
            sub = torch.ones_like(zt) if c is None else c
            z.scatter_add_(1, idx, -(sub if g is None else sub * g).unsqueeze(1))
        zh = z.to(x.dtype) if half_mm else None
        if need_x:
            if half_mm:
                torch.mm(zh, w, out=gx[s:e])
            elif gx.dtype == acc:
                torch.mm(z, w_acc, out=gx[s:e])
            else:
                gx[s:e] = torch.mm(z, w_acc)
        if need_w:
            xs = x[s:e]
            if half_mm:
                gw.addmm_(zh.t(), xs)
            else:
                gw.addmm_(z.t(), _acc(xs, acc))
        if need_b:
            gb += z.sum(0)
    as_ = lambda t, like: None if t is None or like is None else (t if t.dtype == like.dtype else t.to(like.dtype))
    return r, (gx, as_(gw, w), as_(gb, b), as_(gc, coef), as_(gtc, tcoef), as_(gt, target))


def _needs(ctx, target):
    nx, nw, nb, nt, nc, ntc = ctx.needs_input_grad[:6]
    dense = target is not None and target.is_floating_point()
    return nx, nw, nb, nc, ntc, nt and dense


class _Rows(torch.autograd.Function):
    """Per-row values; backward recomputes each chunk's softmax with the upstream vector."""

    @staticmethod
    def forward(ctx, x, w, b, target, coef, tcoef, chunk_size):
        ctx.save_for_backward(x, w, b, target, coef, tcoef)
        ctx.chunk_size = chunk_size
        return _chunked(x, w, b, target, coef, tcoef, chunk_size)[0]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, w, b, target, coef, tcoef = ctx.saved_tensors
        gx, gw, gb, gc, gtc, gt = _chunked(x, w, b, target, coef, tcoef, ctx.chunk_size, scale=grad,
                                           need=_needs(ctx, target))[1]
        return gx, gw, gb, gt, gc, gtc, None


class _Sum(torch.autograd.Function):
    """The sum of the rows; the gradients are computed in the forward pass (chunk by chunk)
    and only scaled by the upstream scalar in backward."""

    @staticmethod
    def forward(ctx, x, w, b, target, coef, tcoef, chunk_size):
        r, grads = _chunked(x, w, b, target, coef, tcoef, chunk_size, need=_needs(ctx, target))
        # saved as intermediates (visible to saved_tensors_hooks: what the graph holds)
        ctx.save_for_backward(*grads)
        return r.sum()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        # not in place: retain_graph=True and a second backward keep working
        gx, gw, gb, gc, gtc, gt = (None if t is None else t * grad.to(t.dtype) for t in ctx.saved_tensors)
        return gx, gw, gb, gt, gc, gtc, None


def linear_softmax_cross_entropy(x, w, b=None, target=None, coef=None, target_coef=None, chunk_size=None,
                                 reduce=False):
    """The torch override (see the module docstring); the generic body where it does not apply."""
    fused = (
        x.dim() == 2
        and w.dim() == 2
        and x.dtype == w.dtype
        and (b is None or (b.dim() == 1 and b.dtype == x.dtype))
        and (target is None or target.dim() == (2 if target.is_floating_point() else 1))
        and (coef is None or coef.dim() == 1)
        and (target_coef is None or target_coef.dim() == 1)
        and x.device.type == w.device.type
        and not torch.compiler.is_compiling()
        and not any(_is_wrapped(t) for t in (x, w, b, target, coef, target_coef) if t is not None)
    )
    if not fused:
        return _ops.linear_softmax_cross_entropy.generic(xp_torch, x, w, b, target, coef, target_coef,
                                                         chunk_size, reduce)
    if target is not None and not target.is_floating_point() and target.dtype != torch.int64:
        target = target.long()  # gather / scatter index dtype
    args = (x, w, b, target, coef, target_coef)
    if not (torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in args)):
        r = _chunked(*args, chunk_size)[0]
        return r.sum() if reduce else r
    return (_Sum if reduce else _Rows).apply(*args, chunk_size)


def linear_cross_entropy_kernel(input, linear_weight, target, linear_bias=None, weight=None, reduction="mean",
                                ignore_index=None, label_smoothing=0.0):
    """``_ops.fused_loss("linear_cross_entropy", ...)``: torch's own unchunked path,
    ``F.linear_cross_entropy(..., options=None)`` (``F.linear`` then ``F.cross_entropy``: two
    kernels each way), taken by the canonical function for small logits only (see
    ``multiloss.losses.parametric.PLAIN_MAX_LOGITS``). The canonical function has checked the
    shapes, dtypes and target values; anything the kernels would treat differently -- mixed
    dtypes or devices, a class ``weight`` or probability target that requires grad (ATen's
    cross-entropy has no gradient for ``weight``), traced functorch tensors -- returns
    ``NotImplemented`` and runs the chunked body."""
    operands = [t for t in (input, linear_weight, linear_bias, weight) if t is not None]
    if input.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        return NotImplemented
    if any(t.dtype != input.dtype or t.device != input.device for t in operands) or target.device != input.device:
        return NotImplemented
    if (weight is not None and weight.requires_grad) or target.requires_grad:
        return NotImplemented
    if target.is_floating_point():
        if target.dtype != input.dtype:
            return NotImplemented
    elif target.dtype != torch.int64:
        return NotImplemented
    if any(_is_wrapped(t) for t in (*operands, target)):
        return NotImplemented
    return F.linear_cross_entropy(input, linear_weight, target, linear_bias=linear_bias, weight=weight,
                                  reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing)
