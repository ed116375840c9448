"""SGD, Adam, AdamW, Adagrad, Adamax, Adadelta, Lion (and RMSprop's EMA) against tf-keras 2.21, step for step.

And their Keras side (configs, ``get``, argument checks).

Golden trajectories: ``tests/golden/generate_optimizers.py`` (``optimizers.npz``): 37 cases of
1000 steps each on three variables, seeded gradients, parameters compared after steps 1-12, 20,
50, 99, 100, 101, 300 and 1000, final slots, EMA averages and ``finalize_variable_values``. The
cases of one dtype run side by side in one jitted ``lax.scan`` (each optimizer with its own
params and state), computed once per module: one compilation per dtype, not per case.

Tolerance, from the errors observed: every checkpoint's params within 2x the case's worst
observed deviation (at least 1 eps) in eps × the largest |θ| so far; slots, averages and
finalized params likewise in eps × their largest |value|. OBSERVED_EPS lists the measured worst
per case (``python -m tests.test_optimizers_keras`` prints them).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxent import optimizers
from jaxent.optimizers import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, RMSprop, finalize_variable_values,
                               schedules)
from tests.golden.goldenio import load_cases

CASES = load_cases(Path(__file__).parent / "golden" / "optimizers.npz")
BY_NAME = {case["name"]: case for case in CASES}
INPUTS = BY_NAME["gradients"]["inputs"]
CHECKPOINTS = BY_NAME["gradients"]["meta"]["checkpoints"]
CONFIGS = BY_NAME["configs"]["meta"]
TRAJECTORIES = [case for case in CASES if case["name"] not in ("gradients", "configs")]
NAMES = ("a", "b", "c")
DTYPES = {"float16": jnp.float16, "bfloat16": jnp.bfloat16, "float32": jnp.float32, "float64": jnp.float64}
CLASSES = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop, "Adagrad": Adagrad, "Adamax": Adamax,
           "Lion": Lion, "Adadelta": Adadelta}
SLOTS = ("momentum", "mu", "nu", "nu_hat", "accumulator", "accumulated_grad", "accumulated_delta_var")
MARGIN = 2.0

OBSERVED_EPS: dict[str, float] = {
    # 0 where jaxent reproduces tf-keras bit for bit over 1000 steps; the rest come from the
    # norms of clipnorm/global_clipnorm (summed in another order) and the EMA overwrite's
    # θ + (avg - θ) round trip, carried by momentum.
    "sgd_defaults": 0.0, "sgd_momentum": 0.0, "sgd_nesterov": 0.0, "sgd_nesterov_without_momentum": 0.0,
    "sgd_weight_decay": 0.61, "sgd_clipnorm": 5.49, "sgd_clipvalue": 0.0, "sgd_schedule_momentum": 0.0,
    "sgd_ema": 0.0, "sgd_ema_overwrite_3": 1.22, "sgd_float64_nesterov": 0.0,
    "adam_defaults": 0.0, "adam_betas_epsilon": 0.0, "adam_amsgrad": 0.0, "adam_adaptive_epsilon": 0.0,
    "adam_clipvalue": 0.0, "adam_clipnorm": 4.43, "adam_global_clipnorm": 3.64, "adam_weight_decay": 0.0,
    "adam_schedule": 0.0, "adam_ema_overwrite_7": 0.0, "adam_float64_amsgrad": 0.0, "adam_float16": 0.0,
    "adam_bfloat16": 0.0,
    "adamw_defaults": 0.0, "adamw_weight_decay_amsgrad": 0.62, "adamw_global_clipnorm_ema_overwrite_10": 1.82,
    "rmsprop_ema_default_overwrite_100": 1.22, "rmsprop_momentum_ema_overwrite_5": 6.47,
    "adagrad_defaults": 0.0, "adagrad_accumulator_epsilon_clipnorm": 3.35,
    "adamax_defaults": 0.0, "adamax_betas_epsilon_weight_decay": 0.0,
    "adadelta_defaults": 0.0, "adadelta_rho_epsilon_global_clipnorm_ema": 1.60,
    "lion_defaults": 0.0, "lion_betas_weight_decay": 0.05,
}


def golden_optimizer(case):
    kwargs = dict(case["kwargs"])
    if case["meta"]["schedule"] is not None:
        kwargs["learning_rate"] = schedules.ExponentialDecay(**case["meta"]["schedule"])
    return CLASSES[case["meta"]["class_name"]](**kwargs)


def fed(dtype):
    """The initial params and gradients as fed to Keras: float32 values cast to ``dtype``."""
    params = {n: jnp.asarray(INPUTS[f"param_{n}"]).astype(dtype) for n in NAMES}
    grads = {n: jnp.asarray(INPUTS[f"grad_{n}"]).astype(dtype) for n in NAMES}
    return params, grads


def replay_many(opts, dtype):
    """Every step's params and the final state of each optimizer, all in one jitted ``lax.scan``.

    One compiled program per dtype instead of one per case (compiling dominates the cost); the
    optimizers do not interact, each has its own params and state in the carry.
    """
    params, grads = fed(dtype)

    def body(carry, g):
        stepped = []
        for opt, (params, state) in zip(opts, carry):
            updates, state = opt.update(g, state, params)
            stepped.append((optax.apply_updates(params, updates), state))
        return stepped, [params for params, _ in stepped]

    @jax.jit
    def run(params, grads):
        carry, trajectories = jax.lax.scan(body, [(params, opt.init(params)) for opt in opts], grads)
        return [(trajectory, state, finalize_variable_values(params, state))
                for trajectory, (params, state) in zip(trajectories, carry)]

    return run(params, grads)


def replay(opt, dtype):
    """Every step's params and the final state, in one jitted ``lax.scan``."""
    return replay_many([opt], dtype)[0]


def to64(x):
    return np.asarray(x).astype(np.float64)


def golden_errors(cases, opts=None) -> list[float]:
    """The worst deviation from Keras of each case, in eps (see the module docstring).

    ``opts`` (default: each case's optimizer) replace the cases' own optimizers; the cases of one
    dtype run together (:func:`replay_many`).
    """
    opts = [golden_optimizer(case) for case in cases] if opts is None else list(opts)
    errors = [None] * len(cases)
    for dtype_name in dict.fromkeys(case["meta"]["dtype"] for case in cases):
        group = [i for i, case in enumerate(cases) if case["meta"]["dtype"] == dtype_name]
        with jax.enable_x64(dtype_name == "float64"):
            replayed = replay_many([opts[i] for i in group], DTYPES[dtype_name])
            for i, result in zip(group, replayed):
                errors[i] = _error(cases[i], DTYPES[dtype_name], *result)
    return errors


def _error(case, dtype, trajectory, state, final) -> float:
    eps = float(jnp.finfo(dtype).eps)
    out = case["outputs"]
    worst = 0.0
    index = np.asarray(CHECKPOINTS) - 1
    for n in NAMES:
        want = to64(out[f"param_{n}"])
        history = np.concatenate([to64(fed(dtype)[0][n])[None], want])
        scale = np.maximum.accumulate(np.abs(history), axis=0)[1:]
        got = to64(trajectory[n])[index]
        worst = max(worst, float((np.abs(got - want) / (eps * scale)).max()))
        extra = {slot: getattr(state, slot, None) for slot in SLOTS}
        extra["ema"] = state.ema
        extra["final"] = final if case["kwargs"].get("use_ema") else None
        for key, tree in extra.items():
            assert (f"{key}_{n}" in out) == (tree is not None), f"{key} presence"
            if tree is not None:
                assert tree[n].dtype == dtype
                want_slot = to64(out[f"{key}_{n}"])
                worst = max(worst, float((np.abs(to64(tree[n]) - want_slot) / (eps * np.abs(want_slot).max())).max()))
    assert int(state.count) == int(out["count"]) == len(INPUTS["grad_a"])
    return worst


def allowed_eps(case) -> float:
    return max(1.0, MARGIN * OBSERVED_EPS[case["name"]])


@functools.cache
def trajectory_errors() -> dict[str, float]:
    """Every golden case's error, computed once for the module (one program per dtype)."""
    return dict(zip([case["name"] for case in TRAJECTORIES], golden_errors(TRAJECTORIES)))


@pytest.mark.parametrize("case", TRAJECTORIES, ids=[case["name"] for case in TRAJECTORIES])
def test_trajectory_matches_tf_keras(case):
    error = trajectory_errors()[case["name"]]
    assert error <= allowed_eps(case), f"{case['name']}: {error:.2f} eps (allowed {allowed_eps(case):.2f})"


def test_golden_file_covers_every_option():
    assert set(OBSERVED_EPS) == {case["name"] for case in TRAJECTORIES}
    kwargs = [case["kwargs"] for case in TRAJECTORIES]
    for option in ("clipnorm", "clipvalue", "global_clipnorm", "weight_decay", "amsgrad", "nesterov",
                   "use_ema", "ema_overwrite_frequency", "adaptive_epsilon"):
        assert any(option in k for k in kwargs), option
    assert any(case["meta"]["schedule"] for case in TRAJECTORIES)
    assert any(k.get("use_ema") and "ema_overwrite_frequency" not in k and case["meta"]["class_name"] == "SGD"
               for k, case in zip(kwargs, TRAJECTORIES))
    assert CHECKPOINTS[-1] == 1000 and {1, 2, 3, 10, 100} <= set(CHECKPOINTS)


# --- planted mutations: the goldens must reject them ---------------------------------------


class _Mutant(Adam):
    """Adam with one planted error (``kind``)."""

    def __init__(self, kind, **kwargs):
        super().__init__(**kwargs)
        self.kind = kind

    def _rule(self):
        inner = super()._rule()
        kind = self.kind

        def update(updates, state, params=None, *, learning_rate, count, **extra):
            if kind == "bias_correction_one_step_late":
                return inner.update(updates, state, params, learning_rate=learning_rate,
                                    count=jnp.maximum(count - 1, 0), **extra)
            # optax's placement: ε added to the bias-corrected sqrt(v̂)
            new_updates, new_state = inner.update(updates, state, params, learning_rate=learning_rate,
                                                  count=count, **extra)
            t = (count + 1).astype(jnp.float32)
            b1, b2 = 1 - self.beta_1**t, 1 - self.beta_2**t

            def optax_step(m, v):
                return -learning_rate * (m / b1) / (jnp.sqrt(v / b2) + self.epsilon)

            return jax.tree.map(optax_step, new_state.mu, new_state.nu), new_state

        return optax.GradientTransformationExtraArgs(inner.init, update)


class _NoNesterov(SGD):
    def _rule(self):
        return optimizers._sgd.scale_by_keras_sgd(self.momentum, nesterov=False)


MUTANTS = [  # (the golden case, the mutant); all float32, replayed together
    ("adam_defaults", lambda: _Mutant("epsilon_on_corrected_denominator")),
    ("adam_amsgrad", lambda: _Mutant("bias_correction_one_step_late", learning_rate=0.01, amsgrad=True)),
    ("adam_defaults", lambda: _Mutant("bias_correction_one_step_late")),
    ("sgd_nesterov", lambda: _NoNesterov(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("sgd_ema_overwrite_3", lambda: SGD(learning_rate=0.05, use_ema=True, ema_momentum=0.9,
                                        ema_overwrite_frequency=4)),  # overwrite one step late
    ("adagrad_defaults", lambda: Adagrad(initial_accumulator_value=0.0)),  # accumulators from zero
    ("lion_defaults", lambda: Lion(beta_1=0.99, beta_2=0.9)),  # the two betas swapped
    ("adamax_defaults", lambda: Adamax(beta_2=0.9999)),  # u decays 10 times slower
    ("adadelta_defaults", lambda: Adadelta(rho=0.9)),
]


@functools.cache
def mutant_replays():
    return replay_many([make() for _, make in MUTANTS], jnp.float32)


@pytest.mark.parametrize("index", range(len(MUTANTS)), ids=[name for name, _ in MUTANTS])
def test_goldens_reject_planted_mutations(index):
    case = BY_NAME[MUTANTS[index][0]]
    assert case["meta"]["dtype"] == "float32"
    assert _error(case, jnp.float32, *mutant_replays()[index]) > allowed_eps(case)


def test_epsilon_on_corrected_denominator_mutant_is_what_optax_adam_does():
    params, grads = fed(jnp.float32)
    ours = mutant_replays()[0][0]  # MUTANTS[0]: the optax placement of epsilon, default arguments
    theirs = optax.adam(1e-3, eps=1e-7)
    step = jax.jit(theirs.update)
    state, p = theirs.init(params), params
    for i in range(3):
        updates, state = step(jax.tree.map(lambda g: g[i], grads), state)
        p = optax.apply_updates(p, updates)
    np.testing.assert_allclose(p["a"], ours["a"][2], rtol=1e-6)


# --- EMA --------------------------------------------------------------------------------


def test_ema_reference_and_finalize():
    # KERAS2_SEMANTICS.md §17: SGD lr 0.1, momentum 0.5, grad 1 from 1.0 -> var 0.9
    opt = SGD(0.1, momentum=0.5, use_ema=True, ema_momentum=0.5)
    params = jnp.array(1.0)
    updates, state = opt.update(jnp.array(1.0), opt.init(params), params)
    params = optax.apply_updates(params, updates)
    assert float(params) == pytest.approx(0.9) and float(state.ema) == pytest.approx(0.95)
    assert float(finalize_variable_values(params, state)) == pytest.approx(0.95)
    plain = SGD(0.1).init(params)
    assert finalize_variable_values(params, plain) is params
    with pytest.raises(ValueError, match="state of one jaxent optimizer"):
        finalize_variable_values(params, optax.sgd(0.1).init(params))


def test_ema_state_survives_inject_hyperparams():
    # the overwrite frequency is a step pattern: static, not an injected array
    opt = optax.inject_hyperparams(Adam, static_args=("ema_overwrite_frequency",))(
        learning_rate=0.01, use_ema=True, ema_overwrite_frequency=2)
    params = {"w": jnp.ones(3)}
    state = opt.init(params)
    updates, state = opt.update({"w": jnp.ones(3)}, state, params)
    params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(finalize_variable_values(params, state)["w"], 0.99 + 0.01 * params["w"], rtol=1e-6)


# --- the Keras side: get_config, from_config, get ----------------------------------------


@pytest.mark.parametrize("class_name", ["SGD", "Adam", "AdamW", "Adagrad", "Adamax", "Lion", "Adadelta"])
def test_default_get_config_equals_tf_keras(class_name):
    config = json.loads(json.dumps(CLASSES[class_name]().get_config(), default=lambda x: x.item()))
    want = dict(CONFIGS["defaults"][class_name])
    assert list(config) == list(want)
    assert {**config, "jit_compile": False} == want  # tf-keras reports False without a GPU


@pytest.mark.parametrize("case", TRAJECTORIES, ids=[case["name"] for case in TRAJECTORIES])
def test_get_config_equals_tf_keras_and_round_trips(case):
    opt = golden_optimizer(case)
    config = json.loads(json.dumps(opt.get_config(), default=lambda x: x.item()))
    assert {**config, "jit_compile": False} == case["meta"]["config"]
    rebuilt = type(opt).from_config(case["meta"]["config"])
    if not case["kwargs"].get("adaptive_epsilon"):  # not in Keras's config either
        assert rebuilt.get_config() == opt.replace(jit_compile=False).get_config()


@pytest.mark.parametrize("row", CONFIGS["get"], ids=[json.dumps(r["identifier"])[:50] for r in CONFIGS["get"]])
def test_get_resolves_what_tf_keras_resolves(row):
    identifier, result = row["identifier"], row["result"]
    config = identifier.get("config", {}) if isinstance(identifier, dict) else {}
    implemented = result.get("class_name") in CLASSES and "legacy" not in result.get("module", "")
    named = identifier if isinstance(identifier, str) else identifier.get("class_name", "")
    if named.lower() == "lion" and (isinstance(identifier, str) or config.get("is_legacy_optimizer") is False):
        # tf-keras 2.21's table lacks Lion, so its get raises; jaxent resolves it (README)
        assert result["type"] == "error"
        assert optimizers.get(identifier) == Lion.from_config(config)
    elif result["type"] == "instance" and implemented:
        got = optimizers.get(identifier)
        assert type(got).__name__ == result["class_name"]
        assert json.loads(json.dumps({**got.get_config(), "jit_compile": False},
                                     default=lambda x: x.item())) == result["config"]
    elif config and config.get("is_legacy_optimizer", True):
        with pytest.raises(ValueError, match="'is_legacy_optimizer': False"):
            optimizers.get(identifier)
    else:
        with pytest.raises(ValueError):
            optimizers.get(identifier)


def test_instances_and_lowercase_factories():
    opt = AdamW(0.01)
    assert optimizers.get(opt) is opt
    for factory, cls in ((optimizers.sgd, SGD), (optimizers.adam, Adam), (optimizers.adamw, AdamW),
                         (optimizers.adagrad, Adagrad), (optimizers.adamax, Adamax), (optimizers.lion, Lion),
                         (optimizers.adadelta, Adadelta)):
        tx = factory(0.01)
        assert isinstance(tx, optax.GradientTransformation)
        params = jnp.array([1.0, -2.0])
        np.testing.assert_array_equal(
            tx.update(jnp.array([0.5, 1.0]), tx.init(params), params)[0],
            cls(0.01).update(jnp.array([0.5, 1.0]), cls(0.01).init(params), params)[0])


@pytest.mark.parametrize("make, error, message", [
    (lambda: SGD(momentum=1.5), ValueError, "momentum"),
    (lambda: AdamW(weight_decay=None), ValueError, "Missing value of `weight_decay`"),
    (lambda: Adam(beta_1=1.0), ValueError, "beta_1"),
    (lambda: Adam(decay=0.1), ValueError, "tf.keras.optimizers.legacy.Adam"),
    (lambda: SGD(bogus=1), TypeError, "bogus is not a valid argument"),
    (lambda: Adam(clipnorm=1.0, global_clipnorm=1.0), ValueError, "At most one of"),
    (lambda: Adagrad(initial_accumulator_value=-0.1), ValueError, "initial_accumulator_value"),
    (lambda: Adamax(beta_2=1.0), ValueError, "beta_2"),
    (lambda: Lion(beta_1=0.0), ValueError, "must be between ]0, 1]"),
    (lambda: Lion(beta_1=1.5), ValueError, "must be between ]0, 1]"),
    (lambda: Lion(beta_2=-0.1), ValueError, "beta_2"),
    (lambda: Adadelta(rho=1.0), ValueError, "rho"),
    (lambda: Adagrad(decay=0.1), ValueError, "tf.keras.optimizers.legacy.Adagrad"),
])
def test_bad_arguments_raise(make, error, message):
    with pytest.raises(error, match=message):
        make()


if __name__ == "__main__":
    for name, error in trajectory_errors().items():
        print(f'    "{name}": {error:.2f},')
