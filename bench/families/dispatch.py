"""Dispatch: every public function called eagerly at a tiny size against a jitted ``jnp`` equivalent.

At ``32x10`` the computation takes a few microseconds; what a call costs is its dispatch:
argument conversion, the jit cache lookup, launching the executable, wrapping the result.
Each figure (mode ``call``) times the public callable exactly as a user calls it outside
``jit`` (``jaxent.losses.mean_squared_error(y_true, y_pred)``, ``metric.update(state, y_true,
y_pred)``, ``tx.update(grads, state, params)``) against ``jax.jit(f)`` of a ``jnp`` function
computing the same thing from the same arguments and returning the same pytree, timed
interleaved call for call. A ratio above 1 is overhead jaxent adds on top of one jitted call.

The table (:data:`ENTRIES`) has one entry per public function of API.md; the metric classes'
``update``/``result``/``merge`` entries come from the metrics family's table, so a new metric
there is measured here too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import jaxent
from bench import core
from bench.core import EPS, F32, Op, Prepared, Size, up
from bench.families import losses as L
from bench.families import metrics as M
from bench.families import optimizers as O

# Entries marked ``quick`` are in group "core", the others in "rest": ``--quick`` times the core
# (one per kind of call path) to stay within a minute; a full run times every entry once.
PRESETS = {backend: {"toy": {"core": [(32, 10)], "rest": [(32, 10)]}, "quick": {"core": [(32, 10)]},
                     "small": {"core": [(32, 10)], "rest": [(32, 10)]}}
           for backend in ("cpu", "accelerator")}
FEATURES = 16  # D of the fused loss's tiny features


@dataclasses.dataclass(frozen=True)
class Entry:
    """One public callable: ``jaxent(obj)(*inputs)`` eagerly against ``jax.jit(jnp)(*inputs)``.

    ``inputs(size, dtype)`` gives the positional arguments; ``jaxent`` is a zero-argument
    factory returning the public callable (a function, a bound method of a configured object).
    """

    name: str
    inputs: Callable[[Size, Any], tuple]
    jaxent: Callable[[], Callable]
    jnp: Callable
    quick: bool = False  # also timed by --quick


def _fn(f: Callable) -> Callable[[], Callable]:
    return lambda: f


# ---------------------------------------------------------------------------------------------
# jnp equivalents not in the losses family.


def _bce_elementwise(t, p):
    p = jnp.clip(up(p), EPS, 1 - EPS)
    t = t.astype(p.dtype)
    return -(t * jnp.log(p + EPS) + (1 - t) * jnp.log(1 - p + EPS))


def _accuracy(t, p):
    return (t == p).astype(F32)


def _binary_accuracy(t, p):
    return jnp.mean((t == (p > 0.5).astype(t.dtype)).astype(F32), axis=-1)


def _fused_inputs(size: Size, dtype):
    n, v = size.shape
    features = jax.random.normal(core.key(9), (n, FEATURES), F32).astype(dtype)
    kernel = (jax.random.normal(core.key(10), (FEATURES, v), F32) / np.sqrt(FEATURES)).astype(dtype)
    return features, kernel, core.int_labels(size.shape, v)


def _jnp_fused(f, k, y):
    return L.jnp_sparse_softmax_ce(y, f @ k)


def _labels_only(size: Size, dtype):
    return (core.int_labels(size.shape, size.shape[-1]),)


CLASS_WEIGHT = {k: 0.5 + k / 10 for k in range(10)}  # classes 0 .. 9 of the tiny size


def _jnp_class_weight(labels):
    return jnp.asarray(list(CLASS_WEIGHT.values()), F32)[labels]


# ---------------------------------------------------------------------------------------------
# Metric methods, from the metrics family's table. The jnp equivalents take and return the
# same MetricState pytree (the four sums in one array, the metric as static metadata), so only the call path
# differs.


def _metric_entries(entry: M.Metric) -> list[Entry]:
    cls = getattr(jaxent.metrics, entry.name)
    state0 = lambda: cls().init()  # noqa: E731

    def jnp_update(state, *inputs):
        v = entry.values(*inputs)
        return dataclasses.replace(state, sums=state.sums + jnp.stack([jnp.sum(v), 0.0, v.size, 0.0]))

    def jnp_result(state):
        count = state.count_hi + state.count_lo
        mean = jnp.where(count == 0, 0.0, (state.total_hi + state.total_lo) / jnp.where(count == 0, 1.0, count))
        return jnp.sqrt(mean) if entry.name == "RootMeanSquaredError" else mean

    def jnp_merge(a, b):
        return jax.tree.map(jnp.add, a, b)

    def filled(size, dtype):  # a state with something counted, so result is not the empty case
        return cls().update(state0(), *entry.inputs(size, dtype))

    prefix = f"metrics.{entry.name}"
    quick = entry.name in ("Mean", "SparseCategoricalCrossentropy")
    return [
        Entry(f"{prefix}.update", lambda s, d: (state0(), *entry.inputs(s, d)), lambda: cls().update, jnp_update,
              quick),
        Entry(f"{prefix}.result", lambda s, d: (filled(s, d),), lambda: cls().result, jnp_result,
              entry.name == "Mean"),
        Entry(f"{prefix}.merge", lambda s, d: (filled(s, d), filled(s, d)), lambda: cls().merge, jnp_merge,
              entry.name == "Mean"),
    ]


# ---------------------------------------------------------------------------------------------
# Confusion-matrix metrics: the jnp peer counts with a plain [T, N] comparison in float32 (the
# naive form jaxent avoids) into the same ConfusionState pytree.

CONFUSION_METRICS = ("TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall",
                     "AUC")


def _confusion_entries(name: str) -> list[Entry]:
    cls = getattr(jaxent.metrics, name)
    state0 = lambda: cls().init()  # noqa: E731
    thresholds = np.asarray(cls().grid.thresholds, np.float32)

    def jnp_update(state, y_true, y_pred):
        positive = (y_true != 0).reshape(1, -1)
        above = y_pred.reshape(1, -1) > jnp.asarray(thresholds)[:, None]
        count = lambda mask: jnp.sum(mask, axis=1).astype(F32)  # noqa: E731
        zero = jnp.zeros(len(thresholds), F32)
        tp, fp = count(above & positive), count(above & ~positive)
        tn, fn = count(~above & ~positive), count(~above & positive)
        batch = jnp.stack([jnp.stack([tp, zero, fp, zero], -1), jnp.stack([tn, zero, fn, zero], -1)], -2)
        return dataclasses.replace(state, sums=state.sums + batch)

    def jnp_result(state):
        return jnp.sum(state.true_positives)

    def filled(size, dtype):
        return cls().update(state0(), *L.bits_probs(size, dtype))

    prefix = f"metrics.{name}"
    return [
        Entry(f"{prefix}.update", lambda s, d: (state0(), *L.bits_probs(s, d)), lambda: cls().update, jnp_update,
              name == "AUC"),
        Entry(f"{prefix}.result", lambda s, d: (filled(s, d),), lambda: cls().result, jnp_result),
        Entry(f"{prefix}.merge", lambda s, d: (filled(s, d), filled(s, d)), lambda: cls().merge,
              lambda a, b: jax.tree.map(jnp.add, a, b)),
    ]


# ---------------------------------------------------------------------------------------------
# The Loss classes, from the losses family's table (called without a sample weight).


def _loss_class_entry(entry: L.LossClass) -> Entry:
    def make():
        return getattr(jaxent.losses, entry.name)(**entry.kwargs)

    per_sample = entry.jnp
    return Entry(f"losses.{entry.name}", entry.inputs, make, lambda y, p: jnp.mean(per_sample(y, p)),
                 quick=entry.name == "SparseCategoricalCrossentropy")


def _rmsprop_inputs(size: Size, dtype):
    inputs = O.make_inputs(O.FAMILY.make_size("params", (20_000,)), dtype)
    params, grads = inputs["params"], inputs["grads"]
    state = jaxent.optimizers.rmsprop().init(params)
    return grads, state, params


def _jnp_rmsprop_update(grads, state, params):
    """Keras's RMSprop step on jaxent's state pytree (count, nu), no momentum, not centered."""
    nu = jax.tree.map(lambda r, g: O.RHO * r + (1 - O.RHO) * g * g, state.nu, grads)
    updates = jax.tree.map(lambda g, r: -O.LEARNING_RATE * g * jax.lax.rsqrt(r + EPS), grads, nu)
    return updates, state._replace(count=state.count + 1, nu=nu)


def _optimizer_inputs(factory):
    def inputs(size: Size, dtype):
        made = O.make_inputs(O.FAMILY.make_size("params", (20_000,)), dtype)
        params, grads = made["params"], made["grads"]
        return grads, factory().init(params), params

    return inputs


def _jnp_sgd_update(grads, state, params):
    """Keras's SGD step without momentum (the slot m = -lr·g, kept as Keras keeps it)."""
    m = jax.tree.map(lambda g: -O.LEARNING_RATE * g, grads)
    return m, state._replace(count=state.count + 1, momentum=m)


def _jnp_adam_update(grads, state, params):
    """Keras's Adam step (ε added to the uncorrected sqrt(v))."""
    t = (state.count + 1).astype(F32)
    alpha = O.LEARNING_RATE * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
    mu = jax.tree.map(lambda m, g: m + (g - m) * 0.1, state.mu, grads)
    nu = jax.tree.map(lambda v, g: v + (g * g - v) * 0.001, state.nu, grads)
    updates = jax.tree.map(lambda m, v: -(m * alpha) / (jnp.sqrt(v) + EPS), mu, nu)
    return updates, state._replace(count=state.count + 1, mu=mu, nu=nu)


def _jnp_adamw_update(grads, state, params):
    updates, state = _jnp_adam_update(grads, state, params)
    return jax.tree.map(lambda u, p: u - p * 0.004 * O.LEARNING_RATE, updates, params), state


# The other tf.keras losses: plain jnp forms of the same per-sample values.


def _jnp_signed(y):
    return jnp.where(jnp.all((y == 0) | (y == 1)), 2 * y - 1, y)


def _jnp_hinge(y, p):
    return jnp.mean(jnp.maximum(1 - _jnp_signed(y) * p, 0), axis=-1)


def _jnp_squared_hinge(y, p):
    return jnp.mean(jnp.square(jnp.maximum(1 - _jnp_signed(y) * p, 0)), axis=-1)


def _jnp_categorical_hinge(y, p):
    return jnp.maximum(jnp.max((1 - y) * p, axis=-1) - jnp.sum(y * p, axis=-1) + 1, 0)


def _jnp_huber(y, p):
    e = jnp.abs(p - y)
    return jnp.mean(jnp.where(e <= 1.0, 0.5 * e * e, e - 0.5), axis=-1)


def _jnp_log_cosh(y, p):
    x = p - y
    return jnp.mean(x + jax.nn.softplus(-2 * x) - np.float32(np.log(2)), axis=-1)


def _jnp_kld(y, p):
    y, p = jnp.clip(y, EPS, 1), jnp.clip(p, EPS, 1)
    return jnp.sum(y * jnp.log(y / p), axis=-1)


def _jnp_poisson(y, p):
    return jnp.mean(p - y * jnp.log(p + EPS), axis=-1)


def _jnp_cosine(y, p):
    def normalize(x):
        return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(x * x, axis=-1, keepdims=True), 1e-12))

    return -jnp.sum(normalize(y) * normalize(p), axis=-1)


def _jnp_msle(y, p):
    return jnp.mean(jnp.square(jnp.log(jnp.maximum(p, EPS) + 1) - jnp.log(jnp.maximum(y, EPS) + 1)), axis=-1)


def _jnp_mape(y, p):
    return 100 * jnp.mean(jnp.abs((y - p) / jnp.maximum(jnp.abs(y), EPS)), axis=-1)


def _jnp_categorical_focal(y, p):
    p = jnp.clip(p / jnp.sum(p, axis=-1, keepdims=True), EPS, 1 - EPS)
    return jnp.sum(0.25 * jnp.square(1 - p) * -y * jnp.log(p), axis=-1)


def _jnp_binary_focal(y, p):
    c = jnp.clip(p, EPS, 1 - EPS)
    bce = -(y * jnp.log(c + EPS) + (1 - y) * jnp.log(1 - c + EPS))
    return jnp.mean(jnp.square(1 - (y * p + (1 - y) * (1 - p))) * bce, axis=-1)


_MORE_LOSSES = [  # (function, class, inputs, jnp per-sample form)
    ("hinge", "Hinge", L.bits_logits, _jnp_hinge),
    ("squared_hinge", "SquaredHinge", L.bits_logits, _jnp_squared_hinge),
    ("categorical_hinge", "CategoricalHinge", L.dense_logits, _jnp_categorical_hinge),
    ("huber", "Huber", L.regression, _jnp_huber),
    ("log_cosh", "LogCosh", L.regression, _jnp_log_cosh),
    ("kl_divergence", "KLDivergence", L.dense_probs, _jnp_kld),
    ("poisson", "Poisson", L.dense_probs, _jnp_poisson),
    ("cosine_similarity", "CosineSimilarity", L.regression, _jnp_cosine),
    ("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", L.dense_probs, _jnp_msle),
    ("mean_absolute_percentage_error", "MeanAbsolutePercentageError", L.regression, _jnp_mape),
    ("categorical_focal_crossentropy", "CategoricalFocalCrossentropy", L.dense_probs, _jnp_categorical_focal),
    ("binary_focal_crossentropy", "BinaryFocalCrossentropy", L.bits_probs, _jnp_binary_focal),
]


def _more_loss_entries() -> list[Entry]:
    entries = []
    for fn, cls, inputs, per_sample in _MORE_LOSSES:
        entries.append(Entry(f"losses.{fn}", inputs, _fn(getattr(jaxent.losses, fn)), per_sample))
        entries.append(Entry(f"losses.{cls}", inputs, getattr(jaxent.losses, cls),
                             lambda y, p, f=per_sample: jnp.mean(f(y, p))))
    return entries


def _jnp_adagrad_update(grads, state, params):
    """Keras's Adagrad step (ε inside the root)."""
    acc = jax.tree.map(lambda a, g: a + g * g, state.accumulator, grads)
    updates = jax.tree.map(lambda g, a: -(O.LEARNING_RATE * g) / jnp.sqrt(a + EPS), grads, acc)
    return updates, state._replace(count=state.count + 1, accumulator=acc)


def _jnp_adamax_update(grads, state, params):
    """Keras's Adamax step (ε added to u before the bias correction multiplies it)."""
    t = (state.count + 1).astype(F32)
    mu = jax.tree.map(lambda m, g: m + (g - m) * 0.1, state.mu, grads)
    nu = jax.tree.map(lambda u, g: jnp.maximum(0.999 * u, jnp.abs(g)), state.nu, grads)
    updates = jax.tree.map(lambda m, u: -(O.LEARNING_RATE * m) / ((1 - 0.9**t) * (u + EPS)), mu, nu)
    return updates, state._replace(count=state.count + 1, mu=mu, nu=nu)


def _jnp_adadelta_update(grads, state, params):
    """Keras's Adadelta step."""
    acc = jax.tree.map(lambda a, g: 0.95 * a + 0.05 * g * g, state.accumulated_grad, grads)
    delta = jax.tree.map(lambda d, g, a: -jnp.sqrt(d + EPS) * g / jnp.sqrt(a + EPS),
                         state.accumulated_delta_var, grads, acc)
    acc_delta = jax.tree.map(lambda d, x: 0.95 * d + 0.05 * x * x, state.accumulated_delta_var, delta)
    updates = jax.tree.map(lambda x: O.LEARNING_RATE * x, delta)
    return updates, state._replace(count=state.count + 1, accumulated_grad=acc, accumulated_delta_var=acc_delta)


def _jnp_lion_update(grads, state, params):
    """Keras's Lion step."""
    updates = jax.tree.map(lambda m, g: -O.LEARNING_RATE * jnp.sign(m * 0.9 + g * 0.1), state.momentum, grads)
    momentum = jax.tree.map(lambda m, g: m * 0.99 + g * 0.01, state.momentum, grads)
    return updates, state._replace(count=state.count + 1, momentum=momentum)


ENTRIES: list[Entry] = [
    Entry("utils.to_categorical", _labels_only, _fn(lambda y: jaxent.utils.to_categorical(y, 10)),
          lambda y: jax.nn.one_hot(y, 10, dtype=F32)),
    Entry("utils.class_weight_to_sample_weight", _labels_only,
          _fn(lambda y: jaxent.utils.class_weight_to_sample_weight(y, CLASS_WEIGHT)), _jnp_class_weight),
    Entry("nn.sigmoid_cross_entropy_with_logits", L.bits_logits, _fn(jaxent.nn.sigmoid_cross_entropy_with_logits),
          L.jnp_sigmoid_ce),
    Entry("nn.softmax_cross_entropy_with_logits", L.dense_logits, _fn(jaxent.nn.softmax_cross_entropy_with_logits),
          L.jnp_softmax_ce, quick=True),
    Entry("nn.sparse_softmax_cross_entropy_with_logits", L.sparse_logits,
          _fn(jaxent.nn.sparse_softmax_cross_entropy_with_logits), L.jnp_sparse_softmax_ce, quick=True),
    Entry("nn.linear_sparse_softmax_cross_entropy", _fused_inputs, _fn(jaxent.nn.linear_sparse_softmax_cross_entropy),
          _jnp_fused, quick=True),
    Entry("backend.categorical_crossentropy", L.dense_probs, _fn(jaxent.backend.categorical_crossentropy),
          L.jnp_categorical),
    Entry("backend.sparse_categorical_crossentropy", L.sparse_probs,
          _fn(jaxent.backend.sparse_categorical_crossentropy), L.jnp_sparse_categorical),
    Entry("backend.binary_crossentropy", L.bits_probs, _fn(jaxent.backend.binary_crossentropy), _bce_elementwise),
    Entry("losses.categorical_crossentropy", L.dense_probs, _fn(jaxent.losses.categorical_crossentropy),
          L.jnp_categorical),
    Entry("losses.sparse_categorical_crossentropy", L.sparse_probs,
          _fn(jaxent.losses.sparse_categorical_crossentropy), L.jnp_sparse_categorical, quick=True),
    Entry("losses.binary_crossentropy", L.bits_probs, _fn(jaxent.losses.binary_crossentropy), L.jnp_bce),
    Entry("losses.mean_squared_error", L.regression, _fn(jaxent.losses.mean_squared_error), L.jnp_mse),
    Entry("losses.mean_absolute_error", L.regression, _fn(jaxent.losses.mean_absolute_error), L.jnp_mae),
    *[_loss_class_entry(e) for e in L.LOSSES if isinstance(e, L.LossClass)],
    *_more_loss_entries(),
    Entry("losses.LinearSparseCategoricalCrossentropy", _fused_inputs,
          lambda: jaxent.losses.LinearSparseCategoricalCrossentropy(), lambda f, k, y: jnp.mean(_jnp_fused(f, k, y))),
    Entry("metrics.accuracy", M.bits_rounded, _fn(jaxent.metrics.accuracy), _accuracy),
    Entry("metrics.binary_accuracy", L.bits_probs, _fn(jaxent.metrics.binary_accuracy), _binary_accuracy),
    Entry("metrics.categorical_accuracy", L.dense_probs, _fn(jaxent.metrics.categorical_accuracy),
          next(m.values for m in M.METRICS if m.name == "CategoricalAccuracy")),
    Entry("metrics.sparse_categorical_accuracy", L.sparse_probs, _fn(jaxent.metrics.sparse_categorical_accuracy),
          next(m.values for m in M.METRICS if m.name == "SparseCategoricalAccuracy")),
    Entry("metrics.top_k_categorical_accuracy", L.dense_probs, _fn(jaxent.metrics.top_k_categorical_accuracy),
          next(m.values for m in M.METRICS if m.name == "TopKCategoricalAccuracy")),
    Entry("metrics.sparse_top_k_categorical_accuracy", L.sparse_probs,
          _fn(jaxent.metrics.sparse_top_k_categorical_accuracy),
          next(m.values for m in M.METRICS if m.name == "SparseTopKCategoricalAccuracy")),
    Entry("metrics.cosine_similarity", L.regression, _fn(jaxent.metrics.cosine_similarity), M.jnp_cosine),
    *[e for m in M.METRICS for e in _metric_entries(m)],
    *[e for name in CONFUSION_METRICS for e in _confusion_entries(name)],
    # An optax update is not jitted by itself (eagerly it runs op by op, as optax's do): the
    # figure is the update jitted the way a user's step holds it.
    Entry("optimizers.rmsprop.update", _rmsprop_inputs, lambda: jax.jit(jaxent.optimizers.rmsprop().update),
          _jnp_rmsprop_update, quick=True),
    Entry("optimizers.sgd.update", _optimizer_inputs(lambda: jaxent.optimizers.sgd(O.LEARNING_RATE)),
          lambda: jax.jit(jaxent.optimizers.sgd(O.LEARNING_RATE).update), _jnp_sgd_update),
    Entry("optimizers.adam.update", _optimizer_inputs(lambda: jaxent.optimizers.adam(O.LEARNING_RATE)),
          lambda: jax.jit(jaxent.optimizers.adam(O.LEARNING_RATE).update), _jnp_adam_update),
    Entry("optimizers.adamw.update", _optimizer_inputs(lambda: jaxent.optimizers.adamw(O.LEARNING_RATE)),
          lambda: jax.jit(jaxent.optimizers.adamw(O.LEARNING_RATE).update), _jnp_adamw_update),
    Entry("optimizers.adagrad.update", _optimizer_inputs(lambda: jaxent.optimizers.adagrad(O.LEARNING_RATE)),
          lambda: jax.jit(jaxent.optimizers.adagrad(O.LEARNING_RATE).update), _jnp_adagrad_update),
    Entry("optimizers.adamax.update", _optimizer_inputs(lambda: jaxent.optimizers.adamax(O.LEARNING_RATE)),
          lambda: jax.jit(jaxent.optimizers.adamax(O.LEARNING_RATE).update), _jnp_adamax_update),
    Entry("optimizers.adadelta.update", _optimizer_inputs(lambda: jaxent.optimizers.adadelta(O.LEARNING_RATE)),
          lambda: jax.jit(jaxent.optimizers.adadelta(O.LEARNING_RATE).update), _jnp_adadelta_update),
    Entry("optimizers.lion.update", _optimizer_inputs(lambda: jaxent.optimizers.lion(O.LEARNING_RATE)),
          lambda: jax.jit(jaxent.optimizers.lion(O.LEARNING_RATE).update), _jnp_lion_update),
]
"""Every public callable of API.md that runs on arrays; the other public names are in :data:`NOT_DISPATCHED`."""

NOT_DISPATCHED: dict[str, str] = {
    "backend.epsilon": "returns a Python float",
    "losses.Reduction": "a string enum",
    "losses.Loss": "abstract base class",
    "metrics.Metric": "abstract base class",
    "metrics.MeanMetricWrapper": "base class",
    "losses.LossFunctionWrapper": "wraps a loss function: its call is the function's dispatch plus a Loss call",
    "metrics.MetricState": "the state type (a pytree dataclass)",
    "metrics.ConfusionState": "the confusion metrics' state type (a pytree dataclass)",
    "metrics.StatefulMetric": "mutable Keras-style wrapper around update/result",
    "metrics.merge_states": "what every Metric.merge calls (the merge entries)",
    "metrics.merge_across": "runs inside shard_map only",
    "optimizers.RMSprop": "the class rmsprop() returns: its update is the optimizers.rmsprop.update entry",
    "optimizers.RMSpropState": "the state type (a NamedTuple)",
    "optimizers.SGD": "the class sgd() returns: its update is the optimizers.sgd.update entry",
    "optimizers.SGDState": "the state type (a NamedTuple)",
    "optimizers.Adam": "the class adam() returns: its update is the optimizers.adam.update entry",
    "optimizers.AdamState": "the state type (a NamedTuple)",
    "optimizers.AdamW": "the class adamw() returns: its update is the optimizers.adamw.update entry",
    "optimizers.Adagrad": "the class adagrad() returns: its update is the optimizers.adagrad.update entry",
    "optimizers.AdagradState": "the state type (a NamedTuple)",
    "optimizers.Adamax": "the class adamax() returns: its update is the optimizers.adamax.update entry",
    "optimizers.AdamaxState": "the state type (a NamedTuple)",
    "optimizers.Adadelta": "the class adadelta() returns: its update is the optimizers.adadelta.update entry",
    "optimizers.AdadeltaState": "the state type (a NamedTuple)",
    "optimizers.Lion": "the class lion() returns: its update is the optimizers.lion.update entry",
    "optimizers.LionState": "the state type (a NamedTuple)",
    "optimizers.finalize_variable_values": "swaps the EMA averages in: a tree selection, no arithmetic",
    "optimizers.schedules": "a module of learning-rate schedules (evaluated inside the update)",
    "optimizers.get": "resolves an identifier to an optimizer; no arrays",
    "losses.get": "resolves an identifier to a loss; no arrays",
    "losses.serialize": "configuration to a dict; no arrays",
    "losses.deserialize": "a dict to a loss; no arrays",
    "metrics.get": "resolves an identifier to a metric; no arrays",
    "metrics.serialize": "configuration to a dict; no arrays",
    "metrics.deserialize": "a dict to a metric; no arrays",
    "optimizers.serialize": "configuration to a dict; no arrays",
    "optimizers.deserialize": "a dict to an optimizer; no arrays",
}
"""Public names of API.md with no dispatch figure, and why."""


def _op(entry: Entry) -> Op:
    def impls():
        return {"jaxent": entry.jaxent(), "jnp": jax.jit(entry.jnp)}, {}

    return Op(f"dispatch.{entry.name}", "dispatch", impls, entry.inputs, ("call",),
              ("core",) if entry.quick else ("rest",), dtypes=("float32",),
              doc=f"jaxent.{entry.name}, called eagerly")


def _total(out: Any) -> float:
    """The sum of every output leaf in float64: what both implementations must agree on."""
    return float(sum(np.sum(np.asarray(x, np.float64)) for x in jax.tree.leaves(out)))


class Dispatch(core.Family):
    name = "dispatch"
    title = "Dispatch (a public callable called eagerly at a tiny size vs jax.jit of a jnp equivalent)"
    presets = PRESETS
    target = 1.1

    def parse_token(self, token):
        return []  # always the tiny size: explicit shapes are for the other families

    def ops(self):
        return [_op(e) for e in ENTRIES]

    def prepare(self, op, impl, obj, mode, inputs):
        out, compile_s = core.first_call(obj, *inputs)
        value = _total(out)
        return Prepared(lambda: obj(*inputs), lambda _out: value, None, None, compile_s)


FAMILY = Dispatch()
