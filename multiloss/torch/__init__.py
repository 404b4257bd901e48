"""``multiloss.torch``: drop-in ``torch.nn`` loss modules computed by multiloss's single-source
losses, plus torch-style extras and weight penalties.

    import multiloss.torch as mt
    loss = mt.CrossEntropyLoss(weight=w, label_smoothing=0.1)(logits, labels)
    loss = loss + mt.l1_penalty(model, 1e-4) + mt.l2_penalty(model, 1e-4)

Every ``torch.nn`` loss class (same names, constructor signatures and defaults, including the
legacy ``size_average``/``reduce``) and the torch-style extras; ``multiloss list`` shows
them all. Functional forms: :mod:`multiloss.torch.functional`. All are generated from the
table in :mod:`multiloss.backends.torch_table`: the names exported here are that table's.
"""

# absolute imports only: inside this package, ``import torch`` is still the real torch
from multiloss.backends.torch import MODULES as _MODULES
from multiloss.backends.torch import TABLE, TorchLoss, l1_penalty, l2_penalty

from . import functional

globals().update(_MODULES)

__all__ = [*_MODULES, "l1_penalty", "l2_penalty", "functional", "TorchLoss", "TABLE"]
