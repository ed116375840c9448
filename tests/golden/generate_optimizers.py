"""Generate ``tests/golden/optimizers.npz``: trajectories of tf-keras's new (2.11+) optimizers.

Not run in CI. It needs TensorFlow and tf-keras, which jaxent's own environment does not have;
use a throwaway virtualenv::

    python3 -m venv /tmp/tfkeras
    /tmp/tfkeras/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 numpy
    /tmp/tfkeras/bin/python tests/golden/generate_optimizers.py      # from the repository root

Each trajectory case runs a ``tf_keras.optimizers`` class (the tf-keras >= 2.11 optimizers)
eagerly for ``STEPS`` steps on three variables of different shapes, feeding gradients drawn
from a fixed seed (the same for every case; stored once, in float32, in the case
``gradients``), and stores the parameters after the steps in ``CHECKPOINTS``, the slots at
the end and, with ``use_ema``, the moving averages and what ``finalize_variable_values`` leaves:

  case ``gradients``   inputs ``param_<v>`` (initial values), ``grad_<v>`` ``[STEPS, *shape]``,
                       float32; a case of another dtype casts them (float32 -> dtype), as fed
  trajectory cases     ``fn`` ``optimizers.<Class>``, ``kwargs`` the constructor's arguments,
                       outputs ``param_<v>`` ``[len(CHECKPOINTS), *shape]``, slots ``<slot>_<v>``
                       (SGD ``momentum``; Adam/AdamW ``mu`` (Keras ``_momentums``), ``nu``
                       (``_velocities``), ``nu_hat`` (``_velocity_hats``, amsgrad); RMSprop ``nu``,
                       ``momentum``; Adagrad ``accumulator`` (``_accumulators``); Adamax ``mu`` (``_m``),
                       ``nu`` (``_u``); Lion ``momentum`` (``momentums``); Adadelta
                       ``accumulated_grad``, ``accumulated_delta_var``), ``ema_<v>`` (the average)
                       and ``final_<v>`` (the parameters
                       after ``finalize_variable_values``) with EMA, ``count``; meta ``dtype``,
                       ``schedule`` (``ExponentialDecay`` arguments or None), ``config``
                       (``get_config()``, JSON), ``class_name``
  case ``configs``     meta ``defaults``: ``get_config()`` of each class built with no arguments;
                       ``get``: what ``keras.optimizers.get`` does with each identifier

Gradients vary in scale from step to step (clipping is sometimes active), with an all-zero step
and a step where one variable's gradient is zero. bfloat16 arrays are stored as float32.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "optimizers.npz"
SEED = 20261208
STEPS = 1000
CHECKPOINTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 20, 50, 99, 100, 101, 300, 1000)
SHAPES = {"a": (4, 3), "b": (7,), "c": ()}
ZERO_STEP = 7  # every gradient is zero at this step (0-based)
ZERO_B_STEP = 13  # only variable b's gradient is zero

SGD, ADAM, ADAMW, RMS = "SGD", "Adam", "AdamW", "RMSprop"
ADAGRAD, ADAMAX, LION, ADADELTA = "Adagrad", "Adamax", "Lion", "Adadelta"
DECAY_SLOW = {"initial_learning_rate": 0.01, "decay_steps": 100, "decay_rate": 0.5, "staircase": False}
DECAY_SGD = {"initial_learning_rate": 0.1, "decay_steps": 50, "decay_rate": 0.5, "staircase": True}
EMA = {"use_ema": True, "ema_momentum": 0.9}

CASES = {
    # name: (class, kwargs, dtype, ExponentialDecay arguments or None)
    "sgd_defaults": (SGD, {}, "float32", None),
    "sgd_momentum": (SGD, {"learning_rate": 0.05, "momentum": 0.9}, "float32", None),
    "sgd_nesterov": (SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, "float32", None),
    "sgd_nesterov_without_momentum": (SGD, {"learning_rate": 0.05, "nesterov": True}, "float32", None),
    "sgd_weight_decay": (SGD, {"learning_rate": 0.05, "momentum": 0.5, "weight_decay": 0.01},
                         "float32", None),
    "sgd_clipnorm": (SGD, {"learning_rate": 0.05, "clipnorm": 1.0}, "float32", None),
    "sgd_clipvalue": (SGD, {"learning_rate": 0.05, "momentum": 0.9, "clipvalue": 0.5}, "float32", None),
    "sgd_schedule_momentum": (SGD, {"momentum": 0.9}, "float32", DECAY_SGD),
    "sgd_ema": (SGD, {"learning_rate": 0.05, "momentum": 0.5, **EMA}, "float32", None),
    "sgd_ema_overwrite_3": (SGD, {"learning_rate": 0.05, **EMA, "ema_overwrite_frequency": 3},
                            "float32", None),
    "sgd_float64_nesterov": (SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
                             "float64", None),
    "adam_defaults": (ADAM, {}, "float32", None),
    "adam_betas_epsilon": (ADAM, {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3},
                           "float32", None),
    "adam_amsgrad": (ADAM, {"learning_rate": 0.01, "amsgrad": True}, "float32", None),
    "adam_adaptive_epsilon": (ADAM, {"learning_rate": 0.01, "epsilon": 1e-3, "adaptive_epsilon": True},
                              "float32", None),
    "adam_clipvalue": (ADAM, {"learning_rate": 0.01, "clipvalue": 0.5}, "float32", None),
    "adam_clipnorm": (ADAM, {"learning_rate": 0.01, "clipnorm": 1.0}, "float32", None),
    "adam_global_clipnorm": (ADAM, {"learning_rate": 0.01, "global_clipnorm": 1.5}, "float32", None),
    "adam_weight_decay": (ADAM, {"learning_rate": 0.01, "weight_decay": 0.1}, "float32", None),
    "adam_schedule": (ADAM, {}, "float32", DECAY_SLOW),
    "adam_ema_overwrite_7": (ADAM, {"learning_rate": 0.01, "use_ema": True, "ema_overwrite_frequency": 7},
                             "float32", None),
    "adam_float64_amsgrad": (ADAM, {"learning_rate": 0.01, "amsgrad": True}, "float64", None),
    "adam_float16": (ADAM, {"learning_rate": 0.01}, "float16", None),
    "adam_bfloat16": (ADAM, {"learning_rate": 0.01}, "bfloat16", None),
    "adamw_defaults": (ADAMW, {}, "float32", None),
    "adamw_weight_decay_amsgrad": (ADAMW, {"learning_rate": 0.01, "weight_decay": 0.1, "amsgrad": True},
                                   "float32", None),
    "adamw_global_clipnorm_ema_overwrite_10": (
        ADAMW, {"learning_rate": 0.01, "global_clipnorm": 1.0, "use_ema": True, "ema_momentum": 0.95,
                "ema_overwrite_frequency": 10}, "float32", None),
    "rmsprop_ema_default_overwrite_100": (RMS, {"learning_rate": 0.01, "use_ema": True}, "float32", None),
    "rmsprop_momentum_ema_overwrite_5": (
        RMS, {"learning_rate": 0.01, "momentum": 0.9, **EMA, "ema_overwrite_frequency": 5}, "float32", None),
    "adagrad_defaults": (ADAGRAD, {}, "float32", None),
    "adagrad_accumulator_epsilon_clipnorm": (
        ADAGRAD, {"learning_rate": 0.05, "initial_accumulator_value": 0.5, "epsilon": 1e-4, "clipnorm": 1.0},
        "float32", None),
    "adamax_defaults": (ADAMAX, {}, "float32", None),
    "adamax_betas_epsilon_weight_decay": (
        ADAMAX, {"learning_rate": 0.01, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-3, "weight_decay": 0.1},
        "float32", None),
    "adadelta_defaults": (ADADELTA, {}, "float32", None),
    "adadelta_rho_epsilon_global_clipnorm_ema": (
        ADADELTA, {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6, "global_clipnorm": 1.0, "use_ema": True,
                   "ema_overwrite_frequency": 50}, "float32", None),
    "lion_defaults": (LION, {}, "float32", None),
    "lion_betas_weight_decay": (LION, {"learning_rate": 0.001, "beta_1": 0.95, "beta_2": 0.98,
                                       "weight_decay": 0.05}, "float32", None),
}

SLOTS = {  # jaxent's slot name -> tf-keras's private attribute (a list, in variable order)
    SGD: {"momentum": "momentums"},
    ADAM: {"mu": "_momentums", "nu": "_velocities", "nu_hat": "_velocity_hats"},
    ADAMW: {"mu": "_momentums", "nu": "_velocities", "nu_hat": "_velocity_hats"},
    RMS: {"nu": "_velocities", "mu": "_average_gradients", "momentum": "_momentums"},
    ADAGRAD: {"accumulator": "_accumulators"},
    ADAMAX: {"mu": "_m", "nu": "_u"},
    LION: {"momentum": "momentums"},
    ADADELTA: {"accumulated_grad": "_accumulated_grads", "accumulated_delta_var": "_accumulated_delta_vars"},
}

GET_IDS = [
    "sgd", "SGD", "Sgd", "adam", "Adam", "ADAM", "adamw", "AdamW", "adam_w", "AdamW_",
    "experimentaladam", "experimentalsgd", "lion", "Lion", "rmsprop", "nadam",
    "adagrad", "Adagrad", "experimentaladagrad", "adamax", "Adamax", "adadelta",
    "experimentaladadelta",
    {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9, "is_legacy_optimizer": False}},
    {"class_name": "Adam", "config": {"learning_rate": 0.1, "is_legacy_optimizer": False}},
    {"class_name": "adam", "config": {"learning_rate": 0.1, "is_legacy_optimizer": False}},
    {"class_name": "Adam", "config": {"learning_rate": 0.1}},
    {"class_name": "Adam", "config": {}},
    {"class_name": "AdamW", "config": {"learning_rate": 0.1, "is_legacy_optimizer": False}},
    {"class_name": "AdamW", "config": {"learning_rate": 0.1}},
    {"class_name": "AdamW", "config": {}},
    {"class_name": "adamw", "config": {"is_legacy_optimizer": False}},
    {"module": "keras.optimizers", "class_name": "Adam",
     "config": {"learning_rate": 0.1, "amsgrad": True, "is_legacy_optimizer": False},
     "registered_name": None},
    {"class_name": "Adagrad", "config": {"learning_rate": 0.1, "initial_accumulator_value": 0.2,
                                         "is_legacy_optimizer": False}},
    {"class_name": "Adagrad", "config": {"learning_rate": 0.1}},
    {"class_name": "Adamax", "config": {"beta_1": 0.8, "is_legacy_optimizer": False}},
    {"class_name": "Adamax", "config": {"beta_1": 0.8}},
    {"class_name": "Adadelta", "config": {"rho": 0.9, "is_legacy_optimizer": False}},
    {"class_name": "Lion", "config": {"learning_rate": 0.1, "is_legacy_optimizer": False}},
    {"class_name": "Lion", "config": {"learning_rate": 0.1}},
    {"class_name": "SGD", "config": {"is_legacy_optimizer": False, "nesterov": True, "momentum": 0.5,
                                     "use_ema": True, "ema_overwrite_frequency": 3}},
]


def plain(x):
    """``x`` as JSON values (NumPy scalars as Python numbers)."""
    return json.loads(json.dumps(x, default=lambda v: v.item()))


def draw_inputs(rng: np.random.Generator) -> tuple[dict, dict]:
    """Initial parameters and ``STEPS`` gradients per variable, float32 values."""
    scales = np.exp(rng.uniform(np.log(0.03), np.log(3.0), size=STEPS))
    params, grads = {}, {}
    for name, shape in SHAPES.items():
        params[name] = rng.normal(size=shape).astype(np.float32)
        g = rng.normal(size=(STEPS, *shape)) * scales.reshape((STEPS,) + (1,) * len(shape))
        g[ZERO_STEP] = 0.0
        if name == "b":
            g[ZERO_B_STEP] = 0.0
        grads[name] = g.astype(np.float32)
    return params, grads


def as_numpy(x) -> np.ndarray:
    value = np.array(x.numpy())
    return value.astype(np.float32) if value.dtype.name == "bfloat16" else value


def build(class_name: str, kwargs: dict, schedule: dict | None):
    kwargs = dict(kwargs)
    if schedule is not None:
        kwargs["learning_rate"] = keras.optimizers.schedules.ExponentialDecay(**schedule)
    return getattr(keras.optimizers, class_name)(**kwargs)


def run_case(name, class_name, kwargs, dtype, schedule, params, grads) -> dict:
    tf_dtype = tf.as_dtype(dtype)
    variables = [tf.Variable(tf.cast(params[v], tf_dtype), name=v) for v in SHAPES]
    fed = {v: tf.cast(grads[v], tf_dtype) for v in SHAPES}
    opt = build(class_name, kwargs, schedule)
    trajectory = {v: [] for v in SHAPES}
    for step in range(1, STEPS + 1):
        opt.apply_gradients((fed[v][step - 1], var) for v, var in zip(SHAPES, variables))
        if step in CHECKPOINTS:
            for v, var in zip(SHAPES, variables):
                trajectory[v].append(as_numpy(var))
    outputs = {f"param_{v}": np.stack(trajectory[v]) for v in SHAPES}
    for slot, attribute in SLOTS[class_name].items():
        for v, value in zip(SHAPES, getattr(opt, attribute, None) or []):
            outputs[f"{slot}_{v}"] = as_numpy(value)
    if kwargs.get("use_ema"):
        for v, value in zip(SHAPES, opt._model_variables_moving_average):
            outputs[f"ema_{v}"] = as_numpy(value)
        opt.finalize_variable_values(variables)
        for v, var in zip(SHAPES, variables):
            outputs[f"final_{v}"] = as_numpy(var)
    outputs["count"] = as_numpy(opt.iterations)
    return {
        "name": name,
        "fn": f"optimizers.{class_name}",
        "kwargs": kwargs,
        "inputs": {},
        "outputs": outputs,
        "meta": {"dtype": dtype, "schedule": schedule, "class_name": class_name,
                 "config": plain(opt.get_config())},
    }


def probe_get(identifier) -> dict:
    recorded = plain(identifier)
    try:
        opt = keras.optimizers.get(copy.deepcopy(identifier))
        result = {"type": "instance", "class_name": type(opt).__name__, "module": type(opt).__module__,
                  "config": plain(opt.get_config())}
    except Exception as e:  # noqa: BLE001 - we record whatever tf-keras raises
        result = {"type": "error", "error": type(e).__name__, "message": str(e)}
    return {"identifier": recorded, "result": result}


def configs_case() -> dict:
    defaults = {c: plain(getattr(keras.optimizers, c)().get_config())
                for c in (SGD, ADAM, ADAMW, ADAGRAD, ADAMAX, LION, ADADELTA)}
    return {"name": "configs", "fn": "optimizers.get", "kwargs": {}, "inputs": {}, "outputs": {},
            "meta": {"defaults": defaults, "get": [probe_get(i) for i in GET_IDS]}}


def main() -> None:
    params, grads = draw_inputs(np.random.default_rng(SEED))
    cases = [{"name": "gradients", "fn": "", "kwargs": {},
              "inputs": {**{f"param_{v}": params[v] for v in SHAPES}, **{f"grad_{v}": grads[v] for v in SHAPES}},
              "outputs": {}, "meta": {"steps": STEPS, "checkpoints": list(CHECKPOINTS)}}]
    for name, (class_name, kwargs, dtype, schedule) in CASES.items():
        cases.append(run_case(name, class_name, kwargs, dtype, schedule, params, grads))
        print(name, flush=True)
    cases.append(configs_case())
    save_cases(OUT, cases)
    print(f"wrote {len(cases)} cases to {OUT} (tf {tf.__version__}, tf-keras {keras.__version__})")


if __name__ == "__main__":
    main()
