"""Keras 2's Adagrad: its update rule as an optax transformation, and the Keras-named optimizer."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxent import _validation
from jaxent.optimizers._base import KerasOptimizer, number
from jaxent.optimizers._transforms import LearningRate, Rounded, Scalar, map_slots

__all__ = ["Adagrad", "AdagradState", "ScaleByKerasAdagradState", "adagrad", "scale_by_keras_adagrad"]


class ScaleByKerasAdagradState(NamedTuple):
    """State of :func:`scale_by_keras_adagrad`."""

    accumulator: optax.Updates
    """Sum of squared gradients, from ``initial_accumulator_value`` (Keras's ``_accumulators``)."""


def scale_by_keras_adagrad(
    initial_accumulator_value: Scalar = 0.1, epsilon: Scalar = 1e-7
) -> optax.GradientTransformationExtraArgs:
    """Adagrad's update rule, Keras's order of operations: the signed step.

    Per parameter, ``a`` starting at ``initial_accumulator_value`` (in the parameter's dtype),
    ``lr`` the ``learning_rate=`` extra argument::

        a ← a + g·g
        update = -(lr·g) / sqrt(a + ε)        # ε inside the root

    Each op rounded to the parameter's dtype, as TensorFlow's kernels round them.

    Args:
      initial_accumulator_value: the accumulator's starting value.
      epsilon: added to the accumulator inside the square root.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`ScaleByKerasAdagradState`)
      whose ``update`` needs the ``learning_rate=`` extra argument.

    Example:
      >>> import jax.numpy as jnp
      >>> rule = scale_by_keras_adagrad(initial_accumulator_value=0.0, epsilon=0.0)
      >>> print(rule.update(jnp.array(2.0), rule.init(jnp.array(0.0)), learning_rate=jnp.float32(0.1))[0])
      -0.1

    Keras: ``Adagrad.update_step`` (tf-keras 2.21, dense gradients).
    """

    def init_fn(params: optax.Params) -> ScaleByKerasAdagradState:
        def start(p: jax.Array) -> jax.Array:
            p = jnp.asarray(p)
            value = np.asarray(initial_accumulator_value, p.dtype) if isinstance(
                initial_accumulator_value, (int, float, np.generic)) else initial_accumulator_value
            return jnp.full_like(p, value)

        return ScaleByKerasAdagradState(jax.tree.map(start, params))

    def update_fn(updates: optax.Updates, state: ScaleByKerasAdagradState, params: optax.Params | None = None, *,
                  learning_rate: jax.Array | None = None,
                  **extra_args: Any) -> tuple[optax.Updates, ScaleByKerasAdagradState]:
        del params, extra_args
        if learning_rate is None:
            raise ValueError("scale_by_keras_adagrad needs the learning rate: call it through keras_chain.")

        def leaf(a: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array]:
            r = Rounded(a.dtype)
            g, a = r.const(g), r.const(a)
            a = r.add(a, r.mul(g, g))
            update = r.div(r.mul(r.const(learning_rate), g), r.sqrt(r.add(a, r.const(epsilon))))
            return r.out(-update), r.out(a)

        new_updates, accumulator = map_slots(leaf, 2, state.accumulator, updates)
        return new_updates, ScaleByKerasAdagradState(accumulator)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class AdagradState(NamedTuple):
    """State of :class:`Adagrad`: Keras's ``iterations``, accumulators and EMA averages."""

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    accumulator: optax.Updates
    """Sum of squared gradients, from ``initial_accumulator_value`` (Keras's ``_accumulators``)."""
    ema: optax.Params | None = None
    """The moving average of each parameter (``use_ema``), else ``None``."""


class Adagrad(KerasOptimizer):
    r"""``tf.keras.optimizers.Adagrad`` (tf-keras >= 2.11) as a frozen optax-style optimizer.

    Per parameter ``θ`` with gradient ``g``, ``lr`` the learning rate (``schedule(count)``, or
    the float rounded to float32)::

        g ← clip(g)                          clipnorm, else global_clipnorm, else clipvalue
        θ ← θ - θ·weight_decay·lr            when weight_decay is set (decoupled)
        a ← a + g²                           a starts at initial_accumulator_value
        θ ← θ - lr·g / sqrt(a + ε)
        use_ema: as in :class:`~jaxent.optimizers.RMSprop`

    The same object model as :class:`~jaxent.optimizers.RMSprop`; its state is an
    :class:`AdagradState`.

    Args:
      learning_rate: a float ``>= 0``, or a schedule.
      initial_accumulator_value: the accumulators' starting value, ``>= 0``.
      epsilon: ``>= 0``, added inside the square root.
      weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: as in
        :class:`~jaxent.optimizers.RMSprop` (``ema_overwrite_frequency`` defaults to None).

    Raises:
      TypeError, ValueError: as :class:`~jaxent.optimizers.RMSprop`; a negative
      ``initial_accumulator_value`` raises (Keras would take the root of a negative number).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = Adagrad(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.0)
      >>> params = jnp.array(1.0)
      >>> updates, state = opt.update(jnp.array(3.0), opt.init(params), params)
      >>> print(optax.apply_updates(params, updates))  # lr·g/|g| on the first step
      0.9

    Keras: ``tf.keras.optimizers.Adagrad`` (tf-keras 2.21).

    Differs from Keras: as :class:`~jaxent.optimizers.RMSprop` (out-of-range values raise,
    ``lr=`` raises, ``jit_compile`` is kept as given). Compared with ``optax.adagrad``: the same
    formula and defaults (optax's ``eps`` is also inside the root), with Keras's clipping,
    weight decay, EMA and float32 learning rate.
    """

    State = AdagradState
    RuleState = ScaleByKerasAdagradState
    CONFIG_KEYS = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        initial_accumulator_value: Scalar = 0.1,
        epsilon: Scalar = 1e-7,
        weight_decay: Scalar | None = None,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        jit_compile: bool = True,
        name: str = "Adagrad",
        **kwargs: Any,
    ) -> None:
        self._keras_init(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
            kwargs=kwargs,
        )
        check = _validation.check_hyperparameter
        self.initial_accumulator_value = check("initial_accumulator_value", initial_accumulator_value, low=0.0,
                                               arrays=True)
        self.epsilon = check("epsilon", epsilon, low=0.0, arrays=True)

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_adagrad(number(self.initial_accumulator_value), number(self.epsilon))


def adagrad(
    learning_rate: LearningRate = 0.001,
    initial_accumulator_value: Scalar = 0.1,
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
    """Adagrad with Keras 2's update rule, under optax's name: ``Adagrad(...).as_optax()``.

    Formula: ``a ← a + g²``; ``θ ← θ - lr·g / sqrt(a + ε)``.

    Args:
      learning_rate, initial_accumulator_value, epsilon, weight_decay, clipnorm, clipvalue,
        global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency: as in :class:`Adagrad`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = adagrad(0.1, initial_accumulator_value=0.0, epsilon=0.0)
      >>> params = jnp.array(1.0)
      >>> updates, _ = opt.update(jnp.array(-2.0), opt.init(params))
      >>> print(optax.apply_updates(params, updates))
      1.1

    Keras: ``tf.keras.optimizers.Adagrad``.

    Differs from Keras: as :class:`Adagrad`.
    """
    return Adagrad(learning_rate, initial_accumulator_value, epsilon, weight_decay=weight_decay, clipnorm=clipnorm,
                   clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                   ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency).as_optax()
