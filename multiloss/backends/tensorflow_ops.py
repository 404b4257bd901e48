"""TensorFlow fast primitives for ``multiloss._ops`` (fused ``tf.nn`` / ``tf.math`` kernels).

Imported by ``multiloss._namespace`` the first time a ``tf.Tensor``/``tf.Variable`` is seen.
Each override keeps the generic body's semantics (see ``multiloss._ops``); all are plain tf
ops, so they trace under ``tf.function`` and compile under XLA.
"""

from __future__ import annotations

import tensorflow as tf

from .. import _ops, _validation
from .._reduction import reduce
from ..losses._common import class_axis
from . import tensorflow_namespace as _tfn

try:  # the tape API under tf.custom_gradient, without its per-call cost (~60 us eagerly)
    from tensorflow.python.eager import record as _record
except ImportError:  # pragma: no cover - TF moved it: the plain ops and TF's own gradients
    _record = None

_NS = "multiloss.backends.tensorflow_namespace"


def _log_softmax(x, axis=-1):
    return tf.nn.log_softmax(x, axis=axis)


def _softmax(x, axis=-1):
    return tf.nn.softmax(x, axis=axis)


def _logsumexp(x, axis=-1, keepdims=False):
    return tf.math.reduce_logsumexp(x, axis=axis, keepdims=keepdims)


_LOW = (tf.float16, tf.bfloat16)


def _via_float32(fn):
    """``fn`` evaluated in float32 for float16/bfloat16 input: TensorFlow's half-precision
    ``softplus`` returns ``x`` itself above a threshold derived from the dtype's epsilon
    (bfloat16: x > 2.85), an error of up to 1.5% that the generic body does not have."""

    def f(x):
        if x.dtype in _LOW:
            return tf.cast(fn(tf.cast(x, tf.float32)), x.dtype)
        return fn(x)

    f.__name__ = fn.__name__
    return f


def _classes_last(x, labels, axis):
    """``x`` with its class ``axis`` moved last and ``labels`` as int32/int64 (what TF's
    gathers and its sparse cross-entropy kernel take)."""
    ndim = x.shape.rank
    ax = axis % ndim
    if ax != ndim - 1:
        x = _tfn.moveaxis(x, ax, -1)
    if labels.dtype not in (tf.int32, tf.int64):
        labels = tf.cast(labels, tf.int64)
    return x, labels


def _pick(x, labels, axis=-1):
    """``x[..., labels, ...]`` along ``axis``: ``tf.gather`` with ``batch_dims`` (the class axis
    moved last first when it is not).

    Eagerly, under a ``GradientTape`` that watches ``x``, the gather's gradient is recorded as
    ``where(one_hot(labels), g, 0)`` (:func:`_pick_gradient`): TF's own, ``_BatchGatherGrad``,
    is ~100 eager ops (shape arithmetic, a transpose and an ``UnsortedSegmentSum``): 3.7 ms
    forward+backward for one pick at 64x10 on CPU, vs 0.4 ms. The same values: ``g`` where a
    label points, exactly 0 elsewhere (an out-of-range label, which only a GPU gather lets
    through, gets no gradient in either). In a graph (``tf.function``) TF's gradient stays
    (grappler folds its shape arithmetic; ``tf.gradients`` sees only graph ops)."""
    x, labels = _classes_last(_read(x), labels, axis)
    ndim = x.shape.rank
    if not _taped(x):
        return tf.gather(x, labels, axis=ndim - 1, batch_dims=ndim - 1)
    with _record.stop_recording():
        out = tf.gather(x, labels, axis=ndim - 1, batch_dims=ndim - 1)
    _record.record_operation("MultilossPick", [out], [x], _pick_gradient(labels, x.shape[-1]))
    return out


def _pick_gradient(labels, n_classes):
    """The gradient of :func:`_pick` w.r.t. ``x`` (classes last): the output gradient ``g``
    scattered into zeros at ``labels``, as a select (exact: no ``g * one_hot`` product, which
    would turn an infinite ``g`` into nan off the label). Differentiable itself (a tape that
    records the backward pass gets ``where``'s gradient)."""

    def grad(g):
        hot = tf.one_hot(labels, n_classes, on_value=True, off_value=False, dtype=tf.bool)
        return [tf.where(hot, tf.expand_dims(g, -1), tf.constant(0, g.dtype))]

    return grad


def _log_softmax_pick(x, labels, axis=-1):
    """``log_softmax(x)[labels]`` as ``-tf.nn.sparse_softmax_cross_entropy_with_logits`` (the
    kernel of keras's own sparse categorical cross-entropy): one fused kernel each way. The
    generic ``pick`` is a batched ``tf.gather`` whose eager gradient is a chain of ~40 ops
    (``_BatchGatherGrad``): 4.6x keras forward+backward at 64x10 in eager mode."""
    x, labels = _classes_last(x, labels, axis)
    return -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)


def _taped(x) -> bool:
    """Eager, and a ``GradientTape`` watches the tensor ``x``: its gradient is wanted, so an op
    that records its own backward pass must (a ``tf.Variable`` is read into a tensor first:
    :func:`_read`)."""
    return (_record is not None and _record.could_possibly_record() and tf.executing_eagerly()
            and _record.should_record_backprop([x]))


def _read(x):
    """A ``tf.Variable`` as the tensor of its value (a ``ReadVariableOp`` the tape records, so
    the gradient reaches the variable, as ``tf.custom_gradient`` does); a tensor as it is."""
    return tf.convert_to_tensor(x) if isinstance(x, tf.Variable) else x


def _clamped_log(x, min=-100.0):
    """``_ops.clamped_log`` eagerly in three ops instead of six, the same values: ``log(x)``,
    then ``min`` wherever that is not above ``min`` (``x == 0``: -inf; ``x < 0`` or nan: nan,
    which fails the comparison as the generic ``x > 0`` does). Under a tape its gradient is
    recorded as ``where(keep, g, 0) * reciprocal(where(keep, x, 1))``, ``keep = log(x) > min``:
    the generic body's chain rule through its two selects (``g`` kept where both pass, times
    ``Log``'s gradient ``reciprocal`` of the selected ``x``), without their ~30 eager ops of
    broadcast bookkeeping. A graph
    (``tf.function``: ``tf.gradients`` sees only graph ops) runs the generic body."""
    if _record is None or not tf.executing_eagerly():
        return _ops.clamped_log.generic(_tfn, x, min)
    x = _read(x)
    taped = _record.could_possibly_record()
    if taped and not _taped(x):  # a forward accumulator alone (``tf.autodiff``): TF's gradients
        return _ops.clamped_log.generic(_tfn, x, min)
    low = tf.constant(min, x.dtype)
    with _record.stop_recording():
        logx = tf.math.log(x)
        keep = logx > low
        out = tf.where(keep, logx, low)
    if taped:
        def grad(g):
            # the generic chain's own form: the selected g times Log's reciprocal(x) of a safe x
            # (1 where clamped), so that neither a second derivative nor a forward accumulator
            # (which transposes this function) meets 0 * (1 / 0)
            safe = tf.where(keep, x, tf.constant(1, x.dtype))
            return [tf.where(keep, g, tf.constant(0, g.dtype)) * tf.math.reciprocal(safe)]

        _record.record_operation("MultilossClampedLog", [out], [x], grad)
    return out


def _fused_loss(name, *args, **kwargs):
    """``_ops.fused_loss``: ``cross_entropy`` of class indices (no class weight, no
    ``ignore_index``, no smoothing: keras's ``SparseCategoricalCrossentropy``) as
    ``tf.nn.sparse_softmax_cross_entropy_with_logits`` alone; everything else ``NotImplemented``."""
    if name == "cross_entropy":
        return _sparse_cross_entropy(*args, **kwargs)
    return NotImplemented


def _sparse_cross_entropy(logits, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """The canonical ``cross_entropy``'s class-index fast path (``-log_softmax_pick``, then the
    reduction) without its two negations (``-(-kernel)``: the same bits, two eager ops fewer each
    way) and without reading the labels: on the CPU the kernel checks their range itself
    ("Received a label value of 5 which is outside the valid range of [0, 3)"), which is turned
    into an ``IndexError`` so that the canonical function re-runs its own check for its message.
    Taken only where the canonical check would read host values (``value_route`` READ: eager,
    CPU tensors, checks not "off"); a GPU kernel does not check (nan), so there, and in graphs,
    the canonical body runs as before."""
    if (weight is not None or ignore_index is not None or label_smoothing != 0
            or not target.dtype.is_integer or reduction not in ("none", "sum", "mean")
            or _validation.value_route(_tfn, target) != _validation.READ or not _is_host(logits)):
        return NotImplemented
    x, labels = _classes_last(logits, target, class_axis(logits))
    try:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=x)
    except tf.errors.InvalidArgumentError as e:
        raise IndexError(f"cross_entropy: {e.message}") from e
    return reduce(_tfn, loss, reduction, "cross_entropy")


def _one_hot(labels, num_classes, dtype=None, axis=-1):
    # tf.one_hot encodes out-of-range (incl. negative) labels as all zeros, like the generic one
    return tf.one_hot(labels, num_classes, axis=axis, dtype=dtype if dtype is not None else tf.float32)


def _xlogy(x, y):
    # tf.math.xlogy is 0 where x == 0, and its gradient w.r.t. y there is 0 (unless y == 0)
    if x.dtype != y.dtype:
        x, y = _tfn._pair(x, y)
    return tf.math.xlogy(x, y)


def _is_concrete(x):
    """Values can be read now: eager execution and ``x`` is not a graph/symbolic tensor."""
    return tf.executing_eagerly() and not tf.is_symbolic_tensor(x)


def _is_host(x):
    """An eager tensor on a CPU device (``/job:localhost/replica:0/task:0/device:CPU:0``)."""
    return "GPU:" not in x.device and "TPU:" not in x.device


def _can_device_assert(x):
    """Only in a graph (``tf.function``): an eager ``tf.debugging.Assert`` reads its condition
    on the host at once."""
    return not tf.executing_eagerly()


def _device_assert(cond, message):
    # a stateful graph op: tf.function's automatic control dependencies run it although its
    # output is unused; raises InvalidArgumentError("assertion failed: [message]") when the
    # graph runs. XLA (jit_compile=True) drops it ("Ignoring Assert operator", tf2xla).
    tf.debugging.Assert(cond, [message])


def _min_max(x, of=None):
    """``_ops.min_max``: an eager tensor on the CPU is reduced by NumPy on its host buffer
    (``.numpy()``; nan propagates as in ``tf.reduce_min``), ~3 us instead of five
    eager ops (~90 us: ``StopGradient``, two constants, ``Min``, ``Max``). A value check reads
    these numbers at once (``float``/``int``); NumPy scalars compare like 0-d tensors. Elsewhere
    (a graph, a GPU tensor in "strict" mode) the generic reductions."""
    if of is not None:
        x = of(x)
    if _is_concrete(x) and _is_host(x) and x.shape.num_elements() != 0:  # (NumPy refuses an empty min)
        a = x.numpy()
        return a.min(), a.max()
    return _ops.min_max.generic(_tfn, x)


def _logistic_loss(x, t):
    # tf.nn.sigmoid_cross_entropy_with_logits computes max(x, 0) - x t + log1p(exp(-|x|)), the
    # same value, as one op with a fused gradient (it requires equal shapes and dtypes)
    if x.dtype != t.dtype or x.shape != t.shape:
        return _ops.logistic_loss.generic(_tfn, x, t)
    if x.dtype in _LOW:  # float32 inside, as softplus/log_sigmoid above
        return tf.cast(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(t, tf.float32),
                                                               logits=tf.cast(x, tf.float32)), x.dtype)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=x)


def _scan(f, init, xs):
    """``_ops.scan`` as a ``tf.while_loop`` (traceable, and compiled by XLA under
    ``tf.function(jit_compile=True)``; differentiable). The first step runs before the loop so
    the per-step outputs' shapes and dtypes are known for their ``TensorArray``s."""
    leaves = tf.nest.flatten(xs)
    n = leaves[0].shape[0]
    if n is None:
        n = tf.shape(leaves[0])[0]
    elif n == 0:
        return init, None

    def at(i):
        return tf.nest.pack_sequence_as(xs, [tf.gather(a, i) for a in leaves])

    carry, y0 = f(init, at(0))
    y_leaves = [] if y0 is None else tf.nest.flatten(y0)
    arrays = [tf.TensorArray(y.dtype, size=n, element_shape=y.shape).write(0, y) for y in y_leaves]

    def body(i, c, arrs):
        c, y = f(c, at(i))
        arrs = [a.write(i, v) for a, v in zip(arrs, [] if y is None else tf.nest.flatten(y))]
        return i + 1, c, arrs

    kw = {"maximum_iterations": n - 1} if isinstance(n, int) else {}
    _, carry, arrays = tf.while_loop(lambda i, c, arrs: i < n, body, (tf.constant(1), carry, arrays), **kw)
    if y0 is None:
        return carry, None
    return carry, tf.nest.pack_sequence_as(y0, [a.stack() for a in arrays])


_ops.register(
    _NS,
    scan=_scan,
    logistic_loss=_logistic_loss,
    stop_gradient=tf.stop_gradient,
    log_softmax=_log_softmax,
    softmax=_softmax,
    logsumexp=_logsumexp,
    softplus=_via_float32(tf.math.softplus),
    log_sigmoid=_via_float32(tf.math.log_sigmoid),
    sigmoid=tf.math.sigmoid,
    take_along_axis=lambda x, indices, axis=-1: _tfn.take_along_axis(x, indices, axis=axis),
    pick=_pick,
    log_softmax_pick=_log_softmax_pick,
    one_hot=_one_hot,
    xlogy=_xlogy,
    min_max=_min_max,
    clamped_log=_clamped_log,
    fused_loss=_fused_loss,
    is_concrete=_is_concrete,
    is_host=_is_host,
    can_device_assert=_can_device_assert,
    device_assert=_device_assert,
)


def _sparsemax(x, axis=-1):
    """``_ops.sparsemax``: the generic forward (one sort) with the sparsemax Jacobian written out
    as its gradient, ``g_S - mean_S(g_S)`` on the support S (no sort gradient: ~25% faster
    forward+backward at 4096x1000 under ``tf.function`` on CPU)."""

    @tf.custom_gradient
    def project(t):
        p = _ops.sparsemax.generic(_tfn, t, axis)

        def grad(g):
            s = tf.cast(p > 0, p.dtype)
            gs = g * s
            size = tf.maximum(tf.reduce_sum(s, axis, keepdims=True), 1)  # a fully masked row: no 0/0
            return gs - s * (tf.reduce_sum(gs, axis, keepdims=True) / size)

        return p, grad

    return project(x)


_ops.register(_NS, sparsemax=_sparsemax)
