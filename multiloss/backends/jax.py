"""The JAX adapter: the canonical losses under optax's names and semantics.

Every function here is built by one factory (:func:`_build`) from one row of :data:`TABLE`:
the optax name and signature, the canonical function it calls (``multiloss.losses``, always
with ``reduction='none'``), the options passed through, and small *pre* / *post* transforms
that turn optax's conventions into the canonical ones and back (class axis last -> torch's
class axis 1, ``targets=None`` -> zeros, ``where=`` masks, ``l2_loss = 0.5 * squared_error``,
positive vs negative cosine similarity, a sum over the class axis ...). No loss is written
here: the formulas live once, in ``multiloss/losses``.

optax conventions mirrored (``optax/losses/_regression.py``, ``_classification.py``, 0.2.8):

* per-example, unreduced outputs; ``(predictions, targets)`` / ``(logits, labels)`` order;
* class axis ``-1`` by default (``axis=`` may name another axis or a tuple of axes);
* ``where=`` masks (a boolean array of ``logits.shape``, or of the batch shape) on the
  cross-entropies, ``kl_divergence*`` and ``cosine_*``;
* hyper-parameters are keyword arguments with optax's defaults.

Every function is pure and traceable (``jax.jit``, ``grad``, ``value_and_grad``, ``vmap``):
shape and dtype errors raise at trace time; value checks (labels out of range, probabilities
outside [0, 1]) run only on concrete arrays, i.e. eagerly, and are skipped under transforms.

Usage::

    import multiloss.jax as mj
    loss = mj.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import jax
import jax.numpy as jnp

from .. import losses as _losses
from . import jax_ops as _jax_ops  # noqa: F401  (registers the fast primitives now)

__all__ = [
    "squared_error",
    "l2_loss",
    "l1_loss",
    "huber_loss",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
    "kl_divergence",
    "kl_divergence_with_log_targets",
    "cosine_similarity",
    "cosine_distance",
    "hinge_loss",
    "sigmoid_focal_loss",
    "focal_loss",
    "sce_loss",
    "mean_absolute_percentage_error",
    "l1_penalty",
    "l2_penalty",
    "default_exclude",
    "TABLE",
]

_EMPTY = inspect.Parameter.empty


# ----------------------------------------------------------------------------- call context


class _Call:
    """What one call carries through the pre-transforms: the prediction ``x``, the target
    ``t``, the canonical keyword arguments ``kw``, the bound native arguments ``a`` and the
    native names of the two array arguments."""

    __slots__ = ("fn", "names", "a", "x", "t", "kw", "info")

    def __init__(self, fn: str, names: tuple[str, str], a: dict, x: Any, t: Any, kw: dict):
        self.fn, self.names, self.a, self.x, self.t, self.kw = fn, names, a, x, t, kw
        self.info: dict = {}  # what a pre-transform leaves for a post-transform


def _asarray(v: Any) -> Any:
    return v if isinstance(v, jax.Array) else jnp.asarray(v)


# ----------------------------------------------------------------------------- pre-transforms
# Each takes the _Call and updates it in place. All decisions are on static facts (shapes,
# dtypes, Python arguments), never on array values, so they trace once under jit.


def _zeros_if_no_target(c: _Call) -> None:
    """optax: ``targets=None`` means a vector of zeros (``squared_error``, ``huber_loss`` ...)."""
    if c.t is None:
        c.t = jnp.zeros_like(c.x)


def _same_shape(c: _Call) -> None:
    """optax ``squared_error`` calls ``utils.check_shapes_equal`` (no broadcasting)."""
    if c.t.shape != c.x.shape:
        raise ValueError(
            f"{c.fn}: argument '{c.names[1]}' must have the shape of '{c.names[0]}' "
            f"{tuple(c.x.shape)} (optax checks that the shapes are equal); got {tuple(c.t.shape)}"
        )


def _broadcast(c: _Call) -> None:
    """optax broadcasts the second argument against the first silently; the canonical losses
    want equal shapes (or warn), so both are broadcast first (a no-op for equal shapes)."""
    if c.x.shape != c.t.shape:
        try:
            shape = jnp.broadcast_shapes(c.x.shape, c.t.shape)
        except ValueError:
            raise ValueError(
                f"{c.fn}: argument '{c.names[1]}' of shape {tuple(c.t.shape)} must broadcast "
                f"against '{c.names[0]}' of shape {tuple(c.x.shape)}"
            ) from None
        c.x, c.t = jnp.broadcast_to(c.x, shape), jnp.broadcast_to(c.t, shape)


def _integer_labels(c: _Call) -> None:
    """optax checks ``labels`` are integers (``utils.check_subdtype``); without this a float
    array would be read as probability targets by the canonical ``cross_entropy``. Their shape
    must be the logits' shape without the class axes (checked here, in optax's terms)."""
    if not jnp.issubdtype(c.t.dtype, jnp.integer):
        raise TypeError(
            f"{c.fn}: argument '{c.names[1]}' holds class indices and must be an integer array; "
            f"got dtype {c.t.dtype} with shape {tuple(c.t.shape)} (for probabilities or one-hot "
            f"labels use softmax_cross_entropy)"
        )
    axis = c.a.get("axis", -1)
    axes = _norm_axes(c.fn, axis, c.x.ndim)
    expected = tuple(d for i, d in enumerate(c.x.shape) if i not in axes)
    if tuple(c.t.shape) != expected:
        raise ValueError(
            f"{c.fn}: argument '{c.names[1]}' must have the shape of '{c.names[0]}' "
            f"{tuple(c.x.shape)} without axis={axis!r}, i.e. {expected}; got {tuple(c.t.shape)}"
        )


def _float_target(c: _Call) -> None:
    """Probability / one-hot labels as floats of the logits' dtype: an integer array would
    otherwise be read as class indices by the canonical ``cross_entropy``."""
    if c.t.dtype != c.x.dtype and jnp.issubdtype(c.x.dtype, jnp.floating):
        c.t = c.t.astype(c.x.dtype)


def _where(c: _Call) -> Any:
    """optax ``where=``: a boolean mask of the first argument's shape, or of that shape without
    ``axis`` (then expanded at ``axis``, as optax does). ``None`` when not given."""
    where = c.a.get("where")
    if where is None:
        return None
    where = _asarray(where)
    if where.ndim != c.x.ndim:
        where = jnp.expand_dims(where, c.a.get("axis", -1))
    where = jnp.broadcast_to(where.astype(bool), c.x.shape)
    c.info["where"] = where
    c.info["axes"] = _norm_axes(c.fn, c.a.get("axis", -1), c.x.ndim)
    return where


def _mask_logits(c: _Call) -> None:
    """``where`` on softmax losses: excluded logits become the dtype's lowest *finite* value
    (no mass in the normaliser, no gradient, and ``0 * log_softmax`` stays 0, not nan);
    excluded labels of the logits' shape become 0."""
    where = _where(c)
    if where is not None:
        c.x = jnp.where(where, c.x, jnp.finfo(c.x.dtype).min)
        if c.t.shape == c.x.shape:
            c.t = jnp.where(where, c.t, jnp.zeros((), c.t.dtype))


def _mask_zero(c: _Call) -> None:
    """``where`` on sums of elementwise terms (kl, cosine): excluded entries of both arguments
    become 0, so they add nothing to any sum (optax's ``sum(where=)``) and get no gradient."""
    where = _where(c)
    if where is not None:
        c.x = jnp.where(where, c.x, jnp.zeros((), c.x.dtype))
        c.t = jnp.where(where, c.t, jnp.zeros((), c.t.dtype))


def _norm_axes(fn: str, axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < ndim:
            raise ValueError(
                f"{fn}: argument 'axis' must be an int or a tuple of ints in [-{ndim}, {ndim}) "
                f"for {ndim}-d logits; got {axis!r}"
            )
    return tuple(a % ndim for a in axes)


def _classes_to_axis_1(c: _Call) -> None:
    """optax's class axis (``axis``, default -1) becomes the canonical one: 1 for batched
    input, 0 for a single ``(C,)`` vector. A tuple of axes (or ``None``: all) is flattened
    into one class axis, in order, as optax's integer-label variant does; integer labels then
    index that flattened axis. Probability labels (the logits' shape) move the same way;
    integer labels already have the batch shape the canonical function expects."""
    axes = _norm_axes(c.fn, c.a.get("axis", -1), c.x.ndim)
    c.info["axes"] = axes
    batch = tuple(i for i in range(c.x.ndim) if i not in axes)

    def move(v):
        if len(axes) == 1:
            return jnp.moveaxis(v, axes[0], 1) if v.ndim >= 2 and axes[0] != 1 else v
        if batch + axes != tuple(range(v.ndim)):
            v = jnp.transpose(v, batch + axes)
        v = jnp.reshape(v, v.shape[: len(batch)] + (-1,))
        return jnp.moveaxis(v, -1, 1) if v.ndim > 2 else v

    if c.t.shape == c.x.shape:
        c.t = move(c.t)
    c.x = move(c.x)


# ----------------------------------------------------------------------------- post-transforms
# (c, out) -> out


def _half(c, out):
    return 0.5 * out


def _negate(c, out):
    return -out


def _one_plus(c, out):
    # cosine distance = 1 - similarity = 1 + (negative similarity)
    return 1.0 + out


def _sum_axis(c, out):
    """Sum an elementwise canonical loss over optax's ``axis`` (masked entries are zero)."""
    return jnp.sum(out, axis=c.a.get("axis", -1))


def _zero_fully_masked(c, out):
    """optax: a row whose ``where`` excludes every entry gives 0 (its ``sum(where=)`` is
    empty). Its gradient is 0 here (the masked inputs get none), where optax's cosine
    functions give nan."""
    where = c.info.get("where")
    if where is None:
        return out
    axes = c.info["axes"]
    return jnp.where(jnp.any(where, axis=axes), out, jnp.zeros((), out.dtype))


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Entry:
    """One row: optax name -> canonical function with argument mapping and transforms.

    ``params``: the native signature after the two array arguments, as ``(name, default,
    keyword_only)``; ``names``: the native names of the two array arguments; ``options``:
    native keyword -> canonical keyword passed through; ``fixed``: canonical keywords fixed
    by the native semantics; ``optax``: the optax twin (``""`` for extras)."""

    name: str
    canonical: str
    names: tuple[str, str] = ("predictions", "targets")
    target_default: Any = _EMPTY
    params: tuple[tuple[str, Any, bool], ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    pre: tuple[Callable[[_Call], None], ...] = ()
    post: tuple[Callable[[_Call, Any], Any], ...] = ()
    optax: str = ""
    doc: str = ""


_CLASSES = (_broadcast, _mask_logits, _classes_to_axis_1)
_AXIS_WHERE = (("axis", -1, False), ("where", None, False))

TABLE: tuple[Entry, ...] = (
    Entry(
        "squared_error", "mse_loss", target_default=None,
        pre=(_zeros_if_no_target, _same_shape), optax="squared_error",
        doc=r"Elementwise :math:`(x - y)^2`; ``targets=None`` means zeros; shapes must be equal.",
    ),
    Entry(
        "l2_loss", "mse_loss", target_default=None,
        pre=(_zeros_if_no_target, _same_shape), post=(_half,), optax="l2_loss",
        doc=r"Elementwise :math:`\tfrac12 (x - y)^2` (``0.5 * squared_error``).",
    ),
    Entry(
        "l1_loss", "l1_loss", target_default=None, pre=(_zeros_if_no_target, _broadcast),
        doc=r"Elementwise :math:`|x - y|` (extra: optax 0.2.8 has no ``l1_loss``); "
        "``targets=None`` means zeros.",
    ),
    Entry(
        "huber_loss", "huber_loss", target_default=None, params=(("delta", 1.0, True),),
        options={"delta": "delta"}, pre=(_zeros_if_no_target, _broadcast), optax="huber_loss",
        doc=r"Elementwise Huber: :math:`\tfrac12 d^2` if :math:`|d| < \delta` else "
        r":math:`\delta(|d| - \tfrac12\delta)`, :math:`d = x - y`; ``targets=None`` means zeros.",
    ),
    Entry(
        "sigmoid_binary_cross_entropy", "binary_cross_entropy_with_logits",
        names=("logits", "labels"), pre=(_broadcast,), optax="sigmoid_binary_cross_entropy",
        doc=r"Elementwise :math:`-y\log\sigma(x) - (1-y)\log(1-\sigma(x))` on logits; labels "
        "in [0, 1] (soft labels allowed), broadcast against the logits.",
    ),
    Entry(
        "softmax_cross_entropy", "cross_entropy", names=("logits", "labels"),
        params=_AXIS_WHERE, pre=(*_CLASSES, _float_target), post=(_zero_fully_masked,),
        optax="softmax_cross_entropy",
        doc=r":math:`-\sum_c y_c \log\mathrm{softmax}(x)_c` along ``axis`` (default -1): labels "
        "are probabilities (or one-hot) broadcastable to the logits; output has the logits' "
        "shape without ``axis``.",
    ),
    Entry(
        "softmax_cross_entropy_with_integer_labels", "cross_entropy", names=("logits", "labels"),
        params=_AXIS_WHERE, fixed={"ignore_index": None},
        pre=(_integer_labels, _mask_logits, _classes_to_axis_1), post=(_zero_fully_masked,),
        optax="softmax_cross_entropy_with_integer_labels",
        doc=r":math:`\mathrm{logsumexp}(x) - x_y` along ``axis``: ``labels`` are integers in "
        "``[0, C)`` of the logits' shape without ``axis`` (with a tuple ``axis``, a flat index "
        "into those axes, as optax). Out-of-range labels raise ``ValueError`` eagerly (not "
        "checked under ``jit``, where they give undefined values as in optax). With ``where``, "
        "a label pointing at an excluded class gives a huge value (optax: the raw logit).",
    ),
    Entry(
        "kl_divergence", "kl_div", names=("log_predictions", "targets"), params=_AXIS_WHERE,
        pre=(_broadcast, _mask_zero), post=(_sum_axis,),
        optax="kl_divergence",
        doc=r":math:`\sum y(\log y - x)` along ``axis`` (``0 log 0 = 0``), ``x`` holding "
        "log-probabilities and ``y`` probabilities.",
    ),
    Entry(
        "kl_divergence_with_log_targets", "kl_div", names=("log_predictions", "log_targets"),
        params=_AXIS_WHERE, fixed={"log_target": True},
        pre=(_broadcast, _mask_zero), post=(_sum_axis,), optax="kl_divergence_with_log_targets",
        doc=r":math:`\sum e^{y}(y - x)` along ``axis``, both arguments log-probabilities.",
    ),
    Entry(
        "cosine_similarity", "cosine_similarity",
        params=(("epsilon", 0.0, True), ("axis", -1, True), ("where", None, True)),
        options={"epsilon": "epsilon", "axis": "axis"},
        pre=(_broadcast, _mask_zero), post=(_negate, _zero_fully_masked), optax="cosine_similarity",
        doc=r"The *positive* cosine similarity :math:`\sum \hat x \hat y` along ``axis``, with "
        r":math:`\hat v = v / \sqrt{\max(\sum v^2, \epsilon)}`. optax's default ``epsilon=0`` "
        "(the canonical ``multiloss.cosine_similarity``, negative as keras, defaults to 1e-12): "
        "a zero vector gives nan, as in optax; pass ``epsilon`` to avoid it.",
    ),
    Entry(
        "cosine_distance", "cosine_similarity",
        params=(("epsilon", 0.0, True), ("axis", -1, True), ("where", None, True)),
        options={"epsilon": "epsilon", "axis": "axis"},
        pre=(_broadcast, _mask_zero), post=(_zero_fully_masked, _one_plus), optax="cosine_distance",
        doc=r":math:`1 - \mathrm{cosine\_similarity}` (same ``epsilon``, ``axis``, ``where``).",
    ),
    Entry(
        "hinge_loss", "hinge", names=("predictor_outputs", "targets"), pre=(_broadcast,),
        fixed={"labels": "signed"}, optax="hinge_loss",
        doc=r"Elementwise :math:`\max(0, 1 - x y)`, targets in {-1, 1} used as given (optax; "
        "the canonical ``multiloss.hinge(labels='signed')``).",
    ),
    Entry(
        "sigmoid_focal_loss", "focal_loss", names=("logits", "labels"),
        params=(("alpha", None, True), ("gamma", 2.0, True)),
        options={"alpha": "alpha", "gamma": "gamma"}, fixed={"from_logits": True},
        pre=(_broadcast,), optax="sigmoid_focal_loss",
        doc=r"Elementwise focal loss on logits: :math:`\alpha_t (1 - p_t)^\gamma\,"
        r"\mathrm{BCE}`, :math:`p = \sigma(x)`; optax's defaults ``alpha=None, gamma=2``.",
    ),
    Entry(
        "focal_loss", "focal_loss",
        params=(("alpha", 0.75, False), ("gamma", 2.0, False), ("from_logits", False, False)),
        options={"alpha": "alpha", "gamma": "gamma", "from_logits": "from_logits"},
        pre=(_broadcast,),
        doc=r"Extra: the seed's binary focal loss, elementwise, on *probabilities* by default "
        "(``alpha=0.75, gamma=2``; BCE with torch's log clamp at -100), or on logits with "
        "``from_logits=True``. See :func:`multiloss.focal_loss`.",
    ),
    Entry(
        "sce_loss", "sce_loss", names=("logits", "labels"),
        params=(("alpha", 0.1, False), ("beta", 1.0, False), ("axis", -1, False)),
        options={"alpha": "alpha", "beta": "beta"}, pre=(_classes_to_axis_1,),
        doc=r"Extra: symmetric cross-entropy :math:`\alpha\,\mathrm{CE} + \beta\,\mathrm{RCE}` "
        "per example, class axis ``axis`` (default -1); labels are integers (the logits' shape "
        "without ``axis``) or probabilities (the logits' shape). See :func:`multiloss.sce_loss`.",
    ),
    Entry(
        "mean_absolute_percentage_error", "mean_absolute_percentage_error",
        params=(("epsilon", 1e-7, False),), options={"epsilon": "epsilon"}, pre=(_broadcast,),
        doc=r"Extra: elementwise :math:`100\,|y - x| / \max(|y|, \epsilon)` (keras' MAPE "
        "before its mean over the last axis).",
    ),
)


# ----------------------------------------------------------------------------- the factory


def _rename_error(e: Exception, entry: Entry) -> Exception:
    """A canonical error message (``"<canonical>: argument 'input' ..."``) re-addressed to the
    native function and argument names; any other exception is returned unchanged."""
    msg = str(e)
    prefix = f"{entry.canonical}: "
    if type(e) not in (TypeError, ValueError) or not msg.startswith(prefix):
        return e
    msg = msg[len(prefix):]
    for canon, native in (("input", entry.names[0]), ("target", entry.names[1])):
        msg = msg.replace(f"'{canon}'", f"'{native}'")
    return type(e)(f"{entry.name} (multiloss.{entry.canonical}): {msg}")


def _signature(entry: Entry) -> inspect.Signature:
    P = inspect.Parameter
    params = [
        P(entry.names[0], P.POSITIONAL_OR_KEYWORD),
        P(entry.names[1], P.POSITIONAL_OR_KEYWORD, default=entry.target_default),
    ]
    for name, default, kw_only in entry.params:
        params.append(P(name, P.KEYWORD_ONLY if kw_only else P.POSITIONAL_OR_KEYWORD, default=default))
    return inspect.Signature(params)


def _build(entry: Entry) -> Callable[..., Any]:
    """The one factory: a pure function with ``entry``'s optax name, signature and semantics."""
    canonical = getattr(_losses, entry.canonical)
    sig = _signature(entry)
    p_name, t_name = entry.names
    fixed = {"reduction": "none", **entry.fixed}
    options = tuple(entry.options.items())
    pre, post = entry.pre, entry.post

    def loss(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        kw = dict(fixed)
        for native, canon in options:
            kw[canon] = a[native]
        t = a[t_name]
        c = _Call(entry.name, entry.names, a, _asarray(a[p_name]), None if t is None else _asarray(t), kw)
        for step in pre:
            step(c)
        try:
            out = canonical(c.x, c.t, **c.kw)
        except (TypeError, ValueError) as e:
            renamed = _rename_error(e, entry)
            if renamed is e:
                raise
            raise renamed from None
        for step in post:
            out = step(c, out)
        return out

    loss.__name__ = loss.__qualname__ = entry.name
    loss.__module__ = "multiloss.jax"
    loss.__signature__ = sig  # type: ignore[attr-defined]
    twin = f"optax: ``optax.losses.{entry.optax}``." if entry.optax else "optax: none (a multiloss extra)."
    loss.__doc__ = (
        f"{entry.doc}\n\nPer-example and unreduced (take ``.mean()`` yourself). Calls "
        f":func:`multiloss.{entry.canonical}` with ``reduction='none'``; see its docstring "
        f"for the formula and shapes. {twin}\n\nSignature: ``{entry.name}{sig}``."
    )
    return loss


_FUNCTIONS = {e.name: _build(e) for e in TABLE}
globals().update(_FUNCTIONS)


# ----------------------------------------------------------------------------- penalties


def default_exclude(path: str) -> bool:
    """The default ``exclude`` of the penalties: a leaf whose key path (``jax.tree_util.keystr``,
    e.g. ``"['dense1']['bias']"``) contains ``"bias"`` is skipped, as the seed skips parameter
    names containing "bias"."""
    return "bias" in path


def _penalty_leaves(fn: str, params: Any, exclude: Callable[[str], bool] | None) -> list:
    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    if not leaves:
        raise ValueError(f"{fn}: argument 'params' must be a pytree with at least one array leaf; got {params!r}")
    kept = [leaf for path, leaf in leaves if exclude is None or not exclude(jax.tree_util.keystr(path))]
    if not kept:
        raise ValueError(
            f"{fn}: every leaf of 'params' was excluded by 'exclude' ({len(leaves)} leaves, e.g. "
            f"{jax.tree_util.keystr(leaves[0][0])!r}); pass exclude=None to penalise all of them"
        )
    return [_asarray(leaf) for leaf in kept]


def _build_penalty(name: str, formula: str) -> Callable[..., Any]:
    canonical = getattr(_losses, name)

    def penalty(params: Any, alpha: float = 1.0, exclude: Callable[[str], bool] | None = default_exclude) -> Any:
        leaves = _penalty_leaves(name, params, exclude)
        try:
            return canonical(leaves, alpha)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{str(e)} (leaves of the pytree 'params', in tree order)") from None

    penalty.__name__ = penalty.__qualname__ = name
    penalty.__module__ = "multiloss.jax"
    penalty.__doc__ = (
        f"{formula} over the array leaves of the pytree ``params`` whose key path is not "
        f"excluded.\n\n``exclude(path: str) -> bool`` gets each leaf's path as "
        f"``jax.tree_util.keystr`` writes it (default :func:`default_exclude`: skip paths "
        f"containing \"bias\"; ``None`` keeps every leaf). Returns a 0-d array; traceable under "
        f"``jit``/``grad``. Calls :func:`multiloss.{name}`. optax: none as a loss "
        f"(``optax.add_decayed_weights`` is the L2 decay as a gradient transformation)."
    )
    return penalty


l1_penalty = _build_penalty("l1_penalty", r":math:`\alpha \sum |p|`")
l2_penalty = _build_penalty("l2_penalty", r":math:`\alpha \sum p^2` (no ½)")
