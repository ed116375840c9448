"""jaxent.utils.class_weight_to_sample_weight: what ``Model.fit(class_weight=...)`` does.

Golden: the sample weights tf-keras 2.21's ``fit`` hands to ``train_step``
(``tests/golden/generate_class_weight.py``). They are products of a table lookup and at most
one multiplication, so they must be equal exactly.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxent import losses
from jaxent.utils import class_weight_to_sample_weight
from tests.golden.goldenio import load_cases

CASES = load_cases(Path(__file__).parent / "golden" / "class_weight.npz")
RESOLVED = [c for c in CASES if "sample_weight" in c["outputs"]]
CW3 = {0: 1.0, 1: 2.0, 2: 0.5}


def class_weight_of(case) -> dict:
    return {key: value for key, value in case["meta"]["class_weight"]}


@pytest.mark.parametrize("case", RESOLVED, ids=[c["name"] for c in RESOLVED])
def test_matches_what_fit_builds(case):
    y, sw = case["inputs"]["y_true"], case["inputs"].get("sample_weight")
    cw = class_weight_of(case)
    want = case["outputs"]["sample_weight"]
    if case["name"] == "sample_weight_B1":  # Keras's [B, B] outer product: jaxent refuses
        assert want.shape == (6, 6)
        with pytest.raises(ValueError, match=r"more axes than the class weights.*outer product"):
            class_weight_to_sample_weight(y, cw, sw)
        return
    eager = class_weight_to_sample_weight(y, cw, sw)
    jitted = jax.jit(lambda y, sw: class_weight_to_sample_weight(y, cw, sw))(y, sw)
    for got in (eager, jitted):
        assert got.shape == want.shape
        assert got.dtype == jnp.float32  # Keras: int32 for integer class weights, same values
        np.testing.assert_array_equal(np.asarray(got), want.astype(np.float32))


def test_golden_file_covers_fits_rules():
    names = {c["name"] for c in CASES}
    for required in ("sparse_B", "sparse_B1", "onehot_BC", "soft_labels_argmax_first_max",
                     "float_labels_B_round_half_even", "sparse_B_times_sample_weight",
                     "onehot_BTC_times_sample_weight", "sparse_BT_is_argmaxed_over_T",
                     "missing_class_id", "label_out_of_range", "int_class_weights"):
        assert required in names


@pytest.mark.parametrize("name", ["missing_class_id", "keys_not_from_zero"])
def test_keys_must_be_zero_to_n_minus_one_with_keras_message(name):
    case = next(c for c in CASES if c["name"] == name)
    assert case["meta"]["error"] == "ValueError"
    with pytest.raises(ValueError) as info:
        class_weight_to_sample_weight(case["inputs"]["y_true"], class_weight_of(case))
    assert str(info.value) == case["meta"]["message"]


@pytest.mark.parametrize("name", ["label_out_of_range", "negative_label"])
def test_labels_outside_the_table_give_nan_where_keras_raises(name):
    case = next(c for c in CASES if c["name"] == name)
    assert "is not in [0, 3)" in case["meta"]["message"]
    got = np.asarray(class_weight_to_sample_weight(case["inputs"]["y_true"], CW3))
    bad = (case["inputs"]["y_true"] < 0) | (case["inputs"]["y_true"] >= 3)
    assert np.isnan(got[bad]).all() and np.isfinite(got[~bad]).all()


def test_float_labels_round_half_to_even():
    y = jnp.array([0.5, 1.5, 2.5, 0.49, 1.51])
    np.testing.assert_array_equal(class_weight_to_sample_weight(y, CW3),
                                  [1.0, 0.5, 0.5, 1.0, 0.5])


def test_sample_weight_dtypes():
    y = jnp.array([0, 1, 2])
    half = class_weight_to_sample_weight(y, CW3, jnp.ones(3, jnp.bfloat16))
    assert half.dtype == jnp.bfloat16
    # Keras would cast 0.5 to an integer sample weight's dtype (0); jaxent keeps float32
    ints = class_weight_to_sample_weight(y, CW3, jnp.array([1, 2, 3]))
    np.testing.assert_array_equal(ints, [1.0, 4.0, 1.5])
    assert ints.dtype == jnp.float32
    scalar = class_weight_to_sample_weight(y, CW3, 2.0)
    np.testing.assert_array_equal(scalar, [2.0, 4.0, 1.0])


def test_shapes_that_do_not_fit_raise():
    with pytest.raises(ValueError, match=r"does not broadcast to the class weights of shape \(3,\)"):
        class_weight_to_sample_weight(jnp.array([0, 1, 2]), CW3, jnp.ones(4))
    with pytest.raises(TypeError, match="must be a dict"):
        class_weight_to_sample_weight(jnp.array([0, 1]), [1.0, 2.0])
    with pytest.raises(TypeError, match="values must be real numbers"):
        class_weight_to_sample_weight(jnp.array([0, 1]), {0: 1.0, 1: "2"})
    with pytest.raises(ValueError, match="keys from 0 to one less"):
        class_weight_to_sample_weight(jnp.array([0, 1]), {})


def test_vmap_jit_and_no_effects():
    y = jnp.eye(3)[jnp.array([[0, 1], [2, 2]])]  # [2, 2, 3] one-hot: vmap over the batch
    f = jax.vmap(lambda y, s: class_weight_to_sample_weight(y, CW3, s))
    got = jax.jit(f)(y, jnp.array([1.0, 2.0]))
    np.testing.assert_array_equal(got, [[1.0, 2.0], [1.0, 1.0]])
    jaxpr = jax.make_jaxpr(lambda y: class_weight_to_sample_weight(y, CW3))(y)
    assert jaxpr.effects == set()


def test_feeds_a_jaxent_loss_as_fit_would():
    y = jnp.array([0, 1, 2, 1])
    logits = jnp.array([[2.0, 0.1, -1.0], [0.3, 0.2, 0.1], [0.0, 0.0, 3.0], [1.0, -1.0, 0.5]])
    weights = class_weight_to_sample_weight(y, CW3)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    per_sample = losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    # sum_over_batch_size: the weighted per-sample losses summed, divided by the batch size
    np.testing.assert_allclose(loss(y, logits, sample_weight=weights),
                               jnp.sum(per_sample * weights) / 4, rtol=1e-6)
