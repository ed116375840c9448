"""Trace-time problems raise ValueError/TypeError naming the argument; value problems give NaN."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import jaxent

from jaxent import backend, losses, nn, utils

P3 = jnp.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1]])


def test_sigmoid_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"labels.*logits.*\(3,\).*\(1,\)"):
        nn.sigmoid_cross_entropy_with_logits(jnp.zeros(3), jnp.zeros(1))


def test_softmax_labels_not_broadcastable():
    with pytest.raises(ValueError, match=r"labels.*\(2, 3\).*logits.*\(2, 4\)"):
        nn.softmax_cross_entropy_with_logits(jnp.zeros((2, 3)), jnp.zeros((2, 4)))


@pytest.mark.parametrize(
    "labels,logits,message",
    [
        (jnp.zeros((2, 1), jnp.int32), jnp.zeros((2, 3)), "rank"),
        (jnp.zeros((3,), jnp.int32), jnp.zeros((2, 3)), "except for the last dimension"),
        (jnp.zeros((), jnp.int32), jnp.zeros(()), "scalar"),
    ],
)
def test_sparse_softmax_shape_errors(labels, logits, message):
    with pytest.raises(ValueError, match=message):
        nn.sparse_softmax_cross_entropy_with_logits(labels, logits)


def test_sparse_softmax_rejects_float_labels():
    with pytest.raises(TypeError, match="labels.*float32"):
        nn.sparse_softmax_cross_entropy_with_logits(jnp.zeros(2), P3)


def test_categorical_shape_mismatch():
    with pytest.raises(ValueError, match=r"target.*\(2,\).*output.*\(2, 3\)"):
        backend.categorical_crossentropy(jnp.zeros(2), P3)


@pytest.mark.parametrize("axis", [2, -3, 5])
def test_axis_out_of_range(axis):
    with pytest.raises(ValueError, match=rf"`axis`={axis}.*rank 2"):
        losses.categorical_crossentropy(P3, P3, axis=axis)


@pytest.mark.parametrize("fn", [losses.categorical_crossentropy, losses.binary_crossentropy])
def test_bool_axis_is_rejected(fn):
    with pytest.raises(ValueError, match="`axis` must be of type `int`. Received: axis=True"):
        fn(P3, P3, axis=True)


def test_unknown_reduction_at_construction():
    with pytest.raises(ValueError, match="Invalid Reduction Key: 'mean'.*sum_over_batch_size"):
        losses.MeanSquaredError(reduction="mean")


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_label_smoothing_outside_unit_interval(value):
    with pytest.raises(ValueError, match=rf"label_smoothing.*\[0, 1\].*{value}"):
        losses.categorical_crossentropy(P3, P3, label_smoothing=value)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=value)


def test_label_smoothing_of_wrong_type():
    with pytest.raises(TypeError, match="label_smoothing.*'0.1'"):
        losses.binary_crossentropy(P3, P3, label_smoothing="0.1")


def test_to_categorical_needs_num_classes_under_jit():
    with pytest.raises(ValueError, match="num_classes.*traced.*pass num_classes"):
        jax.jit(utils.to_categorical)(jnp.array([0, 1]))


def test_to_categorical_label_out_of_range_eagerly():
    with pytest.raises(ValueError, match="label 3 is out of range for num_classes=3"):
        utils.to_categorical([0, 3], 3)


def test_to_categorical_label_out_of_range_under_checkify():
    err, out = checkify.checkify(jax.jit(lambda y: utils.to_categorical(y, 3, check_labels=True)))(jnp.array([0, 7]))
    with pytest.raises(checkify.JaxRuntimeError, match="label 7 is out of range"):
        err.throw()
    assert np.isnan(out[1]).all()


@pytest.mark.parametrize(
    "sample_weight",
    [np.ones((2, 1, 1)), np.ones((3,)), np.ones((2, 4))],
    ids=["outer-product", "wrong-batch", "extra-axis-not-1"],
)
def test_wrong_sample_weight_shape(sample_weight):
    with pytest.raises(ValueError, match=rf"sample_weight.*{tuple(sample_weight.shape)}".replace("(", r"\(").replace(")", r"\)")):
        losses.MeanSquaredError()(jnp.zeros((2, 3)), jnp.ones((2, 3)), sample_weight)


def test_regression_shapes_must_broadcast():
    with pytest.raises(ValueError, match=r"y_true.*\(2, 3\).*y_pred.*\(2, 4\)"):
        losses.mean_squared_error(jnp.zeros((2, 3)), jnp.zeros((2, 4)))


def test_regression_rejects_scalar_prediction():
    with pytest.raises(ValueError, match="y_pred.*scalar"):
        losses.mean_absolute_error(1.0, 2.0)


def test_sparse_target_of_wrong_size():
    with pytest.raises(ValueError, match=r"target.shape=\(4,\).*output.shape=\(2, 3\)"):
        backend.sparse_categorical_crossentropy(jnp.zeros(4, jnp.int32), P3)


def test_ignore_class_must_be_int():
    with pytest.raises(TypeError, match="ignore_class.*1.5"):
        losses.SparseCategoricalCrossentropy(ignore_class=1.5)


@pytest.mark.parametrize(
    "fn",
    [
        lambda y, p, **kw: nn.sparse_softmax_cross_entropy_with_logits(y, p, **kw),
        lambda y, p, **kw: backend.sparse_categorical_crossentropy(y, p, **kw),
        lambda y, p, **kw: losses.sparse_categorical_crossentropy(y, p, ignore_class=-1, **kw),
    ],
    ids=["nn", "backend", "losses-with-ignore"],
)
@pytest.mark.parametrize("label", [3, -2])
def test_out_of_range_sparse_label_is_nan_and_a_checkify_error(fn, label):
    labels = jnp.array([0, label])
    values = fn(labels, P3)
    assert np.isfinite(values[0]) and np.isnan(values[1])
    assert checkify.checkify(jax.jit(fn))(labels, P3)[0].get() is None  # the check is opt-in
    err, _ = checkify.checkify(jax.jit(lambda y, p: fn(y, p, check_labels=True)))(labels, P3)
    with pytest.raises(checkify.JaxRuntimeError, match=rf"sparse label {label} is outside the valid range \[0, 3\)"):
        err.throw()


def test_valid_sparse_labels_pass_checkify():
    checked = functools.partial(losses.sparse_categorical_crossentropy, check_labels=True)
    err, _ = checkify.checkify(jax.jit(checked))(jnp.array([0, 2]), P3)
    assert err.get() is None


def test_out_of_range_label_poisons_the_reduced_loss_not_silently():
    loss = losses.SparseCategoricalCrossentropy()(jnp.array([0, 5]), P3)
    assert np.isnan(loss)
