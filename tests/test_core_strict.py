"""Every canonical loss runs on ``array_api_strict`` arrays and gives the NumPy result.

``array_api_strict`` exposes only the Array API standard (no NumPy extras, strict dtype
promotion, no mixing with NumPy arrays), so a loss that passes here uses only the standard
plus ``multiloss._ops``. The data-dependent features (boolean indexing, data-dependent output
shapes) are switched off as well: they are unavailable under ``jax.jit``/``tf.function``.
"""

from __future__ import annotations

import numpy as np
import pytest

import multiloss as ml
from tests_conftest import to_numpy, to_xp, xp_assert_close

xps = pytest.importorskip("array_api_strict")

rng = np.random.default_rng(20240601)
N, C = 5, 4
REG_P = rng.normal(size=(N, C))
REG_T = rng.normal(size=(N, C))
REG_W = rng.uniform(0.1, 2.0, size=(N, C))
PROB = rng.uniform(0.02, 0.98, size=(N, C))
BIN_T = (rng.uniform(size=(N, C)) > 0.5).astype(np.float64)
LOGITS = rng.normal(size=(N, C)) * 3
LOGITS_3D = rng.normal(size=(2, C, 3)) * 3
LABELS = np.array([0, 3, 1, 2, 3])
LABELS_3D = np.array([[0, 1, 3], [2, 2, 0]])
LABELS_IGN = np.array([0, -100, 1, 2, -100])
CLASS_W = np.array([0.5, 1.0, 2.0, 0.25])
Q = rng.dirichlet(np.ones(C), size=N)
LOGQ = np.log(rng.dirichlet(np.ones(C), size=N))
HINGE_T = np.where(BIN_T > 0, 1.0, -1.0)
POS_W = np.array([2.0, 0.5, 1.0, 3.0])
ROW_W = rng.uniform(0.1, 2.0, size=(N, 1))

# (id, function, positional args, keyword args): every canonical loss and its options
CASES = [
    ("mse", ml.mse_loss, (REG_P, REG_T), {}),
    ("mse-weight-none", ml.mse_loss, (REG_P, REG_T), dict(weight=REG_W, reduction="none")),
    ("mse-weight-mean", ml.mse_loss, (REG_P, REG_T), dict(weight=REG_W)),
    ("l1-sum", ml.l1_loss, (REG_P, REG_T), dict(reduction="sum")),
    ("l1-weight", ml.l1_loss, (REG_P, REG_T), dict(weight=REG_W)),
    ("smooth_l1", ml.smooth_l1_loss, (REG_P, REG_T), dict(beta=0.5, reduction="none")),
    ("smooth_l1-beta0", ml.smooth_l1_loss, (REG_P, REG_T), dict(beta=0.0)),
    ("huber", ml.huber_loss, (REG_P, REG_T), dict(delta=0.7, reduction="none")),
    ("huber-weight", ml.huber_loss, (REG_P, REG_T), dict(delta=1.3, weight=REG_W)),
    ("mape", ml.mean_absolute_percentage_error, (REG_P, REG_T), {}),
    ("mape-eps", ml.mean_absolute_percentage_error, (REG_P, np.zeros_like(REG_T)), dict(epsilon=0.1, reduction="none")),
    ("cosine", ml.cosine_similarity, (REG_P, REG_T), dict(reduction="none")),
    ("cosine-axis0", ml.cosine_similarity, (REG_P, REG_T), dict(axis=0)),
    ("bce", ml.binary_cross_entropy, (PROB, BIN_T), {}),
    ("bce-weight-none", ml.binary_cross_entropy, (PROB, BIN_T), dict(weight=ROW_W, reduction="none")),
    ("bce-clamp", ml.binary_cross_entropy, (np.array([0.0, 1.0, 0.5]), np.array([1.0, 0.0, 1.0])), dict(reduction="none")),
    ("bce_logits", ml.binary_cross_entropy_with_logits, (LOGITS, BIN_T), {}),
    ("bce_logits-pos_weight", ml.binary_cross_entropy_with_logits, (LOGITS, BIN_T),
     dict(weight=ROW_W, pos_weight=POS_W, reduction="none")),
    ("hinge-pm1", ml.hinge, (REG_P, HINGE_T), {}),
    ("hinge-01", ml.hinge, (REG_P, BIN_T), dict(reduction="none")),
    ("log_loss", ml.log_loss, (PROB, BIN_T), {}),
    ("focal", ml.focal_loss, (PROB, BIN_T), {}),
    ("focal-alpha_none", ml.focal_loss, (PROB, BIN_T), dict(alpha=None, gamma=1.5, reduction="none")),
    ("focal-logits", ml.focal_loss, (LOGITS, BIN_T), dict(from_logits=True, alpha=0.25, reduction="sum")),
    ("ce-index", ml.cross_entropy, (LOGITS, LABELS), {}),
    ("ce-index-none", ml.cross_entropy, (LOGITS, LABELS), dict(reduction="none")),
    ("ce-weight", ml.cross_entropy, (LOGITS, LABELS), dict(weight=CLASS_W)),
    ("ce-ignore", ml.cross_entropy, (LOGITS, LABELS_IGN), dict(weight=CLASS_W, reduction="mean")),
    ("ce-ignore-in-range", ml.cross_entropy, (LOGITS, LABELS), dict(ignore_index=3)),
    ("ce-smoothing", ml.cross_entropy, (LOGITS, LABELS_IGN), dict(weight=CLASS_W, label_smoothing=0.2)),
    ("ce-spatial", ml.cross_entropy, (LOGITS_3D, LABELS_3D), dict(reduction="none")),
    ("ce-unbatched", ml.cross_entropy, (LOGITS[0], np.array(LABELS[0])), {}),
    ("ce-prob", ml.cross_entropy, (LOGITS, Q), {}),
    ("ce-prob-weight-smoothing", ml.cross_entropy, (LOGITS, Q), dict(weight=CLASS_W, label_smoothing=0.1, reduction="none")),
    ("nll", ml.nll_loss, (LOGQ, LABELS), {}),
    ("nll-weight-ignore", ml.nll_loss, (LOGQ, LABELS_IGN), dict(weight=CLASS_W, reduction="sum")),
    ("nll-prob", ml.nll_loss, (LOGQ, Q), dict(weight=CLASS_W)),
    ("sce-index", ml.sce_loss, (LOGITS, LABELS), {}),
    ("sce-prob", ml.sce_loss, (LOGITS, Q), dict(alpha=0.5, beta=0.5, reduction="none")),
    ("kl", ml.kl_div, (LOGQ, Q), {}),
    ("kl-batchmean", ml.kl_div, (LOGQ, Q), dict(reduction="batchmean")),
    ("kl-log_target", ml.kl_div, (LOGQ, np.log(Q)), dict(log_target=True, reduction="none")),
]

PENALTIES = [ml.l1_penalty, ml.l2_penalty]


def test_cases_cover_every_canonical_loss():
    """Each canonical loss runs on array_api_strict: in CASES here, or through its conformance
    cases, which the runner's ``array_api_strict`` backend evaluates under the same flags."""
    from multiloss.conformance import runner

    covered = {fn.__name__ for _, fn, _, _ in CASES} | {fn.__name__ for fn in PENALTIES}
    covered |= {c.loss for c in runner.canonical_cases() if "float64" in c.dtypes}
    assert covered == set(ml.losses.__all__)


def test_conformance_strict_backend_switches_off_data_dependent_shapes():
    from multiloss.conformance.backends import BACKENDS

    def call(p, t):
        return p[t > 0]  # boolean indexing: refused under the flags

    with pytest.raises(Exception, match="boolean"):
        BACKENDS["array_api_strict"].value_and_grad(call, xps.asarray([1.0, 2.0]), [xps.asarray([1.0, -1.0])])


def _convert(name, a, dtype):
    return to_xp(name, a, dtype) if isinstance(a, np.ndarray) else a


@pytest.fixture
def strict_flags():
    """No boolean indexing and no data-dependent shapes (as under jit)."""
    with xps.ArrayAPIStrictFlags(boolean_indexing=False, data_dependent_shapes=False):
        yield


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_strict_equals_numpy(case, dtype, strict_flags):
    _, fn, args, kwargs = case
    expected = fn(*[_convert("numpy", a, dtype) for a in args], **{k: _convert("numpy", v, dtype) for k, v in kwargs.items()})
    out = fn(*[_convert("array_api_strict", a, dtype) for a in args],
             **{k: _convert("array_api_strict", v, dtype) for k, v in kwargs.items()})
    assert type(out).__module__.startswith("array_api_strict"), type(out)
    assert out.dtype == getattr(xps, np.dtype(dtype).name)
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    xp_assert_close(out, to_numpy(expected), rtol=rtol, atol=1e-15)
    assert np.all(np.isfinite(to_numpy(out)))


@pytest.mark.parametrize("fn", PENALTIES, ids=lambda f: f.__name__)
def test_strict_penalties(fn, strict_flags):
    params = [REG_P, REG_W[0], np.array(0.5)]
    expected = fn(params, alpha=0.3)
    out = fn([to_xp("array_api_strict", p) for p in params], alpha=0.3)
    assert type(out).__module__.startswith("array_api_strict")
    xp_assert_close(out, to_numpy(expected), rtol=1e-13)


def test_strict_rejects_mixing_with_numpy():
    """The strict namespace does not silently accept NumPy arrays alongside its own."""
    with pytest.raises(TypeError, match=r"mse_loss.*one library.*array_api_strict.*numpy|mse_loss.*one library.*numpy.*array_api_strict"):
        ml.mse_loss(to_xp("array_api_strict", REG_P), REG_T)
