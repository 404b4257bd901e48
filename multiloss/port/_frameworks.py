"""Configured losses per framework (:class:`Config`): read one into a :class:`~._spec.Spec`
(:func:`read`), enumerate the configurations of another framework that may compute the same
(:func:`candidates`), write one as code (:func:`code`) and build it (:func:`build`).

Everything is derived from the adapter tables (:mod:`multiloss.backends.torch_table`,
``keras_table``, ``jax_table``: names, options, renames, defaults, canonical functions) and the
canonical signatures. The framework knowledge written here is the table of option mappings
that differ between frameworks (:data:`KERAS_REDUCTIONS`, :data:`KERAS_FIXED`,
:data:`JAX_PRE`, :data:`JAX_POST`, :data:`EXOTIC`) and the rules in :func:`_read_keras` for
``from_logits``, ``label_smoothing``, ``axis`` and ``ignore_class``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from . import _spec as S
from ._spec import Spec

__all__ = ["Config", "PortError", "read", "candidates", "code", "imports", "build", "Ported", "defaults"]

FRAMEWORKS = ("torch", "keras", "jax", "numpy")


class PortError(ValueError):
    """A loss has no exact equivalent in the target framework: the message says what differs,
    with the numbers, and the closest option."""


@dataclass(frozen=True)
class Config:
    """One configured loss of one framework.

    ``kind``: torch ``module`` | ``functional``; keras ``class`` | ``function``; jax
    ``function``; ``canonical`` (a :mod:`multiloss` function on any framework's arrays).
    ``options``: every option by its native name (defaults filled in), ``reduction`` included
    where the form has one. ``native``: a ``torch.nn`` / ``keras.losses`` / ``optax`` object
    (as a source). ``steps``: reductions applied to a function form's output (what a user of
    an unreduced optax / keras function writes: ``.mean()``)."""

    framework: str
    kind: str
    name: str
    row: Any = None
    options: dict = field(default_factory=dict)
    native: bool = False
    steps: tuple = ()
    spelled: str = ""  # how the source was written (``torch.nn.CrossEntropyLoss``)


# ----------------------------------------------------------------------------- explicit tables

# keras reduction -> the reduction of the per-sample values (keras/src/losses/loss.py
# reduce_values: "sum_over_batch_size", "mean" and, without sample weights,
# "mean_with_sample_weight" divide the sum by the number of values)
KERAS_REDUCTIONS = {"sum_over_batch_size": "mean", "mean": "mean", "mean_with_sample_weight": "mean",
                    "sum": "sum", "none": "", None: ""}


def _keras_fixed(row) -> dict:
    """What a keras body (multiloss/backends/keras_table.py, by its name, or the row's function
    name for a lambda) does beyond passing its options to the canonical function, as keras
    does (keras/src/losses/losses.py): Poisson's ``y_pred - y_true * log(y_pred + epsilon())``,
    MAPE's ``max(|y_true|, epsilon())``, cosine's ``rsqrt(max(sum x**2, epsilon()**2))``, the KL
    divergences' log of clipped probabilities (measures)."""
    eps = S.keras_epsilon()
    known: dict[str, dict[str, Any]] = {
        "_poisson": {"options": {"log_input": False, "eps": eps}},
        "mean_absolute_percentage_error": {"options": {"epsilon": eps}},
        "_cosine": {"options": {"epsilon": float(f"{eps * eps:.12g}")}},
        "_kld": {"pred": "log", "clip": "keras"},
        "_generalized_kld": {"pred": "log", "clip": "keras"},
    }
    return known.get(_fn_name(row.body)) or known.get(row.fn, {})


# probability losses whose keras form clips y_pred to [eps, 1 - eps] when from_logits=False
KERAS_CLIPPED = ("binary_cross_entropy", "cross_entropy", "sce_loss")

# optax pre-transforms (multiloss/backends/jax_table.py) that only check or convert the inputs
JAX_PRE = {"_broadcast", "_same_shape", "_zeros_if_no_target", "_integer_labels", "_float_target",
           "_weight_asarray", "_same_rank_broadcast", "_scalar_var", "_mask_logits", "_mask_zero",
           "_classes_to_axis_1", "_mask_generalized_kl", "_floating_labels", "_one_hot_labels", "_alpha_asarray",
           "_kw_asarray", "_where_of_logits_shape", "_half_to_default_float"}
JAX_INDEX_TARGETS = ("_integer_labels", "_one_hot_labels")  # pre-transforms that take class indices
JAX_DENSE_TARGETS = ("_float_target", "_floating_labels")  # ... probabilities / one-hot labels
# optax post-transforms as pipeline steps (``axis`` filled in from the call)
JAX_POST = {"_half": ("scale", 0.5), "_negate": ("scale", -1.0), "_one_plus": ("add", 1.0),
            "_sum_axis": ("sum", "axis"), "_zero_fully_masked": None}

# forms whose arrays follow their own convention: no other framework's loss takes those arrays
EXOTIC = {
    "_optax_ctc": "optax's ctc_loss takes (logits (B, T, K), logit_paddings, labels, label_paddings); "
                  "torch's CTCLoss takes (log_probs (T, N, C), targets, input_lengths, target_lengths): another "
                  "array convention, not other options",
    "_optax_triplet": "optax's triplet distance is (sum((a - p)**q) + eps)**(1/q) along axis; torch's "
                      "TripletMarginLoss uses ||a - p + eps||_p: another distance, not other options",
    "_ctc": "keras's ctc takes y_true (N, S) labels padded with 0 (also the blank) and y_pred logits "
            "(N, T, C); torch's CTCLoss takes log_probs (T, N, C), targets, input_lengths, target_lengths: "
            "another array convention, not other options",
}

HINTS = {
    "weight": "keras losses take no weight option: pass per-sample weights as sample_weight at call time "
              "(class weights: sample_weight=weight[y_true], with reduction='mean_with_sample_weight' for "
              "torch's weighted mean)",
    "pos_weight": "keras has no pos_weight: weight the positive terms yourself",
    "label_smoothing": "smooth the targets yourself: y * (1 - eps) + eps / C (optax.smooth_labels)",
}


# ----------------------------------------------------------------------------- tables


def _tables():
    from ..backends import jax_table, keras_table, torch_table

    return torch_table, keras_table, jax_table


def _fn_name(f: Any) -> str:
    """A transform's name: a closure made by a factory (``_kw_asarray(...)``) by its factory."""
    q = getattr(f, "__qualname__", "")
    return q.split(".<locals>")[0] if ".<locals>" in q else getattr(f, "__name__", "")


def defaults(cfg: Config) -> dict:
    """The options of ``cfg``'s form and their defaults, in signature order."""
    row = cfg.row
    if cfg.framework == "torch":
        from ..backends.torch_table import LEGACY

        ps = row.params if cfg.kind == "module" else row.fparams
        return {n: d for n, d in ps if n not in LEGACY and n != "*"}
    if cfg.framework == "keras":
        out = dict(row.options)
        if cfg.kind == "class":
            out["reduction"] = "sum_over_batch_size"
        out.update(dict(row.reduction_after))
        return out
    if cfg.framework == "jax" and cfg.kind == "function":
        return {n: d for n, d, _ in row.params}
    out = dict(S.params(cfg.name))
    out["reduction"] = "mean"
    import inspect

    p = inspect.signature(S.canonical(cfg.name)).parameters.get("reduction")
    if p is not None and p.default is not inspect.Parameter.empty:
        out["reduction"] = p.default
    return out


def public_name(cfg: Config) -> str:
    return f"{_prefix(cfg)}{cfg.name}"


def form(cfg: Config) -> str:
    """``cfg`` written as the user wrote it (only the options that differ from the defaults)."""
    d = defaults(cfg)
    shown = {k: v for k, v in cfg.options.items() if k not in d or not S.same_value(v, d[k])}
    args = ", ".join(f"{k}={S.fmt(v)}" for k, v in shown.items())
    name = cfg.spelled or _prefix(cfg) + cfg.name
    text = f"{name}({args})"
    for st in cfg.steps:
        text += _step_words(st)
    return text


def _step_words(st: tuple) -> str:
    if st[0] in ("mean", "sum"):
        return f".{st[0]}()" if st[1] is None else f".{st[0]}(axis={st[1]})"
    return ".sum() / N" if st[0] == "batchmean" else ""


def _prefix(cfg: Config) -> str:
    if cfg.kind == "canonical":
        return "multiloss."
    return {("torch", "module"): "mt.", ("torch", "functional"): "mt.functional.", ("keras", "class"): "mk.",
            ("keras", "function"): "mk.", ("jax", "function"): "mj."}[(cfg.framework, cfg.kind)]


# ----------------------------------------------------------------------------- reading


def read(cfg: Config, targets: str | None = None) -> Spec:
    """What ``cfg`` computes. ``targets``: 'index' | 'dense' | None, the target format a
    class loss that accepts both (torch's CrossEntropyLoss) is used with."""
    if cfg.kind == "canonical":
        return _read_canonical(cfg, targets)
    return {"torch": _read_torch, "keras": _read_keras, "jax": _read_jax}[cfg.framework](cfg, targets)


def _class_targets(loss: str, targets: str | None) -> str | None:
    return targets if loss in S.class_axis_losses() else None


def _read_canonical(cfg: Config, targets: str | None) -> Spec:
    loss = cfg.name
    opts = dict(S.params(loss))
    red = "mean"
    for k, v in cfg.options.items():
        if k == "reduction":
            red = v
        else:
            opts[k] = v
    ca = "1" if loss in S.class_axis_losses() else ""
    return Spec(cfg.framework, form(cfg), loss, opts, red, tuple(cfg.steps), targets=_class_targets(loss, targets),
                class_axis=ca)


def _read_torch(cfg: Config, targets: str | None) -> Spec:
    row = cfg.row
    loss = row.loss.__name__
    if row.module:
        raise PortError(_parametric(cfg))
    opts = dict(S.params(loss))
    red = "mean"
    for k, v in cfg.options.items():
        if k == "reduction":
            red = v
            continue
        c = row.rename.get(k, k)
        if c in opts:
            opts[c] = v
    ca = "1" if loss in S.class_axis_losses() else ""
    return Spec("torch", form(cfg), loss, opts, red, tuple(cfg.steps), targets=_class_targets(loss, targets),
                class_axis=ca)


def _parametric(cfg: Config) -> str:
    _, keras_table, jax_table = _tables()
    loss = cfg.row.loss.__name__
    twins = [f"mk.{h.name}" for h in keras_table.HANDWRITTEN if h.canonical == loss]
    twins += [f"mj.{h.name}" for h in jax_table.HANDWRITTEN if h.canonical == loss]
    return (f"{cfg.spelled or cfg.name} owns parameters (its linear head): a loss with weights is ported "
            f"with its weights, not by its options; build {' / '.join(twins) or 'the twin'} and load the "
            f"module's state_dict into it")


def _body_fixed(row) -> dict:
    """Canonical options fixed by an ``_elementwise(canonical, **fixed)`` body of the keras table."""
    body = row.body
    names = getattr(getattr(body, "__code__", None), "co_freevars", ())
    if "fixed" in names and body.__closure__:
        fixed = body.__closure__[names.index("fixed")].cell_contents
        if isinstance(fixed, dict):
            return dict(fixed)
    return {}


_BODY_LITERALS: dict[Any, dict] = {}


def _body_literals(row, loss: str) -> dict:
    """Canonical options a keras body always passes as literals (``L.circle(...,
    normalize=False)``), read from the body's source with :mod:`ast`."""
    key = (row.body, loss)
    if key not in _BODY_LITERALS:
        import ast

        out: dict = {}
        for node in S.top_level_calls(row.body):
            if S.call_name(node) == loss:
                for kw in node.keywords:
                    if kw.arg in S.params(loss):
                        try:
                            out[kw.arg] = ast.literal_eval(kw.value)
                        except ValueError:
                            pass
        _BODY_LITERALS[key] = out
    return _BODY_LITERALS[key]


def _read_keras(cfg: Config, targets: str | None) -> Spec:
    row = cfg.row
    o = dict(cfg.options)
    exotic = EXOTIC.get(_fn_name(row.body), "")
    loss = row.canonicals[0]
    if exotic:
        return Spec("keras", form(cfg), f"keras.{row.fn}", {}, exotic=exotic)
    red = o.pop("reduction", None) if cfg.kind == "class" else "none"
    if "apply_class_balancing" in o:  # keras.losses.BinaryFocalCrossentropy: alpha only when balancing
        if not o.pop("apply_class_balancing"):
            o["alpha"] = None
    pred = clip = ""
    smoothing = None
    fixed = _keras_fixed(row)
    opts = dict(S.params(loss))
    from_logits = o.pop("from_logits", None)
    if from_logits is not None:
        with_logits = [c for c in row.canonicals if c.endswith("_with_logits")]
        if "from_logits" in S.params(loss):
            opts["from_logits"] = from_logits
            if not from_logits and "/ sum(" in row.formula:
                pred = "normalize"  # keras divides probabilities by their sum (categorical_focal_crossentropy)
        elif with_logits and len(row.canonicals) > 1:
            loss = with_logits[0] if from_logits else next(c for c in row.canonicals if c not in with_logits)
            opts = dict(S.params(loss))
        elif not from_logits:
            pred = "log"  # keras takes probabilities and uses their log as logits
        if not from_logits and (loss in KERAS_CLIPPED or (cfg.native and loss == "focal_loss")):
            clip = "keras"
    ls = o.pop("label_smoothing", 0.0) or 0.0
    if ls:
        if "label_smoothing" in opts:
            opts["label_smoothing"] = ls  # categorical: y * (1 - ls) + ls / C, as torch's cross_entropy
        else:
            smoothing = ("binary", float(ls))  # y * (1 - ls) + ls / 2
    inner_axis = -1
    class_axis = ""
    if loss in S.class_axis_losses():
        class_axis = "-1"
    if "axis" in o:
        a = o.pop("axis")
        if "axis" in opts:
            opts["axis"] = a
        elif loss in S.class_axis_losses():
            class_axis = str(a)
        else:
            inner_axis = a
    if "ignore_class" in o:
        opts["ignore_index"] = o.pop("ignore_class")
    elif "ignore_index" in opts and row.index_targets:
        opts["ignore_index"] = None
    for k, v in o.items():
        if k in ("name", "dtype"):
            continue
        if k not in opts:
            raise PortError(f"{form(cfg)}: option {k}={S.fmt(v)} has no canonical counterpart in multiloss.{loss}")
        opts[k] = v
    opts.update(_body_fixed(row))
    opts.update(_body_literals(row, loss))
    opts.update(fixed.get("options", {}))
    pred = fixed.get("pred", pred)
    clip = fixed.get("clip", clip)
    tg: str | None
    if row.index_targets and loss in S.class_axis_losses():
        tg = "index"
    elif row.logits_op == "Softmax":
        tg = "dense"
    else:
        tg = _class_targets(loss, targets)
    steps: list = []
    if S.elementwise(loss):
        kind = "sum" if row.formula.lstrip("-").startswith("sum(") else "mean"
        steps.append((kind, inner_axis))
    outer = KERAS_REDUCTIONS.get(red, "") if cfg.kind == "class" else ""
    if red not in KERAS_REDUCTIONS and cfg.kind == "class":
        raise PortError(f"{form(cfg)}: unknown keras reduction {red!r}")
    R = "none"
    if outer:
        steps.append((outer, None))
    if outer == "mean" and len(steps) == 1 and (
            (opts.get("ignore_index") is not None and tg == "index") or loss in S.masked_mean_losses()):
        # keras masks the ignored labels (the zero losses), so its mean is over the others: torch's mean
        R, steps = "mean", []
    return Spec("keras", form(cfg), loss, opts, R, tuple(steps) + tuple(cfg.steps), pred=pred, clip=clip,
                smoothing=smoothing, targets=tg, class_axis=class_axis)


def _read_jax(cfg: Config, targets: str | None) -> Spec:
    row = cfg.row
    a = cfg.options
    pre = [_fn_name(f) for f in row.pre]
    for p in pre:
        if p in EXOTIC:
            return Spec("jax", form(cfg), f"optax.{row.optax or row.name}", {}, exotic=EXOTIC[p])
    unknown = [p for p in pre if p not in JAX_PRE]
    if unknown:
        raise PortError(f"{form(cfg)}: multiloss.port does not know what {', '.join(unknown)} does "
                        f"(add it to multiloss.port._frameworks.JAX_PRE)")
    if a.get("where") is not None:
        raise PortError(f"{form(cfg)}: a `where` mask is data, not an option: pass it at call time (torch and "
                        f"keras have none; weight the per-example values instead)")
    loss = row.canonical
    opts = dict(S.params(loss))
    opts.update({k: v for k, v in row.fixed.items() if k != "reduction"})
    for native, canon in row.options.items():
        opts[canon] = a.get(native)
    ca = ""
    if "_classes_to_axis_1" in pre:
        ax = a.get("axis", -1)
        if not isinstance(ax, int) or isinstance(ax, bool):
            raise PortError(f"{form(cfg)}: axis={ax!r} (several class axes): torch and keras take one; "
                            f"reshape the logits so the classes lie along one axis")
        ca = str(ax)
    elif loss in S.class_axis_losses():
        ca = "-1"
    tg = ("index" if any(p in pre for p in JAX_INDEX_TARGETS) else "dense" if any(p in pre for p in JAX_DENSE_TARGETS)
          else _class_targets(loss, targets))
    steps: list = []
    for f in row.post:
        name = _fn_name(f)
        if name not in JAX_POST:
            raise PortError(f"{form(cfg)}: multiloss.port does not know what {name} does "
                            f"(add it to multiloss.port._frameworks.JAX_POST)")
        st = JAX_POST[name]
        if st is not None:
            steps.append((st[0], a.get("axis", -1)) if st[1] == "axis" else st)
    red = row.fixed.get("reduction", "none")  # optax's ntxent / generalized dice return a scalar
    return Spec("jax", form(cfg), loss, opts, red, tuple(steps) + tuple(cfg.steps), targets=tg, class_axis=ca)


# ----------------------------------------------------------------------------- candidates

_RED_STEP = {"mean": ("mean", None), "sum": ("sum", None), "batchmean": ("batchmean",)}


def _step_choices(src: Spec) -> list[tuple]:
    """Reduction steps a function form of the target may need after its own output."""
    (R, steps, _, _), _ = S.normal_pipeline(src)
    raw = tuple(src.steps)
    lead = (_RED_STEP[src.reduction],) if src.reduction in _RED_STEP else ()
    nlead = (_RED_STEP[R],) if R in _RED_STEP else ()
    out = [(), raw, lead + raw, tuple(steps), nlead + tuple(steps), (("mean", None),), (("sum", None),),
           (("batchmean",),), (("mean", -1),), (("mean", -1), ("sum", None))]
    seen, uniq = set(), []
    for o in out:
        # a function form may be reduced (what a user of an unreduced form writes), never rescaled
        if any(st[0] not in ("mean", "sum", "batchmean") for st in o):
            continue
        if o not in seen:
            seen.add(o)
            uniq.append(o)
    return uniq


def _ordered(first: Any, rest) -> list:
    out = [first]
    out += [r for r in rest if not S.same_value(r, first)]
    return out


def candidates(src: Spec, to: str) -> Iterator[Config]:
    """The configurations of framework ``to`` that may compute what ``src`` does, most
    idiomatic first; the canonical function on ``to``'s arrays last."""
    if src.exotic:
        return
    if to == "torch":
        yield from _torch_candidates(src)
    elif to == "keras":
        yield from _keras_candidates(src)
    elif to == "jax":
        yield from _jax_candidates(src)
    if to in ("jax", "numpy") and src.loss in _all_canonicals():
        yield from _canonical_candidates(src, to)


def _all_canonicals() -> tuple[str, ...]:
    from .. import losses

    return tuple(losses.__all__)


def _canonical_candidates(src: Spec, to: str) -> Iterator[Config]:
    opts = {k: v for k, v in src.options.items() if k in S.params(src.loss)}
    for red in _ordered(src.reduction, S.reductions(src.loss)):
        for steps in _step_choices(src):
            yield Config(to, "canonical", src.loss, None, {**opts, "reduction": red}, steps=steps)


def _torch_candidates(src: Spec) -> Iterator[Config]:
    from ..backends.torch_table import LEGACY

    torch_table = _tables()[0]
    for row in torch_table.TABLE:
        if row.loss.__name__ != src.loss or row.module:
            continue
        for kind in ("module", "functional"):
            if kind == "functional" and not row.functional:
                continue
            ps = row.params if kind == "module" else row.fparams
            base = {}
            for n, d in ps:
                if n in LEGACY or n == "*":
                    continue
                c = row.rename.get(n, n)
                v = src.options[c] if c in src.options and n != "reduction" else d
                if v is None and d is not None and n not in row.nullable:
                    v = d  # torch's sentinel (ignore_index=-100) for "none"
                base[n] = v
            if "reduction" not in base:
                continue
            for red in _ordered(src.reduction if src.reduction in row.reductions else "mean", row.reductions):
                if kind == "module":
                    yield Config("torch", kind, row.name, row, {**base, "reduction": red})
                else:
                    for steps in _step_choices(src) if red == "none" else [()]:
                        yield Config("torch", kind, row.functional, row, {**base, "reduction": red}, steps=steps)


def _keras_candidates(src: Spec) -> Iterator[Config]:
    keras_table = _tables()[1]
    cls_axis = src.loss in S.class_axis_losses()
    inner_axes = [s[1] for s in src.steps if s[0] in ("mean", "sum") and s[1] is not None]
    for row in keras_table.TABLE:
        if src.loss not in row.canonicals:
            continue
        choices: dict[str, list] = {}
        for n, d in tuple(row.options) + tuple(row.reduction_after):
            if n == "from_logits":
                if "from_logits" in S.params(src.loss):
                    want = bool(src.options["from_logits"])
                elif any(c.endswith("_with_logits") for c in row.canonicals):
                    want = src.loss.endswith("_with_logits")
                else:
                    want = src.pred != "log"
                choices[n] = _ordered(want, [True, False])
            elif n == "label_smoothing":
                ls = src.options.get("label_smoothing") or (src.smoothing[1] if src.smoothing else 0.0)
                choices[n] = _ordered(ls, [d])
            elif n == "axis":
                if "axis" in S.params(src.loss):
                    choices[n] = [src.options.get("axis", d)]
                elif cls_axis:
                    alt = [int(src.class_axis)] if src.class_axis.lstrip("-").isdigit() else []
                    choices[n] = _ordered(d, alt)
                else:
                    choices[n] = _ordered(d, inner_axes)
            elif n == "ignore_class":
                v = src.options.get("ignore_index")
                choices[n] = _ordered(v if isinstance(v, int) and not isinstance(v, bool) else d, [None])
            elif n in src.options:
                choices[n] = [src.options[n]]
            else:
                choices[n] = [d]
        names = list(choices)
        reds = _ordered({"mean": "sum_over_batch_size", "sum": "sum"}.get(src.reduction, "none"),
                        ["sum_over_batch_size", "sum", "none"])
        for combo in itertools.product(*(choices[n] for n in names)):
            opts = dict(zip(names, combo))
            if row.cls:
                for red in reds:
                    yield Config("keras", "class", row.cls, row, {**opts, "reduction": red})
            for steps in _step_choices(src):
                yield Config("keras", "function", row.fn, row, dict(opts), steps=steps)


def _jax_candidates(src: Spec) -> Iterator[Config]:
    jax_table = _tables()[2]
    for row in jax_table.TABLE:
        if src.loss not in (row.canonical, row.twin_of):
            continue
        pre = [_fn_name(f) for f in row.pre]
        base = {}
        inv = {native: canon for native, canon in row.options.items()}
        axis_alt: list = []
        for n, d, _ in row.params:
            if n in inv:
                base[n] = src.options.get(inv[n], d)
            elif n == "axis" and "_classes_to_axis_1" in pre:
                axis_alt = [int(src.class_axis)] if src.class_axis.lstrip("-").isdigit() else []
                base[n] = d
            elif n == "axis" and "_sum_axis" in [_fn_name(f) for f in row.post]:
                inner = [s[1] for s in src.steps if s[0] == "sum" and s[1] is not None]
                axis_alt = inner
                base[n] = d
            else:
                base[n] = d
        for ax in _ordered(base.get("axis"), axis_alt) if "axis" in base else [None]:
            opts = dict(base)
            if ax is not None:
                opts["axis"] = ax
            for steps in _step_choices(src):
                yield Config("jax", "function", row.name, row, opts, steps=steps)


# ----------------------------------------------------------------------------- code


def _array_code(framework: str, v: np.ndarray) -> str:
    vals = S.fmt(np.asarray(v))
    dt = np.asarray(v).dtype
    if framework == "torch":
        return f"torch.tensor({vals})" if dt != np.float64 else f"torch.tensor({vals}, dtype=torch.float64)"
    if framework == "jax":
        return f"jnp.array({vals})"
    if framework == "keras":
        return f"keras.ops.convert_to_tensor({vals})"
    return f"np.array({vals})"


def _value_code(framework: str, v: Any) -> str:
    if isinstance(v, np.ndarray):
        return _array_code(framework, v)
    return S.fmt(v)


def _arg_names(cfg: Config) -> tuple[str, ...]:
    if cfg.kind == "canonical":
        return S.array_names(cfg.name)
    if cfg.framework == "torch":
        return tuple(cfg.row.inputs)
    if cfg.framework == "keras":
        return tuple(cfg.row.inputs)
    return tuple(cfg.row.names)


def _reduce_code(framework: str, expr: str, st: tuple, first: str) -> str:
    if st[0] == "batchmean":
        inner = f"keras.ops.sum({expr})" if framework == "keras" else f"{expr}.sum()"
        return f"{inner} / {first}.shape[0]"
    if framework == "keras":
        return f"keras.ops.{st[0]}({expr}" + ("" if st[1] is None else f", axis={st[1]}") + ")"
    if st[1] is None:
        return f"{expr}.{st[0]}()"
    return f"{expr}.{st[0]}({'dim' if framework == 'torch' else 'axis'}={st[1]})"


def code(cfg: Config) -> str:
    """``cfg`` as one line of runnable code (with :func:`imports`)."""
    d = defaults(cfg)
    shown = {k: v for k, v in cfg.options.items() if k not in d or not S.same_value(v, d[k])}
    if cfg.kind in ("module", "class"):
        args = ", ".join(f"{k}={_value_code(cfg.framework, v)}" for k, v in shown.items())
        return f"{_prefix(cfg)}{cfg.name}({args})"
    fn = f"{_prefix(cfg)}{cfg.name}"
    if not cfg.steps:
        if not shown:
            return fn
        args = ", ".join(f"{k}={_value_code(cfg.framework, v)}" for k, v in shown.items())
        return f"functools.partial({fn}, {args})"
    names = _arg_names(cfg)
    args = ", ".join([*names, *(f"{k}={_value_code(cfg.framework, v)}" for k, v in shown.items())])
    expr = f"{fn}({args})"
    for st in cfg.steps:
        expr = _reduce_code(cfg.framework, expr, st, names[0])
    return f"lambda {', '.join(names)}: {expr}"


def imports(cfg: Config, line: str) -> list[str]:
    """The import lines ``line`` (from :func:`code`) needs."""
    import re

    out = []
    for pattern, imp in ((r"\bfunctools\.", "import functools"), (r"(?<![\w.])np\.", "import numpy as np"),
                         (r"(?<![\w.])torch\.", "import torch"), (r"(?<![\w.])jnp\.", "import jax.numpy as jnp"),
                         (r"(?<![\w.])keras\.", "import keras"), (r"(?<![\w.])mt\.", "import multiloss.torch as mt"),
                         (r"(?<![\w.])mk\.", "import multiloss.keras as mk"),
                         (r"(?<![\w.])mj\.", "import multiloss.jax as mj"),
                         (r"(?<![\w.])multiloss\.", "import multiloss")):
        if re.search(pattern, line):
            out.append(imp)
    return out


def exposes(cfg: Config) -> set[str]:
    """The canonical options ``cfg``'s form lets a user set."""
    row = cfg.row
    if cfg.kind == "canonical":
        return set(S.params(cfg.name))
    if cfg.framework == "torch":
        return {row.rename.get(n, n) for n in defaults(cfg)}
    if cfg.framework == "jax":
        return set(row.options.values())
    names = {n for n, _ in tuple(row.options) + tuple(row.reduction_after)}
    return names | ({"ignore_index"} if "ignore_class" in names else set())


# ----------------------------------------------------------------------------- building


class Ported:
    """A function form of the target framework with its options bound and the reduction the
    source applied: ``Ported(*arrays)`` in the target's argument order. ``code`` is the same
    thing as a line of code."""

    def __init__(self, fn: Callable[..., Any], kwargs: dict, steps: tuple, code: str) -> None:
        self.fn, self.kwargs, self.steps, self.code = fn, kwargs, tuple(steps), code

    def __call__(self, *arrays: Any) -> Any:
        out = self.fn(*arrays, **self.kwargs)
        if not self.steps:
            return out
        from .._namespace import array_namespace

        xp = array_namespace(out)
        for st in self.steps:
            if st[0] == "batchmean":
                out = xp.sum(out) / arrays[0].shape[0]
            else:
                out = getattr(xp, st[0])(out, axis=st[1])
        return out

    def __repr__(self) -> str:
        return self.code


def _to_framework(framework: str, v: Any) -> Any:
    if not isinstance(v, np.ndarray):
        return v
    if framework == "torch":
        import torch

        return torch.as_tensor(v)
    if framework == "jax":
        import jax.numpy as jnp

        return jnp.asarray(v)
    if framework == "keras":
        import keras

        return keras.ops.convert_to_tensor(v)
    return v


def build(cfg: Config) -> Any:
    """The multiloss object ``cfg`` describes (imports the target framework)."""
    opts = {k: _to_framework(cfg.framework, v) for k, v in cfg.options.items()}
    if cfg.kind == "module":
        import multiloss.torch as mt

        return getattr(mt, cfg.name)(**opts)
    if cfg.kind == "class":
        import multiloss.keras as mk

        return getattr(mk, cfg.name)(**opts)
    if cfg.kind == "canonical":
        from .. import losses

        fn = getattr(losses, cfg.name)
    elif cfg.framework == "torch":
        import multiloss.torch.functional as mF

        fn = getattr(mF, cfg.name)
    elif cfg.framework == "keras":
        import multiloss.keras as mk

        fn = getattr(mk, cfg.name)
    else:
        import multiloss.jax as mj

        fn = getattr(mj, cfg.name)
    d = defaults(cfg)
    kwargs = {k: v for k, v in opts.items() if k not in d or not S.same_value(cfg.options[k], d[k])}
    return Ported(fn, kwargs, cfg.steps, code(cfg))
