"""torch's fast primitives (multiloss/backends/torch_ops.py) equal the generic Array API
definitions in multiloss/_ops.py, in value and gradient, including edge values."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import array_api_compat.torch as xp  # noqa: E402

from multiloss import _ops  # noqa: E402
from multiloss.backends import torch_ops  # noqa: E402, F401  (registers the overrides)

_G = torch.Generator().manual_seed(0)
X = torch.randn(6, 5, generator=_G, dtype=torch.float64) * 3
LABELS = torch.randint(0, 5, (6,), generator=_G)
P = torch.tensor([0.0, 1e-45, 0.3, 0.999, 1.0], dtype=torch.float64)

# primitive -> (positional args after xp, kwargs); the first tensor arg is differentiated
CALLS = {
    "log_softmax": ((X,), {"axis": 1}),
    "softmax": ((X,), {"axis": 0}),
    "logsumexp": ((X,), {"axis": 1, "keepdims": True}),
    "softplus": ((X * 10,), {}),
    "log_sigmoid": ((X * 10,), {}),
    "sigmoid": ((X * 10,), {}),
    "take_along_axis": ((X, LABELS[:, None]), {"axis": 1}),
    "pick": ((X, LABELS), {"axis": 1}),
    "log_softmax_pick": ((X, LABELS), {"axis": 1}),
    "squared_difference": ((X, X.flip(0)), {}),
    "logistic_loss": ((X * 10, (X > 0).to(X.dtype) * 0.8), {}),
    "huber": ((X, X.flip(0)), {"delta": 0.5}),
    "binary_log_loss": ((torch.sigmoid(X), (X > 0).to(X.dtype) * 0.7), {}),
    "softmax_cross_entropy": ((X, torch.softmax(X.flip(0), dim=1)), {"axis": 1}),
    "xlogy": ((torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64), torch.tensor([0.0, 0.3, 4.0], dtype=torch.float64)), {}),
    "clamped_log": ((P,), {}),
}


def test_min_max_is_one_aminmax_pass():
    lo, hi = _ops.min_max(xp, X)
    assert float(lo) == float(X.min()) and float(hi) == float(X.max())
    lo, hi = _ops.min_max(xp, LABELS)
    assert int(lo) == int(LABELS.min()) and int(hi) == int(LABELS.max())


def test_every_primitive_has_a_torch_override():
    missing = [n for n in _ops.PRIMITIVES if _ops.override_for(xp, n) is None]
    assert not missing, f"primitives running generic code on torch: {missing}"


@pytest.mark.parametrize("name", sorted(CALLS))
def test_override_equals_generic(name):
    args, kw = CALLS[name]
    prim = getattr(_ops, name)

    def run(f):
        a0 = args[0].detach().clone().requires_grad_(True)
        out = f(xp, a0, *args[1:], **kw)
        (g,) = torch.autograd.grad(out.sum(), a0)
        return out.detach(), g

    fast_v, fast_g = run(prim)
    gen_v, gen_g = run(prim.generic)
    torch.testing.assert_close(fast_v, gen_v, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast_g, gen_g, rtol=1e-10, atol=1e-10)
    assert torch.isfinite(fast_g).all()


def test_squared_difference_broadcasts():
    a, b = torch.randn(4, 3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    torch.testing.assert_close(_ops.squared_difference(xp, a, b), (a - b) ** 2)


def test_one_hot_out_of_range_is_zero():
    labels = torch.tensor([0, 2, -1, 3])
    got = _ops.one_hot(xp, labels, 3, dtype=torch.float64, axis=0)
    torch.testing.assert_close(got, _ops.one_hot.generic(xp, labels, 3, dtype=torch.float64, axis=0))


def test_stop_gradient_and_is_concrete():
    x = torch.ones(2, requires_grad=True)
    assert not _ops.stop_gradient(xp, x).requires_grad
    assert _ops.is_concrete(xp, x)
    assert not _ops.is_concrete(xp, torch.ones(2, device="meta"))
    seen = []
    torch.func.vmap(lambda v: seen.append(_ops.is_concrete(xp, v)) or v)(torch.ones(3, 2))
    assert seen == [False]


def test_binary_log_loss_endpoints_follow_torch():
    """At p in {0, 1} the fused override has torch's own finite gradient (a drop-in must), and
    both give torch's clamped value 100; float16 keeps the generic body (gradient 0 there)."""
    p = torch.tensor([0.0, 1.0, 0.3], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
    out = _ops.binary_log_loss(xp, p, t)
    ref = torch.nn.functional.binary_cross_entropy(p, t, reduction="none")
    torch.testing.assert_close(out, ref)
    (g,) = torch.autograd.grad(out.sum(), p)
    (g_ref,) = torch.autograd.grad(ref.sum(), p)
    torch.testing.assert_close(g, g_ref)
    h = p.detach().half().requires_grad_(True)
    (gh,) = torch.autograd.grad(_ops.binary_log_loss(xp, h, t.half()).sum(), h)
    assert torch.isfinite(gh).all() and gh[0] == 0 and gh[1] == 0
