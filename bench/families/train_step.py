"""Train step: a jitted MLP step with a jaxent loss and metric against the same step with optax's loss.

One step (mode ``step``) is ``value_and_grad`` of the loss of a two-layer MLP, an
``optax.sgd`` update and a running mean of the loss, jitted with params and states donated and
called the way a training loop calls it (through ``jax.jit``'s dispatch, chained from step to
step). The implementations differ only in the loss and the accumulator:

* ``jaxent``: ``jaxent.losses.SparseCategoricalCrossentropy(from_logits=True)`` and
  ``jaxent.metrics.Mean().update``;
* ``optax``: ``optax.losses.softmax_cross_entropy_with_integer_labels(...).mean()`` and a
  hand-written ``(total + loss, count + 1)``.

Sizes are ``BATCHxWIDTH``: inputs ``[B, W]``, a hidden layer of ``W`` units, ``W`` classes. At
these sizes the step is dominated by dispatch, which is what this family measures (a jaxent
callable that leaves an effect in the caller's jaxpr turns off JAX's C++ fast path).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

import jaxent
from bench import core
from bench.core import F32, Op, Prepared, Size

PRESETS = {
    backend: {"toy": {"main": [(32, 10)]}, "quick": {"main": [(32, 10), (256, 100)]},
              "small": {"main": [(32, 10), (256, 100)]}}
    for backend in ("cpu", "accelerator")
}
LEARNING_RATE = 0.1


def make_inputs(size: Size, dtype):
    batch, width = size.shape
    k1, k2 = jax.random.split(core.key(13))
    params = {
        "w1": (jax.random.normal(k1, (width, width), F32) / jnp.sqrt(width)).astype(dtype),
        "b1": jnp.zeros((width,), dtype),
        "w2": (jax.random.normal(k2, (width, width), F32) / jnp.sqrt(width)).astype(dtype),
        "b2": jnp.zeros((width,), dtype),
    }
    x = jax.random.normal(core.key(14), (batch, width), F32).astype(dtype)
    y = jax.random.randint(core.key(15), (batch,), 0, width, jnp.int32)
    return params, x, y


def mlp(params, x):
    h = jax.nn.relu(x @ params["w1"] + params["b1"])
    return h @ params["w2"] + params["b2"]


@dataclasses.dataclass(frozen=True)
class Step:
    """One train-step op: per implementation, ``(loss(labels, logits) -> scalar, accumulator)``.

    An accumulator is ``(init() -> state, update(state, loss) -> state)``.
    """

    name: str
    jaxent: Callable[[], tuple[Callable, tuple[Callable, Callable]]]
    optax: Callable[[], tuple[Callable, tuple[Callable, Callable]]]
    doc: str


def _hand_written_mean():
    return (lambda: (jnp.zeros((), F32), jnp.zeros((), F32)),
            lambda state, loss: (state[0] + loss, state[1] + 1.0))


def _jaxent_sparse_ce():
    loss = jaxent.losses.SparseCategoricalCrossentropy(from_logits=True)
    mean = jaxent.metrics.Mean()
    return loss, (mean.init, mean.update)


def _optax_sparse_ce():
    return (lambda y, logits: optax.losses.softmax_cross_entropy_with_integer_labels(logits, y).mean(),
            _hand_written_mean())


STEPS: list[Step] = [
    Step("train_step.mlp_sparse_ce", _jaxent_sparse_ce, _optax_sparse_ce,
         "MLP step: SparseCategoricalCrossentropy(from_logits=True) + sgd + metrics.Mean "
         "vs optax softmax_cross_entropy_with_integer_labels + sgd + hand-written mean"),
]


def make_step(loss: Callable, accumulator: tuple[Callable, Callable]):
    """``(init(params) -> carry, step(params, opt_state, metric_state, x, y))`` of one implementation."""
    tx = optax.sgd(LEARNING_RATE)
    metric_init, metric_update = accumulator

    def step(params, opt_state, metric_state, x, y):
        value, grads = jax.value_and_grad(lambda p: loss(y, mlp(p, x)))(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, metric_update(metric_state, value), value

    return (lambda params: (params, tx.init(params), metric_init())), step


def _op(entry: Step) -> Op:
    def impls():
        return {"jaxent": make_step(*entry.jaxent()), "optax": make_step(*entry.optax())}, {}

    return Op(entry.name, "train_step", impls, make_inputs, ("step",), dtypes=("float32",), doc=entry.doc)


class TrainStep(core.Family):
    name = "train_step"
    title = "Train step (jitted MLP step called through jax.jit, params and states donated)"
    presets = PRESETS
    target = 1.05

    def parse_token(self, token):
        shape = core.split_shape(token, 2)
        return [] if shape is None else [self.make_size("main", shape)]

    def ops(self):
        return [_op(e) for e in STEPS]

    def prepare(self, op, impl, obj, mode, inputs):
        init, step = obj
        params, x, y = inputs
        # every leaf its own buffer: a fresh metric state repeats one zero, which donation rejects
        carry = [jax.tree.map(jnp.copy, c) for c in init(jax.tree.map(jnp.copy, params))]
        # timed through jax.jit's own dispatch, as a training loop calls it (not an AOT executable)
        jitted = jax.jit(step, donate_argnums=(0, 1, 2))
        out, compile_s = core.first_call(jitted, *carry, x, y)
        first_loss = float(out[3])
        carry[:] = out[:3]

        def call():
            carry[0], carry[1], carry[2], loss = jitted(carry[0], carry[1], carry[2], x, y)
            return loss

        return Prepared(call, lambda _out: first_loss, None, None, compile_s)


FAMILY = TrainStep()
