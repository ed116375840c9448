"""Keras 2 loss functions and Loss classes (``tf.keras.losses``).

Functions return per-sample losses (one axis reduced) and are compiled with :func:`jax.jit`,
options static. Loss classes are immutable, hashable configuration: calling one squeezes a
trailing axis of size 1 the Keras way, computes the per-sample losses, then weights and
reduces them through the one shared path of :mod:`jaxent._reduction`. Everything computes
16-bit inputs in float32 and returns the dtype of ``y_pred`` (float32 for integer ``y_pred``).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import warnings

import jax
import jax.numpy as jnp

from jaxent import _validation, backend
from jaxent._numerics import promote, result_dtype, safe_abs
from jaxent._reduction import Reduction, reduce_losses
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
    "Loss",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "LinearSparseCategoricalCrossentropy",
]


# Per-sample losses in the compute dtype; shared by the public functions, the Loss classes
# and the metrics.


def categorical_crossentropy_values(
    y_true: jax.Array, y_pred: jax.Array, from_logits: bool, label_smoothing: float, axis: int
) -> jax.Array:
    label_smoothing = _validation.check_label_smoothing(label_smoothing)
    y_true, y_pred = promote(y_true, y_pred)
    axis = _validation.check_axis(axis, y_pred.ndim)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"categorical_crossentropy expects y_pred of shape (batch_size, num_classes) with "
            f"num_classes > 1; received y_pred.shape={y_pred.shape}: the loss is always ~0.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        smoothing = jnp.asarray(label_smoothing, y_pred.dtype)
        num_classes = jnp.asarray(y_true.shape[axis], y_pred.dtype)
        y_true = y_true * (1 - smoothing) + smoothing / num_classes
    return backend.categorical_cross_entropy(y_true, y_pred, from_logits, axis)


def binary_crossentropy_values(
    y_true: jax.Array, y_pred: jax.Array, from_logits: bool, label_smoothing: float, axis: int
) -> jax.Array:
    label_smoothing = _validation.check_label_smoothing(label_smoothing)
    y_true, y_pred = promote(y_true, y_pred)
    if label_smoothing:
        smoothing = jnp.asarray(label_smoothing, y_pred.dtype)
        y_true = y_true * (1 - smoothing) + 0.5 * smoothing
    losses = backend.binary_cross_entropy(y_true, y_pred, from_logits)
    return jnp.mean(losses, axis=_validation.check_axis(axis, losses.ndim))


def _regression_inputs(y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array]:
    y_true, y_pred = promote(y_true, y_pred)
    if y_pred.ndim == 0:
        raise ValueError("`y_pred` must have rank >= 1 (the last axis is averaged); received a scalar")
    _validation.check_broadcastable("y_true", y_true.shape, "y_pred", y_pred.shape)
    return y_true, y_pred


def squared_error_values(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    return jnp.mean(jnp.square(y_pred - y_true), axis=-1)


def absolute_error_values(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    return jnp.mean(safe_abs(y_pred - y_true), axis=-1)


# Public functions.


@functools.partial(jax.jit, static_argnames=("from_logits", "label_smoothing", "axis"))
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
    y_pred = jnp.asarray(y_pred)
    values = categorical_crossentropy_values(y_true, y_pred, from_logits, label_smoothing, axis)
    return values.astype(result_dtype(y_pred.dtype))


@functools.partial(jax.jit, static_argnames=("from_logits", "axis", "ignore_class"))
def sparse_categorical_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
) -> jax.Array:
    """Categorical cross entropy with integer labels (``keras.losses.sparse_categorical_crossentropy``).

    Exactly :func:`jaxent.backend.sparse_categorical_crossentropy`: probabilities are clipped,
    logged and renormalised; ``ignore_class`` positions get 0.

    Example:
      >>> sparse_categorical_crossentropy(jnp.array([1, 2]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array([0.05129343, 2.3025851 ], dtype=float32)
    """
    y_pred = jnp.asarray(y_pred)
    values, _ = backend.sparse_categorical_cross_entropy(y_true, y_pred, from_logits, axis, ignore_class)
    return values.astype(result_dtype(y_pred.dtype))


@functools.partial(jax.jit, static_argnames=("from_logits", "label_smoothing", "axis"))
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
    y_pred = jnp.asarray(y_pred)
    values = binary_crossentropy_values(y_true, y_pred, from_logits, label_smoothing, axis)
    return values.astype(result_dtype(y_pred.dtype))


@jax.jit
def mean_squared_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``mean((y_pred - y_true)**2, axis=-1)`` (``keras.losses.mean_squared_error``).

    Shapes broadcast. Integer ``y_pred`` is computed in float32 (Keras truncates to integers).

    Example:
      >>> mean_squared_error(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array([0.5, 0.5], dtype=float32)
    """
    y_pred = jnp.asarray(y_pred)
    return squared_error_values(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jax.jit
def mean_absolute_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``mean(|y_pred - y_true|, axis=-1)`` (``keras.losses.mean_absolute_error``).

    The gradient at ``y_pred == y_true`` is 0, as in TF.

    Example:
      >>> mean_absolute_error(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array([0.5, 0.5], dtype=float32)
    """
    y_pred = jnp.asarray(y_pred)
    return absolute_error_values(y_true, y_pred).astype(result_dtype(y_pred.dtype))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# Loss classes.


def squeeze_last(y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Drop a trailing axis of size 1 from whichever of the two has one axis more (Keras rule).

    Applied to every input (Keras skips it for NumPy inputs; difference 5).
    """
    rank_difference = y_pred.ndim - y_true.ndim
    if rank_difference == 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    elif rank_difference == -1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true, y_pred


@dataclasses.dataclass(frozen=True)
class Loss(abc.ABC):
    """Base of the Loss classes (``tf.keras.losses.Loss``): per-sample losses, weighted and reduced.

    Subclasses define :meth:`call`, the per-sample losses. Instances are immutable and hashable,
    so they can be closed over or passed as static arguments to :func:`jax.jit`.

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

    def __post_init__(self) -> None:
        object.__setattr__(self, "reduction", Reduction.validate(self.reduction))

    @abc.abstractmethod
    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        """Per-sample losses for ``y_true`` and ``y_pred`` (unweighted, unreduced)."""

    def losses_and_mask(self, y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        """Per-sample losses and the mask of entries that count (None: all of them)."""
        return self.call(y_true, y_pred), None

    def __call__(
        self,
        y_true: jax.typing.ArrayLike,
        y_pred: jax.typing.ArrayLike,
        sample_weight: jax.typing.ArrayLike | None = None,
    ) -> jax.Array:
        return _reduced_loss(self, y_true, y_pred, sample_weight)


@functools.partial(jax.jit, static_argnums=0)
def _reduced_loss(loss: Loss, y_true, y_pred, sample_weight) -> jax.Array:
    y_true, y_pred = squeeze_last(jnp.asarray(y_true), jnp.asarray(y_pred))
    losses, mask = loss.losses_and_mask(y_true, y_pred)
    return reduce_losses(losses, sample_weight, loss.reduction, mask).astype(result_dtype(y_pred.dtype))


@dataclasses.dataclass(frozen=True)
class _SmoothedCrossentropy(Loss):
    """The options shared by the categorical and binary cross entropy classes."""

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1

    def __post_init__(self) -> None:
        super().__post_init__()
        _validation.check_label_smoothing(self.label_smoothing)


@dataclasses.dataclass(frozen=True)
class CategoricalCrossentropy(_SmoothedCrossentropy):
    """:func:`categorical_crossentropy` as a Loss class (``tf.keras.losses.CategoricalCrossentropy``).

    Example:
      >>> CategoricalCrossentropy()(jnp.array([[0, 1, 0], [0, 0, 1]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array(1.1769392, dtype=float32)
    """

    name: str | None = dataclasses.field(default="categorical_crossentropy", kw_only=True)

    def call(self, y_true, y_pred):
        return categorical_crossentropy_values(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)


@dataclasses.dataclass(frozen=True)
class SparseCategoricalCrossentropy(Loss):
    """:func:`sparse_categorical_crossentropy` as a Loss class.

    With ``ignore_class``, ignored positions are left out: ``"auto"`` averages over the valid
    entries only (Keras 2 returns NaN when none is valid; jaxent returns 0, difference 4).

    Example:
      >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
      >>> loss(jnp.array([0, -1, 1, -1]), jnp.array([[.5, .3, .2], [1, 0, 0], [.2, .5, .3], [.1, .1, .8]]))
      Array(0.6931472, dtype=float32)
    """

    from_logits: bool = False
    ignore_class: int | None = None
    name: str | None = dataclasses.field(default="sparse_categorical_crossentropy", kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        _validation.check_ignore_class(self.ignore_class)

    def call(self, y_true, y_pred):
        return self.losses_and_mask(y_true, y_pred)[0]

    def losses_and_mask(self, y_true, y_pred):
        losses, valid = backend.sparse_categorical_cross_entropy(y_true, y_pred, self.from_logits, -1, self.ignore_class)
        return losses, None if self.ignore_class is None else valid


@dataclasses.dataclass(frozen=True)
class BinaryCrossentropy(_SmoothedCrossentropy):
    """:func:`binary_crossentropy` as a Loss class (``tf.keras.losses.BinaryCrossentropy``).

    Example:
      >>> BinaryCrossentropy(from_logits=True)(jnp.array([0.0, 1.0, 0.0, 0.0]), jnp.array([-18.6, 0.51, 2.94, -12.8]))
      Array(0.865458, dtype=float32)
    """

    name: str | None = dataclasses.field(default="binary_crossentropy", kw_only=True)

    def call(self, y_true, y_pred):
        return binary_crossentropy_values(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)


@dataclasses.dataclass(frozen=True)
class MeanSquaredError(Loss):
    """:func:`mean_squared_error` as a Loss class (``tf.keras.losses.MeanSquaredError``).

    Example:
      >>> MeanSquaredError()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(0.5, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_squared_error", kw_only=True)

    def call(self, y_true, y_pred):
        return squared_error_values(y_true, y_pred)


@dataclasses.dataclass(frozen=True)
class MeanAbsoluteError(Loss):
    """:func:`mean_absolute_error` as a Loss class (``tf.keras.losses.MeanAbsoluteError``).

    Example:
      >>> MeanAbsoluteError()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(0.5, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_absolute_error", kw_only=True)

    def call(self, y_true, y_pred):
        return absolute_error_values(y_true, y_pred)
