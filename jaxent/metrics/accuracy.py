"""Accuracy metrics: exact matches, thresholded binary matches, argmax and top-k class matches.

``accuracy`` compares values exactly, ``binary_accuracy`` thresholds the prediction,
``(sparse_)categorical_accuracy`` compares the predicted class (argmax, the first of tied
maxima, NaN never chosen, as ``tf.argmax`` on the CPU) with the label, and ``(sparse_)top_k_categorical_accuracy`` asks
whether the label's score is among the ``k`` largest (``tf.math.in_top_k``: ties at the
boundary count as in, and a row with a non-finite score never matches).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

from jaxent import _validation
from jaxent._inputs import as_labels, class_ids, jit_entry
from jaxent.metrics._base import MeanMetricWrapper

__all__ = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
]


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


@jit_entry()
def accuracy(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Elementwise exact match, float32: ``float32(y_true == cast(y_pred, y_true.dtype))``.

    Keras 2's internal ``keras.metrics.accuracy`` (not exported by tf-keras 2.21): no rounding,
    no argmax, so float 0.9 against int 1 truncates to 0 and mismatches. Shapes must be equal.

    Example:
      >>> accuracy(jnp.array([1, 2, 3, 4]), jnp.array([0.0, 2.0, 3.5, 4.0]))
      Array([0., 1., 1., 1.], dtype=float32)
    """
    return _matches(jnp.asarray(y_true), jnp.asarray(y_pred)).astype(jnp.float32)


@jit_entry(static=("threshold",))
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
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_pred.ndim == 0 and y_true.ndim == 0:
        raise ValueError("`y_true` and `y_pred` cannot both be scalars: the last axis is averaged")
    return jnp.mean(_binary_matches(y_true, y_pred, threshold).astype(jnp.float32), axis=-1)


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


# --------------------------------------------------------------------------------------------
# Class matches: argmax and top-k.


def _sparse_labels(y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, bool]:
    """The labels as one per row of ``y_pred``, and whether a trailing axis of size 1 was dropped.

    Keras squeezes the labels' last axis when they have the rank of ``y_pred`` (``[B, 1]``
    against ``[B, C]``) and gives the matches back in the labels' shape.
    """
    if y_pred.ndim == 0:
        raise ValueError("`y_pred` must have a class axis (rank >= 1); received a scalar")
    squeezed = y_true.ndim == y_pred.ndim
    if squeezed:
        if y_true.shape[-1] != 1:
            raise ValueError(
                "sparse labels of the rank of `y_pred` must have a last axis of size 1. Received: "
                f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        y_true = y_true[..., 0]
    _validation.check_broadcastable("y_true", y_true.shape, "y_pred without its class axis", y_pred.shape[:-1])
    return y_true, squeezed


def _argmax(x: jax.Array) -> jax.Array:
    """``tf.argmax`` over the last axis: the first maximum, NaN never chosen (an all-NaN row gives 0)."""
    return jnp.argmax(jnp.where(jnp.isnan(x), -jnp.inf, x), axis=-1)


def _nan_where_nan_label(labels: jax.Array, matches: jax.Array) -> jax.Array:
    """``matches`` with NaN where a float label is NaN: a corrupt label must show, not count as a miss or a hit."""
    if not jnp.issubdtype(labels.dtype, jnp.floating):
        return matches
    return jnp.where(jnp.isnan(labels), jnp.nan, matches)


def _argmax_matches(labels: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``labels == argmax(y_pred, -1)`` as float32, the argmax cast to the labels' dtype (as Keras).

    Integer labels are widened first (:func:`jaxent._inputs.as_labels`): the argmax 299 cast
    to ``uint8`` would be 43. Float labels are compared as floats (1.5 never matches), and a
    NaN label gives NaN.
    """
    labels = as_labels(labels)
    matches = (labels == _argmax(y_pred).astype(labels.dtype)).astype(jnp.float32)
    return _nan_where_nan_label(labels, matches)


def _sparse_argmax_matches(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """One match per label, in the labels' shape (``[B, 1]`` labels give ``[B, 1]``, as the Keras metric)."""
    labels, squeezed = _sparse_labels(y_true, y_pred)
    matches = _argmax_matches(labels, y_pred)
    return matches[..., None] if squeezed else matches


def _in_top_k(labels: jax.Array, y_pred: jax.Array, k: int) -> jax.Array:
    """``tf.math.in_top_k`` for labels ``[...]`` and scores ``[..., C]``, as float32.

    A label is in the top ``k`` when fewer than ``k`` scores are strictly greater than its own
    (so ties at the boundary are in); a label outside ``[0, C)`` or a row with a non-finite
    score is not. Float labels are truncated to integers, as Keras casts them; a NaN label
    gives NaN (XLA's cast would make it class 0, a plausible hit). Labels are compared as
    :func:`jaxent._inputs.class_ids`, so narrow integers do not wrap.
    """
    labels = class_ids(labels)
    num_classes = y_pred.shape[-1]
    in_range = (labels >= 0) & (labels < num_classes)
    score = jnp.take_along_axis(y_pred, jnp.where(in_range, labels, 0).astype(jnp.int32)[..., None], axis=-1)
    # One pass over the scores: a non-finite score counts k (at most C: every finite row is in
    # the top C), which puts its row out. Exact while C * min(k, C) < 2**31 (int32 count).
    k = min(k, num_classes)
    greater = jnp.sum(jnp.where(jnp.isfinite(y_pred), (y_pred > score).astype(jnp.int32), k), axis=-1)
    return _nan_where_nan_label(labels, (in_range & (greater < k)).astype(jnp.float32))


def _sparse_top_k_matches(y_true: jax.Array, y_pred: jax.Array, k: int) -> jax.Array:
    labels, squeezed = _sparse_labels(y_true, y_pred)
    matches = _in_top_k(jnp.broadcast_to(labels, y_pred.shape[:-1]), y_pred, k)
    return matches[..., None] if squeezed else matches


def _categorical_labels(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """The class of each one-hot (or soft) row of ``y_true``: its argmax, the first of ties."""
    _validation.check_same_shape("y_true", y_true.shape, "y_pred", y_pred.shape)
    if y_pred.ndim == 0:
        raise ValueError("`y_pred` must have a class axis (rank >= 1); received a scalar")
    return _argmax(y_true)


@jit_entry()
def categorical_accuracy(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Whether the predicted class is the labelled one: ``argmax(y_true, -1) == argmax(y_pred, -1)``, float32.

    Mirrors ``keras.metrics.categorical_accuracy``: one-hot (or soft) ``y_true`` of the shape
    of ``y_pred``; ties take the first maximal index on both sides, as ``tf.argmax``.

    Example:
      >>> categorical_accuracy(jnp.array([[0, 0, 1], [0, 1, 0]]), jnp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
      Array([0., 1.], dtype=float32)
    """
    return _argmax_matches(_categorical_labels(y_true, y_pred), y_pred)


@jit_entry()
def sparse_categorical_accuracy(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """Whether the predicted class is the integer label: ``y_true == argmax(y_pred, -1)``, float32.

    Mirrors ``keras.metrics.sparse_categorical_accuracy``: labels ``[...]`` or ``[..., 1]``
    (the result drops that trailing 1); the argmax (first of ties, never a NaN) is cast to the
    labels' dtype, so a float label 1.5 never matches.

    Example:
      >>> sparse_categorical_accuracy(jnp.array([[2], [1]]), jnp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
      Array([0., 1.], dtype=float32)
    """
    matches = _sparse_argmax_matches(jnp.asarray(y_true), jnp.asarray(y_pred))
    # The Keras function (not the metric) drops a trailing axis of size 1.
    return matches[..., 0] if matches.ndim > 1 and matches.shape[-1] == 1 else matches


@jit_entry(static=("k",))
def top_k_categorical_accuracy(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike, k: int = 5) -> jax.Array:
    """Whether the labelled class (``argmax(y_true, -1)``) is among the ``k`` highest scores, float32.

    Mirrors ``keras.metrics.top_k_categorical_accuracy``: ``tf.math.in_top_k`` semantics (fewer
    than ``k`` strictly greater scores; ties at the boundary count as in; a row with a
    non-finite score never matches).

    Example:
      >>> top_k_categorical_accuracy(jnp.array([[0, 0, 1], [0, 1, 0]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]), k=1)
      Array([0., 1.], dtype=float32)
    """
    return _in_top_k(_categorical_labels(y_true, y_pred), y_pred, _validation.check_option("k", k))


@jit_entry(static=("k",))
def sparse_top_k_categorical_accuracy(
    y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike, k: int = 5
) -> jax.Array:
    """Whether the integer label is among the ``k`` highest scores of ``y_pred``, float32.

    Mirrors ``keras.metrics.sparse_top_k_categorical_accuracy`` (``tf.math.in_top_k``; labels
    ``[...]`` or ``[..., 1]``, whose trailing 1 the result keeps; float labels truncated; a label
    outside ``[0, C)`` never matches).

    Example:
      >>> sparse_top_k_categorical_accuracy(jnp.array([2, 1]), jnp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]), k=2)
      Array([1., 1.], dtype=float32)
    """
    return _sparse_top_k_matches(jnp.asarray(y_true), jnp.asarray(y_pred), _validation.check_option("k", k))


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class is the one-hot label's (``tf.keras.metrics.CategoricalAccuracy``).

    Per sample ``m = float32(argmax(y_true, -1) == argmax(y_pred, -1))`` (ties: the first
    maximum), then ``result = sum(w * m) / sum(w)``.

    Example:
      >>> metric = CategoricalAccuracy()
      >>> state = metric.update(metric.init(), jnp.array([[0, 0, 1], [0, 1, 0]]), jnp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
      >>> metric.result(state)
      Array(0.5, dtype=float32)
    """

    name: str = "categorical_accuracy"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _argmax_matches(_categorical_labels(y_true, y_pred), y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the predicted class is the integer label (``tf.keras.metrics.SparseCategoricalAccuracy``).

    Labels ``[B]`` or ``[B, 1]`` (also per timestep), cast to float32 like every metric input;
    per entry ``m = float32(y_true == argmax(y_pred, -1))`` in the labels' shape (so labels
    ``[B, T, 1]`` with weights ``[B]`` weight the per-sample means, as in Keras), then
    ``result = sum(w * m) / sum(w)``.

    Example:
      >>> metric = SparseCategoricalAccuracy()
      >>> state = metric.update(metric.init(), jnp.array([[2], [1]]), jnp.array([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]))
      >>> metric.result(state)
      Array(0.5, dtype=float32)
    """

    name: str = "sparse_categorical_accuracy"

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _sparse_argmax_matches(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the ``k`` highest scores (``tf.keras.metrics.TopKCategoricalAccuracy``).

    ``TopKCategoricalAccuracy(k=5, name="top_k_categorical_accuracy", dtype=None)`` (Keras's
    argument order); ``tf.math.in_top_k`` semantics per sample, then ``sum(w * m) / sum(w)``.

    Example:
      >>> metric = TopKCategoricalAccuracy(k=1)
      >>> state = metric.update(metric.init(), jnp.array([[0, 0, 1], [0, 1, 0]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      >>> metric.result(state)
      Array(0.5, dtype=float32)
    """

    k: int = 5
    name: str = "top_k_categorical_accuracy"

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: DTypeLike | None = None) -> None:
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dtype", dtype)
        self.__post_init__()

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _in_top_k(_categorical_labels(y_true, y_pred), y_pred, self.k)


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores (``tf.keras.metrics.SparseTopKCategoricalAccuracy``).

    ``SparseTopKCategoricalAccuracy(k=5, name="sparse_top_k_categorical_accuracy", dtype=None)``;
    labels ``[B]`` or ``[B, 1]``, ``tf.math.in_top_k`` semantics, then ``sum(w * m) / sum(w)``.

    Example:
      >>> metric = SparseTopKCategoricalAccuracy(k=1)
      >>> state = metric.update(metric.init(), jnp.array([2, 1]), jnp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))
      >>> metric.result(state)
      Array(0.5, dtype=float32)
    """

    k: int = 5
    name: str = "sparse_top_k_categorical_accuracy"

    def __init__(
        self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: DTypeLike | None = None
    ) -> None:
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "dtype", dtype)
        self.__post_init__()

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return _sparse_top_k_matches(y_true, y_pred, self.k)
