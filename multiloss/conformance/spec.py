"""What a conformance case is. Pure data + numpy; imports no framework.

Two kinds of case share one runner (``multiloss.conformance.runner``):

* :class:`Case` — a *canonical* loss (``multiloss.<loss>``) on a domain and an option grid,
  checked on every installed backend against an independent NumPy float64 reference
  (values) and its central finite differences (gradients w.r.t. the prediction).
* :class:`NativeCase` — an *adapter entry* (``multiloss.torch.CrossEntropyLoss``,
  ``multiloss.keras.Huber``, ``multiloss.jax.softmax_cross_entropy`` ...) checked against
  the framework's own built-in with the same arguments, values and gradients, per dtype.
  Each adapter contributes its own list in ``multiloss/conformance/natives_<backend>.py``
  (a function ``native_cases() -> list[NativeCase]`` that imports its framework lazily).

Inputs come from a named *domain* (``multiloss.conformance.domains``): a function
``(rng) -> dict`` of float64/int64 NumPy arrays with keys ``pred`` and ``target`` (and
optionally ``sample_weight``, and ``args``: further positional inputs after the target). Array-valued options (``weight``,
``pos_weight``) are given as NumPy arrays in ``kwargs``; the runner converts them to the
backend and dtype under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

__all__ = ["Case", "NativeCase", "TOLERANCES", "GRAD_FD_TOLERANCES", "tolerance"]

# (rtol, atol) for comparing a computation in this dtype against float64 ground truth.
# Written down from the dtype's machine epsilon (f64 2.2e-16, f32 1.2e-7, f16 9.8e-4,
# bf16 7.8e-3) times a small factor for accumulated rounding over <= 10^3 terms. Not tuned.
TOLERANCES: Mapping[str, tuple[float, float]] = {
    "float64": (1e-10, 1e-12),
    "float32": (2e-5, 1e-6),
    "float16": (1e-2, 1e-3),
    "bfloat16": (5e-2, 1e-2),
}

# Gradients of the float64 reference come from central finite differences (h = 1e-6
# relative): truncation + rounding error ~1e-8 relative, so float64 gradients are compared
# with this looser floor; lower dtypes keep their own tolerance.
GRAD_FD_TOLERANCES: Mapping[str, tuple[float, float]] = {"float64": (1e-6, 1e-8)}


def tolerance(dtype: str, kind: str, against: str) -> tuple[float, float]:
    """(rtol, atol) for a cell: ``kind`` 'value'|'grad', ``against`` 'reference'|'native'."""
    if kind == "grad" and against == "reference" and dtype in GRAD_FD_TOLERANCES:
        return GRAD_FD_TOLERANCES[dtype]
    return TOLERANCES[dtype]


@dataclass(frozen=True)
class Case:
    """A canonical loss checked against a NumPy float64 reference on every backend."""

    loss: str  # name of the canonical function, multiloss.<loss>
    domain: str  # input domain name in multiloss.conformance.domains
    reference: Callable[..., Any]  # (pred, target, **kwargs) -> float64 np array, independent code
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""  # short option description for ids, e.g. "reduction=sum"
    # dtypes this case makes sense in (e.g. exclude float16 where values overflow it)
    dtypes: tuple[str, ...] = ("float64", "float32", "float16", "bfloat16")
    grad: bool = True  # gradient w.r.t. pred is checked
    # evaluated as one compiled program on backends that compile (jax: ``jit``): a loss made of
    # a loop of small ops, whose eager evaluation compiles every op for every shape and dtype
    staged: bool = False

    @property
    def id(self) -> str:
        """Unique per case: ``loss[domain]`` or ``loss[domain,options]``."""
        return f"{self.loss}[{self.domain},{self.label}]" if self.label else f"{self.loss}[{self.domain}]"


@dataclass(frozen=True)
class NativeCase:
    """An adapter entry checked against its framework's built-in with the same arguments.

    ``ours(**kwargs)`` and ``native(**kwargs)`` each return a callable taking
    ``(pred, target)`` in the framework's own order — the runner calls
    ``f(*call_args(pred, target))`` where ``order`` is 'pred_first' (torch, optax) or
    'true_first' (keras). When ``sample_weight`` is in the domain's output and
    ``use_sample_weight`` is true, it is passed as ``sample_weight=`` (keras).
    """

    backend: str  # 'torch' | 'jax' | 'tensorflow'
    name: str  # adapter entry, e.g. 'CrossEntropyLoss'
    ours: Callable[..., Callable[..., Any]]
    native: Callable[..., Callable[..., Any]]
    domain: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    order: str = "pred_first"
    use_sample_weight: bool = False
    dtypes: tuple[str, ...] = ("float64", "float32")
    grad: bool = True
    # native tolerance override (rtol, atol) per dtype, only with a written reason
    tolerance_override: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    reason: str = ""
    staged: bool = False  # as Case.staged: both evaluated as compiled programs (jax jit)

    @property
    def id(self) -> str:
        """``name[options]``: give each NativeCase of one entry a distinct ``label``."""
        return f"{self.name}[{self.label}]" if self.label else self.name
