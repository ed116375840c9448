"""Summaries of a run: ratios per figure, the text and markdown tables, the JSON and the plot."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

BASELINES = ("optax", "jnp", "keras", "jaxent_materialised")
IMPL_ORDER = ("jaxent", "optax", "jnp", "keras", "jaxent_materialised")
KIND_TITLES = {
    "loss": "Losses (objective = mean of the per-sample losses; fwd+bwd = value_and_grad w.r.t. the prediction)",
    "metric": "Metrics (one update of the state)",
    "optimizer": "RMSprop (one step, params and state donated)",
    "fused": "Fused linear + sparse softmax CE (grad w.r.t. features and kernel)",
}


def _impl_key(impl: str) -> int:
    return IMPL_ORDER.index(impl) if impl in IMPL_ORDER else len(IMPL_ORDER)


def summarise(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (op, size, dtype, mode): every implementation's time and jaxent's ratios.

    ``ratio_optax`` = jaxent / optax and ``ratio_best`` = jaxent / the fastest baseline (> 1:
    jaxent is slower). ``value_max_rel_diff`` is the largest relative difference between a
    baseline's objective and jaxent's (a check that the baselines compute the same thing).
    """
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["op"], r["size"], r["dtype"], r["mode"])].append(r)
    rows = []
    for (op, size, dtype, mode), recs in groups.items():
        ok = {r["impl"]: r for r in recs if r.get("median_s") is not None}
        times = {impl: r["median_s"] for impl, r in ok.items()}
        baselines = {impl: t for impl, t in times.items() if impl != "jaxent"}
        best = min(baselines, key=baselines.get) if baselines else None
        jx = ok.get("jaxent")
        row = {
            "op": op, "kind": recs[0]["kind"], "size": size, "shape": recs[0]["shape"], "dtype": dtype, "mode": mode,
            "elements": recs[0]["elements"],
            "times": times,
            "spreads": {impl: r["spread"] for impl, r in ok.items()},
            "compile_s": {impl: r["compile_s"] for impl, r in ok.items()},
            "temp_bytes": {impl: (r.get("memory") or {}).get("temp_bytes") for impl, r in ok.items()},
            "errors": {r["impl"]: r["error"] for r in recs if r.get("error")},
            "jaxent_s": jx["median_s"] if jx else None,
            "jaxent_spread": jx["spread"] if jx else None,
            "optax_s": times.get("optax"),
            "best_baseline": best,
            "best_s": baselines.get(best) if best else None,
            "ratio_optax": jx["median_s"] / times["optax"] if jx and "optax" in times else None,
            "ratio_best": jx["median_s"] / baselines[best] if jx and best else None,
            "gbps": jx.get("gbps") if jx else None,
            "roofline_pct": jx.get("roofline_pct") if jx else None,
            "gflops": jx.get("gflops") if jx else None,
            "exp_ratio": jx.get("exp_ratio") if jx else None,
            "passes": (jx["hlo"]["big_reads"] + jx["hlo"]["big_writes"]) if jx and jx.get("hlo") else None,
            "min_passes": recs[0].get("min_passes"),
            "fusions": {impl: r["hlo"]["fusions"] for impl, r in ok.items() if r.get("hlo")},
        }
        values = {impl: r.get("value") for impl, r in ok.items() if r.get("value") is not None}
        if "jaxent" in values and len(values) > 1:
            ref = values["jaxent"]
            row["value_max_rel_diff"] = max(
                abs(v - ref) / max(abs(ref), 1e-30) for impl, v in values.items() if impl != "jaxent")
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Formatting.


def fmt_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g}{unit}"
    return f"{seconds * 1e9:.3g}ns"


def _f(x: float | None, spec: str, suffix: str = "") -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:{spec}}{suffix}"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _columns(rows: Sequence[dict]) -> tuple[list[str], list[tuple[str, callable]]]:
    impls = sorted({impl for r in rows for impl in r["times"]} | {"jaxent"}, key=_impl_key)
    cols: list[tuple[str, Any]] = [
        ("op", lambda r: r["op"]),
        ("size", lambda r: r["size"]),
        ("dtype", lambda r: r["dtype"].replace("float", "f").replace("bfloat", "bf")),
        ("mode", lambda r: r["mode"]),
    ]
    for impl in impls:
        short = {"jaxent_materialised": "materialised"}.get(impl, impl)
        if impl == "jaxent":
            cols.append(("jaxent ±IQR", lambda r: (
                fmt_time(r["jaxent_s"]) + (f" ±{r['jaxent_spread'] * 100:.0f}%" if r["jaxent_spread"] is not None else "")
                if r["jaxent_s"] is not None else ("ERR" if "jaxent" in r["errors"] else "-"))))
        else:
            cols.append((short, lambda r, impl=impl: fmt_time(r["times"].get(impl)) if impl in r["times"]
                         else ("ERR" if impl in r["errors"] else "-")))
    if "optax" in impls:
        cols.append(("/optax", lambda r: _ratio(r["ratio_optax"])))
    cols += [
        ("/best", lambda r: f"{_ratio(r['ratio_best'])} {r['best_baseline'] or ''}".strip()
         if r["ratio_best"] is not None else "-"),
        ("GB/s", lambda r: _f(r["gbps"], ".3g")),
        ("%roof", lambda r: _f(r["roofline_pct"], ".0f")),
    ]
    if any(r["exp_ratio"] is not None for r in rows):
        cols.append(("xexp", lambda r: _f(r["exp_ratio"], ".2f")))
    if any(r["passes"] is not None and r["kind"] in ("loss", "metric") for r in rows):
        cols.append(("passes", lambda r: f"{r['passes']}/{r['min_passes']}" if r["passes"] is not None
                     and r["min_passes"] is not None else "-"))
    if any(r["gflops"] is not None for r in rows):
        cols.append(("GFLOP/s", lambda r: _f(r["gflops"], ".3g")))
        cols.append(("temp jaxent/mat", lambda r: "/".join(
            _f(None if r["temp_bytes"].get(i) is None else r["temp_bytes"][i] / 2**20, ".0f", "M")
            for i in ("jaxent", "jaxent_materialised"))))
    if any(r.get("value_max_rel_diff", 0) > 1e-2 for r in rows):
        cols.append(("check", lambda r: "DIFF" if r.get("value_max_rel_diff", 0) > 1e-2 else ""))
    return impls, cols


def _by_kind(rows: Sequence[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[r["kind"]].append(r)
    return {k: out[k] for k in KIND_TITLES if k in out}


def text_table(rows: Sequence[dict]) -> str:
    """The summary as fixed-width text tables, one per kind of op."""
    parts = []
    for kind, group in _by_kind(rows).items():
        _, cols = _columns(group)
        cells = [[name for name, _ in cols]] + [[str(get(r)) for _, get in cols] for r in group]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
        lines = [KIND_TITLES[kind]]
        for j, row in enumerate(cells):
            lines.append("  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def markdown_table(rows: Sequence[dict]) -> str:
    """The summary as GitHub markdown tables, one per kind of op."""
    parts = []
    for kind, group in _by_kind(rows).items():
        _, cols = _columns(group)
        lines = [f"#### {KIND_TITLES[kind]}", "", "| " + " | ".join(n for n, _ in cols) + " |",
                 "|" + "|".join("---" if i < 4 else "---:" for i in range(len(cols))) + "|"]
        for r in group:
            lines.append("| " + " | ".join(str(get(r)).replace("|", "/") for _, get in cols) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def hlo_table(records: Iterable[dict]) -> str:
    """Fusions, full-size traffic and notable ops of every compiled figure (``--hlo``)."""
    lines = [f"{'op':34} {'size':14} {'dtype':8} {'mode':8} {'impl':20} {'fus':>4} {'R':>3} {'W':>3}  notable / big buffers"]
    for r in records:
        h = r.get("hlo")
        if not h:
            continue
        notable = ",".join(f"{k}={v}" for k, v in sorted(h["notable"].items()) if k != "reduce")
        lines.append(f"{r['op']:34} {r['size']:14} {r['dtype']:8} {r['mode']:8} {r['impl']:20} {h['fusions']:4d} "
                     f"{h['big_reads']:3d} {h['big_writes']:3d}  {notable}  {' '.join(h['big_buffers'])}")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(result, indent=1, sort_keys=False, default=str) + "\n")


# ---------------------------------------------------------------------------------------------
# Plot.

_COLORS = {"jaxent": "tab:red", "optax": "tab:blue", "jnp": "tab:green", "keras": "tab:purple",
           "jaxent_materialised": "tab:orange"}
_STYLES = {"float32": "-", "bfloat16": "--", "float16": ":"}


def plot(records: Sequence[dict[str, Any]], path: Path, title: str = "", ylabel: str = "seconds") -> str | None:
    """Time vs problem size, log-log, one line per implementation (and dtype), one panel per op and mode.

    Returns None on success, or why no plot was written (matplotlib missing).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: pip install 'jaxent[bench]' (or matplotlib) for results.png"

    panels: dict[tuple[str, str], dict[tuple[str, str], list[tuple[int, float]]]] = {}
    xlabels: dict[str, str] = {}
    for r in records:
        if r.get("median_s") is None:
            continue
        panel = panels.setdefault((r["op"], r["mode"]), defaultdict(list))
        panel[(r["impl"], r["dtype"])].append((r["elements"], r["median_s"]))
        xlabels[r["op"]] = {"optimizer": "parameters", "fused": "logits elements N*V"}.get(
            r["kind"], "prediction elements")
    if not panels:
        return "no timings to plot"
    ncols = 4
    nrows = math.ceil(len(panels) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    for ax, ((op, mode), lines) in zip(axes.flat, panels.items()):
        for (impl, dtype), points in sorted(lines.items(), key=lambda kv: (_impl_key(kv[0][0]), kv[0][1])):
            points.sort()
            xs, ys = zip(*points)
            ax.plot(xs, ys, _STYLES.get(dtype, "-."), marker="o", markersize=3, color=_COLORS.get(impl),
                    label=f"{impl} {dtype}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{op} [{mode}]", fontsize=9)
        ax.set_xlabel(xlabels[op], fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return None


def safe_name(*parts: str) -> str:
    return "__".join(re.sub(r"[^\w.\-+]+", "_", p) for p in parts)
