"""Overlap (segmentation) losses (``multiloss/losses/segmentation.py``): the canonical
``tversky`` (keras's Dice and Tversky, optax's dice_loss and binary_dice_loss) and
``multiclass_generalized_dice_loss``, on every installed namespace (``xp`` fixture), their
adapters against keras and optax, and every error message.

Expected values come from the formulas written out here with NumPy (true/false positives
summed directly), from the examples in keras's docstrings, and from the natives themselves
(``keras.losses`` on TensorFlow, ``optax.losses`` on jax).
"""

from __future__ import annotations

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import msg, require, to_numpy, to_xp, value_and_grad, xp_assert_close

rng = np.random.default_rng(11)
P2 = rng.uniform(0.05, 0.95, size=(4, 6))  # binary masks: probabilities
T2 = (rng.uniform(size=(4, 6)) < 0.5).astype(np.float64)
T2[:, 0] = 1.0
LOGITS4 = rng.normal(scale=2.0, size=(2, 3, 4, 3))  # (N, H, W, C), class axis last (keras, optax)
ONEHOT4 = np.eye(3)[rng.integers(0, 3, size=(2, 3, 4))]
PROBS4 = np.exp(LOGITS4) / np.exp(LOGITS4).sum(-1, keepdims=True)

# keras/src/losses/losses.py, the Dice docstring's example
KERAS_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
KERAS_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])


def tversky_np(p, t, alpha=0.5, beta=0.5, axis=None, smooth=0.0, eps=1e-7):
    tp = np.sum(p * t, axis=axis)
    fp = np.sum(p * (1 - t), axis=axis)
    fn = np.sum((1 - p) * t, axis=axis)
    return 1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth + eps)


def gdl_np(p, t, smooth=1.0, ignore_background=False):
    """(N, C, spatial...) -> (N, C) weighted per-class Dice losses, optax's formula."""
    k = p.shape[1]
    freq = np.array([t[:, c].sum() for c in range(k)])
    w = 1 / (freq**2 + 1e-7)
    w = w / w.sum() * k
    spatial = tuple(range(2, p.ndim))
    inter = np.sum(p * t, axis=spatial)
    dice = 1 - (inter + smooth) / (0.5 * (np.sum(p, axis=spatial) + np.sum(t, axis=spatial)) + smooth)
    out = dice * w
    return out[:, 1:] if ignore_background and k > 1 else out


def keras_or_skip():
    require("tensorflow")
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("keras backend is not tensorflow")
    return keras


def optax_or_skip():
    require("jax")
    return pytest.importorskip("optax")


# ----------------------------------------------------------------------------- canonical values


@pytest.mark.parametrize("kw", [
    {}, {"axis": 1, "reduction": "none"}, {"axis": (1,), "reduction": "sum"}, {"axis": [-1], "reduction": "mean"},
    {"alpha": 0.3, "beta": 0.7, "axis": 1, "reduction": "none"}, {"alpha": 1.0, "beta": 1.0},
    {"smooth": 1.0, "epsilon": 0.0, "axis": 0, "reduction": "none"}, {"axis": (), "reduction": "none"},
])
def test_tversky_values(xp, kw):
    kw = dict(kw)
    red = kw.pop("reduction", "mean")
    axis = kw.get("axis")
    want = tversky_np(P2, T2, kw.get("alpha", 0.5), kw.get("beta", 0.5),
                      None if axis is None else tuple(axis) if isinstance(axis, list) else axis,
                      kw.get("smooth", 0.0), kw.get("epsilon", 1e-7))
    want = {"none": want, "sum": np.sum(want), "mean": np.mean(want)}[red]
    got = ml.tversky(to_xp(xp, P2), to_xp(xp, T2), reduction=red, **kw)
    xp_assert_close(got, want, xp=xp)


def test_tversky_is_keras_dice_example(xp):
    """keras's Dice docstring: [0.5, 0.75757575] per sample over (1, 2, 3), 0.6164384 for all;
    Dice = tversky(alpha = beta = 1/2) with epsilon = keras's epsilon / 2."""
    p, t = to_xp(xp, KERAS_PRED), to_xp(xp, KERAS_TRUE)
    xp_assert_close(ml.tversky(p, t, axis=(1, 2, 3), epsilon=5e-8, reduction="none"), [0.5, 0.75757575], rtol=1e-7)
    xp_assert_close(ml.tversky(p, t, epsilon=5e-8), 0.6164384, rtol=1e-7)


def test_tversky_edge_cases(xp):
    zeros = np.zeros((2, 5))
    # empty masks: keras's eps-only smoothing gives the worst loss 1, a smooth term gives 0
    xp_assert_close(ml.tversky(to_xp(xp, zeros), to_xp(xp, zeros), axis=1, reduction="none"), [1.0, 1.0])
    xp_assert_close(ml.tversky(to_xp(xp, zeros), to_xp(xp, zeros), axis=1, smooth=1.0, epsilon=0.0, reduction="none"),
                    [0.0, 0.0])
    # a perfect prediction: 1 - T / (T + eps)
    ones = np.ones((2, 5))
    xp_assert_close(ml.tversky(to_xp(xp, ones), to_xp(xp, ones), axis=1, reduction="none"), 1 - 5 / (5 + 1e-7) * np.ones(2))
    # integer / bool targets are cast to the input's dtype
    got = ml.tversky(to_xp(xp, P2), to_xp(xp, T2.astype(np.int64)), axis=1, reduction="none")
    xp_assert_close(got, tversky_np(P2, T2, axis=1))


@pytest.mark.parametrize("xp", ["numpy", "torch", "jax", "tensorflow"])  # array_api_strict has no float16
def test_tversky_float16_sums_do_not_overflow(xp):
    """A float16 mask of 300x300 ones sums to 90000 > float16's max 65504: summed in float32."""
    require(xp)
    ones = np.ones((1, 300, 300), dtype=np.float16)
    got = ml.tversky(to_xp(xp, ones), to_xp(xp, ones), axis=(1, 2), reduction="none")
    assert to_numpy(got).dtype == np.float16
    xp_assert_close(got, [0.0], atol=1e-3)


def test_tversky_gradient(grad_backend):
    """d/dp of 1 - I / D with D = (1 - a - b) I + a P + b T + eps: (I t' ... ) checked against
    central differences of the NumPy formula."""
    kw = {"alpha": 0.3, "beta": 0.6, "axis": 1}
    _, g = value_and_grad(grad_backend, lambda p: ml.tversky(p, to_xp(grad_backend, T2), reduction="none", **kw), P2)
    want = np.zeros_like(P2)
    h = 1e-6
    for idx in np.ndindex(*P2.shape):
        a, b = P2.copy(), P2.copy()
        a[idx] += h
        b[idx] -= h
        want[idx] = (tversky_np(a, T2, 0.3, 0.6, 1).sum() - tversky_np(b, T2, 0.3, 0.6, 1).sum()) / (2 * h)
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_generalized_dice_values(xp, reduction):
    p = np.moveaxis(PROBS4, -1, 1)  # class axis 1 (canonical)
    t = np.moveaxis(ONEHOT4, -1, 1)
    for kw in ({}, {"smooth": 0.0}, {"ignore_background": True}):
        want = gdl_np(p, t, **kw)
        want = {"none": want, "sum": want.sum(), "mean": want.mean()}[reduction]
        got = ml.multiclass_generalized_dice_loss(to_xp(xp, p), to_xp(xp, t), reduction=reduction, **kw)
        xp_assert_close(got, want, xp=xp)


def test_generalized_dice_shapes(xp):
    # (N, C): per element; (C,): one "sample"; a class absent from the targets gets the largest weight
    p2, t2 = PROBS4[:, 0, 0, :], ONEHOT4[:, 0, 0, :]
    got = ml.multiclass_generalized_dice_loss(to_xp(xp, p2), to_xp(xp, t2), reduction="none")
    xp_assert_close(got, gdl_np(p2, t2))
    assert tuple(got.shape) == (2, 3)
    got1 = ml.multiclass_generalized_dice_loss(to_xp(xp, p2[0]), to_xp(xp, t2[0]), reduction="none")
    xp_assert_close(got1, gdl_np(p2[:1], t2[:1])[0])


# ----------------------------------------------------------------------------- traced


def test_traceable_under_jit_and_tf_function():
    require("jax")
    import jax

    p, t = to_xp("jax", P2), to_xp("jax", T2)
    got = jax.jit(lambda a, b: ml.tversky(a, b, alpha=0.2, beta=0.8, axis=1))(p, t)
    xp_assert_close(got, tversky_np(P2, T2, 0.2, 0.8, 1).mean())
    # traced hyper-parameters (optax accepts arrays) are used unchecked
    got = jax.jit(lambda a, b, al: ml.tversky(a, b, alpha=al, beta=0.5, axis=1))(p, t, 0.25)
    xp_assert_close(got, tversky_np(P2, T2, 0.25, 0.5, 1).mean())
    pc, tc = np.moveaxis(PROBS4, -1, 1), np.moveaxis(ONEHOT4, -1, 1)
    got = jax.jit(ml.multiclass_generalized_dice_loss)(to_xp("jax", pc), to_xp("jax", tc))
    xp_assert_close(got, gdl_np(pc, tc).mean())
    require("tensorflow")
    import tensorflow as tf

    f = tf.function(lambda a, b: ml.tversky(a, b, axis=(1,), reduction="none"))
    xp_assert_close(f(to_xp("tensorflow", P2), to_xp("tensorflow", T2)), tversky_np(P2, T2, axis=1))


# ----------------------------------------------------------------------------- keras


def test_keras_dice_and_tversky_equal_keras():
    keras = keras_or_skip()
    import tensorflow as tf

    import multiloss.keras as mk

    t, p = tf.constant(ONEHOT4), tf.constant(PROBS4)
    sw = tf.constant([0.3, 1.7])
    for ours, native in [(mk.Dice(), keras.losses.Dice()), (mk.Dice(axis=(1, 2, 3)), keras.losses.Dice(axis=(1, 2, 3))),
                         (mk.Dice(axis=(1, 2), reduction="none"), keras.losses.Dice(axis=(1, 2), reduction="none")),
                         (mk.Tversky(0.2, 0.9, axis=(1, 2, 3)), keras.losses.Tversky(0.2, 0.9, axis=(1, 2, 3))),
                         (mk.Tversky(alpha=0.7, beta=0.1), keras.losses.Tversky(alpha=0.7, beta=0.1))]:
        xp_assert_close(ours(t, p), native(t, p), rtol=1e-6)
        if ours.axis == (1, 2, 3):  # one value per sample: sample weights apply
            xp_assert_close(ours(t, p, sample_weight=sw), native(t, p, sample_weight=sw), rtol=1e-6)
    xp_assert_close(mk.dice(KERAS_TRUE, KERAS_PRED, axis=(1, 2, 3)), [0.5, 0.75757575], rtol=1e-6)
    xp_assert_close(mk.tversky(t, p, 0.3, 0.6, axis=[1, 2]), keras.losses.tversky(t, p, 0.3, 0.6, axis=[1, 2]), rtol=1e-6)


def test_keras_tversky_alpha_weighs_false_negatives():
    """keras's ``alpha`` multiplies sum((1 - y_pred) * y_true) (keras/src/losses/losses.py names
    y_true ``inputs``): the canonical's ``beta``."""
    keras_or_skip()
    import multiloss.keras as mk

    got = mk.tversky(T2, P2, alpha=0.9, beta=0.1, axis=1)
    xp_assert_close(got, tversky_np(P2, T2, alpha=0.1, beta=0.9, axis=1), rtol=1e-6)


def test_keras_generalized_dice_equals_optax():
    keras_or_skip()
    optax = optax_or_skip()
    import jax.numpy as jnp

    import multiloss.keras as mk

    want = optax.losses.multiclass_generalized_dice_loss(jnp.asarray(PROBS4), jnp.asarray(ONEHOT4), apply_softmax=False)
    xp_assert_close(mk.GeneralizedDice()(ONEHOT4, PROBS4), np.asarray(want), rtol=1e-6)
    want = optax.losses.multiclass_generalized_dice_loss(jnp.asarray(PROBS4), jnp.asarray(ONEHOT4), apply_softmax=False,
                                                         ignore_background=True, smooth=0.5)
    xp_assert_close(mk.GeneralizedDice(smooth=0.5, ignore_background=True)(ONEHOT4, PROBS4), np.asarray(want), rtol=1e-6)


def test_keras_serialisation_round_trip():
    keras_or_skip()
    import keras

    import multiloss.keras as mk

    for loss in (mk.Dice(axis=(1, 2), name="d"), mk.Tversky(0.2, 0.8, axis=(1, 2, 3)), mk.GeneralizedDice(smooth=0.5)):
        config = keras.losses.serialize(loss)
        back = keras.losses.deserialize(config)
        assert type(back) is type(loss) and back.get_config() == loss.get_config()
        xp_assert_close(back(ONEHOT4, PROBS4), loss(ONEHOT4, PROBS4))
    # a JSON round trip turns the axis tuple into a list: still accepted
    assert mk.Dice.from_config({**mk.Dice(axis=(1, 2)).get_config(), "axis": [1, 2]})(ONEHOT4, PROBS4) is not None


def test_keras_model_save_and_reload_with_dice(tmp_path):
    """A model compiled with multiloss's Dice reloads without custom objects (the axis tuple
    comes back as a JSON list) and evaluates to the same loss."""
    keras = keras_or_skip()
    import multiloss.keras as mk

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(6, activation="sigmoid")])
    model.compile(optimizer="adam", loss=mk.Dice(axis=(1,), name="dice_per_sample"))
    x, y = P2.astype("float32"), T2.astype("float32")
    model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    path = str(tmp_path / "dice.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.loss) is mk.Dice and list(loaded.loss.get_config()["axis"]) == [1]
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)
    native = keras.losses.Dice(axis=(1,))(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=4, verbose=0), float(native), rtol=1e-6)


# ----------------------------------------------------------------------------- jax


@pytest.mark.parametrize("kw", [
    {}, {"alpha": 0.3, "beta": 0.8, "smooth": 0.0}, {"reduction": "none"}, {"reduction": "sum", "axis": (0, 1, 2)},
    {"class_weights": [0.2, 1.0, 3.0], "ignore_background": True}, {"axis": 2, "reduction": "none"},
])
def test_jax_dice_loss_equals_optax(kw):
    optax = optax_or_skip()
    import jax.numpy as jnp

    import multiloss.jax as mj

    x, t = jnp.asarray(LOGITS4), jnp.asarray(ONEHOT4)
    want = optax.losses.dice_loss(x, t, **{k: jnp.asarray(v) if isinstance(v, list) else v for k, v in kw.items()})
    xp_assert_close(mj.dice_loss(x, t, **kw), want, rtol=1e-12)
    want = optax.losses.dice_loss(jnp.asarray(PROBS4), t, apply_softmax=False)
    xp_assert_close(mj.dice_loss(jnp.asarray(PROBS4), t, apply_softmax=False), want, rtol=1e-12)


def test_jax_binary_and_generalized_dice_equal_optax():
    optax = optax_or_skip()
    import jax.numpy as jnp

    import multiloss.jax as mj

    x, t = jnp.asarray(np.log(P2 / (1 - P2))), jnp.asarray(T2)  # logits of P2
    for a, b in [(x, t), (x[..., None], t[..., None]), (x[..., None], t), (x[:, 0], t[:, 0])]:
        xp_assert_close(mj.binary_dice_loss(a, b, smooth=0.5), optax.losses.binary_dice_loss(a, b, smooth=0.5), rtol=1e-12)
    # apply_sigmoid=False: optax rejects any mask that is not all ones (sums of a single channel
    # must be 1); multiloss takes probabilities, the same loss as the logits' sigmoid
    xp_assert_close(mj.binary_dice_loss(jnp.asarray(P2), t, apply_sigmoid=False), mj.binary_dice_loss(x, t), rtol=1e-12)
    lx, lt = jnp.asarray(LOGITS4), jnp.asarray(ONEHOT4)
    for kw in ({}, {"smooth": 0.0, "ignore_background": True}):
        xp_assert_close(mj.multiclass_generalized_dice_loss(lx, lt, **kw),
                        optax.losses.multiclass_generalized_dice_loss(lx, lt, **kw), rtol=1e-12)


def test_jax_dice_under_jit_without_softmax():
    """optax's apply_softmax=False check reads the array (fails under jit); multiloss skips it there."""
    optax_or_skip()
    import jax
    import jax.numpy as jnp

    import multiloss.jax as mj

    p, t = jnp.asarray(PROBS4), jnp.asarray(ONEHOT4)
    f = jax.jit(lambda a, b: mj.dice_loss(a, b, apply_softmax=False))
    xp_assert_close(f(p, t), mj.dice_loss(p, t, apply_softmax=False))
    g = jax.jit(jax.grad(lambda a: mj.multiclass_generalized_dice_loss(a, t, apply_softmax=False)))(p)
    assert np.all(np.isfinite(np.asarray(g)))


# ----------------------------------------------------------------------------- torch extras


def test_torch_extras():
    require("torch")
    import torch

    import multiloss.torch as mt
    import multiloss.torch.functional as F

    p, t = torch.from_numpy(np.moveaxis(PROBS4, -1, 1)), torch.from_numpy(np.moveaxis(ONEHOT4, -1, 1))
    want = tversky_np(p.numpy(), t.numpy(), axis=(2, 3))
    xp_assert_close(mt.DiceLoss(dim=(2, 3), reduction="none")(p, t), want)
    xp_assert_close(F.dice_loss(p, t, dim=(2, 3)), want.mean())
    xp_assert_close(mt.TverskyLoss(alpha=0.2, beta=0.7, smooth=1.0, dim=(2, 3), reduction="sum")(p, t),
                    tversky_np(p.numpy(), t.numpy(), 0.2, 0.7, (2, 3), smooth=1.0).sum())
    xp_assert_close(F.tversky_loss(p, t, alpha=0.2, beta=0.7), tversky_np(p.numpy(), t.numpy(), 0.2, 0.7))
    xp_assert_close(mt.GeneralizedDiceLoss(ignore_background=True, reduction="none")(p, t),
                    gdl_np(p.numpy(), t.numpy(), ignore_background=True))
    xp_assert_close(F.generalized_dice_loss(p, t, smooth=0.5), gdl_np(p.numpy(), t.numpy(), smooth=0.5).mean())
    with pytest.raises(TypeError):
        mt.TverskyLoss(0.3)  # options are keyword-only
    q = p.clone().requires_grad_(True)
    mt.GeneralizedDiceLoss()(q, t).backward()
    assert q.grad is not None and torch.isfinite(q.grad).all()


# ----------------------------------------------------------------------------- errors


def test_canonical_errors(xp):
    p, t = to_xp(xp, P2), to_xp(xp, T2)
    with pytest.raises(TypeError, match=msg("tversky: argument 'axis' must be None, an int or a tuple of ints; got 'x'")):
        ml.tversky(p, t, axis="x")
    with pytest.raises(TypeError, match=msg("tversky: argument 'axis'", "got (1.0,)")):
        ml.tversky(p, t, axis=(1.0,))
    with pytest.raises(ValueError, match=msg("tversky: argument 'axis' must hold axes in [-2, 2) for a 2-d input; got (2,)")):
        ml.tversky(p, t, axis=(2,))
    with pytest.raises(ValueError, match=msg("tversky: argument 'axis' must not repeat an axis; got (1, -1)")):
        ml.tversky(p, t, axis=(1, -1))
    for name in ("alpha", "beta", "smooth", "epsilon"):
        with pytest.raises(ValueError, match=msg(f"tversky: argument '{name}' must be >= 0; got -0.1")):
            ml.tversky(p, t, **{name: -0.1})
    with pytest.raises(ValueError, match=msg("tversky: argument 'alpha' must be >= 0; got nan")):
        ml.tversky(p, t, alpha=float("nan"))
    with pytest.raises(ValueError, match=msg("tversky: argument 'target' must have the same shape as 'input' (4, 6); got (4, 1)")):
        ml.tversky(p, to_xp(xp, T2[:, :1]))
    with pytest.raises(TypeError, match=msg("tversky: argument 'input' must be a real floating-point array")):
        ml.tversky(to_xp(xp, T2.astype(np.int64)), t)
    with pytest.raises(ValueError, match=msg("tversky: argument 'reduction' must be one of")):
        ml.tversky(p, t, reduction="batchmean")
    g = "multiclass_generalized_dice_loss"
    with pytest.raises(ValueError, match=msg(f"{g}: argument 'input' must have a class dimension", "got a 0-d array")):
        ml.multiclass_generalized_dice_loss(to_xp(xp, np.float64(0.5)), to_xp(xp, np.float64(1.0)))
    with pytest.raises(TypeError, match=msg(f"{g}: argument 'ignore_background' must be a bool; got 1")):
        ml.multiclass_generalized_dice_loss(p, t, ignore_background=1)
    with pytest.raises(ValueError, match=msg(f"{g}: argument 'smooth' must be >= 0; got -1.0")):
        ml.multiclass_generalized_dice_loss(p, t, smooth=-1.0)
    with pytest.raises(ValueError, match=msg(f"{g}: argument 'target' must have the same shape as 'input' (4, 6); got (6,)")):
        ml.multiclass_generalized_dice_loss(p, to_xp(xp, T2[0]))


def test_keras_errors():
    keras_or_skip()
    import multiloss.keras as mk

    with pytest.raises(ValueError, match=msg("Tversky: argument `alpha` must be a float >= 0. Received: alpha=-1")):
        mk.Tversky(alpha=-1)
    with pytest.raises(ValueError, match=msg("Tversky: argument `beta` must be a float >= 0. Received: beta='a'")):
        mk.Tversky(beta="a")
    with pytest.raises(ValueError, match=msg("tversky: argument `beta` must be a float >= 0. Received: beta=-0.5")):
        mk.tversky(T2, P2, beta=-0.5)
    with pytest.raises(ValueError, match=msg("Dice: argument `axis` must be None, an int or a tuple of ints. Received: axis=(1.5,)")):
        mk.Dice(axis=(1.5,))
    with pytest.raises(ValueError, match=msg("dice: argument 'axis' must hold axes in [-2, 2) for a 2-d input; got (1, 2)")):
        mk.dice(T2, P2, axis=(1, 2))
    with pytest.raises(ValueError, match=msg("Arguments `y_true` and `y_pred` must have the same shape", "(4, 3)", "(4, 6)")):
        mk.Dice()(T2[:, :3], P2)


def test_jax_errors():
    optax_or_skip()
    import jax.numpy as jnp

    import multiloss.jax as mj

    x, t = jnp.asarray(LOGITS4), jnp.asarray(ONEHOT4)
    with pytest.raises(ValueError, match=msg("dice_loss: argument 'targets' must have the shape of 'predictions' (2, 3, 4, 3)",
                                             "got (2, 3, 4, 2)")):
        mj.dice_loss(x, t[..., :2])
    with pytest.raises(ValueError, match=msg("dice_loss: argument 'reduction' must be one of 'mean', 'sum', 'none'", "'batchmean'")):
        mj.dice_loss(x, t, reduction="batchmean")
    with pytest.raises(ValueError, match=msg("dice_loss: argument 'class_weights' must be a 1-D array of one weight per class, "
                                             "shape (3,); got shape (2, 3)")):
        mj.dice_loss(x, t, class_weights=jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=msg("argument 'class_weights'", "got shape (2,)")):
        mj.dice_loss(x, t, class_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match=msg("dice_loss: argument 'axis' must not include the class axis (the last, 3 of 4-d",
                                             "got (1, -1)")):
        mj.dice_loss(x, t, axis=(1, -1))
    with pytest.raises(ValueError, match=msg("dice_loss: argument 'axis' must hold axes in [-4, 4)", "got 4")):
        mj.dice_loss(x, t, axis=4)
    with pytest.raises(ValueError, match=msg("dice_loss: argument 'predictions' must hold probability distributions that sum to 1 "
                                             "along the class axis (the last) when apply_softmax=False")):
        mj.dice_loss(x, t, apply_softmax=False)
    with pytest.raises(ValueError, match=msg("binary_dice_loss: argument 'predictions' must hold probabilities in [0, 1] when "
                                             "apply_sigmoid=False")):
        mj.binary_dice_loss(jnp.asarray(P2) + 1.0, jnp.asarray(T2), apply_sigmoid=False)
    # integer predictions are optax's too (it takes their softmax: docs/input-policy.md); bool not
    with pytest.raises(TypeError, match=msg("dice_loss: argument 'predictions' must be a floating-point array; got dtype bool")):
        mj.dice_loss(jnp.ones((2, 3), dtype=bool), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=msg("dice_loss (multiloss.tversky): argument 'alpha' must be >= 0; got -1.0")):
        mj.dice_loss(x, t, alpha=-1.0)
    with pytest.raises(ValueError, match=msg("multiclass_generalized_dice_loss", "argument 'targets' must have the shape of "
                                             "'predictions' (2, 3, 4, 3)", "got (2, 3, 4)")):
        mj.multiclass_generalized_dice_loss(x, t[..., 0])
    with pytest.raises(ValueError, match=msg("multiclass_generalized_dice_loss", "argument 'predictions' must hold probability "
                                             "distributions that sum to 1")):
        mj.multiclass_generalized_dice_loss(x, t, apply_softmax=False)


def test_torch_errors():
    require("torch")
    import torch

    import multiloss.torch as mt

    p, t = torch.from_numpy(P2), torch.from_numpy(T2)
    with pytest.raises(TypeError, match=msg("TverskyLoss: argument 'alpha' must be a float or int; got str 'a'")):
        mt.TverskyLoss(alpha="a")
    with pytest.raises(ValueError, match=msg("tversky: argument 'beta' must be >= 0; got -2.0")):
        mt.TverskyLoss(beta=-2.0)(p, t)
    with pytest.raises(ValueError, match=msg("tversky: argument 'axis' must hold axes in [-2, 2)", "got 5")):
        mt.DiceLoss(dim=5)(p, t)
    with pytest.raises(ValueError, match=msg("GeneralizedDiceLoss: argument 'reduction' must be one of")):
        mt.GeneralizedDiceLoss(reduction="batchmean")
