"""RMSprop's Keras side: constructor, get_config/from_config, serialize, optimizers.get.

References: ``tests/golden/configs.json`` (``tests/golden/generate_configs.py``, tf-keras
2.21) and KERAS2_SEMANTICS.md §14.
"""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxent import optimizers
from jaxent.optimizers import RMSprop, RMSpropState, rmsprop, schedules

GOLDEN = json.loads((Path(__file__).parent / "golden" / "configs.json").read_text())
OPTIMIZER_CONFIGS = GOLDEN["configs"]["optimizers"]
GET_OPTIMIZERS = GOLDEN["get"]["optimizers"]
THETA0 = [1.0, -2.0, 0.5]
GRADS3 = [[0.5, -1.0, 2.0], [0.1, 0.0, -3.0], [1e-4, 1e-8, 0.0]]


def without_jit_compile(config: dict) -> dict:
    """tf-keras reports jit_compile=False without a GPU (the golden machine had none)."""
    return {k: v for k, v in config.items() if k != "jit_compile"}


def plain(config: dict) -> dict:
    """A config as configs.json stores it (NumPy scalars as Python numbers)."""
    return json.loads(json.dumps(config, default=lambda x: x.item()))


def last_params(opt, params=THETA0, grads=GRADS3):
    params = jnp.asarray(params)
    state = opt.init(params)
    for g in grads:
        updates, state = opt.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
    return np.asarray(params)


# --- get_config / from_config / serialize against tf-keras ------------------------------

BUILDABLE = [name for name, entry in OPTIMIZER_CONFIGS.items()
             if entry["class_name"] == "RMSprop" and not entry["args"].get("use_ema")
             and "__schedule__" not in json.dumps(entry["args"])]


@pytest.mark.parametrize("name", BUILDABLE)
def test_get_config_equals_tf_keras(name):
    entry = OPTIMIZER_CONFIGS[name]
    opt = RMSprop(**entry["args"])
    config = opt.get_config()
    assert list(config) == list(entry["config"])  # Keras's keys in Keras's order
    assert without_jit_compile(plain(config)) == without_jit_compile(entry["config"])
    assert config["jit_compile"] is entry["args"].get("jit_compile", True)
    assert type(config["learning_rate"]) is np.float32 and entry["types"] == {"learning_rate": "float32"}
    serialized = optimizers.serialize(opt)
    assert without_jit_compile(plain(serialized["config"])) == without_jit_compile(
        entry["serialized"]["config"])
    assert {k: v for k, v in serialized.items() if k != "config"} == {
        k: v for k, v in entry["serialized"].items() if k != "config"}


def test_schedule_learning_rate_is_serialized_as_tf_keras_does():
    entry = OPTIMIZER_CONFIGS["cosine_decay_schedule"]
    schedule = schedules.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10)
    opt = RMSprop(learning_rate=schedule, momentum=0.5, clipnorm=1.0)
    assert without_jit_compile(opt.get_config()) == without_jit_compile(entry["config"])
    rebuilt = RMSprop.from_config(entry["config"])
    assert rebuilt.learning_rate == schedule
    np.testing.assert_array_equal(last_params(rebuilt), last_params(opt))


@pytest.mark.parametrize("name", BUILDABLE + ["cosine_decay_schedule"])
def test_from_config_of_tf_keras_config_round_trips(name):
    keras_config = OPTIMIZER_CONFIGS[name]["config"]
    opt = RMSprop.from_config(keras_config)
    assert without_jit_compile(plain(opt.get_config())) == without_jit_compile(keras_config)
    assert optimizers.deserialize(OPTIMIZER_CONFIGS[name]["serialized"]).get_config() == \
        opt.get_config()


def test_from_config_rebuilds_the_same_trajectory():
    opt = RMSprop(0.01, rho=0.8, momentum=0.9, centered=True, clipnorm=1.0, weight_decay=0.1)
    again = RMSprop.from_config(opt.get_config())
    np.testing.assert_array_equal(last_params(again), last_params(opt))


def test_plain_optax_schedule_has_no_keras_config():
    opt = RMSprop(learning_rate=optax.linear_schedule(0.1, 0.0, 10))
    assert last_params(opt).shape == (3,)  # it trains
    with pytest.raises(TypeError, match="plain optax schedule, which has no Keras config"):
        opt.get_config()


# --- the Keras constructor ---------------------------------------------------------------


def test_rmsprop_instances_are_optax_transformations_with_keras_attributes():
    opt = RMSprop(0.05, momentum=0.9, name="opt")
    assert isinstance(opt.as_optax(), optax.GradientTransformation)
    assert isinstance(opt.init(jnp.zeros(2)), RMSpropState)
    assert (opt.learning_rate, opt.momentum, opt.rho, opt.name, opt.use_ema) == (
        0.05, 0.9, 0.9, "opt", False)
    assert repr(opt) == "RMSprop(learning_rate=0.05, momentum=0.9, name='opt')"
    assert repr(RMSprop()) == "RMSprop()"
    chained = optax.chain(optax.clip(1.0), opt)
    assert last_params(chained).shape == (3,)


def test_keras_positional_order():
    # Keras: (learning_rate, rho, momentum, epsilon, centered, weight_decay, clipnorm,
    #         clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, ...)
    opt = RMSprop(0.01, 0.8, 0.5, 1e-6, True, 0.1, 2.0, 3.0, None, False, 0.9, 7)
    config = opt.get_config()
    assert (config["rho"], config["momentum"], config["epsilon"], config["centered"],
            config["weight_decay"], config["clipnorm"], config["clipvalue"],
            config["ema_momentum"], config["ema_overwrite_frequency"]) == (
        0.8, 0.5, 1e-6, True, 0.1, 2.0, 3.0, 0.9, 7)


def test_weight_decay_reference_and_order():
    # §14: weight_decay 0.5, lr 0.1, θ=2, g=1 -> 2 - 0.1 - 0.1/sqrt(0.1 + 1e-7) = 1.583772
    opt = RMSprop(learning_rate=0.1, weight_decay=0.5)
    params = jnp.array(2.0)
    updates, _ = opt.update(jnp.array(1.0), opt.init(params), params)
    assert float(optax.apply_updates(params, updates)) == pytest.approx(1.583772, abs=1e-6)
    # decoupled: a zero gradient still decays, by θ·wd·lr
    updates, _ = opt.update(jnp.array(0.0), opt.init(params), params)
    assert float(optax.apply_updates(params, updates)) == pytest.approx(2.0 - 2.0 * 0.5 * 0.1)
    with pytest.raises(ValueError, match=r"needs the parameters: call update\(grads, state, params\)"):
        opt.update(jnp.array(1.0), opt.init(params))


@pytest.mark.parametrize("factory", [rmsprop, RMSprop], ids=["rmsprop", "RMSprop"])
def test_weight_decay_rides_along_with_inject_hyperparams(factory):
    injected = optax.inject_hyperparams(factory)(learning_rate=0.1, weight_decay=0.5)
    params = jnp.array(2.0)
    state = injected.init(params)
    updates, state = jax.jit(injected.update)(jnp.array(1.0), state, params)
    assert float(optax.apply_updates(params, updates)) == pytest.approx(1.583772, abs=1e-6)
    assert set(state.hyperparams) >= {"learning_rate", "weight_decay"}
    assert "kwargs" not in state.hyperparams and "name" not in state.hyperparams


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"use_ema": True, "ema_momentum": 1.5}, ValueError, r"`ema_momentum` must be in the range \[0, 1\]"),
        ({"use_ema": True, "ema_overwrite_frequency": 2.0}, ValueError, "`ema_overwrite_frequency` must be an integer"),
        ({"lr": 0.5}, ValueError, "tf-keras >= 2.11 ignores it"),
        ({"decay": 0.1}, ValueError,
         "decay is deprecated in the new TF-Keras optimizer, please check the docstring for "
         "valid arguments, or use the legacy optimizer, e.g., "
         r"tf.keras.optimizers.legacy.RMSprop. \(The legacy `decay=d` is"),
        ({"gradient_aggregator": None}, ValueError, "gradient_aggregator is deprecated"),
        ({"bogus": 1}, TypeError,
         "bogus is not a valid argument, kwargs should be empty  for "
         "`optimizer_experimental.Optimizer`."),
        ({"mesh": object()}, ValueError, "`mesh`"),
        ({"name": 3}, TypeError, "`name` must be a string"),
        ({"clipnorm": 1.0, "global_clipnorm": 1.0}, ValueError,
         "At most one of `clipnorm` and `global_clipnorm` can be set."),
        ({"weight_decay": "0.1"}, TypeError, "`weight_decay` must be a float or None"),
    ],
)
def test_keras_only_arguments_are_handled_honestly(kwargs, error, message):
    with pytest.raises(error, match=message):
        RMSprop(**kwargs)


def test_accepted_keras_only_arguments_change_nothing():
    base = last_params(RMSprop(0.01))
    for kwargs in ({"ema_momentum": 0.5, "ema_overwrite_frequency": 3}, {"jit_compile": False},
                   {"name": "x"}, {"is_legacy_optimizer": False}, {"lr": None}, {"mesh": None}):
        np.testing.assert_array_equal(last_params(RMSprop(0.01, **kwargs)), base)


# --- a well-behaved Python and JAX object -----------------------------------------------


def test_copy_pickle_and_pytree_keep_the_optimizer_intact():
    opt = RMSprop(schedules.ExponentialDecay(0.1, 10, 0.5), momentum=0.9, clipnorm=1.0)
    want = last_params(opt)
    for clone in (copy.copy(opt), copy.deepcopy(opt), pickle.loads(pickle.dumps(opt)),
                  jax.tree.map(lambda x: x, opt)):
        assert isinstance(clone, RMSprop) and clone.get_config() == opt.get_config()
        np.testing.assert_array_equal(last_params(clone), want)
    assert jax.tree.leaves(opt) == []  # a configuration without arrays: no leaves
    replaced = opt.replace(momentum=0.5)
    assert replaced.momentum == 0.5 and opt.momentum == 0.9 and type(replaced) is RMSprop


def test_hash_and_equality_are_by_value_of_every_argument():
    # frozen configuration: equal arguments (with their types) give equal, equally hashed
    # optimizers, which share a compiled static-argument cache entry; any other argument differs
    a, b = RMSprop(0.1), RMSprop(0.1)
    assert a == b and hash(a) == hash(b)
    assert a != RMSprop(0.1, name="other") and a != RMSprop(0.1, rho=0.8)

    @jax.jit
    def step(params):
        return a.update(params, a.init(params))[0]

    assert jax.make_jaxpr(step)(jnp.ones(3)).effects == set()
    static = jax.jit(lambda opt, p: opt.update(p, opt.init(p))[0], static_argnums=0)
    np.testing.assert_allclose(static(RMSprop(0.1), jnp.ones(3)), static(RMSprop(0.2), jnp.ones(3)) / 2,
                               rtol=1e-6)


def test_update_leaves_no_effect_in_the_callers_jaxpr():
    opt = RMSprop(schedules.CosineDecayRestarts(0.1, 10), momentum=0.9, centered=True,
                  global_clipnorm=1.0, weight_decay=0.01)
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    state = opt.init(params)
    jaxpr = jax.make_jaxpr(lambda g, s, p: opt.update(g, s, p))(params, state, params)
    assert jaxpr.effects == set()


# --- optimizers.get ----------------------------------------------------------------------


@pytest.mark.parametrize("row", GET_OPTIMIZERS, ids=[json.dumps(r["identifier"])[:60] for r in GET_OPTIMIZERS])
def test_get_resolves_what_tf_keras_resolves(row):
    identifier, result = row["identifier"], row["result"]
    if isinstance(identifier, dict) and set(identifier) == {"__instance__"}:
        opt = RMSprop(0.5)
        assert optimizers.get(opt) is opt
        return
    keras_name = result.get("class_name")
    config = identifier.get("config", {}) if isinstance(identifier, dict) else {}
    if config.get("lr") is not None:  # Keras ignores lr= silently; jaxent makes the port choose
        with pytest.raises(ValueError, match="ignores it"):
            optimizers.get(identifier)
    elif config and config.get("is_legacy_optimizer", True):
        # Keras builds its legacy optimizer (or fails building it): jaxent says why it cannot
        with pytest.raises(ValueError, match="'is_legacy_optimizer': False"):
            optimizers.get(identifier)
        assert result["type"] == "error" or "legacy" in result["module"]
    elif result["type"] == "instance" and keras_name == "RMSprop":
        got = optimizers.get(identifier)
        assert isinstance(got, RMSprop) and "legacy" not in result["module"]
        want = without_jit_compile(result["config"])
        assert without_jit_compile(plain(got.get_config())) == want
    elif isinstance(identifier, str) and identifier.lower() == "lion":
        # tf-keras 2.21's table lacks Lion, so its get raises; jaxent resolves it (README)
        assert result["type"] == "error" and type(optimizers.get(identifier)).__name__ == "Lion"
    elif result["type"] == "instance" and keras_name in ("SGD", "Adam", "AdamW", "Adagrad", "Adamax", "Adadelta"):
        assert type(optimizers.get(identifier)).__name__ == keras_name  # tests/test_optimizers_keras.py
    elif result["type"] == "instance":  # another Keras optimizer: not in jaxent
        with pytest.raises(ValueError, match=f"(?i)Unknown optimizer: .*{keras_name}.*jaxent "
                                             "does not implement.*optax"):
            optimizers.get(identifier)
    else:
        assert result["type"] == "error"
        with pytest.raises((ValueError, TypeError)) as info:
            optimizers.get(identifier)
        if result["error"] == "ValueError" and result["message"].startswith("Unknown optimizer"):
            assert str(info.value).startswith(result["message"].split(". Please")[0])
            assert "Known names: " in str(info.value) and "'rmsprop'" in str(info.value)
        elif result["error"] in ("ValueError", "TypeError"):
            assert type(info.value).__name__ == result["error"]
            assert str(info.value).startswith(result["message"][:40])


def test_get_accepts_any_case_and_other_optax_transformations():
    for name in ("rmsprop", "RMSprop", "RMSPROP", "rmsProp"):
        assert optimizers.get(name).get_config() == RMSprop().get_config()
    adam = optax.adam(1e-3)
    assert optimizers.get(adam) is adam


def test_get_with_lr_in_config_raises_rather_than_ignoring_it():
    # tf-keras resolves this to RMSprop(learning_rate=0.001), silently dropping lr=0.5
    with pytest.raises(ValueError, match="ignores it"):
        optimizers.get({"class_name": "RMSprop",
                        "config": {"is_legacy_optimizer": False, "lr": 0.5}})


def test_get_errors_name_the_identifier():
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: None"):
        optimizers.get(None)
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 42"):
        optimizers.get(42)
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'nadam'. It is a Keras optimizer "
                                         r"that jaxent does not implement: .*optax.nadam"):
        optimizers.get("nadam")
    with pytest.raises(TypeError, match="Only jaxent's Keras optimizer classes .* have a Keras config"):
        optimizers.serialize(optax.sgd(0.1))
