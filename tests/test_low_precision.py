"""float16 / bfloat16 on torch, jax and tensorflow: the extreme-value sweep (logits ±1e4,
probabilities exactly 0 and 1) gives finite values and gradients. (Agreement with the float64
reference in these dtypes, within the tolerances of multiloss/conformance/spec.py, is checked
cell by cell by the conformance suite.)"""

from __future__ import annotations

import numpy as np
import pytest

import multiloss
from multiloss.conformance.backends import BACKENDS

LOW = ("float16", "bfloat16")
BACKS = ("torch", "jax", "tensorflow")

LOGITS = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, 1e4], [0.5, -0.5, 1e4, 1e4]])
BINARY = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
LABELS = np.array([1, 0, 2])
PROBS = np.array([[0.0, 1.0, 0.5, 1.0], [1.0, 0.0, 0.0, 0.25], [0.0, 0.0, 1.0, 1.0]])
SOFT = np.full((3, 4), 0.25)

CASES = {
    "bce_with_logits": (multiloss.binary_cross_entropy_with_logits, LOGITS, BINARY, {}),
    "bce_with_logits_pos_weight": (multiloss.binary_cross_entropy_with_logits, LOGITS, BINARY,
                                   {"pos_weight": np.array([2.0, 1.0, 0.5, 3.0])}),
    "cross_entropy_index": (multiloss.cross_entropy, LOGITS, LABELS, {}),
    "cross_entropy_probs": (multiloss.cross_entropy, LOGITS, SOFT, {"label_smoothing": 0.1}),
    "focal_from_logits": (multiloss.focal_loss, LOGITS, BINARY, {"from_logits": True}),
    "sce": (multiloss.sce_loss, LOGITS, LABELS, {}),
    "nll_of_log_softmax": (lambda x, t: multiloss.nll_loss(multiloss.ops.log_softmax(multiloss.array_namespace(x), x, axis=1), t),
                           LOGITS, LABELS, {}),
    "bce_probs_0_1": (multiloss.binary_cross_entropy, PROBS, BINARY, {}),
    "focal_probs_0_1": (multiloss.focal_loss, PROBS, BINARY, {}),
}


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("backend", BACKS)
@pytest.mark.parametrize("case", list(CASES))
def test_extremes_finite_in_low_precision(case, backend, dtype):
    be = BACKENDS[backend]
    ok, why = be.available()
    if not ok:
        pytest.skip(f"{backend} not importable: {why}")
    be.setup()
    fn, x, t, kw = CASES[case]
    kw = {k: be.convert(v, dtype) for k, v in kw.items()}
    value, grad = be.value_and_grad(lambda p, y: fn(p, y, **kw), be.convert(x, dtype), [be.convert(t, dtype)])
    assert np.all(np.isfinite(value)), f"{case} on {backend} {dtype}: value {value}"
    assert grad is not None and np.all(np.isfinite(grad)), f"{case} on {backend} {dtype}: grad {grad}"


@pytest.mark.parametrize("dtype", LOW)
@pytest.mark.parametrize("backend", BACKS)
def test_low_precision_values_near_float64(backend, dtype):
    """CE at logits ±1e4 is exactly representable: 2e4 per wrong-class sample, 0 otherwise."""
    be = BACKENDS[backend]
    ok, why = be.available()
    if not ok:
        pytest.skip(f"{backend} not importable: {why}")
    be.setup()
    x = np.array([[1e4, -1e4], [-1e4, 1e4]])
    y = np.array([1, 1])
    out = be.to_numpy(multiloss.cross_entropy(be.convert(x, dtype), be.convert(y, dtype), reduction="none"))
    np.testing.assert_allclose(out, [2e4, 0.0], rtol=1e-2, atol=1e-2)
