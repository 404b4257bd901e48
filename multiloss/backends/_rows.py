"""What the adapter tables share, importable without any framework: :class:`Check` (one native
conformance grid of a row) and :func:`lazy_module` (a framework module imported on first use,
so the tables -- and the catalogue derived from them -- load without the framework).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Mapping

__all__ = ["Check", "HandWritten", "lazy_module", "load"]


@dataclass(frozen=True)
class Check:
    """One native conformance grid of an adapter row: the row's loss built with each option
    set of ``options`` (native argument names) is held against its native twin built with
    the same options, on inputs of ``domain`` (:mod:`multiloss.conformance.domains`; a
    ``"+sw"`` domain also passes ``sample_weight``), value and gradient per dtype.

    ``grad=False`` compares values only and needs a ``reason``; ``tolerance`` overrides the
    dtype's (rtol, atol) and needs one too. ``dtypes``: ``None`` means the adapter's default
    (torch: float64, float32, float16, bfloat16 -- torch's CPU kernels take all four; keras
    and jax: float64, float32); name fewer where the native lacks a dtype."""

    domain: str
    options: tuple[Mapping[str, Any], ...] = ({},)
    grad: bool = True
    reason: str = ""
    dtypes: tuple[str, ...] | None = None
    tolerance: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    staged: bool = False  # both sides as one compiled program where the backend compiles (jax jit)

    def __post_init__(self) -> None:
        if (not self.grad or self.tolerance) and not self.reason:
            raise ValueError(f"Check({self.domain!r}): grad=False or a tolerance override needs a reason")
        object.__setattr__(self, "options", tuple(dict(o) for o in self.options))


@dataclass(frozen=True)
class HandWritten:
    """A public form an adapter serves by hand instead of through its factory: a loss that owns
    parameters (a keras layer, a jax ``init`` + pure function over a params pytree) or returns
    several arrays. ``where``: ``"package.module:attribute"``; ``canonical``: the canonical loss
    it computes (``""`` for its helpers: ``init``, ``log_prob`` ...); ``native``: the framework
    has that loss under this name. The adapter exports it and the catalogue lists it."""

    name: str
    where: str
    canonical: str = ""
    native: bool = False


def load(where: str) -> Any:
    """The object ``"package.module:attribute"`` names (imports the module)."""
    module, _, attr = where.partition(":")
    return getattr(importlib.import_module(module), attr)


class _LazyModule:
    """Stands in for a module until an attribute is first read; then imports it and rebinds
    the owner's global to the real module (later reads cost nothing extra)."""

    def __init__(self, name: str, namespace: dict, key: str) -> None:
        self._name, self._namespace, self._key = name, namespace, key

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self._name)
        self._namespace[self._key] = module
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str, namespace: dict, key: str) -> Any:
    """``jnp = lazy_module("jax.numpy", globals(), "jnp")``: ``jnp`` imports jax.numpy the first
    time one of its attributes is read."""
    return _LazyModule(name, namespace, key)
