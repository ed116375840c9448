"""Accuracy metrics: exact matches (``accuracy``) and thresholded binary matches (``binary_accuracy``)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxent import _validation
from jaxent._compile import compiled_call
from jaxent.metrics._base import MeanMetricWrapper

__all__ = ["accuracy", "binary_accuracy", "Accuracy", "BinaryAccuracy"]


def _matches(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``y_true == y_pred`` after casting ``y_pred`` to ``y_true``'s dtype (shapes must agree)."""
    _validation.check_same_shape("y_true", y_true.shape, "y_pred", y_pred.shape)
    return y_true == y_pred.astype(y_true.dtype)


def _binary_matches(y_true: jax.Array, y_pred: jax.Array, threshold: float) -> jax.Array:
    """``y_true == (y_pred > threshold)``, the threshold in ``y_pred``'s dtype (shapes broadcast)."""
    _validation.check_broadcastable("y_true", y_true.shape, "y_pred", y_pred.shape)
    # Keras converts a Python float threshold to float32 before casting it (f64(f32(0.7)) for
    # float64 inputs); a NumPy float keeps its precision.
    threshold = np.float32(threshold) if type(threshold) is float else threshold
    classes = (y_pred > np.asarray(threshold, y_pred.dtype)).astype(y_pred.dtype)
    return y_true == classes


def _traced_accuracy(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    return _matches(jnp.asarray(y_true), jnp.asarray(y_pred)).astype(jnp.float32)


def accuracy(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Elementwise exact match, float32: ``float32(y_true == cast(y_pred, y_true.dtype))``.

    Keras 2's internal ``keras.metrics.accuracy`` (not exported by tf-keras 2.21): no rounding,
    no argmax, so float 0.9 against int 1 truncates to 0 and mismatches. Shapes must be equal.

    Example:
      >>> accuracy(jnp.array([1, 2, 3, 4]), jnp.array([0.0, 2.0, 3.5, 4.0]))
      Array([0., 1., 1., 1.], dtype=float32)
    """
    return compiled_call(_traced_accuracy, y_true, y_pred)


def _traced_binary_accuracy(y_true: jax.Array, y_pred: jax.Array, *, threshold: float) -> jax.Array:
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_pred.ndim == 0 and y_true.ndim == 0:
        raise ValueError("`y_true` and `y_pred` cannot both be scalars: the last axis is averaged")
    return jnp.mean(_binary_matches(y_true, y_pred, threshold).astype(jnp.float32), axis=-1)


def binary_accuracy(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike, threshold: float = 0.5) -> jax.Array:
    """Fraction of binary matches over the last axis: ``mean(y_true == (y_pred > threshold), -1)``, float32.

    Mirrors ``keras.metrics.binary_accuracy``: strictly greater (``y_pred == threshold`` is
    class 0, NaN is class 0), the threshold is cast to ``y_pred``'s dtype, and ``y_true`` is
    **not** thresholded (a label 0.7 or 2 never matches). Shapes broadcast. Compiled, with
    ``threshold`` static.

    Example:
      >>> binary_accuracy(jnp.array([[1, 0], [1, 1]]), jnp.array([[0.7, 0.2], [0.2, 0.9]]))
      Array([1. , 0.5], dtype=float32)
    """
    threshold = _validation.check_option("threshold", threshold)  # static: a Python float before the boundary
    return compiled_call(_traced_binary_accuracy, y_true, y_pred, threshold=threshold)


@dataclasses.dataclass(frozen=True, eq=False)
class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly (``tf.keras.metrics.Accuracy``).

    Both are cast to float32 first (so int 16777217 matches 16777216), then each element
    counts: ``result = sum(w * (y_true == y_pred)) / sum(w)``; a per-sample weight counts once
    per element. No rounding or argmax: 0.9 against 1 is a mismatch.

    Example:
      >>> metric = Accuracy()
      >>> state = metric.update(metric.init(), jnp.array([[1], [2], [3], [4]]), jnp.array([[0], [2], [3], [4]]))
      >>> metric.result(state)
      Array(0.75, dtype=float32)
    """

    name: str = "accuracy"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _matches(y_true, y_pred).astype(y_true.dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_true`` equals ``y_pred > threshold`` (``tf.keras.metrics.BinaryAccuracy``).

    Elementwise ``m = float32(y_true == (y_pred > threshold))`` with a strict ``>`` on
    ``y_pred`` only (``y_true`` is compared as given), then ``result = sum(w * m) / sum(w)``
    over every element.

    Example:
      >>> metric = BinaryAccuracy()
      >>> state = metric.update(metric.init(), jnp.array([1, 0, 1, 0]), jnp.array([0.5, 0.5, 0.50000006, 0.4999999]))
      >>> metric.result(state)
      Array(0.75, dtype=float32)
    """

    name: str = "binary_accuracy"
    threshold: float = 0.5

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _binary_matches(y_true, y_pred, self.threshold).astype(y_true.dtype)
