"""The loss survey's ring example, trained side by side in torch, keras and jax, with the loss
defined once and ported by ``multiloss.port``.

The survey's set-up: 1000 positive points at radius ~5 and 6000 negative points at radius ~8
(radius noise N(0, 1), angle uniform), 70 % for training and 30 % held out; a 2-4-8-1 network
(ReLU, a sigmoid output); the focal loss on the sigmoid probabilities (alpha=0.75, gamma=2, the
survey's focal-loss worked example) plus an L1 penalty (1e-4 * sum |w|) and an L2 penalty
(1e-4 * sum w**2 / 2) on the weights, biases excluded; Adam with lr 0.002, batches of 100.

The loss is written once, as a torch module, and ported:

    focal = mt.FocalLoss(alpha=0.75, gamma=2.0)     # torch
    multiloss.port(focal, to="keras")               # mk.FocalLoss() (keras's defaults are these)
    multiloss.port(focal, to="jax")                 # mj.focal_loss(predictions, targets).mean()

The three networks start from the same weights (drawn once with NumPy) and see the same batches
in the same order, so their training losses coincide over the first steps to float32 precision
and drift apart only slowly (each framework rounds its own sums; keras's Adam puts its epsilon
inside the bias correction). The script prints the held-out accuracy of each framework and
writes ``docs/ring.png``: the held-out points with each framework's decision boundary, and the
three training-loss curves overlaid (with their distance to torch's).

    python examples/ring_ported.py                  # ~15 s of compute on 2 CPU cores (after imports)
    python examples/ring_ported.py --epochs 2 --out /tmp/ring.png

``main(epochs, seed, out)`` returns ``{framework: {"loss": [...], "accuracy": float}}``.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SIZES = (2, 4, 8, 1)
L1, L2 = 1e-4, 1e-4 / 2  # the survey's L1Loss(beta) and L2Loss(alpha), whose sum carries a 1/2
LR, BATCH = 0.002, 100
FRAMEWORKS = ("torch", "keras", "jax")


# ----------------------------------------------------------------------------- data, weights


def ring_data(seed: int = 0, n_pos: int = 1000, n_neg: int = 6000):
    """The survey's rings (float32), shuffled and split 70/30: ``(x_train, y_train, x_test,
    y_test)``, labels ``(N, 1)`` in {0, 1}."""
    rng = np.random.default_rng(seed)

    def ring(n, radius):
        r = radius + rng.normal(0.0, 1.0, size=n)
        theta = rng.uniform(0.0, 2 * math.pi, size=n)
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)

    x = np.concatenate([ring(n_pos, 5.0), ring(n_neg, 8.0)]).astype(np.float32)
    y = np.concatenate([np.ones(n_pos), np.zeros(n_neg)]).astype(np.float32)[:, None]
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    n_train = int(0.7 * len(x))
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def initial_weights(seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(kernel (in, out), bias (out,)), ...]``, uniform in +-1/sqrt(fan_in) (torch's Linear)."""
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1.0 / math.sqrt(n_in)
        out.append((rng.uniform(-bound, bound, (n_in, n_out)).astype(np.float32),
                    rng.uniform(-bound, bound, (n_out,)).astype(np.float32)))
    return out


def batches(n: int, epochs: int, seed: int = 2):
    """The batch indices of every step, shared by the three frameworks."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, BATCH):
            yield perm[i:i + BATCH]


# ----------------------------------------------------------------------------- the loss, once


def the_loss():
    """The focal loss of the survey's worked example, defined once (a torch module)."""
    import multiloss.torch as mt

    return mt.FocalLoss(alpha=0.75, gamma=2.0)


# ----------------------------------------------------------------------------- frameworks


def train_torch(loss, data, weights, steps) -> tuple[list[float], object]:
    import torch

    import multiloss.torch as mt

    torch.set_num_threads(1)
    layers = []
    for i, (k, b) in enumerate(weights):
        lin = torch.nn.Linear(k.shape[0], k.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(k.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers += [lin, torch.nn.ReLU() if i < len(weights) - 1 else torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    x, y = torch.from_numpy(data[0]), torch.from_numpy(data[1])
    history = []
    for idx in steps:
        idx = torch.from_numpy(idx)
        opt.zero_grad()
        value = loss(model(x[idx]), y[idx]) + mt.l1_penalty(model, L1) + mt.l2_penalty(model, L2)
        value.backward()
        opt.step()
        history.append(value.item())

    def predict(points):
        with torch.no_grad():
            return model(torch.from_numpy(np.asarray(points, np.float32))).numpy()

    return history, predict


def train_keras(loss, data, weights, steps) -> tuple[list[float], object]:
    import keras
    import tensorflow as tf

    import multiloss

    model = keras.Sequential([keras.Input((2,))] + [
        keras.layers.Dense(k.shape[1], activation="relu" if i < len(weights) - 1 else "sigmoid")
        for i, (k, _) in enumerate(weights)])
    for layer, (k, b) in zip(model.layers, weights):
        layer.set_weights([k, b])
    opt = keras.optimizers.Adam(learning_rate=LR, epsilon=1e-8)
    kernels = [layer.kernel for layer in model.layers]

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            ws = [k.value for k in kernels]
            value = loss(yb, model(xb, training=True)) + multiloss.l1_penalty(ws, L1) + multiloss.l2_penalty(ws, L2)
        grads = tape.gradient(value, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return value

    x, y = data[0], data[1]
    history = [float(step(tf.constant(x[idx]), tf.constant(y[idx]))) for idx in steps]
    return history, lambda points: np.asarray(model(np.asarray(points, np.float32), training=False))


def train_jax(loss, data, weights, steps) -> tuple[list[float], object]:
    import jax
    import jax.numpy as jnp
    import optax

    import multiloss.jax as mj

    params = {f"dense{i}": {"kernel": jnp.asarray(k), "bias": jnp.asarray(b)} for i, (k, b) in enumerate(weights)}

    def forward(params, x):
        n = len(params)
        for i in range(n):
            x = x @ params[f"dense{i}"]["kernel"] + params[f"dense{i}"]["bias"]
            x = jax.nn.relu(x) if i < n - 1 else jax.nn.sigmoid(x)
        return x

    def objective(params, xb, yb):
        return loss(forward(params, xb), yb) + mj.l1_penalty(params, L1) + mj.l2_penalty(params, L2)

    opt = optax.adam(LR)
    state = opt.init(params)

    @jax.jit
    def step(params, state, xb, yb):
        value, grads = jax.value_and_grad(objective)(params, xb, yb)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    x, y = jnp.asarray(data[0]), jnp.asarray(data[1])
    history = []
    for idx in steps:
        params, state, value = step(params, state, x[idx], y[idx])
        history.append(float(value))
    final = params
    return history, lambda points: np.asarray(forward(final, jnp.asarray(np.asarray(points, np.float32))))


# ----------------------------------------------------------------------------- main


def main(epochs: int = 20, seed: int = 0, out: str | None = "docs/ring.png", verbose: bool = True) -> dict:
    import multiloss

    data = ring_data(seed)
    weights = initial_weights(seed + 1)
    steps = list(batches(len(data[0]), epochs, seed + 2))
    focal = the_loss()
    losses = {"torch": focal, "keras": multiloss.port(focal, to="keras"), "jax": multiloss.port(focal, to="jax")}
    if verbose:
        for fw in FRAMEWORKS:
            print(f"{fw:6s} loss: {multiloss.port.plan(focal, to=fw).code if fw != 'torch' else 'mt.FocalLoss(alpha=0.75, gamma=2.0)'}")
    trainers = {"torch": train_torch, "keras": train_keras, "jax": train_jax}
    results = {}
    for fw in FRAMEWORKS:
        history, predict = trainers[fw](losses[fw], data, weights, steps)
        accuracy = float(np.mean((predict(data[2]) >= 0.5) == (data[3] >= 0.5)))
        results[fw] = {"loss": history, "accuracy": accuracy, "predict": predict}
        if verbose:
            print(f"{fw:6s} held-out accuracy {accuracy:.4f}  final training loss {history[-1]:.6f}")
    if verbose:
        for fw in ("keras", "jax"):
            d = np.abs(np.asarray(results[fw]["loss"]) - np.asarray(results["torch"]["loss"]))
            rel = d / np.abs(np.asarray(results["torch"]["loss"]))
            print(f"{fw:6s} vs torch: max relative loss difference {rel[:10].max():.1e} over the first 10 steps, "
                  f"{rel.max():.1e} over all {len(rel)}")
    if out:
        figure(results, data, out)
        if verbose:
            print(f"figure written to {out}")
    return results


def figure(results: dict, data: tuple, out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"torch": "tab:red", "keras": "tab:blue", "jax": "tab:green"}
    styles = {"torch": "-", "keras": "--", "jax": ":"}
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 5), gridspec_kw={"width_ratios": [1.05, 1.3, 1.3]})
    x_test, y_test = data[2], data[3][:, 0]
    ax1.scatter(x_test[y_test == 0, 0], x_test[y_test == 0, 1], s=4, c="0.7", label="negative (r ≈ 8)")
    ax1.scatter(x_test[y_test == 1, 0], x_test[y_test == 1, 1], s=4, c="tab:orange", label="positive (r ≈ 5)")
    g = np.linspace(-12, 12, 241)
    gx, gy = np.meshgrid(g, g)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    for fw, r in results.items():
        p = r["predict"](grid).reshape(gx.shape)
        ax1.contour(gx, gy, p, levels=[0.5], colors=colors[fw], linestyles=styles[fw], linewidths=1.6)
        ax1.plot([], [], color=colors[fw], ls=styles[fw], label=f"{fw}: p = 0.5 (held-out acc. {r['accuracy']:.3f})")
    ax1.set_aspect("equal")
    ax1.set_xlim(-12, 12)
    ax1.set_ylim(-12, 12)
    ax1.set_title("held-out data and decision boundaries")
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), fontsize=7, ncol=2, frameon=False)
    for fw, r in results.items():
        ax2.plot(np.arange(1, len(r["loss"]) + 1), r["loss"], color=colors[fw], ls=styles[fw], lw=1.2, label=fw)
    ax2.set_yscale("log")
    ax2.set_xlabel("training step (batch of 100)")
    ax2.set_ylabel("focal + L1 + L2")
    ax2.set_title("training loss, one loss ported to three frameworks")
    ax2.legend()
    base = np.asarray(results["torch"]["loss"])
    for fw in ("keras", "jax"):
        rel = np.abs(np.asarray(results[fw]["loss"]) - base) / np.abs(base)
        ax3.plot(np.arange(1, len(rel) + 1), np.maximum(rel, 1e-9), color=colors[fw], ls=styles[fw], lw=1.0,
                 label=f"|{fw} - torch| / torch")
    ax3.axhline(np.finfo(np.float32).eps, color="0.4", lw=0.8, ls="-.", label="float32 epsilon")
    ax3.set_xscale("log")
    ax3.set_yscale("log")
    ax3.set_xlabel("training step")
    ax3.set_title("distance to torch's loss (1e-9: equal)")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    pathlib.Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1] / "docs" / "ring.png"))
    a = ap.parse_args()
    main(a.epochs, a.seed, a.out)
