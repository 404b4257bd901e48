"""The loss survey's ring example on multiloss.torch: a ring dataset, a 2-4-8-1 MLP, focal loss
on sigmoid outputs plus L1 and L2 weight penalties, Adam (lr 0.002).

Data: 1000 positives on a ring of radius ~5 and 6000 negatives on a ring of radius ~8 (2-D
points, Gaussian radial and positional noise, fixed seed): imbalanced 1:6, which is what
the focal loss (alpha=0.75, gamma=2) is for.

    python examples/torch_ring_focal.py --epochs 30

``main(epochs, seed)`` returns the per-epoch mean training loss (focal + penalties).
"""

from __future__ import annotations

import argparse
import math

import torch

import multiloss.torch as mt


def ring_data(n_pos: int = 1000, n_neg: int = 6000, r_pos: float = 5.0, r_neg: float = 8.0,
              noise: float = 0.5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Points ``(n_pos + n_neg, 2)`` and labels ``(n_pos + n_neg, 1)`` in {0, 1}, shuffled."""
    g = torch.Generator().manual_seed(seed)

    def ring(n, r):
        theta = torch.rand(n, generator=g) * 2 * math.pi
        radius = r + noise * torch.randn(n, generator=g)
        pts = torch.stack([radius * torch.cos(theta), radius * torch.sin(theta)], dim=1)
        return pts + 0.1 * noise * torch.randn(n, 2, generator=g)

    x = torch.cat([ring(n_pos, r_pos), ring(n_neg, r_neg)])
    y = torch.cat([torch.ones(n_pos, 1), torch.zeros(n_neg, 1)])
    perm = torch.randperm(len(x), generator=g)
    return x[perm], y[perm]


def make_model() -> torch.nn.Module:
    """The survey's 2-4-8-1 MLP: ReLU hidden layers, a sigmoid output (probabilities)."""
    return torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.ReLU(),
        torch.nn.Linear(4, 8), torch.nn.ReLU(),
        torch.nn.Linear(8, 1), torch.nn.Sigmoid(),
    )


def main(epochs: int = 30, seed: int = 0, batch_size: int = 128, lr: float = 0.002,
         l1: float = 1e-4, l2: float = 1e-4, verbose: bool = False) -> list[float]:
    """Train and return the mean loss of each epoch (focal + l1_penalty + l2_penalty)."""
    torch.manual_seed(seed)
    x, y = ring_data(seed=seed)
    # standardise the inputs (radius 5 vs 8 is then O(1) for the small net)
    x = (x - x.mean(0)) / x.std(0)
    model = make_model()
    criterion = mt.FocalLoss(alpha=0.75, gamma=2.0)  # on probabilities (sigmoid outputs)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed + 1)
    history = []
    for epoch in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        total, batches = 0.0, 0
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            p = model(x[idx])
            loss = criterion(p, y[idx]) + mt.l1_penalty(model, l1) + mt.l2_penalty(model, l2)
            loss.backward()
            opt.step()
            total += loss.item()
            batches += 1
        history.append(total / batches)
        if verbose:
            with torch.no_grad():
                acc = ((model(x) > 0.5).float() == y).float().mean().item()
            print(f"epoch {epoch + 1:3d}  loss {history[-1]:.5f}  accuracy {acc:.3f}")
    return history


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    main(args.epochs, args.seed, verbose=True)
