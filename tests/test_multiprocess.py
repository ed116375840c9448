"""jaxent across processes: 2 JAX processes with 2 CPU devices each form one global mesh of 4.

This is JAX's multi-controller runtime (``jax.distributed``, one process per host on GPU/TPU
clusters) on one machine, with gloo carrying the cross-process collectives. Two launches of
``tests/multiprocess_worker.py`` through the fail-fast launcher of ``tests/multiprocess.py``:

- ``checks``: every metric family combined across the processes (``psum`` and
  ``merge_across`` in ``shard_map``, plain ``jit`` of a cross-process batch), and the
  vocabulary-parallel fused cross entropy with its kernel sharded over both processes: each
  equal to the same computation on one device.
- ``train``: ``examples/train_digits.py`` data-parallel over the 4 devices of both processes:
  the same losses and accuracies as on one device.

Each worker returns its figures as JSON and the tests below assert on them, for every process.
The workers share a persistent compilation cache in the session's temporary directory
(``JAXENT_TEST_JAX_CACHE=folder`` keeps it across sessions), and compile without LLVM
optimisation (``XLA_FLAGS`` below): compiling is most of the run.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest

from tests.multiprocess import WorkersFailed, launch

WORKER = "tests.multiprocess_worker"
NUM_PROCESSES, DEVICES_PER_PROCESS = 2, 2
DEVICES = NUM_PROCESSES * DEVICES_PER_PROCESS
TIMEOUT_S = 300  # per launch; a healthy run takes a small fraction of it
# XLA's CPU code generation without LLVM optimisation: these programs are tiny, compiling them
# is most of the run, and what is tested (collectives, shardings) does not depend on it.
XLA_FLAGS = "--xla_backend_optimization_level=0"

METRICS = [
    "Mean",
    "SparseCategoricalCrossentropy",
    "CategoricalCrossentropy",
    "BinaryCrossentropy",
    "Accuracy",
    "BinaryAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
]
FUSED = ["dv_vocab4", "vd_vocab4_options", "dv_data2_x_vocab2", "vd_vocab2_across_x_data2"]
RTOL = 1e-6  # float32 sums of 64 entries added in another order
FUSED_RTOL = 1e-5  # relative to the largest magnitude, as in tests/test_fused_ce_sharded.py


class Launch:
    """One multi-process run, started on first use; its failure is reported in full once."""

    def __init__(self, program: str, factory, cache) -> None:
        self.program, self.factory, self.cache = program, factory, cache
        self.results: list | None = None
        self.failure: str | None = None

    def get(self) -> list:
        if self.failure is not None:
            pytest.fail(f"the multi-process '{self.program}' run failed: see the first failing test", pytrace=False)
        if self.results is None:
            try:
                self.results = launch(
                    WORKER,
                    [self.program],
                    workdir=self.factory.mktemp(f"mp-{self.program}"),
                    num_processes=NUM_PROCESSES,
                    devices_per_process=DEVICES_PER_PROCESS,
                    timeout_s=TIMEOUT_S,
                    cache_dir=self.cache,
                    xla_flags=XLA_FLAGS,
                )
            except WorkersFailed as error:
                self.failure = str(error)
            if self.failure is not None:  # outside the except block: no chained duplicate
                pytest.fail(self.failure, pytrace=False)
        return self.results


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    # Fresh in each session (the two runs share no programs, so it pays only across sessions:
    # point JAXENT_TEST_JAX_CACHE at a folder to keep compiled programs between runs).
    kept = os.environ.get("JAXENT_TEST_JAX_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("jax-compilation-cache")


@pytest.fixture(scope="module")
def checks_run(tmp_path_factory, cache) -> Launch:
    return Launch("checks", tmp_path_factory, cache)


@pytest.fixture(scope="module")
def train_run(tmp_path_factory, cache) -> Launch:
    return Launch("train", tmp_path_factory, cache)


@pytest.fixture
def checks(checks_run) -> list[dict]:
    return checks_run.get()


@pytest.fixture
def trained(train_run) -> list[dict]:
    return train_run.get()


# --- the global mesh ----------------------------------------------------------------------------


def test_processes_form_one_global_mesh(checks):
    assert len(checks) == NUM_PROCESSES
    for report in checks:
        assert (report["process_count"], report["device_count"]) == (NUM_PROCESSES, DEVICES)


def test_every_process_reads_the_same_replicated_results(checks):
    # Each process read its own copy (addressable_data); the copies must agree.
    first = checks[0]
    for report in checks[1:]:
        assert report["metrics"] == first["metrics"]
        assert report["fused"] == first["fused"]


# --- metrics ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", METRICS)
@pytest.mark.parametrize("way", ["psum", "merge_across", "jit"])
def test_metric_across_processes_equals_one_device(checks, name, way):
    """The state of a batch split over 2 processes x 2 devices equals the one-device state."""
    for report in checks:
        single, got = report["metrics"][name]["single"], report["metrics"][name][way]
        assert math.isfinite(single["result"])  # weight-0 NaN/inf and ignore_class entries stayed out
        assert single["count"] > 0
        assert got["count"] == single["count"]  # exact: counts are small integers in every way
        assert got["total"] == pytest.approx(single["total"], rel=RTOL, abs=1e-6)
        assert got["result"] == pytest.approx(single["result"], rel=RTOL, abs=1e-7)


def test_sample_weight_zero_and_ignore_class_change_the_counts(checks):
    # Guards the test data: the poisoned rows exist and are left out of the counts.
    counts = {name: checks[0]["metrics"][name]["single"]["count"] for name in METRICS}
    assert counts["Accuracy"] < 64  # weight-0 rows left out
    assert counts["SparseCategoricalCrossentropy"] < counts["CategoricalCrossentropy"]  # ignore_class too


def test_merge_across_keeps_small_counts_next_to_a_huge_one(checks):
    # One device counted 2^24 samples and the three others one each.
    for report in checks:
        got = report["metrics"]["big_and_small"]
        assert got["devices"] == DEVICES
        assert got["merge_across_count"] == 2**24 + DEVICES - 1
        assert abs(got["psum_count"] - (2**24 + DEVICES - 1)) <= DEVICES - 1  # psum may round


# --- the vocabulary-parallel fused cross entropy ----------------------------------------------


@pytest.mark.parametrize("case", FUSED)
def test_vocab_parallel_fused_loss_across_processes_matches_the_materialised_loss(checks, case):
    """Values, the VJP and the gradients of the psum'd total against the [N, V]-logits loss."""
    for report in checks:
        got = report["fused"][case]
        assert got["finite"]
        errors = {key: value for key, value in got.items() if key not in ("finite", "allgather_equals_replicated")}
        assert len(errors) == 7  # loss and two sets of three gradients
        assert max(errors.values()) < FUSED_RTOL, errors


def test_process_allgather_of_the_sharded_kernel_gradient_equals_the_replicated_one(checks):
    for report in checks:
        assert report["fused"][FUSED[0]]["allgather_equals_replicated"]


def test_readme_scaling_out_example_runs_across_processes(checks):
    first = checks[0]["readme"]
    assert first["full_grad_shape"] == [16, 8 * DEVICES]  # gathered whole on every process
    assert first["full_grad_finite"] and first["full_grad_norm"] > 0.0
    assert 0.0 < first["accuracy"] < 1.0  # the guesses are about 80 % right
    for report in checks[1:]:
        assert report["readme"] == first


# --- training -----------------------------------------------------------------------------------


def test_train_digits_across_processes_follows_the_one_device_run(trained):
    # Process 0 also trained on one device alone, the reference.
    parallel, single = trained[0]["parallel"], trained[0]["single"]
    assert (parallel["num_devices"], single["num_devices"]) == (DEVICES, 1)
    for key in ("loss", "accuracy", "test_loss", "test_accuracy"):
        np.testing.assert_allclose(parallel[key], single[key], rtol=1e-5, err_msg=key)
    # Accuracies are counts over 450 test digits: the same count, not merely close.
    assert round(parallel["test_accuracy"][-1] * 450) == round(single["test_accuracy"][-1] * 450)
    assert parallel["test_accuracy"][-1] > 0.8  # it learned (chance: 0.1)


def test_train_digits_reports_the_same_history_on_every_process(trained):
    for report in trained:
        assert report["process_count"] == NUM_PROCESSES
        assert report["parallel"] == trained[0]["parallel"]


# --- the launcher itself -------------------------------------------------------------------------


def test_launcher_returns_every_workers_result(tmp_path):
    results = launch(WORKER, ["ok"], workdir=tmp_path, num_processes=3, timeout_s=60)
    assert results == [{"process_id": i} for i in range(3)]


def test_launcher_stops_everyone_when_one_worker_fails(tmp_path):
    # Worker 0 would sleep for an hour: only the failure of worker 1 can end the run early,
    # and the report names worker 1 and quotes its traceback.
    with pytest.raises(WorkersFailed) as raised:
        launch(WORKER, ["fail"], workdir=tmp_path, timeout_s=120)
    message = str(raised.value)
    assert "worker 1 of python -m tests.multiprocess_worker fail failed (exit code 1)" in message
    assert "RuntimeError: worker 1 fails on purpose" in message
    assert "deadline" not in message


def test_launcher_stops_hung_workers_at_the_deadline_with_their_stacks(tmp_path):
    with pytest.raises(WorkersFailed) as raised:
        launch(WORKER, ["hang"], workdir=tmp_path, timeout_s=3)
    message = str(raised.value)
    assert "passed its 3 s deadline" in message
    assert message.count(", line ") >= 2 and message.count("in hang") == 2  # each worker's stack
