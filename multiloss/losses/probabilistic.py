"""Divergences and likelihoods of distributions, canonical form (``input`` first, torch
semantics): KL divergence, Poisson and Gaussian negative log-likelihoods."""

from __future__ import annotations

import math
import warnings
from typing import Any

from .. import _ops
from .._namespace import array_namespace
from .._reduction import reduce
from .._validation import (
    check_broadcastable,
    check_floating,
    check_nonnegative,
    check_reduction,
    concrete_min_max,
    dtype_name,
    shape_of,
)
from ._common import as_float_like, elementwise_inputs, is_number

__all__ = ["kl_div", "poisson_nll_loss", "gaussian_nll_loss", "generalized_kl_divergence"]

KL_DIV_REDUCTIONS = ("none", "mean", "sum", "batchmean")


def _kl_inputs(fn: str, input: Any, target: Any, reduction: str):
    """The KL losses' prologue: namespace, reduction (``batchmean`` too), a floating input,
    the target cast to its dtype, broadcastable shapes (warned about when they differ)."""
    xp = array_namespace(input, target, fn=fn)
    check_reduction(fn, reduction, KL_DIV_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    target = as_float_like(xp, target, input)
    check_broadcastable(fn, "input", input, "target", target)
    return xp, target


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
    xp, target = _kl_inputs(fn, input, target, reduction)
    if reduction == "mean":
        # torch warns the same way (torch/nn/functional.py kl_div)
        warnings.warn(
            "kl_div: reduction='mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and is the KL divergence "
            "per sample",
            UserWarning,
            stacklevel=2,
        )
    out = _ops.fused_loss(xp, fn, input, target, reduction, log_target)  # one native call (torch)
    if out is not NotImplemented:
        return out
    if log_target:
        loss = xp.exp(target) * (target - input)
    else:
        # target * input first, as ATen evaluates it: autograd then sums the target's gradient
        # terms in torch's order (bitwise equal to torch.kl_div's, not just to 1 ulp)
        cross = target * input
        loss = _ops.xlogy(xp, target, target) - cross
    if reduction == "batchmean":
        total = xp.sum(loss)
        return total / input.shape[0] if len(input.shape) > 0 else total
    return reduce(xp, loss, reduction, fn)


def poisson_nll_loss(
    input: Any,
    target: Any,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> Any:
    r"""Poisson negative log-likelihood of counts ``target`` under rate ``input``:
    :math:`\ell_i = e^{x_i} - y_i x_i` (``log_input=True``: ``input`` is the log-rate) or
    :math:`\ell_i = x_i - y_i \log(x_i + \epsilon)` (``log_input=False``: the rate itself).
    ``full=True`` adds the Stirling approximation of :math:`\log(y_i!)`,
    :math:`y_i \log y_i - y_i + \tfrac12 \log(2\pi y_i)`, where :math:`y_i > 1` (0 elsewhere:
    ATen Loss.cpp ``masked_fill(target <= 1, 0)``). Then ``reduction``.

    Shapes: ``input`` any shape, ``target`` broadcastable to it (torch neither checks nor
    warns). ``target`` must be >= 0: a negative count raises ``ValueError`` (checked eagerly on
    concrete arrays; torch and keras compute a number).
    torch: ``F.poisson_nll_loss`` / ``nn.PoissonNLLLoss``; keras: ``poisson`` / ``Poisson`` is
    ``log_input=False, eps=1e-7`` averaged over the last axis; optax: none.
    """
    fn = "poisson_nll_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction, warn_broadcast=False)
    # counts are >= 0 (checked on concrete arrays; torch and keras do not check, and torch's
    # own OpInfo / ModuleInfo samples draw targets with low=0 and .abs_(): never negative)
    check_nonnegative(xp, fn, "target", target, what="Poisson counts")
    out = _ops.fused_loss(xp, fn, input, target, log_input, full, eps, reduction)  # one native call (torch)
    if out is not NotImplemented:
        return out
    if log_input:
        loss = xp.exp(input) - target * input
    else:
        loss = input - target * xp.log(input + eps)
    if full:
        # masked where target <= 1, computed on a safe target: no nan value or gradient from
        # log(0) (a nan target keeps its nan term, as in torch)
        small = target <= 1
        t = xp.where(small, 1.0, target)
        stirling = t * xp.log(t) - t + 0.5 * xp.log(2 * math.pi * t)
        loss = loss + xp.where(small, 0.0, stirling)
    return reduce(xp, loss, reduction, fn)


def _gaussian_var_shape(fn: str, input: Any, var: Any, xp) -> Any:
    """torch's ``var`` shape rules (torch/nn/functional.py ``gaussian_nll_loss``): the input's
    shape (heteroscedastic); the input's shape without its last dimension (one variance per
    sample: a trailing axis is added); or the input's rank with the sizes of the mismatched
    dimensions summing to 1 (e.g. ``(N, 1)`` for ``(N, D)``, ``(B, 1, H, W)``)."""
    si, sv = shape_of(input), shape_of(var)
    if sv == si:
        return var
    if si[:-1] == sv:
        return xp.expand_dims(var, axis=-1)
    if len(si) == len(sv) and sum(v for i, v in zip(si, sv) if i != v) == 1:
        return var
    raise ValueError(
        f"{fn}: argument 'var' must have the shape of 'input' {si}, that shape without its last "
        f"dimension {si[:-1]}, or the input's rank with size 1 in the one dimension that differs; "
        f"got shape {sv}"
    )


def gaussian_nll_loss(
    input: Any,
    target: Any,
    var: Any,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Any:
    r"""Gaussian negative log-likelihood of ``target`` under mean ``input`` and variance ``var``:
    :math:`\ell_i = \tfrac12 \left(\log \max(v_i, \epsilon) + (x_i - y_i)^2 / \max(v_i, \epsilon)\right)`,
    plus :math:`\tfrac12 \log 2\pi` with ``full=True``. Then ``reduction``.

    The clamp at ``eps`` changes the value only: the gradient with respect to ``var`` is the
    one at the clamped value, passed straight through (torch clamps a clone in place under
    ``no_grad``, torch/nn/functional.py). ``var`` must be >= 0 (checked eagerly on concrete
    arrays; ``ValueError``) and may be a Python number (one variance for all).
    Shapes: ``input`` ``(N, *)``; ``target`` broadcastable to it; ``var`` the input's shape, the
    input's shape without its last dimension, or with one dimension of size 1 (homoscedastic).
    torch: ``F.gaussian_nll_loss`` / ``nn.GaussianNLLLoss``; keras, optax: none.
    """
    fn = "gaussian_nll_loss"
    var_is_number = is_number(var)
    xp, target = elementwise_inputs(fn, input, target, reduction, *(() if var_is_number else (var,)),
                                    warn_broadcast=False)
    clamp = True
    if var_is_number:
        if var < 0:
            raise ValueError(f"{fn}: argument 'var' must be >= 0 (a variance); got {var!r}")
        var = xp.full_like(input, var)  # torch: var * ones_like(input)
    else:
        if not xp.isdtype(var.dtype, ("real floating", "integral")):
            raise TypeError(
                f"{fn}: argument 'var' must be a real (floating or integer) array or a number; got "
                f"dtype {dtype_name(var)} with shape {shape_of(var)}"
            )
        var = as_float_like(xp, var, input)
        check_nonnegative(xp, fn, "var", var)
        var = _gaussian_var_shape(fn, input, var, xp)
        # host values whose minimum is >= eps: the clamp below is the identity (value and
        # gradient), and skipping its 4 ops saves 11 us of a 4x3 torch call for a 3 us read
        # (concrete_min_max reads host arrays only: never an accelerator's, never while tracing)
        low = concrete_min_max(xp, var) if is_number(eps) else None
        clamp = low is None or not float(low[0]) >= eps
    if clamp:
        # max(var, eps) in value, identity in gradient: var - stop_gradient(var) is exactly 0
        var = xp.where(var >= eps, var, (var - _ops.stop_gradient(xp, var)) + eps)
    # (x - y)^2 as d * d, not the fused squared_difference: that one saves both inputs for its
    # backward, one tensor more than torch's formula (measured: 1.5x the saved bytes)
    d = input - target
    loss = 0.5 * (xp.log(var) + d * d / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(xp, loss, reduction, fn)


def generalized_kl_divergence(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Pointwise generalized Kullback-Leibler divergence of unnormalized measures, with
    ``input`` holding **log**-values: :math:`\ell = y (\log y - x) + e^{x} - y`
    (``0 \log 0 = 0``), the Bregman divergence of :math:`f(p) = p \log p - p` between
    :math:`y` and :math:`p = e^{x}`; :func:`kl_div` plus :math:`e^{x} - y`, so its sum is the
    KL divergence when both sum to one. ``target`` is expected to be >= 0 (not checked, as
    optax).

    ``reduction``: ``'none'``, ``'sum'``, ``'mean'`` (over all elements) or ``'batchmean'``
    (sum / ``input.shape[0]``: the divergence per sample), as :func:`kl_div`.
    Shapes: ``input`` ``(N, *)``; ``target`` broadcastable to it.
    optax: ``generalized_kl_divergence(log_predictions, targets, axis=-1, where=None)`` and its
    deprecated alias ``convex_kl_divergence`` (optax/losses/_classification.py: the sum over
    ``axis`` of this, unreduced); torch, keras: none.
    """
    fn = "generalized_kl_divergence"
    xp, target = _kl_inputs(fn, input, target, reduction)
    loss = _ops.xlogy(xp, target, target) - target * input + xp.exp(input) - target
    if reduction == "batchmean":
        total = xp.sum(loss)
        return total / input.shape[0] if len(input.shape) > 0 else total
    return reduce(xp, loss, reduction, fn)
