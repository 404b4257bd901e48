"""The memory-lean cross-entropy (multiloss/backends/torch_lean_ce.py) equals
``torch.nn.functional.cross_entropy`` in value and input gradient for every option, and keeps
its memory promise: the graph holds one gradient buffer, which becomes ``.grad`` without a copy,
and forward+backward peaks at about 1x the logits above the input (torch: 3x)."""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402

from multiloss.backends import torch_lean_ce  # noqa: E402
from multiloss.backends.torch_lean_ce import default_chunk_rows, lean_cross_entropy  # noqa: E402
from multiloss.errors import DTypeError, IndexRangeError, OptionError, ShapeError  # noqa: E402

N, C = 11, 7
CHUNKS = (None, 1, 3, 50)  # default, one row, odd (tail of 2), more than N
TIGHT = {torch.float64: {"rtol": 1e-12, "atol": 1e-12}, torch.float32: {"rtol": 2e-5, "atol": 2e-6}}


def _inputs(dtype, ignore, weighted, n=N, c=C, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=torch.float64) * 3
    t = torch.randint(0, c, (n,), generator=g)
    if ignore == "some":
        t[::3] = -100
    elif ignore == "all":
        t[:] = -100
    w = (torch.rand(c, generator=g, dtype=torch.float64) + 0.1).to(dtype) if weighted else None
    return x.to(dtype), t, w


def _both(x, t, w=None, upstream=None, **kw):
    """(value, input gradient) of ours and of torch's; backward of ``sum(upstream * loss)``
    (``upstream``: a ramp from -1 to 2 by default for per-row losses)."""
    out = []
    for fn in (lean_cross_entropy, F.cross_entropy):
        xi = x.detach().clone().requires_grad_()
        kw_fn = dict(kw) if fn is lean_cross_entropy else {k: v for k, v in kw.items() if k != "chunk_rows"}
        loss = fn(xi, t, w, **kw_fn)
        if upstream is None and loss.dim():  # per-row losses: a non-uniform upstream gradient
            upstream = torch.linspace(-1.0, 2.0, loss.shape[0], dtype=loss.dtype)
        (loss if upstream is None else (loss * upstream).sum()).backward()
        out.append((loss.detach(), xi.grad))
    return out


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("ignore", ["none", "some", "all"])
@pytest.mark.parametrize("weighted", [False, True], ids=["noweight", "weight"])
def test_equals_torch_for_every_option(dtype, reduction, label_smoothing, ignore, weighted):
    x, t, w = _inputs(dtype, ignore, weighted)
    for chunk_rows in CHUNKS:
        (v, g), (rv, rg) = _both(x, t, w, reduction=reduction, label_smoothing=label_smoothing,
                                 chunk_rows=chunk_rows)
        assert v.dtype == rv.dtype == dtype and v.shape == rv.shape
        torch.testing.assert_close(v, rv, equal_nan=True, **TIGHT[dtype])
        torch.testing.assert_close(g, rg, **TIGHT[dtype])


def test_all_ignored_mean_is_nan_with_a_zero_gradient():
    """torch: 0/0 -> nan, and no row contributes a gradient (read from torch, pinned here)."""
    x, t, w = _inputs(torch.float64, "all", True)
    for weight in (None, w):
        for ls in (0.0, 0.2):
            (v, g), (rv, rg) = _both(x, t, weight, label_smoothing=ls)
            assert torch.isnan(v) and torch.isnan(rv)
            assert torch.equal(g, torch.zeros_like(g)) and torch.equal(rg, g)


def test_zero_total_weight_gives_torch_nans():
    """Kept rows whose class weight is 0 while the weights sum to 0: nan rows, as torch."""
    x, _, _ = _inputs(torch.float64, "none", False)
    t = torch.tensor([1, 2, -100, 1, 2, 1, 1, -100, 2, 2, 1])
    w = torch.ones(C, dtype=torch.float64)
    w[1] = w[2] = 0
    (v, g), (rv, rg) = _both(x, t, w, label_smoothing=0.1, chunk_rows=4)
    assert torch.isnan(v) and torch.isnan(rv)
    torch.testing.assert_close(g, rg, equal_nan=True)
    assert torch.equal(g[2], torch.zeros(C, dtype=torch.float64))


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_non_finite_logits_in_ignored_rows_do_not_leak(reduction, label_smoothing):
    """torch's nll_loss skips ignored rows and masks the smoothing term: their loss is 0 even
    with inf / nan logits (their gradient is nan in both: softmax of nan times 0)."""
    x, t, _ = _inputs(torch.float64, "some", False)
    x[0, 2], x[3, 1] = float("inf"), float("nan")  # rows 0 and 3 are ignored
    (v, g), (rv, rg) = _both(x, t, reduction=reduction, label_smoothing=label_smoothing, chunk_rows=2)
    assert torch.isfinite(v).all()
    torch.testing.assert_close(v, rv, **TIGHT[torch.float64])
    torch.testing.assert_close(g, rg, equal_nan=True, **TIGHT[torch.float64])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_empty_batch(reduction):
    x = torch.zeros(0, C, dtype=torch.float32)
    t = torch.zeros(0, dtype=torch.long)
    (v, g), (rv, rg) = _both(x, t, reduction=reduction)
    assert v.shape == rv.shape and g.shape == rg.shape == (0, C)
    torch.testing.assert_close(v, rv, equal_nan=True)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bfloat16", "float16"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1, "weight": True}], ids=["plain", "smooth_weight"])
def test_half_precision(dtype, reduction, options):
    """Loose: both compute in float32, but torch rounds log_softmax's output (and nll_loss's
    gradient) to 16 bits between its kernels, while the lean path keeps float32 through the
    chunk and rounds only the final loss and gradient. So we compare with torch to a few 16-bit
    ulps, and require ours to be at least about as close to the float64 truth as torch's."""
    x64, t, w64 = _inputs(torch.float64, "some", options.get("weight", False), n=40, c=300)
    x = x64.to(dtype)
    w = None if w64 is None else w64.to(dtype)
    ls = options.get("label_smoothing", 0.0)
    (v, g), (rv, rg) = _both(x, t, w, reduction=reduction, label_smoothing=ls, chunk_rows=7)
    assert v.dtype == g.dtype == dtype
    # truth: the float64 computation on the same (rounded) inputs
    (tv, tg), _ = _both(x.double(), t, None if w is None else w.double(), reduction=reduction,
                        label_smoothing=ls)
    tol = {"rtol": 2e-2, "atol": 2e-3} if dtype == torch.bfloat16 else {"rtol": 4e-3, "atol": 4e-4}
    torch.testing.assert_close(v, rv, **tol)
    torch.testing.assert_close(g, rg, **tol)
    ulp = torch.finfo(dtype).eps
    assert (v.double() - tv).abs().max() <= (rv.double() - tv).abs().max() + ulp * tv.abs().max()
    assert (g.double() - tg).abs().max() <= (rg.double() - tg).abs().max() + ulp * tg.abs().max()


@pytest.mark.parametrize("layout", ["transposed", "column_slice", "row_slice"])
def test_non_contiguous_input(layout):
    g = torch.Generator().manual_seed(1)
    base = torch.randn(2 * C, 2 * N, generator=g, dtype=torch.float64)
    x = {"transposed": base[:C, :N].t(), "column_slice": base.t()[:N, ::2],
         "row_slice": base.t()[::2, :C]}[layout]
    assert not x.is_contiguous() and x.shape == (N, C)
    t = torch.randint(0, C, (N,), generator=g)
    t[1] = -100
    for kw in ({}, {"label_smoothing": 0.3, "reduction": "sum"}):
        xi = x.detach().requires_grad_()
        lean_cross_entropy(xi, t, chunk_rows=4, **kw).backward()
        xr = x.detach().requires_grad_()
        F.cross_entropy(xr, t, **kw).backward()
        torch.testing.assert_close(xi.grad, xr.grad, **TIGHT[torch.float64])


def test_input_without_grad_and_no_grad_mode():
    x, t, w = _inputs(torch.float64, "some", True)
    ref = F.cross_entropy(x, t, w, label_smoothing=0.1)
    v = lean_cross_entropy(x, t, w, label_smoothing=0.1, chunk_rows=3)
    assert v.grad_fn is None and not v.requires_grad
    torch.testing.assert_close(v, ref, **TIGHT[torch.float64])
    xg = x.clone().requires_grad_()
    with torch.no_grad():
        v = lean_cross_entropy(xg, t, w, label_smoothing=0.1, reduction="none")
    assert v.grad_fn is None
    torch.testing.assert_close(v, F.cross_entropy(x, t, w, label_smoothing=0.1, reduction="none"))


def test_upstream_gradient_scalar_and_per_row():
    x, t, w = _inputs(torch.float64, "some", True)
    # (2 * loss).backward(): grad_output = 2, folded in place
    for kw in ({}, {"label_smoothing": 0.2}, {"reduction": "sum"}):
        xi, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
        (2 * lean_cross_entropy(xi, t, w, chunk_rows=4, **kw)).backward()
        (2 * F.cross_entropy(xr, t, w, **kw)).backward()
        torch.testing.assert_close(xi.grad, xr.grad, **TIGHT[torch.float64])
    # reduction='none' with a random upstream gradient: rows scaled
    up = torch.randn(N, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    (v, g), (rv, rg) = _both(x, t, w, upstream=up, reduction="none", label_smoothing=0.1, chunk_rows=2)
    torch.testing.assert_close(v, rv, **TIGHT[torch.float64])
    torch.testing.assert_close(g, rg, **TIGHT[torch.float64])


def test_gradient_accumulates_into_an_existing_grad():
    x, t, _ = _inputs(torch.float64, "none", False)
    xi, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
    for _ in range(2):
        lean_cross_entropy(xi, t).backward()
        F.cross_entropy(xr, t).backward()
    torch.testing.assert_close(xi.grad, xr.grad, **TIGHT[torch.float64])


def test_retain_graph_backward_twice_is_exact():
    """A kept graph keeps the saved gradient untouched: every later backward is exact; once
    released, a further backward raises torch's own error."""
    x, t, w = _inputs(torch.float64, "some", True)
    for reduction in ("mean", "none"):
        xi = x.clone().requires_grad_()
        loss = lean_cross_entropy(xi, t, w, reduction=reduction, label_smoothing=0.1, chunk_rows=3)
        ref = F.cross_entropy(xi, t, w, reduction=reduction, label_smoothing=0.1)
        up = torch.full_like(loss, 0.5) if reduction == "mean" else torch.linspace(-1, 2, N, dtype=torch.float64)
        (r1,) = torch.autograd.grad(ref, xi, up)
        (g1,) = torch.autograd.grad(loss, xi, up, retain_graph=True)
        (g2,) = torch.autograd.grad(loss, xi, 3 * up, retain_graph=True)
        (g3,) = torch.autograd.grad(loss, xi, up)  # releases the graph
        torch.testing.assert_close(g1, r1, **TIGHT[torch.float64])
        torch.testing.assert_close(g2, 3 * r1, **TIGHT[torch.float64])
        torch.testing.assert_close(g3, r1, **TIGHT[torch.float64])
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            torch.autograd.grad(loss, xi, up)


def test_double_backward_is_refused_clearly():
    x, t, _ = _inputs(torch.float64, "some", False)
    xi = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(lean_cross_entropy(xi, t), xi, create_graph=True)
    (rg,) = torch.autograd.grad(F.cross_entropy(xi, t), xi)
    torch.testing.assert_close(g.detach(), rg, **TIGHT[torch.float64])  # first order: exact
    with pytest.raises(RuntimeError, match="lean_cross_entropy: double backward is not supported"):
        (g * g).sum().backward()


def _graph_tensors(x, t, **kw):
    """(loss, [(data_ptr, shape, dtype) of every tensor the graph saves])."""
    saved = []

    def pack(tensor):
        saved.append((tensor.data_ptr(), tuple(tensor.shape), tensor.dtype))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = lean_cross_entropy(x, t, **kw)
    return loss, saved


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("transposed", [False, True], ids=["rowmajor", "colmajor"])
def test_graph_saves_one_gradient_buffer_that_becomes_grad(dtype, reduction, transposed):
    """The forward saves only the gradient (input's shape and dtype); the backward scales it in
    place and autograd moves it into ``.grad``: no second N x C buffer. (A column-major leaf
    too: the buffer has the input's strides, else AccumulateGrad would copy it.)"""
    x, t, _ = _inputs(dtype, "some", False, n=64, c=50)
    if transposed:
        x = x.t().contiguous().t()
    x.requires_grad_()
    loss, saved = _graph_tensors(x, t, reduction=reduction, chunk_rows=5)
    assert [s[1:] for s in saved] == [((64, 50), dtype)]
    (loss if reduction == "mean" else loss.sum()).backward()
    assert x.grad.data_ptr() == saved[0][0]


def _cpu_peak_bytes(fn):
    """Peak of the CPU allocator's running total during ``fn()``, above its value before
    (torch.profiler with profile_memory=True records it with every allocation)."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    allocs, stack = [], list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        e = stack.pop()
        stack.extend(e.children)
        if e.tag == _EventType.Allocation:
            allocs.append((e.start_time_ns, e.extra_fields.alloc_size, e.extra_fields.total_allocated))
    allocs.sort()
    return max(a[2] for a in allocs) - (allocs[0][2] - allocs[0][1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
def test_cpu_peak_memory_is_about_one_logits(dtype):
    """forward+backward above the input (the gradient left in .grad included): torch 3x, lean
    at most 1 + 1/8 (one float32 chunk for 16-bit logits) and a little for per-row vectors."""
    n, c = 512, 4000
    x = torch.randn(n, c, generator=torch.Generator().manual_seed(0)).to(dtype).requires_grad_()
    t = torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(1))
    logits = x.numel() * x.element_size()

    peaks = {}
    for name, fn in (("torch", F.cross_entropy), ("lean", lean_cross_entropy)):
        x.grad = None  # outside the measured call: its free would lower the baseline
        peaks[name] = _cpu_peak_bytes(lambda fn=fn: fn(x, t).backward()) / logits
    torch_peak, lean_peak = peaks["torch"], peaks["lean"]
    assert torch_peak >= 2.9, torch_peak  # the measurement sees torch's 3x
    assert lean_peak <= 1.2, lean_peak
    assert lean_peak >= 1.0, lean_peak  # .grad itself


def test_default_chunk_rows():
    # 1/8 of the logits' bytes in float32 temporaries: N/8 rows (float32), N/16 (bfloat16)
    assert default_chunk_rows(4096, 32000, torch.float32) == 512
    assert default_chunk_rows(4096, 32000, torch.bfloat16) == 256
    assert default_chunk_rows(4096, 32000, torch.float64) == 512
    # small logits run as one chunk; never 0 rows; never more than N
    assert default_chunk_rows(64, 10, torch.float32) == 64
    assert default_chunk_rows(3, 10**7, torch.bfloat16) == 1
    assert default_chunk_rows(256, 1000, torch.float32) == 65  # 2**16 // C rows at least
    assert default_chunk_rows(0, 10, torch.float32) == 1
    assert torch_lean_ce._spans(10, 3) == [(0, 3), (3, 6), (6, 10)]  # no 1-row tail
    assert torch_lean_ce._spans(10, 1)[-1] == (9, 10)


def test_functional_body_equals_the_eager_one(monkeypatch):
    """The body torch.compile fuses on CUDA (run here uncompiled: CPU tests never compile)."""
    monkeypatch.setattr(torch_lean_ce, "_body_for", lambda x: (torch_lean_ce._body_functional, False))
    for dtype, weighted, ls, red in itertools.product((torch.float64, torch.bfloat16), (False, True),
                                                      (0.0, 0.2), ("mean", "none")):
        x, t, w = _inputs(dtype, "some", weighted, n=23, c=40)
        (v, g), (rv, rg) = _both(x, t, w, reduction=red, label_smoothing=ls, chunk_rows=6)
        tol = TIGHT[torch.float64] if dtype == torch.float64 else {"rtol": 2e-2, "atol": 2e-3}
        torch.testing.assert_close(v, rv, **tol)
        torch.testing.assert_close(g, rg, **tol)


def test_cpu_never_compiles(monkeypatch):
    monkeypatch.delenv("MULTILOSS_LEAN_CE_COMPILE", raising=False)
    x = torch.zeros(2, 3)
    assert torch_lean_ce._body_for(x) == (torch_lean_ce._body_eager, False)
    monkeypatch.setenv("MULTILOSS_LEAN_CE_COMPILE", "0")
    assert torch_lean_ce._body_for(x) == (torch_lean_ce._body_eager, False)


def test_falls_back_to_plain_ops_when_compiling_fails(monkeypatch):
    def broken(*args):
        raise RuntimeError("no inductor here")

    monkeypatch.setitem(torch_lean_ce._COMPILED, torch.float64, broken)
    monkeypatch.setattr(torch_lean_ce, "_compile_wanted", lambda x: True)
    x, t, _ = _inputs(torch.float64, "some", False)
    with pytest.warns(RuntimeWarning, match="torch.compile of the chunk body failed"):
        (v, g), (rv, rg) = _both(x, t, chunk_rows=4)
    torch.testing.assert_close(v, rv, **TIGHT[torch.float64])
    torch.testing.assert_close(g, rg, **TIGHT[torch.float64])
    assert torch_lean_ce._COMPILED[torch.float64] is None


BAD = [
    ({"input": torch.zeros(3, 4, dtype=torch.long)}, DTypeError, "input must be float16"),
    ({"input": torch.zeros(3, 4, 2)}, ShapeError, r"input must have shape \(N, C\); got shape \(3, 4, 2\)"),
    ({"input": torch.zeros(3, 0)}, ShapeError, "input must have at least one class"),
    ({"target": torch.zeros(3, dtype=torch.int32)}, DTypeError, "target must hold int64.*torch.int32"),
    ({"target": torch.zeros(2, dtype=torch.long)}, ShapeError, r"target must have shape \(N,\) = \(3,\).*\(2,\)"),
    ({"weight": torch.ones(5)}, ShapeError, r"weight must have shape \(C,\) = \(4,\); got shape \(5,\)"),
    ({"weight": torch.ones(4, dtype=torch.float64)}, DTypeError, "weight must have input's dtype"),
    ({"weight": torch.ones(4, requires_grad=True)}, OptionError, "weight must not require grad"),
    ({"reduction": "avg"}, OptionError, "reduction must be 'none', 'mean' or 'sum'; got 'avg'"),
    ({"label_smoothing": 1.5}, OptionError, r"label_smoothing must be in \[0, 1\]; got 1.5"),
    ({"chunk_rows": 0}, OptionError, "chunk_rows must be None or an int >= 1; got 0"),
    ({"ignore_index": 1.5}, OptionError, "ignore_index must be an int"),
    ({"target": torch.tensor([0, 4, 1])}, IndexRangeError, r"target must hold class indices in \[0, 4\).*got 4"),
    ({"target": torch.tensor([0, -3, 1])}, IndexRangeError, r"target must hold class indices in \[0, 4\).*got -3"),
]


@pytest.mark.parametrize("kw, cls, msg", BAD, ids=[b[2][:30] for b in BAD])
def test_bad_input_raises_clear_drop_in_errors(kw, cls, msg):
    args = {"input": torch.zeros(3, 4), "target": torch.tensor([0, 1, 2])}
    args.update(kw)
    native = IndexError if cls is IndexRangeError else RuntimeError
    with pytest.raises(cls, match="^lean_cross_entropy: " + msg) as info:
        lean_cross_entropy(**args)
    assert isinstance(info.value, native)  # catchable as torch's class for the same case


def test_uint8_targets_and_ignored_out_of_range_values():
    x, t, _ = _inputs(torch.float64, "none", False)
    (v, g), (rv, rg) = _both(x, t.to(torch.uint8))
    torch.testing.assert_close(v, rv, **TIGHT[torch.float64])
    t2 = t.clone()
    t2[0] = 9999  # ignored, so never range-checked
    (v, g), (rv, rg) = _both(x, t2, ignore_index=9999)
    torch.testing.assert_close(g, rg, **TIGHT[torch.float64])


# --- CUDA: skipped without a GPU ---------------------------------------------------------------
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
def test_cuda_equals_torch_without_host_sync(dtype):
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(300, 1000, generator=g) * 3).to("cuda", dtype)
    t = torch.randint(0, 1000, (300,), generator=g).cuda()
    t[::7] = -100
    w = (torch.rand(1000, generator=g) + 0.5).to("cuda", dtype)
    for kw in ({}, {"weight": w, "label_smoothing": 0.1}, {"reduction": "none"}):
        xi = x.clone().requires_grad_()
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            loss = lean_cross_entropy(xi, t, chunk_rows=64, **kw)
            (loss if loss.dim() == 0 else loss.sum()).backward()
        finally:
            torch.cuda.set_sync_debug_mode(0)
        xr = x.clone().requires_grad_()
        ref = F.cross_entropy(xr, t, **kw)
        (ref if ref.dim() == 0 else ref.sum()).backward()
        tol = {"rtol": 2e-2, "atol": 2e-3} if dtype == torch.bfloat16 else {"rtol": 1e-4, "atol": 1e-5}
        torch.testing.assert_close(loss, ref, **tol)
        torch.testing.assert_close(xi.grad, xr.grad, **tol)


@cuda
def test_cuda_peak_memory_at_most_one_and_a_half_logits():
    x = torch.randn(4096, 8192, device="cuda", dtype=torch.bfloat16).requires_grad_()
    t = torch.randint(0, 8192, (4096,), device="cuda")
    logits = x.numel() * x.element_size()
    peaks = {}
    for name, fn in (("torch", F.cross_entropy), ("lean", lean_cross_entropy)):
        for _ in range(2):  # the first call may compile
            x.grad = None
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            fn(x, t).backward()
            torch.cuda.synchronize()
            peaks[name] = (torch.cuda.max_memory_allocated() - before) / logits
    assert peaks["torch"] >= 2.9, peaks
    assert peaks["lean"] <= 1.5, peaks


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_autocast_returns_float32_like_torch(reduction):
    """torch's autocast runs cross_entropy in float32 and returns a float32 loss; so does the
    lean path (its chunk math is float32 anyway), the gradient staying in the input's dtype."""
    x, t, w = _inputs(torch.bfloat16, "some", True, n=40, c=300)
    out = []
    for fn in (lean_cross_entropy, F.cross_entropy):
        xi = x.clone().requires_grad_()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = fn(xi, t, w, reduction=reduction, label_smoothing=0.1)
        (loss if loss.dim() == 0 else (loss * torch.linspace(-1, 2, loss.shape[0])).sum()).backward()
        out.append((loss.detach(), xi.grad))
    (v, g), (rv, rg) = out
    assert v.dtype == rv.dtype == torch.float32 and g.dtype == rg.dtype == torch.bfloat16
    torch.testing.assert_close(v, rv, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g, rg, rtol=2e-2, atol=2e-3)
