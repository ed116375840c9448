"""Inputs as TensorFlow converts them, before any ``jit`` boundary; integer labels widened.

``jax.jit`` would trace a Python list as a pytree of scalars (one argument per element) and a
Python float as a weakly typed value; Keras sees ``tf.convert_to_tensor`` of both. So every
public entry point converts its array arguments here first:

* ``jax.Array`` passes untouched (the fast path); so do tracers (inside the user's ``jit``).
* Python floats become float32 and Python ints int32, as TensorFlow infers them, also inside
  (nested) lists and tuples. An int outside int32 becomes int64 where ``jax_enable_x64`` is
  on (TensorFlow's choice) and is an ``OverflowError`` naming the argument otherwise, instead
  of wrapping around.
* NumPy arrays and scalars keep their dtype, as in TensorFlow; so does anything else
  ``jnp.asarray`` accepts (``__array__``: pandas, xarray, CPU torch; ``__jax_array__``; a list
  of tracers).
* Complex values are refused (Keras's losses are real: reducing them to their real part
  would be a silent wrong number); ``None``, ragged lists, dicts, strings and object arrays
  are a ``TypeError`` naming the argument.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from jaxent import _validation

__all__ = ["as_array", "as_optional_array", "check_real", "as_labels", "class_ids", "jit_entry"]

F = TypeVar("F", bound=Callable[..., Any])

_INT32 = np.iinfo(np.int32)


def _error(name: str, x: Any, why: str) -> TypeError:
    text = repr(x)
    if len(text) > 80:
        text = text[:77] + "..."
    return TypeError(f"`{name}` must be an array or a (nested list of) numbers; {why}. Received: {name}={text}")


def _python_numbers(x: Any) -> bool:
    """Whether ``x`` (a scalar or nested list/tuple) holds a Python number, not only NumPy scalars."""
    if isinstance(x, (list, tuple)):
        return any(map(_python_numbers, x))
    return not isinstance(x, np.generic)


def _from_python(x: Any, name: str) -> jax.Array:
    """A Python scalar or nested list as TensorFlow converts it."""
    try:
        array = np.asarray(x)
    except jax.errors.TracerArrayConversionError:
        return jnp.asarray(x)  # a list of tracers, inside the user's jit
    except (ValueError, OverflowError):
        raise _error(name, x, "its nested lists have different lengths (a ragged list)") from None
    if array.dtype == object:
        raise _error(name, x, "it holds values that are not numbers, or ragged lists")
    if array.dtype.kind not in "biuf":
        raise _complex_or_other(name, x, array.dtype)
    if _python_numbers(x):
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        elif array.dtype.kind in "iu":
            array = _narrow_integers(array, name)
    return jnp.asarray(array)


def _narrow_integers(array: np.ndarray, name: str) -> np.ndarray:
    """Python ints as int32, or int64 past its range where x64 is on, as TensorFlow infers them."""
    if array.size == 0 or (_INT32.min <= array.min() and array.max() <= _INT32.max):
        return array.astype(np.int32)
    if jax.config.jax_enable_x64 and array.dtype == np.int64:
        return array
    raise OverflowError(
        f"`{name}` holds the Python int {array.max() if array.max() > _INT32.max else array.min()}, outside int32 "
        f"[{_INT32.min}, {_INT32.max}]. TensorFlow would make it int64, which JAX has only with jax_enable_x64; "
        f"pass a float or a NumPy int64 array with x64 enabled"
    )


def _complex_or_other(name: str, x: Any, dtype: np.dtype) -> TypeError:
    if dtype.kind == "c":
        return _error(name, x, f"complex values ({dtype}) are not supported (their imaginary part would be lost)")
    return _error(name, x, f"its dtype {dtype} is not numeric")


_ARRAY_TYPES: set[type] = set()
"""The ``jax.Array`` classes seen so far (``ArrayImpl``, tracers): ``type(x) in`` a set costs a
tenth of ``isinstance(x, jax.Array)``, an ABC check, on every argument of every call. Filled on
first use: making an array at import would start the backend before the user's
``jax.distributed.initialize``."""


def as_array(x: Any, name: str) -> jax.Array:
    """``x`` as one array, converted as TensorFlow converts it (see the module docstring).

    A ``jax.Array`` passes as it is; its dtype is checked when the function is traced
    (:func:`check_real`), not on every call.
    """
    if type(x) in _ARRAY_TYPES:
        return x
    if isinstance(x, jax.Array):
        _ARRAY_TYPES.add(type(x))
        return x
    if x is None:
        raise TypeError(f"`{name}` is required: an array or a number, not None")
    if isinstance(x, (float, int, list, tuple)) and not isinstance(x, bool):
        return _from_python(x, name)
    if isinstance(x, (dict, set, frozenset, str, bytes)):
        raise _error(name, x, f"a {type(x).__name__} is not an array")
    try:
        array = jnp.asarray(x)
    except (TypeError, ValueError) as error:
        raise _error(name, x, str(error)) from None
    if array.dtype.kind not in "biuf":
        raise _complex_or_other(name, x, array.dtype)
    return array


def check_real(x: jax.Array | None, name: str) -> None:
    """Refuse a complex array at trace time (the dtype is static), naming the argument."""
    if x is not None and jnp.iscomplexobj(x):
        raise _complex_or_other(name, x, x.dtype)


def as_optional_array(x: Any, name: str) -> jax.Array | None:
    """``None``, or ``x`` as :func:`as_array` converts it (``sample_weight``, ``bias``)."""
    return None if x is None else as_array(x, name)


def as_labels(labels: jax.Array) -> jax.Array:
    """Integer labels of any width as int32, so that range, ``ignore_class`` and argmax comparisons do not wrap.

    ``uint8`` labels of a 256-class model, or ``ignore_class=-100`` against ``uint8`` labels,
    would otherwise be compared in 8 bits. 64-bit labels (x64 on) stay 64-bit.
    """
    if (jnp.issubdtype(labels.dtype, jnp.integer) and labels.dtype.itemsize < 4) or labels.dtype == jnp.bool_:
        return labels.astype(jnp.int32)
    if jnp.issubdtype(labels.dtype, jnp.unsignedinteger):
        # uint32 (uint64 with x64) compared with a negative ignore_class would wrap as well.
        return labels.astype(jnp.int64 if jax.config.jax_enable_x64 else jnp.int32)
    return labels


def _check_static_options(fn: Callable[..., Any], static: tuple[str, ...], args: Any, kwargs: dict[str, Any]) -> None:
    """Raise the validator's error for a static option JAX could not hash (a list, an array, a tracer)."""
    bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    for name in static:
        if name in bound and name in _validation.OPTION_NAMES:
            _validation.check_option(name, bound[name])


def jit_entry(
    *, static: tuple[str, ...] = (), optional: tuple[str, ...] = (), objects: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Make ``fn`` an entry point: its array arguments converted by :func:`as_array`, then ``jax.jit``.

    ``static`` names the options (Python values, part of JAX's cache key); ``optional`` the
    array arguments that may be None (``sample_weight``); ``objects`` the pytree arguments that
    pass as they are (a Loss or metric object, a metric state). Every other argument is an
    array. The function is jitted once, here: JAX's cache is the only one. Its array arguments'
    dtypes are checked when it is traced (:func:`check_real`), not on every call.
    """

    def decorate(fn: F) -> F:
        names = tuple(inspect.signature(fn).parameters)
        converters = {
            name: as_optional_array if name in optional else as_array
            for name in names
            if name not in static and name not in objects
        }
        positional = tuple((index, name, converters[name]) for index, name in enumerate(names) if name in converters)

        @functools.wraps(fn)
        def traced(*args: Any, **kwargs: Any) -> Any:
            for index, name, _ in positional:
                if index < len(args):
                    check_real(args[index], name)
            for name, value in kwargs.items():
                if name in converters:
                    check_real(value, name)
            return fn(*args, **kwargs)

        jitted = jax.jit(traced, static_argnames=static)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if len(args) > len(names):
                return fn(*args, **kwargs)  # Python's own TypeError
            args = list(args)
            for index, name, convert in positional:
                if index < len(args):
                    args[index] = convert(args[index], name)
            for name, value in kwargs.items():
                convert = converters.get(name)
                if convert is not None:
                    kwargs[name] = convert(value, name)
            try:
                return jitted(*args, **kwargs)
            except (TypeError, ValueError):
                _check_static_options(fn, static, args, kwargs)  # a clearer error naming the option, if one is bad
                raise

        return call  # type: ignore[return-value]

    return decorate


def class_ids(labels: jax.Array) -> jax.Array:
    """Labels as class ids to compare with ``[0, C)``, ``ignore_class`` or an argmax, never silently remapped.

    Integer labels are widened by :func:`as_labels`. Float labels are truncated toward zero
    (Keras casts them to int64) but kept as floats, in float32 or wider: casting them to an
    integer type would turn NaN into class 0 (XLA converts NaN to 0), while a NaN float stays
    NaN, compares unequal to every class and ``ignore_class``, and so gives NaN for its entry.
    Callers cast to an integer index only after masking the entries out of range.
    """
    if not jnp.issubdtype(labels.dtype, jnp.floating):
        return as_labels(labels)
    return jnp.trunc(labels.astype(jnp.promote_types(labels.dtype, jnp.float32)))
