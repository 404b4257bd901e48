"""``multiloss bench --dtype``: every loss timed in each dtype, per backend (issue 12).

Tiny (4x3, one repeat, no memory, no dispatch) real runs on each installed backend: records per
dtype, inputs really in that dtype, a (loss, dtype) the native cannot run reported as skipped
(never a crash), one where only multiloss fails recorded as an error and a miss. No timing
assertions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests_conftest import require

from multiloss import bench, cli
from multiloss.bench import harness
from multiloss.bench.harness import Record, Size

# backend -> (mode, (a loss every native runs in bfloat16, a loss of integer targets), the spec
# function that builds a loss's (ours, native) pair)
CASES = {
    "torch": ("eager", ("CrossEntropyLoss", "MultiMarginLoss"), "modules"),
    "jax": ("eager", ("squared_error", "softmax_cross_entropy_with_integer_labels"), "functions"),
    "tensorflow": ("eager", ("MeanSquaredError", "SparseCategoricalCrossentropy"), "losses"),
}
TINY = ["--sizes", "4x3", "--repeat", "1", "--budget", "0.05", "--no-memory", "--no-dispatch", "--no-progress"]


def _spec(name: str):
    require(name)
    spec = bench.backend_spec(name)
    ok, why = spec.available()
    if not ok:
        pytest.skip(f"bench {name}: {why}")
    return spec


def _is_bf16(args: tuple) -> bool:
    return any("bfloat16" in str(getattr(a, "dtype", "")) for a in args)


def _refusing(f: Any, who: str) -> Any:
    """``f`` that raises, like a kernel without bfloat16, when any argument is bfloat16."""

    def call(*args, **kw):
        if _is_bf16(args):
            raise TypeError(f"{who}: no bfloat16 kernel here")
        return f(*args, **kw)

    return call


def _patch_pair(monkeypatch, spec, fn_name: str, loss: str, side: int, who: str) -> None:
    """Make ``ours`` (side 0) or the native (side 1) of ``loss`` refuse bfloat16 inputs."""
    orig = getattr(spec, fn_name)

    def pair(ls, *a, **kw):
        p = list(orig(ls, *a, **kw))
        if ls.name == loss:
            p[side] = _refusing(p[side], who)
        return tuple(p)

    monkeypatch.setattr(spec, fn_name, pair)


@pytest.mark.parametrize("backend", list(CASES))
def test_two_losses_two_dtypes_records_table_json_and_skip(backend, monkeypatch, tmp_path, capsys):
    spec = _spec(backend)
    mode, (a, b), fn_name = CASES[backend]
    if backend == "torch":
        expected_skip = "not implemented for 'BFloat16'"  # torch's CPU multi_margin_loss kernel
        if spec._device() != "cpu":
            _patch_pair(monkeypatch, spec, fn_name, b, 1, "native")
            expected_skip = "native: no bfloat16 kernel here"
    else:  # jax/keras run every loss in bfloat16: a native that cannot, simulated
        _patch_pair(monkeypatch, spec, fn_name, b, 1, "native")
        expected_skip = "native: no bfloat16 kernel here"
    out, md = tmp_path / "r.json", tmp_path / "r.md"
    rc = cli.main(["bench", "--backend", backend, "--mode", mode, "--loss", a, "--loss", b,
                   "--dtype", "float32", "--dtype", "bf16", *TINY, "--json", str(out), "--markdown", str(md)])
    text = capsys.readouterr().out
    assert rc == 0
    data = json.loads(out.read_text())
    recs = data["records"]
    assert [(r["loss"], r["dtype"]) for r in recs] == [(a, "float32"), (a, "bfloat16"),
                                                        (b, "float32"), (b, "bfloat16")]
    for r in recs[:3]:
        assert r["error"] == "" and r["skipped"] == "", r
        assert r["fb_ours_s"] > 0 and r["fb_native_s"] > 0 and r["size"] == "4x3"
    skip = recs[3]
    assert skip["error"] == "" and skip["skipped"].startswith("native ") and expected_skip in skip["skipped"]
    assert skip["fb_ours_s"] is None  # not timed
    assert data["dtypes"] == ["float32", "bfloat16"] and "--dtype float32 --dtype bf16" in data["command"]
    assert not any("bf16" in m and b in m for m in data["misses"])  # a skip is not a miss
    assert data["skipped"] == [f"{backend}/{mode} {b} 4x3 bf16: {skip['skipped']}"]
    assert "4x3 f32" in text and "4x3 bf16" in text and "1 skipped" in text
    assert f"skipped {backend}/{mode} {b} 4x3 bf16" in text
    assert "| 4x3 bf16 | skipped: native " in md.read_text()


@pytest.mark.parametrize("backend", list(CASES))
def test_inputs_are_made_in_the_dtype(backend):
    spec = _spec(backend)
    mode, (_, b), _ = CASES[backend]
    ls = next(x for x in spec.LOSSES if x.name == b)
    f32 = spec.make_inputs(ls.inputs, Size(4, 3))
    for dtype in ("bfloat16", "float16", "float64"):
        args = spec.make_inputs(ls.inputs, Size(4, 3), dtype=dtype)
        assert dtype in str(args[0].dtype), (dtype, args[0].dtype)
        assert str(args[1].dtype) == str(f32[1].dtype) and "int" in str(args[1].dtype)  # class indices kept
        x0, x1 = _flat0(f32[0]), _flat0(args[0])
        assert abs(x1 - x0) <= 1e-2 * abs(x0) + 1e-3  # the same value, rounded
        p = spec.prepare(ls, mode, Size(4, 3), dtype=dtype)
        assert p.dtype == dtype


def _flat0(x: Any) -> float:
    """The first element of a torch/jax/tf array, as a Python float."""
    import numpy as np

    if hasattr(x, "detach"):  # torch (no NumPy bfloat16)
        return float(x.detach().double().reshape(-1)[0])
    arr = x.numpy() if hasattr(x, "numpy") else np.asarray(x)  # ml_dtypes bfloat16 casts fine
    return float(np.asarray(arr).astype(np.float64).reshape(-1)[0])


@pytest.mark.parametrize("backend", list(CASES))
def test_only_ours_failing_is_an_error_and_a_miss(backend, monkeypatch):
    spec = _spec(backend)
    mode, (a, _), fn_name = CASES[backend]
    _patch_pair(monkeypatch, spec, fn_name, a, 0, "multiloss")
    recs = bench.run(backend, sizes=[Size(4, 3)], losses=[a], modes=[mode], dtypes=["float32", "bfloat16"],
                     repeat=1, warmup=0, budget_s=0.05, memory=False)
    assert [(r.dtype, r.error, r.skipped) for r in recs] == [
        ("float32", "", ""), ("bfloat16", "TypeError: multiloss: no bfloat16 kernel here", "")]
    errors = [m for m in harness.misses(recs, []) if ": error " in m]  # (a one-sample ratio may miss too)
    assert errors == [f"{backend}/{mode} {a} 4x3 bf16: error TypeError: multiloss: no bfloat16 kernel here"]


@pytest.mark.parametrize("backend", list(CASES))
def test_a_spec_that_does_not_cast_is_caught(backend, monkeypatch):
    spec = _spec(backend)
    mode, (a, _), _ = CASES[backend]
    orig = spec.make_inputs
    monkeypatch.setattr(spec, "make_inputs", lambda kind, size, seed=0, dtype="float32": orig(kind, size, seed))
    (rec,) = bench.run(backend, sizes=[Size(4, 3)], losses=[a], modes=[mode], dtypes=["float16"],
                       repeat=1, warmup=0, budget_s=0.05, memory=False)
    assert rec.error == f"AssertionError: bench.{backend}: inputs made in float32, not float16"


def test_torch_parameters_cast_with_the_same_state():
    spec = _spec("torch")
    import torch

    ls = next(x for x in spec.LOSSES if x.name == "LinearCrossEntropyLoss")
    ours, native = spec.modules(ls, "bfloat16")
    po, pn = dict(ours.named_parameters()), dict(native.named_parameters())
    assert po and po.keys() == pn.keys()
    for k, v in po.items():
        assert v.dtype == pn[k].dtype == torch.bfloat16 and torch.equal(v, pn[k])
    (rec,) = bench.run("torch", sizes=[Size(4, 3)], losses=[ls.name], modes=["eager"], dtypes=["bfloat16"],
                       repeat=1, warmup=0, budget_s=0.05, memory=False)
    assert rec.error == "" and rec.skipped == "" and rec.fb_ratio > 0


def test_jax_float64_without_x64_is_skipped_with_the_reason():
    spec = _spec("jax")
    import jax

    with jax.enable_x64(False):
        (rec,) = bench.run("jax", sizes=[Size(4, 3)], losses=[spec.LOSSES[0].name], modes=["eager"],
                           dtypes=["float64"], repeat=1, warmup=0, budget_s=0.05, memory=False)
    assert rec.error == "" and "x64" in rec.skipped and "JAX_ENABLE_X64=1" in rec.skipped


def test_parse_dtypes_labels_and_default_output(capsys):
    assert harness.parse_dtypes(None) == ["float32"]
    assert harness.parse_dtypes(["bf16", "float32,f16", "bfloat16", "double"]) == [
        "bfloat16", "float32", "float16", "float64"]
    with pytest.raises(ValueError, match="--dtype expects one of float32, bfloat16, float16, float64; got 'int8'"):
        harness.parse_dtypes(["int8"])
    assert cli.main(["bench", "--dtype", "f8", "--no-progress"]) == 2
    assert "--dtype expects one of" in capsys.readouterr().err
    f32 = Record("torch", "eager", "L", "o", "n", "64x10", 640, 1.0, 1.0, 1.0, 1.0)
    bf = Record("torch", "eager", "L", "o", "n", "64x10", 640, 1.0, 1.0, 2.0, 1.0, dtype="bfloat16")
    skip = Record("torch", "eager", "M", "o", "n", "64x10", 640, dtype="float16", skipped="native E: no half")
    assert harness.table_rows([f32])[0][2] == "64x10"  # float32 alone: the output as before
    rows = harness.table_rows([f32, bf, skip])
    assert [r[2] for r in rows] == ["64x10 f32", "64x10 bf16", "64x10 f16"]
    assert rows[2][3] == "skipped: native E: no half"
    assert harness.misses([f32, bf, skip], []) == ["torch/eager L 64x10 bf16: forward+backward 2.00x > 1.50x"]
    assert harness.skipped([f32, bf, skip]) == ["torch/eager M 64x10 f16: native E: no half"]
    assert bf.as_dict()["dtype"] == "bfloat16" and skip.as_dict()["skipped"] == "native E: no half"
