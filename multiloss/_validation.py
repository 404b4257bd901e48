"""Shape, dtype and value checks with messages that name the function, the argument,
what was expected and what came.

Every check raises a :mod:`multiloss.errors` class (a ``ValueError`` / ``TypeError`` with a
``kind``) that the adapters re-raise as their framework's class too (torch: RuntimeError ...).

Shape and dtype checks are static (they run at trace time under ``jax.jit`` and
``tf.function`` too). Value checks look at array contents, as the mode of
:mod:`multiloss.checks` says (docs/checks.md): by default they read host arrays (NumPy,
CPU torch, eager CPU TensorFlow, concrete CPU JAX), assert on the device where the
framework can without a synchronisation (torch ``_assert_async`` on CUDA), and are skipped
while tracing/compiling; never a host read of an accelerator array outside ``"strict"``.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable

from . import _ops
from . import checks as _checks
from .errors import DTypeError, IndexRangeError, OptionError, ShapeError

__all__ = [
    "check_reduction",
    "check_floating",
    "check_integer",
    "check_broadcastable",
    "check_same_shape",
    "check_broadcasts_to",
    "check_class_targets",
    "check_class_target_shape",
    "check_class_target_values",
    "check_index_range",
    "check_probabilities",
    "check_nonnegative",
    "check_min_max",
    "check_all",
    "concrete_min_max",
    "value_route",
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


# ---------------------------------------------------------------------------------------------
# Value checks. Each one asks value_route() how it may look at the values (multiloss.checks):
# READ them on the host (host arrays; any concrete array in "strict" mode) and raise the exact
# message with the offending value; ASSERT on the device (torch._assert_async, a checkify check,
# a tf.debugging.Assert graph op) with the same message less the value, which cannot be read;
# or SKIP (mode "off", empty arrays, accelerator arrays whose framework has no asynchronous
# assertion, traced code unless the mode is "traced"). Never a host read of an accelerator
# array unless the mode is "strict".
# ---------------------------------------------------------------------------------------------

SKIP, READ, ASSERT = 0, 1, 2


def value_route(xp, x: Any) -> int:
    """How a value check may look at ``x`` now: :data:`READ` (values readable on the host),
    :data:`ASSERT` (an assertion on the device, :func:`multiloss._ops.device_assert`) or
    :data:`SKIP`, by the mode of :func:`multiloss.checks.get_value_checks`."""
    mode = _checks.get_value_checks()
    if mode == "off" or 0 in x.shape:  # (min/max of nothing: nothing to check)
        return SKIP
    if _ops.is_concrete(xp, x):
        if mode == "strict" or _ops.is_host(xp, x):
            return READ
    elif mode != "traced":
        return SKIP
    return ASSERT if _ops.can_device_assert(xp, x) else SKIP


def _read(cast: Callable[[Any], Any], lo: Any, hi: Any) -> tuple[Any, Any] | None:
    """``(cast(lo), cast(hi))`` (Python numbers), or ``None`` when they cannot be read after all:
    ``jax.jit`` over a closed-over concrete array, whose reductions are traced (reading one
    raises jax's ``ConcretizationTypeError``, a ``TypeError``). A helper of its own: AutoGraph
    (``tf.function``) fails to convert a ``try`` whose ``else`` returns."""
    try:
        return cast(lo), cast(hi)
    except TypeError:
        return None


def _unreadable(xp, reduced: Any) -> int:
    """The route of a READ check whose reduction cannot be read after all (see :func:`_read`;
    ``is_concrete`` is true for the closed-over array, not for what is computed from it inside
    the trace): checked like traced code, asserted in ``"traced"`` mode, else skipped."""
    if _checks.get_value_checks() == "traced" and _ops.can_device_assert(xp, reduced):
        return ASSERT
    return SKIP


def check_min_max(
    xp,
    x: Any,
    ok: Callable[[Any, Any], Any],
    host_error: Callable[[Any, Any], Exception],
    device_message: str | Callable[[], str],
    *,
    of: Callable[[Any], Any] | None = None,
    cast: Callable[[Any], Any] = float,
) -> tuple[Any, Any] | None:
    """A value check on the minimum and maximum of ``of(x)`` (default ``x``), by the mode;
    returns ``(min, max)`` as read (``cast``) when the values were read on the host, else
    ``None``.

    ``ok(lo, hi)`` says whether the values pass; it is called with Python numbers (``cast`` of
    the values read on the host) or with 0-d arrays (for the device assertion), so write it
    with comparisons joined by ``&`` and ``|`` (``(lo >= 0) & (hi <= 1)``; not ``and``/``or``,
    which read an array, nor ``~``, which is -2 on Python's ``True``).
    ``host_error(lo, hi)`` builds the exception raised when a read fails; ``device_message``
    (naming the function and the argument; or a function building it, called only when an
    assertion is emitted, so the happy path formats no string) is the assertion's."""
    how = value_route(xp, x)
    if how == SKIP:
        return None
    lo, hi = _ops.min_max(xp, x, of)
    if how == READ:
        read = _read(cast, lo, hi)
        if read is None:  # traced after all
            how = _unreadable(xp, lo)
        elif not ok(*read):
            raise host_error(*read)
        else:
            return read
    if how == ASSERT:
        _ops.device_assert(xp, ok(lo, hi), device_message() if callable(device_message) else device_message)
    return None


def check_all(xp, x: Any, valid: Callable[[Any], Any], host_error: Callable[[Any, Any], Exception],
              device_message: str | Callable[[], str]) -> None:
    """A value check that every element of the boolean ``valid(x)`` is true, by the mode (for
    conditions that min/max cannot express). ``host_error(x, valid)`` builds the exception
    raised when a read finds an invalid element."""
    how = value_route(xp, x)
    if how == SKIP:
        return
    ok = xp.all(valid(x))
    if how == READ:
        read = _read(bool, ok, True)
        if read is None:  # traced after all
            how = _unreadable(xp, ok)
        elif not read[0]:
            raise host_error(x, valid(x))
        else:
            return
    if how == ASSERT:
        _ops.device_assert(xp, ok, device_message() if callable(device_message) else device_message)


def concrete_min_max(xp, x: Any) -> tuple[Any, Any] | None:
    """``(min, max)`` of ``x``'s values when a value check may read them now (a host array, or
    any concrete array in ``"strict"`` mode; see :func:`value_route`), else ``None``: empty,
    checks off, an accelerator array, or traced. Gradient-free. Prefer :func:`check_min_max`,
    which also asserts on the device where it cannot read."""
    if value_route(xp, x) != READ:
        return None
    lo, hi = _ops.min_max(xp, x)
    return (lo, hi) if _ops.is_concrete(xp, lo) else None


def check_class_target_shape(xp, fn: str, input: Any, target: Any, class_axis: int) -> None:
    """The static half of :func:`check_class_targets`: an integer ``target`` with the shape of
    ``input`` without its class axis."""
    check_integer(xp, fn, "target", target)
    in_shape = shape_of(input)
    expected = in_shape[:class_axis] + in_shape[class_axis + 1 :]
    if shape_of(target) != expected:
        raise ShapeError(
            f"{fn}: Expected target size {expected} (input {in_shape} without its class "
            f"dimension {class_axis}) for class-index targets; got {shape_of(target)}"
        )


def _class_range(fn: str, n_classes: int, ignore_index: int | None) -> str:
    return (f"{fn}: argument 'target' must hold class indices in [0, {n_classes})"
            + (f" or ignore_index={ignore_index}" if ignore_index is not None else "") + "; got a value out of range")


def check_class_target_values(
    xp, fn: str, input: Any, target: Any, class_axis: int, ignore_index: int | None = None
) -> bool:
    """The value half of :func:`check_class_targets` (shapes already checked): class indices in
    ``[0, C)`` or ``ignore_index``, by the value-check mode (read on the host, asserted on the
    device, or skipped).

    Returns whether some target may equal ``ignore_index``: read on the host when the values
    are read, else ``True`` whenever an ``ignore_index`` is given (the caller keeps the
    masking work)."""
    may_ignore = ignore_index is not None
    n_classes = input.shape[class_axis]  # (an int, or None for a dimension unknown while tracing)
    if n_classes is None:
        return may_ignore
    how = value_route(xp, target)
    if how == SKIP:
        return may_ignore
    lo = hi = None
    if how == READ:
        lo, hi = _ops.min_max(xp, target)
        read = _read(int, lo, hi)
        if read is not None:
            if read[0] >= 0 and read[1] < n_classes:
                # all valid; an ignore_index inside [0, C) may still be present
                return ignore_index is not None and 0 <= ignore_index < n_classes
            valid = (target >= 0) & (target < n_classes)
            if may_ignore:
                valid = valid | (target == ignore_index)
            if not bool(xp.all(valid)):
                raise IndexRangeError(f"{_class_range(fn, n_classes, ignore_index)} (e.g. "
                                      f"{_sample_bad(xp, target, valid)})")
            return True
        how = _unreadable(xp, lo)  # traced after all
    if how == ASSERT:
        if ignore_index is None or 0 <= ignore_index < n_classes:
            # (an ignore_index inside [0, C) is a valid class already: min/max say everything)
            if lo is None:
                lo, hi = _ops.min_max(xp, target)
            ok = (lo >= 0) & (hi < n_classes)
        else:
            ok = xp.all(((target >= 0) & (target < n_classes)) | (target == ignore_index))
        _ops.device_assert(xp, ok, _class_range(fn, n_classes, ignore_index))
    return may_ignore


def check_class_targets(
    xp, fn: str, input: Any, target: Any, class_axis: int, ignore_index: int | None = None
) -> bool:
    """Integer class-index targets: shape = input's shape without the class axis
    (:func:`check_class_target_shape`, static); values in ``[0, C)`` (or ``ignore_index``) by
    the value-check mode (:func:`check_class_target_values`).

    Returns whether some target may equal ``ignore_index`` (always ``True`` when the values
    cannot be read, e.g. under ``jit`` or on an accelerator), so callers can skip the masking
    work otherwise."""
    check_class_target_shape(xp, fn, input, target, class_axis)
    return check_class_target_values(xp, fn, input, target, class_axis, ignore_index)


def _sample_bad(xp, target, valid):
    try:
        flat_t = xp.reshape(target, (-1,))
        flat_v = xp.reshape(valid, (-1,))
        i = int(xp.argmax(xp.astype(~flat_v, xp.int32)))
        return int(flat_t[i])
    except Exception:  # pragma: no cover - namespaces without integer indexing
        return f"a value in [{int(xp.min(target))}, {int(xp.max(target))}]"


def check_nonnegative(xp, fn: str, name: str, x: Any, what: str = "a variance") -> None:
    """Values >= 0, by the value-check mode (torch raises for a negative variance,
    ``any(var < 0)``); nan passes, as in torch."""
    check_min_max(
        xp, x, lambda lo, hi: (lo >= 0) | (lo != lo),  # noqa: PLR0124 - nan passes (lo != lo); not ~(lo < 0): ~True is -2
        lambda lo, hi: OptionError(f"{fn}: argument '{name}' must be >= 0 ({what}); got a minimum of {lo:.6g}"),
        lambda: f"{fn}: argument '{name}' must be >= 0 ({what}); got a negative value",
    )


def check_index_range(xp, fn: str, name: str, x: Any, low: int, high: int | None, what: str = "class indices") -> None:
    """Integer ``x`` holds values in ``[low, high)``, by the value-check mode, e.g. the
    -1-padded class indices of ``multilabel_margin_loss`` (``low=-1``). Shapes are the
    caller's to check."""
    head = lambda: f"{fn}: argument '{name}' must hold {what} in [{low}, {high}); got a value out of range"  # noqa: E731
    if high is None:  # unknown while tracing: only the lower bound
        ok = lambda lo, hi: lo >= low  # noqa: E731
    else:
        ok = lambda lo, hi: (lo >= low) & (hi < high)  # noqa: E731
    check_min_max(xp, x, ok, lambda lo, hi: IndexRangeError(f"{head()} ({lo if lo < low else hi})"), head, cast=int)


_LOGITS_HINT = " (pass logits to the *_with_logits / from_logits variant)"


def check_probabilities(xp, fn: str, name: str, x: Any) -> None:
    """Values in [0, 1], by the value-check mode: torch's ``binary_cross_entropy`` contract
    (torch checks it in its kernel, on the device)."""
    check_min_max(
        xp, x, lambda lo, hi: (lo >= 0) & (hi <= 1),  # also false for nan
        lambda lo, hi: OptionError(f"{fn}: argument '{name}' must hold probabilities in [0, 1]; got values in "
                                   f"[{lo:.6g}, {hi:.6g}]{_LOGITS_HINT}"),
        lambda: f"{fn}: argument '{name}' must hold probabilities in [0, 1]; got a value outside [0, 1] or nan"
                f"{_LOGITS_HINT}",
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
