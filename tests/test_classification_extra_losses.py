"""Catalogue II, classification: keras's BinaryFocalCrossentropy (canonical ``focal_loss``),
CategoricalFocalCrossentropy and CategoricalGeneralizedCrossEntropy, optax's
poly_loss_cross_entropy, safe_softmax_cross_entropy and smooth_labels, and issue 13's two
classification edges: the all-ignored cross-entropy / NLL mean (nan value, zero gradient, as
torch) and the focal loss's nan gradient for gamma < 1 at saturated logits.

Every native comparison on the conformance domains runs in ``pytest conformance`` (the rows'
``checks``); here: the edges, the natives on their own documented examples, every error message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests_conftest import (
    msg,
    namespace_of,
    require,
    to_numpy,
    to_xp,
    value_and_grad,
    xp_assert_close,
)

import multiloss as ml
from multiloss.losses.classification import smooth_labels

rng = np.random.default_rng(11)
N, C = 6, 4
LOGITS = rng.normal(scale=2.0, size=(N, C))
LABELS = rng.integers(0, C, size=N)
ONEHOT = np.eye(C)[LABELS]
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
SOFT = np.exp(rng.normal(size=(N, C)))
SOFT /= SOFT.sum(axis=1, keepdims=True)
ALPHA_C = np.array([0.5, 1.0, 1.5, 2.0])

# issue 13, item 2: float32 sigmoids of these logits round to 0 or 1
SAT_X = np.array([100.0, -100.0, 75.0, -75.0, 50.0, -50.0])
SAT_Y = np.array([0.9, 0.1, 0.8, 0.2, 1.0, 0.0])


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------- issue 13, item 1


CE_OPTIONS = [{}, {"weight": True}, {"label_smoothing": 0.1}, {"weight": True, "label_smoothing": 0.1}]


def _ignored_case(name, kw, shape, dtype):
    x = rng.normal(size=shape).astype(dtype)
    t = np.full(shape[:1] + shape[2:], -100)
    kw = dict(kw)
    if kw.pop("weight", False):
        kw["weight"] = np.linspace(0.5, 2.0, shape[1]).astype(dtype)
    return x, t, kw


_FN_OPTIONS = [(fn, kw) for fn in ("cross_entropy", "nll_loss") for kw in CE_OPTIONS
               if not (fn == "nll_loss" and "label_smoothing" in kw)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2)], ids=["NC", "NCd"])
@pytest.mark.parametrize("fn,kw", _FN_OPTIONS, ids=[f"{f}-{','.join(k) or 'plain'}" for f, k in _FN_OPTIONS])
def test_all_ignored_mean_is_nan_with_zero_gradient(grad_backend, fn, kw, shape, dtype):
    """torch: a padding-only batch gives a nan loss and an all-zero input gradient (its
    nll_loss backward scales the all-zero per-element weights); a nan gradient would poison
    every parameter."""
    x, t, kw = _ignored_case(fn, kw, shape, dtype)
    opts = {k: to_xp(grad_backend, v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    target = to_xp(grad_backend, t)
    value, grad = value_and_grad(grad_backend, lambda a: getattr(ml, fn)(a, target, **opts), x)
    assert np.isnan(value)
    assert np.all(grad == 0), grad
    # the sum is 0 with a zero gradient too
    value, grad = value_and_grad(grad_backend, lambda a: getattr(ml, fn)(a, target, reduction="sum", **opts), x)
    assert value == 0 and np.all(grad == 0)


@pytest.mark.parametrize("kw", CE_OPTIONS, ids=lambda k: ",".join(k) or "plain")
def test_all_ignored_torch_adapter_equals_torch(kw):
    """The torch adapter (module and functional) against torch itself: nan, zero gradient."""
    require("torch")
    import torch

    import multiloss.torch as mt

    x, t, kw = _ignored_case("cross_entropy", kw, (5, 4), np.float32)
    kw = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    t = torch.as_tensor(t)
    forms = [torch.nn.functional.cross_entropy, mt.functional.cross_entropy, lambda a, b, **k: mt.CrossEntropyLoss(**k)(a, b)]
    if "label_smoothing" not in kw:
        forms += [lambda a, b, **k: torch.nn.functional.nll_loss(a.log_softmax(1), b, **k),
                  lambda a, b, **k: mt.functional.nll_loss(a.log_softmax(1), b, **k),
                  lambda a, b, **k: mt.NLLLoss(**k)(a.log_softmax(1), b)]
    for f in forms:
        a = torch.as_tensor(x).requires_grad_(True)
        v = f(a, t, **kw)
        v.backward()
        assert torch.isnan(v) and torch.all(a.grad == 0), (f, v, a.grad)


# --------------------------------------------------------------------------- issue 13, item 2


def test_saturated_focal_gradient_is_optax(grad_backend):
    """The issue's example in float32: optax's gradient is +-4.0e-33 at the hard labels, the
    others about +-0.0316 and +-0.0894; ours is finite and equal on torch, jax and tf."""
    require("jax")
    pytest.importorskip("optax")
    import jax
    import jax.numpy as jnp
    import optax

    x = SAT_X.astype(np.float32)
    y = to_xp(grad_backend, SAT_Y, np.float32)
    want = np.asarray(jax.grad(lambda a: optax.losses.sigmoid_focal_loss(a, jnp.asarray(SAT_Y, jnp.float32),
                                                                          gamma=0.5).sum())(jnp.asarray(x)))
    assert np.all(np.isfinite(want)) and abs(want[-1]) < 1e-30
    for alpha in (None, 0.25):
        value, grad = value_and_grad(
            grad_backend, lambda a, alpha=alpha: ml.focal_loss(a, y, alpha=alpha, gamma=0.5, from_logits=True, reduction="none"), x)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), grad
        if alpha is None:
            np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-37)
            np.testing.assert_allclose(value, np.asarray(optax.losses.sigmoid_focal_loss(
                jnp.asarray(x), jnp.asarray(SAT_Y, jnp.float32), gamma=0.5)), rtol=1e-6)


@pytest.mark.parametrize("gamma", [0.25, 0.5, 0.999])
def test_saturated_focal_finite_on_every_form(grad_backend, gamma):
    """gamma < 1, float32, saturated logits (and probabilities exactly 0 and 1): finite values
    and gradients through the canonical losses, both focal variants."""
    x = np.concatenate([SAT_X, SAT_X * 0.4]).astype(np.float32)
    y = to_xp(grad_backend, np.concatenate([SAT_Y, SAT_Y]), np.float32)
    probs = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.5, 1e-30], np.float32)
    py = to_xp(grad_backend, np.array([1.0, 0.0, 0.0, 1.0, 0.7, 0.3, 1.0, 0.0]), np.float32)
    cases = [
        (x, lambda a: ml.focal_loss(a, y, gamma=gamma, from_logits=True, reduction="none")),
        (probs, lambda a: ml.focal_loss(a, py, gamma=gamma, reduction="none")),
        (x.reshape(3, 4), lambda a: ml.categorical_focal_crossentropy(
            a, to_xp(grad_backend, np.array([0, 1, 3])), gamma=gamma, from_logits=True, reduction="none")),
        (x.reshape(3, 4), lambda a: ml.categorical_focal_crossentropy(
            a, to_xp(grad_backend, np.eye(4)[[0, 1, 3]], np.float32), gamma=gamma, from_logits=True, reduction="none")),
    ]
    for arr, f in cases:
        value, grad = value_and_grad(grad_backend, f, arr)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad)), (value, grad)


def test_saturated_focal_adapters_are_finite():
    """Every adapter's focal form with gamma < 1 at saturated float32 logits."""
    require("torch")
    import torch

    import multiloss.torch as mt

    for loss in (mt.FocalLoss(gamma=0.5, from_logits=True), lambda a, b: mt.functional.focal_loss(a, b, gamma=0.5, from_logits=True)):
        a = torch.tensor(SAT_X, dtype=torch.float32, requires_grad=True)
        loss(a, torch.tensor(SAT_Y, dtype=torch.float32)).backward()
        assert torch.all(torch.isfinite(a.grad))
    require("jax")
    import jax
    import jax.numpy as jnp

    import multiloss.jax as mj

    g = jax.grad(lambda a: mj.sigmoid_focal_loss(a, jnp.asarray(SAT_Y, jnp.float32), gamma=0.5).sum())(
        jnp.asarray(SAT_X, jnp.float32))
    assert np.all(np.isfinite(np.asarray(g)))
    require("tensorflow")
    import tensorflow as tf

    import multiloss.keras as mk

    for loss in (mk.BinaryFocalCrossentropy(gamma=0.5, from_logits=True),
                 mk.BinaryFocalCrossentropy(gamma=0.5, from_logits=True, apply_class_balancing=True)):
        p = tf.constant(SAT_X[None], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(p)
            v = loss(tf.constant(SAT_Y[None], tf.float32), p)
        assert np.isfinite(float(v)) and np.all(np.isfinite(tape.gradient(v, p).numpy()))


# --------------------------------------------------------------------------- values, every backend


def _categorical_focal_ref(p, onehot, alpha, gamma):
    return -(alpha * (1 - p) ** gamma * onehot * np.log(p)).sum(axis=-1)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_categorical_focal_index_and_onehot_targets_agree(xp, gamma):
    want = _categorical_focal_ref(PROBS, ONEHOT, 0.25, gamma)
    for target in (LABELS, ONEHOT):
        got = ml.categorical_focal_crossentropy(to_xp(xp, PROBS), to_xp(xp, target), gamma=gamma, reduction="none")
        xp_assert_close(got, want, rtol=1e-12)
        got = ml.categorical_focal_crossentropy(to_xp(xp, LOGITS), to_xp(xp, target), gamma=gamma, from_logits=True,
                                                reduction="none")
        xp_assert_close(got, want, rtol=1e-12)


def test_categorical_focal_class_alpha_and_smoothing(xp):
    want = _categorical_focal_ref(PROBS, ONEHOT * 0.9 + 0.1 / C, ALPHA_C, 2.0).mean()
    for target in (LABELS, ONEHOT):
        got = ml.categorical_focal_crossentropy(to_xp(xp, PROBS), to_xp(xp, target), alpha=to_xp(xp, ALPHA_C),
                                                label_smoothing=0.1)
        xp_assert_close(got, want, rtol=1e-12)
    got = ml.categorical_focal_crossentropy(to_xp(xp, PROBS), to_xp(xp, LABELS), alpha=to_xp(xp, ALPHA_C),
                                            reduction="none")
    xp_assert_close(got, _categorical_focal_ref(PROBS, ONEHOT, ALPHA_C, 2.0), rtol=1e-12)


def test_categorical_focal_gamma0_alpha1_is_cross_entropy(xp):
    for target in (LABELS, SOFT):
        a = ml.categorical_focal_crossentropy(to_xp(xp, LOGITS), to_xp(xp, target), alpha=None, gamma=0.0,
                                              from_logits=True, reduction="sum")
        xp_assert_close(a, ml.cross_entropy(to_xp(xp, LOGITS), to_xp(xp, target), reduction="sum"), rtol=1e-12)


def test_categorical_focal_class_axis_1(xp):
    """(N, C, d) input: the class axis is torch's 1."""
    x = rng.normal(size=(3, C, 2))
    t = rng.integers(0, C, size=(3, 2))
    got = ml.categorical_focal_crossentropy(to_xp(xp, x), to_xp(xp, t), from_logits=True, reduction="none")
    want = _categorical_focal_ref(np.moveaxis(_softmax(x, 1), 1, -1), np.eye(C)[t], 0.25, 2.0)
    xp_assert_close(got, want, rtol=1e-12)


def test_generalized_cross_entropy_values(xp):
    p_y = PROBS[np.arange(N), LABELS]
    for q in (0.1, 0.5, 1.0):
        want = (1 - p_y ** q) / q
        xp_assert_close(ml.categorical_generalized_cross_entropy(to_xp(xp, PROBS), to_xp(xp, LABELS), q=q,
                                                                 reduction="none"), want, rtol=1e-12)
        xp_assert_close(ml.categorical_generalized_cross_entropy(to_xp(xp, LOGITS), to_xp(xp, LABELS), q=q,
                                                                 from_logits=True, reduction="none"), want, rtol=1e-12)
    # one-hot targets equal class indices; soft targets: the expected loss
    xp_assert_close(ml.categorical_generalized_cross_entropy(to_xp(xp, PROBS), to_xp(xp, ONEHOT), reduction="none"),
                    (1 - p_y ** 0.5) / 0.5, rtol=1e-12)
    xp_assert_close(ml.categorical_generalized_cross_entropy(to_xp(xp, LOGITS), to_xp(xp, SOFT), from_logits=True),
                    (SOFT * (1 - PROBS ** 0.5) / 0.5).sum(1).mean(), rtol=1e-12)
    # q = 1: the mean absolute error of the labelled probability; q -> 0: the cross-entropy
    xp_assert_close(ml.categorical_generalized_cross_entropy(to_xp(xp, PROBS), to_xp(xp, LABELS), q=1.0), (1 - p_y).mean())
    xp_assert_close(ml.categorical_generalized_cross_entropy(to_xp(xp, LOGITS), to_xp(xp, LABELS), q=1e-7, from_logits=True),
                    -np.log(p_y).mean(), rtol=1e-5)


def test_generalized_cross_entropy_gradient_finite_at_zero_probability(grad_backend):
    p = np.array([[0.0, 1.0], [0.3, 0.7]])
    value, grad = value_and_grad(grad_backend, lambda a: ml.categorical_generalized_cross_entropy(
        a, to_xp(grad_backend, np.array([0, 1])), reduction="none"), p)
    np.testing.assert_allclose(value, [2.0, (1 - math.sqrt(0.7)) / 0.5])
    assert np.all(np.isfinite(grad))


def test_poly_loss_values(xp):
    p_y = PROBS[np.arange(N), LABELS]
    for eps in (2.0, -1.0, 0.0):
        want = -np.log(p_y) + eps * (1 - p_y)
        for target in (LABELS, ONEHOT):
            xp_assert_close(ml.poly_loss_cross_entropy(to_xp(xp, LOGITS), to_xp(xp, target), epsilon=eps,
                                                       reduction="none"), want, rtol=1e-12)
    want = -(SOFT * np.log(PROBS)).sum(1) + 2.0 * (SOFT * (1 - PROBS)).sum(1)
    xp_assert_close(ml.poly_loss_cross_entropy(to_xp(xp, LOGITS), to_xp(xp, SOFT)), want.mean(), rtol=1e-12)


def test_safe_softmax_cross_entropy_masked_logits(xp):
    """A -inf logit whose label is 0 adds nothing: finite where cross_entropy gives nan."""
    x = LOGITS.copy()
    x[:, 0] = -np.inf
    t = SOFT.copy()
    t[:, 0] = 0
    t /= t.sum(axis=1, keepdims=True)
    logp = x[:, 1:] - np.log(np.exp(x[:, 1:]).sum(1, keepdims=True))
    want = -(t[:, 1:] * logp).sum(1)
    xp_assert_close(ml.safe_softmax_cross_entropy(to_xp(xp, x), to_xp(xp, t), reduction="none"), want, rtol=1e-12)
    xp_assert_close(ml.safe_softmax_cross_entropy(to_xp(xp, LOGITS), to_xp(xp, SOFT)),
                    ml.cross_entropy(to_xp(xp, LOGITS), to_xp(xp, SOFT)), rtol=1e-12)
    with np.errstate(invalid="ignore"):
        assert np.all(np.isnan(to_numpy(ml.cross_entropy(to_xp(xp, x), to_xp(xp, t), reduction="none"))))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_safe_softmax_cross_entropy_masked_gradient(grad_backend, dtype):
    x = LOGITS.astype(dtype)
    x[:, 0] = -np.inf
    t = SOFT.copy()
    t[:, 0] = 0
    t /= t.sum(axis=1, keepdims=True)
    _, grad = value_and_grad(grad_backend, lambda a: ml.safe_softmax_cross_entropy(
        a, to_xp(grad_backend, t, dtype), reduction="sum"), x)
    p = np.zeros_like(LOGITS)
    p[:, 1:] = _softmax(LOGITS[:, 1:])
    np.testing.assert_allclose(grad, p - t, atol=1e-6 if dtype == np.float32 else 1e-12)
    assert np.all(grad[:, 0] == 0)


def test_smooth_labels(xp):
    ns = namespace_of(xp)
    got = smooth_labels(to_xp(xp, ONEHOT), 0.1)
    xp_assert_close(got, ONEHOT * 0.9 + 0.1 / C)
    got = smooth_labels(to_xp(xp, ONEHOT), 0.2, axis=(0, 1))
    xp_assert_close(got, ONEHOT * 0.8 + 0.2 / (N * C))
    got = smooth_labels(to_xp(xp, ONEHOT), 0.2, axis=None)
    xp_assert_close(got, ONEHOT * 0.8 + 0.2 / (N * C))
    where = np.ones((N, C), dtype=bool)
    where[:, 0] = False
    got = smooth_labels(to_xp(xp, ONEHOT), 0.3, where=ns.asarray(to_xp(xp, where)))
    xp_assert_close(got, ONEHOT * 0.7 + 0.3 / (C - 1))


# --------------------------------------------------------------------------- natives' own examples


def test_keras_documented_examples():
    """keras's docstring figures and its functions, through multiloss.keras."""
    require("tensorflow")
    import keras

    import multiloss.keras as mk

    y_true, y_pred = np.array([0.0, 1.0, 0.0, 0.0]), np.array([-18.6, 0.51, 2.94, -12.8])
    figures = [({"gamma": 2}, 0.691), ({"apply_class_balancing": True, "gamma": 2}, 0.51),
               ({"gamma": 3}, 0.647), ({"apply_class_balancing": True, "gamma": 3}, 0.482)]
    for kw, want in figures:
        got = float(mk.BinaryFocalCrossentropy(from_logits=True, **kw)(y_true, y_pred))
        assert round(got, 3) == want, (kw, got)
    yt, yp = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]])
    np.testing.assert_allclose(mk.binary_focal_crossentropy(yt, yp, gamma=2).numpy(), [0.330, 0.206], atol=1e-3)
    yt, yp = np.array([[0, 1, 0], [0, 0, 1]]), np.array([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
    np.testing.assert_allclose(mk.categorical_focal_crossentropy(yt, yp).numpy(),
                               keras.losses.categorical_focal_crossentropy(yt, yp).numpy(), rtol=1e-6)
    np.testing.assert_allclose(mk.categorical_focal_crossentropy(yt, yp).numpy(), [2.63401289e-04, 6.75912094e-01],
                               rtol=1e-5)
    y, p = np.array([0, 1, 0, 1]), np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]])
    np.testing.assert_allclose(float(mk.CategoricalGeneralizedCrossEntropy()(y, p)),
                               float(keras.losses.CategoricalGeneralizedCrossEntropy()(y, p)), rtol=1e-6)
    np.testing.assert_allclose(mk.categorical_generalized_cross_entropy(y, p, 0.7).numpy(),
                               keras.losses.categorical_generalized_cross_entropy(y, p, q=0.7).numpy(), rtol=1e-6)
    # an (N, 1) label column is read as (N,) (keras's own function broadcasts it to (N, N))
    np.testing.assert_allclose(float(mk.CategoricalGeneralizedCrossEntropy()(y[:, None], p)),
                               float(keras.losses.CategoricalGeneralizedCrossEntropy()(y, p)), rtol=1e-6)


def test_keras_binary_focal_clips_only_its_bce():
    """Probabilities exactly 0 and 1: keras clips them inside its BCE, not in the focal factor,
    so a saturated wrong prediction keeps the focal factor's gradient."""
    require("tensorflow")
    import keras
    import tensorflow as tf

    import multiloss.keras as mk

    yt = tf.constant([[1.0, 0.0, 1.0, 0.0]])
    for kw in ({}, {"apply_class_balancing": True, "gamma": 3.0}):
        grads = []
        for cls in (mk.BinaryFocalCrossentropy, keras.losses.BinaryFocalCrossentropy):
            p = tf.constant([[0.0, 1.0, 1.0, 0.0]])
            with tf.GradientTape() as tape:
                tape.watch(p)
                v = cls(**kw)(yt, p)
            grads.append((float(v), tape.gradient(v, p).numpy()))
        np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-6)
        np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6)
        assert grads[0][1][0, 0] != 0  # the hard miss at p = 0


def test_keras_safe_categorical_crossentropy_masked():
    require("tensorflow")
    import tensorflow as tf

    import multiloss.keras as mk

    x = LOGITS.copy()
    x[:, 0] = -np.inf
    t = ONEHOT.copy()
    t[:, 0] = 0
    t[:, 1] += 1 - t.sum(1)
    v = mk.SafeCategoricalCrossentropy()(tf.constant(t), tf.constant(x))
    assert np.isfinite(float(v))
    assert np.isnan(float(mk.CategoricalCrossentropy(from_logits=True)(tf.constant(t), tf.constant(x))))


def test_optax_twins_and_smooth_labels():
    require("jax")
    pytest.importorskip("optax")
    import jax
    import jax.numpy as jnp
    import optax

    import multiloss.jax as mj

    x, t = jnp.asarray(LOGITS), jnp.asarray(SOFT)
    np.testing.assert_allclose(mj.poly_loss_cross_entropy(x, t, epsilon=-1.0),
                               optax.losses.poly_loss_cross_entropy(x, t, epsilon=-1.0), rtol=1e-12)
    where = jnp.asarray(rng.uniform(size=(N, C)) < 0.7).at[0].set(False)
    np.testing.assert_allclose(mj.poly_loss_cross_entropy(x, t, where=where),
                               optax.losses.poly_loss_cross_entropy(x, t, where=where), rtol=1e-12)
    masked = x.at[:, 0].set(-jnp.inf)
    tm = t.at[:, 0].set(0.0)
    np.testing.assert_allclose(mj.safe_softmax_cross_entropy(masked, tm),
                               optax.losses.safe_softmax_cross_entropy(masked, tm), rtol=1e-12)
    g_ours = jax.grad(lambda a: mj.safe_softmax_cross_entropy(a, tm).sum())(masked)
    g_optax = jax.grad(lambda a: optax.losses.safe_softmax_cross_entropy(a, tm).sum())(masked)
    np.testing.assert_allclose(g_ours, g_optax, rtol=1e-12, atol=1e-15)
    # integer one-hot labels are weights to optax's safe variant
    np.testing.assert_allclose(mj.safe_softmax_cross_entropy(x, jnp.asarray(ONEHOT, jnp.int32)),
                               optax.losses.safe_softmax_cross_entropy(x, jnp.asarray(ONEHOT, jnp.int32)), rtol=1e-12)
    y = jnp.asarray(ONEHOT)
    for kw in ({}, {"axis": 0}, {"axis": (0, 1)}, {"axis": None}, {"where": where}):
        np.testing.assert_allclose(mj.smooth_labels(y, 0.1, **kw), optax.losses.smooth_labels(y, 0.1, **kw), rtol=1e-12)
    assert "smooth_labels" in dir(mj) and "smooth_labels" in mj.__all__
    # jax extras: keras's names, optax's conventions (class axis -1, unreduced)
    np.testing.assert_allclose(mj.categorical_focal_crossentropy(jnp.asarray(PROBS), jnp.asarray(LABELS)),
                               _categorical_focal_ref(PROBS, ONEHOT, 0.25, 2.0), rtol=1e-12)
    np.testing.assert_allclose(mj.categorical_focal_crossentropy(x.T, jnp.asarray(ONEHOT).T, alpha=0.5, from_logits=True,
                                                                 axis=0),
                               _categorical_focal_ref(PROBS, ONEHOT, 0.5, 2.0), rtol=1e-12)
    np.testing.assert_allclose(mj.categorical_focal_crossentropy(x, jnp.asarray(ONEHOT), alpha=list(ALPHA_C), from_logits=True),
                               _categorical_focal_ref(PROBS, ONEHOT, ALPHA_C, 2.0), rtol=1e-12)
    np.testing.assert_allclose(mj.categorical_generalized_cross_entropy(x, jnp.asarray(LABELS), q=0.3, from_logits=True),
                               (1 - PROBS[np.arange(N), LABELS] ** 0.3) / 0.3, rtol=1e-12)


def test_torch_extras_equal_canonical():
    require("torch")
    import torch

    import multiloss.torch as mt

    x, y, soft = torch.as_tensor(LOGITS), torch.as_tensor(LABELS), torch.as_tensor(SOFT)
    pairs = [
        (mt.CategoricalFocalLoss(gamma=0.5, from_logits=True), ml.categorical_focal_crossentropy(x, y, gamma=0.5, from_logits=True)),
        (mt.GeneralizedCrossEntropyLoss(q=0.7, from_logits=True), ml.categorical_generalized_cross_entropy(x, y, q=0.7, from_logits=True)),
        (mt.PolyLoss(epsilon=1.0), ml.poly_loss_cross_entropy(x, y, epsilon=1.0)),
    ]
    for module, want in pairs:
        torch.testing.assert_close(module(x, y), want)
    torch.testing.assert_close(mt.GeneralizedCrossEntropyLoss()(torch.softmax(x, 1), y),
                               ml.categorical_generalized_cross_entropy(x, y, from_logits=True))
    torch.testing.assert_close(mt.SafeSoftmaxCrossEntropyLoss(reduction="sum")(x, soft),
                               ml.safe_softmax_cross_entropy(x, soft, reduction="sum"))
    torch.testing.assert_close(mt.functional.categorical_focal_loss(x, y, alpha=torch.as_tensor(ALPHA_C), from_logits=True),
                               ml.categorical_focal_crossentropy(x, y, alpha=torch.as_tensor(ALPHA_C), from_logits=True))
    with pytest.raises(TypeError, match=msg("CategoricalFocalLoss: argument 'alpha' must be a float or int")):
        mt.CategoricalFocalLoss(alpha="0.5")


# --------------------------------------------------------------------------- tracing


def test_traceable_under_jit_and_tf_function():
    require("jax")
    import jax
    import jax.numpy as jnp

    calls = [
        (lambda x: ml.categorical_focal_crossentropy(x, jnp.asarray(LABELS), gamma=0.5, from_logits=True), LOGITS),
        (lambda x: ml.categorical_focal_crossentropy(x, jnp.asarray(ONEHOT), alpha=jnp.asarray(ALPHA_C)), PROBS),
        (lambda x: ml.categorical_generalized_cross_entropy(x, jnp.asarray(LABELS)), PROBS),
        (lambda x: ml.poly_loss_cross_entropy(x, jnp.asarray(SOFT)), LOGITS),
        (lambda x: ml.safe_softmax_cross_entropy(x, jnp.asarray(SOFT)), LOGITS),
        (lambda x: ml.focal_loss(x, jnp.asarray(ONEHOT), gamma=jnp.asarray(0.5), from_logits=True), LOGITS),
    ]
    for f, x in calls:
        xp_assert_close(jax.jit(f)(jnp.asarray(x)), f(jnp.asarray(x)), rtol=1e-12)
        assert np.all(np.isfinite(np.asarray(jax.jit(jax.grad(f))(jnp.asarray(x)))))
    require("tensorflow")
    import tensorflow as tf

    f = tf.function(lambda x: ml.categorical_focal_crossentropy(x, tf.constant(LABELS), gamma=0.5, from_logits=True))
    xp_assert_close(f(tf.constant(LOGITS)), ml.categorical_focal_crossentropy(LOGITS, LABELS, gamma=0.5, from_logits=True),
                    rtol=1e-12)
    f = tf.function(lambda x: ml.focal_loss(x, tf.constant(SAT_Y, tf.float32), gamma=0.5, from_logits=True))
    assert np.isfinite(float(f(tf.constant(SAT_X, tf.float32))))


# --------------------------------------------------------------------------- catalogue


def test_catalogue_rows():
    from multiloss.catalogue import entry

    focal = entry("focal_loss")
    assert "BinaryFocalCrossentropy" in focal.names("keras") and "sigmoid_focal_loss" in focal.names("jax")
    assert "FocalLoss (extra)" in focal.names("torch")
    e = entry("categorical_focal_crossentropy")
    assert e.names("keras").startswith("CategoricalFocalCrossentropy") and "CategoricalFocalLoss (extra)" in e.names("torch")
    assert "categorical_focal_crossentropy (extra)" in e.names("jax")
    e = entry("categorical_generalized_cross_entropy")
    assert "CategoricalGeneralizedCrossEntropy" in e.names("keras") and "GeneralizedCrossEntropyLoss" in e.names("torch")
    e = entry("poly_loss_cross_entropy")
    assert e.names("jax") == "poly_loss_cross_entropy" and "PolyLoss (extra)" in e.names("torch")
    assert "PolyCrossentropy (extra)" in e.names("keras")
    e = entry("safe_softmax_cross_entropy")
    assert e.names("jax") == "safe_softmax_cross_entropy" and "SafeCategoricalCrossentropy (extra)" in e.names("keras")
    # a utility, not a loss: not in the catalogue, not exported at the top level
    with pytest.raises(ValueError, match="unknown loss 'smooth_labels'"):
        entry("smooth_labels")


# --------------------------------------------------------------------------- bad input


def _bad(xp):
    return to_xp(xp, PROBS), to_xp(xp, LABELS), to_xp(xp, ONEHOT)


def test_errors_categorical_focal(xp):
    p, y, onehot = _bad(xp)
    f = ml.categorical_focal_crossentropy
    with pytest.raises(ValueError, match=msg("categorical_focal_crossentropy: argument 'gamma' must be >= 0; got -1.0")):
        f(p, y, gamma=-1.0)
    with pytest.raises(ValueError, match=msg("categorical_focal_crossentropy: argument 'alpha'", "(4,)", "(3,)")):
        f(p, y, alpha=to_xp(xp, np.ones(3)))
    with pytest.raises(ValueError, match=msg("categorical_focal_crossentropy: argument 'label_smoothing' must be in [0, 1]; got 1.5")):
        f(p, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match=msg("categorical_focal_crossentropy: argument 'input' must hold probabilities in [0, 1]")):
        f(to_xp(xp, LOGITS * 10), y)
    with pytest.raises(ValueError, match=msg("categorical_focal_crossentropy: argument 'target' must have the same shape as 'input' (6, 4); got (6, 3)")):
        f(p, onehot[:, :3])
    with pytest.raises(ValueError, match=msg("categorical_focal_crossentropy: argument 'target' must hold class indices in [0, 4)")):
        f(p, to_xp(xp, LABELS + 4))
    with pytest.raises(TypeError, match=msg("categorical_focal_crossentropy: argument 'input' must be a real floating-point array")):
        f(y, y)


def test_errors_generalized_cross_entropy(xp):
    p, y, onehot = _bad(xp)
    f = ml.categorical_generalized_cross_entropy
    for q in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match=msg(f"categorical_generalized_cross_entropy: argument 'q' must be in (0, 1]; got {q}")):
            f(p, y, q=q)
    with pytest.raises(ValueError, match=msg("categorical_generalized_cross_entropy: argument 'target' must have the same shape as 'input' (6, 4); got (6, 3)")):
        f(p, onehot[:, :3])
    with pytest.raises(ValueError, match=msg("categorical_generalized_cross_entropy: argument 'input' must hold probabilities in [0, 1]")):
        f(to_xp(xp, LOGITS * 10), y)
    with pytest.raises(ValueError, match=msg("categorical_generalized_cross_entropy: Expected target size (6,)")):
        f(p, to_xp(xp, LABELS[:4]))


def test_errors_poly_and_safe(xp):
    x, y, onehot = to_xp(xp, LOGITS), to_xp(xp, LABELS), to_xp(xp, ONEHOT)
    with pytest.raises(ValueError, match=msg("poly_loss_cross_entropy: argument 'target' must have the same shape as 'input' (6, 4); got (6, 3)")):
        ml.poly_loss_cross_entropy(x, onehot[:, :3])
    with pytest.raises(ValueError, match=msg("poly_loss_cross_entropy: argument 'reduction' must be one of 'none', 'mean', 'sum'; got 'avg'")):
        ml.poly_loss_cross_entropy(x, y, reduction="avg")
    with pytest.raises(TypeError, match=msg("safe_softmax_cross_entropy: argument 'target' must hold probabilities (a floating-point array of the input's shape); got dtype", "int64 with shape (6,)")):
        ml.safe_softmax_cross_entropy(x, y)
    with pytest.raises(ValueError, match=msg("safe_softmax_cross_entropy: argument 'target' must have the same shape as 'input' (6, 4); got (6, 3)")):
        ml.safe_softmax_cross_entropy(x, onehot[:, :3])
    with pytest.raises(ValueError, match=msg("safe_softmax_cross_entropy: argument 'input' must have a class dimension")):
        ml.safe_softmax_cross_entropy(to_xp(xp, np.float64(1.0)), to_xp(xp, np.float64(1.0)))


def test_errors_smooth_labels(xp):
    with pytest.raises(TypeError, match=msg("smooth_labels: argument 'labels' must be a real floating-point array", "int64")):
        smooth_labels(to_xp(xp, LABELS), 0.1)
    with pytest.raises(ValueError, match=msg("smooth_labels: argument 'axis' must be an int, a tuple of ints in [-2, 2) or None; got 2")):
        smooth_labels(to_xp(xp, ONEHOT), 0.1, axis=2)


def test_errors_focal_gamma_nan(xp):
    with pytest.raises(ValueError, match=msg("focal_loss: argument 'gamma' must be >= 0; got nan")):
        ml.focal_loss(to_xp(xp, PROBS), to_xp(xp, ONEHOT), gamma=float("nan"))


def test_errors_keras():
    require("tensorflow")
    import multiloss.keras as mk

    for q in (0.0, 1.0, 1.5, "0.5"):
        with pytest.raises(ValueError, match=msg("CategoricalGeneralizedCrossEntropy: argument `q` must be in the interval (0, 1). Received: q=")):
            mk.CategoricalGeneralizedCrossEntropy(q=q)
    with pytest.raises(TypeError, match="q"):
        mk.categorical_generalized_cross_entropy(LABELS, PROBS)  # keras's function has no default q
    with pytest.raises(ValueError, match=msg("categorical_generalized_cross_entropy: argument 'q' must be in (0, 1]; got 1.5")):
        mk.categorical_generalized_cross_entropy(LABELS, PROBS, q=1.5)
    with pytest.raises(ValueError, match=msg("binary_focal_crossentropy: argument `gamma` must be a float >= 0. Received: gamma=-1.0")):
        mk.BinaryFocalCrossentropy(gamma=-1.0)(ONEHOT, PROBS)
    with pytest.raises(ValueError, match=msg("binary_focal_crossentropy: argument `alpha` must be a float in [0, 1]. Received: alpha=2.0")):
        mk.binary_focal_crossentropy(ONEHOT, PROBS, apply_class_balancing=True, alpha=2.0)
    mk.binary_focal_crossentropy(ONEHOT, PROBS, alpha=2.0)  # alpha unused without class balancing, as keras
    with pytest.raises(ValueError, match=msg("CategoricalFocalCrossentropy: argument `label_smoothing` must be a float in [0, 1]")):
        mk.CategoricalFocalCrossentropy(label_smoothing=2.0)
    with pytest.raises(ValueError, match=msg("categorical_focal_crossentropy: Arguments `y_true` and `y_pred` must have the same shape")):
        mk.categorical_focal_crossentropy(ONEHOT[:, :3], PROBS)


def test_errors_jax():
    require("jax")
    import jax.numpy as jnp

    import multiloss.jax as mj

    with pytest.raises(TypeError, match=msg("poly_loss_cross_entropy", "argument 'labels' must be a floating-point array", "int32")):
        mj.poly_loss_cross_entropy(jnp.asarray(LOGITS), jnp.asarray(ONEHOT, jnp.int32))
    with pytest.raises(ValueError, match=msg("poly_loss_cross_entropy", "argument 'where' must broadcast to the shape of 'logits' (6, 4)", "got (6,)")):
        mj.poly_loss_cross_entropy(jnp.asarray(LOGITS), jnp.asarray(SOFT), where=jnp.ones(N, bool))
    with pytest.raises(ValueError, match=msg("categorical_generalized_cross_entropy: argument 'q' must be in (0, 1]")):
        mj.categorical_generalized_cross_entropy(jnp.asarray(PROBS), jnp.asarray(LABELS), q=2.0)
    with pytest.raises(TypeError, match=msg("smooth_labels: argument 'labels' must be a real floating-point array")):
        mj.smooth_labels(jnp.asarray(LABELS), 0.1)
