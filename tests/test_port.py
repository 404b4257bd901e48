"""multiloss.port: a configured loss carried across torch / keras / jax / numpy with the same
value and gradient, or a PortError that says what differs.

The proof (``test_proof``): every native loss of every conformance grid (``torch.nn`` modules,
``keras.losses`` classes, optax functions with the grids' options), ported to each other
framework and evaluated on the grid's data in both, float64 (``test_proof_float32``: the
defaults of each native in float32). Then the API, the refusals and their messages, the
generated docs/porting.md, and the ring example.
"""

from __future__ import annotations

import functools
import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from multiloss.port import proof

ROOT = pathlib.Path(__file__).resolve().parents[1]
_NEEDS = {"torch": ("torch",), "keras": ("tensorflow", "keras"), "jax": ("jax", "optax"), "numpy": ()}


def _require(*frameworks: str) -> None:
    for fw in frameworks:
        for mod in _NEEDS[fw]:
            pytest.importorskip(mod)
        if fw == "jax":  # float64 cells (tests/conftest.py sets JAX_ENABLE_X64 before jax is imported)
            import jax

            assert jax.config.jax_enable_x64


CASES = proof.cases()
_OUTCOMES: dict[str, proof.Outcome] = {}


def _selection(cases):
    """Every option set of every grid between torch, keras and numpy; towards and from jax, whose
    eager evaluation compiles every op per shape and dtype (~100 s for the whole grid on 2 CPU
    cores), the first option set of each grid here and every one in `multiloss check`."""
    seen, out = set(), []
    for c in cases:
        key = (c.source, c.native, c.domain, c.to)
        if "jax" not in (c.source, c.to) or key not in seen:
            out.append(c)
        seen.add(key)
    return out


PROVEN = _selection(CASES)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    with proof._one_torch_thread():
        yield


@pytest.mark.parametrize("case", PROVEN, ids=[c.id for c in PROVEN])
def test_proof(case):
    _require(case.source, case.to)
    out = proof.run(case, "float64")
    _OUTCOMES[case.id] = out
    assert out.status in ("equal", "refused", "conditional"), f"{case.id}: {out.status}: {out.detail} ({out.code})"
    if out.status == "refused":
        assert out.detail.startswith(("torch.nn.", "keras.losses.", "optax.losses.")), out.detail  # says what


_DEFAULTS = [c for c in PROVEN if not c.options and "float32" in c.dtypes and "jax" not in (c.source, c.to)]


@pytest.mark.parametrize("case", _DEFAULTS, ids=[c.id for c in _DEFAULTS])
def test_proof_float32(case):
    _require(case.source, case.to)
    out = proof.run(case, "float32")
    assert out.status in ("equal", "refused", "conditional"), f"{case.id}: {out.status}: {out.detail} ({out.code})"


def test_proof_covers_every_native_with_twins():
    """Every torch.nn loss of the catalogue (with twins elsewhere) is a source of the proof,
    except the modules that own parameters (refused: their weights, not options, are ported)."""
    from multiloss.backends import torch_table
    from multiloss.catalogue import CATALOGUE

    with_twins = {t.name for e in CATALOGUE if (e.keras or e.jax) for t in e.torch if t.native}
    parametric = {r.name for r in torch_table.TABLE if r.module}
    sources = {c.native for c in CASES if c.source == "torch"}
    assert with_twins - parametric <= sources, (with_twins - parametric) - sources
    assert {c.to for c in CASES} == {"torch", "keras", "jax", "numpy"}


def test_proof_detects_a_wrong_port(monkeypatch):
    """The proof can fail: a reader that forgets keras's per-sample mean over the last axis
    ports torch's MSELoss(reduction='sum') to keras's 'sum', C times smaller."""
    _require("torch", "keras")
    from multiloss.port import _spec

    real = _spec.elementwise
    monkeypatch.setattr(_spec, "elementwise", lambda loss: False if loss == "mse_loss" else real(loss))
    case = proof.PortCase("torch", "MSELoss", "regression", {"reduction": "sum"}, "keras")
    proof._SOURCE_VALUES.clear()
    out = proof.run(case, "float64")
    assert out.status == "mismatch" and "value" in out.detail, out


def test_proof_summary_has_each_status():
    """Across the grid: most ports are equal, the rest refused; none fails (run after test_proof)."""
    if len(_OUTCOMES) < len(PROVEN) // 2:
        pytest.skip("runs after test_proof (the whole module)")
    counts = proof.summarize(list(_OUTCOMES.values()))
    assert counts.get("equal", 0) > counts.get("refused", 0) > 0
    assert not counts.get("mismatch") and not counts.get("error")


# ----------------------------------------------------------------------------- the API


def test_import_multiloss_imports_no_framework_and_port_is_lazy():
    code = ("import sys, multiloss; assert 'multiloss.port' not in sys.modules; p = multiloss.port; "
            "e = multiloss.PortError; assert issubclass(e, ValueError) and callable(p); "
            "from multiloss.port._expr import parse; plan = multiloss.port.plan_config(parse('torch.nn.MSELoss()'), 'keras'); "
            "assert plan.code == 'mk.MeanSquaredError()', plan.code; "
            "bad = [m for m in ('torch', 'tensorflow', 'keras', 'jax', 'optax') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_issue_example_cross_entropy_with_label_smoothing_to_keras():
    _require("torch", "keras")
    import torch

    import multiloss

    src = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    plan = multiloss.port.plan(src, to="keras")
    assert plan.code == "mk.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"
    assert plan.targets == "dense" and any("one-hot" in n for n in plan.notes)
    ported = multiloss.port(src, to="keras")
    logits = np.random.default_rng(0).normal(size=(6, 4))
    labels = np.array([0, 3, 1, 2, 2, 0])
    want = src(torch.tensor(logits), torch.tensor(labels)).item()
    got = float(ported(np.eye(4)[labels], logits))
    assert abs(got - want) < 1e-6 * abs(want)


def test_index_targets_give_the_sparse_keras_loss_and_the_optax_integer_labels():
    import multiloss
    from multiloss.port._expr import parse

    cfg = parse("torch.nn.CrossEntropyLoss()")
    keras_plan = multiloss.port.plan_config(cfg, "keras", targets="index")
    assert keras_plan.code == "mk.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)"
    jax_plan = multiloss.port.plan_config(cfg, "jax")
    assert "softmax_cross_entropy_with_integer_labels" in jax_plan.code and jax_plan.code.endswith(".mean()")
    assert [c.text for c in jax_plan.conditions] == ["no target equals -100 (an ignore_index on one side only)"]
    assert jax_plan.move_class_axis == (1, -1) and jax_plan.order == (0, 1)
    assert keras_plan.order == (1, 0)
    # strict: only what holds for every input -- the canonical function on jax arrays
    assert multiloss.port.plan_config(cfg, "jax", targets="index", strict=True).code == "multiloss.cross_entropy"
    assert multiloss.port.plan_config(cfg, "jax", strict=True).targets == "dense"  # or one-hot targets
    with pytest.raises(multiloss.PortError, match="no target equals -100"):
        multiloss.port.plan_config(parse("optax.losses.softmax_cross_entropy_with_integer_labels()"), "torch",
                                   strict=True)
    with pytest.raises(multiloss.PortError, match="SparseCategoricalCrossentropy has no label_smoothing option"):
        multiloss.port.plan_config(parse("torch.nn.CrossEntropyLoss(label_smoothing=0.1)"), "keras", targets="index")


def test_weights_are_converted_to_the_target_framework():
    _require("torch", "jax")
    import jax
    import torch

    import multiloss

    w = torch.tensor([0.5, 1.0, 2.0])
    src = torch.nn.BCEWithLogitsLoss(pos_weight=w)
    ported = multiloss.port(src, to="jax")
    assert isinstance(ported.kwargs["pos_weight"], jax.Array)  # the canonical function on jax arrays
    np.testing.assert_array_equal(np.asarray(ported.kwargs["pos_weight"]), w.numpy())
    x = np.random.default_rng(1).normal(size=(4, 3))
    y = (np.random.default_rng(2).uniform(size=(4, 3)) > 0.5).astype(np.float64)
    want = src(torch.tensor(x), torch.tensor(y)).item()
    assert abs(float(ported(jax.numpy.asarray(x), jax.numpy.asarray(y))) - want) < 1e-9
    back = multiloss.port(multiloss.port.plan(src, to="numpy").build(), to="torch")
    assert type(back).__name__ == "BCEWithLogitsLoss" and torch.equal(back.pos_weight, w)


def test_weighted_cross_entropy_to_keras_is_refused_with_the_numbers_and_the_closest():
    _require("torch")
    import torch

    import multiloss

    with pytest.raises(multiloss.PortError) as e:
        multiloss.port(torch.nn.CrossEntropyLoss(weight=torch.tensor([0.5, 2.0])), to="keras")
    msg = str(e.value)
    assert "weight=[0.5, 2.0]" in msg and "has no weight option" in msg
    assert "Closest: mk.SparseCategoricalCrossentropy(from_logits=True" in msg and "mean_with_sample_weight" in msg


@pytest.mark.parametrize("expr, to, needle", [
    ("torch.nn.MSELoss(reduction='sum')", "keras", "C times the second, C = y_pred.shape[-1]"),
    ("torch.nn.BCEWithLogitsLoss(pos_weight=[2.0])", "keras", "has no pos_weight option"),
    ("keras.losses.BinaryCrossentropy(label_smoothing=0.2)", "torch", "y * (1 - 0.2) + 0.1"),
    ("keras.losses.CategoricalCrossentropy()", "torch", "uses log(y_pred)"),
    ("optax.losses.l2_loss()", "torch", "values differ by a factor 0.5"),
    ("optax.losses.cosine_similarity()", "torch", "values differ by a factor -1.0"),
    ("optax.losses.ctc_loss()", "torch", "another array convention"),
    ("torch.nn.CTCLoss()", "keras", "another array convention"),
    ("torch.nn.NLLLoss()", "keras", "no keras form of multiloss.nll_loss"),
    ("torch.nn.KLDivLoss(reduction='sum')", "keras", "takes probabilities"),
])
def test_refusals_say_what_differs(expr, to, needle):
    import multiloss
    from multiloss.port._expr import parse

    with pytest.raises(multiloss.PortError) as e:
        multiloss.port.plan_config(parse(expr), to)
    assert needle in str(e.value)


def test_function_forms_strings_and_partials():
    _require("torch", "keras", "jax")
    import keras
    import optax
    import torch

    import multiloss
    import multiloss.jax as mj
    import multiloss.keras as mk

    # keras's "mse" is its function: one value per sample, the mean over the last axis
    assert multiloss.port.plan("mse", to="torch").code == \
        "lambda input, target: mt.functional.mse_loss(input, target, reduction='none').mean(dim=-1)"
    huber = multiloss.port(functools.partial(optax.losses.huber_loss, delta=2.0), to="torch")
    assert isinstance(huber, torch.nn.Module) and huber.delta == 2.0 and huber.reduction == "none"
    k = multiloss.port(mk.Huber(delta=0.5, reduction="sum"), to="jax")
    x, y = np.random.default_rng(3).normal(size=(2, 4, 3))
    assert abs(float(k(x, y)) - float(mk.Huber(delta=0.5, reduction="sum")(y, x))) < 1e-6
    assert multiloss.port.plan(mj.squared_error, to="torch").code == "mt.MSELoss(reduction='none')"
    assert multiloss.port.plan(keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True), to="torch").code \
        == "mt.FocalLoss(alpha=0.25)"
    assert multiloss.port.plan(keras.losses.BinaryFocalCrossentropy(), to="torch").code == "mt.FocalLoss(alpha=None)"


def test_source_errors():
    _require("torch")
    import torch

    import multiloss

    with pytest.raises(multiloss.PortError, match="by keyword"):
        multiloss.port(functools.partial(torch.nn.functional.mse_loss, torch.zeros(2)), to="keras")
    with pytest.raises(multiloss.PortError, match="no multiloss twin of this torch loss"):
        multiloss.port(torch.nn.Linear(2, 2), to="keras")
    with pytest.raises(multiloss.PortError, match="owns parameters"):
        multiloss.port(torch.nn.AdaptiveLogSoftmaxWithLoss(4, 6, [2]), to="jax")
    with pytest.raises(multiloss.PortError, match="is a torch function"):
        multiloss.port(torch.nn.TripletMarginWithDistanceLoss(distance_function=torch.nn.functional.l1_loss),
                       to="keras")
    with pytest.raises(ValueError, match="argument 'to' must be one of"):
        multiloss.port(torch.nn.MSELoss(), to="tensorflow")
    with pytest.raises(ValueError, match="argument 'targets' must be one of"):
        multiloss.port(torch.nn.MSELoss(), to="keras", targets="sparse-ish")


def test_plan_prints_runnable_code():
    _require("torch", "jax")
    import torch

    import multiloss

    plan = multiloss.port.plan(torch.nn.HuberLoss(delta=2.0, reduction="sum"), to="jax")
    ns: dict = {}
    exec("\n".join(plan.imports), ns)
    fn = eval(plan.code, ns)  # noqa: S307 - our own generated line
    x, y = np.random.default_rng(4).normal(size=(2, 5, 3))
    want = torch.nn.HuberLoss(delta=2.0, reduction="sum")(torch.tensor(x), torch.tensor(y)).item()
    assert abs(float(fn(x, y)) - want) < 1e-9 and abs(float(plan.build()(x, y)) - want) < 1e-9
    assert str(plan).splitlines()[0] == "# ported from torch.nn.HuberLoss(reduction='sum', delta=2.0)"


def test_torch_extras_take_their_options_by_keyword():
    _require("torch")
    import multiloss.torch as mt

    for cls in (mt.FocalLoss, mt.SCELoss, mt.MAPELoss, mt.CosineSimilarityLoss):
        with pytest.raises(TypeError):
            cls(0.5)
    assert mt.FocalLoss(alpha=0.5, gamma=1.0).alpha == 0.5


# ----------------------------------------------------------------------------- docs


def test_porting_doc_is_generated_from_the_tables():
    """docs/porting.md's generated sections (differences, table, refusals) are in sync:
    regenerate with `python -m multiloss.port.docs docs/porting.md`."""
    from multiloss.port import docs

    text = (ROOT / "docs" / "porting.md").read_text()
    assert docs.render(text) == text, "docs/porting.md is stale: python -m multiloss.port.docs docs/porting.md"
    assert "import multiloss.keras" in text and "load_model" in text  # the reload rule
    readme = (ROOT / "README.md").read_text()
    assert "docs/porting.md" in readme and "docs/ring.png" in readme and "load_model" in readme
    assert "docs/design.md" in readme and (ROOT / "docs" / "design.md").exists()


def test_no_user_facing_text_says_the_seed():
    import re

    paths = [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "examples").glob("*.py"),
             *(ROOT / "multiloss").rglob("*.py")]
    bad = [str(p.relative_to(ROOT)) for p in paths if re.search(r"\bthe seed\b|\bseed's\b", p.read_text(), re.I)]
    assert not bad, bad


# ----------------------------------------------------------------------------- the ring example


def test_ring_example_one_epoch(tmp_path):
    _require("torch", "keras", "jax")
    pytest.importorskip("matplotlib")
    spec = importlib.util.spec_from_file_location("ring_ported", ROOT / "examples" / "ring_ported.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "ring.png"
    res = mod.main(epochs=1, out=str(out), verbose=False)
    assert out.stat().st_size > 10_000
    base = np.asarray(res["torch"]["loss"])
    assert len(base) == 49 and base[-1] < base[0]
    for fw in ("keras", "jax"):
        rel = np.abs(np.asarray(res[fw]["loss"][:5]) - base[:5]) / base[:5]
        assert rel.max() < 1e-5, (fw, rel)  # the same weights, batches and ported loss
        assert abs(res[fw]["accuracy"] - res["torch"]["accuracy"]) < 0.02
