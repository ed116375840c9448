"""Label values compared as class ids: narrow integer dtypes never wrap, a NaN float label is never class 0.

Each test runs eagerly and under ``jax.jit``. Integer labels narrower than 32 bits used to be
compared in their own dtype (``uint8`` 256 wraps to 0, ``ignore_class=-100`` to 156, an argmax
299 to 43); a NaN float label used to be cast by XLA to class 0. Both gave plausible numbers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

from jaxent import backend, losses, metrics, nn, utils

MODES = ["eager", "jit"]


def run(mode, fn, *args):
    """``fn(*args)`` eagerly, or through a fresh ``jax.jit``."""
    return fn(*args) if mode == "eager" else jax.jit(fn)(*args)


def logits_for(num_classes: int, rows: int = 2) -> jax.Array:
    return jnp.asarray(np.random.default_rng(0).normal(size=(rows, num_classes)), jnp.float32)


NARROW = [jnp.uint8, jnp.int16, jnp.uint16]
SPARSE_CE = {
    "nn": lambda y, p: nn.sparse_softmax_cross_entropy_with_logits(y, p),
    "backend": lambda y, p: backend.sparse_categorical_crossentropy(y, p, from_logits=True),
    "losses": lambda y, p: losses.sparse_categorical_crossentropy(y, p, from_logits=True),
    "Loss": lambda y, p: losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(y, p),
}


# --------------------------------------------------------------------------------------------
# Finding 1: narrow integer labels.


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", NARROW, ids=lambda d: jnp.dtype(d).name)
@pytest.mark.parametrize("name", list(SPARSE_CE))
def test_narrow_integer_labels_of_a_model_with_as_many_classes_as_their_dtype_holds_are_not_wrapped(mode, dtype, name):
    # 256 classes for uint8, 32768 for int16, 65536 for uint16: the class count wraps in the labels' dtype.
    top = int(np.iinfo(dtype).max)
    fn, p = SPARSE_CE[name], logits_for(top + 1)
    labels = jnp.array([top, 7])
    expected = fn(labels, p)
    got = run(mode, fn, labels.astype(dtype), p)
    assert np.isfinite(got).all(), got
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", NARROW, ids=lambda d: jnp.dtype(d).name)
def test_narrow_integer_labels_of_a_model_with_as_many_classes_as_their_dtype_holds_are_not_wrapped_in_the_fused_loss(
    mode, dtype
):
    top = int(np.iinfo(dtype).max)
    rng = np.random.default_rng(1)
    features = jnp.asarray(rng.normal(size=(2, 8)), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(8, top + 1)), jnp.float32)
    labels = jnp.array([top, 7])
    expected = nn.linear_sparse_softmax_cross_entropy(features, kernel, labels)
    got = run(mode, lambda f, k, y: nn.linear_sparse_softmax_cross_entropy(f, k, y), features, kernel, labels.astype(dtype))
    assert np.isfinite(got).all(), got
    np.testing.assert_allclose(got, expected, rtol=1e-6)


IGNORING = {
    "backend": lambda y, p: backend.sparse_categorical_crossentropy(y, p, from_logits=True, ignore_class=-100),
    "losses": lambda y, p: losses.sparse_categorical_crossentropy(y, p, from_logits=True, ignore_class=-100),
    "Loss": lambda y, p: losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100, reduction="none")(y, p),
    "metric": lambda y, p: (lambda m: m.result(m.update(m.init(), y, p)))(
        metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)
    ),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["backend", "losses", "Loss"])
def test_ignore_class_minus_100_does_not_drop_class_156_of_uint8_labels(mode, name):
    fn, p = IGNORING[name], logits_for(300)
    got = run(mode, fn, jnp.array([156, 3], jnp.uint8), p)
    expected = fn(jnp.array([156, 3]), p)
    assert got[0] > 0, "class 156 was taken for ignore_class=-100"
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", MODES)
def test_ignore_class_minus_100_does_not_drop_class_156_of_uint8_labels_in_the_fused_loss(mode):
    rng = np.random.default_rng(2)
    features = jnp.asarray(rng.normal(size=(2, 8)), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(8, 300)), jnp.float32)
    fused = lambda f, k, y: nn.linear_sparse_softmax_cross_entropy(f, k, y, ignore_class=-100)
    got = run(mode, fused, features, kernel, jnp.array([156, 3], jnp.uint8))
    expected = fused(features, kernel, jnp.array([156, 3]))
    assert got[0] > 0, "class 156 was taken for ignore_class=-100"
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    loss = losses.LinearSparseCategoricalCrossentropy(ignore_class=-100, reduction="sum")
    np.testing.assert_allclose(
        run(mode, loss, features, kernel, jnp.array([156, 3], jnp.uint8)), jnp.sum(expected), rtol=1e-6
    )


@pytest.mark.parametrize("mode", MODES)
def test_sparse_categorical_accuracy_does_not_wrap_the_argmax_to_the_label_dtype(mode):
    scores = jnp.zeros((2, 300)).at[0, 299].set(1.0).at[1, 43].set(1.0)
    labels = jnp.array([43, 43], jnp.uint8)  # row 0 predicts 299, which is 43 in uint8
    got = run(mode, metrics.sparse_categorical_accuracy, labels, scores)
    np.testing.assert_array_equal(got, [0.0, 1.0])


@pytest.mark.parametrize("mode", MODES)
def test_to_categorical_of_uint8_labels_with_256_classes(mode):
    labels = jnp.array([255, 0, 17], jnp.uint8)
    got = run(mode, lambda y: utils.to_categorical(y, 256), labels)
    np.testing.assert_array_equal(got, np.eye(256, dtype=np.float32)[[255, 0, 17]])


@pytest.mark.parametrize("mode", MODES)
def test_class_weight_of_uint8_labels_with_more_than_256_classes(mode):
    table = {i: float(i) for i in range(300)}
    got = run(mode, lambda y: utils.class_weight_to_sample_weight(y, table), jnp.array([255, 44], jnp.uint8))
    np.testing.assert_array_equal(got, [255.0, 44.0])


# --------------------------------------------------------------------------------------------
# Finding 2: NaN float labels.

PROBS = jnp.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
NAN_LABELS = jnp.array([1.0, jnp.nan, 2.0])

NAN_LABEL_LOSSES = {
    "backend": lambda y, p: backend.sparse_categorical_crossentropy(y, p),
    "losses": lambda y, p: losses.sparse_categorical_crossentropy(y, p),
    "losses-ignore": lambda y, p: losses.sparse_categorical_crossentropy(y, p, ignore_class=-1),
    "Loss-none": lambda y, p: losses.SparseCategoricalCrossentropy(reduction="none")(y, p),
    "Loss-logits-ignore": lambda y, p: losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=0, reduction="none")(y, jnp.log(p)),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(NAN_LABEL_LOSSES))
def test_a_nan_float_label_gives_nan_for_its_entry_not_class_0(mode, name):
    got = run(mode, NAN_LABEL_LOSSES[name], NAN_LABELS, PROBS)
    assert np.isnan(got[1]), got
    assert np.isfinite(got[0]) and np.isfinite(got[2]), got


@pytest.mark.parametrize("mode", MODES)
def test_a_nan_float_label_makes_the_reduced_loss_nan(mode):
    got = run(mode, lambda y, p: losses.SparseCategoricalCrossentropy()(y, p), NAN_LABELS, PROBS)
    assert np.isnan(got)


def _metric_result(metric, y, p, w=None):
    return metric.result(metric.update(metric.init(), y, p, sample_weight=w))


NAN_LABEL_METRICS = {
    "SparseCategoricalCrossentropy": metrics.SparseCategoricalCrossentropy,
    "SparseCategoricalAccuracy": metrics.SparseCategoricalAccuracy,
    "SparseTopKCategoricalAccuracy": lambda: metrics.SparseTopKCategoricalAccuracy(k=1),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(NAN_LABEL_METRICS))
def test_a_nan_float_label_makes_the_metric_nan_unless_its_weight_is_0(mode, name):
    metric = NAN_LABEL_METRICS[name]()
    fn = lambda y, p, w: _metric_result(metric, y, p, w)
    assert np.isnan(run(mode, fn, NAN_LABELS, PROBS, jnp.ones(3)))
    weighted_out = run(mode, fn, NAN_LABELS, PROBS, jnp.array([1.0, 0.0, 1.0]))
    expected = run(mode, fn, NAN_LABELS[::2], PROBS[::2], jnp.ones(2))
    np.testing.assert_allclose(weighted_out, expected, rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "fn",
    [metrics.sparse_categorical_accuracy, lambda y, p: metrics.sparse_top_k_categorical_accuracy(y, p, k=1),
     lambda y, p: metrics.sparse_top_k_categorical_accuracy(y, p, k=3)],
    ids=["sparse_categorical_accuracy", "sparse_top_k-k1", "sparse_top_k-k3"],
)
def test_a_nan_float_label_is_nan_in_the_accuracy_functions_not_a_hit(mode, fn):
    # Row 1 predicts class 0: a NaN label cast to class 0 was counted as a hit.
    got = run(mode, fn, NAN_LABELS, PROBS)
    assert np.isnan(got[1]), got
    np.testing.assert_array_equal(np.asarray(got)[[0, 2]], [1.0, 1.0])


@pytest.mark.parametrize("mode", MODES)
def test_to_categorical_of_a_nan_label_is_a_nan_row(mode):
    got = run(mode, lambda y: utils.to_categorical(y, 3), jnp.array([jnp.nan, 2.0, -1.0]))
    assert np.isnan(got[0]).all()
    np.testing.assert_array_equal(got[1:], [[0, 0, 1], [0, 0, 1]])


def test_to_categorical_of_a_nan_numpy_label_raises():
    with pytest.raises(ValueError, match="label nan"):
        utils.to_categorical(np.array([0.0, np.nan]), 3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "y_true",
    [jnp.array([jnp.nan, 1.0]), jnp.array([[jnp.nan], [1.0]]), jnp.array([[jnp.nan, 0.0], [0.0, 1.0]])],
    ids=["sparse", "sparse-column", "one-hot"],
)
def test_class_weight_of_a_nan_label_is_nan(mode, y_true):
    got = run(mode, lambda y: utils.class_weight_to_sample_weight(y, {0: 1.0, 1: 2.0}), y_true)
    assert np.isnan(got[0]), got
    assert got[1] == 2.0


# --------------------------------------------------------------------------------------------
# The opt-in check (checkify) reports a NaN label.

CHECKED = {
    "losses": lambda y, p: losses.sparse_categorical_crossentropy(y, p, check_labels=True),
    "Loss-ignore": lambda y, p: losses.SparseCategoricalCrossentropy(ignore_class=-1, check_labels=True)(y, p),
    "metric": lambda y, p: _metric_result(metrics.SparseCategoricalCrossentropy(check_labels=True), y, p),
}


@pytest.mark.parametrize("name", list(CHECKED))
def test_the_opt_in_label_check_reports_a_nan_label(name):
    fn = CHECKED[name]
    err, _ = checkify.checkify(jax.jit(lambda y, p: fn(y, p)))(NAN_LABELS, PROBS)
    assert err.get() is not None and "sparse label nan is outside the valid range [0, 3)" in err.get(), err.get()
    err, _ = checkify.checkify(jax.jit(lambda y, p: fn(y, p)))(jnp.array([1.0, 0.0, 2.0]), PROBS)
    assert err.get() is None


def test_the_opt_in_to_categorical_check_reports_a_nan_label():
    checked = jax.jit(lambda y: utils.to_categorical(y, 3, check_labels=True))
    err, _ = checkify.checkify(checked)(jnp.array([0.0, jnp.nan]))
    assert err.get() is not None and "label nan is out of range" in err.get(), err.get()


def test_the_label_check_functions_take_the_labels_and_handle_nan():
    from jaxent import _validation

    def check(labels):
        with _validation.label_checks(True):
            _validation.check_sparse_labels(labels, 3, None)
        return labels

    err, _ = checkify.checkify(jax.jit(check))(jnp.array([jnp.nan, 1.0]))
    assert "sparse label nan" in err.get()
    err, _ = checkify.checkify(jax.jit(check))(jnp.array([5.0, 1.0]))
    assert "sparse label 5 is outside" in err.get()
    err, _ = checkify.checkify(jax.jit(check))(jnp.array([255, 1], jnp.uint8))
    assert "sparse label 255 is outside" in err.get()


def test_the_opt_in_check_does_not_wrap_narrow_labels():
    fn = lambda y, p: losses.sparse_categorical_crossentropy(y, p, from_logits=True, ignore_class=-100, check_labels=True)
    err, _ = checkify.checkify(jax.jit(fn))(jnp.array([255, 156], jnp.uint8), logits_for(256))
    assert err.get() is None, err.get()
