"""float64 references of the structured losses (``multiloss/losses/structured.py``), and their
input domains. Written from Blondel, Martins and Niculae, *Learning with Fenchel-Young Losses*
(JMLR 2020) and Martins & Astudillo, *From Softmax to Sparsemax* (ICML 2016), and optax's
``optax/losses/_classification.py`` / ``_fenchel_young.py``: one score vector at a time.

The sparsemax here is *not* the sort-and-threshold algorithm of ``multiloss.ops.sparsemax``:
the threshold :math:`\\tau` with :math:`\\sum_i \\max(z_i - \\tau, 0) = 1` comes from Michelot's
active-set iteration (no sort).

Domains keep every score at least ``_GAP`` away from its vector's threshold (no class is
about to enter or leave the support, so central finite differences see one smooth piece and
float16/bfloat16 rounding cannot change the support) and binary logits ``_GAP`` away from
the sparse-plus knots at -1 and 1.
"""

from __future__ import annotations

import math

import numpy as np

from ..domains import C, N, domain
from ._base import RED, reduce_np, reference

_GAP = 0.15
_F64_F32 = ("float64", "float32")


# ----------------------------------------------------------------------------- helpers


def sparsemax_np(z: np.ndarray) -> np.ndarray:
    """The projection of one vector onto the simplex by Michelot's active-set iteration (1986):
    start from every entry, take the threshold that makes the active entries sum to one, drop
    the entries at or below it, repeat until none is dropped (at most C rounds, exact)."""
    z = np.asarray(z, dtype=np.float64)
    active = np.isfinite(z)
    while True:
        tau = (math.fsum(z[active]) - 1.0) / int(active.sum())
        keep = active & (z > tau)
        if keep.sum() == active.sum():
            return np.where(active, np.maximum(z - tau, 0.0), 0.0)
        active = keep


def _threshold_gap(z: np.ndarray) -> float:
    p = sparsemax_np(z)
    tau = float(np.max(z[p > 0]) - np.max(p))
    return float(np.min(np.abs(z - tau)))


def _off_threshold(rng, shape_rows: tuple[int, ...], scale: float = 1.0) -> np.ndarray:
    """Score vectors (last axis C), each drawn again until every score is ``_GAP`` away from
    the vector's sparsemax threshold and from the other scores."""
    out = np.empty((*shape_rows, C))
    for idx in np.ndindex(*shape_rows):
        while True:
            z = rng.normal(scale=scale, size=C)
            gaps = np.abs(z[:, None] - z[None, :])[~np.eye(C, dtype=bool)]
            if gaps.min() > 0.05 and _threshold_gap(z) > _GAP:
                out[idx] = z
                break
    return out


def _gini_max(z: np.ndarray) -> float:
    """The Gini max :math:`\\Omega^*(z) = \\langle p, z \\rangle + \\tfrac12 (1 - \\lVert p \\rVert^2)`."""
    p = sparsemax_np(z)
    return float(sum(a * b for a, b in zip(p, z)) + 0.5 * (1.0 - sum(a * a for a in p)))


# the float64 max of one vector, per max function
_ROWWISE = {
    "logsumexp": lambda z: float(np.logaddexp.reduce(z)),
    "gini": _gini_max,
    "max": lambda z: float(np.max(z)),
}


class MaxFun:
    """A max function for ``fenchel_young_loss(max_fun=...)`` that runs on every backend's
    arrays (written with ``multiloss.array_namespace`` and ``multiloss.ops``, the way a user
    writes one for their framework), class axis last; its ``repr`` is its name, so case ids
    are stable. The reference does not call it: it computes ``rowwise`` on each float64 vector."""

    def __init__(self, name: str):
        self.name = name
        self.rowwise = _ROWWISE[name]

    def __repr__(self) -> str:
        return self.name

    def __call__(self, s):
        from ... import _ops
        from ..._namespace import array_namespace

        xp = array_namespace(s)
        if self.name == "logsumexp":
            return _ops.logsumexp(xp, s, axis=-1)
        if self.name == "max":
            return xp.max(s, axis=-1)
        p = _ops.sparsemax(xp, s, axis=-1)
        return xp.sum(p * s, axis=-1) + 0.5 * (1 - xp.sum(p * p, axis=-1))


LSE, GINI, MAX = MaxFun("logsumexp"), MaxFun("gini"), MaxFun("max")


def _vectors(x: np.ndarray, axis: int) -> np.ndarray:
    """The score vectors of ``x`` along ``axis``, as rows (class axis last)."""
    return np.moveaxis(x, axis, -1)


# ----------------------------------------------------------------------------- domains


@domain("sparsemax_binary")
def _sparsemax_binary(rng):
    """``sparsemax_loss``: logits ``(N, C)`` off the knots -1 and 1 of ``sparse_plus(+-x)``,
    labels in {0, 1} (floats)."""
    x = rng.normal(scale=1.5, size=(N, C))
    for knot in (-1.0, 1.0):
        near = np.abs(x - knot) < _GAP
        x = np.where(near, knot + np.where(x >= knot, _GAP, -_GAP), x)
    return {"pred": x, "target": rng.integers(0, 2, size=(N, C)).astype(np.float64)}


@domain("sparsemax_index")
def _sparsemax_index(rng):
    """``multiclass_sparsemax_loss``: scores ``(N, C)`` off their thresholds, labels ``(N,)``."""
    return {"pred": _off_threshold(rng, (N,)), "target": rng.integers(0, C, size=(N,))}


@domain("sparsemax_index_3d")
def _sparsemax_index_3d(rng):
    """Scores ``(4, C, 3)`` (the class axis at 1, torch's) off their thresholds, labels ``(4, 3)``."""
    # C-contiguous: the runner's finite differences write through a reshape of the input's layout
    pred = np.ascontiguousarray(np.moveaxis(_off_threshold(rng, (4, 3)), -1, 1))
    return {"pred": pred, "target": rng.integers(0, C, size=(4, 3))}


@domain("sparsemax_prob")
def _sparsemax_prob(rng):
    """``fenchel_young_loss``: scores ``(N, C)`` off their thresholds, probability targets."""
    z = rng.normal(size=(N, C))
    target = np.exp(z - z.max(-1, keepdims=True))
    return {"pred": _off_threshold(rng, (N,)), "target": target / target.sum(-1, keepdims=True)}


# ----------------------------------------------------------------------------- references


def _sparse_plus(z: float) -> float:
    if z <= -1.0:
        return 0.0
    if z >= 1.0:
        return z
    return (z + 1.0) ** 2 / 4.0


@reference("sparsemax_loss", "sparsemax_binary", RED, staged=True)
def sparsemax_loss(x, y, reduction="mean"):
    """optax ``sparsemax_loss``: ``sparse_plus(-x)`` for label 1, ``sparse_plus(x)`` for 0."""
    out = np.array([_sparse_plus(-a if b == 1 else a) for a, b in zip(x.ravel(), y.ravel())])
    return reduce_np(out.reshape(x.shape), reduction)


# jax evaluates these under jit (staged): one compile per case instead of one per op (the
# sort, the running sum and the custom JVP cost a compile each eagerly); half precision on
# the main option set of each loss only (each case and dtype is one more compile)
# (decorators register bottom-up: the first case, a 2-d one, is what the torch adapter tests
# build their inputs from)
@reference("multiclass_sparsemax_loss", "sparsemax_index_3d", ({"axis": 1, "reduction": "none"},), dtypes=_F64_F32,
           staged=True)
@reference("multiclass_sparsemax_loss", "sparsemax_index", RED[1:], dtypes=_F64_F32, staged=True)
@reference("multiclass_sparsemax_loss", "sparsemax_index", RED[:1], staged=True)
def multiclass_sparsemax_loss(x, y, axis=-1, reduction="mean"):
    """Gini max minus the labelled score, :math:`\\Omega^*(z) - z_y`, per score vector."""
    rows = _vectors(x, axis)
    out = np.empty(y.shape)
    for idx in np.ndindex(*y.shape):
        z = rows[idx]
        out[idx] = _gini_max(z) - z[int(y[idx])]
    return reduce_np(out, reduction)


@reference("fenchel_young_loss", "sparsemax_index_3d", ({"max_fun": LSE, "axis": 1, "reduction": "none"},),
           dtypes=_F64_F32, staged=True)
@reference("fenchel_young_loss", "sparsemax_index", ({"max_fun": GINI},), dtypes=_F64_F32, staged=True)
@reference("fenchel_young_loss", "sparsemax_prob", ({"max_fun": GINI, "reduction": "none"},
                                                    {"max_fun": MAX, "reduction": "sum"}), dtypes=_F64_F32, staged=True)
@reference("fenchel_young_loss", "sparsemax_prob", ({}, {"max_fun": LSE, "reduction": "sum"}), staged=True)
def fenchel_young_loss(x, y, max_fun=None, axis=-1, reduction="mean"):
    """``max_fun(z) - <y, z>`` per score vector (``y`` probabilities), or ``max_fun(z) - z_y``
    (``y`` an integer class index); no ``max_fun``: the log-sum-exp."""
    max_fun = LSE if max_fun is None else max_fun
    rows = _vectors(x, axis)
    index = np.issubdtype(y.dtype, np.integer) and y.shape == rows.shape[:-1]
    ys = y if index else _vectors(y, axis)
    out = np.empty(rows.shape[:-1])
    for idx in np.ndindex(*out.shape):
        z = rows[idx]
        inner = z[int(ys[idx])] if index else math.fsum(a * b for a, b in zip(ys[idx], z))
        out[idx] = max_fun.rowwise(z) - inner
    return reduce_np(out, reduction)
