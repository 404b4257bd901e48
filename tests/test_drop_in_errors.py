"""Drop-in error classes (issue 13, "Why" item 3): an adapter's error is catchable as the class
its native framework raises for the same bad input, and keeps multiloss's message (the
function and the argument named).

* :mod:`multiloss.errors` itself (no framework): kinds, the twin classes, pickling;
* ``multiloss.torch`` against ``torch.nn`` (RuntimeError / IndexError / NotImplementedError;
  torch's own OpInfo error inputs are in ``tests/test_torch_opinfo.py``);
* ``multiloss.keras`` against ``keras.losses`` on each keras backend (one subprocess each:
  TensorFlow ``InvalidArgumentError``, jax ``TypeError``, torch ``RuntimeError`` /
  ``IndexError`` for what fails in the backend's op; ``ValueError`` for keras's own checks);
* ``multiloss.jax`` against ``optax.losses`` (``TypeError`` for shapes that do not broadcast,
  ``ValueError`` for optax's chex checks, ``TypeError`` for dtypes).

Each native case is run first: the expected class is whatever the native raises now, so a
framework that changes its class moves the expectation with it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from multiloss import errors as E
from tests_conftest import require


# --------------------------------------------------------------------------- multiloss.errors


def test_kinds_and_builtin_classes():
    assert issubclass(E.ShapeError, ValueError) and E.ShapeError.kind == "shape"
    assert issubclass(E.DTypeError, TypeError) and E.DTypeError.kind == "dtype"
    assert issubclass(E.IndexRangeError, ValueError) and E.IndexRangeError.kind == "index"
    assert issubclass(E.OptionError, ValueError) and E.OptionError.kind == "value"
    assert E.kind_of(E.ShapeError("f: x")) == "shape"
    assert E.kind_of(ValueError("f: x")) == "value" and E.kind_of(TypeError("f: x")) == "type"
    assert E.kind_of(KeyError("x")) is None


def test_native_error_derives_from_both_and_keeps_the_message():
    exc = E.IndexRangeError("cross_entropy: argument 'target' must hold class indices in [0, 4)")
    twin = E.native_error(exc, E.TORCH)
    assert isinstance(twin, (E.IndexRangeError)) and isinstance(twin, ValueError)
    assert isinstance(twin, IndexError) and isinstance(twin, RuntimeError)
    assert str(twin) == str(exc) and type(twin).__name__ == "IndexRangeError"
    assert E.native_class(E.IndexRangeError, (IndexError, RuntimeError)) is type(twin)  # cached
    plain = E.native_error(ValueError("huber_loss: argument 'delta' must be > 0"), E.TORCH)
    assert isinstance(plain, ValueError) and isinstance(plain, RuntimeError)
    dtype = E.native_error(E.DTypeError("mse_loss: argument 'input' ..."), E.TORCH)
    assert isinstance(dtype, TypeError) and isinstance(dtype, NotImplementedError)
    # pickles (DDP / multiprocessing workers send exceptions back) to the same class
    back = pickle.loads(pickle.dumps(twin))
    assert type(back) is type(twin) and str(back) == str(twin)


def test_native_error_leaves_other_exceptions_alone():
    exc = json.JSONDecodeError("bad", "doc", 0)  # a ValueError subclass with its own constructor
    assert E.native_error(exc, E.TORCH) is exc
    k = KeyError("x")
    assert E.native_error(k, E.TORCH) is k
    s = E.ShapeError("f: x")
    assert E.native_error(s, E.JAX) is not s and E.native_error(E.OptionError("f"), E.JAX).__class__ is E.OptionError


def test_validation_raises_kinds():
    from multiloss import _validation as V

    with pytest.raises(E.ShapeError, match="^f: argument 'target'"):
        V.check_same_shape("f", "input", np.zeros(3), "target", np.zeros(4))
    with pytest.raises(E.DTypeError, match="^f: argument 'input'"):
        V.check_floating(np, "f", "input", np.zeros(3, dtype=np.int64))
    with pytest.raises(E.IndexRangeError, match="^f: argument 'target'"):
        V.check_class_targets(np, "f", np.zeros((2, 3)), np.array([0, 3]), 1)
    with pytest.raises(E.OptionError, match="^f: argument 'reduction'"):
        V.check_reduction("f", "avg", ("mean",))
    with pytest.raises(E.OptionError, match="^f: argument 'input'"):
        V.check_probabilities(np, "f", "input", np.array([0.5, 1.5]))


# --------------------------------------------------------------------------- torch


def _torch_cases():
    import torch

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g)
    t = torch.tensor([0, 1, 2])
    lp = torch.randn(5, 2, 4, generator=g).log_softmax(2)
    return {
        # (functional form, class form or None); f: a torch.nn.functional-like module, nn: a
        # torch.nn-like module
        "huber_loss delta=0": (lambda f: f.huber_loss(x, y, delta=0.0), lambda nn: nn.HuberLoss(delta=0.0)(x, y)),
        "smooth_l1_loss beta<0": (lambda f: f.smooth_l1_loss(x, y, beta=-1.0), None),
        "cross_entropy weight size": (lambda f: f.cross_entropy(x, t, weight=torch.ones(5)),
                                      lambda nn: nn.CrossEntropyLoss(weight=torch.ones(5))(x, t)),
        "cross_entropy label_smoothing=1.5": (lambda f: f.cross_entropy(x, t, label_smoothing=1.5),
                                              lambda nn: nn.CrossEntropyLoss(label_smoothing=1.5)(x, t)),
        "cross_entropy target out of range": (lambda f: f.cross_entropy(x, torch.tensor([0, 1, 7])),
                                              lambda nn: nn.CrossEntropyLoss()(x, torch.tensor([0, 1, 7]))),
        "cross_entropy negative target": (lambda f: f.cross_entropy(x, torch.tensor([0, 1, -3])), None),
        "nll_loss target out of range": (lambda f: f.nll_loss(x, torch.tensor([0, 4, 1])),
                                         lambda nn: nn.NLLLoss()(x, torch.tensor([0, 4, 1]))),
        "cross_entropy float target of another shape": (lambda f: f.cross_entropy(x, torch.rand(3, 5)), None),
        "cross_entropy integer input": (lambda f: f.cross_entropy(torch.ones(3, 4, dtype=torch.long), t), None),
        "nll_loss weight dtype": (lambda f: f.nll_loss(x, t, weight=torch.ones(4, dtype=torch.float64)), None),
        "mse_loss shapes": (lambda f: f.mse_loss(x, torch.randn(3, 5)), lambda nn: nn.MSELoss()(x, torch.randn(3, 5))),
        "mse_loss integer input": (lambda f: f.mse_loss(t, t), None),
        "l1_loss shapes": (lambda f: f.l1_loss(x, torch.randn(2, 4)), None),
        "binary_cross_entropy input > 1": (lambda f: f.binary_cross_entropy(torch.full((3,), 1.5), torch.rand(3)),
                                           lambda nn: nn.BCELoss()(torch.full((3,), 1.5), torch.rand(3))),
        "multi_margin_loss target out of range": (lambda f: f.multi_margin_loss(x, torch.tensor([0, 1, 7])), None),
        "multi_margin_loss weight size": (lambda f: f.multi_margin_loss(x, t, weight=torch.ones(5)), None),
        "multilabel_margin_loss target out of range":
            (lambda f: f.multilabel_margin_loss(x, torch.tensor([[0, 9, -1, 0]] * 3)), None),
        "poisson_nll_loss shapes": (lambda f: f.poisson_nll_loss(x, torch.randn(3, 5)), None),
        "gaussian_nll_loss negative var": (lambda f: f.gaussian_nll_loss(x, y, -torch.ones(3, 4)), None),
        "ctc_loss blank out of range": (lambda f: f.ctc_loss(lp, torch.tensor([[1, 2], [1, 1]]), torch.tensor([5, 5]),
                                                             torch.tensor([2, 2]), blank=7), None),
        "cosine_embedding_loss shapes": (lambda f: f.cosine_embedding_loss(x, torch.randn(3, 5), torch.ones(3)), None),
        "triplet_margin_loss shapes": (lambda f: f.triplet_margin_loss(x, y, torch.randn(3, 5)), None),
        "margin_ranking_loss shapes": (lambda f: f.margin_ranking_loss(torch.randn(3), torch.randn(4), torch.ones(3)),
                                       None),
        "kl_div reduction": (lambda f: f.kl_div(x, y, reduction="abc"), None),
    }


_TORCH_CASE_NAMES = [
    "huber_loss delta=0", "smooth_l1_loss beta<0", "cross_entropy weight size",
    "cross_entropy label_smoothing=1.5", "cross_entropy target out of range", "cross_entropy negative target",
    "nll_loss target out of range", "cross_entropy float target of another shape", "cross_entropy integer input",
    "nll_loss weight dtype", "mse_loss shapes", "mse_loss integer input", "l1_loss shapes",
    "binary_cross_entropy input > 1", "multi_margin_loss target out of range", "multi_margin_loss weight size",
    "multilabel_margin_loss target out of range", "poisson_nll_loss shapes", "gaussian_nll_loss negative var",
    "ctc_loss blank out of range", "cosine_embedding_loss shapes", "triplet_margin_loss shapes",
    "margin_ranking_loss shapes", "kl_div reduction",
]


def _raised(call) -> BaseException:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the class is what is checked
        return exc
    raise AssertionError("no exception raised")


@pytest.mark.parametrize("case", _TORCH_CASE_NAMES)
def test_torch_errors_are_catchable_as_torchs(case):
    require("torch")
    import torch

    import multiloss.torch as mt
    import multiloss.torch.functional as mF

    functional, module = _torch_cases()[case]
    fname = case.split()[0]
    forms = [(functional, torch.nn.functional, mF, fname)]
    if module is not None:
        forms.append((module, torch.nn, mt, None))
    for call, native_mod, ml_mod, name in forms:
        native = _raised(lambda: call(native_mod))
        ours = _raised(lambda: call(ml_mod))
        assert isinstance(ours, type(native)), (
            f"{case}: torch raises {type(native).__name__} ({native}); multiloss "
            f"{[c.__name__ for c in type(ours).__mro__]} ({ours})")
        assert isinstance(ours, (ValueError, TypeError)), type(ours).__mro__  # multiloss's class kept
        if name is not None:  # multiloss's message: the function first, then the argument
            assert str(ours).startswith(f"{name}: argument") or str(ours).startswith(f"{name}: "), str(ours)


def test_torch_case_table_is_complete():
    require("torch")
    assert sorted(_torch_cases()) == sorted(_TORCH_CASE_NAMES)


def test_torch_error_keeps_the_traceback_of_the_check():
    require("torch")
    import torch

    import multiloss.torch.functional as mF

    exc = _raised(lambda: mF.huber_loss(torch.zeros(2), torch.zeros(2), delta=0.0))
    import traceback

    frames = [f.filename.replace(os.sep, "/") for f in traceback.extract_tb(exc.__traceback__)]
    assert any(f.endswith("multiloss/losses/regression.py") for f in frames), frames


# --------------------------------------------------------------------------- keras (each backend)

KERAS_SCRIPT = textwrap.dedent(
    r"""
    import json, warnings
    import numpy as np


    def run():
        import keras
        import multiloss.keras as mk

        r = np.random.default_rng(0)
        f = lambda *s: r.random(s).astype("float32")
        y, x, y5 = f(3, 4), f(3, 4), f(3, 5)
        cases = {
            "MeanSquaredError shapes": lambda K: K.MeanSquaredError()(y, y5),
            "mean_squared_error shapes": lambda K: K.mean_squared_error(y, y5),
            "MeanAbsoluteError shapes": lambda K: K.MeanAbsoluteError()(y, y5),
            "KLDivergence shapes": lambda K: K.KLDivergence()(y5, x),
            "CosineSimilarity shapes": lambda K: K.CosineSimilarity()(y5, x),
            "Hinge shapes": lambda K: K.Hinge()(y5, x),
            "Huber shapes": lambda K: K.Huber()(y5, x),
            "SparseCategoricalCrossentropy label out of range":
                lambda K: K.SparseCategoricalCrossentropy(from_logits=True)(np.array([0, 1, 7]), x),
            "SparseCategoricalCrossentropy negative label":
                lambda K: K.SparseCategoricalCrossentropy(from_logits=True)(np.array([0, 1, -3]), x),
            "SparseCategoricalCrossentropy label shape":
                lambda K: K.SparseCategoricalCrossentropy()(np.array([0, 1]), x),
            "CategoricalCrossentropy shapes": lambda K: K.CategoricalCrossentropy()(y5, x),
            "BinaryCrossentropy shapes": lambda K: K.BinaryCrossentropy()(y5, x),
            "reduction": lambda K: K.MeanSquaredError(reduction="abc"),
        }
        out = {"backend": keras.backend.backend(), "checked": [], "failures": [], "native_accepts": []}
        for name, call in cases.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    call(keras.losses)
                except Exception as exc:
                    native = exc
                else:
                    out["native_accepts"].append(name)
                    continue
                try:
                    call(mk)
                except Exception as ours:
                    ok = isinstance(ours, type(native)) and isinstance(ours, (ValueError, TypeError))
                    out["checked"].append([name, type(native).__name__])
                    if not ok:
                        out["failures"].append(f"{name}: keras raises {type(native).__name__}, multiloss "
                                               f"{[c.__name__ for c in type(ours).__mro__]}: {ours}")
                else:
                    out["failures"].append(f"{name}: keras raises {type(native).__name__}, multiloss nothing")
        # SparseCategoricalCrossentropy(axis=0): the class axis first, (C=3, N=2); keras computes
        # it on its torch backend only (multiloss's documented extension)
        t = np.array([1, 2])
        p = np.array([[0.05, 0.1], [0.95, 0.8], [0.0, 0.1]], "float32")
        out["axis0"] = {}
        for from_logits in (False, True):
            ml = mk.SparseCategoricalCrossentropy(axis=0, from_logits=from_logits)(t, p)
            try:
                native = float(keras.ops.convert_to_numpy(
                    keras.losses.SparseCategoricalCrossentropy(axis=0, from_logits=from_logits)(t, p)))
            except Exception as exc:
                native = type(exc).__name__ + ": " + str(exc)[:80]
            out["axis0"][str(from_logits)] = [float(keras.ops.convert_to_numpy(ml)), native]
        return out


    if __name__ == "__main__":
        print("RESULT " + json.dumps(run()))
    """
)

_KERAS_FRAMEWORK = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


@pytest.fixture(scope="module")
def keras_runs():
    """Every keras backend: the one of this process here, the others in one subprocess each,
    started together (keras picks its backend once per process)."""
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    import keras

    here = keras.backend.backend()
    procs = {}
    for backend, module in _KERAS_FRAMEWORK.items():
        if backend == here or importlib.util.find_spec(module) is None:
            continue
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
        procs[backend] = subprocess.Popen([sys.executable, "-c", KERAS_SCRIPT], stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True, env=env)
    namespace: dict = {"__name__": "keras_error_cases"}
    exec(KERAS_SCRIPT, namespace)  # noqa: S102 - the script above, in this process's backend
    results = {here: namespace["run"]()}
    for backend, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
        results[backend] = (json.loads(lines[-1][len("RESULT "):]) if proc.returncode == 0 and lines
                            else {"error": stderr[-3000:]})
    return results


@pytest.mark.parametrize("backend", list(_KERAS_FRAMEWORK))
def test_keras_errors_are_catchable_as_keras_on_each_backend(keras_runs, backend):
    if backend not in keras_runs:
        pytest.skip(f"{backend} is not installed")
    r = keras_runs[backend]
    assert "error" not in r, r.get("error")
    assert r["backend"] == backend
    assert not r["failures"], "\n".join(r["failures"])
    assert len(r["checked"]) >= 8, r  # the cases native keras rejects were compared
    classes = {c for _, c in r["checked"]}
    # what the backend's own op raises for shapes that do not broadcast (keras does not check)
    assert {"tensorflow": "InvalidArgumentError", "jax": "TypeError", "torch": "RuntimeError"}[backend] in classes


def test_keras_tensorflow_error_is_an_invalid_argument_error_and_pickles():
    pytest.importorskip("keras")
    require("tensorflow")
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        pytest.skip("keras runs on another backend in this process")
    import multiloss.keras as mk

    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        mk.mean_squared_error(tf.zeros((3, 4)), tf.zeros((3, 5)))
    exc = info.value
    assert isinstance(exc, E.ShapeError) and str(exc).startswith("mean_squared_error: Arguments `y_true`")
    assert exc.message == str(exc)  # TensorFlow's OpError attribute
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == str(exc)


# keras-on-torch (keras 3.15, torch 2.13) for the inputs of the script's "axis0" case:
# probabilities (from_logits=False) and the same numbers as logits
AXIS0_KERAS_ON_TORCH = {"False": 1.1769392490386963, "True": 0.9868950843811035}


@pytest.mark.parametrize("backend", list(_KERAS_FRAMEWORK))
def test_keras_scce_axis_extension(keras_runs, backend):
    """``SparseCategoricalCrossentropy(axis=0)``: keras's TF backend raises "Only axis=-1 is
    currently supported", its jax backend a shape error, its torch backend computes it;
    multiloss accepts it on every backend with keras-on-torch's numbers (documented in the
    class's docstring)."""
    if backend not in keras_runs:
        pytest.skip(f"{backend} is not installed")
    r = keras_runs[backend]
    assert "error" not in r, r.get("error")
    for key, want in AXIS0_KERAS_ON_TORCH.items():
        ml, native = r["axis0"][key]
        assert ml == pytest.approx(want, rel=1e-6), (backend, key, ml)
        if backend == "torch":
            assert native == pytest.approx(ml, rel=1e-6), native
        elif backend == "tensorflow":
            assert str(native).startswith("ValueError: Only axis=-1"), native
        else:
            assert isinstance(native, str), native  # keras-on-jax rejects it


def test_keras_scce_axis_is_documented():
    pytest.importorskip("keras")
    require("tensorflow")
    import multiloss.keras as mk

    doc = mk.SparseCategoricalCrossentropy.__doc__
    assert "``axis``" in doc and "Only axis=-1 is currently supported" in doc and "keras-on-torch" in doc


# --------------------------------------------------------------------------- optax


def _optax_cases():
    import jax.numpy as jnp

    r = np.random.default_rng(0)
    x = jnp.asarray(r.random((3, 4)), jnp.float32)
    y5 = jnp.asarray(r.random((3, 5)), jnp.float32)
    return {
        "squared_error shapes": lambda L: L.squared_error(x, y5),
        "l2_loss shapes": lambda L: L.l2_loss(x, y5),
        "huber_loss shapes": lambda L: L.huber_loss(x, y5),
        "log_cosh shapes": lambda L: L.log_cosh(x, y5),
        "softmax_cross_entropy shapes": lambda L: L.softmax_cross_entropy(x, y5),
        "softmax_cross_entropy_with_integer_labels shapes":
            lambda L: L.softmax_cross_entropy_with_integer_labels(x, jnp.array([0, 1])),
        "softmax_cross_entropy_with_integer_labels float labels":
            lambda L: L.softmax_cross_entropy_with_integer_labels(x, jnp.array([0.0, 1.0, 2.0])),
        "softmax_cross_entropy_with_integer_labels integer logits":
            lambda L: L.softmax_cross_entropy_with_integer_labels(jnp.ones((3, 4), jnp.int32), jnp.array([0, 1, 2])),
        "softmax_cross_entropy axis": lambda L: L.softmax_cross_entropy(x, x, axis=5),
        "sigmoid_binary_cross_entropy shapes": lambda L: L.sigmoid_binary_cross_entropy(x, y5),
        "sigmoid_focal_loss shapes": lambda L: L.sigmoid_focal_loss(x, y5),
        "kl_divergence shapes": lambda L: L.kl_divergence(x, y5),
        "cosine_similarity shapes": lambda L: L.cosine_similarity(x, y5),
        "hinge_loss shapes": lambda L: L.hinge_loss(x, y5),
    }


def test_jax_errors_are_catchable_as_optaxs():
    require("jax")
    pytest.importorskip("optax")
    import optax

    import multiloss.jax as mj

    failures, checked = [], 0
    for name, call in _optax_cases().items():
        native = _raised(lambda: call(optax.losses))
        ours = _raised(lambda: call(mj))
        checked += 1
        fn = name.split()[0]
        if not isinstance(ours, type(native)) or not str(ours).startswith(fn):
            failures.append(f"{name}: optax raises {type(native).__name__} ({native}), multiloss "
                            f"{[c.__name__ for c in type(ours).__mro__]} ({ours})")
    assert checked == len(_optax_cases())
    assert not failures, "\n".join(failures)


def test_jax_shape_error_is_a_type_error_like_jax():
    require("jax")
    import jax.numpy as jnp

    import multiloss.jax as mj

    with pytest.raises(TypeError, match="^sigmoid_binary_cross_entropy: argument 'labels'") as info:
        mj.sigmoid_binary_cross_entropy(jnp.zeros((2, 3)), jnp.zeros((2, 4)))
    assert isinstance(info.value, E.ShapeError) and isinstance(info.value, ValueError)
