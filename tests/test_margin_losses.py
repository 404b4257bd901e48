"""Unit tests of the margin losses (``multiloss/losses/margin.py``) on every installed namespace.

Values and gradients are held against ``torch.nn.functional`` itself (torch's CPU kernels,
float64), including unbatched shapes, gradients at the kinks and targets outside {-1, 1};
torch's documented examples are checked without torch. Every error message is checked.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import msg, require, to_numpy, to_xp, value_and_grad, xp_assert_close


def torch_f():
    require("torch")
    import torch.nn.functional as F

    return F


def torch_value_and_grad(name, pred, rest, kw, grad=True):
    """``torch.nn.functional.<name>(pred, *rest, **kw)`` in float64, and the gradient of its
    sum w.r.t. ``pred`` (NumPy in, NumPy out)."""
    F = torch_f()  # skips when torch is absent (the numpy-only environment)
    import torch

    p = torch.tensor(pred, dtype=torch.float64, requires_grad=grad)
    conv = lambda a: torch.tensor(a) if isinstance(a, np.ndarray) else a  # noqa: E731
    out = getattr(F, name)(p, *[conv(a) for a in rest], **{k: conv(v) for k, v in kw.items()})
    g = torch.autograd.grad(out.sum(), p)[0].numpy() if grad else None
    return out.detach().numpy(), g


def run(xp, name, pred, rest, kw, dtype=np.float64):
    conv = lambda a: to_xp(xp, a, dtype) if isinstance(a, np.ndarray) else a  # noqa: E731
    return getattr(ml, name)(conv(pred), *[conv(a) for a in rest], **{k: conv(v) for k, v in kw.items()})


# ----------------------------------------------------------------------------- inputs

X1 = np.array([0.3, -1.2, 2.0, 0.7, -0.4])
X2 = np.array([0.9, -0.5, 1.1, 0.7, 0.6])
Y1 = np.array([1.0, -1.0, -1.0, 1.0, 1.0])
XS = np.array([[0.3, -1.2, 2.0, 0.7], [1.6, 0.05, -0.4, 3.1], [-2.2, 0.45, 1.3, -0.8]])
YS = np.array([[1.0, -1.0, -1.0, 1.0], [-1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])
Q = np.array([[1.0, 0.0, 0.3, 1.0], [0.0, 0.0, 1.0, 0.5], [1.0, 1.0, 0.0, 0.0]])
WC = np.array([0.5, 1.0, 2.0, 1.5])
YM = np.array([2, 0, 3])
# padded with -1; junk after the padding; a repeated class; a row without any label; a full row
YL = np.array([[3, 0, -1, 1], [1, 1, -1, 0], [-1, 2, 3, 0]])
YL_FULL = np.array([[3, 0, 2, 1], [2, -1, 0, 0], [0, 3, -1, -1]])

# (name, pred, further positional arrays, options)
CASES = [
    ("margin_ranking_loss", X1, (X2, Y1), {}),
    ("margin_ranking_loss", X1, (X2, Y1), {"margin": 0.5}),
    ("hinge_embedding_loss", XS, (YS,), {}),
    ("hinge_embedding_loss", XS, (YS,), {"margin": 0.25}),
    ("soft_margin_loss", XS, (YS,), {}),
    ("multilabel_soft_margin_loss", XS, (Q,), {}),
    ("multilabel_soft_margin_loss", XS, (Q,), {"weight": WC}),
    ("multilabel_margin_loss", XS, (YL,), {}),
    ("multilabel_margin_loss", XS, (YL_FULL,), {}),
    ("multi_margin_loss", XS, (YM,), {}),
    ("multi_margin_loss", XS, (YM,), {"p": 2, "margin": 0.6}),
    ("multi_margin_loss", XS, (YM,), {"weight": WC}),
    ("multi_margin_loss", XS, (YM,), {"p": 2, "weight": WC, "margin": 2.0}),
]
_case_ids = [f"{c[0]}-{','.join(c[3]) or 'default'}-{i}" for i, c in enumerate(CASES)]
MARGIN_LOSSES = sorted({c[0] for c in CASES})


def test_family_exports():
    assert ml.losses.FAMILY["multi_margin_loss"] == "margin"
    assert set(MARGIN_LOSSES) <= set(ml.losses.margin.__all__)
    assert all(getattr(ml, n) is getattr(ml.losses.margin, n) for n in MARGIN_LOSSES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CASES, ids=_case_ids)
def test_values_match_torch(xp, case, reduction, dtype):
    name, pred, rest, kw = case
    kw = {**kw, "reduction": reduction}
    want, _ = torch_value_and_grad(name, pred, rest, kw, grad=False)
    out = run(xp, name, pred, rest, kw, dtype)
    xp_assert_close(out, want, rtol=1e-11 if dtype == np.float64 else 2e-6, atol=1e-7, xp=xp)
    assert to_numpy(out).dtype == dtype


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("case", CASES, ids=_case_ids)
def test_gradients_match_torch(grad_backend, case, reduction):
    name, pred, rest, kw = case
    kw = {**kw, "reduction": reduction}
    want, want_g = torch_value_and_grad(name, pred, rest, kw)
    rest_b = [to_xp(grad_backend, a) for a in rest]
    kw_b = {k: to_xp(grad_backend, v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    value, grad = value_and_grad(grad_backend, lambda p: getattr(ml, name)(p, *rest_b, **kw_b), pred)
    xp_assert_close(value, want, rtol=1e-11, atol=1e-14)
    xp_assert_close(grad, want_g, rtol=1e-11, atol=1e-14)
    assert np.any(want_g != 0)  # the case exercises the gradient


# (name, pred, rest, options): every hinge argument exactly at its kink
KINKS = [
    # -y (x1 - x2) + margin == 0: torch's clamp_min passes the gradient there
    ("margin_ranking_loss", np.array([0.5, 0.5, 1.0]), (np.array([0.5, 0.5, 0.5]), np.array([1.0, -1.0, 1.0])),
     {"margin": 0.0}),
    ("margin_ranking_loss", np.array([1.0, 0.0]), (np.array([0.5, 0.5]), np.array([1.0, -1.0])), {"margin": 0.5}),
    # x == margin with y == -1
    ("hinge_embedding_loss", np.array([1.0, 0.5, 1.0]), (np.array([-1.0, -1.0, 1.0]),), {}),
    # margin - x_y + x_i == 0: the multi-class kernels add a term only if z > 0
    ("multi_margin_loss", np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 1.5]]), (np.array([1, 2]),), {}),
    ("multi_margin_loss", np.array([[0.0, 1.0, 0.25]]), (np.array([1]),), {"p": 2, "margin": 0.75}),
    ("multilabel_margin_loss", np.array([[0.0, 1.0, 0.0], [2.0, 1.0, 0.5]]), (np.array([[1, -1, 0], [0, 1, -1]]),), {}),
]


@pytest.mark.parametrize("case", KINKS, ids=lambda c: c[0] if isinstance(c, tuple) else str(c))
def test_gradients_at_the_kinks_match_torch(grad_backend, case):
    name, pred, rest, kw = case
    want, want_g = torch_value_and_grad(name, pred, rest, {**kw, "reduction": "sum"})
    rest_b = [to_xp(grad_backend, a) for a in rest]
    value, grad = value_and_grad(grad_backend, lambda p: getattr(ml, name)(p, *rest_b, reduction="sum", **kw), pred)
    xp_assert_close(value, want, rtol=1e-12, atol=1e-15)
    xp_assert_close(grad, want_g, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------------- shapes

# unbatched and edge shapes torch accepts: (name, pred, rest, options)
SHAPES = [
    ("margin_ranking_loss", np.array(0.3), (np.array(0.9), np.array(-1.0)), {"margin": 0.2}),
    ("margin_ranking_loss", X1[:, None], (X2[None, :], Y1[:, None]), {}),  # same rank, broadcast
    ("hinge_embedding_loss", np.array(0.4), (np.array(-1.0),), {}),
    ("hinge_embedding_loss", XS[:1], (YS,), {}),  # target larger than the input (torch broadcasts)
    ("soft_margin_loss", np.array(-0.7), (np.array(1.0),), {}),
    ("soft_margin_loss", XS, (YS[0],), {}),
    ("multilabel_soft_margin_loss", XS[0], (Q[0],), {}),
    ("multilabel_soft_margin_loss", XS, (Q[0],), {"weight": WC}),
    ("multilabel_soft_margin_loss", np.stack([XS, -XS]), (np.stack([Q, Q]),), {}),  # class dim last
    ("multilabel_margin_loss", XS[0], (YL[0],), {}),
    ("multilabel_margin_loss", np.array(0.5), (np.array(0),), {}),
    ("multilabel_margin_loss", np.array(0.5), (np.array([-1]),), {}),
    ("multi_margin_loss", XS[0], (np.array(3),), {}),
    ("multi_margin_loss", XS[0], (np.array([3]),), {"weight": WC}),
    ("multi_margin_loss", XS[:1], (np.array(1),), {}),
    ("multi_margin_loss", np.array(0.5), (np.array(0),), {}),
    ("multi_margin_loss", np.zeros((0, 4)), (np.zeros((0,), dtype=np.int64),), {}),
    ("multilabel_margin_loss", np.zeros((0, 4)), (np.zeros((0, 4), dtype=np.int64),), {}),
]


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("case", SHAPES, ids=lambda c: f"{c[0]}{np.shape(c[1])}" if isinstance(c, tuple) else str(c))
def test_shapes_match_torch(xp, case, reduction):
    name, pred, rest, kw = case
    if pred.size == 0 and reduction == "mean":
        # torch: 0 (multilabel) or an uninitialised value (multi_margin); here the nan of an
        # empty mean, as torch's other losses give
        with warnings.catch_warnings():  # numpy: "Mean of empty slice"
            warnings.simplefilter("ignore", RuntimeWarning)
            out = run(xp, name, pred, rest, {**kw, "reduction": "mean"})
        assert np.isnan(to_numpy(out)) and to_numpy(out).shape == ()
        return
    out = run(xp, name, pred, rest, {**kw, "reduction": reduction})
    if pred.size == 0 and reduction == "sum":
        # an empty sum is 0; torch's multilabel/multi-margin kernels can return an
        # uninitialised value here (seen: -0.18 for a (0, 4) input)
        assert float(to_numpy(out)) == 0.0 and to_numpy(out).shape == ()
        return
    want, _ = torch_value_and_grad(name, pred, rest, {**kw, "reduction": reduction}, grad=False)
    xp_assert_close(out, want, rtol=1e-12, atol=1e-15, xp=xp)


def test_torch_documented_examples(xp):
    # torch/nn/modules/loss.py, MultiLabelMarginLoss and MultiMarginLoss examples
    x = to_xp(xp, np.array([[0.1, 0.2, 0.4, 0.8]]))
    out = ml.multilabel_margin_loss(x, to_xp(xp, np.array([[3, 0, -1, 1]])))
    # 0.25 * ((1-(0.1-0.2)) + (1-(0.1-0.4)) + (1-(0.8-0.2)) + (1-(0.8-0.4)))
    xp_assert_close(out, 0.25 * ((1 - (0.1 - 0.2)) + (1 - (0.1 - 0.4)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4))), xp=xp)
    out = ml.multi_margin_loss(x, to_xp(xp, np.array([3])))
    xp_assert_close(out, 0.25 * ((1 - (0.8 - 0.1)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4))), xp=xp)


def test_multilabel_margin_semantics(xp):
    """Only the labels before the first negative count, a repeated label counts twice, and a
    row without labels (or with all classes labelled) costs nothing. Plain arithmetic."""
    x = np.array([0.1, 0.2, 0.4, 0.8])
    f = lambda t: float(to_numpy(ml.multilabel_margin_loss(to_xp(xp, x), to_xp(xp, np.array(t)))))  # noqa: E731
    one = (1 - (0.8 - 0.1)) + (1 - (0.8 - 0.2)) + (1 - (0.8 - 0.4))  # label 3 vs the rest
    assert f([3, -1, 0, 1]) == pytest.approx(one / 4, rel=1e-12)
    assert f([3, -1, -1, -1]) == pytest.approx(one / 4, rel=1e-12)
    assert f([3, 3, -1, 2]) == pytest.approx(2 * one / 4, rel=1e-12)
    assert f([-1, 3, 0, 1]) == 0.0
    assert f([0, 1, 2, 3]) == 0.0


def test_hinge_embedding_targets_outside_plus_minus_one(xp):
    """torch does not check the labels; a target that is neither 1 nor -1 contributes both
    terms (ATen: where(y != 1, max(margin - x, 0), 0) + where(y != -1, x, 0))."""
    x, y = np.array([0.3, -0.5, 2.0, 0.2]), np.array([0.5, 0.0, 2.0, 1.0])
    want, _ = torch_value_and_grad("hinge_embedding_loss", x, (y,), {"reduction": "none"}, grad=False)
    out = ml.hinge_embedding_loss(to_xp(xp, x), to_xp(xp, y), reduction="none")
    xp_assert_close(out, want, xp=xp)
    xp_assert_close(out, [0.3 + 0.7, -0.5 + 1.5, 2.0, 0.2], xp=xp)


def test_integer_labels_accepted(xp):
    # torch promotes integer labels of the signed losses
    y = YS.astype(np.int64)
    for name in ("hinge_embedding_loss", "soft_margin_loss"):
        xp_assert_close(run(xp, name, XS, (y,), {}), run("numpy", name, XS, (YS,), {}), xp=xp)
    out = ml.margin_ranking_loss(to_xp(xp, X1), to_xp(xp, X2), to_xp(xp, Y1.astype(np.int64)))
    xp_assert_close(out, ml.margin_ranking_loss(X1, X2, Y1), xp=xp)
    out = ml.multilabel_soft_margin_loss(to_xp(xp, XS), to_xp(xp, (Q > 0.5).astype(np.int64)))
    xp_assert_close(out, ml.multilabel_soft_margin_loss(XS, (Q > 0.5).astype(np.float64)), xp=xp)


def test_soft_margin_is_finite_for_large_scores(xp):
    # torch's log1p(exp(-y x)) is inf here; softplus(-y x) is the exact value -y x + log1p(e^{y x})
    x, y = np.array([100.0, -800.0, 30.0]), np.array([-1.0, 1.0, 1.0])
    out = ml.soft_margin_loss(to_xp(xp, x), to_xp(xp, y), reduction="none")
    xp_assert_close(out, [100.0, 800.0, np.log1p(np.exp(-30.0))], rtol=1e-12, xp=xp)


@pytest.mark.parametrize("name,rest", [("multilabel_margin_loss", (YL,)), ("multi_margin_loss", (YM,)),
                                       ("margin_ranking_loss", (X2[:3], Y1[:3]))])
def test_traced_jax_and_tf(name, rest):
    """No data-dependent shapes: the class-index losses compile under jax.jit and tf.function
    (the value checks are skipped while tracing) and give the eager values."""
    pred = XS if name != "margin_ranking_loss" else X1[:3]
    want = getattr(ml, name)(pred, *rest, reduction="none")
    fn = getattr(ml, name)
    done = 0
    for backend in ("jax", "tensorflow"):
        if backend == "jax":
            try:
                import jax
            except ImportError:
                continue
            traced = jax.jit(lambda p, *r: fn(p, *r, reduction="none"))
        else:
            try:
                import tensorflow as tf
            except ImportError:
                continue
            traced = tf.function(lambda p, *r: fn(p, *r, reduction="none"))
        out = traced(to_xp(backend, pred), *[to_xp(backend, a) for a in rest])
        xp_assert_close(out, want, rtol=1e-12)
        done += 1
    if not done:
        pytest.skip("neither jax nor tensorflow is importable")


# ----------------------------------------------------------------------------- errors


def _args(name):
    return {
        "margin_ranking_loss": (X1, X2, Y1),
        "hinge_embedding_loss": (XS, YS),
        "soft_margin_loss": (XS, YS),
        "multilabel_soft_margin_loss": (XS, Q),
        "multilabel_margin_loss": (XS, YL),
        "multi_margin_loss": (XS, YM),
    }[name]


def _call(xp, name, *args, **kw):
    conv = lambda a: to_xp(xp, a) if isinstance(a, np.ndarray) else a  # noqa: E731
    return getattr(ml, name)(*[conv(a) for a in args], **{k: conv(v) for k, v in kw.items()})


@pytest.mark.parametrize("name", MARGIN_LOSSES)
def test_error_unknown_reduction(xp, name):
    with pytest.raises(ValueError, match=msg(f"{name}: argument 'reduction' must be one of 'none', 'mean', 'sum'",
                                             "got 'batchmean'")):
        _call(xp, name, *_args(name), reduction="batchmean")


@pytest.mark.parametrize("name", MARGIN_LOSSES)
def test_error_integer_input(xp, name):
    args = list(_args(name))
    args[0] = np.ones(args[0].shape, dtype=np.int64)
    arg = "input1" if name == "margin_ranking_loss" else "input"
    with pytest.raises(TypeError, match=msg(f"{name}: argument '{arg}' must be a real floating-point array",
                                            "got dtype", "int64")):
        _call(xp, name, *args)


@pytest.mark.parametrize("name", MARGIN_LOSSES)
def test_error_arrays_from_two_libraries(name):
    require("torch")
    args = list(_args(name))
    with pytest.raises(TypeError, match=msg(f"{name}: all arrays must come from one library")):
        getattr(ml, name)(args[0], to_xp("torch", args[1]), *args[2:])


def test_error_margin_ranking_shapes(xp):
    with pytest.raises(ValueError, match=msg("margin_ranking_loss: arguments 'input1', 'input2' and 'target' must have "
                                             "the same number of dimensions", "(5,), (5,) and (1, 5)")):
        _call(xp, "margin_ranking_loss", X1, X2, Y1[None])
    with pytest.raises(ValueError, match=msg("margin_ranking_loss: argument 'input2' must have the shape of 'input1' (5,)",
                                             "got (4,)")):
        _call(xp, "margin_ranking_loss", X1, X2[:4], Y1)
    with pytest.raises(ValueError, match=msg("margin_ranking_loss: argument 'target' must have the shape of 'input1' (5,)",
                                             "got (3,)")):
        _call(xp, "margin_ranking_loss", X1, X2, Y1[:3])


@pytest.mark.parametrize("name", ["hinge_embedding_loss", "soft_margin_loss"])
def test_error_signed_target_shape(xp, name):
    with pytest.raises(ValueError, match=msg(f"{name}: argument 'target' must have the shape of 'input' (3, 4)",
                                             "got (3, 3)")):
        _call(xp, name, XS, YS[:, :3])


def test_error_multilabel_soft_margin(xp):
    fn = "multilabel_soft_margin_loss"
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'input' must have a class dimension", "0-d")):
        _call(xp, fn, np.array(0.3), np.array(1.0))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must broadcast to the shape of 'input' (3, 4)",
                                             "got shape (2, 3, 4)")):
        _call(xp, fn, XS, np.stack([Q, Q])[:, :, :])
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'weight' must broadcast to the shape of 'input' (3, 4)",
                                             "got shape (3,)")):
        _call(xp, fn, XS, Q, weight=WC[:3])


def test_error_multilabel_margin(xp):
    fn = "multilabel_margin_loss"
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'input' must be a non-empty vector (C,) or matrix (N, C)",
                                             "got shape (2, 3, 4)")):
        _call(xp, fn, np.zeros((2, 3, 4)), np.zeros((2, 3, 4), dtype=np.int64))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'input' must be a non-empty vector", "got shape (3, 0)")):
        _call(xp, fn, np.zeros((3, 0)), np.zeros((3, 0), dtype=np.int64))
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'target' holds class indices padded with -1 and must be an "
                                            "integer array", "got dtype", "float64")):
        _call(xp, fn, XS, YL.astype(np.float64))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must have the shape of 'input' (3, 4)",
                                             "got (3, 3)")):
        _call(xp, fn, XS, YL[:, :3])
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must have the shape of 'input' (4,)",
                                             "got (1, 4)")):
        _call(xp, fn, XS[0], YL[:1])
    for bad, value in (([3, -2, 0, 1], "-2"), ([3, -1, 4, 0], "4")):  # torch checks after the padding too
        t = YL.copy()
        t[1] = bad
        with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must hold class indices or -1 padding in "
                                                 f"[-1, 4)", f"got a value out of range ({value})")):
            _call(xp, fn, XS, t)


def test_error_multi_margin(xp):
    fn = "multi_margin_loss"
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'p' must be 1 or 2", "got 3")):
        _call(xp, fn, XS, YM, p=3)
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'input' must be a non-empty vector (C,) or matrix (N, C)",
                                             "got shape (2, 3, 4)")):
        _call(xp, fn, np.zeros((2, 3, 4)), np.array([0, 1]))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'input' must be a non-empty vector", "got shape (0,)")):
        _call(xp, fn, np.zeros((0,)), np.array(0))
    with pytest.raises(TypeError, match=msg(f"{fn}: argument 'target' holds class indices and must be an integer array",
                                            "got dtype", "float64")):
        _call(xp, fn, XS, YM.astype(np.float64))
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must hold one class index per sample, shape (3,)",
                                             "got (2,)")):
        _call(xp, fn, XS, YM[:2])
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must hold one class index per sample, shape (1,)",
                                             "got (3, 1)")):
        _call(xp, fn, XS[0], YM[:, None])
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'weight' must be a 1-D array with one entry per class "
                                             "(shape (4,))", "got shape (1, 4)")):
        _call(xp, fn, XS, YM, weight=WC[None])
    with pytest.raises(ValueError, match=msg(f"{fn}: argument 'weight'", "(shape (4,))", "got shape (3,)")):
        _call(xp, fn, XS, YM, weight=WC[:3])
    for bad in (4, -1):
        with pytest.raises(ValueError, match=msg(f"{fn}: argument 'target' must hold class indices in [0, 4)",
                                                 f"got a value out of range ({bad})")):
            _call(xp, fn, XS, np.array([0, bad, 1]))


# ----------------------------------------------------------------------------- multilabel, random


def test_multilabel_margin_random_rows_with_ties_and_repeats_match_torch(grad_backend):
    """Scores on a 0.5 grid (many z == 0 ties, torch adds nothing there), repeated labels, junk
    after the padding, rows of every length, C up to 40: values and gradients equal torch's."""
    rng = np.random.default_rng(7)
    for _ in range(6):
        n, c = int(rng.integers(1, 9)), int(rng.integers(1, 41))
        x = rng.integers(-4, 5, size=(n, c)) * 0.5
        t = rng.integers(-1, c, size=(n, c))
        for i in range(n):
            k = int(rng.integers(0, c + 1))
            t[i, :k] = rng.integers(0, c, size=k)
            if k < c:
                t[i, k] = -1
        want, want_g = torch_value_and_grad("multilabel_margin_loss", x, (t,), {"reduction": "none"})
        tb = to_xp(grad_backend, t)
        value, grad = value_and_grad(grad_backend, lambda p, tb=tb: ml.multilabel_margin_loss(p, tb, reduction="none"), x)
        xp_assert_close(value, want, rtol=1e-12, atol=1e-13)
        xp_assert_close(grad, want_g, rtol=1e-12, atol=1e-13)


def test_traced_with_unknown_batch_size():
    require("tensorflow")
    import tensorflow as tf

    x = np.array([[0.1, 0.2, 0.4, 0.8]] * 3)
    spec_x = tf.TensorSpec([None, 4], tf.float64)
    f = tf.function(lambda a, b: ml.multilabel_margin_loss(a, b, reduction="none"),
                    input_signature=[spec_x, tf.TensorSpec([None, 4], tf.int64)], autograph=False)
    xp_assert_close(f(x, np.array([[3, 0, -1, 1]] * 3)), [0.85] * 3, rtol=1e-12)
    g = tf.function(lambda a, b: ml.multi_margin_loss(a, b), input_signature=[spec_x, tf.TensorSpec([None], tf.int64)],
                    autograph=False)
    xp_assert_close(g(x, np.array([3, 3, 3])), 0.325, rtol=1e-12)


# ----------------------------------------------------------------------------- adapters

TORCH_ROWS = [("MarginRankingLoss", "margin_ranking_loss"), ("HingeEmbeddingLoss", "hinge_embedding_loss"),
              ("SoftMarginLoss", "soft_margin_loss"), ("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss"),
              ("MultiLabelMarginLoss", "multilabel_margin_loss"), ("MultiMarginLoss", "multi_margin_loss")]


def _params(f):
    import inspect

    return [(p.name, p.default) for p in inspect.signature(f).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("cls,fname", TORCH_ROWS)
def test_torch_adapter_signatures_and_legacy_reduction(cls, fname):
    require("torch")
    import torch

    import multiloss.torch as mt
    import multiloss.torch.functional as mF

    assert _params(getattr(mt, cls).__init__) == _params(getattr(torch.nn, cls).__init__)
    assert _params(getattr(mF, fname)) == _params(getattr(torch.nn.functional, fname))
    _, pred, rest, kw = next(c for c in CASES if c[0] == fname)
    args = [torch.tensor(pred), *(torch.tensor(a) for a in rest)]
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's deprecation warning, mirrored
        for legacy in ({"size_average": False}, {"reduce": False}):
            ours = getattr(mt, cls)(**kw_t, **legacy)(*args)
            theirs = getattr(torch.nn, cls)(**kw_t, **legacy)(*args)
            xp_assert_close(ours, theirs, rtol=1e-12)
            xp_assert_close(getattr(mF, fname)(*args, **kw_t, **legacy),
                            getattr(torch.nn.functional, fname)(*args, **kw_t, **legacy), rtol=1e-12)


def test_torch_adapter_weight_is_a_buffer():
    require("torch")
    import torch

    import multiloss.torch as mt

    for cls in ("MultiMarginLoss", "MultiLabelSoftMarginLoss"):
        m = getattr(mt, cls)(weight=torch.tensor(WC))
        assert set(m.state_dict()) == set(getattr(torch.nn, cls)(weight=torch.tensor(WC)).state_dict()) == {"weight"}
        assert m.float().weight.dtype == torch.float32


def _keras():
    require("tensorflow")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":  # pragma: no cover
        pytest.skip("keras runs on another backend")
    import multiloss.keras as mk

    return keras, mk


def test_keras_extras_are_keras_style():
    keras, mk = _keras()
    import tensorflow as tf

    c = lambda a, dt="float64": tf.constant(a, dtype=dt)  # noqa: E731
    sw = np.array([0.5, 2.0, 1.0])
    # class per sample: mean over the last axis of the canonical elementwise loss
    for cls, canonical, y, kw in (("HingeEmbedding", "hinge_embedding_loss", YS, {"margin": 0.5}),
                                  ("SoftMargin", "soft_margin_loss", YS, {})):
        per = getattr(ml, canonical)(XS, y, reduction="none", **kw).mean(axis=-1)
        loss = getattr(mk, cls)(**kw, dtype="float64")
        xp_assert_close(loss(c(y), c(XS)), per.mean(), rtol=1e-12)
        xp_assert_close(loss(c(y), c(XS), sample_weight=c(sw)), (per * sw).mean(), rtol=1e-12)
        xp_assert_close(getattr(mk, loss.name)(c(y), c(XS), **kw), per, rtol=1e-12)
        assert isinstance(loss, keras.losses.Loss) and type(loss).from_config(loss.get_config()).get_config() == loss.get_config()
    # class-index targets: keras casts y_true to the loss dtype; (N, 1) labels are squeezed
    per = ml.multi_margin_loss(XS, YM, p=2, margin=0.6, reduction="none")
    loss = mk.MultiMargin(p=2, margin=0.6, reduction="sum", dtype="float64")
    for y in (YM, YM[:, None], YM.astype(np.float64)):
        xp_assert_close(loss(c(y, y.dtype.name), c(XS)), per.sum(), rtol=1e-12)
    xp_assert_close(mk.multi_margin(c(YM, "int64"), c(XS), p=2, margin=0.6), per, rtol=1e-12)
    per = ml.multilabel_margin_loss(XS, YL, reduction="none")
    xp_assert_close(mk.MultiLabelMargin(dtype="float64", reduction="none")(c(YL, "int64"), c(XS)), per, rtol=1e-12)
    xp_assert_close(mk.multilabel_margin(c(YL, "int64"), c(XS)), per, rtol=1e-12)
    per = ml.multilabel_soft_margin_loss(XS, Q, reduction="none")
    xp_assert_close(mk.MultiLabelSoftMargin(dtype="float64")(c(Q), c(XS)), per.mean(), rtol=1e-12)
    # three arrays: a function, the scores first
    per = ml.margin_ranking_loss(X1[:, None], X2[:, None], Y1[:, None], margin=0.5, reduction="none")[:, 0]
    xp_assert_close(mk.margin_ranking(c(X1[:, None]), c(X2[:, None]), c(Y1[:, None]), margin=0.5), per, rtol=1e-12)
    assert not hasattr(keras.losses, "MultiMargin")  # an extra: keras has no such loss


def test_jax_extras_are_per_example_and_jittable():
    require("jax")
    import jax

    import multiloss.jax as mj

    cases = [
        (mj.margin_ranking_loss, (X1, X2, Y1), {"margin": 0.5}, ml.margin_ranking_loss(X1, X2, Y1, margin=0.5, reduction="none")),
        (mj.hinge_embedding_loss, (XS, YS), {"margin": 0.25}, ml.hinge_embedding_loss(XS, YS, margin=0.25, reduction="none")),
        (mj.soft_margin_loss, (XS, YS), {}, ml.soft_margin_loss(XS, YS, reduction="none")),
        (mj.multilabel_soft_margin_loss, (XS, Q), {"weight": WC},
         ml.multilabel_soft_margin_loss(XS, Q, weight=WC, reduction="none")),
        (mj.multilabel_margin_loss, (XS, YL), {}, ml.multilabel_margin_loss(XS, YL, reduction="none")),
        (mj.multi_margin_loss, (XS, YM), {"p": 2, "weight": WC}, ml.multi_margin_loss(XS, YM, p=2, weight=WC, reduction="none")),
    ]
    for f, args, kw, want in cases:
        xp_assert_close(f(*[to_xp("jax", a) for a in args], **kw), want, rtol=1e-12)
        jitted = jax.jit(lambda *a, f=f, kw=kw: f(*a, **kw))
        xp_assert_close(jitted(*[to_xp("jax", a) for a in args]), want, rtol=1e-12)
    assert _params(mj.margin_ranking_loss) == [("input1", inspect_empty()), ("input2", inspect_empty()),
                                               ("target", inspect_empty()), ("margin", 0.0)]
    with pytest.raises(ValueError, match=msg("margin_ranking_loss: arguments 'input1', 'input2', 'target' must have the "
                                             "same number of dimensions", "(5,), (5,), (1, 5)")):
        mj.margin_ranking_loss(to_xp("jax", X1), to_xp("jax", X2), to_xp("jax", Y1[None]))
    with pytest.raises(ValueError, match=msg("margin_ranking_loss: arguments 'input1', 'input2', 'target' must have "
                                             "broadcastable shapes", "(5,), (4,), (5,)")):
        mj.margin_ranking_loss(to_xp("jax", X1), to_xp("jax", X2[:4]), to_xp("jax", Y1))
    with pytest.raises(TypeError, match=msg("multi_margin_loss: argument 'labels' holds "
                                            "class indices and must be an integer array", "float64")):
        mj.multi_margin_loss(to_xp("jax", XS), to_xp("jax", YM.astype(np.float64)))


def inspect_empty():
    import inspect

    return inspect.Parameter.empty


def _torch_module_cases():
    import torch

    x = torch.tensor(XS)
    w = torch.tensor(WC)
    return {
        "MarginRankingLoss": ({"margin": 0.5}, (torch.tensor(X1), torch.tensor(X2), torch.tensor(Y1))),
        "HingeEmbeddingLoss": ({"margin": 0.25}, (x, torch.tensor(YS))),
        "SoftMarginLoss": ({}, (x, torch.tensor(YS))),
        "MultiLabelSoftMarginLoss": ({"weight": w}, (x, torch.tensor(Q))),
        "MultiLabelMarginLoss": ({}, (x, torch.tensor(YL))),
        "MultiMarginLoss": ({"p": 2, "margin": 0.6, "weight": w}, (x, torch.tensor(YM))),
    }


@pytest.mark.parametrize("cls", [c for c, _ in TORCH_ROWS])
def test_torch_compile_fullgraph_and_gradcheck(cls):
    """No graph break in forward + backward (value checks are skipped while compiling), the
    compiled numbers are the eager ones, and autograd's gradcheck passes."""
    require("torch")
    import torch

    import multiloss.torch as mt

    kw, args = _torch_module_cases()[cls]
    m = getattr(mt, cls)(**kw)
    torch._dynamo.reset()

    @torch.compile(fullgraph=True, backend="aot_eager")
    def step(*a):
        return m(*a)

    x = args[0].detach().clone().requires_grad_(True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = step(x, *args[1:])
        out.backward()
    x_ref = args[0].detach().clone().requires_grad_(True)
    ref = m(x_ref, *args[1:])
    ref.backward()
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(x.grad, x_ref.grad)
    assert torch.autograd.gradcheck(lambda a: m(a, *args[1:]), (args[0].detach().clone().requires_grad_(True),),
                                    eps=1e-6, atol=1e-6)
