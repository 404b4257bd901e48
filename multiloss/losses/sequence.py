"""Sequence losses, canonical form (``input``/y_pred first, torch names and defaults).

CTC's dynamic program is the ``_ops.ctc_neg_log_likelihood`` primitive: a log-space alpha
recursion written once against the Array API through ``_ops.scan`` (``jax.lax.scan`` under
jax, ``tf.while_loop`` under TensorFlow, a Python loop elsewhere); torch overrides the whole
primitive with its native kernel ``torch.ctc_loss``.
"""

from __future__ import annotations

import numbers
from typing import Any

from .. import _ops
from .._namespace import array_namespace, is_array
from .._reduction import TORCH_REDUCTIONS
from .._validation import check_all, check_floating, check_min_max, check_reduction, dtype_name, shape_of
from ._common import is_number

__all__ = ["ctc_loss"]


def _device(x: Any) -> Any:
    """``x.device`` for new arrays on ``x``'s device (torch CUDA); ``None`` for a jax tracer,
    which has none (XLA places the whole computation)."""
    return getattr(x, "device", None)


def _lengths(xp, fn: str, name: str, x: Any, n: int | None, batched: bool, like: Any) -> Any:
    """``input_lengths``/``target_lengths`` as an integer ``(N,)`` array. Python ints and
    sequences of ints are accepted as torch accepts them; arrays must be integer, ``(N,)``
    batched and ``()`` unbatched (also ``(1,)``)."""
    if not is_array(x) or isinstance(x, (tuple, list)):
        values = x if isinstance(x, (tuple, list)) else [x]
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            raise TypeError(f"{fn}: argument '{name}' must hold integers; got {x!r}")
        x = xp.asarray(values if batched or isinstance(x, (tuple, list)) else values[0],
                       dtype=like.dtype, device=_device(like))
    if not xp.isdtype(x.dtype, "integral"):
        raise TypeError(
            f"{fn}: argument '{name}' must be an integer array; got dtype {dtype_name(x)} "
            f"with shape {shape_of(x)}"
        )
    s = shape_of(x)
    if batched:
        if len(s) != 1 or (n is not None and s[0] is not None and s[0] != n):
            raise ValueError(
                f"{fn}: argument '{name}' must have shape ({n},), one length per sequence of "
                f"'log_probs' (T, N, C); got shape {s}"
            )
        return x
    if s not in ((), (1,)):
        raise ValueError(f"{fn}: argument '{name}' must be a 0-d array for unbatched (T, C) "
                         f"'log_probs'; got shape {s}")
    return xp.reshape(x, (1,))


def _check_range(xp, fn: str, name: str, x: Any, hi: int | None, hi_what: str) -> int | None:
    """Lengths in ``[0, hi]``, by the value-check mode (read on the host, asserted on the device
    or skipped: :mod:`multiloss.checks`); returns the largest length when the values were read
    (``None`` otherwise, e.g. under ``jit`` or on an accelerator)."""
    if shape_of(x)[0] == 0:
        return 0
    read = check_min_max(
        xp, x, (lambda lo, top: lo >= 0) if hi is None else (lambda lo, top: (lo >= 0) & (top <= hi)),
        lambda lo, top: ValueError(f"{fn}: argument '{name}' must hold lengths in [0, {hi}] ({hi_what}); got "
                                   f"values in [{lo}, {top}]"),
        lambda: f"{fn}: argument '{name}' must hold lengths in [0, {hi}] ({hi_what}); got a value out of range",
        cast=int,
    )
    return None if read is None else read[1]


def _check_targets(xp, fn: str, targets: Any, valid: Any, n_classes: int, blank: int) -> None:
    """Labels inside the target lengths in ``[0, C)`` and not the blank, by the value-check mode."""
    if 0 in shape_of(targets):
        return
    what = f"must hold class indices in [0, {n_classes}) other than the blank ({blank}) within each target length"
    if n_classes is not None and n_classes > 1 and blank in (0, n_classes - 1):
        # the blank at an end of [0, C) (0: torch's and keras's default): the valid labels are
        # one interval, so one min/max of the labels (padding filled with a valid one) says it
        # all: one reduction instead of seven elementwise ops and an all()
        low, high = (1, n_classes) if blank == 0 else (0, n_classes - 1)
        check_min_max(
            xp, xp.where(valid, targets, low), lambda lo, hi: (lo >= low) & (hi < high),
            lambda lo, hi: ValueError(f"{fn}: argument 'targets' {what}; got {lo if lo < low else hi}"),
            lambda: f"{fn}: argument 'targets' {what}; got a value out of range or the blank",
            cast=int,
        )
        return

    def host_error(t: Any, good: Any) -> Exception:
        i = int(xp.argmax(xp.astype(xp.reshape(~good, (-1,)), xp.int32)))
        return ValueError(f"{fn}: argument 'targets' {what}; got {int(xp.reshape(t, (-1,))[i])}")

    check_all(xp, targets, lambda t: ~(valid & ((t < 0) | (t >= n_classes) | (t == blank))), host_error,
              lambda: f"{fn}: argument 'targets' {what}; got a value out of range or the blank")


def _check_total(xp, fn: str, target_lengths: Any, total: int) -> None:
    """Concatenated targets: the lengths add up to their length, as torch checks (by the
    value-check mode)."""
    check_min_max(
        xp, target_lengths, lambda got, _: got == total,
        lambda got, _: ValueError(f"{fn}: argument 'target_lengths' must add up to the length of the "
                                  f"concatenated 'targets' {total}; got a sum of {got}"),
        lambda: f"{fn}: argument 'target_lengths' must add up to the length of the concatenated 'targets' "
                f"{total}; got another sum",
        of=xp.sum, cast=int,
    )


def _unconcatenate(xp, targets: Any, target_lengths: Any, max_length: int | None) -> Any:
    """torch's concatenated targets ``(sum(target_lengths),)`` as padded ``(N, S)`` rows.

    ``S`` is the longest target when the lengths are concrete, else the total length (a static
    shape under ``jit``/``tf.function``: correct, with a larger lattice)."""
    total = shape_of(targets)[0]
    width = total if max_length is None else max_length
    ends = xp.cumulative_sum(target_lengths)
    starts = ends - target_lengths
    pos = xp.arange(width, dtype=target_lengths.dtype, device=_device(target_lengths))
    idx = xp.expand_dims(starts, axis=1) + xp.expand_dims(pos, axis=0)
    if total == 0:
        return xp.zeros(idx.shape, dtype=targets.dtype, device=_device(targets))
    idx = xp.where(idx < total, idx, 0)
    flat = xp.take(targets, xp.reshape(idx, (-1,)), axis=0)
    return xp.reshape(flat, idx.shape)


def ctc_loss(
    log_probs: Any,
    targets: Any,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    *,
    log_epsilon: float | None = None,
) -> Any:
    r"""Connectionist Temporal Classification loss (Graves et al. 2006):
    :math:`\ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(y_n)} \prod_{t < T_n} p_t(\pi_t)`,
    the sum over every alignment :math:`\pi` of the first :math:`T_n` frames that collapses to
    the target :math:`y_n` once repeats are merged and blanks removed (a forward recursion over
    the ``2 S + 1`` states of the blank-extended target, in log space).

    Shapes: ``log_probs`` ``(T, N, C)`` log-probabilities (e.g. ``log_softmax`` outputs) or
    unbatched ``(T, C)``; ``targets`` padded ``(N, S)`` class indices (entries past a target
    length are ignored) or the concatenated targets ``(sum(target_lengths),)``; unbatched
    ``(S,)``. ``input_lengths``/``target_lengths`` ``(N,)`` integers (arrays, or Python ints)
    with ``input_lengths <= T`` and ``target_lengths <= S``; labels must differ from ``blank``.
    ``reduction``: ``'none'`` gives ``(N,)``; ``'mean'`` divides each loss by its target length
    (at least 1) and averages over the batch; ``'sum'`` adds. A target too long for its input
    has no alignment: ``inf`` (with ``zero_infinity``: 0, gradient 0).

    Gradient w.r.t. ``log_probs`` is torch's: ``exp(log_probs) - posterior`` on each sequence's
    frames (the gradient of the loss of ``log_softmax(log_probs)``; see
    ``_ops.ctc_neg_log_likelihood``), so feed log-softmax outputs, as torch requires.
    Concatenated targets under ``jit``/``tf.function`` (lengths unreadable) use a lattice of the
    total target length: the same values, more work.

    ``log_epsilon`` (keyword-only, multiloss's; for optax): ``None`` is an exact log(0), as
    torch and keras. A float, optax's ``log_epsilon`` (``-1e5``), stands in for log(0) as optax
    does: unreachable states start there and a barred step costs it, so a target without
    alignment gets a large finite loss (about ``-log_epsilon`` per missing step) instead of
    ``inf``; it changes nothing else (``exp(log_epsilon)`` is 0 in floating point).

    torch: ``F.ctc_loss`` / ``nn.CTCLoss``; keras: ``ctc`` / ``CTC`` (logits ``(N, T, C)``,
    labels padded with the blank 0, every frame used); optax: ``ctc_loss`` (logits and
    paddings, per sequence, ``log_epsilon=-1e5``).
    """
    fn = "ctc_loss"
    arrays = [x for x in (input_lengths, target_lengths) if not isinstance(x, (tuple, list))]
    xp = array_namespace(log_probs, targets, *arrays, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "log_probs", log_probs)
    shape = shape_of(log_probs)
    if len(shape) not in (2, 3):
        raise ValueError(f"{fn}: argument 'log_probs' must have shape (T, N, C), or (T, C) "
                         f"unbatched; got shape {shape}")
    batched = len(shape) == 3
    n_frames, n_classes = shape[0], shape[-1]
    n = shape[1] if batched else 1
    if not isinstance(blank, numbers.Integral) or isinstance(blank, bool) or (
        n_classes is not None and not 0 <= blank < n_classes
    ):
        raise ValueError(f"{fn}: argument 'blank' must be an int in [0, {n_classes}) (the "
                         f"class axis of 'log_probs' {shape}); got {blank!r}")
    if log_epsilon is not None and is_number(log_epsilon) and not log_epsilon < 0:
        raise ValueError(f"{fn}: argument 'log_epsilon' must be a negative number (optax: -1e5) or "
                         f"None; got {log_epsilon!r}")
    if not is_array(targets):
        raise TypeError(f"{fn}: argument 'targets' must be an integer array of class indices; got {targets!r}")
    if not xp.isdtype(targets.dtype, "integral"):
        raise TypeError(
            f"{fn}: argument 'targets' holds class indices and must be an integer array; got "
            f"dtype {dtype_name(targets)} with shape {shape_of(targets)}"
        )
    input_lengths = _lengths(xp, fn, "input_lengths", input_lengths, n, batched, targets)
    target_lengths = _lengths(xp, fn, "target_lengths", target_lengths, n, batched, targets)
    t_shape = shape_of(targets)
    concatenated = batched and len(t_shape) == 1
    if not batched and len(t_shape) == 1:
        targets = xp.reshape(targets, (1, t_shape[0]))
    elif len(t_shape) != 2 and not concatenated or (len(t_shape) == 2 and t_shape[0] != n):
        raise ValueError(
            f"{fn}: argument 'targets' must have shape (N, S) with N = {n} (padded) or "
            f"(sum(target_lengths),) (concatenated)" + ("" if batched else " or (S,) unbatched")
            + f"; got shape {t_shape}"
        )
    # padded batched targets with an exact log(0) may run as one native kernel (torch's
    # ctc_loss), which checks both lengths' ranges itself (on the device): ours run only when it
    # raises (for the message) or when no kernel takes the call. It does not check the labels.
    fusable = batched and not concatenated and log_epsilon is None

    def check_lengths() -> None:
        _check_range(xp, fn, "input_lengths", input_lengths, n_frames, "T, the frames of 'log_probs'")
        _check_range(xp, fn, "target_lengths", target_lengths, shape_of(targets)[1],
                     "S, the padded length of 'targets'")

    if concatenated:
        _check_range(xp, fn, "input_lengths", input_lengths, n_frames, "T, the frames of 'log_probs'")
        longest = _check_range(xp, fn, "target_lengths", target_lengths, None, "")
        _check_total(xp, fn, target_lengths, t_shape[0])
        targets = _unconcatenate(xp, targets, target_lengths, longest)
    elif not fusable:
        check_lengths()
    width = shape_of(targets)[1]
    pos = xp.arange(width, dtype=target_lengths.dtype, device=_device(target_lengths))
    valid = xp.expand_dims(pos, axis=0) < xp.expand_dims(target_lengths, axis=1)
    _check_targets(xp, fn, targets, valid, n_classes, blank)
    if fusable:
        try:
            out = _ops.fused_loss(xp, fn, log_probs, targets, input_lengths, target_lengths, blank, reduction,
                                  zero_infinity)
        except RuntimeError:
            check_lengths()  # the kernel's "Expected input_lengths to have value at most 6": ours
            raise
        if out is not NotImplemented:
            return out
        check_lengths()
    # padding is never read by the recursion, but it is gathered: make it a valid index
    targets = xp.where(valid, targets, blank)
    lp = log_probs if batched else xp.expand_dims(log_probs, axis=1)
    nll = _ops.ctc_neg_log_likelihood(xp, lp, targets, input_lengths, target_lengths, blank=blank,
                                      zero_infinity=zero_infinity, log_epsilon=log_epsilon)
    if reduction == "none":
        return nll if batched else xp.reshape(nll, ())
    if reduction == "sum":
        return xp.sum(nll)
    divisor = xp.astype(xp.where(target_lengths > 1, target_lengths, 1), nll.dtype)
    return xp.mean(nll / divisor)
