"""Property-based tests (hypothesis) over the catalogue, on every installed backend.

Every property draws a conformance case (a canonical loss, one of its ``@reference`` option
sets and its input domain: :mod:`multiloss.conformance.references`), a seed for the domain,
a batch (0 rows, fewer, more, repeated or permuted rows of the domain's batch), a dtype the
case declares and the backend runs, and where it applies a shape (elementwise cases:
flattened, 0-d, a leading unit axis, a broadcast target) and a memory layout (NumPy,
array_api_strict and torch: Fortran-ordered, strided views). Inputs come from
``tests/_strategies.py``; nothing here lists losses: a new loss with a reference is covered.

Properties (one test per property and backend, the ``xp`` fixture's; each loss, or adapter
row, gets its own hypothesis run on numpy, array_api_strict, torch and tensorflow, and jax
one run over all of them):

* ``test_matches_reference``: the canonical loss equals the float64 reference (on the inputs
  rounded to the dtype; the conformance tolerances of :mod:`multiloss.conformance.spec`) and
  returns an array of its input's kind and dtype; float32/float64 draw any reduction;
* ``test_matches_native``: each adapter row (``multiloss.torch`` / ``multiloss.keras`` /
  ``multiloss.jax``) equals its native twin (torch.nn(.functional), keras.losses, optax) in
  value and gradient, on the pairings of ``multiloss.conformance.natives_*``;
* ``test_sum_is_mean_times_count``: unweighted, ``reduction="sum"`` equals ``"mean"`` times the
  number of terms it averages (of ``"none"``: less the ignored targets, NT-Xent's pairs,
  Circle's nonzero anchors);
* ``test_unit_weight_is_no_weight``: a ``weight`` / ``pos_weight`` of ones, or a ``where`` of
  all true, equals leaving it out;
* ``test_zero_label_smoothing_is_plain``: ``label_smoothing=0`` equals leaving it out;
* ``test_mean_invariant_under_batch_permutation``;
* ``test_extreme_inputs_finite``: huge and zero logits, probabilities at exactly 0 and 1,
  log-probabilities of -1e8, large targets and zero variances, in every dtype the case
  declares: wherever the float64 reference is finite and representable in the dtype, the
  loss is finite; and so is its gradient wherever the float64 gradient (same backend, same
  rounded inputs) is (in float64: wherever the value is).

Profiles (registered here; this file never loads a profile globally): the default
``multiloss-properties`` is deterministic (``derandomize=True``, no database, no deadline),
with the example counts of :data:`EXAMPLES`; ``MULTILOSS_HYPOTHESIS_PROFILE=long`` selects
``multiloss-properties-long``, 20 times as many examples of each run. ``-s`` prints the
generated cases per backend.

Generated cases per backend under the default profile (all properties; the whole file,
regression tests included, took 35-49 s of wall time on this shared 2-core machine, every
framework installed):
numpy 760, array_api_strict 385, torch 940, jax 118, tensorflow 383 (2586 in all). By property:
reference 294 / 147 / 294 / 40 / 98 (numpy / array_api_strict / torch / jax / tensorflow),
native - / - / 180 / 20 / 47, sum = mean x count 94 / 47 / 94 / 12 / 47, unit weight
50 / 30 / 50 / 8 / 30, label smoothing 0 30 / 15 / 30 / 6 / 15, permutation 96 / 48 / 96 / 12 /
48, extremes 196 / 98 / 196 / 20 / 98.
"""

from __future__ import annotations

import collections
import os
import warnings
import zlib
from typing import Any

import numpy as np
import pytest

pytest.importorskip("hypothesis")  # in the test extra; a bare environment skips this file

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import multiloss
from multiloss.conformance import domains
from multiloss.conformance.cases import CASES
from multiloss.conformance.spec import tolerance
from tests_conftest import GRAD_BACKENDS

try:  # tests/ is on sys.path under pytest's default (prepend) import mode
    import _strategies as S
except ImportError:  # --import-mode=importlib: load it beside this file
    import importlib.util as _util
    import sys as _sys

    _spec = _util.spec_from_file_location("_strategies", os.path.join(os.path.dirname(__file__), "_strategies.py"))
    S = _util.module_from_spec(_spec)
    _sys.modules["_strategies"] = S
    _spec.loader.exec_module(S)

# ----------------------------------------------------------------------------- profiles

_PROFILE_ENV = "MULTILOSS_HYPOTHESIS_PROFILE"
_PROFILES = {"default": ("multiloss-properties", 1), "long": ("multiloss-properties-long", 20)}
for _name, _ in _PROFILES.values():
    settings.register_profile(
        _name, derandomize=True, database=None, deadline=None, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                               HealthCheck.function_scoped_fixture])
_choice = os.environ.get(_PROFILE_ENV, "default")
if _choice not in _PROFILES:
    raise ValueError(f"{_PROFILE_ENV}={_choice!r}: expected one of {', '.join(_PROFILES)}")
PROFILE, SCALE = _PROFILES[_choice]

# Examples per hypothesis run under the default profile. On numpy, array_api_strict, torch and
# tensorflow every loss (every adapter row, for "native") gets its own run of that many
# examples, so none is left undrawn (over the whole catalogue at once, hypothesis's choices,
# which favour some values, left a fifth of the losses undrawn in 300 examples). jax compiles
# each new loss, shape and dtype (0.1-0.5 s): there the count is for one run over all losses.
EXAMPLES: dict[str, dict[str, int]] = {
    "reference": {"numpy": 6, "array_api_strict": 3, "torch": 6, "jax": 40, "tensorflow": 2},
    "native": {"torch": 4, "jax": 20, "tensorflow": 1},
    "sum_mean": {"numpy": 2, "array_api_strict": 1, "torch": 2, "jax": 12, "tensorflow": 1},
    "unit_weight": {"numpy": 5, "array_api_strict": 3, "torch": 5, "jax": 8, "tensorflow": 3},
    "label_smoothing": {"numpy": 10, "array_api_strict": 5, "torch": 10, "jax": 6, "tensorflow": 5},
    "permutation": {"numpy": 2, "array_api_strict": 1, "torch": 2, "jax": 12, "tensorflow": 1},
    "extremes": {"numpy": 4, "array_api_strict": 2, "torch": 4, "jax": 20, "tensorflow": 2},
}

COUNTS: collections.Counter = collections.Counter()  # (backend, property) -> examples run


def _settings(prop: str, backend: str) -> settings:
    return settings(settings.get_profile(PROFILE), max_examples=SCALE * EXAMPLES[prop][backend])


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    if COUNTS:
        per_backend = collections.Counter()
        for (b, _), n in COUNTS.items():
            per_backend[b] += n
        lines = [f"hypothesis profile {PROFILE}: generated cases per backend"]
        for b, n in per_backend.items():
            detail = ", ".join(f"{p} {COUNTS[b, p]}" for p in EXAMPLES if (b, p) in COUNTS)
            lines.append(f"  {b}: {n} ({detail})")
        print("\n" + "\n".join(lines))


# ----------------------------------------------------------------------------- case pools

_WEIGHT_OPTIONS = ("weight", "pos_weight", "where")


def _groups(cases, backend: str, key=lambda c: c.loss) -> list[dict]:
    """The cases ``backend`` runs in some declared dtype, as ``{loss: cases}`` groups, one
    hypothesis run each: a group per loss (per ``key``), or on jax one group of all."""
    pool: dict[str, list] = {}
    for c in cases:
        if S.dtypes_on(backend, c.dtypes):
            pool.setdefault(key(c), []).append(c)
    assert pool, "no case to draw from"
    if backend == "jax":
        return [pool]
    return [{k: v} for k, v in sorted(pool.items())]


def _pick(group: dict):
    """A strategy for one case of a group: a loss, then one of its cases."""
    return st.sampled_from(sorted(group)).flatmap(lambda loss: st.sampled_from(group[loss]))


def _seed(data, case) -> int:
    """A domain seed: drawn, mixed with the case (every loss's run draws the same integers
    under ``derandomize``; its inputs differ all the same)."""
    return data.draw(st.integers(0, 2**32 - 1), label="seed") ^ zlib.crc32(case.id.encode())


def _reduction(case) -> str:
    return case.kwargs.get("reduction", "mean")


def _takes_reduction(case) -> bool:
    return S.reference_takes(case, "reduction") and "reduction" in S.signature_of(case.loss)


def _unweighted(case) -> bool:
    return not any(k in case.kwargs for k in _WEIGHT_OPTIONS)


# sum = mean x count: every unweighted case with reductions, except where "mean" is defined
# otherwise: CTC divides each sequence's loss by its target length before the batch mean
# (torch.nn.functional.ctc_loss); kl_div / generalized_kl_divergence also have 'batchmean'
# (not drawn here). Targets equal to ignore_index are not counted (torch's mean).
_MEAN_IS_NOT_PLAIN = {"ctc_loss"}
SUM_MEAN_CASES = [c for c in CASES if _takes_reduction(c) and _unweighted(c) and c.loss not in _MEAN_IS_NOT_PLAIN]
WEIGHT_CASES = [c for c in CASES if any(isinstance(c.kwargs.get(k), np.ndarray) for k in _WEIGHT_OPTIONS)]
SMOOTHING_CASES = [c for c in CASES if "label_smoothing" in S.signature_of(c.loss)]
# the batch order matters to Circle against reference embeddings with remove_diagonal (keras's
# build_pos_neg_masks drops the pairs (i, i) of anchor i and reference row i whatever the rows)
PERMUTATION_CASES = [c for c in CASES if _takes_reduction(c) and not (
    c.loss == "circle" and "ref_embeddings" in c.kwargs and c.kwargs.get("remove_diagonal", True))]


# ----------------------------------------------------------------------------- drawing


def _min_rows(case, backend: str) -> int:
    """0 where an empty batch can be held against the reference, else 1. Known, reported, not
    fixed here (multiloss/backends/torch_ops.py is shared): on torch, ``ctc_loss`` of a batch of
    0 sequences raises torch's kernel error "log_probs tensor must not be empty" (a
    RuntimeError naming neither the function nor the argument), where numpy, jax and
    tensorflow return the reference's nan / 0 / []."""
    if not S.reference_takes_empty(case) or (case.loss == "ctc_loss" and backend == "torch"):
        return 1
    return 0


def _draw_rows(data, backend: str, n: int, min_rows: int = 0) -> list:
    """Row indices into a domain batch of ``n``: any number up to ``n + 4``, repeated and in any
    order; on jax (a compile per loss, shape and dtype) ``n`` rows, or 1 or 0."""
    if backend == "jax":
        size = data.draw(st.sampled_from([k for k in (n, n, 1, 0) if k >= min_rows]), label="rows")
        return data.draw(st.lists(st.integers(0, n - 1), min_size=size, max_size=size), label="rows")
    return data.draw(st.lists(st.integers(0, n - 1), min_size=min_rows, max_size=n + 4), label="rows")


def _draw_input(data, case, backend: str, *, dtypes=None, shapes: bool = True, seed=None):
    """Draw (dtype, Example, shape, layout) for ``case`` on ``backend``."""
    dtype = data.draw(st.sampled_from(S.dtypes_on(backend, dtypes or case.dtypes)), label="dtype")
    raw = domains.make(case.domain, _seed(data, case) if seed is None else seed)
    n = S.batch_size(case.domain, raw)
    idx = S.complete_rows(case, raw, _draw_rows(data, backend, n, _min_rows(case, backend)))
    raw, kw = S.resample(case.domain, raw, case.kwargs, idx)
    shape = "batch"
    if shapes and idx and S.elementwise(case):
        # ('batchmean' divides by a batch axis that a 0-d input has not)
        shape = data.draw(st.sampled_from([s for s in S.SHAPES if (s != "broadcast" or S.broadcasts(case))
                                           and not (s == "0-d" and _reduction(case) == "batchmean")]),
                          label="shape")
        raw = S.reshape_elementwise(raw, shape)
    layout = data.draw(st.sampled_from(S.LAYOUTS), label="layout") if backend in (
        "numpy", "array_api_strict", "torch") else "C"
    ex = S.Example(raw["pred"], raw["target"], tuple(raw.get("args", ())), kw, raw.get("sample_weight"),
                   broadcast=shape == "broadcast")
    return dtype, ex, shape, layout


def _backend_inputs(backend: str, ex: S.Example, dtype: str, layout: str = "C"):
    arrays = [S.to_backend(backend, a, dtype, layout) for a in ex.arrays()]
    kw = {k: S.to_backend(backend, v, dtype) for k, v in ex.kwargs.items()}
    return arrays, kw


def _reference(case, backend: str, ex: S.Example, dtype: str, **override) -> np.ndarray:
    r = lambda v: S.round_trip(backend, v, dtype)
    kw = {k: r(v) for k, v in {**ex.kwargs, **override}.items()}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(S._fields(case.reference(*[r(a) for a in ex.reference_arrays()], **kw)), dtype=np.float64)


def _loss(case, backend: str, ex: S.Example, dtype: str, layout: str = "C", grad: bool = False, **override):
    arrays, kw = _backend_inputs(backend, ex, dtype, layout)
    kw.update({k: S.to_backend(backend, v, dtype) for k, v in override.items()})
    # (jax: one jitted function per loss; its options and shapes key its compiled programs)
    return S.evaluate(backend, getattr(multiloss, case.loss), arrays, kw, grad=grad, staged=case.staged,
                      key=case.loss)


def _losses(case, backend: str, ex: S.Example, dtype: str, layout: str, variants: list[dict]) -> list:
    """Float64 values of ``case``'s loss on ``ex`` with each option override of ``variants``
    (one compiled program for all of them on jax)."""
    arrays, kw = _backend_inputs(backend, ex, dtype, layout)
    kws = [{**kw, **{k: S.to_backend(backend, v, dtype) for k, v in o.items()}} for o in variants]
    return S.evaluate_variants(backend, getattr(multiloss, case.loss), arrays, kws, key=case.loss)


def _close(got, want, dtype: str, what: str, scale_atol: bool = False, magnitude: float = 0.0,
           amplify: float = 1.0):
    """``got`` close to ``want`` at the conformance tolerance of ``dtype`` against a float64
    reference; ``scale_atol``: the absolute tolerance grows with the largest ``|want|`` (for
    the small elements of a wide-ranging result), ``magnitude``: with a given scale;
    ``amplify``: the absolute tolerance times the loss's own gain on rounding errors."""
    rtol, atol = tolerance(dtype, "value", "reference")
    atol *= amplify
    if scale_atol and np.size(want):
        magnitude = max(magnitude, float(np.max(np.abs(np.where(np.isfinite(want), want, 0.0)))))
    atol = max(atol, rtol * magnitude)
    ok, max_abs, max_rel = S.compare(got, want, rtol, atol)
    assert ok, f"{what}: max abs error {max_abs:.3g}, max rel {max_rel:.3g} (rtol {rtol}, atol {atol:.3g})\n" \
               f"got  {np.asarray(got).ravel()[:12]}\nwant {np.asarray(want).ravel()[:12]}"


# ----------------------------------------------------------------------------- 1. reference


def _gain(case, ex: S.Example, dtype: str) -> float:
    """How much a loss scales the rounding of its inputs, for the absolute tolerance: NT-Xent
    divides cosines by its temperature (0.07: x14), Circle multiplies them by gamma; in
    float16/bfloat16 the inputs' magnitude too (x - softplus(x) cancels: an error of eps |x|,
    torch's own kernels included). 1 in float64."""
    if dtype == "float64":
        return 1.0
    gain = 1.0
    if case.loss == "ntxent":
        gain = 1.0 / ex.kwargs.get("temperature", 0.07)
    elif case.loss == "circle":
        gain = float(ex.kwargs.get("gamma", 80.0))
    if dtype in ("float16", "bfloat16") and ex.pred.size:
        gain *= max(1.0, float(np.max(np.abs(ex.pred))))
    return gain


def _kind_ok(backend: str, out: Any) -> bool:
    mod = type(out).__module__
    prefix = {"numpy": ("numpy",), "array_api_strict": ("array_api_strict",), "torch": ("torch",),
              "jax": ("jax", "jaxlib"), "tensorflow": ("tensorflow", "keras")}[backend]
    return mod.startswith(prefix)


def test_matches_reference(xp):
    backend = xp

    @_settings("reference", backend)
    @given(data=st.data())
    def check(group, data):
        case = data.draw(_pick(group), label="case")
        dtype, ex, shape, layout = _draw_input(data, case, backend)
        if _takes_reduction(case) and dtype in ("float64", "float32"):
            # other reductions than the case's own in float64/float32 only: a case declares
            # float16/bfloat16 for the reductions whose error it bounds (references/_base.py);
            # 'batchmean' divides by a batch axis a 0-d input has not
            choices = {_reduction(case), "mean", "sum", "none"} - ({"batchmean"} if shape == "0-d" else set())
            ex.kwargs["reduction"] = data.draw(st.sampled_from(sorted(choices)), label="reduction")
        COUNTS[backend, "reference"] += 1
        want = _reference(case, backend, ex, dtype)
        out, got, _ = _loss(case, backend, ex, dtype, layout)
        assert _kind_ok(backend, out), f"{case.loss} on {backend} returned a {type(out)}"
        assert S.dtype_name(out) == dtype, f"{case.loss}: {dtype} in, {S.dtype_name(out)} out"
        _close(got, want, dtype, f"{case.id} {backend} {dtype} shape={shape} layout={layout} "
                                 f"pred{ex.pred.shape}", amplify=_gain(case, ex, dtype))

    for group in _groups(CASES, backend):
        check(group)


# ----------------------------------------------------------------------------- 2. native twins

_NATIVE_POOLS: dict[str, list] = {}


def _native_pool(backend: str) -> list:
    if backend not in _NATIVE_POOLS:
        from multiloss.conformance.runner import native_cases

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _NATIVE_POOLS[backend] = native_cases(backend)
    return _NATIVE_POOLS[backend]


def _seed_bound(case) -> bool:
    """A pairing whose option arrays were built from the domain's seed-0 inputs (optax's masks
    that keep each row's label class: :func:`multiloss.conformance.natives_jax.masks`): its
    values stay at seed 0, its batch is still generated."""
    if case.backend != "jax":
        return False
    from multiloss.conformance.natives_jax import masks

    bound = masks()["elem_labels"]
    return any(isinstance(v, np.ndarray) and v.shape == bound.shape and np.array_equal(v, bound)
               for v in case.kwargs.values())


def test_matches_native(grad_backend):
    backend = grad_backend
    pool = _native_pool(backend)
    if not pool:
        pytest.skip(f"no native pairings on {backend} (its adapter's natives are not installed)")

    @_settings("native", backend)
    @given(data=st.data())
    def check(group, data):
        case = data.draw(_pick(group), label="case")
        dtype = data.draw(st.sampled_from(S.dtypes_on(backend, case.dtypes)), label="dtype")
        seed = 0 if _seed_bound(case) else _seed(data, case)
        raw = domains.make(case.domain, seed)
        n = S.batch_size(case.domain, raw)
        idx = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n + 4), label="rows")
        raw, kw_np = S.resample(case.domain, raw, case.kwargs, idx)
        layout = data.draw(st.sampled_from(S.LAYOUTS), label="layout") if backend == "torch" else "C"
        COUNTS[backend, "native"] += 1
        inputs = (raw["pred"], raw["target"], *raw.get("args", ()))

        def both(dt, lay, sides):
            """(value, gradient) of ``sides`` ('ours', 'native') in dtype ``dt``, on the inputs
            rounded to the example's dtype."""
            r = lambda v: S.to_backend(backend, S.round_trip(backend, v, dtype), dt)  # noqa: E731
            arrays = [S.to_backend(backend, S.round_trip(backend, a, dtype), dt, lay) for a in inputs]
            kw = {k: r(v) for k, v in kw_np.items()}
            extra = {"sample_weight": r(raw["sample_weight"])} if case.use_sample_weight and "sample_weight" in raw else {}

            def bound(f):
                if case.order == "true_first":
                    return lambda p, t, *a: f(t, p, *a, **extra)
                return lambda p, t, *a: f(p, t, *a, **extra)

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return S.evaluate_pair(backend, tuple(bound(getattr(case, side)(**kw)) for side in sides), arrays,
                                       grad=case.grad)

        (v_ours, g_ours), (v_nat, g_nat) = both(dtype, layout, ("ours", "native"))
        rtol, atol = case.tolerance_override.get(dtype, tolerance(dtype, "value", "native"))
        what = f"{case.id} vs native on {backend} {dtype} layout={layout} pred{raw['pred'].shape}"
        if dtype in ("float16", "bfloat16") and not np.all(np.isfinite(v_nat)) and np.all(np.isfinite(v_ours)):
            # the native overflows in low precision where multiloss does not (optax's float16
            # dice_loss: nan): multiloss must then equal the native computed in float32 on the
            # same rounded inputs
            ((v_nat, g_nat),) = both("float32", "C", ("native",))
            what += " (native in float32: it is not finite in " + dtype + ")"
        ok, ma, mr = S.compare(v_ours, v_nat, rtol, atol)
        assert ok, f"{what}: value max abs {ma:.3g}, rel {mr:.3g}\nours   {v_ours.ravel()[:8]}\nnative {v_nat.ravel()[:8]}"
        if case.grad and g_nat is not None:
            scale = float(np.max(np.abs(np.where(np.isfinite(g_nat), g_nat, 0.0)))) if g_nat.size else 0.0
            ok, ma, mr = S.compare(g_ours, g_nat, rtol, max(atol, rtol * scale))
            assert ok, f"{what}: gradient max abs {ma:.3g}, rel {mr:.3g}"

    for group in _groups(pool, backend, key=lambda c: c.name):
        check(group)


# ----------------------------------------------------------------------------- 3-6. invariants


def _target_of(case, ex: S.Example):
    """The class-index target array of ``case``'s loss (``linear_cross_entropy`` takes it third)."""
    params = S.signature_of(case.loss)
    i = params.index("target") if "target" in params else 1
    return ex.arrays()[i]


def _mean_count(case, ex: S.Example, none: np.ndarray) -> int:
    """How many terms ``reduction="mean"`` averages: the elements of ``"none"``, less the
    targets equal to ``ignore_index`` (torch), NT-Xent's positive pairs (its ``"none"`` is the
    (N, N) pair matrix, 0 off the pairs), Circle's anchors of nonzero loss (keras)."""
    if case.loss == "ntxent":
        same = ex.target[:, None] == ex.target[None, :]
        return int(same.sum() - same.shape[0])
    if case.loss == "circle":  # keras averages over the anchors whose loss is nonzero
        return int(np.sum(none > 0))
    if "ignore_index" in S.signature_of(case.loss):
        target = _target_of(case, ex)
        ignore = ex.kwargs.get("ignore_index", -100)
        if np.issubdtype(target.dtype, np.integer) and ignore is not None:
            return int(np.sum(np.broadcast_to(target, none.shape) != ignore))
    return none.size


def test_sum_is_mean_times_count(xp):
    backend = xp

    @_settings("sum_mean", backend)
    @given(data=st.data())
    def check(group, data):
        case = data.draw(_pick(group), label="case")
        dtype, ex, shape, layout = _draw_input(data, case, backend)
        ex.kwargs.pop("reduction", None)
        COUNTS[backend, "sum_mean"] += 1
        none, mean, total = _losses(case, backend, ex, dtype, layout,
                                    [{"reduction": "none"}, {"reduction": "mean"}, {"reduction": "sum"}])
        count = _mean_count(case, ex, none)
        what = f"{case.id} {backend} {dtype} shape={shape} pred{ex.pred.shape}: sum vs mean x {count}"
        # either side rounds by at most ~eps x the sum of the terms' magnitudes
        magnitude = float(np.sum(np.abs(np.where(np.isfinite(none), none, 0.0))))
        _close(total, mean * count if count else 0.0, dtype, what, magnitude=magnitude)

    for group in _groups(SUM_MEAN_CASES, backend):
        check(group)


def _unit_options(case, ex: S.Example) -> dict:
    """The weight-like array options of ``case`` replaced by ones (``where``: all true)."""
    out = {}
    for k in _WEIGHT_OPTIONS:
        v = ex.kwargs.get(k)
        if isinstance(v, np.ndarray):
            out[k] = np.ones(v.shape, dtype=bool) if v.dtype == np.bool_ or k == "where" else np.ones(v.shape)
    return out


def test_unit_weight_is_no_weight(xp):
    backend = xp

    @_settings("unit_weight", backend)
    @given(data=st.data())
    def check(group, data):
        case = data.draw(_pick(group), label="case")
        dtype, ex, shape, layout = _draw_input(data, case, backend)
        units = _unit_options(case, ex)
        name = data.draw(st.sampled_from(sorted(units)), label="option")
        COUNTS[backend, "unit_weight"] += 1
        plain = S.Example(ex.pred, ex.target, ex.args, {k: v for k, v in ex.kwargs.items() if k not in units})
        without, with_ones = _losses(case, backend, plain, dtype, layout, [{}, {name: units[name]}])
        _close(with_ones, without, dtype, f"{case.id} {backend} {dtype} shape={shape}: {name}=ones vs no {name}",
               scale_atol=True)

    for group in _groups(WEIGHT_CASES, backend):
        check(group)


def test_zero_label_smoothing_is_plain(xp):
    backend = xp

    @_settings("label_smoothing", backend)
    @given(data=st.data())
    def check(group, data):
        case = data.draw(_pick(group), label="case")
        dtype, ex, shape, layout = _draw_input(data, case, backend)
        ex.kwargs.pop("label_smoothing", None)
        COUNTS[backend, "label_smoothing"] += 1
        plain, zero = _losses(case, backend, ex, dtype, layout, [{}, {"label_smoothing": 0.0}])
        _close(zero, plain, dtype, f"{case.id} {backend} {dtype} shape={shape}: label_smoothing=0 vs none",
               scale_atol=True)

    for group in _groups(SMOOTHING_CASES, backend):
        check(group)


def test_mean_invariant_under_batch_permutation(xp):
    backend = xp

    @_settings("permutation", backend)
    @given(data=st.data())
    def check(group, data):
        case = data.draw(_pick(group), label="case")
        dtype = data.draw(st.sampled_from(S.dtypes_on(backend, case.dtypes)), label="dtype")
        raw = domains.make(case.domain, _seed(data, case))
        n = S.batch_size(case.domain, raw)
        idx = S.complete_rows(case, raw, _draw_rows(data, backend, n, 2))
        perm = data.draw(st.permutations(range(len(idx))), label="permutation")
        COUNTS[backend, "permutation"] += 1
        means = []
        for rows in (idx, [idx[j] for j in perm]):
            d, kw = S.resample(case.domain, raw, {**case.kwargs, "reduction": "mean"}, rows)
            ex = S.Example(d["pred"], d["target"], tuple(d.get("args", ())), kw)
            means.append(_loss(case, backend, ex, dtype)[1])
        _close(means[1], means[0], dtype, f"{case.id} {backend} {dtype}: mean after permuting {len(idx)} rows")

    for group in _groups(PERMUTATION_CASES, backend):
        check(group)


# ----------------------------------------------------------------------------- 7. extremes


def _representable(values, dtype: str) -> bool:
    v = np.asarray(values, dtype=np.float64)
    return bool(np.all(np.isfinite(v)) and np.all(np.abs(v) <= S.DTYPE_MAX[dtype] / 16))


# float16 is not drawn for the losses of sums of squares of embeddings: scaled up, |x|^2
# overflows float16 past 256 before any square root or division brings it back.
# * cosine_embedding_loss: ATen's formula (Loss.cpp: sum(x1 * x1) + EPSILON, in the input's
#   dtype), which torch's own float16 kernel shares: torch is nan there too;
# * the triplet_margin_with_distance_loss cases' distance_function callables are the
#   conformance suite's own, naive.
# (triplet_margin_loss is drawn: _ops.pairwise_distance sums half inputs in float32, as torch's
# norm kernel; it found triplet_margin_loss(a=[[300, 0]], p=[[0, 0]], n=[[300, 100]]) in
# float16 inf on numpy/jax/tensorflow against torch's 201.)
_SQUARES_F16 = {"triplet_margin_with_distance_loss", "cosine_embedding_loss"}


def _extreme_dtypes(case, backend: str) -> tuple[str, ...]:
    out = S.dtypes_on(backend, case.dtypes)
    # and poisson_nll_loss on rates (log_input=False): its eps (1e-8) is 0 in float16, so a rate
    # of 0 with a count of 0 is 0 * log(0) = nan, as in torch's own float16 kernel
    if case.loss in _SQUARES_F16 or (case.loss == "poisson_nll_loss" and case.kwargs.get("log_input") is False):
        out = tuple(d for d in out if d != "float16")
    return out


def test_extreme_inputs_finite(xp):
    backend = xp
    grads = backend in GRAD_BACKENDS

    @_settings("extremes", backend)
    @given(data=st.data())
    def check(group, data):
        case = data.draw(_pick(group), label="case")
        dtype = data.draw(st.sampled_from(_extreme_dtypes(case, backend)), label="dtype")
        seed = _seed(data, case)
        scale = data.draw(st.sampled_from(S.EXTREME_SCALES[dtype]), label="scale")
        raw = domains.make(case.domain, seed)
        n = S.batch_size(case.domain, raw)
        rows = S.complete_rows(case, raw, _draw_rows(data, backend, n, max(1, _min_rows(case, backend))))
        raw, kw = S.resample(case.domain, raw, case.kwargs, rows)
        raw = S.extreme(case.domain, raw, scale, seed)
        ex = S.Example(raw["pred"], raw["target"], tuple(raw.get("args", ())), kw)
        COUNTS[backend, "extremes"] += 1
        # the same inputs rounded to the dtype, in float64
        ex64 = S.Example(S.round_trip(backend, ex.pred, dtype), S.round_trip(backend, ex.target, dtype),
                         tuple(S.round_trip(backend, a, dtype) for a in ex.args),
                         {k: S.round_trip(backend, v, dtype) for k, v in ex.kwargs.items()})
        sums = {"reduction": "sum"} if _takes_reduction(case) else {}
        try:
            want = _reference(case, backend, ex, dtype)
            total = _reference(case, backend, ex, dtype, **sums)
        except (OverflowError, ValueError, ZeroDivisionError):
            # a reference in Python floats that cannot take this input (math.cosh overflows,
            # math.log(0) raises): multiloss's own float64 NumPy value tells what fits the dtype
            want = _loss(case, "numpy", ex64, "float64")[1]
            total = _loss(case, "numpy", ex64, "float64", **sums)[1]
        if not (_representable(want, dtype) and _representable(total, dtype)):
            return  # the exact loss itself overflows this dtype: nothing to hold
        what = f"{case.id} {backend} {dtype} scale={scale:g} (extreme inputs, reference {want.ravel()[:6]})"
        _, got, g = _loss(case, backend, ex, dtype, grad=grads and case.grad)
        assert np.all(np.isfinite(got)), f"{what}: loss {got.ravel()[:12]}"
        if g is None:
            return
        if dtype == "float64":
            g64 = g
        else:  # the same rounded inputs in float64: is the exact gradient representable?
            g64 = _loss(case, backend, ex64, "float64", grad=True)[2]
            if g64 is None or not _representable(g64, dtype):
                return
        assert np.all(np.isfinite(g)), f"{what}: gradient {g.ravel()[~np.isfinite(g.ravel())][:6]} " \
                                       f"at {np.flatnonzero(~np.isfinite(g.ravel()))[:6]}"

    for group in _groups([c for c in CASES if _extreme_dtypes(c, backend)], backend):
        check(group)


# ----------------------------------------------------------------------------- regressions
# Plain tests for the bugs the properties above found and that were fixed: the empty batches
# by test_matches_reference (0 rows), MAPE's overflow by test_extreme_inputs_finite.

_EMPTY = {"mean": np.nan, "sum": 0.0}


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_hinge_of_an_empty_batch(xp, reduction):
    # labels="auto" took a min/max of no target: numpy's "zero-size array to reduction operation
    # minimum which has no identity" (keras.losses.hinge returns an empty loss)
    from tests_conftest import to_xp, xp_assert_close

    empty = to_xp(xp, np.zeros((0, 5)))
    got = multiloss.hinge(empty, empty, reduction=reduction)
    xp_assert_close(got, _EMPTY.get(reduction, np.zeros((0, 5))), xp=xp)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ntxent_of_an_empty_batch(xp, reduction):
    # a logsumexp over an empty axis: numpy's "zero-size array to reduction operation maximum"
    # (optax raises the same); no positive pair: mean nan, sum 0, the (0, 0) pair matrix
    from tests_conftest import to_xp, xp_assert_close

    got = multiloss.ntxent(to_xp(xp, np.zeros((0, 5))), to_xp(xp, np.zeros((0,), dtype=np.int64)),
                           reduction=reduction)
    xp_assert_close(got, _EMPTY.get(reduction, np.zeros((0, 0))), xp=xp)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_circle_without_reference_pairs(xp, reduction):
    # no reference embedding (an empty batch, or ref_embeddings of 0 rows): a logsumexp over an
    # empty axis raised; keras.losses.circle returns an empty loss, an anchor without pairs 0
    from tests_conftest import to_xp, xp_assert_close

    labels = to_xp(xp, np.zeros((0,), dtype=np.int64))
    got = multiloss.circle(to_xp(xp, np.zeros((0, 5))), labels, reduction=reduction)
    xp_assert_close(got, {"mean": 0.0, "sum": 0.0}.get(reduction, np.zeros((0,))), xp=xp)
    got = multiloss.circle(to_xp(xp, np.ones((3, 5))), to_xp(xp, np.arange(3)), reduction=reduction,
                           ref_embeddings=to_xp(xp, np.zeros((0, 5))), ref_labels=labels)
    xp_assert_close(got, {"mean": 0.0, "sum": 0.0}.get(reduction, np.zeros((3,))), xp=xp)


def test_ranking_softmax_mean_of_no_list_is_zero(xp):
    # the mean over 0 lists was nan; optax's _safe_reduce (optax/losses/_ranking.py) gives 0
    from tests_conftest import to_xp, xp_assert_close

    empty = to_xp(xp, np.zeros((0, 5)))
    xp_assert_close(multiloss.ranking_softmax_loss(empty, empty), 0.0, xp=xp)
    xp_assert_close(multiloss.ranking_softmax_loss(empty, empty, reduction="sum"), 0.0, xp=xp)


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax", "tensorflow"])  # (with float16)
def test_mape_float16_does_not_overflow_before_dividing(backend):
    # 100 * |y - x| overflowed float16 (65504) before the division by |y|: inf where the
    # percentage is 50 (keras divides first: keras/src/losses/losses.py)
    from tests_conftest import require, to_numpy, to_xp

    require(backend)
    got = multiloss.mean_absolute_percentage_error(to_xp(backend, [1000.0, -3000.0], "float16"),
                                                   to_xp(backend, [2000.0, -2000.0], "float16"), reduction="none")
    np.testing.assert_allclose(to_numpy(got).astype(np.float64), [50.0, 50.0], rtol=1e-3)


def test_linear_cross_entropy_all_ignored_has_a_zero_gradient(grad_backend):
    # test_matches_native (LinearCrossEntropyLoss[ignore_index=3], one row of class 3): every
    # target ignored gave a nan gradient (0/0 differentiated); torch: a nan loss, zero gradient
    from tests_conftest import to_xp, value_and_grad

    weight = to_xp(grad_backend, np.linspace(-1.0, 1.0, 20).reshape(5, 4))
    target = to_xp(grad_backend, np.array([3, 3]))
    value, grad = value_and_grad(
        grad_backend, lambda x: multiloss.linear_cross_entropy(x, weight, target, ignore_index=3),
        np.linspace(-0.5, 0.5, 8).reshape(2, 4))
    assert np.isnan(value)
    np.testing.assert_array_equal(grad, np.zeros((2, 4)))
