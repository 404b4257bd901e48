"""``multiloss.torch``: drop-in ``torch.nn`` loss modules computed by multiloss's single-source
losses, plus torch-style extras and weight penalties.

    import multiloss.torch as mt
    loss = mt.CrossEntropyLoss(weight=w, label_smoothing=0.1)(logits, labels)
    loss = loss + mt.l1_penalty(model, 1e-4) + mt.l2_penalty(model, 1e-4)

Classes mirrored from ``torch.nn`` (same names, constructor signatures and defaults,
including the legacy ``size_average``/``reduce``): MSELoss, L1Loss, SmoothL1Loss, HuberLoss,
BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss, KLDivLoss. Extras: FocalLoss,
SCELoss, MAPELoss, HingeLoss, CosineSimilarityLoss. Functional forms:
:mod:`multiloss.torch.functional`. All are generated from the table in
:mod:`multiloss.backends.torch`.
"""

# absolute imports only: inside this package, ``import torch`` is still the real torch
from multiloss.backends.torch import MODULES as _MODULES
from multiloss.backends.torch import TABLE, TorchLoss, l1_penalty, l2_penalty

from . import functional

MSELoss = _MODULES["MSELoss"]
L1Loss = _MODULES["L1Loss"]
SmoothL1Loss = _MODULES["SmoothL1Loss"]
HuberLoss = _MODULES["HuberLoss"]
BCELoss = _MODULES["BCELoss"]
BCEWithLogitsLoss = _MODULES["BCEWithLogitsLoss"]
CrossEntropyLoss = _MODULES["CrossEntropyLoss"]
NLLLoss = _MODULES["NLLLoss"]
KLDivLoss = _MODULES["KLDivLoss"]
FocalLoss = _MODULES["FocalLoss"]
SCELoss = _MODULES["SCELoss"]
MAPELoss = _MODULES["MAPELoss"]
HingeLoss = _MODULES["HingeLoss"]
CosineSimilarityLoss = _MODULES["CosineSimilarityLoss"]

__all__ = [*_MODULES, "l1_penalty", "l2_penalty", "functional", "TorchLoss", "TABLE"]
assert set(_MODULES) <= set(globals()), "every table entry must be exported"
