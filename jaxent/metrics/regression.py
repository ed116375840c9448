"""Regression metrics: the mean of the per-sample squared and absolute errors of :mod:`jaxent.losses`."""

from __future__ import annotations

import dataclasses

import jax

from jaxent import _formulas, _reduction
from jaxent.metrics._base import MeanMetricWrapper

__all__ = ["MeanSquaredError", "MeanAbsoluteError"]


@dataclasses.dataclass(frozen=True, eq=False)
class MeanSquaredError(MeanMetricWrapper):
    """Weighted mean of ``mean((y_pred - y_true)**2, axis=-1)`` (``tf.keras.metrics.MeanSquaredError``).

    ``result = sum(w * l) / sum(w)`` over every update (the loss class divides by the number of
    samples instead). Integer inputs are computed in float32. Shapes broadcast.

    Example:
      >>> metric = MeanSquaredError()
      >>> state = metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]), jnp.array([[1, 1], [0, 0]]),
      ...                       sample_weight=jnp.array([1, 0]))
      >>> metric.result(state)
      Array(0.5, dtype=float32)
    """

    name: str = "mean_squared_error"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.squared_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanAbsoluteError(MeanMetricWrapper):
    """Weighted mean of ``mean(|y_pred - y_true|, axis=-1)`` (``tf.keras.metrics.MeanAbsoluteError``).

    ``result = sum(w * l) / sum(w)`` over every update. Integer inputs are computed in float32.

    Example:
      >>> metric = MeanAbsoluteError()
      >>> metric.result(metric.update(metric.init(), jnp.array([[1, 2]]), jnp.array([[2, 4]])))
      Array(1.5, dtype=float32)
    """

    name: str = "mean_absolute_error"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.absolute_error_per_sample(y_true, y_pred)


# Entry i of these depends only on slice i of y_true/y_pred: weight-0 entries get safe inputs.
_reduction.register_per_entry(MeanMetricWrapper.values_and_mask, MeanSquaredError.call, MeanAbsoluteError.call)
