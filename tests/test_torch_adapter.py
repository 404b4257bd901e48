"""The PyTorch adapter (multiloss.torch): conformance with torch.nn, signatures, buffers,
torch.compile without graph breaks, gradcheck, penalties, legacy arguments and bad input."""

from __future__ import annotations

import inspect
import io
import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import multiloss  # noqa: E402
import multiloss.torch as mt  # noqa: E402
import multiloss.torch.functional as mF  # noqa: E402
from multiloss.backends.torch import TABLE  # noqa: E402
from multiloss.conformance import domains, runner  # noqa: E402
from multiloss.conformance.natives_torch import checks_of  # noqa: E402

TWINS = [e for e in TABLE if e.native]
EXTRAS = [e for e in TABLE if not e.native]
ALL_CLASSES = [e.name for e in TABLE]
# generated modules (rows whose class owns parameters are tested in their family's module:
# tests/test_parametric_losses.py builds them with their constructor arguments)
GENERATED = [e.name for e in TABLE if not e.module]


# --------------------------------------------------------------------------- conformance


# Every native case runs, one id per cell, in conformance/test_conformance.py; here: coverage.


def test_every_twin_has_native_cases_and_every_extra_a_canonical_case():
    natives = runner.native_cases("torch")
    names = {c.name for c in natives}
    for e in TWINS:
        assert e.name in names, f"{e.name} has no native conformance case"
        if e.functional:  # AdaptiveLogSoftmaxWithLoss has no functional form in torch
            assert f"F.{e.functional}" in names, f"{e.functional} has no native conformance case"
    # each twin is checked in both dtypes
    assert all(set(c.dtypes) >= {"float32", "float64"} for c in natives)
    canonical = {c.loss for c in runner.canonical_cases()}
    for e in EXTRAS:
        assert e.loss.__name__ in canonical


def test_runner_catches_a_wrong_twin():
    """The native comparison can fail: MSELoss against torch's L1Loss must be flagged."""
    from multiloss.conformance.spec import NativeCase

    case = NativeCase("torch", "wrong", mt.MSELoss, torch.nn.L1Loss, "regression")
    cells = runner.run_job(runner.Job(case, "torch", "float64"))
    assert cells and not any(c.ok for c in cells)


# --------------------------------------------------------------------------- signatures


# multiloss's options beyond torch's: keyword-only, after torch's, defaults that are torch's
# behaviour (issue 12: CrossEntropyLoss(lean_memory=True), the gradient in the forward pass)
BEYOND_TORCH = {"CrossEntropyLoss": [("lean_memory", False)], "cross_entropy": [("lean_memory", False)]}


def _same_as_torch_plus_extras(name, ours, theirs):
    ours = [(p.name, p.default, p.kind) for p in ours.parameters.values()]
    theirs = [(p.name, p.default, p.kind) for p in theirs.parameters.values()]
    extras = [(n, d, inspect.Parameter.KEYWORD_ONLY) for n, d in BEYOND_TORCH.get(name, [])]
    assert ours == theirs + extras


@pytest.mark.parametrize("entry", TWINS, ids=lambda e: e.name)
def test_constructor_signature_is_torchs(entry):
    _same_as_torch_plus_extras(entry.name, inspect.signature(getattr(mt, entry.name)),
                               inspect.signature(getattr(torch.nn, entry.name)))


@pytest.mark.parametrize("entry", [e for e in TWINS if e.functional], ids=lambda e: e.functional)
def test_functional_signature_is_torchs(entry):
    ours = inspect.signature(getattr(mF, entry.functional))
    theirs = inspect.signature(getattr(torch.nn.functional, entry.functional))
    extras = [n for n, _ in BEYOND_TORCH.get(entry.functional, [])]
    assert [(p.name, p.default) for p in ours.parameters.values() if p.name not in extras] == [
        (p.name, p.default) for p in theirs.parameters.values()
    ]
    assert [p.name for p in ours.parameters.values()][len(theirs.parameters):] == extras


def test_extras_signatures_and_defaults():
    # keyword-only (issue 14): mt.FocalLoss(0.75, 2.0) must not silently differ from keras's order
    assert str(inspect.signature(mt.FocalLoss)) == "(*, alpha=0.75, gamma=2.0, from_logits=False, reduction='mean')"
    assert str(inspect.signature(mt.SCELoss)) == "(*, alpha=0.1, beta=1.0, reduction='mean')"
    m = mt.FocalLoss()
    assert (m.alpha, m.gamma, m.from_logits, m.reduction) == (0.75, 2.0, False, "mean")
    assert mt.CosineSimilarityLoss().dim == 1


@pytest.mark.parametrize("name", ALL_CLASSES)
def test_is_a_torch_loss_module_with_docs(name):
    cls, entry = getattr(mt, name), {e.name: e for e in TABLE}[name]
    assert issubclass(cls, torch.nn.Module)
    native = getattr(torch.nn, entry.native, None)
    if native is None or issubclass(native, torch.nn.modules.loss._Loss):  # as torch's own class
        assert issubclass(cls, torch.nn.modules.loss._Loss)
    assert cls.__module__ == "multiloss.torch" and cls.__name__ == name
    assert "multiloss." in cls.__doc__ and ("Shapes:" in cls.__doc__ or entry.module)
    if entry.functional:
        assert "Shapes:" in getattr(mF, entry.functional).__doc__


def test_import_does_not_shadow_torch():
    import torch as real_torch

    assert real_torch.nn.Module is torch.nn.Module
    assert mt.functional.cross_entropy is not torch.nn.functional.cross_entropy
    # torch's own positive cosine_similarity is not shadowed by the (negative) loss
    assert not hasattr(mF, "cosine_similarity")


# --------------------------------------------------------------------------- values


def _inputs(name, dtype=torch.float64, seed=0, shape=(4, 3)):
    """The positional arrays of ``name``'s forward: hand-made for the first rows, else the
    first conformance domain of the row (``checks_of``), as ``dtype`` tensors."""
    entry = {e.name: e for e in TABLE}[name]
    if entry.loss.__module__.rsplit(".", 1)[-1] not in ("regression", "classification") and name != "KLDivLoss":
        data = domains.make(checks_of(entry)[0].domain)
        arrays = (data["pred"], data["target"], *data.get("args", ()))
        return tuple(torch.as_tensor(a, dtype=dtype if np.issubdtype(a.dtype, np.floating) else None) for a in arrays)
    g = torch.Generator().manual_seed(seed)
    n, c = shape
    x = torch.randn(n, c, generator=g, dtype=dtype)
    if name in ("CrossEntropyLoss", "NLLLoss", "SCELoss"):
        return x, torch.randint(0, c, (n,), generator=g)
    if name in ("CategoricalFocalLoss", "GeneralizedCrossEntropyLoss"):  # probabilities, class indices
        return torch.softmax(x, 1), torch.randint(0, c, (n,), generator=g)
    if name in ("BCELoss", "FocalLoss"):
        return torch.rand(n, c, generator=g, dtype=dtype) * 0.9 + 0.05, torch.randint(0, 2, (n, c), generator=g).to(dtype)
    if name == "BCEWithLogitsLoss":
        return x, torch.randint(0, 2, (n, c), generator=g).to(dtype)
    if name == "KLDivLoss":
        return torch.log_softmax(x, 1), torch.softmax(torch.randn(n, c, generator=g, dtype=dtype), 1)
    if name == "HingeLoss":
        return x, torch.randint(0, 2, (n, c), generator=g).to(dtype) * 2 - 1
    if name == "MAPELoss":
        return x, torch.rand(n, c, generator=g, dtype=dtype) + 0.5
    return x, torch.randn(n, c, generator=g, dtype=dtype)


# options that exercise each class's non-default paths (buffers, masks, smoothing ...)
_OPTIONS = {
    "CrossEntropyLoss": {"weight": torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64), "label_smoothing": 0.1},
    "NLLLoss": {"weight": torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)},
    "BCELoss": {"weight": torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)},
    "BCEWithLogitsLoss": {"pos_weight": torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)},
    "KLDivLoss": {"reduction": "batchmean"},
    "SmoothL1Loss": {"beta": 0.5},
    "HuberLoss": {"delta": 0.5},
    "FocalLoss": {"gamma": 1.5},
}


@pytest.mark.parametrize("name", [e.name for e in EXTRAS])
def test_extras_equal_canonical(name):
    entry = {e.name: e for e in TABLE}[name]
    x, *rest = _inputs(name)
    got = getattr(mt, name)(reduction="none")(x, *rest)
    want = entry.loss(x, *rest, reduction="none")
    torch.testing.assert_close(got, want)
    assert got.shape == want.shape


def test_seed_figures_through_focal_module():
    """The focal-loss worked example of the survey (gamma=2, alpha=0.75; y = [1, 0]) through the modules."""
    y = torch.tensor([1.0, 0.0], dtype=torch.float64)
    easy = torch.tensor([0.9, 0.1], dtype=torch.float64)
    hard = torch.tensor([0.5, 0.5], dtype=torch.float64)
    assert round(mt.FocalLoss()(easy, y).item(), 4) == 0.0005
    assert round(mt.BCELoss()(easy, y).item(), 4) == 0.1054
    assert round(mt.FocalLoss()(hard, y).item(), 4) == 0.0866
    assert round(mt.BCELoss()(hard, y).item(), 4) == 0.6931


def test_attributes_can_be_reassigned_like_torch():
    x, y = _inputs("MSELoss")
    m = mt.MSELoss()
    m.reduction = "sum"
    torch.testing.assert_close(m(x, y), torch.nn.functional.mse_loss(x, y, reduction="sum"))


def test_vmap_and_func_grad():
    """torch.func transforms: value checks are skipped on wrapped tensors (no .item())."""
    x, y = _inputs("CrossEntropyLoss")
    per_sample = torch.func.vmap(lambda a, b: mF.cross_entropy(a, b))(x, y)
    torch.testing.assert_close(per_sample, torch.nn.functional.cross_entropy(x, y, reduction="none"))
    g = torch.func.grad(lambda a: mF.cross_entropy(a, y))(x)
    torch.testing.assert_close(g, torch.func.grad(lambda a: torch.nn.functional.cross_entropy(a, y))(x))


# --------------------------------------------------------------------------- autograd


@pytest.mark.parametrize("name", GENERATED)
def test_gradcheck_float64(name):
    x, *rest = _inputs(name)
    m = getattr(mt, name)(**_OPTIONS.get(name, {}))
    x = x.detach().requires_grad_(True)
    if name == "CTCLoss":
        # torch's CTC kernel (which CTCLoss runs on torch tensors) returns the gradient for
        # log_probs that are a log_softmax (exp(log_probs) - posterior); off that manifold
        # it is not the derivative, for torch's own nn.CTCLoss too: check through log_softmax
        assert torch.autograd.gradcheck(lambda a: m(a.log_softmax(-1), *rest), (x,), eps=1e-6, atol=1e-6)
        return
    assert torch.autograd.gradcheck(lambda a: m(a, *rest), (x,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", GENERATED)
def test_torch_compile_fullgraph_forward_backward(name):
    """torch.compile(fullgraph=True) of forward + backward: a graph break raises. The
    backend is "aot_eager" (AOTAutograd traces the joint forward/backward graph; inductor's
    C++ codegen is too slow for a unit test on a 2-core machine)."""
    torch._dynamo.reset()
    m = getattr(mt, name)(**_OPTIONS.get(name, {}))
    x, *rest = _inputs(name)
    x = x.detach().requires_grad_(True)

    @torch.compile(fullgraph=True, backend="aot_eager")
    def step(a, *more):
        return m(a, *more)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dynamo's lru_cache notes
        out = step(x, *rest)
        out.backward()
    x_ref = x.detach().clone().requires_grad_(True)
    ref = m(x_ref, *rest)
    ref.backward()
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_torch_compile_class_index_paths():
    """ignore_index, (N, C, d) input and probability targets compile without a graph break."""
    torch._dynamo.reset()
    w = torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)
    x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True)
    y = torch.randint(0, 3, (2, 4))
    yp = torch.softmax(torch.randn(2, 3, 4, dtype=torch.float64), 1)
    # torch rejects ignore_index >= 0 with probability targets, so that case uses the default
    for kw, target in (({"ignore_index": 1}, y), ({}, yp)):
        m = mt.CrossEntropyLoss(weight=w, label_smoothing=0.2, **kw)
        f = torch.compile(lambda a, b, m=m: m(a, b), fullgraph=True, backend="aot_eager")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            got = f(x, target)
        torch.testing.assert_close(got, torch.nn.CrossEntropyLoss(weight=w, label_smoothing=0.2, **kw)(x, target))


# --------------------------------------------------------------------------- buffers / state


def test_weight_buffers_state_dict_and_to():
    w = torch.tensor([0.5, 1.0, 2.0])
    m = mt.CrossEntropyLoss(weight=w)
    assert "weight" in dict(m.named_buffers())
    assert set(m.state_dict()) == set(torch.nn.CrossEntropyLoss(weight=w).state_dict()) == {"weight"}
    m2 = mt.CrossEntropyLoss(weight=torch.ones(3))
    m2.load_state_dict(m.state_dict())
    torch.testing.assert_close(m2.weight, w)
    m.double()
    assert m.weight.dtype == torch.float64
    m.to(torch.device("meta"))
    assert m.weight.device.type == "meta"
    b = mt.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.full((3,), 2.0))
    assert set(b.state_dict()) == {"weight", "pos_weight"}
    # a None buffer is registered but not saved, as in torch
    assert mt.BCEWithLogitsLoss().state_dict() == {} and mt.BCEWithLogitsLoss().weight is None


def test_buffers_follow_the_module_in_forward():
    x, y = _inputs("BCEWithLogitsLoss", dtype=torch.float32)
    m = mt.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0]))
    ref = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(m.double()(x.double(), y.double()), ref.double()(x.double(), y.double()))


def test_pickle_and_torch_save_round_trip():
    m = mt.FocalLoss(alpha=0.5, gamma=1.0)
    m2 = pickle.loads(pickle.dumps(m))
    assert type(m2) is mt.FocalLoss and (m2.alpha, m2.gamma) == (0.5, 1.0)
    buf = io.BytesIO()
    torch.save(mt.CrossEntropyLoss(weight=torch.ones(3)), buf)
    buf.seek(0)
    m3 = torch.load(buf, weights_only=False)
    assert isinstance(m3, mt.CrossEntropyLoss) and torch.equal(m3.weight, torch.ones(3))


def test_repr_shows_non_defaults():
    assert repr(mt.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(mt.FocalLoss(gamma=1.0)) == "FocalLoss(gamma=1.0)"


# --------------------------------------------------------------------------- legacy arguments


@pytest.mark.parametrize(
    "size_average,reduce,expected",
    [(None, None, "mean"), (False, None, "sum"), (None, False, "none"), (False, False, "none"), (True, True, "mean")],
)
def test_legacy_size_average_reduce(size_average, reduce, expected):
    x, y = _inputs("CrossEntropyLoss")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        m = mt.CrossEntropyLoss(size_average=size_average, reduce=reduce)
        got_f = mF.cross_entropy(x, y, size_average=size_average, reduce=reduce)
        native = torch.nn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
    assert m.reduction == native.reduction == expected
    if size_average is not None or reduce is not None:
        assert any("size_average and reduce" in str(w.message) for w in rec)
    torch.testing.assert_close(m(x, y), native(x, y))
    torch.testing.assert_close(got_f, native(x, y))


def test_legacy_args_positional_like_torch():
    # torch's positional order: MSELoss(size_average, reduce, reduction)
    with pytest.warns(UserWarning, match="size_average and reduce"):
        m = mt.MSELoss(False)
    assert m.reduction == "sum"
    assert mt.SmoothL1Loss(None, None, "none", 0.5).beta == 0.5
    assert mt.HuberLoss("sum", 2.0).delta == 2.0  # HuberLoss has no legacy args in torch


# --------------------------------------------------------------------------- penalties


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(2, 4)
        self.fc2 = torch.nn.Linear(4, 1)


def test_penalties_skip_bias_by_name():
    net = _Net()
    w1, w2 = net.fc1.weight, net.fc2.weight
    l1 = mt.l1_penalty(net, 0.01)
    l2 = mt.l2_penalty(net, 0.01)
    torch.testing.assert_close(l1, 0.01 * (w1.abs().sum() + w2.abs().sum()))
    torch.testing.assert_close(l2, 0.01 * ((w1 ** 2).sum() + (w2 ** 2).sum()))
    all_params = sum(p.abs().sum() for p in net.parameters())
    torch.testing.assert_close(mt.l1_penalty(net, 0.01, exclude_bias=False), 0.01 * all_params)
    # gradients flow to the weights only
    (l1 + l2).backward()
    assert net.fc1.bias.grad is None and net.fc1.weight.grad is not None


def test_penalties_accept_iterables_and_match_canonical():
    net = _Net()
    params = [net.fc1.weight, net.fc2.weight]
    torch.testing.assert_close(mt.l1_penalty(params, 0.5), multiloss.l1_penalty(params, 0.5))
    named = list(net.named_parameters())
    torch.testing.assert_close(mt.l2_penalty(named, 0.5), mt.l2_penalty(net, 0.5))
    assert mF.l1_penalty is mt.l1_penalty


def test_penalty_errors():
    with pytest.raises(TypeError, match="l1_penalty: argument 'module'"):
        mt.l1_penalty(torch.ones(3), 0.1)
    with pytest.raises(TypeError, match="l2_penalty: argument 'module'"):
        mt.l2_penalty(3.0, 0.1)
    only_bias = torch.nn.Module()
    only_bias.bias = torch.nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match="exclude_bias=False"):
        mt.l1_penalty(only_bias, 0.1)


# --------------------------------------------------------------------------- bad input


def test_bad_target_size_for_class_indices():
    m = mt.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"cross_entropy: Expected target size \(4,\)"):
        m(torch.randn(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"nll_loss: Expected target size \(2, 5\)"):
        mt.NLLLoss()(torch.randn(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))


def test_bad_label_values():
    with pytest.raises(ValueError, match=r"cross_entropy: argument 'target' must hold class indices in \[0, 3\)"):
        mt.CrossEntropyLoss()(torch.randn(4, 3), torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="ignore_index=-1"):
        mt.CrossEntropyLoss(ignore_index=-1)(torch.randn(4, 3), torch.tensor([0, 1, -5, 0]))


def test_bad_target_dtype_and_shape_for_probabilities():
    # a float target is read as probabilities, so it needs the input's shape
    with pytest.raises((TypeError, ValueError), match="cross_entropy: argument 'target'"):
        mt.CrossEntropyLoss()(torch.randn(4, 3), torch.zeros(4))
    with pytest.raises(TypeError, match="cross_entropy: argument 'target' holds class indices"):
        mt.CrossEntropyLoss()(torch.randn(4, 3), torch.zeros(4, dtype=torch.bool))
    with pytest.raises(ValueError, match="cross_entropy: argument 'target' must have the same shape"):
        mt.CrossEntropyLoss()(torch.randn(4, 3), torch.rand(4, 2))


def test_bce_target_size_must_match_like_torch():
    with pytest.raises(ValueError, match="binary_cross_entropy: argument 'target' must have the same shape"):
        mt.BCELoss()(torch.rand(4, 3), torch.rand(4, 1))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: argument 'target'"):
        mt.BCEWithLogitsLoss()(torch.randn(4, 3), torch.rand(3))


def test_bce_probabilities_out_of_range():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: argument 'input' must hold probabilities in \[0, 1\]"):
        mt.BCELoss()(torch.tensor([0.5, 1.5]), torch.tensor([1.0, 0.0]))


def test_integer_input_rejected():
    # integer input *and* target (torch: "mse_cpu" not implemented for 'Long'); an integer input
    # with a float target is promoted, as torch does (docs/input-policy.md, tests/test_input_policy.py)
    with pytest.raises(TypeError, match="mse_loss: argument 'input' must be a real floating-point array"):
        mt.MSELoss()(torch.ones(3, dtype=torch.long), torch.ones(3, dtype=torch.long))


def test_broadcast_warns_like_torch():
    with pytest.warns(UserWarning, match="mse_loss: using a 'target' of shape"):
        mt.MSELoss()(torch.randn(4, 3), torch.randn(3))


def test_bad_weight_shape():
    with pytest.raises(ValueError, match=r"cross_entropy: argument 'weight' must be a 1-D array with one entry per class \(shape \(3,\)\)"):
        mt.CrossEntropyLoss(weight=torch.ones(4))(torch.randn(2, 3), torch.tensor([0, 1]))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="CrossEntropyLoss: argument 'reduction' must be one of 'none', 'mean', 'sum'; got 'avg'"):
        mt.CrossEntropyLoss(reduction="avg")
    with pytest.raises(TypeError, match="CrossEntropyLoss: argument 'weight' must be a torch.Tensor or None; got list"):
        mt.CrossEntropyLoss(weight=[1.0, 2.0])
    with pytest.raises(TypeError, match="HuberLoss: argument 'delta' must be a float or int"):
        mt.HuberLoss(delta="1")
    with pytest.raises(TypeError, match="FocalLoss: argument 'from_logits' must be a bool"):
        mt.FocalLoss(from_logits=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
        mt.CosineSimilarityLoss(axis=1)
    assert mt.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    assert mt.FocalLoss(alpha=None).alpha is None


def test_bad_values_of_options():
    with pytest.raises(ValueError, match="label_smoothing"):
        mt.CrossEntropyLoss(label_smoothing=1.5)(torch.randn(2, 3), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="smooth_l1_loss: argument 'beta' must be >= 0"):
        mt.SmoothL1Loss(beta=-1.0)(torch.randn(2), torch.randn(2))


def test_mixed_frameworks_rejected():
    # torch requires tensors: the argument is named (docs/input-policy.md)
    with pytest.raises(TypeError, match="MSELoss: argument 'target' must be a torch.Tensor; got numpy.ndarray"):
        mt.MSELoss()(torch.randn(3), np.ones(3))
