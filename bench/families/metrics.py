"""Metrics: one unweighted ``update`` of each jaxent metric against a ``jnp`` sum and Keras 3.

``jit(update)(state, *inputs)`` is timed (mode ``update``) on the ``ROWSxCLASSES`` sizes of
the losses family. The ``jnp`` peer accumulates a plain float32 ``(total, count)`` of the same
per-sample values (no compensation); Keras 3 runs ``stateless_update_state``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

import jaxent
from bench import core
from bench.core import EPS, F32, Op, Prepared, up
from bench.families import losses as L


@dataclasses.dataclass(frozen=True)
class Metric:
    """One metric op: the class name (jaxent and Keras 3), its inputs after the state, the jnp values."""

    name: str
    inputs: Callable  # (size, dtype) -> inputs after the state
    values: Callable  # per-sample values of the same inputs, for the jnp peer


def bits_rounded(s, d):
    """Bits and rounded probabilities: inputs for ``Accuracy`` (exact matches)."""
    return core.bits(s.shape, d), jnp.round(core.sigmoid_probabilities(s.shape, d))


def top_k_matches(labels, scores, k):
    """In the top ``k`` (fewer than ``k`` strictly greater scores), what a user would write with ``jnp``."""
    picked = jnp.take_along_axis(scores, labels[..., None], axis=-1)
    return (jnp.sum(scores > picked, axis=-1) < k).astype(F32)


def _signed(y):
    return jnp.where(jnp.all((y == 0) | (y == 1)), 2 * y - 1, y)


def _normalize(x):
    return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(x * x, axis=-1, keepdims=True), 1e-12))


def jnp_cosine(y, p):
    """The positive cosine similarity along the last axis, as a user would write it."""
    return jnp.sum(_normalize(y) * _normalize(p), axis=-1)


def _kld(y, p):
    y, p = jnp.clip(y, EPS, 1), jnp.clip(p, EPS, 1)
    return jnp.sum(y * jnp.log(y / p), axis=-1)


def _log_cosh(y, p):
    x = p - y
    return jnp.mean(x + jax.nn.softplus(-2 * x) - np.float32(np.log(2)), axis=-1)


def _msle(y, p):
    return jnp.mean(jnp.square(jnp.log(jnp.maximum(p, EPS) + 1) - jnp.log(jnp.maximum(y, EPS) + 1)), axis=-1)


METRICS: list[Metric] = [
    Metric("Mean", lambda s, d: (core.targets(s.shape, d),), lambda v: up(v)),
    Metric("Accuracy", bits_rounded, lambda t, p: (t == p).astype(F32)),
    # tf-keras 2.21 counts BinaryAccuracy per element (binary_matches), not per row
    Metric("BinaryAccuracy", L.bits_probs, lambda t, p: (t == (p > 0.5).astype(t.dtype)).astype(F32)),
    Metric("CategoricalCrossentropy", L.dense_probs, L.jnp_categorical),
    Metric("SparseCategoricalCrossentropy", L.sparse_probs, L.jnp_sparse_categorical),
    Metric("BinaryCrossentropy", L.bits_probs, L.jnp_bce),
    Metric("MeanSquaredError", L.regression, L.jnp_mse),
    Metric("MeanAbsoluteError", L.regression, L.jnp_mae),
    Metric("CategoricalAccuracy", L.dense_probs,
           lambda t, p: (jnp.argmax(t, -1) == jnp.argmax(p, -1)).astype(F32)),
    Metric("SparseCategoricalAccuracy", L.sparse_probs, lambda y, p: (y == jnp.argmax(p, -1)).astype(F32)),
    Metric("TopKCategoricalAccuracy", L.dense_probs, lambda t, p: top_k_matches(jnp.argmax(t, -1), p, 5)),
    Metric("SparseTopKCategoricalAccuracy", L.sparse_probs, lambda y, p: top_k_matches(y, p, 5)),
    Metric("Hinge", L.bits_logits, lambda y, p: jnp.mean(jnp.maximum(1 - _signed(y) * p, 0), axis=-1)),
    Metric("SquaredHinge", L.bits_logits,
           lambda y, p: jnp.mean(jnp.square(jnp.maximum(1 - _signed(y) * p, 0)), axis=-1)),
    Metric("CategoricalHinge", L.dense_logits,
           lambda y, p: jnp.maximum(jnp.max((1 - y) * p, axis=-1) - jnp.sum(y * p, axis=-1) + 1, 0)),
    Metric("KLDivergence", L.dense_probs, _kld),
    Metric("Poisson", L.dense_probs, lambda y, p: jnp.mean(p - y * jnp.log(p + EPS), axis=-1)),
    Metric("LogCoshError", L.regression, _log_cosh),
    Metric("CosineSimilarity", L.regression, jnp_cosine),
    Metric("MeanSquaredLogarithmicError", L.dense_probs, _msle),
    Metric("MeanAbsolutePercentageError", L.regression,
           lambda y, p: 100 * jnp.mean(jnp.abs((y - p) / jnp.maximum(jnp.abs(y), EPS)), axis=-1)),
    # the state is the mean of the element-wise squared errors (result takes its root)
    Metric("RootMeanSquaredError", L.regression, lambda y, p: jnp.square(p - y)),
]


def _jnp_metric(values: Callable) -> tuple[Callable, Callable]:
    def update(state, *inputs):
        v = values(*inputs)
        return state[0] + jnp.sum(v), state[1] + jnp.asarray(v.size, F32)

    return (lambda: (jnp.zeros((), F32), jnp.zeros((), F32))), update


def _op(entry: Metric) -> Op:
    def impls():
        metric = getattr(jaxent.metrics, entry.name)()
        found = {"jaxent": (metric.init, metric.update), "jnp": _jnp_metric(entry.values)}
        skipped: dict[str, str] = {}

        def keras_impl(keras):
            keras_metric = getattr(keras.metrics, entry.name)()
            return (lambda: [v.value for v in keras_metric.variables],
                    lambda state, *inputs: keras_metric.stateless_update_state(state, *inputs))

        core.with_keras(found, skipped, keras_impl)
        return found, skipped

    return Op(f"metric.{entry.name}", "metrics", impls, entry.inputs, ("update",), ("clf",),
              ce=entry.name.endswith("Crossentropy"), doc=f"metrics.{entry.name}().update(state, ...)")


class Metrics(L.RowsFamily):
    name = "metrics"
    title = "Metrics (one update of the state)"

    def ops(self) -> list[Op]:
        return [_op(e) for e in METRICS]

    def prepare(self, op, impl, obj, mode, inputs):
        init, update = obj
        state = init()
        compiled, lower_s, compile_s = core.compile_ahead(update, state, *inputs)
        return Prepared(lambda: compiled(state, *inputs), None, compiled, lower_s, compile_s)

    def min_bytes(self, op, size, inputs, mode):
        return core.tree_bytes(inputs)


FAMILY = Metrics()
