"""Trace-time argument checks shared by the public functions; every message names the argument."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify


def check_axis(axis: object, ndim: int, *, arg: str = "axis", wrap: bool = False) -> int:
    """``axis`` as a non-negative int for an array of rank ``ndim``.

    ``wrap=True`` takes the axis modulo the rank, as Keras's sparse categorical crossentropy
    does; otherwise it must lie in ``[-ndim, ndim)``.
    """
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`{arg}` must be of type `int`. Received: {arg}={axis!r} of type {type(axis)}")
    if ndim == 0:
        raise ValueError(f"`{arg}`={axis} needs an input of rank >= 1, received a scalar")
    if wrap:
        return axis % ndim
    if not -ndim <= axis < ndim:
        raise ValueError(f"`{arg}`={axis} is out of range for an input of rank {ndim} (valid: [{-ndim}, {ndim}))")
    return axis % ndim


def check_label_smoothing(label_smoothing: object) -> float:
    """``label_smoothing`` as a float in ``[0, 1]``."""
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)):
        raise TypeError(
            f"`label_smoothing` must be a Python float in [0, 1]. Received: {label_smoothing!r} "
            f"of type {type(label_smoothing)}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"`label_smoothing` must be in [0, 1]. Received: label_smoothing={label_smoothing}")
    return float(label_smoothing)


def check_ignore_class(ignore_class: object) -> int | None:
    """``ignore_class`` as an int or None."""
    if ignore_class is None:
        return None
    if isinstance(ignore_class, bool) or not isinstance(ignore_class, int):
        raise TypeError(f"`ignore_class` must be an int or None. Received: {ignore_class!r} of type {type(ignore_class)}")
    return ignore_class


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


def check_label_values(labels: jax.Array, num_classes: int, kept: jax.Array, ignore_class: int | None) -> None:
    """Under ``checkify``, fail naming the largest label outside ``[0, num_classes)``.

    ``kept`` marks the labels that are in range or equal ``ignore_class``. Values cannot raise
    inside ``jit``; outside ``checkify`` this is a no-op and the caller's entry becomes NaN.
    """
    if labels.size == 0:
        return
    # A reduction, not an index: indexing by a computed position does not shard.
    largest_bad = jnp.max(jnp.where(kept, jnp.iinfo(labels.dtype).min, labels))
    ignored = "" if ignore_class is None else f" (and not ignore_class={ignore_class})"
    checkify.debug_check(
        jnp.all(kept), f"sparse label {{}} is outside the valid range [0, {num_classes}){ignored}", largest_bad
    )
