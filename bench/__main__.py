"""``python -m bench``: time jaxent against its peers, family by family; ratios, tables, JSON and figures.

Examples::

    python -m bench --quick                       # about a minute on a 2-core CPU
    python -m bench --ops 'sparse*,softmax_ce' --sizes medium --dtype bfloat16
    python -m bench --ops 'rmsprop.*' --sizes 4M,16M
    python -m bench --ops dispatch,train_step     # the dispatch families alone
    python -m bench --ops 'linear_sparse_softmax_ce*' --sizes 2048x512x32768 --clock cpu
    python -m bench --sizes 8192x32000 --hlo      # explicit shape, dump optimized HLO

For each op, size, dtype and mode, the implementations are compiled, then timed interleaved,
round after round (``block_until_ready``); every figure is the median with its IQR/median
spread, and jaxent's ratio to each peer is the median of the per-round ratios. Compile time
and compiled memory are reported apart. The run also measures the memory bandwidth and
reports each figure's GB/s (of the minimal bytes it must move) and % of that bandwidth.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import jax

from bench import report, roofline
from bench.timing import Progress, environment, measure_group
from bench.core import DTYPES, SIZE_CLASSES, Family, Op, Size, UsageError
from bench.families import BY_NAME, FAMILIES, select_ops

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
# Families whose figures are compared with the measured memory bandwidth.
ROOFLINE_FAMILIES = {"losses", "metrics", "optimizers", "fused"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="the quick size class, float32, short budgets (about a minute on a 2-core CPU)")
    p.add_argument("--ops", default=None,
                   help="comma-separated op names or globs, family names, or 'all' (see --list); default: "
                        "every op but those that run only when named")
    p.add_argument("--sizes", default=None,
                   help=f"comma list of size classes ({', '.join(SIZE_CLASSES)}; each family scales them by "
                        "backend) or explicit shapes: ROWSxCLASSES (losses, metrics; BATCHxWIDTH for train_step), "
                        "NxDxV (fused), 4M (optimizer params). Default small,medium,large (quick with --quick)")
    p.add_argument("--dtype", default=None, help="comma list of float32, bfloat16 (default both; float32 with --quick)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default bench/out)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timing per implementation of a figure after compilation "
                        "(default 1.0; 0.08 with --quick)")
    p.add_argument("--spread", type=float, default=0.05, help="stop sampling once every IQR/median is below this")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="which time the tables, ratios and GB/s use: wall clock (default), or this process's "
                        "CPU time, which is steadier on a loaded CPU host (CPU backend only); JSON keeps both")
    p.add_argument("--bandwidth-mb", type=float, default=None,
                   help="size of the bandwidth probe (default 256 MB on CPU, 2 GB on accelerators)")
    p.add_argument("--max-time", type=float, default=None,
                   help="seconds after which no new figure starts; the rest is listed as skipped and what was "
                        "measured is written as usual (for a device lent for a fixed time)")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras 3 peer")
    p.add_argument("--no-plot", action="store_true", help="do not write the figures")
    p.add_argument("--hlo", action="store_true",
                   help="print fusion counts / full-size traffic per figure and dump optimized HLO to OUT/hlo/")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    p.add_argument("--list", action="store_true", help="list the families and ops and exit")
    args = p.parse_args(argv)
    args.sizes = args.sizes or ("quick" if args.quick else "small,medium,large")
    args.dtype = args.dtype or ("float32" if args.quick else "float32,bfloat16")
    args.budget = args.budget if args.budget is not None else (0.08 if args.quick else 1.0)
    for d in args.dtype.split(","):
        if d.strip() not in DTYPES:
            p.error(f"--dtype: unknown {d!r}; choose from {', '.join(DTYPES)}")
    return args


def _timing_options(args) -> dict[str, Any]:
    return {"budget": args.budget, "target_spread": args.spread, "clock": args.clock,
            "max_samples": 30 if args.quick else 200, "min_sample_time": 1e-3 if args.budget < 0.5 else 3e-3}


# ---------------------------------------------------------------------------------------------
# The plan.


def plan_run(selected: list[Op], size_tokens: list[str], dtypes: list[str]):
    """``[(family, op, impls, skipped, [(size, dtype)])]`` and the number of figures.

    Raises UsageError for an explicit size that no selected family reads.
    """
    sizes = {f.name: f.sizes(size_tokens) for f in FAMILIES}
    used = {op.family for op in selected}
    for token in size_tokens:
        if token not in SIZE_CLASSES and not any(BY_NAME[f].parse_token(token) for f in used):
            raise UsageError(f"--sizes: no selected family reads {token!r}; use size classes {list(SIZE_CLASSES)}, "
                             "ROWSxCLASSES, NxDxV or a parameter count such as 4M")
    plan, total = [], 0
    for op in selected:
        family = BY_NAME[op.family]
        impls, skipped = op.impls()
        pairs = [(size, d) for size in sizes[op.family] if size.group in op.groups
                 for d in dtypes if op.dtypes is None or d in op.dtypes]
        plan.append((family, op, impls, skipped, pairs))
        total += len(pairs) * len(impls) * len(op.modes)
    return plan, total


# ---------------------------------------------------------------------------------------------
# One group of figures: every implementation of one op at one size, dtype and mode.


def _base(op: Op, size: Size, dtype: str, mode: str) -> dict[str, Any]:
    return {"op": op.name, "family": op.family, "mode": mode, "size": size.label, "shape": list(size.shape),
            "elements": size.elements, "dtype": dtype}


def _error(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:500]


def run_group(family: Family, op: Op, impls: dict[str, Any], mode: str, size: Size, dtype: str, inputs: Any,
              args, bandwidth: dict | None, hlo_dir: Path | None) -> list[dict[str, Any]]:
    """Prepare every implementation, time them interleaved, and return one record per implementation."""
    records: dict[str, dict[str, Any]] = {}
    prepared = {}
    big = family.big_elements(op, size, inputs)
    for impl, obj in impls.items():
        rec = records[impl] = dict(_base(op, size, dtype, mode), impl=impl)
        try:
            ready = family.prepare(op, impl, obj, mode, inputs)
            rec["lower_s"], rec["compile_s"] = ready.lower_s, ready.compile_s
            if ready.compiled is not None:
                rec["memory"] = roofline.memory_stats(ready.compiled)
                text = ready.compiled.as_text() or ""
                # fusions and notable ops always; full-size traffic where the family defines a full size
                rec["hlo"] = roofline.hlo_stats(text, big if big is not None else 1 << 62)
                if big is not None:
                    rec["min_passes"] = family.min_passes(op, inputs, mode, big)
                if hlo_dir is not None:
                    (hlo_dir / (report.safe_name(op.name, impl, size.label, dtype, mode) + ".txt")).write_text(text)
            out = jax.block_until_ready(ready.call())
            if ready.value is not None:
                rec["value"] = ready.value(out)
            prepared[impl] = ready
        except Exception as error:  # a failing figure is recorded, the run goes on
            rec["error"] = _error(error)
    if not prepared:
        return list(records.values())
    try:
        group = measure_group({impl: p.call for impl, p in prepared.items()}, **_timing_options(args))
    except Exception as error:
        for impl in prepared:
            records[impl]["error"] = "timing: " + _error(error)
        return list(records.values())
    nbytes = family.min_bytes(op, size, inputs, mode)
    flops = family.flops(op, size, mode)
    for impl in prepared:
        t = group.timing(impl)
        median, q1, q3, spread = t.on(args.clock)
        rec = records[impl]
        rec.update(median_s=median, q1_s=q1, q3_s=q3, spread=spread, clock=args.clock, samples=t.samples,
                   inner=t.inner, wall_s=t.median, wall_spread=t.spread, cpu_s=t.cpu_median, cpu_spread=t.cpu_spread)
        if nbytes:
            rec["min_bytes"] = nbytes
            rec["gbps"] = nbytes / median / 1e9
            rec["roofline_pct"] = 100 * rec["gbps"] / bandwidth["peak_gbps"] if bandwidth else None
        if flops:
            rec["flops"] = flops
            rec["gflops"] = flops / median / 1e9
    if "jaxent" in prepared:
        jx = records["jaxent"]
        jx["ratios"] = {peer: {clock: list(group.ratio("jaxent", peer, clock)) for clock in ("wall", "cpu")}
                        for peer in prepared if peer != "jaxent"}
        jx.update(family.extras(op, size, DTYPES[dtype], jx["median_s"], args.budget, args.clock))
    return list(records.values())


# ---------------------------------------------------------------------------------------------
# The run.


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected figures; write results.json, results.md and the figures; return the result dict."""
    if args.no_keras:
        os.environ["JAXENT_BENCH_NO_KERAS"] = "1"
    if args.clock == "cpu" and jax.default_backend() != "cpu":
        print(f"warning: --clock cpu times the host, not the {jax.default_backend()} device; use wall",
              file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    hlo_dir = None
    if args.hlo:
        hlo_dir = args.out / "hlo"
        hlo_dir.mkdir(exist_ok=True)
    selected = select_ops(args.ops)
    tokens = [t.strip() for t in args.sizes.split(",") if t.strip()]
    dtypes = [d.strip() for d in args.dtype.split(",") if d.strip()]
    plan, total = plan_run(selected, tokens, dtypes)
    progress = Progress(total + 1, enabled=not args.no_progress)
    started = time.perf_counter()
    env = environment()  # the load average as the run starts; the end's is added below

    bandwidth = None
    if any(pairs and family.name in ROOFLINE_FAMILIES for family, _, _, _, pairs in plan):
        progress.update("measuring memory bandwidth")
        bw_bytes = int((args.bandwidth_mb or (256 if jax.default_backend() == "cpu" else 2048)) * 2**20)
        if set(tokens) <= {"toy"} and args.bandwidth_mb is None:
            bw_bytes = 16 * 2**20
        bandwidth = roofline.bandwidth(bw_bytes, budget=max(args.budget, 0.2), clock=args.clock)
    contexts = {}
    for family in FAMILIES:
        sizes = [s for f, _, _, _, pairs in plan if f is family for s, _ in pairs]
        context = family.context(sizes, args.budget, args.clock) if sizes else None
        if context:
            contexts[family.name] = context
    progress.update("bandwidth done", 1)

    records, skipped = [], []
    for family, op, impls, why, pairs in plan:
        for impl, reason in why.items():
            skipped.append({"op": op.name, "impl": impl, "reason": reason})
        for size, dtype in pairs:
            if args.max_time is not None and time.perf_counter() - started > args.max_time:
                skipped += [{"op": op.name, "impl": impl, "reason": f"--max-time {args.max_time:g}s reached",
                             "size": size.label, "dtype": dtype} for impl in impls]
                progress.update(f"{op.name} {size.label}: time limit", len(impls) * len(op.modes))
                continue
            try:
                inputs = op.make_inputs(size, DTYPES[dtype])
            except Exception as error:
                for impl in impls:
                    for mode in op.modes:
                        records.append(dict(_base(op, size, dtype, mode), impl=impl, error=f"inputs: {_error(error)}"))
                        progress.update(f"{op.name} {size.label}: input error", 1)
                continue
            for mode in op.modes:
                progress.update(f"{op.name} {size.label} {dtype} {mode}")
                group = run_group(family, op, impls, mode, size, dtype, inputs, args, bandwidth, hlo_dir)
                records += group
                jx = next((r for r in group if r["impl"] == "jaxent"), {})
                progress.update(f"{op.name} {size.label} {dtype} {mode} "
                                f"{report.fmt_time(jx.get('median_s')) if 'error' not in jx else 'ERROR'}", len(group))
            del inputs
    progress.close()

    summary = report.summarise(records, args.clock)
    env["load_average_end"] = environment()["load_average"]
    titles = {f.name: f.title for f in FAMILIES}
    result = {
        "env": env,
        "config": {"ops": [op.name for op in selected], "sizes": args.sizes, "dtypes": dtypes,
                   "budget_s": args.budget, "target_spread": args.spread, "quick": args.quick, "clock": args.clock,
                   "keras": not args.no_keras, "wall_s": time.perf_counter() - started,
                   "ratio_convention": "jaxent time / fastest peer's time, median of interleaved rounds "
                                       "(< 1: jaxent faster)"},
        "bandwidth": bandwidth,
        "context": contexts,
        "skipped": skipped,
        "results": records,
        "summary": summary,
    }
    report.write_json(result, args.out / "results.json")
    (args.out / "results.md").write_text(
        "### jaxent / fastest peer, largest size of each op\n\n" + report.markdown_headline(summary, titles)
        + "\n\n### Every figure\n\n" + report.markdown_table(summary, titles) + "\n")
    if not args.no_plot:
        title = (f"jaxent bench: {env['device_kind']} ({env['backend']}), jax {env['jax']}, {env['date'][:10]}, "
                 f"{'wall' if args.clock == 'wall' else 'CPU'} clock")
        targets = {f.name: f.target for f in FAMILIES if f.target}
        why = report.plot_ratios(summary, args.out / "results.png", title, titles, targets)
        xlabel = "seconds" if args.clock == "wall" else "CPU seconds (process)"
        why = why or report.plot_times(summary, args.out / "results_times.png", title, xlabel, titles)
        result["plot"] = why or str(args.out / "results.png")
        if why:
            print(f"note: no figures: {why}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for family in FAMILIES:
            print(f"{family.name}: {family.title}")
            for op in family.ops():
                print(f"  {op.name:46} {'' if op.default else '(only when named) '}{op.doc}")
        return 0
    try:
        result = run(args)
    except UsageError as error:
        print(f"python -m bench: error: {error}", file=sys.stderr)
        return 2
    env, bw = result["env"], result["bandwidth"]
    print(f"# {env['device_kind']} x{env['device_count']} ({env['backend']}), {env['cpu_model']}, "
          f"{env['cpu_count']} CPUs, load {env['load_average']}, jax {env['jax']}, optax {env['optax']}, {env['date']}")
    if bw:
        matmul = result["context"].get("fused", {}).get("matmul")
        print(f"# bandwidth: in-place scale {bw['scale_inplace_gbps']:.3g} GB/s, sum {bw['sum_gbps']:.3g} GB/s "
              f"(roofline uses {bw['peak_gbps']:.3g})" + (f"; matmul {matmul['gflops']:.3g} GFLOP/s" if matmul else ""))
    print(f"# times: {'wall clock' if args.clock == 'wall' else 'process CPU seconds (all threads)'}; "
          "jaxent/peer: jaxent time / fastest peer's time, median (IQR) of interleaved rounds, < 1: jaxent "
          "faster; ±IQR/median; passes: full-size buffers read+written in jaxent's optimized HLO / the minimum")
    print()
    print(report.text_table(result["summary"], {f.name: f.title for f in FAMILIES}))
    if result["skipped"]:
        print("\nskipped:")
        for reason in sorted({(s["impl"], s["reason"]) for s in result["skipped"]}):
            ops_ = sorted({s["op"] for s in result["skipped"] if (s["impl"], s["reason"]) == reason})
            print(f"  {reason[0]}: {reason[1]} ({len(ops_)} ops)")
    errors = [r for r in result["results"] if r.get("error")]
    if errors:
        print(f"\n{len(errors)} figures failed:")
        for r in errors[:20]:
            print(f"  {r['op']} {r['impl']} {r['size']} {r['dtype']} {r['mode']}: {r['error']}")
    if args.hlo:
        print()
        print(report.hlo_table(result["results"]))
    print(f"\nwrote {args.out / 'results.json'}, results.md"
          + (", results.png, results_times.png" if result.get("plot", "").endswith(".png") else "")
          + f" in {result['config']['wall_s']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
