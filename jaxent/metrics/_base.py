"""The metric base classes: :class:`Metric`, the ``(y_true, y_pred)`` :class:`MeanMetricWrapper`, and :class:`Mean`.

A metric object is a frozen pytree (:class:`jaxent._objects.Module`); its running state is a
separate immutable pytree (:class:`~jaxent.metrics._state.MetricState`), so states can be
carried through ``jit``/``scan``, merged, and summed across devices with ``jax.lax.psum``.
``update`` and ``result`` are ``jax.jit`` functions that take the metric as a pytree argument:
JAX's own cache keys its static configuration, and its arrays are traced.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import DTypeLike

from jaxent import _reduction, _serialization, _validation
from jaxent._inputs import jit_entry
from jaxent._numerics import compute_dtype
from jaxent._objects import Module, split_keyword_arrays
from jaxent._reduction import divide_no_nan, squeeze_last
from jaxent.metrics._state import MetricState, MetricTag, accumulate, merge_states
from jaxent.metrics._stateful import StatefulMetric

__all__ = ["Metric", "MeanMetricWrapper", "Mean"]


@dataclasses.dataclass(frozen=True, eq=False)
class Metric(Module):
    """Base of the metrics: a frozen pytree of configuration; state lives in a :class:`MetricState`.

    ``init()`` gives a fresh state, ``update(state, ...)`` a new one, ``result(state)`` the
    weighted mean ``total / count`` in ``dtype`` (0 while ``count`` is 0, never NaN from an
    empty state), ``merge(a, b)`` the state of both streams. ``stateful()`` wraps all of it in
    a mutable, Keras-style object (``update_state``/``result``/``reset_state``/``merge_state``).
    A state remembers its metric (:class:`MetricTag`: the class, the static configuration and a
    digest of the array attributes): using it with a metric of another class or configuration
    is a ``ValueError``.

    ``dtype`` is the result dtype (default float32; float64 needs ``jax_enable_x64``, else it
    is float32, while the config keeps what was asked for). Inputs and sums are computed in
    float32, or float64 for a float64 metric; a 16-bit ``dtype`` only rounds the result (Keras
    keeps 16-bit totals, which overflow at 65504).
    """

    name: str = "metric"
    dtype: DTypeLike | None = None

    def __post_init__(self) -> None:
        options = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for name, value in _validation.check_options(options).items():
            object.__setattr__(self, name, value)

    def get_config(self) -> dict[str, Any]:
        """tf-keras 2.21's config: ``name``, ``dtype`` (its name) and the options, in Keras's order.

        A subclass with attributes of its own overrides this, as in Keras.

        Example:
          >>> Mean(name="loss").get_config()
          {'name': 'loss', 'dtype': 'float32'}
        """
        return _serialization.fields_config(self)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Metric":
        """The metric a :meth:`get_config` dict describes."""
        return cls(**config)

    @property
    def result_dtype(self) -> jnp.dtype:
        """``dtype`` as JAX has it: float64 is float32 unless ``jax_enable_x64`` is on."""
        return jax.dtypes.canonicalize_dtype(self.dtype)

    @property
    def state_dtype(self) -> jnp.dtype:
        """The dtype inputs are cast to and sums are kept in: float32, or float64."""
        return compute_dtype(self.result_dtype)

    def init(self) -> MetricState:
        """A fresh state: every total and count 0."""
        return MetricState(jnp.zeros((4,), self.state_dtype), metric=MetricTag.of(self))

    @abc.abstractmethod
    def update(self, state: MetricState, *args: Any, sample_weight: jax.typing.ArrayLike | None = None) -> MetricState:
        """``state`` with one more batch accumulated."""

    def result(self, state: MetricState) -> jax.Array:
        """``divide_no_nan(total, count)`` in ``dtype`` (0 while nothing was counted)."""
        return _result(self, state)

    def merge(self, state_a: MetricState, state_b: MetricState) -> MetricState:
        """The state of both streams together (order-free); equals ``psum`` across devices."""
        check_state(self, state_a)
        return merge_states(state_a, state_b)

    def stateful(self) -> StatefulMetric:
        """A mutable Keras-style wrapper holding a fresh state (for notebooks and migration)."""
        return StatefulMetric(self)


def check_state(metric: Metric, state: MetricState) -> None:
    """Raise unless ``state`` is a state of ``metric`` (or of an equal metric)."""
    if not isinstance(state, MetricState):
        raise TypeError(f"`state` must be a MetricState (from {type(metric).__name__}.init()). Received: {state!r}")
    if state.metric is None or not state.metric.matches(metric):
        raise ValueError(f"this state belongs to {state.metric!r}, not to {metric!r}: use the metric that made it")


@jax.jit
def _result(metric: Metric, state: MetricState) -> jax.Array:
    check_state(metric, state)
    return divide_no_nan(state.total_hi + state.total_lo, state.count_hi + state.count_lo).astype(metric.result_dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class Mean(Metric):
    """Weighted mean of the values seen (``tf.keras.metrics.Mean``).

    ``result = sum(w * v) / sum(w)`` over every update; ``sample_weight`` may be a scalar,
    ``[B]``, ``[B, 1]``, per-timestep ``[B, T]`` or the values' shape, and a per-sample weight
    counts once per element it covers. Weights of lower rank than the values (values
    ``[B, T, D]``, weights ``[B]``) weight the per-sample means of the values, as in Keras.
    Entries of weight 0 contribute nothing even when NaN or inf (Keras: NaN for ever;
    README `#weight-0-entries`); totals do not drift (README `#exact-accumulation`).

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
        return _update_mean(self, state, values, sample_weight)


@jit_entry(optional=("sample_weight",), objects=("metric", "state"))
def _update_mean(metric: Mean, state: MetricState, values: jax.Array, sample_weight: jax.Array | None) -> MetricState:
    check_state(metric, state)
    return accumulate(state, jnp.asarray(values).astype(metric.state_dtype), sample_weight, None)


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class MeanMetricWrapper(Metric):
    """The weighted mean of per-sample values of ``(y_true, y_pred)`` (``tf.keras.metrics.MeanMetricWrapper``).

    ``MeanMetricWrapper(fn, name=None, dtype=None, **kwargs)`` wraps a function of
    ``(y_true, y_pred, **kwargs)`` giving per-sample values, as Keras does (this is what
    ``compile`` makes of a metric function: :func:`jaxent.metrics.get` with ``y_true``/``y_pred``).
    The metric classes subclass it and define :meth:`call` (or :meth:`values_and_mask`)
    instead, with no ``fn``. ``update`` casts ``y_true`` and ``y_pred`` to float32 (the compute dtype), drops a
    trailing axis of size 1 from whichever has one axis more (Keras's squeeze rule), computes
    the values and accumulates them as :class:`Mean` does; masked entries (``ignore_class``)
    are left out of the count.

    Example:
      >>> from jaxent.metrics import sparse_categorical_accuracy
      >>> metric = MeanMetricWrapper(sparse_categorical_accuracy, name="accuracy")
      >>> metric.result(metric.update(metric.init(), jnp.array([2, 1]), jnp.array([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3]])))
      Array(0.5, dtype=float32)
      >>> @dataclasses.dataclass(frozen=True, eq=False)
      ... class MeanError(MeanMetricWrapper):
      ...     name: str = "mean_error"
      ...     def call(self, y_true, y_pred):
      ...         return jnp.mean(y_pred - y_true, axis=-1)
      >>> metric = MeanError()
      >>> metric.result(metric.update(metric.init(), jnp.array([[0.0], [1.0]]), jnp.array([[0.5], [2.0]])))
      Array(0.75, dtype=float32)
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
        self, fn: Callable[..., jax.Array] | None = None, name: str | None = None, dtype: DTypeLike | None = None,
        **kwargs: Any,
    ) -> None:
        if fn is not None and not callable(fn):
            raise TypeError(f"`fn` must be a function of (y_true, y_pred). Received: fn={fn!r}")
        object.__setattr__(self, "fn", fn)
        fn_kwargs, fn_arrays = split_keyword_arrays(kwargs)
        object.__setattr__(self, "fn_kwargs", fn_kwargs)
        object.__setattr__(self, "fn_arrays", fn_arrays)
        object.__setattr__(self, "name", "mean_metric_wrapper" if name is None else name)
        object.__setattr__(self, "dtype", dtype)
        self.__post_init__()

    def get_config(self) -> dict[str, Any]:
        """``name``, ``dtype`` and, for a wrapped function, ``fn`` and its keyword arguments (as Keras)."""
        config = super().get_config()
        if self.fn is not None:
            config.update(fn=self.fn, **self.keyword_arguments())
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Metric":
        """The metric of a :meth:`get_config` dict (``fn`` a function; :func:`jaxent.metrics.deserialize` resolves names)."""
        if cls is not MeanMetricWrapper:
            return super().from_config(config)
        config = dict(config)
        fn = config.pop("fn")
        if not callable(fn):
            raise TypeError(
                f"MeanMetricWrapper.from_config needs `fn` as a function. Received: fn={fn!r}; "
                "jaxent.metrics.deserialize and jaxent.metrics.get resolve a function's name or dict"
            )
        return cls(fn, **config)

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        """Per-sample values for ``y_true`` and ``y_pred`` (already cast and squeezed)."""
        if self.fn is None:
            raise TypeError(f"{type(self).__name__} must define `call` or `values_and_mask`")
        return self.fn(y_true, y_pred, **self.keyword_arguments())

    def keyword_arguments(self) -> dict[str, Any]:
        """The keyword arguments ``fn`` is called with, in the order they were given."""
        return {**dict(self.fn_kwargs), **(self.fn_arrays or {})}

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
        return _update_wrapper(self, state, y_true, y_pred, sample_weight)


@jit_entry(optional=("sample_weight",), objects=("metric", "state"))
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
    y_true, y_pred = _mask_weightless_inputs(metric, y_true, y_pred, sample_weight)
    values, mask = metric.values_and_mask(y_true, y_pred)
    return accumulate(state, values.astype(dtype), sample_weight, mask)


def _mask_weightless_inputs(
    metric: MeanMetricWrapper, y_true: jax.Array, y_pred: jax.Array, sample_weight: jax.Array | None
) -> tuple[jax.Array, jax.Array]:
    """The "double where" of :func:`jaxent._reduction.mask_weightless_inputs` for jaxent's own metrics."""
    if metric.fn is not None:
        computations, axis = (metric.fn,), dict(metric.fn_kwargs).get("axis", -1)
    else:
        computations = (type(metric).call, type(metric).values_and_mask)
        axis = getattr(metric, "axis", -1)
    return _reduction.mask_weightless_inputs(metric.values_and_mask, computations, axis, y_true, y_pred, sample_weight)
