"""The metric state: compensated sums that add exactly, merge in any order and ``psum`` across devices.

A state is a small immutable pytree (:class:`MetricState`): one array of the four sums and a
static tag naming the metric it belongs to (:class:`MetricTag`), so that a state can only be
updated, read or merged by an equal metric, while ``jax.lax.psum(state, axis)`` still combines
states across devices (the tag is pytree metadata, not a leaf). The tag pickles: a state saved
in one process loads in another.

Every total and count is a compensated two-float sum ``hi + lo`` (Dekker/Knuth TwoSum): each
update adds the batch's weighted sum and weight sum with an error-free transformation and keeps
the rounding error in ``lo``, so the state carries about twice the metric dtype's precision and
a float32 stream does not stall at 2^24 samples as Keras's float32 accumulators do (API.md,
README `#exact-accumulation`). Within one update the batch itself is reduced by XLA in the compute dtype.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxent._objects import Module, derived, fingerprint
from jaxent._reduction import weighted_sum_and_count

__all__ = ["MetricState", "ConfusionState", "MetricTag", "merge_states", "merge_across"]


@dataclasses.dataclass(frozen=True)
class MetricTag:
    """Which metric a state belongs to: its static layout and a digest of its array attributes.

    ``layout`` is the metric's pytree structure (class and static configuration, compared by
    value and type); ``arrays`` a digest of its array attributes' values, identical in every
    process, or None when the metric was traced (inside ``jit`` its arrays have no value), in
    which case only the layout is compared.
    """

    layout: Any
    arrays: str | None

    @classmethod
    def of(cls, metric: Module) -> MetricTag:
        """The tag of ``metric`` (computed once per metric object: it is frozen)."""
        return derived(metric, "tag", lambda metric: cls(jax.tree.structure(metric), fingerprint(metric)))

    def matches(self, other: MetricTag | Module | None) -> bool:
        """Whether a state with this tag may be combined with ``other`` (a tag or a metric)."""
        if other is not None and not isinstance(other, MetricTag):
            other = MetricTag.of(other)
        return self is other or isinstance(other, MetricTag) and self.layout == other.layout and (
            None in (self.arrays, other.arrays) or self.arrays == other.arrays
        )

    def __repr__(self) -> str:
        return repr(self.layout.node_data()[1])


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class MetricState:
    """The running sums of a mean metric: ``total = total_hi + total_lo``, ``count = count_hi + count_lo``.

    ``sums`` is one array ``[..., 4]`` of ``(total_hi, total_lo, count_hi, count_lo)`` in the
    metric's state dtype (float32 unless the metric dtype is float64): ``hi`` holds the rounded
    running sum, ``lo`` the rounding error it has not absorbed (``|lo| <= ulp(hi) / 2`` after
    every update and merge). One leaf, not four: a jitted training step that carries the state
    dispatches one buffer for it (each donated scalar costs microseconds per call).
    ``metric`` is static metadata: the configuration of the metric that made the state (its
    class and every attribute), checked by ``update``, ``result`` and ``merge`` so that, say,
    an accuracy state cannot be merged into a ``Mean`` state.
    """

    sums: jax.Array
    metric: Any = dataclasses.field(default=None, metadata={"static": True})

    @classmethod
    def from_sums(
        cls, total_hi: jax.typing.ArrayLike, total_lo: jax.typing.ArrayLike, count_hi: jax.typing.ArrayLike,
        count_lo: jax.typing.ArrayLike, metric: Any = None,
    ) -> MetricState:
        """The state holding these four sums (of one dtype)."""
        return cls(jnp.stack([total_hi, total_lo, count_hi, count_lo], axis=-1), metric=metric)

    @property
    def total_hi(self) -> jax.Array:
        """The rounded running weighted sum."""
        return self.sums[..., 0]

    @property
    def total_lo(self) -> jax.Array:
        """The rounding error ``total_hi`` has not absorbed."""
        return self.sums[..., 1]

    @property
    def count_hi(self) -> jax.Array:
        """The rounded running sum of weights."""
        return self.sums[..., 2]

    @property
    def count_lo(self) -> jax.Array:
        """The rounding error ``count_hi`` has not absorbed."""
        return self.sums[..., 3]

    @property
    def total(self) -> jax.Array:
        """The weighted sum of the values seen (``hi + lo`` rounded to the state dtype)."""
        return self.total_hi + self.total_lo

    @property
    def count(self) -> jax.Array:
        """The sum of the weights seen (``hi + lo`` rounded to the state dtype)."""
        return self.count_hi + self.count_lo

    def __iter__(self):
        """The four sums: ``total_hi, total_lo, count_hi, count_lo``."""
        return iter(_split_sums(self.sums))

    def __repr__(self) -> str:
        return f"MetricState({self.metric!r}, total={self.total}, count={self.count})"


def check_same_metric(a: MetricState, b: MetricState) -> None:
    """Raise unless two states belong to equal metrics (a trace-time check on static metadata)."""
    if not isinstance(a, MetricState) or not isinstance(b, MetricState):
        raise TypeError(f"expected two MetricState objects, received {type(a).__name__} and {type(b).__name__}")
    if type(a) is not type(b):
        raise ValueError(f"cannot combine a {type(a).__name__} with a {type(b).__name__}: they are states of different metrics")
    if a.metric is not b.metric and (a.metric is None or not a.metric.matches(b.metric)):
        raise ValueError(f"cannot combine a state of {a.metric!r} with a state of {b.metric!r}: they are different metrics")


# --------------------------------------------------------------------------------------------
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


def _add_states(a: tuple[jax.Array, ...], b: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
    """``(total_hi, total_lo, count_hi, count_lo)`` of two states added."""
    return (*_add_two_float(a[0], a[1], b[0], b[1]), *_add_two_float(a[2], a[3], b[2], b[3]))


def add_sums(state: MetricState, sums: jax.Array) -> MetricState:
    """``state`` plus the sums ``[..., 4]`` of another state or of one batch (two-float additions), of ``state``'s class."""
    return type(state).from_sums(*_add_states(_split_sums(state.sums), _split_sums(sums)), metric=state.metric)


def _split_sums(sums: jax.Array) -> tuple[jax.Array, ...]:
    """``(total_hi, total_lo, count_hi, count_lo)`` of an array of sums ``[..., 4]``."""
    return tuple(sums[..., i] for i in range(4))


@jax.jit
def merge_states(a: MetricState, b: MetricState) -> MetricState:
    """The state of both streams together: totals and counts added as two-float sums.

    Commutative exactly and associative up to the two-float rounding (about ``2**-48``
    relative in float32), so any merge order gives the same ``result`` to float32 rounding.
    Both states must belong to equal metrics (``ValueError`` otherwise).

    Example:
      >>> from jaxent.metrics import Mean
      >>> mean = Mean()
      >>> a = mean.update(mean.init(), jnp.array([1.0, 2.0]))
      >>> b = mean.update(mean.init(), jnp.array([6.0]))
      >>> mean.result(merge_states(a, b))
      Array(3., dtype=float32)
    """
    check_same_metric(a, b)
    return add_sums(a, b.sums)


def merge_across(state: MetricState, axis_name: Any) -> MetricState:
    """The exact cross-device merge of ``state`` over a mapped axis (inside ``shard_map``/``pmap``).

    ``jax.lax.psum(state, axis_name)`` adds the highs and the lows separately, which equals
    :func:`merge_states` up to one rounding of the sum of the highs (``n`` devices: at most
    ``(n - 1)`` float32 ulps of the total). This gathers the states and folds them with the
    two-float addition in one ``lax.reduce``, so the two-float precision is kept whatever the
    number of devices and the program does not grow with it.

    Example (8 devices on a mesh axis ``"x"``)::

        def step(y_true, y_pred):  # per-device shards
            local = metric.update(metric.init(), y_true, y_pred)
            return merge_across(local, "x")  # or jax.lax.psum(local, "x")

        state = jax.shard_map(step, mesh=mesh, in_specs=P("x"), out_specs=P())(y_true, y_pred)
    """
    gathered = _split_sums(jax.lax.all_gather(state.sums, axis_name))
    zeros = tuple(jnp.zeros((), leaf.dtype) for leaf in gathered)
    merged = type(state).from_sums(*jax.lax.reduce(gathered, zeros, _add_states, (0,)), metric=state.metric)
    # Every device now holds the same sums, but JAX tracks them as device-varying; a psum to
    # which only the first device contributes marks them replicated without rounding (x + 0 = x).
    first = jax.lax.axis_index(axis_name) == 0
    return jax.lax.psum(jax.tree.map(lambda sums: jnp.where(first, sums, jnp.zeros_like(sums)), merged), axis_name)


def _exact_count(n: int, dtype: jnp.dtype) -> tuple[np.ndarray, np.ndarray]:
    """A static element count as a two-float pair (``float32(2**24 + 1)`` alone would round)."""
    hi = np.asarray(n, dtype)
    return hi, np.asarray(n - int(hi), dtype)


def accumulate(state: MetricState, values: jax.Array, sample_weight: jax.Array | None, mask: jax.Array | None) -> MetricState:
    """``state`` plus one batch, weighted by the shared Keras ``Mean`` path."""
    dtype = state.sums.dtype
    total, count = weighted_sum_and_count(values, sample_weight, mask)
    zero = jnp.zeros((), dtype)
    if sample_weight is None and mask is None:
        count_hi, count_lo = _exact_count(values.size, dtype)
    else:
        count_hi, count_lo = count.astype(dtype), zero
    batch = (total.astype(dtype), zero, jnp.asarray(count_hi), jnp.asarray(count_lo))
    return MetricState.from_sums(*_add_states(_split_sums(state.sums), batch), metric=state.metric)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ConfusionState(MetricState):
    """The exact confusion-matrix counts of a thresholded metric (``TruePositives``, ``Precision``, ``AUC``, ...).

    ``sums`` is one array ``[*shape, 2, 4]`` (``shape``: ``[T]`` thresholds, ``[T, L]`` for a
    multi-label ``AUC``): ``sums[..., 0, :]`` is ``(tp_hi, tp_lo, fp_hi, fp_lo)`` and
    ``sums[..., 1, :]`` is ``(tn_hi, tn_lo, fn_hi, fn_lo)``, each count a compensated two-float
    sum like :class:`MetricState`'s totals (so a float32 count is exact past 2^24 samples, and
    :func:`merge_states`, :func:`merge_across` and ``jax.lax.psum`` combine states as they do
    mean states).
    """

    @property
    def true_positives(self) -> jax.Array:
        """The (weighted) count of positives scored above each threshold."""
        return self.sums[..., 0, 0] + self.sums[..., 0, 1]

    @property
    def false_positives(self) -> jax.Array:
        """The (weighted) count of negatives scored above each threshold."""
        return self.sums[..., 0, 2] + self.sums[..., 0, 3]

    @property
    def true_negatives(self) -> jax.Array:
        """The (weighted) count of negatives scored at or below each threshold."""
        return self.sums[..., 1, 0] + self.sums[..., 1, 1]

    @property
    def false_negatives(self) -> jax.Array:
        """The (weighted) count of positives scored at or below each threshold."""
        return self.sums[..., 1, 2] + self.sums[..., 1, 3]

    def __repr__(self) -> str:
        return (f"ConfusionState({self.metric!r}, true_positives={self.true_positives}, "
                f"false_positives={self.false_positives}, true_negatives={self.true_negatives}, "
                f"false_negatives={self.false_negatives})")
