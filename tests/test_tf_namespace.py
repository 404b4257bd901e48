"""The TensorFlow Array API namespace (multiloss.backends.tensorflow_namespace): every
function against the NumPy result (array-api-compat's numpy namespace, the standard's
semantics), eagerly and inside ``tf.function(jit_compile=True)``; dtype promotion; the
Python operators the canonical losses use on tensors; the fast ``_ops`` overrides against the
generic bodies."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import array_api_compat.numpy as anp  # noqa: E402

from multiloss import _ops  # noqa: E402
from multiloss._namespace import array_namespace, backend_name  # noqa: E402
from multiloss.backends import tensorflow_namespace as tfn  # noqa: E402

_rng = np.random.default_rng(0)
INPUTS = {
    "x": _rng.normal(size=(3, 4, 5)),
    "y": _rng.normal(size=(3, 4, 5)),
    "pos": _rng.uniform(0.1, 3.0, size=(3, 4, 5)),
    "f32": _rng.normal(size=(3, 4, 5)).astype(np.float32),
    "v": _rng.normal(size=(6,)),
    "m": _rng.normal(size=(4, 5)),
    "i": _rng.integers(0, 5, size=(3, 4, 5)).astype(np.int64),
    "idx": _rng.integers(0, 5, size=(3, 4, 2)).astype(np.int64),
    "idx1": _rng.integers(0, 4, size=(3, 2, 5)).astype(np.int64),
    "idxb": _rng.integers(0, 5, size=(1, 4, 2)).astype(np.int64),
    "take": np.array([5, 0, 2, 2], dtype=np.int64),
    "b": _rng.uniform(size=(3, 4, 5)) > 0.5,
    "nf": np.array([1.0, np.inf, -np.inf, np.nan, 0.0]),
    "i32": _rng.integers(-3, 3, size=(4, 5)).astype(np.int32),
}

# name -> f(xp, a) written once against the standard; a holds the inputs as xp arrays
CASES = {
    "sum_all": lambda xp, a: xp.sum(a["x"]),
    "sum_axis": lambda xp, a: xp.sum(a["x"], axis=1),
    "sum_tuple_keepdims": lambda xp, a: xp.sum(a["x"], axis=(0, 2), keepdims=True),
    "sum_bool": lambda xp, a: xp.sum(a["b"], axis=-1),
    "sum_int32": lambda xp, a: xp.sum(a["i32"]),
    "mean_axis": lambda xp, a: xp.mean(a["x"], axis=-1),
    "mean_keepdims": lambda xp, a: xp.mean(a["x"], axis=(1, 2), keepdims=True),
    "max_tuple": lambda xp, a: xp.max(a["x"], axis=(0, 1)),
    "min_keepdims": lambda xp, a: xp.min(a["x"], axis=2, keepdims=True),
    "prod": lambda xp, a: xp.prod(a["pos"], axis=0),
    "all": lambda xp, a: xp.all(a["b"], axis=1),
    "any": lambda xp, a: xp.any(a["b"]),
    "all_numeric": lambda xp, a: xp.all(a["i"], axis=-1),
    "abs": lambda xp, a: xp.abs(a["x"]),
    "exp": lambda xp, a: xp.exp(a["x"]),
    "log": lambda xp, a: xp.log(a["pos"]),
    "log1p": lambda xp, a: xp.log1p(a["pos"]),
    "sqrt": lambda xp, a: xp.sqrt(a["pos"]),
    "square": lambda xp, a: xp.square(a["x"]),
    "tanh": lambda xp, a: xp.tanh(a["x"]),
    "sign": lambda xp, a: xp.sign(a["x"]),
    "floor": lambda xp, a: xp.floor(a["x"]),
    "round": lambda xp, a: xp.round(a["x"] * 3),
    "maximum": lambda xp, a: xp.maximum(a["x"], a["y"]),
    "minimum_scalar": lambda xp, a: xp.minimum(a["x"], 0.25),
    "maximum_promote": lambda xp, a: xp.maximum(a["f32"], a["x"]),
    "add_promote": lambda xp, a: xp.add(a["f32"], a["x"]),
    "multiply_scalar": lambda xp, a: xp.multiply(a["f32"], 2),
    "divide": lambda xp, a: xp.divide(a["x"], a["pos"]),
    "pow": lambda xp, a: xp.pow(a["pos"], 1.5),
    "logaddexp": lambda xp, a: xp.logaddexp(a["x"], a["y"]),
    "equal": lambda xp, a: xp.equal(a["i"], 2),
    "logical_and": lambda xp, a: xp.logical_and(a["b"], a["x"] > 0),
    "where": lambda xp, a: xp.where(a["b"], a["x"], a["y"]),
    "where_scalar_right": lambda xp, a: xp.where(a["b"], a["f32"], 0.0),
    "where_scalar_left": lambda xp, a: xp.where(a["b"], 1.5, a["f32"]),
    "where_promote": lambda xp, a: xp.where(a["b"], a["f32"], a["x"]),
    "clip": lambda xp, a: xp.clip(a["x"], -0.5, 0.5),
    "clip_min": lambda xp, a: xp.clip(a["x"], min=0.1),
    "clip_max": lambda xp, a: xp.clip(a["x"], max=0.1),
    "clip_f32_exact": lambda xp, a: xp.clip(a["x"], 1e-4, 1.0),
    "reshape": lambda xp, a: xp.reshape(a["x"], (12, 5)),
    "reshape_infer": lambda xp, a: xp.reshape(a["x"], (-1,)),
    "expand_dims": lambda xp, a: xp.expand_dims(a["x"], axis=1),
    "expand_dims_neg": lambda xp, a: xp.expand_dims(a["x"], axis=-1),
    "squeeze": lambda xp, a: xp.squeeze(xp.expand_dims(a["x"], axis=1), axis=1),
    "moveaxis": lambda xp, a: xp.moveaxis(a["x"], 0, -1),
    "moveaxis_tuple": lambda xp, a: xp.moveaxis(a["x"], (0, 1), (2, 0)),
    "permute_dims": lambda xp, a: xp.permute_dims(a["x"], (2, 0, 1)),
    "broadcast_to": lambda xp, a: xp.broadcast_to(a["m"], (3, 4, 5)),
    "take": lambda xp, a: xp.take(a["v"], a["take"]),
    "take_axis": lambda xp, a: xp.take(a["x"], a["take"][1:], axis=2),
    "take_along_last": lambda xp, a: xp.take_along_axis(a["x"], a["idx"], axis=-1),
    "take_along_mid": lambda xp, a: xp.take_along_axis(a["x"], a["idx1"], axis=1),
    "take_along_bcast": lambda xp, a: xp.take_along_axis(a["x"], a["idxb"], axis=2),
    "arange": lambda xp, a: xp.arange(5),
    "arange_float": lambda xp, a: xp.arange(1, 10, 2, dtype=xp.float64),
    "argmax": lambda xp, a: xp.argmax(a["x"], axis=-1),
    "argmax_flat": lambda xp, a: xp.argmax(a["x"]),
    "argmin_keepdims": lambda xp, a: xp.argmin(a["x"], axis=1, keepdims=True),
    "isfinite": lambda xp, a: xp.isfinite(a["nf"]),
    "isnan": lambda xp, a: xp.isnan(a["nf"]),
    "isfinite_int": lambda xp, a: xp.isfinite(a["i"]),
    "eye": lambda xp, a: xp.eye(3, dtype=xp.float32),
    "eye_k": lambda xp, a: xp.eye(3, 4, k=1, dtype=xp.float64),
    "zeros_like": lambda xp, a: xp.zeros_like(a["x"]),
    "ones_like_dtype": lambda xp, a: xp.ones_like(a["x"], dtype=xp.int32),
    "full_like": lambda xp, a: xp.full_like(a["x"], 2.5),
    "full_like_exact": lambda xp, a: xp.full_like(a["x"], 0.1),
    "full": lambda xp, a: xp.full((2, 3), 1e-4, dtype=xp.float64),
    "zeros": lambda xp, a: xp.zeros((2, 3), dtype=xp.float64),
    "astype": lambda xp, a: xp.astype(a["x"] * 3, xp.int32),
    "astype_bool": lambda xp, a: xp.astype(a["b"], xp.float32),
    "var": lambda xp, a: xp.var(a["x"], axis=1, correction=1),
    "std": lambda xp, a: xp.std(a["x"]),
    "cumulative_sum": lambda xp, a: xp.cumulative_sum(a["x"], axis=1),
    "concat": lambda xp, a: xp.concat([a["x"], a["y"]], axis=1),
    "stack": lambda xp, a: xp.stack([a["x"], a["y"]], axis=-1),
    "flip": lambda xp, a: xp.flip(a["x"], axis=1),
    "matmul": lambda xp, a: xp.matmul(a["x"], xp.permute_dims(a["m"], (1, 0))),
    "vecdot": lambda xp, a: xp.vecdot(a["x"], a["y"]),
    "sort": lambda xp, a: xp.sort(a["x"], axis=-1),
    "argsort_desc": lambda xp, a: xp.argsort(a["x"], axis=1, descending=True),
    "tile": lambda xp, a: xp.tile(a["m"], (2, 1)),
    "tril": lambda xp, a: xp.tril(a["m"], k=1),
    "triu": lambda xp, a: xp.triu(a["m"]),
    "asarray_list": lambda xp, a: xp.asarray([1.0, 2.0, 3.0], dtype=xp.float64) * a["v"][:3],
    "operators": lambda xp, a: (1 - a["x"]) * 0.5 + a["x"] ** 2.0 - 2 * a["y"] / 3.0,
    "invert_bool": lambda xp, a: ~a["b"] & (a["x"] > 0) | (a["y"] == a["y"]),
}


def _numpy_result(name):
    a = {k: anp.asarray(v) for k, v in INPUTS.items()}
    return np.asarray(CASES[name](anp, a))


def _tf_inputs():
    return {k: tf.constant(v) for k, v in INPUTS.items()}


def _check(name, got, want):
    got_np = got.numpy()
    assert got_np.shape == want.shape, f"{name}: shape {got_np.shape} != numpy's {want.shape}"
    assert got_np.dtype == want.dtype, f"{name}: dtype {got_np.dtype} != numpy's {want.dtype}"
    if np.issubdtype(want.dtype, np.floating):
        rtol = 1e-6 if want.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got_np, want, rtol=rtol, atol=rtol, err_msg=name)
    else:
        np.testing.assert_array_equal(got_np, want, err_msg=name)


@pytest.mark.parametrize("name", sorted(CASES))
def test_eager_matches_numpy(name):
    got = CASES[name](tfn, _tf_inputs())
    assert isinstance(got, tf.Tensor)
    _check(name, got, _numpy_result(name))


@pytest.fixture(scope="module")
def jit_results():
    """All cases in ONE XLA-compiled function (one compile for the whole table)."""
    names = sorted(CASES)

    @tf.function(jit_compile=True, autograph=False)
    def everything(**a):
        return {n: CASES[n](tfn, a) for n in names}

    return everything(**_tf_inputs())


@pytest.mark.parametrize("name", sorted(CASES))
def test_xla_matches_numpy(name, jit_results):
    _check(name, jit_results[name], _numpy_result(name))


# ----------------------------------------------------------------------------- dtypes


def test_dtypes_and_isdtype():
    assert tfn.float32 == tf.float32 and tfn.bfloat16 == tf.bfloat16 and tfn.bool == tf.bool
    assert tfn.isdtype(tf.float16, "real floating") and tfn.isdtype(tf.bfloat16, "real floating")
    assert not tfn.isdtype(tf.int32, "real floating")
    assert tfn.isdtype(tf.int64, "integral") and tfn.isdtype(tf.uint8, "unsigned integer")
    assert tfn.isdtype(tf.bool, "bool") and not tfn.isdtype(tf.bool, "numeric")
    assert tfn.isdtype(tf.int8, ("bool", "signed integer"))
    assert tfn.isdtype(tf.float32, tf.float32) and not tfn.isdtype(tf.float32, tf.float64)
    with pytest.raises(ValueError, match="unknown kind"):
        tfn.isdtype(tf.float32, "floating")
    assert tfn.result_type(tf.float16, tf.bfloat16) == tf.float32
    assert tfn.result_type(tf.int32, tf.float16) == tf.float16
    assert tfn.result_type(tf.uint8, tf.int8) == tf.int16
    assert tfn.finfo(tf.float32).eps == np.finfo(np.float32).eps
    assert tfn.iinfo(tf.int32).max == 2**31 - 1


def test_default_dtypes():
    # the standard leaves the default float to the library: float32 here (TensorFlow's)
    assert tfn.asarray([1.0, 2.0]).dtype == tf.float32 and tfn.asarray([1, 2]).dtype == tf.int64
    assert tfn.asarray([True]).dtype == tf.bool and tfn.eye(2).dtype == tf.float32
    assert tfn.arange(3).dtype == tf.int64 and tfn.arange(0.5, 2).dtype == tf.float32


def test_python_scalars_keep_the_tensor_dtype():
    for dt in (tf.float16, tf.bfloat16, tf.float32, tf.float64):
        x = tf.constant([0.5, 2.0], dt)
        for out in (1 - x, x * 0.5, x**2.0, 2.0 * x / 3.0, tfn.where(x > 1, x, 0.0), tfn.maximum(x, 1),
                    tfn.clip(x, 1e-7, 1.0), tfn.full_like(x, 0.1)):
            assert out.dtype == dt
    # a Python float goes to float64 directly, not rounded through float32
    x = tf.constant([0.0], tf.float64)
    assert tfn.full_like(x, 0.1).numpy()[0] == 0.1
    assert tfn.clip(x, 1e-4, 1.0).numpy()[0] == 1e-4


def test_namespace_resolution_and_name():
    t = tf.constant([1.0])
    assert tfn.__name__ == "multiloss.backends.tensorflow_namespace"
    assert array_namespace(t) is tfn and backend_name(tfn) == "tensorflow"
    assert array_namespace(tf.Variable([1.0])) is tfn
    with pytest.raises(TypeError, match="one library"):
        array_namespace(t, np.ones(1))
    with pytest.raises(AttributeError, match="no Array API function 'nonzero'"):
        getattr(tfn, "nonzero")


def test_take_along_axis_rank_error():
    with pytest.raises(ValueError, match="rank"):
        tfn.take_along_axis(tf.zeros((2, 3)), tf.zeros((2,), tf.int64), axis=-1)


def test_clip_gradient_passes_inside_and_at_the_bounds():
    x = tf.constant([-1.0, 0.0, 0.5, 1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tfn.clip(x, 0.0, 1.0))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 1, 1, 1, 0])


# ----------------------------------------------------------------------------- _ops overrides

_X = _rng.normal(scale=3.0, size=(4, 6))
_LAB = _rng.integers(0, 6, size=(4,))
_X3 = _rng.normal(size=(2, 6, 3))
_LAB3 = _rng.integers(0, 6, size=(2, 3))

PRIMS = {
    "log_softmax": lambda xp, x: _ops.log_softmax(xp, x, axis=-1),
    "log_softmax_axis0": lambda xp, x: _ops.log_softmax(xp, x, axis=0),
    "softmax": lambda xp, x: _ops.softmax(xp, x, axis=1),
    "logsumexp": lambda xp, x: _ops.logsumexp(xp, x, axis=-1),
    "logsumexp_keepdims": lambda xp, x: _ops.logsumexp(xp, x, axis=0, keepdims=True),
    "softplus": lambda xp, x: _ops.softplus(xp, x),
    "log_sigmoid": lambda xp, x: _ops.log_sigmoid(xp, x),
    "sigmoid": lambda xp, x: _ops.sigmoid(xp, x),
    "stop_gradient": lambda xp, x: _ops.stop_gradient(xp, x),
    "pick": lambda xp, x: _ops.pick(xp, x, xp.asarray(_LAB), axis=-1),
    "pick_mid": lambda xp, x: _ops.pick(xp, xp.reshape(x, (2, 6, 2)), xp.asarray(_LAB3[:, :2]), axis=1),
    "take_along_axis": lambda xp, x: _ops.take_along_axis(xp, x, xp.asarray(_LAB[:, None]), axis=1),
    "one_hot": lambda xp, x: _ops.one_hot(xp, xp.asarray(np.array([0, 5, -1, 7])), 6, dtype=x.dtype),
    "one_hot_axis0": lambda xp, x: _ops.one_hot(xp, xp.asarray(_LAB), 6, dtype=x.dtype, axis=0),
    "xlogy": lambda xp, x: _ops.xlogy(xp, xp.where(x > 0, x, xp.zeros_like(x)), xp.abs(x) + 0.1),
    "clamped_log": lambda xp, x: _ops.clamped_log(xp, xp.where(x > 0, x, xp.zeros_like(x))),
}


@pytest.mark.parametrize("name", sorted(PRIMS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ops_overrides_match_generic(name, dtype):
    """The registered tf kernel equals the generic Array API body on NumPy, value and shape."""
    x_np = _X.astype(dtype)
    want = np.asarray(PRIMS[name](anp, anp.asarray(x_np)))
    got = PRIMS[name](tfn, tf.constant(x_np))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6, err_msg=name)
    assert got.numpy().dtype == want.dtype


def test_ops_overrides_are_registered_for_tf():
    array_namespace(tf.constant([1.0]))  # loads multiloss.backends.tensorflow_ops
    for prim in ("log_softmax", "logsumexp", "softplus", "log_sigmoid", "stop_gradient", "pick", "one_hot", "xlogy",
                 "is_concrete"):
        assert _ops.override_for(tfn, prim) is not None, prim


def test_half_precision_log_sigmoid_is_accurate():
    # TF's own bfloat16 softplus returns x above ~2.85; the override computes in float32
    x = tf.constant([-3.03125, 3.03125, -8.0], tf.bfloat16)
    want = -np.logaddexp(0, -x.numpy().astype(np.float64))
    got = _ops.log_sigmoid(tfn, x).numpy().astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-2)


def test_is_concrete_eager_vs_traced():
    x = tf.constant([1.0])
    assert _ops.is_concrete(tfn, x)
    seen = []

    @tf.function
    def f(t):
        seen.append(_ops.is_concrete(tfn, t))
        return t

    f(x)
    assert seen == [False]


def test_stop_gradient_blocks_the_tape():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(_ops.stop_gradient(tfn, x) * x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.0, 2.0])


@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "cross_entropy", "nll_loss", "sce_loss",
                                  "binary_cross_entropy", "focal_loss", "kl_div", "cosine_similarity", "l2_penalty"])
def test_canonical_losses_accept_tf_variables(name):
    """tf.Variable has no ``.ndim``: the losses read ``len(x.shape)``, so a raw variable works
    and the gradient flows to it."""
    import multiloss

    r = np.random.default_rng(1)
    fn = getattr(multiloss, name)
    if name in ("cross_entropy", "nll_loss", "sce_loss"):
        v, args = tf.Variable(r.normal(size=(4, 3))), (tf.constant([0, 1, 2, 1]),)
    elif name in ("binary_cross_entropy", "focal_loss"):
        v, args = tf.Variable(r.uniform(0.1, 0.9, size=(4, 3))), (tf.constant(r.integers(0, 2, (4, 3)).astype(float)),)
    elif name == "l2_penalty":
        v, args = tf.Variable(r.normal(size=(4, 3))), ()
    else:
        v, args = tf.Variable(r.normal(size=(4, 3))), (tf.constant(r.normal(size=(4, 3))),)
    with tf.GradientTape() as tape:
        out = fn([v]) if name == "l2_penalty" else fn(v, *args)
    ref = fn([tf.convert_to_tensor(v)]) if name == "l2_penalty" else fn(tf.convert_to_tensor(v), *args)
    np.testing.assert_allclose(out.numpy(), ref.numpy())
    g = tape.gradient(out, v)
    assert g is not None and np.all(np.isfinite(g.numpy()))
