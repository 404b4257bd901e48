"""multiloss.jax vs optax under ``jax.jit``: forward and forward+backward time, as ratios.

Not a test: timings depend on the machine. Each (loss, size) pair compiles both functions,
warms them up, then times them *interleaved* (A, B, B, A, ...) so drifts in machine load hit
both sides alike, with ``block_until_ready`` after every call; the figure is the median.

Run: ``python benchmarks/bench_jax.py [--repeat 50] [--sizes 4096x1000,64x10]``.
``run(sizes=..., repeat=...) -> list[dict]`` is the entry point for ``multiloss bench``.

Targets (DESIGN.md): forward+backward within 1.10x of optax at 4096x1000, 1.5x at 64x10.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable, Iterable

__all__ = ["run", "LOSSES", "main"]

LOSSES = ("squared_error", "sigmoid_binary_cross_entropy", "softmax_cross_entropy_with_integer_labels")


def _inputs(name: str, n: int, c: int, dtype: Any):
    import jax
    import jax.numpy as jnp

    k1, k2 = jax.random.split(jax.random.PRNGKey(0))
    x = jax.random.normal(k1, (n, c), dtype=dtype)
    if name == "squared_error":
        return x, jax.random.normal(k2, (n, c), dtype=dtype)
    if name == "sigmoid_binary_cross_entropy":
        return x, jax.random.bernoulli(k2, 0.5, (n, c)).astype(dtype)
    return x, jax.random.randint(k2, (n,), 0, c, dtype=jnp.int32)


def _time_pair(fa: Callable, fb: Callable, args: tuple, repeat: int, warmup: int = 3) -> tuple[float, float]:
    import jax

    for _ in range(warmup):
        jax.block_until_ready(fa(*args))
        jax.block_until_ready(fb(*args))
    ta, tb = [], []
    for i in range(repeat):
        order = ((fa, ta), (fb, tb)) if i % 2 == 0 else ((fb, tb), (fa, ta))
        for f, acc in order:
            t0 = time.perf_counter()
            jax.block_until_ready(f(*args))
            acc.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def run(
    sizes: Iterable[tuple[int, int]] = ((4096, 1000), (64, 10)),
    repeat: int = 50,
    losses: Iterable[str] = LOSSES,
    dtype: str = "float32",
) -> list[dict]:
    """Time ``multiloss.jax.<loss>`` against ``optax.losses.<loss>``, jitted, per size.

    Returns one dict per (loss, size, mode) with the keys of the torch/keras benchmarks:
    ``loss``, ``size`` ("NxC"), ``mode`` ('forward' | 'forward+backward', the latter a jitted
    ``value_and_grad`` of the mean), ``multiloss_s``, ``native_s`` (median seconds per call),
    ``ratio`` (multiloss / optax), plus ``device``."""
    import jax
    import jax.numpy as jnp
    import optax

    import multiloss.jax as mj

    dt = getattr(jnp, dtype)
    rows = []
    for name in losses:
        ours, native = getattr(mj, name), getattr(optax.losses, name)
        for n, c in sizes:
            args = _inputs(name, n, c, dt)
            pairs = {
                "forward": (jax.jit(ours), jax.jit(native)),
                "forward+backward": tuple(
                    jax.jit(jax.value_and_grad(lambda x, y, f=f: jnp.mean(f(x, y)))) for f in (ours, native)
                ),
            }
            for mode, (fa, fb) in pairs.items():
                ta, tb = _time_pair(fa, fb, args, repeat)
                rows.append(dict(loss=name, size=f"{n}x{c}", mode=mode, multiloss_s=ta, native_s=tb,
                                 ratio=ta / tb, device=str(jax.devices()[0])))
    return rows


def _format(rows: list[dict]) -> str:
    lines = [f"{'loss':42s} {'size':>9s} {'mode':>17s} {'multiloss':>11s} {'optax':>11s} {'ratio':>6s}"]
    for r in rows:
        lines.append(
            f"{r['loss']:42s} {r['size']:>9s} {r['mode']:>17s} {r['multiloss_s'] * 1e6:9.1f}us "
            f"{r['native_s'] * 1e6:9.1f}us {r['ratio']:6.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--sizes", default="4096x1000,64x10")
    ap.add_argument("--losses", default=",".join(LOSSES))
    ap.add_argument("--dtype", default="float32")
    a = ap.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.sizes.split(",")]
    rows = run(sizes=sizes, repeat=a.repeat, losses=a.losses.split(","), dtype=a.dtype)
    print(_format(rows))


if __name__ == "__main__":
    main()
