"""Array namespace resolution: array-api-compat plus our own TensorFlow namespace.

Like einops' ``_backends.py``, detection never imports a framework: a tensor of
framework X cannot exist unless X is already in ``sys.modules``, so a type is
matched only against frameworks that are already imported. Results are cached
per array *type*, so after the first call resolving a namespace is one dict
lookup per argument.

On first sight of a framework's array type, the matching ``multiloss.backends``
ops module is imported once: it registers that framework's fast primitives in
``multiloss._ops`` (fused ``log_softmax``, ``stop_gradient``, ...).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

__all__ = ["array_namespace", "backend_name", "is_array"]

# array type -> namespace module
_TYPE_CACHE: dict[type, ModuleType] = {}

# namespace.__name__ -> short backend name used by the ops registry and reports
_BACKEND_NAMES = {
    "array_api_compat.numpy": "numpy",
    "numpy": "numpy",
    "array_api_compat.torch": "torch",
    "jax.numpy": "jax",
    "multiloss.backends.tensorflow_namespace": "tensorflow",
    "array_api_strict": "array_api_strict",
    "array_api_compat.cupy": "cupy",
    "array_api_compat.dask.array": "dask",
}

# short backend name -> module that registers its fast primitives in _ops
_OPS_MODULES = {
    "torch": "multiloss.backends.torch_ops",
    "jax": "multiloss.backends.jax_ops",
    "tensorflow": "multiloss.backends.tensorflow_ops",
}
_OPS_LOADED: set[str] = set()

_SCALARS = (bool, int, float, complex)


def _is_tensorflow_type(t: type) -> bool:
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return False
    try:
        return issubclass(t, (tf.Tensor, tf.Variable))
    except TypeError:  # pragma: no cover - exotic metaclasses
        return False


def _resolve_type(x: Any) -> ModuleType:
    t = type(x)
    if _is_tensorflow_type(t):
        from .backends import tensorflow_namespace as ns
    else:
        import array_api_compat

        try:
            ns = array_api_compat.array_namespace(x)
        except TypeError as exc:
            raise TypeError(
                f"multiloss: expected an array (numpy, torch, jax, tensorflow or any Array API "
                f"array), got {t.__module__}.{t.__qualname__}: {exc}"
            ) from None
    name = backend_name(ns)
    if name in _OPS_MODULES and name not in _OPS_LOADED:
        _OPS_LOADED.add(name)
        importlib.import_module(_OPS_MODULES[name])
    _TYPE_CACHE[t] = ns
    return ns


def backend_name(xp: ModuleType) -> str:
    """Short name of a namespace: 'numpy', 'torch', 'jax', 'tensorflow', 'array_api_strict', ..."""
    return _BACKEND_NAMES.get(xp.__name__, xp.__name__)


def is_array(x: Any) -> bool:
    return x is not None and not isinstance(x, _SCALARS)


def array_namespace(*arrays: Any, fn: str = "multiloss") -> ModuleType:
    """The Array API namespace of ``arrays`` (``None`` and Python scalars are ignored).

    Raises ``TypeError`` naming ``fn`` and the argument (docs/input-policy.md) when an argument
    is not an array, when a *required* leading argument (the first two, the prediction and the
    target in every loss) is ``None`` or a Python scalar, and when the arrays come from two
    different libraries. The argument's name is looked up in the calling loss's frame, on the
    error path only: the happy path stays one dict lookup per argument.
    """
    found: ModuleType | None = None
    first: Any = None
    for i, x in enumerate(arrays):
        if x is None or isinstance(x, _SCALARS):
            # None where the loss requires an array, or a number as its prediction or target (a
            # later required argument may be a number: CTC's lengths); a position found to hold
            # an optional argument (weight=None ...) is remembered: one set lookup after that
            if fn != "multiloss" and (x is None or i < 2) and (fn, i) not in _OPTIONAL and not _compiling():
                _check_required(fn, i, x, sys._getframe(1))
            continue
        ns = _TYPE_CACHE.get(type(x))
        if ns is None:
            try:
                ns = _resolve_type(x)
            except TypeError as exc:
                raise _not_an_array(fn, x, sys._getframe(1), str(exc)) from None
        if found is None:
            found, first = ns, x
        elif ns is not found:
            raise _two_libraries(fn, first, found, x, ns, sys._getframe(1))
    if found is None:
        raise TypeError(f"{fn}: expected at least one array argument, got only scalars/None")
    return found


# ----------------------------------------------------------------------------- error paths only


def _type_name(x: Any) -> str:
    t = type(x)
    return f"{t.__module__}.{t.__qualname__}"


def _frames(frame: Any, fn: str, limit: int = 6) -> list:
    """Up to ``limit`` frames from ``frame`` outwards, the one of the function named ``fn``
    (the loss) first: where the argument names the user knows are."""
    out: list[Any] = []
    while frame is not None and len(out) < limit:
        out.append(frame)
        frame = frame.f_back
    return [f for f in out if f.f_code.co_name == fn] + [f for f in out if f.f_code.co_name != fn]


def _parameters(frame: Any) -> list[tuple[str, Any, bool]]:
    """``(name, value, has_default)`` of the parameters of ``frame``'s function (``has_default``
    is ``False`` where the function object cannot be found: then every parameter counts as
    required)."""
    code = frame.f_code
    n = code.co_argcount + code.co_kwonlyargcount
    names = code.co_varnames[:n]
    func: Any = frame.f_globals.get(code.co_name)
    defaults: set[str] = set()
    same_function = getattr(func, "__code__", None) is code
    if same_function:
        pos = func.__defaults__ or ()
        defaults.update(code.co_varnames[code.co_argcount - len(pos): code.co_argcount])
        defaults.update(func.__kwdefaults__ or {})
    values = frame.f_locals
    return [(name, values.get(name, _MISSING), name in defaults) for name in names]


_MISSING = object()


def argument_name(x: Any, fn: str, frame: Any) -> str | None:
    """The name of the parameter holding ``x`` (by identity) in the loss ``fn`` or a frame
    around it; ``None`` when it cannot be found."""
    for f in _frames(frame, fn):
        for name, value, _ in _parameters(f):
            if value is x and name not in ("fn", "self"):
                return name
    return None


def _compiling() -> bool:
    """Whether torch.compile is tracing (dynamo constant-folds this to True): frames cannot be
    inspected there (``sys._getframe`` is a graph break), so the required-argument check is
    left to the eager calls. Looked up in ``sys.modules``: nothing is imported."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.compiler.is_compiling()


# (fn, position) of array_namespace's arguments found to hold an optional argument
_OPTIONAL: set[tuple[str, int]] = set()


def _check_required(fn: str, i: int, x: Any, frame: Any) -> None:
    """``x`` (``None``, or a Python number in the two leading positions) at position ``i``: an
    error when a parameter holding it in the loss ``fn`` (else the calling function) has no
    default, i.e. the loss requires an array there; else the position is remembered as optional."""
    frames = [f for f in _frames(frame, fn, limit=3) if f.f_code.co_name == fn]
    if not frames:
        # the loss's own frame is not on the stack: a tracer inlined it (torch.compile's dynamo
        # runs the loss's bytecode inside its own frames) or the loss is named differently;
        # nothing to decide on, so nothing is raised or remembered
        return
    code = frames[0].f_code
    if getattr(frames[0].f_globals.get(code.co_name), "__code__", None) is not code:
        return  # its defaults cannot be read (e.g. dynamo runs a transformed copy of the code)
    for name, value, has_default in _parameters(frames[0]):
        if value is x and not has_default and name not in ("fn", "self"):
            raise TypeError(
                f"{fn}: argument '{name}' is not an array: expected an array (numpy, torch, jax, "
                f"tensorflow or any Array API array), got {'None' if x is None else f'{_type_name(x)} {x!r}'}"
            )
    _OPTIONAL.add((fn, i))


def _not_an_array(fn: str, x: Any, frame: Any, why: str) -> TypeError:
    name = argument_name(x, fn, frame) if fn != "multiloss" else None
    hint = ""
    if isinstance(x, (list, tuple)):
        hint = " (a Python sequence: convert it first, e.g. numpy.asarray(...), torch.tensor(...), jnp.asarray(...))"
    where = f"argument '{name}' is not an array: " if name else ""
    return TypeError(
        f"{fn}: {where}expected an array (numpy, torch, jax, tensorflow or any Array API array), "
        f"got {_type_name(x)}{hint}"
    )


def _two_libraries(fn: str, a: Any, ns_a: ModuleType, b: Any, ns_b: ModuleType, frame: Any) -> TypeError:
    na, nb = (argument_name(a, fn, frame), argument_name(b, fn, frame)) if fn != "multiloss" else (None, None)
    wa = f", argument '{na}'" if na else ""
    wb = f", argument '{nb}'" if nb else ""
    return TypeError(
        f"{fn}: all arrays must come from one library, got {backend_name(ns_a)} ({_type_name(a)}{wa}) "
        f"and {backend_name(ns_b)} ({_type_name(b)}{wb}); convert them to one framework first"
    )
