"""examples/keras_ring_focal.py: the loss survey's ring-data Focal + L1 + L2 net trains (loss falls)."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

keras = pytest.importorskip("keras")

_PATH = pathlib.Path(__file__).resolve().parents[1] / "examples" / "keras_ring_focal.py"


def _example():
    spec = importlib.util.spec_from_file_location("keras_ring_focal", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ring_data_is_the_seeds():
    x, y = _example().ring_data(seed=0)
    assert x.shape == (7000, 2) and y.shape == (7000, 1) and int(y.sum()) == 1000
    r = np.linalg.norm(x, axis=1)
    assert abs(r[y[:, 0] == 1].mean() - 5) < 0.1 and abs(r[y[:, 0] == 0].mean() - 8) < 0.1


def test_focal_l1_l2_training_loss_falls():
    losses = _example().main(epochs=4, seed=0, batch_size=128)
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses
