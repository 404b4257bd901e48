"""Margin losses, canonical form (``input`` first, ``torch.nn.functional`` names, argument order,
defaults, reductions and shapes, unbatched inputs included).

Hinges are written as ``where`` on the margin (never ``maximum(z, 0)``), chosen so the gradient
*at* the kink is torch's too: losses that torch builds with ``clamp_min(0)``
(``margin_ranking_loss``, ``hinge_embedding_loss``; ATen ``Loss.cpp``) pass the gradient where
the margin is exactly 0 (``clamp_min``'s backward is ``grad * (x >= min)``), while the
multi-class kernels (``multi_margin_loss``, ``multilabel_margin_loss``; ATen
``LossMultiMargin.cpp``/``LossMultiLabelMargin.cpp``) add a term only ``if (z > 0)``.

Labels in {-1, 1}: torch checks none of them (``torch/nn/functional.py`` passes the targets
straight to ATen, whose formulas are defined for any real target, e.g. ``hinge_embedding_loss``
is ``where(y != 1, max(margin - x, 0), 0) + where(y != -1, x, 0)``), so neither do these
functions: a drop-in gives torch's numbers for every target torch accepts. Class indices are
checked (in range) as torch checks them, eagerly on concrete arrays only.
"""

from __future__ import annotations

from typing import Any

from .. import _ops
from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS, reduce
from .._validation import (
    check_broadcastable,
    check_broadcasts_to,
    check_floating,
    check_index_range,
    check_reduction,
    check_weight,
    dtype_name,
    numel,
    shape_of,
)
from ._common import as_float_like, elementwise_inputs

__all__ = [
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multilabel_margin_loss",
    "multi_margin_loss",
]


def _clamp_min0(xp, z):
    """``max(z, 0)`` with torch ``clamp_min``'s gradient: 1 where ``z >= 0`` (the kink included)."""
    return xp.where(z >= 0, z, 0.0)


# ----------------------------------------------------------------------------- pairs / signed


def margin_ranking_loss(
    input1: Any, input2: Any, target: Any, margin: float = 0.0, reduction: str = "mean"
) -> Any:
    r"""Margin ranking loss of a pair of scores:
    :math:`\ell_i = \max(0, -y_i (x^{(1)}_i - x^{(2)}_i) + \mathrm{margin})`, labels
    :math:`y_i = 1` when ``input1`` should rank higher, :math:`-1` when ``input2`` should.

    Shapes: ``input1`` ``(N)`` or ``()``; ``input2`` and ``target`` the same (all three must
    have the same number of dimensions, as torch requires; size-1 dimensions broadcast). The
    unreduced loss has the broadcast shape; then ``reduction``. ``input2``/``target`` are cast
    to ``input1``'s floating dtype. Targets are used as given (torch does not check them).
    torch: ``F.margin_ranking_loss`` / ``nn.MarginRankingLoss``; keras, optax: none.
    """
    fn = "margin_ranking_loss"
    xp = array_namespace(input1, input2, target, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input1", input1)
    r1, r2, rt = len(input1.shape), len(input2.shape), len(target.shape)
    if not r1 == r2 == rt:  # torch/nn/functional.py margin_ranking_loss
        raise ValueError(
            f"{fn}: arguments 'input1', 'input2' and 'target' must have the same number of "
            f"dimensions; got shapes {shape_of(input1)}, {shape_of(input2)} and {shape_of(target)}"
        )
    check_broadcastable(fn, "input1", input1, "input2", input2, warn=False)
    check_broadcastable(fn, "input1", input1, "target", target, warn=False)
    check_broadcastable(fn, "input2", input2, "target", target, warn=False)
    input2 = as_float_like(xp, input2, input1)
    target = as_float_like(xp, target, input1)
    # ATen: (-target * (input1 - input2) + margin).clamp_min_(0)
    loss = _clamp_min0(xp, margin - target * (input1 - input2))
    return reduce(xp, loss, reduction, fn)


def hinge_embedding_loss(input: Any, target: Any, margin: float = 1.0, reduction: str = "mean") -> Any:
    r"""Hinge embedding loss: :math:`\ell_i = x_i` where :math:`y_i = 1` and
    :math:`\max(0, \mathrm{margin} - x_i)` where :math:`y_i = -1` (``input`` is typically a
    distance between two embeddings).

    As torch computes it (ATen ``hinge_embedding_loss``):
    :math:`[y \ne 1]\max(0, \mathrm{margin} - x) + [y \ne -1]\,x`, so a target outside
    {-1, 1} contributes both terms (torch does not check targets, and neither does this).
    Shapes: ``input`` any shape, ``target`` the same (broadcasting allowed, as torch).
    torch: ``F.hinge_embedding_loss`` / ``nn.HingeEmbeddingLoss``; keras, optax: none.
    """
    fn = "hinge_embedding_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction, warn_broadcast=False)
    clamped = _clamp_min0(xp, margin - input)
    loss = xp.where(target != 1, clamped, 0.0) + xp.where(target != -1, input, 0.0)
    return reduce(xp, loss, reduction, fn)


def soft_margin_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Soft margin (two-class logistic) loss: :math:`\ell_i = \log(1 + e^{-y_i x_i})`,
    labels :math:`y_i \in \{-1, 1\}`, computed as ``softplus(-y x)``.

    Finite for scores of any size (torch's ``log1p(exp(-y x))`` overflows to ``inf`` once
    :math:`-y x` exceeds ~88 in float32 / ~709 in float64; the values agree below that).
    Shapes: ``input`` any shape, ``target`` the same (broadcasting allowed, as torch).
    torch: ``F.soft_margin_loss`` / ``nn.SoftMarginLoss``; keras, optax: none (optax
    ``sigmoid_binary_cross_entropy`` is the same loss with labels in {0, 1}).
    """
    fn = "soft_margin_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction, warn_broadcast=False)
    return reduce(xp, _ops.softplus(xp, -target * input), reduction, fn)


# ----------------------------------------------------------------------------- multi-class


def multilabel_soft_margin_loss(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Any:
    r"""Multi-label one-versus-all logistic loss, averaged over the classes:
    :math:`\ell_n = -\frac{1}{C}\sum_c w_c [y_{n,c}\log\sigma(x_{n,c}) + (1 - y_{n,c})\log\sigma(-x_{n,c})]`.

    Shapes: ``input`` logits ``(N, C)`` or ``(C,)`` (the class axis is the *last* one, as in
    torch's code); ``target`` in [0, 1] broadcastable to the input; ``weight`` (optional,
    usually ``(C,)``) broadcastable to the input, a rescaling: ``mean`` is the plain mean of
    the ``N`` per-sample values (output ``(N,)`` for ``reduction='none'``, ``()`` unbatched).
    torch: ``F.multilabel_soft_margin_loss`` / ``nn.MultiLabelSoftMarginLoss``; keras:
    ``binary_crossentropy(from_logits=True)`` (same mean over the last axis, unweighted);
    optax: ``sigmoid_binary_cross_entropy`` (elementwise).
    """
    fn = "multilabel_soft_margin_loss"
    xp = array_namespace(input, target, weight, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    if len(input.shape) == 0:
        raise ValueError(
            f"{fn}: argument 'input' must have a class dimension, (N, C) or (C,); got a 0-d array"
        )
    check_broadcasts_to(fn, "target", target, "input", input)
    check_broadcasts_to(fn, "weight", weight, "input", input)
    target = as_float_like(xp, target, input)
    # torch/nn/functional.py: -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input)),
    # which is (1 - target) * input - logsigmoid(input) (logsigmoid(-x) = logsigmoid(x) - x):
    # _ops.logistic_loss, torch's fused BCE-with-logits kernel (4x faster than the two
    # logsigmoids forward+backward at 4096 x 1000, CPU)
    loss = _ops.logistic_loss(xp, input, target)
    if weight is not None:
        loss = loss * as_float_like(xp, weight, input)
    loss = xp.sum(loss, axis=-1) / input.shape[-1]  # the class dim is input.dim() - 1
    return reduce(xp, loss, reduction, fn)


def _check_indices(xp, fn: str, target: Any, what: str) -> None:
    """Class-index targets are integers (torch wants int64; any integer dtype is taken)."""
    if not xp.isdtype(target.dtype, "integral"):
        raise TypeError(
            f"{fn}: argument 'target' holds {what} and must be an integer array; got dtype "
            f"{dtype_name(target)} with shape {shape_of(target)}"
        )


def _rows(fn: str, input: Any) -> tuple[int, int | None]:
    """torch's shape rule of the multi-class margin kernels (``multi_margin_loss_shape_check``):
    input ``(N, C)`` with ``C > 0``, ``(C,)`` with ``C > 0``, or ``()`` (one class). Returns
    ``(N, C)``, ``N = 1`` when unbatched."""
    shape = shape_of(input)
    if len(shape) > 2 or 0 in shape[-1:]:
        raise ValueError(
            f"{fn}: argument 'input' must be a non-empty vector (C,) or matrix (N, C) (or 0-d); "
            f"got shape {shape}"
        )
    if len(shape) == 2:
        return shape[0], shape[1]
    return 1, (shape[0] if shape else 1)


def multilabel_margin_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Multi-class multi-label hinge loss: for each sample,
    :math:`\ell = \frac{1}{C}\sum_{j}\sum_{i \notin Y} \max(0, 1 - (x_{y_j} - x_i))`, where
    :math:`y_j` runs over ``target``'s entries *before its first negative one* and :math:`Y`
    is the set of those classes (a class listed twice counts twice, as in torch's kernel).

    Shapes: ``input`` ``(N, C)``, ``(C,)`` or ``()``; ``target`` integer class indices of the
    input's shape (``()``/``(1,)`` for a 0-d input), padded with -1; every entry must lie in
    ``[-1, C)`` (torch checks them all, the ones after the padding too). Output ``(N,)`` for
    ``reduction='none'`` (``()`` unbatched).
    Computed without data-dependent shapes and in :math:`O(NC)` memory (no ``(N, C, C)``
    array of pairs): the first negative is found by a cumulative sum, the set :math:`Y` and
    the sums over :math:`i` by stable sorts of each row (:math:`O(NC \log C)` time); see
    :func:`_multilabel_hinge_sums`.
    torch: ``F.multilabel_margin_loss`` / ``nn.MultiLabelMarginLoss``; keras, optax: none.
    """
    fn = "multilabel_margin_loss"
    xp = array_namespace(input, target, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    # torch's order: the shapes (multilabel_margin_loss_shape_check), then the dtypes
    _, c = _rows(fn, input)
    ndim = len(input.shape)
    t_shape = shape_of(target)
    if ndim == 2:
        bad = t_shape != shape_of(input)
    else:  # torch: target.dim() <= 1 && target.numel() == dim
        bad = len(t_shape) > 1 or (numel(target) is not None and numel(target) != c)
    if bad:
        raise ValueError(
            f"{fn}: argument 'target' must have the shape of 'input' {shape_of(input)} (class "
            f"indices padded with -1); got {t_shape}"
        )
    check_floating(xp, fn, "input", input)
    _check_indices(xp, fn, target, "class indices padded with -1")
    check_index_range(xp, fn, "target", target, -1, c, what="class indices or -1 padding")
    loss = _ops.multilabel_margin(xp, xp.reshape(input, (-1, c)), xp.reshape(target, (-1, c)))
    if ndim < 2:
        loss = xp.reshape(loss, ())
    return reduce(xp, loss, reduction, fn)


MULTI_MARGIN_P = (1, 2)


def multi_margin_loss(
    input: Any,
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    weight: Any = None,
    reduction: str = "mean",
) -> Any:
    r"""Multi-class hinge loss (Weston-Watkins / Crammer-Singer style): for each sample with
    class :math:`y`,
    :math:`\ell = \frac{w_y}{C}\sum_{i \ne y} \max(0, \mathrm{margin} - x_y + x_i)^p`,
    :math:`p \in \{1, 2\}`.

    Shapes: ``input`` ``(N, C)``, ``(C,)`` or ``()``; ``target`` integer class indices in
    ``[0, C)``, ``(N,)`` (or ``()``/``(1,)`` with one sample); ``weight`` ``(C,)``, a
    rescaling by the target's weight: ``mean`` stays the plain mean over samples (torch).
    Output for ``reduction='none'``: the target's shape.
    torch: ``F.multi_margin_loss`` / ``nn.MultiMarginLoss``; keras: ``categorical_hinge`` is a
    different (max-over-classes) loss; optax: ``multiclass_hinge_loss`` (max, not sum).
    """
    fn = "multi_margin_loss"
    xp = array_namespace(input, target, weight, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    if p not in MULTI_MARGIN_P:
        raise ValueError(f"{fn}: argument 'p' must be 1 or 2 (the only ones torch supports); got {p!r}")
    # torch's order: p, the shapes (multi_margin_loss_shape_check), then the dtypes
    n, c = _rows(fn, input)
    # torch: target.dim() <= 1 && target.numel() == nframe
    if len(target.shape) > 1 or (numel(target) is not None and n is not None and numel(target) != n):
        raise ValueError(
            f"{fn}: argument 'target' must hold one class index per sample, shape ({n},) or () "
            f"for input {shape_of(input)}; got {shape_of(target)}"
        )
    check_weight(fn, "weight", weight, c)
    check_floating(xp, fn, "input", input)
    _check_indices(xp, fn, target, "class indices")
    check_index_range(xp, fn, "target", target, 0, c)
    w = None if weight is None else as_float_like(xp, weight, input)
    loss = _ops.multi_margin(xp, xp.reshape(input, (-1, c)), xp.reshape(target, (-1,)), p, margin, w)
    if len(target.shape) == 0:  # torch: 'none' has the target's shape, (N,) or ()
        loss = xp.reshape(loss, ())
    return reduce(xp, loss, reduction, fn)
