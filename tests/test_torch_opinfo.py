"""multiloss.torch against PyTorch's OWN test inputs (OpInfo ``op_db`` and ModuleInfo
``module_db`` from ``torch.testing._internal``).

Every ``torch.nn`` loss (the 23 classes except the deprecated ``NLLLoss2d``) and every
``torch.nn.functional`` loss is looked up in torch's databases. For every sample input torch's
own test suite uses (float64 and float32 on CPU; float16 / bfloat16 where the OpInfo or
ModuleInfo lists them for CPU, with loose tolerances; non-contiguous, empty and 0-d samples
included as torch gives them), ``multiloss.torch.functional.<name>`` or
``multiloss.torch.<Class>`` (built with the ModuleInfo's constructor arguments, its state
loaded from torch's module) must return what torch returns, with the same dtype and shape, and
the same gradient with respect to every floating input that requires grad (and every module
parameter). The error inputs (``error_inputs`` / ``module_error_inputs_func``) must raise an
exception catchable as the class torch raises, except for the short, explicit list
:data:`KNOWN_CLASS_DIFFERENCES` (ValueError/TypeError where torch raises RuntimeError, the
reason given there), where it must still raise.

Tolerances: torch.testing's for float64 and float32; in float16 / bfloat16 a difference
is settled by torch's float64 result on the same inputs (:func:`_as_accurate`: multiloss must
be about as accurate as torch). :data:`TORCH_NAN_GRADIENTS` lists where torch's gradient is NaN
and multiloss's is the finite derivative.

Sample sources per class: its ModuleInfo where torch has one; otherwise the functional's
OpInfo samples, split into constructor and forward arguments by the class's signature
(``TripletMarginLoss``, ``TripletMarginWithDistanceLoss``); ``AdaptiveLogSoftmaxWithLoss``
has neither, so it gets the handwritten samples of :func:`_asm_samples` (modelled on
``test_adaptive_log_softmax`` in torch's ``test/test_nn.py``).

A loss that multiloss lacks FAILS here (it is not skipped). The module skips only when torch
or ``expecttest`` (needed by ``torch.testing._internal``) is not installed.

``python tests/test_torch_opinfo.py`` prints the number of samples compared per loss and dtype,
and every mismatch.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import traceback
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest", reason="torch.testing._internal needs expecttest")

# --------------------------------------------------------------------------- the inventory

# torch.nn class -> torch.nn.functional name (None: torch has no functional form)
LOSSES: dict[str, str | None] = {
    "L1Loss": "l1_loss",
    "MSELoss": "mse_loss",
    "CrossEntropyLoss": "cross_entropy",
    "CTCLoss": "ctc_loss",
    "NLLLoss": "nll_loss",
    "PoissonNLLLoss": "poisson_nll_loss",
    "GaussianNLLLoss": "gaussian_nll_loss",
    "KLDivLoss": "kl_div",
    "BCELoss": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "MarginRankingLoss": "margin_ranking_loss",
    "HingeEmbeddingLoss": "hinge_embedding_loss",
    "MultiLabelMarginLoss": "multilabel_margin_loss",
    "HuberLoss": "huber_loss",
    "SmoothL1Loss": "smooth_l1_loss",
    "SoftMarginLoss": "soft_margin_loss",
    "MultiLabelSoftMarginLoss": "multilabel_soft_margin_loss",
    "CosineEmbeddingLoss": "cosine_embedding_loss",
    "MultiMarginLoss": "multi_margin_loss",
    "TripletMarginLoss": "triplet_margin_loss",
    "TripletMarginWithDistanceLoss": "triplet_margin_with_distance_loss",
    "LinearCrossEntropyLoss": "linear_cross_entropy",
    "AdaptiveLogSoftmaxWithLoss": None,
}
CLASSES = list(LOSSES)
FUNCTIONALS = [f for f in LOSSES.values() if f is not None]
# deprecated alias of NLLLoss (torch/nn/modules/loss.py), deliberately not mirrored
NOT_MIRRORED = {"NLLLoss2d"}

FLOATS = (torch.float64, torch.float32, torch.float16, torch.bfloat16)
# (rtol, atol): torch.testing's defaults for float64 and float32; half precisions loose
# (torch's CPU kernels accumulate in float32, a composed Array API expression may round every
# intermediate to the half type), and settled by a float64 run where torch and multiloss differ
TOL = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (1.3e-6, 1e-5),
    torch.float16: (1e-2, 1e-2),
    torch.bfloat16: (5e-2, 5e-2),
}

# Error inputs where multiloss raises an exception that is NOT catchable as torch's class:
# loss name -> the starts of torch's error_regex concerned. Empty since issue 13: the torch
# adapter re-raises every canonical error as torch's class for its kind too (RuntimeError,
# IndexError, NotImplementedError; multiloss/errors.py) with multiloss's message, so torch's
# own error inputs pin it. The machinery stays so that a justified exception can be listed
# (with its reason); an entry that no longer differs fails the test.
KNOWN_CLASS_DIFFERENCES: dict[str, tuple[str, ...]] = {}
KNOWN_CLASSES = (ValueError, TypeError)  # what multiloss would raise in such a case, instead of RuntimeError


# Losses where torch's gradient has NaN elements that multiloss computes as finite numbers
# (accepted there, element by element, only where torch's is NaN and multiloss's finite).
_STIRLING = ("d/d target at target == 0 with full=True: torch's composite kernel (mirrored in "
             "torch/_refs/nn/functional/__init__.py poisson_nll_loss) computes the Stirling term "
             "target*log(target) - target + 0.5*log(2*pi*target) everywhere and masked_fill's it "
             "for target <= 1, so its backward is 0 * inf = NaN there; the derivative is -input "
             "(log_input) or -log(input + eps), which multiloss returns")
TORCH_NAN_GRADIENTS: dict[str, str] = {"poisson_nll_loss": _STIRLING, "PoissonNLLLoss": _STIRLING}


# --------------------------------------------------------------------------- torch's databases


@functools.cache
def _db() -> types.SimpleNamespace:
    """Import op_db / module_db on first use (seconds), undoing the global side effects of
    ``torch.testing._internal.common_utils``: it freezes ``torch.backends`` flags, loads its
    own hypothesis profile (10 examples, no database) and adds warning filters."""
    try:
        import hypothesis
    except ImportError:  # pragma: no cover - hypothesis is in the test extra
        hypothesis = None
    if hypothesis is not None:  # a snapshot of the settings in force, to load back after
        hypothesis.settings.register_profile("multiloss-before-torch-testing", hypothesis.settings())
    frozen = torch.backends.flags_frozen()
    with warnings.catch_warnings():
        from torch.testing._internal.common_methods_invocations import op_db
        from torch.testing._internal.common_modules import ModuleErrorEnum, module_db
    if not frozen:  # common_utils called torch.backends.disable_global_flags(): undo it
        torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
    if hypothesis is not None:
        hypothesis.settings.load_profile("multiloss-before-torch-testing")
    return types.SimpleNamespace(op_db=op_db, module_db=module_db, ModuleErrorEnum=ModuleErrorEnum)


def _opinfos(fname: str) -> list:
    """Every OpInfo (variants included) of ``torch.nn.functional.<fname>``."""
    return [op for op in _db().op_db if op.name == f"nn.functional.{fname}"]


def _moduleinfo(cls_name: str):
    infos = [m for m in _db().module_db if m.module_cls.__name__ == cls_name]
    return infos[0] if infos else None


def _float_dtypes(dtypes) -> list:
    return [d for d in FLOATS if d in set(dtypes)]


def _ml_functional(fname: str) -> Callable[..., Any]:
    import multiloss.torch.functional as mF

    fn = getattr(mF, fname, None)
    if fn is None:
        pytest.fail(f"multiloss.torch.functional has no {fname!r} (torch.nn.functional.{fname})")
    return fn


def _ml_class(cls_name: str) -> type:
    import multiloss.torch as mt

    cls = getattr(mt, cls_name, None)
    if cls is None:
        pytest.fail(f"multiloss.torch has no {cls_name!r} (torch.nn.{cls_name})")
    return cls


# --------------------------------------------------------------------------- samples


@dataclass
class Sample:
    """One call, ``wrapper(fn, *args, **kwargs)``: ``wrapper`` is the OpInfo's gradcheck_wrapper
    (``ctc_loss``'s applies ``log_softmax`` first); ``ctor`` (args, kwargs) builds the module
    (None for a functional); ``methods``: further module methods to compare
    (``AdaptiveLogSoftmaxWithLoss.log_prob`` / ``predict``), each with its own args."""

    desc: str
    args: tuple
    kwargs: dict
    ctor: tuple[tuple, dict] | None = None
    wrapper: Callable[..., Any] | None = None
    methods: tuple[tuple[str, tuple], ...] = ()


def _default_wrapper(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def _functional_samples(fname: str, dtype) -> list[Sample]:
    out = []
    for op in _opinfos(fname):
        if dtype not in op.supported_dtypes("cpu"):
            continue
        torch.manual_seed(0)
        variant = f"[{op.variant_test_name}]" if op.variant_test_name else ""
        for i, s in enumerate(op.sample_inputs("cpu", dtype, requires_grad=True)):
            out.append(Sample(f"{fname}{variant} sample {i}", (s.input, *s.args), dict(s.kwargs),
                              wrapper=op.gradcheck_wrapper))
    return out


def _module_dtypes(cls_name: str) -> list:
    info = _moduleinfo(cls_name)
    if info is not None:
        return _float_dtypes(info.supported_dtypes("cpu"))
    if LOSSES[cls_name] is not None:
        dts = set()
        for op in _opinfos(LOSSES[cls_name]):
            dts |= set(op.supported_dtypes("cpu"))
        return _float_dtypes(dts)
    return [torch.float64, torch.float32]  # AdaptiveLogSoftmaxWithLoss (handwritten samples)


def _module_samples(cls_name: str, dtype) -> list[Sample]:
    info = _moduleinfo(cls_name)
    torch.manual_seed(0)
    if info is not None:
        out = []
        for i, mi in enumerate(info.module_inputs_func(info, device="cpu", dtype=dtype,
                                                       requires_grad=True, training=True)):
            c, f = mi.constructor_input, mi.forward_input
            out.append(Sample(f"{cls_name} ModuleInfo sample {i} ({mi.desc})", tuple(f.args),
                              dict(f.kwargs), ctor=(tuple(c.args), dict(c.kwargs))))
        return out
    if LOSSES[cls_name] is not None:
        # no ModuleInfo: the functional's OpInfo samples; options of the constructor go there
        out = []
        for s in _functional_samples(LOSSES[cls_name], dtype):
            ctor_kw, fwd_kw = _split_kwargs(cls_name, s.kwargs)
            out.append(Sample(f"{cls_name} from OpInfo {s.desc}", s.args, fwd_kw,
                              ctor=((), ctor_kw), wrapper=s.wrapper))
        return out
    assert cls_name == "AdaptiveLogSoftmaxWithLoss"
    return _asm_samples(dtype)


def _split_kwargs(cls_name: str, kwargs: dict) -> tuple[dict, dict]:
    """A functional's keyword arguments -> (the class's constructor's, the forward's)."""
    params = inspect.signature(getattr(torch.nn, cls_name)).parameters
    return ({k: v for k, v in kwargs.items() if k in params},
            {k: v for k, v in kwargs.items() if k not in params})


def _asm_samples(dtype) -> list[Sample]:
    """AdaptiveLogSoftmaxWithLoss: torch has no OpInfo/ModuleInfo for it. Modelled on
    ``test_adaptive_log_softmax`` in torch's test/test_nn.py (not shipped in the wheel): several
    cluster layouts, with and without head bias, targets in every cluster, a 0-d target,
    ``log_prob`` / ``predict``; plus a batch of one and an empty batch."""
    g = torch.Generator().manual_seed(0)

    def x(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype).requires_grad_()

    def y(*vals):
        return torch.tensor(vals, dtype=torch.long)

    a = ((16, 20, [5, 10, 15]), {"div_value": 2.0})
    b = ((16, 20, [5, 10, 15]), {"div_value": 2.0, "head_bias": True})
    c = ((8, 4, [2]), {"div_value": 2.0})
    d = ((16, 20, [3, 8]), {})  # default div_value=4.0
    samples = []
    for tag, ctor in (("a", a), ("b", b)):
        inp = x(4, 16)
        samples.append(Sample(f"ASM {tag}: batch 4, targets in every cluster",
                              (inp, y(0, 17, 5, 12)), {}, ctor=ctor,
                              methods=(("log_prob", (inp,)), ("predict", (inp,)))))
        samples.append(Sample(f"ASM {tag}: batch 8, shortlist only", (x(8, 16), y(0, 1, 2, 3, 4, 0, 1, 2)),
                              {}, ctor=ctor))
        samples.append(Sample(f"ASM {tag}: unbatched, 0-d target", (x(16), torch.tensor(17)), {}, ctor=ctor))
        samples.append(Sample(f"ASM {tag}: batch 1", (x(1, 16), y(12)), {}, ctor=ctor))
        samples.append(Sample(f"ASM {tag}: empty batch", (x(0, 16), y()), {}, ctor=ctor))
    inp = x(6, 8)
    samples.append(Sample("ASM c: one cluster", (inp, y(0, 1, 2, 3, 3, 2)), {}, ctor=c,
                          methods=(("log_prob", (inp,)), ("predict", (inp,)))))
    inp = x(10, 16)
    samples.append(Sample("ASM d: default div_value", (inp, y(0, 2, 3, 7, 8, 19, 10, 5, 1, 13)), {},
                          ctor=d, methods=(("log_prob", (inp,)), ("predict", (inp,)))))
    return samples


# --------------------------------------------------------------------------- comparison


def _tensors(obj) -> list:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _grad_inputs(args, kwargs) -> list:
    return [t for t in _tensors((args, kwargs)) if t.is_floating_point() and t.requires_grad]


def _describe(obj) -> str:
    if isinstance(obj, torch.Tensor):
        layout = "" if obj.is_contiguous() else f", stride={tuple(obj.stride())}"
        grad = ", requires_grad" if obj.requires_grad else ""
        return f"tensor(shape={tuple(obj.shape)}, {str(obj.dtype)[6:]}{layout}{grad})"
    if isinstance(obj, (list, tuple)) and any(isinstance(o, torch.Tensor) for o in obj):
        return "(" + ", ".join(_describe(o) for o in obj) + ")"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k}={_describe(v)}" for k, v in obj.items()) + "}"
    return repr(obj)


def _outputs(out) -> tuple[list, tuple | None]:
    """(tensors, namedtuple field names or None) of a call's result."""
    if isinstance(out, torch.Tensor):
        return [out], None
    if isinstance(out, tuple):
        return list(out), getattr(out, "_fields", None)
    raise TypeError(f"unexpected result type {type(out).__name__}")


def _upcast(obj, dtype):
    """``obj`` with every ``dtype`` tensor replaced by a float64 leaf copy (same requires_grad)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to(torch.float64).requires_grad_(obj.requires_grad) if obj.dtype == dtype else obj
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_upcast(o, dtype) for o in obj)
    if isinstance(obj, dict):
        return {k: _upcast(v, dtype) for k, v in obj.items()}
    return obj


def _as_accurate(a, e, truth, rtol, atol) -> bool:
    """Half precision: multiloss's ``a`` is as good as torch's ``e`` when each element matches
    torch's or the float64 ``truth``, or when its worst error against the truth is within twice
    torch's, or within ``rtol`` of the tensor's largest magnitude (norm-wise; plus ``atol``): a
    gradient summed over many terms (a class weight of 25, magnitudes near 100) carries a
    rounding noise far above its smallest elements, in torch too."""
    a64, e64, t64 = a.to(torch.float64), e.to(torch.float64), truth.detach().to(torch.float64)
    ok = torch.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
    ok |= torch.isclose(a64, t64, rtol=rtol, atol=atol, equal_nan=True)
    if bool(ok.all()):
        return True
    finite = torch.isfinite(t64)
    if not torch.equal(torch.isfinite(a64), finite):
        return False
    if not bool(finite.any()):
        return False
    err_a = (a64 - t64)[finite].abs().max()
    err_e = (e64 - t64)[finite].abs().max()
    scale = t64[finite].abs().max()
    return bool(err_a <= torch.maximum(2 * err_e, rtol * scale) + atol)


def _close(actual, expected, dtype, what: str, truth=None, torch_nan_ok: bool = False) -> str | None:
    """``None`` when ``actual`` (multiloss) matches ``expected`` (torch). In half precision,
    ``truth`` (torch's float64 result on the same inputs) decides where the two differ
    (:func:`_as_accurate`): there multiloss may well be the more accurate of the two.
    ``torch_nan_ok``: a NaN of torch's may be a finite number in multiloss."""
    rtol, atol = TOL[dtype]
    if expected is None and actual is None:
        return None
    if expected is None or actual is None:  # an unused input: None and zeros are the same
        ref = actual if expected is None else expected
        expected = torch.zeros_like(ref) if expected is None else expected
        actual = torch.zeros_like(ref) if actual is None else actual
    a, e = actual.detach(), expected.detach()
    if torch_nan_ok and a.shape == e.shape:  # see TORCH_NAN_GRADIENTS
        e = torch.where(torch.isnan(e) & torch.isfinite(a), a, e)
    try:
        torch.testing.assert_close(a, e, rtol=rtol, atol=atol, equal_nan=True, check_stride=False)
    except AssertionError as exc:
        if truth is not None and a.shape == truth.shape == e.shape and _as_accurate(a, e, truth, rtol, atol):
            return None
        msg = " ".join(str(exc).split())
        return f"{what}: {msg[:400]}"
    return None


_NO_GRAD = object()  # torch itself cannot differentiate w.r.t. this input


def _grads(outs, inputs, cot):
    """Gradients of ``outs`` (with cotangents ``cot``) w.r.t. ``inputs``; an input torch cannot
    differentiate (a backward that raises) gets :data:`_NO_GRAD` instead of failing all."""
    try:
        return list(torch.autograd.grad(outs, inputs, cot, allow_unused=True, retain_graph=True))
    except RuntimeError:
        result = []
        for x in inputs:
            try:
                result.append(torch.autograd.grad(outs, [x], cot, allow_unused=True, retain_graph=True)[0])
            except RuntimeError:
                result.append(_NO_GRAD)
        return result


def _run(call_torch, call_ml, torch_params: dict, ml_params: dict, args, kwargs, dtype,
         torch64=None, name: str = "") -> list[str]:
    """Call torch then multiloss on the same sample; [] when they agree, else the problems.
    ``torch64()``: ``(call, params, args, kwargs)`` of torch on float64 copies of the inputs
    (used in half precision only, where torch and multiloss may round differently)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = call_torch()
        except Exception as exc:  # torch rejects its own sample: multiloss must reject it too
            try:
                call_ml()
            except type(exc):
                return []
            except Exception as mexc:
                return [f"torch raised {type(exc).__name__}, multiloss {type(mexc).__name__}: {mexc}"]
            return [f"torch raised {type(exc).__name__} ({str(exc)[:150]}), multiloss did not"]
        snapshot = [t.detach().clone() for t in _tensors((args, kwargs))]
        try:
            actual = call_ml()
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{tb.filename.rsplit('/', 2)[-1]}:{tb.lineno}"
            return [f"multiloss raised {type(exc).__name__}: {str(exc)[:300]} (at {where})"]
    problems = []
    for before, after in zip(snapshot, _tensors((args, kwargs))):
        after = after.detach()
        same = before.shape == after.shape and (
            torch.equal(before, after)
            or (before.is_floating_point() and bool(torch.isclose(before, after, 0, 0, equal_nan=True).all())))
        if not same:
            problems.append("multiloss modified an input in place")
            break
    exp_list, exp_fields = _outputs(expected)
    try:
        act_list, act_fields = _outputs(actual)
    except TypeError as exc:
        return [f"result: {exc}"]
    if len(exp_list) != len(act_list) or exp_fields != act_fields:
        return [f"result structure: torch {exp_fields or len(exp_list)}, multiloss {act_fields or len(act_list)}"]

    # the inputs to differentiate, the cotangents (the same for both), torch's float64 twin
    inputs = _grad_inputs(args, kwargs)
    names = [f"grad[{_describe(t)} #{i}]" for i, t in enumerate(inputs)]
    names += [f"grad[parameter {n}]" for n in torch_params]
    t_inputs = inputs + list(torch_params.values())
    m_inputs = inputs + [ml_params.get(n) for n in torch_params]
    pairs = [k for k, e in enumerate(exp_list) if e.is_floating_point() and e.requires_grad]
    g = torch.Generator().manual_seed(1)
    cot = [torch.randn(exp_list[k].shape, generator=g, dtype=torch.float64).to(exp_list[k].dtype)
           for k in pairs]
    truth_cache: list = []

    def truth():
        """(values, grads) of torch in float64, computed once, on demand."""
        if torch64 is None or dtype not in (torch.float16, torch.bfloat16):
            return None
        if not truth_cache:
            try:
                call64, params64, args64, kwargs64 = torch64()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    outs64, _ = _outputs(call64())
                    ins64 = _grad_inputs(args64, kwargs64) + list(params64.values())
                    grads64 = (_grads([outs64[k] for k in pairs], ins64, [c.to(torch.float64) for c in cot])
                               if pairs and ins64 else [])
                truth_cache.append((outs64, grads64))
            except Exception:  # torch refuses float64 here (an acc_dtype=float32 option): no truth
                truth_cache.append(None)
        return truth_cache[0]

    for k, (a, e) in enumerate(zip(act_list, exp_list)):
        what = "value" if len(exp_list) == 1 else f"value[{k}]"
        if a.shape != e.shape or a.dtype != e.dtype:
            problems.append(f"{what}: torch {tuple(e.shape)} {e.dtype}, multiloss {tuple(a.shape)} {a.dtype}")
        elif e.is_floating_point() or a.is_floating_point():
            p = _close(a, e, dtype, what)
            if p and truth() is not None:
                p = _close(a, e, dtype, what, truth()[0][k])
            problems.append(p)
        elif not torch.equal(a, e):
            problems.append(f"{what}: torch {e.tolist()}, multiloss {a.tolist()}")
    problems = [p for p in problems if p]
    if problems or not t_inputs or not pairs:
        return problems

    # gradients, w.r.t. every floating input requiring grad and every module parameter
    if any(not act_list[k].requires_grad for k in pairs):
        return ["torch's result requires grad, multiloss's does not"]
    if any(p is None for p in m_inputs):
        return [f"multiloss module lacks parameters {[n for n in torch_params if n not in ml_params]}"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_grads = _grads([exp_list[k] for k in pairs], t_inputs, cot)
        try:
            m_grads = torch.autograd.grad([act_list[k] for k in pairs], m_inputs, cot, allow_unused=True)
        except Exception as exc:
            return [f"multiloss backward raised {type(exc).__name__}: {str(exc)[:300]}"]
    nan_ok = name in TORCH_NAN_GRADIENTS
    for i, (m, t, n) in enumerate(zip(m_grads, t_grads, names)):
        if t is _NO_GRAD:
            continue
        p = _close(m, t, dtype, n, torch_nan_ok=nan_ok)
        if p and truth() is not None and truth()[1]:
            t64 = truth()[1][i]
            p = p if t64 is None or t64 is _NO_GRAD else _close(m, t, dtype, n, t64, nan_ok)
        if p:
            problems.append(p)
    return problems


@dataclass
class Report:
    counts: dict = field(default_factory=dict)  # dtype name -> samples compared
    failures: list = field(default_factory=list)

    def add(self, dtype, desc: str, sample: Sample, problems: list[str]) -> None:
        key = str(dtype)[6:]
        self.counts[key] = self.counts.get(key, 0) + 1
        if problems:
            ctor = "" if sample.ctor is None else f" ctor={_describe(sample.ctor)}"
            self.failures.append(f"{key} {desc}: {'; '.join(problems)}\n"
                                 f"      args={_describe(sample.args)} kwargs={_describe(sample.kwargs)}{ctor}")

    def message(self, limit: int = 12) -> str:
        head = f"{len(self.failures)} of {sum(self.counts.values())} samples differ from torch ({self.counts})"
        more = [f"... and {len(self.failures) - limit} more"] if len(self.failures) > limit else []
        return "\n".join([head, *self.failures[:limit], *more])


@contextlib.contextmanager
def _one_thread():
    """The samples are tiny: one intra-op thread is faster, and far faster on a busy machine
    (idle OpenMP workers spin). Restored afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@_one_thread()
def compare_functional(fname: str) -> Report:
    fn_t = getattr(torch.nn.functional, fname)
    fn_m = _ml_functional(fname)
    report = Report()
    ops = _opinfos(fname)
    assert ops, f"torch has no OpInfo for nn.functional.{fname}"
    dtypes = _float_dtypes(set().union(*(op.supported_dtypes("cpu") for op in ops)))
    for dtype in dtypes:
        for s in _functional_samples(fname, dtype):
            wrap = s.wrapper or _default_wrapper

            def torch64(s=s, wrap=wrap, dtype=dtype):
                a64, k64 = _upcast(s.args, dtype), _upcast(s.kwargs, dtype)
                return (lambda: wrap(fn_t, *a64, **k64)), {}, a64, k64

            problems = _run(lambda: wrap(fn_t, *s.args, **s.kwargs), lambda: wrap(fn_m, *s.args, **s.kwargs),
                            {}, {}, s.args, s.kwargs, dtype, torch64, fname)
            report.add(dtype, s.desc, s, problems)
    return report


def _build_pair(cls_name: str, sample: Sample, dtype):
    """torch's module and multiloss's, same constructor arguments, same dtype, same state."""
    args, kwargs = sample.ctor  # (the global generator was seeded once, before the samples)
    tm = getattr(torch.nn, cls_name)(*args, **kwargs).to(dtype)
    mm = _ml_class(cls_name)(*args, **kwargs).to(dtype)
    mm.load_state_dict(tm.state_dict())  # strict: the state_dict keys are part of the drop-in
    return tm, mm


@_one_thread()
def compare_module(cls_name: str) -> Report:
    _ml_class(cls_name)
    report = Report()
    for dtype in _module_dtypes(cls_name):
        for s in _module_samples(cls_name, dtype):
            wrap = s.wrapper or _default_wrapper
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tm, mm = _build_pair(cls_name, s, dtype)
            except Exception as exc:
                report.add(dtype, s.desc, s, [f"construction: {type(exc).__name__}: {str(exc)[:300]}"])
                continue
            tp, mp = dict(tm.named_parameters()), dict(mm.named_parameters())

            def torch64(s=s, wrap=wrap, tm=tm, dtype=dtype, method=None, margs=()):
                tm64 = copy.deepcopy(tm).to(torch.float64)
                a64 = _upcast(margs if method else s.args, dtype)
                k64 = {} if method else _upcast(s.kwargs, dtype)
                fn = getattr(tm64, method) if method else functools.partial(wrap, tm64)
                return (lambda: fn(*a64, **k64)), dict(tm64.named_parameters()), a64, k64

            problems = _run(lambda: wrap(tm, *s.args, **s.kwargs), lambda: wrap(mm, *s.args, **s.kwargs),
                            tp, mp, s.args, s.kwargs, dtype, torch64, cls_name)
            for meth, margs in s.methods:
                if problems:
                    break
                if not hasattr(mm, meth):
                    problems = [f"multiloss module has no method {meth!r}"]
                    break
                problems = [f"{meth}: {p}" for p in _run(
                    lambda: getattr(tm, meth)(*margs), lambda: getattr(mm, meth)(*margs),
                    tp, mp, margs, {}, dtype, functools.partial(torch64, method=meth, margs=margs), cls_name)]
            report.add(dtype, s.desc, s, problems)
    return report


# --------------------------------------------------------------------------- error inputs


@dataclass
class ErrorCase:
    name: str
    desc: str
    call_torch: Callable[[], Any]
    call_ml: Callable[[], Any]
    error_type: type
    error_regex: str


def _functional_error_cases(fname: str) -> list[ErrorCase]:
    cases = []
    fn_t = getattr(torch.nn.functional, fname)
    for op in _opinfos(fname):
        if op.error_inputs_func is None:
            continue
        torch.manual_seed(0)
        for i, ei in enumerate(op.error_inputs("cpu")):
            s, wrap = ei.sample_input, op.gradcheck_wrapper

            def call(fn, s=s, wrap=wrap):
                return wrap(fn, s.input, *s.args, **s.kwargs)

            cases.append(ErrorCase(fname, f"{fname} error_input {i} args={_describe((s.input, *s.args))} "
                                   f"kwargs={_describe(s.kwargs)}", functools.partial(call, fn_t),
                                   lambda call=call: call(_ml_functional(fname)), ei.error_type,
                                   ei.error_regex))
    return cases


def _module_error_cases(cls_name: str) -> list[ErrorCase]:
    db = _db()
    if cls_name == "AdaptiveLogSoftmaxWithLoss":
        return _asm_error_cases()
    cases = _derived_module_error_cases(cls_name)
    info = _moduleinfo(cls_name)
    if info is None or info.module_error_inputs_func is None:
        return cases
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        for i, ei in enumerate(info.module_error_inputs_func(info, device="cpu", dtype=dtype,
                                                             requires_grad=False, training=True)):
            mi = ei.module_error_input
            c, f = mi.constructor_input, mi.forward_input
            on_ctor = ei.error_on == db.ModuleErrorEnum.CONSTRUCTION_ERROR

            def call(cls, c=c, f=f, on_ctor=on_ctor):
                m = cls(*c.args, **c.kwargs)  # raises here for CONSTRUCTION_ERROR ...
                if on_ctor:
                    return m
                return m(*f.args, **f.kwargs)  # ... and here for FORWARD_ERROR

            def call_ml(call=call, on_ctor=on_ctor, c=c):
                cls = _ml_class(cls_name)
                if not on_ctor:  # construction must succeed: torch fails in forward only
                    try:
                        cls(*c.args, **c.kwargs)
                    except Exception as exc:
                        raise AssertionError(
                            f"multiloss raised {type(exc).__name__} at construction, torch only in forward: {exc}"
                        ) from exc
                return call(cls)

            where = "construction" if on_ctor else "forward"
            desc = (f"{cls_name} module_error_input {i} ({str(dtype)[6:]}, {where}) ctor={_describe((c.args, c.kwargs))}"
                    + ("" if on_ctor else f" forward={_describe(tuple(f.args))}"))
            cases.append(ErrorCase(cls_name, desc, functools.partial(call, getattr(torch.nn, cls_name)),
                                   call_ml, ei.error_type, ei.error_regex))
    return cases


def _derived_module_error_cases(cls_name: str) -> list[ErrorCase]:
    """The functional's OpInfo error inputs, through the class: options to the constructor, the
    tensors to forward; torch may raise in either (``MarginRankingLoss(reduction='abc')``
    raises in forward), multiloss in either too. Named after the functional, so that one
    :data:`KNOWN_CLASS_DIFFERENCES` entry covers both forms. Not for LinearCrossEntropyLoss,
    whose functional's ``linear_weight`` is the module's parameter."""
    fname = LOSSES[cls_name]
    if fname is None or cls_name == "LinearCrossEntropyLoss":
        return []
    cases = []
    for op in _opinfos(fname):
        if op.error_inputs_func is None:
            continue
        torch.manual_seed(0)
        for i, ei in enumerate(op.error_inputs("cpu")):
            s, wrap = ei.sample_input, op.gradcheck_wrapper
            ctor_kw, fwd_kw = _split_kwargs(cls_name, s.kwargs)

            def call(cls, s=s, wrap=wrap, ctor_kw=ctor_kw, fwd_kw=fwd_kw):
                return wrap(cls(**ctor_kw), s.input, *s.args, **fwd_kw)

            desc = (f"{cls_name} from {fname} error_input {i} ctor={_describe(ctor_kw)} "
                    f"forward={_describe((s.input, *s.args))}{_describe(fwd_kw) if fwd_kw else ''}")
            cases.append(ErrorCase(fname, desc, functools.partial(call, getattr(torch.nn, cls_name)),
                                   lambda call=call: call(_ml_class(cls_name)), ei.error_type,
                                   ei.error_regex))
    return cases


def _asm_error_cases() -> list[ErrorCase]:
    """AdaptiveLogSoftmaxWithLoss's own checks (torch/nn/modules/adaptive.py)."""
    name = "AdaptiveLogSoftmaxWithLoss"
    x2, x3 = torch.randn(2, 16), torch.randn(2, 3, 16)
    specs = [
        ("cutoffs should be a sequence of length", ValueError, (16, 20, []), None),
        ("cutoffs should be a sequence of unique", ValueError, (16, 20, [10, 5]), None),
        ("cutoffs should be a sequence of unique", ValueError, (16, 20, [5, 5]), None),
        ("cutoffs should be a sequence of unique", ValueError, (16, 20, [5, 20]), None),
        ("cutoffs should be a sequence of unique", ValueError, (16, 20, [0, 5]), None),
        ("Input and target should have the same size", RuntimeError, (16, 20, [5, 10]),
         (x2, torch.tensor([0, 1, 2]))),
        ("1D target tensor expects 2D input", RuntimeError, (16, 20, [5, 10]), (x3, torch.tensor([0, 1]))),
        ("0D target tensor expects 1D input", RuntimeError, (16, 20, [5, 10]), (x2, torch.tensor(1))),
        ("0D or 1D target tensor expected", RuntimeError, (16, 20, [5, 10]),
         (x2, torch.tensor([[0, 1], [1, 2]]))),
        ("Target values should be in", RuntimeError, (16, 20, [5, 10]), (x2, torch.tensor([0, 20]))),
        ("Target values should be in", RuntimeError, (16, 20, [5, 10]), (x2, torch.tensor([-1, 3]))),
    ]
    cases = []
    for i, (regex, etype, ctor, fwd) in enumerate(specs):
        def call(cls, ctor=ctor, fwd=fwd):
            m = cls(*ctor)
            return m if fwd is None else m(*fwd)

        desc = f"{name} handwritten error {i} ctor={ctor}" + ("" if fwd is None else f" forward={_describe(fwd)}")
        cases.append(ErrorCase(name, desc, functools.partial(call, torch.nn.AdaptiveLogSoftmaxWithLoss),
                               lambda call=call: call(_ml_class(name)), etype, regex))
    return cases


@_one_thread()
def check_errors(cases: list[ErrorCase]) -> tuple[int, list[str], list[str]]:
    """(cases checked, failures, known class differences seen)."""
    failures, seen = [], []
    for case in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                case.call_torch()
            except case.error_type:
                pass
            except Exception as exc:
                failures.append(f"{case.desc}: torch itself raised {type(exc).__name__}, not "
                                f"{case.error_type.__name__}: {exc}")
                continue
            else:
                failures.append(f"{case.desc}: torch itself no longer raises {case.error_type.__name__}")
                continue
            try:
                case.call_ml()
            except pytest.fail.Exception as exc:  # multiloss lacks the loss
                failures.append(f"{case.desc}: {exc}")
            except Exception as exc:  # noqa: BLE001 - the class is what is checked
                key = next(((case.name, k) for k in KNOWN_CLASS_DIFFERENCES.get(case.name, ())
                            if case.error_regex.startswith(k)), None)
                ok = isinstance(exc, case.error_type)
                known = (key is not None and not ok and case.error_type is RuntimeError
                         and isinstance(exc, KNOWN_CLASSES))
                if key is not None and ok:
                    failures.append(f"{case.desc}: KNOWN_CLASS_DIFFERENCES[{key[0]!r}] entry {key[1]!r} is "
                                    f"stale: multiloss now raises {case.error_type.__name__} like torch; remove it")
                elif known:
                    seen.append(key)
                elif not ok:
                    failures.append(f"{case.desc}: torch raises {case.error_type.__name__} "
                                    f"({case.error_regex!r}), multiloss {type(exc).__name__}: {str(exc)[:200]}")
            else:
                failures.append(f"{case.desc}: torch raises {case.error_type.__name__} "
                                f"({case.error_regex!r}), multiloss raised nothing")
    return len(cases), failures, seen


# --------------------------------------------------------------------------- the tests


def test_inventory_is_every_torch_loss():
    """The list above is torch.nn's losses: a loss added to torch fails here until it is listed."""
    torch_losses = {n for n in dir(torch.nn) if n.endswith("Loss") and isinstance(getattr(torch.nn, n), type)}
    assert torch_losses - NOT_MIRRORED <= set(LOSSES), "torch has a loss this list lacks"
    for cls_name, fname in LOSSES.items():
        if cls_name not in torch_losses:
            continue  # a torch older than 2.13 (the other tests skip it, saying so)
        if fname is not None:
            assert callable(getattr(torch.nn.functional, fname)), fname
            assert _opinfos(fname), f"torch has no OpInfo for nn.functional.{fname}"
        if cls_name != "AdaptiveLogSoftmaxWithLoss":
            assert _moduleinfo(cls_name) is not None or fname is not None, cls_name
    # the handwritten source is only used where torch has nothing
    assert _moduleinfo("AdaptiveLogSoftmaxWithLoss") is None


def _require_torch_has(name: str, where=None) -> None:
    where = torch.nn if where is None else where
    if not hasattr(where, name):  # torch is pinned to 2.13 in tox.ini, which has all of them
        pytest.skip(f"torch {torch.__version__} has no {where.__name__}.{name}: nothing to compare with")


@pytest.mark.parametrize("fname", FUNCTIONALS)
def test_functional_matches_torch_on_opinfo_samples(fname):
    _require_torch_has(fname, torch.nn.functional)
    report = compare_functional(fname)
    assert sum(report.counts.values()) > 0, f"no OpInfo sample compared for {fname}"
    assert {"float64", "float32"} <= set(report.counts), report.counts
    if report.failures:
        pytest.fail(report.message(), pytrace=False)


@pytest.mark.parametrize("cls_name", CLASSES)
def test_module_matches_torch_on_moduleinfo_samples(cls_name):
    _require_torch_has(cls_name)
    report = compare_module(cls_name)
    assert sum(report.counts.values()) > 0, f"no sample compared for {cls_name}"
    assert {"float64", "float32"} <= set(report.counts), report.counts
    if report.failures:
        pytest.fail(report.message(), pytrace=False)


def test_error_inputs_raise_torchs_class():
    """torch's error inputs of every functional (OpInfo.error_inputs, also through the class)
    and every module (ModuleInfo.module_error_inputs_func; handwritten for
    AdaptiveLogSoftmaxWithLoss): multiloss raises torch's class, or the known difference."""
    cases = [c for f in FUNCTIONALS if hasattr(torch.nn.functional, f) for c in _functional_error_cases(f)]
    cases += [c for cls in CLASSES if hasattr(torch.nn, cls) for c in _module_error_cases(cls)]
    n, failures, seen = check_errors(cases)
    assert n > 0
    unused = sorted({(name, k) for name, ks in KNOWN_CLASS_DIFFERENCES.items() for k in ks} - set(seen))
    failures += [f"KNOWN_CLASS_DIFFERENCES[{name!r}] entry {k!r} matches no error input: remove it"
                 for name, k in unused]
    if failures:
        pytest.fail(f"{len(failures)} problems in {n} error inputs:\n" + "\n".join(failures), pytrace=False)


def test_comparison_can_fail():
    """The harness flags a wrong value, a wrong gradient and a missing error."""
    x = torch.randn(3, 4, requires_grad=True)
    y = torch.randn(3, 4)
    f = torch.nn.functional
    assert _run(lambda: f.mse_loss(x, y), lambda: f.l1_loss(x, y), {}, {}, (x, y), {}, torch.float32)

    class WrongGrad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return f.mse_loss(a, b)

        @staticmethod
        def backward(ctx, g):
            return torch.zeros_like(x), None

    problems = _run(lambda: f.mse_loss(x, y), lambda: WrongGrad.apply(x, y), {}, {}, (x, y), {}, torch.float32)
    assert problems and problems[0].startswith("grad[")
    # no error, the wrong class, a stale known difference
    def value_error():
        raise ValueError("mse_loss: argument 'target' ...")

    case = ErrorCase("x", "x", lambda: f.mse_loss(x, y[:2]), lambda: None, RuntimeError, "size")
    assert check_errors([case])[1]
    case = ErrorCase("x", "x", lambda: f.mse_loss(x, y[:2]), value_error, RuntimeError, "size")
    assert check_errors([case])[1]
    case = ErrorCase("x", "x", lambda: f.mse_loss(x, y[:2]), lambda: f.mse_loss(x, y[:2]), RuntimeError, "size")
    assert check_errors([case]) == (1, [], [])
    KNOWN_CLASS_DIFFERENCES["x"] = ("siz",)
    try:
        assert check_errors([case])[1]  # stale: multiloss raises torch's class now
        case.call_ml = value_error
        assert check_errors([case]) == (1, [], [("x", "siz")])
        case.call_ml = lambda: [][1]  # an IndexError is no known difference
        assert check_errors([case])[1]
    finally:
        del KNOWN_CLASS_DIFFERENCES["x"]


# --------------------------------------------------------------------------- summary script


def _main() -> None:  # pragma: no cover - a report for humans
    import time

    runs = [(f"F.{f}", compare_functional, f) for f in FUNCTIONALS] + [(c, compare_module, c) for c in CLASSES]
    for label, compare, name in runs:
        t = time.perf_counter()
        try:
            r = compare(name)
            print(f"{label}: {r.counts} {len(r.failures)} mismatches ({time.perf_counter() - t:.2f}s)")
            for line in r.failures[:6]:
                print("   ", line)
        except BaseException as exc:  # noqa: BLE001
            print(f"{label}: {type(exc).__name__}: {exc}")
    for kind, cases in (("functional", [c for f in FUNCTIONALS for c in _functional_error_cases(f)]),
                        ("module", [c for cls in CLASSES for c in _module_error_cases(cls)])):
        n, failures, seen = check_errors(cases)
        print(f"{kind} error inputs: {n} checked, {len(failures)} failures, known differences seen {sorted(set(seen))}")
        for line in failures:
            print("   ", line)


if __name__ == "__main__":  # pragma: no cover
    _main()
