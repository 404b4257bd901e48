"""Backends the conformance runner can evaluate on: convert NumPy inputs, compute a value and
its gradient w.r.t. the prediction, bring both back as float64 NumPy.

Frameworks are imported only when a backend is *used*; ``available()`` reports an import
failure as the first line of its error instead of a traceback.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import numpy as np

__all__ = ["Backend", "BACKENDS", "get_backend", "available_backends", "compile_cache_dir", "CACHE_ENV"]


CACHE_ENV = "MULTILOSS_COMPILE_CACHE"


def compile_cache_dir() -> str | None:
    """Where the conformance runner keeps jax's compiled executables between runs:
    ``$MULTILOSS_COMPILE_CACHE`` if set (``off`` disables), else
    ``$XDG_CACHE_HOME/multiloss/xla`` (``~/.cache/multiloss/xla``). jax keys every entry by
    its own version, the XLA flags and the device, so a stale entry is never used."""
    import os

    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "0", "off", "no", "false") else env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "multiloss", "xla")


class Backend:
    name = ""
    module = ""  # the framework import that makes it available
    dtypes: tuple[str, ...] = ("float64", "float32")
    has_grad = True

    def available(self) -> tuple[bool, str]:
        from .._quiet import quiet_import  # TensorFlow's C++ startup INFO lines

        try:
            with quiet_import():
                importlib.import_module(self.module)
        except Exception as exc:  # ImportError, or a framework failing at import
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return False, f"{type(exc).__name__}: {first}"
        return True, ""

    def setup(self) -> None:
        """Once per process before use (e.g. enable float64 in JAX)."""

    def asarray(self, x: np.ndarray, dtype: str) -> Any:
        raise NotImplementedError

    def to_numpy(self, x: Any) -> np.ndarray:
        raise NotImplementedError

    def value_and_grad(self, call: Callable[..., Any], pred: Any, others: list,
                       staged: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """``call(pred, *others)`` and its summed gradient w.r.t. ``pred``; ``staged``: as one
        compiled program where the backend compiles (jax)."""
        raise NotImplementedError

    def convert(self, x: Any, dtype: str) -> Any:
        """Float arrays to ``dtype``, integer arrays kept integer, other values untouched."""
        if isinstance(x, np.ndarray):
            if np.issubdtype(x.dtype, np.integer):
                return self.asarray(x, "int64")
            return self.asarray(x, dtype)
        return x


class NumpyBackend(Backend):
    name = "numpy"
    module = "numpy"
    dtypes: tuple[str, ...] = ("float64", "float32", "float16")
    has_grad = False

    def asarray(self, x, dtype):
        return np.asarray(x, dtype=dtype)

    def to_numpy(self, x):
        return np.asarray(x, dtype=np.float64)

    def value_and_grad(self, call, pred, others, staged=False):
        return self.to_numpy(call(pred, *others)), None


class ArrayApiStrictBackend(NumpyBackend):
    name = "array_api_strict"
    module = "array_api_strict"
    dtypes = ("float64", "float32")

    def asarray(self, x, dtype):
        import array_api_strict as xps

        return xps.asarray(np.asarray(x), dtype=getattr(xps, dtype))

    def to_numpy(self, x):
        return np.asarray(np.from_dlpack(x), dtype=np.float64)

    def value_and_grad(self, call, pred, others, staged=False):
        """Evaluated with boolean indexing and data-dependent shapes switched off, as under
        ``jax.jit``/``tf.function``: a loss passing here uses only what tracing allows."""
        import array_api_strict as xps

        with xps.ArrayAPIStrictFlags(boolean_indexing=False, data_dependent_shapes=False):
            return self.to_numpy(call(pred, *others)), None


class TorchBackend(Backend):
    name = "torch"
    module = "torch"
    dtypes = ("float64", "float32", "float16", "bfloat16")

    def asarray(self, x, dtype):
        import torch

        return torch.as_tensor(np.ascontiguousarray(x)).to(getattr(torch, dtype))

    def to_numpy(self, x):
        import torch

        return x.detach().to(torch.float64).cpu().numpy()

    def value_and_grad(self, call, pred, others, staged=False):
        import torch

        p = pred.detach().clone().requires_grad_(True)
        out = call(p, *others)
        (g,) = torch.autograd.grad(out.sum(), p, allow_unused=True)
        return self.to_numpy(out), None if g is None else self.to_numpy(g)


class JaxBackend(Backend):
    name = "jax"
    module = "jax"
    dtypes = ("float64", "float32", "float16", "bfloat16")

    def setup(self):
        import jax

        jax.config.update("jax_enable_x64", True)
        cache = compile_cache_dir()
        if cache is not None:
            # eager jax compiles every op once per shape and dtype (XLA on CPU: ~10-80 ms
            # each, most of a cold ``multiloss check``); keep the executables on disk so the
            # next run of this process kind loads them. Only in the conformance runner's own
            # processes: the user's jax configuration is never touched by ``import multiloss``.
            jax.config.update("jax_compilation_cache_dir", cache)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)

    def asarray(self, x, dtype):
        import jax.numpy as jnp

        return jnp.asarray(x, dtype=getattr(jnp, dtype))

    def to_numpy(self, x):
        return np.asarray(x).astype(np.float64)

    def value_and_grad(self, call, pred, others, staged=False):
        import jax
        import jax.numpy as jnp

        arrays = [i for i, o in enumerate(others) if isinstance(o, jax.Array)]

        def total(p, *arrs):
            full = list(others)
            for i, a in zip(arrays, arrs):
                full[i] = a
            out = call(p, *full)
            return jnp.sum(out), out

        f = jax.value_and_grad(total, has_aux=True)
        if staged:  # one compile per job instead of one per op, shape and dtype
            f = jax.jit(f)
        (_, out), g = f(pred, *(others[i] for i in arrays))
        return self.to_numpy(out), self.to_numpy(g)


class TensorflowBackend(Backend):
    name = "tensorflow"
    module = "tensorflow"
    dtypes = ("float64", "float32", "float16", "bfloat16")

    def asarray(self, x, dtype):
        import tensorflow as tf

        return tf.constant(np.asarray(x), dtype=getattr(tf, dtype))

    def to_numpy(self, x):
        import tensorflow as tf

        return tf.cast(x, tf.float64).numpy()

    def value_and_grad(self, call, pred, others, staged=False):
        import tensorflow as tf

        p = tf.identity(pred)
        with tf.GradientTape() as tape:
            tape.watch(p)
            out = call(p, *others)
            s = tf.reduce_sum(out)
        g = tape.gradient(s, p)
        return self.to_numpy(out), None if g is None else self.to_numpy(g)


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (NumpyBackend(), ArrayApiStrictBackend(), TorchBackend(), JaxBackend(), TensorflowBackend())
}


def get_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; available: {', '.join(BACKENDS)}")
    return BACKENDS[name]


def available_backends() -> dict[str, tuple[bool, str]]:
    return {name: b.available() for name, b in BACKENDS.items()}
