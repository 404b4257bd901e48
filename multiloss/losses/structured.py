"""Structured-prediction losses, canonical form: sparsemax and Fenchel--Young losses.

A Fenchel--Young loss (Blondel, Martins and Niculae, *Learning with Fenchel-Young Losses*,
JMLR 2020) is built from a regularised max function :math:`\\Omega^*` (the convex conjugate of
a regulariser :math:`\\Omega` over the probability simplex):
:math:`L(\\theta; y) = \\Omega^*(\\theta) + \\Omega(y) - \\langle \\theta, y \\rangle`, whose
gradient is :math:`\\nabla\\Omega^*(\\theta) - y`. The log-sum-exp (Shannon negentropy) gives the
softmax cross-entropy; the Gini negentropy gives the sparsemax losses, whose prediction
:math:`\\nabla\\Omega^*` is :func:`multiloss.ops.sparsemax` (the projection onto the simplex):
exactly zero for classes outside the support.

* :func:`sparsemax_loss` -- binary (optax ``sparsemax_loss``);
* :func:`multiclass_sparsemax_loss` -- integer labels (optax ``multiclass_sparsemax_loss``);
* :func:`fenchel_young_loss` -- any max function (optax ``make_fenchel_young_loss``);
  :func:`make_fenchel_young_loss` builds it from the max function, as optax does (a function
  that returns a loss, not a loss itself: in :data:`HELPERS`, not in ``__all__``).

torch and keras have none of them (keras 3 has the ``ops.sparsemax`` activation only); the
adapters serve them as extras in each framework's style.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import _ops
from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS, reduce
from .._validation import (
    check_broadcasts_to,
    check_class_target_values,
    check_floating,
    check_integer,
    check_min_max,
    check_reduction,
    dtype_name,
    shape_of,
)
from ..errors import DTypeError, OptionError, ShapeError
from ._common import as_float_like

__all__ = ["sparsemax_loss", "multiclass_sparsemax_loss", "fenchel_young_loss"]

# functions that build a loss rather than compute one (no conformance case of their own: the
# loss they return is fenchel_young_loss); the adapters serve them in their style
HELPERS = ["make_fenchel_young_loss"]


def _prologue(fn: str, input: Any, target: Any, reduction: str):
    xp = array_namespace(input, target, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    return xp


def _class_axis(fn: str, input: Any, axis: Any) -> int:
    """``axis`` (an int in ``[-ndim, ndim)``) normalised to ``[0, ndim)``."""
    ndim = len(shape_of(input))
    if ndim == 0:
        raise ShapeError(f"{fn}: argument 'input' must have a class axis (at least 1-d); got a 0-d array")
    if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise OptionError(
            f"{fn}: argument 'axis' must be an int in [{-ndim}, {ndim}) for {ndim}-d 'input' of shape "
            f"{shape_of(input)}; got {axis!r}"
        )
    return axis % ndim


def _binary_defect(t):
    """``|t (t - 1)|``: 0 exactly for t in {0, 1} (module-level: a stable argument of a
    compiled value check, ``_ops.min_max``)."""
    return abs(t * (t - 1))


def sparsemax_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Binary sparsemax loss (Blondel et al. 2020, sec. 4.4): elementwise
    :math:`\ell_i = \mathrm{sparse\_plus}(-x_i)` where :math:`y_i = 1` and
    :math:`\mathrm{sparse\_plus}(x_i)` where :math:`y_i = 0`, with
    :math:`\mathrm{sparse\_plus}(z) = 0` for :math:`z \le -1`, :math:`(z + 1)^2 / 4` on
    :math:`(-1, 1)` and :math:`z` for :math:`z \ge 1`. Zero exactly when the sparse sigmoid
    :math:`\mathrm{clip}((x + 1) / 2, 0, 1)` equals the label; the gradient is
    :math:`\mathrm{sparse\_sigmoid}(x) - y`. The Fenchel--Young loss of the Gini negentropy on
    two classes.

    Shapes: ``input`` logits, any shape; ``target`` binary labels in {0, 1} (bool, integer or
    float), of the input's shape or broadcasting to it (never enlarging it: a ``(N, 1)``
    target against ``(N,)`` logits is an error, not an ``(N, N)`` loss); the loss has the
    input's shape, then ``reduction``. Labels outside {0, 1} raise ``ValueError`` on concrete
    arrays (optax reads any nonzero label as 1; not checked under ``jit``/``tf.function``).
    optax: ``sparsemax_loss(logits, labels)`` (unreduced); torch, keras: none.
    """
    fn = "sparsemax_loss"
    xp = _prologue(fn, input, target, reduction)
    check_broadcasts_to(fn, "target", target, "input", input)
    if xp.isdtype(target.dtype, "bool"):
        positive = target
    else:
        if not xp.isdtype(target.dtype, ("integral", "real floating")):
            raise DTypeError(f"{fn}: argument 'target' must hold binary labels (bool, integer or float); got dtype "
                             f"{dtype_name(target)}")
        # t (t - 1) == 0 exactly for t in {0, 1}: one reduction says it all (computed only when
        # the check runs: read on the host, asserted on the device or skipped, multiloss.checks)
        check_min_max(
            xp, target, lambda lo, hi: hi == 0,  # (false for nan too)
            lambda lo, hi: OptionError(
                f"{fn}: argument 'target' must hold binary labels in {{0, 1}}; got values in "
                f"[{float(_ops.min_max(xp, target)[0]):.6g}, {float(_ops.min_max(xp, target)[1]):.6g}] that are not "
                f"all 0 or 1"),
            lambda: f"{fn}: argument 'target' must hold binary labels in {{0, 1}}; got a value that is not 0 or 1",
            of=_binary_defect,
        )
        positive = target != 0
    loss = _ops.sparse_plus(xp, xp.where(positive, -input, input))
    return reduce(xp, loss, reduction, fn)


def multiclass_sparsemax_loss(input: Any, target: Any, axis: int = -1, reduction: str = "mean") -> Any:
    r"""Multiclass sparsemax loss (Martins & Astudillo 2016): per score vector :math:`z` (along
    ``axis``) with class :math:`y`,
    :math:`\ell = \sum_i p_i (z_i - z_y) + \tfrac12 (1 - \lVert p \rVert^2)`,
    :math:`p = \mathrm{sparsemax}(z)` (:func:`multiloss.ops.sparsemax`): the Fenchel--Young
    loss of the Gini negentropy, :math:`\Omega^*(z) - z_y`. Zero exactly when
    :math:`p` is the one-hot of :math:`y`; the gradient is :math:`p - e_y` (autodiff of the
    sparsemax, whose Jacobian is :math:`\mathrm{diag}(s) - s s^\top / |S|`). Classes outside the
    support add nothing (a ``-inf`` score is a masked class).

    Shapes: ``input`` scores ``(..., C)`` with the classes along ``axis`` (default -1, optax's;
    torch's position 1 is ``axis=1``); ``target`` integer class indices in ``[0, C)`` of the
    input's shape without ``axis`` (``(N,)`` for ``(N, C)``); the loss has that shape, then
    ``reduction``. Out-of-range labels raise ``ValueError`` on concrete arrays.
    optax: ``multiclass_sparsemax_loss(scores, labels)`` (``(N, C)`` and ``(N,)``, unreduced);
    torch, keras: none.
    """
    fn = "multiclass_sparsemax_loss"
    xp = _prologue(fn, input, target, reduction)
    ax = _class_axis(fn, input, axis)
    check_integer(xp, fn, "target", target)
    in_shape = shape_of(input)
    batch = in_shape[:ax] + in_shape[ax + 1:]
    if shape_of(target) != batch:
        # optax vmaps over the first axis and indexes each row with its label: a (N, 1) label
        # array happens to work there, a 0-d one or a 1-d score vector fails inside vmap
        raise ShapeError(
            f"{fn}: argument 'target' must hold one class index per score vector, shape {batch} (the shape "
            f"of 'input' {in_shape} without axis {axis}); got {shape_of(target)}"
        )
    check_class_target_values(xp, fn, input, target, ax)  # dtype and shape checked above
    p = _ops.sparsemax(xp, input, axis=ax)
    z_y = xp.expand_dims(_ops.pick(xp, input, target, axis=ax), axis=ax)
    # optax: where(proba, scores - scores[label], 0) -- a class outside the support (a -inf
    # score included) contributes 0, not 0 * inf
    d = xp.where(p > 0, input - z_y, 0.0)
    loss = xp.sum(p * d, axis=ax) + 0.5 * (1 - xp.sum(p * p, axis=ax))
    return reduce(xp, loss, reduction, fn)


def fenchel_young_loss(
    input: Any, target: Any, max_fun: Callable[[Any], Any] | None = None, axis: int = -1, reduction: str = "mean"
) -> Any:
    r"""Fenchel--Young loss of a max function (Blondel et al. 2020):
    :math:`\ell = \mathrm{max\_fun}(\theta) - \langle y, \theta \rangle` per score vector
    :math:`\theta` (along ``axis``). The gradient comes from the framework's autodiff of
    ``max_fun``: :math:`\nabla \mathrm{max\_fun}(\theta) - y`.

    ``max_fun(scores)`` is written for the caller's arrays and gets the scores with the class
    axis *last*, ``(..., C)``; it returns one value per score vector, ``(...)`` (checked). E.g.
    ``lambda s: torch.logsumexp(s, dim=-1)``, ``lambda s: jax.nn.logsumexp(s, axis=-1)``, or the
    Gini max :math:`\langle p, s \rangle + \tfrac12 (1 - \lVert p \rVert^2)`,
    :math:`p = \mathrm{sparsemax}(s)` (:func:`multiclass_sparsemax_loss`). ``None`` (the default)
    is the log-sum-exp (:func:`multiloss.ops.logsumexp`): the loss of the Shannon negentropy, i.e.
    the softmax cross-entropy of probability targets (:func:`cross_entropy`).
    optax's ``max_fun`` is written for one vector instead (``jax.scipy.special.logsumexp``):
    :func:`multiloss.jax.make_fenchel_young_loss` vectorises it, as optax does.

    Shapes: ``input`` scores ``(..., C)``, classes along ``axis`` (default -1; torch's position 1
    is ``axis=1``); ``target`` either probabilities (any real dtype) of the input's shape or
    broadcasting to it, or integer class indices of the input's shape without ``axis`` (then
    :math:`\langle y, \theta \rangle = \theta_y`). The loss has the input's shape without
    ``axis``, then ``reduction``. Not offset by :math:`\Omega(y)`: the value is optax's.
    optax: ``make_fenchel_young_loss(max_fun)(scores, targets)`` (unreduced); torch, keras: none.
    See :func:`make_fenchel_young_loss` for the factory form.
    """
    fn = "fenchel_young_loss"
    xp = _prologue(fn, input, target, reduction)
    if max_fun is None:
        def max_fun(s):
            return _ops.logsumexp(xp, s, axis=-1)
    elif not callable(max_fun):
        raise TypeError(
            f"{fn}: argument 'max_fun' must be a callable mapping scores (..., C) to one value per score "
            f"vector (...), or None (the log-sum-exp); got {type(max_fun).__name__} {max_fun!r}"
        )
    ax = _class_axis(fn, input, axis)
    in_shape = shape_of(input)
    batch = in_shape[:ax] + in_shape[ax + 1:]
    scores = input if ax == len(in_shape) - 1 else xp.moveaxis(input, ax, -1)
    top = max_fun(scores)
    if shape_of(top) != batch:
        raise ShapeError(
            f"{fn}: argument 'max_fun' must return one value per score vector, shape {batch} (the scores' "
            f"shape {in_shape} without axis {axis}); got shape {shape_of(top)} (a function written for one "
            f"vector, e.g. jax.scipy.special.logsumexp, needs multiloss.jax.make_fenchel_young_loss, which "
            f"vectorises it)"
        )
    if xp.isdtype(target.dtype, "integral") and shape_of(target) == batch:
        check_class_target_values(xp, fn, input, target, ax)  # dtype and shape just tested
        inner = _ops.pick(xp, input, target, axis=ax)
    else:
        if not xp.isdtype(target.dtype, ("integral", "real floating")):
            raise DTypeError(f"{fn}: argument 'target' must hold probabilities (real floats) or integer class "
                             f"indices; got dtype {dtype_name(target)}")
        check_broadcasts_to(fn, "target", target, "input", input)
        inner = xp.sum(as_float_like(xp, target, input) * input, axis=ax)
    return reduce(xp, top - inner, reduction, fn)


def make_fenchel_young_loss(max_fun: Callable[..., Any]) -> Callable[..., Any]:
    r"""The Fenchel--Young loss of ``max_fun`` as a function (optax's
    ``make_fenchel_young_loss``, canonical conventions):
    ``loss(input, target, *args, axis=-1, reduction="mean", **kwargs)`` is
    :func:`fenchel_young_loss` with ``max_fun(scores, *args, **kwargs)`` (scores ``(..., C)``,
    class axis last, one value per vector). The gradient comes from the framework's autodiff of
    ``max_fun``. optax's per-vector ``max_fun`` and unreduced values:
    :func:`multiloss.jax.make_fenchel_young_loss`; torch: ``multiloss.torch.FenchelYoungLoss``;
    keras: ``multiloss.keras.FenchelYoungLoss``.
    """
    if not callable(max_fun):
        raise TypeError(f"make_fenchel_young_loss: argument 'max_fun' must be callable; got "
                        f"{type(max_fun).__name__} {max_fun!r}")

    def loss(input: Any, target: Any, *args: Any, axis: int = -1, reduction: str = "mean", **kwargs: Any) -> Any:
        f = max_fun if not (args or kwargs) else (lambda s: max_fun(s, *args, **kwargs))
        return fenchel_young_loss(input, target, f, axis=axis, reduction=reduction)

    name = getattr(max_fun, "__name__", type(max_fun).__name__)
    loss.__name__ = loss.__qualname__ = "fenchel_young_loss"
    loss.__doc__ = f"The Fenchel--Young loss of ``{name}``; see :func:`multiloss.fenchel_young_loss`."
    return loss
