"""Generate ``tests/golden/rmsprop.npz``: tf-keras RMSprop trajectories for jaxent's tests.

Not run in CI. It needs TensorFlow and tf-keras, which jaxent's own environment does not have;
use a throwaway virtualenv::

    python3 -m venv /tmp/tfkeras
    /tmp/tfkeras/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 numpy
    /tmp/tfkeras/bin/python tests/golden/generate_rmsprop.py      # from the repository root

Each case runs ``tf_keras.optimizers.RMSprop`` (the tf-keras >= 2.11 optimizer; importing
``tf_keras`` is the same as ``TF_USE_LEGACY_KERAS=1``) for ``STEPS`` steps on a small pytree
of three variables of different shapes, feeding random gradients drawn from a fixed seed. It
stores the exact gradients fed, every step's parameters and the optimizer slots at the end:

  inputs   ``param_<v>`` initial value, ``grad_<v>`` gradients ``[steps, *shape]``
  outputs  ``param_<v>`` parameters after each step ``[steps, *shape]``, final slots
           ``nu_<v>`` (Keras ``velocity``), ``mu_<v>`` (``average_gradient``, centered
           only), ``momentum_<v>`` (momentum > 0 only), and ``count`` (``iterations``)
  kwargs   the ``RMSprop`` arguments, which are also ``jaxent.optimizers.rmsprop``'s
  meta     ``steps``; ``dtype`` of the parameters, gradients and slots (``float16``,
           ``bfloat16``, ``float32`` or ``float64``; bfloat16 arrays are stored as float32 and
           their inputs tagged in ``dtypes``); ``schedule``: ``None``, or the arguments of a
           Keras ``ExponentialDecay`` used as the learning rate (the test builds the
           ``optax.exponential_decay`` equivalent)

Plus ``documented_example``: Keras's docstring example (``var1 = 10.0``, lr 0.1,
``loss = var1²/2``, one step -> 9.683772), with the gradient from ``tf.GradientTape``.

Gradients vary in scale from step to step (so clipping is sometimes active and sometimes
not), and contain an all-zero step and a step where one variable's gradient is zero.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "rmsprop.npz"
SEED = 20250511
STEPS = 40
SHAPES = {"a": (4, 3), "b": (7,), "c": ()}
ZERO_STEP = 7  # every gradient is zero at this step
ZERO_B_STEP = 13  # only variable b's gradient is zero

CASES = {
    # name: (RMSprop kwargs, dtype, learning-rate schedule or None)
    "defaults": ({}, "float32", None),
    "momentum": ({"learning_rate": 0.01, "momentum": 0.9}, "float32", None),
    "negative_momentum_is_off": ({"learning_rate": 0.01, "momentum": -0.5}, "float32", None),
    "centered": ({"learning_rate": 0.01, "centered": True}, "float32", None),
    "centered_momentum": (
        {"learning_rate": 0.01, "centered": True, "momentum": 0.5}, "float32", None),
    "rho_epsilon": ({"learning_rate": 0.01, "rho": 0.5, "epsilon": 1e-3}, "float32", None),
    "exponential_decay": (
        {}, "float32",
        {"initial_learning_rate": 0.05, "decay_steps": 7, "decay_rate": 0.5, "staircase": False}),
    "exponential_decay_staircase_momentum": (
        {"momentum": 0.9}, "float32",
        {"initial_learning_rate": 0.05, "decay_steps": 7, "decay_rate": 0.5, "staircase": True}),
    "clipvalue": ({"learning_rate": 0.01, "clipvalue": 0.5}, "float32", None),
    "clipnorm": ({"learning_rate": 0.01, "clipnorm": 1.0}, "float32", None),
    "global_clipnorm": ({"learning_rate": 0.01, "global_clipnorm": 1.5}, "float32", None),
    "clipnorm_clipvalue": (
        {"learning_rate": 0.01, "clipnorm": 1.0, "clipvalue": 0.1}, "float32", None),
    "global_clipnorm_clipvalue": (
        {"learning_rate": 0.01, "global_clipnorm": 1.5, "clipvalue": 0.1}, "float32", None),
    "clipnorm_zero_falls_through_to_clipvalue": (
        {"learning_rate": 0.01, "clipnorm": 0.0, "clipvalue": 0.5}, "float32", None),
    "nonpositive_clips_are_off": (
        {"learning_rate": 0.01, "global_clipnorm": 0.0, "clipvalue": -1.0}, "float32", None),
    "centered_momentum_global_clipnorm": (
        {"learning_rate": 0.01, "centered": True, "momentum": 0.9, "global_clipnorm": 1.5},
        "float32", None),
    "float64": ({"learning_rate": 0.01}, "float64", None),
    "float64_centered_momentum_clipnorm": (
        {"learning_rate": 0.01, "centered": True, "momentum": 0.9, "clipnorm": 1.0},
        "float64", None),
    "bfloat16": ({"learning_rate": 0.01}, "bfloat16", None),
    "float16": ({"learning_rate": 0.01}, "float16", None),
}


def draw_inputs(rng: np.random.Generator) -> tuple[dict, dict]:
    """Initial parameters and ``STEPS`` gradients per variable, in float64."""
    scales = np.exp(rng.uniform(np.log(0.03), np.log(3.0), size=STEPS))
    params, grads = {}, {}
    for name, shape in SHAPES.items():
        params[name] = rng.normal(size=shape)
        g = rng.normal(size=(STEPS, *shape)) * scales.reshape((STEPS,) + (1,) * len(shape))
        g[ZERO_STEP] = 0.0
        if name == "b":
            g[ZERO_B_STEP] = 0.0
        grads[name] = g
    return params, grads


def as_numpy(x: tf.Tensor | tf.Variable) -> np.ndarray:
    return np.array(x.numpy())


def run_case(name, kwargs, dtype, schedule, params, grads) -> dict:
    tf_dtype = tf.as_dtype(dtype)
    variables = [tf.Variable(tf.cast(params[v], tf_dtype), name=v) for v in SHAPES]
    fed = {v: as_numpy(tf.cast(grads[v], tf_dtype)) for v in SHAPES}
    if schedule is None:
        opt = keras.optimizers.RMSprop(**kwargs)
    else:
        lr = keras.optimizers.schedules.ExponentialDecay(**schedule)
        opt = keras.optimizers.RMSprop(learning_rate=lr, **kwargs)
    trajectory = {v: [] for v in SHAPES}
    for step in range(STEPS):
        opt.apply_gradients(
            (tf.constant(fed[v][step]), var) for v, var in zip(SHAPES, variables))
        for v, var in zip(SHAPES, variables):
            trajectory[v].append(as_numpy(var))
    outputs = {f"param_{v}": np.stack(trajectory[v]) for v in SHAPES}
    # The slot lists are private tf-keras attributes, in the order of the variables.
    slot_lists = {"nu": opt._velocities, "mu": opt._average_gradients,
                  "momentum": opt._momentums}
    for slot, values in slot_lists.items():
        for v, value in zip(SHAPES, values):
            outputs[f"{slot}_{v}"] = as_numpy(value)
    outputs["count"] = as_numpy(opt.iterations)
    inputs = {f"param_{v}": as_numpy(tf.cast(params[v], tf_dtype)) for v in SHAPES}
    inputs.update({f"grad_{v}": fed[v] for v in SHAPES})
    dtypes = {key: dtype for key in inputs} if dtype == "bfloat16" else {}
    return {
        "name": name,
        "fn": "optimizers.rmsprop",
        "kwargs": kwargs,
        "inputs": inputs,
        "outputs": outputs,
        "dtypes": dtypes,
        "meta": {"steps": STEPS, "dtype": dtype, "schedule": schedule},
    }


def documented_example() -> dict:
    """Keras's docstring example: ``var1 = 10.0``, lr 0.1, ``loss = var1²/2``, one step."""
    var = tf.Variable(10.0)
    opt = keras.optimizers.RMSprop(learning_rate=0.1)
    with tf.GradientTape() as tape:
        loss = var**2 / 2.0
    grad = tape.gradient(loss, var)
    opt.apply_gradients([(grad, var)])
    return {
        "name": "documented_example",
        "fn": "optimizers.rmsprop",
        "kwargs": {"learning_rate": 0.1},
        "inputs": {"param_w": np.float32(10.0), "grad_w": as_numpy(grad)[None]},
        "outputs": {"param_w": as_numpy(var)[None], "nu_w": as_numpy(opt._velocities[0]),
                    "count": as_numpy(opt.iterations)},
        "meta": {"steps": 1, "dtype": "float32", "schedule": None},
    }


def main() -> None:
    params, grads = draw_inputs(np.random.default_rng(SEED))
    cases = [documented_example()]
    for name, (kwargs, dtype, schedule) in CASES.items():
        cases.append(run_case(name, kwargs, dtype, schedule, params, grads))
    save_cases(OUT, cases)
    print(f"wrote {len(cases)} cases to {OUT} (tf {tf.__version__}, tf-keras {keras.__version__})")


if __name__ == "__main__":
    main()
