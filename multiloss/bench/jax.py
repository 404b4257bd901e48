"""jax spec for ``multiloss bench``: ``multiloss.jax.<name>`` vs ``optax.losses.<name>``.

Mode ``jit``: forward is ``jax.jit(lambda p, t: mean(loss(p, t)))``, forward+backward is
``jax.jit(jax.value_and_grad(...))`` of the same mean (both compiled during warm-up, outside
the timed region); every call ends in ``jax.block_until_ready``.

Memory: the compiled executable's ``memory_analysis()`` of the jitted ``value_and_grad``:
``temp_size_in_bytes + output_size_in_bytes`` (XLA's planned peak beyond the arguments).

Dtypes (``--dtype``): floating inputs are made in float32 and cast with
``jnp.asarray(x, dtype)``; integer labels keep their dtype. float64 needs jax's x64 mode
(``JAX_ENABLE_X64=1``): without it jax would silently compute in float32, so those points are
reported as skipped.
"""

from __future__ import annotations

from typing import Any

from .harness import CHECK_TOLERANCES, DEFAULT_DTYPE, DispatchRecord, LossSpec, Prepared, Size, SkipPoint, interleaved

NAME = "jax"
MODES = ("jit", "eager")

LOSSES: tuple[LossSpec, ...] = tuple(
    LossSpec(name, f"multiloss.jax.{name}", f"optax.losses.{name}", inputs, cls)
    for name, inputs, cls in (
        ("squared_error", "regression", False),
        ("huber_loss", "regression", False),
        ("sigmoid_binary_cross_entropy", "logits_binary", False),
        ("softmax_cross_entropy", "class_prob", True),
        ("softmax_cross_entropy_with_integer_labels", "class_index", True),
        ("safe_softmax_cross_entropy", "class_prob", True),
        ("poly_loss_cross_entropy", "class_prob", True),
        ("sigmoid_focal_loss", "logits_binary", False),
        ("kl_divergence", "log_probs_probs", False),
        ("generalized_kl_divergence", "log_probs_probs", False),
        ("log_cosh", "regression", False),
        ("cosine_similarity", "regression", False),
        ("hinge_loss", "hinge", False),
        ("perceptron_loss", "hinge", False),
        ("multiclass_hinge_loss", "class_index", True),
        ("multiclass_perceptron_loss", "class_index", True),
        ("sparsemax_loss", "logits_binary", False),
        ("multiclass_sparsemax_loss", "class_index", True),
        ("triplet_margin_loss", "triplets", False),
        ("ctc_loss", "ctc", False),
        ("ntxent", "contrastive", False),
        ("ranking_softmax_loss", "class_prob", False),
        ("dice_loss", "class_prob", True),
        ("binary_dice_loss", "logits_binary", False),
        ("multiclass_generalized_dice_loss", "class_prob", True),
    )
)


def available() -> tuple[bool, str]:
    try:
        import jax  # noqa: F401
        import optax  # noqa: F401

        import multiloss.jax  # noqa: F401
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def setup(threads: int | None = None) -> None:
    """One XLA CPU thread when ``threads == 1`` (``XLA_FLAGS``; effective only before jax
    initialises its CPU client, i.e. in a fresh process)."""
    if threads == 1:
        import os

        flags = os.environ.get("XLA_FLAGS", "")
        if "multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1").strip()


def versions() -> dict[str, str]:
    import jax
    import optax

    return {"jax": jax.__version__, "optax": optax.__version__, "jax_device": f"{jax.devices()[0]} ({jax.devices()[0].device_kind})"}


def _dtype(name: str) -> Any:
    import jax
    import jax.numpy as jnp

    dt = jnp.dtype(name)
    if not jnp.issubdtype(dt, jnp.floating):
        raise ValueError(f"bench.jax: dtype must name a floating dtype; got {name!r}")
    if jax.dtypes.canonicalize_dtype(dt) != dt:  # float64 without x64 (or a jax.enable_x64(False) scope)
        raise SkipPoint(f"jax {name} needs x64 mode (JAX_ENABLE_X64=1); without it jax computes in float32")
    return dt


def make_inputs(kind: str, size: Size, seed: int = 0, dtype: str = DEFAULT_DTYPE) -> tuple[Any, ...]:
    """``(prediction, target, *more)`` of ``kind``, from ``jax.random``: the loss's positional
    arrays (gradients w.r.t. the first); a kind of a loss of more arrays sets ``more``. Made in
    float32, then the floating ones are cast to ``dtype`` (``jnp.asarray(x, dtype)``)."""
    import jax
    import jax.numpy as jnp

    dt = _dtype(dtype)

    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    n, c = size.n, size.c
    x = jax.random.normal(k1, (n, c), dtype=jnp.float32)
    more: tuple = ()
    if kind == "regression":
        y = jax.random.normal(k2, (n, c), dtype=jnp.float32)
    elif kind == "logits_binary":
        y = jax.random.bernoulli(k2, 0.5, (n, c)).astype(jnp.float32)
    elif kind == "class_prob":
        y = jax.nn.softmax(jax.random.normal(k2, (n, c), dtype=jnp.float32), axis=-1)
    elif kind == "class_index":
        y = jax.random.randint(k2, (n,), 0, c, dtype=jnp.int32)
    elif kind == "log_probs_probs":
        x = jax.nn.log_softmax(x, axis=-1)
        y = jax.nn.softmax(jax.random.normal(k2, (n, c), dtype=jnp.float32), axis=-1)
    elif kind == "hinge":
        y = jnp.where(jax.random.bernoulli(k2, 0.5, (n, c)), 1.0, -1.0).astype(jnp.float32)
    elif kind == "triplets":  # (anchors, positives, negatives)
        k3 = jax.random.fold_in(k2, 1)
        y = x + 0.5 * jax.random.normal(k2, (n, c), dtype=jnp.float32)
        more = (x + jax.random.normal(k3, (n, c), dtype=jnp.float32),)
    elif kind == "contrastive":  # embeddings (n, c) and labels of 16 classes (ntxent)
        y = jax.random.randint(k2, (n,), 0, 16, dtype=jnp.int32)
    elif kind == "ctc":  # (logits (n, 50, 20), logit_paddings, labels (n, 30), label_paddings)
        t_len, n_cls, s_len = 50, 20, 30  # the torch docs' CTCLoss example (there N=16)
        x = jax.random.normal(k1, (n, t_len, n_cls), dtype=jnp.float32)
        y = jnp.zeros((n, t_len), dtype=jnp.float32)
        lengths = jax.random.randint(jax.random.fold_in(k2, 1), (n, 1), 10, s_len + 1)
        more = (jax.random.randint(k2, (n, s_len), 1, n_cls, dtype=jnp.int32),
                (jnp.arange(s_len)[None, :] >= lengths).astype(jnp.float32))
    else:  # pragma: no cover - a spec typo
        raise ValueError(f"bench.jax: unknown input kind {kind!r}")
    def cast(a):
        return jnp.asarray(a, dt) if jnp.issubdtype(a.dtype, jnp.floating) else a

    return tuple(jax.block_until_ready(cast(a)) for a in (x, y, *more))


def functions(spec: LossSpec) -> tuple[Any, Any]:
    import optax

    import multiloss.jax as mj

    return getattr(mj, spec.name), getattr(optax.losses, spec.name)


def prepare(spec: LossSpec, mode: str, size: Size, dtype: str = DEFAULT_DTYPE) -> Prepared:
    import jax
    import jax.numpy as jnp
    import numpy as np

    if mode not in MODES:
        raise ValueError(f"multiloss bench: jax modes are {MODES}; got {mode!r}")
    ours, native = functions(spec)
    args = make_inputs(spec.inputs, size, dtype=dtype)

    def mean_of(f):
        return lambda *a: jnp.mean(f(*a))

    # eager: op by op, as a user calls a loss outside jit (each op dispatched on its own)
    wrap = jax.jit if mode == "jit" else (lambda f: f)
    fwd = [wrap(mean_of(f)) for f in (ours, native)]
    fb = [wrap(jax.value_and_grad(mean_of(f))) for f in (ours, native)]

    def call(f):
        return lambda: jax.block_until_ready(f(*args))

    def check():
        va, vb = fwd[0](*args), fwd[1](*args)
        if va.dtype != vb.dtype:
            raise AssertionError(f"{spec.name} {size} {dtype}: multiloss returns {va.dtype}, optax {vb.dtype}")
        a, b = float(va), float(vb)
        rtol, atol = CHECK_TOLERANCES[dtype]
        if not np.isclose(a, b, rtol=rtol, atol=atol):
            raise AssertionError(f"{spec.name} {size} {dtype}: multiloss {a} != optax {b}")

    kind = "XLA memory_analysis temp+output" if mode == "jit" else "n/a (eager)"

    def memory():
        out = []
        for f in fb:
            m = f.lower(*args).compile().memory_analysis()
            if m is None:
                return None
            out.append(int(m.temp_size_in_bytes + m.output_size_in_bytes))
        return out[0], out[1], kind

    return Prepared((call(fwd[0]), call(fwd[1])), (call(fb[0]), call(fb[1])), check,
                    memory if mode == "jit" else None, kind, input_bytes=int(args[0].nbytes),
                    dtype=str(args[0].dtype))


def dispatch(spec: LossSpec, size: Size = Size(4, 3), budget_s: float = 0.3,
             dtype: str = DEFAULT_DTYPE) -> DispatchRecord:
    """Per-call cost of the *eager* (un-jitted) ``multiloss.jax`` vs ``optax`` call on tiny
    arrays (under ``jit`` neither runs Python per call), and of the bare ``array_namespace``.
    Eager jax dispatches every primitive op separately (several us each), so this difference
    also counts any op multiloss runs that optax does not."""
    import jax

    from .._namespace import array_namespace

    ours, native = functions(spec)
    args = make_inputs(spec.inputs, size, dtype=dtype)
    t = interleaved(lambda: jax.block_until_ready(ours(*args)), lambda: jax.block_until_ready(native(*args)),
                    repeat=15, warmup=20, min_sample_s=0.01, budget_s=budget_s)
    ns = interleaved(lambda: array_namespace(*args[:2]), lambda: None, repeat=7, warmup=50, min_sample_s=0.005)
    return DispatchRecord(NAME, spec.name, str(size), t.a_s * 1e6, t.b_s * 1e6, (ns.a_s - ns.b_s) * 1e6, dtype)
