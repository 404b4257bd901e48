"""The value-check switch: which checks of array *contents* run, and how (docs/checks.md).

Shape and dtype checks are static: they always run, at call time and at trace time. Value
checks (class labels in range, probabilities in [0, 1], counts >= 0, lengths in range ...)
need the values, and reading an accelerator array's values on the host synchronises the
device (a stall of the whole CUDA stream), so where and how they run is a setting:

``"auto"`` (the default)
    Host arrays (NumPy, ``array_api_strict``, CPU torch, eager CPU TensorFlow, concrete
    CPU jax) are checked by reading their values, with exact messages. Accelerator arrays
    are checked *on the device* where the framework has an asynchronous assertion (torch:
    ``torch._assert_async``), else not at all: never a host read-back. Traced code
    (``jax.jit``, ``tf.function``, ``torch.compile``): no value checks.
``"strict"``
    As ``"auto"``, and accelerator arrays are read back too (exact messages, one device
    synchronisation per check): for debugging.
``"traced"``
    As ``"auto"``, plus checks that survive tracing: ``jax.experimental.checkify``
    checks under jax transformations (reported when the function is wrapped with
    ``checkify.checkify``; a no-op under a plain ``jax.jit``), graph ``tf.debugging.Assert``
    ops inside ``tf.function`` (XLA drops them under ``jit_compile=True``), and
    ``torch._assert_async`` in ``torch.compile`` graphs.
``"off"``
    No value checks.

The process-wide default comes from the environment variable ``MULTILOSS_VALUE_CHECKS``
(read once, when :mod:`multiloss` is imported), else ``"auto"``; :func:`set_value_checks`
changes it and :func:`value_checks` overrides it in a ``with`` block, for the current thread
(a :class:`threading.local`, which ``torch.compile`` traces and guards on: a
:class:`contextvars.ContextVar` is a graph break under dynamo).

The mode is read when a loss runs, or when it is traced: ``jax.jit`` and ``tf.function``
cache traces without it (set the mode before a jitted function's first call), while
``torch.compile`` guards on it and recompiles when it changes.

Imports no framework.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Iterator

__all__ = ["MODES", "ENV_VAR", "set_value_checks", "get_value_checks", "value_checks"]

MODES: tuple[str, ...] = ("auto", "strict", "traced", "off")
ENV_VAR = "MULTILOSS_VALUE_CHECKS"


def _validate(mode: Any, where: str) -> str:
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(
            f"{where}: the value-check mode must be one of {', '.join(repr(m) for m in MODES)}; got {mode!r}"
        )
    return mode


def _from_environment() -> str:
    raw = os.environ.get(ENV_VAR, "").strip()
    return _validate(raw.lower(), f"environment variable {ENV_VAR}") if raw else "auto"


_default: str = _from_environment()
_local = threading.local()  # .mode: the innermost value_checks block of this thread


def get_value_checks() -> str:
    """The value-check mode in force here: the innermost :func:`value_checks` block of this
    thread, else the process-wide default (:func:`set_value_checks`, else
    ``MULTILOSS_VALUE_CHECKS``, else ``"auto"``)."""
    return getattr(_local, "mode", None) or _default


def set_value_checks(mode: str) -> str:
    """Set the process-wide value-check mode (``"auto"``, ``"strict"``, ``"traced"`` or
    ``"off"``) and return the previous one. A :func:`value_checks` block still overrides it."""
    global _default
    previous, _default = _default, _validate(mode, "set_value_checks")
    return previous


@contextlib.contextmanager
def value_checks(mode: str) -> Iterator[str]:
    """``with multiloss.value_checks("off"): ...``: the value-check mode inside the block (this
    thread only; nested blocks restore the outer mode on exit)."""
    mode = _validate(mode, "value_checks")
    previous = getattr(_local, "mode", None)
    _local.mode = mode
    try:
        yield mode
    finally:
        _local.mode = previous


@contextlib.contextmanager
def _as_accelerator(xp: Any) -> Iterator[None]:
    """Test hook (private): inside the block, arrays of namespace ``xp`` count as accelerator
    arrays (``_ops.is_host`` is false for them), so the CPU runs the code path of a GPU: checks
    on the device or skipped, and never a host read in ``"auto"`` mode. Not thread-safe."""
    from . import _ops

    name = xp.__name__
    previous = _ops.override_for(xp, "is_host")
    _ops.register(name, is_host=lambda x: False)
    try:
        yield
    finally:
        if previous is None:
            del _ops._OVERRIDES[name]["is_host"]
        else:
            _ops.register(name, is_host=previous)
