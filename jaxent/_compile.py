"""The jit boundary: how every public function, Loss call and metric method is compiled.

Three rules keep jaxent from slowing down or confusing a user's jitted step:

* **Inputs become arrays before the boundary.** A Python list handed to ``jax.jit`` is a
  pytree of scalars, traced one argument per element (two lists of 2000 floats take seconds
  to compile); :func:`to_array` turns lists, tuples, scalars and NumPy arrays into one array
  each, the way TensorFlow converts them (Python floats to float32, ints to int32).
* **Options are static, and a configuration object is static with all of its attributes.**
  A ``Loss`` or metric subclass written the Keras way sets its own attributes in
  ``__init__``; hashing only the base class's fields would let two such objects share one
  compiled function and one of them get the other's numbers. :func:`static_config` builds a
  key from *every* attribute (array attributes travel as traced inputs instead), and
  :class:`Configurable` gives the objects an ``__eq__``/``__hash__`` that agree with it.
* **No effect unless asked for.** The opt-in label checks
  (:func:`jaxent._validation.check_labels`) are part of the static key, so a checked and an
  unchecked trace never share a compiled function, and the default one carries no effect.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Hashable
from typing import Any

import jax
import numpy as np

from jaxent import _validation

_ARRAY_TYPES = (jax.Array, np.ndarray)
_PASS_THROUGH: set[type] = {np.ndarray}
"""Concrete array types seen so far: a set lookup is faster than ``isinstance(x, jax.Array)``.

Filled on first use rather than by making an array at import, which would start the backend
before the user's ``jax.distributed.initialize`` or ``jax_num_cpu_devices``."""
_CONVERTED = (list, tuple, int, float, complex, np.generic)


def to_array(x: Any) -> Any:
    """``x`` as one array if it is a Python scalar, list or tuple, converted as TensorFlow converts it.

    Python scalars and (nested) lists or tuples of them become float32 (floats) or int32 (ints)
    arrays, as ``tf.convert_to_tensor`` makes them, so a Python ``0.7`` weighting float64
    losses is ``f64(f32(0.7))`` in jaxent as in Keras. NumPy scalars (also inside lists) keep
    their dtype; arrays (JAX, NumPy, tracers), None and pytrees such as metric states pass
    through untouched.
    """
    if type(x) in _PASS_THROUGH or x is None:
        return x
    if isinstance(x, _ARRAY_TYPES):
        if not isinstance(x, jax.core.Tracer):
            _PASS_THROUGH.add(type(x))
        return x
    if isinstance(x, np.generic):  # a NumPy scalar keeps its dtype, as a NumPy array does
        return jax.numpy.asarray(x)
    if not isinstance(x, _CONVERTED):
        if isinstance(x, (str, bytes)) or jax.tree_util.all_leaves([x]):
            raise TypeError(f"expected an array, a number or a list of numbers, received {x!r} of type {type(x).__name__}")
        return x  # a pytree such as a metric state
    array = np.asarray(x)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"expected an array, a number or a list of numbers, received {x!r}")
    if array.dtype in (np.float64, np.int64) and _holds_python_numbers(x):
        array = array.astype(np.float32 if array.dtype == np.float64 else np.int32)
    return jax.numpy.asarray(array)


def _holds_python_numbers(x: Any) -> bool:
    """Whether ``x`` (a scalar or nested list/tuple) holds a Python float or int, not only NumPy scalars.

    TensorFlow infers float32/int32 from Python numbers but keeps a NumPy scalar's own dtype
    (``[np.float64(0.7)]`` stays float64).
    """
    if isinstance(x, (list, tuple)):
        return any(_holds_python_numbers(item) for item in x)
    return not isinstance(x, np.generic)


# --------------------------------------------------------------------------------------------
# Public functions: options static, inputs converted first.


_COMPILED: dict[Hashable, Callable[..., Any]] = {}
"""One ``jax.jit`` function per static key (the function, its options or configuration, the
label-check setting), so that a call passes only arrays: static arguments would be hashed and
compared in JAX's dispatch path on every call, which costs more than the computation at small
sizes. Bounded: the oldest entries go first."""
_MAX_COMPILED = 4096


def _compiled(key: Hashable, make: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
    """The compiled function of ``key``, made by ``make()`` on first use."""
    if len(_COMPILED) >= _MAX_COMPILED:
        del _COMPILED[next(iter(_COMPILED))]
    jitted = _COMPILED[key] = make()
    return jitted


def _traced(fn: Callable[..., Any], label_checks: bool, options: dict[str, Any], *inputs: Any) -> Any:
    with _validation.check_labels(label_checks):
        return fn(*inputs, **options)


def _convert_inputs(fn: Callable[..., Any], inputs: tuple[Any, ...], skip: int) -> tuple[Any, ...]:
    """``inputs`` through :func:`to_array`; a ``TypeError`` names the argument of ``fn`` that failed."""
    try:
        return tuple(map(to_array, inputs))
    except TypeError as error:
        names = list(inspect.signature(fn).parameters)[skip:]
        for name, x in zip(names, inputs):
            try:
                to_array(x)
            except TypeError:
                raise TypeError(f"`{name}` must be an array or a number. Received: {name}={x!r} ({error})") from None
        raise


def compiled_call(fn: Callable[..., Any], *inputs: Any, **options: Any) -> Any:
    """``fn(*inputs, **options)`` compiled: ``inputs`` converted with :func:`to_array`, ``options`` static.

    ``fn`` must be a module-level function, always called with the same option names in the
    same order, and the options hashable Python values; their types are part of the key
    (``1 == 1.0 == True``, but a bool option is not an int one). One compiled function per
    ``(fn, options, label-check setting)``, each with JAX's own cache of input shapes.
    """
    label_checks = _validation._CHECK_LABELS.get()
    values = options.values()
    key = (fn, label_checks, *values, *map(type, values))
    try:
        jitted = _COMPILED.get(key) or _compiled(
            key, lambda: jax.jit(functools.partial(_traced, fn, label_checks, options))
        )
    except TypeError as error:
        if "unhashable" not in str(error):
            raise
        unhashable = [name for name, value in options.items() if not isinstance(value, Hashable)]
        raise TypeError(
            f"{fn.__name__.removeprefix('_traced_')}: options must be hashable Python values (they are static); "
            f"received unhashable {', '.join(f'{n}={options[n]!r}' for n in unhashable) or 'options'}"
        ) from None
    try:
        arrays = [x if type(x) in _PASS_THROUGH else to_array(x) for x in inputs]
    except TypeError:
        arrays = _convert_inputs(fn, inputs, 0)  # raises, naming the argument
    return jitted(*arrays)


# --------------------------------------------------------------------------------------------
# Configuration objects (Loss classes, metrics): static with every attribute.

_KEY_ATTRIBUTE = "_jaxent_static_config"


class StaticConfig:
    """The static identity of a configuration object: its class and every non-array attribute.

    Equal keys mean the same computation. ``obj`` is a snapshot of the object (a shallow copy:
    setting an attribute of the original later does not change it) that runs the computation;
    attributes that are arrays are named in ``array_names`` and passed as inputs.
    """

    __slots__ = ("cls", "items", "array_names", "obj", "_hash")

    def __init__(self, obj: Any) -> None:
        attributes = {name: value for name, value in vars(obj).items() if name != _KEY_ATTRIBUTE}
        # A snapshot: compiled functions keep this key, and the object may be changed later.
        snapshot = copy.copy(obj)
        snapshot.__dict__.pop(_KEY_ATTRIBUTE, None)
        self.cls = type(obj)
        # Types are part of the key: 1 == 1.0 == True, but they are not the same configuration.
        self.items = tuple(
            (name, type(value), value) for name, value in attributes.items() if not isinstance(value, _ARRAY_TYPES)
        )
        self.array_names = tuple(name for name, value in attributes.items() if isinstance(value, _ARRAY_TYPES))
        self.obj = snapshot
        try:
            self._hash = hash((self.cls, self.items, self.array_names))
        except TypeError:
            bad = next(name for name, _, value in self.items if not _hashable(value))
            raise TypeError(
                f"{self.cls.__name__}.{bad} = {attributes[bad]!r} is not hashable. jaxent compiles "
                f"{self.cls.__name__} with its attributes as static configuration (arrays are passed as "
                f"inputs): store a tuple instead of a list, a frozen mapping or a JAX/NumPy array"
            ) from None

    def arrays(self) -> tuple[Any, ...]:
        """The array attributes of the object, in ``array_names`` order (the traced inputs)."""
        return tuple(getattr(self.obj, name) for name in self.array_names)

    def rebuild(self, arrays: tuple[Any, ...]) -> Any:
        """The object with its array attributes replaced by ``arrays`` (itself if it has none)."""
        if not self.array_names:
            return self.obj
        clone = copy.copy(self.obj)
        clone.__dict__.pop(_KEY_ATTRIBUTE, None)
        clone.__dict__.update(zip(self.array_names, arrays))
        return clone

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (
            type(other) is StaticConfig
            and self._hash == other._hash
            and self.cls is other.cls
            and self.array_names == other.array_names
            and self.items == other.items
        )

    def __repr__(self) -> str:
        return repr(self.obj)


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def static_config(obj: Any) -> StaticConfig:
    """The :class:`StaticConfig` of ``obj``, cached on it until one of its attributes is set."""
    key = obj.__dict__.get(_KEY_ATTRIBUTE)
    if key is None:
        key = StaticConfig(obj)
        object.__setattr__(obj, _KEY_ATTRIBUTE, key)
    return key


class Configurable:
    """Base of configuration objects: equality and hash over every attribute, cached static key.

    Subclasses may be (frozen) dataclasses, declared with ``eq=False`` so that they keep this
    equality, or plain classes that set attributes in ``__init__`` the Keras way. Setting or
    deleting an attribute drops the cached key, so the next call compiles for the new value.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__.pop(_KEY_ATTRIBUTE, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self.__dict__.pop(_KEY_ATTRIBUTE, None)
        object.__delattr__(self, name)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = static_config(self), static_config(other)
        return mine == theirs and all(
            np.array_equal(a, b) for a, b in zip(mine.arrays(), theirs.arrays(), strict=True)
        )

    def __hash__(self) -> int:
        key = static_config(self)
        if key.array_names:
            raise TypeError(
                f"{type(self).__name__} is not hashable: its attributes {key.array_names} are arrays. "
                "jaxent itself passes them as inputs; to use the object as a static argument of your own "
                "jax.jit, store them as tuples"
            )
        return hash(key)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop(_KEY_ATTRIBUTE, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _traced_method(fn: Callable[..., Any], config: StaticConfig, label_checks: bool, *inputs: Any) -> Any:
    # With array attributes, the first input holds them (one argument fewer to dispatch without).
    arrays, inputs = (inputs[0], inputs[1:]) if config.array_names else ((), inputs)
    with _validation.check_labels(label_checks):
        return fn(config.rebuild(arrays), *inputs)


def compiled_method(fn: Callable[..., Any], obj: Configurable, *inputs: Any) -> Any:
    """``fn(obj, *inputs)`` compiled, with ``obj`` static (:func:`static_config`) and ``inputs`` converted.

    Inputs that are pytrees (metric states) pass through :func:`to_array` unchanged; array
    attributes of ``obj`` are passed as inputs too.
    """
    config = obj.__dict__.get(_KEY_ATTRIBUTE) or static_config(obj)
    label_checks = _validation._CHECK_LABELS.get()
    key = (fn, config, label_checks)
    jitted = _COMPILED.get(key) or _compiled(
        key, lambda: jax.jit(functools.partial(_traced_method, fn, config, label_checks))
    )
    try:
        arrays = [x if type(x) in _PASS_THROUGH else to_array(x) for x in inputs]
    except TypeError:
        arrays = _convert_inputs(fn, inputs, 1)  # raises, naming the argument
    if config.array_names:
        return jitted(config.arrays(), *arrays)
    return jitted(*arrays)
