"""Testing helpers for users' own losses written once against the Array API.

``assert_backends_agree(fn, pred, target, ...)`` evaluates ``fn`` on every installed
backend (numpy, array_api_strict, torch, jax, tensorflow) and checks that values agree with
the NumPy float64 result and gradients w.r.t. the first argument agree with central finite
differences of it, within the tolerances of :mod:`multiloss.conformance.spec`.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .conformance.backends import BACKENDS
from .conformance.runner import _finite_difference, compare
from .conformance.spec import tolerance

__all__ = ["assert_backends_agree"]


def assert_backends_agree(
    fn: Callable[..., Any],
    *example_inputs: Any,
    backends: Sequence[str] | None = None,
    dtypes: Sequence[str] = ("float64", "float32"),
    grad: bool = True,
    **kwargs: Any,
) -> dict[str, dict[str, tuple[float, float]]]:
    """Check that ``fn(*example_inputs, **kwargs)`` agrees across installed backends.

    ``example_inputs`` are NumPy arrays (floats are cast to each dtype, integers kept);
    the first one is the prediction the gradient is taken for. Backends whose framework is
    not importable are skipped; naming one explicitly in ``backends`` that is unavailable
    raises ``ValueError``. Returns ``{backend: {"<dtype> value|grad": (max_abs, max_rel)}}``
    and raises ``AssertionError`` listing every disagreeing cell.
    """
    if not example_inputs:
        raise TypeError("assert_backends_agree: expected at least one example input (the prediction)")
    arrays = [np.asarray(x) for x in example_inputs]
    if not np.issubdtype(arrays[0].dtype, np.floating):
        raise TypeError(
            f"assert_backends_agree: the first input is the prediction and must be floating; got {arrays[0].dtype}"
        )
    names = list(backends) if backends else list(BACKENDS)
    report: dict[str, dict[str, tuple[float, float]]] = {}
    failures: list[str] = []
    for name in names:
        if name not in BACKENDS:
            raise ValueError(f"assert_backends_agree: unknown backend {name!r}; known: {', '.join(BACKENDS)}")
        be = BACKENDS[name]
        ok, why = be.available()
        if not ok:
            if backends:
                raise ValueError(f"assert_backends_agree: backend {name!r} is unavailable ({why})")
            continue
        be.setup()
        report[name] = {}
        for dt in dtypes:
            if dt not in be.dtypes:
                continue
            # reference on the inputs as rounded to this dtype
            rounded = [be.to_numpy(be.asarray(a, dt)) if np.issubdtype(a.dtype, np.floating) else a for a in arrays]
            want = np.asarray(fn(*rounded, **kwargs), dtype=np.float64)
            ins = [be.convert(a, dt) for a in arrays]
            value, g = be.value_and_grad(lambda p, *rest: fn(p, *rest, **kwargs), ins[0], ins[1:])
            rtol, atol = tolerance(dt, "value", "reference")
            good, ma, mr = compare(value, want, rtol, atol)
            report[name][f"{dt} value"] = (ma, mr)
            if not good:
                failures.append(f"{name} {dt} value: max abs {ma:.3g}, max rel {mr:.3g}")
            if grad and be.has_grad:
                rest = rounded[1:]

                def of_pred(p: np.ndarray, rest: list = rest) -> Any:
                    return fn(p, *rest, **kwargs)

                want_g = _finite_difference(of_pred, rounded[0].astype(np.float64))
                rtol, atol = tolerance(dt, "grad", "reference")
                atol = max(atol, rtol * float(np.max(np.abs(want_g), initial=0.0)))
                good, ma, mr = compare(g, want_g, rtol, atol)
                report[name][f"{dt} grad"] = (ma, mr)
                if not good:
                    failures.append(f"{name} {dt} grad: max abs {ma:.3g}, max rel {mr:.3g}")
    if failures:
        raise AssertionError(
            f"{getattr(fn, '__name__', fn)} disagrees across backends:\n  " + "\n  ".join(failures)
        )
    return report
