"""``multiloss.keras``: keras.losses drop-ins (y_true first, keras names, defaults, reductions,
``sample_weight``, serialisation) computed by the single-source canonical losses.

    import multiloss.keras as mk
    model.compile(optimizer="adam", loss=mk.SparseCategoricalCrossentropy(from_logits=True))

Classes: ``MeanSquaredError``, ``MeanAbsoluteError``, ``MeanAbsolutePercentageError``,
``Huber``, ``BinaryCrossentropy``, ``CategoricalCrossentropy``,
``SparseCategoricalCrossentropy``, ``KLDivergence``, ``CosineSimilarity``, ``Hinge`` and the
extras ``FocalLoss``, ``SCELoss``; per-sample functions with keras's names
(``mean_squared_error(y_true, y_pred)`` ...); regularisers ``L1``, ``L2``, ``L1L2`` over the
canonical penalties. All classes are registered for keras serialisation under the package
``"multiloss"``: importing this module before ``keras.models.load_model`` is all a saved
model needs. Implementation and the table: :mod:`multiloss.backends.keras`.
"""

from ..backends.keras import *  # noqa: F401,F403
from ..backends.keras import TABLE, __all__  # noqa: F401
