"""The Keras 3 adapter (multiloss.keras) on the TensorFlow backend: conformance with
keras.losses, signatures, serialisation (get_config / from_config, model.save + load_model
without custom_objects), compile/fit, sample_weight, keras's logits shortcut, XLA, the
regularisers, and bad input (swapped arguments, shapes, options)."""

from __future__ import annotations

import inspect
import os

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "tensorflow":  # pragma: no cover - tests/test_keras_backends.py covers the others
    pytest.skip("these tests run keras on its TensorFlow backend", allow_module_level=True)

import multiloss.keras as mk  # noqa: E402
from multiloss.backends.keras import TABLE  # noqa: E402

TWINS = [r for r in TABLE if r.keras_native]
ALL = [r.cls for r in TABLE if r.cls]  # rows of several arrays are function-only (cls="")
rng = np.random.default_rng(0)


def _t(a, dtype="float32"):
    return tf.constant(np.asarray(a), dtype=dtype)


# --------------------------------------------------------------------------- conformance


# Every native case runs, one id per cell, in conformance/test_conformance.py; here: coverage.


def test_every_keras_twin_and_function_has_native_cases():
    from multiloss.conformance.natives_keras import native_cases

    names = {c.name for c in native_cases()}
    for r in TWINS:
        assert r.cls in names, r.cls
        assert f"{r.fn}()" in names, r.fn
    reductions = {c.kwargs.get("reduction", "sum_over_batch_size") for c in native_cases() if c.name == "MeanSquaredError"}
    assert reductions == {"sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None}


def test_categorical_axis0_gradient_matches_finite_differences():
    # keras's own gradient is wrong here (tf.nn.softmax_cross_entropy_with_logits(axis=0)),
    # so the conformance case checks only its value; ours is held to finite differences
    x = rng.normal(size=(6, 4))
    y = np.eye(6)[rng.integers(0, 6, size=4)].T  # classes on axis 0
    loss = mk.CategoricalCrossentropy(from_logits=True, axis=0, dtype="float64")
    p = _t(x, "float64")
    with tf.GradientTape() as tape:
        tape.watch(p)
        v = loss(_t(y, "float64"), p)
    g = tape.gradient(v, p).numpy()
    fd = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1e-6
        e = e.reshape(x.shape)
        fd.flat[i] = (float(loss(_t(y, "float64"), _t(x + e, "float64"))) - float(loss(_t(y, "float64"), _t(x - e, "float64")))) / 2e-6
    np.testing.assert_allclose(g, fd, atol=1e-7)


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("attr", ["cls", "fn"])
@pytest.mark.parametrize("row", TWINS, ids=lambda r: r.cls)
def test_class_and_function_signatures_are_keras(row, attr):
    name = getattr(row, attr)
    ours = inspect.signature(getattr(mk, name))
    theirs = inspect.signature(getattr(keras.losses, name))
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()
    ]


def test_extras_signatures_and_docs():
    assert str(inspect.signature(mk.FocalLoss)).startswith("(*, gamma=2.0, alpha=0.75, from_logits=False, reduction=")
    assert str(inspect.signature(mk.SCELoss)).startswith("(*, alpha=0.1, beta=1.0, from_logits=True, reduction=")
    for name in ALL + [r.fn for r in TABLE]:
        assert getattr(mk, name).__doc__ and "multiloss." in getattr(mk, name).__doc__, name


def test_is_a_keras_loss_and_keeps_keras_attributes():
    loss = mk.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="bce")
    assert isinstance(loss, keras.losses.Loss)
    assert loss.from_logits is True and loss.label_smoothing == 0.1 and loss.axis == -1
    assert loss.name == "bce" and loss.reduction == "sum_over_batch_size"
    assert mk.Huber().name == keras.losses.Huber().name == "huber_loss"


# --------------------------------------------------------------------------- values


def test_function_forms_are_per_sample_and_accept_lists_and_numpy():
    yt, yp = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]
    out = mk.binary_crossentropy(yt, yp)
    np.testing.assert_allclose(out.numpy(), keras.losses.binary_crossentropy(yt, yp).numpy(), rtol=1e-6)
    assert out.shape == (2,)
    np.testing.assert_allclose(mk.huber(np.array(yt), np.array(yp)).numpy(), [0.18, 0.13], rtol=1e-5)  # keras doc: mean 0.155


def test_seed_figures_through_the_adapter():
    # the focal-loss worked example of the survey (gamma=2, alpha=0.75): focal and BCE figures on easy and hard samples
    t = _t([[1.0]])
    focal, bce = mk.FocalLoss(), mk.BinaryCrossentropy()
    np.testing.assert_allclose(float(focal(t, _t([[0.9]]))), 0.75 * 0.01 * -np.log(0.9), rtol=1e-5)
    np.testing.assert_allclose(float(bce(t, _t([[0.9]]))), 0.1054, atol=1e-4)
    np.testing.assert_allclose(float(bce(t, _t([[0.5]]))), 0.6931, atol=1e-4)


def test_sample_weight_shapes_like_keras():
    yt, yp = _t(rng.normal(size=(6, 3))), _t(rng.normal(size=(6, 3)))
    for sw in (_t(rng.uniform(size=(6,))), _t(rng.uniform(size=(6, 1))), 0.5):
        for red in ("sum_over_batch_size", "mean_with_sample_weight", "none"):
            a = mk.MeanSquaredError(reduction=red)(yt, yp, sample_weight=sw)
            b = keras.losses.MeanSquaredError(reduction=red)(yt, yp, sample_weight=sw)
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_rank_fix_like_keras():
    # (N,) targets against (N, 1) predictions: keras squeezes/expands, it does not broadcast
    yt, yp = _t(rng.normal(size=(5,))), _t(rng.normal(size=(5, 1)))
    for name in ("MeanSquaredError", "MeanAbsoluteError", "Huber"):
        np.testing.assert_allclose(float(getattr(mk, name)()(yt, yp)), float(getattr(keras.losses, name)()(yt, yp)), rtol=1e-6)
    labels = tf.constant([[1], [0], [2]], tf.int64)  # (N, 1) sparse labels
    logits = _t(rng.normal(size=(3, 4)))
    np.testing.assert_allclose(
        float(mk.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)),
        float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)), rtol=1e-6)


def test_keras_logits_shortcut_of_sigmoid_and_softmax_outputs():
    # keras's TF backend computes BCE/CCE/SCCE of a keras sigmoid/softmax output from the logits
    z = _t([[30.0, -30.0, 0.5], [-25.0, 40.0, 1.0]])
    yb = _t([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    p = keras.activations.sigmoid(z)
    a, b = mk.BinaryCrossentropy()(yb, p), keras.losses.BinaryCrossentropy()(yb, p)
    np.testing.assert_allclose(float(a), float(b), rtol=1e-6)
    assert float(a) > 20  # from the logits: far beyond the clipped-probability bound of ~16.1
    s = keras.activations.softmax(z)
    lab = tf.constant([1, 0], tf.int64)
    np.testing.assert_allclose(float(mk.SparseCategoricalCrossentropy()(lab, s)),
                               float(keras.losses.SparseCategoricalCrossentropy()(lab, s)), rtol=1e-6)
    oh = tf.one_hot(lab, 3)
    np.testing.assert_allclose(float(mk.CategoricalCrossentropy()(oh, s)),
                               float(keras.losses.CategoricalCrossentropy()(oh, s)), rtol=1e-6)


@pytest.mark.parametrize("name,kw,kind", [
    ("MeanSquaredError", {}, "reg"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "prob"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}, "sparse"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot"),
    ("FocalLoss", {}, "prob"),
    ("SCELoss", {}, "sparse"),
])
def test_xla_compiled_equals_eager(name, kw, kind):
    yp = rng.normal(size=(8, 5))
    if kind == "prob":
        yp, yt = 1 / (1 + np.exp(-yp)), (rng.uniform(size=(8, 5)) > 0.5).astype("float32")
    elif kind == "sparse":
        yt = rng.integers(0, 5, size=(8,))
    elif kind == "onehot":
        yt = np.eye(5)[rng.integers(0, 5, size=8)]
    else:
        yt = rng.normal(size=(8, 5))
    yt = tf.constant(yt) if kind == "sparse" else _t(yt)
    yp = _t(yp)
    loss = getattr(mk, name)(**kw)
    compiled = tf.function(lambda a, b: loss(a, b), jit_compile=True, autograph=False)
    np.testing.assert_allclose(float(compiled(yt, yp)), float(loss(yt, yp)), rtol=1e-5)


def test_sce_loss_index_and_probability_targets_agree():
    logits = _t(rng.normal(size=(6, 4)))
    lab = rng.integers(0, 4, size=6)
    a = mk.SCELoss(alpha=0.3, beta=0.7)(tf.constant(lab), logits)
    b = mk.SCELoss(alpha=0.3, beta=0.7)(_t(np.eye(4)[lab]), logits)
    np.testing.assert_allclose(float(a), float(b), rtol=1e-6)
    import multiloss

    c = multiloss.sce_loss(logits, tf.constant(lab), alpha=0.3, beta=0.7)
    np.testing.assert_allclose(float(a), float(c), rtol=1e-6)


def test_regularizers_equal_keras():
    w = _t(rng.normal(size=(4, 3)))
    for ours, theirs in ((mk.L1(0.01), keras.regularizers.L1(0.01)), (mk.L2(l2=0.02), keras.regularizers.L2(0.02)),
                         (mk.L1L2(l1=0.01, l2=0.03), keras.regularizers.L1L2(l1=0.01, l2=0.03))):
        np.testing.assert_allclose(float(ours(w)), float(theirs(w)), rtol=1e-6)
        assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    with pytest.raises(ValueError, match="l1"):
        mk.L1(l1=-1.0)


# --------------------------------------------------------------------------- serialisation

_OPTIONS = {
    "Huber": {"delta": 0.5},
    "BinaryCrossentropy": {"from_logits": True, "label_smoothing": 0.1, "axis": 0},
    "CategoricalCrossentropy": {"from_logits": True, "label_smoothing": 0.2, "axis": 1},
    "SparseCategoricalCrossentropy": {"from_logits": True, "ignore_class": 3, "axis": -1},
    "CosineSimilarity": {"axis": 0},
    "FocalLoss": {"gamma": 1.5, "alpha": 0.25, "from_logits": True},
    "SCELoss": {"alpha": 0.5, "beta": 0.5, "from_logits": False},
}


@pytest.mark.parametrize("name", ALL)
def test_get_config_round_trip(name):
    kw = {**_OPTIONS.get(name, {}), "reduction": "sum", "name": "custom"}
    loss = getattr(mk, name)(**kw)
    config = loss.get_config()
    for k, v in kw.items():
        assert config[k] == v, k
    again = type(loss).from_config(config)
    assert again.get_config() == config
    # keras's generic (de)serialisation finds the class by its registered name
    s = keras.saving.serialize_keras_object(loss)
    assert s["registered_name"] == f"multiloss>{name}"
    back = keras.saving.deserialize_keras_object(s)
    assert type(back) is type(loss) and back.get_config() == config
    assert keras.losses.get({"class_name": f"multiloss>{name}", "config": config}).get_config() == config


def test_dtype_is_serialised_when_given():
    loss = mk.MeanSquaredError(dtype="float64")
    assert loss.get_config()["dtype"] == "float64"
    assert mk.MeanSquaredError.from_config(loss.get_config()).dtype == "float64"
    assert "dtype" not in mk.MeanSquaredError().get_config()


def _tiny_classifier(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])


def _blobs(n=192, seed=0):
    r = np.random.default_rng(seed)
    y = r.integers(0, 3, size=n)
    x = r.normal(size=(n, 4)).astype("float32") + np.eye(3, 4)[y].astype("float32") * 3
    return x, y


def test_save_and_load_model_without_custom_objects(tmp_path):
    model = _tiny_classifier()
    loss = mk.SparseCategoricalCrossentropy(from_logits=True, ignore_class=7, reduction="sum", name="scce")
    model.compile(optimizer="adam", loss=loss)
    x, y = _blobs(64)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    path = os.fspath(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects: the classes are registered
    assert type(loaded.loss) is mk.SparseCategoricalCrossentropy
    assert loaded.loss.get_config() == loss.get_config()
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5)


def test_compile_fit_loss_decreases_with_sample_weight():
    model = _tiny_classifier(1)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=mk.SparseCategoricalCrossentropy(from_logits=True))
    x, y = _blobs()
    sw = np.where(y == 0, 2.0, 1.0).astype("float32")
    hist = model.fit(x, y, sample_weight=sw, epochs=6, batch_size=64, verbose=0).history["loss"]
    assert hist[-1] < 0.6 * hist[0], hist


def test_fit_matches_keras_own_loss_step_for_step():
    x, y = _blobs(96)
    losses = []
    for loss in (mk.SparseCategoricalCrossentropy(from_logits=True), keras.losses.SparseCategoricalCrossentropy(from_logits=True)):
        model = _tiny_classifier(2)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
        losses.append(model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)


# --------------------------------------------------------------------------- bad input


def test_swapped_arguments_are_reported():
    logits, labels = _t(rng.normal(size=(8, 5))), tf.constant(rng.integers(0, 5, size=8))
    with pytest.raises(ValueError, match="look swapped.*y_true, y_pred"):
        mk.SparseCategoricalCrossentropy(from_logits=True)(logits, labels)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy: the arguments look swapped"):
        mk.sparse_categorical_crossentropy(logits, labels, from_logits=True)
    # float labels in the wrong place are caught by their shape
    with pytest.raises(ValueError, match="look swapped"):
        mk.SparseCategoricalCrossentropy()(logits, tf.cast(labels, tf.float32))
    # integer predictions with float labels are not "swapped": keras converts both to the loss
    # dtype and computes, so does multiloss (docs/input-policy.md; tests/test_input_policy.py)
    probs, hard = _t(rng.uniform(size=(4, 2))), tf.constant([[0, 1], [1, 0], [1, 1], [0, 0]])
    np.testing.assert_allclose(mk.BinaryCrossentropy()(probs, hard).numpy(),
                               keras.losses.BinaryCrossentropy()(probs, hard).numpy(), rtol=1e-5)


def test_shape_errors_are_keras_style():
    a, b = _t(rng.normal(size=(8, 3))), _t(rng.normal(size=(8, 5)))
    with pytest.raises(ValueError, match=r"mean_squared_error: Arguments `y_true` and `y_pred` must have broadcastable shapes.*y_true.shape=\(8, 3\), y_pred.shape=\(8, 5\)"):
        mk.MeanSquaredError()(a, b)
    with pytest.raises(ValueError, match=r"binary_crossentropy: Arguments `y_true` and `y_pred` must have the same shape"):
        mk.BinaryCrossentropy()(_t(rng.uniform(size=(8, 4))), _t(rng.uniform(size=(8, 5))))
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy: Argument `y_true` must hold one class index per sample, shape \(8,\)"):
        mk.SparseCategoricalCrossentropy(from_logits=True)(tf.constant(rng.integers(0, 5, size=(8, 2))), b)
    with pytest.raises(ValueError, match="categorical_crossentropy: Arguments `y_true` and `y_pred` must have the same shape"):
        mk.CategoricalCrossentropy(from_logits=True)(tf.constant(rng.integers(0, 5, size=(8, 5))), _t(rng.normal(size=(8, 4))))


def test_bad_options_and_labels():
    with pytest.raises(ValueError, match="label_smoothing"):
        mk.BinaryCrossentropy(label_smoothing=1.5)
    with pytest.raises(ValueError, match="axis"):
        mk.CategoricalCrossentropy(axis=True)
    with pytest.raises(ValueError, match="delta"):
        mk.Huber(delta=0.0)
    with pytest.raises(ValueError, match="reduction"):
        mk.MeanSquaredError(reduction="batchmean")
    with pytest.raises(TypeError):
        mk.Huber(1.0, "sum", "n", None, "extra")
    # an out-of-range label is reported eagerly (keras's TF kernel would raise InvalidArgumentError)
    with pytest.raises(ValueError, match=r"class indices in \[0, 5\)"):
        mk.SparseCategoricalCrossentropy(from_logits=True)(tf.constant([0, 7]), _t(rng.normal(size=(2, 5))))


def test_extras_take_their_options_keyword_only():
    # mk.FocalLoss(0.75, 2.0) must not silently mean (gamma=0.75, alpha=2.0) beside
    # mt.FocalLoss(alpha=..., gamma=...): extras have no keras order to mirror (issue 14)
    with pytest.raises(TypeError):
        mk.FocalLoss(0.75, 2.0)
    loss = mk.FocalLoss(alpha=0.75, gamma=2.0)
    assert (loss.alpha, loss.gamma) == (0.75, 2.0)
    assert mk.FocalLoss.from_config(loss.get_config()).get_config() == loss.get_config()
    # keras's own classes keep keras's positional order
    assert mk.Huber(2.0).get_config()["delta"] == 2.0
