"""``to_categorical``: integer labels to one-hot vectors (``keras.utils.to_categorical``)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify

__all__ = ["to_categorical", "class_weight_to_sample_weight"]


@functools.partial(jax.jit, static_argnames=("num_classes", "dtype"))
def _one_hot(y: jax.Array, num_classes: int, dtype: jnp.dtype) -> jax.Array:
    valid = (y >= -num_classes) & (y < num_classes)
    if y.size:
        checkify.debug_check(
            jnp.all(valid),
            f"to_categorical: label {{}} is out of range for num_classes={num_classes} "
            f"(valid: [{-num_classes}, {num_classes}), negatives count from the end)",
            jnp.max(jnp.where(valid, jnp.iinfo(y.dtype).min, y)),
        )
    return jax.nn.one_hot(jnp.where(y < 0, y + num_classes, y), num_classes, dtype=dtype)


def to_categorical(y: jax.typing.ArrayLike, num_classes: int | None = None, dtype: jnp.dtype = jnp.float32) -> jax.Array:
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    ``y`` is truncated toward zero to integers; a trailing axis of size 1 (rank > 1) is dropped,
    then a class axis of size ``num_classes`` is appended. Negative labels count from the end
    (``-1`` is the last class), as NumPy indexing does in Keras. ``num_classes=None`` (or 0)
    infers ``max(y) + 1``, which needs a concrete ``y``: under ``jit`` pass ``num_classes``.

    A label outside ``[-num_classes, num_classes)`` raises ``ValueError`` when ``y`` is concrete;
    under ``jit`` its row is all zeros, and ``checkify`` reports it.

    Example:
      >>> to_categorical(jnp.array([[0], [2], [1]]), 3)
      Array([[1., 0., 0.],
             [0., 0., 1.],
             [0., 1., 0.]], dtype=float32)
    """
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))):
        raise TypeError(f"`num_classes` must be an int or None. Received: num_classes={num_classes!r}")
    y = jnp.asarray(y)
    if not jnp.issubdtype(y.dtype, jnp.integer):
        y = y.astype(jnp.int32)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    try:
        labels = np.asarray(y)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        labels = None
    if not num_classes:
        if labels is None:
            raise ValueError(
                f"to_categorical: `num_classes` is None, so it would be inferred as max(y) + 1, but `y` "
                f"(shape {y.shape}, dtype {y.dtype}) is traced (e.g. under jax.jit); pass num_classes explicitly"
            )
        if labels.size == 0:
            raise ValueError("to_categorical: cannot infer `num_classes` from an empty `y`; pass num_classes")
        num_classes = int(labels.max()) + 1
        if num_classes <= 0:
            raise ValueError(f"to_categorical: inferred num_classes={num_classes} from max(y)={labels.max()}; labels must include a non-negative class")
    num_classes = int(num_classes)
    if labels is not None and labels.size:
        bad = labels[(labels < -num_classes) | (labels >= num_classes)]
        if bad.size:
            raise ValueError(
                f"to_categorical: label {bad[0]} is out of range for num_classes={num_classes} "
                f"(valid: [{-num_classes}, {num_classes}))"
            )
    return _one_hot(y, num_classes, jnp.dtype(dtype))


# `fit(class_weight=...)` lives in its own module (jaxent/_class_weight.py); re-exported here.
from jaxent._class_weight import class_weight_to_sample_weight  # noqa: E402
