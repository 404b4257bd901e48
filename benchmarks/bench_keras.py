"""multiloss vs the native built-ins on tensorflow (tf.function): a thin script over :mod:`multiloss.bench`.

Not a test: it prints figures. The harness (interleaved A/B timing, median after warm-up,
size grid, memory, dispatch overhead) is the one behind ``multiloss bench``; the pairs
timed are listed in ``multiloss/bench/tensorflow.py``. Any option of ``multiloss bench`` works:

    python benchmarks/bench_keras.py --quick
    python benchmarks/bench_keras.py --sizes 4096x1000,64x10 --repeat 25 --threads 1 --json out.json

``run(**kw)`` returns the records as dicts (see :func:`multiloss.bench.run`).
"""

from __future__ import annotations

import sys

from multiloss import bench, cli

BACKEND = "tensorflow"


def run(**kw) -> list[dict]:
    """:func:`multiloss.bench.run` on tensorflow; one dict per (mode, loss, size)."""
    return [r.as_dict() for r in bench.run(BACKEND, **kw)]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return cli.main(["bench", "--backend", BACKEND, *argv])


if __name__ == "__main__":
    sys.exit(main())
