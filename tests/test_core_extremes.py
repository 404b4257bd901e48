"""Numerical stability: logits of +-1e4 (and mixed) on every logits path, probabilities exactly 0
and 1 on the probability paths. Values must be finite (and right) on every namespace, and
gradients finite on the autodiff backends (torch, jax, tensorflow when available).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import multiloss as ml
from multiloss import _ops
from tests_conftest import namespace_of, to_numpy, to_xp, value_and_grad, xp_assert_close

BIG = 1e4
DTYPES = (np.float64, np.float32)

# binary logits: saturated both ways, against both labels, mixed with ordinary values
XB = np.array([[BIG, -BIG, BIG, -BIG], [0.0, 5.0, -BIG, BIG]])
TB = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 0.3, 0.6, 0.25]])
POS_W = np.array([2.0, 0.5, 3.0, 1.0])

# multiclass logits (N=5, C=3): one huge logit, all equal huge negatives, ties, mixed
XC = np.array([
    [BIG, -BIG, 0.0],
    [-BIG, -BIG, -BIG],
    [BIG, BIG, -BIG],
    [0.5, -BIG, BIG],
    [-BIG, 0.0, 1.0],
])
YC = np.array([1, 0, 2, 0, 2])
QC = np.array([
    [0.0, 1.0, 0.0],
    [0.2, 0.3, 0.5],
    [0.5, 0.5, 0.0],
    [1.0, 0.0, 0.0],
    [0.1, 0.1, 0.8],
])
WC = np.array([0.5, 2.0, 1.0])


def _bce_logits_ref(x, t, pw=1.0):
    # stable textbook form: pw*t*softplus(-x) + (1-t)*softplus(x)
    sp = lambda v: max(v, 0.0) + math.log1p(math.exp(-abs(v)))  # noqa: E731
    return pw * t * sp(-x) + (1 - t) * sp(x)


def _lse(row):
    m = max(row)
    return m + math.log(sum(math.exp(v - m) for v in row))


# (id, builder) where builder(name) returns f(pred) with the non-prediction arguments already
# converted to backend `name`; the prediction is the logits
def _targets(name, arr, dtype=None):
    return to_xp(name, arr, dtype)


LOGIT_PATHS = {
    "bce_with_logits": (XB, lambda n, d: lambda x: ml.binary_cross_entropy_with_logits(x, _targets(n, TB, d), reduction="none")),
    "bce_with_logits-pos_weight": (XB, lambda n, d: lambda x: ml.binary_cross_entropy_with_logits(
        x, _targets(n, TB, d), pos_weight=_targets(n, POS_W, d), reduction="none")),
    "focal-from_logits": (XB, lambda n, d: lambda x: ml.focal_loss(x, _targets(n, TB, d), from_logits=True, reduction="none")),
    "focal-from_logits-gamma0": (XB, lambda n, d: lambda x: ml.focal_loss(
        x, _targets(n, TB, d), alpha=None, gamma=0.0, from_logits=True, reduction="none")),
    "ce-index": (XC, lambda n, d: lambda x: ml.cross_entropy(x, _targets(n, YC), reduction="none")),
    "ce-index-weight-smoothing": (XC, lambda n, d: lambda x: ml.cross_entropy(
        x, _targets(n, YC), weight=_targets(n, WC, d), label_smoothing=0.1, reduction="none")),
    "ce-index-ignore": (XC, lambda n, d: lambda x: ml.cross_entropy(
        x, _targets(n, np.array([1, -100, 2, -100, 0])), reduction="none")),
    "ce-prob": (XC, lambda n, d: lambda x: ml.cross_entropy(x, _targets(n, QC, d), reduction="none")),
    "ce-prob-smoothing": (XC, lambda n, d: lambda x: ml.cross_entropy(
        x, _targets(n, QC, d), weight=_targets(n, WC, d), label_smoothing=0.2, reduction="none")),
    "sce-index": (XC, lambda n, d: lambda x: ml.sce_loss(x, _targets(n, YC), reduction="none")),
    "sce-prob": (XC, lambda n, d: lambda x: ml.sce_loss(x, _targets(n, QC, d), reduction="none")),
    "nll-of-log_softmax": (XC, lambda n, d: lambda x: ml.nll_loss(
        _ops.log_softmax(namespace_of(n), x, axis=1), _targets(n, YC), reduction="none")),
    "nll-of-log_softmax-prob": (XC, lambda n, d: lambda x: ml.nll_loss(
        _ops.log_softmax(namespace_of(n), x, axis=1), _targets(n, QC, d), weight=_targets(n, WC, d), reduction="none")),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", sorted(LOGIT_PATHS))
def test_extreme_logits_finite_values(xp, path, dtype):
    x, build = LOGIT_PATHS[path]
    f = build(xp, dtype)
    out = to_numpy(f(to_xp(xp, x, dtype)))
    assert out.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(out)), f"{path} on {xp} {np.dtype(dtype).name}: {out}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", sorted(LOGIT_PATHS))
def test_extreme_logits_finite_gradients(grad_backend, path, dtype):
    x, build = LOGIT_PATHS[path]
    value, grad = value_and_grad(grad_backend, build(grad_backend, dtype), x.astype(dtype))
    assert np.all(np.isfinite(value)), f"{path}: value {value}"
    assert np.all(np.isfinite(grad)), f"{path}: gradient {grad}"
    assert grad.shape == x.shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_bce_with_logits_values(xp, dtype):
    for pw in (None, POS_W):
        ref = np.array([[_bce_logits_ref(XB[i, j], TB[i, j], 1.0 if pw is None else pw[j]) for j in range(4)]
                        for i in range(2)])
        out = ml.binary_cross_entropy_with_logits(
            to_xp(xp, XB, dtype), to_xp(xp, TB, dtype), pos_weight=to_xp(xp, pw, dtype), reduction="none")
        xp_assert_close(out, ref, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)
        if pw is None:
            # spot values: saturated and right -> 0, saturated and wrong -> |logit|
            assert ref[0, 0] == 0.0 and ref[0, 1] == BIG and ref[0, 2] == BIG and ref[0, 3] == 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_cross_entropy_values(xp, dtype):
    ref = np.array([_lse(row) - row[y] for row, y in zip(XC.tolist(), YC.tolist())])
    # float32 spacing near 1e4 is ~1e-3: log-probabilities of rows at -1e4 carry that rounding
    atol = 2e-3 if dtype == np.float32 else 1e-9
    assert ref[0] == 2 * BIG and ref[1] == pytest.approx(math.log(3))
    out = ml.cross_entropy(to_xp(xp, XC, dtype), to_xp(xp, YC), reduction="none")
    xp_assert_close(out, ref, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=atol)
    # probability targets: -sum_c q_c log p_c with 0 * log(0) = 0 where q_c == 0
    logp = [[v - _lse(row) for v in row] for row in XC.tolist()]
    refq = np.array([-sum(q * lp for q, lp in zip(qr, lr) if q > 0) for qr, lr in zip(QC.tolist(), logp)])
    outq = ml.cross_entropy(to_xp(xp, XC, dtype), to_xp(xp, QC, dtype), reduction="none")
    xp_assert_close(outq, refq, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=atol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_cross_entropy_gradient_is_softmax_minus_onehot(grad_backend, dtype):
    _, grad = value_and_grad(grad_backend, lambda x: ml.cross_entropy(x, to_xp(grad_backend, YC), reduction="sum"),
                             XC.astype(dtype))
    p = np.exp(XC - XC.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    # float32: log-probabilities of rows near -1e4 are rounded to ~1e-3 (torch's own kernel too)
    np.testing.assert_allclose(grad, p - np.eye(3)[YC], atol=1e-3 if dtype == np.float32 else 1e-9)


# ----------------------------------------------------------------------------- probabilities 0 / 1

P01 = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30])
T01 = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])

PROB_PATHS = {
    "bce": lambda n, d: lambda p: ml.binary_cross_entropy(p, to_xp(n, T01, d), reduction="none"),
    "bce-weight": lambda n, d: lambda p: ml.binary_cross_entropy(
        p, to_xp(n, T01, d), weight=to_xp(n, np.full(6, 2.0), d), reduction="none"),
    "focal": lambda n, d: lambda p: ml.focal_loss(p, to_xp(n, T01, d), reduction="none"),
    "focal-gamma1": lambda n, d: lambda p: ml.focal_loss(p, to_xp(n, T01, d), gamma=1.0, alpha=None, reduction="none"),
    "focal-gamma0": lambda n, d: lambda p: ml.focal_loss(p, to_xp(n, T01, d), gamma=0.0, reduction="none"),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", sorted(PROB_PATHS))
def test_probabilities_0_and_1_finite_values(xp, path, dtype):
    out = to_numpy(PROB_PATHS[path](xp, dtype)(to_xp(xp, P01, dtype)))
    assert np.all(np.isfinite(out)), f"{path}: {out}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_0_and_1_is_clamped_at_100(xp, dtype):
    out = ml.binary_cross_entropy(to_xp(xp, P01, dtype), to_xp(xp, T01, dtype), reduction="none")
    # wrong and certain -> 100 (log clamped at -100, torch); right and certain -> 0;
    # p=1e-30, t=0 -> -log(1 - 1e-30) = 1e-30 (torch's fused kernel has it, log(1 - p) gives 0)
    expected = [100.0, 100.0, 0.0, 0.0, math.log(2), 1e-30]
    xp_assert_close(out, expected, rtol=1e-6, atol=1e-30)
    assert float(to_numpy(ml.binary_cross_entropy(to_xp(xp, P01, dtype), to_xp(xp, T01, dtype), reduction="sum"))) \
        == pytest.approx(200 + math.log(2), rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", sorted(PROB_PATHS))
def test_probabilities_0_and_1_finite_gradients(grad_backend, path, dtype):
    value, grad = value_and_grad(grad_backend, PROB_PATHS[path](grad_backend, dtype), P01.astype(dtype))
    assert np.all(np.isfinite(value)), f"{path}: value {value}"
    assert np.all(np.isfinite(grad)), f"{path}: gradient {grad}"


def test_log_loss_epsilon_keeps_0_and_1_finite(xp):
    out = to_numpy(ml.log_loss(to_xp(xp, P01), to_xp(xp, T01), reduction="none"))
    assert np.all(np.isfinite(out))
    assert out[0] == pytest.approx(-math.log(1e-7))
