"""Catalogue II batch and ranking losses: ``ntxent`` (optax), ``circle`` (keras) and
``ranking_softmax_loss`` (optax), on every installed namespace (``xp`` fixture), against
plain-Python loops written here, against the natives (``optax.losses.ntxent``,
``optax.losses.ranking_softmax_loss``, ``keras.losses.Circle`` / ``circle``), through the
three adapters (``multiloss.torch`` / ``keras`` / ``jax`` forms), under ``jit`` /
``tf.function``, and every error message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests_conftest import (
    msg,
    require,
    to_numpy,
    to_xp,
    value_and_grad,
    xp_assert_close,
)

import multiloss as ml

REDUCTIONS = ("none", "mean", "sum")

rng = np.random.default_rng(11)
EMB = rng.normal(size=(8, 5))
LABELS = np.array([0, 1, 0, 2, 1, 2, 0, 3])  # class 3 has one member: anchor 7 has no positive
# rows of norm 0.9: keras's Circle takes the embeddings as given (no kink of max(d, 0))
UNIT = 0.9 * EMB / np.linalg.norm(EMB, axis=1, keepdims=True)
REF = rng.normal(size=(6, 5))
REF = 0.9 * REF / np.linalg.norm(REF, axis=1, keepdims=True)
REF_LABELS = np.array([0, 1, 2, 4, 3, 0])
SCORES = rng.normal(scale=2.0, size=(6, 4))
RELEVANCE = rng.integers(0, 4, size=(6, 4)).astype(np.float64)
RELEVANCE[1] = 0.0
WHERE = rng.uniform(size=(6, 4)) < 0.7
WHERE[2] = False  # a list with no valid item
WHERE[4] = [True, True, True, True]
ITEM_W = rng.uniform(0.2, 2.0, size=(6, 4))


def call(xp, fn, *args, dtype=None, **kwargs):
    conv = lambda a: to_xp(xp, a, dtype) if isinstance(a, np.ndarray) else a  # noqa: E731
    return fn(*[conv(a) for a in args], **{k: conv(v) for k, v in kwargs.items()})


# ----------------------------------------------------------------------------- loops


def ntxent_loop(x, y, t=0.07):
    """(N, N) per-pair losses and the positive-pair count, from optax's formula."""
    n = len(y)
    u = [v / math.sqrt(max(float(v @ v), np.finfo(np.float64).eps)) for v in x]
    out, count = np.zeros((n, n)), 0
    for i in range(n):
        neg = sum(math.exp(float(u[i] @ u[k]) / t) for k in range(n) if y[k] != y[i])
        for j in range(n):
            if j != i and y[j] == y[i]:
                s = float(u[i] @ u[j]) / t
                out[i, j] = -(s - math.log(math.exp(s) + neg))
                count += 1
    return out, count


def circle_loop(x, y, ref=None, ref_y=None, gamma=80.0, margin=0.4, remove_diagonal=True, normalize=True):
    ref = x if ref is None else ref
    ref_y = y if ref_y is None else ref_y
    if normalize:
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    out = np.zeros(len(y))
    for i in range(len(y)):
        pos, neg = [], []
        for j in range(len(ref_y)):
            d = max(0.0, 1 - float(x[i] @ ref[j]))
            if y[i] == ref_y[j] and not (remove_diagonal and i == j):
                pos.append(-gamma * max(margin + d, 0) * (margin - d))
            elif y[i] != ref_y[j]:
                neg.append(gamma * max(1 + margin - d, 0) * (1 - margin - d))
        if pos and neg:
            out[i] = np.logaddexp(0, np.logaddexp.reduce(pos) + np.logaddexp.reduce(neg))
    return out


def nonzero_mean(v):
    k = int(np.sum(v > 0))
    return v.sum() / k if k else 0.0


def ranking_loop(s, y, where=None, weight=None):
    out = np.zeros(s.shape[0])
    for i in range(s.shape[0]):
        valid = [j for j in range(s.shape[1]) if where is None or where[i, j]]
        if valid:
            lse = math.log(sum(math.exp(s[i, j]) for j in valid))
            out[i] = -sum((1.0 if weight is None else weight[i, j]) * y[i, j] * (s[i, j] - lse) for j in valid)
    return out


# ----------------------------------------------------------------------------- ntxent


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ntxent_values(xp, reduction):
    pairs, count = ntxent_loop(EMB, LABELS)
    want = {"none": pairs, "sum": pairs.sum(), "mean": pairs.sum() / count}[reduction]
    got = call(xp, ml.ntxent, EMB, LABELS, reduction=reduction)
    xp_assert_close(got, want, rtol=1e-10, xp=xp)


def test_ntxent_float_labels_and_temperature(xp):
    pairs, count = ntxent_loop(EMB, LABELS, t=0.5)
    got = call(xp, ml.ntxent, EMB, LABELS.astype(np.float64), 0.5)
    xp_assert_close(got, pairs.sum() / count, rtol=1e-10)


def test_ntxent_equals_optax_value_and_gradient(grad_backend):
    require("jax")
    import jax
    import jax.numpy as jnp
    import optax

    lab = to_xp(grad_backend, LABELS)
    for t in (0.07, 0.5):
        want = optax.losses.ntxent(jnp.asarray(EMB), jnp.asarray(LABELS), t)
        want_g = jax.grad(lambda e, t=t: optax.losses.ntxent(e, jnp.asarray(LABELS), t))(jnp.asarray(EMB))
        v, g = value_and_grad(grad_backend, lambda e, t=t: ml.ntxent(e, lab, t), EMB)
        np.testing.assert_allclose(v, float(want), rtol=1e-12)
        np.testing.assert_allclose(g, np.asarray(want_g), rtol=1e-9, atol=1e-12)


def test_ntxent_float32_equals_optax():
    require("jax")
    import jax.numpy as jnp
    import optax

    import multiloss.jax as mj

    e, y = jnp.asarray(EMB, jnp.float32), jnp.asarray(LABELS)
    np.testing.assert_allclose(mj.ntxent(e, y), optax.losses.ntxent(e, y), rtol=2e-6)
    assert mj.ntxent(e, y).dtype == jnp.float32 and mj.ntxent(e, y).shape == ()


def test_ntxent_without_positive_pair_is_nan_with_zero_gradient(grad_backend):
    distinct = np.arange(8)
    lab = to_xp(grad_backend, distinct)
    v, g = value_and_grad(grad_backend, lambda e: ml.ntxent(e, lab), EMB)
    assert np.isnan(v)  # 0 / 0, as optax
    np.testing.assert_array_equal(g, 0.0)
    pairs = to_numpy(call(grad_backend, ml.ntxent, EMB, distinct, reduction="none"))
    np.testing.assert_array_equal(pairs, 0.0)


def test_ntxent_errors(xp):
    with pytest.raises(ValueError, match=msg("ntxent: argument 'target' must hold at least two classes",
                                             "got a single class, 2")):
        call(xp, ml.ntxent, EMB, np.full(8, 2))
    with pytest.raises(ValueError, match=msg("ntxent: argument 'target' must be a 1-D array with one label per "
                                             "embedding, shape (8,)", "got shape (7,)")):
        call(xp, ml.ntxent, EMB, LABELS[:7])
    with pytest.raises(ValueError, match=msg("ntxent: argument 'input' must be a 2-D array of embeddings",
                                             "got shape (8,)")):
        call(xp, ml.ntxent, EMB[:, 0], LABELS)
    with pytest.raises(ValueError, match=msg("ntxent: argument 'temperature' must be > 0; got 0.0")):
        call(xp, ml.ntxent, EMB, LABELS, 0.0)
    with pytest.raises(TypeError, match=msg("ntxent: argument 'input' must be a real floating-point array",
                                            "int64")):
        call(xp, ml.ntxent, LABELS.reshape(4, 2), LABELS[:4])
    with pytest.raises(ValueError, match=msg("ntxent: argument 'reduction' must be one of", "'batchmean'")):
        call(xp, ml.ntxent, EMB, LABELS, reduction="batchmean")


def test_ntxent_jax_form_names_optax_arguments():
    require("jax")
    import jax
    import jax.numpy as jnp

    import multiloss.jax as mj

    e = jnp.asarray(EMB)
    with pytest.raises(ValueError, match=msg("ntxent: argument 'labels' must hold at least two "
                                             "classes")):
        mj.ntxent(e, jnp.zeros(8, jnp.int32))
    with pytest.raises(ValueError, match=msg("argument 'labels' must be a 1-D array", "('embeddings' (8, 5))")):
        mj.ntxent(e, jnp.zeros(7, jnp.int32))
    # under jit the labels cannot be read: optax's own value for a single class (0)
    assert float(jax.jit(mj.ntxent)(e, jnp.zeros(8, jnp.int32))) == 0.0
    np.testing.assert_allclose(jax.jit(mj.ntxent)(e, jnp.asarray(LABELS)), mj.ntxent(e, jnp.asarray(LABELS)),
                               rtol=1e-12)


# ----------------------------------------------------------------------------- circle


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("normalize", [True, False])
def test_circle_values(xp, reduction, normalize):
    per = circle_loop(UNIT, LABELS, normalize=normalize)
    assert per[7] == 0.0 and np.all(per[:7] > 0)  # anchor 7 has no positive: 0, out of the mean
    want = {"none": per, "sum": per.sum(), "mean": nonzero_mean(per)}[reduction]
    got = call(xp, ml.circle, UNIT, LABELS, normalize=normalize, reduction=reduction)
    xp_assert_close(got, want, rtol=1e-10, xp=xp)


def test_circle_options_and_references(xp):
    for kw in ({"remove_diagonal": False}, {"gamma": 30.0, "margin": 0.25}, {"gamma": 4, "margin": 0.0}):
        xp_assert_close(call(xp, ml.circle, UNIT, LABELS, reduction="none", **kw), circle_loop(UNIT, LABELS, **kw),
                        rtol=1e-10)
    want = circle_loop(UNIT, LABELS, REF, REF_LABELS)
    got = call(xp, ml.circle, UNIT, LABELS, reduction="none", ref_embeddings=REF, ref_labels=REF_LABELS)
    xp_assert_close(got, want, rtol=1e-10)
    assert want[7] > 0  # the reference set gives anchor 7 a positive
    # ref_labels alone: the batch's own embeddings under other labels
    other = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    xp_assert_close(call(xp, ml.circle, UNIT, LABELS, reduction="none", ref_labels=other),
                    circle_loop(UNIT, LABELS, None, other), rtol=1e-10)


def test_circle_normalize_makes_it_scale_free(xp):
    a = call(xp, ml.circle, 3.0 * EMB, LABELS, reduction="none")
    b = call(xp, ml.circle, EMB, LABELS, reduction="none")
    xp_assert_close(a, to_numpy(b), rtol=1e-10)


def test_circle_gradient_of_zero_loss_anchors_is_finite(grad_backend):
    lab = to_xp(grad_backend, np.array([0, 1, 2, 3, 4, 5, 6, 7]))  # no positive anywhere
    v, g = value_and_grad(grad_backend, lambda e: ml.circle(e, lab), EMB)
    assert float(v) == 0.0
    np.testing.assert_array_equal(g, 0.0)


def test_circle_errors(xp):
    with pytest.raises(ValueError, match=msg("circle: argument 'gamma' must be > 0", "got -1.0")):
        call(xp, ml.circle, UNIT, LABELS, gamma=-1.0)
    with pytest.raises(ValueError, match=msg("circle: argument 'ref_embeddings' must be (M, 5)", "got shape (6, 4)")):
        call(xp, ml.circle, UNIT, LABELS, ref_embeddings=REF[:, :4], ref_labels=REF_LABELS)
    with pytest.raises(ValueError, match=msg("circle: argument 'target' must hold one label per reference embedding, "
                                             "shape (6,)", "pass 'ref_labels'")):
        call(xp, ml.circle, UNIT, LABELS, ref_embeddings=REF)
    with pytest.raises(ValueError, match=msg("circle: argument 'ref_labels' must hold one label per reference "
                                             "embedding, shape (6,); got shape (5,)")):
        call(xp, ml.circle, UNIT, LABELS, ref_embeddings=REF, ref_labels=REF_LABELS[:5])
    with pytest.raises(ValueError, match=msg("circle: argument 'target' must be a 1-D array", "got shape (8, 1)")):
        call(xp, ml.circle, UNIT, LABELS[:, None])
    with pytest.raises(TypeError, match=msg("circle: argument 'ref_embeddings' must be a real floating-point")):
        call(xp, ml.circle, UNIT, LABELS, ref_embeddings=REF_LABELS.reshape(6, 1), ref_labels=REF_LABELS)
    with pytest.raises(TypeError, match=msg("circle: argument 'margin' must be a real number; got str")):
        call(xp, ml.circle, UNIT, LABELS, margin="0.4")


def _keras():
    require("tensorflow")
    import keras
    import tensorflow as tf

    import multiloss.keras as mk

    return keras, tf, mk


@pytest.mark.parametrize("kw", [{}, {"remove_diagonal": False}, {"gamma": 30.0, "margin": 0.25},
                                {"reduction": "sum"}, {"reduction": "none"}, {"reduction": "mean_with_sample_weight"}])
def test_circle_keras_class_equals_keras(kw):
    keras, tf, mk = _keras()
    y, e = tf.constant(LABELS), tf.Variable(UNIT)
    out = []
    for cls in (mk.Circle, keras.losses.Circle):
        with tf.GradientTape() as tape:
            v = cls(dtype="float64", **kw)(y, e, sample_weight=tf.constant(np.linspace(0.5, 1.5, 8)))
        out.append((v.numpy(), tape.gradient(v, e).numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-12)


def test_circle_keras_function_equals_keras_with_references():
    keras, tf, mk = _keras()
    import inspect

    assert [(p.name, p.default) for p in inspect.signature(mk.circle).parameters.values()] == [
        (p.name, p.default) for p in inspect.signature(keras.losses.circle).parameters.values()]
    y, e = tf.constant(LABELS), tf.constant(UNIT)
    for kw in ({}, {"ref_labels": tf.constant(REF_LABELS), "ref_embeddings": tf.constant(REF)},
               {"ref_labels": REF_LABELS, "ref_embeddings": REF, "gamma": 20, "remove_diagonal": False}):
        np.testing.assert_allclose(mk.circle(y, e, **kw).numpy(), keras.losses.circle(y, e, **kw).numpy(), rtol=1e-12)
    # keras's default reduction averages the anchors whose loss is nonzero (its mask)
    want = nonzero_mean(circle_loop(UNIT, LABELS, normalize=False))
    np.testing.assert_allclose(float(mk.Circle(dtype="float64")(y, e)), want, rtol=1e-12)
    np.testing.assert_allclose(float(keras.losses.Circle(dtype="float64")(y, e)), want, rtol=1e-12)
    # the torch extra's 'mean' on unit-norm input is the same number
    np.testing.assert_allclose(float(ml.circle(UNIT, LABELS, normalize=False)), want, rtol=1e-12)


def test_circle_keras_under_tf_function_and_float_labels():
    keras, tf, mk = _keras()
    y, e = tf.constant(LABELS.astype(np.float32)), tf.constant(UNIT.astype(np.float32))
    f = tf.function(lambda a, b: mk.Circle()(a, b))
    np.testing.assert_allclose(f(y, e).numpy(), keras.losses.Circle()(y, e).numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="Circle: the arguments look swapped"):
        mk.Circle()(e, tf.constant(LABELS))


# ----------------------------------------------------------------------------- ranking_softmax_loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ranking_softmax_values(xp, reduction):
    per = ranking_loop(SCORES, RELEVANCE)
    want = {"none": per, "sum": per.sum(), "mean": per.mean()}[reduction]
    xp_assert_close(call(xp, ml.ranking_softmax_loss, SCORES, RELEVANCE, reduction=reduction), want, rtol=1e-10, xp=xp)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ranking_softmax_where_and_weight(xp, reduction):
    per = ranking_loop(SCORES, RELEVANCE, WHERE, ITEM_W)
    assert per[2] == 0.0
    valid = WHERE.any(axis=1)
    want = {"none": per, "sum": per.sum(), "mean": per[valid].mean()}[reduction]
    got = call(xp, ml.ranking_softmax_loss, SCORES, RELEVANCE, where=WHERE, weight=ITEM_W, reduction=reduction)
    xp_assert_close(got, want, rtol=1e-10)
    # a float 0/1 mask is the same mask; every list masked: mean 0 (optax's _safe_reduce)
    got = call(xp, ml.ranking_softmax_loss, SCORES, RELEVANCE, where=WHERE.astype(np.float64), weight=ITEM_W,
               reduction=reduction)
    xp_assert_close(got, want, rtol=1e-10)
    none = np.zeros_like(WHERE)
    xp_assert_close(call(xp, ml.ranking_softmax_loss, SCORES, RELEVANCE, where=none, reduction=reduction),
                    {"none": np.zeros(6), "sum": 0.0, "mean": 0.0}[reduction], atol=0)


def test_ranking_softmax_single_list_and_broadcast_labels(xp):
    xp_assert_close(call(xp, ml.ranking_softmax_loss, SCORES[0], RELEVANCE[0]), ranking_loop(SCORES[:1], RELEVANCE[:1])[0],
                    rtol=1e-10)
    lab = RELEVANCE[0]  # one label vector for every list
    xp_assert_close(call(xp, ml.ranking_softmax_loss, SCORES, lab, reduction="none"),
                    ranking_loop(SCORES, np.broadcast_to(lab, SCORES.shape)), rtol=1e-10)


@pytest.mark.parametrize("xp", ["numpy", "torch", "jax", "tensorflow"])  # array_api_strict has no float16
def test_ranking_softmax_float16_masked_logits_stay_finite(xp):
    require(xp)
    # float16 (max 65504): large scores beside the masked ones, and a list masked but for one item
    s = np.array([[20.0, 1.0, -3.0], [0.5, 30.0, 2.0]])
    where = np.array([[True, True, False], [False, True, True]])
    y = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, 0.0]])
    got = to_numpy(call(xp, ml.ranking_softmax_loss, s, y, where=where, reduction="none", dtype=np.float16))
    np.testing.assert_allclose(got.astype(np.float64), ranking_loop(s, y, where), rtol=2e-3, atol=1e-3)


def test_ranking_softmax_gradient_of_masked_items_is_zero(grad_backend):
    where = to_xp(grad_backend, WHERE)
    lab = to_xp(grad_backend, RELEVANCE)
    _, g = value_and_grad(grad_backend, lambda s: ml.ranking_softmax_loss(s, lab, where=where), SCORES)
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[~WHERE], 0.0)


def test_ranking_softmax_errors(xp):
    fn = ml.ranking_softmax_loss
    with pytest.raises(ValueError, match=msg("ranking_softmax_loss: argument 'input' must have a list axis",
                                             "got a 0-d array")):
        call(xp, fn, np.array(1.0), np.array(1.0))
    with pytest.raises(ValueError, match=msg("ranking_softmax_loss: argument 'target' must broadcast to the shape "
                                             "of 'input' (6, 4); got shape (6, 3)")):
        call(xp, fn, SCORES, RELEVANCE[:, :3])
    with pytest.raises(ValueError, match=msg("argument 'where' must broadcast to the shape of 'input' (6, 4)",
                                             "(2, 6, 4)")):
        call(xp, fn, SCORES, RELEVANCE, where=np.stack([WHERE, WHERE]))
    with pytest.raises(ValueError, match=msg("argument 'weight' must broadcast to the shape of 'input' (6, 4)",
                                             "got shape (5,)")):
        call(xp, fn, SCORES, RELEVANCE, weight=np.ones(5))
    with pytest.raises(TypeError, match=msg("ranking_softmax_loss: argument 'input' must be a real floating-point",
                                            "int64")):
        call(xp, fn, RELEVANCE.astype(np.int64), RELEVANCE)
    with pytest.raises(ValueError, match=msg("ranking_softmax_loss: argument 'reduction' must be one of", "'avg'")):
        call(xp, fn, SCORES, RELEVANCE, reduction="avg")


def test_ranking_softmax_jax_form_equals_optax():
    require("jax")
    import jax
    import jax.numpy as jnp
    import optax

    import multiloss.jax as mj

    s, y = jnp.asarray(SCORES), jnp.asarray(RELEVANCE)
    for kw in ({}, {"where": WHERE}, {"reduce_fn": None}, {"reduce_fn": jnp.sum, "where": WHERE},
               {"reduce_fn": None, "where": WHERE}, {"weights": ITEM_W}, {"weights": ITEM_W, "where": WHERE},
               {"where": np.zeros_like(WHERE)}, {"where": np.zeros_like(WHERE), "reduce_fn": jnp.sum}):
        kw = {k: jnp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}

        def ours(x, kw=kw):
            return jnp.sum(mj.ranking_softmax_loss(x, y, **kw))

        def theirs(x, kw=kw):
            return jnp.sum(optax.losses.ranking_softmax_loss(x, y, **kw))

        np.testing.assert_allclose(ours(s), theirs(s), rtol=1e-12, err_msg=str(kw))
        np.testing.assert_allclose(jax.grad(ours)(s), jax.grad(theirs)(s), rtol=1e-10, atol=1e-14, err_msg=str(kw))
        np.testing.assert_allclose(jax.jit(ours)(s), theirs(s), rtol=1e-12, err_msg=str(kw))
    # optax's docstring example
    np.testing.assert_allclose(mj.ranking_softmax_loss(jnp.array([2.0, 1.0, 3.0]), jnp.array([1.0, 0.0, 0.0])),
                               1.4076059644443801, rtol=1e-12)
    # a NumPy mask works (converted), and errors name optax's arguments
    np.testing.assert_allclose(mj.ranking_softmax_loss(s, y, where=WHERE), optax.losses.ranking_softmax_loss(
        s, y, where=jnp.asarray(WHERE)), rtol=1e-12)
    with pytest.raises(ValueError, match=msg("ranking_softmax_loss: argument "
                                             "'labels' must broadcast to the shape of 'logits'")):
        mj.ranking_softmax_loss(s, y[:, :3])


# ----------------------------------------------------------------------------- adapters


def test_torch_extras():
    require("torch")
    import inspect

    import torch

    import multiloss.torch as mt

    e, y = torch.from_numpy(UNIT), torch.from_numpy(LABELS)
    for red in REDUCTIONS:
        torch.testing.assert_close(mt.NTXentLoss(temperature=0.5, reduction=red)(e, y),
                                   ml.ntxent(e, y, 0.5, reduction=red))
        torch.testing.assert_close(mt.CircleLoss(gamma=30.0, reduction=red)(e, y),
                                   torch.as_tensor(ml.circle(UNIT, LABELS, gamma=30.0, reduction=red)))
        torch.testing.assert_close(mt.RankingSoftmaxLoss(reduction=red)(torch.from_numpy(SCORES), torch.from_numpy(RELEVANCE)),
                                   torch.as_tensor({"none": ranking_loop(SCORES, RELEVANCE), "mean": ranking_loop(SCORES, RELEVANCE).mean(),
                                                    "sum": ranking_loop(SCORES, RELEVANCE).sum()}[red]))
    F = mt.functional
    torch.testing.assert_close(F.circle_loss(e, y, ref_embeddings=torch.from_numpy(REF),
                                             ref_labels=torch.from_numpy(REF_LABELS), normalize=False, reduction="none"),
                               torch.from_numpy(circle_loop(UNIT, LABELS, REF, REF_LABELS, normalize=False)))
    got = F.ranking_softmax_loss(torch.from_numpy(SCORES), torch.from_numpy(RELEVANCE), where=torch.from_numpy(WHERE),
                                 weight=torch.from_numpy(ITEM_W), reduction="none")
    torch.testing.assert_close(got, torch.from_numpy(ranking_loop(SCORES, RELEVANCE, WHERE, ITEM_W)))
    torch.testing.assert_close(F.ntxent_loss(e, y), ml.ntxent(e, y))
    # torch style: options keyword-only, reduction checked at construction
    for cls in (mt.NTXentLoss, mt.CircleLoss, mt.RankingSoftmaxLoss):
        assert all(p.kind is p.KEYWORD_ONLY for p in inspect.signature(cls).parameters.values())
        with pytest.raises(ValueError, match=f"{cls.__name__}: argument 'reduction'"):
            cls(reduction="batchmean")
    with pytest.raises(TypeError):
        mt.NTXentLoss(0.5)
    with pytest.raises(ValueError, match="ntxent: argument 'target' must hold at least two classes"):
        mt.NTXentLoss()(e, torch.zeros(8, dtype=torch.int64))


def test_keras_extras_equal_the_optax_numbers():
    _, tf, mk = _keras()
    require("jax")
    import jax.numpy as jnp
    import optax

    e, y = tf.constant(EMB), tf.constant(LABELS)
    want = float(optax.losses.ntxent(jnp.asarray(EMB), jnp.asarray(LABELS)))
    np.testing.assert_allclose(float(mk.NTXent(dtype="float64")(y, e)), want, rtol=1e-12)
    per = mk.ntxent(y, e)
    assert per.shape == (8,)
    np.testing.assert_allclose(float(tf.reduce_mean(per)), want, rtol=1e-12)
    np.testing.assert_allclose(float(mk.NTXent(temperature=0.5, dtype="float64")(y, e)),
                               float(optax.losses.ntxent(jnp.asarray(EMB), jnp.asarray(LABELS), 0.5)), rtol=1e-12)
    s, r = tf.constant(SCORES), tf.constant(RELEVANCE)
    np.testing.assert_allclose(float(mk.RankingSoftmax(dtype="float64")(r, s)),
                               float(optax.losses.ranking_softmax_loss(jnp.asarray(SCORES), jnp.asarray(RELEVANCE))),
                               rtol=1e-12)
    np.testing.assert_allclose(mk.ranking_softmax(r, s).numpy(), ranking_loop(SCORES, RELEVANCE), rtol=1e-12)
    with pytest.raises(ValueError, match="ranking_softmax: Arguments `y_true` and `y_pred` must have the same shape"):
        mk.ranking_softmax(r[:, :3], s)


def test_keras_fit_with_circle_and_ntxent(tmp_path):
    keras, _, mk = _keras()
    import os
    keras.utils.set_random_seed(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (np.arange(64) % 4).astype("int32")
    x[np.arange(64), y] += 2.0
    for loss in (mk.Circle(gamma=16.0), mk.NTXent(temperature=0.5)):
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8), keras.layers.UnitNormalization()])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
        hist = model.fit(x, y, epochs=5, batch_size=32, shuffle=False, verbose=0).history["loss"]
        assert np.all(np.isfinite(hist)) and hist[-1] < hist[0], (type(loss).__name__, hist)
        path = os.fspath(tmp_path / f"{type(loss).__name__}.keras")
        model.save(path)
        loaded = keras.models.load_model(path)  # no custom_objects: the classes are registered
        assert type(loaded.loss) is type(loss) and loaded.loss.get_config() == loss.get_config()
        np.testing.assert_allclose(loaded.evaluate(x, y, batch_size=32, verbose=0),
                                   model.evaluate(x, y, batch_size=32, verbose=0), rtol=1e-5)


def test_bfloat16_on_tensorflow():
    # the TF namespace's finfo knows bfloat16 (ml_dtypes'), which the masked log-sum-exps read
    require("tensorflow")
    import tensorflow as tf

    from multiloss.backends import tensorflow_namespace as tnp

    assert tnp.finfo(tf.bfloat16).eps == 2.0**-7 and tnp.finfo(tf.bfloat16).bits == 16
    bf = lambda a: tf.cast(tf.constant(a), tf.bfloat16)  # noqa: E731
    got = ml.ntxent(bf(EMB), tf.constant(LABELS), 0.5)
    pairs, count = ntxent_loop(EMB, LABELS, t=0.5)
    assert got.dtype == tf.bfloat16
    np.testing.assert_allclose(float(got), pairs.sum() / count, rtol=3e-2)
    np.testing.assert_allclose(tf.cast(ml.circle(bf(UNIT), tf.constant(LABELS), gamma=4.0, reduction="none"), tf.float64),
                               circle_loop(UNIT, LABELS, gamma=4.0), rtol=5e-2, atol=2e-2)
    np.testing.assert_allclose(float(ml.ranking_softmax_loss(bf(SCORES), bf(RELEVANCE), where=tf.constant(WHERE))),
                               ranking_loop(SCORES, RELEVANCE, WHERE)[WHERE.any(axis=1)].mean(), rtol=3e-2)
