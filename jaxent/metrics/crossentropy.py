"""Cross-entropy metrics: the mean of the per-sample cross entropies of :mod:`jaxent.losses`."""

from __future__ import annotations

import dataclasses

import jax

from jaxent import _formulas, _reduction, _validation
from jaxent.metrics._base import MeanMetricWrapper

__all__ = ["CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy"]


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalCrossentropy(MeanMetricWrapper):
    """Weighted mean of the categorical cross entropy (``tf.keras.metrics.CategoricalCrossentropy``).

    Per sample ``l = -sum(y * log(clip(p / sum(p), eps, 1 - eps)), axis)`` with
    ``y = y_true * (1 - label_smoothing) + label_smoothing / C`` (logits: softmax cross entropy),
    then ``result = sum(w * l) / sum(w)`` over all updates. Unlike the loss class, which divides
    by the number of samples, this divides by the sum of the weights.

    Example:
      >>> metric = CategoricalCrossentropy()
      >>> state = metric.update(metric.init(), jnp.array([[0, 1, 0], [0, 0, 1]]),
      ...                       jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      >>> metric.result(state)
      Array(1.1769392, dtype=float32)
    """

    name: str = "categorical_crossentropy"
    from_logits: bool = False
    label_smoothing: float = 0
    axis: int = -1

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        _validation.check_same_shape("y_true", y_true.shape, "y_pred", y_pred.shape)
        return _formulas.categorical_ce_per_sample(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)


@dataclasses.dataclass(frozen=True, eq=False)
class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Weighted mean of the sparse categorical cross entropy (``tf.keras.metrics.SparseCategoricalCrossentropy``).

    Per position ``l = -log(softmax(log(clip(p, eps, 1 - eps)))[label])`` (logits: the sparse
    softmax cross entropy), then ``result = sum(w * l) / sum(w)``. Labels are cast to float32
    and truncated to integers, as Keras does. Positions whose label is ``ignore_class`` are
    left out of both sums (their weight is 0), so a NaN there changes nothing and a metric
    that only saw ignored labels gives 0. A label outside ``[0, C)`` that is not
    ``ignore_class`` gives NaN (and, with ``check_labels=True``, an error under ``checkify``;
    README `#out-of-range-labels`).

    Example:
      >>> metric = SparseCategoricalCrossentropy(ignore_class=-1)
      >>> state = metric.update(metric.init(), jnp.array([0, -1, 1, -1]),
      ...                       jnp.array([[.5, .3, .2], [1, 0, 0], [.2, .5, .3], [.1, .1, .8]]))
      >>> metric.result(state)
      Array(0.6931472, dtype=float32)
    """

    name: str = "sparse_categorical_crossentropy"
    from_logits: bool = False
    ignore_class: int | None = None
    axis: int = -1
    check_labels: bool = dataclasses.field(default=False, kw_only=True, metadata={"keras_config": False})

    def values_and_mask(self, y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        try:
            with _validation.label_checks(self.check_labels):
                values, valid = _formulas.keras_sparse_categorical_ce(
                    y_true, y_pred, self.from_logits, self.axis, self.ignore_class
                )
        except ValueError as error:
            raise ValueError(
                f"`y_true` (labels, shape {y_true.shape}) does not fit `y_pred` (shape {y_pred.shape}): {error}"
            ) from None
        return values, None if self.ignore_class is None else valid


@dataclasses.dataclass(frozen=True, eq=False)
class BinaryCrossentropy(MeanMetricWrapper):
    """Weighted mean of the binary cross entropy (``tf.keras.metrics.BinaryCrossentropy``).

    Per sample ``l = mean(-(y * log(p + eps) + (1 - y) * log(1 - p + eps)), axis=-1)`` with
    ``p = clip(y_pred, eps, 1 - eps)`` and ``y = y_true * (1 - label_smoothing) + label_smoothing / 2``
    (logits: the stable sigmoid cross entropy), then ``result = sum(w * l) / sum(w)``.

    Example:
      >>> metric = BinaryCrossentropy()
      >>> state = metric.update(metric.init(), jnp.array([[0, 1], [0, 0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      >>> metric.result(state)
      Array(0.81492424, dtype=float32)
    """

    name: str = "binary_crossentropy"
    from_logits: bool = False
    label_smoothing: float = 0

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        if self.from_logits:
            _validation.check_same_shape("y_true", y_true.shape, "y_pred", y_pred.shape)
        else:
            _validation.check_broadcastable("y_true", y_true.shape, "y_pred", y_pred.shape)
        return _formulas.binary_ce_per_sample(y_true, y_pred, self.from_logits, self.label_smoothing, -1)


# Entry i of these depends only on slice i of y_true/y_pred: weight-0 entries get safe inputs.
_reduction.register_per_entry(
    MeanMetricWrapper.values_and_mask,
    CategoricalCrossentropy.call,
    BinaryCrossentropy.call,
    SparseCategoricalCrossentropy.call,
    SparseCategoricalCrossentropy.values_and_mask,
)
