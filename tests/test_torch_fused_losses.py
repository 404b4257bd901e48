"""The torch override of ``_ops.fused_loss`` (multiloss/backends/torch_fused_losses.py): a
canonical loss whose torch-semantics body is one ATen kernel runs as that kernel, and where it
does not fit (int32 targets, ``ignore_index=None``, float16 BCE, empty margin batches) the
canonical body runs with the same values and gradients. Issue 12: one kernel each way at
small sizes, the range checks on the device (the kernel's), no host read-back."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

import multiloss  # noqa: E402
import multiloss.torch as mt  # noqa: E402
from multiloss import _ops  # noqa: E402


def _xy(n=6, c=5, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=dtype).requires_grad_(True)
    y = torch.randint(0, c, (n,), generator=g)
    return x, y


# loss -> (module, inputs, the ATen backward node of the single fused kernel)
FUSED = {
    "CrossEntropyLoss": (lambda: mt.CrossEntropyLoss(), "NllLossBackward0"),
    "NLLLoss": (lambda: mt.NLLLoss(), "NllLossBackward0"),
    "CrossEntropyLoss(weight, ls)": (
        lambda: mt.CrossEntropyLoss(weight=torch.rand(5, dtype=torch.float64) + 0.5, label_smoothing=0.1),
        "AddBackward0",  # torch's own label-smoothing graph: (1-e) nll + e/C smooth
    ),
}


@pytest.mark.parametrize("name", sorted(FUSED))
def test_class_losses_are_one_native_call_equal_to_torch(name):
    make, node = FUSED[name]
    x, y = _xy()
    ours = make()
    native = getattr(torch.nn, name.split("(")[0])(**{k: getattr(ours, k) for k in ("weight",) if getattr(ours, k, None) is not None},
                                                   **({"label_smoothing": ours.label_smoothing} if "ls" in name else {}))
    a, b = ours(x, y), native(x, y)
    assert type(a.grad_fn).__name__ == type(b.grad_fn).__name__ == node
    (ga,) = torch.autograd.grad(a, x)
    (gb,) = torch.autograd.grad(b, x)
    assert torch.equal(a, b) and torch.equal(ga, gb)


@pytest.mark.parametrize("mod, inputs, node", [
    ("MSELoss", "xt", "MseLossBackward0"),
    ("HuberLoss", "xt", "HuberLossBackward0"),
    ("SmoothL1Loss", "xt", "SmoothL1LossBackward0"),
    ("BCELoss", "pt", "BinaryCrossEntropyBackward0"),
    ("BCEWithLogitsLoss", "xt01", "BinaryCrossEntropyWithLogitsBackward0"),
    ("MultiMarginLoss", "xy", "MultiMarginLossBackward0"),
    ("MultiLabelMarginLoss", "xyy", "MultilabelMarginLossBackward0"),
])
def test_pointwise_and_margin_losses_are_one_native_call(mod, inputs, node):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 3, generator=g, requires_grad=True)
    args = {
        "xt": (x, torch.randn(4, 3, generator=g)),
        "pt": (torch.rand(4, 3, generator=g).requires_grad_(True), torch.rand(4, 3, generator=g)),
        "xt01": (x, torch.rand(4, 3, generator=g)),
        "xy": (x, torch.tensor([0, 2, 1, 2])),
        "xyy": (x, torch.tensor([[0, 2, -1], [1, -1, 0], [2, 1, 0], [-1, 0, 0]])),
    }[inputs]
    a = getattr(mt, mod)()(*args)
    b = getattr(torch.nn, mod)()(*args)
    assert type(a.grad_fn).__name__ == node
    assert torch.equal(a, b)


def test_out_of_range_targets_keep_multilosss_message_and_torchs_class():
    x, y = _xy()
    y[3] = 7
    for m, fn in ((mt.CrossEntropyLoss(), "cross_entropy"), (mt.NLLLoss(), "nll_loss")):
        with pytest.raises(IndexError, match=rf"^{fn}: argument 'target' must hold class indices in \[0, 5\).*\(e\.g\. 7\)"):
            m(x, y)
    with pytest.raises(RuntimeError, match=r"^binary_cross_entropy: argument 'input' must hold probabilities in \[0, 1\]"):
        mt.BCELoss()(x, torch.rand(6, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^multi_margin_loss: argument 'target' must hold class indices in \[0, 5\)"):
        mt.MultiMarginLoss()(x, y)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore", [False, True])
def test_canonical_body_on_torch_equals_the_fused_kernel(reduction, ignore, monkeypatch):
    # int32 targets do not fit ATen's (Long-only) kernel: the canonical Array API body runs on
    # torch tensors; it must give the kernel's value and gradient (weight, ignore, smoothing)
    from multiloss.backends import torch_fused_losses

    kernel, took = torch_fused_losses._KERNELS["cross_entropy"], []

    def spy(*args, **kwargs):
        out = kernel(*args, **kwargs)
        took.append(out is not NotImplemented)
        return out

    monkeypatch.setitem(torch_fused_losses._KERNELS, "cross_entropy", spy)
    x, y = _xy(n=8)
    if ignore:
        y[::3] = -100
    w = torch.rand(5, dtype=torch.float64) + 0.5
    kw = dict(weight=w, reduction=reduction, label_smoothing=0.2)
    a = multiloss.cross_entropy(x, y, **kw)
    b = multiloss.cross_entropy(x, y.to(torch.int32), **kw)
    assert took == [True, False]  # the kernel, then the canonical body
    ga, = torch.autograd.grad(a.sum(), x)
    gb, = torch.autograd.grad(b.sum(), x)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ga, gb, rtol=1e-12, atol=1e-12)


def test_every_target_ignored_gives_torchs_nan_value_and_zero_gradient():
    x, y = _xy()
    y[:] = -100
    for t in (y, y.to(torch.int32)):  # the fused kernel and the canonical body
        loss = mt.CrossEntropyLoss(label_smoothing=0.1)(x, t)
        (g,) = torch.autograd.grad(loss, x)
        assert torch.isnan(loss) and torch.equal(g, torch.zeros_like(g))


def test_bfloat16_bce_runs_the_fused_kernel_and_float16_stays_finite():
    g = torch.Generator().manual_seed(2)
    p = torch.rand(64, 10, generator=g).clamp(0.01, 0.99)
    t = torch.rand(64, 10, generator=g)
    pb = p.bfloat16().requires_grad_(True)
    loss = mt.BCELoss()(pb, t.bfloat16())
    assert type(loss.grad_fn).__name__ == "BinaryCrossEntropyBackward0"
    assert torch.equal(loss, torch.nn.BCELoss()(pb, t.bfloat16()))
    # float16 at the endpoints: ATen's kernel returns an infinite gradient, the generic body a finite one
    ph = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float16, requires_grad=True)
    th = torch.tensor([1.0, 0.0, 0.5], dtype=torch.float16)
    loss = mt.BCELoss()(ph, th)
    (gh,) = torch.autograd.grad(loss, ph)
    assert torch.isfinite(loss) and torch.isfinite(gh).all()


def test_empty_margin_batch_sums_to_zero_not_uninitialised_memory():
    x = torch.empty(0, 4, dtype=torch.float64, requires_grad=True)
    out = mt.MultiMarginLoss(reduction="sum")(x, torch.empty(0, dtype=torch.int64))
    assert out.item() == 0.0


def test_generic_fused_loss_is_not_implemented_and_unknown_names_fall_through():
    import numpy as np

    assert _ops.fused_loss.generic(np, "cross_entropy", np.zeros((2, 3)), np.zeros(2, dtype=int)) is NotImplemented
    from multiloss.backends.torch_fused_losses import fused_loss

    assert fused_loss("no_such_loss", torch.zeros(2)) is NotImplemented
    assert fused_loss("mse_loss", torch.zeros(2), torch.zeros(3)) is NotImplemented  # broadcasting: canonical
    assert fused_loss("mse_loss", torch.zeros(2), torch.zeros(2), weight=torch.ones(2)) is NotImplemented


# ----------------------------------------------------------------- lean_memory (issue 12 item 5)


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.1}, {"reduction": "none"}, {"reduction": "sum"},
                                {"weight": "w", "ignore_index": 2}])
def test_lean_memory_option_runs_the_chunked_function_with_torchs_numbers(kw):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(40, 300, generator=g, requires_grad=True)
    y = torch.randint(0, 300, (40,), generator=g)
    y[::9] = kw.get("ignore_index", -100)
    kw = {k: (torch.rand(300, generator=g) + 0.5 if v == "w" else v) for k, v in kw.items()}
    a = mt.CrossEntropyLoss(lean_memory=True, **kw)(x, y)
    b = F.cross_entropy(x, y, **kw)
    assert type(a.grad_fn).__name__ == "_LeanCrossEntropyBackward"
    up = torch.rand(a.shape, generator=g) if a.dim() else None  # a non-unit upstream gradient
    (ga,) = torch.autograd.grad(a, x, up)
    (gb,) = torch.autograd.grad(b, x, up)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-7)
    fa = mt.functional.cross_entropy(x, y, lean_memory=True, **kw)
    torch.testing.assert_close(fa, a)


def test_lean_memory_elsewhere_is_the_plain_path_and_errors_stay_clear():
    import numpy as np

    g = torch.Generator().manual_seed(6)
    x3 = torch.randn(4, 5, 3, generator=g, requires_grad=True)  # (N, C, d): the plain kernel
    y3 = torch.randint(0, 5, (4, 3), generator=g)
    torch.testing.assert_close(mt.CrossEntropyLoss(lean_memory=True)(x3, y3), F.cross_entropy(x3, y3))
    xn, yn = x3.detach()[:, :, 0].numpy(), y3[:, 0].numpy()
    np.testing.assert_allclose(multiloss.cross_entropy(xn, yn, lean_memory=True), multiloss.cross_entropy(xn, yn))
    x, y = _xy()
    y[1] = 9
    with pytest.raises(IndexError, match=r"^cross_entropy: argument 'target' must hold class indices in \[0, 5\)"):
        mt.CrossEntropyLoss(lean_memory=True)(x, y)
    with pytest.raises(TypeError, match=r"^cross_entropy: argument 'lean_memory' must be a bool; got 'yes'"):
        multiloss.cross_entropy(x, y, lean_memory="yes")
    with pytest.raises(TypeError, match="lean_memory"):
        mt.CrossEntropyLoss(lean_memory=1)


def test_porting_a_lean_cross_entropy_notes_that_the_option_stays_behind():
    plan = multiloss.port.plan(mt.CrossEntropyLoss(lean_memory=True), to="jax")
    assert any(n.startswith("lean_memory=True is not carried") for n in plan.notes)
    assert "lean_memory" in str(multiloss.port.plan(mt.CrossEntropyLoss(lean_memory=True), to="torch"))


@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "BCELoss", "MultiMarginLoss"])
def test_compiles_fullgraph_before_any_eager_call(name, monkeypatch):
    # the input policy's required-argument check inspects frames on its first None per loss
    # (multiloss._namespace._check_required): under dynamo that must not run (a graph break),
    # also when no eager call has memoised the loss's optional positions yet
    from multiloss import _namespace

    monkeypatch.setattr(_namespace, "_OPTIONAL", set())
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(3)
    x = torch.rand(4, 3, generator=g)
    y = torch.rand(4, 3, generator=g) if name == "BCELoss" else torch.tensor([0, 2, 1, 2])
    ours = torch.compile(getattr(mt, name)(), backend="eager", fullgraph=True)
    torch.testing.assert_close(ours(x, y), getattr(torch.nn, name)()(x, y))


# ----------------------------------------------------------------- composites (issue 12 item 2)
# margin_ranking / hinge_embedding / poisson_nll / kl_div / cosine_embedding / triplet_margin
# (and triplet_margin_with_distance_loss's default distance) run as one ATen call each. torch
# registers them CompositeImplicitAutograd: ATen runs the canonical body's ops in C++, so on
# finite inputs the fused call and the canonical body give the same bits, value and gradient.

_DTYPES = (torch.float64, torch.float32, torch.float16, torch.bfloat16)
_REDUCTIONS = ("none", "mean", "sum")


def _fused_vs_canonical(monkeypatch, kernel, loss, inputs, **kw):
    """``loss(*inputs, **kw)`` through the fused ``kernel`` (asserted taken), then with that
    kernel disabled (the canonical Array API body on the same torch tensors): both values, and
    the gradients of every floating input under a non-unit upstream gradient."""
    from multiloss.backends import torch_fused_losses

    real, took = torch_fused_losses._KERNELS[kernel], []

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        took.append(out is not NotImplemented)
        return out

    def declined(*args, **kwargs):
        return NotImplemented

    results = []
    for impl in (spy, declined):
        monkeypatch.setitem(torch_fused_losses._KERNELS, kernel, impl)
        xs = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
        out = loss(*xs, **kw)
        up = (torch.arange(out.numel(), dtype=torch.float64).reshape(out.shape) % 3 + 0.5).to(out.dtype)
        wrt = [x for x in xs if x.requires_grad]
        grads = torch.autograd.grad(out, wrt, up, allow_unused=True)
        results.append((out.detach(), [torch.zeros_like(x) if g is None else g for x, g in zip(wrt, grads)]))
    monkeypatch.setitem(torch_fused_losses._KERNELS, kernel, real)
    assert took == [True], f"{kernel}: the fused kernel was not taken"
    return results


def _assert_bitwise(results, what):
    (a, ga), (b, gb) = results
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True, msg=lambda m: f"{what} value: {m}")
    for x, y in zip(ga, gb):
        torch.testing.assert_close(x, y, rtol=0, atol=0, equal_nan=True, msg=lambda m: f"{what} gradient: {m}")


def _t(values, dtype):
    return torch.tensor(values, dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", _DTYPES)
def test_margin_ranking_and_hinge_embedding_fused_equal_the_canonical_body(dtype, monkeypatch):
    # kinks: x1 - x2 = margin (0.5) and x1 == x2 (margin 0) with y = 1; x = margin in the hinge;
    # labels outside {-1, 1} (torch does not check them); zeros; values near float16's range
    x1 = _t([0.75, -1.0, 2.0, 0.25, 0.0, 3e4, 1.0, -2.0, 0.5], dtype)
    x2 = _t([0.25, -1.0, 1.5, 0.75, 0.0, -3e4, 1.0, -2.5, 0.5], dtype)
    y = _t([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 0.0, 2.0, 1.0], dtype)
    for margin in (0.5, 0.0, -0.25, 2):
        for reduction in _REDUCTIONS:
            kw = {"margin": margin, "reduction": reduction}
            res = _fused_vs_canonical(monkeypatch, "margin_ranking_loss", multiloss.margin_ranking_loss, [x1, x2, y], **kw)
            _assert_bitwise(res, f"margin_ranking_loss {dtype} {kw}")
            res = _fused_vs_canonical(monkeypatch, "hinge_embedding_loss", multiloss.hinge_embedding_loss, [x1, y], **kw)
            _assert_bitwise(res, f"hinge_embedding_loss {dtype} {kw}")


@pytest.mark.parametrize("dtype", _DTYPES)
def test_poisson_nll_fused_equals_the_canonical_body(dtype, monkeypatch):
    # counts 0, 1 (Stirling's mask), fractional and large; log-rates whose exp overflows float16;
    # a rate of 0 (log(0 + eps))
    log_rate = _t([0.5, -1.0, 2.0, 0.0, -30.0, 3.0, 1.0, 12.0], dtype)
    rate = _t([0.5, 0.0, 2.0, 1e-3, 1.0, 3.0, 1.0, 10.0], dtype)
    counts = _t([0.0, 1.0, 2.0, 0.5, 5.0, 0.0, 3.0, 150.0], dtype)
    for log_input in (True, False):
        for full in (False, True):
            for eps in (1e-8, 0.1):
                for reduction in _REDUCTIONS:
                    x = log_rate if log_input else rate
                    kw = {"log_input": log_input, "full": full, "eps": eps, "reduction": reduction}
                    # counts that need no gradient: with full=True a target that requires grad
                    # runs the canonical body (ATen's Stirling term: a nan gradient at a count of 0)
                    res = _fused_vs_canonical(monkeypatch, "poisson_nll_loss", multiloss.poisson_nll_loss, [x],
                                              target=counts, **kw)
                    _assert_bitwise(res, f"poisson_nll_loss {dtype} {kw}")
                    if not full:  # the counts' gradient too
                        res = _fused_vs_canonical(monkeypatch, "poisson_nll_loss", multiloss.poisson_nll_loss,
                                                  [x, counts], **kw)
                        _assert_bitwise(res, f"poisson_nll_loss {dtype} {kw} (the counts' gradient)")


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'")
def test_kl_div_fused_equals_the_canonical_body(dtype, monkeypatch):
    g = torch.Generator().manual_seed(11)
    logp = torch.log_softmax(torch.randn(3, 2, 4, generator=g, dtype=torch.float64) * 3, -1).to(dtype)
    q = torch.softmax(torch.randn(3, 2, 4, generator=g, dtype=torch.float64), -1)
    q[0, 0, 1] = 0.0  # 0 log 0 = 0 (xlogy)
    q = q.to(dtype)
    for log_target in (False, True):
        for reduction in (*_REDUCTIONS, "batchmean"):
            target = torch.log(q) if log_target else q
            res = _fused_vs_canonical(monkeypatch, "kl_div", multiloss.kl_div, [logp, target],
                                      reduction=reduction, log_target=log_target)
            _assert_bitwise(res, f"kl_div {dtype} log_target={log_target} {reduction}")
    # a 0-d input: batchmean is the sum (F.kl_div divides only when input.dim() != 0)
    res = _fused_vs_canonical(monkeypatch, "kl_div", multiloss.kl_div, [logp[0, 0, 0], q[0, 0, 0]],
                              reduction="batchmean")
    _assert_bitwise(res, f"kl_div {dtype} 0-d batchmean")


@pytest.mark.parametrize("dtype", _DTYPES)
def test_cosine_embedding_fused_equals_the_canonical_body(dtype, monkeypatch):
    # a zero vector (float16's 1e-12 underflows: 0 / 0 = nan in both, as in torch), magnitudes
    # near ATen's EPSILON (a C++ float 1e-12: float64 sees 9.99999996e-13), equal vectors
    # (cos = 1), labels 0 and 2 (loss 0), integer and floating labels
    x1 = _t([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1e-7, 1e-7, 0.0], [-1.0, 0.5, 2.0], [3.0, -1.0, 0.0]], dtype)
    x2 = _t([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [2e-7, 1e-7, 0.0], [1.0, 0.5, -2.0], [0.0, 0.0, 1.0]], dtype)
    for y in (torch.tensor([1, -1, 1, -1, 0]), _t([-1.0, 1.0, -1.0, -1.0, 2.0], dtype)):
        for margin in (0.0, 0.5, -0.5):
            for reduction in _REDUCTIONS:
                kw = {"target": y, "margin": margin, "reduction": reduction}
                res = _fused_vs_canonical(monkeypatch, "cosine_embedding_loss", multiloss.cosine_embedding_loss,
                                          [x1, x2], **kw)
                _assert_bitwise(res, f"cosine_embedding_loss {dtype} {kw}")
    # unbatched (D,) with a 0-d label
    res = _fused_vs_canonical(monkeypatch, "cosine_embedding_loss", multiloss.cosine_embedding_loss,
                              [x1[3], x2[3]], target=torch.tensor(-1), reduction="none")
    _assert_bitwise(res, f"cosine_embedding_loss {dtype} unbatched")


def test_cosine_embedding_epsilon_is_atens_float():
    # torch 2.13 adds EPSILON = 1e-12 as a C++ float: at squared magnitudes near 1e-12 a float64
    # 1e-12 gives another value (2.7e-10 apart here); the canonical body (numpy here) uses the
    # float's value and gives torch's bits
    import numpy as np

    x1, x2, y = np.full((1, 4), 1e-7), np.full((1, 4), 2e-7), np.array([-1])
    native = torch.nn.CosineEmbeddingLoss(reduction="none")(*map(torch.as_tensor, (x1, x2, y))).numpy()
    assert np.array_equal(multiloss.cosine_embedding_loss(x1, x2, y, reduction="none"), native)
    dot, m1, m2 = 8e-14, 4e-14 + 1e-12, 16e-14 + 1e-12  # with a float64 1e-12: not torch's value
    assert abs(native[0] - dot / (m1 * m2) ** 0.5) > 1e-10


@pytest.mark.parametrize("dtype", _DTYPES)
def test_triplet_margin_fused_equals_the_canonical_body(dtype, monkeypatch):
    # row 0: the kink (p=1, eps=0: d(a, p) = 0, d(a, n) = 1 = margin); coinciding embeddings;
    # the swap taking the other negative distance
    a = _t([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [0.5, -1.0, 2.0], [1.0, 1.0, 1.0]], dtype)
    p = _t([[0.0, 0.0, 0.0], [1.0, 2.0, 3.5], [0.5, 1.0, 2.0], [2.0, 1.0, 1.0]], dtype)
    n = _t([[1.0, 0.0, 0.0], [1.0, 0.0, 3.0], [0.5, -1.0, 2.0], [1.0, -1.0, 1.0]], dtype)
    for margin in (1.0, 0.5, 2):
        for norm in (2.0, 1.0, float("inf"), 3, 0.5):
            for eps in (1e-6, 0.0):
                for swap in (False, True):
                    for reduction in _REDUCTIONS:
                        kw = {"margin": margin, "p": norm, "eps": eps, "swap": swap, "reduction": reduction}
                        res = _fused_vs_canonical(monkeypatch, "triplet_margin_loss", multiloss.triplet_margin_loss,
                                                  [a, p, n], **kw)
                        _assert_bitwise(res, f"triplet_margin_loss {dtype} {kw}")
    for swap in (False, True):
        for reduction in _REDUCTIONS:
            kw = {"margin": 0.5, "swap": swap, "reduction": reduction}
            res = _fused_vs_canonical(monkeypatch, "triplet_margin_loss",
                                      multiloss.triplet_margin_with_distance_loss, [a, p, n], **kw)
            _assert_bitwise(res, f"triplet_margin_with_distance_loss {dtype} {kw}")
            ours = multiloss.triplet_margin_with_distance_loss(a, p, n, **kw)
            assert torch.equal(ours, F.triplet_margin_with_distance_loss(a, p, n, **kw))


@pytest.mark.parametrize("reduction", _REDUCTIONS)
@pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'")
def test_composites_of_an_empty_batch(reduction, monkeypatch):
    e = torch.empty(0, dtype=torch.float64)
    e3 = torch.empty(0, 3, dtype=torch.float64)
    for kernel, loss, inputs, kw in (
        ("margin_ranking_loss", multiloss.margin_ranking_loss, [e, e, e], {}),
        ("hinge_embedding_loss", multiloss.hinge_embedding_loss, [e, e], {}),
        ("poisson_nll_loss", multiloss.poisson_nll_loss, [e], {"target": e, "full": True}),
        ("kl_div", multiloss.kl_div, [e3, e3], {}),
        ("cosine_embedding_loss", multiloss.cosine_embedding_loss, [e3, e3], {"target": e.long()}),
        ("triplet_margin_loss", multiloss.triplet_margin_loss, [e3, e3, e3], {}),
    ):
        res = _fused_vs_canonical(monkeypatch, kernel, loss, inputs, reduction=reduction, **kw)
        _assert_bitwise(res, f"{kernel} of an empty batch, {reduction}")
        want = {"mean": float("nan"), "sum": 0.0}.get(reduction)
        if want is not None:
            torch.testing.assert_close(res[0][0], torch.tensor(want, dtype=torch.float64), equal_nan=True)


_NATIVE = {  # module kwargs, inputs
    "MarginRankingLoss": ({"margin": 0.2}, "pair_signed"),
    "HingeEmbeddingLoss": ({"margin": 0.5}, "signed"),
    "PoissonNLLLoss": ({"full": True}, "counts"),
    "KLDivLoss": ({}, "probs"),
    "CosineEmbeddingLoss": ({"margin": 0.1}, "pairs"),
    "TripletMarginLoss": ({"swap": True, "p": 1.0}, "triplets"),
    "TripletMarginWithDistanceLoss": ({"swap": True}, "triplets"),
}


@pytest.mark.parametrize("name", sorted(_NATIVE))
@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_composite_modules_are_torchs_own_bits_with_nan_and_inf_inputs(name, reduction):
    # nan and inf in the inputs: the fused call is torch's own (nan through clamp_min, a zero
    # gradient where a clamp sees nan; the canonical where passes it): values and gradients
    # equal torch.nn's bit for bit
    kw, kind = _NATIVE[name]
    kw = {**kw, "reduction": reduction}
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64)
    x[1, 0], x[3, 2] = float("nan"), float("inf")
    other = torch.randn(5, 3, generator=g, dtype=torch.float64)
    args = {
        "pair_signed": (x[:, 0], x[:, 1], torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0], dtype=torch.float64)),
        "signed": (x, other.sign()),
        "counts": (x, torch.poisson(torch.full((5, 3), 2.0, dtype=torch.float64), generator=g)),
        "probs": (torch.log_softmax(x, 1), torch.softmax(other, 1)),
        "pairs": (x, other, torch.tensor([1, -1, -1, -1, 1])),
        "triplets": (x, other, -other),
    }[kind]
    outs = []
    for module in (getattr(mt, name)(**kw), getattr(torch.nn, name)(**kw)):
        xs = [a.detach().clone().requires_grad_(a.is_floating_point()) for a in args]
        if kind in ("signed", "counts"):
            xs[1].requires_grad_(False)  # labels; Poisson counts with full=True (see above)
        out = module(*xs)
        wrt = [a for a in xs if a.requires_grad]
        outs.append((out.detach(), torch.autograd.grad(out, wrt, torch.ones_like(out))))
    _assert_bitwise(outs, f"{name} {reduction}")


def test_composite_kernels_decline_what_they_do_not_fit_exactly():
    from multiloss.backends.torch_fused_losses import fused_loss

    x = torch.rand(4, 3, dtype=torch.float64)
    y = x.sign()
    decline = {
        "broadcast target": ("hinge_embedding_loss", x, y[:1], 1.0, "mean"),
        "target of another dtype": ("hinge_embedding_loss", x, y.float(), 1.0, "mean"),
        "integer input": ("hinge_embedding_loss", x.long(), y.long(), 1.0, "mean"),
        "array margin": ("hinge_embedding_loss", x, y, torch.tensor(1.0), "mean"),
        "bool margin": ("margin_ranking_loss", x, x, y, True, "mean"),
        "broadcast input2": ("margin_ranking_loss", x, x[:1], y, 0.0, "mean"),
        "full with a target that requires grad": (
            "poisson_nll_loss", x, x.clone().requires_grad_(True), True, True, 1e-8, "mean"),
        "non-bool full": ("poisson_nll_loss", x, x, True, 1, 1e-8, "mean"),
        "array eps": ("poisson_nll_loss", x, x, False, False, torch.tensor(0.1), "mean"),
        "non-bool log_target": ("kl_div", x, x, "sum", 1),
        "kl_div broadcast": ("kl_div", x, x[:1], "sum", False),
        "cosine labels per element": ("cosine_embedding_loss", x, x, y, 0.0, "mean"),
        "cosine 3-d inputs": ("cosine_embedding_loss", x[None], x[None], y[None, :, 0], 0.0, "mean"),
        "cosine broadcast input2": ("cosine_embedding_loss", x, x[:1], y[:, 0], 0.0, "mean"),
        "triplet array p": ("triplet_margin_loss", x, x, x, 1.0, torch.tensor(2.0), 1e-6, False, "mean"),
        "triplet non-bool swap": ("triplet_margin_loss", x, x, x, 1.0, 2.0, 1e-6, 1, "mean"),
        "triplet mixed dtypes": ("triplet_margin_loss", x, x.float(), x, 1.0, 2.0, 1e-6, False, "mean"),
    }
    for what, (name, *args) in decline.items():
        assert fused_loss(name, *args) is NotImplemented, what
    assert fused_loss("smooth_l1_loss", x, x, "mean", beta=torch.tensor(1.0)) is NotImplemented
    # and the canonical body then runs: a Poisson target that requires grad (full=True) keeps a
    # finite gradient at a count of 0, where ATen's Stirling term has nan
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    counts = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64, requires_grad=True)
    (gc,) = torch.autograd.grad(multiloss.poisson_nll_loss(x, counts, full=True), counts)
    assert torch.isfinite(gc).all()
    (gt,) = torch.autograd.grad(torch.nn.PoissonNLLLoss(full=True)(x, counts), counts)
    assert torch.isnan(gt[0])


def test_smooth_l1_with_beta_zero_is_l1_as_in_F():
    g = torch.Generator().manual_seed(8)
    x = torch.randn(4, 3, generator=g)
    y = torch.randn(4, 3, generator=g)
    x[0, 0] = y[0, 0]  # d = 0: l1's gradient there is 0 (sign)
    x.requires_grad_(True)
    a = mt.SmoothL1Loss(beta=0.0)(x, y)
    b = F.smooth_l1_loss(x, y, beta=0.0)
    assert type(a.grad_fn) is type(b.grad_fn)  # (torch 2.13's l1_loss: abs(x - y).mean())
    assert torch.equal(a, b)
    assert torch.equal(torch.autograd.grad(a, x)[0], torch.autograd.grad(b, x)[0])


_COMPILE = {
    "MSELoss": ({}, "xt"), "HuberLoss": ({"delta": 0.5}, "xt"), "SmoothL1Loss": ({"beta": 0.5}, "xt"),
    "BCELoss": ({}, "pt"), "BCEWithLogitsLoss": ({}, "xt01"), "MarginRankingLoss": ({"margin": 0.1}, "xxs"),
    "HingeEmbeddingLoss": ({}, "xs"), "PoissonNLLLoss": ({"full": True}, "xc"),
    "KLDivLoss": ({"reduction": "batchmean"}, "lq"), "CosineEmbeddingLoss": ({"margin": 0.2}, "xxl"),
    "TripletMarginLoss": ({"swap": True}, "xxx"), "TripletMarginWithDistanceLoss": ({}, "xxx"),
    "GaussianNLLLoss": ({}, "xtv"),
}


@pytest.mark.parametrize("name", sorted(_COMPILE))
def test_fused_modules_compile_fullgraph(name):
    kw, kind = _COMPILE[name]
    g = torch.Generator().manual_seed(9)
    x, y = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    s = torch.randn(4, 3, generator=g).sign()
    args = {
        "xt": (x, y), "pt": (torch.sigmoid(x), torch.rand(4, 3, generator=g)), "xt01": (x, torch.rand(4, 3, generator=g)),
        "xxs": (x, y, s), "xs": (x, s), "xc": (x, torch.poisson(torch.exp(x), generator=g)),
        "lq": (torch.log_softmax(x, 1), torch.softmax(y, 1)), "xxl": (x, y, s[:, 0].long()), "xxx": (x, y, -x),
        "xtv": (x, y, torch.rand(4, 3, generator=g) + 0.1),
    }[kind]
    torch._dynamo.reset()
    ours = torch.compile(getattr(mt, name)(**kw), backend="eager", fullgraph=True)
    torch.testing.assert_close(ours(*args), getattr(torch.nn, name)(**kw)(*args), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("low", [1e-6, 0.5, 0.0])
def test_gaussian_nll_skips_an_identity_clamp_with_the_same_bits(dtype, low):
    # host variances all >= eps: the canonical body skips its clamp (4 ops); with the value
    # checks off nothing is read and the clamp runs: the same value and gradients, bit for bit
    # (low = eps exactly: the clamp's where keeps var; low = 0: the clamp runs in both)
    g = torch.Generator().manual_seed(10)
    x, y = torch.randn(2, 3, 4, generator=g).to(dtype), torch.randn(2, 3, 4, generator=g).to(dtype)
    var = (torch.rand(2, 3, 4, generator=g) + 0.1).to(dtype)
    var[0, 0, 0] = low
    results = []
    for mode in ("auto", "off"):
        xs = [t.clone().requires_grad_(True) for t in (x, y, var)]
        with multiloss.value_checks(mode):
            out = multiloss.gaussian_nll_loss(*xs, full=True, reduction="none")
        seen, todo = set(), [out.grad_fn]
        while todo:
            node = todo.pop()
            if node is not None and node not in seen:
                seen.add(node)
                todo += [f for f, _ in node.next_functions]
        # (float32's 1e-6 is below the float 1e-6: the clamp runs; float64's is eps itself)
        skipped = mode == "auto" and float(var.min()) >= 1e-6
        assert ("WhereBackward0" not in {type(n).__name__ for n in seen}) == skipped, mode
        up = torch.rand(out.shape, generator=torch.Generator().manual_seed(1)).to(dtype)
        results.append((out.detach(), torch.autograd.grad(out, xs, up)))
    _assert_bitwise(results, f"gaussian_nll_loss {dtype} min(var)={low}")
    assert torch.equal(results[0][0], torch.nn.GaussianNLLLoss(full=True, reduction="none")(x, y, var))


def test_canonical_hinges_keep_nan_as_torchs_clamp_min(monkeypatch):
    # the canonical bodies themselves (kernels declined): a nan distance / cosine stays nan, as
    # through torch's clamp_min (it was 0: where(z >= 0, z, 0) drops nan), so the fused and the
    # canonical values agree on every backend's numbers
    from multiloss.backends import torch_fused_losses

    for kernel in ("triplet_margin_loss", "cosine_embedding_loss"):
        monkeypatch.setitem(torch_fused_losses._KERNELS, kernel, lambda *a, **k: NotImplemented)
    a = torch.tensor([[0.0, 1.0], [float("nan"), 0.0], [float("inf"), 0.0]], dtype=torch.float64)
    p = torch.tensor([[0.0, 0.0], [0.0, 0.0], [float("inf"), 1.0]], dtype=torch.float64)
    y = torch.tensor([-1, -1, -1])
    for ours, native in ((multiloss.triplet_margin_loss(a, p, -p, reduction="none"),
                          F.triplet_margin_loss(a, p, -p, reduction="none")),
                         (multiloss.cosine_embedding_loss(a, p, y, reduction="none"),
                          F.cosine_embedding_loss(a, p, y, reduction="none"))):
        assert torch.isnan(ours[1:]).all()
        torch.testing.assert_close(ours, native, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("dtype", (torch.float64, torch.float32))
@pytest.mark.parametrize("kw", [{}, {"reduction": "sum"}, {"reduction": "none"}, {"blank": 3},
                                {"zero_infinity": True, "reduction": "none"}])
def test_ctc_fused_equals_the_canonical_body(dtype, kw, monkeypatch):
    """Padded batched CTC is ATen's ctc_loss with its reduction: bitwise the canonical body
    (the same kernel for the recursion, the same mean), padding of any value included (the
    kernel never reads it), and an infeasible target (inf; 0 with zero_infinity)."""
    g = torch.Generator().manual_seed(11)
    lp = torch.randn(7, 3, 5, generator=g, dtype=torch.float64).log_softmax(2).to(dtype)
    blank = kw.get("blank", 0)
    targets = torch.tensor([[1, 2, 2, -7], [4, 1, 99, 99], [2, 2, 2, 2]])
    targets[targets == blank] = 4 if blank != 4 else 1
    il, tl = torch.tensor([7, 5, 6]), torch.tensor([3, 2, 4])  # row 2: 2 2 2 2 needs 7 frames, has 6
    res = _fused_vs_canonical(monkeypatch, "ctc_loss", multiloss.ctc_loss, [lp, targets, il, tl], **kw)
    _assert_bitwise(res, f"ctc_loss {kw}")


def test_ctc_fused_length_errors_keep_multilosss_message():
    lp = torch.randn(5, 2, 4).log_softmax(2)
    t = torch.tensor([[1, 2], [3, 1]])
    with pytest.raises(ValueError, match=r"ctc_loss: argument 'input_lengths' must hold lengths in \[0, 5\]"):
        multiloss.ctc_loss(lp, t, torch.tensor([6, 5]), torch.tensor([2, 2]))
    with pytest.raises(ValueError, match=r"ctc_loss: argument 'target_lengths' must hold lengths in \[0, 2\]"):
        multiloss.ctc_loss(lp, t, torch.tensor([5, 5]), torch.tensor([-1, 2]))
    with pytest.raises(ValueError, match="ctc_loss: argument 'targets' must hold class indices"):
        multiloss.ctc_loss(lp, torch.tensor([[1, 9], [3, 1]]), torch.tensor([5, 5]), torch.tensor([2, 2]))
