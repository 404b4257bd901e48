"""Overlap (segmentation) losses, canonical form (``input``/y_pred first): the Tversky loss,
whose ``alpha = beta = 1/2`` case is the (soft) Dice loss, and optax's multiclass generalized
Dice loss.

One formula serves keras's ``Dice`` and ``Tversky`` and optax's ``dice_loss`` and
``binary_dice_loss``: they differ only in options (``alpha``, ``beta``, the smoothing terms,
the summed axes), so they share the one canonical :func:`tversky`. optax's
``multiclass_generalized_dice_loss`` derives its class weights from the targets, a different
loss: :func:`multiclass_generalized_dice_loss`.

Both take *probabilities* (keras's convention); the adapters apply optax's softmax/sigmoid.
"""

from __future__ import annotations

import numbers
from typing import Any

from .. import _ops
from .._reduction import reduce
from .._validation import check_same_shape, shape_of
from ._common import along_axis, class_axis, elementwise_inputs, is_number

__all__ = ["tversky", "multiclass_generalized_dice_loss"]

# optax/losses/_segmentation.py multiclass_generalized_dice_loss: 1 / (frequency**2 + 1e-7)
_GDL_EPSILON = 1e-7


def normalize_axes(fn: str, axis: Any, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """``axis`` (``None``: every axis; an int; a tuple or list of ints, e.g. a keras config
    reloaded from JSON) as a sorted tuple of non-negative axes of an ``ndim``-d array. Raises
    ``TypeError``/``ValueError`` naming ``fn`` and the argument."""
    if axis is None:
        return tuple(range(ndim))
    items = (axis,) if isinstance(axis, numbers.Integral) and not isinstance(axis, bool) else axis
    if not isinstance(items, (tuple, list)) or any(
        isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in items
    ):
        raise TypeError(f"{fn}: argument '{name}' must be None, an int or a tuple of ints; got {axis!r}")
    out = []
    for a in items:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{fn}: argument '{name}' must hold axes in [-{ndim}, {ndim}) for a {ndim}-d input; got {axis!r}"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{fn}: argument '{name}' must not repeat an axis; got {axis!r} (axes {out})")
    return tuple(sorted(out))


def _check_nonnegative_number(fn: str, **values: Any) -> None:
    for name, v in values.items():
        if is_number(v) and not v >= 0:  # also rejects nan
            raise ValueError(f"{fn}: argument '{name}' must be >= 0; got {v!r}")


def _sums(xp, p: Any, t: Any, axes: tuple[int, ...]) -> tuple[Any, Any, Any]:
    """``(sum(p * t), sum(p), sum(t))`` over ``axes`` (``()``: elementwise, no sum; torch's
    ``sum(dim=())`` would sum everything)."""
    if not axes:
        return p * t, p, t
    return xp.sum(p * t, axis=axes), xp.sum(p, axis=axes), xp.sum(t, axis=axes)


def _tversky_from_sums(inter: Any, psum: Any, tsum: Any, alpha: Any, beta: Any, smooth: Any, epsilon: Any) -> Any:
    r""":math:`1 - (I + s) / (I + \alpha(P - I) + \beta(T - I) + s + \epsilon)`, with the
    denominator written :math:`(1 - \alpha - \beta) I + \alpha P + \beta T + s + \epsilon`
    (no ``P - I`` difference to round; its ``I`` term vanishes for Dice, where it is then
    bit for bit keras's ``2I / (T + P + eps)`` with ``epsilon = eps / 2``)."""
    den = alpha * psum + beta * tsum
    rest = 1 - alpha - beta
    if not (is_number(rest) and rest == 0):
        den = den + rest * inter
    shift = smooth + epsilon
    if not (is_number(shift) and shift == 0):
        den = den + shift
    num = inter if is_number(smooth) and smooth == 0 else inter + smooth
    return 1 - num / den


def _accumulate(xp, input: Any, target: Any) -> tuple[Any, Any]:
    """float16/bfloat16 inputs are summed in float32: a sum over a 256x256 mask reaches
    float16's maximum (65504) at a quarter of it."""
    if _ops._is_half(input):
        return xp.astype(input, xp.float32), xp.astype(target, xp.float32)
    return input, target


def tversky(
    input: Any,
    target: Any,
    alpha: float = 0.5,
    beta: float = 0.5,
    axis: int | tuple[int, ...] | None = None,
    smooth: float = 0.0,
    epsilon: float = 1e-7,
    reduction: str = "mean",
) -> Any:
    r"""Tversky loss (Salehi et al. 2017); with ``alpha = beta = 1/2`` the soft Dice loss.

    .. math::
        \ell = 1 - \frac{I + s}{I + \alpha\,\mathrm{FP} + \beta\,\mathrm{FN} + s + \epsilon},
        \quad I = \sum_i x_i y_i,\ \mathrm{FP} = \sum_i x_i (1 - y_i),\
        \mathrm{FN} = \sum_i (1 - x_i) y_i

    the sums running over ``axis`` (``None``: every axis, one overlap for the whole batch as
    keras's default; ``()``: none, elementwise); ``s`` = ``smooth`` (numerator and
    denominator), :math:`\epsilon` = ``epsilon`` (denominator only). ``alpha`` weighs the false
    positives, ``beta`` the false negatives (both >= 0); ``alpha = beta = 1/2`` gives
    :math:`1 - (2I + 2s) / (\sum x + \sum y + 2s + 2\epsilon)`, the Dice loss. Then
    ``reduction`` over what remains.

    Shapes: ``input`` probabilities (any shape); ``target`` the same shape, in [0, 1] (binary
    or soft masks, one-hot classes); the loss has the input's shape without ``axis``.
    float16/bfloat16 inputs are summed in float32.

    keras: ``Dice`` / ``dice`` (``alpha = beta = 1/2``, ``smooth = 0``, ``epsilon =
    backend.epsilon() / 2``), ``Tversky`` / ``tversky`` (``smooth = 0``, ``epsilon =
    backend.epsilon()``; keras's ``alpha`` multiplies :math:`\sum (1 - x) y`, i.e. this
    ``beta``); optax: ``dice_loss`` (per class along the last axis, ``smooth = 1``,
    ``epsilon = 0``, optional softmax/sigmoid) and ``binary_dice_loss``; torch: none
    (``multiloss.torch.TverskyLoss`` / ``DiceLoss``).
    """
    fn = "tversky"
    xp, target = elementwise_inputs(fn, input, target, reduction, warn_broadcast=False)
    check_same_shape(fn, "input", input, "target", target)
    axes = normalize_axes(fn, axis, len(shape_of(input)))
    _check_nonnegative_number(fn, alpha=alpha, beta=beta, smooth=smooth, epsilon=epsilon)
    p, t = _accumulate(xp, input, target)
    loss = _tversky_from_sums(*_sums(xp, p, t, axes), alpha, beta, smooth, epsilon)
    if loss.dtype != input.dtype:
        loss = xp.astype(loss, input.dtype)
    return reduce(xp, loss, reduction, fn)


def multiclass_generalized_dice_loss(
    input: Any,
    target: Any,
    smooth: float = 1.0,
    ignore_background: bool = False,
    reduction: str = "mean",
) -> Any:
    r"""Multiclass generalized Dice loss (Sudre et al. 2017, as optax computes it): per-class
    Dice losses weighted by the inverse squared class frequencies of the targets.

    .. math::
        \ell_{n,c} = w_c \Bigl(1 - \frac{I_{n,c} + s}{\tfrac12 (P_{n,c} + T_{n,c}) + s}\Bigr),
        \quad w_c = C\,\frac{1 / (f_c^2 + 10^{-7})}{\sum_k 1 / (f_k^2 + 10^{-7})},
        \quad f_c = \sum_{n, i} y_{n,c,i}

    with :math:`I, P, T` the sums of :math:`x y`, :math:`x`, :math:`y` over the spatial axes
    (every axis after the class axis) and ``s`` = ``smooth``. The weights (mean 1) come from
    the whole batch's targets. ``ignore_background`` drops class 0 (when ``C > 1``) after the
    weights are computed. Then ``reduction`` over the ``(N, C)`` values (``mean``: optax's
    scalar).

    Shapes: ``input`` probabilities ``(N, C, d1, ...)`` (class axis 1, torch's), ``(N, C)`` or
    ``(C,)``; ``target`` the same shape (one-hot or soft); ``'none'`` gives ``(N, C)`` (``(N,
    C - 1)`` with ``ignore_background``). float16/bfloat16 inputs are summed in float32.

    optax: ``multiclass_generalized_dice_loss`` (class axis last, softmax applied by default:
    ``multiloss.jax`` does both); keras, torch: none (``multiloss.keras.GeneralizedDice``,
    ``multiloss.torch.GeneralizedDiceLoss``).
    """
    fn = "multiclass_generalized_dice_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction, warn_broadcast=False)
    check_same_shape(fn, "input", input, "target", target)
    ndim = len(shape_of(input))
    if ndim == 0:
        raise ValueError(
            f"{fn}: argument 'input' must have a class dimension, (C,), (N, C) or (N, C, d1, ...); got a 0-d array"
        )
    if not isinstance(ignore_background, bool):
        raise TypeError(f"{fn}: argument 'ignore_background' must be a bool; got {ignore_background!r}")
    _check_nonnegative_number(fn, smooth=smooth)
    cd = class_axis(input)
    p, t = _accumulate(xp, input, target)
    # class frequencies over every axis but the class axis; weights normalised to mean 1
    others = tuple(i for i in range(ndim) if i != cd)
    freq = xp.sum(t, axis=others) if others else t
    w = 1 / (freq * freq + _GDL_EPSILON)
    w = w / xp.sum(w) * shape_of(input)[cd]
    dice = _tversky_from_sums(*_sums(xp, p, t, tuple(range(cd + 1, ndim))), 0.5, 0.5, smooth, 0.0)
    loss = dice * along_axis(xp, w, len(shape_of(dice)), cd)
    if ignore_background and shape_of(input)[cd] > 1:
        loss = loss[1:] if cd == 0 else loss[:, 1:]
    if loss.dtype != input.dtype:
        loss = xp.astype(loss, input.dtype)
    return reduce(xp, loss, reduction, fn)
