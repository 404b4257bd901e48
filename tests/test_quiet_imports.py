"""Quiet imports (issue 13, "What to build" item 6): ``import multiloss.keras`` and
``multiloss check`` print none of TensorFlow's C++ startup INFO lines, without changing the
user's logging: ``TF_CPP_MIN_LOG_LEVEL=0`` still shows them, Python's logging is untouched,
and warnings / errors written during the import still come through (:mod:`multiloss._quiet`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

from multiloss._quiet import is_startup_noise, quiet_import

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1795717202.866380   27945 port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors.\n",
    "I0000 00:00:1795717202.866741   27945 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    "GPU will not be used.\n",
    "I0000 00:00:1795717203.208450   27945 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to "
    "use available CPU instructions in performance-critical operations.\n",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with "
    "the appropriate compiler flags.\n",
]
KEPT = [
    "W0000 00:00:1795717202.866380   27945 some_op.cc:12] a warning record\n",
    "E0000 00:00:1795717467.221681   29579 cuda_platform.cc:52] failed call to cuInit\n",
    "/path/to/module.py:3: UserWarning: a Python warning\n",
    "Traceback (most recent call last):\n",
    "I0000 is not a record without its time stamp\n",
]


def test_startup_noise_is_only_tf_info_records():
    assert all(is_startup_noise(line) for line in NOISE)
    assert not any(is_startup_noise(line) for line in KEPT)


def test_quiet_import_drops_the_noise_and_keeps_the_rest(capfd):
    with quiet_import(force=True):
        for line in NOISE + KEPT:
            os.write(2, line.encode())
    err = capfd.readouterr().err
    assert err == "".join(KEPT)


def test_quiet_import_writes_back_even_when_the_import_fails(capfd):
    with pytest.raises(ImportError):
        with quiet_import(force=True):
            os.write(2, (NOISE[0] + KEPT[0]).encode())
            raise ImportError("no such framework")
    assert capfd.readouterr().err == KEPT[0]


def test_quiet_import_respects_an_explicit_level_0(monkeypatch, capfd):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with quiet_import():
        os.write(2, NOISE[1].encode())
    assert capfd.readouterr().err == NOISE[1]


SCRIPT = textwrap.dedent(
    r"""
    import json, logging, os, sys
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    import multiloss.keras as mk
    import numpy as np
    loss = float(mk.MeanSquaredError()(np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")))
    print("RESULT " + json.dumps({"loss": loss, "root_unchanged": before == (root.level, list(root.handlers))}))
    """
)


def _run(argv: list[str], level: str | None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "MULTILOSS_NATIVE_LOGS")}
    env.update({"KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": ""})
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.fixture(scope="module")
def runs():
    """``import multiloss.keras`` with TF_CPP_MIN_LOG_LEVEL unset and set to 0, and
    ``multiloss check`` on one loss over TensorFlow, all started at once."""
    if importlib.util.find_spec("tensorflow") is None or importlib.util.find_spec("keras") is None:
        pytest.skip("tensorflow / keras not installed")
    procs = {
        "unset": _run([sys.executable, "-c", SCRIPT], None),
        "level0": _run([sys.executable, "-c", SCRIPT], "0"),
        "check": _run([sys.executable, "-m", "multiloss", "check", "--no-progress", "--backend", "tensorflow",
                       "--loss", "mse_loss", "--dtype", "float32", "--workers", "2"], None),
    }
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=300)
        out[name] = (p.returncode, stdout, stderr)
    return out


def _noise(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines(keepends=True) if is_startup_noise(ln)]


def test_import_multiloss_keras_is_quiet(runs):
    rc, stdout, stderr = runs["unset"]
    assert rc == 0, stderr[-2000:]
    result = json.loads(stdout.split("RESULT ", 1)[1])
    assert result["loss"] == 1.0 and result["root_unchanged"]
    assert not _noise(stderr), stderr


def test_an_explicit_tf_cpp_min_log_level_0_still_shows_tensorflows_lines(runs):
    rc, _, stderr = runs["level0"]
    assert rc == 0, stderr[-2000:]
    assert _noise(stderr), "TF_CPP_MIN_LOG_LEVEL=0: the user asked for TensorFlow's INFO lines"


def test_multiloss_check_output_is_clean(runs):
    rc, stdout, stderr = runs["check"]
    assert rc == 0, stderr[-2000:]
    assert "passed, 0 failed" in stdout, stdout[-2000:]
    assert stderr.strip() == "", stderr
