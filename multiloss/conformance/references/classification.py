"""float64 references of the classification losses (``multiloss/losses/classification.py``)."""

from __future__ import annotations

import math

import numpy as np

from ..domains import C, N, domain
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


@domain("probabilities_edges")
def _probabilities_edges(rng):
    """Probabilities exactly 0 and 1 (and within 1e-9 of them) against hard labels, beside
    ordinary ones: keras clips them inside its BCE only (binary focal crossentropy)."""
    pred = rng.uniform(0.05, 0.95, size=(N, C))
    pred[:4, 0] = [0.0, 1.0, 0.0, 1.0]
    pred[:4, 1] = [1e-9, 1 - 1e-9, 1e-9, 1 - 1e-9]
    target = rng.integers(0, 2, size=(N, C)).astype(np.float64)
    target[:4, :2] = [[0, 0], [0, 0], [1, 1], [1, 1]]
    return {"pred": pred, "target": target}


@domain("logits_binary_saturated")
def _logits_binary_saturated(rng):
    """Logits whose float32 sigmoid rounds to 0 or 1, against soft and hard labels (issue 13:
    a focal loss with gamma < 1 had nan gradients there; optax's are about 4e-33)."""
    pred = np.array([[100.0, -100.0, 75.0, -75.0, 50.0, -50.0]] * 4)
    pred[2:] *= -1
    pred[1, :] *= 0.4
    target = np.array([[0.9, 0.1, 0.8, 0.2, 1.0, 0.0]] * 4)
    target[3] = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    return {"pred": pred + rng.uniform(-0.5, 0.5, size=pred.shape), "target": target}


def _log_sigmoid(a):
    return -np.logaddexp(0, -a)


@reference("focal_loss", "probabilities",
           [{}, {"reduction": "none"}, {"gamma": 0.0, "alpha": None}, {"alpha": 0.25, "gamma": 1.5},
            {"gamma": 0.5, "reduction": "none"}])
@reference("focal_loss", "logits_binary", [{"from_logits": True}, {"from_logits": True, "reduction": "sum"},
                                           {"from_logits": True, "gamma": 0.5, "alpha": None}])
@reference("focal_loss", "logits_binary_saturated", [{"from_logits": True, "gamma": 0.5, "alpha": None,
                                                      "reduction": "none"}], dtypes=("float64", "float32"))
def focal(p, t, reduction="mean", alpha=0.75, gamma=2.0, from_logits=False):
    out = np.empty_like(p)
    for i, (a, y) in enumerate(zip(p.ravel(), t.ravel())):
        if from_logits:
            # 1 - p_t = (1 - y) sigmoid(a) + y sigmoid(-a), each sigmoid from its log (no 1 - 1)
            log_p, log_q = _log_sigmoid(a), _log_sigmoid(-a)
            ce = -(y * log_p + (1 - y) * log_q)
            one_minus_p_t = (1 - y) * math.exp(log_p) + y * math.exp(log_q)
        else:
            ce = -(y * max(math.log(a), LOG_CLAMP) + (1 - y) * max(math.log(1 - a), LOG_CLAMP))
            one_minus_p_t = 1 - (a * y + (1 - a) * (1 - y))
        val = ce * one_minus_p_t ** gamma
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


def _class_rows(x, target, axis):
    """Rows (M, C) of ``x`` and the targets as rows of probabilities / one-hot (M, C)."""
    C = x.shape[axis]
    rows = _to_rows(x, axis)
    if np.issubdtype(target.dtype, np.floating):
        return rows, _to_rows(target, axis)
    return rows, np.eye(C)[target.reshape(-1)]


def _batch_shape(x, axis):
    return x.shape[:axis] + x.shape[axis + 1:]


@reference("categorical_focal_crossentropy", "probs_index",
           [{}, {"alpha": CLASS_W, "reduction": "none"}, {"label_smoothing": 0.2, "gamma": 0.5}])
@reference("categorical_focal_crossentropy", "class_index",
           [{"from_logits": True}, {"from_logits": True, "gamma": 0.5, "alpha": CLASS_W},
            {"from_logits": True, "label_smoothing": 0.1, "reduction": "sum"}])
@reference("categorical_focal_crossentropy", "class_prob", [{"from_logits": True}, {"from_logits": True, "reduction": "none"}])
@reference("categorical_focal_crossentropy", "class_index_3d",
           [{"from_logits": True}, {"from_logits": True, "alpha": CLASS_W, "reduction": "none"}])
# (stacked decorators register bottom-up: the default, probability, domain comes first)
@reference("categorical_focal_crossentropy", "probs_onehot",
           [*RED, {"gamma": 0.5, "alpha": 1.0}, {"alpha": CLASS_W}, {"label_smoothing": 0.1},
            {"gamma": 0.0, "alpha": None}])
def categorical_focal(x, target, reduction="mean", alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    """keras categorical_focal_crossentropy's formula on probabilities as given (log clamped at
    -100) or on the softmax of logits, class axis 1; a loop over rows and classes."""
    axis = 0 if x.ndim == 1 else 1
    C = x.shape[axis]
    rows, trows = _class_rows(x, target, axis)
    a = np.ones(C) if alpha is None else np.broadcast_to(np.asarray(alpha, dtype=np.float64), (C,))
    out = []
    for xr, tr in zip(rows, trows):
        if from_logits:
            e = np.exp(xr - xr.max())
            p = e / e.sum()
        else:
            p = xr
        tr = tr * (1 - label_smoothing) + label_smoothing / C
        out.append(sum(-a[c] * (1 - p[c]) ** gamma * tr[c] * max(math.log(p[c]), LOG_CLAMP) for c in range(C)))
    return reduce_np(np.array(out).reshape(_batch_shape(x, axis)), reduction)


@reference("categorical_generalized_cross_entropy", "probs_index",
           [*RED, {"q": 0.2}, {"q": 1.0}, {"q": 0.9, "reduction": "none"}])
@reference("categorical_generalized_cross_entropy", "class_index",
           [{"from_logits": True}, {"from_logits": True, "q": 0.8, "reduction": "none"}])
@reference("categorical_generalized_cross_entropy", "class_index_3d", [{"from_logits": True, "reduction": "none"}])
@reference("categorical_generalized_cross_entropy", "class_prob", [{"from_logits": True}, {"from_logits": True, "q": 0.3,
                                                                                          "reduction": "none"}])
@reference("categorical_generalized_cross_entropy", "probs_onehot", [{}])
def generalized_ce(x, target, reduction="mean", q=0.5, from_logits=False):
    """(1 - p_y^q) / q (Zhang & Sabuncu 2018), class axis 1; soft targets: the expectation
    sum_c y_c (1 - p_c^q) / q."""
    axis = 0 if x.ndim == 1 else 1
    rows, trows = _class_rows(x, target, axis)
    out = []
    for xr, tr in zip(rows, trows):
        p = np.exp(xr - xr.max()) / np.exp(xr - xr.max()).sum() if from_logits else xr
        out.append(sum(tr[c] * (1 - p[c] ** q) / q for c in range(len(xr))))
    return reduce_np(np.array(out).reshape(_batch_shape(x, axis)), reduction)


@reference("poly_loss_cross_entropy", "class_prob", [*RED, {"epsilon": -1.0}, {"epsilon": 0.0}])
@reference("poly_loss_cross_entropy", "class_onehot", [{}, {"epsilon": 1.0, "reduction": "none"}])
@reference("poly_loss_cross_entropy", "class_index", [{}, {"epsilon": 0.5, "reduction": "none"}])
@reference("poly_loss_cross_entropy", "class_index_3d", [{}, {"reduction": "none"}])
def poly_loss(x, target, reduction="mean", epsilon=2.0):
    """PolyLoss (Leng et al. 2022): CE + epsilon * sum_c y_c (1 - p_c), class axis 1."""
    axis = 0 if x.ndim == 1 else 1
    rows, trows = _class_rows(x, target, axis)
    out = []
    for xr, tr in zip(rows, trows):
        lp = xr - xr.max() - math.log(np.exp(xr - xr.max()).sum())
        out.append(-float(tr @ lp) + epsilon * float(tr @ (1 - np.exp(lp))))
    return reduce_np(np.array(out).reshape(_batch_shape(x, axis)), reduction)


@reference("safe_softmax_cross_entropy", "class_prob", RED)
@reference("safe_softmax_cross_entropy", "class_onehot", [{}, {"reduction": "none"}])
def safe_softmax_ce(x, target, reduction="mean"):
    """-sum_c y_c log softmax(x)_c over the classes with y_c != 0, class axis 1."""
    axis = 0 if x.ndim == 1 else 1
    rows, trows = _class_rows(x, target, axis)
    out = []
    for xr, tr in zip(rows, trows):
        lp = xr - xr.max() - math.log(np.exp(xr - xr.max()).sum())
        out.append(-sum(tr[c] * lp[c] for c in range(len(xr)) if tr[c] != 0))
    return reduce_np(np.array(out).reshape(_batch_shape(x, axis)), reduction)
