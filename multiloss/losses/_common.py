"""The prologue every canonical loss shares: namespace, dtype and shape checks, targets
cast to the prediction's dtype. Kept here so each loss body reads like its formula."""

from __future__ import annotations

import numbers
from typing import Any, TypeGuard

from .._namespace import array_namespace
from .._reduction import TORCH_REDUCTIONS
from .._validation import check_broadcastable, check_floating, check_reduction


def elementwise_inputs(fn: str, input: Any, target: Any, reduction: str, *extra: Any, warn_broadcast: bool = True):
    """Resolve ``xp`` for ``(input, target, *extra)``, check ``reduction`` and dtypes, require
    broadcastable shapes (torch warns when they differ) and cast ``target`` to ``input``'s dtype.

    Returns ``(xp, target)``."""
    xp = array_namespace(input, target, *extra, fn=fn)
    check_reduction(fn, reduction, TORCH_REDUCTIONS)
    check_floating(xp, fn, "input", input)
    target = as_float_like(xp, target, input)
    check_broadcastable(fn, "input", input, "target", target, warn=warn_broadcast)
    return xp, target


def as_float_like(xp, x: Any, like: Any) -> Any:
    """``x`` cast to ``like``'s floating dtype (integer/bool labels become floats)."""
    if x.dtype != like.dtype:
        return xp.astype(x, like.dtype)
    return x


def class_axis(x: Any) -> int:
    """torch's class dimension: 1 for batched input ``(N, C, d1, ...)``, 0 for ``(C,)``."""
    return 0 if len(x.shape) == 1 else 1


def masked_logit(xp, dtype: Any) -> float:
    """Half the lowest finite value of ``dtype``: a fill for masked logits that has no mass in
    a softmax normaliser (as optax's ``-inf`` mask) but keeps a fully masked row finite, and
    whose shift by the row's largest logit cannot overflow. ``finfo`` reads the dtype, not the
    array: no host read-back."""
    return 0.5 * float(xp.finfo(dtype).min)


def along_axis(xp, vec: Any, ndim: int, axis: int) -> Any:
    """Reshape a 1-D ``vec`` so it broadcasts along ``axis`` of an ``ndim``-d array."""
    shape = [1] * ndim
    shape[axis] = vec.shape[0]
    return xp.reshape(vec, tuple(shape))


def is_number(x: Any) -> TypeGuard[float]:
    """Whether a hyper-parameter (``delta``, ``gamma``, ``alpha`` ...) is a plain real number,
    whose value can be checked and branched on now. An array (e.g. a tracer under ``jax.jit``,
    where optax accepts array hyper-parameters) is used as given, unchecked."""
    return isinstance(x, numbers.Real)
