"""Regression losses, canonical form (``input``/y_pred first, torch names and defaults)."""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._reduction import reduce
from .._validation import check_same_shape
from ._common import elementwise_inputs, is_number

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "mean_absolute_percentage_error",
    "cosine_similarity",
    "mean_squared_logarithmic_error",
    "log_cosh",
]


def _elementwise_weight(fn, input, weight):
    """torch's ``weight=`` of mse/l1/huber: ``None`` or an array of the input's shape."""
    if weight is not None:
        check_same_shape(fn, "input", input, "weight", weight)
    return weight


def mse_loss(input: Any, target: Any, reduction: str = "mean", weight: Any = None) -> Any:
    r"""Mean squared error: :math:`\ell_i = w_i (x_i - y_i)^2`, then ``reduction``.

    Shapes: ``input`` any shape, ``target`` the same (broadcasting is allowed and warned
    about, like torch); ``weight`` (optional) the input's shape. ``mean`` divides by
    ``sum(weight)`` when weighted (``torch.nn.functional.mse_loss(weight=)``).

    torch: ``F.mse_loss`` / ``nn.MSELoss``; keras: ``mean_squared_error`` / ``MeanSquaredError``
    (mean over the last axis); optax: ``squared_error`` (unreduced), ``l2_loss`` = ½·squared_error.
    """
    fn = "mse_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction, weight)
    out = _ops.fused_loss(xp, fn, input, target, reduction, weight)  # one native kernel (torch)
    if out is not NotImplemented:
        return out
    loss = _ops.squared_difference(xp, input, target)
    return reduce(xp, loss, reduction, fn, _elementwise_weight(fn, input, weight))


def l1_loss(input: Any, target: Any, reduction: str = "mean", weight: Any = None) -> Any:
    r"""Mean absolute error: :math:`\ell_i = w_i |x_i - y_i|`, then ``reduction``.

    Shapes and weighting as :func:`mse_loss`.
    torch: ``F.l1_loss`` / ``nn.L1Loss``; keras: ``mean_absolute_error`` / ``MeanAbsoluteError``;
    optax: ``l1_loss`` (recent versions, unreduced).
    """
    fn = "l1_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction, weight)
    out = _ops.fused_loss(xp, fn, input, target, reduction, weight)  # one native kernel (torch)
    if out is not NotImplemented:
        return out
    return reduce(xp, xp.abs(input - target), reduction, fn, _elementwise_weight(fn, input, weight))


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:
    r"""Smooth L1: :math:`\ell_i = 0.5 d_i^2/\beta` if :math:`|d_i| < \beta` else
    :math:`|d_i| - 0.5\beta`, with :math:`d = x - y`; ``beta=0`` is exactly L1.

    Equals ``huber_loss(delta=beta) / beta``. Shapes as :func:`mse_loss`.
    torch: ``F.smooth_l1_loss`` / ``nn.SmoothL1Loss``.
    """
    fn = "smooth_l1_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction)
    # a traced (array) beta, e.g. under jax.jit, must be > 0: it cannot be branched on
    if is_number(beta) and beta < 0:
        raise ValueError(f"{fn}: argument 'beta' must be >= 0; got {beta!r}")
    out = _ops.fused_loss(xp, fn, input, target, reduction, beta=beta)  # one native kernel (torch)
    if out is not NotImplemented:
        return out
    if is_number(beta) and beta == 0:
        loss = xp.abs(input - target)
    else:
        # smooth_l1 = huber(delta=beta) / beta; the fused primitive (torch: aten::huber_loss)
        loss = _ops.huber(xp, input, target, beta)
        if not (is_number(beta) and beta == 1):
            loss = loss / beta
    return reduce(xp, loss, reduction, fn)


def huber_loss(
    input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None
) -> Any:
    r"""Huber: :math:`\ell_i = 0.5 d_i^2` if :math:`|d_i| < \delta` else
    :math:`\delta(|d_i| - 0.5\delta)`, with :math:`d = x - y`.

    ``weight`` (input's shape) multiplies elementwise and, as in torch, ``mean`` stays the
    plain mean of the weighted elements. Shapes as :func:`mse_loss`.
    torch: ``F.huber_loss`` / ``nn.HuberLoss``; keras: ``huber`` / ``Huber`` (mean over the last
    axis); optax: ``huber_loss`` (unreduced).
    """
    fn = "huber_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction, weight)
    if is_number(delta) and not delta > 0:
        raise ValueError(f"{fn}: argument 'delta' must be > 0; got {delta!r}")
    out = _ops.fused_loss(xp, fn, input, target, reduction, weight, delta=delta)  # one native kernel (torch)
    if out is not NotImplemented:
        return out
    loss = _ops.huber(xp, input, target, delta)
    if _elementwise_weight(fn, input, weight) is not None:
        loss = loss * weight  # a rescaling: 'mean' stays over elements (torch)
    return reduce(xp, loss, reduction, fn)


def mean_absolute_percentage_error(
    input: Any, target: Any, reduction: str = "mean", epsilon: float = 1e-7
) -> Any:
    r"""MAPE: :math:`\ell_i = 100\,|y_i - x_i| / \max(|y_i|, \epsilon)`.

    ``epsilon`` is keras's ``backend.epsilon()`` (1e-7). Shapes as :func:`mse_loss`.
    keras: ``mean_absolute_percentage_error`` / ``MeanAbsolutePercentageError`` (mean over the
    last axis); torch, optax: none.
    """
    fn = "mean_absolute_percentage_error"
    xp, target = elementwise_inputs(fn, input, target, reduction)
    a = xp.abs(target)
    denom = xp.where(a > epsilon, a, epsilon)  # max(|y|, eps); see hinge on scalars and compile
    # the ratio first, then x100 (keras's order): 100 * |y - x| alone overflows float16 past 655
    return reduce(xp, 100.0 * (xp.abs(target - input) / denom), reduction, fn)


def cosine_similarity(
    input: Any, target: Any, axis: int = -1, reduction: str = "mean", epsilon: float = 1e-12
) -> Any:
    r"""Cosine similarity *as a loss* (negative, so minimising aligns the vectors):
    :math:`\ell = -\sum_k \hat x_k \hat y_k` along ``axis``, with
    :math:`\hat v = v / \sqrt{\max(\sum v^2, \epsilon)}` (keras ``l2_normalize``).

    Shapes: ``input`` and ``target`` the same shape ``(..., D)``; the loss has that shape
    without ``axis``; then ``reduction``. Values in [-1, 1].
    keras: ``cosine_similarity`` / ``CosineSimilarity`` (also negative); optax:
    ``cosine_similarity`` is the positive similarity and ``cosine_distance = 1 - similarity``;
    torch: ``F.cosine_similarity`` is the positive similarity (eps on the norm product).
    """
    fn = "cosine_similarity"
    xp, target = elementwise_inputs(fn, input, target, reduction, warn_broadcast=False)
    check_same_shape(fn, "input", input, "target", target)

    def normalize(v):
        sq = xp.sum(v * v, axis=axis, keepdims=True)
        return v / xp.sqrt(xp.where(sq > epsilon, sq, epsilon))  # max(sq, eps)

    return reduce(xp, -xp.sum(normalize(input) * normalize(target), axis=axis), reduction, fn)


def mean_squared_logarithmic_error(
    input: Any, target: Any, reduction: str = "mean", epsilon: float = 1e-7
) -> Any:
    r"""Mean squared logarithmic error:
    :math:`\ell_i = \left(\log(1 + \max(x_i, \epsilon)) - \log(1 + \max(y_i, \epsilon))\right)^2`,
    then ``reduction``.

    Both arguments are clipped below at ``epsilon`` (keras's ``backend.epsilon()``, 1e-7), so
    negative values count as ``epsilon`` and get no gradient. keras writes ``log(x + 1)``
    (keras/src/losses/losses.py ``mean_squared_logarithmic_error``); this uses ``log1p``, the
    same function, more accurate for small ``x``. Shapes as :func:`mse_loss`.
    keras: ``mean_squared_logarithmic_error`` / ``MeanSquaredLogarithmicError`` (mean over the
    last axis); torch, optax: none.
    """
    fn = "mean_squared_logarithmic_error"
    xp, target = elementwise_inputs(fn, input, target, reduction)

    def log1p_clipped(v):
        # max(v, eps) as a where on v >= eps: the gradient at the tie goes to v, as tf.maximum's
        return xp.log1p(xp.where(v >= epsilon, v, epsilon))

    return reduce(xp, _ops.squared_difference(xp, log1p_clipped(input), log1p_clipped(target)), reduction, fn)


_LOG2 = math.log(2.0)


def log_cosh(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Log-cosh: :math:`\ell_i = \log\cosh(x_i - y_i)`, then ``reduction``.

    About :math:`d^2/2` for small errors :math:`d = x - y` and :math:`|d| - \log 2` for large
    ones (a twice-differentiable Huber), gradient :math:`\tanh(d)`. Computed as
    :math:`|d| + \log(1 + e^{-2|d|}) - \log 2`, finite for every finite :math:`d`: keras
    writes ``d + softplus(-2 d) - log 2`` (keras/src/losses/losses.py ``log_cosh``, overflows
    to inf for :math:`d < -\mathrm{max}/2`), optax ``logaddexp(d, -d) - log 2``
    (optax/losses/_regression.py ``log_cosh``). Shapes as :func:`mse_loss`.
    keras: ``log_cosh`` / ``LogCosh`` (mean over the last axis); optax: ``log_cosh``
    (elementwise, ``targets=None`` means zeros); torch: none.
    """
    fn = "log_cosh"
    xp, target = elementwise_inputs(fn, input, target, reduction)
    a = xp.abs(input - target)
    # softplus(-2a) = log1p(exp(-2a)) exactly for a >= 0 (exp <= 1: nothing to guard); two
    # plain ops that XLA fuses (jax.nn.softplus is logaddexp with a custom jvp: 2x slower here)
    return reduce(xp, a + xp.log1p(xp.exp(-2.0 * a)) - _LOG2, reduction, fn)
