"""The torch losses that own parameters: hand-written ``nn.Module`` classes (named by their rows'
``module=`` in :mod:`multiloss.backends.torch_table`) whose ``forward`` calls the canonical
functions of :mod:`multiloss.losses.parametric` with the module's parameters.

* :class:`LinearCrossEntropyLoss` -- torch 2.13's ``nn.LinearCrossEntropyLoss``: the same
  constructor, attributes and parameters (``linear.weight``, ``linear.bias`` and the
  ``weight`` buffer, so a ``state_dict`` of torch's module loads), computed chunked by
  :func:`multiloss.linear_cross_entropy` (forward+backward never holds the full logits).
* :class:`AdaptiveLogSoftmaxWithLoss` -- a subclass of torch's ``nn.AdaptiveLogSoftmaxWithLoss``
  (its constructor, parameter layout ``head.weight``, ``tail.0.0.weight`` ... and
  ``reset_parameters`` are torch's own), whose ``forward`` / ``log_prob`` / ``predict`` are
  :func:`multiloss.adaptive_log_softmax_with_loss` and its helpers: no data-dependent
  shapes, so ``torch.compile`` / ``torch.func`` see one static graph.

Errors of the canonical functions are re-raised as exceptions that are *also* torch's class for
their kind (``RuntimeError``, ``IndexError`` ...; :mod:`multiloss.errors`), keeping their
``ValueError``/``TypeError`` class and message.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
from torch import nn
from torch.nn.modules.adaptive import _ASMoutput  # torch's (output, loss) namedtuple

from ..errors import TORCH as _TORCH_ERRORS
from ..errors import reraise as _reraise
from ..losses import parametric as _P
from . import torch_ops as _torch_ops  # noqa: F401  (registers the fused torch primitives)

__all__ = ["AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss"]


def _raises_torch_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            _reraise(exc, _TORCH_ERRORS)

    return wrapper


class LinearCrossEntropyLoss(nn.modules.loss._WeightedLoss):
    r"""Cross-entropy of a linear head: ``cross_entropy(input @ linear.weight.T + linear.bias,
    target)`` without ever holding the ``(N, C)`` logits (chunks of rows, gradient computed
    chunk by chunk in the forward pass for ``mean``/``sum``).

    Drop-in for ``torch.nn.LinearCrossEntropyLoss`` (torch 2.13): same constructor
    ``(in_features, num_classes, *, out_features=(), bias=False, device=None, dtype=None,
    reduction='mean', weight=None, ignore_index=None, label_smoothing=0.0, options=None)``,
    same parameters and ``state_dict`` keys (``linear.weight`` of shape
    ``(num_classes * prod(out_features), in_features)``, ``linear.bias``, the ``weight``
    buffer), same values and gradients. ``options`` (``LinearCrossEntropyOptions``): only its
    ``batch_chunk_size`` is used, as the chunk size; with ``options=None`` torch does not chunk,
    this module always does (same numbers). Computes :func:`multiloss.linear_cross_entropy`.

    Shapes: input ``(N, in_features)`` or ``(in_features,)``; target class indices ``(N)``,
    ``()`` or ``(N, *out_features)``, or probabilities ``(N, C, *out_features)`` / ``(C,)``;
    output scalar, or the target's (index) shape with ``reduction='none'``.
    """

    __constants__ = ("num_classes", "out_features", "reduction", "ignore_index", "label_smoothing")  # torch's

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        *,
        out_features: tuple[int, ...] = (),
        bias: bool = False,
        device=None,
        dtype=None,
        reduction: str = "mean",
        weight: torch.Tensor | None = None,
        ignore_index: int | None = None,
        label_smoothing: float = 0.0,
        options: Any = None,
    ) -> None:
        # torch/nn/modules/loss.py LinearCrossEntropyLoss.__init__: the same checks, RuntimeError
        if weight is not None and weight.shape != (num_classes,):
            raise RuntimeError(f"expected weight shape to be {(num_classes,)}, got {tuple(weight.shape)}")
        if label_smoothing < 0 or label_smoothing > 1.0:
            raise RuntimeError(f"expected label_smoothing to be in range [0, 1], got {label_smoothing}")
        super().__init__(weight=weight, size_average=None, reduce=None, reduction=reduction)
        self.num_classes = num_classes
        self.out_features = out_features
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing
        self.linear = nn.Linear(in_features, math.prod(out_features, start=num_classes), bias=bias,
                                device=device, dtype=dtype)
        self.options = options

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The loss of ``(input, target)``; see :func:`multiloss.linear_cross_entropy`."""
        from .torch import check_tensors  # noqa: PLC0415 (multiloss.backends.torch imports this module)

        check_tensors("LinearCrossEntropyLoss", ("input", "target"), (input, target))
        linear_weight = self.linear.weight.reshape((self.num_classes, *self.out_features, self.linear.in_features))
        bias = self.linear.bias
        linear_bias = None if bias is None else bias.reshape((self.num_classes, *self.out_features))
        return _linear_cross_entropy(
            input, linear_weight, target, linear_bias=linear_bias, weight=self.weight, reduction=self.reduction,
            ignore_index=self.ignore_index, label_smoothing=self.label_smoothing, options=self.options,
        )


_linear_cross_entropy = _raises_torch_errors(_P.linear_cross_entropy)
_adaptive = _raises_torch_errors(_P.adaptive_log_softmax_with_loss)
_adaptive_log_prob = _raises_torch_errors(_P.adaptive_log_softmax_log_prob)
_adaptive_predict = _raises_torch_errors(_P.adaptive_log_softmax_predict)


class AdaptiveLogSoftmaxWithLoss(nn.AdaptiveLogSoftmaxWithLoss):
    r"""Adaptive softmax (Grave et al. 2017): a head over the shortlist and one entry per
    cluster, each cluster a low-rank projection then its own softmax.

    Drop-in for ``torch.nn.AdaptiveLogSoftmaxWithLoss`` (a subclass of it: torch's constructor
    ``(in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None,
    dtype=None)``, its parameters ``head.weight`` (``head.bias``), ``tail.i.0.weight``,
    ``tail.i.1.weight`` and initialisation). ``forward`` returns torch's ``(output, loss)``
    namedtuple, computed by :func:`multiloss.adaptive_log_softmax_with_loss` (every cluster
    evaluated for every row, selected with ``where``: no data-dependent shapes); ``log_prob``
    and ``predict`` by ``adaptive_log_softmax_log_prob`` / ``adaptive_log_softmax_predict``
    (:mod:`multiloss.losses.parametric`).

    Shapes: input ``(N, in_features)`` with target ``(N,)``, or ``(in_features,)`` with ``()``;
    output the target's shape, loss a scalar; ``log_prob`` ``(N, n_classes)``; ``predict`` ``(N,)``.
    """

    def _parameters_as_arrays(self):
        tail = [(seq[0].weight, seq[1].weight) for seq in self.tail]
        return self.head.weight, tail, self.cutoffs[:-1], self.head.bias

    def forward(self, input_: torch.Tensor, target_: torch.Tensor):
        """``(output, loss)``; see :func:`multiloss.adaptive_log_softmax_with_loss`."""
        from .torch import check_tensors  # noqa: PLC0415 (multiloss.backends.torch imports this module)

        check_tensors("AdaptiveLogSoftmaxWithLoss", ("input_", "target_"), (input_, target_))
        head, tail, cutoffs, bias = self._parameters_as_arrays()
        output, loss = _adaptive(input_, target_, head, tail, cutoffs, head_bias=bias)
        return _ASMoutput(output, loss)

    def log_prob(self, input: torch.Tensor) -> torch.Tensor:
        """Log-probabilities of all ``n_classes``, ``(N, n_classes)``."""
        head, tail, cutoffs, bias = self._parameters_as_arrays()
        return _adaptive_log_prob(input, head, tail, cutoffs, head_bias=bias)

    def predict(self, input: torch.Tensor) -> torch.Tensor:
        """The most probable class per row, ``(N,)``."""
        head, tail, cutoffs, bias = self._parameters_as_arrays()
        return _adaptive_predict(input, head, tail, cutoffs, head_bias=bias)


for _cls in (LinearCrossEntropyLoss, AdaptiveLogSoftmaxWithLoss):
    _cls.__module__ = "multiloss.torch"
del _cls
