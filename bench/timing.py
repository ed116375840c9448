"""The timers, the progress line and the environment record every benchmark family shares."""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import numpy as np

__all__ = ["Timing", "GroupTiming", "measure", "measure_group", "Progress", "environment", "cpu_model"]


@dataclasses.dataclass(frozen=True)
class Timing:
    """Seconds per call: the median of ``samples`` and the interquartile range, on two clocks.

    ``median``/``q1``/``q3`` are wall-clock seconds; ``cpu_*`` are this process's CPU seconds
    (``time.process_time``, all threads). On the CPU backend the CPU time hardly moves when
    other processes load the machine, where the wall time can double; it counts every core the
    computation keeps busy (idle-spinning thread pools included), so compare it only with CPU
    times. On an accelerator it measures the host, not the device: use wall time there.
    """

    median: float
    q1: float
    q3: float
    samples: int
    inner: int
    total: float
    cpu_median: float = float("nan")
    cpu_q1: float = float("nan")
    cpu_q3: float = float("nan")

    @property
    def spread(self) -> float:
        """IQR / median of the wall time, the relative noise of the figure."""
        return (self.q3 - self.q1) / self.median if self.median > 0 else float("inf")

    @property
    def cpu_spread(self) -> float:
        return (self.cpu_q3 - self.cpu_q1) / self.cpu_median if self.cpu_median > 0 else float("inf")

    def on(self, clock: str) -> tuple[float, float, float, float]:
        """``(median, q1, q3, spread)`` on ``clock`` (``"wall"`` or ``"cpu"``)."""
        if clock == "cpu":
            return self.cpu_median, self.cpu_q1, self.cpu_q3, self.cpu_spread
        return self.median, self.q1, self.q3, self.spread


def _percentiles(xs: Sequence[float]) -> tuple[float, float, float]:
    q1, med, q3 = np.percentile(np.asarray(xs, np.float64), [25, 50, 75])
    return float(med), float(q1), float(q3)


def _spread(xs: Sequence[float]) -> float:
    med, q1, q3 = _percentiles(xs)
    return (q3 - q1) / med if med > 0 else float("inf")


@dataclasses.dataclass(frozen=True)
class GroupTiming:
    """Interleaved samples of several calls: per round, one sample of each (seconds per call).

    ``wall[name][r]`` and ``cpu[name][r]`` are the ``r``-th round's sample of ``name``; the
    samples of one round were taken within a few milliseconds of each other, so a ratio of two
    calls taken round by round (:meth:`ratio`) cancels most of the machine's slow drifts.
    """

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]
    inner: dict[str, int]
    total: float

    @property
    def rounds(self) -> int:
        return len(next(iter(self.wall.values()))) if self.wall else 0

    def timing(self, name: str) -> Timing:
        med, q1, q3 = _percentiles(self.wall[name])
        cmed, c1, c3 = _percentiles(self.cpu[name])
        return Timing(med, q1, q3, self.rounds, self.inner[name], self.total, cmed, c1, c3)

    def ratio(self, a: str, b: str, clock: str = "wall") -> tuple[float, float, float]:
        """``(median, q1, q3)`` over rounds of ``a``'s time / ``b``'s time in the same round."""
        samples = self.cpu if clock == "cpu" else self.wall
        return _percentiles([x / y for x, y in zip(samples[a], samples[b])])


def measure_group(
    calls: Mapping[str, Callable[[], Any]],
    *,
    budget: float = 1.0,
    target_spread: float = 0.05,
    min_samples: int = 5,
    max_samples: int = 200,
    min_sample_time: float = 2e-3,
    clock: str = "wall",
) -> GroupTiming:
    """Time ``calls`` (already compiled) interleaved: round after round, one sample of each.

    A sample runs one call ``inner`` times back to back and blocks on the last result
    (``jax.block_until_ready``), with ``inner`` chosen per call so that a sample lasts at least
    ``min_sample_time`` (sub-millisecond calls then measure throughput, dispatch included,
    rather than timer resolution). Each sample follows one untimed call of the same
    implementation: right after another implementation, the first call pays for memory the
    other one left (measured on the CPU: ~100 ms of a 270 ms fwd+bwd at 4096x32768 for
    whichever implementation followed the hand-written ``jnp`` one), which a training loop
    calling one step over and over never sees. The order of the calls rotates from round to round. Rounds
    stop once at least ``min_samples`` have been taken and every call's IQR/median on
    ``clock`` is at most ``target_spread``, or when ``budget`` seconds per call are spent
    (never before ``min_samples`` rounds; only 3 when one round is longer than the budget).
    """
    names = list(calls)
    single: dict[str, float] = {}
    for name in names:
        jax.block_until_ready(calls[name]())  # warm-up: first-call allocations, caches
        start = time.perf_counter()
        jax.block_until_ready(calls[name]())
        single[name] = max(time.perf_counter() - start, 1e-9)
    inner = {name: int(min(10_000, max(1, np.ceil(min_sample_time / t)))) for name, t in single.items()}
    total_budget = budget * len(names)
    if sum(max(t, min_sample_time) for t in single.values()) > total_budget / 3:
        min_samples = min(min_samples, 3)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    began = time.perf_counter()
    rounds = 0
    while True:
        for k in range(len(names)):
            name = names[(rounds + k) % len(names)]
            call, n = calls[name], inner[name]
            jax.block_until_ready(call())  # settle: the previous implementation's buffers are not this one's cost
            t0, c0 = time.perf_counter(), time.process_time()
            out = None
            for _ in range(n):
                out = call()
            jax.block_until_ready(out)
            wall[name].append((time.perf_counter() - t0) / n)
            cpu[name].append((time.process_time() - c0) / n)
        rounds += 1
        if rounds >= max_samples:
            break
        if rounds >= min_samples:
            samples = cpu if clock == "cpu" else wall
            if all(_spread(samples[name]) <= target_spread for name in names):
                break
            if time.perf_counter() - began > total_budget:
                break
    return GroupTiming(wall, cpu, inner, time.perf_counter() - began)


def measure(
    call: Callable[[], Any], **options: Any
) -> Timing:
    """Time one ``call``: :func:`measure_group` with a single member (the same keyword options)."""
    return measure_group({"call": call}, **options).timing("call")


class Progress:
    """A one-line progress display on stderr: ``\\r``-updated on a terminal, else a line every few seconds."""

    def __init__(self, total: int, *, enabled: bool = True, stream=None, every: float = 5.0) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every, self.last = every, 0.0
        self.start = time.perf_counter()

    def update(self, label: str, step: int = 0) -> None:
        self.done += step
        if not self.enabled:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        eta = ""
        if 0 < self.done < self.total:
            eta = f" eta {elapsed / self.done * (self.total - self.done):4.0f}s"
        line = f"[{self.done:4d}/{self.total}] {elapsed:5.0f}s{eta}  {label}"
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
            self.stream.flush()
        elif now - self.last >= self.every or self.done == self.total:
            self.stream.write(line + "\n")
            self.stream.flush()
            self.last = now

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), or what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:
        return None


def environment() -> dict[str, Any]:
    """Everything needed to interpret the numbers: versions, device, host, load, date."""
    import jaxlib
    import optax

    import jaxent

    device = jax.devices()[0]
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "optax": optax.__version__,
        "jaxent": jaxent.__version__,
        "keras": _version("keras") if "keras" in sys.modules else None,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "backend": jax.default_backend(),
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average": load,
        "platform": platform.platform(),
    }
