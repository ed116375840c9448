"""Port a tf.keras ``compile``/``fit``/``evaluate`` script to JAX with jaxent, and check it against Keras.

Run ``python examples/port_keras_fit.py [scenario ...]``: for each scenario it prints the
tf.keras script, its port, and the port's per-epoch history next to the one tf-keras 2.21
recorded (``tests/golden/keras_fit.npz``, written by ``tests/golden/generate_keras_fit.py``
from the very script shown), with the largest relative difference. The scenarios:

- ``binary_sample_weight``: sigmoid output, ``"binary_crossentropy"``, ``sample_weight``, a
  partial last batch, ``metrics=["accuracy"]`` beside ``weighted_metrics=[...]``;
- ``multiclass_schedule_global_clipnorm``: logits, sparse labels, ``"accuracy"``, top-2
  accuracy, an ``ExponentialDecay`` learning rate, ``global_clipnorm``, ``validation_data``;
- ``regression_clipvalue``: ``"mse"``/``"mae"``, ``clipvalue``, momentum, weighted validation;
- ``class_weight_onehot``: softmax output, one-hot labels, ``class_weight``, validation.

The port is plain JAX: a Dense stack (:func:`dense_stack`), a frozen :class:`Compiled` made
by :func:`compile_model` from the same identifiers Keras was given, and a short :func:`fit` /
:func:`evaluate`. It reproduces Keras's history to ~1e-7 (relative) and its weights to ~1e-7,
because it follows these rules of ``Model.fit`` (tf-keras 2.21, each measured by the replay
and by ``tests/test_port_keras_fit.py``):

1. **The batch loss** is compile's loss with reduction ``"auto"``: the per-sample losses
   ``l_i`` (the last axis averaged) times the sample weights, summed, divided by the number of
   samples in the batch, not by the sum of the weights::

       loss_b = sum_i(w_i * l_i) / B_b          (w_i = 1 without sample or class weights)

   This is the value that is differentiated; one optimizer step per batch, the partial last
   batch included.
2. **The history ``loss``** of an epoch is a running ``Mean`` of the batch losses weighted by
   batch size, each batch's loss taken from its forward pass, *before* its update::

       loss = sum_b(B_b * loss_b) / sum_b(B_b) = sum_i(w_i * l_i) / N

   so a partial last batch counts in proportion to its size (a plain mean of the batch losses
   would not match). Keras resets it at every epoch; the history keeps its value at the end.
3. **``metrics=[...]`` ignore ``sample_weight`` and ``class_weight``**: the plain mean of the
   per-sample values over the epoch. **``weighted_metrics=[...]`` use them**: ``sum_i(w_i *
   m_i) / sum_i(w_i)``. The normalisers differ, so a weighted ``"binary_crossentropy"`` metric
   is not the history loss: ``loss / weighted_crossentropy = mean(w)`` over the epoch. A
   weighted metric whose name is also an unweighted one's is logged as ``weighted_<name>``.
4. **``class_weight={c: w_c}``** becomes a per-sample weight ``w_c[class(y_i)] *
   sample_weight_i`` (class = argmax of one-hot rows, else the rounded label), which then acts
   exactly as ``sample_weight`` does in 1-3: :func:`jaxent.utils.class_weight_to_sample_weight`.
   Validation and ``evaluate`` never see class weights.
5. **Identifiers**: a string names its metric as written (``"acc"`` logs ``acc``), an object
   by its ``name``. ``"accuracy"``/``"acc"`` (and ``"crossentropy"``) resolve from the shapes of
   the labels and the model output: ``binary_accuracy`` for one output unit,
   ``sparse_categorical_accuracy`` for integer labels, ``categorical_accuracy`` for one-hot
   labels (:func:`jaxent.metrics.get` with ``y_true=``/``y_pred=``). Rank-1 labels beside rank-2
   outputs get a trailing axis, and so does ``sample_weight``.
6. **Hidden logits**: when the model ends in ``sigmoid`` or ``softmax`` and a crossentropy loss
   or metric has ``from_logits=False``, Keras computes it from the last layer's pre-activation
   logits, not from the probabilities. A JAX array carries no logits: pass them, with
   ``from_logits=True``.
7. **The optimizer** starts at step 0: update ``k`` (counting batches from 0 across epochs)
   uses ``learning_rate(k)``, so the first update uses ``schedule(0)``. Gradient clipping
   (``clipvalue``, ``clipnorm``, ``global_clipnorm``) acts on the gradients of the batch loss.
   jaxent's ``RMSprop`` counts and clips the same way.
8. **``validation_data=(x, y[, sample_weight])``** is evaluated after each epoch's last update,
   as ``evaluate`` would: batches of ``batch_size``, the same loss ``Mean`` (rule 2), weighted
   metrics with the validation sample weights. Its keys get the prefix ``val_``.

The port leaves out what these scenarios do not need (shuffling, callbacks, multiple outputs,
regularisation losses, masks).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import inspect
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxent import losses, metrics, optimizers
from jaxent.optimizers import schedules
from jaxent.utils import class_weight_to_sample_weight

GOLDEN_FILE = Path(__file__).resolve().parents[1] / "tests" / "golden" / "keras_fit.npz"

Params = tuple[dict[str, jax.Array], ...]

# --- the model: Keras Dense layers in JAX ---------------------------------------------------

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "linear": lambda x: x,
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "softmax": jax.nn.softmax,  # over the last axis, as Keras's
}


def dense_stack(params: Params, x: jax.Array, activations: Sequence[str]) -> tuple[jax.Array, jax.Array]:
    """A ``keras.Sequential`` of ``Dense`` layers: ``h = activation(h @ kernel + bias)`` per layer.

    Returns the last layer's pre-activation (the logits Keras hides behind a sigmoid or softmax,
    rule 6) and the model's output.
    """
    h = x
    for layer, activation in zip(params, activations, strict=True):
        logits = h @ layer["kernel"] + layer["bias"]
        h = ACTIVATIONS[activation](logits)
    return logits, h


def params_from_keras(weights: Mapping[str, np.ndarray]) -> Params:
    """``model.get_weights()`` (stored as ``kernel_<i>``, ``bias_<i>``) as the port's parameters."""
    layers = sum(1 for name in weights if name.startswith("kernel_"))
    return tuple(
        {"kernel": jnp.asarray(weights[f"kernel_{i}"]), "bias": jnp.asarray(weights[f"bias_{i}"])}
        for i in range(layers)
    )


# --- compile: what Keras makes of the identifiers -------------------------------------------


def with_hidden_logits(loss_or_metric: Any, activation: str) -> tuple[Any, bool]:
    """Rule 6: ``(the object to call on the logits, True)`` where Keras would use them, else ``(it, False)``.

    A crossentropy with ``from_logits=False`` (a class with the option, a wrapped function that
    takes it, or the function itself) after a sigmoid or softmax becomes the same crossentropy
    with ``from_logits=True``, to be called on the last layer's pre-activation.
    """
    if activation not in ("sigmoid", "softmax"):
        return loss_or_metric, False
    if isinstance(loss_or_metric, (losses.Loss, metrics.Metric)):
        config = loss_or_metric.get_config()
        if ("from_logits" in config or takes_from_logits(config.get("fn"))) and not config.get("from_logits"):
            return type(loss_or_metric).from_config({**config, "from_logits": True}), True
        return loss_or_metric, False
    if takes_from_logits(loss_or_metric):
        return with_from_logits(loss_or_metric), True
    return loss_or_metric, False


def takes_from_logits(fn: Any) -> bool:
    return callable(fn) and "from_logits" in inspect.signature(fn).parameters


@functools.cache
def with_from_logits(fn: Callable[..., jax.Array]) -> Callable[..., jax.Array]:
    """``fn(..., from_logits=True)``, one object per ``fn`` so that compiled steps are reused."""
    return functools.partial(fn, from_logits=True)


def summed(loss: losses.Loss) -> losses.Loss:
    """``loss`` with reduction ``"sum"``: the port divides by the batch size itself (rule 1)."""
    config = loss.get_config()
    if config["reduction"] not in ("auto", "sum_over_batch_size"):
        raise ValueError(f"this port handles the reduction 'auto' only, received {config['reduction']!r}")
    return type(loss).from_config({**config, "reduction": "sum"})


@dataclasses.dataclass(frozen=True)
class CompiledMetric:
    """One entry of the logs: its name, the jaxent metric, and what it is fed."""

    name: str
    metric: metrics.Metric
    weighted: bool  # weighted_metrics=: gets the sample (and class) weights
    on_logits: bool  # rule 6: fed the pre-activation logits


@dataclasses.dataclass(frozen=True)
class Compiled:
    """What ``model.compile(...)`` fixes: the model's activations, loss, optimizer and metrics.

    ``summed_loss`` is the loss with reduction ``"sum"`` (see :func:`batch_loss`).
    """

    activations: tuple[str, ...]
    optimizer: optax.GradientTransformation
    summed_loss: losses.Loss
    loss_on_logits: bool
    metrics: tuple[Any, ...] = ()
    weighted_metrics: tuple[Any, ...] = ()


def compile_model(
    activations: Sequence[str],
    optimizer: Any,
    loss: Any,
    metrics: Sequence[Any] = (),
    weighted_metrics: Sequence[Any] = (),
) -> Compiled:
    """``model.compile(optimizer, loss, metrics, weighted_metrics)`` for a Dense stack.

    ``optimizer``, ``loss`` and the metrics take Keras's identifiers ("rmsprop",
    "binary_crossentropy", "mse", "accuracy", objects, config dicts), resolved by jaxent's
    ``get`` functions. Keras wraps a loss *function* in a loss with reduction ``"auto"``; the
    port keeps the loss with reduction ``"sum"`` and divides by the batch size itself
    (:func:`batch_loss`, rule 1). Metrics stay identifiers until the first batch
    (:func:`build_metrics`), because ``"accuracy"`` depends on the shapes, as in Keras.
    """
    loss, loss_on_logits = with_hidden_logits(losses.get(loss), activations[-1])
    summed_loss = summed(loss) if isinstance(loss, losses.Loss) else losses.LossFunctionWrapper(loss, reduction="sum")
    return Compiled(tuple(activations), optimizers.get(optimizer), summed_loss, loss_on_logits,
                    tuple(metrics), tuple(weighted_metrics))


def build_metrics(compiled: Compiled, y_true: Any, y_pred: Any) -> tuple[CompiledMetric, ...]:
    """The logged metrics, resolved from the labels' and the output's shapes (rules 3 and 5)."""
    built: list[CompiledMetric] = []
    for identifiers, weighted in ((compiled.metrics, False), (compiled.weighted_metrics, True)):
        for identifier in identifiers:
            # a metric named as written ("acc"), or the object's own name
            metric = metrics.get(identifier, y_true=y_true, y_pred=y_pred)
            metric, logits = with_hidden_logits(metric, compiled.activations[-1])
            built.append(CompiledMetric(metric.name, metric, weighted, logits))
    unweighted = {m.name for m in built if not m.weighted}
    return tuple(
        dataclasses.replace(m, name=f"weighted_{m.name}") if m.weighted and m.name in unweighted else m for m in built
    )


# --- fit and evaluate ------------------------------------------------------------------------

LOSS_MEAN = metrics.Mean(name="loss")


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Batch:
    """One ``shuffle=False`` batch, padded to the full batch size.

    JAX compiles a step once per input shape, and Keras's last batch is smaller; rather than
    compile every step twice, the port pads it with rows whose ``mask`` and ``sample_weight``
    are 0 and carries the true ``size``. Every number is then the partial batch's: the loss
    divides by ``size`` (rule 1), means count only rows of nonzero weight.
    """

    x: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray  # sample (and class) weights, 1 where none were given; 0 on padding
    mask: np.ndarray  # 1 on the batch's rows, 0 on padding
    size: int


def batches(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None, batch_size: int) -> list[Batch]:
    """The data in order, cut into batches of ``batch_size`` rows, the last one partial and padded."""
    n = len(x)
    weights = np.ones(n, np.float32) if sample_weight is None else np.asarray(sample_weight, np.float32)
    out = []
    for start in range(0, n, batch_size):
        rows = slice(start, min(start + batch_size, n))
        size = rows.stop - rows.start

        def pad(a: np.ndarray) -> np.ndarray:
            return np.concatenate([a[rows], np.zeros((batch_size - size, *a.shape[1:]), a.dtype)])

        out.append(Batch(pad(x), pad(y), pad(weights), pad(np.ones(n, np.float32)), size))
    return out


def match_rank(y: jax.Array, weights: jax.Array, output: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Rule 5: rank-1 labels (and sample weights) beside rank-2 outputs get a trailing axis."""
    if output.ndim == 2 and y.ndim == 1:
        y = y[:, None]
    if output.ndim == 2 and weights.ndim == 1:
        weights = weights[:, None]
    return y, weights


def batch_loss(compiled: Compiled, params: Params, batch: Batch) -> tuple[jax.Array, tuple]:
    """Rule 1: ``sum_i(w_i * l_i) / B_b`` (padding rows have ``w_i = 0``); also the logits and output."""
    logits, output = dense_stack(params, batch.x, compiled.activations)
    y, weights = match_rank(batch.y, batch.sample_weight, output)
    loss = compiled.summed_loss(y, logits if compiled.loss_on_logits else output, weights) / batch.size
    return loss, (logits, output)


def init_logs(built: Sequence[CompiledMetric]) -> dict[str, metrics.MetricState]:
    """Fresh states: Keras resets the loss mean and the metrics at the start of every epoch."""
    return {"loss": LOSS_MEAN.init(), **{m.name: m.metric.init() for m in built}}


def update_logs(
    built: Sequence[CompiledMetric],
    states: dict[str, metrics.MetricState],
    loss: jax.Array,
    logits: jax.Array,
    output: jax.Array,
    batch: Batch,
) -> dict[str, metrics.MetricState]:
    """Fold one batch into the running logs: the loss weighted by the batch size (rule 2), each
    metric on the output (or the logits, rule 6), weighted only if it is a weighted metric (rule 3)."""
    new = {"loss": LOSS_MEAN.update(states["loss"], loss, sample_weight=batch.size)}
    for m in built:
        y, weights = match_rank(batch.y, batch.sample_weight if m.weighted else batch.mask, output)
        new[m.name] = m.metric.update(states[m.name], y, logits if m.on_logits else output, weights)
    return new


# The configuration is static (hashable), the batch traced: each step compiles once.
@functools.partial(jax.jit, static_argnums=(0, 1))
def train_step(
    compiled: Compiled, built: tuple[CompiledMetric, ...], params: Params, opt_state: Any, states: Any, batch: Batch
) -> tuple[Params, Any, Any, jax.Array]:
    """One batch of ``fit``: forward, log (before the update, rule 2), one optimizer step (rule 7)."""
    (loss, (logits, output)), grads = jax.value_and_grad(batch_loss, argnums=1, has_aux=True)(compiled, params, batch)
    updates, opt_state = compiled.optimizer.update(grads, opt_state, params)
    states = update_logs(built, states, loss, logits, output, batch)
    return optax.apply_updates(params, updates), opt_state, states, loss


@functools.partial(jax.jit, static_argnums=(0, 1))
def eval_step(compiled: Compiled, built: tuple[CompiledMetric, ...], params: Params, states: Any, batch: Batch) -> Any:
    """One batch of ``evaluate`` (and of the validation pass): forward and log."""
    loss, (logits, output) = batch_loss(compiled, params, batch)
    return update_logs(built, states, loss, logits, output, batch)


@functools.partial(jax.jit, static_argnums=0)
def log_results(built: tuple[CompiledMetric, ...], states: Mapping[str, metrics.MetricState]) -> dict[str, jax.Array]:
    """The logs: every metric's result (the loss's too)."""
    by_name = {"loss": LOSS_MEAN, **{m.name: m.metric for m in built}}
    return {name: by_name[name].result(state) for name, state in states.items()}


def logs(built: tuple[CompiledMetric, ...], states: Mapping[str, metrics.MetricState]) -> dict[str, float]:
    """The logs as Python floats, in Keras's order: loss, metrics, weighted metrics."""
    values = log_results(built, states)  # dicts come back from jit with their keys sorted
    return {name: float(values[name]) for name in ["loss", *(m.name for m in built)]}


@dataclasses.dataclass
class History:
    """``History.history`` (key -> one value per epoch) and, per epoch, each batch's ``(B_b, loss_b)``."""

    history: dict[str, list[float]]
    batch_losses: list[list[tuple[int, float]]]


def output_shape(compiled: Compiled, params: Params, x: np.ndarray) -> jax.ShapeDtypeStruct:
    """The model output's shape and dtype, without computing it."""
    return jax.eval_shape(lambda p, x: dense_stack(p, x, compiled.activations)[1], params, x)


def run_evaluation(
    compiled: Compiled, built: tuple[CompiledMetric, ...], params: Params, data: list[Batch]
) -> dict[str, float]:
    """The logs of one pass over ``data`` without updates (``evaluate``, validation)."""
    states = init_logs(built)
    for batch in data:
        states = eval_step(compiled, built, params, states, batch)
    return logs(built, states)


def evaluate(compiled: Compiled, params: Params, x, y, *, sample_weight=None, batch_size: int = 32) -> dict[str, float]:
    """``model.evaluate(x, y, sample_weight=..., batch_size=..., return_dict=True)`` (rules 2, 3, 5)."""
    x, y = np.asarray(x), np.asarray(y)
    built = build_metrics(compiled, y, output_shape(compiled, params, x))
    return run_evaluation(compiled, built, params, batches(x, y, sample_weight, batch_size))


def fit(
    compiled: Compiled,
    params: Params,
    x,
    y,
    *,
    sample_weight=None,
    class_weight: Mapping[int, float] | None = None,
    batch_size: int = 32,
    epochs: int = 1,
    validation_data: tuple | None = None,
) -> tuple[History, Params]:
    """``model.fit(x, y, ..., shuffle=False)``: returns the history and the trained parameters.

    ``class_weight`` becomes sample weights once, sample by sample, which is what Keras does
    batch by batch (rule 4); the optimizer state starts at step 0 (rule 7).
    """
    x, y = np.asarray(x), np.asarray(y)
    if class_weight is not None:
        sample_weight = np.asarray(class_weight_to_sample_weight(y, class_weight, sample_weight))
    built = build_metrics(compiled, y, output_shape(compiled, params, x))
    train = batches(x, y, sample_weight, batch_size)
    if validation_data is not None:
        x_val, y_val, *sw_val = validation_data
        val = batches(np.asarray(x_val), np.asarray(y_val), sw_val[0] if sw_val else None, batch_size)
    opt_state = compiled.optimizer.init(params)
    history: dict[str, list[float]] = {}
    batch_losses = []
    for _ in range(epochs):
        states, epoch_losses = init_logs(built), []
        for batch in train:
            params, opt_state, states, loss = train_step(compiled, built, params, opt_state, states, batch)
            epoch_losses.append((batch.size, float(loss)))
        epoch_logs = logs(built, states)
        if validation_data is not None:  # rule 8: after the epoch's last update
            epoch_logs.update({f"val_{k}": v for k, v in run_evaluation(compiled, built, params, val).items()})
        for name, value in epoch_logs.items():
            history.setdefault(name, []).append(value)
        batch_losses.append(epoch_losses)
    return History(history, batch_losses), params


# --- the scenarios: each tf.keras script (recorded as run) beside its port --------------------

KERAS_CODE: dict[str, str] = {}
PORTS: dict[str, Callable[..., tuple[History, dict[str, float], Params]]] = {}


def scenario(keras_code: str) -> Callable:
    """Register a port under its function's name, beside the tf.keras script it ports."""

    def register(port: Callable) -> Callable:
        KERAS_CODE[port.__name__] = keras_code
        PORTS[port.__name__] = port
        return port

    return register


@scenario('''\
model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(6, activation="relu"),
    keras.layers.Dense(1, activation="sigmoid"),
])
model.set_weights(initial_weights)
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=0.01),
    loss="binary_crossentropy",
    metrics=["accuracy"],
    weighted_metrics=["accuracy", "binary_crossentropy"],
)
history = model.fit(x, y, sample_weight=sample_weight, batch_size=8, epochs=4,
                    shuffle=False, verbose=0)
results = model.evaluate(x, y, sample_weight=sample_weight, batch_size=8,
                         verbose=0, return_dict=True)
''')
def binary_sample_weight(params, x, y, sample_weight):
    # "binary_crossentropy" after a sigmoid: computed from the logits (rule 6); the weighted
    # "accuracy" collides with the unweighted one and is logged as "weighted_accuracy" (rule 3).
    model = compile_model(
        activations=("relu", "sigmoid"),
        optimizer=optimizers.RMSprop(learning_rate=0.01),
        loss="binary_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=["accuracy", "binary_crossentropy"],
    )
    history, params = fit(model, params, x, y, sample_weight=sample_weight, batch_size=8, epochs=4)
    results = evaluate(model, params, x, y, sample_weight=sample_weight, batch_size=8)
    return history, results, params


@scenario('''\
model = keras.Sequential([
    keras.Input(shape=(5,)),
    keras.layers.Dense(8, activation="relu"),
    keras.layers.Dense(4),
])
model.set_weights(initial_weights)
schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate=0.02, decay_steps=4, decay_rate=0.6)
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=schedule, global_clipnorm=0.5),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2)],
)
history = model.fit(x, y, validation_data=(x_val, y_val), batch_size=10, epochs=4,
                    shuffle=False, verbose=0)
results = model.evaluate(x_val, y_val, batch_size=10, verbose=0, return_dict=True)
''')
def multiclass_schedule_global_clipnorm(params, x, y, x_val, y_val):
    # The schedule counts optimizer steps (batches) from 0 (rule 7); "accuracy" with integer
    # labels and 4 outputs is sparse_categorical_accuracy (rule 5).
    schedule = schedules.ExponentialDecay(initial_learning_rate=0.02, decay_steps=4, decay_rate=0.6)
    model = compile_model(
        activations=("relu", "linear"),
        optimizer=optimizers.RMSprop(learning_rate=schedule, global_clipnorm=0.5),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", metrics.SparseTopKCategoricalAccuracy(k=2)],
    )
    history, params = fit(model, params, x, y, validation_data=(x_val, y_val), batch_size=10, epochs=4)
    results = evaluate(model, params, x_val, y_val, batch_size=10)
    return history, results, params


@scenario('''\
model = keras.Sequential([
    keras.Input(shape=(3,)),
    keras.layers.Dense(5, activation="tanh"),
    keras.layers.Dense(2),
])
model.set_weights(initial_weights)
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=0.005, momentum=0.5, clipvalue=0.1),
    loss="mse",
    metrics=["mae"],
    weighted_metrics=["mse"],
)
history = model.fit(x, y, validation_data=(x_val, y_val, sample_weight_val), batch_size=7,
                    epochs=3, shuffle=False, verbose=0)
results = model.evaluate(x_val, y_val, sample_weight=sample_weight_val, batch_size=7,
                         verbose=0, return_dict=True)
''')
def regression_clipvalue(params, x, y, x_val, y_val, sample_weight_val):
    # No training weights, so the weighted "mse" equals the loss in training; on the weighted
    # validation data val_loss = sum(w*l)/N but val_mse = sum(w*l)/sum(w) (rules 1-3, 8).
    model = compile_model(
        activations=("tanh", "linear"),
        optimizer=optimizers.RMSprop(learning_rate=0.005, momentum=0.5, clipvalue=0.1),
        loss="mse",
        metrics=["mae"],
        weighted_metrics=["mse"],
    )
    history, params = fit(model, params, x, y, validation_data=(x_val, y_val, sample_weight_val),
                          batch_size=7, epochs=3)
    results = evaluate(model, params, x_val, y_val, sample_weight=sample_weight_val, batch_size=7)
    return history, results, params


@scenario('''\
model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(7, activation="relu"),
    keras.layers.Dense(3, activation="softmax"),
])
model.set_weights(initial_weights)
model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=0.01, rho=0.8),
    loss="categorical_crossentropy",
    metrics=["accuracy", keras.metrics.TopKCategoricalAccuracy(k=2)],
    weighted_metrics=["accuracy", "categorical_crossentropy"],
)
history = model.fit(x, y, class_weight={0: 1.0, 1: 3.0, 2: 0.5},
                    validation_data=(x_val, y_val), batch_size=12, epochs=4,
                    shuffle=False, verbose=0)
results = model.evaluate(x_val, y_val, batch_size=12, verbose=0, return_dict=True)
''')
def class_weight_onehot(params, x, y, x_val, y_val):
    # class_weight becomes per-sample weights for the loss and weighted_metrics (rule 4), not
    # for validation: there, val_weighted_accuracy == val_accuracy.
    model = compile_model(
        activations=("relu", "softmax"),
        optimizer=optimizers.RMSprop(learning_rate=0.01, rho=0.8),
        loss="categorical_crossentropy",
        metrics=["accuracy", metrics.TopKCategoricalAccuracy(k=2)],
        weighted_metrics=["accuracy", "categorical_crossentropy"],
    )
    history, params = fit(model, params, x, y, class_weight={0: 1.0, 1: 3.0, 2: 0.5},
                          validation_data=(x_val, y_val), batch_size=12, epochs=4)
    results = evaluate(model, params, x_val, y_val, batch_size=12)
    return history, results, params


# --- replaying a recording and comparing -----------------------------------------------------


def load_recordings(path: Path = GOLDEN_FILE) -> dict[str, dict[str, Any]]:
    """The tf-keras recordings by scenario name (read with the golden files' own reader)."""
    spec = importlib.util.spec_from_file_location("goldenio", Path(path).parent / "goldenio.py")
    goldenio = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(goldenio)
    return {case["name"]: case for case in goldenio.load_cases(path)}


@dataclasses.dataclass
class Replay:
    """A scenario's port run from Keras's initial weights, and Keras's recorded numbers."""

    name: str
    history: History
    results: dict[str, float]
    params: Params
    keras_history: dict[str, np.ndarray]
    keras_results: dict[str, float]
    keras_params: Params

    def history_error(self) -> float:
        """Largest relative difference over every history key and epoch."""
        return max(relative_difference(self.history.history[k], v).max() for k, v in self.keras_history.items())

    def results_error(self) -> float:
        return max(float(relative_difference(self.results[k], v)) for k, v in self.keras_results.items())

    def weights_error(self) -> float:
        """Largest absolute difference of the final weights."""
        leaves = zip(jax.tree.leaves(self.params), jax.tree.leaves(self.keras_params), strict=True)
        return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in leaves)


def relative_difference(actual: Any, expected: Any) -> np.ndarray:
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return np.abs(actual - expected) / np.maximum(np.abs(expected), np.finfo(np.float32).tiny)


def replay(name: str, recording: Mapping[str, Any]) -> Replay:
    """Run the port of scenario ``name`` on the recorded data from Keras's initial weights."""
    inputs, outputs, meta = recording["inputs"], recording["outputs"], recording["meta"]
    port = PORTS[name]
    arguments = {arg: inputs[arg] for arg in inspect.signature(port).parameters if arg != "params"}
    history, results, params = port(params_from_keras(inputs), **arguments)
    return Replay(
        name=name,
        history=history,
        results=results,
        params=params,
        keras_history={k: outputs[f"history/{k}"] for k in meta["history_keys"]},
        keras_results={k: float(outputs[f"evaluate/{k}"]) for k in meta["evaluate_keys"]},
        keras_params=params_from_keras(outputs),
    )


def comparison_table(run: Replay) -> str:
    """Per epoch and key: Keras's value, the port's, and their relative difference."""
    lines = [f"{'epoch':>5}  {'key':<40} {'tf-keras':>12} {'jaxent':>12}  rel. diff"]
    for epoch in range(len(run.history.history["loss"])):
        for key, values in run.keras_history.items():
            ours = run.history.history[key][epoch]
            diff = relative_difference(ours, values[epoch])
            lines.append(f"{epoch + 1:>5}  {key:<40} {values[epoch]:12.8f} {ours:12.8f}  {diff:.1e}")
    for key, value in run.keras_results.items():
        ours = run.results[key]
        lines.append(f"{'eval':>5}  {key:<40} {value:12.8f} {ours:12.8f}  {relative_difference(ours, value):.1e}")
    return "\n".join(lines)


def port_source(name: str) -> str:
    """The port's source, without the decorator that holds the tf.keras script."""
    source = textwrap.dedent(inspect.getsource(PORTS[name]))
    return source[source.index(f"def {name}("):]


def main(argv: Sequence[str] = ()) -> None:
    recordings = load_recordings()
    for name in argv or PORTS:
        run = replay(name, recordings[name])
        print(f"=== {name} ".ljust(100, "="))
        print("--- tf.keras (recorded) ---")
        print(KERAS_CODE[name])
        print("--- jaxent port ---")
        print(port_source(name))
        print(comparison_table(run))
        print(f"max relative difference: history {run.history_error():.1e}, evaluate "
              f"{run.results_error():.1e}; final weights: max abs difference {run.weights_error():.1e}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
