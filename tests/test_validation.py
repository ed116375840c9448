"""One option validator: bools must be bools, floats in range, for losses, metrics and the fused loss alike."""

from __future__ import annotations

import pytest

from jaxent import backend, losses, metrics, nn, utils
from tests.test_training_step import BITS, FEATURES, KERNEL, LABELS, ONE_HOT, PROBS


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
