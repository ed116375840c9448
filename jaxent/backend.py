"""Keras backend cross entropies on probabilities or logits (``keras.backend`` level).

Each function is compiled with :func:`jax.jit` (options static), computes 16-bit inputs in
float32 and returns the dtype of ``output``. Unlike Keras, ``output`` never carries hidden
logits: pass logits with ``from_logits=True`` (API.md difference 1).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp

from jaxent import _validation, nn
from jaxent._numerics import EPSILON, as_compute, clip_by_value, epsilon_bounds, opaque_constant, promote, result_dtype

__all__ = ["epsilon", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"]


def epsilon() -> float:
    """The fuzz factor used for clipping probabilities, ``1e-7`` (``keras.backend.epsilon()``)."""
    return EPSILON


def categorical_cross_entropy(target: jax.Array, output: jax.Array, from_logits: bool, axis: int) -> jax.Array:
    """:func:`categorical_crossentropy` in the compute dtype of ``output`` (no cast back)."""
    target, output = promote(target, output)
    _validation.check_same_shape("target", target.shape, "output", output.shape)
    axis = _validation.check_axis(axis, output.ndim)
    if from_logits:
        return nn.softmax_cross_entropy(target, output, axis)
    probabilities = output / jnp.sum(output, axis=axis, keepdims=True)
    probabilities = clip_by_value(probabilities, *epsilon_bounds(output.dtype))
    return -jnp.sum(target * jnp.log(probabilities), axis=axis)


@functools.partial(jax.jit, static_argnames=("from_logits", "axis"))
def categorical_crossentropy(
    target: jax.typing.ArrayLike, output: jax.typing.ArrayLike, from_logits: bool = False, axis: int = -1
) -> jax.Array:
    """Categorical cross entropy between a one-hot (or soft) ``target`` and ``output``.

    Probabilities (``from_logits=False``) are **normalised, then clipped**:
    ``p = clip(output / sum(output, axis), eps, 1 - eps)``, ``loss = -sum(target * log(p), axis)``
    with ``eps = 1e-7``; the clip passes gradient at its boundaries, as in TF. Logits use
    :func:`jaxent.nn.softmax_cross_entropy_with_logits`. Mirrors
    ``keras.backend.categorical_crossentropy``.

    Args:
      target: same shape as ``output``.
      output: probabilities (rows need not sum to 1) or logits.
      from_logits: whether ``output`` holds logits.
      axis: the class axis.

    Returns:
      ``output``'s shape without ``axis``, in the dtype of ``output``.

    Example:
      >>> categorical_crossentropy(jnp.array([1.0, 0.0, 0.0]), jnp.array([0.5, 0.3, 0.2]))
      Array(0.6931472, dtype=float32)
    """
    output = jnp.asarray(output)
    return categorical_cross_entropy(target, output, from_logits, axis).astype(result_dtype(output.dtype))


def sparse_categorical_cross_entropy(
    target: jax.Array, output: jax.Array, from_logits: bool, axis: int, ignore_class: int | None
) -> tuple[jax.Array, jax.Array]:
    """:func:`sparse_categorical_crossentropy` in the compute dtype, with its validity mask."""
    output = as_compute(output)
    target = jnp.asarray(target)
    if not jnp.issubdtype(target.dtype, jnp.integer):
        target = target.astype(jnp.int32)  # floats truncate toward zero, as Keras's cast
    ignore_class = _validation.check_ignore_class(ignore_class)
    axis = _validation.check_axis(axis, output.ndim, wrap=True)
    output = jnp.moveaxis(output, axis, -1)
    if not from_logits:
        output = clip_by_value(output, *epsilon_bounds(output.dtype))
    outer = output.shape[:-1]
    if target.shape != outer:
        if target.ndim == output.ndim - 1 or target.size != math.prod(outer):
            raise ValueError(
                "`target` must hold one label per position of `output` without its class axis. "
                f"Received: target.shape={target.shape} and output.shape={output.shape} (classes last)"
            )
        # Keras flattens the labels; for rank >= 3 it restores the outer shape afterwards.
        if output.ndim >= 3:
            target = target.reshape(outer)
        else:
            target = target.reshape(-1)
            output = output.reshape(-1, output.shape[-1])
    # Keras takes the log-softmax of log(clip(p)); the same value, one log per row.
    return nn.sparse_softmax_cross_entropy(target, output, ignore_class, probabilities=not from_logits)


@functools.partial(jax.jit, static_argnames=("from_logits", "axis", "ignore_class"))
def sparse_categorical_crossentropy(
    target: jax.typing.ArrayLike,
    output: jax.typing.ArrayLike,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
) -> jax.Array:
    """Categorical cross entropy with integer ``target`` labels.

    Probabilities are **clipped, logged, then renormalised** by a log-softmax:
    ``p~ = clip(output, eps, 1 - eps)``, ``loss = -log(p~[target] / sum(p~))`` (so an
    unnormalised row ``[2, 1, 1]`` gives ``log 3``, unlike :func:`categorical_crossentropy`).
    ``axis`` is taken modulo the rank, as in Keras. ``target`` may have the shape of ``output``
    without its class axis, that plus a trailing 1, or be flat. Mirrors
    ``keras.backend.sparse_categorical_crossentropy``.

    Positions whose label equals ``ignore_class`` get loss 0 and zero gradient (the loss and
    metric classes also leave them out of their means). Any other label outside
    ``[0, num_classes)`` gives NaN there, and an error under ``checkify`` (difference 3).

    Example:
      >>> sparse_categorical_crossentropy(jnp.array([0, -1]), jnp.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0]]), ignore_class=-1)
      Array([0.6931472, 0.       ], dtype=float32)
    """
    output = jnp.asarray(output)
    loss, _ = sparse_categorical_cross_entropy(target, output, from_logits, axis, ignore_class)
    return loss.astype(result_dtype(output.dtype))


def binary_cross_entropy(target: jax.Array, output: jax.Array, from_logits: bool) -> jax.Array:
    """:func:`binary_crossentropy` in the compute dtype of ``output`` (no cast back)."""
    target, output = promote(target, output)
    if from_logits:
        return nn.sigmoid_cross_entropy(target, output)
    _validation.check_broadcastable("target", target.shape, "output", output.shape)
    probabilities = clip_by_value(output, *epsilon_bounds(output.dtype))
    eps = opaque_constant(EPSILON, output.dtype)
    return -(target * jnp.log(probabilities + eps) + (1 - target) * jnp.log(1 - probabilities + eps))


@functools.partial(jax.jit, static_argnames=("from_logits",))
def binary_crossentropy(
    target: jax.typing.ArrayLike, output: jax.typing.ArrayLike, from_logits: bool = False
) -> jax.Array:
    """Elementwise binary cross entropy.

    Probabilities use Keras's **double epsilon**, a clip and an added ``eps`` inside both logs:
    ``p = clip(output, eps, 1 - eps)``,
    ``loss = -(t * log(p + eps) + (1 - t) * log(1 - p + eps))``; so a saturated wrong
    prediction costs 15.42495 for ``t = 1`` but 15.33324 for ``t = 0`` in float32. Logits use
    :func:`jaxent.nn.sigmoid_cross_entropy_with_logits` (shapes must match). Mirrors
    ``keras.backend.binary_crossentropy``.

    Example:
      >>> binary_crossentropy(jnp.array([1.0, 0.0]), jnp.array([0.0, 0.5]))
      Array([15.424949  ,  0.69314694], dtype=float32)
    """
    output = jnp.asarray(output)
    return binary_cross_entropy(target, output, from_logits).astype(result_dtype(output.dtype))
