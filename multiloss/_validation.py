"""Shape, dtype and value checks with messages that name the function, the argument,
what was expected and what came.

Every check raises a :mod:`multiloss.errors` class (a ``ValueError`` / ``TypeError`` with a
``kind``) that the adapters re-raise as their framework's class too (torch: RuntimeError ...).

Shape and dtype checks are static (they run at trace time under ``jax.jit`` and
``tf.function`` too). Value checks read array contents, so they run only when the
array is concrete (:func:`multiloss._ops.is_concrete`): eagerly on NumPy, eager
torch/TF and concrete JAX arrays; skipped while tracing/compiling.
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable

from . import _ops
from .errors import DTypeError, IndexRangeError, OptionError, ShapeError

__all__ = [
    "check_reduction",
    "check_floating",
    "check_integer",
    "check_broadcastable",
    "check_same_shape",
    "check_broadcasts_to",
    "check_class_targets",
    "check_index_range",
    "check_probabilities",
    "check_weight",
    "shape_of",
    "numel",
    "dtype_name",
]


def shape_of(x: Any) -> tuple:
    """``x.shape`` as a tuple of ints (``None`` for dimensions unknown at trace time)."""
    s = x.shape
    if isinstance(s, tuple):  # numpy, jax, array_api_strict, torch.Size: already ints
        return s if type(s) is tuple else tuple(s)
    return tuple(int(d) if d is not None else None for d in s)  # tf.TensorShape


def numel(x: Any) -> int | None:
    """Number of elements (``None`` when a dimension is unknown at trace time); torch's
    ``Tensor.size`` is a method, so the Array API ``size`` attribute is not used."""
    n = 1
    for d in shape_of(x):
        if d is None:
            return None
        n *= d
    return n


def dtype_name(x: Any) -> str:
    d = getattr(x, "dtype", None)
    name = getattr(d, "name", None)
    return name if isinstance(name, str) else str(d).replace("torch.", "").replace("<dtype: '", "").rstrip("'>")


def check_reduction(fn: str, reduction: Any, allowed: Iterable[str | None]) -> None:
    allowed = tuple(allowed)
    if reduction not in allowed:
        raise OptionError(
            f"{fn}: argument 'reduction' must be one of {', '.join(repr(a) for a in allowed)}; "
            f"got {reduction!r}"
        )


def check_floating(xp, fn: str, name: str, x: Any) -> None:
    if not xp.isdtype(x.dtype, "real floating"):
        raise DTypeError(
            f"{fn}: argument '{name}' must be a real floating-point array (float16/bfloat16/"
            f"float32/float64); got dtype {dtype_name(x)} with shape {shape_of(x)}"
        )


def check_integer(xp, fn: str, name: str, x: Any, what: str = "class indices") -> None:
    if not xp.isdtype(x.dtype, "integral"):
        raise DTypeError(
            f"{fn}: argument '{name}' holds {what} and must be an integer array; got dtype "
            f"{dtype_name(x)} with shape {shape_of(x)} (for probability targets pass an array "
            f"of the input's shape)"
        )


def _broadcast_shape(a: tuple | None, b: tuple | None) -> tuple | None:
    """The broadcast of shapes ``a`` and ``b``; ``None`` when they do not broadcast (or one is
    ``None``, itself a failed broadcast)."""
    if a is None or b is None:
        return None
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == db or db == 1:
            out.append(da)
        elif da == 1:
            out.append(db)
        else:
            return None
    return tuple(reversed(out))


def check_broadcastable(fn: str, a_name: str, a: Any, b_name: str, b: Any, warn: bool = True) -> tuple:
    """Elementwise losses: the shapes must broadcast. Like torch, warn when they differ."""
    sa, sb = shape_of(a), shape_of(b)
    if sa == sb:
        return sa
    out = _broadcast_shape(sa, sb)
    if out is None:
        raise ShapeError(
            f"{fn}: argument '{b_name}' must have the shape of '{a_name}' {sa} (or broadcast "
            f"to it); got {sb}"
        )
    if warn:
        warnings.warn(
            f"{fn}: using a '{b_name}' of shape {sb} that differs from '{a_name}' {sa}; they "
            f"broadcast to {out}, which is likely not what you meant",
            UserWarning,
            stacklevel=4,
        )
    return out


def check_broadcasts_to(fn: str, name: str, x: Any, target_name: str, target: Any) -> None:
    """``x`` (e.g. a ``weight``) must broadcast to ``target``'s shape without enlarging it."""
    if x is None:
        return
    sx, st = shape_of(x), shape_of(target)
    if None in sx or None in st:  # unknown dims at trace time: only the rank can be checked
        bad = len(sx) > len(st)
    else:
        bad = len(sx) > len(st) or _broadcast_shape(st, sx) != st
    if bad:
        raise ShapeError(
            f"{fn}: argument '{name}' must broadcast to the shape of '{target_name}' {st}; "
            f"got shape {sx}"
        )


def check_same_shape(fn: str, a_name: str, a: Any, b_name: str, b: Any) -> None:
    if shape_of(a) != shape_of(b):
        raise ShapeError(
            f"{fn}: argument '{b_name}' must have the same shape as '{a_name}' {shape_of(a)}; "
            f"got {shape_of(b)}"
        )


def check_class_targets(
    xp, fn: str, input: Any, target: Any, class_axis: int, ignore_index: int | None = None
) -> bool:
    """Integer class-index targets: shape = input's shape without the class axis; values in
    ``[0, C)`` (or ``ignore_index``) when concrete.

    Returns whether some target may equal ``ignore_index`` (always ``True`` when the values
    cannot be read, e.g. under ``jit``), so callers can skip the masking work otherwise."""
    check_integer(xp, fn, "target", target)
    in_shape = shape_of(input)
    expected = in_shape[:class_axis] + in_shape[class_axis + 1 :]
    if shape_of(target) != expected:
        raise ShapeError(
            f"{fn}: Expected target size {expected} (input {in_shape} without its class "
            f"dimension {class_axis}) for class-index targets; got {shape_of(target)}"
        )
    n_classes = in_shape[class_axis]
    if n_classes is None or numel(target) == 0 or not _ops.is_concrete(xp, target):
        return ignore_index is not None
    lo, hi = _ops.min_max(xp, target)
    # under jax.jit a closed-over concrete array still yields traced reductions
    if not _ops.is_concrete(xp, lo):
        return ignore_index is not None
    lo, hi = int(lo), int(hi)
    if lo >= 0 and hi < n_classes:
        # all valid; an ignore_index inside [0, C) may still be present
        return ignore_index is not None and 0 <= ignore_index < n_classes
    valid = (target >= 0) & (target < n_classes)
    if ignore_index is not None:
        valid = valid | (target == ignore_index)
    if not bool(xp.all(valid)):
        raise IndexRangeError(
            f"{fn}: argument 'target' must hold class indices in [0, {n_classes})"
            + (f" or ignore_index={ignore_index}" if ignore_index is not None else "")
            + f"; got a value out of range (e.g. {_sample_bad(xp, target, valid)})"
        )
    return True


def _sample_bad(xp, target, valid):
    try:
        flat_t = xp.reshape(target, (-1,))
        flat_v = xp.reshape(valid, (-1,))
        i = int(xp.argmax(xp.astype(~flat_v, xp.int32)))
        return int(flat_t[i])
    except Exception:  # pragma: no cover - namespaces without integer indexing
        return f"a value in [{int(xp.min(target))}, {int(xp.max(target))}]"


def concrete_min_max(xp, x: Any) -> tuple[Any, Any] | None:
    """``(min, max)`` of ``x``'s values when they can be read now (a concrete host array), else
    ``None``: empty, or traced (under ``jax.jit`` a closed-over concrete array still yields
    traced reductions). Gradient-free: a value check records nothing for autograd."""
    if numel(x) == 0 or not _ops.is_concrete(xp, x):
        return None
    lo, hi = _ops.min_max(xp, _ops.stop_gradient(xp, x))
    if not _ops.is_concrete(xp, lo):
        return None
    return lo, hi


def check_nonnegative(xp, fn: str, name: str, x: Any, what: str = "a variance") -> None:
    """Values >= 0 (when concrete; torch raises for a negative variance, ``any(var < 0)``);
    nan passes, as in torch."""
    bounds = concrete_min_max(xp, x)
    if bounds is not None and float(bounds[0]) < 0:
        raise OptionError(f"{fn}: argument '{name}' must be >= 0 ({what}); got a minimum of {float(bounds[0]):.6g}")


def check_index_range(xp, fn: str, name: str, x: Any, low: int, high: int | None, what: str = "class indices") -> None:
    """Integer ``x`` holds values in ``[low, high)`` (when concrete), e.g. the -1-padded class
    indices of ``multilabel_margin_loss`` (``low=-1``). Shapes are the caller's to check."""
    bounds = concrete_min_max(xp, x)
    if bounds is None:
        return
    lo, hi = int(bounds[0]), int(bounds[1])
    if lo < low or (high is not None and hi >= high):  # high None: unknown while tracing
        raise IndexRangeError(
            f"{fn}: argument '{name}' must hold {what} in [{low}, {high}); got a value out of "
            f"range ({lo if lo < low else hi})"
        )


def check_probabilities(xp, fn: str, name: str, x: Any) -> None:
    """Values in [0, 1] (when concrete): torch's ``binary_cross_entropy`` contract."""
    bounds = concrete_min_max(xp, x)
    if bounds is None:
        return
    lo, hi = float(bounds[0]), float(bounds[1])
    if not (lo >= 0 and hi <= 1):  # also false for nan
        raise OptionError(
            f"{fn}: argument '{name}' must hold probabilities in [0, 1]; got values in "
            f"[{lo:.6g}, {hi:.6g}] (pass logits to the *_with_logits / from_logits variant)"
        )


def check_weight(fn: str, name: str, weight: Any, n: int | None, what: str = "class") -> None:
    if weight is None:
        return
    s = shape_of(weight)
    if len(s) != 1 or (n is not None and s[0] != n):
        raise ShapeError(
            f"{fn}: argument '{name}' must be a 1-D array with one entry per {what} "
            f"(shape ({n},)); got shape {s}"
        )
