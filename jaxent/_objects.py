"""The one object model: losses, metrics, schedules and optimizers are frozen pytrees.

A jaxent object is configuration that a user's ``jax.jit`` sees in one of three ways: as an
ordinary argument, closed over, or as a static argument. All three must give the object's own
numbers, never another object's. :class:`Module` (after equinox's) makes that hold:

* **Frozen after ``__init__``.** Attributes are set in ``__init__`` (the Keras subclass pattern,
  dataclass fields, ``__slots__``); assigning or deleting one afterwards raises
  :class:`FrozenInstanceError` naming it. :meth:`Module.replace` makes a changed copy.
* **Arrays are leaves, the rest is static.** An attribute holding an array, or a pytree whose
  leaves are all arrays, is a pytree child, traced by ``jit``; every other attribute must be a
  hashable immutable value (numbers, strings, enums, dtypes, functions, tuples of these, other
  array-free modules) and becomes part of the pytree's static structure, compared with its
  type (``1``, ``1.0`` and ``True`` are different configurations). An opaque mutable object
  (a model, a params holder) is refused at construction: its contents would be baked into the
  first trace and silently reused.
* **No cache of ours.** jaxent's entry points are ``jax.jit`` functions that take the object as
  a pytree argument, so JAX's own cache, keyed by the static structure, is the only one.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import enum
import functools
import hashlib
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import jax
import numpy as np

__all__ = ["Module", "FrozenInstanceError", "is_array", "split_keyword_arrays", "fingerprint"]

_PRIVATE = "_jaxent_"
"""Prefix of the ``__dict__`` keys jaxent keeps on a frozen module (not attributes: derived from them)."""
_TREE = _PRIVATE + "tree"
"""The key of a frozen module's pytree layout (names and static part)."""

_SCALARS = (type(None), bool, int, float, complex, str, bytes, enum.Enum, np.generic, np.dtype, type,
            range, type(Ellipsis))
_CALLABLES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.BuiltinMethodType,
              np.ufunc, jax.custom_jvp, jax.custom_vjp)

M = TypeVar("M", bound="Module")


class FrozenInstanceError(dataclasses.FrozenInstanceError):
    """An attribute of a jaxent object was set or deleted after ``__init__``."""


def is_array(x: Any) -> bool:
    """Whether ``x`` is a JAX or NumPy array (a tracer included): a pytree leaf of a module."""
    return isinstance(x, (jax.Array, np.ndarray))


def _callable_is_static(value: Any) -> bool:
    if isinstance(value, functools.partial):
        return _is_static(value.func) and _is_static(value.args) and _is_static(tuple(value.keywords.items()))
    if isinstance(value, types.MethodType):
        return _is_static(value.__self__)
    # jax.jit's functions: immutable wrappers of a function, hashed by identity.
    return isinstance(value, _CALLABLES) or type(value).__name__ == "PjitFunction"


def _is_static(value: Any) -> bool:
    """Whether ``value`` may be static configuration: hashable, immutable, holding no array."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(map(_is_static, value))
    if isinstance(value, Module):
        return not jax.tree.leaves(value)
    return _callable_is_static(value)


def _typed(value: Any) -> Any:
    """``value`` with the type of every scalar in it, so that ``1``, ``1.0`` and ``True`` differ."""
    if isinstance(value, tuple):
        return (tuple, *map(_typed, value))
    if isinstance(value, frozenset):
        return (frozenset, frozenset(map(_typed, value)))
    return (type(value), value)


class _Layout:
    """The static part of a frozen module: its class, the names of its pytree children, and the static attributes.

    Pytree metadata, so JAX hashes and compares it on every dispatch: the hash is computed once
    (and not pickled: string hashes differ between processes), equality checks identity first.
    """

    __slots__ = ("cls", "names", "static", "_key", "_hash")

    def __init__(self, cls: type, names: tuple[str, ...], static: tuple[tuple[str, Any], ...]) -> None:
        self.cls, self.names, self.static = cls, names, static
        self._key = (cls, names, tuple((name, _typed(value)) for name, value in static))
        self._hash = None

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self._key)
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (type(other) is _Layout and self._key == other._key)

    def __getstate__(self) -> tuple[type, tuple[str, ...], tuple[tuple[str, Any], ...]]:
        return self.cls, self.names, self.static

    def __setstate__(self, state: tuple[type, tuple[str, ...], tuple[tuple[str, Any], ...]]) -> None:
        self.__init__(*state)

    def __repr__(self) -> str:
        return f"{self.cls.__name__}({', '.join(f'{name}={value!r}' for name, value in self.static)})"


def _attributes(obj: Module) -> Iterator[tuple[str, Any]]:
    """Every attribute of ``obj``: its ``__dict__`` (in assignment order), then ``__slots__``."""
    for name, value in obj.__dict__.items():
        if not name.startswith(_PRIVATE):
            yield name, value
    for cls in type(obj).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                yield name, getattr(obj, name)


def _layout(obj: Module) -> _Layout:
    """Sort the attributes of ``obj`` into pytree children and static configuration, or raise."""
    names, static = [], []
    for name, value in _attributes(obj):
        if _is_static(value):
            static.append((name, value))
        elif is_array(value) or all(map(is_array, jax.tree.leaves(value))):
            names.append(name)  # an array, or a pytree of arrays (an array-holding module included)
        else:
            cls = type(obj).__name__
            raise TypeError(
                f"{cls}.{name} = {value!r} ({type(value).__name__}) is not an array, a pytree of arrays or a hashable "
                f"immutable value. jaxent objects are frozen pytrees: arrays are traced, everything else is static "
                f"configuration compared by value, so a mutable object would be read once and baked into the "
                f"compiled code. Store its arrays (e.g. a dict of jax.Array), or a tuple instead of a list"
            )
    return _Layout(type(obj), tuple(names), tuple(static))


class _FreezeOnInit(abc.ABCMeta):
    """Freezes an object when its outermost ``__init__`` returns."""

    def __setattr__(cls, name: str, value: Any) -> None:
        # A frozen dataclass installs its own __setattr__/__delattr__ (dataclasses.FrozenInstanceError,
        # no hint); Module's freeze the same fields after __init__ and say how to make a changed copy.
        params = cls.__dict__.get("__dataclass_params__")
        if name in ("__setattr__", "__delattr__") and params is not None and params.frozen:
            return
        super().__setattr__(name, value)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = super().__call__(*args, **kwargs)
        object.__setattr__(obj, _TREE, _layout(obj))
        return obj


def _flatten(obj: Module) -> tuple[tuple[Any, ...], _Layout]:
    layout = obj.__dict__[_TREE]
    return tuple(getattr(obj, name) for name in layout.names), layout


def _flatten_with_keys(obj: Module) -> tuple[tuple[tuple[Any, Any], ...], _Layout]:
    layout = obj.__dict__[_TREE]
    return tuple((jax.tree_util.GetAttrKey(name), getattr(obj, name)) for name in layout.names), layout


def _unflatten(layout: _Layout, children: Any) -> Module:
    obj = object.__new__(layout.cls)
    for name, value in (*layout.static, *zip(layout.names, children)):
        object.__setattr__(obj, name, value)
    object.__setattr__(obj, _TREE, layout)
    return obj


class Module(metaclass=_FreezeOnInit):
    """Base of every jaxent object: frozen after ``__init__``, a pytree whose leaves are its arrays.

    Equality compares the class, the static attributes (with their types) and the arrays (by
    value); an object without array attributes is hashable, so it can be a static argument of
    ``jax.jit``. One with array attributes is not hashable: pass it as an ordinary argument,
    where its arrays are traced.

    Example:
      >>> from jaxent.losses import Loss
      >>> class Scaled(Loss):
      ...     def __init__(self, scale, **kwargs):
      ...         super().__init__(**kwargs)
      ...         self.scale = scale
      ...     def call(self, y_true, y_pred):
      ...         return self.scale * jnp.mean(jnp.square(y_pred - y_true), axis=-1)
      >>> loss = Scaled(2.0)
      >>> loss.scale = 3.0
      Traceback (most recent call last):
      ...
      jaxent._objects.FrozenInstanceError: Scaled is frozen after __init__: cannot set `scale`. Make a changed copy with obj.replace(scale=...), or build a new Scaled
      >>> loss.replace(scale=3.0).scale
      3.0
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        jax.tree_util.register_pytree_with_keys(cls, _flatten_with_keys, _unflatten, _flatten)

    def __setattr__(self, name: str, value: Any) -> None:
        if _TREE in self.__dict__:
            raise self._frozen_error(name, "set")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if _TREE in self.__dict__:
            raise self._frozen_error(name, "delete")
        object.__delattr__(self, name)

    def _frozen_error(self, name: str, action: str) -> FrozenInstanceError:
        cls = type(self).__name__
        return FrozenInstanceError(
            f"{cls} is frozen after __init__: cannot {action} `{name}`. Make a changed copy with "
            f"obj.replace({name}=...), or build a new {cls}"
        )

    def replace(self: M, **changes: Any) -> M:
        """A copy with the attributes in ``changes`` replaced (checked as ``__init__``'s are).

        ``__init__`` does not run again: attributes derived from a replaced one keep their value.

        Example:
          >>> from jaxent.losses import CategoricalCrossentropy
          >>> CategoricalCrossentropy().replace(label_smoothing=0.1).label_smoothing
          0.1
        """
        known = dict(_attributes(self))
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise AttributeError(f"{type(self).__name__} has no attribute {', '.join(map(repr, unknown))} to replace")
        clone = object.__new__(type(self))
        for name, value in {**known, **changes}.items():
            object.__setattr__(clone, name, value)
        object.__setattr__(clone, _TREE, _layout(clone))
        return clone

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = _flatten(self), _flatten(other)
        if mine[1] != theirs[1]:
            return False
        leaves = jax.tree.leaves(mine[0]), jax.tree.leaves(theirs[0])
        return jax.tree.structure(mine[0]) == jax.tree.structure(theirs[0]) and all(
            a is b or (not isinstance(a, jax.core.Tracer) and not isinstance(b, jax.core.Tracer)
                       and np.shape(a) == np.shape(b) and bool(np.array_equal(a, b)))
            for a, b in zip(*leaves, strict=True)
        )

    def __hash__(self) -> int:
        children, layout = _flatten(self)
        if jax.tree.leaves(children):
            raise TypeError(
                f"{type(self).__name__} is not hashable: its attributes {', '.join(layout.names)} hold arrays. Pass it "
                "to jax.jit as an ordinary argument (its arrays are traced), or close over it"
            )
        return hash(layout)

    def __setstate__(self, state: Any) -> None:
        # pickle and copy restore through here: a plain setattr would hit the frozen check.
        dict_state, slot_state = state if isinstance(state, tuple) else (state, None)
        for name, value in {**(dict_state or {}), **(slot_state or {})}.items():
            object.__setattr__(self, name, value)

    def __copy__(self: M) -> M:
        return self

    def __deepcopy__(self: M, memo: dict[int, Any]) -> M:
        return jax.tree.map(copy.deepcopy, self)

    def __repr__(self) -> str:
        items = ", ".join(f"{name}={value!r}" for name, value in _attributes(self) if not name.startswith("_"))
        return f"{type(self).__name__}({items})"


def derived(obj: Module, key: str, compute: Callable[[Module], Any]) -> Any:
    """``compute(obj)``, computed once and kept on the frozen ``obj`` (it cannot change after ``__init__``).

    Not a cache beside the object: the value lives and dies with it, and a copy made by
    :meth:`Module.replace` computes its own.
    """
    name = _PRIVATE + key
    value = obj.__dict__.get(name)
    if value is None:
        value = compute(obj)
        object.__setattr__(obj, name, value)
    return value


def fingerprint(obj: Module) -> str | None:
    """A digest of ``obj``'s array values (its static part is compared on its own); None while they are traced.

    The same in every process (unlike ``hash``), so it can tag a pickled metric state.
    """
    leaves = jax.tree.leaves(obj)
    if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
        return None
    digest = hashlib.sha256()
    for leaf in leaves:
        leaf = np.asarray(leaf)
        digest.update(f"{leaf.dtype}{leaf.shape}".encode())
        digest.update(np.ascontiguousarray(leaf).tobytes())
    return digest.hexdigest()[:16]


def split_keyword_arrays(kwargs: Mapping[str, Any]) -> tuple[tuple[tuple[str, Any], ...], dict[str, Any] | None]:
    """A wrapped function's keyword arguments split into static values and arrays (pytree leaves; None if none)."""
    static = tuple((name, value) for name, value in kwargs.items() if not is_array(value))
    arrays = {name: value for name, value in kwargs.items() if is_array(value)}
    return static, arrays or None
