"""Losses with parameters, canonical form: the parameters are arrays passed to the function
(``input`` first, torch names and semantics); the adapters own them (torch ``nn.Parameter``,
keras weights, a jax pytree).

* :func:`linear_cross_entropy` -- cross-entropy of a linear head, chunked so the ``(N, C)``
  logits are never held at once (torch 2.13 ``F.linear_cross_entropy``).
* :func:`adaptive_log_softmax_with_loss` -- the adaptive softmax of Grave et al. (torch
  ``nn.AdaptiveLogSoftmaxWithLoss.forward``), with :func:`adaptive_log_softmax_log_prob` and
  :func:`adaptive_log_softmax_predict` (that module's ``log_prob`` and ``predict``; functions
  over the same parameters, not losses, hence not in ``__all__`` but in :data:`HELPERS`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

from .. import _ops
from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS
from .._validation import (
    check_class_targets,
    check_floating,
    check_integer,
    check_reduction,
    check_weight,
    dtype_name,
    shape_of,
)
from ._common import as_float_like

__all__ = ["linear_cross_entropy", "adaptive_log_softmax_with_loss"]

# functions over a loss's parameters that are not losses themselves (no conformance case, no
# adapter row of their own): the adapters expose them as methods (torch ``log_prob``/``predict``)
HELPERS = ["adaptive_log_softmax_log_prob", "adaptive_log_softmax_predict"]


class _Logits:
    """Stands for logits that are never materialised: only their shape, for the class-index
    target check of :func:`multiloss._validation.check_class_targets` (which reads ``.shape``)."""

    def __init__(self, shape: tuple) -> None:
        self.shape = shape


def _prod(dims) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


def _same_dtype(fn: str, name: str, x: Any, like_name: str, like: Any) -> None:
    if x is not None and x.dtype != like.dtype:
        raise TypeError(
            f"{fn}: argument '{name}' must have the dtype of '{like_name}' ({dtype_name(like)}); "
            f"got {dtype_name(x)}"
        )


# ----------------------------------------------------------------------------- linear CE


# the largest logits (N x C x d1...dK elements) computed unchunked by default (see
# linear_cross_entropy): 4 MiB in float32
PLAIN_MAX_LOGITS = 1 << 20


def _default_chunk(n: int | None, in_features: int, logits_per_row: int) -> int | None:
    """Rows per chunk whose logits take about as much memory as the larger of the input
    (torch 2.13's ``chunking_method="aspect_ratio"``, ``ceil(N / ceil(C / D))``, without its
    power-of-2 rounding) and a quarter of the weight (``D / 4`` rows): not fewer rows, since
    every chunk re-reads the weight three times (logits, d/dx, d/dw). Measured on an H100
    (torch 2.11, 2026-11-26), forward+backward of an 8192 x 4096 -> 128256 bfloat16 head,
    torch's unchunked path 41 ms / 4.8 GiB: 256-row chunks 86 ms / 1.0 GiB, 1024 rows (this
    rule) 59 ms / 1.3 GiB, 2048 rows 57 ms / 2.6 GiB. One chunk when ``N`` is unknown."""
    if n is None or n == 0:
        return None
    ratio = -(-logits_per_row // max(in_features, 1))
    return max(1, -(-n // ratio), in_features // 4)


def linear_cross_entropy(
    input: Any,
    linear_weight: Any,
    target: Any,
    *,
    linear_bias: Any = None,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
    chunk_size: int | None = None,
) -> Any:
    r"""Cross-entropy of a linear head: ``cross_entropy(input @ linear_weight.T + linear_bias,
    target, weight, ignore_index, reduction, label_smoothing)``, computed without ever holding
    the ``(N, C)`` logits.

    With :math:`z_{n,c} = x_n \cdot W_c + b_c` and :math:`L_n = \log\sum_c e^{z_{n,c}}`,
    class-index targets give
    :math:`\ell_n = (1-ε)\,w_{y_n}(L_n - z_{n,y_n}) + \tfrac{ε}{C}\sum_c w_c (L_n - z_{n,c})`
    (0 where ``y_n == ignore_index``; ``mean`` divides by :math:`\sum_n w_{y_n}` over the
    non-ignored rows) and probability targets :math:`\ell_n = \sum_c w_c y'_{n,c}(L_n - z_{n,c})`
    with :math:`y' = (1-ε)y + ε/C` (``mean`` divides by the number of rows). Only :math:`L_n`
    and the target's logits need the logits: they are computed ``chunk_size`` rows at a time by
    the primitive :func:`multiloss._ops.linear_softmax_cross_entropy` (torch: a custom autograd
    function that also computes the gradient chunk by chunk in the forward pass, so
    forward+backward peaks at one chunk of logits instead of ~3 full copies); the smoothing
    term :math:`\sum_c w_c z_{n,c} = x_n \cdot \sum_c w_c W_c + \sum_c w_c b_c` needs none.

    Shapes: ``input`` ``(N, D)`` or ``(D,)``; ``linear_weight`` ``(C, D)`` or
    ``(C, d1, ..., dK, D)`` (K-dimensional loss, batched input only; logits
    ``(N, C, d1, ..., dK)``); ``linear_bias`` ``linear_weight.shape[:-1]``; ``target`` class
    indices ``(N,)``/``()``/``(N, d1, ..., dK)`` in ``[0, C)``, or probabilities of the logits'
    shape (float); ``weight`` ``(C,)``. ``chunk_size``: rows per chunk (default: as many as
    make the chunk's logits about the size of the larger of ``input`` and a quarter of
    ``linear_weight``;
    the value never depends on it beyond rounding). ``options``: torch's
    ``LinearCrossEntropyOptions`` (any object with a ``batch_chunk_size`` attribute), accepted
    so torch code ports unchanged; its ``batch_chunk_size``, when set, is the chunk size (torch
    runs unchunked with ``options=None``; here a call is chunked unless its logits are small:
    no larger than the largest operand and at most ``PLAIN_MAX_LOGITS`` = 2^20 elements, where
    the backend may run one native kernel pair instead -- torch: ``F.linear_cross_entropy``'s
    own path -- with the same values; an explicit ``chunk_size`` or ``options`` always chunks).
    ``ignore_index=None`` means -100 for class indices and must stay ``None`` for probability
    targets (torch raises otherwise).

    torch: ``F.linear_cross_entropy`` / ``nn.LinearCrossEntropyLoss`` (2.13); keras, optax: none
    (write ``cross_entropy`` over a ``Dense`` output).
    """
    fn = "linear_cross_entropy"
    xp = array_namespace(input, linear_weight, target, linear_bias, weight, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    check_floating(xp, fn, "linear_weight", linear_weight)
    _same_dtype(fn, "linear_weight", linear_weight, "input", input)
    _same_dtype(fn, "linear_bias", linear_bias, "input", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: argument 'label_smoothing' must be in [0, 1]; got {label_smoothing!r}")
    chunked = chunk_size is not None or options is not None  # asked for: always the chunked path
    if chunk_size is None and options is not None:
        chunk_size = getattr(options, "batch_chunk_size", None)
    if chunk_size is not None and (not isinstance(chunk_size, numbers.Integral) or chunk_size < 1):
        raise ValueError(f"{fn}: argument 'chunk_size' must be a positive integer or None; got {chunk_size!r}")
    in_shape, w_shape = shape_of(input), shape_of(linear_weight)
    if len(in_shape) not in (1, 2):
        raise ValueError(f"{fn}: argument 'input' must be (N, in_features) or (in_features,); got shape {in_shape}")
    if len(w_shape) < 2:
        raise ValueError(
            f"{fn}: argument 'linear_weight' must be (C, in_features) or (C, d1, ..., dK, in_features); "
            f"got shape {w_shape}"
        )
    if in_shape[-1] != w_shape[-1]:
        raise ValueError(
            f"{fn}: argument 'linear_weight' must have in_features={in_shape[-1]} (the last dimension "
            f"of 'input' {in_shape}) as its last dimension; got shape {w_shape}"
        )
    n_classes, inner, d = w_shape[0], w_shape[1:-1], w_shape[-1]
    if linear_bias is not None and shape_of(linear_bias) != w_shape[:-1]:
        raise ValueError(
            f"{fn}: argument 'linear_bias' must have shape {w_shape[:-1]} (linear_weight.shape[:-1]); "
            f"got {shape_of(linear_bias)}"
        )
    batched = len(in_shape) == 2
    if inner and not batched:
        raise ValueError(
            f"{fn}: a K-dimensional loss (linear_weight shape {w_shape}) needs batched input "
            f"(N, {d}); got shape {in_shape}"
        )
    check_weight(fn, "weight", weight, n_classes)
    logits_shape = (*in_shape[:-1], n_classes, *inner)
    x = input if batched else xp.reshape(input, (1, d))
    n = shape_of(x)[0]
    m = _prod(inner)
    # the loss is the logsumexp minus terms of the size of a logit: in float16/bfloat16 that
    # difference cancels catastrophically, so it is formed in float32 ("acc") and rounded
    # once at the end; the logits themselves stay in the input's dtype, as torch's F.linear
    acc = xp.float32 if _ops._is_half(input) else input.dtype
    xa = _to(xp, x, acc)
    cw = None if weight is None else _to(xp, weight, acc)
    eps = label_smoothing
    if chunk_size is None:
        chunk_size = _default_chunk(n, d, n_classes * m)
    out_shape = tuple(in_shape[:-1]) + tuple(inner)  # per-position loss shape
    # small logits (no larger than the largest operand, and at most PLAIN_MAX_LOGITS): one
    # native kernel pair where the backend has it (torch: F.linear_cross_entropy's reference
    # path, as torch runs it with options=None). Chunking would save at most a few MB there and
    # costs its launches: 2x torch at 64 x 64 -> 1000 on CPU, against ~1.0x plain.
    plain = not chunked and n is not None and n * n_classes * m <= min(
        PLAIN_MAX_LOGITS, max(n * d, _prod(w_shape)))

    def one_kernel() -> Any:
        if not plain:
            return NotImplemented
        return _ops.fused_loss(xp, fn, input, linear_weight, target, linear_bias, weight, reduction,
                               ignore_index, label_smoothing)

    if xp.isdtype(target.dtype, "real floating"):
        if ignore_index is not None:
            # torch/nn/functional.py linear_cross_entropy: "ignore_index cannot be specified
            # when target contains probabilities" (even -100)
            raise ValueError(
                f"{fn}: argument 'ignore_index' must be None with probability (floating point) "
                f"targets; got ignore_index={ignore_index}"
            )
        if shape_of(target) != logits_shape:
            raise ValueError(
                f"{fn}: probability targets must have the logits' shape {logits_shape} "
                f"(input {in_shape}, linear_weight {w_shape}); got {shape_of(target)}"
            )
        out = one_kernel()
        if out is not NotImplemented:
            return out
        t = _to(xp, as_float_like(xp, target, input), acc)
        if not batched:
            t = xp.reshape(t, (1, n_classes))
        if eps > 0:
            t = t * (1 - eps) + eps / n_classes
        if cw is not None:
            t = t * xp.reshape(cw, (1, n_classes) + (1,) * len(inner))
        # r_n = sum_c t_nc (L_n - z_nc): the logsumexp's coefficient is the target's mass
        terms = {"target": t, "coef": xp.sum(t, axis=1)}
        extra = None
        if reduction != "mean":
            denom = None
        else:  # the number of positions (traced with an unknown batch size: counted)
            denom = n * m if n is not None else xp.sum(xp.ones_like(terms["coef"]))
    else:
        check_integer(xp, fn, "target", target)
        expected = (*in_shape[:-1], *inner)
        if shape_of(target) != expected:
            raise ValueError(
                f"{fn}: class-index targets must have shape {expected} (the logits {logits_shape} "
                f"without the class dimension); got {shape_of(target)}"
            )
        ii = -100 if ignore_index is None else ignore_index
        t = target if batched else xp.reshape(target, (1,))
        any_ignored = check_class_targets(xp, fn, _Logits((n, n_classes, *inner)), t, 1, ii)
        out = one_kernel()
        if out is not NotImplemented:
            return out
        ignored = (t == ii) if any_ignored else None
        safe_t = t if ignored is None else xp.where(ignored, 0, t)
        kept = None if ignored is None else xp.astype(~ignored, acc)
        if cw is None:
            w_t = kept  # None: every row counts 1
        else:
            w_t = xp.reshape(xp.take(cw, xp.reshape(safe_t, (-1,)), axis=0), shape_of(safe_t))
            if kept is not None:
                w_t = w_t * kept
        # r_n = a_n L_n - c_n z_{n,t_n} - (eps/C) kept_n sum_c w_c z_nc, with c = (1-eps) w_t
        # and a = c + (eps/C) kept sum_c w_c
        tcoef = w_t if eps == 0 or w_t is None else (1 - eps) * w_t
        if eps == 0:
            coef, extra = tcoef, None
        else:
            if tcoef is None:
                tcoef = xp.ones_like(safe_t, dtype=acc) * (1 - eps)
            s_lin, s_coef = _class_sum_logits(xp, xa, linear_weight, linear_bias, cw, inner)
            smooth = (eps / n_classes) * (1.0 if kept is None else kept)
            coef = tcoef + smooth * s_coef
            extra = smooth * s_lin
        terms = {"target": safe_t, "coef": coef, "target_coef": tcoef}
        if reduction != "mean":
            denom = None
        elif w_t is not None:
            denom = xp.sum(w_t)
        else:
            denom = n * m if n is not None else xp.sum(xp.ones_like(safe_t, dtype=acc))

    f = _ops.linear_softmax_cross_entropy
    if reduction == "none":
        loss = f(xp, x, linear_weight, linear_bias, **terms, chunk_size=chunk_size)
        if extra is not None:
            loss = loss - extra
        loss = xp.reshape(loss, out_shape) if shape_of(loss) != out_shape else loss
    else:
        loss = f(xp, x, linear_weight, linear_bias, **terms, chunk_size=chunk_size, reduce=True)
        if extra is not None:
            loss = loss - xp.sum(extra)
        if isinstance(denom, int):
            loss = loss / denom
        elif denom is not None:
            # every target ignored (zero total weight): a nan value with a zero gradient, as
            # torch (and _reduction.weighted_mean); a plain 0/0 sends nan into the gradient
            empty = denom == 0
            loss = loss / xp.where(empty, xp.ones_like(denom), denom) + xp.where(
                empty, xp.full_like(denom, float("nan")), xp.zeros_like(denom))
    return _to(xp, loss, input.dtype)


def _to(xp, a, dtype):
    return a if a.dtype == dtype else xp.astype(a, dtype)


def _class_sum_logits(xp, x, w, b, cw, inner):
    """:math:`\\sum_c w_c z_{n,c}` (the label-smoothing term) as ``x @ (sum_c w_c W_c)`` plus the
    bias term, and :math:`\\sum_c w_c` (``C`` without class weights); in ``x``'s dtype."""
    n_classes, d = shape_of(w)[0], shape_of(w)[-1]
    m = _prod(inner)
    w2 = _to(xp, xp.reshape(w, (n_classes, m * d)), x.dtype)
    if cw is None:
        v = xp.sum(w2, axis=0)
        total = float(n_classes)
    else:
        v = xp.reshape(xp.matmul(xp.reshape(cw, (1, n_classes)), w2), (m * d,))
        total = xp.sum(cw)
    s = xp.matmul(x, xp.matrix_transpose(xp.reshape(v, (m, d))))  # (N, M)
    if b is not None:
        b2 = _to(xp, xp.reshape(b, (n_classes, m)), x.dtype)
        s = s + (xp.sum(b2, axis=0) if cw is None else xp.reshape(xp.matmul(xp.reshape(cw, (1, n_classes)), b2), (m,)))
    return xp.reshape(s, (-1, *inner)), total


# ----------------------------------------------------------------------------- adaptive softmax


class AdaptiveLogSoftmaxOutput(NamedTuple):
    """torch ``nn.AdaptiveLogSoftmaxWithLoss``'s ``_ASMoutput``: ``output`` (the target's
    log-probability per row) and ``loss`` (their negative mean)."""

    output: Any
    loss: Any


def _adaptive_params(fn, input, head_weight, tail_weights, cutoffs, head_bias, extra=()):
    """Namespace, checks and the full cutoff list ``[c_0, ..., c_{k-1}, n_classes]`` of the
    adaptive softmax parameters (torch ``AdaptiveLogSoftmaxWithLoss.__init__`` layout)."""
    try:
        tail = [tuple(pair) for pair in tail_weights]
    except TypeError:
        raise TypeError(
            f"{fn}: argument 'tail_weights' must be a sequence of (projection_weight, output_weight) "
            f"pairs; got {type(tail_weights).__name__}"
        ) from None
    flat = [a for pair in tail for a in pair]
    xp = array_namespace(input, head_weight, head_bias, *flat, *extra, fn=fn)
    try:
        cut = [c for c in cutoffs]
    except TypeError:
        raise TypeError(f"{fn}: argument 'cutoffs' must be a sequence of integers; got {cutoffs!r}") from None
    if (
        not cut
        or any(not isinstance(c, numbers.Integral) and not (isinstance(c, numbers.Real) and int(c) == c) for c in cut)
        or cut != sorted(cut)
        or len(set(cut)) != len(cut)
        or min(cut) <= 0
    ):
        # torch: "cutoffs should be a sequence of unique, positive integers sorted in an
        # increasing order, where each value is between 1 and n_classes-1"
        raise ValueError(
            f"{fn}: argument 'cutoffs' must be a non-empty increasing sequence of unique positive "
            f"integers; got {cutoffs!r}"
        )
    cut = [int(c) for c in cut]
    if len(tail) != len(cut) or any(len(pair) != 2 for pair in tail):
        raise ValueError(
            f"{fn}: argument 'tail_weights' must hold one (projection_weight, output_weight) pair per "
            f"cutoff ({len(cut)}); got {[len(p) for p in tail]} arrays per entry in {len(tail)} entries"
        )
    check_floating(xp, fn, "input", input)
    d = shape_of(input)[-1] if len(shape_of(input)) else None
    head_size = cut[0] + len(cut)
    if shape_of(head_weight) != (head_size, d):
        raise ValueError(
            f"{fn}: argument 'head_weight' must have shape (shortlist + n_clusters, in_features) = "
            f"({head_size}, {d}); got {shape_of(head_weight)}"
        )
    _same_dtype(fn, "head_weight", head_weight, "input", input)
    if head_bias is not None:
        if shape_of(head_bias) != (head_size,):
            raise ValueError(f"{fn}: argument 'head_bias' must have shape ({head_size},); got {shape_of(head_bias)}")
        _same_dtype(fn, "head_bias", head_bias, "input", input)
    full = list(cut)
    for i, (proj, out) in enumerate(tail):
        ps, os_ = shape_of(proj), shape_of(out)
        if len(ps) != 2 or ps[1] != d:
            raise ValueError(
                f"{fn}: argument 'tail_weights[{i}][0]' (projection) must have shape (hidden, {d}); got {ps}"
            )
        last = i == len(tail) - 1
        rows = None if last else cut[i + 1] - cut[i]  # the last cluster's size sets n_classes
        if len(os_) != 2 or os_[1] != ps[0] or os_[0] < 1 or (rows is not None and os_[0] != rows):
            want = f"({'n_classes - ' + str(cut[i]) if last else rows}, {ps[0]})"
            raise ValueError(
                f"{fn}: argument 'tail_weights[{i}][1]' (output) must have shape {want} (cluster size, "
                f"hidden); got {os_}"
            )
        _same_dtype(fn, f"tail_weights[{i}][0]", proj, "input", input)
        _same_dtype(fn, f"tail_weights[{i}][1]", out, "input", input)
        if last:
            full.append(cut[i] + os_[0])
    return xp, tail, full


def _linear(xp, x, w, b=None):
    z = xp.matmul(x, xp.matrix_transpose(w))
    return z if b is None else z + b


def _cluster_log_probs(xp, x, tail):
    """Each cluster's log-softmax over its classes, for every row: ``(N, cluster size)``."""
    return [_ops.log_softmax(xp, _linear(xp, _linear(xp, x, proj), out), axis=1) for proj, out in tail]


def adaptive_log_softmax_with_loss(
    input: Any,
    target: Any,
    head_weight: Any,
    tail_weights: Sequence[tuple[Any, Any]],
    cutoffs: Sequence[int],
    head_bias: Any = None,
) -> AdaptiveLogSoftmaxOutput:
    r"""Adaptive softmax (Grave et al., 2017, "Efficient softmax approximation for GPUs"):
    classes ``[0, c_0)`` form the head's shortlist; cluster ``i`` holds ``[c_i, c_{i+1})`` and is
    one extra head class. For a target in the shortlist
    :math:`\log p(y|x) = \log\mathrm{softmax}(h)_y`, with :math:`h = W_h x + b_h`; in cluster
    ``i``, :math:`\log p(y|x) = \log\mathrm{softmax}(h)_{c_0 + i} +
    \log\mathrm{softmax}(O_i P_i x)_{y - c_i}`. Returns ``(output, loss)``: ``output`` the
    target log-probability per row, ``loss = mean(-output)``.

    Parameters as ``torch.nn.AdaptiveLogSoftmaxWithLoss`` holds them: ``head_weight``
    ``(c_0 + n_clusters, D)`` (and ``head_bias`` ``(c_0 + n_clusters,)`` or ``None``);
    ``tail_weights[i] = (P_i, O_i)``: ``P_i`` ``(hidden_i, D)`` (``tail.i.0.weight``),
    ``O_i`` ``(c_{i+1} - c_i, hidden_i)`` (``tail.i.1.weight``); ``cutoffs`` ``[c_0, ...,
    c_{k-1}]`` as given to torch's constructor (``n_classes`` = the last cutoff plus the last
    cluster's size). Shapes: ``input`` ``(N, D)`` with ``target`` ``(N,)``, or ``(D,)`` with
    ``()``; ``output`` has ``target``'s shape, ``loss`` is 0-d.

    torch evaluates each cluster only on the rows whose target falls in it (``nonzero`` /
    ``index_select``: data-dependent shapes). Here every cluster's log-softmax is computed for
    every row and the target's entry selected with ``where``, so the function traces under
    ``jax.jit``/``tf.function`` (memory ``O(N * n_classes)``, like ``log_prob``; the values
    and gradients equal torch's). torch: ``nn.AdaptiveLogSoftmaxWithLoss``; keras, optax: none.
    """
    fn = "adaptive_log_softmax_with_loss"
    xp, tail, full = _adaptive_params(fn, input, head_weight, tail_weights, cutoffs, head_bias, (target,))
    check_integer(xp, fn, "target", target)
    in_shape, t_shape = shape_of(input), shape_of(target)
    # torch AdaptiveLogSoftmaxWithLoss.forward's shape rules (RuntimeError there)
    if len(t_shape) == 1:
        if len(in_shape) != 2:
            raise ValueError(f"{fn}: a 1-D 'target' expects a 2-D 'input' (N, in_features); got input shape {in_shape}")
        if in_shape[0] != t_shape[0]:
            raise ValueError(
                f"{fn}: arguments 'input' and 'target' must have the same batch size; got input "
                f"{in_shape} and target {t_shape}"
            )
    elif len(t_shape) == 0:
        if len(in_shape) != 1:
            raise ValueError(f"{fn}: a 0-d 'target' expects a 1-D 'input' (in_features,); got input shape {in_shape}")
    else:
        raise ValueError(f"{fn}: argument 'target' must be 0-d or 1-D (multi-target is not supported); got shape {t_shape}")
    batched = len(t_shape) == 1
    d = in_shape[-1]
    x = input if batched else xp.reshape(input, (1, d))
    t = target if batched else xp.reshape(target, (1,))
    n_classes, shortlist = full[-1], full[0]
    check_class_targets(xp, fn, _Logits((shape_of(x)[0], n_classes)), t, 1)

    head_logp = _ops.log_softmax(xp, _linear(xp, x, head_weight, head_bias), axis=1)
    gather = t
    output = None
    for i, cl_logp in enumerate(_cluster_log_probs(xp, x, tail)):
        lo, hi = full[i], full[i + 1]
        inside = (t >= lo) & (t < hi)
        gather = xp.where(inside, shortlist + i, gather)
        local = _ops.pick(xp, cl_logp, xp.where(inside, t - lo, 0), axis=1)
        local = xp.where(inside, local, 0.0)
        output = local if output is None else output + local
    # torch: output (cluster part, 0 in the shortlist) += head log-prob of the gathered column
    output = output + _ops.pick(xp, head_logp, gather, axis=1)
    loss = xp.mean(-output)
    if not batched:
        output = xp.reshape(output, ())
    return AdaptiveLogSoftmaxOutput(output, loss)


def adaptive_log_softmax_log_prob(
    input: Any,
    head_weight: Any,
    tail_weights: Sequence[tuple[Any, Any]],
    cutoffs: Sequence[int],
    head_bias: Any = None,
) -> Any:
    r"""Log-probabilities of every class under the adaptive softmax, ``(N, n_classes)``:
    the head's log-softmax on the shortlist, and for cluster ``i`` its log-softmax plus the
    head's log-probability of the cluster. Parameters as in
    :func:`adaptive_log_softmax_with_loss`; ``input`` ``(N, D)``.
    torch: ``nn.AdaptiveLogSoftmaxWithLoss.log_prob``."""
    fn = "adaptive_log_softmax_log_prob"
    xp, tail, full = _adaptive_params(fn, input, head_weight, tail_weights, cutoffs, head_bias)
    if len(shape_of(input)) != 2:
        raise ValueError(f"{fn}: argument 'input' must be (N, in_features); got shape {shape_of(input)}")
    head_logp = _ops.log_softmax(xp, _linear(xp, input, head_weight, head_bias), axis=1)
    return _full_log_prob(xp, input, head_logp, tail, full)


def _full_log_prob(xp, x, head_logp, tail, full):
    shortlist = full[0]
    parts = [head_logp[:, :shortlist]]
    for i, cl_logp in enumerate(_cluster_log_probs(xp, x, tail)):
        parts.append(cl_logp + head_logp[:, shortlist + i : shortlist + i + 1])
    return xp.concat(parts, axis=1)


def adaptive_log_softmax_predict(
    input: Any,
    head_weight: Any,
    tail_weights: Sequence[tuple[Any, Any]],
    cutoffs: Sequence[int],
    head_bias: Any = None,
) -> Any:
    r"""The most probable class per row, ``(N,)`` integers. As torch: the head's argmax where
    it is a shortlist class (no cluster class can be more probable than it), else the argmax
    of the full :func:`adaptive_log_softmax_log_prob` -- computed for every row and chosen with
    ``where`` (torch evaluates it only for the rows that need it).
    torch: ``nn.AdaptiveLogSoftmaxWithLoss.predict``."""
    fn = "adaptive_log_softmax_predict"
    xp, tail, full = _adaptive_params(fn, input, head_weight, tail_weights, cutoffs, head_bias)
    if len(shape_of(input)) != 2:
        raise ValueError(f"{fn}: argument 'input' must be (N, in_features); got shape {shape_of(input)}")
    head_out = _linear(xp, input, head_weight, head_bias)
    head_arg = xp.argmax(head_out, axis=1)
    full_arg = xp.argmax(_full_log_prob(xp, input, _ops.log_softmax(xp, head_out, axis=1), tail, full), axis=1)
    return xp.where(head_arg < full[0], head_arg, full_arg)
