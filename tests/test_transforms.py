"""Every public loss function and Loss class: eager (``jax.disable_jit``) == jit == vmap, gradients == finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import jaxent
from jaxent import _formulas, backend, losses, nn
from tests import ulps

B, C = 6, 5


def _probabilities(rng, shape):
    p = rng.uniform(0.05, 1.0, size=shape)
    return (p / p.sum(-1, keepdims=True)).astype(np.float32)


def _cases(rng):
    """(id, function of y_pred, y_pred, other batched args) for every public function."""
    logits = rng.normal(size=(B, C)).astype(np.float32) * 3
    probs = _probabilities(rng, (B, C))
    onehot = np.eye(C, dtype=np.float32)[rng.integers(0, C, B)]
    soft = _probabilities(rng, (B, C))
    sparse = rng.integers(0, C, B).astype(np.int32)
    binary = rng.integers(0, 2, (B, C)).astype(np.float32)
    unit = rng.uniform(0.05, 0.95, (B, C)).astype(np.float32)
    target = rng.normal(size=(B, C)).astype(np.float32)
    return [
        ("nn.sigmoid", lambda y, p: nn.sigmoid_cross_entropy_with_logits(y, p), logits, binary),
        ("nn.softmax", lambda y, p: nn.softmax_cross_entropy_with_logits(y, p), logits, soft),
        ("nn.sparse_softmax", lambda y, p: nn.sparse_softmax_cross_entropy_with_logits(y, p), logits, sparse),
        ("backend.cce", lambda y, p: backend.categorical_crossentropy(y, p), probs, onehot),
        ("backend.cce_logits", lambda y, p: backend.categorical_crossentropy(y, p, from_logits=True), logits, soft),
        ("backend.scce", lambda y, p: backend.sparse_categorical_crossentropy(y, p), probs, sparse),
        ("backend.scce_ignore", lambda y, p: backend.sparse_categorical_crossentropy(y, p, ignore_class=1), probs, sparse),
        ("backend.bce", lambda y, p: backend.binary_crossentropy(y, p), unit, binary),
        ("backend.bce_logits", lambda y, p: backend.binary_crossentropy(y, p, from_logits=True), logits, binary),
        ("losses.cce_ls", lambda y, p: losses.categorical_crossentropy(y, p, label_smoothing=0.1), probs, onehot),
        ("losses.cce_logits", lambda y, p: losses.categorical_crossentropy(y, p, from_logits=True), logits, onehot),
        ("losses.scce_logits", lambda y, p: losses.sparse_categorical_crossentropy(y, p, from_logits=True), logits, sparse),
        ("losses.bce_ls", lambda y, p: losses.binary_crossentropy(y, p, label_smoothing=0.2), unit, binary),
        ("losses.bce_logits", lambda y, p: losses.binary_crossentropy(y, p, from_logits=True), logits, binary),
        ("losses.mse", lambda y, p: losses.mean_squared_error(y, p), target, unit),
        ("losses.mae", lambda y, p: losses.mean_absolute_error(y, p), target, unit),
        ("Loss.cce", lambda y, p: losses.CategoricalCrossentropy()(y, p), probs, onehot),
        ("Loss.scce_ignore", lambda y, p: losses.SparseCategoricalCrossentropy(ignore_class=0)(y, p), probs, sparse),
        ("Loss.bce_sum", lambda y, p: losses.BinaryCrossentropy(from_logits=True, reduction="sum")(y, p), logits, binary),
        ("Loss.mse_none", lambda y, p: losses.MeanSquaredError(reduction="none")(y, p), target, unit),
        ("Loss.mae", lambda y, p: losses.MeanAbsoluteError()(y, p), target, unit),
    ]


CASES = _cases(np.random.default_rng(0))
IDS = [case[0] for case in CASES]


@pytest.mark.parametrize("name,fn,y_pred,y_true", CASES, ids=IDS)
def test_eager_jit_and_vmap_agree(name, fn, y_pred, y_true):
    # Every entry point is compiled, so only jax.disable_jit() runs it op by op. Observed: equal
    # or 1 float32 ulp apart (XLA fuses and reorders the compiled side); allowed: 2 ulp.
    with jax.disable_jit():
        eager = fn(y_true, y_pred)
    called, jitted = fn(y_true, y_pred), jax.jit(fn)(y_true, y_pred)
    ulps.assert_within(jitted, eager, "float32", 2, what=f"{name}: eager vs jit")
    # A plain call is the same compiled computation as a call inside the user's jit.
    np.testing.assert_array_equal(called, jitted)
    # vmap over a new leading axis: each slice is one call on the original batch.
    stacked_true, stacked_pred = np.stack([y_true, y_true[::-1]]), np.stack([y_pred, y_pred[::-1]])
    mapped = jax.vmap(fn)(stacked_true, stacked_pred)
    per_slice = np.stack([fn(t, p) for t, p in zip(stacked_true, stacked_pred)])
    np.testing.assert_allclose(mapped, per_slice, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,fn,y_pred,y_true", CASES, ids=IDS)
def test_grad_matches_finite_differences(name, fn, y_pred, y_true):
    with jax.enable_x64(True):
        y_pred64 = jnp.asarray(y_pred, jnp.float64)
        y_true64 = jnp.asarray(y_true) if y_true.dtype.kind == "i" else jnp.asarray(y_true, jnp.float64)
        if name == "losses.mae":
            y_pred64 = y_pred64 + 0.01  # keep away from the kink at y_pred == y_true
        order = 2 if name.startswith("nn.") else 1
        check_grads(lambda p: jnp.sum(fn(y_true64, p)), (y_pred64,), order=order, modes=("fwd", "rev"), eps=1e-6)


def test_grad_matches_finite_differences_for_labels():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(B, C))
    with jax.enable_x64(True):
        x = jnp.asarray(logits)
        z = jnp.asarray(_probabilities(rng, (B, C)), jnp.float64)
        check_grads(lambda z: jnp.sum(nn.sigmoid_cross_entropy_with_logits(z, x)), (z,), order=2, eps=1e-6)
        check_grads(lambda z: jnp.sum(nn.softmax_cross_entropy_with_logits(z, x)), (z,), order=2, eps=1e-6)


def test_calling_inside_user_jit_adds_no_extra_computation():
    y, p = np.eye(C, dtype=np.float32)[:B % C + 1], _probabilities(np.random.default_rng(2), (B % C + 1, C))
    # jaxent's compile boundary (a nested jit) against the bare formula, both inside a user's jit.
    inner = jax.jit(lambda y, p: losses.categorical_crossentropy(y, p)).lower(y, p).compile().as_text()
    bare = jax.jit(lambda y, p: _formulas.categorical_ce_per_sample(y, p, False, 0.0, -1)).lower(y, p).compile().as_text()
    assert inner.count("fusion(") == bare.count("fusion(")
    assert inner.count(" copy(") == bare.count(" copy(")


_SCCE_METRIC = jaxent.metrics.SparseCategoricalCrossentropy(from_logits=True)
SPARSE_LOGITS_PATHS = {
    "nn.sparse_softmax_cross_entropy_with_logits": nn.sparse_softmax_cross_entropy_with_logits,
    "backend.sparse_categorical_crossentropy": lambda y, x: backend.sparse_categorical_crossentropy(y, x, from_logits=True),
    "losses.SparseCategoricalCrossentropy": losses.SparseCategoricalCrossentropy(from_logits=True),
    "losses.SparseCategoricalCrossentropy(ignore_class)": losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    "metrics.SparseCategoricalCrossentropy.update": lambda y, x: _SCCE_METRIC.update(_SCCE_METRIC.init(), y, x),
}


@pytest.mark.parametrize("name", SPARSE_LOGITS_PATHS)
def test_sparse_logits_paths_never_hold_a_copy_of_the_logits(name):
    # The loss is formed relative to the row maximum; picking x[label] from the shifted logits
    # made XLA write the whole shifted [N, C] array (3x optax's forward time at 4096x32768).
    # Compiled temporaries are deterministic: a handful of [N] vectors, never N * C words.
    n, c = 512, 4096
    x, y = jnp.zeros((n, c)), jnp.zeros((n,), jnp.int32)
    compiled = jax.jit(SPARSE_LOGITS_PATHS[name]).lower(y, x).compile()
    assert compiled.memory_analysis().temp_size_in_bytes < n * c * 4 // 16


def test_loss_objects_are_hashable_static_arguments():
    loss = losses.CategoricalCrossentropy(label_smoothing=0.1)
    assert hash(loss) == hash(losses.CategoricalCrossentropy(label_smoothing=0.1))
    assert loss != losses.CategoricalCrossentropy(label_smoothing=0.2)

    @jax.jit
    def closed_over(y, p):
        return loss(y, p)

    def as_static(fn, y, p):
        return fn(y, p)

    y = np.eye(3, dtype=np.float32)
    p = _probabilities(np.random.default_rng(3), (3, 3))
    static = jax.jit(as_static, static_argnums=0)(loss, y, p)
    np.testing.assert_allclose(closed_over(y, p), static)
    np.testing.assert_allclose(static, np.mean(losses.categorical_crossentropy(y, p, label_smoothing=0.1)), rtol=1e-6)


def test_loss_object_is_immutable():
    loss = losses.BinaryCrossentropy()
    with pytest.raises(AttributeError):
        loss.from_logits = True


def test_top_level_namespaces():
    assert jaxent.to_categorical is jaxent.utils.to_categorical
    assert isinstance(jaxent.__version__, str)
    assert losses.mse is losses.MSE is losses.mean_squared_error
    assert losses.mae is losses.MAE is losses.mean_absolute_error
    assert backend.epsilon() == 1e-7


@pytest.mark.parametrize("name,fn,y_pred,y_true", [c for c in CASES if not c[0].startswith("Loss.")], ids=[i for i in IDS if not i.startswith("Loss.")])
def test_vmap_over_the_batch_axis_equals_the_batched_call(name, fn, y_pred, y_true):
    np.testing.assert_allclose(jax.vmap(fn)(y_true, y_pred), fn(y_true, y_pred), rtol=1e-6, atol=1e-7)


def test_absolute_error_has_tensorflows_zero_derivative_where_prediction_equals_target():
    # tf.abs's gradient at 0 is 0 (jnp.abs's is 1); both autodiff modes, eager and compiled.
    y_true, y_pred = jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 3.0, 2.0])
    expected = np.array([0.0, 1 / 3, -1 / 3], np.float32)
    loss = lambda p: losses.mean_absolute_error(y_true, p)  # noqa: E731
    for derivative in (jax.grad(loss), jax.jacfwd(loss), jax.jit(jax.grad(loss))):
        np.testing.assert_array_equal(derivative(y_pred), expected)
    with jax.disable_jit():
        np.testing.assert_array_equal(jax.grad(loss)(y_pred), expected)
