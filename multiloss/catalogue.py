"""The catalogue: every canonical loss, its family and its twins in torch / keras / optax.

One table drives ``multiloss list``, the README porting table and the conformance suite's
coverage checks. An empty string means the framework has no such loss.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Entry", "CATALOGUE", "entry"]


@dataclass(frozen=True)
class Entry:
    name: str  # canonical function, multiloss.<name>
    family: str  # module under multiloss.losses
    torch: str = ""
    keras: str = ""
    optax: str = ""
    summary: str = ""


CATALOGUE: tuple[Entry, ...] = (
    Entry("mse_loss", "regression", "MSELoss", "MeanSquaredError", "squared_error / l2_loss", "mean squared error"),
    Entry("l1_loss", "regression", "L1Loss", "MeanAbsoluteError", "", "mean absolute error"),
    Entry("smooth_l1_loss", "regression", "SmoothL1Loss", "", "", "smooth L1 (huber / beta)"),
    Entry("huber_loss", "regression", "HuberLoss", "Huber", "huber_loss", "Huber loss"),
    Entry("mean_absolute_percentage_error", "regression", "", "MeanAbsolutePercentageError", "", "MAPE"),
    Entry("cosine_similarity", "regression", "", "CosineSimilarity", "cosine_similarity / cosine_distance", "negative cosine similarity"),
    Entry("binary_cross_entropy", "classification", "BCELoss", "BinaryCrossentropy", "", "BCE on probabilities"),
    Entry("binary_cross_entropy_with_logits", "classification", "BCEWithLogitsLoss", "BinaryCrossentropy(from_logits=True)", "sigmoid_binary_cross_entropy", "BCE on logits"),
    Entry("cross_entropy", "classification", "CrossEntropyLoss", "(Sparse)CategoricalCrossentropy(from_logits=True)", "softmax_cross_entropy(_with_integer_labels)", "softmax cross-entropy"),
    Entry("nll_loss", "classification", "NLLLoss", "", "", "negative log-likelihood"),
    Entry("hinge", "classification", "", "Hinge", "hinge_loss", "hinge"),
    Entry("log_loss", "classification", "", "", "", "log loss with additive epsilon"),
    Entry("focal_loss", "classification", "", "", "sigmoid_focal_loss", "binary focal loss"),
    Entry("sce_loss", "classification", "", "", "", "symmetric cross-entropy"),
    Entry("kl_div", "probabilistic", "KLDivLoss", "KLDivergence", "kl_divergence", "KL divergence (log-prob input)"),
    Entry("l1_penalty", "regularization", "", "regularizers.L1", "", "L1 weight penalty"),
    Entry("l2_penalty", "regularization", "", "regularizers.L2", "", "L2 weight penalty"),
)

_BY_NAME = {e.name: e for e in CATALOGUE}


def entry(name: str) -> Entry:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown loss {name!r}; known: {', '.join(sorted(_BY_NAME))}"
        ) from None
