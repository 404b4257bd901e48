"""torch adapter conformance, derived from the table: every row of
:mod:`multiloss.backends.torch_table` with a ``native`` is held against ``torch.nn.<native>``
(and its functional form against ``torch.nn.functional.<functional>``) on its ``checks``
grids -- or, when a row has none, on its canonical loss's own conformance options (the
``@reference`` grids, which use torch's argument names). Value and gradient w.r.t. the input,
float32 and float64 (more where a check says so).

The extras (no ``native``) are covered by the canonical cases against float64 references.
Rows that own parameters (``module=``) need a pairing in :data:`PAIRS`: a function
``(torch, mt, entry) -> (ours(**kw), native(**kw))`` building both with the same weights.

Imports torch lazily (inside :func:`native_cases`), so importing this module is free.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..backends._rows import Check
from .spec import NativeCase

DEFAULT_DTYPES = ("float64", "float32", "float16", "bfloat16")  # a Check without dtypes

__all__ = ["native_cases", "checks_of", "PAIRS"]

# row name -> pairing builder, for rows whose module owns parameters (see module docstring)
PAIRS: dict[str, Callable[..., tuple[Callable[..., Any], Callable[..., Any]]]] = {}


def _paired(torch, ours_cls, native_cls, args, select=None):
    """``(ours(**kw), native(**kw))`` factories for a module that owns parameters: the native
    module built from ``args`` and the check's options under a fixed seed, ours from the same
    arguments loading the native's ``state_dict`` (the drop-in's state layout); both called
    in the prediction's dtype. ``select``: the option naming a field of a namedtuple result
    (``(output, loss)``) to compare, instead of going to the constructor."""

    def native_module(kw):
        with torch.random.fork_rng():
            torch.manual_seed(0)
            return native_cls(*args, **kw)

    def factory(side):
        def make(**kw):
            field = kw.pop(select, None) if select else None
            module = native_module(kw)
            if side == "ours":
                state = module.state_dict()
                module = ours_cls(*args, **kw)
                module.load_state_dict(state)

            def call(p, t):
                out = module.to(p.dtype)(p, t)
                return getattr(out, field) if field else out

            return call

        return make

    return factory("ours"), factory("native")


# the linear head of the module checks: the class_* domains' inputs are (8, 5), 5 classes
PAIRS["LinearCrossEntropyLoss"] = lambda torch, mt, entry: _paired(
    torch, mt.LinearCrossEntropyLoss, torch.nn.LinearCrossEntropyLoss, (5, 5))
# n_classes 5, cutoffs [2, 3]: shortlist {0, 1}, clusters {2} and {3, 4}; div_value 2 -> hidden 2 and 1
PAIRS["AdaptiveLogSoftmaxWithLoss"] = lambda torch, mt, entry: _paired(
    torch, mt.AdaptiveLogSoftmaxWithLoss, torch.nn.AdaptiveLogSoftmaxWithLoss, (5, 5, [2, 3], 2.0),
    select="field")


def label(kw: dict) -> str:
    # array options by shape ("weight:8x5" is elementwise, "weight:5" per class/column)
    return ",".join(
        f"{k}:{'x'.join(map(str, v.shape))}" if isinstance(v, np.ndarray) else f"{k}={v}" for k, v in kw.items()
    )


def checks_of(entry) -> tuple[Check, ...]:
    """The row's module checks: its own, else its canonical loss's conformance grids, keeping
    the option sets whose every key is a constructor argument of the row."""
    if entry.checks:
        return entry.checks
    from .references import CASES

    accepted = {entry.rename.get(n, n): n for n, _ in entry.params}
    by_domain: dict[str, list[dict]] = {}
    for case in CASES:
        if case.loss == entry.loss.__name__ and set(case.kwargs) <= set(accepted):
            by_domain.setdefault(case.domain, []).append({accepted[k]: v for k, v in case.kwargs.items()})
    return tuple(Check(domain, tuple(opts)) for domain, opts in by_domain.items())


def _functional_checks(entry, module_checks) -> tuple[Check, ...]:
    if entry.functional_checks:
        return entry.functional_checks
    return tuple(Check(c.domain, c.options[:1], c.grad, c.reason, c.dtypes, c.tolerance) for c in module_checks)


def native_cases() -> list[NativeCase]:
    import torch
    import torch.nn.functional as TF

    import multiloss.torch as mt
    import multiloss.torch.functional as mF
    from multiloss.backends.torch_table import TABLE

    cases: list[NativeCase] = []

    def add(entry_name, ours, native, checks, home):
        for check in checks:
            for kw in check.options:
                lab = label(kw) + ("" if check.domain == home else f"@{check.domain}")
                cases.append(NativeCase("torch", entry_name, ours, native, check.domain, kw, lab,
                                        dtypes=check.dtypes or DEFAULT_DTYPES, grad=check.grad,
                                        tolerance_override=check.tolerance, reason=check.reason, staged=check.staged))

    for entry in TABLE:
        if not entry.native:
            continue
        checks = checks_of(entry)
        home = checks[0].domain if checks else ""
        if entry.name in PAIRS:
            ours, native = PAIRS[entry.name](torch, mt, entry)
        else:
            ours, native = getattr(mt, entry.name), getattr(torch.nn, entry.native)
        add(entry.name, ours, native, checks, home)
        # a hand-written module's functional is checked only on its own functional_checks
        # (LinearCrossEntropyLoss: the functional takes the weight the module owns)
        if entry.functional and hasattr(TF, entry.functional) and (not entry.module or entry.functional_checks):
            f_ours, f_native = getattr(mF, entry.functional), getattr(TF, entry.functional)
            add(f"F.{entry.functional}",
                lambda f=f_ours, **kw: functools.partial(f, **kw),
                lambda f=f_native, **kw: functools.partial(f, **kw),
                _functional_checks(entry, checks), home)
    return cases
