"""float64 references of the embedding losses (``multiloss/losses/embedding.py``), and their
input domains. Written from torch's documentation (``torch/nn/modules/loss.py``,
``torch/nn/functional.py``) and ATen's ``Loss.cpp`` / ``Distance.cpp``: one pair or triplet at
a time, with plain Python loops over the features.

Domains keep every hinge argument at least 0.15 away from its kink (for each option set
checked below), and the swapped and plain negative distances 0.15 apart, so central finite
differences are meaningful and float16/bfloat16 rounding cannot move an input across a kink.
"""

from __future__ import annotations

import math

import numpy as np

from ..domains import C, N, domain
from ._base import RED, reduce_np, reference

_GAP = 0.15
_COSINE_MARGINS = (0.0, 0.5)
_TRIPLET_MARGINS = (1.0, 0.5)
_TRIPLET_PS = (2.0, 1.0, 3.0, math.inf)


# ----------------------------------------------------------------------------- helpers


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    """torch's cosine: each squared magnitude + 1e-12 (ATen Loss.cpp EPSILON)."""
    dot = sum(float(x) * float(y) for x, y in zip(a, b))
    m1 = sum(float(x) * float(x) for x in a) + 1e-12
    m2 = sum(float(y) * float(y) for y in b) + 1e-12
    return dot / math.sqrt(m1 * m2)


def _pnorm_dist(x: np.ndarray, y: np.ndarray, p: float, eps: float) -> float:
    """||x - y + eps||_p of two vectors (torch pairwise_distance, ATen Distance.cpp)."""
    d = [abs(float(a) - float(b) + eps) for a, b in zip(x, y)]
    if p == math.inf:
        return max(d)
    if p == -math.inf:
        return min(d)
    if p == 0:
        return float(sum(v != 0 for v in d))
    if p < 0 and min(d) == 0:
        return 0.0
    return sum(v**p for v in d) ** (1.0 / p)


def _rows(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x.reshape(1, -1)


class _NamedDistance:
    """A distance callable for ``triplet_margin_with_distance_loss(distance_function=...)``
    that runs on every backend's arrays (written with ``multiloss.array_namespace``, the way a
    user writes one); its ``repr`` is its name, so case ids are stable. The reference does not
    call it: it computes ``numpy_rowwise`` on each pair of rows instead."""

    def __init__(self, name: str, numpy_rowwise):
        self.name = name
        self.numpy_rowwise = numpy_rowwise

    def __repr__(self) -> str:
        return self.name

    def __call__(self, x1, x2):
        from ..._namespace import array_namespace

        xp = array_namespace(x1, x2)
        if self.name == "sqeuclidean":
            d = x1 - x2
            return xp.sum(d * d, axis=-1)
        if self.name == "cosine":  # 1 - cosine similarity, eps 1e-8 on each norm
            n1 = xp.sqrt(xp.sum(x1 * x1, axis=-1))
            n2 = xp.sqrt(xp.sum(x2 * x2, axis=-1))
            return 1 - xp.sum(x1 * x2, axis=-1) / (xp.where(n1 > 1e-8, n1, 1e-8) * xp.where(n2 > 1e-8, n2, 1e-8))
        raise ValueError(self.name)


_SQEUCLIDEAN = _NamedDistance("sqeuclidean", lambda a, b: sum((float(x) - float(y)) ** 2 for x, y in zip(a, b)))
_COSINE_DISTANCE = _NamedDistance(
    "cosine",
    lambda a, b: 1 - sum(float(x) * float(y) for x, y in zip(a, b))
    / (max(math.sqrt(sum(float(x) ** 2 for x in a)), 1e-8) * max(math.sqrt(sum(float(y) ** 2 for y in b)), 1e-8)),
)


# ----------------------------------------------------------------------------- domains


@domain("cosine_pairs")
def _cosine_pairs(rng):
    """``cosine_embedding_loss``: input1, input2 ``(N, C)`` and int64 labels ``(N,)``: similar
    (1) and dissimilar (-1) pairs, and one label 0 (contributes 0, as in torch). Dissimilar
    pairs have cosines below 0, between the margins 0 and 0.5 and above 0.5; each is redrawn
    until its cosine is 0.15 away from both margins."""
    y = np.array([1, -1, 1, -1, -1, 1, -1, 0])
    # cosine band of each row: dissimilar rows below 0, in (0, 0.5) and above 0.5
    band = [(-1, 1), (-1, -_GAP), (-1, 1), (_GAP, 0.5 - _GAP), (0.5 + _GAP, 1), (-1, 1), (-1, -_GAP), (-1, 1)]
    x1 = rng.normal(size=(N, C))
    x2 = np.empty((N, C))
    for i in range(N):
        lo, hi = band[i]
        while True:
            x2[i] = rng.uniform(-1, 1) * 1.5 * x1[i] + rng.normal(size=(C,))
            if lo <= _cos(x1[i], x2[i]) <= hi:
                break
    return {"pred": x1, "target": x2, "args": (y.astype(np.int64),)}


def _triplet_ok(a, p, n, distances) -> bool:
    """All hinge arguments of the triplet ``(a, p, n)`` 0.15 away from 0 for every distance
    and margin checked, and the swap distance 0.15 away from the plain negative distance."""
    for dist in distances:
        dp, dn, ds = dist(a, p), dist(a, n), dist(p, n)
        if abs(dn - ds) < _GAP:
            return False
        for m in _TRIPLET_MARGINS:
            if min(abs(m + dp - dn), abs(m + dp - min(dn, ds))) < _GAP:
                return False
    return True


_TRIPLET_DISTANCES = [lambda x, y, q=q: _pnorm_dist(x, y, q, 1e-6) for q in _TRIPLET_PS] + [
    _SQEUCLIDEAN.numpy_rowwise,
    _COSINE_DISTANCE.numpy_rowwise,
]


@domain("triplets")
def _triplets(rng):
    """``triplet_margin_loss`` / ``triplet_margin_with_distance_loss``: anchor (``pred``),
    positive (``target``) and negative (``args[0]``) embeddings ``(N, C)``, in four kinds of
    rows: typical (negative a bit farther than the positive), easy (negative far: inactive
    hinge), swapped (negative next to the positive: ``swap=True`` uses d(p, n)) and hard
    (negative closer than the positive). Each triplet is redrawn until it is off every kink
    (see :func:`_triplet_ok`)."""
    a = np.empty((N, C))
    p = np.empty((N, C))
    n = np.empty((N, C))
    for i in range(N):
        kind = i % 4
        while True:
            a[i] = rng.normal(size=(C,))
            p[i] = a[i] + rng.normal(scale=(0.6, 0.4, 1.0, 0.8)[kind], size=(C,))
            base = p[i] if kind == 2 else a[i]
            n[i] = base + rng.normal(scale=(0.9, 2.5, 0.3, 0.4)[kind], size=(C,))
            if _triplet_ok(a[i], p[i], n[i], _TRIPLET_DISTANCES):
                break
    return {"pred": a, "target": p, "args": (n,)}


# ----------------------------------------------------------------------------- references


@reference("cosine_embedding_loss", "cosine_pairs", [*RED, {"margin": 0.5}, {"margin": 0.5, "reduction": "none"}])
def cosine_embedding_loss(x1, x2, y, margin=0.0, reduction="mean"):
    out = np.zeros(y.shape)
    for i, label in enumerate(y.reshape(-1)):
        c = _cos(_rows(x1)[i], _rows(x2)[i])
        if label == 1:
            out.reshape(-1)[i] = 1 - c
        elif label == -1:
            out.reshape(-1)[i] = max(0.0, c - margin)
    return reduce_np(out, reduction)


def _triplet(dist, a, p, n, margin, swap, reduction):
    out = []
    for ai, pi, ni in zip(_rows(a), _rows(p), _rows(n)):
        dp, dn = dist(ai, pi), dist(ai, ni)
        if swap:
            dn = min(dn, dist(pi, ni))
        out.append(max(0.0, margin + dp - dn))
    return reduce_np(np.array(out).reshape(a.shape[:-1]), reduction)


@reference("triplet_margin_loss", "triplets",
           [*RED, {"margin": 0.5}, {"p": 1.0}, {"p": 3.0}, {"p": math.inf, "reduction": "none"},
            {"swap": True}, {"swap": True, "p": 1.0, "reduction": "none"}, {"eps": 0.0}])
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
    return _triplet(lambda x, y: _pnorm_dist(x, y, p, eps), anchor, positive, negative, margin, swap, reduction)


@reference("triplet_margin_with_distance_loss", "triplets",
           [*RED, {"swap": True}, {"margin": 0.5, "reduction": "none"},
            {"distance_function": _SQEUCLIDEAN}, {"distance_function": _COSINE_DISTANCE, "margin": 0.5},
            {"distance_function": _COSINE_DISTANCE, "swap": True, "reduction": "none"}])
def triplet_margin_with_distance_loss(a, p, n, distance_function=None, margin=1.0, swap=False, reduction="mean"):
    dist = (lambda x, y: _pnorm_dist(x, y, 2.0, 1e-6)) if distance_function is None else distance_function.numpy_rowwise
    return _triplet(dist, a, p, n, margin, swap, reduction)


# ----------------------------------------------------------------------------- batch losses
# NT-Xent (optax/losses/_self_supervised.py) and Circle (keras/src/losses/losses.py `circle`),
# written pair by pair from those sources' formulas.

_BATCH_LABELS = np.array([0, 1, 0, 2, 1, 2, 0, 3])  # class 3 has one member: anchor 7 has no positive
_CIRCLE_MARGINS = (0.4, 0.25)
# reference embeddings (M=6) and their labels for circle(ref_embeddings=, ref_labels=): label 4
# is nowhere in the batch (a negative for every anchor), label 3 gives anchor 7 a positive
_CIRCLE_REF_LABELS = np.array([0, 1, 2, 4, 3, 0])


def _scaled_rows(rng, n, d):
    """Rows of norm in [0.8, 0.95]: 1 - x . y >= 0.097 > 0 for every pair (keras's clamp of the
    distance at 0 never binds unless normalised, and then only on the diagonal)."""
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True) * rng.uniform(0.8, 0.95, size=(n, 1))


def _circle_ok(v: np.ndarray, others: np.ndarray) -> bool:
    """The pairs of row ``v`` with every row of ``others``: their distance 1 - v.r, raw and
    normalised, 0.05 away from the negative weight's kink at d = 1 + margin (v.r = -margin)
    for each margin checked."""
    raw = others @ v
    cos = raw / (np.linalg.norm(others, axis=1) * np.linalg.norm(v))
    return all(np.min(np.abs(c + m)) > 0.05 for c in (raw, cos) for m in _CIRCLE_MARGINS)


def _circle_ref_embeddings() -> np.ndarray:
    return _scaled_rows(np.random.default_rng(11), len(_CIRCLE_REF_LABELS), C)


@domain("contrastive_batch")
def _contrastive_batch(rng):
    """``ntxent`` / ``circle``: embeddings ``(N, C)`` of norm in [0.8, 0.95] and int64 labels
    ``(N,)`` of four classes (one with a single member: an anchor without positives). Each row
    is redrawn until its pairs with the rows before it and with the fixed reference embeddings
    of ``circle(ref_embeddings=)`` are off Circle's kinks (see :func:`_circle_ok`). NT-Xent has
    no kink."""
    rows = list(_circle_ref_embeddings())
    out = []
    while len(out) < N:
        v = _scaled_rows(rng, 1, C)[0]
        if _circle_ok(v, np.array(rows)):
            rows.append(v)
            out.append(v)
    return {"pred": np.array(out), "target": _BATCH_LABELS.astype(np.int64)}


def _unit(v: np.ndarray, eps: float) -> np.ndarray:
    return v / math.sqrt(max(float(v @ v), eps))


def _ntxent_pairs(x, y, temperature):
    """(N, N) per-pair losses (0 off the positive pairs) and the number of positive pairs."""
    n = len(y)
    u = [_unit(x[i], np.finfo(np.float64).eps) for i in range(n)]
    s = [[float(u[i] @ u[j]) / temperature for j in range(n)] for i in range(n)]
    out = np.zeros((n, n))
    count = 0
    for i in range(n):
        negatives = [s[i][k] for k in range(n) if y[k] != y[i]]
        for j in range(n):
            if j != i and y[j] == y[i]:
                denom = math.exp(s[i][j]) + sum(math.exp(v) for v in negatives)
                out[i, j] = -(s[i][j] - math.log(denom))
                count += 1
    return out, count


@reference("ntxent", "contrastive_batch", [*RED, {"temperature": 0.5}], dtypes=("float64", "float32", "float16"))
@reference("ntxent", "contrastive_batch", [{"temperature": 0.5, "reduction": "sum"}], dtypes=("bfloat16",))
def ntxent(x, y, temperature=0.07, reduction="mean"):
    out, count = _ntxent_pairs(x, y, temperature)
    if reduction == "none":
        return out
    return np.asarray(out.sum() / (count if reduction == "mean" else 1))


def _circle_rows(x, y, ref, ref_y, gamma, margin, remove_diagonal, normalize):
    if normalize:
        x = np.stack([_unit(v, 1e-12) for v in x])
        ref = np.stack([_unit(v, 1e-12) for v in ref])
    out = np.zeros(len(y))
    for i in range(len(y)):
        pos, neg = [], []
        for j in range(len(ref_y)):
            d = max(0.0, 1.0 - float(x[i] @ ref[j]))
            if y[i] == ref_y[j] and not (remove_diagonal and i == j):
                pos.append(-gamma * max(margin + d, 0.0) * (margin - d))
            elif y[i] != ref_y[j]:
                neg.append(gamma * max(1.0 + margin - d, 0.0) * (1.0 - margin - d))
        if pos and neg:  # else log(0) = -inf, softplus(-inf) = 0
            z = np.logaddexp.reduce(pos) + np.logaddexp.reduce(neg)
            out[i] = np.logaddexp(0.0, z)
    return out


_CIRCLE_REF = {"ref_embeddings": _circle_ref_embeddings(), "ref_labels": _CIRCLE_REF_LABELS.astype(np.int64)}


# gamma=80 scales each distance's rounding 80-fold: half precision is held on gamma=4
@reference("circle", "contrastive_batch",
           [*RED, {"remove_diagonal": False}, {"normalize": False}, {"normalize": False, "remove_diagonal": False},
            {"gamma": 30.0, "margin": 0.25, "reduction": "none"}, {**_CIRCLE_REF, "reduction": "none"},
            {**_CIRCLE_REF, "normalize": False}], dtypes=("float64", "float32"))
@reference("circle", "contrastive_batch", [{"gamma": 4.0}, {"gamma": 4.0, "normalize": False, "reduction": "none"}])
def circle(x, y, gamma=80.0, margin=0.4, remove_diagonal=True, normalize=True, reduction="mean",
           ref_embeddings=None, ref_labels=None):
    ref = x if ref_embeddings is None else ref_embeddings
    ref_y = y if ref_labels is None else ref_labels
    out = _circle_rows(x, y, ref, ref_y, gamma, margin, remove_diagonal, normalize)
    if reduction == "none":
        return out
    if reduction == "sum":
        return np.asarray(out.sum())
    nonzero = int(np.sum(out > 0))  # keras masks loss > 0 (divide_no_nan)
    return np.asarray(out.sum() / nonzero if nonzero else 0.0)
