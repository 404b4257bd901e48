"""Bad input raises ValueError/TypeError whose message names the function, the argument, what
was expected and what came (on every installed namespace)."""

from __future__ import annotations

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import msg, to_xp


A = np.full((3, 4), 0.5)
B = np.full((3, 4), 0.25)
LOGITS = np.arange(12.0).reshape(4, 3) / 10
LABELS = np.array([0, 2, 1, 1])

ELEMENTWISE = [ml.mse_loss, ml.l1_loss, ml.smooth_l1_loss, ml.huber_loss, ml.mean_absolute_percentage_error,
               ml.hinge, ml.kl_div]
SAME_SHAPE = [ml.cosine_similarity, ml.binary_cross_entropy, ml.binary_cross_entropy_with_logits, ml.log_loss,
              ml.focal_loss]
BINARY_INPUT = SAME_SHAPE + ELEMENTWISE
CLASS = [ml.cross_entropy, ml.nll_loss, ml.sce_loss]
ALL_LOSSES = BINARY_INPUT + CLASS
_ids = lambda f: f.__name__  # noqa: E731


def test_tables_cover_every_loss():
    """Every canonical loss has error tests: here (the first families), or in its family's own
    test module ``tests/test_<family>_losses.py``, which must raise on it by name."""
    import pathlib

    here = {f.__name__ for f in ALL_LOSSES} | {"l1_penalty", "l2_penalty"}
    modules = sorted(pathlib.Path(__file__).parent.glob("test_*_losses.py"))
    texts = {m.name: m.read_text() for m in modules}
    for name in set(ml.losses.__all__) - here:
        hits = [m for m, text in texts.items() if name in text and "pytest.raises" in text]
        assert hits, f"{name}: no error tests here and none in any tests/test_*_losses.py"


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("fn", ELEMENTWISE, ids=_ids)
def test_non_broadcastable_shapes(xp, fn):
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'target'", "(3, 4)", "got (3, 5)")):
        fn(to_xp(xp, A), to_xp(xp, np.full((3, 5), 0.5)))


@pytest.mark.parametrize("fn", ELEMENTWISE, ids=_ids)
def test_broadcastable_shapes_warn(fn):
    # like torch: a target that broadcasts but has another shape is accepted with a warning
    with pytest.warns(UserWarning, match=msg(fn.__name__, "'target'", "(4,)", "(3, 4)")):
        fn(A, np.full((4,), 0.25))


@pytest.mark.parametrize("fn", SAME_SHAPE, ids=_ids)
def test_same_shape_required(xp, fn):
    # torch's BCE family raises for any target size different from the input's (even broadcastable)
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'target' must have the same shape as 'input' (3, 4)",
                                             "got (4,)")):
        fn(to_xp(xp, A), to_xp(xp, np.full((4,), 0.25)))


@pytest.mark.parametrize("fn", CLASS, ids=_ids)
def test_class_index_target_shape(xp, fn):
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: Expected target size (4,)", "got (3,)")):
        fn(to_xp(xp, LOGITS), to_xp(xp, LABELS[:3]))


@pytest.mark.parametrize("fn", CLASS, ids=_ids)
def test_float_class_indices_of_the_wrong_shape(xp, fn):
    # a float target is read as probabilities: it must then have the input's shape
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'target' must have the same shape as 'input' (4, 3)",
                                             "got (4,)")):
        fn(to_xp(xp, LOGITS), to_xp(xp, LABELS.astype(np.float64)))


@pytest.mark.parametrize("fn", CLASS, ids=_ids)
def test_zero_dim_input(fn):
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'input' must have a class dimension", "0-d")):
        fn(np.array(1.0), np.array(0))


# ----------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("fn", ALL_LOSSES, ids=_ids)
def test_integer_input(xp, fn):
    if fn in CLASS:
        args = (to_xp(xp, LOGITS.astype(np.int64)), to_xp(xp, LABELS))
    else:
        args = (to_xp(xp, np.ones((3, 4), dtype=np.int64)), to_xp(xp, B))
    with pytest.raises(TypeError, match=msg(f"{fn.__name__}: argument 'input' must be a real floating-point array",
                                            "got dtype", "int64")):
        fn(*args)


@pytest.mark.parametrize("fn", [ml.l1_penalty, ml.l2_penalty], ids=_ids)
def test_penalty_bad_params(xp, fn):
    with pytest.raises(TypeError, match=msg(f"{fn.__name__}: argument 'params[1]' must be a real floating-point array",
                                            "got dtype", "int64")):
        fn([to_xp(xp, A), to_xp(xp, np.ones(3, dtype=np.int64))])
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'params' must hold at least one array",
                                             "empty")):
        fn([])


def test_non_array_input():
    with pytest.raises(TypeError, match=msg("expected an array", "got builtins.list")):
        ml.mse_loss([1.0, 2.0], np.ones(2))


# ----------------------------------------------------------------------------- reduction


@pytest.mark.parametrize("fn", ALL_LOSSES, ids=_ids)
def test_unknown_reduction(xp, fn):
    if fn in CLASS:
        args = (to_xp(xp, LOGITS), to_xp(xp, LABELS))
    else:
        args = (to_xp(xp, A), to_xp(xp, B))
    allowed = "'none', 'mean', 'sum', 'batchmean'" if fn is ml.kl_div else "'none', 'mean', 'sum'"
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'reduction' must be one of {allowed}",
                                             "got 'avg'")):
        fn(*args, reduction="avg")


# ----------------------------------------------------------------------------- weights


@pytest.mark.parametrize("fn", [ml.cross_entropy, ml.nll_loss], ids=_ids)
@pytest.mark.parametrize("target_kind", ["index", "prob"])
def test_class_weight_wrong_length(xp, fn, target_kind):
    target = LABELS if target_kind == "index" else np.full((4, 3), 1 / 3)
    for bad in (np.ones(4), np.ones((3, 1))):
        with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'weight' must be a 1-D array with one entry "
                                                 "per class (shape (3,))", f"got shape {bad.shape}")):
            fn(to_xp(xp, LOGITS), to_xp(xp, target), weight=to_xp(xp, bad))


@pytest.mark.parametrize("fn", [ml.mse_loss, ml.l1_loss, ml.huber_loss], ids=_ids)
def test_elementwise_weight_wrong_shape(xp, fn):
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'weight' must have the same shape as 'input' (3, 4)",
                                             "got (4,)")):
        fn(to_xp(xp, A), to_xp(xp, B), weight=to_xp(xp, np.ones(4)))


@pytest.mark.parametrize("fn", [ml.binary_cross_entropy, ml.binary_cross_entropy_with_logits], ids=_ids)
def test_binary_weight_must_broadcast_to_input(xp, fn):
    for bad in (np.ones(5), np.ones((2, 3, 4))):
        with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'weight' must broadcast to the shape of "
                                                 "'input' (3, 4)", f"got shape {bad.shape}")):
            fn(to_xp(xp, A), to_xp(xp, B), weight=to_xp(xp, bad))
    # broadcastable weights are fine
    fn(to_xp(xp, A), to_xp(xp, B), weight=to_xp(xp, np.ones((3, 1))))


def test_pos_weight_must_broadcast_to_input(xp):
    with pytest.raises(ValueError, match=msg("binary_cross_entropy_with_logits: argument 'pos_weight' must broadcast",
                                             "(3, 4)", "got shape (3,)")):
        ml.binary_cross_entropy_with_logits(to_xp(xp, A), to_xp(xp, B), pos_weight=to_xp(xp, np.ones(3)))


# ----------------------------------------------------------------------------- values


@pytest.mark.parametrize("fn", CLASS, ids=_ids)
@pytest.mark.parametrize("bad", [3, -1, 7])
def test_labels_out_of_range(xp, fn, bad):
    labels = LABELS.copy()
    labels[2] = bad
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'target' must hold class indices in [0, 3)",
                                             f"e.g. {bad}")):
        fn(to_xp(xp, LOGITS), to_xp(xp, labels))


def test_ignore_index_is_not_out_of_range(xp):
    labels = np.array([0, -100, 1, 5])
    with pytest.raises(ValueError, match=msg("[0, 3) or ignore_index=-100", "e.g. 5")):
        ml.cross_entropy(to_xp(xp, LOGITS), to_xp(xp, labels))
    labels[3] = 2
    ml.cross_entropy(to_xp(xp, LOGITS), to_xp(xp, labels))  # -100 is ignored, not an error


@pytest.mark.parametrize("fn", [ml.binary_cross_entropy, ml.focal_loss, ml.log_loss], ids=_ids)
@pytest.mark.parametrize("bad", [1.5, -0.25])
def test_probabilities_outside_0_1(xp, fn, bad):
    p = A.copy()
    p[1, 2] = bad
    lo, hi = min(bad, 0.5), max(bad, 0.5)
    with pytest.raises(ValueError, match=msg(f"{fn.__name__}: argument 'input' must hold probabilities in [0, 1]",
                                             f"got values in [{lo:.6g}, {hi:.6g}]")):
        fn(to_xp(xp, p), to_xp(xp, B))


def test_focal_from_logits_accepts_any_value(xp):
    ml.focal_loss(to_xp(xp, A * 10), to_xp(xp, B), from_logits=True)


@pytest.mark.parametrize(
    "call,pattern",
    [
        (lambda: ml.smooth_l1_loss(A, B, beta=-1.0), msg("smooth_l1_loss: argument 'beta' must be >= 0", "got -1.0")),
        (lambda: ml.huber_loss(A, B, delta=0.0), msg("huber_loss: argument 'delta' must be > 0", "got 0.0")),
        (lambda: ml.focal_loss(A, B, gamma=-2.0), msg("focal_loss: argument 'gamma' must be >= 0", "got -2.0")),
        (lambda: ml.focal_loss(A, B, alpha=1.5), msg("focal_loss: argument 'alpha' must be in [0, 1] or None", "got 1.5")),
        (lambda: ml.cross_entropy(LOGITS, LABELS, label_smoothing=1.2),
         msg("cross_entropy: argument 'label_smoothing' must be in [0, 1]", "got 1.2")),
        (lambda: ml.cross_entropy(LOGITS, LABELS, label_smoothing=-0.1),
         msg("cross_entropy: argument 'label_smoothing' must be in [0, 1]", "got -0.1")),
    ],
    ids=["beta", "delta", "gamma", "alpha", "smoothing-high", "smoothing-low"],
)
def test_bad_hyperparameters(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# ----------------------------------------------------------------------------- mixed libraries


@pytest.mark.parametrize("other", ["torch", "array_api_strict", "jax"])
@pytest.mark.parametrize("fn", [ml.mse_loss, ml.binary_cross_entropy, ml.kl_div], ids=_ids)
def test_mixed_libraries(fn, other):
    pytest.importorskip(other)
    y = to_xp(other, B)
    pattern = rf"{fn.__name__}: all arrays must come from one library, got numpy .* and {other} "
    with pytest.raises(TypeError, match=pattern):
        fn(A, y)
    pattern = rf"{fn.__name__}: all arrays must come from one library, got {other} .* and numpy "
    with pytest.raises(TypeError, match=pattern):
        fn(y, A)


@pytest.mark.parametrize("other", ["torch", "array_api_strict"])
def test_mixed_libraries_in_optional_arguments(other):
    pytest.importorskip(other)
    w = to_xp(other, np.ones(3))
    with pytest.raises(TypeError, match=rf"cross_entropy: all arrays must come from one library, got numpy .* and {other}"):
        ml.cross_entropy(LOGITS, LABELS, weight=w)
    with pytest.raises(TypeError, match=rf"l2_penalty: all arrays must come from one library, got numpy .* and {other}"):
        ml.l2_penalty([A, to_xp(other, B)])


def test_torch_and_jax_mixed():
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    with pytest.raises(TypeError, match=r"mse_loss: all arrays must come from one library, got torch .* and jax"):
        ml.mse_loss(to_xp("torch", A), to_xp("jax", B))


# ----------------------------------------------------------------------------- under jit


def test_jit_keeps_static_checks_and_skips_value_checks():
    jax = pytest.importorskip("jax")
    x, y = to_xp("jax", LOGITS), to_xp("jax", LABELS)
    # shape/dtype checks run at trace time
    with pytest.raises(ValueError, match=msg("cross_entropy: Expected target size (4,)", "got (3,)")):
        jax.jit(ml.cross_entropy)(x, y[:3])
    with pytest.raises(TypeError, match=msg("mse_loss: argument 'input' must be a real floating-point array")):
        jax.jit(ml.mse_loss)(to_xp("jax", np.ones(3, dtype=np.int64)), to_xp("jax", np.ones(3)))
    # value checks cannot read traced values: documented as skipped under jit (no error)
    bad = to_xp("jax", np.array([0, 2, 1, 7]))
    out = jax.jit(ml.cross_entropy)(x, bad)
    assert out.shape == ()
    # but they run on concrete (eager) jax arrays
    with pytest.raises(ValueError, match=msg("[0, 3)", "e.g. 7")):
        ml.cross_entropy(x, bad)


def test_kl_div_mean_warns_like_torch():
    """torch warns that reduction='mean' is not the KL per sample; the canonical kl_div too."""
    import warnings

    x = np.log(np.full((2, 4), 0.25))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ml.kl_div(x, np.full((2, 4), 0.25), reduction="mean")
        ml.kl_div(x, np.full((2, 4), 0.25), reduction="batchmean")
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(msgs) == 1 and "kl_div: reduction='mean'" in msgs[0] and "'batchmean'" in msgs[0]


def test_hinge_labels_option_is_checked():
    with pytest.raises(ValueError, match=r"hinge: argument 'labels' must be one of \('auto', 'signed'\); got 'binary'"):
        ml.hinge(np.zeros(3), np.ones(3), labels="binary")
