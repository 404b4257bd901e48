"""float64 references of the classification losses (``multiloss/losses/classification.py``)."""

from __future__ import annotations

import math

import numpy as np

from ._base import CLASS_W, ELEM_W, LOG_CLAMP, POS_W, RED, reduce_np, reference


def _clamped_log(x):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(x), LOG_CLAMP)


@reference("binary_cross_entropy", "probabilities", [*RED, {"weight": ELEM_W}])
@reference("binary_cross_entropy", "probabilities_soft")
def bce(p, t, reduction="mean", weight=None):
    loss = -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))
    if weight is not None:
        loss = loss * weight
    return reduce_np(loss, reduction)


@reference("binary_cross_entropy_with_logits", "logits_binary",
           [*RED, {"pos_weight": POS_W}, {"weight": ELEM_W, "pos_weight": POS_W}])
@reference("binary_cross_entropy_with_logits", "logits_binary_soft")
def bce_logits(x, t, reduction="mean", weight=None, pos_weight=None):
    pw = 1.0 if pos_weight is None else pos_weight
    # log(sigmoid(x)) and log(1 - sigmoid(x)) via logaddexp for stability
    log_sig = -np.logaddexp(0, -x)
    log_one_minus = -np.logaddexp(0, x)
    loss = -(pw * t * log_sig + (1 - t) * log_one_minus)
    if weight is not None:
        loss = loss * weight
    return reduce_np(loss, reduction)


@reference("hinge", "hinge", RED)
@reference("hinge", "hinge01", [{}, {"labels": "signed"}])
def hinge(p, t, reduction="mean", labels="auto"):
    if labels == "auto" and np.all((t == 0) | (t == 1)):
        t = 2 * t - 1
    return reduce_np(np.maximum(1 - t * p, 0), reduction)


@reference("log_loss", "probabilities", RED)
def log_loss(p, t, reduction="mean"):
    eps = 1e-7
    return reduce_np(-t * np.log(p + eps) - (1 - t) * np.log(1 - p + eps), reduction)


@reference("focal_loss", "probabilities",
           [{}, {"reduction": "none"}, {"gamma": 0.0, "alpha": None}, {"alpha": 0.25, "gamma": 1.5}])
@reference("focal_loss", "logits_binary", [{"from_logits": True}, {"from_logits": True, "reduction": "sum"}])
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
    return reduce_np(out, reduction)


def _log_softmax_rows(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _to_rows(x, axis):
    """(N, C, d...) -> rows (M, C) with the class axis last."""
    return np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])


@reference("nll_loss", "class_index", [*RED, {"weight": CLASS_W}])
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


@reference("cross_entropy", "class_index",
           [*RED, {"weight": CLASS_W}, {"label_smoothing": 0.1}, {"weight": CLASS_W, "label_smoothing": 0.2},
            {"ignore_index": 3}, {"ignore_index": 3, "weight": CLASS_W, "label_smoothing": 0.1}])
@reference("cross_entropy", "class_index_ignore", [{}, {"weight": CLASS_W, "label_smoothing": 0.1}, {"reduction": "none"}])
@reference("cross_entropy", "class_index_3d", [{}, {"reduction": "none"}])
@reference("cross_entropy", "class_prob", [*RED, {"weight": CLASS_W}, {"label_smoothing": 0.1}])
def cross_entropy(x, target, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    axis = 0 if x.ndim == 1 else 1
    return nll(_log_softmax_rows(x, axis), target, reduction, weight, ignore_index, label_smoothing)


@reference("sce_loss", "class_index", [{}, {"alpha": 1.0, "beta": 0.5}, {"reduction": "none"}])
@reference("sce_loss", "class_prob")
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
    return reduce_np(out, reduction)
