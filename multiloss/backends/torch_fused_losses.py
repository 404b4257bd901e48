"""torch override of ``multiloss._ops.fused_loss``: a canonical loss whose torch-semantics
body is exactly one ATen loss kernel runs as that kernel.

The canonical functions follow ``torch.nn.functional`` (their float64 references and the
numpy/jax/TF backends pin that), so where the arguments fit the kernel exactly -- dtypes,
layout, options -- the torch backend calls it: one dispatch forward and one backward, the
reduction fused, values checked on the device by the kernel itself (ATen's
``nll_loss`` "Target 12 is out of bounds", ``binary_cross_entropy`` "all elements of input
should be between 0 and 1"), never read back to the host. Everything else returns
``NotImplemented`` and the canonical body runs.

Measured (CPU, 64x10, forward+backward against torch's own module): CrossEntropyLoss 2.6x ->
~1.0x, NLLLoss 3.3x -> ~1.0x, BCELoss 1.7x -> ~1.1x (the rest is the canonical function's
static checks); at 8192x32000 NLLLoss's gather/scatter pair (1.16-1.24x on an H100) becomes
ATen's nll_loss kernels, and bf16 BCELoss its fused kernel (the generic body was 6x slower
with 5x the memory). See ``multiloss bench --backend torch``.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

__all__ = ["fused_loss"]

_FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)
# ATen's binary_cross_entropy in float16 returns an infinite gradient at p = 0 or 1
# ((p - t) / max(p (1 - p), 1e-12) with 1e-12 underflowing); the generic body's stays finite.
# bfloat16 has float32's range: its kernel is finite there.
_BCE_FLOATS = (torch.float32, torch.float64, torch.bfloat16)


def _same(x: torch.Tensor, y: Any) -> bool:
    """``y`` is a tensor of ``x``'s dtype and device (a kernel's operands must be)."""
    return isinstance(y, torch.Tensor) and y.dtype == x.dtype and y.device == x.device


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
    if weight is not None and not _same(input, weight):
        return NotImplemented
    return F.binary_cross_entropy(input, target, weight, reduction=reduction)


def _bce_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    if input.dtype not in _FLOATS or not _same(input, target) or target.shape != input.shape:
        return NotImplemented
    for w in (weight, pos_weight):
        if w is not None and not _same(input, w):
            return NotImplemented
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=reduction, pos_weight=pos_weight)


def _pointwise(kernel: Callable[..., Any], **options: str) -> Callable[..., Any]:
    """``mse_loss`` / ``l1_loss`` / ``huber_loss`` / ``smooth_l1_loss`` on same-shape,
    same-dtype operands (broadcasting and ``weight`` run the canonical body)."""

    def call(input, target, reduction="mean", weight=None, **kw):
        if weight is not None or input.dtype not in _FLOATS or not _same(input, target):
            return NotImplemented
        if target.shape != input.shape:
            return NotImplemented
        for k, v in kw.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                return NotImplemented  # an array hyper-parameter: the canonical body
            kw[k] = float(v)
        return kernel(input, target, reduction=reduction, **{options.get(k, k): v for k, v in kw.items()})

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


_KERNELS: dict[str, Callable[..., Any]] = {
    "multi_margin_loss": _multi_margin_loss,
    "multilabel_margin_loss": _multilabel_margin_loss,
    "cross_entropy": _cross_entropy,
    "lean_cross_entropy": _lean_cross_entropy,
    "nll_loss": _nll_loss,
    "binary_cross_entropy": _binary_cross_entropy,
    "binary_cross_entropy_with_logits": _bce_with_logits,
    "mse_loss": _pointwise(F.mse_loss),
    "l1_loss": _pointwise(F.l1_loss),
    "huber_loss": _pointwise(F.huber_loss),
    "smooth_l1_loss": _pointwise(F.smooth_l1_loss),
}


def fused_loss(name: str, *args: Any, **kwargs: Any) -> Any:
    kernel = _KERNELS.get(name)
    return NotImplemented if kernel is None else kernel(*args, **kwargs)
