"""The numerical details a naive port gets wrong (KERAS2_SEMANTICS.md §0, §2, §7, §15)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxent import backend, losses, nn
from jaxent._numerics import clip_by_value, epsilon_bounds

EPS32, ONE_MINUS_EPS32 = np.float32(1e-7), np.float32(1 - 2.0**-23)


def test_epsilon_bounds_round_in_the_computation_dtype():
    lo, hi = epsilon_bounds(jnp.float32)
    assert lo == EPS32 and hi == ONE_MINUS_EPS32


@pytest.mark.parametrize("x", [EPS32, ONE_MINUS_EPS32])
def test_clip_passes_the_full_gradient_at_its_boundaries(x):
    grad = jax.grad(lambda v: clip_by_value(v, *epsilon_bounds(jnp.float32)))(x)
    assert grad == 1.0  # jnp.clip gives 0.5 here


def test_clip_blocks_the_gradient_outside():
    grad = jax.vmap(jax.grad(lambda v: clip_by_value(v, *epsilon_bounds(jnp.float32))))(jnp.array([0.0, 1.0, 0.5]))
    np.testing.assert_array_equal(grad, [0.0, 0.0, 1.0])


def test_bce_boundary_gradient_is_tensorflows_not_jnp_clips():
    # KERAS2_SEMANTICS §0: 2163018 in TF vs 1081509 with jnp.clip at p = 1 - eps, t = 0.5258461.
    grad = jax.grad(lambda p: backend.binary_crossentropy(jnp.float32(0.5258461), p))(ONE_MINUS_EPS32)
    np.testing.assert_allclose(grad, 2163018, rtol=1e-5)


def test_bce_one_minus_p_is_not_reassociated_by_xla():
    # XLA folds 1 - p + eps into (1 + eps) - p unless prevented: 15.24924 instead of 15.33324.
    value = jax.jit(backend.binary_crossentropy)(jnp.float32(0.0), jnp.float32(1.0))
    np.testing.assert_allclose(value, 15.33324, rtol=2e-6)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("x", [-1e4, -100.0, 0.0, 100.0, 1e4])
@pytest.mark.parametrize("z", [0.0, 1.0, 0.3])
def test_sigmoid_cross_entropy_is_finite_with_exact_gradients(dtype, x, z):
    labels, logits = jnp.asarray(z, dtype), jnp.asarray(x, dtype)
    value = nn.sigmoid_cross_entropy_with_logits(labels, logits)
    dz, dx = jax.grad(lambda a, b: nn.sigmoid_cross_entropy_with_logits(a, b).astype(jnp.float32), argnums=(0, 1))(labels, logits)
    assert value.dtype == dtype and np.isfinite(np.float32(value))
    xf = np.float32(logits)
    expected_dx = 0.5 * (1 + np.tanh(np.float64(xf) / 2)) - np.float32(labels)  # sigmoid
    np.testing.assert_allclose(np.float32(dx), expected_dx, atol=1e-2 if dtype == jnp.bfloat16 else 1e-7)
    np.testing.assert_allclose(np.float32(dz), -xf, rtol=1e-2 if dtype == jnp.bfloat16 else 0)


def test_sigmoid_cross_entropy_second_derivative():
    second = jax.grad(jax.grad(lambda x: nn.sigmoid_cross_entropy_with_logits(jnp.float32(1.0), x)))
    np.testing.assert_allclose([second(x) for x in (0.0, 1.0, -2.0)], [0.25, 0.1966119, 0.1049936], rtol=1e-6)


def test_softmax_gradient_is_the_true_gradient_for_unnormalised_labels():
    labels, logits = jnp.array([2.0, 0.0, 0.0]), jnp.array([1.0, 2.0, 3.0])
    grad = jax.grad(lambda x: nn.softmax_cross_entropy_with_logits(labels, x))(logits)
    np.testing.assert_allclose(grad, 2 * jax.nn.softmax(logits) - labels, rtol=1e-6)


def test_mae_gradient_is_zero_at_equality():
    grad = jax.grad(lambda p: losses.mean_absolute_error(jnp.array([1.0, 2.0]), p))(jnp.array([1.0, 3.0]))
    np.testing.assert_array_equal(grad, [0.0, 0.5])


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_sixteen_bit_inputs_are_computed_in_float32(dtype):
    # Keras in float16: 1 - eps rounds to 1, so a perfect prediction costs -0 and the
    # saturated BCE is 15.25; in float32 they are 1.19e-7 and 15.42495.
    perfect = losses.categorical_crossentropy(jnp.array([1.0, 0, 0], dtype), jnp.array([1.0, 0, 0], dtype))
    saturated = backend.binary_crossentropy(jnp.asarray(1.0, dtype), jnp.asarray(0.0, dtype))
    assert perfect.dtype == dtype and saturated.dtype == dtype
    assert perfect == jnp.asarray(1.1920929e-07, dtype)
    assert saturated == jnp.asarray(15.42495, dtype)


def test_sixteen_bit_sum_over_batch_size_does_not_overflow():
    # Keras 2 in float16: the element count 70000 overflows to inf, and the mean becomes 0.
    y_pred = jnp.full((70000, 1), 0.5, jnp.float16)
    value = losses.MeanSquaredError()(jnp.zeros((70000, 1), jnp.float16), y_pred)
    assert value.dtype == jnp.float16 and value == jnp.float16(0.25)


def test_integer_predictions_are_computed_in_float32():
    value = losses.MeanSquaredError()(jnp.array([[1, 2]]), jnp.array([[2, 4]]))
    assert value.dtype == jnp.float32 and value == 2.5


def test_all_ignored_batch_gives_zero_loss_and_zero_gradient():
    y_pred = jnp.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0]])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    value, grad = jax.value_and_grad(lambda p: loss(jnp.array([-1, -1]), p))(y_pred)
    assert value == 0.0
    np.testing.assert_array_equal(grad, 0.0)


def test_nan_at_zero_weight_does_not_poison_the_loss_or_the_other_gradients():
    y_pred = jnp.array([[0.5], [jnp.nan]])
    value, grad = jax.value_and_grad(lambda p: losses.MeanSquaredError()(jnp.zeros((2, 1)), p, jnp.array([1.0, 0.0])))(y_pred)
    assert value == 0.125  # Keras: nan (0 * nan)
    assert grad[0, 0] == 0.5  # the NaN input's own derivative stays NaN: it is not ours to hide


def test_one_class_categorical_crossentropy_warns_like_keras():
    jax.clear_caches()  # the warning comes when the function is traced; another test may have compiled it
    with pytest.warns(SyntaxWarning, match=r"num_classes > 1; received y_pred.shape=\(1, 1\)"):
        value = losses.categorical_crossentropy(jnp.array([[1.0]]), jnp.array([[0.7]]))
    np.testing.assert_allclose(value, [1.1920929e-07])
