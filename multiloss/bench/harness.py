"""The one benchmark harness behind ``multiloss bench`` and ``benchmarks/bench_*.py``.

Backend-free: an interleaved A/B timer, the size grids, the result records, the ratio
table, JSON and the optional plot. What to time on each framework lives in
:mod:`multiloss.bench.torch`, :mod:`~multiloss.bench.jax` and
:mod:`~multiloss.bench.tensorflow` (one small spec per backend).

Method (:func:`interleaved`): both callables are warmed up, the number of calls per sample
(``inner``) is calibrated so a sample lasts at least ``min_sample_s`` (timer resolution and
per-call jitter become moot), then samples are taken A, B, B, A, A, B, ... so that drift of a
shared machine, and any "second one runs warmer" effect, hit both sides alike. The figure is
the median sample. A time budget per pair caps the number of repeats at large sizes.

Dtypes: a :class:`Record` is one (backend, mode, loss, size, dtype); ``skipped`` (the native
cannot run it) is not a miss, ``error`` (multiloss failed or differs) is. The size labels of
the tables and the misses list carry the dtype (``64x10 bf16``) once any figure is not float32.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

__all__ = [
    "Timing",
    "interleaved",
    "Size",
    "parse_sizes",
    "DTYPES",
    "DEFAULT_DTYPE",
    "parse_dtypes",
    "dtype_label",
    "CHECK_TOLERANCES",
    "SkipPoint",
    "one_line",
    "QUICK_SIZES",
    "DEFAULT_SIZES",
    "FULL_SIZES",
    "grid_for",
    "LossSpec",
    "Prepared",
    "repeats_for",
    "markdown_table",
    "require_matplotlib",
    "progress",
    "NON_CLASSIFICATION_MAX_ELEMENTS",
    "Record",
    "DispatchRecord",
    "TARGET_LARGE",
    "TARGET_SMALL",
    "TARGET_DISPATCH_US",
    "TARGET_MEMORY",
    "LARGE_ELEMENTS",
    "target_for",
    "misses",
    "skipped",
    "table_rows",
    "dispatch_rows",
    "format_table",
    "machine",
    "write_json",
    "plot",
]

# ----------------------------------------------------------------------------- targets
# DESIGN.md / issue 7: forward+backward <= 1.10x native at >= 10^6 elements, <= 1.5x at
# small sizes (64x10; applied to everything below 10^6); dispatch <= 5 us; memory <= 1.10x.
TARGET_LARGE = 1.10
TARGET_SMALL = 1.5
LARGE_ELEMENTS = 10**6
TARGET_DISPATCH_US = 5.0
TARGET_MEMORY = 1.10


def target_for(elements: int) -> float:
    """The forward+backward ratio target at a problem of ``elements`` prediction entries."""
    return TARGET_LARGE if elements >= LARGE_ELEMENTS else TARGET_SMALL


# ----------------------------------------------------------------------------- timer


@dataclass
class Timing:
    """Median seconds per call of A and B, and the samples behind them."""

    a_s: float
    b_s: float
    inner: int
    a_samples: list[float]
    b_samples: list[float]

    @property
    def ratio(self) -> float:
        return self.a_s / self.b_s if self.b_s > 0 else math.nan


def interleaved(
    fa: Callable[[], Any],
    fb: Callable[[], Any],
    *,
    repeat: int = 15,
    warmup: int = 3,
    min_repeat: int = 3,
    min_sample_s: float = 2e-3,
    budget_s: float | None = None,
    inner: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """Time ``fa`` against ``fb`` interleaved; return the medians of the per-call times.

    ``fa``/``fb`` take no argument and must *finish* their work before returning (block on
    asynchronous frameworks). ``warmup`` calls of each first; then ``inner`` calls per sample
    (calibrated from one timed call of each when ``None``); then up to ``repeat`` samples of
    each in the order A B B A A B ... — stopping early, once ``min_repeat`` are taken, when
    the samples so far exceed ``budget_s`` seconds. ``clock`` is injectable for tests.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"interleaved: repeat must be >= 1 and warmup >= 0; got {repeat}, {warmup}")
    for _ in range(warmup):
        fa()
        fb()
    if inner is None:
        t0 = clock()
        fa()
        t1 = clock()
        fb()
        t2 = clock()
        one = max(min(t1 - t0, t2 - t1), 1e-9)
        inner = max(1, min(100_000, math.ceil(min_sample_s / one)))
    a_samples: list[float] = []
    b_samples: list[float] = []
    spent = 0.0
    for i in range(repeat):
        # ABBA: A first on even rounds, B first on odd ones
        order = ((fa, a_samples), (fb, b_samples)) if i % 2 == 0 else ((fb, b_samples), (fa, a_samples))
        for f, acc in order:
            t0 = clock()
            for _ in range(inner):
                f()
            dt = clock() - t0
            spent += dt
            acc.append(dt / inner)
        if budget_s is not None and i + 1 >= min_repeat and spent > budget_s:
            break
    return Timing(statistics.median(a_samples), statistics.median(b_samples), inner, a_samples, b_samples)


# ----------------------------------------------------------------------------- sizes


@dataclass(frozen=True, order=True)
class Size:
    """A prediction of shape ``(n, c)``: batch ``n``, classes/features ``c``."""

    n: int
    c: int

    @property
    def elements(self) -> int:
        return self.n * self.c

    def __str__(self) -> str:
        return f"{self.n}x{self.c}"


def parse_sizes(text: str | Iterable[str]) -> list[Size]:
    """``"64x10,4096x1000"`` (or a list of such strings) -> sizes; clear error otherwise."""
    items = text.split(",") if isinstance(text, str) else [p for t in text for p in t.split(",")]
    out = []
    for item in items:
        item = item.strip().lower()
        if not item:
            continue
        n, sep, c = item.partition("x")
        try:
            size = Size(int(n), int(c))
        except ValueError:
            size = None
        if not sep or size is None or size.n < 1 or size.c < 1:
            raise ValueError(f"multiloss bench: --sizes expects NxC[,NxC...] with positive integers, got {item!r}")
        out.append(size)
    if not out:
        raise ValueError("multiloss bench: --sizes is empty")
    return out


# Log-spaced (about x8 in elements per step) from 64x10 to 8192x32000. The largest points only
# for the classification (cross-entropy family) losses; 8192x32000 (2.6e8 elements, ~1 GB per
# float32 array, seconds per call on a 2-core CPU) only with --full or --sizes.
QUICK_SIZES = (Size(64, 10), Size(4096, 1000))
DEFAULT_SIZES = (Size(64, 10), Size(256, 100), Size(1024, 1000), Size(4096, 1000), Size(8192, 4000))
FULL_SIZES = DEFAULT_SIZES + (Size(8192, 32000),)
# elementwise (non-classification) losses stop here in the default/full grids
NON_CLASSIFICATION_MAX_ELEMENTS = 4096 * 1000


def grid_for(sizes: Sequence[Size], classification: bool, explicit: bool) -> list[Size]:
    """The sizes a loss is timed at: every size when the user named them (``explicit``), else
    the grid without the large points for non-classification losses."""
    if explicit or classification:
        return list(sizes)
    return [s for s in sizes if s.elements <= NON_CLASSIFICATION_MAX_ELEMENTS]


def repeats_for(size: Size, repeat: int) -> int:
    """Fewer repeats at large sizes (each call lasts long, the median is stable sooner)."""
    if size.elements >= 10**7:
        return max(3, min(repeat, 7))
    if size.elements >= 10**6:
        return max(3, min(repeat, 11))
    return repeat


# ----------------------------------------------------------------------------- dtypes

# The floating dtypes a point can be timed in (``--dtype``); inputs are made in float32 and
# then rounded to the dtype, so every dtype sees the same values.
DTYPES = ("float32", "bfloat16", "float16", "float64")
DEFAULT_DTYPE = "float32"
_DTYPE_ALIASES = {"f32": "float32", "fp32": "float32", "bf16": "bfloat16", "f16": "float16",
                  "fp16": "float16", "half": "float16", "f64": "float64", "fp64": "float64",
                  "double": "float64"}
_DTYPE_SHORT = {"float32": "f32", "bfloat16": "bf16", "float16": "f16", "float64": "f64"}

# (rtol, atol) of the multiloss-vs-native value check of a point: float32 and float64 keep the
# bench's historical 1e-4/1e-5; the half types the conformance suite's (multiloss.conformance.spec).
CHECK_TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-4, 1e-5),
                    "float16": (1e-2, 1e-3), "bfloat16": (5e-2, 1e-2)}


def parse_dtypes(names: Iterable[str] | None) -> list[str]:
    """``--dtype`` values (repeatable, comma-separated too; aliases ``bf16``, ``f16`` ...) ->
    canonical names without repeats, in the given order; ``[float32]`` when none."""
    out: list[str] = []
    for name in names or ():
        for item in str(name).split(","):
            key = item.strip().lower()
            if not key:
                continue
            key = _DTYPE_ALIASES.get(key, key)
            if key not in DTYPES:
                raise ValueError(f"multiloss bench: --dtype expects one of {', '.join(DTYPES)}; got {item.strip()!r}")
            if key not in out:
                out.append(key)
    return out or [DEFAULT_DTYPE]


def dtype_label(size: str, dtype: str, show: bool = True) -> str:
    """``64x10`` -> ``64x10 bf16`` (the size column of the tables and the misses list)."""
    return f"{size} {_DTYPE_SHORT.get(dtype, dtype)}" if show else size


class SkipPoint(Exception):
    """Raised by a backend spec for a (loss, dtype) it cannot set up on this installation (e.g.
    jax float64 without x64): the point is reported as skipped with this message, not a miss."""


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (the form errors take in the tables and JSON)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class LossSpec:
    """One benchmarked pair: multiloss entry ``ours`` vs native ``native`` (dotted names, for
    the report), its input kind (see each backend's ``make_inputs``) and whether it belongs to
    the classification (cross-entropy) family that gets the large sizes."""

    name: str
    ours: str
    native: str
    inputs: str
    classification: bool = False
    kwargs: dict = field(default_factory=dict)


@dataclass
class Prepared:
    """What a backend spec hands the driver for one (loss, mode, size): zero-argument
    callables that run to completion, ``(ours, native)`` for the forward pass and for
    forward+backward; ``check()`` raises when the two values differ; ``memory()`` returns
    ``(ours_bytes, native_bytes, kind)`` or ``None`` with a reason in ``memory_kind``."""

    forward: tuple[Callable[[], Any], Callable[[], Any]]
    forward_backward: tuple[Callable[[], Any], Callable[[], Any]]
    check: Callable[[], None] = lambda: None
    memory: Callable[[], tuple[int, int, str] | None] | None = None
    memory_kind: str = "n/a"
    input_bytes: int | None = None  # the first input's (the logits') size, for memory multiples
    dtype: str | None = None  # the first input's dtype name as made (the driver checks it)


@dataclass
class Record:
    """Times (median seconds per call) and memory (bytes) of one (backend, mode, loss, size)."""

    backend: str
    mode: str
    loss: str
    ours: str
    native: str
    size: str
    elements: int
    forward_ours_s: float = math.nan
    forward_native_s: float = math.nan
    fb_ours_s: float = math.nan
    fb_native_s: float = math.nan
    inner: int = 1
    repeats: int = 0
    memory_ours: int | None = None
    memory_native: int | None = None
    memory_kind: str = "n/a"
    input_bytes: int | None = None
    error: str = ""  # ours failed or differs from the native: a miss
    dtype: str = DEFAULT_DTYPE
    skipped: str = ""  # the native itself cannot run this point (e.g. a CPU kernel without half)

    @property
    def forward_ratio(self) -> float:
        return _ratio(self.forward_ours_s, self.forward_native_s)

    @property
    def fb_ratio(self) -> float:
        return _ratio(self.fb_ours_s, self.fb_native_s)

    @property
    def memory_ratio(self) -> float:
        if not self.memory_ours or not self.memory_native:
            return math.nan
        return self.memory_ours / self.memory_native

    def memory_multiples(self) -> tuple[float, float]:
        """Peak memory of (ours, native) as multiples of the input (the logits): the figure a
        large-vocabulary cross-entropy is judged by (torch's peaks at 3x its logits)."""
        if not self.input_bytes or not self.memory_ours or not self.memory_native:
            return math.nan, math.nan
        return self.memory_ours / self.input_bytes, self.memory_native / self.input_bytes

    def as_dict(self) -> dict:
        d = asdict(self)
        mo, mn = self.memory_multiples()
        d.update(forward_ratio=self.forward_ratio, fb_ratio=self.fb_ratio, memory_ratio=self.memory_ratio,
                 memory_ours_x_input=mo, memory_native_x_input=mn, target=target_for(self.elements))
        return d


@dataclass
class DispatchRecord:
    """Per-call overhead on tiny inputs: multiloss call minus native call, and the bare
    ``array_namespace`` lookup (microseconds)."""

    backend: str
    loss: str
    size: str
    ours_us: float
    native_us: float
    namespace_us: float
    dtype: str = DEFAULT_DTYPE

    @property
    def overhead_us(self) -> float:
        return self.ours_us - self.native_us

    def as_dict(self) -> dict:
        return asdict(self) | {"overhead_us": self.overhead_us}


def _ratio(a: float, b: float) -> float:
    return a / b if b and b > 0 and a == a else math.nan


def _show_dtype(items: Iterable[Any]) -> bool:
    """The dtype goes into the size labels unless every figure is float32 (the default output)."""
    return any(getattr(x, "dtype", DEFAULT_DTYPE) != DEFAULT_DTYPE for x in items)


def misses(records: Sequence[Record], dispatch: Sequence[DispatchRecord]) -> list[str]:
    """Each figure that misses its target, as a line of text (skipped points are not misses:
    see :func:`skipped`)."""
    out = []
    show = _show_dtype([*records, *dispatch])
    for r in records:
        where = f"{r.backend}/{r.mode} {r.loss} {dtype_label(r.size, r.dtype, show)}"
        if r.skipped:
            continue
        if r.error:
            out.append(f"{where}: error {r.error}")
            continue
        t = target_for(r.elements)
        if r.fb_ratio == r.fb_ratio and r.fb_ratio > t:
            out.append(f"{where}: forward+backward {r.fb_ratio:.2f}x > {t:.2f}x")
        if r.memory_ratio == r.memory_ratio and r.memory_ratio > TARGET_MEMORY:
            out.append(f"{where}: memory ({r.memory_kind}) {r.memory_ratio:.2f}x > {TARGET_MEMORY:.2f}x")
    for d in dispatch:
        if d.overhead_us > TARGET_DISPATCH_US:
            out.append(f"{d.backend} {d.loss} {dtype_label(d.size, d.dtype, show)}: dispatch overhead "
                       f"{d.overhead_us:.1f} us > {TARGET_DISPATCH_US:.0f} us")
    return out


def skipped(records: Sequence[Record]) -> list[str]:
    """Each point the native itself cannot run (its error in one line), as a line of text."""
    show = _show_dtype(records)
    return [f"{r.backend}/{r.mode} {r.loss} {dtype_label(r.size, r.dtype, show)}: {r.skipped}"
            for r in records if r.skipped]


# ----------------------------------------------------------------------------- output


def _fmt_t(s: float) -> str:
    if s != s:
        return "-"
    if s >= 1:
        return f"{s:.2f}s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f}ms"
    return f"{s * 1e6:.0f}us"


def _fmt_r(r: float, target: float | None = None) -> str:
    if r != r:
        return "-"
    mark = "" if target is None else (" ✔" if r <= target else " ✘")
    return f"{r:.2f}{mark}"


def _fmt_bytes(b: int | None) -> str:
    if not b:
        return "n/a"
    for unit, k in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= k:
            return f"{b / k:.1f}{unit}"
    return f"{b}B"


TABLE_HEADER = ("backend", "loss", "size", "fwd ours", "fwd native", "fwd ratio",
                "f+b ours", "f+b native", "f+b ratio", "memory ours/native", "mem ratio")


def table_rows(records: Sequence[Record], show_dtype: bool | None = None) -> list[tuple[str, ...]]:
    """One row per record; the size column reads ``64x10 bf16`` when ``show_dtype`` (default:
    once any record is not float32)."""
    rows: list[tuple[str, ...]] = []
    show = _show_dtype(records) if show_dtype is None else show_dtype
    for r in records:
        size = dtype_label(r.size, r.dtype, show)
        if r.skipped:
            rows.append((f"{r.backend}/{r.mode}", r.loss, size, "skipped: " + r.skipped[:60], *("",) * 7))
            continue
        if r.error:
            rows.append((f"{r.backend}/{r.mode}", r.loss, size, "error: " + r.error[:60], *("",) * 7))
            continue
        mem = (f"{_fmt_bytes(r.memory_ours)}/{_fmt_bytes(r.memory_native)}" if r.memory_ours else r.memory_kind)
        mo, mn = r.memory_multiples()
        if mo == mo:  # as multiples of the input (logits) too
            mem += f" ({mo:.2f}x/{mn:.2f}x input)"
        rows.append((
            f"{r.backend}/{r.mode}", r.loss, size,
            _fmt_t(r.forward_ours_s), _fmt_t(r.forward_native_s), _fmt_r(r.forward_ratio),
            _fmt_t(r.fb_ours_s), _fmt_t(r.fb_native_s), _fmt_r(r.fb_ratio, target_for(r.elements)),
            mem, _fmt_r(r.memory_ratio, TARGET_MEMORY),
        ))
    return rows


DISPATCH_HEADER = ("backend", "loss", "size", "multiloss", "native", "overhead", "array_namespace")


def dispatch_rows(dispatch: Sequence[DispatchRecord], show_dtype: bool | None = None) -> list[tuple[str, ...]]:
    show = _show_dtype(dispatch) if show_dtype is None else show_dtype
    return [(d.backend, d.loss, dtype_label(d.size, d.dtype, show), f"{d.ours_us:.1f}us", f"{d.native_us:.1f}us",
             f"{d.overhead_us:+.1f}us" + (" ✔" if d.overhead_us <= TARGET_DISPATCH_US else " ✘"),
             f"{d.namespace_us:.2f}us") for d in dispatch]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table (the CLI prints with rich when it is installed)."""
    rows = [tuple(map(str, r)) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def machine(versions: dict[str, str] | None = None) -> dict[str, Any]:
    """Where the figures come from: CPU count, platform, Python and framework versions."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "versions": dict(versions or {}),
    }


def write_json(path: str, records: Sequence[Record], dispatch: Sequence[DispatchRecord], meta: dict) -> None:
    data = {
        **meta,
        "targets": {"forward+backward_large": TARGET_LARGE, "large_elements": LARGE_ELEMENTS,
                    "forward+backward_small": TARGET_SMALL, "dispatch_us": TARGET_DISPATCH_US,
                    "memory": TARGET_MEMORY},
        "records": [r.as_dict() for r in records],
        "dispatch": [d.as_dict() for d in dispatch],
        "misses": misses(records, dispatch),
        "skipped": skipped(records),
    }
    with open(path, "w") as f:
        json.dump(_json_clean(data), f, indent=1, default=str, allow_nan=False)
        f.write("\n")


def _json_clean(v: Any) -> Any:
    """NaN/inf (a figure that could not be measured) -> ``null``: strict JSON."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_clean(x) for x in v]
    return v


MATPLOTLIB_MISSING = (
    "multiloss bench: --plot needs matplotlib, which is not installed "
    "(pip install matplotlib); the table and --json do not need it"
)


def require_matplotlib() -> None:
    """Raise ``SystemExit`` with a clear message when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SystemExit(MATPLOTLIB_MISSING) from None


def plot(path: str, records: Sequence[Record]) -> None:
    """forward+backward ratio vs size (elements, log scale), one panel per backend/mode, one
    line per loss, with the targets drawn."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[Record]] = {}
    for r in records:
        if not r.error and not r.skipped:
            groups.setdefault(f"{r.backend}/{r.mode}", []).append(r)
    show = _show_dtype(records)
    if not groups:
        raise SystemExit("multiloss bench: nothing to plot (no successful measurement)")
    fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 4), squeeze=False)
    for ax, (title, recs) in zip(axes[0], groups.items()):
        by_loss: dict[str, list[Record]] = {}
        for r in recs:  # one line per (loss, dtype)
            by_loss.setdefault(f"{r.loss} {r.dtype}" if show else r.loss, []).append(r)
        for loss, rs in by_loss.items():
            rs = sorted(rs, key=lambda r: r.elements)
            ax.plot([r.elements for r in rs], [r.fb_ratio for r in rs], marker="o", label=loss)
        ax.axhline(TARGET_LARGE, color="k", ls="--", lw=0.8)
        ax.axhline(TARGET_SMALL, color="k", ls=":", lw=0.8)
        ax.axhline(1.0, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("prediction elements (N x C)")
        ax.set_ylabel("forward+backward time, multiloss / native")
        ax.set_title(title)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def progress(total: int, enabled: bool, label: str = "bench"):
    """A rich progress bar (transient, on stderr) or ``None`` when disabled or rich is missing;
    shared by ``multiloss bench`` and ``multiloss check``."""
    if not enabled:
        return None
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        return None
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.description}"), transient=True, console=Console(file=sys.stderr))
