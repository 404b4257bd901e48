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
from typing import Any, Callable, NoReturn

from .._quiet import quiet_import

with quiet_import():  # TensorFlow's C++ startup INFO lines, this import only (multiloss/_quiet.py)
    import keras

from .. import losses as L
from .._namespace import array_namespace
from .._reduction import same_rank
from ..errors import TORCH as _TORCH_ERRORS
from ..errors import ShapeError, reraise
from .keras_table import TABLE, Row


_PACKAGE = "multiloss"
_PUBLIC_MODULE = "multiloss.keras"


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


# ----------------------------------------------------------------------------- checks


def _check_shapes(fn: str, kind: str, y_true, y_pred, axis: int = -1) -> None:
    st, sp = _shape(y_true), _shape(y_pred)
    if kind == "broadcast" and not _broadcastable(st, sp):
        raise ShapeError(  # keras fails in the backend's op here: see _native_errors
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


def _check_options(fn: str, opts: dict, row: Row | None = None) -> None:
    if row is not None and row.check_options is not None:
        row.check_options(fn, opts)  # the row's own checks, its `axis` included
        opts = {k: v for k, v in opts.items() if k != "axis"}
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


# ----------------------------------------------------------------------------- the factory


def _option_names(row: Row) -> tuple:
    return tuple(n for n, _ in row.options + row.reduction_after + row.name_after)


_OP_ERRORS: dict[str, Any] = {}


def _init_invalid_argument(self: BaseException, *args: Any) -> None:
    """TensorFlow's ``OpError`` constructor (``node_def, op, message, ...``) for a multiloss
    error that is also an ``InvalidArgumentError`` (module level: the error pickles)."""
    import tensorflow as tf

    tf.errors.InvalidArgumentError.__init__(self, None, None, str(args[0]) if args else "")


def _native_errors(y_pred) -> Any:
    """kind -> the classes native keras raises for the same case on ``y_pred``'s backend
    (multiloss/errors.py): shapes that do not broadcast fail in the backend's op (TF eager:
    ``InvalidArgumentError``, graph: ``ValueError``; jax: ``TypeError``; torch:
    ``RuntimeError``), and so do class indices out of range (TF: ``InvalidArgumentError``,
    torch: ``IndexError``; jax does not check). keras's own checks raise ``ValueError``, as
    multiloss does."""
    mod = type(y_pred).__module__.split(".")[0]
    table = _OP_ERRORS.get(mod)
    if table is None:
        if mod == "tensorflow":
            import tensorflow as tf

            invalid = tf.errors.InvalidArgumentError
            table = ({"shape": (invalid,), "index": (invalid,)}, _init_invalid_argument)
        elif mod in ("jax", "jaxlib"):
            table = ({"shape": (TypeError,)}, None)
        elif mod == "torch":
            table = ({k: _TORCH_ERRORS[k] for k in ("shape", "index")}, None)
        else:
            table = ({}, None)
        _OP_ERRORS[mod] = table
    return table


def _raise_keras_error(exc: BaseException, y_pred) -> NoReturn:
    classes, init = _native_errors(y_pred)
    reraise(exc, classes, init)


def _compute(row: Row, y_true, y_pred, opts: dict, check_swap: bool = True):
    """The row's per-sample losses, its errors also catchable as native keras's
    (:func:`_native_errors`)."""
    try:
        return _compute_unchecked(row, y_true, y_pred, opts, check_swap)
    except (ValueError, TypeError) as exc:
        _raise_keras_error(exc, y_pred)


def _compute_unchecked(row: Row, y_true, y_pred, opts: dict, check_swap: bool = True):
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
    params = [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in row.inputs]
    fn_options = row.options + row.reduction_after + row.name_after if row.fn_options is None else row.fn_options
    params += [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=d) for n, d in fn_options]
    sig = inspect.Signature(params)
    names = tuple(n for n, _ in fn_options)
    pair = row.inputs == ("y_true", "y_pred")

    def multi_input(*args, **kwargs):
        """A loss of other arrays than (y_true, y_pred): each becomes a backend tensor, the
        body gets them in the row's order."""
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        opts = {n: a[n] for n in names}
        _check_options(row.fn, opts, row)
        arrays = [_to_tensor(a[n]) for n in row.inputs]
        return row.body(array_namespace(*arrays, fn=row.fn), *arrays, **opts)

    def two_arrays(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        opts = {n: a[n] for n in names}
        _check_options(row.fn, opts, row)
        y_pred = _to_tensor(a["y_pred"])
        y_true = a["y_true"]
        if row.classification:
            _swapped(row.fn, y_true, y_pred, row.index_targets)
        y_true = _to_tensor(y_true)
        return _compute(row, y_true, y_pred, opts, check_swap=False)

    function = two_arrays if pair else multi_input
    function.__name__ = function.__qualname__ = row.fn
    function.__module__ = _PUBLIC_MODULE
    setattr(function, "__signature__", sig)  # read by inspect.signature (PEP 362)
    native = f"``keras.losses.{row.fn}``" if row.keras_native else "none in keras (a multiloss extra)"
    function.__doc__ = (
        f"{row.cls or row.fn} per sample, keras style "
        f"({'``y_true`` first' if pair else ', '.join(f'``{n}``' for n in row.inputs)}): ``{row.formula}``.\n\n"
        f"Returns one value per sample (``y_pred``'s shape without its last axis). Computed by "
        f"``multiloss.{row.canonicals[0]}`` (canonical, see its docstring). keras: {native}."
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
    # keras's own classes keep keras's positional order; an extra (no keras order to mirror)
    # takes its options keyword-only, so mk.FocalLoss(0.75, 2.0) cannot silently mean
    # something else than mt.FocalLoss(alpha=0.75, gamma=2.0) (issue 14)
    kind = P.POSITIONAL_OR_KEYWORD if row.keras_native else P.KEYWORD_ONLY
    params = [P("self", P.POSITIONAL_OR_KEYWORD)]
    params += [P(n, kind, default=d) for n, d in row.options]
    params += [P("reduction", kind, default="sum_over_batch_size")]
    params += [P(n, kind, default=d) for n, d in row.reduction_after]
    params += [P("name", kind, default=row.default_name)]
    params += [P(n, kind, default=d) for n, d in row.name_after]
    params += [P("dtype", kind, default=None)]
    sig = inspect.Signature(params)
    names = _option_names(row)

    def __init__(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        opts = {n: a[n] for n in names}
        _check_options(row.cls, opts, row)
        keras.losses.Loss.__init__(self, name=a["name"], reduction=a["reduction"], dtype=a["dtype"])
        self._ml_options = opts
        self._ml_dtype = _serializable_dtype(a["dtype"])
        for n, v in opts.items():  # keras exposes its options as attributes (self.from_logits)
            setattr(self, n, v)

    setattr(__init__, "__signature__", sig)  # read by inspect.signature (PEP 362)
    signature_doc = ", ".join(f"{p.name}={p.default!r}" for p in params[1:])  # keras's order
    native = (f"Mirrors ``keras.losses.{row.cls}``: same signature, defaults and numbers."
              if row.keras_native else "A multiloss extra (keras has no such loss), in keras's style.")
    doc = (
        f"{row.cls}({signature_doc})\n\n"
        f"keras-style loss (``loss(y_true, y_pred, sample_weight=None)``): per sample "
        f"``{row.formula}``, then keras's ``reduction`` with ``sample_weight``.\n"
        f"Computed by ``multiloss.{row.canonicals[0]}`` (canonical, y_pred first; see its "
        f"docstring). {native} "
        f"Serialisable: registered as ``'multiloss>{row.cls}'``."
        + (f"\n\n{row.extra_doc}" if row.extra_doc else "")
    )
    cls = type(row.cls, (_MultilossLoss,), {"__init__": __init__, "_row": row, "__doc__": doc})
    cls.__module__ = _PUBLIC_MODULE
    cls.__qualname__ = row.cls
    return keras.saving.register_keras_serializable(package=_PACKAGE)(cls)


_CLASSES = {row.cls: _make_class(row) for row in TABLE if row.cls}
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
    signature = inspect.Signature(
        [P("self", P.POSITIONAL_OR_KEYWORD)]
        + [P(t, P.POSITIONAL_OR_KEYWORD, default=0.01 if len(terms) == 1 else 0.0) for t in terms]
    )
    setattr(__init__, "__signature__", signature)  # read by inspect.signature (PEP 362)
    doc = (
        f"{cls_name}({', '.join(terms)}): keras weight regulariser over ``multiloss.{canonical}`` "
        f"(``l1 * sum|x| + l2 * sum x**2``); mirrors ``keras.regularizers.{cls_name}``."
    )

    def init(self, *args, **kwargs):
        for t, v in zip(terms, args):
            kwargs[t] = v
        __init__(self, **kwargs)

    setattr(init, "__signature__", signature)
    cls = type(cls_name, (keras.regularizers.Regularizer,), {
        "__init__": init, "__call__": __call__, "get_config": get_config, "__doc__": doc,
    })
    cls.__module__ = _PUBLIC_MODULE
    cls.__qualname__ = cls_name
    return keras.saving.register_keras_serializable(package=_PACKAGE)(cls)


L1 = _regularizer("L1", ("l1",), "l1_penalty")
L2 = _regularizer("L2", ("l2",), "l2_penalty")
L1L2 = _regularizer("L1L2", ("l1", "l2"), "l1_penalty + l2_penalty")

# the public names: the table's classes and functions, and the regularisers
# the hand-written forms (layers that own weights: HANDWRITTEN rows of the table)
from ._rows import load as _load  # noqa: E402
from .keras_table import HANDWRITTEN  # noqa: E402

_HANDWRITTEN = {h.name: _load(h.where) for h in HANDWRITTEN}
globals().update(_HANDWRITTEN)

# keras.losses's lookup utilities over these names (Loss, get, serialize, deserialize)
from .keras_registry import Loss, deserialize, get, serialize  # noqa: E402

__all__ = ["TABLE", *_CLASSES, *_FUNCTIONS, *_HANDWRITTEN, "L1", "L2", "L1L2",
           "Loss", "get", "serialize", "deserialize"]
