"""Keras 2 loss functions and Loss classes (``tf.keras.losses``).

Functions return per-sample losses (one axis reduced); each is compiled with its options
static and its inputs converted to arrays first. Loss classes are immutable configuration:
calling one squeezes a trailing axis of size 1 the Keras way, computes the per-sample losses,
then weights and reduces them through the one shared path of :mod:`jaxent._reduction`.
Everything computes 16-bit inputs in float32 and returns the dtype of ``y_pred`` (float32
for integer ``y_pred``; Huber returns float32 for every input dtype, as Keras's). The formulas live in :mod:`jaxent._formulas`.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from jaxent import _formulas, _reduction, _serialization, _validation, backend
from jaxent._inputs import jit_entry
from jaxent._numerics import result_dtype
from jaxent._objects import Module, split_keyword_arrays
from jaxent._reduction import Reduction, reduce_losses, squeeze_last
from jaxent.fused_ce import LinearSparseCategoricalCrossentropy

__all__ = [
    "Reduction",
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
    "huber",
    "log_cosh",
    "logcosh",
    "kl_divergence",
    "kld",
    "KLD",
    "kullback_leibler_divergence",
    "poisson",
    "cosine_similarity",
    "mean_squared_logarithmic_error",
    "msle",
    "MSLE",
    "mean_absolute_percentage_error",
    "mape",
    "MAPE",
    "categorical_focal_crossentropy",
    "binary_focal_crossentropy",
    "Loss",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "Huber",
    "LogCosh",
    "KLDivergence",
    "Poisson",
    "CosineSimilarity",
    "MeanSquaredLogarithmicError",
    "MeanAbsolutePercentageError",
    "CategoricalFocalCrossentropy",
    "BinaryFocalCrossentropy",
    "LinearSparseCategoricalCrossentropy",
    "LossFunctionWrapper",
    "get",
    "serialize",
    "deserialize",
]


# Public functions.


@jit_entry(static=("from_logits", "label_smoothing", "axis"))
def categorical_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Categorical cross entropy per sample (``keras.losses.categorical_crossentropy``).

    ``y_true`` is cast to ``y_pred``'s dtype and smoothed, ``y = y * (1 - ls) + ls / C``, then
    :func:`jaxent.backend.categorical_crossentropy` is applied: probabilities are normalised
    then clipped to ``[1e-7, 1 - 1e-7]``, ``loss = -sum(y * log(p), axis)``.

    Args:
      y_true: one-hot (or soft) targets, the shape of ``y_pred``.
      y_pred: probabilities or, with ``from_logits=True``, logits.
      from_logits: whether ``y_pred`` holds logits.
      label_smoothing: in ``[0, 1]`` (Keras accepts any float; jaxent raises ``ValueError``).
      axis: the class axis.

    Example:
      >>> categorical_crossentropy(jnp.array([[0, 1, 0], [0, 0, 1]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array([0.05129331, 2.3025851 ], dtype=float32)
    """
    options = _validation.check_options({"from_logits": from_logits, "label_smoothing": label_smoothing})
    values = _formulas.categorical_ce_per_sample(y_true, y_pred, options["from_logits"], options["label_smoothing"], axis)
    return values.astype(result_dtype(y_pred.dtype))


def sparse_categorical_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
    *,
    check_labels: bool = False,
) -> jax.Array:
    """Categorical cross entropy with integer labels (``keras.losses.sparse_categorical_crossentropy``).

    Exactly :func:`jaxent.backend.sparse_categorical_crossentropy`: probabilities are clipped,
    logged and renormalised; ``ignore_class`` positions get 0.

    Example (Keras 2 gives ``[0.05129344, 2.3025851]``; jaxent's first value, 0.05129343, is 4
    float32 ulps below: the renormalisation subtracts log-probabilities of size ~1 and both round
    at that scale, so the example checks Keras's values to 2 float32 ulps of 1):
      >>> import numpy as np
      >>> loss = sparse_categorical_crossentropy(jnp.array([1, 2]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      >>> np.testing.assert_allclose(loss, [0.05129344, 2.3025851], atol=2.4e-7)
    """
    return backend.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=from_logits, axis=axis, ignore_class=ignore_class, check_labels=check_labels
    )


@jit_entry(static=("from_logits", "label_smoothing", "axis"))
def binary_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Binary cross entropy averaged over ``axis`` (``keras.losses.binary_crossentropy``).

    ``y = y_true * (1 - ls) + 0.5 * ls``, then ``mean(backend.binary_crossentropy(y, y_pred), axis)``
    with Keras's clip-and-add epsilon on probabilities, or the stable logits form.

    Example:
      >>> binary_crossentropy(jnp.array([[0, 1], [0, 0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array([0.9162905 , 0.71355796], dtype=float32)
    """
    options = _validation.check_options({"from_logits": from_logits, "label_smoothing": label_smoothing})
    values = _formulas.binary_ce_per_sample(y_true, y_pred, options["from_logits"], options["label_smoothing"], axis)
    return values.astype(result_dtype(y_pred.dtype))


@jit_entry()
def mean_squared_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``mean((y_pred - y_true)**2, axis=-1)`` (``keras.losses.mean_squared_error``).

    Shapes broadcast. Integer ``y_pred`` is computed in float32 (Keras truncates to integers).

    Example:
      >>> mean_squared_error(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array([0.5, 0.5], dtype=float32)
    """
    return _formulas.squared_error_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry()
def mean_absolute_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``mean(|y_pred - y_true|, axis=-1)`` (``keras.losses.mean_absolute_error``).

    The gradient at ``y_pred == y_true`` is 0, as in TF.

    Example:
      >>> mean_absolute_error(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array([0.5, 0.5], dtype=float32)
    """
    return _formulas.absolute_error_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry()
def hinge(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Hinge loss per sample, ``mean(max(1 - y_true * y_pred, 0), axis=-1)`` (``keras.losses.hinge``).

    Labels are expected in ``{-1, 1}``; when *every* label of ``y_true`` is 0 or 1 they are
    mapped to ``2 * y - 1`` first (the test is over the whole array, as Keras's). At
    ``1 - y * p == 0`` the gradient is TF's (that of the linear side).

    Args:
      y_true: labels in ``{-1, 1}`` or ``{0, 1}``, broadcastable to ``y_pred``.
      y_pred: predictions (scores), rank >= 1.

    Returns:
      The losses with the last axis averaged, in ``y_pred``'s dtype.

    Example:
      >>> hinge(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array([1.1, 1.5], dtype=float32)

    Keras: ``tf.keras.losses.hinge`` (also ``tf.keras.metrics.hinge``).
    """
    return _formulas.hinge_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry()
def squared_hinge(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Squared hinge loss per sample, ``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)``.

    ``{0, 1}`` labels are mapped to ``{-1, 1}`` as in :func:`hinge`.

    Args:
      y_true: labels in ``{-1, 1}`` or ``{0, 1}``, broadcastable to ``y_pred``.
      y_pred: predictions (scores), rank >= 1.

    Returns:
      The losses with the last axis averaged, in ``y_pred``'s dtype.

    Example:
      >>> squared_hinge(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array([1.46, 2.26], dtype=float32)

    Keras: ``tf.keras.losses.squared_hinge`` (also ``tf.keras.metrics.squared_hinge``).
    """
    return _formulas.hinge_per_sample(y_true, y_pred, squared=True).astype(result_dtype(y_pred.dtype))


@jit_entry()
def categorical_hinge(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Categorical hinge loss per sample, ``max(neg - pos + 1, 0)``.

    ``pos = sum(y_true * y_pred, -1)``, ``neg = max((1 - y_true) * y_pred, -1)``; ties in the
    maximum share its gradient equally, as in TF.

    Args:
      y_true: one-hot targets (``{0, 1}``), broadcastable to ``y_pred``.
      y_pred: predictions (scores), classes on the last axis.

    Returns:
      One loss per sample (the last axis reduced), in ``y_pred``'s dtype.

    Example:
      >>> categorical_hinge(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array([1.2, 1.6], dtype=float32)

    Keras: ``tf.keras.losses.categorical_hinge``.
    """
    return _formulas.categorical_hinge_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry(static=("delta",))
def huber(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike, delta: float = 1.0) -> jax.Array:
    """Huber loss per sample: ``mean(0.5 e**2 if |e| <= delta else delta * |e| - 0.5 delta**2, -1)``, ``e = y_pred - y_true``.

    Keras casts both inputs and ``delta`` to float32 (``floatx()``) whatever their dtype, so the
    result is **float32**, for float64 and 16-bit inputs alike. ``|e| == delta`` is on the
    quadratic side.

    Args:
      y_true: targets, broadcastable to ``y_pred``.
      y_pred: predictions, rank >= 1.
      delta: where the loss turns from quadratic to linear.

    Returns:
      The losses with the last axis averaged, float32.

    Example:
      >>> huber(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [2.0, 0.6]]))
      Array([0.18      , 0.84000003], dtype=float32)

    Keras: ``tf.keras.losses.huber`` (``losses.get("huber_loss")`` too).
    """
    delta = _validation.check_option("delta", delta)
    return _formulas.huber_per_sample(y_true, y_pred, delta)


@jit_entry()
def log_cosh(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Log-cosh loss per sample, ``mean(log(cosh(x)), -1)`` with ``x = y_pred - y_true``.

    Computed as Keras does, ``x + softplus(-2 x) - log(2)`` with TF's softplus (and float32's
    ``log(2)``, also for float64 inputs), so it is finite for large ``|x|``.

    Args:
      y_true: targets, broadcastable to ``y_pred``.
      y_pred: predictions, rank >= 1.

    Returns:
      The losses with the last axis averaged, in ``y_pred``'s dtype.

    Example:
      >>> log_cosh(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [0.0, 0.0]]))
      Array([0.2168904, 0.       ], dtype=float32)

    Keras: ``tf.keras.losses.log_cosh`` (alias ``logcosh``).
    """
    return _formulas.log_cosh_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry()
def kl_divergence(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Kullback-Leibler divergence per sample, ``sum(y * log(y / p), -1)``.

    Both ``y = y_true`` and ``p = y_pred`` are clipped to ``[1e-7, 1]`` first (TF's clip: the
    gradient is 1 on the bounds, 0 outside), so zeros give finite values.

    Args:
      y_true: target distributions, broadcastable to ``y_pred``.
      y_pred: predicted distributions, rank >= 1.

    Returns:
      The divergences (last axis summed), in ``y_pred``'s dtype.

    Example:
      >>> kl_divergence(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array([ 9.1628921e-01, -3.0809076e-06], dtype=float32)

    Keras: ``tf.keras.losses.kl_divergence`` (aliases ``kld``, ``KLD``, ``kullback_leibler_divergence``).
    """
    return _formulas.kl_divergence_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry()
def poisson(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Poisson loss per sample, ``mean(y_pred - y_true * log(y_pred + 1e-7), -1)``.

    Args:
      y_true: targets (counts), broadcastable to ``y_pred``.
      y_pred: predicted rates, rank >= 1.

    Returns:
      The losses with the last axis averaged, in ``y_pred``'s dtype.

    Example:
      >>> poisson(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [0.0, 0.0]]))
      Array([0.99999994, 0.        ], dtype=float32)

    Keras: ``tf.keras.losses.poisson`` (also ``tf.keras.metrics.poisson``).
    """
    return _formulas.poisson_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry(static=("axis",))
def cosine_similarity(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike, axis: int = -1) -> jax.Array:
    """Negative cosine similarity along ``axis``: ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``.

    ``l2_normalize(x) = x / sqrt(max(sum(x**2, axis), 1e-12))``, so a zero vector gives 0.
    The loss is in ``[-1, 1]``, -1 for vectors pointing the same way (the metric
    ``jaxent.metrics.CosineSimilarity`` is the positive cosine).

    Args:
      y_true: targets, broadcastable to ``y_pred``.
      y_pred: predictions, rank >= 1.
      axis: the axis along which the cosine is taken.

    Returns:
      The losses with ``axis`` reduced, in ``y_pred``'s dtype.

    Example:
      >>> cosine_similarity(jnp.array([[0.0, 1.0], [1.0, 1.0]]), jnp.array([[1.0, 0.0], [1.0, 1.0]]))
      Array([-0.        , -0.99999994], dtype=float32)

    Keras: ``tf.keras.losses.cosine_similarity``.
    """
    return _formulas.cosine_similarity_per_sample(y_true, y_pred, axis).astype(result_dtype(y_pred.dtype))


@jit_entry()
def mean_squared_logarithmic_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))**2, -1)``.

    Args:
      y_true: targets, broadcastable to ``y_pred``.
      y_pred: predictions, rank >= 1.

    Returns:
      The losses with the last axis averaged, in ``y_pred``'s dtype.

    Example:
      >>> mean_squared_logarithmic_error(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array([0.24022643, 0.24022643], dtype=float32)

    Keras: ``tf.keras.losses.mean_squared_logarithmic_error`` (aliases ``msle``, ``MSLE``).
    """
    return _formulas.squared_log_error_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry()
def mean_absolute_percentage_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, 1e-7)|, -1)``.

    The gradient at ``y_pred == y_true`` is 0, as in TF.

    Args:
      y_true: targets, broadcastable to ``y_pred``.
      y_pred: predictions, rank >= 1.

    Returns:
      The losses (percentages) with the last axis averaged, in ``y_pred``'s dtype.

    Example:
      >>> mean_absolute_percentage_error(jnp.array([[2.0, 1.0], [4.0, -2.0]]), jnp.array([[1.0, 1.0], [5.0, -1.0]]))
      Array([25. , 37.5], dtype=float32)

    Keras: ``tf.keras.losses.mean_absolute_percentage_error`` (aliases ``mape``, ``MAPE``).
    """
    return _formulas.absolute_percentage_error_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


def categorical_focal_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    alpha: float | Sequence[float] = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Categorical focal cross entropy per sample, ``sum(alpha * (1 - p)**gamma * -y * log(p), axis)``.

    ``y = y_true`` smoothed towards ``1 / C`` (``C`` the size of the last axis); ``p`` is
    ``softmax(y_pred, axis)`` with ``from_logits``, else ``y_pred``, then normalised over
    ``axis`` and clipped to ``[1e-7, 1 - 1e-7]`` (TF's clip gradient).

    Args:
      y_true: one-hot (or soft) targets, broadcastable to ``y_pred``.
      y_pred: probabilities or, with ``from_logits=True``, logits.
      alpha: a weight for every class, or one per class of the last axis (a list).
      gamma: the focusing exponent (0: the cross entropy times ``alpha``).
      from_logits: whether ``y_pred`` holds logits.
      label_smoothing: in ``[0, 1]`` (Keras accepts any float; jaxent raises ``ValueError``).
      axis: the class axis.

    Returns:
      One loss per sample (``axis`` reduced), in ``y_pred``'s dtype.

    Example:
      >>> categorical_focal_crossentropy(jnp.array([[0, 1, 0], [0, 0, 1]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array([3.2058331e-05, 4.6627346e-01], dtype=float32)

    Keras: ``tf.keras.losses.categorical_focal_crossentropy``.
    """
    return _categorical_focal_crossentropy(
        y_true, y_pred, alpha=_validation.check_option("alpha", alpha), gamma=gamma, from_logits=from_logits,
        label_smoothing=label_smoothing, axis=axis,
    )


@jit_entry(static=("alpha", "gamma", "from_logits", "label_smoothing", "axis"))
def _categorical_focal_crossentropy(y_true, y_pred, alpha, gamma, from_logits, label_smoothing, axis):
    options = _validation.check_options(
        {"alpha": alpha, "gamma": gamma, "from_logits": from_logits, "label_smoothing": label_smoothing}
    )
    values = _formulas.categorical_focal_ce_per_sample(y_true, y_pred, axis=axis, **options)
    return values.astype(result_dtype(y_pred.dtype))


@jit_entry(static=("apply_class_balancing", "alpha", "gamma", "from_logits", "label_smoothing", "axis"))
def binary_focal_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Binary focal cross entropy averaged over ``axis``, ``mean(w * (1 - p_t)**gamma * bce, axis)``.

    ``y = y_true * (1 - ls) + 0.5 * ls``; ``p = sigmoid(y_pred)`` with ``from_logits``, else
    ``y_pred``; ``p_t = y p + (1 - y)(1 - p)`` (not clipped); ``bce`` is
    :func:`jaxent.backend.binary_crossentropy` of ``y`` and ``y_pred``;
    ``w = y alpha + (1 - y)(1 - alpha)`` with ``apply_class_balancing``, else 1.

    Args:
      y_true: binary (or soft) targets, broadcastable to ``y_pred``.
      y_pred: probabilities or, with ``from_logits=True``, logits.
      apply_class_balancing: whether to weigh class 1 by ``alpha`` and class 0 by ``1 - alpha``.
      alpha: the class-1 weight of the balancing.
      gamma: the focusing exponent (0: the binary cross entropy).
      from_logits: whether ``y_pred`` holds logits.
      label_smoothing: in ``[0, 1]`` (Keras accepts any float; jaxent raises ``ValueError``).
      axis: the axis that is averaged.

    Returns:
      The losses with ``axis`` averaged, in ``y_pred``'s dtype.

    Example:
      >>> binary_focal_crossentropy(jnp.array([[0, 1], [0, 0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array([0.32986462, 0.20579834], dtype=float32)

    Keras: ``tf.keras.losses.binary_focal_crossentropy``.
    """
    options = _validation.check_options({"apply_class_balancing": apply_class_balancing, "alpha": alpha,
                                         "gamma": gamma, "from_logits": from_logits,
                                         "label_smoothing": label_smoothing})
    values = _formulas.binary_focal_ce_per_sample(y_true, y_pred, axis=axis, **options)
    return values.astype(result_dtype(y_pred.dtype))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
logcosh = log_cosh
kld = KLD = kullback_leibler_divergence = kl_divergence
msle = MSLE = mean_squared_logarithmic_error
mape = MAPE = mean_absolute_percentage_error


# Loss classes.


@dataclasses.dataclass(frozen=True, eq=False)
class Loss(Module):
    """Base of the Loss classes (``tf.keras.losses.Loss``): per-sample losses, weighted and reduced.

    Subclasses define :meth:`call`, the per-sample losses. Instances are frozen pytrees
    (:class:`jaxent._objects.Module`): pass one to :func:`jax.jit` as an ordinary argument,
    close over it, or (without array attributes) pass it as a static argument; all three give
    its own numbers. A subclass may set its own attributes in ``__init__``, the Keras way
    (``self.scale = scale``): arrays become pytree leaves, other values static configuration;
    afterwards the object is frozen (``loss.replace(scale=...)`` gives a changed copy).

    ``loss(y_true, y_pred, sample_weight=None)`` squeezes a trailing axis of size 1 (the Keras
    rule), weights the per-sample losses by ``sample_weight`` (scalar, ``[B]``, ``[B, 1]``,
    per-timestep ``[B, T]`` or the losses' shape) and reduces them by ``reduction``:
    ``"auto"``/``"sum_over_batch_size"`` = weighted sum / number of entries, ``"sum"``,
    ``"none"``. Entries with weight 0 contribute nothing, even if NaN.

    Example:
      >>> class Hinge(Loss):
      ...     def call(self, y_true, y_pred):
      ...         return jnp.mean(jnp.maximum(1 - y_true * y_pred, 0), axis=-1)
      >>> Hinge(reduction="sum")(jnp.array([[1.0], [-1.0]]), jnp.array([[0.5], [0.5]]))
      Array(2., dtype=float32)
    """

    reduction: Reduction | str = dataclasses.field(default=Reduction.AUTO, kw_only=True)
    name: str | None = dataclasses.field(default=None, kw_only=True)

    keras_function: ClassVar[str | None] = None
    """The name of the Keras loss function a built-in class wraps (its config's ``"fn"``)."""

    def __post_init__(self) -> None:
        options = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for name, value in _validation.check_options(options).items():
            object.__setattr__(self, name, value)

    def get_config(self) -> dict[str, Any]:
        """tf-keras 2.21's config: ``reduction``, ``name``, the options, and ``fn`` for a built-in loss.

        A subclass with attributes of its own overrides this, as in Keras.

        Example:
          >>> CategoricalCrossentropy(label_smoothing=0.1).get_config()
          {'reduction': 'auto', 'name': 'categorical_crossentropy', 'from_logits': False, 'label_smoothing': 0.1, 'axis': -1, 'fn': 'categorical_crossentropy'}
        """
        config = _serialization.fields_config(self)
        if self.keras_function is not None:
            config["fn"] = self.keras_function
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Loss":
        """The loss a :meth:`get_config` dict describes (Keras's ``"fn"`` entry is accepted and ignored)."""
        return cls(**{name: value for name, value in config.items() if name != "fn"})

    @abc.abstractmethod
    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        """Per-sample losses for ``y_true`` and ``y_pred`` (unweighted, unreduced)."""

    def losses_and_mask(self, y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        """Per-sample losses and the mask of entries that count (None: all of them)."""
        return self.call(y_true, y_pred), None

    def _result_dtype(self, y_pred_dtype: jnp.dtype) -> jnp.dtype:
        """The dtype of the reduced loss: ``y_pred``'s (float32 for integers); Huber's is always float32."""
        return result_dtype(y_pred_dtype)

    def __call__(
        self,
        y_true: jax.typing.ArrayLike,
        y_pred: jax.typing.ArrayLike,
        sample_weight: jax.typing.ArrayLike | None = None,
    ) -> jax.Array:
        return _reduced_loss(self, y_true, y_pred, sample_weight)


@jit_entry(optional=("sample_weight",), objects=("loss",))
def _reduced_loss(loss: Loss, y_true: jax.Array, y_pred: jax.Array, sample_weight: jax.Array | None) -> jax.Array:
    """A Loss call: the loss is a pytree argument, so JAX's cache keys its static configuration."""
    y_true, y_pred = squeeze_last(y_true, y_pred)
    y_true, y_pred = _mask_weightless_inputs(loss, y_true, y_pred, sample_weight)
    losses, mask = loss.losses_and_mask(y_true, y_pred)
    return reduce_losses(losses, sample_weight, loss.reduction, mask).astype(loss._result_dtype(y_pred.dtype))


def _mask_weightless_inputs(
    loss: Loss, y_true: jax.Array, y_pred: jax.Array, sample_weight: jax.Array | None
) -> tuple[jax.Array, jax.Array]:
    """The "double where" of :func:`jaxent._reduction.mask_weightless_inputs` for jaxent's own losses."""
    if isinstance(loss, LossFunctionWrapper):
        computations, axis = (loss.fn,), dict(loss.fn_kwargs).get("axis", -1)
    else:
        computations, axis = (type(loss).call, type(loss).losses_and_mask), getattr(loss, "axis", -1)
    return _reduction.mask_weightless_inputs(loss.losses_and_mask, computations, axis, y_true, y_pred, sample_weight)


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class LossFunctionWrapper(Loss):
    """A per-sample loss function as a Loss class (``tf.keras.losses.LossFunctionWrapper``).

    ``LossFunctionWrapper(fn, reduction="auto", name=None, **kwargs)`` weights and reduces
    ``fn(y_true, y_pred, **kwargs)`` as every Loss class does; it is what Keras's ``compile``
    makes of a loss given as a function or a name (``losses.get("mse")`` is the function).

    Example:
      >>> loss = LossFunctionWrapper(mean_squared_error, reduction="sum")
      >>> loss(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(1., dtype=float32)
    """

    fn: Callable[..., jax.Array] | None = dataclasses.field(
        default=None, kw_only=True, repr=False, metadata={"keras_config": False}
    )
    fn_kwargs: tuple[tuple[str, Any], ...] = dataclasses.field(
        default=(), kw_only=True, repr=False, metadata={"keras_config": False}
    )
    fn_arrays: dict[str, jax.Array] | None = dataclasses.field(
        default=None, kw_only=True, repr=False, metadata={"keras_config": False}
    )

    def __init__(
        self, fn: Callable[..., jax.Array], reduction: Reduction | str = Reduction.AUTO, name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"`fn` must be a function of (y_true, y_pred). Received: fn={fn!r}")
        fn_kwargs, fn_arrays = split_keyword_arrays(kwargs)
        for field, value in (("fn", fn), ("fn_kwargs", fn_kwargs), ("fn_arrays", fn_arrays), ("reduction", reduction),
                             ("name", name)):
            object.__setattr__(self, field, value)
        self.__post_init__()

    def get_config(self) -> dict[str, Any]:
        """``reduction``, ``name``, ``fn`` (the function's name, as Keras writes it) and its keyword arguments."""
        return {**_serialization.fields_config(self), "fn": self.fn.__name__, **self.keyword_arguments()}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Loss":
        """The loss of a :meth:`get_config` dict; ``fn`` names a loss function (or is one)."""
        config = dict(config)
        return cls(get(config.pop("fn")), **config)

    def keyword_arguments(self) -> dict[str, Any]:
        """The keyword arguments ``fn`` is called with, in the order they were given."""
        return {**dict(self.fn_kwargs), **(self.fn_arrays or {})}

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return self.fn(y_true, y_pred, **self.keyword_arguments())

    def _result_dtype(self, y_pred_dtype: jnp.dtype) -> jnp.dtype:
        return jnp.dtype(jnp.float32) if self.fn is huber else result_dtype(y_pred_dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class _SmoothedCrossentropy(Loss):
    """The options shared by the categorical and binary cross entropy classes."""

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalCrossentropy(_SmoothedCrossentropy):
    """:func:`categorical_crossentropy` as a Loss class (``tf.keras.losses.CategoricalCrossentropy``).

    Example:
      >>> CategoricalCrossentropy()(jnp.array([[0, 1, 0], [0, 0, 1]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array(1.1769392, dtype=float32)
    """

    name: str | None = dataclasses.field(default="categorical_crossentropy", kw_only=True)
    keras_function: ClassVar[str] = "categorical_crossentropy"

    def call(self, y_true, y_pred):
        return _formulas.categorical_ce_per_sample(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)


@dataclasses.dataclass(frozen=True, eq=False)
class SparseCategoricalCrossentropy(Loss):
    """:func:`sparse_categorical_crossentropy` as a Loss class.

    With ``ignore_class``, ignored positions are left out: ``"auto"`` averages over the valid
    entries only (Keras 2 returns NaN when none is valid; jaxent returns 0, README `#all-ignored-batch`).
    ``check_labels=True`` (beyond Keras) adds the ``checkify`` check naming an out-of-range label.

    Example:
      >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
      >>> loss(jnp.array([0, -1, 1, -1]), jnp.array([[.5, .3, .2], [1, 0, 0], [.2, .5, .3], [.1, .1, .8]]))
      Array(0.6931472, dtype=float32)
    """

    from_logits: bool = False
    ignore_class: int | None = None
    name: str | None = dataclasses.field(default="sparse_categorical_crossentropy", kw_only=True)
    check_labels: bool = dataclasses.field(default=False, kw_only=True, metadata={"keras_config": False})
    keras_function: ClassVar[str] = "sparse_categorical_crossentropy"

    def call(self, y_true, y_pred):
        return self.losses_and_mask(y_true, y_pred)[0]

    def losses_and_mask(self, y_true, y_pred):
        with _validation.label_checks(self.check_labels):
            losses, valid = _formulas.keras_sparse_categorical_ce(y_true, y_pred, self.from_logits, -1, self.ignore_class)
        return losses, None if self.ignore_class is None else valid


@dataclasses.dataclass(frozen=True, eq=False)
class BinaryCrossentropy(_SmoothedCrossentropy):
    """:func:`binary_crossentropy` as a Loss class (``tf.keras.losses.BinaryCrossentropy``).

    Example:
      >>> BinaryCrossentropy(from_logits=True)(jnp.array([0.0, 1.0, 0.0, 0.0]), jnp.array([-18.6, 0.51, 2.94, -12.8]))
      Array(0.865458, dtype=float32)
    """

    name: str | None = dataclasses.field(default="binary_crossentropy", kw_only=True)
    keras_function: ClassVar[str] = "binary_crossentropy"

    def call(self, y_true, y_pred):
        return _formulas.binary_ce_per_sample(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanSquaredError(Loss):
    """:func:`mean_squared_error` as a Loss class (``tf.keras.losses.MeanSquaredError``).

    Example:
      >>> MeanSquaredError()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(0.5, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_squared_error", kw_only=True)
    keras_function: ClassVar[str] = "mean_squared_error"

    def call(self, y_true, y_pred):
        return _formulas.squared_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanAbsoluteError(Loss):
    """:func:`mean_absolute_error` as a Loss class (``tf.keras.losses.MeanAbsoluteError``).

    Example:
      >>> MeanAbsoluteError()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(0.5, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_absolute_error", kw_only=True)
    keras_function: ClassVar[str] = "mean_absolute_error"

    def call(self, y_true, y_pred):
        return _formulas.absolute_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class Hinge(Loss):
    """:func:`hinge` as a Loss class (``tf.keras.losses.Hinge``).

    The ``{0, 1}`` label test of :func:`hinge` looks at every entry, weight-0 ones included, as
    Keras's does; so the inputs of weight-0 entries are not replaced before the formula (a NaN
    prediction there still contributes 0 to the value, but can reach the gradient).

    Example:
      >>> Hinge()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array(1.3, dtype=float32)
    """

    name: str | None = dataclasses.field(default="hinge", kw_only=True)
    keras_function: ClassVar[str] = "hinge"

    def call(self, y_true, y_pred):
        return _formulas.hinge_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class SquaredHinge(Loss):
    """:func:`squared_hinge` as a Loss class (``tf.keras.losses.SquaredHinge``); weights as in :class:`Hinge`.

    Example:
      >>> SquaredHinge()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array(1.86, dtype=float32)
    """

    name: str | None = dataclasses.field(default="squared_hinge", kw_only=True)
    keras_function: ClassVar[str] = "squared_hinge"

    def call(self, y_true, y_pred):
        return _formulas.hinge_per_sample(y_true, y_pred, squared=True)


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalHinge(Loss):
    """:func:`categorical_hinge` as a Loss class (``tf.keras.losses.CategoricalHinge``).

    Example:
      >>> CategoricalHinge()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array(1.4000001, dtype=float32)
    """

    name: str | None = dataclasses.field(default="categorical_hinge", kw_only=True)
    keras_function: ClassVar[str] = "categorical_hinge"

    def call(self, y_true, y_pred):
        return _formulas.categorical_hinge_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class Huber(Loss):
    """:func:`huber` as a Loss class (``tf.keras.losses.Huber``); the result is float32, as Keras's.

    Example:
      >>> Huber()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [2.0, 0.6]]))
      Array(0.51, dtype=float32)
    """

    delta: float = 1.0
    name: str | None = dataclasses.field(default="huber_loss", kw_only=True)
    keras_function: ClassVar[str] = "huber"

    def call(self, y_true, y_pred):
        return _formulas.huber_per_sample(y_true, y_pred, self.delta)

    def _result_dtype(self, y_pred_dtype):
        return jnp.dtype(jnp.float32)


@dataclasses.dataclass(frozen=True, eq=False)
class LogCosh(Loss):
    """:func:`log_cosh` as a Loss class (``tf.keras.losses.LogCosh``).

    Example:
      >>> LogCosh()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [0.0, 0.0]]))
      Array(0.1084452, dtype=float32)
    """

    name: str | None = dataclasses.field(default="log_cosh", kw_only=True)
    keras_function: ClassVar[str] = "log_cosh"

    def call(self, y_true, y_pred):
        return _formulas.log_cosh_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class KLDivergence(Loss):
    """:func:`kl_divergence` as a Loss class (``tf.keras.losses.KLDivergence``).

    Example:
      >>> KLDivergence()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array(0.45814306, dtype=float32)
    """

    name: str | None = dataclasses.field(default="kl_divergence", kw_only=True)
    keras_function: ClassVar[str] = "kl_divergence"

    def call(self, y_true, y_pred):
        return _formulas.kl_divergence_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class Poisson(Loss):
    """:func:`poisson` as a Loss class (``tf.keras.losses.Poisson``).

    Example:
      >>> Poisson()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [0.0, 0.0]]))
      Array(0.49999997, dtype=float32)
    """

    name: str | None = dataclasses.field(default="poisson", kw_only=True)
    keras_function: ClassVar[str] = "poisson"

    def call(self, y_true, y_pred):
        return _formulas.poisson_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class CosineSimilarity(Loss):
    """:func:`cosine_similarity` as a Loss class (``tf.keras.losses.CosineSimilarity``).

    Example:
      >>> CosineSimilarity()(jnp.array([[0.0, 1.0], [1.0, 1.0]]), jnp.array([[1.0, 0.0], [1.0, 1.0]]))
      Array(-0.49999997, dtype=float32)
    """

    axis: int = -1
    name: str | None = dataclasses.field(default="cosine_similarity", kw_only=True)
    keras_function: ClassVar[str] = "cosine_similarity"

    def call(self, y_true, y_pred):
        return _formulas.cosine_similarity_per_sample(y_true, y_pred, self.axis)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanSquaredLogarithmicError(Loss):
    """:func:`mean_squared_logarithmic_error` as a Loss class (``tf.keras.losses.MeanSquaredLogarithmicError``).

    Example:
      >>> MeanSquaredLogarithmicError()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(0.24022643, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_squared_logarithmic_error", kw_only=True)
    keras_function: ClassVar[str] = "mean_squared_logarithmic_error"

    def call(self, y_true, y_pred):
        return _formulas.squared_log_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanAbsolutePercentageError(Loss):
    """:func:`mean_absolute_percentage_error` as a Loss class (``tf.keras.losses.MeanAbsolutePercentageError``).

    Example:
      >>> MeanAbsolutePercentageError()(jnp.array([[2.0, 1.0], [4.0, -2.0]]), jnp.array([[1.0, 1.0], [5.0, -1.0]]))
      Array(31.25, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_absolute_percentage_error", kw_only=True)
    keras_function: ClassVar[str] = "mean_absolute_percentage_error"

    def call(self, y_true, y_pred):
        return _formulas.absolute_percentage_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalFocalCrossentropy(Loss):
    """:func:`categorical_focal_crossentropy` as a Loss class (``tf.keras.losses.CategoricalFocalCrossentropy``).

    ``alpha`` may be a list of per-class weights (kept as a tuple; ``get_config`` writes a list).

    Example:
      >>> loss = CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5])
      >>> loss(jnp.array([[0, 1, 0], [0, 0, 1]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array(0.46629268, dtype=float32)
    """

    alpha: float | tuple[float, ...] = 0.25
    gamma: float = 2.0
    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    name: str | None = dataclasses.field(default="categorical_focal_crossentropy", kw_only=True)
    keras_function: ClassVar[str] = "categorical_focal_crossentropy"

    def call(self, y_true, y_pred):
        return _formulas.categorical_focal_ce_per_sample(
            y_true, y_pred, self.alpha, self.gamma, self.from_logits, self.label_smoothing, self.axis
        )


@dataclasses.dataclass(frozen=True, eq=False)
class BinaryFocalCrossentropy(Loss):
    """:func:`binary_focal_crossentropy` as a Loss class (``tf.keras.losses.BinaryFocalCrossentropy``).

    Example:
      >>> BinaryFocalCrossentropy(apply_class_balancing=True)(jnp.array([[0, 1], [0, 0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array(0.15964054, dtype=float32)
    """

    apply_class_balancing: bool = False
    alpha: float = 0.25
    gamma: float = 2.0
    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1
    name: str | None = dataclasses.field(default="binary_focal_crossentropy", kw_only=True)
    keras_function: ClassVar[str] = "binary_focal_crossentropy"

    def call(self, y_true, y_pred):
        return _formulas.binary_focal_ce_per_sample(
            y_true, y_pred, self.apply_class_balancing, self.alpha, self.gamma, self.from_logits,
            self.label_smoothing, self.axis,
        )


_MORE_CLASSES = (Hinge, SquaredHinge, CategoricalHinge, Huber, LogCosh, KLDivergence, Poisson, CosineSimilarity,
                 MeanSquaredLogarithmicError, MeanAbsolutePercentageError, CategoricalFocalCrossentropy,
                 BinaryFocalCrossentropy)
_MORE_FUNCTIONS = (hinge, squared_hinge, categorical_hinge, huber, log_cosh, kl_divergence, poisson, cosine_similarity,
                   mean_squared_logarithmic_error, mean_absolute_percentage_error, categorical_focal_crossentropy,
                   binary_focal_crossentropy)


# Entry i of these depends only on slice i of y_true/y_pred: weight-0 entries get safe inputs.
_reduction.register_per_entry(
    Loss.losses_and_mask,
    *(cls.call for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                           MeanSquaredError, MeanAbsoluteError)),
    SparseCategoricalCrossentropy.losses_and_mask,
    categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
    mean_squared_error, mean_absolute_error,
    # Not hinge and squared hinge: Keras turns {0, 1} labels into {-1, 1} only when every label
    # of the batch is 0 or 1, so a weight-0 entry's label changes the other entries' values.
    *(cls.call for cls in _MORE_CLASSES if cls not in (Hinge, SquaredHinge)),
    *(fn for fn in _MORE_FUNCTIONS if fn not in (hinge, squared_hinge)),
    _categorical_focal_crossentropy,
)


# Identifiers and configs (keras.losses.get / serialize / deserialize).

REGISTRY = _serialization.Registry(
    kind="loss function",
    module="keras.losses",
    objects={
        **{fn.__name__: fn for fn in (categorical_crossentropy, sparse_categorical_crossentropy,
                                      binary_crossentropy, mean_squared_error, mean_absolute_error)},
        "mse": mean_squared_error, "MSE": mean_squared_error,
        "mae": mean_absolute_error, "MAE": mean_absolute_error,
        "bce": binary_crossentropy, "BCE": binary_crossentropy,
        **{fn.__name__: fn for fn in _MORE_FUNCTIONS},
        "huber_loss": huber, "logcosh": log_cosh,
        "kld": kl_divergence, "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence,
        "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
        "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
        **{cls.__name__: cls for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                                         MeanSquaredError, MeanAbsoluteError, LinearSparseCategoricalCrossentropy,
                                         LossFunctionWrapper, *_MORE_CLASSES)},
    },
    accept_callables=True,
    accept_none=True,
    unsupported={
        "Loss": "the abstract base class: subclass jaxent.losses.Loss and define call",
    },
)


def get(identifier: Any) -> Any:
    """``keras.losses.get``: a loss from a name, a config dict, an instance or a function.

    A function name or alias gives the function (``"mse"`` -> :func:`mean_squared_error`; names
    are matched exactly, as Keras does: ``"MSE"`` works, ``"Mse"`` does not); a class name gives
    an instance with the defaults; a dict as :func:`serialize` (or tf-keras) writes it gives
    ``Class.from_config(config)``; ``None``, functions and ``Loss`` objects come back as they
    are. A Keras loss jaxent does not implement, or an unknown name, is a ``ValueError``
    (tf-keras returns an unknown dict's ``class_name`` as a string instead).

    Example:
      >>> get("mse") is mean_squared_error, get("CategoricalCrossentropy")
      (True, CategoricalCrossentropy(reduction=<Reduction.AUTO: 'auto'>, name='categorical_crossentropy', from_logits=False, label_smoothing=0.0, axis=-1))
    """
    return _serialization.get(identifier, REGISTRY)


def serialize(loss: Any) -> dict[str, Any] | None:
    """``keras.losses.serialize``: ``{"module", "class_name", "config", "registered_name"}`` (tf-keras 2.21's format)."""
    return _serialization.serialize(loss, REGISTRY)


def deserialize(config: Mapping[str, Any]) -> Any:
    """``keras.losses.deserialize``: the loss a :func:`serialize` (or tf-keras) dict describes."""
    return _serialization.deserialize(config, REGISTRY)
