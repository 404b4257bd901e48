"""The conformance runner: evaluates cases on backends and dtypes and compares.

A *cell* is one (entry, backend, dtype, kind) with kind 'value' or 'grad'; its result holds
the max absolute and relative errors against the ground truth ('reference' = NumPy float64
reference and its finite differences; 'native' = the framework's built-in in the same dtype).
Used by ``pytest conformance`` and ``multiloss check``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from . import domains
from .backends import BACKENDS, Backend
from .spec import Case, NativeCase, tolerance

__all__ = ["Cell", "Job", "jobs", "run_job", "canonical_cases", "native_cases", "compare"]

NATIVE_MODULES = {
    "torch": "multiloss.conformance.natives_torch",
    "jax": "multiloss.conformance.natives_jax",
    "tensorflow": "multiloss.conformance.natives_keras",
}


@dataclass
class Cell:
    entry: str  # case id
    backend: str
    dtype: str
    kind: str  # 'value' | 'grad'
    against: str  # 'reference' | 'native'
    ok: bool
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    error: str = ""  # exception text when the computation itself failed

    @property
    def id(self) -> str:
        return f"{self.entry}-{self.backend}-{self.dtype}-{self.kind}"


@dataclass
class Job:
    """One evaluation (case × backend × dtype) that yields a value cell and maybe a grad cell."""

    case: Case | NativeCase
    backend: str
    dtype: str

    @property
    def against(self) -> str:
        return "native" if isinstance(self.case, NativeCase) else "reference"

    @property
    def id(self) -> str:
        return f"{self.case.id}-{self.backend}-{self.dtype}"


def canonical_cases() -> list[Case]:
    from .cases import CASES

    return list(CASES)


def native_cases(backend: str) -> list[NativeCase]:
    mod = NATIVE_MODULES.get(backend)
    if mod is None:
        return []
    try:
        m = importlib.import_module(mod)
    except ModuleNotFoundError as exc:
        if exc.name == mod:  # that adapter's conformance table is not there
            return []
        raise
    return list(m.native_cases())


def compare(got: np.ndarray | None, want: np.ndarray | None, rtol: float, atol: float) -> tuple[bool, float, float]:
    """allclose-style check; returns (ok, max_abs, max_rel). Any non-finite mismatch fails, and
    so does a missing array (``None``: no gradient)."""
    if got is None or want is None:
        return False, float("inf"), float("inf")
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False, float("inf"), float("inf")
    if got.size == 0:
        return True, 0.0, 0.0
    same_nonfinite = (~np.isfinite(want)) & (got == want)
    diff = np.where(same_nonfinite, 0.0, np.abs(got - want))
    diff = np.where(np.isnan(diff), np.inf, diff)
    scale = np.abs(want)
    max_abs = float(diff.max())
    rel = np.where(diff == 0, 0.0, diff / np.where(scale > 0, scale, np.inf))
    max_rel = float(np.where(np.isnan(rel), np.inf, rel).max()) if scale.size else 0.0
    if max_rel == 0 and max_abs > 0:
        max_rel = float("inf")
    ok = bool(np.all(diff <= atol + rtol * np.where(np.isfinite(scale), scale, 0.0)))
    return ok, max_abs, max_rel


def _round_trip(x: np.ndarray, backend: Backend, dtype: str) -> np.ndarray:
    """The float64 values the backend actually sees after casting to ``dtype``."""
    if not np.issubdtype(x.dtype, np.floating):
        return x
    return backend.to_numpy(backend.asarray(x, dtype))


def _tree(f: Callable[[Any], Any], x: Any) -> Any:
    """``f`` on every NumPy array of a domain input that may nest them in tuples/lists (the
    adaptive softmax's tail weights: a tuple of (projection, output) pairs); other leaves
    (e.g. integer cutoffs) pass through."""
    if isinstance(x, (tuple, list)):
        return type(x)(_tree(f, v) for v in x)
    return f(x) if isinstance(x, np.ndarray) else x


def _fields(out: Any) -> Any:
    """A canonical result that is a tuple (``(output, loss)`` of the adaptive softmax) as one
    1-D array, its fields raveled and concatenated, so every field's value and gradient is
    checked; any other result unchanged."""
    if not isinstance(out, tuple):
        return out
    if all(isinstance(o, (np.ndarray, np.generic, float)) for o in out):
        return np.concatenate([np.ravel(np.asarray(o, dtype=np.float64)) for o in out])
    from .._namespace import array_namespace

    xp = array_namespace(*out)
    return xp.concat([xp.reshape(o, (-1,)) for o in out], axis=0)


def _finite_difference(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Central differences of ``sum(f(x))``, step 1e-6 * max(1, |x|)."""
    x = np.ascontiguousarray(x)
    g = np.zeros(x.shape)  # C-contiguous, so the writes through g.reshape(-1) land in g
    flat = x.reshape(-1)
    gflat = g.reshape(-1)
    for i in range(flat.size):
        h = 1e-6 * max(1.0, abs(flat[i]))
        xp_, xm = flat.copy(), flat.copy()
        xp_[i] += h
        xm[i] -= h
        gflat[i] = (np.sum(f(xp_.reshape(x.shape))) - np.sum(f(xm.reshape(x.shape)))) / (2 * h)
    return g


def _kw_to(backend: Backend, kwargs: dict, dtype: str) -> dict:
    return {k: backend.convert(v, dtype) for k, v in kwargs.items()}


def jobs(backends: list[str], dtypes: list[str] | None = None, losses: list[str] | None = None,
         include_natives: bool = True) -> Iterator[Job]:
    """Every (case, backend, dtype) to evaluate, canonical cases first."""
    for b in backends:
        be = BACKENDS[b]
        cases: list[Case | NativeCase] = list(canonical_cases())
        if include_natives:
            cases += native_cases(b)
        for case in cases:
            name = case.loss if isinstance(case, Case) else case.name
            if losses and name not in losses and case.id not in losses:
                continue
            for dt in case.dtypes:
                if dt in be.dtypes and (dtypes is None or dt in dtypes):
                    yield Job(case, b, dt)


def run_job(job: Job) -> list[Cell]:
    """Evaluate one job; exceptions become failed cells carrying the message."""
    backend = BACKENDS[job.backend]
    case = job.case
    try:
        if isinstance(case, Case):
            return _run_canonical(case, backend, job.dtype)
        return _run_native(case, backend, job.dtype)
    except Exception as exc:  # a crash is a failed cell, reported with its message
        msg = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
        kinds = ["value"] + (["grad"] if case.grad and backend.has_grad else [])
        return [Cell(case.id, job.backend, job.dtype, k, job.against, False, error=msg) for k in kinds]


# (case id, dtype) -> (reference value, reference gradient or None). The float64 reference
# and its finite differences depend only on the inputs rounded to the dtype (IEEE rounding
# is the same on every backend), so every backend of a dtype shares one computation.
_REFERENCE_CACHE: dict[tuple[str, str], tuple[np.ndarray, np.ndarray | None]] = {}


def _reference(case: Case, backend: Backend, dtype: str, pred_np, target_np, args_np=()):
    key = (case.id, dtype)
    if key not in _REFERENCE_CACHE:
        # the reference sees exactly the (rounded) inputs the backend computes on
        pred64 = _round_trip(pred_np, backend, dtype)
        target64 = _round_trip(target_np, backend, dtype)
        args64 = [_tree(lambda v: _round_trip(v, backend, dtype), a) for a in args_np]
        kw64 = {k: (_round_trip(v, backend, dtype) if isinstance(v, np.ndarray) else v)
                for k, v in case.kwargs.items()}
        want = np.asarray(_fields(case.reference(pred64, target64, *args64, **kw64)), dtype=np.float64)
        want_g = None
        if case.grad:
            want_g = _finite_difference(lambda p: _fields(case.reference(p, target64, *args64, **kw64)), pred64)
        _REFERENCE_CACHE[key] = (want, want_g)
    return _REFERENCE_CACHE[key]


def _run_canonical(case: Case, backend: Backend, dtype: str) -> list[Cell]:
    import multiloss

    fn = getattr(multiloss, case.loss)
    data = domains.make(case.domain)
    pred_np, target_np, args_np = data["pred"], data["target"], data.get("args", ())
    want, want_g = _reference(case, backend, dtype, pred_np, target_np, args_np)

    kw = _kw_to(backend, dict(case.kwargs), dtype)
    pred = backend.convert(pred_np, dtype)
    target = backend.convert(target_np, dtype)
    args = [_tree(lambda v: backend.convert(v, dtype), a) for a in args_np]
    value, grad = backend.value_and_grad(lambda p, t, *a: _fields(fn(p, t, *a, **kw)), pred, [target, *args],
                                         staged=case.staged)

    rtol, atol = tolerance(dtype, "value", "reference")
    ok, ma, mr = compare(value, want, rtol, atol)
    cells = [Cell(case.id, backend.name, dtype, "value", "reference", ok, ma, mr)]
    if case.grad and backend.has_grad:
        rtol, atol = tolerance(dtype, "grad", "reference")
        # gradients are compared relative to the gradient's overall scale
        atol = max(atol, rtol * float(np.max(np.abs(want_g))) if want_g.size else atol)
        ok, ma, mr = compare(grad, want_g, rtol, atol)
        cells.append(Cell(case.id, backend.name, dtype, "grad", "reference", ok, ma, mr))
    return cells


def _run_native(case: NativeCase, backend: Backend, dtype: str) -> list[Cell]:
    data = domains.make(case.domain)
    pred = backend.convert(data["pred"], dtype)
    target = backend.convert(data["target"], dtype)
    args = [_tree(lambda v: backend.convert(v, dtype), a) for a in data.get("args", ())]
    kw = _kw_to(backend, dict(case.kwargs), dtype)
    extra = {}
    if case.use_sample_weight and "sample_weight" in data:
        extra["sample_weight"] = backend.convert(data["sample_weight"], dtype)
    ours_fn, native_fn = case.ours(**kw), case.native(**kw)

    def call(f: Callable[..., Any]) -> Callable[..., Any]:
        if case.order == "true_first":
            return lambda p, t, *a: f(t, p, *a, **extra)
        return lambda p, t, *a: f(p, t, *a, **extra)

    v_ours, g_ours = backend.value_and_grad(call(ours_fn), pred, [target, *args], staged=case.staged)
    v_nat, g_nat = backend.value_and_grad(call(native_fn), pred, [target, *args], staged=case.staged)
    rtol, atol = case.tolerance_override.get(dtype, tolerance(dtype, "value", "native"))
    ok, ma, mr = compare(v_ours, v_nat, rtol, atol)
    cells = [Cell(case.id, backend.name, dtype, "value", "native", ok, ma, mr)]
    if case.grad:
        scale = float(np.max(np.abs(g_nat))) if g_nat is not None and g_nat.size else 0.0
        ok, ma, mr = compare(g_ours, g_nat, rtol, max(atol, rtol * scale))
        cells.append(Cell(case.id, backend.name, dtype, "grad", "native", ok, ma, mr))
    return cells


def summarize(cells: list[Cell]) -> tuple[int, int]:
    passed = sum(c.ok for c in cells)
    return passed, len(cells) - passed


# ----------------------------------------------------------------------------- in parallel

# relative cost of one job per backend (measured: jax compiles every op of a new shape and
# dtype once, eagerly; tf and torch dispatch op by op; numpy is cheapest)
_COST = {"jax": 4.0, "tensorflow": 1.0, "torch": 0.5, "numpy": 0.4, "array_api_strict": 0.2}


def _entry_name(job: Job) -> str:
    return job.case.loss if isinstance(job.case, Case) else job.case.name


def plan(job_list: list[Job], workers: int) -> list[list[int]]:
    """Job indices per worker: the jobs of one (backend, loss) stay together (a framework
    compiles and caches per process: splitting a loss would compile it twice), groups placed
    largest first on the least loaded worker."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, job in enumerate(job_list):
        groups.setdefault((job.backend, _entry_name(job)), []).append(i)
    loads = [0.0] * workers
    out: list[list[int]] = [[] for _ in range(workers)]
    for key, idx in sorted(groups.items(), key=lambda kv: -_COST.get(kv[0][0], 1.0) * len(kv[1])):
        w = loads.index(min(loads))
        out[w] += idx
        loads[w] += _COST.get(key[0], 1.0) * len(idx)
    return [sorted(o) for o in out]


def _worker(backends: list[str], dtypes, losses, indices: list[int], queue) -> None:
    import warnings

    warnings.simplefilter("ignore")
    from .._quiet import quiet_import

    with quiet_import():  # the frameworks' C++ startup INFO lines (multiloss/_quiet.py)
        for b in backends:
            BACKENDS[b].available()
            BACKENDS[b].setup()
    job_list = list(jobs(backends, dtypes=dtypes, losses=losses))
    try:
        for i in indices:
            queue.put((i, run_job(job_list[i])))
    finally:
        queue.put(None)


def run_parallel(backends: list[str], dtypes, losses, workers: int, on_job: Callable[[int, list[Cell]], None]) -> None:
    """Run every job of ``jobs(backends, dtypes, losses)`` in ``workers`` fresh processes
    (spawned: no framework state is forked), calling ``on_job(index, cells)`` as each ends."""
    import multiprocessing as mp

    job_list = list(jobs(backends, dtypes=dtypes, losses=losses))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(backends, dtypes, losses, part, queue), daemon=True)
             for part in plan(job_list, workers) if part]
    for p in procs:
        p.start()
    running = len(procs)
    while running:
        item = queue.get()
        if item is None:
            running -= 1
            continue
        on_job(*item)
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"multiloss check: a worker process failed (exit code {p.exitcode})")
