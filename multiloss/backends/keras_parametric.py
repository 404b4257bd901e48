"""The losses that own parameters, for Keras 3: layers holding the weights, whose ``call``
computes the canonical functions of :mod:`multiloss.losses.parametric` on the active
backend's tensors (TensorFlow, JAX or PyTorch; on PyTorch the chunked linear cross-entropy
runs its fused autograd function).

* :class:`LinearCrossEntropy` -- ``layer(inputs, labels, sample_weight=None)`` is the
  cross-entropy of a linear head (``linear_weight`` ``(num_classes, in_features)``, torch's
  layout, and ``linear_bias``) reduced as a keras loss (``reduction``, ``sample_weight``,
  ``ignore_class`` masking as ``SparseCategoricalCrossentropy``); the ``(N, num_classes)``
  logits are never held at once. The last layer of a model (``add_as_loss=True`` adds its value
  to the model's losses), or called in a custom ``train_step``.
* :class:`AdaptiveLogSoftmaxWithLoss` -- torch's adaptive softmax as a layer (weights
  ``head_weight`` (``head_bias``), ``tail_{i}_projection``, ``tail_{i}_output``, torch's shapes):
  ``layer(inputs, labels)`` returns ``(output, loss)``; ``log_prob`` and ``predict``.

Both are registered for keras serialisation (package ``"multiloss"``). Not ``keras.losses.Loss``
subclasses: a keras ``Loss`` has no weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from .._namespace import array_namespace
from .._reduction import KERAS_REDUCTIONS, keras_reduce
from .._validation import check_reduction
from ..losses import parametric as _P

__all__ = ["AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropy"]


def _tensor(v):
    return ops.convert_to_tensor(v)


@keras.saving.register_keras_serializable(package="multiloss")
class LinearCrossEntropy(keras.layers.Layer):
    """Cross-entropy of a linear head over ``num_classes`` classes, chunked
    (:func:`multiloss.linear_cross_entropy`): ``layer(inputs, labels, sample_weight=None)``.

    ``inputs`` ``(N, in_features)``; ``labels`` class indices ``(N,)`` or probabilities
    ``(N, num_classes)``. Per-sample values are reduced as keras losses are (``reduction``
    ``"sum_over_batch_size"`` by default; ``"none"`` keeps them). ``class_weight``: one
    weight per class (torch's ``weight``). ``ignore_class``: labels equal to it count 0, and
    ``"sum_over_batch_size"`` divides by the number of the other labels (keras's
    ``SparseCategoricalCrossentropy`` masking). ``chunk_size``: rows per chunk (default:
    chunks whose logits are about the size of ``inputs``). ``add_as_loss``: also ``add_loss`` the
    value, so a functional model whose last layer this is trains with ``compile(loss=None)``.
    keras: none (a ``Dense`` plus
    ``SparseCategoricalCrossentropy(from_logits=True)`` computes the same, holding the logits);
    torch: ``nn.LinearCrossEntropyLoss``."""

    def __init__(self, num_classes: int, use_bias: bool = False, reduction: str | None = "sum_over_batch_size",
                 class_weight: Sequence[float] | None = None, ignore_class: int | None = None,
                 label_smoothing: float = 0.0, chunk_size: int | None = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 add_as_loss: bool = False, **kwargs):
        super().__init__(**kwargs)
        check_reduction(type(self).__name__, reduction, KERAS_REDUCTIONS)
        if class_weight is not None and len(class_weight) != num_classes:
            raise ValueError(f"{type(self).__name__}: argument 'class_weight' must hold num_classes={num_classes} "
                             f"weights; got {len(class_weight)}")
        self.num_classes = int(num_classes)
        self.use_bias = bool(use_bias)
        self.reduction = reduction
        self.class_weight = None if class_weight is None else [float(w) for w in class_weight]
        self.ignore_class = ignore_class
        self.label_smoothing = float(label_smoothing)
        self.chunk_size = chunk_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.add_as_loss = bool(add_as_loss)

    def build(self, inputs_shape, labels_shape=None, sample_weight_shape=None):
        d = inputs_shape[-1]
        self.linear_weight = self.add_weight(name="linear_weight", shape=(self.num_classes, d),
                                             initializer=self.kernel_initializer)
        self.linear_bias = (self.add_weight(name="linear_bias", shape=(self.num_classes,),
                                            initializer=self.bias_initializer) if self.use_bias else None)

    def call(self, inputs, labels, sample_weight=None):
        x = _tensor(inputs)
        w = ops.cast(_tensor(self.linear_weight), x.dtype)
        b = None if self.linear_bias is None else ops.cast(_tensor(self.linear_bias), x.dtype)
        y = _tensor(labels)
        cw = None if self.class_weight is None else ops.convert_to_tensor(self.class_weight, dtype=x.dtype)
        values = _P.linear_cross_entropy(x, w, y, linear_bias=b, weight=cw, reduction="none",
                                         ignore_index=self.ignore_class, label_smoothing=self.label_smoothing,
                                         chunk_size=self.chunk_size)
        xp = array_namespace(values)
        if sample_weight is not None:
            sample_weight = ops.cast(_tensor(sample_weight), values.dtype)
        if self.ignore_class is not None and "int" in str(y.dtype):
            # keras apply_mask (keras/src/losses/loss.py): ignored labels weigh 0; for the mean
            # reductions the others weigh total / valid
            valid = ops.cast(y != self.ignore_class, values.dtype)
            if self.reduction in ("mean", "sum_over_batch_size"):
                total = ops.cast(ops.size(valid), values.dtype)
                valid = valid * ops.divide_no_nan(total, ops.sum(valid))
            sample_weight = valid if sample_weight is None else sample_weight * valid
        value = keras_reduce(xp, values, self.reduction, sample_weight)
        if self.add_as_loss:
            self.add_loss(value if len(value.shape) == 0 else ops.sum(value))
        return value

    def compute_output_spec(self, inputs, labels, sample_weight=None):
        shape = () if self.reduction not in ("none", None) else tuple(labels.shape[:1])
        return keras.KerasTensor(shape, dtype=self.compute_dtype)

    def get_config(self):
        config = super().get_config()
        config.update(num_classes=self.num_classes, use_bias=self.use_bias, reduction=self.reduction,
                      class_weight=self.class_weight, ignore_class=self.ignore_class,
                      label_smoothing=self.label_smoothing, chunk_size=self.chunk_size, add_as_loss=self.add_as_loss,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
                      bias_initializer=keras.initializers.serialize(self.bias_initializer))
        return config


@keras.saving.register_keras_serializable(package="multiloss")
class AdaptiveLogSoftmaxWithLoss(keras.layers.Layer):
    """torch's adaptive softmax as a keras layer (:func:`multiloss.adaptive_log_softmax_with_loss`):
    ``layer(inputs, labels)`` returns ``(output, loss)``, the labels' log-probabilities and
    their negative mean; ``log_prob(inputs)`` ``(N, n_classes)``; ``predict(inputs)`` ``(N,)``.

    ``cutoffs``, ``div_value`` and ``head_bias`` as torch's constructor; the weights have torch's
    shapes (``head_weight`` ``(cutoffs[0] + n_clusters, in_features)``, ``tail_{i}_projection``
    ``(in_features // div_value ** (i + 1), in_features)``, ``tail_{i}_output`` ``(cluster size,
    hidden)``), so torch's ``state_dict`` values load with ``set_weights`` in that order.
    keras: none; torch: ``nn.AdaptiveLogSoftmaxWithLoss``."""

    def __init__(self, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0, head_bias: bool = False,
                 kernel_initializer: Any = "glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        cut = list(cutoffs)
        if (not cut or cut != sorted(cut) or min(cut) <= 0 or max(cut) > n_classes - 1
                or len(set(cut)) != len(cut) or any(int(c) != c for c in cut)):
            raise ValueError(f"{type(self).__name__}: cutoffs should be a sequence of unique, positive integers "
                             f"sorted in an increasing order, where each value is between 1 and n_classes-1; "
                             f"got {cutoffs!r}")
        self.n_classes = int(n_classes)
        self.cutoffs = [int(c) for c in cut]
        self.div_value = float(div_value)
        self.head_bias = bool(head_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape, labels_shape=None):
        d = inputs_shape[-1]
        full = [*self.cutoffs, self.n_classes]
        n_clusters = len(self.cutoffs)
        self.head_weight = self.add_weight(name="head_weight", shape=(full[0] + n_clusters, d),
                                           initializer=self.kernel_initializer)
        self.head_bias_weight = (self.add_weight(name="head_bias", shape=(full[0] + n_clusters,), initializer="zeros")
                                 if self.head_bias else None)
        self.tail_weights = []
        for i in range(n_clusters):
            hsz = int(d // (self.div_value ** (i + 1)))
            proj = self.add_weight(name=f"tail_{i}_projection", shape=(hsz, d), initializer=self.kernel_initializer)
            out = self.add_weight(name=f"tail_{i}_output", shape=(full[i + 1] - full[i], hsz),
                                  initializer=self.kernel_initializer)
            self.tail_weights.append((proj, out))

    def _arrays(self, x):
        def cast(v):
            return ops.cast(_tensor(v), x.dtype)

        tail = [(cast(p), cast(o)) for p, o in self.tail_weights]
        bias = None if self.head_bias_weight is None else cast(self.head_bias_weight)
        return cast(self.head_weight), tail, bias

    def call(self, inputs, labels):
        x = _tensor(inputs)
        head, tail, bias = self._arrays(x)
        out = _P.adaptive_log_softmax_with_loss(x, _tensor(labels), head, tail, self.cutoffs, head_bias=bias)
        return out.output, out.loss

    def log_prob(self, inputs):
        x = _tensor(inputs)
        head, tail, bias = self._arrays(x)
        return _P.adaptive_log_softmax_log_prob(x, head, tail, self.cutoffs, head_bias=bias)

    def predict(self, inputs):
        x = _tensor(inputs)
        head, tail, bias = self._arrays(x)
        return _P.adaptive_log_softmax_predict(x, head, tail, self.cutoffs, head_bias=bias)

    def compute_output_spec(self, inputs, labels):
        return (keras.KerasTensor(tuple(labels.shape), dtype=self.compute_dtype),
                keras.KerasTensor((), dtype=self.compute_dtype))

    def get_config(self):
        config = super().get_config()
        config.update(n_classes=self.n_classes, cutoffs=self.cutoffs, div_value=self.div_value,
                      head_bias=self.head_bias,
                      kernel_initializer=keras.initializers.serialize(self.kernel_initializer))
        return config
