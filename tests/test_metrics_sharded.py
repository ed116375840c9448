"""Metric states across devices: ``psum`` inside ``shard_map`` and ``NamedSharding`` under ``jit``.

The checks need 8 devices, so this module runs itself in a child process with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` (8 simulated CPU devices) and the
tests read the child's JSON report; the rest of the suite keeps its single device.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

DEVICES = 8


def _child() -> dict:
    """Runs in the 8-device child process; returns every measured figure."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxent import metrics

    assert jax.device_count() == DEVICES, jax.devices()
    mesh = jax.make_mesh((DEVICES,), ("x",))
    rng = np.random.default_rng(0)
    batch, classes = 64, 5
    probs = rng.dirichlet(np.ones(classes), batch).astype(np.float32)
    labels = rng.integers(-1, classes, batch).astype(np.int32)  # -1 = ignore_class
    onehot = np.eye(classes, dtype=np.float32)[np.maximum(labels, 0)]
    weights = rng.choice([0.0, 0.5, 1.0, 2.0], batch).astype(np.float32)
    probs[weights == 0] = np.nan  # poison that must stay invisible
    scce_probs = probs.copy()
    scce_probs[labels == -1] = np.inf  # ignored positions: poison as well
    values = rng.standard_normal((batch, 3)).astype(np.float32) * 1e3
    binary_true = rng.integers(0, 2, (batch, 3)).astype(np.float32)

    cases = {
        "mean": (metrics.Mean(), (values,)),
        "scce_ignore": (metrics.SparseCategoricalCrossentropy(ignore_class=-1), (labels, scce_probs)),
        "cce": (metrics.CategoricalCrossentropy(label_smoothing=0.1), (onehot, probs)),
        "binary_accuracy": (metrics.BinaryAccuracy(threshold=0.2), (binary_true, values[:, :3] / 1e3)),
        "mse": (metrics.MeanSquaredError(), (binary_true, values / 1e3)),
    }
    report = {}
    for name, (metric, args) in cases.items():
        args = tuple(jnp.asarray(a) for a in args) + (jnp.asarray(weights),)
        single = metric.update(metric.init(), *args)
        sharding = NamedSharding(mesh, P("x"))
        sharded_args = tuple(jax.device_put(a, sharding) for a in args)

        def per_device(*shard, metric=metric):
            local = metric.update(metric.init(), *shard)
            return jax.lax.psum(local, "x"), metrics.merge_across(local, "x")

        summed, merged = jax.jit(
            jax.shard_map(per_device, mesh=mesh, in_specs=P("x"), out_specs=(P(), P()))
        )(*sharded_args)
        from_sharded = jax.jit(metric.update)(metric.init(), *sharded_args)

        exact = lambda s: float(np.float64(s.total_hi) + np.float64(s.total_lo))  # noqa: E731
        report[name] = {
            "single": float(metric.result(single)),
            "psum": float(metric.result(summed)),
            "merge_across": float(metric.result(merged)),
            "named_sharding": float(metric.result(from_sharded)),
            "sharded_input_is_sharded": len(sharded_args[0].sharding.device_set) == DEVICES,
            "count_single": float(single.count),
            "count_psum": float(summed.count),
            "total_single": exact(single),
            "total_psum": exact(summed),
            "total_merge_across": exact(merged),
        }

    # One device holds 2^24 samples, seven hold one each: merge_across keeps all of them;
    # psum of the highs alone may round the seven ones away (it is exact up to (n-1) ulps).
    mean = metrics.Mean()

    def stalled(index):
        big = jnp.where(index[0] == 0, 2.0**24, 1.0)
        local = mean.update(mean.init(), jnp.ones((1,)), sample_weight=big)
        return jax.lax.psum(local, "x"), metrics.merge_across(local, "x")

    summed, merged = jax.jit(jax.shard_map(stalled, mesh=mesh, in_specs=P("x"), out_specs=(P(), P())))(
        jax.device_put(jnp.arange(DEVICES), NamedSharding(mesh, P("x")))
    )
    report["big_and_small"] = {
        "merge_across_count": float(np.float64(merged.count_hi) + np.float64(merged.count_lo)),
        "psum_count": float(np.float64(summed.count_hi) + np.float64(summed.count_lo)),
    }

    # merge_across is one reduction: its program does not grow with the number of devices.
    def program_size(devices: int) -> int:
        sub_mesh = jax.make_mesh((devices,), ("x",), devices=jax.devices()[:devices])
        merge = jax.shard_map(lambda s: metrics.merge_across(s, "x"), mesh=sub_mesh, in_specs=P(), out_specs=P())
        (shard_map_eqn,) = jax.make_jaxpr(merge)(mean.init()).eqns
        return len(shard_map_eqn.params["jaxpr"].eqns)

    report["merge_across_program_size"] = {devices: program_size(devices) for devices in (2, 4, 8)}
    return report


@pytest.fixture(scope="module")
def report() -> dict:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={DEVICES}", JAX_PLATFORMS="cpu")
    completed = subprocess.run(
        [sys.executable, os.path.abspath(__file__)], env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


CASES = ["mean", "scce_ignore", "cce", "binary_accuracy", "mse"]


@pytest.mark.parametrize("case", CASES)
def test_psum_of_per_device_states_equals_the_single_device_state(report, case):
    got = report[case]
    assert got["count_psum"] == got["count_single"]
    assert got["total_psum"] == pytest.approx(got["total_single"], rel=1e-6, abs=1e-6)
    assert got["psum"] == pytest.approx(got["single"], rel=1e-6, abs=1e-7)
    assert got["merge_across"] == pytest.approx(got["single"], rel=1e-6, abs=1e-7)
    assert got["total_merge_across"] == pytest.approx(got["total_single"], rel=1e-6, abs=1e-6)
    assert np.isfinite(got["single"])  # the NaN/inf poison at weight 0 / ignore_class stayed out


@pytest.mark.parametrize("case", CASES)
def test_update_on_a_namedsharding_batch_equals_unsharded(report, case):
    got = report[case]
    assert got["sharded_input_is_sharded"]
    assert got["named_sharding"] == pytest.approx(got["single"], rel=1e-6, abs=1e-7)


def test_merge_across_program_does_not_grow_with_the_device_count(report):
    sizes = report["merge_across_program_size"]
    assert sizes["2"] == sizes["4"] == sizes["8"], sizes


def test_merge_across_keeps_small_device_counts_next_to_a_huge_one(report):
    got = report["big_and_small"]
    assert got["merge_across_count"] == 2**24 + 7
    assert abs(got["psum_count"] - (2**24 + 7)) <= DEVICES - 1


if __name__ == "__main__":
    print(json.dumps(_child()))
