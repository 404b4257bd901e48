"""optax's ``make_fenchel_young_loss`` for :mod:`multiloss.jax`: a function that returns a loss,
written by hand (the table's factory builds losses of a fixed signature). A ``HANDWRITTEN`` row
of :mod:`multiloss.backends.jax_table` exports it.

optax's semantics (``optax/losses/_fenchel_young.py``, 0.2.8): ``max_fun`` is written for
*one* score vector (``jax.scipy.special.logsumexp``, whose default ``axis=None`` reduces the
whole vector) and vectorised over the leading axes with
``jnp.vectorize(max_fun, signature="(n)->()")``; the loss is
``max_fun(scores, *args, **kwargs) - vdot(targets, scores)`` over the last axis, per example,
``targets`` and ``scores`` broadcasting over their leading axes. The value is then
:func:`multiloss.fenchel_young_loss` with that vectorised ``max_fun``; the gradient is jax's
autodiff of ``max_fun``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from ..losses import structured as _S
from . import jax_ops as _jax_ops  # noqa: F401  (registers the fast primitives now)

__all__ = ["make_fenchel_young_loss"]

_NAMES = {"input": "scores", "target": "targets"}


def make_fenchel_young_loss(max_fun: Callable[..., Any]) -> Callable[..., Any]:
    """Creates a Fenchel-Young loss from a max function (optax's ``make_fenchel_young_loss``).

    ``max_fun(scores, *args, **kwargs)`` maps one score vector ``(n,)`` to a scalar (e.g.
    ``jax.scipy.special.logsumexp``: the loss is then the softmax cross-entropy); it is
    vectorised over any leading axes. The returned
    ``fenchel_young_loss(scores, targets, *args, **kwargs)`` is, over the last axis and per
    example (unreduced), :math:`\\mathrm{max\\_fun}(\\theta) - \\langle y, \\theta \\rangle`
    (Blondel et al., *Learning with Fenchel-Young Losses*, JMLR 2020); ``targets`` has the
    scores' last axis and broadcasts with them over the leading ones. Its gradient is jax's
    autodiff of ``max_fun``. Traceable under ``jit``/``grad``/``vmap``.

    Computed by :func:`multiloss.fenchel_young_loss` (canonical; there ``max_fun`` takes the
    whole batch, classes last). optax: ``optax.losses.make_fenchel_young_loss``.
    """
    if not callable(max_fun):
        raise TypeError(f"make_fenchel_young_loss: argument 'max_fun' must be callable; got "
                        f"{type(max_fun).__name__} {max_fun!r}")
    # optax/losses/_fenchel_young.py: the same vectorisation, so extra args/kwargs behave as there
    max_fun_last_dim = jnp.vectorize(max_fun, signature="(n)->()")

    def fenchel_young_loss(scores: Any, targets: Any, *args: Any, **kwargs: Any) -> Any:
        scores, targets = jnp.asarray(scores), jnp.asarray(targets)
        if scores.ndim == 0 or targets.ndim == 0 or scores.shape[-1] != targets.shape[-1]:
            raise ValueError(
                f"fenchel_young_loss (make_fenchel_young_loss): arguments 'scores' and 'targets' must have one "
                f"last (class) axis of the same length, the leading axes broadcasting; got shapes "
                f"{tuple(scores.shape)} and {tuple(targets.shape)}"
            )
        try:
            lead = jnp.broadcast_shapes(scores.shape[:-1], targets.shape[:-1])
        except ValueError:
            raise ValueError(
                f"fenchel_young_loss (make_fenchel_young_loss): the leading axes of 'scores' "
                f"{tuple(scores.shape)} and 'targets' {tuple(targets.shape)} must broadcast"
            ) from None
        shape = (*lead, scores.shape[-1])
        if jnp.issubdtype(scores.dtype, jnp.floating) and targets.dtype != scores.dtype:
            targets = targets.astype(scores.dtype)  # optax's vdot promotes integer one-hot labels
        scores, targets = jnp.broadcast_to(scores, shape), jnp.broadcast_to(targets, shape)
        try:
            return _S.fenchel_young_loss(scores, targets, lambda s: max_fun_last_dim(s, *args, **kwargs),
                                         axis=-1, reduction="none")
        except (TypeError, ValueError) as e:
            msg = str(e)
            if not msg.startswith("fenchel_young_loss: "):
                raise
            # the same class (multiloss's error classes take the message alone, as the builtins)
            msg = re.sub(r"'(\w+)'", lambda m: f"'{_NAMES.get(m.group(1), m.group(1))}'", msg[len("fenchel_young_loss: "):])
            raise type(e)(f"fenchel_young_loss (make_fenchel_young_loss, multiloss.fenchel_young_loss): {msg}") from None

    name = getattr(max_fun, "__name__", type(max_fun).__name__)
    fenchel_young_loss.__doc__ = (
        f"The Fenchel-Young loss of ``{name}`` (optax's ``make_fenchel_young_loss``): "
        f"``max_fun(scores, *args, **kwargs) - vdot(targets, scores)`` over the last axis, per example."
    )
    return fenchel_young_loss
