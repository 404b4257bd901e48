"""float64 references of the probabilistic losses (``multiloss/losses/probabilistic.py``), and
the input domains of the Poisson and Gaussian likelihoods. Written from torch's documentation
(``torch/nn/modules/loss.py``: PoissonNLLLoss, GaussianNLLLoss) with a loop over elements."""

from __future__ import annotations

import math

import numpy as np

from ..domains import C, N, domain
from ._base import RED, reduce_np, reference


@reference("kl_div", "log_probs", [*RED, {"reduction": "batchmean"}, {"log_target": True, "reduction": "batchmean"}])
def kl_div(logp, target, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(target) * (target - logp)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(target > 0, target * np.log(np.where(target > 0, target, 1.0)), 0.0) - target * logp
    if reduction == "batchmean":
        return np.asarray(loss.sum() / logp.shape[0])
    return reduce_np(loss, reduction)


# ----------------------------------------------------------------------------- Poisson NLL


def _counts(rng, shape):
    """Poisson-like counts 0..7 as float64, with 0, 1 (no Stirling term) and > 1 all present."""
    y = rng.integers(0, 8, size=shape).astype(np.float64)
    y.reshape(-1)[:3] = [0.0, 1.0, 2.0]
    return y


@domain("poisson_log_rate")
def _poisson_log_rate(rng):
    """``poisson_nll_loss(log_input=True)``: log-rates ``(N, C)`` in about [-2, 2], counts."""
    return {"pred": rng.normal(scale=0.8, size=(N, C)), "target": _counts(rng, (N, C))}


@domain("poisson_rate")
def _poisson_rate(rng):
    """``poisson_nll_loss(log_input=False)``: rates ``(N, C)`` in [0.2, 5], counts."""
    return {"pred": rng.uniform(0.2, 5.0, size=(N, C)), "target": _counts(rng, (N, C))}


@reference("poisson_nll_loss", "poisson_log_rate", [*RED, {"full": True}, {"full": True, "reduction": "none"}])
@reference("poisson_nll_loss", "poisson_rate",
           [{"log_input": False}, {"log_input": False, "full": True, "reduction": "none"},
            {"log_input": False, "eps": 0.1, "reduction": "sum"}])
def poisson_nll_loss(x, y, log_input=True, full=False, eps=1e-8, reduction="mean"):
    out = np.empty(np.broadcast_shapes(x.shape, y.shape))
    xb, yb = np.broadcast_arrays(x, y)
    for i, (rate, count) in enumerate(zip(xb.reshape(-1), yb.reshape(-1))):
        rate, count = float(rate), float(count)
        if log_input:
            val = math.exp(rate) - count * rate
        else:
            val = rate - count * math.log(rate + eps)
        if full and count > 1:  # Stirling's log(count!) ~ k log k - k + log(2 pi k) / 2
            val += count * math.log(count) - count + 0.5 * math.log(2 * math.pi * count)
        out.reshape(-1)[i] = val
    return reduce_np(out, reduction)


# ----------------------------------------------------------------------------- Gaussian NLL


def _gaussian(rng, var_shape, low=0.2):
    pred = rng.normal(size=(N, C))
    target = rng.normal(size=(N, C))
    return {"pred": pred, "target": target, "args": (rng.uniform(low, 2.0, size=var_shape),)}


@domain("gaussian_var")
def _gaussian_var(rng):
    """``gaussian_nll_loss``: means, targets and variances ``(N, C)`` (heteroscedastic)."""
    return _gaussian(rng, (N, C))


@domain("gaussian_var_per_sample")
def _gaussian_var_per_sample(rng):
    """One variance per sample, shape ``(N,)``: the input's shape without its last dimension."""
    return _gaussian(rng, (N,))


@domain("gaussian_var_column")
def _gaussian_var_column(rng):
    """One variance per sample, shape ``(N, 1)``: one broadcast dimension."""
    return _gaussian(rng, (N, 1))


@domain("gaussian_var_small")
def _gaussian_var_small(rng):
    """Variances ``(N, C)`` partly below the option ``eps=0.05`` (zeros and 0.01 included):
    the clamp; the others in [0.2, 2]. Never closer than 0.03 to 0.05 (the clamp's kink)."""
    out = _gaussian(rng, (N, C))
    flat = out["args"][0].reshape(-1)  # a view: the array is contiguous
    flat[::3] = np.linspace(0.0, 0.02, flat[::3].size)
    return out


@reference("gaussian_nll_loss", "gaussian_var", [*RED, {"full": True}, {"full": True, "reduction": "none"}])
@reference("gaussian_nll_loss", "gaussian_var_per_sample", [{}, {"reduction": "none"}])
@reference("gaussian_nll_loss", "gaussian_var_column", [{"full": True}, {"reduction": "none"}])
@reference("gaussian_nll_loss", "gaussian_var_small",
           [{"eps": 0.05}, {"eps": 0.05, "full": True, "reduction": "none"}])
def gaussian_nll_loss(mu, y, var, full=False, eps=1e-6, reduction="mean"):
    if var.shape != mu.shape and var.shape == mu.shape[:-1]:
        var = var[..., None]
    shape = np.broadcast_shapes(mu.shape, y.shape, var.shape)
    mb, yb, vb = np.broadcast_arrays(mu, y, var)
    out = np.empty(shape)
    for i, (m, t, v) in enumerate(zip(mb.reshape(-1), yb.reshape(-1), vb.reshape(-1))):
        v = max(float(v), eps)  # torch clamps the variance at eps
        val = 0.5 * (math.log(v) + (float(m) - float(t)) ** 2 / v)
        if full:
            val += 0.5 * math.log(2 * math.pi)
        out.reshape(-1)[i] = val
    return reduce_np(out, reduction)


# ----------------------------------------------------------------------------- generalized KL


@domain("log_measures")
def _log_measures(rng):
    """``generalized_kl_divergence``: log-values ``(N, C)`` of an unnormalized measure in about
    [-2, 2], non-negative targets in [0.1, 3] with exact zeros (``0 log 0 = 0``)."""
    target = rng.uniform(0.1, 3.0, size=(N, C))
    target.reshape(-1)[::6] = 0.0
    return {"pred": rng.normal(scale=0.8, size=(N, C)), "target": target}


# optax/losses/_classification.py generalized_kl_divergence: kl_divergence + sum(exp(x) - y)
# per element the divergence is a small difference of terms up to ~5 (y log y, y x, e^x, y):
# its float16/bfloat16 elements lose ~3e-3 absolutely (optax's too), so 'none' is held in
# float64/float32; the sums keep every dtype
@reference("generalized_kl_divergence", "log_measures", [{}, {"reduction": "sum"}, {"reduction": "batchmean"}])
@reference("generalized_kl_divergence", "log_measures", [{"reduction": "none"}], dtypes=("float64", "float32"))
@reference("generalized_kl_divergence", "log_probs", [{"reduction": "batchmean"}])
def generalized_kl_divergence(x, y, reduction="mean"):
    out = np.empty(np.broadcast_shapes(x.shape, y.shape))
    xb, yb = np.broadcast_arrays(x, y)
    for i, (lp, t) in enumerate(zip(xb.reshape(-1), yb.reshape(-1))):
        lp, t = float(lp), float(t)
        out.reshape(-1)[i] = (t * math.log(t) if t > 0 else 0.0) - t * lp + math.exp(lp) - t
    if reduction == "batchmean":
        return np.asarray(out.sum() / x.shape[0])
    return reduce_np(out, reduction)
