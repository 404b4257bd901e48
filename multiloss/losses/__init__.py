"""Canonical losses: one Array API function each, ``input`` (y_pred) first.

One module per family; a module's ``__all__`` *is* its list of losses. The package exports,
:data:`FAMILY` (loss name -> family) and, through :mod:`multiloss.catalogue`, ``multiloss
list`` and the porting tables are derived from those ``__all__`` lists: adding a loss to a
family module is all it takes to export it (see CONTRIBUTING.md, "Add a loss").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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
    "structured",
    "segmentation",
    "ranking",
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

if TYPE_CHECKING:  # the same exports, spelled out for type checkers (mypy, IDEs): one line per
    # family of FAMILIES (tests/test_typing.py keeps the two in step)
    from .classification import *  # noqa: F403
    from .embedding import *  # noqa: F403
    from .margin import *  # noqa: F403
    from .parametric import *  # noqa: F403
    from .probabilistic import *  # noqa: F403
    from .ranking import *  # noqa: F403
    from .regression import *  # noqa: F403
    from .regularization import *  # noqa: F403
    from .segmentation import *  # noqa: F403
    from .sequence import *  # noqa: F403
    from .structured import *  # noqa: F403

