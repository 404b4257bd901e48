"""multiloss: loss functions written once against the Array API standard, served natively
to PyTorch (``multiloss.torch``), Keras 3/TensorFlow (``multiloss.keras``), JAX
(``multiloss.jax``) and NumPy (the functions here, on any Array API arrays).

``import multiloss`` imports no framework: adapters import theirs when you import them.
"""

from typing import TYPE_CHECKING

from . import _ops as ops
from .checks import get_value_checks, set_value_checks, value_checks
from ._namespace import array_namespace
from .catalogue import CATALOGUE
from .custom import loss
from .losses import *  # noqa: F403
from .losses import __all__ as _losses_all

if TYPE_CHECKING:  # the canonical losses, spelled out for type checkers (the star import above
    # follows a dynamic __all__); one line per family of multiloss.losses.FAMILIES (tests/test_typing.py)
    from .losses.classification import *  # noqa: F403
    from .losses.embedding import *  # noqa: F403
    from .losses.margin import *  # noqa: F403
    from .losses.parametric import *  # noqa: F403
    from .losses.probabilistic import *  # noqa: F403
    from .losses.ranking import *  # noqa: F403
    from .losses.regression import *  # noqa: F403
    from .losses.regularization import *  # noqa: F403
    from .losses.segmentation import *  # noqa: F403
    from .losses.sequence import *  # noqa: F403
    from .losses.structured import *  # noqa: F403

__version__ = "0.1.0"

__all__ = ["array_namespace", "ops", "loss", "CATALOGUE", "port", "PortError", "set_value_checks",
           "get_value_checks", "value_checks", *_losses_all]


def __getattr__(name: str):  # PEP 562: multiloss.port / PortError on first use (no framework import)
    if name in ("port", "PortError"):
        import importlib

        mod = importlib.import_module(".port", __name__)  # callable: multiloss.port(obj, to=...)
        return mod if name == "port" else mod.PortError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
