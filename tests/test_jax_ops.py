"""The JAX fast primitives (multiloss/backends/jax_ops.py) keep the generic definitions'
semantics: each override against ``_ops.<name>.generic`` on the same jax arrays, values and
gradients, including large logits, out-of-range one-hot labels and traced inputs."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

from multiloss import _ops  # noqa: E402
from multiloss.backends import jax_ops  # noqa: E402, F401  (registers the overrides)

_rng = np.random.default_rng(0)
X = jnp.asarray(np.concatenate([_rng.normal(scale=3.0, size=(3, 6)), [[-50.0, 50.0, 0.0, 700.0, -700.0, 1.0]]]))
LABELS = jnp.asarray([0, 5, 2, 3])

# primitive -> call(prim) on (xp, x); every differentiable override is compared with its grad
CALLS = {
    "log_softmax": lambda f: lambda x: f(jnp, x, axis=1),
    "log_softmax_axis0": lambda f: lambda x: f(jnp, x, axis=0),
    "softmax": lambda f: lambda x: f(jnp, x, axis=-1),
    "logsumexp": lambda f: lambda x: f(jnp, x, axis=1),
    "logsumexp_keepdims": lambda f: lambda x: f(jnp, x, axis=0, keepdims=True),
    "softplus": lambda f: lambda x: f(jnp, x),
    "log_sigmoid": lambda f: lambda x: f(jnp, x),
    "sigmoid": lambda f: lambda x: f(jnp, x),
    "pick": lambda f: lambda x: f(jnp, x, LABELS, axis=1),
    "pick_axis0": lambda f: lambda x: f(jnp, x, jnp.asarray([0, 3, 1, 2, 0, 3]), axis=0),
    "take_along_axis": lambda f: lambda x: f(jnp, x, jnp.asarray([[1, 0], [5, 5], [2, 3], [0, 4]]), axis=1),
    "log_softmax_pick": lambda f: lambda x: f(jnp, x, LABELS, axis=1),
    "softmax_cross_entropy": lambda f: lambda x: f(jnp, x, jax.nn.softmax(x[::-1], axis=1), axis=1),
    "huber": lambda f: lambda x: f(jnp, x, x[::-1], 2.5),
    "pairwise_distance": lambda f: lambda x: f(jnp, x, x[::-1] + 1.0),
    "pairwise_distance_p1": lambda f: lambda x: f(jnp, x, x[::-1], 1.0, 0.0, True),
    "sparsemax": lambda f: lambda x: f(jnp, x, axis=1),
    "sparse_plus": lambda f: lambda x: f(jnp, jnp.concatenate([x / 5, jnp.asarray([[-1.0, 1.0, 0.0, -0.5, 0.5, 3.0]])])),
    "positive_part": lambda f: lambda x: f(jnp, jnp.concatenate([x, jnp.zeros((1, 6))])),
    "min_max": lambda f: lambda x: jnp.stack(f(jnp, x)),
}


def _prim(key):
    return getattr(_ops, key.replace("_axis0", "").replace("_keepdims", "").replace("_p1", ""))


@pytest.mark.parametrize("key", sorted(CALLS))
def test_override_matches_generic(key):
    prim = _prim(key)
    assert _ops.override_for(jnp, prim.__name__) is not None
    fast, generic = CALLS[key](prim), CALLS[key](prim.generic)

    def both(x):  # one compiled program per primitive (eager op-by-op compiles are slower)
        def vg(f):
            return jax.value_and_grad(lambda z: jnp.sum(jnp.sin(f(z))))(x)[1]

        return fast(x), generic(x), vg(fast), vg(generic)

    v_fast, v_gen, g_fast, g_gen = jax.jit(both)(X)
    np.testing.assert_allclose(v_fast, v_gen, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(g_fast, g_gen, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast(X), v_fast, rtol=1e-12)  # eager too


def test_stop_gradient_stops_the_gradient():
    assert _ops.stop_gradient(jnp, X) is not None
    np.testing.assert_array_equal(_ops.stop_gradient(jnp, X), X)
    g = jax.grad(lambda x: jnp.sum(_ops.stop_gradient(jnp, x) * x))(X)
    np.testing.assert_array_equal(g, X)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot_matches_generic_out_of_range_too(axis):
    labels = jnp.asarray([[0, 4, -1], [5, 2, 100]])
    fast = _ops.one_hot(jnp, labels, 5, dtype=jnp.float64, axis=axis)
    generic = _ops.one_hot.generic(jnp, labels, 5, dtype=jnp.float64, axis=axis)
    np.testing.assert_array_equal(fast, generic)
    assert fast.dtype == jnp.float64
    assert _ops.one_hot(jnp, labels, 5).dtype == jnp.float32 == _ops.one_hot.generic(jnp, labels, 5).dtype


def test_xlogy_is_the_generic_one():
    """jax.scipy.special.xlogy has a nan/-inf gradient at (0, 0); the generic one gives 0."""
    assert _ops.override_for(jnp, "xlogy") is None
    x = jnp.asarray([0.0, 0.5])
    y = jnp.asarray([0.0, 0.2])
    np.testing.assert_allclose(_ops.xlogy(jnp, x, y), [0.0, 0.5 * np.log(0.2)])
    gx, gy = jax.grad(lambda a, b: jnp.sum(_ops.xlogy(jnp, a, b)), argnums=(0, 1))(x, y)
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))


def test_is_concrete_false_under_every_transform():
    seen = []

    def f(x):
        seen.append(_ops.is_concrete(jnp, x))
        return jnp.sum(x)

    assert _ops.is_concrete(jnp, X)
    jax.jit(f)(X)
    jax.grad(f)(X)
    jax.vmap(f)(X)
    assert seen == [False, False, False]


# primitives an eager call runs as ONE compiled program (a nested jit: one equation in the
# jaxpr); op by op, jax.nn.logsumexp alone is ~255 us at 4x3 on CPU against ~7 us compiled
# (positive_part is one op, jnp.maximum; the jax.nn activations are jitted by jax itself)
ONE_PROGRAM = sorted(set(CALLS) - {"log_softmax", "log_softmax_axis0", "softplus", "log_sigmoid", "sigmoid",
                                   "positive_part"})


@pytest.mark.parametrize("key", ONE_PROGRAM)
def test_eager_call_is_one_compiled_program(key):
    call = CALLS[key](_prim(key))
    jaxpr = jax.make_jaxpr(call)(X).jaxpr
    calls = [e for e in jaxpr.eqns if e.primitive.name in ("pjit", "jit", "custom_jvp_call")]
    assert len(calls) == 1, (key, [e.primitive.name for e in jaxpr.eqns])


def test_min_max_of_a_module_function_is_one_program_and_a_lambda_still_works():
    from multiloss.losses.structured import _binary_defect

    t = jnp.asarray([0.0, 1.0, 0.5, 1.0])
    lo, hi = _ops.min_max(jnp, t, _binary_defect)
    assert (float(lo), float(hi)) == (0.0, 0.25)
    eqns = jax.make_jaxpr(lambda t: _ops.min_max(jnp, t, _binary_defect))(t).jaxpr.eqns
    assert [e.primitive.name in ("pjit", "jit") for e in eqns] == [True]
    lo, hi = _ops.min_max(jnp, t, lambda v: v * 2)  # computed op by op: no compile per call
    assert (float(lo), float(hi)) == (0.0, 2.0)


def test_array_hyper_parameters_run_the_generic_body():
    y = X[::-1]
    np.testing.assert_allclose(_ops.huber(jnp, X, y, jnp.asarray(2.5)), _ops.huber.generic(jnp, X, y, 2.5), rtol=1e-12)
    np.testing.assert_allclose(_ops.pairwise_distance(jnp, X, y, jnp.asarray(3.0)),
                               _ops.pairwise_distance.generic(jnp, X, y, 3.0), rtol=1e-12)


def test_positive_part_is_jax_maximum_at_the_tie():
    z = jnp.asarray([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(jax.grad(lambda z: jnp.sum(_ops.positive_part(jnp, z)))(z), [0.0, 0.5, 1.0])


def test_min_max_reads_concrete_host_arrays_with_numpy_only_outside_traces():
    """Eagerly, a value check's min/max of a CPU array is NumPy's on the buffer (no compiled
    call, no two device reads); under jit a closed-over concrete array is reduced in the trace
    (NumPy would read it at trace time and the check would then compute on tracers)."""
    labels = jnp.asarray([3, 0, 7, 1])
    lo, hi = _ops.min_max(jnp, labels)
    assert isinstance(lo, np.generic) and (int(lo), int(hi)) == (0, 7)
    seen = []

    @jax.jit
    def f(x):
        seen.append(_ops.min_max(jnp, labels))
        return x

    f(X)
    assert all(isinstance(v, jax.core.Tracer) for v in seen[0])
