"""The union holds: every loss class and function of the installed ``keras.losses`` is in
``multiloss.keras`` and every loss function of the installed ``optax.losses`` is in
``multiloss.jax`` (issue 11's "done when"), and keras's lookup utilities (``get``,
``serialize``, ``deserialize``, ``Loss``) resolve to multiloss's objects.

Run against whatever versions are installed: a new keras or optax loss fails here until it
has a row.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from tests_conftest import require


def _public_callables(module) -> set[str]:
    out = set()
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if inspect.ismodule(obj) or not callable(obj):
            continue
        out.add(name)
    return out


def test_every_keras_loss_is_in_multiloss_keras():
    require("tensorflow")
    import keras

    import multiloss.keras as mk

    missing = sorted(_public_callables(keras.losses) - set(dir(mk)))
    assert missing == [], f"keras.losses names without a multiloss.keras twin: {missing}"
    for name in _public_callables(keras.losses):
        assert name in mk.__all__, name


def test_every_optax_loss_is_in_multiloss_jax():
    require("jax")
    pytest.importorskip("optax")
    import optax

    import multiloss.jax as mj

    missing = sorted(_public_callables(optax.losses) - set(dir(mj)))
    assert missing == [], f"optax.losses names without a multiloss.jax twin: {missing}"
    for name in _public_callables(optax.losses):
        assert name in mj.__all__, name


def test_keras_get_resolves_to_multiloss_objects():
    require("tensorflow")
    import multiloss.keras as mk

    assert mk.get(None) is None
    assert mk.get("binary_crossentropy") is mk.binary_crossentropy
    assert type(mk.get("Huber")) is mk.Huber
    loss = mk.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert type(loss) is mk.CategoricalCrossentropy and loss.get_config()["from_logits"] is True
    fn = mk.mean_squared_error
    assert mk.get(fn) is fn
    with pytest.raises(ValueError, match=r"multiloss.keras.get: argument 'identifier': unknown loss 'no_such_loss'"):
        mk.get("no_such_loss")
    with pytest.raises(ValueError, match="could not interpret"):
        mk.get(3)
    assert issubclass(mk.Huber, mk.Loss)


def test_keras_config_of_a_native_loss_deserialises_to_multiloss():
    require("tensorflow")
    import keras

    import multiloss.keras as mk

    native = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    ours = mk.deserialize(keras.losses.serialize(native))
    assert type(ours) is mk.CategoricalCrossentropy
    y_true = np.eye(3)[[0, 2, 1, 1]]
    y_pred = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-1.0, 1.0, 0.0], [0.3, 0.3, 0.3]])
    np.testing.assert_allclose(np.asarray(ours(y_true, y_pred)), np.asarray(native(y_true, y_pred)),
                               rtol=1e-6)
    # a multiloss config round-trips through keras's serialize and our deserialize
    cfg = mk.serialize(mk.Huber(delta=3.0))
    assert cfg["registered_name"] == "multiloss>Huber"
    back = mk.deserialize(cfg)
    assert type(back) is mk.Huber and back.get_config()["delta"] == 3.0
