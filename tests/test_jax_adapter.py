"""multiloss.jax: optax names and semantics, conformance to optax, and purity under every
JAX transformation (jit, grad, value_and_grad, vmap) for every function.

float64 is switched on here with ``jax.config.update`` (harmless for the other test modules,
which ask for it too); float32 is checked by the conformance cells.
"""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pytest

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402

import multiloss.jax as mj  # noqa: E402
from multiloss.conformance import runner  # noqa: E402
from multiloss.conformance.backends import BACKENDS  # noqa: E402

BACKENDS["jax"].setup()

# ----------------------------------------------------------------------------- conformance

# Every native case runs, one id per cell, in conformance/test_conformance.py; here: coverage.


def test_every_optax_twin_has_conformance_cases():
    twins = {e.name for e in mj.TABLE if e.optax}
    covered = {c.name for c in runner.native_cases("jax")}
    assert twins == covered
    for e in mj.TABLE:
        if e.optax:
            assert hasattr(optax.losses, e.optax), e.optax


# ----------------------------------------------------------------------------- inputs

_rng = np.random.default_rng(0)
_X = _rng.normal(size=(4, 5))
_T = _rng.normal(size=(4, 5))
_BIN = (_rng.uniform(size=(4, 5)) < 0.5).astype(np.float64)
_PM = np.where(_rng.uniform(size=(4, 5)) < 0.5, 1.0, -1.0)
_PROBS = _rng.uniform(0.05, 0.95, size=(4, 5))
_LABELS = np.array([0, 3, 1, 4])


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


_Q = _softmax(_T)

# name -> (prediction, target, optax twin or None); every function of the adapter is here
INPUTS = {
    "squared_error": (_X, _T),
    "l2_loss": (_X, _T),
    "l1_loss": (_X, _T),
    "huber_loss": (_X, _T),
    "mean_absolute_percentage_error": (_X, _T + np.sign(_T)),
    "sigmoid_binary_cross_entropy": (_X, _BIN),
    "sigmoid_focal_loss": (_X, _BIN),
    "focal_loss": (_PROBS, _BIN),
    "hinge_loss": (_X, _PM),
    "softmax_cross_entropy": (_X, _Q),
    "softmax_cross_entropy_with_integer_labels": (_X, _LABELS),
    "sce_loss": (_X, _LABELS),
    "kl_divergence": (np.log(_softmax(_X)), _Q),
    "kl_divergence_with_log_targets": (np.log(_softmax(_X)), np.log(_Q)),
    "cosine_similarity": (_X, _T),
    "cosine_distance": (_X, _T),
}
LOSSES = sorted(INPUTS)
PARAMS = {"dense": {"kernel": _X[:3], "bias": _T[0]}, "out": [_T[1:3], {"bias": _X[3]}]}


def _args(name):
    p, t = INPUTS[name]
    return jnp.asarray(p), jnp.asarray(t)


def _params():
    return jax.tree_util.tree_map(jnp.asarray, PARAMS)


def _domain_args(name):
    """The arrays of a row's first native check (or, for an extra, of its canonical loss's
    first conformance case): the rows of more than two arrays get theirs from there."""
    from multiloss.conformance import domains, runner

    entry = {e.name: e for e in mj.TABLE}[name]
    domain = entry.checks[0].domain if entry.checks else next(
        c.domain for c in runner.canonical_cases() if c.loss == entry.canonical)
    data = domains.make(domain)
    return tuple(jnp.asarray(a) for a in (data["pred"], data["target"], *data.get("args", ())))


# every other row (losses of three or more arrays, later families): jit and grad on its domain
DERIVED = sorted(e.name for e in mj.TABLE if e.name not in INPUTS)


def test_inputs_cover_every_function():
    assert set(LOSSES) | set(DERIVED) == {e.name for e in mj.TABLE}
    assert set(LOSSES) <= set(mj.__all__)
    assert set(mj.__all__) >= set(DERIVED) | {"l1_penalty", "l2_penalty", "default_exclude", "TABLE"}


@pytest.mark.parametrize("name", DERIVED)
def test_jit_and_grad_on_its_domain(name):
    f = getattr(mj, name)
    args = _domain_args(name)
    eager = f(*args)
    np.testing.assert_allclose(jax.jit(f)(*args), eager, rtol=1e-10, atol=1e-12)
    g = jax.grad(lambda p: jnp.sum(f(p, *args[1:])))(args[0])
    assert g.shape == args[0].shape and bool(jnp.all(jnp.isfinite(g)))


def _fd_grad(f, x, h=1e-6):
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (float(jnp.sum(f(jnp.asarray(xp)))) - float(jnp.sum(f(jnp.asarray(xm))))) / (2 * h)
    return g


def _want_grad(name, p, t):
    """optax's gradient where it has the twin, else central finite differences."""
    entry = {e.name: e for e in mj.TABLE}[name]
    if entry.optax:
        native = getattr(optax.losses, entry.optax)
        return jax.grad(lambda q: jnp.sum(native(q, t)))(p)
    return _fd_grad(lambda q: getattr(mj, name)(q, t), p)


# ----------------------------------------------------------------------------- transforms


@pytest.mark.parametrize("name", LOSSES)
def test_jit(name):
    f = getattr(mj, name)
    p, t = _args(name)
    eager = f(p, t)
    np.testing.assert_allclose(jax.jit(f)(p, t), eager, rtol=1e-12, atol=1e-14)
    assert eager.shape == (4,) or eager.shape == (4, 5)


@pytest.mark.parametrize("name", LOSSES)
def test_grad(name):
    f = getattr(mj, name)
    p, t = _args(name)
    g = jax.grad(lambda q: jnp.sum(f(q, t)))(p)
    np.testing.assert_allclose(g, _want_grad(name, p, t), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", LOSSES)
def test_value_and_grad_under_jit(name):
    f = getattr(mj, name)
    p, t = _args(name)
    v, g = jax.jit(jax.value_and_grad(lambda q, u: jnp.mean(f(q, u))))(p, t)
    np.testing.assert_allclose(v, jnp.mean(f(p, t)), rtol=1e-12)
    np.testing.assert_allclose(g, jax.grad(lambda q: jnp.mean(f(q, t)))(p), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", LOSSES)
def test_vmap_over_examples(name):
    """vmap over the batch axis gives the batched call's rows (1-D logits + scalar label for
    the class losses: the canonical class axis 0)."""
    f = getattr(mj, name)
    p, t = _args(name)
    np.testing.assert_allclose(jax.vmap(f)(p, t), f(p, t), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jax.jit(jax.vmap(f))(p, t), f(p, t), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", LOSSES)
def test_traced_program_has_no_host_callback(name):
    f = getattr(mj, name)
    jaxpr = str(jax.make_jaxpr(lambda q, u: jax.value_and_grad(lambda r: jnp.sum(f(r, u)))(q))(*_args(name)))
    assert "callback" not in jaxpr


# hyper-parameters passed as jit *arguments* are tracers: no Python branch may read them
_TRACED_HYPER = {
    "huber_loss": {"delta": 0.5},
    "sigmoid_focal_loss": {"alpha": 0.25, "gamma": 1.5},
    "focal_loss": {"alpha": 0.6, "gamma": 1.5},
    "cosine_similarity": {"epsilon": 1e-3},
    "cosine_distance": {"epsilon": 1e-3},
    "mean_absolute_percentage_error": {"epsilon": 1e-3},
    "sce_loss": {"alpha": 0.3, "beta": 0.5},
}


@pytest.mark.parametrize("name", sorted(_TRACED_HYPER))
def test_traced_hyperparameters(name):
    f = getattr(mj, name)
    p, t = _args(name)
    hyper = _TRACED_HYPER[name]
    got = jax.jit(lambda q, u, h: f(q, u, **h))(p, t, {k: jnp.asarray(v) for k, v in hyper.items()})
    np.testing.assert_allclose(got, f(p, t, **hyper), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("penalty", ["l1_penalty", "l2_penalty"])
def test_penalties_under_every_transform(penalty):
    f = getattr(mj, penalty)
    params = _params()
    eager = f(params, 0.1)
    np.testing.assert_allclose(jax.jit(f)(params, 0.1), eager, rtol=1e-12)
    np.testing.assert_allclose(jax.jit(f)(params, jnp.asarray(0.1)), eager, rtol=1e-12)  # traced alpha
    g = jax.grad(f)(params, 0.1)
    k = np.asarray(params["dense"]["kernel"])
    want_k = 0.1 * (np.sign(k) if penalty == "l1_penalty" else 2 * k)
    np.testing.assert_allclose(g["dense"]["kernel"], want_k, rtol=1e-12)
    np.testing.assert_array_equal(g["dense"]["bias"], 0.0)  # excluded by default
    np.testing.assert_array_equal(g["out"][1]["bias"], 0.0)
    v, g2 = jax.jit(jax.value_and_grad(f))(params, 0.1)
    np.testing.assert_allclose(v, eager, rtol=1e-12)
    np.testing.assert_allclose(g2["out"][0], g["out"][0], rtol=1e-12)
    stacked = jax.tree_util.tree_map(lambda a: jnp.stack([a, 2 * a]), params)
    per = jax.vmap(lambda pr: f(pr, 0.1))(stacked)
    scale = 2.0 if penalty == "l1_penalty" else 4.0
    np.testing.assert_allclose(per, [eager, scale * eager], rtol=1e-12)


# ----------------------------------------------------------------------------- optax semantics


def _sig(f):
    return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]


@pytest.mark.parametrize("entry", [e for e in mj.TABLE if e.optax], ids=lambda e: e.name)
def test_signature_is_optax(entry):
    assert _sig(getattr(mj, entry.name)) == _sig(getattr(optax.losses, entry.optax))


@pytest.mark.parametrize("name", LOSSES + ["l1_penalty", "l2_penalty"])
def test_docstring_and_name(name):
    f = getattr(mj, name)
    assert f.__name__ == name and f.__module__ == "multiloss.jax"
    assert "multiloss." in f.__doc__ and len(f.__doc__) > 100


@pytest.mark.parametrize("name", ["squared_error", "l2_loss", "huber_loss"])
def test_targets_none_means_zeros(name):
    p = jnp.asarray(_X)
    np.testing.assert_allclose(getattr(mj, name)(p), getattr(optax.losses, name)(p), rtol=1e-12)
    np.testing.assert_allclose(getattr(mj, name)(p), getattr(mj, name)(p, jnp.zeros_like(p)), rtol=1e-12)


def test_l2_loss_is_half_squared_error_and_l1_loss():
    p, t = _args("squared_error")
    np.testing.assert_allclose(mj.l2_loss(p, t), 0.5 * mj.squared_error(p, t), rtol=1e-14)
    np.testing.assert_allclose(mj.l1_loss(p, t), np.abs(_X - _T), rtol=1e-14)
    np.testing.assert_allclose(mj.l1_loss(p), np.abs(_X), rtol=1e-14)


def test_integer_labels_tuple_axis_like_optax_docstring():
    shape = (1, 2, 3, 4)
    logits = jnp.arange(np.prod(shape), dtype=jnp.float32).reshape(shape)
    labels = jnp.ravel_multi_index((jnp.array([[1, 2]]), jnp.array([[1, 3]])), shape[2:])
    got = mj.softmax_cross_entropy_with_integer_labels(logits, labels, axis=(2, 3))
    np.testing.assert_allclose(got, [[6.4587, 0.4587]], atol=1e-4)
    want = optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels, axis=(2, 3))
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # a tuple of axes in another order, and a non-trailing single axis
    x = jnp.asarray(_rng.normal(size=(3, 4, 2, 5)))
    lab = jnp.asarray(_rng.integers(0, 8, size=(3, 5)))
    for axis in ((1, 2), (2, 1)):
        np.testing.assert_allclose(
            mj.softmax_cross_entropy_with_integer_labels(x, lab, axis=axis),
            optax.losses.softmax_cross_entropy_with_integer_labels(x, lab, axis=axis), rtol=1e-12)


def test_softmax_cross_entropy_axes_and_label_forms():
    x = jnp.asarray(_rng.normal(size=(3, 4, 5)))
    q = jnp.asarray(_softmax(_rng.normal(size=(3, 4, 5))))
    for axis in (-1, 0, 1, (1, 2), None):
        np.testing.assert_allclose(mj.softmax_cross_entropy(x, q, axis=axis),
                                   optax.losses.softmax_cross_entropy(x, q, axis=axis), rtol=1e-12)
    # integer one-hot labels are probabilities here (not class indices), broadcast labels too
    hot = jax.nn.one_hot(jnp.asarray(_LABELS), 5, dtype=jnp.int32)
    np.testing.assert_allclose(mj.softmax_cross_entropy(jnp.asarray(_X), hot),
                               mj.softmax_cross_entropy_with_integer_labels(jnp.asarray(_X), jnp.asarray(_LABELS)),
                               rtol=1e-12)
    row = jnp.asarray(_Q[0])
    np.testing.assert_allclose(mj.softmax_cross_entropy(jnp.asarray(_X), row),
                               optax.losses.softmax_cross_entropy(jnp.asarray(_X), row), rtol=1e-12)
    # a single (C,) vector
    np.testing.assert_allclose(mj.softmax_cross_entropy_with_integer_labels(jnp.asarray(_X[0]), jnp.asarray(2)),
                               optax.losses.softmax_cross_entropy_with_integer_labels(jnp.asarray(_X[0]), jnp.asarray(2)))


def test_sigmoid_bce_broadcasts_labels_like_optax():
    x = jnp.asarray(_X)
    lab = jnp.asarray(_BIN[0])
    np.testing.assert_allclose(mj.sigmoid_binary_cross_entropy(x, lab),
                               optax.losses.sigmoid_binary_cross_entropy(x, lab), rtol=1e-12)
    # extreme logits stay finite
    big = jnp.asarray([-800.0, 800.0])
    assert np.all(np.isfinite(mj.sigmoid_binary_cross_entropy(big, jnp.asarray([1.0, 0.0]))))


def test_cosine_epsilon_and_fully_masked_rows():
    x, t = jnp.asarray(_X), jnp.asarray(_T)
    zero = x.at[1].set(0.0)
    # optax's default epsilon=0: a zero vector gives nan, as optax; an epsilon avoids it
    assert np.isnan(mj.cosine_similarity(zero, t)[1]) and np.isnan(optax.losses.cosine_similarity(zero, t)[1])
    np.testing.assert_allclose(mj.cosine_similarity(zero, t, epsilon=1e-12),
                               optax.losses.cosine_similarity(zero, t, epsilon=1e-12), rtol=1e-12)
    # the canonical function is the negative similarity, with its own default epsilon
    import multiloss

    np.testing.assert_allclose(mj.cosine_similarity(x, t, epsilon=1e-12),
                               -multiloss.cosine_similarity(x, t, reduction="none"), rtol=1e-14)
    # a row with nothing included: 0 like optax (distance 1), gradient 0 (optax: nan)
    where = jnp.ones((4, 5), bool).at[2].set(False)
    for name, empty in (("cosine_similarity", 0.0), ("cosine_distance", 1.0)):
        f = getattr(mj, name)
        np.testing.assert_allclose(f(x, t, where=where), getattr(optax.losses, name)(x, t, where=where), rtol=1e-12)
        assert float(f(x, t, where=where)[2]) == empty
        g = jax.grad(lambda q: jnp.sum(f(q, t, where=where)))(x)
        assert np.all(np.isfinite(g)) and np.all(np.asarray(g[2]) == 0)


def test_hinge_labels():
    x, t = _args("hinge_loss")
    np.testing.assert_allclose(mj.hinge_loss(x, t), optax.losses.hinge_loss(x, t), rtol=1e-14)
    # labels in {0, 1} are used as given, like optax (the keras adapter maps them to {-1, 1})
    t01 = (t + 1) / 2
    np.testing.assert_allclose(mj.hinge_loss(x, t01), optax.losses.hinge_loss(x, t01), rtol=1e-14)


def test_kl_divergence_zero_targets_are_finite():
    logp = jnp.log(jnp.asarray(_softmax(_X)))
    q = jnp.asarray(_Q).at[0, 1].set(0.0)
    got = mj.kl_divergence(logp, q)
    np.testing.assert_allclose(got, optax.losses.kl_divergence(logp, q), rtol=1e-12)
    assert np.all(np.isfinite(jax.grad(lambda z: jnp.sum(mj.kl_divergence(z, q)))(logp)))


def test_extras_match_canonical_and_seed_figures():
    import multiloss

    p, t = _args("focal_loss")
    np.testing.assert_allclose(mj.focal_loss(p, t), multiloss.focal_loss(p, t, reduction="none"), rtol=1e-14)
    x, lab = _args("sce_loss")
    np.testing.assert_allclose(
        mj.sce_loss(x, lab), multiloss.sce_loss(x, lab, reduction="none"), rtol=1e-14)
    np.testing.assert_allclose(  # class axis -1 (optax style) vs the canonical axis 1
        mj.sce_loss(jnp.moveaxis(x[None], 1, 2), lab[None], axis=1), mj.sce_loss(x, lab)[None], rtol=1e-14)
    y = jnp.asarray([1.0, 0.0])
    easy, hard = jnp.asarray([0.9, 0.1]), jnp.asarray([0.5, 0.5])
    assert round(float(mj.focal_loss(easy, y).mean()), 4) == 0.0005
    assert round(float(mj.focal_loss(hard, y).mean()), 4) == 0.0866
    # sigmoid_focal_loss with the survey's alpha equals the extra on logits
    z = jnp.asarray(_X)
    np.testing.assert_allclose(mj.sigmoid_focal_loss(z, jnp.asarray(_BIN), alpha=0.75),
                               mj.focal_loss(z, jnp.asarray(_BIN), from_logits=True), rtol=1e-12)


def test_penalties_pytree_paths_and_exclude():
    params = _params()
    k, b0, w1, b1 = (np.asarray(a) for a in (PARAMS["dense"]["kernel"], PARAMS["dense"]["bias"],
                                                  PARAMS["out"][0], PARAMS["out"][1]["bias"]))
    np.testing.assert_allclose(mj.l1_penalty(params, 0.5), 0.5 * (np.abs(k).sum() + np.abs(w1).sum()), rtol=1e-12)
    np.testing.assert_allclose(mj.l2_penalty(params), (k**2).sum() + (w1**2).sum(), rtol=1e-12)
    every = (k**2).sum() + (b0**2).sum() + (w1**2).sum() + (b1**2).sum()
    np.testing.assert_allclose(mj.l2_penalty(params, exclude=None), every, rtol=1e-12)
    seen = []
    mj.l1_penalty(params, exclude=lambda path: seen.append(path) or "kernel" in path)
    assert seen == ["['dense']['bias']", "['dense']['kernel']", "['out'][0]", "['out'][1]['bias']"]
    assert mj.default_exclude("['out'][1]['bias']") and not mj.default_exclude("['out'][0]")
    with pytest.raises(ValueError, match=r"l1_penalty: every leaf of 'params' was excluded"):
        mj.l1_penalty({"bias": params["dense"]["bias"]})
    with pytest.raises(ValueError, match=r"l2_penalty: argument 'params'"):
        mj.l2_penalty({})
    with pytest.raises(TypeError, match=r"l2_penalty: argument 'params\[1\]'.*floating"):
        mj.l2_penalty({"a": params["dense"]["kernel"], "b": jnp.arange(3)})


def test_import_gets_the_real_jax():
    import multiloss.backends.jax as adapter
    import multiloss.backends.jax_table as table

    mj.huber_loss(jnp.ones(3))  # the table's lazy modules resolve on first use
    assert adapter.jax is sys.modules["jax"]
    assert table.jax is sys.modules["jax"] and table.jnp is sys.modules["jax.numpy"]
    assert mj.softmax_cross_entropy is adapter.softmax_cross_entropy


# ----------------------------------------------------------------------------- bad input


def test_out_of_range_labels_raise_eagerly_only():
    x = jnp.asarray(_X)
    bad = jnp.asarray([0, 5, 1, 2])
    with pytest.raises(ValueError, match=r"softmax_cross_entropy_with_integer_labels .*'labels'.*\[0, 5\)"):
        mj.softmax_cross_entropy_with_integer_labels(x, bad)
    with pytest.raises(ValueError, match=r"sce_loss.*'labels'.*\[0, 5\)"):
        mj.sce_loss(x, bad - 2)
    # value checks are documented as skipped under jit: no error, no host round-trip
    out = jax.jit(mj.softmax_cross_entropy_with_integer_labels)(x, bad)
    assert out.shape == (4,)


def test_probabilities_checked_eagerly_only():
    p, t = _args("focal_loss")
    with pytest.raises(ValueError, match=r"focal_loss.*'predictions'.*\[0, 1\]"):
        mj.focal_loss(p + 1.0, t)
    assert jax.jit(mj.focal_loss)(p + 1.0, t).shape == (4, 5)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_shape_and_dtype_errors_raise_at_trace_time(jit):
    w = jax.jit if jit else (lambda f, **k: f)
    x = jnp.asarray(_X)
    lab = jnp.asarray(_LABELS)
    with pytest.raises(TypeError, match=r"softmax_cross_entropy_with_integer_labels: argument 'labels'.*integer"):
        w(mj.softmax_cross_entropy_with_integer_labels)(x, lab.astype(jnp.float64))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy_with_integer_labels: argument 'labels' must have "
                       r"the shape of 'logits' \(4, 5\) without axis=-1, i.e. \(4,\); got \(4, 2\)"):
        w(mj.softmax_cross_entropy_with_integer_labels)(x, jnp.zeros((4, 2), jnp.int32))
    with pytest.raises(ValueError, match=r"squared_error: argument 'targets' must have the shape"):
        w(mj.squared_error)(x, x[0])
    with pytest.raises(TypeError, match=r"squared_error .*'predictions' must be a real floating"):
        w(mj.squared_error)(lab, lab)
    with pytest.raises(ValueError, match=r"sigmoid_binary_cross_entropy: argument 'labels' of shape \(3,\)"):
        w(mj.sigmoid_binary_cross_entropy)(x, x[0, :3])
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: argument 'axis'"):
        w(mj.softmax_cross_entropy, static_argnames="axis")(x, x, axis=2)
    with pytest.raises(ValueError, match=r"huber_loss.*'delta' must be > 0"):
        w(mj.huber_loss, static_argnames="delta")(x, x, delta=-1.0)


def test_native_signature_rejects_unknown_and_positional_keywords():
    x = jnp.asarray(_X)
    with pytest.raises(TypeError):
        mj.huber_loss(x, x, 2.0)  # delta is keyword-only, as in optax
    with pytest.raises(TypeError):
        mj.squared_error(x, x, reduction="mean")  # per-example: no reduction argument


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["multiclass_hinge_loss", "multiclass_perceptron_loss", "ctc_loss",
                                  "ctc_loss_with_forward_probs"])
def test_half_inputs_give_optax_result_dtype(name, dtype):
    """optax promotes these losses of half inputs to jax's default float (its one-hot labels and
    ``jnp.ones`` are default-float arrays): the same result dtype (float64 here, x64 on), the
    values within the half dtype's rounding, and the gradient in the input's dtype."""
    rng = np.random.default_rng(5)
    if name.startswith("ctc"):
        x = jnp.asarray(rng.normal(size=(2, 6, 4)), dtype)
        rest = (jnp.zeros((2, 6)), jnp.asarray([[1, 2, 0], [3, 1, 1]]), jnp.asarray([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]))
    else:
        x = jnp.asarray(rng.normal(size=(4, 5)), dtype)
        rest = (jnp.asarray([0, 1, 4, 2]),)
    ours, native = getattr(mj, name)(x, *rest), getattr(optax.losses, name)(x, *rest)
    first = (lambda out: out[0]) if name.endswith("forward_probs") else (lambda out: out)
    for a, b in zip(*(o if isinstance(o, tuple) else (o,) for o in (ours, native))):
        assert a.dtype == b.dtype == jnp.result_type(float), (a.dtype, b.dtype)
    np.testing.assert_allclose(np.asarray(first(ours)), np.asarray(first(native)), rtol=2e-2, atol=2e-2)
    g = jax.grad(lambda v: first(getattr(mj, name)(v, *rest)).sum())(x)
    assert g.dtype == x.dtype
