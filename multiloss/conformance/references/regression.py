"""float64 references of the regression losses (``multiloss/losses/regression.py``)."""

from __future__ import annotations

import math

import numpy as np

from ..domains import C, N, _away_from, domain
from ._base import ELEM_W, RED, reduce_np, reference


def _weighted(loss, reduction, weight):
    """torch ``mse_loss``/``l1_loss(weight=)``: weighted elements, ``mean`` over sum(weight)."""
    if weight is None:
        return reduce_np(loss, reduction)
    loss = loss * weight
    if reduction == "mean":
        return np.asarray(loss.sum() / weight.sum())
    return reduce_np(loss, reduction)



@reference("mse_loss", "regression", [*RED, {"weight": ELEM_W}])
def mse(p, t, reduction="mean", weight=None):
    return _weighted((p - t) ** 2, reduction, weight)


@reference("l1_loss", "regression", [*RED, {"weight": ELEM_W}])
def l1(p, t, reduction="mean", weight=None):
    return _weighted(np.abs(p - t), reduction, weight)


@reference("smooth_l1_loss", "regression", [*RED, {"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0}])
def smooth_l1(p, t, reduction="mean", beta=1.0):
    out = np.empty_like(p)
    for i, (a, b) in enumerate(zip(p.ravel(), t.ravel())):
        d = abs(a - b)
        out.ravel()[i] = d if beta == 0 else (0.5 * d * d / beta if d < beta else d - 0.5 * beta)
    return reduce_np(out, reduction)


@reference("huber_loss", "regression", [*RED, {"delta": 0.5}, {"delta": 2.0}])
def huber(p, t, reduction="mean", delta=1.0):
    out = np.empty_like(p)
    for i, (a, b) in enumerate(zip(p.ravel(), t.ravel())):
        d = abs(a - b)
        out.ravel()[i] = 0.5 * d * d if d < delta else delta * (d - 0.5 * delta)
    return reduce_np(out, reduction)


@reference("mean_absolute_percentage_error", "regression_nonzero_target", RED,
           dtypes=("float64", "float32", "float16"))
def mape(p, t, reduction="mean"):
    return reduce_np(100.0 * np.abs(t - p) / np.maximum(np.abs(t), 1e-7), reduction)


@reference("cosine_similarity", "regression", RED)
def cosine(p, t, reduction="mean"):
    rows = []
    for a, b in zip(p.reshape(-1, p.shape[-1]), t.reshape(-1, t.shape[-1])):
        na = math.sqrt(max(float(a @ a), 1e-12))
        nb = math.sqrt(max(float(b @ b), 1e-12))
        rows.append(-float(a @ b) / (na * nb))
    return reduce_np(np.array(rows).reshape(p.shape[:-1]), reduction)


@domain("regression_positive")
def _regression_positive(rng):
    """MSLE's natural inputs: predictions ``(N, C)`` in [0.05, 5] (well above the clip at 1e-7;
    none within 0.1 of 0.5, the clip of the ``epsilon=0.5`` option), non-negative targets with
    exact zeros (clipped to epsilon, no gradient needed)."""
    target = rng.uniform(0.0, 5.0, size=(N, C))
    target.reshape(-1)[::7] = 0.0
    return {"pred": _away_from(rng.uniform(0.05, 5.0, size=(N, C)), (0.5,), 0.1), "target": target}


# keras/src/losses/losses.py: both clipped below at epsilon, then log(x + 1); the "regression"
# domain (about half its predictions negative, none within 0.04 of the clip) covers the clip
@reference("mean_squared_logarithmic_error", "regression_positive", [*RED, {"epsilon": 0.5}])
@reference("mean_squared_logarithmic_error", "regression", [{}, {"reduction": "none"}])
def msle(p, t, reduction="mean", epsilon=1e-7):
    out = np.empty_like(p)
    for i, (a, b) in enumerate(zip(p.ravel(), t.ravel())):
        out.ravel()[i] = (math.log1p(max(a, epsilon)) - math.log1p(max(b, epsilon))) ** 2
    return reduce_np(out, reduction)


@reference("log_cosh", "regression", RED)
def log_cosh(p, t, reduction="mean"):
    out = np.empty_like(p)
    for i, (a, b) in enumerate(zip(p.ravel(), t.ravel())):
        out.ravel()[i] = math.log(math.cosh(a - b))
    return reduce_np(out, reduction)
