"""Keras 2's RMSprop as an optax ``GradientTransformation``.

:func:`rmsprop` (alias :data:`RMSprop`) follows ``tf.keras.optimizers.RMSprop`` (the tf-keras
>= 2.11 optimizer) step for step, gradient clipping included. For every parameter ``θ`` with
gradient ``g``, learning rate ``lr`` and all slots zero-initialised::

    ν ← ρ·ν + (1 - ρ)·g²
    centered:      μ ← ρ·μ + (1 - ρ)·g,   d = ν - μ² + ε
    not centered:                         d = ν + ε
    Δ = lr · g · rsqrt(d)                 # ε inside the square root, no bias correction
    momentum > 0:  m ← momentum·m + Δ,    update = -m
    otherwise:                            update = -Δ

and ``optax.apply_updates`` adds the update to ``θ``. It differs from ``optax.rmsprop`` in its
defaults (``epsilon=1e-7``, always inside the root; optax's ``eps=1e-8``, whose
``eps_in_sqrt`` can move it outside), in its Keras-only options (``clipnorm``,
``global_clipnorm``, ``clipvalue``; a negative ``momentum`` meaning "off") and in Keras's
rounding (a float learning rate is held in float32, ``lr·g`` is formed before the ``rsqrt``).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = ["RMSprop", "RMSpropState", "rmsprop"]

Scalar = float | int | jax.Array
"""A hyperparameter: a Python or NumPy number, or a scalar JAX array (possibly traced)."""


class RMSpropState(NamedTuple):
    """State of :func:`rmsprop`: a step counter and Keras's slots, one per parameter.

    Every slot is zero-initialised and has its parameter's dtype and shape (bfloat16
    parameters get bfloat16 slots, as in Keras).
    """

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    nu: optax.Updates
    """Moving average of squared gradients (Keras's ``velocity``)."""
    mu: optax.Updates | None
    """Moving average of gradients (Keras's ``average_gradient``); ``None`` unless centered."""
    momentum: optax.Updates | None
    """Accumulated step (Keras's ``momentum``); ``None`` when momentum is off."""


def rmsprop(
    learning_rate: Scalar | optax.Schedule = 0.001,
    rho: Scalar = 0.9,
    momentum: Scalar = 0.0,
    epsilon: Scalar = 1e-7,
    centered: bool = False,
    *,
    clipvalue: Scalar | None = None,
    clipnorm: Scalar | None = None,
    global_clipnorm: Scalar | None = None,
) -> optax.GradientTransformation:
    r"""RMSprop with Keras 2's update rule, defaults and gradient clipping.

    The optax equivalent of ``tf.keras.optimizers.RMSprop(learning_rate, rho, momentum,
    epsilon, centered, clipnorm=..., clipvalue=..., global_clipnorm=...)`` (tf-keras >= 2.11):
    applying its updates with ``optax.apply_updates`` reproduces Keras's parameter trajectory
    to a few float32 ulp. Per parameter, with every slot starting at zero::

        ν ← ρ·ν + (1 - ρ)·g²
        centered:      μ ← ρ·μ + (1 - ρ)·g,   d = ν - μ² + ε
        not centered:                         d = ν + ε
        Δ = lr · g · rsqrt(d)
        momentum > 0:  m ← momentum·m + Δ,    update = -m
        otherwise:                            update = -Δ

    ``ε`` sits inside the square root and there is no bias correction. Each leaf is updated
    in the parameter's dtype (gradients are cast to it; 16-bit parameters are computed in 16
    bits with 16-bit slots, as Keras does). The update is elementwise per leaf, so under
    ``jax.jit`` XLA fuses it (with ``optax.apply_updates``) into a pass or two over memory.

    Gradient clipping happens first, with Keras's rules; the first enabled rule wins and the
    others are ignored (as in Keras 2):

    1. ``clipnorm``: each gradient becomes ``g·c / max(‖g‖₂, c)``;
    2. ``global_clipnorm``: every gradient is scaled by ``c·min(1/n, 1/c)``, ``n`` the L2
       norm of all gradients together (a non-finite ``n`` makes every gradient NaN);
    3. ``clipvalue``: each element is clipped to ``[-v, v]``.

    ``None`` or a value ``<= 0`` disables a rule. Norms of 16-bit gradients are accumulated in
    float32 (Keras accumulates them in 16 bits).

    Differences from ``optax.rmsprop``: ``epsilon`` defaults to ``1e-7`` (optax: ``1e-8``) and
    is always inside the root (optax's ``eps_in_sqrt=False`` puts it outside, as Keras's
    legacy optimizer does without momentum); the velocity starts at 0 (as optax's default
    ``initial_scale=0``, unlike TF1's ``tf.train.RMSPropOptimizer``, which starts it at 1);
    the Keras clipping options above; a float learning rate is held in float32 and cast to
    each parameter's dtype (float64 parameters see ``f64(f32(lr))``, like Keras); and
    ``momentum <= 0`` means no momentum.

    Args:
      learning_rate: a float, or an optax schedule (a callable of the int32 step count,
        evaluated at the count *before* this update, so the first update uses
        ``schedule(0)``, as Keras evaluates a ``LearningRateSchedule``). A float is rounded to
        float32; a schedule's value is used as returned, cast to each parameter's dtype.
      rho: decay of the moving averages ``ν`` and ``μ``.
      momentum: momentum coefficient; ``<= 0`` turns momentum off and no momentum slot is
        kept. A JAX array (as ``optax.inject_hyperparams`` passes) always gets a slot, so the
        value may change at run time; an array value ``<= 0`` then also means "off".
      epsilon: added to the denominator inside the square root.
      centered: if True, divide by the estimated variance ``ν - μ²`` instead of ``ν``.
      clipvalue: clip every gradient element to ``[-clipvalue, clipvalue]``.
      clipnorm: clip each gradient to an L2 norm of at most ``clipnorm``.
      global_clipnorm: clip all gradients together to a global L2 norm of at most
        ``global_clipnorm``. At most one of ``clipnorm`` and ``global_clipnorm`` may be given.

    Returns:
      An ``optax.GradientTransformation`` whose state is an :class:`RMSpropState`.

    Raises:
      ValueError: if both ``clipnorm`` and ``global_clipnorm`` are given (Keras's message), or
        a hyperparameter is not a scalar or not finite.
      TypeError: if a hyperparameter is not a real number (e.g. a string or a bool), or
        ``centered`` is not a bool. Keras accepts some of these (``learning_rate=True``,
        ``centered="yes"``, a NaN ``momentum``); jaxent rejects them at construction.

    Under ``optax.inject_hyperparams`` every numeric argument arrives as an array: the
    learning rate (and the others) may then change between steps, and ``1 - rho`` is rounded
    in the array's dtype rather than from a Python float, which can move the trajectory by an
    ulp or two from Keras's.

    Example (Keras's documented example: one step on ``loss = θ²/2``)::

      >>> import jax, jax.numpy as jnp, optax
      >>> from jaxent.optimizers import rmsprop
      >>> opt = rmsprop(learning_rate=0.1)
      >>> params = {"w": jnp.array(10.0)}
      >>> state = opt.init(params)
      >>> grads = jax.grad(lambda p: p["w"] ** 2 / 2)(params)
      >>> updates, state = opt.update(grads, state)
      >>> print(optax.apply_updates(params, updates)["w"])
      9.683772

    A training loop::

      >>> def loss_fn(params, x, y):
      ...     return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)
      >>> opt = rmsprop(learning_rate=0.01, momentum=0.9, global_clipnorm=1.0)
      >>> @jax.jit
      ... def train_step(params, state, x, y):
      ...     loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
      ...     updates, state = opt.update(grads, state)
      ...     return optax.apply_updates(params, updates), state, loss
      >>> x = jnp.linspace(-1.0, 1.0, 32).reshape(16, 2)
      >>> y = x @ jnp.array([2.0, -1.0]) + 0.5
      >>> params = {"w": jnp.zeros(2), "b": jnp.zeros(())}
      >>> state = opt.init(params)
      >>> for _ in range(200):
      ...     params, state, loss = train_step(params, state, x, y)
      >>> bool(loss < 1e-3)
      True
    """
    _check_hyperparameters(
        learning_rate=learning_rate,
        rho=rho,
        momentum=momentum,
        epsilon=epsilon,
        centered=centered,
        clipvalue=clipvalue,
        clipnorm=clipnorm,
        global_clipnorm=global_clipnorm,
    )
    use_momentum = isinstance(momentum, jax.Array) or momentum > 0
    clip = functools.partial(
        _clip_gradients,
        rules=((clipnorm, _clip_by_norm), (global_clipnorm, _clip_by_global_norm),
               (clipvalue, _clip_by_value)),
    )

    def init_fn(params: optax.Params) -> RMSpropState:
        def zeros() -> optax.Updates:
            return jax.tree.map(jnp.zeros_like, params)

        return RMSpropState(
            count=jnp.zeros([], jnp.int32),
            nu=zeros(),
            mu=zeros() if centered else None,
            momentum=zeros() if use_momentum else None,
        )

    def update_fn(
        updates: optax.Updates, state: RMSpropState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, RMSpropState]:
        del params
        grads = jax.tree.map(lambda g, nu: jnp.asarray(g).astype(nu.dtype), updates, state.nu)
        grads = clip(grads)
        step = functools.partial(
            _leaf_step,
            lr=_learning_rate_at(learning_rate, state.count),
            rho=rho,
            one_minus_rho=1 - rho,
            epsilon=epsilon,
            momentum=momentum,
        )
        leaves, treedef = jax.tree.flatten(grads)

        def slot_leaves(tree: optax.Updates | None) -> list[jax.Array | None]:
            return [None] * len(leaves) if tree is None else treedef.flatten_up_to(tree)

        slots = (slot_leaves(state.nu), slot_leaves(state.mu), slot_leaves(state.momentum))
        stepped = [step(*leaf) for leaf in zip(leaves, *slots)]
        new_updates, nu, mu, m = (
            treedef.unflatten([out[i] for out in stepped]) for i in range(4)
        )
        new_state = RMSpropState(
            count=optax.safe_int32_increment(state.count),
            nu=nu,
            mu=mu if centered else None,
            momentum=m if use_momentum else None,
        )
        return new_updates, new_state

    return optax.GradientTransformation(init_fn, update_fn)


RMSprop = rmsprop
"""Keras's name for :func:`rmsprop`."""


# --- the update --------------------------------------------------------------------------


def _learning_rate_at(learning_rate: Scalar | optax.Schedule, count: jax.Array) -> jax.Array:
    """The learning rate of the update at ``count``: ``schedule(count)``, or float32 ``lr``."""
    if callable(learning_rate):
        return jnp.asarray(learning_rate(count))
    return jnp.asarray(learning_rate, jnp.float32)


def _leaf_step(
    g: jax.Array,
    nu: jax.Array,
    mu: jax.Array | None,
    m: jax.Array | None,
    *,
    lr: jax.Array,
    rho: Scalar,
    one_minus_rho: Scalar,
    epsilon: Scalar,
    momentum: Scalar,
) -> tuple[jax.Array, jax.Array, jax.Array | None, jax.Array | None]:
    """One parameter's ``(update, ν, μ, m)``, in Keras's order of operations and its dtype."""
    dtype = nu.dtype

    def cast(x: Scalar) -> jax.Array:
        return jnp.asarray(x, dtype)

    nu = cast(rho) * nu + cast(one_minus_rho) * jnp.square(g)
    if mu is None:
        denominator = nu + cast(epsilon)
    else:
        mu = cast(rho) * mu + cast(one_minus_rho) * g
        denominator = nu - jnp.square(mu) + cast(epsilon)
    delta = cast(lr) * g * jax.lax.rsqrt(denominator)
    if m is None:
        return -delta, nu, mu, m
    m = cast(momentum) * m + delta
    if isinstance(momentum, jax.Array):  # a run-time value: <= 0 means "off", as in Keras
        m = jnp.where(momentum > 0, m, delta)
    return -m, nu, mu, m


# --- gradient clipping (Keras's `_clip_gradients`) -----------------------------------------

_ClipRule = Callable[[optax.Updates, Scalar], optax.Updates]


def _clip_gradients(
    grads: optax.Updates, rules: tuple[tuple[Scalar | None, _ClipRule], ...]
) -> optax.Updates:
    """Apply the first enabled ``(threshold, rule)``; a threshold that is None or <= 0 is off.

    A traced threshold (``optax.inject_hyperparams``) is tested at run time with ``where``.
    """
    if not rules:
        return grads
    (threshold, rule), rest = rules[0], rules[1:]
    if threshold is None:
        return _clip_gradients(grads, rest)
    if not isinstance(threshold, jax.core.Tracer):
        return rule(grads, threshold) if threshold > 0 else _clip_gradients(grads, rest)
    return jax.tree.map(
        functools.partial(jnp.where, threshold > 0),
        rule(grads, threshold),
        _clip_gradients(grads, rest),
    )


def _accumulation_dtype(*dtypes: jnp.dtype) -> jnp.dtype:
    """The dtype norms are accumulated in: the widest of ``dtypes``, at least float32."""
    return functools.reduce(jnp.promote_types, dtypes, jnp.dtype(jnp.float32))


def _clip_by_norm(grads: optax.Updates, clipnorm: Scalar) -> optax.Updates:
    """``g·c / max(‖g‖₂, c)`` for each gradient ``g`` (``tf.clip_by_norm``)."""

    def clip(g: jax.Array) -> jax.Array:
        acc = _accumulation_dtype(g.dtype)
        g_acc, c = g.astype(acc), jnp.asarray(clipnorm, acc)
        norm = jnp.sqrt(jnp.sum(jnp.square(g_acc)))
        return (g_acc * c / jnp.maximum(norm, c)).astype(g.dtype)

    return jax.tree.map(clip, grads)


def _clip_by_global_norm(grads: optax.Updates, clipnorm: Scalar) -> optax.Updates:
    """Every gradient times ``c·min(1/n, 1/c)``, ``n`` the global norm (``tf.clip_by_global_norm``).

    A non-finite ``n`` makes every gradient NaN, as in TensorFlow.
    """
    leaves = jax.tree.leaves(grads)
    acc = _accumulation_dtype(*(g.dtype for g in leaves))
    norm = jnp.sqrt(sum((jnp.sum(jnp.square(g.astype(acc))) for g in leaves), jnp.zeros([], acc)))
    c = jnp.asarray(clipnorm, acc)
    scale = c * jnp.minimum(1 / norm, 1 / c) + (norm - norm)
    return jax.tree.map(lambda g: g * scale.astype(g.dtype), grads)


def _clip_by_value(grads: optax.Updates, clipvalue: Scalar) -> optax.Updates:
    """Every element clipped to ``[-v, v]`` (``tf.clip_by_value``)."""

    def clip(g: jax.Array) -> jax.Array:
        v = jnp.asarray(clipvalue, g.dtype)
        return jnp.minimum(jnp.maximum(g, -v), v)

    return jax.tree.map(clip, grads)


# --- argument checks (at construction, i.e. at trace time) --------------------------------


def _check_hyperparameters(
    *,
    learning_rate: Any,
    rho: Any,
    momentum: Any,
    epsilon: Any,
    centered: Any,
    clipvalue: Any,
    clipnorm: Any,
    global_clipnorm: Any,
) -> None:
    """Raise ``TypeError``/``ValueError``, naming the argument, for values that mean nothing."""
    if not callable(learning_rate):
        _check_scalar("learning_rate", learning_rate, "a float or an optax schedule")
    for name, value in (("rho", rho), ("momentum", momentum), ("epsilon", epsilon)):
        _check_scalar(name, value, "a float")
    clips = (("clipvalue", clipvalue), ("clipnorm", clipnorm), ("global_clipnorm", global_clipnorm))
    for name, value in clips:
        if value is not None:
            _check_scalar(name, value, "a float or None")
    if not isinstance(centered, (bool, np.bool_)):
        raise TypeError(
            f"`centered` must be a bool. Received: centered={centered!r} "
            f"(of type {type(centered).__name__})."
        )
    if clipnorm is not None and global_clipnorm is not None:
        raise ValueError(
            "At most one of `clipnorm` and `global_clipnorm` can be set. "
            f"Received: clipnorm={clipnorm}, global_clipnorm={global_clipnorm}."
        )


def _check_scalar(name: str, value: Any, expected: str) -> None:
    """Check that ``value`` is a real, scalar and (when concrete) finite number."""
    is_number = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    is_array = isinstance(value, (jax.Array, np.ndarray)) and (
        jnp.issubdtype(value.dtype, jnp.floating) or jnp.issubdtype(value.dtype, jnp.integer)
    )
    if not (is_number or is_array):
        raise TypeError(
            f"`{name}` must be {expected}. Received: {name}={value!r} "
            f"(of type {type(value).__name__})."
        )
    if np.ndim(value) != 0:
        raise ValueError(
            f"`{name}` must be a scalar. Received: {name} of shape {np.shape(value)}."
        )
    if not isinstance(value, jax.core.Tracer) and not np.isfinite(float(value)):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value}.")
