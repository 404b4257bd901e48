"""torch adapter conformance: ``multiloss.torch.X(**kw)`` against ``torch.nn.X(**kw)``.

For every class of :mod:`multiloss.torch` that has a ``torch.nn`` twin, over an option grid
(reductions, ``weight``, ``ignore_index``, ``label_smoothing``, ``pos_weight``,
``beta``/``delta``, ``log_target``, class-index vs probability targets, ``(N, C, d)`` input),
the value and the gradient w.r.t. the input must equal torch's in float32 and float64. The
functional forms (:mod:`multiloss.torch.functional`) are held against
``torch.nn.functional`` the same way, including the ``weight=`` that only the functional
``mse_loss``/``l1_loss``/``huber_loss`` take.

The extras (FocalLoss, SCELoss, MAPELoss, HingeLoss, CosineSimilarityLoss) have no torch
twin and are not listed here: the canonical cases check them against float64 references.

Imports torch lazily (inside :func:`native_cases`), so importing this module is free.
"""

from __future__ import annotations

import functools

import numpy as np

from .domains import C, N
from .spec import NativeCase

__all__ = ["native_cases"]

_RED = ("mean", "sum", "none")
_CLASS_W = np.linspace(0.5, 2.0, C)
_ELEM_W = np.linspace(0.1, 1.9, N * C).reshape(N, C)
_ROW_W = np.linspace(0.2, 1.8, C)  # broadcasts over the batch
_POS_W = np.linspace(0.5, 3.0, C)
# the domain each entry's grid is mostly on; other domains are named in the case label
_DEFAULT_DOMAINS = {"regression", "probabilities", "logits_binary", "class_index", "log_probs"}


def _label(kw: dict) -> str:
    # array options by shape ("weight:8x5" is elementwise, "weight:5" per class/column)
    return ",".join(
        f"{k}:{'x'.join(map(str, v.shape))}" if isinstance(v, np.ndarray) else f"{k}={v}" for k, v in kw.items()
    )


def native_cases() -> list[NativeCase]:
    import torch
    import torch.nn.functional as TF

    import multiloss.torch as mt
    import multiloss.torch.functional as mF

    def module_pair(name):
        # array options arrive as tensors (the runner converts them); both store them as buffers
        return getattr(mt, name), getattr(torch.nn, name)

    def functional_pair(name):
        ours, native = getattr(mF, name), getattr(TF, name)
        return (lambda **kw: functools.partial(ours, **kw)), (lambda **kw: functools.partial(native, **kw))

    cases: list[NativeCase] = []

    def grid(name, domain, options, functional=False):
        ours, native = functional_pair(name) if functional else module_pair(name)
        entry = f"F.{name}" if functional else name
        for kw in options:
            label = _label(kw) + ("" if domain in _DEFAULT_DOMAINS else f"@{domain}")
            cases.append(NativeCase("torch", entry, ours, native, domain, kw, label))

    reds = [{"reduction": r} for r in _RED]

    # ---- regression
    for name in ("MSELoss", "L1Loss"):
        grid(name, "regression", reds)
    grid("SmoothL1Loss", "regression", reds + [{"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0}, {"beta": 0.5, "reduction": "none"}])
    grid("HuberLoss", "regression", reds + [{"delta": 0.5}, {"delta": 2.0}, {"delta": 0.5, "reduction": "sum"}])

    # ---- binary
    grid("BCELoss", "probabilities", reds + [{"weight": _ELEM_W}, {"weight": _ROW_W}, {"weight": _ROW_W, "reduction": "none"}])
    grid("BCELoss", "probabilities_soft", [{}, {"reduction": "sum"}])
    grid("BCEWithLogitsLoss", "logits_binary",
         reds + [{"pos_weight": _POS_W}, {"weight": _ELEM_W}, {"weight": _ROW_W, "pos_weight": _POS_W},
                 {"weight": _ELEM_W, "pos_weight": _POS_W, "reduction": "none"}])
    grid("BCEWithLogitsLoss", "logits_binary_soft", [{}, {"pos_weight": _POS_W, "reduction": "sum"}])

    # ---- multiclass: index targets, ignore_index, (N, C, d), probability targets
    ce_index = reds + [
        {"weight": _CLASS_W},
        {"weight": _CLASS_W, "reduction": "sum"},
        {"weight": _CLASS_W, "reduction": "none"},
        {"label_smoothing": 0.1},
        {"label_smoothing": 0.1, "reduction": "none"},
        {"weight": _CLASS_W, "label_smoothing": 0.2},
        {"ignore_index": 3},
        {"ignore_index": 3, "weight": _CLASS_W, "label_smoothing": 0.1},
    ]
    grid("CrossEntropyLoss", "class_index", ce_index)
    grid("CrossEntropyLoss", "class_index_ignore",
         [{}, {"reduction": "sum"}, {"reduction": "none"}, {"weight": _CLASS_W},
          {"weight": _CLASS_W, "label_smoothing": 0.1}, {"label_smoothing": 0.1, "reduction": "sum"}])
    grid("CrossEntropyLoss", "class_index_3d",
         [{}, {"reduction": "none"}, {"weight": _CLASS_W}, {"label_smoothing": 0.1, "weight": _CLASS_W},
          {"ignore_index": 2}])
    grid("CrossEntropyLoss", "class_prob",
         reds + [{"weight": _CLASS_W}, {"label_smoothing": 0.1}, {"weight": _CLASS_W, "label_smoothing": 0.2, "reduction": "sum"}])
    grid("CrossEntropyLoss", "class_onehot", [{}, {"label_smoothing": 0.1}])

    # NLLLoss: torch's nll_loss takes any real input; the class_index logits serve as input
    grid("NLLLoss", "class_index", reds + [{"weight": _CLASS_W}, {"weight": _CLASS_W, "reduction": "none"}, {"ignore_index": 3}])
    grid("NLLLoss", "class_index_ignore", [{}, {"weight": _CLASS_W}, {"reduction": "sum"}, {"reduction": "none"}])
    grid("NLLLoss", "class_index_3d", [{}, {"weight": _CLASS_W, "reduction": "sum"}, {"reduction": "none"}])

    # ---- divergence
    grid("KLDivLoss", "log_probs",
         [{"reduction": r} for r in ("batchmean", "sum", "none", "mean")]
         + [{"log_target": True}, {"log_target": True, "reduction": "batchmean"}, {"log_target": True, "reduction": "none"}])

    # ---- functional forms (same table; weight= exists only on these for mse/l1/huber)
    grid("mse_loss", "regression", [{}, {"weight": _ELEM_W}, {"weight": _ELEM_W, "reduction": "sum"}], functional=True)
    grid("l1_loss", "regression", [{}, {"weight": _ELEM_W}, {"weight": _ELEM_W, "reduction": "none"}], functional=True)
    grid("smooth_l1_loss", "regression", [{"beta": 0.5}], functional=True)
    grid("huber_loss", "regression", [{"delta": 2.0}, {"weight": _ELEM_W}, {"weight": _ELEM_W, "reduction": "sum"}], functional=True)
    grid("binary_cross_entropy", "probabilities", [{}, {"weight": _ROW_W}], functional=True)
    grid("binary_cross_entropy_with_logits", "logits_binary", [{}, {"pos_weight": _POS_W, "weight": _ELEM_W}], functional=True)
    grid("cross_entropy", "class_index", [{}, {"weight": _CLASS_W, "label_smoothing": 0.1}], functional=True)
    grid("cross_entropy", "class_index_ignore", [{"reduction": "sum"}], functional=True)
    grid("cross_entropy", "class_prob", [{"label_smoothing": 0.1}], functional=True)
    grid("nll_loss", "class_index_ignore", [{"weight": _CLASS_W}], functional=True)
    grid("kl_div", "log_probs", [{"reduction": "batchmean"}, {"log_target": True, "reduction": "sum"}], functional=True)
    return cases
