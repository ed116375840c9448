"""Keras 2's RMSprop: its update rule as an optax transformation, and the Keras-named optimizer.

* :func:`scale_by_keras_rms` — the rule alone (one of the pieces :func:`keras_chain` composes);
* :class:`RMSprop` — ``tf.keras.optimizers.RMSprop``: a frozen :class:`jaxent._objects.Module`
  with Keras's constructor and config and optax's ``init``/``update``;
* :func:`rmsprop` — the same optimizer under optax's lower-case name.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxent import _validation
from jaxent.optimizers._base import KerasOptimizer, number
from jaxent.optimizers._transforms import LearningRate, Rounded, Scalar

__all__ = ["RMSprop", "RMSpropState", "ScaleByKerasRmsState", "rmsprop", "scale_by_keras_rms"]


# --- the rule ------------------------------------------------------------------------------


class ScaleByKerasRmsState(NamedTuple):
    """State of :func:`scale_by_keras_rms`: Keras's slots, zero-initialised, each parameter's dtype."""

    nu: optax.Updates
    """Moving average of squared gradients (Keras's ``velocity``)."""
    mu: optax.Updates | None
    """Moving average of gradients (Keras's ``average_gradient``); ``None`` unless centered."""
    momentum: optax.Updates | None
    """Accumulated step (Keras's ``momentum``); ``None`` when momentum is off."""


def _momentum_is_on(momentum: Scalar) -> bool:
    """A slot is kept for a momentum > 0, or for an array (its value may change at run time)."""
    return isinstance(momentum, (jax.Array, np.ndarray)) or momentum > 0


def scale_by_keras_rms(
    rho: Scalar = 0.9, momentum: Scalar = 0.0, epsilon: Scalar = 1e-7, centered: bool = False
) -> optax.GradientTransformationExtraArgs:
    r"""RMSprop's update rule, Keras's order of operations: the signed step ``-Δ`` or ``-m``.

    Per parameter, all slots starting at zero, ``lr`` the ``learning_rate=`` extra argument::

        ν ← ρ·ν + (1 - ρ)·g²
        centered:      μ ← ρ·μ + (1 - ρ)·g,   d = ν - μ² + ε
        not centered:                         d = ν + ε
        Δ = (lr · g) · (1 / sqrt(d))          # ε inside the root, no bias correction
        momentum > 0:  m ← momentum·m + Δ,    update = -m
        otherwise:                            update = -Δ

    Every op is rounded to the parameter's dtype, as TensorFlow's kernels round them
    (:class:`~jaxent.optimizers._transforms.Rounded`).

    Args:
      rho: decay of ``ν`` and ``μ``.
      momentum: momentum coefficient; ``<= 0`` is off (no slot). An array always has a slot and
        is tested at run time.
      epsilon: added inside the square root.
      centered: divide by the variance estimate ``ν - μ²`` instead of ``ν``.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`ScaleByKerasRmsState`) whose
      ``update`` needs the ``learning_rate=`` extra argument (:func:`keras_chain` passes it).

    Example:
      >>> import jax.numpy as jnp
      >>> rule = scale_by_keras_rms()
      >>> params = jnp.array(10.0)
      >>> print(rule.update(params, rule.init(params), learning_rate=jnp.float32(0.1))[0])
      -0.31622776

    Keras: ``RMSprop.update_step`` (tf-keras 2.21).
    """
    use_momentum = _momentum_is_on(momentum)

    def init_fn(params: optax.Params) -> ScaleByKerasRmsState:
        def zeros() -> optax.Updates:
            return jax.tree.map(jnp.zeros_like, params)

        return ScaleByKerasRmsState(zeros(), zeros() if centered else None, zeros() if use_momentum else None)

    def leaf(g: jax.Array, nu: jax.Array, mu: jax.Array | None, m: jax.Array | None, lr: jax.Array) -> tuple:
        r = Rounded(nu.dtype)
        g, nu = r.const(g), r.const(nu)
        rho_, one_minus_rho = r.const(rho), r.const(1 - rho)
        nu = r.add(r.mul(rho_, nu), r.mul(one_minus_rho, r.mul(g, g)))
        if mu is None:
            denominator = r.add(nu, r.const(epsilon))
        else:
            mu = r.add(r.mul(rho_, r.const(mu)), r.mul(one_minus_rho, g))
            denominator = r.add(r.sub(nu, r.mul(mu, mu)), r.const(epsilon))
        delta = r.mul(r.mul(r.const(lr), g), r.rsqrt(denominator))
        if m is None:
            return r.out(-delta), r.out(nu), None if mu is None else r.out(mu), None
        new_m = r.add(r.mul(r.const(momentum), r.const(m)), delta)
        if isinstance(momentum, (jax.Array, np.ndarray)):  # an array: <= 0 means "off" at run time
            new_m = jnp.where(jnp.asarray(momentum) > 0, new_m, delta)
        return r.out(-new_m), r.out(nu), None if mu is None else r.out(mu), r.out(new_m)

    def update_fn(
        updates: optax.Updates,
        state: ScaleByKerasRmsState,
        params: optax.Params | None = None,
        *,
        learning_rate: jax.Array | None = None,
        **extra_args: Any,
    ) -> tuple[optax.Updates, ScaleByKerasRmsState]:
        del params, extra_args
        if learning_rate is None:
            raise ValueError("scale_by_keras_rms needs the learning rate: call it through keras_chain.")
        leaves, treedef = jax.tree.flatten(state.nu)
        grads = treedef.flatten_up_to(updates)

        def slots(tree: optax.Updates | None) -> list:
            return [None] * len(leaves) if tree is None else treedef.flatten_up_to(tree)

        stepped = [leaf(*args, learning_rate) for args in zip(grads, leaves, slots(state.mu), slots(state.momentum))]
        new_updates, nu, mu, m = (treedef.unflatten([out[i] for out in stepped]) for i in range(4))
        return new_updates, ScaleByKerasRmsState(nu, mu if centered else None, m if use_momentum else None)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


# --- Keras's optimizer ---------------------------------------------------------------------


class RMSpropState(NamedTuple):
    """State of :class:`RMSprop`: Keras's ``iterations`` and slots, one per parameter.

    Every slot is zero-initialised and has its parameter's dtype and shape (bfloat16 parameters
    get bfloat16 slots, as in Keras).
    """

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    nu: optax.Updates
    """Moving average of squared gradients (Keras's ``velocity``)."""
    mu: optax.Updates | None
    """Moving average of gradients (Keras's ``average_gradient``); ``None`` unless centered."""
    momentum: optax.Updates | None
    """Accumulated step (Keras's ``momentum``); ``None`` when momentum is off."""
    ema: optax.Params | None = None
    """The moving average of each parameter (``use_ema``), else ``None``."""


class RMSprop(KerasOptimizer):
    r"""``tf.keras.optimizers.RMSprop`` (tf-keras >= 2.11) as a frozen optax-style optimizer.

    Applying its updates with ``optax.apply_updates`` follows Keras's parameter trajectory step
    for step (to float32 rounding; 16-bit parameters are computed in 16 bits with 16-bit slots,
    as Keras does). Per parameter ``θ`` with gradient ``g``::

        g ← clip(g)                          clipnorm, else global_clipnorm, else clipvalue
        θ ← θ - θ·weight_decay·lr            when weight_decay is set (decoupled)
        ν ← ρ·ν + (1 - ρ)·g²
        centered:      μ ← ρ·μ + (1 - ρ)·g,   d = ν - μ² + ε
        not centered:                         d = ν + ε
        Δ = lr · g / sqrt(d)
        momentum > 0:  m ← momentum·m + Δ,    θ ← θ - m
        otherwise:                            θ ← θ - Δ

    with ``lr = schedule(count)`` at the count *before* the update (``schedule(0)`` first), or
    the float learning rate rounded to float32. It is :func:`keras_chain` of
    :func:`clip_gradients`, :func:`scale_by_keras_rms`, :func:`decay_weights` and, with
    ``use_ema``, :func:`track_ema` (the :class:`~jaxent.optimizers._base.KerasOptimizer`
    plumbing every jaxent optimizer shares); its state is an :class:`RMSpropState`.

    An ``RMSprop`` is configuration: frozen after construction (assigning an attribute raises
    ``FrozenInstanceError``; ``opt.replace(rho=0.8)`` makes a changed copy), equal to another
    with the same arguments, hashable (a static argument of ``jax.jit``), picklable, and a
    pytree whose leaves are its array arguments (those ``optax.inject_hyperparams`` passes).
    ``init``/``update`` contain no ``jit``: compile your training step.

    It has ``init`` and ``update`` and works wherever optax takes a transformation
    (``optax.chain``, ``optax.MultiSteps``, ``optax.inject_hyperparams``,
    ``optax.multi_transform``...), but it is not a tuple: :meth:`as_optax` gives the
    ``optax.GradientTransformationExtraArgs`` for code that checks ``isinstance``.

    Args:
      learning_rate: a float, a :mod:`jaxent.optimizers.schedules` schedule, or any optax
        schedule (a callable of the int32 count; it has no Keras config). Must be finite and
        ``>= 0``.
      rho: decay of the moving averages, in ``[0, 1)``.
      momentum: momentum coefficient, ``< 1``; ``<= 0`` turns momentum off (no slot), as in Keras.
      epsilon: added inside the square root, finite and ``>= 0``.
      centered: divide by the variance estimate ``ν - μ²`` instead of ``ν``.
      weight_decay: decoupled weight decay (None: off), ``>= 0``; ``update`` then needs ``params``.
      clipnorm: clip each gradient to this L2 norm (None or ``<= 0``: off).
      clipvalue: clip every element to ``[-clipvalue, clipvalue]`` (None or ``<= 0``: off).
      global_clipnorm: clip all gradients together to this L2 norm (None or ``<= 0``: off); at
        most one of ``clipnorm`` and ``global_clipnorm`` may be given.
      use_ema: keep a moving average of the parameters, ``avg ← ema_momentum·avg +
        (1 - ema_momentum)·θ`` after every step (starting at ``θ``), and overwrite ``θ`` with it
        after every ``ema_overwrite_frequency``-th step (None: never); ``update`` then needs
        ``params``. :func:`finalize_variable_values` swaps the averages in.
      ema_momentum: in ``[0, 1]`` (checked with ``use_ema``).
      ema_overwrite_frequency: an int ``>= 0`` or None (checked with ``use_ema``; 0 and None:
        never overwrite).
      jit_compile, name: kept for the config; no effect.
      **kwargs: Keras's removed arguments, refused with Keras's messages (``decay``,
        ``gradient_aggregator``, ``gradient_transformers``: ``ValueError``; anything else:
        ``TypeError``); ``is_legacy_optimizer`` (written by ``get_config``) and ``mesh=None``
        are accepted and ignored.

    Every number may be a Python int (``learning_rate=1``, ``rho=0``): it is used as a float and
    ``get_config`` returns it as given, like Keras. A 0-d JAX array (possibly traced) is accepted
    too and checked when concrete.

    Raises:
      TypeError: a hyperparameter is not a real number (a string, a bool, None where a number is
        needed), ``centered`` is not a bool, or an unknown keyword is given.
      ValueError: a hyperparameter is not finite or out of its range (the message names the
        argument and the value), both ``clipnorm`` and ``global_clipnorm`` are given (Keras's
        message), or ``lr=...``, ``decay=...``.

    Example (Keras's documented example: one step on ``loss = θ²/2``):
      >>> import jax, jax.numpy as jnp, optax
      >>> from jaxent.optimizers import RMSprop
      >>> opt = RMSprop(learning_rate=0.1)
      >>> params = {"w": jnp.array(10.0)}
      >>> state = opt.init(params)
      >>> grads = jax.grad(lambda p: p["w"] ** 2 / 2)(params)
      >>> updates, state = opt.update(grads, state, params)
      >>> print(optax.apply_updates(params, updates)["w"])
      9.683772
      >>> opt.get_config()["learning_rate"]  # held in float32, as in Keras
      np.float32(0.1)

    A training loop::

      >>> def loss_fn(params, x, y):
      ...     return jnp.mean((x @ params["w"] + params["b"] - y) ** 2)
      >>> opt = RMSprop(learning_rate=0.01, momentum=0.9, global_clipnorm=1.0)
      >>> @jax.jit
      ... def train_step(params, state, x, y):
      ...     loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
      ...     updates, state = opt.update(grads, state, params)
      ...     return optax.apply_updates(params, updates), state, loss
      >>> x = jnp.linspace(-1.0, 1.0, 32).reshape(16, 2)
      >>> y = x @ jnp.array([2.0, -1.0]) + 0.5
      >>> params = {"w": jnp.zeros(2), "b": jnp.zeros(())}
      >>> state = opt.init(params)
      >>> for _ in range(200):
      ...     params, state, loss = train_step(params, state, x, y)
      >>> bool(loss < 1e-3)
      True

    Keras: ``tf.keras.optimizers.RMSprop`` (tf-keras 2.21; KERAS2_SEMANTICS.md §14).

    Differs from Keras:
      * out-of-range hyperparameters raise (``rho`` outside ``[0, 1)``, ``momentum >= 1``, a
        negative ``epsilon``, learning rate or ``weight_decay``, any NaN or inf, a bool or a
        string); Keras accepts them and trains to NaN or diverges;
      * ``lr=`` raises ``ValueError`` (tf-keras >= 2.11 ignores it with a warning and trains
        with ``learning_rate``);
      * ``get_config()["jit_compile"]`` is what was passed (tf-keras reports False without a GPU);
      * norms of 16-bit gradients are accumulated in float32.
      * Compared with ``optax.rmsprop``: ``epsilon=1e-7`` always inside the root, Keras's
        clipping and weight decay, the float32 learning rate, ``momentum <= 0`` meaning off.
    """

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: Scalar = 0.9,
        momentum: Scalar = 0.0,
        epsilon: Scalar = 1e-7,
        centered: bool = False,
        weight_decay: Scalar | None = None,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = 100,
        jit_compile: bool = True,
        name: str = "RMSprop",
        **kwargs: Any,
    ) -> None:
        self._keras_init(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
            kwargs=kwargs,
        )
        check = _validation.check_hyperparameter
        self.rho = check("rho", rho, low=0.0, high=1.0, high_open=True, arrays=True)
        self.momentum = check("momentum", momentum, high=1.0, high_open=True, arrays=True)
        self.epsilon = check("epsilon", epsilon, low=0.0, arrays=True)
        self.centered = _validation.check_flag("centered", centered)

    State = RMSpropState
    RuleState = ScaleByKerasRmsState
    CONFIG_KEYS = ("rho", "momentum", "epsilon", "centered")

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_rms(number(self.rho), number(self.momentum), number(self.epsilon), self.centered)


def rmsprop(
    learning_rate: LearningRate = 0.001,
    rho: Scalar = 0.9,
    momentum: Scalar = 0.0,
    epsilon: Scalar = 1e-7,
    centered: bool = False,
    *,
    clipvalue: Scalar | None = None,
    clipnorm: Scalar | None = None,
    global_clipnorm: Scalar | None = None,
    weight_decay: Scalar | None = None,
) -> optax.GradientTransformationExtraArgs:
    r"""RMSprop with Keras 2's update rule, defaults and gradient clipping, under optax's name.

    The same optimizer as :class:`RMSprop` (see it for the formula, the checks and the
    differences from Keras), with optax's argument order: the Keras-only options are
    keyword-only and the EMA/config-only arguments are absent.

    Formula::

        ν ← ρ·ν + (1 - ρ)·g²;   Δ = lr · g / sqrt(ν + ε)   (centered: ν - μ² + ε)
        update = -Δ, or -m with m ← momentum·m + Δ

    Args:
      learning_rate, rho, momentum, epsilon, centered, clipvalue, clipnorm, global_clipnorm,
        weight_decay: as in :class:`RMSprop`.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (``RMSprop(...).as_optax()``): the optax
      contract, a tuple of ``init``/``update`` functions. The :class:`RMSprop` object itself is
      the frozen, configurable form (``get_config``, equality by value).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = rmsprop(learning_rate=0.1)
      >>> params = jnp.array(10.0)
      >>> updates, state = opt.update(params, opt.init(params))  # g = θ for θ²/2
      >>> print(optax.apply_updates(params, updates))
      9.683772

    Keras: ``tf.keras.optimizers.RMSprop``.

    Differs from Keras: as :class:`RMSprop`.
    """
    return RMSprop(learning_rate, rho, momentum, epsilon, centered, weight_decay=weight_decay,
                   clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm).as_optax()
