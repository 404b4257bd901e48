"""float64 references of the overlap losses (``multiloss/losses/segmentation.py``), and their
input domains. Written from the papers and the natives' documented formulas: Tversky
(Salehi et al. 2017) with its false positives and false negatives summed directly,
:math:`\\sum x(1 - y)` and :math:`\\sum (1 - x)y` (the canonical function rewrites them), and
the generalized Dice loss as ``optax/losses/_segmentation.py`` documents it, one sample and
one class at a time.

Domains: masks of a few pixels, batch 4. The overlap losses have no kinks, so any value is
fine for finite differences; probabilities stay in [0.05, 0.95] and every mask has a positive
pixel, so no denominator is near 0 in float16.
"""

from __future__ import annotations

import numpy as np

from ..domains import domain
from ._base import RED, reduce_np, reference

_B, _K, _H, _W = 4, 3, 2, 3  # batch, classes, a 2x3 image


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _one_hot(labels: np.ndarray, k: int, axis: int) -> np.ndarray:
    return np.moveaxis(np.eye(k)[labels], -1, axis)


def _labels(rng) -> np.ndarray:
    """``(B, H, W)`` class labels where every class occurs (no zero class frequency)."""
    labels = rng.integers(0, _K, size=(_B, _H, _W))
    labels.reshape(-1)[: _K] = np.arange(_K)
    return labels


# ----------------------------------------------------------------------------- domains


@domain("seg_binary")
def _seg_binary(rng):
    """Binary masks ``(4, 6)``: probabilities and {0, 1} targets, each row with a positive."""
    target = rng.integers(0, 2, size=(_B, 6)).astype(np.float64)
    target[:, 0] = 1.0
    return {"pred": rng.uniform(0.05, 0.95, size=(_B, 6)), "target": target}


@domain("seg_binary_logits")
def _seg_binary_logits(rng):
    """Binary masks ``(4, 6)`` as logits (optax's ``binary_dice_loss`` applies the sigmoid)."""
    out = _seg_binary(rng)
    out["pred"] = rng.normal(scale=2.0, size=out["pred"].shape)
    return out


@domain("seg_probs")
def _seg_probs(rng):
    """``(4, 3, 2, 3)`` class probabilities along axis 1 (torch's class axis), one-hot targets."""
    return {"pred": _softmax(rng.normal(size=(_B, _K, _H, _W)), axis=1), "target": _one_hot(_labels(rng), _K, 1)}


@domain("seg_probs_last")
def _seg_probs_last(rng):
    """``(4, 2, 3, 3)`` class probabilities along the last axis (keras, optax), one-hot targets."""
    return {"pred": _softmax(rng.normal(size=(_B, _H, _W, _K)), axis=-1), "target": _one_hot(_labels(rng), _K, -1)}


@domain("seg_logits_last")
def _seg_logits_last(rng):
    """``(4, 2, 3, 3)`` class logits along the last axis (optax's default softmax), one-hot targets."""
    return {"pred": rng.normal(scale=2.0, size=(_B, _H, _W, _K)), "target": _one_hot(_labels(rng), _K, -1)}


# ----------------------------------------------------------------------------- references


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


@reference("tversky", "seg_binary", [
    {}, {"axis": (1,), "reduction": "none"}, {"axis": -1, "reduction": "sum"},
    {"alpha": 0.3, "beta": 0.7, "axis": (1,), "reduction": "none"},
    {"alpha": 0.7, "beta": 0.1, "smooth": 1.0, "epsilon": 0.0, "axis": 1}, {"axis": (), "reduction": "none"},
])
@reference("tversky", "seg_probs", [
    {"axis": (2, 3), "reduction": "none"}, {"axis": (0, 2, 3), "reduction": "none"},
    {"alpha": 0.2, "beta": 0.8, "smooth": 1.0, "axis": (2, 3)},
])
def tversky(x, y, alpha=0.5, beta=0.5, axis=None, smooth=0.0, epsilon=1e-7, reduction="mean"):
    axes = _axes(axis, x.ndim)
    keep = [i for i in range(x.ndim) if i not in axes]
    # each kept index: the overlap of the sub-array over `axes`
    xs = np.moveaxis(x, keep, list(range(len(keep)))).reshape(*[x.shape[i] for i in keep], -1)
    ys = np.moveaxis(y, keep, list(range(len(keep)))).reshape(xs.shape)
    out = np.empty(xs.shape[:-1])
    for idx in np.ndindex(*out.shape):
        p, t = xs[idx], ys[idx]
        tp = float(np.sum(p * t))
        fp = float(np.sum(p * (1 - t)))
        fn = float(np.sum((1 - p) * t))
        out[idx] = 1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth + epsilon)
    return reduce_np(out, reduction)


@reference("multiclass_generalized_dice_loss", "seg_probs", [
    *RED, {"smooth": 0.0, "reduction": "none"}, {"ignore_background": True, "reduction": "none"},
])
@reference("multiclass_generalized_dice_loss", "probs_onehot", [{"reduction": "none"}])
def multiclass_generalized_dice_loss(x, y, smooth=1.0, ignore_background=False, reduction="mean"):
    cd = 0 if x.ndim == 1 else 1
    xs = np.moveaxis(x, cd, 0)  # (C, N, spatial...) or (C,)
    ys = np.moveaxis(y, cd, 0)
    k = xs.shape[0]
    freq = np.array([ys[c].sum() for c in range(k)])
    w = 1.0 / (freq**2 + 1e-7)
    w = w / w.sum() * k
    n = 1 if x.ndim == 1 else x.shape[0]
    out = np.empty((n, k))
    for c in range(k):
        for i in range(n):
            p = xs[c] if x.ndim == 1 else xs[c][i]
            t = ys[c] if x.ndim == 1 else ys[c][i]
            inter = float(np.sum(p * t))
            # optax: (I + s) / (I + 0.5 (P - I) + 0.5 (T - I) + s)
            dice = 1 - (inter + smooth) / (inter + 0.5 * (np.sum(p) - inter) + 0.5 * (np.sum(t) - inter) + smooth)
            out[i, c] = w[c] * dice
    if ignore_background and k > 1:
        out = out[:, 1:]
    if x.ndim == 1:
        out = out[0]
    return reduce_np(out, reduction)
