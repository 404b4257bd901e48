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
import re
import warnings
from typing import Any, Callable, NoReturn

from .._quiet import quiet_import

with quiet_import():  # TensorFlow's C++ startup INFO lines, this import only (multiloss/_quiet.py)
    import keras

from .. import losses as L
from .._namespace import array_namespace
from .._reduction import same_rank
from ..errors import TORCH as _TORCH_ERRORS
from ..errors import MultilossError, ShapeError, native_error, reraise
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


def _to_tensor(x, dtype=None, fn: str = "", name: str = "", lists: bool = True):
    """Lists, scalars and NumPy arrays become backend tensors (keras's function forms do the
    same); framework arrays are kept as they are. Anything keras cannot convert (``None``, a
    string, a dict, a ragged list ...) is a TypeError naming ``fn`` and the argument ``name``;
    ``lists=False``: a Python list is refused, as keras refuses it for that loss
    (docs/input-policy.md)."""
    if hasattr(x, "shape") and hasattr(x, "dtype") and type(x).__module__.split(".")[0] != "numpy":
        return x
    if not lists and isinstance(x, (list, tuple)):
        raise TypeError(
            f"{fn}: argument '{name}' must be an array, not a Python {type(x).__name__} (keras's {fn} "
            f"does not take lists either); convert it first, e.g. keras.ops.convert_to_tensor(...) "
            f"or numpy.asarray(...)"
        )
    try:
        t = keras.ops.convert_to_tensor(x, dtype=dtype)
    except Exception as exc:  # keras/TF/jax raise ValueError, TypeError or their own classes here
        raise TypeError(
            f"{fn}: argument '{name}' must be an array or a (nested) list of numbers; got "
            f"{type(x).__module__}.{type(x).__qualname__} that keras cannot convert ({_first_line(exc)})"
        ) from None
    if _kind(t) not in "fiub":
        raise TypeError(
            f"{fn}: argument '{name}' must hold numbers; got {type(x).__module__}.{type(x).__qualname__} "
            f"converted to dtype {_dtype_name(t)}"
        )
    return t


def _same_nesting(a, b) -> bool:
    """keras's ``tree.assert_same_structure`` of two (nested) lists: sequences of one length at
    every level, leaves (numbers, arrays) opposite leaves."""
    seq_a, seq_b = isinstance(a, (list, tuple)), isinstance(b, (list, tuple))
    if seq_a != seq_b:
        return False
    return not seq_a or (len(a) == len(b) and all(_same_nesting(x, y) for x, y in zip(a, b)))


def _class_lists(name: str, y_true, y_pred) -> None:
    """keras's ``Loss.__call__`` converts ``y_true`` and ``y_pred`` leaf by leaf, then pairs them
    up: a Python list is taken only opposite a list of the same nesting (``ValueError: Expected
    an instance of list`` / ``Structures don't have the same nested structure`` otherwise)."""
    lt, lp = isinstance(y_true, (list, tuple)), isinstance(y_pred, (list, tuple))
    if (lt or lp) and not (lt and lp and _same_nesting(y_true, y_pred)):
        arg = "y_true" if lt else "y_pred"
        raise TypeError(
            f"{name}: argument '{arg}' is a Python {type(y_true if lt else y_pred).__name__}, which keras's "
            f"Loss takes only opposite a list of the same nesting (it pairs y_true and y_pred leaf by "
            f"leaf); convert it first, e.g. keras.ops.convert_to_tensor(...) or numpy.asarray(...)"
        )


def _unconvertible(name: str, dtype, exc: BaseException, y_true, y_pred, sample_weight) -> None:
    """On a failed class call: when keras's conversion of an argument to the loss dtype is what
    failed, raise a TypeError naming the class and that argument; else return (the error is
    multiloss's own, or another one, re-raised as it is)."""
    if isinstance(exc, MultilossError) or str(exc).startswith(name):
        return
    for arg, value in (("y_true", y_true), ("y_pred", y_pred), ("sample_weight", sample_weight)):
        if value is None:
            continue
        try:
            keras.ops.convert_to_tensor(value, dtype=dtype)
        except Exception as conv:
            raise TypeError(
                f"{name}: argument '{arg}' cannot be converted to a tensor of the loss dtype {dtype} "
                f"({_first_line(conv)})"
            ) from exc


def _libraries(fn: str, names: tuple[str, ...], arrays: list) -> None:
    """Arrays of two libraries among ``arrays``: a TypeError naming the arguments (each
    argument's library); return when there is no such pair."""
    libs = [(n, type(a).__module__.split(".")[0], type(a)) for n, a in zip(names, arrays)]
    first = libs[0]
    for n, lib, t in libs[1:]:
        if lib != first[1]:
            raise TypeError(
                f"{fn}: all arrays must come from one library, got {first[1]} ({first[2].__module__}."
                f"{first[2].__qualname__}, argument '{first[0]}') and {lib} ({t.__module__}.{t.__qualname__}, "
                f"argument '{n}'); convert them to one framework first"
            )


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


_KINDS: dict = {}


def _kind(x) -> str:
    """A NumPy-style dtype kind of ``x``'s dtype, any framework: 'f' floating, 'i' / 'u' integer,
    'b' bool, 'c' complex, 'O' other (strings). One dict lookup after the first array of a dtype."""
    d = x.dtype
    k = _KINDS.get(d)
    if k is None:
        name = getattr(d, "name", None) or str(d)
        name = name.replace("torch.", "")
        k = ("b" if name == "bool" else "u" if name.startswith("uint") else "i" if name.startswith("int")
             else "f" if "float" in name else "c" if "complex" in name else "O")
        _KINDS[d] = k
    return k


def _integer_predictions(row: Row, y_true, y_pred):
    """keras's function forms compute on integer / bool predictions: ``y_true`` is cast to
    ``y_pred``'s dtype first (``convert_to_tensor(y_true, dtype=y_pred.dtype)``: float labels
    are truncated, as keras does), the result is a float (``ops.mean`` of integers). Here both
    become ``floatx()`` after that cast, so the canonical functions see floats. Class indices
    (``index_targets``) keep their dtype."""
    xp = array_namespace(y_true, y_pred)
    if not row.index_targets and y_true.dtype != y_pred.dtype:
        y_true = xp.astype(y_true, y_pred.dtype)
    floatx = getattr(xp, keras.backend.floatx())
    if not row.index_targets:
        y_true = xp.astype(y_true, floatx)
    return y_true, xp.astype(y_pred, floatx)


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
    """The usual porting mistake (torch / optax put the prediction first), seen in the shapes:
    ``(N, C)`` scores in ``y_true`` and ``(N,)`` class indices in ``y_pred``. (Integer
    predictions with float labels are not reported: keras computes on them, and so does this
    adapter, docs/input-policy.md.)"""
    if not index_targets or not (hasattr(y_true, "shape") and hasattr(y_pred, "shape")):
        return
    st, sp = _shape(y_true), _shape(y_pred)
    looks = False
    if len(st) == len(sp) + 1 and len(sp) >= 1 and _compatible(st[:-1], sp):
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


_CANONICAL_PREFIX = re.compile(r"^(\w+): ")


def _keras_names(exc: BaseException, row: Row) -> BaseException:
    """A canonical function's error (``"mse_loss: argument 'input' ..."``) addressed in keras's
    terms: the row's function (``"mean_squared_error (multiloss.mse_loss): argument 'y_pred'
    ..."``), ``'input'`` / ``'target'`` as ``'y_pred'`` / ``'y_true'``. Other errors unchanged."""
    if not (type(exc) in (TypeError, ValueError) or isinstance(exc, MultilossError)):
        return exc
    msg = str(exc)
    m = _CANONICAL_PREFIX.match(msg)
    if m is None or m.group(1) in (row.fn, row.cls) or m.group(1) not in L.__all__:
        return exc
    rest = msg[m.end():]
    if row.inputs == ("y_true", "y_pred"):
        rest = rest.replace("'input'", "'y_pred'").replace("'target'", "'y_true'")
    new = type(exc)(f"{row.fn} (multiloss.{m.group(1)}): {rest}")
    return new.with_traceback(exc.__traceback__)


def _two_devices(fn: str, exc: BaseException | None, y_true, y_pred) -> None:
    """torch tensors on two devices (keras dispatches on the arrays it gets, torch's included):
    torch's RuntimeError names no loss. Raise one that does; return for any other error."""
    on = [(n, getattr(v, "device", None)) for n, v in (("y_true", y_true), ("y_pred", y_pred))]
    devices = {str(d) for _, d in on if d is not None}
    if len(devices) > 1:
        where = ", ".join(f"'{n}' on {d}" for n, d in on)
        classes, init = _native_errors(y_pred)  # torch's RuntimeError too, as its own error
        raise native_error(ValueError(f"{fn}: all arrays must be on one device; got {where}"),
                           {"value": classes.get("shape", ())}, init) from exc


def _compute(row: Row, y_true, y_pred, opts: dict, check_swap: bool = True):
    """The row's per-sample losses, its errors also catchable as native keras's
    (:func:`_native_errors`)."""
    try:
        return _compute_unchecked(row, y_true, y_pred, opts, check_swap)
    except (ValueError, TypeError) as exc:
        _raise_keras_error(_keras_names(exc, row), y_pred)
    except RuntimeError as exc:  # torch's, e.g. tensors on two devices
        _two_devices(row.fn, exc, y_true, y_pred)
        raise


def _compute_unchecked(row: Row, y_true, y_pred, opts: dict, check_swap: bool = True):
    """The row's per-sample losses for backend tensors ``y_true``, ``y_pred``."""
    fn = row.fn
    if check_swap and row.classification:
        _swapped(fn, y_true, y_pred, row.index_targets)
    # one library (named in the error), and for torch tensors one device, before any shape talk
    xp = array_namespace(y_true, y_pred, fn=fn)
    if xp.__name__ == "array_api_compat.torch" and y_true.device != y_pred.device:
        _two_devices(fn, None, y_true, y_pred)
    if row.logits_op:
        # keras uses the cached logits whatever from_logits says (and warns if it was True)
        logits, from_logits = _keras_logits(y_pred, row.logits_op, opts.get("from_logits", False), fn)
        if logits is not y_pred:
            y_pred, opts = logits, {**opts, "from_logits": True}
    if row.index_targets:
        axis = opts.get("axis", -1)
        if len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) and y_true.shape[axis] == 1:
            y_true = xp.squeeze(y_true, axis=axis)
    elif row.shapes != "any":
        # keras squeeze_or_expand_to_same_rank: (N,) labels against (N, 1) predictions
        y_true, y_pred = same_rank(xp, y_true, y_pred)
    if row.shapes != "any":
        _check_shapes(fn, row.shapes, y_true, y_pred, opts.get("axis", -1))
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
        arrays = [_to_tensor(a[n], fn=row.fn, name=n) for n in row.inputs]
        try:
            xp = array_namespace(*arrays, fn=row.fn)
        except TypeError:  # arrays of two libraries: name them (keras's names, not the body's)
            _libraries(row.fn, row.inputs, arrays)
            raise
        return row.body(xp, *arrays, **opts)

    def two_arrays(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        opts = {n: a[n] for n in names}
        _check_options(row.fn, opts, row)
        y_pred = _to_tensor(a["y_pred"], fn=row.fn, name="y_pred", lists="y_pred" in row.lists)
        y_true = a["y_true"]
        if row.classification:
            _swapped(row.fn, y_true, y_pred, row.index_targets)
        y_true = _to_tensor(y_true, fn=row.fn, name="y_true", lists="y_true" in row.lists)
        if _kind(y_pred) in "iub":
            y_true, y_pred = _integer_predictions(row, y_true, y_pred)
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
        row = self._row
        if not (hasattr(y_true, "dtype") and hasattr(y_pred, "dtype")):
            # keras converts both to the loss dtype, mapping nested lists elementwise together:
            # lists are taken as both arguments of one nesting (converted here as a whole, what
            # keras computes then), refused otherwise as keras refuses them; garbage is named
            name = type(self).__name__
            _class_lists(name, y_true, y_pred)
            y_true = _to_tensor(y_true, self.dtype, name, "y_true")
            y_pred = _to_tensor(y_pred, self.dtype, name, "y_pred")
        # before keras casts both to the loss dtype: (N, C) scores passed as y_true
        if row.classification:
            _swapped(type(self).__name__, y_true, y_pred, row.index_targets)
        try:
            return super().__call__(y_true, y_pred, sample_weight=sample_weight)
        except (TypeError, ValueError) as exc:
            # keras's own conversion to the loss dtype (an array it cannot convert, e.g. a torch
            # tensor on the meta device under keras's TF backend) names no loss: name it
            _unconvertible(type(self).__name__, self.dtype, exc, y_true, y_pred, sample_weight)
            raise

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
