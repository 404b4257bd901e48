"""Canonical conformance cases: each canonical loss × an option grid on its input domain,
against the independent float64 references in :mod:`.references`."""

from __future__ import annotations

import numpy as np

from . import references as R
from .domains import C, N
from .spec import Case

__all__ = ["CASES"]

_RED = ("mean", "sum", "none")
_CLASS_W = np.linspace(0.5, 2.0, C)
_ELEM_W = np.linspace(0.1, 1.9, N * C).reshape(N, C)
_POS_W = np.linspace(0.5, 3.0, C)
# float16 cannot hold the sums of these losses accurately enough to be meaningful against
# float64 beyond its own tolerance; bfloat16 is checked only where values stay O(1).
_LOW = ("float64", "float32", "float16", "bfloat16")


def _grid(loss, domain, ref, options, dtypes=_LOW, grad=True):
    out = []
    for kw in options:
        label = ",".join(
            f"{k}" if isinstance(v, np.ndarray) else f"{k}={v}" for k, v in kw.items()
        )
        out.append(Case(loss, domain, ref, kw, label, dtypes, grad))
    return out


CASES: list[Case] = [
    *_grid("mse_loss", "regression", R.mse, [{"reduction": r} for r in _RED] + [{"weight": _ELEM_W}]),
    *_grid("l1_loss", "regression", R.l1, [{"reduction": r} for r in _RED] + [{"weight": _ELEM_W}]),
    *_grid("smooth_l1_loss", "regression", R.smooth_l1,
           [{"reduction": r} for r in _RED] + [{"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0}]),
    *_grid("huber_loss", "regression", R.huber, [{"reduction": r} for r in _RED] + [{"delta": 0.5}, {"delta": 2.0}]),
    *_grid("mean_absolute_percentage_error", "regression_nonzero_target", R.mape, [{"reduction": r} for r in _RED],
           dtypes=("float64", "float32", "float16")),
    *_grid("cosine_similarity", "regression", R.cosine, [{"reduction": r} for r in _RED]),
    *_grid("binary_cross_entropy", "probabilities", R.bce, [{"reduction": r} for r in _RED] + [{"weight": _ELEM_W}]),
    *_grid("binary_cross_entropy", "probabilities_soft", R.bce, [{}]),
    *_grid("binary_cross_entropy_with_logits", "logits_binary", R.bce_logits,
           [{"reduction": r} for r in _RED] + [{"pos_weight": _POS_W}, {"weight": _ELEM_W, "pos_weight": _POS_W}]),
    *_grid("binary_cross_entropy_with_logits", "logits_binary_soft", R.bce_logits, [{}]),
    *_grid("hinge", "hinge", R.hinge, [{"reduction": r} for r in _RED]),
    *_grid("hinge", "hinge01", R.hinge, [{}, {"labels": "signed"}]),
    *_grid("log_loss", "probabilities", R.log_loss, [{"reduction": r} for r in _RED]),
    *_grid("focal_loss", "probabilities", R.focal,
           [{}, {"reduction": "none"}, {"gamma": 0.0, "alpha": None}, {"alpha": 0.25, "gamma": 1.5}]),
    *_grid("focal_loss", "logits_binary", R.focal, [{"from_logits": True}, {"from_logits": True, "reduction": "sum"}]),
    *_grid("cross_entropy", "class_index", R.cross_entropy,
           [{"reduction": r} for r in _RED]
           + [{"weight": _CLASS_W}, {"label_smoothing": 0.1}, {"weight": _CLASS_W, "label_smoothing": 0.2}]),
    *_grid("cross_entropy", "class_index_ignore", R.cross_entropy,
           [{}, {"weight": _CLASS_W, "label_smoothing": 0.1}, {"reduction": "none"}]),
    *_grid("cross_entropy", "class_index", R.cross_entropy,
           [{"ignore_index": 3}, {"ignore_index": 3, "weight": _CLASS_W, "label_smoothing": 0.1}]),
    *_grid("cross_entropy", "class_index_3d", R.cross_entropy, [{}, {"reduction": "none"}]),
    *_grid("cross_entropy", "class_prob", R.cross_entropy,
           [{"reduction": r} for r in _RED] + [{"weight": _CLASS_W}, {"label_smoothing": 0.1}]),
    *_grid("nll_loss", "class_index", R.nll,
           [{"reduction": r} for r in _RED] + [{"weight": _CLASS_W}]),
    *_grid("sce_loss", "class_index", R.sce, [{}, {"alpha": 1.0, "beta": 0.5}, {"reduction": "none"}]),
    *_grid("sce_loss", "class_prob", R.sce, [{}]),
    *_grid("kl_div", "log_probs", R.kl_div, [{"reduction": r} for r in (*_RED, "batchmean")]),
    *_grid("kl_div", "log_probs", R.kl_div, [{"log_target": True, "reduction": "batchmean"}]),
]
