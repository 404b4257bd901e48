"""torch override of ``multiloss._ops.fused_loss``: a canonical loss whose torch-semantics
body is exactly one ATen loss kernel runs as that kernel.

The canonical functions follow ``torch.nn.functional`` (their float64 references and the
numpy/jax/TF backends pin that), so where the arguments fit the kernel exactly -- dtypes,
layout, options -- the torch backend calls it: one dispatch forward and one backward, the
reduction fused, values checked on the device by the kernel itself (ATen's
``nll_loss`` "Target 12 is out of bounds", ``binary_cross_entropy`` "all elements of input
should be between 0 and 1"), never read back to the host. Everything else returns
``NotImplemented`` and the canonical body runs.

The kernels: ``cross_entropy``, ``nll_loss``, ``binary_cross_entropy`` (not float16),
``binary_cross_entropy_with_logits``, ``mse_loss``, ``l1_loss``, ``huber_loss``,
``smooth_l1_loss``, ``multi_margin_loss``, ``multilabel_margin_loss`` (float32/float64 on CPU,
no empty batch), ``linear_cross_entropy`` (small logits; torch_fused.py), called as ``torch.nn.functional`` calls them (``torch._C._nn.*`` where F's
Python wrapper only re-checks what the canonical function checked); and torch's
CompositeImplicitAutograd losses ``margin_ranking_loss``, ``hinge_embedding_loss``,
``poisson_nll_loss``, ``kl_div`` (``batchmean``: F's sum / batch size), ``cosine_embedding_loss``
and ``triplet_margin_loss`` (also ``triplet_margin_with_distance_loss``'s default distance):
one call into C++ running the canonical body's ops, so on finite inputs the same bits, value
and gradient (tests/test_torch_fused_losses.py holds each against the canonical body in
float64/32/16 and bfloat16, kinks, zeros, empty batches and every option). At nan inputs the
fused call is torch's own bits: a zero gradient where a ``clamp_min`` sees nan, where the
canonical ``where`` passes it. Not fused: ``soft_margin_loss`` (ATen's ``log1p(exp(-y x))``
overflows to inf where the canonical ``softplus(-y x)`` stays finite, and their gradients
round differently), ``poisson_nll_loss(full=True)`` with a target that requires grad (ATen's
Stirling term has a nan gradient at a count of 0), ``gaussian_nll_loss`` (no ATen kernel; F's
reads ``any(var < 0)`` on the host).

Measured (CPU, 1 thread, ``multiloss bench --backend torch --mode eager --sizes 64x10
--threads 1``: overhead per call over torch's own module on 4x3 eager inputs, before -> after
issue 12 item 2, two runs, +-0.5 us): MarginRankingLoss +12.7 -> +4.2 us, HingeEmbeddingLoss
+18.1 -> +4.3, PoissonNLLLoss +27.2 -> +12.0 (5 us of it multiloss's counts >= 0 check, which
torch lacks), GaussianNLLLoss +14.9 -> +6.3 (its canonical body skips an identity clamp on host
variances), CosineEmbeddingLoss +34.3 -> +6.2, TripletMarginLoss +23.4 -> +6.4,
TripletMarginWithDistanceLoss +9.5 -> -2.5 (F's is six Python-level ops), KLDivLoss +4.2 ->
+3.6, SoftMarginLoss +4.9 -> +4.8 (canonical body), MSELoss +5.0 -> +1.0, SmoothL1Loss +6.7 ->
+2.5, HuberLoss +6.5 -> +2.7, BCELoss +5.4 -> +4.6, BCEWithLogitsLoss +5.5 -> +5.0. Earlier:
CrossEntropyLoss 2.6x -> ~1.0x, NLLLoss 3.3x -> ~1.0x, BCELoss 1.7x -> ~1.1x (64x10,
forward+backward); at 8192x32000 NLLLoss's gather/scatter pair (1.16-1.24x on an H100) became
ATen's nll_loss kernels, and bf16 BCELoss its fused kernel (the generic body was 6x slower
with 5x the memory).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from .torch_fused import linear_cross_entropy_kernel

__all__ = ["fused_loss"]

_FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
# ATen's binary_cross_entropy in float16 returns an infinite gradient at p = 0 or 1
# ((p - t) / max(p (1 - p), 1e-12) with 1e-12 underflowing); the generic body's stays finite.
# bfloat16 has float32's range: its kernel is finite there.
_BCE_FLOATS = (torch.float32, torch.float64, torch.bfloat16)


def _same(x: torch.Tensor, y: Any) -> bool:
    """``y`` is a tensor of ``x``'s dtype and device (a kernel's operands must be)."""
    return isinstance(y, torch.Tensor) and y.dtype == x.dtype and y.device == x.device


# torch.nn._reduction.get_enum: the reduction argument of the ATen loss ops
_ENUM = {"none": 0, "mean": 1, "sum": 2}


def _real(*values: Any) -> bool:
    """Python numbers (not bools, not arrays): what ATen takes as a ``double`` argument."""
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return False
    return True


def _fits(x: torch.Tensor, *others: Any) -> bool:
    """A floating ``x`` and tensors of its dtype, device and shape: an ATen composite's ops then
    neither broadcast nor promote, so they are the canonical body's ops on the same operands."""
    if x.dtype not in _FLOATS:
        return False
    dtype, device, shape = x.dtype, x.device, x.shape
    for y in others:
        if not isinstance(y, torch.Tensor) or y.dtype != dtype or y.device != device or y.shape != shape:
            return False
    return True


def _cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    # ignore_index None (keras's sparse CE: nothing ignored) has no ATen spelling
    if input.dtype not in _FLOATS or target.device != input.device or ignore_index is None:
        return NotImplemented
    if weight is not None and not _same(input, weight):
        return NotImplemented
    if target.dtype == torch.int64:
        pass  # class indices (ATen takes Long, or Byte; int32 runs the canonical body)
    elif not (target.dtype == input.dtype and target.shape == input.shape):
        return NotImplemented
    return F.cross_entropy(input, target, weight, None, ignore_index, None, reduction, label_smoothing)


def _lean_cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """``cross_entropy(..., lean_memory=True)``: the gradient computed in the forward pass,
    chunk by chunk (torch_lean_ce.py), for (N, C) logits and int64 class indices; else the
    plain kernel."""
    if input.dim() != 2 or target.dtype != torch.int64 or input.dtype not in _FLOATS or ignore_index is None:
        return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
    if target.device != input.device or (weight is not None and (not _same(input, weight) or weight.requires_grad)):
        return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
    from .torch_lean_ce import lean_cross_entropy

    return lean_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)


def _nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    if input.dtype not in _FLOATS or target.dtype != torch.int64 or target.device != input.device:
        return NotImplemented  # probability targets (a multiloss extension) too
    if ignore_index is None:
        return NotImplemented
    if weight is not None and not _same(input, weight):
        return NotImplemented
    return F.nll_loss(input, target, weight, None, ignore_index, None, reduction)


def _binary_cross_entropy(input, target, weight=None, reduction="mean"):
    if input.dtype not in _BCE_FLOATS or not _same(input, target) or target.shape != input.shape:
        return NotImplemented
    if weight is None:  # (F's wrapper: a size check, done; the reduction's enum)
        return torch._C._nn.binary_cross_entropy(input, target, None, _ENUM[reduction])
    if not _same(input, weight):
        return NotImplemented
    return F.binary_cross_entropy(input, target, weight, reduction=reduction)  # (expands weight)


def _bce_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    if input.dtype not in _FLOATS or not _same(input, target) or target.shape != input.shape:
        return NotImplemented
    for w in (weight, pos_weight):
        if w is not None and not _same(input, w):
            return NotImplemented
    # F's wrapper adds a size check (done) to this call
    return torch.binary_cross_entropy_with_logits(input, target, weight, pos_weight, _ENUM[reduction])


def _pointwise(name: str) -> Callable[..., Any]:
    """``mse_loss`` / ``l1_loss`` / ``huber_loss`` / ``smooth_l1_loss`` on same-shape,
    same-dtype operands (broadcasting and ``weight`` run the canonical body): the ATen op that
    ``torch.nn.functional`` calls, called as F calls it (``torch._C._nn``: F's Python wrapper,
    whose size warning, ``broadcast_tensors`` and reduction lookup are no-ops here, costs 3 us
    a call); ``smooth_l1_loss(beta=0)`` is ``l1_loss``, as in F."""
    kernel = getattr(torch._C._nn, name)
    l1 = torch._C._nn.l1_loss

    def call(input, target, reduction="mean", weight=None, **kw):
        if weight is not None or not _fits(input, target):
            return NotImplemented
        if not _real(*kw.values()):
            return NotImplemented  # an array hyper-parameter: the canonical body
        if not kw:
            return kernel(input, target, _ENUM[reduction])
        (v,) = kw.values()  # huber's delta / smooth_l1's beta
        if name == "smooth_l1_loss" and v == 0:
            return l1(input, target, _ENUM[reduction])
        return kernel(input, target, _ENUM[reduction], float(v))

    return call


def _margin_dtype(x: torch.Tensor) -> bool:
    # ATen's CPU margin kernels have no float16/bfloat16 version; its CUDA ones do. An empty
    # batch runs the canonical body: torch 2.13's CPU multi_margin_loss(reduction='sum') of a
    # (0, C) input returns uninitialised memory (4.7e-310 seen) instead of 0
    return x.numel() > 0 and (x.dtype in (torch.float32, torch.float64) or (x.is_cuda and x.dtype in _FLOATS))


def _multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    if not _margin_dtype(input) or target.dtype != torch.int64 or target.device != input.device:
        return NotImplemented
    if (weight is not None and not _same(input, weight)) or not isinstance(margin, (int, float)):
        return NotImplemented
    return F.multi_margin_loss(input, target, p, float(margin), weight, reduction=reduction)


def _multilabel_margin_loss(input, target, reduction="mean"):
    # torch 2.13's traced multilabel_margin_loss is wrong (see torch_ops._multilabel_margin)
    if torch.compiler.is_compiling() or not _margin_dtype(input) or target.dtype != torch.int64:
        return NotImplemented
    if target.device != input.device:
        return NotImplemented
    return F.multilabel_margin_loss(input, target, reduction=reduction)


# ----------------------------------------------------------------------------- composites
# torch 2.13 registers these ATen losses as CompositeImplicitAutograd: one Python-to-C++ call
# that runs, in C++, the ops the canonical body runs one Python call at a time (autograd
# records the same ops: the same values and gradients, the same backward graph). Each is
# taken only where the canonical body's ops and operands are ATen's exactly: one floating
# dtype, one device, one shape (no broadcast, no promotion), the hyper-parameters Python
# numbers. Where ATen's formula differs the canonical body runs (see each one).


def _margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    # ATen: (-target * (input1 - input2) + margin).clamp_min_(0), then mean()/sum()
    if not _fits(input1, input2, target) or not _real(margin):
        return NotImplemented
    return torch.margin_ranking_loss(input1, input2, target, float(margin), _ENUM[reduction])


def _hinge_embedding_loss(input, target, margin=1.0, reduction="mean"):
    # ATen: where(target != 1, (margin - input).clamp_min_(0), 0) + where(target != -1, input, 0)
    if not _fits(input, target) or not _real(margin):
        return NotImplemented
    return torch.hinge_embedding_loss(input, target, float(margin), _ENUM[reduction])


def _poisson_nll_loss(input, target, log_input=True, full=False, eps=1e-8, reduction="mean"):
    # ATen: exp(x) - y x, or x - y log(x + eps); full adds the Stirling term
    # masked_fill(y <= 1, 0). That term's gradient with respect to a target of 0 is nan in ATen
    # (0 * log(0) through the mask) and 0 in the canonical body (computed on a safe target): a
    # target that requires grad with full=True runs the canonical body.
    if not _fits(input, target) or not _real(eps) or type(log_input) is not bool or type(full) is not bool:
        return NotImplemented
    if full and target.requires_grad:
        return NotImplemented
    return torch.poisson_nll_loss(input, target, log_input, full, float(eps), _ENUM[reduction])


def _kl_div(input, target, reduction="mean", log_target=False):
    # ATen: exp(y) (y - x) or xlogy(y, y) - y x; batchmean is F.kl_div's: the sum / batch size
    if not _fits(input, target) or type(log_target) is not bool:
        return NotImplemented
    if reduction != "batchmean":
        return torch.kl_div(input, target, _ENUM[reduction], log_target=log_target)
    total = torch.kl_div(input, target, 2, log_target=log_target)
    return total / input.shape[0] if input.dim() else total


def _cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    # ATen: cos = sum(x1 x2) / sqrt((sum(x1^2) + EPSILON) (sum(x2^2) + EPSILON)) over the last
    # axis (EPSILON a C++ float 1e-12), then where(y == 1, 1 - cos, 0) +
    # where(y == -1, (cos - margin).clamp_min_(0), 0); the labels of any dtype, one per pair
    if not _fits(input1, input2) or not _real(margin) or input1.dim() not in (1, 2):
        return NotImplemented
    if not isinstance(target, torch.Tensor) or target.device != input1.device or target.shape != input1.shape[:-1]:
        return NotImplemented
    return torch.cosine_embedding_loss(input1, input2, target, float(margin), _ENUM[reduction])


def _triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    # ATen: clamp_min(margin + d(a, p) - d(a, n), 0), d = pairwise_distance(., ., p, eps), the
    # negative distance min(d(a, n), d(p, n)) with swap; F.triplet_margin_with_distance_loss
    # with its default distance (pairwise_distance, p=2, eps=1e-6) is the same ops
    if not _fits(anchor, positive, negative) or not _real(margin, p, eps) or type(swap) is not bool:
        return NotImplemented
    return torch.triplet_margin_loss(anchor, positive, negative, float(margin), float(p), float(eps), swap,
                                     _ENUM[reduction])


def _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    # ATen's ctc_loss with its reduction: the kernel behind _ops.ctc_neg_log_likelihood, then
    # (mean) res / target_lengths.clamp_min(1) and mean(), the canonical body's ops. It checks
    # both lengths' ranges ("Expected input_lengths to have value at most 6"), not the labels
    # (the canonical function has), and never reads a padded target. Batched (T, N, C) log-probs
    # of float32/float64 (its CPU kernel has no half version; the override casts those) with
    # padded (N, S) targets; not while torch.compile traces (a data-dependent output shape).
    if log_probs.dtype not in (torch.float32, torch.float64) or log_probs.dim() != 3 or targets.dim() != 2:
        return NotImplemented
    if torch.compiler.is_compiling() or type(zero_infinity) is not bool:
        return NotImplemented
    for t in (targets, input_lengths, target_lengths):
        if not isinstance(t, torch.Tensor) or t.device != log_probs.device or t.is_floating_point():
            return NotImplemented
    return torch.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _ENUM[reduction], zero_infinity)


_KERNELS: dict[str, Callable[..., Any]] = {
    "linear_cross_entropy": linear_cross_entropy_kernel,
    "ctc_loss": _ctc_loss,
    "multi_margin_loss": _multi_margin_loss,
    "multilabel_margin_loss": _multilabel_margin_loss,
    "cross_entropy": _cross_entropy,
    "lean_cross_entropy": _lean_cross_entropy,
    "nll_loss": _nll_loss,
    "binary_cross_entropy": _binary_cross_entropy,
    "binary_cross_entropy_with_logits": _bce_with_logits,
    "mse_loss": _pointwise("mse_loss"),
    "l1_loss": _pointwise("l1_loss"),
    "huber_loss": _pointwise("huber_loss"),
    "smooth_l1_loss": _pointwise("smooth_l1_loss"),
    "margin_ranking_loss": _margin_ranking_loss,
    "hinge_embedding_loss": _hinge_embedding_loss,
    "poisson_nll_loss": _poisson_nll_loss,
    "kl_div": _kl_div,
    "cosine_embedding_loss": _cosine_embedding_loss,
    "triplet_margin_loss": _triplet_margin_loss,
}


def fused_loss(name: str, *args: Any, **kwargs: Any) -> Any:
    kernel = _KERNELS.get(name)
    return NotImplemented if kernel is None else kernel(*args, **kwargs)
