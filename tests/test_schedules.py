"""jaxent.optimizers.schedules: Keras 2's learning-rate schedules as optax schedules.

Golden values and RMSprop trajectories come from tf-keras 2.21
(``tests/golden/generate_schedules.py``), configs from ``tests/golden/generate_configs.py``.

Tolerance, from the observed error: evaluated eagerly (one op at a time, like TensorFlow) every
value of every golden case equals Keras's float32 value exactly. Under ``jit``/``vmap`` XLA's
CPU backend still contracts a few ``a·b + c`` into fused multiply-adds, which moved 0 to 32 of
the 301 values of a case (3 of the 33 cases) by 1 ulp of the schedule's largest value;
divisions, floors and boundaries are exact there too. So: eager exact, compiled within 1 ulp
of ``max|lr|``.

RMSprop trajectories with a schedule: the learning rates used equal Keras's exactly, and the
params stay within 2x the case's worst observed deviation (0 to 2.7 eps × the largest |θ| so
far, :data:`OBSERVED_EPS`), as in test_optimizers.py.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxent._objects import FrozenInstanceError
from jaxent.optimizers import RMSprop, rmsprop, schedules
from jaxent.optimizers.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)
from tests.golden.goldenio import load_cases

GOLDEN_DIR = Path(__file__).parent / "golden"
CASES = load_cases(GOLDEN_DIR / "schedules.npz")
VALUES = [c for c in CASES if c["fn"].startswith("optimizers.schedules.")]
TRAJECTORIES = [c for c in CASES if c["fn"] == "optimizers.RMSprop"]
CONFIGS = json.loads((GOLDEN_DIR / "configs.json").read_text())["configs"]["schedules"]

# steps where something changes: every boundary, restart and cycle in the golden configs
EAGER_STEPS = sorted({0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 15, 19, 20, 21, 22, 23, 29, 30, 31, 33,
                      34, 49, 50, 51, 60, 61, 69, 70, 71, 99, 100, 101, 109, 110, 111, 150,
                      199, 200, 201, 250, 300})


# RMSprop trajectories with a schedule: the worst deviation observed per case, in eps × |θ| so
# far (``python -m tests.measure_errors rmsprop``); 2x this (at least 1 eps) is allowed.
MARGIN = 2.0
OBSERVED_EPS: dict[str, float] = {
    "constant_weight_decay": 0.0,
    "constant_weight_decay_centered_momentum": 0.94,
    "cosine_warmup_centered": 0.96,
    "exponential_staircase_momentum": 2.68,
    "inverse_time_global_clipnorm": 1.39,
    "piecewise_clipnorm": 1.6,
    "polynomial_cycle_weight_decay_momentum": 0.65,
    "restarts_weight_decay": 0.7,
}


def build(case) -> schedules.LearningRateSchedule:
    return getattr(schedules, case["fn"].rsplit(".", 1)[1])(**case["kwargs"])


def one_ulp_of_scale(want: np.ndarray) -> float:
    return float(np.spacing(np.float32(np.max(np.abs(want)))))


# --- values against tf-keras -------------------------------------------------------------


@pytest.mark.parametrize("case", VALUES, ids=[c["name"] for c in VALUES])
def test_eager_values_equal_tf_keras_exactly(case):
    schedule, want = build(case), case["outputs"]["value"]
    got = np.array([np.asarray(schedule(jnp.int32(step))) for step in EAGER_STEPS])
    np.testing.assert_array_equal(got, want[EAGER_STEPS])


@pytest.mark.parametrize("case", VALUES, ids=[c["name"] for c in VALUES])
def test_jitted_and_vmapped_values_within_one_ulp_of_scale(case):
    schedule, want = build(case), case["outputs"]["value"]
    steps = jnp.asarray(case["inputs"]["step"], jnp.int32)
    tol = one_ulp_of_scale(want)
    for got in (jax.jit(schedule)(steps), jax.jit(jax.vmap(schedule))(steps)):
        assert got.dtype == jnp.float32 and got.shape == want.shape
        np.testing.assert_allclose(np.asarray(got), want, rtol=0, atol=tol)


def test_golden_file_covers_the_edge_cases():
    names = {c["name"] for c in VALUES}
    assert {c["fn"].rsplit(".", 1)[1] for c in VALUES} == {
        "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay",
        "CosineDecay", "CosineDecayRestarts"}
    for required in ("exponential_staircase", "piecewise_float_boundaries_truncate",
                     "piecewise_equal_boundaries", "polynomial_linear_cycle", "polynomial",
                     "cosine_warmup", "cosine_warmup_zero_steps", "restarts_t_mul_1",
                     "restarts_m_mul"):
        assert required in names
    assert all(c["inputs"]["step"][0] == 0 and len(c["inputs"]["step"]) == 301 for c in VALUES)


@pytest.mark.parametrize(
    "schedule, steps, want",
    [
        # the boundary belongs to the interval before it; int steps truncate float boundaries
        (PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1]), [100, 101, 200, 201],
         [1.0, 0.5, 0.5, 0.1]),
        (PiecewiseConstantDecay([10.5, 20], [1, 2, 3]), [10, 11], [1.0, 2.0]),
        # staircase holds the rate until the next multiple of decay_steps
        (ExponentialDecay(0.1, 10, 0.5, staircase=True), [9, 10, 19, 20], [0.1, 0.05, 0.05, 0.025]),
        # polynomial: capped at decay_steps; cycle restarts from a multiple of decay_steps
        (PolynomialDecay(0.1, 100, 0.01), [100, 150], [0.01, 0.01]),
        (PolynomialDecay(0.1, 100, 0.01, cycle=True), [0, 100, 101], [0.1, 0.01, 0.05455]),
        # warmup: linear to the target, then cosine from the target
        (CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10), [0, 10, 110, 500],
         [0.0, 0.1, 0.0, 0.0]),
        # SGDR with t_mul=2: restarts at 10, 30, 70
        (CosineDecayRestarts(0.1, 10), [9, 10, 29, 30, 70],
         [0.05 * (1 + np.cos(0.9 * np.pi)), 0.1, 0.05 * (1 + np.cos(19 / 20 * np.pi)), 0.1, 0.1]),
    ],
)
def test_reference_values(schedule, steps, want):
    # exact math (float64) against float32 arithmetic; 1 - cos near π cancels: rtol 1e-5
    got = np.array([float(schedule(s)) for s in steps])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)


def test_float_steps_compare_with_float_boundaries():
    # Keras compares in the step's dtype: a float step sees the boundary 10.5 as 10.5
    schedule = PiecewiseConstantDecay([10.5, 20], [1.0, 2.0, 3.0])
    assert float(schedule(jnp.float32(10.7))) == 2.0
    assert float(schedule(jnp.float32(10.4))) == 1.0
    assert float(schedule(10)) == 1.0  # int step: the boundary acts as 10


def test_values_are_float32_even_for_integer_configs():
    for schedule in (PiecewiseConstantDecay([5], [3, 1]), ExponentialDecay(1, 10, 2)):
        assert schedule(jnp.int32(7)).dtype == jnp.float32
    # tf-keras fails on ExponentialDecay(1, ...) (int32 pow); jaxent computes in float32
    assert float(ExponentialDecay(1, 10, 2)(10)) == 2.0


# --- as optax schedules ------------------------------------------------------------------


def trajectory_errors(case) -> float:
    """RMSprop(learning_rate=schedule) replayed on ``case``: the largest deviation of the params
    from Keras, in eps × the largest |θ| so far (as in test_optimizers.py). The learning rates
    used, one per step and read at the pre-update count, must equal Keras's exactly.
    """
    kwargs = dict(case["kwargs"])
    if case["meta"]["schedule"] is not None:
        kwargs["learning_rate"] = schedules.deserialize(case["meta"]["schedule"])
    opt = RMSprop(**kwargs)
    names = sorted(k.removeprefix("param_") for k in case["inputs"] if k.startswith("param_"))
    params = {n: jnp.asarray(case["inputs"][f"param_{n}"]) for n in names}
    grads = {n: jnp.asarray(case["inputs"][f"grad_{n}"]) for n in names}
    lr = kwargs["learning_rate"]

    def body(carry, g):
        p, state = carry
        rate = lr(state.count) if callable(lr) else jnp.float32(lr)
        updates, state = opt.update(g, state, p)
        p = optax.apply_updates(p, updates)
        return (p, state), (p, rate)

    (_, state), (trajectory, rates) = jax.jit(
        lambda p, g: jax.lax.scan(body, (p, opt.init(p)), g))(params, grads)
    np.testing.assert_array_equal(np.asarray(rates), case["outputs"]["lr"])
    assert int(state.count) == case["meta"]["steps"]
    eps = float(jnp.finfo(jnp.float32).eps)
    worst = 0.0
    for n in names:
        want = case["outputs"][f"param_{n}"].astype(np.float64)
        history = np.concatenate([case["inputs"][f"param_{n}"][None].astype(np.float64), want])
        scale = np.maximum.accumulate(np.abs(history), axis=0)[1:]
        worst = max(worst, float((np.abs(np.asarray(trajectory[n], np.float64) - want) / (eps * scale)).max()))
    return worst


@pytest.mark.parametrize("case", TRAJECTORIES, ids=[c["name"] for c in TRAJECTORIES])
def test_rmsprop_with_schedule_follows_tf_keras(case):
    """RMSprop(learning_rate=schedule) against Keras: within 2x the observed error (module docstring)."""
    allowed = max(1.0, MARGIN * OBSERVED_EPS[case["name"]])
    worst = trajectory_errors(case)
    assert worst <= allowed, f"{case['name']}: {worst:.2f} eps from Keras (allowed {allowed:.2f})"


def test_first_update_uses_schedule_at_zero():
    # lr(step) = 0.1·(step+1), rho=0, epsilon=0, g=1: each update is exactly -lr(count before)
    schedule = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=1.1)  # 0.1 + 0.1·step
    opt = rmsprop(learning_rate=schedule, rho=0.0, epsilon=0.0)
    params = jnp.zeros(())
    state = opt.init(params)
    seen = []
    for _ in range(3):
        updates, state = opt.update(jnp.ones(()), state, params)
        seen.append(-float(updates))
    np.testing.assert_allclose(seen, [0.1, 0.2, 0.3], rtol=1e-6)


def test_works_with_optax_optimizers_and_inject_hyperparams():
    schedule = CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5)
    params = jnp.ones(3)
    sgd = optax.sgd(learning_rate=schedule)
    updates, _ = sgd.update(jnp.ones(3), sgd.init(params))
    np.testing.assert_allclose(updates, -0.1)
    injected = optax.inject_hyperparams(rmsprop)(learning_rate=schedule)
    state = injected.init(params)
    _, state = jax.jit(injected.update)(jnp.ones(3), state, params)
    assert float(state.hyperparams["learning_rate"]) == pytest.approx(float(schedule(0)))


def test_no_effects_in_the_callers_jaxpr():
    for case in VALUES:
        schedule = build(case)
        assert jax.make_jaxpr(schedule)(jnp.int32(3)).effects == set()
        assert jax.make_jaxpr(jax.vmap(schedule))(jnp.arange(4)).effects == set()


def test_division_is_exact_under_jit_and_vmap():
    # XLA would turn step / 50 into step * 0.02 (50 * 0.02 = 1.0000001 in float32): a staircase
    # or a restart would then fire one step late or early
    schedule = ExponentialDecay(1.0, decay_steps=50, decay_rate=0.5, staircase=True)
    steps = jnp.arange(0, 301, dtype=jnp.int32)
    want = 0.5 ** np.floor(np.arange(301) / 50)
    np.testing.assert_array_equal(jax.jit(schedule)(steps), want)
    np.testing.assert_array_equal(jax.jit(jax.vmap(schedule))(steps), want)
    sgdr = CosineDecayRestarts(1.0, first_decay_steps=50, t_mul=0.9)
    assert float(jax.jit(sgdr)(jnp.int32(50))) == 1.0  # restart index floor(1.0) = 1


# --- configs -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_get_config_and_serialize_equal_tf_keras(name):
    entry = CONFIGS[name]
    schedule = getattr(schedules, entry["class_name"])(**entry["args"])
    assert schedule.get_config() == entry["config"]
    assert list(schedule.get_config()) == list(entry["config"])  # Keras's key order
    assert schedules.serialize(schedule) == entry["serialized"]
    assert type(schedule).from_config(entry["config"]) == schedule
    assert schedules.deserialize(entry["serialized"]) == schedule


def test_get_config_keeps_int_and_float_types():
    config = PiecewiseConstantDecay(np.array([10, 20]), [1, 0.5, 0.25]).get_config()
    assert config == {"boundaries": [10, 20], "values": [1, 0.5, 0.25], "name": None}
    assert isinstance(config["boundaries"][0], int) and isinstance(config["values"][0], int)


def test_deserialize_takes_both_keras_formats_and_exact_class_names():
    legacy = {"class_name": "ExponentialDecay",
              "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}}
    assert schedules.deserialize(legacy) == ExponentialDecay(0.1, 10, 0.5)
    with pytest.raises(ValueError, match="Unknown decay: 'exponentialdecay'. Known names: "
                                         "'CosineDecay', 'CosineDecayRestarts'"):
        schedules.deserialize({"class_name": "exponentialdecay", "config": legacy["config"]})
    with pytest.raises(ValueError, match="LinearCosineDecay.*jaxent does not implement"):
        schedules.deserialize({"class_name": "LinearCosineDecay", "config": {}})
    with pytest.raises(TypeError, match="bogus"):
        schedules.deserialize({"class_name": "CosineDecay",
                               "config": {"initial_learning_rate": 0.1, "decay_steps": 10,
                                          "bogus": 1}})
    with pytest.raises(TypeError, match="plain optax schedule cannot be serialized"):
        schedules.serialize(optax.constant_schedule(0.1))


def test_schedules_are_hashable_by_every_field_and_usable_as_static_arguments():
    a, b = CosineDecay(0.1, 100, alpha=0.1), CosineDecay(0.1, 100, alpha=0.1)
    assert a == b and hash(a) == hash(b)
    assert a != CosineDecay(0.1, 100, alpha=0.2) and a != CosineDecay(0.1, 100, alpha=0.1, name="x")
    p1, p2 = PiecewiseConstantDecay([1, 2], [3, 2, 1]), PiecewiseConstantDecay([1, 3], [3, 2, 1])
    assert p1 != p2 and hash(p1) != hash(p2)
    f = jax.jit(lambda s, step: s(step), static_argnums=0)
    assert float(f(p1, 2)) == 2.0 and float(f(p2, 2)) == 2.0 and float(f(p2, 3)) == 2.0
    assert float(f(p1, 3)) == 1.0
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(FrozenInstanceError, match="cannot set `alpha`"):
        a.alpha = 0.5


@pytest.mark.parametrize(
    "build_bad, error, message",
    [
        (lambda: ExponentialDecay(0.1, 0, 0.5), ValueError, "`decay_steps` must be > 0"),
        (lambda: PolynomialDecay(0.1, -5), ValueError, "`decay_steps` must be > 0"),
        (lambda: CosineDecayRestarts(0.1, 10, t_mul=0.0), ValueError, "`t_mul` must be > 0"),
        (lambda: CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=-1), ValueError,
         "`warmup_steps` must be >= 0"),
        (lambda: PiecewiseConstantDecay([1, 2], [1.0, 2.0]), ValueError,
         "The length of boundaries should be 1 less than the length of values. Received: "
         r"boundaries=\[1, 2\] of length 2, and values=\[1.0, 2.0\] of length 2."),
        (lambda: PiecewiseConstantDecay([20, 10], [1.0, 2.0, 3.0]), ValueError,
         "must be non-decreasing"),
        (lambda: ExponentialDecay(0.1, 10, 0.5, staircase="yes"), TypeError,
         "`staircase` must be a bool"),
        (lambda: InverseTimeDecay("0.1", 10, 0.5), TypeError,
         "`initial_learning_rate` must be a real number"),
        (lambda: CosineDecay(float("nan"), 10), ValueError, "must be finite"),
    ],
)
def test_bad_configs_raise_at_construction(build_bad, error, message):
    with pytest.raises(error, match=message):
        build_bad()
