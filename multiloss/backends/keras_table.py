"""The keras adapter's table: one :class:`Row` per keras loss (or keras-style extra), with the
per-sample body that computes it from canonical functions.

Importable without keras (keras is imported the first time a body needs it): the catalogue,
``multiloss list`` and the porting tables are derived from :data:`TABLE`;
:mod:`multiloss.backends.keras` builds the ``keras.losses.Loss`` classes and the functions
from it; :mod:`multiloss.conformance.natives_keras` holds every row with a keras twin
against keras on its ``checks``. Adding a keras loss = one :class:`Row` here, plus a body if
no existing one fits (CONTRIBUTING.md, "Add a loss").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .. import _ops
from .. import losses as L
from ._rows import Check, HandWritten, lazy_module

__all__ = ["Row", "TABLE", "HANDWRITTEN"]

keras = lazy_module("keras", globals(), "keras")

_ALL_RED = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_RED = tuple({"reduction": r} for r in _ALL_RED)
_RED_SW = ({}, {"reduction": "sum"}, {"reduction": "mean_with_sample_weight"}, {"reduction": "none"})
# keras's TF backend runs CTC in float32 for float64 input (keras/src/backend/tensorflow/nn.py)
_CTC_F32 = "keras computes CTC in float32 even for float64 input; multiloss keeps float64"
_CTC_F64 = {"float64": (2e-5, 1e-6)}


def _eps() -> float:
    return float(keras.backend.epsilon())



def _class_axis_to_1(xp, x, axis: int):
    """Move keras's class ``axis`` to torch's position 1 (the canonical class axis)."""
    if x.ndim <= 1:
        return x
    ax = axis % x.ndim
    return x if ax == 1 else xp.moveaxis(x, ax, 1)


# ----------------------------------------------------------------------------- row bodies
# Each body: (xp, y_true, y_pred, **options) -> per-sample losses, calling canonical
# functions with reduction="none". Shapes are checked before.


def _mean_last(xp, v, axis=-1):
    return xp.mean(v, axis=axis)


def _elementwise(canonical, post="mean", **fixed):
    def body(xp, y_true, y_pred, **opts):
        loss = canonical(y_pred, y_true, reduction="none", **fixed, **opts)
        return _mean_last(xp, loss) if post == "mean" else loss

    return body


def _bce(xp, y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        loss = L.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        eps = _eps()
        loss = L.binary_cross_entropy(xp.clip(y_pred, eps, 1.0 - eps), y_true, reduction="none")
    return xp.mean(loss, axis=axis)


def _cce(xp, y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if label_smoothing:
        k = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / k
    logits, target = _class_axis_to_1(xp, y_pred, axis), _class_axis_to_1(xp, y_true, axis)
    if from_logits:
        return L.cross_entropy(logits, target, reduction="none")
    eps = _eps()
    p = logits / xp.sum(logits, axis=1 if logits.ndim > 1 else 0, keepdims=True)
    return L.nll_loss(xp.log(xp.clip(p, eps, 1.0 - eps)), target, reduction="none")


def _scce(xp, y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    if not xp.isdtype(y_true.dtype, "integral"):
        y_true = xp.astype(y_true, xp.int64)  # keras casts labels to int64
    logits = y_pred
    if not from_logits:
        eps = _eps()
        logits = xp.log(xp.clip(y_pred, eps, 1.0 - eps))
    loss = L.cross_entropy(_class_axis_to_1(xp, logits, axis), y_true, ignore_index=ignore_class, reduction="none")
    if ignore_class is not None:
        # keras marks the ignored positions with a mask, so "sum_over_batch_size" divides by
        # the number of valid positions (keras/src/losses/losses.py, loss.py apply_mask)
        _set_keras_mask(loss, y_true != ignore_class)
    return loss


def _set_keras_mask(x, mask) -> None:
    try:
        from keras.src.backend.common.masking import set_keras_mask
    except ImportError:  # pragma: no cover - keras internals moved
        return
    try:
        set_keras_mask(x, mask)
    except (AttributeError, TypeError):  # pragma: no cover - an array type without attributes
        pass


def _kld(xp, y_true, y_pred):
    eps = _eps()
    t = xp.clip(y_true, eps, 1.0)
    p = xp.clip(y_pred, eps, 1.0)
    return xp.sum(L.kl_div(xp.log(p), t, reduction="none"), axis=-1)


def _cosine(xp, y_true, y_pred, axis=-1):
    eps = _eps()
    return L.cosine_similarity(y_pred, y_true, axis=axis, reduction="none", epsilon=eps * eps)


def _focal(xp, y_true, y_pred, gamma=2.0, alpha=0.75, from_logits=False):
    loss = L.focal_loss(y_pred, y_true, alpha=alpha, gamma=gamma, from_logits=from_logits, reduction="none")
    return xp.mean(loss, axis=-1)


def _sce(xp, y_true, y_pred, alpha=0.1, beta=1.0, from_logits=True):
    logits = y_pred
    if not from_logits:
        logits = xp.log(xp.clip(y_pred, _eps(), 1.0))
    if xp.isdtype(y_true.dtype, "real floating") and len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == y_pred.shape[-1] != 1:
        target = _class_axis_to_1(xp, y_true, -1)
    else:
        if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
            y_true = xp.squeeze(y_true, axis=-1)
        target = y_true if xp.isdtype(y_true.dtype, "integral") else xp.astype(y_true, xp.int64)
    return L.sce_loss(_class_axis_to_1(xp, logits, -1), target, alpha=alpha, beta=beta, reduction="none")


def _index_labels(xp, y):
    """Class indices as integers: keras's ``Loss.__call__`` casts ``y_true`` to the loss dtype."""
    return y if xp.isdtype(y.dtype, "integral") else xp.astype(y, xp.int64)


def _margin_ranking(xp, y_pred1, y_pred2, y_true, margin=0.0):
    loss = L.margin_ranking_loss(y_pred1, y_pred2, y_true, margin=margin, reduction="none")
    return xp.mean(loss, axis=-1)


def _multilabel_soft_margin(xp, y_true, y_pred):
    return L.multilabel_soft_margin_loss(y_pred, y_true, reduction="none")  # already a mean over classes


def _multilabel_margin(xp, y_true, y_pred):
    return L.multilabel_margin_loss(y_pred, _index_labels(xp, y_true), reduction="none")


def _multi_margin(xp, y_true, y_pred, p=1, margin=1.0):
    return L.multi_margin_loss(y_pred, _index_labels(xp, y_true), p=p, margin=margin, reduction="none")


def _poisson(xp, y_true, y_pred):
    # keras poisson: y_pred - y_true * log(y_pred + epsilon()), epsilon read at call time
    return xp.mean(L.poisson_nll_loss(y_pred, y_true, log_input=False, eps=_eps(), reduction="none"), axis=-1)


def _gaussian_nll(xp, y_true, y_pred, var, full=False, eps=1e-6):
    if len(var.shape) == 0:  # a number (made a 0-d tensor by the function form): one variance for all
        var = xp.broadcast_to(var, y_pred.shape)
    loss = L.gaussian_nll_loss(y_pred, y_true, var, full=full, eps=eps, reduction="none")
    return xp.mean(loss, axis=-1)


def _cosine_embedding(xp, y_pred1, y_pred2, y_true, margin=0.0):
    return L.cosine_embedding_loss(y_pred1, y_pred2, y_true, margin=margin, reduction="none")


def _triplet_margin(xp, anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False):
    return L.triplet_margin_loss(anchor, positive, negative, margin=margin, p=p, eps=eps, swap=swap, reduction="none")


def _triplet_margin_with_distance(xp, anchor, positive, negative, distance_function=None, margin=1.0, swap=False):
    return L.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=distance_function,
                                               margin=margin, swap=swap, reduction="none")


def _ctc(xp, y_true, y_pred):
    # keras/src/losses/losses.py `ctc`: y_pred (N, T, C) *logits* (keras 3; tf.nn.ctc_loss takes
    # their log-softmax), y_true (N, S) labels right-padded with mask_index=0, which is also the
    # blank; every frame counts and a label length is the number of nonzero labels. keras's TF
    # backend computes in float32 even for float64 (keras/src/backend/tensorflow/nn.py
    # ctc_loss); this keeps the input's precision.
    if len(y_true.shape) != 2:
        raise ValueError(f"ctc: argument `y_true` must be (batch_size, max_length) integer labels; "
                         f"got shape {tuple(y_true.shape)}")
    if len(y_pred.shape) != 3:
        raise ValueError(f"ctc: argument `y_pred` must be (batch_size, max_length, num_classes) logits; "
                         f"got shape {tuple(y_pred.shape)}")
    labels = _index_labels(xp, y_true)
    log_probs = xp.permute_dims(_ops.log_softmax(xp, y_pred, axis=-1), (1, 0, 2))  # (T, N, C)
    label_lengths = xp.sum(xp.astype(labels != 0, labels.dtype), axis=-1)
    frames = xp.zeros_like(label_lengths) + y_pred.shape[1]
    return L.ctc_loss(log_probs, labels, frames, label_lengths, blank=0, reduction="none")


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    """One keras loss: names, keras constructor options (order and defaults), how it is
    computed, how its inputs are checked, and what it is held against.

    ``cls`` may be ``""`` for a loss of more than two arrays served as a function only;
    ``inputs`` names such a function's array arguments (default ``(y_true, y_pred)``) and its
    ``body`` then takes ``(xp, *arrays, **options)``. ``checks``: native conformance grids
    (keras option names) against ``keras.losses.<native or cls>`` built with
    ``native_options`` under the checked options; ``fn_checks``: the function form against
    ``keras.losses.<fn>`` (default: the first option set of each check without
    ``sample_weight``, ``reduction`` dropped)."""

    cls: str  # keras class name
    fn: str  # keras function name
    default_name: str  # keras's default ``name=``
    body: Callable[..., Any]  # (xp, y_true, y_pred, **options) -> per-sample losses
    canonical: str  # the canonical function(s), for docs and ``multiloss list``
    options: tuple = ()  # ((option, default), ...) in keras's order, before reduction
    shapes: str = "broadcast"  # 'broadcast' | 'same' | 'index' | 'any'
    classification: bool = False  # integer y_pred with float y_true looks swapped
    index_targets: bool = False
    logits_op: str = ""  # keras activation whose logits replace y_pred (from_logits=False)
    reduction_after: tuple = ()  # options placed after `reduction` in keras's signature
    formula: str = ""
    keras_native: bool = True  # keras has it (False: a multiloss extra)
    extra_doc: str = ""
    canonical_names: tuple[str, ...] = ()  # derived from ``canonical`` when empty
    inputs: tuple[str, ...] = ("y_true", "y_pred")
    checks: tuple[Check, ...] = ()
    fn_checks: tuple[Check, ...] | None = None
    native: str = ""  # the keras class held against (default: ``cls`` when keras_native)
    native_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def canonicals(self) -> tuple[str, ...]:
        """The canonical functions this row computes (names in ``multiloss.losses``)."""
        if self.canonical_names:
            return self.canonical_names
        import re

        known = tuple(w for w in re.findall(r"\w+", self.canonical) if w in L.__all__)
        return known or (self.canonical.split(" ")[0],)  # a user's @multiloss.loss function


TABLE: tuple[Row, ...] = (
    Row("MeanSquaredError", "mean_squared_error", "mean_squared_error", _elementwise(L.mse_loss), "mse_loss",
        formula="mean((y_true - y_pred)**2, axis=-1)",
        checks=(Check("regression", _RED), Check("regression+sw", _RED_SW))),
    Row("MeanAbsoluteError", "mean_absolute_error", "mean_absolute_error", _elementwise(L.l1_loss), "l1_loss",
        formula="mean(abs(y_true - y_pred), axis=-1)",
        checks=(Check("regression", _RED), Check("regression+sw", ({}, {"reduction": "mean_with_sample_weight"})))),
    Row("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "mean_absolute_percentage_error",
        lambda xp, t, p: _elementwise(L.mean_absolute_percentage_error, epsilon=_eps())(xp, t, p),
        "mean_absolute_percentage_error",
        formula="100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)), axis=-1)",
        checks=(Check("regression_nonzero_target", ({}, {"reduction": "sum"}, {"reduction": "none"})),)),
    Row("Huber", "huber", "huber_loss", _elementwise(L.huber_loss), "huber_loss", options=(("delta", 1.0),),
        formula="mean(0.5 d**2 if |d| <= delta else delta (|d| - 0.5 delta), axis=-1), d = y_pred - y_true",
        checks=(Check("regression", ({}, {"delta": 0.5}, {"delta": 2.0}, {"reduction": "none"},
                                     {"delta": 0.5, "reduction": "sum"})),
                Check("regression+sw", ({"delta": 0.5},))),
        fn_checks=(Check("regression", ({}, {"delta": 0.5})),)),
    Row("BinaryCrossentropy", "binary_crossentropy", "binary_crossentropy", _bce,
        "binary_cross_entropy / binary_cross_entropy_with_logits",
        options=(("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)), shapes="same",
        classification=True, logits_op="Sigmoid",
        formula="mean(-(y log p + (1 - y) log(1 - p)), axis), p clipped to [eps, 1 - eps]",
        checks=(
            Check("probabilities", ({}, {"label_smoothing": 0.1}, {"axis": 0}, {"reduction": "none"}, {"reduction": "sum"})),
            Check("probabilities_soft", ({}, {"label_smoothing": 0.2, "reduction": "none"})),
            Check("logits_binary", ({"from_logits": True}, {"from_logits": True, "label_smoothing": 0.2},
                                    {"from_logits": True, "axis": 0}, {"from_logits": True, "reduction": "none"})),
            Check("logits_binary+sw", ({"from_logits": True},
                                       {"from_logits": True, "reduction": "mean_with_sample_weight"})),
            Check("logits_binary_soft", ({"from_logits": True},)),
        ),
        fn_checks=(Check("probabilities", ({}, {"label_smoothing": 0.1})), Check("logits_binary", ({"from_logits": True},)))),
    Row("CategoricalCrossentropy", "categorical_crossentropy", "categorical_crossentropy", _cce,
        "cross_entropy (logits) / nll_loss (probabilities)", canonical_names=("cross_entropy",),
        options=(("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)), shapes="same",
        classification=True, logits_op="Softmax",
        formula="-sum(y * log p, axis), p = softmax(logits) or clip(p / sum(p), eps, 1 - eps)",
        checks=(
            Check("probs_onehot", ({}, {"label_smoothing": 0.1}, {"axis": 0}, {"reduction": "none"}, {"reduction": "sum"})),
            Check("class_onehot", ({"from_logits": True}, {"from_logits": True, "label_smoothing": 0.2},
                                   {"from_logits": True, "reduction": "none"})),
            # TF's softmax_cross_entropy_with_logits(axis=0) has a wrong gradient (0.21 off central
            # finite differences, which ours matches to 6e-10; tests/test_keras_adapter.py pins ours)
            Check("class_onehot", ({"from_logits": True, "axis": 0},), grad=False,
                  reason="tf.nn.softmax_cross_entropy_with_logits(axis=0) gradient is wrong"),
            Check("class_prob", ({"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1})),
            Check("class_onehot+sw", ({"from_logits": True}, {"from_logits": True, "reduction": "mean_with_sample_weight"})),
        ),
        fn_checks=(Check("probs_onehot", ({},)), Check("class_onehot", ({"from_logits": True, "label_smoothing": 0.1},)))),
    Row("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", "sparse_categorical_crossentropy", _scce,
        "cross_entropy", options=(("from_logits", False), ("ignore_class", None)), reduction_after=(("axis", -1),),
        shapes="index", classification=True, index_targets=True, logits_op="Softmax",
        formula="-log softmax(logits)[y]; on probabilities logits = log(clip(p, eps, 1 - eps))",
        checks=(
            Check("class_index", ({"from_logits": True}, {"from_logits": True, "reduction": "none"},
                                  {"from_logits": True, "reduction": "sum"}, {"from_logits": True, "ignore_class": 2},
                                  {"from_logits": True, "ignore_class": 2, "reduction": "sum"})),
            Check("class_index_ignore", ({"from_logits": True, "ignore_class": -100},
                                         {"from_logits": True, "ignore_class": -100, "reduction": "none"})),
            Check("probs_index", ({}, {"reduction": "none"}, {"ignore_class": 1})),
            Check("class_index+sw", ({"from_logits": True}, {"from_logits": True, "reduction": "mean_with_sample_weight"})),
        ),
        fn_checks=(Check("class_index", ({"from_logits": True},)), Check("probs_index", ({},)))),
    Row("KLDivergence", "kl_divergence", "kl_divergence", _kld, "kl_div",
        formula="sum(y * log(y / p), axis=-1), y and p clipped to [eps, 1]",
        checks=(Check("probs_probs", ({}, {"reduction": "sum"}, {"reduction": "none"})),
                Check("probs_probs+sw", ({"reduction": "mean_with_sample_weight"},)))),
    Row("CosineSimilarity", "cosine_similarity", "cosine_similarity", _cosine, "cosine_similarity",
        options=(("axis", -1),), formula="-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)",
        checks=(Check("regression", ({}, {"axis": 0}, {"reduction": "none"}, {"axis": 0, "reduction": "sum"})),
                Check("regression+sw", ({},))),
        fn_checks=(Check("regression", ({}, {"axis": 0})),)),
    Row("Hinge", "hinge", "hinge", _elementwise(L.hinge), "hinge", classification=True,
        formula="mean(max(1 - y * p, 0), axis=-1), labels {0, 1} mapped to {-1, 1}",
        checks=(Check("hinge", ({}, {"reduction": "none"}, {"reduction": "sum"})),
                Check("hinge01", ({}, {"reduction": "none"}))),
        fn_checks=(Check("hinge01", ({},)),)),
    Row("FocalLoss", "focal_loss", "focal_loss", _focal, "focal_loss",
        options=(("gamma", 2.0), ("alpha", 0.75), ("from_logits", False)), shapes="same", classification=True,
        formula="mean(alpha_t (1 - p_t)**gamma * BCE(p, y), axis=-1)", keras_native=False,
        # the same formula as keras's class-balanced binary focal crossentropy while no
        # probability reaches keras's clip bounds
        native="BinaryFocalCrossentropy", native_options={"apply_class_balancing": True, "alpha": 0.75, "gamma": 2.0},
        checks=(Check("probabilities", ({}, {"gamma": 1.5, "alpha": 0.25}, {"reduction": "none"})),
                Check("logits_binary", ({"from_logits": True}, {"from_logits": True, "gamma": 0.0})),
                Check("probabilities+sw", ({},))),
        fn_checks=(),
        extra_doc="The loss survey's binary focal loss (defaults gamma=2, alpha=0.75); BCE clamps log at -100 as the "
        "canonical ``multiloss.focal_loss``. keras's nearest is ``BinaryFocalCrossentropy`` "
        "(alpha only with ``apply_class_balancing``)."),
    Row("SCELoss", "sce_loss", "sce_loss", _sce, "sce_loss",
        options=(("alpha", 0.1), ("beta", 1.0), ("from_logits", True)), shapes="any", classification=True,
        formula="alpha * CE(y, p) + beta * RCE(y, p) per sample, class axis last", keras_native=False,
        extra_doc="Symmetric cross-entropy (Wang et al. 2019); ``y_true`` class indices ``(N,)`` or "
        "probabilities/one-hot ``(N, C)``; ``from_logits=False`` takes probabilities (their log is used "
        "as logits)."),
    # ---- margin family: keras has none of these (extras, keras style); the torch twins are
    # multiloss.torch.MarginRankingLoss ... MultiMarginLoss
    Row("", "margin_ranking", "margin_ranking", _margin_ranking, "margin_ranking_loss", options=(("margin", 0.0),),
        inputs=("y_pred1", "y_pred2", "y_true"), keras_native=False,
        formula="mean(max(0, -y_true * (y_pred1 - y_pred2) + margin), axis=-1)",
        extra_doc="Function form only (three arrays, the scores first, as torch's ``margin_ranking_loss``); "
        "labels in {-1, 1}: 1 where ``y_pred1`` should rank higher."),
    Row("HingeEmbedding", "hinge_embedding", "hinge_embedding", _elementwise(L.hinge_embedding_loss),
        "hinge_embedding_loss", options=(("margin", 1.0),), classification=True, keras_native=False,
        formula="mean(y_pred if y_true == 1 else max(0, margin - y_pred), axis=-1), labels in {-1, 1}"),
    Row("SoftMargin", "soft_margin", "soft_margin", _elementwise(L.soft_margin_loss), "soft_margin_loss",
        classification=True, keras_native=False, formula="mean(log(1 + exp(-y_true * y_pred)), axis=-1), labels in {-1, 1}"),
    # the same numbers as keras's BinaryCrossentropy(from_logits=True) (no class weight here)
    Row("MultiLabelSoftMargin", "multilabel_soft_margin", "multilabel_soft_margin", _multilabel_soft_margin,
        "multilabel_soft_margin_loss", classification=True, keras_native=False,
        formula="mean(-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), axis=-1), x = y_pred logits",
        native="BinaryCrossentropy", native_options={"from_logits": True},
        checks=(Check("logits_binary", ({}, {"reduction": "none"}, {"reduction": "sum"})),
                Check("logits_binary_soft", ({},)),
                Check("logits_binary+sw", ({}, {"reduction": "mean_with_sample_weight"}))),
        extra_doc="``y_true`` multi-hot (or soft) labels of ``y_pred``'s shape; torch's "
        "``MultiLabelSoftMarginLoss`` without its class ``weight``."),
    Row("MultiLabelMargin", "multilabel_margin", "multilabel_margin", _multilabel_margin, "multilabel_margin_loss",
        shapes="same", classification=True, keras_native=False,
        formula="sum_j sum_{i not in Y} max(0, 1 - (y_pred[y_j] - y_pred[i])) / C per sample, "
        "y_j = y_true's class indices before its first -1"),
    Row("MultiMargin", "multi_margin", "multi_margin", _multi_margin, "multi_margin_loss",
        options=(("p", 1), ("margin", 1.0)), shapes="index", classification=True, index_targets=True,
        keras_native=False, formula="sum_{i != y} max(0, margin - y_pred[y] + y_pred[i])**p / C per sample",
        extra_doc="``y_true``: one class index per sample, ``(N,)`` (or ``(N, 1)``); torch's "
        "``MultiMarginLoss`` without its class ``weight``."),
    # ---- probabilistic: keras's Poisson is poisson_nll_loss on rates with eps = epsilon()
    Row("Poisson", "poisson", "poisson", _poisson, "poisson_nll_loss",
        formula="mean(y_pred - y_true * log(y_pred + eps), axis=-1)",
        checks=(Check("poisson_rate", ({}, {"reduction": "sum"}, {"reduction": "none"})),
                Check("poisson_rate+sw", ({}, {"reduction": "mean_with_sample_weight"})))),
    Row("", "gaussian_nll", "gaussian_nll", _gaussian_nll, "gaussian_nll_loss",
        options=(("full", False), ("eps", 1e-6)), inputs=("y_true", "y_pred", "var"), keras_native=False,
        formula="mean(0.5 * (log(v) + (y_pred - y_true)**2 / v), axis=-1), v = max(var, eps)",
        extra_doc="Function form only (three arrays); ``var``: ``y_pred``'s shape, that shape without "
        "its last axis, or with one axis of size 1, or a number (torch's ``GaussianNLLLoss``); "
        "``full=True`` adds 0.5 log(2 pi)."),
    # ---- sequence family: y_true (N, S) labels padded with 0 (the blank), y_pred (N, T, C) logits
    Row("CTC", "ctc", "ctc", _ctc, "ctc_loss", shapes="any", index_targets=True,
        formula="-log sum over alignments of prod_t softmax(y_pred)[t, pi_t], blank 0, per sample",
        checks=(Check("ctc_logits", ({}, {"reduction": "sum"}, {"reduction": "none"}), tolerance=_CTC_F64,
                      reason=_CTC_F32),
                Check("ctc_logits+sw", ({"reduction": "mean_with_sample_weight"},), tolerance=_CTC_F64,
                      reason=_CTC_F32))),
    # ---- embedding family: keras has none (extras, function form only: three arrays)
    Row("", "cosine_embedding", "cosine_embedding", _cosine_embedding, "cosine_embedding_loss",
        options=(("margin", 0.0),), inputs=("y_pred1", "y_pred2", "y_true"), keras_native=False,
        formula="1 - cos(y_pred1, y_pred2) if y_true == 1 else max(0, cos(y_pred1, y_pred2) - margin), per pair",
        extra_doc="``y_pred1``, ``y_pred2``: embeddings ``(N, D)``; ``y_true``: ``(N,)`` labels in {-1, 1} "
        "(torch's ``CosineEmbeddingLoss``)."),
    Row("", "triplet_margin", "triplet_margin", _triplet_margin, "triplet_margin_loss",
        options=(("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False)),
        inputs=("anchor", "positive", "negative"), keras_native=False,
        formula="max(0, margin + ||a - p + eps||_p - ||a - n + eps||_p), per triplet",
        extra_doc="Embeddings ``(N, D)`` each (torch's ``TripletMarginLoss``; ``swap=True`` uses the "
        "harder of d(a, n) and d(p, n))."),
    Row("", "triplet_margin_with_distance", "triplet_margin_with_distance", _triplet_margin_with_distance,
        "triplet_margin_with_distance_loss", options=(("distance_function", None), ("margin", 1.0), ("swap", False)),
        inputs=("anchor", "positive", "negative"), keras_native=False,
        formula="max(0, margin + d(a, p) - d(a, n)), per triplet, d = distance_function or pairwise distance",
        extra_doc="``distance_function(x1, x2)`` gets the tensors as given (torch's "
        "``TripletMarginWithDistanceLoss``)."),
)

_KP = "multiloss.backends.keras_parametric"
# losses that own weights: keras layers (keras has neither loss), exported by multiloss.keras
HANDWRITTEN: tuple[HandWritten, ...] = (
    HandWritten("LinearCrossEntropy", f"{_KP}:LinearCrossEntropy", "linear_cross_entropy"),
    HandWritten("AdaptiveLogSoftmaxWithLoss", f"{_KP}:AdaptiveLogSoftmaxWithLoss", "adaptive_log_softmax_with_loss"),
)
