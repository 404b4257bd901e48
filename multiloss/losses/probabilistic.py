"""Divergences between distributions, canonical form (``input`` first, torch semantics)."""

from __future__ import annotations

import warnings
from typing import Any

from .. import _ops
from .._namespace import array_namespace
from .._reduction import reduce
from .._validation import check_broadcastable, check_floating, check_reduction
from ._common import as_float_like

__all__ = ["kl_div"]

KL_DIV_REDUCTIONS = ("none", "mean", "sum", "batchmean")


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Any:
    r"""Pointwise Kullback-Leibler divergence with ``input`` holding **log**-probabilities:
    :math:`\ell = y (\log y - x)` (``0 \log 0 = 0``), or with ``log_target=True`` (``target``
    holds log-probabilities too) :math:`\ell = e^{y} (y - x)`.

    ``reduction``: ``'none'``, ``'sum'``, ``'mean'`` (over all elements, as torch; rarely what
    is meant) or ``'batchmean'`` (sum / batch size ``input.shape[0]``: the true KL per sample).
    Shapes: ``input`` ``(N, *)``; ``target`` broadcastable to it.
    torch: ``F.kl_div`` / ``nn.KLDivLoss``; keras: ``kl_divergence`` / ``KLDivergence`` takes
    probabilities for both and clips them to [1e-7, 1] (the keras adapter does that); optax:
    ``kl_divergence(log_predictions, targets)`` (sum over the last axis, unreduced).
    """
    fn = "kl_div"
    xp = array_namespace(input, target, fn=fn)
    check_reduction(fn, reduction, KL_DIV_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    target = as_float_like(xp, target, input)
    check_broadcastable(fn, "input", input, "target", target)
    if log_target:
        loss = xp.exp(target) * (target - input)
    else:
        loss = _ops.xlogy(xp, target, target) - target * input
    if reduction == "mean":
        # torch warns the same way (torch/nn/functional.py kl_div)
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and is the KL divergence "
            "per sample",
            UserWarning,
            stacklevel=2,
        )
    if reduction == "batchmean":
        total = xp.sum(loss)
        return total / input.shape[0] if len(input.shape) > 0 else total
    return reduce(xp, loss, reduction, fn)
