"""keras adapter conformance, derived from the table: every row of
:mod:`multiloss.backends.keras_table` with ``checks`` is held against
``keras.losses.<native or cls>`` (built with the row's ``native_options`` under the checked
options), and its function form against ``keras.losses.<fn>`` on its ``fn_checks``.

Backend "tensorflow" (TF tensors, keras on its TensorFlow backend). Value and gradient w.r.t.
``y_pred`` (``tf.GradientTape``) in float32 and float64; ``sample_weight`` on the ``"+sw"``
domains. Both losses are built with ``dtype=`` the prediction's dtype, so a float64 cell
computes in float64 on both sides (a keras loss otherwise casts to ``floatx()``, float32).

Imports keras lazily (inside :func:`native_cases`), so importing this module is free.
"""

from __future__ import annotations

from ..backends._rows import Check
from .spec import NativeCase

DEFAULT_DTYPES = ("float64", "float32")  # a Check without dtypes

__all__ = ["native_cases", "fn_checks_of"]


def _label(kw: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in kw.items())


def fn_checks_of(row) -> tuple[Check, ...]:
    """The function form's checks: the row's ``fn_checks``, else the first option set of each
    check without ``sample_weight``, ``reduction`` dropped (functions return per-sample values)."""
    if row.fn_checks is not None:
        return row.fn_checks
    out = []
    for c in row.checks:
        if "+" not in c.domain:
            kw = {k: v for k, v in c.options[0].items() if k != "reduction"}
            out.append(Check(c.domain, (kw,), c.grad, c.reason, c.dtypes, c.tolerance))
    return tuple(out)


def native_cases() -> list[NativeCase]:
    import keras

    import multiloss.keras as mk
    from multiloss.backends.keras_table import TABLE

    def class_factory(cls, defaults=None):
        def factory(**kw):
            kw = {**(defaults or {}), **kw}

            def call(y_true, y_pred, sample_weight=None):
                return cls(**kw, dtype=y_pred.dtype.name)(y_true, y_pred, sample_weight=sample_weight)

            return call

        return factory

    def fn_factory(f):
        return lambda **kw: (lambda *arrays: f(*arrays, **kw))

    cases: list[NativeCase] = []

    def add(name, ours, native, checks, order):
        home = checks[0].domain if checks else ""
        for check in checks:
            for kw in check.options:
                label = ",".join(x for x in (check.domain if check.domain != home else "", _label(kw)) if x)
                cases.append(NativeCase("tensorflow", name, ours, native, check.domain, kw, label, order=order,
                                        use_sample_weight=check.domain.endswith("+sw"), dtypes=check.dtypes or DEFAULT_DTYPES,
                                        grad=check.grad, tolerance_override=check.tolerance, reason=check.reason, staged=check.staged))

    for row in TABLE:
        order = "true_first" if row.inputs == ("y_true", "y_pred") else "pred_first"
        native_cls = row.native or (row.cls if row.keras_native else "")
        if row.cls and native_cls and row.checks:
            add(row.cls, class_factory(getattr(mk, row.cls)),
                class_factory(getattr(keras.losses, native_cls), row.native_options), row.checks, order)
        if row.keras_native and hasattr(keras.losses, row.fn):
            add(f"{row.fn}()", fn_factory(getattr(mk, row.fn)), fn_factory(getattr(keras.losses, row.fn)),
                fn_checks_of(row), order)
    return cases
