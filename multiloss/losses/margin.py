"""Margin losses, canonical form (``input`` first, ``torch.nn.functional`` names, argument order,
defaults, reductions and shapes, unbatched inputs included).

Hinges are written as ``where`` on the margin (never ``maximum(z, 0)``), chosen so the gradient
*at* the kink is torch's too: losses that torch builds with ``clamp_min(0)``
(``margin_ranking_loss``, ``hinge_embedding_loss``; ATen ``Loss.cpp``) pass the gradient where
the margin is exactly 0 (``clamp_min``'s backward is ``grad * (x >= min)``), while the
multi-class kernels (``multi_margin_loss``, ``multilabel_margin_loss``; ATen
``LossMultiMargin.cpp``/``LossMultiLabelMargin.cpp``) add a term only ``if (z > 0)``.

The second half of the module holds the margin losses of keras and optax that torch lacks
(``squared_hinge``, ``categorical_hinge``: keras's names; ``multiclass_hinge_loss``,
``perceptron_loss``, ``multiclass_perceptron_loss``: optax's), written from
``keras/src/losses/losses.py`` (keras 3.15) and ``optax/losses/_classification.py`` (optax
0.2.8); their class axis is torch's (1, or 0 for one unbatched ``(C,)`` row).

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
    check_class_targets,
    check_floating,
    check_index_range,
    check_reduction,
    check_weight,
    dtype_name,
    numel,
    shape_of,
)
from ._common import as_float_like, class_axis, elementwise_inputs

__all__ = [
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "soft_margin_loss",
    "multilabel_soft_margin_loss",
    "multilabel_margin_loss",
    "multi_margin_loss",
    "squared_hinge",
    "categorical_hinge",
    "multiclass_hinge_loss",
    "perceptron_loss",
    "multiclass_perceptron_loss",
]


def _clamp_min0(xp, z):
    """``max(z, 0)`` with torch ``clamp_min``'s gradient: 1 where ``z >= 0`` (the kink included);
    nan stays nan, as through ``clamp_min`` (and ``tf.maximum``, whose gradient also goes to
    its first argument where ``x >= y``: TF ``math_grad._MaximumGrad``)."""
    return xp.where(z < 0, 0.0, z)


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
    if not input1.shape == input2.shape == target.shape:  # (equal: nothing to check, the common case)
        check_broadcastable(fn, "input1", input1, "input2", input2, warn=False)
        check_broadcastable(fn, "input1", input1, "target", target, warn=False)
        check_broadcastable(fn, "input2", input2, "target", target, warn=False)
    input2 = as_float_like(xp, input2, input1)
    target = as_float_like(xp, target, input1)
    out = _ops.fused_loss(xp, fn, input1, input2, target, margin, reduction)  # one native call (torch)
    if out is not NotImplemented:
        return out
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
    out = _ops.fused_loss(xp, fn, input, target, margin, reduction)  # one native call (torch)
    if out is not NotImplemented:
        return out
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
    try:  # one native kernel (torch), which checks the indices itself, on the device
        out = _ops.fused_loss(xp, fn, input, target, reduction)
    except RuntimeError:
        check_index_range(xp, fn, "target", target, -1, c, what="class indices or -1 padding")
        raise
    if out is not NotImplemented:
        return out
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
    try:  # one native kernel (torch), which checks the indices itself, on the device
        out = _ops.fused_loss(xp, fn, input, target, p, margin, weight, reduction)
    except RuntimeError:
        check_index_range(xp, fn, "target", target, 0, c)
        raise
    if out is not NotImplemented:
        return out
    check_index_range(xp, fn, "target", target, 0, c)
    w = None if weight is None else as_float_like(xp, weight, input)
    loss = _ops.multi_margin(xp, xp.reshape(input, (-1, c)), xp.reshape(target, (-1,)), p, margin, w)
    if len(target.shape) == 0:  # torch: 'none' has the target's shape, (N,) or ()
        loss = xp.reshape(loss, ())
    return reduce(xp, loss, reduction, fn)


# ----------------------------------------------------------------------------- keras / optax

HINGE_LABELS = ("auto", "signed")


def _hinge_labels(xp, fn: str, target: Any, labels: str) -> Any:
    """keras ``convert_binary_labels_to_hinge`` (``keras/src/losses/losses.py``) for
    ``labels='auto'``: targets that are *all* in {0, 1} become ``2 t - 1``; any other targets
    (and every target with ``labels='signed'``, optax's convention) are used as given. The test
    is two float reductions on ``|2t - 1|`` (no boolean ``all``, no host read-back: traceable)."""
    if labels not in HINGE_LABELS:
        raise ValueError(f"{fn}: argument 'labels' must be one of {HINGE_LABELS}; got {labels!r}")
    if labels == "signed" or numel(target) == 0:
        return target
    signed = 2 * target - 1
    lo, hi = _ops.min_max(xp, xp.abs(signed))
    return xp.where((lo == 1) & (hi == 1), signed, target)


def squared_hinge(input: Any, target: Any, reduction: str = "mean", labels: str = "auto") -> Any:
    r"""Squared hinge: :math:`\ell_i = \max(1 - y_i x_i, 0)^2`, labels :math:`y_i \in \{-1, 1\}`.

    ``labels="auto"`` (keras): targets that are *all* in {0, 1} are first mapped to {-1, 1};
    ``labels="signed"``: used as given. Shapes: ``input`` scores, any shape; ``target`` the same
    (broadcasting allowed, with a warning). Differentiable everywhere (the kink's gradient is 0).
    keras: ``squared_hinge`` / ``SquaredHinge`` (mean over the last axis, then the reduction);
    torch: none (multiloss extra ``SquaredHingeLoss``); optax: none (extra ``squared_hinge_loss``,
    signed labels). See :func:`hinge` for the unsquared loss.
    """
    fn = "squared_hinge"
    xp, target = elementwise_inputs(fn, input, target, reduction)
    target = _hinge_labels(xp, fn, target, labels)
    h = _clamp_min0(xp, 1 - target * input)  # keras: square(maximum(1 - y_true * y_pred, 0))
    return reduce(xp, h * h, reduction, fn)


def _class_scores(fn: str, input: Any) -> int:
    """The class axis of scores ``(N, C, d1, ...)`` or ``(C,)`` (torch's), with ``C > 0``."""
    shape = shape_of(input)
    if len(shape) == 0:
        raise ValueError(
            f"{fn}: argument 'input' must have a class dimension, (C,) or (N, C, ...); got a 0-d array"
        )
    cd = class_axis(input)
    if shape[cd] == 0:
        raise ValueError(f"{fn}: argument 'input' must have at least one class (dimension {cd}); got shape {shape}")
    return cd


def categorical_hinge(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Categorical (Crammer-Singer style) hinge of scores against one-hot targets:
    :math:`\ell_n = \max(\mathrm{neg}_n - \mathrm{pos}_n + 1, 0)` with
    :math:`\mathrm{pos}_n = \sum_c y_{n,c} x_{n,c}` and
    :math:`\mathrm{neg}_n = \max_c (1 - y_{n,c}) x_{n,c}`.

    As keras writes it: for one-hot targets the maximum also sees the target's own slot as 0,
    so :math:`\mathrm{neg}_n = \max(0, \max_{c \ne y_n} x_{n,c})` (unlike optax's
    :func:`multiclass_hinge_loss`, which takes :math:`\max_{c \ne y_n} x_{n,c}`). Targets in
    {-1, 1} or soft targets are used in the same formula. Where several classes tie for the
    maximum, the gradient is shared equally among them (as in keras, torch and jax).
    Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` (class axis 1, or 0 unbatched);
    ``target`` broadcastable to it; the unreduced loss drops the class axis.
    keras: ``categorical_hinge`` / ``CategoricalHinge`` (class axis last); torch: none (multiloss
    extra ``CategoricalHingeLoss``); optax: none (extra ``categorical_hinge_loss``).
    """
    fn = "categorical_hinge"
    xp = array_namespace(input, target, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    cd = _class_scores(fn, input)
    check_broadcasts_to(fn, "target", target, "input", input)
    target = as_float_like(xp, target, input)
    # keras/src/losses/losses.py categorical_hinge, in its order of operations
    pos = xp.sum(target * input, axis=cd)
    neg = xp.max((1.0 - target) * input, axis=cd)
    return reduce(xp, _clamp_min0(xp, neg - pos + 1.0), reduction, fn)


def _class_index_inputs(fn: str, input: Any, target: Any, reduction: str):
    xp = array_namespace(input, target, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    cd = _class_scores(fn, input)
    check_class_targets(xp, fn, input, target, cd)  # integer, shape, in [0, C) when concrete
    return xp, cd


def multiclass_hinge_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Multi-class (Crammer-Singer) hinge loss of scores against class indices:
    :math:`\ell_n = \max_c (x_{n,c} + 1 - [c = y_n]) - x_{n,y_n}
    = \max(0, 1 + \max_{c \ne y_n} x_{n,c} - x_{n,y_n})`.

    Computed in optax's order of operations (``max(scores + 1 - one_hot) - scores[y]``), so
    the values agree with optax's to the last bit; where several classes tie for the maximum
    the gradient is shared equally among them (as ``jnp.max``).
    Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` (class axis 1, or 0
    unbatched); ``target`` integer class indices in ``[0, C)`` of the input's shape without the
    class axis (checked eagerly on concrete arrays). Output for ``reduction='none'``: the
    target's shape.
    optax: ``multiclass_hinge_loss(scores, labels)`` (class axis last, unreduced); torch: none
    (``multi_margin_loss`` sums over the classes instead of taking the max; multiloss extra
    ``MulticlassHingeLoss``); keras: none (``categorical_hinge`` floors the maximum at 0).
    """
    fn = "multiclass_hinge_loss"
    xp, cd = _class_index_inputs(fn, input, target, reduction)
    hot = _ops.one_hot(xp, target, input.shape[cd], dtype=input.dtype, axis=cd)
    # optax/losses/_classification.py: max(scores + 1.0 - one_hot, -1) - dot(scores, one_hot);
    # the dot, not a gather, as the one-hot is there anyway (under jax.jit a gather's backward
    # is a scatter: +1 kB of XLA temp at 64x10, none with the product)
    loss = xp.max(input + 1.0 - hot, axis=cd) - xp.sum(input * hot, axis=cd)
    return reduce(xp, loss, reduction, fn)


def perceptron_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Binary perceptron loss: :math:`\ell_i = \max(0, -y_i x_i)`, labels :math:`y_i \in \{-1, 1\}`
    (used as given).

    The gradient at the kink :math:`y_i x_i = 0` is :math:`-y_i / 2`, as optax's
    ``jnp.maximum(0, .)`` gives (jax shares the gradient of a tie equally): a model whose scores
    start at exactly 0 (zero-initialised weights, the classic perceptron) still moves.
    Shapes: ``input`` scores, any shape; ``target`` the same shape (broadcasting allowed, with a
    warning; optax requires equal shapes and so does ``multiloss.jax.perceptron_loss``).
    optax: ``perceptron_loss(predictor_outputs, targets)`` (unreduced); torch, keras: none
    (multiloss extras ``PerceptronLoss`` / ``Perceptron``).
    """
    fn = "perceptron_loss"
    xp, target = elementwise_inputs(fn, input, target, reduction)
    z = -input * target  # optax: jnp.maximum(0, -predictor_outputs * targets)
    # max(z, 0) with the value 0 and gradient 1/2 at z == 0 (jax's balanced tie), nan kept
    loss = _ops.positive_part(xp, z)
    return reduce(xp, loss, reduction, fn)


def multiclass_perceptron_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Multi-class perceptron loss (Collins 2002): :math:`\ell_n = \max_c x_{n,c} - x_{n,y_n}`.

    Where several classes tie for the maximum the gradient is shared equally among them (as
    ``jnp.max``): at all-equal scores (zero-initialised weights) it is
    :math:`1/C - [c = y_n]`, as in optax.
    Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)`` (class axis 1, or 0
    unbatched); ``target`` integer class indices in ``[0, C)`` of the input's shape without the
    class axis (checked eagerly on concrete arrays). Output for ``reduction='none'``: the
    target's shape.
    optax: ``multiclass_perceptron_loss(scores, labels)`` (class axis last, unreduced); torch,
    keras: none (multiloss extras ``MulticlassPerceptronLoss`` / ``MulticlassPerceptron``).
    """
    fn = "multiclass_perceptron_loss"
    xp, cd = _class_index_inputs(fn, input, target, reduction)
    # optax/losses/_classification.py: max(scores, -1) - dot(scores, one_hot(labels))
    loss = xp.max(input, axis=cd) - _ops.pick(xp, input, target, axis=cd)
    return reduce(xp, loss, reduction, fn)
