"""Metric state, compensated accumulation, the metric base classes and :class:`Mean`.

A metric object is immutable configuration; its running state is a separate immutable pytree
of sums (:class:`MetricState`), so states can be carried through ``jit``/``scan``, combined with
:func:`merge_states` and summed across devices with ``jax.lax.psum``.

Every total and count is a compensated two-float sum ``hi + lo`` (Dekker/Knuth TwoSum): each
update adds the batch's weighted sum and weight sum with an error-free transformation and keeps
the rounding error in ``lo``, so the state carries about twice the metric dtype's precision and
a float32 stream does not stall at 2^24 samples as Keras's float32 accumulators do (API.md,
difference 10). Within one update the batch itself is reduced by XLA in the compute dtype.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Iterable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

from jaxent._numerics import compute_dtype
from jaxent._reduction import divide_no_nan, weighted_sum_and_count
from jaxent.losses import squeeze_last

__all__ = ["MetricState", "Metric", "MeanMetricWrapper", "Mean", "StatefulMetric", "merge_states", "merge_across"]


class MetricState(NamedTuple):
    """The running sums of a mean metric: ``total = total_hi + total_lo``, ``count = count_hi + count_lo``.

    A pytree of four scalars in the metric's compute dtype (float32 unless the metric dtype is
    float64). ``hi`` holds the rounded running sum, ``lo`` the rounding error it has not absorbed
    (``|lo| <= ulp(hi) / 2`` after every update and merge).
    """

    total_hi: jax.Array
    total_lo: jax.Array
    count_hi: jax.Array
    count_lo: jax.Array

    @property
    def total(self) -> jax.Array:
        """The weighted sum of the values seen (``hi + lo`` rounded to the state dtype)."""
        return self.total_hi + self.total_lo

    @property
    def count(self) -> jax.Array:
        """The sum of the weights seen (``hi + lo`` rounded to the state dtype)."""
        return self.count_hi + self.count_lo


# Error-free arithmetic.


def two_sum(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly (Knuth's TwoSum).

    Valid for any order of magnitude of ``a`` and ``b``. Where ``s`` is not finite (an inf or
    NaN operand, or an overflow), ``e`` is 0 so that the error term never turns inf into NaN.
    """
    s = a + b
    b_virtual = s - a
    e = (a - (s - b_virtual)) + (b - b_virtual)
    return s, jnp.where(jnp.isfinite(s), e, jnp.zeros_like(e))


def _add_two_float(a_hi: jax.Array, a_lo: jax.Array, b_hi: jax.Array, b_lo: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(a_hi + a_lo) + (b_hi + b_lo)`` as a renormalised two-float pair.

    TwoSum of the highs, the lows and the highs' rounding error added, then renormalised so
    that ``lo`` is again below half an ulp of ``hi``. Commutative bit for bit.
    """
    s, e = two_sum(a_hi, b_hi)
    return two_sum(s, (a_lo + b_lo) + e)


def _exact_count(n: int, dtype: jnp.dtype) -> tuple[np.ndarray, np.ndarray]:
    """A static element count as a two-float pair (``float32(2**24 + 1)`` alone would round)."""
    hi = np.asarray(n, dtype)
    return hi, np.asarray(n - int(hi), dtype)


@jax.jit
def merge_states(a: MetricState, b: MetricState) -> MetricState:
    """The state of both streams together: totals and counts added as two-float sums.

    Commutative exactly and associative up to the two-float rounding (about ``2**-48``
    relative in float32), so any merge order gives the same ``result`` to float32 rounding.

    Example:
      >>> mean = Mean()
      >>> a = mean.update(mean.init(), jnp.array([1.0, 2.0]))
      >>> b = mean.update(mean.init(), jnp.array([6.0]))
      >>> mean.result(merge_states(a, b))
      Array(3., dtype=float32)
    """
    total_hi, total_lo = _add_two_float(a.total_hi, a.total_lo, b.total_hi, b.total_lo)
    count_hi, count_lo = _add_two_float(a.count_hi, a.count_lo, b.count_hi, b.count_lo)
    return MetricState(total_hi, total_lo, count_hi, count_lo)


def merge_across(state: MetricState, axis_name: Any) -> MetricState:
    """The exact cross-device merge of ``state`` over a mapped axis (inside ``shard_map``/``pmap``).

    ``jax.lax.psum(state, axis_name)`` adds the highs and the lows separately, which equals
    :func:`merge_states` up to one rounding of the sum of the highs (``n`` devices: at most
    ``(n - 1)`` float32 ulps of the total); this gathers the states and merges them instead, so
    the two-float precision is kept whatever the number of devices.

    Example (8 devices on a mesh axis ``"x"``)::

        def step(y_true, y_pred):  # per-device shards
            local = metric.update(metric.init(), y_true, y_pred)
            return merge_across(local, "x")  # or jax.lax.psum(local, "x")

        state = jax.shard_map(step, mesh=mesh, in_specs=P("x"), out_specs=P())(y_true, y_pred)
    """
    gathered = jax.lax.all_gather(state, axis_name)
    merged = jax.tree.map(lambda leaf: leaf[0], gathered)
    for index in range(1, gathered.total_hi.shape[0]):
        merged = merge_states(merged, jax.tree.map(lambda leaf, i=index: leaf[i], gathered))
    # Every device now holds the same state, but JAX tracks it as device-varying; a psum to which
    # only the first device contributes marks it replicated without rounding anything (x + 0 = x).
    first = jax.lax.axis_index(axis_name) == 0
    return jax.lax.psum(jax.tree.map(lambda leaf: jnp.where(first, leaf, jnp.zeros_like(leaf)), merged), axis_name)


def _accumulate(
    state: MetricState, values: jax.Array, sample_weight: jax.Array | None, mask: jax.Array | None
) -> MetricState:
    """``state`` plus one batch, weighted by the shared Keras ``Mean`` path."""
    dtype = state.total_hi.dtype
    total, count = weighted_sum_and_count(values, sample_weight, mask)
    zero = jnp.zeros((), dtype)
    if sample_weight is None and mask is None:
        count_hi, count_lo = _exact_count(values.size, dtype)
    else:
        count_hi, count_lo = count.astype(dtype), zero
    return merge_states(state, MetricState(total.astype(dtype), zero, jnp.asarray(count_hi), jnp.asarray(count_lo)))


# Configuration checks.


def _check_dtype(dtype: object) -> jnp.dtype:
    if dtype is None:
        return jnp.dtype(jnp.float32)
    try:
        resolved = jnp.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or not jnp.issubdtype(resolved, jnp.floating):
        raise TypeError(f"`dtype` must be None or a floating-point dtype. Received: dtype={dtype!r}")
    return jax.dtypes.canonicalize_dtype(resolved)  # float64 is float32 unless jax_enable_x64


def check_flag(name: str, value: object) -> bool:
    """A boolean option (``from_logits``) as a Python bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be a bool. Received: {name}={value!r} of type {type(value)}")
    return bool(value)


def as_array(x: jax.typing.ArrayLike | None, name: str) -> jax.Array | None:
    """``x`` as an array (None stays None), with a TypeError naming the argument."""
    if x is None:
        return None
    try:
        return jnp.asarray(x)
    except TypeError as error:
        raise TypeError(f"`{name}` must be an array or a number. Received: {name}={x!r} ({error})") from None


# Metric classes.


@dataclasses.dataclass(frozen=True)
class Metric(abc.ABC):
    """Base of the metrics: immutable, hashable configuration; state lives in a :class:`MetricState`.

    ``init()`` gives a fresh state, ``update(state, ...)`` a new one, ``result(state)`` the
    weighted mean ``total / count`` in ``dtype`` (0 while ``count`` is 0, never NaN from an
    empty state), ``merge(a, b)`` the state of both streams. ``stateful()`` wraps all of it in
    a mutable, Keras-style object (``update_state``/``result``/``reset_state``/``merge_state``).

    ``dtype`` is the result dtype (default float32). Inputs and sums are computed in float32,
    or float64 for a float64 metric; a 16-bit ``dtype`` only rounds the result (Keras keeps
    16-bit totals, which overflow at 65504).
    """

    name: str = "metric"
    dtype: DTypeLike | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a str. Received: name={self.name!r}")
        object.__setattr__(self, "dtype", _check_dtype(self.dtype))

    @property
    def state_dtype(self) -> jnp.dtype:
        """The dtype inputs are cast to and sums are kept in: float32, or float64."""
        return compute_dtype(self.dtype)

    def init(self) -> MetricState:
        """A fresh state: every total and count 0."""
        zero = jnp.zeros((), self.state_dtype)
        return MetricState(zero, zero, zero, zero)

    @abc.abstractmethod
    def update(self, state: MetricState, *args: Any, sample_weight: jax.typing.ArrayLike | None = None) -> MetricState:
        """``state`` with one more batch accumulated."""

    def result(self, state: MetricState) -> jax.Array:
        """``divide_no_nan(total, count)`` in ``dtype`` (0 while nothing was counted)."""
        return _result(self, state)

    def merge(self, state_a: MetricState, state_b: MetricState) -> MetricState:
        """The state of both streams together (order-free); equals ``psum`` across devices."""
        return merge_states(state_a, state_b)

    def stateful(self) -> StatefulMetric:
        """A mutable Keras-style wrapper holding a fresh state (for notebooks and migration)."""
        return StatefulMetric(self)


@functools.partial(jax.jit, static_argnums=0)
def _result(metric: Metric, state: MetricState) -> jax.Array:
    total = state.total_hi + state.total_lo
    count = state.count_hi + state.count_lo
    return divide_no_nan(total, count).astype(metric.dtype)


@dataclasses.dataclass(frozen=True)
class Mean(Metric):
    """Weighted mean of the values seen (``tf.keras.metrics.Mean``).

    ``result = sum(w * v) / sum(w)`` over every update; ``sample_weight`` may be a scalar,
    ``[B]``, ``[B, 1]``, per-timestep ``[B, T]`` or the values' shape, and a per-sample weight
    counts once per element it covers. Weights of lower rank than the values (values
    ``[B, T, D]``, weights ``[B]``) weight the per-sample means of the values, as in Keras.
    Entries of weight 0 contribute nothing even when NaN or inf (Keras: NaN for ever;
    difference 9); totals do not drift (difference 10).

    Example:
      >>> mean = Mean()
      >>> state = mean.update(mean.init(), jnp.array([1.0, 3.0, 5.0, 7.0]), sample_weight=jnp.array([1, 1, 0, 0]))
      >>> mean.result(state)
      Array(2., dtype=float32)
    """

    name: str = "mean"

    def update(
        self, state: MetricState, values: jax.typing.ArrayLike, sample_weight: jax.typing.ArrayLike | None = None
    ) -> MetricState:
        """``state`` with ``values`` (any shape), weighted by ``sample_weight``, accumulated."""
        return _update_mean(self, state, as_array(values, "values"), as_array(sample_weight, "sample_weight"))


@functools.partial(jax.jit, static_argnums=0)
def _update_mean(metric: Mean, state: MetricState, values: jax.Array, sample_weight: jax.Array | None) -> MetricState:
    return _accumulate(state, values.astype(metric.state_dtype), sample_weight, None)


@dataclasses.dataclass(frozen=True)
class MeanMetricWrapper(Metric):
    """Base of the ``(y_true, y_pred)`` metrics: the weighted mean of per-sample values.

    ``update`` casts ``y_true`` and ``y_pred`` to float32 (the compute dtype), drops a trailing
    axis of size 1 from whichever has one axis more (Keras's squeeze rule), computes
    :meth:`values_and_mask` and accumulates the values as :class:`Mean` does; masked entries
    (``ignore_class``) are left out of the count. Subclasses define :meth:`call` (or
    :meth:`values_and_mask`). Unlike Keras's ``MeanMetricWrapper(fn, ...)``, the function is a
    method, so the metric stays hashable configuration.

    Example:
      >>> @dataclasses.dataclass(frozen=True)
      ... class MeanError(MeanMetricWrapper):
      ...     name: str = "mean_error"
      ...     def call(self, y_true, y_pred):
      ...         return jnp.mean(y_pred - y_true, axis=-1)
      >>> metric = MeanError()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0.0], [1.0]]), jnp.array([[0.5], [2.0]])))
      Array(0.75, dtype=float32)
    """

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        """Per-sample values for ``y_true`` and ``y_pred`` (already cast and squeezed)."""
        raise TypeError(f"{type(self).__name__} must define `call` or `values_and_mask`")

    def values_and_mask(self, y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        """Per-sample values and the mask of entries that count (None: all of them)."""
        return self.call(y_true, y_pred), None

    def update(
        self,
        state: MetricState,
        y_true: jax.typing.ArrayLike,
        y_pred: jax.typing.ArrayLike,
        sample_weight: jax.typing.ArrayLike | None = None,
    ) -> MetricState:
        """``state`` with the values of this batch, weighted by ``sample_weight``, accumulated."""
        return _update_wrapper(
            self,
            state,
            as_array(y_true, "y_true"),
            as_array(y_pred, "y_pred"),
            as_array(sample_weight, "sample_weight"),
        )


@functools.partial(jax.jit, static_argnums=0)
def _update_wrapper(
    metric: MeanMetricWrapper,
    state: MetricState,
    y_true: jax.Array,
    y_pred: jax.Array,
    sample_weight: jax.Array | None,
) -> MetricState:
    dtype = metric.state_dtype
    y_true, y_pred = squeeze_last(y_true.astype(dtype), y_pred.astype(dtype))
    values, mask = metric.values_and_mask(y_true, y_pred)
    return _accumulate(state, values.astype(dtype), sample_weight, mask)


class StatefulMetric:
    """A mutable Keras-style facade over a metric and its state, for notebooks and migration.

    ``update_state``, ``result``, ``reset_state`` and ``merge_state`` work as in Keras (each
    call is compiled); ``.state`` is the current immutable state, ``.metric`` the configuration.
    ``result()`` returns a JAX array: use ``float(m.result())`` where Keras code calls
    ``.numpy()``.

    Example:
      >>> m = Mean().stateful()
      >>> m.update_state([1, 3, 5, 7])
      >>> m.result()
      Array(4., dtype=float32)
      >>> m.reset_state()
      >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
      >>> float(m.result())
      2.0
    """

    def __init__(self, metric: Metric) -> None:
        if not isinstance(metric, Metric):
            raise TypeError(f"`metric` must be a jaxent metric. Received: {metric!r}")
        self.metric = metric
        self.state = metric.init()

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def dtype(self) -> jnp.dtype:
        return self.metric.dtype

    @property
    def total(self) -> jax.Array:
        """The accumulated weighted sum (Keras's ``total`` variable)."""
        return self.state.total

    @property
    def count(self) -> jax.Array:
        """The accumulated weight (Keras's ``count`` variable)."""
        return self.state.count

    def update_state(self, *args: Any, sample_weight: jax.typing.ArrayLike | None = None) -> None:
        """Accumulate one batch: ``(y_true, y_pred, sample_weight=None)``, for Mean ``(values, sample_weight=None)``."""
        if sample_weight is not None:  # else it may come positionally, as Keras allows
            args = (*args, sample_weight)
        self.state = self.metric.update(self.state, *args)

    def result(self) -> jax.Array:
        """The metric value of everything accumulated so far."""
        return self.metric.result(self.state)

    def reset_state(self) -> None:
        """Forget everything accumulated (a fresh state)."""
        self.state = self.metric.init()

    reset_states = reset_state

    def merge_state(self, others: Iterable[StatefulMetric | MetricState]) -> None:
        """Add the states of ``others`` (stateful metrics of the same class, or states) to this one."""
        if isinstance(others, (StatefulMetric, MetricState)):
            raise TypeError("`others` must be a list of metrics or states, e.g. merge_state([other])")
        state = self.state
        for other in others:
            if isinstance(other, StatefulMetric):
                if type(other.metric) is not type(self.metric):
                    raise ValueError(
                        f"cannot merge a {type(other.metric).__name__} into a {type(self.metric).__name__}"
                    )
                other = other.state
            if not isinstance(other, MetricState):
                raise TypeError(f"`others` must hold StatefulMetric or MetricState objects. Received: {other!r}")
            state = merge_states(state, other)
        self.state = state

    def __call__(self, *args: Any, sample_weight: jax.typing.ArrayLike | None = None) -> jax.Array:
        """``update_state(...)`` then ``result()``, as calling a Keras metric does."""
        self.update_state(*args, sample_weight=sample_weight)
        return self.result()

    def __repr__(self) -> str:
        return f"StatefulMetric({self.metric!r}, result={float(self.result())!r})"
