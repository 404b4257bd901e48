"""Canonical losses: one Array API function each, ``input`` (y_pred) first.

One module per family; a module's ``__all__`` *is* its list of losses. The package exports,
:data:`FAMILY` (loss name -> family) and, through :mod:`multiloss.catalogue`, ``multiloss
list`` and the porting tables are derived from those ``__all__`` lists: adding a loss to a
family module is all it takes to export it (see CONTRIBUTING.md, "Add a loss").
"""

from __future__ import annotations

import importlib

# the families, in the order `multiloss list` shows them; a new family module is added here
FAMILIES: tuple[str, ...] = (
    "regression",
    "classification",
    "probabilistic",
    "embedding",
    "margin",
    "regularization",
    "parametric",
    "sequence",
)

FAMILY: dict[str, str] = {}
__all__: list[str] = []
for _family in FAMILIES:
    _module = importlib.import_module(f"{__name__}.{_family}")
    for _name in _module.__all__:
        if _name in FAMILY:
            raise ImportError(f"multiloss.losses: {_name!r} is defined by both {FAMILY[_name]!r} and {_family!r}")
        FAMILY[_name] = _family
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _family, _module, _name
