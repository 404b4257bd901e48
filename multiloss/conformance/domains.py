"""Input domains for conformance cases: deterministic float64/int64 NumPy inputs.

``make(name, seed)`` returns ``{"pred": ..., "target": ...}`` (plus ``"sample_weight"`` of
shape ``(N,)`` when the name ends in ``+sw``, and ``"args"``: a tuple of further positional
inputs after the target, for losses of more than two arrays: a variance, a third embedding,
sequence lengths). Gradients are checked with respect to ``pred``. Shapes are small (N=8, C=5) so the whole
matrix runs in seconds; values are kept away from kinks (|x - y| near a Huber delta,
probabilities near 0/1) so finite differences and low-precision dtypes are meaningful.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["DOMAINS", "domain", "make", "N", "C"]

N, C = 8, 5


def _softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _away_from(x: np.ndarray, points: tuple[float, ...], gap: float = 0.05) -> np.ndarray:
    for p in points:
        near = np.abs(x - p) < gap
        x = np.where(near, p + np.sign(x - p + 1e-12) * gap, x)
    return x


def _regression(rng):
    pred = rng.normal(size=(N, C))
    target = rng.normal(size=(N, C))
    # keep |pred - target| off the Huber/smooth-L1 kinks at 0.5, 1, 2 and off 0 (|.| kink)
    d = _away_from(pred - target, (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0))
    return {"pred": target + d, "target": target}


def _regression_nonzero_target(rng):
    """MAPE: |target| >= 0.5 so the percentage is well conditioned; same pred - target."""
    out = _regression(rng)
    d = out["pred"] - out["target"]
    t = out["target"]
    out["target"] = np.sign(t + 1e-12) * (0.5 + np.abs(t))
    out["pred"] = out["target"] + d
    return out


def _probabilities(rng):
    return {
        "pred": rng.uniform(0.05, 0.95, size=(N, C)),
        "target": rng.integers(0, 2, size=(N, C)).astype(np.float64),
    }


def _probabilities_soft(rng):
    return {"pred": rng.uniform(0.05, 0.95, size=(N, C)), "target": rng.uniform(0, 1, size=(N, C))}


def _logits_binary(rng):
    return {
        "pred": rng.normal(scale=3.0, size=(N, C)),
        "target": rng.integers(0, 2, size=(N, C)).astype(np.float64),
    }


def _logits_binary_soft(rng):
    return {"pred": rng.normal(scale=3.0, size=(N, C)), "target": rng.uniform(0, 1, size=(N, C))}


def _hinge(rng):
    pred = _away_from(rng.normal(size=(N, C)), (-1.0, 1.0), 0.1)
    target = rng.choice(np.array([-1.0, 1.0]), size=(N, C))
    return {"pred": pred, "target": target}


def _hinge01(rng):
    out = _hinge(rng)
    out["target"] = (out["target"] + 1) / 2
    return out


def _class_index(rng):
    return {"pred": rng.normal(scale=2.0, size=(N, C)), "target": rng.integers(0, C, size=(N,))}


def _class_index_ignore(rng):
    out = _class_index(rng)
    out["target"][[1, 5]] = -100
    return out


def _class_index_3d(rng):
    return {"pred": rng.normal(scale=2.0, size=(4, C, 3)), "target": rng.integers(0, C, size=(4, 3))}


def _class_prob(rng):
    return {"pred": rng.normal(scale=2.0, size=(N, C)), "target": _softmax(rng.normal(size=(N, C)))}


def _class_onehot(rng):
    idx = rng.integers(0, C, size=(N,))
    return {"pred": rng.normal(scale=2.0, size=(N, C)), "target": np.eye(C)[idx]}


def _probs_onehot(rng):
    """keras CategoricalCrossentropy(from_logits=False): probability predictions, class last."""
    idx = rng.integers(0, C, size=(N,))
    return {"pred": _softmax(rng.normal(size=(N, C))), "target": np.eye(C)[idx]}


def _probs_index(rng):
    return {"pred": _softmax(rng.normal(size=(N, C))), "target": rng.integers(0, C, size=(N,))}


def _log_probs(rng):
    return {
        "pred": np.log(_softmax(rng.normal(size=(N, C)))),
        "target": _softmax(rng.normal(size=(N, C))),
    }


def _probs_probs(rng):
    """keras KLDivergence: both arguments are probabilities."""
    return {"pred": _softmax(rng.normal(size=(N, C))), "target": _softmax(rng.normal(size=(N, C)))}


DOMAINS: dict[str, Callable[[np.random.Generator], dict]] = {
    "regression": _regression,
    "regression_nonzero_target": _regression_nonzero_target,
    "probabilities": _probabilities,
    "probabilities_soft": _probabilities_soft,
    "logits_binary": _logits_binary,
    "logits_binary_soft": _logits_binary_soft,
    "hinge": _hinge,
    "hinge01": _hinge01,
    "class_index": _class_index,
    "class_index_ignore": _class_index_ignore,
    "class_index_3d": _class_index_3d,
    "class_prob": _class_prob,
    "class_onehot": _class_onehot,
    "probs_onehot": _probs_onehot,
    "probs_index": _probs_index,
    "log_probs": _log_probs,
    "probs_probs": _probs_probs,
}


def domain(name: str) -> Callable:
    """Register the decorated ``(rng) -> dict`` as input domain ``name``. A loss family's
    reference module (:mod:`multiloss.conformance.references`) declares the domains its
    references are checked on this way, next to the references themselves."""

    def register(fn: Callable[[np.random.Generator], dict]) -> Callable[[np.random.Generator], dict]:
        if name in DOMAINS and DOMAINS[name] is not fn:
            raise ValueError(f"conformance domain {name!r} is registered twice")
        DOMAINS[name] = fn
        return fn

    return register


def make(name: str, seed: int = 0) -> dict:
    """Inputs of domain ``name`` (``"<domain>+sw"`` adds a ``sample_weight`` of shape (N,))."""
    from . import references  # noqa: F401  (registers the domains declared beside the references)

    base, _, extra = name.partition("+")
    if base not in DOMAINS:
        raise ValueError(f"unknown conformance domain {base!r}; known: {', '.join(sorted(DOMAINS))}")
    rng = np.random.default_rng(seed)
    out = DOMAINS[base](rng)
    if extra == "sw":
        out["sample_weight"] = rng.uniform(0.0, 2.0, size=(out["pred"].shape[0],))
    elif extra:
        raise ValueError(f"unknown domain suffix {extra!r} in {name!r}; known: '+sw'")
    return out
