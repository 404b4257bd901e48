"""The eager fast paths of multiloss/backends/tensorflow_ops.py keep the generic primitives'
values and gradients: ``pick`` and ``clamped_log`` record their own backward pass under a
``GradientTape`` (TF's ``_BatchGatherGrad`` is ~100 eager ops; ``clamped_log``'s two selects
~30), ``min_max`` reduces a CPU tensor with NumPy (no eager ops), and ``fused_loss``
runs keras's sparse categorical cross-entropy as its one kernel. Each is compared with
``_ops.<name>.generic`` on the same TF tensors (values, gradients under arbitrary output
gradients, nested tapes, forward accumulators, ``tf.Variable`` inputs, f64/f32/f16/bf16), and
the keras losses they serve against keras's own."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from multiloss import _ops
from multiloss._namespace import array_namespace
from multiloss.backends import tensorflow_namespace as tfn
from multiloss.backends import tensorflow_ops
from multiloss.errors import IndexRangeError

array_namespace(tf.constant([1.0]))  # registers the TF overrides

DTYPES = ("float64", "float32", "float16", "bfloat16")
_rng = np.random.default_rng(21)


def _np(t):
    return np.asarray(tf.cast(t, tf.float64).numpy()) if t.dtype in (tf.float16, tf.bfloat16) else t.numpy()


def _vjp(f, x, g):
    """``f(x)`` and the gradient of ``sum(f(x) * g)`` w.r.t. ``x`` (eager, one tape; a 1-D
    gather's ``IndexedSlices`` made dense)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return y, tf.convert_to_tensor(tape.gradient(y, x, output_gradients=g))


def _assert_same(a, b, what):
    """Equal values, nan where the other has nan, same dtype and shape (the overrides are meant
    to be bit-for-bit the generic body's ops)."""
    assert a.dtype == b.dtype and a.shape == b.shape, what
    np.testing.assert_array_equal(_np(a), _np(b), err_msg=what)


# ----------------------------------------------------------------------------- pick

PICKS = {
    # name -> (x shape, labels, axis)
    "2d": ((5, 7), _rng.integers(0, 7, size=(5,)), -1),
    "2d_axis1": ((5, 7), _rng.integers(0, 7, size=(5,)), 1),
    "3d_classes_mid": ((2, 6, 3), _rng.integers(0, 6, size=(2, 3)), 1),
    "3d_classes_first": ((6, 2, 3), _rng.integers(0, 6, size=(2, 3)), 0),
    "1d": ((6,), np.int64(4), 0),
    "repeated_labels": ((4, 3), np.array([2, 2, 2, 0]), -1),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("label_dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("case", sorted(PICKS))
def test_pick_matches_generic(case, dtype, label_dtype):
    shape, labels, axis = PICKS[case]
    x = tf.cast(tf.constant(_rng.normal(scale=3.0, size=shape)), dtype)
    lab = tf.constant(np.asarray(labels).astype(label_dtype))
    g = tf.cast(tf.constant(_rng.normal(size=np.asarray(labels).shape)), dtype)
    got, dgot = _vjp(lambda z: _ops.pick(tfn, z, lab, axis=axis), x, g)
    # (the generic body's tf.gather takes int16/32/64 indices only; the override casts)
    glab = tf.cast(lab, tf.int64) if label_dtype == "uint8" else lab
    want, dwant = _vjp(lambda z: _ops.pick.generic(tfn, z, glab, axis=axis), x, g)
    _assert_same(got, want, f"{case} value")
    _assert_same(dgot, dwant, f"{case} gradient")
    # untaped: the plain gather, the same value
    _assert_same(_ops.pick(tfn, x, lab, axis=axis), want, f"{case} value without a tape")


def test_pick_gradient_is_exact_for_non_finite_values():
    # log-probabilities with -inf off the label (nll_loss of a hard softmax), and an infinite /
    # nan output gradient: g lands on the label only, exactly 0 elsewhere (no 0 * inf)
    x = tf.constant([[-np.inf, 0.0, -np.inf], [np.nan, -1.0, 2.0], [1.0, np.inf, -np.inf]])
    lab = tf.constant([1, 2, 0])
    g = tf.constant([np.inf, np.nan, -3.0])
    got, dgot = _vjp(lambda z: _ops.pick(tfn, z, lab), x, g)
    want, dwant = _vjp(lambda z: _ops.pick.generic(tfn, z, lab), x, g)
    _assert_same(got, want, "value")
    _assert_same(dgot, dwant, "gradient")
    np.testing.assert_array_equal(dgot.numpy(), [[0, np.inf, 0], [0, 0, np.nan], [-3, 0, 0]])


def test_pick_second_order_and_forward_mode():
    x = tf.constant(_rng.normal(size=(4, 5)))
    lab = tf.constant([0, 4, 2, 2])

    def second(prim):
        # d/dx of sum(grad_x(sum(pick(x)^3))) = 6 pick(x) at the labels: the backward pass of
        # the recorded op is itself differentiable
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(prim(tfn, x, lab) ** 3)
            gx = inner.gradient(y, x)
            s = tf.reduce_sum(gx * x)
        return gx, outer.gradient(s, x)

    for a, b in zip(second(_ops.pick), second(_ops.pick.generic)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-15, atol=0)

    tangent = tf.constant(_rng.normal(size=(4, 5)))

    def jvp(prim):
        with tf.autodiff.ForwardAccumulator(x, tangent) as acc:
            y = prim(tfn, x, lab)
        return acc.jvp(y)

    _assert_same(jvp(_ops.pick), jvp(_ops.pick.generic), "jvp")
    _assert_same(_jvp_under_tape(lambda z: _ops.pick(tfn, z, lab), x, tangent),
                 _jvp_under_tape(lambda z: _ops.pick.generic(tfn, z, lab), x, tangent), "jvp under a tape")


def _jvp_alone(f, x, tangent):
    with tf.autodiff.ForwardAccumulator(x, tangent) as acc:
        y = f(x)
    return acc.jvp(y)


def _jvp_under_tape(f, x, tangent):
    """The JVP of ``f`` at ``x`` while a ``GradientTape`` also records (the recorded backward
    function then serves the forward accumulator too), and the tape's gradient."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        with tf.autodiff.ForwardAccumulator(x, tangent) as acc:
            y = f(x)
    return tf.concat([tf.reshape(acc.jvp(y), [-1]), tf.reshape(tape.gradient(y, x), [-1])], 0)


def test_pick_of_a_variable_reaches_the_variable():
    v = tf.Variable(_rng.normal(size=(3, 4)))
    lab = tf.constant([3, 0, 1])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(_ops.pick(tfn, v, lab) * tf.constant([1.0, 2.0, 3.0], tf.float64))
    grad = tape.gradient(y, v)
    want = np.zeros((3, 4))
    want[[0, 1, 2], [3, 0, 1]] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(grad.numpy(), want)


def test_pick_in_tf_function_keeps_tf_gradient():
    x = tf.constant(_rng.normal(size=(4, 5)))
    lab = tf.constant([0, 4, 2, 2])

    @tf.function
    def f(z):
        with tf.GradientTape() as tape:
            tape.watch(z)
            y = tf.reduce_sum(_ops.pick(tfn, z, lab) * tf.range(1.0, 5.0, dtype=tf.float64))
        return tape.gradient(y, z)

    want = np.zeros((4, 5))
    want[[0, 1, 2, 3], [0, 4, 2, 2]] = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(f(x).numpy(), want)


# ----------------------------------------------------------------------------- clamped_log

def _log_inputs(dtype):
    # ordinary values, the clamp's edges, and what the generic body maps to `min`
    vals = [0.3, 1.0, 2.5, 1e-3, 0.0, -0.0, -1.0, np.nan, np.inf, 1e-30]
    if dtype == "float64":
        vals += [1e-44, 3e-44, 1e-300]  # log below -100 (clamped), still normal numbers
    return tf.cast(tf.constant(vals, tf.float64), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("low", [-100.0, -5.0])
def test_clamped_log_matches_generic(dtype, low):
    x = _log_inputs(dtype)
    g = tf.cast(tf.constant(_rng.normal(size=x.shape)), dtype)
    got, dgot = _vjp(lambda z: _ops.clamped_log(tfn, z, low), x, g)
    want, dwant = _vjp(lambda z: _ops.clamped_log.generic(tfn, z, low), x, g)
    _assert_same(got, want, "value")
    _assert_same(dgot, dwant, "gradient")
    _assert_same(_ops.clamped_log(tfn, x, low), want, "value without a tape")
    # the clamp: min wherever log(x) is not above it (0, negative, nan), gradient 0 there
    clamped = ~(_np(x) > np.exp(low))
    assert np.all(_np(got)[clamped] == low)
    assert np.all(_np(dgot)[clamped] == 0)


def test_clamped_log_subnormal_float32_gradient_is_zero():
    # float32 below exp(-100) ~ 3.7e-44 is subnormal (1 / x would overflow): clamped, gradient
    # 0, as the generic body gives and as float64 (where 1 / x is finite) gives for the same values
    x32 = tf.constant([1e-45, 2e-44, 0.5], tf.float32)
    g = tf.ones((3,), tf.float32)
    got, dgot = _vjp(lambda z: _ops.clamped_log(tfn, z), x32, g)
    want, dwant = _vjp(lambda z: _ops.clamped_log.generic(tfn, z), x32, g)
    _, d64 = _vjp(lambda z: _ops.clamped_log.generic(tfn, z), tf.cast(x32, tf.float64), tf.ones((3,), tf.float64))
    _assert_same(got, want, "value")
    _assert_same(dgot, dwant, "gradient")
    np.testing.assert_array_equal(got.numpy(), [-100.0, -100.0, np.log(np.float32(0.5))])
    np.testing.assert_array_equal(dgot.numpy(), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(d64.numpy(), [0.0, 0.0, 2.0])


def test_clamped_log_second_order_and_variable():
    x = tf.constant([0.5, 2.0, 0.0, 1e-50])

    def second(prim):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.reduce_sum(prim(tfn, x))
            s = tf.reduce_sum(inner.gradient(y, x))
        return outer.gradient(s, x)

    d2 = second(_ops.clamped_log)
    _assert_same(d2, second(_ops.clamped_log.generic), "second derivative")
    np.testing.assert_array_equal(d2.numpy(), [-4.0, -0.25, 0.0, 0.0])  # -1 / x^2, 0 when clamped

    tangent = tf.constant([1.0, -2.0, 3.0, 1.0])
    for run in (lambda f: _jvp_under_tape(f, x, tangent), lambda f: _jvp_alone(f, x, tangent)):
        _assert_same(run(lambda z: _ops.clamped_log(tfn, z)), run(lambda z: _ops.clamped_log.generic(tfn, z)), "jvp")
    np.testing.assert_array_equal(_jvp_alone(lambda z: _ops.clamped_log(tfn, z), x, tangent).numpy(), [2.0, -1.0, 0, 0])

    v = tf.Variable([0.25, 0.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(_ops.clamped_log(tfn, v))
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [4.0, 0.0])


def test_clamped_log_in_tf_function_is_the_generic_body():
    x = _log_inputs("float32")

    @tf.function
    def f(z, prim):
        with tf.GradientTape() as tape:
            tape.watch(z)
            y = prim(tfn, z)
        return y, tape.gradient(y, z)

    for a, b in zip(f(x, _ops.clamped_log), f(x, _ops.clamped_log.generic)):
        _assert_same(a, b, "tf.function")


# ----------------------------------------------------------------------------- min_max

MINMAX = {
    "f32": np.array([[0.5, -2.0, 3.0], [1.0, 0.0, 7.5]], np.float32),
    "f64_nan": np.array([0.5, np.nan, -1.0]),
    "inf": np.array([np.inf, -np.inf, 1.0]),
    "i64": np.array([3, -7, 12], np.int64),
    "i32": np.array([[0], [5]], np.int32),
    "u8": np.array([4, 200, 9], np.uint8),
    "scalar": np.float64(2.5),
}


@pytest.mark.parametrize("case", sorted(MINMAX))
def test_min_max_host_read_matches_generic(case):
    x = tf.constant(MINMAX[case])
    lo, hi = _ops.min_max(tfn, x)
    glo, ghi = _ops.min_max.generic(tfn, x)
    for a, b in ((lo, glo), (hi, ghi)):
        assert isinstance(a, np.generic)  # read on the host: no eager op
        np.testing.assert_array_equal(a, b.numpy())
        assert a.dtype == b.numpy().dtype


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_min_max_half_precision(dtype):
    x = tf.cast(tf.constant([0.25, -3.5, 1.0e3]), dtype)
    lo, hi = _ops.min_max(tfn, x)
    glo, ghi = _ops.min_max.generic(tfn, x)
    assert float(lo) == float(glo) == -3.5 and float(hi) == float(ghi) == 1000.0


def test_min_max_of_and_variable():
    v = tf.Variable([[-2.0, 0.5], [3.0, -4.0]])
    lo, hi = _ops.min_max(tfn, v, tfn.abs)
    assert (float(lo), float(hi)) == (0.5, 4.0)
    # a value check under a tape records nothing that reaches the gradient
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v * v)
        _ops.min_max(tfn, v)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), 2 * v.numpy())


def test_min_max_in_a_graph_stays_symbolic():
    seen = []

    @tf.function
    def f(z):
        lo, hi = _ops.min_max(tfn, z)
        seen.append(isinstance(lo, tf.Tensor))
        return lo, hi

    lo, hi = f(tf.constant([1.0, -2.0]))
    assert seen == [True] and (float(lo), float(hi)) == (-2.0, 1.0)


def test_value_checks_still_raise_with_host_min_max():
    import multiloss

    x = tf.constant([[0.2, 0.8], [0.5, 1.5]])
    with pytest.raises(ValueError, match=r"binary_cross_entropy: argument 'input' must hold probabilities in \[0, 1\]; "
                                         r"got values in \[0\.2, 1\.5\]"):
        multiloss.binary_cross_entropy(x, tf.zeros_like(x))
    with pytest.raises(ValueError, match="got values in"):
        multiloss.binary_cross_entropy(tf.constant([0.5, np.nan]), tf.zeros((2,)))


# ----------------------------------------------------------------------------- fused_loss

def _ce_reference(x, y, reduction):
    """The canonical class-index fast path without the fused kernel: -log_softmax_pick, reduced."""
    from multiloss._reduction import reduce

    return reduce(tfn, -_ops.log_softmax_pick(tfn, x, y, axis=1 if len(x.shape) > 1 else 0), reduction)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("shape", [(6, 5), (2, 5, 3), (5,)])
def test_fused_sparse_cross_entropy_matches_canonical(shape, reduction, dtype):
    import multiloss

    x = tf.cast(tf.constant(_rng.normal(scale=4.0, size=shape)), dtype)
    lab_shape = shape[:1] + shape[2:] if len(shape) > 1 else ()
    y = tf.constant(_rng.integers(0, 5, size=lab_shape))
    out = _ops.fused_loss(tfn, "cross_entropy", x, y, None, None, reduction, 0.0)
    assert out is not NotImplemented
    g = tf.cast(tf.constant(_rng.normal(size=out.shape)), dtype)
    got, dgot = _vjp(lambda z: multiloss.cross_entropy(z, y, ignore_index=None, reduction=reduction), x, g)
    want, dwant = _vjp(lambda z: _ce_reference(z, y, reduction), x, g)
    _assert_same(got, want, "value")
    _assert_same(dgot, dwant, "gradient")


@pytest.mark.parametrize("args", [
    {"weight": tf.constant([1.0, 2.0, 1.0])}, {"ignore_index": -100}, {"ignore_index": 1},
    {"label_smoothing": 0.1}, {"target": "probabilities"},
])
def test_fused_sparse_cross_entropy_declines(args):
    x = tf.constant(_rng.normal(size=(4, 3)), tf.float32)
    kw = {"target": tf.constant([0, 2, 1, 1]), "weight": None, "ignore_index": None, "reduction": "mean", "label_smoothing": 0.0}
    kw.update(args)
    if isinstance(kw["target"], str):
        kw["target"] = tf.nn.softmax(x)
    out = _ops.fused_loss(tfn, "cross_entropy", x, kw["target"], kw["weight"], kw["ignore_index"], kw["reduction"],
                          kw["label_smoothing"])
    assert out is NotImplemented
    assert _ops.fused_loss(tfn, "nll_loss", x, kw["target"], None, None, "mean") is NotImplemented


def test_fused_sparse_cross_entropy_declines_off_and_in_graphs():
    import multiloss

    x = tf.constant(_rng.normal(size=(4, 3)), tf.float32)
    y = tf.constant([0, 2, 1, 1])
    with multiloss.value_checks("off"):  # the canonical body (and TF's own kernel error)
        assert _ops.fused_loss(tfn, "cross_entropy", x, y, None, None, "none", 0.0) is NotImplemented
    seen = []

    @tf.function
    def f(z):
        seen.append(_ops.fused_loss(tfn, "cross_entropy", z, y, None, None, "none", 0.0))
        return z

    f(x)
    assert seen == [NotImplemented]


def test_fused_sparse_cross_entropy_out_of_range_keeps_the_message():
    import multiloss
    import multiloss.keras as mk

    x = tf.constant(_rng.normal(size=(4, 3)), tf.float32)
    y = tf.constant([0, 5, 1, 2])
    with pytest.raises(IndexRangeError, match=r"^cross_entropy: argument 'target' must hold class indices in "
                                              r"\[0, 3\); got a value out of range \(e\.g\. 5\)$"):
        multiloss.cross_entropy(x, y, ignore_index=None)
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*class indices in \[0, 3\).*\(e\.g\. 5\)"):
        mk.SparseCategoricalCrossentropy(from_logits=True)(y, x)
    with pytest.raises(IndexRangeError, match=r"\(e\.g\. -1\)"):
        multiloss.cross_entropy(x, tf.constant([0, -1, 1, 2]), ignore_index=None)


# ----------------------------------------------------------------------------- the keras losses

def _keras_pair(name, kind, kw, dtype="float32"):
    import keras

    import multiloss.keras as mk

    x = _rng.normal(size=(16, 5))
    if kind == "probs":
        x = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    y = _rng.integers(0, 5, size=(16,))
    if name == "CategoricalFocalCrossentropy":
        y = np.eye(5)[y]
    xt, yt = tf.cast(tf.constant(x), dtype), tf.constant(y)
    results = []
    for loss in (getattr(mk, name)(**kw), getattr(keras.losses, name)(**kw)):
        results.append(_vjp(lambda z, loss=loss: loss(yt, z), xt, tf.constant(1.0, dtype)))
    return results


@pytest.mark.parametrize("name,kind,kw", [
    ("SparseCategoricalCrossentropy", "logits", {"from_logits": True}),
    ("SparseCategoricalCrossentropy", "probs", {}),
    ("CategoricalGeneralizedCrossEntropy", "probs", {}),
    ("CategoricalGeneralizedCrossEntropy", "probs", {"q": 0.2}),
    ("CategoricalFocalCrossentropy", "logits", {"from_logits": True}),
    ("CategoricalFocalCrossentropy", "probs", {"gamma": 0.5}),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_eager_keras_losses_match_keras(name, kind, kw, dtype):
    (v, g), (kv, kg) = _keras_pair(name, kind, dict(kw, dtype=dtype), dtype)
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(v.numpy(), kv.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(g.numpy(), kg.numpy(), rtol=1e-5 if dtype == "float32" else 1e-10, atol=tol)


def test_overrides_are_registered():
    for prim in ("pick", "clamped_log", "min_max", "fused_loss"):
        assert _ops.override_for(tfn, prim) is getattr(tensorflow_ops, "_" + prim), prim


@pytest.mark.parametrize("pfor", [True, False])
def test_recorded_gradients_under_jacobian(pfor):
    # tape.jacobian traces the recorded backward functions (pfor vectorises them in a graph)
    x = tf.constant(_rng.uniform(0.0, 2.0, size=(3, 4)))
    lab = tf.constant([1, 3, 0])
    for prim, f in ((_ops.pick, lambda p, z: p(tfn, z, lab)), (_ops.clamped_log, lambda p, z: p(tfn, z))):
        jac = []
        for p in (prim, prim.generic):
            with tf.GradientTape(persistent=not pfor) as tape:  # (TF: the loop needs a persistent tape)
                tape.watch(x)
                y = f(p, x)
            jac.append(tape.jacobian(y, x, experimental_use_pfor=pfor))
        _assert_same(jac[0], jac[1], prim.__name__)
