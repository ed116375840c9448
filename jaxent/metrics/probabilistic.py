"""Hinge and probabilistic metrics: the weighted mean of the hinge losses, KL divergence and Poisson loss of :mod:`jaxent.losses`."""

from __future__ import annotations

import dataclasses

import jax

from jaxent import _formulas, _reduction
from jaxent.metrics._base import MeanMetricWrapper

__all__ = ["Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson"]


@dataclasses.dataclass(frozen=True, eq=False)
class Hinge(MeanMetricWrapper):
    """Weighted mean of ``mean(max(1 - y * p, 0), -1)`` (``tf.keras.metrics.Hinge``).

    As Keras, labels are mapped ``{0, 1} -> {-1, 1}`` when every label of the *batch* is 0 or
    1 (weight-0 entries included: their labels are not replaced, so one label outside
    ``{0, 1}`` anywhere in the batch keeps all of them as given).

    Example:
      >>> metric = Hinge()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]),
      ...                             jnp.array([[0.6, 0.4], [0.4, 0.6]])))
      Array(1.3, dtype=float32)
    """

    name: str = "hinge"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.hinge_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class SquaredHinge(MeanMetricWrapper):
    """Weighted mean of ``mean(max(1 - y * p, 0)**2, -1)`` (``tf.keras.metrics.SquaredHinge``; labels as :class:`Hinge`).

    Example:
      >>> metric = SquaredHinge()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]),
      ...                             jnp.array([[0.6, 0.4], [0.4, 0.6]])))
      Array(1.86, dtype=float32)
    """

    name: str = "squared_hinge"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.hinge_per_sample(y_true, y_pred, squared=True)


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalHinge(MeanMetricWrapper):
    """Weighted mean of ``max(max((1 - y) * p, -1) - sum(y * p, -1) + 1, 0)`` (``tf.keras.metrics.CategoricalHinge``).

    Example:
      >>> metric = CategoricalHinge()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]),
      ...                             jnp.array([[0.6, 0.4], [0.4, 0.6]])))
      Array(1.4000001, dtype=float32)
    """

    name: str = "categorical_hinge"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.categorical_hinge_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class KLDivergence(MeanMetricWrapper):
    """Weighted mean of ``sum(y * log(y / p), -1)``, both clipped to ``[1e-7, 1]`` (``tf.keras.metrics.KLDivergence``).

    Named ``"kullback_leibler_divergence"``, as in Keras.

    Example:
      >>> metric = KLDivergence()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]),
      ...                             jnp.array([[0.6, 0.4], [0.4, 0.6]])))
      Array(0.45814306, dtype=float32)
    """

    name: str = "kullback_leibler_divergence"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.kl_divergence_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class Poisson(MeanMetricWrapper):
    """Weighted mean of ``mean(p - y * log(p + 1e-7), -1)`` (``tf.keras.metrics.Poisson``).

    Example:
      >>> metric = Poisson()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]), jnp.array([[1, 1], [0, 0]])))
      Array(0.49999997, dtype=float32)
    """

    name: str = "poisson"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _formulas.poisson_per_sample(y_true, y_pred)


# Entry i of these depends only on slice i of y_true/y_pred: weight-0 entries get safe inputs.
# Not Hinge/SquaredHinge: their {0, 1} -> {-1, 1} test looks at every label of the batch, so
# replacing the inputs of weight-0 entries could change the other entries' values.
_reduction.register_per_entry(CategoricalHinge.call, KLDivergence.call, Poisson.call)
