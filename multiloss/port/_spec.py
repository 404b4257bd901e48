"""What a configured loss *computes*, framework-neutral: :class:`Spec`, and how two specs are
compared (:func:`compare`).

A spec is the canonical function (:mod:`multiloss.losses`, torch semantics) with its canonical
options, the reduction the canonical function applies, and the *steps* a framework adds around
it: keras averages (or sums) each sample over the last axis and then reduces; optax functions
are unreduced; ``l2_loss`` is half ``squared_error``; keras feeds ``log(y_pred)`` where it takes
probabilities. Every framework's reader (:mod:`multiloss.port._frameworks`) turns a configured
loss into a spec; two losses compute the same numbers when their specs are equal after
:func:`normal_pipeline` (mean of per-sample means is the mean, sum of sums is the sum ...),
possibly under data conditions (:class:`Condition`: "no target equals -100").

The explicit knowledge about frameworks lives in the small tables at the top of this module and
of :mod:`._frameworks`; everything else is derived from the adapter tables and the canonical
signatures, so a loss added to the tables ports without touching this package whenever its
options coincide across frameworks.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np

__all__ = ["Spec", "Condition", "Diff", "compare", "normal_pipeline", "describe_pipeline", "fmt"]

# ----------------------------------------------------------------------------- explicit facts
# torch's "mean" of these losses is not the mean of their reduction="none" output when the named
# option is set (torch/nn/functional.py cross_entropy / nll_loss: a class-weighted mean divides
# by the summed weights of the targets; ctc_loss divides each loss by its target length)
WEIGHTED_MEAN: dict[str, tuple[str, ...]] = {"cross_entropy": ("weight",), "nll_loss": ("weight",),
                                             "linear_cross_entropy": ("weight",)}
SPECIAL_MEAN: dict[str, str] = {
    "ctc_loss": "torch's 'mean' divides each sequence's loss by its target length before the mean",
}
# options that mean nothing for dense (probability / one-hot) targets (torch ignores
# ignore_index there: torch/nn/modules/loss.py CrossEntropyLoss)
DENSE_DONT_CARE: dict[str, tuple[str, ...]] = {"cross_entropy": ("ignore_index",), "nll_loss": ("ignore_index",)}
# canonical losses whose class axis is torch's (1) and which keras / optax take last (-1)
CLASS_AXIS_EXTRA = ("nll_loss",)

KERAS_EPSILON = 1e-7  # keras.backend.epsilon()'s default (read from keras when it is imported)


def keras_epsilon() -> float:
    import sys

    keras = sys.modules.get("keras")
    if keras is not None:
        try:
            return float(keras.backend.epsilon())
        except Exception:  # pragma: no cover - a keras without backend.epsilon
            pass
    return KERAS_EPSILON


# ----------------------------------------------------------------------------- facts about losses


@functools.cache
def canonical(loss: str) -> Callable[..., Any]:
    from .. import losses

    if loss not in losses.__all__:
        raise KeyError(loss)
    return getattr(losses, loss)


@functools.cache
def n_arrays(loss: str) -> int:
    """How many array arguments the canonical function takes first (input, target, var ...)."""
    from ..backends import jax_table, keras_table, torch_table

    for r in torch_table.TABLE:
        if r.loss.__name__ == loss and not r.module:
            return len(r.inputs)
    for e in jax_table.TABLE:
        if e.canonical == loss:
            return len(e.names)
    for row in keras_table.TABLE:
        if loss in row.canonicals:
            return len(row.inputs)
    return 2


@functools.cache
def array_names(loss: str) -> tuple[str, ...]:
    return tuple(list(inspect.signature(canonical(loss)).parameters)[: n_arrays(loss)])


@functools.cache
def params(loss: str) -> dict[str, Any]:
    """The canonical options (not the arrays, not ``reduction``) and their defaults."""
    sig = inspect.signature(canonical(loss)).parameters
    out = {}
    for i, (name, p) in enumerate(sig.items()):
        if i < n_arrays(loss) or name == "reduction" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = None if p.default is inspect.Parameter.empty else p.default
    return out


@functools.cache
def reductions(loss: str) -> tuple[str, ...]:
    from ..backends import torch_table

    for r in torch_table.TABLE:
        if r.loss.__name__ == loss and r.reductions:
            return tuple(r.reductions)
    return ("none", "mean", "sum")


@functools.cache
def class_axis_losses() -> frozenset[str]:
    """Losses with a class axis (torch's 1, keras's and optax's -1): derived from the jax rows
    that move optax's class axis to 1 and the keras rows with a softmax activation."""
    from ..backends import jax_table, keras_table

    out = set(CLASS_AXIS_EXTRA)
    for e in jax_table.TABLE:
        if any(getattr(f, "__name__", "") == "_classes_to_axis_1" for f in e.pre):
            out.add(e.canonical)
    for row in keras_table.TABLE:
        names = getattr(getattr(row.body, "__code__", None), "co_names", ())
        if row.logits_op == "Softmax" or "_class_axis_to_1" in names:
            out.update(row.canonicals)
    return frozenset(out)


def top_level_calls(fn: Callable[..., Any]) -> list:
    """The calls (:class:`ast.Call`) ``fn``'s source makes unconditionally (outside any ``if``,
    loop, ``try`` or ``with``): what a keras body always does."""
    return list(_top_level_calls(fn))


@functools.cache
def _top_level_calls(fn: Callable[..., Any]) -> tuple:
    import ast
    import textwrap

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return ()
    func = tree.body[0] if tree.body else None
    stmts = [st for st in getattr(func, "body", ()) if not isinstance(st, (ast.If, ast.For, ast.While, ast.Try,
                                                                            ast.With))]
    return tuple(n for st in stmts for n in ast.walk(st) if isinstance(n, ast.Call))


def call_name(node: Any) -> str:
    return getattr(node.func, "attr", getattr(node.func, "id", ""))


@functools.cache
def masked_mean_losses() -> frozenset[str]:
    """Losses whose keras body always masks its zero / invalid values (``_set_keras_mask``), so
    keras's mean is over the unmasked values, as the canonical ``mean`` (circle's nonzero
    anchors): their ``mean`` is not the plain mean of ``reduction='none'``."""
    from ..backends import keras_table

    out: set[str] = set()
    for r in keras_table.TABLE:
        if any(call_name(c) == "_set_keras_mask" for c in top_level_calls(r.body)):
            out.update(r.canonicals)
    return frozenset(out)


@functools.cache
def elementwise(loss: str) -> bool:
    """``reduction='none'`` keeps the input's shape (a loss per element, which keras then
    averages over the last axis per sample); decided on the loss's first conformance domain."""
    from ..conformance import domains
    from ..conformance.references import CASES

    for case in CASES:
        if case.loss != loss:
            continue
        try:
            data = domains.make(case.domain)
            kw = {k: v for k, v in case.kwargs.items() if k != "reduction"}
            out = canonical(loss)(data["pred"], data["target"], *data.get("args", ()), reduction="none", **kw)
            return tuple(np.shape(out)) == tuple(np.shape(data["pred"]))
        except Exception:
            return False
    return False


def plain_mean(loss: str, options: dict, targets: str | None) -> bool:
    """torch's ``mean`` of ``loss`` with ``options`` is the mean of its ``reduction='none'``
    output (false for a class-weighted mean, an active ignore_index, CTC)."""
    if loss in SPECIAL_MEAN or loss in masked_mean_losses():
        return False
    if targets != "dense":
        for name in WEIGHTED_MEAN.get(loss, ()):
            if options.get(name) is not None:
                return False
        if "ignore_index" in options and options["ignore_index"] is not None and loss in DENSE_DONT_CARE:
            return False
    return True


# ----------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Condition:
    """A condition on the data under which two losses agree: ``text`` for people,
    ``check(arrays) -> bool`` for the proof (``arrays``: ``{"pred", "target", "args"}`` as
    NumPy, in the canonical layout)."""

    text: str
    check: Callable[[dict], bool] = field(compare=False, default=lambda arrays: True)


@dataclass(frozen=True)
class Diff:
    """One difference between two specs: ``field`` and a sentence with the numbers."""

    field: str
    text: str


@dataclass(frozen=True)
class Spec:
    framework: str  # 'torch' | 'keras' | 'jax' | 'numpy'
    form: str  # the configured loss as code, e.g. "torch.nn.CrossEntropyLoss(label_smoothing=0.1)"
    loss: str  # canonical function; "optax:<name>" etc. for a loss with its own array convention
    options: dict  # canonical options, defaults filled in (arrays as NumPy)
    reduction: str = "none"  # the canonical function's reduction
    steps: tuple = ()  # after it: ("mean"|"sum", axis|None), ("batchmean",), ("scale", k), ("add", c)
    pred: str = ""  # "log": the canonical function gets log(y_pred); "normalize": y_pred / sum(y_pred)
    clip: str = ""  # "keras": probabilities clipped to [eps, 1 - eps] first
    smoothing: tuple | None = None  # ("binary", eps): targets smoothed first (keras)
    targets: str | None = None  # 'index' | 'dense' | None (either, or not a class loss)
    class_axis: str = ""  # "" (none) | "1" | "-1" | "0" ...: position of the class axis
    exotic: str = ""  # why this loss has no twin elsewhere (its arrays follow another convention)

    def with_steps(self, steps: tuple) -> "Spec":
        return replace(self, steps=tuple(self.steps) + tuple(steps))


# ----------------------------------------------------------------------------- pipelines

_TWO_D = Condition("2-D inputs (N, C): keras/optax divide by the number of per-sample values, torch's "
                   "'batchmean' by N", lambda a: np.ndim(a["pred"]) == 2)


def _affine_last(steps: list) -> tuple[list, float, float]:
    """Move scale / add steps to the end where they commute: the value is ``scale * x + add``
    with ``x`` the remaining pipeline. A scale commutes with every (linear) reduction, an add
    only with means (an add before a sum stays in place, as an add on ``x``)."""
    scale, add, out = 1.0, 0.0, []
    for s in steps:
        if s[0] == "scale":
            scale, add = scale * s[1], add * s[1]
        elif s[0] == "add":
            add += s[1]
        elif s[0] == "mean":
            out.append(s)
        else:
            if add:
                out.append(("add", add / scale))
                add = 0.0
            out.append(s)
    return out, scale, add


def normal_pipeline(spec: Spec) -> tuple[tuple, list[Condition]]:
    """``(reduction, steps, scale, add)`` in normal form, and the conditions the rewriting
    assumed: the mean of per-sample means over one axis is the mean (equal group sizes), a sum
    of sums is the sum, the mean of the per-sample values is torch's mean where
    :func:`plain_mean`, a sum over the last axis then a mean is ``batchmean`` for 2-D inputs."""
    R = spec.reduction
    steps, scale, add = _affine_last(list(spec.steps))
    conds: list[Condition] = []
    ew = elementwise(spec.loss) if not spec.exotic else False
    red = reductions(spec.loss) if not spec.exotic else ("none",)
    while R == "none" and steps:
        s0 = steps[0]
        s1 = steps[1] if len(steps) > 1 else None
        if ew and s0[0] == "mean" and s0[1] is not None and s1 == ("mean", None):
            R, steps = "mean", steps[2:]
        elif s0 == ("mean", None) and plain_mean(spec.loss, spec.options, spec.targets):
            R, steps = "mean", steps[1:]
        elif s0 == ("sum", None):
            R, steps = "sum", steps[1:]
        elif s0[0] == "sum" and s0[1] is not None and s1 == ("sum", None):
            R, steps = "sum", steps[2:]
        elif s0 == ("batchmean",) and "batchmean" in red:
            R, steps = "batchmean", steps[1:]
        elif ew and s0[0] == "sum" and s0[1] is not None and s1 == ("batchmean",) and "batchmean" in red:
            R, steps = "batchmean", steps[2:]
        elif ew and s0[0] == "sum" and s0[1] is not None and s1 == ("mean", None) and "batchmean" in red:
            R, steps = "batchmean", steps[2:]
            conds.append(_TWO_D)
        else:
            break
    return (R, tuple(steps), scale, add), conds


def describe_pipeline(spec: Spec) -> str:
    """The reduction of ``spec`` in words."""
    (R, steps, scale, add), _ = normal_pipeline(spec)
    ew = elementwise(spec.loss) if not spec.exotic else False
    unit = "element" if ew else "sample"
    base = {
        "none": f"one value per {unit} (no reduction)",
        "mean": "the mean over all elements" if ew else "the mean over the samples",
        "sum": f"the sum over all {unit}s",
        "batchmean": "the sum divided by the batch size N ('batchmean')",
    }.get(R, f"reduction={R!r}")
    if R == "mean" and not plain_mean(spec.loss, spec.options, spec.targets):
        if spec.loss in SPECIAL_MEAN:
            base = SPECIAL_MEAN[spec.loss]
        elif any(spec.options.get(n) is not None for n in WEIGHTED_MEAN.get(spec.loss, ())):
            base = "the weighted mean: the sum divided by the summed class weights of the targets"
        else:
            base = "the mean over the non-ignored targets"
    words = [base]
    if R == "none" and steps and steps[0][0] in ("mean", "sum") and steps[0][1] is not None:
        op, ax = steps[0]
        words = [f"one value per sample: the {op} over axis {ax}"]
        steps = steps[1:]
    for s in steps:
        if s[0] in ("mean", "sum"):
            words.append(f"then the {s[0]} of those" if s[1] is None else f"then the {s[0]} over axis {s[1]}")
        elif s[0] == "batchmean":
            words.append("then the sum divided by the batch size")
        elif s[0] == "add":
            words.append(f"then plus {fmt(s[1])}")
    if scale != 1:
        words.append(f"times {fmt(scale)}")
    if add:
        words.append(f"plus {fmt(add)}")
    return ", ".join(words)


# ----------------------------------------------------------------------------- comparing


def fmt(v: Any) -> str:
    """A value as it would be written in code (arrays as lists)."""
    if isinstance(v, np.ndarray):
        return "[" + ", ".join(fmt(float(x)) for x in v.reshape(-1)) + "]" if v.ndim <= 1 else f"<array {v.shape}>"
    if isinstance(v, float):
        return repr(float(v))
    if callable(v):
        return getattr(v, "__qualname__", repr(v))
    return repr(v)


def same_value(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        return x.shape == y.shape and bool(np.array_equal(x, y))
    if callable(a) or callable(b):
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    try:
        return bool(a == b)
    except Exception:
        return False


def _ignore_condition(values: list) -> Condition:
    vals = sorted({v for v in values if v is not None})
    text = " or ".join(str(v) for v in vals)
    ignored = tuple(vals)

    def holds(a: Any) -> bool:
        return not bool(np.isin(np.asarray(a["target"]), ignored).any())

    return Condition(f"no target equals {text} (an ignore_index on one side only)", holds)


_SIGNED = Condition("targets in {-1, 1} (keras maps targets that are all in {0, 1} to {-1, 1}, optax does not)",
                    lambda a: bool(np.isin(np.asarray(a["target"]), (-1.0, 1.0)).all()))


def _option_condition(loss: str, name: str, a: Any, b: Any, targets: str | None) -> Condition | None:
    """Two option values that agree under a condition on the data (else ``None``)."""
    if name == "ignore_index" and loss in DENSE_DONT_CARE and targets != "dense":
        return _ignore_condition([a, b])
    if loss == "hinge" and name == "labels" and {a, b} == {"auto", "signed"}:
        return _SIGNED
    return None


def _clip_condition(spec: Spec) -> Condition:
    eps = keras_epsilon()
    lower_only = spec.pred == "log" and spec.loss not in ("cross_entropy", "sce_loss")
    both = spec.loss == "kl_div"
    if lower_only:
        text = (f"y_pred >= {eps:g}" + (f" and y_true >= {eps:g}" if both else "")
                + " (keras clips them there before the log)")
    else:
        text = f"probabilities in [{eps:g}, 1 - {eps:g}] (keras clips them there; torch clamps each log at -100)"

    def check(a, eps=eps, both=both, lower_only=lower_only):
        p = np.asarray(a["pred"], dtype=np.float64)
        ok = bool((p >= eps).all()) and (lower_only or bool((p <= 1 - eps).all()))
        if both:
            ok = ok and bool((np.asarray(a["target"], dtype=np.float64) >= eps).all())
        return ok

    return Condition(text, check)


LAYOUT_NOTE = ("class axis: {src} in {sfw}, {dst} in {dfw} -- the same for (N, C) arrays; for (N, C, d1, ...) "
               "move it (np.moveaxis(x, {src}, {dst}))")


# options that change how a loss runs (memory, speed), never its values or gradients: a port
# that cannot carry one says so in a note instead of refusing
EXECUTION_ONLY = {
    "lean_memory": "it changes memory use only (same values and gradients); torch's "
                   "CrossEntropyLoss(lean_memory=True) computes the gradient in the forward pass",
}


def compare(src: Spec, dst: Spec) -> tuple[list[Diff], list[Condition], list[str]]:
    """How ``dst`` differs from ``src``: the differences (empty when they compute the same
    numbers), the data conditions under which they do, and notes (target format, layout)."""
    diffs: list[Diff] = []
    conds: list[Condition] = []
    notes: list[str] = []
    if src.loss != dst.loss:
        why = src.exotic or dst.exotic
        diffs.append(Diff("loss", f"{dst.form} computes {dst.loss}, not {src.loss}" + (f": {why}" if why else "")))
        return diffs, conds, notes
    targets = src.targets or dst.targets
    if src.targets and dst.targets and src.targets != dst.targets:
        diffs.append(Diff("targets", f"{src.form} takes {_targets(src.targets)}, {dst.form} {_targets(dst.targets)}"))
    elif dst.targets and not src.targets and src.loss in class_axis_losses():
        notes.append(f"targets: {_targets(dst.targets)} ({src.form} took class indices or probabilities)")
    for name in sorted(set(src.options) | set(dst.options)):
        a, b = src.options.get(name), dst.options.get(name)
        if targets == "dense" and name in DENSE_DONT_CARE.get(src.loss, ()):
            continue
        if name in EXECUTION_ONLY:
            if a and not same_value(a, b):
                notes.append(f"{name}={fmt(a)} is not carried: {EXECUTION_ONLY[name]}")
            continue
        if same_value(a, b):
            continue
        cond = _option_condition(src.loss, name, a, b, targets)
        if cond is not None:
            conds.append(cond)
            continue
        diffs.append(Diff(name, f"{name}={fmt(a)} in {src.form}, {name}={fmt(b)} in {dst.form}"))
    if src.pred != dst.pred:
        p, q = (src, dst) if src.pred else (dst, src)
        if "normalize" in (src.pred, dst.pred):
            diffs.append(Diff("pred", f"{p.form} divides the probabilities by their sum over the classes first "
                                      f"(the same values where they sum to 1, not the same gradient); {q.form} "
                                      f"uses them as given"))
        else:
            diffs.append(Diff("pred", f"{p.form} takes probabilities and uses log(y_pred) (as logits / "
                                      f"log-probabilities); {q.form} takes logits / log-probabilities"))
    if src.clip != dst.clip:
        conds.append(_clip_condition(src))
    if (src.smoothing or (None, 0.0))[1] != (dst.smoothing or (None, 0.0))[1]:
        s = src.smoothing or dst.smoothing or (None, 0.0)
        who = src if src.smoothing else dst
        other = dst if who is src else src
        diffs.append(Diff("smoothing", f"{who.form} smooths binary labels, y * (1 - {fmt(s[1])}) + {fmt(s[1] / 2)}; "
                                       f"{other.form} has no label smoothing"))
    if src.class_axis != dst.class_axis and src.class_axis and dst.class_axis:
        if {src.class_axis, dst.class_axis} == {"1", "-1"}:
            notes.append(LAYOUT_NOTE.format(src=src.class_axis, sfw=src.framework, dst=dst.class_axis,
                                            dfw=dst.framework))
        else:
            diffs.append(Diff("class_axis", f"class axis {src.class_axis} in {src.form}, "
                                            f"{dst.class_axis} in {dst.form}"))
    if (src.reduction, tuple(src.steps)) != (dst.reduction, tuple(dst.steps)):
        (na, ca), (nb, cb) = normal_pipeline(src), normal_pipeline(dst)
        if na != nb:
            diffs.append(Diff("reduction", f"{src.form} gives {describe_pipeline(src)}; {dst.form} gives "
                                           f"{describe_pipeline(dst)}" + _factor(src, dst, na, nb)))
        else:
            conds.extend(c for c in ca + cb if c not in conds)
    return diffs, conds, notes


def _targets(t: str) -> str:
    return {"index": "class-index targets", "dense": "one-hot / probability targets"}.get(t, t)


def _factor(src: Spec, dst: Spec, na: tuple, nb: tuple) -> str:
    """A ratio between two pipelines where one is simple (a scale, or C = the last axis)."""
    if na[:3] == nb[:3] and na[3] == nb[3] == 0.0:
        return ""
    if na[:2] == nb[:2] and na[3] == nb[3] and na[2] != nb[2]:
        return f" (values differ by a factor {fmt(na[2] / nb[2])})"
    if na[:2] == nb[:2] and na[2] == nb[2] and na[3] != nb[3]:
        return f" (values differ by {fmt(na[3] - nb[3])})"
    pair = {na[:2], nb[:2]}
    if pair == {("sum", ()), ("none", (("mean", -1), ("sum", None)))}:
        return " (the first is C times the second, C = y_pred.shape[-1])"
    if pair == {("none", ()), ("none", (("mean", -1),))}:
        return " (elementwise values vs their means over the last axis: different shapes)"
    if pair == {("mean", ()), ("batchmean", ())} or pair == {("mean", ()), ("none", (("sum", -1), ("mean", None)))}:
        return " (the two differ by a factor C = y_pred.shape[-1])"
    return ""
