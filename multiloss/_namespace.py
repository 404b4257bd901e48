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

    Raises ``TypeError`` naming ``fn`` when the arrays come from two different libraries.
    """
    found: ModuleType | None = None
    first_type: type = type(None)
    for x in arrays:
        if x is None or isinstance(x, _SCALARS):
            continue
        ns = _TYPE_CACHE.get(type(x))
        if ns is None:
            ns = _resolve_type(x)
        if found is None:
            found, first_type = ns, type(x)
        elif ns is not found:
            raise TypeError(
                f"{fn}: all arrays must come from one library, got {backend_name(found)} "
                f"({first_type.__module__}.{first_type.__qualname__}) and {backend_name(ns)} "
                f"({type(x).__module__}.{type(x).__qualname__}); convert them to one framework first"
            )
    if found is None:
        raise TypeError(f"{fn}: expected at least one array argument, got only scalars/None")
    return found
