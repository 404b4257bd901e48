"""Garbage-input fuzzing (issue 13, "What to build" item 3; the policy: docs/input-policy.md).

Every entry of every adapter table -- the torch modules and functionals, the keras classes and
functions, the jax functions -- and every canonical function gets, in each array position in
turn (the other arguments valid), ``None``, a string, a ragged nested list, an arbitrary object,
a dict, an array of another framework and arrays on two devices. Each call must either be
accepted (where the native accepts it: ``targets=None`` in optax, a torch tensor converted by
keras's ``Loss``) or raise a ``TypeError`` / ``ValueError`` whose message names the function
(or the class) and the argument -- never an ``AttributeError``, never a framework's raw error.

Two devices: torch's ``meta`` device against ``cpu`` (every machine has both); jax with two
forced host CPU devices in a subprocess (``XLA_FLAGS`` is read when jax starts). Canonical
functions called directly do not compare devices (they are the adapters' hot path; the adapters
check on their error path): docs/input-policy.md, "Devices".

Deterministic: a fixed list of garbage, the valid arguments from the conformance domains (seed
0). Each test loops over its adapter's table and reports every failure at once.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
import warnings
from typing import Any, Callable

import numpy as np
import pytest

from tests_conftest import require


class _Opaque:
    """An arbitrary object (no ``shape``, no ``dtype``, no ``__array__``)."""

    def __repr__(self) -> str:
        return "<opaque>"


GARBAGE: dict[str, Any] = {
    "None": None,
    "str": "not an array",
    "ragged": [[1.0], [1.0, 2.0]],
    "object": _Opaque(),
    "dict": {"a": 1.0},
}


def _valid_inputs(domain: str) -> list[np.ndarray]:
    """The arrays of conformance domain ``domain`` (prediction, target, further arguments)."""
    from multiloss.conformance import domains

    d = domains.make(domain.split("+")[0])
    return [d["pred"], d["target"], *d.get("args", ())]


def _canonical_domains() -> dict[str, str]:
    """canonical loss name -> the domain of its first conformance case."""
    from multiloss.conformance.runner import canonical_cases

    out: dict[str, str] = {}
    for case in canonical_cases():  # a case with the default options first (the adapters' defaults)
        if not case.kwargs:
            out.setdefault(case.loss, case.domain)
    for case in canonical_cases():
        out.setdefault(case.loss, case.domain)
    return out


def _problem(call: Callable[[], Any], names: tuple[str, ...], arg: str, accepted_ok: bool) -> str | None:
    """``None`` when ``call()`` is accepted (and ``accepted_ok``) or raises a TypeError /
    ValueError naming one of ``names`` and the argument ``arg``; else what went wrong."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call()
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        if not any(re.search(rf"(^|\W){re.escape(n)}\W", msg) for n in names):
            return f"{type(exc).__name__} names no function ({'/'.join(names)}): {msg[:160]!r}"
        if f"'{arg}'" not in msg and f"`{arg}`" not in msg:
            return f"{type(exc).__name__} names no argument {arg!r}: {msg[:160]!r}"
        return None
    except Exception as exc:  # AttributeError, a framework's own error class ...
        return f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:160]!r}"
    return None if accepted_ok else "accepted"


def _report(problems: list[str], checked: int) -> None:
    assert checked > 0
    assert not problems, f"{len(problems)} of {checked} garbage calls misbehaved:\n" + "\n".join(problems[:40])


def _fuzz(entries, garbage: dict[str, Any]) -> tuple[list[str], int]:
    """``entries``: ``(label, names, arg_names, call, valid, optional)``, ``call(*arrays)``;
    each array position of ``valid`` gets each garbage value (a position holding a Python
    value, CTC's lengths or adaptive softmax's cutoffs, keeps it). ``optional``: the arguments
    that may be ``None``, and ``"arg:kind"`` where the native accepts a garbage kind (optax's
    ``multiclass_hinge_loss`` converts labels of another framework)."""
    problems, checked = [], 0
    for label, names, arg_names, call, valid, optional in entries:
        for i, arg in enumerate(arg_names):
            if not hasattr(valid[i], "shape"):
                continue
            for gname, g in garbage.items():
                arrays = list(valid)
                arrays[i] = g(arrays[i]) if callable(g) and not isinstance(g, type) else g
                # the native accepts it: None for an optional argument, "arg:kind" for a kind
                accepted_ok = (gname == "None" and arg in optional) or any(
                    o == f"{arg}:{gname.split(' ')[0]}" for o in optional)
                p = _problem(lambda: call(*arrays), names, arg, accepted_ok)
                checked += 1
                if p is not None:
                    problems.append(f"{label}[{arg}={gname}]: {p}")
    return problems, checked


# ----------------------------------------------------------------------------- torch


def _torch_entries(torch, which: str):
    import multiloss.torch as mt
    import multiloss.torch.functional as mF
    from multiloss.backends.torch_table import TABLE

    domains = _canonical_domains()
    parametric = {"LinearCrossEntropyLoss": (5, 5), "AdaptiveLogSoftmaxWithLoss": (5, 5, [2, 3], 2.0)}
    for e in TABLE:
        checks = e.checks or ()
        domain = checks[0].domain if checks else domains.get(e.loss.__name__)
        valid = [torch.as_tensor(a).float() if np.issubdtype(a.dtype, np.floating) else torch.as_tensor(a)
                 for a in _valid_inputs(domain)] if domain else None
        if valid is None:
            continue
        if which == "module":
            module = getattr(mt, e.name)(*parametric.get(e.name, ()))
            # hand-written modules: their forward's own names (torch's AdaptiveLogSoftmaxWithLoss
            # takes input_, target_)
            inputs = e.inputs if not e.module else tuple(inspect.signature(module.forward).parameters)[:2]
            yield (e.name, (e.name, e.functional, e.loss.__name__), inputs, module, valid[: len(inputs)],
                   ())
        elif e.functional and not e.module:
            yield (f"F.{e.functional}", (e.functional, e.loss.__name__), e.inputs, getattr(mF, e.functional),
                   valid[: len(e.inputs)], ())


@pytest.mark.parametrize("which", ["module", "functional"])
def test_torch_garbage(which):
    require("torch")
    import torch

    other = {"numpy": lambda a: a.numpy() if hasattr(a, "numpy") else a}
    if importlib.util.find_spec("jax") is not None and skip_jax() is None:
        import jax.numpy as jnp

        other["jax"] = lambda a: jnp.asarray(a.numpy())
    garbage = {**GARBAGE, **{f"other framework ({k})": v for k, v in other.items()},
               "two devices (meta)": lambda a: a.to("meta") if isinstance(a, torch.Tensor) else a}
    # every entry, the hand-written modules that own parameters (torch_parametric.py) too:
    # their forward calls multiloss.backends.torch.check_tensors
    problems, checked = _fuzz(list(_torch_entries(torch, which)), garbage)
    _report(problems, checked)


def skip_jax() -> str | None:
    from tests_conftest import skip_reason

    return skip_reason("jax")


# ----------------------------------------------------------------------------- keras


def _keras_entries(tf, which: str):
    import multiloss.keras as mk
    from multiloss.backends.keras_table import TABLE

    domains = _canonical_domains()
    for row in TABLE:
        checks = row.checks or ()
        domain = checks[0].domain if checks else domains.get(row.canonicals[0])
        if domain is None:
            continue
        arrays = [tf.constant(a.astype(np.float32)) if np.issubdtype(a.dtype, np.floating) else tf.constant(a)
                  for a in _valid_inputs(domain) if isinstance(a, np.ndarray)]
        pair = row.inputs == ("y_true", "y_pred")
        valid = [arrays[1], arrays[0]] if pair else arrays[: len(row.inputs)]
        names = (row.cls, row.fn, *row.canonicals)
        if which == "class" and row.cls and pair:
            kw = {"q": 0.5} if row.cls == "CategoricalGeneralizedCrossEntropy" else {}
            yield row.cls, names, row.inputs, getattr(mk, row.cls)(**kw), valid, ()
        elif which == "function":
            fn = getattr(mk, row.fn)
            need = {n: 0.5 for n, d in (row.fn_options or ()) if d is inspect.Parameter.empty}
            yield (row.fn, names, row.inputs, (lambda *a, f=fn, kw=need: f(*a, **kw)), valid, ())


@pytest.mark.parametrize("which", ["class", "function"])
def test_keras_garbage(which):
    require("tensorflow")
    pytest.importorskip("keras")
    import tensorflow as tf

    garbage = dict(GARBAGE)
    if which == "function" and importlib.util.find_spec("torch") is not None:
        # keras's classes convert a torch tensor to their backend's (accepted, as keras); the
        # functions dispatch on the arrays they get, so a torch tensor beside a TF one is refused
        import torch

        garbage["other framework (torch)"] = lambda a: torch.tensor(np.array(a))
        # torch arrays on two devices through the keras functions (keras dispatches on them)
    entries = list(_keras_entries(tf, which))
    problems, checked = _fuzz(entries, garbage)
    if which == "function" and importlib.util.find_spec("torch") is not None:
        import torch

        torch_entries = [(label, names, args, call, [torch.tensor(np.array(v)) for v in valid], opt)
                         for label, names, args, call, valid, opt in entries if len(args) == 2]
        more, n = _fuzz(torch_entries, {"two devices (meta)": lambda a: a.to("meta")})
        problems, checked = problems + more, checked + n
    _report(problems, checked)


# ----------------------------------------------------------------------------- jax


def _jax_entries(jnp):
    import multiloss.jax as mj
    from multiloss.backends.jax_table import TABLE

    domains = _canonical_domains()
    for e in TABLE:
        checks = e.checks or ()
        domain = checks[0].domain if checks else domains.get(e.canonical)
        if domain is None:
            continue
        valid = [jnp.asarray(a.astype(np.float32)) if np.issubdtype(a.dtype, np.floating) else jnp.asarray(a)
                 for a in _valid_inputs(domain) if isinstance(a, np.ndarray)][: len(e.names)]
        if len(valid) < len(e.names):
            continue
        optional = (e.names[1],) if e.target_default is None else ()
        # optax converts these with jnp.asarray (jax.nn.one_hot): another framework's array too
        optional += tuple(f"{n}:other" for n in e.converted)
        yield e.name, (e.name, e.canonical), e.names, getattr(mj, e.name), valid, optional


def test_jax_garbage():
    require("jax")
    import jax.numpy as jnp

    garbage = dict(GARBAGE)
    if importlib.util.find_spec("torch") is not None:
        import torch

        garbage["other framework (torch)"] = lambda a: torch.tensor(np.array(a))
    problems, checked = _fuzz(list(_jax_entries(jnp)), garbage)
    _report(problems, checked)


JAX_TWO_DEVICES = textwrap.dedent(
    r"""
    import json, sys
    import jax, numpy as np
    sys.path.insert(0, sys.argv[1])
    import tests.conftest  # noqa: F401  (registers tests_conftest)
    import tests.test_fuzz_inputs as F
    d = jax.devices()
    assert len(d) == 2, d
    # arrays committed to device 0, one argument to device 1 (an uncommitted array would follow
    # the committed one, in jax as in optax: accepted)
    entries = [(label, names, args, call, [jax.device_put(v, d[0]) for v in valid], opt)
               for label, names, args, call, valid, opt in F._jax_entries(jax.numpy)]
    problems, checked = F._fuzz(entries, {"two devices": lambda a: jax.device_put(a, d[1])})
    print("RESULT " + json.dumps({"problems": problems, "checked": checked}))
    """
)


def test_jax_two_devices():
    """Arrays committed to two devices (two forced host CPU devices, in a subprocess: XLA reads
    ``XLA_FLAGS`` once): the jax functions name themselves and the arguments."""
    require("jax")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    env.update(XLA_FLAGS="--xla_force_host_platform_device_count=2", CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, "-c", JAX_TWO_DEVICES, root], capture_output=True, text=True, env=env,
                          timeout=300, cwd=root)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"subprocess failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    out = json.loads(lines[-1][len("RESULT "):])
    _report(out["problems"], out["checked"])


# ----------------------------------------------------------------------------- canonical


def test_canonical_garbage():
    import multiloss
    from multiloss.conformance.runner import canonical_cases

    seen: set[str] = set()
    entries = []
    for case in canonical_cases():
        if case.loss in seen:
            continue
        seen.add(case.loss)
        fn = getattr(multiloss, case.loss)
        valid = [a for a in _valid_inputs(case.domain)]
        params = list(inspect.signature(fn).parameters)[: len(valid)]
        optional = tuple(p for p in params if inspect.signature(fn).parameters[p].default is None)
        entries.append((case.loss, (case.loss,), params, (lambda *a, f=fn, kw=dict(case.kwargs): f(*a, **kw)),
                        valid, optional))
    garbage = dict(GARBAGE)
    if importlib.util.find_spec("torch") is not None:
        import torch

        garbage["other framework (torch)"] = lambda a: torch.tensor(np.array(a)) if isinstance(a, np.ndarray) else a
    problems, checked = _fuzz(entries, garbage)
    _report(problems, checked)
