"""Embedding (metric-learning) losses over pairs and triplets, canonical form (torch names,
argument order and defaults; the first embedding plays ``input``/y_pred).

Distances go through the :func:`multiloss._ops.pairwise_distance` primitive (torch:
``torch.pairwise_distance``), whose gradient is finite where two embeddings coincide.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import _ops
from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS, reduce, weighted_mean
from .._validation import (
    _broadcast_shape,
    check_broadcastable,
    check_floating,
    check_min_max,
    check_reduction,
    dtype_name,
    shape_of,
)
from ._common import as_float_like, is_number, masked_logit

__all__ = [
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "ntxent",
    "circle",
]

# ATen Loss.cpp: `constexpr float EPSILON = 1e-12` (a C++ float: 9.999999960041972e-13 once
# widened, which float64 inputs see), added to each squared magnitude (not to the norm);
# measured: torch 2.13's float64 cosine_embedding_loss equals this bitwise, not 1e-12
_COSINE_EPS = 9.999999960041972e-13


def cosine_embedding_loss(
    input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: str = "mean"
) -> Any:
    r"""Cosine embedding loss of pairs labelled similar (``1``) or dissimilar (``-1``):

    .. math::
        \ell_i = \begin{cases} 1 - \cos(x_{1,i}, x_{2,i}) & y_i = 1 \\
        \max(0, \cos(x_{1,i}, x_{2,i}) - \text{margin}) & y_i = -1 \\ 0 & \text{otherwise}\end{cases}
        \qquad \cos(a, b) = \frac{\sum_k a_k b_k}{\sqrt{(\sum_k a_k^2 + 10^{-12})(\sum_k b_k^2 + 10^{-12})}}

    (torch adds ``1e-12``, a C++ float, to each squared magnitude, ATen Loss.cpp; a label other than
    ``±1`` contributes 0). Then ``reduction``.

    Shapes: ``input1`` and ``input2`` ``(N, D)`` (broadcastable to each other) with ``target``
    ``(N,)``, or unbatched ``(D,)`` with a 0-d ``target``; any real or integer label dtype.
    torch: ``F.cosine_embedding_loss`` / ``nn.CosineEmbeddingLoss``; keras, optax: none
    (``optax.cosine_distance`` is ``1 - cos`` without labels or margin).
    """
    fn = "cosine_embedding_loss"
    xp = array_namespace(input1, input2, target, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input1", input1)
    check_floating(xp, fn, "input2", input2)
    input2 = as_float_like(xp, input2, input1)
    t_shape = shape_of(target)
    # ATen Loss.cpp cosine_embedding_loss: the target's rank fixes the inputs' rank
    if len(t_shape) not in (0, 1):
        raise ValueError(
            f"{fn}: argument 'target' must be 0-d (one pair) or 1-D (one label per pair; "
            f"multi-target not supported); got shape {t_shape}"
        )
    want = len(t_shape) + 1
    s1, s2 = shape_of(input1), shape_of(input2)
    if len(s1) != want or len(s2) != want:
        raise ValueError(
            f"{fn}: a {len(t_shape)}-D 'target' expects {want}-D 'input1' and 'input2' "
            f"({'(N, D)' if want == 2 else '(D,)'}); got shapes {s1} and {s2}"
        )
    if s1 != s2:
        check_broadcastable(fn, "input1", input1, "input2", input2, warn=False)
    batch = s1[:-1] if s1 == s2 else _broadcast_shape(s1[:-1], s2[:-1])
    if t_shape != batch and _broadcast_shape(batch, t_shape) is None:
        raise ValueError(
            f"{fn}: argument 'target' must have one label per pair, shape {batch}; got {t_shape}"
        )
    out = _ops.fused_loss(xp, fn, input1, input2, target, margin, reduction)  # one native call (torch)
    if out is not NotImplemented:
        return out
    prod = xp.sum(input1 * input2, axis=-1)
    mag1 = xp.sum(input1 * input1, axis=-1) + _COSINE_EPS
    mag2 = xp.sum(input2 * input2, axis=-1) + _COSINE_EPS
    cos = prod / xp.sqrt(mag1 * mag2)
    neg = cos - margin
    # clamp_min(0) as a where whose gradient at the tie is 1 and that keeps nan (a float16 zero
    # vector: 0 / 0), like torch's clamp_min (margin.py _clamp_min0)
    loss = xp.where(target == 1, 1 - cos, 0.0) + xp.where(target == -1, xp.where(neg < 0, 0.0, neg), 0.0)
    return reduce(xp, loss, reduction, fn)


def _triplet_inputs(fn, anchor, positive, negative, margin, reduction, floating=True):
    """Namespace, reduction, margin and rank checks shared by the triplet losses (torch raises
    ValueError for ``margin <= 0`` and RuntimeError for differing ranks)."""
    xp = array_namespace(anchor, positive, negative, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    if is_number(margin) and not margin > 0:
        raise ValueError(f"{fn}: argument 'margin' must be greater than 0; got {margin!r}")
    ranks = (len(anchor.shape), len(positive.shape), len(negative.shape))
    if not ranks[0] == ranks[1] == ranks[2]:
        raise ValueError(
            f"{fn}: arguments 'anchor', 'positive' and 'negative' must have the same number of "
            f"dimensions; got shapes {shape_of(anchor)}, {shape_of(positive)} and "
            f"{shape_of(negative)} ({ranks[0]}-D, {ranks[1]}-D and {ranks[2]}-D)"
        )
    if floating:
        check_floating(xp, fn, "anchor", anchor)
        check_floating(xp, fn, "positive", positive)
        check_floating(xp, fn, "negative", negative)
        positive = as_float_like(xp, positive, anchor)
        negative = as_float_like(xp, negative, anchor)
        if positive.shape != anchor.shape:  # (equal shapes: nothing to check, the common case)
            check_broadcastable(fn, "anchor", anchor, "positive", positive, warn=False)
        if negative.shape != anchor.shape:
            check_broadcastable(fn, "anchor", anchor, "negative", negative, warn=False)
    return xp, positive, negative


def _triplet_hinge(xp, dist_pos, dist_neg, dist_swap, margin, reduction, fn):
    if dist_swap is not None:
        # Balntas et al. 2016 "distance swap": the harder of the two negatives distances
        dist_neg = xp.minimum(dist_neg, dist_swap)
    loss = margin + dist_pos - dist_neg
    # torch.clamp_min(., 0): gradient 1 at the tie, nan kept (inf - inf distances: nan, as torch)
    return reduce(xp, xp.where(loss < 0, 0.0, loss), reduction, fn)


def triplet_margin_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> Any:
    r"""Triplet margin loss: :math:`\ell_i = \max(0,\ \text{margin} + d(a_i, p_i) - d(a_i, n_i))`
    with :math:`d(x, y) = \lVert x - y + \epsilon \rVert_p` over the last axis (torch's
    ``pairwise_distance``: ``eps`` is added to the difference). ``swap=True`` uses
    :math:`\min(d(a_i, n_i), d(p_i, n_i))` as the negative distance (Balntas et al., 2016).

    Shapes: ``anchor``, ``positive``, ``negative`` ``(N, D)`` or ``(D,)``, of one rank and
    broadcastable; the loss has the broadcast shape without its last axis, then ``reduction``.
    ``margin`` must be > 0; ``p`` any real or ``inf``.
    torch: ``F.triplet_margin_loss`` / ``nn.TripletMarginLoss``; optax: ``triplet_margin_loss``
    adds ``eps`` inside the power sum instead, :math:`(\sum_k (a_k - p_k)^p + \epsilon)^{1/p}`,
    and does not reduce; keras: none.
    """
    fn = "triplet_margin_loss"
    xp, positive, negative = _triplet_inputs(fn, anchor, positive, negative, margin, reduction)
    # torch: one native call (taken only for a Python int/float p, which passes the check below)
    out = _ops.fused_loss(xp, fn, anchor, positive, negative, margin, p, eps, swap, reduction)
    if out is not NotImplemented:
        return out
    if not is_number(p):
        raise TypeError(f"{fn}: argument 'p' must be a real number (or inf); got {type(p).__name__}")
    dist_pos = _ops.pairwise_distance(xp, anchor, positive, p, eps)
    dist_neg = _ops.pairwise_distance(xp, anchor, negative, p, eps)
    dist_swap = _ops.pairwise_distance(xp, positive, negative, p, eps) if swap else None
    return _triplet_hinge(xp, dist_pos, dist_neg, dist_swap, margin, reduction, fn)


def triplet_margin_with_distance_loss(
    anchor: Any,
    positive: Any,
    negative: Any,
    *,
    distance_function: Callable[[Any, Any], Any] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Any:
    r"""Triplet margin loss with any distance:
    :math:`\ell_i = \max(0,\ \text{margin} + d(a_i, p_i) - d(a_i, n_i))`, with ``swap`` as in
    :func:`triplet_margin_loss`.

    ``distance_function(x1, x2)``: a callable on your own arrays (the arrays you pass, as they
    are) returning one non-negative distance per pair; a function written with
    ``multiloss.array_namespace`` (or one framework's ops, for that framework's arrays) works.
    ``None``: :func:`multiloss._ops.pairwise_distance` (p=2, eps=1e-6), i.e. the default
    :func:`triplet_margin_loss`. Keyword-only, as in torch. Shapes: the three inputs of one
    rank; the loss has the distances' shape, then ``reduction``. ``margin`` must be > 0.
    torch: ``F.triplet_margin_with_distance_loss`` / ``nn.TripletMarginWithDistanceLoss``;
    keras, optax: none.
    """
    fn = "triplet_margin_with_distance_loss"
    if distance_function is not None and not callable(distance_function):
        raise TypeError(
            f"{fn}: argument 'distance_function' must be a callable (x1, x2) -> distances or "
            f"None; got {type(distance_function).__name__}"
        )
    # a custom distance takes the arrays as given (torch does not check their dtype)
    xp, positive, negative = _triplet_inputs(
        fn, anchor, positive, negative, margin, reduction, floating=distance_function is None
    )
    if distance_function is None:
        # the default distance is triplet_margin_loss's (p=2, eps=1e-6): one native call (torch)
        out = _ops.fused_loss(xp, "triplet_margin_loss", anchor, positive, negative, margin, 2.0, 1e-6, swap,
                              reduction)
        if out is not NotImplemented:
            return out

        def distance_function(x1, x2):
            return _ops.pairwise_distance(xp, x1, x2)

    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    dist_swap = distance_function(positive, negative) if swap else None
    return _triplet_hinge(xp, dist_pos, dist_neg, dist_swap, margin, reduction, fn)


# ----------------------------------------------------------------------------- batch losses
# NT-Xent and Circle mine their pairs from the labels of one batch: every pair (i, j) of the
# batch is scored, through one (N, M) similarity matrix (a matmul of the normalised
# embeddings, not an (N, M, D) broadcast), and masked by label equality. Excluded entries of a
# log-sum-exp are half the dtype's lowest finite value rather than -inf: they add nothing, a
# row with nothing to sum stays finite (then 0 through the softplus) instead of -inf, whose
# backward passes inf - inf = nan on some backends, and two of them add up without overflow.


def _batch_inputs(fn, xp, input, target, input_name="input", target_name="target"):
    """``input`` ``(N, D)`` floating embeddings and ``target`` ``(N,)`` labels (any real or
    bool dtype: pairs are matched by equality)."""
    check_floating(xp, fn, input_name, input)
    s_in, s_t = shape_of(input), shape_of(target)
    if len(s_in) != 2:
        raise ValueError(
            f"{fn}: argument '{input_name}' must be a 2-D array of embeddings (batch, dim); got shape {s_in}"
        )
    if len(s_t) != 1 or s_t[0] != s_in[0]:
        raise ValueError(
            f"{fn}: argument '{target_name}' must be a 1-D array with one label per embedding, shape "
            f"({s_in[0]},) ('{input_name}' {s_in}); got shape {s_t}"
        )
    if xp.isdtype(target.dtype, "complex floating"):
        raise TypeError(f"{fn}: argument '{target_name}' must hold real labels; got dtype {dtype_name(target)}")


def _unit_rows(xp, x, eps):
    """``x / sqrt(max(sum(x**2, axis=-1), eps))`` (keras ``l2_normalize``, optax
    ``cosine_similarity``: ``eps`` bounds the *squared* norm)."""
    sq = xp.sum(x * x, axis=-1, keepdims=True)
    return x / xp.sqrt(xp.where(sq > eps, sq, eps))


def _arange_like(xp, n, like):
    # on the labels' device (torch CUDA); a jax tracer has no .device (XLA places it)
    return xp.arange(n, device=getattr(like, "device", None))


def _off_diagonal(xp, n, m, like):
    """Boolean ``(n, m)``: ``i != j`` (keras ``~ops.eye(n, m)``)."""
    return xp.expand_dims(_arange_like(xp, n, like), axis=1) != xp.expand_dims(_arange_like(xp, m, like), axis=0)


def ntxent(input: Any, target: Any, temperature: float = 0.07, reduction: str = "mean") -> Any:
    r"""Normalized temperature-scaled cross-entropy (NT-Xent, Chen et al. 2020, SimCLR) of a
    batch of embeddings whose positive pairs share a label:

    .. math::
        s_{ij} = \frac{\hat x_i \cdot \hat x_j}{T}, \qquad
        \ell_{ij} = -\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k:\,y_k \ne y_i} e^{s_{ik}}}
        = \log\Big(e^{s_{ij}} + \sum_{k:\,y_k \ne y_i} e^{s_{ik}}\Big) - s_{ij}

    for every positive pair :math:`i \ne j`, :math:`y_i = y_j` (each positive is contrasted
    with the anchor's negatives only, as optax), :math:`\hat x = x / \sqrt{\max(\lVert x
    \rVert^2, \epsilon)}` with :math:`\epsilon` the dtype's machine epsilon (optax).
    ``reduction``: ``'mean'`` averages over the positive pairs (optax's scalar; nan when the
    batch has none, with a zero gradient), ``'sum'`` sums them, ``'none'`` returns the
    ``(N, N)`` matrix of :math:`\ell_{ij}`, 0 where :math:`(i, j)` is not a positive pair.

    Shapes: ``input`` ``(N, D)`` floating, ``target`` ``(N,)`` labels of any real dtype
    (compared for equality). ``temperature`` > 0 (a number; an array is used as given).
    Concrete labels must hold at least two classes (one class has no negatives: optax returns
    a silent 0); not checked under ``jit`` / ``tf.function``.
    optax: ``ntxent(embeddings, labels, temperature=0.07)`` (the scalar mean);
    torch: none (pytorch-metric-learning's ``NTXentLoss``); keras: none.
    """
    fn = "ntxent"
    xp = array_namespace(input, target, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    _batch_inputs(fn, xp, input, target)
    if is_number(temperature) and not temperature > 0:
        raise ValueError(f"{fn}: argument 'temperature' must be > 0; got {temperature!r}")
    two = "must hold at least two classes (each positive pair is contrasted with the anchor's embeddings of other classes)"
    check_min_max(  # read on the host, asserted on the device, or skipped (multiloss.checks)
        xp, target, lambda lo, hi: lo != hi,
        lambda lo, hi: ValueError(
            f"{fn}: argument 'target' {two}; got a single class, "
            f"{int(lo) if xp.isdtype(target.dtype, ('integral', 'bool')) else lo} (shape {shape_of(target)})"),
        lambda: f"{fn}: argument 'target' {two}; got a single class",
        of=(lambda t: xp.astype(t, xp.int8)) if xp.isdtype(target.dtype, "bool") else None,
    )
    n = shape_of(input)[0]
    # optax/losses/_self_supervised.py: cosine_similarity(..., epsilon=finfo(dtype).eps) / T
    unit = _unit_rows(xp, input, float(xp.finfo(input.dtype).eps))
    s = xp.matmul(unit, xp.matrix_transpose(unit)) / temperature
    same = xp.expand_dims(target, axis=1) == xp.expand_dims(target, axis=0)
    positive = same & _off_diagonal(xp, n, n, target)
    low = masked_logit(xp, s.dtype)
    if n == 0:  # no pair (and a max over an empty axis raises on numpy/torch): mean nan, sum 0
        pair = s
    else:
        lse_neg = _ops.logsumexp(xp, xp.where(same, low, s), axis=1, keepdims=True)
        # log(e^s + e^lse) - s: softplus(lse - s) without torch's linear softplus above 20
        pair = xp.where(positive, xp.logaddexp(lse_neg, s) - s, 0.0)
    if reduction == "none":
        return pair
    if reduction == "sum":
        return xp.sum(pair)
    return weighted_mean(xp, pair, xp.astype(positive, pair.dtype))


def circle(
    input: Any,
    target: Any,
    gamma: float = 80.0,
    margin: float = 0.4,
    remove_diagonal: bool = True,
    normalize: bool = True,
    reduction: str = "mean",
    *,
    ref_embeddings: Any = None,
    ref_labels: Any = None,
) -> Any:
    r"""Circle loss (Sun et al. 2020) with keras's label-based pair mining: for anchor ``i``
    against the reference embeddings ``j`` (the batch itself by default), cosine distances
    :math:`d_{ij} = \max(0, 1 - \hat x_i \cdot \hat r_j)`, positives :math:`y_i = y^r_j`
    (without :math:`i = j` when ``remove_diagonal``), negatives :math:`y_i \ne y^r_j`, and

    .. math::
        \ell_i = \operatorname{softplus}\Big(
        \log\!\sum_{j \in P_i} e^{-\gamma\,[m + d_{ij}]_+ (m - d_{ij})}
        + \log\!\sum_{j \in N_i} e^{\gamma\,[1 + m - d_{ij}]_+ (1 - m - d_{ij})}\Big)

    (:math:`m` = ``margin``, :math:`\gamma` = ``gamma``; the weights :math:`[\cdot]_+` are not
    detached, as keras; pytorch-metric-learning detaches them). An anchor without a positive
    or without a negative gives 0. ``normalize=True`` first scales every embedding to unit
    norm (:math:`\hat x = x / \sqrt{\max(\lVert x\rVert^2, 10^{-12})}`); keras takes
    :math:`\hat x = x` as given (it expects a ``UnitNormalization`` output) -- its rows pass
    ``normalize=False``. ``reduction``: ``'mean'`` averages over the anchors whose loss is
    nonzero (0 if none: keras masks ``loss > 0``, keras/src/losses/losses.py ``circle``;
    pytorch-metric-learning's ``AvgNonZeroReducer``), ``'sum'``, ``'none'``: ``(N,)``.

    Shapes: ``input`` ``(N, D)`` floating, ``target`` ``(N,)`` labels (any real dtype, compared
    for equality); ``ref_embeddings`` ``(M, D)`` and ``ref_labels`` ``(M,)`` (each defaults to
    ``input`` / ``target``). ``gamma`` > 0.
    keras: ``circle`` / ``Circle`` (``y_true`` labels first); torch, optax: none.
    """
    fn = "circle"
    xp = array_namespace(input, target, ref_embeddings, ref_labels, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    _batch_inputs(fn, xp, input, target)
    if is_number(gamma) and not gamma > 0:
        raise ValueError(f"{fn}: argument 'gamma' must be > 0 (the scale of the similarities); got {gamma!r}")
    if not is_number(margin) and not hasattr(margin, "shape"):
        raise TypeError(f"{fn}: argument 'margin' must be a real number; got {type(margin).__name__}")
    ref = input if ref_embeddings is None else ref_embeddings
    ref_t = target if ref_labels is None else ref_labels
    if ref_embeddings is not None:
        check_floating(xp, fn, "ref_embeddings", ref)
        ref = as_float_like(xp, ref, input)
        s_r = shape_of(ref)
        if len(s_r) != 2 or s_r[1] != shape_of(input)[1]:
            raise ValueError(
                f"{fn}: argument 'ref_embeddings' must be (M, {shape_of(input)[1]}) (the embeddings' dim); "
                f"got shape {s_r}"
            )
    m_rows = shape_of(ref)[0]
    if shape_of(ref_t) != (m_rows,):
        which = "ref_labels" if ref_labels is not None else "target"
        raise ValueError(
            f"{fn}: argument '{which}' must hold one label per reference embedding, shape ({m_rows},); "
            f"got shape {shape_of(ref_t)} (pass 'ref_labels' with 'ref_embeddings')"
        )
    if ref_t.dtype != target.dtype:
        ref_t = xp.astype(ref_t, target.dtype)
    if normalize:
        input = _unit_rows(xp, input, 1e-12)
        ref = input if ref_embeddings is None else _unit_rows(xp, ref, 1e-12)
    n = shape_of(input)[0]
    # keras: ops.maximum(1 - y_pred @ ref.T, 0); TF's maximum sends the tie's gradient to d
    d = 1 - xp.matmul(input, xp.matrix_transpose(ref))
    d = xp.where(d >= 0, d, 0.0)
    positive = xp.expand_dims(target, axis=1) == xp.expand_dims(ref_t, axis=0)
    negative = ~positive
    if remove_diagonal:
        positive = positive & _off_diagonal(xp, n, m_rows, target)
    w_pos = margin + d
    w_neg = (1 + margin) - d
    w_pos = xp.where(w_pos >= 0, w_pos, 0.0)
    w_neg = xp.where(w_neg >= 0, w_neg, 0.0)
    low = masked_logit(xp, d.dtype)
    p_logits = xp.where(positive, -gamma * w_pos * (margin - d), low)
    n_logits = xp.where(negative, gamma * w_neg * ((1 - margin) - d), low)
    if m_rows == 0:  # no pair at all (and a max over an empty axis raises on numpy/torch): 0 per anchor
        loss = xp.sum(d, axis=1) * 0.0
    else:
        z = _ops.logsumexp(xp, p_logits, axis=1) + _ops.logsumexp(xp, n_logits, axis=1)
        loss = xp.logaddexp(xp.zeros_like(z), z)  # softplus(z), exact past torch's linear softplus at 20
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    if reduction == "sum":
        return total
    count = xp.sum(xp.astype(loss > 0, loss.dtype))
    empty = count == 0
    return xp.where(empty, xp.zeros_like(total), total / xp.where(empty, xp.ones_like(count), count))
