"""Structured losses (``multiloss/losses/structured.py``) and the ``sparsemax`` primitive, on every
installed namespace (``xp`` fixture), and their adapter forms against optax / torch / keras.

Expected values come from the float64 references of
``multiloss/conformance/references/structured.py`` (sparsemax by Michelot's active-set
iteration, no sort; one score vector at a time), from closed forms (the Fenchel--Young loss of
the log-sum-exp is the softmax cross-entropy; the gradient of a Fenchel--Young loss is
``argmax_fun - y``; the sparsemax Jacobian is ``diag(s) - s s^T / |S|``) and from
``optax.losses`` itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests_conftest import (
    msg,
    namespace_of,
    require,
    to_numpy,
    to_xp,
    value_and_grad,
    xp_assert_close,
)

import multiloss as ml
from multiloss import _ops
from multiloss.conformance.references import structured as R
from multiloss.losses import structured as S

REDUCTIONS = ("none", "mean", "sum")

_rng = np.random.default_rng(20261126)
SCORES = _rng.normal(size=(6, 5)) * 1.5
LABELS = np.array([0, 4, 2, 2, 1, 3])
SCORES3 = _rng.normal(size=(2, 5, 3))  # classes along axis 1 (torch's position)
LABELS3 = np.array([[0, 4, 1], [2, 2, 3]])
LOGITS = np.array([[-2.5, -0.6, 0.3], [1.7, -1.2, 0.0], [3.0, 0.9, -0.2], [-0.4, 2.2, -1.6]])
BINARY = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
_z = _rng.normal(size=(6, 5))
PROBS = np.exp(_z) / np.exp(_z).sum(-1, keepdims=True)


def _sparsemax_rows(x: np.ndarray, axis: int = -1) -> np.ndarray:
    rows = np.moveaxis(x, axis, -1)
    out = np.stack([R.sparsemax_np(r) for r in rows.reshape(-1, rows.shape[-1])]).reshape(rows.shape)
    return np.moveaxis(out, -1, axis)


def _reduce(v, reduction):
    return {"none": v, "sum": v.sum(), "mean": v.mean()}[reduction]


def _weighted(xp, f, w):
    """``x -> f(x) * w``: a gradient of ``sum(f(x) * w)`` reads the whole Jacobian."""
    wx = to_xp(xp, w)
    return lambda x: f(x) * wx


# ----------------------------------------------------------------------------- the primitive


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_is_the_projection_onto_the_simplex(xp, axis):
    ns = namespace_of(xp)
    x = np.concatenate([SCORES, [[1e4, -1e4, 0.0, 3.0, 1e4 - 0.5]]], axis=0)  # a huge, sparse row
    want = _sparsemax_rows(x, axis)
    for f in (_ops.sparsemax, _ops.sparsemax.generic):
        got = f(ns, to_xp(xp, x), axis=axis)
        xp_assert_close(got, want, atol=1e-12, xp=xp)
        xp_assert_close(np.sum(to_numpy(got), axis=axis), np.ones(x.shape[1 - axis % 2]), rtol=1e-12)
    # shift invariant, and exactly sparse: the support of the first row here is {0, 4}
    xp_assert_close(_ops.sparsemax(ns, to_xp(xp, x + 7.0), axis=axis), want, atol=1e-9)
    assert np.count_nonzero(want[-1] if axis == -1 else want[:, 0]) < 5


def test_sparsemax_masked_class_and_half_precision(xp):
    ns = namespace_of(xp)
    x = np.array([[-np.inf, 0.3, 0.1, -np.inf], [0.5, 0.4, -3.0, 0.2]])
    xp_assert_close(_ops.sparsemax(ns, to_xp(xp, x)), [[0.0, 0.6, 0.4, 0.0], [7 / 15, 11 / 30, 0.0, 1 / 6]], atol=1e-12)
    if xp == "array_api_strict":
        return  # (its float16 is not a standard dtype there)
    # float16 is computed in float32 inside (a half-precision running sum loses the support)
    h = _ops.sparsemax(ns, to_xp(xp, SCORES, np.float16))
    assert to_numpy(h).dtype == np.float16
    xp_assert_close(h, _sparsemax_rows(SCORES.astype(np.float16).astype(np.float64)), atol=1e-3)


@pytest.mark.parametrize("axis", [-1, 0])
def test_sparsemax_gradient_is_the_sparsemax_jacobian(grad_backend, axis):
    ns = namespace_of(grad_backend)
    w = _rng.normal(size=SCORES.shape)
    rows, wrows = np.moveaxis(SCORES, axis, -1), np.moveaxis(w, axis, -1)
    want = []
    for z, v in zip(rows, wrows):
        s = (R.sparsemax_np(z) > 0).astype(float)
        want.append((np.diag(s) - np.outer(s, s) / s.sum()) @ v)
    want = np.moveaxis(np.array(want), -1, axis)
    for f in (_ops.sparsemax, _ops.sparsemax.generic):  # the override's written-out Jacobian, autodiff
        _, g = value_and_grad(grad_backend, _weighted(grad_backend, lambda t, f=f: f(ns, t, axis=axis), w), SCORES)
        np.testing.assert_allclose(g, want, atol=1e-12)


def test_sparsemax_fully_masked_row_has_a_finite_gradient(grad_backend):
    ns = namespace_of(grad_backend)
    x = np.array([[-np.inf, -np.inf], [0.5, 0.4]])
    v, g = value_and_grad(grad_backend, lambda t: _ops.sparsemax(ns, t), x)
    np.testing.assert_array_equal(v[0], [0.0, 0.0])
    assert np.all(np.isfinite(g))


def test_sparsemax_traces_under_jit_and_tf_function():
    require("jax")
    import jax
    import jax.numpy as jnp

    ns = namespace_of("jax")
    got = jax.jit(lambda t: _ops.sparsemax(ns, t, axis=1))(jnp.asarray(SCORES3))
    np.testing.assert_allclose(np.asarray(got), _sparsemax_rows(SCORES3, 1), atol=1e-12)
    require("tensorflow")
    import tensorflow as tf

    ns = namespace_of("tensorflow")
    got = tf.function(lambda t: _ops.sparsemax(ns, t), jit_compile=True)(tf.constant(SCORES))
    np.testing.assert_allclose(got.numpy(), _sparsemax_rows(SCORES), atol=1e-12)


def test_sparsemax_torch_func_transforms_and_double_backward():
    require("torch")
    import torch

    ns = namespace_of("torch")
    x = torch.tensor(SCORES, requires_grad=True)
    w = torch.tensor(_rng.normal(size=SCORES.shape))
    per_row = torch.func.vmap(lambda r: _ops.sparsemax(ns, r))(x.detach())
    np.testing.assert_allclose(per_row.numpy(), _sparsemax_rows(SCORES), atol=1e-12)
    g = torch.func.grad(lambda t: (_ops.sparsemax(ns, t) * w).sum())(x.detach())
    (g_ref,) = torch.autograd.grad((_ops.sparsemax.generic(ns, x) * w).sum(), x)
    torch.testing.assert_close(g, g_ref)
    # piecewise linear: the Hessian-vector product is 0 (as the generic body's autodiff gives)
    (g1,) = torch.autograd.grad((_ops.sparsemax(ns, x) * w).sum(), x, create_graph=True)
    if g1.requires_grad:  # (the backward reads the support only: no graph back to x)
        (h,) = torch.autograd.grad((g1 * w).sum(), x, allow_unused=True, materialize_grads=True)
        assert torch.count_nonzero(h) == 0
    torch.testing.assert_close(g1, g_ref)


# ----------------------------------------------------------------------------- sparsemax_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sparsemax_loss_values(xp, reduction):
    want = R.sparsemax_loss(LOGITS, BINARY, reduction=reduction)
    for labels in (BINARY, BINARY.astype(np.int64), BINARY.astype(bool)):
        got = ml.sparsemax_loss(to_xp(xp, LOGITS), to_xp(xp, labels), reduction=reduction)
        xp_assert_close(got, want, xp=xp)
    # labels broadcasting to the logits (a row of labels for every sample)
    got = ml.sparsemax_loss(to_xp(xp, LOGITS), to_xp(xp, BINARY[0]), reduction="none")
    xp_assert_close(got, R.sparsemax_loss(LOGITS, np.broadcast_to(BINARY[0], LOGITS.shape), reduction="none"))


def test_sparsemax_loss_is_zero_where_the_sparse_sigmoid_is_the_label(xp):
    x = np.array([2.0, 1.0, -1.0, -3.0, 0.0, 0.5])
    y = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    xp_assert_close(ml.sparsemax_loss(to_xp(xp, x), to_xp(xp, y), reduction="none"),
                    [0.0, 0.0, 0.0, 0.0, 0.25, 0.5625], rtol=1e-15)


def test_sparsemax_loss_gradient_is_sparse_sigmoid_minus_label(grad_backend):
    _, g = value_and_grad(grad_backend, lambda t: ml.sparsemax_loss(t, to_xp(grad_backend, BINARY), reduction="none"),
                          LOGITS)
    np.testing.assert_allclose(g, np.clip((LOGITS + 1) / 2, 0, 1) - BINARY, atol=1e-15)


def test_sparsemax_loss_errors(xp):
    x, y = to_xp(xp, LOGITS), to_xp(xp, BINARY)
    with pytest.raises(ValueError, match=msg("sparsemax_loss: argument 'target' must hold binary labels in {0, 1}",
                                             "[0, 0.5]")):
        ml.sparsemax_loss(x, to_xp(xp, BINARY * 0.5))
    with pytest.raises(ValueError, match=msg("sparsemax_loss: argument 'target' must hold binary labels", "[-1, 1]")):
        ml.sparsemax_loss(x, to_xp(xp, 2 * BINARY - 1))
    with pytest.raises(ValueError, match=msg("sparsemax_loss: argument 'target' must broadcast to the shape of "
                                             "'input' (4,); got shape (4, 1)")):
        ml.sparsemax_loss(to_xp(xp, LOGITS[:, 0]), to_xp(xp, BINARY[:, :1]))
    with pytest.raises(TypeError, match=msg("sparsemax_loss: argument 'input' must be a real floating-point array",
                                            "int64")):
        ml.sparsemax_loss(to_xp(xp, BINARY.astype(np.int64)), y)
    with pytest.raises(ValueError, match=msg("sparsemax_loss: argument 'reduction' must be one of", "got 'avg'")):
        ml.sparsemax_loss(x, y, reduction="avg")


# ----------------------------------------------------------------------------- multiclass_sparsemax_loss


def _multiclass_ref(x, y, axis=-1):
    """optax's formula, transcribed: sum(p * where(p, z - z_y, 0)) + (1 - |p|^2) / 2."""
    rows = np.moveaxis(x, axis, -1)
    out = np.empty(y.shape)
    for idx in np.ndindex(*y.shape):
        z = rows[idx]
        p = R.sparsemax_np(z)
        out[idx] = np.dot(p, np.where(p > 0, z - z[y[idx]], 0.0)) + 0.5 * (1 - np.dot(p, p))
    return out


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multiclass_sparsemax_loss_values(xp, reduction):
    want = _reduce(_multiclass_ref(SCORES, LABELS), reduction)
    got = ml.multiclass_sparsemax_loss(to_xp(xp, SCORES), to_xp(xp, LABELS), reduction=reduction)
    xp_assert_close(got, want, xp=xp)
    xp_assert_close(got, R.multiclass_sparsemax_loss(SCORES, LABELS, reduction=reduction))
    got = ml.multiclass_sparsemax_loss(to_xp(xp, SCORES3), to_xp(xp, LABELS3), axis=1, reduction=reduction)
    xp_assert_close(got, _reduce(_multiclass_ref(SCORES3, LABELS3, axis=1), reduction), xp=xp)


def test_multiclass_sparsemax_loss_zero_on_a_confident_score(xp):
    x = np.array([[3.0, 0.5, 1.9], [0.0, 0.0, 0.0]])  # sparsemax: one-hot of class 0; uniform
    got = ml.multiclass_sparsemax_loss(to_xp(xp, x), to_xp(xp, np.array([0, 1])), reduction="none")
    xp_assert_close(got, [0.0, 1 / 3], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("axis", [-1, 1])
def test_multiclass_sparsemax_loss_gradient_is_p_minus_onehot(grad_backend, axis):
    x, y = (SCORES, LABELS) if axis == -1 else (SCORES3, LABELS3)
    _, g = value_and_grad(
        grad_backend,
        lambda t: ml.multiclass_sparsemax_loss(t, to_xp(grad_backend, y), axis=axis, reduction="none"), x)
    onehot = np.moveaxis(np.eye(5)[y], -1, axis)
    np.testing.assert_allclose(g, _sparsemax_rows(x, axis) - onehot, atol=1e-12)


def test_multiclass_sparsemax_loss_masked_class(grad_backend):
    """A -inf score (a masked class) is outside the support: it adds nothing, and gets no nan."""
    x = SCORES.copy()
    x[:, 1] = -np.inf
    labels = np.where(LABELS == 1, 0, LABELS)
    v, g = value_and_grad(grad_backend, lambda t: ml.multiclass_sparsemax_loss(
        t, to_xp(grad_backend, labels), reduction="none"), x)
    kept = np.delete(SCORES, 1, axis=1)
    np.testing.assert_allclose(v, _multiclass_ref(kept, np.where(labels > 1, labels - 1, labels)), rtol=1e-12)
    assert np.all(np.isfinite(g)) and np.all(g[:, 1] == 0)


def test_multiclass_sparsemax_loss_errors(xp):
    x, y = to_xp(xp, SCORES), to_xp(xp, LABELS)
    with pytest.raises(TypeError, match=msg("multiclass_sparsemax_loss: argument 'target' holds class indices and "
                                            "must be an integer array", "float64")):
        ml.multiclass_sparsemax_loss(x, to_xp(xp, LABELS.astype(np.float64)))
    with pytest.raises(ValueError, match=msg("multiclass_sparsemax_loss: argument 'target' must hold one class index "
                                             "per score vector, shape (6,)", "got (6, 1)")):
        ml.multiclass_sparsemax_loss(x, to_xp(xp, LABELS[:, None]))
    with pytest.raises(ValueError, match=msg("multiclass_sparsemax_loss: argument 'target' must hold class indices "
                                             "in [0, 5)", "5")):
        ml.multiclass_sparsemax_loss(x, to_xp(xp, np.where(LABELS == 4, 5, LABELS)))
    with pytest.raises(ValueError, match=msg("multiclass_sparsemax_loss: argument 'axis' must be an int in [-2, 2)",
                                             "got 2")):
        ml.multiclass_sparsemax_loss(x, y, axis=2)
    with pytest.raises(ValueError, match=msg("multiclass_sparsemax_loss: argument 'input' must have a class axis")):
        ml.multiclass_sparsemax_loss(to_xp(xp, np.float64(1.0)), to_xp(xp, np.int64(0)))


# ----------------------------------------------------------------------------- fenchel_young_loss


def _logsumexp(s):
    """A user's max function written with the Array API (any backend's arrays)."""
    xp = ml.array_namespace(s)
    m = xp.max(s, axis=-1, keepdims=True)
    return xp.log(xp.sum(xp.exp(s - m), axis=-1)) + xp.squeeze(m, axis=-1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_fenchel_young_of_logsumexp_is_softmax_cross_entropy(xp, reduction):
    x, p = to_xp(xp, SCORES), to_xp(xp, PROBS)
    want = ml.cross_entropy(x, p, reduction=reduction)
    xp_assert_close(ml.fenchel_young_loss(x, p, reduction=reduction), want, xp=xp)  # max_fun=None: log-sum-exp
    xp_assert_close(ml.fenchel_young_loss(x, p, _logsumexp, reduction=reduction), want, xp=xp)
    xp_assert_close(S.make_fenchel_young_loss(_logsumexp)(x, p, reduction=reduction), want, xp=xp)
    # integer targets: the labelled score instead of <y, z>
    xp_assert_close(ml.fenchel_young_loss(x, to_xp(xp, LABELS), reduction=reduction),
                    ml.cross_entropy(x, to_xp(xp, LABELS), reduction=reduction), xp=xp)


def test_fenchel_young_of_the_gini_max_is_multiclass_sparsemax(xp):
    x = to_xp(xp, SCORES3)
    got = ml.fenchel_young_loss(x, to_xp(xp, LABELS3), R.GINI, axis=1, reduction="none")
    xp_assert_close(got, ml.multiclass_sparsemax_loss(x, to_xp(xp, LABELS3), axis=1, reduction="none"), xp=xp)
    xp_assert_close(got, R.fenchel_young_loss(SCORES3, LABELS3, R.GINI, axis=1, reduction="none"))


def test_make_fenchel_young_loss_forwards_args_to_max_fun(xp):
    def smoothed_max(s, temperature, shift=0.0):
        return temperature * _logsumexp(s / temperature) + shift

    loss = S.make_fenchel_young_loss(smoothed_max)
    assert loss.__name__ == "fenchel_young_loss" and "smoothed_max" in loss.__doc__
    x, p = to_xp(xp, SCORES), to_xp(xp, PROBS)
    want = np.array([0.5 * np.logaddexp.reduce(z / 0.5) + 1.0 - z @ q for z, q in zip(SCORES, PROBS)])
    xp_assert_close(loss(x, p, 0.5, shift=1.0, reduction="none"), want, xp=xp)


def test_fenchel_young_gradient_is_the_argmax_minus_target(grad_backend):
    t = to_xp(grad_backend, PROBS)
    _, g = value_and_grad(grad_backend, lambda s: ml.fenchel_young_loss(s, t, reduction="none"), SCORES)
    softmax = np.exp(SCORES) / np.exp(SCORES).sum(-1, keepdims=True)
    np.testing.assert_allclose(g, softmax - PROBS, atol=1e-12)
    _, g = value_and_grad(grad_backend, lambda s: ml.fenchel_young_loss(s, t, R.GINI, reduction="none"), SCORES)
    np.testing.assert_allclose(g, _sparsemax_rows(SCORES) - PROBS, atol=1e-12)


def test_fenchel_young_with_a_torch_max_function():
    """The max function is the user's, in their framework: torch's autograd differentiates it."""
    require("torch")
    import torch

    x = torch.tensor(SCORES, requires_grad=True)
    p = torch.tensor(PROBS)
    loss = ml.fenchel_young_loss(x, p, lambda s: torch.logsumexp(s, dim=-1))
    ref = torch.nn.functional.cross_entropy(x, p)
    torch.testing.assert_close(loss, ref)
    (g,) = torch.autograd.grad(loss, x)
    (g_ref,) = torch.autograd.grad(ref, x)
    torch.testing.assert_close(g, g_ref)


def test_fenchel_young_errors(xp):
    x, p = to_xp(xp, SCORES), to_xp(xp, PROBS)
    with pytest.raises(TypeError, match=msg("fenchel_young_loss: argument 'max_fun' must be a callable", "got str")):
        ml.fenchel_young_loss(x, p, "logsumexp")
    with pytest.raises(ValueError, match=msg("fenchel_young_loss: argument 'max_fun' must return one value per score "
                                             "vector, shape (6,)", "got shape ()")):
        ml.fenchel_young_loss(x, p, lambda s: ml.array_namespace(s).max(s))  # reduces the whole batch
    with pytest.raises(ValueError, match=msg("fenchel_young_loss: argument 'target' must broadcast to the shape of "
                                             "'input' (6, 5); got shape (6, 4)")):
        ml.fenchel_young_loss(x, to_xp(xp, PROBS[:, :4]))
    with pytest.raises(ValueError, match=msg("fenchel_young_loss: argument 'target' must hold class indices in [0, 5)")):
        ml.fenchel_young_loss(x, to_xp(xp, LABELS + 1))
    with pytest.raises(ValueError, match=msg("fenchel_young_loss: argument 'axis' must be an int in [-2, 2)")):
        ml.fenchel_young_loss(x, p, axis=-3)
    with pytest.raises(TypeError, match=msg("make_fenchel_young_loss: argument 'max_fun' must be callable; got int")):
        S.make_fenchel_young_loss(3)


# ----------------------------------------------------------------------------- jax (optax)


def _jax_optax():
    require("jax")
    optax = pytest.importorskip("optax")
    import jax
    import jax.numpy as jnp

    import multiloss.jax as mj

    return jax, jnp, optax, mj


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
def test_jax_sparsemax_losses_equal_optax(dtype):
    jax, jnp, optax, mj = _jax_optax()
    tol = {"float64": 1e-12, "float32": 1e-6, "float16": 2e-3, "bfloat16": 1e-2}[dtype]

    def both(name, x, y):  # (value, gradient, per-example values) of ours and optax's, each one compile
        ours, theirs = getattr(mj, name), getattr(optax.losses, name)

        def run(a, b, f):
            v, g = jax.value_and_grad(lambda q: jnp.sum(f(q, b)).astype(jnp.float32))(a)
            return v, g, f(a, b)

        run = jax.jit(run, static_argnums=2)
        return [run(x, y, f) for f in (ours, theirs)]

    x = jnp.asarray(LOGITS, dtype)
    for y in (jnp.asarray(BINARY, dtype), jnp.asarray(BINARY, jnp.int32), jnp.asarray(BINARY[0])):
        (_, g1, o1), (_, g2, o2) = both("sparsemax_loss", x, y)
        assert o1.dtype == o2.dtype and o1.shape == o2.shape
        np.testing.assert_allclose(np.float64(o1), np.float64(o2), rtol=tol, atol=tol)
        np.testing.assert_allclose(np.float64(g1), np.float64(g2), rtol=tol, atol=tol)
    # optax's multiclass gradient raises below float64 under x64 (its JVP's tangent is float64):
    # float32 and below are compared with x64 off, values only in half precision (there its JVP
    # returns float32 tangents and raises too)
    with jax.enable_x64(dtype == "float64"):
        x, y = jnp.asarray(SCORES, dtype), jnp.asarray(LABELS)
        ours = mj.multiclass_sparsemax_loss(x, y)
        assert ours.dtype == x.dtype
        np.testing.assert_allclose(np.float64(ours), np.float64(optax.losses.multiclass_sparsemax_loss(x, y)),
                                   rtol=tol, atol=tol)
        if dtype in ("float64", "float32"):
            (_, g1, _), (_, g2, _) = both("multiclass_sparsemax_loss", x, y)  # (values compared above)
            np.testing.assert_allclose(np.float64(g1), np.float64(g2), rtol=tol, atol=tol)


def test_jax_sparsemax_losses_under_jit_and_their_errors():
    jax, jnp, optax, mj = _jax_optax()
    x, y = jnp.asarray(SCORES), jnp.asarray(LABELS)
    np.testing.assert_allclose(jax.jit(mj.multiclass_sparsemax_loss)(x, y),
                               optax.losses.multiclass_sparsemax_loss(x, y), rtol=1e-12)
    np.testing.assert_allclose(jax.jit(mj.sparsemax_loss)(jnp.asarray(LOGITS), jnp.asarray(BINARY)),
                               optax.losses.sparsemax_loss(jnp.asarray(LOGITS), jnp.asarray(BINARY)), rtol=1e-12)
    with pytest.raises(ValueError, match=msg("multiclass_sparsemax_loss: "
                                             "argument 'labels' must hold one class index per score vector, shape (6,)",
                                             "'scores' (6, 5)", "got (6, 1)")):
        mj.multiclass_sparsemax_loss(x, y[:, None])
    with pytest.raises(ValueError, match=msg("argument 'labels' must hold class indices in [0, 5)")):
        mj.multiclass_sparsemax_loss(x, y + 1)
    with pytest.raises(TypeError, match=msg("multiclass_sparsemax_loss", "argument 'labels' holds class indices")):
        mj.multiclass_sparsemax_loss(x, y.astype(jnp.float32))
    with pytest.raises(ValueError, match=msg("sparsemax_loss: argument 'labels' must "
                                             "broadcast to the shape of 'logits' (4,); got shape (4, 1)")):
        mj.sparsemax_loss(jnp.asarray(LOGITS[:, 0]), jnp.asarray(BINARY[:, :1]))
    with pytest.raises(ValueError, match=msg("sparsemax_loss", "argument 'labels' must hold binary labels")):
        mj.sparsemax_loss(jnp.asarray(LOGITS), jnp.asarray(BINARY) * 0.5)


def test_jax_make_fenchel_young_loss_equals_optax():
    jax, jnp, optax, mj = _jax_optax()
    from jax.scipy.special import logsumexp

    ours, theirs = mj.make_fenchel_young_loss(logsumexp), optax.losses.make_fenchel_young_loss(logsumexp)
    x3 = jnp.asarray(_rng.normal(size=(2, 3, 5)))
    for x, y in ((jnp.asarray(SCORES), jnp.asarray(PROBS)),  # (N, C)
                 (x3, jnp.asarray(PROBS[:3])),  # leading axes, targets broadcast over the first
                 (jnp.asarray(SCORES), jnp.asarray(np.eye(5, dtype=np.int32)[LABELS]))):  # integer one-hot
        v1, g1 = jax.value_and_grad(lambda a, y=y: ours(a, y).sum())(x)
        v2, g2 = jax.value_and_grad(lambda a, y=y: theirs(a, y).sum())(x)
        assert ours(x, y).shape == theirs(x, y).shape
        np.testing.assert_allclose(v1, v2, rtol=1e-12)
        np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-14)
    # the softmax cross-entropy, under jit too, and optax's extra keyword arguments reach max_fun
    x, y = jnp.asarray(SCORES), jnp.asarray(PROBS)
    np.testing.assert_allclose(jax.jit(ours)(x, y), optax.losses.softmax_cross_entropy(x, y), rtol=1e-12)

    def scaled(s, b=1.0):
        return logsumexp(s, b=b)

    np.testing.assert_allclose(mj.make_fenchel_young_loss(scaled)(x, y, b=2.0),
                               optax.losses.make_fenchel_young_loss(scaled)(x, y, b=2.0), rtol=1e-12)
    # float32
    x32, y32 = x.astype(jnp.float32), y.astype(jnp.float32)
    np.testing.assert_allclose(ours(x32, y32), theirs(x32, y32), rtol=1e-6)
    with pytest.raises(ValueError, match=msg("fenchel_young_loss (make_fenchel_young_loss): arguments 'scores' and "
                                             "'targets' must have one last (class) axis of the same length",
                                             "(6, 5) and (6, 4)")):
        ours(x, y[:, :4])
    with pytest.raises(TypeError, match=msg("fenchel_young_loss (make_fenchel_young_loss, multiloss.fenchel_young_loss)"
                                            ": argument 'scores' must be a real floating-point array")):
        ours(jnp.asarray(LABELS3), jnp.ones((2, 3)))
    with pytest.raises(TypeError, match=msg("make_fenchel_young_loss: argument 'max_fun' must be callable")):
        mj.make_fenchel_young_loss(None)


# ----------------------------------------------------------------------------- torch


def test_torch_forms():
    require("torch")
    import inspect

    import torch

    import multiloss.torch as mt

    assert str(inspect.signature(mt.SparsemaxLoss)) == "(*, reduction='mean')"
    assert str(inspect.signature(mt.MulticlassSparsemaxLoss)) == "(*, dim=1, reduction='mean')"
    assert str(inspect.signature(mt.FenchelYoungLoss)) == "(max_fun=None, *, dim=1, reduction='mean')"
    x3, y3 = torch.tensor(SCORES3), torch.tensor(LABELS3)
    for red in REDUCTIONS:
        want = _reduce(_multiclass_ref(SCORES3, LABELS3, axis=1), red)  # torch's class axis 1
        np.testing.assert_allclose(mt.MulticlassSparsemaxLoss(reduction=red)(x3, y3).numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(mt.functional.multiclass_sparsemax_loss(x3, y3, reduction=red).numpy(), want,
                                   rtol=1e-12)
        np.testing.assert_allclose(mt.SparsemaxLoss(reduction=red)(torch.tensor(LOGITS), torch.tensor(BINARY)).numpy(),
                                   R.sparsemax_loss(LOGITS, BINARY, reduction=red), rtol=1e-12)
    # a single (C,) score vector: dim=0, as torch.softmax(dim=0)
    np.testing.assert_allclose(mt.MulticlassSparsemaxLoss(dim=0)(torch.tensor(SCORES[0]), torch.tensor(LABELS[0])),
                               _multiclass_ref(SCORES[:1], LABELS[:1])[0], rtol=1e-12)
    with pytest.raises(ValueError, match=msg("multiclass_sparsemax_loss: argument 'axis' must be an int in [-1, 1)",
                                             "got 1")):
        mt.MulticlassSparsemaxLoss()(torch.tensor(SCORES[0]), torch.tensor(LABELS[0]))
    with pytest.raises(TypeError, match="MulticlassSparsemaxLoss: argument 'dim' must be an int"):
        mt.MulticlassSparsemaxLoss(dim=1.0)
    # FenchelYoungLoss with torch's logsumexp (and the default) is CrossEntropyLoss on probabilities
    x = torch.tensor(SCORES, requires_grad=True)
    p = torch.tensor(PROBS)
    ref = torch.nn.CrossEntropyLoss()(x, p)
    (g_ref,) = torch.autograd.grad(ref, x)
    for m in (mt.FenchelYoungLoss(lambda s: torch.logsumexp(s, -1)), mt.FenchelYoungLoss()):
        out = m(x, p)
        (g,) = torch.autograd.grad(out, x)
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(g, g_ref)
    torch.testing.assert_close(mt.functional.fenchel_young_loss(x, torch.tensor(LABELS), reduction="sum"),
                               torch.nn.functional.cross_entropy(x, torch.tensor(LABELS), reduction="sum"))


# ----------------------------------------------------------------------------- keras


def _keras():
    require("tensorflow")
    import keras
    import tensorflow as tf

    import multiloss.keras as mk

    return keras, tf, mk


def log_sum_exp_max(scores):
    """A max function written with keras.ops (registered for serialisation by _registered())."""
    import keras

    return keras.ops.logsumexp(scores, axis=-1)


_REGISTERED: list = []


def _registered():
    import keras

    if not _REGISTERED:
        _REGISTERED.append(keras.saving.register_keras_serializable(package="multiloss_tests")(log_sum_exp_max))
    return _REGISTERED[0]


def test_keras_sparsemax_forms():
    _, tf, mk = _keras()
    x, y = tf.constant(SCORES), tf.constant(LABELS)
    for red in ("sum_over_batch_size", "sum", "none"):
        want = {"sum_over_batch_size": np.mean, "sum": np.sum, "none": lambda v: v}[red](_multiclass_ref(SCORES, LABELS))
        got = mk.MulticlassSparsemaxLoss(reduction=red, dtype="float64")(y, x)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    # (N, 1) labels, keras's sparse-label convention; the function form; classes along axis 1
    np.testing.assert_allclose(mk.multiclass_sparsemax_loss(tf.constant(LABELS[:, None]), x).numpy(),
                               _multiclass_ref(SCORES, LABELS), rtol=1e-12)
    np.testing.assert_allclose(mk.multiclass_sparsemax_loss(tf.constant(LABELS3), tf.constant(SCORES3), axis=1).numpy(),
                               _multiclass_ref(SCORES3, LABELS3, axis=1), rtol=1e-12)
    # binary: keras averages the last axis, then reduces with sample_weight
    sw = np.array([0.5, 1.0, 2.0, 0.0])
    per_sample = R.sparsemax_loss(LOGITS, BINARY, reduction="none").mean(-1)
    got = mk.SparsemaxLoss(dtype="float64")(tf.constant(BINARY), tf.constant(LOGITS), sample_weight=tf.constant(sw))
    np.testing.assert_allclose(got.numpy(), (per_sample * sw).mean(), rtol=1e-12)
    np.testing.assert_allclose(mk.sparsemax_loss(BINARY, LOGITS).numpy(), per_sample, rtol=1e-12)
    with pytest.raises(ValueError, match=msg("sparsemax_loss: Arguments `y_true` and `y_pred` must have the same shape",
                                             "y_true.shape=(4, 2), y_pred.shape=(4, 3)")):
        mk.sparsemax_loss(BINARY[:, :2], LOGITS)
    with pytest.raises(ValueError, match=msg("multiclass_sparsemax_loss: the arguments look swapped")):
        mk.multiclass_sparsemax_loss(x, y)


def test_keras_fenchel_young_equals_categorical_crossentropy():
    keras, tf, mk = _keras()
    onehot = np.eye(5)[LABELS]
    sw = tf.constant([1.0, 0.5, 2.0, 0.0, 1.0, 1.5], dtype=tf.float64)
    x = tf.Variable(SCORES)
    grads = []
    for loss in (mk.FenchelYoungLoss(_registered(), dtype="float64"), mk.FenchelYoungLoss(dtype="float64"),
                 keras.losses.CategoricalCrossentropy(from_logits=True, dtype="float64")):
        with tf.GradientTape() as tape:
            v = loss(tf.constant(onehot), x, sample_weight=sw)
        grads.append((v.numpy(), tape.gradient(v, x).numpy()))
    for v, g in grads[:2]:
        np.testing.assert_allclose(v, grads[2][0], rtol=1e-12)
        np.testing.assert_allclose(g, grads[2][1], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mk.fenchel_young_loss(PROBS, SCORES, _registered()).numpy(),
                               R.fenchel_young_loss(SCORES, PROBS, R.LSE, reduction="none"), rtol=1e-12)
    with pytest.raises(ValueError, match=msg("FenchelYoungLoss: Arguments `y_true` (probabilities or one-hot labels) "
                                             "and `y_pred` (scores) must have the same shape",
                                             "y_true.shape=(6,), y_pred.shape=(6, 5)")):
        mk.FenchelYoungLoss()(tf.constant(LABELS), x)
    with pytest.raises(TypeError, match=msg("FenchelYoungLoss: argument `max_fun` must be a callable")):
        mk.FenchelYoungLoss(max_fun=3)
    with pytest.raises(ValueError, match=msg("FenchelYoungLoss: argument `axis` must be of type `int`")):
        mk.FenchelYoungLoss(axis="last")
    with pytest.raises(TypeError, match=msg("fenchel_young_loss: argument `max_fun` must be a callable")):
        mk.fenchel_young_loss(PROBS, SCORES, max_fun=[1])


def test_keras_fenchel_young_config_and_model_save(tmp_path):
    keras, _, mk = _keras()
    import os

    fn = _registered()
    loss = mk.FenchelYoungLoss(fn, reduction="sum", name="fy")
    config = loss.get_config()
    assert config["max_fun"]["config"] == "multiloss_tests>log_sum_exp_max"  # keras's form for a function
    again = mk.FenchelYoungLoss.from_config(config)
    assert again.max_fun is fn and again.reduction == "sum" and again.name == "fy"
    assert keras.losses.deserialize(keras.losses.serialize(loss)).max_fun is fn
    assert mk.FenchelYoungLoss.from_config(mk.FenchelYoungLoss().get_config()).max_fun is None
    # a compiled model reloads (the registered max function, the registered class)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    model.compile(optimizer="sgd", loss=loss)
    xs = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    ys = np.eye(3, dtype="float32")[np.arange(16) % 3]
    model.fit(xs, ys, epochs=1, verbose=0)
    path = os.fspath(tmp_path / "fy.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.loss) is mk.FenchelYoungLoss and loaded.loss.max_fun is fn
    np.testing.assert_allclose(loaded.evaluate(xs, ys, verbose=0), model.evaluate(xs, ys, verbose=0), rtol=1e-5)


# ----------------------------------------------------------------------------- catalogue


def test_catalogue_rows():
    from multiloss.catalogue import entry

    rows = {n: entry(n) for n in ("sparsemax_loss", "multiclass_sparsemax_loss", "fenchel_young_loss")}
    assert {n: (e.family, e.names("torch"), e.names("keras"), e.names("jax")) for n, e in rows.items()} == {
        "sparsemax_loss": ("structured", "SparsemaxLoss (extra)", "SparsemaxLoss (extra)", "sparsemax_loss"),
        "multiclass_sparsemax_loss": ("structured", "MulticlassSparsemaxLoss (extra)",
                                      "MulticlassSparsemaxLoss (extra)", "multiclass_sparsemax_loss"),
        "fenchel_young_loss": ("structured", "FenchelYoungLoss (extra)", "FenchelYoungLoss (extra)",
                               "make_fenchel_young_loss"),
    }
    assert S.HELPERS == ["make_fenchel_young_loss"] and "make_fenchel_young_loss" not in ml.losses.__all__
