"""The benchmark harness runs end to end at toy sizes and writes what it promises; no timing assertions."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import jaxent
from bench import report, roofline
from bench.timing import GroupTiming, measure, measure_group
from bench.core import Size
from bench.families import BY_NAME, FAMILIES, select_ops
from bench.families import dispatch as dispatch_family
from bench.families import optimizers as optimizers_family

ROOT = Path(__file__).resolve().parents[1]

# One op of every family and code path: sparse labels, dense labels, a Loss class with
# sample_weight, two metrics, the donated optimizer step with clipping, the fused CE, the train
# step, and the dispatch of a function and of a metric method.
TOY_OPS = ("sparse_softmax_ce", "categorical_ce", "SparseCategoricalCrossentropy(sw)", "metric.Mean",
           "metric.SparseCategoricalCrossentropy", "rmsprop.global_clipnorm", "linear_sparse_softmax_ce",
           "train_step.mlp_sparse_ce", "dispatch.nn.sparse_softmax_cross_entropy_with_logits",
           "dispatch.metrics.Mean.update")


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "toy", "--dtype", "float32", "--budget", "0.005",
         "--ops", ",".join(TOY_OPS), "--out", str(out), "--no-progress", "--hlo"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout, json.loads((out / "results.json").read_text())


def test_every_op_has_a_jaxent_figure_in_every_mode(toy_run):
    _, _, result = toy_run
    records = result["results"]
    errors = [(r["op"], r["impl"], r["mode"], r["error"]) for r in records if r.get("error")]
    assert not errors
    ops = {op.name: op for op in select_ops(",".join(TOY_OPS))}
    # an op counts only when jaxent itself was timed (not when jaxent was skipped and only peers ran)
    timed = {(r["op"], r["mode"]) for r in records if r["impl"] == "jaxent" and r.get("median_s", 0) > 0}
    assert timed == {(name, mode) for name, op in ops.items() for mode in op.modes}
    assert not [s for s in result["skipped"] if s["impl"] == "jaxent"]


def test_toy_run_writes_json_with_environment_and_sane_figures(toy_run):
    _, _, result = toy_run
    assert {"env", "config", "bandwidth", "results", "summary", "skipped"} <= set(result)
    for key in ("jax", "jaxlib", "optax", "device_kind", "device_count", "backend", "date", "cpu_count", "cpu_model"):
        assert result["env"][key] not in (None, ""), key
    assert result["bandwidth"]["peak_gbps"] > 0
    for r in result["results"]:
        assert r["median_s"] > 0 and r["q1_s"] <= r["median_s"] <= r["q3_s"], r
        assert r["compile_s"] >= 0
        if r["family"] in ("losses", "metrics", "optimizers", "fused"):
            assert r["min_bytes"] > 0 and r["gbps"] > 0 and r["hlo"]["fusions"] >= 0


def test_ratio_is_the_paired_median_against_the_fastest_peer(toy_run):
    out, stdout, result = toy_run
    records = {(r["op"], r["size"], r["mode"], r["impl"]): r for r in result["results"]}
    for row in result["summary"]:
        peers = {impl: t for impl, t in row["times"].items() if impl != "jaxent"}
        assert row["peer"] == min(peers, key=peers.get)
        paired = records[(row["op"], row["size"], row["mode"], "jaxent")]["ratios"][row["peer"]]["wall"]
        assert (row["ratio_q1"], row["ratio"], row["ratio_q3"]) == pytest.approx((paired[1], paired[0], paired[2]))
        assert row["ratio_q1"] <= row["ratio"] <= row["ratio_q3"]
    rows = {(r["op"], r["mode"]): r for r in result["summary"]}  # the last size of each
    assert rows[("sparse_softmax_ce", "fwd+bwd")]["value_max_rel_diff"] < 1e-4  # the peers compute the same loss
    assert rows[("train_step.mlp_sparse_ce", "step")]["value_max_rel_diff"] < 1e-5
    assert rows[("dispatch.metrics.Mean.update", "call")]["value_max_rel_diff"] < 1e-5
    assert "jaxent/peer" in stdout and "sparse_softmax_ce" in stdout
    markdown = (out / "results.md").read_text()
    assert "jaxent / fastest peer" in markdown and markdown.count("|") > 50
    assert list((out / "hlo").glob("sparse_softmax_ce__jaxent__*.txt"))


def test_toy_run_writes_the_ratio_and_the_times_figures(toy_run):
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    out, _, _ = toy_run
    for name in ("results.png", "results_times.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_each_family_reads_its_own_explicit_sizes():
    tokens = ["toy", "1024x100", "2048x512x32768", "4M"]
    losses = BY_NAME["losses"].sizes(tokens, "cpu")
    assert Size("losses", "clf", (1024, 100), "", 0) in losses and Size("losses", "lm", (32, 512), "", 0) in losses
    assert [s.shape for s in BY_NAME["fused"].sizes(tokens, "cpu")] == [(64, 32, 512), (2048, 512, 32768)]
    optimizer = BY_NAME["optimizers"].sizes(tokens, "cpu")
    assert [s.shape for s in optimizer] == [(20_000,), (4_000_000,)]
    # labelled by the parameters the pytree really has, close to the count asked for
    assert 0.9 * 4e6 < optimizer[1].elements < 1.1 * 4e6 and optimizer[1].label == f"{optimizer[1].elements / 1e6:.3g}Mp"
    assert [s.shape for s in BY_NAME["train_step"].sizes(["quick"], "cpu")] == [(32, 10), (256, 100)]
    assert BY_NAME["dispatch"].sizes(["1024x100"], "cpu") == []  # always the tiny size


def test_accelerator_presets_are_at_least_the_cpu_ones():
    for family in FAMILIES:
        for name in ("small", "medium", "large"):
            cpu = [s.elements for s in family.sizes([name], "cpu")]
            acc = [s.elements for s in family.sizes([name], "accelerator")]
            assert max(acc, default=0) >= max(cpu, default=0), (family.name, name)


def test_ops_select_by_glob_family_or_all_and_reject_unknown_names():
    assert {op.name for op in select_ops("rmsprop.*")} == {f"rmsprop.{c.name}" for c in optimizers_family.CONFIGS}
    assert [op.name for op in select_ops("mse")] == ["mse"]
    default = {op.name for op in select_ops(None)}
    assert "linear_sparse_softmax_ce" in default and "linear_sparse_softmax_ce.blocks" not in default
    assert "linear_sparse_softmax_ce.blocks" in {op.name for op in select_ops("all")}
    assert {op.family for op in select_ops("train_step")} == {"train_step"}
    with pytest.raises(ValueError, match="matches no op"):
        select_ops("no_such_op")


def test_op_names_are_unique_and_every_op_belongs_to_its_family():
    names = [op.name for family in FAMILIES for op in family.ops()]
    assert len(names) == len(set(names))
    for family in FAMILIES:
        assert {op.family for op in family.ops()} == {family.name}


def test_dispatch_table_covers_every_public_callable():
    entries = {e.name for e in dispatch_family.ENTRIES}
    public = {f"{m}.{name}": getattr(getattr(jaxent, m), name)
              for m in ("utils", "nn", "backend", "losses", "metrics", "optimizers")
              for name in getattr(jaxent, m).__all__}
    for qualified, obj in public.items():
        if qualified in dispatch_family.NOT_DISPATCHED:
            continue
        # aliases (losses.mse) and re-exports (metrics.mean_squared_error) share one entry
        names = [q for q, other in public.items() if other is obj]
        covered = [q for q in names for suffix in ("", ".update") if q + suffix in entries]
        assert covered, f"no dispatch entry for jaxent.{qualified}: add one to bench/families/dispatch.py"
    for name in ("Mean", "Accuracy", "BinaryAccuracy", "CategoricalCrossentropy"):  # a metric: three methods
        assert {f"metrics.{name}.{m}" for m in ("update", "result", "merge")} <= entries


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


def test_measure_group_takes_one_sample_of_each_call_per_round():
    calls = {"a": lambda: sum(range(50)), "b": lambda: sum(range(100))}
    group = measure_group(calls, budget=0.05, min_samples=4, max_samples=6, min_sample_time=1e-4)
    assert 4 <= group.rounds <= 6
    assert len(group.wall["a"]) == len(group.wall["b"]) == len(group.cpu["a"]) == group.rounds
    timing = group.timing("a")
    assert timing.samples == group.rounds and timing.q1 <= timing.median <= timing.q3
    single = measure(lambda: sum(range(100)), budget=0.05, min_samples=3, min_sample_time=1e-4)
    assert single.samples >= 3 and single.spread >= 0


def test_paired_ratio_is_taken_round_by_round():
    # a slow drift that hits both calls alike cancels in the per-round ratio
    group = GroupTiming(wall={"a": [1.0, 2.0, 4.0, 8.0], "b": [2.0, 4.0, 8.0, 16.0]},
                        cpu={"a": [1.0] * 4, "b": [1.0] * 4}, inner={"a": 1, "b": 1}, total=1.0)
    assert group.ratio("a", "b", "wall") == (0.5, 0.5, 0.5)
    assert group.ratio("a", "b", "cpu") == (1.0, 1.0, 1.0)


def _record(impl, median, **extra):
    base = {"op": "mse", "family": "losses", "size": "8x4", "shape": [8, 4], "dtype": "float32", "mode": "fwd",
            "elements": 32, "spread": 0.01, "compile_s": 0.1}
    return dict(base, impl=impl, median_s=median, **extra)


def test_summary_takes_the_fastest_peer_and_its_paired_ratio():
    records = [_record("jaxent", 2.0, value=1.0, ratios={"optax": {"wall": [0.4, 0.3, 0.6]},
                                                          "jnp": {"wall": [1.9, 1.8, 2.1]}}),
               _record("optax", 4.0, value=1.0), _record("jnp", 1.0, value=1.5)]
    (row,) = report.summarise(records)
    assert row["peer"] == "jnp" and (row["ratio"], row["ratio_q1"], row["ratio_q3"]) == (1.9, 1.8, 2.1)
    assert row["ratio_optax"] == 0.4
    assert row["value_max_rel_diff"] == 0.5
    # without interleaved rounds (an old JSON), the ratio of the medians
    (plain,) = report.summarise([_record("jaxent", 2.0), _record("optax", 4.0)])
    assert plain["ratio"] == plain["ratio_q1"] == 0.5
    assert "mse" in report.text_table([row]) and "| mse |" in report.markdown_table([row])
    assert "**1.90 (1.80-2.10)**" in report.markdown_headline([row])


def test_headline_keeps_the_largest_size_and_the_range_over_sizes():
    small = dict(report.summarise([_record("jaxent", 1.0), _record("optax", 2.0)])[0])
    large = dict(small, size="64x4", elements=256, ratio=1.5, ratio_q1=1.4, ratio_q3=1.6)
    (row,) = report.headline([large, small])
    assert row["size"] == "64x4" and (row["ratio_min"], row["ratio_max"], row["sizes"]) == (0.5, 1.5, 2)


def test_ratio_figure_is_written_from_summary_rows(tmp_path):
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    rows = report.summarise([_record("jaxent", 1.0), _record("optax", 40.0)])  # beyond the axis: an arrow
    rows += report.summarise([dict(_record("jaxent", 3.0), op="x", family="dispatch", mode="call"),
                              dict(_record("jnp", 1.0), op="x", family="dispatch", mode="call")])
    assert report.plot_ratios(rows, tmp_path / "r.png", "t", {"losses": "L", "dispatch": "D"}, {"dispatch": 1.1}) is None
    assert report.plot_times(rows, tmp_path / "t.png", "t") is None
    assert (tmp_path / "r.png").stat().st_size > 1000 and (tmp_path / "t.png").stat().st_size > 1000
