"""Inputs and evaluation helpers for ``tests/test_properties.py`` (the hypothesis suite).

Inputs are never invented here: every example starts from a conformance input domain
(:mod:`multiloss.conformance.domains`, and the domains declared beside the references), drawn
with a generated seed, and is then reshaped along its *batch axis*: a generated list of row
indices (0 rows, fewer, more, repeated, permuted). Elementwise cases (the float64 reference's
``reduction="none"`` output has the prediction's shape) are also tried flattened, as 0-d
scalars, with a leading unit axis and with a broadcast target; NumPy and torch arrays also
come as Fortran-ordered and strided (non-contiguous) views.

No framework is imported at import time; :func:`to_backend` and :func:`evaluate` import the
one they need.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

import multiloss
from multiloss.conformance import domains
from multiloss.conformance.backends import BACKENDS as CONFORMANCE_BACKENDS
from multiloss.conformance.runner import compare as _runner_compare

__all__ = ["Example", "batch_axes", "batch_size", "resample", "complete_rows", "is_batched_option", "to_backend", "evaluate", "evaluate_variants", "evaluate_pair",
           "round_trip", "compare", "dtype_name", "elementwise", "broadcasts", "signature_of", "dtypes_on", "reference_takes_empty", "reshape_elementwise", "LAYOUTS", "SHAPES"]

# The batch axis of each array of a domain, (pred, target, *args), where it is not axis 0 of
# every array whose leading length is the prediction's (the inferred default, see
# :func:`batch_axes`): CTC's log-probabilities are time-major (T, N, C).
_BATCH_AXES: dict[str, tuple[int | None, ...]] = {
    "ctc": (1, 0, 0, 0),
}

# Array options that carry one entry per element or row (sliced with the batch); others
# (class weights, reference embeddings, biases) are per class or fixed and kept whole.
_ROW_OPTIONS = ("weight", "where", "pos_weight")

LAYOUTS = ("C", "F", "strided")  # NumPy / array_api_strict / torch memory layouts
SHAPES = ("batch", "flat", "0-d", "lead1", "broadcast")  # elementwise cases only (beyond "batch")


def batch_axes(domain: str, data: Mapping[str, Any]) -> tuple[int | None, ...]:
    """Batch axis of ``(pred, target, *args)`` of ``data`` from domain ``domain``: the table
    above, else axis 0 for every array whose leading length equals the prediction's (nested
    tuples -- the adaptive softmax's tail weights -- and plain numbers are never batched)."""
    base = domain.partition("+")[0]
    if base in _BATCH_AXES:
        return _BATCH_AXES[base]
    n = data["pred"].shape[0]
    arrays = [data["target"], *data.get("args", ())]
    return (0, *(0 if isinstance(a, np.ndarray) and a.ndim >= 1 and a.shape[0] == n else None for a in arrays))


def batch_size(domain: str, data: Mapping[str, Any]) -> int:
    return data["pred"].shape[batch_axes(domain, data)[0]]


def is_batched_option(name: str, value: Any, pred_shape: tuple[int, ...]) -> bool:
    """An array option sliced with the batch: an elementwise weight or mask (the prediction's
    shape) or a per-row one (its shape less the last axis: optax's row ``where``), never a
    per-class vector or reference set."""
    return (isinstance(value, np.ndarray) and name in _ROW_OPTIONS and len(pred_shape) >= 1
            and value.shape in (tuple(pred_shape), tuple(pred_shape[:-1])) and value.ndim >= 1)


def resample(domain: str, data: Mapping[str, Any], kwargs: Mapping[str, Any], idx) -> tuple[dict, dict]:
    """``data`` and ``kwargs`` with rows ``idx`` (a list of indices into the batch) taken along
    each batch axis; ``sample_weight`` (keras domains ``+sw``) too."""
    axes = batch_axes(domain, data)
    idx = np.asarray(idx, dtype=np.int64)
    take = lambda a, ax: a if ax is None else np.take(a, idx, axis=ax)
    out = dict(data)
    out["pred"] = take(data["pred"], axes[0])
    out["target"] = take(data["target"], axes[1])
    if "args" in data:
        out["args"] = tuple(take(a, ax) if isinstance(a, np.ndarray) else a for a, ax in zip(data["args"], axes[2:]))
    if "sample_weight" in data:
        out["sample_weight"] = np.take(data["sample_weight"], idx, axis=0)
    pred_shape = data["pred"].shape
    kw = {k: (np.take(v, idx, axis=axes[0]) if is_batched_option(k, v, pred_shape) else v) for k, v in kwargs.items()}
    return out, kw


def complete_rows(case, data: Mapping[str, Any], idx: list) -> list:
    """``idx`` completed to a batch ``case``'s loss accepts: NT-Xent needs two classes in a
    non-empty batch (one class has no negatives; it raises a clear ValueError then), so a row
    of another class is added."""
    if case.loss == "ntxent" and idx:
        labels = data["target"]
        if len({int(labels[i]) for i in idx}) < 2:
            other = [i for i in range(labels.shape[0]) if labels[i] != labels[idx[0]]]
            return [*idx, other[0]]
    return idx


# ----------------------------------------------------------------------------- arrays


def _fields(out: Any) -> Any:
    """A tuple result (the adaptive softmax's ``(output, loss)``) as one 1-D array of the
    backend, its fields raveled and concatenated in their dtype; any other result unchanged."""
    if not isinstance(out, tuple):
        return out
    from multiloss import array_namespace

    xp = array_namespace(*out)
    return xp.concat([xp.reshape(xp.asarray(o), (-1,)) for o in out], axis=0)


def compare(got: Any, want: Any, rtol: float, atol: float) -> tuple[bool, float, float]:
    """:func:`multiloss.conformance.runner.compare`, except that NaN matches NaN (the mean of
    nothing is NaN on both sides, as in torch)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape == want.shape:
        both = np.isnan(got) & np.isnan(want)
        got, want = np.where(both, 0.0, got), np.where(both, 0.0, want)
    return _runner_compare(got, want, rtol, atol)


def to_backend(backend: str, x: Any, dtype: str, layout: str = "C") -> Any:
    """NumPy ``x`` as an array of ``backend``: floating arrays in ``dtype``, integer arrays
    int64, booleans kept; other values (numbers, tuples of arrays) converted leaf by leaf.
    ``layout`` "F" (column-major) or "strided" (every other element of a twice-as-large
    buffer: a non-contiguous view) for NumPy, array_api_strict and torch."""
    if isinstance(x, (tuple, list)):
        return type(x)(to_backend(backend, v, dtype, layout) for v in x)
    if not isinstance(x, np.ndarray):
        return x
    if np.issubdtype(x.dtype, np.integer):
        target = "int64"
    elif x.dtype == np.bool_:
        target = "bool"
    else:
        target = dtype
    if backend == "numpy":
        return _layout(np.asarray(x, dtype=target), layout)
    if backend == "array_api_strict":
        import array_api_strict as xps

        # array_api_strict wraps the NumPy array it is given (no copy): the layout is kept
        return xps.asarray(_layout(np.asarray(x, dtype=target), layout))
    if backend == "torch":
        import torch

        a = np.array(x, order="F" if layout == "F" else "C")  # a copy (0-d stays 0-d)
        t = torch.from_numpy(a).to(getattr(torch, target))  # .to keeps a dense layout's strides
        if layout == "strided" and t.ndim >= 1:
            t = torch.repeat_interleave(t, 2, dim=-1)[..., ::2]
        return t
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.asarray(x, dtype=getattr(jnp, target))
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.constant(np.asarray(x), dtype=getattr(tf, target))
    raise ValueError(f"to_backend: unknown backend {backend!r}")


def _layout(a: np.ndarray, layout: str) -> np.ndarray:
    if layout == "F" and a.ndim >= 2:
        return np.asfortranarray(a)
    if layout == "strided" and a.ndim >= 1:
        return np.repeat(a, 2, axis=-1)[..., ::2]
    return a


def round_trip(backend: str, x: Any, dtype: str) -> Any:
    """The float64 values ``backend`` computes on after casting ``x`` to ``dtype`` (integer and
    boolean arrays unchanged): the reference's input."""
    if isinstance(x, (tuple, list)):
        return type(x)(round_trip(backend, v, dtype) for v in x)
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        return x
    if dtype not in CONFORMANCE_BACKENDS[backend].dtypes:
        return x
    return np.asarray(_np64(to_backend(backend, x, dtype)), dtype=np.float64).reshape(x.shape)


def _np64(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x.astype(np.float64)
    mod = type(x).__module__
    if mod.startswith("torch"):
        import torch

        return x.detach().to(torch.float64).cpu().numpy()
    if mod.startswith("array_api_strict"):
        return np.asarray(np.from_dlpack(x), dtype=np.float64)
    if mod.startswith(("tensorflow", "keras")):
        import tensorflow as tf

        return tf.cast(x, tf.float64).numpy()
    return np.asarray(x).astype(np.float64)  # jax, numpy scalars


def dtype_name(x: Any) -> str:
    """``x``'s dtype as a NumPy-style name ('float32', 'bfloat16', 'int64') on any backend."""
    dt = getattr(x, "dtype", None)
    name = getattr(dt, "name", None)
    return name if isinstance(name, str) else str(dt).rsplit(".", 1)[-1]


_JIT_CACHE: dict[Any, Callable] = {}


def evaluate(backend: str, fn: Callable[..., Any], arrays: list, kwargs: Mapping[str, Any] | None = None,
             grad: bool = False, staged: bool = False, key: Any = None) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """``fn(*arrays, **kwargs)`` on backend arrays: the result as returned (a tuple result's
    fields concatenated), as float64 NumPy, and with ``grad`` the gradient of its sum w.r.t.
    ``arrays[0]`` on the autodiff backends (``None`` elsewhere, and where nothing depends on
    ``arrays[0]``).

    jax runs under ``jax.jit`` (forward and backward as one compiled program: half the cost of
    compiling every primitive eagerly, measured): one compiled function per ``key`` (``fn``
    must be the same function for a key; arrays and array options are traced, the rest is
    static) and shape, or a fresh one when ``key`` is None. ``staged`` is for the callers'
    bookkeeping only (the conformance runner's flag; everything is staged on jax here)."""
    kwargs = dict(kwargs or {})
    if backend == "jax":
        out, g = _jax_staged(fn, arrays, kwargs, key, grad)
        return out, _np64(out), None if g is None else _np64(g)

    def call(p, *rest):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # broadcast / kl_div 'mean' warnings: not under test here
            return _fields(fn(p, *rest, **kwargs))

    if not grad or backend in ("numpy", "array_api_strict"):
        out = call(*arrays)
        return out, _np64(out), None
    if backend == "torch":
        import torch

        p = arrays[0].detach().requires_grad_(True)  # detach keeps a strided view's strides
        out = call(p, *arrays[1:])
        if not out.requires_grad:
            return out, _np64(out), None
        (g,) = torch.autograd.grad(out.sum(), p, allow_unused=True)
        return out, _np64(out), None if g is None else _np64(g)
    if backend == "tensorflow":
        import tensorflow as tf

        p = tf.identity(arrays[0])
        with tf.GradientTape() as tape:
            tape.watch(p)
            out = call(p, *arrays[1:])
            s = tf.reduce_sum(out)
        g = tape.gradient(s, p)
        return out, _np64(out), None if g is None else _np64(g)
    raise ValueError(f"evaluate: unknown backend {backend!r}")


def _jax_jit(run_factory, arrays, kwargs, key):
    """``run_factory(rebuild)`` jitted over the array leaves of ``(arrays, kwargs)`` (the other
    leaves static, in the cache key), called; cached per ``key`` unless ``key`` is None."""
    import jax

    leaves, tree = jax.tree_util.tree_flatten((list(arrays), kwargs))
    is_arr = tuple(isinstance(v, jax.Array) for v in leaves)
    static = tuple(None if a else v for v, a in zip(leaves, is_arr))
    ck = (key, tree, is_arr, repr(static))
    f = _JIT_CACHE.get(ck) if key is not None else None
    if f is None:

        def rebuild(dyn):
            it = iter(dyn)
            return jax.tree_util.tree_unflatten(tree, [next(it) if a else s for a, s in zip(is_arr, static)])

        f = jax.jit(run_factory(rebuild))
        if key is not None:
            _JIT_CACHE[ck] = f
    return f([v for v, a in zip(leaves, is_arr) if a])


def _quiet_fields(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _fields(fn(*args, **kw))


def _jax_staged(fn, arrays, kwargs, key, grad):
    """``fn(*arrays, **kwargs)`` (and the gradient of its sum w.r.t. ``arrays[0]``) under
    ``jax.jit``."""
    import jax
    import jax.numpy as jnp

    def factory(rebuild):
        def run(dyn):
            args, kw = rebuild(dyn)
            call = lambda p: _quiet_fields(fn, p, *args[1:], **kw)
            if not grad:
                return call(args[0]), None
            out, vjp = jax.vjp(call, args[0])
            return out, vjp(jnp.ones_like(out))[0]

        return run

    return _jax_jit(factory, arrays, kwargs, None if key is None else ("one", key, grad))


def evaluate_pair(backend: str, fns: tuple[Callable[..., Any], ...], arrays: list,
                  grad: bool) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """:func:`evaluate` (value and gradient) of functions of the same arrays (a multiloss
    adapter row and its native twin); on jax as one compiled program (one compile, not two)."""
    if backend != "jax":
        return [evaluate(backend, f, arrays, grad=grad)[1:] for f in fns]
    import jax
    import jax.numpy as jnp

    def factory(rebuild):
        def run(dyn):
            args, _ = rebuild(dyn)
            out = []
            for f in fns:
                call = lambda p, f=f: _quiet_fields(f, p, *args[1:])
                if grad:
                    v, vjp = jax.vjp(call, args[0])
                    out.append((v, vjp(jnp.ones_like(v))[0]))
                else:
                    out.append((call(args[0]), None))
            return out

        return run

    try:
        pairs = _jax_jit(factory, arrays, {}, None)
    except jax.errors.ConcretizationTypeError:  # a native that reads values (optax dice_loss's
        pairs = factory(lambda dyn: (dyn, {}))(list(arrays))  # apply_softmax=False check): eagerly
    return [(_np64(v), None if g is None else _np64(g)) for v, g in pairs]


def evaluate_variants(backend: str, fn: Callable[..., Any], arrays: list, variants: list[dict],
                      key: Any = None) -> list[np.ndarray]:
    """The float64 values of ``fn(*arrays, **kw)`` for each ``kw`` of ``variants``: on jax as
    one compiled program (one compile instead of one per variant)."""
    if backend != "jax":
        return [evaluate(backend, fn, arrays, kw)[1] for kw in variants]

    def factory(rebuild):
        def run(dyn):
            args, kws = rebuild(dyn)
            return tuple(_quiet_fields(fn, *args, **kw) for kw in kws)

        return run

    return [_np64(o) for o in _jax_jit(factory, arrays, list(variants), None if key is None else ("many", key))]


# ----------------------------------------------------------------------------- case facts


@functools.cache
def signature_of(loss: str) -> tuple[str, ...]:
    """Parameter names of canonical ``multiloss.<loss>``."""
    return tuple(inspect.signature(getattr(multiloss, loss)).parameters)


@functools.cache
def _reference_params(fn: Callable) -> tuple[str, ...]:
    return tuple(inspect.signature(fn).parameters)


def reference_takes(case, name: str) -> bool:
    return name in _reference_params(case.reference)


def _case_key(case) -> str:
    return case.id


_ELEMENTWISE: dict[str, bool] = {}
_BROADCASTS: dict[str, bool] = {}


def elementwise(case) -> bool:
    """Whether ``case`` is elementwise: two arrays of one shape, no further arrays or array
    options, and its float64 reference with ``reduction="none"`` returns that shape, the same
    terms on the flattened arrays and the first term on the first elements alone (0-d).
    Derived once per case from its domain at seed 0 (NumPy only)."""
    key = _case_key(case)
    if key not in _ELEMENTWISE:
        data = domains.make(case.domain, 0)
        ok = (
            "args" not in data
            and data["pred"].shape == data["target"].shape
            and np.issubdtype(data["target"].dtype, np.floating)
            and not any(isinstance(v, np.ndarray) for v in case.kwargs.values())
            and reference_takes(case, "reduction")
        )
        if ok:  # one term per element, the same flattened and for one element alone
            p, t = data["pred"], data["target"]
            kw = {**case.kwargs, "reduction": "none"}
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    out = np.asarray(case.reference(p, t, **kw))
                    ok = (out.shape == p.shape
                          and np.allclose(case.reference(p.reshape(-1), t.reshape(-1), **kw), out.reshape(-1))
                          and np.allclose(case.reference(p.reshape(-1)[0], t.reshape(-1)[0], **kw), out.reshape(-1)[0]))
            except Exception:
                ok = False
        _ELEMENTWISE[key] = ok
    return _ELEMENTWISE[key]


_TAKES_EMPTY: dict[str, bool] = {}


def reference_takes_empty(case) -> bool:
    """Whether the float64 reference of ``case`` computes on a batch of 0 rows (some loop over
    rows and stack them, or reshape with -1): where it does not, examples have a row at least.
    Derived once per case from its domain at seed 0."""
    key = _case_key(case)
    if key not in _TAKES_EMPTY:
        data, kw = resample(case.domain, domains.make(case.domain, 0), case.kwargs, [])
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                case.reference(data["pred"], data["target"], *data.get("args", ()), **kw)
            _TAKES_EMPTY[key] = True
        except Exception:
            _TAKES_EMPTY[key] = False
    return _TAKES_EMPTY[key]


def broadcasts(case) -> bool:
    """Whether the canonical loss of an elementwise ``case`` accepts a target that broadcasts
    against the prediction (torch's elementwise losses do, with a warning; the binary cross
    entropies require equal sizes, as torch's). Derived once from the NumPy canonical."""
    key = _case_key(case)
    if key not in _BROADCASTS:
        ok = elementwise(case)
        if ok:
            data = domains.make(case.domain, 0)
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    getattr(multiloss, case.loss)(data["pred"], data["target"][:1], **case.kwargs)
            except (ValueError, TypeError):
                ok = False
        _BROADCASTS[key] = ok
    return _BROADCASTS[key]


def dtypes_on(backend: str, declared) -> tuple[str, ...]:
    """The declared dtypes that ``backend`` computes in."""
    return tuple(d for d in declared if d in CONFORMANCE_BACKENDS[backend].dtypes)


def reshape_elementwise(data: dict, shape: str) -> dict:
    """An elementwise case's ``pred``/``target`` in another shape: ``flat`` (1-D), ``0-d``
    (the first element), ``lead1`` (a leading unit axis), ``broadcast`` (the target's first
    row only, broadcast by the loss); ``batch`` unchanged."""
    p, t = data["pred"], data["target"]
    if shape == "flat":
        p, t = p.reshape(-1), t.reshape(-1)
    elif shape == "0-d":
        p, t = np.asarray(p.reshape(-1)[0]), np.asarray(t.reshape(-1)[0])
    elif shape == "lead1":
        p, t = p[None], t[None]
    elif shape == "broadcast":
        t = t[:1]
    return {**data, "pred": p, "target": t}


@dataclass
class Example:
    """One generated input: NumPy float64/int64 arrays and options, before any dtype."""

    pred: np.ndarray
    target: np.ndarray
    args: tuple
    kwargs: dict
    sample_weight: np.ndarray | None = None
    broadcast: bool = False  # the target broadcasts against pred (the reference gets it expanded)

    def arrays(self) -> list:
        return [self.pred, self.target, *self.args]

    def reference_arrays(self) -> list:
        target = np.broadcast_to(self.target, self.pred.shape) if self.broadcast else self.target
        return [self.pred, np.array(target), *self.args]  # (np.ascontiguousarray makes 0-d 1-d)


# ----------------------------------------------------------------------------- extreme inputs

# What "extreme" means for a domain's inputs. Any domain not listed gets "logits" (the
# prediction scaled up, some entries exactly 0): add a new domain here when that is wrong.
EXTREME_KIND: dict[str, str] = {
    **dict.fromkeys(("regression", "regression_nonzero_target", "regression_positive"), "scale_pair"),
    **dict.fromkeys(("triplets", "cosine_pairs", "ranking_pairs"), "scale_pair"),
    **dict.fromkeys(("probabilities", "probabilities_soft", "probabilities_edges", "seg_binary"), "prob01"),
    **dict.fromkeys(("probs_onehot", "probs_index", "probs_probs", "seg_probs_last"), "onehot_last"),
    "seg_probs": "onehot_axis1",
    **dict.fromkeys(("log_probs", "ctc"), "log_probs_zero"),
    "log_measures": "log_zero",
    "poisson_log_rate": "poisson_log",
    "poisson_rate": "poisson_rate",
    **dict.fromkeys(("gaussian_var", "gaussian_var_per_sample", "gaussian_var_column", "gaussian_var_small"),
                    "gaussian"),
}

# magnitudes per dtype: saturating every sigmoid/softmax (|x| >> 17 in float32, 11 in float16)
# up to where a loss linear in its input still fits the dtype
EXTREME_SCALES: dict[str, tuple[float, ...]] = {
    "float16": (30.0, 300.0, 3000.0),
    "bfloat16": (100.0, 1e4, 1e8),
    "float32": (100.0, 1e4, 1e8),
    "float64": (100.0, 1e4, 1e8, 1e30),
}
DTYPE_MAX = {"float16": 65504.0, "bfloat16": 3.3895e38, "float32": 3.4028e38, "float64": 1.7976e308}


def extreme(domain: str, data: Mapping[str, Any], scale: float, seed: int) -> dict:
    """``data`` (a domain's float64 inputs) pushed to the edge of its domain, per
    :data:`EXTREME_KIND`: scaled by ``scale``, probabilities set to exactly 0 or 1 (one-hot
    rows for distributions), log-probabilities to ``-scale`` (renormalised), zero rates and
    variances, zero targets of a divergence; a
    random half of the entries (``seed``) is touched."""
    rng = np.random.default_rng(seed)
    kind = EXTREME_KIND.get(domain.partition("+")[0], "logits")
    out = dict(data)
    p = np.array(data["pred"], dtype=np.float64)
    t = data["target"]
    mask = rng.uniform(size=p.shape) < 0.5
    if kind == "logits":
        p = np.where(rng.uniform(size=p.shape) < 0.2, 0.0, p * scale)
    elif kind == "scale_pair":
        p = p * scale
        t = t * scale if np.issubdtype(t.dtype, np.floating) else t
        if "args" in data:
            out["args"] = tuple(a * scale if isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.floating) else a
                                for a in data["args"])
    elif kind == "prob01":
        p = np.where(mask, np.round(p), p)
        if np.issubdtype(t.dtype, np.floating):
            t = np.where(rng.uniform(size=t.shape) < 0.5, np.round(t), t)
    elif kind in ("onehot_last", "onehot_axis1"):
        axis = -1 if kind == "onehot_last" else 1
        q = np.moveaxis(p, axis, -1)
        hot = np.eye(q.shape[-1])[rng.integers(0, q.shape[-1], size=q.shape[:-1])] if q.shape[-1] else q
        rows = rng.uniform(size=q.shape[:-1] + (1,)) < 0.5
        p = np.moveaxis(np.where(rows, hot, q), -1, axis)
    elif kind in ("log_zero", "log_probs_zero"):
        # (log-probabilities <= -1e30 / 2 are multiloss's documented stand-in for log(0) in CTC,
        # multiloss/_ops.py _CTC_NEG; exp(-1e8) is already 0 in every dtype)
        p = np.where(mask, -min(scale, 1e8), p)
        if kind == "log_probs_zero":  # still log-probabilities over the class (last) axis
            p = p - p.max(axis=-1, keepdims=True)
            p = p - np.log(np.exp(p).sum(axis=-1, keepdims=True))
        if np.issubdtype(t.dtype, np.floating):
            t = np.where(rng.uniform(size=t.shape) < 0.3, 0.0, t)
    elif kind == "poisson_log":
        p = np.where(mask, -scale, p)
        t = t * scale
    elif kind == "poisson_rate":
        p = np.where(mask, 0.0, p)
        t = t * scale
    elif kind == "gaussian":
        p, t = p * scale, t * scale
        var = data["args"][0]
        out["args"] = (np.where(rng.uniform(size=var.shape) < 0.5, 0.0, var), *data["args"][1:])
    else:  # pragma: no cover - a kind named above without a branch
        raise AssertionError(kind)
    out["pred"], out["target"] = p, t
    return out
