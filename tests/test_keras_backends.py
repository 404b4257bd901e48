"""multiloss.keras under every keras backend (TensorFlow, JAX, PyTorch).

keras picks its backend once per process (``KERAS_BACKEND``), so each backend runs in its own
subprocess: a few losses against keras's own on that backend's arrays (values), then a tiny
``compile``/``fit`` whose loss must decrease, and a ``model.save`` + ``load_model`` round trip.
A backend whose framework is not installed is skipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("keras")

SCRIPT = textwrap.dedent(
    r"""
    import json, os, sys, tempfile
    import numpy as np
    import keras
    import multiloss.keras as mk

    assert keras.backend.backend() == os.environ["KERAS_BACKEND"], keras.backend.backend()
    rng = np.random.default_rng(0)
    out = {"backend": keras.backend.backend(), "diffs": {}}
    yp = keras.ops.convert_to_tensor(rng.normal(size=(8, 5)).astype("float32"))
    probs = keras.ops.softmax(yp)
    yt = keras.ops.convert_to_tensor(rng.normal(size=(8, 5)).astype("float32"))
    lab = keras.ops.convert_to_tensor(rng.integers(0, 5, size=(8,)).astype("int32"))
    onehot = keras.ops.one_hot(lab, 5)
    binary = keras.ops.convert_to_tensor((rng.uniform(size=(8, 5)) > 0.5).astype("float32"))
    cases = [
        ("MeanSquaredError", {}, yt, yp),
        ("Huber", {"delta": 0.5}, yt, yp),
        ("CosineSimilarity", {}, yt, yp),
        ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, binary, yp),
        ("CategoricalCrossentropy", {"from_logits": True}, onehot, yp),
        ("CategoricalCrossentropy", {}, onehot, probs),
        ("SparseCategoricalCrossentropy", {"from_logits": True}, lab, yp),
        ("KLDivergence", {}, keras.ops.softmax(yt), probs),
    ]
    sw = keras.ops.convert_to_tensor(rng.uniform(size=(8,)).astype("float32"))
    for name, kw, a, b in cases:
        ours = getattr(mk, name)(**kw)(a, b, sample_weight=sw)
        theirs = getattr(keras.losses, name)(**kw)(a, b, sample_weight=sw)
        out["diffs"][name] = float(abs(keras.ops.convert_to_numpy(ours) - keras.ops.convert_to_numpy(theirs)))

    keras.utils.set_random_seed(0)
    n = 256
    y = rng.integers(0, 3, size=n)
    x = (rng.normal(size=(n, 4)) + 3 * np.eye(3, 4)[y]).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, kernel_regularizer=mk.L2(1e-4))])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=mk.SparseCategoricalCrossentropy(from_logits=True))
    out["history"] = model.fit(x, y, epochs=5, batch_size=64, verbose=0).history["loss"]
    path = os.path.join(tempfile.mkdtemp(), "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    out["loaded_loss"] = type(loaded.loss).__module__ + "." + type(loaded.loss).__name__
    print("RESULT " + json.dumps(out))
    """
)

_FRAMEWORK = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


@pytest.fixture(scope="module", params=["tensorflow", "jax", "torch"])
def result(request):
    backend = request.param
    if importlib.util.find_spec(_FRAMEWORK[backend]) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"keras backend {backend} failed:\n{proc.stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def test_values_equal_keras_on_the_backend(result):
    bad = {k: v for k, v in result["diffs"].items() if not v <= 1e-5}
    assert not bad, f"{result['backend']}: |multiloss - keras| too large: {bad}"


def test_fit_loss_decreases(result):
    h = result["history"]
    assert len(h) == 5 and all(map(lambda v: v == v, h)), h
    assert h[-1] < 0.7 * h[0], f"{result['backend']}: loss did not fall: {h}"


def test_saved_model_reloads_with_our_loss(result):
    assert result["loaded_loss"] == "multiloss.keras.SparseCategoricalCrossentropy"
