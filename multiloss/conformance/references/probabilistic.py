"""float64 references of the probabilistic losses (``multiloss/losses/probabilistic.py``)."""

from __future__ import annotations

import numpy as np

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
