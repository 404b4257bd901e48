"""Ranking (learning-to-rank) losses, canonical form: scores of the items of a list along the
last axis, relevance labels of the same shape; the leading axes are lists (optax's
``optax/losses/_ranking.py`` conventions, with torch's ``reduction`` instead of ``reduce_fn``).
"""

from __future__ import annotations

from typing import Any

from .. import _ops
from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS, reduce
from .._validation import (
    check_broadcasts_to,
    check_floating,
    check_reduction,
    dtype_name,
    shape_of,
)
from ._common import as_float_like, masked_logit

__all__ = ["ranking_softmax_loss"]


def ranking_softmax_loss(
    input: Any, target: Any, where: Any = None, weight: Any = None, reduction: str = "mean"
) -> Any:
    r"""Ranking softmax loss (listwise softmax cross-entropy, Cao et al. 2007 "ListNet" /
    Bruch et al. 2019) of each list of item scores against its relevance labels:

    .. math::
        \ell = -\sum_{i \in \text{where}} w_i\, y_i \log \frac{e^{s_i}}{\sum_{j \in \text{where}} e^{s_j}}

    over the last axis. ``where``: a boolean mask of the valid items (excluded items are out of
    the normaliser and add nothing; a list with no valid item gives 0); ``weight``: per-item
    weights multiplying the labels. ``reduction``: ``'mean'`` over the lists (with ``where``:
    over the lists with at least one valid item, 0 if there is none, as optax's
    ``_safe_reduce``), ``'sum'``, or ``'none'`` (the list shape).

    Shapes: ``input`` ``(..., L)`` floating scores (at least 1-D); ``target``, ``where`` and
    ``weight`` broadcastable to it (``where`` of any dtype: nonzero is valid); the loss has
    ``input``'s shape without its last axis.
    optax: ``ranking_softmax_loss(logits, labels, *, where=None, weights=None,
    reduce_fn=jnp.mean)``; torch, keras: none.
    """
    fn = "ranking_softmax_loss"
    xp = array_namespace(input, target, where, weight, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    if len(shape_of(input)) == 0:
        raise ValueError(
            f"{fn}: argument 'input' must have a list axis (the last): shape (..., list_size); got a 0-d array"
        )
    target = as_float_like(xp, target, input)
    check_broadcasts_to(fn, "target", target, "input", input)
    if weight is not None:
        check_broadcasts_to(fn, "weight", weight, "input", input)
        if not xp.isdtype(weight.dtype, ("real floating", "integral", "bool")):
            raise TypeError(f"{fn}: argument 'weight' must be a real array; got dtype {dtype_name(weight)}")
        weight = as_float_like(xp, weight, input)
    mask = None
    if where is not None:
        check_broadcasts_to(fn, "where", where, "input", input)
        mask = where if xp.isdtype(where.dtype, "bool") else where != 0
        # optax masks the logits with -inf; half the lowest finite value has no mass in the
        # normaliser either, a list with no valid item stays finite (then 0), and the shift by
        # the largest score cannot overflow it
        target = xp.where(mask, target, 0.0)
        input = xp.where(mask, input, masked_logit(xp, input.dtype))
    if weight is not None:
        target = target * weight
    terms = target * _ops.log_softmax(xp, input, axis=-1)
    if mask is not None:
        # excluded items add exactly 0 (optax's sum(where=)), whatever their log-probability
        terms = xp.where(mask, terms, 0.0)
    loss = -xp.sum(terms, axis=-1)
    if mask is None and reduction == "mean" and 0 in shape_of(loss):
        return xp.sum(loss)  # optax _safe_reduce: the mean of no list is 0, not nan
    if mask is None or reduction != "mean":
        return reduce(xp, loss, reduction, fn)
    # optax _safe_reduce: jnp.mean(loss, where=any(where, axis=-1)), 0 when no list is valid
    rows = xp.any(xp.broadcast_to(mask, shape_of(input)), axis=-1)
    count = xp.sum(xp.astype(rows, loss.dtype))
    total = xp.sum(loss)
    empty = count == 0
    return xp.where(empty, xp.zeros_like(total), total / xp.where(empty, xp.ones_like(count), count))
