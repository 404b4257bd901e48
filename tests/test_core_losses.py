"""Reference tests of every canonical loss on every installed namespace (``xp`` fixture).

Expected values are computed here from the formulas, with plain Python loops / ``math`` on
small fixed inputs: independent of the loss code and of ``multiloss.conformance.references``.
Where torch has the loss, a few option combinations are also compared to torch itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import reduce_ref, to_numpy, to_xp, xp_assert_close

# ----------------------------------------------------------------------------- helpers


def call(xp, fn, *args, dtype=None, **kwargs):
    """``fn`` on backend ``xp``: NumPy arrays among args/kwargs are converted (floats to
    ``dtype`` when given, integers to int64)."""
    conv = lambda a: to_xp(xp, a, dtype) if isinstance(a, np.ndarray) else a  # noqa: E731
    return fn(*[conv(a) for a in args], **{k: conv(v) for k, v in kwargs.items()})


def check(xp, out, expected, dtype=np.float64, rtol=None, atol=0.0):
    """Value, namespace and dtype of a loss's output."""
    if rtol is None:
        rtol = 1e-5 if np.dtype(dtype) == np.float32 else 1e-11
    xp_assert_close(out, expected, rtol=rtol, atol=atol, xp=xp)
    assert to_numpy(out).dtype == np.dtype(dtype), f"dtype {to_numpy(out).dtype}, expected {dtype}"


REDUCTIONS = ("none", "mean", "sum")
DTYPES = (np.float64, np.float32)

# regression inputs
P = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])
T = np.array([[0.0, -1.0, 3.5], [1.0, 0.3, 0.2]])
W = np.array([[1.0, 2.0, 0.5], [0.0, 3.0, 1.0]])

# binary inputs: probabilities, targets (one soft label), logits
PB = np.array([[0.9, 0.2, 0.6], [0.05, 0.5, 0.99]])
TB = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.3]])
XB = np.array([[2.0, -1.0, 0.3], [-3.0, 0.0, 5.0]])

# multiclass: logits (N=4, C=3), class indices, class weights, probability targets
XC = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0], [2.0, 2.0, 2.0], [-0.5, 0.7, 0.2]])
YC = np.array([1, 2, 0, 1])
WC = np.array([0.2, 1.0, 3.0])
QC = np.array([[0.1, 0.7, 0.2], [0.0, 0.0, 1.0], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.25, 0.25]])


def log_softmax_rows(x):
    """log softmax of each row, a plain loop."""
    out = []
    for row in np.asarray(x, dtype=np.float64).tolist():
        lse = math.log(sum(math.exp(v) for v in row))
        out.append([v - lse for v in row])
    return np.array(out)


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


# ----------------------------------------------------------------------------- seed figures


def test_seed_figures_easy_and_hard_samples(xp):
    """The focal-loss worked example of the survey: focal (gamma=2, alpha=0.75) and BCE, easy and hard samples."""
    y = np.array([1.0, 0.0])
    easy = np.array([0.9, 0.1])
    hard = np.array([0.5, 0.5])
    focal_easy = float(to_numpy(call(xp, ml.focal_loss, easy, y, alpha=0.75, gamma=2.0)))
    bce_easy = float(to_numpy(call(xp, ml.binary_cross_entropy, easy, y)))
    focal_hard = float(to_numpy(call(xp, ml.focal_loss, hard, y, alpha=0.75, gamma=2.0)))
    bce_hard = float(to_numpy(call(xp, ml.binary_cross_entropy, hard, y)))
    assert round(focal_easy, 4) == 0.0005
    assert round(bce_easy, 4) == 0.1054
    assert round(focal_hard, 4) == 0.0866
    assert round(bce_hard, 4) == 0.6931
    # the defaults are the survey's worked example's
    assert float(to_numpy(call(xp, ml.focal_loss, hard, y))) == pytest.approx(focal_hard, rel=1e-12)
    # focal down-weights the easy samples far more than the hard ones
    assert focal_easy / bce_easy < 0.01 < focal_hard / bce_hard


def test_seed_mean_squared_error_is_half_sum_mse(xp):
    """The survey's ``mean_squared_error`` is ½·Σ(y - p)²."""
    seed_mse = 0.5 * sum((t - p) ** 2 for t, p in zip(T.ravel(), P.ravel()))
    out = call(xp, ml.mse_loss, P, T, reduction="sum")
    assert 0.5 * float(to_numpy(out)) == pytest.approx(seed_mse, rel=1e-12)


# ----------------------------------------------------------------------------- regression


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss(xp, reduction, dtype):
    ref = [(p - t) ** 2 for p, t in zip(P.ravel(), T.ravel())]
    out = call(xp, ml.mse_loss, P, T, reduction=reduction, dtype=dtype)
    check(xp, out, reduce_ref(np.reshape(ref, P.shape), reduction), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_weight(xp, reduction):
    el = np.array([w * (p - t) ** 2 for p, t, w in zip(P.ravel(), T.ravel(), W.ravel())]).reshape(P.shape)
    # torch: weighted mean = sum(w * l) / sum(w)
    expected = {"none": el, "sum": el.sum(), "mean": el.sum() / W.sum()}[reduction]
    check(xp, call(xp, ml.mse_loss, P, T, reduction=reduction, weight=W), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_loss(xp, reduction, dtype):
    ref = np.array([abs(p - t) for p, t in zip(P.ravel(), T.ravel())]).reshape(P.shape)
    check(xp, call(xp, ml.l1_loss, P, T, reduction=reduction, dtype=dtype), reduce_ref(ref, reduction), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_loss_weight(xp, reduction):
    el = np.array([w * abs(p - t) for p, t, w in zip(P.ravel(), T.ravel(), W.ravel())]).reshape(P.shape)
    expected = {"none": el, "sum": el.sum(), "mean": el.sum() / W.sum()}[reduction]
    check(xp, call(xp, ml.l1_loss, P, T, reduction=reduction, weight=W), expected)


def _huber(d, delta):
    return 0.5 * d * d if abs(d) < delta else delta * (abs(d) - 0.5 * delta)


@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss(xp, reduction, delta):
    ref = np.array([_huber(p - t, delta) for p, t in zip(P.ravel(), T.ravel())]).reshape(P.shape)
    check(xp, call(xp, ml.huber_loss, P, T, reduction=reduction, delta=delta), reduce_ref(ref, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss_weight_mean_is_plain_mean(xp, reduction):
    # torch huber_loss(weight=): mean is the plain mean of the weighted elements
    el = np.array([w * _huber(p - t, 1.5) for p, t, w in zip(P.ravel(), T.ravel(), W.ravel())]).reshape(P.shape)
    out = call(xp, ml.huber_loss, P, T, reduction=reduction, delta=1.5, weight=W)
    check(xp, out, reduce_ref(el, reduction))


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1_loss(xp, reduction, beta):
    def sl1(d):
        if beta == 0:
            return abs(d)
        return 0.5 * d * d / beta if abs(d) < beta else abs(d) - 0.5 * beta

    ref = np.array([sl1(p - t) for p, t in zip(P.ravel(), T.ravel())]).reshape(P.shape)
    check(xp, call(xp, ml.smooth_l1_loss, P, T, reduction=reduction, beta=beta), reduce_ref(ref, reduction))


@pytest.mark.parametrize("beta", [0.3, 1.0, 2.5])
def test_smooth_l1_is_huber_over_beta(xp, beta):
    sl1 = call(xp, ml.smooth_l1_loss, P, T, reduction="none", beta=beta)
    hub = call(xp, ml.huber_loss, P, T, reduction="none", delta=beta)
    xp_assert_close(sl1, to_numpy(hub) / beta, rtol=1e-12)


def test_smooth_l1_beta_zero_is_l1(xp):
    xp_assert_close(call(xp, ml.smooth_l1_loss, P, T, beta=0.0), to_numpy(call(xp, ml.l1_loss, P, T)), rtol=1e-14)


@pytest.mark.parametrize("epsilon", [1e-7, 0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mean_absolute_percentage_error(xp, reduction, epsilon):
    # T holds two zeros: the denominator is epsilon there
    ref = np.array([100.0 * abs(t - p) / max(abs(t), epsilon) for p, t in zip(P.ravel(), T.ravel())])
    out = call(xp, ml.mean_absolute_percentage_error, P, T, reduction=reduction, epsilon=epsilon)
    check(xp, out, reduce_ref(ref.reshape(P.shape), reduction))


def _neg_cos(a, b, eps=1e-12):
    na = math.sqrt(max(sum(v * v for v in a), eps))
    nb = math.sqrt(max(sum(v * v for v in b), eps))
    return -sum(x * y for x, y in zip(a, b)) / (na * nb)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_similarity_last_axis(xp, reduction):
    ref = [_neg_cos(a, b) for a, b in zip(P.tolist(), T.tolist())]
    check(xp, call(xp, ml.cosine_similarity, P, T, reduction=reduction), reduce_ref(ref, reduction))


def test_cosine_similarity_axis0_and_zero_vector(xp):
    a = np.array([[1.0, 0.0, 3.0], [2.0, 0.0, -1.0]])
    b = np.array([[2.0, 5.0, 3.0], [4.0, 1.0, 1.0]])
    ref = [_neg_cos(a[:, j], b[:, j]) for j in range(3)]
    assert ref[1] == 0.0  # zero column in a: epsilon keeps the loss 0, not nan
    check(xp, call(xp, ml.cosine_similarity, a, b, axis=0, reduction="none"), ref)
    # parallel vectors: -1; opposite: +1
    check(xp, call(xp, ml.cosine_similarity, a[:1], 3 * a[:1], reduction="sum"), -1.0)
    check(xp, call(xp, ml.cosine_similarity, a[:1], -a[:1], reduction="sum"), 1.0)


def test_cosine_similarity_epsilon(xp):
    # small vectors: the norms are floored at sqrt(epsilon) (keras l2_normalize)
    a = np.array([[0.1, 0.2], [3.0, 4.0]])
    b = np.array([[0.3, -0.1], [1.0, 1.0]])
    ref = [_neg_cos(r, t, eps=0.5) for r, t in zip(a.tolist(), b.tolist())]
    assert ref[0] == pytest.approx(-(0.03 - 0.02) / 0.5)  # both norms floored: sqrt(0.5)^2
    check(xp, call(xp, ml.cosine_similarity, a, b, reduction="none", epsilon=0.5), ref)


# ----------------------------------------------------------------------------- binary


def _bce(p, t):
    lp = max(math.log(p), -100.0) if p > 0 else -100.0
    l1p = max(math.log(1 - p), -100.0) if p < 1 else -100.0
    return -(t * lp + (1 - t) * l1p)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(xp, reduction, dtype):
    ref = np.array([_bce(p, t) for p, t in zip(PB.ravel(), TB.ravel())]).reshape(PB.shape)
    out = call(xp, ml.binary_cross_entropy, PB, TB, reduction=reduction, dtype=dtype)
    check(xp, out, reduce_ref(ref, reduction), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_weight_broadcasts(xp, reduction):
    w = np.array([0.5, 2.0, 1.0])  # broadcast along the last axis; mean stays the plain mean
    ref = np.array([[w[j] * _bce(PB[i, j], TB[i, j]) for j in range(3)] for i in range(2)])
    check(xp, call(xp, ml.binary_cross_entropy, PB, TB, weight=w, reduction=reduction), reduce_ref(ref, reduction))


def test_binary_cross_entropy_clamps_log_at_minus_100(xp):
    p = np.array([0.0, 1.0, 0.0, 1.0])
    t = np.array([1.0, 0.0, 0.0, 1.0])
    check(xp, call(xp, ml.binary_cross_entropy, p, t, reduction="none"), [100.0, 100.0, 0.0, 0.0])


def _bce_logits(x, t, pw=1.0):
    return -(pw * t * math.log(sigmoid(x)) + (1 - t) * math.log(1 - sigmoid(x)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(xp, reduction, dtype):
    ref = np.array([_bce_logits(x, t) for x, t in zip(XB.ravel(), TB.ravel())]).reshape(XB.shape)
    out = call(xp, ml.binary_cross_entropy_with_logits, XB, TB, reduction=reduction, dtype=dtype)
    check(xp, out, reduce_ref(ref, reduction), dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_weight_and_pos_weight(xp, reduction):
    w = np.array([[1.0], [0.25]])  # per-row weight
    pw = np.array([3.0, 1.0, 0.5])  # per-class (last axis) positive weight
    ref = np.array([[w[i, 0] * _bce_logits(XB[i, j], TB[i, j], pw[j]) for j in range(3)] for i in range(2)])
    out = call(xp, ml.binary_cross_entropy_with_logits, XB, TB, weight=w, pos_weight=pw, reduction=reduction)
    check(xp, out, reduce_ref(ref, reduction))


def test_binary_cross_entropy_with_logits_equals_bce_of_sigmoid(xp):
    probs = 1 / (1 + np.exp(-XB))
    a = call(xp, ml.binary_cross_entropy_with_logits, XB, TB, reduction="none")
    b = call(xp, ml.binary_cross_entropy, probs, TB, reduction="none")
    xp_assert_close(a, to_numpy(b), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_plus_minus_one_labels(xp, reduction):
    t = np.array([[1.0, -1.0, 1.0], [-1.0, 1.0, -1.0]])
    ref = np.array([max(1 - tt * p, 0.0) for p, tt in zip(P.ravel(), t.ravel())]).reshape(P.shape)
    check(xp, call(xp, ml.hinge, P, t, reduction=reduction), reduce_ref(ref, reduction))


def test_hinge_zero_one_labels_are_mapped(xp):
    t01 = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    tpm = 2 * t01 - 1
    ref = [max(1 - tt * p, 0.0) for p, tt in zip(P.ravel(), tpm.ravel())]
    check(xp, call(xp, ml.hinge, P, t01, reduction="none"), np.reshape(ref, P.shape))
    # integer {0, 1} labels too (cast to the input's dtype)
    check(xp, call(xp, ml.hinge, P, t01.astype(np.int64), reduction="mean"), np.mean(ref))


@pytest.mark.parametrize("epsilon", [1e-7, 1e-2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_log_loss(xp, reduction, epsilon):
    ref = [-t * math.log(p + epsilon) - (1 - t) * math.log(1 - p + epsilon) for p, t in zip(PB.ravel(), TB.ravel())]
    out = call(xp, ml.log_loss, PB, TB, reduction=reduction, epsilon=epsilon)
    check(xp, out, reduce_ref(np.reshape(ref, PB.shape), reduction))


def _focal(p, t, alpha, gamma):
    p_t = p * t + (1 - p) * (1 - t)
    a_t = 1.0 if alpha is None else alpha * t + (1 - alpha) * (1 - t)
    return a_t * (1 - p_t) ** gamma * _bce(p, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "alpha,gamma", [(0.75, 2.0), (0.25, 2.0), (None, 1.5), (0.5, 0.0), (None, 0.0)]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_loss_probabilities(xp, reduction, alpha, gamma, dtype):
    ref = [_focal(p, t, alpha, gamma) for p, t in zip(PB.ravel(), TB.ravel())]
    out = call(xp, ml.focal_loss, PB, TB, alpha=alpha, gamma=gamma, reduction=reduction, dtype=dtype)
    check(xp, out, reduce_ref(np.reshape(ref, PB.shape), reduction), dtype)


@pytest.mark.parametrize("alpha,gamma", [(0.75, 2.0), (0.25, 3.0), (None, 0.0)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_loss_from_logits(xp, reduction, alpha, gamma):
    ref = []
    for x, t in zip(XB.ravel(), TB.ravel()):
        p = sigmoid(x)
        p_t = p * t + (1 - p) * (1 - t)
        a_t = 1.0 if alpha is None else alpha * t + (1 - alpha) * (1 - t)
        ref.append(a_t * (1 - p_t) ** gamma * _bce_logits(x, t))
    out = call(xp, ml.focal_loss, XB, TB, alpha=alpha, gamma=gamma, from_logits=True, reduction=reduction)
    check(xp, out, reduce_ref(np.reshape(ref, XB.shape), reduction))


def test_focal_gamma0_alpha_none_is_bce(xp):
    a = call(xp, ml.focal_loss, PB, TB, alpha=None, gamma=0.0, reduction="none")
    xp_assert_close(a, to_numpy(call(xp, ml.binary_cross_entropy, PB, TB, reduction="none")), rtol=1e-14)


# ----------------------------------------------------------------------------- multiclass


def _ce_index_ref(x, y, weight=None, ignore_index=-100, label_smoothing=0.0):
    """torch cross_entropy with class-index targets: per-sample losses and the mean divisor."""
    logp = log_softmax_rows(x)
    n_classes = logp.shape[1]
    w = np.ones(n_classes) if weight is None else np.asarray(weight, dtype=np.float64)
    losses, denom = [], 0.0
    for n, yn in enumerate(np.asarray(y).tolist()):
        if yn == ignore_index:
            losses.append(0.0)
            continue
        nll = -w[yn] * logp[n, yn]
        smooth = -sum(w[c] * logp[n, c] for c in range(n_classes))
        losses.append((1 - label_smoothing) * nll + label_smoothing / n_classes * smooth)
        denom += w[yn]
    return np.array(losses), denom


def _reduce_ce(losses, denom, reduction):
    return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / denom}[reduction]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_index_targets(xp, reduction, dtype):
    losses, denom = _ce_index_ref(XC, YC)
    assert denom == len(YC)
    out = call(xp, ml.cross_entropy, XC, YC, reduction=reduction, dtype=dtype)
    check(xp, out, _reduce_ce(losses, denom, reduction), dtype)


OPTION_GRID = [
    dict(weight=WC),
    dict(ignore_index=2, target=np.array([1, 2, 0, 2])),
    dict(ignore_index=-1, target=np.array([1, -1, 0, 2])),
    dict(label_smoothing=0.1),
    dict(weight=WC, ignore_index=0),
    dict(weight=WC, label_smoothing=0.2),
    dict(weight=WC, ignore_index=-100, label_smoothing=0.3, target=np.array([2, -100, 0, 1])),
]


@pytest.mark.parametrize("opts", OPTION_GRID, ids=lambda o: "+".join(sorted(o)))
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_index_options(xp, reduction, opts):
    opts = dict(opts)
    y = opts.pop("target", YC)
    losses, denom = _ce_index_ref(XC, y, **opts)
    out = call(xp, ml.cross_entropy, XC, y, reduction=reduction, **opts)
    check(xp, out, _reduce_ce(losses, denom, reduction))


def _ce_prob_ref(x, q, weight=None, label_smoothing=0.0):
    logp = log_softmax_rows(x)
    n_classes = logp.shape[1]
    w = np.ones(n_classes) if weight is None else weight
    out = []
    for n in range(logp.shape[0]):
        qs = [(1 - label_smoothing) * q[n, c] + label_smoothing / n_classes for c in range(n_classes)]
        out.append(-sum(w[c] * qs[c] * logp[n, c] for c in range(n_classes)))
    return np.array(out)


@pytest.mark.parametrize(
    "opts", [dict(), dict(weight=WC), dict(label_smoothing=0.15), dict(weight=WC, label_smoothing=0.4)],
    ids=lambda o: "+".join(sorted(o)) or "plain",
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probability_targets(xp, reduction, opts):
    ref = _ce_prob_ref(XC, QC, **opts)
    # torch: the mean of probability targets divides by the number of samples, weights or not
    out = call(xp, ml.cross_entropy, XC, QC, reduction=reduction, **opts)
    check(xp, out, reduce_ref(ref, reduction))


def test_cross_entropy_one_hot_targets_equal_index_targets(xp):
    one_hot = np.eye(3)[YC]
    a = call(xp, ml.cross_entropy, XC, one_hot)
    b = call(xp, ml.cross_entropy, XC, YC)
    xp_assert_close(a, to_numpy(b), rtol=1e-12)


def test_cross_entropy_spatial_and_unbatched(xp):
    # (N, C, d1) with class axis 1, like torch
    x = np.transpose(np.stack([XC, XC[::-1]]), (0, 2, 1))  # (2, 3, 4)
    y = np.stack([YC, YC[::-1]])  # (2, 4)
    ref = np.stack([_ce_index_ref(XC, YC)[0], _ce_index_ref(XC[::-1], YC[::-1])[0]])
    check(xp, call(xp, ml.cross_entropy, x, y, reduction="none"), ref)
    check(xp, call(xp, ml.cross_entropy, x, y), ref.mean())
    # unbatched (C,) input with a 0-d target
    check(xp, call(xp, ml.cross_entropy, XC[1], np.array(2), reduction="none"), _ce_index_ref(XC[1:2], [2])[0][0])


@pytest.mark.parametrize(
    "opts", [dict(), dict(weight=WC), dict(ignore_index=1), dict(weight=WC, ignore_index=0)],
    ids=lambda o: "+".join(sorted(o)) or "plain",
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_index_targets(xp, reduction, opts):
    logp = log_softmax_rows(XC)
    w = opts.get("weight", np.ones(3))
    ignore = opts.get("ignore_index", -100)
    losses = np.array([0.0 if y == ignore else -w[y] * logp[n, y] for n, y in enumerate(YC)])
    denom = sum(w[y] for y in YC if y != ignore)
    out = call(xp, ml.nll_loss, logp, YC, reduction=reduction, **opts)
    check(xp, out, _reduce_ce(losses, denom, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_probability_targets(xp, reduction):
    logp = log_softmax_rows(XC)
    ref = np.array([-sum(WC[c] * QC[n, c] * logp[n, c] for c in range(3)) for n in range(4)])
    check(xp, call(xp, ml.nll_loss, logp, QC, weight=WC, reduction=reduction), reduce_ref(ref, reduction))


def test_nll_loss_of_log_softmax_is_cross_entropy(xp):
    logp = log_softmax_rows(XC)
    a = call(xp, ml.nll_loss, logp, YC, weight=WC)
    b = call(xp, ml.cross_entropy, XC, YC, weight=WC)
    xp_assert_close(a, to_numpy(b), rtol=1e-12)


def _sce_ref(x, q, alpha, beta):
    logp = log_softmax_rows(x)
    out = []
    for n in range(logp.shape[0]):
        p = [min(max(math.exp(v), 1e-7), 1.0) for v in logp[n]]
        ce = -sum(q[n][c] * logp[n, c] for c in range(len(p)))
        rce = -sum(p[c] * math.log(min(max(q[n][c], 1e-4), 1.0)) for c in range(len(p)))
        out.append(alpha * ce + beta * rce)
    return np.array(out)


@pytest.mark.parametrize("alpha,beta", [(0.1, 1.0), (1.0, 0.5), (0.0, 1.0)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sce_loss_index_targets(xp, reduction, alpha, beta):
    ref = _sce_ref(XC, np.eye(3)[YC], alpha, beta)
    check(xp, call(xp, ml.sce_loss, XC, YC, alpha=alpha, beta=beta, reduction=reduction), reduce_ref(ref, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sce_loss_probability_targets(xp, reduction):
    ref = _sce_ref(XC, QC, 0.3, 0.7)
    check(xp, call(xp, ml.sce_loss, XC, QC, alpha=0.3, beta=0.7, reduction=reduction), reduce_ref(ref, reduction))


def test_sce_loss_defaults(xp):
    # paper's CIFAR-10 setting: alpha=0.1, beta=1.0; with one-hot targets RCE = -log(1e-4) * (1 - p_y)
    logp = log_softmax_rows(XC)
    ref = [0.1 * -logp[n, y] + 1.0 * -math.log(1e-4) * sum(math.exp(logp[n, c]) for c in range(3) if c != y)
           for n, y in enumerate(YC)]
    check(xp, call(xp, ml.sce_loss, XC, YC), np.mean(ref), rtol=1e-9)


# ----------------------------------------------------------------------------- divergences

LOGP_KL = log_softmax_rows(XC)
Q_KL = QC  # holds zeros: 0 * log 0 = 0


def _kl_elements(x, t, log_target):
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        if log_target:
            out[idx] = math.exp(t[idx]) * (t[idx] - x[idx])
        else:
            out[idx] = 0.0 if t[idx] == 0 else t[idx] * (math.log(t[idx]) - x[idx])
    return out


@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(xp, reduction, log_target):
    t = np.log(np.clip(Q_KL, 1e-3, None)) if log_target else Q_KL
    el = _kl_elements(LOGP_KL, t, log_target)
    expected = {"none": el, "sum": el.sum(), "mean": el.mean(), "batchmean": el.sum() / el.shape[0]}[reduction]
    out = call(xp, ml.kl_div, LOGP_KL, t, reduction=reduction, log_target=log_target)
    check(xp, out, expected, atol=1e-15)


def test_kl_div_batchmean_is_kl_per_sample(xp):
    # batchmean = the mathematical KL(q || p) averaged over samples
    kl = [sum(q * math.log(q / math.exp(lp)) for q, lp in zip(qr, lr) if q > 0) for qr, lr in zip(Q_KL, LOGP_KL)]
    check(xp, call(xp, ml.kl_div, LOGP_KL, Q_KL, reduction="batchmean"), np.mean(kl))


def test_kl_div_of_identical_distributions_is_zero(xp):
    q = np.clip(QC, 1e-3, None)
    q = q / q.sum(axis=1, keepdims=True)
    check(xp, call(xp, ml.kl_div, np.log(q), q, reduction="sum"), 0.0, atol=1e-15)


# ----------------------------------------------------------------------------- penalties


@pytest.mark.parametrize("alpha", [1.0, 0.01])
def test_l1_penalty_and_l2_penalty(xp, alpha):
    params = [np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([-3.0, 0.25]), np.array(1.5)]
    flat = [v for p in params for v in np.ravel(p)]
    l1 = alpha * sum(abs(v) for v in flat)
    l2 = alpha * sum(v * v for v in flat)
    check(xp, ml.l1_penalty([to_xp(xp, p) for p in params], alpha=alpha), l1)
    check(xp, ml.l2_penalty([to_xp(xp, p) for p in params], alpha=alpha), l2)
    # any iterable (a generator, as model.parameters() is)
    check(xp, ml.l2_penalty((to_xp(xp, p) for p in params), alpha=alpha), l2)


def test_penalty_default_alpha_and_float32(xp):
    params = [np.array([1.0, -2.0], dtype=np.float32)]
    check(xp, ml.l1_penalty([to_xp(xp, p) for p in params]), 3.0, np.float32)
    check(xp, ml.l2_penalty([to_xp(xp, p) for p in params]), 5.0, np.float32)


# ----------------------------------------------------------------------------- coverage


def test_every_canonical_loss_has_a_reference_test():
    """A new loss in ``multiloss.losses.__all__`` must get a reference test here."""
    import sys

    import pathlib

    tested = {name[len("test_"):] for name in dir(sys.modules[__name__]) if name.startswith("test_")}
    for name in ml.losses.__all__:
        if any(name in t for t in tested):
            continue
        # later families keep their reference tests in their own modules, test_<topic>_losses.py
        modules = pathlib.Path(__file__).parent.glob("test_*_losses.py")
        assert any(name in m.read_text() for m in modules), f"no reference test for {name}"


# ----------------------------------------------------------------------------- against torch


def _torch():
    return pytest.importorskip("torch")


CE_TORCH_GRID = [
    dict(),
    dict(weight=WC),
    dict(ignore_index=1),
    dict(label_smoothing=0.1),
    dict(weight=WC, ignore_index=2),
    dict(weight=WC, label_smoothing=0.25),
    dict(ignore_index=0, label_smoothing=0.3),
    dict(weight=WC, ignore_index=1, label_smoothing=0.05),
]


@pytest.mark.parametrize("opts", CE_TORCH_GRID, ids=lambda o: "+".join(sorted(o)) or "plain")
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target_kind", ["index", "spatial", "prob"])
def test_cross_entropy_matches_torch(reduction, opts, target_kind):
    torch = _torch()
    rng = np.random.default_rng(7)
    if target_kind == "index":
        x, y = rng.normal(size=(6, 4)) * 3, np.array([0, 1, 2, 3, 1, 2])
    elif target_kind == "spatial":
        x, y = rng.normal(size=(2, 4, 3)) * 3, np.array([[0, 1, 2], [3, 1, 1]])
    else:
        x = rng.normal(size=(6, 4)) * 3
        y = rng.dirichlet(np.ones(4), size=6)
    weight = opts.get("weight")
    if weight is not None:
        weight = np.array([0.2, 1.0, 3.0, 0.7])
    kw = dict(opts, weight=weight)
    if target_kind == "prob" and opts.get("ignore_index", -100) >= 0:
        # torch refuses a class index to ignore with probability targets; so do we
        with pytest.raises(RuntimeError, match="ignore_index is not supported"):
            torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), ignore_index=opts["ignore_index"])
        with pytest.raises(ValueError, match="cross_entropy: argument 'ignore_index' is not supported"):
            ml.cross_entropy(x, y, reduction=reduction, **kw)
        return
    ours = ml.cross_entropy(x, y, reduction=reduction, **kw)
    tkw = dict(kw, weight=None if weight is None else torch.from_numpy(weight))
    theirs = torch.nn.functional.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), reduction=reduction, **tkw)
    xp_assert_close(ours, theirs.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    torch = _torch()
    rng = np.random.default_rng(3)
    x = np.log(rng.dirichlet(np.ones(5), size=4))
    t = rng.dirichlet(np.ones(5), size=4)
    t[0, 1] = 0.0
    if log_target:
        t = np.log(np.clip(t, 1e-6, None))
    ours = ml.kl_div(x, t, reduction=reduction, log_target=log_target)
    theirs = torch.nn.functional.kl_div(torch.from_numpy(x), torch.from_numpy(t), reduction=reduction, log_target=log_target)
    xp_assert_close(ours, theirs.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_and_binary_losses_match_torch(reduction):
    torch = _torch()
    F = torch.nn.functional
    t = torch.from_numpy
    logp = log_softmax_rows(XC)
    xp_assert_close(
        ml.nll_loss(logp, YC, weight=WC, ignore_index=0, reduction=reduction),
        F.nll_loss(t(logp), t(YC), weight=t(WC), ignore_index=0, reduction=reduction).numpy(), rtol=1e-12)
    xp_assert_close(
        ml.binary_cross_entropy(PB, TB, weight=W, reduction=reduction),
        F.binary_cross_entropy(t(PB), t(TB), weight=t(W), reduction=reduction).numpy(), rtol=1e-12)
    pw = np.array([3.0, 1.0, 0.5])
    xp_assert_close(
        ml.binary_cross_entropy_with_logits(XB, TB, weight=W, pos_weight=pw, reduction=reduction),
        F.binary_cross_entropy_with_logits(t(XB), t(TB), weight=t(W), pos_weight=t(pw), reduction=reduction).numpy(),
        rtol=1e-12)
    for ours, theirs in [
        (ml.mse_loss(P, T, reduction=reduction, weight=W), F.mse_loss(t(P), t(T), reduction=reduction, weight=t(W))),
        (ml.l1_loss(P, T, reduction=reduction, weight=W), F.l1_loss(t(P), t(T), reduction=reduction, weight=t(W))),
        (ml.huber_loss(P, T, reduction=reduction, delta=0.7, weight=W),
         F.huber_loss(t(P), t(T), reduction=reduction, delta=0.7, weight=t(W))),
        (ml.smooth_l1_loss(P, T, reduction=reduction, beta=0.7), F.smooth_l1_loss(t(P), t(T), reduction=reduction, beta=0.7)),
    ]:
        xp_assert_close(ours, theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name, kw", [("smooth_l1_loss", "beta"), ("huber_loss", "delta")])
def test_hyperparameter_may_be_traced_under_jit(name, kw):
    """optax-style array hyper-parameters: no Python branch on a traced beta/delta."""
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    fn = getattr(ml, name)
    traced = jax.jit(lambda v: fn(jax.numpy.asarray(x), jax.numpy.asarray(y), **{kw: v}))(0.7)
    assert float(traced) == pytest.approx(float(fn(x, y, **{kw: 0.7})), rel=1e-6)
