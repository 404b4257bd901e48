"""The generated parts of ``docs/porting.md``: the porting table (every native loss with its
default options, ported to each framework), the refusals of the conformance grids, and the
semantic differences with their numeric examples. Derived from the adapter tables through the
same code as :func:`multiloss.port.plan`; no framework is imported (the numbers are the
canonical functions' on NumPy). ``tests/test_port.py`` keeps the file in sync:

    python -m multiloss.port.docs docs/porting.md     # rewrite the generated sections
"""

from __future__ import annotations

import re
import sys
from collections import OrderedDict
from typing import Iterator

import numpy as np

__all__ = ["sections", "render", "update", "grid_configs", "porting_table", "refusals", "differences"]

TARGETS = ("torch", "keras", "jax")
_MARK = "<!-- port:{name}:{edge} -->"


# ----------------------------------------------------------------------------- configs


def _keras_native_defaults(row) -> dict:
    out = dict(row.options)
    for check in row.checks:
        for kw in check.options:
            for k in kw:
                out.setdefault(k, None)
    out.update(row.native_options)
    out["reduction"] = "sum_over_batch_size"
    return out


def natives() -> Iterator[tuple[str, str, object, dict]]:
    """``(framework, native name, row, native_defaults)`` for every native loss of the tables."""
    from ..backends import jax_table, keras_table, torch_table

    for e in torch_table.TABLE:
        if e.native and not e.module:
            yield "torch", e.native, e, {}
    keras_classes = {r.cls for r in keras_table.TABLE if r.keras_native and r.cls}
    seen = set()
    for r in keras_table.TABLE:
        native = r.native or (r.cls if r.keras_native else "")
        if r.cls and native and native not in seen:
            seen.add(native)
            yield "keras", native, r, (_keras_native_defaults(r) if native not in keras_classes else {})
    for jrow in jax_table.TABLE:
        if jrow.optax:
            yield "jax", jrow.optax, jrow, {}


def config(framework: str, native: str, options: dict, native_defaults: dict):
    from ._objects import config_of

    if framework == "torch":
        return config_of("torch", "module", native, options, native=True, spelled=f"torch.nn.{native}")
    if framework == "keras":
        return config_of("keras", "class", native, options, native=True, spelled=f"keras.losses.{native}",
                         native_defaults=native_defaults or None)
    return config_of("jax", "function", native, options, native=True, spelled=f"optax.losses.{native}")


def grid_configs():
    """``(case, config)`` for every case of :func:`multiloss.port.proof.cases`, framework-free."""
    from . import PortError, proof

    defaults = {(fw, name): nd for fw, name, _, nd in natives()}
    for case in proof.cases():
        opts = {**case.extra, **case.options}
        try:
            yield case, config(case.source, case.native, opts, defaults.get((case.source, case.native), {}))
        except PortError as e:  # an option no multiloss form has: refused as it is read
            yield case, e


def _plan(cfg, to, targets=None):
    from . import PortError, plan_config

    try:
        return plan_config(cfg, to, targets=targets), None
    except PortError as e:
        return None, str(e)


def _short(reason: str) -> str:
    """The first difference of a refusal, without the repeated source."""
    r = reason.split(": ", 1)[1] if ": " in reason else reason
    r = r.split(". Closest:")[0]
    return r


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# ----------------------------------------------------------------------------- the table


def porting_table() -> str:
    """Every native loss with its default options -> torch / keras / jax (code, or why not)."""
    lines = ["| source (default options) | torch | keras | jax |", "|---|---|---|---|"]
    for fw, native, row, nd in natives():
        try:
            cfg = config(fw, native, {}, nd)
        except Exception as e:  # pragma: no cover - a row the reader cannot take
            lines.append(f"| `{native}` | {_cell(str(e))} | | |")
            continue
        cells = []
        for to in TARGETS:
            if to == fw:
                cells.append("(source)")
                continue
            plan, why = _plan(cfg, to)
            if plan is not None:
                note = " ¹" if plan.conditions else ""
                cells.append(f"`{_cell(plan.code)}`{note}")
            else:
                cells.append("✘ " + _cell(_first_reason(why)))
        src = f"`{_cell(cfg.spelled)}()`"
        lines.append(f"| {src} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("¹ equal under a condition on the data, stated by `multiloss.port.plan(...).notes` "
                 "(e.g. \"no target equals -100\").")
    return "\n".join(lines)


def _first_reason(why: str) -> str:
    s = _short(why)
    s = s.split("; ")[0]
    return s if len(s) <= 160 else s[:157] + "..."


# ----------------------------------------------------------------------------- refusals


def _reason_kind(why: str) -> str:
    w = why.split(". Closest:")[0]
    checks = (
        ("another array convention", "array convention"), ("another distance", "another distance"),
        ("form of multiloss.", "no twin in that framework"),
        ("has no weight option", "class / element weights"), ("has no pos_weight option", "pos_weight"),
        ("smooths binary labels", "binary label smoothing"), ("divides the probabilities by their sum",
                                                                "probability normalisation"),
        ("takes probabilities and uses log(y_pred)", "probabilities vs logits / log-probabilities"),
        ("class axis", "class axis"), ("the arrays differ", "array convention"),
        ("owns parameters", "parameters"), ("no equivalent in", "no twin"),
        ("unknown option", "option unknown to multiloss"),
        ("differ by a factor", "scale factor"), ("values differ by", "offset"),
        ("targets", "target format"), ("gives", "reduction"),
    )
    for needle, kind in checks:
        if needle in w:
            return kind
    return "options"


def refusals() -> str:
    """What port refuses on the conformance grids, grouped by source loss and target."""
    groups: "OrderedDict[tuple[str, str], OrderedDict[str, list[str]]]" = OrderedDict()
    from . import PortError

    for case, cfg in grid_configs():
        if isinstance(cfg, PortError):
            why = str(cfg)
        else:
            try:
                _, why = _plan(cfg, case.to, _grid_targets(case.domain))
            except PortError as e:
                why = str(e)
        if why is None:
            continue
        key = (f"{case.source}: {case.native}", case.to)
        kind = _reason_kind(why)
        groups.setdefault(key, OrderedDict()).setdefault(kind, []).append(case.label or "defaults")
    lines = ["| source | to | refused option sets (why) |", "|---|---|---|"]
    for (src, to), kinds in groups.items():
        parts = []
        for kind, labels in kinds.items():
            uniq = list(OrderedDict.fromkeys(labels))
            shown = ", ".join(f"`{_cell(x)}`" for x in uniq[:4]) + (f" +{len(uniq) - 4}" if len(uniq) > 4 else "")
            parts.append(f"{kind}: {shown}")
        lines.append(f"| {src} | {to} | {'; '.join(parts)} |")
    return "\n".join(lines)


def _grid_targets(domain: str) -> str | None:
    from .proof import _domain, _targets_of

    try:
        return _targets_of(_domain(domain))
    except Exception:
        return None


# ----------------------------------------------------------------------------- differences


def _f(x: float) -> str:
    return f"{float(x):.4g}"


def differences() -> str:
    """Each semantic difference between the frameworks, with a two-line numeric example computed
    by the canonical functions (torch semantics) and NumPy."""
    import multiloss as ml

    out = []

    def item(title, text, a, b):
        out.append(f"- **{title}** {text}\n\n  ```\n  {a}\n  {b}\n  ```")

    p, t = np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2))
    se = (p - t) ** 2
    item("Reduction `sum` and `none`.",
         "torch reduces over every element; keras first averages each sample over the last axis "
         "(`sum_over_batch_size` is then the same mean, but `sum` is C times smaller and `none` has one value "
         "per sample); optax returns the elements unreduced. `port` maps `mean` <-> `sum_over_batch_size` and "
         "refuses the others.",
         f"torch.nn.MSELoss(reduction='sum')(p, 0)            -> {_f(ml.mse_loss(p, t, reduction='sum'))}   "
         f"(p = [[1, 2], [3, 4]])",
         f"keras.losses.MeanSquaredError(reduction='sum')(0, p) -> {_f(se.mean(-1).sum())}   "
         f"(none: {se.mean(-1).tolist()})")
    logits, labels, w = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0]]), np.array([0, 1, 1]), np.array([1.0, 3.0])
    per = ml.cross_entropy(logits, labels, reduction="none")
    item("Class-weighted mean.",
         "torch's `CrossEntropyLoss(weight=w)` divides the weighted sum by the summed weights of the targets; "
         "keras has no class weight, and its `sample_weight` mean divides by the number of samples "
         "(`reduction='mean_with_sample_weight'` divides by the summed weights: torch's number).",
         f"torch.nn.CrossEntropyLoss(weight=[1, 3])            -> "
         f"{_f(ml.cross_entropy(logits, labels, weight=w))}",
         f"keras SparseCategoricalCrossentropy, sample_weight=w[y] -> {_f((w[labels] * per).mean())}   "
         f"('mean_with_sample_weight': {_f((w[labels] * per).sum() / w[labels].sum())})")
    y, pr = np.array([1.0]), np.array([0.9])
    item("Label smoothing.",
         "torch's `label_smoothing` (cross-entropy only) and keras's categorical one both spread eps over the C "
         "classes, `y * (1 - eps) + eps / C`: the same numbers. keras's *binary* smoothing is "
         "`y * (1 - eps) + eps / 2`, which torch's BCE losses lack.",
         f"torch.nn.BCELoss()(0.9, 1)                                 -> "
         f"{_f(ml.binary_cross_entropy(pr, y))}",
         f"keras.losses.BinaryCrossentropy(label_smoothing=0.2)(1, 0.9) -> "
         f"{_f(ml.binary_cross_entropy(pr, y * 0.8 + 0.1))}")
    x = np.array([[2.0, 1.0, 0.1]])
    prob = np.exp(x) / np.exp(x).sum()
    item("`from_logits`.",
         "torch's cross-entropies take logits (`CrossEntropyLoss`, `BCEWithLogitsLoss`) or probabilities "
         "(`BCELoss`) by class; keras and optax choose with `from_logits` or by function. keras's "
         "categorical losses on probabilities use their log as logits.",
         f"torch.nn.CrossEntropyLoss()(x, 0)                             -> "
         f"{_f(ml.cross_entropy(x, np.array([0])))}   (x = [[2, 1, 0.1]])",
         f"keras.losses.CategoricalCrossentropy()([1, 0, 0], softmax(x)) -> "
         f"{_f(-np.log(prob[0, 0]))}")
    item("Class axis.",
         "torch puts the classes at axis 1, keras and optax last (`axis=-1`): the same for (N, C) arrays; "
         "for (N, C, d1, ...) move the axis or pass `axis=1`. The plan says so (`plan.move_class_axis`).",
         "torch.nn.CrossEntropyLoss()  logits (N, C, d1) -> np.moveaxis(logits, 1, -1) for",
         "keras.losses.CategoricalCrossentropy(from_logits=True)  logits (N, d1, C)")
    lab = np.array([0, -100, 1])
    item("`ignore_index` <-> `ignore_class`.",
         "torch skips targets equal to `ignore_index` (default -100) and averages over the rest; keras's "
         "`ignore_class` masks them the same way (default None: nothing is ignored); optax has no ignore, so a "
         "port from torch holds where no target is -100 (`strict=True` refuses it).",
         f"torch.nn.CrossEntropyLoss()(x3, [0, -100, 1])                                -> "
         f"{_f(ml.cross_entropy(logits, lab))}",
         f"keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100) -> "
         f"{_f(ml.cross_entropy(logits, lab))}")
    p0, y0 = np.array([0.0]), np.array([1.0])
    item("Probability clipping.",
         "torch's `BCELoss` clamps each log at -100; keras clips probabilities to [1e-7, 1 - 1e-7] first. "
         "Equal inside those bounds (a port says so).",
         f"torch.nn.BCELoss()(0.0, 1)                    -> {_f(ml.binary_cross_entropy(p0, y0))}",
         f"keras.losses.BinaryCrossentropy()(1, 0.0)     -> {_f(-np.log(1e-7))}")
    a, b = np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]])
    item("Scale factors and signs.",
         "optax's `l2_loss` is half `squared_error`; optax's `cosine_similarity` is the positive similarity, "
         "keras's `CosineSimilarity` the negative one, optax's `cosine_distance` one minus it. `port` refuses "
         "these (the values differ by the factor or offset, which the message gives).",
         f"optax.losses.l2_loss(p, 0)      -> {(0.5 * (a - b) ** 2).tolist()}",
         f"torch.nn.MSELoss(reduction='none')(p, 0) -> {((a - b) ** 2).tolist()}")
    sx, sy = np.array([0.3]), np.array([0.0])
    item("Hinge labels.",
         "keras's `Hinge` maps targets that are all in {0, 1} to {-1, 1}; optax's `hinge_loss` uses them as "
         "given: equal for targets in {-1, 1}.",
         f"keras.losses.Hinge()(0, 0.3)         -> {_f(ml.hinge(sx, sy, labels='auto'))}",
         f"optax.losses.hinge_loss(0.3, 0)      -> {_f(ml.hinge(sx, sy, labels='signed'))}")
    lp = np.log(np.array([[0.2, 0.8], [0.5, 0.5]]))
    q = np.array([[0.5, 0.5], [0.1, 0.9]])
    item("KL divergence.",
         "torch's `KLDivLoss` takes log-probabilities and its `mean` averages the elements ('batchmean' is the "
         "KL per sample); keras's `KLDivergence` takes probabilities and sums each sample; optax's "
         "`kl_divergence` takes log-probabilities and sums over `axis`.",
         f"torch.nn.KLDivLoss(reduction='batchmean')(log p, q) -> {_f(ml.kl_div(lp, q, reduction='batchmean'))}",
         f"torch.nn.KLDivLoss()(log p, q)                      -> {_f(ml.kl_div(lp, q, reduction='mean'))}")
    d = np.array([3.0]), np.array([0.0])
    item("Huber and smooth L1.",
         "`smooth_l1_loss(beta)` is `huber_loss(delta=beta) / beta`: different losses in the catalogue.",
         f"torch.nn.HuberLoss(delta=2.0)(3, 0)    -> {_f(ml.huber_loss(*d, delta=2.0))}",
         f"torch.nn.SmoothL1Loss(beta=2.0)(3, 0)  -> {_f(ml.smooth_l1_loss(*d, beta=2.0))}")
    rate, cnt = np.array([0.0]), np.array([2.0])
    item("Constants.",
         "keras's `Poisson` is `y_pred - y_true * log(y_pred + 1e-7)` (keras's epsilon); torch's "
         "`PoissonNLLLoss(log_input=False)` adds `eps=1e-8`: `port` passes `eps=1e-7`. keras's MAPE divides "
         "by `max(|y|, 1e-7)`, its cosine by `sqrt(max(sum x**2, 1e-14))`.",
         f"keras.losses.Poisson()(2, 0)                       -> "
         f"{_f(ml.poisson_nll_loss(rate, cnt, log_input=False, eps=1e-7))}",
         f"torch.nn.PoissonNLLLoss(log_input=False)(0, 2)     -> "
         f"{_f(ml.poisson_nll_loss(rate, cnt, log_input=False, eps=1e-8))}")
    return "\n\n".join(out)


# ----------------------------------------------------------------------------- the file


def sections() -> dict[str, str]:
    return {"differences": differences(), "table": porting_table(), "refusals": refusals()}


def _replacement(block: str):
    """A ``re.sub`` replacement that inserts ``block`` as is (no backslash escapes)."""
    return lambda match: block


def render(text: str, generated: dict[str, str] | None = None) -> str:
    """``text`` with every ``<!-- port:NAME:start -->`` ... ``end`` section regenerated."""
    generated = generated if generated is not None else sections()
    for name, body in generated.items():
        start, end = _MARK.format(name=name, edge="start"), _MARK.format(name=name, edge="end")
        if start not in text or end not in text:
            raise ValueError(f"docs/porting.md: no {start} ... {end} markers")
        pattern = re.escape(start) + r".*?" + re.escape(end)
        text = re.sub(pattern, _replacement(f"{start}\n{body}\n{end}"), text, count=1, flags=re.S)
    return text


def update(path: str) -> bool:
    """Rewrite the generated sections of ``path``; ``True`` when it changed."""
    import pathlib

    p = pathlib.Path(path)
    old = p.read_text()
    new = render(old)
    if new != old:
        p.write_text(new)
    return new != old


if __name__ == "__main__":  # pragma: no cover
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/porting.md"
    print(f"{path}: {'updated' if update(path) else 'up to date'}")
