"""The Fenchel--Young loss for Keras 3, written by hand: it takes a *function* (the max function),
which the table's factory cannot serialise. ``HANDWRITTEN`` rows of
:mod:`multiloss.backends.keras_table` export both forms from :mod:`multiloss.keras`.

* :class:`FenchelYoungLoss` -- a ``keras.losses.Loss`` (keras's ``reduction``, ``sample_weight``,
  ``dtype``); ``get_config`` stores ``max_fun`` as keras stores ``LossFunctionWrapper``'s ``fn``
  (``keras.saving.serialize_keras_object``), so a model compiled with it reloads after
  ``model.save`` when ``max_fun`` is registered (``@keras.saving.register_keras_serializable()``)
  or given in ``custom_objects``; a lambda or an unregistered function does not.
* :func:`fenchel_young_loss` -- the per-sample function, keras style (``y_true`` first).

keras has no Fenchel--Young loss (keras 3 has the ``ops.sparsemax`` activation only); optax's
``make_fenchel_young_loss`` is the twin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from .._namespace import array_namespace
from ..losses import structured as _S

__all__ = ["FenchelYoungLoss", "fenchel_young_loss"]


def _to_tensor(x: Any) -> Any:
    if hasattr(x, "shape") and hasattr(x, "dtype") and type(x).__module__.split(".")[0] != "numpy":
        return x
    return keras.ops.convert_to_tensor(x)


def _check_max_fun(fn: str, max_fun: Any) -> None:
    if not callable(max_fun):
        raise TypeError(
            f"{fn}: argument `max_fun` must be a callable mapping y_pred scores (..., C) to one value per "
            f"sample (...), e.g. `lambda s: keras.ops.logsumexp(s, axis=-1)`. Received: max_fun={max_fun!r}"
        )


def _compute(fn: str, y_true: Any, y_pred: Any, max_fun: Callable[[Any], Any] | None, axis: int) -> Any:
    st, sp = tuple(y_true.shape), tuple(y_pred.shape)
    if st != sp:
        raise ValueError(
            f"{fn}: Arguments `y_true` (probabilities or one-hot labels) and `y_pred` (scores) must have the "
            f"same shape. Received: y_true.shape={st}, y_pred.shape={sp}"
        )
    xp = array_namespace(y_true, y_pred, fn=fn)
    if y_true.dtype != y_pred.dtype:
        y_true = xp.astype(y_true, y_pred.dtype)
    return _S.fenchel_young_loss(y_pred, y_true, max_fun, axis=axis, reduction="none")


def fenchel_young_loss(y_true: Any, y_pred: Any, max_fun: Callable[[Any], Any] | None = None, axis: int = -1) -> Any:
    """Fenchel--Young loss per sample, keras style (``y_true`` first):
    ``max_fun(y_pred) - sum(y_true * y_pred, axis)``.

    ``max_fun`` is written with ``keras.ops`` (or the backend's ops) and gets ``y_pred`` with the
    classes last, returning one value per sample (``lambda s: keras.ops.logsumexp(s, axis=-1)`` is
    the categorical cross-entropy of logits; ``None``, the default, is that log-sum-exp). ``y_true``: probabilities
    or one-hot labels of ``y_pred``'s shape. The gradient is the backend's autodiff of
    ``max_fun``. Computed by ``multiloss.fenchel_young_loss`` (canonical). keras: none (a multiloss
    extra); optax: ``make_fenchel_young_loss``."""
    fn = "fenchel_young_loss"
    if max_fun is not None:
        _check_max_fun(fn, max_fun)
    return _compute(fn, _to_tensor(y_true), _to_tensor(y_pred), max_fun, axis)


@keras.saving.register_keras_serializable(package="multiloss")
class FenchelYoungLoss(keras.losses.Loss):
    """FenchelYoungLoss(max_fun=None, axis=-1, reduction='sum_over_batch_size', name='fenchel_young_loss', dtype=None)

    keras-style Fenchel--Young loss (``loss(y_true, y_pred, sample_weight=None)``): per sample
    ``max_fun(y_pred) - sum(y_true * y_pred, axis)`` (see :func:`fenchel_young_loss`), then keras's
    ``reduction`` with ``sample_weight``. Computed by ``multiloss.fenchel_young_loss`` (canonical,
    y_pred first). A multiloss extra (keras has no such loss), in keras's style; optax:
    ``make_fenchel_young_loss``.

    Serialisable (registered as ``'multiloss>FenchelYoungLoss'``): ``get_config()["max_fun"]`` is
    ``keras.saving.serialize_keras_object(max_fun)``, as for keras's own ``LossFunctionWrapper``.
    To reload a saved model, ``max_fun`` must be a named function registered with
    ``@keras.saving.register_keras_serializable()`` (or passed in ``custom_objects``); a lambda
    cannot be reloaded."""

    def __init__(self, max_fun: Any = None, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "fenchel_young_loss", dtype: Any = None):
        if isinstance(max_fun, (dict, str)):  # a config written by get_config, or a registered name
            max_fun = keras.saving.deserialize_keras_object(max_fun)
        if max_fun is not None:
            _check_max_fun("FenchelYoungLoss", max_fun)
        if isinstance(axis, bool) or not isinstance(axis, int):
            # keras's own message and class for an option of the wrong type (a ValueError)
            raise ValueError(f"FenchelYoungLoss: argument `axis` must be of type `int`. Received: axis={axis!r}")  # noqa: TRY004
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.max_fun, self.axis = max_fun, axis
        self._ml_dtype = dtype if dtype is None or isinstance(dtype, str) else getattr(dtype, "name", str(dtype))

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return _compute("FenchelYoungLoss", y_true, y_pred, self.max_fun, self.axis)

    def get_config(self) -> dict:
        config = {"name": self.name, "reduction": self.reduction, "axis": self.axis,
                  "max_fun": keras.saving.serialize_keras_object(self.max_fun)}
        if self._ml_dtype is not None:
            config["dtype"] = self._ml_dtype
        return config

    @classmethod
    def from_config(cls, config: dict) -> FenchelYoungLoss:
        config = dict(config)
        config["max_fun"] = keras.saving.deserialize_keras_object(config["max_fun"])
        return cls(**config)

    def __repr__(self) -> str:
        name = getattr(self.max_fun, "__name__", repr(self.max_fun))
        return (f"<multiloss.keras.FenchelYoungLoss(max_fun={name}, axis={self.axis}, "
                f"reduction={self.reduction!r}, name={self.name!r})>")


FenchelYoungLoss.__module__ = "multiloss.keras"
fenchel_young_loss.__module__ = "multiloss.keras"
