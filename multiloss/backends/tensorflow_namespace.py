"""An Array API namespace on TensorFlow ops (array-api-compat has no TensorFlow support).

``multiloss._namespace.array_namespace`` returns this module for ``tf.Tensor`` and
``tf.Variable`` arguments, so the canonical losses in ``multiloss.losses`` run on TensorFlow
unchanged. Everything here is a thin layer over ``tf`` ops -- no NumPy round trip -- so it
works eagerly, inside ``tf.function`` and under XLA (``jit_compile=True``), and gradients flow
through ``tf.GradientTape``.

Semantics follow the Array API standard (2023.12, plus ``take_along_axis`` from 2024.12)
where TensorFlow differs:

* dtypes are module attributes (``float32``, ``int64``, ``bool`` ...) and ``isdtype(dtype,
  kind)`` answers the standard's kinds;
* binary functions (``where``, ``maximum``, ``add`` ...) promote like the standard: two
  arrays to the wider dtype of the same kind (float32 with float64 -> float64, float16 with
  bfloat16 -> float32), integers with floats to the float, and Python scalars take the
  array's dtype (TensorFlow itself refuses float32 + float64);
* reductions take ``axis`` as ``None``, an int or a tuple and honour ``keepdims``; ``sum``
  and ``prod`` of booleans/small integers accumulate in ``int64`` like the standard's
  default integer; ``all``/``any`` accept non-boolean input;
* ``take_along_axis`` broadcasts ``indices`` against ``x`` on the non-``axis`` dimensions.

Only the subset multiloss needs, plus the common elementwise/creation functions, is
provided; it is not a full implementation of the standard (no in-place updates, no
data-dependent output shapes such as ``nonzero``/``unique``).
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import tensorflow as tf

__array_api_version__ = "2023.12"

# ----------------------------------------------------------------------------- dtypes

bool = tf.bool  # noqa: A001 - the standard's name
int8, int16, int32, int64 = tf.int8, tf.int16, tf.int32, tf.int64
uint8, uint16, uint32, uint64 = tf.uint8, tf.uint16, tf.uint32, tf.uint64
float16, bfloat16, float32, float64 = tf.float16, tf.bfloat16, tf.float32, tf.float64
complex64, complex128 = tf.complex64, tf.complex128

e, pi, inf, nan = math.e, math.pi, math.inf, math.nan
newaxis = None

_SIGNED = (tf.int8, tf.int16, tf.int32, tf.int64)
_UNSIGNED = (tf.uint8, tf.uint16, tf.uint32, tf.uint64)
_REAL_FLOAT = (tf.float16, tf.bfloat16, tf.float32, tf.float64)
_COMPLEX = (tf.complex64, tf.complex128)
_KINDS = {
    "bool": (tf.bool,),
    "signed integer": _SIGNED,
    "unsigned integer": _UNSIGNED,
    "integral": _SIGNED + _UNSIGNED,
    "real floating": _REAL_FLOAT,
    "complex floating": _COMPLEX,
    "numeric": _SIGNED + _UNSIGNED + _REAL_FLOAT + _COMPLEX,
}

_DEFAULT_FLOAT = tf.float32
_DEFAULT_INT = tf.int64


def _dtype(d: Any) -> tf.DType:
    return d if isinstance(d, tf.DType) else tf.dtypes.as_dtype(d)


def isdtype(dtype: Any, kind: Any) -> builtins.bool:
    """Whether ``dtype`` is of ``kind``: a dtype, one of the standard's kind names
    ('bool', 'signed integer', 'unsigned integer', 'integral', 'real floating',
    'complex floating', 'numeric'), or a tuple of those."""
    dtype = _dtype(dtype)
    if isinstance(kind, tuple):
        return builtins.any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; expected one of {sorted(_KINDS)}")
        return dtype in _KINDS[kind]
    return dtype == _dtype(kind)


class finfo:
    """Machine limits of a floating dtype (``bits``, ``eps``, ``max``, ``min``, ``smallest_normal``)."""

    def __init__(self, dtype: Any):
        dtype = _dtype(getattr(dtype, "dtype", dtype))
        if dtype not in _REAL_FLOAT + _COMPLEX:
            raise TypeError(f"finfo: expected a floating dtype, got {dtype.name}")
        real = dtype.real_dtype
        # static metadata only; NumPy has no bfloat16 (TF's is ml_dtypes', which has a finfo)
        np_info = (__import__("ml_dtypes") if real == tf.bfloat16 else __import__("numpy")).finfo(real.as_numpy_dtype)
        self.bits = real.size * 8
        self.eps = float(np_info.eps)
        self.max = float(np_info.max)
        self.min = float(np_info.min)
        self.smallest_normal = float(np_info.tiny)
        self.dtype = dtype


class iinfo:
    """Limits of an integer dtype (``bits``, ``max``, ``min``)."""

    def __init__(self, dtype: Any):
        dtype = _dtype(getattr(dtype, "dtype", dtype))
        if not dtype.is_integer:
            raise TypeError(f"iinfo: expected an integer dtype, got {dtype.name}")
        self.bits = dtype.size * 8
        self.max = int(dtype.max)
        self.min = int(dtype.min)
        self.dtype = dtype


_FLOAT_RANK = {tf.float16: 1, tf.bfloat16: 1, tf.float32: 2, tf.float64: 3}


def _promote_dtypes(a: tf.DType, b: tf.DType) -> tf.DType:
    if a == b:
        return a
    fa, fb = a in _REAL_FLOAT, b in _REAL_FLOAT
    if fa and fb:
        ra, rb = _FLOAT_RANK[a], _FLOAT_RANK[b]
        if ra == rb:  # float16 with bfloat16
            return tf.float32
        return a if ra > rb else b
    if fa:
        return a
    if fb:
        return b
    if a in _COMPLEX or b in _COMPLEX:
        return tf.complex128 if tf.complex128 in (a, b) or tf.float64 in (a, b) else tf.complex64
    if a == tf.bool:
        return b
    if b == tf.bool:
        return a
    sa, sb = a in _SIGNED, b in _SIGNED
    if sa == sb:
        return a if a.size >= b.size else b
    # signed with unsigned: a signed type wide enough for both (int64 at most)
    s, u = (a, b) if sa else (b, a)
    width = builtins.max(s.size, 2 * u.size)
    return {1: tf.int8, 2: tf.int16, 4: tf.int32}.get(width, tf.int64)


def result_type(*arrays_and_dtypes: Any) -> tf.DType:
    """The standard's promotion of arrays and/or dtypes (Python scalars are ignored)."""
    out = None
    for a in arrays_and_dtypes:
        if isinstance(a, (builtins.bool, int, float, complex)):
            continue
        d = _dtype(a.dtype) if hasattr(a, "dtype") else _dtype(a)
        out = d if out is None else _promote_dtypes(out, d)
    if out is None:
        raise ValueError("result_type: at least one array or dtype is required")
    return out


def can_cast(from_: Any, to: Any) -> builtins.bool:
    f = _dtype(from_.dtype) if hasattr(from_, "dtype") else _dtype(from_)
    return _promote_dtypes(f, _dtype(to)) == _dtype(to)


def _is_tensor(x: Any) -> builtins.bool:
    return isinstance(x, (tf.Tensor, tf.Variable))


def _const(value: Any, dtype: tf.DType) -> tf.Tensor:
    """``value`` in ``dtype``: Python scalars are converted directly (``tf.cast`` of a Python
    float would round it through float32 first), tensors cast."""
    if _is_tensor(value):
        return value if value.dtype == dtype else tf.cast(value, dtype)
    return tf.constant(value, dtype)


def _scalar_to(value: Any, like: tf.DType) -> tf.Tensor:
    """A Python scalar as a tensor of ``like``'s dtype (a float scalar with an integer or
    bool array becomes the default float dtype)."""
    if isinstance(value, float) and not (like.is_floating or like.is_complex):
        return tf.constant(value, _DEFAULT_FLOAT)
    if isinstance(value, (int, float)) and not isinstance(value, builtins.bool) and like == tf.bool:
        return tf.constant(value, _DEFAULT_FLOAT if isinstance(value, float) else _DEFAULT_INT)
    return tf.constant(value, like)


def _pair(x1: Any, x2: Any) -> tuple[tf.Tensor, tf.Tensor]:
    """Operands of a binary function, Python scalars and mixed dtypes promoted."""
    t1, t2 = _is_tensor(x1), _is_tensor(x2)
    if t1 and t2:
        if x1.dtype != x2.dtype:
            d = _promote_dtypes(x1.dtype, x2.dtype)
            x1, x2 = tf.cast(x1, d), tf.cast(x2, d)
        return x1, x2
    if t1:
        x2 = _scalar_to(x2, x1.dtype)
        return (x1 if x1.dtype == x2.dtype else tf.cast(x1, x2.dtype)), x2
    if t2:
        x1 = _scalar_to(x1, x2.dtype)
        return x1, (x2 if x2.dtype == x1.dtype else tf.cast(x2, x1.dtype))
    a = asarray(x1)
    return a, _scalar_to(x2, a.dtype)


# ----------------------------------------------------------------------------- creation


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: Any = None) -> tf.Tensor:
    """``obj`` as a tensor (``copy`` is accepted for compatibility; tensors are immutable).
    Python floats default to float32, ints to int64, bools to bool."""
    if dtype is not None:
        dtype = _dtype(dtype)
    if _is_tensor(obj):
        x = tf.convert_to_tensor(obj) if isinstance(obj, tf.Variable) else obj
        return x if dtype is None or x.dtype == dtype else tf.cast(x, dtype)
    if dtype is None:
        if isinstance(obj, builtins.bool):
            dtype = tf.bool
        elif isinstance(obj, int):
            dtype = _DEFAULT_INT
        elif isinstance(obj, float):
            dtype = _DEFAULT_FLOAT
        elif isinstance(obj, (list, tuple)) and _all_python(obj):
            flat = _flatten(obj)
            if flat and builtins.all(isinstance(v, builtins.bool) for v in flat):
                dtype = tf.bool
            elif builtins.any(isinstance(v, float) for v in flat):
                dtype = _DEFAULT_FLOAT
            elif flat:
                dtype = _DEFAULT_INT
            else:
                dtype = _DEFAULT_FLOAT
    return tf.convert_to_tensor(obj, dtype=dtype)


def _flatten(obj):
    out = []
    for v in obj:
        if isinstance(v, (list, tuple)):
            out.extend(_flatten(v))
        else:
            out.append(v)
    return out


def _all_python(obj) -> builtins.bool:
    return builtins.all(
        isinstance(v, (builtins.bool, int, float)) or (isinstance(v, (list, tuple)) and _all_python(v))
        for v in obj
    )


def _shape_arg(shape: Any):
    if isinstance(shape, int):
        return (shape,)
    return shape


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    return tf.zeros(_shape_arg(shape), dtype=_dtype(dtype) if dtype is not None else _DEFAULT_FLOAT)


def ones(shape: Any, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    return tf.ones(_shape_arg(shape), dtype=_dtype(dtype) if dtype is not None else _DEFAULT_FLOAT)


def empty(shape: Any, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    return zeros(shape, dtype=dtype)


def full(shape: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    if dtype is None:
        dtype = asarray(fill_value).dtype if not _is_tensor(fill_value) else fill_value.dtype
    return tf.fill(_shape_arg(shape), _const(fill_value, _dtype(dtype)))


def zeros_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    return tf.zeros_like(x, dtype=_dtype(dtype) if dtype is not None else None)


def ones_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    return tf.ones_like(x, dtype=_dtype(dtype) if dtype is not None else None)


def empty_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    return zeros_like(x, dtype=dtype)


def full_like(x: Any, /, fill_value: Any, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    d = _dtype(dtype) if dtype is not None else x.dtype
    return tf.fill(tf.shape(x), _const(fill_value, d))


def arange(start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None) -> tf.Tensor:
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = _DEFAULT_FLOAT if builtins.any(isinstance(v, float) for v in (start, stop, step)) else _DEFAULT_INT
    dtype = _dtype(dtype)
    return tf.range(_const(start, dtype), _const(stop, dtype), _const(step, dtype), dtype=dtype)


def linspace(start: Any, stop: Any, /, num: int, *, dtype: Any = None, device: Any = None, endpoint: builtins.bool = True) -> tf.Tensor:
    dtype = _dtype(dtype) if dtype is not None else _DEFAULT_FLOAT
    if endpoint:
        return tf.cast(tf.linspace(_const(start, tf.float64), _const(stop, tf.float64), num), dtype)
    step = (stop - start) / num
    return tf.cast(start + step * tf.range(num, dtype=tf.float64), dtype)


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None, device: Any = None) -> tf.Tensor:
    dtype = _dtype(dtype) if dtype is not None else _DEFAULT_FLOAT
    n_cols = n_rows if n_cols is None else n_cols
    if k == 0:
        return tf.eye(n_rows, n_cols, dtype=dtype)
    rows = tf.range(n_rows)[:, None]
    cols = tf.range(n_cols)[None, :]
    return tf.cast(cols - rows == k, dtype)


def astype(x: Any, dtype: Any, /, *, copy: builtins.bool = True, device: Any = None) -> tf.Tensor:
    dtype = _dtype(dtype)
    if x.dtype == dtype:
        return tf.identity(x) if copy and isinstance(x, tf.Variable) else x
    return tf.cast(x, dtype)


# ----------------------------------------------------------------------------- elementwise


def _unary(tf_fn, name):
    def f(x, /):
        return tf_fn(x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Array API ``{name}`` on ``{tf_fn.__module__}.{tf_fn.__name__}``."
    return f


abs = _unary(tf.math.abs, "abs")  # noqa: A001
exp = _unary(tf.math.exp, "exp")
expm1 = _unary(tf.math.expm1, "expm1")
log = _unary(tf.math.log, "log")
log1p = _unary(tf.math.log1p, "log1p")
sqrt = _unary(tf.math.sqrt, "sqrt")
square = _unary(tf.math.square, "square")
negative = _unary(tf.math.negative, "negative")
sign = _unary(tf.math.sign, "sign")
sin = _unary(tf.math.sin, "sin")
cos = _unary(tf.math.cos, "cos")
tan = _unary(tf.math.tan, "tan")
tanh = _unary(tf.math.tanh, "tanh")
sinh = _unary(tf.math.sinh, "sinh")
cosh = _unary(tf.math.cosh, "cosh")
asin = _unary(tf.math.asin, "asin")
acos = _unary(tf.math.acos, "acos")
atan = _unary(tf.math.atan, "atan")
asinh = _unary(tf.math.asinh, "asinh")
acosh = _unary(tf.math.acosh, "acosh")
atanh = _unary(tf.math.atanh, "atanh")
logical_not = _unary(tf.math.logical_not, "logical_not")


def positive(x, /):
    return x


def log2(x, /):
    return tf.math.log(x) / tf.math.log(tf.constant(2.0, x.dtype))


def log10(x, /):
    return tf.math.log(x) / tf.math.log(tf.constant(10.0, x.dtype))


def _int_passthrough(tf_fn, name):
    def f(x, /):
        return x if x.dtype.is_integer or x.dtype == tf.bool else tf_fn(x)

    f.__name__ = f.__qualname__ = name
    return f


floor = _int_passthrough(tf.math.floor, "floor")
ceil = _int_passthrough(tf.math.ceil, "ceil")
round = _int_passthrough(tf.math.round, "round")  # noqa: A001 - half to even, like the standard


def trunc(x, /):
    if x.dtype.is_integer:
        return x
    return tf.where(x < 0, tf.math.ceil(x), tf.math.floor(x))


def isfinite(x, /):
    if not (x.dtype.is_floating or x.dtype.is_complex):
        return tf.ones_like(x, dtype=tf.bool)
    return tf.math.is_finite(x)


def isinf(x, /):
    if not (x.dtype.is_floating or x.dtype.is_complex):
        return tf.zeros_like(x, dtype=tf.bool)
    return tf.math.is_inf(x)


def isnan(x, /):
    if not (x.dtype.is_floating or x.dtype.is_complex):
        return tf.zeros_like(x, dtype=tf.bool)
    return tf.math.is_nan(x)


def bitwise_invert(x, /):
    return tf.math.logical_not(x) if x.dtype == tf.bool else tf.bitwise.invert(x)


def _binary(tf_fn, name):
    def f(x1, x2, /):
        a, b = _pair(x1, x2)
        return tf_fn(a, b)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"Array API ``{name}`` (with type promotion) on ``{tf_fn.__name__}``."
    return f


add = _binary(tf.math.add, "add")
subtract = _binary(tf.math.subtract, "subtract")
multiply = _binary(tf.math.multiply, "multiply")
maximum = _binary(tf.math.maximum, "maximum")
minimum = _binary(tf.math.minimum, "minimum")
equal = _binary(tf.math.equal, "equal")
not_equal = _binary(tf.math.not_equal, "not_equal")
less = _binary(tf.math.less, "less")
less_equal = _binary(tf.math.less_equal, "less_equal")
greater = _binary(tf.math.greater, "greater")
greater_equal = _binary(tf.math.greater_equal, "greater_equal")
logical_and = _binary(tf.math.logical_and, "logical_and")
logical_or = _binary(tf.math.logical_or, "logical_or")
logical_xor = _binary(tf.math.logical_xor, "logical_xor")
atan2 = _binary(tf.math.atan2, "atan2")
remainder = _binary(tf.math.floormod, "remainder")
floor_divide = _binary(tf.math.floordiv, "floor_divide")
copysign = _binary(lambda a, b: tf.math.abs(a) * tf.where(tf.math.sign(b) < 0, -tf.ones_like(a), tf.ones_like(a)), "copysign")


def divide(x1, x2, /):
    a, b = _pair(x1, x2)
    if not (a.dtype.is_floating or a.dtype.is_complex):
        a, b = tf.cast(a, _DEFAULT_FLOAT), tf.cast(b, _DEFAULT_FLOAT)
    return tf.math.divide(a, b)


def pow(x1, x2, /):  # noqa: A001
    a, b = _pair(x1, x2)
    return tf.math.pow(a, b)


def logaddexp(x1, x2, /):
    a, b = _pair(x1, x2)
    m = tf.math.maximum(a, b)
    m = tf.stop_gradient(tf.where(tf.math.is_finite(m), m, tf.zeros_like(m)))
    return m + tf.math.log(tf.math.exp(a - m) + tf.math.exp(b - m))


def hypot(x1, x2, /):
    a, b = _pair(x1, x2)
    return tf.math.sqrt(a * a + b * b)


def bitwise_and(x1, x2, /):
    a, b = _pair(x1, x2)
    return tf.math.logical_and(a, b) if a.dtype == tf.bool else tf.bitwise.bitwise_and(a, b)


def bitwise_or(x1, x2, /):
    a, b = _pair(x1, x2)
    return tf.math.logical_or(a, b) if a.dtype == tf.bool else tf.bitwise.bitwise_or(a, b)


def bitwise_xor(x1, x2, /):
    a, b = _pair(x1, x2)
    return tf.math.logical_xor(a, b) if a.dtype == tf.bool else tf.bitwise.bitwise_xor(a, b)


def where(condition, x1, x2, /):
    """Elementwise select with broadcasting; Python-scalar operands take the other operand's
    dtype and two arrays are promoted (the standard's rules)."""
    a, b = _pair(x1, x2)
    if condition.dtype != tf.bool:
        condition = tf.cast(condition, tf.bool)
    return tf.where(condition, a, b)


def clip(x, /, min=None, max=None):  # noqa: A002 - the standard's names
    """Clamp to ``[min, max]`` (either may be ``None``). The gradient passes where
    ``min <= x <= max`` (``tf.clip_by_value``, as keras uses)."""
    if min is None and max is None:
        return x
    lo = None if min is None else _const(min, x.dtype)
    hi = None if max is None else _const(max, x.dtype)
    if lo is not None and hi is not None:
        if x.dtype.is_integer or x.dtype == tf.bool:
            return tf.math.minimum(tf.math.maximum(x, lo), hi)
        return tf.clip_by_value(x, lo, hi)
    if lo is not None:
        return tf.math.maximum(x, lo)
    return tf.math.minimum(x, hi)


# ----------------------------------------------------------------------------- reductions


def _axis(axis):
    if axis is None:
        return None
    if isinstance(axis, tuple):
        return list(axis)
    return axis


def _accum_int(x, dtype):
    if dtype is not None:
        return tf.cast(x, _dtype(dtype))
    if x.dtype == tf.bool or (x.dtype.is_integer and x.dtype.size < 8):
        return tf.cast(x, tf.uint64 if x.dtype in _UNSIGNED else _DEFAULT_INT)
    return x


def sum(x, /, *, axis=None, dtype=None, keepdims: builtins.bool = False):  # noqa: A001
    return tf.math.reduce_sum(_accum_int(x, dtype), axis=_axis(axis), keepdims=keepdims)


def prod(x, /, *, axis=None, dtype=None, keepdims: builtins.bool = False):
    return tf.math.reduce_prod(_accum_int(x, dtype), axis=_axis(axis), keepdims=keepdims)


def mean(x, /, *, axis=None, keepdims: builtins.bool = False):
    return tf.math.reduce_mean(x, axis=_axis(axis), keepdims=keepdims)


def max(x, /, *, axis=None, keepdims: builtins.bool = False):  # noqa: A001
    return tf.math.reduce_max(x, axis=_axis(axis), keepdims=keepdims)


def min(x, /, *, axis=None, keepdims: builtins.bool = False):  # noqa: A001
    return tf.math.reduce_min(x, axis=_axis(axis), keepdims=keepdims)


def _as_bool(x):
    return x if x.dtype == tf.bool else tf.math.not_equal(x, tf.zeros((), x.dtype))


def all(x, /, *, axis=None, keepdims: builtins.bool = False):  # noqa: A001
    return tf.math.reduce_all(_as_bool(x), axis=_axis(axis), keepdims=keepdims)


def any(x, /, *, axis=None, keepdims: builtins.bool = False):  # noqa: A001
    return tf.math.reduce_any(_as_bool(x), axis=_axis(axis), keepdims=keepdims)


def var(x, /, *, axis=None, correction: float = 0.0, keepdims: builtins.bool = False):
    m = tf.math.reduce_mean(x, axis=_axis(axis), keepdims=True)
    ss = tf.math.reduce_sum(tf.math.square(x - m), axis=_axis(axis), keepdims=keepdims)
    n = tf.cast(tf.size(x), x.dtype) / tf.cast(tf.size(m), x.dtype)
    return ss / (n - correction)


def std(x, /, *, axis=None, correction: float = 0.0, keepdims: builtins.bool = False):
    return tf.math.sqrt(var(x, axis=axis, correction=correction, keepdims=keepdims))


def _flat_or(x, axis):
    if axis is None:
        return tf.reshape(x, (-1,)), 0
    return x, axis


def _arg_reduce(tf_fn, x, axis, keepdims):
    y, ax = _flat_or(x, axis)
    out = tf_fn(y, axis=ax, output_type=tf.int64)
    if keepdims:
        out = tf.reshape(out, [1] * x.shape.rank) if axis is None else tf.expand_dims(out, ax)
    return out


def argmax(x, /, *, axis=None, keepdims: builtins.bool = False):
    return _arg_reduce(tf.math.argmax, x, axis, keepdims)


def argmin(x, /, *, axis=None, keepdims: builtins.bool = False):
    return _arg_reduce(tf.math.argmin, x, axis, keepdims)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial: builtins.bool = False):
    if axis is None:
        if x.shape.rank != 1:
            raise ValueError("cumulative_sum: axis is required for arrays of more than one dimension")
        axis = 0
    y = tf.math.cumsum(_accum_int(x, dtype), axis=axis)
    if include_initial:
        pad = [[0, 0]] * y.shape.rank
        pad[axis % y.shape.rank] = [1, 0]
        y = tf.pad(y, pad)
    return y


# ----------------------------------------------------------------------------- manipulation


def reshape(x, /, shape, *, copy=None):
    return tf.reshape(x, shape)


def expand_dims(x, /, *, axis: int = 0):
    return tf.expand_dims(x, axis)


def squeeze(x, /, axis):
    if isinstance(axis, tuple):
        axis = list(axis)
    return tf.squeeze(x, axis=axis)


def _norm_axes(axes, ndim):
    if isinstance(axes, int):
        axes = (axes,)
    out = tuple(a % ndim for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axes!r}")
    return out


def permute_dims(x, /, axes):
    return tf.transpose(x, perm=list(axes))


def moveaxis(x, source, destination, /):
    ndim = x.shape.rank
    src = _norm_axes(source, ndim)
    dst = _norm_axes(destination, ndim)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    order = [i for i in range(ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    if order == list(range(ndim)):
        return x
    return tf.transpose(x, perm=order)


def matrix_transpose(x, /):
    perm = list(range(x.shape.rank))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return tf.transpose(x, perm=perm)


def broadcast_to(x, /, shape):
    shape = tuple(shape)
    if builtins.any(d is None for d in shape):
        raise ValueError(
            f"broadcast_to: the target shape {shape} has unknown dimensions; pass tf.shape(...) "
            "or a fully known shape"
        )
    return tf.broadcast_to(x, shape)


def broadcast_arrays(*arrays):
    shape = tf.shape(arrays[0])
    for a in arrays[1:]:
        shape = tf.broadcast_dynamic_shape(shape, tf.shape(a))
    return [tf.broadcast_to(a, shape) for a in arrays]


def concat(arrays, /, *, axis: int | None = 0):
    arrays = list(arrays)
    if axis is None:
        arrays = [tf.reshape(a, (-1,)) for a in arrays]
        axis = 0
    d = result_type(*arrays)
    return tf.concat([tf.cast(a, d) for a in arrays], axis=axis)


def stack(arrays, /, *, axis: int = 0):
    arrays = list(arrays)
    d = result_type(*arrays)
    return tf.stack([tf.cast(a, d) for a in arrays], axis=axis)


def flip(x, /, *, axis=None):
    axes = list(range(x.shape.rank)) if axis is None else list(_norm_axes(axis, x.shape.rank))
    return tf.reverse(x, axes)


def roll(x, /, shift, *, axis=None):
    if axis is None:
        return tf.reshape(tf.roll(tf.reshape(x, (-1,)), shift, 0), tf.shape(x))
    return tf.roll(x, shift, axis)


def tile(x, repetitions, /):
    reps = list(repetitions)
    if len(reps) < x.shape.rank:
        reps = [1] * (x.shape.rank - len(reps)) + reps
    elif len(reps) > x.shape.rank:
        x = tf.reshape(x, [1] * (len(reps) - x.shape.rank) + list(x.shape))
    return tf.tile(x, reps)


def take(x, indices, /, *, axis: int | None = None):
    if axis is None:
        if x.shape.rank != 1:
            raise ValueError("take: axis is required for arrays of more than one dimension")
        axis = 0
    return tf.gather(x, indices, axis=axis)


def take_along_axis(x, indices, /, *, axis: int = -1):
    """``out[..., i, ...] = x[..., indices[..., i, ...], ...]`` along ``axis``; ``indices`` has
    ``x``'s rank and broadcasts against ``x`` on the other dimensions."""
    ndim = x.shape.rank
    if indices.shape.rank != ndim:
        raise ValueError(
            f"take_along_axis: 'indices' must have the rank of 'x' ({ndim}); got rank {indices.shape.rank}"
        )
    ax = axis % ndim
    last = ax == ndim - 1
    if not last:
        x = moveaxis(x, ax, -1)
        indices = moveaxis(indices, ax, -1)
    # broadcast the batch dimensions (all but the last) of x and indices against each other
    xs, ins = x.shape, indices.shape
    if xs[:-1] != ins[:-1]:
        if xs[:-1].is_fully_defined() and ins[:-1].is_fully_defined():
            batch = tf.broadcast_static_shape(xs[:-1], ins[:-1]).as_list()
            x = tf.broadcast_to(x, batch + [xs[-1]])
            indices = tf.broadcast_to(indices, batch + [ins[-1]])
        else:
            dyn = tf.broadcast_dynamic_shape(tf.shape(x)[:-1], tf.shape(indices)[:-1])
            x = tf.broadcast_to(x, tf.concat([dyn, tf.shape(x)[-1:]], 0))
            indices = tf.broadcast_to(indices, tf.concat([dyn, tf.shape(indices)[-1:]], 0))
    out = tf.gather(x, indices, axis=ndim - 1, batch_dims=ndim - 1)
    return out if last else moveaxis(out, -1, ax)


def sort(x, /, *, axis: int = -1, descending: builtins.bool = False, stable: builtins.bool = True):
    return tf.sort(x, axis=axis, direction="DESCENDING" if descending else "ASCENDING")


def argsort(x, /, *, axis: int = -1, descending: builtins.bool = False, stable: builtins.bool = True):
    return tf.cast(
        tf.argsort(x, axis=axis, direction="DESCENDING" if descending else "ASCENDING", stable=stable),
        _DEFAULT_INT,
    )


# ----------------------------------------------------------------------------- linear algebra


def matmul(x1, x2, /):
    a, b = _pair(x1, x2)
    if a.shape.rank == 1 and b.shape.rank == 1:
        return tf.reduce_sum(a * b)
    if a.shape.rank == 1:
        return tf.squeeze(tf.linalg.matmul(a[None, :], b), -2)
    if b.shape.rank == 1:
        return tf.squeeze(tf.linalg.matmul(a, b[:, None]), -1)
    return tf.linalg.matmul(a, b)


def vecdot(x1, x2, /, *, axis: int = -1):
    a, b = _pair(x1, x2)
    return tf.reduce_sum(tf.math.conj(a) * b if a.dtype.is_complex else a * b, axis=axis)


def tensordot(x1, x2, /, *, axes=2):
    a, b = _pair(x1, x2)
    return tf.tensordot(a, b, axes=axes)


def meshgrid(*arrays, indexing: str = "xy"):
    return tf.meshgrid(*arrays, indexing=indexing)


def triu(x, /, *, k: int = 0):
    rows = tf.range(tf.shape(x)[-2])[:, None]
    cols = tf.range(tf.shape(x)[-1])[None, :]
    return tf.where(cols - rows >= k, x, tf.zeros_like(x))


def tril(x, /, *, k: int = 0):
    rows = tf.range(tf.shape(x)[-2])[:, None]
    cols = tf.range(tf.shape(x)[-1])[None, :]
    return tf.where(cols - rows <= k, x, tf.zeros_like(x))


# ----------------------------------------------------------------------------- misc


def device(x, /):
    return getattr(x, "device", None)


def to_device(x, device, /, *, stream=None):
    with tf.device(device):
        return tf.identity(x)


def __getattr__(name: str):
    raise AttributeError(
        f"multiloss.backends.tensorflow_namespace has no Array API function {name!r} (only the "
        "subset multiloss uses is implemented; add it here on tf ops if a loss needs it)"
    )
