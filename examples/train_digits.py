"""Train a small Flax MLP on scikit-learn's digits with jaxent's loss, metrics and RMSprop.

The Keras 2 recipe ``model.compile(optimizer=RMSprop(), loss=SparseCategoricalCrossentropy(
from_logits=True), metrics=["accuracy"])`` followed by ``model.fit(...)``, written as plain
JAX:

- the model is a Flax NNX ``MLP``, split into a graph definition and a pytree of parameters so
  that the train step is an ordinary pure function;
- the loss is ``jaxent.losses.SparseCategoricalCrossentropy(from_logits=True)``, closed over by
  the jitted train step (loss objects are immutable and hashable);
- the optimizer is ``jaxent.optimizers.rmsprop`` (Keras's RMSprop as an optax transformation);
- the metrics are jaxent metric objects: each step builds the batch's state with ``update`` and
  folds it into the epoch's state with ``merge``; the host reads ``result`` once per epoch;
- with more than one JAX device, the same step runs data-parallel under ``jax.shard_map``: the
  batch is split over a ``"data"`` mesh axis, gradients are averaged with ``jax.lax.pmean`` and
  metric states (sums) are added with ``jax.lax.psum``. To try it on a CPU, simulate devices::

      XLA_FLAGS=--xla_force_host_platform_device_count=4 JAX_PLATFORMS=cpu \\
          python examples/train_digits.py --plot training.png

- the same code runs data-parallel across processes (one per host on GPU/TPU clusters) after
  ``jax.distributed.initialize``: the mesh then spans every process's devices, and each process
  hands over only its own rows of each batch (``jax.make_array_from_process_local_data``). Two
  local CPU processes with two devices each form one mesh of 4::

      for i in 0 1; do python examples/train_digits.py --cpu-devices 2 \\
          --coordinator 127.0.0.1:12355 --num-processes 2 --process-id $i & done; wait

Needs ``flax``, ``scikit-learn`` and (for ``--plot``) ``matplotlib``: ``pip install -e
".[notebooks]"``. The data set ships inside scikit-learn; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from jaxent import losses, metrics
from jaxent.optimizers import rmsprop

DATA_AXIS = "data"

# Configuration is immutable and hashable: close over it inside jit.
LOSS = losses.SparseCategoricalCrossentropy(from_logits=True)
TRAIN_METRICS = {"loss": metrics.Mean(name="loss"), "accuracy": metrics.Accuracy()}
TEST_METRICS = {
    "loss": metrics.SparseCategoricalCrossentropy(from_logits=True, name="loss"),
    "accuracy": metrics.Accuracy(),
}


# --- data ---------------------------------------------------------------------------------


def load_data(test_size: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits (1797 images, 10 classes) as ``x_train, y_train, x_test, y_test``.

    Pixels are scaled from 0..16 to 0..1 and flattened to 64 features (float32); labels are
    int32 class ids. The stratified split is fixed by ``seed``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return x_train, y_train, x_test, y_test


# --- model ----------------------------------------------------------------------------------


class MLP(nnx.Module):
    """64 -> hidden -> hidden -> 10 with ReLU; returns logits (hence ``from_logits=True``)."""

    def __init__(self, in_features: int, hidden: int, num_classes: int, *, rngs: nnx.Rngs) -> None:
        self.hidden1 = nnx.Linear(in_features, hidden, rngs=rngs)
        self.hidden2 = nnx.Linear(hidden, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, num_classes, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = nnx.relu(self.hidden1(x))
        x = nnx.relu(self.hidden2(x))
        return self.out(x)


# --- one step -------------------------------------------------------------------------------


def init_metric_states(metric_set: dict[str, metrics.Metric]) -> dict[str, metrics.MetricState]:
    return {name: metric.init() for name, metric in metric_set.items()}


def merge_metric_states(metric_set, states_a, states_b):
    return {name: metric.merge(states_a[name], states_b[name]) for name, metric in metric_set.items()}


def train_step(graphdef, optimizer, params, opt_state, epoch_states, x, y, *, axis_name=None):
    """One RMSprop step on the batch ``(x, y)``; returns new params, optimizer and metric states.

    With ``axis_name`` (inside ``shard_map``) ``x, y`` are this device's shard: the gradients of
    the per-device mean losses are averaged with ``pmean`` (equal shards, so this is the
    gradient of the global batch mean) and the batch's metric states are summed with ``psum``.
    """

    def loss_fn(params):
        logits = nnx.merge(graphdef, params)(x)
        return LOSS(y, logits), logits

    if axis_name is not None:
        # Differentiate this device's copy of the replicated parameters: its gradient is the
        # gradient of the local loss (without the cast, JAX would already sum the gradients of
        # replicated inputs over the devices, and the pmean below would average nothing).
        params_here = jax.lax.pcast(params, axis_name, to="varying")
    else:
        params_here = params
    (loss, logits), grads = jax.value_and_grad(loss_fn, has_aux=True)(params_here)
    predictions = jnp.argmax(logits, axis=-1)
    batch_states = {
        "loss": TRAIN_METRICS["loss"].update(TRAIN_METRICS["loss"].init(), loss),
        "accuracy": TRAIN_METRICS["accuracy"].update(TRAIN_METRICS["accuracy"].init(), y, predictions),
    }
    if axis_name is not None:
        grads = jax.lax.pmean(grads, axis_name)
        batch_states = jax.lax.psum(batch_states, axis_name)  # states are sums: psum == merge
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    return params, opt_state, merge_metric_states(TRAIN_METRICS, epoch_states, batch_states)


def eval_step(graphdef, params, epoch_states, x, y, weight, *, axis_name=None):
    """Test metrics of a batch; rows with ``weight`` 0 (padding) count for nothing."""
    logits = nnx.merge(graphdef, params)(x)
    predictions = jnp.argmax(logits, axis=-1)
    batch_states = {
        "loss": TEST_METRICS["loss"].update(TEST_METRICS["loss"].init(), y, logits, sample_weight=weight),
        "accuracy": TEST_METRICS["accuracy"].update(
            TEST_METRICS["accuracy"].init(), y, predictions, sample_weight=weight
        ),
    }
    if axis_name is not None:
        batch_states = jax.lax.psum(batch_states, axis_name)
    return merge_metric_states(TEST_METRICS, epoch_states, batch_states)


def compile_steps(graphdef, optimizer, mesh: jax.sharding.Mesh | None):
    """Jitted ``(train, eval)`` steps: plain on one device, ``shard_map`` over ``mesh`` otherwise."""
    train = functools.partial(train_step, graphdef, optimizer)
    evaluate = functools.partial(eval_step, graphdef)
    if mesh is None:
        return jax.jit(train), jax.jit(evaluate)
    # Parameters, optimizer and metric states are replicated (P()); the batch is split (P("data")).
    train = jax.shard_map(
        functools.partial(train, axis_name=DATA_AXIS),
        mesh=mesh,
        in_specs=(P(), P(), P(), P(DATA_AXIS), P(DATA_AXIS)),
        out_specs=(P(), P(), P()),
    )
    evaluate = jax.shard_map(
        functools.partial(evaluate, axis_name=DATA_AXIS),
        mesh=mesh,
        in_specs=(P(), P(), P(DATA_AXIS), P(DATA_AXIS), P(DATA_AXIS)),
        out_specs=P(),
    )
    return jax.jit(train), jax.jit(evaluate)


# --- the loop -------------------------------------------------------------------------------


def shard_rows(sharding: NamedSharding, *arrays: np.ndarray) -> tuple[jax.Array, ...]:
    """Global host ``arrays`` as ``jax.Array`` split by rows over ``sharding``'s devices.

    Built with ``jax.make_array_from_process_local_data``: each process passes only the rows
    that its own devices hold, so with several processes (hosts) no process needs the others'
    data. Here every process has the whole data set and cuts its part out; a multi-host input
    pipeline would load just that part. With one process the part is the whole batch.
    """
    rows = len(arrays[0])
    # The rows held by this process's devices (contiguous: the mesh lists devices by process).
    spans = [index[0].indices(rows)[:2] for index in sharding.addressable_devices_indices_map((rows,)).values()]
    mine = slice(min(start for start, _ in spans), max(stop for _, stop in spans))
    return tuple(
        jax.make_array_from_process_local_data(sharding, array[mine], (rows, *array.shape[1:])) for array in arrays
    )


@dataclasses.dataclass
class History:
    """Per-epoch results of :func:`train` (Keras's ``History.history`` plus run details)."""

    loss: list[float] = dataclasses.field(default_factory=list)
    accuracy: list[float] = dataclasses.field(default_factory=list)
    test_loss: list[float] = dataclasses.field(default_factory=list)
    test_accuracy: list[float] = dataclasses.field(default_factory=list)
    num_devices: int = 1
    seconds: float = 0.0
    params: Any = None

    @property
    def final_test_accuracy(self) -> float:
        return self.test_accuracy[-1]


def progress_bar(done: int, total: int, width: int = 30) -> str:
    """``[=========>....................] 7/21`` (plain text)."""
    filled = width * done // total
    arrow = ">" if done < total else ""
    return f"[{'=' * filled}{arrow}{'.' * (width - filled - len(arrow))}] {done}/{total}"


def train(
    epochs: int = 20,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    hidden: int = 128,
    seed: int = 0,
    num_devices: int | None = None,
    verbose: bool = True,
    print_fn: Callable[..., None] = print,
) -> History:
    """Train the MLP with jaxent's loss, RMSprop and metrics; report and return per-epoch results.

    ``num_devices`` (default: all of ``jax.devices()``) > 1 trains data-parallel over a
    ``"data"`` mesh axis; ``batch_size`` must then be a multiple of it. Each epoch shuffles the
    training set (fixed ``seed``) and drops the last incomplete batch; the test set is evaluated
    in one padded batch whose padding rows have sample weight 0.
    """
    x_train, y_train, x_test, y_test = load_data(seed=seed)
    devices = jax.devices()[: num_devices or len(jax.devices())]
    n = len(devices)
    if batch_size % n:
        raise ValueError(f"batch_size={batch_size} must be a multiple of the number of devices ({n})")
    mesh = jax.make_mesh((n,), (DATA_AXIS,), devices=devices) if n > 1 else None

    model = MLP(x_train.shape[1], hidden, 10, rngs=nnx.Rngs(seed))
    graphdef, params = nnx.split(model)
    optimizer = rmsprop(learning_rate=learning_rate)
    opt_state = optimizer.init(params)
    train_fn, eval_fn = compile_steps(graphdef, optimizer, mesh)

    # The test set as one batch, padded to a multiple of n with weight-0 rows.
    padded = -(-len(x_test) // n) * n
    pad = padded - len(x_test)
    x_eval = np.concatenate([x_test, np.zeros((pad, x_test.shape[1]), x_test.dtype)])
    y_eval = np.concatenate([y_test, np.zeros(pad, y_test.dtype)])
    w_eval = np.concatenate([np.ones(len(x_test), np.float32), np.zeros(pad, np.float32)])

    if mesh is not None:
        replicated, split = NamedSharding(mesh, P()), NamedSharding(mesh, P(DATA_AXIS))
        params, opt_state = jax.device_put((params, opt_state), replicated)  # equal on every process
        x_eval, y_eval, w_eval = shard_rows(split, x_eval, y_eval, w_eval)
    else:
        split = None

    def put(*arrays):
        return arrays if split is None else shard_rows(split, *arrays)

    history = History(num_devices=n)
    rng = np.random.default_rng(seed)  # the same on every process: they agree on each batch
    steps = len(x_train) // batch_size
    is_tty = sys.stdout.isatty()
    verbose = verbose and jax.process_index() == 0  # one report, not one per process
    if verbose:
        where = f"data-parallel over {n} devices (shard_map, mesh axis '{DATA_AXIS}')" if n > 1 else "1 device"
        if mesh is not None and jax.process_count() > 1:
            where += f" in {jax.process_count()} processes"
        print_fn(
            f"Training on {len(x_train)} digits, testing on {len(x_test)}; {where}; "
            f"batch {batch_size}, {steps} steps per epoch."
        )
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        states = init_metric_states(TRAIN_METRICS)
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            params, opt_state, states = train_fn(params, opt_state, states, *put(x_train[index], y_train[index]))
            if verbose and is_tty:
                print_fn(f"\repoch {epoch:>2}/{epochs} {progress_bar(step + 1, steps)}", end="", flush=True)
        test_states = eval_fn(params, init_metric_states(TEST_METRICS), x_eval, y_eval, w_eval)
        for key, metric_set, source in (("", TRAIN_METRICS, states), ("test_", TEST_METRICS, test_states)):
            for name, metric in metric_set.items():
                getattr(history, key + name).append(float(metric.result(source[name])))
        if verbose:
            print_fn(
                f"{chr(13) if is_tty else ''}epoch {epoch:>2}/{epochs} {progress_bar(steps, steps)}"
                f" - loss {history.loss[-1]:.4f} - accuracy {history.accuracy[-1]:.4f}"
                f" - test_loss {history.test_loss[-1]:.4f} - test_accuracy {history.test_accuracy[-1]:.4f}"
            )
    history.seconds = time.perf_counter() - start
    history.params = params
    if verbose:
        print_fn(f"Final test accuracy: {history.final_test_accuracy:.2%} ({history.seconds:.1f} s)")
    return history


def plot_history(history: History, path: str | Path | None = None):
    """Loss and accuracy per epoch (train and test) as a matplotlib Figure, saved to ``path``."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(history.loss) + 1)
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, history.loss, "o-", ms=3, label="train (Mean of batch losses)")
    ax_loss.plot(epochs, history.test_loss, "s-", ms=3, label="test (SparseCategoricalCrossentropy)")
    ax_loss.set(xlabel="epoch", ylabel="loss", yscale="log", title="loss")
    ax_acc.plot(epochs, history.accuracy, "o-", ms=3, label="train")
    ax_acc.plot(epochs, history.test_accuracy, "s-", ms=3, label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    devices = f"{history.num_devices} devices" if history.num_devices > 1 else "1 device"
    fig.suptitle(
        f"Flax MLP on scikit-learn digits with jaxent RMSprop ({devices}): "
        f"final test accuracy {history.final_test_accuracy:.2%}"
    )
    if path is not None:
        fig.savefig(path, dpi=100, metadata={"Software": None})
    return fig


def main(argv: list[str] | None = None) -> History:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--devices", type=int, default=None, help="number of devices (default: all)")
    parser.add_argument("--plot", type=Path, default=None, help="save the training curves to this PNG")
    parser.add_argument("--cpu-devices", type=int, default=None, help="CPU devices of this process (CPU only)")
    parser.add_argument("--coordinator", default=None, help="host:port of process 0, to run as several processes")
    parser.add_argument("--num-processes", type=int, default=None, help="with --coordinator: how many processes")
    parser.add_argument("--process-id", type=int, default=None, help="with --coordinator: this process, 0 to N-1")
    args = parser.parse_args(argv)
    if args.cpu_devices is not None:
        jax.config.update("jax_num_cpu_devices", args.cpu_devices)  # before JAX starts its backend
    if args.coordinator is not None:
        # On GPU/TPU clusters (SLURM, Cloud TPU, ...) jax.distributed.initialize() finds all three.
        jax.distributed.initialize(
            coordinator_address=args.coordinator, num_processes=args.num_processes, process_id=args.process_id
        )
    history = train(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        num_devices=args.devices,
    )
    if args.plot is not None and jax.process_index() == 0:
        plot_history(history, args.plot)
        print(f"Saved {args.plot}")
    return history


if __name__ == "__main__":
    main()
