"""The jax adapter's table: one :class:`Entry` per optax loss (or optax-style extra), with the
small pre/post transforms that turn optax's conventions into the canonical ones and back.

Importable without jax (``jax``/``jax.numpy`` are imported the first time a transform runs):
the catalogue, ``multiloss list`` and the porting tables are derived from :data:`TABLE`;
:mod:`multiloss.backends.jax` builds the functions from it;
:mod:`multiloss.conformance.natives_jax` holds every row with an ``optax`` twin against
optax on its ``checks``. Adding a jax loss = one :class:`Entry` here (CONTRIBUTING.md,
"Add a loss").
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import ShapeError
from ._rows import Check, HandWritten, lazy_module

__all__ = ["Entry", "TABLE", "Call", "HANDWRITTEN"]

jax = lazy_module("jax", globals(), "jax")
jnp = lazy_module("jax.numpy", globals(), "jnp")

_EMPTY = inspect.Parameter.empty

# ----------------------------------------------------------------------------- call context


class Call:
    """What one call carries through the pre-transforms: the prediction ``x``, the target
    ``t``, further array arguments ``args`` (losses of three or more arrays), the canonical
    keyword arguments ``kw``, the bound native arguments ``a`` and the native names of the
    array arguments."""

    __slots__ = ("fn", "names", "a", "x", "t", "args", "kw", "info")

    def __init__(self, fn: str, names: tuple[str, ...], a: dict, x: Any, t: Any, kw: dict, args: tuple = ()):
        self.fn, self.names, self.a, self.x, self.t, self.kw, self.args = fn, names, a, x, t, kw, args
        self.info: dict = {}  # what a pre-transform leaves for a post-transform


def _asarray(v: Any) -> Any:
    return v if isinstance(v, jax.Array) else jnp.asarray(v)


# ----------------------------------------------------------------------------- pre-transforms
# Each takes the Call and updates it in place. All decisions are on static facts (shapes,
# dtypes, Python arguments), never on array values, so they trace once under jit.


def _zeros_if_no_target(c: Call) -> None:
    """optax: ``targets=None`` means a vector of zeros (``squared_error``, ``huber_loss`` ...)."""
    if c.t is None:
        c.t = jnp.zeros_like(c.x)


def _same_shape(c: Call) -> None:
    """optax ``squared_error`` calls ``utils.check_shapes_equal`` (no broadcasting)."""
    if c.t.shape != c.x.shape:
        raise ValueError(
            f"{c.fn}: argument '{c.names[1]}' must have the shape of '{c.names[0]}' "
            f"{tuple(c.x.shape)} (optax checks that the shapes are equal); got {tuple(c.t.shape)}"
        )


def _broadcast(c: Call) -> None:
    """optax broadcasts the second argument against the first silently; the canonical losses
    want equal shapes (or warn), so both are broadcast first (a no-op for equal shapes)."""
    if c.x.shape != c.t.shape:
        try:
            shape = jnp.broadcast_shapes(c.x.shape, c.t.shape)
        except ValueError:
            raise ShapeError(  # optax/jax raise TypeError here: the jax adapter adds it
                f"{c.fn}: argument '{c.names[1]}' of shape {tuple(c.t.shape)} must broadcast "
                f"against '{c.names[0]}' of shape {tuple(c.x.shape)}"
            ) from None
        c.x, c.t = jnp.broadcast_to(c.x, shape), jnp.broadcast_to(c.t, shape)


def _integer_labels(c: Call) -> None:
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


def _float_target(c: Call) -> None:
    """Probability / one-hot labels as floats of the logits' dtype: an integer array would
    otherwise be read as class indices by the canonical ``cross_entropy``."""
    if c.t.dtype != c.x.dtype and jnp.issubdtype(c.x.dtype, jnp.floating):
        c.t = c.t.astype(c.x.dtype)


def _where(c: Call) -> Any:
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


def _mask_logits(c: Call) -> None:
    """``where`` on softmax losses: excluded logits become the dtype's lowest *finite* value
    (no mass in the normaliser, no gradient, and ``0 * log_softmax`` stays 0, not nan);
    excluded labels of the logits' shape become 0."""
    where = _where(c)
    if where is not None:
        c.x = jnp.where(where, c.x, jnp.finfo(c.x.dtype).min)
        if c.t.shape == c.x.shape:
            c.t = jnp.where(where, c.t, jnp.zeros((), c.t.dtype))


def _mask_zero(c: Call) -> None:
    """``where`` on sums of elementwise terms (kl, cosine): excluded entries of both arguments
    become 0, so they add nothing to any sum (optax's ``sum(where=)``) and get no gradient."""
    where = _where(c)
    if where is not None:
        c.x = jnp.where(where, c.x, jnp.zeros((), c.x.dtype))
        c.t = jnp.where(where, c.t, jnp.zeros((), c.t.dtype))


def _mask_generalized_kl(c: Call) -> None:
    r"""``where`` on the generalized KL divergence: excluded log-predictions become 0 and targets
    1, where :math:`y \log y - y x + e^x - y` is exactly 0 (zeros, as ``_mask_zero``, would add
    :math:`e^0 = 1`); the excluded entries get no gradient (optax's ``sum(where=)``)."""
    where = _where(c)
    if where is not None:
        c.x = jnp.where(where, c.x, jnp.zeros((), c.x.dtype))
        c.t = jnp.where(where, c.t, jnp.ones((), c.t.dtype))


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


def _classes_to_axis_1(c: Call) -> None:
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


def _same_rank_broadcast(c: Call) -> None:
    """torch's rule for ``margin_ranking_loss``'s three arrays (one rank, broadcastable
    shapes), checked here so the message uses the native names of all three arrays."""
    shapes = [tuple(v.shape) for v in (c.x, c.t, *c.args)]
    names = ", ".join(f"'{n}'" for n in c.names)
    if len({len(s) for s in shapes}) != 1:
        raise ValueError(f"{c.fn}: arguments {names} must have the same number of dimensions; got shapes "
                         f"{', '.join(map(str, shapes))}")
    try:
        jnp.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{c.fn}: arguments {names} must have broadcastable shapes; got shapes "
                         f"{', '.join(map(str, shapes))}") from None


def _weight_asarray(c: Call) -> None:
    """An array option (``weight``) given as a list / NumPy array becomes a jax array."""
    if c.kw.get("weight") is not None:
        c.kw["weight"] = _asarray(c.kw["weight"])


def _floating_labels(c: Call) -> None:
    """optax's ``utils.check_subdtype(labels, jnp.floating)`` (``poly_loss_cross_entropy``): a
    ``TypeError`` for integer labels, named here."""
    if not jnp.issubdtype(c.t.dtype, jnp.floating):
        raise TypeError(f"{c.fn}: argument '{c.names[1]}' must be a floating-point array (probabilities or "
                        f"one-hot labels, as optax checks); got dtype {c.t.dtype} with shape {tuple(c.t.shape)}")


def _where_of_logits_shape(c: Call) -> None:
    """optax's ``poly_loss_cross_entropy`` passes ``where`` to ``jax.nn.softmax`` unexpanded: a
    mask must broadcast to the logits as it is (one of the batch shape, which
    ``softmax_cross_entropy`` expands at ``axis``, fails there). Refused the same way, named."""
    where = c.a.get("where")
    if where is None:
        return
    shape = tuple(_asarray(where).shape)
    try:
        ok = jnp.broadcast_shapes(shape, tuple(c.x.shape)) == tuple(c.x.shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{c.fn}: argument 'where' must broadcast to the shape of '{c.names[0]}' "
                         f"{tuple(c.x.shape)} (optax does not expand it at 'axis' here); got {shape}")


def _alpha_asarray(c: Call) -> None:
    """A per-class ``alpha`` given as a list / NumPy array becomes a jax array (a number stays a
    number: the canonical function checks its value)."""
    a = c.kw.get("alpha")
    if a is not None and not isinstance(a, (int, float)):
        c.kw["alpha"] = _asarray(a)


def smooth_labels(labels: Any, alpha: Any, *, axis: Any = -1, where: Any = None) -> Any:
    r"""optax's ``smooth_labels``: :math:`(1 - \alpha)\,y + \alpha / K`, :math:`K` the size of
    ``axis`` (an int, a tuple or ``None``), or with ``where`` (a boolean mask) the number of
    included entries along ``axis`` (``jnp.sum(where, axis, keepdims=True)``, as optax). Floating
    ``labels`` of any shape (one-hot or probabilities); the result has their shape. Calls the
    canonical utility ``multiloss.losses.classification.smooth_labels``. A utility, not a loss:
    ``multiloss list`` does not show it. optax: ``optax.losses.smooth_labels``."""
    from ..losses.classification import smooth_labels as canonical

    return canonical(_asarray(labels), alpha, axis=axis, where=None if where is None else _asarray(where))


def _half_to_default_float(c: Call) -> None:
    """float16/bfloat16 predictions computed in jax's default float (float32; float64 under
    ``jax_enable_x64``), as optax's result is: it mixes them with default-float arrays
    (``jax.nn.one_hot(labels, C)`` in the multi-class margin losses; CTC: see
    ``optax_ctc_inputs``; optax/losses/_classification.py), which promotes the loss to that dtype. The
    gradient flows back through the cast in the input's dtype, as optax's does."""
    if c.x.dtype in (jnp.float16, jnp.bfloat16):
        c.x = c.x.astype(jnp.result_type(float))


def _one_hot_labels(c: Call) -> None:
    """optax's ``multiclass_hinge_loss`` / ``multiclass_perceptron_loss`` take any labels that
    ``jax.nn.one_hot`` encodes (optax/losses/_classification.py checks no dtype): float labels
    holding class numbers become int32 here (a non-integral float, which optax encodes as all
    zeros, is truncated instead). Then the integer-label shape check, in optax's terms."""
    if not jnp.issubdtype(c.t.dtype, jnp.integer):
        c.t = c.t.astype(jnp.int32)
    _integer_labels(c)


def _optax_triplet(c: Call) -> None:
    """optax ``triplet_margin_loss`` (optax/losses/_self_supervised.py) as the canonical
    ``triplet_margin_with_distance_loss``: its distance is
    ``(sum((x1 - x2) ** norm_degree, axis) + eps) ** (1 / norm_degree)`` (``eps`` inside the
    power sum and no ``abs``, unlike torch's ``||x1 - x2 + eps||_p``). optax checks floating
    dtypes and accepts any ``margin`` (torch requires > 0): a number becomes a 0-d array,
    which the canonical function uses unchecked."""
    for name, v in zip(c.names, (c.x, c.t, *c.args)):
        if not jnp.issubdtype(v.dtype, jnp.floating):
            raise TypeError(f"{c.fn}: argument '{name}' must be a floating-point array; got dtype {v.dtype}")
    axis, degree, eps = c.a["axis"], c.a["norm_degree"], c.a["eps"]

    def distance(x1, x2):
        return jnp.power(jnp.power(x1 - x2, degree).sum(axis) + eps, 1 / degree)

    c.kw["distance_function"] = distance
    c.kw["margin"] = jnp.asarray(c.a["margin"], dtype=c.x.dtype)


def _scalar_var(c: Call) -> None:
    """``var`` given as a number (torch accepts a float): one variance for every element."""
    if c.args and c.args[0].ndim == 0:
        c.args = (jnp.broadcast_to(c.args[0].astype(c.x.dtype), c.x.shape), *c.args[1:])


def optax_ctc_inputs(fn: str, logits: Any, logit_paddings: Any, labels: Any, label_paddings: Any):
    """optax's CTC arguments checked as optax checks them (``utils.check_rank``,
    ``check_shapes_equal``; optax/losses/_classification.py ``ctc_loss_with_forward_probs``):
    logits ``(B, T, K)``, logit_paddings ``(B, T)``, labels and label_paddings ``(B, N)``.
    Returns ``(log_probs (B, T, K), frame padding (B, T) bool, integer labels, label lengths
    (B,))``: optax's label length is ``N - sum(label_paddings)`` (labels right-padded)."""
    logits, logit_paddings, labels, label_paddings = map(_asarray, (logits, logit_paddings, labels, label_paddings))
    if logits.ndim != 3 or labels.ndim != 2:
        raise ValueError(f"{fn}: arguments 'logits' and 'labels' must be (B, T, K) and (B, N); got shapes "
                         f"{tuple(logits.shape)} and {tuple(labels.shape)}")
    if tuple(logit_paddings.shape) != tuple(logits.shape[:2]):
        raise ValueError(f"{fn}: argument 'logit_paddings' must have shape {tuple(logits.shape[:2])} (the "
                         f"logits' (B, T)); got {tuple(logit_paddings.shape)}")
    if tuple(label_paddings.shape) != tuple(labels.shape):
        raise ValueError(f"{fn}: argument 'label_paddings' must have the shape of 'labels' "
                         f"{tuple(labels.shape)}; got {tuple(label_paddings.shape)}")
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"{fn}: Expected `labels` to have batch size {logits.shape[0]}, got {labels.shape[0]}.")
    if not jnp.issubdtype(labels.dtype, jnp.integer):  # optax one-hot encodes them: any integral value
        labels = labels.astype(jnp.int32)
    label_lengths = labels.shape[1] - jnp.sum(label_paddings, axis=1).astype(jnp.int32)
    log_probs = jax.nn.log_softmax(logits)
    if log_probs.dtype in (jnp.float16, jnp.bfloat16):
        # optax's recursion mixes them with default-float arrays (jnp.ones(...) * log_epsilon,
        # the one-hot labels): the loss comes out in jax's default float, and so does ours
        log_probs = log_probs.astype(jnp.result_type(float))
    return log_probs, logit_paddings > 0.5, labels, label_lengths


def _optax_ctc(c: Call) -> None:
    """optax ``ctc_loss(logits, logit_paddings, labels, label_paddings)`` as the canonical
    ``ctc_loss(log_probs, targets, input_lengths, target_lengths)``: the log-softmax of the
    logits, time first. optax carries the state through a padded frame wherever it is; the
    canonical loss reads each sequence's first ``input_length`` frames, so the unpadded frames
    are moved to the front first (a stable sort: the same result for any padding pattern, a
    no-op reorder for right padding)."""
    log_probs, padded, labels, label_lengths = optax_ctc_inputs(c.fn, c.x, c.t, *c.args)
    order = jnp.argsort(padded, axis=1, stable=True)
    log_probs = jnp.take_along_axis(log_probs, order[:, :, None], axis=1)
    c.x = jnp.transpose(log_probs, (1, 0, 2))
    c.t = labels
    c.args = (jnp.sum(~padded, axis=1).astype(jnp.int32), label_lengths)


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


def _kw_asarray(*names: str) -> Callable[[Call], None]:
    """Array options (``where``, ``weights``, reference embeddings) given as lists / NumPy
    arrays become jax arrays, so the canonical function sees one library's arrays."""
    def pre(c: Call) -> None:
        for n in names:
            if c.kw.get(n) is not None:
                c.kw[n] = _asarray(c.kw[n])

    return pre


def _ranking_reduce(c, out):
    """optax ``_safe_reduce`` (optax/losses/_ranking.py) of the per-list losses: ``reduce_fn``
    with ``where=any(where, axis=-1)`` (the lists with a valid item); for ``jnp.mean`` a nan
    from no valid list becomes 0 unless the losses themselves hold a nan. ``reduce_fn=None``:
    unreduced, fully masked lists 0 (the canonical loss gives them 0 already)."""
    reduce_fn, where = c.a["reduce_fn"], c.kw.get("where")
    rows = None if where is None else jnp.any(where, axis=-1)
    if reduce_fn is None:
        return out
    output = reduce_fn(out, where=rows)
    if reduce_fn is jnp.mean:
        output = jnp.where(jnp.isnan(output) & ~jnp.any(jnp.isnan(out)), 0.0, output)
    return output


# ----------------------------------------------------------------------------- segmentation
# optax/losses/_segmentation.py (0.2.8): dice_loss, binary_dice_loss and
# multiclass_generalized_dice_loss, class axis last, softmax (sigmoid for one channel) applied
# unless apply_softmax=False. Pre-transforms turn them into the canonical `tversky` and
# `multiclass_generalized_dice_loss` on probabilities; a post-transform does dice_loss's class
# weights, background and reduction over the class axis.

_DICE_REDUCTIONS = ("mean", "sum", "none")


def _dice_probabilities(c: Call, apply: bool, apply_name: str) -> None:
    """optax's activation: sigmoid of a single channel, else softmax over the last axis. With
    ``apply=False`` optax requires probability distributions along the class axis
    (``jnp.allclose(sum, 1, rtol=1e-5)``): checked here on concrete arrays only (optax's check
    fails under ``jit``; this one is skipped there). A single channel is not checked for a sum
    of 1 (optax would then reject every mask that is not all ones, which makes its
    ``binary_dice_loss(apply_sigmoid=False)`` unusable): its values must be in [0, 1]."""
    from .._namespace import array_namespace
    from .._validation import check_min_max

    if not jnp.issubdtype(c.x.dtype, jnp.floating):
        raise TypeError(f"{c.fn}: argument '{c.names[0]}' must be a floating-point array; got dtype {c.x.dtype}")
    if c.x.ndim == 0:
        raise ValueError(f"{c.fn}: argument '{c.names[0]}' must have a class axis (the last); got a 0-d array")
    single = c.x.shape[-1] == 1
    if apply:
        c.x = jax.nn.sigmoid(c.x) if single else jax.nn.softmax(c.x, axis=-1)
        return
    xp = array_namespace(c.x)
    arg = f"{c.fn}: argument '{c.names[0]}'"
    if single:  # read on the host, a checkify check under "traced", or skipped (multiloss.checks)
        check_min_max(
            xp, c.x, lambda lo, hi: (lo >= 0) & (hi <= 1),
            lambda lo, hi: ValueError(f"{arg} must hold probabilities in [0, 1] when {apply_name}=False; got "
                                      f"values in [{lo:.6g}, {hi:.6g}]"),
            lambda: f"{arg} must hold probabilities in [0, 1] when {apply_name}=False; got a value outside",
        )
        return
    tol = 1e-5 + 1e-8 if jnp.finfo(c.x.dtype).bits >= 32 else 4 * float(jnp.finfo(c.x.dtype).eps)
    check_min_max(
        xp, c.x, lambda lo, hi: (abs(lo - 1) <= tol) & (abs(hi - 1) <= tol),
        lambda lo, hi: ValueError(f"{arg} must hold probability distributions that sum to 1 along the class axis "
                                  f"(the last) when {apply_name}=False; got sums in [{lo:.6f}, {hi:.6f}] (pass "
                                  f"logits with {apply_name}=True)"),
        lambda: f"{arg} must hold probability distributions that sum to 1 along the class axis (the last) when "
                f"{apply_name}=False; got another sum (pass logits with {apply_name}=True)",
        of=lambda x: jnp.sum(x, axis=-1),
    )


def _dice_axes(c: Call, axis: Any) -> tuple[int, ...]:
    """optax's ``axis`` (default: every axis but the first and the last), which must leave the
    class axis (the last) alone: optax would then mix the classes and reduce another axis."""
    from ..losses.segmentation import normalize_axes

    ndim = c.x.ndim
    if axis is None:
        return tuple(range(1, ndim - 1))
    axes = normalize_axes(c.fn, axis, ndim)
    if ndim - 1 in axes:
        raise ValueError(f"{c.fn}: argument 'axis' must not include the class axis (the last, {ndim - 1} of "
                         f"{ndim}-d predictions): the loss is computed per class; got {axis!r}")
    return axes


def _optax_dice(c: Call) -> None:
    """optax ``dice_loss``: a trailing class axis of size 1 is added to the lower-rank argument,
    then the shapes must be equal (``utils.check_shapes_equal``); ``class_weights`` rank 1
    (``utils.check_rank``) of size ``C`` (or 1); ``reduction`` one of mean/sum/none (checked
    here before computing, optax checks it last)."""
    if c.x.ndim == c.t.ndim - 1:
        c.x = c.x[..., None]
    if c.t.ndim == c.x.ndim - 1:
        c.t = c.t[..., None]
    if c.x.shape != c.t.shape:
        raise ShapeError(f"{c.fn}: argument '{c.names[1]}' must have the shape of '{c.names[0]}' {tuple(c.x.shape)} "
                         f"(optax adds a trailing class axis of size 1 to the lower-rank one, then checks that "
                         f"the shapes are equal); got {tuple(c.t.shape)}")
    reduction = c.a.get("reduction", "mean")
    if reduction not in _DICE_REDUCTIONS:
        raise ValueError(f"{c.fn}: argument 'reduction' must be one of 'mean', 'sum', 'none' (over the class "
                         f"axis); got {reduction!r}")
    weights = c.a.get("class_weights")
    if weights is not None:
        weights = _asarray(weights)
        n_classes = c.x.shape[-1] if c.x.ndim else 1
        if weights.ndim != 1 or weights.shape[0] not in (1, n_classes):
            raise ValueError(f"{c.fn}: argument 'class_weights' must be a 1-D array of one weight per class, "
                             f"shape ({n_classes},); got shape {tuple(weights.shape)}")
        c.info["class_weights"] = weights
    apply_name = "apply_sigmoid" if "apply_sigmoid" in c.a else "apply_softmax"
    _dice_probabilities(c, c.a[apply_name], apply_name)
    c.kw["axis"] = _dice_axes(c, c.a.get("axis"))


def _optax_binary_dice(c: Call) -> None:
    """optax ``binary_dice_loss``: arguments of one rank whose last axis is not 1 get a
    trailing class axis of size 1, then ``dice_loss`` (mean over that one class)."""
    if c.x.ndim == c.t.ndim and c.x.ndim and c.x.shape[-1] != 1:
        c.x, c.t = c.x[..., None], c.t[..., None]
    _optax_dice(c)


def _optax_generalized_dice(c: Call) -> None:
    """optax ``multiclass_generalized_dice_loss``: equal shapes (no rank adjustment), the
    activation, then the class axis (last) moved to the canonical axis 1."""
    if c.x.shape != c.t.shape:
        raise ShapeError(f"{c.fn}: argument '{c.names[1]}' must have the shape of '{c.names[0]}' "
                         f"{tuple(c.x.shape)} (optax checks that the shapes are equal); got {tuple(c.t.shape)}")
    _dice_probabilities(c, c.a["apply_softmax"], "apply_softmax")
    if c.x.ndim > 2:
        c.x, c.t = jnp.moveaxis(c.x, -1, 1), jnp.moveaxis(c.t, -1, 1)


def _dice_classes(c: Call, out: Any) -> Any:
    """dice_loss's per-class losses ``(..., C)``: times ``class_weights``, class 0 dropped with
    ``ignore_background`` (when ``C > 1``), then ``reduction`` over the class axis."""
    weights = c.info.get("class_weights")
    if weights is not None:
        out = out * weights
    if c.a.get("ignore_background") and out.shape[-1] > 1:
        out = out[..., 1:]
    reduction = c.a.get("reduction", "mean")
    if reduction == "mean":
        return jnp.mean(out, axis=-1)
    return jnp.sum(out, axis=-1) if reduction == "sum" else out


# ----------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class NativeDefault:
    """A default of a native signature that lives in the framework (optax's
    ``reduce_fn=jnp.mean``): named here as ``"module:attribute"`` so the table imports without
    jax, resolved when :mod:`multiloss.backends.jax` builds the function."""

    where: str

    def resolve(self) -> Any:
        from ._rows import load

        return load(self.where)

    def __repr__(self) -> str:
        return self.where.replace(":", ".")


@dataclass(frozen=True)
class Entry:
    """One row: optax name -> canonical function with argument mapping and transforms.

    ``params``: the native signature after the array arguments, as ``(name, default,
    keyword_only)``; ``names``: the native names of the array arguments (two, or more for
    losses of several arrays: the third onward reach the canonical function positionally);
    ``options``: native keyword -> canonical keyword passed through; ``fixed``: canonical
    keywords fixed by the native semantics; ``optax``: the optax twin (``""`` for extras).

    ``checks``: native conformance grids against ``optax.losses.<optax>`` (optax argument
    names; a ``where`` given as ``"mask:<name>"`` is one of the masks of
    :func:`multiloss.conformance.natives_jax.masks`)."""

    name: str
    canonical: str
    names: tuple[str, ...] = ("predictions", "targets")
    target_default: Any = _EMPTY
    params: tuple[tuple[str, Any, bool], ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    pre: tuple[Callable[[Call], None], ...] = ()
    post: tuple[Callable[[Call, Any], Any], ...] = ()
    optax: str = ""
    doc: str = ""
    checks: tuple[Check, ...] = ()
    twin_of: str = ""  # the canonical loss it is listed under, when not ``canonical`` (catalogue)
    # input policy (docs/input-policy.md), optax's own per function (multiloss.backends.jax._promote):
    # ``promote`` "float" = two float dtypes of predictions and targets promote (jnp arithmetic),
    # "" = the target is cast to the prediction's dtype (optax's ``labels.astype(logits.dtype)``);
    # ``int_predictions``: integer predictions are computed on (optax's margin, sparsemax and dice
    # losses), not refused; ``float_targets``: optax's ``check_subdtype(targets, floating)``;
    # ``converted``: arguments optax converts with ``jnp.asarray`` whatever they are
    # (``jax.nn.one_hot(labels, ...)``: Python lists, other frameworks' arrays)
    promote: str = "float"
    int_predictions: bool = False
    float_targets: bool = False
    converted: tuple[str, ...] = ()


_CLASSES = (_broadcast, _mask_logits, _classes_to_axis_1)
_ITEM_WEIGHTS = np.linspace(0.2, 1.8, 40).reshape(8, 5)  # ranking_softmax_loss(weights=) on (8, 5) lists
_AXIS_WHERE = (("axis", -1, False), ("where", None, False))

TABLE: tuple[Entry, ...] = (
    Entry(
        "squared_error", "mse_loss", target_default=None,
        pre=(_zeros_if_no_target, _same_shape), optax="squared_error", checks=(Check("regression"),),
        doc=r"Elementwise :math:`(x - y)^2`; ``targets=None`` means zeros; shapes must be equal.",
    ),
    Entry(
        "l2_loss", "mse_loss", target_default=None,
        pre=(_zeros_if_no_target, _same_shape), post=(_half,), optax="l2_loss", checks=(Check("regression"),),
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
        checks=(Check("regression", ({}, {"delta": 0.5}, {"delta": 2.0})),),
        doc=r"Elementwise Huber: :math:`\tfrac12 d^2` if :math:`|d| < \delta` else "
        r":math:`\delta(|d| - \tfrac12\delta)`, :math:`d = x - y`; ``targets=None`` means zeros.",
    ),
    Entry(
        "log_cosh", "log_cosh", target_default=None, pre=(_zeros_if_no_target, _broadcast), optax="log_cosh",
        checks=(Check("regression"), Check("regression", dtypes=("float16", "bfloat16"))),
        doc=r"Elementwise :math:`\log\cosh(x - y)` (about :math:`d^2/2` for small errors, "
        r":math:`|d| - \log 2` for large ones); ``targets=None`` means zeros, targets broadcast.",
    ),
    Entry(
        "sigmoid_binary_cross_entropy", "binary_cross_entropy_with_logits",
        names=("logits", "labels"), pre=(_broadcast,), optax="sigmoid_binary_cross_entropy", promote="",
        checks=(Check("logits_binary"), Check("logits_binary_soft")),
        doc=r"Elementwise :math:`-y\log\sigma(x) - (1-y)\log(1-\sigma(x))` on logits; labels "
        "in [0, 1] (soft labels allowed), broadcast against the logits.",
    ),
    Entry(
        "softmax_cross_entropy", "cross_entropy", names=("logits", "labels"),
        params=_AXIS_WHERE, pre=(*_CLASSES, _float_target), post=(_zero_fully_masked,),
        optax="softmax_cross_entropy",
        checks=(Check("class_prob", ({}, {"axis": 0}, {"where": "mask:elem"}, {"where": "mask:rows"})),
                Check("class_onehot")),
        doc=r":math:`-\sum_c y_c \log\mathrm{softmax}(x)_c` along ``axis`` (default -1): labels "
        "are probabilities (or one-hot) broadcastable to the logits; output has the logits' "
        "shape without ``axis``.",
    ),
    Entry(
        "softmax_cross_entropy_with_integer_labels", "cross_entropy", names=("logits", "labels"),
        params=_AXIS_WHERE, fixed={"ignore_index": None},
        pre=(_integer_labels, _mask_logits, _classes_to_axis_1), post=(_zero_fully_masked,),
        optax="softmax_cross_entropy_with_integer_labels",
        checks=(Check("class_index", ({}, {"where": "mask:elem_labels"}, {"where": "mask:rows"})),
                Check("class_index_3d", ({"axis": 1},))),
        doc=r":math:`\mathrm{logsumexp}(x) - x_y` along ``axis``: ``labels`` are integers in "
        "``[0, C)`` of the logits' shape without ``axis`` (with a tuple ``axis``, a flat index "
        "into those axes, as optax). Out-of-range labels raise ``ValueError`` eagerly (not "
        "checked under ``jit``, where they give undefined values as in optax). With ``where``, "
        "a label pointing at an excluded class gives a huge value (optax: the raw logit).",
    ),
    Entry(
        "kl_divergence", "kl_div", names=("log_predictions", "targets"), params=_AXIS_WHERE,
        pre=(_broadcast, _mask_zero), post=(_sum_axis,), float_targets=True,
        optax="kl_divergence",
        checks=(Check("log_probs", ({}, {"axis": 0}, {"where": "mask:elem"})),),
        doc=r":math:`\sum y(\log y - x)` along ``axis`` (``0 log 0 = 0``), ``x`` holding "
        "log-probabilities and ``y`` probabilities.",
    ),
    Entry(
        "kl_divergence_with_log_targets", "kl_div", names=("log_predictions", "log_targets"),
        params=_AXIS_WHERE, fixed={"log_target": True},
        pre=(_broadcast, _mask_zero), post=(_sum_axis,), optax="kl_divergence_with_log_targets", float_targets=True,
        # the domain's targets read as log-probabilities: any real values are valid there
        checks=(Check("log_probs", ({}, {"where": "mask:elem"})),),
        doc=r":math:`\sum e^{y}(y - x)` along ``axis``, both arguments log-probabilities.",
    ),
    Entry(
        "generalized_kl_divergence", "generalized_kl_divergence", names=("log_predictions", "targets"),
        params=_AXIS_WHERE, pre=(_broadcast, _mask_generalized_kl), post=(_sum_axis,),
        optax="generalized_kl_divergence", float_targets=True,
        # float16 on the normalized log_probs domain: there the divergence is not a tiny
        # difference of large terms in every element (see the canonical reference's grids)
        checks=(Check("log_measures", ({}, {"axis": 0}, {"where": "mask:elem"}, {"axis": None})),
                Check("log_probs", ({}, {"where": "mask:elem"})),
                Check("log_probs", ({},), dtypes=("float16",))),
        doc=r":math:`\sum y(\log y - x) + e^{x} - y` along ``axis`` (``0 log 0 = 0``): the KL "
        r"divergence of unnormalized measures (the Bregman divergence of :math:`p \log p - p`), ``x`` "
        "holding the log of the predicted measure and ``y`` the non-negative target.",
    ),
    Entry(
        # optax deprecates it (warn_deprecated_function) in favour of generalized_kl_divergence,
        # which it calls with the same arguments (optax/losses/_classification.py)
        "convex_kl_divergence", "generalized_kl_divergence", names=("log_predictions", "targets"),
        params=_AXIS_WHERE, pre=(_broadcast, _mask_generalized_kl), post=(_sum_axis,),
        optax="convex_kl_divergence", float_targets=True,
        checks=(Check("log_measures", ({}, {"where": "mask:elem"})),),
        doc=r"optax's deprecated name of ``generalized_kl_divergence`` (same arguments and numbers).",
    ),
    Entry(
        "cosine_similarity", "cosine_similarity",
        params=(("epsilon", 0.0, True), ("axis", -1, True), ("where", None, True)),
        options={"epsilon": "epsilon", "axis": "axis"},
        pre=(_broadcast, _mask_zero), post=(_negate, _zero_fully_masked), optax="cosine_similarity", float_targets=True,
        checks=(Check("regression", ({}, {"epsilon": 1e-6}, {"axis": 0}, {"where": "mask:elem_full"})),),
        doc=r"The *positive* cosine similarity :math:`\sum \hat x \hat y` along ``axis``, with "
        r":math:`\hat v = v / \sqrt{\max(\sum v^2, \epsilon)}`. optax's default ``epsilon=0`` "
        "(the canonical ``multiloss.cosine_similarity``, negative as keras, defaults to 1e-12): "
        "a zero vector gives nan, as in optax; pass ``epsilon`` to avoid it.",
    ),
    Entry(
        "cosine_distance", "cosine_similarity",
        params=(("epsilon", 0.0, True), ("axis", -1, True), ("where", None, True)),
        options={"epsilon": "epsilon", "axis": "axis"},
        pre=(_broadcast, _mask_zero), post=(_zero_fully_masked, _one_plus), optax="cosine_distance", float_targets=True,
        checks=(Check("regression", ({}, {"axis": 0}, {"where": "mask:elem_full"})),),
        doc=r":math:`1 - \mathrm{cosine\_similarity}` (same ``epsilon``, ``axis``, ``where``).",
    ),
    Entry(
        "hinge_loss", "hinge", names=("predictor_outputs", "targets"), pre=(_broadcast,),
        fixed={"labels": "signed"}, optax="hinge_loss", int_predictions=True,
        # labels in {-1, 1} only: with labels all in {0, 1} multiloss maps them (keras), optax not
        checks=(Check("hinge"),),
        doc=r"Elementwise :math:`\max(0, 1 - x y)`, targets in {-1, 1} used as given (optax; "
        "the canonical ``multiloss.hinge(labels='signed')``).",
    ),
    Entry(
        "sigmoid_focal_loss", "focal_loss", names=("logits", "labels"),
        params=(("alpha", None, True), ("gamma", 2.0, True)),
        options={"alpha": "alpha", "gamma": "gamma"}, fixed={"from_logits": True},
        pre=(_broadcast,), optax="sigmoid_focal_loss", promote="",
        checks=(Check("logits_binary", ({}, {"alpha": 0.25}, {"gamma": 0.0}, {"alpha": 0.25, "gamma": 1.5},
                                        {"alpha": 0.9, "gamma": 3.0}, {"gamma": 0.5})),
                Check("logits_binary_soft", ({"alpha": 0.25}, {"gamma": 0.5})),
                # float32 sigmoids of these logits round to 0 or 1; (1 - p_t)**gamma in log space
                Check("logits_binary_saturated", ({}, {"gamma": 0.5}, {"gamma": 0.5, "alpha": 0.25})),
                Check("logits_binary", ({}, {"gamma": 0.5, "alpha": 0.25}), dtypes=("float16", "bfloat16"))),
        doc=r"Elementwise focal loss on logits: :math:`\alpha_t (1 - p_t)^\gamma\,"
        r"\mathrm{BCE}`, :math:`p = \sigma(x)`; optax's defaults ``alpha=None, gamma=2``. "
        r":math:`(1 - p_t)^\gamma` is computed in log space as optax's: finite gradients for "
        r"``gamma < 1`` at any logit.",
    ),
    Entry(
        "safe_softmax_cross_entropy", "safe_softmax_cross_entropy", names=("logits", "labels"),
        pre=(_broadcast, _float_target, _classes_to_axis_1), optax="safe_softmax_cross_entropy",
        checks=(Check("class_prob"), Check("class_onehot"),
                Check("class_prob", dtypes=("float16", "bfloat16"))),
        doc=r":math:`-\sum_c y_c \log\mathrm{softmax}(x)_c` over the last axis with "
        r":math:`0 \log 0 = 0`: a logit of :math:`-\infty` whose label is 0 adds nothing and gets a "
        "zero gradient (``softmax_cross_entropy`` gives nan there); labels broadcastable to the logits.",
    ),
    Entry(
        "poly_loss_cross_entropy", "poly_loss_cross_entropy", names=("logits", "labels"),
        params=(("epsilon", 2.0, True), ("axis", -1, True), ("where", None, True)), options={"epsilon": "epsilon"},
        pre=(_floating_labels, _where_of_logits_shape, *_CLASSES), post=(_zero_fully_masked,),
        optax="poly_loss_cross_entropy",
        checks=(Check("class_prob", ({}, {"epsilon": -1.0}, {"epsilon": 0.0}, {"axis": 0}, {"where": "mask:elem"})),
                Check("class_onehot", ({}, {"epsilon": 0.5})),
                Check("class_prob", ({},), dtypes=("float16", "bfloat16"))),
        doc=r"PolyLoss (Poly-1): :math:`-\sum_c y_c \log p_c + \epsilon \sum_c y_c (1 - p_c)`, "
        r":math:`p = \mathrm{softmax}(x)` along ``axis`` (default -1); labels floating (probabilities "
        "or one-hot), broadcastable to the logits; ``where`` a mask broadcastable to the logits (optax "
        "does not expand a batch-shaped one here, unlike ``softmax_cross_entropy``).",
    ),
    Entry(
        "focal_loss", "focal_loss",
        params=(("alpha", 0.75, False), ("gamma", 2.0, False), ("from_logits", False, False)),
        options={"alpha": "alpha", "gamma": "gamma", "from_logits": "from_logits"},
        pre=(_broadcast,),
        doc=r"Extra: the loss survey's binary focal loss, elementwise, on *probabilities* by default "
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
        "categorical_focal_crossentropy", "categorical_focal_crossentropy", names=("predictions", "labels"),
        params=(("alpha", 0.25, False), ("gamma", 2.0, False), ("from_logits", False, False),
                ("label_smoothing", 0.0, False), ("axis", -1, False)),
        options={"alpha": "alpha", "gamma": "gamma", "from_logits": "from_logits", "label_smoothing": "label_smoothing"},
        pre=(_alpha_asarray, _classes_to_axis_1),
        doc=r"Extra (keras's ``categorical_focal_crossentropy``): per example "
        r":math:`-\sum_c \alpha_c (1 - p_c)^\gamma y_c \log p_c` along ``axis`` (default -1), "
        "``predictions`` probabilities (default) or logits (``from_logits=True``); labels integers (the "
        "predictions' shape without ``axis``) or probabilities / one-hot (their shape); ``alpha`` a "
        "number or one factor per class. See :func:`multiloss.categorical_focal_crossentropy`.",
    ),
    Entry(
        "categorical_generalized_cross_entropy", "categorical_generalized_cross_entropy",
        names=("predictions", "labels"), params=(("q", 0.5, False), ("from_logits", False, False), ("axis", -1, False)),
        options={"q": "q", "from_logits": "from_logits"}, pre=(_classes_to_axis_1,),
        doc=r"Extra (keras's ``categorical_generalized_cross_entropy``): per example "
        r":math:`(1 - p_y^q) / q`, ``q`` in (0, 1], ``predictions`` probabilities (default) or logits "
        "(``from_logits=True``) along ``axis`` (default -1), integer ``labels`` (their shape without "
        "``axis``). See :func:`multiloss.categorical_generalized_cross_entropy`.",
    ),
    Entry(
        "mean_absolute_percentage_error", "mean_absolute_percentage_error",
        params=(("epsilon", 1e-7, False),), options={"epsilon": "epsilon"}, pre=(_broadcast,),
        doc=r"Extra: elementwise :math:`100\,|y - x| / \max(|y|, \epsilon)` (keras' MAPE "
        "before its mean over the last axis).",
    ),
    Entry(
        "mean_squared_logarithmic_error", "mean_squared_logarithmic_error",
        params=(("epsilon", 1e-7, False),), options={"epsilon": "epsilon"}, pre=(_broadcast,),
        doc=r"Extra: elementwise :math:`(\log(1 + \max(x, \epsilon)) - \log(1 + \max(y, \epsilon)))^2` "
        "(keras' MSLE before its mean over the last axis; negatives count as ``epsilon``).",
    ),
    # ---- margin family: optax has none of these (extras: torch's names, per-example)
    Entry(
        "margin_ranking_loss", "margin_ranking_loss", names=("input1", "input2", "target"),
        params=(("margin", 0.0, False),), options={"margin": "margin"}, pre=(_same_rank_broadcast,),
        doc=r"Extra: elementwise :math:`\max(0, -y (x_1 - x_2) + \mathrm{margin})`, labels "
        r":math:`y \in \{-1, 1\}` (1 where ``input1`` should rank higher); the three arrays have "
        "one rank and broadcast (torch's argument names and rule).",
    ),
    Entry(
        "hinge_embedding_loss", "hinge_embedding_loss", params=(("margin", 1.0, False),),
        options={"margin": "margin"}, pre=(_broadcast,),
        doc=r"Extra: elementwise :math:`x` where :math:`y = 1`, :math:`\max(0, \mathrm{margin} - x)` "
        "where :math:`y = -1`.",
    ),
    Entry(
        "soft_margin_loss", "soft_margin_loss", pre=(_broadcast,),
        doc=r"Extra: elementwise :math:`\log(1 + e^{-y x})`, labels in {-1, 1} "
        "(``sigmoid_binary_cross_entropy`` with labels in {0, 1} is the same loss).",
    ),
    Entry(
        "multilabel_soft_margin_loss", "multilabel_soft_margin_loss", names=("logits", "labels"),
        params=(("weight", None, False),), options={"weight": "weight"}, pre=(_weight_asarray,),
        doc=r"Extra: per example, the mean over the last (class) axis of "
        r"``sigmoid_binary_cross_entropy(logits, labels)``, each class scaled by ``weight`` (``(C,)``).",
    ),
    Entry(
        "multilabel_margin_loss", "multilabel_margin_loss", names=("scores", "labels"),
        doc=r"Extra: per example, :math:`\sum_j \sum_{i \notin Y} \max(0, 1 - (x_{y_j} - x_i)) / C` "
        "over the labels :math:`y_j` before the first -1 (integer ``labels`` of the scores' shape).",
    ),
    Entry(
        "multi_margin_loss", "multi_margin_loss", names=("scores", "labels"),
        params=(("p", 1, False), ("margin", 1.0, False), ("weight", None, False)),
        options={"p": "p", "margin": "margin", "weight": "weight"}, pre=(_weight_asarray,),
        doc=r"Extra: per example, :math:`w_y \sum_{i \ne y} \max(0, \mathrm{margin} - x_y + x_i)^p / C`, "
        "integer ``labels`` ``(N,)``, ``p`` in {1, 2} (optax's ``multiclass_hinge_loss`` is the max "
        "over classes instead).",
    ),
    # ---- margin family, optax's own (optax/losses/_classification.py) and keras's as extras
    Entry(
        "multiclass_hinge_loss", "multiclass_hinge_loss", names=("scores", "labels"),
        pre=(_half_to_default_float, _one_hot_labels, _classes_to_axis_1), optax="multiclass_hinge_loss", int_predictions=True, converted=("labels",),
        checks=(Check("multi_margin_index"), Check("multi_margin_index", dtypes=("float16", "bfloat16"))),
        doc=r"Per example :math:`\max_c (x_c + 1 - [c = y]) - x_y`, i.e. "
        r":math:`\max(0, 1 + \max_{c \ne y} x_c - x_y)` (Crammer-Singer), class axis -1; ``labels``: "
        "class indices of the scores' shape without the last axis (out of range: ``ValueError`` "
        "eagerly; under ``jit`` unchecked).",
    ),
    Entry(
        "perceptron_loss", "perceptron_loss", names=("predictor_outputs", "targets"), pre=(_same_shape,),
        optax="perceptron_loss", int_predictions=True,
        checks=(Check("signed_margin"), Check("signed_margin", dtypes=("float16", "bfloat16"))),
        doc=r"Elementwise :math:`\max(0, -x y)`, targets in {-1, 1} used as given, shapes equal (optax "
        "checks them); the gradient at :math:`x y = 0` is :math:`-y/2`, as optax's ``jnp.maximum``.",
    ),
    Entry(
        "multiclass_perceptron_loss", "multiclass_perceptron_loss", names=("scores", "labels"),
        pre=(_half_to_default_float, _one_hot_labels, _classes_to_axis_1), optax="multiclass_perceptron_loss", int_predictions=True, converted=("labels",),
        checks=(Check("multi_margin_index"), Check("multi_margin_index", dtypes=("float16", "bfloat16"))),
        doc=r"Per example :math:`\max_c x_c - x_y`, class axis -1; ties for the maximum share its "
        "gradient equally (as optax's ``jnp.max``); ``labels`` as ``multiclass_hinge_loss``.",
    ),
    Entry(
        "squared_hinge_loss", "squared_hinge", names=("predictor_outputs", "targets"), pre=(_broadcast,),
        fixed={"labels": "signed"},
        doc=r"Extra: elementwise :math:`\max(0, 1 - x y)^2`, targets in {-1, 1} used as given (the "
        "square of optax's ``hinge_loss``; keras's ``squared_hinge`` also maps {0, 1} labels and "
        "averages the last axis: ``multiloss.squared_hinge``).",
    ),
    Entry(
        "categorical_hinge_loss", "categorical_hinge", names=("scores", "labels"),
        pre=(_broadcast, _float_target, _classes_to_axis_1),
        doc=r"Extra: per example keras's categorical hinge "
        r":math:`\max(\max_c (1 - y_c) x_c - \sum_c y_c x_c + 1, 0)` along the last axis, ``labels`` "
        "one-hot (or soft) of the scores' shape.",
    ),
    # ---- structured family: optax's sparsemax losses (optax/losses/_classification.py);
    # make_fenchel_young_loss returns a loss: HANDWRITTEN below (multiloss/backends/jax_structured.py)
    Entry(
        "sparsemax_loss", "sparsemax_loss", names=("logits", "labels"), optax="sparsemax_loss", promote="", int_predictions=True,
        checks=(Check("sparsemax_binary", staged=True),
                Check("sparsemax_binary", dtypes=("float16", "bfloat16"), staged=True)),
        doc=r"Elementwise binary sparsemax loss: ``sparse_plus(-x)`` where the label is 1, "
        r"``sparse_plus(x)`` where it is 0 (:math:`(x + 1)^2 / 4` on :math:`(-1, 1)`). ``labels`` in "
        "{0, 1}, of the logits' shape or broadcasting to it without enlarging it (optax broadcasts "
        "either way: ``(N, 1)`` labels against ``(N,)`` logits are an error here, an ``(N, N)`` loss "
        "there); other label values raise ``ValueError`` eagerly (optax reads any nonzero as 1).",
    ),
    Entry(
        "multiclass_sparsemax_loss", "multiclass_sparsemax_loss", names=("scores", "labels"),
        optax="multiclass_sparsemax_loss", int_predictions=True,
        # float64 only: optax's projection_simplex JVP (optax/projections/_projections.py) divides
        # by an integer count, so under jax_enable_x64 (the runner's, which differentiates every
        # native cell) its tangent is float64 for float32/float16/bfloat16 scores and jax raises
        # (without x64, float16/bfloat16 still do). tests/test_structured_losses.py holds the
        # float32/float16/bfloat16 values and the float32 gradient (x64 off) against optax.
        checks=(Check("sparsemax_index", dtypes=("float64",), staged=True),),
        doc=r"Per example :math:`\sum_i p_i (z_i - z_y) + \tfrac12 (1 - \lVert p \rVert^2)`, "
        r":math:`p = \mathrm{sparsemax}(z)` over the last axis; gradient :math:`p - e_y`. ``scores`` "
        "``(..., C)``; ``labels`` integer class indices of the scores' shape without the last axis "
        "(optax: ``(N, C)`` and ``(N,)`` only; a ``(N, 1)`` label array is an error here). Out-of-range "
        "labels raise ``ValueError`` eagerly (optax clamps or wraps them). The value keeps the scores' "
        "dtype (optax's is float64 under ``jax_enable_x64``).",
    ),
    # ---- sequence family: optax's CTC (optax/losses/_classification.py)
    Entry(
        "ctc_loss", "ctc_loss", names=("logits", "logit_paddings", "labels", "label_paddings"),
        params=(("blank_id", 0, True), ("log_epsilon", -1e5, True)),
        options={"blank_id": "blank", "log_epsilon": "log_epsilon"}, pre=(_optax_ctc,), optax="ctc_loss",
        # staged: optax's eager lax.scan compiles its loop anew on every call (seconds each)
        checks=(Check("ctc_optax", ({}, {"log_epsilon": -1e4}), dtypes=("float64",), staged=True),
                Check("ctc_optax_feasible", dtypes=("float32",), staged=True)),
        doc=r"Per-sequence CTC loss :math:`-\log p(y \mid x)` of ``logits`` ``(B, T, K)`` (the softmax "
        "is taken here) against ``labels`` ``(B, N)``; ``logit_paddings`` ``(B, T)`` and "
        "``label_paddings`` ``(B, N)`` are 1.0 at padded positions (labels right-padded). "
        "``log_epsilon`` stands for log(0) as in optax: a target that no alignment reaches gets "
        "a large finite loss, never inf (``multiloss.ctc_loss`` without it: inf, as torch). "
        "``ctc_loss_with_forward_probs`` also returns the forward log-probabilities.",
    ),
    # ---- embedding family: optax's triplet_margin_loss (its own distance), the rest extras
    Entry(
        # listed under triplet_margin_loss in the catalogue: optax's twin of torch's
        # TripletMarginLoss, computed through the distance-function form (its eps sits inside
        # optax's norm)
        "triplet_margin_loss", "triplet_margin_with_distance_loss", twin_of="triplet_margin_loss",
        names=("anchors", "positives", "negatives"),
        params=(("axis", -1, False), ("norm_degree", 2, False), ("margin", 1.0, False), ("eps", 1e-6, False)),
        pre=(_optax_triplet,), optax="triplet_margin_loss",
        checks=(Check("triplets", ({}, {"margin": 0.5}, {"norm_degree": 4}, {"norm_degree": 1}, {"eps": 0.1},
                                   {"axis": 0}, {"margin": 0.0})),),
        doc=r"Per triplet :math:`\max(0, d(a, p) - d(a, n) + \mathrm{margin})` with optax's distance "
        r":math:`d(x, y) = (\sum (x - y)^q + \epsilon)^{1/q}` along ``axis``, :math:`q` = "
        "``norm_degree`` (``eps`` inside the power sum, no absolute value: torch's "
        r"``TripletMarginLoss`` uses :math:`\lVert x - y + \epsilon \rVert_p`, see "
        "``triplet_margin_with_distance_loss``).",
    ),
    Entry(
        "triplet_margin_with_distance_loss", "triplet_margin_with_distance_loss",
        names=("anchor", "positive", "negative"),
        params=(("distance_function", None, True), ("margin", 1.0, True), ("swap", False, True)),
        options={"distance_function": "distance_function", "margin": "margin", "swap": "swap"},
        doc=r"Extra: per triplet :math:`\max(0, \mathrm{margin} + d(a, p) - d(a, n))` with any "
        "``distance_function(x1, x2)`` (default torch's ``pairwise_distance``, "
        r":math:`\lVert x_1 - x_2 + 10^{-6} \rVert_2`); ``swap`` uses :math:`\min(d(a, n), d(p, n))`.",
    ),
    Entry(
        "cosine_embedding_loss", "cosine_embedding_loss", names=("input1", "input2", "target"),
        params=(("margin", 0.0, False),), options={"margin": "margin"},
        doc=r"Extra: per pair :math:`1 - \cos(x_1, x_2)` where the label is 1, "
        r":math:`\max(0, \cos(x_1, x_2) - \mathrm{margin})` where it is -1 (0 otherwise); "
        "``input1``, ``input2`` ``(N, D)``, ``target`` ``(N,)`` (torch's names and rules).",
    ),
    # ---- batch losses: optax's ntxent (a scalar: the mean over the positive pairs), keras's
    # circle (an extra here, per anchor)
    Entry(
        "ntxent", "ntxent", names=("embeddings", "labels"), params=(("temperature", 0.07, False),),
        options={"temperature": "temperature"}, fixed={"reduction": "mean"}, optax="ntxent",
        checks=(Check("contrastive_batch", ({}, {"temperature": 0.5})),
                Check("contrastive_batch", ({"temperature": 0.5},), dtypes=("float16", "bfloat16"))),
        doc=r"NT-Xent (SimCLR): the mean over the positive pairs :math:`(i, j)` (equal labels, "
        r":math:`i \ne j`) of :math:`-\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k: y_k \ne y_i} e^{s_{ik}}}`, "
        r":math:`s` the cosine similarities over ``temperature``. A scalar, as optax's. Concrete "
        "``labels`` must hold at least two classes.",
    ),
    Entry(
        "circle_loss", "circle", names=("embeddings", "labels"),
        params=(("gamma", 80.0, True), ("margin", 0.4, True), ("remove_diagonal", True, True),
                ("normalize", True, True), ("ref_embeddings", None, True), ("ref_labels", None, True)),
        options={"gamma": "gamma", "margin": "margin", "remove_diagonal": "remove_diagonal",
                 "normalize": "normalize", "ref_embeddings": "ref_embeddings", "ref_labels": "ref_labels"},
        pre=(_kw_asarray("ref_embeddings", "ref_labels"),),
        doc=r"Extra: keras's Circle loss per anchor, ``(N,)``: pairs mined by label equality against "
        "the batch (or ``ref_embeddings`` ``(M, D)`` / ``ref_labels`` ``(M,)``), "
        r":math:`\mathrm{softplus}(\mathrm{lse}_P(-\gamma [m + d]_+ (m - d)) + "
        r"\mathrm{lse}_N(\gamma [1 + m - d]_+ (1 - m - d)))`, :math:`d` the cosine distance (embeddings "
        "normalised unless ``normalize=False``; keras's own takes them as given). 0 for an anchor "
        "without a positive or a negative.",
    ),
    # ---- ranking family (optax/losses/_ranking.py)
    Entry(
        "ranking_softmax_loss", "ranking_softmax_loss", names=("logits", "labels"),
        params=(("where", None, True), ("weights", None, True), ("reduce_fn", NativeDefault("jax.numpy:mean"), True)),
        options={"where": "where", "weights": "weight"}, pre=(_kw_asarray("where", "weight"),),
        post=(_ranking_reduce,), optax="ranking_softmax_loss", promote="",
        checks=(Check("ranking_lists", ({}, {"where": "mask:elem"}, {"reduce_fn": None},
                                        {"where": "mask:elem", "reduce_fn": None}, {"weights": _ITEM_WEIGHTS},
                                        {"weights": _ITEM_WEIGHTS, "where": "mask:elem"})),
                Check("ranking_lists", ({"where": "mask:elem"},), dtypes=("float16", "bfloat16"))),
        doc=r"Listwise softmax cross-entropy :math:`-\sum_i w_i y_i \log\mathrm{softmax}(s)_i` over the "
        "last axis (the valid items of ``where``; a list without one gives 0), reduced by "
        "``reduce_fn`` (``jnp.mean``, ``jnp.sum`` or any function taking ``where=``; ``None``: one "
        "value per list) over the lists with a valid item, as optax's ``_safe_reduce``.",
    ),
    # ---- probabilistic: optax has no Poisson or Gaussian likelihood (extras)
    Entry(
        "poisson_nll_loss", "poisson_nll_loss",
        params=(("log_input", True, False), ("full", False, False), ("eps", 1e-8, False)),
        options={"log_input": "log_input", "full": "full", "eps": "eps"},
        doc=r"Extra: elementwise Poisson negative log-likelihood :math:`e^x - y x` (``log_input``: "
        r"log-rates) or :math:`x - y \log(x + \epsilon)`; ``full`` adds Stirling's "
        r":math:`y \log y - y + \tfrac12 \log(2\pi y)` where :math:`y > 1`.",
    ),
    Entry(
        "gaussian_nll_loss", "gaussian_nll_loss", names=("predictions", "targets", "var"),
        params=(("full", False, False), ("eps", 1e-6, False)), options={"full": "full", "eps": "eps"},
        pre=(_scalar_var,),
        doc=r"Extra: elementwise Gaussian negative log-likelihood "
        r":math:`\tfrac12 (\log v + (x - y)^2 / v)`, :math:`v = \max(\mathrm{var}, \epsilon)`; "
        "``var`` of the predictions' shape, that shape without its last axis, with one axis of "
        "size 1, or a number (torch's rules).",
    ),
    # ---- segmentation family (optax/losses/_segmentation.py): dice_loss and binary_dice_loss
    # are the canonical tversky (optax's alpha weighs the false positives, as the canonical's);
    # float16/bfloat16: optax sums in that dtype, multiloss in float32
    Entry(
        "dice_loss", "tversky",
        params=(("class_weights", None, True), ("smooth", 1.0, True), ("alpha", 0.5, True), ("beta", 0.5, True),
                ("apply_softmax", True, True), ("reduction", "mean", True), ("ignore_background", False, True),
                ("axis", None, True)),
        options={"smooth": "smooth", "alpha": "alpha", "beta": "beta"}, fixed={"epsilon": 0.0},
        pre=(_optax_dice,), post=(_dice_classes,), optax="dice_loss", int_predictions=True,
        checks=(Check("seg_logits_last", ({}, {"alpha": 0.3, "beta": 0.7}, {"smooth": 0.5, "reduction": "sum"},
                                          {"reduction": "none"}, {"class_weights": np.array([0.5, 1.0, 2.0])},
                                          {"ignore_background": True, "reduction": "none"}, {"axis": (0, 1, 2)},
                                          {"axis": 1, "alpha": 0.8, "beta": 0.1, "reduction": "none"},
                                          {"class_weights": np.array([0.5, 1.0, 2.0]), "ignore_background": True,
                                           "smooth": 0.0})),
                Check("seg_probs_last", ({"apply_softmax": False},
                                         {"apply_softmax": False, "class_weights": np.array([2.0, 1.0, 0.5])})),
                Check("seg_binary_logits", ({}, {"axis": 0})),
                Check("seg_logits_last", ({}, {"alpha": 0.3, "beta": 0.7, "reduction": "none"}),
                      dtypes=("float16", "bfloat16"))),
        doc=r"Per-class (soft) Dice/Tversky loss along the last (class) axis: "
        r":math:`1 - (I_c + s) / (I_c + \alpha (P_c - I_c) + \beta (T_c - I_c) + s)`, sums over ``axis`` "
        "(default: every axis but the first and the last; it may not include the last), of the softmax of "
        "``predictions`` (the sigmoid of a single channel; ``apply_softmax=False``: probabilities summing to 1 "
        "along the class axis, checked eagerly), times ``class_weights``, class 0 dropped with "
        "``ignore_background``, then ``reduction`` over the classes (``'none'`` keeps them). A prediction of "
        "one rank less gets a trailing class axis of size 1.",
    ),
    Entry(
        "binary_dice_loss", "tversky", params=(("smooth", 1.0, True), ("apply_sigmoid", True, True)),
        options={"smooth": "smooth"}, fixed={"epsilon": 0.0}, pre=(_optax_binary_dice,), post=(_dice_classes,),
        optax="binary_dice_loss",
        # apply_sigmoid=False is not held against optax: optax then demands probabilities summing to 1
        # over the single channel, i.e. all ones (see _dice_probabilities)
        checks=(Check("seg_binary_logits", ({}, {"smooth": 0.5}, {"smooth": 0.0})),
                Check("seg_logits_last", ({},)),
                Check("seg_binary_logits", ({},), dtypes=("float16", "bfloat16"))),
        doc=r"Binary Dice loss per example: :math:`1 - (I + s) / (	frac12 (P + T) + s)` of the sigmoid of "
        "``predictions`` (``apply_sigmoid=False``: probabilities in [0, 1]), summed over every axis but the "
        "first; arguments ``[...]`` or ``[..., 1]``.",
    ),
    Entry(
        "multiclass_generalized_dice_loss", "multiclass_generalized_dice_loss",
        params=(("smooth", 1.0, True), ("apply_softmax", True, True), ("ignore_background", False, True)),
        options={"smooth": "smooth", "ignore_background": "ignore_background"}, fixed={"reduction": "mean"},
        pre=(_optax_generalized_dice,), optax="multiclass_generalized_dice_loss", int_predictions=True,
        checks=(Check("seg_logits_last", ({}, {"smooth": 0.5}, {"ignore_background": True})),
                Check("seg_probs_last", ({"apply_softmax": False}, {"apply_softmax": False, "smooth": 0.0})),
                Check("class_onehot", ({},)),
                Check("seg_logits_last", ({}, {"ignore_background": True}), dtypes=("float16", "bfloat16"))),
        doc=r"Generalized Dice loss, a scalar: the mean over examples and classes of "
        r":math:`w_c (1 - (I + s) / (	frac12 (P + T) + s))` per example and class (sums over every axis but "
        r"the first and the last), :math:`w_c \propto 1 / (f_c^2 + 10^{-7})` (mean 1) from the class "
        "frequencies :math:`f_c` of all ``targets``; softmax of ``predictions`` over the last axis unless "
        "``apply_softmax=False``; ``ignore_background`` drops class 0 after the weighting.",
    ),
)

_JP = "multiloss.backends.jax_parametric"
# forms outside the factory, exported by multiloss.jax: a loss returning several arrays, and
# the losses that own parameters (an init function + a pure function over the params pytree)
HANDWRITTEN: tuple[HandWritten, ...] = (
    HandWritten("ctc_loss_with_forward_probs", "multiloss.backends.jax:ctc_loss_with_forward_probs", "ctc_loss", True),
    HandWritten("linear_cross_entropy", f"{_JP}:linear_cross_entropy", "linear_cross_entropy"),
    HandWritten("linear_cross_entropy_init", f"{_JP}:linear_cross_entropy_init"),
    HandWritten("adaptive_log_softmax_with_loss", f"{_JP}:adaptive_log_softmax_with_loss", "adaptive_log_softmax_with_loss"),
    HandWritten("adaptive_log_softmax_init", f"{_JP}:adaptive_log_softmax_init"),
    HandWritten("adaptive_log_softmax_log_prob", f"{_JP}:adaptive_log_softmax_log_prob"),
    HandWritten("adaptive_log_softmax_predict", f"{_JP}:adaptive_log_softmax_predict"),
    HandWritten("params_from_state_dict", f"{_JP}:params_from_state_dict"),
    # optax's loss factory: the loss it returns is the canonical fenchel_young_loss
    HandWritten("make_fenchel_young_loss", "multiloss.backends.jax_structured:make_fenchel_young_loss",
                "fenchel_young_loss", True),
    # optax's label-smoothing utility (not a loss: no catalogue row)
    HandWritten("smooth_labels", "multiloss.backends.jax_table:smooth_labels", "", True),
)
