"""The loss survey's ring example, in Keras 3: a ring dataset, the 2-4-8-1 net, focal loss plus
L1 and L2 weight penalties, Adam (lr 0.002), ``model.fit``.

Data: 1000 positives on a ring of radius ~5 and 6000 negatives on a ring of radius ~8 (an
imbalanced problem where the focal loss's down-weighting of easy negatives matters). The
loss is ``multiloss.keras.FocalLoss`` (the focal-loss worked example of the survey: gamma=2,
alpha=0.75, on the sigmoid probabilities); the penalties are ``multiloss.keras.L1L2`` kernel regularisers, i.e. the
canonical ``multiloss.l1_penalty`` / ``l2_penalty`` added by keras to the training loss.

    python examples/keras_ring_focal.py --epochs 20

Works with any keras backend (``KERAS_BACKEND=tensorflow|jax|torch``).
"""

from __future__ import annotations

import argparse

import numpy as np


def ring_data(seed: int = 0, n_pos: int = 1000, n_neg: int = 6000):
    """Points on two noisy rings: label 1 at radius ~5, label 0 at radius ~8; shuffled."""
    rng = np.random.default_rng(seed)

    def ring(n, radius):
        theta = rng.uniform(0, 2 * np.pi, size=n)
        r = radius + rng.normal(scale=0.5, size=n)
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)

    x = np.concatenate([ring(n_pos, 5.0), ring(n_neg, 8.0)]).astype("float32")
    y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)]).astype("float32")[:, None]
    order = rng.permutation(len(x))
    return x[order], y[order]


def build_model(seed: int = 0, l1: float = 1e-4, l2: float = 1e-4):
    import keras

    import multiloss.keras as mk

    keras.utils.set_random_seed(seed)
    reg = lambda: mk.L1L2(l1=l1, l2=l2)  # noqa: E731 - the survey's L1 + L2 on every kernel
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(4, activation="relu", kernel_regularizer=reg()),
        keras.layers.Dense(8, activation="relu", kernel_regularizer=reg()),
        keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=reg()),
    ])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.002),
        loss=mk.FocalLoss(gamma=2.0, alpha=0.75),
        metrics=["accuracy"],
    )
    return model


def main(epochs: int = 20, seed: int = 0, batch_size: int = 64, verbose: int = 0, n_pos: int = 1000, n_neg: int = 6000):
    """Train and return the per-epoch training loss (focal + penalties)."""
    x, y = ring_data(seed, n_pos, n_neg)
    model = build_model(seed)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=verbose)
    return [float(v) for v in history.history["loss"]]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    losses = main(epochs=a.epochs, seed=a.seed, verbose=2)
    print("loss per epoch:", ", ".join(f"{v:.4f}" for v in losses))
