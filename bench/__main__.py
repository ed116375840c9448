"""``python -m bench``: time jaxent against optax, jnp and Keras 3, print a table, write JSON and a plot.

Examples::

    python -m bench --quick                      # about a minute on a 2-core CPU
    python -m bench --ops 'sparse*,softmax_ce' --sizes medium --dtype bfloat16
    python -m bench --ops 'rmsprop.*' --sizes 4M,16M
    python -m bench --sizes 8192x32000 --hlo     # explicit shape, dump optimized HLO

Every figure is the median of repeated, compiled calls (``block_until_ready``) with its
IQR/median spread; compile time is reported apart. The run also measures the memory bandwidth,
and reports each figure's GB/s (of the minimal bytes it must move) and % of that bandwidth.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from bench import Progress, environment, measure, ops, report, roofline

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="one size per op, float32, short budgets (~1 minute on a 2-core CPU)")
    p.add_argument("--ops", default=None, help="comma-separated op names or globs (see --list)")
    p.add_argument("--sizes", default=None,
                   help="comma list of size classes (toy, quick, small, medium, large; scaled by backend) "
                        "or explicit ROWSxCLASSES, NxDxV (fused CE), 4M (optimizer params). "
                        "Default small,medium,large (quick with --quick)")
    p.add_argument("--dtype", default=None, help="comma list of float32, bfloat16 (default both; float32 with --quick)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default bench/out)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timing per figure after compilation (default 1.0; 0.08 with --quick)")
    p.add_argument("--spread", type=float, default=0.05, help="stop sampling once IQR/median is below this")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="which time the table, ratios and GB/s use: wall clock (default), or this process's "
                        "CPU time, which is steadier on a loaded CPU host (CPU backend only); JSON keeps both")
    p.add_argument("--bandwidth-mb", type=float, default=None,
                   help="size of the bandwidth probe (default 256 MB on CPU, 2 GB on accelerators)")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras 3 baseline")
    p.add_argument("--no-plot", action="store_true", help="do not write results.png")
    p.add_argument("--hlo", action="store_true",
                   help="print fusion counts / full-size traffic per figure and dump optimized HLO to OUT/hlo/")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    p.add_argument("--baselines-alone", action="store_true",
                   help="also time ops whose jaxent implementation does not exist yet (baselines only)")
    p.add_argument("--list", action="store_true", help="list the ops and exit")
    args = p.parse_args(argv)
    args.sizes = args.sizes or ("quick" if args.quick else "small,medium,large")
    args.dtype = args.dtype or ("float32" if args.quick else "float32,bfloat16")
    args.budget = args.budget if args.budget is not None else (0.08 if args.quick else 1.0)
    for d in args.dtype.split(","):
        if d.strip() not in DTYPES:
            p.error(f"--dtype: unknown {d!r}; choose from {', '.join(DTYPES)}")
    return args


# ---------------------------------------------------------------------------------------------
# One figure.


def _timing_options(args) -> dict[str, Any]:
    return {"budget": args.budget, "target_spread": args.spread, "clock": args.clock,
            "max_samples": 30 if args.quick else 200, "min_sample_time": 1e-3 if args.budget < 0.5 else 3e-3}


def _compile(fn, *example, donate=()):
    t0 = time.perf_counter()
    lowered = jax.jit(fn, donate_argnums=donate).lower(*example)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    return compiled, t1 - t0, time.perf_counter() - t1


def _prepare(op: ops.Op, impl: Any, mode: str, inputs: tuple, shared: dict) -> tuple:
    """``(compiled, call, value_fn, lower_s, compile_s)`` for one figure."""
    if op.kind in ("loss", "fused"):
        fn = impl if mode == "fwd" else jax.value_and_grad(impl, argnums=op.diff_argnums)
        compiled, lower_s, compile_s = _compile(fn, *inputs)
        call = lambda: compiled(*inputs)  # noqa: E731
        value = lambda out: float(out if mode == "fwd" else out[0])  # noqa: E731
        return compiled, call, value, lower_s, compile_s
    if op.kind == "metric":
        init, update = impl
        state = init()
        compiled, lower_s, compile_s = _compile(update, state, *inputs)
        return compiled, lambda: compiled(state, *inputs), None, lower_s, compile_s
    # optimizer: chain params and state through the donated step
    params = jax.tree.map(jnp.copy, shared["params"])
    init, step = impl(params)
    state = init(params)
    compiled, lower_s, compile_s = _compile(step, params, state, shared["grads"], donate=(0, 1))
    carry = [params, state]
    first = np.asarray(jax.tree.leaves(params)[0])

    def call():
        carry[0], carry[1] = compiled(carry[0], carry[1], shared["grads"])
        return carry[0]

    def value(out):  # size of the first step on the first leaf (same params and grads for every impl)
        return float(np.sum(np.abs(np.asarray(jax.tree.leaves(out)[0], np.float64) - first)))

    return compiled, call, value, lower_s, compile_s


def _big_elements(op: ops.Op, size: ops.Size, inputs: tuple) -> int:
    """Element count of one full-size buffer, for the HLO traffic count."""
    if op.kind == "fused":
        n, _, v = size.shape
        return n * v  # any N x V buffer means the logits were materialised
    if op.kind == "optimizer":
        return 1 << 62  # not counted
    return max(int(x.size) for x in inputs)


def _min_passes(op: ops.Op, inputs: tuple, mode: str, big: int) -> int | None:
    if op.kind not in ("loss", "metric"):
        return None
    reads = sum(1 for x in inputs if x.size >= big)
    writes = sum(1 for i in op.diff_argnums if inputs[i].size >= big) if mode == "fwd+bwd" else 0
    return reads + writes


def run_figure(op, impl_name, impl, mode, size, dtype_name, inputs, shared, args, bandwidth, hlo_dir) -> dict:
    dtype = DTYPES[dtype_name]
    rec: dict[str, Any] = {
        "op": op.name, "kind": op.kind, "impl": impl_name, "mode": mode, "size": size.label,
        "shape": list(size.shape), "elements": size.elements, "dtype": dtype_name,
    }
    if op.kind == "optimizer":
        rec["elements"] = shared["count"]
        rec["size"] = ops.format_count(shared["count"]) + "p"
    try:
        compiled, call, value_fn, lower_s, compile_s = _prepare(op, impl, mode, inputs, shared)
        rec["lower_s"], rec["compile_s"] = lower_s, compile_s
        rec["memory"] = roofline.memory_stats(compiled)
        big = _big_elements(op, size, inputs)
        text = compiled.as_text() or ""
        rec["hlo"] = roofline.hlo_stats(text, big)
        rec["min_passes"] = _min_passes(op, inputs, mode, big)
        if hlo_dir is not None:
            (hlo_dir / (report.safe_name(op.name, impl_name, rec["size"], dtype_name, mode) + ".txt")).write_text(text)
        out = call()
        jax.block_until_ready(out)
        if value_fn is not None:
            rec["value"] = value_fn(out)
        timing = measure(call, **_timing_options(args))
    except Exception as error:  # a failing figure is recorded, the run goes on
        rec["error"] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:500]
        return rec
    median, q1, q3, spread = timing.on(args.clock)
    rec.update(median_s=median, q1_s=q1, q3_s=q3, spread=spread, clock=args.clock, samples=timing.samples,
               inner=timing.inner, wall_s=timing.median, wall_spread=timing.spread, cpu_s=timing.cpu_median,
               cpu_spread=timing.cpu_spread)
    nbytes = ops.min_bytes(op, size, dtype, inputs, mode, shared.get("params"))
    rec["min_bytes"] = nbytes
    rec["gbps"] = nbytes / median / 1e9
    rec["roofline_pct"] = 100 * rec["gbps"] / bandwidth["peak_gbps"] if bandwidth else None
    flops = ops.flops(op, size, mode)
    if flops:
        rec["flops"] = flops
        rec["gflops"] = flops / median / 1e9
    if op.ce and jax.default_backend() == "cpu" and size.kind in ("clf", "lm"):
        rec["exp_pass_s"] = roofline.exp_pass(size.shape, dtype, budget=min(args.budget, 0.5), clock=args.clock)
        rec["exp_ratio"] = median / rec["exp_pass_s"]
    return rec


# ---------------------------------------------------------------------------------------------
# The run.


def _plan(selected, sizes, dtypes, baselines_alone=False):
    """``[(op, impls, skipped, [(size, dtype)])]`` and the number of figures.

    An op whose jaxent implementation is missing (a module not written yet) is skipped whole,
    unless ``baselines_alone``.
    """
    plan, total = [], 0
    for op in selected:
        impls, skipped = op.impls()
        if "jaxent" not in impls and not baselines_alone:
            plan.append((op, {}, skipped, []))
            continue
        pairs = [(size, d) for kind in op.size_kinds for size in sizes[kind] for d in dtypes
                 if op.dtypes is None or d in op.dtypes]
        plan.append((op, impls, skipped, pairs))
        total += len(pairs) * len(impls) * len(op.modes)
    return plan, total


def _inputs_for(op, size, dtype_name):
    dtype = DTYPES[dtype_name]
    if op.kind == "optimizer":
        params = ops.make_params(size.shape[0])
        leaves, treedef = jax.tree.flatten(params)
        keys = jax.random.split(jax.random.key(12), len(leaves))
        grads = jax.tree.unflatten(treedef, [1e-3 * jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)])
        return (), {"params": params, "grads": grads, "count": ops.param_count(params)}
    return op.make_inputs(size, dtype), {}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the selected figures; write results.json (and results.png); return the result dict."""
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
    selected = ops.select_ops(args.ops)
    sizes = ops.parse_sizes(args.sizes)
    dtypes = [d.strip() for d in args.dtype.split(",") if d.strip()]
    plan, total = _plan(selected, sizes, dtypes, args.baselines_alone)
    progress = Progress(total + 1, enabled=not args.no_progress)
    started = time.perf_counter()
    env = environment()  # the load average as the run starts; the end's is added below

    progress.update("measuring memory bandwidth")
    bw_bytes = int((args.bandwidth_mb or (256 if jax.default_backend() == "cpu" else 2048)) * 2**20)
    if set(args.sizes.split(",")) <= {"toy"} and args.bandwidth_mb is None:
        bw_bytes = 16 * 2**20
    bandwidth = roofline.bandwidth(bw_bytes, budget=max(args.budget, 0.2), clock=args.clock)
    matmul = None
    fused_sizes = [s for op, _, _, pairs in plan if op.kind == "fused" for s, _ in pairs]
    if fused_sizes:
        n, d, v = max(fused_sizes, key=lambda s: s.elements).shape
        matmul = roofline.matmul_rate(n, d, v, jnp.float32, budget=max(args.budget, 0.2), clock=args.clock)
    progress.update("bandwidth done", 1)

    records, skipped = [], []
    for op, impls, why, pairs in plan:
        for impl_name, reason in why.items():
            skipped.append({"op": op.name, "impl": impl_name, "reason": reason})
        if not pairs:
            continue
        for size, dtype_name in pairs:
            try:
                inputs, shared = _inputs_for(op, size, dtype_name)
            except Exception as error:
                for impl_name in impls:
                    for mode in op.modes:
                        records.append({"op": op.name, "kind": op.kind, "impl": impl_name, "mode": mode,
                                        "size": size.label, "shape": list(size.shape), "elements": size.elements,
                                        "dtype": dtype_name, "error": f"inputs: {type(error).__name__}: {error}"[:500]})
                        progress.update(f"{op.name} {size.label}: input error", 1)
                continue
            for impl_name, impl in impls.items():
                for mode in op.modes:
                    progress.update(f"{op.name} {impl_name} {size.label} {dtype_name} {mode}")
                    rec = run_figure(op, impl_name, impl, mode, size, dtype_name, inputs, shared, args,
                                     bandwidth, hlo_dir)
                    records.append(rec)
                    progress.update(f"{op.name} {impl_name} {size.label} {dtype_name} {mode} "
                                    f"{report.fmt_time(rec.get('median_s')) if 'error' not in rec else 'ERROR'}", 1)
            del inputs, shared
    progress.close()

    summary = report.summarise(records)
    env["load_average_end"] = environment()["load_average"]
    result = {
        "env": env,
        "config": {"ops": [op.name for op in selected], "sizes": args.sizes, "dtypes": dtypes,
                   "budget_s": args.budget, "target_spread": args.spread, "quick": args.quick, "clock": args.clock,
                   "keras": not args.no_keras, "wall_s": time.perf_counter() - started,
                   "ratio_convention": "jaxent time / baseline time (> 1: jaxent slower)"},
        "bandwidth": bandwidth,
        "matmul": matmul,
        "skipped": skipped,
        "results": records,
        "summary": summary,
    }
    report.write_json(result, args.out / "results.json")
    (args.out / "results.md").write_text(report.markdown_table(summary) + "\n")
    if not args.no_plot:
        title = f"jaxent bench: {env['device_kind']} ({env['backend']}), jax {env['jax']}, {env['date'][:10]}"
        ylabel = "seconds" if args.clock == "wall" else "CPU seconds (process)"
        why = report.plot(records, args.out / "results.png", title, ylabel)
        result["plot"] = why or str(args.out / "results.png")
        if why:
            print(f"note: no plot: {why}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for op in ops.all_ops():
            print(f"{op.name:36} {op.kind:9} {op.doc}")
        return 0
    result = run(args)
    env, bw = result["env"], result["bandwidth"]
    print(f"# {env['device_kind']} x{env['device_count']} ({env['backend']}), {env['cpu_model']}, "
          f"{env['cpu_count']} CPUs, load {env['load_average']}, jax {env['jax']}, optax {env['optax']}, {env['date']}")
    print(f"# bandwidth: in-place scale {bw['scale_inplace_gbps']:.3g} GB/s, sum {bw['sum_gbps']:.3g} GB/s "
          f"(roofline uses {bw['peak_gbps']:.3g})"
          + (f"; matmul {result['matmul']['gflops']:.3g} GFLOP/s" if result["matmul"] else ""))
    print(f"# times: {'wall clock' if args.clock == 'wall' else 'process CPU seconds (all threads)'}; "
          "ratios: jaxent time / baseline time (> 1: jaxent slower); ±IQR/median; passes: full-size "
          "buffers read+written in jaxent's optimized HLO / the minimum")
    print()
    print(report.text_table(result["summary"]))
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
    print(f"\nwrote {args.out / 'results.json'}" + (f", {result['plot']}" if result.get("plot", "").endswith(".png") else "")
          + f" in {result['config']['wall_s']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
