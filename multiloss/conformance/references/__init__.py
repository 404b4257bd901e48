"""Independent float64 references of the canonical losses, one module per family of
:mod:`multiloss.losses` (same module names), each reference registering its conformance
options with :func:`reference`. :data:`CASES` collects them all.

Written from the formulas in torch / keras / optax documentation and the papers, with plain
Python loops over samples where the semantics are subtle (class weights, ignore_index, label
smoothing), and without any multiloss code.
"""

from __future__ import annotations

import importlib

from ...losses import FAMILIES
from ._base import CASES, reference

__all__ = ["CASES", "reference"]

for _family in FAMILIES:
    try:
        _module = importlib.import_module(f"{__name__}.{_family}")
    except ModuleNotFoundError as exc:  # a family without references (its losses fail the coverage test)
        if exc.name != f"{__name__}.{_family}":
            raise
        continue
    for _name, _value in vars(_module).items():
        if callable(_value) and not _name.startswith("_") and getattr(_value, "__module__", "") == _module.__name__:
            globals()[_name] = _value
            __all__.append(_name)
del _family, _module
