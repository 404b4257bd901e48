"""Reduction, sample-weight and class-weight semantics, in one place.

torch (``reduction='none'|'mean'|'sum'``):
  * ``mean`` of an unweighted loss is the mean over all elements;
  * with per-class ``weight`` (``CrossEntropyLoss``/``NLLLoss`` on class indices) ``mean`` is
    ``sum(w[y_i] * l_i) / sum(w[y_i])`` over non-ignored elements: :func:`weighted_mean`.

keras (``reduction='sum_over_batch_size'|'sum'|'mean'|'mean_with_sample_weight'|'none'|None``,
``keras/src/losses/loss.py::reduce_values``):
  * the per-sample losses are multiplied by ``sample_weight`` and summed;
  * ``sum_over_batch_size``/``mean`` divide by the number of loss *elements*, weighted or not;
  * ``mean_with_sample_weight`` divides by ``sum(sample_weight)``; a zero divisor gives 0
    (``divide_no_nan``).
"""

from __future__ import annotations

from typing import Any

from ._validation import check_reduction, numel

__all__ = [
    "TORCH_REDUCTIONS",
    "KERAS_REDUCTIONS",
    "reduce",
    "weighted_mean",
    "keras_reduce",
]

TORCH_REDUCTIONS = ("none", "mean", "sum")
KERAS_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def reduce(xp, loss: Any, reduction: str, fn: str = "multiloss", weight: Any = None) -> Any:
    """torch reduction of an elementwise ``loss``; ``weight`` (same shape) multiplies it first
    and ``mean`` then divides by ``sum(weight)`` (``mse_loss``/``l1_loss(weight=)`` semantics)."""
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.sum(loss)
    if reduction == "mean":
        if weight is not None:
            return xp.sum(loss) / xp.sum(xp.broadcast_to(weight, loss.shape))
        return xp.mean(loss)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    raise AssertionError("unreachable")  # pragma: no cover


def weighted_mean(xp, loss: Any, weights: Any) -> Any:
    """``sum(loss) / sum(weights)``: torch's mean for class-weighted / ignore_index losses.

    ``loss`` already carries the weights; like torch, a zero total weight gives nan."""
    return xp.sum(loss) / xp.sum(weights)


def keras_reduce(
    xp, values: Any, reduction: str | None = "sum_over_batch_size", sample_weight: Any = None
) -> Any:
    """keras ``reduce_weighted_values`` on per-sample ``values`` (see module docstring)."""
    check_reduction("keras reduction", reduction, KERAS_REDUCTIONS)
    if sample_weight is not None:
        sample_weight = xp.astype(sample_weight, values.dtype) if hasattr(sample_weight, "dtype") else sample_weight
        values = values * sample_weight
    if reduction is None or reduction == "none" or values.ndim == 0:
        return values
    total = xp.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = xp.sum(xp.broadcast_to(sample_weight, values.shape))
    else:
        divisor = xp.full_like(total, float(numel(values)))
    safe = xp.where(divisor == 0, xp.ones_like(divisor), divisor)
    return xp.where(divisor == 0, xp.zeros_like(total), total / safe)
