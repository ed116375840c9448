"""Losses on arrays sharded over 8 simulated CPU devices (run in a subprocess, so the rest of
the suite keeps its single device)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import functools
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    from jaxent import losses, nn

    assert jax.device_count() == 8, jax.devices()
    mesh = jax.make_mesh((8,), ("batch",))
    rng = np.random.default_rng(0)
    B, C = 64, 7
    logits = rng.normal(size=(B, C)).astype(np.float32) * 4
    labels = rng.integers(-1, C, B).astype(np.int32)          # -1 is ignored
    weights = rng.uniform(0, 2, B).astype(np.float32)
    onehot = np.eye(C, dtype=np.float32)[np.maximum(labels, 0)]
    shard = lambda x: jax.device_put(x, NamedSharding(mesh, P("batch")))

    checks = {
        "scce": losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1),
        "cce": losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        "bce": losses.BinaryCrossentropy(from_logits=True),
        "mse": losses.MeanSquaredError(),
    }
    targets = {"scce": labels, "cce": onehot, "bce": onehot, "mse": onehot}
    for name, loss in checks.items():
        y = targets[name]
        expected, expected_grad = jax.value_and_grad(lambda p: loss(y, p, weights))(logits)
        fn = jax.jit(jax.value_and_grad(lambda y, p, w: loss(y, p, w), argnums=1))
        value, grad = fn(shard(y), shard(logits), shard(weights))
        np.testing.assert_allclose(value, expected, rtol=2e-6)
        np.testing.assert_allclose(grad, expected_grad, rtol=2e-6, atol=1e-8)
        assert grad.sharding.is_equivalent_to(NamedSharding(mesh, P("batch")), 2), (name, grad.sharding)

    # shard_map: per-device SUM and valid counts, combined with psum, equal the global mean.
    scce_sum = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="sum")

    def local(y, p, w):
        total = scce_sum(y, p, w)
        count = jnp.sum(y != -1).astype(jnp.float32)
        return jax.lax.psum(total, "batch") / jax.lax.psum(count, "batch")

    sharded_mean = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=P("batch"), out_specs=P()))
    value = sharded_mean(shard(labels), shard(logits), shard(weights))
    np.testing.assert_allclose(value, checks["scce"](labels, logits, weights), rtol=2e-6)

    # The opt-in label check under checkify, inside shard_map: the error names the bad label
    # wherever it sits; without check_labels there is no check and no error.
    from jax.experimental import checkify

    bad = np.maximum(labels, 0)
    bad[37] = 9  # on device 4
    checked_scce_sum = scce_sum.replace(check_labels=True)

    def local_sum(y, p, loss=scce_sum):
        return jax.lax.psum(loss(y, p), "batch")

    # checkify needs Auto mesh axes: on Explicit ones (make_mesh's default) JAX's checkify fails.
    auto_mesh = jax.make_mesh((8,), ("batch",), axis_types=(jax.sharding.AxisType.Auto,))
    shard = lambda x: jax.device_put(x, NamedSharding(auto_mesh, P("batch")))

    def checked(loss):
        mapped = jax.shard_map(functools.partial(local_sum, loss=loss), mesh=auto_mesh, in_specs=P("batch"), out_specs=P())
        return jax.jit(checkify.checkify(mapped))

    err, _ = checked(checked_scce_sum)(shard(bad), shard(logits))
    assert "sparse label 9 is outside the valid range [0, 7)" in err.get(), err.get()
    err, value = checked(checked_scce_sum)(shard(np.maximum(labels, 0)), shard(logits))
    assert err.get() is None and np.isfinite(value)
    err, value = checked(scce_sum)(shard(bad), shard(logits))
    assert err.get() is None and np.isnan(value)

    # Elementwise ops keep their sharding and equal the unsharded result.
    per_token = jax.jit(nn.sparse_softmax_cross_entropy_with_logits)(shard(np.maximum(labels, 0)), shard(logits))
    np.testing.assert_allclose(per_token, nn.sparse_softmax_cross_entropy_with_logits(np.maximum(labels, 0), logits), rtol=1e-6)
    print("SHARDED-OK")
    """
)


def test_losses_on_eight_simulated_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "SHARDED-OK" in result.stdout
