"""``multiloss.jax``: the losses under optax's names and semantics, for JAX arrays.

Per-example, unreduced, pure functions (``(predictions, targets)`` / ``(logits, labels)``
order, class axis -1), each a thin table-driven wrapper of a canonical ``multiloss``
function; plus the extras (``focal_loss``, ``sce_loss``, ``mean_absolute_percentage_error``,
``l1_loss``) and ``l1_penalty`` / ``l2_penalty`` over parameter pytrees. Importing this
module imports jax. See :mod:`multiloss.backends.jax` for the table.

    >>> import multiloss.jax as mj
    >>> mj.softmax_cross_entropy_with_integer_labels(logits, labels).mean()  # doctest: +SKIP
"""

from ..backends.jax import *  # noqa: F403
from ..backends.jax import TABLE, __all__  # noqa: F401
