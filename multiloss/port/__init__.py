"""Porting a configured loss between frameworks: ``multiloss.port(obj, to=...)``.

    >>> import torch, multiloss
    >>> multiloss.port(torch.nn.CrossEntropyLoss(label_smoothing=0.1), to="keras")  # doctest: +SKIP
    <multiloss.keras.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, ...)>

``obj`` is a configured loss of any framework: a ``torch.nn`` loss module (its ``weight`` /
``pos_weight`` buffers included) or ``torch.nn.functional`` function, a ``keras.losses``
instance, function or identifier string (``"mse"``), an optax loss function, a multiloss
adapter object (``multiloss.torch`` / ``keras`` / ``jax``), a canonical ``multiloss``
function, or a ``functools.partial`` of a function form with its options. ``to`` is
``"torch"``, ``"keras"``, ``"jax"`` or ``"numpy"``.

The result computes the same numbers (value and gradient) on the same data in the target
framework's convention (keras: ``loss(y_true, y_pred)``; torch, optax, numpy: prediction
first): a ``multiloss.torch`` module, a ``multiloss.keras`` loss, or -- for function forms,
which are unreduced in optax and keras -- a :class:`Ported` callable that applies the
source's reduction (``mj.squared_error`` then ``.mean()`` for ``torch.nn.MSELoss()``). Where
no exact equivalent exists, :class:`PortError` (a ``ValueError``) says what differs, with the
numbers, and the closest option.

:func:`plan` returns the whole answer: the code line (what ``multiloss port`` prints), the
notes on the data (target format, class axis, conditions such as "no target equals -100"),
and the object. The mapping is derived from the adapter tables (``multiloss list``): see
docs/porting.md for the rules, the table and every semantic difference.

This module is callable: ``multiloss.port(obj, to=...)`` is :func:`port`.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

from . import _frameworks as _F
from . import _spec as _S
from ._frameworks import Config, Ported, PortError
from ._objects import config_of, identify  # noqa: F401  (config_of: a Config by names)
from ._spec import Condition, Spec

__all__ = ["port", "plan", "plan_config", "Plan", "PortError", "Ported", "Condition", "FRAMEWORKS"]

FRAMEWORKS = _F.FRAMEWORKS

_TARGETS = {"index": "index", "indices": "index", "sparse": "index", "class_index": "index", "labels": "index",
            "dense": "dense", "one_hot": "dense", "onehot": "dense", "one-hot": "dense", "probabilities": "dense",
            "probs": "dense", None: None}


@dataclass(frozen=True)
class Plan:
    """How a configured loss is written in another framework.

    ``source``: the source as code; ``to``: the target framework; ``code``: the equivalent as
    one line (``imports`` make it runnable); ``notes``: what the data must look like (target
    format, class axis, conditions), one sentence each; ``conditions``: the data conditions
    (:class:`Condition`, checkable); ``targets``: ``'index'`` / ``'dense'`` / ``None``, the
    target format the result expects; ``move_class_axis``: ``(from, to)`` when the class axis
    sits elsewhere in the target's convention (torch 1, keras and optax -1), else ``None``;
    ``order``: the target's argument order as positions of the canonical arguments
    (``(1, 0)``: keras's ``(y_true, y_pred)``)."""

    source: str
    to: str
    code: str
    imports: tuple[str, ...]
    notes: tuple[str, ...]
    conditions: tuple[Condition, ...]
    targets: str | None
    move_class_axis: tuple[int, int] | None
    order: tuple[int, ...]
    config: Config = field(repr=False)
    spec: Spec = field(repr=False)

    def build(self) -> Any:
        """The ported object (imports the target framework)."""
        return _F.build(self.config)

    def __str__(self) -> str:
        lines = [f"# ported from {self.source}"]
        lines += [f"# note: {n}" for n in self.notes]
        lines += list(self.imports)
        lines.append(self.code)
        return "\n".join(lines)


def _norm_targets(targets: str | None) -> str | None:
    if targets not in _TARGETS:
        raise ValueError(f"port: argument 'targets' must be one of 'index', 'dense' (or None); got {targets!r}")
    return _TARGETS[targets]


def _order(cfg: Config, n: int) -> tuple[int, ...]:
    ident = tuple(range(n))
    if cfg.framework == "keras":
        names = tuple(cfg.row.inputs) if cfg.row is not None else ()
        if names[:2] == ("y_true", "y_pred"):
            return (1, 0, *range(2, n))
    return ident


def plan(obj: Any, to: str, *, targets: str | None = None, strict: bool = False) -> Plan:
    """How ``obj`` (a configured loss of any framework, see the module docstring) is written
    in framework ``to``; raises :class:`PortError` where nothing there computes the same.

    ``targets``: ``'index'`` or ``'dense'`` (one-hot / probabilities) for a class loss whose
    source accepts both (torch's ``CrossEntropyLoss``); by default class indices are preferred
    and the plan says when the target needs one-hot targets. ``strict``: accept only
    equivalents that hold for every input (no data condition such as "no target equals
    -100")."""
    return plan_config(identify(obj), to, targets=targets, strict=strict)


def port(obj: Any, to: str, *, targets: str | None = None, strict: bool = False) -> Any:
    """The equivalent of ``obj`` in framework ``to`` (``"torch"``, ``"keras"``, ``"jax"``,
    ``"numpy"``): same value and gradient on the same data, or :class:`PortError`. See
    :func:`plan` for ``targets`` and ``strict``, and for the notes on the data."""
    return plan(obj, to, targets=targets, strict=strict).build()


def plan_config(cfg: Config, to: str, *, targets: str | None = None, strict: bool = False) -> Plan:
    """:func:`plan` for a :class:`Config` (what ``multiloss port`` parses an expression into)."""
    if to not in FRAMEWORKS:
        raise ValueError(f"port: argument 'to' must be one of {', '.join(map(repr, FRAMEWORKS))}; got {to!r}")
    targets = _norm_targets(targets)
    src = _F.read(cfg, targets)
    for k, v in src.options.items():
        mod = (getattr(v, "__module__", "") or type(v).__module__) if callable(v) else ""
        fw = {"torch": "torch", "keras": "keras", "tensorflow": "keras", "jax": "jax", "optax": "jax"}.get(
            mod.split(".")[0], "")
        if fw and fw != to and to != "numpy" or fw and to == "numpy":
            raise PortError(f"{src.form}: {k}={_S.fmt(v)} is a {mod.split('.')[0]} function; {to} needs one "
                            f"written for its arrays (or {k}=None for the default)")
    best: tuple | None = None
    closest: tuple | None = None
    conditional: tuple | None = None
    for i, cand in enumerate(_F.candidates(src, to)):
        try:
            dst = _F.read(cand, targets)
        except PortError:
            continue
        diffs, conds, notes = _S.compare(src, dst)
        rank = 0 if dst.targets in (None, src.targets) or (src.targets is None and dst.targets == "index") else 1
        if diffs:
            near = (diffs[0].field == "loss", len(diffs), rank)  # the same loss with other options first
            if closest is None or near < closest[3]:
                closest = (diffs, cand, dst, near)
            continue
        if strict and conds:
            conditional = conditional or (conds, cand)
            continue
        fallback = cand.kind == "canonical" and to != "numpy"
        key = (fallback, rank, len(conds), i)
        if best is None or key < best[0]:
            best = (key, cand, dst, conds, notes)
        if key[:3] == (False, 0, 0):
            break
    if best is None:
        raise PortError(_refusal(src, to, closest, conditional))
    _, cand, dst, conds, notes = best
    n = _S.n_arrays(src.loss)
    move = None
    if src.class_axis and dst.class_axis and {src.class_axis, dst.class_axis} == {"1", "-1"}:
        move = (int(src.class_axis), int(dst.class_axis))
    line = _F.code(cand)
    all_notes = list(notes) + [f"equal where {c.text}" for c in conds]
    if cand.kind == "canonical" and to != "numpy":
        all_notes.append(f"{to} has no form of multiloss.{src.loss} with these options: the canonical function "
                         f"(torch's conventions, prediction first) on {to} arrays")
    return Plan(src.form, to, line, tuple(_F.imports(cand, line)), tuple(all_notes), tuple(conds),
                dst.targets or src.targets, move, _order(cand, n), cand, src)


def _refusal(src: Spec, to: str, closest: tuple | None, conditional: tuple | None) -> str:
    if conditional is not None:
        conds, cand = conditional
        return (f"{src.form} -> {to}: {_F.code(cand)} computes the same only where "
                f"{'; '.join(c.text for c in conds)} (strict=True asks for every input)")
    if closest is None:
        why = f" ({src.exotic})" if src.exotic else ""
        alt = (f"; closest: the canonical function multiloss.{src.loss} (torch's conventions, prediction "
               f"first) on {to} arrays" if not src.exotic and src.loss in _F._all_canonicals() else "")
        return f"{src.form} has no equivalent in {to}: no {to} form of multiloss.{src.loss}{why}{alt}"
    diffs, cand, _, _ = closest
    exposed = _F.exposes(cand)
    texts = []
    for d in diffs:
        if d.field in src.options and d.field not in exposed:
            texts.append(f"{src.form} sets {d.field}={_S.fmt(src.options[d.field])}; {_F.public_name(cand)} "
                         f"has no {d.field} option")
        else:
            texts.append(d.text)
    hint = next((_F.HINTS[d.field] for d in diffs if d.field in _F.HINTS), "")
    return (f"{src.form} has no exact equivalent in {to}: " + "; ".join(texts)
            + f". Closest: {_F.code(cand)}" + (f"; {hint}" if hint else "") + ".")


class _CallableModule(types.ModuleType):
    """``multiloss.port`` is this module, and calling it calls :func:`port`."""

    def __call__(self, obj: Any, to: str, *, targets: str | None = None, strict: bool = False) -> Any:
        return port(obj, to, targets=targets, strict=strict)


sys.modules[__name__].__class__ = _CallableModule
