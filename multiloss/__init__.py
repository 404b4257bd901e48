"""multiloss: loss functions written once against the Array API standard, served natively
to PyTorch (``multiloss.torch``), Keras 3/TensorFlow (``multiloss.keras``), JAX
(``multiloss.jax``) and NumPy (the functions here, on any Array API arrays).

``import multiloss`` imports no framework: adapters import theirs when you import them.
"""

from . import _ops as ops
from ._namespace import array_namespace
from .catalogue import CATALOGUE
from .custom import loss
from .losses import *  # noqa: F403
from .losses import __all__ as _losses_all

__version__ = "0.1.0"

__all__ = ["array_namespace", "ops", "loss", "CATALOGUE", *_losses_all]
