"""Keras 2's Adam and AdamW: the update rule as an optax transformation, and the Keras-named optimizers."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxent import _validation
from jaxent.optimizers._base import KerasOptimizer, number
from jaxent.optimizers._transforms import LearningRate, Rounded, Scalar

__all__ = ["Adam", "AdamState", "AdamW", "ScaleByKerasAdamState", "adam", "adamw", "scale_by_keras_adam"]


class ScaleByKerasAdamState(NamedTuple):
    """State of :func:`scale_by_keras_adam`: Keras's slots, zero-initialised, each parameter's dtype."""

    mu: optax.Updates
    """First moment (Keras's ``_momentums``)."""
    nu: optax.Updates
    """Second moment (Keras's ``_velocities``)."""
    nu_hat: optax.Updates | None
    """Running maximum of ``nu`` (Keras's ``_velocity_hats``); ``None`` unless amsgrad."""


def scale_by_keras_adam(
    beta_1: Scalar = 0.9, beta_2: Scalar = 0.999, epsilon: Scalar = 1e-7, amsgrad: bool = False,
    adaptive_epsilon: bool = False,
) -> optax.GradientTransformationExtraArgs:
    """Adam's update rule, Keras's order of operations: the signed step.

    Per parameter, slots starting at zero, ``t = count + 1`` (``count=`` extra argument, cast
    to the parameter's dtype), ``lr`` the ``learning_rate=`` extra argument::

        α = lr·sqrt(1 - β₂ᵗ) / (1 - β₁ᵗ)
        m ← m + (g - m)·(1 - β₁)
        v ← v + (g² - v)·(1 - β₂)
        amsgrad:  v̂ ← max(v̂, v), v ← v̂          (the maximum of the raw v)
        ε̂ = ε, or ε·sqrt(1 - β₂ᵗ) with adaptive_epsilon
        update = -(m·α) / (sqrt(v) + ε̂)          # ε̂ added to the *uncorrected* sqrt(v)

    Each op rounded to the parameter's dtype, as TensorFlow's kernels round them.

    Args:
      beta_1, beta_2: decay of the first and second moments.
      epsilon: ``ε̂``, added to ``sqrt(v)``.
      amsgrad: divide by the running maximum of ``v``.
      adaptive_epsilon: use ``ε·sqrt(1 - β₂ᵗ)`` (Algorithm 1 of the paper) as ``ε̂``.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`ScaleByKerasAdamState`) whose
      ``update`` needs the ``learning_rate=`` and ``count=`` extra arguments.

    Example:
      >>> import jax.numpy as jnp
      >>> rule = scale_by_keras_adam()
      >>> u, _ = rule.update(jnp.array(2.0), rule.init(jnp.array(0.0)), learning_rate=jnp.float32(0.1),
      ...                    count=jnp.array(0))
      >>> print(u)  # about -lr on the first step (float32's 1 - β₂ᵗ is 0.00099998713)
      -0.099999174

    Keras: ``Adam.update_step`` and ``AdamW.update_step`` (tf-keras 2.21, dense gradients).
    """

    def init_fn(params: optax.Params) -> ScaleByKerasAdamState:
        def zeros() -> optax.Updates:
            return jax.tree.map(jnp.zeros_like, params)

        return ScaleByKerasAdamState(zeros(), zeros(), zeros() if amsgrad else None)

    def update_fn(updates: optax.Updates, state: ScaleByKerasAdamState, params: optax.Params | None = None, *,
                  learning_rate: jax.Array | None = None, count: jax.Array | None = None,
                  **extra_args: Any) -> tuple[optax.Updates, ScaleByKerasAdamState]:
        del params, extra_args
        if learning_rate is None or count is None:
            raise ValueError("scale_by_keras_adam needs the learning rate and count: call it through keras_chain.")

        def leaf(g: jax.Array, m: jax.Array, v: jax.Array, v_hat: jax.Array | None) -> tuple:
            r = Rounded(m.dtype)
            g, m, v = r.const(g), r.const(m), r.const(v)
            one = r.const(1.0)
            t = r.const(count + 1)
            beta_1_power = r.pow(r.cast(beta_1), t)
            beta_2_power = r.pow(r.cast(beta_2), t)
            alpha = r.div(r.mul(r.const(learning_rate), r.sqrt(r.sub(one, beta_2_power))), r.sub(one, beta_1_power))
            if adaptive_epsilon:
                epsilon_hat = r.mul(r.const(epsilon), r.sqrt(r.sub(one, beta_2_power)))
            else:
                epsilon_hat = r.const(epsilon)
            m = r.add(m, r.mul(r.sub(g, m), r.const(1 - beta_1)))
            v = r.add(v, r.mul(r.sub(r.mul(g, g), v), r.const(1 - beta_2)))
            denominator_v = v
            if v_hat is not None:
                v_hat = r.maximum(r.const(v_hat), v)
                denominator_v = v_hat
            update = r.div(r.mul(m, alpha), r.add(r.sqrt(denominator_v), epsilon_hat))
            return r.out(-update), r.out(m), r.out(v), None if v_hat is None else r.out(v_hat)

        mus, treedef = jax.tree.flatten(state.mu)
        hats = [None] * len(mus) if state.nu_hat is None else treedef.flatten_up_to(state.nu_hat)
        stepped = [leaf(*args) for args in zip(treedef.flatten_up_to(updates), mus,
                                               treedef.flatten_up_to(state.nu), hats)]
        new_updates, mu, nu, nu_hat = (treedef.unflatten([out[i] for out in stepped]) for i in range(4))
        return new_updates, ScaleByKerasAdamState(mu, nu, nu_hat if amsgrad else None)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


class AdamState(NamedTuple):
    """State of :class:`Adam` and :class:`AdamW`: Keras's ``iterations``, slots and EMA averages."""

    count: jax.Array
    """int32 scalar, the number of updates so far (Keras's ``iterations``)."""
    mu: optax.Updates
    """First moment (Keras's ``_momentums``)."""
    nu: optax.Updates
    """Second moment (Keras's ``_velocities``)."""
    nu_hat: optax.Updates | None
    """Running maximum of ``nu`` (amsgrad), else ``None``."""
    ema: optax.Params | None = None
    """The moving average of each parameter (``use_ema``), else ``None``."""


class Adam(KerasOptimizer):
    r"""``tf.keras.optimizers.Adam`` (tf-keras >= 2.11) as a frozen optax-style optimizer.

    Per parameter ``θ`` with gradient ``g``, ``t`` the update's number (from 1), ``lr`` the
    learning rate (``schedule(t - 1)``, or the float rounded to float32)::

        g ← clip(g)                          clipnorm, else global_clipnorm, else clipvalue
        θ ← θ - θ·weight_decay·lr            when weight_decay is set (decoupled)
        α = lr·sqrt(1 - β₂ᵗ) / (1 - β₁ᵗ)
        m ← m + (g - m)·(1 - β₁);   v ← v + (g² - v)·(1 - β₂)
        amsgrad: v̂ ← max(v̂, v), and v̂ in place of v below
        θ ← θ - m·α / (sqrt(v) + ε)          # ε is Kingma & Ba's "epsilon hat"
        use_ema: avg ← ema_momentum·avg + (1 - ema_momentum)·θ; θ ← avg after every
                 ema_overwrite_frequency-th update

    The same object model as :class:`~jaxent.optimizers.RMSprop`; its state is an
    :class:`AdamState`.

    Args:
      learning_rate: a float ``>= 0``, or a schedule.
      beta_1, beta_2: in ``[0, 1)``.
      epsilon: ``>= 0``, added to ``sqrt(v)`` (not bias-corrected: "epsilon hat").
      adaptive_epsilon: use ``ε·sqrt(1 - β₂ᵗ)`` instead (tf-keras 2.21 argument; not in its
        ``get_config``, so it does not survive a config round trip there either).
      amsgrad: AMSGrad, the running maximum of the raw ``v``.
      weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: as in
        :class:`~jaxent.optimizers.RMSprop` (``ema_overwrite_frequency`` defaults to None).

    Raises:
      TypeError, ValueError: as :class:`~jaxent.optimizers.RMSprop`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = Adam(learning_rate=0.1)
      >>> params = jnp.array(1.0)
      >>> updates, state = opt.update(jnp.array(3.0), opt.init(params), params)
      >>> print(optax.apply_updates(params, updates))  # the first step moves by ~lr
      0.90000075

    Keras: ``tf.keras.optimizers.Adam`` (tf-keras 2.21; KERAS2_SEMANTICS.md §17).

    Differs from Keras: as :class:`~jaxent.optimizers.RMSprop` (out-of-range values raise,
    ``lr=`` raises, ``jit_compile`` is kept as given). Compared with ``optax.adam(eps=1e-7)``:
    optax adds ``ε`` to the bias-corrected ``sqrt(v̂)``, Keras to the uncorrected ``sqrt(v)``
    (an effective ``ε·sqrt(1 - β₂ᵗ)`` early on), so the trajectories differ wherever
    ``sqrt(v)`` is not much larger than ``ε`` (see the README).
    """

    State = AdamState
    RuleState = ScaleByKerasAdamState
    CONFIG_KEYS = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        beta_1: Scalar = 0.9,
        beta_2: Scalar = 0.999,
        epsilon: Scalar = 1e-7,
        adaptive_epsilon: bool = False,
        amsgrad: bool = False,
        weight_decay: Scalar | None = None,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        jit_compile: bool = True,
        name: str = "Adam",
        **kwargs: Any,
    ) -> None:
        self._keras_init(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
            kwargs=kwargs,
        )
        _check_adam(self, beta_1, beta_2, epsilon, amsgrad)
        self.adaptive_epsilon = _validation.check_flag("adaptive_epsilon", adaptive_epsilon)

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_adam(number(self.beta_1), number(self.beta_2), number(self.epsilon), self.amsgrad,
                                   self.adaptive_epsilon)


class AdamW(KerasOptimizer):
    r"""``tf.keras.optimizers.AdamW`` (tf-keras >= 2.11): :class:`Adam` with weight decay 0.004 by default.

    The same update as :class:`Adam` (no ``adaptive_epsilon``), with the decoupled decay
    ``θ ← θ - θ·weight_decay·lr`` before each step; ``weight_decay`` is the second argument.

    Args:
      learning_rate: a float ``>= 0``, or a schedule.
      weight_decay: ``>= 0``; required (None raises, as in Keras).
      beta_1, beta_2, epsilon, amsgrad, clipnorm, clipvalue, global_clipnorm, use_ema,
        ema_momentum, ema_overwrite_frequency, jit_compile, name, **kwargs: as in :class:`Adam`.

    Raises:
      ValueError: ``weight_decay=None`` (Keras's message), and as :class:`Adam`.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = AdamW(learning_rate=0.1, weight_decay=0.5)
      >>> params = jnp.array(1.0)
      >>> updates, state = opt.update(jnp.array(0.0), opt.init(params), params)
      >>> print(optax.apply_updates(params, updates))  # 1 - 1·0.5·0.1, and a zero Adam step
      0.95

    Keras: ``tf.keras.optimizers.AdamW`` (tf-keras 2.21).

    Differs from Keras: as :class:`Adam`. Compared with ``optax.adamw``: the decay is
    ``θ·wd·lr`` applied before the step (optax adds ``wd·θ`` to the update, then scales by
    ``lr``: the same to first order), and Adam's epsilon differs as in :class:`Adam`.
    """

    State = AdamState
    RuleState = ScaleByKerasAdamState
    CONFIG_KEYS = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        weight_decay: Scalar = 0.004,
        beta_1: Scalar = 0.9,
        beta_2: Scalar = 0.999,
        epsilon: Scalar = 1e-7,
        amsgrad: bool = False,
        clipnorm: Scalar | None = None,
        clipvalue: Scalar | None = None,
        global_clipnorm: Scalar | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        jit_compile: bool = True,
        name: str = "AdamW",
        **kwargs: Any,
    ) -> None:
        if weight_decay is None:
            raise ValueError("Missing value of `weight_decay` which is required and must be a float value.")
        self._keras_init(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, clipvalue=clipvalue,
            global_clipnorm=global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency, jit_compile=jit_compile, name=name,
            kwargs=kwargs,
        )
        _check_adam(self, beta_1, beta_2, epsilon, amsgrad)

    def _rule(self) -> optax.GradientTransformationExtraArgs:
        return scale_by_keras_adam(number(self.beta_1), number(self.beta_2), number(self.epsilon), self.amsgrad)


def _check_adam(opt: Adam | AdamW, beta_1: Any, beta_2: Any, epsilon: Any, amsgrad: Any) -> None:
    check = _validation.check_hyperparameter
    opt.beta_1 = check("beta_1", beta_1, low=0.0, high=1.0, high_open=True, arrays=True)
    opt.beta_2 = check("beta_2", beta_2, low=0.0, high=1.0, high_open=True, arrays=True)
    opt.epsilon = check("epsilon", epsilon, low=0.0, arrays=True)
    opt.amsgrad = _validation.check_flag("amsgrad", amsgrad)


def adam(
    learning_rate: LearningRate = 0.001,
    beta_1: Scalar = 0.9,
    beta_2: Scalar = 0.999,
    epsilon: Scalar = 1e-7,
    amsgrad: bool = False,
    *,
    weight_decay: Scalar | None = None,
    clipnorm: Scalar | None = None,
    clipvalue: Scalar | None = None,
    global_clipnorm: Scalar | None = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: int | None = None,
) -> optax.GradientTransformationExtraArgs:
    """Adam with Keras 2's update rule, under optax's name: ``Adam(...).as_optax()``.

    Formula: ``θ ← θ - m·α / (sqrt(v) + ε)``, ``α = lr·sqrt(1 - β₂ᵗ) / (1 - β₁ᵗ)``.

    Args:
      learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
        global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency: as in :class:`Adam`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = adam(0.1)
      >>> params = jnp.array(1.0)
      >>> updates, _ = opt.update(jnp.array(-2.0), opt.init(params))
      >>> print(optax.apply_updates(params, updates))  # ~lr: float32's 1 - β₂ (0.00099998713) in α
      1.0999992

    Keras: ``tf.keras.optimizers.Adam``.

    Differs from Keras: as :class:`Adam`.
    """
    return Adam(learning_rate, beta_1, beta_2, epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
                clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency).as_optax()


def adamw(
    learning_rate: LearningRate = 0.001,
    weight_decay: Scalar = 0.004,
    beta_1: Scalar = 0.9,
    beta_2: Scalar = 0.999,
    epsilon: Scalar = 1e-7,
    amsgrad: bool = False,
    *,
    clipnorm: Scalar | None = None,
    clipvalue: Scalar | None = None,
    global_clipnorm: Scalar | None = None,
    use_ema: bool = False,
    ema_momentum: float = 0.99,
    ema_overwrite_frequency: int | None = None,
) -> optax.GradientTransformationExtraArgs:
    """AdamW with Keras 2's update rule, under optax's name: ``AdamW(...).as_optax()``.

    Formula: ``θ ← θ - θ·wd·lr``, then Adam's step (see :class:`Adam`).

    Args:
      learning_rate, weight_decay, beta_1, beta_2, epsilon, amsgrad, clipnorm, clipvalue,
        global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency: as in :class:`AdamW`.

    Returns:
      An ``optax.GradientTransformationExtraArgs``; ``update`` needs ``params``.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> opt = adamw(0.1, weight_decay=0.5)
      >>> params = jnp.array(2.0)
      >>> updates, _ = opt.update(jnp.array(0.0), opt.init(params), params)
      >>> print(optax.apply_updates(params, updates))
      1.9

    Keras: ``tf.keras.optimizers.AdamW``.

    Differs from Keras: as :class:`AdamW`.
    """
    return AdamW(learning_rate, weight_decay, beta_1, beta_2, epsilon, amsgrad, clipnorm=clipnorm,
                 clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                 ema_momentum=ema_momentum, ema_overwrite_frequency=ema_overwrite_frequency).as_optax()
