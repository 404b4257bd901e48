"""The losses that own parameters, for JAX: pure functions over a parameter pytree, plus the
functions that initialise it. The pytrees mirror the torch modules' ``state_dict`` layout
(``{"linear": {"weight", "bias"}}``; ``{"head": {"weight", "bias"}, "tail": [[{"weight"},
{"weight"}], ...]}``), so :func:`params_from_state_dict` ports torch weights unchanged and the
values equal ``torch.nn.LinearCrossEntropyLoss`` / ``torch.nn.AdaptiveLogSoftmaxWithLoss``.

optax style: per-example, unreduced losses (take ``.mean()`` yourself); ``jit``/``grad``
friendly (the configuration -- ``cutoffs``, ``chunk_size`` -- is static Python data, not
part of the pytree). Every function calls the canonical one of
:mod:`multiloss.losses.parametric`; see their docstrings for the formulas.

    params = linear_cross_entropy_init(jax.random.key(0), 512, 32000)
    loss = linear_cross_entropy(params, hidden, labels).mean()    # never holds (N, 32000)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from ..losses import parametric as _P
from . import jax_ops as _jax_ops  # noqa: F401  (registers the fast primitives)

__all__ = [
    "adaptive_log_softmax_init",
    "adaptive_log_softmax_log_prob",
    "adaptive_log_softmax_predict",
    "adaptive_log_softmax_with_loss",
    "linear_cross_entropy",
    "linear_cross_entropy_init",
    "params_from_state_dict",
]


def _uniform(key, shape, fan_in, dtype):
    """torch ``nn.Linear``'s default initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
    the weight (kaiming_uniform with a=sqrt(5)) and the bias."""
    bound = 1.0 / (fan_in ** 0.5) if fan_in > 0 else 0.0
    return jax.random.uniform(key, shape, dtype, -bound, bound)


def linear_cross_entropy_init(key: Any, in_features: int, num_classes: int, *, out_features: Sequence[int] = (),
                              bias: bool = False, dtype: Any = jnp.float32) -> dict:
    """Parameters of :func:`linear_cross_entropy`: ``{"linear": {"weight": (num_classes,
    *out_features, in_features)[, "bias": (num_classes, *out_features)]}}``, initialised as
    torch's ``nn.LinearCrossEntropyLoss`` (its ``nn.Linear``)."""
    kw, kb = jax.random.split(key)
    shape = (num_classes, *out_features)
    linear = {"weight": _uniform(kw, (*shape, in_features), in_features, dtype)}
    if bias:
        linear["bias"] = _uniform(kb, shape, in_features, dtype)
    return {"linear": linear}


def linear_cross_entropy(params: dict, inputs: Any, labels: Any, *, class_weight: Any = None,
                         ignore_index: int | None = None, label_smoothing: float = 0.0,
                         chunk_size: int | None = None) -> Any:
    """Per-example cross-entropy of the linear head ``params["linear"]`` on ``inputs``
    ``(N, in_features)`` against class indices ``labels`` ``(N,)`` (or probabilities
    ``(N, num_classes)``), chunked: the ``(N, num_classes)`` logits are never held at once.
    ``class_weight``: torch's ``weight``; ignored rows give 0. Calls
    :func:`multiloss.linear_cross_entropy` with ``reduction="none"``; optax: none."""
    linear = params["linear"]
    return _P.linear_cross_entropy(
        jnp.asarray(inputs), linear["weight"], jnp.asarray(labels), linear_bias=linear.get("bias"),
        weight=class_weight, reduction="none", ignore_index=ignore_index, label_smoothing=label_smoothing,
        chunk_size=chunk_size,
    )


def _full_cutoffs(in_features: int, n_classes: int, cutoffs: Sequence[int]) -> list[int]:
    cut = list(cutoffs)
    if (not cut or cut != sorted(cut) or min(cut) <= 0 or max(cut) > n_classes - 1
            or len(set(cut)) != len(cut) or any(int(c) != c for c in cut)):
        # torch's AdaptiveLogSoftmaxWithLoss.__init__ check, and its message
        raise ValueError("adaptive_log_softmax_init: cutoffs should be a sequence of unique, positive integers "
                         "sorted in an increasing order, where each value is between 1 and n_classes-1; "
                         f"got {cutoffs!r}")
    return [*map(int, cut), n_classes]


def adaptive_log_softmax_init(key: Any, in_features: int, n_classes: int, cutoffs: Sequence[int],
                              div_value: float = 4.0, head_bias: bool = False, dtype: Any = jnp.float32) -> dict:
    """Parameters of the adaptive softmax, torch's layout and initialisation
    (``AdaptiveLogSoftmaxWithLoss.__init__``): ``head`` ``(cutoffs[0] + n_clusters,
    in_features)``; cluster ``i``: ``tail[i][0]`` ``(in_features // div_value ** (i + 1),
    in_features)`` and ``tail[i][1]`` ``(cluster size, hidden)``."""
    full = _full_cutoffs(in_features, n_classes, cutoffs)
    n_clusters = len(full) - 1
    keys = jax.random.split(key, 2 + 2 * n_clusters)
    head_size = full[0] + n_clusters
    head = {"weight": _uniform(keys[0], (head_size, in_features), in_features, dtype)}
    if head_bias:
        head["bias"] = _uniform(keys[1], (head_size,), in_features, dtype)
    tail = []
    for i in range(n_clusters):
        hsz = int(in_features // (div_value ** (i + 1)))
        osz = full[i + 1] - full[i]
        tail.append([{"weight": _uniform(keys[2 + 2 * i], (hsz, in_features), in_features, dtype)},
                     {"weight": _uniform(keys[3 + 2 * i], (osz, hsz), hsz, dtype)}])
    return {"head": head, "tail": tail}


def _asm_arrays(params: dict):
    head = params["head"]
    tail = [(proj["weight"], out["weight"]) for proj, out in params["tail"]]
    return head["weight"], tail, head.get("bias")


def adaptive_log_softmax_with_loss(params: dict, inputs: Any, labels: Any, cutoffs: Sequence[int]):
    """``(output, loss)`` as torch's ``AdaptiveLogSoftmaxWithLoss.forward``: the label's
    log-probability per example and their negative mean; ``cutoffs`` as given to
    :func:`adaptive_log_softmax_init`. Calls :func:`multiloss.adaptive_log_softmax_with_loss`."""
    head, tail, bias = _asm_arrays(params)
    return _P.adaptive_log_softmax_with_loss(jnp.asarray(inputs), jnp.asarray(labels), head, tail, cutoffs,
                                             head_bias=bias)


def adaptive_log_softmax_log_prob(params: dict, inputs: Any, cutoffs: Sequence[int]) -> Any:
    """Log-probabilities of all classes, ``(N, n_classes)`` (torch's ``log_prob``)."""
    head, tail, bias = _asm_arrays(params)
    return _P.adaptive_log_softmax_log_prob(jnp.asarray(inputs), head, tail, cutoffs, head_bias=bias)


def adaptive_log_softmax_predict(params: dict, inputs: Any, cutoffs: Sequence[int]) -> Any:
    """The most probable class per example, ``(N,)`` (torch's ``predict``)."""
    head, tail, bias = _asm_arrays(params)
    return _P.adaptive_log_softmax_predict(jnp.asarray(inputs), head, tail, cutoffs, head_bias=bias)


def params_from_state_dict(state_dict: Any) -> dict:
    """A torch ``state_dict`` (``"head.weight"``, ``"tail.0.1.weight"`` ...; tensors or arrays)
    as the nested pytree these functions take (integer keys become lists; buffers such as
    ``weight`` of ``LinearCrossEntropyLoss`` are kept at the top level)."""
    tree: dict = {}
    for key, value in state_dict.items():
        v = value.detach().cpu().numpy() if hasattr(value, "detach") else value
        node = tree
        *path, leaf = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = jnp.asarray(v)

    def lists(node):
        if not isinstance(node, dict):
            return node
        node = {k: lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[str(i)] for i in range(len(node))]
        return node

    return lists(tree)
