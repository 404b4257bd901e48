"""``multiloss list | check | port | bench`` (also ``python -m multiloss``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections import defaultdict
from typing import Iterable, Sequence

__all__ = ["main"]

# ----------------------------------------------------------------------------- list


def cmd_list(args: argparse.Namespace) -> int:
    from .catalogue import CATALOGUE, porting_table

    if args.update:
        import pathlib

        path = pathlib.Path(args.update)
        text = path.read_text()
        start, end = "<!-- porting-table:start -->\n", "\n<!-- porting-table:end -->"
        if start not in text or end not in text:
            raise SystemExit(f"multiloss list --update: {path} has no porting-table markers ({start.strip()} ... {end.strip()})")
        head, rest = text.split(start, 1)
        path.write_text(head + start + porting_table() + end + rest.split(end, 1)[1])
        print(f"porting table written into {path}")
        return 0
    if args.markdown:
        print(porting_table())
        return 0
    header = ("loss", "family", "torch", "keras", "jax (optax)")
    rows = [(e.name, e.family, e.names("torch"), e.names("keras"), e.names("jax")) for e in CATALOGUE]
    _print_table(header, rows, title="multiloss catalogue (canonical name, y_pred first; (extra): no native twin)")
    return 0


# ----------------------------------------------------------------------------- check


def _select_backends(requested: Sequence[str] | None) -> tuple[list[str], dict[str, str]]:
    from .conformance.backends import BACKENDS

    unknown = [b for b in requested or () if b not in BACKENDS]
    if unknown:
        raise SystemExit(
            f"multiloss check: unknown backend(s) {', '.join(map(repr, unknown))}; "
            f"available: {', '.join(BACKENDS)}"
        )
    names = list(requested) if requested else list(BACKENDS)
    ready, unavailable = [], {}
    for name in names:
        ok, why = BACKENDS[name].available()
        if ok:
            BACKENDS[name].setup()
            ready.append(name)
        else:
            unavailable[name] = why
    return ready, unavailable


def _matrix(cells) -> tuple[list[str], list[tuple[str, str]], dict]:
    """rows (entries in first-seen order), columns (backend, kind), cell -> list of Cells."""
    rows: list[str] = []
    cols: list[tuple[str, str]] = []
    grid: dict[tuple[str, str, str], list] = defaultdict(list)
    for c in cells:
        if c.entry not in rows:
            rows.append(c.entry)
        if (c.backend, c.kind) not in cols:
            cols.append((c.backend, c.kind))
        grid[(c.entry, c.backend, c.kind)].append(c)
    return rows, cols, grid


DTYPE_ORDER = ("float64", "float32", "float16", "bfloat16")


def _fmt_cell(cs) -> str:
    """'✔' or '✘', then the worst relative error per dtype in DTYPE_ORDER ('·' = not run;
    a failing dtype's figure is marked '!', a computation that raised reads 'error')."""
    if not cs:
        return ""
    by_dtype = {c.dtype: c for c in cs}
    parts = []
    for dt in DTYPE_ORDER:
        c = by_dtype.get(dt)
        if c is None:
            parts.append("·")
        elif c.error:
            parts.append("error")
        else:
            parts.append(f"{c.max_rel:.0e}" + ("" if c.ok else "!") if c.max_rel > 0 else ("0" if c.ok else "0!"))
    mark = "✔" if all(c.ok for c in cs) else "✘"
    return f"{mark} " + " ".join(parts)


def cmd_check(args: argparse.Namespace) -> int:
    from .conformance import runner

    if args.no_cache:  # read by each backend's setup, here and in the spawned workers
        from .conformance.backends import CACHE_ENV

        os.environ[CACHE_ENV] = "off"
    ready, unavailable = _select_backends(args.backend)
    dtypes = args.dtype or None
    if dtypes:
        known = ("float64", "float32", "float16", "bfloat16")
        bad = [d for d in dtypes if d not in known]
        if bad:
            raise SystemExit(f"multiloss check: unknown dtype(s) {bad}; choose from {', '.join(known)}")
    losses = args.loss or None
    if losses:
        names = {c.loss for c in runner.canonical_cases()}
        for b in ready:
            names |= {c.name for c in runner.native_cases(b)}
        unknown = [x for x in losses if x not in names]
        if unknown:
            raise SystemExit(
                f"multiloss check: unknown loss(es) {unknown}; available: {', '.join(sorted(names))}"
            )
    jobs = list(runner.jobs(ready, dtypes=dtypes, losses=losses))
    # natives warn about their own semantics (torch kl_div 'mean'); the matrix reports numbers
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    from contextlib import nullcontext as _nullcontext

    from .bench.harness import progress

    workers = args.workers if args.workers is not None else min(2, os.cpu_count() or 1)
    prog = progress(len(jobs), not args.no_progress, label="checking")
    by_index: dict[int, list] = {}
    done = 0

    def finished(i, job_cells):
        nonlocal done
        by_index[i] = job_cells
        done += 1
        if prog is not None:
            prog.update(task, description=f"{jobs[i].case.id} on {jobs[i].backend} {jobs[i].dtype}")
            prog.advance(task)
        elif not args.no_progress and done % 50 == 0:
            print(f"  {done}/{len(jobs)} jobs", file=sys.stderr)

    with prog if prog is not None else _nullcontext():
        task = prog.add_task("", total=len(jobs)) if prog is not None else None
        if workers > 1 and len(jobs) > 1:
            runner.run_parallel(ready, dtypes, losses, workers, finished)
        else:
            for i, job in enumerate(jobs):
                finished(i, runner.run_job(job))
    cells = [c for i in range(len(jobs)) for c in by_index[i]]  # the jobs' order, whatever ran first
    elapsed = time.perf_counter() - start

    rows, cols, grid = _matrix(cells)
    header = ("entry", *(f"{b} {k}" for b, k in cols))
    table = [(r, *(_fmt_cell(grid.get((r, b, k), [])) for b, k in cols)) for r in rows]
    passed, failed = runner.summarize(cells)
    _print_table(header, table, title="multiloss check: ✔ agrees, ✘ differs; worst relative error per dtype: "
                 "float64 float32 float16 bfloat16 (· not run, ! out of tolerance)")
    for name, why in unavailable.items():
        print(f"  {name}: unavailable ({why})")
    for c in cells:
        if not c.ok:
            detail = c.error or f"max abs {c.max_abs:.3g}, max rel {c.max_rel:.3g}"
            print(f"  ✘ {c.id} vs {c.against}: {detail}")
    summary = (f"{passed} passed, {failed} failed: {len(cells)} cells over "
               f"{', '.join(ready) or 'no backend'} in {elapsed:.1f}s")
    print(summary)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"backends": ready, "unavailable": unavailable, "elapsed_s": elapsed,
                       "cells": [c.__dict__ | {"id": c.id} for c in cells]}, f, indent=1, default=str)
    if args.markdown:
        _write_markdown(args.markdown, header, table, summary, unavailable)
    port_failed = 0 if args.no_port else _port_section(ready, losses, dtypes)
    return 0 if failed == 0 and port_failed == 0 else 1


def _write_markdown(path, header, table, summary, unavailable):
    import platform

    lines = [
        "# multiloss conformance matrix",
        "",
        "Generated by `multiloss check --markdown conformance/MATRIX.md` "
        f"(Python {platform.python_version()}, {platform.machine()}).",
        "Each cell: ✔ when every dtype agrees within its written tolerance "
        "(`multiloss/conformance/spec.py`), ✘ otherwise; then the worst relative error per dtype in the "
        "order float64 float32 float16 bfloat16 (`·` not run, `!` out of tolerance).",
        "Canonical entries (`loss[domain,options]`) are checked against the NumPy float64 reference; "
        "adapter entries (`Class[options]`) against the framework's own loss.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in table]
    lines += ["", summary]
    lines += [f"- {n}: unavailable ({w})" for n, w in unavailable.items()]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ----------------------------------------------------------------------------- port


def _port_section(ready: list[str], losses, dtypes) -> int:
    """``multiloss check``'s port section: every native loss of the conformance grids ported to
    each other installed framework, value and gradient compared (multiloss.port.proof)."""
    from .port import proof

    frameworks = [f for b, f in (("torch", "torch"), ("tensorflow", "keras"), ("jax", "jax")) if b in ready]
    if not frameworks:
        return 0
    start = time.perf_counter()
    cases = proof.cases(sources=tuple(frameworks), targets=(*frameworks, "numpy"), names=tuple(losses or ()) or None)
    dts = tuple(d for d in (dtypes or proof.DTYPES) if d in proof.DTYPES) or proof.DTYPES
    outcomes = list(proof.run_all(cases, dts))
    counts = proof.summarize(outcomes)
    bad = [o for o in outcomes if not o.ok]
    for o in bad:
        print(f"  ✘ port {o.case.id} {o.dtype}: {o.status}: {o.detail} ({o.code})")
    print(f"port: {counts.get('equal', 0)} equal (value and gradient), {counts.get('refused', 0)} refused "
          f"(PortError), {counts.get('conditional', 0)} conditional, {len(bad)} failed: {len(cases)} ports of "
          f"{', '.join(frameworks)} natives in {time.perf_counter() - start:.1f}s ({', '.join(dts)})")
    return len(bad)


def cmd_port(args: argparse.Namespace) -> int:
    from .port import PortError, plan_config
    from .port._expr import ExpressionError, parse

    try:
        cfg = parse(args.expression)
    except ExpressionError as e:
        raise SystemExit(f"multiloss port: {e}") from None
    except PortError as e:
        print(f"# cannot port: {e}", file=sys.stderr)
        return 1
    try:
        print(plan_config(cfg, args.to, targets=args.targets, strict=args.strict))
    except PortError as e:
        print(f"# cannot port: {e}", file=sys.stderr)
        return 1
    return 0


# ----------------------------------------------------------------------------- bench


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    return run_bench(args)


# ----------------------------------------------------------------------------- output


def _print_table(header: Sequence[str], rows: Iterable[Sequence[str]], title: str = "") -> None:
    rows = [tuple(map(str, r)) for r in rows]
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:  # rich is optional (the cli extra): plain columns
        have_rich = False
    else:
        have_rich = True
    if have_rich:

        t = Table(title=escape(title) if title else None, show_lines=False)
        for h in header:
            t.add_column(escape(h), overflow="fold")
        for r in rows:
            t.add_row(*(escape(c) for c in r))
        widths = [max(len(x) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
        Console(width=max(120, sum(w + 3 for w in widths) + 4)).print(t)
        return
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    if title:
        print(title)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="multiloss", description="Losses written once, native everywhere.")
    sub = p.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="the catalogue: canonical names and their torch/keras/optax twins")
    p_list.add_argument("--markdown", action="store_true", help="print the porting table as Markdown (README's)")
    p_list.add_argument("--update", metavar="FILE", help="rewrite the porting table between the markers of FILE (README.md)")
    c = sub.add_parser("check", help="conformance matrix on the installed backends (exit 1 on mismatch)")
    c.add_argument("--backend", action="append", help="numpy, array_api_strict, torch, jax, tensorflow (repeatable)")
    c.add_argument("--loss", action="append", help="canonical loss or adapter entry name (repeatable)")
    c.add_argument("--workers", type=int, default=None,
                   help="processes to run the matrix in (default: min(2, CPUs); 1 = this process)")
    c.add_argument("--dtype", action="append", help="float64, float32, float16, bfloat16 (repeatable)")
    c.add_argument("--json", metavar="PATH", help="write every cell as JSON")
    c.add_argument("--markdown", metavar="PATH", help="write the matrix as Markdown (conformance/MATRIX.md)")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--no-port", action="store_true", help="skip the port section (natives ported across frameworks)")
    pt = sub.add_parser("port", help="the equivalent of a configured loss in another framework, as code",
                        description="Print the code of the equivalent loss in another framework, with the semantic "
                                    "differences as comments, e.g. multiloss port "
                                    "\"torch.nn.CrossEntropyLoss(label_smoothing=0.1)\" --to keras. The expression is "
                                    "parsed, never evaluated: one call of a known loss with literal arguments. "
                                    "Exit 1 (and the reason) where no exact equivalent exists.")
    pt.add_argument("expression", help="e.g. 'torch.nn.HuberLoss(delta=2.0)', 'keras.losses.Huber()', "
                                       "'optax.losses.huber_loss(delta=2.0)', '\"mse\"'")
    pt.add_argument("--to", required=True, choices=("torch", "keras", "jax", "numpy"), help="target framework")
    pt.add_argument("--targets", choices=("index", "dense"), default=None,
                    help="class-index or one-hot/probability targets, for class losses that take both")
    pt.add_argument("--strict", action="store_true", help="only equivalents that hold for every input")
    c.add_argument("--no-cache", action="store_true",
                   help="compile every jax op afresh instead of reusing ~/.cache/multiloss/xla "
                        "(or $MULTILOSS_COMPILE_CACHE)")
    b = sub.add_parser(
        "bench", help="time multiloss vs the native built-ins, as ratios",
        description="Forward and forward+backward time of multiloss vs each native built-in, measured "
                    "interleaved in one run (median after warm-up), peak memory of forward+backward "
                    "(jax: XLA memory_analysis; torch: CUDA max_memory_allocated, or on CPU the bytes "
                    "saved for backward; tensorflow: GPU only, else n/a) and the dispatch overhead "
                    "per call in us. Never a pass/fail test: exit 0 unless the command is misused.")
    from .bench import add_arguments as _bench_arguments  # no framework imported

    _bench_arguments(b)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # TensorFlow's C++ log lines (oneDNN, CPU features, "failed call to cuInit" on a machine
    # without a GPU) would bury the matrix: this process (and its workers) only, and a user's
    # own TF_CPP_MIN_LOG_LEVEL wins. The lines TF writes before absl logging is initialised
    # ignore it: multiloss._quiet drops them around the framework imports.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    handler = {"list": cmd_list, "check": cmd_check, "bench": cmd_bench, "port": cmd_port}[args.command]
    try:
        return handler(args)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
