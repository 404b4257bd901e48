"""``multiloss bench``: multiloss vs the native built-ins, timed side by side, as ratios.

For every loss with a native twin on every installed backend (torch eager and
``torch.compile``; jax under ``jit``; keras/TensorFlow under ``tf.function``): forward and
forward+backward time of multiloss and of the native loss, measured *interleaved* in the
same run (:func:`multiloss.bench.harness.interleaved`), the peak memory of forward+backward
where the backend can report it, and the per-call dispatch overhead on tiny inputs.

    multiloss bench --quick                      # ~30 s: 64x10 and 4096x1000, few repeats
    multiloss bench                              # the default grid (minutes on a 2-core CPU)
    multiloss bench --full                       # + 8192x32000 for the cross-entropy family
    multiloss bench --backend torch --loss CrossEntropyLoss --sizes 4096x1000 --json out.json
    multiloss bench --backend torch --dtype float32 --dtype bfloat16   # each loss in each dtype

``--dtype`` (repeatable; float32 by default, bfloat16, float16, float64) times every point in
each dtype: floating inputs (predictions, float targets, variances, embeddings, log-probs ...)
are made in float32 and then rounded to the dtype (the same values in every dtype); integer
targets and lengths are unchanged; a torch loss that owns parameters or floating buffers is
cast with ``.to(dtype)``, ours and the native alike (keras losses keep their own ``dtype``,
floatx by default, as a user's do). A (loss, dtype) the *native* cannot run on this device
(torch's CPU ``multi_margin_loss`` or ``ctc_loss`` in half precision ...) is a **skipped**
point with the native's error in one line; where only multiloss fails, or its value differs
beyond the dtype's tolerance (:data:`harness.CHECK_TOLERANCES`), the point is an error and a
miss. The dtype is part of the size label (``64x10 bf16``) once any point is not float32, and
a field of every JSON record. Dispatch figures are taken in the first dtype only.

Programmatic: :func:`run` returns the records; the backend specs are
:mod:`multiloss.bench.torch`, :mod:`multiloss.bench.jax`, :mod:`multiloss.bench.tensorflow`.
No framework is imported before a backend is selected.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import time
import warnings
from types import ModuleType
from typing import Any, Callable, Sequence

from . import harness
from .harness import DispatchRecord, Record, Size

__all__ = ["BACKENDS", "backend_spec", "run", "run_dispatch", "run_bench", "add_arguments", "script"]

# backend name -> spec module (imported only when selected)
BACKENDS = {"torch": "multiloss.bench.torch", "jax": "multiloss.bench.jax", "tensorflow": "multiloss.bench.tensorflow"}
_ALIASES = {"tf": "tensorflow", "keras": "tensorflow"}


def backend_spec(name: str) -> ModuleType:
    """The spec module of backend ``name`` (``torch``, ``jax``, ``tensorflow``; ``tf``/``keras``
    are aliases of ``tensorflow``)."""
    key = _ALIASES.get(name, name)
    if key not in BACKENDS:
        raise SystemExit(
            f"multiloss bench: unknown backend {name!r}; available: {', '.join(BACKENDS)}"
        )
    return importlib.import_module(BACKENDS[key])


def _select_losses(spec: ModuleType, losses: Sequence[str] | None):
    if not losses:
        return list(spec.LOSSES)
    return [s for s in spec.LOSSES if s.name in losses]


def run(
    backend: str,
    *,
    sizes: Sequence[Size] | None = None,
    losses: Sequence[str] | None = None,
    modes: Sequence[str] | None = None,
    dtypes: Sequence[str] | None = None,
    repeat: int = 15,
    warmup: int = 3,
    budget_s: float = 4.0,
    memory: bool = True,
    explicit_sizes: bool | None = None,
    on_point: Callable[[str], None] | None = None,
) -> list[Record]:
    """Time every (mode, loss, size, dtype) of ``backend``; one :class:`Record` each.

    ``sizes`` defaults to :data:`harness.DEFAULT_SIZES` (large sizes for the classification
    losses only, unless ``explicit_sizes``); ``losses``/``modes`` default to all of the spec's;
    ``dtypes`` to ``["float32"]`` (names or aliases, :func:`harness.parse_dtypes`).
    ``budget_s`` caps the timed samples of one pair. A point whose native fails (e.g. a CPU
    kernel without half precision) is recorded as ``skipped`` with the native's error; a point
    where only multiloss fails or differs (a value mismatch, an out-of-memory ...) is recorded
    with its ``error``; neither is raised. ``on_point`` is called before each point.
    """
    spec = backend_spec(backend)
    if explicit_sizes is None:
        explicit_sizes = sizes is not None
    sizes = list(sizes) if sizes is not None else list(harness.DEFAULT_SIZES)
    dts = harness.parse_dtypes(dtypes)
    show = dts != [harness.DEFAULT_DTYPE]
    records = []
    for mode in modes or spec.MODES:
        for ls in _select_losses(spec, losses):
            for size in harness.grid_for(sizes, ls.classification, explicit_sizes):
                for dtype in dts:
                    if on_point is not None:
                        on_point(f"{spec.NAME}/{mode} {ls.name} {harness.dtype_label(str(size), dtype, show)}")
                    records.append(_point(spec, ls, mode, size, dtype, repeat=repeat, warmup=warmup,
                                          budget_s=budget_s, memory=memory))
    return records


def _point(spec: ModuleType, ls: Any, mode: str, size: Size, dtype: str, *, repeat: int, warmup: int,
           budget_s: float, memory: bool) -> Record:
    """One :class:`Record`: the native is run once first (forward, then forward+backward); if it
    raises, the point is skipped with its message; anything else that fails is the record's error."""
    rec = Record(spec.NAME, mode, ls.name, ls.ours, ls.native, str(size), size.elements, dtype=dtype)
    p = fa = fb = None
    try:
        p = spec.prepare(ls, mode, size, dtype=dtype)
        if p.dtype is not None and p.dtype != dtype:  # a spec that did not cast: never a silent f32 figure
            raise AssertionError(f"bench.{spec.NAME}: inputs made in {p.dtype}, not {dtype}")
        try:  # can the native run this (loss, dtype) on this device at all?
            p.forward[1]()
            p.forward_backward[1]()
        except Exception as exc:
            rec.skipped = "native " + harness.one_line(exc)
            return rec
        n = harness.repeats_for(size, repeat)
        fa, fb = p.forward
        t = harness.interleaved(fa, fb, repeat=n, warmup=warmup, budget_s=budget_s)
        p.check()
        rec.forward_ours_s, rec.forward_native_s = t.a_s, t.b_s
        fa, fb = p.forward_backward
        t = harness.interleaved(fa, fb, repeat=n, warmup=warmup, budget_s=budget_s)
        rec.fb_ours_s, rec.fb_native_s = t.a_s, t.b_s
        rec.inner, rec.repeats = t.inner, len(t.a_samples)
        rec.memory_kind = p.memory_kind
        rec.input_bytes = p.input_bytes
        if memory and p.memory is not None:
            m = p.memory()
            if m is not None:
                rec.memory_ours, rec.memory_native, rec.memory_kind = m
    except harness.SkipPoint as exc:  # the spec cannot set this dtype up here (jax float64 without x64)
        rec.skipped = str(exc)
    except Exception as exc:  # recorded and reported, the run goes on
        rec.error = harness.one_line(exc)
    finally:
        p = fa = fb = None  # free the point's arrays before the next one
    return rec


def run_dispatch(backend: str, losses: Sequence[str] | None = None, budget_s: float = 0.3,
                 dtype: str = harness.DEFAULT_DTYPE) -> list[DispatchRecord]:
    """Per-call dispatch overhead on tiny (4x3) eager inputs of ``dtype``, one record per loss."""
    spec = backend_spec(backend)
    (dtype,) = harness.parse_dtypes([dtype])
    out = []
    for ls in _select_losses(spec, losses):
        try:
            out.append(spec.dispatch(ls, budget_s=budget_s, dtype=dtype))
        except Exception as exc:  # pragma: no cover - reported, not raised
            print(f"multiloss bench: dispatch {backend} {ls.name} {dtype} failed: {harness.one_line(exc)}",
                  file=sys.stderr)
    return out


# ----------------------------------------------------------------------------- CLI


def add_arguments(b: argparse.ArgumentParser) -> None:
    """The options of ``multiloss bench`` (used by :mod:`multiloss.cli`)."""
    b.add_argument("--backend", action="append",
                   help="torch, jax, tensorflow (alias tf, keras); repeatable; default: every installed one")
    b.add_argument("--loss", action="append",
                   help="a loss of the backend's table (e.g. CrossEntropyLoss, squared_error, Huber); repeatable")
    b.add_argument("--mode", action="append",
                   help="eager (every backend: op by op, no tracing), compile (torch), jit (jax), "
                        "tf.function (tensorflow); repeatable; default: all")
    b.add_argument("--quick", action="store_true",
                   help="sizes 64x10 and 4096x1000, 5 repeats, short dispatch, and no torch.compile unless "
                        "--mode compile: well under a minute per backend")
    b.add_argument("--full", action="store_true",
                   help="add 8192x32000 (2.6e8 elements, ~1 GB per float32 array; seconds per call on a "
                        "2-core CPU) for the cross-entropy family; off by default as impractical on small machines")
    b.add_argument("--sizes", metavar="NxC[,NxC...]",
                   help="explicit sizes, every loss at every size (default grid: 64x10 256x100 1024x1000 "
                        "4096x1000 8192x4000, the last for the cross-entropy family only)")
    b.add_argument("--dtype", action="append", metavar="DTYPE",
                   help="float32 (default), bfloat16, float16, float64 (aliases f32, bf16, f16, f64); "
                        "repeatable: every loss at every size in each dtype. Floating inputs are made in "
                        "float32, then rounded to the dtype; integer targets are unchanged; torch losses "
                        "with parameters are cast with .to(dtype), ours and native alike. A (loss, dtype) the "
                        "native cannot run on this device is reported as skipped with its error; one where "
                        "only multiloss fails is an error and a miss. jax float64 needs JAX_ENABLE_X64=1 "
                        "(else skipped). Memory figures are per dtype; dispatch figures are taken in the "
                        "first dtype only")
    b.add_argument("--repeat", type=int, metavar="R",
                   help="timed samples per pair (default 15, quick 5; fewer at >= 1e6 elements)")
    b.add_argument("--budget", type=float, metavar="SECONDS",
                   help="cap on the timed samples of one pair (default 4, quick 1)")
    b.add_argument("--threads", type=int, metavar="N",
                   help="intra-op threads of each framework (default: the framework's). On a small machine "
                        "shared with other work, 1 avoids timing threads that wait for a core")
    b.add_argument("--no-memory", action="store_true", help="skip the memory figures")
    b.add_argument("--no-dispatch", action="store_true", help="skip the dispatch-overhead figures")
    b.add_argument("--json", metavar="PATH", help="write every record, the machine and the misses as JSON")
    b.add_argument("--markdown", metavar="PATH", help="write the tables as Markdown")
    b.add_argument("--plot", metavar="PATH",
                   help="forward+backward ratio vs size per backend, as an image (needs matplotlib)")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")


def command_line(args: argparse.Namespace) -> str:
    """The ``multiloss bench ...`` command that reproduces ``args`` (for the JSON/report)."""
    parts = ["multiloss", "bench"]
    for key in ("backend", "loss", "mode", "dtype"):
        for v in getattr(args, key, None) or ():
            parts += [f"--{key}", v]
    for key in ("quick", "full", "no_memory", "no_dispatch"):
        if getattr(args, key, False):
            parts.append("--" + key.replace("_", "-"))
    for key in ("sizes", "repeat", "budget", "threads"):
        v = getattr(args, key, None)
        if v:
            parts += [f"--{key}", str(v)]
    return " ".join(shlex.quote(p) for p in parts)


def run_bench(args: argparse.Namespace) -> int:
    """Handler of ``multiloss bench``; returns the exit status (0, or 2 on a usage error).

    Missed targets are reported, not an error: the benchmark is never a pass/fail test."""
    if args.plot:
        harness.require_matplotlib()  # fail before minutes of timing, not after
    names = args.backend or list(BACKENDS)
    specs = [backend_spec(n) for n in dict.fromkeys(_ALIASES.get(n, n) for n in names)]
    def get(k: str, d: Any = None) -> Any:  # tolerate a bare Namespace
        return getattr(args, k, d)

    quick, full = bool(get("quick")), bool(get("full"))
    try:
        if get("sizes"):
            sizes, explicit = harness.parse_sizes(get("sizes")), True
        else:
            sizes = list(harness.QUICK_SIZES if quick else harness.FULL_SIZES if full else harness.DEFAULT_SIZES)
            explicit = False
        dtypes = harness.parse_dtypes(get("dtype"))
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    repeat = get("repeat") or (5 if quick else 15)
    if repeat < 1:
        raise SystemExit(f"multiloss bench: --repeat must be >= 1; got {repeat}")
    budget = get("budget") or (1.0 if quick else 4.0)

    ready: list = []
    unavailable: dict[str, str] = {}
    for spec in specs:
        try:  # before the framework's first import where it matters (XLA_FLAGS)
            spec.setup(get("threads"))
        except ImportError:
            pass  # reported by available()
        ok, why = spec.available()
        (ready.append(spec) if ok else unavailable.__setitem__(spec.NAME, why))
    if args.backend and not ready:
        raise SystemExit("multiloss bench: no requested backend is installed: "
                         + "; ".join(f"{k}: {v}" for k, v in unavailable.items()))
    losses, modes = get("loss"), get("mode")
    if losses:
        known = {ls.name for s in ready for ls in s.LOSSES}
        bad = [x for x in losses if x not in known]
        if bad:
            raise SystemExit(f"multiloss bench: unknown loss(es) {bad} on {', '.join(s.NAME for s in ready)}; "
                             f"available: {', '.join(sorted(known))}")
    if modes:
        known_modes = {m for s in ready for m in s.MODES}
        bad = [m for m in modes if m not in known_modes]
        if bad:
            raise SystemExit(f"multiloss bench: unknown mode(s) {bad}; available: {', '.join(sorted(known_modes))}")

    warnings.simplefilter("ignore")  # natives' deprecation chatter; the table reports numbers
    plan = []  # (spec, modes, losses) that have something to do
    for s in ready:
        ms = [m for m in s.MODES if (m in modes if modes else not (quick and m == "compile"))]
        ls = [x.name for x in s.LOSSES if not losses or x.name in losses]
        if ms and ls:
            plan.append((s, ms, ls))
    total = sum(len(ms) * len(dtypes) * sum(len(harness.grid_for(sizes, x.classification, explicit))
                              for x in s.LOSSES if x.name in ls) for s, ms, ls in plan)
    total += 0 if get("no_dispatch") else sum(len(ls) for _, _, ls in plan)

    start = time.perf_counter()
    records: list[Record] = []
    dispatch: list[DispatchRecord] = []
    versions: dict[str, str] = {}
    prog = harness.progress(total, not get("no_progress"))
    task = None
    if prog is not None:
        prog.start()
        task = prog.add_task("", total=total)

    started = False

    def tick(desc: str) -> None:
        nonlocal started
        if prog is not None:
            if started:
                prog.advance(task)
            prog.update(task, description=desc)
        started = True

    try:
        for s, ms, ls in plan:
            versions.update(s.versions())
            records += run(s.NAME, sizes=sizes, losses=ls, modes=ms, dtypes=dtypes, repeat=repeat,
                           budget_s=budget, memory=not get("no_memory"), explicit_sizes=explicit, on_point=tick)
            if not get("no_dispatch"):
                for name in ls:  # in the first dtype only
                    tick(f"{s.NAME} dispatch {name}")
                    dispatch += run_dispatch(s.NAME, [name], budget_s=0.1 if quick else 0.3, dtype=dtypes[0])
    finally:
        if prog is not None:
            prog.stop()
    elapsed = time.perf_counter() - start

    from ..cli import _print_table

    devices = ", ".join(f"{k.removesuffix('_device')} on {v}" for k, v in versions.items() if k.endswith("_device"))
    m = harness.machine(versions)
    print(f"device: {devices or 'n/a'}; host {m['processor']}, {m['cpu_count']} CPUs, Python {m['python']}")
    show = dtypes != [harness.DEFAULT_DTYPE]  # the dtype in the size labels
    _print_table(harness.TABLE_HEADER, harness.table_rows(records, show),
                 title="multiloss bench: median time per call, ratio = multiloss / native "
                       f"(f+b target {harness.TARGET_LARGE}x at >= 1e6 elements, {harness.TARGET_SMALL}x below; "
                       f"memory {harness.TARGET_MEMORY}x)")
    if dispatch:
        _print_table(harness.DISPATCH_HEADER, harness.dispatch_rows(dispatch, show),
                     title=f"dispatch overhead per call on tiny eager inputs (target <= {harness.TARGET_DISPATCH_US:.0f} us)")
    for name, why in unavailable.items():
        print(f"  {name}: unavailable ({why})")
    missed, skips = harness.misses(records, dispatch), harness.skipped(records)
    print(f"{len(records)} points, {len(dispatch)} dispatch figures in {elapsed:.0f}s; "
          + (f"{len(skips)} skipped (not runnable here, see below); " if skips else "")
          + f"{len(missed)} target(s) missed" + (":" if missed else ""))
    for line in missed:
        print(f"  ✘ {line}")
    for line in skips:
        print(f"  - skipped {line}")

    meta = {"command": command_line(args), "dtypes": dtypes,
            "machine": harness.machine(versions), "elapsed_s": elapsed, "unavailable": unavailable}
    if get("json"):
        harness.write_json(args.json, records, dispatch, meta)
    if get("markdown"):
        with open(args.markdown, "w") as f:
            f.write(harness.markdown_table(harness.TABLE_HEADER, harness.table_rows(records, show)) + "\n\n")
            if dispatch:
                f.write(harness.markdown_table(harness.DISPATCH_HEADER, harness.dispatch_rows(dispatch, show)) + "\n")
    if args.plot:
        harness.plot(args.plot, records)
    return 0



def script(backend: str):
    """``(run, main)`` for a ``benchmarks/bench_<backend>.py`` script: ``run(**kw)`` returns the
    records of :func:`run` as dicts; ``main(argv)`` is ``multiloss bench --backend <backend> ...``."""

    def run_records(**kw) -> list[dict]:
        return [r.as_dict() for r in run(backend, **kw)]

    def main(argv: Sequence[str] | None = None) -> int:
        import sys

        from .. import cli

        argv = list(sys.argv[1:] if argv is None else argv)
        return cli.main(["bench", "--backend", backend, *argv])

    return run_records, main
