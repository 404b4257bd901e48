"""The PyTorch adapter: a table of torch names -> canonical losses, and one factory.

Every entry of :data:`TABLE` (:mod:`multiloss.backends.torch_table`, importable without
torch) names a ``torch.nn`` loss class (or a torch-style extra), its
``torch.nn.functional`` name, the canonical function of :mod:`multiloss.losses` that
computes it, and the constructor / functional parameters *in torch's order with torch's
defaults* (``size_average``/``reduce`` where torch still accepts them). From that table:

* :func:`make_module` builds a ``torch.nn.Module`` class (a subclass of torch's own
  ``torch.nn.modules.loss._Loss``, so ``isinstance`` checks and the legacy
  ``size_average``/``reduce`` handling are torch's). Tensor options (``weight``,
  ``pos_weight``) are registered buffers, so ``.to(device)``, ``.double()`` and
  ``state_dict`` behave as in torch. ``forward`` calls the canonical function: no loss is
  written twice.
* :func:`make_functional` builds the functional form with ``torch.nn.functional``'s
  signature.

Both are generated as plain Python source (like :mod:`dataclasses` does) so the signatures
are real (``inspect.signature``, IDEs, keyword errors are exactly torch's) and a call costs
one Python frame plus the canonical function: nothing is parsed or bound per call.

Reductions, weights, ``ignore_index``, ``label_smoothing``, ``batchmean`` ... are the
canonical functions' (which follow ``torch.nn.functional``; see their docstrings); the
conformance cases in :mod:`multiloss.conformance.natives_torch` hold every entry against
``torch.nn`` in value and gradient.
"""

from __future__ import annotations

import importlib
import numbers
import warnings
from typing import Any, Callable, Iterable, Mapping, NoReturn

import torch
from torch import nn
from torch.nn.modules.loss import _Loss as _TorchLossBase  # torch's base of every loss module

from .. import losses as _L
from .._namespace import array_namespace as _array_namespace
from ..errors import TORCH as _TORCH_ERRORS
from ..errors import DTypeError
from ..errors import native_error as _native_error
from ..errors import reraise as _reraise
from .._validation import check_reduction
from . import torch_ops as _torch_ops  # noqa: F401  (registers the fused torch primitives)
from .torch_table import LEGACY as _LEGACY
from .torch_table import TABLE, Entry

# Resolve (and cache) the namespace of torch's tensor types once, now: the first resolution
# imports modules, which torch.compile cannot trace (a graph break inside a compiled loss).
for _t in (torch.empty(0), nn.Parameter(torch.empty(0))):
    _array_namespace(_t)
del _t


# what a generated loss re-raises as torch's class (multiloss/errors.py): the canonical
# functions' ValueError/TypeError, also catchable as RuntimeError / IndexError /
# NotImplementedError by kind, like ATen's checks (issue 13)
_CAUGHT = (ValueError, TypeError)


def torch_error(exc: BaseException) -> BaseException:
    """``exc`` (a canonical loss's error) as torch's class for its kind, same message."""
    return _native_error(exc, _TORCH_ERRORS)


def _raise_torch_error(exc: BaseException) -> NoReturn:
    _reraise(exc, _TORCH_ERRORS)


# ----------------------------------------------------------------------------- input policy
# docs/input-policy.md: torch's own rules, checked in O(1) Python on the happy path (isinstance
# and dtype identity); the helpers below run only when a check fails.

_Tensor = torch.Tensor


def _type_name(x: Any) -> str:
    t = type(x)
    return f"{t.__module__}.{t.__qualname__}"


def _not_tensors(fn: str, names: tuple[str, ...], values: tuple[Any, ...]) -> NoReturn:
    """torch requires tensors (``TypeError: mse_loss(): argument 'input' must be Tensor``)."""
    for name, v in zip(names, values):
        if not isinstance(v, _Tensor):
            hint = ""
            if isinstance(v, (list, tuple)) or type(v).__module__.split(".")[0] == "numpy":
                hint = " (convert it with torch.as_tensor(...) first)"
            raise TypeError(f"{fn}: argument '{name}' must be a torch.Tensor; got {_type_name(v)}{hint}")
    raise AssertionError("unreachable")  # pragma: no cover


def _promote(fn: str, rule: str, input: Any, target: Any) -> tuple[Any, Any]:
    """torch's promotion of an elementwise loss, by ``rule`` (the table's ``promote``):

    * ``"all"``: both cast to ``torch.result_type`` (``mse_loss(int64, float32)`` is float32,
      ``mse_loss(float32, float64)`` float64), which must be floating (torch: ``"mse_cpu" not
      implemented for 'Long'``);
    * ``"any"``: the same, integer pairs in the default float dtype (``poisson_nll_loss``'s
      ``exp(input) - target * input`` of integers is a float32 in torch);
    * ``"float"``: the same for floating arguments only (``kl_div``: "Integral inputs not supported");
    * ``"float_input"``: a floating target promotes with the input (an integer target is cast
      to the input's dtype, an integer input is the canonical function's error);
    * ``"target"``: computed in a floating target's dtype (``binary_cross_entropy_with_logits``
      of float64 logits and float32 targets is float32 in torch)."""
    if rule in ("float_input", "target"):
        if not (input.is_floating_point() and target.is_floating_point()):
            return input, target  # the canonical function casts / reports
        if rule == "target":
            return input.to(target.dtype), target
    if rule == "any":  # poisson_nll_loss: computed in the default float dtype on integers
        dt = torch.result_type(input, target)
        if not dt.is_floating_point:
            dt = torch.get_default_dtype()
        return input.to(dt), target.to(dt)
    if rule == "float":
        for name, v in (("input", input), ("target", target)):
            if not v.is_floating_point():
                raise torch_error(DTypeError(
                    f"{fn}: argument '{name}' must be a floating-point tensor (torch: integral inputs "
                    f"not supported); got dtype {str(v.dtype).replace('torch.', '')}"))
    dt = torch.result_type(input, target)
    if not dt.is_floating_point:
        raise torch_error(DTypeError(
            f"{fn}: arguments 'input' ({str(input.dtype).replace('torch.', '')}) and 'target' "
            f"({str(target.dtype).replace('torch.', '')}) promote to {str(dt).replace('torch.', '')}; "
            f"the loss needs a floating-point 'input' or 'target'"))
    return input.to(dt), target.to(dt)


def _dtype_mismatch(fn: str, name: str, x: Any, input: Any) -> NoReturn:
    """torch: ``expected scalar type Float but found Double`` (a class weight, BCE's target)."""
    if not input.is_floating_point():  # the input's dtype is the wrong one
        raise torch_error(DTypeError(
            f"{fn}: argument 'input' must be a floating-point tensor; got dtype "
            f"{str(input.dtype).replace('torch.', '')}"))
    raise torch_error(DTypeError(
        f"{fn}: argument '{name}' must have the dtype of 'input' ({str(input.dtype).replace('torch.', '')}); "
        f"got {str(x.dtype).replace('torch.', '')} (cast it with .to(input.dtype))"))


def _devices(fn: str, names: tuple[str, ...], values: tuple[Any, ...]) -> None:
    """Tensors on two devices: a multiloss error naming them (also a RuntimeError, as torch's
    "Expected all tensors to be on the same device"); 0-d CPU tensors beside tensors of another
    device are let through (torch's TensorIterator takes them as scalars)."""
    on = [(n, v.device, v.dim() == 0 and v.device.type == "cpu") for n, v in zip(names, values)]
    devices = {d for _, d, cpu_scalar in on if not cpu_scalar}
    if len(devices) > 1:
        where = ", ".join(f"'{n}' on {d}" for n, d, _ in on)
        raise torch_error(ValueError(f"{fn}: all tensors must be on one device; got {where} (move them with .to(device))"))


def check_tensors(fn: str, names: tuple[str, ...], values: tuple[Any, ...]) -> None:
    """The generated losses' input check for hand-written modules (``torch_parametric``):
    every value a torch.Tensor, all on one device; else a TypeError / ValueError naming ``fn``
    and the argument (docs/input-policy.md)."""
    for v in values:
        if not isinstance(v, _Tensor):
            _not_tensors(fn, names, values)
    first = values[0].device
    if any(v.device != first for v in values[1:]):
        _devices(fn, names, values)


def _runtime_error(fn: str, exc: RuntimeError, names: tuple[str, ...], values: tuple[Any, ...]) -> NoReturn:
    """A RuntimeError out of torch inside the loss: tensors on two devices become a multiloss
    error naming them (also a RuntimeError, as torch's "Expected all tensors to be on the same
    device"); any other error is re-raised as it is."""
    on = [(n, v.device) for n, v in zip(names, values) if isinstance(v, _Tensor)]
    devices = {d for _, d in on}
    if len(devices) > 1:
        where = ", ".join(f"'{n}' on {d}" for n, d in on)
        raise torch_error(ValueError(
            f"{fn}: all tensors must be on one device; got {where} (move them with .to(device))")) from exc
    raise exc


__all__ = [
    "Entry",
    "TABLE",
    "TorchLoss",
    "make_module",
    "make_functional",
    "MODULES",
    "FUNCTIONALS",
    "l1_penalty",
    "l2_penalty",
    "legacy_reduction",
]

_KW_ONLY = "*"  # a params marker: the parameters after it are keyword-only (as in torch)


# ----------------------------------------------------------------------------- helpers


def legacy_reduction(size_average: Any, reduce: Any, emit_warning: bool = True) -> str:
    """torch's ``_Reduction.legacy_get_string`` (torch/nn/_reduction.py): ``None`` counts as
    ``True``; both true -> 'mean', ``reduce`` only -> 'sum', else 'none'; warns as torch."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if (size_average and reduce) else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
            stacklevel=3,
        )
    return ret


def _check_options(cls_name: str, entry: Entry, values: Mapping[str, Any]) -> None:
    """Construction-time checks: the reduction is known, numbers are numbers, tensors are
    tensors. (Value ranges are checked by the canonical function, which names itself.)"""
    check_reduction(cls_name, values["reduction"], entry.reductions)
    for name, default in entry.params:
        if name in _LEGACY or name in ("reduction", _KW_ONLY):
            continue
        v = values[name]
        if name in entry.buffers:
            if v is not None and not isinstance(v, torch.Tensor):
                raise TypeError(
                    f"{cls_name}: argument '{name}' must be a torch.Tensor or None; got "
                    f"{type(v).__name__}"
                )
        elif isinstance(default, bool):
            if not isinstance(v, bool):
                raise TypeError(f"{cls_name}: argument '{name}' must be a bool; got {v!r}")
        elif isinstance(default, int):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{cls_name}: argument '{name}' must be an int; got {v!r}")
        elif isinstance(default, float):
            if v is None and name in entry.nullable:
                continue
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(
                    f"{cls_name}: argument '{name}' must be a float or int; got {type(v).__name__} {v!r}"
                )


class TorchLoss(_TorchLossBase):
    """Base of the generated multiloss loss modules (a ``torch.nn.modules.loss._Loss``).

    Subclasses set ``_entry`` (their :class:`Entry`); ``__init__`` and ``forward`` are
    generated by :func:`make_module`."""

    _entry: Entry

    def extra_repr(self) -> str:
        parts = []
        for name, default in self._entry.params:
            if name in _LEGACY or name in self._entry.buffers or name == _KW_ONLY:
                continue
            v = getattr(self, name)
            if v != default or type(v) is not type(default):
                parts.append(f"{name}={v!r}")
        return ", ".join(parts)


def _signature_src(params: Iterable[tuple[str, Any]], defaults: dict) -> str:
    out = []
    for name, default in params:
        if name == _KW_ONLY:
            out.append("*")
            continue
        key = f"_d_{name}"
        defaults[key] = default
        out.append(f"{name}={key}")
    return ", ".join(out)


def _call_src(entry: Entry, params: Iterable[tuple[str, Any]], prefix: str, local: tuple[str, ...] = ()) -> str:
    kw = [f"{entry.rename.get(n, n)}={'' if n in local else prefix}{n}" for n, _ in params
          if n not in (*_LEGACY, _KW_ONLY)]
    return ", ".join([*entry.inputs, *kw])


def _policy_src(entry: Entry, buffers: tuple[str, ...]) -> list[str]:
    """The input-policy prologue of a generated ``forward`` / functional (docs/input-policy.md):
    tensors only (``buffers``: the tensor options in scope, checked when not None), torch's
    promotion, torch's same-dtype rules. O(1) on the happy path."""
    tensors = [n for n in entry.inputs if n not in entry.host_inputs]
    lines = []
    if tensors:
        cond = " and ".join(f"isinstance({n}, _Tensor)" for n in tensors)
        lines.append(f"    if not ({cond}):")
        lines.append(f"        _not_tensors(_NAME, {tuple(tensors)!r}, ({', '.join(tensors)},))")
    for b in buffers:
        lines.append(f"    if {b} is not None and not isinstance({b}, _Tensor):")
        lines.append(f"        _not_tensors(_NAME, ({b!r},), ({b},))")
    if len(tensors) > 1:  # one device (torch: "Expected all tensors to be on the same device")
        cond = " or ".join(f"{n}.device != {tensors[0]}.device" for n in tensors[1:])
        lines.append(f"    if {cond}:")
        lines.append(f"        _devices(_NAME, {tuple(tensors)!r}, ({', '.join(tensors)},))")
    if entry.promote and entry.inputs[:2] == ("input", "target"):
        extra = " or not input.is_floating_point()" if entry.promote == "any" else ""
        lines.append(f"    if input.dtype is not target.dtype{extra}:")
        lines.append(f"        input, target = _promote(_NAME, {entry.promote!r}, input, target)")
    first = entry.inputs[0]
    for n in entry.same_dtype:
        guard = f"{n} is not None and " if n in entry.buffers else ""
        lines.append(f"    if {guard}{n}.dtype is not {first}.dtype:")
        lines.append(f"        _dtype_mismatch(_NAME, {n!r}, {n}, {first})")
    for n in entry.cast_to_input:  # torch computes a BCE weight in the input's dtype
        lines.append(f"    if {n} is not None and {n}.dtype is not {first}.dtype:")
        lines.append(f"        {n} = {n}.to({first}.dtype)")
    return lines


_POLICY_NAMESPACE = {"_Tensor": _Tensor, "_not_tensors": _not_tensors, "_promote": _promote,
                     "_dtype_mismatch": _dtype_mismatch, "_runtime_error": _runtime_error, "_devices": _devices}


def _doc(entry: Entry, kind: str) -> str:
    canon = entry.loss.__name__
    twin = (
        f"Drop-in for ``torch.nn.{entry.native}`` / ``torch.nn.functional.{entry.functional}``: "
        f"same arguments, defaults, values and gradients."
        if entry.native
        else "torch-style extra (torch has no such loss)."
    )
    sig = ", ".join(n if n == _KW_ONLY else f"{n}={d!r}" for n, d in (entry.params if kind == "class" else entry.fparams))
    head = entry.name if kind == "class" else f"{entry.functional}({', '.join(entry.inputs)}, ...)"
    return (
        f"{entry.summary}\n\n{twin}\n\n"
        f"``{head}({sig})`` -> computes :func:`multiloss.{canon}` "
        f"(the single-source definition; its docstring has the formula).\n\n"
        f"Shapes: {entry.shapes}\n"
        + ("Tensor options are registered buffers (``.to()``, ``state_dict``).\n"
           if kind == "class" and any(n in entry.buffers for n, _ in entry.params) else "")
    )


def make_module(entry: Entry) -> type:
    """Build the ``torch.nn.Module`` class of ``entry`` (torch's name, signature, defaults)."""
    defaults: dict[str, Any] = {}
    sig = _signature_src(entry.params, defaults)
    has_legacy = any(n in _LEGACY for n, _ in entry.params)
    lines = [f"def __init__(self, {sig}):"]
    if has_legacy:
        # torch's own _Loss.__init__ maps size_average/reduce to reduction (with its warning)
        lines.append("    _Base.__init__(self, size_average, reduce, reduction)")
        lines.append("    reduction = self.reduction")
    else:
        lines.append("    _Base.__init__(self, None, None, reduction)")
    names = [n for n, _ in entry.params if n not in (*_LEGACY, _KW_ONLY)]
    lines.append("    try:")
    lines.append(f"        _check(_NAME, _ENTRY, {{{', '.join(f'{n!r}: {n}' for n in names)}}})")
    lines.append("    except _CAUGHT as e:")
    lines.append("        _torch_error(e)")
    for n in names:
        if n in entry.buffers:
            lines.append(f"    self.register_buffer({n!r}, {n})")
        elif n != "reduction":
            lines.append(f"    self.{n} = {n}")
    # the module's forward reads its attributes at call time (they may be reassigned, as in
    # torch) and calls the canonical function; buffers follow .to()/.double()
    lines.append(f"def forward(self, {', '.join(entry.inputs)}):")
    local = tuple(n for n in entry.buffers if n in (*entry.same_dtype, *entry.cast_to_input))  # read once
    for n in local:
        lines.append(f"    {n} = self.{n}")
    lines += _policy_src(entry, ())
    values = (*entry.inputs, *(n if n in local else f"self.{n}" for n in entry.buffers if n in names))
    lines.append("    try:")
    lines.append(f"        return _loss({_call_src(entry, entry.params, 'self.', local)})")
    lines.append("    except _CAUGHT as e:")  # no cost unless raised (zero-cost try, Python 3.11)
    lines.append("        _torch_error(e)")
    lines.append("    except RuntimeError as e:")  # tensors on two devices (torch's own error)
    lines.append(f"        _runtime_error(_NAME, e, {(*entry.inputs, *(n for n in entry.buffers if n in names))!r}, "
                 f"({', '.join(values)},))")
    namespace = {
        "_Base": _TorchLossBase,
        "_CAUGHT": _CAUGHT,
        "_torch_error": _raise_torch_error,
        "_check": _check_options,
        "_NAME": entry.name,
        "_ENTRY": entry,
        "_loss": entry.loss,
        **_POLICY_NAMESPACE,
        **defaults,
    }
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from the table above
    init, forward = namespace["__init__"], namespace["forward"]
    forward.__doc__ = f"The loss of ``{', '.join(entry.inputs)}``; see :func:`multiloss.{entry.loss.__name__}`."
    cls = type(entry.name, (TorchLoss,), {"__init__": init, "forward": forward, "_entry": entry,
                                          "__doc__": _doc(entry, "class"), "__module__": "multiloss.torch"})
    for f in (init, forward):
        f.__qualname__ = f"{entry.name}.{f.__name__}"
        f.__module__ = "multiloss.torch"
    return cls


def make_functional(entry: Entry) -> Callable[..., Any]:
    """Build the functional form of ``entry`` with ``torch.nn.functional``'s signature."""
    defaults: dict[str, Any] = {}
    sig = _signature_src(entry.fparams, defaults)
    lines = [f"def {entry.functional}({', '.join(entry.inputs)}, {sig}):"]
    if any(n in _LEGACY for n, _ in entry.fparams):
        lines.append("    if size_average is not None or reduce is not None:")
        lines.append("        reduction = _legacy(size_average, reduce)")
    buffers = tuple(n for n, _ in entry.fparams if n in entry.buffers)
    lines += _policy_src(entry, buffers)
    lines.append("    try:")
    lines.append(f"        return _loss({_call_src(entry, entry.fparams, '')})")
    lines.append("    except _CAUGHT as e:")
    lines.append("        _torch_error(e)")
    lines.append("    except RuntimeError as e:")  # tensors on two devices (torch's own error)
    lines.append(f"        _runtime_error(_NAME, e, {(*entry.inputs, *buffers)!r}, ({', '.join((*entry.inputs, *buffers))},))")
    namespace = {"_legacy": legacy_reduction, "_loss": entry.loss, "_CAUGHT": _CAUGHT,
                 "_torch_error": _raise_torch_error, "_NAME": entry.functional, **_POLICY_NAMESPACE, **defaults}
    exec("\n".join(lines), namespace)  # noqa: S102 - generated from the table above
    fn = namespace[entry.functional]
    fn.__doc__ = _doc(entry, "functional")
    fn.__module__ = "multiloss.torch.functional"
    return fn


def _hand_written(entry: Entry) -> type:
    """The ``nn.Module`` class a row names in ``module`` (``"package.module:Class"``)."""
    mod, _, cls = entry.module.partition(":")
    return getattr(importlib.import_module(mod), cls)


MODULES: dict[str, type] = {e.name: _hand_written(e) if e.module else make_module(e) for e in TABLE}
FUNCTIONALS: dict[str, Callable[..., Any]] = {
    e.functional: make_functional(e) for e in TABLE if e.functional
}


# ----------------------------------------------------------------------------- penalties


def _named_params(fn: str, module: Any, exclude_bias: bool) -> list:
    if isinstance(module, nn.Module):
        named = list(module.named_parameters())
    elif isinstance(module, torch.Tensor):
        raise TypeError(
            f"{fn}: argument 'module' must be a torch.nn.Module or an iterable of parameters "
            f"(or of (name, parameter) pairs); got a single Tensor: wrap it in a list"
        )
    else:
        try:
            items = list(module)
        except TypeError:
            raise TypeError(
                f"{fn}: argument 'module' must be a torch.nn.Module or an iterable of parameters; "
                f"got {type(module).__name__}"
            ) from None
        named = [it if isinstance(it, tuple) else (f"[{i}]", it) for i, it in enumerate(items)]
    # the loss survey's rule: skip every parameter whose *name* contains "bias"
    params = [p for name, p in named if not (exclude_bias and "bias" in name)]
    if not params:
        raise ValueError(
            f"{fn}: no parameters to penalise in {type(module).__name__}"
            + (" (all of them have 'bias' in their name; pass exclude_bias=False)" if named else "")
        )
    return params


def l1_penalty(module: Any, alpha: float = 1.0, exclude_bias: bool = True) -> torch.Tensor:
    r"""L1 weight penalty :math:`\alpha \sum_p \sum_i |p_i|` over ``module.named_parameters()``,
    skipping parameters whose name contains ``"bias"`` unless ``exclude_bias=False`` (the loss survey's
    rule). ``module`` may also be an iterable of tensors or of ``(name, tensor)`` pairs.

    Returns a 0-d tensor to add to the loss; computed by :func:`multiloss.l1_penalty`.
    """
    return _L.l1_penalty(_named_params("l1_penalty", module, exclude_bias), alpha)


def l2_penalty(module: Any, alpha: float = 1.0, exclude_bias: bool = True) -> torch.Tensor:
    r"""L2 weight penalty :math:`\alpha \sum_p \sum_i p_i^2` (no ½) over
    ``module.named_parameters()``, skipping names containing ``"bias"`` unless
    ``exclude_bias=False``. Equivalent to an optimizer ``weight_decay`` of ``2 * alpha``.

    Returns a 0-d tensor; computed by :func:`multiloss.l2_penalty`.
    """
    return _L.l2_penalty(_named_params("l2_penalty", module, exclude_bias), alpha)
