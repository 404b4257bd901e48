"""Namespace resolution: ``import multiloss`` imports no framework; ``array_namespace`` caches by
array type, ignores scalars/None, rejects mixed libraries; the backend's ``_ops`` overrides
are loaded on first sight of its arrays."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import multiloss
from multiloss import _namespace
from multiloss._namespace import array_namespace, backend_name, is_array
from tests_conftest import namespace_of, to_xp

FRAMEWORKS = ("torch", "tensorflow", "jax", "jaxlib", "keras", "optax", "tf_keras", "flax")


def _fresh_import_report(code: str) -> dict:
    script = textwrap.dedent(
        """
        import json, sys, time
        t0 = time.perf_counter()
        {code}
        dt = time.perf_counter() - t0
        print(json.dumps({{"modules": sorted({{m.split(".")[0] for m in sys.modules}}), "seconds": dt}}))
        """
    ).format(code=code)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_multiloss_imports_no_framework():
    report = _fresh_import_report("import multiloss")
    loaded = set(report["modules"])
    assert "multiloss" in loaded
    assert not loaded & set(FRAMEWORKS), f"import multiloss imported {sorted(loaded & set(FRAMEWORKS))}"
    # nor other heavy optional libraries: numpy and array-api-compat are the only dependencies
    for heavy in ("scipy", "pandas", "array_api_strict", "hypothesis", "pytest"):
        assert heavy not in loaded, f"import multiloss imported {heavy}"
    # a plain NumPy loss call keeps it that way
    report = _fresh_import_report(
        "import numpy as np, multiloss as ml; ml.cross_entropy(np.zeros((2, 3)), np.array([0, 2])); "
        "ml.mse_loss(np.ones(3), np.zeros(3)); ml.kl_div(np.zeros(3), np.ones(3) / 3)"
    )
    assert not set(report["modules"]) & set(FRAMEWORKS)
    # (no timing assertion: the import takes ~0.1-0.3 s here; see the report printed with -s)
    print(f"import multiloss + three numpy losses: {report['seconds']:.3f} s")


def test_public_namespace():
    for name in multiloss.losses.__all__:
        assert callable(getattr(multiloss, name)) and getattr(multiloss, name).__doc__
    assert multiloss.array_namespace is array_namespace
    assert multiloss.ops.log_softmax is not None


# ----------------------------------------------------------------------------- resolution


def test_namespace_and_backend_name(xp):
    ns = namespace_of(xp)
    assert backend_name(ns) == xp
    assert array_namespace(to_xp(xp, np.ones(2)), to_xp(xp, np.arange(3))) is ns


def test_cache_by_type(monkeypatch):
    x = np.ones(3)
    ns = array_namespace(x)
    assert _namespace._TYPE_CACHE[type(x)] is ns

    def boom(_):
        raise AssertionError("resolved again: the per-type cache was not used")

    monkeypatch.setattr(_namespace, "_resolve_type", boom)
    assert array_namespace(np.zeros((2, 2)), np.ones(1)) is ns


def test_cache_miss_resolves_once(monkeypatch):
    calls = []
    real = _namespace._resolve_type

    def counting(x):
        calls.append(type(x))
        return real(x)

    monkeypatch.setattr(_namespace, "_resolve_type", counting)
    monkeypatch.setattr(_namespace, "_TYPE_CACHE", {})
    for _ in range(5):
        array_namespace(np.ones(2), np.zeros(3))
    assert calls == [np.ndarray]


def test_cache_by_type_other_backends(xp):
    a = to_xp(xp, np.ones(2))
    ns = array_namespace(a)
    assert _namespace._TYPE_CACHE[type(a)] is ns


def test_scalars_and_none_are_ignored():
    x = np.ones(2)
    ns = array_namespace(x)
    assert array_namespace(None, 1, 2.5, x, True, None, 3j) is ns
    assert array_namespace(x, None) is ns
    assert not is_array(None) and not is_array(1.0) and is_array(x)


def test_only_scalars_raises():
    with pytest.raises(TypeError, match=r"my_loss: expected at least one array argument, got only scalars/None"):
        array_namespace(None, 1.0, fn="my_loss")
    with pytest.raises(TypeError, match=r"multiloss: expected at least one array"):
        array_namespace()


def test_non_array_raises():
    with pytest.raises(TypeError, match=r"multiloss: expected an array .* got builtins\.str"):
        array_namespace("not an array")


@pytest.mark.parametrize("other", ["torch", "array_api_strict", "jax", "tensorflow"])
def test_mixed_libraries_raise(other):
    from tests_conftest import require

    require(other)
    a, b = np.ones(2), to_xp(other, np.ones(2))
    with pytest.raises(TypeError, match=rf"my_loss: all arrays must come from one library, got numpy \(numpy\.ndarray\) "
                                        rf"and {other} \(.*\); convert them to one framework first"):
        array_namespace(a, b, fn="my_loss")
    with pytest.raises(TypeError, match=rf"my_loss: all arrays must come from one library, got {other} .* and numpy"):
        array_namespace(None, b, 2.0, a, fn="my_loss")


@pytest.mark.parametrize("name,ops_module", [("torch", "multiloss.backends.torch_ops"),
                                             ("jax", "multiloss.backends.jax_ops"),
                                             ("tensorflow", "multiloss.backends.tensorflow_ops")])
def test_ops_module_loaded_on_first_sight(name, ops_module):
    from tests_conftest import require

    require(name)
    from multiloss import _ops

    ns = namespace_of(name)
    assert ops_module in sys.modules
    assert name in _namespace._OPS_LOADED
    assert _ops.override_for(ns, "log_softmax") is not None


def test_ops_module_loaded_lazily_in_a_fresh_process():
    pytest.importorskip("torch")
    report = _fresh_import_report(
        "import multiloss, numpy as np; multiloss.mse_loss(np.ones(2), np.zeros(2)); "
        "assert 'multiloss.backends.torch_ops' not in sys.modules; "
        "import torch; multiloss.mse_loss(torch.ones(2), torch.zeros(2)); "
        "assert 'multiloss.backends.torch_ops' in sys.modules"
    )
    assert "torch" in report["modules"] and "jax" not in report["modules"] and "tensorflow" not in report["modules"]


def test_tensorflow_variables_and_tensors_share_the_namespace():
    from tests_conftest import require

    require("tensorflow")
    import tensorflow as tf

    t = tf.constant([1.0, 2.0])
    v = tf.Variable([1.0, 2.0])
    assert array_namespace(t) is array_namespace(v)
    assert backend_name(array_namespace(t, v)) == "tensorflow"
