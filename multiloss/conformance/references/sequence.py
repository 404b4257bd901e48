"""float64 references of the sequence losses (``multiloss/losses/sequence.py``), and their domain."""

from __future__ import annotations

import math

import numpy as np

from ..domains import domain
from ._base import RED, reference

# T frames, N sequences, C classes (0 = blank), S = the padded target length
CTC_T, CTC_N, CTC_C, CTC_S = 12, 4, 6, 4


@domain("ctc")
def _ctc(rng):
    """log_softmax log-probabilities ``(T, N, C)``; padded targets ``(N, S)`` (pad value 0, the
    blank, as keras pads); ``args = (input_lengths, target_lengths)``. One target has a repeated
    label (needs a blank between), one is empty; one input is shorter than ``T``. Every target
    can be aligned (finite losses)."""
    z = rng.normal(scale=1.5, size=(CTC_T, CTC_N, CTC_C))
    log_probs = z - z.max(axis=-1, keepdims=True)
    log_probs = log_probs - np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
    targets = np.array([[1, 2, 2, 5], [3, 1, 4, 0], [2, 0, 0, 0], [0, 0, 0, 0]], dtype=np.int64)
    input_lengths = np.array([12, 9, 7, 10], dtype=np.int64)
    target_lengths = np.array([4, 3, 1, 0], dtype=np.int64)
    return {"pred": log_probs, "target": targets, "args": (input_lengths, target_lengths)}


def _lse(values):
    m = max(values)
    if m == -math.inf:
        return -math.inf
    return m + math.log(sum(math.exp(v - m) for v in values))


def _ctc_nll(lp, target, n_frames):
    """-log sum over alignments, the textbook alpha recursion over the blank-extended target
    (Graves et al. 2006, eq. 6-8) with -inf for log(0); ``lp`` (T, C), blank 0."""
    ext = [0]
    for y in target:
        ext += [int(y), 0]
    n_states = len(ext)
    alpha = [-math.inf] * n_states
    for t in range(n_frames):
        new = []
        for s in range(n_states):
            if t == 0:
                prev = 0.0 if s < 2 else -math.inf
            else:
                cands = [alpha[s]]
                if s >= 1:
                    cands.append(alpha[s - 1])
                if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                    cands.append(alpha[s - 2])
                prev = _lse(cands)
            new.append(prev + lp[t, ext[s]])
        alpha = new
    if n_frames == 0:
        return 0.0 if not target else math.inf
    return -_lse(alpha[-2:] if len(target) else alpha[-1:])


@reference("ctc_loss", "ctc", [*RED, {"zero_infinity": True}], staged=True)
def ctc(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    # torch's ctc_loss backward (aten/src/ATen/native/LossCTC.cpp, ctc_loss_backward_cpu_template)
    # returns exp(lp) - posterior on the frames before the input length: the gradient of
    # ctc(log_softmax(lp)), not of ctc(lp) (which is -posterior). The runner checks gradients
    # by finite differences of this function, so it evaluates ctc on log_softmax(lp): the same
    # value on the domain's normalised log-probabilities, and torch's gradient.
    assert blank == 0
    lp = log_probs - log_probs.max(axis=-1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(axis=-1, keepdims=True))
    losses = np.array([
        _ctc_nll(lp[:, n, :], list(targets[n, : target_lengths[n]]), int(input_lengths[n]))
        for n in range(lp.shape[1])
    ])
    if zero_infinity:
        losses = np.where(np.isinf(losses), 0.0, losses)
    if reduction == "mean":
        return np.asarray(np.mean(losses / np.maximum(target_lengths, 1)))
    if reduction == "sum":
        return np.asarray(losses.sum())
    return losses


@domain("ctc_logits")
def _ctc_logits(rng):
    """keras ``CTC``: logits ``(N, T, C)`` (batch first; keras applies the softmax) and the
    ``ctc`` domain's labels right-padded with 0, which keras reads as both padding and blank
    (every frame counts). Native checks only (the canonical loss takes log-probabilities)."""
    out = _ctc(rng)
    return {"pred": rng.normal(scale=1.5, size=(CTC_N, CTC_T, CTC_C)), "target": out["target"]}


@domain("ctc_optax")
def _ctc_optax(rng):
    """optax ``ctc_loss(logits, logit_paddings, labels, label_paddings)``: logits ``(B, T, K)``,
    paddings 1.0 where padded. Sequence 2 is padded inside (frames 2, 5, 9-11), sequence 4 has
    two frames for a repeated label pair (no alignment: optax's large finite loss)."""
    n, t, s = CTC_N + 1, CTC_T, CTC_S
    logits = rng.normal(scale=1.5, size=(n, t, CTC_C))
    labels = np.array([[1, 2, 2, 5], [3, 1, 4, 0], [2, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0]], dtype=np.int64)
    label_lengths = np.array([4, 3, 1, 0, 2])
    logit_paddings = np.zeros((n, t))
    logit_paddings[1, 9:] = 1.0
    logit_paddings[2, [2, 5, 9, 10, 11]] = 1.0
    logit_paddings[3, 10:] = 1.0
    logit_paddings[4, 2:] = 1.0
    label_paddings = (np.arange(s)[None, :] >= label_lengths[:, None]).astype(np.float64)
    return {"pred": logits, "target": logit_paddings, "args": (labels, label_paddings)}


@domain("ctc_optax_feasible")
def _ctc_optax_feasible(rng):
    """``ctc_optax`` without its unalignable sequence, whose float32 gradient is noise in optax
    and here alike (its forward values sit near -log_epsilon = 1e5, resolved to 1e-2)."""
    out = _ctc_optax(rng)
    labels, label_paddings = out["args"]
    return {"pred": out["pred"][:-1], "target": out["target"][:-1], "args": (labels[:-1], label_paddings[:-1])}
