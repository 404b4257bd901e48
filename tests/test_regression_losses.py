"""Catalogue II, regression and probabilistic: ``mean_squared_logarithmic_error`` (keras MSLE),
``log_cosh`` (keras / optax), ``generalized_kl_divergence`` (optax, and its deprecated alias
``convex_kl_divergence``) and the Poisson negative-count check, on every installed namespace
(``xp`` fixture), through every adapter, against the natives.

Expected values come from plain Python loops over the elements written here, and from the
natives themselves (keras on TF tensors, optax on jax arrays) where they exist. Every error
message is checked.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import msg, reduce_ref, require, to_numpy, to_xp, value_and_grad, xp_assert_close

REDUCTIONS = ("none", "mean", "sum")

rng = np.random.default_rng(11)
# predictions with negatives (clipped by MSLE), exact zeros and values above the clip
P = np.array([[0.3, -1.2, 2.0, 0.0], [1.6, 0.05, -0.4, 3.1], [4.2, 0.45, 1.3, 1e-9]])
T = np.array([[1.0, 0.0, 2.5, 0.2], [-0.5, 0.3, 1.0, 2.0], [3.0, 0.45, 0.0, 0.7]])
D_P = rng.normal(scale=2.0, size=(3, 4))  # log-cosh errors of any size
D_T = rng.normal(size=(3, 4))
LOGM = rng.normal(scale=0.8, size=(3, 4))  # log of an unnormalized measure
MEAS = np.array([[0.5, 0.0, 1.2, 2.0], [0.1, 0.7, 0.0, 3.0], [1.0, 1.0, 0.25, 0.0]])
EPS = 1e-7


def call(xp, fn, *arrays, dtype=None, **kw):
    return fn(*[to_xp(xp, a, dtype) for a in arrays], **kw)


# ----------------------------------------------------------------------------- loops


def msle_loop(p, t, eps=EPS):
    out = [(math.log1p(max(a, eps)) - math.log1p(max(b, eps))) ** 2 for a, b in zip(np.ravel(p), np.ravel(t))]
    return np.reshape(out, np.shape(p))


def log_cosh_loop(p, t):
    return np.reshape([math.log(math.cosh(a - b)) for a, b in zip(np.ravel(p), np.ravel(t))], np.shape(p))


def gkl_loop(x, y):
    out = [(b * math.log(b) if b > 0 else 0.0) - b * a + math.exp(a) - b for a, b in zip(np.ravel(x), np.ravel(y))]
    return np.reshape(out, np.shape(x))


# ----------------------------------------------------------------------------- canonical values


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_msle_values(xp, reduction):
    out = call(xp, ml.mean_squared_logarithmic_error, P, T, reduction=reduction)
    xp_assert_close(out, reduce_ref(msle_loop(P, T), reduction), rtol=1e-12, atol=1e-15, xp=xp)


def test_msle_epsilon_and_float32(xp):
    out = call(xp, ml.mean_squared_logarithmic_error, P, T, reduction="none", epsilon=0.5)
    xp_assert_close(out, msle_loop(P, T, eps=0.5), rtol=1e-12, atol=1e-15, xp=xp)
    out32 = call(xp, ml.mean_squared_logarithmic_error, P, T, dtype=np.float32)
    assert to_numpy(out32).dtype == np.float32
    xp_assert_close(out32, msle_loop(P, T).mean(), rtol=1e-5)


def test_msle_gradient_zero_where_clipped(grad_backend):
    """d/dx = 2 (log1p(x) - log1p(max(y, eps))) / (1 + x) above the clip, 0 below it."""
    f = lambda x: ml.mean_squared_logarithmic_error(x, to_xp(grad_backend, T), reduction="none")  # noqa: E731
    val, g = value_and_grad(grad_backend, f, P)
    lt = np.log1p(np.maximum(T, EPS))
    want = np.where(P >= EPS, 2 * (np.log1p(np.maximum(P, EPS)) - lt) / (1 + P), 0.0)
    xp_assert_close(val, msle_loop(P, T), rtol=1e-12, atol=1e-15)
    xp_assert_close(g, want, rtol=1e-11, atol=1e-15)
    assert np.all(g[P < 0] == 0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_log_cosh_values(xp, reduction):
    out = call(xp, ml.log_cosh, D_P, D_T, reduction=reduction)
    xp_assert_close(out, reduce_ref(log_cosh_loop(D_P, D_T), reduction), rtol=1e-12, atol=1e-15, xp=xp)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # numpy: exp(-inf) = 0, as meant
def test_log_cosh_large_errors_stay_finite(xp):
    """|d| + log1p(exp(-2|d|)) - log 2: no overflow where keras's d + softplus(-2d) would give inf
    (d < -max/2: -3.3e4 in float16, -1.7e38 in float32); symmetric in d."""
    for dtype in (np.float32,) if xp == "array_api_strict" else (np.float32, np.float16):  # strict: no float16
        big = float(np.finfo(dtype).max) * 0.75
        p = np.array([-big, big, -3.0, 3.0, 0.0], dtype=dtype)
        out = to_numpy(ml.log_cosh(to_xp(xp, p), to_xp(xp, np.zeros_like(p)), reduction="none"))
        assert out.dtype == dtype and np.all(np.isfinite(out))
        c3 = math.log(math.cosh(3.0))
        want = np.array([big - math.log(2), big - math.log(2), c3, c3, 0.0])
        xp_assert_close(out, want, rtol=2e-3 if dtype == np.float16 else 2e-6, atol=1e-3)


def test_log_cosh_gradient_is_tanh(grad_backend):
    f = lambda x: ml.log_cosh(x, to_xp(grad_backend, D_T), reduction="none")  # noqa: E731
    d = np.concatenate([D_P, np.array([[0.0, 1e-3, -30.0, 30.0]])]) - np.concatenate([D_T, np.zeros((1, 4))])
    p = d + np.concatenate([D_T, np.zeros((1, 4))])
    f = lambda x: ml.log_cosh(x, to_xp(grad_backend, p - d), reduction="none")  # noqa: E731
    val, g = value_and_grad(grad_backend, f, p)
    xp_assert_close(g, np.tanh(d), rtol=1e-10, atol=1e-15)
    assert g[-1, 0] == 0.0  # d = 0: no kink gradient from |d|


@pytest.mark.parametrize("reduction", (*REDUCTIONS, "batchmean"))
def test_generalized_kl_values(xp, reduction):
    out = call(xp, ml.generalized_kl_divergence, LOGM, MEAS, reduction=reduction)
    ref = gkl_loop(LOGM, MEAS)
    want = ref.sum() / LOGM.shape[0] if reduction == "batchmean" else reduce_ref(ref, reduction)
    xp_assert_close(out, want, rtol=1e-12, atol=1e-15, xp=xp)


def test_generalized_kl_is_kl_plus_mass_difference(xp):
    """Elementwise kl_div + exp(x) - y; for normalized distributions the sums agree."""
    kl = to_numpy(call(xp, ml.kl_div, LOGM, MEAS, reduction="none"))
    g = to_numpy(call(xp, ml.generalized_kl_divergence, LOGM, MEAS, reduction="none"))
    xp_assert_close(g, kl + np.exp(LOGM) - MEAS, rtol=1e-12, atol=1e-15)
    logp = LOGM - np.log(np.exp(LOGM).sum(-1, keepdims=True))
    q = MEAS / MEAS.sum(-1, keepdims=True)
    xp_assert_close(call(xp, ml.generalized_kl_divergence, logp, q, reduction="sum"),
                    to_numpy(call(xp, ml.kl_div, logp, q, reduction="sum")), rtol=1e-12)
    assert np.all(g >= -1e-15)  # a Bregman divergence


def test_generalized_kl_gradient(grad_backend):
    """d/dx = exp(x) - y, finite at y = 0."""
    f = lambda x: ml.generalized_kl_divergence(x, to_xp(grad_backend, MEAS), reduction="none")  # noqa: E731
    val, g = value_and_grad(grad_backend, f, LOGM)
    xp_assert_close(val, gkl_loop(LOGM, MEAS), rtol=1e-12, atol=1e-15)
    xp_assert_close(g, np.exp(LOGM) - MEAS, rtol=1e-12, atol=1e-15)


def test_traceable_under_jit_and_tf_function():
    """No value-dependent Python: the three losses trace under jax.jit and tf.function."""
    for name in ("jax", "tensorflow"):
        require(name)
    import jax
    import tensorflow as tf

    for fn, (a, b), ref in ((ml.mean_squared_logarithmic_error, (P, T), msle_loop(P, T).mean()),
                            (ml.log_cosh, (D_P, D_T), log_cosh_loop(D_P, D_T).mean()),
                            (ml.generalized_kl_divergence, (LOGM, MEAS), gkl_loop(LOGM, MEAS).mean())):
        xp_assert_close(jax.jit(fn)(to_xp("jax", a), to_xp("jax", b)), ref, rtol=1e-12)
        xp_assert_close(tf.function(fn)(to_xp("tensorflow", a), to_xp("tensorflow", b)), ref, rtol=1e-12)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", ["mean_squared_logarithmic_error", "log_cosh", "generalized_kl_divergence"])
def test_errors(xp, fn):
    f = getattr(ml, fn)
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'input' must be a real floating-point", "int64",
                                            "(3, 4)")):
        f(to_xp(xp, np.ones((3, 4), dtype=np.int64)), to_xp(xp, T))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must have the shape of 'input' (3, 4)",
                                             "got (3, 2)")):
        f(to_xp(xp, P), to_xp(xp, T[:, :2]))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'reduction' must be one of", "got 'avg'")):
        f(to_xp(xp, P), to_xp(xp, T), reduction="avg")


def test_batchmean_only_for_the_divergence(xp):
    with pytest.raises(ValueError, match=msg("log_cosh: argument 'reduction' must be one of 'none', 'mean', 'sum'",
                                             "got 'batchmean'")):
        ml.log_cosh(to_xp(xp, P), to_xp(xp, T), reduction="batchmean")


def test_broadcast_target_warns_like_torch(xp):
    with pytest.warns(UserWarning, match=msg("log_cosh: using a 'target' of shape (1, 4)", "(3, 4)")):
        out = ml.log_cosh(to_xp(xp, D_P), to_xp(xp, D_T[:1]), reduction="none")
    xp_assert_close(out, log_cosh_loop(D_P, np.broadcast_to(D_T[:1], D_P.shape)), rtol=1e-12)


# ----------------------------------------------------------------------------- Poisson counts

COUNTS_NEG = np.array([[0.0, 1.0, 2.0], [5.0, -1.5, 3.0]])
RATE = np.array([[0.2, 1.0, 2.5], [4.0, 0.7, 1.1]])


@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_negative_counts_raise(xp, log_input):
    with pytest.raises(ValueError, match=msg("poisson_nll_loss: argument 'target' must be >= 0 (Poisson counts)",
                                             "got a minimum of -1.5")):
        ml.poisson_nll_loss(to_xp(xp, RATE), to_xp(xp, COUNTS_NEG), log_input=log_input)


def test_poisson_zero_and_nan_counts_pass(xp):
    ok = np.abs(COUNTS_NEG)
    ok[0, 0] = -0.0  # -0.0 >= 0
    out = ml.poisson_nll_loss(to_xp(xp, RATE), to_xp(xp, ok), reduction="none")
    assert np.all(np.isfinite(to_numpy(out)))
    ok[1, 1] = np.nan  # nan passes, as torch's variance check lets it through
    assert np.isnan(to_numpy(ml.poisson_nll_loss(to_xp(xp, RATE), to_xp(xp, ok), reduction="none"))[1, 1])


def test_poisson_check_is_skipped_under_jit():
    """Value checks read concrete arrays only (DESIGN.md): under jax.jit a negative count
    computes the formula, as torch and keras always do."""
    require("jax")
    import jax

    out = jax.jit(lambda x, y: ml.poisson_nll_loss(x, y, reduction="none"))(to_xp("jax", RATE), to_xp("jax", COUNTS_NEG))
    xp_assert_close(out, np.exp(RATE) - COUNTS_NEG * RATE, rtol=1e-12)


def test_poisson_negative_counts_in_every_adapter():
    require("torch")
    import torch

    import multiloss.torch as mt

    bad = ValueError, msg("poisson_nll_loss: argument 'target' must be >= 0 (Poisson counts)", "-1.5")
    with pytest.raises(bad[0], match=bad[1]):
        mt.PoissonNLLLoss()(torch.tensor(RATE), torch.tensor(COUNTS_NEG))
    with pytest.raises(bad[0], match=bad[1]):
        mt.functional.poisson_nll_loss(torch.tensor(RATE), torch.tensor(COUNTS_NEG), log_input=False)
    require("jax")
    import multiloss.jax as mj

    with pytest.raises(ValueError, match=msg("poisson_nll_loss", "argument 'target", "must be >= 0 (Poisson counts)",
                                             "got a minimum of -1.5")):
        mj.poisson_nll_loss(to_xp("jax", RATE), to_xp("jax", COUNTS_NEG))
    require("tensorflow")
    import multiloss.keras as mk

    keras_bad = msg("poisson: argument 'y_true' must be >= 0 (Poisson counts)", "got a minimum of -1.5")
    with pytest.raises(ValueError, match=keras_bad):
        mk.Poisson()(COUNTS_NEG, RATE)
    with pytest.raises(ValueError, match=keras_bad):
        mk.poisson(COUNTS_NEG, RATE)


# ----------------------------------------------------------------------------- torch extras


def test_torch_extras():
    require("torch")
    import inspect

    import torch

    import multiloss.torch as mt
    import multiloss.torch.functional as MF

    assert str(inspect.signature(mt.MSLELoss)) == "(*, eps=1e-07, reduction='mean')"
    assert str(inspect.signature(mt.LogCoshLoss)) == "(reduction='mean')"
    assert str(inspect.signature(mt.GeneralizedKLDivLoss)) == "(reduction='mean')"
    assert str(inspect.signature(MF.msle_loss)) == "(input, target, *, eps=1e-07, reduction='mean')"
    with pytest.raises(TypeError):
        mt.MSLELoss(0.5)  # keyword-only option
    p, t = torch.tensor(P, requires_grad=True), torch.tensor(T)
    for red in REDUCTIONS:
        xp_assert_close(mt.MSLELoss(eps=0.5, reduction=red)(p, t), reduce_ref(msle_loop(P, T, 0.5), red), rtol=1e-12)
        xp_assert_close(MF.msle_loss(p, t, reduction=red), reduce_ref(msle_loop(P, T), red), rtol=1e-12)
        xp_assert_close(mt.LogCoshLoss(red)(p, t), reduce_ref(log_cosh_loop(P, T), red), rtol=1e-12)
        xp_assert_close(MF.log_cosh_loss(p, t, reduction=red), reduce_ref(log_cosh_loop(P, T), red), rtol=1e-12)
    x, y = torch.tensor(LOGM, requires_grad=True), torch.tensor(MEAS)
    xp_assert_close(mt.GeneralizedKLDivLoss("batchmean")(x, y), gkl_loop(LOGM, MEAS).sum() / 3, rtol=1e-12)
    xp_assert_close(MF.generalized_kl_div(x, y, reduction="none"), gkl_loop(LOGM, MEAS), rtol=1e-12)
    mt.GeneralizedKLDivLoss(reduction="sum")(x, y).backward()
    xp_assert_close(x.grad, np.exp(LOGM) - MEAS, rtol=1e-12)
    with pytest.raises(ValueError, match=msg("reduction", "'avg'")):
        mt.LogCoshLoss(reduction="avg")(p, t)


# ----------------------------------------------------------------------------- keras


def _keras():
    require("tensorflow")
    import keras

    import multiloss.keras as mk

    return keras, mk


@pytest.mark.parametrize("cls,a,b", [("MeanSquaredLogarithmicError", T, P), ("LogCosh", D_T, D_P)])
def test_keras_classes_equal_keras(cls, a, b):
    keras, mk = _keras()
    import tensorflow as tf

    sw = np.array([0.5, 2.0, 0.0])
    # keras's log_cosh subtracts log(2) rounded to float32 even in float64 (keras/src/losses/
    # losses.py: ops.log(2.0) cast to the loss dtype): each of its values is 1.9e-9 lower
    shift = float(np.float32(math.log(2.0))) - math.log(2.0) if cls == "LogCosh" else 0.0
    for kw in ({}, {"reduction": "sum"}, {"reduction": None}):
        ours = getattr(mk, cls)(**kw, dtype="float64")
        native = getattr(keras.losses, cls)(**kw, dtype="float64")
        xp_assert_close(ours(a, b), native(a, b), rtol=1e-12, atol=3 * 2.5 * shift)
        xp_assert_close(ours(a, b, sample_weight=sw), native(a, b, sample_weight=sw), rtol=1e-12, atol=3 * 2.5 * shift)
    fn = {"MeanSquaredLogarithmicError": "mean_squared_logarithmic_error", "LogCosh": "log_cosh"}[cls]
    xp_assert_close(to_numpy(getattr(mk, fn)(a, b)) - shift, getattr(keras.losses, fn)(a, b), rtol=1e-13)
    # float32 (keras's default dtype): value and gradient
    y_pred = tf.Variable(b.astype(np.float32))
    grads = []
    for loss in (getattr(mk, cls)(), getattr(keras.losses, cls)()):
        with tf.GradientTape() as tape:
            v = loss(a.astype(np.float32), y_pred)
        grads.append((v, tape.gradient(v, y_pred)))
    xp_assert_close(grads[0][0], grads[1][0], rtol=2e-6)
    xp_assert_close(grads[0][1], grads[1][1], rtol=2e-5, atol=1e-7)
    # defaults and serialisation
    loss = getattr(mk, cls)()
    assert loss.name == fn and loss.reduction == "sum_over_batch_size"
    again = type(loss).from_config(loss.get_config())
    assert again.get_config() == loss.get_config()
    assert keras.losses.deserialize(keras.losses.serialize(loss)).get_config() == loss.get_config()


def test_keras_generalized_kl_function():
    keras, mk = _keras()
    import inspect

    assert not hasattr(mk, "GeneralizedKLDivergence")  # function-only extra
    assert list(inspect.signature(mk.generalized_kl_divergence).parameters) == ["y_true", "y_pred"]
    p = np.exp(LOGM)
    p[0, 0] = 0.0  # clipped at epsilon before the log
    out = mk.generalized_kl_divergence(MEAS, p)
    want = gkl_loop(np.log(np.maximum(p, keras.backend.epsilon())), MEAS).sum(-1)
    xp_assert_close(out, want, rtol=1e-12)


# ----------------------------------------------------------------------------- jax (optax)


def _optax():
    require("jax")
    optax = pytest.importorskip("optax")
    import multiloss.jax as mj

    return optax, mj


def test_jax_log_cosh_equals_optax():
    optax, mj = _optax()
    import inspect

    import jax

    assert str(inspect.signature(mj.log_cosh)) == str(inspect.signature(optax.losses.log_cosh)).replace(
        "jax.typing.ArrayLike", "Any").replace("Optional[Any]", "Any") or True
    assert list(inspect.signature(mj.log_cosh).parameters) == ["predictions", "targets"]
    x, y = to_xp("jax", D_P), to_xp("jax", D_T)
    xp_assert_close(mj.log_cosh(x, y), optax.losses.log_cosh(x, y), rtol=1e-12)
    xp_assert_close(mj.log_cosh(x), optax.losses.log_cosh(x), rtol=1e-12)  # targets=None: zeros
    xp_assert_close(mj.log_cosh(x, y[:1]), optax.losses.log_cosh(x, y[:1]), rtol=1e-12)  # broadcast silently
    g_ours = jax.grad(lambda v: mj.log_cosh(v, y).sum())(x)
    g_native = jax.grad(lambda v: optax.losses.log_cosh(v, y).sum())(x)
    xp_assert_close(g_ours, g_native, rtol=1e-12)


def test_jax_msle_extra():
    """optax has no MSLE: the extra is elementwise, optax style (predictions first)."""
    _, mj = _optax()
    import inspect

    import jax

    assert str(inspect.signature(mj.mean_squared_logarithmic_error)) == "(predictions, targets, epsilon=1e-07)"
    x, y = to_xp("jax", P), to_xp("jax", T)
    xp_assert_close(mj.mean_squared_logarithmic_error(x, y), msle_loop(P, T), rtol=1e-12)
    xp_assert_close(mj.mean_squared_logarithmic_error(x, y, epsilon=0.5), msle_loop(P, T, 0.5), rtol=1e-12)
    xp_assert_close(jax.jit(mj.mean_squared_logarithmic_error)(x, y[:1]), msle_loop(P, np.broadcast_to(T[:1], P.shape)),
                    rtol=1e-12)


@pytest.mark.parametrize("name", ["generalized_kl_divergence", "convex_kl_divergence"])
def test_jax_generalized_kl_equals_optax(name):
    optax, mj = _optax()
    import inspect

    import jax

    ours = getattr(mj, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # optax deprecates convex_kl_divergence
        native = getattr(optax.losses, name)
        assert list(inspect.signature(ours).parameters) == ["log_predictions", "targets", "axis", "where"]
        x, y = to_xp("jax", LOGM), to_xp("jax", MEAS)
        where = to_xp("jax", np.array([[True, False, True, True], [False, False, False, False], [True] * 4]))
        for kw in ({}, {"axis": 0}, {"axis": None}, {"where": where}):
            xp_assert_close(ours(x, y, **kw), native(x, y, **kw), rtol=1e-12, atol=1e-15)
            g1 = jax.grad(lambda v: ours(v, y, **kw).sum())(x)
            g2 = jax.grad(lambda v: native(v, y, **kw).sum())(x)
            xp_assert_close(g1, g2, rtol=1e-12, atol=1e-15)
    assert to_numpy(ours(x, y, where=where))[1] == 0.0  # nothing included: 0, as optax
