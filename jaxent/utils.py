"""``to_categorical`` (``keras.utils.to_categorical``) and ``class_weight_to_sample_weight`` (``fit(class_weight=...)``)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxent import _validation
from jaxent._class_weight import class_weight_to_sample_weight
from jaxent._inputs import class_ids, jit_entry

__all__ = ["to_categorical", "class_weight_to_sample_weight"]


def _labels(y: Any) -> Any:
    """Class ids without a trailing axis of size 1 (rank > 1).

    A JAX array goes through :func:`jaxent._inputs.class_ids`: integers widened (``uint8``
    label 255 with 256 classes must not wrap), floats truncated toward zero with NaN kept, so
    that a NaN label gives a NaN row instead of XLA's cast to class 0. On the host (NumPy)
    the labels are int64, as Keras's ``np.array(y, dtype=int)``, which refuses NaN.
    """
    if isinstance(y, np.ndarray):
        if np.issubdtype(y.dtype, np.floating) and np.isnan(y).any():
            raise ValueError("to_categorical: `y` holds the label nan, which is not a class id")
        y = y.astype(np.int64)
    else:
        y = class_ids(y)
    return y[..., 0] if y.ndim > 1 and y.shape[-1] == 1 else y


def to_categorical(
    y: jax.typing.ArrayLike, num_classes: int | None = None, dtype: jnp.dtype = jnp.float32, *, check_labels: bool = False
) -> jax.Array:
    """One-hot encode integer class labels, as ``keras.utils.to_categorical``.

    ``y`` is truncated toward zero to integers; a trailing axis of size 1 (rank > 1) is dropped,
    then a class axis of size ``num_classes`` is appended. Negative labels count from the end
    (``-1`` is the last class), as NumPy indexing does in Keras. ``num_classes=None`` (or 0)
    infers ``max(y) + 1``, which needs a concrete ``y`` (copied to the host): under ``jit``
    pass ``num_classes``.

    A label outside ``[-num_classes, num_classes)``: for NumPy or Python input (already on the
    host) a ``ValueError`` naming it, as Keras raises; for a JAX array its row is NaN (all
    zeros for integer or boolean ``dtype``), with no copy to the host, and with
    ``check_labels=True`` under ``checkify`` an error naming the label.

    Example:
      >>> to_categorical(jnp.array([[0], [2], [1]]), 3)
      Array([[1., 0., 0.],
             [0., 0., 1.],
             [0., 1., 0.]], dtype=float32)
    """
    if not num_classes or not isinstance(y, jax.Array):
        num_classes = _host_class_count(y, num_classes)
    return _one_hot(y, num_classes=num_classes, dtype=dtype, check_labels=check_labels)


@jit_entry(static=("num_classes", "dtype", "check_labels"))
def _one_hot(y: jax.Array, *, num_classes: int, dtype: jnp.dtype, check_labels: bool) -> jax.Array:
    """:func:`to_categorical` once ``num_classes`` is known (the host-side inference is done)."""
    num_classes = _validation.check_option("num_classes", num_classes)
    y = _labels(y)
    valid = (y >= -num_classes) & (y < num_classes)
    with _validation.label_checks(check_labels):
        _validation.check_label_values(
            y,
            valid,
            f"to_categorical: label {{}} is out of range for num_classes={num_classes} "
            f"(valid: [{-num_classes}, {num_classes}), negatives count from the end)",
        )
    dtype = jnp.dtype(dtype)
    # An invalid label (NaN included) indexes column ``num_classes``: a row of zeros, then NaN.
    index = jnp.where(valid, jnp.where(y < 0, y + num_classes, y), num_classes).astype(jnp.int32)
    one_hot = jax.nn.one_hot(index, num_classes, dtype=dtype)
    if jnp.issubdtype(dtype, jnp.inexact):
        one_hot = jnp.where(valid[..., None], one_hot, jnp.nan)
    return one_hot


def _host_class_count(y: Any, num_classes: int | None) -> int:
    """``num_classes`` inferred from, or checked against, labels read on the host (Keras's errors)."""
    if num_classes is not None:
        num_classes = _validation.check_option("num_classes", num_classes)
    try:
        labels = _labels(np.asarray(y))
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        raise ValueError(
            f"to_categorical: `num_classes` is None, so it would be inferred as max(y) + 1, but `y` "
            f"(shape {jnp.shape(y)}) is traced (e.g. under jax.jit); pass num_classes explicitly"
        ) from None
    if not num_classes:
        if labels.size == 0:
            raise ValueError("to_categorical: cannot infer `num_classes` from an empty `y`; pass num_classes")
        num_classes = int(labels.max()) + 1
        if num_classes <= 0:
            raise ValueError(
                f"to_categorical: inferred num_classes={num_classes} from max(y)={labels.max()}; "
                "labels must include a non-negative class"
            )
    bad = labels[(labels < -num_classes) | (labels >= num_classes)]
    if bad.size:
        raise ValueError(
            f"to_categorical: label {bad[0]} is out of range for num_classes={num_classes} "
            f"(valid: [{-num_classes}, {num_classes}))"
        )
    return num_classes

