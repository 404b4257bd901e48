"""``multiloss._reduction``: torch reductions (``reduce``, ``weighted_mean``) and keras's
``keras_reduce`` for every keras reduction, with and without ``sample_weight``; expected values
by hand (and against keras's own ``reduce_weighted_values`` when keras is installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from multiloss._reduction import KERAS_REDUCTIONS, TORCH_REDUCTIONS, keras_reduce, reduce, weighted_mean
from tests_conftest import namespace_of, to_numpy, to_xp, xp_assert_close

L = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # sum 21, 6 elements
W = np.array([[0.5, 0.0, 1.0], [2.0, 1.0, 0.5]])  # sum 5; sum(W * L) = 0.5 + 3 + 8 + 5 + 3 = 19.5
V = np.array([1.0, 2.0, 3.0, 4.0])  # per-sample keras values: sum 10
SW = np.array([1.0, 0.0, 2.0, 0.5])  # sum 3.5; sum(SW * V) = 1 + 6 + 2 = 9


def test_reduction_tables():
    assert TORCH_REDUCTIONS == ("none", "mean", "sum")
    assert set(KERAS_REDUCTIONS) == {"sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None}


# ----------------------------------------------------------------------------- torch


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reduce_unweighted(xp, dtype):
    ns = namespace_of(xp)
    loss = to_xp(xp, L, dtype)
    xp_assert_close(reduce(ns, loss, "none"), L, xp=xp)
    xp_assert_close(reduce(ns, loss, "sum"), 21.0, xp=xp)
    xp_assert_close(reduce(ns, loss, "mean"), 3.5, xp=xp)
    assert to_numpy(reduce(ns, loss, "mean")).dtype == np.dtype(dtype)


def test_reduce_weighted(xp):
    ns = namespace_of(xp)
    loss, w = to_xp(xp, L), to_xp(xp, W)
    xp_assert_close(reduce(ns, loss, "none", weight=w), L * W)
    xp_assert_close(reduce(ns, loss, "sum", weight=w), 19.5)
    # torch mse_loss/l1_loss(weight=): mean = sum(w * l) / sum(w)
    xp_assert_close(reduce(ns, loss, "mean", weight=w), 19.5 / 5.0)


def test_reduce_weighted_broadcast(xp):
    ns = namespace_of(xp)
    w = np.array([[2.0], [0.5]])  # broadcast along the last axis: the divisor counts each entry
    expected = (2 * 6 + 0.5 * 15) / (3 * 2 + 3 * 0.5)
    xp_assert_close(reduce(ns, to_xp(xp, L), "mean", weight=to_xp(xp, w)), expected)


def test_reduce_unknown(xp):
    ns = namespace_of(xp)
    with pytest.raises(ValueError, match=r"my_loss: argument 'reduction' must be one of 'none', 'mean', 'sum'; got 'avg'"):
        reduce(ns, to_xp(xp, L), "avg", fn="my_loss")
    with pytest.raises(ValueError, match=r"got None"):
        reduce(ns, to_xp(xp, L), None, fn="my_loss")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_weighted_mean(xp):
    ns = namespace_of(xp)
    # the loss already carries the weights: sum(loss) / sum(weights)
    xp_assert_close(weighted_mean(ns, to_xp(xp, L * W), to_xp(xp, W)), 19.5 / 5.0)
    # like torch (CrossEntropyLoss with every target ignored), a zero total weight gives nan
    out = float(to_numpy(weighted_mean(ns, to_xp(xp, np.zeros(3)), to_xp(xp, np.zeros(3)))))
    assert math.isnan(out)


# ----------------------------------------------------------------------------- keras

# reduction -> (expected without sample_weight, expected with SW)
KERAS_EXPECTED = {
    "sum_over_batch_size": (10 / 4, 9 / 4),  # divides by the number of elements, weighted or not
    "mean": (10 / 4, 9 / 4),
    "sum": (10.0, 9.0),
    "mean_with_sample_weight": (10 / 4, 9 / 3.5),  # divides by sum(sample_weight) when given
    "none": (V, V * SW),
    None: (V, V * SW),
}


@pytest.mark.parametrize("reduction", KERAS_REDUCTIONS, ids=str)
@pytest.mark.parametrize("weighted", [False, True], ids=["no_sw", "sw"])
def test_keras_reduce(xp, reduction, weighted):
    ns = namespace_of(xp)
    sw = to_xp(xp, SW) if weighted else None
    out = keras_reduce(ns, to_xp(xp, V), reduction, sample_weight=sw)
    xp_assert_close(out, KERAS_EXPECTED[reduction][int(weighted)], xp=xp)


def test_keras_reduce_default_is_sum_over_batch_size(xp):
    ns = namespace_of(xp)
    xp_assert_close(keras_reduce(ns, to_xp(xp, V)), 2.5)


@pytest.mark.parametrize("reduction", ["mean_with_sample_weight", "sum_over_batch_size", "mean", "sum"])
def test_keras_reduce_zero_sample_weights(xp, reduction):
    ns = namespace_of(xp)
    out = keras_reduce(ns, to_xp(xp, V), reduction, sample_weight=to_xp(xp, np.zeros(4)))
    # mean_with_sample_weight divides 0 by 0: keras's divide_no_nan gives 0, not nan
    xp_assert_close(out, 0.0)
    assert np.isfinite(to_numpy(out))


def test_keras_reduce_scalar_sample_weight(xp):
    ns = namespace_of(xp)
    xp_assert_close(keras_reduce(ns, to_xp(xp, V), "sum_over_batch_size", sample_weight=2.0), 5.0)
    xp_assert_close(keras_reduce(ns, to_xp(xp, V), "mean_with_sample_weight", sample_weight=2.0), 10.0)


def test_keras_reduce_2d_values(xp):
    ns = namespace_of(xp)
    # per-timestep values (N, T) and sample_weight (N, T): the element count is N*T
    xp_assert_close(keras_reduce(ns, to_xp(xp, L), "sum_over_batch_size", to_xp(xp, W)), 19.5 / 6)
    xp_assert_close(keras_reduce(ns, to_xp(xp, L), "mean_with_sample_weight", to_xp(xp, W)), 19.5 / 5)
    # a per-sample (N, 1) weight broadcasts over T; keras divides by sum(sample_weight) as given
    w = np.array([[2.0], [0.5]])
    xp_assert_close(keras_reduce(ns, to_xp(xp, L), "sum", to_xp(xp, w)), 2 * 6 + 0.5 * 15)
    xp_assert_close(keras_reduce(ns, to_xp(xp, L), "mean_with_sample_weight", to_xp(xp, w)), (2 * 6 + 0.5 * 15) / 2.5)


def test_keras_reduce_rank_fix(xp):
    ns = namespace_of(xp)
    # values (N,) with sample_weight (N, 1): keras squeeze_or_expand_to_same_rank pairs them
    # elementwise (no (N, N) outer product)
    out = keras_reduce(ns, to_xp(xp, V), "sum", to_xp(xp, SW[:, None]))
    xp_assert_close(out, 9.0)
    out = keras_reduce(ns, to_xp(xp, V[:, None]), "mean_with_sample_weight", to_xp(xp, SW))
    xp_assert_close(out, 9 / 3.5)


def test_keras_reduce_scalar_and_empty_values(xp):
    ns = namespace_of(xp)
    # a 0-d loss and an empty batch are returned unreduced, as keras does
    xp_assert_close(keras_reduce(ns, to_xp(xp, np.array(3.0)), "sum_over_batch_size"), 3.0)
    out = keras_reduce(ns, to_xp(xp, np.zeros((0,))), "sum_over_batch_size")
    assert to_numpy(out).shape == (0,)


def test_keras_reduce_unknown(xp):
    ns = namespace_of(xp)
    with pytest.raises(ValueError, match=r"keras reduction: argument 'reduction' must be one of 'sum_over_batch_size', "
                                         r"'sum', 'mean', 'mean_with_sample_weight', 'none', None; got 'auto'"):
        keras_reduce(ns, to_xp(xp, V), "auto")


KERAS_NATIVE_CASES = [
    ("1d", V, SW),
    ("1d-none", V, None),
    ("2d", L, W),
    ("2d-row-weight", L, np.array([[2.0], [0.5]])),
    ("rank-fix", V, SW[:, None]),
    ("zero-weights", V, np.zeros(4)),
]


@pytest.mark.parametrize("case", KERAS_NATIVE_CASES, ids=lambda c: c[0])
@pytest.mark.parametrize("reduction", KERAS_REDUCTIONS, ids=str)
def test_keras_reduce_matches_keras(reduction, case):
    pytest.importorskip("keras")
    try:
        from keras.src.losses.loss import reduce_weighted_values
    except Exception as exc:  # keras without a usable backend
        pytest.skip(f"keras.src.losses.loss not importable: {exc}")
    _, values, sw = case
    ns = namespace_of("numpy")
    with np.errstate(invalid="ignore", divide="ignore"):  # keras's divide_no_nan warns on numpy
        expected = np.asarray(reduce_weighted_values(values, sw, reduction=reduction, dtype="float64"))
    out = keras_reduce(ns, values, reduction, sample_weight=sw)
    xp_assert_close(out, expected, rtol=1e-6)
