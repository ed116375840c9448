"""``keras.optimizers.get`` / ``serialize`` / ``deserialize`` for jaxent's Keras optimizers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optax

from jaxent import _serialization
from jaxent.optimizers._adadelta import Adadelta
from jaxent.optimizers._adagrad import Adagrad
from jaxent.optimizers._adam import Adam, AdamW
from jaxent.optimizers._adamax import Adamax
from jaxent.optimizers._base import KerasOptimizer
from jaxent.optimizers._lion import Lion
from jaxent.optimizers._rmsprop import RMSprop
from jaxent.optimizers._sgd import SGD

__all__ = ["get", "serialize", "deserialize"]


def _optax_instead(name: str) -> str:
    return (f"jaxent does not implement it yet; use optax.{name} (optax's update rule and "
            "defaults are not guaranteed to match Keras's step for step)")


_NOT_IMPLEMENTED = {
    # tf-keras 2.21's `keras.optimizers.deserialize` table, less RMSprop
    **{name: _optax_instead(name) for name in
       ("nadam",)},
    "ftrl": "jaxent does not implement it yet, and optax has no FTRL",
    **{name: "loss scaling is part of Keras's mixed precision; in JAX scale the loss yourself "
             "(16-bit jaxent losses already compute in float32)"
       for name in ("lossscaleoptimizer", "lossscaleoptimizerv3", "lossscaleoptimizerv1")},
}

REGISTRY = _serialization.Registry(
    kind="optimizer",
    module="keras.optimizers",
    objects={"rmsprop": RMSprop, "sgd": SGD, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad,
             "adamax": Adamax, "adadelta": Adadelta,
             "lion": Lion,  # not in tf-keras 2.21's table (its get raises): jaxent resolves it
             "experimentaladam": Adam, "experimentalsgd": SGD, "experimentaladagrad": Adagrad,
             "experimentaladadelta": Adadelta},
    case_insensitive=True,  # Keras lowercases the names of its own optimizers
    instance_types=(KerasOptimizer, optax.GradientTransformation),
    unsupported=_NOT_IMPLEMENTED,
)


def get(identifier: Any) -> RMSprop | optax.GradientTransformation:
    """``keras.optimizers.get``: an optimizer from a name, a Keras config dict or an instance.

    * ``"rmsprop"`` in any case (``"RMSprop"``, ``"RMSPROP"``) gives ``RMSprop()`` with
      Keras's defaults;
    * a dict as ``keras.optimizers.serialize`` writes it (``{"module": "keras.optimizers",
      "class_name": "RMSprop", "config": {...}, "registered_name": None}``, or without
      ``module``/``registered_name``) gives ``RMSprop.from_config(config)``; a schedule
      learning rate inside it is deserialized too;
    * an :class:`RMSprop` or any other ``optax.GradientTransformation`` is returned as it is.

    The same holds for ``"sgd"``, ``"adam"``, ``"adamw"``, ``"adagrad"``, ``"adamax"``,
    ``"adadelta"`` and ``"lion"`` (which tf-keras 2.21's ``get`` rejects, string or dict:
    jaxent resolves it). Keras's other optimizers (``"nadam"``, ``"ftrl"``) raise a
    ``ValueError`` saying jaxent does not implement them and pointing to optax; unknown names
    raise one listing the known names.

    One more rule comes from tf-keras: a dict whose non-empty ``config`` lacks
    ``"is_legacy_optimizer": False`` (or has ``True``) resolves there to the *legacy*
    ``tf.keras.optimizers.legacy.RMSprop``, whose update differs (``ε`` outside the square
    root when ``momentum == 0``). jaxent implements only the new one, so such a dict raises a
    ``ValueError`` that says to add ``"is_legacy_optimizer": False`` if the new optimizer is
    what is meant. ``get_config()`` always writes that key, so configs saved by tf-keras 2.11+
    or jaxent load as they are.

    Example::

      >>> from jaxent import optimizers
      >>> optimizers.get("RMSprop")
      RMSprop()
      >>> optimizers.get({"class_name": "RMSprop",
      ...                 "config": {"learning_rate": 0.01, "is_legacy_optimizer": False}})
      RMSprop(learning_rate=0.01)
    """
    if isinstance(identifier, Mapping):
        return deserialize(identifier)
    return _serialization.get(identifier, REGISTRY)


def deserialize(config: Mapping[str, Any]) -> RMSprop:
    """``keras.optimizers.deserialize``: the optimizer a Keras dict describes (see :func:`get`)."""
    if not isinstance(config, Mapping):
        raise TypeError(f"An optimizer config must be a dict. Received: {config!r}.")
    inner = config.get("config")
    if isinstance(inner, Mapping) and inner and inner.get("is_legacy_optimizer", True):
        name = config.get("class_name")
        raise ValueError(
            f"tf-keras resolves {{'class_name': {name!r}, 'config': {dict(inner)!r}}} to its legacy "
            "optimizer (tf.keras.optimizers.legacy), because the config does not say "
            "'is_legacy_optimizer': False. jaxent implements only the new tf-keras >= 2.11 "
            "optimizer, whose update differs (the legacy RMSprop puts epsilon outside the square "
            "root when momentum is 0). Add 'is_legacy_optimizer': False to the config if the new "
            "optimizer is what you mean."
        )
    return _serialization.deserialize(config, REGISTRY)


def serialize(optimizer: RMSprop) -> dict[str, Any]:
    """``keras.optimizers.serialize``: ``{"module", "class_name", "config", "registered_name"}``.

    Example::

      >>> from jaxent import optimizers
      >>> d = optimizers.serialize(optimizers.RMSprop(0.01))
      >>> d["module"], d["class_name"], d["config"]["learning_rate"]
      ('keras.optimizers', 'RMSprop', np.float32(0.01))
    """
    if not isinstance(optimizer, KerasOptimizer):
        raise TypeError(
            "Only jaxent's Keras optimizer classes (RMSprop, SGD, Adam, ...) have a Keras config. "
            f"Received: {optimizer!r} "
            f"(of type {type(optimizer).__name__})."
        )
    return _serialization.serialize(optimizer, REGISTRY)
