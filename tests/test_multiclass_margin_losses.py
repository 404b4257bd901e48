"""Catalogue II, margin family: keras's ``squared_hinge`` / ``categorical_hinge`` and optax's
``multiclass_hinge_loss`` / ``perceptron_loss`` / ``multiclass_perceptron_loss``
(``multiloss/losses/margin.py``), their adapter forms, and every error message.

Values on every installed namespace against float64 formulas written here; gradients on every
autodiff backend against central finite differences, and at the kinks and ties against the
natives' own rules. The natives themselves (keras 3 on TensorFlow, optax) are held to in value
and gradient by ``conformance/`` on the domains; here: their corner cases (labels {0, 1} mixed
or not, ties of the maximum, a score of exactly 0, class axes, float labels).
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import msg, require, to_numpy, to_xp, value_and_grad, xp_assert_close

# ----------------------------------------------------------------------------- inputs

X = np.array([[0.3, -1.2, 2.0, 0.7], [1.6, 0.05, -0.4, 3.1], [-2.2, 0.45, 1.3, -0.8]])
SIGNED = np.array([[1.0, -1.0, -1.0, 1.0], [-1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])
BINARY = (SIGNED + 1) / 2
IDX = np.array([2, 0, 3])
ONEHOT = np.eye(4)[IDX]
SOFT = np.array([[0.1, 0.2, 0.6, 0.1], [0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.0, 0.5]])
# (2, 4, 3): torch's class axis 1; class indices (2, 3)
X3 = np.arange(24, dtype=np.float64).reshape(2, 4, 3) * 0.37 % 2.1 - 1.0
IDX3 = np.array([[0, 3, 1], [2, 2, 0]])


# float64 formulas, one sample / element at a time (class axis last)
def sq_hinge_ref(x, y):
    return np.maximum(0.0, 1.0 - y * x) ** 2


def cat_hinge_ref(x, y):
    return np.maximum(np.max((1 - y) * x, axis=-1) - np.sum(y * x, axis=-1) + 1.0, 0.0)


def mc_hinge_ref(x, idx):
    rows = [max(0.0, 1.0 + max(v for c, v in enumerate(r) if c != i) - r[i]) for r, i in zip(x, idx)]
    return np.array(rows)


def perceptron_ref(x, y):
    return np.maximum(0.0, -x * y)


def mc_perceptron_ref(x, idx):
    return np.array([r.max() - r[i] for r, i in zip(x, idx)])


def last(a):  # torch's class axis 1 -> last, flattened to rows
    return np.moveaxis(a, 1, -1)


# (canonical, pred, target, kw, expected unreduced)
CASES = [
    ("squared_hinge", X, SIGNED, {}, sq_hinge_ref(X, SIGNED)),
    ("squared_hinge", X, BINARY, {}, sq_hinge_ref(X, SIGNED)),  # {0, 1} mapped (keras)
    ("squared_hinge", X, BINARY, {"labels": "signed"}, sq_hinge_ref(X, BINARY)),
    ("categorical_hinge", X, ONEHOT, {}, cat_hinge_ref(X, ONEHOT)),
    ("categorical_hinge", X, SOFT, {}, cat_hinge_ref(X, SOFT)),
    ("categorical_hinge", X, 2 * ONEHOT - 1, {}, cat_hinge_ref(X, 2 * ONEHOT - 1)),  # {-1, 1} one-hot
    ("multiclass_hinge_loss", X, IDX, {}, mc_hinge_ref(X, IDX)),
    ("multiclass_hinge_loss", X3, IDX3, {}, mc_hinge_ref(last(X3).reshape(-1, 4), IDX3.reshape(-1)).reshape(2, 3)),
    ("perceptron_loss", X, SIGNED, {}, perceptron_ref(X, SIGNED)),
    ("multiclass_perceptron_loss", X, IDX, {}, mc_perceptron_ref(X, IDX)),
    ("multiclass_perceptron_loss", X3, IDX3, {},
     mc_perceptron_ref(last(X3).reshape(-1, 4), IDX3.reshape(-1)).reshape(2, 3)),
]
_ids = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]
NEW = ["squared_hinge", "categorical_hinge", "multiclass_hinge_loss", "perceptron_loss", "multiclass_perceptron_loss"]


def _fd(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        a, b = x.copy(), x.copy()
        a[i] += h
        b[i] -= h
        g[i] = (np.sum(f(a)) - np.sum(f(b))) / (2 * h)
    return g


def test_family_and_exports():
    for name in NEW:
        assert ml.losses.FAMILY[name] == "margin" and name in ml.losses.margin.__all__
        assert callable(getattr(ml, name))
        doc = getattr(ml, name).__doc__
        assert "Shapes" in doc and "optax" in doc and "keras" in doc and "torch" in doc, name


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_values_on_every_namespace(xp, case, reduction):
    name, pred, target, kw, want = case
    got = getattr(ml, name)(to_xp(xp, pred), to_xp(xp, target), reduction=reduction, **kw)
    xp_assert_close(got, {"none": want, "mean": want.mean(), "sum": want.sum()}[reduction], xp=xp)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_float32_keeps_its_dtype(xp, case):
    name, pred, target, kw, want = case
    got = getattr(ml, name)(to_xp(xp, pred, np.float32), to_xp(xp, target, np.float32), reduction="none", **kw)
    assert to_numpy(got).dtype == np.float32
    xp_assert_close(got, want, rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_gradients_match_finite_differences(grad_backend, case):
    name, pred, target, kw, _ = case
    f = getattr(ml, name)
    t = to_xp(grad_backend, target)
    _, g = value_and_grad(grad_backend, lambda p: f(p, t, reduction="sum", **kw), pred)
    ref = {"squared_hinge": sq_hinge_ref, "perceptron_loss": perceptron_ref}
    if name in ref:
        y = 2 * target - 1 if (name == "squared_hinge" and not kw and np.all((target == 0) | (target == 1))) else target
        want = _fd(lambda p: ref[name](p, y), pred)
    else:
        want = _fd(lambda p: to_numpy(f(p, target, reduction="sum")), pred)
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)


def test_unbatched_scores(xp):
    x, i = X[1], IDX[1]
    for name, ref in (("multiclass_hinge_loss", mc_hinge_ref), ("multiclass_perceptron_loss", mc_perceptron_ref)):
        got = getattr(ml, name)(to_xp(xp, x), to_xp(xp, np.array(i)), reduction="none")
        assert tuple(got.shape) == ()
        xp_assert_close(got, ref(x[None], [i])[0])
    got = ml.categorical_hinge(to_xp(xp, x), to_xp(xp, ONEHOT[1]), reduction="none")
    assert tuple(got.shape) == ()
    xp_assert_close(got, cat_hinge_ref(x, ONEHOT[1]))


def test_categorical_hinge_class_axis_is_1(xp):
    t3 = np.moveaxis(np.eye(4)[IDX3], -1, 1)  # (2, 4, 3) one-hot along axis 1
    got = ml.categorical_hinge(to_xp(xp, X3), to_xp(xp, t3), reduction="none")
    xp_assert_close(got, cat_hinge_ref(last(X3), last(t3)))


def test_squared_hinge_mixed_labels_are_not_mapped(xp):
    """keras maps labels only when *all* are in {0, 1}: one -1 keeps the zeros as zeros."""
    y = BINARY.copy()
    y[0, 0] = -1.0
    got = ml.squared_hinge(to_xp(xp, X), to_xp(xp, y), reduction="none")
    xp_assert_close(got, sq_hinge_ref(X, y))


def test_empty_and_nan(xp):
    e = np.zeros((0, 4))
    xp_assert_close(ml.squared_hinge(to_xp(xp, e), to_xp(xp, e), reduction="sum"), 0.0)
    xp_assert_close(ml.perceptron_loss(to_xp(xp, e), to_xp(xp, e), reduction="sum"), 0.0)
    xn = X.copy()
    xn[0, 1] = np.nan
    for name in ("squared_hinge", "perceptron_loss"):  # nan propagates (as jnp.maximum / tf.maximum)
        out = to_numpy(getattr(ml, name)(to_xp(xp, xn), to_xp(xp, SIGNED), reduction="none"))
        assert np.isnan(out[0, 1]) and np.isfinite(np.delete(out.ravel(), 1)).all()
    out = to_numpy(ml.categorical_hinge(to_xp(xp, xn), to_xp(xp, ONEHOT), reduction="none"))
    assert np.isnan(out[0]) and np.isfinite(out[1:]).all()


# ----------------------------------------------------------------------------- kinks and ties


def test_perceptron_gradient_at_zero_is_half(grad_backend):
    """optax's ``jnp.maximum(0, -x y)`` shares a tie's gradient: -y/2 at x = 0 (a zero-initialised
    perceptron still learns); value 0."""
    x = np.array([[0.0, 0.0, 1.5, -0.5]])
    y = np.array([[1.0, -1.0, -1.0, -1.0]])
    t = to_xp(grad_backend, y)
    v, g = value_and_grad(grad_backend, lambda p: ml.perceptron_loss(p, t, reduction="none"), x)
    np.testing.assert_allclose(v, [[0.0, 0.0, 1.5, 0.0]])
    np.testing.assert_allclose(g, [[-0.5, 0.5, 1.0, 0.0]])


def test_max_ties_share_the_gradient(grad_backend):
    """All-equal scores (zero-initialised weights): the maximum's gradient is 1/C per class, as
    jnp.max / tf.reduce_max / torch.amax give it."""
    x = np.zeros((2, 4))
    t = to_xp(grad_backend, np.array([1, 3]))
    _, g = value_and_grad(grad_backend, lambda p: ml.multiclass_perceptron_loss(p, t, reduction="sum"), x)
    np.testing.assert_allclose(g, 0.25 - np.eye(4)[[1, 3]])
    # multiclass hinge at zeros: the max is over the 3 non-target classes (score + 1)
    _, g = value_and_grad(grad_backend, lambda p: ml.multiclass_hinge_loss(p, t, reduction="sum"), x)
    np.testing.assert_allclose(g, (1 - np.eye(4)[[1, 3]]) / 3 - np.eye(4)[[1, 3]])


def test_categorical_hinge_kink_and_zero_slot(grad_backend):
    """At neg - pos + 1 == 0 the gradient is keras-on-TF's (``tf.maximum`` passes it where x >= y);
    with every non-target score negative keras's maximum is the target slot's 0."""
    x = np.array([[0.5, 1.5, -1.0], [-0.3, 0.5, -0.7]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    t = to_xp(grad_backend, y)
    v, g = value_and_grad(grad_backend, lambda p: ml.categorical_hinge(p, t, reduction="none"), x)
    np.testing.assert_allclose(v, [0.0, 0.5])
    np.testing.assert_allclose(g, [[1.0, -1.0, 0.0], [0.0, -1.0, 0.0]])


# ----------------------------------------------------------------------------- natives


def _tf():
    require("tensorflow")
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":  # pragma: no cover - another keras backend
        pytest.skip("keras runs on another backend")
    return tf, keras


def _tf_value_and_grad(tf, f, x):
    p = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(p)
        v = f(p)
    return v.numpy(), tape.gradient(v, p).numpy()


@pytest.mark.parametrize("labels", ["signed", "binary", "mixed", "soft"])
def test_squared_hinge_equals_keras(labels):
    tf, keras = _tf()
    import multiloss.keras as mk

    y = {"signed": SIGNED, "binary": BINARY, "mixed": np.where(X > 1.0, -1.0, BINARY), "soft": SOFT}[labels]
    yt = tf.constant(y)
    for ours, native in ((mk.squared_hinge, keras.losses.squared_hinge),
                         (mk.SquaredHinge(dtype="float64"), keras.losses.SquaredHinge(dtype="float64"))):
        v, g = _tf_value_and_grad(tf, lambda p: ours(yt, p), X)
        w, h = _tf_value_and_grad(tf, lambda p: native(yt, p), X)
        np.testing.assert_allclose(v, w, rtol=1e-12)
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-15)
    # the canonical loss is keras's before its mean over the last axis
    np.testing.assert_allclose(np.mean(to_numpy(ml.squared_hinge(X, y, reduction="none")), -1),
                               keras.losses.squared_hinge(yt, tf.constant(X)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("target", ["onehot", "soft", "signed", "kink", "negatives"])
def test_categorical_hinge_equals_keras(target):
    tf, keras = _tf()
    import multiloss.keras as mk

    x = X
    y = {"onehot": ONEHOT, "soft": SOFT, "signed": 2 * ONEHOT - 1}.get(target)
    if target == "kink":
        x, y = np.array([[0.5, 1.5, -1.0]]), np.array([[0.0, 1.0, 0.0]])
    if target == "negatives":
        x, y = np.array([[-0.3, 0.5, -0.7]]), np.array([[0.0, 1.0, 0.0]])
    yt = tf.constant(y)
    for ours, native in ((mk.categorical_hinge, keras.losses.categorical_hinge),
                         (mk.CategoricalHinge(dtype="float64", reduction="sum"),
                          keras.losses.CategoricalHinge(dtype="float64", reduction="sum"))):
        v, g = _tf_value_and_grad(tf, lambda p: ours(yt, p), x)
        w, h = _tf_value_and_grad(tf, lambda p: native(yt, p), x)
        np.testing.assert_allclose(v, w, rtol=1e-12)
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-15)


def test_categorical_hinge_3d_class_last_and_sample_weight_equal_keras():
    tf, keras = _tf()
    import multiloss.keras as mk

    x = last(X3)  # (2, 3, 4): keras's class axis last
    y = tf.constant(np.eye(4)[IDX3])
    sw = tf.constant(np.array([[0.5, 2.0, 1.0], [0.0, 1.5, 0.25]]))  # per (sample, step), as keras wants
    for red in ("sum_over_batch_size", "sum", "none", "mean_with_sample_weight"):
        ours = mk.CategoricalHinge(reduction=red, dtype="float64")
        native = keras.losses.CategoricalHinge(reduction=red, dtype="float64")
        v, g = _tf_value_and_grad(tf, lambda p: ours(y, p, sample_weight=sw), x)
        w, h = _tf_value_and_grad(tf, lambda p: native(y, p, sample_weight=sw), x)
        np.testing.assert_allclose(v, w, rtol=1e-12)
        np.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-15)


def _optax():
    require("jax")
    optax = pytest.importorskip("optax")
    import jax
    import jax.numpy as jnp

    return jax, jnp, optax


def _jax_value_and_grad(jax, jnp, f, x):
    v, g = jax.value_and_grad(lambda p: jnp.sum(f(p)))(jnp.asarray(x))
    return np.asarray(f(jnp.asarray(x))), np.asarray(g)


@pytest.mark.parametrize("name", ["multiclass_hinge_loss", "multiclass_perceptron_loss"])
@pytest.mark.parametrize("scores", ["plain", "zeros", "ties", "3d", "float_labels", "unbatched"])
def test_multiclass_equal_optax(name, scores):
    jax, jnp, optax = _optax()
    import multiloss.jax as mj

    x, labels = X, IDX
    if scores == "zeros":
        x = np.zeros((3, 4))
    if scores == "ties":
        x = np.array([[1.0, 1.0, 0.0, 1.0], [2.0, 0.5, 2.0, 2.0], [0.0, 1.0, -1.0, 1.0]])
    if scores == "3d":
        x, labels = last(X3), IDX3  # optax's class axis -1
    if scores == "unbatched":
        x, labels = X[0], np.array(2)
    labels = jnp.asarray(labels, dtype=jnp.float32 if scores == "float_labels" else jnp.int32)
    ours, native = getattr(mj, name), getattr(optax.losses, name)
    v, g = _jax_value_and_grad(jax, jnp, lambda p: ours(p, labels), x)
    w, h = _jax_value_and_grad(jax, jnp, lambda p: native(p, labels), x)
    np.testing.assert_array_equal(v, w)  # optax's order of operations: the same bits
    np.testing.assert_allclose(g, h, rtol=1e-15, atol=0)
    np.testing.assert_allclose(jax.jit(ours)(jnp.asarray(x), labels), w, rtol=1e-15)


@pytest.mark.parametrize("x", [X, np.array([[0.0, 0.0, 1.5, -0.5], [2.0, -0.0, 0.0, 1e-3], [1.0, 2.0, 3.0, 4.0]])])
def test_perceptron_equals_optax_kinks_included(x):
    jax, jnp, optax = _optax()
    import multiloss.jax as mj

    t = jnp.asarray(SIGNED)
    v, g = _jax_value_and_grad(jax, jnp, lambda p: mj.perceptron_loss(p, t), x)
    w, h = _jax_value_and_grad(jax, jnp, lambda p: optax.losses.perceptron_loss(p, t), x)
    np.testing.assert_array_equal(v, w)
    np.testing.assert_array_equal(g, h)
    gj = jax.jit(jax.grad(lambda p: jnp.sum(mj.perceptron_loss(p, t))))(jnp.asarray(x))
    np.testing.assert_array_equal(gj, h)


def test_jax_extras_are_per_example_with_optax_conventions():
    jax, jnp, _ = _optax()
    import multiloss.jax as mj

    got = mj.squared_hinge_loss(jnp.asarray(X), jnp.asarray(BINARY))  # signed: no {0, 1} mapping
    np.testing.assert_allclose(got, sq_hinge_ref(X, BINARY), rtol=1e-12)
    got = mj.categorical_hinge_loss(jnp.asarray(last(X3)), jnp.asarray(np.eye(4)[IDX3]))  # class axis -1
    np.testing.assert_allclose(got, cat_hinge_ref(last(X3), np.eye(4)[IDX3]), rtol=1e-12)
    # keras's squared_hinge per element = optax hinge_loss squared, on signed labels
    jit = jax.jit(mj.squared_hinge_loss)(jnp.asarray(X), jnp.asarray(SIGNED))
    np.testing.assert_allclose(jit, sq_hinge_ref(X, SIGNED), rtol=1e-12)
    assert list(inspect.signature(mj.multiclass_hinge_loss).parameters) == ["scores", "labels"]
    assert list(inspect.signature(mj.perceptron_loss).parameters) == ["predictor_outputs", "targets"]


def test_traced_label_mapping_and_no_value_checks_under_jit():
    jax, jnp, _ = _optax()
    f = jax.jit(lambda p, t: ml.squared_hinge(p, t, reduction="none"))
    np.testing.assert_allclose(f(jnp.asarray(X), jnp.asarray(BINARY)), sq_hinge_ref(X, SIGNED), rtol=1e-12)
    np.testing.assert_allclose(f(jnp.asarray(X), jnp.asarray(SIGNED)), sq_hinge_ref(X, SIGNED), rtol=1e-12)
    bad = jnp.asarray(np.array([2, 7, 0]))  # out of range: checked eagerly only
    jax.jit(lambda p, t: ml.multiclass_hinge_loss(p, t))(jnp.asarray(X), bad)
    with pytest.raises(ValueError, match=msg("multiclass_hinge_loss: argument 'target'", "[0, 4)")):
        ml.multiclass_hinge_loss(jnp.asarray(X), bad)


def test_tf_function_traces():
    tf, _ = _tf()
    f = tf.function(lambda p, t: ml.squared_hinge(p, t, reduction="none"))
    np.testing.assert_allclose(f(tf.constant(X), tf.constant(BINARY)).numpy(), sq_hinge_ref(X, SIGNED), rtol=1e-12)
    g = tf.function(lambda p, t: ml.multiclass_perceptron_loss(p, t, reduction="none"))
    np.testing.assert_allclose(g(tf.constant(X), tf.constant(IDX)).numpy(), mc_perceptron_ref(X, IDX), rtol=1e-12)


# ----------------------------------------------------------------------------- adapters


_TORCH = [("SquaredHingeLoss", "squared_hinge_loss", "squared_hinge", X, SIGNED),
          ("CategoricalHingeLoss", "categorical_hinge_loss", "categorical_hinge", X, ONEHOT),
          ("MulticlassHingeLoss", "multiclass_hinge_loss", "multiclass_hinge_loss", X3, IDX3),
          ("PerceptronLoss", "perceptron_loss", "perceptron_loss", X, SIGNED),
          ("MulticlassPerceptronLoss", "multiclass_perceptron_loss", "multiclass_perceptron_loss", X3, IDX3)]


@pytest.mark.parametrize("cls,fn,canonical,x,t", _TORCH, ids=[r[0] for r in _TORCH])
def test_torch_extras(cls, fn, canonical, x, t):
    require("torch")
    import torch

    import multiloss.torch as mt

    assert str(inspect.signature(getattr(mt, cls))) == "(*, reduction='mean')"
    assert str(inspect.signature(getattr(mt.functional, fn))) == "(input, target, *, reduction='mean')"
    with pytest.raises(TypeError):
        getattr(mt, cls)("sum")  # options are keyword-only
    with pytest.raises(ValueError, match=msg(cls, "argument 'reduction'", "'avg'")):
        getattr(mt, cls)(reduction="avg")
    xt, tt = torch.tensor(x, requires_grad=True), torch.tensor(t)
    for red in ("mean", "sum", "none"):
        want = getattr(ml, canonical)(x, t, reduction=red)
        xp_assert_close(getattr(mt, cls)(reduction=red)(xt, tt), want)
        xp_assert_close(getattr(mt.functional, fn)(xt, tt, reduction=red), want)
    getattr(mt, cls)()(xt, tt).backward()
    assert xt.grad is not None and xt.grad.shape == xt.shape


_KERAS = [("SquaredHinge", "squared_hinge", True), ("CategoricalHinge", "categorical_hinge", True),
          ("MulticlassHinge", "multiclass_hinge", False), ("Perceptron", "perceptron", False),
          ("MulticlassPerceptron", "multiclass_perceptron", False)]


@pytest.mark.parametrize("cls,fn,native", _KERAS, ids=[r[0] for r in _KERAS])
def test_keras_forms(cls, fn, native):
    tf, keras = _tf()
    import multiloss.keras as mk

    assert isinstance(getattr(mk, cls)(), keras.losses.Loss)
    if native:
        theirs = inspect.signature(getattr(keras.losses, cls))
        assert list(inspect.signature(getattr(mk, cls)).parameters.items()) == list(theirs.parameters.items())
        assert getattr(mk, cls)().name == getattr(keras.losses, cls)().name
    else:
        assert str(inspect.signature(getattr(mk, cls))) == f"(*, reduction='sum_over_batch_size', name='{fn}', dtype=None)"
    loss = getattr(mk, cls)(reduction="sum", name="m")
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_keras_extras_values():
    tf, _ = _tf()
    import multiloss.keras as mk

    x = tf.constant(X)
    np.testing.assert_allclose(mk.multiclass_hinge(tf.constant(IDX), x).numpy(), mc_hinge_ref(X, IDX), rtol=1e-12)
    # (N, 1) labels (a keras Dense model's usual targets) are squeezed, float labels cast
    np.testing.assert_allclose(mk.MulticlassPerceptron(reduction="none", dtype="float64")(tf.constant(IDX[:, None] * 1.0), x).numpy(),
                               mc_perceptron_ref(X, IDX), rtol=1e-12)
    np.testing.assert_allclose(mk.perceptron(tf.constant(SIGNED), x).numpy(), perceptron_ref(X, SIGNED).mean(-1),
                               rtol=1e-12)
    # (N, T, C) scores: the class axis is the last one
    got = mk.multiclass_hinge(tf.constant(IDX3), tf.constant(last(X3))).numpy()
    np.testing.assert_allclose(got, mc_hinge_ref(last(X3).reshape(-1, 4), IDX3.reshape(-1)).reshape(2, 3), rtol=1e-12)


def test_catalogue_rows():
    from multiloss.catalogue import entry

    def names(e, fw):
        return [str(t) for t in getattr(e, fw)]

    assert names(entry("squared_hinge"), "keras") == ["SquaredHinge"]
    assert names(entry("categorical_hinge"), "keras") == ["CategoricalHinge"]
    assert names(entry("squared_hinge"), "torch") == ["SquaredHingeLoss (extra)"]
    assert names(entry("squared_hinge"), "jax") == ["squared_hinge_loss (extra)"]
    for name in ("multiclass_hinge_loss", "perceptron_loss", "multiclass_perceptron_loss"):
        assert names(entry(name), "jax") == [name]
        assert all(t.endswith("(extra)") for t in names(entry(name), "keras") + names(entry(name), "torch"))
    # the unsquared hinge keeps its row in classification.py
    assert entry("hinge").family == "classification"


# ----------------------------------------------------------------------------- errors


def test_errors(xp):
    x, xi = to_xp(xp, X), to_xp(xp, X.astype(np.int64))
    s, oh, idx = to_xp(xp, SIGNED), to_xp(xp, ONEHOT), to_xp(xp, IDX)
    for name, t in (("squared_hinge", s), ("categorical_hinge", oh), ("multiclass_hinge_loss", idx),
                    ("perceptron_loss", s), ("multiclass_perceptron_loss", idx)):
        f = getattr(ml, name)
        with pytest.raises(ValueError, match=msg(f"{name}: argument 'reduction'", "'avg'")):
            f(x, t, reduction="avg")
        with pytest.raises(TypeError, match=msg(f"{name}: argument 'input'", "floating", "int64")):
            f(xi, t)
    with pytest.raises(ValueError, match=msg("squared_hinge: argument 'labels'", "('auto', 'signed')", "'binary'")):
        ml.squared_hinge(x, s, labels="binary")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name in ("squared_hinge", "perceptron_loss"):
            with pytest.raises(ValueError, match=msg(f"{name}: argument 'target'", "(3, 4)", "(3, 5)")):
                getattr(ml, name)(x, to_xp(xp, np.ones((3, 5))))
    for name in ("categorical_hinge", "multiclass_hinge_loss", "multiclass_perceptron_loss"):
        f = getattr(ml, name)
        with pytest.raises(ValueError, match=msg(f"{name}: argument 'input' must have a class dimension", "0-d")):
            f(to_xp(xp, np.array(1.0)), to_xp(xp, np.array(0)))
        with pytest.raises(ValueError, match=msg(f"{name}: argument 'input' must have at least one class", "(3, 0)")):
            f(to_xp(xp, np.zeros((3, 0))), to_xp(xp, np.zeros((3, 0))) if name == "categorical_hinge" else idx)
    with pytest.raises(ValueError, match=msg("categorical_hinge: argument 'target' must broadcast", "(3, 4)", "(3, 5)")):
        ml.categorical_hinge(x, to_xp(xp, np.zeros((3, 5))))
    for name in ("multiclass_hinge_loss", "multiclass_perceptron_loss"):
        f = getattr(ml, name)
        with pytest.raises(TypeError, match=msg(f"{name}: argument 'target'", "integer", "float64")):
            f(x, to_xp(xp, IDX.astype(np.float64)))
        with pytest.raises(ValueError, match=msg(f"{name}: Expected target size (3,)", "got (2,)")):
            f(x, to_xp(xp, IDX[:2]))
        for bad in (4, -1):
            with pytest.raises(ValueError, match=msg(f"{name}: argument 'target'", "[0, 4)", f"{bad}")):
                f(x, to_xp(xp, np.array([2, bad, 0])))


def test_adapter_errors_name_native_arguments():
    jax, jnp, _ = _optax()
    import multiloss.jax as mj

    x = jnp.asarray(X)
    with pytest.raises(ValueError, match=msg("perceptron_loss", "argument 'targets'", "'predictor_outputs'", "(3, 4)",
                                             "(1, 4)")):
        mj.perceptron_loss(x, jnp.asarray(SIGNED[:1]))  # optax checks equal shapes
    with pytest.raises(ValueError, match=msg("multiclass_hinge_loss", "argument 'labels'", "'scores'", "(3,)", "(3, 1)")):
        mj.multiclass_hinge_loss(x, jnp.asarray(IDX[:, None]))
    with pytest.raises(ValueError, match=msg("multiclass_perceptron_loss: "
                                             "argument 'labels'", "[0, 4)", "9")):
        mj.multiclass_perceptron_loss(x, jnp.asarray([0, 9, 1]))


def test_keras_shape_error():
    tf, _ = _tf()
    import multiloss.keras as mk

    with pytest.raises(ValueError, match=msg("multiclass_hinge: Argument `y_true` must hold one class index per sample", "(3,)", "(3, 2)")):
        mk.MulticlassHinge()(tf.constant(np.zeros((3, 2), dtype=np.int64)), tf.constant(X))
    with pytest.raises(ValueError, match=msg("categorical_hinge", "broadcastable", "(3, 5)")):
        mk.categorical_hinge(tf.constant(np.zeros((3, 5))), tf.constant(X))
