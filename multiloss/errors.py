"""multiloss's exceptions: clear messages, and drop-in classes for every adapter.

The canonical losses (and :mod:`multiloss._validation`) raise a :class:`MultilossError`
subclass that says what *kind* of bad input it is:

===================  =============  ===================================================
class                ``kind``       e.g.
===================  =============  ===================================================
:class:`ShapeError`  ``"shape"``    shapes that do not match / broadcast, a wrong rank
:class:`DTypeError`  ``"dtype"``    integer predictions, float class indices, a weight
                                    of another dtype
:class:`IndexRangeError` ``"index"``  a class index outside ``[0, C)``
:class:`OptionError` ``"value"``    an option or a value out of its range (``delta <= 0``,
                                    ``label_smoothing`` outside ``[0, 1]``, probabilities
                                    outside ``[0, 1]``, an unknown ``reduction``)
===================  =============  ===================================================

Each is also a ``ValueError`` (``DTypeError``: a ``TypeError``), so ``except ValueError``
catches them whatever the array type. A plain ``ValueError`` / ``TypeError`` raised by a
loss counts as kind ``"value"`` / ``"type"`` (:func:`kind_of`).

**Drop-in classes.** The native frameworks raise other classes for the same cases: torch a
``RuntimeError`` (``huber_loss(delta=0)``, a weight of the wrong size), an ``IndexError``
(``cross_entropy`` with a target out of range) or a ``NotImplementedError`` (integer input);
TensorFlow an ``InvalidArgumentError``; jax and optax a ``TypeError`` for shapes that do not
broadcast. Each adapter re-raises a loss's error through :func:`native_error` with its
framework's table (:data:`TORCH`, :data:`JAX`; TensorFlow's is built by the keras adapter):
the new exception's class derives from *both* the multiloss class and the native class(es)
for its kind, and keeps the message. So ``multiloss.torch.functional.huber_loss(x, y,
delta=0)`` raises an exception that ``except RuntimeError``, ``except ValueError`` and
``except multiloss.errors.OptionError`` all catch, with multiloss's message naming the
function and the argument.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NoReturn

__all__ = [
    "MultilossError",
    "ShapeError",
    "DTypeError",
    "IndexRangeError",
    "OptionError",
    "kind_of",
    "native_error",
    "native_class",
    "reraise",
    "TORCH",
    "JAX",
]


class MultilossError(Exception):
    """Base of multiloss's input errors; ``kind`` says which check failed."""

    kind: str = "value"


class ShapeError(MultilossError, ValueError):
    """Shapes that do not match, broadcast or have the expected rank."""

    kind = "shape"


class DTypeError(MultilossError, TypeError):
    """An array of the wrong dtype (integer predictions, float class indices, ...)."""

    kind = "dtype"


class IndexRangeError(MultilossError, ValueError):
    """Class indices outside ``[0, C)`` (and not ``ignore_index``)."""

    kind = "index"


class OptionError(MultilossError, ValueError):
    """An option or array value outside its documented range."""

    kind = "value"


def kind_of(exc: BaseException) -> str | None:
    """The kind of ``exc``: a :class:`MultilossError`'s own, ``"value"`` / ``"type"`` for any
    other ``ValueError`` / ``TypeError`` (the losses' plain raises), else ``None``."""
    if isinstance(exc, MultilossError):
        return exc.kind
    if isinstance(exc, ValueError):
        return "value"
    if isinstance(exc, TypeError):
        return "type"
    return None


# kind -> the native classes an error of that kind must also be (torch: ATen's TORCH_CHECK is a
# RuntimeError; nll_loss's "Target 7 is out of bounds." an IndexError, multi_margin_loss's
# "target out of range" a RuntimeError; "mse_cpu" not implemented for 'Long' a
# NotImplementedError, itself a RuntimeError, as are "expected scalar type Long" errors)
TORCH: Mapping[str, tuple[type[BaseException], ...]] = {
    "shape": (RuntimeError,),
    "value": (RuntimeError,),
    "type": (RuntimeError,),
    "index": (IndexError, RuntimeError),
    "dtype": (NotImplementedError,),
}
# jax / optax: shapes that do not broadcast raise TypeError ("sub got incompatible shapes for
# broadcasting", jax/_src/lax/lax.py); optax's chex checks raise ValueError (kept anyway)
JAX: Mapping[str, tuple[type[BaseException], ...]] = {"shape": (TypeError,)}

_TWINS: dict[tuple[Any, ...], type] = {}


def _rebuild(base: type, natives: tuple[type, ...], init: Callable[..., None] | None, args: tuple) -> BaseException:
    """Unpickle a twin (pickling names the base and native classes, not the generated one)."""
    return native_class(base, natives, init)(*args)


def native_class(
    base: type[BaseException], natives: tuple[type[BaseException], ...], init: Callable[..., None] | None = None
) -> type[BaseException]:
    """The class deriving from ``base`` and every class of ``natives`` (cached, picklable).

    ``init(self, *args)``: for a native class whose constructor takes other arguments than a
    message (TensorFlow's ``OpError``); by default ``BaseException.__init__`` sets ``args``."""
    natives = tuple(n for n in natives if not issubclass(base, n))
    if not natives:
        return base
    key = (base, natives, init)
    twin = _TWINS.get(key)
    if twin is None:

        def __init__(self: BaseException, *args: Any) -> None:
            if init is not None:
                init(self, *args)
            BaseException.__init__(self, *args)

        def __reduce__(self: BaseException) -> tuple:
            return _rebuild, (base, natives, init, self.args)

        def __str__(self: BaseException) -> str:
            return BaseException.__str__(self)

        twin = type(base.__name__, (base, *natives), {
            "__init__": __init__, "__reduce__": __reduce__, "__str__": __str__,
            "__module__": base.__module__, "__qualname__": base.__qualname__,
            "__doc__": f"{base.__name__}, also catchable as "
                       f"{' / '.join(n.__name__ for n in natives)} (the native framework's class).",
        })
        _TWINS[key] = twin
    return twin


def native_error(
    exc: BaseException,
    classes: Mapping[str, tuple[type[BaseException], ...]],
    init: Callable[..., None] | None = None,
) -> BaseException:
    """``exc`` re-raised for a native framework: an instance of :func:`native_class` of its
    class and ``classes[kind_of(exc)]``, with the same message and traceback. ``exc`` itself
    when its kind has no native class (or it already is one), or when it is neither a
    :class:`MultilossError` nor a plain ``ValueError`` / ``TypeError`` (a library's own subclass
    may have a constructor of its own: it is left alone)."""
    if not isinstance(exc, MultilossError) and type(exc) not in (ValueError, TypeError):
        return exc
    natives = classes.get(kind_of(exc) or "", ())
    cls = native_class(type(exc), natives, init)
    if cls is type(exc):
        return exc
    return cls(*exc.args).with_traceback(exc.__traceback__)


def reraise(
    exc: BaseException,
    classes: Mapping[str, tuple[type[BaseException], ...]],
    init: Callable[..., None] | None = None,
) -> NoReturn:
    """Raise :func:`native_error` of ``exc`` (``exc`` itself when it needs no native class),
    keeping its cause (``raise ... from``) and its traceback."""
    new = native_error(exc, classes, init)
    if new is exc:
        raise exc
    raise new from exc.__cause__
