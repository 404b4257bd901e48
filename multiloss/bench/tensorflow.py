"""TensorFlow spec for ``multiloss bench``: ``multiloss.keras.X`` vs ``keras.losses.X`` on TF
tensors (keras on its TensorFlow backend), both under ``tf.function``.

Mode ``tf.function``: forward is the reduced loss, forward+backward the loss and its gradient
w.r.t. ``y_pred`` through ``tf.GradientTape``, traced during warm-up (outside the timed
region); every call ends by reading the result (``.numpy()``).

Memory: TensorFlow exposes allocator statistics (``tf.config.experimental.get_memory_info``,
with ``reset_memory_stats``) for GPU devices only; on CPU the figure is ``n/a``.

Dtypes (``--dtype``): floating inputs are made in float32 and cast with ``tf.cast``; integer
labels keep their dtype. Both losses are built with their default ``dtype`` (keras's floatx,
float32), as a user's are: keras converts the inputs to it, and multiloss follows the same
policy, so both compute in the loss dtype.
"""

from __future__ import annotations

import os
from typing import Any

from .harness import CHECK_TOLERANCES, DEFAULT_DTYPE, DispatchRecord, LossSpec, Prepared, Size, interleaved

NAME = "tensorflow"
MODES = ("tf.function", "eager")

_LOGITS = {"from_logits": True}
LOSSES: tuple[LossSpec, ...] = tuple(
    LossSpec(name, f"multiloss.keras.{name}", f"keras.losses.{name}", inputs, cls, kw)
    for name, inputs, cls, kw in (
        ("MeanSquaredError", "regression", False, {}),
        ("MeanAbsoluteError", "regression", False, {}),
        ("Huber", "regression", False, {}),
        ("MeanSquaredLogarithmicError", "regression", False, {}),
        ("LogCosh", "regression", False, {}),
        ("BinaryCrossentropy", "logits_binary", False, _LOGITS),
        ("CategoricalCrossentropy", "class_prob", True, _LOGITS),
        ("SparseCategoricalCrossentropy", "class_index", True, _LOGITS),
        ("BinaryFocalCrossentropy", "logits_binary", False, _LOGITS),
        ("CategoricalFocalCrossentropy", "class_prob", True, _LOGITS),
        ("CategoricalGeneralizedCrossEntropy", "probs_index", True, {}),
        ("KLDivergence", "probs_probs", False, {}),
        ("CosineSimilarity", "regression", False, {}),
        ("Hinge", "hinge", False, {}),
        ("SquaredHinge", "hinge", False, {}),
        ("CategoricalHinge", "class_prob", True, {}),
        ("CTC", "ctc", False, {}),
        ("Circle", "contrastive", False, {}),
        ("Dice", "probs_probs", False, {"axis": (1,)}),
        ("Tversky", "probs_probs", False, {"alpha": 0.3, "beta": 0.7, "axis": (1,)}),
    )
)


def available() -> tuple[bool, str]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .._quiet import quiet_import

    try:
        with quiet_import():  # TensorFlow's C++ startup INFO lines
            import keras

            import tensorflow  # noqa: F401

            import multiloss.keras  # noqa: F401
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if keras.backend.backend() != "tensorflow":
        return False, f"keras backend is {keras.backend.backend()!r}, not 'tensorflow'"
    return True, ""


def setup(threads: int | None = None) -> None:
    """TF intra-/inter-op threads (effective only before TF's runtime starts)."""
    if threads:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this process
            pass


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "tf_device": "GPU:0" if gpus else "CPU:0"}


def make_inputs(kind: str, size: Size, seed: int = 0, dtype: str = DEFAULT_DTYPE) -> tuple[Any, Any]:
    """``(y_pred, y_true)`` of ``kind``, from ``tf.random``: made in float32, then the floating
    ones are cast to ``dtype`` (``tf.cast``); integer labels are kept."""
    import tensorflow as tf

    dt = tf.as_dtype(dtype)
    if not dt.is_floating:
        raise ValueError(f"bench.tensorflow: dtype must name a floating dtype; got {dtype!r}")

    g = tf.random.Generator.from_seed(seed)
    n, c = size.n, size.c
    x = g.normal((n, c))
    if kind == "regression":
        y = g.normal((n, c))
    elif kind == "logits_binary":
        y = tf.cast(g.uniform((n, c)) < 0.5, tf.float32)
    elif kind == "class_prob":
        y = tf.nn.softmax(g.normal((n, c)), axis=-1)
    elif kind == "class_index":
        y = g.uniform((n,), 0, c, dtype=tf.int64)
    elif kind == "probs_index":  # probabilities and class indices (CategoricalGeneralizedCrossEntropy)
        x = tf.nn.softmax(x, axis=-1)
        y = g.uniform((n,), 0, c, dtype=tf.int64)
    elif kind == "probs_probs":
        x = tf.nn.softmax(x, axis=-1)
        y = tf.nn.softmax(g.normal((n, c)), axis=-1)
    elif kind == "hinge":
        y = tf.where(g.uniform((n, c)) < 0.5, 1.0, -1.0)
    elif kind == "contrastive":  # unit-norm embeddings (n, c) and labels of 16 classes (Circle)
        x = tf.math.l2_normalize(x, axis=-1)
        y = g.uniform((n,), 0, 16, dtype=tf.int64)
    elif kind == "ctc":  # logits (n, 50, 20), labels (n, 30) right-padded with 0 (the blank)
        t_len, n_cls, s_len = 50, 20, 30  # the torch docs' CTCLoss example (there N=16)
        x = g.normal((n, t_len, n_cls))
        labels = g.uniform((n, s_len), 1, n_cls, dtype=tf.int64)
        lengths = g.uniform((n, 1), 10, s_len + 1, dtype=tf.int64)
        y = tf.where(tf.range(s_len, dtype=tf.int64)[None, :] < lengths, labels, 0)
    else:  # pragma: no cover - a spec typo
        raise ValueError(f"bench.tensorflow: unknown input kind {kind!r}")

    def cast(a):
        return tf.cast(a, dt) if a.dtype.is_floating else a

    return cast(x), cast(y)


def losses(spec: LossSpec) -> tuple[Any, Any]:
    import keras

    import multiloss.keras as mk

    return getattr(mk, spec.name)(**spec.kwargs), getattr(keras.losses, spec.name)(**spec.kwargs)


def prepare(spec: LossSpec, mode: str, size: Size, dtype: str = DEFAULT_DTYPE) -> Prepared:
    import numpy as np
    import tensorflow as tf

    if mode not in MODES:
        raise ValueError(f"multiloss bench: tensorflow modes are {MODES}; got {mode!r}")
    ours, native = losses(spec)
    x, y = make_inputs(spec.inputs, size, dtype=dtype)

    # eager: a keras loss called op by op, as in a custom training loop without tf.function
    graph = tf.function if mode == "tf.function" else (lambda f: f)

    def fwd(loss):
        f = graph(lambda y_true, y_pred: loss(y_true, y_pred))
        return lambda: f(y, x).numpy()

    def fb(loss):
        @graph
        def f(y_true, y_pred):
            with tf.GradientTape() as tape:
                tape.watch(y_pred)
                v = loss(y_true, y_pred)
            return v, tape.gradient(v, y_pred)

        def run():
            v, g = f(y, x)
            g.numpy()

        return run

    def check():
        va, vb = ours(y, x), native(y, x)
        if va.dtype != vb.dtype:
            raise AssertionError(f"{spec.name} {size} {dtype}: multiloss returns {va.dtype.name}, "
                                 f"keras {vb.dtype.name}")
        a, b = float(va), float(vb)
        rtol, atol = CHECK_TOLERANCES[dtype]
        if not np.isclose(a, b, rtol=rtol, atol=atol):
            raise AssertionError(f"{spec.name} {size} {dtype}: multiloss {a} != keras {b}")

    memory, kind = None, "n/a (TF reports memory on GPU only)"
    if tf.config.list_physical_devices("GPU"):
        kind = "GPU peak (get_memory_info)"
        runs = (fb(ours), fb(native))

        def memory():
            out = []
            for r in runs:
                r()  # traced before measuring
                tf.config.experimental.reset_memory_stats("GPU:0")
                base = tf.config.experimental.get_memory_info("GPU:0")["current"]
                r()
                out.append(tf.config.experimental.get_memory_info("GPU:0")["peak"] - base)
            return out[0], out[1], kind

    return Prepared((fwd(ours), fwd(native)), (fb(ours), fb(native)), check, memory, kind,
                    input_bytes=int(x.shape.num_elements() or 0) * x.dtype.size or None, dtype=x.dtype.name)


def dispatch(spec: LossSpec, size: Size = Size(4, 3), budget_s: float = 0.3,
             dtype: str = DEFAULT_DTYPE) -> DispatchRecord:
    """Per-call cost of eager ``multiloss.keras.X()(y_true, y_pred)`` vs ``keras.losses.X()``
    on tiny TF tensors, and of the bare ``array_namespace``. Eager TF dispatches each op
    separately, so the difference also counts ops the two run differently."""
    from .._namespace import array_namespace

    ours, native = losses(spec)
    x, y = make_inputs(spec.inputs, size, dtype=dtype)
    t = interleaved(lambda: ours(y, x).numpy(), lambda: native(y, x).numpy(), repeat=15, warmup=20,
                    min_sample_s=0.01, budget_s=budget_s)
    ns = interleaved(lambda: array_namespace(x, y), lambda: None, repeat=7, warmup=50, min_sample_s=0.005)
    return DispatchRecord(NAME, spec.name, str(size), t.a_s * 1e6, t.b_s * 1e6, (ns.a_s - ns.b_s) * 1e6, dtype)
