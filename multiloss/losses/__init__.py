"""Canonical losses: one Array API function each, ``input`` (y_pred) first."""

from .classification import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    focal_loss,
    hinge,
    log_loss,
    nll_loss,
    sce_loss,
)
from .probabilistic import kl_div
from .regression import (
    cosine_similarity,
    huber_loss,
    l1_loss,
    mean_absolute_percentage_error,
    mse_loss,
    smooth_l1_loss,
)
from .regularization import l1_penalty, l2_penalty

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "mean_absolute_percentage_error",
    "cosine_similarity",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "hinge",
    "log_loss",
    "focal_loss",
    "sce_loss",
    "kl_div",
    "l1_penalty",
    "l2_penalty",
]
