"""``multiloss._ops``: every registered override (torch, jax, tensorflow when present) equals the
primitive's generic Array API body, in value and gradient; edge cases of the primitives
(``clamped_log`` at 0, ``xlogy(0, 0)``, out-of-range ``one_hot``); the override registry."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest

from multiloss import _ops
from tests_conftest import namespace_of, to_numpy, to_xp, value_and_grad, xp_assert_close

rng = np.random.default_rng(11)
X = rng.normal(size=(3, 4)) * 2
X_EXT = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, -1e4], [50.0, -50.0, 700.0, -700.0]])
IDX = np.array([[0, 2, 1, 1], [2, 0, 0, 1], [1, 1, 2, 0]])  # indices along axis 0 (values < 3)
LABELS = np.array([3, 0, 1])  # one per row, along axis 1 (values < 4)
POS = np.array([[0.0, 1e-300, 1e-50, 0.5], [1.0, 2.0, 1e-45, 3e-39]])
XLOGY_X = np.array([0.0, 0.0, 1.0, 2.5, 0.3])
XLOGY_Y = np.array([0.0, 3.0, 1.0, 0.5, 1e-8])

# linear_softmax_cross_entropy: a (5, 4) head, its bias, class indices / probability targets
# and row coefficients for X's 3 rows, a (5, 2, 4) K-dim head with (3, 2) indices
_LIN = np.random.default_rng(5)
LIN_W, LIN_B, LIN_COEF, LIN_W3 = _LIN.normal(size=(5, 4)), _LIN.normal(size=(5,)), _LIN.uniform(0.1, 2.0, size=(3,)), _LIN.normal(size=(5, 2, 4))
LIN_T, LIN_T3, LIN_P = np.array([4, 0, 2]), np.array([[1, 3], [0, 4], [2, 2]]), _LIN.dirichlet(np.ones(5), size=3)

# ctc_neg_log_likelihood: log-softmax (T=6, N=2, C=4) frames, padded targets with a repeat,
# one shorter input; scan: a running sum that also emits the running product
_CTC = np.random.default_rng(7).normal(size=(6, 2, 4))
CTC_LP = _CTC - np.log(np.exp(_CTC).sum(-1, keepdims=True))
CTC_T, CTC_IL, CTC_TL = np.array([[1, 1, 2], [3, 2, 0]]), np.array([6, 5]), np.array([3, 2])
SCAN_XS = rng.normal(size=(5, 3))


def _running(carry, x):
    return carry + x, carry * x


# primitive -> list of (positional args, keyword args); NumPy arrays are converted per backend
CASES = {
    "ctc_neg_log_likelihood": [((CTC_LP, CTC_T, CTC_IL, CTC_TL), {}), ((CTC_LP, CTC_T, CTC_IL, CTC_TL), dict(blank=3)),
                               ((CTC_LP, CTC_T, CTC_IL, CTC_TL), dict(log_epsilon=-1e5))],
    "scan": [((_running, SCAN_XS[0], SCAN_XS), {})],
    "sparsemax": [((X,), {}), ((X,), dict(axis=0)), ((X_EXT,), dict(axis=1))],
    # the three branches and both seams (z = -1, z = 1), and the tie of positive_part at 0
    "sparse_plus": [((np.array([[-3.0, -1.0, -0.5, 0.0], [0.5, 1.0, 2.5, 40.0]]),), {}), ((X,), {})],
    "positive_part": [((np.array([[-2.0, 0.0, 0.5, 3.0], [-0.0, 1e-30, -1e-30, 7.0]]),), {}), ((X,), {})],
    "multilabel_margin": [((X, np.array([[3, 0, -1, 1], [2, 2, 1, -1], [-1, 0, 1, 2]])), {})],
    "multi_margin": [((X, LABELS[:3]), {}), ((X, LABELS[:3], 2, 0.5), {}),
                     ((X, LABELS[:3], 1, 1.0, np.array([0.5, 1.0, 2.0, 0.25])), {})],
    "linear_softmax_cross_entropy": [
        ((X, LIN_W), {}), ((X, LIN_W, LIN_B, LIN_T), dict(chunk_size=2)),
        ((X, LIN_W, LIN_B, LIN_T, LIN_COEF, LIN_COEF[::-1]), dict(chunk_size=1, reduce=True)),
        ((X, LIN_W, None, LIN_P, LIN_COEF), dict(chunk_size=2)), ((X_EXT, LIN_W, None, LIN_T), dict(chunk_size=2)),
        ((X, LIN_W3, None, LIN_T3), dict(chunk_size=2)), ((X, LIN_W, LIN_B, LIN_P), dict(reduce=True))],
    "stop_gradient": [((X,), {})],
    "log_softmax": [((X,), {}), ((X,), dict(axis=0)), ((X_EXT,), dict(axis=1))],
    "softmax": [((X,), {}), ((X,), dict(axis=0)), ((X_EXT,), dict(axis=-1))],
    "logsumexp": [((X,), {}), ((X,), dict(axis=0, keepdims=True)), ((X_EXT,), dict(axis=1))],
    "softplus": [((X,), {}), ((X_EXT,), {})],
    "log_sigmoid": [((X,), {}), ((X_EXT,), {})],
    "sigmoid": [((X,), {}), ((X_EXT,), {})],
    "take_along_axis": [((X, IDX), dict(axis=0)), ((X, LABELS[:, None]), dict(axis=1))],
    "pick": [((X, LABELS), dict(axis=1)), ((X, np.array([2, 0, 1, 2])), dict(axis=0)), ((X[0], np.array(2)), dict(axis=0))],
    "one_hot": [((LABELS, 4), {}), ((np.array([0, 5, -1, 2]), 3), {}), ((IDX, 3), dict(axis=0)),
                ((LABELS, 4), dict(axis=0))],
    "xlogy": [((XLOGY_X, XLOGY_Y), {})],
    "clamped_log": [((POS,), {}), ((POS,), dict(min=-10.0))],
    "is_concrete": [((X,), {})],
    "is_host": [((X,), {})],
    "can_device_assert": [((X,), {})],
    "device_assert": [((np.array(True), "f: argument 'x' holds {0, 1}"), {})],  # a true condition: nothing raised
    "min_max": [((X,), {}), ((LABELS,), {}), ((X,), dict(of=abs))],
    "softmax_cross_entropy": [((X, np.full_like(X, 0.25)), dict(axis=1)), ((X_EXT, np.full_like(X_EXT, 0.2)), dict(axis=-1)),
                              ((X, np.full_like(X, 1 / 3)), dict(axis=0))],
    "log_softmax_pick": [((X, LABELS), dict(axis=1)), ((X_EXT, LABELS[:3]), dict(axis=1)),
                         ((X, np.array([2, 0, 1, 2])), dict(axis=0))],
    "squared_difference": [((X, X[::-1]), {}), ((X, X[0]), {})],
    "logistic_loss": [((X, (X > 0) * 1.0), {}), ((X_EXT, np.full_like(X_EXT, 0.3)), {})],
    "binary_log_loss": [((np.array([[0.2, 0.5, 0.9], [0.01, 0.7, 0.99]]), np.array([[1.0, 0.0, 0.3], [1.0, 1.0, 0.0]])), {})],
    "huber": [((X, X[::-1]), {}), ((X, X[::-1]), dict(delta=0.5)), ((X, X[0]), dict(delta=2.0))],
    "pairwise_distance": [((X, X[::-1]), {}), ((X, X[0]), dict(p=1.0, keepdim=True)), ((X, X[::-1]), dict(p=3.0, eps=0.0)),
                          ((X, X[::-1]), dict(p=math.inf)), ((X, X), dict(eps=0.0))],  # last: zero norms
}
DIFFERENTIABLE = ("linear_softmax_cross_entropy", "log_softmax", "softmax", "logsumexp", "softplus", "log_sigmoid", "sigmoid", "clamped_log",
                  "log_softmax_pick", "squared_difference", "logistic_loss", "binary_log_loss", "huber", "softmax_cross_entropy",
                  "pairwise_distance", "ctc_neg_log_likelihood", "multilabel_margin", "multi_margin", "sparsemax",
                  "sparse_plus", "positive_part")
OVERRIDE_BACKENDS = ("torch", "jax", "tensorflow")


def test_cases_cover_every_primitive():
    # fused_loss has no generic value to equal (its generic body is NotImplemented: the
    # canonical loss runs); tests/test_torch_fused_losses.py holds each override to torch
    missing = set(_ops.PRIMITIVES) - set(CASES) - {"fused_loss"}
    assert not missing, f"add cases for the new primitive(s) {sorted(missing)} to tests/test_core_ops.py"
    assert set(CASES) <= set(_ops.PRIMITIVES)


def _conv(name, a):
    return to_xp(name, a) if isinstance(a, np.ndarray) else a


def _np_ns():
    return namespace_of("numpy")


@pytest.fixture(params=OVERRIDE_BACKENDS)
def override_backend(request):
    from tests_conftest import require

    require(request.param)
    return request.param


def test_overrides_are_registered(override_backend):
    ns = namespace_of(override_backend)  # resolving the namespace imports the ops module
    registered = [p for p in _ops.PRIMITIVES if _ops.override_for(ns, p) is not None]
    # the fused kernels DESIGN.md asks for
    for p in ("stop_gradient", "log_softmax", "logsumexp", "softplus", "pick", "is_concrete"):
        assert p in registered, f"{override_backend}: no override for {p}"


@pytest.mark.parametrize("prim", sorted(CASES))
def test_override_equals_generic(override_backend, prim):
    ns = namespace_of(override_backend)
    if _ops.override_for(ns, prim) is None:
        pytest.skip(f"{override_backend} has no override for {prim} (runs the generic body)")
    f = getattr(_ops, prim)
    for args, kwargs in CASES[prim]:
        out = f(ns, *[_conv(override_backend, a) for a in args], **kwargs)
        expected = f.generic(_np_ns(), *args, **kwargs)
        own_generic = f.generic(ns, *[_conv(override_backend, a) for a in args], **kwargs)
        if prim in ("is_concrete", "is_host"):  # eager CPU arrays
            assert out is True or bool(out) is True
            continue
        if prim == "can_device_assert":  # eager: only torch's assertion needs no trace
            assert out is (override_backend == "torch")
            continue
        if prim == "device_assert":
            assert out is None and expected is None
            continue
        if prim == "scan":  # (final carry, stacked outputs)
            for o, e in zip(out, expected):
                np.testing.assert_allclose(to_numpy(o), to_numpy(e), rtol=1e-12, err_msg="scan override vs generic")
            continue
        if prim == "min_max":  # a pair of 0-d arrays
            assert len(out) == 2
            for o, e in zip(out, expected):
                assert to_numpy(o).dtype == to_numpy(e).dtype and to_numpy(o) == to_numpy(e)
            continue
        assert type(out).__module__.split(".")[0] in (override_backend, "jaxlib", "keras"), type(out)
        a, e, g = to_numpy(out), to_numpy(expected), to_numpy(own_generic)
        assert a.shape == e.shape, f"{prim}{kwargs}: shape {a.shape} vs generic {e.shape}"
        assert a.dtype == e.dtype, f"{prim}{kwargs}: dtype {a.dtype} vs generic {e.dtype}"
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-300, err_msg=f"{prim}{kwargs} override vs generic")
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-300, err_msg=f"{prim}{kwargs} generic on {override_backend}")


@pytest.mark.parametrize("prim", DIFFERENTIABLE)
def test_override_gradient_equals_generic_gradient(grad_backend, prim):
    ns = namespace_of(grad_backend)
    f = getattr(_ops, prim)
    for args, kwargs in CASES[prim]:
        x = args[0]
        rest = [_conv(grad_backend, a) for a in args[1:]]
        v1, g1 = value_and_grad(grad_backend, lambda t: f(ns, t, *rest, **kwargs), x)
        v2, g2 = value_and_grad(grad_backend, lambda t: f.generic(ns, t, *rest, **kwargs), x)
        np.testing.assert_allclose(v1, v2, rtol=1e-12, atol=1e-300)
        assert np.all(np.isfinite(g1)) and np.all(np.isfinite(g2)), f"{prim}{kwargs}: {g1} / {g2}"
        np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12, err_msg=f"{prim}{kwargs} gradient")


def test_stop_gradient_blocks_gradient(grad_backend):
    ns = namespace_of(grad_backend)
    for f in (_ops.stop_gradient, _ops.stop_gradient.generic):
        _, g = value_and_grad(grad_backend, lambda t: t * f(ns, t), X)
        # d/dx [x * sg(x)] = sg(x) = x for the real stop_gradient; the generic one is the identity
        expected = X if f is _ops.stop_gradient else 2 * X
        np.testing.assert_allclose(g, expected, rtol=1e-12)


# ----------------------------------------------------------------------------- values


def test_generic_values_numpy():
    ns = _np_ns()
    xp_assert_close(_ops.logsumexp(ns, X, axis=1), np.log(np.exp(X).sum(axis=1)), rtol=1e-12)
    xp_assert_close(_ops.log_softmax(ns, X, axis=0), X - np.log(np.exp(X).sum(axis=0, keepdims=True)), rtol=1e-12)
    xp_assert_close(_ops.softmax(ns, X), np.exp(X) / np.exp(X).sum(axis=-1, keepdims=True), rtol=1e-12)
    xp_assert_close(_ops.softplus(ns, X), np.log1p(np.exp(X)), rtol=1e-12)
    xp_assert_close(_ops.sigmoid(ns, X), 1 / (1 + np.exp(-X)), rtol=1e-12)
    xp_assert_close(_ops.log_sigmoid(ns, X), -np.log1p(np.exp(-X)), rtol=1e-12)
    xp_assert_close(_ops.take_along_axis(ns, X, IDX, axis=0), np.take_along_axis(X, IDX, axis=0))
    xp_assert_close(_ops.pick(ns, X, LABELS, axis=1), X[np.arange(3), LABELS])


def test_extreme_values_are_finite_and_exact(xp):
    ns = namespace_of(xp)
    x = to_xp(xp, np.array([1e4, -1e4, 0.0]))
    xp_assert_close(_ops.softplus(ns, x), [1e4, 0.0, math.log(2)], rtol=1e-15)
    xp_assert_close(_ops.log_sigmoid(ns, x), [0.0, -1e4, -math.log(2)], rtol=1e-15)
    xp_assert_close(_ops.sigmoid(ns, x), [1.0, 0.0, 0.5], rtol=1e-15)
    row = to_xp(xp, np.array([[1e4, -1e4, 1e4]]))
    xp_assert_close(_ops.logsumexp(ns, row, axis=1), [1e4 + math.log(2)], rtol=1e-15)
    xp_assert_close(_ops.log_softmax(ns, row, axis=1), [[-math.log(2), -2e4 - math.log(2), -math.log(2)]], rtol=1e-15)


def test_generic_logsumexp_of_all_minus_inf_row():
    ns = _np_ns()
    with np.errstate(divide="ignore"):  # log(0) = -inf is the intended result
        out = _ops.logsumexp.generic(ns, np.array([[-np.inf, -np.inf], [0.0, 0.0]]), axis=1)
    assert out[0] == -np.inf and out[1] == pytest.approx(math.log(2))


def test_clamped_log_values(xp):
    ns = namespace_of(xp)
    out = _ops.clamped_log(ns, to_xp(xp, np.array([0.0, 1e-300, math.exp(-50), 1.0, 2.0])))
    xp_assert_close(out, [-100.0, -100.0, -50.0, 0.0, math.log(2)], rtol=1e-13)
    out = _ops.clamped_log(ns, to_xp(xp, np.array([0.0, 1.0])), min=-5.0)
    xp_assert_close(out, [-5.0, 0.0])


@pytest.mark.parametrize("generic", [False, True], ids=["dispatch", "generic"])
def test_clamped_log_at_zero_has_gradient_zero(grad_backend, generic):
    ns = namespace_of(grad_backend)
    f = _ops.clamped_log.generic if generic else _ops.clamped_log
    value, grad = value_and_grad(grad_backend, lambda t: f(ns, t), np.array([0.0, 1e-300, 0.5, 2.0]))
    np.testing.assert_allclose(value, [-100.0, -100.0, math.log(0.5), math.log(2.0)], rtol=1e-14)
    np.testing.assert_allclose(grad, [0.0, 0.0, 2.0, 0.5], rtol=1e-14)


def test_xlogy_values(xp):
    ns = namespace_of(xp)
    out = _ops.xlogy(ns, to_xp(xp, XLOGY_X), to_xp(xp, XLOGY_Y))
    expected = [0.0, 0.0, 0.0, 2.5 * math.log(0.5), 0.3 * math.log(1e-8)]
    xp_assert_close(out, expected, rtol=1e-13)


@pytest.mark.parametrize("generic", [False, True], ids=["dispatch", "generic"])
def test_xlogy_zero_zero_finite_gradient(grad_backend, generic):
    ns = namespace_of(grad_backend)
    f = _ops.xlogy.generic if generic else _ops.xlogy
    y = to_xp(grad_backend, np.array([0.0, 2.0]))
    value, grad = value_and_grad(grad_backend, lambda t: f(ns, t, y), np.array([0.0, 0.0]))
    np.testing.assert_array_equal(value, [0.0, 0.0])
    assert np.all(np.isfinite(grad)), grad
    # (d/dx at x=0, y=2 is log 2 mathematically; torch.xlogy gives that, jax/tf/generic give 0:
    # only finiteness is part of the contract)
    # and w.r.t. y where x = 0 (kl_div's target side): 0
    x = to_xp(grad_backend, np.array([0.0, 0.0]))
    _, grad_y = value_and_grad(grad_backend, lambda t: f(ns, x, t), np.array([1.0, 3.0]))
    np.testing.assert_array_equal(grad_y, [0.0, 0.0])


def test_one_hot_out_of_range_is_zeros(xp):
    ns = namespace_of(xp)
    labels = to_xp(xp, np.array([0, 3, -1, 2, 7]))
    for f in (_ops.one_hot, _ops.one_hot.generic):
        out = to_numpy(f(ns, labels, 3))
        expected = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 1], [0, 0, 0]], dtype=np.float32)
        np.testing.assert_array_equal(out, expected)
        assert out.dtype == np.float32
        out = to_numpy(f(ns, labels, 3, dtype=to_xp(xp, np.zeros(1)).dtype, axis=0))
        np.testing.assert_array_equal(out, expected.T)
        assert out.dtype == np.float64


def test_pick_and_take_along_axis_fallback_without_take_along_axis():
    """Namespaces older than the 2024.12 standard lack ``take_along_axis``: the generic body
    falls back to a one-hot contraction, with the same result."""
    base = _np_ns()
    proxy = types.ModuleType("no_take_along_axis")
    for name in dir(base):
        if not name.startswith("__") and name != "take_along_axis":
            setattr(proxy, name, getattr(base, name))
    assert not hasattr(proxy, "take_along_axis")
    out = _ops.take_along_axis(proxy, X, IDX[:1], axis=0)
    np.testing.assert_allclose(out, np.take_along_axis(X, IDX[:1], axis=0), rtol=1e-15)
    np.testing.assert_allclose(_ops.pick(proxy, X, LABELS, axis=1), X[np.arange(3), LABELS], rtol=1e-15)


def test_is_concrete_eager_and_traced():
    assert _ops.is_concrete(_np_ns(), X) is True
    jax = pytest.importorskip("jax")
    ns = namespace_of("jax")
    assert _ops.is_concrete(ns, to_xp("jax", X))
    seen = []
    jax.jit(lambda t: seen.append(_ops.is_concrete(ns, t)) or t)(to_xp("jax", X))
    assert seen == [False]


def test_is_concrete_torch_compile_free_cases():
    torch = pytest.importorskip("torch")
    ns = namespace_of("torch")
    assert _ops.is_concrete(ns, torch.zeros(2))


# ----------------------------------------------------------------------------- registry


def test_register_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"register: unknown primitive\(s\) \['log_softmaxx'\]; known: .*log_softmax"):
        _ops.register("some.namespace", log_softmaxx=lambda x, axis=-1: x)
    assert "some.namespace" not in _ops._OVERRIDES


def test_register_and_dispatch():
    ns = types.ModuleType("multiloss_test_fake_namespace")
    try:
        _ops.register(ns.__name__, softplus=lambda x: ("fast", x))
        assert _ops.override_for(ns, "softplus") is not None
        assert _ops.override_for(ns, "sigmoid") is None
        assert _ops.softplus(ns, 3) == ("fast", 3)
        # a later registration adds to (and may replace in) the table
        _ops.register(ns.__name__, sigmoid=lambda x: "sig")
        assert _ops.sigmoid(ns, 0) == "sig" and _ops.softplus(ns, 1) == ("fast", 1)
    finally:
        _ops._OVERRIDES.pop(ns.__name__, None)
    assert _ops.override_for(ns, "softplus") is None


def test_primitives_keep_their_names_and_docs():
    for name in _ops.PRIMITIVES:
        f = getattr(_ops, name)
        assert f.__name__ == name and f.__doc__ and callable(f.generic)


def test_cross_entropy_unnormalised_probability_targets_have_the_true_gradient(grad_backend):
    """d/dx sum(-t log_softmax(x)) = sum(t) softmax(x) - t on every backend. (TF's fused
    softmax_cross_entropy_with_logits returns softmax(x) - t, exact only for normalised t, so
    it must not be registered as the override.)"""
    import multiloss as ml

    x = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 0.0, 1.0, -1.0]])
    t = np.full_like(x, 0.2)  # rows sum to 0.8
    t_b = to_xp(grad_backend, t)
    _, g = value_and_grad(grad_backend, lambda z: ml.cross_entropy(z, t_b, reduction="sum"), x)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g, 0.8 * softmax - 0.2, rtol=1e-10, atol=1e-12)
