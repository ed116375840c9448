"""Generate ``tests/golden/keras_fit.npz``: tf-keras ``compile``/``fit``/``evaluate`` runs to port.

Not run in CI. It needs TensorFlow and tf-keras (see ``generate_rmsprop.py`` for the throwaway
virtualenv); run it from the repository root::

    python tests/golden/generate_keras_fit.py

Each scenario is a short tf.keras script, kept below as source text (``KERAS_CODE``) and run
with ``exec`` so that the code recorded is exactly the code that ran. It builds a small Dense
model, sets the initial weights drawn here, compiles it with a loss, an ``RMSprop`` and
``metrics=``/``weighted_metrics=``, trains it with ``fit(..., shuffle=False)`` and a batch size
that leaves a partial last batch, then calls ``evaluate``. Everything is deterministic (fixed
seeds, no dropout, CPU, TensorFlow's op determinism on). The binary and class-weight scenarios
have three samples scaled by 40, whose sigmoid/softmax outputs saturate: there a crossentropy
computed from the probabilities differs from Keras's, which uses the hidden logits. Recorded
per scenario:

  inputs   ``x``, ``y`` (and ``sample_weight``, ``x_val``, ``y_val``, ``sample_weight_val``
           where the scenario uses them); ``kernel_<i>``/``bias_<i>`` the initial weights of
           Dense layer ``i``
  outputs  ``history/<key>`` one value per epoch for every key of ``history.history``;
           ``evaluate/<key>`` ``evaluate(..., return_dict=True)``; ``kernel_<i>``/``bias_<i>``
           the weights after ``fit``
  meta     ``keras_code`` (the script), ``history_keys`` and ``evaluate_keys`` in Keras's
           order, ``epochs``, ``batch_size``, ``layers`` ([units, activation] per Dense
           layer), ``class_weight`` ([[class, weight], ...] or None)

``fn`` names what the port exercises (``examples/port_keras_fit.py``); ``kwargs`` is empty.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "keras_fit.npz"
SEED = 20250612

# The scripts, as a user would write them. Each sees ``keras``, the data arrays and
# ``initial_weights`` (Keras's ``get_weights`` order: kernel_0, bias_0, kernel_1, ...), and
# leaves ``model``, ``history`` and ``results`` behind.
KERAS_CODE = {
    "binary_sample_weight": '''\
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
''',
    "multiclass_schedule_global_clipnorm": '''\
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
''',
    "regression_clipvalue": '''\
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
''',
    "class_weight_onehot": '''\
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
''',
}

# name: (Dense layers [units, activation], input features, fit's epochs and batch size,
#        class_weight or None)
SETTINGS = {
    "binary_sample_weight": ([[6, "relu"], [1, "sigmoid"]], 4, 4, 8, None),
    "multiclass_schedule_global_clipnorm": ([[8, "relu"], [4, "linear"]], 5, 4, 10, None),
    "regression_clipvalue": ([[5, "tanh"], [2, "linear"]], 3, 3, 7, None),
    "class_weight_onehot": ([[7, "relu"], [3, "softmax"]], 4, 4, 12, {0: 1.0, 1: 3.0, 2: 0.5}),
}


def draw_data(name: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The arrays the scenario's script sees (float32 features, labels as a user holds them)."""
    f32 = np.float32
    if name == "binary_sample_weight":
        x = rng.normal(size=(37, 4)).astype(f32)  # 37 = 4 batches of 8 + a batch of 5
        y = (x @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.7 * rng.normal(size=37) > 0).astype(f32)
        x[[3, 17, 30]] *= 40.0  # saturated outputs: Keras's crossentropy on the hidden logits shows
        return {"x": x, "y": y, "sample_weight": rng.uniform(0.2, 2.0, size=37).astype(f32)}
    if name == "multiclass_schedule_global_clipnorm":
        centres = 1.5 * rng.normal(size=(4, 5))
        def blobs(n):
            y = rng.integers(0, 4, size=n).astype(np.int32)
            return (centres[y] + rng.normal(size=(n, 5))).astype(f32), y
        x, y = blobs(45)  # 4 batches of 10 + 5
        x_val, y_val = blobs(23)  # 10 + 10 + 3
        return {"x": x, "y": y, "x_val": x_val, "y_val": y_val}
    if name == "regression_clipvalue":
        w = rng.normal(size=(3, 2))
        def linear(n):
            x = rng.normal(size=(n, 3))
            return x.astype(f32), (np.sin(x) @ w + 0.1 * rng.normal(size=(n, 2))).astype(f32)
        x, y = linear(33)  # 4 batches of 7 + 5
        x_val, y_val = linear(16)  # 7 + 7 + 2
        return {"x": x, "y": y, "x_val": x_val, "y_val": y_val,
                "sample_weight_val": rng.uniform(0.0, 3.0, size=16).astype(f32)}
    if name == "class_weight_onehot":
        centres = 1.2 * rng.normal(size=(3, 4))
        def blobs(n):
            y = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])  # imbalanced: what class_weight is for
            return (centres[y] + rng.normal(size=(n, 4))).astype(f32), np.eye(3, dtype=f32)[y]
        x, y = blobs(40)  # 3 batches of 12 + 4
        x[[5, 22, 38]] *= 40.0  # saturated softmax outputs (hidden logits)
        x_val, y_val = blobs(17)  # 12 + 5
        return {"x": x, "y": y, "x_val": x_val, "y_val": y_val}
    raise KeyError(name)


def draw_weights(layers: list, features: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Glorot-uniform kernels and small nonzero biases, float32 (``kernel_<i>``, ``bias_<i>``)."""
    weights = {}
    fan_in = features
    for i, (units, _) in enumerate(layers):
        limit = np.sqrt(6.0 / (fan_in + units))
        weights[f"kernel_{i}"] = rng.uniform(-limit, limit, size=(fan_in, units)).astype(np.float32)
        weights[f"bias_{i}"] = rng.uniform(-0.1, 0.1, size=(units,)).astype(np.float32)
        fan_in = units
    return weights


def as_weight_dict(arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Keras's ``get_weights()`` list (kernel, bias per Dense layer) by name."""
    names = [f"{kind}_{i}" for i in range(len(arrays) // 2) for kind in ("kernel", "bias")]
    return {name: np.asarray(a) for name, a in zip(names, arrays)}


def run_scenario(name: str, rng: np.random.Generator) -> dict:
    layers, features, epochs, batch_size, class_weight = SETTINGS[name]
    data = draw_data(name, rng)
    weights = draw_weights(layers, features, rng)
    initial = [weights[f"{kind}_{i}"] for i in range(len(layers)) for kind in ("kernel", "bias")]
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)
    namespace = {"keras": keras, "initial_weights": initial, **data}
    exec(KERAS_CODE[name], namespace)  # noqa: S102 - our own script text, recorded as run
    history, results, model = namespace["history"], namespace["results"], namespace["model"]
    assert history.params["epochs"] == epochs, history.params
    outputs = {f"history/{k}": np.asarray(v, np.float64) for k, v in history.history.items()}
    outputs.update({f"evaluate/{k}": np.float64(v) for k, v in results.items()})
    outputs.update(as_weight_dict(model.get_weights()))
    return {
        "name": name,
        "fn": "examples.port_keras_fit",
        "inputs": {**data, **weights},
        "outputs": outputs,
        "meta": {
            "keras_code": KERAS_CODE[name],
            "history_keys": list(history.history),
            "evaluate_keys": list(results),
            "epochs": epochs,
            "batch_size": batch_size,
            "layers": layers,
            "class_weight": None if class_weight is None else [[k, v] for k, v in class_weight.items()],
        },
    }


def main() -> None:
    tf.config.experimental.enable_op_determinism()
    rng = np.random.default_rng(SEED)
    cases = [run_scenario(name, rng) for name in KERAS_CODE]
    save_cases(OUT, cases)
    for case in cases:
        history = {k: np.round(case["outputs"][f"history/{k}"], 4).tolist() for k in case["meta"]["history_keys"]}
        print(case["name"], history)
    print(f"wrote {len(cases)} cases to {OUT} (tf {tf.__version__}, tf-keras {keras.__version__})")


if __name__ == "__main__":
    main()
