"""Shared fixtures and helpers for the unit tests (scipy's ``xp`` fixture idea: one test body
runs on every installed array namespace).

* ``xp`` fixture: parametrized over ``numpy``, ``array_api_strict``, ``torch``, ``jax`` and
  ``tensorflow``; its value is the backend *name* (a ``str``). A backend whose framework is not
  importable is skipped with a reason, never an error. Use :func:`to_xp` to build inputs.
* :func:`to_xp`, :func:`to_numpy`, :func:`xp_assert_close`, :func:`value_and_grad`,
  :func:`namespace_of`: helpers that work across namespaces.

No framework is imported when this file is imported (the numpy-only environment must work and
``import multiloss`` must stay framework-free): frameworks are imported inside the helpers.
JAX float64 is switched on through ``JAX_ENABLE_X64`` before jax can be imported, and again with
``jax.config.update`` the first time a jax array is built here.

Importing the helpers: ``from tests_conftest import to_xp, ...``. This file registers itself
under that name because pytest imports every ``conftest.py`` of the run as the module
``conftest`` (the last one loaded wins), so ``from conftest import ...`` would break as soon as
another directory of the run (e.g. ``conformance/``) has its own conftest.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from typing import Any, Callable

import numpy as np
import pytest

# jax reads this at import time: arrays created anywhere in the session may be float64
os.environ.setdefault("JAX_ENABLE_X64", "1")

sys.modules["tests_conftest"] = sys.modules[__name__]

BACKENDS = ("numpy", "array_api_strict", "torch", "jax", "tensorflow")
GRAD_BACKENDS = ("torch", "jax", "tensorflow")

_FRAMEWORK_MODULE = {
    "numpy": "numpy",
    "array_api_strict": "array_api_strict",
    "torch": "torch",
    "jax": "jax",
    "tensorflow": "tensorflow",
}

_available_cache: dict[str, str | None] = {}


def _enable_jax_x64() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)


def skip_reason(name: str) -> str | None:
    """Why backend ``name`` cannot run here (``None`` when it can). Cached."""
    if name in _available_cache:
        return _available_cache[name]
    reason = None
    if name == "tensorflow" and importlib.util.find_spec("multiloss.backends.tensorflow_namespace") is None:
        reason = "TF namespace not available"
    else:
        try:
            importlib.import_module(_FRAMEWORK_MODULE[name])
        except Exception as exc:  # ImportError, or a framework failing at import time
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            reason = f"{name} not importable ({type(exc).__name__}: {first})"
    if reason is None and name == "jax":
        _enable_jax_x64()
    _available_cache[name] = reason
    return reason


def require(name: str) -> None:
    """``pytest.skip`` unless backend ``name`` is usable."""
    reason = skip_reason(name)
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(params=BACKENDS)
def xp(request) -> str:
    """The backend name; skipped (with a reason) when its framework is not importable."""
    require(request.param)
    return request.param


@pytest.fixture(params=GRAD_BACKENDS)
def grad_backend(request) -> str:
    """A backend with autodiff (torch, jax, tensorflow), skipped when absent."""
    require(request.param)
    return request.param


def to_xp(name: str, x: Any, dtype: Any = None) -> Any:
    """``x`` (NumPy array, list or scalar) as an array of backend ``name``.

    Integer arrays become int64, bool arrays stay bool, floating arrays keep their dtype (or
    take ``dtype``, a NumPy dtype / name, when given). ``None`` passes through."""
    if x is None:
        return None
    a = np.asarray(x)
    if np.issubdtype(a.dtype, np.integer):
        a = a.astype(np.int64)
    elif np.issubdtype(a.dtype, np.floating) and dtype is not None:
        a = a.astype(dtype)
    a = np.asarray(a, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    if name == "numpy":
        return a
    if name == "array_api_strict":
        import array_api_strict as xps

        return xps.asarray(a, dtype=getattr(xps, a.dtype.name))
    if name == "torch":
        import torch

        return torch.from_numpy(a.copy())
    if name == "jax":
        _enable_jax_x64()
        import jax.numpy as jnp

        return jnp.asarray(a, dtype=a.dtype)
    if name == "tensorflow":
        import tensorflow as tf

        return tf.constant(a, dtype=a.dtype.name)
    raise ValueError(f"to_xp: unknown backend {name!r}; known: {BACKENDS}")


def to_numpy(x: Any) -> np.ndarray:
    """Any backend's array (or a Python scalar) as a NumPy array, dtype kept."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (bool, int, float, np.generic)):
        return np.asarray(x)
    mod = type(x).__module__
    if mod.startswith("torch"):
        return x.detach().cpu().numpy()
    if mod.startswith("array_api_strict"):
        return np.from_dlpack(x)
    if hasattr(x, "numpy") and not mod.startswith(("jax", "jaxlib")):  # tensorflow
        return np.asarray(x.numpy())
    return np.asarray(x)  # jax and anything with __array__


def namespace_of(name: str):
    """The Array API namespace multiloss resolves for backend ``name``'s arrays."""
    from multiloss import array_namespace

    return array_namespace(to_xp(name, np.zeros(1)))


def _default_rtol(dtype: np.dtype) -> float:
    if dtype == np.float16:
        return 2e-3
    if dtype == np.float32:
        return 2e-6
    return 1e-11


def xp_assert_close(
    actual: Any,
    desired: Any,
    rtol: float | None = None,
    atol: float = 0.0,
    *,
    xp: str | None = None,
    check_shape: bool = True,
    err_msg: str = "",
) -> None:
    """``actual`` (any backend) is close to ``desired`` (any backend or NumPy/Python numbers).

    ``rtol`` defaults by ``actual``'s dtype (float32: 2e-6, float64: 1e-11). With ``xp`` given,
    ``actual`` must also be an array of that backend (a loss must return its input's kind)."""
    if xp is not None and xp != "numpy":
        mod = type(actual).__module__
        prefix = {"array_api_strict": "array_api_strict", "torch": "torch", "jax": ("jax", "jaxlib"),
                  "tensorflow": ("tensorflow", "keras")}[xp]
        assert mod.startswith(prefix), f"expected a {xp} array, got {type(actual)}"
    a = to_numpy(actual)
    d = np.asarray(to_numpy(desired))
    if check_shape:
        assert a.shape == d.shape, f"shape mismatch: actual {a.shape}, desired {d.shape}. {err_msg}"
    if rtol is None:
        rtol = _default_rtol(a.dtype) if np.issubdtype(a.dtype, np.floating) else 0.0
    np.testing.assert_allclose(
        a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a,
        d.astype(np.float64) if np.issubdtype(d.dtype, np.floating) else d,
        rtol=rtol,
        atol=atol,
        err_msg=err_msg,
    )


def value_and_grad(name: str, f: Callable[[Any], Any], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value of ``f(X)`` and gradient of ``sum(f(X))`` w.r.t. ``X``, with ``X = to_xp(name, x)``,
    on an autodiff backend (torch, jax, tensorflow); both returned as NumPy arrays.

    torch and tensorflow run eagerly; jax runs forward and backward under ``jax.jit`` (how jax
    code runs in practice, and one compile instead of one per eager op: 2x faster here), so
    value checks that need concrete arrays are skipped inside ``f`` there."""
    if name == "torch":
        import torch

        p = to_xp(name, x).requires_grad_(True)
        out = f(p)
        (g,) = torch.autograd.grad(out.sum(), p)
        return to_numpy(out), to_numpy(g)
    if name == "jax":
        import jax
        import jax.numpy as jnp

        p = to_xp(name, x)

        def fwd_bwd(q):
            out, vjp = jax.vjp(f, q)
            return out, vjp(jnp.ones_like(out))[0]

        out, g = jax.jit(fwd_bwd)(p)
        return to_numpy(out), to_numpy(g)
    if name == "tensorflow":
        import tensorflow as tf

        p = tf.Variable(to_xp(name, x))
        with tf.GradientTape() as tape:
            out = f(tf.convert_to_tensor(p))
            s = tf.reduce_sum(out)
        g = tape.gradient(s, p)
        return to_numpy(out), to_numpy(g)
    raise ValueError(f"value_and_grad: backend {name!r} has no autodiff")


def msg(*parts: str) -> str:
    """A ``match=`` pattern: the literal parts, in order, anything in between."""
    return ".*".join(re.escape(p) for p in parts)


def reduce_ref(elements, reduction: str) -> np.ndarray:
    """torch's reduction of float64 reference elements."""
    e = np.asarray(elements, dtype=np.float64)
    return {"none": e, "sum": e.sum(), "mean": e.mean()}[reduction]


def torch_f(name: str, *arrays, **kw) -> np.ndarray:
    """``torch.nn.functional.<name>`` on torch copies of the NumPy ``arrays`` (dtypes kept;
    other arguments as given), as NumPy; skips when torch is absent."""
    require("torch")
    import torch
    import torch.nn.functional as F

    conv = lambda a: torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a  # noqa: E731
    return to_numpy(getattr(F, name)(*[conv(a) for a in arrays], **kw))
