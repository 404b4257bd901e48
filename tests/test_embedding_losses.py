"""Embedding losses (``multiloss/losses/embedding.py``) and the ``pairwise_distance`` primitive,
on every installed namespace (``xp`` fixture).

Expected values come from plain Python loops over the pairs/triplets written here, and from
torch's own ``torch.nn.functional`` functions on the same float64 inputs (torch is the
semantics these losses mirror); gradients are compared to torch's autograd, including where
two embeddings coincide (torch's norm backward is 0 there, not nan).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from multiloss import _ops
from tests_conftest import msg, reduce_ref, require, to_numpy, to_xp, torch_f, value_and_grad, xp_assert_close

REDUCTIONS = ("none", "mean", "sum")


def torch_grad(name, x, *others, **kw):
    """Gradient of ``sum(F.<name>(x, *others))`` w.r.t. ``x`` (float64)."""
    require("torch")
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.array(x)).requires_grad_(True)
    out = getattr(F, name)(t, *[torch.from_numpy(np.array(o)) for o in others], **kw)
    (g,) = torch.autograd.grad(out.sum(), t)
    return g.numpy()


def call(xp, fn, *args, dtype=None, **kwargs):
    conv = lambda a: to_xp(xp, a, dtype) if isinstance(a, np.ndarray) else a  # noqa: E731
    return fn(*[conv(a) for a in args], **{k: conv(v) for k, v in kwargs.items()})


def generic_sqeuclidean(x1, x2):
    """A distance written the way a user writes one for any backend."""
    xp = ml.array_namespace(x1, x2)
    d = x1 - x2
    return xp.sum(d * d, axis=-1)


rng = np.random.default_rng(7)
X1 = rng.normal(size=(6, 4))
X2 = rng.normal(size=(6, 4))
X2[2] = 2.0 * X1[2]  # cos = 1 (similar pair: loss 0)
X2[3] = 0.3 * X1[3] + 0.2 * rng.normal(size=4)  # cos > 0.5 for a dissimilar pair
Y = np.array([1, -1, 1, -1, 0, -1])

ANC = rng.normal(size=(5, 3))
POS = ANC + rng.normal(scale=0.5, size=(5, 3))
NEG = ANC + rng.normal(scale=1.0, size=(5, 3))
NEG[4] = POS[4] + 0.1  # negative next to the positive: swap changes this row


# ----------------------------------------------------------------------------- loops


def cos_loop(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt((sum(x * x for x in a) + 1e-12) * (sum(y * y for y in b) + 1e-12))


def cosine_embedding_loop(x1, x2, y, margin):
    out = []
    for a, b, label in zip(x1, x2, y):
        c = cos_loop(a, b)
        out.append(1 - c if label == 1 else max(0.0, c - margin) if label == -1 else 0.0)
    return np.array(out)


def dist_loop(a, b, p=2.0, eps=1e-6):
    d = [abs(x - y + eps) for x, y in zip(a, b)]
    if p == math.inf:
        return max(d)
    return sum(v**p for v in d) ** (1 / p)


def triplet_loop(a, p, n, margin=1.0, norm=2.0, eps=1e-6, swap=False, dist=None):
    dist = dist or (lambda u, v: dist_loop(u, v, norm, eps))
    out = []
    for ai, pi, ni in zip(a, p, n):
        dn = dist(ai, ni)
        if swap:
            dn = min(dn, dist(pi, ni))
        out.append(max(0.0, margin + dist(ai, pi) - dn))
    return np.array(out)


# ----------------------------------------------------------------------------- pairwise_distance


PS = (2.0, 1.0, 3.0, 0.5, 1.5, math.inf, -math.inf, 0.0, -1.0)


@pytest.mark.parametrize("p", PS, ids=str)
@pytest.mark.parametrize("keepdim", (False, True))
def test_pairwise_distance_matches_torch(xp, p, keepdim):
    from multiloss import array_namespace

    a, b = to_xp(xp, X1), to_xp(xp, X2)
    out = _ops.pairwise_distance(array_namespace(a), a, b, p, 1e-6, keepdim)
    xp_assert_close(out, torch_f("pairwise_distance", X1, X2, p=p, keepdim=keepdim), xp=xp)
    if p not in (0.0, -math.inf, -1.0):
        want = [dist_loop(u, v, p) for u, v in zip(X1, X2)]
        xp_assert_close(out, np.reshape(want, (6, 1) if keepdim else (6,)), rtol=1e-10)


@pytest.mark.parametrize("p", PS, ids=str)
def test_pairwise_distance_generic_matches_torch_including_gradient_at_zero(grad_backend, p):
    """The generic body (what jax, TF, NumPy and array_api_strict run) has torch's value and
    gradient, also at d == 0 entries and zero-norm rows (torch: 0, a naive formula: nan)."""
    x1 = X1.copy()
    x1[0] = X2[0]  # a zero-norm row (eps = 0)
    x1[1, :2] = X2[1, :2]  # zero entries in a row
    x1[4, :] = X2[4, :] + np.array([1.0, -1.0, 1.0, 0.5])  # a tie of the max (p = inf)
    from multiloss import array_namespace

    if grad_backend == "torch":
        from array_api_compat import torch as xpt

        f = lambda a: _ops.pairwise_distance.generic(xpt, a, to_xp("torch", X2), p, 0.0)  # noqa: E731
    else:
        f = lambda a: _ops.pairwise_distance.generic(array_namespace(a), a, to_xp(grad_backend, X2), p, 0.0)  # noqa: E731
    if p == 0.0:  # a count: no gradient anywhere (torch's graph is disconnected)
        out = f(to_xp(grad_backend, x1))
        xp_assert_close(out, torch_f("pairwise_distance", x1, X2, p=p, eps=0.0))
        return
    val, grad = value_and_grad(grad_backend, f, x1)
    xp_assert_close(val, torch_f("pairwise_distance", x1, X2, p=p, eps=0.0))
    want = torch_grad("pairwise_distance", x1, X2, p=p, eps=0.0)
    assert np.all(np.isfinite(want)) and np.all(np.isfinite(grad))
    xp_assert_close(grad, want, atol=1e-12)
    assert np.all(grad[0] == 0)


def test_pairwise_distance_unbatched_and_broadcast(xp):
    from multiloss import array_namespace

    a = to_xp(xp, X1[0])
    ns = array_namespace(a)
    xp_assert_close(_ops.pairwise_distance(ns, a, to_xp(xp, X2[0])), torch_f("pairwise_distance", X1[0], X2[0]))
    xp_assert_close(_ops.pairwise_distance(ns, to_xp(xp, X1), a), torch_f("pairwise_distance", X1, X1[0]))
    z = to_xp(xp, np.array(1.0))
    xp_assert_close(_ops.pairwise_distance(ns, z, to_xp(xp, np.array(3.0))), np.array(2.0 - 1e-6))


# ----------------------------------------------------------------------------- cosine_embedding_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", (0.0, 0.5, -0.2))
@pytest.mark.parametrize("dtype", (np.float64, np.float32))
def test_cosine_embedding_loss(xp, reduction, margin, dtype):
    out = call(xp, ml.cosine_embedding_loss, X1, X2, Y, margin=margin, reduction=reduction, dtype=dtype)
    want = reduce_ref(cosine_embedding_loop(X1, X2, Y, margin), reduction)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    xp_assert_close(out, want, rtol=rtol, atol=1e-6 if dtype == np.float32 else 1e-14, xp=xp)
    assert to_numpy(out).dtype == dtype
    xp_assert_close(out, torch_f("cosine_embedding_loss", X1, X2, Y, margin=margin, reduction=reduction),
                    rtol=rtol, atol=1e-6 if dtype == np.float32 else 1e-14)


def test_cosine_embedding_loss_labels_other_than_pm1_give_zero(xp):
    out = to_numpy(call(xp, ml.cosine_embedding_loss, X1, X2, np.array([0.0, 2.0, -0.5, 0.0, 0.0, 3.0]),
                        reduction="none"))
    assert np.all(out == 0)
    # float labels are fine, same numbers as integer ones
    xp_assert_close(call(xp, ml.cosine_embedding_loss, X1, X2, Y.astype(np.float64), reduction="none"),
                    cosine_embedding_loop(X1, X2, Y, 0.0), rtol=1e-12, atol=1e-14)


def test_cosine_embedding_loss_unbatched_and_broadcast(xp):
    out = call(xp, ml.cosine_embedding_loss, X1[1], X2[1], np.array(-1), reduction="none")
    assert to_numpy(out).shape == ()
    xp_assert_close(out, torch_f("cosine_embedding_loss", X1[1], X2[1], np.array(-1), reduction="none"))
    # input2 (1, D) broadcasts over the batch, as in torch
    out = call(xp, ml.cosine_embedding_loss, X1, X2[:1], Y, reduction="none")
    xp_assert_close(out, torch_f("cosine_embedding_loss", X1, X2[:1], Y, reduction="none"), atol=1e-14)


def test_cosine_embedding_loss_gradient(grad_backend):
    x1 = X1.copy()
    x1[0] = 0.0  # a zero embedding: torch's 1e-12 keeps the cosine (and gradient) finite
    f = lambda a: ml.cosine_embedding_loss(a, to_xp(grad_backend, X2), to_xp(grad_backend, Y), 0.3, "none")  # noqa: E731
    val, grad = value_and_grad(grad_backend, f, x1)
    xp_assert_close(val, torch_f("cosine_embedding_loss", x1, X2, Y, margin=0.3, reduction="none"), atol=1e-14)
    want = torch_grad("cosine_embedding_loss", x1, X2, Y, margin=0.3, reduction="none")
    assert np.all(np.isfinite(grad))
    xp_assert_close(grad, want, rtol=1e-6, atol=1e-12)  # ~1e6 at the zero row: ill-conditioned


def test_cosine_embedding_loss_errors(xp):
    fn = "cosine_embedding_loss"
    a, b, y = to_xp(xp, X1), to_xp(xp, X2), to_xp(xp, Y)
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must be 0-d", "got shape (6, 1)")):
        ml.cosine_embedding_loss(a, b, to_xp(xp, Y[:, None]))
    with pytest.raises(ValueError, match=msg(f"{fn}: a 0-D 'target' expects 1-D 'input1' and 'input2'",
                                             "got shapes (6, 4) and (6, 4)")):
        ml.cosine_embedding_loss(a, b, to_xp(xp, np.array(1)))
    with pytest.raises(ValueError, match=msg(f"{fn}: a 1-D 'target' expects 2-D", "got shapes (4,) and (4,)")):
        ml.cosine_embedding_loss(to_xp(xp, X1[0]), to_xp(xp, X2[0]), y)
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must have one label per pair, shape (6,)",
                                             "got (4,)")):
        ml.cosine_embedding_loss(a, b, to_xp(xp, Y[:4]))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'input2' must have the shape of 'input1' (6, 4)",
                                             "got (6, 3)")):
        ml.cosine_embedding_loss(a, to_xp(xp, X2[:, :3]), y)
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'input1' must be a real floating-point", "int64")):
        ml.cosine_embedding_loss(to_xp(xp, np.ones((6, 4), dtype=np.int64)), b, y)
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'reduction'", "got 'avg'")):
        ml.cosine_embedding_loss(a, b, y, reduction="avg")


# ----------------------------------------------------------------------------- triplet_margin_loss


TRIPLET_OPTIONS = [
    {},
    {"margin": 0.5},
    {"p": 1.0},
    {"p": 3.0},
    {"p": math.inf},
    {"p": 0.5},
    {"eps": 0.0},
    {"swap": True},
    {"swap": True, "p": 1.0, "margin": 2.0},
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw", TRIPLET_OPTIONS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_triplet_margin_loss(xp, kw, reduction):
    out = call(xp, ml.triplet_margin_loss, ANC, POS, NEG, reduction=reduction, **kw)
    loop_kw = {"margin": kw.get("margin", 1.0), "norm": kw.get("p", 2.0), "eps": kw.get("eps", 1e-6),
               "swap": kw.get("swap", False)}
    xp_assert_close(out, reduce_ref(triplet_loop(ANC, POS, NEG, **loop_kw), reduction), rtol=1e-10, xp=xp)
    xp_assert_close(out, torch_f("triplet_margin_loss", ANC, POS, NEG, reduction=reduction, **kw), rtol=1e-10)


def test_triplet_margin_loss_swap_matters():
    plain = ml.triplet_margin_loss(ANC, POS, NEG, reduction="none")
    swapped = ml.triplet_margin_loss(ANC, POS, NEG, swap=True, reduction="none")
    assert swapped[4] > plain[4] + 0.5 and np.all(swapped >= plain)


@pytest.mark.parametrize("dtype", (np.float32,))
def test_triplet_margin_loss_float32(xp, dtype):
    out = call(xp, ml.triplet_margin_loss, ANC, POS, NEG, dtype=dtype)
    assert to_numpy(out).dtype == dtype
    xp_assert_close(out, triplet_loop(ANC, POS, NEG).mean(), rtol=1e-5)


@pytest.mark.parametrize("xp", ["numpy", "torch", "jax", "tensorflow"])  # array_api_strict has no float16
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_triplet_margin_loss_float16_distances_past_256_stay_finite(xp, p):
    """|d|^2 overflows float16 past 256: the distances are summed in float32 as torch's norm
    kernel does (torch: 201 here; the sum in float16 gave inf on numpy/jax/tensorflow)."""
    require(xp)
    a, pos, neg = (np.asarray(v, np.float64) for v in ([[300.0, 0.0]], [[0.0, 0.0]], [[300.0, 100.0]]))
    out = call(xp, ml.triplet_margin_loss, a, pos, neg, dtype=np.float16, p=p)
    assert to_numpy(out).dtype == np.float16
    want = 1.0 + np.sum(300.0 ** p) ** (1 / p) - 100.0
    xp_assert_close(np.float64(to_numpy(out)), want, rtol=2e-3)


def test_triplet_margin_loss_shapes(xp):
    # unbatched (D,) -> a 0-d loss; (B, T, D) -> (B, T); a (1, D) positive broadcasts
    out = call(xp, ml.triplet_margin_loss, ANC[0], POS[0], NEG[0], reduction="none")
    xp_assert_close(out, torch_f("triplet_margin_loss", ANC[0], POS[0], NEG[0], reduction="none"), rtol=1e-12)
    a3, p3, n3 = (v.reshape(1, 5, 3) for v in (ANC, POS, NEG))
    out = call(xp, ml.triplet_margin_loss, a3, p3, n3, reduction="none")
    assert to_numpy(out).shape == (1, 5)
    out = call(xp, ml.triplet_margin_loss, ANC, POS[:1], NEG, reduction="none")
    xp_assert_close(out, torch_f("triplet_margin_loss", ANC, POS[:1], NEG, reduction="none"), rtol=1e-12)


@pytest.mark.parametrize("p", (2.0, 1.0, 3.0, math.inf))
def test_triplet_margin_loss_gradient_where_anchor_equals_positive(grad_backend, p):
    """With eps=0 an anchor equal to its positive has distance 0: torch's gradient is finite
    (norm backward masks the zero norm), and so is ours, with the same numbers."""
    anc = ANC.copy()
    anc[1] = POS[1]
    kw = {"p": p, "eps": 0.0, "swap": True, "reduction": "none"}
    f = lambda a: ml.triplet_margin_loss(a, to_xp(grad_backend, POS), to_xp(grad_backend, NEG), **kw)  # noqa: E731
    val, grad = value_and_grad(grad_backend, f, anc)
    xp_assert_close(val, torch_f("triplet_margin_loss", anc, POS, NEG, **kw), rtol=1e-12)
    want = torch_grad("triplet_margin_loss", anc, POS, NEG, **kw)
    assert np.all(np.isfinite(want)) and np.all(np.isfinite(grad))
    xp_assert_close(grad, want, rtol=1e-10, atol=1e-12)


def test_triplet_margin_loss_errors(xp):
    fn = "triplet_margin_loss"
    a, p, n = to_xp(xp, ANC), to_xp(xp, POS), to_xp(xp, NEG)
    for m in (0.0, -1.0):
        with pytest.raises(ValueError, match=msg(f"{fn}: argument 'margin' must be greater than 0", f"got {m!r}")):
            ml.triplet_margin_loss(a, p, n, margin=m)
    with pytest.raises(ValueError, match=msg(f"{fn}: arguments 'anchor', 'positive' and 'negative' must have the "
                                             "same number of dimensions", "(5, 3), (5, 3) and (3,)", "2-D, 2-D and 1-D")):
        ml.triplet_margin_loss(a, p, to_xp(xp, NEG[0]))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'negative' must have the shape of 'anchor' (5, 3)",
                                             "got (4, 3)")):
        ml.triplet_margin_loss(a, p, to_xp(xp, NEG[:4]))
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'positive' must be a real floating-point", "int64")):
        ml.triplet_margin_loss(a, to_xp(xp, np.ones((5, 3), dtype=np.int64)), n)
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'p' must be a real number", "got str")):
        ml.triplet_margin_loss(a, p, n, p="2")
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'reduction'", "got 'batchmean'")):
        ml.triplet_margin_loss(a, p, n, reduction="batchmean")


# ----------------------------------------------------------------------------- with distance


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_with_distance_loss_default_is_triplet_margin_loss(xp, reduction):
    a, p, n = to_xp(xp, ANC), to_xp(xp, POS), to_xp(xp, NEG)
    out = ml.triplet_margin_with_distance_loss(a, p, n, reduction=reduction)
    xp_assert_close(out, ml.triplet_margin_loss(a, p, n, reduction=reduction), rtol=1e-15, xp=xp)
    xp_assert_close(out, torch_f("triplet_margin_with_distance_loss", ANC, POS, NEG, reduction=reduction),
                    rtol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"swap": True}, {"margin": 0.3, "reduction": "none"}],
                         ids=("default", "swap", "margin"))
def test_triplet_margin_with_distance_loss_custom_distance(xp, kw):
    out = call(xp, ml.triplet_margin_with_distance_loss, ANC, POS, NEG, distance_function=generic_sqeuclidean, **kw)
    sq = lambda u, v: sum((x - y) ** 2 for x, y in zip(u, v))  # noqa: E731
    want = triplet_loop(ANC, POS, NEG, margin=kw.get("margin", 1.0), swap=kw.get("swap", False), dist=sq)
    xp_assert_close(out, reduce_ref(want, kw.get("reduction", "mean")), rtol=1e-12, xp=xp)
    xp_assert_close(out, torch_f("triplet_margin_with_distance_loss", ANC, POS, NEG,
                                 distance_function=generic_sqeuclidean, **kw), rtol=1e-12)


def test_triplet_margin_with_distance_loss_passes_arrays_as_given(xp):
    """The distance gets the user's own arrays (no conversion, no dtype check: integer
    embeddings are fine with a distance that accepts them, as in torch)."""
    seen = []

    def l1(x1, x2):
        seen.append((type(x1), type(x2)))
        ns = ml.array_namespace(x1, x2)
        return ns.astype(ns.sum(ns.abs(x1 - x2), axis=-1), ns.float64)

    ia, ip, ine = (to_xp(xp, np.rint(v * 3).astype(np.int64)) for v in (ANC, POS, NEG))
    out = ml.triplet_margin_with_distance_loss(ia, ip, ine, distance_function=l1, swap=True, reduction="none")
    assert {t for pair in seen for t in pair} == {type(ia)} and len(seen) == 3
    ai, pi, ni = (np.rint(v * 3) for v in (ANC, POS, NEG))
    want = triplet_loop(ai, pi, ni, swap=True, dist=lambda u, v: float(np.abs(u - v).sum()))
    xp_assert_close(out, want, rtol=1e-12)


def test_triplet_margin_with_distance_loss_gradient(grad_backend):
    f = lambda a: ml.triplet_margin_with_distance_loss(  # noqa: E731
        a, to_xp(grad_backend, POS), to_xp(grad_backend, NEG), distance_function=generic_sqeuclidean,
        swap=True, reduction="none")
    val, grad = value_and_grad(grad_backend, f, ANC)
    want = torch_grad("triplet_margin_with_distance_loss", ANC, POS, NEG, distance_function=generic_sqeuclidean,
                      swap=True, reduction="none")
    xp_assert_close(grad, want, rtol=1e-12, atol=1e-14)


def test_triplet_margin_with_distance_loss_errors(xp):
    fn = "triplet_margin_with_distance_loss"
    a, p, n = to_xp(xp, ANC), to_xp(xp, POS), to_xp(xp, NEG)
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'margin' must be greater than 0", "got 0")):
        ml.triplet_margin_with_distance_loss(a, p, n, margin=0)
    with pytest.raises(ValueError, match=msg(f"{fn}: arguments 'anchor', 'positive' and 'negative'", "1-D, 2-D and 2-D")):
        ml.triplet_margin_with_distance_loss(to_xp(xp, ANC[0]), p, n)
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'distance_function' must be a callable", "got str")):
        ml.triplet_margin_with_distance_loss(a, p, n, distance_function="euclidean")
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'reduction'", "got 'avg'")):
        ml.triplet_margin_with_distance_loss(a, p, n, reduction="avg")
    with pytest.raises(TypeError):  # keyword-only, as in torch
        ml.triplet_margin_with_distance_loss(a, p, n, generic_sqeuclidean)


# ----------------------------------------------------------------------------- tracing


def test_embedding_losses_trace_under_jax_jit():
    require("jax")
    import jax
    import jax.numpy as jnp

    y = jnp.asarray(Y)

    @jax.jit
    def total(a, p, n):
        return (ml.cosine_embedding_loss(a, p, y, 0.2) + ml.triplet_margin_loss(a, p, n, swap=True)
                + ml.triplet_margin_with_distance_loss(a, p, n, distance_function=generic_sqeuclidean))

    x1, x2, x3 = (jnp.asarray(v) for v in (X1, X2, X1[::-1] + 0.5))
    want = (ml.cosine_embedding_loss(X1, X2, Y, 0.2) + ml.triplet_margin_loss(X1, X2, X1[::-1] + 0.5, swap=True)
            + ml.triplet_margin_with_distance_loss(X1, X2, X1[::-1] + 0.5, distance_function=generic_sqeuclidean))
    xp_assert_close(total(x1, x2, x3), want, rtol=1e-12)
    g = jax.grad(total)(x1, x2, x3)
    assert np.all(np.isfinite(np.asarray(g)))


def test_embedding_losses_trace_under_tf_function():
    require("tensorflow")
    import tensorflow as tf

    @tf.function
    def total(a, p, n, y):
        return ml.cosine_embedding_loss(a, p, y) + ml.triplet_margin_loss(a, p, n, p=1.0)

    args = [tf.constant(v) for v in (X1, X2, X1[::-1] + 0.5, Y)]
    want = ml.cosine_embedding_loss(X1, X2, Y) + ml.triplet_margin_loss(X1, X2, X1[::-1] + 0.5, p=1.0)
    xp_assert_close(total(*args), want, rtol=1e-12)
