"""Sequence losses (``multiloss/losses/sequence.py``) on every installed namespace.

CTC values are checked against a brute-force sum over every alignment (independent of any
dynamic program) and against ``torch.nn.functional.ctc_loss``; gradients against torch's native
kernel, whose convention (``exp(lp) - posterior``, not the derivative of the value) is pinned
here too. The ``scan`` primitive the recursion runs on is checked generic-vs-override.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import multiloss as ml
from multiloss import _ops
from tests_conftest import namespace_of, to_numpy, to_xp, value_and_grad, xp_assert_close

# ----------------------------------------------------------------------------- brute force


def _collapse(path, blank):
    out, prev = [], None
    for c in path:
        if c != prev and c != blank:
            out.append(c)
        prev = c
    return out


def brute_ctc(lp, targets, input_lengths, target_lengths, blank=0):
    """-log of the summed probability of every path over the first T_n frames whose collapse
    (merge repeats, drop blanks) is the target: C**T_n paths, so tiny inputs only."""
    out = []
    for n in range(lp.shape[1]):
        t_n, y = int(input_lengths[n]), [int(v) for v in targets[n, : target_lengths[n]]]
        total = 0.0
        for path in itertools.product(range(lp.shape[2]), repeat=t_n):
            if _collapse(path, blank) == y:
                total += math.exp(sum(lp[t, n, c] for t, c in enumerate(path)))
        out.append(-math.log(total) if total > 0 else math.inf)
    return np.array(out)


def log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# T=5 frames, N=4, C=3 (blank 0): a repeated label, an empty target, a short input
LP = log_softmax(np.random.default_rng(0).normal(size=(5, 4, 3)))
TG = np.array([[1, 1], [2, 1], [0, 0], [2, -1]])  # padding ignored (even -1)
IL = np.array([5, 4, 3, 2])
TL = np.array([2, 2, 0, 1])


def ctc(xp, lp, tg, il, tl, dtype=np.float64, **kw):
    return ml.ctc_loss(to_xp(xp, lp, dtype), to_xp(xp, tg), to_xp(xp, il), to_xp(xp, tl), **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_equals_sum_over_alignments(xp, reduction, dtype):
    per = brute_ctc(LP, TG, IL, TL)
    want = {"none": per, "sum": per.sum(), "mean": (per / np.maximum(TL, 1)).mean()}[reduction]
    out = ctc(xp, LP, TG, IL, TL, dtype, reduction=reduction)
    xp_assert_close(out, want, rtol=1e-5 if dtype == np.float32 else 1e-12, xp=xp)
    assert to_numpy(out).dtype == dtype


def test_ctc_blank_not_zero(xp):
    lp = LP[:, :3]
    tg = np.array([[0, 0], [1, 0], [1, 1]])  # blank = 2: 0 is a label
    got = ctc(xp, lp, tg, IL[:3], np.array([2, 1, 2]), blank=2, reduction="none")
    xp_assert_close(got, brute_ctc(lp, tg, IL[:3], np.array([2, 1, 2]), blank=2), rtol=1e-12)


def test_ctc_unbatched(xp):
    got = ml.ctc_loss(to_xp(xp, LP[:, 1]), to_xp(xp, TG[1]), 4, 2, reduction="none")
    assert to_numpy(got).shape == ()
    xp_assert_close(got, brute_ctc(LP[:, 1:2], TG[1:2], [4], [2])[0], rtol=1e-12, xp=xp)
    arr = ml.ctc_loss(to_xp(xp, LP[:, 1]), to_xp(xp, TG[1]), to_xp(xp, np.int64(4)), to_xp(xp, np.int64(2)))
    xp_assert_close(arr, brute_ctc(LP[:, 1:2], TG[1:2], [4], [2])[0] / 2, rtol=1e-12)


def test_ctc_python_lengths(xp):
    got = ml.ctc_loss(to_xp(xp, LP), to_xp(xp, TG), tuple(int(v) for v in IL), [int(v) for v in TL],
                      reduction="none")
    xp_assert_close(got, brute_ctc(LP, TG, IL, TL), rtol=1e-12, xp=xp)


def test_ctc_concatenated_targets(xp):
    flat = np.concatenate([TG[n, : TL[n]] for n in range(4)])
    got = ctc(xp, LP, flat, IL, TL, reduction="none")
    xp_assert_close(got, brute_ctc(LP, TG, IL, TL), rtol=1e-12, xp=xp)
    empty = ctc(xp, LP, np.zeros((0,), np.int64), IL, np.zeros(4, np.int64), reduction="none")
    xp_assert_close(empty, brute_ctc(LP, TG, IL, np.zeros(4, np.int64)), rtol=1e-12)


def test_ctc_infeasible_and_zero_infinity(xp):
    # a 3-label target with a repeat needs 4 frames; 3 are given; input length 0 + empty target
    tg, il, tl = np.array([[1, 1, 2], [1, 0, 0]]), np.array([3, 0]), np.array([3, 0])
    lp = LP[:, :2]
    xp_assert_close(ctc(xp, lp, tg, il, tl, reduction="none"), [math.inf, 0.0])
    xp_assert_close(ctc(xp, lp, tg, il, tl, reduction="none", zero_infinity=True), [0.0, 0.0])
    xp_assert_close(ctc(xp, lp, tg, il, tl, reduction="sum", zero_infinity=True), 0.0)
    xp_assert_close(ctc(xp, lp, tg, il, tl, reduction="mean"), math.inf)


# ----------------------------------------------------------------------------- vs torch

# unnormalised log-probabilities: torch's gradient convention shows only there
RNG = np.random.default_rng(7)
T_, N_, C_, S_ = 14, 6, 5, 5
X = RNG.normal(scale=1.5, size=(T_, N_, C_))
TG_T = RNG.integers(1, C_, size=(N_, S_))
TG_T[0, :4] = [2, 2, 3, 3]
TG_T[4, 2] = TG_T[4, 1]
IL_T = np.array([14, 12, 9, 14, 5, 0])
TL_T = np.array([4, 5, 2, 0, 5, 0])  # row 4: five labels in five frames with a repeat -> inf


def torch_ctc(lp, tg, il, tl, grad=False, **kw):
    torch = pytest.importorskip("torch")
    x = torch.tensor(lp, requires_grad=grad)
    out = torch.nn.functional.ctc_loss(x, torch.tensor(tg), torch.tensor(il), torch.tensor(tl), **kw)
    if not grad:
        return out.detach().numpy()
    (g,) = torch.autograd.grad(out.sum(), x)
    return out.detach().numpy(), g.numpy()


@pytest.mark.parametrize("kw", [{"reduction": "none"}, {"reduction": "mean", "zero_infinity": True},
                                {"reduction": "sum", "zero_infinity": True}, {"blank": 3, "reduction": "none"}])
def test_ctc_values_match_torch(xp, kw):
    tg = np.where(TG_T == kw.get("blank", 0), 1, TG_T)
    xp_assert_close(ctc(xp, X, tg, IL_T, TL_T, **kw), torch_ctc(X, tg, IL_T, TL_T, **kw), rtol=1e-12)


@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_gradient_matches_torch_native(grad_backend, zero_infinity):
    """Every backend's gradient is torch's, nan pattern of the infeasible row included (with
    zero_infinity: zeros). On torch the generic Array API body is checked against the native
    kernel that overrides it."""
    want_v, want_g = torch_ctc(X, TG_T, IL_T, TL_T, grad=True, reduction="none", zero_infinity=zero_infinity)
    if grad_backend == "torch":
        xpt = namespace_of("torch")

        def f(x):
            return _ops.ctc_neg_log_likelihood.generic(xpt, x, to_xp("torch", TG_T), to_xp("torch", IL_T),
                                                       to_xp("torch", TL_T), 0, zero_infinity)
    else:
        args = [to_xp(grad_backend, a) for a in (TG_T, IL_T, TL_T)]

        def f(x):
            return ml.ctc_loss(x, *args, reduction="none", zero_infinity=zero_infinity)

    v, g = value_and_grad(grad_backend, f, X)
    np.testing.assert_allclose(v, want_v, rtol=1e-12)
    assert np.array_equal(np.isnan(g), np.isnan(want_g))
    # torch: nan on the inf row's frames (0 with zero_infinity), 0 on its padded frames
    assert np.isnan(want_g[: IL_T[4], 4]).all() != zero_infinity
    assert not want_g[IL_T[4]:, 4].any()
    np.testing.assert_allclose(np.nan_to_num(g), np.nan_to_num(want_g), rtol=1e-10, atol=1e-12)


def test_torch_ctc_gradient_is_not_the_derivative():
    """Pins torch's CTC gradient convention (aten/src/ATen/native/LossCTC.cpp,
    ctc_loss_backward_cpu_template: ``exp(lp) - exp(log_alpha + log_beta + nll - lp)``): it
    exceeds the finite-difference derivative of the value by exactly ``exp(lp)`` on each
    sequence's frames and is 0 on padded frames."""
    torch = pytest.importorskip("torch")
    rows = [0, 1, 2, 3]  # feasible rows
    x, tg, il, tl = X[:, rows], TG_T[rows], IL_T[rows], TL_T[rows]
    _, g = torch_ctc(x, tg, il, tl, grad=True, reduction="sum")
    fd = np.zeros_like(x)
    h = 1e-6
    f = lambda z: torch_ctc(z, tg, il, tl, reduction="sum")
    for i in np.ndindex(x.shape):
        xp_, xm = x.copy(), x.copy()
        xp_[i] += h
        xm[i] -= h
        fd[i] = (f(xp_) - f(xm)) / (2 * h)
    active = (np.arange(x.shape[0])[:, None] < il[None, :])[..., None]
    np.testing.assert_allclose(g - fd, np.exp(x) * active, atol=1e-6)
    assert torch is not None


def test_ctc_neg_inf_log_probs(xp):
    # a class masked with -inf: finite loss when the target avoids it (as torch), inf otherwise
    lp = log_softmax(X[:, :3])
    lp[:, :, 4] = -np.inf
    tg = np.array([[1, 2], [4, 1], [3, 3]])
    got = ctc(xp, lp, tg, IL_T[:3], np.array([2, 2, 2]), reduction="none")
    want = torch_ctc(lp, tg, IL_T[:3], np.array([2, 2, 2]), reduction="none")
    assert np.isinf(want[1]) and np.isfinite(want[[0, 2]]).all()
    xp_assert_close(got, want, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_ctc_low_precision(grad_backend, dtype):
    """float16/bfloat16: the recursion runs in float32, the loss comes back in the input dtype."""
    lp = log_softmax(X[:, :4])
    tg, il, tl = TG_T[:4], IL_T[:4], TL_T[:4]
    want = torch_ctc(lp, tg, il, tl, reduction="none")
    if grad_backend == "torch":
        import torch

        x = torch.tensor(lp).to(getattr(torch, dtype))
    elif grad_backend == "jax":
        import jax.numpy as jnp

        x = to_xp("jax", lp).astype(getattr(jnp, dtype))
    else:
        import tensorflow as tf

        x = tf.cast(to_xp("tensorflow", lp), getattr(tf, dtype))
    out = ml.ctc_loss(x, *[to_xp(grad_backend, a) for a in (tg, il, tl)], reduction="none")
    assert dtype in str(out.dtype)
    np.testing.assert_allclose(np.asarray(to_numpy(out), dtype=np.float64) if grad_backend != "torch"
                               else out.float().numpy(), want, rtol=2e-2)


# ----------------------------------------------------------------------------- traced


def test_ctc_under_jax_jit():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    flat = np.concatenate([TG_T[n, : TL_T[n]] for n in range(N_)])
    want_v, want_g = torch_ctc(X, TG_T, IL_T, TL_T, grad=True, reduction="sum", zero_infinity=True)
    for targets in (TG_T, flat):  # concatenated: traced lengths, lattice of the total length
        f = jax.jit(jax.value_and_grad(
            lambda x, t, il, tl: ml.ctc_loss(x, t, il, tl, reduction="sum", zero_infinity=True)))
        v, g = f(jnp.asarray(X), jnp.asarray(targets), jnp.asarray(IL_T), jnp.asarray(TL_T))
        np.testing.assert_allclose(float(v), want_v, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(g), want_g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_ctc_under_tf_function(jit_compile):
    tf = pytest.importorskip("tensorflow")
    flat = np.concatenate([TG_T[n, : TL_T[n]] for n in range(N_)])
    want_v, want_g = torch_ctc(X, TG_T, IL_T, TL_T, grad=True, reduction="mean", zero_infinity=True)

    @tf.function(jit_compile=jit_compile)
    def f(x, t, il, tl):
        with tf.GradientTape() as tape:
            tape.watch(x)
            v = ml.ctc_loss(x, t, il, tl, zero_infinity=True)
        return v, tape.gradient(v, x)

    for targets in (TG_T, flat):
        v, g = f(tf.constant(X), tf.constant(targets), tf.constant(IL_T), tf.constant(TL_T))
        np.testing.assert_allclose(v.numpy(), want_v, rtol=1e-12)
        np.testing.assert_allclose(g.numpy(), want_g, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- scan primitive


def test_scan_generic_and_override(xp):
    """``_ops.scan``: a running sum and product with stacked tuple outputs, a ``None`` output,
    and zero steps; the backend override (jax.lax.scan, tf.while_loop) equals the Python loop."""
    ns = namespace_of(xp)
    xs = to_xp(xp, np.arange(1.0, 7.0).reshape(3, 2))

    def step(carry, x):
        s, p = carry
        return (s + x, p * x), (s + x, p * x)

    init = (to_xp(xp, np.zeros(2)), to_xp(xp, np.ones(2)))
    for scan in (_ops.scan, _ops.scan.generic):
        (s, p), (ss, ps) = scan(ns, step, init, xs)
        xp_assert_close(s, [9.0, 12.0], xp=xp)
        xp_assert_close(p, [15.0, 48.0])
        xp_assert_close(ss, [[1.0, 2.0], [4.0, 6.0], [9.0, 12.0]])
        xp_assert_close(ps, [[1.0, 2.0], [3.0, 8.0], [15.0, 48.0]])
        c, ys = scan(ns, lambda c, x: (c + x[0] * x[1], None), to_xp(xp, np.zeros(2)), (xs, xs))
        assert ys is None
        xp_assert_close(c, [35.0, 56.0])
    c, ys = _ops.scan.generic(ns, step, init, to_xp(xp, np.zeros((0, 2))))
    assert ys is None
    xp_assert_close(c[0], [0.0, 0.0])


# ----------------------------------------------------------------------------- errors

ERRORS = [
    ({"reduction": "batchmean"}, ValueError, "argument 'reduction'"),
    ({"log_probs": np.zeros((5, 4, 3), np.int64)}, TypeError, "argument 'log_probs' must be a real floating"),
    ({"log_probs": LP[None]}, ValueError, "argument 'log_probs' must have shape (T, N, C)"),
    ({"blank": 3}, ValueError, "argument 'blank' must be an int in [0, 3)"),
    ({"blank": -1}, ValueError, "argument 'blank'"),
    ({"targets": TG.astype(np.float64)}, TypeError, "argument 'targets' holds class indices"),
    ({"targets": TG[:3]}, ValueError, "argument 'targets' must have shape (N, S) with N = 4"),
    ({"input_lengths": IL.astype(np.float64)}, TypeError, "argument 'input_lengths' must be an integer array"),
    ({"target_lengths": np.array([2, 2, 0])}, ValueError, "argument 'target_lengths' must have shape (4,)"),
    ({"input_lengths": np.array([6, 4, 3, 2])}, ValueError, "argument 'input_lengths' must hold lengths in [0, 5]"),
    ({"input_lengths": np.array([5, -1, 3, 2])}, ValueError, "argument 'input_lengths' must hold lengths in [0, 5]"),
    ({"target_lengths": np.array([3, 2, 0, 1])}, ValueError, "argument 'target_lengths' must hold lengths in [0, 2]"),
    ({"targets": np.array([1, 1, 2, 1]), "target_lengths": np.array([2, 2, 0, 1])}, ValueError,
     "argument 'target_lengths' must add up to the length of the concatenated 'targets' 4; got a sum of 5"),
    ({"targets": np.array([[1, 0], [2, 1], [0, 0], [2, 0]])}, ValueError,
     "argument 'targets' must hold class indices in [0, 3) other than the blank (0) within each target length; got 0"),
    ({"targets": np.array([[1, 1], [2, 3], [0, 0], [2, 0]])}, ValueError, "within each target length; got 3"),
    ({"targets": np.array([[1, 1], [2, -1], [0, 0], [2, 0]])}, ValueError, "within each target length; got -1"),
    # the blank last (one min/max) and in the middle (the elementwise check): the same message
    ({"blank": 2, "targets": np.array([[1, 0], [2, 1], [0, 0], [1, 0]])}, ValueError,
     "other than the blank (2) within each target length; got 2"),
    ({"blank": 1, "targets": np.array([[2, 0], [2, 1], [0, 0], [2, 0]])}, ValueError,
     "other than the blank (1) within each target length; got 1"),
    ({"input_lengths": (5, 4, 3.0, 2)}, TypeError, "argument 'input_lengths' must hold integers"),
    ({"log_epsilon": 1e5}, ValueError, "argument 'log_epsilon' must be a negative number (optax: -1e5) or None; got 100000.0"),
]


@pytest.mark.parametrize("change,exc,message", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_ctc_errors(xp, change, exc, message):
    args = {"log_probs": LP, "targets": TG, "input_lengths": IL, "target_lengths": TL}
    kw = {k: v for k, v in change.items() if k not in args}
    args.update({k: v for k, v in change.items() if k in args})
    conv = [a if isinstance(a, tuple) else to_xp(xp, a) for a in args.values()]
    with pytest.raises(exc) as info:
        ml.ctc_loss(*conv, **kw)
    assert str(info.value).startswith("ctc_loss: ")
    assert message in str(info.value)


def test_ctc_mixed_frameworks():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="ctc_loss: all arrays must come from one library"):
        ml.ctc_loss(torch.tensor(LP), TG, IL, TL)


# ----------------------------------------------------------------------------- adapters


def test_torch_module_gradcheck_and_fullgraph_compile():
    """multiloss.torch.CTCLoss: gradcheck through a log-softmax (torch's CTC gradient is the
    derivative only there), and torch.compile(fullgraph=True) of forward + backward, which
    torch.nn.CTCLoss itself does not survive (its kernel's output shape depends on the
    lengths): under compile the generic recursion runs, with the native kernel's numbers."""
    torch = pytest.importorskip("torch")
    import multiloss.torch as mt

    tg, il, tl = (torch.tensor(a) for a in (TG_T, IL_T, TL_T))
    m = mt.CTCLoss(zero_infinity=True)
    z = torch.tensor(X, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: m(a.log_softmax(-1), tg, il, tl), (z,), eps=1e-6, atol=1e-6)

    torch._dynamo.reset()
    x = torch.tensor(log_softmax(X), requires_grad=True)

    @torch.compile(fullgraph=True, backend="aot_eager")
    def step(a):
        return m(a, tg, il, tl)

    out = step(x)
    out.backward()
    x_ref = torch.tensor(log_softmax(X), requires_grad=True)
    ref = torch.nn.CTCLoss(zero_infinity=True)(x_ref, tg, il, tl)
    ref.backward()
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=0)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-10, atol=1e-12)


def _optax_inputs(dtype):
    from multiloss.conformance import domains

    d = domains.make("ctc_optax")
    labels, label_paddings = d["args"]
    return [to_xp("jax", a, dtype) for a in (d["pred"], d["target"], labels, label_paddings)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_jax_ctc_loss_with_forward_probs_equals_optax(dtype):
    """Loss and forward log-probabilities equal optax's, unreachable states (log_epsilon
    arithmetic) and a sequence without alignment included; padding inside a sequence; labels
    padded with -1 (optax's one-hot gives them log-probability 0); under jit; gradient."""
    optax = pytest.importorskip("optax")
    import jax

    import multiloss.jax as mj

    logits, paddings, labels, label_paddings = _optax_inputs(dtype)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    for lab, kw in ((labels, {}), (labels.at[1, 3].set(-1), {"log_epsilon": -1e4})):
        ours = mj.ctc_loss_with_forward_probs(logits, paddings, lab, label_paddings, **kw)
        want = optax.losses.ctc_loss_with_forward_probs(logits, paddings, lab, label_paddings, **kw)
        jitted = jax.jit(mj.ctc_loss_with_forward_probs)(logits, paddings, lab, label_paddings, **kw)
        for a, j, w in zip(ours, jitted, want):
            # (under x64 optax returns float64 for float32 logits: its jnp.ones(...) * log_epsilon)
            assert a.shape == w.shape and a.dtype == logits.dtype
            np.testing.assert_allclose(np.asarray(a), np.asarray(w), rtol=rtol)
            np.testing.assert_allclose(np.asarray(j), np.asarray(w), rtol=rtol)
        xp_assert_close(mj.ctc_loss(logits, paddings, lab, label_paddings, **kw), want[0], rtol=rtol)
    # gradient of the alignable sequences (the last one's is float32 noise in optax too)
    g = jax.grad(lambda z: mj.ctc_loss_with_forward_probs(z, paddings, labels, label_paddings)[0][:4].sum())(logits)
    w = jax.grad(lambda z: optax.losses.ctc_loss(z, paddings, labels, label_paddings)[:4].sum())(logits)
    np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-10 if dtype == np.float64 else 1e-5,
                               atol=1e-12 if dtype == np.float64 else 1e-6)


def test_log_epsilon_is_optax_log_zero(xp):
    """``log_epsilon`` gives optax's finite value for a sequence without alignment (about
    -log_epsilon per missing step) and changes nothing for the others."""
    lp, tg, il, tl = log_softmax(X), TG_T, IL_T, TL_T
    exact = to_numpy(ctc(xp, lp, tg, il, tl, reduction="none"))
    finite = to_numpy(ctc(xp, lp, tg, il, tl, reduction="none", log_epsilon=-1e5))
    feasible = np.isfinite(exact)
    assert not feasible[4] and feasible.sum() == 5
    np.testing.assert_allclose(finite[feasible], exact[feasible], rtol=1e-12)
    assert 1e5 <= finite[4] < 1.1e5


def test_keras_ctc_errors():
    pytest.importorskip("tensorflow")
    import multiloss.keras as mk

    y_pred = to_xp("tensorflow", np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="ctc: argument `y_true` must be"):
        mk.ctc(to_xp("tensorflow", np.zeros((2,), np.int64)), y_pred)
    with pytest.raises(ValueError, match="ctc: argument `y_pred` must be"):
        mk.ctc(to_xp("tensorflow", np.zeros((2, 4), np.int64)), y_pred[0])
