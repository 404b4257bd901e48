"""`multiloss list | check` (and `python -m multiloss`)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from multiloss import cli
from multiloss.catalogue import CATALOGUE
from multiloss.conformance import references as R
from multiloss.conformance import runner
from multiloss.conformance.spec import Case


def test_list_prints_every_loss_and_its_twins(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    # first cell of each row, with rich's box characters or the plain (no rich) table
    lines = {(line.replace("│", " ").split() or [""])[0] for line in out.splitlines()}
    for e in CATALOGUE:
        assert e.name in lines, f"{e.name} missing from `multiloss list`"
    row = next(line for line in out.splitlines() if (line.replace("│", " ").split() or [""])[0] == "cross_entropy")
    assert "CrossEntropyLoss" in row and "softmax_cross_entropy" in row


def test_python_dash_m_lists():
    out = subprocess.run([sys.executable, "-m", "multiloss", "list"], capture_output=True, text=True, check=True)
    assert "mse_loss" in out.stdout


def test_check_numpy_writes_json_and_markdown(tmp_path, capsys):
    js, md = tmp_path / "m.json", tmp_path / "m.md"
    rc = cli.main(["check", "--backend", "numpy", "--dtype", "float64", "--loss", "huber_loss",
                   "--json", str(js), "--markdown", str(md), "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "0 failed" in out
    data = json.loads(js.read_text())
    assert data["backends"] == ["numpy"]
    assert data["cells"] and all(c["ok"] and c["dtype"] == "float64" for c in data["cells"])
    assert {c["entry"].split("[")[0] for c in data["cells"]} == {"huber_loss"}
    text = md.read_text()
    assert text.startswith("# multiloss conformance matrix") and "huber_loss[regression" in text


def test_check_exits_1_on_a_mismatch(monkeypatch, capsys):
    wrong = Case("mse_loss", "regression", lambda p, t, **kw: R.mse(p, t, **kw) * 1.01, {}, "wrong")
    monkeypatch.setattr(runner, "canonical_cases", lambda: [wrong])
    # in this process (a spawned worker would not see the monkeypatch)
    rc = cli.main(["check", "--backend", "numpy", "--no-progress", "--workers", "1"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "✘" in out and "mse_loss[regression,wrong]-numpy-float64-value" in out


def test_check_in_worker_processes_gives_the_same_cells(tmp_path):
    """`--workers 2` spawns processes, each running its share of the jobs (grouped by backend
    and loss); the matrix is the same as in one process, in the same order."""
    argv = ["check", "--backend", "numpy", "--backend", "array_api_strict", "--dtype", "float64",
            "--loss", "huber_loss", "--loss", "kl_div", "--no-progress"]
    got = {}
    for workers in ("1", "2"):
        js = tmp_path / f"w{workers}.json"
        assert cli.main([*argv, "--workers", workers, "--json", str(js)]) == 0
        got[workers] = [(c["id"], c["ok"], c["max_abs"]) for c in json.loads(js.read_text())["cells"]]
    assert got["1"] == got["2"] and len(got["1"]) > 10


def test_parallel_plan_keeps_each_backend_and_loss_in_one_worker():
    from multiloss.conformance.backends import BACKENDS

    jobs = list(runner.jobs([b for b in ("numpy", "array_api_strict") if BACKENDS[b].available()[0]]))
    parts = runner.plan(jobs, 2)
    assert sorted(i for p in parts for i in p) == list(range(len(jobs)))
    owner = {}
    for w, part in enumerate(parts):
        for i in part:
            key = (jobs[i].backend, runner._entry_name(jobs[i]))
            assert owner.setdefault(key, w) == w


@pytest.mark.parametrize(
    "argv, message",
    [
        (["check", "--backend", "nosuch"], "unknown backend(s) 'nosuch'; available: numpy"),
        (["check", "--backend", "numpy", "--dtype", "float8"], "unknown dtype"),
        (["check", "--backend", "numpy", "--loss", "nosuch_loss"], "unknown loss"),
    ],
)
def test_check_bad_arguments_are_clear(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_unavailable_backend_reported_without_traceback(monkeypatch, capsys):
    from multiloss.conformance.backends import BACKENDS

    monkeypatch.setattr(BACKENDS["torch"], "module", "torch_that_is_not_installed")
    rc = cli.main(["check", "--backend", "numpy", "--backend", "torch", "--loss", "l1_loss", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "torch: unavailable (ModuleNotFoundError: No module named 'torch_that_is_not_installed')" in out
    assert "Traceback" not in out


def test_compare_flags_nan_and_shape():
    ok, _, _ = runner.compare(np.array([np.nan]), np.array([1.0]), 1e-5, 0)
    assert not ok
    ok, _, _ = runner.compare(np.zeros(3), np.zeros(4), 1e-5, 0)
    assert not ok
    ok, ma, mr = runner.compare(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), 1e-6, 0)
    assert ok and ma == pytest.approx(1e-9)
