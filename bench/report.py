"""Summaries of a run: jaxent's ratio to its fastest peer per figure, the tables, the JSON and the figures.

The ratio of a figure is jaxent's time divided by its fastest peer's (the peer with the lowest
median time among the other implementations of the op): **< 1 means jaxent is faster**. It is
the median over timing rounds of the two times taken in the same round (the implementations
are timed interleaved), with the interquartile range of those per-round ratios as its error.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

IMPL_ORDER = ("jaxent", "optax", "jnp", "keras", "jaxent_materialised")
PAR = 0.05  # within 5 % of the peer: drawn grey, neither ahead nor behind
MAX_SPAN = 8.0  # the ratio figure spans 1/8 .. 8 at most; beyond, an arrow at the edge


def _impl_key(impl: str) -> tuple:
    """Known implementations first, in IMPL_ORDER; then the others with their numbers in numeric order."""
    if impl in IMPL_ORDER:
        return (IMPL_ORDER.index(impl), ())
    return (len(IMPL_ORDER), tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", impl)))


def _size_key(row: Mapping[str, Any]) -> tuple:
    return (row["elements"], row["size"])


def summarise(records: Sequence[dict[str, Any]], clock: str = "wall") -> list[dict[str, Any]]:
    """One row per (op, size, dtype, mode): every implementation's time and jaxent's ratios.

    ``ratio`` = jaxent / the fastest peer (``peer``), with ``ratio_q1``/``ratio_q3`` its IQR
    over interleaved rounds on ``clock``; ``ratio_optax`` the same against optax where the op
    has it. ``value_max_rel_diff`` is the largest relative difference between a peer's value
    and jaxent's (a check that the peers compute the same thing).
    """
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[(r["op"], r["size"], r["dtype"], r["mode"])].append(r)
    rows = []
    for (op, size, dtype, mode), recs in groups.items():
        ok = {r["impl"]: r for r in recs if r.get("median_s") is not None}
        times = {impl: r["median_s"] for impl, r in ok.items()}
        peers = {impl: t for impl, t in times.items() if impl != "jaxent"}
        peer = min(peers, key=peers.get) if peers else None
        jx = ok.get("jaxent")

        def paired(other: str | None) -> list[float] | None:
            if jx is None or other is None or other not in times:
                return None
            stored = (jx.get("ratios") or {}).get(other, {}).get(clock)
            return list(stored) if stored else [times["jaxent"] / times[other]] * 3

        ratio = paired(peer)
        ratio_optax = paired("optax")
        row = {
            "op": op, "family": recs[0]["family"], "size": size, "shape": recs[0]["shape"], "dtype": dtype,
            "mode": mode, "elements": recs[0]["elements"],
            "times": times,
            "spreads": {impl: r["spread"] for impl, r in ok.items()},
            "compile_s": {impl: r.get("compile_s") for impl, r in ok.items()},
            "temp_bytes": {impl: (r.get("memory") or {}).get("temp_bytes") for impl, r in ok.items()},
            "errors": {r["impl"]: r["error"] for r in recs if r.get("error")},
            "jaxent_s": jx["median_s"] if jx else None,
            "jaxent_spread": jx["spread"] if jx else None,
            "peer": peer,
            "peer_s": peers.get(peer) if peer else None,
            "ratio": ratio[0] if ratio else None,
            "ratio_q1": ratio[1] if ratio else None,
            "ratio_q3": ratio[2] if ratio else None,
            "ratio_optax": ratio_optax[0] if ratio_optax else None,
            "gbps": jx.get("gbps") if jx else None,
            "roofline_pct": jx.get("roofline_pct") if jx else None,
            "gflops": jx.get("gflops") if jx else None,
            "exp_ratio": jx.get("exp_ratio") if jx else None,
            "passes": (jx["hlo"]["big_reads"] + jx["hlo"]["big_writes"]) if jx and jx.get("hlo") else None,
            "min_passes": jx.get("min_passes") if jx else None,
            "fusions": {impl: r["hlo"]["fusions"] for impl, r in ok.items() if r.get("hlo")},
        }
        values = {impl: r.get("value") for impl, r in ok.items() if r.get("value") is not None}
        if "jaxent" in values and len(values) > 1:
            ref = values["jaxent"]
            row["value_max_rel_diff"] = max(
                abs(v - ref) / max(abs(ref), 1e-30) for impl, v in values.items() if impl != "jaxent")
        rows.append(row)
    return rows


def headline(rows: Sequence[dict]) -> list[dict]:
    """Per (op, mode, dtype): the row of the largest size, with the range of the ratio over all sizes."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["op"], r["mode"], r["dtype"])].append(r)
    out = []
    for recs in groups.values():
        timed = [r for r in recs if r["ratio"] is not None]
        last = max(timed or recs, key=_size_key)
        ratios = [r["ratio"] for r in timed]
        out.append(dict(last, sizes=len(recs), ratio_min=min(ratios) if ratios else None,
                        ratio_max=max(ratios) if ratios else None))
    return out


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


def fmt_ratio(row: Mapping[str, Any]) -> str:
    """``0.93 (0.91-0.95)``: the ratio and its IQR over rounds."""
    if row.get("ratio") is None:
        return "ERR" if "jaxent" in row.get("errors", {}) else "-"
    return f"{row['ratio']:.2f} ({row['ratio_q1']:.2f}-{row['ratio_q3']:.2f})"


def _short(impl: str) -> str:
    return {"jaxent_materialised": "materialised"}.get(impl, impl)


def _columns(rows: Sequence[dict]) -> list[tuple[str, Any]]:
    impls = sorted({impl for r in rows for impl in r["times"]} | {"jaxent"}, key=_impl_key)
    cols: list[tuple[str, Any]] = [
        ("op", lambda r: r["op"]),
        ("size", lambda r: r["size"]),
        ("dtype", lambda r: r["dtype"].replace("float", "f").replace("bfloat", "bf")),
        ("mode", lambda r: r["mode"]),
        ("jaxent/peer (IQR)", fmt_ratio),
        ("peer", lambda r: _short(r["peer"]) if r["peer"] else "-"),
    ]
    for impl in impls:
        if impl == "jaxent":
            cols.append(("jaxent ±IQR", lambda r: (
                fmt_time(r["jaxent_s"]) + (f" ±{r['jaxent_spread'] * 100:.0f}%" if r["jaxent_spread"] is not None
                                           and math.isfinite(r["jaxent_spread"]) else "")
                if r["jaxent_s"] is not None else ("ERR" if "jaxent" in r["errors"] else "-"))))
        else:
            cols.append((_short(impl), lambda r, impl=impl: fmt_time(r["times"].get(impl)) if impl in r["times"]
                         else ("ERR" if impl in r["errors"] else "-")))
    if "optax" in impls and any(r["peer"] != "optax" and r["ratio_optax"] is not None for r in rows):
        cols.append(("/optax", lambda r: _f(r["ratio_optax"], ".2f")))
    if any(r["gbps"] is not None for r in rows):
        cols += [("GB/s", lambda r: _f(r["gbps"], ".3g")), ("%roof", lambda r: _f(r["roofline_pct"], ".0f"))]
    if any(r["exp_ratio"] is not None for r in rows):
        cols.append(("xexp", lambda r: _f(r["exp_ratio"], ".2f")))
    if any(r["passes"] is not None and r["min_passes"] is not None for r in rows):
        cols.append(("passes", lambda r: f"{r['passes']}/{r['min_passes']}" if r["passes"] is not None
                     and r["min_passes"] is not None else "-"))
    if any(r["gflops"] is not None for r in rows):
        cols.append(("GFLOP/s", lambda r: _f(r["gflops"], ".3g")))
        cols.append(("temp jaxent/peer", lambda r: "/".join(
            _f(None if r["temp_bytes"].get(i) is None else r["temp_bytes"][i] / 2**20, ".0f", "M")
            for i in ("jaxent", r["peer"]))))
    if any(r.get("value_max_rel_diff", 0) > 1e-2 for r in rows):
        cols.append(("check", lambda r: "DIFF" if r.get("value_max_rel_diff", 0) > 1e-2 else ""))
    return cols


def _by_family(rows: Sequence[dict], order: Sequence[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[r["family"]].append(r)
    known = [f for f in order if f in out] + sorted(f for f in out if f not in order)
    return {f: out[f] for f in known}


def _titles(titles: Mapping[str, str] | None, family: str) -> str:
    return (titles or {}).get(family, family)


def text_table(rows: Sequence[dict], titles: Mapping[str, str] | None = None) -> str:
    """The summary as fixed-width text tables, one per family (ratio first)."""
    parts = []
    for family, group in _by_family(rows, list(titles or {})).items():
        cols = _columns(group)
        cells = [[name for name, _ in cols]] + [[str(get(r)) for _, get in cols] for r in group]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
        lines = [_titles(titles, family)]
        for j, row in enumerate(cells):
            lines.append("  ".join(c.ljust(w) if i < 4 or i == 5 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(row, widths))))
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def markdown_table(rows: Sequence[dict], titles: Mapping[str, str] | None = None, level: str = "####") -> str:
    """The summary as GitHub markdown tables, one per family (ratio first)."""
    parts = []
    for family, group in _by_family(rows, list(titles or {})).items():
        cols = _columns(group)
        lines = [f"{level} {_titles(titles, family)}", "", "| " + " | ".join(n for n, _ in cols) + " |",
                 "|" + "|".join("---" if i < 4 or i == 5 else "---:" for i in range(len(cols))) + "|"]
        for r in group:
            lines.append("| " + " | ".join(str(get(r)).replace("|", "/") for _, get in cols) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def markdown_headline(rows: Sequence[dict], titles: Mapping[str, str] | None = None) -> str:
    """One line per (op, mode, dtype): the ratio at the largest size, its peer, and its range over sizes."""
    lines = ["| family | op | mode | dtype | largest size | **jaxent / fastest peer** (IQR) | peer | jaxent | peer time "
             "| ratio over all sizes |", "|---|---|---|---|---|---:|---|---:|---:|---:|"]
    for family, group in _by_family(headline(rows), list(titles or {})).items():
        for r in group:
            spread = "-" if r["ratio_min"] is None else (
                f"{r['ratio_min']:.2f}" if r["sizes"] == 1 else f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}")
            lines.append(f"| {family} | {r['op']} | {r['mode']} | {r['dtype']} | {r['size']} | **{fmt_ratio(r)}** | "
                         f"{_short(r['peer']) if r['peer'] else '-'} | {fmt_time(r['jaxent_s'])} | "
                         f"{fmt_time(r['peer_s'])} | {spread} |")
    return "\n".join(lines)


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
# Figures.


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


_NO_MPL = "matplotlib is not installed: pip install 'jaxent[bench]' (or matplotlib) for the figures"
_AHEAD, _PAR_COLOR, _BEHIND = "#2e8b57", "#8c8c8c", "#c0392b"
_COLORS = {"jaxent": "tab:red", "optax": "tab:blue", "jnp": "tab:green", "keras": "tab:purple",
           "jaxent_materialised": "tab:orange"}


def _color(ratio: float) -> str:
    return _AHEAD if ratio < 1 - PAR else _BEHIND if ratio > 1 + PAR else _PAR_COLOR


def plot_ratios(rows: Sequence[dict], path: Path, title: str = "", titles: Mapping[str, str] | None = None,
                targets: Mapping[str, float] | None = None) -> str | None:
    """jaxent / fastest peer, one horizontal bar per (op, mode, dtype), one panel per family.

    The bar goes from 1 to the ratio at the op's largest size (green: jaxent ahead by more
    than 5 %, red: behind by more than 5 %, grey: within 5 %), with the IQR of the ratio as
    its error bar and the peer named at the right. Smaller sizes of the same op are the
    hollow dots on its row (darker = larger), so a full run shows the ratio against size
    row by row. A family's target ratio, when it has one, is a dashed line. Log x axis, so
    2x slower and 2x faster are as far from 1. Returns None, or why nothing was written.
    """
    plt = _pyplot()
    if plt is None:
        return _NO_MPL
    from matplotlib import transforms

    fams = _by_family([r for r in rows if r["ratio"] is not None], list(titles or {}))
    if not fams:
        return "no ratios to plot"
    panels = []
    for family, group in fams.items():
        lines: dict[tuple, list[dict]] = defaultdict(list)
        for r in group:
            lines[(r["op"], r["mode"], r["dtype"])].append(r)
        panels.append((family, [(key, sorted(v, key=_size_key)) for key, v in lines.items()]))
    ratios = [r[k] for r in rows if r["ratio"] is not None for k in ("ratio", "ratio_q1", "ratio_q3")]
    # one x axis for every panel; a ratio beyond MAX_SPAN is drawn at the edge with an arrow
    span = min(max(1.3, max(max(ratios), 1 / max(min(ratios), 1e-9)) * 1.15), MAX_SPAN)
    dtypes = {r["dtype"] for r in rows}
    heights = [len(lines) + 1.5 for _, lines in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 0.24 * sum(heights) + 1.2), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    ticks = [t for t in (1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 2 / 3, 0.8, 1, 1.25, 1.5, 2, 4, 8, 16, 32, 64)
             if 1 / span <= t <= span and (span <= 4 or t in (0.5, 1, 2) or math.log2(t) % 1 == 0)]
    for ax, (family, lines) in zip(axes[:, 0], panels):
        ax.set_xscale("log", base=2)
        ax.set_xlim(1 / span, span)
        ax.axvspan(1 / span, 1, color=_AHEAD, alpha=0.06, lw=0)
        ax.axvspan(1, span, color=_BEHIND, alpha=0.06, lw=0)
        ax.axvline(1.0, color="black", lw=1)
        target = (targets or {}).get(family)
        if target:
            ax.axvline(target, color="black", lw=0.8, ls="--")
            ax.text(target, -0.75, f" target {target:g}", fontsize=7, va="bottom")
        label_at = transforms.blended_transform_factory(ax.transAxes, ax.transData)
        modes = {mode for (_, mode, _), _ in lines}
        ylabels = []
        for y, ((op, mode, dtype), recs) in enumerate(lines):
            last = recs[-1]
            r = last["ratio"]
            shown = min(max(r, 1 / span), span)
            ax.barh(y, shown - 1, left=1, height=0.62, color=_color(r))
            if shown != r:
                ax.plot(shown, y, ">" if r > 1 else "<", color=_color(r), ms=6, clip_on=False)
            else:
                lo, hi = max(last["ratio_q1"], 1 / span), min(last["ratio_q3"], span)
                ax.errorbar(r, y, xerr=[[max(r - lo, 0)], [max(hi - r, 0)]], fmt="none", ecolor="black", lw=0.9,
                            capsize=2)
            for k, small in enumerate(recs[:-1]):
                shade = 0.75 - 0.5 * k / max(len(recs) - 1, 1)
                ax.plot(min(max(small["ratio"], 1 / span), span), y, "o", mfc="none", mec=str(shade), ms=4.5, mew=1.1)
            ax.text(1.005, y, f"{r:.2f}x {_short(last['peer'])}" + (f"  [{last['size']}]" if len(recs) > 1 else ""),
                    transform=label_at, fontsize=7, va="center", clip_on=False)
            name = op[len(family) + 1:] if op.startswith(family + ".") else op
            ylabels.append(name + (f" [{mode}]" if len(modes) > 1 else "") + (f" {dtype}" if len(dtypes) > 1 else ""))
        ax.set_yticks(range(len(lines)), ylabels, fontsize=7)
        ax.set_ylim(len(lines) - 0.4, -1.1)
        ax.set_title(_titles(titles, family), fontsize=8.5, loc="left")
        ax.set_xticks(ticks, [f"{t:.3g}" if t >= 1 else f"1/{1 / t:.3g}" if (1 / t) % 1 == 0 else f"{t:.2g}"
                              for t in ticks], fontsize=7)
        ax.xaxis.set_minor_locator(plt.NullLocator())
        ax.grid(True, axis="x", which="major", alpha=0.3)
    axes[-1, 0].set_xlabel("jaxent time / fastest peer's time   (< 1: jaxent faster; bar and error bar: the largest "
                           "size and its IQR over interleaved rounds; hollow dots: smaller sizes, darker = larger)",
                           fontsize=7.5)
    _layout(fig, title)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None


def _layout(fig, title: str, gap: float = 0.7) -> None:
    """Fixed margins in inches, ``gap`` inches between panels (``tight_layout`` takes seconds on many rows)."""
    height = fig.get_figheight()
    top, bottom = 1 - 0.75 / height, 0.6 / height
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.2 / height)
    n = len(fig.axes)
    panel = (height * (top - bottom) - (n - 1) * gap) / n
    fig.subplots_adjust(left=0.3, right=0.86, top=top, bottom=bottom, hspace=gap / max(panel, 0.1))


def plot_times(rows: Sequence[dict], path: Path, title: str = "", xlabel: str = "seconds",
               titles: Mapping[str, str] | None = None) -> str | None:
    """Absolute times at each op's largest size: one row per (op, mode, dtype), one marker per implementation.

    Log x axis, one panel per family; jaxent is the large red dot. Returns None, or why
    nothing was written.
    """
    plt = _pyplot()
    if plt is None:
        return _NO_MPL
    fams = _by_family([r for r in headline(rows) if r["times"]], list(titles or {}))
    if not fams:
        return "no timings to plot"
    impls = sorted({i for group in fams.values() for r in group for i in r["times"]}, key=_impl_key)
    palette = plt.get_cmap("viridis")
    extra = [i for i in impls if i not in _COLORS]
    colors = dict(_COLORS, **{impl: palette(k / max(len(extra), 1)) for k, impl in enumerate(extra)})
    dtypes = {r["dtype"] for group in fams.values() for r in group}
    heights = [len(group) + 1.5 for group in fams.values()]
    fig, axes = plt.subplots(len(fams), 1, figsize=(12, 0.24 * sum(heights) + 1.2), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, (family, group) in zip(axes[:, 0], fams.items()):
        modes = {r["mode"] for r in group}
        for y, r in enumerate(group):
            for impl, t in r["times"].items():
                big = impl == "jaxent"
                ax.plot(t, y, "o", color=colors.get(impl), ms=6 if big else 4, zorder=3 if big else 2,
                        label=_short(impl))
        labels = []
        for r in group:
            name = r["op"][len(family) + 1:] if r["op"].startswith(family + ".") else r["op"]
            labels.append(name + (f" [{r['mode']}]" if len(modes) > 1 else "") + (f" {r['dtype']}" if len(dtypes) > 1
                                                                                   else "") + f"  {r['size']}")
        ax.set_xscale("log")
        ax.set_yticks(range(len(group)), labels, fontsize=7)
        ax.set_ylim(len(group) - 0.4, -0.6)
        ax.set_title(_titles(titles, family), fontsize=8.5, loc="left")
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(True, axis="x", which="both", alpha=0.3)
        handles = {h.get_label(): h for h in ax.get_lines()}
        ax.legend(handles.values(), handles.keys(), fontsize=6.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[-1, 0].set_xlabel(xlabel + " per call (largest size of each op)", fontsize=7.5)
    _layout(fig, title)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None


def safe_name(*parts: str) -> str:
    return "__".join(re.sub(r"[^\w.\-+]+", "_", p) for p in parts)
