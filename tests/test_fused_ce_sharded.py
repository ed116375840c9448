"""jaxent.fused_ce under jax.shard_map: tokens sharded (data parallel), the vocabulary sharded
(vocab parallel, ``axis_name=``) and both at once give the unsharded values and gradients.

The multi-device code runs in a subprocess with ``--xla_force_host_platform_device_count=8``,
so the rest of the suite keeps its single device: pytest runs this file as a script, one
case per process (``python tests/test_fused_ce_sharded.py <case>``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CASES = ["data", "vocab", "vocab_vd_options", "data_x_vocab"]


@pytest.mark.parametrize("case", CASES)
def test_sharded_matches_unsharded(case):
    env = os.environ | {"XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, __file__, case],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK {case}" in result.stdout


# Everything below runs in the subprocess only.


def _check_case(case: str) -> None:
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax
    from jax.sharding import AxisType, PartitionSpec as P

    from jaxent.fused_ce import linear_sparse_softmax_cross_entropy

    assert jax.device_count() == 8, jax.devices()
    layout = "vd" if case == "vocab_vd_options" else "dv"
    options = {"block_size": 5, "kernel_layout": layout}
    if case == "vocab_vd_options":
        options |= {"ignore_class": -1, "label_smoothing": 0.1, "z_loss": 1e-3}
    mesh_shape = {"data": (8, 1), "vocab": (1, 8), "vocab_vd_options": (1, 8), "data_x_vocab": (2, 4)}[case]
    mesh = jax.make_mesh(mesh_shape, ("data", "vocab"), axis_types=(AxisType.Auto, AxisType.Auto))

    n, d, v = 16, 6, 8 * 12  # 12 vocabulary columns per shard: not a multiple of block_size=5
    rng = np.random.default_rng(0)
    features = jnp.asarray(rng.standard_normal((n, d)), jnp.float32)
    kernel = jnp.asarray(rng.standard_normal((d, v) if layout == "dv" else (v, d)), jnp.float32)
    bias = jnp.asarray(rng.standard_normal(v), jnp.float32)
    labels = rng.integers(0, v, n)
    if "ignore_class" in options:
        labels[::5] = -1
    labels = jnp.asarray(labels, jnp.int32)
    cotangent = jnp.asarray(rng.standard_normal(n), jnp.float32)

    def unsharded(x, w, b):
        return linear_sparse_softmax_cross_entropy(x, w, labels, bias=b, **options)

    vocab_parallel = case != "data"
    kernel_spec = (P(None, "vocab") if layout == "dv" else P("vocab", None)) if vocab_parallel else P()
    token_spec = P("data")

    def per_shard(x, w, b, y):
        if vocab_parallel:
            return linear_sparse_softmax_cross_entropy(x, w, y, bias=b, axis_name="vocab", **options)
        return linear_sparse_softmax_cross_entropy(x, w, y, bias=b, **options)

    sharded_loss = jax.shard_map(
        per_shard,
        mesh=mesh,
        in_specs=(token_spec, kernel_spec, P("vocab") if vocab_parallel else P(), token_spec),
        out_specs=token_spec,
    )

    def sharded(x, w, b):
        return sharded_loss(x, w, b, labels)

    def value_and_grads(fn):
        loss, vjp = jax.vjp(fn, features, kernel, bias)
        return loss, vjp(cotangent)

    want_loss, want_grads = jax.jit(lambda: value_and_grads(unsharded))()
    loss, grads = jax.jit(lambda: value_and_grads(sharded))()
    scale = lambda a: 1e-5 * float(np.max(np.abs(np.asarray(a))))  # noqa: E731
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5, atol=scale(want_loss))
    for name, grad, want in zip(["features", "kernel", "bias"], grads, want_grads):
        np.testing.assert_allclose(grad, want, rtol=1e-5, atol=scale(want), err_msg=f"d{name}")
    # The loss of a whole batch summed across devices, the usual training step.
    total = jax.shard_map(
        lambda x, w, b, y: lax.psum(jnp.sum(per_shard(x, w, b, y)), "data"),
        mesh=mesh,
        in_specs=(token_spec, kernel_spec, P("vocab") if vocab_parallel else P(), token_spec),
        out_specs=P(),
    )
    grads = jax.jit(jax.grad(lambda x, w, b: total(x, w, b, labels), argnums=(0, 1, 2)))(features, kernel, bias)
    summed = jax.grad(lambda x, w, b: jnp.sum(unsharded(x, w, b)), argnums=(0, 1, 2))
    want_grads = jax.jit(summed)(features, kernel, bias)
    for name, grad, want in zip(["features", "kernel", "bias"], grads, want_grads):
        np.testing.assert_allclose(grad, want, rtol=1e-5, atol=scale(want), err_msg=f"d{name} of the psum'd total")
    print(f"OK {case}")


if __name__ == "__main__":
    _check_case(sys.argv[1])
