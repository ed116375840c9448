"""A mutable Keras-style facade over a metric and its state (``update_state``/``result``/``reset_state``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp

from jaxent.metrics._state import MetricState

if TYPE_CHECKING:  # the facade only calls the metric's methods; _base imports this module
    from jaxent.metrics._base import Metric

__all__ = ["StatefulMetric"]


class StatefulMetric:
    """A mutable Keras-style facade over a metric and its state, for notebooks and migration.

    ``update_state``, ``result``, ``reset_state`` and ``merge_state`` work as in Keras (each
    call is compiled); ``.state`` is the current immutable state, ``.metric`` the configuration.
    Thread-safe: a lock makes each read-update-write of ``.state`` atomic, so updates from
    several threads are never lost (a Keras variable's ``assign_add`` is atomic too).
    ``result()`` returns a JAX array: use ``float(m.result())`` where Keras code calls
    ``.numpy()``.

    Example:
      >>> from jaxent.metrics import Mean
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
        if not all(callable(getattr(metric, method, None)) for method in ("init", "update", "result", "merge")):
            raise TypeError(f"`metric` must be a jaxent metric. Received: {metric!r}")
        self.metric = metric
        self.state = metric.init()
        self._lock = threading.Lock()

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
        with self._lock:
            self.state = self.metric.update(self.state, *args)

    def result(self) -> jax.Array:
        """The metric value of everything accumulated so far."""
        with self._lock:
            state = self.state
        return self.metric.result(state)

    def reset_state(self) -> None:
        """Forget everything accumulated (a fresh state)."""
        with self._lock:
            self.state = self.metric.init()

    reset_states = reset_state

    def merge_state(self, others: Iterable[StatefulMetric | MetricState]) -> None:
        """Add the states of ``others`` (stateful metrics of the same class, or states) to this one."""
        if isinstance(others, (StatefulMetric, MetricState)):
            raise TypeError("`others` must be a list of metrics or states, e.g. merge_state([other])")
        states = [other.state if isinstance(other, StatefulMetric) else other for other in others]
        for other in states:
            if not isinstance(other, MetricState):
                raise TypeError(f"`others` must hold StatefulMetric or MetricState objects. Received: {other!r}")
        with self._lock:
            for other in states:
                self.state = self.metric.merge(self.state, other)

    def __call__(self, *args: Any, sample_weight: jax.typing.ArrayLike | None = None) -> jax.Array:
        """``update_state(...)`` then ``result()``, as calling a Keras metric does (one atomic step)."""
        if sample_weight is not None:
            args = (*args, sample_weight)
        with self._lock:
            self.state = self.metric.update(self.state, *args)
            state = self.state
        return self.metric.result(state)

    def __repr__(self) -> str:
        return f"StatefulMetric({self.metric!r}, result={float(self.result())!r})"
