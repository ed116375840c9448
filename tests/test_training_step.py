"""A training step pays nothing extra: no effects, no per-element tracing (objects: test_objects.py).

* Every public callable of API.md leaves no effect in the caller's jaxpr (an effect turns off
  JAX's C++ dispatch fast path for the whole jitted step); the opt-in label check does.
* Python lists reach the compiled function as one array each.
* One option validator: bools must be bools, floats in range, for losses, metrics and the
  fused loss alike.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax.experimental import checkify

import jaxent
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


# --------------------------------------------------------------------------------------------
# Inputs reach the compiled function as arrays.


def _inner_call_arity(fn, *args, **kwargs) -> int:
    """How many arrays the jitted function behind a jaxent entry point receives (its pjit equation's inputs)."""
    eqns = [eqn for eqn in jax.make_jaxpr(lambda: fn(*args, **kwargs))().eqns if eqn.primitive.name in ("pjit", "jit")]
    return len(eqns[0].invars)


def test_python_lists_reach_the_jitted_function_as_one_array_each():
    values = [float(i) / 2000 for i in range(2000)]
    assert _inner_call_arity(losses.mean_squared_error, values, values[::-1]) == 2  # not 4000 scalars
    result = losses.mean_squared_error(values, values[::-1])
    np.testing.assert_allclose(result, np.mean(np.square(np.subtract(values[::-1], values))), rtol=1e-6)


def test_python_lists_reach_a_jitted_method_as_one_array_each():
    values = [[float(i)] for i in range(500)]
    assert _inner_call_arity(losses.MeanSquaredError(), values, values, sample_weight=[1.0] * 500) == 3
    metric = metrics.Mean()
    assert _inner_call_arity(metric.update, metric.init(), [1.0, 2.0, 3.0]) == 2  # the state's one array, the values


def test_numpy_and_python_inputs_give_the_array_result():
    y, p = [[0.0, 1.0], [1.0, 1.0]], [[0.3, 0.6], [0.9, 0.2]]
    want = losses.binary_crossentropy(jnp.array(y), jnp.array(p))
    np.testing.assert_array_equal(losses.binary_crossentropy(y, p), want)
    np.testing.assert_array_equal(losses.binary_crossentropy(np.array(y, np.float32), np.array(p, np.float32)), want)


def test_to_categorical_with_num_classes_does_not_copy_to_the_host(monkeypatch):
    labels = jnp.array([0, 2, 1])
    copies = []
    to_numpy = np.asarray

    def counting_asarray(x, *args, **kwargs):
        if isinstance(x, jax.Array):  # a device array read on the host
            copies.append(x.shape)
        return to_numpy(x, *args, **kwargs)

    monkeypatch.setattr(np, "asarray", counting_asarray)
    one_hot = utils.to_categorical(labels, 3)
    assert copies == []
    utils.to_categorical(labels)  # inferring num_classes must read the labels
    assert copies == [(3,)]
    monkeypatch.undo()
    np.testing.assert_array_equal(one_hot, np.eye(3, dtype=np.float32)[[0, 2, 1]])


def test_to_categorical_marks_out_of_range_device_labels_as_nan():
    one_hot = utils.to_categorical(jnp.array([0, 3, -4, -3]), 3)
    np.testing.assert_array_equal(np.isnan(one_hot).all(axis=1), [False, True, True, False])
    np.testing.assert_array_equal(utils.to_categorical(jnp.array([0, 3]), 3, dtype=jnp.int32), [[1, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        utils.to_categorical(np.array([0, 3]), 3)  # host input: Keras's error


# --------------------------------------------------------------------------------------------
# One option validator.

BAD_OPTIONS = [
    ("from_logits", "no", TypeError, r"`from_logits` must be a bool \(True or False\). Received: from_logits='no'"),
    ("from_logits", 1, TypeError, r"`from_logits` must be a bool.*Received: from_logits=1 of type int"),
    ("label_smoothing", 1.5, ValueError, r"`label_smoothing` must be in \[0, 1\]. Received: label_smoothing=1.5"),
    ("label_smoothing", "0.1", TypeError, r"`label_smoothing` must be a real number.*Received: label_smoothing='0.1'"),
    ("label_smoothing", float("nan"), ValueError, r"`label_smoothing` must not be NaN"),
    ("ignore_class", 1.0, TypeError, r"`ignore_class` must be an int.*Received: ignore_class=1.0"),
    ("ignore_class", True, TypeError, r"`ignore_class` must be an int.*Received: ignore_class=True"),
]

CONSTRUCTORS = {
    "from_logits": [
        losses.CategoricalCrossentropy,
        losses.SparseCategoricalCrossentropy,
        losses.BinaryCrossentropy,
        metrics.CategoricalCrossentropy,
        metrics.SparseCategoricalCrossentropy,
        metrics.BinaryCrossentropy,
    ],
    "label_smoothing": [
        losses.CategoricalCrossentropy,
        losses.BinaryCrossentropy,
        metrics.CategoricalCrossentropy,
        metrics.BinaryCrossentropy,
        losses.LinearSparseCategoricalCrossentropy,
    ],
    "ignore_class": [
        losses.SparseCategoricalCrossentropy,
        metrics.SparseCategoricalCrossentropy,
        losses.LinearSparseCategoricalCrossentropy,
    ],
}


@pytest.mark.parametrize(("option", "value", "error", "message"), BAD_OPTIONS)
def test_every_class_rejects_a_bad_option_at_construction(option, value, error, message):
    for cls in CONSTRUCTORS[option]:
        with pytest.raises(error, match=message):
            cls(**{option: value})


@pytest.mark.parametrize(("option", "value", "error", "message"), BAD_OPTIONS)
def test_every_function_rejects_a_bad_option_when_traced(option, value, error, message):
    functions = {
        "from_logits": [
            (losses.categorical_crossentropy, ONE_HOT, PROBS),
            (losses.sparse_categorical_crossentropy, LABELS, PROBS),
            (losses.binary_crossentropy, BITS, PROBS),
            (backend.categorical_crossentropy, ONE_HOT, PROBS),
            (backend.binary_crossentropy, BITS, PROBS),
        ],
        "label_smoothing": [(losses.categorical_crossentropy, ONE_HOT, PROBS), (losses.binary_crossentropy, BITS, PROBS)],
        "ignore_class": [(backend.sparse_categorical_crossentropy, LABELS, PROBS)],
    }[option]
    for fn, y_true, y_pred in functions:
        with pytest.raises(error, match=message):
            fn(y_true, y_pred, **{option: value})
    if option != "from_logits":
        with pytest.raises(error, match=message):
            nn.linear_sparse_softmax_cross_entropy(FEATURES, KERNEL, LABELS, **{option: value})


def test_from_logits_string_no_longer_takes_the_logits_path():
    # Before the shared validator, "no" was truthy and silently meant logits (0.598 instead of 0.511).
    with pytest.raises(TypeError, match="from_logits"):
        losses.CategoricalCrossentropy(from_logits="no")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.linear_sparse_softmax_cross_entropy(FEATURES, KERNEL, LABELS, z_loss=-1.0), r"`z_loss` must be a finite float >= 0"),
        (lambda: nn.linear_sparse_softmax_cross_entropy(FEATURES, KERNEL, LABELS, block_size=0), r"`block_size` must be a positive int"),
        (lambda: nn.linear_sparse_softmax_cross_entropy(FEATURES, KERNEL, LABELS, kernel_layout="DV"), r"`kernel_layout` must be one of \('dv', 'vd'\)"),
        (lambda: metrics.BinaryAccuracy(threshold="0.5"), r"`threshold` must be a real number"),
        (lambda: metrics.Mean(dtype="int32"), r"`dtype` must be None or a floating-point dtype"),
        (lambda: losses.MeanSquaredError(name=3), r"`name` must be a str or None"),
        (lambda: utils.to_categorical(LABELS, num_classes=2.5), r"`num_classes` must be an int"),
    ],
)
def test_other_options_are_checked_by_the_same_validator(make, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make()
