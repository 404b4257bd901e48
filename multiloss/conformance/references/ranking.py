"""float64 references of the ranking losses (``multiloss/losses/ranking.py``), and their input
domain. Written from optax's ``optax/losses/_ranking.py`` (``ranking_softmax_loss`` and its
``_safe_reduce``): one list at a time, one item at a time."""

from __future__ import annotations

import math

import numpy as np

from ..domains import C, N, domain
from ._base import RED, reference

# a where mask with a list of no valid item (row 2) and a list of one (row 5)
_WHERE = np.ones((N, C), dtype=bool)
_WHERE[[0, 3, 6], [1, 4, 0]] = False
_WHERE[2] = False
_WHERE[5] = [False, False, True, False, False]
_ITEM_W = np.linspace(0.2, 1.8, N * C).reshape(N, C)


@domain("ranking_lists")
def _ranking_lists(rng):
    """``ranking_softmax_loss``: scores ``(N, C)`` (lists of C items) and graded relevance
    labels in {0, 1, 2, 3} (one list all 0: loss 0). Smooth: no kink to avoid."""
    labels = rng.integers(0, 4, size=(N, C)).astype(np.float64)
    labels[4] = 0.0
    return {"pred": rng.normal(scale=2.0, size=(N, C)), "target": labels}


@reference("ranking_softmax_loss", "ranking_lists",
           [*RED, {"where": _WHERE}, {"where": _WHERE, "reduction": "sum"}, {"where": _WHERE, "reduction": "none"},
            {"weight": _ITEM_W}, {"weight": _ITEM_W, "where": _WHERE, "reduction": "none"}])
def ranking_softmax_loss(scores, labels, where=None, weight=None, reduction="mean"):
    out = np.zeros(scores.shape[0])
    valid_lists = 0
    for i in range(scores.shape[0]):
        valid = [j for j in range(scores.shape[1]) if where is None or where[i, j]]
        if not valid:
            continue
        valid_lists += 1
        lse = math.log(sum(math.exp(scores[i, j]) for j in valid))
        for j in valid:
            w = 1.0 if weight is None else weight[i, j]
            out[i] -= w * labels[i, j] * (scores[i, j] - lse)
    if reduction == "none":
        return out
    if reduction == "sum":
        return np.asarray(out.sum())
    # optax _safe_reduce: mean over the lists with a valid item, 0 if there is none
    return np.asarray(out.sum() / valid_lists if valid_lists else 0.0)
