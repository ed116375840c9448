"""Inputs become arrays before the jit boundary: a Python list is one array, not a pytree of scalars
(the conversion rules themselves: test_objects.py, test_labels.py)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxent import losses, metrics, utils

PROBS = jnp.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]])


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
