"""Which configured loss an object is: a ``torch.nn`` loss module (with its ``weight`` /
``pos_weight`` buffers) or ``torch.nn.functional`` function, a ``keras.losses`` instance,
function or string, an optax loss function, a :mod:`multiloss` adapter object, a canonical
``multiloss`` function, or a ``functools.partial`` of any function form -> :class:`Config`.

Frameworks are recognised by the module an object comes from, never by importing them (an
object of a framework exists only once that framework is imported).
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

import numpy as np

from . import _frameworks as F
from ._frameworks import Config, PortError

__all__ = ["identify", "to_numpy", "config_of"]


def to_numpy(v: Any) -> Any:
    """A framework array option (a torch buffer, a jax / TF array, a list) as NumPy, keeping
    its dtype; anything else unchanged."""
    if v is None or isinstance(v, (bool, int, float, str)) or callable(v) and not hasattr(v, "shape"):
        return v
    if isinstance(v, np.ndarray):
        return v
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        return np.asarray(v, dtype=np.float32)
    mod = type(v).__module__
    if mod.startswith("torch"):
        return v.detach().cpu().numpy()
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        try:
            return np.asarray(v)
        except Exception:
            return v
    return v


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _row(framework: str, **match):
    torch_table, keras_table, jax_table = F._tables()
    table = {"torch": torch_table.TABLE, "keras": keras_table.TABLE, "jax": jax_table.TABLE}[framework]
    for r in table:
        if all(getattr(r, k) == v for k, v in match.items() if k != "where"):
            if "where" in match and not match["where"](r):
                continue
            return r
    return None


def config_of(framework: str, kind: str, name: str, options: dict, *, native: bool = False,
              spelled: str = "", native_defaults: dict | None = None) -> Config:
    """The :class:`Config` of a loss named ``name`` in ``framework`` (``kind``: torch
    ``module`` / ``functional``; keras ``class`` / ``function``; jax ``function``;
    ``canonical``) with the options given (by native name; the rest take their defaults).
    ``native``: ``name`` is the framework's own loss (``torch.nn``, ``keras.losses``, optax)."""
    row = None
    if kind == "canonical":
        from .. import losses

        if name not in losses.__all__:
            raise PortError(f"multiloss.{name} is not a canonical loss (multiloss list shows them)")
    elif framework == "torch":
        key = ("native" if native else "name") if kind == "module" else "functional"
        row = _row("torch", **{key: name})
        if row is None:
            raise PortError(f"{spelled or name}: no multiloss twin of this torch loss (multiloss list shows them)")
        if native and kind == "module":
            name = row.name
    elif framework == "keras":
        if kind == "class":
            row = (_row("keras", cls=name, where=lambda r: r.keras_native or not native)
                   or (_row("keras", native=name) if native else None))
        else:
            row = _row("keras", fn=name, where=lambda r: r.keras_native or not native)
            if row is None and native:
                row = _row("keras", where=lambda r: r.native and _snake(r.native) == name)
        if row is None:
            raise PortError(f"{spelled or name}: no multiloss twin of this keras loss (multiloss list shows them)")
        name = row.cls if kind == "class" else row.fn
    elif framework == "jax":
        row = _row("jax", optax=name) if native else _row("jax", name=name)
        if row is None:
            raise PortError(f"{spelled or name}: no multiloss twin of this optax loss (multiloss list shows them)")
        name = row.name
    else:
        raise PortError(f"unknown framework {framework!r}")
    if framework == "torch":
        options = _legacy(dict(options))
    cfg = Config(framework, kind, name, row, {}, native, spelled=spelled)
    full = dict(native_defaults) if native_defaults is not None else F.defaults(cfg)
    for k, v in options.items():
        if k in ("name", "dtype") and framework == "keras":
            continue
        if k not in full:
            known = ", ".join(full) or "none"
            raise PortError(f"{spelled or name}: unknown option {k!r} (options: {known})")
        full[k] = to_numpy(v)
    return Config(framework, kind, name, row, full, native, spelled=spelled)


def _legacy(options: dict) -> dict:
    """torch's size_average / reduce (torch/nn/_reduction.py legacy_get_string) as a reduction."""
    sa, red = options.pop("size_average", None), options.pop("reduce", None)
    if sa is None and red is None:
        return options
    sa = True if sa is None else sa
    red = True if red is None else red
    options["reduction"] = "mean" if (sa and red) else ("sum" if red else "none")
    return options


def identify(obj: Any) -> Config:
    """The configured loss ``obj`` is (see the module docstring)."""
    if isinstance(obj, F.Ported):
        cfg = identify(obj.fn)
        opts = {**cfg.options, **{k: to_numpy(v) for k, v in obj.kwargs.items()}}
        return Config(cfg.framework, cfg.kind, cfg.name, cfg.row, opts, cfg.native, tuple(obj.steps), cfg.spelled)
    if isinstance(obj, functools.partial):
        if obj.args:
            raise PortError(f"{obj!r}: bind a loss's options by keyword (functools.partial(f, name=value)); "
                            f"positional arguments of a function form are its arrays")
        base = identify(obj.func)
        return config_of(base.framework, base.kind, base.name if not base.native else _native_name(obj.func),
                         {**_given(base), **obj.keywords}, native=base.native, spelled=base.spelled,
                         native_defaults=_native_defaults(obj.func, base))
    if isinstance(obj, str):
        return _keras_string(obj)
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return _function(obj)
    return _instance(obj)


def _given(cfg: Config) -> dict:
    d = F.defaults(cfg)
    return {k: v for k, v in cfg.options.items() if k not in d}


def _native_name(fn: Any) -> str:
    return getattr(fn, "__name__", "")


def _native_defaults(fn: Any, cfg: Config) -> dict | None:
    """The defaults of a native keras function that a multiloss row serves under another name
    (keras's binary_focal_crossentropy for the FocalLoss extra)."""
    if cfg.framework == "keras" and cfg.native and cfg.row is not None and not cfg.row.keras_native:
        return _signature_defaults(fn, skip=2)
    return None


def _signature_defaults(fn: Any, skip: int) -> dict:
    out = {}
    for i, (n, p) in enumerate(inspect.signature(fn).parameters.items()):
        if i < skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or n in ("self", "name", "dtype"):
            continue
        out[n] = None if p.default is inspect.Parameter.empty else p.default
    return out


def _function(fn: Any) -> Config:
    name, mod = getattr(fn, "__name__", ""), getattr(fn, "__module__", "") or ""
    if mod == "torch.nn.functional":
        return config_of("torch", "functional", name, {}, native=True, spelled=f"torch.nn.functional.{name}")
    if mod == "multiloss.torch.functional":
        return config_of("torch", "functional", name, {}, spelled=f"mt.functional.{name}")
    if mod.startswith("keras"):
        cfg = config_of("keras", "function", name, {}, native=True, spelled=f"keras.losses.{name}")
        nd = _native_defaults(fn, cfg)
        return cfg if nd is None else config_of("keras", "function", name, {}, native=True,
                                                spelled=f"keras.losses.{name}", native_defaults=nd)
    if mod == "multiloss.keras":
        return config_of("keras", "function", name, {}, spelled=f"mk.{name}")
    if mod.startswith("optax"):
        return config_of("jax", "function", name, {}, native=True, spelled=f"optax.losses.{name}")
    if mod == "multiloss.jax":
        return config_of("jax", "function", name, {}, spelled=f"mj.{name}")
    if mod.startswith("multiloss.losses"):
        return config_of("numpy", "canonical", name, {})
    raise PortError(f"{mod}.{name}: not a loss multiloss knows (torch.nn / keras.losses / optax losses, "
                    f"multiloss adapters, canonical functions; multiloss list shows them)")


def _instance(obj: Any) -> Config:
    cls = type(obj)
    name, mod = cls.__name__, cls.__module__
    if mod.startswith("torch.nn"):
        row = _row("torch", native=name)
        if row is not None and row.module:
            raise PortError(F._parametric(Config("torch", "module", row.name, row, spelled=f"torch.nn.{name}")))
        cfg = config_of("torch", "module", name, {}, native=True, spelled=f"torch.nn.{name}")
        return _torch_options(obj, cfg)
    if mod in ("multiloss.torch", "multiloss.backends.torch_parametric"):
        row = _row("torch", name=name)
        if row is not None and row.module:
            raise PortError(F._parametric(Config("torch", "module", row.name, row, spelled=f"mt.{name}")))
        return _torch_options(obj, config_of("torch", "module", name, {}, spelled=f"mt.{name}"))
    if mod == "multiloss.keras" and hasattr(obj, "_ml_options"):
        return config_of("keras", "class", name, {**obj._ml_options, "reduction": obj.reduction}, spelled=f"mk.{name}")
    if mod.startswith("keras"):
        fn = getattr(obj, "fn", None)
        kwargs = getattr(obj, "_fn_kwargs", None)
        if fn is None or kwargs is None:
            raise PortError(f"keras.losses.{name}: a keras loss without a function and its config "
                            f"(a custom Loss subclass) cannot be read")
        fname = getattr(fn, "__name__", "")
        row = _row("keras", fn=fname, where=lambda r: r.keras_native and r.cls)
        if row is None:
            row = _row("keras", native=name)
        if row is None:
            raise PortError(f"keras.losses.{name}: no multiloss twin of this keras loss (multiloss list shows them)")
        spelled = f"keras.losses.{name}" if name != "LossFunctionWrapper" else f"keras.losses.get({fname!r})"
        if row.keras_native:
            return config_of("keras", "class", row.cls, {**kwargs, "reduction": obj.reduction}, native=True,
                             spelled=spelled)
        nd = _signature_defaults(cls.__init__, skip=1) if name == row.native else None
        if nd is not None:
            nd.pop("reduction", None)
            nd["reduction"] = "sum_over_batch_size"
        return config_of("keras", "class", row.native, {**kwargs, "reduction": obj.reduction}, native=True,
                         spelled=spelled, native_defaults=nd)
    raise PortError(f"{mod}.{name}: not a loss multiloss knows (torch.nn / keras.losses / optax losses, multiloss "
                    f"adapters, canonical functions; multiloss list shows them)")


def _torch_options(obj: Any, cfg: Config) -> Config:
    opts = {}
    for n in F.defaults(cfg):
        if hasattr(obj, n):
            opts[n] = getattr(obj, n)
    if opts.get("distance_function") is not None:
        import torch

        d = opts["distance_function"]
        # torch stores its default as nn.PairwiseDistance() (torch/nn/modules/loss.py): the canonical None
        if isinstance(d, torch.nn.PairwiseDistance) and (d.norm, d.eps, d.keepdim) == (2.0, 1e-6, False):
            opts["distance_function"] = None
    return config_of("torch", "module", cfg.name, opts, spelled=cfg.spelled)


def _keras_string(s: str) -> Config:
    """A keras loss identifier (``"mse"``, ``"categorical_crossentropy"``, ``"Huber"``), as
    ``keras.losses.get`` resolves it."""
    try:
        import keras
    except ImportError:  # pragma: no cover - keras absent: the table's own names only
        keras = None
    if keras is not None:
        try:
            obj = keras.losses.get(s)
        except (ValueError, TypeError) as e:
            raise PortError(f"{s!r}: not a keras loss identifier ({e})") from None
        return identify(obj)
    _, keras_table, _ = F._tables()
    for r in keras_table.TABLE:
        if r.keras_native and s in (r.fn, r.cls):
            return config_of("keras", "class" if s == r.cls else "function", s, {}, native=True,
                             spelled=f"keras.losses.{s}")
    raise PortError(f"{s!r}: not a keras loss identifier multiloss knows")
