"""Keras 2's SGD: its update rule as an optax transformation, and the Keras-named optimizer."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxent import _validation
from jaxent.optimizers._base import KerasOptimizer, number
from jaxent.optimizers._transforms import LearningRate, Rounded, Scalar

__all__ = ["SGD", "SGDState", "ScaleByKerasSgdState", "scale_by_keras_sgd", "sgd"]


class ScaleByKerasSgdState(NamedTuple):
    """State of :func:`scale_by_keras_sgd`: Keras's ``m`` slot (kept even with momentum 0, as Keras does)."""

    momentum: optax.Updates


def scale_by_keras_sgd(momentum: Scalar = 0.0, nesterov: bool = False) -> optax.GradientTransformationExtraArgs:
    """SGD's update rule, Keras's order of operations: the signed step.

    Per parameter, ``m`` starting at zero, ``lr`` the ``learning_rate=`` extra argument::

        m ← -g·lr + m·momentum
        nesterov:  update = -g·lr + m·momentum
        otherwise: update = m

    Each op rounded to the parameter's dtype, as TensorFlow's kernels round them.

    Args:
      momentum: momentum coefficient in ``[0, 1]``.
      nesterov: Nesterov's momentum.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`ScaleByKerasSgdState`) whose
      ``update`` needs the ``learning_rate=`` extra argument.

    Example:
      >>> import jax.numpy as jnp
      >>> rule = scale_by_keras_sgd(momentum=0.9)
      >>> print(rule.update(jnp.array(2.0), rule.init(jnp.array(0.0)), learning_rate=jnp.float32(0.1))[0])
      -0.2

    Keras: ``SGD.update_step`` (tf-keras 2.21, dense gradients).
    """

    def init_fn(params: optax.Params) -> ScaleByKerasSgdState:
        return ScaleByKerasSgdState(jax.tree.map(jnp.zeros_like, params))

    def update_fn(updates: optax.Updates, state: ScaleByKerasSgdState, params: optax.Params | None = None, *,
                  learning_rate: jax.Array | None = None, **extra_args: Any) -> tuple[optax.Updates, ScaleByKerasSgdState]:
        del params, extra_args
        if learning_rate is None:
            raise ValueError("scale_by_keras_sgd needs the learning rate: call it through keras_chain.")

        def leaf(g: jax.Array, m: jax.Array) -> tuple[jax.Array, jax.Array]:
            r = Rounded(m.dtype)
            g, m_, lr, mom = r.const(g), r.const(m), r.const(learning_rate), r.cast(momentum)
            step = r.mul(-g, lr)
            m_ = r.add(step, r.mul(m_, mom))
            update = r.add(step, r.mul(m_, mom)) if nesterov else m_
            return r.out(update), r.out(m_)

        slots, treedef = jax.tree.flatten(state.momentum)
        stepped = [leaf(g, m) for g, m in zip(treedef.flatten_up_to(updates), slots)]
        return (treedef.unflatten([out[0] for out in stepped]),
                ScaleByKerasSgdState(treedef.unflatten([out[1] for out in stepped])))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class SGDState(NamedTuple):
    """State of :class:`SGD`: Keras's ``iterations``, its ``m`` slots and the EMA averages."""

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    momentum: optax.Updates
    """Keras's ``m`` (zero-initialised, each parameter's dtype)."""
    ema: optax.Params | None = None
    """The moving average of each parameter (``use_ema``), else ``None``."""


class SGD(KerasOptimizer):
    r"""``tf.keras.optimizers.SGD`` (tf-keras >= 2.11) as a frozen optax-style optimizer.

    Per parameter ``θ`` with gradient ``g``, ``lr`` the learning rate (``schedule(count)`` at the
    count before the update, or the float rounded to float32)::

        g ← clip(g)                          clipnorm, else global_clipnorm, else clipvalue
        θ ← θ - θ·weight_decay·lr            when weight_decay is set (decoupled)
        m ← -g·lr + m·momentum
        θ ← θ + (-g·lr + m·momentum)         nesterov
        θ ← θ + m                            otherwise
        use_ema: avg ← ema_momentum·avg + (1 - ema_momentum)·θ; θ ← avg after every
                 ema_overwrite_frequency-th update

    The same object model as :class:`~jaxent.optimizers.RMSprop` (frozen, hashable, a pytree,
    ``init``/``update``, :meth:`as_optax`, ``get_config``/``from_config``); its state is an
    :class:`SGDState`.

    Args:
      learning_rate: a float ``>= 0``, or a schedule.
      momentum: in ``[0, 1]`` (Keras's range).
      nesterov: Nesterov's momentum.
      weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: as in
        :class:`~jaxent.optimizers.RMSprop` (``ema_overwrite_frequency`` defaults to None here,
        as in Keras's SGD).

    Raises:
      TypeError, ValueError: as :class:`~jaxent.optimizers.RMSprop`; ``momentum`` outside
      ``[0, 1]`` is a ``ValueError`` (Keras: "`momentum` must be between [0, 1].").

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = SGD(learning_rate=0.1, momentum=0.9)
      >>> params = jnp.array(1.0)
      >>> state = opt.init(params)
      >>> for _ in range(2):
      ...     updates, state = opt.update(jnp.array(1.0), state, params)
      ...     params = optax.apply_updates(params, updates)
      >>> print(params)  # 1 - 0.1 - (0.1 + 0.09)
      0.71

    Keras: ``tf.keras.optimizers.SGD`` (tf-keras 2.21).

    Differs from Keras: as :class:`~jaxent.optimizers.RMSprop` (out-of-range values raise,
    ``lr=`` raises, ``jit_compile`` is kept as given). Compared with ``optax.sgd``: the same
    trajectory without momentum; with momentum Keras accumulates ``-lr·g`` (optax ``g``, then
    scales), which differs once the learning rate changes, and Keras's Nesterov step is
    ``-lr·g + momentum·m``.
    """

    State = SGDState
    RuleState = ScaleByKerasSgdState
    CONFIG_KEYS = ("momentum", "nesterov")

    def __init__(
        self,
        learning_rate: LearningRate = 0.01,
        momentum: Scalar = 0.0,
        nesterov: bool = False,
        weight_decay: Scalar | None = None,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        jit_compile: bool = True,
        name: str = "SGD",
        **kwargs: Any,
    ) -> None:
        self._keras_init(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
            kwargs=kwargs,
        )
        self.momentum = _validation.check_hyperparameter("momentum", momentum, low=0.0, high=1.0, arrays=True)
        self.nesterov = _validation.check_flag("nesterov", nesterov)

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_sgd(number(self.momentum), self.nesterov)


def sgd(
    learning_rate: LearningRate = 0.01,
    momentum: Scalar = 0.0,
    nesterov: bool = False,
    *,
    weight_decay: Scalar | None = None,
    clipnorm: Scalar | None = None,
    clipvalue: Scalar | None = None,
    global_clipnorm: Scalar | None = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: int | None = None,
) -> optax.GradientTransformationExtraArgs:
    """SGD with Keras 2's update rule, under optax's name: ``SGD(...).as_optax()``.

    Formula: ``m ← -g·lr + m·momentum``; ``θ ← θ + m`` (nesterov: ``θ ← θ - g·lr + m·momentum``).

    Args:
      learning_rate, momentum, nesterov, weight_decay, clipnorm, clipvalue, global_clipnorm,
        use_ema, ema_momentum, ema_overwrite_frequency: as in :class:`SGD`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = sgd(0.1)
      >>> params = jnp.array(1.0)
      >>> updates, _ = opt.update(jnp.array(2.0), opt.init(params))
      >>> print(optax.apply_updates(params, updates))
      0.8

    Keras: ``tf.keras.optimizers.SGD``.

    Differs from Keras: as :class:`SGD`.
    """
    return SGD(learning_rate, momentum, nesterov, weight_decay=weight_decay, clipnorm=clipnorm,
               clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
               ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency).as_optax()
