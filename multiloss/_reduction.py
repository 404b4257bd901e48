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

from ._validation import check_reduction, numel, shape_of

__all__ = [
    "TORCH_REDUCTIONS",
    "KERAS_REDUCTIONS",
    "reduce",
    "weighted_mean",
    "keras_reduce",
    "same_rank",
]

TORCH_REDUCTIONS = ("none", "mean", "sum")
_SUM_DIV_MIN = 4096  # measured crossover of torch mean() vs sum()/n forward+backward (CPU)
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
        n = numel(loss)
        if n and n > _SUM_DIV_MIN and loss.dtype in (xp.float32, xp.float64):
            # same value as mean; torch's mean backward materialises grad / n over the whole
            # loss (one extra full pass: 3-4x slower than sum's broadcast backward at 10^5+
            # elements), while below a few thousand elements the extra division node costs
            # more than it saves. float16 keeps mean (its float32 accumulator cannot overflow).
            return xp.sum(loss) / n
        return xp.mean(loss)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    raise AssertionError("unreachable")  # pragma: no cover


def weighted_mean(xp, loss: Any, weights: Any) -> Any:
    """``sum(loss) / sum(weights)``: torch's mean for class-weighted / ignore_index losses.

    ``loss`` already carries the weights. Like torch, a zero total weight (every target
    ignored: a padding-only batch) gives a nan *value* with a zero *gradient*: torch's
    nll_loss backward scales the (all-zero) per-element weights, it does not differentiate
    0/0. Dividing by the raw total here would send nan into every input's gradient."""
    total = xp.sum(weights)
    empty = total == 0
    # arrays of the total's dtype (two Python scalars in `where` would take the default dtype)
    nan_if_empty = xp.where(empty, xp.full_like(total, float("nan")), xp.zeros_like(total))
    return xp.sum(loss) / xp.where(empty, xp.ones_like(total), total) + nan_if_empty


def keras_reduce(
    xp, values: Any, reduction: str | None = "sum_over_batch_size", sample_weight: Any = None
) -> Any:
    """keras ``reduce_weighted_values`` on per-sample ``values`` (see module docstring)."""
    check_reduction("keras reduction", reduction, KERAS_REDUCTIONS)
    if sample_weight is not None:
        sample_weight = xp.astype(sample_weight, values.dtype) if hasattr(sample_weight, "dtype") else sample_weight
        if hasattr(sample_weight, "shape"):
            values, sample_weight = same_rank(xp, values, sample_weight)
        values = values * sample_weight
    if reduction is None or reduction == "none" or len(values.shape) == 0 or shape_of(values) == (0,):
        return values
    total = xp.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        # keras divides by sum(sample_weight) as given (after the rank fix), not broadcast
        divisor = xp.sum(sample_weight) if hasattr(sample_weight, "shape") else xp.full_like(total, float(sample_weight))
    else:
        n = numel(values)  # None: a dimension unknown while tracing (tf.function)
        divisor = (xp.full_like(total, float(n)) if n is not None
                   else xp.astype(xp.sum(xp.ones_like(values)), total.dtype))
    safe = xp.where(divisor == 0, xp.ones_like(divisor), divisor)
    return xp.where(divisor == 0, xp.zeros_like(total), total / safe)


def same_rank(xp, values: Any, sample_weight: Any) -> tuple[Any, Any]:
    """keras ``squeeze_or_expand_to_same_rank(x1, x2)`` (keras/src/losses/loss.py), used for
    (values, sample_weight) here and for (y_true, y_pred) by the keras adapter:
    a rank difference of one with a trailing dimension of 1 is fixed by expanding the rank-1
    side or squeezing the other."""
    vr, wr = len(values.shape), len(sample_weight.shape)
    if vr == wr + 1 and shape_of(values)[-1] == 1:
        if wr == 1:
            sample_weight = xp.expand_dims(sample_weight, axis=-1)
        else:
            values = xp.squeeze(values, axis=-1)
    if wr == vr + 1 and shape_of(sample_weight)[-1] == 1:
        if vr == 1:
            values = xp.expand_dims(values, axis=-1)
        else:
            sample_weight = xp.squeeze(sample_weight, axis=-1)
    return values, sample_weight
