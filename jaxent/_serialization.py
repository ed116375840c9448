"""Keras identifiers and configs: the one resolver behind every ``get``, ``serialize``, ``deserialize``.

tf-keras resolves what a script writes (``"mse"``, ``"RMSprop"``, ``{"class_name": ...,
"config": ...}``, an object, a function) in one module per section (``keras.losses``,
``keras.metrics``, ``keras.optimizers``, ``keras.optimizers.schedules``), each with slightly
different rules. This module implements those rules once, generically; each section describes
itself with a :class:`Registry` and calls :func:`get`, :func:`deserialize`, :func:`serialize`.

How to use it (a section such as ``jaxent.losses``)::

    from jaxent import _serialization

    _REGISTRY = _serialization.Registry(
        kind="loss function",            # Keras's word, used in error messages
        module="keras.losses",           # the "module" that serialize() writes
        objects={                        # exact Keras names, aliases included
            "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
            "MSE": mean_squared_error, "MeanSquaredError": MeanSquaredError, ...},
        accept_none=True,                # losses.get(None) -> None
        accept_callables=True,           # any callable (Loss instance, function) is returned
        unsupported={"huber": "use optax.huber_loss", ...},   # Keras names jaxent lacks
    )

    def get(identifier):
        return _serialization.get(identifier, _REGISTRY)

The rules, as measured on tf-keras 2.21 (``tests/golden/configs.json``, section ``get``):

* A **string** is looked up by its exact name (``"mse"``, ``"MSE"`` and ``"MeanSquaredError"``
  work, ``"Mse"`` does not), or ignoring case when ``case_insensitive`` (the optimizers:
  ``"RMSPROP"`` works). A name that is a class is instantiated with no arguments (Keras does this
  for losses, metrics and optimizers alike); a function is returned as it is.
* A **dict** ``{"class_name": ..., "config": ..., "module": ..., "registered_name": ...}`` (the
  format ``serialize`` writes; ``module`` and ``registered_name`` are optional and ignored, as
  the older format has none) names a class, built with ``cls.from_config(config)``, or a
  function, returned as it is; ``{"class_name": "function", "config": "<name>"}`` is how
  tf-keras 2.21 serializes a plain function.
* An **instance** of one of ``instance_types`` is returned as it is; so is any **callable**
  when ``accept_callables`` (Keras returns functions and ``Loss``/``Metric`` objects as given).
* ``None`` gives ``None`` when ``accept_none`` (``keras.losses.get``), else an error.

Errors are ``ValueError`` naming the identifier: unknown names list the known ones; a Keras
name that jaxent does not implement (``unsupported``) says so and what to use instead.
Deliberate difference: tf-keras returns some unknown names unchanged instead of raising
(``keras.metrics.get("foo") == "foo"``, ``keras.losses.get({"class_name": "Foo", "config":
{}}) == "Foo"``, so the error only surfaces later); jaxent raises at once.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "Registry",
    "fields_config",
    "get",
    "lookup",
    "deserialize",
    "serialize",
    "serialize_function",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Registry:
    """What one section (losses, metrics, optimizers, schedules) resolves, and how.

    Attributes:
      kind: Keras's word for the section in messages: ``"loss function"``, ``"metric
        function"``, ``"optimizer"``, ``"decay"``. Errors read ``Unknown <kind>: 'foo'.``.
      module: the ``"module"`` that :func:`serialize` writes for objects, e.g.
        ``"keras.losses"``, ``"keras.metrics"``, ``"keras.optimizers"``,
        ``"keras.optimizers.schedules"``.
      objects: exact name -> class or function: every name tf-keras accepts, aliases included
        (``"mse"``, ``"MSE"``, ``"mean_squared_error"``, ``"MeanSquaredError"``). Classes must
        offer ``from_config(config)`` (and be constructible with no arguments to be named by a
        bare string).
      case_insensitive: compare names ignoring case (tf-keras does so for optimizers only).
      instance_types: instances of these types are returned as they are by :func:`get`.
      accept_callables: any other callable is returned as it is (tf-keras's losses, metrics).
      accept_none: :func:`get` maps ``None`` to ``None`` (tf-keras's ``losses.get``); otherwise
        ``None`` is an error (``metrics.get``, ``optimizers.get``).
      unsupported: name -> a short hint, for names tf-keras knows but jaxent does not
        implement (matched with the same case rule as ``objects``). The error says
        ``'<name>' is a Keras <kind> that jaxent does not implement: <hint>``.
    """

    kind: str
    module: str
    objects: Mapping[str, Any]
    case_insensitive: bool = False
    instance_types: tuple[type, ...] = ()
    accept_callables: bool = False
    accept_none: bool = False
    unsupported: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def _key(self, name: str) -> str:
        return name.lower() if self.case_insensitive else name

    def known_names(self) -> list[str]:
        """The accepted names, sorted (for error messages)."""
        return sorted(self.objects, key=lambda n: (n.lower(), n))


def lookup(name: str, registry: Registry) -> Any:
    """The class or function that ``name`` names in ``registry`` (no instantiation).

    Raises:
      ValueError: ``name`` is unknown (the message lists the known names) or is a Keras name
        that jaxent does not implement (the message gives the registry's hint).

    Example::

      >>> r = Registry(kind="loss function", module="keras.losses", objects={"mse": abs})
      >>> lookup("mse", r) is abs
      True
    """
    if not isinstance(name, str):
        raise TypeError(f"A {registry.kind} name must be a string. Received: {name!r} "
                        f"(of type {type(name).__name__}).")
    table = {registry._key(k): v for k, v in registry.objects.items()}
    key = registry._key(name)
    if key in table:
        return table[key]
    known = ", ".join(repr(n) for n in registry.known_names())
    missing = {registry._key(k): v for k, v in registry.unsupported.items()}
    if key in missing:
        raise ValueError(
            f"Unknown {registry.kind}: {name!r}. It is a Keras {registry.kind} that jaxent does "
            f"not implement: {missing[key]}. Known names: {known}."
        )
    raise ValueError(f"Unknown {registry.kind}: {name!r}. Known names: {known}.")


def get(identifier: Any, registry: Registry) -> Any:
    """Resolve a Keras identifier as ``keras.<section>.get`` does (see the module docstring).

    Args:
      identifier: a name, a ``{"class_name", "config", ...}`` dict, an instance, a callable, or
        ``None``.
      registry: the section's :class:`Registry`.

    Returns:
      A new instance (a class named by a string or a dict), the function named, or
      ``identifier`` itself (instances, callables, ``None`` where accepted).

    Raises:
      ValueError: unknown or unsupported names, dicts without ``class_name``, and identifiers
        of any other type (``Could not interpret <kind> identifier: 42``).
      TypeError: a config with arguments the class does not take (from the class itself).

    Example::

      >>> class Scale:
      ...     def __init__(self, factor=2.0):
      ...         self.factor = factor
      ...     def get_config(self):
      ...         return {"factor": self.factor}
      ...     @classmethod
      ...     def from_config(cls, config):
      ...         return cls(**config)
      >>> r = Registry(kind="thing", module="my.things", objects={"Scale": Scale})
      >>> get("Scale", r).factor
      2.0
      >>> get({"class_name": "Scale", "config": {"factor": 3.0}}, r).factor
      3.0
    """
    if identifier is None and registry.accept_none:
        return None
    if isinstance(identifier, str):
        obj = lookup(identifier, registry)
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, Mapping):
        return deserialize(identifier, registry)
    if registry.instance_types and isinstance(identifier, registry.instance_types):
        return identifier
    if registry.accept_callables and callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {registry.kind} identifier: {identifier!r}")


def deserialize(config: Mapping[str, Any], registry: Registry) -> Any:
    """Build the object a ``{"class_name", "config", "module", "registered_name"}`` dict describes.

    ``class_name`` names a class (built with ``from_config`` from a copy of ``config``; a
    missing or ``None`` config means ``{}``) or a function (returned; its config is ignored, as
    in tf-keras). ``{"class_name": "function", "config": name}`` names a function the way
    tf-keras 2.21 serializes one. ``module`` and ``registered_name`` are accepted and ignored.

    Raises:
      ValueError: no ``class_name``, or an unknown or unsupported name.
      TypeError: ``config`` is not a dict for a class.
    """
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"Unknown `config` as a `dict`, config={config!r}: a {registry.kind} "
                         "config needs a 'class_name' (and usually a 'config').")
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "function":
        obj = lookup(inner, registry)
        if isinstance(obj, type):
            raise ValueError(f"{inner!r} names a class, not a function: "
                             f"{{'class_name': 'function', 'config': {inner!r}}}.")
        return obj
    obj = lookup(class_name, registry)
    if not isinstance(obj, type):
        return obj
    if inner is None:
        inner = {}
    if not isinstance(inner, Mapping):
        raise TypeError(f"The config of {class_name!r} must be a dict. Received: config={inner!r}.")
    return obj.from_config(dict(inner))


def fields_config(obj: Any) -> dict[str, Any]:
    """The Keras config of a jaxent dataclass: every field in declaration order, as plain values.

    Enums (``Reduction``) become their string, dtypes their name (``"float32"``), tuples lists,
    as Keras writes them; ``Class(**fields_config(obj))`` rebuilds ``obj``. Fields declared
    with ``metadata={"keras_config": False}`` are left out.
    """

    def plain(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, np.dtype):
            return value.name
        if isinstance(value, tuple):
            return [plain(item) for item in value]
        return value

    return {
        field.name: plain(getattr(obj, field.name))
        for field in dataclasses.fields(obj)
        if field.metadata.get("keras_config", True)
    }


def serialize_function(fn: Callable[..., Any]) -> dict[str, Any]:
    """tf-keras 2.21's dict for a plain function: ``class_name`` ``"function"``, ``config`` its name.

    Example::

      >>> serialize_function(abs)
      {'module': 'builtins', 'class_name': 'function', 'config': 'abs', 'registered_name': 'function'}
    """
    return {"module": "builtins", "class_name": "function", "config": fn.__name__,
            "registered_name": "function"}


def serialize(obj: Any, registry: Registry) -> dict[str, Any] | None:
    """tf-keras 2.21's ``serialize`` dict of ``obj`` (``keras.<section>.serialize``).

    An object with ``get_config()`` gives ``{"module": registry.module, "class_name": its class
    name, "config": obj.get_config(), "registered_name": None}``; a plain function gives
    :func:`serialize_function`'s dict; ``None`` gives ``None``. Both forms round-trip through
    :func:`deserialize` when the names are in the registry.

    Raises:
      TypeError: ``obj`` has no ``get_config`` and is not a function (an ``optax`` schedule or a
        lambda has no Keras config).
    """
    if obj is None:
        return None
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"module": registry.module, "class_name": type(obj).__name__,
                "config": obj.get_config(), "registered_name": None}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) and obj.__name__ != "<lambda>":
        return serialize_function(obj)
    raise TypeError(f"Cannot serialize {obj!r} as a Keras {registry.kind}: it has no get_config() "
                    "and is not a named function.")
