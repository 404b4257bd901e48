"""Independent float64 references for the canonical losses.

Written from the formulas in torch / keras / optax documentation and the papers, with
plain Python loops over samples where the semantics are subtle (class weights,
ignore_index, label smoothing), and without any multiloss code. scipy is used for
``log_softmax``/``xlogy`` where it helps readability.
"""

from __future__ import annotations

import math

import numpy as np

LOG_CLAMP = -100.0  # torch binary_cross_entropy clamps each log at -100


def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum())
    if reduction == "mean":
        return np.asarray(loss.mean())
    raise ValueError(reduction)


def _weighted(loss, reduction, weight):
    """torch ``mse_loss``/``l1_loss(weight=)``: weighted elements, ``mean`` over sum(weight)."""
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    if reduction == "mean":
        return np.asarray(loss.sum() / weight.sum())
    return _reduce(loss, reduction)


def mse(p, t, reduction="mean", weight=None):
    return _weighted((p - t) ** 2, reduction, weight)


def l1(p, t, reduction="mean", weight=None):
    return _weighted(np.abs(p - t), reduction, weight)


def smooth_l1(p, t, reduction="mean", beta=1.0):
    out = np.empty_like(p)
    for i, (a, b) in enumerate(zip(p.ravel(), t.ravel())):
        d = abs(a - b)
        out.ravel()[i] = d if beta == 0 else (0.5 * d * d / beta if d < beta else d - 0.5 * beta)
    return _reduce(out, reduction)


def huber(p, t, reduction="mean", delta=1.0):
    out = np.empty_like(p)
    for i, (a, b) in enumerate(zip(p.ravel(), t.ravel())):
        d = abs(a - b)
        out.ravel()[i] = 0.5 * d * d if d < delta else delta * (d - 0.5 * delta)
    return _reduce(out, reduction)


def mape(p, t, reduction="mean"):
    return _reduce(100.0 * np.abs(t - p) / np.maximum(np.abs(t), 1e-7), reduction)


def cosine(p, t, reduction="mean"):
    rows = []
    for a, b in zip(p.reshape(-1, p.shape[-1]), t.reshape(-1, t.shape[-1])):
        na = math.sqrt(max(float(a @ a), 1e-12))
        nb = math.sqrt(max(float(b @ b), 1e-12))
        rows.append(-float(a @ b) / (na * nb))
    return _reduce(np.array(rows).reshape(p.shape[:-1]), reduction)


def _clamped_log(x):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), LOG_CLAMP)


def bce(p, t, reduction="mean", weight=None):
    loss = -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def bce_logits(x, t, reduction="mean", weight=None, pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    # log(sigmoid(x)) and log(1 - sigmoid(x)) via logaddexp for stability
    log_sig = -np.logaddexp(0, -x)
    log_one_minus = -np.logaddexp(0, x)
    loss = -(pw * t * log_sig + (1 - t) * log_one_minus)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def hinge(p, t, reduction="mean", labels="auto"):
    if labels == "auto" and np.all((t == 0) | (t == 1)):
        t = 2 * t - 1
    return _reduce(np.maximum(1 - t * p, 0), reduction)


def log_loss(p, t, reduction="mean"):
    eps = 1e-7
    return _reduce(-t * np.log(p + eps) - (1 - t) * np.log(1 - p + eps), reduction)


def focal(p, t, reduction="mean", alpha=0.75, gamma=2.0, from_logits=False):
    out = np.empty_like(p)
    for i, (a, y) in enumerate(zip(p.ravel(), t.ravel())):
        if from_logits:
            prob = 1 / (1 + math.exp(-a))
            ce = -(y * -np.logaddexp(0, -a) + (1 - y) * -np.logaddexp(0, a))
        else:
            prob = a
            ce = -(y * max(math.log(a), LOG_CLAMP) + (1 - y) * max(math.log(1 - a), LOG_CLAMP))
        p_t = prob * y + (1 - prob) * (1 - y)
        val = ce * (1 - p_t) ** gamma
        if alpha is not None:
            val *= alpha * y + (1 - alpha) * (1 - y)
        out.ravel()[i] = val
    return _reduce(out, reduction)


def _log_softmax_rows(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _to_rows(x, axis):
    """(N, C, d...) -> rows (M, C) with the class axis last."""
    return np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])


def nll(logp, target, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    """torch NLL / CE-on-log-probs semantics, written as a loop over samples."""
    axis = 0 if logp.ndim == 1 else 1
    C = logp.shape[axis]
    w = np.ones(C) if weight is None else weight
    if np.issubdtype(target.dtype, np.floating):
        rows, trows = _to_rows(logp, axis), _to_rows(target, axis)
        losses = []
        for lp, tp in zip(rows, trows):
            tp = tp * (1 - label_smoothing) + label_smoothing / C
            losses.append(-sum(w[c] * tp[c] * lp[c] for c in range(C)))
        losses = np.array(losses)
        shape = logp.shape[:axis] + logp.shape[axis + 1 :]
        if reduction == "none":
            return losses.reshape(shape)
        return np.asarray(losses.sum() if reduction == "sum" else losses.sum() / len(losses))
    rows = _to_rows(logp, axis)
    tflat = target.reshape(-1)
    losses, denom = [], 0.0
    for lp, y in zip(rows, tflat):
        if y == ignore_index:
            losses.append(0.0)
            continue
        nll_term = -w[y] * lp[y]
        smooth = -sum(w[c] * lp[c] for c in range(C))
        losses.append((1 - label_smoothing) * nll_term + label_smoothing / C * smooth)
        denom += w[y]
    losses = np.array(losses)
    if reduction == "none":
        return losses.reshape(target.shape)
    if reduction == "sum":
        return np.asarray(losses.sum())
    return np.asarray(losses.sum() / denom)


def cross_entropy(x, target, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    axis = 0 if x.ndim == 1 else 1
    return nll(_log_softmax_rows(x, axis), target, reduction, weight, ignore_index, label_smoothing)


def sce(x, target, reduction="mean", alpha=0.1, beta=1.0):
    axis = 0 if x.ndim == 1 else 1
    C = x.shape[axis]
    lp = _log_softmax_rows(x, axis)
    rows = _to_rows(lp, axis)
    if np.issubdtype(target.dtype, np.floating):
        q = _to_rows(target, axis)
    else:
        q = np.eye(C)[target.reshape(-1)]
    out = []
    for l_row, q_row in zip(rows, q):
        ce = -float(q_row @ l_row)
        p = np.clip(np.exp(l_row), 1e-7, 1.0)
        rce = -float(p @ np.log(np.clip(q_row, 1e-4, 1.0)))
        out.append(alpha * ce + beta * rce)
    out = np.array(out).reshape(x.shape[:axis] + x.shape[axis + 1 :])
    return _reduce(out, reduction)


def kl_div(logp, target, reduction="mean", log_target=False):
    if log_target:
        loss = np.exp(target) * (target - logp)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(target > 0, target * np.log(np.where(target > 0, target, 1.0)), 0.0) - target * logp
    if reduction == "batchmean":
        return np.asarray(loss.sum() / logp.shape[0])
    return _reduce(loss, reduction)
