"""Tests for jaxent.metrics: Keras 2's measured numbers (KERAS2_SEMANTICS.md §13), the state
algebra (compensated sums, merge), poison-proof masking, the Keras-style facade and bad input.

Cross-device behaviour is in test_metrics_sharded.py; value-for-value parity with tf-keras over
many update sequences is in test_golden_metrics.py.
"""

from __future__ import annotations

import contextlib
import dataclasses

import chex
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from jax import lax
from jax.experimental import checkify

import jaxent

import jaxent.losses
from jaxent import metrics
from jaxent.metrics import MetricState
from jaxent.metrics._state import two_sum
from tests import ulps

F32 = np.float32

CCE_TRUE = [[0, 1, 0], [0, 0, 1]]
CCE_PRED = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]
SCCE_PRED = [[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]
SCCE_LABELS = [0, -1, 1, -1]
BCE_TRUE = [[0, 1], [0, 0]]
BCE_PRED = [[0.6, 0.4], [0.4, 0.6]]


def _value(state: MetricState, field: str) -> float:
    """A two-float total or count in float64 (exact: hi + lo of float32 fits a float64)."""
    return float(np.float64(getattr(state, f"{field}_hi")) + np.float64(getattr(state, f"{field}_lo")))


def _run(metric, updates, mode="compiled"):
    """Feed ``updates`` (tuples of update arguments) to ``metric``; the final state.

    ``mode``: ``"compiled"`` calls ``update`` as a user would (jaxent compiles it),
    ``"eager"`` runs it op by op under ``jax.disable_jit()``, ``"jit"`` inside the user's own
    ``jax.jit``.
    """
    update = jax.jit(metric.update) if mode == "jit" else metric.update
    with jax.disable_jit() if mode == "eager" else contextlib.nullcontext():
        state = metric.init()
        for args in updates:
            args = tuple(None if a is None else jnp.asarray(a) for a in args)
            state = update(state, *args)
    return state


# Functions.


def test_loss_functions_are_reexported_under_the_same_names():
    for name in [
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "binary_crossentropy",
        "mean_squared_error",
        "mean_absolute_error",
        "mse",
        "MSE",
        "mae",
        "MAE",
    ]:
        assert getattr(metrics, name) is getattr(jaxent.losses, name)


def test_accuracy_function_casts_y_pred_to_y_true_dtype():
    # Int labels: 0.9 truncates to 0 (mismatch with 1), 3.5 truncates to 3 (match).
    got = metrics.accuracy(jnp.array([1, 2, 3, 4]), jnp.array([0.9, 2.0, 3.5, 4.0]))
    np.testing.assert_array_equal(got, [0, 1, 1, 1])
    assert got.dtype == jnp.float32
    # Float labels: exact equality, no rounding.
    got = metrics.accuracy(jnp.array([1.0, 1.0, np.nan]), jnp.array([0.9, 1.0000001, np.nan]))
    np.testing.assert_array_equal(got, [0, 0, 0])


def test_binary_accuracy_function_is_strict_and_averages_the_last_axis():
    got = metrics.binary_accuracy(jnp.array([[1, 0], [1, 1]]), jnp.array([[0.7, 0.2], [0.2, 0.9]]))
    np.testing.assert_allclose(got, [1.0, 0.5])
    assert got.dtype == jnp.float32
    # Strictly greater, in y_pred's dtype: 0.7 is not above threshold 0.7.
    np.testing.assert_array_equal(metrics.binary_accuracy(jnp.array([[1.0]]), jnp.array([[0.7]]), threshold=0.7), [0])
    # y_true is not thresholded; NaN predictions are class 0.
    np.testing.assert_allclose(
        metrics.binary_accuracy(jnp.array([0.7, 1.0, 2.0, 0.0]), jnp.array([0.9, 0.9, 0.9, np.nan])), 0.5
    )
    # float16 inputs still give float32.
    assert metrics.binary_accuracy(jnp.ones((2, 2), jnp.float16), jnp.ones((2, 2), jnp.float16)).dtype == jnp.float32
    # Logits with threshold 0: [0, -1, 1e-30] vs [1, 0, 1] -> 2/3.
    np.testing.assert_allclose(
        metrics.binary_accuracy(jnp.array([1.0, 0.0, 1.0]), jnp.array([0.0, -1.0, 1e-30]), threshold=0.0), 2 / 3
    )


ONE_HOT, SPARSE = jnp.array([[1, 0], [0, 1]]), jnp.array([0, 0])


@pytest.mark.parametrize(
    "fn, y_true",
    [
        (lambda a, b: metrics.binary_accuracy(a, b, 0.3), ONE_HOT),
        (metrics.accuracy, ONE_HOT),
        (metrics.categorical_accuracy, ONE_HOT),
        (metrics.sparse_categorical_accuracy, SPARSE),
        (lambda a, b: metrics.top_k_categorical_accuracy(a, b, k=1), ONE_HOT),
        (lambda a, b: metrics.sparse_top_k_categorical_accuracy(a, b, k=1), SPARSE),
    ],
    ids=["binary_accuracy", "accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "top_k", "sparse_top_k"],
)
def test_functions_agree_eagerly_and_under_jit(fn, y_true):
    y_pred = jnp.array([[0.7, 0.2], [0.2, 0.9]])
    with jax.disable_jit():  # every entry point is compiled: this is the op-by-op run
        eager = fn(y_true, y_pred)
    chex.assert_trees_all_equal(eager, fn(y_true, y_pred), jax.jit(fn)(y_true, y_pred))


# Configuration.


@pytest.mark.parametrize(
    "cls, name, options",
    [
        (metrics.Mean, "mean", {}),
        (metrics.CategoricalCrossentropy, "categorical_crossentropy", dict(from_logits=False, label_smoothing=0, axis=-1)),
        (
            metrics.SparseCategoricalCrossentropy,
            "sparse_categorical_crossentropy",
            dict(from_logits=False, ignore_class=None, axis=-1),
        ),
        (metrics.BinaryCrossentropy, "binary_crossentropy", dict(from_logits=False, label_smoothing=0)),
        (metrics.Accuracy, "accuracy", {}),
        (metrics.BinaryAccuracy, "binary_accuracy", dict(threshold=0.5)),
        (metrics.MeanSquaredError, "mean_squared_error", {}),
        (metrics.MeanAbsoluteError, "mean_absolute_error", {}),
    ],
)
def test_classes_have_keras_names_defaults_and_are_frozen_and_hashable(cls, name, options):
    metric = cls()
    assert metric.name == name
    assert metric.dtype == jnp.float32
    for option, default in options.items():
        assert getattr(metric, option) == default
    # Keras's positional order: name, dtype, then the options.
    assert cls("custom", "float16") == dataclasses.replace(metric, name="custom", dtype=jnp.float16)
    assert hash(cls()) == hash(cls(dtype="float32")) and cls() == cls(dtype="float32")
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric.name = "other"


def test_result_has_the_metric_dtype_but_inputs_are_computed_in_float32():
    metric = metrics.MeanSquaredError(dtype="float16")
    state = metric.update(metric.init(), jnp.array([[0.0, 1.0]], jnp.float16), jnp.array([[1.0, 1.0]], jnp.float16))
    assert state.total_hi.dtype == jnp.float32
    assert metric.result(state).dtype == jnp.float16 and float(metric.result(state)) == 0.5
    # f16 inputs are cast to float32 first (Keras measured 1.176928 for CCE on f16-rounded inputs).
    cce = metrics.CategoricalCrossentropy()
    state = cce.update(cce.init(), jnp.array(CCE_TRUE, jnp.float16), jnp.array(CCE_PRED, jnp.float16))
    np.testing.assert_allclose(cce.result(state), 1.176928, rtol=2e-6)
    # bfloat16 predictions for the accuracy metrics, int inputs for MAE.
    acc = metrics.BinaryAccuracy()
    assert float(acc.result(acc.update(acc.init(), jnp.array([1, 0]), jnp.array([0.75, 0.25], jnp.bfloat16)))) == 1.0
    mae = metrics.MeanAbsoluteError()
    assert float(mae.result(mae.update(mae.init(), jnp.array([[1, 2]]), jnp.array([[2, 4]])))) == 1.5


# Keras 2's measured numbers (KERAS2_SEMANTICS.md §13), eagerly and under jit.

ARANGE_232 = np.arange(12.0).reshape(2, 3, 2)

KERAS_CASES = {
    # name: (metric, [update args...], result, total, count)
    "mean_plain": (metrics.Mean(), [([1, 3, 5, 7],)], 4, 16, 4),
    "mean_weighted": (metrics.Mean(), [([1, 3, 5, 7], [1, 1, 0, 0])], 2, 4, 2),
    "mean_per_sample_weight": (metrics.Mean(), [([[1, 2], [3, 4]], [1, 3])], 3, 24, 8),
    "mean_per_sample_weight_b1": (metrics.Mean(), [([[1, 2], [3, 4]], [[1], [3]])], 3, 24, 8),
    "mean_scalar_weight": (metrics.Mean(), [([[1, 2], [3, 4]], 2.0)], 2.5, 20, 8),
    "mean_column_weight": (metrics.Mean(), [([[1, 2], [3, 4]], [[1, 3]])], 2.75, 22, 8),
    "mean_fallback_mean_then_weight": (metrics.Mean(), [(ARANGE_232, [1, 3])], 7, 28, 4),
    "mean_per_timestep": (metrics.Mean(), [(ARANGE_232, [[1, 3, 0]])], 5, 80, 16),
    "mean_zero_weights": (metrics.Mean(), [([1, 2], [0, 0])], 0, 0, 0),
    "mean_weights_cancel": (metrics.Mean(), [([1, 2], [-1, 1])], 0, 1, 0),
    "mean_empty": (metrics.Mean(), [(np.zeros((0,)),)], 0, 0, 0),
    "cce": (metrics.CategoricalCrossentropy(), [(CCE_TRUE, CCE_PRED)], 1.176939, 2.353879, 2),
    "cce_weighted": (metrics.CategoricalCrossentropy(), [(CCE_TRUE, CCE_PRED, [0.3, 0.7])], 1.627198, 1.627198, 1),
    "cce_smoothing": (metrics.CategoricalCrossentropy(label_smoothing=0.1), [(CCE_TRUE, CCE_PRED)], 1.459136, None, 2),
    "scce": (metrics.SparseCategoricalCrossentropy(), [([1, 2], CCE_PRED)], 1.176939, None, 2),
    "scce_ignore": (
        metrics.SparseCategoricalCrossentropy(ignore_class=-1),
        [(SCCE_LABELS, SCCE_PRED)],
        0.6931472,
        1.386294,
        2,
    ),
    "scce_ignore_weighted_then_all_ignored": (
        metrics.SparseCategoricalCrossentropy(ignore_class=-1),
        [(SCCE_LABELS, SCCE_PRED, [1, 2, 3, 4]), ([-1, -1], SCCE_PRED[:2])],
        0.6931472,
        2.772589,
        4,
    ),
    "scce_only_ignored": (
        metrics.SparseCategoricalCrossentropy(ignore_class=-1),
        [([-1, -1], SCCE_PRED[:2]), ([-1], SCCE_PRED[:1], [3.0])],
        0,
        0,
        0,
    ),
    "bce": (metrics.BinaryCrossentropy(), [(BCE_TRUE, BCE_PRED)], 0.8149242, None, 2),
    "bce_weighted": (metrics.BinaryCrossentropy(), [(BCE_TRUE, BCE_PRED, [1, 0])], 0.9162905, None, 1),
    "bce_smoothing": (metrics.BinaryCrossentropy(label_smoothing=0.2), [(BCE_TRUE, BCE_PRED)], 0.7946510, None, 2),
    "bce_rank1_counts_once": (metrics.BinaryCrossentropy(), [([0, 1, 1], [0.6, 0.4, 0.9])], 0.6459805, None, 1),
    "mse": (metrics.MeanSquaredError(), [([[0, 1], [0, 0]], [[1, 1], [0, 0]])], 0.25, None, 2),
    "mse_weighted": (metrics.MeanSquaredError(), [([[0, 1], [0, 0]], [[1, 1], [0, 0]], [1, 0])], 0.5, None, 1),
    "mse_two_updates": (
        metrics.MeanSquaredError(),
        [([[0], [1]], [[1], [1]]), ([[0], [0], [0], [2]], np.zeros((4, 1)))],
        5 / 6,
        5,
        6,
    ),
    "mse_two_updates_rank1": (
        metrics.MeanSquaredError(),
        [([0, 1], [1, 1]), ([0, 0, 0, 2], np.zeros(4))],
        0.75,
        1.5,
        2,
    ),
    "mae": (metrics.MeanAbsoluteError(), [([[0, 1], [0, 0]], [[1, 1], [0, 0]])], 0.25, None, 2),
    "mae_int": (metrics.MeanAbsoluteError(), [([[1, 2]], [[2, 4]])], 1.5, None, 1),
    "accuracy": (metrics.Accuracy(), [([[1], [2], [3], [4]], [[0], [2], [3], [4]])], 0.75, 3, 4),
    "accuracy_weighted": (metrics.Accuracy(), [([[1], [2], [3], [4]], [[0], [2], [3], [4]], [1, 1, 0, 0])], 0.5, 1, 2),
    "accuracy_per_element": (metrics.Accuracy(), [([[1, 2], [3, 4]], [[1, 0], [3, 4]], [1, 0])], 0.5, 1, 2),
    "accuracy_float32_cast": (metrics.Accuracy(), [([16777217], [16777216])], 1, 1, 1),
    "binary_accuracy_strict": (
        metrics.BinaryAccuracy(),
        [([1, 0, 1, 0], np.array([0.5, 0.5, 0.50000006, 0.4999999], F32))],
        0.75,
        3,
        4,
    ),
    "binary_accuracy_y_true_not_thresholded": (metrics.BinaryAccuracy(), [([0.7, 1, 2], 0.9)], 1 / 3, 1, 3),
    "binary_accuracy_weighted_elements": (
        metrics.BinaryAccuracy(),
        [([[1, 0], [1, 1]], [[0.7, 0.2], [0.2, 0.9]], [1, 3])],
        0.625,
        5,
        8,
    ),
    "binary_accuracy_logits": (
        metrics.BinaryAccuracy(threshold=0.0),
        [([1, 0, 1], [0.0, -1.0, 1e-30])],
        2 / 3,
        2,
        3,
    ),
}


@pytest.mark.parametrize("case", list(KERAS_CASES))
def test_keras_measured_values_eagerly_and_under_jit(case):
    metric, updates, result, total, count = KERAS_CASES[case]
    state = _run(metric, updates)
    np.testing.assert_allclose(metric.result(state), result, rtol=2e-6, atol=1e-7)
    if total is not None:
        np.testing.assert_allclose(_value(state, "total"), total, rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(_value(state, "count"), count, rtol=2e-6, atol=1e-7)
    # Op by op (jax.disable_jit) the batch is reduced in another order than XLA's compiled
    # reduction: the two-float total and count (hi + lo) and the result were observed equal or
    # 1 float32 ulp apart, allowed 2. Under an outer jit the same compiled computation runs, so
    # the four sums are identical.
    eager = _run(metric, updates, mode="eager")
    for field in ("total", "count"):
        ulps.assert_within(_value(eager, field), _value(state, field), "float32", 2, what=f"{case}: eager {field}")
    ulps.assert_within(metric.result(eager), metric.result(state), "float32", 2, what=f"{case}: eager result")
    chex.assert_trees_all_equal(state, _run(metric, updates, mode="jit"))


def test_empty_state_result_is_zero_not_nan():
    for metric in [metrics.Mean(), metrics.CategoricalCrossentropy(), metrics.Accuracy(), metrics.BinaryAccuracy()]:
        assert float(metric.result(metric.init())) == 0.0
        assert float(jax.jit(metric.result)(metric.init())) == 0.0


def test_update_works_under_vmap_over_states():
    mean = metrics.Mean()
    states = jax.vmap(lambda _: mean.init())(jnp.arange(3))
    states = jax.vmap(mean.update)(states, jnp.array([[1.0, 2.0], [3.0, 5.0], [0.0, 0.0]]))
    np.testing.assert_allclose(jax.vmap(mean.result)(states), [1.5, 4.0, 0.0])


# Poison-proof masking (difference 9).

POISON_CASES = {
    # name: (metric, y_true, y_pred with a poisoned row 1)
    "mean": (metrics.Mean(), None, [1.0, np.nan, 3.0]),
    "cce": (metrics.CategoricalCrossentropy(), [[0, 1], [1, 0], [1, 0]], [[0.2, 0.8], [np.nan, np.inf], [0.6, 0.4]]),
    "cce_logits": (
        metrics.CategoricalCrossentropy(from_logits=True),
        [[0, 1], [1, 0], [1, 0]],
        [[0.2, 0.8], [np.inf, -np.inf], [0.6, 0.4]],
    ),
    "scce": (metrics.SparseCategoricalCrossentropy(), [1, 0, 0], [[0.2, 0.8], [np.nan, np.nan], [0.6, 0.4]]),
    "bce": (metrics.BinaryCrossentropy(), [[1.0], [0.0], [1.0]], [[0.8], [np.nan], [0.3]]),
    "bce_logits": (metrics.BinaryCrossentropy(from_logits=True), [[1.0], [0.0], [1.0]], [[0.8], [np.inf], [0.3]]),
    "mse": (metrics.MeanSquaredError(), [[1.0], [0.0], [1.0]], [[0.8], [np.inf], [0.3]]),
    "mae": (metrics.MeanAbsoluteError(), [[1.0], [0.0], [1.0]], [[0.8], [-np.inf], [0.3]]),
    "accuracy": (metrics.Accuracy(), [[1.0], [0.0], [1.0]], [[1.0], [np.nan], [0.3]]),
    "binary_accuracy": (metrics.BinaryAccuracy(), [[1.0], [0.0], [1.0]], [[0.8], [np.nan], [0.3]]),
}


@pytest.mark.parametrize("case", list(POISON_CASES))
def test_nan_or_inf_at_zero_weight_changes_nothing(case):
    metric, y_true, y_pred = POISON_CASES[case]
    poisoned_pred = np.asarray(y_pred, F32)
    clean_pred = np.where(np.isfinite(poisoned_pred), poisoned_pred, F32(0.5))
    args = lambda pred: (pred,) if y_true is None else (np.asarray(y_true, F32), pred)  # noqa: E731
    weights = np.array([2.0, 0.0, 1.0], F32)
    poisoned = metric.update(metric.init(), *args(poisoned_pred), weights)
    clean = metric.update(metric.init(), *args(clean_pred), weights)
    assert np.isfinite(float(metric.result(poisoned)))
    assert float(metric.result(poisoned)) == float(metric.result(clean))
    # Later updates keep working (Keras's total would stay NaN for ever).
    poisoned = metric.update(poisoned, *args(clean_pred), np.ones(3, F32))
    clean = metric.update(clean, *args(clean_pred), np.ones(3, F32))
    assert float(metric.result(poisoned)) == float(metric.result(clean))


def test_nan_at_ignore_class_changes_nothing():
    metric = metrics.SparseCategoricalCrossentropy(ignore_class=-1)
    poisoned_pred = np.array(SCCE_PRED, F32)
    poisoned_pred[1] = np.nan
    poisoned_pred[3] = [np.inf, -np.inf, np.nan]
    state = metric.update(metric.init(), jnp.array(SCCE_LABELS), jnp.asarray(poisoned_pred), jnp.array([1.0, 2, 3, 4]))
    np.testing.assert_allclose(metric.result(state), 0.6931472, rtol=1e-6)
    assert _value(state, "count") == 4.0


def test_nonzero_weight_nan_and_inf_behave_as_in_keras():
    mean = metrics.Mean()
    assert np.isnan(float(mean.result(mean.update(mean.init(), jnp.array([1.0, np.nan]), jnp.array([1.0, 1.0])))))
    # inf stays inf (the compensation term must not turn inf - inf into NaN).
    state = mean.update(mean.init(), jnp.array([1.0, np.inf]))
    state = mean.update(state, jnp.array([2.0]))
    assert float(mean.result(state)) == np.inf
    # Overflow of the total is inf as well, not NaN.
    state = mean.update(mean.init(), jnp.array([3e38]))
    assert float(mean.result(mean.update(state, jnp.array([3e38])))) == np.inf


# Compensated two-float state (difference 10).


def test_two_sum_is_error_free():
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(1000) * 10.0 ** rng.integers(-8, 8, 1000)).astype(F32)
    b = (rng.standard_normal(1000) * 10.0 ** rng.integers(-8, 8, 1000)).astype(F32)
    s, e = jax.jit(two_sum)(jnp.asarray(a), jnp.asarray(b))
    exact = a.astype(np.float64) + b.astype(np.float64)
    np.testing.assert_array_equal(np.asarray(s, np.float64) + np.asarray(e, np.float64), exact)


def test_merge_of_two_float_states_is_exact():
    big = MetricState.from_sums(*(jnp.float32(x) for x in (2.0**24, 0.5, 2.0**24, 0.0)))
    small = MetricState.from_sums(*(jnp.float32(x) for x in (1.0, 0.25, 1.0, 0.0)))
    merged = metrics.merge_states(big, small)
    # A float32 accumulator would give 2^24 for both (the 1 and the lows are lost).
    assert _value(merged, "total") == 2.0**24 + 1.75
    assert _value(merged, "count") == 2.0**24 + 1
    # Renormalised: the low part stays below half an ulp of the high part.
    assert abs(float(merged.total_lo)) <= np.spacing(F32(merged.total_hi)) / 2


def test_single_update_count_is_exact_beyond_2_to_24_elements():
    mean = metrics.Mean()
    state = mean.update(mean.init(), jnp.zeros(2**24 + 1, jnp.float32))
    assert _value(state, "count") == 2**24 + 1  # float32(2**24 + 1) would be 2**24


def test_count_does_not_stall_after_2_to_24_samples():
    """One update of 2^24 zeros, then 2^16 single-sample updates of 1.0.

    Exact: 2^16 / (2^24 + 2^16) = 0.0038910506. jaxent: relative error 2.3e-10 (the float32
    rounding of the result). A float32 accumulator (Keras's ``total``/``count`` variables)
    stalls at count 2^24 — each ``+1`` rounds back — and gives 2^16 / 2^24 = 0.00390625,
    relative error 3.9e-3 (both measured).
    """
    mean = metrics.Mean()

    @jax.jit
    def stream(zeros):
        state = mean.update(mean.init(), zeros)
        naive = (jnp.sum(zeros), jnp.float32(zeros.size))

        def body(_, carry):
            state, (total, count) = carry
            return mean.update(state, jnp.ones((1,), jnp.float32)), (total + 1, count + 1)

        state, (total, count) = lax.fori_loop(0, 2**16, body, (state, naive))
        return mean.result(state), total / count, state

    result, naive, state = stream(jnp.zeros(2**24, jnp.float32))
    expected = 2**16 / (2**24 + 2**16)
    assert abs(float(result) - expected) / expected < 1e-6
    assert _value(state, "count") == 2**24 + 2**16
    assert abs(float(naive) - expected) / expected > 3e-3  # the naive accumulator really stalls


def test_long_random_stream_matches_the_exact_mean():
    """10^8 uniform random values, streamed as 10^6 updates of 100 inside one ``lax.scan``.

    The values are ``k / 2^24`` for random 24-bit integers ``k`` (exact in float32, uniform on
    [0, 1)), generated by ``jax.random`` inside the loop; the reference is their exact mean,
    computed from exact integer partial sums of the same ``k`` in NumPy int64 and converted to
    float64 once. Measured: jaxent's relative error is 3.6e-8 (the float32 rounding of the
    result); a float32 total/count accumulator fed the same batches, as Keras's ``Mean`` is,
    is off by 1.3e-2 (its count stops moving in steps of 100 once it passes 2^24 and rounds
    them to multiples of 8; its total loses the low bits of every batch sum). About 2 s on
    two CPU cores.
    """
    mean = metrics.Mean()
    num_batches, batch = 1_000_000, 100

    @jax.jit
    def stream(key):
        def body(carry, index):
            state, naive_total, naive_count = carry
            k = jax.random.bits(jax.random.fold_in(key, index), (batch,), jnp.uint32) >> 8
            values = k.astype(jnp.float32) * jnp.float32(2.0**-24)
            state = mean.update(state, values)
            naive_total, naive_count = naive_total + jnp.sum(values), naive_count + jnp.float32(batch)
            exact_parts = (jnp.sum(k >> 12), jnp.sum(k & 0xFFF))  # each < 2^22: exact in uint32
            return (state, naive_total, naive_count), exact_parts

        carry = (mean.init(), jnp.float32(0), jnp.float32(0))
        (state, naive_total, naive_count), (high, low) = lax.scan(body, carry, jnp.arange(num_batches))
        return mean.result(state), naive_total / naive_count, high, low

    result, naive, high, low = stream(jax.random.key(0))
    exact_sum = int(np.asarray(high, np.int64).sum()) * 4096 + int(np.asarray(low, np.int64).sum())
    reference = np.float64(exact_sum) / 2**24 / (num_batches * batch)
    assert abs(float(result) - reference) / reference < 1e-6
    assert abs(float(naive) - reference) / reference > 1e-3  # the naive float32 accumulator drifts


def _state_from(values, weights):
    mean = metrics.Mean()
    return mean.update(mean.init(), jnp.asarray(values, F32), jnp.asarray(weights, F32))


_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32)
_weights = st.sampled_from([0.0, 0.5, 1.0, 3.0])
_batches = st.tuples(st.lists(_floats, min_size=4, max_size=4), st.lists(_weights, min_size=4, max_size=4))


@settings(max_examples=60, deadline=None)
@given(_batches, _batches, _batches)
def test_merge_is_commutative_and_associative(a, b, c):
    a, b, c = (_state_from(*x) for x in (a, b, c))
    merge, mean = metrics.merge_states, metrics.Mean()
    for x, y in zip(merge(a, b), merge(b, a)):  # commutative bit for bit
        np.testing.assert_array_equal(x, y)
    left, right = merge(merge(a, b), c), merge(a, merge(b, c))
    scale = sum(abs(_value(s, "total")) for s in (a, b, c)) + 1.0
    assert abs(_value(left, "total") - _value(right, "total")) <= 1e-12 * scale
    assert _value(left, "count") == _value(right, "count")
    assert float(mean.result(left)) == pytest.approx(float(mean.result(right)), rel=2e-7, abs=1e-6)


# Keras-style eager facade.


def test_stateful_facade_runs_keras_examples_line_for_line():
    m = metrics.Accuracy().stateful()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    assert float(m.result()) == 0.75
    m.reset_state()
    m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]], sample_weight=[1, 1, 0, 0])
    assert float(m.result()) == 0.5

    m = metrics.Mean().stateful()
    m.update_state([1, 3, 5, 7])
    assert float(m.result()) == 4.0
    m.reset_state()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert float(m.result()) == 2.0

    m = metrics.SparseCategoricalCrossentropy().stateful()
    m.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(m.result(), 1.1769392, rtol=1e-6)
    m.reset_state()
    m.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], sample_weight=[0.3, 0.7])
    np.testing.assert_allclose(m.result(), 1.6271976, rtol=1e-6)
    assert m.name == "sparse_categorical_crossentropy" and m.dtype == jnp.float32


def test_stateful_merge_state_call_and_errors():
    a, b = metrics.BinaryAccuracy().stateful(), metrics.BinaryAccuracy().stateful()
    a.update_state([1, 1], [0.9, 0.1])
    assert float(b([0, 0], [0.1, 0.2])) == 1.0  # __call__ updates and returns the result
    a.merge_state([b])
    assert float(a.result()) == 0.75 and float(a.count) == 4.0 and float(a.total) == 3.0
    b.update_state([1, 0], [0.9, 0.9], [0.0, 1.0])  # sample_weight positionally, as Keras allows
    assert float(b.count) == 3.0 and float(b.total) == 2.0
    b.reset_states()  # Keras 2's older name
    assert float(b.count) == 0.0 and float(b.result()) == 0.0
    a.merge_state([metrics.BinaryAccuracy().init()])  # raw states are accepted
    assert float(a.count) == 4.0
    with pytest.raises(ValueError, match="cannot combine a state of BinaryAccuracy.* with a state of Mean"):
        a.merge_state([metrics.Mean().stateful()])
    with pytest.raises(TypeError, match="must be a list"):
        a.merge_state(b)
    with pytest.raises(TypeError, match="`others` must hold"):
        a.merge_state([0.5])


# Bad input.


@pytest.mark.parametrize(
    "metric, y_true, y_pred, match",
    [
        (metrics.Accuracy(), np.ones(3), np.ones(2), r"`y_true` and `y_pred` must have the same shape.*\(3,\).*\(2,\)"),
        (metrics.CategoricalCrossentropy(), np.ones((2, 3)), np.ones((2, 4)), r"`y_true` and `y_pred`.*\(2, 3\).*\(2, 4\)"),
        (metrics.BinaryCrossentropy(), np.ones((2, 3)), np.ones((2, 4)), r"`y_true` and `y_pred`.*\(2, 3\).*\(2, 4\)"),
        (metrics.BinaryAccuracy(), np.ones((2, 3)), np.ones((2, 4)), r"`y_true` and `y_pred`.*\(2, 3\).*\(2, 4\)"),
        (metrics.MeanSquaredError(), np.ones((2, 3)), np.ones((2, 4)), r"`y_true` and `y_pred`.*\(2, 3\).*\(2, 4\)"),
        (metrics.MeanAbsoluteError(), np.ones((2, 3)), np.ones((2, 4)), r"`y_true` and `y_pred`.*\(2, 3\).*\(2, 4\)"),
        (metrics.SparseCategoricalCrossentropy(), np.ones(3), np.ones((2, 4)), r"`y_true` \(labels, shape \(3,\)\).*\(2, 4\)"),
    ],
)
def test_mismatched_shapes_raise_naming_both(metric, y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        metric.update(metric.init(), y_true, y_pred)


def test_wrong_sample_weight_shape_raises():
    mse = metrics.MeanSquaredError()
    with pytest.raises(ValueError, match=r"`sample_weight` of shape \(3,\) cannot weight values of shape \(4,\)"):
        mse.update(mse.init(), np.ones((4, 2)), np.ones((4, 2)), np.ones(3))
    mean = metrics.Mean()
    with pytest.raises(ValueError, match=r"`sample_weight` of shape \(2, 3\).*squeezed"):
        mean.update(mean.init(), np.ones(2), np.ones((2, 3)))


@pytest.mark.parametrize("threshold", ["0.5", True, None, 1 + 2j, [0.5], np.ones(2)])
def test_bad_threshold_raises_type_error(threshold):
    with pytest.raises(TypeError, match=r"`threshold` must be a real number.*Received: threshold="):
        metrics.BinaryAccuracy(threshold=threshold)
    with pytest.raises(TypeError, match=r"`threshold`"):
        metrics.binary_accuracy(jnp.ones(2), jnp.ones(2), threshold=threshold)


def test_nan_threshold_and_traced_threshold_raise():
    with pytest.raises(ValueError, match="`threshold` must not be NaN"):
        metrics.BinaryAccuracy(threshold=float("nan"))
    with pytest.raises(TypeError, match="`threshold` is a static option"):
        jax.jit(lambda t: metrics.binary_accuracy(jnp.ones(2), jnp.ones(2), threshold=t))(0.5)
    # Concrete NumPy/JAX scalars are fine.
    assert metrics.BinaryAccuracy(threshold=np.float32(0.25)).threshold == 0.25
    assert metrics.BinaryAccuracy(threshold=jnp.array(0.75)).threshold == 0.75


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: metrics.Mean(dtype="int32"), TypeError, r"`dtype` must be None or a floating-point dtype.*int32"),
        (lambda: metrics.Mean(name=3), TypeError, r"`name` must be a str"),
        (lambda: metrics.CategoricalCrossentropy(label_smoothing=2), ValueError, r"`label_smoothing` must be in \[0, 1\]"),
        (lambda: metrics.BinaryCrossentropy(label_smoothing="a"), TypeError, r"`label_smoothing`"),
        (lambda: metrics.CategoricalCrossentropy(from_logits="yes"), TypeError, r"`from_logits` must be a bool"),
        (lambda: metrics.SparseCategoricalCrossentropy(ignore_class=1.5), TypeError, r"`ignore_class`"),
        (lambda: metrics.SparseCategoricalCrossentropy(axis=1.0), ValueError, r"`axis` must be of type `int`"),
    ],
)
def test_bad_options_raise_naming_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_non_numeric_input_raises_type_error_naming_the_argument():
    mean = metrics.Mean()
    with pytest.raises(TypeError, match="`values` must be an array"):
        mean.update(mean.init(), "abc")
    acc = metrics.Accuracy()
    with pytest.raises(TypeError, match="`sample_weight` must be an array"):
        acc.update(acc.init(), [1.0], [1.0], sample_weight="w")


def test_out_of_range_sparse_label_gives_nan_and_a_checkify_error():
    metric = metrics.SparseCategoricalCrossentropy(ignore_class=-1)
    labels, probs = jnp.array([0, 5, -1]), jnp.full((3, 3), 1 / 3)
    assert np.isnan(float(metric.result(metric.update(metric.init(), labels, probs))))
    assert checkify.checkify(jax.jit(metric.update))(metric.init(), labels, probs)[0].get() is None  # opt-in
    checking = metric.replace(check_labels=True)
    checked = checkify.checkify(jax.jit(checking.update))
    error, _ = checked(checking.init(), labels, probs)
    assert "sparse label 5 is outside the valid range [0, 3)" in error.get()
    error, _ = checked(checking.init(), jnp.array([0, 2, -1]), probs)
    assert error.get() is None


# A state knows its metric.


def test_a_state_of_one_metric_cannot_be_merged_into_another():
    mean, accuracy = metrics.Mean(), metrics.Accuracy()
    mean_state = mean.update(mean.init(), jnp.array([1.0, 2.0]))
    accuracy_state = accuracy.update(accuracy.init(), jnp.array([1.0]), jnp.array([1.0]))
    with pytest.raises(ValueError, match=r"belongs to Accuracy\(name='accuracy'.*not to Mean\(name='mean'"):
        mean.merge(accuracy_state, mean_state)
    with pytest.raises(ValueError, match="cannot combine a state of Mean.* with a state of Accuracy"):
        mean.merge(mean_state, accuracy_state)
    with pytest.raises(ValueError, match="cannot combine"):
        metrics.merge_states(mean_state, accuracy_state)
    with pytest.raises(ValueError, match="belongs to Accuracy"):
        mean.update(accuracy_state, jnp.array([1.0]))
    with pytest.raises(ValueError, match="belongs to Accuracy"):
        mean.result(accuracy_state)
    with pytest.raises(ValueError, match=r"threshold=0.5.*threshold=0.7"):
        metrics.BinaryAccuracy(threshold=0.7).result(metrics.BinaryAccuracy().init())


def test_equal_metrics_share_states_and_states_stay_pytrees_of_one_array_of_four_sums():
    a, b = metrics.Accuracy(), metrics.Accuracy()
    state = b.update(a.init(), jnp.array([1.0, 2.0]), jnp.array([1.0, 3.0]))
    assert float(a.result(state)) == 0.5
    # one leaf: a jitted step that carries the state dispatches one buffer for it
    assert [leaf.shape for leaf in jax.tree.leaves(state)] == [(4,)]
    doubled = jax.tree.map(lambda x: 2 * x, state)  # the tag rides along as metadata
    assert float(a.result(doubled)) == 0.5 and doubled.metric == state.metric
    mean = metrics.Mean()
    with pytest.raises(ValueError, match="Custom node type mismatch|structure"):
        jax.tree.map(jnp.add, state, mean.init())
