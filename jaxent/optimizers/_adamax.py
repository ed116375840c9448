"""Keras 2's Adamax: its update rule as an optax transformation, and the Keras-named optimizer."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxent import _validation
from jaxent.optimizers._base import KerasOptimizer, number
from jaxent.optimizers._transforms import LearningRate, Rounded, Scalar, map_slots

__all__ = ["Adamax", "AdamaxState", "ScaleByKerasAdamaxState", "adamax", "scale_by_keras_adamax"]


class ScaleByKerasAdamaxState(NamedTuple):
    """State of :func:`scale_by_keras_adamax`: Keras's slots, zero-initialised."""

    mu: optax.Updates
    """First moment (Keras's ``_m``)."""
    nu: optax.Updates
    """Exponentially weighted infinity norm (Keras's ``_u``)."""


def scale_by_keras_adamax(
    beta_1: Scalar = 0.9, beta_2: Scalar = 0.999, epsilon: Scalar = 1e-7
) -> optax.GradientTransformationExtraArgs:
    """Adamax's update rule, Keras's order of operations: the signed step.

    Per parameter, slots starting at zero, ``t = count + 1``, ``lr`` the ``learning_rate=``
    extra argument::

        m ← m + (g - m)·(1 - β₁)
        u ← max(β₂·u, |g|)
        update = -(lr·m) / ((1 - β₁ᵗ)·(u + ε))

    Each op rounded to the parameter's dtype, as TensorFlow's kernels round them.

    Args:
      beta_1: decay of the first moment.
      beta_2: decay of the infinity norm.
      epsilon: added to ``u``.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`ScaleByKerasAdamaxState`)
      whose ``update`` needs the ``learning_rate=`` and ``count=`` extra arguments.

    Example:
      >>> import jax.numpy as jnp
      >>> rule = scale_by_keras_adamax(epsilon=0.0)
      >>> u, _ = rule.update(jnp.array(2.0), rule.init(jnp.array(0.0)), learning_rate=jnp.float32(0.1),
      ...                    count=jnp.array(0))
      >>> print(u)  # lr·(0.1·g) / ((1 - f32(0.9))·|g|) on the first step: -lr to rounding
      -0.09999999

    Keras: ``Adamax.update_step`` (tf-keras 2.21, dense gradients).
    """

    def init_fn(params: optax.Params) -> ScaleByKerasAdamaxState:
        return ScaleByKerasAdamaxState(jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates: optax.Updates, state: ScaleByKerasAdamaxState, params: optax.Params | None = None, *,
                  learning_rate: jax.Array | None = None, count: jax.Array | None = None,
                  **extra_args: Any) -> tuple[optax.Updates, ScaleByKerasAdamaxState]:
        del params, extra_args
        if learning_rate is None or count is None:
            raise ValueError("scale_by_keras_adamax needs the learning rate and count: call it through keras_chain.")

        def leaf(m: jax.Array, u: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
            r = Rounded(m.dtype)
            g, m, u = r.const(g), r.const(m), r.const(u)
            beta_1_power = r.pow(r.cast(beta_1), r.const(count + 1))
            m = r.add(m, r.mul(r.sub(g, m), r.const(1 - beta_1)))
            u = r.maximum(r.mul(r.const(beta_2), u), jnp.abs(g))
            denominator = r.mul(r.sub(r.const(1.0), beta_1_power), r.add(u, r.const(epsilon)))
            update = r.div(r.mul(r.const(learning_rate), m), denominator)
            return r.out(-update), r.out(m), r.out(u)

        new_updates, mu, nu = map_slots(leaf, 3, state.mu, state.nu, updates)
        return new_updates, ScaleByKerasAdamaxState(mu, nu)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class AdamaxState(NamedTuple):
    """State of :class:`Adamax`: Keras's ``iterations``, slots and EMA averages."""

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    mu: optax.Updates
    """First moment (Keras's ``_m``)."""
    nu: optax.Updates
    """Exponentially weighted infinity norm (Keras's ``_u``)."""
    ema: optax.Params | None = None
    """The moving average of each parameter (``use_ema``), else ``None``."""


class Adamax(KerasOptimizer):
    r"""``tf.keras.optimizers.Adamax`` (tf-keras >= 2.11) as a frozen optax-style optimizer.

    Per parameter ``θ`` with gradient ``g``, ``t`` the update's number (from 1), ``lr`` the
    learning rate (``schedule(t - 1)``, or the float rounded to float32)::

        g ← clip(g)                          clipnorm, else global_clipnorm, else clipvalue
        θ ← θ - θ·weight_decay·lr            when weight_decay is set (decoupled)
        m ← m + (g - m)·(1 - β₁);   u ← max(β₂·u, |g|)
        θ ← θ - lr·m / ((1 - β₁ᵗ)·(u + ε))
        use_ema: as in :class:`~jaxent.optimizers.RMSprop`

    The same object model as :class:`~jaxent.optimizers.RMSprop`; its state is an
    :class:`AdamaxState`.

    Args:
      learning_rate: a float ``>= 0``, or a schedule.
      beta_1, beta_2: in ``[0, 1)``.
      epsilon: ``>= 0``, added to ``u``.
      weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: as in
        :class:`~jaxent.optimizers.RMSprop` (``ema_overwrite_frequency`` defaults to None).

    Raises:
      TypeError, ValueError: as :class:`~jaxent.optimizers.RMSprop`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = Adamax(learning_rate=0.1, epsilon=0.0)
      >>> params = jnp.array(1.0)
      >>> updates, state = opt.update(jnp.array(3.0), opt.init(params), params)
      >>> print(optax.apply_updates(params, updates))  # the first step moves by lr (to rounding)
      0.90000004

    Keras: ``tf.keras.optimizers.Adamax`` (tf-keras 2.21).

    Differs from Keras: as :class:`~jaxent.optimizers.RMSprop` (out-of-range values raise,
    ``lr=`` raises, ``jit_compile`` is kept as given). Compared with ``optax.adamax(eps=1e-7)``:
    Keras adds ``ε`` to ``u`` before the bias correction of ``m`` multiplies it (optax adds it
    after dividing: the same up to rounding), with Keras's clipping, weight decay, EMA and
    float32 learning rate.
    """

    State = AdamaxState
    RuleState = ScaleByKerasAdamaxState
    CONFIG_KEYS = ("beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: Scalar = 0.9,
        beta_2: Scalar = 0.999,
        epsilon: Scalar = 1e-7,
        weight_decay: Scalar | None = None,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        jit_compile: bool = True,
        name: str = "Adamax",
        **kwargs: Any,
    ) -> None:
        self._keras_init(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
            kwargs=kwargs,
        )
        check = _validation.check_hyperparameter
        self.beta_1 = check("beta_1", beta_1, low=0.0, high=1.0, high_open=True, arrays=True)
        self.beta_2 = check("beta_2", beta_2, low=0.0, high=1.0, high_open=True, arrays=True)
        self.epsilon = check("epsilon", epsilon, low=0.0, arrays=True)

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_adamax(number(self.beta_1), number(self.beta_2), number(self.epsilon))


def adamax(
    learning_rate: LearningRate = 0.001,
    beta_1: Scalar = 0.9,
    beta_2: Scalar = 0.999,
    epsilon: Scalar = 1e-7,
    *,
    weight_decay: Scalar | None = None,
    clipnorm: Scalar | None = None,
    clipvalue: Scalar | None = None,
    global_clipnorm: Scalar | None = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: int | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Adamax with Keras 2's update rule, under optax's name: ``Adamax(...).as_optax()``.

    Formula: ``θ ← θ - lr·m / ((1 - β₁ᵗ)·(u + ε))``, ``u ← max(β₂·u, |g|)``.

    Args:
      learning_rate, beta_1, beta_2, epsilon, weight_decay, clipnorm, clipvalue,
        global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency: as in :class:`Adamax`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = adamax(0.1, epsilon=0.0)
      >>> params = jnp.array(1.0)
      >>> updates, _ = opt.update(jnp.array(-2.0), opt.init(params))
      >>> print(optax.apply_updates(params, updates))
      1.1

    Keras: ``tf.keras.optimizers.Adamax``.

    Differs from Keras: as :class:`Adamax`.
    """
    return Adamax(learning_rate, beta_1, beta_2, epsilon, weight_decay=weight_decay, clipnorm=clipnorm,
                  clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                  ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency).as_optax()
