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

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .. import _ops
from .. import losses as L
from .._validation import check_nonnegative
from ..losses.classification import _binary_focal_weight
from ..losses.segmentation import normalize_axes
from ._rows import Check, HandWritten, lazy_module

__all__ = ["Row", "TABLE", "HANDWRITTEN"]

keras = lazy_module("keras", globals(), "keras")

_ALL_RED = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_RED = tuple({"reduction": r} for r in _ALL_RED)
_RED_SW: tuple[dict[str, str], ...] = ({}, {"reduction": "sum"}, {"reduction": "mean_with_sample_weight"}, {"reduction": "none"})
# keras's TF backend runs CTC in float32 for float64 input (keras/src/backend/tensorflow/nn.py)
_CTC_F32 = "keras computes CTC in float32 even for float64 input; multiloss keeps float64"
_CTC_F64 = {"float64": (2e-5, 1e-6)}
# keras log_cosh subtracts ops.log(2.0) computed in float32, then cast to the loss dtype
# (keras/src/losses/losses.py): in float64 every value is 1.9e-9 below log cosh (log_cosh(0) < 0)
_LOG2_F32_WHY = "keras's log(2) constant is float32 even in float64: 1.9e-9 off per value"
_LOG2_F32 = {"float64": (1e-10, 4e-8)}  # sums of up to 8 values, sample weights <= 2


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
        y_true = xp.astype(y_true, _int64(xp))  # keras casts labels to int64
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
        target = y_true if xp.isdtype(y_true.dtype, "integral") else xp.astype(y_true, _int64(xp))
    return L.sce_loss(_class_axis_to_1(xp, logits, -1), target, alpha=alpha, beta=beta, reduction="none")


def _index_labels(xp, y):
    """Class indices as integers: keras's ``Loss.__call__`` casts ``y_true`` to the loss dtype."""
    return y if xp.isdtype(y.dtype, "integral") else xp.astype(y, _int64(xp))


def _int64(xp):
    """keras's int64 labels: int32 on jax without ``jax_enable_x64`` (asking jax for int64 there
    warns "dtype int64 requested in astype is not available", once per call; native keras's
    labels are int32 there: no warning)."""
    if xp.__name__ == "jax.numpy":
        import jax

        if not jax.config.jax_enable_x64:
            return xp.int32
    return xp.int64


def _binary_focal(xp, y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                  label_smoothing=0.0, axis=-1):
    # keras/src/losses/losses.py binary_focal_crossentropy on its TF backend: labels smoothed
    # towards 0.5; the BCE is ops.binary_crossentropy (from the logits when y_pred carries them,
    # i.e. from_logits=True or a sigmoid output; else of y_pred clipped to [eps, 1 - eps]); the
    # focal factor (1 - p_t)**gamma of y_pred itself, unclipped (multiloss: in log space from
    # logits, so gamma < 1 keeps finite gradients where keras's float32 sigmoid rounds to 1)
    fn = "binary_focal_crossentropy"
    if not (isinstance(gamma, (int, float)) and gamma >= 0):
        raise ValueError(f"{fn}: argument `gamma` must be a float >= 0. Received: gamma={gamma!r}")
    a = alpha if apply_class_balancing else None
    if a is not None and not (isinstance(a, (int, float)) and 0 <= a <= 1):
        raise ValueError(f"{fn}: argument `alpha` must be a float in [0, 1]. Received: alpha={alpha!r}")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if not from_logits:
        from .keras import _keras_logits  # keras's _get_logits (TF tensors only)

        y_pred, from_logits = _keras_logits(y_pred, "Sigmoid", False, fn)
    if from_logits:
        loss = L.focal_loss(y_pred, y_true, alpha=a, gamma=gamma, from_logits=True, reduction="none")
    else:
        eps = _eps()
        loss = L.binary_cross_entropy(xp.clip(y_pred, eps, 1.0 - eps), y_true, reduction="none")
        weight = _binary_focal_weight(xp, y_pred, y_true, gamma, False)
        if weight is not None:
            loss = loss * weight
        if a is not None:
            loss = (a * y_true + (1 - a) * (1 - y_true)) * loss
    return xp.mean(loss, axis=axis)


def _categorical_focal(xp, y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    # keras categorical_focal_crossentropy: smoothing over y_true.shape[-1] classes; softmax of
    # logits (no logits shortcut), then p / sum(p) clipped to [eps, 1 - eps]; alpha multiplies
    # each term (a list broadcasts against the last axis), which is multiplying y_true by it
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = _ops.softmax(xp, y_pred, axis=axis)
    eps = _eps()
    p = xp.clip(y_pred / xp.sum(y_pred, axis=axis, keepdims=True), eps, 1.0 - eps)
    if alpha is not None and not isinstance(alpha, (int, float)):
        # keras converts a list to a floatx() (float32) tensor before promoting it
        a = alpha if hasattr(alpha, "dtype") else xp.asarray(alpha, dtype=getattr(xp, keras.backend.floatx()))
        y_true = y_true * (a if a.dtype == y_pred.dtype else xp.astype(a, y_pred.dtype))
        alpha = 1.0
    return L.categorical_focal_crossentropy(_class_axis_to_1(xp, p, axis), _class_axis_to_1(xp, y_true, axis),
                                            alpha=alpha, gamma=gamma, reduction="none")


def _generalized_ce(xp, y_true, y_pred, q=0.5):
    # keras categorical_generalized_cross_entropy: y_true integer class indices (cast to int),
    # y_pred probabilities with the classes last, (1 - p_y**q) / q
    return L.categorical_generalized_cross_entropy(_class_axis_to_1(xp, y_pred, -1), _index_labels(xp, y_true), q=q,
                                                   reduction="none")


def _check_gce_options(fn, opts):
    # keras's CategoricalGeneralizedCrossEntropy.__init__ raises for q outside (0, 1); its
    # function does not check (the canonical loss then requires q in (0, 1])
    q = opts.get("q")
    if fn == "CategoricalGeneralizedCrossEntropy" and not (
            isinstance(q, (int, float)) and not isinstance(q, bool) and 0 < q < 1):
        raise ValueError(f"{fn}: argument `q` must be in the interval (0, 1). Received: q={q!r}")


def _poly(xp, y_true, y_pred, epsilon=2.0, from_logits=True, axis=-1):
    logits = y_pred if from_logits else xp.log(xp.clip(y_pred, _eps(), 1.0))
    return L.poly_loss_cross_entropy(_class_axis_to_1(xp, logits, axis), _class_axis_to_1(xp, y_true, axis),
                                     epsilon=epsilon, reduction="none")


def _safe_cce(xp, y_true, y_pred, axis=-1):
    return L.safe_softmax_cross_entropy(_class_axis_to_1(xp, y_pred, axis), _class_axis_to_1(xp, y_true, axis),
                                        reduction="none")


def _margin_ranking(xp, y_pred1, y_pred2, y_true, margin=0.0):
    loss = L.margin_ranking_loss(y_pred1, y_pred2, y_true, margin=margin, reduction="none")
    return xp.mean(loss, axis=-1)


def _multilabel_soft_margin(xp, y_true, y_pred):
    return L.multilabel_soft_margin_loss(y_pred, y_true, reduction="none")  # already a mean over classes


def _multilabel_margin(xp, y_true, y_pred):
    return L.multilabel_margin_loss(y_pred, _index_labels(xp, y_true), reduction="none")


def _multi_margin(xp, y_true, y_pred, p=1, margin=1.0):
    return L.multi_margin_loss(y_pred, _index_labels(xp, y_true), p=p, margin=margin, reduction="none")


def _categorical_hinge(xp, y_true, y_pred):
    # keras categorical_hinge: class axis last, moved to the canonical axis 1
    return L.categorical_hinge(_class_axis_to_1(xp, y_pred, -1), _class_axis_to_1(xp, y_true, -1), reduction="none")


def _class_index_body(canonical):
    """A loss of scores (class axis last) and one class index per sample (an extra)."""
    def body(xp, y_true, y_pred):
        return canonical(_class_axis_to_1(xp, y_pred, -1), _index_labels(xp, y_true), reduction="none")

    return body


def _poisson(xp, y_true, y_pred):
    # keras poisson: y_pred - y_true * log(y_pred + epsilon()), epsilon read at call time;
    # counts must be >= 0 (keras does not check; the canonical loss does, named in keras's terms here)
    check_nonnegative(xp, "poisson", "y_true", y_true, what="Poisson counts")
    return xp.mean(L.poisson_nll_loss(y_pred, y_true, log_input=False, eps=_eps(), reduction="none"), axis=-1)


def _msle(xp, y_true, y_pred):
    # keras mean_squared_logarithmic_error: both clipped below at epsilon(), read at call time
    return xp.mean(L.mean_squared_logarithmic_error(y_pred, y_true, epsilon=_eps(), reduction="none"), axis=-1)


def _generalized_kld(xp, y_true, y_pred):
    # keras style (as KLDivergence): y_pred holds the (unnormalized) measure itself, clipped
    # below at epsilon() before its log; the divergence is summed over the last axis
    p = xp.where(y_pred >= _eps(), y_pred, _eps())
    return xp.sum(L.generalized_kl_divergence(xp.log(p), y_true, reduction="none"), axis=-1)


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


def _ref_array(xp, v, like):
    """A reference array given to the function form (a list / NumPy array) as ``like``'s kind."""
    return None if v is None else xp.asarray(v, device=getattr(like, "device", None))


def _circle(xp, y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    # keras/src/losses/losses.py `circle`: labels cast to int32, the embeddings used as given
    # (keras expects UnitNormalization outputs: no normalisation here), and the per-sample loss
    # masked where it is 0 (set_keras_mask(loss, loss > 0)): sum_over_batch_size divides by
    # the number of anchors with a nonzero loss (keras/src/losses/loss.py apply_mask)
    labels = xp.astype(y_true, xp.int32)
    if ref_labels is not None:
        ref_labels = xp.astype(_ref_array(xp, ref_labels, y_pred), xp.int32)
    if ref_embeddings is not None:
        ref_embeddings = xp.astype(_ref_array(xp, ref_embeddings, y_pred), y_pred.dtype)
    loss = L.circle(y_pred, labels, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal, normalize=False,
                    reduction="none", ref_embeddings=ref_embeddings, ref_labels=ref_labels)
    _set_keras_mask(loss, loss > 0)
    return loss


def _ntxent(xp, y_true, y_pred, temperature=0.07):
    # per anchor i: (N / P) sum_j l_ij over its positives (P: the batch's positive pairs), so
    # that keras's sum_over_batch_size mean is optax's ntxent (the mean over the pairs)
    pair = L.ntxent(y_pred, y_true, temperature=temperature, reduction="none")
    n = pair.shape[0]
    same = xp.expand_dims(y_true, axis=1) == xp.expand_dims(y_true, axis=0)
    n_pos = xp.sum(xp.astype(same, pair.dtype)) - n
    return xp.sum(pair, axis=1) * (n / n_pos)


def _ranking_softmax(xp, y_true, y_pred):
    return L.ranking_softmax_loss(y_pred, y_true, reduction="none")


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


def _check_overlap_options(fn: str, opts: dict) -> None:
    """keras Dice / Tversky options at construction: ``axis`` None, an int or a tuple (a list
    after a JSON round trip) of ints; Tversky's ``alpha`` and ``beta`` >= 0 (keras documents
    them as weights; it does not check them)."""
    axis = opts.get("axis")
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    if axis is not None and any(isinstance(a, bool) or not isinstance(a, int) for a in items):
        raise ValueError(f"{fn}: argument `axis` must be None, an int or a tuple of ints. Received: axis={axis!r}")
    for name in ("alpha", "beta"):
        v = opts.get(name, 0.0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            raise ValueError(f"{fn}: argument `{name}` must be a float >= 0. Received: {name}={v!r}")


def _dice(xp, y_true, y_pred, axis=None):
    # keras/src/losses/losses.py dice: 1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)
    # over `axis` (None: every axis, the batch included) = Tversky(1/2, 1/2) with eps / 2
    axes = normalize_axes("dice", axis, len(y_pred.shape))
    return L.tversky(y_pred, y_true, 0.5, 0.5, axis=axes, smooth=0.0, epsilon=_eps() / 2, reduction="none")


def _tversky(xp, y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    # keras/src/losses/losses.py tversky names y_true `inputs` and y_pred `targets`: its
    # `fp = sum((1 - targets) * inputs)` is sum((1 - y_pred) * y_true), the false negatives,
    # weighted by `alpha`. The canonical `alpha` weighs the false positives (Salehi et al.,
    # optax): keras's alpha and beta trade places here.
    axes = normalize_axes("tversky", axis, len(y_pred.shape))
    return L.tversky(y_pred, y_true, beta, alpha, axis=axes, smooth=0.0, epsilon=_eps(), reduction="none")


def _generalized_dice(xp, y_true, y_pred, smooth=1.0, ignore_background=False):
    # class axis last (keras), moved to the canonical axis 1; one value per sample: the mean
    # over its classes (keras's mean over the batch then equals optax's scalar)
    loss = L.multiclass_generalized_dice_loss(_class_axis_to_1(xp, y_pred, -1), _class_axis_to_1(xp, y_true, -1),
                                              smooth=smooth, ignore_background=ignore_background, reduction="none")
    return xp.mean(loss, axis=-1)


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
    classification: bool = False  # (N, C) scores in y_true and (N,) labels in y_pred look swapped
    index_targets: bool = False
    # input policy (docs/input-policy.md): the arguments keras's *function* takes as Python lists
    # (its sparse_categorical_crossentropy reads ``y_true.shape`` of a list, its
    # categorical_generalized_cross_entropy ``y_pred.dtype``, its ctc fails on list labels). Its
    # classes take lists only as both arguments, of one nesting (multiloss.backends.keras).
    lists: tuple[str, ...] = ("y_true", "y_pred")
    logits_op: str = ""  # keras activation whose logits replace y_pred (from_logits=False)
    reduction_after: tuple = ()  # options placed after `reduction` in keras's signature
    name_after: tuple = ()  # options placed after `name` (before `dtype`): keras's Dice, Tversky
    # the function form's options when keras's function and class differ in order, defaults or
    # extra arguments (keras's `circle(y_true, y_pred, ref_labels=None, ...)`); None: `options`
    fn_options: tuple | None = None
    # construction-time checks of the options, (fn, options) -> None, replacing the generic
    # integer `axis` check (Dice/Tversky take None or a tuple of axes)
    check_options: Callable[[str, dict], None] | None = None
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
    # float16: keras computes in the loss dtype (dtype="float16"), TF's log/softplus run in it
    Row("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error", "mean_squared_logarithmic_error", _msle,
        "mean_squared_logarithmic_error",
        formula="mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1)",
        checks=(Check("regression_positive", _RED), Check("regression", ({}, {"reduction": "none"})),
                Check("regression_positive+sw", _RED_SW),
                Check("regression_positive", ({}, {"reduction": "none"}), dtypes=("float16",))),
        fn_checks=(Check("regression_positive", ({},)), Check("regression", ({},)))),
    Row("LogCosh", "log_cosh", "log_cosh", _elementwise(L.log_cosh), "log_cosh",
        formula="mean(log(cosh(y_pred - y_true)), axis=-1)",
        checks=(Check("regression", _RED, tolerance=_LOG2_F32, reason=_LOG2_F32_WHY),
                Check("regression+sw", _RED_SW, tolerance=_LOG2_F32, reason=_LOG2_F32_WHY),
                Check("regression", ({}, {"reduction": "none"}), dtypes=("float16",)))),
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
        shapes="index", classification=True, index_targets=True, logits_op="Softmax", lists=(),
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
        fn_checks=(Check("class_index", ({"from_logits": True},)), Check("probs_index", ({},))),
        # keras 3.15: the TF backend raises "Only axis=-1 is currently supported"
        # (keras/src/backend/tensorflow/nn.py sparse_categorical_crossentropy), the jax backend
        # fails its shape check, the torch backend moves the class axis to 1 (backend/torch/nn.py)
        extra_doc="``axis`` (the class axis of ``y_pred``; default -1): any axis, on every backend. "
        "An extension: keras computes ``axis != -1`` only on its torch backend (its TensorFlow backend "
        "raises \"Only axis=-1 is currently supported\", its jax backend a shape error); multiloss gives "
        "keras-on-torch's numbers everywhere (the class axis moved into place, then the loss; "
        "``y_true`` has ``y_pred``'s shape without that axis). Pinned by "
        "``tests/test_drop_in_errors.py::test_keras_scce_axis_extension``."),
    Row("KLDivergence", "kl_divergence", "kl_divergence", _kld, "kl_div",
        formula="sum(y * log(y / p), axis=-1), y and p clipped to [eps, 1]",
        checks=(Check("probs_probs", ({}, {"reduction": "sum"}, {"reduction": "none"})),
                Check("probs_probs+sw", ({"reduction": "mean_with_sample_weight"},)))),
    # keras has no generalized KL (optax's generalized_kl_divergence): a function-only extra
    # taking the measure itself, as keras's KLDivergence takes probabilities
    Row("", "generalized_kl_divergence", "generalized_kl_divergence", _generalized_kld, "generalized_kl_divergence",
        keras_native=False, formula="sum(y_true * log(y_true / p) - y_true + p, axis=-1), p = max(y_pred, eps)",
        extra_doc="``y_pred``: the predicted non-negative (unnormalized) measure, clipped below at "
        "``keras.backend.epsilon()`` before its log; ``y_true``: non-negative, ``0 log 0 = 0``. The sum over the "
        "last axis of ``multiloss.generalized_kl_divergence(log(p), y_true)`` (optax's "
        "``generalized_kl_divergence`` takes the log of the measure)."),
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
    # keras/src/losses/losses.py squared_hinge (labels {0, 1} mapped as Hinge) and categorical_hinge
    Row("SquaredHinge", "squared_hinge", "squared_hinge", _elementwise(L.squared_hinge), "squared_hinge",
        classification=True, formula="mean(max(1 - y * p, 0)**2, axis=-1), labels {0, 1} mapped to {-1, 1}",
        checks=(Check("hinge", ({}, {"reduction": "none"}, {"reduction": "sum"}, {"reduction": "mean"})),
                Check("hinge01", ({}, {"reduction": "none"})),
                Check("hinge+sw", ({}, {"reduction": "mean_with_sample_weight"})),
                Check("hinge", ({}, {"reduction": "none"}), dtypes=("float16", "bfloat16")))),
    Row("CategoricalHinge", "categorical_hinge", "categorical_hinge", _categorical_hinge, "categorical_hinge",
        classification=True, formula="max(max((1 - y) * p, axis=-1) - sum(y * p, axis=-1) + 1, 0)",
        checks=(Check("categorical_hinge", _RED), Check("categorical_hinge_soft", ({}, {"reduction": "none"})),
                Check("categorical_hinge+sw", _RED_SW),
                Check("categorical_hinge", ({}, {"reduction": "none"}), dtypes=("float16", "bfloat16")))),
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
    # ---- keras's focal and generalized cross-entropies; optax's poly and safe softmax
    # cross-entropies as keras-style extras
    Row("BinaryFocalCrossentropy", "binary_focal_crossentropy", "binary_focal_crossentropy", _binary_focal,
        "focal_loss",
        options=(("apply_class_balancing", False), ("alpha", 0.25), ("gamma", 2.0), ("from_logits", False),
                 ("label_smoothing", 0.0), ("axis", -1)),
        shapes="same", classification=True,
        formula="mean(alpha_t (1 - p_t)**gamma * BCE(p, y), axis), alpha_t only with apply_class_balancing, "
        "the BCE's p clipped to [eps, 1 - eps]",
        checks=(
            Check("probabilities", ({}, {"gamma": 0.5}, {"apply_class_balancing": True},
                                    {"apply_class_balancing": True, "alpha": 0.6, "gamma": 3.0},
                                    {"label_smoothing": 0.1}, {"axis": 0}, {"reduction": "none"},
                                    {"reduction": "sum"})),
            Check("probabilities_soft", ({}, {"apply_class_balancing": True, "reduction": "none"})),
            # probabilities 0 and 1: keras clips them inside its BCE only
            Check("probabilities_edges", ({}, {"apply_class_balancing": True, "gamma": 3.0})),
            Check("logits_binary", ({"from_logits": True}, {"from_logits": True, "gamma": 0.5},
                                    {"from_logits": True, "apply_class_balancing": True, "label_smoothing": 0.2},
                                    {"from_logits": True, "axis": 0}, {"from_logits": True, "reduction": "none"})),
            Check("logits_binary+sw", ({"from_logits": True},
                                       {"from_logits": True, "reduction": "mean_with_sample_weight"})),
            Check("probabilities", ({}, {"apply_class_balancing": True, "reduction": "none"}),
                  dtypes=("float16", "bfloat16")),
            Check("logits_binary", ({"from_logits": True},), dtypes=("float16", "bfloat16")),
        ),
        fn_checks=(Check("probabilities", ({}, {"apply_class_balancing": True, "gamma": 0.5})),
                   Check("logits_binary", ({"from_logits": True, "label_smoothing": 0.1},)))),
    Row("CategoricalFocalCrossentropy", "categorical_focal_crossentropy", "categorical_focal_crossentropy",
        _categorical_focal, "categorical_focal_crossentropy",
        options=(("alpha", 0.25), ("gamma", 2.0), ("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)),
        shapes="same", classification=True,
        formula="sum(-alpha (1 - p)**gamma * y * log p, axis), p = softmax(logits) or y_pred / sum(y_pred), "
        "clipped to [eps, 1 - eps]",
        checks=(
            Check("probs_onehot", ({}, {"gamma": 0.5, "alpha": 0.5}, {"alpha": [0.1, 0.3, 0.2, 0.25, 0.15]},
                                   {"label_smoothing": 0.1}, {"axis": 0}, {"reduction": "none"},
                                   {"reduction": "sum"})),
            Check("class_onehot", ({"from_logits": True}, {"from_logits": True, "gamma": 0.0, "alpha": 1.0},
                                   {"from_logits": True, "label_smoothing": 0.2, "reduction": "none"},
                                   {"from_logits": True, "axis": 0})),
            Check("class_prob", ({"from_logits": True}, {"from_logits": True, "gamma": 0.5})),
            Check("class_onehot+sw", ({"from_logits": True},
                                      {"from_logits": True, "reduction": "mean_with_sample_weight"})),
            Check("probs_onehot", ({}, {"reduction": "none"}), dtypes=("float16", "bfloat16")),
        ),
        fn_checks=(Check("probs_onehot", ({}, {"gamma": 0.5, "label_smoothing": 0.1})),
                   Check("class_onehot", ({"from_logits": True},)))),
    Row("CategoricalGeneralizedCrossEntropy", "categorical_generalized_cross_entropy",
        "categorical_generalized_cross_entropy", _generalized_ce, "categorical_generalized_cross_entropy",
        # keras's function has no default q; its class refuses q outside (0, 1)
        options=(("q", 0.5),), fn_options=(("q", inspect.Parameter.empty),), check_options=_check_gce_options,
        shapes="index", classification=True, index_targets=True, lists=("y_true",),
        formula="(1 - p[y]**q) / q per sample; y_true integer class indices, y_pred probabilities (classes last)",
        checks=(Check("probs_index", ({}, {"q": 0.2}, {"q": 0.9}, {"reduction": "none"}, {"reduction": "sum"})),
                Check("probs_index+sw", ({}, {"reduction": "mean_with_sample_weight"})),
                Check("probs_index", ({}, {"reduction": "none"}), dtypes=("float16", "bfloat16"))),
        fn_checks=(Check("probs_index", ({"q": 0.5}, {"q": 1.0})),),
        extra_doc="``y_true`` of shape ``(N,)`` or ``(N, 1)``: keras's own function broadcasts an ``(N, 1)`` "
        "against the one-hot labels into an ``(N, N)`` loss; multiloss reads it as ``(N,)``."),
    Row("PolyCrossentropy", "poly_crossentropy", "poly_crossentropy", _poly, "poly_loss_cross_entropy",
        options=(("epsilon", 2.0), ("from_logits", True), ("axis", -1)), shapes="same", classification=True,
        keras_native=False,
        formula="-sum(y * log p, axis) + epsilon * sum(y * (1 - p), axis), p = softmax(y_pred)",
        extra_doc="PolyLoss (Leng et al. 2022; optax's ``poly_loss_cross_entropy``): ``y_true`` one-hot or "
        "probabilities of ``y_pred``'s shape; ``from_logits=False`` takes probabilities (their log is used "
        "as logits)."),
    Row("SafeCategoricalCrossentropy", "safe_categorical_crossentropy", "safe_categorical_crossentropy", _safe_cce,
        "safe_softmax_cross_entropy", options=(("axis", -1),), shapes="same", classification=True,
        keras_native=False,
        formula="-sum(y * log softmax(y_pred), axis) with 0 log 0 = 0 (a -inf logit whose label is 0 adds nothing)",
        # the same numbers as keras's CategoricalCrossentropy(from_logits=True) on finite logits
        native="CategoricalCrossentropy", native_options={"from_logits": True},
        checks=(Check("class_onehot", ({}, {"reduction": "none"}, {"reduction": "sum"})),
                Check("class_prob", ({},)),
                Check("class_onehot+sw", ({}, {"reduction": "mean_with_sample_weight"})),
                Check("class_onehot", ({},), dtypes=("float16", "bfloat16"))),
        extra_doc="optax's ``safe_softmax_cross_entropy``: ``y_pred`` logits, ``y_true`` one-hot or "
        "probabilities of its shape; finite where ``CategoricalCrossentropy(from_logits=True)`` gives nan "
        "(a masked class: logit -inf, label 0)."),
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
    # optax's multiclass_hinge_loss, perceptron_loss, multiclass_perceptron_loss: keras has none
    Row("MulticlassHinge", "multiclass_hinge", "multiclass_hinge", _class_index_body(L.multiclass_hinge_loss),
        "multiclass_hinge_loss", shapes="index", classification=True, index_targets=True, keras_native=False,
        formula="max(y_pred + 1 - one_hot(y_true), axis=-1) - y_pred[y_true] per sample",
        extra_doc="Crammer-Singer hinge ``max(0, 1 + max_{c != y} y_pred[c] - y_pred[y])``; ``y_true``: one "
        "class index per sample, ``(N,)`` (or ``(N, 1)``); optax's ``multiclass_hinge_loss`` "
        "(``CategoricalHinge`` floors the maximum at 0)."),
    Row("Perceptron", "perceptron", "perceptron", _elementwise(L.perceptron_loss), "perceptron_loss",
        classification=True, keras_native=False, formula="mean(max(0, -y_true * y_pred), axis=-1), labels in {-1, 1}",
        extra_doc="optax's ``perceptron_loss`` averaged over the last axis; the gradient at ``y_pred == 0`` "
        "is ``-y_true / 2`` per element (optax's)."),
    Row("MulticlassPerceptron", "multiclass_perceptron", "multiclass_perceptron",
        _class_index_body(L.multiclass_perceptron_loss), "multiclass_perceptron_loss", shapes="index",
        classification=True, index_targets=True, keras_native=False,
        formula="max(y_pred, axis=-1) - y_pred[y_true] per sample",
        extra_doc="``y_true``: one class index per sample, ``(N,)`` (or ``(N, 1)``); optax's "
        "``multiclass_perceptron_loss``."),
    # optax's sparsemax losses: keras has none (keras 3 has the ops.sparsemax activation only, hence
    # the "Loss" suffix: multiloss.keras.sparsemax would read as that activation); FenchelYoungLoss,
    # which takes a function, is hand-written (HANDWRITTEN below)
    Row("SparsemaxLoss", "sparsemax_loss", "sparsemax_loss", _elementwise(L.sparsemax_loss), "sparsemax_loss",
        shapes="same", classification=True, keras_native=False,
        formula="mean(sparse_plus(-y_pred) if y_true == 1 else sparse_plus(y_pred), axis=-1)",
        extra_doc="optax's binary ``sparsemax_loss`` averaged over the last axis; ``y_pred`` logits, ``y_true`` "
        "labels in {0, 1}; ``sparse_plus(z)`` is 0 below -1, ``(z + 1)**2 / 4`` on (-1, 1), ``z`` above 1."),
    Row("MulticlassSparsemaxLoss", "multiclass_sparsemax_loss", "multiclass_sparsemax_loss",
        lambda xp, y_true, y_pred, axis=-1: L.multiclass_sparsemax_loss(
            y_pred, _index_labels(xp, y_true), axis=axis, reduction="none"),
        "multiclass_sparsemax_loss", options=(("axis", -1),), shapes="index", classification=True,
        index_targets=True, keras_native=False,
        formula="sum(p * (y_pred - y_pred[y_true])) + (1 - sum(p**2)) / 2 per sample, p = sparsemax(y_pred, axis)",
        extra_doc="optax's ``multiclass_sparsemax_loss``: ``y_pred`` scores, ``y_true`` one class index per sample "
        "``(N,)`` (or ``(N, 1)``); ``p`` is ``keras.ops.sparsemax``'s projection onto the simplex, zero outside "
        "its support."),
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
    Row("CTC", "ctc", "ctc", _ctc, "ctc_loss", shapes="any", index_targets=True, lists=("y_pred",),
        formula="-log sum over alignments of prod_t softmax(y_pred)[t, pi_t], blank 0, per sample",
        checks=(Check("ctc_logits", ({}, {"reduction": "sum"}, {"reduction": "none"}), tolerance=_CTC_F64,
                      reason=_CTC_F32),
                Check("ctc_logits+sw", ({"reduction": "mean_with_sample_weight"},), tolerance=_CTC_F64,
                      reason=_CTC_F32))),
    # ---- embedding family, batch losses: labels in y_true, embeddings in y_pred; keras's
    # function `circle` differs from its class in order and defaults (fn_options)
    Row("Circle", "circle", "circle", _circle, "circle",
        options=(("gamma", 80.0), ("margin", 0.4), ("remove_diagonal", True)),
        fn_options=(("ref_labels", None), ("ref_embeddings", None), ("remove_diagonal", True), ("gamma", 80),
                    ("margin", 0.4)),
        shapes="any", classification=True, index_targets=True,
        formula="softplus(lse_pos(-gamma [m + d]_+ (m - d)) + lse_neg(gamma [1 + m - d]_+ (1 - m - d))) per anchor, "
        "d = max(1 - y_pred @ ref.T, 0), pairs by label; 0-loss anchors masked out of the mean",
        checks=(Check("contrastive_batch", ({}, {"remove_diagonal": False}, {"gamma": 30.0, "margin": 0.25},
                                            {"reduction": "sum"}, {"reduction": "none"},
                                            {"reduction": "mean_with_sample_weight"})),
                Check("contrastive_batch+sw", ({}, {"reduction": "sum"}, {"reduction": "mean_with_sample_weight"})),
                # gamma=80 multiplies half precision's rounding of the distances 80-fold
                Check("contrastive_batch", ({"gamma": 4.0},), dtypes=("float16",))),
        fn_checks=(Check("contrastive_batch", ({}, {"gamma": 30, "margin": 0.25, "remove_diagonal": False})),),
        extra_doc="``y_true``: integer labels ``(N,)`` (cast to int32, as keras); ``y_pred``: L2-normalised "
        "embeddings ``(N, D)``, used as given (keras normalises nothing; ``multiloss.circle`` does by default). "
        "Anchors whose loss is 0 (no positive or no negative pair) carry a keras mask, so "
        "``sum_over_batch_size`` averages the others."),
    Row("NTXent", "ntxent", "ntxent", _ntxent, "ntxent", options=(("temperature", 0.07),), shapes="any",
        classification=True, index_targets=True, keras_native=False,
        formula="(N / P) sum_j l_ij per anchor i, l_ij = -log(e^s_ij / (e^s_ij + sum_{k: y_k != y_i} e^s_ik)), "
        "s = cos / temperature over the P positive pairs",
        extra_doc="NT-Xent (SimCLR; optax's ``ntxent``). ``y_true``: labels ``(N,)``, equal labels mark positive "
        "pairs; ``y_pred``: embeddings ``(N, D)``. Each anchor's value is scaled by N / P so that the default "
        "``sum_over_batch_size`` is optax's mean over the positive pairs."),
    Row("RankingSoftmax", "ranking_softmax", "ranking_softmax", _ranking_softmax, "ranking_softmax_loss",
        shapes="same", keras_native=False,
        formula="-sum(y_true * log_softmax(y_pred), axis=-1) per list",
        extra_doc="Listwise softmax cross-entropy (optax's ``ranking_softmax_loss``): ``y_pred`` item scores "
        "``(N, L)``, ``y_true`` relevance labels of the same shape; one value per list."),
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
    # ---- segmentation family: keras's Dice and Tversky are the canonical tversky (keras's alpha
    # and beta swapped, see _tversky); "+sw" on per-sample losses (axis (1,)); float16: keras
    # sums in float16, multiloss in float32
    Row("Dice", "dice", "dice", _dice, "tversky", name_after=(("axis", None),), shapes="same",
        check_options=_check_overlap_options,
        formula="1 - 2 sum(y_true * y_pred, axis) / (sum(y_true, axis) + sum(y_pred, axis) + eps)",
        checks=(Check("seg_probs_last", ({}, {"axis": (1, 2, 3)}, {"axis": (1, 2, 3), "reduction": "none"},
                                         {"axis": [1, 2], "reduction": "sum"}, {"axis": (0, 1, 2), "reduction": "none"})),
                Check("seg_binary", ({"axis": 1}, {"axis": (1,), "reduction": "none"}, {"reduction": "sum"})),
                Check("seg_binary+sw", ({"axis": (1,)}, {"axis": (1,), "reduction": "mean_with_sample_weight"})),
                Check("seg_probs_last", ({"axis": (1, 2, 3), "reduction": "none"}, {}), dtypes=("float16",),
                      tolerance={"float16": (2e-2, 2e-3)},
                      reason="keras sums the masks in float16, multiloss in float32")),
        fn_checks=(Check("seg_probs_last", ({}, {"axis": (1, 2, 3)})), Check("seg_binary", ({"axis": -1},))),
        extra_doc="``axis``: the axes summed (``None``: every axis, one Dice for the whole batch, keras's "
        "default); ``y_pred`` probabilities and ``y_true`` masks of one shape."),
    Row("Tversky", "tversky", "tversky", _tversky, "tversky", options=(("alpha", 0.5), ("beta", 0.5)),
        name_after=(("axis", None),), shapes="same", check_options=_check_overlap_options,
        formula="1 - TP / (TP + alpha * sum((1 - y_pred) * y_true) + beta * sum(y_pred * (1 - y_true)) + eps), "
        "sums over axis",
        checks=(Check("seg_probs_last", ({}, {"alpha": 0.3, "beta": 0.7}, {"alpha": 0.9, "beta": 0.2, "axis": (1, 2, 3)},
                                         {"alpha": 0.1, "beta": 0.6, "axis": (1, 2, 3), "reduction": "none"},
                                         {"axis": (0, 1, 2), "reduction": "none"})),
                Check("seg_binary", ({"alpha": 0.7, "beta": 0.3, "axis": 1}, {"axis": (1,), "reduction": "none"})),
                Check("seg_binary+sw", ({"alpha": 0.2, "beta": 0.8, "axis": (1,)},
                                        {"axis": (1,), "reduction": "mean_with_sample_weight"})),
                Check("seg_probs_last", ({"alpha": 0.3, "beta": 0.7, "axis": (1, 2, 3), "reduction": "none"},),
                      dtypes=("float16",), tolerance={"float16": (2e-2, 2e-3)},
                      reason="keras sums the masks in float16, multiloss in float32")),
        fn_checks=(Check("seg_probs_last", ({}, {"alpha": 0.3, "beta": 0.7, "axis": (1, 2, 3)})),),
        extra_doc="keras's ``alpha`` multiplies ``sum((1 - y_pred) * y_true)`` (the false negatives, although "
        "keras documents it for the false positives) and ``beta`` ``sum(y_pred * (1 - y_true))``; both >= 0. "
        "``alpha = beta = 0.5`` is ``Dice``."),
    Row("GeneralizedDice", "generalized_dice", "generalized_dice", _generalized_dice,
        "multiclass_generalized_dice_loss", options=(("smooth", 1.0), ("ignore_background", False)), shapes="same",
        keras_native=False,
        formula="mean_c(w_c * (1 - (I_c + smooth) / ((P_c + T_c) / 2 + smooth))) per sample, sums over the spatial "
        "axes, w_c ~ 1 / freq_c**2 (mean 1) from the batch's y_true",
        extra_doc="optax's ``multiclass_generalized_dice_loss`` in keras style: ``y_pred`` class *probabilities* "
        "``(N, ..., C)`` (class axis last; apply the softmax first), ``y_true`` one-hot of that shape. The class "
        "weights come from the whole batch's ``y_true``; ``ignore_background`` drops class 0. With the default "
        "reduction it equals optax's scalar (``apply_softmax=False``)."),
)

_KP = "multiloss.backends.keras_parametric"
# losses that own weights: keras layers (keras has neither loss), exported by multiloss.keras
HANDWRITTEN: tuple[HandWritten, ...] = (
    HandWritten("LinearCrossEntropy", f"{_KP}:LinearCrossEntropy", "linear_cross_entropy"),
    HandWritten("AdaptiveLogSoftmaxWithLoss", f"{_KP}:AdaptiveLogSoftmaxWithLoss", "adaptive_log_softmax_with_loss"),
    # takes a function (the max function), serialised as keras serialises LossFunctionWrapper's fn
    HandWritten("FenchelYoungLoss", "multiloss.backends.keras_structured:FenchelYoungLoss", "fenchel_young_loss"),
    # its function form (listed under the class, as a table row's function is)
    HandWritten("fenchel_young_loss", "multiloss.backends.keras_structured:fenchel_young_loss"),
)
