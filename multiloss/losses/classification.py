"""Classification losses, canonical form (``input``/y_pred first, torch names and defaults).

Logits paths go through ``log_softmax``/``log_sigmoid`` (never ``log(softmax)``), so logits
of any finite size give finite values and gradients. Probability paths clamp ``log`` at
-100 as ``torch.nn.functional.binary_cross_entropy`` does.
"""

from __future__ import annotations

import math
from typing import Any

from .. import _ops
from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS, reduce, weighted_mean
from .._validation import (
    check_broadcasts_to,
    check_class_target_shape,
    check_class_target_values,
    check_class_targets,
    check_floating,
    check_probabilities,
    check_reduction,
    check_same_shape,
    check_weight,
    dtype_name,
    numel,
    shape_of,
)
from ..errors import DTypeError, OptionError
from ._common import (
    along_axis,
    as_float_like,
    class_axis,
    elementwise_inputs,
    is_number,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "hinge",
    "log_loss",
    "focal_loss",
    "sce_loss",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "poly_loss_cross_entropy",
    "safe_softmax_cross_entropy",
]


# ----------------------------------------------------------------------------- binary


def _bce_elementwise(xp, p, t):
    # torch clamps each log at -100 (aten binary_cross_entropy); see _ops.binary_log_loss
    return _ops.binary_log_loss(xp, p, t)


def _bce_logits_elementwise(xp, x, t, pos_weight=None):
    # torch: (1 - t) * x + (1 + (pw - 1) t) * softplus(-x); log_sigmoid(x) = -softplus(-x)
    if pos_weight is None:
        return _ops.logistic_loss(xp, x, t)
    return (1 - t) * x - (1 + (pos_weight - 1) * t) * _ops.log_sigmoid(xp, x)


def _binary_inputs(fn, input, target, reduction, *extra):
    xp, target = elementwise_inputs(fn, input, target, reduction, *extra, warn_broadcast=False)
    # torch raises for a target size different from the input size in the BCE family
    check_same_shape(fn, "input", input, "target", target)
    return xp, target


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, reduction: str = "mean"
) -> Any:
    r"""Binary cross-entropy on probabilities:
    :math:`\ell_i = -w_i [y_i \log x_i + (1 - y_i) \log(1 - x_i)]`, each log clamped at -100.

    Shapes: ``input`` probabilities in [0, 1], any shape; ``target`` the same shape, values in
    [0, 1] (soft labels allowed); ``weight`` broadcastable to the input, a rescaling only:
    ``mean`` is the plain mean of the weighted elements.
    torch: ``F.binary_cross_entropy`` / ``nn.BCELoss``; keras: ``binary_crossentropy`` /
    ``BinaryCrossentropy`` clip probabilities to [1e-7, 1 - 1e-7] instead (the keras adapter
    does that); optax: none for probabilities.
    """
    fn = "binary_cross_entropy"
    xp, target = _binary_inputs(fn, input, target, reduction, weight)
    check_broadcasts_to(fn, "weight", weight, "input", input)
    try:
        # torch: ATen's binary_cross_entropy, which checks the [0, 1] range on the device
        out = _ops.fused_loss(xp, fn, input, target, weight, reduction)
    except RuntimeError:
        check_probabilities(xp, fn, "input", input)  # the clearer message
        raise
    if out is not NotImplemented:
        return out
    check_probabilities(xp, fn, "input", input)
    loss = _bce_elementwise(xp, input, target)
    if weight is not None:
        loss = loss * weight
    return reduce(xp, loss, reduction, fn)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Any:
    r"""Binary cross-entropy on logits:
    :math:`\ell_i = -w_i [p\, y_i \log\sigma(x_i) + (1 - y_i) \log(1 - \sigma(x_i))]`,
    computed as :math:`(1 - y)x - (1 + (p - 1)y)\log\sigma(x)` (finite for any logit).

    Shapes: ``input`` logits, any shape; ``target`` the same shape in [0, 1]; ``weight``
    broadcastable to the input; ``pos_weight`` broadcastable along the last (class) axis.
    torch: ``F.binary_cross_entropy_with_logits`` / ``nn.BCEWithLogitsLoss``; keras:
    ``binary_crossentropy(from_logits=True)``; optax: ``sigmoid_binary_cross_entropy``.
    """
    fn = "binary_cross_entropy_with_logits"
    xp, target = _binary_inputs(fn, input, target, reduction, weight, pos_weight)
    check_broadcasts_to(fn, "weight", weight, "input", input)
    check_broadcasts_to(fn, "pos_weight", pos_weight, "input", input)
    out = _ops.fused_loss(xp, fn, input, target, weight, reduction, pos_weight)  # one native kernel (torch)
    if out is not NotImplemented:
        return out
    loss = _bce_logits_elementwise(xp, input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return reduce(xp, loss, reduction, fn)


HINGE_LABELS = ("auto", "signed")


def hinge(input: Any, target: Any, reduction: str = "mean", labels: str = "auto") -> Any:
    r"""Hinge: :math:`\ell_i = \max(1 - y_i x_i, 0)`, labels in {-1, 1}.

    ``labels="auto"`` (keras ``convert_binary_labels_to_hinge``): labels that are *all* in
    {0, 1} are first mapped to {-1, 1}. ``labels="signed"`` (optax ``hinge_loss``): used as given.
    Shapes: ``input`` scores, ``target`` the same shape.
    keras: ``hinge`` / ``Hinge`` (mean over the last axis); optax: ``hinge_loss`` (unreduced);
    torch: none (``HingeEmbeddingLoss`` is a different loss).
    """
    fn = "hinge"
    xp, target = elementwise_inputs(fn, input, target, reduction)
    if labels not in HINGE_LABELS:
        raise ValueError(f"{fn}: argument 'labels' must be one of {HINGE_LABELS}; got {labels!r}")
    if labels == "auto" and numel(target) != 0:  # (a min/max of no target raises; nothing to map)
        # all(t in {0, 1}) <=> |2t - 1| is 1 everywhere: two float reductions, which XLA
        # vectorises (a boolean all() over the targets made jitted hinge 10x slower on CPU)
        signed = 2 * target - 1
        lo, hi = _ops.min_max(xp, xp.abs(signed))
        target = xp.where((lo == 1) & (hi == 1), signed, target)
    margin = 1 - target * input
    # max(margin, 0) as a where on a Python scalar: no zeros array, and torch.compile traces it
    # (array-api-compat's torch `maximum(x, 0.0)` calls torch.result_type, a graph break)
    return reduce(xp, xp.where(margin > 0, margin, 0.0), reduction, fn)


def log_loss(input: Any, target: Any, reduction: str = "mean", epsilon: float = 1e-7) -> Any:
    r"""Log loss on probabilities with an additive epsilon:
    :math:`\ell_i = -y_i \log(x_i + \epsilon) - (1 - y_i)\log(1 - x_i + \epsilon)`.

    Shapes: ``input`` probabilities, ``target`` the same shape.
    TensorFlow: ``tf.compat.v1.losses.log_loss`` (epsilon=1e-7); torch, keras 3, optax: none.
    """
    fn = "log_loss"
    xp, target = _binary_inputs(fn, input, target, reduction)
    check_probabilities(xp, fn, "input", input)
    loss = -target * xp.log(input + epsilon) - (1 - target) * xp.log(1 - input + epsilon)
    return reduce(xp, loss, reduction, fn)


def focal_loss(
    input: Any,
    target: Any,
    alpha: float | None = 0.75,
    gamma: float = 2.0,
    from_logits: bool = False,
    reduction: str = "mean",
) -> Any:
    r"""Binary focal loss (Lin et al. 2017):
    :math:`\ell_i = \alpha_t (1 - p_t)^\gamma \, \mathrm{BCE}(p_i, y_i)` with
    :math:`p_t = p y + (1 - p)(1 - y)`, :math:`\alpha_t = \alpha y + (1 - \alpha)(1 - y)`
    (``alpha=None`` drops the factor).

    ``input`` holds probabilities (default; BCE with torch's -100 log clamp) or logits
    (``from_logits=True``; BCE via ``log_sigmoid``). ``target`` the same shape, in [0, 1].
    Defaults are the loss survey's worked example's (``alpha=0.75, gamma=2``); with ``gamma=0, alpha=None`` it is BCE.
    ``gamma >= 0`` (a number, or an array used unchecked). From logits with ``gamma < 1`` (or an
    array), :math:`(1 - p_t)^\gamma` is computed in log space as optax does, so saturated logits
    (a float32 sigmoid of 100 is exactly 1) keep finite gradients; from probabilities its
    gradient is 0 where :math:`p_t = 1` (the exact one is infinite there for ``gamma < 1``).
    optax: ``sigmoid_focal_loss(logits, labels, alpha, gamma)`` (logits, unreduced);
    torchvision: ``ops.sigmoid_focal_loss`` (alpha=0.25); keras: ``BinaryFocalCrossentropy`` /
    ``binary_focal_crossentropy`` (alpha only with ``apply_class_balancing``, default 0.25, and
    probabilities clipped to [1e-7, 1 - 1e-7] inside the BCE only: the keras adapter does that).
    """
    fn = "focal_loss"
    xp, target = _binary_inputs(fn, input, target, reduction)
    _check_gamma(fn, gamma)
    if is_number(alpha) and not 0 <= alpha <= 1:
        raise ValueError(f"{fn}: argument 'alpha' must be in [0, 1] or None; got {alpha!r}")
    if from_logits and not _plain_power(gamma):
        # log sigma(x) and log sigma(-x) serve both the BCE and the log-space focal factor (as
        # optax's sigmoid_focal_loss): each keeps its own tiny gradient at saturated logits
        log_p, log_q = _ops.log_sigmoid(xp, input), _ops.log_sigmoid(xp, -input)
        ce = -(target * log_p + (1 - target) * log_q)
        weight = xp.exp(gamma * _log_one_minus_p_t(xp, log_p, log_q, target))
    elif from_logits:
        ce = _bce_logits_elementwise(xp, input, target)
        weight = _binary_focal_weight(xp, input, target, gamma, from_logits)
    else:
        check_probabilities(xp, fn, "input", input)
        ce = _bce_elementwise(xp, input, target)
        weight = _binary_focal_weight(xp, input, target, gamma, from_logits)
    loss = ce if weight is None else ce * weight
    if alpha is not None:
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return reduce(xp, loss, reduction, fn)


def _check_gamma(fn: str, gamma: Any) -> None:
    if is_number(gamma) and not gamma >= 0:  # also rejects nan
        raise OptionError(f"{fn}: argument 'gamma' must be >= 0; got {gamma!r}")


def _plain_power(gamma: Any) -> bool:
    """Whether ``u ** gamma`` has a finite slope at ``u == 0``: a number ``gamma >= 1`` (``0``:
    no factor). Then the focal factor is computed directly (a few fused passes: under
    ``tf.function`` the log-space form cost 1.8x keras's BinaryFocalCrossentropy at 1024x1000);
    a sigmoid that rounds to 1 only loses a factor below ``exp(-|x|)`` there, no gradient."""
    return is_number(gamma) and (gamma >= 1 or gamma == 0)


def _power(xp, u, gamma):
    """``u ** gamma`` for ``u >= 0`` whose gradient stays finite at ``u == 0``: the exact one,
    ``gamma u^(gamma-1)``, is infinite there for ``gamma < 1`` (and nan once multiplied by a
    zero), while the focal losses it weights vanish there (``u = 1 - p_t``: the sample is
    classified exactly right). ``0 ** gamma`` is 1 for ``gamma == 0`` and 0 otherwise."""
    if _plain_power(gamma):
        return u * u if gamma == 2 else u ** gamma
    pos = u > 0
    zero = 0.0 if is_number(gamma) else xp.astype(gamma == 0, u.dtype)
    return xp.where(pos, xp.where(pos, u, 1.0) ** gamma, zero)


def _log_one_minus_p_t(xp, log_p, log_q, t):
    r"""``log(1 - p_t)`` against labels ``t`` in [0, 1] from ``log_p`` = :math:`\log\sigma(x)`
    and ``log_q`` = :math:`\log\sigma(-x)` of logits :math:`x`,
    computed in log space as optax's ``sigmoid_focal_loss`` (optax/losses/_classification.py):
    :math:`1 - p_t = (1 - t)\,p + t\,(1 - p)`, a two-term log-sum-exp of
    :math:`\log\sigma(x)` and :math:`\log\sigma(-x)` weighted by :math:`1 - t` and :math:`t`,
    shifted by the larger of the terms whose weight is nonzero (``jax.scipy.special.logsumexp``
    with ``b=``): a hard label keeps its one term exact, so no ``sigmoid`` rounds to 1 and
    ``(1 - p_t) ** gamma`` keeps a finite gradient for ``gamma < 1`` at any logit."""
    a1 = xp.where(t != 1, log_p, -math.inf)  # weight 1 - t
    a2 = xp.where(t != 0, log_q, -math.inf)  # weight t
    m = _ops.stop_gradient(xp, xp.maximum(a1, a2))
    return m + xp.log((1 - t) * xp.exp(a1 - m) + t * xp.exp(a2 - m))


def _binary_focal_weight(xp, input, target, gamma, from_logits):
    r"""The focal factor :math:`(1 - p_t)^\gamma` of :func:`focal_loss` (``None`` for
    ``gamma == 0``): in log space from logits, a gradient-safe power from probabilities (used
    as given, unclipped). The keras adapter's ``BinaryFocalCrossentropy`` uses it beside its own
    clipped BCE."""
    if is_number(gamma) and gamma == 0:
        return None
    if from_logits and not _plain_power(gamma):
        log_p, log_q = _ops.log_sigmoid(xp, input), _ops.log_sigmoid(xp, -input)
        return xp.exp(gamma * _log_one_minus_p_t(xp, log_p, log_q, target))
    p = _ops.sigmoid(xp, input) if from_logits else input
    return _power(xp, p * (1 - target) + (1 - p) * target, gamma)


# ----------------------------------------------------------------------------- multiclass


def _nll(fn, xp, logp, target, weight, ignore_index, reduction, label_smoothing, cd, logits=False, lean=False):
    """NLL of log-probabilities ``logp`` (class axis ``cd``) with class-index or probability
    targets: the one body behind ``nll_loss`` and ``cross_entropy`` (torch semantics).

    With ``logits=True``, ``logp`` holds logits and ``log_softmax`` is taken only where it is
    needed: the plain class-index path computes ``logsumexp(x) - x[y]`` instead, which never
    materialises the log-probabilities (under ``jax.jit`` the ``log_softmax`` + gather form
    was 2-3x slower than optax forward+backward at 4096x1000: its backward re-reads an
    ``(N, C)`` scattered one-hot; see benchmarks/bench_jax.py)."""
    n_classes = logp.shape[cd]
    check_weight(fn, "weight", weight, n_classes)
    if weight is not None and weight.dtype != logp.dtype:
        # torch: "expected scalar type Float but found Half" (no promotion of the class weight)
        raise TypeError(
            f"{fn}: argument 'weight' must have the input's dtype {dtype_name(logp)}; got "
            f"{dtype_name(weight)}"
        )
    w_b = None if weight is None else along_axis(xp, as_float_like(xp, weight, logp), len(logp.shape), cd)

    if xp.isdtype(target.dtype, "real floating"):
        if ignore_index is not None and ignore_index >= 0:
            # torch: "ignore_index is not supported for floating point target"
            raise ValueError(
                f"{fn}: argument 'ignore_index' is not supported with probability (floating "
                f"point) targets; got ignore_index={ignore_index} (pass class indices to ignore one)"
            )
        # probability targets (torch: cross_entropy_loss_prob_target): mean divides by the
        # number of samples N*d1*..., never by the weights; ignore_index does not apply.
        check_same_shape(fn, "input", logp, "target", target)
        if logits:
            out = _ops.fused_loss(xp, "cross_entropy", logp, target, weight, ignore_index, reduction, label_smoothing)
            if out is not NotImplemented:
                return out
        t = as_float_like(xp, target, logp)
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / n_classes
        if logits and w_b is None:
            per_sample = _ops.softmax_cross_entropy(xp, logp, t, axis=cd)
        else:
            if logits:
                logp = _ops.log_softmax(xp, logp, axis=cd)
            per_sample = -xp.sum(logp * t if w_b is None else logp * t * w_b, axis=cd)
        if reduction == "none":
            return per_sample
        total = xp.sum(per_sample)
        return total if reduction == "sum" else total / (numel(logp) // n_classes)

    check_class_target_shape(xp, fn, logp, target, cd)
    try:
        # one native kernel where the backend has it (torch's cross_entropy / nll_loss): the
        # class-index range is then checked by the kernel, on the device, not read back here
        kernel = ("lean_cross_entropy" if lean else "cross_entropy") if logits else "nll_loss"
        out = _ops.fused_loss(xp, kernel, logp, target, weight, ignore_index, reduction,
                              *((label_smoothing,) if logits else ()))
    except (IndexError, RuntimeError):
        check_class_target_values(xp, fn, logp, target, cd, ignore_index)  # the clearer message
        raise
    if out is not NotImplemented:
        return out
    any_ignored = check_class_target_values(xp, fn, logp, target, cd, ignore_index)
    if not any_ignored and weight is None and label_smoothing == 0:
        # fast path (no target can be ignored): the plain gather
        if logits:
            nll = -_ops.log_softmax_pick(xp, logp, target, axis=cd)
        else:
            nll = -_ops.pick(xp, logp, target, axis=cd)
        return reduce(xp, nll, reduction, fn)
    if logits:
        logp = _ops.log_softmax(xp, logp, axis=cd)

    ignored = target == ignore_index
    safe_t = xp.where(ignored, 0, target)
    picked = _ops.pick(xp, logp, safe_t, axis=cd)
    if weight is None:
        w_t = xp.astype(~ignored, logp.dtype)
    else:
        w = as_float_like(xp, weight, logp)
        w_t = xp.reshape(xp.take(w, xp.reshape(safe_t, (-1,)), axis=0), safe_t.shape)
        w_t = xp.where(ignored, 0.0, w_t)
    loss = -picked * w_t
    if label_smoothing > 0:
        # torch cross_entropy_loss_label_smoothing: smooth term -sum_c w_c logp_c, zeroed
        # where ignored; the mean uses the same denominator as the NLL term
        smooth = -xp.sum(logp if w_b is None else logp * w_b, axis=cd)
        smooth = xp.where(ignored, 0.0, smooth)
        loss = (1 - label_smoothing) * loss + (label_smoothing / n_classes) * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return xp.sum(loss)
    return weighted_mean(xp, loss, w_t)


def _class_inputs(fn, input, target, reduction, weight, label_smoothing=0.0):
    xp = array_namespace(input, target, weight, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: argument 'label_smoothing' must be in [0, 1]; got {label_smoothing!r}")
    if len(input.shape) == 0:
        raise ValueError(f"{fn}: argument 'input' must have a class dimension, (C,) or (N, C, ...); got a 0-d array")
    return xp, class_axis(input)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    *,
    lean_memory: bool = False,
) -> Any:
    r"""Softmax cross-entropy of logits (torch semantics, class axis 1).

    Class-index targets: :math:`\ell_n = -w_{y_n} \log\mathrm{softmax}(x_n)_{y_n}`, ignored where
    ``y_n == ignore_index``; ``mean`` = :math:`\sum_n \ell_n / \sum_n w_{y_n}` over non-ignored
    samples. With ``label_smoothing`` ε: :math:`(1-ε)\ell_n + \tfrac{ε}{C}\sum_c -w_c \log p_{n,c}`.
    Probability targets (float, input's shape): :math:`\ell_n = -\sum_c w_c y_{n,c}' \log p_{n,c}`
    with :math:`y' = (1-ε)y + ε/C`; ``mean`` divides by the number of samples.

    Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; ``target`` ``(N)``/
    ``(N, d1, ...)``/``()`` integers in ``[0, C)``, or probabilities of ``input``'s shape;
    ``weight`` ``(C,)``.
    torch: ``F.cross_entropy`` / ``nn.CrossEntropyLoss``; keras:
    ``(Sparse)CategoricalCrossentropy(from_logits=True)`` (class axis last); optax:
    ``softmax_cross_entropy(_with_integer_labels)`` (unreduced, axis -1).

    ``lean_memory=True`` (keyword-only; same values and gradients): for large-vocabulary
    logits, e.g. an LLM batch of ``(N, C)`` with ``C`` ~ 32k-256k, where memory is what limits
    the batch. On torch, ``(N, C)`` logits with class-index targets then run one autograd
    function that computes the gradient during the forward pass, a chunk of rows at a time
    (``multiloss/backends/torch_lean_ce.py``): forward+backward peaks at ~1.0-1.13x the logits
    above the input instead of ``F.cross_entropy``'s 3x. Use it when the loss is the root of the
    graph (the usual ``loss.backward()``); not for small ``C`` (Python per chunk: ~4x slower at
    64x10), not with a ``weight`` that requires grad, not for double backward (refused). Other
    layouts, targets and backends run the plain path (under ``jax.jit`` XLA plans the memory:
    ``multiloss bench --backend jax`` reports it).
    """
    fn = "cross_entropy"
    xp, cd = _class_inputs(fn, input, target, reduction, weight, label_smoothing)
    if not isinstance(lean_memory, bool):
        raise TypeError(f"{fn}: argument 'lean_memory' must be a bool; got {lean_memory!r}")
    return _nll(fn, xp, input, target, weight, ignore_index, reduction, label_smoothing, cd, logits=True,
                lean=lean_memory)


def nll_loss(
    input: Any, target: Any, weight: Any = None, ignore_index: int = -100, reduction: str = "mean"
) -> Any:
    r"""Negative log-likelihood of log-probabilities:
    :math:`\ell_n = -w_{y_n} x_{n, y_n}`, ignored where ``y_n == ignore_index``; ``mean`` divides
    by :math:`\sum_n w_{y_n}` over non-ignored samples.

    Shapes as :func:`cross_entropy` (``input`` holds log-probabilities). Beyond torch,
    ``target`` may also hold probabilities of ``input``'s shape:
    :math:`\ell_n = -\sum_c w_c y_{n,c} x_{n,c}` (mean over samples).
    torch: ``F.nll_loss`` / ``nn.NLLLoss``.
    """
    fn = "nll_loss"
    xp, cd = _class_inputs(fn, input, target, reduction, weight)
    return _nll(fn, xp, input, target, weight, ignore_index, reduction, 0.0, cd)


def sce_loss(
    input: Any, target: Any, alpha: float = 0.1, beta: float = 1.0, reduction: str = "mean"
) -> Any:
    r"""Symmetric cross-entropy (Wang et al., ICCV 2019) on logits:
    :math:`\ell_n = \alpha\,\mathrm{CE}(y_n, p_n) + \beta\,\mathrm{RCE}`, with
    :math:`\mathrm{RCE} = -\sum_c \mathrm{clip}(p_{n,c}, 10^{-7}, 1) \log \mathrm{clip}(y_{n,c}, 10^{-4}, 1)`,
    :math:`p = \mathrm{softmax}(x)` along the class axis (torch's, 1).

    Shapes: ``input`` logits ``(N, C, ...)``/``(C,)``; ``target`` class indices ``(N, ...)`` or
    probabilities of ``input``'s shape. Defaults follow the paper's CIFAR-10 setting.
    torch, keras, optax: none.
    """
    fn = "sce_loss"
    xp, cd = _class_inputs(fn, input, target, reduction, None)
    n_classes = input.shape[cd]
    logp = _ops.log_softmax(xp, input, axis=cd)
    if xp.isdtype(target.dtype, "real floating"):
        check_same_shape(fn, "input", input, "target", target)
        q = as_float_like(xp, target, input)
        ce = -xp.sum(q * logp, axis=cd)
    else:
        check_class_targets(xp, fn, input, target, cd)
        q = _ops.one_hot(xp, target, n_classes, dtype=input.dtype, axis=cd)
        ce = -_ops.pick(xp, logp, target, axis=cd)
    p = xp.clip(xp.exp(logp), 1e-7, 1.0)
    rce = -xp.sum(p * xp.log(xp.clip(q, 1e-4, 1.0)), axis=cd)
    return reduce(xp, alpha * ce + beta * rce, reduction, fn)


# ----------------------------------------------------------------------------- focal / robust / poly


def _class_alpha(fn, xp, alpha, input, cd):
    """``alpha`` of :func:`categorical_focal_crossentropy`: ``None``, a number, or a ``(C,)``
    array of per-class factors (keras accepts a list), returned reshaped along class axis
    ``cd`` in ``input``'s dtype."""
    if alpha is None or is_number(alpha):
        return alpha
    check_weight(fn, "alpha", alpha, input.shape[cd])
    return along_axis(xp, as_float_like(xp, alpha, input), len(input.shape), cd)


def categorical_focal_crossentropy(
    input: Any,
    target: Any,
    alpha: Any = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Any:
    r"""Categorical (softmax) focal cross-entropy (Lin et al. 2017):
    :math:`\ell_n = -\sum_c \alpha_c (1 - p_{n,c})^\gamma\, y_{n,c} \log p_{n,c}` along the class
    axis (torch's, 1), with :math:`y' = (1 - \varepsilon) y + \varepsilon / C` for
    ``label_smoothing`` :math:`\varepsilon`. With ``gamma=0, alpha=1`` it is the cross-entropy.

    ``input``: probabilities (default; used as given, each log clamped at -100 as torch's BCE)
    or logits (``from_logits=True``: :math:`\log p` = ``log_softmax`` and
    :math:`1 - p = -\mathrm{expm1}(\log p)`, so no probability is rounded to 1 first).
    ``target``: class indices ``(N, d1, ...)`` in ``[0, C)`` or probabilities / one-hot of
    ``input``'s shape. ``alpha``: a number, ``None`` (no factor) or a ``(C,)`` array of per-class
    factors; ``gamma >= 0``. ``mean`` divides by the number of samples :math:`N d_1 \cdots`.
    Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
    keras: ``categorical_focal_crossentropy`` / ``CategoricalFocalCrossentropy`` (class axis
    ``axis``, default last; probabilities, or the softmax of logits, are divided by their sum
    and clipped to [1e-7, 1 - 1e-7] first: the keras adapter does that); torch, optax: none.
    """
    fn = "categorical_focal_crossentropy"
    xp, cd = _class_inputs(fn, input, target, reduction, None if alpha is None or is_number(alpha) else alpha,
                           label_smoothing)
    _check_gamma(fn, gamma)
    a = _class_alpha(fn, xp, alpha, input, cd)
    if not from_logits:
        check_probabilities(xp, fn, "input", input)
    plain = is_number(gamma) and gamma == 0
    if xp.isdtype(target.dtype, "integral"):
        check_class_targets(xp, fn, input, target, cd)
        if label_smoothing == 0:
            # only the labelled class counts: gather first, then the focal factor of one entry
            if from_logits:
                logp = _ops.log_softmax_pick(xp, input, target, axis=cd)
                u = -xp.expm1(logp)
            else:
                p = _ops.pick(xp, input, target, axis=cd)
                logp, u = _ops.clamped_log(xp, p), 1 - p
            loss = -logp if plain else -logp * _power(xp, u, gamma)
            if a is not None:
                loss = loss * (a if is_number(a) else _ops.pick(xp, xp.broadcast_to(a, input.shape), target, axis=cd))
            return reduce(xp, loss, reduction, fn)
        t = _ops.one_hot(xp, target, input.shape[cd], dtype=input.dtype, axis=cd)
    else:
        check_same_shape(fn, "input", input, "target", target)
        t = as_float_like(xp, target, input)
    if label_smoothing > 0:
        t = t * (1 - label_smoothing) + label_smoothing / input.shape[cd]
    if from_logits:
        logp = _ops.log_softmax(xp, input, axis=cd)
        u = -xp.expm1(logp)
    else:
        logp, u = _ops.clamped_log(xp, input), 1 - input
    term = -logp if plain else -logp * _power(xp, u, gamma)
    if a is not None:
        term = a * term
    return reduce(xp, xp.sum(t * term, axis=cd), reduction, fn)


def categorical_generalized_cross_entropy(
    input: Any, target: Any, q: float = 0.5, from_logits: bool = False, reduction: str = "mean"
) -> Any:
    r"""Generalized cross-entropy (Zhang & Sabuncu, NeurIPS 2018), robust to noisy labels:
    :math:`\ell_n = (1 - p_{n, y_n}^q) / q`, the probability of the labelled class along the
    class axis (torch's, 1). ``q`` in (0, 1]: the cross-entropy as :math:`q \to 0`, the mean
    absolute error :math:`1 - p_y` at :math:`q = 1`. Probability (soft or one-hot) targets
    :math:`y` give the expected loss :math:`\sum_c y_{n,c} (1 - p_{n,c}^q) / q`.

    ``input``: probabilities (default, as keras) or logits (``from_logits=True``:
    :math:`p^q = e^{q \log\mathrm{softmax}(x)}`, finite for any logits); ``target``: class
    indices ``(N, d1, ...)`` in ``[0, C)`` (keras's labels are integer class indices) or
    probabilities of ``input``'s shape. From probabilities the gradient is 0 where :math:`p = 0`
    (the exact one is infinite). Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
    keras: ``categorical_generalized_cross_entropy`` / ``CategoricalGeneralizedCrossEntropy``
    (probabilities ``(N, C)``, class axis last, integer labels; the class refuses ``q = 1``, its
    documented range being (0, 1)); torch, optax: none.
    """
    fn = "categorical_generalized_cross_entropy"
    xp, cd = _class_inputs(fn, input, target, reduction, None)
    if is_number(q) and not 0 < q <= 1:
        raise OptionError(f"{fn}: argument 'q' must be in (0, 1]; got {q!r}")
    if not from_logits:
        check_probabilities(xp, fn, "input", input)
    if xp.isdtype(target.dtype, "integral"):
        check_class_targets(xp, fn, input, target, cd)
        if from_logits:
            p_q = xp.exp(q * _ops.log_softmax_pick(xp, input, target, axis=cd))
        else:
            p_q = _power(xp, _ops.pick(xp, input, target, axis=cd), q)
        return reduce(xp, (1 - p_q) / q, reduction, fn)
    check_same_shape(fn, "input", input, "target", target)
    t = as_float_like(xp, target, input)
    p_q = xp.exp(q * _ops.log_softmax(xp, input, axis=cd)) if from_logits else _power(xp, input, q)
    return reduce(xp, xp.sum(t * (1 - p_q), axis=cd) / q, reduction, fn)


def poly_loss_cross_entropy(input: Any, target: Any, epsilon: float = 2.0, reduction: str = "mean") -> Any:
    r"""Poly-1 loss (Leng et al., ICLR 2022) of logits: the cross-entropy plus
    :math:`\epsilon` times the first polynomial term,
    :math:`\ell_n = -\sum_c y_{n,c} \log p_{n,c} + \epsilon \sum_c y_{n,c} (1 - p_{n,c})`,
    :math:`p = \mathrm{softmax}(x)` along the class axis (torch's, 1). ``epsilon``: any real
    (the paper: 2 for ImageNet classification, -1 for detection).

    ``target``: probabilities / one-hot of ``input``'s shape, or class indices
    ``(N, d1, ...)`` (then :math:`\ell_n = -\log p_{y} + \epsilon (1 - p_{y})`).
    Shapes: ``input`` ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
    optax: ``poly_loss_cross_entropy(logits, labels, epsilon=2.0, axis=-1, where=None)``
    (unreduced, class axis last); torch, keras: none.
    """
    fn = "poly_loss_cross_entropy"
    xp, cd = _class_inputs(fn, input, target, reduction, None)
    if xp.isdtype(target.dtype, "integral"):
        check_class_targets(xp, fn, input, target, cd)
        logp = _ops.log_softmax_pick(xp, input, target, axis=cd)
        return reduce(xp, -logp - epsilon * xp.expm1(logp), reduction, fn)  # 1 - p = -expm1(log p)
    check_same_shape(fn, "input", input, "target", target)
    t = as_float_like(xp, target, input)
    # optax's form: softmax and log-softmax side by side (under jax.jit one fused pass each way;
    # p = exp(log p) in the same sum measured 1.3-2x slower forward+backward at 4096x1000)
    logp, p = _ops.log_softmax(xp, input, axis=cd), _ops.softmax(xp, input, axis=cd)
    return reduce(xp, -xp.sum(t * logp, axis=cd) + epsilon * xp.sum(t * (1 - p), axis=cd), reduction, fn)


def safe_softmax_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Any:
    r"""Softmax cross-entropy of logits against probabilities with :math:`0 \log 0 = 0`:
    :math:`\ell_n = -\sum_{c:\, y_{n,c} \ne 0} y_{n,c} \log\mathrm{softmax}(x_n)_c` along the
    class axis (torch's, 1). A logit of :math:`-\infty` (an excluded class) whose label is 0
    adds nothing and gets a zero gradient, where :func:`cross_entropy` (like torch's and optax's
    ``softmax_cross_entropy``) gives a nan value (its gradient stays finite). A separate
    function because the mask costs an unfused pass: torch's fused probability-target kernel
    behind :func:`cross_entropy` was 1.6-2x faster forward+backward (4096x1000, CPU).

    ``target``: probabilities (or one-hot) of ``input``'s shape. Shapes: ``input`` ``(N, C)``,
    ``(N, C, d1, ...)`` or ``(C,)``; ``mean`` divides by the number of samples.
    optax: ``safe_softmax_cross_entropy(logits, labels)`` (unreduced, class axis last); torch,
    keras: none.
    """
    fn = "safe_softmax_cross_entropy"
    xp, cd = _class_inputs(fn, input, target, reduction, None)
    if not xp.isdtype(target.dtype, "real floating"):
        raise DTypeError(
            f"{fn}: argument 'target' must hold probabilities (a floating-point array of the "
            f"input's shape); got dtype {dtype_name(target)} with shape {shape_of(target)}"
        )
    check_same_shape(fn, "input", input, "target", target)
    t = as_float_like(xp, target, input)
    # -sum_c y_c (x_c - lse) = lse sum_c y_c - sum_c y_c x_c, with x_c read only where y_c != 0
    # (optax weighted_logsoftmax: where(y != 0, y * log p, 0)); the where on x, not on the
    # product, keeps the gradient w.r.t. the labels finite too. No (N, C) log-softmax is kept
    # for the backward pass: XLA planned 1.5x optax's memory for that form at 4096x1000.
    lse = _ops.logsumexp(xp, input, axis=cd)
    return reduce(xp, lse * xp.sum(t, axis=cd) - xp.sum(t * xp.where(t != 0, input, 0.0), axis=cd), reduction, fn)


# ----------------------------------------------------------------------------- utilities
# (not losses: outside __all__, so neither exported as multiloss.<name> nor in the catalogue)


def smooth_labels(labels: Any, alpha: float, axis: Any = -1, where: Any = None) -> Any:
    r"""Label smoothing: :math:`(1 - \alpha)\,y + \alpha / K`, :math:`K` the number of classes
    along ``axis`` (an int, a tuple of ints or ``None`` for all axes), or with ``where`` (a
    boolean mask broadcastable to ``labels``) the number of included entries along ``axis``.

    Shapes: ``labels`` floating, any shape; the result has ``labels``' shape.
    optax: ``smooth_labels(labels, alpha, *, axis=-1, where=None)`` (``multiloss.jax.smooth_labels``);
    torch and keras smooth inside the loss (``label_smoothing=``).
    """
    fn = "smooth_labels"
    xp = array_namespace(labels, where, fn=fn)
    check_floating(xp, fn, "labels", labels)
    shape = shape_of(labels)
    if where is None:
        axes = range(len(shape)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        k = 1
        for ax in axes:
            if not isinstance(ax, int) or not -len(shape) <= ax < len(shape):
                raise OptionError(f"{fn}: argument 'axis' must be an int, a tuple of ints in "
                                  f"[-{len(shape)}, {len(shape)}) or None; got {axis!r}")
            k *= shape[ax]
    else:
        ax = axis if axis is None or isinstance(axis, int) else tuple(axis)
        k = xp.sum(xp.astype(where, labels.dtype), axis=ax, keepdims=True)
    return (1.0 - alpha) * labels + alpha / k
