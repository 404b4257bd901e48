"""multiloss.keras vs keras's own losses under ``tf.function``: forward and forward+backward.

Not a test. For MSE, BCE(from_logits=True) and SparseCategoricalCrossentropy(from_logits=True)
at 4096x1000 and 64x10 (float32, CPU), both losses are wrapped in the same ``tf.function``
(forward: the reduced loss; forward+backward: the loss and its gradient w.r.t. ``y_pred``
through ``tf.GradientTape``), warmed up, then timed interleaved A/B/A/B so drifts of the
machine hit both; the figure is the median per call and the ratio ours/keras is computed in
the same run.

    python benchmarks/bench_keras.py [--repeat 30] [--small-only] [--jit]

``run(sizes=..., repeat=...) -> list[dict]`` is the programmatic entry point.
Targets (DESIGN.md): forward+backward <= 1.10x keras at 4096x1000, <= 1.5x at 64x10.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LOSSES = (
    ("MeanSquaredError", {}, "regression"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse"),
)
SIZES = ((4096, 1000), (64, 10))


def _inputs(kind, n, c, seed=0):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    pred = tf.constant(rng.normal(size=(n, c)).astype("float32"))
    if kind == "regression":
        true = tf.constant(rng.normal(size=(n, c)).astype("float32"))
    elif kind == "binary":
        true = tf.constant(rng.integers(0, 2, size=(n, c)).astype("float32"))
    else:
        true = tf.constant(rng.integers(0, c, size=(n,)).astype("int64"))
    return true, pred


def _compiled(loss, jit: bool):
    import tensorflow as tf

    @tf.function(jit_compile=jit)
    def forward(y_true, y_pred):
        return loss(y_true, y_pred)

    @tf.function(jit_compile=jit)
    def forward_backward(y_true, y_pred):
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            v = loss(y_true, y_pred)
        return v, tape.gradient(v, y_pred)

    return forward, forward_backward


def _time_once(f, args, inner):
    t0 = time.perf_counter()
    for _ in range(inner):
        out = f(*args)
    # block on the result (eager tensors are ready once .numpy() returns)
    (out[0] if isinstance(out, tuple) else out).numpy()
    return (time.perf_counter() - t0) / inner


def run(sizes=SIZES, repeat: int = 30, warmup: int = 5, jit: bool = False, losses=LOSSES) -> list[dict]:
    """Median seconds per call of multiloss and keras for each (loss, size, mode), and the ratio."""
    import keras

    import multiloss.keras as mk

    rows = []
    for name, kw, kind in losses:
        for n, c in sizes:
            args = _inputs(kind, n, c)
            ours_f, ours_fb = _compiled(getattr(mk, name)(**kw), jit)
            nat_f, nat_fb = _compiled(getattr(keras.losses, name)(**kw), jit)
            inner = 1 if n * c >= 100_000 else 50
            for mode, a, b in (("forward", ours_f, nat_f), ("forward+backward", ours_fb, nat_fb)):
                for _ in range(warmup):
                    _time_once(a, args, inner)
                    _time_once(b, args, inner)
                ta, tb = [], []
                for _ in range(repeat):  # interleaved A/B
                    ta.append(_time_once(a, args, inner))
                    tb.append(_time_once(b, args, inner))
                ma, mb = statistics.median(ta), statistics.median(tb)
                rows.append({
                    "loss": name, "options": kw, "size": f"{n}x{c}", "mode": mode, "jit": jit,
                    "multiloss_s": ma, "keras_s": mb, "ratio": ma / mb,
                })
    return rows


def _fmt(rows):
    lines = [f"{'loss':32s} {'size':>9s} {'mode':>17s} {'multiloss':>11s} {'keras':>11s} {'ratio':>6s}"]
    for r in rows:
        lines.append(
            f"{r['loss']:32s} {r['size']:>9s} {r['mode']:>17s} {r['multiloss_s'] * 1e6:9.1f}us "
            f"{r['keras_s'] * 1e6:9.1f}us {r['ratio']:6.2f}"
        )
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--small-only", action="store_true")
    ap.add_argument("--jit", action="store_true", help="tf.function(jit_compile=True) (XLA)")
    a = ap.parse_args(argv)
    sizes = ((64, 10),) if a.small_only else SIZES
    rows = run(sizes=sizes, repeat=a.repeat, jit=a.jit)
    print(_fmt(rows))
    return rows


if __name__ == "__main__":
    main()
