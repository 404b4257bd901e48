"""The memory-lean cross-entropy (``multiloss/backends/torch_lean_ce.py``) against torch's
``F.cross_entropy``: forward+backward time and peak memory above the input. Not a test.

Usage::

    python benchmarks/bench_lean_ce.py                       # CPU: 4096x32000 float32
    python benchmarks/bench_lean_ce.py --sizes 1024x32000,4096x32000 --dtype bfloat16
    python benchmarks/bench_lean_ce.py --device cuda --sizes 16384x128256 --dtype bfloat16 \\
        --bandwidth 3350     # an LLM batch (4.0 GB of bf16 logits) on an H100 SXM (GB/s)

For each size it prints, for torch and for the lean path: the median forward+backward time
(``loss.backward()`` into a leaf's ``.grad``, which is set to None before each run), the time
ratio lean/torch, and the peak memory above the input as a multiple of the logits' bytes.
Runs are interleaved (torch, lean, torch, lean, ...) after warm-up runs (which also compile the
lean chunk body on CUDA).

* Peak memory on CPU: the CPU allocator's running total recorded by ``torch.profiler``
  (``profile_memory=True``: every allocation event carries the bytes allocated at that moment);
  peak minus the total before the call. On CUDA: ``torch.cuda.max_memory_allocated()`` after
  ``reset_peak_memory_stats()``, minus ``memory_allocated()`` before the call. Both include the
  gradient left in ``.grad`` (1x), as a training step would.
* Time on CUDA: CUDA events around each forward+backward; on CPU ``time.perf_counter``.
* ``--bandwidth GB/s`` (CUDA): also prints the HBM floor of a fused cross-entropy, reading the
  logits twice and writing the gradient once (3x the logits' bytes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from multiloss.backends.torch_lean_ce import lean_cross_entropy

DTYPES = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16, "float16": torch.float16}


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        n, c = part.lower().split("x")
        out.append((int(n), int(c)))
    return out


def _cpu_peak(fn) -> int:
    """Peak bytes allocated by the CPU allocator during ``fn()`` above the bytes before it."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    allocs = []
    stack = list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        e = stack.pop()
        stack.extend(e.children)
        if e.tag == _EventType.Allocation and e.extra_fields.device.type == "cpu":
            allocs.append((e.start_time_ns, e.extra_fields.alloc_size, e.extra_fields.total_allocated))
    if not allocs:
        return 0
    allocs.sort()
    base = allocs[0][2] - allocs[0][1]
    return max(a[2] for a in allocs) - base


def _cuda_peak(fn) -> int:
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - before


def _timed(fn, cuda: bool) -> float:
    """Seconds of one ``fn()``."""
    if cuda:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(n: int, c: int, dtype: torch.dtype, device: str, reps: int, warmup: int, reduction: str,
          label_smoothing: float, ignore_fraction: float, weighted: bool, bandwidth: float | None) -> dict:
    gen = torch.Generator(device=device).manual_seed(0)  # on the device: 2e9 logits are slow on a CPU
    x = torch.randn(n, c, generator=gen, device=device, dtype=dtype).requires_grad_()
    t = torch.randint(0, c, (n,), generator=gen, device=device)
    if ignore_fraction > 0:
        t[torch.rand(n, generator=gen, device=device) < ignore_fraction] = -100
    w = (torch.rand(c, generator=gen, device=device) + 0.5).to(dtype) if weighted else None
    kw = {"weight": w, "reduction": reduction, "label_smoothing": label_smoothing}
    cuda = x.device.type == "cuda"

    def step(loss_fn):
        def run():
            x.grad = None
            loss = loss_fn(x, t, **kw)
            (loss.sum() if reduction == "none" else loss).backward()
        return run

    impls = {"torch": step(F.cross_entropy), "lean": step(lean_cross_entropy)}
    for _ in range(warmup):
        for fn in impls.values():
            fn()
    logits = x.numel() * x.element_size()
    rec: dict = {"size": f"{n}x{c}", "dtype": str(dtype).replace("torch.", ""), "device": _device_name(x),
                 "logits_MB": round(logits / 2**20, 1)}
    for name, fn in impls.items():
        x.grad = None
        peak = (_cuda_peak if cuda else _cpu_peak)(fn)
        rec[f"{name}_peak_x_logits"] = round(peak / logits, 3)
    times: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(reps):
        for name, fn in impls.items():
            times[name].append(_timed(fn, cuda))
    for name in impls:
        rec[f"{name}_ms"] = round(statistics.median(times[name]) * 1e3, 3)
    rec["time_ratio"] = round(rec["lean_ms"] / rec["torch_ms"], 3)
    if cuda and bandwidth:
        rec["hbm_floor_ms"] = round(3 * logits / (bandwidth * 1e9) * 1e3, 3)
    return rec


def _device_name(x: torch.Tensor) -> str:
    if x.device.type == "cuda":
        return torch.cuda.get_device_name(x.device)
    return f"cpu ({torch.get_num_threads()} threads)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default=None, help="NxC[,NxC...] (default: 4096x32000 on CPU, 16384x128256 on CUDA)")
    p.add_argument("--dtype", default=None, choices=sorted(DTYPES),
                   help="default float32 on CPU, bfloat16 on CUDA")
    p.add_argument("--device", default="auto", help="auto (cuda when present), cpu or cuda")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reduction", default="mean", choices=("mean", "sum", "none"))
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--ignore-fraction", type=float, default=0.0, help="share of targets set to ignore_index")
    p.add_argument("--weight", action="store_true", help="random class weights")
    p.add_argument("--bandwidth", type=float, default=None, help="GPU memory bandwidth in GB/s (prints the floor)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (CPU)")
    p.add_argument("--json", action="store_true", help="one JSON record per line")
    a = p.parse_args(argv)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if a.device == "auto" else a.device
    cuda = device.startswith("cuda")
    sizes = _parse_sizes(a.sizes or ("16384x128256" if cuda else "4096x32000"))
    dtype = DTYPES[a.dtype or ("bfloat16" if cuda else "float32")]
    if a.threads:
        torch.set_num_threads(a.threads)
    for n, c in sizes:
        rec = bench(n, c, dtype, device, a.reps, a.warmup, a.reduction, a.label_smoothing, a.ignore_fraction,
                    a.weight, a.bandwidth)
        if a.json:
            print(json.dumps(rec))
            continue
        floor = f", HBM floor {rec['hbm_floor_ms']} ms" if "hbm_floor_ms" in rec else ""
        print(f"{rec['size']} {rec['dtype']} on {rec['device']} ({rec['logits_MB']} MB of logits), "
              f"reduction={a.reduction}, label_smoothing={a.label_smoothing}{floor}")
        print(f"  torch F.cross_entropy: {rec['torch_ms']:9.3f} ms   peak above input {rec['torch_peak_x_logits']:.3f}x logits")
        print(f"  lean_cross_entropy:    {rec['lean_ms']:9.3f} ms   peak above input {rec['lean_peak_x_logits']:.3f}x logits")
        print(f"  time ratio lean/torch: {rec['time_ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
