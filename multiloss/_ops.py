"""Primitives the losses are written with: generic Array API definitions + per-backend overrides.

Every primitive takes the namespace first (``op(xp, x, ...)``): the loss has already
resolved it, so nothing is resolved twice. The generic definition uses only the
Array API standard and is what NumPy and ``array_api_strict`` run. A backend
module (``multiloss.backends.torch_ops``, ``jax_ops``, ``tensorflow_ops``) calls
:func:`register` to replace a primitive by its framework's fused kernel
(``torch.log_softmax``, ``jax.lax.stop_gradient``, ...). Backend modules are
imported by :mod:`multiloss._namespace` the first time it sees that framework's
arrays, so overrides are in place before any loss runs on them.

Why these primitives (DESIGN.md, measured): a naive cross-entropy was 5.3x slower than
torch's because the gradient flowed through the max, the log-softmax was not fused, and
the gather's backward was a scatter. ``log_softmax`` stops the gradient of the shift,
and ``pick`` is the gather every backend can override.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

# namespace.__name__ -> {primitive name -> implementation(x, ...) without xp}
_OVERRIDES: dict[str, dict[str, Callable[..., Any]]] = {}

PRIMITIVES: tuple[str, ...] = (
    "stop_gradient",
    "log_softmax",
    "softmax",
    "logsumexp",
    "softplus",
    "log_sigmoid",
    "sigmoid",
    "take_along_axis",
    "pick",
    "one_hot",
    "xlogy",
    "clamped_log",
    "is_concrete",
    "is_host",
    "can_device_assert",
    "device_assert",
    "log_softmax_pick",
    "squared_difference",
    "logistic_loss",
    "binary_log_loss",
    "huber",
    "min_max",
    "softmax_cross_entropy",
    "linear_softmax_cross_entropy",
    "pairwise_distance",
    "scan",
    "ctc_neg_log_likelihood",
    "multilabel_margin",
    "multi_margin",
    "fused_loss",
)

__all__ = ["register", "override_for", "PRIMITIVES", *PRIMITIVES]


def register(namespace_name: str, **implementations: Callable[..., Any]) -> None:
    """Register fast implementations for the namespace whose ``__name__`` is ``namespace_name``.

    Each implementation has the primitive's signature without the leading ``xp``.
    """
    unknown = set(implementations) - set(PRIMITIVES)
    if unknown:
        raise ValueError(f"register: unknown primitive(s) {sorted(unknown)}; known: {PRIMITIVES}")
    _OVERRIDES.setdefault(namespace_name, {}).update(implementations)


def override_for(xp: ModuleType, name: str) -> Callable[..., Any] | None:
    """The registered override of primitive ``name`` for ``xp``, or ``None`` (generic)."""
    table = _OVERRIDES.get(xp.__name__)
    return None if table is None else table.get(name)


def _fast(name: str):
    """Decorator: dispatch to a registered override before running the generic body."""

    def wrap(generic):
        def primitive(xp, *args, **kwargs):
            table = _OVERRIDES.get(xp.__name__)
            if table is not None:
                impl = table.get(name)
                if impl is not None:
                    return impl(*args, **kwargs)
            return generic(xp, *args, **kwargs)

        primitive.__name__ = generic.__name__
        primitive.__qualname__ = generic.__qualname__
        primitive.__doc__ = generic.__doc__
        primitive.generic = generic  # the pure Array API version, for tests and references
        return primitive

    return wrap


@_fast("fused_loss")
def fused_loss(xp, name, *args, **kwargs):
    """The whole loss ``name`` (a canonical loss with torch semantics: ``"cross_entropy"``,
    ``"nll_loss"``, ``"binary_cross_entropy"`` ...), arguments as the canonical function's
    after its static checks, computed by ONE native kernel where the backend has that exact
    kernel, else ``NotImplemented`` and the canonical body runs (the generic case).

    Why a whole loss: at small sizes a loss is launch/dispatch-bound, and torch's own losses
    are one ATen call each (its cross-entropy fuses the log-softmax, the gather, the class
    weights, ``ignore_index``, label smoothing and the reduction, forward and backward; the
    canonical body is 4-6 calls). A native kernel also checks values on the device
    (class indices in range, probabilities in [0, 1]) instead of reading them back to the
    host, which on a GPU would synchronise the stream. The canonical loss keeps its static
    checks and, when the kernel raises, re-runs its own value check for the clearer message.
    The float64 reference and the other backends pin the values; the override is taken only
    where it is exact (dtype, layout and options; anything else: ``NotImplemented``)."""
    return NotImplemented


@_fast("stop_gradient")
def stop_gradient(xp, x):
    """``x`` with no gradient flowing back (identity for namespaces without autodiff)."""
    return x


@_fast("logsumexp")
def logsumexp(xp, x, axis=-1, keepdims=False):
    """``log(sum(exp(x), axis))``, shifted by the (gradient-stopped) max for stability."""
    m = stop_gradient(xp, xp.max(x, axis=axis, keepdims=True))
    # a row that is all -inf has max -inf: shift by 0 there instead of producing nan
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


@_fast("log_softmax")
def log_softmax(xp, x, axis=-1):
    """``x - logsumexp(x, axis)``; the shift's gradient is stopped (it cancels mathematically)."""
    m = stop_gradient(xp, xp.max(x, axis=axis, keepdims=True))
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    shifted = x - m
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


@_fast("softmax")
def softmax(xp, x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``, computed from the shifted logits."""
    m = stop_gradient(xp, xp.max(x, axis=axis, keepdims=True))
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    e = xp.exp(x - m)
    return e / xp.sum(e, axis=axis, keepdims=True)


@_fast("softplus")
def softplus(xp, x):
    """``log(1 + exp(x))`` = ``max(x, 0) + log1p(exp(-|x|))``: finite for any finite ``x``.

    ``max`` and ``|x|`` are written as one ``where`` on ``x >= 0`` so the gradient at ``x == 0``
    is ``sigmoid(0) = 0.5`` (``maximum``/``abs`` have tie/kink gradients that differ between
    frameworks: 0, 0.5 or 1)."""
    pos = x >= 0
    relu = xp.where(pos, x, 0.0)
    neg_abs = xp.where(pos, -x, x)
    return relu + xp.log1p(xp.exp(neg_abs))


@_fast("log_sigmoid")
def log_sigmoid(xp, x):
    """``log(sigmoid(x))`` = ``-softplus(-x)``, finite for logits of any size."""
    return -softplus(xp, -x)


@_fast("sigmoid")
def sigmoid(xp, x):
    """``1 / (1 + exp(-x))`` without overflow for large negative ``x``; ``-|x|`` is a ``where``
    (not ``abs``, whose gradient at 0 is 0) so the gradient at ``x == 0`` is 0.25."""
    pos = x >= 0
    e = xp.exp(xp.where(pos, -x, x))
    return xp.where(pos, 1 / (1 + e), e / (1 + e))


@_fast("take_along_axis")
def take_along_axis(xp, x, indices, axis=-1):
    """Array API ``take_along_axis`` (2024.12); a one-hot contraction where it is missing."""
    if hasattr(xp, "take_along_axis"):
        return xp.take_along_axis(x, indices, axis=axis)
    k = x.shape[axis]
    hot = one_hot(xp, xp.squeeze(indices, axis=axis), k, dtype=x.dtype, axis=axis)
    return xp.sum(x * hot, axis=axis, keepdims=True)


@_fast("pick")
def pick(xp, x, labels, axis=-1):
    """``x[..., labels, ...]`` along ``axis``: one entry per position; ``labels`` has ``x``'s
    shape without ``axis`` and must hold valid indices. The gather of cross-entropy/NLL."""
    idx = xp.expand_dims(labels, axis=axis)
    return xp.squeeze(take_along_axis(xp, x, idx, axis=axis), axis=axis)


@_fast("one_hot")
def one_hot(xp, labels, num_classes, dtype=None, axis=-1):
    """One-hot encoding of integer ``labels`` with the new class axis at ``axis``.

    Entries outside ``[0, num_classes)`` encode as all zeros (like ``jax.nn.one_hot``)."""
    classes = xp.arange(num_classes, dtype=labels.dtype)
    ndim = len(labels.shape) + 1
    ax = axis % ndim
    shape = [1] * ndim
    shape[ax] = num_classes
    hot = xp.expand_dims(labels, axis=ax) == xp.reshape(classes, tuple(shape))
    return xp.astype(hot, dtype if dtype is not None else xp.float32)


@_fast("xlogy")
def xlogy(xp, x, y):
    """``x * log(y)`` with ``0 * log(0) = 0``; no nan gradient where ``x == 0``."""
    zero = x == 0
    safe_y = xp.where(zero, 1.0, y)
    return xp.where(zero, 0.0, x * xp.log(safe_y))


@_fast("clamped_log")
def clamped_log(xp, x, min=-100.0):  # noqa: A002 - torch's name for the clamp
    """``max(log(x), min)``: torch's ``binary_cross_entropy`` clamp. At ``x == 0`` the value is
    ``min`` and the gradient is 0 (a naive ``maximum(log(x), min)`` gives ``0 * inf = nan``)."""
    pos = x > 0
    safe = xp.where(pos, x, 1.0)
    logx = xp.log(safe)
    return xp.where(pos & (logx > min), logx, min)


@_fast("min_max")
def min_max(xp, x, of=None):
    """``(min(of(x)), max(of(x)))`` (``of`` default: the identity) as 0-d arrays,
    gradient-free (a value check records nothing for autodiff): what the value checks read or
    assert on (labels in range, probabilities in [0, 1]). torch overrides it with
    ``torch.aminmax`` of the detached tensor (one pass); jax with one compiled call, for which
    ``of`` should be a module-level function (a jit static argument: a new lambda per call
    would compile per call, so jax computes a lambda's ``of`` op by op instead)."""
    x = stop_gradient(xp, x if of is None else of(x))
    return xp.min(x), xp.max(x)


@_fast("is_concrete")
def is_concrete(xp, x):
    """Whether ``x``'s values can be read now (eager, not being traced or compiled).

    Value checks (labels in range, probabilities in [0, 1]) run only when this is true."""
    return True


@_fast("is_host")
def is_host(xp, x):
    """Whether ``x`` (a concrete array) lives in host memory, so reading its values costs no
    device synchronisation: NumPy and ``array_api_strict`` always; torch ``device.type ==
    "cpu"``, jax every device's platform ``"cpu"``, TensorFlow a ``CPU`` device. Value checks
    read host arrays; accelerator arrays are checked on the device or not at all
    (:mod:`multiloss.checks`)."""
    return True


@_fast("can_device_assert")
def can_device_assert(xp, x):
    """Whether :func:`device_assert` can emit an assertion now about values computed from
    ``x`` without reading them on the host: torch always (``torch._assert_async``, eager and
    under ``torch.compile``; not under ``torch.func`` transforms); jax only while ``x`` is
    traced (a ``checkify`` check); TensorFlow only in a graph (``tf.function``). Generic:
    ``False``."""
    return False


@_fast("device_assert")
def device_assert(xp, cond, message):
    """Assert that the 0-d boolean array ``cond`` is true without a host read: an asynchronous
    device-side assertion (torch ``torch._assert_async(cond, message)``: on CUDA a failure is
    a device-side assert reported at a later synchronisation), a
    ``jax.experimental.checkify`` check (reported by ``checkify.checkify``; a no-op under a
    plain ``jit``), a ``tf.debugging.Assert`` graph op (raises ``InvalidArgumentError`` when
    the graph runs). Call it only where :func:`can_device_assert` is true. Generic (host
    namespaces, checked by reading instead): nothing is emitted."""
    return None


@_fast("log_softmax_pick")
def log_softmax_pick(xp, x, labels, axis=-1):
    """``log_softmax(x, axis)`` at ``labels`` (``labels`` as in :func:`pick`): the log-probability
    of the labelled class, computed as ``x[labels] - logsumexp(x)`` without materialising the
    log-probabilities. Backends whose fused ``log_softmax`` is faster than their ``logsumexp``
    (torch: one per-row kernel and one backward kernel, vs a composite of ~4 full passes)
    override it with a gather from the log-softmax; the value is the same."""
    return pick(xp, x, labels, axis=axis) - logsumexp(xp, x, axis=axis)


@_fast("squared_difference")
def squared_difference(xp, x, y):
    """``(x - y) ** 2`` elementwise (broadcasting). torch overrides it with its fused kernel,
    whose backward is one kernel instead of three (TF: ``tf.math.squared_difference``)."""
    d = x - y
    return d * d


@_fast("logistic_loss")
def logistic_loss(xp, x, t):
    """``(1 - t) * x - log_sigmoid(x)`` elementwise: binary cross-entropy of logits ``x``
    against targets ``t`` in [0, 1] (no ``pos_weight``), finite for logits of any size.

    torch overrides it with ``F.binary_cross_entropy_with_logits(reduction="none")`` (one
    fused forward and one backward kernel instead of six autograd nodes: 1.5-2x faster
    forward+backward at 4096x1000 on CPU), TF with ``tf.nn.sigmoid_cross_entropy_with_logits``."""
    return (1 - t) * x - log_sigmoid(xp, x)


@_fast("binary_log_loss")
def binary_log_loss(xp, p, t):
    """``-(t log p + (1 - t) log(1 - p))`` elementwise on probabilities ``p``, each log clamped
    at -100 (torch ``binary_cross_entropy``); the generic gradient at ``p`` in {0, 1} is 0.

    torch overrides it (float32/float64/bfloat16) with ``F.binary_cross_entropy(reduction="none")``: one
    fused kernel each way instead of ~10 autograd nodes (3x faster forward+backward and 4x
    less memory saved for backward at 4096x1000), with torch's own gradient at the endpoints
    (``(p - t) / max(p (1 - p), 1e-12)``, e.g. -1e12 at p=0, t=1) as a drop-in must."""
    return -(t * clamped_log(xp, p) + (1 - t) * clamped_log(xp, 1 - p))


@_fast("softmax_cross_entropy")
def softmax_cross_entropy(xp, x, t, axis=-1):
    """``-sum(t * log_softmax(x, axis), axis)``: cross-entropy of logits ``x`` against
    probability targets ``t`` of the same shape, one value per position without ``axis``.

    torch overrides it with ``F.cross_entropy`` on probability targets. TensorFlow does not:
    ``tf.nn.softmax_cross_entropy_with_logits``'s fused gradient is ``softmax(x) - t``, exact only
    when ``t`` sums to 1 (the true one is ``sum(t) softmax(x) - t``)."""
    return -xp.sum(t * log_softmax(xp, x, axis=axis), axis=axis)


@_fast("huber")
def huber(xp, x, y, delta=1.0):
    """Huber of ``d = x - y`` elementwise: ``0.5 d^2`` where ``|d| < delta``, else
    ``delta (|d| - 0.5 delta)``. torch overrides it with ``F.huber_loss(reduction="none")``
    (one fused kernel each way instead of ~8 elementwise passes: ~5x faster at 4096x1000)."""
    d = x - y
    a = xp.abs(d)
    return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


@_fast("pairwise_distance")
def pairwise_distance(xp, x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``torch.pairwise_distance``: the ``p``-norm of ``x1 - x2 + eps`` over the last axis of
    their broadcast shape (``eps`` is added to the *difference*, ATen Distance.cpp
    ``at::norm(x1 - x2 + eps, p, innermost_dim, keepdim)``); a 0-d difference gives ``|d|``.

    ``p``: any real or ``±inf`` (``inf``: max ``|d|``; ``0``: the count of nonzero entries,
    with no gradient; ``p < 0``: ``(sum |d|^p)^(1/p)``, 0 where some ``d`` is 0). Gradients are
    finite everywhere and equal torch's norm backward (``norm_backward``,
    torch/csrc/autograd/FunctionsManual.cpp): 0 at ``d == 0`` and for a zero norm, where the
    naive ``sqrt``/``pow`` formula gives ``0 * inf = nan``. float16/bfloat16 are summed in
    float32 and rounded once, as torch's norm kernel accumulates (``|d|^2`` overflows float16
    past 256: a distance of 300 would be inf). torch overrides it with
    ``torch.pairwise_distance`` (one fused norm kernel each way)."""
    if _is_half(x1) or _is_half(x2):
        out = pairwise_distance(xp, xp.astype(x1, xp.float32), xp.astype(x2, xp.float32), p, eps, keepdim)
        return xp.astype(out, x1.dtype if _is_half(x1) else x2.dtype)
    d = x1 - x2 + eps
    axis = -1 if len(d.shape) > 0 else None
    if p == 2:
        s = xp.sum(d * d, axis=axis, keepdims=keepdim)
        pos = s > 0
        return xp.where(pos, xp.sqrt(xp.where(pos, s, 1.0)), 0.0)
    # |d| with gradient sign(d): 0 at d == 0 as torch's sgn (jax's abs has gradient 1 there)
    a = d * stop_gradient(xp, xp.sign(d))
    if p == 1:
        return xp.sum(a, axis=axis, keepdims=keepdim)
    if p == float("inf"):
        return xp.max(a, axis=axis, keepdims=keepdim)
    if p == -float("inf"):
        return xp.min(a, axis=axis, keepdims=keepdim)
    if p == 0:
        return xp.sum(xp.astype(d != 0, d.dtype), axis=axis, keepdims=keepdim)
    nz = a > 0
    # |d|^p only where d != 0 (its gradient p |d|^(p-1) is inf at 0 for p < 1)
    s = xp.sum(xp.where(nz, xp.where(nz, a, 1.0) ** p, 0.0), axis=axis, keepdims=keepdim)
    if p > 0:
        ok = s > 0  # a zero norm: value 0, gradient 0 (s^(1/p) has an infinite slope at 0)
    else:
        ok = xp.all(nz, axis=axis, keepdims=keepdim)  # |0|^p = inf makes the norm 0
    return xp.where(ok, xp.where(ok, s, 1.0) ** (1.0 / p), 0.0)


@_fast("linear_softmax_cross_entropy")
def linear_softmax_cross_entropy(xp, x, w, b=None, target=None, coef=None, target_coef=None, chunk_size=None,
                                 reduce=False):
    """The softmax cross-entropy of a linear head, ``chunk_size`` rows of ``x`` at a time, so
    the logits ``z = x @ w.T + b`` are never held at once (one ``(chunk_size, C)`` block):
    per row :math:`r_n = a_n \\log\\sum_c e^{z_{n,c}} - \\sum_c T_{n,c} z_{n,c}`, summed when
    ``reduce``. The core of ``linear_cross_entropy``.

    ``x`` ``(N, D)``; ``w`` ``(C, D)`` or ``(C, d1, ..., dK, D)`` (then per position
    ``(d1, ..., dK)``, over ``C``); ``b`` ``w.shape[:-1]`` or ``None``; ``coef`` :math:`a`
    (``(N, d1, ...)``; 1 when ``None``). ``target``: ``None`` (no second term); integer class
    indices ``(N, d1, ...)`` (valid ones), :math:`T = ` ``target_coef`` (1 when ``None``) times
    their one-hot; or floats of the logits' shape ``(N, C, d1, ...)``, :math:`T` itself.
    Returns ``(N, d1, ...)`` or, with ``reduce``, a 0-d array. A backend may then compute the
    whole gradient in the forward pass, chunk by chunk (torch overrides it so: forward+backward
    peaks at one chunk of logits instead of three full copies); the generic body's autodiff
    keeps every chunk's softmax for the backward pass.

    The logits are computed in ``x``'s dtype (as ``torch.nn.functional.linear``); the
    logsumexp, the target term and the result in the accumulation dtype: float32 for
    float16/bfloat16 inputs (:math:`r` subtracts logit-sized terms, which half precision
    cannot do), else ``x``'s dtype."""
    acc = xp.float32 if _is_half(x) else x.dtype
    n = x.shape[0]
    n_classes, inner, d = w.shape[0], tuple(w.shape[1:-1]), w.shape[-1]
    m = 1
    for k in inner:
        m *= k
    wt = xp.matrix_transpose(xp.reshape(w, (n_classes * m, d)) if inner else w)
    b2 = None if b is None else (xp.reshape(b, (n_classes * m,)) if inner else b)
    dense = target is not None and not xp.isdtype(target.dtype, "integral")
    if chunk_size is None or n is None or chunk_size >= n:  # one block (n unknown: traced)
        spans = [None]
    else:
        # (stops clamped to n: out-of-bounds slice stops are unspecified by the standard)
        spans = [(start, min(start + chunk_size, n)) for start in range(0, n, chunk_size)]

    def rows(a, span):
        return a if a is None or span is None else a[span[0]:span[1], ...]

    parts = []
    for span in spans:
        z = xp.matmul(rows(x, span), wt)
        if b2 is not None:
            z = z + b2
        if inner:
            z = xp.reshape(z, (z.shape[0], n_classes, *inner))
        if z.dtype != acc:
            z = xp.astype(z, acc)
        r = logsumexp(xp, z, axis=1)
        a = rows(coef, span)
        if a is not None:
            r = (a if a.dtype == acc else xp.astype(a, acc)) * r
        if dense:
            t = rows(target, span)
            r = r - xp.sum((t if t.dtype == acc else xp.astype(t, acc)) * z, axis=1)
        elif target is not None:
            zt = pick(xp, z, rows(target, span), axis=1)
            c = rows(target_coef, span)
            r = r - (zt if c is None else (c if c.dtype == acc else xp.astype(c, acc)) * zt)
        parts.append(xp.sum(r) if reduce else r)
    if reduce:
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)


def _is_half(x) -> bool:
    """float16 / bfloat16 (by name: ``bfloat16`` is not a standard dtype)."""
    name = getattr(x.dtype, "name", None)
    name = name if isinstance(name, str) else str(x.dtype)
    return name.rsplit(".", 1)[-1].strip("'>") in ("float16", "bfloat16")


@_fast("scan")
def scan(xp, f, init, xs):
    """``jax.lax.scan``: ``carry, y = f(carry, x)`` for each ``x`` along the leading axis of
    ``xs``; returns ``(final carry, ys)``, the ``y`` stacked along a new leading axis.

    ``xs`` is an array or a tuple of arrays of one leading length; ``carry`` an array or tuple
    of arrays whose shapes and dtypes ``f`` keeps; ``y`` likewise, or ``None`` (then ``ys`` is
    ``None``; also for zero steps). The generic body is a Python loop (NumPy, array_api_strict,
    torch eager); jax overrides it with ``jax.lax.scan`` (one compiled loop under ``jit``),
    TensorFlow with ``tf.while_loop`` (traceable under ``tf.function(jit_compile=True)``).
    Sequence dynamic programs (CTC's forward recursion) are written once against it."""
    leaves = xs if isinstance(xs, (tuple, list)) else (xs,)
    carry, ys = init, []
    for i in range(leaves[0].shape[0]):
        x = type(xs)(a[i, ...] for a in xs) if isinstance(xs, (tuple, list)) else xs[i, ...]
        carry, y = f(carry, x)
        ys.append(y)
    if not ys or ys[0] is None:
        return carry, None
    if isinstance(ys[0], (tuple, list)):
        return carry, type(ys[0])(xp.stack([y[k] for y in ys], axis=0) for k in range(len(ys[0])))
    return carry, xp.stack(ys, axis=0)


# log(0) of the CTC lattice: finite, so log-sum-exp and its gradient stay finite for states no
# alignment reaches (optax's log_epsilon=-1e5 plays the same role). -1e30 absorbs any
# log-probability added to it in float32/float64, so an unreachable state stays near -1e30
# and a sequence with no alignment ends above -_CTC_NEG / 2: that is how it is detected.
_CTC_NEG = -1e30


def _lse(xp, *terms):
    """Elementwise ``log(sum(exp(terms)))`` of a few same-shape arrays (finite inputs)."""
    m = terms[0]
    for t in terms[1:]:
        m = xp.maximum(m, t)
    m = stop_gradient(xp, m)
    s = xp.exp(terms[0] - m)
    for t in terms[1:]:
        s = s + xp.exp(t - m)
    return m + xp.log(s)


def ctc_forward(xp, lp_blank, lp_label, repeat, active, target_lengths, log_epsilon=_CTC_NEG,
                forward_probs=False):
    """CTC forward (alpha) recursion in log space through :func:`scan` (Graves et al. 2006,
    eq. 6-8), on the emission log-probabilities of one sequence batch.

    ``lp_blank`` ``(T, N)``: the blank's log-probability per frame; ``lp_label`` ``(T, N, S)``:
    each target label's; ``repeat`` ``(N, S)`` bool: label ``n`` equals label ``n - 1`` (the
    direct step between them is then barred; False at ``n = 0``); ``active`` ``(T, N)`` bool,
    False for padded frames (the state is carried through unchanged); ``target_lengths``
    ``(N,)`` integers. ``log_epsilon`` stands for log(0): the starting value of unreachable
    states and the penalty of a barred step, as optax's (the default absorbs whatever is added
    to it).

    The ``2S+1`` states of the blank-extended target are two arrays, as in optax: ``b[:, n]``
    blank after ``n`` labels (``S + 1``) and ``l[:, n]`` label ``n`` (``S``):
    ``b'[n] = lse(b[n], l[n-1]) + lp_blank`` and
    ``l'[n] = lse(l[n], b[n], l[n-1] + (log_epsilon if repeat[n] else 0)) + lp_label[n]``,
    from a virtual frame with ``b[0] = 0`` (so an empty input has likelihood 1 for an empty
    target). Returns ``(nll, ys)``: ``nll`` ``(N,)`` is ``-lse(b[L], l[L-1])`` at each target
    length ``L`` (about ``-log_epsilon`` or more when no alignment exists); ``ys`` the
    per-frame ``(b, l)``, ``(T, N, S+1)`` and ``(T, N, S)``, with ``forward_probs`` (else
    ``None``)."""
    neg = log_epsilon
    l0 = xp.full_like(lp_label[0, ...], neg)  # (N, S)
    penalty = xp.where(repeat, l0, 0.0)
    neg_col = xp.full_like(xp.expand_dims(lp_blank[0, ...], axis=1), neg)  # (N, 1)
    b0 = xp.concat([xp.zeros_like(neg_col), l0], axis=1)
    n_lab = l0.shape[1]

    def step(carry, x):
        b, l = carry
        pb, pl, act = x
        l_prev = xp.concat([neg_col, l], axis=1)  # l[n-1] at index n, n = 0..S
        nb = _lse(xp, b, l_prev) + xp.expand_dims(pb, axis=1)
        nl = _lse(xp, l, b[:, :n_lab], l_prev[:, :n_lab] + penalty) + pl
        a = xp.expand_dims(act, axis=1)
        nb, nl = xp.where(a, nb, b), xp.where(a, nl, l)
        return (nb, nl), ((nb, nl) if forward_probs else None)

    (b, l), ys = scan(xp, step, (b0, l0), (lp_blank, lp_label, active))
    l_prev = xp.concat([neg_col, l], axis=1)
    nll = -_lse(xp, pick(xp, b, target_lengths, axis=1), pick(xp, l_prev, target_lengths, axis=1))
    return nll, ys


def ctc_emissions(xp, log_probs, targets, blank=0):
    """``(lp_blank (T, N), lp_label (T, N, S), repeat (N, S))`` for :func:`ctc_forward` from
    ``log_probs`` ``(T, N, C)`` and valid padded ``targets`` ``(N, S)``."""
    n_frames, n_seq, n_lab = log_probs.shape[0], targets.shape[0], targets.shape[1]
    lp_blank = log_probs[:, :, blank]
    idx = xp.broadcast_to(xp.expand_dims(targets, axis=0), (n_frames, n_seq, n_lab))
    lp_label = take_along_axis(xp, log_probs, idx, axis=2)
    repeat = xp.zeros_like(targets, dtype=xp.bool)
    if n_lab > 1:
        repeat = xp.concat([repeat[:, :1], targets[:, 1:] == targets[:, :-1]], axis=1)
    return lp_blank, lp_label, repeat


@_fast("ctc_neg_log_likelihood")
def ctc_neg_log_likelihood(xp, log_probs, targets, input_lengths, target_lengths, blank=0,
                           zero_infinity=False, log_epsilon=None):
    """Per-sequence CTC loss ``-log p(y | x)``, ``(N,)``: ``torch.ctc_loss(reduction='none')``.

    ``log_probs`` ``(T, N, C)`` floating; ``targets`` ``(N, S)`` padded class indices (entries
    past a target length must still be valid indices); ``input_lengths``/``target_lengths``
    ``(N,)`` integers, already checked. A sequence with no alignment (a target too long for its
    input) gives ``inf``, or 0 with ``zero_infinity``; with a finite ``log_epsilon`` (optax's
    stand-in for log(0)) every value is finite instead, as optax's. float16/bfloat16 run the
    recursion in float32.

    Gradient: torch's, which is *not* the derivative of the value. ATen's ``ctc_loss_backward``
    (aten/src/ATen/native/LossCTC.cpp) returns ``exp(lp) - posterior`` on the frames before the
    input length (0 after): the gradient of ``ctc(log_softmax(lp))``, exact once it flows back
    through a log-softmax, but ``exp(lp)`` more than the derivative ``-posterior`` w.r.t.
    ``lp`` itself (pinned against finite differences in tests/test_sequence_losses.py). The
    generic body adds a zero-valued term whose gradient is ``exp(lp)``, so every backend gives
    torch's numbers; for a sequence without alignment torch's gradient is nan (0 with
    ``zero_infinity``), and so is this one's. torch overrides it with ``torch.ctc_loss`` (its
    native kernel) when ``log_epsilon`` is ``None``."""
    lp = log_probs
    if lp.dtype not in (xp.float32, xp.float64):
        lp = xp.astype(lp, xp.float32)
    n_frames = lp.shape[0]
    # on the lengths' device (torch CUDA); a jax tracer has no .device (XLA places it)
    frames = xp.arange(n_frames, dtype=input_lengths.dtype, device=getattr(input_lengths, "device", None))
    active = xp.expand_dims(frames, axis=1) < xp.expand_dims(input_lengths, axis=0)  # (T, N)
    lp_blank, lp_label, repeat = ctc_emissions(xp, lp, targets, blank)
    # -inf log-probabilities (masked classes) become log(0)'s stand-in: no inf - inf = nan
    lp_blank = xp.where(lp_blank < _CTC_NEG, _CTC_NEG, lp_blank)
    lp_label = xp.where(lp_label < _CTC_NEG, _CTC_NEG, lp_label)
    absorbing = log_epsilon is None
    nll, _ = ctc_forward(xp, lp_blank, lp_label, repeat, active, target_lengths,
                         _CTC_NEG if absorbing else log_epsilon)
    # zero-valued, gradient exp(lp) on the active frames (torch's convention, see above)
    e = xp.exp(lp)
    excess = xp.sum(e - stop_gradient(xp, e), axis=2)  # (T, N), all zeros
    if absorbing:
        infeasible = nll > -_CTC_NEG / 2
        # an infeasible sequence's frames get a nan factor, reached only by the zero cotangent
        # of the `where` below: its gradient is 0 * nan = nan, torch's (zero_infinity: 0)
        one = xp.ones_like(nll)
        scale = one if zero_infinity else xp.where(infeasible, xp.nan, one)
        total = nll + xp.sum(xp.where(active, scale, 0.0) * excess, axis=0)
        out = xp.where(infeasible, 0.0 if zero_infinity else xp.inf, total)
    else:
        out = nll + xp.sum(xp.where(active, excess, 0.0), axis=0)
    return out if out.dtype == log_probs.dtype else xp.astype(out, log_probs.dtype)


@_fast("multilabel_margin")
def multilabel_margin(xp, x, t):
    r"""``torch.nn.functional.multilabel_margin_loss(x, t, reduction='none')``: per row of
    scores ``x`` ``(N, C)`` and padded labels ``t`` ``(N, J)`` (``J = C``, checked by the loss),
    :math:`\frac1C \sum_{j \text{ valid}} \sum_{i \notin Y} \max(0, x_i - b_j)`,
    :math:`b_j = x_{t_j} - 1`. torch overrides it with its own kernel.

    torch's kernel loops over the (j, i) pairs; materialising them would take ``N C^2``
    memory (16 GB of float32 at 4096 x 1000). Instead, per row:

    1. *valid*: positions before the first negative label (``cumulative_sum`` of ``t < 0``).
    2. *Y* (a set: a repeated label counts once): the labels and the classes ``0..C-1`` are
       sorted together (stable, labels first among equal keys), so class ``c`` is in ``Y``
       iff the entry just before it is a label equal to ``c``; a second stable sort brings
       the class entries back into class order.
    3. *the sums*: thresholds ``b_j`` and scores (members of ``Y`` moved below every
       threshold) are sorted together, descending, thresholds first among equal values
       (``z = 0`` adds nothing: torch's ``if (z > 0)``). At a threshold, the running count
       ``k`` and running sum ``S`` of the scores before it give
       :math:`\sum_{x_i > b_j} (x_i - b_j) = S - k\,b_j`. The gradient is torch's: +1 to
       each counted score, ``-k`` to :math:`x_{t_j}`.

    Scores are shifted by their row maximum (gradient-free) so ``S - k b`` cancels at the
    scale of the row's spread, not of its magnitude."""
    c = x.shape[-1]
    idx_dtype = t.dtype
    # 1. j counts where no negative label precedes it (inclusive): torch's `break` at t < 0
    valid = xp.cumulative_sum(xp.astype(t < 0, idx_dtype), axis=-1) == 0
    safe = xp.where(valid, t, 0)
    # 2. membership: sort [labels (-1 where not valid) | classes], labels first among ties
    classes = xp.reshape(xp.arange(c, dtype=idx_dtype, device=getattr(t, "device", None)), (1, c)) + xp.zeros_like(t)  # (N, C)
    keys = xp.concat([xp.where(valid, t, -1), classes], axis=-1)
    order = xp.argsort(keys, axis=-1, stable=True)
    sorted_keys = take_along_axis(xp, keys, order, axis=-1)
    from_labels = order < c
    prev_key = xp.concat([xp.full_like(t[:, :1], -2), sorted_keys[:, :-1]], axis=-1)
    prev_label = xp.concat([xp.zeros_like(from_labels[:, :1]), from_labels[:, :-1]], axis=-1)
    found = xp.astype(~from_labels & prev_label & (prev_key == sorted_keys), idx_dtype)
    # class entries, in sorted order, are in class order: move them (stably) to the end
    back = xp.argsort(xp.astype(~from_labels, idx_dtype), axis=-1, stable=True)
    is_target = take_along_axis(xp, found, back, axis=-1)[:, c:] == 1  # (N, C)
    # 3. the hinge sums
    x = x - stop_gradient(xp, xp.max(x, axis=-1, keepdims=True))
    b = take_along_axis(xp, x, safe, axis=-1) - 1  # (N, J)
    floor = stop_gradient(xp, xp.min(x, axis=-1, keepdims=True)) - 2  # below every b
    vals = xp.concat([b, xp.where(is_target, floor, x)], axis=-1)
    order = xp.argsort(-vals, axis=-1, stable=True)  # descending; thresholds first among ties
    sorted_vals = take_along_axis(xp, vals, order, axis=-1)
    is_score = order >= c
    count = xp.astype(xp.cumulative_sum(xp.astype(is_score, idx_dtype), axis=-1), x.dtype)  # exact ints
    total = xp.cumulative_sum(xp.where(is_score, sorted_vals, 0.0), axis=-1)
    counted = take_along_axis(xp, xp.concat([valid, xp.zeros_like(valid)], axis=-1), order, axis=-1)
    hinge = xp.where(counted, total - sorted_vals * count, 0.0)  # at the valid thresholds
    return xp.sum(hinge, axis=-1) / c


@_fast("multi_margin")
def multi_margin(xp, x, t, p=1, margin=1.0, weight=None):
    r"""``torch.nn.functional.multi_margin_loss(x, t, p, margin, weight, reduction='none')``:
    per row of ``x`` ``(N, C)`` with class ``t`` ``(N,)``,
    :math:`\frac{w_t}{C}\sum_{i \ne t} \max(0, \mathrm{margin} - x_t + x_i)^p` (``p`` 1 or
    2, checked by the loss; ATen adds nothing at ``z == 0``). torch overrides it with its
    own kernel."""
    c = x.shape[-1]
    x_y = pick(xp, x, t, axis=-1)  # (N,)
    z = margin - xp.expand_dims(x_y, axis=-1) + x  # (N, C)
    others = xp.reshape(xp.arange(c, dtype=t.dtype, device=getattr(t, "device", None)), (1, c)) != xp.expand_dims(t, axis=-1)
    h = xp.where((z > 0) & others, z, 0.0)  # ATen: `if (z > 0)`, i != y
    if p == 2:
        h = h * h
    loss = xp.sum(h, axis=-1) / c
    if weight is not None:
        loss = loss * xp.take(weight, t, axis=0)
    return loss


# ----------------------------------------------------------------------------- sparsemax
PRIMITIVES += ("sparsemax", "sparse_plus", "positive_part")  # noqa: PLE0604 - appended here so this block stays self-contained
__all__ += ["sparsemax", "sparse_plus", "positive_part"]


@_fast("positive_part")
def positive_part(xp, z):
    """``max(z, 0)`` whose gradient at ``z == 0`` is 1/2 (a tie shared equally, as jax's
    ``maximum`` and torch's ``maximum`` backward share it; TF's ``maximum`` gives it all to one
    side, hence the generic ``where`` form), nan kept: optax's ``jnp.maximum(0, z)`` of the
    perceptron loss, where a model whose scores start at exactly 0 still moves. jax overrides
    it with ``jnp.maximum`` (one op instead of five)."""
    return xp.where(z < 0, 0.0, xp.where(z > 0, z, 0.5 * z))


@_fast("sparse_plus")
def sparse_plus(xp, z):
    """``jax.nn.sparse_plus``: 0 for ``z <= -1``, ``(z + 1)^2 / 4`` on ``(-1, 1)``, ``z`` for
    ``z >= 1`` (its derivative is the sparse sigmoid ``clip((z + 1) / 2, 0, 1)``); the
    binary sparsemax loss. jax overrides it with ``jax.nn.sparse_plus`` (one compiled call; the
    same three branches, ``(z + 1) ** 2 / 4`` -- bitwise equal: a square is one product and
    the quarter a power of two)."""
    return xp.where(z <= -1, 0.0, xp.where(z >= 1, z, 0.25 * (z + 1) * (z + 1)))


@_fast("sparsemax")
def sparsemax(xp, x, axis=-1):
    r"""Sparsemax (Martins & Astudillo 2016) along ``axis``: the Euclidean projection of ``x``
    onto the probability simplex, :math:`p = \max(x - \tau, 0)` with :math:`\sum p = 1`.

    With :math:`z_{(1)} \ge \dots \ge z_{(C)}` the sorted values, the support size is
    :math:`k(z) = \max\{k : 1 + k z_{(k)} > \sum_{j \le k} z_{(j)}\}` and
    :math:`\tau = (\sum_{j \le k(z)} z_{(j)} - 1) / k(z)`. One sort, one cumulative sum and
    reductions: no data-dependent shape, traceable under ``jit`` / ``tf.function``. The values
    are shifted by their (gradient-free) maximum first (sparsemax is shift invariant) and
    float16/bfloat16 are computed in float32 (a half-precision running sum over the classes
    loses the support). ``-inf`` entries get probability 0 (a masked class).

    Gradient (autodiff of this body): the sparsemax Jacobian
    :math:`\partial p / \partial x = \mathrm{diag}(s) - s s^\top / |S|`, :math:`s` the support
    indicator: the running sum only decides the support (no gradient) and :math:`\tau`'s
    gradient is :math:`s / |S|` through the sort. jax and torch override it with that Jacobian
    written out (no sort in the backward pass). optax: ``projections.projection_simplex``
    (one vector); keras: ``ops.sparsemax`` (keras 3.15's threshold sums the running sums over
    the support instead of taking the last one: not the projection for more than one class in
    the support)."""
    half = _is_half(x)
    z = xp.astype(x, xp.float32) if half else x
    ndim = len(z.shape)
    ax = axis % ndim
    n = z.shape[ax]
    m = stop_gradient(xp, xp.max(z, axis=ax, keepdims=True))
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    z = z - m
    zs = xp.sort(z, axis=ax, descending=True)
    shape = [1] * ndim
    shape[ax] = n
    dev = getattr(z, "device", None)  # a jax tracer has none (XLA places it)
    k = xp.reshape(xp.arange(1, n + 1, dtype=z.dtype, device=dev), tuple(shape))
    # the support is a prefix of the sorted values; the running sum only decides it
    support = 1 + k * zs > stop_gradient(xp, xp.cumulative_sum(zs, axis=ax))
    size = xp.sum(xp.astype(support, z.dtype), axis=ax, keepdims=True)
    tau = (xp.sum(xp.where(support, zs, 0.0), axis=ax, keepdims=True) - 1) / size
    p = xp.where(z > tau, z - tau, 0.0)
    return xp.astype(p, x.dtype) if half else p
