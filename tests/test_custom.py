"""@multiloss.loss and multiloss.testing.assert_backends_agree: a user's loss written once."""

from __future__ import annotations

import numpy as np
import pytest

import multiloss
from multiloss.testing import assert_backends_agree


@multiloss.loss
def smooth_abs(input, target, beta=0.5):
    """Smooth absolute error (= smooth_l1 with this beta), elementwise."""
    xp = multiloss.array_namespace(input, target)
    d = xp.abs(input - target)
    return xp.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)


@multiloss.loss(name="sce_per_sample")
def sce_written_once(input, target, alpha=0.1, beta=1.0):
    """The survey's SCE, written once by a user on the canonical pieces (per sample)."""
    return multiloss.sce_loss(input, target, alpha=alpha, beta=beta, reduction="none")


rng = np.random.default_rng(0)
P, T = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
P[np.abs(P - T) < 0.05] += 0.1  # off the |d| kink


def test_canonical_form_reduces_like_torch():
    full = smooth_abs.unreduced(P, T, beta=1.0)
    assert smooth_abs(P, T, beta=1.0) == pytest.approx(full.mean())
    assert smooth_abs(P, T, reduction="sum", beta=1.0) == pytest.approx(full.sum())
    assert np.allclose(smooth_abs(P, T, reduction="none", beta=1.0), multiloss.smooth_l1_loss(P, T, reduction="none", beta=1.0))


def test_canonical_form_errors():
    with pytest.raises(TypeError, match="unexpected option.*gamma"):
        smooth_abs(P, T, gamma=1.0)
    with pytest.raises(ValueError, match="reduction"):
        smooth_abs(P, T, reduction="avg")
    with pytest.raises(TypeError, match="first two"):
        multiloss.loss(lambda x: x)
    with pytest.raises(TypeError, match="default"):
        multiloss.loss(lambda a, b, c: a)
    with pytest.raises(TypeError, match="reserved"):
        multiloss.loss(lambda a, b, reduction="mean": a)


def test_assert_backends_agree_on_user_loss():
    report = assert_backends_agree(smooth_abs.unreduced, P, T, beta=0.7)
    assert "numpy" in report


def test_assert_backends_agree_catches_a_disagreement():
    def drifting(p, t):
        xp = multiloss.array_namespace(p, t)
        bump = 1e-3 if multiloss._namespace.backend_name(xp) != "numpy" else 0.0
        return xp.sum((p - t) ** 2) + bump

    try:
        import torch  # noqa: F401
    except ImportError:
        backends = ["numpy", "array_api_strict"]
        pytest.importorskip("array_api_strict")
    else:
        backends = ["numpy", "torch"]
    with pytest.raises(AssertionError, match="disagrees"):
        assert_backends_agree(drifting, P, T, backends=backends)


def test_torch_module_form():
    torch = pytest.importorskip("torch")
    cls = smooth_abs.torch
    assert cls.__name__ == "SmoothAbs" and isinstance(cls(), torch.nn.Module)
    x = torch.tensor(P, requires_grad=True)
    out = cls(beta=1.0, reduction="sum")(x, torch.tensor(T))
    ref = torch.nn.functional.smooth_l1_loss(x, torch.tensor(T), beta=1.0, reduction="sum")
    torch.testing.assert_close(out, ref)
    (g,) = torch.autograd.grad(out, x)
    (g_ref,) = torch.autograd.grad(ref, x)
    torch.testing.assert_close(g, g_ref)


def test_jax_form_is_pure():
    jax = pytest.importorskip("jax")
    f = jax.jit(lambda p, t: smooth_abs.jax(p, t, beta=1.0).mean())
    g = jax.grad(f)(P.astype(np.float32), T.astype(np.float32))
    assert g.shape == P.shape and np.isfinite(np.asarray(g)).all()
    assert float(f(P.astype(np.float32), T.astype(np.float32))) == pytest.approx(smooth_abs(P, T, beta=1.0), rel=1e-5)


def test_keras_form_fits_and_reloads(tmp_path):
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    loss = sce_written_once.keras(alpha=0.2)
    assert loss.get_config()["alpha"] == 0.2
    # keras casts y_true to the loss dtype before `call`: one-hot probability targets
    labels = np.eye(4, dtype="float32")[rng.integers(0, 4, size=(32,))]
    x = rng.normal(size=(32, 3)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    model.compile(keras.optimizers.Adam(0.05), loss=loss)
    hist = model.fit(x, labels, epochs=5, verbose=0).history["loss"]
    assert hist[-1] < hist[0]
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert type(again.loss).__name__ == "ScePerSample" and again.loss.alpha == 0.2
