"""Multi-controller JAX on one host for tests: a fail-fast launcher and the worker bootstrap.

JAX's multi-process runtime (``jax.distributed``) is what runs on several hosts; on one
machine, N CPU processes with a few CPU devices each form the same kind of global mesh, and
cross-process collectives go through gloo. This module is both halves:

- :func:`launch` (the test process) picks a free loopback port, starts N workers, each in
  its own process group with its own log file, stops every worker as soon as one fails or a
  deadline passes, and returns each worker's JSON result. Results travel through files, not
  stdout: gloo writes to stdout.
- :func:`run_worker` (a worker) reads its place from the environment, sets its CPU device
  count and the persistent compilation cache, calls ``jax.distributed.initialize`` on the
  loopback address, runs the program and writes the program's JSON-able result. On any
  exception it prints the traceback and leaves at once with ``os._exit(1)``: a normal exit
  would run JAX's shutdown barrier and wait there for processes that may be blocked in a
  collective with it. The launcher then stops the others.

A worker program is a module run with ``python -m <module>`` from the repository root (so that
``import jaxent`` is this checkout) whose ``__main__`` calls ``run_worker(main)``.

Example (in a test)::

    results = launch("tests.multiprocess_worker", ["checks"], workdir=tmp_path)
    results[0]["some_figure"]  # what worker 0's main() returned
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"

# The worker's place, passed by the launcher through the environment.
ENV_COORDINATOR = "JAXENT_MP_COORDINATOR"
ENV_NUM_PROCESSES = "JAXENT_MP_NUM_PROCESSES"
ENV_PROCESS_ID = "JAXENT_MP_PROCESS_ID"
ENV_CPU_DEVICES = "JAXENT_MP_CPU_DEVICES"
ENV_RESULT = "JAXENT_MP_RESULT"
ENV_CACHE = "JAXENT_MP_CACHE"

INIT_TIMEOUT_S = 60  # jax.distributed.initialize waits this long for the other processes
LOG_TAIL_CHARS = 4000
TRACEBACK_HEAD_CHARS = 2000  # where the last traceback starts, when the tail misses it
POLL_S = 0.05
STACK_SIGNAL = signal.SIGUSR1  # on it a worker's faulthandler writes every thread's stack
STACK_WAIT_S = 0.5
# The coordinator could not bind its port (taken between free_port() and the bind): retry.
PORT_TAKEN = ("Failed to start RPC server", "Failed to add port")


class WorkersFailed(AssertionError):
    """A worker failed or the run passed its deadline; the message has each worker's log tail."""


def free_port() -> int:
    """A TCP port free on the loopback interface now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _worker_env(
    process_id: int, num_processes: int, port: int, devices: int, result: Path, cache: Path | None, xla_flags: str
) -> dict[str, str]:
    env = dict(os.environ)
    # The device count comes from jax_num_cpu_devices; a simulated-device flag inherited from
    # the caller would fight it.
    flags = [f for f in env.get("XLA_FLAGS", "").split() if not f.startswith("--xla_force_host_platform_device_count")]
    env["XLA_FLAGS"] = " ".join([*flags, *xla_flags.split()])
    env.update(
        {
            "JAX_PLATFORMS": "cpu",
            ENV_COORDINATOR: f"{LOOPBACK}:{port}",
            ENV_NUM_PROCESSES: str(num_processes),
            ENV_PROCESS_ID: str(process_id),
            ENV_CPU_DEVICES: str(devices),
            ENV_RESULT: str(result),
            ENV_CACHE: "" if cache is None else str(cache),
        }
    )
    return env


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker's whole process group (it leads its own group) and reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def _stop(processes: Sequence[subprocess.Popen]) -> None:
    """Ask the running workers for their Python stacks (into their logs), then kill them."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        try:
            os.kill(process.pid, STACK_SIGNAL)
        except ProcessLookupError:
            pass
    if running:
        time.sleep(STACK_WAIT_S)
    for process in processes:
        _kill_group(process)


def _log_tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """The end of a log, preceded by the start of its last traceback when that is cut off."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    if len(text) <= chars:
        return text
    tail = text[-chars:]
    start = text.rfind("Traceback (most recent call last)")
    if 0 <= start < len(text) - chars:
        return f"{text[start : start + TRACEBACK_HEAD_CHARS]}\n[...]\n{tail}"
    return f"[...]{tail}"


def _report(headline: str, logs: Sequence[Path], codes: Sequence[int | None]) -> str:
    parts = [headline]
    for i, (log, code) in enumerate(zip(logs, codes)):
        state = "still running: stopped by the launcher" if code is None else f"exit code {code}"
        parts.append(f"--- worker {i} ({state}), log {log} ---\n{_log_tail(log)}")
    return "\n".join(parts)


def _run_once(
    command: list[str], envs: list[dict[str, str]], logs: list[Path], timeout_s: float, what: str
) -> tuple[str | None, list[int | None]]:
    """Start the workers and wait; returns (failure headline or None, exit codes)."""
    processes: list[subprocess.Popen] = []
    codes: list[int | None] = [None] * len(envs)
    try:
        for env, log_path in zip(envs, logs):
            with open(log_path, "wb") as log:
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own process group, killed as one
                    )
                )
        deadline = time.monotonic() + timeout_s
        while True:
            codes = [p.poll() for p in processes]
            failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
            if failed:
                _stop(processes)
                return f"worker {failed[0]} of {what} failed (exit code {codes[failed[0]]})", codes
            if all(code == 0 for code in codes):
                return None, codes
            if time.monotonic() > deadline:
                _stop(processes)
                return f"{what} passed its {timeout_s:.0f} s deadline", codes
            time.sleep(POLL_S)
    finally:
        for p in processes:  # also on KeyboardInterrupt: no worker outlives the launcher
            _kill_group(p)


def launch(
    module: str,
    args: Sequence[str] = (),
    *,
    workdir: Path,
    num_processes: int = 2,
    devices_per_process: int = 2,
    timeout_s: float = 240.0,
    cache_dir: Path | None = None,
    xla_flags: str = "",
) -> list[Any]:
    """Run ``python -m module *args`` as ``num_processes`` JAX processes; return their results.

    Worker ``i`` (``jax.process_index() == i``, ``devices_per_process`` CPU devices) logs to
    ``workdir/worker{i}.log`` and writes its result to ``workdir/worker{i}.json``. The first
    worker to exit non-zero, or the deadline ``timeout_s``, stops every other worker (SIGUSR1,
    on which a worker writes its Python stacks to its log, then SIGKILL to its process group)
    and raises :class:`WorkersFailed` with the tail of each log. ``cache_dir``: JAX's persistent
    compilation cache, shared by the workers (None: none). ``xla_flags`` are added to XLA_FLAGS.
    A run whose coordinator could not bind its port is retried once on another port.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    logs = [workdir / f"worker{i}.log" for i in range(num_processes)]
    results = [workdir / f"worker{i}.json" for i in range(num_processes)]
    command = [sys.executable, "-u", "-m", module, *args]
    what = f"python -m {module} {' '.join(args)}".strip()
    for attempt in range(2):
        for path in results:
            path.unlink(missing_ok=True)
        port = free_port()
        envs = [
            _worker_env(i, num_processes, port, devices_per_process, results[i], cache_dir, xla_flags)
            for i in range(num_processes)
        ]
        failure, codes = _run_once(command, envs, logs, timeout_s, what)
        port_taken = failure and any(marker in _log_tail(logs[0]) for marker in PORT_TAKEN)
        if not (port_taken and attempt == 0):
            break
    if failure:
        raise WorkersFailed(_report(failure, logs, codes))
    missing = [i for i, path in enumerate(results) if not path.exists()]
    if missing:
        raise WorkersFailed(_report(f"worker {missing[0]} of {what} exited 0 without a result", logs, codes))
    return [json.loads(path.read_text()) for path in results]


# --- the worker side -------------------------------------------------------------------------


def process_id() -> int:
    """This worker's index (``jax.process_index()`` once JAX is initialised)."""
    return int(os.environ[ENV_PROCESS_ID])


def initialize() -> None:
    """Configure JAX for this worker and join the global runtime (``jax.distributed``)."""
    import jax

    jax.config.update("jax_num_cpu_devices", int(os.environ[ENV_CPU_DEVICES]))
    cache = os.environ.get(ENV_CACHE)
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    address = os.environ[ENV_COORDINATOR]
    jax.distributed.initialize(
        coordinator_address=address,
        coordinator_bind_address=address,  # loopback only, never every interface
        num_processes=int(os.environ[ENV_NUM_PROCESSES]),
        process_id=process_id(),
        initialization_timeout=INIT_TIMEOUT_S,
    )


def run_worker(main: Callable[[], Any], *, distributed: bool = True) -> NoReturn:
    """Initialise JAX (unless ``distributed=False``), run ``main()``, write its JSON result, exit.

    Any exception: the traceback goes to the log and the process exits 1 at once.
    """
    faulthandler.register(STACK_SIGNAL, all_threads=True)  # where it was, if stopped for a timeout
    try:
        if distributed:
            initialize()
        result = main()
        path = Path(os.environ[ENV_RESULT])
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(result))
        partial.replace(path)  # the launcher never reads half a file
        if distributed:
            import jax

            # The shutdown barrier waits for the workers still running; if one of them fails,
            # the launcher kills this one, so it cannot wait for ever.
            jax.distributed.shutdown()
        code = 0
    except BaseException:  # noqa: BLE001 - anything, KeyboardInterrupt included, ends the worker
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
