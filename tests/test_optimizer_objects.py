"""RMSprop as a frozen object, its shared transforms, compile counts and hyperparameter checks."""

from __future__ import annotations

import functools
import pickle
import re
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxent._objects import FrozenInstanceError
from jaxent.optimizers import RMSprop, RMSpropState, rmsprop, schedules
from jaxent.optimizers._transforms import Rounded, clip_gradients, decay_weights, keras_chain
from jaxent.optimizers._rmsprop import scale_by_keras_rms

from tests.test_optimizer_configs import GRADS3, THETA0, last_params


# --- compiled once -----------------------------------------------------------------------


def test_update_is_not_jitted_inside():
    opt = RMSprop(0.01)
    jaxpr = jax.make_jaxpr(lambda g, s: opt.update(g, s))(jnp.ones(3), opt.init(jnp.ones(3)))
    # jnp.where is jax.numpy's own small jit; nothing of jaxent's is compiled on its own
    names = {eqn.params.get("name") for eqn in jaxpr.jaxpr.eqns if "jit" in eqn.primitive.name}
    assert names <= {"_where"}


def test_jitted_train_step_is_traced_once():
    opt = RMSprop(schedules.ExponentialDecay(0.1, 10, 0.5), momentum=0.9, clipnorm=1.0)
    traces = []

    @jax.jit
    def step(params, state, grads):
        traces.append(1)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    params = jnp.asarray(THETA0)
    state = opt.init(params)
    for g in GRADS3 * 5:
        params, state = step(params, state, jnp.asarray(g))
    assert len(traces) == 1


def test_inject_hyperparams_stepped_eagerly_compiles_a_bounded_number_of_times():
    # Before: every rmsprop(...) built inside inject_hyperparams' update jitted its own update
    # function, so each eager step compiled it again (~65 ms/step).
    opt = optax.inject_hyperparams(rmsprop)(learning_rate=0.01, momentum=0.9)
    params = {"w": jnp.asarray(THETA0)}
    state = opt.init(params)
    g = {"w": jnp.asarray(GRADS3[0])}
    opt.update(g, state, params)  # warm up: every op compiled once
    compiles = []
    listener = lambda event, *args, **kwargs: compiles.append(event) if "compil" in event else None  # noqa: E731
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        for _ in range(10):
            _, state = opt.update(g, state, params)
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert compiles == []


def test_inject_hyperparams_in_a_jitted_step_is_traced_once_across_learning_rates():
    opt = optax.inject_hyperparams(RMSprop)(learning_rate=0.01)
    traces = []

    @jax.jit
    def step(params, state, grads):
        traces.append(1)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    params = jnp.asarray(THETA0)
    state = opt.init(params)
    for lr in (0.01, 0.02, 0.0):
        state.hyperparams["learning_rate"] = jnp.asarray(lr)
        params, state = step(params, state, jnp.asarray(GRADS3[0]))
    assert len(traces) == 1


# --- a frozen, comparable, picklable object -------------------------------------------------


def test_assignment_after_construction_raises():
    opt = RMSprop(0.01)
    with pytest.raises(FrozenInstanceError, match="cannot set `rho`"):
        opt.rho = 0.5
    with pytest.raises(FrozenInstanceError):
        del opt.learning_rate
    assert opt.replace(rho=0.5).rho == 0.5 and opt.rho == 0.9


def test_equal_optimizers_share_one_static_argument_compilation():
    traces = []

    @functools.partial(jax.jit, static_argnums=0)
    def step(opt, params):
        traces.append(1)
        return opt.update(params, opt.init(params))[0]

    a = step(RMSprop(0.1, momentum=0.5), jnp.ones(3))
    b = step(RMSprop(0.1, momentum=0.5), jnp.ones(3))
    c = step(RMSprop(0.2, momentum=0.5), jnp.ones(3))
    assert len(traces) == 2
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(c, 2 * a, rtol=1e-6)


def test_array_hyperparameters_are_pytree_leaves():
    opt = RMSprop(jnp.float32(0.1), rho=0.9)
    assert len(jax.tree.leaves(opt)) == 1
    doubled = jax.tree.map(lambda x: 2 * x, opt)
    assert isinstance(doubled, RMSprop) and float(doubled.learning_rate) == pytest.approx(0.2)


PICKLED_IN_ANOTHER_PROCESS = """
import pickle, sys
import jax.numpy as jnp, numpy as np, optax
opt = pickle.loads(sys.stdin.buffer.read())
params = jnp.asarray([1.0, -2.0, 0.5])
state = opt.init(params)
updates, state = opt.update(jnp.asarray([0.5, -1.0, 2.0]), state, params)
print(repr(opt))
print(np.asarray(optax.apply_updates(params, updates)).tolist())
"""


def test_pickle_round_trips_in_a_fresh_process():
    opt = RMSprop(schedules.CosineDecay(0.1, 100), momentum=0.9, clipnorm=1.0, weight_decay=0.01)
    assert pickle.loads(pickle.dumps(opt)) == opt
    result = subprocess.run([sys.executable, "-c", PICKLED_IN_ANOTHER_PROCESS], input=pickle.dumps(opt),
                            capture_output=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    shown, values = result.stdout.decode().splitlines()[-2:]
    assert shown == repr(opt)
    np.testing.assert_array_equal(eval(values), last_params(opt, grads=GRADS3[:1]))


# --- optax's combinators take it as it is -------------------------------------------------


def test_as_optax_is_a_real_gradient_transformation_with_the_same_updates():
    opt = RMSprop(0.01, momentum=0.9, centered=True)
    tx = opt.as_optax()
    assert isinstance(tx, optax.GradientTransformationExtraArgs)
    np.testing.assert_array_equal(last_params(tx), last_params(opt))


@pytest.mark.parametrize("wrap", [
    lambda opt: optax.chain(optax.identity(), opt),
    lambda opt: optax.MultiSteps(opt, every_k_schedule=1),
    lambda opt: optax.multi_transform({"a": opt}, lambda params: "a"),
    lambda opt: optax.apply_if_finite(opt, max_consecutive_errors=2),
], ids=["chain", "MultiSteps", "multi_transform", "apply_if_finite"])
def test_optax_combinators_accept_it_directly(wrap):
    opt = RMSprop(0.01, momentum=0.9)
    np.testing.assert_allclose(last_params(wrap(opt)), last_params(opt), rtol=1e-7)


def test_state_layout_is_rmsprop_state():
    state = RMSprop(momentum=0.9, centered=True).init({"w": jnp.ones(2)})
    assert isinstance(state, RMSpropState) and state.count.dtype == jnp.int32
    assert set(state.nu) == set(state.mu) == set(state.momentum) == {"w"}


# --- the transforms on their own ----------------------------------------------------------


def test_keras_chain_of_the_pieces_equals_rmsprop():
    opt = RMSprop(0.01, momentum=0.5, centered=True, clipnorm=1.0, weight_decay=0.1)
    chain = keras_chain(0.01, clip_gradients(clipnorm=1.0), scale_by_keras_rms(momentum=0.5, centered=True),
                        decay_weights(0.1))
    np.testing.assert_array_equal(last_params(chain), last_params(opt))


def test_keras_chain_hands_the_schedule_at_the_pre_update_count_to_every_piece():
    seen = []

    def spy(updates, state, params=None, *, learning_rate, count, **extra):
        seen.append((int(count), float(learning_rate)))
        return updates, state

    chain = keras_chain(lambda count: 0.1 * (count + 1),
                        optax.GradientTransformationExtraArgs(lambda p: optax.EmptyState(), spy))
    state = chain.init(jnp.zeros(()))
    for _ in range(3):
        _, state = chain.update(jnp.ones(()), state)
    assert [c for c, _ in seen] == [0, 1, 2]
    np.testing.assert_allclose([lr for _, lr in seen], [0.1, 0.2, 0.3], rtol=1e-6)
    assert int(state.count) == 3


def test_float16_arithmetic_rounds_every_op_like_tensorflow_under_jit():
    # TF's float16 rsqrt is 1/sqrt with both roundings, and every op rounds to float16; XLA on
    # CPU would otherwise keep float32 intermediates inside a fused kernel.
    rng = np.random.default_rng(0)
    g = (rng.normal(size=100_000) * rng.choice([1e-3, 1e-2, 1, 10], 100_000)).astype(np.float16)
    nu = np.abs(rng.normal(size=100_000) * rng.choice([1e-6, 1e-4, 1e-2, 1, 10], 100_000)).astype(np.float16)

    def step(g, nu):
        r = Rounded(jnp.float16)
        g, nu = r.const(g), r.const(nu)
        nu = r.add(r.mul(r.const(0.9), nu), r.mul(r.const(1 - 0.9), r.mul(g, g)))
        return r.out(nu), r.out(r.rsqrt(r.add(nu, r.const(1e-7))))

    h = np.float16
    want_nu = h(0.9) * nu + h(1 - 0.9) * (g * g)
    want_r = h(1) / np.sqrt(want_nu + h(1e-7))
    for fn in (step, jax.jit(step)):
        got_nu, got_r = fn(jnp.asarray(g), jnp.asarray(nu))
        np.testing.assert_array_equal(got_nu, want_nu)
        np.testing.assert_array_equal(got_r, want_r)


# --- hyperparameter checks ----------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, message", [
    ({"rho": 1.0}, ValueError, "`rho` must be in [0, 1). Received: rho=1.0."),
    ({"rho": -0.1}, ValueError, "`rho` must be in [0, 1). Received: rho=-0.1."),
    ({"rho": 1}, ValueError, "`rho` must be in [0, 1). Received: rho=1."),
    ({"momentum": 1.0}, ValueError, "`momentum` must be < 1. Received: momentum=1.0."),
    ({"momentum": 1.5}, ValueError, "`momentum` must be < 1. Received: momentum=1.5."),
    ({"epsilon": -1e-7}, ValueError, "`epsilon` must be >= 0. Received: epsilon=-1e-07."),
    ({"epsilon": float("inf")}, ValueError, "`epsilon` must be finite. Received: epsilon=inf."),
    ({"learning_rate": -0.1}, ValueError, "`learning_rate` must be >= 0. Received: learning_rate=-0.1."),
    ({"learning_rate": float("nan")}, ValueError, "`learning_rate` must be finite. Received: learning_rate=nan."),
    ({"learning_rate": jnp.float32(-1.0)}, ValueError, "`learning_rate` must be >= 0."),
    ({"weight_decay": -0.5}, ValueError, "`weight_decay` must be >= 0. Received: weight_decay=-0.5."),
    ({"rho": jnp.array([0.9])}, ValueError, "`rho` must be a scalar. Received: rho of shape (1,)."),
    ({"momentum": "0.9"}, TypeError, "`momentum` must be a float. Received: momentum='0.9' of type str"),
    ({"epsilon": True}, TypeError, "`epsilon` must be a float. Received: epsilon=True of type bool"),
    ({"centered": 1}, TypeError, "`centered` must be a bool (True or False). Received: centered=1 of type int"),
])
def test_out_of_range_hyperparameters_raise_naming_argument_and_value(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        RMSprop(**kwargs)


@pytest.mark.parametrize("kwargs, same_as", [
    ({"learning_rate": 1}, {"learning_rate": 1.0}),
    ({"rho": 0}, {"rho": 0.0}),
    ({"momentum": 0}, {"momentum": 0.0}),
    ({"epsilon": 0, "rho": 0}, {"epsilon": 0.0, "rho": 0.0}),
    ({"clipnorm": 1}, {"clipnorm": 1.0}),
    ({"weight_decay": 1, "learning_rate": 0}, {"weight_decay": 1.0, "learning_rate": 0.0}),
    ({"rho": np.float32(0.5)}, {"rho": 0.5}),
])
def test_integer_hyperparameters_are_numbers(kwargs, same_as):
    np.testing.assert_array_equal(last_params(RMSprop(**kwargs)), last_params(RMSprop(**same_as)))
    assert RMSprop(**kwargs).get_config()[next(iter(kwargs))] is not None


def test_integer_hyperparameters_under_inject_hyperparams():
    # inject_hyperparams turns ints into int32 arrays: no "rsqrt does not accept int32"
    injected = optax.inject_hyperparams(rmsprop)(learning_rate=1, rho=0, epsilon=0)
    np.testing.assert_allclose(last_params(injected), last_params(rmsprop(1.0, rho=0.0, epsilon=0.0)), rtol=1e-6)


def test_get_config_keeps_an_int_as_keras_does():
    config = RMSprop(rho=0, momentum=0).get_config()
    assert config["rho"] == 0 and type(config["rho"]) is int


def test_schedules_share_the_same_checks():
    with pytest.raises(ValueError, match=re.escape("`decay_steps` must be > 0. Received: decay_steps=0.")):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(TypeError, match=re.escape("`decay_rate` must be a real number. Received: decay_rate=None")):
        schedules.InverseTimeDecay(0.1, 10, None)
    with pytest.raises(ValueError, match=re.escape("`alpha` must be finite. Received: alpha=inf.")):
        schedules.CosineDecay(0.1, 10, alpha=float("inf"))
