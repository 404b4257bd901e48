"""What every reference module shares: the ``@reference`` decorator that registers a float64
reference *with its conformance options*, the option constants, and small NumPy helpers.

A reference is independent code: plain NumPy (loops where the semantics are subtle), written
from the framework documentation and the papers, never calling multiloss.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..domains import C, N
from ..spec import Case

__all__ = ["CASES", "reference", "RED", "ALL_DTYPES", "CLASS_W", "ELEM_W", "POS_W", "reduce_np", "LOG_CLAMP"]

CASES: list[Case] = []

RED: tuple[Mapping[str, Any], ...] = ({"reduction": "mean"}, {"reduction": "sum"}, {"reduction": "none"})
ALL_DTYPES = ("float64", "float32", "float16", "bfloat16")
CLASS_W = np.linspace(0.5, 2.0, C)
ELEM_W = np.linspace(0.1, 1.9, N * C).reshape(N, C)
POS_W = np.linspace(0.5, 3.0, C)


def _label(kw: Mapping[str, Any]) -> str:
    return ",".join(f"{k}" if isinstance(v, np.ndarray) else f"{k}={v}" for k, v in kw.items())


LOW_PRECISION = ("float16", "bfloat16")


def _dtypes_for(kw: Mapping[str, Any], dtypes: Iterable[str]) -> tuple[str, ...]:
    """The dtypes one option set runs in. float16/bfloat16 skip the ``sum`` and ``none``
    variants of a plain reduction (``RED``): in low precision ``mean`` alone checks the
    accumulation, and its gradient checks every element's derivative, so ``sum``/``none``
    there only repeat the float64/float32 cells' paths (and a third of a cold
    ``multiloss check``'s time went to compiling them). Every other option set, and every
    explicit ``dtypes=``, runs as declared."""
    dtypes = tuple(dtypes)
    if dtypes == ALL_DTYPES and set(kw) == {"reduction"} and kw["reduction"] != "mean":
        return tuple(d for d in dtypes if d not in LOW_PRECISION)
    return dtypes


def reference(loss: str, domain: str, options: Iterable[Mapping[str, Any]] = ({},),
              dtypes: tuple[str, ...] = ALL_DTYPES, grad: bool = True, staged: bool = False) -> Callable:
    """Register the decorated float64 reference for canonical ``multiloss.<loss>``: one
    conformance :class:`~multiloss.conformance.spec.Case` per option set, on input ``domain``
    (:mod:`multiloss.conformance.domains`). Stack the decorator for several domains.

    The reference is called as ``ref(pred, target, *extra, **options)`` on float64 NumPy arrays
    (``extra``: the domain's further positional inputs, e.g. a variance or lengths).
    ``staged=True`` evaluates the loss as one compiled program where the backend compiles
    (jax ``jit``), for losses built of loops, whose eager evaluation compiles op by op."""

    def register(fn: Callable) -> Callable:
        for kw in options:
            CASES.append(Case(loss, domain, fn, dict(kw), _label(kw), _dtypes_for(kw, dtypes), grad, staged))
        return fn

    return register


LOG_CLAMP = -100.0  # torch binary_cross_entropy clamps each log at -100


def reduce_np(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    if reduction == "mean":
        return np.asarray(loss.mean())
    raise ValueError(reduction)

