"""Regression metrics: the weighted mean of per-sample errors of :mod:`jaxent.losses`, and their root (RMSE)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxent import _formulas, _reduction
from jaxent._inputs import jit_entry
from jaxent._reduction import divide_no_nan
from jaxent.metrics._base import MeanMetricWrapper, check_state
from jaxent.metrics._state import MetricState

__all__ = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanSquaredLogarithmicError",
    "MeanAbsolutePercentageError",
    "LogCoshError",
    "CosineSimilarity",
    "RootMeanSquaredError",
    "cosine_similarity",
]


@jit_entry(static=("axis",))
def cosine_similarity(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike, axis: int = -1) -> jax.Array:
    """The (positive) cosine similarity along ``axis``, ``sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``.

    What ``tf.keras.metrics.get("cosine_similarity")`` returns (tf-keras's
    ``metrics.cosine_similarity``): the negative of :func:`jaxent.losses.cosine_similarity`,
    1 for vectors pointing the same way, 0 where either is all zeros.

    Example:
      >>> cosine_similarity(jnp.array([[0.0, 1.0], [1.0, 1.0]]), jnp.array([[1.0, 0.0], [1.0, 1.0]]))
      Array([0.        , 0.99999994], dtype=float32)
    """
    return -_formulas.cosine_similarity_per_sample(y_true, y_pred, axis)


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


@dataclasses.dataclass(frozen=True, eq=False)
class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Weighted mean of ``mean((log(max(p, 1e-7) + 1) - log(max(y, 1e-7) + 1))**2, -1)``.

    ``tf.keras.metrics.MeanSquaredLogarithmicError``: ``result = sum(w * l) / sum(w)`` over
    every update, inputs cast to float32 first.

    Example:
      >>> metric = MeanSquaredLogarithmicError()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]), jnp.array([[1, 1], [0, 0]])))
      Array(0.12011322, dtype=float32)
    """

    name: str = "mean_squared_logarithmic_error"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.squared_log_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Weighted mean of ``100 * mean(|(y - p) / max(|y|, 1e-7)|, -1)`` (``tf.keras.metrics.MeanAbsolutePercentageError``).

    A label of 0 divides by ``1e-7``: huge values, as in Keras.

    Example:
      >>> metric = MeanAbsolutePercentageError()
      >>> metric.result(metric.update(metric.init(), jnp.array([[1.0, 2.0]]), jnp.array([[1.5, 2.0]])))
      Array(25., dtype=float32)
    """

    name: str = "mean_absolute_percentage_error"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.absolute_percentage_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class LogCoshError(MeanMetricWrapper):
    """Weighted mean of ``mean(log(cosh(p - y)), -1)`` (``tf.keras.metrics.LogCoshError``, named ``"logcosh"``).

    Computed as Keras does, ``x + softplus(-2 x) - log(2)``.

    Example:
      >>> metric = LogCoshError()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]), jnp.array([[1, 1], [0, 0]])))
      Array(0.1084452, dtype=float32)
    """

    name: str = "logcosh"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.log_cosh_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class CosineSimilarity(MeanMetricWrapper):
    """Weighted mean of the (positive) cosine similarity along ``axis`` (``tf.keras.metrics.CosineSimilarity``).

    Per sample ``sum(l2_normalize(y, axis) * l2_normalize(p, axis), axis)``: 1 for the same
    direction, -1 for opposite ones (the loss ``jaxent.losses.CosineSimilarity`` is its negative).

    Example:
      >>> metric = CosineSimilarity()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0.0, 1.0], [1.0, 1.0]]),
      ...                             jnp.array([[1.0, 0.0], [1.0, 1.0]])))
      Array(0.49999997, dtype=float32)
    """

    name: str = "cosine_similarity"
    axis: int = -1

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return -_formulas.cosine_similarity_per_sample(y_true, y_pred, self.axis)


@dataclasses.dataclass(frozen=True, eq=False)
class RootMeanSquaredError(MeanMetricWrapper):
    """``sqrt(sum(w * (p - y)**2) / sum(w))`` over every element seen (``tf.keras.metrics.RootMeanSquaredError``).

    The state is the weighted mean of the element-wise squared errors (no mean over the last
    axis first: a per-sample weight counts once per element it covers, as in ``Mean``);
    ``result`` is its square root (0 while nothing was counted). ``merge`` merges those sums,
    so merged streams give the RMSE of all of their elements.

    Example:
      >>> metric = RootMeanSquaredError()
      >>> state = metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]), jnp.array([[1, 1], [0, 0]]),
      ...                       sample_weight=jnp.array([1, 0]))
      >>> metric.result(state)
      Array(0.70710677, dtype=float32)
    """

    name: str = "root_mean_squared_error"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return jnp.square(y_pred - y_true)

    def result(self, state: MetricState) -> jax.Array:
        """``sqrt(total / count)`` in ``dtype`` (0 while nothing was counted)."""
        return _root_result(self, state)


@jax.jit
def _root_result(metric: RootMeanSquaredError, state: MetricState) -> jax.Array:
    check_state(metric, state)
    mean = divide_no_nan(state.total_hi + state.total_lo, state.count_hi + state.count_lo)
    return jnp.sqrt(mean).astype(metric.result_dtype)


# Entry i of these depends only on slice i of y_true/y_pred: weight-0 entries get safe inputs.
# (RootMeanSquaredError's values are element-wise: a NaN at weight 0 stays in its own entry, which
# the weighted sum leaves out.)
_reduction.register_per_entry(
    MeanMetricWrapper.values_and_mask,
    MeanSquaredError.call,
    MeanAbsoluteError.call,
    MeanSquaredLogarithmicError.call,
    MeanAbsolutePercentageError.call,
    LogCoshError.call,
    CosineSimilarity.call,
    cosine_similarity,
)
