"""Losses: jaxent's loss functions and Loss classes against optax, hand-written ``jnp`` and Keras 3.

Each op's implementations map the inputs to the same scalar objective, the mean of the
per-sample losses (the Loss classes: the reduced, ``[B]``-weighted loss); timed forward
(``jit(objective)``) and forward + backward (``jit(value_and_grad(objective))`` w.r.t. the
prediction). Sizes are ``ROWSxCLASSES``: ``clf`` shapes (classification) for every op and
``lm`` shapes (language-model vocabularies) for the cross entropies with class labels.

The hand-written ``jnp`` baselines are what a user would write, computing 16-bit inputs in
float32 as jaxent does; the sparse ones pick the label with an iota compare (no gather, so
no scatter in the backward pass).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

import jaxent
from bench import core, roofline
from bench.core import EPS, Op, Prepared, Size, up

ROWS = ("clf", "lm")

# Per size class: classification ("clf") and language-model ("lm") (rows, classes) shapes.
PRESETS = {
    "cpu": {
        "toy": {"clf": [(64, 10)], "lm": [(32, 512)]},
        "quick": {"clf": [(4096, 100)], "lm": []},
        "small": {"clf": [(256, 10), (2048, 100)], "lm": []},
        "medium": {"clf": [(16384, 100), (4096, 1000)], "lm": [(1024, 8192)]},
        "large": {"clf": [(65536, 1000)], "lm": [(4096, 32768)]},
    },
    "accelerator": {
        "toy": {"clf": [(64, 10)], "lm": [(32, 512)]},
        "quick": {"clf": [(16384, 1000)], "lm": [(4096, 32768)]},
        "small": {"clf": [(256, 10), (4096, 100)], "lm": [(4096, 32768)]},
        "medium": {"clf": [(16384, 1000)], "lm": [(16384, 32768), (8192, 131072)]},
        "large": {"clf": [(65536, 1000)], "lm": [(32768, 32768), (8192, 262144)]},
    },
}

# ---------------------------------------------------------------------------------------------
# Inputs: (y_true, y_pred) for a (rows, classes) size.


def sparse_logits(s: Size, d):
    return core.int_labels(s.shape, s.shape[-1]), core.logits(s.shape, d)


def dense_logits(s: Size, d):
    return core.one_hot(s.shape, d), core.logits(s.shape, d)


def sparse_probs(s: Size, d):
    return core.int_labels(s.shape, s.shape[-1]), core.probabilities(s.shape, d)


def dense_probs(s: Size, d):
    return core.one_hot(s.shape, d), core.probabilities(s.shape, d)


def bits_logits(s: Size, d):
    return core.bits(s.shape, d), core.logits(s.shape, d)


def bits_probs(s: Size, d):
    return core.bits(s.shape, d), core.sigmoid_probabilities(s.shape, d)


def regression(s: Size, d):
    return core.targets(s.shape, d), core.logits(s.shape, d)


def weighted(make: Callable) -> Callable:
    """``make``'s inputs plus a ``[B]`` sample weight."""
    return lambda s, d: (*make(s, d), core.weights(s.shape, d))


# ---------------------------------------------------------------------------------------------
# Per-sample baselines with the (y_true, y_pred) argument order.


def _pick(x, labels):
    return jnp.sum(jnp.where(jnp.arange(x.shape[-1]) == labels[..., None], x, 0), axis=-1)


def jnp_sparse_softmax_ce(labels, logits_):
    x = up(logits_)
    return jax.nn.logsumexp(x, axis=-1) - _pick(x, labels)


def jnp_softmax_ce(labels, logits_):
    x = up(logits_)
    return -jnp.sum(labels.astype(x.dtype) * jax.nn.log_softmax(x, axis=-1), axis=-1)


def jnp_categorical(y_true, y_pred):
    p = up(y_pred)
    p = jnp.clip(p / jnp.sum(p, axis=-1, keepdims=True), EPS, 1 - EPS)
    return -jnp.sum(y_true.astype(p.dtype) * jnp.log(p), axis=-1)


def jnp_sparse_categorical(labels, y_pred):
    lp = jnp.log(jnp.clip(up(y_pred), EPS, 1 - EPS))
    return jax.nn.logsumexp(lp, axis=-1) - _pick(lp, labels)


def jnp_sigmoid_ce(labels, logits_):
    x = up(logits_)
    z = labels.astype(x.dtype)
    return jnp.maximum(x, 0) - x * z + jnp.log1p(jnp.exp(-jnp.abs(x)))


def jnp_bce(y_true, y_pred):
    p = jnp.clip(up(y_pred), EPS, 1 - EPS)
    t = y_true.astype(p.dtype)
    return jnp.mean(-(t * jnp.log(p + EPS) + (1 - t) * jnp.log(1 - p + EPS)), axis=-1)


def jnp_mse(y_true, y_pred):
    p = up(y_pred)
    return jnp.mean(jnp.square(p - y_true.astype(p.dtype)), axis=-1)


def jnp_mae(y_true, y_pred):
    p = up(y_pred)
    return jnp.mean(jnp.abs(p - y_true.astype(p.dtype)), axis=-1)


def optax_sparse_ce(labels, x):
    return optax.losses.softmax_cross_entropy_with_integer_labels(x, labels)


def optax_softmax_ce(labels, x):
    return optax.losses.softmax_cross_entropy(x, labels)


def optax_sigmoid_ce(labels, x):
    return optax.losses.sigmoid_binary_cross_entropy(x, labels)


def optax_bce_logits(labels, x):
    return jnp.mean(optax_sigmoid_ce(labels, x), axis=-1)


def jnp_bce_logits(labels, x):
    return jnp.mean(jnp_sigmoid_ce(labels, x), axis=-1)


def optax_mse(y_true, y_pred):
    return jnp.mean(optax.losses.squared_error(y_pred, y_true), axis=-1)


# ---------------------------------------------------------------------------------------------
# The table: one entry per op.


@dataclasses.dataclass(frozen=True)
class Loss:
    """A loss function op: each implementation maps ``(y_true, y_pred)`` to per-sample losses."""

    name: str
    inputs: Callable
    jaxent: Callable
    optax: Callable | None = None
    jnp: Callable | None = None
    keras: Callable[[Any, Any, Any], Any] | None = None  # (keras, y_true, y_pred) -> per-sample
    groups: tuple[str, ...] = ("clf",)
    ce: bool = False
    doc: str = ""


@dataclasses.dataclass(frozen=True)
class LossClass:
    """A Loss class called with a ``[B]`` sample_weight (reduction ``auto``) against weighted means."""

    name: str  # the jaxent (and Keras 3) class name
    kwargs: dict[str, Any]
    inputs: Callable  # (y_true, y_pred) without the weight
    optax: Callable | None = None
    jnp: Callable | None = None
    groups: tuple[str, ...] = ("clf",)
    ce: bool = False


L = jaxent.losses
LOSSES: list[Loss | LossClass] = [
    Loss("sparse_softmax_ce", sparse_logits, jaxent.nn.sparse_softmax_cross_entropy_with_logits, optax_sparse_ce,
         jnp_sparse_softmax_ce, lambda k, y, x: k.losses.sparse_categorical_crossentropy(y, x, from_logits=True),
         ROWS, True, "nn.sparse_softmax_cross_entropy_with_logits(labels, logits)"),
    Loss("softmax_ce", dense_logits, jaxent.nn.softmax_cross_entropy_with_logits, optax_softmax_ce, jnp_softmax_ce,
         lambda k, y, x: k.losses.categorical_crossentropy(y, x, from_logits=True),
         ROWS, True, "nn.softmax_cross_entropy_with_logits(one_hot, logits)"),
    Loss("categorical_ce", dense_probs, L.categorical_crossentropy, None, jnp_categorical,
         lambda k, y, p: k.losses.categorical_crossentropy(y, p),
         ROWS, True, "losses.categorical_crossentropy(one_hot, probabilities)"),
    Loss("sparse_categorical_ce", sparse_probs, L.sparse_categorical_crossentropy, None, jnp_sparse_categorical,
         lambda k, y, p: k.losses.sparse_categorical_crossentropy(y, p),
         ROWS, True, "losses.sparse_categorical_crossentropy(labels, probabilities)"),
    Loss("sigmoid_ce", bits_logits, jaxent.nn.sigmoid_cross_entropy_with_logits, optax_sigmoid_ce, jnp_sigmoid_ce,
         lambda k, y, x: k.losses.binary_crossentropy(y, x, from_logits=True),
         ce=True, doc="nn.sigmoid_cross_entropy_with_logits(bits, logits)"),
    Loss("binary_ce", bits_probs, L.binary_crossentropy, None, jnp_bce,
         lambda k, y, p: k.losses.binary_crossentropy(y, p), ce=True,
         doc="losses.binary_crossentropy(bits, probabilities)"),
    Loss("mse", regression, L.mean_squared_error, optax_mse, jnp_mse,
         lambda k, y, p: k.losses.mean_squared_error(y, p), doc="losses.mean_squared_error"),
    Loss("mae", regression, L.mean_absolute_error, None, jnp_mae,
         lambda k, y, p: k.losses.mean_absolute_error(y, p), doc="losses.mean_absolute_error (optax has none)"),
    # Loss classes with a [B] sample_weight; the cross entropies take logits, as in training.
    LossClass("CategoricalCrossentropy", {"from_logits": True}, dense_logits, optax_softmax_ce, jnp_softmax_ce,
              ce=True),
    LossClass("SparseCategoricalCrossentropy", {"from_logits": True}, sparse_logits, optax_sparse_ce,
              jnp_sparse_softmax_ce, ROWS, ce=True),
    LossClass("BinaryCrossentropy", {"from_logits": True}, bits_logits, optax_bce_logits, jnp_bce_logits, ce=True),
    LossClass("MeanSquaredError", {}, regression, optax_mse, jnp_mse),
    LossClass("MeanAbsoluteError", {}, regression, None, jnp_mae),
]


def _mean(fn: Callable) -> Callable:
    """The scalar objective of a per-sample loss: its mean over every entry."""
    return lambda *args: jnp.mean(fn(*args))


def _weighted_mean(fn: Callable) -> Callable:
    return lambda y_true, y_pred, w: jnp.mean(fn(y_true, y_pred) * w)


def _function_op(entry: Loss) -> Op:
    def impls():
        found = {"jaxent": _mean(entry.jaxent)}
        skipped: dict[str, str] = {}
        if entry.optax is not None:
            found["optax"] = _mean(entry.optax)
        if entry.jnp is not None:
            found["jnp"] = _mean(entry.jnp)
        if entry.keras is not None:
            core.with_keras(found, skipped, lambda k: _mean(lambda y, p: entry.keras(k, y, p)))
        return found, skipped

    return Op(entry.name, "losses", impls, entry.inputs, ("fwd", "fwd+bwd"), entry.groups, ce=entry.ce,
              doc=entry.doc, spec={"diff_argnums": (1,)})


def _class_op(entry: LossClass) -> Op:
    options = ", ".join(f"{k}={v}" for k, v in entry.kwargs.items())

    def impls():
        loss = getattr(jaxent.losses, entry.name)(**entry.kwargs)
        found = {"jaxent": lambda y_true, y_pred, w: loss(y_true, y_pred, sample_weight=w)}
        skipped: dict[str, str] = {}
        if entry.optax is not None:
            found["optax"] = _weighted_mean(entry.optax)
        if entry.jnp is not None:
            found["jnp"] = _weighted_mean(entry.jnp)

        def keras_impl(keras):
            keras_loss = getattr(keras.losses, entry.name)(**entry.kwargs)
            return lambda y_true, y_pred, w: keras_loss(y_true, y_pred, sample_weight=w)

        core.with_keras(found, skipped, keras_impl)
        return found, skipped

    return Op(f"{entry.name}(sw)", "losses", impls, weighted(entry.inputs), ("fwd", "fwd+bwd"), entry.groups,
              ce=entry.ce, doc=f"losses.{entry.name}({options})(..., sample_weight=[B])",
              spec={"diff_argnums": (1,)})


# ---------------------------------------------------------------------------------------------
# The family.


class RowsFamily(core.Family):
    """Shared by losses and metrics: ``ROWSxCLASSES`` sizes, full-size buffer counts, the exp floor."""

    presets = PRESETS

    def parse_token(self, token: str) -> list[Size]:
        shape = core.split_shape(token, 2)
        return [] if shape is None else [self.make_size("clf", shape)]

    def min_bytes(self, op, size, inputs, mode):
        """Every input read once; forward + backward also writes each gradient once."""
        read = core.tree_bytes(inputs)
        if mode != "fwd+bwd":
            return read
        return read + sum(core.tree_bytes(inputs[i]) for i in op.spec.get("diff_argnums", ()))

    def big_elements(self, op, size, inputs):
        return max(int(x.size) for x in inputs)

    def min_passes(self, op, inputs, mode, big):
        reads = sum(1 for x in inputs if x.size >= big)
        writes = sum(1 for i in op.spec.get("diff_argnums", ()) if inputs[i].size >= big) if mode == "fwd+bwd" else 0
        return reads + writes

    def extras(self, op, size, dtype, seconds, budget, clock):
        if not op.ce or jax.default_backend() != "cpu":
            return {}
        floor = roofline.exp_pass(size.shape, dtype, budget=min(budget, 0.5), clock=clock)
        return {"exp_pass_s": floor, "exp_ratio": seconds / floor}


class Losses(RowsFamily):
    name = "losses"
    title = "Losses (objective = mean of the per-sample losses; fwd+bwd = value_and_grad w.r.t. the prediction)"

    def ops(self) -> list[Op]:
        return [_function_op(e) if isinstance(e, Loss) else _class_op(e) for e in LOSSES]

    def prepare(self, op, impl, obj, mode, inputs):
        fn = obj if mode == "fwd" else jax.value_and_grad(obj, argnums=op.spec["diff_argnums"])
        compiled, lower_s, compile_s = core.compile_ahead(fn, *inputs)
        value = (lambda out: float(out)) if mode == "fwd" else (lambda out: float(out[0]))
        return Prepared(lambda: compiled(*inputs), value, compiled, lower_s, compile_s)


FAMILY = Losses()

__all__ = ["FAMILY", "LOSSES", "Loss", "LossClass", "RowsFamily"]
