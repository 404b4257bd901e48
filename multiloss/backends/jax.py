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
import re
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from .. import _ops
from .. import losses as _losses
from .._namespace import array_namespace as _array_namespace
from ..errors import JAX as _JAX_ERRORS
from ..errors import DTypeError, MultilossError, native_error
from . import jax_ops as _jax_ops  # noqa: F401  (registers the fast primitives now)
from .jax_table import TABLE, Call, Entry, NativeDefault, _asarray, optax_ctc_inputs


# ----------------------------------------------------------------------------- the factory


def _rename_error(e: Exception, entry: Entry) -> Exception:
    """A canonical error message (``"<canonical>: argument 'input' ..."``) re-addressed to the
    native function and argument names; any other exception is returned unchanged."""
    msg = str(e)
    prefix = f"{entry.canonical}: "
    if not (type(e) in (TypeError, ValueError) or isinstance(e, MultilossError)) or not msg.startswith(prefix):
        return e
    msg = msg[len(prefix):]
    # the canonical array arguments, by position, to the native names (one pass: a canonical
    # name may be another row's native one, e.g. 'target' -> 'input2' beside 'input2' -> ...)
    canon = list(inspect.signature(getattr(_losses, entry.canonical)).parameters)[: len(entry.names)]
    names = dict(zip(canon, entry.names))
    msg = re.sub(r"'(\w+)'", lambda m: f"'{names.get(m.group(1), m.group(1))}'", msg)
    where = entry.name if entry.name == entry.canonical else f"{entry.name} (multiloss.{entry.canonical})"
    return type(e)(f"{where}: {msg}")


# ----------------------------------------------------------------------------- input policy
# docs/input-policy.md: optax's own rules. Arrays are optax's ``ArrayLike`` (jax arrays, NumPy
# arrays and scalars, Python numbers); lists, tuples and other frameworks' arrays are refused
# (optax: "TypeError: Cannot determine dtype of [...]"); integer predictions, the promotion of
# two float dtypes and integer targets follow each optax function (the table's ``promote`` and
# ``float_targets``). O(1) on the happy path: an isinstance and a dtype comparison.

_SCALARS = (bool, int, float, complex, np.generic)


def _arraylike(fn: str, name: str, v: Any) -> Any:
    """``v`` as a jax array when it is optax's ``ArrayLike``; else a TypeError naming ``fn`` and
    the argument."""
    if isinstance(v, jax.Array):
        return v
    if isinstance(v, (np.ndarray, *_SCALARS)) or hasattr(type(v), "__jax_array__"):
        return jnp.asarray(v)
    hint = ""
    if isinstance(v, (list, tuple)):
        hint = " (a Python sequence: optax refuses it too; convert it with jnp.asarray(...))"
    elif type(v).__module__.split(".")[0] in ("torch", "tensorflow", "keras"):
        hint = " (an array of another framework: convert it to a jax or NumPy array first)"
    t = type(v)
    raise TypeError(f"{fn}: argument '{name}' must be a jax array, a NumPy array or a scalar (optax's "
                    f"ArrayLike); got {t.__module__}.{t.__qualname__}{hint}")


def _converted(fn: str, name: str, v: Any) -> Any:
    """An argument optax converts with ``jnp.asarray`` whatever it is (``jax.nn.one_hot(labels,
    ...)`` in its multiclass margin losses: a Python list, a torch tensor); a TypeError naming
    ``fn`` and the argument when jax cannot convert it."""
    try:
        return jnp.asarray(v)
    except (TypeError, ValueError) as exc:
        t = type(v)
        raise TypeError(f"{fn}: argument '{name}' must be an array or a rectangular list of integers; got "
                        f"{t.__module__}.{t.__qualname__} jax cannot convert ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160]})") from None


_FLOATING = frozenset(np.dtype(d) for d in ("float16", "float32", "float64", jnp.bfloat16))


def _promote(c: Call, rule: str, float_targets: bool, int_predictions: bool) -> None:
    """Predictions and targets of two dtypes, as optax's ``jnp`` arithmetic treats them (the
    table's ``promote``): ``"float"`` two float dtypes promote (``float32`` and ``float64``:
    ``float64``, under ``jax_enable_x64``). ``int_predictions``: integer predictions are
    computed on as floats (optax's ``hinge_loss`` and perceptron / sparsemax / dice losses
    compute on them; the others refuse them with ``check_subdtype``). ``float_targets``: optax's
    ``check_subdtype(targets, floating)`` (``kl_divergence``, ``cosine_*``)."""
    xf, tf = c.x.dtype in _FLOATING, c.t.dtype in _FLOATING
    if float_targets and not tf:
        raise DTypeError(f"{c.fn}: argument '{c.names[1]}' must be a floating-point array (optax checks its "
                         f"dtype); got dtype {c.t.dtype} with shape {tuple(c.t.shape)}")
    if int_predictions and not xf and c.x.dtype != jnp.bool_:
        dt = jnp.promote_types(c.x.dtype, c.t.dtype) if tf else jnp.result_type(float)
        c.x, xf = c.x.astype(dt), True
    if rule and xf and tf and c.x.dtype != c.t.dtype:
        dt = jnp.promote_types(c.x.dtype, c.t.dtype)
        c.x, c.t = c.x.astype(dt), c.t.astype(dt)


def _bind_error(entry: Entry, sig: inspect.Signature, e: TypeError) -> TypeError:
    msg = str(e)
    if "'reduction'" in msg and "reduction" not in sig.parameters:
        msg += (" (multiloss.jax losses are per-example and unreduced, as optax's: reduce the result "
                "yourself, e.g. .mean())")
    return TypeError(f"{entry.name}: {msg}; signature: {entry.name}{sig}")


def _two_devices(fn: str, c: Call) -> None:
    """Raise a ValueError naming the arguments when the jax arrays of a call are committed to
    two devices (jax's own error names no loss); return otherwise."""
    on = []
    for n, v in zip(c.names, (c.x, c.t, *c.args)):
        try:
            devices = v.devices() if isinstance(v, jax.Array) else None
        except Exception:  # a tracer: no devices
            devices = None
        if devices:
            on.append((n, sorted(str(d) for d in devices)))
    if len({tuple(d) for _, d in on}) > 1:
        where = ", ".join(f"'{n}' on {', '.join(d)}" for n, d in on)
        raise ValueError(f"{fn}: all arrays must be on one device; got {where} (move them with jax.device_put)")


def _signature(entry: Entry) -> inspect.Signature:
    P = inspect.Parameter
    params = [
        P(entry.names[0], P.POSITIONAL_OR_KEYWORD),
        P(entry.names[1], P.POSITIONAL_OR_KEYWORD, default=entry.target_default),
        *(P(n, P.POSITIONAL_OR_KEYWORD) for n in entry.names[2:]),
    ]
    for name, default, kw_only in entry.params:
        if isinstance(default, NativeDefault):  # optax's reduce_fn=jnp.mean, named in the table
            default = default.resolve()
        params.append(P(name, P.KEYWORD_ONLY if kw_only else P.POSITIONAL_OR_KEYWORD, default=default))
    return inspect.Signature(params)


def _build(entry: Entry) -> Callable[..., Any]:
    """The one factory: a pure function with ``entry``'s optax name, signature and semantics."""
    canonical = getattr(_losses, entry.canonical)
    sig = _signature(entry)
    p_name, t_name, *more = entry.names
    fixed = {"reduction": "none", **entry.fixed}
    options = tuple(entry.options.items())
    pre, post = entry.pre, entry.post

    name = entry.name
    promote, float_targets, int_predictions = entry.promote, entry.float_targets, entry.int_predictions
    converted = entry.converted
    required_target = entry.target_default is not None  # optax: targets=None means zeros

    def loss(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:  # inspect's message names no function: say which, and why
            raise _bind_error(entry, sig, e) from None
        bound.apply_defaults()
        a = bound.arguments
        kw = dict(fixed)
        for native, canon in options:
            kw[canon] = a[native]
        t = a[t_name]
        if t is None and required_target:
            raise TypeError(f"{name}: argument '{t_name}' must be a jax array, a NumPy array or a scalar "
                            f"(optax's ArrayLike); got None")
        if converted and t_name in converted and not isinstance(t, jax.Array):
            t = _converted(name, t_name, t)
        c = Call(name, entry.names, a, _arraylike(name, p_name, a[p_name]),
                 None if t is None else _arraylike(name, t_name, t), kw,
                 tuple(_arraylike(name, n, a[n]) for n in more))
        if c.t is not None and ((int_predictions and c.x.dtype not in _FLOATING)
                                or ((promote or float_targets) and c.x.dtype != c.t.dtype)):
            _promote(c, promote, float_targets, int_predictions)
        try:
            for step in pre:
                step(c)
            out = canonical(c.x, c.t, *c.args, **c.kw)
        except (TypeError, ValueError) as e:
            # optax's class for the kind too (shapes that do not broadcast: TypeError, as jax)
            renamed = native_error(_rename_error(e, entry), _JAX_ERRORS)
            if renamed is e:
                _two_devices(name, c)  # jax's "incompatible devices" names no loss: name it
                raise
            raise renamed from None
        for post_step in post:
            out = post_step(c, out)
        return out

    loss.__name__ = loss.__qualname__ = entry.name
    loss.__module__ = "multiloss.jax"
    setattr(loss, "__signature__", sig)  # read by inspect.signature (PEP 362)
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
    e.g. ``"['dense1']['bias']"``) contains ``"bias"`` is skipped, as the loss survey skips parameter
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

def ctc_loss_with_forward_probs(
    logits: Any, logit_paddings: Any, labels: Any, label_paddings: Any, *, blank_id: int = 0, log_epsilon: Any = -1e5
) -> tuple[Any, Any, Any]:
    r"""optax's ``ctc_loss_with_forward_probs``: ``(loss, logalpha_blank, logalpha_nonblank)``.

    ``loss`` ``(B,)`` is :func:`ctc_loss`; ``logalpha_blank`` ``(T, B, N+1)`` and
    ``logalpha_nonblank`` ``(T, B, N)`` are the forward log-probabilities after each frame of
    the states "blank after ``n`` labels" and "label ``n``" (optax's :math:`\alpha_B`,
    :math:`\alpha_L`; a padded frame repeats the previous values; the last frame's blank states
    also take the label state before them, optax's final epsilon step). Computed by the CTC
    recursion behind :func:`multiloss.ctc_loss` (``multiloss._ops.ctc_forward``, a
    ``jax.lax.scan``) with optax's conventions: ``log_epsilon`` for log(0), labels outside
    ``[0, K)`` (padding) emitting log-probability 0 as optax's one-hot product does. Shapes and
    padding as :func:`ctc_loss`. optax: ``optax.losses.ctc_loss_with_forward_probs``."""
    fn = "ctc_loss_with_forward_probs"
    log_probs, padded, labels, label_lengths = optax_ctc_inputs(fn, logits, logit_paddings, labels, label_paddings)
    xp = _array_namespace(log_probs)
    log_probs = jnp.transpose(log_probs, (1, 0, 2))  # (T, B, K)
    lp_label = jnp.einsum("tbk,bnk->tbn", log_probs, jax.nn.one_hot(labels, log_probs.shape[-1], dtype=log_probs.dtype))
    repeat = jnp.pad(labels[:, 1:] == labels[:, :-1], ((0, 0), (1, 0)))
    nll, (alpha_blank, alpha_label) = _ops.ctc_forward(
        xp, log_probs[:, :, blank_id], lp_label, repeat, ~padded.T, label_lengths, log_epsilon, forward_probs=True
    )
    last = jnp.concatenate([alpha_blank[-1, :, :1], jnp.logaddexp(alpha_blank[-1, :, 1:], alpha_label[-1])], axis=1)
    return nll, alpha_blank.at[-1].set(last), alpha_label


# the public names: the table's functions, CTC's forward probabilities and the penalties
# the hand-written forms (HANDWRITTEN rows of the table), then the public names
from ._rows import load as _load  # noqa: E402
from .jax_table import HANDWRITTEN  # noqa: E402

_HANDWRITTEN = {h.name: _load(h.where) for h in HANDWRITTEN}
globals().update(_HANDWRITTEN)

__all__ = ["TABLE", *_FUNCTIONS, *_HANDWRITTEN, "l1_penalty", "l2_penalty", "default_exclude"]
