"""JAX fast primitives for ``multiloss._ops`` (``jax.nn`` / ``lax`` kernels).

Imported by ``multiloss._namespace`` the first time a ``jax.Array`` is seen."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import _ops

_NS = "jax.numpy"


def _pick(x, labels, axis=-1):
    # optax softmax_cross_entropy_with_integer_labels uses take_along_axis the same way
    return jnp.take_along_axis(x, jnp.expand_dims(labels, axis), axis=axis).squeeze(axis)


def _is_concrete(x):
    return not isinstance(x, jax.core.Tracer)


def _one_hot(labels, num_classes, dtype=None, axis=-1):
    return jax.nn.one_hot(labels, num_classes, dtype=dtype if dtype is not None else jnp.float32, axis=axis)


_ops.register(
    _NS,
    stop_gradient=jax.lax.stop_gradient,
    log_softmax=lambda x, axis=-1: jax.nn.log_softmax(x, axis=axis),
    softmax=lambda x, axis=-1: jax.nn.softmax(x, axis=axis),
    logsumexp=lambda x, axis=-1, keepdims=False: jax.nn.logsumexp(x, axis=axis, keepdims=keepdims),
    softplus=jax.nn.softplus,
    log_sigmoid=jax.nn.log_sigmoid,
    sigmoid=jax.nn.sigmoid,
    take_along_axis=lambda x, indices, axis=-1: jnp.take_along_axis(x, indices, axis=axis),
    pick=_pick,
    one_hot=_one_hot,
    xlogy=jax.scipy.special.xlogy,
    is_concrete=_is_concrete,
)
