"""``keras.losses``'s lookup utilities over multiloss's keras names: ``Loss``, ``get``,
``serialize`` and ``deserialize``.

``multiloss.keras`` mirrors the whole of ``keras.losses``, so a user who swaps
``keras.losses`` for ``multiloss.keras`` keeps these too. ``get`` and ``deserialize`` resolve a
name or a config to the *multiloss* class or function of that keras name first (``"Huber"``,
``"binary_crossentropy"``, ``{"class_name": "CategoricalCrossentropy", "config": {...}}``,
including a config written by ``keras.losses.serialize`` of keras's own loss), and fall back to
keras's own resolution (its losses, the user's ``custom_objects`` and registered objects) for
anything else. ``serialize`` and ``Loss`` are keras's own: every multiloss class derives from
``keras.losses.Loss`` and is registered under the package ``"multiloss"``.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Mapping, cast

import keras

__all__ = ["Loss", "get", "serialize", "deserialize"]

Loss = keras.losses.Loss


def serialize(loss: Any) -> Any:
    """``keras.losses.serialize``: the config dict of a loss instance or function (multiloss
    objects serialise as ``"multiloss>Name"``)."""
    return keras.losses.serialize(loss)


def _ours() -> dict[str, Any]:
    from . import keras as adapter

    return {n: getattr(adapter, n) for n in adapter.__all__ if n != "TABLE"}


def _class_name(config: Mapping) -> str:
    name = str(config.get("class_name", ""))
    # registered names read "package>Name"; keras's own configs carry the bare name
    return name.split(">", 1)[1] if name.startswith("multiloss>") else name


def deserialize(name: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """``keras.losses.deserialize`` with multiloss's objects first: a config (or name) of a
    keras loss gives the multiloss class (or function) of the same keras name with the same
    config; any other config is keras's to resolve."""
    ours = _ours()
    if isinstance(name, str) and name in ours:
        return ours[name]
    if isinstance(name, Mapping):
        cls_name = _class_name(name)
        if cls_name in ours:
            obj = ours[cls_name]
            cfg = dict(name.get("config") or {})
            if inspect.isclass(obj):
                return cast(Any, obj).from_config(cfg)  # a keras Loss class
            return obj
    return keras.losses.deserialize(name, custom_objects=custom_objects)


def get(identifier: Any) -> Callable[..., Any] | None:
    """``keras.losses.get`` over multiloss's names: ``None`` -> ``None``; a class or function
    name -> the multiloss instance (classes are instantiated with their defaults) or function;
    a config dict -> :func:`deserialize`; a callable -> itself. Raises ``ValueError`` naming
    the identifier when it is none of these (keras's message)."""
    if identifier is None:
        return None
    obj: Any
    if isinstance(identifier, Mapping):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _ours().get(identifier)
        if obj is None:
            try:
                return keras.losses.get(identifier)
            except ValueError as exc:
                raise ValueError(f"multiloss.keras.get: argument 'identifier': unknown loss "
                                 f"{identifier!r} (neither a multiloss.keras nor a keras.losses "
                                 f"name)") from exc
    else:
        obj = identifier
    if callable(obj):
        made: Callable[..., Any] = cast(Any, obj)() if inspect.isclass(obj) else obj  # a class: an instance
        return made
    raise ValueError(f"multiloss.keras.get: argument 'identifier': could not interpret loss "
                     f"identifier {identifier!r} (expected a name, a config dict or a callable)")
