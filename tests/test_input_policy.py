"""The input policy (issue 13, "Why" item 4; docs/input-policy.md): each adapter accepts and
promotes what its native accepts, and rejects what its native rejects, with errors that name
the function and the argument.

Two parts:

* the cases the issue reported, one test each (each failed before the policy was written);
* the policy held against the natives over their whole tables: every ``multiloss.torch`` entry
  with a ``torch.nn`` twin, every ``multiloss.keras`` class and function with a keras twin (TF
  backend) and every ``multiloss.jax`` function with an optax twin gets the same variants of
  valid inputs as its native (integer predictions, integer / bool / float64 targets, NumPy
  arrays, Python lists, a class weight of another dtype ...). Where the native accepts, the
  adapter accepts with the native's value and dtype; where the native refuses, the adapter
  refuses -- except the documented extensions (``EXTENSIONS`` below, the table in
  docs/input-policy.md), where the native fails only inside its own arithmetic.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import warnings
from typing import Any, Callable

import numpy as np
import pytest

from tests_conftest import msg, require

rng = np.random.default_rng(0)
X = rng.normal(size=(4, 3)).astype(np.float32)
Y = rng.normal(size=(4, 3)).astype(np.float32)
LABELS = np.array([0, 2, 1, 2])


def _torch():
    require("torch")
    import torch

    import multiloss.torch as mt

    return torch, mt


def _keras():
    require("tensorflow")
    keras = pytest.importorskip("keras")
    import tensorflow as tf

    import multiloss.keras as mk

    return keras, tf, mk


def _jax():
    require("jax")
    import jax.numpy as jnp

    optax = pytest.importorskip("optax")
    import multiloss.jax as mj

    return jnp, optax, mj


def _outcome(f: Callable[[], Any]) -> tuple[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", f()
        except Exception as exc:  # noqa: BLE001 - the native's class is what is compared
            return "error", exc


# ============================================================================ the reported cases


@pytest.mark.parametrize("name", ["MSELoss", "L1Loss", "SmoothL1Loss", "PoissonNLLLoss"])
def test_torch_integer_predictions_are_promoted_as_torch(name):
    """torch computes ``mse_loss(int64, float32)`` in float32 and ``mse_loss(float32, float64)``
    in float64; multiloss refused the first and computed the second in float32."""
    torch, mt = _torch()
    x_int, y = torch.tensor([[1, 2], [3, 4]]), torch.tensor([[1.0, 2.5], [3.0, 5.0]])
    for a, b in ((x_int, y), (y, y.double()), (x_int, y.double())):
        want = getattr(torch.nn, name)()(a, b)
        got = getattr(mt, name)()(a, b)
        assert got.dtype == want.dtype, (a.dtype, b.dtype)
        torch.testing.assert_close(got, want)
    fn = getattr(mt.functional, getattr(mt, name)._entry.functional)
    torch.testing.assert_close(fn(x_int, y), getattr(torch.nn.functional, fn.__name__)(x_int, y))
    # integer input *and* target: torch computes poisson_nll_loss (in float32), not the others
    # ("mse_cpu" not implemented for 'Long')
    native = _outcome(lambda: getattr(torch.nn, name)()(x_int, x_int))
    if native[0] == "ok":
        got = getattr(mt, name)()(x_int, x_int)
        assert got.dtype == native[1].dtype
        torch.testing.assert_close(got, native[1])
    else:
        assert isinstance(native[1], RuntimeError)
        with pytest.raises(TypeError, match=msg("argument 'input'", "floating")) as info:
            getattr(mt, name)()(x_int, x_int)
        assert isinstance(info.value, RuntimeError)  # torch's class too


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "MultiMarginLoss"])
@pytest.mark.parametrize("wdtype", ["float64", "float16", "int64"])
def test_torch_class_weight_of_another_dtype_is_refused(name, wdtype):
    """torch: ``expected scalar type Float but found Double``; multiloss accepted it silently."""
    torch, mt = _torch()
    x, y = torch.randn(4, 3), torch.tensor(LABELS)
    w = torch.ones(3, dtype=getattr(torch, wdtype))
    with pytest.raises(RuntimeError):
        getattr(torch.nn, name)(weight=w)(x, y)
    with pytest.raises(TypeError, match=msg(f"{name}: argument 'weight' must have the dtype of 'input' (float32)",
                                            f"got {wdtype}")) as info:
        getattr(mt, name)(weight=w)(x, y)
    assert isinstance(info.value, RuntimeError)
    fn = getattr(mt.functional, getattr(mt, name)._entry.functional)
    with pytest.raises(RuntimeError, match=msg(f"{fn.__name__}: argument 'weight' must have the dtype of 'input'")):
        fn(x, y, weight=w)
    # the module's weight buffer follows .double(), as torch's: then the dtypes agree again
    torch.testing.assert_close(getattr(mt, name)(weight=w.double())(x.double(), y),
                               getattr(torch.nn, name)(weight=w.double())(x.double(), y))


def test_torch_bce_is_strict_about_dtypes_and_casts_its_weight():
    """torch's ``binary_cross_entropy`` wants a target of the input's dtype and computes a
    weight of another dtype in the input's (a float32 result)."""
    torch, mt = _torch()
    p, t = torch.rand(4, 3), (torch.rand(4, 3) > 0.5).float()
    for target in (t.double(), t.long(), t.bool()):
        with pytest.raises(RuntimeError):
            torch.nn.functional.binary_cross_entropy(p, target)
        with pytest.raises(RuntimeError, match=msg("binary_cross_entropy: argument 'target' must have the dtype of 'input'")):
            mt.functional.binary_cross_entropy(p, target)
    w = torch.rand(4, 3, dtype=torch.float64)
    want = torch.nn.BCELoss(weight=w)(p, t)
    got = mt.BCELoss(weight=w)(p, t)
    assert got.dtype == want.dtype == torch.float32
    torch.testing.assert_close(got, want)


def test_torch_requires_tensors_and_one_device():
    torch, mt = _torch()
    x = torch.randn(4, 3)
    for bad, kind in ((X, "numpy.ndarray"), (X.tolist(), "builtins.list"), (1.5, "builtins.float"), (None, "builtins.NoneType")):
        with pytest.raises(TypeError, match=msg(f"MSELoss: argument 'target' must be a torch.Tensor; got {kind}")):
            mt.MSELoss()(x, bad)
        with pytest.raises(TypeError, match=msg(f"mse_loss: argument 'input' must be a torch.Tensor; got {kind}")):
            mt.functional.mse_loss(bad, x)
    with pytest.raises(ValueError, match=msg("CrossEntropyLoss: all tensors must be on one device",
                                             "'input' on meta", "'target' on cpu")) as info:
        mt.CrossEntropyLoss()(x.to("meta"), torch.tensor(LABELS))
    assert isinstance(info.value, RuntimeError)  # torch: "Expected all tensors to be on the same device"
    # a 0-d CPU tensor beside another device's tensors is a scalar to torch: let through
    with pytest.warns(UserWarning, match="broadcast"):  # torch warns on the shapes too
        assert mt.functional.mse_loss(x.to("meta"), torch.tensor(0.5)).device.type == "meta"


def test_keras_functions_compute_on_integer_predictions():
    """keras's ``mean_squared_error`` of integer lists is a float32; multiloss refused it. The
    labels are cast to the predictions' dtype first (truncated), as keras does."""
    keras, tf, mk = _keras()
    for y_true, y_pred in (([[1, 2], [3, 4]], [[1, 3], [3, 5]]), (Y, np.round(X * 3).astype(np.int64))):
        for name in ("mean_squared_error", "mean_absolute_error", "mean_squared_logarithmic_error"):
            want = getattr(keras.losses, name)(y_true, y_pred)
            got = getattr(mk, name)(y_true, y_pred)
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_keras_integer_predictions_are_not_reported_swapped():
    """``mk.BinaryCrossentropy`` with integer predictions said "the arguments look swapped";
    keras converts both arguments to the loss dtype and computes."""
    keras, tf, mk = _keras()
    y_true = tf.constant([[0.2, 0.9], [0.6, 0.1]])
    y_pred = tf.constant([[0, 1], [1, 0]])
    for name in ("BinaryCrossentropy", "CategoricalCrossentropy", "Hinge", "BinaryFocalCrossentropy"):
        want = getattr(keras.losses, name)()(y_true, y_pred)
        np.testing.assert_allclose(getattr(mk, name)()(y_true, y_pred).numpy(), want.numpy(), rtol=1e-6)
    # swapped class indices are still reported by their shapes: (N, C) scores as y_true
    with pytest.raises(ValueError, match="look swapped"):
        mk.SparseCategoricalCrossentropy(from_logits=True)(tf.constant(X), tf.constant(LABELS))


def test_keras_python_lists_where_keras_takes_them():
    """keras's MSE class takes lists (ours raised); its SCCE refuses them (ours crashed with
    ``AttributeError: 'list' object has no attribute 'shape'``): the same, named."""
    keras, tf, mk = _keras()
    t, p = Y.tolist(), X.tolist()
    np.testing.assert_allclose(mk.MeanSquaredError()(t, p).numpy(), keras.losses.MeanSquaredError()(t, p).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(mk.mean_squared_error(t, p).numpy(), keras.losses.mean_squared_error(t, p).numpy(),
                               rtol=1e-6)
    probs = np.abs(X) / np.abs(X).sum(-1, keepdims=True)
    for call in (lambda m: m.SparseCategoricalCrossentropy()(LABELS.tolist(), probs.tolist()),
                 lambda m: m.sparse_categorical_crossentropy(LABELS.tolist(), probs)):
        assert _outcome(lambda: call(keras.losses))[0] == "error"
        with pytest.raises(TypeError, match=msg("argument 'y_true'", "Python list")):
            call(mk)
    # a class pairs y_true and y_pred leaf by leaf: a list only opposite a list of one nesting
    assert _outcome(lambda: keras.losses.MeanSquaredError()(t, tf.constant(X)))[0] == "error"
    with pytest.raises(TypeError, match=msg("MeanSquaredError: argument 'y_true' is a Python list")):
        mk.MeanSquaredError()(t, tf.constant(X))


def test_jax_refuses_lists_and_other_frameworks_as_optax():
    """optax: ``TypeError`` for lists (``Cannot determine dtype``) and torch tensors; multiloss
    converted them silently. NumPy arrays and Python scalars are optax's ArrayLike: accepted."""
    jnp, optax, mj = _jax()
    x, y = jnp.asarray(X), jnp.asarray(Y)
    bad = [(X.tolist(), "builtins.list")]
    if importlib.util.find_spec("torch") is not None:
        import torch

        bad.append((torch.tensor(X), "torch.Tensor"))
    for value, kind in bad:
        for args, arg in (((value, y), "predictions"), ((x, value), "targets")):
            assert _outcome(lambda: optax.losses.squared_error(*args))[0] == "error"
            with pytest.raises(TypeError, match=msg(f"squared_error: argument '{arg}' must be a jax array", f"got {kind}")):
                mj.squared_error(*args)
    np.testing.assert_allclose(mj.huber_loss(X, 0.5), optax.losses.huber_loss(X, 0.5), rtol=1e-6)
    with pytest.raises(TypeError, match=msg("softmax_cross_entropy_with_integer_labels: argument 'labels'", "got None")):
        mj.softmax_cross_entropy_with_integer_labels(x, None)


def test_jax_reduction_keyword_names_the_function():
    """``mj.<fn>(..., reduction=...)`` failed inside ``inspect.bind`` with no function name."""
    jnp, optax, mj = _jax()
    with pytest.raises(TypeError):
        optax.losses.squared_error(jnp.asarray(X), jnp.asarray(Y), reduction="mean")
    with pytest.raises(TypeError, match=msg("squared_error: got an unexpected keyword argument 'reduction'",
                                            "per-example and unreduced", ".mean()")):
        mj.squared_error(jnp.asarray(X), jnp.asarray(Y), reduction="mean")
    with pytest.raises(TypeError, match=msg("huber_loss: missing a required argument: 'predictions'")):
        mj.huber_loss()


def test_jax_integer_predictions_and_targets_as_optax():
    """optax computes on integer predictions in its margin losses (``hinge_loss``) and refuses
    them elsewhere (``check_subdtype``); it refuses integer targets of ``kl_divergence``."""
    jnp, optax, mj = _jax()
    p_int, signs = jnp.asarray(np.round(X * 3).astype(np.int32)), jnp.asarray(np.sign(Y))
    np.testing.assert_allclose(mj.hinge_loss(p_int, signs), optax.losses.hinge_loss(p_int, signs), rtol=1e-6)
    assert _outcome(lambda: optax.losses.squared_error(p_int, signs))[0] == "error"
    with pytest.raises(TypeError, match=msg("squared_error", "'predictions' must be a real floating-point")):
        mj.squared_error(p_int, signs)
    logp, counts = jax_log_softmax(jnp, X), jnp.asarray(np.ones((4, 3), dtype=np.int32))
    assert _outcome(lambda: optax.losses.kl_divergence(logp, counts))[0] == "error"
    with pytest.raises(TypeError, match=msg("kl_divergence: argument 'targets' must be a floating-point array")):
        mj.kl_divergence(logp, counts)


def jax_log_softmax(jnp, x):
    import jax

    return jax.nn.log_softmax(jnp.asarray(x), axis=-1)


def test_jax_two_float_dtypes_promote_as_optax():
    """Under ``jax_enable_x64`` optax's arithmetic promotes float32 predictions and float64
    targets to float64 (multiloss computed in float32); ``sigmoid_binary_cross_entropy`` casts
    its labels to the logits' dtype, and so does multiloss."""
    jnp, optax, mj = _jax()
    import jax

    if not jax.config.jax_enable_x64:  # tests/conftest.py switches it on for the whole session
        jax.config.update("jax_enable_x64", True)
    x, y64 = jnp.asarray(X), jnp.asarray(Y.astype(np.float64))
    for name in ("squared_error", "huber_loss", "log_cosh", "softmax_cross_entropy", "cosine_distance"):
        want, got = getattr(optax.losses, name)(x, y64), getattr(mj, name)(x, y64)
        assert got.dtype == want.dtype == jnp.float64, name
        np.testing.assert_allclose(got, want, rtol=1e-6)
    labels = jnp.asarray((Y > 0).astype(np.float64))
    want, got = optax.losses.sigmoid_binary_cross_entropy(x, labels), mj.sigmoid_binary_cross_entropy(x, labels)
    assert got.dtype == want.dtype == jnp.float32


def test_canonical_functions_name_the_function_and_the_argument():
    """``multiloss.<fn>`` on a list said "expected an array ... got builtins.list" and named
    neither; ``None`` or a number where an array is required raised ``AttributeError``."""
    import multiloss as ml

    for bad, kind in (([1.0, 2.0, 3.0], "builtins.list"), ("abc", "builtins.str"), ({"a": 1}, "builtins.dict")):
        with pytest.raises(TypeError, match=msg("mse_loss: argument 'target' is not an array", f"got {kind}")):
            ml.mse_loss(np.ones(3), bad)
    for bad, kind in ((None, "None"), (1.5, "builtins.float 1.5")):
        with pytest.raises(TypeError, match=msg("cross_entropy: argument 'input' is not an array", f"got {kind}")):
            ml.cross_entropy(bad, LABELS)
    with pytest.raises(TypeError, match=msg("margin_ranking_loss: argument 'target' is not an array", "got None")):
        ml.margin_ranking_loss(np.ones(3), np.ones(3), None)
    # a number stands for an array in later positions (CTC's lengths)
    assert np.isfinite(ml.ctc_loss(np.log(np.full((3, 4), 0.25)), np.array([1, 2]), 3, 2))
    # optional arrays stay optional (weight=None ...), and keep working on the next call
    for _ in range(2):
        ml.cross_entropy(X.astype(np.float64), LABELS, weight=None)
    if importlib.util.find_spec("torch") is not None:
        import torch

        with pytest.raises(TypeError, match=msg("mse_loss: all arrays must come from one library",
                                                "argument 'input'", "argument 'target'")):
            ml.mse_loss(np.ones(3), torch.ones(3))


KERAS_JAX_SCCE = textwrap.dedent(
    r"""
    import json, warnings
    import numpy as np
    import keras, multiloss.keras as mk
    y = np.array([0, 2, 1]); p = np.array([[.7, .2, .1], [.1, .2, .7], [.2, .6, .2]], dtype="float32")
    out = {}
    for name, loss in (("native", keras.losses.SparseCategoricalCrossentropy()),
                       ("multiloss", mk.SparseCategoricalCrossentropy())):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            value = float(loss(y, p))
            value = float(loss(keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(p)))
        out[name] = {"value": value, "warnings": [str(m.message)[:120] for m in w]}
    print("RESULT " + json.dumps(out))
    """
)


def test_keras_on_jax_scce_emits_no_int64_warnings():
    """On keras's jax backend (``jax_enable_x64`` off) ``mk.SparseCategoricalCrossentropy``
    warned "dtype int64 requested in astype is not available" on every call; keras does not."""
    for module in ("keras", "jax"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64",)}
    env.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run([sys.executable, "-c", KERAS_JAX_SCCE], capture_output=True, text=True, env=env, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"subprocess failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["native"]["warnings"] == []
    assert out["multiloss"]["warnings"] == []
    assert abs(out["multiloss"]["value"] - out["native"]["value"]) < 1e-6


# ============================================================================ against the natives

# (entry, variant) -> why the adapter accepts what its native refuses (docs/input-policy.md,
# "Extensions"): the native fails inside its own arithmetic, not by a check of its contract
_BOOL_SUB = "torch subtracts a bool target (\"Subtraction ... with a bool tensor is not supported\")"
_INPLACE = "torch writes into an integer target in place (\"result type Float can't be cast to ... Long\")"
EXTENSIONS: dict[tuple[str, str], str] = {
    **{(n, "bool_target"): _BOOL_SUB for n in ("L1Loss", "F.l1_loss", "F.poisson_nll_loss", "PoissonNLLLoss",
                                                "MultiLabelSoftMarginLoss", "F.multilabel_soft_margin_loss",
                                                "BCEWithLogitsLoss", "F.binary_cross_entropy_with_logits")},
    **{(n, "int_target"): _INPLACE for n in ("BCEWithLogitsLoss", "F.binary_cross_entropy_with_logits")},
}
# keras's function forms on integer predictions: keras on TF fails inside its arithmetic for the
# losses that clip or scale y_pred by a float ("Cannot convert 1e-07 to EagerTensor of dtype
# int64"); keras on jax computes them: multiloss computes them everywhere (as on jax)
KERAS_INT_FN = "keras on TF fails inside its arithmetic on integer predictions; keras on jax computes"
# values that differ where both accept: keras computes on integer predictions in integer
# arithmetic in these (Huber's 0.5 becomes 0, MAPE divides by an integer epsilon of 0: inf)
KERAS_INT_VALUES = {"huber", "mean_absolute_percentage_error"}


def _compare(label: str, variant: str, ours: Callable[[], Any], native: Callable[[], Any], to_np, dtype_of,
             problems: list[str], extension: str | None = None, check_dtype: bool = True,
             check_value: bool = True) -> None:
    (so, vo), (sn, vn) = _outcome(ours), _outcome(native)
    if sn == "ok" and so != "ok":
        problems.append(f"{label}[{variant}]: native accepts, ours raises {type(vo).__name__}: {str(vo)[:150]}")
    elif sn == "error" and so == "ok" and extension is None:
        problems.append(f"{label}[{variant}]: native raises {type(vn).__name__} ({str(vn)[:80]}), ours accepts")
    elif sn == "ok" and so == "ok":
        a, b = to_np(vo), to_np(vn)
        if check_value and (a.shape != b.shape or not np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True)):
            problems.append(f"{label}[{variant}]: values differ (max abs {np.max(np.abs(a - b)) if a.shape == b.shape else a.shape})")
        if check_dtype and dtype_of(vo) != dtype_of(vn):
            problems.append(f"{label}[{variant}]: dtype {dtype_of(vo)}, native {dtype_of(vn)}")
    elif so == "error" and sn == "error" and not isinstance(vo, (TypeError, ValueError)):
        problems.append(f"{label}[{variant}]: ours raises {type(vo).__name__}, not a TypeError/ValueError")


def test_torch_policy_matches_torch():
    torch, mt = _torch()
    from multiloss.conformance import domains
    from multiloss.conformance.natives_torch import native_cases

    def t(a, dtype):
        return torch.as_tensor(np.asarray(a)).to(getattr(torch, dtype))

    problems: list[str] = []
    seen: set[str] = set()
    for case in native_cases():
        if case.name in seen:
            continue
        seen.add(case.name)
        data = domains.make(case.domain)
        if data.get("args"):
            continue
        pred, target = data["pred"], data["target"]
        flt = np.issubdtype(target.dtype, np.floating)

        def kw(dtype, case=case):
            return {k: (t(v, dtype) if isinstance(v, np.ndarray) else v) for k, v in case.kwargs.items()}

        tt = t(target, "float32" if flt else "int64")
        variants = {
            "int_pred": (t(np.round(pred * 3), "int64"), tt, kw("float32")),
            "int_pred_f64_target": (t(np.round(pred * 3), "int64"), t(target, "float64" if flt else "int64"), kw("float32")),
            "int_pred_int_target": (t(np.round(pred * 3), "int64"), t(np.round(target), "int64"), kw("float32")),
            "f64_pred": (t(pred, "float64"), tt, kw("float32")),
            "numpy_target": (t(pred, "float32"), target.astype(np.float32) if flt else target, kw("float32")),
            "list_target": (t(pred, "float32"), target.tolist(), kw("float32")),
        }
        if flt:
            variants.update({
                "int_target": (t(pred, "float32"), t(np.round(target), "int64"), kw("float32")),
                "bool_target": (t(pred, "float32"), t(target > 0.5, "bool"), kw("float32")),
                "f64_target": (t(pred, "float32"), t(target, "float64"), kw("float32")),
            })
        if any(isinstance(v, np.ndarray) for v in case.kwargs.values()):
            variants["weight_f64"] = (t(pred, "float32"), tt, kw("float64"))
            variants["weight_f16"] = (t(pred, "float32"), tt, kw("float16"))
        for variant, (p, y, k) in variants.items():
            _compare(case.name, variant, lambda: case.ours(**k)(p, y), lambda: case.native(**k)(p, y),
                     lambda v: v.detach().double().numpy(), lambda v: v.dtype, problems,
                     EXTENSIONS.get((case.name, variant)))
    assert len(seen) > 30
    assert not problems, "\n".join(problems)


def test_keras_policy_matches_keras():
    keras, tf, mk = _keras()
    from multiloss.backends.keras_table import TABLE
    from multiloss.conformance import domains
    from multiloss.conformance.natives_keras import fn_checks_of

    problems: list[str] = []
    count = 0
    for row in TABLE:
        if not (row.keras_native and row.checks and row.inputs == ("y_true", "y_pred")):
            continue
        check = row.checks[0]
        data = domains.make(check.domain.split("+")[0])
        kw = {k: v for k, v in check.options[0].items() if k != "reduction"}
        if data.get("args") or any(isinstance(v, np.ndarray) for v in kw.values()):
            continue
        p, y = data["pred"].astype(np.float32), data["target"]
        yf = y.astype(np.float32) if np.issubdtype(y.dtype, np.floating) else y
        variants = {
            "int_pred": (yf, np.round(p * 3).astype(np.int64)),
            "lists": (yf.tolist(), p.tolist()),
            "list_true": (yf.tolist(), tf.constant(p)),
            "list_pred": (tf.constant(yf), p.tolist()),
            "numpy": (yf, p),
            "f64_true": (y.astype(np.float64) if y.dtype.kind == "f" else y, tf.constant(p)),
        }
        if y.dtype.kind == "f":
            variants["bool_true"] = (y > 0.5, tf.constant(p))
        forms = [("class", getattr(mk, row.cls)(**kw), getattr(keras.losses, row.native or row.cls)(**{**row.native_options, **kw}))]
        if hasattr(keras.losses, row.fn):
            fkw = {k: v for k, v in (fn_checks_of(row)[0].options[0] if fn_checks_of(row) else {}).items() if k != "reduction"}
            forms.append(("fn", lambda a, b, f=getattr(mk, row.fn), kw=fkw: f(a, b, **kw),
                          lambda a, b, f=getattr(keras.losses, row.fn), kw=fkw: f(a, b, **kw)))
        for form, ours, native in forms:
            label = row.cls if form == "class" else row.fn
            for variant, (a, b) in variants.items():
                count += 1
                ext = KERAS_INT_FN if (form == "fn" and variant == "int_pred") else None
                _compare(label, variant, lambda: ours(a, b), lambda: native(a, b),
                         lambda v: np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64),
                         lambda v: keras.backend.standardize_dtype(v.dtype), problems, ext,
                         check_value=not (form == "fn" and variant == "int_pred" and row.fn in KERAS_INT_VALUES),
                         check_dtype=not (form == "fn" and variant == "int_pred" and row.fn in KERAS_INT_VALUES))
    assert count > 150
    assert not problems, "\n".join(problems)


def test_jax_policy_matches_optax():
    jnp, optax, mj = _jax()
    from multiloss.conformance import domains
    from multiloss.conformance.natives_jax import native_cases

    problems: list[str] = []
    seen: set[str] = set()
    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch
    for case in native_cases():
        if case.name in seen:
            continue
        seen.add(case.name)
        data = domains.make(case.domain)
        if data.get("args") or case.staged or any(not isinstance(v, (int, float, bool, str, type(None)))
                                                    for v in case.kwargs.values()):
            continue
        p, y = data["pred"].astype(np.float32), data["target"]
        yf = y.astype(np.float32) if y.dtype.kind == "f" else y
        variants = {
            "int_pred": (jnp.asarray(np.round(p * 3).astype(np.int32)), jnp.asarray(yf)),
            "numpy": (p, yf),
            "lists": (p.tolist(), yf.tolist()),
            "list_target": (jnp.asarray(p), yf.tolist()),
        }
        if y.dtype.kind == "f":
            variants["int_target"] = (jnp.asarray(p), jnp.asarray(np.round(y).astype(np.int32)))
            variants["bool_target"] = (jnp.asarray(p), jnp.asarray(y > 0.5))
        if torch is not None:
            variants["torch_target"] = (jnp.asarray(p), torch.tensor(yf))
        for variant, (a, b) in variants.items():
            # dtypes are not compared: under jax_enable_x64 (the suite's) several optax functions
            # return float64 for float32 input (a float64 default inside); docs/input-policy.md
            _compare(case.name, variant, lambda: case.ours(**case.kwargs)(a, b),
                     lambda: case.native(**case.kwargs)(a, b), lambda v: np.asarray(v, dtype=np.float64),
                     lambda v: v.dtype, problems, None, check_dtype=False)
    assert len(seen) > 25
    assert not problems, "\n".join(problems)
