"""The proof that porting keeps the numbers: every native loss of every conformance grid
(``torch.nn`` modules on their rows' grids, ``keras.losses`` classes and optax functions on
theirs), ported to each other framework, evaluated on the grid's data in both frameworks:
equal value and gradient (w.r.t. the prediction) within the dtype's tolerance, or a
:class:`~multiloss.port.PortError` saying why not. Used by ``tests/test_port.py`` and by the
port section of ``multiloss check``.

The data follow the source's convention; the target gets them in its own (argument order, the
class axis moved where the plan says so, class indices one-hot encoded where the target takes
one-hot targets). Where a plan holds only under a condition on the data (``no target equals
-100``) that the grid's data break, the strict plan (``strict=True``) is proven instead, or
the case is reported as ``conditional``. Grids that pass call-time arrays (keras
``sample_weight``, optax ``where`` masks) are left out: those are data, not options.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import numpy as np

__all__ = ["PortCase", "Outcome", "cases", "run", "summarize", "DTYPES", "SOURCES"]

DTYPES = ("float64", "float32")
SOURCES = ("torch", "keras", "jax")
TARGETS = ("torch", "keras", "jax", "numpy")
_BACKEND = {"torch": "torch", "keras": "tensorflow", "jax": "jax", "numpy": "numpy"}


@dataclass(frozen=True)
class PortCase:
    """One native configured loss (``native`` with ``options`` on ``domain``) ported to ``to``."""

    source: str  # 'torch' | 'keras' | 'jax'
    native: str  # torch.nn class, keras.losses class, optax.losses function
    domain: str
    options: Mapping[str, Any] = field(default_factory=dict)
    to: str = "numpy"
    grad: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)  # keras native_options of the row
    tolerance: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # the check's override
    dtypes: tuple[str, ...] = DTYPES  # those of the grid's check (a native may lack float32)
    staged: bool = False  # jax: evaluated as one jit-compiled program (a loop of small ops: CTC)

    @property
    def label(self) -> str:
        def v(x):
            return f"{x.shape[0]}" if isinstance(x, np.ndarray) and x.ndim == 1 else (
                "x".join(map(str, x.shape)) if isinstance(x, np.ndarray) else repr(x))

        return ",".join(f"{k}={v(x)}" for k, x in self.options.items())

    @property
    def id(self) -> str:
        return f"{self.source}:{self.native}[{self.domain}{',' if self.label else ''}{self.label}]->{self.to}"


@dataclass
class Outcome:
    case: PortCase
    dtype: str
    status: str  # 'equal' | 'refused' | 'conditional' | 'mismatch' | 'error'
    detail: str = ""
    code: str = ""
    max_rel: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("equal", "refused", "conditional")


# ----------------------------------------------------------------------------- the cases


def cases(sources: tuple[str, ...] = SOURCES, targets: tuple[str, ...] = TARGETS,
          names: tuple[str, ...] | None = None) -> list[PortCase]:
    """Every (native configured loss, target framework) pair of the conformance grids; no
    framework is imported. ``names``: keep only these natives / canonical losses."""
    from ..backends import jax_table, keras_table, torch_table
    from ..conformance.natives_torch import checks_of
    from ..conformance.references import CASES

    staged = {c.loss for c in CASES if c.staged}
    out: list[PortCase] = []

    def add(source, native, check, kw, canon, extra=None):
        if "+" in check.domain or any(isinstance(v, str) and v.startswith("mask:") for v in kw.values()):
            return  # sample weights / where masks: call-time data, not options
        if names and native not in names and canon not in names:
            return
        if check.dtypes and not set(check.dtypes) & set(DTYPES):
            return  # a low-precision grid repeats option sets checked in float64 / float32
        for to in targets:
            if to != source:
                dts = tuple(d for d in DTYPES if not check.dtypes or d in check.dtypes)
                out.append(PortCase(source, native, check.domain, dict(kw), to, check.grad, dict(extra or {}),
                                    dict(check.tolerance), dts, check.staged or canon in staged))

    if "torch" in sources:
        for e in torch_table.TABLE:
            if e.native and not e.module:
                for check in checks_of(e):
                    for kw in check.options:
                        add("torch", e.native, check, kw, e.loss.__name__)
    if "keras" in sources:
        for r in keras_table.TABLE:
            native = r.native or (r.cls if r.keras_native else "")
            if r.cls and native and r.checks:
                for check in r.checks:
                    for kw in check.options:
                        add("keras", native, check, kw, r.canonicals[0], r.native_options if r.native else None)
    if "jax" in sources:
        for jrow in jax_table.TABLE:
            if jrow.optax:
                for check in jrow.checks:
                    for kw in check.options:
                        add("jax", jrow.optax, check, kw, jrow.canonical)
    seen: set[str] = set()
    uniq = []
    for c in out:
        if c.id not in seen:
            seen.add(c.id)
            uniq.append(c)
    return uniq


# ----------------------------------------------------------------------------- evaluation


@contextlib.contextmanager
def _keras_floatx(dtype: str):
    import keras

    old = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(old)


def _source(case: PortCase, dtype: str) -> tuple[Any, tuple[int, ...]]:
    """The native loss object and its argument order (canonical positions)."""
    if case.source == "torch":
        import torch

        kw = {k: torch.as_tensor(v).to(getattr(torch, dtype)) if isinstance(v, np.ndarray) else v
              for k, v in case.options.items()}
        return getattr(torch.nn, case.native)(**kw), ()
    if case.source == "keras":
        import keras

        return getattr(keras.losses, case.native)(**{**case.extra, **case.options}), (1, 0)
    import optax

    return functools.partial(getattr(optax.losses, case.native), **case.options), ()


def _data(case: PortCase) -> dict:
    return _domain(case.domain)


@functools.lru_cache(maxsize=None)
def _domain(name: str) -> dict:
    from ..conformance import domains

    return domains.make(name)


def _targets_of(data: dict) -> str:
    return "index" if np.issubdtype(np.asarray(data["target"]).dtype, np.integer) else "dense"


def _arrays(data: dict) -> list:
    return [data["pred"], data["target"], *data.get("args", ())]


def _evaluate(backend_name: str, fn: Any, arrays: list, order: tuple[int, ...], dtype: str, grad: bool,
              staged: bool = False):
    from ..conformance.backends import BACKENDS

    be = BACKENDS[backend_name]
    conv = [be.convert(np.asarray(a) if not isinstance(a, np.ndarray) else a, dtype) for a in arrays]
    n = len(conv)
    order = order or tuple(range(n))
    order = tuple(order) + tuple(i for i in range(n) if i not in order)

    def call(p, *others):
        full = [p, *others]
        return fn(*(full[i] for i in order))

    if not grad or not be.has_grad:
        return be.to_numpy(call(*conv)), None
    return be.value_and_grad(call, conv[0], conv[1:], staged=staged and backend_name == "jax")


def _to_target_layout(plan, arrays: list) -> list | None:
    """The source-layout arrays in the target's convention (``None``: not expressible)."""
    out = [np.asarray(a) for a in arrays]
    t = out[1]
    if plan.targets == "dense" and np.issubdtype(t.dtype, np.integer):
        c = out[0].shape[1] if out[0].ndim > 1 else out[0].shape[0]
        if t.min() < 0 or t.max() >= c:
            return None
        oh = np.eye(c)[t]
        out[1] = np.moveaxis(oh, -1, 1) if oh.ndim > 2 else oh
    if plan.move_class_axis is not None:
        a, b = plan.move_class_axis
        out[0] = np.moveaxis(out[0], a, b) if out[0].ndim > 1 else out[0]
        if out[1].shape == np.shape(arrays[0]) or (out[1].ndim == np.ndim(arrays[0]) and out[1].ndim > 1
                                                    and not np.issubdtype(out[1].dtype, np.integer)):
            out[1] = np.moveaxis(out[1], a, b)
    return out


# the native's value and gradient per (case without its target, dtype): one evaluation for
# all the frameworks it is ported to
_SOURCE_VALUES: dict[tuple, tuple] = {}


def run(case: PortCase, dtype: str = "float64") -> Outcome:
    """Port ``case``'s native loss and compare both on the domain's data."""
    from .. import port as P
    from ..conformance.runner import compare
    from ..conformance.spec import tolerance

    data = _data(case)
    arrays = _arrays(data)
    ctx = _keras_floatx(dtype) if "keras" in (case.source, case.to) else contextlib.nullcontext()
    try:
        with ctx:
            obj, src_order = _source(case, dtype)
            try:
                plan = P.plan(obj, case.to, targets=_targets_of(data))
            except P.PortError as e:
                return Outcome(case, dtype, "refused", str(e))
            canon = {"pred": data["pred"], "target": data["target"], "args": data.get("args", ())}
            if not all(c.check(canon) for c in plan.conditions):
                broken = "; ".join(c.text for c in plan.conditions if not c.check(canon))
                try:
                    plan = P.plan(obj, case.to, targets=_targets_of(data), strict=True)
                except P.PortError:
                    return Outcome(case, dtype, "conditional", f"{plan.code}: equal only where {broken}", plan.code)
            tgt_arrays = _to_target_layout(plan, arrays)
            if tgt_arrays is None:
                return Outcome(case, dtype, "conditional", f"{plan.code}: the data cannot be written in the "
                                                           f"target's format ({plan.targets} targets)", plan.code)
            ported = plan.build()
            grad = case.grad and case.to != "numpy"
            key = (case.source, case.native, case.domain, case.label, repr(sorted(case.extra.items())), dtype, grad)
            if key not in _SOURCE_VALUES:
                _SOURCE_VALUES[key] = _evaluate(_BACKEND[case.source], obj, arrays, src_order, dtype, grad,
                                                case.staged)
            v_src, g_src = _SOURCE_VALUES[key]
            v_dst, g_dst = _evaluate(_BACKEND[case.to], ported, tgt_arrays, plan.order, dtype, grad, case.staged)
    except Exception as e:  # a crash is a failed outcome, reported with its message
        return Outcome(case, dtype, "error", f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}")
    if g_dst is not None and plan.move_class_axis is not None and g_dst.ndim > 1:
        g_dst = np.moveaxis(g_dst, plan.move_class_axis[1], plan.move_class_axis[0])
    rtol, atol = case.tolerance.get(dtype, tolerance(dtype, "value", "native"))
    ok, _, mr = compare(v_dst, v_src, rtol, atol)
    detail = "" if ok else f"value: {np.ravel(v_dst)[:4]} vs {np.ravel(v_src)[:4]}"
    worst = mr
    if ok and grad and g_src is not None:
        scale = float(np.max(np.abs(g_src))) if g_src.size else 0.0
        ok, _, mr = compare(g_dst, g_src, rtol, max(atol, rtol * scale))
        worst = max(worst, mr)
        detail = "" if ok else f"gradient: max rel {mr:.3g}"
    return Outcome(case, dtype, "equal" if ok else "mismatch", detail, plan.code, worst)


@contextlib.contextmanager
def _one_torch_thread():
    """torch's CPU thread pool spins against TensorFlow's and XLA's in one process (a 8x5
    cross-entropy took 100 ms instead of 0.1 ms on 2 cores): one torch thread while proving."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:
            yield
            return
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def run_all(case_list: list[PortCase], dtypes: tuple[str, ...] = DTYPES) -> Iterator[Outcome]:
    """Every case in every dtype; a refusal is decided once (it does not depend on the dtype)."""
    with _one_torch_thread():
        for case in case_list:
            for dt in (d for d in dtypes if d in case.dtypes):
                out = run(case, dt)
                yield out
                if out.status == "refused":
                    break


def summarize(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts
