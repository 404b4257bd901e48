"""Poisson and Gaussian negative log-likelihoods (``multiloss/losses/probabilistic.py``) on
every installed namespace (``xp`` fixture).

Expected values come from plain Python loops over the elements written here, and from torch's
``F.poisson_nll_loss`` / ``F.gaussian_nll_loss`` on the same float64 inputs; the gradient with
respect to ``var`` (torch: straight through its no-grad clamp) is compared to torch's autograd.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import msg, reduce_ref, require, to_numpy, to_xp, torch_f, value_and_grad, xp_assert_close

REDUCTIONS = ("none", "mean", "sum")


def call(xp, fn, *args, dtype=None, **kwargs):
    conv = lambda a: to_xp(xp, a, dtype) if isinstance(a, np.ndarray) else a  # noqa: E731
    return fn(*[conv(a) for a in args], **{k: conv(v) for k, v in kwargs.items()})


rng = np.random.default_rng(3)
LOG_RATE = rng.normal(scale=0.7, size=(4, 3))
RATE = rng.uniform(0.0, 4.0, size=(4, 3))
RATE[0, 0] = 0.0  # log(0 + eps)
COUNTS = np.array([[0.0, 1.0, 2.0], [5.0, 0.0, 3.0], [1.0, 7.0, 0.5], [4.0, 1.5, 0.0]])

MU = rng.normal(size=(4, 3))
Y = rng.normal(size=(4, 3))
VAR = rng.uniform(0.2, 2.0, size=(4, 3))


# ----------------------------------------------------------------------------- loops


def poisson_loop(x, y, log_input=True, full=False, eps=1e-8):
    out = []
    for rate, count in zip(np.ravel(x), np.ravel(y)):
        val = math.exp(rate) - count * rate if log_input else rate - count * math.log(rate + eps)
        if full and count > 1:
            val += count * math.log(count) - count + 0.5 * math.log(2 * math.pi * count)
        out.append(val)
    return np.reshape(out, np.shape(x))


def gaussian_loop(mu, y, var, full=False, eps=1e-6):
    var = np.broadcast_to(var, np.shape(mu))
    out = []
    for m, t, v in zip(np.ravel(mu), np.ravel(y), np.ravel(var)):
        v = max(v, eps)
        out.append(0.5 * (math.log(v) + (m - t) ** 2 / v) + (0.5 * math.log(2 * math.pi) if full else 0.0))
    return np.reshape(out, np.shape(mu))


# ----------------------------------------------------------------------------- poisson_nll_loss

POISSON_OPTIONS = [
    {},
    {"full": True},
    {"log_input": False},
    {"log_input": False, "full": True},
    {"log_input": False, "eps": 0.5},
]
_kw_id = lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default"  # noqa: E731


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", POISSON_OPTIONS, ids=_kw_id)
def test_poisson_nll_loss(xp, kw, reduction):
    x = LOG_RATE if kw.get("log_input", True) else RATE
    out = call(xp, ml.poisson_nll_loss, x, COUNTS, reduction=reduction, **kw)
    xp_assert_close(out, reduce_ref(poisson_loop(x, COUNTS, **kw), reduction), rtol=1e-12, atol=1e-14, xp=xp)
    xp_assert_close(out, torch_f("poisson_nll_loss", x, COUNTS, reduction=reduction, **kw), rtol=1e-12, atol=1e-14)


def test_poisson_nll_loss_float32_and_integer_counts(xp):
    out = call(xp, ml.poisson_nll_loss, LOG_RATE, COUNTS.astype(np.int64), full=True, dtype=np.float32)
    assert to_numpy(out).dtype == np.float32
    want = poisson_loop(LOG_RATE, COUNTS.astype(np.int64).astype(np.float64), full=True).mean()
    xp_assert_close(out, want, rtol=1e-5)


def test_poisson_nll_loss_stirling_only_above_one(xp):
    """full=True adds nothing where target <= 1 (torch: masked_fill(target <= 1, 0))."""
    y = np.array([0.0, 0.5, 1.0, 1.5, 3.0])
    x = np.zeros(5)
    diff = to_numpy(call(xp, ml.poisson_nll_loss, x, y, full=True, reduction="none")) - to_numpy(
        call(xp, ml.poisson_nll_loss, x, y, reduction="none"))
    assert np.all(diff[:3] == 0)
    xp_assert_close(diff[3:], [k * math.log(k) - k + 0.5 * math.log(2 * math.pi * k) for k in (1.5, 3.0)], rtol=1e-12)


def test_poisson_nll_loss_broadcasts_target_without_warning(xp, recwarn):
    out = call(xp, ml.poisson_nll_loss, LOG_RATE, COUNTS[:1], reduction="none")
    xp_assert_close(out, torch_f("poisson_nll_loss", LOG_RATE, COUNTS[:1], reduction="none"), rtol=1e-12)
    assert not [w for w in recwarn.list if "poisson_nll_loss" in str(w.message)]


def test_poisson_nll_loss_gradients_finite_with_zero_counts(grad_backend):
    """Zero counts with full=True: no nan from log(0) in the value or in the gradient with
    respect to the input or the target (the Stirling term is computed on a safe target)."""
    f = lambda x: ml.poisson_nll_loss(x, to_xp(grad_backend, COUNTS), full=True, reduction="none")  # noqa: E731
    val, grad = value_and_grad(grad_backend, f, LOG_RATE)
    xp_assert_close(grad, np.exp(LOG_RATE) - COUNTS, rtol=1e-12)
    g = lambda t: ml.poisson_nll_loss(to_xp(grad_backend, LOG_RATE), t, full=True, reduction="none")  # noqa: E731
    val, grad_t = value_and_grad(grad_backend, g, COUNTS)
    safe = np.where(COUNTS > 1, COUNTS, 1.0)
    want = -LOG_RATE + np.where(COUNTS > 1, np.log(safe) + 0.5 / safe, 0.0)
    assert np.all(np.isfinite(grad_t))
    xp_assert_close(grad_t, want, rtol=1e-12)


def test_poisson_nll_loss_errors(xp):
    fn = "poisson_nll_loss"
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'input' must be a real floating-point", "int64")):
        ml.poisson_nll_loss(to_xp(xp, np.ones((4, 3), dtype=np.int64)), to_xp(xp, COUNTS))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must have the shape of 'input' (4, 3)",
                                             "got (4, 2)")):
        ml.poisson_nll_loss(to_xp(xp, LOG_RATE), to_xp(xp, COUNTS[:, :2]))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'reduction'", "got 'batchmean'")):
        ml.poisson_nll_loss(to_xp(xp, LOG_RATE), to_xp(xp, COUNTS), reduction="batchmean")


# ----------------------------------------------------------------------------- gaussian_nll_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", (False, True))
def test_gaussian_nll_loss(xp, full, reduction):
    out = call(xp, ml.gaussian_nll_loss, MU, Y, VAR, full=full, reduction=reduction)
    xp_assert_close(out, reduce_ref(gaussian_loop(MU, Y, VAR, full), reduction), rtol=1e-12, xp=xp)
    xp_assert_close(out, torch_f("gaussian_nll_loss", MU, Y, VAR, full=full, reduction=reduction), rtol=1e-12)


@pytest.mark.parametrize(
    "mu_shape,var_shape",
    [((4, 3), (4,)), ((4, 3), (4, 1)), ((4, 3), (1, 3)), ((2, 3, 5, 5), (2, 1, 5, 5)), ((3,), ()), ((3,), (1,)),
     ((2, 3, 4), (2, 3))],
    ids=str,
)
def test_gaussian_nll_loss_var_shapes(xp, mu_shape, var_shape):
    """torch's var shape rules: the input's shape without its last dimension, or one mismatched
    dimension of size 1 (homoscedastic)."""
    r = np.random.default_rng(1)
    mu, y = r.normal(size=mu_shape), r.normal(size=mu_shape)
    var = r.uniform(0.2, 2.0, size=var_shape)
    out = call(xp, ml.gaussian_nll_loss, mu, y, var, reduction="none")
    want = torch_f("gaussian_nll_loss", mu, y, var, reduction="none")
    assert to_numpy(out).shape == want.shape == mu_shape
    v = var[..., None] if var_shape == mu_shape[:-1] else var
    xp_assert_close(out, gaussian_loop(mu, y, v), rtol=1e-12)
    xp_assert_close(out, want, rtol=1e-12)


@pytest.mark.parametrize("var", (0.7, 3, 0.0), ids=str)
def test_gaussian_nll_loss_scalar_var(xp, var):
    out = call(xp, ml.gaussian_nll_loss, MU, Y, var, reduction="none")
    xp_assert_close(out, gaussian_loop(MU, Y, float(var)), rtol=1e-12, xp=xp)
    xp_assert_close(out, torch_f("gaussian_nll_loss", MU, Y, float(var), reduction="none"), rtol=1e-12)


@pytest.mark.parametrize("eps", (1e-6, 0.1, 0.5))
def test_gaussian_nll_loss_clamps_var_at_eps(xp, eps):
    var = VAR.copy()
    var[0] = [0.0, 1e-9, 0.05]
    out = call(xp, ml.gaussian_nll_loss, MU, Y, var, eps=eps, full=True, reduction="none")
    xp_assert_close(out, gaussian_loop(MU, Y, var, True, eps), rtol=1e-12)
    xp_assert_close(out, torch_f("gaussian_nll_loss", MU, Y, var, eps=eps, full=True, reduction="none"), rtol=1e-12)


def test_gaussian_nll_loss_float32(xp):
    out = call(xp, ml.gaussian_nll_loss, MU, Y, VAR, dtype=np.float32)
    assert to_numpy(out).dtype == np.float32
    xp_assert_close(out, gaussian_loop(MU, Y, VAR).mean(), rtol=1e-5)


def test_gaussian_nll_loss_integer_var_array(xp):
    var = np.array([[1, 2, 3]] * 4)
    xp_assert_close(call(xp, ml.gaussian_nll_loss, MU, Y, var), gaussian_loop(MU, Y, var).mean(), rtol=1e-12)


def test_gaussian_nll_loss_var_gradient_passes_through_the_clamp(grad_backend):
    """torch clamps a clone of var in place under no_grad: the value is max(var, eps) and the
    gradient w.r.t. var is d loss / d v at the clamped v, also where var < eps."""
    require("torch")
    import torch
    import torch.nn.functional as F

    var = VAR.copy()
    var[0] = [0.0, 0.05, 0.2]
    var[1, 0] = 0.1  # exactly eps: the tie
    f = lambda v: ml.gaussian_nll_loss(to_xp(grad_backend, MU), to_xp(grad_backend, Y), v, eps=0.1,  # noqa: E731
                                       reduction="none")
    val, grad = value_and_grad(grad_backend, f, var)
    tv = torch.from_numpy(var.copy()).requires_grad_(True)
    out = F.gaussian_nll_loss(torch.from_numpy(MU), torch.from_numpy(Y), tv, eps=0.1, reduction="none")
    (want,) = torch.autograd.grad(out.sum(), tv)
    xp_assert_close(val, out.detach().numpy(), rtol=1e-12)
    assert np.all(want.numpy()[0] != 0)  # the clamped entries do get a gradient
    xp_assert_close(grad, want.numpy(), rtol=1e-12)
    # and w.r.t. the input: (mu - y) / max(var, eps)
    g = lambda m: ml.gaussian_nll_loss(m, to_xp(grad_backend, Y), to_xp(grad_backend, var), eps=0.1,  # noqa: E731
                                       reduction="none")
    _, gm = value_and_grad(grad_backend, g, MU)
    xp_assert_close(gm, (MU - Y) / np.maximum(var, 0.1), rtol=1e-12)


def test_gaussian_nll_loss_negative_var_raises_eagerly(xp):
    fn = "gaussian_nll_loss"
    var = VAR.copy()
    var[2, 1] = -0.25
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'var' must be >= 0", "minimum of -0.25")):
        call(xp, ml.gaussian_nll_loss, MU, Y, var)
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'var' must be >= 0", "got -1.0")):
        call(xp, ml.gaussian_nll_loss, MU, Y, -1.0)


def test_gaussian_nll_loss_negative_var_unchecked_under_jit():
    """Value checks run only on concrete arrays: under jax.jit a negative variance is not an
    error; it is clamped at eps like any variance below it."""
    require("jax")
    import jax
    import jax.numpy as jnp

    var = VAR.copy()
    var[0, 0] = -1.0
    out = jax.jit(lambda m, y, v: ml.gaussian_nll_loss(m, y, v, reduction="none"))(
        jnp.asarray(MU), jnp.asarray(Y), jnp.asarray(var))
    xp_assert_close(out, gaussian_loop(MU, Y, var), rtol=1e-12)


def test_gaussian_nll_loss_traces_under_tf_function():
    require("tensorflow")
    import tensorflow as tf

    f = tf.function(lambda m, y, v: ml.gaussian_nll_loss(m, y, v, full=True))
    out = f(tf.constant(MU), tf.constant(Y), tf.constant(VAR[:, :1]))
    xp_assert_close(out, gaussian_loop(MU, Y, VAR[:, :1], True).mean(), rtol=1e-12)


def test_gaussian_nll_loss_errors(xp):
    fn = "gaussian_nll_loss"
    m, y = to_xp(xp, MU), to_xp(xp, Y)
    for bad in ((3,), (4, 2), (4, 3, 1), (2, 3), ()):
        with pytest.raises(ValueError, match=msg(f"{fn}: argument 'var' must have the shape of 'input' (4, 3)",
                                                 "without its last dimension (4,)", f"got shape {bad}")):
            ml.gaussian_nll_loss(m, y, to_xp(xp, np.ones(bad)))
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'var' must be a real", "got dtype", "bool", "(4, 3)")):
        ml.gaussian_nll_loss(m, y, to_xp(xp, np.ones((4, 3), dtype=bool)))
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'input' must be a real floating-point", "int64")):
        ml.gaussian_nll_loss(to_xp(xp, np.ones((4, 3), dtype=np.int64)), y, to_xp(xp, VAR))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must have the shape of 'input' (4, 3)",
                                             "got (2, 3)")):
        ml.gaussian_nll_loss(m, to_xp(xp, Y[:2]), to_xp(xp, VAR))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'reduction'", "got 'avg'")):
        ml.gaussian_nll_loss(m, y, to_xp(xp, VAR), reduction="avg")
