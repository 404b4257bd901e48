"""``multiloss bench``: the harness's logic on fake callables, and a tiny real run.

No timing assertions: the figures depend on the machine; only structure and messages."""

from __future__ import annotations

import builtins
import json
import math

import pytest

from multiloss import bench, cli
from multiloss.bench import harness
from multiloss.bench.harness import Record, Size


class FakeClock:
    """A clock that advances only when a fake callable 'runs'."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_interleaved_alternates_abba_and_takes_medians():
    clock, calls = FakeClock(), []
    a_costs = iter([1.0] * 4 + [5.0, 1.0, 1.0, 1.0, 9.0])  # warm-up 3 + calibration 1, then 5 samples
    b_costs = iter([2.0] * 4 + [2.0, 2.0, 7.0, 2.0, 2.0])

    def fa():
        calls.append("A")
        clock.t += next(a_costs)

    def fb():
        calls.append("B")
        clock.t += next(b_costs)

    t = harness.interleaved(fa, fb, repeat=5, warmup=3, inner=None, min_sample_s=1e-9, clock=clock)
    assert t.inner == 1
    assert calls[:8] == ["A", "B"] * 4  # warm-up, then one calibration call each
    assert calls[8:] == ["A", "B", "B", "A", "A", "B", "B", "A", "A", "B"]
    assert t.a_samples == [5.0, 1.0, 1.0, 1.0, 9.0] and t.a_s == 1.0  # median ignores the outliers
    assert t.b_samples == [2.0, 2.0, 7.0, 2.0, 2.0] and t.b_s == 2.0
    assert t.ratio == 0.5


def test_interleaved_calibrates_inner_and_respects_budget():
    clock = FakeClock()
    n = {"a": 0, "b": 0}

    def fa():
        n["a"] += 1
        clock.t += 1e-4

    def fb():
        n["b"] += 1
        clock.t += 2e-4

    t = harness.interleaved(fa, fb, repeat=50, warmup=0, min_sample_s=1e-3, budget_s=0.01, min_repeat=3,
                            clock=clock)
    assert t.inner == 10  # 1e-3 / min(1e-4, 2e-4)
    assert 3 <= len(t.a_samples) < 50 and len(t.a_samples) == len(t.b_samples)  # stopped by the budget
    assert t.a_s == pytest.approx(1e-4) and t.b_s == pytest.approx(2e-4)
    with pytest.raises(ValueError, match="repeat"):
        harness.interleaved(fa, fb, repeat=0)


def test_sizes_grid_and_parse():
    assert harness.parse_sizes("64x10, 4096X1000") == [Size(64, 10), Size(4096, 1000)]
    assert harness.parse_sizes(["8x2", "3x3"]) == [Size(8, 2), Size(3, 3)]
    for bad in ("64", "ax3", "0x5", ""):
        with pytest.raises(ValueError, match="--sizes"):
            harness.parse_sizes(bad)
    grid = list(harness.DEFAULT_SIZES)
    assert grid[0] == Size(64, 10) and Size(8192, 32000) in harness.FULL_SIZES
    assert Size(8192, 32000) not in grid  # opt-in (--full)
    elementwise = harness.grid_for(grid, classification=False, explicit=False)
    assert max(s.elements for s in elementwise) <= harness.NON_CLASSIFICATION_MAX_ELEMENTS
    assert harness.grid_for(grid, classification=True, explicit=False) == grid
    assert harness.grid_for(grid, classification=False, explicit=True) == grid


def test_records_ratios_misses_and_json(tmp_path):
    ok = Record("torch", "eager", "L", "o", "n", "64x10", 640, 1.0, 1.0, 1.2, 1.0, memory_ours=100, memory_native=100)
    slow = Record("torch", "eager", "L", "o", "n", "4096x1000", 4096000, 1.0, 1.0, 1.2, 1.0,
                  memory_ours=150, memory_native=100)
    nomem = Record("jax", "jit", "L", "o", "n", "64x10", 640, 1.0, 1.0, 1.0, 1.0)
    assert ok.fb_ratio == pytest.approx(1.2) and math.isnan(nomem.memory_ratio)
    d = harness.DispatchRecord("torch", "L", "4x3", 20.0, 10.0, 0.3)
    lines = harness.misses([ok, slow, nomem], [d])
    assert len(lines) == 3  # 1.2 > 1.10 at 4e6 elements; memory 1.5; dispatch 10 us
    assert any("forward+backward 1.20x > 1.10x" in x for x in lines)
    assert any("memory" in x for x in lines) and any("dispatch overhead 10.0 us" in x for x in lines)
    p = tmp_path / "r.json"
    harness.write_json(str(p), [ok, slow, nomem], [d], {"command": "x"})
    data = json.loads(p.read_text())  # strict JSON: NaN became null
    assert data["records"][2]["memory_ratio"] is None and len(data["misses"]) == 3
    rows = harness.table_rows([ok, slow])
    assert rows[0][8] == "1.20 ✔" and rows[1][8] == "1.20 ✘"


def test_unknown_backend_loss_mode_and_sizes_are_clear(capsys):
    assert cli.main(["bench", "--backend", "cuda_magic", "--no-progress"]) == 2
    assert "unknown backend 'cuda_magic'; available: torch, jax, tensorflow" in capsys.readouterr().err
    assert cli.main(["bench", "--sizes", "64by10", "--no-progress"]) == 2
    assert "--sizes expects NxC" in capsys.readouterr().err


def _one_backend():
    for name in ("torch", "jax"):
        spec = bench.backend_spec(name)
        if spec.available()[0]:
            return spec
    pytest.skip("neither torch nor jax is installed")


def test_unknown_loss_and_mode(capsys):
    spec = _one_backend()
    assert cli.main(["bench", "--backend", spec.NAME, "--loss", "NoSuchLoss", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "unknown loss(es) ['NoSuchLoss']" in err and spec.LOSSES[0].name in err
    assert cli.main(["bench", "--backend", spec.NAME, "--mode", "warp", "--no-progress"]) == 2
    assert "unknown mode(s) ['warp']" in capsys.readouterr().err


def test_quick_tiny_run_prints_table_and_valid_json(tmp_path, capsys):
    spec = _one_backend()
    loss = spec.LOSSES[0].name  # MSELoss / squared_error: framework RNG inputs, no numpy
    out = tmp_path / "bench.json"
    md = tmp_path / "bench.md"
    rc = cli.main(["bench", "--backend", spec.NAME, "--quick", "--loss", loss, "--mode", spec.MODES[0],
                   "--sizes", "8x3", "--repeat", "2", "--budget", "0.05", "--no-progress",
                   "--json", str(out), "--markdown", str(md)])
    text = capsys.readouterr().out
    assert rc == 0
    assert loss in text and "8x3" in text and "f+b ratio" in text and "dispatch overhead" in text
    data = json.loads(out.read_text())
    (rec,) = data["records"]
    assert rec["loss"] == loss and rec["size"] == "8x3" and rec["error"] == ""
    assert rec["fb_ours_s"] > 0 and rec["fb_native_s"] > 0 and rec["fb_ratio"] > 0
    assert data["command"].startswith(f"multiloss bench --backend {spec.NAME} --loss {loss}")
    assert data["machine"]["cpu_count"] >= 1 and data["dispatch"][0]["namespace_us"] >= 0
    assert md.read_text().startswith("| backend | loss |")


def test_plot_without_matplotlib_says_so(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_mpl(name, *a, **kw):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    assert cli.main(["bench", "--backend", "torch", "--plot", "x.png", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib" in err and "pip install matplotlib" in err
