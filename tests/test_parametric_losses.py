"""Losses with parameters (``multiloss/losses/parametric.py``) on every installed namespace.

* ``linear_cross_entropy``: values and gradients (w.r.t. the input, the linear weight and
  bias) against the materialised-logits float64 reference and against torch 2.13's own
  ``F.linear_cross_entropy``; independence of the chunk size; the torch fused primitive (its
  gradients, ``retain_graph``, ``no_grad``, half precision, and that its autograd graph never
  holds logits-sized tensors); tracing under ``jax.jit`` / ``tf.function``; every error.
* ``adaptive_log_softmax_with_loss`` and its ``log_prob`` / ``predict`` helpers against torch's
  ``nn.AdaptiveLogSoftmaxWithLoss`` carrying the same weights, and a row-loop reference.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests_conftest import msg, require, to_numpy, to_xp, value_and_grad, xp_assert_close

import multiloss as ml
from multiloss.conformance.references import parametric as R
from multiloss.losses import parametric as P


def conv(xp, a, dtype=None):
    if isinstance(a, np.ndarray):
        return to_xp(xp, a, dtype)
    if isinstance(a, (tuple, list)):
        return type(a)(conv(xp, v, dtype) for v in a)
    if isinstance(a, dict):
        return {k: conv(xp, v, dtype) for k, v in a.items()}
    return a


rng = np.random.default_rng(7)
N, D, C = 9, 4, 7  # C > D: the default chunking splits the rows
X = rng.normal(size=(N, D))
W = rng.normal(scale=0.8, size=(C, D))
B = rng.normal(scale=0.5, size=(C,))
T = rng.integers(0, C, size=(N,))
T_IGN = T.copy()
T_IGN[[2, 6]] = -100
T_3 = T.copy()
T_3[[1, 4]] = 3
CW = np.linspace(0.5, 2.0, C)
_z = rng.normal(size=(N, C))
TP = np.exp(_z) / np.exp(_z).sum(axis=1, keepdims=True)
W3 = rng.normal(scale=0.8, size=(C, 3, 2, D))  # K-dimensional loss: logits (N, C, 3, 2)
B3 = rng.normal(scale=0.5, size=(C, 3, 2))
T3 = rng.integers(0, C, size=(N, 3, 2))
T3[0, 1, 1] = -100

# (id, linear_weight, target, keyword options)
LCE_CASES = [
    ("mean", W, T, {}),
    ("sum_bias", W, T, {"linear_bias": B, "reduction": "sum"}),
    ("none_bias", W, T, {"linear_bias": B, "reduction": "none"}),
    ("weight_ignore", W, T_IGN, {"weight": CW}),
    ("smooth", W, T_IGN, {"label_smoothing": 0.2, "linear_bias": B}),
    ("smooth_weight_ii3", W, T_3, {"label_smoothing": 0.1, "weight": CW, "ignore_index": 3}),
    ("smooth_none", W, T_IGN, {"label_smoothing": 0.3, "weight": CW, "reduction": "none"}),
    ("prob", W, TP, {"linear_bias": B}),
    ("prob_weight_smooth_sum", W, TP, {"weight": CW, "label_smoothing": 0.1, "reduction": "sum"}),
    ("prob_none", W, TP, {"reduction": "none"}),
    ("kdim", W3, T3, {"linear_bias": B3}),
    ("kdim_none_smooth", W3, T3, {"reduction": "none", "label_smoothing": 0.1, "weight": CW}),
    ("kdim_prob", W3, np.broadcast_to(TP[:, :, None, None], (N, C, 3, 2)).copy(), {"linear_bias": B3}),
]
LCE_IDS = [c[0] for c in LCE_CASES]


def lce_ref(x, w, t, **kw):
    kw.pop("chunk_size", None)
    return R.linear_cross_entropy(x, w, t, **kw)


def torch_lce(x, w, t, grads=False, **kw):
    """torch's own F.linear_cross_entropy in float64 (value, and d/dx, d/dW, d/db)."""
    require("torch")
    import torch
    import torch.nn.functional as F

    tt = lambda a: torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a
    xt, wt = tt(x).requires_grad_(), tt(w).requires_grad_()
    kw = {k: tt(v) for k, v in kw.items()}
    if kw.get("linear_bias") is not None:
        kw["linear_bias"].requires_grad_()
    out = F.linear_cross_entropy(xt, wt, tt(t), **kw)
    if not grads:
        return to_numpy(out.detach())
    wrt = [xt, wt] + ([kw["linear_bias"]] if kw.get("linear_bias") is not None else [])
    gs = torch.autograd.grad(out.sum(), wrt)
    return to_numpy(out.detach()), [to_numpy(g) for g in gs]


# ----------------------------------------------------------------------------- linear CE values


@pytest.mark.parametrize("case", LCE_CASES, ids=LCE_IDS)
def test_linear_cross_entropy_equals_the_logits_reference(xp, case):
    _, w, t, kw = case
    got = ml.linear_cross_entropy(conv(xp, X), conv(xp, w), conv(xp, t), **conv(xp, kw))
    xp_assert_close(got, lce_ref(X, w, t, **kw), rtol=1e-12, atol=1e-14, xp=xp)


@pytest.mark.parametrize("case", LCE_CASES, ids=LCE_IDS)
def test_reference_equals_torch_linear_cross_entropy(case):
    """The reference is torch's semantics: F.linear_cross_entropy itself (torch 2.13)."""
    _, w, t, kw = case
    np.testing.assert_allclose(lce_ref(X, w, t, **kw), torch_lce(X, w, t, **kw), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", LCE_CASES, ids=LCE_IDS)
def test_linear_cross_entropy_gradients_equal_torch(grad_backend, case):
    """Gradients w.r.t. the input, the linear weight and the bias against torch's autograd
    through F.linear_cross_entropy (the fused torch primitive included)."""
    _, w, t, kw = case
    _, (gx, gw, *gb) = torch_lce(X, w, t, grads=True, **kw)
    xb, wb, tb, kwb = conv(grad_backend, X), conv(grad_backend, w), conv(grad_backend, t), conv(grad_backend, kw)
    f = ml.linear_cross_entropy
    _, g = value_and_grad(grad_backend, lambda v: f(v, wb, tb, **kwb), X)
    np.testing.assert_allclose(g, gx, rtol=1e-10, atol=1e-13)
    _, g = value_and_grad(grad_backend, lambda v: f(xb, v, tb, **kwb), w)
    np.testing.assert_allclose(g, gw, rtol=1e-10, atol=1e-13)
    if gb:
        rest = {k: v for k, v in kwb.items() if k != "linear_bias"}
        _, g = value_and_grad(grad_backend, lambda v: f(xb, wb, tb, linear_bias=v, **rest), kw["linear_bias"])
        np.testing.assert_allclose(g, gb[0], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_linear_cross_entropy_does_not_depend_on_the_chunk_size(xp, reduction):
    args = conv(xp, X), conv(xp, W), conv(xp, T_IGN)
    kw = {"weight": conv(xp, CW), "linear_bias": conv(xp, B), "label_smoothing": 0.1, "reduction": reduction}
    want = lce_ref(X, W, T_IGN, **{**kw, "weight": CW, "linear_bias": B})
    for chunk in (None, 1, 2, 4, N - 1, N, 10 * N):
        got = ml.linear_cross_entropy(*args, chunk_size=chunk, **kw)
        xp_assert_close(got, want, rtol=1e-12, atol=1e-14, err_msg=f"chunk_size={chunk}")


def test_default_chunk_is_the_larger_of_input_and_a_quarter_weight():
    # max(ceil(N / ceil(C / D)), D // 4) rows: chunk logits about the size of the input
    # (torch's aspect_ratio), or of a quarter of the weight when larger (at most 4N / D chunks)
    assert P._default_chunk(4096, 512, 32000) == 128
    assert P._default_chunk(8192, 4096, 128256) == 1024
    assert P._default_chunk(4096, 8, 32000) == 2
    assert P._default_chunk(9, 4, 7) == 5
    assert P._default_chunk(9, 8, 7) == 9
    assert P._default_chunk(None, 8, 7) is None and P._default_chunk(0, 8, 7) is None


@pytest.mark.parametrize("target", [np.asarray(3), TP[0]], ids=["index", "probs"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_linear_cross_entropy_unbatched(xp, target, reduction):
    got = ml.linear_cross_entropy(conv(xp, X[0]), conv(xp, W), conv(xp, target), linear_bias=conv(xp, B),
                                  reduction=reduction)
    want = lce_ref(X[0], W, target, linear_bias=B, reduction=reduction)
    assert to_numpy(got).shape == () and want.shape == ()
    xp_assert_close(got, want, rtol=1e-12, xp=xp)


@pytest.mark.parametrize("target", [np.asarray(3), TP[0]], ids=["index", "probs"])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_unbatched_reference_equals_torch(target, reduction):
    want = torch_lce(X[0], W, target, linear_bias=B, reduction=reduction)
    assert want.shape == ()
    np.testing.assert_allclose(lce_ref(X[0], W, target, linear_bias=B, reduction=reduction), want, rtol=1e-12)


def test_linear_cross_entropy_all_ignored(xp):
    """torch: the weighted mean over no rows is 0/0 = nan; the sum is 0."""
    t = np.full(N, -100)
    args = conv(xp, X), conv(xp, W), conv(xp, t)
    with np.errstate(invalid="ignore"):  # NumPy warns about the 0/0 it is asked for
        assert np.isnan(to_numpy(ml.linear_cross_entropy(*args)))
        assert np.isnan(lce_ref(X, W, t))
    xp_assert_close(ml.linear_cross_entropy(*args, reduction="sum"), 0.0, atol=0)


def test_torch_all_ignored_is_nan():
    assert np.isnan(torch_lce(X, W, np.full(N, -100)))


def test_linear_cross_entropy_float32(xp):
    got = ml.linear_cross_entropy(conv(xp, X, np.float32), conv(xp, W, np.float32), conv(xp, T_IGN),
                                  weight=conv(xp, CW, np.float32), chunk_size=2)
    assert to_numpy(got).dtype == np.float32
    xp_assert_close(got, lce_ref(X, W, T_IGN, weight=CW), rtol=2e-6)


def test_linear_cross_entropy_traces_under_jit():
    require("jax")
    import jax

    args = [to_xp("jax", a) for a in (X, W, T_IGN)]
    kw = {"weight": to_xp("jax", CW), "label_smoothing": 0.1}
    want = lce_ref(X, W, T_IGN, weight=CW, label_smoothing=0.1)
    xp_assert_close(jax.jit(lambda x, w, t: ml.linear_cross_entropy(x, w, t, **kw))(*args), want, rtol=1e-12)
    g = jax.jit(jax.grad(lambda w: ml.linear_cross_entropy(args[0], w, args[2], chunk_size=2)))(args[1])
    _, (_, gw) = torch_lce(X, W, T_IGN, grads=True)
    np.testing.assert_allclose(to_numpy(g), gw, rtol=1e-10, atol=1e-13)


def test_linear_cross_entropy_traces_under_tf_function():
    require("tensorflow")
    import tensorflow as tf

    args = [to_xp("tensorflow", a) for a in (X, TP)]
    f = tf.function(lambda x, t: ml.linear_cross_entropy(x, to_xp("tensorflow", W), t, chunk_size=4),
                    input_signature=[tf.TensorSpec([None, D], tf.float64), tf.TensorSpec([None, C], tf.float64)])
    xp_assert_close(f(*args), lce_ref(X, W, TP), rtol=1e-12)  # unknown batch size: one chunk


# ----------------------------------------------------------------------------- torch fused path


def _torch_inputs(dtype="float64", bias=True):
    require("torch")
    import torch

    dt = getattr(torch, dtype)
    x = torch.from_numpy(X).to(dt).requires_grad_()
    w = torch.from_numpy(W).to(dt).requires_grad_()
    b = torch.from_numpy(B).to(dt).requires_grad_() if bias else None
    return torch, x, w, b


def test_torch_primitive_is_the_fused_function():
    torch, x, w, b = _torch_inputs()
    from multiloss import _ops
    from multiloss.backends import torch_fused

    ns = ml.array_namespace(x)
    assert _ops.override_for(ns, "linear_softmax_cross_entropy") is torch_fused.linear_softmax_cross_entropy
    loss = ml.linear_cross_entropy(x, w, torch.from_numpy(T), linear_bias=b)
    assert "_SumBackward" in _graph_nodes(loss), _graph_nodes(loss)
    loss = ml.linear_cross_entropy(x, w, torch.from_numpy(T), reduction="none")
    assert "_RowsBackward" in _graph_nodes(loss), _graph_nodes(loss)


SMALL_HEADS = [  # (label, kwargs): every option torch's unchunked path takes
    ("index", {}), ("index_bias_weight", {"bias": True, "weight": True}),
    ("ignore", {"target": "ignore", "reduction": "sum"}), ("ignore_none", {"target": "ignore", "reduction": "none"}),
    ("smoothing", {"label_smoothing": 0.2, "weight": True}), ("prob", {"target": "prob", "bias": True}),
    ("prob_smoothing", {"target": "prob", "label_smoothing": 0.1, "reduction": "none"}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16"])
@pytest.mark.parametrize("label,opts", SMALL_HEADS, ids=[h[0] for h in SMALL_HEADS])
def test_torch_small_logits_run_torchs_own_kernels(label, opts, dtype):
    """Logits no larger than the largest operand (here the weight: 6 x 8 -> 7 logits per row
    against 7 x 8 weights) take F.linear_cross_entropy's own unchunked path (torch's default,
    options=None): bitwise torch's values and gradients, torch's graph (NllLossBackward0),
    no chunked autograd.Function."""
    require("torch")
    import torch
    import torch.nn.functional as F

    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(6, 8, generator=g).to(dt)
    w = torch.randn(7, 8, generator=g).to(dt)
    b = torch.randn(7, generator=g).to(dt) if opts.get("bias") else None
    cw = torch.linspace(0.5, 2.0, 7).to(dt) if opts.get("weight") else None
    kind = opts.get("target", "index")
    if kind == "prob":
        t = torch.softmax(torch.randn(6, 7, generator=g), 1).to(dt)
    else:
        t = torch.randint(0, 7, (6,), generator=g)
        if kind == "ignore":
            t[[1, 4]] = -100
    kw = {k: opts[k] for k in ("reduction", "label_smoothing") if k in opts}
    results = []
    for f in (ml.linear_cross_entropy, F.linear_cross_entropy):
        leaves = [a.clone().requires_grad_() for a in (x, w) + ((b,) if b is not None else ())]
        out = f(leaves[0], leaves[1], t, linear_bias=leaves[2] if b is not None else None, weight=cw, **kw)
        grads = torch.autograd.grad(out.sum(), leaves)
        results.append((out, grads, _graph_nodes(out)))
    (ours, g_ours, nodes), (native, g_native, _) = results
    torch.testing.assert_close(ours, native, rtol=0, atol=0)
    for a, b_ in zip(g_ours, g_native):
        torch.testing.assert_close(a, b_, rtol=0, atol=0)
    assert not {"_SumBackward", "_RowsBackward"} & nodes, nodes


def test_torch_large_or_explicitly_chunked_logits_stay_chunked():
    """Above the size rule (logits larger than every operand) or with chunk_size/options the
    chunked function runs (the small-logits rule never holds a big logits tensor)."""
    require("torch")
    import torch

    from multiloss.losses.parametric import PLAIN_MAX_LOGITS

    g = torch.Generator().manual_seed(4)
    x = torch.randn(6, 8, generator=g, requires_grad=True)
    w = torch.randn(7, 8, generator=g, requires_grad=True)
    t = torch.randint(0, 7, (6,), generator=g)
    assert "_SumBackward" in _graph_nodes(ml.linear_cross_entropy(x, w, t, chunk_size=6))
    options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=None)
    assert "_SumBackward" in _graph_nodes(ml.linear_cross_entropy(x, w, t, options=options))
    xl = torch.randn(64, 8, generator=g, requires_grad=True)
    wl = torch.randn(100, 8, generator=g, requires_grad=True)  # 6400 logits > 800 weights and 512 inputs
    tl = torch.randint(0, 100, (64,), generator=g)
    assert "_SumBackward" in _graph_nodes(ml.linear_cross_entropy(xl, wl, tl))
    assert 64 * 100 <= PLAIN_MAX_LOGITS  # (so the operand rule, not the cap, decided)


def _graph_nodes(out):
    names, seen, stack = set(), set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            names.add(type(node).__name__)
            stack.extend(f for f, _ in node.next_functions)
    return names


def test_torch_fused_gradient_of_the_class_weight_equals_autograd():
    """The coefficient (class weights / probability targets) gets its gradient too."""
    torch, x, w, b = _torch_inputs()
    import torch.nn.functional as F

    cw = torch.from_numpy(CW).requires_grad_()
    ours = ml.linear_cross_entropy(x, w, torch.from_numpy(T_IGN), linear_bias=b, weight=cw, label_smoothing=0.1)
    (g1,) = torch.autograd.grad(ours, cw)
    # torch's cross_entropy has no gradient for weight: its definition written out
    t = torch.from_numpy(T_IGN)
    lp = torch.log_softmax(F.linear(x, w, b), dim=1)
    kept = t != -100
    st = torch.where(kept, t, 0)
    w_t = cw[st] * kept
    nll = -lp.gather(1, st[:, None])[:, 0] * w_t
    smooth = -(lp * cw).sum(1) * kept
    ref = (0.9 * nll + 0.1 / C * smooth).sum() / w_t.sum()
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-14)
    (g2,) = torch.autograd.grad(ref, cw)
    torch.testing.assert_close(g1, g2, rtol=1e-10, atol=1e-13)
    tp = torch.from_numpy(TP).requires_grad_()
    (g1,) = torch.autograd.grad(ml.linear_cross_entropy(x, w, tp, chunk_size=2), tp)
    (g2,) = torch.autograd.grad(F.cross_entropy(F.linear(x, w), tp), tp)
    torch.testing.assert_close(g1, g2, rtol=1e-10, atol=1e-13)


def test_torch_fused_retain_graph_and_no_grad():
    torch, x, w, b = _torch_inputs()
    t = torch.from_numpy(T)
    for reduction in ("mean", "none"):
        loss = ml.linear_cross_entropy(x, w, t, linear_bias=b, reduction=reduction, chunk_size=2).sum()
        (g1,) = torch.autograd.grad(loss, w, retain_graph=True)
        (g2,) = torch.autograd.grad(2 * loss, w)  # a second backward through the same graph
        torch.testing.assert_close(g2, 2 * g1)
    with torch.no_grad():
        v = ml.linear_cross_entropy(x, w, t, linear_bias=b, chunk_size=2)
    assert v.grad_fn is None
    np.testing.assert_allclose(to_numpy(v), lce_ref(X, W, T, linear_bias=B), rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_torch_fused_half_precision(dtype):
    """Logits in the input dtype (as F.linear), softmax and accumulation in float32: as close
    to the float64 truth as torch's own float32-accumulating reference path."""
    torch, x, w, b = _torch_inputs(dtype)
    import torch.nn.functional as F

    t = torch.from_numpy(T)
    loss = ml.linear_cross_entropy(x, w, t, linear_bias=b, chunk_size=2)
    assert loss.dtype == getattr(torch, dtype)
    gx, gw = torch.autograd.grad(loss, (x, w))
    xd, wd, bd = (a.detach().double().requires_grad_() for a in (x, w, b))  # the rounded inputs
    ref = F.cross_entropy(F.linear(xd, wd, bd), t)
    rx, rw = torch.autograd.grad(ref, (xd, wd))
    tol = {"float16": 2e-3, "bfloat16": 2e-2}[dtype]
    torch.testing.assert_close(loss.double(), ref.detach(), rtol=tol, atol=tol)
    torch.testing.assert_close(gx.double(), rx, rtol=4 * tol, atol=tol)
    torch.testing.assert_close(gw.double(), rw, rtol=4 * tol, atol=tol)


def _saved_bytes(run):
    import torch

    seen = {}

    def pack(t):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run()
    return sum(seen.values())


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_torch_graph_holds_no_logits(reduction):
    """The autograd graph of the chunked loss keeps no (N, V) tensor: with V >> D the bytes it
    saves for backward are a small fraction of one logits copy (F.cross_entropy(F.linear)
    saves at least the full log-softmax)."""
    require("torch")
    import torch
    import torch.nn.functional as F

    n, d, v = 64, 8, 4000
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g, requires_grad=True)
    w = torch.randn(v, d, generator=g, requires_grad=True)
    t = torch.randint(0, v, (n,), generator=g)
    logits_bytes = n * v * 4
    ours = _saved_bytes(lambda: ml.linear_cross_entropy(x, w, t, reduction=reduction))
    native = _saved_bytes(lambda: F.cross_entropy(F.linear(x, w), t, reduction=reduction))
    assert native >= logits_bytes
    assert ours < logits_bytes / 4, (ours, logits_bytes)


def test_torch_func_transforms_use_the_generic_body():
    torch, x, w, _ = _torch_inputs()
    t = torch.from_numpy(T_IGN)
    g = torch.func.grad(lambda v: ml.linear_cross_entropy(v, w.detach(), t, chunk_size=2))(x.detach())
    _, (gx, _) = torch_lce(X, W, T_IGN, grads=True)
    np.testing.assert_allclose(to_numpy(g), gx, rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------- linear CE errors


def test_linear_cross_entropy_errors(xp):
    x, w, t = conv(xp, X), conv(xp, W), conv(xp, T)
    f = ml.linear_cross_entropy
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'reduction'", "'batchmean'")):
        f(x, w, t, reduction="batchmean")
    with pytest.raises(TypeError, match=msg("linear_cross_entropy", "'input'", "int64")):
        f(conv(xp, np.ones((N, D), dtype=np.int64)), w, t)
    with pytest.raises(TypeError, match=msg("linear_cross_entropy", "'linear_weight'", "float32")):
        f(x, conv(xp, W, np.float32), t)
    with pytest.raises(TypeError, match=msg("linear_cross_entropy", "'linear_bias'", "float64", "float32")):
        f(x, w, t, linear_bias=conv(xp, B, np.float32))
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'label_smoothing'", "[0, 1]", "1.5")):
        f(x, w, t, label_smoothing=1.5)
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'chunk_size'", "positive", repr(bad))):
            f(x, w, t, chunk_size=bad)
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'input'", "(N, in_features)", "(1, 9, 4)")):
        f(conv(xp, X[None]), w, t)
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'linear_weight'", "(C, in_features)", "(4,)")):
        f(x, conv(xp, W[0, :]), t)
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'linear_weight'", "in_features=4", "(7, 3)")):
        f(x, conv(xp, W[:, :3]), t)
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'linear_bias'", "(7,)", "(6,)")):
        f(x, w, t, linear_bias=conv(xp, B[:6]))
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "K-dimensional", "batched", "(4,)")):
        f(conv(xp, X[0]), conv(xp, W3), conv(xp, T3[0]))
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'weight'", "(7,)", "(6,)")):
        f(x, w, t, weight=conv(xp, CW[:6]))
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'ignore_index'", "None", "probability",
                                             "ignore_index=-100")):
        f(x, w, conv(xp, TP), ignore_index=-100)
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "probability targets", "(9, 7)", "(9, 6)")):
        f(x, w, conv(xp, TP[:, :6]))
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "class-index targets", "(9,)", "(8,)")):
        f(x, w, conv(xp, T[:8]))
    with pytest.raises(TypeError, match=msg("linear_cross_entropy", "'target'", "integer", "bool")):
        f(x, w, conv(xp, T > 2))
    bad = T.copy()
    bad[3] = C
    with pytest.raises(ValueError, match=msg("linear_cross_entropy", "'target'", "[0, 7)", "7")):
        f(x, w, conv(xp, bad))


def test_linear_cross_entropy_mixed_frameworks():
    require("torch")
    import torch

    with pytest.raises(TypeError, match=msg("linear_cross_entropy", "one library", "numpy", "torch")):
        ml.linear_cross_entropy(X, torch.from_numpy(W), T)


# ----------------------------------------------------------------------------- adaptive softmax

CUT = [3, 8, 14]  # shortlist 0..2; clusters [3, 8), [8, 14), [14, 20)
N_CLASSES, AD = 20, 8
HIDDEN = (4, 2, 1)  # torch's in_features // div_value ** (i + 1) with div_value=2
_full = [*CUT, N_CLASSES]
HEAD = rng.normal(scale=0.6, size=(CUT[0] + len(CUT), AD))
HEAD_B = rng.normal(scale=0.4, size=(CUT[0] + len(CUT),))
TAIL = tuple((rng.normal(scale=0.6, size=(h, AD)), rng.normal(scale=0.6, size=(_full[i + 1] - _full[i], h)))
             for i, h in enumerate(HIDDEN))
AX = rng.normal(size=(12, AD))
AT = np.array([0, 1, 2, 3, 5, 7, 8, 9, 13, 14, 19, 4])


def torch_asm(head_bias):
    """torch's own module carrying HEAD/TAIL (float64)."""
    require("torch")
    import torch

    m = torch.nn.AdaptiveLogSoftmaxWithLoss(AD, N_CLASSES, CUT, div_value=2.0, head_bias=head_bias).double()
    with torch.no_grad():
        m.head.weight.copy_(torch.from_numpy(HEAD))
        if head_bias:
            m.head.bias.copy_(torch.from_numpy(HEAD_B))
        for (p, o), seq in zip(TAIL, m.tail):
            seq[0].weight.copy_(torch.from_numpy(p))
            seq[1].weight.copy_(torch.from_numpy(o))
    return m


def asm_args(xp, head_bias):
    return conv(xp, HEAD), conv(xp, TAIL), CUT, (conv(xp, HEAD_B) if head_bias else None)


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_softmax_equals_torch(xp, head_bias):
    hw, tail, cut, hb = asm_args(xp, head_bias)
    out = ml.adaptive_log_softmax_with_loss(conv(xp, AX), conv(xp, AT), hw, tail, cut, head_bias=hb)
    assert isinstance(out, P.AdaptiveLogSoftmaxOutput) and out._fields == ("output", "loss")
    ref_out, ref_loss = R.adaptive_log_softmax(AX, AT, HEAD, TAIL, CUT, HEAD_B if head_bias else None)
    xp_assert_close(out.output, ref_out, rtol=1e-12, xp=xp)
    xp_assert_close(out.loss, ref_loss, rtol=1e-12, xp=xp)


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_reference_equals_torch(head_bias):
    m = torch_asm(head_bias)
    import torch

    ref_out, ref_loss = R.adaptive_log_softmax(AX, AT, HEAD, TAIL, CUT, HEAD_B if head_bias else None)
    native = m(torch.from_numpy(AX), torch.from_numpy(AT))
    np.testing.assert_allclose(ref_out, to_numpy(native.output.detach()), rtol=1e-12)
    np.testing.assert_allclose(ref_loss, to_numpy(native.loss.detach()), rtol=1e-12)


@pytest.mark.parametrize("field", ["output", "loss"])
def test_adaptive_softmax_gradients_equal_torch(grad_backend, field):
    """d/d input and d/d every parameter, against torch's module's autograd."""
    m = torch_asm(True)
    import torch

    xt = torch.from_numpy(AX).requires_grad_()
    res = getattr(m(xt, torch.from_numpy(AT)), field).sum()
    params = [m.head.weight, m.head.bias] + [s[i].weight for s in m.tail for i in (0, 1)]
    want = [to_numpy(g) for g in torch.autograd.grad(res, [xt, *params])]

    b = grad_backend
    hw, tail, cut, hb = asm_args(b, True)
    x, t = conv(b, AX), conv(b, AT)
    f = lambda x_, hw_, tail_, hb_: getattr(ml.adaptive_log_softmax_with_loss(x_, t, hw_, tail_, cut, hb_), field)
    np.testing.assert_allclose(value_and_grad(b, lambda v: f(v, hw, tail, hb), AX)[1], want[0], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(value_and_grad(b, lambda v: f(x, v, tail, hb), HEAD)[1], want[1], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(value_and_grad(b, lambda v: f(x, hw, tail, v), HEAD_B)[1], want[2], rtol=1e-10, atol=1e-13)
    for i in range(len(TAIL)):
        for j in (0, 1):
            def g(v, i=i, j=j):
                new = [list(p) for p in tail]
                new[i][j] = v
                return f(x, hw, [tuple(p) for p in new], hb)

            np.testing.assert_allclose(value_and_grad(b, g, TAIL[i][j])[1], want[3 + 2 * i + j], rtol=1e-10, atol=1e-13)


def test_adaptive_softmax_unbatched(xp):
    hw, tail, cut, hb = asm_args(xp, True)
    for k in (0, 5, 10):  # shortlist, clusters
        out, loss = ml.adaptive_log_softmax_with_loss(conv(xp, AX[k]), conv(xp, np.asarray(AT[k])), hw, tail, cut, hb)
        ref_out, ref_loss = R.adaptive_log_softmax(AX[k], AT[k], HEAD, TAIL, CUT, HEAD_B)
        assert to_numpy(out).shape == () == ref_out.shape
        xp_assert_close(out, ref_out, rtol=1e-12, xp=xp)
        xp_assert_close(loss, ref_loss, rtol=1e-12, xp=xp)
        if xp == "torch":
            import torch

            native = torch_asm(True)(torch.from_numpy(AX[k]), torch.from_numpy(np.asarray(AT[k])))
            np.testing.assert_allclose(to_numpy(native.output.detach()), ref_out, rtol=1e-12)


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_prob_and_predict_equal_torch(xp, head_bias):
    hw, tail, cut, hb = asm_args(xp, head_bias)
    x = conv(xp, AX)
    lp = P.adaptive_log_softmax_log_prob(x, hw, tail, cut, hb)
    want = R.adaptive_log_prob(AX, HEAD, TAIL, CUT, HEAD_B if head_bias else None)
    xp_assert_close(lp, want, rtol=1e-12, xp=xp)
    np.testing.assert_allclose(np.exp(want).sum(axis=1), 1.0, rtol=1e-12)  # a distribution
    pred = to_numpy(P.adaptive_log_softmax_predict(x, hw, tail, cut, hb))
    np.testing.assert_array_equal(pred, want.argmax(axis=1))
    if xp == "torch":
        import torch

        m = torch_asm(head_bias)
        np.testing.assert_allclose(want, to_numpy(m.log_prob(torch.from_numpy(AX)).detach()), rtol=1e-12)
        np.testing.assert_array_equal(pred, to_numpy(m.predict(torch.from_numpy(AX))))


def test_adaptive_predict_mixes_shortlist_and_cluster_rows(xp):
    """Rows whose head argmax is in the shortlist keep it; the others take the full argmax
    (the branch torch takes on a subset): a batch with both kinds, scaled to be decisive."""
    head = HEAD.copy()
    head[:, :] = 0.0
    head[0, 0] = 5.0  # row with x0 > 0: shortlist class 0 wins
    head[CUT[0] + 1, 0] = -5.0  # x0 < 0: cluster 1 (classes 8..13) wins in the head
    x = np.zeros((4, AD))
    x[:, 0] = [2.0, -2.0, 1.5, -1.0]
    x[:, 1:] = rng.normal(size=(4, AD - 1))
    pred = to_numpy(P.adaptive_log_softmax_predict(conv(xp, x), conv(xp, head), conv(xp, TAIL), CUT))
    lp = R.adaptive_log_prob(x, head, TAIL, CUT)
    np.testing.assert_array_equal(pred, lp.argmax(axis=1))
    assert pred[0] == 0 and pred[2] == 0 and 8 <= pred[1] < 14 and 8 <= pred[3] < 14


def test_adaptive_softmax_traces_under_jit():
    require("jax")
    import jax

    hw, tail, cut, hb = asm_args("jax", True)
    f = jax.jit(lambda x, t, hw_, tail_, hb_: ml.adaptive_log_softmax_with_loss(x, t, hw_, tail_, cut, hb_))
    out, loss = f(to_xp("jax", AX), to_xp("jax", AT), hw, tail, hb)
    ref_out, ref_loss = R.adaptive_log_softmax(AX, AT, HEAD, TAIL, CUT, HEAD_B)
    xp_assert_close(out, ref_out, rtol=1e-12)
    xp_assert_close(loss, ref_loss, rtol=1e-12)
    pred = jax.jit(lambda x: P.adaptive_log_softmax_predict(x, hw, tail, cut, hb))(to_xp("jax", AX))
    np.testing.assert_array_equal(to_numpy(pred), R.adaptive_log_prob(AX, HEAD, TAIL, CUT, HEAD_B).argmax(axis=1))


def test_adaptive_softmax_traces_under_tf_function():
    require("tensorflow")
    import tensorflow as tf

    hw, tail, cut, hb = asm_args("tensorflow", True)
    f = tf.function(lambda x, t: ml.adaptive_log_softmax_with_loss(x, t, hw, tail, cut, hb),
                    input_signature=[tf.TensorSpec([None, AD], tf.float64), tf.TensorSpec([None], tf.int64)])
    out, loss = f(to_xp("tensorflow", AX), to_xp("tensorflow", AT))
    ref_out, ref_loss = R.adaptive_log_softmax(AX, AT, HEAD, TAIL, CUT, HEAD_B)
    xp_assert_close(out, ref_out, rtol=1e-12)
    xp_assert_close(loss, ref_loss, rtol=1e-12)


def test_adaptive_softmax_errors(xp):
    x, t = conv(xp, AX), conv(xp, AT)
    hw, tail, cut, _ = asm_args(xp, False)
    f = ml.adaptive_log_softmax_with_loss
    name = "adaptive_log_softmax_with_loss"
    for bad in ([], [8, 3, 14], [3, 3, 14], [0, 8, 14], [3, 8.5, 14]):
        with pytest.raises(ValueError, match=msg(name, "'cutoffs'", "increasing", "unique", repr(bad))):
            f(x, t, hw, tail, bad)
    with pytest.raises(TypeError, match=msg(name, "'cutoffs'", "sequence", "3")):
        f(x, t, hw, tail, 3)
    with pytest.raises(TypeError, match=msg(name, "'tail_weights'", "pairs", "int")):
        f(x, t, hw, 5, cut)
    with pytest.raises(ValueError, match=msg(name, "'tail_weights'", "one", "pair per cutoff (3)", "2 entries")):
        f(x, t, hw, tail[:2], cut)
    with pytest.raises(ValueError, match=msg(name, "'head_weight'", "(6, 8)", "(5, 8)")):
        f(x, t, conv(xp, HEAD[:5]), tail, cut)
    with pytest.raises(ValueError, match=msg(name, "'head_bias'", "(6,)", "(5,)")):
        f(x, t, hw, tail, cut, conv(xp, HEAD_B[:5]))
    bad_tail = list(tail)
    bad_tail[0] = (tail[0][0], conv(xp, TAIL[0][1][:4]))
    with pytest.raises(ValueError, match=msg(name, "'tail_weights[0][1]'", "(5, 4)", "(4, 4)")):
        f(x, t, hw, bad_tail, cut)
    bad_tail[0] = (conv(xp, TAIL[0][0][:, :7]), tail[0][1])
    with pytest.raises(ValueError, match=msg(name, "'tail_weights[0][0]'", "(hidden, 8)", "(4, 7)")):
        f(x, t, hw, bad_tail, cut)
    with pytest.raises(TypeError, match=msg(name, "'head_weight'", "float64", "float32")):
        f(x, t, conv(xp, HEAD, np.float32), tail, cut)
    with pytest.raises(ValueError, match=msg(name, "1-D 'target'", "2-D 'input'", "(8,)")):
        f(conv(xp, AX[0]), t, hw, tail, cut)
    with pytest.raises(ValueError, match=msg(name, "same batch size", "(12, 8)", "(11,)")):
        f(x, conv(xp, AT[:11]), hw, tail, cut)
    with pytest.raises(ValueError, match=msg(name, "0-d 'target'", "1-D 'input'", "(12, 8)")):
        f(x, conv(xp, np.asarray(AT[0])), hw, tail, cut)
    with pytest.raises(ValueError, match=msg(name, "0-d or 1-D", "(12, 1)")):
        f(x, conv(xp, AT[:, None]), hw, tail, cut)
    with pytest.raises(TypeError, match=msg(name, "'target'", "integer", "float64")):
        f(x, conv(xp, AT.astype(np.float64)), hw, tail, cut)
    bad = AT.copy()
    bad[2] = N_CLASSES
    with pytest.raises(ValueError, match=msg(name, "'target'", "[0, 20)", "20")):
        f(x, conv(xp, bad), hw, tail, cut)
    for helper in (P.adaptive_log_softmax_log_prob, P.adaptive_log_softmax_predict):
        with pytest.raises(ValueError, match=msg(helper.__name__, "'input'", "(N, in_features)", "(8,)")):
            helper(conv(xp, AX[0]), hw, tail, cut)


def test_helpers_are_not_losses():
    assert P.__all__ == ["linear_cross_entropy", "adaptive_log_softmax_with_loss"]
    assert set(P.HELPERS) == {"adaptive_log_softmax_log_prob", "adaptive_log_softmax_predict"}
    assert not set(P.HELPERS) & set(ml.losses.__all__)
    assert ml.losses.FAMILY["linear_cross_entropy"] == ml.losses.FAMILY["adaptive_log_softmax_with_loss"] == "parametric"


# ----------------------------------------------------------------------------- adapters: torch


def _torch_twins(cls_name, *args, seed=0, **kwargs):
    """torch's module and multiloss's, ours loading torch's state_dict (strict)."""
    require("torch")
    import torch

    import multiloss.torch as mt

    with warnings.catch_warnings():  # torch: "Initializing zero-element tensors is a no-op"
        warnings.simplefilter("ignore", UserWarning)
        torch.manual_seed(seed)
        native = getattr(torch.nn, cls_name)(*args, **kwargs).double()
        ours = getattr(mt, cls_name)(*args, **kwargs).double()
    assert ours.state_dict().keys() == native.state_dict().keys()
    ours.load_state_dict(native.state_dict())
    return torch, native, ours


def _compare_modules(torch, native, ours, call, field=None):
    """Values, and gradients w.r.t. the input(s) and every parameter, of one call."""
    def run(m):
        m.zero_grad()
        inputs = [a.detach().clone().requires_grad_(a.is_floating_point()) for a in call]
        out = m(*inputs)
        vals = list(out) if isinstance(out, tuple) else [out]
        sum(v.sum() for v in vals if v.is_floating_point()).backward()
        grads = [a.grad for a in inputs if a.is_floating_point()] + [p.grad for _, p in m.named_parameters()]
        return vals, grads, type(out)

    v1, g1, t1 = run(native)
    v2, g2, t2 = run(ours)
    assert t1 is t2, (t1, t2)
    for a, b in zip(v1 + g1, v2 + g2, strict=True):
        if a is None and b is not None:  # torch skips the clusters no target reaches: zero gradient
            a = torch.zeros_like(b)
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("kwargs", [
    {}, {"bias": True, "reduction": "sum"}, {"bias": True, "reduction": "none", "label_smoothing": 0.2},
    {"ignore_index": 3, "weight": "cw"}, {"out_features": (3, 2), "bias": True}, {"options": "chunk2"},
], ids=["default", "bias_sum", "none_smooth", "ignore_weight", "kdim", "options"])
def test_torch_linear_cross_entropy_module_equals_torchs(kwargs):
    require("torch")
    import torch

    kw = dict(kwargs)
    if kw.get("weight") == "cw":
        kw["weight"] = torch.from_numpy(CW)
    if kw.get("options") == "chunk2":
        kw["options"] = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    torch, native, ours = _torch_twins("LinearCrossEntropyLoss", D, C, **kw)
    t = torch.from_numpy(T3[:, :, :] if "out_features" in kw else T_3)
    if "out_features" in kw:
        t = torch.where(t < 0, 0, t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that its options need int64 targets etc.
        _compare_modules(torch, native, ours, (torch.from_numpy(X), t))
    assert isinstance(ours, torch.nn.modules.loss._WeightedLoss)
    assert (ours.num_classes, ours.out_features, ours.ignore_index) == (native.num_classes, native.out_features,
                                                                         native.ignore_index)


def test_torch_linear_cross_entropy_module_signature_and_errors():
    require("torch")
    import inspect

    import torch

    import multiloss.torch as mt

    ours, theirs = inspect.signature(mt.LinearCrossEntropyLoss), inspect.signature(torch.nn.LinearCrossEntropyLoss)
    assert [(p.name, p.default, p.kind) for p in ours.parameters.values()] == [
        (p.name, p.default, p.kind) for p in theirs.parameters.values()]
    import multiloss.torch.functional as mF

    assert [(p.name, p.default) for p in inspect.signature(mF.linear_cross_entropy).parameters.values()] == [
        (p.name, p.default) for p in inspect.signature(torch.nn.functional.linear_cross_entropy).parameters.values()]
    with pytest.raises(RuntimeError, match="expected weight shape"):
        mt.LinearCrossEntropyLoss(4, 7, weight=torch.ones(6))
    with pytest.raises(RuntimeError, match="label_smoothing"):
        mt.LinearCrossEntropyLoss(4, 7, label_smoothing=2.0)
    m = mt.LinearCrossEntropyLoss(4, 7).double()
    # the canonical checks, catchable as torch's RuntimeError and as ValueError/TypeError
    with pytest.raises(RuntimeError, match=msg("linear_cross_entropy", "in_features=5", "(7, 4)")) as info:
        m(torch.randn(3, 5, dtype=torch.float64), torch.zeros(3, dtype=torch.long))
    assert isinstance(info.value, ValueError)
    with pytest.raises(RuntimeError, match=msg("linear_cross_entropy", "'target'", "[0, 7)")):
        m(torch.randn(3, 4, dtype=torch.float64), torch.tensor([0, 7, 1]))
    with pytest.raises(TypeError, match=msg("linear_cross_entropy", "'linear_weight'", "float32", "float64")):
        m(torch.randn(3, 4), torch.zeros(3, dtype=torch.long))


@pytest.mark.parametrize("kwargs", [{"div_value": 2.0}, {"div_value": 2.0, "head_bias": True}, {}])
def test_torch_adaptive_module_equals_torchs(kwargs):
    torch, native, ours = _torch_twins("AdaptiveLogSoftmaxWithLoss", AD, N_CLASSES, CUT, **kwargs)
    assert isinstance(ours, torch.nn.AdaptiveLogSoftmaxWithLoss)
    x = torch.from_numpy(AX)
    _compare_modules(torch, native, ours, (x, torch.from_numpy(AT)))  # (output, loss), torch's namedtuple
    _compare_modules(torch, native, ours, (x[3], torch.tensor(AT[3])))  # unbatched
    _compare_modules(torch, native, ours, (x[:0], torch.from_numpy(AT[:0])))  # empty batch: nan loss as torch
    torch.testing.assert_close(ours.log_prob(x), native.log_prob(x), rtol=1e-12, atol=1e-12)
    assert torch.equal(ours.predict(x), native.predict(x))
    out = ours(x, torch.from_numpy(AT))
    assert out._fields == ("output", "loss")
    with pytest.raises(RuntimeError, match=msg("adaptive_log_softmax_with_loss", "'target'", "[0, 20)")):
        ours(x, torch.from_numpy(np.where(AT == 19, 20, AT)))
    with pytest.raises(RuntimeError, match="same batch size"):
        ours(x, torch.from_numpy(AT[:3]))
    with pytest.raises(ValueError, match="cutoffs should be"):  # torch's own constructor check
        type(ours)(AD, N_CLASSES, [8, 3])


def test_torch_modules_compile_without_graph_breaks():
    require("torch")
    import warnings

    import torch

    import multiloss.torch as mt

    torch._dynamo.reset()
    x = torch.from_numpy(X).requires_grad_()
    m = mt.LinearCrossEntropyLoss(D, C, bias=True, weight=torch.from_numpy(CW), label_smoothing=0.1).double()
    f = torch.compile(lambda a, b: m(a, b), fullgraph=True, backend="aot_eager")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = f(x, torch.from_numpy(T_IGN))
    (g,) = torch.autograd.grad(got, x)
    want = m(x, torch.from_numpy(T_IGN))
    (gw,) = torch.autograd.grad(want, x)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(g, gw)
    a = mt.AdaptiveLogSoftmaxWithLoss(AD, N_CLASSES, CUT, div_value=2.0).double()
    f = torch.compile(lambda u, v: a(u, v), fullgraph=True, backend="aot_eager")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = f(torch.from_numpy(AX), torch.from_numpy(AT))
    torch.testing.assert_close(out.loss, a(torch.from_numpy(AX), torch.from_numpy(AT)).loss)


# ----------------------------------------------------------------------------- adapters: jax


def test_jax_pytree_functions_equal_torch_modules():
    require("jax")
    import jax

    from multiloss.backends import jax_parametric as jp

    torch, native, _ = _torch_twins("LinearCrossEntropyLoss", D, C, bias=True, reduction="none")
    params = jp.params_from_state_dict(native.state_dict())
    assert jax.tree_util.tree_map(lambda a: a.shape, params) == {"linear": {"weight": (C, D), "bias": (C,)}}
    xt = torch.from_numpy(X)
    want = native(xt, torch.from_numpy(T_IGN))
    want.sum().backward()
    xp_assert_close(jp.linear_cross_entropy(params, X, T_IGN), to_numpy(want.detach()), rtol=1e-12)
    g = jax.jit(jax.grad(lambda p: jp.linear_cross_entropy(p, X, T_IGN, chunk_size=2).sum()))(params)
    np.testing.assert_allclose(g["linear"]["weight"], to_numpy(native.linear.weight.grad), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(g["linear"]["bias"], to_numpy(native.linear.bias.grad), rtol=1e-10, atol=1e-13)

    torch, native, _ = _torch_twins("AdaptiveLogSoftmaxWithLoss", AD, N_CLASSES, CUT, div_value=2.0, head_bias=True)
    params = jp.params_from_state_dict(native.state_dict())
    out, loss = jax.jit(lambda p, x, t: jp.adaptive_log_softmax_with_loss(p, x, t, CUT))(params, AX, AT)
    ref = native(torch.from_numpy(AX), torch.from_numpy(AT))
    xp_assert_close(out, to_numpy(ref.output.detach()), rtol=1e-12)
    xp_assert_close(loss, to_numpy(ref.loss.detach()), rtol=1e-12)
    xp_assert_close(jp.adaptive_log_softmax_log_prob(params, AX, CUT),
                    to_numpy(native.log_prob(torch.from_numpy(AX)).detach()), rtol=1e-12)
    np.testing.assert_array_equal(to_numpy(jp.adaptive_log_softmax_predict(params, AX, CUT)),
                                  to_numpy(native.predict(torch.from_numpy(AX))))


def test_jax_init_has_torchs_layout_and_bounds():
    require("jax")
    import jax

    from multiloss.backends import jax_parametric as jp

    p = jp.adaptive_log_softmax_init(jax.random.key(0), AD, N_CLASSES, CUT, div_value=2.0, head_bias=True)
    shapes = {"head.weight": (6, 8), "head.bias": (6,), "tail.0.0.weight": (4, 8), "tail.0.1.weight": (5, 4),
              "tail.1.0.weight": (2, 8), "tail.1.1.weight": (6, 2), "tail.2.0.weight": (1, 8), "tail.2.1.weight": (6, 1)}
    got = {jax.tree_util.keystr(k, simple=True, separator="."): v.shape
           for k, v in jax.tree_util.tree_flatten_with_path(p)[0]}
    assert got == shapes
    assert float(abs(p["head"]["weight"]).max()) <= 1 / np.sqrt(AD)  # torch's Linear bound
    q = jp.linear_cross_entropy_init(jax.random.key(1), D, C, out_features=(3,), bias=True)
    assert q["linear"]["weight"].shape == (C, 3, D) and q["linear"]["bias"].shape == (C, 3)
    with pytest.raises(ValueError, match="cutoffs should be"):
        jp.adaptive_log_softmax_init(jax.random.key(0), AD, N_CLASSES, [3, 3])


# ----------------------------------------------------------------------------- adapters: keras


def test_keras_layers_equal_torch():
    require("tensorflow")
    pytest.importorskip("keras")
    require("torch")
    import keras
    import torch
    import torch.nn.functional as F

    from multiloss.backends import keras_parametric as kp

    x32, t = X.astype(np.float32), T_3
    layer = kp.LinearCrossEntropy(C, use_bias=True, class_weight=list(CW), label_smoothing=0.1)
    got = layer(x32, t)
    w, b = (keras.ops.convert_to_numpy(v) for v in (layer.linear_weight, layer.linear_bias))
    assert w.shape == (C, D)  # torch's layout
    logits = F.linear(torch.from_numpy(X), torch.from_numpy(w.astype(np.float64)), torch.from_numpy(b.astype(np.float64)))
    want = F.cross_entropy(logits, torch.from_numpy(t), weight=torch.from_numpy(CW), label_smoothing=0.1,
                           reduction="none").mean()  # keras's sum_over_batch_size
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), to_numpy(want), rtol=2e-6)
    # ignore_class and sample_weight as keras's SparseCategoricalCrossentropy
    masked = kp.LinearCrossEntropy(C, ignore_class=3)
    sw = np.linspace(0.2, 1.8, N).astype(np.float32)
    v = masked(x32, t, sample_weight=sw)
    w = keras.ops.convert_to_numpy(masked.linear_weight)
    ref = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3)(t, x32 @ w.T, sample_weight=sw)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(v), keras.ops.convert_to_numpy(ref), rtol=2e-6)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(again) is kp.LinearCrossEntropy and again.get_config() == layer.get_config()

    asm = kp.AdaptiveLogSoftmaxWithLoss(N_CLASSES, CUT, div_value=2.0, head_bias=True)
    out, loss = asm(AX.astype(np.float32), AT)
    native = torch.nn.AdaptiveLogSoftmaxWithLoss(AD, N_CLASSES, CUT, div_value=2.0, head_bias=True)
    native.load_state_dict({k: torch.from_numpy(keras.ops.convert_to_numpy(v)) for k, v in zip(
        native.state_dict(), [asm.head_weight, asm.head_bias_weight, *[w for pair in asm.tail_weights for w in pair]])})
    ref = native(torch.from_numpy(AX.astype(np.float32)), torch.from_numpy(AT))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), to_numpy(ref.output.detach()), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loss), to_numpy(ref.loss.detach()), rtol=1e-5)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(asm.predict(AX.astype(np.float32))),
                                  to_numpy(native.predict(torch.from_numpy(AX.astype(np.float32)))))


def test_keras_linear_cross_entropy_trains_a_functional_model():
    """The layer as the last layer of a functional model, its value added as the model's loss,
    fitted in keras's compiled train step (tf.function, unknown batch size)."""
    require("tensorflow")
    keras = pytest.importorskip("keras")
    from multiloss.backends import keras_parametric as kp

    keras.utils.set_random_seed(0)
    r = np.random.default_rng(0)
    y = r.integers(0, 3, size=256).astype("int32")
    x = (r.normal(size=(256, 4)) + 3 * np.eye(3, 4)[y]).astype("float32")
    inp, lab = keras.Input((4,)), keras.Input((), dtype="int32")
    out = kp.LinearCrossEntropy(3, use_bias=True, add_as_loss=True)(keras.layers.Dense(8, activation="relu")(inp), lab)
    model = keras.Model([inp, lab], out)
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    hist = model.fit([x, y], epochs=4, batch_size=32, verbose=0).history["loss"]
    assert hist[-1] < 0.5 * hist[0], hist
