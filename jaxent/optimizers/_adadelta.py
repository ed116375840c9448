"""Keras 2's Adadelta: its update rule as an optax transformation, and the Keras-named optimizer."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxent import _validation
from jaxent.optimizers._base import KerasOptimizer, number
from jaxent.optimizers._transforms import LearningRate, Rounded, Scalar, map_slots

__all__ = ["Adadelta", "AdadeltaState", "ScaleByKerasAdadeltaState", "adadelta", "scale_by_keras_adadelta"]


class ScaleByKerasAdadeltaState(NamedTuple):
    """State of :func:`scale_by_keras_adadelta`: Keras's slots, zero-initialised."""

    accumulated_grad: optax.Updates
    """Moving average of squared gradients (Keras's ``_accumulated_grads``)."""
    accumulated_delta_var: optax.Updates
    """Moving average of squared steps (Keras's ``_accumulated_delta_vars``)."""


def scale_by_keras_adadelta(rho: Scalar = 0.95, epsilon: Scalar = 1e-7) -> optax.GradientTransformationExtraArgs:
    """Adadelta's update rule, Keras's order of operations: the signed step.

    Per parameter, slots starting at zero, ``lr`` the ``learning_rate=`` extra argument::

        G ← ρ·G + (1 - ρ)·g·g
        Δ = -sqrt(D + ε)·g / sqrt(G + ε)
        D ← ρ·D + (1 - ρ)·Δ·Δ
        update = lr·Δ

    Each op rounded to the parameter's dtype, as TensorFlow's kernels round them.

    Args:
      rho: decay of both moving averages.
      epsilon: added inside both square roots.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`ScaleByKerasAdadeltaState`)
      whose ``update`` needs the ``learning_rate=`` extra argument.

    Example:
      >>> import jax.numpy as jnp
      >>> rule = scale_by_keras_adadelta(rho=0.0, epsilon=1.0)
      >>> print(rule.update(jnp.array(0.0), rule.init(jnp.array(0.0)), learning_rate=jnp.float32(0.1))[0])
      -0.0

    Keras: ``Adadelta.update_step`` (tf-keras 2.21, dense gradients).
    """

    def init_fn(params: optax.Params) -> ScaleByKerasAdadeltaState:
        return ScaleByKerasAdadeltaState(jax.tree.map(jnp.zeros_like, params), jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates: optax.Updates, state: ScaleByKerasAdadeltaState, params: optax.Params | None = None, *,
                  learning_rate: jax.Array | None = None,
                  **extra_args: Any) -> tuple[optax.Updates, ScaleByKerasAdadeltaState]:
        del params, extra_args
        if learning_rate is None:
            raise ValueError("scale_by_keras_adadelta needs the learning rate: call it through keras_chain.")

        def leaf(big_g: jax.Array, big_d: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
            r = Rounded(big_g.dtype)
            g, big_g, big_d = r.const(g), r.const(big_g), r.const(big_d)
            rho_, one_minus_rho, eps = r.const(rho), r.const(1 - rho), r.const(epsilon)
            big_g = r.add(r.mul(rho_, big_g), r.mul(r.mul(one_minus_rho, g), g))
            delta = r.div(r.mul(-r.sqrt(r.add(big_d, eps)), g), r.sqrt(r.add(big_g, eps)))
            big_d = r.add(r.mul(rho_, big_d), r.mul(r.mul(one_minus_rho, delta), delta))
            return r.out(r.mul(r.const(learning_rate), delta)), r.out(big_g), r.out(big_d)

        new_updates, big_g, big_d = map_slots(leaf, 3, state.accumulated_grad, state.accumulated_delta_var, updates)
        return new_updates, ScaleByKerasAdadeltaState(big_g, big_d)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class AdadeltaState(NamedTuple):
    """State of :class:`Adadelta`: Keras's ``iterations``, slots and EMA averages."""

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    accumulated_grad: optax.Updates
    """Moving average of squared gradients (Keras's ``_accumulated_grads``)."""
    accumulated_delta_var: optax.Updates
    """Moving average of squared steps (Keras's ``_accumulated_delta_vars``)."""
    ema: optax.Params | None = None
    """The moving average of each parameter (``use_ema``), else ``None``."""


class Adadelta(KerasOptimizer):
    r"""``tf.keras.optimizers.Adadelta`` (tf-keras >= 2.11) as a frozen optax-style optimizer.

    Per parameter ``θ`` with gradient ``g``, ``lr`` the learning rate (``schedule(count)``, or
    the float rounded to float32)::

        g ← clip(g)                          clipnorm, else global_clipnorm, else clipvalue
        θ ← θ - θ·weight_decay·lr            when weight_decay is set (decoupled)
        G ← ρ·G + (1 - ρ)·g²
        Δ = -sqrt(D + ε)·g / sqrt(G + ε)
        D ← ρ·D + (1 - ρ)·Δ²
        θ ← θ + lr·Δ
        use_ema: as in :class:`~jaxent.optimizers.RMSprop`

    The same object model as :class:`~jaxent.optimizers.RMSprop`; its state is an
    :class:`AdadeltaState`.

    Args:
      learning_rate: a float ``>= 0``, or a schedule (Keras's default 0.001; the paper's
        Adadelta has no learning rate, i.e. 1.0).
      rho: in ``[0, 1)``.
      epsilon: ``>= 0``, added inside both square roots.
      weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: as in
        :class:`~jaxent.optimizers.RMSprop` (``ema_overwrite_frequency`` defaults to None).

    Raises:
      TypeError, ValueError: as :class:`~jaxent.optimizers.RMSprop`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = Adadelta(learning_rate=1.0, rho=0.0, epsilon=1.0)
      >>> params = jnp.array(1.0)
      >>> updates, state = opt.update(jnp.array(3.0), opt.init(params), params)
      >>> print(optax.apply_updates(params, updates))  # 1 - sqrt(0 + 1)·3 / sqrt(9 + 1)
      0.051316738

    Keras: ``tf.keras.optimizers.Adadelta`` (tf-keras 2.21).

    Differs from Keras: as :class:`~jaxent.optimizers.RMSprop` (out-of-range values raise,
    ``lr=`` raises, ``jit_compile`` is kept as given). Compared with ``optax.adadelta``: the
    same rule; Keras's defaults (``learning_rate=0.001``, ``rho=0.95``, ``epsilon=1e-7``),
    clipping, weight decay, EMA and float32 learning rate.
    """

    State = AdadeltaState
    RuleState = ScaleByKerasAdadeltaState
    CONFIG_KEYS = ("rho", "epsilon")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        rho: Scalar = 0.95,
        epsilon: Scalar = 1e-7,
        weight_decay: Scalar | None = None,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        jit_compile: bool = True,
        name: str = "Adadelta",
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
        self.epsilon = check("epsilon", epsilon, low=0.0, arrays=True)

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_adadelta(number(self.rho), number(self.epsilon))


def adadelta(
    learning_rate: LearningRate = 0.001,
    rho: Scalar = 0.95,
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
    """Adadelta with Keras 2's update rule, under optax's name: ``Adadelta(...).as_optax()``.

    Formula: ``θ ← θ - lr·sqrt(D + ε)·g / sqrt(G + ε)`` (see :class:`Adadelta`).

    Args:
      learning_rate, rho, epsilon, weight_decay, clipnorm, clipvalue, global_clipnorm,
        use_ema, ema_momentum, ema_overwrite_frequency: as in :class:`Adadelta`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = adadelta(1.0, rho=0.0, epsilon=1.0)
      >>> params = jnp.array(1.0)
      >>> updates, _ = opt.update(jnp.array(-3.0), opt.init(params))
      >>> print(optax.apply_updates(params, updates))
      1.9486833

    Keras: ``tf.keras.optimizers.Adadelta``.

    Differs from Keras: as :class:`Adadelta`.
    """
    return Adadelta(learning_rate, rho, epsilon, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                    global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                    ema_overwrite_frequency=ema_overwrite_frequency).as_optax()
