"""The torch adapter's table: one :class:`Entry` per ``torch.nn`` loss (or torch-style extra).

Pure data, importable without torch (the catalogue, ``multiloss list`` and the porting tables
are derived from it); :mod:`multiloss.backends.torch` builds the ``nn.Module`` classes and the
functional forms from it, and :mod:`multiloss.conformance.natives_torch` pairs every row that
has a ``native`` with ``torch.nn``. Adding a torch loss = one :class:`Entry` here
(CONTRIBUTING.md, "Add a loss").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from .. import losses as _L
from ._rows import Check

__all__ = ["Entry", "TABLE", "REDUCTIONS", "LEGACY"]

REDUCTIONS = ("none", "mean", "sum")
LEGACY = ("size_average", "reduce")  # torch's deprecated reduction arguments
_REDUCTIONS = REDUCTIONS

# array options of the native checks (the runner converts them to the backend and dtype)
_N, _C = 8, 5  # the conformance domains' batch and class sizes
_CLASS_W = np.linspace(0.5, 2.0, _C)
_ELEM_W = np.linspace(0.1, 1.9, _N * _C).reshape(_N, _C)
_ROW_W = np.linspace(0.2, 1.8, _C)  # broadcasts over the batch
_POS_W = np.linspace(0.5, 3.0, _C)
_REDS = ({"reduction": "mean"}, {"reduction": "sum"}, {"reduction": "none"})


@dataclass(frozen=True)
class Entry:
    """One row of the adapter table.

    ``params``: the constructor's parameters after ``self``, in torch's order, as
    ``(name, default)``; include ``size_average``/``reduce`` exactly where torch has them.
    ``functional_params``: the functional form's parameters after ``(input, target)``
    (defaults to ``params``). ``rename``: torch argument name -> canonical argument name
    where they differ. ``buffers``: tensor-valued parameters (registered buffers).
    ``nullable``: number parameters that may also be ``None``. ``native``: the
    ``torch.nn`` class it mirrors ('' for the extras). ``inputs``: the array arguments of
    ``forward`` and of the functional form, in torch's order (``("input1", "input2",
    "target")`` for MarginRankingLoss). A parameter named ``"*"`` makes the ones after it
    keyword-only, as in torch's signature.

    Native conformance (held against ``torch.nn.<native>`` / ``torch.nn.functional.<functional>``
    by :mod:`multiloss.conformance.natives_torch`): ``checks`` grids for the module; when
    empty, the canonical loss's own conformance options (its ``@reference`` grids) are used,
    which speak torch's argument names already. ``functional_checks`` for the functional form;
    when empty, the first option set of each module check. ``module``: ``"module:Class"`` of
    a hand-written ``nn.Module`` (losses that own parameters) used instead of the generated
    class; such a row needs ``checks`` with a pairing in ``natives_torch.PAIRS``.
    """

    name: str
    functional: str
    loss: Callable[..., Any]
    params: tuple[tuple[str, Any], ...]
    functional_params: tuple[tuple[str, Any], ...] | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    buffers: tuple[str, ...] = ()
    nullable: tuple[str, ...] = ()
    reductions: tuple[str, ...] = _REDUCTIONS
    native: str = ""
    summary: str = ""
    shapes: str = ""
    inputs: tuple[str, ...] = ("input", "target")
    checks: tuple[Check, ...] = ()
    functional_checks: tuple[Check, ...] = ()
    module: str = ""

    @property
    def fparams(self) -> tuple[tuple[str, Any], ...]:
        return self.params if self.functional_params is None else self.functional_params


_SA = (("size_average", None), ("reduce", None))
_RED = (("reduction", "mean"),)

# ------------------------------------------------------------------------------------ table
# Signatures copied from torch/nn/modules/loss.py and torch/nn/functional.py (torch 2.x).
TABLE: tuple[Entry, ...] = (
    Entry("MSELoss", "mse_loss", _L.mse_loss, (*_SA, *_RED),
          functional_params=(*_SA, *_RED, ("weight", None)), buffers=("weight",), native="MSELoss",
          functional_checks=(Check("regression", ({}, {"weight": _ELEM_W}, {"weight": _ELEM_W, "reduction": "sum"})),),
          summary="Mean squared error, :math:`(x - y)^2`.",
          shapes="input: any shape; target: the same shape."),
    Entry("L1Loss", "l1_loss", _L.l1_loss, (*_SA, *_RED),
          functional_params=(*_SA, *_RED, ("weight", None)), buffers=("weight",), native="L1Loss",
          functional_checks=(Check("regression", ({}, {"weight": _ELEM_W}, {"weight": _ELEM_W, "reduction": "none"})),),
          summary="Mean absolute error, :math:`|x - y|`.",
          shapes="input: any shape; target: the same shape."),
    Entry("SmoothL1Loss", "smooth_l1_loss", _L.smooth_l1_loss, (*_SA, *_RED, ("beta", 1.0)),
          native="SmoothL1Loss", summary="Smooth L1 (Huber divided by ``beta``).",
          checks=(Check("regression", (*_REDS, {"beta": 0.5}, {"beta": 2.0}, {"beta": 0.0},
                                       {"beta": 0.5, "reduction": "none"})),),
          functional_checks=(Check("regression", ({"beta": 0.5},)),),
          shapes="input: any shape; target: the same shape."),
    # torch's HuberLoss has no size_average/reduce; F.huber_loss also takes a weight
    Entry("HuberLoss", "huber_loss", _L.huber_loss, (*_RED, ("delta", 1.0)),
          functional_params=(*_RED, ("delta", 1.0), ("weight", None)), buffers=("weight",),
          native="HuberLoss", summary="Huber loss with threshold ``delta``.",
          checks=(Check("regression", (*_REDS, {"delta": 0.5}, {"delta": 2.0}, {"delta": 0.5, "reduction": "sum"})),),
          functional_checks=(Check("regression", ({"delta": 2.0}, {"weight": _ELEM_W},
                                                  {"weight": _ELEM_W, "reduction": "sum"})),),
          shapes="input: any shape; target: the same shape."),
    Entry("BCELoss", "binary_cross_entropy", _L.binary_cross_entropy, (("weight", None), *_SA, *_RED),
          buffers=("weight",), native="BCELoss",
          checks=(Check("probabilities", (*_REDS, {"weight": _ELEM_W}, {"weight": _ROW_W},
                                          {"weight": _ROW_W, "reduction": "none"})),
                  Check("probabilities_soft", ({}, {"reduction": "sum"}))),
          functional_checks=(Check("probabilities", ({}, {"weight": _ROW_W})),),
          summary="Binary cross-entropy on probabilities (each log clamped at -100, as torch).",
          shapes="input: probabilities, any shape; target: the same shape; weight: broadcastable."),
    Entry("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", _L.binary_cross_entropy_with_logits,
          (("weight", None), *_SA, *_RED, ("pos_weight", None)), buffers=("weight", "pos_weight"),
          native="BCEWithLogitsLoss", summary="Binary cross-entropy on logits (``log_sigmoid`` based).",
          checks=(Check("logits_binary", (*_REDS, {"pos_weight": _POS_W}, {"weight": _ELEM_W},
                                          {"weight": _ROW_W, "pos_weight": _POS_W},
                                          {"weight": _ELEM_W, "pos_weight": _POS_W, "reduction": "none"})),
                  Check("logits_binary_soft", ({}, {"pos_weight": _POS_W, "reduction": "sum"}))),
          functional_checks=(Check("logits_binary", ({}, {"pos_weight": _POS_W, "weight": _ELEM_W})),),
          shapes="input: logits, any shape; target: the same shape; pos_weight: along the last axis."),
    Entry("CrossEntropyLoss", "cross_entropy", _L.cross_entropy,
          (("weight", None), ("size_average", None), ("ignore_index", -100), ("reduce", None), *_RED,
           ("label_smoothing", 0.0)),
          buffers=("weight",), native="CrossEntropyLoss",
          checks=(
              Check("class_index", (*_REDS, {"weight": _CLASS_W}, {"weight": _CLASS_W, "reduction": "sum"},
                                    {"weight": _CLASS_W, "reduction": "none"}, {"label_smoothing": 0.1},
                                    {"label_smoothing": 0.1, "reduction": "none"},
                                    {"weight": _CLASS_W, "label_smoothing": 0.2}, {"ignore_index": 3},
                                    {"ignore_index": 3, "weight": _CLASS_W, "label_smoothing": 0.1})),
              Check("class_index_ignore", ({}, {"reduction": "sum"}, {"reduction": "none"}, {"weight": _CLASS_W},
                                           {"weight": _CLASS_W, "label_smoothing": 0.1},
                                           {"label_smoothing": 0.1, "reduction": "sum"})),
              Check("class_index_3d", ({}, {"reduction": "none"}, {"weight": _CLASS_W},
                                       {"label_smoothing": 0.1, "weight": _CLASS_W}, {"ignore_index": 2})),
              Check("class_prob", (*_REDS, {"weight": _CLASS_W}, {"label_smoothing": 0.1},
                                   {"weight": _CLASS_W, "label_smoothing": 0.2, "reduction": "sum"})),
              Check("class_onehot", ({}, {"label_smoothing": 0.1})),
          ),
          functional_checks=(Check("class_index", ({}, {"weight": _CLASS_W, "label_smoothing": 0.1})),
                             Check("class_index_ignore", ({"reduction": "sum"},)),
                             Check("class_prob", ({"label_smoothing": 0.1},))),
          summary="Softmax cross-entropy of logits; class-index or class-probability targets.",
          shapes="input: (N, C), (N, C, d1, ...) or (C,); target: (N), (N, d1, ...) or () class "
                 "indices, or probabilities of the input's shape; weight: (C,)."),
    Entry("NLLLoss", "nll_loss", _L.nll_loss,
          (("weight", None), ("size_average", None), ("ignore_index", -100), ("reduce", None), *_RED),
          buffers=("weight",), native="NLLLoss",
          # torch's nll_loss takes any real input; the class_index logits serve as input
          checks=(Check("class_index", (*_REDS, {"weight": _CLASS_W}, {"weight": _CLASS_W, "reduction": "none"},
                                        {"ignore_index": 3})),
                  Check("class_index_ignore", ({}, {"weight": _CLASS_W}, {"reduction": "sum"}, {"reduction": "none"})),
                  Check("class_index_3d", ({}, {"weight": _CLASS_W, "reduction": "sum"}, {"reduction": "none"}))),
          functional_checks=(Check("class_index_ignore", ({"weight": _CLASS_W},)),),
          summary="Negative log-likelihood of log-probabilities.",
          shapes="input: log-probabilities (N, C), (N, C, d1, ...) or (C,); target: class indices "
                 "(N), (N, d1, ...) or (); weight: (C,)."),
    Entry("KLDivLoss", "kl_div", _L.kl_div, (*_SA, *_RED, ("log_target", False)),
          reductions=("none", "mean", "sum", "batchmean"), native="KLDivLoss",
          checks=(Check("log_probs", ({"reduction": "batchmean"}, {"reduction": "sum"}, {"reduction": "none"},
                                      {"reduction": "mean"}, {"log_target": True},
                                      {"log_target": True, "reduction": "batchmean"},
                                      {"log_target": True, "reduction": "none"})),),
          functional_checks=(Check("log_probs", ({"reduction": "batchmean"}, {"log_target": True, "reduction": "sum"})),),
          summary="Pointwise KL divergence; ``input`` holds log-probabilities. Use "
                  "``reduction='batchmean'`` for the true KL per sample.",
          shapes="input: (N, *) log-probabilities; target: the same shape."),
    # ---- extras (no torch twin), torch style: options first, then reduction
    Entry("FocalLoss", "focal_loss", _L.focal_loss,
          (("alpha", 0.75), ("gamma", 2.0), ("from_logits", False), *_RED), nullable=("alpha",),
          summary="Binary focal loss (Lin et al. 2017) on probabilities, or logits with "
                  "``from_logits=True``; the seed's defaults alpha=0.75, gamma=2.",
          shapes="input: probabilities (or logits), any shape; target: the same shape, in [0, 1]."),
    Entry("SCELoss", "sce_loss", _L.sce_loss, (("alpha", 0.1), ("beta", 1.0), *_RED),
          summary="Symmetric cross-entropy (Wang et al. 2019) of logits, class axis 1.",
          shapes="input: logits (N, C, ...); target: class indices (N, ...) or probabilities."),
    Entry("MAPELoss", "mape_loss", _L.mean_absolute_percentage_error, (("eps", 1e-7), *_RED),
          rename={"eps": "epsilon"},
          summary="Mean absolute percentage error, :math:`100 |y - x| / \\max(|y|, eps)`.",
          shapes="input: any shape; target: the same shape."),
    Entry("HingeLoss", "hinge_loss", _L.hinge, _RED,
          summary="Hinge :math:`\\max(1 - y x, 0)`, labels in {-1, 1} (or {0, 1}, mapped).",
          shapes="input: scores, any shape; target: the same shape."),
    # torch's nn.CosineSimilarity(dim=1) convention; eps bounds the *squared* norm (keras)
    Entry("CosineSimilarityLoss", "cosine_similarity_loss", _L.cosine_similarity,
          (("dim", 1), ("eps", 1e-12), *_RED), rename={"dim": "axis", "eps": "epsilon"},
          summary="Negative cosine similarity along ``dim`` (minimising aligns the vectors): "
                  "``-torch.nn.CosineSimilarity(dim)`` up to the zero-vector guard.",
          shapes="input: (N, D, ...); target: the same shape; output without ``dim``."),
)
