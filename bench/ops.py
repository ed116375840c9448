"""What is timed: every operation, its implementations, its inputs and its problem sizes.

An *op* is one mathematical quantity (e.g. the sparse softmax cross entropy of logits); its
*implementations* are jaxent's and the baselines' (optax, a hand-written ``jnp`` version, Keras 3
on its JAX backend). Every implementation of an op computes the same scalar objective from the
same inputs, so times compare like for like; the runner checks that the values agree.

* ``loss`` ops: ``objective(*inputs) -> scalar``; timed forward (``jit(objective)``) and forward +
  backward (``jit(value_and_grad(objective, argnums=diff_argnums))``, w.r.t. the prediction).
* ``metric`` ops: ``(init, update)``; ``jit(update)(state, *inputs)`` is timed (mode ``update``).
* ``optimizer`` ops: one optimizer step ``(params, state, grads) -> (params, state)`` with
  ``params`` and ``state`` donated (mode ``step``).
* ``fused`` ops: the linear + sparse softmax cross entropy, timed forward and forward + backward
  w.r.t. ``features`` and ``kernel``.

Modules that do not exist yet (``jaxent.metrics``, ``jaxent.optimizers``, the fused CE) and
Keras 3 are optional: their ops or implementations are skipped with a reason.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import importlib
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import jaxent

EPS = 1e-7
F32 = jnp.float32

# --------------------------------------------------------------------------------------------
# Optional modules.


@functools.cache
def keras_module() -> tuple[Any, str | None]:
    """``(keras, None)`` when Keras 3 runs on JAX here, else ``(None, why)``.

    ``KERAS_BACKEND`` is set to ``jax`` before the import; a Keras already imported with another
    backend, Keras 2, or no Keras at all is skipped.
    """
    if os.environ.get("JAXENT_BENCH_NO_KERAS"):
        return None, "disabled (--no-keras)"
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        keras = importlib.import_module("keras")
    except Exception as error:  # ImportError, or a broken install
        return None, f"keras not importable ({type(error).__name__}: {error})"
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        return None, f"keras {version} is not Keras 3"
    if keras.backend.backend() != "jax":
        return None, f"keras runs on {keras.backend.backend()!r}, not jax (set KERAS_BACKEND=jax)"
    return keras, None


def _attr(module: str, *names: str) -> tuple[Any, str | None]:
    """The first of ``module.name`` that exists, or ``(None, why)``."""
    try:
        mod = importlib.import_module(module)
    except Exception as error:
        return None, f"{module} not importable ({type(error).__name__}: {error})"
    for name in names:
        if hasattr(mod, name):
            return getattr(mod, name), None
    return None, f"{module} has no {' / '.join(names)} yet"


def jaxent_metrics() -> tuple[Any, str | None]:
    """``jaxent.metrics`` once it has metric classes (it may exist as an empty folder first)."""
    try:
        mod = importlib.import_module("jaxent.metrics")
    except Exception as error:
        return None, f"jaxent.metrics not importable ({type(error).__name__}: {error})"
    missing = [name for name, _ in METRICS if not hasattr(mod, name)]
    if len(missing) == len(METRICS):
        return None, "jaxent.metrics has no metric classes yet"
    return mod, None


def jaxent_rmsprop() -> tuple[Any, str | None]:
    return _attr("jaxent.optimizers", "rmsprop")


def jaxent_fused_ce() -> tuple[Any, str | None]:
    fn, why = _attr("jaxent.nn", "linear_sparse_softmax_cross_entropy")
    if fn is None:
        fn, why = _attr("jaxent.fused_ce", "linear_sparse_softmax_cross_entropy")
    return fn, why


# --------------------------------------------------------------------------------------------
# Sizes. The preset is picked by backend: the CPU gets smaller language-model, optimizer and
# fused shapes than an accelerator. Nothing else depends on the backend.

# Per size class: "rows" shapes (batch/tokens, classes/vocab) for the classification ("clf")
# and language-model ("lm") families, "params" counts for the optimizer, "fused" (N, D, V).
PRESETS: dict[str, dict[str, dict[str, list]]] = {
    "cpu": {
        "toy": {"clf": [(64, 10)], "lm": [(32, 512)], "params": [20_000], "fused": [(64, 32, 512)]},
        "quick": {"clf": [(4096, 100)], "lm": [], "params": [1_000_000], "fused": [(512, 128, 4096)]},
        "small": {"clf": [(256, 10), (2048, 100)], "lm": [], "params": [1_000_000], "fused": [(512, 256, 8192)]},
        "medium": {"clf": [(16384, 100), (4096, 1000)], "lm": [(1024, 8192)], "params": [4_000_000],
                   "fused": [(1024, 256, 16384)]},
        "large": {"clf": [(65536, 1000)], "lm": [(4096, 32768)], "params": [16_000_000],
                  "fused": [(2048, 512, 32768)]},
    },
    "accelerator": {
        "toy": {"clf": [(64, 10)], "lm": [(32, 512)], "params": [20_000], "fused": [(64, 32, 512)]},
        "quick": {"clf": [(16384, 1000)], "lm": [(4096, 32768)], "params": [128_000_000],
                  "fused": [(2048, 512, 32768)]},
        "small": {"clf": [(256, 10), (4096, 100)], "lm": [(4096, 32768)], "params": [16_000_000],
                  "fused": [(2048, 512, 32768)]},
        "medium": {"clf": [(16384, 1000)], "lm": [(16384, 32768), (8192, 131072)], "params": [128_000_000],
                   "fused": [(8192, 2048, 131072)]},
        "large": {"clf": [(65536, 1000)], "lm": [(32768, 32768), (8192, 262144)], "params": [512_000_000],
                  "fused": [(16384, 4096, 262144)]},
    },
}
SIZE_CLASSES = ("toy", "quick", "small", "medium", "large")


def backend_kind() -> str:
    return "cpu" if jax.default_backend() == "cpu" else "accelerator"


@dataclasses.dataclass(frozen=True)
class Size:
    """One problem size: ``shape`` is (rows, classes), (params,) or (N, D, V) by ``kind``."""

    kind: str  # "clf" | "lm" | "params" | "fused"
    shape: tuple[int, ...]

    @property
    def label(self) -> str:
        if self.kind == "params":
            return format_count(self.shape[0]) + "p"
        return "x".join(str(d) for d in self.shape)

    @property
    def elements(self) -> int:
        """The x axis of the plots: prediction elements, parameters, or logits of the fused CE."""
        if self.kind == "fused":
            n, _, v = self.shape
            return n * v
        return math.prod(self.shape)


def format_count(n: int) -> str:
    """``n`` with an SI suffix: 1030000 -> ``1.03M``."""
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.3g}{unit}"
    return str(n)


def _parse_count(text: str) -> int:
    scale = {"k": 10**3, "m": 10**6, "g": 10**9}.get(text[-1].lower())
    return int(float(text[:-1]) * scale) if scale else int(text)


def parse_sizes(spec: str, backend: str | None = None) -> dict[str, list[Size]]:
    """Sizes per kind from ``--sizes``: size classes and/or explicit shapes, comma separated.

    ``small,medium``: the backend's presets. ``4096x1000``: (rows, classes) for the row ops
    (classification and language-model families). ``4M`` or ``4000000p``: optimizer parameters.
    ``2048x512x32768``: (N, D, V) for the fused CE.
    """
    backend = backend or backend_kind()
    out: dict[str, list[Size]] = {"clf": [], "lm": [], "params": [], "fused": []}
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        if token in PRESETS[backend]:
            for kind, shapes in PRESETS[backend][token].items():
                out[kind] += [Size(kind, (s,) if isinstance(s, int) else tuple(s)) for s in shapes]
            continue
        parts = token.lower().split("x")
        try:
            if len(parts) == 2:
                out["clf"].append(Size("clf", (int(parts[0]), int(parts[1]))))
            elif len(parts) == 3:
                out["fused"].append(Size("fused", tuple(int(p) for p in parts)))
            elif len(parts) == 1:
                out["params"].append(Size("params", (_parse_count(token.rstrip("pP")),)))
            else:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"--sizes: cannot read {token!r}; use size classes {list(PRESETS[backend])}, "
                "ROWSxCLASSES, NxDxV or a parameter count such as 4M"
            ) from None
    for kind, sizes in out.items():  # keep order, drop duplicates
        out[kind] = list(dict.fromkeys(sizes))
    return out


# --------------------------------------------------------------------------------------------
# Inputs. All made from fixed keys, so every implementation sees the same numbers.


def _key(i: int) -> jax.Array:
    return jax.random.key(i)


def logits(shape, dtype):
    return (2.0 * jax.random.normal(_key(1), shape, F32)).astype(dtype)


def probabilities(shape, dtype):
    return jax.nn.softmax(jax.random.normal(_key(2), shape, F32), axis=-1).astype(dtype)


def sigmoid_probabilities(shape, dtype):
    return jax.nn.sigmoid(2.0 * jax.random.normal(_key(3), shape, F32)).astype(dtype)


def int_labels(shape, classes):
    return jax.random.randint(_key(4), shape[:-1], 0, classes, jnp.int32)


def one_hot(shape, dtype):
    return jax.nn.one_hot(int_labels(shape, shape[-1]), shape[-1], dtype=dtype)


def bits(shape, dtype):
    return jax.random.bernoulli(_key(5), 0.5, shape).astype(dtype)


def targets(shape, dtype):
    return jax.random.normal(_key(6), shape, F32).astype(dtype)


def weights(shape, dtype):
    return jax.random.uniform(_key(7), shape[:1], F32, 0.0, 2.0).astype(dtype)


# --------------------------------------------------------------------------------------------
# Hand-written jnp baselines: what a user would write, computing 16-bit inputs in float32 as
# jaxent does. The sparse ones pick the label with an iota compare (no gather, so no scatter in
# the backward pass).


def _up(x):
    x = jnp.asarray(x)
    return x.astype(F32) if x.dtype in (jnp.bfloat16, jnp.float16) else x


def _pick(x, labels):
    return jnp.sum(jnp.where(jnp.arange(x.shape[-1]) == labels[..., None], x, 0), axis=-1)


def jnp_sparse_softmax_ce(labels, logits_):
    x = _up(logits_)
    return jax.nn.logsumexp(x, axis=-1) - _pick(x, labels)


def jnp_softmax_ce(labels, logits_):
    x = _up(logits_)
    return -jnp.sum(labels.astype(x.dtype) * jax.nn.log_softmax(x, axis=-1), axis=-1)


def jnp_categorical(y_true, y_pred):
    p = _up(y_pred)
    p = jnp.clip(p / jnp.sum(p, axis=-1, keepdims=True), EPS, 1 - EPS)
    return -jnp.sum(y_true.astype(p.dtype) * jnp.log(p), axis=-1)


def jnp_sparse_categorical(labels, y_pred):
    lp = jnp.log(jnp.clip(_up(y_pred), EPS, 1 - EPS))
    return jax.nn.logsumexp(lp, axis=-1) - _pick(lp, labels)


def jnp_sigmoid_ce(labels, logits_):
    x = _up(logits_)
    z = labels.astype(x.dtype)
    return jnp.maximum(x, 0) - x * z + jnp.log1p(jnp.exp(-jnp.abs(x)))


def jnp_bce(y_true, y_pred):
    p = jnp.clip(_up(y_pred), EPS, 1 - EPS)
    t = y_true.astype(p.dtype)
    return jnp.mean(-(t * jnp.log(p + EPS) + (1 - t) * jnp.log(1 - p + EPS)), axis=-1)


def jnp_mse(y_true, y_pred):
    p = _up(y_pred)
    return jnp.mean(jnp.square(p - y_true.astype(p.dtype)), axis=-1)


def jnp_mae(y_true, y_pred):
    p = _up(y_pred)
    return jnp.mean(jnp.abs(p - y_true.astype(p.dtype)), axis=-1)


# --------------------------------------------------------------------------------------------
# Op specifications.


@dataclasses.dataclass(frozen=True)
class Op:
    """One benchmarked quantity with all its implementations.

    ``make_inputs(size, dtype)`` returns the input arrays; ``impls()`` returns
    ``({impl: callable}, {impl: why skipped})``, resolved lazily so optional modules are looked
    up at run time. ``read``/``write`` give the minimal bytes per element of ``size`` (the
    prediction's elements; labels and weights are added per row). ``ce`` marks cross entropies
    (reported against one ``sum(exp(x))`` pass on the CPU).
    """

    name: str
    kind: str  # "loss" | "metric" | "optimizer" | "fused"
    size_kinds: tuple[str, ...]
    make_inputs: Callable[[Size, Any], tuple]
    impls: Callable[[], tuple[dict[str, Callable], dict[str, str]]]
    diff_argnums: tuple[int, ...] = (1,)
    ce: bool = False
    dtypes: tuple[str, ...] | None = None  # None: every dtype asked for
    doc: str = ""

    @property
    def modes(self) -> tuple[str, ...]:
        return {"loss": ("fwd", "fwd+bwd"), "fused": ("fwd", "fwd+bwd"), "metric": ("update",),
                "optimizer": ("step",)}[self.kind]


def _mean(fn):
    """The scalar objective of a per-sample loss: its mean over every entry."""
    return lambda *args: jnp.mean(fn(*args))


def _loss_impls(jaxent_fn, optax_fn=None, jnp_fn=None, keras_fn=None):
    """Resolver for a loss op: each argument maps the inputs to per-sample losses."""

    def resolve():
        found, skipped = {"jaxent": _mean(jaxent_fn)}, {}
        if optax_fn is not None:
            found["optax"] = _mean(optax_fn)
        if jnp_fn is not None:
            found["jnp"] = _mean(jnp_fn)
        if keras_fn is not None:
            keras, why = keras_module()
            if keras is None:
                skipped["keras"] = why
            else:
                found["keras"] = _mean(functools.partial(keras_fn, keras))
        return found, skipped

    return resolve


def _class_impls(jaxent_cls, kwargs, optax_fn=None, jnp_fn=None, keras_cls=None):
    """Resolver for a Loss class called with a ``[B]`` sample_weight (reduction ``auto``)."""

    def resolve():
        loss = getattr(jaxent.losses, jaxent_cls)(**kwargs)
        found = {"jaxent": lambda y_true, y_pred, w: loss(y_true, y_pred, sample_weight=w)}
        skipped = {}
        weighted = lambda fn: lambda y_true, y_pred, w: jnp.mean(fn(y_true, y_pred) * w)  # noqa: E731
        if optax_fn is not None:
            found["optax"] = weighted(optax_fn)
        if jnp_fn is not None:
            found["jnp"] = weighted(jnp_fn)
        keras, why = keras_module()
        if keras is None:
            skipped["keras"] = why
        else:
            keras_loss = getattr(keras.losses, keras_cls or jaxent_cls)(**kwargs)
            found["keras"] = lambda y_true, y_pred, w: keras_loss(y_true, y_pred, sample_weight=w)
        return found, skipped

    return resolve


# optax per-sample wrappers with the (y_true, y_pred) argument order.
def optax_sparse_ce(labels, x):
    return optax.losses.softmax_cross_entropy_with_integer_labels(x, labels)


def optax_softmax_ce(labels, x):
    return optax.losses.softmax_cross_entropy(x, labels)


def optax_sigmoid_ce(labels, x):
    return optax.losses.sigmoid_binary_cross_entropy(x, labels)


def optax_mse(y_true, y_pred):
    return jnp.mean(optax.losses.squared_error(y_pred, y_true), axis=-1)


def _loss_ops() -> list[Op]:
    rows = ("clf", "lm")
    sparse_logits = lambda s, d: (int_labels(s.shape, s.shape[-1]), logits(s.shape, d))  # noqa: E731
    dense_logits = lambda s, d: (one_hot(s.shape, d), logits(s.shape, d))  # noqa: E731
    sparse_probs = lambda s, d: (int_labels(s.shape, s.shape[-1]), probabilities(s.shape, d))  # noqa: E731
    dense_probs = lambda s, d: (one_hot(s.shape, d), probabilities(s.shape, d))  # noqa: E731
    bits_logits = lambda s, d: (bits(s.shape, d), logits(s.shape, d))  # noqa: E731
    bits_probs = lambda s, d: (bits(s.shape, d), sigmoid_probabilities(s.shape, d))  # noqa: E731
    regression = lambda s, d: (targets(s.shape, d), logits(s.shape, d))  # noqa: E731
    with_weight = lambda make: lambda s, d: (*make(s, d), weights(s.shape, d))  # noqa: E731
    L = jaxent.losses
    return [
        Op("sparse_softmax_ce", "loss", rows, sparse_logits, ce=True,
           doc="nn.sparse_softmax_cross_entropy_with_logits(labels, logits)",
           impls=_loss_impls(jaxent.nn.sparse_softmax_cross_entropy_with_logits, optax_sparse_ce,
                             jnp_sparse_softmax_ce,
                             lambda k, y, x: k.losses.sparse_categorical_crossentropy(y, x, from_logits=True))),
        Op("softmax_ce", "loss", rows, dense_logits, ce=True,
           doc="nn.softmax_cross_entropy_with_logits(one_hot, logits)",
           impls=_loss_impls(jaxent.nn.softmax_cross_entropy_with_logits, optax_softmax_ce, jnp_softmax_ce,
                             lambda k, y, x: k.losses.categorical_crossentropy(y, x, from_logits=True))),
        Op("categorical_ce", "loss", rows, dense_probs, ce=True,
           doc="losses.categorical_crossentropy(one_hot, probabilities)",
           impls=_loss_impls(L.categorical_crossentropy, None, jnp_categorical,
                             lambda k, y, p: k.losses.categorical_crossentropy(y, p))),
        Op("sparse_categorical_ce", "loss", rows, sparse_probs, ce=True,
           doc="losses.sparse_categorical_crossentropy(labels, probabilities)",
           impls=_loss_impls(L.sparse_categorical_crossentropy, None, jnp_sparse_categorical,
                             lambda k, y, p: k.losses.sparse_categorical_crossentropy(y, p))),
        Op("sigmoid_ce", "loss", ("clf",), bits_logits, ce=True,
           doc="nn.sigmoid_cross_entropy_with_logits(bits, logits)",
           impls=_loss_impls(jaxent.nn.sigmoid_cross_entropy_with_logits, optax_sigmoid_ce, jnp_sigmoid_ce,
                             lambda k, y, x: k.losses.binary_crossentropy(y, x, from_logits=True))),
        Op("binary_ce", "loss", ("clf",), bits_probs, ce=True,
           doc="losses.binary_crossentropy(bits, probabilities)",
           impls=_loss_impls(L.binary_crossentropy, None, jnp_bce,
                             lambda k, y, p: k.losses.binary_crossentropy(y, p))),
        Op("mse", "loss", ("clf",), regression, doc="losses.mean_squared_error",
           impls=_loss_impls(L.mean_squared_error, optax_mse, jnp_mse,
                             lambda k, y, p: k.losses.mean_squared_error(y, p))),
        Op("mae", "loss", ("clf",), regression, doc="losses.mean_absolute_error (optax has none)",
           impls=_loss_impls(L.mean_absolute_error, None, jnp_mae,
                             lambda k, y, p: k.losses.mean_absolute_error(y, p))),
        # Loss classes with a [B] sample_weight; the cross entropies take logits, as in training.
        Op("CategoricalCrossentropy(sw)", "loss", ("clf",), with_weight(dense_logits), ce=True,
           doc="losses.CategoricalCrossentropy(from_logits=True)(..., sample_weight=[B])",
           impls=_class_impls("CategoricalCrossentropy", {"from_logits": True}, optax_softmax_ce, jnp_softmax_ce)),
        Op("SparseCategoricalCrossentropy(sw)", "loss", rows, with_weight(sparse_logits), ce=True,
           doc="losses.SparseCategoricalCrossentropy(from_logits=True)(..., sample_weight=[B])",
           impls=_class_impls("SparseCategoricalCrossentropy", {"from_logits": True}, optax_sparse_ce,
                              jnp_sparse_softmax_ce)),
        Op("BinaryCrossentropy(sw)", "loss", ("clf",), with_weight(bits_logits), ce=True,
           doc="losses.BinaryCrossentropy(from_logits=True)(..., sample_weight=[B])",
           impls=_class_impls("BinaryCrossentropy", {"from_logits": True},
                              lambda y, x: jnp.mean(optax_sigmoid_ce(y, x), axis=-1),
                              lambda y, x: jnp.mean(jnp_sigmoid_ce(y, x), axis=-1))),
        Op("MeanSquaredError(sw)", "loss", ("clf",), with_weight(regression),
           doc="losses.MeanSquaredError()(..., sample_weight=[B])",
           impls=_class_impls("MeanSquaredError", {}, optax_mse, jnp_mse)),
        Op("MeanAbsoluteError(sw)", "loss", ("clf",), with_weight(regression),
           doc="losses.MeanAbsoluteError()(..., sample_weight=[B])",
           impls=_class_impls("MeanAbsoluteError", {}, None, jnp_mae)),
    ]


# --------------------------------------------------------------------------------------------
# Metrics: one unweighted update of each metric on a (rows, classes) batch.

# (class name, input maker(size, dtype) -> inputs after the state)
METRICS: list[tuple[str, Callable]] = [
    ("Mean", lambda s, d: (targets(s.shape, d),)),
    ("Accuracy", lambda s, d: (bits(s.shape, d), jnp.round(sigmoid_probabilities(s.shape, d)))),
    ("BinaryAccuracy", lambda s, d: (bits(s.shape, d), sigmoid_probabilities(s.shape, d))),
    ("CategoricalCrossentropy", lambda s, d: (one_hot(s.shape, d), probabilities(s.shape, d))),
    ("SparseCategoricalCrossentropy", lambda s, d: (int_labels(s.shape, s.shape[-1]), probabilities(s.shape, d))),
    ("BinaryCrossentropy", lambda s, d: (bits(s.shape, d), sigmoid_probabilities(s.shape, d))),
    ("MeanSquaredError", lambda s, d: (targets(s.shape, d), logits(s.shape, d))),
    ("MeanAbsoluteError", lambda s, d: (targets(s.shape, d), logits(s.shape, d))),
]

# Per-sample values of each metric for the jnp baseline (plain float32 sums, no compensation).
_JNP_METRIC_VALUES = {
    "Mean": lambda v: _up(v),
    "Accuracy": lambda t, p: (t == p).astype(F32),
    "BinaryAccuracy": lambda t, p: jnp.mean((t == (p > 0.5).astype(t.dtype)).astype(F32), axis=-1),
    "CategoricalCrossentropy": jnp_categorical,
    "SparseCategoricalCrossentropy": jnp_sparse_categorical,
    "BinaryCrossentropy": jnp_bce,
    "MeanSquaredError": jnp_mse,
    "MeanAbsoluteError": jnp_mae,
}


def _metric_impls(name: str):
    def resolve():
        found, skipped = {}, {}
        metrics, why = jaxent_metrics()
        if metrics is None or not hasattr(metrics, name):
            skipped["jaxent"] = why or f"jaxent.metrics has no {name} yet"
        else:
            metric = getattr(metrics, name)()
            found["jaxent"] = (metric.init, metric.update)

        values = _JNP_METRIC_VALUES[name]

        def jnp_update(state, *inputs):
            v = values(*inputs)
            return state[0] + jnp.sum(v), state[1] + jnp.asarray(v.size, F32)

        found["jnp"] = (lambda: (jnp.zeros((), F32), jnp.zeros((), F32)), jnp_update)

        keras, why = keras_module()
        if keras is None:
            skipped["keras"] = why
        else:
            metric = getattr(keras.metrics, name)()
            found["keras"] = (lambda: [v.value for v in metric.variables],
                              lambda state, *inputs: metric.stateless_update_state(state, *inputs))
        return found, skipped

    return resolve


def _metric_ops() -> list[Op]:
    return [
        Op(f"metric.{name}", "metric", ("clf",), make, impls=_metric_impls(name),
           ce=name.endswith("Crossentropy"), doc=f"metrics.{name}().update(state, ...)")
        for name, make in METRICS
    ]


# --------------------------------------------------------------------------------------------
# RMSprop: one step on a transformer-shaped params pytree.

LEARNING_RATE, RHO = 1e-3, 0.9
RMSPROP_CONFIGS: dict[str, dict[str, Any]] = {
    "plain": {},
    "momentum": {"momentum": 0.9},
    "centered": {"centered": True},
    "global_clipnorm": {"global_clipnorm": 1.0},
}


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
    keys = jax.random.split(_key(seed), len(leaves))
    arrays = [(0.02 * jax.random.normal(k, s, F32)).astype(dtype) for k, s in zip(keys, leaves)]
    return jax.tree.unflatten(treedef, arrays)


def param_count(tree) -> int:
    return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(tree))


def _jnp_rmsprop(momentum=0.0, centered=False, global_clipnorm=None):
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


def _optax_rmsprop(momentum=0.0, centered=False, global_clipnorm=None):
    tx = optax.rmsprop(LEARNING_RATE, decay=RHO, eps=EPS, eps_in_sqrt=True, centered=centered,
                       momentum=momentum or None)
    return optax.chain(optax.clip_by_global_norm(global_clipnorm), tx) if global_clipnorm else tx


def _tx_step(tx):
    """``(init(params), step(params, state, grads) -> (params, state))`` for an optax transform."""

    def step(params, state, grads):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    return tx.init, step


def _keras_step(keras, config, params):
    """Keras 3 RMSprop's ``stateless_apply`` on the flattened params (a list of arrays)."""
    leaves = jax.tree.leaves(params)
    variables = [keras.Variable(x) for x in leaves]
    opt = keras.optimizers.RMSprop(learning_rate=LEARNING_RATE, rho=RHO, epsilon=EPS, **config)
    opt.build(variables)
    opt_state = [v.value for v in opt.variables]
    treedef = jax.tree.structure(params)

    def step(params, state, grads):
        new_leaves, state = opt.stateless_apply(state, jax.tree.leaves(grads), jax.tree.leaves(params))
        return jax.tree.unflatten(treedef, new_leaves), state

    return (lambda _params: opt_state), step


def _rmsprop_impls(config: dict[str, Any]):
    """Impl -> ``make(params) -> (init, step)``."""

    def resolve():
        found, skipped = {}, {}
        rmsprop, why = jaxent_rmsprop()
        if rmsprop is None:
            skipped["jaxent"] = why
        else:
            found["jaxent"] = lambda params: _tx_step(rmsprop(learning_rate=LEARNING_RATE, rho=RHO, epsilon=EPS, **config))
        found["optax"] = lambda params: _tx_step(_optax_rmsprop(**config))
        found["jnp"] = lambda params: _tx_step(_jnp_rmsprop(**config))
        keras, why = keras_module()
        if keras is None:
            skipped["keras"] = why
        else:
            found["keras"] = lambda params: _keras_step(keras, config, params)
        return found, skipped

    return resolve


def rmsprop_bytes_per_param(config: dict[str, Any]) -> int:
    """Minimal reads + writes per parameter, in units of one parameter's size.

    params r/w, grads r, rms r/w = 5; momentum and centered each add a slot r/w; a global norm
    needs every gradient before the first update, so one more gradient read.
    """
    return 5 + 2 * bool(config.get("momentum")) + 2 * bool(config.get("centered")) + bool(config.get("global_clipnorm"))


def _optimizer_ops() -> list[Op]:
    return [
        Op(f"rmsprop.{name}", "optimizer", ("params",), lambda s, d: (), impls=_rmsprop_impls(config),
           dtypes=("float32",), doc=f"optimizers.rmsprop({', '.join(f'{k}={v}' for k, v in config.items())}) step")
        for name, config in RMSPROP_CONFIGS.items()
    ]


# --------------------------------------------------------------------------------------------
# Fused linear + sparse softmax CE against the materialised features @ kernel.


def _fused_inputs(size: Size, dtype):
    n, d, v = size.shape
    features = jax.random.normal(_key(9), (n, d), F32).astype(dtype)
    kernel = (jax.random.normal(_key(10), (d, v), F32) / math.sqrt(d)).astype(dtype)
    labels = jax.random.randint(_key(11), (n,), 0, v, jnp.int32)
    return features, kernel, labels


def _fused_impls():
    found, skipped = {}, {}
    fused, why = jaxent_fused_ce()
    if fused is None:
        skipped["jaxent"] = why
    else:
        found["jaxent"] = lambda f, k, y: jnp.mean(fused(f, k, y))
    found["jaxent_materialised"] = lambda f, k, y: jnp.mean(
        jaxent.nn.sparse_softmax_cross_entropy_with_logits(y, f @ k))
    found["optax"] = lambda f, k, y: jnp.mean(optax_sparse_ce(y, f @ k))
    return found, skipped


def _fused_ops() -> list[Op]:
    return [Op("linear_sparse_softmax_ce", "fused", ("fused",), _fused_inputs, impls=_fused_impls,
               diff_argnums=(0, 1), ce=False,
               doc="nn.linear_sparse_softmax_cross_entropy(features, kernel, labels) vs features @ kernel + CE")]


def all_ops() -> list[Op]:
    return _loss_ops() + _metric_ops() + _optimizer_ops() + _fused_ops()


def select_ops(patterns: str | None) -> list[Op]:
    """Ops whose name matches any comma-separated glob (``*ce``, ``metric.*``, ``rmsprop*``)."""
    ops = all_ops()
    if not patterns:
        return ops
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = [op for op in ops if any(fnmatch.fnmatchcase(op.name, p) for p in wanted)]
    if not chosen:
        raise ValueError(f"--ops {patterns!r} matches nothing; ops are: {', '.join(op.name for op in ops)}")
    return chosen


# --------------------------------------------------------------------------------------------
# Minimal bytes and flops per figure.


def min_bytes(op: Op, size: Size, dtype, inputs: Sequence[jax.Array], mode: str, params=None) -> int:
    """The bytes an ideal implementation must move: every input read once, outputs written once.

    Forward reads all inputs (the prediction, labels, weights); forward + backward also writes
    the gradient of each differentiated input. The optimizer step uses
    :func:`rmsprop_bytes_per_param`; a metric update reads its inputs.
    """
    if op.kind == "optimizer":
        itemsize = jnp.dtype(dtype).itemsize
        return rmsprop_bytes_per_param(RMSPROP_CONFIGS[op.name.split(".", 1)[1]]) * param_count(params) * itemsize
    read = sum(int(x.size) * x.dtype.itemsize for x in inputs)
    if mode != "fwd+bwd":
        return read
    write = sum(int(inputs[i].size) * inputs[i].dtype.itemsize for i in op.diff_argnums)
    return read + write


def flops(op: Op, size: Size, mode: str) -> int | None:
    """Matmul flops of the fused CE (2NDV forward, 6NDV with the backward); None elsewhere."""
    if op.kind != "fused":
        return None
    n, d, v = size.shape
    return (2 if mode == "fwd" else 6) * n * d * v
