"""The benchmark harness runs end to end at toy sizes and writes what it promises; no timing assertions."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import measure, ops, report, roofline

ROOT = Path(__file__).resolve().parents[1]

# One op of every kind and code path: sparse labels (gather), dense labels, a Loss class with
# sample_weight, two metrics, the donated optimizer step with clipping, and the fused CE.
TOY_OPS = "sparse_softmax_ce,categorical_ce,SparseCategoricalCrossentropy(sw),metric.Mean," \
          "metric.SparseCategoricalCrossentropy,rmsprop.global_clipnorm,linear_sparse_softmax_ce"


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "toy", "--dtype", "float32", "--budget", "0.005",
         "--ops", TOY_OPS, "--out", str(out), "--no-progress", "--hlo"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout, json.loads((out / "results.json").read_text())


def test_toy_run_writes_json_with_environment_and_every_figure(toy_run):
    _, _, result = toy_run
    assert {"env", "config", "bandwidth", "results", "summary", "skipped"} <= set(result)
    env = result["env"]
    for key in ("jax", "jaxlib", "optax", "device_kind", "device_count", "backend", "date", "cpu_count", "cpu_model"):
        assert env[key] not in (None, ""), key
    assert result["bandwidth"]["peak_gbps"] > 0
    records = result["results"]
    assert {r["op"] for r in records} | {s["op"] for s in result["skipped"] if s["impl"] == "jaxent"} >= set(
        TOY_OPS.split(","))
    errors = [(r["op"], r["impl"], r["mode"], r["error"]) for r in records if r.get("error")]
    assert not errors
    for r in records:
        assert r["median_s"] > 0 and r["q1_s"] <= r["median_s"] <= r["q3_s"], r
        assert r["compile_s"] >= 0 and r["min_bytes"] > 0 and r["gbps"] > 0
        assert r["hlo"]["fusions"] >= 0
    modes = {(r["op"], r["mode"]) for r in records}
    assert ("sparse_softmax_ce", "fwd") in modes and ("sparse_softmax_ce", "fwd+bwd") in modes


def test_toy_run_reports_ratios_against_optax_and_the_fastest_baseline(toy_run):
    out, stdout, result = toy_run
    rows = {(r["op"], r["mode"]): r for r in result["summary"]}
    row = rows[("sparse_softmax_ce", "fwd+bwd")]
    assert row["ratio_optax"] == pytest.approx(row["jaxent_s"] / row["optax_s"])
    assert row["ratio_best"] == pytest.approx(row["jaxent_s"] / row["best_s"])
    assert row["best_s"] == min(t for impl, t in row["times"].items() if impl != "jaxent")
    # every baseline computes the same objective as jaxent
    assert row["value_max_rel_diff"] < 1e-4
    assert "/optax" in stdout and "sparse_softmax_ce" in stdout
    assert (out / "results.md").read_text().count("|") > 10
    assert list((out / "hlo").glob("sparse_softmax_ce__jaxent__*.txt"))


def test_toy_run_writes_a_png_plot(toy_run):
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    out, _, _ = toy_run
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sizes_accept_presets_and_explicit_shapes():
    sizes = ops.parse_sizes("toy,1024x100,2048x512x32768,4M", backend="cpu")
    assert ops.Size("clf", (1024, 100)) in sizes["clf"]
    assert sizes["fused"][-1].shape == (2048, 512, 32768)
    assert sizes["params"][-1].shape == (4_000_000,)
    assert sizes["lm"] == [ops.Size("lm", tuple(ops.PRESETS["cpu"]["toy"]["lm"][0]))]
    with pytest.raises(ValueError, match="--sizes"):
        ops.parse_sizes("huge", backend="cpu")


def test_accelerator_presets_are_larger_than_cpu_ones():
    for name in ("small", "medium", "large"):
        cpu, acc = ops.PRESETS["cpu"][name], ops.PRESETS["accelerator"][name]
        assert max(acc["params"]) > max(cpu["params"])


def test_ops_select_by_glob_and_reject_unknown_names():
    assert {op.name for op in ops.select_ops("rmsprop.*")} == {f"rmsprop.{c}" for c in ops.RMSPROP_CONFIGS}
    assert [op.name for op in ops.select_ops("mse")] == ["mse"]
    with pytest.raises(ValueError, match="matches nothing"):
        ops.select_ops("no_such_op")


def test_hlo_stats_count_full_size_buffers_between_fusions():
    text = """HloModule m

ENTRY %main (x: f32[8,4], y: s32[8]) -> (f32[], f32[8,4]) {
  %x = f32[8,4]{1,0} parameter(0)
  %y = s32[8]{0} parameter(1)
  %e = f32[8,4]{1,0} fusion(%x), kind=kLoop, calls=%f1
  %s = f32[8]{0} fusion(%e), kind=kInput, calls=%f2
  %g = f32[8,4]{1,0} fusion(%e, %s, %y), kind=kLoop, calls=%f3
  %sc = f32[8,4]{1,0} scatter(%g, %y, %s), update_window_dims={}
  ROOT %t = (f32[], f32[8,4]{1,0}) tuple(%s, %sc)
}
"""
    stats = roofline.hlo_stats(text, big=32)
    assert stats["fusions"] == 3
    assert stats["big_writes"] == 2  # %e, %g; the scatter updates %g in place
    assert stats["big_reads"] == 3  # x->e, e->s, e->g
    assert stats["in_place_updates"] == 1
    assert stats["notable"]["scatter"] == 1


def test_measure_reports_a_median_inside_its_quartiles():
    timing = measure(lambda: sum(range(100)), budget=0.01, min_samples=3)
    assert timing.samples >= 3 and timing.q1 <= timing.median <= timing.q3 and timing.spread >= 0


def test_summary_ratios_from_records():
    base = {"op": "mse", "kind": "loss", "size": "8x4", "shape": [8, 4], "dtype": "float32", "mode": "fwd",
            "elements": 32, "spread": 0.01, "compile_s": 0.1}
    records = [dict(base, impl="jaxent", median_s=2.0, value=1.0), dict(base, impl="optax", median_s=4.0, value=1.0),
               dict(base, impl="jnp", median_s=1.0, value=1.5)]
    (row,) = report.summarise(records)
    assert row["ratio_optax"] == 0.5 and row["ratio_best"] == 2.0 and row["best_baseline"] == "jnp"
    assert row["value_max_rel_diff"] == 0.5
    assert "mse" in report.text_table([row]) and "| mse |" in report.markdown_table([row])
