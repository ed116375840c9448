"""Argument checks shared by every public entry point; each message names the argument and the value.

Two kinds of problems exist. Options (``from_logits``, ``label_smoothing``, ``axis``, ...) are
Python values known at trace time: :func:`check_option` is the one validator that losses,
metrics and the fused loss all use for them. Label values are only known at run time and
cannot raise inside ``jit``: an out-of-range label gives NaN, and the error that names it is
opt-in (the static option ``check_labels=True``, :func:`label_checks`), because a ``checkify`` check leaves an effect in the caller's
jaxpr, and an effect turns off JAX's C++ dispatch fast path for the whole jitted step.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

from jaxent._inputs import class_ids
from jaxent._reduction import Reduction

# --------------------------------------------------------------------------------------------
# Options.


def _type_error(name: str, value: object, expected: str) -> TypeError:
    return TypeError(f"`{name}` must be {expected}. Received: {name}={value!r} of type {type(value).__name__}")


def _concrete(name: str, value: object) -> object:
    """``value`` itself, a NumPy/JAX 0-d array as a Python scalar; a traced value is an error."""
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"`{name}` is a static option and must be a Python value, not a traced array. Received: {value!r}")
    if isinstance(value, (np.ndarray, np.generic, jax.Array)) and np.ndim(value) == 0:
        return np.asarray(value).item()
    return value


def _flag(name: str, value: object) -> bool:
    value = _concrete(name, value)
    if not isinstance(value, bool):
        raise _type_error(name, value, "a bool (True or False)")
    return value


def _integer(name: str, value: object) -> int:
    value = _concrete(name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _type_error(name, value, "an int")
    return int(value)


def _axis(name: str, value: object) -> int:
    """An axis: an int, with Keras's ``ValueError`` (and message) for anything else, bools included."""
    value = _concrete(name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"`{name}` must be of type `int`. Received: {name}={value!r} of type {type(value)}")
    return int(value)


def _optional_integer(name: str, value: object) -> int | None:
    return None if value is None else _integer(name, value)


def _positive_integer(name: str, value: object) -> int:
    value = _integer(name, value)
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value}")
    return value


def _class_count(name: str, value: object) -> int | None:
    """``num_classes`` of ``to_categorical``: a non-negative int (0, like None, means "infer")."""
    if value is None:
        return None
    value = _integer(name, value)
    if value < 0:
        raise ValueError(f"`{name}` must be a non-negative int or None. Received: {name}={value}")
    return value


def _optional_positive_integer(name: str, value: object) -> int | None:
    return None if value is None else _positive_integer(name, value)


def _real(name: str, value: object) -> float:
    """A real number as a Python float; a NumPy float scalar keeps its type (Keras keeps its precision)."""
    if isinstance(value, np.floating) and np.ndim(value) == 0:
        number = value
    else:
        value = _concrete(name, value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise _type_error(name, value, "a real number (a Python float)")
        number = float(value)
    if math.isnan(number):
        raise ValueError(f"`{name}` must not be NaN. Received: {name}=nan")
    return number


def _unit_interval(name: str, value: object) -> float:
    value = float(_real(name, value))
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value}")
    return value


def _non_negative(name: str, value: object) -> float:
    value = float(_real(name, value))
    if not 0.0 <= value < math.inf:
        raise ValueError(f"`{name}` must be a finite float >= 0. Received: {name}={value}")
    return value


def _real_or_reals(name: str, value: object) -> float | tuple[float, ...]:
    """A real number, or a sequence of them (per-class weights) as a tuple of floats (hashable)."""
    if isinstance(value, (list, tuple)) or (isinstance(value, (np.ndarray, jax.Array)) and np.ndim(value) == 1):
        if isinstance(value, (np.ndarray, jax.Array)):
            value = _concrete(name, value)
            value = np.asarray(value).tolist()
        if not value:
            raise ValueError(f"`{name}` must be a float or a non-empty list of floats. Received: {name}=[]")
        return tuple(float(_real(name, item)) for item in value)
    return _real(name, value)


def _optional_string(name: str, value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _type_error(name, value, "a str or None")
    return value


def _choice(*allowed: str) -> Callable[[str, object], str]:
    def check(name: str, value: object) -> str:
        if value not in allowed:
            raise ValueError(f"`{name}` must be one of {allowed}. Received: {name}={value!r}")
        return value

    return check


def _float_dtype(name: str, value: object) -> jnp.dtype:
    """A floating dtype (None: float32), as requested: users canonicalise (float64 is float32 unless x64 is on)."""
    if value is None:
        return jnp.dtype(jnp.float32)
    try:
        resolved = jnp.dtype(value)
    except TypeError:
        resolved = None
    if resolved is None or not jnp.issubdtype(resolved, jnp.floating):
        raise TypeError(f"`{name}` must be None or a floating-point dtype. Received: {name}={value!r}")
    return resolved


_OPTIONS: dict[str, Callable[[str, object], Any]] = {
    "from_logits": _flag,
    "label_smoothing": _unit_interval,
    "axis": _axis,
    "ignore_class": _optional_integer,
    "threshold": _real,
    "delta": _real,
    "gamma": _real,
    "alpha": _real_or_reals,
    "apply_class_balancing": _flag,
    "z_loss": _non_negative,
    "block_size": _optional_positive_integer,
    "kernel_layout": _choice("dv", "vd"),
    "k": _positive_integer,
    "num_classes": _class_count,
    "name": _optional_string,
    "reduction": lambda name, value: Reduction.validate(value),
    "dtype": _float_dtype,
    "check_labels": _flag,
}
"""The validator of every option jaxent's losses, metrics and fused loss take, by name."""
OPTION_NAMES = frozenset(_OPTIONS)


def check_option(name: str, value: object) -> Any:
    """``value`` checked and normalised as the option ``name`` (``TypeError``/``ValueError`` naming both).

    bools must be bools, ints ints (not bools), ``label_smoothing`` a float in ``[0, 1]``,
    ``z_loss`` a float ``>= 0``, ``threshold`` a real number, ``dtype`` a floating dtype; NumPy or
    JAX 0-d arrays are accepted for numbers and returned as Python scalars.
    """
    return _OPTIONS[name](name, value)


def check_options(options: Mapping[str, object]) -> dict[str, Any]:
    """Every option of ``options`` that :func:`check_option` knows, checked; the others as given."""
    return {name: check_option(name, value) if name in _OPTIONS else value for name, value in options.items()}


# --------------------------------------------------------------------------------------------
# Shapes and axes (trace time).


def check_axis(axis: int, ndim: int, *, arg: str = "axis", wrap: bool = False) -> int:
    """``axis`` as a non-negative int for an array of rank ``ndim``.

    ``wrap=True`` takes the axis modulo the rank, as Keras's sparse categorical crossentropy
    does; otherwise it must lie in ``[-ndim, ndim)``.
    """
    axis = _axis(arg, axis)
    if ndim == 0:
        raise ValueError(f"`{arg}`={axis} needs an input of rank >= 1, received a scalar")
    if wrap:
        return axis % ndim
    if not -ndim <= axis < ndim:
        raise ValueError(f"`{arg}`={axis} is out of range for an input of rank {ndim} (valid: [{-ndim}, {ndim}))")
    return axis % ndim


def check_same_shape(a_name: str, a_shape: Sequence[int], b_name: str, b_shape: Sequence[int]) -> None:
    """Raise if two shapes differ (Keras's "compatible" for fully known shapes)."""
    if tuple(a_shape) != tuple(b_shape):
        raise ValueError(
            f"`{a_name}` and `{b_name}` must have the same shape, received "
            f"{a_name}.shape={tuple(a_shape)} vs {b_name}.shape={tuple(b_shape)}"
        )


def check_broadcastable(a_name: str, a_shape: Sequence[int], b_name: str, b_shape: Sequence[int]) -> tuple[int, ...]:
    """The broadcast shape of two shapes, or a ValueError naming both."""
    try:
        return tuple(np.broadcast_shapes(tuple(a_shape), tuple(b_shape)))
    except ValueError:
        raise ValueError(
            f"`{a_name}` and `{b_name}` shapes are not broadcastable: "
            f"{a_name}.shape={tuple(a_shape)} vs {b_name}.shape={tuple(b_shape)}"
        ) from None


# --------------------------------------------------------------------------------------------
# Label values (run time, opt-in).

_CHECK_LABELS: contextvars.ContextVar[bool] = contextvars.ContextVar("jaxent_check_labels", default=False)


@contextlib.contextmanager
def label_checks(enabled: bool) -> Iterator[None]:
    """While jaxent traces one of its own functions, whether to add the opt-in label checks.

    Users switch the check on with the explicit static option ``check_labels=True`` of the
    sparse functions and objects; jaxent's jitted entry points then trace their formulas
    inside this block. The option is part of JAX's cache key, so a checked and an unchecked
    trace never share a compiled function, in any thread.
    """
    token = _CHECK_LABELS.set(_flag("check_labels", enabled))
    try:
        yield
    finally:
        _CHECK_LABELS.reset(token)


def check_label_values(labels: jax.Array, kept: jax.Array, message: str) -> None:
    """Inside :func:`label_checks` (``check_labels=True``), a ``checkify`` check that every label is ``kept``.

    ``message`` has one ``{}`` for the largest label that is not kept; a NaN float label is
    never kept (``kept`` computed by comparisons is False there) and is the one reported, as
    ``nan``, since the maximum propagates it. Float labels are printed without decimals (the
    truncated class id, as Keras casts them). The largest is found by a reduction, not an
    index, because indexing by a computed position does not shard.
    """
    if not _CHECK_LABELS.get() or labels.size == 0:
        return
    if jnp.issubdtype(labels.dtype, jnp.floating):
        lowest, message = -jnp.inf, message.replace("{}", "{:.0f}")
    else:
        lowest = jnp.iinfo(labels.dtype).min
    largest_bad = jnp.max(jnp.where(kept, lowest, labels))
    checkify.debug_check(jnp.all(kept), message, largest_bad)


def check_sparse_labels(labels: jax.Array, num_classes: int, ignore_class: int | None) -> None:
    """The opt-in check that sparse ``labels`` lie in ``[0, num_classes)`` or equal ``ignore_class``.

    Labels are compared as class ids (:func:`jaxent._inputs.class_ids`: narrow integers widened,
    floats truncated), so ``uint8`` labels do not wrap and a NaN label is reported.
    """
    if not _CHECK_LABELS.get():
        return
    labels = class_ids(jnp.asarray(labels))
    kept = (labels >= 0) & (labels < num_classes)
    if ignore_class is not None:
        kept = kept | (labels == ignore_class)
    ignored = "" if ignore_class is None else f" (and not ignore_class={ignore_class})"
    check_label_values(labels, kept, f"sparse label {{}} is outside the valid range [0, {num_classes}){ignored}")


# --------------------------------------------------------------------------------------------
# Hyperparameters of optimizers and learning-rate schedules (checked at construction).


def _interval_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    return f"{'<' if high_open else '<='} {high:g}"


def check_hyperparameter(
    name: str,
    value: object,
    *,
    expected: str = "a float",
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
    arrays: bool = False,
) -> Any:
    """``value`` checked as the numeric hyperparameter ``name``, returned as given.

    The one check of every optimizer and schedule number: a real, finite number (a Python or
    NumPy int or float; bools are refused) within ``[low, high]`` (``low_open``/``high_open``
    exclude an end). ``optional`` allows ``None``. ``arrays`` also allows a 0-d JAX/NumPy array of
    a float or int dtype (what ``optax.inject_hyperparams`` and a traced value pass): its value
    is checked when it is concrete. Ints are accepted wherever floats are (the caller computes
    in floating point). Errors name the argument and the value received: ``TypeError`` for the
    wrong kind, ``ValueError`` for a wrong value.
    """
    if value is None and optional:
        return None
    if isinstance(value, (jax.Array, np.ndarray)) and arrays:
        if not (jnp.issubdtype(value.dtype, jnp.floating) or jnp.issubdtype(value.dtype, jnp.integer)):
            raise _type_error(name, value, expected)
        if np.ndim(value) != 0:
            raise ValueError(f"`{name}` must be a scalar. Received: {name} of shape {np.shape(value)}.")
        if isinstance(value, jax.core.Tracer):
            return value
        number = float(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        number = float(value)
    else:
        raise _type_error(name, value, expected)
    if not math.isfinite(number):
        raise ValueError(f"`{name}` must be finite. Received: {name}={number}.")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ValueError(
            f"`{name}` must be {_interval_text(low, high, low_open, high_open)}. Received: {name}={value!r}."
        )
    return value


def check_flag(name: str, value: object) -> bool:
    """``value`` checked as the bool option ``name`` (a NumPy bool is accepted)."""
    return _flag(name, value)


def check_name(value: object) -> str | None:
    """``value`` checked as a ``name`` option: a string or None."""
    return _optional_string("name", value)
