"""Parameter penalties (weight regularisers), canonical form over an iterable of arrays."""

from __future__ import annotations

from typing import Any, Iterable

from .._namespace import array_namespace
from .._validation import check_floating

__all__ = ["l1_penalty", "l2_penalty"]


def _params(fn: str, params: Iterable[Any]):
    params = [p for p in params]
    if not params:
        raise ValueError(f"{fn}: argument 'params' must hold at least one array; got an empty iterable")
    xp = array_namespace(*params, fn=fn)
    for i, p in enumerate(params):
        check_floating(xp, fn, f"params[{i}]", p)
    return xp, params


def _penalty(fn, params, alpha, term):
    xp, params = _params(fn, params)
    total = xp.sum(term(xp, params[0]))
    for p in params[1:]:
        total = total + xp.sum(term(xp, p))
    return alpha * total


def l1_penalty(params: Iterable[Any], alpha: float = 1.0) -> Any:
    r"""L1 penalty :math:`\alpha \sum_p \sum_i |p_i|` over the arrays in ``params``.

    Returns a 0-d array of the parameters' namespace. keras: ``regularizers.L1(l1=alpha)``;
    torch: none (written by hand, as the loss survey does); optax: none (``add_decayed_weights`` is L2).
    Framework adapters take a module / model / pytree and skip biases.
    """
    return _penalty("l1_penalty", params, alpha, lambda xp, p: xp.abs(p))


def l2_penalty(params: Iterable[Any], alpha: float = 1.0) -> Any:
    r"""L2 penalty :math:`\alpha \sum_p \sum_i p_i^2` over the arrays in ``params`` (no ½).

    keras: ``regularizers.L2(l2=alpha)``; torch: ``weight_decay`` adds ``alpha * p`` to the
    gradient, i.e. this penalty with ``alpha/2``; optax: ``add_decayed_weights``.
    """
    return _penalty("l2_penalty", params, alpha, lambda xp, p: p * p)
