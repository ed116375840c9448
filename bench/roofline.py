"""The roofline: memory bandwidth and matmul rate measured in the run, and what the HLO moves.

* :func:`bandwidth` times a large in-place scale (``x * c`` with ``x`` donated: one read and one
  write per element) and a large sum (one read); the better of the two is the bandwidth every
  figure is compared with (``GB/s`` of its minimal bytes, and that as a % of the measured).
* :func:`exp_pass` times one ``sum(exp(x))`` over a given shape: on the CPU, a cross entropy's
  floor is its transcendental work rather than its bytes, so CE figures are also reported as a
  multiple of that pass.
* :func:`hlo_stats` reads the optimized HLO of a compiled figure: fusions, notable ops (gather,
  scatter, opt-barrier, ...) and the full-size ``[rows, classes]`` buffers that are written and
  read between fusions, in units of one prediction-sized pass.
"""

from __future__ import annotations

import math
import re
from typing import Any

import jax
import jax.numpy as jnp

from bench.timing import measure

# ---------------------------------------------------------------------------------------------
# Measured peaks.


def bandwidth(nbytes: int, *, budget: float = 1.0, clock: str = "wall") -> dict[str, Any]:
    """Memory bandwidth in GB/s from an in-place scale and a sum over ``nbytes`` of float32.

    With ``clock="cpu"`` the seconds are CPU seconds (bytes per CPU-second), to compare with
    figures timed on that clock.
    """
    n = nbytes // 4
    x = jnp.arange(n, dtype=jnp.float32) * 1e-9
    scale = jax.jit(lambda a: a * jnp.float32(1.0000001), donate_argnums=0).lower(x).compile()
    carry = [x]

    def step():
        carry[0] = scale(carry[0])
        return carry[0]

    t_scale = measure(step, budget=budget, min_samples=5)
    total = jax.jit(jnp.sum).lower(carry[0]).compile()
    t_sum = measure(lambda: total(carry[0]), budget=budget, min_samples=5)
    del carry[0]
    scale_s, _, _, scale_spread = t_scale.on(clock)
    sum_s, _, _, sum_spread = t_sum.on(clock)
    scale_gbps = 2 * n * 4 / scale_s / 1e9
    sum_gbps = n * 4 / sum_s / 1e9
    return {
        "bytes": n * 4,
        "clock": clock,
        "scale_inplace_gbps": scale_gbps,
        "scale_inplace_spread": scale_spread,
        "sum_gbps": sum_gbps,
        "sum_spread": sum_spread,
        "peak_gbps": max(scale_gbps, sum_gbps),
        "wall_scale_inplace_gbps": 2 * n * 4 / t_scale.median / 1e9,
        "wall_sum_gbps": n * 4 / t_sum.median / 1e9,
    }


def matmul_rate(n: int, d: int, v: int, dtype, *, budget: float = 1.0, clock: str = "wall") -> dict[str, Any]:
    """Flop rate of one ``[n, d] @ [d, v]`` matmul in ``dtype`` (the fused CE's compute roof)."""
    a = jax.random.normal(jax.random.key(0), (n, d), jnp.float32).astype(dtype)
    b = jax.random.normal(jax.random.key(1), (d, v), jnp.float32).astype(dtype)
    mm = jax.jit(jnp.matmul).lower(a, b).compile()
    t = measure(lambda: mm(a, b), budget=budget, min_samples=3)
    seconds, _, _, spread = t.on(clock)
    return {"shape": [n, d, v], "dtype": jnp.dtype(dtype).name, "clock": clock,
            "gflops": 2 * n * d * v / seconds / 1e9, "spread": spread}


_EXP_PASS: dict[tuple, float] = {}


def exp_pass(shape: tuple[int, ...], dtype, *, budget: float = 0.5, clock: str = "wall") -> float:
    """Seconds of one ``sum(exp(x))`` over ``shape`` (inputs in ``dtype``, computed in float32)."""
    key = (tuple(shape), jnp.dtype(dtype).name, clock)
    if key not in _EXP_PASS:
        x = jax.random.normal(jax.random.key(0), shape, jnp.float32).astype(dtype)
        f = jax.jit(lambda a: jnp.sum(jnp.exp(a.astype(jnp.float32)))).lower(x).compile()
        _EXP_PASS[key] = measure(lambda: f(x), budget=budget).on(clock)[0]
    return _EXP_PASS[key]


# ---------------------------------------------------------------------------------------------
# HLO statistics.

_ARRAY = re.compile(r"\b(pred|[suf]\d+|bf16|f8\w*|c64|c128)\[([\d,]*)\]")
_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%?([\w.\-]+)\s*=\s*(.+?)\s+([\w\-]+)\((.*)$")
_NOTABLE = ("gather", "scatter", "opt-barrier", "custom-call", "while", "sort", "dot", "convolution",
            "all-reduce", "copy", "transpose", "reduce")
_FREE = {"parameter", "constant", "tuple", "get-tuple-element", "bitcast", "iota"}


def _arrays(shape_text: str) -> list[int]:
    """Element counts of every array in an HLO shape (a tuple shape gives several)."""
    return [math.prod(int(d) for d in dims.split(",") if d) if dims else 1 for _, dims in _ARRAY.findall(shape_text)]


def _entry_lines(text: str) -> list[str]:
    start = text.find("\nENTRY")
    if start < 0:
        return []
    body = text[start:].split("\n")[1:]
    out = []
    for line in body:
        if line.startswith("}"):
            break
        out.append(line)
    return out


def hlo_stats(hlo_text: str, big: int) -> dict[str, Any]:
    """Fusions, notable ops and prediction-sized traffic in an optimized HLO module.

    ``big`` is the element count of one full-size buffer (the prediction). Counted on the entry
    computation, whose instructions each read their operands from and write their result to
    memory: ``big_writes``/``big_reads`` are the number of full-size arrays written/read there
    (a fusion's internals stay in registers or cache); a scatter or dynamic-update-slice into a
    full-size buffer is counted in ``in_place_updates`` instead (it touches only the updated
    entries). ``notable`` counts ops of interest in the whole module (inside fusions too).
    """
    entry = _entry_lines(hlo_text)
    shapes: dict[str, list[int]] = {}
    fusions = writes = reads = in_place = 0
    buffers: list[str] = []
    for line in entry:
        m = _INSTR.match(line)
        if not m:
            continue
        name, shape_text, opcode, rest = m.groups()
        sizes = _arrays(shape_text)
        shapes[name] = sizes
        if opcode == "fusion":
            fusions += 1
        if opcode in _FREE:
            continue
        operands = re.findall(r"%([\w.\-]+)", rest.split("),", 1)[0])
        if _in_place(name, opcode):
            # a scatter / dynamic-update-slice into a full-size buffer updates it in place: it
            # touches only the updated entries, so neither the buffer's read nor its write counts
            operands = operands[1:]
            in_place += 1
            buffers.append(f"{name}:in-place")
            reads += sum(1 for op in operands for s in shapes.get(op, []) if s >= big)
            continue
        reads += sum(1 for op in operands for s in shapes.get(op, []) if s >= big)
        written = sum(1 for s in sizes if s >= big)
        if written:
            writes += written
            buffers.append(f"{name}:{opcode}")
    notable = {}
    for op in _NOTABLE:
        count = len(re.findall(rf"\s{re.escape(op)}\(", hlo_text))
        if count:
            notable[op] = count
    return {"fusions": fusions, "entry_instructions": len(entry), "big_writes": writes, "big_reads": reads,
            "in_place_updates": in_place, "big_buffers": buffers, "notable": notable}


def _in_place(name: str, opcode: str) -> bool:
    """Whether an entry instruction updates its first operand in place (scatter, dynamic-update-slice)."""
    if opcode in ("scatter", "dynamic-update-slice"):
        return True
    return opcode == "fusion" and ("scatter" in name or "dynamic_update_slice" in name
                                   or "dynamic-update-slice" in name)


def memory_stats(compiled) -> dict[str, int | None]:
    """Temp and argument/output bytes from ``compiled.memory_analysis()`` (None where unknown)."""
    try:
        stats = compiled.memory_analysis()
    except Exception:
        stats = None
    get = lambda name: getattr(stats, name, None) if stats is not None else None  # noqa: E731
    return {"temp_bytes": get("temp_size_in_bytes"), "argument_bytes": get("argument_size_in_bytes"),
            "output_bytes": get("output_size_in_bytes")}
