"""The value-check switch (:mod:`multiloss.checks`, docs/checks.md; issue 12 "What to build"
item 1, issue 13 "Why" item 5).

* the API: ``set_value_checks`` / ``value_checks`` / ``get_value_checks`` and the environment
  variable ``MULTILOSS_VALUE_CHECKS``;
* every mode on host arrays of every backend (``xp`` fixture): a label out of range, a
  probability outside [0, 1], a negative Poisson target -- read and reported with the value
  in ``auto``/``strict``/``traced``, not looked at in ``off``;
* checks that survive tracing: ``jax.experimental.checkify`` under ``jax.jit``, graph
  assertions in ``tf.function``, ``torch._assert_async`` under ``torch.compile``; plain
  ``jax.jit`` in every mode;
* no host synchronisation: every torch loss of ``multiloss.torch`` forward+backward on CUDA
  under ``torch.cuda.set_sync_debug_mode("error")`` (skipped without CUDA), and its CPU proof
  here: CPU tensors counted as accelerator arrays (``checks._as_accelerator``) with every host
  read of a tensor (``item``, ``tolist``, ``bool``, ``int``, ``float`` ...) raising.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import multiloss as ml
from multiloss import _ops, checks
from multiloss.errors import IndexRangeError, OptionError
from tests_conftest import msg, require, to_numpy, to_xp

LOGITS = np.array([[1.0, -0.5, 0.3], [0.2, 0.1, -1.0], [2.0, 0.0, 0.5], [-0.3, 0.8, 0.1]])
BAD_LABELS = np.array([0, 2, 7, 1])  # 7: outside [0, 3)
GOOD_LABELS = np.array([0, 2, 1, 1])
BAD_PROBS = np.array([0.2, 1.5, 0.7])
BINARY = np.array([0.0, 1.0, 1.0])
RATE = np.array([0.5, -0.2, 1.0])
BAD_COUNTS = np.array([1.0, -2.0, 0.0])


@pytest.fixture(autouse=True)
def _restore_mode():
    previous = checks.get_value_checks()
    yield
    checks.set_value_checks(previous)


# ------------------------------------------------------------------------------ the API


def test_default_mode_and_exports():
    assert checks.get_value_checks() == "auto"  # (the suite runs without MULTILOSS_VALUE_CHECKS)
    assert checks.MODES == ("auto", "strict", "traced", "off")
    for name in ("set_value_checks", "get_value_checks", "value_checks"):
        assert getattr(ml, name) is getattr(checks, name) and name in ml.__all__


def test_set_value_checks_returns_the_previous_mode():
    assert ml.set_value_checks("off") == "auto"
    assert ml.get_value_checks() == "off"
    assert ml.set_value_checks("strict") == "off"
    assert ml.get_value_checks() == "strict"


def test_context_manager_nests_and_restores_even_on_error():
    with ml.value_checks("off"):
        assert ml.get_value_checks() == "off"
        with ml.value_checks("traced") as mode:
            assert mode == "traced" and ml.get_value_checks() == "traced"
        assert ml.get_value_checks() == "off"
        with pytest.raises(KeyError):
            with ml.value_checks("strict"):
                raise KeyError("inside")
        assert ml.get_value_checks() == "off"
        ml.set_value_checks("strict")  # the process-wide default: the block still wins
        assert ml.get_value_checks() == "off"
    assert ml.get_value_checks() == "strict"


def test_context_manager_is_per_thread():
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def other():
        inside.wait(5)
        seen["other"] = ml.get_value_checks()
        release.set()

    t = threading.Thread(target=other)
    t.start()
    with ml.value_checks("off"):
        inside.set()
        release.wait(5)
        seen["here"] = ml.get_value_checks()
    t.join(5)
    assert seen == {"here": "off", "other": "auto"}


@pytest.mark.parametrize("bad", ["Off", "none", None, 0, True])
def test_unknown_modes_are_rejected_with_the_choices(bad):
    with pytest.raises(ValueError, match=msg("set_value_checks", "'auto', 'strict', 'traced', 'off'", repr(bad))):
        ml.set_value_checks(bad)
    with pytest.raises(ValueError, match=msg("value_checks", repr(bad))):
        with ml.value_checks(bad):
            pass  # pragma: no cover
    assert ml.get_value_checks() == "auto"


def _import_with_env(value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MULTILOSS_VALUE_CHECKS=value)
    code = "import multiloss, sys; print(multiloss.get_value_checks()); print(sorted(k for k in sys.modules if k in ('torch', 'jax', 'tensorflow')))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_environment_variable_is_read_at_import():
    out = _import_with_env("off")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["off", "[]"]  # and no framework imported
    assert _import_with_env(" Strict ").stdout.splitlines()[0] == "strict"
    assert _import_with_env("").stdout.splitlines()[0] == "auto"
    bad = _import_with_env("sometimes")
    assert bad.returncode != 0
    assert "MULTILOSS_VALUE_CHECKS" in bad.stderr and "'sometimes'" in bad.stderr and "'traced'" in bad.stderr


# ------------------------------------------------------- every mode on host arrays (xp fixture)


def _label_loss(xp, labels):
    # the class-index path of the canonical losses; with label smoothing the labels are one-hot
    # encoded (out-of-range labels encode as zeros), so with the check off nothing else fails
    return ml.categorical_focal_crossentropy(to_xp(xp, LOGITS), to_xp(xp, labels), from_logits=True,
                                             label_smoothing=0.1)


@pytest.mark.parametrize("mode", ["auto", "strict", "traced"])
def test_host_label_out_of_range_is_read_and_reported(xp, mode):
    with ml.value_checks(mode):
        with pytest.raises(IndexRangeError, match=msg("categorical_focal_crossentropy: argument 'target'",
                                                      "class indices in [0, 3)", "(e.g. 7)")):
            _label_loss(xp, BAD_LABELS)
        with pytest.raises(IndexRangeError, match=msg("cross_entropy: argument 'target'", "[0, 3)",
                                                      "ignore_index=-100", "(e.g. 7)")):
            ml.cross_entropy(to_xp(xp, LOGITS), to_xp(xp, BAD_LABELS))
        assert np.isfinite(to_numpy(_label_loss(xp, GOOD_LABELS)))


@pytest.mark.parametrize("mode", ["auto", "strict", "traced"])
def test_host_probability_outside_unit_interval_is_read_and_reported(xp, mode):
    with ml.value_checks(mode):
        for f in (ml.log_loss, ml.binary_cross_entropy):
            with pytest.raises(OptionError, match=msg(f"{f.__name__}: argument 'input'", "probabilities in [0, 1]",
                                                      "got values in [0.2, 1.5]")):
                f(to_xp(xp, BAD_PROBS), to_xp(xp, BINARY))


@pytest.mark.parametrize("mode", ["auto", "strict", "traced"])
def test_host_negative_poisson_target_is_read_and_reported(xp, mode):
    with ml.value_checks(mode):
        with pytest.raises(OptionError, match=msg("poisson_nll_loss: argument 'target'", ">= 0", "minimum of -2")):
            ml.poisson_nll_loss(to_xp(xp, RATE), to_xp(xp, BAD_COUNTS))


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_off_skips_every_value_check(xp):
    with ml.value_checks("off"):
        # the losses return: no check looked at the values (what comes back is the formula's)
        out = to_numpy(_label_loss(xp, BAD_LABELS))
        assert out.shape == () and np.isfinite(out)
        assert np.isnan(to_numpy(ml.log_loss(to_xp(xp, BAD_PROBS), to_xp(xp, BINARY))))  # log(1 - 1.5)
        expected = np.mean(np.exp(RATE) - BAD_COUNTS * RATE)
        np.testing.assert_allclose(to_numpy(ml.poisson_nll_loss(to_xp(xp, RATE), to_xp(xp, BAD_COUNTS))), expected)


def test_nan_probability_and_nan_variance_semantics_are_kept(xp):
    # nan is outside [0, 1] (torch's BCE rejects it); a nan variance passes (torch checks var < 0)
    with pytest.raises(OptionError, match=msg("log_loss: argument 'input'", "[0, 1]")):
        ml.log_loss(to_xp(xp, np.array([0.2, np.nan])), to_xp(xp, np.array([0.0, 1.0])))
    v = to_xp(xp, np.array([[0.5, np.nan]]))
    ml.gaussian_nll_loss(to_xp(xp, np.zeros((1, 2))), to_xp(xp, np.ones((1, 2))), v)


# ---------------------------------------------------------------- primitives and routing


def test_primitives_on_host_arrays(xp):
    ns = ml.array_namespace(to_xp(xp, np.zeros(2)))
    x = to_xp(xp, np.zeros(2))
    assert _ops.is_host(ns, x) is True
    # eager host arrays: no framework assertion is needed (or possible without a read) except
    # torch's, which is asynchronous on CUDA and raises at once on the CPU
    assert _ops.can_device_assert(ns, x) is (xp == "torch")


def test_value_route_by_mode():
    from multiloss._validation import ASSERT, READ, SKIP, value_route

    ns = ml.array_namespace(np.zeros(1))
    x = np.arange(3)
    expected = {"auto": READ, "strict": READ, "traced": READ, "off": SKIP}
    for mode, route in expected.items():
        with ml.value_checks(mode):
            assert value_route(ns, x) == route
            assert value_route(ns, x[:0]) == SKIP  # empty: nothing to check
    assert ASSERT not in expected.values()  # numpy has no device


# ------------------------------------------------- accelerator code path, run on CPU torch


def _torch_ns():
    require("torch")
    import torch

    return torch, ml.array_namespace(torch.zeros(1))


def test_accelerator_path_asserts_on_the_device_or_reads_back_in_strict():
    torch, ns = _torch_ns()
    logits, bad = torch.tensor(LOGITS), torch.tensor(BAD_LABELS)
    with checks._as_accelerator(ns):
        assert _ops.is_host(ns, logits) is False
        for mode in ("auto", "traced"):  # torch._assert_async: on the CPU it raises at once
            with ml.value_checks(mode):
                with pytest.raises(RuntimeError, match=msg("categorical_focal_crossentropy: argument 'target'",
                                                           "[0, 3)", "got a value out of range")) as info:
                    ml.categorical_focal_crossentropy(logits, bad, from_logits=True, label_smoothing=0.1)
                assert "e.g." not in str(info.value)  # the value is not read
                with pytest.raises(RuntimeError, match=msg("log_loss: argument 'input'", "[0, 1]")):
                    ml.log_loss(torch.tensor(BAD_PROBS), torch.tensor(BINARY))
                with pytest.raises(RuntimeError, match=msg("poisson_nll_loss: argument 'target'", ">= 0")):
                    ml.poisson_nll_loss(torch.tensor(RATE), torch.tensor(BAD_COUNTS))
                with pytest.raises(RuntimeError, match=msg("multilabel_margin_loss: argument 'target'", "[-1, 3)")):
                    ml.multilabel_margin_loss(logits, torch.tensor([[0, 5, -1]] * 4))
        with ml.value_checks("strict"):  # read back: the exact host message, with the value
            with pytest.raises(IndexRangeError, match=msg("argument 'target'", "(e.g. 7)")):
                ml.categorical_focal_crossentropy(logits, bad, from_logits=True, label_smoothing=0.1)
        with ml.value_checks("off"):
            assert torch.isfinite(ml.categorical_focal_crossentropy(logits, bad, from_logits=True, label_smoothing=0.1))
    assert _ops.is_host(ns, logits) is True  # the hook is undone


def test_ignore_index_outside_the_classes_is_asserted_elementwise():
    torch, ns = _torch_ns()
    logits = torch.tensor(LOGITS)
    with checks._as_accelerator(ns):
        # -100 is allowed, 7 is not: min/max cannot say it, the elementwise assertion does
        assert torch.isfinite(ml.sce_loss(logits, torch.tensor([0, -100, 2, 1]).clamp(0, 2)))
        from multiloss._validation import check_class_target_values

        assert check_class_target_values(ns, "f", logits, torch.tensor([0, -100, 2, 1]), 1, -100) is True
        with pytest.raises(RuntimeError, match=msg("f: argument 'target'", "or ignore_index=-100")):
            check_class_target_values(ns, "f", logits, torch.tensor([0, -100, 7, 1]), 1, -100)
        assert check_class_target_values(ns, "f", logits, torch.tensor([0, 2, 2, 1]), 1, None) is False


# ------------------------------------- every torch loss: no host read (CPU proof) / no sync (CUDA)

# ours-only arguments of the rows that own parameters (the shapes natives_torch.PAIRS gives
# their native twins: the class_* domains' (8, 5) inputs, 5 classes)
_MODULE_ARGS = {"LinearCrossEntropyLoss": (5, 5), "AdaptiveLogSoftmaxWithLoss": (5, 5, [2, 3], 2.0)}


def _torch_loss_cases(dtype):
    """(id, entry, options, domain) for every option set of every row of
    ``multiloss.backends.torch_table.TABLE`` (its native conformance grids, or its canonical
    loss's for the extras: ``natives_torch.checks_of``)."""
    from multiloss.backends.torch_table import TABLE
    from multiloss.conformance.natives_torch import checks_of

    for entry in TABLE:
        for check in checks_of(entry):
            for i, kw in enumerate(check.options):
                # a module takes arrays only as its buffers (CategoricalFocalLoss's per-class
                # alpha is a canonical option its torch module does not have)
                if any(isinstance(v, np.ndarray) and k not in entry.buffers for k, v in kw.items()):
                    continue
                yield f"{entry.name}[{check.domain}#{i},{dtype}]", entry, dict(kw), check.domain


def _build(torch, entry, kw, domain, dtype, device, native=False):
    """``(call, pred)``: the loss module (ours, or the native ``torch.nn`` twin) and a leaf
    prediction, every input on ``device``; ``call()`` is the loss, as a tensor to ``sum``."""
    import multiloss.torch as mt
    from multiloss.conformance import domains
    from multiloss.conformance.backends import get_backend
    from multiloss.conformance.runner import _tree

    backend = get_backend("torch")
    data = domains.make(domain)

    def on(v):
        return _tree(lambda a: backend.convert(a, dtype).to(device), v)

    pred = on(data["pred"]).detach().requires_grad_(True)
    target = on(data["target"])
    args = [on(a) for a in data.get("args", ())]
    kw = {k: on(v) for k, v in kw.items()}
    field = kw.pop("field", None)
    cls = getattr(torch.nn, entry.native) if native else getattr(mt, entry.name)
    if entry.name in _MODULE_ARGS:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            module = cls(*_MODULE_ARGS[entry.name], **kw)
    else:
        module = cls(**kw)
    module = module.to(device=device, dtype=getattr(torch, dtype))

    def call():
        out = module(pred, target, *args)
        return getattr(out, field) if field else out

    return call, pred


_HOST_READS = ("item", "tolist", "numpy", "__bool__", "__int__", "__float__", "__index__")


# bfloat16 too: half precision leaves some fused kernels for the canonical bodies (BCE)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_every_torch_loss_reads_no_accelerator_value_on_the_host(monkeypatch, dtype):
    """The CPU proof of the no-sync rule: CPU tensors count as accelerator arrays, and every way
    Python reads a tensor's values raises; each torch loss (every option set of every row) runs
    forward and backward in the default mode."""
    torch, ns = _torch_ns()
    cases = [(cid, _build(torch, entry, kw, domain, dtype, "cpu")) for cid, entry, kw, domain in _torch_loss_cases(dtype)]
    assert len(cases) > 200

    def reader(name):
        def read(self, *a, **k):
            raise AssertionError(f"host read: Tensor.{name}")

        return read

    failures = []
    with checks._as_accelerator(ns):
        for name in _HOST_READS:
            monkeypatch.setattr(torch.Tensor, name, reader(name))
        for cid, (call, pred) in cases:
            try:
                call().sum().backward()
            except Exception as exc:  # noqa: BLE001 - collected, reported together
                failures.append(f"{cid}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        monkeypatch.undo()
    assert not failures, f"{len(failures)} of {len(cases)} torch losses read values on the host:\n" + "\n".join(failures)


def _cuda():
    torch, _ = _torch_ns()
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the no-synchronisation test needs one (its CPU proof runs everywhere)")
    return torch


_SYNC = "synchronizing CUDA operation"  # torch's message (c10/cuda warn_or_error_on_sync)


def _sync_error(torch, call) -> str | None:
    """The message of the host synchronisation a forward+backward makes under
    ``set_sync_debug_mode("error")``, or ``None``; any other error propagates."""
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        call().sum().backward()
        return None
    except RuntimeError as exc:
        if _SYNC not in str(exc):
            raise
        return str(exc).splitlines()[0]
    finally:
        torch.cuda.set_sync_debug_mode("default")
        torch.cuda.synchronize()


def _native_syncs(torch, entry, kw, domain, dtype) -> bool:
    """Whether the native twin synchronises on the same inputs (in float32 where it lacks the
    dtype: CTCLoss has no bfloat16 CUDA kernel, and ours runs its float32 kernel then)."""
    if not entry.native:
        return False
    for dt in dict.fromkeys((dtype, "float32")):
        try:
            return _sync_error(torch, _build(torch, entry, kw, domain, dt, "cuda", native=True)[0]) is not None
        except Exception:  # noqa: BLE001 - the native does not run this dtype: try float32
            continue
    return False


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_every_torch_loss_runs_on_cuda_without_host_synchronisation(dtype):
    """Issue 12: with ``torch.cuda.set_sync_debug_mode("error")`` every torch loss runs forward and
    backward on CUDA. Where the native twin itself synchronises on the same inputs (CTCLoss
    copies its length tensors to the host), ours may too."""
    torch = _cuda()
    failures = []
    n = 0
    for cid, entry, kw, domain in _torch_loss_cases(dtype):
        call, _ = _build(torch, entry, kw, domain, dtype, "cuda")
        n += 1
        err = _sync_error(torch, call)
        if err is not None and not _native_syncs(torch, entry, kw, domain, dtype):
            failures.append(f"{cid}: {err}")
    assert n > 200
    assert not failures, f"{len(failures)} torch losses synchronise on CUDA where torch does not:\n" + "\n".join(failures)


# ------------------------------------------------------------ checks that survive tracing


def _jax():
    require("jax")
    import jax
    import jax.numpy as jnp
    from jax.experimental import checkify

    return jax, jnp, checkify


def test_jax_checkify_reports_a_label_out_of_range_under_jit_in_traced_mode():
    jax, jnp, checkify = _jax()
    x, bad, good = jnp.asarray(LOGITS), jnp.asarray(BAD_LABELS), jnp.asarray(GOOD_LABELS)
    with ml.value_checks("traced"):
        # a new function per test: jax.jit caches the trace, and the mode is read when tracing
        err, _ = checkify.checkify(jax.jit(lambda p, t: ml.cross_entropy(p, t)))(x, bad)
        assert err.get() is not None
        assert "cross_entropy: argument 'target' must hold class indices in [0, 3)" in err.get()
        err, _ = checkify.checkify(jax.jit(lambda p, t: ml.cross_entropy(p, t)))(x, good)
        assert err.get() is None
        # gradients and closed-over (concrete) labels, and an adapter: the same check
        import multiloss.jax as mj

        err, _ = checkify.checkify(jax.jit(jax.grad(lambda p: ml.cross_entropy(p, bad))))(x)
        assert "argument 'target'" in err.get()
        err, _ = checkify.checkify(jax.jit(lambda p, t: mj.softmax_cross_entropy_with_integer_labels(p, t)))(x, bad)
        assert "cross_entropy: argument 'target'" in err.get()
        # probabilities and counts too (and a message with braces survives checkify's format)
        err, _ = checkify.checkify(jax.jit(lambda p: ml.log_loss(p, jnp.asarray(BINARY))))(jnp.asarray(BAD_PROBS))
        assert "log_loss: argument 'input' must hold probabilities in [0, 1]" in err.get()
        err, _ = checkify.checkify(jax.jit(lambda p: ml.sparsemax_loss(p, jnp.asarray([0.0, 2.0]))))(jnp.zeros(2))
        assert "sparsemax_loss: argument 'target' must hold binary labels in {0, 1}" in err.get()


@pytest.mark.parametrize("mode", checks.MODES)
def test_plain_jax_jit_works_in_every_mode(mode):
    jax, jnp, _ = _jax()
    x = jnp.asarray(LOGITS)
    with ml.value_checks(mode):
        # no checkify: the checks are dropped (optax's behaviour), the program runs
        out = jax.jit(lambda p, t: ml.cross_entropy(p, t))(x, jnp.asarray(BAD_LABELS))
        assert out.shape == ()
        out = jax.jit(jax.grad(lambda p, t: ml.cross_entropy(p, t)))(x, jnp.asarray(GOOD_LABELS))
        assert np.all(np.isfinite(np.asarray(out)))
        out = jax.jit(jax.vmap(lambda p: ml.log_loss(p, jnp.asarray(BINARY))))(jnp.stack([jnp.asarray(BAD_PROBS)] * 2))
        assert out.shape == (2,)
        if mode != "off":  # eager concrete CPU arrays are still read and reported
            with pytest.raises(IndexRangeError, match=msg("cross_entropy: argument 'target'", "(e.g. 7)")):
                ml.cross_entropy(x, jnp.asarray(BAD_LABELS))


def test_jax_checkify_sees_no_check_outside_traced_mode():
    jax, jnp, checkify = _jax()
    x, bad = jnp.asarray(LOGITS), jnp.asarray(BAD_LABELS)
    for mode in ("auto", "strict", "off"):
        with ml.value_checks(mode):
            err, _ = checkify.checkify(jax.jit(lambda p, t: ml.cross_entropy(p, t)))(x, bad)
            assert err.get() is None, mode


def _tf():
    require("tensorflow")
    import tensorflow as tf

    return tf


def test_tf_function_asserts_in_the_graph_in_traced_mode():
    tf = _tf()
    x, bad = tf.constant(LOGITS), tf.constant(BAD_LABELS)

    def loss(p, t):  # one-hot labels: no gather that could fail on its own first
        return ml.categorical_focal_crossentropy(p, t, from_logits=True, label_smoothing=0.1)

    with ml.value_checks("traced"):
        with pytest.raises(tf.errors.InvalidArgumentError, match=msg("categorical_focal_crossentropy: argument",
                                                                      "target", "class indices in [0, 3)")):
            tf.function(loss)(x, bad)
        assert np.isfinite(tf.function(loss)(x, tf.constant(GOOD_LABELS)).numpy())
        with pytest.raises(tf.errors.InvalidArgumentError, match=msg("log_loss: argument", "input", "[0, 1]")):
            tf.function(lambda p: ml.log_loss(p, tf.constant(BINARY)))(tf.constant(BAD_PROBS))
        # XLA drops Assert ops (tf2xla: "Ignoring Assert operator"): under jit_compile=True the
        # value check vanishes, as docs/checks.md says
        assert np.isfinite(tf.function(loss, jit_compile=True)(x, bad).numpy())
    for mode in ("auto", "strict", "off"):  # no graph assertion outside "traced"
        with ml.value_checks(mode):
            assert np.isfinite(tf.function(loss)(x, bad).numpy())


def test_torch_compile_keeps_assert_async_in_traced_mode_only():
    torch, _ = _torch_ns()
    logits, bad, good = torch.tensor(LOGITS), torch.tensor(BAD_LABELS), torch.tensor(GOOD_LABELS)

    def loss(p, t):
        return ml.categorical_focal_crossentropy(p, t, from_logits=True, label_smoothing=0.1)

    loss(logits, good)  # resolve the namespace eagerly (an import is not traceable)
    torch._dynamo.reset()
    # one compiled function for every mode: dynamo guards on the mode and recompiles
    compiled = torch.compile(loss, backend="aot_eager", fullgraph=True)
    for mode in checks.MODES:
        with ml.value_checks(mode):
            assert torch.isfinite(compiled(logits, good))
            if mode == "traced":
                with pytest.raises(RuntimeError, match=msg("categorical_focal_crossentropy: argument 'target'", "[0, 3)")):
                    compiled(logits, bad)
            else:  # no value checks in a compiled graph
                assert torch.isfinite(compiled(logits, bad))
    torch._dynamo.reset()


# --------------------------------------------------------------------- docs/checks.md runs

_DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "checks.md")


def _doc_blocks():
    import re

    with open(_DOC) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


@pytest.mark.parametrize("i", range(len(_doc_blocks())))
def test_docs_checks_blocks_run(i, capsys):
    import re

    block = _doc_blocks()[i]
    for mod in ("torch", "jax", "tensorflow"):
        if re.search(rf"\bimport {mod}\b", block):
            require(mod)
    if "multiloss.keras" in block:
        require("tensorflow")
    exec(compile(block, _DOC, "exec"), {"__name__": "docs_checks"})
    out = capsys.readouterr().out
    if "print(" in block and "value_checks(" in block:  # each printed failure names its function and argument
        assert "argument " in out or "nan" in out, out  # (TensorFlow escapes the quotes)
