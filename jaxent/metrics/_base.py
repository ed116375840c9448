"""The metric base classes: :class:`Metric`, the ``(y_true, y_pred)`` :class:`MeanMetricWrapper`, and :class:`Mean`.

A metric object is immutable configuration; its running state is a separate immutable pytree
(:class:`~jaxent.metrics._state.MetricState`), so states can be carried through ``jit``/``scan``,
merged, and summed across devices with ``jax.lax.psum``. ``update`` and ``result`` are compiled
with the metric as static configuration (every attribute, :mod:`jaxent._compile`).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from jaxent import _validation
from jaxent._compile import Configurable, compiled_method, static_config
from jaxent._numerics import compute_dtype
from jaxent._reduction import divide_no_nan, squeeze_last
from jaxent.metrics._state import MetricState, accumulate, merge_states

if TYPE_CHECKING:
    from jaxent.metrics._stateful import StatefulMetric

__all__ = ["Metric", "MeanMetricWrapper", "Mean"]


@dataclasses.dataclass(frozen=True, eq=False)
class Metric(Configurable, abc.ABC):
    """Base of the metrics: immutable configuration; state lives in a :class:`MetricState`.

    ``init()`` gives a fresh state, ``update(state, ...)`` a new one, ``result(state)`` the
    weighted mean ``total / count`` in ``dtype`` (0 while ``count`` is 0, never NaN from an
    empty state), ``merge(a, b)`` the state of both streams. ``stateful()`` wraps all of it in
    a mutable, Keras-style object (``update_state``/``result``/``reset_state``/``merge_state``).
    A state remembers its metric: using it with a metric of another class or configuration is
    a ``ValueError``.

    ``dtype`` is the result dtype (default float32). Inputs and sums are computed in float32,
    or float64 for a float64 metric; a 16-bit ``dtype`` only rounds the result (Keras keeps
    16-bit totals, which overflow at 65504).
    """

    name: str = "metric"
    dtype: DTypeLike | None = None

    def __post_init__(self) -> None:
        options = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for name, value in _validation.check_options(options).items():
            object.__setattr__(self, name, value)

    @property
    def state_dtype(self) -> jnp.dtype:
        """The dtype inputs are cast to and sums are kept in: float32, or float64."""
        return compute_dtype(self.dtype)

    def init(self) -> MetricState:
        """A fresh state: every total and count 0."""
        zero = jnp.zeros((), self.state_dtype)
        return MetricState(zero, zero, zero, zero, metric=static_config(self))

    @abc.abstractmethod
    def update(self, state: MetricState, *args: Any, sample_weight: jax.typing.ArrayLike | None = None) -> MetricState:
        """``state`` with one more batch accumulated."""

    def result(self, state: MetricState) -> jax.Array:
        """``divide_no_nan(total, count)`` in ``dtype`` (0 while nothing was counted)."""
        return compiled_method(_result, self, state)

    def merge(self, state_a: MetricState, state_b: MetricState) -> MetricState:
        """The state of both streams together (order-free); equals ``psum`` across devices."""
        check_state(self, state_a)
        return merge_states(state_a, state_b)

    def stateful(self) -> StatefulMetric:
        """A mutable Keras-style wrapper holding a fresh state (for notebooks and migration)."""
        from jaxent.metrics._stateful import StatefulMetric

        return StatefulMetric(self)


def check_state(metric: Metric, state: MetricState) -> None:
    """Raise unless ``state`` is a state of ``metric`` (or of an equal metric)."""
    if not isinstance(state, MetricState):
        raise TypeError(f"`state` must be a MetricState (from {type(metric).__name__}.init()). Received: {state!r}")
    config = static_config(metric)
    if state.metric != config:
        raise ValueError(f"this state belongs to {state.metric!r}, not to {config!r}: use the metric that made it")


def _result(metric: Metric, state: MetricState) -> jax.Array:
    check_state(metric, state)
    return divide_no_nan(state.total_hi + state.total_lo, state.count_hi + state.count_lo).astype(metric.dtype)


@dataclasses.dataclass(frozen=True, eq=False)
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
        return compiled_method(_update_mean, self, state, values, sample_weight)


def _update_mean(metric: Mean, state: MetricState, values: jax.Array, sample_weight: jax.Array | None) -> MetricState:
    check_state(metric, state)
    return accumulate(state, jnp.asarray(values).astype(metric.state_dtype), sample_weight, None)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanMetricWrapper(Metric):
    """Base of the ``(y_true, y_pred)`` metrics: the weighted mean of per-sample values.

    ``update`` casts ``y_true`` and ``y_pred`` to float32 (the compute dtype), drops a trailing
    axis of size 1 from whichever has one axis more (Keras's squeeze rule), computes
    :meth:`values_and_mask` and accumulates the values as :class:`Mean` does; masked entries
    (``ignore_class``) are left out of the count. Subclasses define :meth:`call` (or
    :meth:`values_and_mask`). Unlike Keras's ``MeanMetricWrapper(fn, ...)``, the function is a
    method, so the metric stays configuration.

    Example:
      >>> @dataclasses.dataclass(frozen=True, eq=False)
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
        return compiled_method(_update_wrapper, self, state, y_true, y_pred, sample_weight)


def _update_wrapper(
    metric: MeanMetricWrapper,
    state: MetricState,
    y_true: jax.Array,
    y_pred: jax.Array,
    sample_weight: jax.Array | None,
) -> MetricState:
    check_state(metric, state)
    dtype = metric.state_dtype
    y_true, y_pred = squeeze_last(jnp.asarray(y_true).astype(dtype), jnp.asarray(y_pred).astype(dtype))
    values, mask = metric.values_and_mask(y_true, y_pred)
    return accumulate(state, values.astype(dtype), sample_weight, mask)
