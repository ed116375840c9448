"""Tests for jaxent.fused_ce: the blocked linear + sparse softmax cross entropy equals the
materialised ``logsumexp(features @ kernel + bias) - logit[label]`` in value and in all three
gradients, for every option, and never holds the ``[N, V]`` logits.

Sharded (data- and vocabulary-parallel) behaviour is in test_fused_ce_sharded.py.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import jaxent
from jax.test_util import check_grads

from jaxent import fused_ce
from jaxent.fused_ce import LinearSparseCategoricalCrossentropy, linear_sparse_softmax_cross_entropy

N, D, V = 7, 5, 37  # V is not a multiple of the block sizes used below


@functools.partial(jax.jit, static_argnames=("ignore_class", "label_smoothing", "z_loss", "kernel_layout"))
def materialised(
    features, kernel, labels, bias=None, *, ignore_class=None, label_smoothing=0.0, z_loss=0.0, kernel_layout="dv"
):
    """The reference: full ``[N, V]`` float32 logits, Keras-smoothed one-hot, autodiff gradients."""
    features, kernel = jnp.asarray(features, jnp.float32), jnp.asarray(kernel, jnp.float32)
    logits = features @ (kernel if kernel_layout == "dv" else kernel.T)
    if bias is not None:
        logits = logits + jnp.asarray(bias, jnp.float32)
    num_classes = logits.shape[-1]
    lse = jax.nn.logsumexp(logits, axis=-1)
    in_range = (labels >= 0) & (labels < num_classes)
    target = jax.nn.one_hot(jnp.where(in_range, labels, 0), num_classes)
    target = target * (1 - label_smoothing) + label_smoothing / num_classes
    loss = jnp.sum(target * (lse[..., None] - logits), axis=-1) + z_loss * lse**2
    loss = jnp.where(in_range, loss, jnp.nan)
    return loss if ignore_class is None else jnp.where(labels != ignore_class, loss, 0)


def fused(features, kernel, labels, bias=None, **options):
    return linear_sparse_softmax_cross_entropy(features, kernel, labels, bias=bias, **options)


def value_and_grads(fn, features, kernel, labels, bias, cotangent, **options):
    """``fn``'s loss and its vjp with ``cotangent`` w.r.t. features, kernel and (if given) bias (jitted)."""

    @jax.jit
    def run(features, kernel, labels, bias, cotangent):
        if bias is None:
            loss, vjp = jax.vjp(lambda x, w: fn(x, w, labels, None, **options), features, kernel)
        else:
            loss, vjp = jax.vjp(lambda x, w, b: fn(x, w, labels, b, **options), features, kernel, bias)
        return loss, vjp(cotangent)

    return run(features, kernel, labels, bias, cotangent)


def assert_close(actual, expected, rtol):
    """Equal within ``rtol`` relative to each entry, or to the array's largest entry near 0."""
    expected = np.asarray(expected, np.float32)
    scale = np.max(np.abs(expected)) if expected.size else 0.0
    np.testing.assert_allclose(np.asarray(actual, np.float32), expected, rtol=rtol, atol=rtol * scale)


def make_inputs(n=N, d=D, v=V, *, layout="dv", seed=0, scale=1.0, dtype=jnp.float32, ignore_class=None):
    """Random ``(features, kernel, labels, bias, cotangent)``; every third label ``ignore_class`` if given."""
    rng = np.random.default_rng(seed)
    features = jnp.asarray(scale * rng.standard_normal((n, d)), dtype)
    kernel = jnp.asarray(rng.standard_normal((d, v) if layout == "dv" else (v, d)), dtype)
    bias = jnp.asarray(rng.standard_normal(v), dtype)
    labels = rng.integers(0, v, n)
    if ignore_class is not None:
        labels[::3] = ignore_class
    cotangent = jnp.asarray(rng.standard_normal(n), jnp.float32)
    return features, kernel, jnp.asarray(labels, jnp.int32), bias, cotangent


# Values and gradients against the materialised computation.

OPTIONS = [
    pytest.param({}, True, id="plain"),
    pytest.param({}, False, id="plain-no_bias"),
    pytest.param({"kernel_layout": "vd"}, True, id="vd"),
    pytest.param({"kernel_layout": "vd"}, False, id="vd-no_bias"),
    pytest.param({"label_smoothing": 0.1}, True, id="smoothing"),
    pytest.param({"z_loss": 1e-2}, True, id="z_loss"),
    pytest.param({"ignore_class": -1}, True, id="ignore_class"),
    pytest.param(
        {"ignore_class": 3, "label_smoothing": 0.2, "z_loss": 1e-3, "kernel_layout": "vd"}, False, id="all-vd-no_bias"
    ),
]


@pytest.mark.parametrize(("options", "with_bias"), OPTIONS)
def test_value_and_all_gradients_equal_the_materialised_computation(options, with_bias):
    features, kernel, labels, bias, cotangent = make_inputs(
        layout=options.get("kernel_layout", "dv"), ignore_class=options.get("ignore_class")
    )
    bias = bias if with_bias else None
    loss, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent, block_size=8, **options)
    want_loss, want_grads = value_and_grads(materialised, features, kernel, labels, bias, cotangent, **options)
    assert loss.dtype == jnp.float32 and loss.shape == (N,)
    assert_close(loss, want_loss, 1e-5)
    assert len(grads) == len(want_grads)
    for grad, want in zip(grads, want_grads):
        assert_close(grad, want, 1e-5)


@pytest.mark.parametrize("block_size", [1, 36, None])
def test_any_block_size_gives_the_same_result(block_size):
    features, kernel, labels, bias, cotangent = make_inputs()
    options = {"label_smoothing": 0.1}
    loss, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent, block_size=block_size, **options)
    want_loss, want_grads = value_and_grads(materialised, features, kernel, labels, bias, cotangent, **options)
    assert_close(loss, want_loss, 1e-5)
    for grad, want in zip(grads, want_grads):
        assert_close(grad, want, 1e-5)


def test_single_token_and_single_class():
    features, kernel, labels, bias, cotangent = make_inputs(n=1)
    loss, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent, block_size=8)
    want_loss, want_grads = value_and_grads(materialised, features, kernel, labels, bias, cotangent)
    assert_close(loss, want_loss, 1e-5)
    for grad, want in zip(grads, want_grads):
        assert_close(grad, want, 1e-5)
    one_class = fused(features, kernel[:, :1], jnp.zeros((1,), jnp.int32))
    np.testing.assert_array_equal(one_class, [0.0])


def test_leading_batch_axes_are_flattened_and_restored():
    features, kernel, labels, bias, _ = make_inputs(n=12)
    features3, labels3 = features.reshape(2, 6, D), labels.reshape(2, 6)
    loss = fused(features3, kernel, labels3, bias, block_size=8)
    assert loss.shape == (2, 6)
    assert_close(loss, materialised(features3, kernel, labels3, bias), 1e-5)
    grad = jax.jit(jax.grad(lambda x: fused(x, kernel, labels3, bias, block_size=8).sum()))(features3)
    want = jax.jit(jax.grad(lambda x: materialised(x, kernel, labels3, bias).sum()))(features3)
    assert grad.shape == (2, 6, D)
    assert_close(grad, want, 1e-5)


def test_extreme_logits_stay_finite_and_exact():
    # Logits of about +-1e4: exp overflows unless the log-sum-exp is max-shifted across blocks.
    features, kernel, labels, bias, cotangent = make_inputs(scale=3e3)
    assert float(jnp.max(jnp.abs(features @ kernel))) > 1e4
    options = {"label_smoothing": 0.1}
    loss, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent, block_size=8, **options)
    want_loss, want_grads = value_and_grads(materialised, features, kernel, labels, bias, cotangent, **options)
    assert np.all(np.isfinite(loss)) and all(np.all(np.isfinite(g)) for g in grads)
    assert_close(loss, want_loss, 1e-5)
    for grad, want in zip(grads, want_grads):
        assert_close(grad, want, 1e-5)


def test_bfloat16_inputs_accumulate_in_float32_and_return_input_dtypes():
    features, kernel, labels, bias, cotangent = make_inputs(n=16, d=32, v=300, dtype=jnp.bfloat16, scale=0.3)
    loss, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent, block_size=64, z_loss=1e-3)
    want_loss, want_grads = value_and_grads(materialised, features, kernel, labels, bias, cotangent, z_loss=1e-3)
    assert loss.dtype == jnp.float32
    assert [g.dtype for g in grads] == [jnp.bfloat16] * 3
    assert_close(loss, want_loss, 1e-5)  # bf16 products are exact in float32: only the sums differ
    for grad, want in zip(grads, want_grads):
        assert_close(grad, want, 2e-2)


def test_mixed_dtypes_return_each_gradient_in_its_input_dtype():
    features, kernel, labels, bias, cotangent = make_inputs()
    kernel, bias = kernel.astype(jnp.bfloat16), bias.astype(jnp.float16)
    _, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent)
    assert [g.dtype for g in grads] == [jnp.float32, jnp.bfloat16, jnp.float16]


# ignore_class and bad labels.


def test_ignored_tokens_give_zero_and_no_gradient():
    features, kernel, labels, bias, _ = make_inputs(ignore_class=-100)
    ignored = np.asarray(labels == -100)
    loss = fused(features, kernel, labels, bias, ignore_class=-100, block_size=8)
    np.testing.assert_array_equal(np.asarray(loss)[ignored], 0.0)
    assert np.all(np.asarray(loss)[~ignored] > 0)
    grad = jax.jit(jax.grad(lambda x: fused(x, kernel, labels, bias, ignore_class=-100, block_size=8).sum()))
    dfeatures = grad(features)
    np.testing.assert_array_equal(np.asarray(dfeatures)[ignored], 0.0)
    assert np.all(np.any(np.asarray(dfeatures)[~ignored] != 0, axis=1))


def test_ignore_class_inside_the_vocabulary_is_still_ignored():
    features, kernel, labels, bias, cotangent = make_inputs(ignore_class=0)
    loss, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent, ignore_class=0, block_size=8)
    want_loss, want_grads = value_and_grads(materialised, features, kernel, labels, bias, cotangent, ignore_class=0)
    assert_close(loss, want_loss, 1e-5)
    for grad, want in zip(grads, want_grads):
        assert_close(grad, want, 1e-5)


def test_all_tokens_ignored_gives_zeros_and_zero_gradients():
    features, kernel, _, bias, cotangent = make_inputs()
    labels = jnp.full((N,), -1)
    loss, grads = value_and_grads(fused, features, kernel, labels, bias, cotangent, ignore_class=-1, block_size=8)
    np.testing.assert_array_equal(loss, np.zeros(N))
    for grad in grads:
        np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_out_of_range_label_gives_nan_for_its_token_only():
    features, kernel, labels, bias, _ = make_inputs()
    labels = labels.at[2].set(V).at[4].set(-1)
    loss = np.asarray(fused(features, kernel, labels, bias, block_size=8))
    assert np.isnan(loss[2]) and np.isnan(loss[4])
    assert np.all(np.isfinite(np.delete(loss, [2, 4])))
    dfeatures = jax.jit(jax.grad(lambda x: jnp.nansum(fused(x, kernel, labels, bias, block_size=8))))(features)
    np.testing.assert_array_equal(np.asarray(dfeatures)[[2, 4]], 0.0)


def test_out_of_range_label_raises_under_checkify():
    features, kernel, labels, bias, _ = make_inputs()
    unchecked = checkify.checkify(lambda y: fused(features, kernel, y, bias, ignore_class=-1))
    assert unchecked(labels.at[3].set(40))[0].get() is None  # the check is opt-in
    checked = checkify.checkify(lambda y: fused(features, kernel, y, bias, ignore_class=-1, check_labels=True))
    error, _ = checked(labels.at[3].set(-1))
    assert error.get() is None  # ignore_class is not an error
    error, _ = checked(labels.at[3].set(40))
    message = r"sparse label 40 is outside the valid range \[0, 37\) \(and not ignore_class=-1\)"
    with pytest.raises(checkify.JaxRuntimeError, match=message):
        error.throw()


def test_labels_get_a_float0_cotangent():
    features, kernel, labels, bias, cotangent = make_inputs()
    _, vjp = jax.vjp(lambda y: fused(features, kernel, y, bias), labels)
    (dlabels,) = vjp(cotangent)
    assert dlabels.dtype == jax.dtypes.float0


# Transformations.


def test_jit_and_vmap_agree_with_the_batched_call():
    features, kernel, labels, bias, _ = make_inputs(n=12)
    batched_features, batched_labels = features.reshape(3, 4, D), labels.reshape(3, 4)

    def loss(x, y):
        return fused(x, kernel, y, bias, block_size=8, label_smoothing=0.1)

    direct = loss(batched_features, batched_labels)
    assert_close(jax.jit(loss)(batched_features, batched_labels), direct, 1e-6)
    assert_close(jax.vmap(loss)(batched_features, batched_labels), direct, 1e-6)
    grad = jax.jit(jax.grad(lambda x, y: loss(x, y).sum()))
    assert_close(jax.vmap(grad)(batched_features, batched_labels), grad(batched_features, batched_labels), 1e-6)


def test_check_grads_reverse_mode():
    features, kernel, labels, bias, _ = make_inputs(n=3, d=4, v=11, scale=0.5)

    def loss(x, w, b):
        return fused(x, w, labels, b, block_size=4, label_smoothing=0.1, z_loss=0.05)

    check_grads(loss, (features, kernel, bias), order=1, modes=["rev"], atol=5e-3, rtol=5e-3, eps=1e-2)


# Memory.


def test_never_materialises_the_logits_and_by_default_needs_a_fiftieth_of_the_memory():
    # The default block policy is held to 50x fewer compiled temporaries than the materialised
    # logits at this size (the benchmark issue's target); memory_analysis() is deterministic.
    n, d, v = 4096, 512, 65536
    args = (
        jax.ShapeDtypeStruct((n, d), jnp.float32),
        jax.ShapeDtypeStruct((d, v), jnp.float32),
        jax.ShapeDtypeStruct((n,), jnp.int32),
    )

    def compiled(loss):
        return jax.jit(jax.value_and_grad(lambda x, w, y: loss(x, w, y).mean(), argnums=(0, 1))).lower(*args).compile()

    fused_compiled, materialised_compiled = compiled(fused), compiled(materialised)
    fused_memory, materialised_memory = fused_compiled.memory_analysis(), materialised_compiled.memory_analysis()
    if fused_memory is None or materialised_memory is None:
        pytest.skip("this backend reports no memory analysis")
    fused_temp, materialised_temp = fused_memory.temp_size_in_bytes, materialised_memory.temp_size_in_bytes
    print(f"temp bytes: fused {fused_temp}, materialised {materialised_temp}")
    assert fused_temp * 50 <= materialised_temp, (fused_temp, materialised_temp)
    assert f"f32[{n},{v}]" in materialised_compiled.as_text()
    assert f"f32[{n},{v}]" not in fused_compiled.as_text()


# Validation.


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"features": jnp.zeros((N, D + 1))}, ValueError, r"features.shape\[-1\].*features.shape=\(7, 6\)"),
        ({"kernel": jnp.zeros((V, D))}, ValueError, r"features.shape\[-1\].*kernel.shape=\(37, 5\)"),
        ({"kernel": jnp.zeros((D, V, 1))}, ValueError, r"`kernel` rank 2"),
        ({"labels": jnp.zeros((N + 1,), jnp.int32)}, ValueError, r"labels.shape.*labels.shape=\(8,\)"),
        ({"labels": jnp.zeros((N,))}, TypeError, r"`labels` must be integers.*float32"),
        ({"features": jnp.zeros((N, D), jnp.int32)}, TypeError, r"floating point.*int32"),
        ({"bias": jnp.zeros((V + 1,))}, ValueError, r"`bias.shape` must be \(V,\) = \(37,\).*\(38,\)"),
        ({"kernel_layout": "xy"}, ValueError, r"`kernel_layout` must be one of.*'xy'"),
        ({"block_size": 0}, ValueError, r"`block_size` must be a positive int.*0"),
        ({"block_size": 2.5}, TypeError, r"`block_size` must be an int. Received: block_size=2.5"),
        ({"label_smoothing": 1.5}, ValueError, r"`label_smoothing` must be in \[0, 1\].*1.5"),
        ({"z_loss": -1.0}, ValueError, r"`z_loss` must be a finite float >= 0. Received: z_loss=-1.0"),
        ({"z_loss": "0.1"}, TypeError, r"`z_loss`"),
        ({"ignore_class": 1.5}, TypeError, r"`ignore_class`"),
    ],
)
def test_bad_arguments_raise_at_trace_time(kwargs, error, match):
    features, kernel, labels, _, _ = make_inputs()
    arguments = {"features": features, "kernel": kernel, "labels": labels} | kwargs
    with pytest.raises(error, match=match):
        linear_sparse_softmax_cross_entropy(**arguments)


# The Loss class.


def test_loss_class_reduces_through_the_shared_path():
    features, kernel, labels, bias, _ = make_inputs(n=12, ignore_class=-1)
    features, labels = features.reshape(3, 4, D), labels.reshape(3, 4)
    per_token = materialised(features, kernel, labels, bias, ignore_class=-1, label_smoothing=0.1)
    valid = np.asarray(labels != -1)
    weight = jnp.array([1.0, 0.5, 2.0])
    weighted = np.asarray(per_token) * np.asarray(weight)[:, None]
    config = {"ignore_class": -1, "label_smoothing": 0.1, "block_size": 8}
    auto = LinearSparseCategoricalCrossentropy(**config)
    assert_close(auto(features, kernel, labels, bias), np.sum(per_token) / valid.sum(), 1e-5)
    assert_close(auto(features, kernel, labels, bias, sample_weight=weight), weighted.sum() / valid.sum(), 1e-5)
    total = LinearSparseCategoricalCrossentropy(**config, reduction="sum")
    assert_close(total(features, kernel, labels, bias, sample_weight=weight), weighted.sum(), 1e-5)
    none = LinearSparseCategoricalCrossentropy(**config, reduction="none")
    assert_close(none(features, kernel, labels, bias, sample_weight=weight), weighted, 1e-5)


def test_loss_class_gradient_equals_the_materialised_mean():
    features, kernel, labels, bias, _ = make_inputs(ignore_class=-1)
    loss = LinearSparseCategoricalCrossentropy(ignore_class=-1, z_loss=1e-3, kernel_layout="dv", block_size=8)
    valid = jnp.sum(labels != -1)
    grads = jax.jit(jax.grad(lambda x, w, b: loss(x, w, labels, b), argnums=(0, 1, 2)))(features, kernel, bias)
    want = jax.jit(
        jax.grad(
            lambda x, w, b: materialised(x, w, labels, b, ignore_class=-1, z_loss=1e-3).sum() / valid, argnums=(0, 1, 2)
        )
    )(features, kernel, bias)
    for grad, expected in zip(grads, want):
        assert_close(grad, expected, 1e-5)


def test_loss_class_all_ignored_batch_gives_zero():
    features, kernel, _, bias, _ = make_inputs()
    loss = LinearSparseCategoricalCrossentropy(ignore_class=-1)
    labels = jnp.full((N,), -1)
    assert float(loss(features, kernel, labels, bias)) == 0.0
    grad = jax.jit(jax.grad(lambda x: loss(x, kernel, labels, bias)))(features)
    np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_loss_class_is_frozen_hashable_and_validated():
    loss = LinearSparseCategoricalCrossentropy(ignore_class=-1, label_smoothing=0.1)
    assert hash(loss) == hash(LinearSparseCategoricalCrossentropy(ignore_class=-1, label_smoothing=0.1))
    assert loss.name == "linear_sparse_categorical_crossentropy" and loss.reduction == "auto"
    with pytest.raises(dataclasses.FrozenInstanceError):
        loss.z_loss = 1.0
    with pytest.raises(ValueError, match="Invalid Reduction Key"):
        LinearSparseCategoricalCrossentropy(reduction="mean")
    with pytest.raises(ValueError, match="kernel_layout"):
        LinearSparseCategoricalCrossentropy(kernel_layout="VD")
    with pytest.raises(ValueError, match="z_loss"):
        LinearSparseCategoricalCrossentropy(z_loss=-0.1)
