"""float64 references of the margin losses (``multiloss/losses/margin.py``), and their input
domains. Written from torch's documentation (``torch/nn/modules/loss.py``) and the loops of
its ATen CPU kernels (``LossMultiMargin.cpp``, ``LossMultiLabelMargin.cpp``): one sample at a
time, one class at a time.

Domains keep every hinge argument at least ~0.1 away from its kink, so central finite
differences are meaningful and float16/bfloat16 rounding cannot move an input across one.
The multi-class domains draw each row's scores from a grid of step 0.37 (shuffled, plus a
per-row offset): all pairwise differences are multiples of 0.37, >= 0.11 away from the
margins 0.5, 1 and 2.
"""

from __future__ import annotations

import math

import numpy as np

from ..domains import C, N, domain
from ._base import CLASS_W, RED, reduce_np, reference

_GRID = 0.37


def _off_kinks(x: np.ndarray, kinks: tuple[float, ...], gap: float = 0.1) -> np.ndarray:
    for k in kinks:
        near = np.abs(x - k) < gap
        x = np.where(near, k + np.where(x >= k, gap, -gap), x)
    return x


def _signs(rng, shape) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=shape)


@domain("ranking_pairs")
def _ranking_pairs(rng):
    """``margin_ranking_loss``: input1, input2 ``(N,)`` scores and labels y in {-1, 1} ``(N,)``;
    y (x1 - x2) is kept off the kinks of the margins 0 and 0.5 (and -0.5)."""
    x2 = rng.normal(size=(N,))
    y = _signs(rng, (N,))
    d = _off_kinks(rng.normal(scale=1.5, size=(N,)), (-0.5, 0.0, 0.5))
    return {"pred": x2 + d, "target": x2, "args": (y,)}


@domain("signed_margin")
def _signed_margin(rng):
    """``hinge_embedding_loss``/``soft_margin_loss``: scores ``(N, C)`` off 0.5, 1 and 2 (the
    hinge-embedding kinks at x = margin), labels in {-1, 1}."""
    pred = _off_kinks(rng.normal(scale=1.5, size=(N, C)), (0.0, 0.5, 1.0, 2.0))
    return {"pred": pred, "target": _signs(rng, (N, C))}


def _grid_rows(rng, n: int) -> np.ndarray:
    return np.stack([rng.permutation(C) * _GRID + rng.uniform(-1, 1) for _ in range(n)])


@domain("multi_margin_index")
def _multi_margin_index(rng):
    """``multi_margin_loss``: scores ``(N, C)`` on the 0.37 grid, class indices ``(N,)``."""
    return {"pred": _grid_rows(rng, N), "target": rng.integers(0, C, size=(N,))}


@domain("multilabel_index")
def _multilabel_index(rng):
    """``multilabel_margin_loss``: scores ``(N, C)`` on the 0.37 grid; targets ``(N, C)`` of
    class indices padded with -1: rows of 0..C distinct labels, junk (valid indices) after the
    padding, a row starting with -1, a full row (no negatives) and a row listing a class twice."""
    pred = _grid_rows(rng, N)
    target = np.empty((N, C), dtype=np.int64)
    for i in range(N):
        k = i % (C + 1)  # 0..C labels
        labels = rng.permutation(C)[:k]
        junk = rng.integers(0, C, size=C)
        row = np.concatenate([labels, [-1], junk])[:C]
        target[i] = row
    target[N - 1, :3] = [target[N - 1, 0] if target[N - 1, 0] >= 0 else 2] * 2 + [-1]  # a repeat
    return {"pred": pred, "target": target}


@reference("margin_ranking_loss", "ranking_pairs", [*RED, {"margin": 0.5}, {"margin": -0.5, "reduction": "sum"}])
def margin_ranking(x1, x2, y, margin=0.0, reduction="mean"):
    out = np.array([max(0.0, -b * (a1 - a2) + margin) for a1, a2, b in zip(x1.ravel(), x2.ravel(), y.ravel())])
    return reduce_np(out.reshape(x1.shape), reduction)


@reference("hinge_embedding_loss", "signed_margin", [*RED, {"margin": 0.5}, {"margin": 2.0, "reduction": "sum"}])
def hinge_embedding(x, y, margin=1.0, reduction="mean"):
    out = np.empty_like(x)
    for i, (a, b) in enumerate(zip(x.ravel(), y.ravel())):
        out.ravel()[i] = a if b == 1 else max(0.0, margin - a)
    return reduce_np(out, reduction)


@reference("soft_margin_loss", "signed_margin", RED)
def soft_margin(x, y, reduction="mean"):
    out = np.array([math.log1p(math.exp(-b * a)) for a, b in zip(x.ravel(), y.ravel())])
    return reduce_np(out.reshape(x.shape), reduction)


@reference("multilabel_soft_margin_loss", "logits_binary", [*RED, {"weight": CLASS_W}])
@reference("multilabel_soft_margin_loss", "logits_binary_soft", [{}, {"weight": CLASS_W, "reduction": "none"}])
def multilabel_soft_margin(x, y, reduction="mean", weight=None):
    n_cls = x.shape[-1]
    w = np.ones(n_cls) if weight is None else weight
    rows = []
    for xr, yr in zip(x.reshape(-1, n_cls), y.reshape(-1, n_cls)):
        s = 0.0
        for c in range(n_cls):
            log_p = -np.logaddexp(0.0, -xr[c])  # log sigmoid(x)
            log_q = -np.logaddexp(0.0, xr[c])  # log sigmoid(-x)
            s += -w[c] * (yr[c] * log_p + (1 - yr[c]) * log_q)
        rows.append(s / n_cls)
    return reduce_np(np.array(rows).reshape(x.shape[:-1]), reduction)


@reference("multilabel_margin_loss", "multilabel_index", RED, staged=True)
def multilabel_margin(x, y, reduction="mean"):
    """ATen multilabel_margin_loss_forward_inner_sum_cpu, transcribed."""
    n_cls = x.shape[-1] if x.ndim else 1
    rows = []
    for xr, yr in zip(x.reshape(-1, n_cls), y.reshape(-1, n_cls)):
        is_target = [False] * n_cls
        for t in yr:
            if t < 0:
                break
            is_target[t] = True
        s = 0.0
        for t in yr:
            if t < 0:
                break
            for d in range(n_cls):
                if not is_target[d]:
                    z = 1 - xr[t] + xr[d]
                    if z > 0:
                        s += z
        rows.append(s / n_cls)
    out = np.array(rows)
    return reduce_np(out if x.ndim == 2 else out.reshape(()), reduction)


@reference("multi_margin_loss", "multi_margin_index",
           [*RED, {"p": 2}, {"margin": 0.5}, {"weight": CLASS_W}, {"weight": CLASS_W, "reduction": "none"},
            {"p": 2, "margin": 2.0, "weight": CLASS_W, "reduction": "sum"}])
def multi_margin(x, y, p=1, margin=1.0, weight=None, reduction="mean"):
    """ATen multi_margin_inner_sum_cpu, transcribed."""
    n_cls = x.shape[-1] if x.ndim else 1
    rows = []
    for xr, t in zip(x.reshape(-1, n_cls), y.reshape(-1)):
        s = 0.0
        for d in range(n_cls):
            if d == t:
                continue
            z = margin - xr[t] + xr[d]
            if z > 0:
                h = z if p == 1 else z * z
                if weight is not None:
                    h *= weight[t]
                s += h
        rows.append(s / n_cls)
    return reduce_np(np.array(rows).reshape(y.shape), reduction)


# ----------------------------------------------------------------------------- keras / optax
# (keras/src/losses/losses.py squared_hinge, categorical_hinge; optax/losses/_classification.py
# multiclass_hinge_loss, perceptron_loss, multiclass_perceptron_loss)


def _categorical_hinge_rows(rng, n: int, soft: bool) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows of scores ``(n, C)`` and targets (one-hot, or soft probabilities) whose
    categorical hinge is >= 0.1 away from its kink, whose ``(1 - y) x`` has a maximum >= 0.1
    above the runner-up (no tie, so no split gradient) and, one-hot, whose largest non-target
    score is >= 0.1 away from 0 (the target slot's own 0 in keras's maximum)."""
    xs: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    while len(xs) < n:
        x = rng.normal(scale=1.5, size=C)
        if soft:
            e = np.exp(rng.normal(size=C))
            t = e / e.sum()
        else:
            t = np.eye(C)[rng.integers(0, C)]
        masked = np.sort((1 - t) * x)
        z = masked[-1] - (t * x).sum() + 1
        others = x[t == 0] if not soft else x
        if abs(z) < 0.1 or masked[-1] - masked[-2] < 0.1 or (not soft and abs(others.max()) < 0.1):
            continue
        xs.append(x)
        ts.append(t)
    return np.stack(xs), np.stack(ts)


@domain("categorical_hinge")
def _categorical_hinge(rng):
    """keras ``CategoricalHinge``: scores ``(N, C)`` and one-hot targets, off the kinks; rows
    with the loss at 0 and rows where every non-target score is negative included."""
    pred, target = _categorical_hinge_rows(rng, N, soft=False)
    pred[0] = np.abs(pred[0]) * -1 - 0.2  # every non-target score negative: keras's max is the 0 slot
    pred[0, np.argmax(target[0])] = 0.5
    y1 = np.argmax(target[1])  # a row at loss 0: the target score 1.5 above the others and 0
    pred[1, y1] = max(np.delete(pred[1], y1).max(), 0.0) + 1.5
    return {"pred": pred, "target": target}


@domain("categorical_hinge_soft")
def _categorical_hinge_soft(rng):
    """``categorical_hinge`` with soft targets (probabilities), off the kinks."""
    pred, target = _categorical_hinge_rows(rng, N, soft=True)
    return {"pred": pred, "target": target}


@domain("categorical_hinge_3d")
def _categorical_hinge_3d(rng):
    """``categorical_hinge`` on ``(4, C, 3)`` scores (torch's class axis 1) and one-hot targets."""
    pred, target = _categorical_hinge_rows(rng, 12, soft=False)
    # C-contiguous: the runner's finite differences write through reshape(-1) views
    to3d = lambda a: np.ascontiguousarray(a.reshape(4, 3, C).transpose(0, 2, 1))  # noqa: E731
    return {"pred": to3d(pred), "target": to3d(target)}


@domain("multi_margin_index_3d")
def _multi_margin_index_3d(rng):
    """Class-index losses on ``(4, C, 3)`` scores (torch's class axis 1; each ``(C,)`` slice on
    the 0.37 grid) and class indices ``(4, 3)``."""
    rows = _grid_rows(rng, 12)
    pred = np.ascontiguousarray(rows.reshape(4, 3, C).transpose(0, 2, 1))  # C order (see above)
    return {"pred": pred, "target": rng.integers(0, C, size=(4, 3))}


def _class_rows(x, y):
    """Scores with the class axis 1 (or 0 unbatched) as rows ``(M, C)``, labels ``(M, ...)``."""
    if x.ndim == 1:
        return x[None], y[None] if y.shape == x.shape else np.reshape(y, (1,))
    rows = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    lab = np.moveaxis(y, 1, -1).reshape(-1, x.shape[1]) if y.shape == x.shape else y.reshape(-1)
    return rows, lab


def _out_shape(x):
    return () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]


@reference("squared_hinge", "hinge", RED)
@reference("squared_hinge", "hinge01", [{}, {"labels": "signed"}, {"reduction": "none"}])
def squared_hinge(x, y, reduction="mean", labels="auto"):
    if labels == "auto" and np.all((y == 0) | (y == 1)):
        y = 2 * y - 1
    out = np.array([max(0.0, 1.0 - b * a) ** 2 for a, b in zip(x.ravel(), y.ravel())])
    return reduce_np(out.reshape(x.shape), reduction)


@reference("categorical_hinge", "categorical_hinge", RED)
@reference("categorical_hinge", "categorical_hinge_soft", [{}, {"reduction": "none"}])
@reference("categorical_hinge", "categorical_hinge_3d", [{}, {"reduction": "none"}])
def categorical_hinge(x, y, reduction="mean"):
    rows, lab = _class_rows(x, y)
    out = []
    for xr, yr in zip(rows, lab):
        pos = sum(b * a for a, b in zip(xr, yr))
        neg = max((1 - b) * a for a, b in zip(xr, yr))
        out.append(max(neg - pos + 1.0, 0.0))
    return reduce_np(np.array(out).reshape(_out_shape(x)), reduction)


@reference("multiclass_hinge_loss", "multi_margin_index", RED)
@reference("multiclass_hinge_loss", "multi_margin_index_3d", [{}, {"reduction": "none"}])
def multiclass_hinge(x, y, reduction="mean"):
    """Crammer-Singer: max(0, 1 + max_{c != y} x_c - x_y)."""
    rows, lab = _class_rows(x, y)
    out = [max(0.0, 1.0 + max(a for c, a in enumerate(xr) if c != t) - xr[t]) for xr, t in zip(rows, lab)]
    return reduce_np(np.array(out).reshape(_out_shape(x)), reduction)


@reference("perceptron_loss", "signed_margin", RED)
def perceptron(x, y, reduction="mean"):
    out = np.array([max(0.0, -a * b) for a, b in zip(x.ravel(), y.ravel())])
    return reduce_np(out.reshape(x.shape), reduction)


@reference("multiclass_perceptron_loss", "multi_margin_index", RED)
@reference("multiclass_perceptron_loss", "multi_margin_index_3d", [{}, {"reduction": "none"}])
def multiclass_perceptron(x, y, reduction="mean"):
    rows, lab = _class_rows(x, y)
    out = [max(xr) - xr[t] for xr, t in zip(rows, lab)]
    return reduce_np(np.array(out).reshape(_out_shape(x)), reduction)
