"""multiloss.torch vs torch.nn: forward and forward+backward time, as ratios measured side by
side in one run. Not a test: it prints figures (and returns them for ``multiloss bench``).

    python benchmarks/bench_torch.py                 # default sizes, table on stdout
    python benchmarks/bench_torch.py --repeat 50 --sizes 4096x1000 64x10 --threads 1

Method: for each (loss, size), the multiloss module and the torch module are each warmed
up, then timed *interleaved* (A, B, A, B, ...) so that drift of a shared machine hits both
alike; each sample is the mean of ``inner`` calls, and the reported time is the median of
``repeat`` samples. The ratio is multiloss / native (1.00 = same speed). The targets of
DESIGN.md are forward+backward <= 1.10 at 4096x1000 and <= 1.5 at 64x10.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

__all__ = ["run", "format_table", "main", "CASES", "DEFAULT_SIZES"]

DEFAULT_SIZES: tuple[tuple[int, int], ...] = ((4096, 1000), (64, 10))

# name -> (multiloss.torch class name / torch.nn class name, make_target(torch, N, C))
CASES: dict[str, tuple[str, Callable[[Any, int, int], Any]]] = {
    "MSELoss": ("MSELoss", lambda torch, n, c: torch.randn(n, c)),
    "BCEWithLogitsLoss": ("BCEWithLogitsLoss", lambda torch, n, c: torch.randint(0, 2, (n, c)).float()),
    "CrossEntropyLoss": ("CrossEntropyLoss", lambda torch, n, c: torch.randint(0, c, (n,))),
}


def _inner_for(n: int, c: int) -> int:
    """Calls per sample: enough that one sample lasts >~ 1 ms, so timer resolution is moot."""
    return max(1, 200_000 // (n * c))


def _time_pair(fa: Callable[[], Any], fb: Callable[[], Any], repeat: int, inner: int, warmup: int) -> tuple[float, float]:
    for _ in range(warmup):
        fa()
        fb()
    ta, tb = [], []
    clock = time.perf_counter
    for i in range(repeat):
        # alternate which one goes first, so neither always runs on a "cold" sample
        order = ((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta))
        for f, acc in order:
            t0 = clock()
            for _ in range(inner):
                f()
            acc.append((clock() - t0) / inner)
    return statistics.median(ta), statistics.median(tb)


def run(
    sizes: tuple[tuple[int, int], ...] | list[tuple[int, int]] = DEFAULT_SIZES,
    repeat: int = 25,
    losses: list[str] | None = None,
    threads: int | None = None,
    warmup: int = 5,
    seed: int = 0,
) -> list[dict]:
    """Time multiloss.torch vs torch.nn; one dict per (loss, size, mode) with keys ``loss``,
    ``size`` ("NxC"), ``mode`` ('forward' | 'forward+backward'), ``multiloss_s``,
    ``native_s`` (median seconds per call) and ``ratio`` (multiloss / native)."""
    import torch

    import multiloss.torch as mt

    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    results = []
    for name in losses or list(CASES):
        cls_name, make_target = CASES[name]
        ours, native = getattr(mt, cls_name)(), getattr(torch.nn, cls_name)()
        for n, c in sizes:
            x = torch.randn(n, c, requires_grad=True)
            y = make_target(torch, n, c)
            inner = _inner_for(n, c)

            def fwd(m):
                def f():
                    with torch.no_grad():
                        m(x, y)

                return f

            def fwd_bwd(m):
                def f():
                    m(x, y).backward()
                    x.grad = None

                return f

            # sanity: the two agree before we time them
            with torch.no_grad():
                a, b = ours(x, y), native(x, y)
            if not torch.allclose(a, b, rtol=1e-4, atol=1e-5):
                raise AssertionError(f"{name} {n}x{c}: multiloss {a.item()} != native {b.item()}")
            for mode, make in (("forward", fwd), ("forward+backward", fwd_bwd)):
                ta, tb = _time_pair(make(ours), make(native), repeat, inner, warmup)
                results.append({
                    "loss": name, "size": f"{n}x{c}", "mode": mode,
                    "multiloss_s": ta, "native_s": tb, "ratio": ta / tb,
                })
    return results


def format_table(results: list[dict]) -> str:
    lines = [f"{'loss':<20}{'size':>11}  {'mode':<18}{'multiloss':>12}{'native':>12}{'ratio':>8}"]
    for r in results:
        lines.append(
            f"{r['loss']:<20}{r['size']:>11}  {r['mode']:<18}"
            f"{r['multiloss_s'] * 1e6:>10.1f}us{r['native_s'] * 1e6:>10.1f}us{r['ratio']:>8.2f}"
        )
    return "\n".join(lines)


def _parse_size(s: str) -> tuple[int, int]:
    n, _, c = s.lower().partition("x")
    return int(n), int(c)


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", nargs="+", type=_parse_size, default=list(DEFAULT_SIZES))
    p.add_argument("--repeat", type=int, default=25)
    p.add_argument("--losses", nargs="+", choices=list(CASES), default=None)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = p.parse_args(argv)
    import torch

    results = run(args.sizes, args.repeat, args.losses, args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print(format_table(results))
    return results


if __name__ == "__main__":
    main()
