"""JAX adapter conformance, derived from the table: every row of
:mod:`multiloss.backends.jax_table` with an ``optax`` twin is held against
``optax.losses.<optax>`` on its ``checks`` grids (optax argument names), value and gradient
w.r.t. the prediction in float32 and float64 (the runner's JaxBackend enables x64).

``where`` masks are named in the table (``"mask:elem"``) and built here by :func:`masks`:
deterministic, including rows with nothing included. Rows without a twin (the extras) are
covered by the canonical cases against float64 references.

Imports jax and optax lazily (inside :func:`native_cases`), so importing this module is free.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import domains
from .domains import C, N
from .spec import NativeCase

DEFAULT_DTYPES = ("float64", "float32")  # a Check without dtypes

__all__ = ["native_cases", "masks"]


def masks() -> dict[str, np.ndarray]:
    """The ``where`` masks the table's checks name (float 0/1 here: the runner converts arrays
    to the dtype under test; the pairing below turns them back into booleans)."""
    rng = np.random.default_rng(1)
    elem = rng.uniform(size=(N, C)) < 0.7
    elem[2] = False  # a row with nothing included: optax gives 0
    # integer labels: keep each row's label class (optax reads the raw logit of an excluded
    # label, multiloss its masked value; that corner is documented, not compared)
    labels = domains.make("class_index")["target"]
    elem_labels = elem.copy()
    elem_labels[np.arange(N), labels] = True
    elem_labels[2] = False
    # cosine: no empty row (optax's gradient there is nan; multiloss gives 0, unit-tested)
    elem_full = elem.copy()
    elem_full[2] = True
    rows = np.ones(N, dtype=bool)
    rows[[1, 6]] = False
    return {
        "elem": elem.astype(np.float64),
        "elem_labels": elem_labels.astype(np.float64),
        "elem_full": elem_full.astype(np.float64),
        "rows": rows.astype(np.float64),
    }


def _label(kw: dict) -> str:
    return ",".join(
        f"{k}:{'x'.join(map(str, v.shape))}" if isinstance(v, np.ndarray) else f"{k}={v}" for k, v in kw.items()
    )


def _resolve(kw: Mapping[str, Any], named: dict[str, np.ndarray]) -> dict:
    return {k: named[v[len("mask:"):]] if isinstance(v, str) and v.startswith("mask:") else v for k, v in kw.items()}


def native_cases() -> list[NativeCase]:
    try:
        import optax
    except ImportError:  # jax without optax (the ``jax`` extra installs both): nothing to hold against
        return []

    import multiloss.jax as mj
    from multiloss.backends.jax_table import TABLE

    def bind(f):
        def make(**kw):
            if kw.get("where") is not None:
                kw["where"] = kw["where"].astype(bool)
            return lambda *arrays: f(*arrays, **kw)

        return make

    named = masks()
    cases: list[NativeCase] = []
    for entry in TABLE:
        if not entry.optax:
            continue
        ours, native = bind(getattr(mj, entry.name)), bind(getattr(optax.losses, entry.optax))
        home = entry.checks[0].domain if entry.checks else ""
        for check in entry.checks:
            for kw in check.options:
                kw = _resolve(kw, named)
                label = _label(kw) + ("" if check.domain == home else f"@{check.domain}")
                cases.append(NativeCase("jax", entry.name, ours, native, check.domain, kw, label,
                                        dtypes=check.dtypes or DEFAULT_DTYPES, grad=check.grad,
                                        tolerance_override=check.tolerance, reason=check.reason, staged=check.staged))
    return cases
