"""Optimizers: one RMSprop step on a transformer-shaped params pytree.

Each implementation is a step ``(params, state, grads) -> (params, state)`` with ``params`` and
``state`` donated, chained from call to call (mode ``step``): jaxent's ``rmsprop``, optax's
``rmsprop`` in Keras's parametrisation, a hand-written ``jnp`` version and Keras 3's
``stateless_apply``. Sizes are parameter counts (``4M``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxent
from bench import core
from bench.core import EPS, F32, Op, Prepared, Size

LEARNING_RATE, RHO = 1e-3, 0.9

PRESETS = {
    "cpu": {"toy": {"params": [20_000]}, "quick": {"params": [1_000_000]}, "small": {"params": [1_000_000]},
            "medium": {"params": [4_000_000]}, "large": {"params": [16_000_000]}},
    "accelerator": {"toy": {"params": [20_000]}, "quick": {"params": [128_000_000]},
                    "small": {"params": [16_000_000]}, "medium": {"params": [128_000_000]},
                    "large": {"params": [512_000_000]}},
}


@dataclasses.dataclass(frozen=True)
class Config:
    """One RMSprop configuration: the keyword arguments shared by jaxent, optax, jnp and Keras 3."""

    name: str
    kwargs: dict[str, Any]

    @property
    def bytes_per_param(self) -> int:
        """Minimal reads + writes per parameter, in units of one parameter's size.

        params r/w, grads r, rms r/w = 5; momentum and centered each add a slot r/w; a global
        norm needs every gradient before the first update, so one more gradient read.
        """
        k = self.kwargs
        return 5 + 2 * bool(k.get("momentum")) + 2 * bool(k.get("centered")) + bool(k.get("global_clipnorm"))


CONFIGS: list[Config] = [
    Config("plain", {}),
    Config("momentum", {"momentum": 0.9}),
    Config("centered", {"centered": True}),
    Config("global_clipnorm", {"global_clipnorm": 1.0}),
]


# ---------------------------------------------------------------------------------------------
# Params.


def param_shapes(count: int) -> dict[str, Any]:
    """A transformer-like params pytree of about ``count`` float parameters.

    An embedding, ``L`` blocks of (``[D, 4D]``, ``[4D]``, ``[4D, D]``, ``[D]``, layer-norm ``[D]``)
    and an output head; ``D`` grows with ``count``.
    """
    d = 64 if count < 200_000 else 256 if count < 10**7 else 1024 if count < 2 * 10**8 else 2048
    vocab = max(256, min(32768, count // (4 * d)))
    per_layer = 8 * d * d + 7 * d
    layers = max(1, round((count - 2 * vocab * d) / per_layer))
    blocks = {
        f"block{i:02d}": {"w_in": (d, 4 * d), "b_in": (4 * d,), "w_out": (4 * d, d), "b_out": (d,), "norm": (d,)}
        for i in range(layers)
    }
    return {"embed": (vocab, d), **blocks, "head": (d, vocab)}


def make_params(count: int, dtype=F32, seed: int = 8) -> Any:
    shapes = param_shapes(count)
    leaves, treedef = jax.tree.flatten(shapes, is_leaf=lambda x: isinstance(x, tuple))
    keys = jax.random.split(core.key(seed), len(leaves))
    arrays = [(0.02 * jax.random.normal(k, s, F32)).astype(dtype) for k, s in zip(keys, leaves)]
    return jax.tree.unflatten(treedef, arrays)


def param_count(tree) -> int:
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def make_inputs(size: Size, dtype) -> dict[str, Any]:
    params = make_params(size.shape[0])
    leaves, treedef = jax.tree.flatten(params)
    keys = jax.random.split(core.key(12), len(leaves))
    grads = jax.tree.unflatten(treedef, [1e-3 * jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)])
    return {"params": params, "grads": grads}


# ---------------------------------------------------------------------------------------------
# Peers.


def jnp_rmsprop(momentum=0.0, centered=False, global_clipnorm=None) -> optax.GradientTransformation:
    """Keras 2's RMSprop (tf-keras >= 2.11, epsilon inside the root) written out with tree maps."""

    def init(params):
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)  # noqa: E731
        return {"rms": zeros(), "mom": zeros() if momentum else None, "mg": zeros() if centered else None}

    def update(grads, state, params=None):
        if global_clipnorm is not None:
            norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree.leaves(grads)))
            scale = global_clipnorm / jnp.maximum(norm, global_clipnorm)
            grads = jax.tree.map(lambda g: g * scale, grads)
        rms = jax.tree.map(lambda r, g: RHO * r + (1 - RHO) * g * g, state["rms"], grads)
        denom = rms
        mg = state["mg"]
        if centered:
            mg = jax.tree.map(lambda m, g: RHO * m + (1 - RHO) * g, mg, grads)
            denom = jax.tree.map(lambda r, m: r - m * m, rms, mg)
        step = jax.tree.map(lambda g, d: LEARNING_RATE * g * jax.lax.rsqrt(d + EPS), grads, denom)
        mom = state["mom"]
        if momentum:
            mom = jax.tree.map(lambda m, s: momentum * m + s, mom, step)
            step = mom
        return jax.tree.map(jnp.negative, step), {"rms": rms, "mom": mom, "mg": mg}

    return optax.GradientTransformation(init, update)


def optax_rmsprop(momentum=0.0, centered=False, global_clipnorm=None) -> optax.GradientTransformation:
    tx = optax.rmsprop(LEARNING_RATE, decay=RHO, eps=EPS, eps_in_sqrt=True, centered=centered,
                       momentum=momentum or None)
    return optax.chain(optax.clip_by_global_norm(global_clipnorm), tx) if global_clipnorm else tx


def tx_step(tx: optax.GradientTransformation):
    """``(init(params), step(params, state, grads) -> (params, state))`` for an optax transform."""

    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return tx.init, step


def keras_step(keras, kwargs, params):
    """Keras 3 RMSprop's ``stateless_apply`` on the flattened params (a list of arrays)."""
    leaves = jax.tree.leaves(params)
    variables = [keras.Variable(x) for x in leaves]
    opt = keras.optimizers.RMSprop(learning_rate=LEARNING_RATE, rho=RHO, epsilon=EPS, **kwargs)
    opt.build(variables)
    opt_state = [v.value for v in opt.variables]
    treedef = jax.tree.structure(params)

    def step(params, state, grads):
        new_leaves, state = opt.stateless_apply(state, jax.tree.leaves(grads), jax.tree.leaves(params))
        return jax.tree.unflatten(treedef, new_leaves), state

    return (lambda _params: opt_state), step


def _op(config: Config) -> Op:
    kw = config.kwargs

    def impls():
        found = {
            "jaxent": lambda params: tx_step(jaxent.optimizers.rmsprop(learning_rate=LEARNING_RATE, rho=RHO,
                                                                        epsilon=EPS, **kw)),
            "optax": lambda params: tx_step(optax_rmsprop(**kw)),
            "jnp": lambda params: tx_step(jnp_rmsprop(**kw)),
        }
        skipped: dict[str, str] = {}
        core.with_keras(found, skipped, lambda keras: lambda params: keras_step(keras, kw, params))
        return found, skipped

    return Op(f"rmsprop.{config.name}", "optimizers", impls, make_inputs, ("step",), ("params",), ("float32",),
              doc=f"optimizers.rmsprop({', '.join(f'{k}={v}' for k, v in kw.items())}) step",
              spec={"config": config})


class Optimizers(core.Family):
    name = "optimizers"
    title = "RMSprop (one step, params and state donated)"
    presets = PRESETS

    def make_size(self, group, shape):
        # labelled and plotted by the parameters the pytree really has (16M asked: 16.4M built)
        leaves = jax.tree.leaves(param_shapes(shape[0]), is_leaf=lambda x: isinstance(x, tuple))
        count = sum(int(np.prod(s)) for s in leaves)
        return Size(self.name, group, tuple(shape), core.format_count(count) + "p", count)

    def parse_token(self, token):
        if "x" in token.lower():
            return []
        try:
            return [self.make_size("params", (core.parse_count(token.rstrip("pP")),))]
        except ValueError:
            return []

    def ops(self):
        return [_op(c) for c in CONFIGS]

    def prepare(self, op, impl, obj, mode, inputs):
        params = jax.tree.map(jnp.copy, inputs["params"])
        grads = inputs["grads"]
        init, step = obj(params)
        state = init(params)
        compiled, lower_s, compile_s = core.compile_ahead(step, params, state, grads, donate=(0, 1))
        carry = [params, state]
        first = np.asarray(jax.tree.leaves(params)[0], np.float64)

        def call():
            carry[0], carry[1] = compiled(carry[0], carry[1], grads)
            return carry[0]

        def value(out):  # size of the first step on the first leaf (same params and grads for every impl)
            return float(np.sum(np.abs(np.asarray(jax.tree.leaves(out)[0], np.float64) - first)))

        return Prepared(call, value, compiled, lower_s, compile_s)

    def min_bytes(self, op, size, inputs, mode):
        return op.spec["config"].bytes_per_param * core.tree_bytes(inputs["params"])


FAMILY = Optimizers()
