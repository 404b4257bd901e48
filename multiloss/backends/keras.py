"""Keras 3 adapter: ``keras.losses`` drop-ins built from a table and one factory.

Each row of :data:`TABLE` names a keras loss (class name, function name, default ``name``,
the options of its constructor in keras's order and defaults) and how to compute it from a
canonical ``multiloss`` function (``y_pred`` first, ``reduction='none'``): input
transforms (keras's probability clipping, label smoothing, class axis moved to torch's
position 1), the canonical function, and keras's per-sample step (mean or sum over the last
axis). :func:`_make_function` turns a row into a keras-style function
(``mean_squared_error(y_true, y_pred)`` -> per-sample values) and :func:`_make_class` into a
``keras.losses.Loss`` subclass with keras's signature, ``get_config`` and serialisation
registration -- the idea of keras's own ``LossFunctionWrapper``
(``keras/src/losses/losses.py``), applied once to the whole table.

The classes inherit ``keras.losses.Loss.__call__``, so ``reduction`` (every keras value),
``sample_weight``, masks and ``tf.distribute`` scaling are keras's own
(``keras/src/losses/loss.py``). ``y_true`` comes first, as in keras.

Any keras backend works: the canonical functions dispatch on the arrays they get (TF
tensors -> ``multiloss.backends.tensorflow_namespace``; jax / torch arrays ->
array-api-compat).

Semantics reproduced from keras 3.15 (TensorFlow backend, ``keras/src/backend/tensorflow/
nn.py``) where they differ from the canonical (torch) ones:

* BCE on probabilities clips them to ``[eps, 1 - eps]`` (eps = ``keras.backend.epsilon()``)
  before the log (so the canonical -100 log clamp never triggers);
* CCE on probabilities divides them by their sum along ``axis`` and clips, then
  ``-sum(y_true * log p)``; SCCE on probabilities clips and takes ``log p`` as *logits*
  (``sparse_softmax_cross_entropy_with_logits(log(clip(p)))``);
* outputs of a keras ``sigmoid``/``softmax`` activation carry their logits
  (``_keras_logits``) and keras's TF backend uses them for BCE/CCE/SCCE with
  ``from_logits=False``; so does this adapter (TF tensors only, as keras);
* label smoothing: binary ``y * (1 - s) + s / 2``; categorical ``y * (1 - s) + s / K`` with
  ``K = y_true.shape[-1]``;
* ``KLDivergence`` clips both arguments to ``[eps, 1]`` and *sums* over the last axis;
* ``CosineSimilarity`` is negative and normalises with ``rsqrt(max(sum x^2, eps^2))``;
* ``Hinge`` maps labels that are all in {0, 1} to {-1, 1}.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import keras

from .. import losses as L
from .._namespace import array_namespace
from .._reduction import same_rank

__all__ = [
    "TABLE",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "Huber",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "CosineSimilarity",
    "Hinge",
    "FocalLoss",
    "SCELoss",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "huber",
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "kl_divergence",
    "cosine_similarity",
    "hinge",
    "focal_loss",
    "sce_loss",
    "L1",
    "L2",
    "L1L2",
]

_PACKAGE = "multiloss"
_PUBLIC_MODULE = "multiloss.keras"


def _eps() -> float:
    return float(keras.backend.epsilon())


# ----------------------------------------------------------------------------- helpers


def _shape(x) -> tuple:
    return tuple(None if d is None else int(d) for d in x.shape)


def _compatible(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _broadcastable(a: tuple, b: tuple) -> bool:
    for i in range(1, min(len(a), len(b)) + 1):
        x, y = a[-i], b[-i]
        if x is None or y is None or x == y or x == 1 or y == 1:
            continue
        return False
    return True


def _is_integer(x) -> bool:
    d = getattr(x, "dtype", None)
    name = getattr(d, "name", None) or str(d)
    name = name.replace("torch.", "")
    return name.startswith(("int", "uint")) or name == "bool"


def _is_floating(x) -> bool:
    d = getattr(x, "dtype", None)
    name = getattr(d, "name", None) or str(d)
    return "float" in name


def _to_tensor(x, dtype=None):
    """Lists, scalars and NumPy arrays become backend tensors (keras's function forms do the
    same); framework arrays are kept as they are."""
    if hasattr(x, "shape") and hasattr(x, "dtype") and type(x).__module__.split(".")[0] != "numpy":
        return x
    return keras.ops.convert_to_tensor(x, dtype=dtype)


def _keras_logits(y_pred, op_type: str, from_logits: bool, fn: str):
    """keras TF backend ``_get_logits``: an output of a keras sigmoid/softmax activation (or a
    graph tensor produced by that op) is replaced by its logits."""
    mod = type(y_pred).__module__
    if not mod.startswith("tensorflow"):
        return y_pred, from_logits
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is None:
        import tensorflow as tf

        op = getattr(y_pred, "op", None) if not isinstance(y_pred, (tf.Variable,)) and tf.is_symbolic_tensor(y_pred) else None
        if op is not None and op.type == op_type and len(op.inputs) == 1:
            logits = op.inputs[0]
    if logits is None:
        return y_pred, from_logits
    if from_logits:
        warnings.warn(
            f'"`{fn}` received `from_logits=True`, but the `output` argument was produced by a '
            f"{op_type} activation and thus does not represent logits. Was this intended?",
            stacklevel=3,
        )
    return logits, True


def _class_axis_to_1(xp, x, axis: int):
    """Move keras's class ``axis`` to torch's position 1 (the canonical class axis)."""
    if x.ndim <= 1:
        return x
    ax = axis % x.ndim
    return x if ax == 1 else xp.moveaxis(x, ax, 1)


# ----------------------------------------------------------------------------- checks


def _check_shapes(fn: str, kind: str, y_true, y_pred, axis: int = -1) -> None:
    st, sp = _shape(y_true), _shape(y_pred)
    if kind == "broadcast" and not _broadcastable(st, sp):
        raise ValueError(
            f"{fn}: Arguments `y_true` and `y_pred` must have broadcastable shapes (keras "
            f"computes elementwise, then averages the last axis). Received: "
            f"y_true.shape={st}, y_pred.shape={sp}"
        )
    if kind == "same" and not _compatible(st, sp):
        raise ValueError(
            f"{fn}: Arguments `y_true` and `y_pred` must have the same shape. Received: "
            f"y_true.shape={st}, y_pred.shape={sp}"
        )
    if kind == "index":
        if len(sp) < 1:
            raise ValueError(f"{fn}: Argument `y_pred` must be at least rank 1. Received: y_pred.shape={sp}")
        ax = axis % len(sp)
        want = sp[:ax] + sp[ax + 1 :]
        if not _compatible(st, want):
            raise ValueError(
                f"{fn}: Argument `y_true` must hold one class index per sample, shape {want} "
                f"(y_pred's shape without its class axis {axis}). Received: y_true.shape={st}, "
                f"y_pred.shape={sp}"
            )


def _swapped(fn: str, y_true, y_pred, index_targets: bool) -> None:
    """The usual porting mistake (torch / optax put the prediction first): integer labels in
    ``y_pred`` and floats in ``y_true``."""
    if not (hasattr(y_true, "shape") and hasattr(y_pred, "shape")):
        return
    st, sp = _shape(y_true), _shape(y_pred)
    looks = _is_integer(y_pred) and _is_floating(y_true)
    if index_targets and not looks and len(st) == len(sp) + 1 and len(sp) >= 1 and _compatible(st[:-1], sp):
        looks = st[-1] is None or st[-1] > 1  # (N, C) scores in y_true and (N,) in y_pred
    if looks:
        raise ValueError(
            f"{fn}: the arguments look swapped: got y_true with dtype {_dtype_name(y_true)} and "
            f"shape {st}, y_pred with dtype {_dtype_name(y_pred)} and shape {sp}. Keras losses "
            f"take (y_true, y_pred) -- labels first, predictions second (torch and optax put "
            f"the prediction first)."
        )


def _dtype_name(x) -> str:
    d = getattr(x, "dtype", None)
    return getattr(d, "name", None) or str(d).replace("torch.", "")


def _check_options(fn: str, opts: dict) -> None:
    ls = opts.get("label_smoothing")
    if ls is not None and not (isinstance(ls, (int, float)) and 0.0 <= ls <= 1.0):
        raise ValueError(f"{fn}: argument `label_smoothing` must be a float in [0, 1]. Received: label_smoothing={ls!r}")
    axis = opts.get("axis")
    if "axis" in opts and (isinstance(axis, bool) or not isinstance(axis, int)):
        raise ValueError(f"{fn}: argument `axis` must be of type `int`. Received: axis={axis!r} of type {type(axis)}")
    delta = opts.get("delta")
    if delta is not None and not (isinstance(delta, (int, float)) and delta > 0):
        raise ValueError(f"{fn}: argument `delta` must be a float > 0. Received: delta={delta!r}")
    ic = opts.get("ignore_class")
    if ic is not None and (isinstance(ic, bool) or not isinstance(ic, int)):
        raise ValueError(f"{fn}: argument `ignore_class` must be an int or None. Received: ignore_class={ic!r}")


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
    computed, and how its inputs are checked."""

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


TABLE: tuple[Row, ...] = (
    Row("MeanSquaredError", "mean_squared_error", "mean_squared_error", _elementwise(L.mse_loss), "mse_loss",
        formula="mean((y_true - y_pred)**2, axis=-1)"),
    Row("MeanAbsoluteError", "mean_absolute_error", "mean_absolute_error", _elementwise(L.l1_loss), "l1_loss",
        formula="mean(abs(y_true - y_pred), axis=-1)"),
    Row("MeanAbsolutePercentageError", "mean_absolute_percentage_error", "mean_absolute_percentage_error",
        lambda xp, t, p: _elementwise(L.mean_absolute_percentage_error, epsilon=_eps())(xp, t, p),
        "mean_absolute_percentage_error",
        formula="100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)), axis=-1)"),
    Row("Huber", "huber", "huber_loss", _elementwise(L.huber_loss), "huber_loss", options=(("delta", 1.0),),
        formula="mean(0.5 d**2 if |d| <= delta else delta (|d| - 0.5 delta), axis=-1), d = y_pred - y_true"),
    Row("BinaryCrossentropy", "binary_crossentropy", "binary_crossentropy", _bce,
        "binary_cross_entropy / binary_cross_entropy_with_logits",
        options=(("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)), shapes="same",
        classification=True, logits_op="Sigmoid",
        formula="mean(-(y log p + (1 - y) log(1 - p)), axis), p clipped to [eps, 1 - eps]"),
    Row("CategoricalCrossentropy", "categorical_crossentropy", "categorical_crossentropy", _cce,
        "cross_entropy (logits) / nll_loss (probabilities)",
        options=(("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)), shapes="same",
        classification=True, logits_op="Softmax",
        formula="-sum(y * log p, axis), p = softmax(logits) or clip(p / sum(p), eps, 1 - eps)"),
    Row("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", "sparse_categorical_crossentropy", _scce,
        "cross_entropy", options=(("from_logits", False), ("ignore_class", None)), reduction_after=(("axis", -1),),
        shapes="index", classification=True, index_targets=True, logits_op="Softmax",
        formula="-log softmax(logits)[y]; on probabilities logits = log(clip(p, eps, 1 - eps))"),
    Row("KLDivergence", "kl_divergence", "kl_divergence", _kld, "kl_div",
        formula="sum(y * log(y / p), axis=-1), y and p clipped to [eps, 1]"),
    Row("CosineSimilarity", "cosine_similarity", "cosine_similarity", _cosine, "cosine_similarity",
        options=(("axis", -1),), formula="-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)"),
    Row("Hinge", "hinge", "hinge", _elementwise(L.hinge), "hinge", classification=True,
        formula="mean(max(1 - y * p, 0), axis=-1), labels {0, 1} mapped to {-1, 1}"),
    Row("FocalLoss", "focal_loss", "focal_loss", _focal, "focal_loss",
        options=(("gamma", 2.0), ("alpha", 0.75), ("from_logits", False)), shapes="same", classification=True,
        formula="mean(alpha_t (1 - p_t)**gamma * BCE(p, y), axis=-1)", keras_native=False,
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


# ----------------------------------------------------------------------------- the factory


def _option_names(row: Row) -> tuple:
    return tuple(n for n, _ in row.options) + tuple(n for n, _ in row.reduction_after)


def _compute(row: Row, y_true, y_pred, opts: dict, check_swap: bool = True):
    """The row's per-sample losses for backend tensors ``y_true``, ``y_pred``."""
    fn = row.fn
    if check_swap and row.classification:
        _swapped(fn, y_true, y_pred, row.index_targets)
    if row.logits_op:
        # keras uses the cached logits whatever from_logits says (and warns if it was True)
        logits, from_logits = _keras_logits(y_pred, row.logits_op, opts.get("from_logits", False), fn)
        if logits is not y_pred:
            y_pred, opts = logits, {**opts, "from_logits": True}
    if row.index_targets:
        axis = opts.get("axis", -1)
        if len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) and y_true.shape[axis] == 1:
            y_true = array_namespace(y_true).squeeze(y_true, axis=axis)
    elif row.shapes != "any":
        # keras squeeze_or_expand_to_same_rank: (N,) labels against (N, 1) predictions
        y_true, y_pred = same_rank(array_namespace(y_true, y_pred, fn=fn), y_true, y_pred)
    if row.shapes != "any":
        _check_shapes(fn, row.shapes, y_true, y_pred, opts.get("axis", -1))
    xp = array_namespace(y_true, y_pred, fn=fn)
    if not row.index_targets and y_true.dtype != y_pred.dtype:
        y_true = xp.astype(y_true, y_pred.dtype)
    if row.shapes == "broadcast" and _shape(y_true) != _shape(y_pred):
        with warnings.catch_warnings():  # keras broadcasts silently; the canonical form warns
            warnings.simplefilter("ignore", UserWarning)
            return row.body(xp, y_true, y_pred, **opts)
    return row.body(xp, y_true, y_pred, **opts)


def _make_function(row: Row) -> Callable[..., Any]:
    params = [
        inspect.Parameter("y_true", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("y_pred", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    ] + [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for n, d in row.options + row.reduction_after]
    sig = inspect.Signature(params)
    names = _option_names(row)

    def function(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        opts = {n: a[n] for n in names}
        _check_options(row.fn, opts)
        y_pred = _to_tensor(a["y_pred"])
        y_true = a["y_true"]
        if row.classification:
            _swapped(row.fn, y_true, y_pred, row.index_targets)
        y_true = _to_tensor(y_true)
        return _compute(row, y_true, y_pred, opts, check_swap=False)

    function.__name__ = function.__qualname__ = row.fn
    function.__module__ = _PUBLIC_MODULE
    function.__signature__ = sig
    native = f"``keras.losses.{row.fn}``" if row.keras_native else "none in keras (a multiloss extra)"
    function.__doc__ = (
        f"{row.cls} per sample, keras style (``y_true`` first): ``{row.formula}``.\n\n"
        f"Returns one value per sample (``y_pred``'s shape without its last axis). Computed by "
        f"``multiloss.{row.canonical.split(' ')[0]}`` (canonical, see its docstring). keras: {native}."
        + (f"\n\n{row.extra_doc}" if row.extra_doc else "")
    )
    return function


class _MultilossLoss(keras.losses.Loss):
    """Base of the generated classes: keras's ``Loss`` with the row's computation."""

    _row: Row

    def __call__(self, y_true, y_pred, sample_weight=None):
        # before keras casts both to the loss dtype: integer labels passed as y_pred
        if self._row.classification:
            _swapped(type(self).__name__, y_true, y_pred, self._row.index_targets)
        return super().__call__(y_true, y_pred, sample_weight=sample_weight)

    def call(self, y_true, y_pred):
        return _compute(self._row, y_true, y_pred, self._ml_options, check_swap=False)

    def get_config(self):
        config = {"name": self.name, "reduction": self.reduction, **self._ml_options}
        if self._ml_dtype is not None:
            config["dtype"] = self._ml_dtype
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        opts = ", ".join(f"{k}={v!r}" for k, v in self._ml_options.items())
        return f"<multiloss.keras.{type(self).__name__}({opts}{', ' if opts else ''}reduction={self.reduction!r}, name={self.name!r})>"


def _serializable_dtype(dtype):
    if dtype is None or isinstance(dtype, str):
        return dtype
    name = getattr(dtype, "name", None)  # a DTypePolicy or a framework dtype
    return name if isinstance(name, str) else str(dtype)


def _make_class(row: Row) -> type:
    P = inspect.Parameter
    params = [P("self", P.POSITIONAL_OR_KEYWORD)]
    params += [P(n, P.POSITIONAL_OR_KEYWORD, default=d) for n, d in row.options]
    params += [P("reduction", P.POSITIONAL_OR_KEYWORD, default="sum_over_batch_size")]
    params += [P(n, P.POSITIONAL_OR_KEYWORD, default=d) for n, d in row.reduction_after]
    params += [P("name", P.POSITIONAL_OR_KEYWORD, default=row.default_name), P("dtype", P.POSITIONAL_OR_KEYWORD, default=None)]
    sig = inspect.Signature(params)
    names = _option_names(row)

    def __init__(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        opts = {n: a[n] for n in names}
        _check_options(row.cls, opts)
        keras.losses.Loss.__init__(self, name=a["name"], reduction=a["reduction"], dtype=a["dtype"])
        self._ml_options = opts
        self._ml_dtype = _serializable_dtype(a["dtype"])
        for n, v in opts.items():  # keras exposes its options as attributes (self.from_logits)
            setattr(self, n, v)

    __init__.__signature__ = sig
    options_doc = ", ".join(f"{n}={d!r}" for n, d in row.options + row.reduction_after)
    native = (f"Mirrors ``keras.losses.{row.cls}``: same signature, defaults and numbers."
              if row.keras_native else "A multiloss extra (keras has no such loss), in keras's style.")
    doc = (
        f"{row.cls}({options_doc}{', ' if options_doc else ''}reduction='sum_over_batch_size', "
        f"name={row.default_name!r}, dtype=None)\n\n"
        f"keras-style loss (``loss(y_true, y_pred, sample_weight=None)``): per sample "
        f"``{row.formula}``, then keras's ``reduction`` with ``sample_weight``.\n"
        f"Computed by ``multiloss.{row.canonical.split(' ')[0]}`` (canonical, y_pred first; see its "
        f"docstring). {native} "
        f"Serialisable: registered as ``'multiloss>{row.cls}'``."
        + (f"\n\n{row.extra_doc}" if row.extra_doc else "")
    )
    cls = type(row.cls, (_MultilossLoss,), {"__init__": __init__, "_row": row, "__doc__": doc})
    cls.__module__ = _PUBLIC_MODULE
    cls.__qualname__ = row.cls
    return keras.saving.register_keras_serializable(package=_PACKAGE)(cls)


_CLASSES = {row.cls: _make_class(row) for row in TABLE}
_FUNCTIONS = {row.fn: _make_function(row) for row in TABLE}
globals().update(_CLASSES)
globals().update(_FUNCTIONS)


# ----------------------------------------------------------------------------- regularizers


def _regularizer(cls_name: str, terms: tuple, canonical: str) -> type:
    """keras regulariser classes over the canonical penalties (``l1_penalty``/``l2_penalty``),
    keras's names and defaults (``keras.regularizers.L1(l1=0.01)`` ...)."""

    def __init__(self, **kwargs):
        for t in terms:
            v = kwargs.pop(t, 0.01 if len(terms) == 1 else 0.0)
            v = 0.01 if v is None and len(terms) == 1 else (0.0 if v is None else v)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{cls_name}: argument `{t}` must be a float >= 0. Received: {t}={v!r}")
            setattr(self, t, float(v))
        if kwargs:
            raise TypeError(f"{cls_name}: unexpected argument(s) {sorted(kwargs)}; expected {list(terms)}")

    def __call__(self, x):
        if isinstance(x, keras.Variable):
            x = x.value  # the backend's variable/array (keras passes its Variable here)
        x = keras.ops.convert_to_tensor(x)
        out = None
        for t in terms:
            fn = L.l1_penalty if t == "l1" else L.l2_penalty
            v = getattr(self, t)
            if v or len(terms) == 1:
                term = fn([x], alpha=v)
                out = term if out is None else out + term
        return out if out is not None else keras.ops.zeros((), dtype=x.dtype)

    def get_config(self):
        return {t: getattr(self, t) for t in terms}

    P = inspect.Parameter
    __init__.__signature__ = inspect.Signature(
        [P("self", P.POSITIONAL_OR_KEYWORD)]
        + [P(t, P.POSITIONAL_OR_KEYWORD, default=0.01 if len(terms) == 1 else 0.0) for t in terms]
    )
    doc = (
        f"{cls_name}({', '.join(terms)}): keras weight regulariser over ``multiloss.{canonical}`` "
        f"(``l1 * sum|x| + l2 * sum x**2``); mirrors ``keras.regularizers.{cls_name}``."
    )

    def init(self, *args, **kwargs):
        for t, v in zip(terms, args):
            kwargs[t] = v
        __init__(self, **kwargs)

    init.__signature__ = __init__.__signature__
    cls = type(cls_name, (keras.regularizers.Regularizer,), {
        "__init__": init, "__call__": __call__, "get_config": get_config, "__doc__": doc,
    })
    cls.__module__ = _PUBLIC_MODULE
    cls.__qualname__ = cls_name
    return keras.saving.register_keras_serializable(package=_PACKAGE)(cls)


L1 = _regularizer("L1", ("l1",), "l1_penalty")
L2 = _regularizer("L2", ("l2",), "l2_penalty")
L1L2 = _regularizer("L1L2", ("l1", "l2"), "l1_penalty + l2_penalty")
