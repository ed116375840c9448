"""Generate ``tests/golden/schedules.npz``: tf-keras learning-rate schedules and RMSprop with them.

Not run in CI. It needs TensorFlow and tf-keras (see ``generate_rmsprop.py`` for the throwaway
virtualenv); run it from the repository root::

    python tests/golden/generate_schedules.py

Two kinds of cases:

``fn = "optimizers.schedules.<Class>"`` — a schedule's values
  kwargs   the constructor arguments (``boundaries``/``values`` as lists)
  inputs   ``step``: int64 steps 0..300 (the dtype of Keras's ``optimizer.iterations``)
  outputs  ``value``: ``schedule(step)`` called on each step as a scalar int64 tensor, as the
           optimizer calls it, stored as float32
  meta     ``dtype``: the dtype Keras returned (``int32`` for integer piecewise values)

``fn = "optimizers.RMSprop"`` — ``STEPS`` steps of ``RMSprop(learning_rate=schedule, **kwargs)``
  kwargs   the other RMSprop arguments (``weight_decay``, ``momentum``, clipping...)
  inputs   ``param_<v>`` initial values, ``grad_<v>`` the gradients fed ``[steps, *shape]``
  outputs  ``param_<v>`` the parameters after each step, ``lr`` Keras's current learning rate
           after each step (the schedule at the count *before* the step)
  meta     ``schedule``: ``keras.optimizers.schedules.serialize(schedule)`` (``None`` for a
           float learning rate, given in ``kwargs``)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "schedules.npz"
S = keras.optimizers.schedules
STEPS_TO = 300
SEED = 20250602
STEPS = 20
SHAPES = {"a": (3,), "b": (2, 2)}

SCHEDULES = {
    # name: (class name, constructor kwargs)
    "exponential": ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10,
                                             decay_rate=0.5)),
    "exponential_staircase": ("ExponentialDecay", dict(initial_learning_rate=0.1,
                                                       decay_steps=10, decay_rate=0.5,
                                                       staircase=True)),
    "exponential_float_steps": ("ExponentialDecay", dict(initial_learning_rate=0.05,
                                                         decay_steps=7.5, decay_rate=0.96)),
    "exponential_float_steps_staircase": ("ExponentialDecay", dict(
        initial_learning_rate=0.05, decay_steps=7.5, decay_rate=0.96, staircase=True)),
    "exponential_growth": ("ExponentialDecay", dict(initial_learning_rate=0.001,
                                                    decay_steps=100, decay_rate=1.5)),
    "piecewise": ("PiecewiseConstantDecay", dict(boundaries=[100, 200],
                                                 values=[1.0, 0.5, 0.1])),
    "piecewise_float_boundaries_truncate": ("PiecewiseConstantDecay", dict(
        boundaries=[10.5, 20.9, 30.0], values=[0.1, 0.05, 0.01, 0.001])),
    "piecewise_int_values": ("PiecewiseConstantDecay", dict(boundaries=[5, 50],
                                                            values=[3, 2, 1])),
    "piecewise_equal_boundaries": ("PiecewiseConstantDecay", dict(
        boundaries=[50, 50, 100], values=[1.0, 2.0, 3.0, 4.0])),
    "piecewise_boundary_zero": ("PiecewiseConstantDecay", dict(boundaries=[0],
                                                               values=[1.0, 0.5])),
    "piecewise_negative_float_boundary": ("PiecewiseConstantDecay", dict(
        boundaries=[-5.5, 10], values=[0.3, 0.2, 0.1])),
    "polynomial": ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=100)),
    "polynomial_power_half": ("PolynomialDecay", dict(initial_learning_rate=0.1,
                                                      decay_steps=100, end_learning_rate=0.01,
                                                      power=0.5)),
    "polynomial_power2_cycle": ("PolynomialDecay", dict(initial_learning_rate=0.1,
                                                        decay_steps=100,
                                                        end_learning_rate=0.01, power=2.0,
                                                        cycle=True)),
    "polynomial_linear_cycle": ("PolynomialDecay", dict(initial_learning_rate=0.1,
                                                        decay_steps=30,
                                                        end_learning_rate=0.001, cycle=True)),
    "polynomial_float_steps_cubic": ("PolynomialDecay", dict(initial_learning_rate=0.1,
                                                             decay_steps=33.3,
                                                             end_learning_rate=0.0,
                                                             power=3.0)),
    "polynomial_increasing": ("PolynomialDecay", dict(initial_learning_rate=0.01,
                                                      decay_steps=50, end_learning_rate=0.1)),
    "inverse_time": ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=10,
                                              decay_rate=0.5)),
    "inverse_time_staircase": ("InverseTimeDecay", dict(initial_learning_rate=0.1,
                                                        decay_steps=10, decay_rate=0.5,
                                                        staircase=True)),
    "inverse_time_float_steps": ("InverseTimeDecay", dict(initial_learning_rate=0.1,
                                                          decay_steps=7.5, decay_rate=2.0)),
    "cosine": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=100)),
    "cosine_alpha": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=100,
                                         alpha=0.1)),
    "cosine_warmup": ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=100,
                                          warmup_target=0.1, warmup_steps=10)),
    "cosine_warmup_alpha": ("CosineDecay", dict(initial_learning_rate=0.01, decay_steps=200,
                                                alpha=0.05, warmup_target=0.1,
                                                warmup_steps=50)),
    "cosine_warmup_zero_steps": ("CosineDecay", dict(initial_learning_rate=0.05,
                                                     decay_steps=100, warmup_target=0.1,
                                                     warmup_steps=0)),
    "cosine_warmup_steps_without_target": ("CosineDecay", dict(
        initial_learning_rate=0.1, decay_steps=100, warmup_steps=20)),
    "cosine_float_steps": ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=33.3)),
    "restarts": ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    "restarts_t_mul_1": ("CosineDecayRestarts", dict(initial_learning_rate=0.1,
                                                     first_decay_steps=20, t_mul=1.0)),
    "restarts_m_mul": ("CosineDecayRestarts", dict(initial_learning_rate=0.1,
                                                   first_decay_steps=10, t_mul=2.0,
                                                   m_mul=0.5)),
    "restarts_alpha_fractional_t_mul": ("CosineDecayRestarts", dict(
        initial_learning_rate=0.1, first_decay_steps=15, t_mul=1.5, m_mul=0.8, alpha=0.1)),
    "restarts_t_mul_3": ("CosineDecayRestarts", dict(initial_learning_rate=0.1,
                                                     first_decay_steps=7, t_mul=3.0)),
    "restarts_t_mul_below_1": ("CosineDecayRestarts", dict(initial_learning_rate=0.1,
                                                           first_decay_steps=50, t_mul=0.9)),
}

TRAJECTORIES = {
    # name: (schedule name from SCHEDULES or None, RMSprop kwargs)
    "exponential_staircase_momentum": ("exponential_staircase", {"momentum": 0.9}),
    "cosine_warmup_centered": ("cosine_warmup", {"centered": True}),
    "piecewise_clipnorm": ("piecewise_float_boundaries_truncate", {"clipnorm": 1.0}),
    "restarts_weight_decay": ("restarts_m_mul", {"weight_decay": 0.1}),
    "polynomial_cycle_weight_decay_momentum": (
        "polynomial_linear_cycle", {"weight_decay": 0.05, "momentum": 0.5}),
    "inverse_time_global_clipnorm": ("inverse_time_staircase", {"global_clipnorm": 0.5}),
    "constant_weight_decay": (None, {"learning_rate": 0.01, "weight_decay": 0.004}),
    "constant_weight_decay_centered_momentum": (
        None, {"learning_rate": 0.01, "weight_decay": 0.5, "centered": True, "momentum": 0.9}),
}


def build(name: str):
    class_name, kwargs = SCHEDULES[name]
    return getattr(S, class_name)(**kwargs)


def schedule_case(name: str) -> dict:
    class_name, kwargs = SCHEDULES[name]
    schedule = build(name)
    steps = np.arange(STEPS_TO + 1, dtype=np.int64)
    values = [schedule(tf.constant(step, tf.int64)) for step in steps]
    return {
        "name": name,
        "fn": f"optimizers.schedules.{class_name}",
        "kwargs": kwargs,
        "inputs": {"step": steps},
        "outputs": {"value": np.array([v.numpy() for v in values]).astype(np.float32)},
        "meta": {"dtype": values[0].dtype.name},
    }


def trajectory_case(name: str, schedule_name: str | None, kwargs: dict, params, grads) -> dict:
    variables = [tf.Variable(params[v].astype(np.float32), name=v) for v in SHAPES]
    if schedule_name is None:
        opt = keras.optimizers.RMSprop(**kwargs)
        serialized = None
    else:
        schedule = build(schedule_name)
        opt = keras.optimizers.RMSprop(learning_rate=schedule, **kwargs)
        serialized = S.serialize(schedule)
    trajectory = {v: [] for v in SHAPES}
    lrs = []
    for step in range(STEPS):
        opt.apply_gradients((tf.constant(grads[v][step].astype(np.float32)), var)
                            for v, var in zip(SHAPES, variables))
        lrs.append(float(tf.convert_to_tensor(opt.learning_rate).numpy()))
        for v, var in zip(SHAPES, variables):
            trajectory[v].append(var.numpy())
    outputs = {f"param_{v}": np.stack(trajectory[v]) for v in SHAPES}
    outputs["lr"] = np.array(lrs, np.float32)
    inputs = {f"param_{v}": params[v].astype(np.float32) for v in SHAPES}
    inputs.update({f"grad_{v}": grads[v].astype(np.float32) for v in SHAPES})
    return {"name": name, "fn": "optimizers.RMSprop", "kwargs": kwargs, "inputs": inputs,
            "outputs": outputs, "meta": {"schedule": serialized, "steps": STEPS}}


def main() -> None:
    rng = np.random.default_rng(SEED)
    params = {v: rng.normal(size=shape) for v, shape in SHAPES.items()}
    grads = {v: rng.normal(size=(STEPS, *shape)) for v, shape in SHAPES.items()}
    cases = [schedule_case(name) for name in SCHEDULES]
    cases += [trajectory_case(name, s, kw, params, grads)
              for name, (s, kw) in TRAJECTORIES.items()]
    save_cases(OUT, cases)
    print(f"wrote {len(cases)} cases to {OUT.name} (tf {tf.__version__}, "
          f"tf-keras {keras.__version__})")


if __name__ == "__main__":
    main()
