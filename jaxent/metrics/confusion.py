"""Confusion-matrix metrics: thresholded counts, precision, recall and AUC, with exact counts in O(N + T) memory.

tf-keras counts, for every threshold ``t``, the (weighted) entries with ``y_pred > t``
(strictly) by label: true positives, false positives, true negatives and false negatives.
Labels are cast to bool (any nonzero label, 0.3 included, is a positive). Keras has two ways:

* **evenly spaced thresholds** (``AUC``'s default grid, or any list ``np.allclose`` to
  ``arange(T) / (T - 1)``): scores are clipped to ``[0, 1]`` and bucketed with
  ``ceil(p * (T - 1)) - 1`` in float32 (with ``max(., 0)`` when the grid is padded below 0,
  as ``AUC``'s ``-1e-7``), then summed per bucket and cumulated. This differs from a plain
  ``p > t`` at a few float32 edges; jaxent buckets exactly as Keras does.
* **other thresholds**: a ``[T, N]`` comparison ``p > t``. jaxent gets the same counts
  without it: the number of thresholds below each score (a binary search), then per-bucket
  sums and cumulative sums, so both ways take O(N + T) memory (N scores, T thresholds).

The counts are kept as compensated two-float sums (:class:`ConfusionState`), exact for
unweighted streams (each batch is counted in integers), mergeable in any order and summable
across devices; tf-keras's float32 counters stop at 2^24.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

from jaxent import _reduction, _serialization
from jaxent._inputs import as_array, as_optional_array
from jaxent._objects import derived
from jaxent._reduction import divide_no_nan, squeeze_last
from jaxent.metrics._base import Metric, check_state
from jaxent.metrics._state import ConfusionState, MetricTag, _add_two_float, add_sums, check_same_metric

__all__ = [
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
]

NEG_INF = -1e10
"""The score tf-keras gives the entries outside the top ``k`` (``metrics_utils.NEG_INF``)."""
EPSILON = 1e-7
"""``keras.backend.epsilon()``: AUC pads its thresholds with ``0 - EPSILON`` and ``1 + EPSILON``."""


# --------------------------------------------------------------------------------------------
# Thresholds (static configuration).


def _threshold_tuple(thresholds: Any, default: float | None) -> tuple[float, ...]:
    """The thresholds as a tuple of Python floats, checked to lie in ``[0, 1]`` (tf-keras's ``parse_init_thresholds``)."""
    if thresholds is None:
        return (default,)
    values = tuple(thresholds) if isinstance(thresholds, (list, tuple)) else (thresholds,)
    result = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"`thresholds` must be a float or a list of floats in [0, 1]. Received: {thresholds!r}")
        result.append(float(value))
    invalid = [t for t in result if not 0.0 <= t <= 1.0]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    if not result:
        raise ValueError("`thresholds` must hold at least one threshold")
    return tuple(result)


def _evenly_spaced(thresholds: Sequence[float]) -> bool:
    """tf-keras's ``is_evenly_distributed_thresholds``: 3 or more, ``allclose`` to ``arange(T) / (T - 1)`` (atol 1e-7)."""
    count = len(thresholds)
    if count < 3:
        return False
    even = np.arange(count, dtype=np.float32) / (count - 1)
    return bool(np.allclose(np.asarray(thresholds), even, atol=EPSILON))


@dataclasses.dataclass(frozen=True)
class _Grid:
    """How a metric counts: its thresholds (float64 values, as Keras keeps them) and which of Keras's two paths."""

    thresholds: tuple[float, ...]
    evenly: bool
    top_k: int | None = None
    class_id: int | None = None


# --------------------------------------------------------------------------------------------
# Counting.


def _two_float(counts: jax.Array, dtype: jnp.dtype) -> tuple[jax.Array, jax.Array]:
    """Integer counts (or float sums) as a two-float pair ``hi + lo`` in ``dtype``, exactly for integers."""
    if jnp.issubdtype(counts.dtype, jnp.integer):
        hi = counts.astype(dtype)
        return hi, (counts - hi.astype(counts.dtype)).astype(dtype)
    return counts.astype(dtype), jnp.zeros(counts.shape, dtype)


def _cumulative(sums: jax.Array, dtype: jnp.dtype) -> tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]]:
    """Two-float ``(above, at_or_below)`` sums of per-bucket sums ``[T + 1, ...]``: ``sum_{k >= i}`` and ``sum_{k <= i}``.

    Integer counts are cumulated in int32 (exact); float sums by one sequential two-float scan
    over the ``T + 1`` buckets, both directions at once.
    """
    if jnp.issubdtype(sums.dtype, jnp.integer):
        above = jnp.flip(jnp.cumsum(jnp.flip(sums, 0), axis=0), 0)
        return _two_float(above, dtype), _two_float(jnp.cumsum(sums, axis=0), dtype)
    both = jnp.stack([jnp.flip(sums, 0), sums], axis=1).astype(dtype)  # [T + 1, 2, ...]

    def step(carry, value):
        carry = _add_two_float(carry[0], carry[1], value, jnp.zeros_like(value))
        return carry, carry

    zero = jnp.zeros(both.shape[1:], dtype)
    _, (hi, lo) = jax.lax.scan(step, (zero, zero), both, unroll=1)
    return (jnp.flip(hi[:, 0], 0), jnp.flip(lo[:, 0], 0)), (hi[:, 1], lo[:, 1])


def _exceeded(scores: jax.Array, grid: _Grid) -> jax.Array:
    """Per score, ``k`` in ``[0, T]``: the score counts as above thresholds ``0 .. k-1`` of the sorted grid.

    Evenly spaced grid (Keras's bucket path): ``k = ceil(clip(p, 0, 1) * (T - 1))`` in the
    scores' dtype, at least 1 when the grid starts below 0. Otherwise ``k`` is the number of
    thresholds strictly below ``p`` (a binary search over the sorted thresholds in the scores'
    dtype), 0 for NaN (``NaN > t`` is false).
    """
    count = len(grid.thresholds)
    if grid.evenly:
        clipped = jnp.clip(scores, 0, 1)
        bucket = jnp.ceil(clipped * np.asarray(count - 1, scores.dtype)) - 1
        if grid.thresholds[0] < 0.0 or grid.thresholds[-1] > 1.0:
            bucket = jnp.maximum(bucket, 0)
        bucket = jnp.where(jnp.isnan(bucket), -1, bucket)
        return bucket.astype(jnp.int32) + 1
    ordered = np.sort(np.asarray(grid.thresholds, np.float64)).astype(scores.dtype)
    below = jnp.searchsorted(jnp.asarray(ordered), scores, side="left")
    return jnp.where(jnp.isnan(scores), 0, below).astype(jnp.int32)


def _confusion_sums(
    positive: jax.Array, weights: jax.Array | None, exceeded: jax.Array, grid: _Grid, dtype: jnp.dtype
) -> jax.Array:
    """The batch's counts ``[T, L, 2, 4]`` (two-float tp, fp / tn, fn) of ``[N, L]`` labels, weights and ``k``.

    Per label: segment sums of the positive and negative weights over ``k`` (``T + 1``
    segments), then ``tp_j = sum_{k > j}`` and ``fn_j = sum_{k <= j}`` as two-float cumulative
    sums (the same for fp and tn with the negatives). Unweighted batches are counted in int32.
    """
    count = len(grid.thresholds)
    labels = positive.shape[1]
    segments = (exceeded + (count + 1) * jnp.arange(labels, dtype=jnp.int32)).reshape(-1)
    if weights is None:
        pos, neg = positive.astype(jnp.int32), (~positive).astype(jnp.int32)
    else:
        pos, neg = jnp.where(positive, weights, 0), jnp.where(positive, 0, weights)

    def per_bucket(values: jax.Array) -> jax.Array:
        sums = jax.ops.segment_sum(values.reshape(-1), segments, num_segments=(count + 1) * labels)
        return sums.reshape(labels, count + 1).T  # [T + 1, L]

    above, at_or_below = _cumulative(jnp.stack([per_bucket(pos), per_bucket(neg)], axis=-1), dtype)  # [T + 1, L, 2]
    tp, fp = [(above[0][1:, :, i], above[1][1:, :, i]) for i in (0, 1)]  # k > j
    fn, tn = [(at_or_below[0][:-1, :, i], at_or_below[1][:-1, :, i]) for i in (0, 1)]  # k <= j
    row0 = jnp.stack([tp[0], tp[1], fp[0], fp[1]], axis=-1)
    row1 = jnp.stack([tn[0], tn[1], fn[0], fn[1]], axis=-1)
    sums = jnp.stack([row0, row1], axis=-2)  # [T, L, 2, 4]
    if not grid.evenly:  # back from the sorted grid to the thresholds' order
        order = np.argsort(np.asarray(grid.thresholds, np.float64), kind="stable")
        sums = sums[np.argsort(order, kind="stable")]
    return sums


def _top_k_mask(scores: jax.Array, k: int) -> jax.Array:
    """Whether each score is among the ``k`` largest of its row (last axis), ties to the lower index (``tf.math.top_k``)."""
    _, indices = jax.lax.top_k(scores, k)
    return jnp.any(indices[..., :, None] == jnp.arange(scores.shape[-1]), axis=-2)


@dataclasses.dataclass(frozen=True)
class _Counting:
    """Everything an update depends on (hashable: the static key of the one compiled update of every equal counting).

    Metrics that count alike share it: ``TruePositives`` and ``Precision`` at the same
    thresholds, or AUCs that differ only in their curve, compile one update.
    """

    grid: _Grid
    dtype: np.dtype
    multi_label: bool = False
    label_weights: tuple[float, ...] | None = None
    from_logits: bool = False


def _prepare(
    counting: _Counting, y_true: jax.Array, y_pred: jax.Array, sample_weight: jax.Array | None
) -> tuple[jax.Array, jax.Array, jax.Array | None]:
    """Keras's ``update_confusion_matrix_variables`` up to the comparison: ``[N, L]`` labels (bool), scores and weights."""
    dtype, grid, multi_label = counting.dtype, counting.grid, counting.multi_label
    label_weights = None if multi_label else counting.label_weights
    y_true, y_pred = squeeze_last(jnp.asarray(y_true).astype(dtype), jnp.asarray(y_pred).astype(dtype))
    if counting.from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    if y_true.shape != y_pred.shape and jnp.broadcast_shapes(y_true.shape, y_pred.shape) != y_pred.shape:
        raise ValueError(f"Shapes {y_pred.shape} and {y_true.shape} are incompatible")
    y_true = jnp.broadcast_to(y_true, y_pred.shape)
    if grid.top_k is not None:
        if y_pred.ndim == 0:
            raise ValueError("`top_k` needs predictions with a class axis")
        y_pred = jnp.where(_top_k_mask(y_pred, grid.top_k), y_pred, np.asarray(NEG_INF, dtype))
    if grid.class_id is not None:
        if y_pred.ndim == 0 or not 0 <= grid.class_id < y_pred.shape[-1]:
            raise ValueError(f"`class_id={grid.class_id}` is out of range for predictions of shape {y_pred.shape}")
        y_true, y_pred = y_true[..., grid.class_id, None], y_pred[..., grid.class_id, None]
    weights = None
    if sample_weight is not None:
        weights = _reduction.broadcast_weights(sample_weight, y_pred.shape, dtype)
    if label_weights is not None:
        per_label = jnp.broadcast_to(jnp.asarray(label_weights, dtype), y_pred.shape)
        weights = per_label if weights is None else weights * per_label
    positive = y_true != 0
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {y_pred.ndim}")
        return positive, y_pred, weights
    flat = (-1, 1)
    return positive.reshape(flat), y_pred.reshape(flat), None if weights is None else weights.reshape(flat)


@functools.partial(jax.jit, static_argnums=0)
def _count_sums(counting: _Counting, sums: jax.Array, y_true, y_pred, sample_weight) -> jax.Array:
    """``sums`` (a state's ``[T, (L,) 2, 4]``) with one batch's confusion counts added."""
    positive, scores, weights = _prepare(counting, y_true, y_pred, sample_weight)
    batch = _confusion_sums(positive, weights, _exceeded(scores, counting.grid), counting.grid, counting.dtype)
    if not counting.multi_label:
        batch = batch[:, 0]
    elif batch.shape != sums.shape:
        raise ValueError(
            f"Number of labels is not consistent: the state counts {sums.shape[1]} labels, `y_pred` has {batch.shape[1]}"
        )
    return add_sums(ConfusionState(sums), batch).sums


def _count(metric: Metric, counting: _Counting, state: ConfusionState, y_true, y_pred, sample_weight) -> ConfusionState:
    """``state`` with one batch counted (the state checked against ``metric``, the counts compiled per ``counting``)."""
    check_state(metric, state)
    y_true, y_pred = as_array(y_true, "y_true"), as_array(y_pred, "y_pred")
    sample_weight = as_optional_array(sample_weight, "sample_weight")
    return ConfusionState(_count_sums(counting, state.sums, y_true, y_pred, sample_weight), metric=state.metric)


# --------------------------------------------------------------------------------------------
# Thresholded counts.


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class _ThresholdMetric(Metric):
    """A metric of the confusion counts at ``thresholds`` (a float, a list, or None for its default)."""

    thresholds: float | tuple[float, ...] | None = None

    def __init__(self, thresholds: Any = None, name: str | None = None, dtype: DTypeLike | None = None) -> None:
        self._set_thresholds(thresholds)
        object.__setattr__(self, "name", _default_name(type(self)) if name is None else name)
        object.__setattr__(self, "dtype", dtype)
        self.__post_init__()

    def _set_thresholds(self, thresholds: Any) -> None:
        if isinstance(thresholds, (list, tuple)):
            thresholds = tuple(thresholds)
        elif isinstance(thresholds, (np.floating, np.integer)):
            thresholds = float(thresholds)
        _threshold_tuple(thresholds, 0.5)  # validate
        object.__setattr__(self, "thresholds", thresholds)

    @property
    def grid(self) -> _Grid:
        """The thresholds compared against and the path (bucketed or searched) that counts them."""
        return derived(self, "grid", _threshold_grid)

    def _default_threshold(self) -> float:
        return 0.5

    def _single(self) -> bool:
        return len(_threshold_tuple(self.thresholds, 0.5)) == 1

    def init(self) -> ConfusionState:
        """A fresh state: every count 0, one per threshold."""
        count = len(self.grid.thresholds)
        return ConfusionState(jnp.zeros((count, 2, 4), self.state_dtype), metric=MetricTag.of(self))

    def update(
        self, state: ConfusionState, y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike,
        sample_weight: jax.typing.ArrayLike | None = None,
    ) -> ConfusionState:
        """``state`` with this batch counted (``y_true`` cast to bool, ``y_pred > threshold``, weighted)."""
        return _count(self, _Counting(self.grid, self.state_dtype), state, y_true, y_pred, sample_weight)

    def result(self, state: ConfusionState) -> jax.Array:
        """The metric of the counts: a scalar for one threshold, a vector ``[T]`` for a list."""
        check_state(self, state)
        return _result_thresholded(type(self), self._single(), self.result_dtype, state.sums)

    @staticmethod
    @abc.abstractmethod
    def values(state: ConfusionState) -> jax.Array:
        """The per-threshold value ``[T]`` (before the scalar of a single threshold is taken)."""

    def merge(self, state_a: ConfusionState, state_b: ConfusionState) -> ConfusionState:
        """The counts of both streams (order-free, exact two-float additions); equals ``psum`` across devices."""
        return _merge(self, state_a, state_b)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _result_thresholded(cls: type, single: bool, dtype: np.dtype, sums: jax.Array) -> jax.Array:
    values = cls.values(ConfusionState(sums)).astype(dtype)
    return values[0] if single else values


@jax.jit
def _merge_sums(a: jax.Array, b: jax.Array) -> jax.Array:
    return add_sums(ConfusionState(a), b).sums


def _merge(metric: Metric, state_a: ConfusionState, state_b: ConfusionState) -> ConfusionState:
    """Both states' counts added, after checking that both belong to ``metric`` (compiled once per shape)."""
    check_state(metric, state_a)
    check_same_metric(state_a, state_b)
    return ConfusionState(_merge_sums(state_a.sums, state_b.sums), metric=state_a.metric)


def _default_name(cls: type) -> str:
    """tf-keras's default metric name: the class name in snake case."""
    name = cls.__name__
    out = [name[0].lower()]
    for previous, char in zip(name, name[1:]):
        out.append(f"_{char.lower()}" if char.isupper() and not previous.isupper() else char.lower())
    return "".join(out)


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class TruePositives(_ThresholdMetric):
    """The weighted count of true positives: ``sum(w * (y_true != 0) * (y_pred > t))`` (``tf.keras.metrics.TruePositives``).

    ``thresholds`` (each in ``[0, 1]``): None for 0.5, a float (the result is a scalar) or a
    list (a vector, one count per threshold). Labels are cast to bool; the comparison is strict
    and made in float32. The count is exact: kept as a two-float sum (Keras's float32 counter
    stops at 2^24).

    Args:
      thresholds: None (0.5), a float or a list of floats in ``[0, 1]``.
      name: the metric's name (default ``"true_positives"``).
      dtype: the result dtype (float32).

    Returns:
      ``result(state)``: the count, float32, a scalar or ``[T]``.

    Example:
      >>> metric = TruePositives()
      >>> metric.result(metric.update(metric.init(), jnp.array([0, 1, 1, 1]), jnp.array([1.0, 0.5, 0.7, 1.0])))
      Array(2., dtype=float32)

    Keras: ``tf.keras.metrics.TruePositives(thresholds=None, name=None, dtype=None)``.
    """

    @staticmethod
    def values(state: ConfusionState) -> jax.Array:
        return state.true_positives


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class FalsePositives(_ThresholdMetric):
    """The weighted count of false positives: ``sum(w * (y_true == 0) * (y_pred > t))`` (``tf.keras.metrics.FalsePositives``).

    As :class:`TruePositives`, counting the negatives scored above the threshold.

    Args:
      thresholds: None (0.5), a float or a list of floats in ``[0, 1]``.
      name: the metric's name (default ``"false_positives"``).
      dtype: the result dtype (float32).

    Returns:
      ``result(state)``: the count, float32, a scalar or ``[T]``.

    Example:
      >>> metric = FalsePositives(thresholds=[0.0, 0.5])
      >>> metric.result(metric.update(metric.init(), jnp.array([0, 1, 0, 0]), jnp.array([0.0, 0.5, 0.7, 1.0])))
      Array([2., 2.], dtype=float32)

    Keras: ``tf.keras.metrics.FalsePositives(thresholds=None, name=None, dtype=None)``.
    """

    @staticmethod
    def values(state: ConfusionState) -> jax.Array:
        return state.false_positives


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class TrueNegatives(_ThresholdMetric):
    """The weighted count of true negatives: ``sum(w * (y_true == 0) * (y_pred <= t))`` (``tf.keras.metrics.TrueNegatives``).

    As :class:`TruePositives`, counting the negatives scored at or below the threshold.

    Args:
      thresholds: None (0.5), a float or a list of floats in ``[0, 1]``.
      name: the metric's name (default ``"true_negatives"``).
      dtype: the result dtype (float32).

    Returns:
      ``result(state)``: the count, float32, a scalar or ``[T]``.

    Example:
      >>> metric = TrueNegatives()
      >>> metric.result(metric.update(metric.init(), jnp.array([0, 1, 0, 0]), jnp.array([0.0, 0.5, 0.5, 1.0])))
      Array(2., dtype=float32)

    Keras: ``tf.keras.metrics.TrueNegatives(thresholds=None, name=None, dtype=None)``.
    """

    @staticmethod
    def values(state: ConfusionState) -> jax.Array:
        return state.true_negatives


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class FalseNegatives(_ThresholdMetric):
    """The weighted count of false negatives: ``sum(w * (y_true != 0) * (y_pred <= t))`` (``tf.keras.metrics.FalseNegatives``).

    As :class:`TruePositives`, counting the positives scored at or below the threshold.

    Args:
      thresholds: None (0.5), a float or a list of floats in ``[0, 1]``.
      name: the metric's name (default ``"false_negatives"``).
      dtype: the result dtype (float32).

    Returns:
      ``result(state)``: the count, float32, a scalar or ``[T]``.

    Example:
      >>> metric = FalseNegatives()
      >>> metric.result(metric.update(metric.init(), jnp.array([0, 1, 1, 1]), jnp.array([0.1, 0.5, 0.3, 0.9])))
      Array(2., dtype=float32)

    Keras: ``tf.keras.metrics.FalseNegatives(thresholds=None, name=None, dtype=None)``.
    """

    @staticmethod
    def values(state: ConfusionState) -> jax.Array:
        return state.false_negatives


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class _PrecisionRecall(_ThresholdMetric):
    """Precision or recall at ``thresholds``, optionally of the top ``k`` scores or of one class."""

    top_k: int | None = None
    class_id: int | None = None

    def __init__(
        self, thresholds: Any = None, top_k: int | None = None, class_id: int | None = None, name: str | None = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        for option, value in (("top_k", top_k), ("class_id", class_id)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
                raise TypeError(f"`{option}` must be None or an int. Received: {option}={value!r}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"`top_k` must be at least 1. Received: top_k={top_k}")
        object.__setattr__(self, "top_k", None if top_k is None else int(top_k))
        object.__setattr__(self, "class_id", None if class_id is None else int(class_id))
        super().__init__(thresholds, name, dtype)

    def _default_threshold(self) -> float:
        return 0.5 if self.top_k is None else NEG_INF


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class Precision(_PrecisionRecall):
    """Precision ``tp / (tp + fp)`` at each threshold, 0 where nothing was predicted positive (``tf.keras.metrics.Precision``).

    ``tp`` and ``fp`` are the weighted counts of :class:`TruePositives` and
    :class:`FalsePositives`. With ``top_k``, only the ``k`` largest scores of each row (last
    axis; of equal scores the lower index first, as ``tf.math.top_k``) may be positive, the
    others are set to -1e10; the threshold then defaults to -1e10 (every top-``k`` score is
    positive). With ``class_id``, only that column of ``y_true`` and ``y_pred`` counts (after
    ``top_k``). Division by 0 gives 0 (``divide_no_nan``).

    Args:
      thresholds: None (0.5, or -1e10 with ``top_k``), a float or a list of floats in ``[0, 1]``.
      top_k: None, or how many of the largest scores per row may be positive.
      class_id: None, or the class (last-axis index) to score.
      name: the metric's name (default ``"precision"``).
      dtype: the result dtype (float32).

    Returns:
      ``result(state)``: float32, a scalar or ``[T]``.

    Example:
      >>> metric = Precision(top_k=2)
      >>> metric.result(metric.update(metric.init(), jnp.array([[0, 0, 1, 1]]), jnp.array([[1.0, 1.0, 1.0, 1.0]])))
      Array(0., dtype=float32)

    Keras: ``tf.keras.metrics.Precision(thresholds=None, top_k=None, class_id=None, name=None, dtype=None)``.
    """

    @staticmethod
    def values(state: ConfusionState) -> jax.Array:
        tp = state.true_positives
        return divide_no_nan(tp, tp + state.false_positives)


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class Recall(_PrecisionRecall):
    """Recall ``tp / (tp + fn)`` at each threshold, 0 where there were no positives (``tf.keras.metrics.Recall``).

    ``tp`` and ``fn`` are the weighted counts of :class:`TruePositives` and
    :class:`FalseNegatives`; ``top_k`` and ``class_id`` as in :class:`Precision`.

    Args:
      thresholds: None (0.5, or -1e10 with ``top_k``), a float or a list of floats in ``[0, 1]``.
      top_k: None, or how many of the largest scores per row may be positive.
      class_id: None, or the class (last-axis index) to score.
      name: the metric's name (default ``"recall"``).
      dtype: the result dtype (float32).

    Returns:
      ``result(state)``: float32, a scalar or ``[T]``.

    Example:
      >>> metric = Recall()
      >>> metric.result(metric.update(metric.init(), jnp.array([0, 1, 1, 1]), jnp.array([1.0, 0.0, 1.0, 1.0])))
      Array(0.6666667, dtype=float32)

    Keras: ``tf.keras.metrics.Recall(thresholds=None, top_k=None, class_id=None, name=None, dtype=None)``.
    """

    @staticmethod
    def values(state: ConfusionState) -> jax.Array:
        tp = state.true_positives
        return divide_no_nan(tp, tp + state.false_negatives)


# --------------------------------------------------------------------------------------------
# AUC.

_CURVES = {"roc": "ROC", "pr": "PR", "pr_gain": "PR_GAIN", "prgain": "PR_GAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class AUC(Metric):
    """Area under the ROC or precision-recall curve, as a Riemann sum over thresholds (``tf.keras.metrics.AUC``).

    The confusion counts are taken at ``num_thresholds`` thresholds ``i / (T - 1)`` for
    ``i = 1 .. T - 2`` plus ``-1e-7`` and ``1 + 1e-7`` (or at the sorted ``thresholds`` plus
    those two). For the evenly spaced grid, scores are clipped to ``[0, 1]`` and bucketed as
    Keras buckets them (``ceil(p * (T - 1)) - 1``, see the module docstring), in O(N + T) memory.
    With ``x``, ``y`` the curve's points at each threshold (ROC: false-positive rate,
    recall; PR: recall, precision; PR_GAIN: recall gain, precision gain):

        AUC = sum_i (x_i - x_{i+1}) * h_i

    ``h_i`` the mean (``"interpolation"``), min (``"minoring"``) or max (``"majoring"``) of
    ``y_i, y_{i+1}``; PR with ``"interpolation"`` interpolates the counts instead (Davis &
    Goadrich 2006), exactly as Keras's ``interpolate_pr_auc``. With ``multi_label=True``
    (``y_pred`` ``[N, L]``), one curve per label, averaged (weighted by ``label_weights``);
    otherwise every entry counts once, weighted by ``label_weights`` per last-axis entry.

    A multi-label state needs the number of labels when it is made: give ``num_labels`` (or
    ``label_weights``); Keras builds its variables from the first batch instead.

    Args:
      num_thresholds: the number of thresholds (> 1), when ``thresholds`` is None.
      curve: ``"ROC"``, ``"PR"`` or ``"PR_GAIN"``.
      summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
      name: the metric's name (default ``"auc"``).
      dtype: the result dtype (float32).
      thresholds: None, or a list of thresholds in ``[0, 1]`` (then ``num_thresholds`` is
        ``len(thresholds) + 2``).
      multi_label: one curve per label (column of ``[N, L]`` inputs), averaged.
      num_labels: the number of labels of a multi-label metric.
      label_weights: None, or non-negative weights per label.
      from_logits: apply a sigmoid to ``y_pred`` first.

    Returns:
      ``result(state)``: the area, a float32 scalar.

    Example:
      >>> metric = AUC(num_thresholds=3)
      >>> metric.result(metric.update(metric.init(), jnp.array([0, 0, 1, 1]), jnp.array([0.0, 0.5, 0.3, 0.9])))
      Array(0.75, dtype=float32)

    Keras: ``tf.keras.metrics.AUC(num_thresholds=200, curve="ROC", summation_method="interpolation",
    name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
    from_logits=False)``.
    """

    num_thresholds: int = 200
    curve: str = "ROC"
    summation_method: str = "interpolation"
    threshold_values: tuple[float, ...] | None = None
    multi_label: bool = False
    num_labels: int | None = None
    label_weights: tuple[float, ...] | None = None
    from_logits: bool = False

    def __init__(
        self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
        name: str | None = None, dtype: DTypeLike | None = None, thresholds: Sequence[float] | None = None,
        multi_label: bool = False, num_labels: int | None = None, label_weights: Sequence[float] | None = None,
        from_logits: bool = False,
    ) -> None:
        if thresholds is not None:
            values = tuple(sorted(_threshold_tuple(list(thresholds), None)))
            num_thresholds = len(values) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)):
                raise TypeError(f"`num_thresholds` must be an int. Received: num_thresholds={num_thresholds!r}")
            if num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}")
            values = None
        key = curve.lower() if isinstance(curve, str) else curve
        if key not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC", "PR_GAIN"]')
        summation = summation_method.lower() if isinstance(summation_method, str) else summation_method
        if summation not in _SUMMATIONS:
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". '
                'Expected values are ["interpolation", "majoring", "minoring"]'
            )
        if not isinstance(multi_label, bool) or not isinstance(from_logits, bool):
            raise TypeError("`multi_label` and `from_logits` must be bools")
        if num_labels is not None and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        if label_weights is not None:
            label_weights = tuple(float(w) for w in np.asarray(label_weights, np.float32).reshape(-1))
            if any(w < 0 or math.isnan(w) for w in label_weights):
                raise ValueError("All values of `label_weights` must be non-negative.")
        object.__setattr__(self, "num_thresholds", int(num_thresholds))
        object.__setattr__(self, "curve", _CURVES[key])
        object.__setattr__(self, "summation_method", summation)
        object.__setattr__(self, "threshold_values", values)
        object.__setattr__(self, "multi_label", multi_label)
        object.__setattr__(self, "num_labels", None if num_labels is None else int(num_labels))
        object.__setattr__(self, "label_weights", label_weights)
        object.__setattr__(self, "from_logits", from_logits)
        object.__setattr__(self, "name", "auc" if name is None else name)
        object.__setattr__(self, "dtype", dtype)
        self.__post_init__()

    @property
    def thresholds(self) -> list[float]:
        """The thresholds the counts are taken at, padded with ``-1e-7`` and ``1 + 1e-7`` (as Keras's)."""
        return list(self.grid.thresholds)

    @property
    def grid(self) -> _Grid:
        """The thresholds compared against and the path (bucketed or searched) that counts them."""
        return derived(self, "grid", _auc_grid)

    def get_config(self) -> dict[str, Any]:
        """tf-keras 2.21's config: ``thresholds`` only when given (without the padding), ``label_weights`` a list."""
        base = _serialization.fields_config(self)
        config = {
            "name": base["name"],
            "dtype": base["dtype"],
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else list(self.label_weights),
            "from_logits": self.from_logits,
        }
        if self.threshold_values is not None:
            config["thresholds"] = list(self.threshold_values)
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AUC:
        """The metric a :meth:`get_config` dict describes."""
        return cls(**config)

    def init(self) -> ConfusionState:
        """A fresh state: every count 0, ``[T]`` (multi-label: ``[T, num_labels]``)."""
        shape: tuple[int, ...] = (self.num_thresholds,)
        if self.multi_label:
            labels = self.num_labels or (None if self.label_weights is None else len(self.label_weights))
            if labels is None:
                raise ValueError(
                    "a multi-label AUC state needs the number of labels: pass `num_labels` (or `label_weights`)"
                )
            shape += (labels,)
        return ConfusionState(jnp.zeros((*shape, 2, 4), self.state_dtype), metric=MetricTag.of(self))

    def update(
        self, state: ConfusionState, y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike,
        sample_weight: jax.typing.ArrayLike | None = None,
    ) -> ConfusionState:
        """``state`` with this batch's confusion counts at every threshold added."""
        label_weights = None if self.multi_label else self.label_weights
        counting = _Counting(self.grid, self.state_dtype, self.multi_label, label_weights, self.from_logits)
        return _count(self, counting, state, y_true, y_pred, sample_weight)

    def result(self, state: ConfusionState) -> jax.Array:
        """The area under the curve of the counts so far (a float32 scalar)."""
        check_state(self, state)
        area = _Area(self.curve, self.summation_method, self.multi_label, self.label_weights, self.result_dtype)
        return _result_auc(area, state.sums)

    def merge(self, state_a: ConfusionState, state_b: ConfusionState) -> ConfusionState:
        """The counts of both streams (order-free, exact two-float additions); equals ``psum`` across devices."""
        return _merge(self, state_a, state_b)


def _threshold_grid(metric: _ThresholdMetric) -> _Grid:
    """The grid of a thresholded count: its thresholds (or the default), bucketed when evenly spaced."""
    values = _threshold_tuple(metric.thresholds, metric._default_threshold())
    return _Grid(values, _evenly_spaced(values), getattr(metric, "top_k", None), getattr(metric, "class_id", None))


def _auc_grid(metric: AUC) -> _Grid:
    """AUC's grid: ``i / (T - 1)`` or the sorted thresholds, padded with ``-1e-7`` and ``1 + 1e-7``."""
    if metric.threshold_values is None:
        count = metric.num_thresholds
        inner = [(i + 1) * 1.0 / (count - 1) for i in range(count - 2)]
        evenly = True
    else:
        inner = list(metric.threshold_values)
        evenly = _evenly_spaced([0.0, *inner, 1.0])
    return _Grid((0.0 - EPSILON, *inner, 1.0 + EPSILON), evenly)


@dataclasses.dataclass(frozen=True)
class _Area:
    """What an AUC result depends on (the static key of its compiled result)."""

    curve: str
    summation_method: str
    multi_label: bool
    label_weights: tuple[float, ...] | None
    dtype: np.dtype


def _average_labels(metric: _Area, by_label: jax.Array) -> jax.Array:
    if not metric.multi_label:
        return jnp.sum(by_label)
    by_label = jnp.sum(by_label, axis=0)
    if metric.label_weights is None:
        return jnp.mean(by_label)
    weights = jnp.asarray(metric.label_weights, by_label.dtype)
    return divide_no_nan(jnp.sum(by_label * weights), jnp.sum(weights))


@functools.partial(jax.jit, static_argnums=0)
def _result_auc(metric: _Area, sums: jax.Array) -> jax.Array:
    state = ConfusionState(sums)
    tp, fp, tn, fn = state.true_positives, state.false_positives, state.true_negatives, state.false_negatives
    if metric.curve == "PR" and metric.summation_method == "interpolation":
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = divide_no_nan(dtp, jnp.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = jnp.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], jnp.maximum(p[1:], 0)), 1)
        increments = divide_no_nan(prec_slope * (dtp + intercept * jnp.log(safe_p_ratio)), jnp.maximum(tp[1:] + fn[1:], 0))
        return _average_labels(metric, increments).astype(metric.dtype)
    recall = divide_no_nan(tp, tp + fn)
    if metric.curve == "ROC":
        x, y = divide_no_nan(fp, fp + tn), recall
    elif metric.curve == "PR":
        x, y = recall, divide_no_nan(tp, tp + fp)
    else:  # PR_GAIN
        scale = divide_no_nan(tp + fn, fp + tn)
        recall_gain = jnp.where(tp == 0, 0, 1.0 - scale * divide_no_nan(fn, tp))
        precision_gain = jnp.where(tp == 0, 1, 1.0 - scale * divide_no_nan(fp, tp))
        x, y = jnp.maximum(recall_gain, 0), precision_gain
    if metric.summation_method == "interpolation":
        heights = (y[:-1] + y[1:]) / 2.0
    elif metric.summation_method == "minoring":
        heights = jnp.minimum(y[:-1], y[1:])
    else:
        heights = jnp.maximum(y[:-1], y[1:])
    return _average_labels(metric, (x[:-1] - x[1:]) * heights).astype(metric.dtype)
