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

# array options of the native checks (the runner converts them to the backend and dtype)
_N, _C = 8, 5  # the conformance domains' batch and class sizes
_CLASS_W = np.linspace(0.5, 2.0, _C)
_ELEM_W = np.linspace(0.1, 1.9, _N * _C).reshape(_N, _C)
_ROW_W = np.linspace(0.2, 1.8, _C)  # broadcasts over the batch
_POS_W = np.linspace(0.5, 3.0, _C)
_REDS = ({"reduction": "mean"}, {"reduction": "sum"}, {"reduction": "none"})
_LIN_BIAS = np.linspace(-0.5, 0.7, _C)  # linear_cross_entropy's linear_bias on the linear_* domains
_F64_F32 = ("float64", "float32")  # for natives without CPU half-precision kernels


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
    reductions: tuple[str, ...] = REDUCTIONS
    native: str = ""
    summary: str = ""
    shapes: str = ""
    inputs: tuple[str, ...] = ("input", "target")
    checks: tuple[Check, ...] = ()
    functional_checks: tuple[Check, ...] = ()
    module: str = ""
    # input policy (docs/input-policy.md), torch's own per loss: ``host_inputs`` may be Python
    # values (every other input must be a torch.Tensor, as torch requires); ``promote``: "all" =
    # input and target promoted to torch.result_type (integer predictions too: mse/l1/...),
    # "any" = the same, an integer pair in the default float dtype (poisson_nll_loss),
    # "float" = the same for floating dtypes only (kl_div: "Integral inputs not supported"),
    # "float_input" = a floating target promotes with the input, "target" = computed in a
    # floating target's dtype (bce_with_logits), "" = computed in the input's dtype
    # (multiloss.backends.torch._promote); ``same_dtype``: arguments that must have the input's
    # dtype (torch: "expected scalar type Float but found Double")
    host_inputs: tuple[str, ...] = ()
    promote: str = ""
    same_dtype: tuple[str, ...] = ()
    cast_to_input: tuple[str, ...] = ()  # tensor options cast to the input's dtype (BCE's weight)

    @property
    def fparams(self) -> tuple[tuple[str, Any], ...]:
        return self.params if self.functional_params is None else self.functional_params


_SA = (("size_average", None), ("reduce", None))
_RED = (("reduction", "mean"),)

# ------------------------------------------------------------------------------------ table
# Signatures copied from torch/nn/modules/loss.py and torch/nn/functional.py (torch 2.x).
TABLE: tuple[Entry, ...] = (
    Entry("MSELoss", "mse_loss", _L.mse_loss, (*_SA, *_RED),
          functional_params=(*_SA, *_RED, ("weight", None)), buffers=("weight",), native="MSELoss", promote="all",
          functional_checks=(Check("regression", ({}, {"weight": _ELEM_W}, {"weight": _ELEM_W, "reduction": "sum"})),),
          summary="Mean squared error, :math:`(x - y)^2`.",
          shapes="input: any shape; target: the same shape."),
    Entry("L1Loss", "l1_loss", _L.l1_loss, (*_SA, *_RED),
          functional_params=(*_SA, *_RED, ("weight", None)), buffers=("weight",), native="L1Loss", promote="all",
          functional_checks=(Check("regression", ({}, {"weight": _ELEM_W}, {"weight": _ELEM_W, "reduction": "none"})),),
          summary="Mean absolute error, :math:`|x - y|`.",
          shapes="input: any shape; target: the same shape."),
    Entry("SmoothL1Loss", "smooth_l1_loss", _L.smooth_l1_loss, (*_SA, *_RED, ("beta", 1.0)),
          native="SmoothL1Loss", promote="all", summary="Smooth L1 (Huber divided by ``beta``).",
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
          buffers=("weight",), native="BCELoss", same_dtype=("target",), cast_to_input=("weight",),
          checks=(Check("probabilities", (*_REDS, {"weight": _ELEM_W}, {"weight": _ROW_W},
                                          {"weight": _ROW_W, "reduction": "none"})),
                  Check("probabilities_soft", ({}, {"reduction": "sum"}))),
          functional_checks=(Check("probabilities", ({}, {"weight": _ROW_W})),),
          summary="Binary cross-entropy on probabilities (each log clamped at -100, as torch).",
          shapes="input: probabilities, any shape; target: the same shape; weight: broadcastable."),
    Entry("BCEWithLogitsLoss", "binary_cross_entropy_with_logits", _L.binary_cross_entropy_with_logits,
          (("weight", None), *_SA, *_RED, ("pos_weight", None)), buffers=("weight", "pos_weight"),
          native="BCEWithLogitsLoss", promote="target", cast_to_input=("weight", "pos_weight"),
          summary="Binary cross-entropy on logits (``log_sigmoid`` based).",
          checks=(Check("logits_binary", (*_REDS, {"pos_weight": _POS_W}, {"weight": _ELEM_W},
                                          {"weight": _ROW_W, "pos_weight": _POS_W},
                                          {"weight": _ELEM_W, "pos_weight": _POS_W, "reduction": "none"})),
                  Check("logits_binary_soft", ({}, {"pos_weight": _POS_W, "reduction": "sum"}))),
          functional_checks=(Check("logits_binary", ({}, {"pos_weight": _POS_W, "weight": _ELEM_W})),),
          shapes="input: logits, any shape; target: the same shape; pos_weight: along the last axis."),
    Entry("CrossEntropyLoss", "cross_entropy", _L.cross_entropy,
          (("weight", None), ("size_average", None), ("ignore_index", -100), ("reduce", None), *_RED,
           ("label_smoothing", 0.0), ("*", None), ("lean_memory", False)),
          buffers=("weight",), native="CrossEntropyLoss", same_dtype=("weight",),
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
          buffers=("weight",), native="NLLLoss", same_dtype=("weight",),
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
          reductions=("none", "mean", "sum", "batchmean"), native="KLDivLoss", promote="float",
          checks=(Check("log_probs", ({"reduction": "batchmean"}, {"reduction": "sum"}, {"reduction": "none"},
                                      {"reduction": "mean"}, {"log_target": True},
                                      {"log_target": True, "reduction": "batchmean"},
                                      {"log_target": True, "reduction": "none"})),),
          functional_checks=(Check("log_probs", ({"reduction": "batchmean"}, {"log_target": True, "reduction": "sum"})),),
          summary="Pointwise KL divergence; ``input`` holds log-probabilities. Use "
                  "``reduction='batchmean'`` for the true KL per sample.",
          shapes="input: (N, *) log-probabilities; target: the same shape."),
    # module checks: the canonical losses' @reference grids (torch's argument names); torch's
    # PoissonNLLLoss.forward names its first argument log_input, the functional form input
    Entry("PoissonNLLLoss", "poisson_nll_loss", _L.poisson_nll_loss,
          (("log_input", True), ("full", False), ("size_average", None), ("eps", 1e-8), ("reduce", None), *_RED),
          native="PoissonNLLLoss", promote="any",
          functional_checks=(Check("poisson_log_rate", ({"full": True, "reduction": "none"},)),
                             Check("poisson_rate", ({"log_input": False, "eps": 0.1},))),
          summary="Poisson negative log-likelihood, :math:`e^x - y x` (log-rates) or "
                  ":math:`x - y \\log(x + eps)`; ``full`` adds Stirling's term where :math:`y > 1`.",
          shapes="input: any shape; target: counts, broadcastable to it."),
    Entry("GaussianNLLLoss", "gaussian_nll_loss", _L.gaussian_nll_loss,
          (("*", None), ("full", False), ("eps", 1e-6), *_RED),
          functional_params=(("full", False), ("eps", 1e-6), *_RED), native="GaussianNLLLoss",
          inputs=("input", "target", "var"), host_inputs=("var",),
          functional_checks=(Check("gaussian_var_small", ({"eps": 0.05, "full": True, "reduction": "none"},)),
                             Check("gaussian_var_per_sample", ({},))),
          summary="Gaussian negative log-likelihood, :math:`\\tfrac12(\\log v + (x - y)^2 / v)`, "
                  ":math:`v = \\max(var, eps)` (gradient straight through the clamp, as torch).",
          shapes="input: (N, *); target: broadcastable to it; var: the input's shape, that shape "
                 "without its last dimension, or with one dimension of size 1; or a float >= 0."),
    # ---- margin family (module checks: the canonical losses' @reference grids, torch's names)
    # F.margin_ranking_loss's margin default is the int 0 (torch/nn/functional.py)
    Entry("MarginRankingLoss", "margin_ranking_loss", _L.margin_ranking_loss, (("margin", 0.0), *_SA, *_RED),
          functional_params=(("margin", 0), *_SA, *_RED), native="MarginRankingLoss",
          inputs=("input1", "input2", "target"),
          functional_checks=(Check("ranking_pairs", ({}, {"margin": 0.5, "reduction": "none"})),),
          summary="Margin ranking loss of score pairs, :math:`\\max(0, -y (x_1 - x_2) + margin)`.",
          shapes="input1, input2: (N) or (); target: the same, labels in {-1, 1}."),
    Entry("HingeEmbeddingLoss", "hinge_embedding_loss", _L.hinge_embedding_loss, (("margin", 1.0), *_SA, *_RED),
          native="HingeEmbeddingLoss",
          functional_checks=(Check("signed_margin", ({}, {"margin": 0.5, "reduction": "sum"})),),
          summary="Hinge embedding loss: :math:`x` where :math:`y = 1`, :math:`\\max(0, margin - x)` "
                  "where :math:`y = -1`.",
          shapes="input: any shape (typically distances); target: the same shape, labels in {-1, 1}."),
    Entry("SoftMarginLoss", "soft_margin_loss", _L.soft_margin_loss, (*_SA, *_RED),
          native="SoftMarginLoss", summary="Two-class logistic loss :math:`\\log(1 + e^{-y x})`.",
          shapes="input: any shape; target: the same shape, labels in {-1, 1}."),
    Entry("MultiLabelSoftMarginLoss", "multilabel_soft_margin_loss", _L.multilabel_soft_margin_loss,
          (("weight", None), *_SA, *_RED), buffers=("weight",), native="MultiLabelSoftMarginLoss",
          promote="float_input",
          functional_checks=(Check("logits_binary", ({}, {"weight": _CLASS_W, "reduction": "none"})),),
          summary="Multi-label one-versus-all logistic loss, averaged over the classes.",
          shapes="input: logits (N, C) or (C,); target: the same shape, in [0, 1]; weight: (C,)."),
    # torch's CPU kernels of the two multi-class margin losses have no float16/bfloat16
    Entry("MultiLabelMarginLoss", "multilabel_margin_loss", _L.multilabel_margin_loss, (*_SA, *_RED),
          native="MultiLabelMarginLoss", checks=(Check("multilabel_index", _REDS, dtypes=_F64_F32),),
          summary="Multi-class multi-label hinge loss; target class indices padded with -1.",
          shapes="input: (N, C), (C,) or (); target: int64 class indices of the input's shape, "
                 "padded with -1."),
    Entry("MultiMarginLoss", "multi_margin_loss", _L.multi_margin_loss,
          (("p", 1), ("margin", 1.0), ("weight", None), *_SA, *_RED), buffers=("weight",),
          native="MultiMarginLoss", same_dtype=("weight",),
          checks=(Check("multi_margin_index", (*_REDS, {"p": 2}, {"margin": 0.5}, {"weight": _CLASS_W},
                                               {"weight": _CLASS_W, "reduction": "none"},
                                               {"p": 2, "margin": 2.0, "weight": _CLASS_W, "reduction": "sum"}),
                        dtypes=_F64_F32),),
          functional_checks=(Check("multi_margin_index", ({}, {"p": 2, "margin": 0.5, "weight": _CLASS_W}),
                                   dtypes=_F64_F32),),
          summary="Multi-class hinge loss :math:`\\sum_{i \\ne y} \\max(0, margin - x_y + x_i)^p / C`, "
                  "p in {1, 2}.",
          shapes="input: (N, C), (C,) or (); target: (N,) or () class indices; weight: (C,)."),
    # ---- embedding family (module checks: the canonical losses' @reference grids)
    # F.cosine_embedding_loss's margin default is the int 0 (torch/nn/functional.py)
    Entry("CosineEmbeddingLoss", "cosine_embedding_loss", _L.cosine_embedding_loss, (("margin", 0.0), *_SA, *_RED),
          functional_params=(("margin", 0), *_SA, *_RED), native="CosineEmbeddingLoss",
          inputs=("input1", "input2", "target"),
          functional_checks=(Check("cosine_pairs", ({}, {"margin": 0.5, "reduction": "none"})),),
          summary="Cosine embedding loss: :math:`1 - \\cos(x_1, x_2)` where :math:`y = 1`, "
                  ":math:`\\max(0, \\cos(x_1, x_2) - margin)` where :math:`y = -1`.",
          shapes="input1, input2: (N, D) or (D,); target: (N,) or () labels in {-1, 1}."),
    # F.triplet_margin_loss's p default is the int 2 (torch/nn/functional.py)
    Entry("TripletMarginLoss", "triplet_margin_loss", _L.triplet_margin_loss,
          (("margin", 1.0), ("p", 2.0), ("eps", 1e-6), ("swap", False), *_SA, *_RED),
          functional_params=(("margin", 1.0), ("p", 2), ("eps", 1e-6), ("swap", False), *_SA, *_RED),
          native="TripletMarginLoss", inputs=("anchor", "positive", "negative"),
          functional_checks=(Check("triplets", ({}, {"p": 1.0, "swap": True, "reduction": "none"})),),
          summary="Triplet margin loss :math:`\\max(0, margin + d(a, p) - d(a, n))`, "
                  ":math:`d(x, y) = \\lVert x - y + eps \\rVert_p`.",
          shapes="anchor, positive, negative: (N, D) or (D,); output (N,) or ()."),
    Entry("TripletMarginWithDistanceLoss", "triplet_margin_with_distance_loss", _L.triplet_margin_with_distance_loss,
          (("*", None), ("distance_function", None), ("margin", 1.0), ("swap", False), *_RED),
          native="TripletMarginWithDistanceLoss", inputs=("anchor", "positive", "negative"),
          summary="Triplet margin loss with any ``distance_function(x1, x2)`` (default: "
                  "``pairwise_distance``).",
          shapes="anchor, positive, negative: of one rank, (N, D) or (D,); output: the distances' shape."),
    # ---- sequence family; torch's CPU CTC kernel has no float16/bfloat16 (multiloss's runs
    # them through float32)
    Entry("CTCLoss", "ctc_loss", _L.ctc_loss, (("blank", 0), *_RED, ("zero_infinity", False)),
          native="CTCLoss", inputs=("log_probs", "targets", "input_lengths", "target_lengths"),
          host_inputs=("input_lengths", "target_lengths"),
          checks=(Check("ctc", (*_REDS, {"zero_infinity": True}, {"reduction": "sum", "zero_infinity": True}),
                        dtypes=_F64_F32),),
          functional_checks=(Check("ctc", ({}, {"reduction": "none"}), dtypes=_F64_F32),),
          summary="Connectionist temporal classification loss (Graves et al. 2006): "
                  ":math:`-\\log` of the summed probability of every alignment of the target.",
          shapes="log_probs: (T, N, C) or (T, C) log-probabilities; targets: (N, S) padded or "
                 "(sum(target_lengths),) concatenated class indices; input_lengths, "
                 "target_lengths: (N,) or () integers (or tuples of ints)."),
    # ---- extras (no torch twin), torch style: options keyword-only (mt.FocalLoss(0.75, 2.0) would
    # silently differ from keras's (gamma, alpha) order), then reduction
    Entry("FocalLoss", "focal_loss", _L.focal_loss,
          (("*", None), ("alpha", 0.75), ("gamma", 2.0), ("from_logits", False), *_RED), nullable=("alpha",),
          summary="Binary focal loss (Lin et al. 2017) on probabilities, or logits with "
                  "``from_logits=True``; the loss survey's defaults alpha=0.75, gamma=2.",
          shapes="input: probabilities (or logits), any shape; target: the same shape, in [0, 1]."),
    Entry("SCELoss", "sce_loss", _L.sce_loss, (("*", None), ("alpha", 0.1), ("beta", 1.0), *_RED),
          summary="Symmetric cross-entropy (Wang et al. 2019) of logits, class axis 1.",
          shapes="input: logits (N, C, ...); target: class indices (N, ...) or probabilities."),
    # keras's categorical focal / generalized cross-entropies and optax's poly and safe softmax
    # cross-entropies, torch style: class axis 1, options keyword-only, the canonical defaults
    # (the focal and generalized ones take probabilities unless from_logits=True, as keras).
    # CategoricalFocalLoss's alpha is a number here; per-class factors (a (C,) tensor) go
    # through the functional form
    Entry("CategoricalFocalLoss", "categorical_focal_loss", _L.categorical_focal_crossentropy,
          (("*", None), ("alpha", 0.25), ("gamma", 2.0), ("from_logits", False), ("label_smoothing", 0.0), *_RED),
          nullable=("alpha",),
          summary="Softmax focal cross-entropy :math:`-\\sum_c \\alpha (1 - p_c)^\\gamma y_c \\log p_c` (keras's "
                  "CategoricalFocalCrossentropy), class axis 1; probabilities, or logits with ``from_logits=True``.",
          shapes="input: probabilities or logits (N, C), (N, C, d1, ...) or (C,); target: class indices (N, ...) "
                 "or probabilities of the input's shape."),
    Entry("GeneralizedCrossEntropyLoss", "generalized_cross_entropy", _L.categorical_generalized_cross_entropy,
          (("*", None), ("q", 0.5), ("from_logits", False), *_RED),
          summary="Generalized cross-entropy :math:`(1 - p_y^q) / q`, q in (0, 1] (keras's "
                  "CategoricalGeneralizedCrossEntropy), class axis 1; probabilities, or logits with ``from_logits=True``.",
          shapes="input: probabilities or logits (N, C), (N, C, d1, ...) or (C,); target: class indices (N, ...) "
                 "or probabilities of the input's shape."),
    Entry("PolyLoss", "poly_loss", _L.poly_loss_cross_entropy, (("*", None), ("epsilon", 2.0), *_RED),
          summary="Poly-1 loss: the cross-entropy of logits plus :math:`\\epsilon \\sum_c y_c (1 - p_c)` (optax's "
                  "poly_loss_cross_entropy), class axis 1.",
          shapes="input: logits (N, C), (N, C, d1, ...) or (C,); target: class indices (N, ...) or probabilities "
                 "of the input's shape."),
    Entry("SafeSoftmaxCrossEntropyLoss", "safe_softmax_cross_entropy", _L.safe_softmax_cross_entropy,
          (("*", None), *_RED),
          summary="Cross-entropy of logits against probabilities with 0 log 0 = 0: a -inf logit whose label is 0 "
                  "adds nothing (optax's safe_softmax_cross_entropy), class axis 1.",
          shapes="input: logits (N, C), (N, C, d1, ...) or (C,); target: probabilities of the input's shape."),
    Entry("MAPELoss", "mape_loss", _L.mean_absolute_percentage_error, (("*", None), ("eps", 1e-7), *_RED),
          rename={"eps": "epsilon"},
          summary="Mean absolute percentage error, :math:`100 |y - x| / \\max(|y|, eps)`.",
          shapes="input: any shape; target: the same shape."),
    Entry("HingeLoss", "hinge_loss", _L.hinge, _RED,
          summary="Hinge :math:`\\max(1 - y x, 0)`, labels in {-1, 1} (or {0, 1}, mapped).",
          shapes="input: scores, any shape; target: the same shape."),
    # keras's SquaredHinge / CategoricalHinge and optax's multiclass_hinge_loss, perceptron_loss,
    # multiclass_perceptron_loss (margin family), torch style: keyword-only options, class axis 1
    Entry("SquaredHingeLoss", "squared_hinge_loss", _L.squared_hinge, (("*", None), *_RED),
          summary="Squared hinge :math:`\\max(1 - y x, 0)^2`, labels in {-1, 1} (or {0, 1}, mapped).",
          shapes="input: scores, any shape; target: the same shape."),
    Entry("CategoricalHingeLoss", "categorical_hinge_loss", _L.categorical_hinge, (("*", None), *_RED),
          summary="Categorical hinge :math:`\\max(\\max_c (1 - y_c) x_c - \\sum_c y_c x_c + 1, 0)` (keras).",
          shapes="input: scores (N, C), (N, C, d1, ...) or (C,); target: one-hot, broadcastable to it."),
    Entry("MulticlassHingeLoss", "multiclass_hinge_loss", _L.multiclass_hinge_loss, (("*", None), *_RED),
          summary="Crammer-Singer hinge :math:`\\max(0, 1 + \\max_{c \\ne y} x_c - x_y)` (optax).",
          shapes="input: scores (N, C), (N, C, d1, ...) or (C,); target: class indices (N), (N, d1, ...) or ()."),
    Entry("PerceptronLoss", "perceptron_loss", _L.perceptron_loss, (("*", None), *_RED),
          summary="Perceptron loss :math:`\\max(0, -y x)`, labels in {-1, 1} (optax).",
          shapes="input: scores, any shape; target: the same shape."),
    Entry("MulticlassPerceptronLoss", "multiclass_perceptron_loss", _L.multiclass_perceptron_loss,
          (("*", None), *_RED),
          summary="Multi-class perceptron loss :math:`\\max_c x_c - x_y` (optax).",
          shapes="input: scores (N, C), (N, C, d1, ...) or (C,); target: class indices (N), (N, d1, ...) or ()."),
    # torch's nn.CosineSimilarity(dim=1) convention; eps bounds the *squared* norm (keras)
    Entry("CosineSimilarityLoss", "cosine_similarity_loss", _L.cosine_similarity,
          (("*", None), ("dim", 1), ("eps", 1e-12), *_RED), rename={"dim": "axis", "eps": "epsilon"},
          summary="Negative cosine similarity along ``dim`` (minimising aligns the vectors): "
                  "``-torch.nn.CosineSimilarity(dim)`` up to the zero-vector guard.",
          shapes="input: (N, D, ...); target: the same shape; output without ``dim``."),
    # ---- catalogue II extras (keras / optax losses torch lacks): options keyword-only
    Entry("MSLELoss", "msle_loss", _L.mean_squared_logarithmic_error, (("*", None), ("eps", 1e-7), *_RED),
          rename={"eps": "epsilon"},
          summary="Mean squared logarithmic error, :math:`(\\log(1 + \\max(x, eps)) - \\log(1 + \\max(y, eps)))^2` "
                  "(keras's MeanSquaredLogarithmicError).",
          shapes="input: any shape; target: the same shape."),
    Entry("LogCoshLoss", "log_cosh_loss", _L.log_cosh, _RED,
          summary="Log-cosh :math:`\\log\\cosh(x - y)` (keras's LogCosh, optax's log_cosh).",
          shapes="input: any shape; target: the same shape."),
    Entry("GeneralizedKLDivLoss", "generalized_kl_div", _L.generalized_kl_divergence, _RED,
          reductions=("none", "mean", "sum", "batchmean"),
          summary="Pointwise generalized KL divergence :math:`y (\\log y - x) + e^x - y` of unnormalized "
                  "measures; ``input`` holds log-values (optax's generalized_kl_divergence). Use "
                  "``reduction='batchmean'`` for the divergence per sample.",
          shapes="input: (N, *) log-values; target: non-negative, the same shape."),
    # batch (contrastive / metric) and listwise ranking losses: optax's ntxent and
    # ranking_softmax_loss, keras's circle; per-call arrays (references, masks, weights) are
    # keyword-only arguments of the functional form
    Entry("NTXentLoss", "ntxent_loss", _L.ntxent, (("*", None), ("temperature", 0.07), *_RED),
          summary="NT-Xent (SimCLR) of a batch of embeddings whose positive pairs share a label: each "
                  "positive pair's softmax cross-entropy against the anchor's negatives, temperature-scaled "
                  "cosine similarities (optax's ntxent); ``'mean'`` over the positive pairs.",
          shapes="input: embeddings (N, D); target: labels (N,); 'none': the (N, N) per-pair losses, 0 off "
                 "the positive pairs."),
    Entry("CircleLoss", "circle_loss", _L.circle,
          (("*", None), ("gamma", 80.0), ("margin", 0.4), ("remove_diagonal", True), ("normalize", True), *_RED),
          functional_params=(("*", None), ("gamma", 80.0), ("margin", 0.4), ("remove_diagonal", True),
                             ("normalize", True), *_RED, ("ref_embeddings", None), ("ref_labels", None)),
          summary="Circle loss (Sun et al. 2020) with keras's label-based pair mining over the batch (or over "
                  "``ref_embeddings``/``ref_labels``, functional form); ``'mean'`` over the anchors with a "
                  "nonzero loss (keras's mask, pytorch-metric-learning's AvgNonZeroReducer).",
          shapes="input: embeddings (N, D), normalised inside unless normalize=False; target: labels (N,); "
                 "'none': (N,)."),
    Entry("RankingSoftmaxLoss", "ranking_softmax_loss", _L.ranking_softmax_loss, (("*", None), *_RED),
          functional_params=(("*", None), ("where", None), ("weight", None), *_RED),
          summary="Listwise ranking softmax cross-entropy :math:`-\\sum_i y_i \\log\\mathrm{softmax}(s)_i` per "
                  "list (optax's ranking_softmax_loss); the functional form takes a ``where`` mask of valid "
                  "items and per-item ``weight``.",
          shapes="input: scores (..., L); target: relevance labels broadcastable to it; 'none': (...)."),
    # overlap (segmentation) losses: keras's Dice/Tversky and optax's dice losses are the canonical
    # tversky; probabilities in (apply the sigmoid / softmax first); `dim` as torch.sum's
    Entry("TverskyLoss", "tversky_loss", _L.tversky,
          (("*", None), ("alpha", 0.5), ("beta", 0.5), ("smooth", 0.0), ("eps", 1e-7), ("dim", None), *_RED),
          rename={"eps": "epsilon", "dim": "axis"},
          summary="Tversky loss (Salehi et al. 2017) :math:`1 - (I + smooth) / (I + alpha FP + beta FN + smooth + eps)` "
                  "of probabilities, the sums over ``dim`` (``None``: every dimension, one value for the batch; "
                  "``(2, 3)`` of (N, C, H, W): one per sample and class); ``alpha`` weighs the false positives "
                  "(keras's Tversky, optax's dice_loss).",
          shapes="input: probabilities, any shape; target: the same shape, in [0, 1]; 'none': the input's "
                 "shape without ``dim``."),
    Entry("DiceLoss", "dice_loss", _L.tversky, (("*", None), ("smooth", 0.0), ("eps", 1e-7), ("dim", None), *_RED),
          rename={"eps": "epsilon", "dim": "axis"},
          summary="Soft Dice loss :math:`1 - (I + smooth) / ((P + T) / 2 + smooth + eps)` (TverskyLoss with "
                  "alpha = beta = 1/2) of probabilities, the sums over ``dim`` (keras's Dice with "
                  "``eps = epsilon() / 2``; optax's dice_loss with ``eps = 0``).",
          shapes="input: probabilities, any shape; target: the same shape, in [0, 1]; 'none': the input's "
                 "shape without ``dim``."),
    Entry("GeneralizedDiceLoss", "generalized_dice_loss", _L.multiclass_generalized_dice_loss,
          (("*", None), ("smooth", 1.0), ("ignore_background", False), *_RED),
          summary="Generalized Dice loss (Sudre et al. 2017, as optax computes it): per-sample, per-class Dice "
                  "losses of class probabilities (class dim 1) weighted by the inverse squared class "
                  "frequencies of the batch's targets (optax's multiclass_generalized_dice_loss).",
          shapes="input: probabilities (N, C, d1, ...), (N, C) or (C,); target: one-hot of the same shape; "
                 "'none': (N, C) (C - 1 classes with ignore_background)."),
    # structured (sparsemax / Fenchel-Young) losses: optax's; the class axis is `dim` (torch's 1 by
    # default; the canonical functions' `axis`)
    Entry("SparsemaxLoss", "sparsemax_loss", _L.sparsemax_loss, (("*", None), *_RED),
          summary="Binary sparsemax loss (Blondel et al. 2020): ``sparse_plus(-x)`` where the label is 1, "
                  "``sparse_plus(x)`` where it is 0; zero once the sparse sigmoid ``clip((x + 1) / 2, 0, 1)`` "
                  "equals the label (optax's sparsemax_loss).",
          shapes="input: logits, any shape; target: labels in {0, 1} of the input's shape (or broadcasting "
                 "to it without enlarging it)."),
    Entry("MulticlassSparsemaxLoss", "multiclass_sparsemax_loss", _L.multiclass_sparsemax_loss,
          (("*", None), ("dim", 1), *_RED), rename={"dim": "axis"},
          summary="Multiclass sparsemax loss (Martins & Astudillo 2016) of scores along ``dim``: "
                  ":math:`\\sum_i p_i (x_i - x_y) + \\tfrac12 (1 - \\lVert p \\rVert^2)`, :math:`p = "
                  "\\mathrm{sparsemax}(x)`; gradient :math:`p - e_y` (optax's multiclass_sparsemax_loss).",
          shapes="input: scores (N, C) or (N, C, d1, ...) (classes along ``dim``; ``dim=0`` for (C,)); "
                 "target: class indices (N,) or (N, d1, ...); 'none': the target's shape."),
    Entry("FenchelYoungLoss", "fenchel_young_loss", _L.fenchel_young_loss,
          (("max_fun", None), ("*", None), ("dim", 1), *_RED), rename={"dim": "axis"},
          summary="Fenchel-Young loss (Blondel et al. 2020) :math:`\\mathrm{max\\_fun}(x) - \\langle y, x "
                  "\\rangle` of a max function written with torch ops (``max_fun(scores)`` gets the classes "
                  "last and returns one value per score vector; ``None``: ``torch.logsumexp(s, -1)``, the softmax "
                  "cross-entropy of probability targets); its gradient is torch's autograd of ``max_fun`` "
                  "(optax's make_fenchel_young_loss).",
          shapes="input: scores (N, C) or (N, C, d1, ...) (classes along ``dim``); target: probabilities of "
                 "the input's shape, or class indices (N,) / (N, d1, ...); 'none': the input's shape without "
                 "``dim``."),
    # ---- losses that own parameters: hand-written modules in multiloss/backends/torch_parametric.py,
    # paired with torch's (same weights) in natives_torch.PAIRS; module checks on (input, target)
    # domains (in_features = num_classes = 5), the functional on the linear_* domains (whose
    # "target" slot carries linear_weight: torch's (input, linear_weight, target) order)
    Entry("LinearCrossEntropyLoss", "linear_cross_entropy", _L.linear_cross_entropy,
          (("in_features", None), ("num_classes", None), ("*", None), ("out_features", ()), ("bias", False),
           ("device", None), ("dtype", None), *_RED, ("weight", None), ("ignore_index", None),
           ("label_smoothing", 0.0), ("options", None)),
          functional_params=(("*", None), ("linear_bias", None), ("weight", None), *_RED, ("ignore_index", None),
                             ("label_smoothing", 0.0), ("options", None)),
          buffers=("weight",), nullable=("ignore_index",), native="LinearCrossEntropyLoss",
          inputs=("input", "linear_weight", "target"),
          module="multiloss.backends.torch_parametric:LinearCrossEntropyLoss",
          checks=(Check("class_index", (*_REDS, {"bias": True}, {"weight": _CLASS_W, "bias": True},
                                        {"label_smoothing": 0.1, "reduction": "none"}, {"ignore_index": 3},
                                        {"weight": _CLASS_W, "label_smoothing": 0.2, "reduction": "sum"})),
                  Check("class_index_ignore", ({}, {"weight": _CLASS_W, "label_smoothing": 0.1, "bias": True})),
                  Check("class_prob", ({}, {"reduction": "none", "bias": True}, {"weight": _CLASS_W}))),
          functional_checks=(Check("linear_class_index", (*_REDS, {"linear_bias": _LIN_BIAS}, {"weight": _CLASS_W},
                                                          {"ignore_index": 3, "label_smoothing": 0.1})),
                             Check("linear_class_index_ignore", ({"weight": _CLASS_W, "reduction": "sum"},)),
                             Check("linear_class_prob", ({}, {"linear_bias": _LIN_BIAS, "reduction": "none"})),
                             Check("linear_class_index_3d", ({}, {"reduction": "none"}))),
          summary="Cross-entropy of a linear head (the module owns it), chunked: the (N, C) logits are never "
                  "held at once.",
          shapes="input: (N, in_features) or (in_features,); target: class indices (N), () or "
                 "(N, *out_features), or probabilities (N, C, *out_features); weight: (C,)."),
    Entry("AdaptiveLogSoftmaxWithLoss", "", _L.adaptive_log_softmax_with_loss,
          (("in_features", None), ("n_classes", None), ("cutoffs", None), ("div_value", 4.0), ("head_bias", False),
           ("device", None), ("dtype", None)),
          reductions=(), native="AdaptiveLogSoftmaxWithLoss",
          module="multiloss.backends.torch_parametric:AdaptiveLogSoftmaxWithLoss",
          # "field" picks the checked part of forward's (output, loss) (see natives_torch.PAIRS)
          checks=(Check("class_index", ({"field": "output"}, {"field": "loss"}, {"field": "output", "head_bias": True},
                                        {"field": "loss", "head_bias": True})),),
          summary="Adaptive softmax (Grave et al. 2017) with its loss; ``forward`` returns ``(output, loss)``, "
                  "plus ``log_prob`` and ``predict``.",
          shapes="input: (N, in_features) with target (N,), or (in_features,) with (); output: the "
                 "target's shape; loss: a scalar."),
)
