"""keras adapter conformance: ``multiloss.keras.X(**kw)`` against ``keras.losses.X(**kw)``.

Backend "tensorflow" (TF tensors, keras on its TensorFlow backend). For every class of
:mod:`multiloss.keras` with a keras twin, over an option grid (every ``reduction``,
``from_logits``, ``label_smoothing``, ``axis``, ``delta``, ``ignore_class``, one-hot vs soft
targets, ``sample_weight`` on the ``"+sw"`` domains), the value and the gradient w.r.t.
``y_pred`` (``tf.GradientTape``) must equal keras's in float32 and float64. The per-sample
function forms (``mean_squared_error`` ...) are held against ``keras.losses.<fn>`` too.
``FocalLoss`` is held against ``keras.losses.BinaryFocalCrossentropy(apply_class_balancing=
True)`` (the same formula while no probability reaches keras's clip bounds).

Both losses are built with ``dtype=`` the prediction's dtype, so a float64 cell computes in
float64 on both sides (a keras loss otherwise casts to ``floatx()``, float32).

Imports keras lazily (inside :func:`native_cases`), so importing this module is free.
"""

from __future__ import annotations

from .spec import NativeCase

__all__ = ["native_cases"]

_ALL_RED = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _label(kw: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in kw.items())


def native_cases() -> list[NativeCase]:
    import keras

    import multiloss.keras as mk

    def cls_pair(ours_name, native_name=None, native_extra=None, native_map=None, native_defaults=None):
        ours_cls = getattr(mk, ours_name)
        native_cls = getattr(keras.losses, native_name or ours_name)

        def build(cls, mapping=None, extra=None, defaults=None):
            def factory(**kw):
                kw = {**(defaults or {}), **kw}
                if mapping:
                    kw = {mapping.get(k, k): v for k, v in kw.items()}
                kw.update(extra or {})

                def call(y_true, y_pred, sample_weight=None):
                    return cls(**kw, dtype=y_pred.dtype.name)(y_true, y_pred, sample_weight=sample_weight)

                return call

            return factory

        return build(ours_cls), build(native_cls, native_map, native_extra, native_defaults)

    def fn_pair(name):
        ours_fn, native_fn = getattr(mk, name), getattr(keras.losses, name)

        def build(f):
            return lambda **kw: (lambda y_true, y_pred: f(y_true, y_pred, **kw))

        return build(ours_fn), build(native_fn)

    cases: list[NativeCase] = []

    def add(name, domain, grid, pair=None, sw=False, fn=False, grad=True, reason=""):
        ours, native = pair if pair is not None else (fn_pair(name) if fn else cls_pair(name))
        for kw in grid:
            label = ",".join(x for x in (domain if "+" in domain or domain not in _HOME.get(name, ()) else "", _label(kw)) if x)
            cases.append(
                NativeCase("tensorflow", name if not fn else f"{name}()", ours, native, domain, kw, label,
                           order="true_first", use_sample_weight=sw, grad=grad, reason=reason)
            )

    red = [{"reduction": r} for r in _ALL_RED]
    red_sw = [{}, {"reduction": "sum"}, {"reduction": "mean_with_sample_weight"}, {"reduction": "none"}]

    # regression
    add("MeanSquaredError", "regression", red)
    add("MeanSquaredError", "regression+sw", red_sw, sw=True)
    add("MeanAbsoluteError", "regression", red)
    add("MeanAbsoluteError", "regression+sw", [{}, {"reduction": "mean_with_sample_weight"}], sw=True)
    add("MeanAbsolutePercentageError", "regression_nonzero_target", [{}, {"reduction": "sum"}, {"reduction": "none"}])
    add("Huber", "regression", [{}, {"delta": 0.5}, {"delta": 2.0}, {"reduction": "none"}, {"delta": 0.5, "reduction": "sum"}])
    add("Huber", "regression+sw", [{"delta": 0.5}], sw=True)
    add("CosineSimilarity", "regression", [{}, {"axis": 0}, {"reduction": "none"}, {"axis": 0, "reduction": "sum"}])
    add("CosineSimilarity", "regression+sw", [{}], sw=True)
    add("KLDivergence", "probs_probs", [{}, {"reduction": "sum"}, {"reduction": "none"}])
    add("KLDivergence", "probs_probs+sw", [{"reduction": "mean_with_sample_weight"}], sw=True)
    add("Hinge", "hinge", [{}, {"reduction": "none"}, {"reduction": "sum"}])
    add("Hinge", "hinge01", [{}, {"reduction": "none"}])

    # binary
    add("BinaryCrossentropy", "probabilities",
        [{}, {"label_smoothing": 0.1}, {"axis": 0}, {"reduction": "none"}, {"reduction": "sum"}])
    add("BinaryCrossentropy", "probabilities_soft", [{}, {"label_smoothing": 0.2, "reduction": "none"}])
    add("BinaryCrossentropy", "logits_binary",
        [{"from_logits": True}, {"from_logits": True, "label_smoothing": 0.2}, {"from_logits": True, "axis": 0},
         {"from_logits": True, "reduction": "none"}])
    add("BinaryCrossentropy", "logits_binary+sw",
        [{"from_logits": True}, {"from_logits": True, "reduction": "mean_with_sample_weight"}], sw=True)
    add("BinaryCrossentropy", "logits_binary_soft", [{"from_logits": True}])

    # categorical
    add("CategoricalCrossentropy", "probs_onehot",
        [{}, {"label_smoothing": 0.1}, {"axis": 0}, {"reduction": "none"}, {"reduction": "sum"}])
    add("CategoricalCrossentropy", "class_onehot",
        [{"from_logits": True}, {"from_logits": True, "label_smoothing": 0.2}, {"from_logits": True, "reduction": "none"}])
    # TF's softmax_cross_entropy_with_logits(axis=0) has a wrong gradient (0.21 off central
    # finite differences, which ours matches to 6e-10; tests/test_keras_adapter.py pins
    # ours): only the value is held against keras there
    add("CategoricalCrossentropy", "class_onehot", [{"from_logits": True, "axis": 0}], grad=False,
        reason="tf.nn.softmax_cross_entropy_with_logits(axis=0) gradient is wrong")
    add("CategoricalCrossentropy", "class_prob", [{"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1}])
    add("CategoricalCrossentropy", "class_onehot+sw",
        [{"from_logits": True}, {"from_logits": True, "reduction": "mean_with_sample_weight"}], sw=True)

    # sparse categorical
    add("SparseCategoricalCrossentropy", "class_index",
        [{"from_logits": True}, {"from_logits": True, "reduction": "none"}, {"from_logits": True, "reduction": "sum"},
         {"from_logits": True, "ignore_class": 2}, {"from_logits": True, "ignore_class": 2, "reduction": "sum"}])
    add("SparseCategoricalCrossentropy", "class_index_ignore",
        [{"from_logits": True, "ignore_class": -100}, {"from_logits": True, "ignore_class": -100, "reduction": "none"}])
    add("SparseCategoricalCrossentropy", "probs_index", [{}, {"reduction": "none"}, {"ignore_class": 1}])
    add("SparseCategoricalCrossentropy", "class_index+sw",
        [{"from_logits": True}, {"from_logits": True, "reduction": "mean_with_sample_weight"}], sw=True)

    # the seed's focal loss against keras's class-balanced binary focal crossentropy
    focal = cls_pair("FocalLoss", "BinaryFocalCrossentropy", native_extra={"apply_class_balancing": True},
                     native_defaults={"alpha": 0.75, "gamma": 2.0})
    add("FocalLoss", "probabilities", [{}, {"gamma": 1.5, "alpha": 0.25}, {"reduction": "none"}], pair=focal)
    add("FocalLoss", "logits_binary", [{"from_logits": True}, {"from_logits": True, "gamma": 0.0}], pair=focal)
    add("FocalLoss", "probabilities+sw", [{}], pair=focal, sw=True)

    # per-sample function forms
    add("mean_squared_error", "regression", [{}], fn=True)
    add("mean_absolute_error", "regression", [{}], fn=True)
    add("mean_absolute_percentage_error", "regression_nonzero_target", [{}], fn=True)
    add("huber", "regression", [{}, {"delta": 0.5}], fn=True)
    add("cosine_similarity", "regression", [{}, {"axis": 0}], fn=True)
    add("kl_divergence", "probs_probs", [{}], fn=True)
    add("hinge", "hinge01", [{}], fn=True)
    add("binary_crossentropy", "probabilities", [{}, {"label_smoothing": 0.1}], fn=True)
    add("binary_crossentropy", "logits_binary", [{"from_logits": True}], fn=True)
    add("categorical_crossentropy", "probs_onehot", [{}], fn=True)
    add("categorical_crossentropy", "class_onehot", [{"from_logits": True, "label_smoothing": 0.1}], fn=True)
    add("sparse_categorical_crossentropy", "class_index", [{"from_logits": True}], fn=True)
    add("sparse_categorical_crossentropy", "probs_index", [{}], fn=True)
    return cases


# each entry's usual domain: left out of the case label
_HOME = {
    "MeanSquaredError": ("regression",),
    "MeanAbsoluteError": ("regression",),
    "Huber": ("regression",),
    "CosineSimilarity": ("regression",),
    "KLDivergence": ("probs_probs",),
    "Hinge": ("hinge",),
    "BinaryCrossentropy": ("probabilities",),
    "CategoricalCrossentropy": ("probs_onehot",),
    "SparseCategoricalCrossentropy": ("class_index",),
    "FocalLoss": ("probabilities",),
}
