"""The loss survey's ring example in plain JAX on multiloss.jax: a ring dataset, a 2-4-8-1 MLP
as a parameter pytree, focal loss on sigmoid outputs plus L1 and L2 weight penalties
(biases excluded), Adam (lr 0.002) from optax.

Data: 1000 positives on a ring of radius ~5 and 6000 negatives on a ring of radius ~8 (2-D
points, Gaussian radial and positional noise, fixed seed): imbalanced 1:6, which is what
the focal loss (alpha=0.75, gamma=2) is for.

    python examples/jax_ring_focal.py --steps 500

``main(steps, seed)`` returns the training loss (focal + penalties) of every step.
"""

from __future__ import annotations

import argparse
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

import multiloss.jax as mj

SIZES = (2, 4, 8, 1)


def ring_data(n_pos: int = 1000, n_neg: int = 6000, r_pos: float = 5.0, r_neg: float = 8.0,
              noise: float = 0.5, seed: int = 0) -> tuple[jax.Array, jax.Array]:
    """Points ``(n_pos + n_neg, 2)`` and labels ``(n_pos + n_neg, 1)`` in {0, 1}, shuffled.

    Drawn with NumPy's generator (fast, no compilation), returned as float32 jax arrays."""
    rng = np.random.default_rng(seed)

    def ring(n, r):
        theta = rng.uniform(0.0, 2 * math.pi, n)
        radius = r + noise * rng.standard_normal(n)
        pts = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
        return pts + 0.1 * noise * rng.standard_normal((n, 2))

    x = np.concatenate([ring(n_pos, r_pos), ring(n_neg, r_neg)])
    y = np.concatenate([np.ones((n_pos, 1)), np.zeros((n_neg, 1))])
    perm = rng.permutation(len(x))
    return jnp.asarray(x[perm], jnp.float32), jnp.asarray(y[perm], jnp.float32)


def init_params(seed: int = 1, sizes: tuple[int, ...] = SIZES) -> dict:
    """``{"dense0": {"kernel", "bias"}, ...}``, uniform in +-1/sqrt(fan_in) (torch's Linear),
    float32, drawn with NumPy's generator."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        bound = 1.0 / math.sqrt(n_in)
        params[f"dense{i}"] = {
            "kernel": jnp.asarray(rng.uniform(-bound, bound, (n_in, n_out)), jnp.float32),
            "bias": jnp.asarray(rng.uniform(-bound, bound, (n_out,)), jnp.float32),
        }
    return params


def predict(params: dict, x: jax.Array) -> jax.Array:
    """The survey's 2-4-8-1 MLP: ReLU hidden layers, a sigmoid output (probabilities), shape ``(N, 1)``."""
    n = len(params)
    for i in range(n):
        layer = params[f"dense{i}"]
        x = x @ layer["kernel"] + layer["bias"]
        x = jax.nn.relu(x) if i < n - 1 else jax.nn.sigmoid(x)
    return x


def loss_fn(params: dict, x: jax.Array, y: jax.Array, l1: float, l2: float) -> jax.Array:
    """Mean focal loss on the sigmoid outputs (the focal-loss worked example of the survey:
    alpha=0.75, gamma=2, probabilities) plus L1 and L2 penalties on every leaf whose path does not contain "bias"."""
    focal = mj.focal_loss(predict(params, x), y, alpha=0.75, gamma=2.0).mean()
    return focal + mj.l1_penalty(params, l1) + mj.l2_penalty(params, l2)


def main(steps: int = 500, seed: int = 0, lr: float = 0.002, l1: float = 1e-4, l2: float = 1e-4,
         batch_size: int | None = None, verbose: bool = False) -> list[float]:
    """Train with Adam and return the loss of every step (full batch unless ``batch_size``)."""
    x, y = ring_data(seed=seed)
    # standardise the inputs (radius 5 vs 8 is then O(1) for the small net)
    x = (x - x.mean(0)) / x.std(0)
    params = init_params(seed + 1)
    opt = optax.adam(lr)
    state = opt.init(params)

    @jax.jit
    def step(params, state, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb, l1, l2)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    key = None if batch_size is None else jax.random.PRNGKey(seed + 2)
    history = []
    for i in range(steps):
        if batch_size is None:
            xb, yb = x, y
        else:
            key, sub = jax.random.split(key)
            idx = jax.random.choice(sub, x.shape[0], (batch_size,), replace=False)
            xb, yb = x[idx], y[idx]
        params, state, loss = step(params, state, xb, yb)
        history.append(float(loss))
        if verbose and (i + 1) % max(1, steps // 10) == 0:
            acc = float(jnp.mean((predict(params, x) > 0.5) == (y > 0.5)))
            print(f"step {i + 1:5d}  loss {history[-1]:.5f}  accuracy {acc:.3f}")
    return history


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=None)
    args = ap.parse_args()
    main(args.steps, args.seed, batch_size=args.batch_size, verbose=True)
