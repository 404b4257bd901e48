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

from .. import losses as L
from ._rows import Check, lazy_module

__all__ = ["Row", "TABLE"]

keras = lazy_module("keras", globals(), "keras")

_ALL_RED = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_RED = tuple({"reduction": r} for r in _ALL_RED)
_RED_SW = ({}, {"reduction": "sum"}, {"reduction": "mean_with_sample_weight"}, {"reduction": "none"})


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
        extra_doc="The seed's binary focal loss (defaults gamma=2, alpha=0.75); BCE clamps log at -100 as the "
        "canonical ``multiloss.focal_loss``. keras's nearest is ``BinaryFocalCrossentropy`` "
        "(alpha only with ``apply_class_balancing``)."),
    Row("SCELoss", "sce_loss", "sce_loss", _sce, "sce_loss",
        options=(("alpha", 0.1), ("beta", 1.0), ("from_logits", True)), shapes="any", classification=True,
        formula="alpha * CE(y, p) + beta * RCE(y, p) per sample, class axis last", keras_native=False,
        extra_doc="Symmetric cross-entropy (Wang et al. 2019); ``y_true`` class indices ``(N,)`` or "
        "probabilities/one-hot ``(N, C)``; ``from_logits=False`` takes probabilities (their log is used "
        "as logits)."),
)
