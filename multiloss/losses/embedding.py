"""Embedding (metric-learning) losses over pairs and triplets, canonical form (torch names,
argument order and defaults; the first embedding plays ``input``/y_pred).

Distances go through the :func:`multiloss._ops.pairwise_distance` primitive (torch:
``torch.pairwise_distance``), whose gradient is finite where two embeddings coincide.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import _ops
from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS, reduce
from .._validation import _broadcast_shape, check_broadcastable, check_floating, check_reduction, shape_of
from ._common import as_float_like, is_number

__all__ = [
    "cosine_embedding_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

# ATen Loss.cpp: `#define EPSILON 1e-12`, added to each squared magnitude (not to the norm)
_COSINE_EPS = 1e-12


def cosine_embedding_loss(
    input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: str = "mean"
) -> Any:
    r"""Cosine embedding loss of pairs labelled similar (``1``) or dissimilar (``-1``):

    .. math::
        \ell_i = \begin{cases} 1 - \cos(x_{1,i}, x_{2,i}) & y_i = 1 \\
        \max(0, \cos(x_{1,i}, x_{2,i}) - \text{margin}) & y_i = -1 \\ 0 & \text{otherwise}\end{cases}
        \qquad \cos(a, b) = \frac{\sum_k a_k b_k}{\sqrt{(\sum_k a_k^2 + 10^{-12})(\sum_k b_k^2 + 10^{-12})}}

    (torch adds ``1e-12`` to each squared magnitude, ATen Loss.cpp; a label other than
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
    if len(shape_of(input1)) != want or len(shape_of(input2)) != want:
        raise ValueError(
            f"{fn}: a {len(t_shape)}-D 'target' expects {want}-D 'input1' and 'input2' "
            f"({'(N, D)' if want == 2 else '(D,)'}); got shapes {shape_of(input1)} and "
            f"{shape_of(input2)}"
        )
    check_broadcastable(fn, "input1", input1, "input2", input2, warn=False)
    batch = _broadcast_shape(shape_of(input1)[:-1], shape_of(input2)[:-1])
    if _broadcast_shape(batch, t_shape) is None:
        raise ValueError(
            f"{fn}: argument 'target' must have one label per pair, shape {batch}; got {t_shape}"
        )
    prod = xp.sum(input1 * input2, axis=-1)
    mag1 = xp.sum(input1 * input1, axis=-1) + _COSINE_EPS
    mag2 = xp.sum(input2 * input2, axis=-1) + _COSINE_EPS
    cos = prod / xp.sqrt(mag1 * mag2)
    neg = cos - margin
    # clamp_min(0) as a where whose gradient at the tie is 1, like torch's clamp_min
    loss = xp.where(target == 1, 1 - cos, 0.0) + xp.where(target == -1, xp.where(neg >= 0, neg, 0.0), 0.0)
    return reduce(xp, loss, reduction, fn)


def _triplet_inputs(fn, anchor, positive, negative, margin, reduction, floating=True):
    """Namespace, reduction, margin and rank checks shared by the triplet losses (torch raises
    ValueError for ``margin <= 0`` and RuntimeError for differing ranks)."""
    xp = array_namespace(anchor, positive, negative, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    if is_number(margin) and not margin > 0:
        raise ValueError(f"{fn}: argument 'margin' must be greater than 0; got {margin!r}")
    ranks = [len(shape_of(x)) for x in (anchor, positive, negative)]
    if len(set(ranks)) != 1:
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
        check_broadcastable(fn, "anchor", anchor, "positive", positive, warn=False)
        check_broadcastable(fn, "anchor", anchor, "negative", negative, warn=False)
    return xp, positive, negative


def _triplet_hinge(xp, dist_pos, dist_neg, dist_swap, margin, reduction, fn):
    if dist_swap is not None:
        # Balntas et al. 2016 "distance swap": the harder of the two negatives distances
        dist_neg = xp.minimum(dist_neg, dist_swap)
    loss = margin + dist_pos - dist_neg
    # torch.clamp_min(., 0): gradient 1 at the tie
    return reduce(xp, xp.where(loss >= 0, loss, 0.0), reduction, fn)


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
        def distance_function(x1, x2):
            return _ops.pairwise_distance(xp, x1, x2)

    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    dist_swap = distance_function(positive, negative) if swap else None
    return _triplet_hinge(xp, dist_pos, dist_neg, dist_swap, margin, reduction, fn)
