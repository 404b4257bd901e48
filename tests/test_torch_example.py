"""The loss survey's ring example (examples/torch_ring_focal.py) runs and its loss falls."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

torch = pytest.importorskip("torch")

_PATH = pathlib.Path(__file__).resolve().parents[1] / "examples" / "torch_ring_focal.py"


def _example():
    spec = importlib.util.spec_from_file_location("torch_ring_focal", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ring_data_shapes_and_balance():
    ex = _example()
    x, y = ex.ring_data()
    assert x.shape == (7000, 2) and y.shape == (7000, 1)
    assert int(y.sum()) == 1000
    r = x.norm(dim=1)
    assert abs(r[y[:, 0] == 1].mean().item() - 5.0) < 0.2
    assert abs(r[y[:, 0] == 0].mean().item() - 8.0) < 0.2


def test_training_loss_falls_and_is_deterministic():
    ex = _example()
    hist = ex.main(epochs=4, seed=0)
    assert len(hist) == 4
    assert all(torch.isfinite(torch.tensor(hist)))
    assert hist[-1] < hist[0]
    assert ex.main(epochs=2, seed=0) == hist[:2]
