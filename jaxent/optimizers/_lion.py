"""Keras 2's Lion: its update rule as an optax transformation, and the Keras-named optimizer."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxent import _validation
from jaxent.optimizers._base import KerasOptimizer, number
from jaxent.optimizers._transforms import LearningRate, Rounded, Scalar, map_slots

__all__ = ["Lion", "LionState", "ScaleByKerasLionState", "lion", "scale_by_keras_lion"]


class ScaleByKerasLionState(NamedTuple):
    """State of :func:`scale_by_keras_lion`: Keras's ``m`` slot, zero-initialised."""

    momentum: optax.Updates
    """Moving average of the gradients, decayed by ``beta_2`` (Keras's ``momentums``)."""


def scale_by_keras_lion(beta_1: Scalar = 0.9, beta_2: Scalar = 0.99) -> optax.GradientTransformationExtraArgs:
    """Lion's update rule, Keras's order of operations: the signed step.

    Per parameter, ``m`` starting at zero, ``lr`` the ``learning_rate=`` extra argument::

        update = -lr·sign(m·β₁ + g·(1 - β₁))
        m ← m·β₂ + g·(1 - β₂)

    Each op rounded to the parameter's dtype (``β₁``, ``β₂`` cast as ``tf.cast`` does).

    Args:
      beta_1: the interpolation of the step's direction.
      beta_2: decay of ``m``.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`ScaleByKerasLionState`) whose
      ``update`` needs the ``learning_rate=`` extra argument.

    Example:
      >>> import jax.numpy as jnp
      >>> rule = scale_by_keras_lion()
      >>> print(rule.update(jnp.array(-0.5), rule.init(jnp.array(0.0)), learning_rate=jnp.float32(0.1))[0])
      0.1

    Keras: ``Lion.update_step`` (tf-keras 2.21, dense gradients).
    """

    def init_fn(params: optax.Params) -> ScaleByKerasLionState:
        return ScaleByKerasLionState(jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates: optax.Updates, state: ScaleByKerasLionState, params: optax.Params | None = None, *,
                  learning_rate: jax.Array | None = None,
                  **extra_args: Any) -> tuple[optax.Updates, ScaleByKerasLionState]:
        del params, extra_args
        if learning_rate is None:
            raise ValueError("scale_by_keras_lion needs the learning rate: call it through keras_chain.")

        def leaf(m: jax.Array, g: jax.Array) -> tuple[jax.Array, jax.Array]:
            r = Rounded(m.dtype)
            g, m = r.const(g), r.const(m)
            one, b1, b2 = r.const(1.0), r.cast(beta_1), r.cast(beta_2)
            direction = jnp.sign(r.add(r.mul(m, b1), r.mul(g, r.sub(one, b1))))
            update = r.mul(r.const(learning_rate), direction)
            m = r.add(r.mul(m, b2), r.mul(g, r.sub(one, b2)))
            return r.out(-update), r.out(m)

        new_updates, momentum = map_slots(leaf, 2, state.momentum, updates)
        return new_updates, ScaleByKerasLionState(momentum)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class LionState(NamedTuple):
    """State of :class:`Lion`: Keras's ``iterations``, ``momentums`` and EMA averages."""

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    momentum: optax.Updates
    """Moving average of the gradients, decayed by ``beta_2`` (Keras's ``momentums``)."""
    ema: optax.Params | None = None
    """The moving average of each parameter (``use_ema``), else ``None``."""


class Lion(KerasOptimizer):
    r"""``tf.keras.optimizers.Lion`` (tf-keras >= 2.12) as a frozen optax-style optimizer.

    Per parameter ``θ`` with gradient ``g``, ``lr`` the learning rate (``schedule(count)``, or
    the float rounded to float32)::

        g ← clip(g)                          clipnorm, else global_clipnorm, else clipvalue
        θ ← θ - θ·weight_decay·lr            when weight_decay is set (decoupled)
        θ ← θ - lr·sign(m·β₁ + g·(1 - β₁))
        m ← m·β₂ + g·(1 - β₂)
        use_ema: as in :class:`~jaxent.optimizers.RMSprop`

    The same object model as :class:`~jaxent.optimizers.RMSprop`; its state is a
    :class:`LionState`.

    Args:
      learning_rate: a float ``>= 0``, or a schedule.
      beta_1: in ``(0, 1]`` (Keras's range; 0 would be SignSGD).
      beta_2: in ``[0, 1]``.
      weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: as in
        :class:`~jaxent.optimizers.RMSprop` (``ema_overwrite_frequency`` defaults to None).

    Raises:
      TypeError, ValueError: as :class:`~jaxent.optimizers.RMSprop`; ``beta_1`` outside
      ``(0, 1]`` is a ``ValueError`` (as in Keras).

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = Lion(learning_rate=0.1)
      >>> params = jnp.array(1.0)
      >>> updates, state = opt.update(jnp.array(3.0), opt.init(params), params)
      >>> print(optax.apply_updates(params, updates))  # every step moves by exactly lr
      0.9

    Keras: ``tf.keras.optimizers.Lion`` (tf-keras 2.21). ``keras.optimizers.get("lion")``
    raises in tf-keras (not in its table); :func:`jaxent.optimizers.get` resolves it.

    Differs from Keras: as :class:`~jaxent.optimizers.RMSprop` (out-of-range values raise,
    ``lr=`` raises, ``jit_compile`` is kept as given); ``get("lion")`` works. Compared with
    ``optax.lion``: the same rule and defaults; Keras's weight decay ``θ·wd·lr`` is applied
    before the step (optax adds ``wd·θ`` to the signed direction), and Keras's clipping, EMA
    and float32 learning rate.
    """

    State = LionState
    RuleState = ScaleByKerasLionState
    CONFIG_KEYS = ("beta_1", "beta_2")

    def __init__(
        self,
        learning_rate: LearningRate = 0.0001,
        beta_1: Scalar = 0.9,
        beta_2: Scalar = 0.99,
        weight_decay: Scalar | None = None,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        jit_compile: bool = True,
        name: str = "Lion",
        **kwargs: Any,
    ) -> None:
        self._keras_init(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
            kwargs=kwargs,
        )
        check = _validation.check_hyperparameter
        self.beta_1 = check("beta_1", beta_1, arrays=True)
        if not isinstance(beta_1, jax.core.Tracer) and not 0 < float(beta_1) <= 1:
            raise ValueError(f"`beta_1`={beta_1} must be between ]0, 1]. Otherwise, the optimizer degenerates "
                             "to SignSGD.")
        self.beta_2 = check("beta_2", beta_2, low=0.0, high=1.0, arrays=True)

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_lion(number(self.beta_1), number(self.beta_2))


def lion(
    learning_rate: LearningRate = 0.0001,
    beta_1: Scalar = 0.9,
    beta_2: Scalar = 0.99,
    *,
    weight_decay: Scalar | None = None,
    clipnorm: Scalar | None = None,
    clipvalue: Scalar | None = None,
    global_clipnorm: Scalar | None = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: int | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Lion with Keras 2's update rule, under optax's name: ``Lion(...).as_optax()``.

    Formula: ``θ ← θ - lr·sign(m·β₁ + g·(1 - β₁))``; ``m ← m·β₂ + g·(1 - β₂)``.

    Args:
      learning_rate, beta_1, beta_2, weight_decay, clipnorm, clipvalue, global_clipnorm,
        use_ema, ema_momentum, ema_overwrite_frequency: as in :class:`Lion`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = lion(0.1)
      >>> params = jnp.array(1.0)
      >>> updates, _ = opt.update(jnp.array(-2.0), opt.init(params))
      >>> print(optax.apply_updates(params, updates))
      1.1

    Keras: ``tf.keras.optimizers.Lion``.

    Differs from Keras: as :class:`Lion`.
    """
    return Lion(learning_rate, beta_1, beta_2, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
                global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                ema_overwrite_frequency=ema_overwrite_frequency).as_optax()
