"""``multiloss port "<expression>" --to <framework>``: parses the expression with ast (never
evaluates it), prints runnable code with the semantic differences as comments, exits 1 with the
reason where no exact equivalent exists and 2 for an expression it does not accept; and the port
section of ``multiloss check``."""

from __future__ import annotations

import os

import numpy as np
import pytest

from multiloss import cli
from multiloss.port._expr import ExpressionError, parse


def _run(capsys, *argv):
    rc = cli.main(["port", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_issue_example(capsys):
    rc, out, err = _run(capsys, "torch.nn.CrossEntropyLoss(label_smoothing=0.1)", "--to", "keras")
    assert rc == 0 and not err
    lines = out.splitlines()
    assert lines[0] == "# ported from torch.nn.CrossEntropyLoss(label_smoothing=0.1)"
    assert any(line.startswith("# note: targets: one-hot") for line in lines)
    assert any(line.startswith("# note: class axis: 1 in torch, -1 in keras") for line in lines)
    assert lines[-2:] == ["import multiloss.keras as mk", "mk.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"]


def test_printed_code_runs_and_computes_the_same(capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("jax")
    rc, out, _ = _run(capsys, "nn.HuberLoss(delta=0.5, reduction='sum')", "--to", "jax")
    assert rc == 0
    *setup, line = [ln for ln in out.splitlines() if not ln.startswith("#")]
    ns: dict = {}
    exec("\n".join(setup), ns)  # noqa: S102 - the CLI's own output
    fn = eval(line, ns)  # noqa: S307
    x, y = np.random.default_rng(0).normal(size=(2, 4, 3))
    want = torch.nn.HuberLoss(delta=0.5, reduction="sum")(torch.tensor(x), torch.tensor(y)).item()
    assert abs(float(fn(x, y)) - want) < 1e-9


@pytest.mark.parametrize("expr, to, code", [
    ("torch.nn.MSELoss()", "keras", "mk.MeanSquaredError()"),
    ("keras.losses.Huber(delta=2.0)", "torch", "mt.HuberLoss(delta=2.0)"),
    ("keras.losses.SparseCategoricalCrossentropy(True, -1)", "torch", "mt.CrossEntropyLoss(ignore_index=-1)"),
    ("F.binary_cross_entropy_with_logits()", "keras", "mk.BinaryCrossentropy(from_logits=True)"),
    ("optax.losses.sigmoid_focal_loss(alpha=0.25)", "torch", "mt.FocalLoss(alpha=0.25, from_logits=True, reduction='none')"),
    ("mt.FocalLoss(gamma=1.0)", "keras", "mk.FocalLoss(gamma=1.0)"),
    ("multiloss.cross_entropy(label_smoothing=0.2)", "torch", "mt.CrossEntropyLoss(label_smoothing=0.2)"),
    ("torch.nn.NLLLoss(None, None, -100, None, 'sum')", "numpy", "functools.partial(multiloss.nll_loss, reduction='sum')"),
    ("'mean_absolute_error'", "torch", "lambda input, target: mt.functional.l1_loss(input, target, reduction='none').mean(dim=-1)"),
    ("torch.nn.MSELoss(size_average=False)", "jax", "lambda predictions, targets: mj.squared_error(predictions, targets).sum()"),
])
def test_expressions_port(capsys, expr, to, code):
    rc, out, err = _run(capsys, expr, "--to", to)
    assert rc == 0, err
    assert out.splitlines()[-1] == code


def test_targets_and_strict(capsys):
    rc, out, _ = _run(capsys, "torch.nn.CrossEntropyLoss()", "--to", "keras", "--targets", "dense")
    assert rc == 0 and out.splitlines()[-1] == "mk.CategoricalCrossentropy(from_logits=True)"
    rc, out, err = _run(capsys, "optax.losses.hinge_loss()", "--to", "torch", "--strict")
    assert rc == 1 and "targets in {-1, 1}" in err and "strict=True" in err


def test_no_equivalent_exits_1_with_the_reason(capsys):
    rc, out, err = _run(capsys, "torch.nn.CrossEntropyLoss(weight=[0.5, 2.0])", "--to", "keras")
    assert rc == 1 and not out
    assert err.startswith("# cannot port: torch.nn.CrossEntropyLoss(weight=[0.5, 2.0]) has no exact equivalent")
    assert "Closest: mk.SparseCategoricalCrossentropy" in err


def test_import_os_system_is_refused_and_never_run(capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    rc, out, err = _run(capsys, "__import__('os').system('echo pwned')", "--to", "keras")
    assert rc == 2 and not out and not calls
    assert "the callee must be a loss spelled with its module" in err and "a call" in err


@pytest.mark.parametrize("expr, needle", [
    ("os.system('ls')", "unknown module 'os'"),
    ("torch.nn.MSELoss", "expected one call of a loss class or function"),
    ("x", "expected one call"),
    ("torch.nn.CrossEntropyLoss(weight=torch.ones(3))", "must be a literal"),
    ("torch.nn.CrossEntropyLoss(weight=w)", "got a name: 'w'"),
    ("torch.nn.HuberLoss(delta=1 + 1)", "got an operation"),
    ("torch.nn.HuberLoss(delta=(lambda: 2)())", "must be a literal"),
    ("torch.nn.HuberLoss(**{'delta': 2.0})", "is not a literal argument"),
    ("torch.nn.HuberLoss(*[2.0])", "a starred argument"),
    ("getattr(torch.nn, 'MSELoss')()", "got a call"),
    ("[torch.nn.MSELoss][0]()", "got a subscript"),
    ("torch.nn.MSELoss().__class__", "expected one call"),
    ("torch.nn.HuberLoss(delta=f'{1}')", "must be a literal"),
    ("torch.nn.HuberLoss(delta=", "not a Python expression"),
    ("optax.losses.huber_loss(1.0)", "by keyword"),
])
def test_expressions_refused(capsys, expr, needle):
    with pytest.raises(ExpressionError, match=None) as e:
        parse(expr)
    assert needle in str(e.value), str(e.value)
    rc, _, err = _run(capsys, expr, "--to", "keras")
    assert rc == 2 and needle in err


def test_unknown_loss_and_option(capsys):
    rc, _, err = _run(capsys, "torch.nn.FooLoss()", "--to", "keras")
    assert rc == 1 and "no multiloss twin of this torch loss" in err
    rc, _, err = _run(capsys, "torch.nn.HuberLoss(beta=1.0)", "--to", "keras")
    assert rc == 1 and "unknown option 'beta'" in err


def test_check_has_a_port_section(capsys):
    pytest.importorskip("torch")
    rc = cli.main(["check", "--backend", "torch", "--backend", "numpy", "--loss", "HuberLoss", "--workers", "1",
                   "--no-progress", "--dtype", "float64"])
    out = capsys.readouterr().out
    assert rc == 0, out
    line = next(ln for ln in out.splitlines() if ln.startswith("port: "))
    assert "0 failed" in line and "equal (value and gradient)" in line
    assert "torch natives" in line
