"""JAX fast primitives for ``multiloss._ops`` (``jax.nn`` / ``lax`` kernels).

Imported by ``multiloss._namespace`` the first time a ``jax.Array`` (or tracer) is seen, and
by ``multiloss.jax``. Each override keeps the generic definition's semantics (values, and
gradients where the generic one is differentiable); ``tests/test_jax_ops.py`` holds every
override against ``_ops.<name>.generic`` on jax arrays.

Notes (measured with ``benchmarks/bench_jax.py``, CPU):

* ``stop_gradient`` is ``lax.stop_gradient``: the shift of log-softmax/logsumexp gets no
  gradient (a naive max-shift that differentiates through the max was one cause of the
  13.6x gap to optax in DESIGN.md). ``jax.nn.log_softmax``/``logsumexp`` do the same.
* ``pick`` is ``take_along_axis`` like optax's integer-label cross-entropy. A one-hot
  backward (``custom_jvp`` whose tangent is a masked sum, so the transpose is an elementwise
  select instead of a scatter-add) was measured and gave no gain on CPU (within 2%), so the
  plain gather stays.
* ``log_softmax_pick`` and ``squared_difference`` keep their generic bodies: under ``jit``
  ``pick(x) - logsumexp(x)`` is exactly optax's integer-label cross-entropy (1.00x fwd+bwd
  at 4096x1000) and ``d * d`` fuses like optax's ``errors ** 2``.
* ``xlogy`` is *not* overridden: ``jax.scipy.special.xlogy`` propagates nan from ``y`` where
  ``x == 0`` and has a nan/-inf gradient at ``(0, 0)``; the generic one gives 0 there. Under
  ``jit`` both fuse into the same few elementwise ops.
* ``is_concrete`` is false for any tracer (``jit``, ``grad``, ``vmap`` ...): value checks
  (labels in range, probabilities in [0, 1]) run only eagerly, never a host round-trip
  inside a transformation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import _ops

_NS = "jax.numpy"


def _pick(x, labels, axis=-1):
    # optax softmax_cross_entropy_with_integer_labels gathers the same way
    return jnp.take_along_axis(x, jnp.expand_dims(labels, axis), axis=axis).squeeze(axis)


def _is_concrete(x):
    return not isinstance(x, jax.core.Tracer)


def _is_host(x):
    # a concrete array whose every device is a CPU: reading it costs no accelerator sync
    devices = getattr(x, "devices", None)
    return devices is None or all(d.platform == "cpu" for d in devices())


def _can_device_assert(x):
    # a checkify check needs a trace to live in: eagerly it would be evaluated (a host read)
    return isinstance(x, jax.core.Tracer)


def _device_assert(cond, message):
    # checkify.debug_check, not checkify.check: under checkify.checkify both become a
    # functionalized error, but a plain check under jax.jit without checkify fails to lower
    # ("Cannot abstractly evaluate a checkify.check which was not functionalized",
    # jax/_src/checkify.py check_lowering_rule) while a debug check lowers to nothing there.
    # The message is a format string for checkify: braces are escaped.
    from jax.experimental import checkify

    checkify.debug_check(cond, message.replace("{", "{{").replace("}", "}}"))


def _staged(x) -> bool:
    """Whether ``x`` is being staged into a compiled program (``jit``, ``vmap``, a loop body)
    rather than computed now. Eager autodiff (``jax.grad`` outside ``jit``) wraps concrete
    values in tracers that carry them as ``primal``; those count as eager."""
    while isinstance(x, jax.core.Tracer):
        primal = getattr(x, "primal", None)
        if primal is None:
            return True
        x = primal
    return False


def _scan(f, init, xs):
    """``jax.lax.scan`` when staged (one compiled loop under ``jit``); the generic Python loop
    when eager, where ``lax.scan`` would trace and compile its body anew on every call (a
    closure is a new function each time): measured 1.5 s per eager CTC value-and-grad call
    with ``lax.scan`` against tens of ms with the loop."""
    if any(_staged(v) for v in jax.tree_util.tree_leaves((init, xs))):
        return jax.lax.scan(f, init, xs)
    return _ops.scan.generic(jnp, f, init, xs)


def _one_hot(labels, num_classes, dtype=None, axis=-1):
    # like the generic one, entries outside [0, num_classes) encode as all zeros
    return jax.nn.one_hot(labels, num_classes, dtype=dtype if dtype is not None else jnp.float32, axis=axis)


_ops.register(
    _NS,
    # one compiled loop under jit (the CTC recursion; see _ops.scan), a plain loop eagerly
    scan=_scan,
    stop_gradient=jax.lax.stop_gradient,
    log_softmax=lambda x, axis=-1: jax.nn.log_softmax(x, axis=axis),
    softmax=lambda x, axis=-1: jax.nn.softmax(x, axis=axis),
    logsumexp=lambda x, axis=-1, keepdims=False: jax.nn.logsumexp(x, axis=axis, keepdims=keepdims),
    softplus=jax.nn.softplus,
    log_sigmoid=jax.nn.log_sigmoid,
    sigmoid=jax.nn.sigmoid,
    take_along_axis=lambda x, indices, axis=-1: jnp.take_along_axis(x, indices, axis=axis),
    pick=_pick,
    one_hot=_one_hot,
    is_concrete=_is_concrete,
    is_host=_is_host,
    can_device_assert=_can_device_assert,
    device_assert=_device_assert,
)


def _sparsemax(x, axis=-1):
    """``_ops.sparsemax``: the generic forward (one sort), with the sparsemax Jacobian as its
    JVP, ``s * t - s * sum(s * t) / |S|`` (``optax.projections.projection_simplex``'s rule, over
    an axis of a batch): the backward pass is elementwise instead of the sort's transpose
    (a scatter), forward+backward ~= forward under ``jit``."""
    return _ops.sparsemax.generic(jnp, x, axis)


_sparsemax = jax.custom_jvp(_sparsemax, nondiff_argnums=(1,))


@_sparsemax.defjvp
def _sparsemax_jvp(axis, primals, tangents):
    (x,), (t,) = primals, tangents
    p = _sparsemax(x, axis)
    s = (p > 0).astype(p.dtype)
    st = s * t
    size = jnp.maximum(jnp.sum(s, axis=axis, keepdims=True), 1)  # a fully masked row: p = 0, no 0/0
    return p, st - s * (jnp.sum(st, axis=axis, keepdims=True) / size)


_ops.register(_NS, sparsemax=lambda x, axis=-1: _sparsemax(x, axis))


# ----------------------------------------------------------------------------- eager calls
# Each eager jax.numpy call is one dispatch (~10 us on CPU, more on a GPU); a composite such
# as ``jax.nn.logsumexp`` (not jitted in jax 0.10: max, stop_gradient, isfinite, where, sub,
# exp, sum, log, add, squeeze ...) costs ~255 us eagerly at 4x3 against ~7 us as one compiled
# call, and ``take_along_axis`` ~79 us (its index arithmetic is eager ops too). So the hot
# primitives run as ONE compiled call: ``jax.jit`` of the very body a jitted loss runs (the
# jax.nn function or the generic definition on jax.numpy). Under an enclosing ``jit`` /
# ``grad`` / ``vmap`` / ``checkify`` a nested jit is inlined: the compiled program, its values
# and XLA's memory figure do not change; eagerly the call compiles once per shape and dtype,
# like every eager jax op. ``jax.nn.log_softmax``/``softplus``/``log_sigmoid``/``sigmoid``/
# ``one_hot`` are jitted by jax already. Measured with ``multiloss bench --backend jax --mode
# eager`` (see docs/performance.md).


def _static(axis):
    """An ``axis`` argument as a jit static (hashable) value."""
    return tuple(axis) if isinstance(axis, list) else axis


_logsumexp_jit = jax.jit(
    lambda x, axis=-1, keepdims=False: jax.nn.logsumexp(x, axis=axis, keepdims=keepdims),
    static_argnames=("axis", "keepdims"),
)
_softmax_jit = jax.jit(lambda x, axis=-1: jax.nn.softmax(x, axis=axis), static_argnames=("axis",))
_take_jit = jax.jit(lambda x, indices, axis=-1: jnp.take_along_axis(x, indices, axis=axis), static_argnames=("axis",))
_pick_jit = jax.jit(_pick, static_argnames=("axis",))
_sparsemax_jit = jax.jit(lambda x, axis=-1: _sparsemax(x, axis), static_argnames=("axis",))


def _generic_jit(name: str, *static: str):
    """``jax.jit`` of the generic definition of primitive ``name`` on jax.numpy (it calls the
    other primitives, overrides included, inside the one compiled program)."""
    generic = getattr(_ops, name).generic
    return jax.jit(lambda *args, **kwargs: generic(jnp, *args, **kwargs), static_argnames=static)


def _python_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_min_max_jit = _generic_jit("min_max", "of")


try:  # jax's own "is any transformation tracing now" (jit, grad, vmap ...); private, hence the guard
    from jax._src.core import trace_state_clean as _no_trace
except ImportError:  # pragma: no cover - moved: never the NumPy path
    def _no_trace() -> bool:
        return False


def _min_max(x, of=None):
    """A concrete CPU array (what a value check reads on the host) is reduced by NumPy on its
    buffer (``np.asarray`` is zero-copy there): ~5 us against ~60 us for a compiled call plus
    two device-to-host reads of its results. Only with no trace active: under ``jit`` a
    closed-over concrete array's reductions are traced (the check is then skipped or asserted,
    ``_validation._read``), and NumPy would read it at trace time instead. Else one compiled
    call (``of`` module-level: a stable static argument) or, for a lambda's ``of``, the
    generic body op by op."""
    if _no_trace() and _is_concrete(x) and _is_host(x) and x.size:
        a = np.asarray(x)
        if of is not None:
            a = np.asarray(of(a))
        return a.min(), a.max()
    if of is None or "<" not in getattr(of, "__qualname__", "<"):  # module-level: a stable static
        return _min_max_jit(x, of=of)
    return _ops.min_max.generic(jnp, x, of)  # a lambda or closure: op by op
_log_softmax_pick_jit = _generic_jit("log_softmax_pick", "axis")
_softmax_ce_jit = _generic_jit("softmax_cross_entropy", "axis")
_huber_jit = _generic_jit("huber", "delta")
_pairwise_jit = _generic_jit("pairwise_distance", "p", "eps", "keepdim")


def _huber(x, y, delta=1.0):
    if _python_number(delta):
        return _huber_jit(x, y, delta=float(delta))
    return _ops.huber.generic(jnp, x, y, delta)  # an array delta: traced through, op by op


def _pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    if _python_number(p) and _python_number(eps):
        return _pairwise_jit(x1, x2, p=float(p), eps=float(eps), keepdim=bool(keepdim))
    return _ops.pairwise_distance.generic(jnp, x1, x2, p, eps, keepdim)


_ops.register(
    _NS,
    logsumexp=lambda x, axis=-1, keepdims=False: _logsumexp_jit(x, axis=_static(axis), keepdims=bool(keepdims)),
    softmax=lambda x, axis=-1: _softmax_jit(x, axis=_static(axis)),
    take_along_axis=lambda x, indices, axis=-1: _take_jit(x, indices, axis=axis),
    pick=lambda x, labels, axis=-1: _pick_jit(x, labels, axis=axis),
    sparsemax=lambda x, axis=-1: _sparsemax_jit(x, axis=axis),
    min_max=_min_max,
    sparse_plus=jax.nn.sparse_plus,
    positive_part=lambda z: jnp.maximum(z, 0),  # lax.max's JVP shares a tie: 1/2 at z == 0
    log_softmax_pick=lambda x, labels, axis=-1: _log_softmax_pick_jit(x, labels, axis=axis),
    softmax_cross_entropy=lambda x, t, axis=-1: _softmax_ce_jit(x, t, axis=_static(axis)),
    huber=_huber,
    pairwise_distance=_pairwise_distance,
)
