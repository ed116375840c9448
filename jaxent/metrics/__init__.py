"""Keras 2 metrics (``tf.keras.metrics``) as immutable configuration plus an immutable state.

Functions: the loss functions ``tf.keras.metrics`` re-exports from :mod:`jaxent.losses`,
under the same names and aliases (cross entropies, MSE/MAE, hinge, squared hinge, KL divergence,
log-cosh, Poisson, MSLE, MAPE, the focal cross entropies), plus ``categorical_hinge`` and the
*positive* :func:`cosine_similarity` (what ``tf.keras.metrics.get`` resolves those names to)
and the accuracies.

Classes: each metric is frozen, hashable configuration with ``init()`` (a fresh
:class:`MetricState`), ``update(state, y_true, y_pred, sample_weight=None)`` (``Mean``:
``update(state, values, sample_weight=None)``), ``result(state)`` and ``merge(a, b)``. States
are compensated two-float sums, so long streams do not drift (README `#exact-accumulation`) and
``jax.lax.psum(state, axis_name)`` combines them across devices (:func:`merge_across` does it
exactly). ``metric.stateful()`` gives a mutable Keras-style object
(``update_state``/``result``/``reset_state``/``merge_state``).

Example:
  >>> metric = BinaryAccuracy()
  >>> state = metric.init()
  >>> state = metric.update(state, jnp.array([[1], [1], [0], [0]]), jnp.array([[0.98], [1], [0], [0.6]]))
  >>> metric.result(state)
  Array(0.75, dtype=float32)
"""

from jaxent.losses import (
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from jaxent.metrics._base import Mean, MeanMetricWrapper, Metric
from jaxent.metrics._get import deserialize, get, serialize
from jaxent.metrics._state import ConfusionState, MetricState, merge_across, merge_states
from jaxent.metrics._stateful import StatefulMetric
from jaxent.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from jaxent.metrics.confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from jaxent.metrics.crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from jaxent.metrics.probabilistic import CategoricalHinge, Hinge, KLDivergence, Poisson, SquaredHinge
from jaxent.metrics.regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
    cosine_similarity,
)

__all__ = [
    # functions
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "mse",
    "MSE",
    "mae",
    "MAE",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "kl_divergence",
    "kld",
    "KLD",
    "kullback_leibler_divergence",
    "log_cosh",
    "logcosh",
    "poisson",
    "cosine_similarity",
    "mean_squared_logarithmic_error",
    "msle",
    "MSLE",
    "mean_absolute_percentage_error",
    "mape",
    "MAPE",
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    # classes
    "Metric",
    "MeanMetricWrapper",
    "Mean",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "MeanSquaredLogarithmicError",
    "MeanAbsolutePercentageError",
    "RootMeanSquaredError",
    "LogCoshError",
    "CosineSimilarity",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "KLDivergence",
    "Poisson",
    # state
    "MetricState",
    "ConfusionState",
    "StatefulMetric",
    "merge_states",
    "merge_across",
    # identifiers and configs
    "get",
    "serialize",
    "deserialize",
]
