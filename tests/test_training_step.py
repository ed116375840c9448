"""A training step pays nothing extra: no effects, no per-element tracing (objects: test_objects.py).

* Every public callable of API.md leaves no effect in the caller's jaxpr (an effect turns off
  JAX's C++ dispatch fast path for the whole jitted step); the opt-in label check does.
(Inputs: test_inputs.py; the option validator: test_validation.py.)
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.experimental import checkify

from jaxent import backend, losses, metrics, nn, optimizers, utils

LABELS = jnp.array([0, 2, 1, 2])
PROBS = jnp.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])
ONE_HOT = jax.nn.one_hot(LABELS, 3)
BITS = jnp.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
WEIGHTS = jnp.array([1.0, 0.5, 2.0, 0.0])
FEATURES = jnp.arange(8.0).reshape(4, 2) / 8
KERNEL = jnp.arange(6.0).reshape(2, 3) / 6

# Every public function of API.md with arguments it accepts.
FUNCTIONS = {
    "utils.to_categorical": (lambda y: utils.to_categorical(y, 3), (LABELS,)),
    "nn.sigmoid_cross_entropy_with_logits": (nn.sigmoid_cross_entropy_with_logits, (BITS, PROBS)),
    "nn.softmax_cross_entropy_with_logits": (nn.softmax_cross_entropy_with_logits, (ONE_HOT, PROBS)),
    "nn.sparse_softmax_cross_entropy_with_logits": (nn.sparse_softmax_cross_entropy_with_logits, (LABELS, PROBS)),
    "nn.linear_sparse_softmax_cross_entropy": (nn.linear_sparse_softmax_cross_entropy, (FEATURES, KERNEL, LABELS)),
    "backend.categorical_crossentropy": (backend.categorical_crossentropy, (ONE_HOT, PROBS)),
    "backend.sparse_categorical_crossentropy": (
        lambda y, p: backend.sparse_categorical_crossentropy(y, p, ignore_class=1),
        (LABELS, PROBS),
    ),
    "backend.binary_crossentropy": (backend.binary_crossentropy, (BITS, PROBS)),
    "losses.categorical_crossentropy": (losses.categorical_crossentropy, (ONE_HOT, PROBS)),
    "losses.sparse_categorical_crossentropy": (losses.sparse_categorical_crossentropy, (LABELS, PROBS)),
    "losses.binary_crossentropy": (losses.binary_crossentropy, (BITS, PROBS)),
    "losses.mean_squared_error": (losses.mean_squared_error, (BITS, PROBS)),
    "losses.mean_absolute_error": (losses.mean_absolute_error, (BITS, PROBS)),
    **{f"losses.{fn.__name__}": (fn, (ONE_HOT if "categorical" in fn.__name__ else BITS, PROBS))
       for fn in losses._MORE_FUNCTIONS},
    "metrics.accuracy": (metrics.accuracy, (BITS, PROBS)),
    "metrics.binary_accuracy": (metrics.binary_accuracy, (BITS, PROBS)),
    "metrics.categorical_accuracy": (metrics.categorical_accuracy, (ONE_HOT, PROBS)),
    "metrics.sparse_categorical_accuracy": (metrics.sparse_categorical_accuracy, (LABELS, PROBS)),
    "metrics.top_k_categorical_accuracy": (lambda y, p: metrics.top_k_categorical_accuracy(y, p, k=2), (ONE_HOT, PROBS)),
    "metrics.sparse_top_k_categorical_accuracy": (metrics.sparse_top_k_categorical_accuracy, (LABELS, PROBS)),
    "metrics.cosine_similarity": (metrics.cosine_similarity, (ONE_HOT, PROBS)),
}

LOSS_CLASSES = {
    "CategoricalCrossentropy": (losses.CategoricalCrossentropy(from_logits=True), (ONE_HOT, PROBS, WEIGHTS)),
    "SparseCategoricalCrossentropy": (
        losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1),
        (LABELS, PROBS, WEIGHTS),
    ),
    "BinaryCrossentropy": (losses.BinaryCrossentropy(), (BITS, PROBS, WEIGHTS)),
    "MeanSquaredError": (losses.MeanSquaredError(), (BITS, PROBS, WEIGHTS)),
    "MeanAbsoluteError": (losses.MeanAbsoluteError(), (BITS, PROBS, WEIGHTS)),
    **{cls.__name__: (cls(), (ONE_HOT if "Categorical" in cls.__name__ else BITS, PROBS, WEIGHTS))
       for cls in losses._MORE_CLASSES},
    "LinearSparseCategoricalCrossentropy": (
        losses.LinearSparseCategoricalCrossentropy(ignore_class=1),
        (FEATURES, KERNEL, LABELS),
    ),
}

METRICS = {
    "Mean": (metrics.Mean(), (PROBS,)),
    "CategoricalCrossentropy": (metrics.CategoricalCrossentropy(), (ONE_HOT, PROBS)),
    "SparseCategoricalCrossentropy": (metrics.SparseCategoricalCrossentropy(ignore_class=1), (LABELS, PROBS)),
    "BinaryCrossentropy": (metrics.BinaryCrossentropy(), (BITS, PROBS)),
    "Accuracy": (metrics.Accuracy(), (BITS, jnp.round(PROBS))),
    "BinaryAccuracy": (metrics.BinaryAccuracy(), (BITS, PROBS)),
    "MeanSquaredError": (metrics.MeanSquaredError(), (BITS, PROBS)),
    "MeanAbsoluteError": (metrics.MeanAbsoluteError(), (BITS, PROBS)),
    "CategoricalAccuracy": (metrics.CategoricalAccuracy(), (ONE_HOT, PROBS)),
    "SparseCategoricalAccuracy": (metrics.SparseCategoricalAccuracy(), (LABELS, PROBS)),
    "TopKCategoricalAccuracy": (metrics.TopKCategoricalAccuracy(2), (ONE_HOT, PROBS)),
    "SparseTopKCategoricalAccuracy": (metrics.SparseTopKCategoricalAccuracy(k=2), (LABELS, PROBS)),
    "Hinge": (metrics.Hinge(), (BITS, PROBS)),
    "SquaredHinge": (metrics.SquaredHinge(), (BITS, PROBS)),
    "CategoricalHinge": (metrics.CategoricalHinge(), (ONE_HOT, PROBS)),
    "KLDivergence": (metrics.KLDivergence(), (ONE_HOT, PROBS)),
    "Poisson": (metrics.Poisson(), (BITS, PROBS)),
    "LogCoshError": (metrics.LogCoshError(), (BITS, PROBS)),
    "CosineSimilarity": (metrics.CosineSimilarity(), (ONE_HOT, PROBS)),
    "MeanSquaredLogarithmicError": (metrics.MeanSquaredLogarithmicError(), (BITS, PROBS)),
    "MeanAbsolutePercentageError": (metrics.MeanAbsolutePercentageError(), (BITS, PROBS)),
    "RootMeanSquaredError": (metrics.RootMeanSquaredError(), (BITS, PROBS)),
}


def _callables():
    for name, (fn, args) in FUNCTIONS.items():
        yield name, fn, args
    for name, (loss, args) in LOSS_CLASSES.items():
        yield f"losses.{name}.__call__", loss, args
    for name, (metric, args) in METRICS.items():
        state = metric.init()
        yield f"metrics.{name}.update", lambda s, *a, m=metric: m.update(s, *a, sample_weight=WEIGHTS), (state, *args)
        yield f"metrics.{name}.result", metric.result, (state,)
        yield f"metrics.{name}.merge", metric.merge, (state, state)
    opt = optimizers.rmsprop(0.01, momentum=0.9, global_clipnorm=1.0)
    params = {"w": PROBS}
    yield "optimizers.rmsprop.update", lambda g, s: opt.update(g, s, params), (params, opt.init(params))


CALLABLES = list(_callables())
CALLABLE_IDS = [name for name, _, _ in CALLABLES]


@pytest.mark.parametrize(("name", "fn", "args"), CALLABLES, ids=CALLABLE_IDS)
def test_no_public_callable_leaves_an_effect_in_the_callers_jaxpr(name, fn, args):
    assert jax.make_jaxpr(fn)(*args).effects == set(), name



LABELS = jnp.array([0, 2, 1, 0])
CHECKED = {
    "nn.sparse_softmax_cross_entropy_with_logits": lambda check: lambda: nn.sparse_softmax_cross_entropy_with_logits(
        LABELS, PROBS, check_labels=check),
    "backend.sparse_categorical_crossentropy": lambda check: lambda: backend.sparse_categorical_crossentropy(
        LABELS, PROBS, check_labels=check),
    "losses.sparse_categorical_crossentropy": lambda check: lambda: losses.sparse_categorical_crossentropy(
        LABELS, PROBS, check_labels=check),
    "nn.linear_sparse_softmax_cross_entropy": lambda check: lambda: nn.linear_sparse_softmax_cross_entropy(
        PROBS, jnp.eye(3), LABELS, check_labels=check),
    "utils.to_categorical": lambda check: lambda: utils.to_categorical(LABELS, 3, check_labels=check),
    "losses.SparseCategoricalCrossentropy": lambda check: lambda: losses.SparseCategoricalCrossentropy(
        check_labels=check)(LABELS, PROBS),
    "losses.LinearSparseCategoricalCrossentropy": lambda check: lambda: losses.LinearSparseCategoricalCrossentropy(
        check_labels=check)(PROBS, jnp.eye(3), LABELS),
    "metrics.SparseCategoricalCrossentropy.update": lambda check: lambda: (
        lambda metric: metric.update(metric.init(), LABELS, PROBS))(metrics.SparseCategoricalCrossentropy(check_labels=check)),
}


@pytest.mark.parametrize("name", list(CHECKED))
def test_the_opt_in_label_check_is_the_only_effect(name):
    assert jax.make_jaxpr(CHECKED[name](True))().effects != set()
    assert jax.make_jaxpr(CHECKED[name](False))().effects == set()


def test_label_check_setting_is_part_of_jaxs_cache_key():
    labels = jnp.array([0, 5])
    fn = nn.sparse_softmax_cross_entropy_with_logits
    err, loss = checkify.checkify(fn)(labels, PROBS[:2])  # compiled without the check first
    assert err.get() is None and np.isnan(loss[1])
    err, loss = checkify.checkify(functools.partial(fn, check_labels=True))(labels, PROBS[:2])
    with pytest.raises(checkify.JaxRuntimeError, match=r"sparse label 5 is outside the valid range \[0, 3\)"):
        err.throw()
    assert checkify.checkify(fn)(labels, PROBS[:2])[0].get() is None


def test_jitted_step_with_a_jaxent_loss_has_no_effect_and_matches_optax():
    loss_fn = losses.SparseCategoricalCrossentropy(from_logits=True)
    metric = metrics.SparseCategoricalCrossentropy(from_logits=True)

    def step(w, state, x, y):
        loss, grad = jax.value_and_grad(lambda w: loss_fn(y, x @ w))(w)
        return w - 0.1 * grad, metric.update(state, y, x @ w), loss

    def reference(w, x, y):
        value, grad = jax.value_and_grad(
            lambda w: optax.losses.softmax_cross_entropy_with_integer_labels(x @ w, y).mean()
        )(w)
        return w - 0.1 * grad, value

    x = jax.random.normal(jax.random.key(0), (32, 10))
    y = jax.random.randint(jax.random.key(1), (32,), 0, 10)
    w = jnp.zeros((10, 10))
    state = metric.init()
    assert jax.make_jaxpr(step)(w, state, x, y).effects == set()
    new_w, state, loss = jax.jit(step)(w, state, x, y)
    want_w, want_loss = jax.jit(reference)(w, x, y)
    np.testing.assert_allclose(loss, want_loss, rtol=2e-7)
    np.testing.assert_allclose(new_w, want_w, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(metric.result(state), want_loss, rtol=2e-7)
