"""Masked entries contribute nothing to gradients either: the "double where".

An entry of weight 0, or labelled ``ignore_class``, is dropped from the value with a ``where``;
but the per-entry formula has already run, and its backward pass multiplied the zero
cotangent by ``d loss / d y_pred`` there, which is NaN when ``y_pred`` is NaN or inf at that
entry (padding rows, overflowed logits). Each test puts NaN and +inf at the masked rows and
checks that every parameter gradient is finite and equals the gradient computed on the
unmasked rows alone.

The model is ``y_pred = x @ W + b + poison`` with finite ``x``: ``poison`` is 0 except at the
masked rows. (A NaN in ``x`` itself at a masked row cannot be fixed by any loss: the user's
own matmul forms ``x.T @ d y_pred``, and NaN * 0 is NaN. The loss can only make
``d y_pred`` exactly 0 there, which ``test_gradient_wrt_a_masked_nan_input_row_is_zero``
pins.)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxent import losses, metrics, nn

ROWS, DEPTH, CLASSES = 5, 4, 3
MASKED = np.array([False, True, False, True, False])
KEPT = ~MASKED


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.normal(size=(ROWS, DEPTH)), jnp.float32)
    params = {
        "W": jnp.asarray(rng.normal(size=(DEPTH, CLASSES)), jnp.float32),
        "b": jnp.asarray(rng.normal(size=(CLASSES,)), jnp.float32),
    }
    one_hot = jnp.asarray(np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, ROWS)])
    return x, params, one_hot


def _poison(bad: float) -> jax.Array:
    """0 everywhere but the masked rows, which get ``bad`` (NaN or +inf)."""
    return jnp.where(jnp.asarray(MASKED)[:, None], bad, 0.0) * jnp.ones((ROWS, CLASSES))


BAD = [np.nan, np.inf]
BAD_IDS = ["nan", "inf"]

# name -> (loss object, y_true from the one-hot labels, y_pred from the linear outputs)
LOSS_CASES = {
    "MeanSquaredError": (losses.MeanSquaredError, lambda t: t, lambda z: z),
    "MeanAbsoluteError": (losses.MeanAbsoluteError, lambda t: t, lambda z: z),
    "BinaryCrossentropy-logits": (lambda **kw: losses.BinaryCrossentropy(from_logits=True, **kw), lambda t: t, lambda z: z),
    "BinaryCrossentropy-probs": (losses.BinaryCrossentropy, lambda t: t, jax.nn.sigmoid),
    "CategoricalCrossentropy-logits": (
        lambda **kw: losses.CategoricalCrossentropy(from_logits=True, **kw), lambda t: t, lambda z: z),
    "CategoricalCrossentropy-probs": (losses.CategoricalCrossentropy, lambda t: t, jax.nn.softmax),
    "SparseCategoricalCrossentropy-logits": (
        lambda **kw: losses.SparseCategoricalCrossentropy(from_logits=True, **kw),
        lambda t: jnp.argmax(t, -1), lambda z: z),
    "SparseCategoricalCrossentropy-probs": (
        losses.SparseCategoricalCrossentropy, lambda t: jnp.argmax(t, -1), jax.nn.softmax),
    "LossFunctionWrapper-mse": (
        lambda **kw: losses.LossFunctionWrapper(losses.mean_squared_error, **kw), lambda t: t, lambda z: z),
}


def _assert_same_finite_grads(got, expected):
    for name in expected:
        assert np.isfinite(got[name]).all(), (name, got[name])
        np.testing.assert_allclose(got[name], expected[name], rtol=2e-6, atol=1e-7, err_msg=name)


def _split(cases, already_safe):
    """``(name, bad)`` pairs: those the formula's own gradient used to poison, and those it already selected away."""
    pairs = [(name, bad) for name in cases for bad in BAD]
    ids = lambda pair: f"{pair[0]}-{'nan' if np.isnan(pair[1]) else 'inf'}"
    broken = [p for p in pairs if ids(p) not in already_safe]
    safe = [p for p in pairs if ids(p) in already_safe]
    return (broken, [ids(p) for p in broken]), (safe, [ids(p) for p in safe])


# Before the fix these were finite already: |x| and Keras's clip have select-based derivatives
# (0 outside the clip range, whatever the value), and sigmoid's closed-form derivative is
# finite at +inf. They are pinned so that they stay finite and exact.
(LOSS_BROKEN, LOSS_BROKEN_IDS), (LOSS_SAFE, LOSS_SAFE_IDS) = _split(LOSS_CASES, {
    "MeanAbsoluteError-nan", "MeanAbsoluteError-inf", "BinaryCrossentropy-logits-inf",
    "BinaryCrossentropy-probs-nan", "BinaryCrossentropy-probs-inf",
    "SparseCategoricalCrossentropy-probs-nan", "SparseCategoricalCrossentropy-probs-inf",
})


@pytest.mark.parametrize(("name", "bad"), LOSS_BROKEN, ids=LOSS_BROKEN_IDS)
def test_weight_0_rows_do_not_poison_the_loss_gradient(name, bad):
    _check_weight_0_loss_gradient(name, bad)


@pytest.mark.parametrize(("name", "bad"), LOSS_SAFE, ids=LOSS_SAFE_IDS)
def test_weight_0_rows_keep_the_loss_gradients_that_were_already_finite(name, bad):
    _check_weight_0_loss_gradient(name, bad)


def _check_weight_0_loss_gradient(name, bad):
    make, target, head = LOSS_CASES[name]
    x, params, one_hot = _data()
    y_true, poison = target(one_hot), _poison(bad)
    loss = make(reduction="sum")
    weights = jnp.asarray(KEPT, jnp.float32) * jnp.array([1.0, 0.0, 2.0, 0.0, 0.5])

    def masked(p):
        return loss(y_true, head(x @ p["W"] + p["b"]) + poison, sample_weight=weights)

    def subset(p):
        return loss(y_true[KEPT], head(x[KEPT] @ p["W"] + p["b"]), sample_weight=weights[KEPT])

    value, grads = jax.value_and_grad(masked)(params)
    np.testing.assert_allclose(value, subset(params), rtol=2e-6)
    _assert_same_finite_grads(grads, jax.grad(subset)(params))
    # The default reduction divides by every entry, masked ones included: the same up to n / kept.
    auto = make()
    auto_grads = jax.grad(lambda p: auto(y_true, head(x @ p["W"] + p["b"]) + poison, sample_weight=weights))(params)
    _assert_same_finite_grads(auto_grads, jax.tree.map(lambda g: g / ROWS, jax.grad(subset)(params)))


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
def test_ignore_class_rows_do_not_poison_the_sparse_loss_gradient(bad):
    _ignore_class_rows_do_not_poison_the_sparse_loss_gradient(True, bad)


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
def test_ignore_class_rows_with_probabilities_keep_finite_the_sparse_loss_gradient(bad):
    # Probabilities were safe before the fix: Keras's clip selects a zero gradient outside [eps, 1 - eps].
    _ignore_class_rows_do_not_poison_the_sparse_loss_gradient(False, bad)


def _ignore_class_rows_do_not_poison_the_sparse_loss_gradient(from_logits, bad):
    x, params, one_hot = _data(1)
    labels = jnp.where(jnp.asarray(MASKED), -1, jnp.argmax(one_hot, -1))
    head = (lambda z: z) if from_logits else jax.nn.softmax
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=-1)
    poison = _poison(bad)

    def masked(p):
        return loss(labels, head(x @ p["W"] + p["b"]) + poison)

    def subset(p):
        return loss(labels[KEPT], head(x[KEPT] @ p["W"] + p["b"]))

    value, grads = jax.value_and_grad(masked)(params)
    np.testing.assert_allclose(value, subset(params), rtol=2e-6)
    _assert_same_finite_grads(grads, jax.grad(subset)(params))


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
def test_ignore_class_rows_do_not_poison_the_backend_gradient(bad):
    _ignore_class_rows_do_not_poison_the_backend_gradient(True, bad)


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
def test_ignore_class_rows_with_probabilities_keep_finite_the_backend_gradient(bad):
    # Probabilities were safe before the fix: Keras's clip selects a zero gradient outside [eps, 1 - eps].
    _ignore_class_rows_do_not_poison_the_backend_gradient(False, bad)


def _ignore_class_rows_do_not_poison_the_backend_gradient(from_logits, bad):
    from jaxent import backend

    x, params, one_hot = _data(2)
    labels = jnp.where(jnp.asarray(MASKED), 7, jnp.argmax(one_hot, -1))
    head = (lambda z: z) if from_logits else jax.nn.softmax
    poison = _poison(bad)

    def masked(p):
        out = backend.sparse_categorical_crossentropy(labels, head(x @ p["W"] + p["b"]) + poison,
                                                      from_logits=from_logits, ignore_class=7)
        return jnp.sum(out)

    def subset(p):
        return jnp.sum(backend.sparse_categorical_crossentropy(labels[KEPT], head(x[KEPT] @ p["W"] + p["b"]),
                                                               from_logits=from_logits))

    _assert_same_finite_grads(jax.grad(masked)(params), jax.grad(subset)(params))


METRIC_CASES = {
    "MeanSquaredError": (metrics.MeanSquaredError, lambda t: t, lambda z: z),
    "MeanAbsoluteError": (metrics.MeanAbsoluteError, lambda t: t, lambda z: z),
    "BinaryCrossentropy-logits": (lambda: metrics.BinaryCrossentropy(from_logits=True), lambda t: t, lambda z: z),
    "CategoricalCrossentropy-probs": (metrics.CategoricalCrossentropy, lambda t: t, jax.nn.softmax),
    "SparseCategoricalCrossentropy-logits": (
        lambda: metrics.SparseCategoricalCrossentropy(from_logits=True), lambda t: jnp.argmax(t, -1), lambda z: z),
}


(METRIC_BROKEN, METRIC_BROKEN_IDS), (METRIC_SAFE, METRIC_SAFE_IDS) = _split(METRIC_CASES, {
    "MeanAbsoluteError-nan", "MeanAbsoluteError-inf", "BinaryCrossentropy-logits-inf",
})


@pytest.mark.parametrize(("name", "bad"), METRIC_BROKEN, ids=METRIC_BROKEN_IDS)
def test_weight_0_rows_do_not_poison_the_metric_gradient(name, bad):
    _check_weight_0_metric_gradient(name, bad)


@pytest.mark.parametrize(("name", "bad"), METRIC_SAFE, ids=METRIC_SAFE_IDS)
def test_weight_0_rows_keep_the_metric_gradients_that_were_already_finite(name, bad):
    _check_weight_0_metric_gradient(name, bad)


def _check_weight_0_metric_gradient(name, bad):
    make, target, head = METRIC_CASES[name]
    metric = make()
    x, params, one_hot = _data(3)
    y_true, poison = target(one_hot), _poison(bad)
    weights = jnp.asarray(KEPT, jnp.float32)

    def masked(p):
        return metric.result(metric.update(metric.init(), y_true, head(x @ p["W"] + p["b"]) + poison, weights))

    def subset(p):
        return metric.result(metric.update(metric.init(), y_true[KEPT], head(x[KEPT] @ p["W"] + p["b"])))

    value, grads = jax.value_and_grad(masked)(params)
    np.testing.assert_allclose(value, subset(params), rtol=2e-6)
    _assert_same_finite_grads(grads, jax.grad(subset)(params))


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
def test_ignore_class_rows_do_not_poison_the_metric_gradient(bad):
    _ignore_class_rows_do_not_poison_the_metric_gradient(True, bad)


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
def test_ignore_class_rows_with_probabilities_keep_finite_the_metric_gradient(bad):
    # Probabilities were safe before the fix: Keras's clip selects a zero gradient outside [eps, 1 - eps].
    _ignore_class_rows_do_not_poison_the_metric_gradient(False, bad)


def _ignore_class_rows_do_not_poison_the_metric_gradient(from_logits, bad):
    x, params, one_hot = _data(4)
    labels = jnp.where(jnp.asarray(MASKED), -1, jnp.argmax(one_hot, -1))
    head = (lambda z: z) if from_logits else jax.nn.softmax
    metric = metrics.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=-1)
    poison = _poison(bad)

    def masked(p):
        return metric.result(metric.update(metric.init(), labels, head(x @ p["W"] + p["b"]) + poison))

    def subset(p):
        return metric.result(metric.update(metric.init(), labels[KEPT], head(x[KEPT] @ p["W"] + p["b"])))

    _assert_same_finite_grads(jax.grad(masked)(params), jax.grad(subset)(params))


def test_gradient_wrt_a_masked_nan_input_row_is_zero():
    # With NaN in the masked row of x, d W = x.T @ d y_pred is NaN whatever the loss does (NaN * 0);
    # what the loss controls is d y_pred, now exactly 0 there, so d x is finite and 0 on that row.
    x, params, one_hot = _data(5)
    x = x.at[1].set(jnp.nan)
    loss = losses.MeanSquaredError()
    grad_x = jax.grad(lambda x: loss(one_hot, x @ params["W"], sample_weight=jnp.asarray(KEPT, jnp.float32)))(x)
    assert np.isfinite(grad_x).all(), grad_x
    np.testing.assert_array_equal(grad_x[1], 0.0)


# The fused loss.


def _fused_data(seed: int, bad: float):
    rng = np.random.default_rng(seed)
    features = jnp.asarray(rng.normal(size=(ROWS, DEPTH)), jnp.float32)
    features = jnp.where(jnp.asarray(MASKED)[:, None], bad, features)
    params = {
        "kernel": jnp.asarray(rng.normal(size=(DEPTH, 7)), jnp.float32),
        "bias": jnp.asarray(rng.normal(size=(7,)), jnp.float32),
    }
    labels = jnp.asarray(rng.integers(0, 7, ROWS))
    return features, params, labels


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
@pytest.mark.parametrize("block_size", [None, 3], ids=["one-block", "blocks-of-3"])
def test_ignored_tokens_with_nan_features_do_not_poison_the_fused_kernel_gradient(block_size, bad):
    features, params, labels = _fused_data(6, bad)
    labels = jnp.where(jnp.asarray(MASKED), -100, labels)

    def masked(p):
        per_token = nn.linear_sparse_softmax_cross_entropy(
            features, p["kernel"], labels, bias=p["bias"], ignore_class=-100, block_size=block_size)
        return jnp.sum(per_token)

    def subset(p):
        return jnp.sum(nn.linear_sparse_softmax_cross_entropy(
            features[KEPT], p["kernel"], labels[KEPT], bias=p["bias"], block_size=block_size))

    value, grads = jax.value_and_grad(masked)(params)
    np.testing.assert_allclose(value, subset(params), rtol=2e-6)
    _assert_same_finite_grads(grads, jax.grad(subset)(params))


@pytest.mark.parametrize("bad", BAD, ids=BAD_IDS)
def test_ignored_and_weight_0_tokens_do_not_poison_the_fused_loss_class_gradient(bad):
    features, params, labels = _fused_data(7, bad)
    ignored = jnp.where(jnp.asarray(MASKED), -1, labels)
    loss = losses.LinearSparseCategoricalCrossentropy(ignore_class=-1)

    def masked_by_ignore(p):
        return loss(features, p["kernel"], ignored, p["bias"])

    def subset(p):
        return loss(features[KEPT], p["kernel"], labels[KEPT], p["bias"])

    _assert_same_finite_grads(jax.grad(masked_by_ignore)(params), jax.grad(subset)(params))

    summed = losses.LinearSparseCategoricalCrossentropy(reduction="sum")

    def masked_by_weight(p):
        return summed(features, p["kernel"], labels, p["bias"], sample_weight=jnp.asarray(KEPT, jnp.float32))

    def subset_sum(p):
        return summed(features[KEPT], p["kernel"], labels[KEPT], p["bias"])

    _assert_same_finite_grads(jax.grad(masked_by_weight)(params), jax.grad(subset_sum)(params))
