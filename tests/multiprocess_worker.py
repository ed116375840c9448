"""The programs that tests/test_multiprocess.py runs in every process of a multi-process JAX run.

``python -m tests.multiprocess_worker <program>`` with the environment set by
:func:`tests.multiprocess.launch`; each program returns a JSON-able dict of measured figures
(the test process does the asserting, so that each case fails on its own). An exception
ends the worker at once: processes that went different ways would wait for each other in
their next collective.

- ``checks``: every metric family updated on this process's rows of a batch and combined
  across all devices of all processes (``psum`` and ``merge_across`` in ``shard_map``, and
  plain ``jit`` of a cross-process sharded batch), then the vocabulary-parallel fused cross
  entropy with the kernel sharded over devices of both processes; each against the same
  computation on this process's first device alone; then README.md's "Scaling out" example.
- ``train``: ``examples/train_digits.py`` data-parallel over every device of every process,
  then (process 0) on one device.
- ``fail``, ``hang``, ``ok``: no JAX; they test the launcher itself.

Every process builds the same global data from fixed seeds and hands JAX only its own part
(``jax.make_array_from_process_local_data`` for batches, ``jax.make_array_from_callback`` for
parameters), as a multi-host program would.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tests.multiprocess import ROOT, process_id, run_worker

BATCH, CLASSES = 64, 5
README_SECTION = "## Scaling out"
START = time.perf_counter()


def _host(tree: Any) -> Any:
    """A replicated global pytree as NumPy, read from this process's copy (``addressable_data``)."""
    import jax
    import numpy as np

    return jax.tree.map(lambda leaf: np.asarray(leaf.addressable_data(0)), tree)


def _log(message: str) -> None:
    """A progress line in this worker's log (what the launcher shows when something fails)."""
    print(f"[{time.perf_counter() - START:7.2f} s] {message}", file=sys.stderr, flush=True)


# --- metrics -----------------------------------------------------------------------------------


def _metric_cases() -> dict[str, tuple[Any, tuple]]:
    """Every metric family with inputs holding weight-0 NaN/inf entries and ``ignore_class``."""
    import numpy as np

    from jaxent import metrics

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(CLASSES), BATCH).astype(np.float32)
    labels = rng.integers(-1, CLASSES, BATCH).astype(np.int32)  # -1 = ignore_class
    onehot = np.eye(CLASSES, dtype=np.float32)[np.maximum(labels, 0)]
    weights = rng.choice([0.0, 0.5, 1.0, 2.0], BATCH).astype(np.float32)
    probs[weights == 0] = np.nan  # poison that must stay invisible
    scce_probs = probs.copy()
    scce_probs[labels == -1] = np.inf  # ignored positions: poison as well
    values = rng.standard_normal((BATCH, 3)).astype(np.float32) * 1e3
    values[weights == 0] = np.inf
    binary_true = rng.integers(0, 2, (BATCH, 3)).astype(np.float32)
    binary_pred = rng.uniform(0, 1, (BATCH, 3)).astype(np.float32)
    binary_pred[weights == 0] = np.nan
    scores = values / 1e3
    predicted_class = np.argmax(np.nan_to_num(probs), axis=-1).astype(np.int32)
    cases = {
        "Mean": (metrics.Mean(), (values,)),
        "SparseCategoricalCrossentropy": (
            metrics.SparseCategoricalCrossentropy(ignore_class=-1),
            (labels, scce_probs),
        ),
        "CategoricalCrossentropy": (metrics.CategoricalCrossentropy(label_smoothing=0.1), (onehot, probs)),
        "BinaryCrossentropy": (metrics.BinaryCrossentropy(label_smoothing=0.1), (binary_true, binary_pred)),
        "Accuracy": (metrics.Accuracy(), (np.maximum(labels, 0), predicted_class)),
        "BinaryAccuracy": (metrics.BinaryAccuracy(threshold=0.2), (binary_true, scores)),
        "MeanSquaredError": (metrics.MeanSquaredError(), (binary_true, scores)),
        "MeanAbsoluteError": (metrics.MeanAbsoluteError(), (binary_true, scores)),
    }
    return {name: (metric, (*args, weights)) for name, (metric, args) in cases.items()}


def _exact(hi, lo) -> float:
    import numpy as np

    return float(np.float64(hi) + np.float64(lo))


def _state_figures(metric, state) -> dict:
    """Result, total and count of a host (NumPy) state; the two-float sums added in float64."""
    return {
        "result": float(metric.result(state)),
        "total": _exact(state.total_hi, state.total_lo),
        "count": _exact(state.count_hi, state.count_lo),
    }


def _metric_checks() -> dict:
    """Every metric family's state four ways; all metrics go through one program per way."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxent import metrics

    mesh = jax.make_mesh((jax.device_count(),), ("x",))  # every device of every process
    rows = NamedSharding(mesh, P("x"))
    cases = _metric_cases()
    batches = {name: args for name, (_, args) in cases.items()}

    def update_all(batches: dict) -> dict:
        return {name: metric.update(metric.init(), *batches[name]) for name, (metric, _) in cases.items()}

    def per_device(batches: dict):
        local = update_all(batches)
        merged = {name: metrics.merge_across(state, "x") for name, state in local.items()}
        # One device counts 2^24 samples, the others one each: merge_across keeps every one.
        mean = metrics.Mean()
        weight = jnp.where(jax.lax.axis_index("x") == 0, 2.0**24, 1.0)
        big = mean.update(mean.init(), jnp.ones((1,)), sample_weight=weight)
        return jax.lax.psum(local, "x"), merged, jax.lax.psum(big, "x"), metrics.merge_across(big, "x")

    _log("metrics: one device")
    single = _host(jax.jit(update_all)(batches))  # this process's first device
    # This process's rows of each batch; JAX puts them on this process's devices of the mesh.
    per_process = BATCH // jax.process_count()
    mine = slice(jax.process_index() * per_process, (jax.process_index() + 1) * per_process)
    sharded = jax.tree.map(lambda a: jax.make_array_from_process_local_data(rows, a[mine], a.shape), batches)
    assert not jax.tree.leaves(sharded)[0].is_fully_addressable  # the batch really spans the processes
    _log("metrics: psum and merge_across in shard_map")
    summed, merged, big_summed, big_merged = _host(
        jax.jit(jax.shard_map(per_device, mesh=mesh, in_specs=P("x"), out_specs=P()))(sharded)
    )
    _log("metrics: jit of the sharded batch")
    from_jit = _host(jax.jit(update_all)(sharded))
    report = {
        name: {
            way: _state_figures(metric, states[name])
            for way, states in (("single", single), ("psum", summed), ("merge_across", merged), ("jit", from_jit))
        }
        for name, (metric, _) in cases.items()
    }
    report["big_and_small"] = {
        "devices": jax.device_count(),
        "merge_across_count": _exact(big_merged.count_hi, big_merged.count_lo),
        "psum_count": _exact(big_summed.count_hi, big_summed.count_lo),
    }
    _log("metrics: done")
    return report


# --- the fused vocabulary-parallel cross entropy ----------------------------------------------

FUSED_N, FUSED_D, FUSED_SHARD_V = 16, 6, 12  # 12 columns per shard: not a multiple of block_size=5

# name: (mesh shape (data, vocab), vocab axis across the processes?, kernel layout, options)
FUSED_CASES = {
    "dv_vocab4": ((1, 4), True, "dv", {}),
    "vd_vocab4_options": ((1, 4), True, "vd", {"ignore_class": -1, "label_smoothing": 0.1, "z_loss": 1e-3}),
    "dv_data2_x_vocab2": ((2, 2), False, "dv", {"ignore_class": -1, "label_smoothing": 0.1}),
    "vd_vocab2_across_x_data2": ((2, 2), True, "vd", {"z_loss": 1e-3}),
}


def _materialised_loss(features, kernel, bias, labels, *, layout, ignore_class=None, label_smoothing=0.0, z_loss=0.0):
    """The loss from the ``[N, V]`` logits, written out: the reference."""
    import jax
    import jax.numpy as jnp

    logits = (features @ kernel if layout == "dv" else features @ kernel.T) + bias
    lse = jax.nn.logsumexp(logits, axis=-1)
    ignored = labels == ignore_class if ignore_class is not None else jnp.zeros(labels.shape, bool)
    picked = jnp.take_along_axis(logits, jnp.where(ignored, 0, labels)[:, None], axis=-1)[:, 0]
    loss = (1 - label_smoothing) * (lse - picked) + label_smoothing * (lse - jnp.mean(logits, -1)) + z_loss * lse**2
    return jnp.where(ignored, 0.0, loss)


def _fused_inputs(mesh_shape: tuple[int, int], layout: str, options: dict) -> dict:
    """One case's host arrays (every process draws the same ones)."""
    import numpy as np

    vocab = mesh_shape[1] * FUSED_SHARD_V
    rng = np.random.default_rng(1)
    labels = rng.integers(0, vocab, FUSED_N).astype(np.int32)
    if "ignore_class" in options:
        labels[::5] = options["ignore_class"]
    return {
        "features": rng.standard_normal((FUSED_N, FUSED_D)).astype(np.float32),
        "kernel": rng.standard_normal((FUSED_D, vocab) if layout == "dv" else (vocab, FUSED_D)).astype(np.float32),
        "bias": rng.standard_normal(vocab).astype(np.float32),
        "labels": labels,
        "cotangent": rng.standard_normal(FUSED_N).astype(np.float32),
    }


def _value_and_grads(loss_fn, x, w, b, ct):
    """Per-token losses, their VJP with ``ct``, and the gradients of their sum."""
    import jax
    import jax.numpy as jnp

    loss, vjp = jax.vjp(loss_fn, x, w, b)
    return loss, vjp(ct), jax.grad(lambda x, w, b: jnp.sum(loss_fn(x, w, b)), argnums=(0, 1, 2))(x, w, b)


def _fused_references(inputs: dict) -> dict:
    """Every case's materialised loss and gradients, in one program on this process's first device."""
    import jax

    @jax.jit
    def all_cases(inputs):
        out = {}
        for name, (_, _, layout, options) in FUSED_CASES.items():
            i = inputs[name]
            loss_fn = lambda x, w, b, i=i, layout=layout, options=options: _materialised_loss(  # noqa: E731
                x, w, b, i["labels"], layout=layout, **options
            )
            out[name] = _value_and_grads(loss_fn, i["features"], i["kernel"], i["bias"], i["cotangent"])
        return out

    return jax.device_get(all_cases(inputs))


def _fused_sharded(
    mesh_shape: tuple[int, int], vocab_across: bool, layout: str, options: dict, inputs: dict, check_allgather: bool
):
    """The vocabulary-parallel loss on the global mesh: per-token values, VJP and the gradients of
    the summed loss psum'd over the data axis (a training step), as NumPy on every process; with
    ``check_allgather`` also the kernel gradient gathered by ``process_allgather``."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.experimental import multihost_utils
    from jax.sharding import AxisType, Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    from jaxent.nn import linear_sparse_softmax_cross_entropy

    # jax.devices() lists process 0's devices first: rows of the device grid are processes.
    grid = np.array(jax.devices()).reshape(mesh_shape)
    if mesh_shape == (2, 2) and vocab_across:
        grid = grid.T  # data within a process, vocabulary across the processes
    mesh = Mesh(grid, ("data", "vocab"), axis_types=(AxisType.Auto, AxisType.Auto))
    kernel_spec = P(None, "vocab") if layout == "dv" else P("vocab", None)
    specs = {"features": P("data"), "kernel": kernel_spec, "bias": P("vocab"), "labels": P("data")}
    specs["cotangent"] = P("data")

    def put(name):  # each process fills its own devices' shards from its copy; nothing is sent
        array, sharding = inputs[name], NamedSharding(mesh, specs[name])
        return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])

    args = {name: put(name) for name in specs}
    assert not args["kernel"].is_fully_addressable  # the kernel really spans the processes
    kwargs = {"block_size": 5, "kernel_layout": layout, **options}
    in_specs = (specs["features"], specs["kernel"], specs["bias"], specs["labels"])

    def local_loss(x, w, b, y):
        return linear_sparse_softmax_cross_entropy(x, w, y, bias=b, axis_name="vocab", **kwargs)

    per_token = jax.shard_map(local_loss, mesh=mesh, in_specs=in_specs, out_specs=P("data"))
    total = jax.shard_map(
        lambda x, w, b, y: jax.lax.psum(jnp.sum(local_loss(x, w, b, y)), "data"),
        mesh=mesh,
        in_specs=in_specs,
        out_specs=P(),
    )

    def step(x, w, b, y, ct):
        loss, vjp = jax.vjp(lambda x, w, b: per_token(x, w, b, y), x, w, b)
        return loss, vjp(ct), jax.grad(total, argnums=(0, 1, 2))(x, w, b, y)

    def step_and_kernel_grad(*args):
        out = step(*args)
        return out, out[1][1]

    # Sharded results are gathered by the same program (replicated outputs, read with
    # addressable_data); the kernel gradient also comes back in its own (vocabulary) sharding.
    run = jax.jit(step_and_kernel_grad, out_shardings=(NamedSharding(mesh, P()), None))
    out, kernel_grad = run(*(args[name] for name in ("features", "kernel", "bias", "labels", "cotangent")))
    assert not kernel_grad.is_fully_addressable
    gathered = multihost_utils.process_allgather(kernel_grad, tiled=True) if check_allgather else None
    return _host(out), gathered


def _fused_checks() -> dict:
    import numpy as np

    inputs = {name: _fused_inputs(shape, layout, options) for name, (shape, _, layout, options) in FUSED_CASES.items()}
    _log("fused: materialised references")
    references = _fused_references(inputs)

    def relative_error(got, want) -> float:
        return float(np.max(np.abs(np.asarray(got) - want)) / max(float(np.max(np.abs(want))), 1e-30))

    report = {}
    for index, (name, spec) in enumerate(FUSED_CASES.items()):
        _log(f"fused: {name}")
        (loss, grads, summed), gathered = _fused_sharded(*spec, inputs[name], check_allgather=index == 0)
        want_loss, want_grads, want_summed = references[name]
        names = ("features", "kernel", "bias")
        figures = {"loss": relative_error(loss, want_loss), "finite": bool(np.all(np.isfinite(loss)))}
        figures |= {f"d_{n}": relative_error(g, w) for n, g, w in zip(names, grads, want_grads)}
        figures |= {f"d_{n}_of_psum_total": relative_error(g, w) for n, g, w in zip(names, summed, want_summed)}
        if gathered is not None:  # process_allgather of the sharded gradient == the replicated one
            figures["allgather_equals_replicated"] = bool(np.array_equal(gathered, grads[1]))
        report[name] = figures
    _log("fused: done")
    return report


def _readme_example() -> dict:
    """README.md's "Scaling out" example, run as written in every process."""
    import re

    import numpy as np

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(README_SECTION) :]
    code = re.findall(r"```python\n(.*?)```", section, flags=re.S)[0]
    _log("README example")
    scope: dict = {"__name__": "readme"}
    exec(compile(code, "README.md Scaling out", "exec"), scope)
    full_grad = np.asarray(scope["full_grad"])
    return {
        "accuracy": float(scope["accuracy"].result(scope["state"]).addressable_data(0)),
        "loss": float(scope["loss"].addressable_data(0)),
        "full_grad_shape": list(full_grad.shape),
        "full_grad_norm": float(np.linalg.norm(full_grad)),
        "full_grad_finite": bool(np.all(np.isfinite(full_grad))),
    }


def checks() -> dict:
    import jax

    start = time.perf_counter()
    report = {"metrics": _metric_checks()}
    report["metrics_s"] = time.perf_counter() - start
    report["fused"] = _fused_checks()
    report["readme"] = _readme_example()
    report["seconds"] = time.perf_counter() - start
    report["process_count"], report["device_count"] = jax.process_count(), jax.device_count()
    return report


# --- training ----------------------------------------------------------------------------------

TRAIN_EPOCHS = 2


def _import_train_digits():
    sys.path.insert(0, str(ROOT / "examples"))
    import train_digits

    return train_digits


def train() -> dict:
    import jax

    train_digits = _import_train_digits()

    def progress(*parts, **_):  # the example's progress lines go to this worker's log
        _log(" ".join(map(str, parts)))

    start = time.perf_counter()
    _log("train: data-parallel over every device of every process")
    parallel = train_digits.train(epochs=TRAIN_EPOCHS, print_fn=progress)
    parallel_s = time.perf_counter() - start
    keys = ("loss", "accuracy", "test_loss", "test_accuracy")
    report = {
        "process_count": jax.process_count(),
        "parallel": {"num_devices": parallel.num_devices, **{k: getattr(parallel, k) for k in keys}},
        "parallel_s": parallel_s,
    }
    if jax.process_index() == 0:  # the reference needs no other process: one computes it
        _log("train: one device (this process alone)")
        single = train_digits.train(epochs=TRAIN_EPOCHS, num_devices=1, print_fn=progress)
        report["single"] = {"num_devices": single.num_devices, **{k: getattr(single, k) for k in keys}}
    _log("train: done")
    report["seconds"] = time.perf_counter() - start
    return report


# --- the launcher's own tests (no JAX) --------------------------------------------------------


def fail() -> dict:
    """Worker 1 fails at once; worker 0 would wait for ever (as if blocked in a collective)."""
    if process_id() == 1:
        raise RuntimeError("worker 1 fails on purpose")
    time.sleep(3600)
    return {}


def hang() -> dict:
    """Every worker waits for ever: only the launcher's deadline ends the run."""
    time.sleep(3600)
    return {}


def ok() -> dict:
    return {"process_id": process_id()}


PROGRAMS = {"checks": checks, "train": train}
LAUNCHER_TESTS = {"fail": fail, "hang": hang, "ok": ok}

if __name__ == "__main__":
    program = sys.argv[1]
    if program in PROGRAMS:
        # A user's script imports its libraries first and joins the runtime afterwards, so
        # importing jaxent (and the example) must not start JAX's backend: if it did,
        # jax.distributed.initialize would refuse to run.
        import jaxent  # noqa: F401

        if program == "train":
            _import_train_digits()
        run_worker(PROGRAMS[program])
    else:
        run_worker(LAUNCHER_TESTS[program], distributed=False)
