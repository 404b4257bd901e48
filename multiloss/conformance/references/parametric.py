"""float64 references of the losses with parameters (``multiloss/losses/parametric.py``) and
the input domains that carry their parameter arrays in ``args``.

``linear_cross_entropy``: the logits are materialised (``x @ W.T + b``) and handed to the
loop-based cross-entropy reference of the classification family -- the canonical function
never holds them, so this is an independent check of its algebra. ``adaptive_log_softmax``:
torch's ``AdaptiveLogSoftmaxWithLoss.forward`` written as a loop over rows.
"""

from __future__ import annotations

import numpy as np

from ..domains import N, domain
from ._base import CLASS_W, RED, reference
from .classification import cross_entropy as _cross_entropy_ref

D = 4  # in_features: C = 5 > D, so the default chunking splits N = 8 rows into 2 chunks
C = 5
LIN_BIAS = np.linspace(-0.5, 0.7, C)
LIN_BIAS_3D = np.linspace(-0.5, 0.7, C * 3).reshape(C, 3)


def _weight(rng, *shape):
    return rng.normal(scale=0.8, size=shape)


def _lin(x, linear_weight, target):
    """torch's argument order ``(input, linear_weight, target)``: the runner calls
    ``f(pred, target, *args)``, so the domain's "target" slot carries the linear weight and the
    class targets come as the one extra positional input."""
    return {"pred": x, "target": linear_weight, "args": (target,)}


@domain("linear_class_index")
def _linear_class_index(rng):
    return _lin(rng.normal(size=(N, D)), _weight(rng, C, D), rng.integers(0, C, size=(N,)))


@domain("linear_class_index_ignore")
def _linear_class_index_ignore(rng):
    out = _linear_class_index(rng)
    out["args"][0][[1, 5]] = -100
    return out


@domain("linear_class_prob")
def _linear_class_prob(rng):
    z = rng.normal(size=(N, C))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return _lin(rng.normal(size=(N, D)), _weight(rng, C, D), e / e.sum(axis=1, keepdims=True))


@domain("linear_class_index_3d")
def _linear_class_index_3d(rng):
    """K-dimensional loss: linear_weight (C, 3, D), logits (N, C, 3), targets (N, 3)."""
    return _lin(rng.normal(size=(N, D)), _weight(rng, C, 3, D), rng.integers(0, C, size=(N, 3)))


_HIGH = ("float64", "float32")


# float16/bfloat16 on the main options; the chunking, ignore and K-dim variants in float64/32
# (the torch native checks hold LinearCrossEntropyLoss in all four dtypes as well)
@reference("linear_cross_entropy", "linear_class_index",
           [*RED, {"linear_bias": LIN_BIAS}, {"weight": CLASS_W}, {"label_smoothing": 0.1},
            {"weight": CLASS_W, "label_smoothing": 0.2, "linear_bias": LIN_BIAS, "reduction": "none"}], staged=True)
@reference("linear_cross_entropy", "linear_class_index",
           [{"chunk_size": 1}, {"chunk_size": 3, "reduction": "sum"}, {"chunk_size": 100}, {"ignore_index": 3},
            {"ignore_index": 3, "weight": CLASS_W, "label_smoothing": 0.1}], dtypes=_HIGH, staged=True)
@reference("linear_cross_entropy", "linear_class_index_ignore",
           [{}, {"weight": CLASS_W, "label_smoothing": 0.1}, {"reduction": "none"}], dtypes=_HIGH, staged=True)
@reference("linear_cross_entropy", "linear_class_prob",
           [*RED, {"weight": CLASS_W}, {"label_smoothing": 0.1, "linear_bias": LIN_BIAS, "chunk_size": 3}],
           dtypes=_HIGH, staged=True)
@reference("linear_cross_entropy", "linear_class_index_3d",
           [{}, {"reduction": "none", "linear_bias": LIN_BIAS_3D}, {"weight": CLASS_W, "label_smoothing": 0.1}],
           dtypes=_HIGH, staged=True)
def linear_cross_entropy(x, linear_weight, target, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, chunk_size=None):
    # torch/nn/functional.py linear_cross_entropy: logits = linear(input, W.reshape(C*prod(d), D))
    # reshaped to (*batch, C, *d); then cross_entropy with ignore_index None -> -100
    w2 = linear_weight.reshape(-1, linear_weight.shape[-1])
    logits = x @ w2.T
    if linear_bias is not None:
        logits = logits + linear_bias.reshape(-1)
    logits = logits.reshape(*x.shape[:-1], *linear_weight.shape[:-1])
    ii = -100 if ignore_index is None else ignore_index
    return _cross_entropy_ref(logits, target, reduction, weight, ii, label_smoothing)


# ----------------------------------------------------------------------------- adaptive softmax

ASM_D = 6
ASM_CUTOFFS = (2, 4)  # shortlist {0, 1}; clusters [2, 4) and [4, 7): n_classes = 7
ASM_HIDDEN = (3, 2)
ASM_N_CLASSES = 7


def _asm_params(rng, head_bias=False):
    """Parameters in torch's layout: head (shortlist + n_clusters, D), tail i = (projection
    (hidden_i, D), output (cluster size, hidden_i))."""
    full = (*ASM_CUTOFFS, ASM_N_CLASSES)
    head = rng.normal(scale=0.7, size=(ASM_CUTOFFS[0] + len(ASM_CUTOFFS), ASM_D))
    tail = tuple(
        (rng.normal(scale=0.7, size=(h, ASM_D)), rng.normal(scale=0.7, size=(full[i + 1] - full[i], h)))
        for i, h in enumerate(ASM_HIDDEN)
    )
    bias = rng.normal(scale=0.5, size=(head.shape[0],)) if head_bias else None
    return head, tail, bias


@domain("adaptive_softmax")
def _adaptive_softmax(rng):
    """Adaptive softmax inputs (torch's parameter layout in ``args``: head weight, the tail's
    (projection, output) pairs, the cutoffs); targets hit the shortlist and both clusters."""
    head, tail, _ = _asm_params(rng)
    target = rng.integers(0, ASM_N_CLASSES, size=(N,))
    target[:3] = (0, 3, 6)
    return {"pred": rng.normal(size=(N, ASM_D)), "target": target, "args": (head, tail, ASM_CUTOFFS)}


ASM_HEAD_BIAS = np.linspace(-0.4, 0.6, ASM_CUTOFFS[0] + len(ASM_CUTOFFS))


@reference("adaptive_log_softmax_with_loss", "adaptive_softmax", [{}, {"head_bias": ASM_HEAD_BIAS}], staged=True)
def adaptive_log_softmax(x, target, head_weight, tail_weights, cutoffs, head_bias=None):
    """torch ``AdaptiveLogSoftmaxWithLoss.forward`` (torch/nn/modules/adaptive.py), one row at a
    time: ``(output, loss)`` with output the target's log-probability, loss its negative mean."""
    batched = target.ndim == 1
    xs = x if batched else x[None]
    ts = target.reshape(-1)
    full = [*cutoffs, cutoffs[-1] + tail_weights[-1][1].shape[0]]
    out = np.empty(len(ts))
    for r, (row, t) in enumerate(zip(xs, ts)):
        h = head_weight @ row + (0.0 if head_bias is None else head_bias)
        head_lp = _log_softmax_row(h)
        if t < full[0]:
            out[r] = head_lp[t]
            continue
        i = next(k for k in range(len(full) - 1) if full[k] <= t < full[k + 1])
        proj, o = tail_weights[i]
        cl_lp = _log_softmax_row(o @ (proj @ row))
        out[r] = cl_lp[t - full[i]] + head_lp[full[0] + i]
    loss = np.asarray(-out.mean())
    return (out if batched else out.reshape(())), loss


def _log_softmax_row(z):
    m = z.max()
    return z - m - np.log(np.exp(z - m).sum())


def adaptive_log_prob(x, head_weight, tail_weights, cutoffs, head_bias=None):
    """torch ``AdaptiveLogSoftmaxWithLoss.log_prob``: every class's log-probability, per row."""
    full = [*cutoffs, cutoffs[-1] + tail_weights[-1][1].shape[0]]
    rows = []
    for row in x:
        h = head_weight @ row + (0.0 if head_bias is None else head_bias)
        head_lp = _log_softmax_row(h)
        lp = list(head_lp[: full[0]])
        for i, (proj, o) in enumerate(tail_weights):
            lp.extend(_log_softmax_row(o @ (proj @ row)) + head_lp[full[0] + i])
        rows.append(lp)
    return np.array(rows)
