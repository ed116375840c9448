"""Keras 2's RMSprop as an optax ``GradientTransformation``.

:func:`rmsprop` (and :class:`RMSprop`, Keras's constructor and config) follows ``tf.keras.optimizers.RMSprop`` (the tf-keras
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
import inspect
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxent.optimizers import schedules

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
    weight_decay: Scalar | None = None,
) -> RMSprop:
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
      weight_decay: decoupled weight decay (Keras's ``weight_decay``; ``None`` is off): before
        the RMSprop step every parameter becomes ``θ - θ·weight_decay·lr`` (the pre-step
        ``θ``, the step's learning rate). Needs ``params`` in ``update(grads, state, params)``.

    Returns:
      An :class:`RMSprop`: an ``optax.GradientTransformation`` (whose state is an
      :class:`RMSpropState`) that also carries Keras's config (``get_config()``).

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
    return RMSprop(learning_rate, rho, momentum, epsilon, centered, weight_decay=weight_decay,
                   clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm)


# --- Keras's class: the same transformation, with Keras's constructor and config -----------

_KERAS_DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False,
    "weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": 100,
    "jit_compile": True, "name": "RMSprop",
}
"""``tf.keras.optimizers.RMSprop``'s arguments and defaults, in its order."""

_CONFIG_KEYS = ("name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
                "ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer",
                "learning_rate", "rho", "momentum", "epsilon", "centered")
"""The keys of tf-keras 2.21's ``RMSprop.get_config()``, in its order."""


class RMSprop(optax.GradientTransformation):
    """``tf.keras.optimizers.RMSprop``: Keras's arguments and config, an optax transformation.

    ``RMSprop(...)`` takes tf-keras 2.21's constructor arguments, in its order and with its
    defaults, and *is* the ``optax.GradientTransformation`` that :func:`rmsprop` builds (same
    ``init``/``update``; ``rmsprop(...)`` returns one of these), usable in ``optax.chain``,
    ``optax.MultiSteps`` and so on. On top it carries Keras's configuration:
    ``get_config()`` returns tf-keras's dict, :meth:`from_config` rebuilds the optimizer from
    one, and the arguments are readable as attributes (``opt.learning_rate``, ``opt.rho``...).

    Keras-only arguments, handled so that a ported script keeps its meaning:

    * ``weight_decay``: implemented (decoupled; see :func:`rmsprop`).
    * ``use_ema=True`` raises ``ValueError``: not implemented (Keras keeps a moving average of
      the parameters and overwrites them with it every ``ema_overwrite_frequency`` steps and at
      the end of ``fit``). ``ema_momentum`` and ``ema_overwrite_frequency`` only matter with
      it; any value is accepted and kept in the config, as in Keras.
    * ``jit_compile``, ``name``: kept in the config; no effect (every jaxent optimizer can be
      jitted). tf-keras reports ``jit_compile=False`` in its config whenever no GPU is visible;
      jaxent reports what was passed.
    * ``is_legacy_optimizer`` (written by ``get_config``) is accepted and ignored, as in Keras.
    * ``lr=`` raises ``ValueError``: tf-keras >= 2.11 accepts it but ignores it (it logs a
      warning and trains with ``learning_rate``, 0.001 by default), so a port must choose.
    * ``decay``, ``gradient_aggregator``, ``gradient_transformers`` raise Keras's
      ``ValueError``; any other unknown keyword raises Keras's ``TypeError``.

    Args:
      learning_rate: a float, a :mod:`jaxent.optimizers.schedules` schedule (which
        ``get_config`` serializes as Keras does), or any optax schedule (which has no Keras
        config: ``get_config`` then raises ``TypeError``).
      rho, momentum, epsilon, centered, clipnorm, clipvalue, global_clipnorm, weight_decay: as
        in :func:`rmsprop`.
      use_ema, ema_momentum, ema_overwrite_frequency, jit_compile, name: see above.

    Example::

      >>> from jaxent.optimizers import RMSprop
      >>> from jaxent.optimizers.schedules import ExponentialDecay
      >>> opt = RMSprop(learning_rate=ExponentialDecay(0.1, 10, 0.5), clipnorm=1.0)
      >>> config = opt.get_config()
      >>> config["learning_rate"]["class_name"], config["clipnorm"], config["is_legacy_optimizer"]
      ('ExponentialDecay', 1.0, False)
      >>> RMSprop.from_config(config).get_config() == config
      True
      >>> RMSprop().get_config()["learning_rate"]  # held in float32, as in Keras
      np.float32(0.001)
    """

    def __new__(
        cls,
        learning_rate: Scalar | optax.Schedule = 0.001,
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
    ) -> RMSprop:
        _check_keras_only(kwargs, use_ema=use_ema, name=name)
        init_fn, update_fn = _transformation(
            learning_rate, rho, momentum, epsilon, centered, clipvalue=clipvalue,
            clipnorm=clipnorm, global_clipnorm=global_clipnorm, weight_decay=weight_decay)
        self = super().__new__(cls, init_fn, update_fn)
        self._arguments = {
            "learning_rate": learning_rate, "rho": rho, "momentum": momentum,
            "epsilon": epsilon, "centered": centered, "weight_decay": weight_decay,
            "clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm,
            "use_ema": use_ema, "ema_momentum": ema_momentum,
            "ema_overwrite_frequency": ema_overwrite_frequency, "jit_compile": jit_compile,
            "name": name,
        }
        return self

    def get_config(self) -> dict[str, Any]:
        """tf-keras 2.21's ``RMSprop.get_config()``: same keys, order and values.

        A float learning rate comes back as a NumPy float32 (Keras holds it in a float32
        variable), a schedule as ``schedules.serialize(schedule)``'s dict.

        Raises:
          TypeError: the learning rate is a plain optax schedule (no Keras config).
        """
        config = dict(self._arguments, is_legacy_optimizer=False)
        config["learning_rate"] = _serialize_learning_rate(config["learning_rate"])
        return {key: config[key] for key in _CONFIG_KEYS}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RMSprop:
        """The optimizer a :meth:`get_config` dict (jaxent's or tf-keras's) describes.

        A ``learning_rate`` dict is deserialized with :func:`schedules.deserialize`.
        """
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    @classmethod
    def _make(cls, iterable: Any) -> optax.GradientTransformation:
        # ``_replace(init=...)`` builds new functions: the result no longer is Keras's RMSprop
        # and has no config, so it is a plain GradientTransformation.
        return optax.GradientTransformation._make(iterable)

    def __reduce__(self) -> tuple[Any, ...]:
        # copy/deepcopy/pickle rebuild from the arguments (the default would pass init/update
        # to __new__ as if they were the learning rate and rho)
        return (_rebuild, (type(self), self._arguments))

    def __repr__(self) -> str:
        shown = (f"{key}={value!r}" for key, value in self._arguments.items()
                 if not _is_default(value, _KERAS_DEFAULTS[key]))
        return f"{type(self).__name__}({', '.join(shown)})"


def _make_property(key: str) -> property:
    return property(lambda self: self._arguments[key],
                    doc=f"The ``{key}`` this optimizer was built with (Keras's attribute).")


for _key in _KERAS_DEFAULTS:
    setattr(RMSprop, _key, _make_property(_key))
del _key

# inspect.signature (and so optax.inject_hyperparams) sees Keras's named arguments only: the
# catch-all **kwargs exists to give Keras's errors for its removed arguments.
RMSprop.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [param for name, param in inspect.signature(RMSprop.__new__).parameters.items()
     if name not in ("cls", "kwargs")])

# A pytree node without children: transformations hold functions, not arrays, and rebuilding
# one through __new__ (as JAX does for a NamedTuple) would misread init/update as arguments.
jax.tree_util.register_pytree_node(RMSprop, lambda opt: ((), opt), lambda opt, _: opt)


def _rebuild(cls: type[RMSprop], arguments: dict[str, Any]) -> RMSprop:
    return cls(**arguments)


def _is_default(value: Any, default: Any) -> bool:
    return value is default or (type(value) is type(default) and value == default)


def _serialize_learning_rate(learning_rate: Any) -> Any:
    """Keras's ``_serialize_hyperparameter``: a schedule's dict, or the float32 value."""
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        return schedules.serialize(learning_rate)
    if callable(learning_rate):
        raise TypeError(
            f"The learning rate {learning_rate!r} is a plain optax schedule, which has no Keras "
            "config. Use a jaxent.optimizers.schedules class to get one."
        )
    if isinstance(learning_rate, jax.core.Tracer):
        raise TypeError("get_config() needs a concrete learning rate; this one is traced.")
    return np.float32(learning_rate)


_LEGACY_ONLY = ("decay", "gradient_aggregator", "gradient_transformers")


def _check_keras_only(kwargs: dict[str, Any], *, use_ema: Any, name: Any) -> None:
    """Keras's checks of the extra keyword arguments, and jaxent's of what it lacks."""
    kwargs = dict(kwargs)
    kwargs.pop("is_legacy_optimizer", None)  # written by get_config; Keras drops it too
    if kwargs.get("mesh") is None:
        kwargs.pop("mesh", None)  # Keras's DTensor mesh: None is the default
    if kwargs.get("lr") is not None:
        raise ValueError(
            f"`lr` is deprecated in TF-Keras optimizer, and tf-keras >= 2.11 ignores it: it logs "
            f"a warning and trains with learning_rate (0.001 by default), not lr={kwargs['lr']}. "
            "Pass learning_rate= instead (drop lr= to keep what tf-keras did)."
        )
    kwargs.pop("lr", None)
    for key in kwargs:
        if key in _LEGACY_ONLY:
            hint = (" (The legacy `decay=d` is "
                    "learning_rate=schedules.InverseTimeDecay(lr, decay_steps=1, decay_rate=d).)"
                    if key == "decay" else "")
            raise ValueError(
                f"{key} is deprecated in the new TF-Keras optimizer, please check the docstring "
                "for valid arguments, or use the legacy optimizer, e.g., "
                f"tf.keras.optimizers.legacy.RMSprop.{hint}"
            )
        if key == "mesh":
            raise ValueError("`mesh` (Keras's DTensor layout) is not supported: RMSprop is "
                             "elementwise, so shard the parameters with jax.sharding instead.")
        raise TypeError(
            f"{key} is not a valid argument, kwargs should be empty  for "
            "`optimizer_experimental.Optimizer`."
        )
    if use_ema:
        raise ValueError(
            "RMSprop(use_ema=True) is not implemented by jaxent: Keras keeps a moving average "
            "of the parameters (a ← ema_momentum·a + (1 - ema_momentum)·θ after every step) and "
            "overwrites the parameters with it every ema_overwrite_frequency steps and at the "
            "end of fit. Keep that average next to your parameters instead, e.g. "
            "avg = jax.tree.map(lambda a, p: m * a + (1 - m) * p, avg, params)."
        )
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a string. Received: name={name!r}.")


# --- the update --------------------------------------------------------------------------


def _transformation(
    learning_rate: Scalar | optax.Schedule,
    rho: Scalar,
    momentum: Scalar,
    epsilon: Scalar,
    centered: bool,
    *,
    clipvalue: Scalar | None,
    clipnorm: Scalar | None,
    global_clipnorm: Scalar | None,
    weight_decay: Scalar | None,
) -> tuple[optax.TransformInitFn, optax.TransformUpdateFn]:
    """The ``init`` and ``update`` functions of RMSprop with these (checked) hyperparameters."""
    _check_hyperparameters(
        learning_rate=learning_rate,
        rho=rho,
        momentum=momentum,
        epsilon=epsilon,
        centered=centered,
        clipvalue=clipvalue,
        clipnorm=clipnorm,
        global_clipnorm=global_clipnorm,
        weight_decay=weight_decay,
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
        if weight_decay is not None and params is None:
            raise ValueError("rmsprop(weight_decay=...) needs the parameters: call "
                             "update(grads, state, params).")
        lr = _learning_rate_at(learning_rate, state.count)
        grads = jax.tree.map(lambda g, nu: jnp.asarray(g).astype(nu.dtype), updates, state.nu)
        grads = clip(grads)
        step = functools.partial(
            _leaf_step,
            lr=lr,
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
        if weight_decay is not None:
            new_updates = jax.tree.map(
                functools.partial(_with_weight_decay, lr=lr, weight_decay=weight_decay),
                new_updates, params)
        new_state = RMSpropState(
            count=optax.safe_int32_increment(state.count),
            nu=nu,
            mu=mu if centered else None,
            momentum=m if use_momentum else None,
        )
        return new_updates, new_state

    # Compiled, so that an eager ``update`` is one dispatch (optax's transformations run op by
    # op); inside the user's jitted step it is inlined.
    return init_fn, jax.jit(update_fn)


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


def _with_weight_decay(
    update: jax.Array, param: jax.Array, *, lr: jax.Array, weight_decay: Scalar
) -> jax.Array:
    """The update that takes ``θ`` to ``(θ - θ·wd·lr) + update``, Keras's two assignments.

    Keras first decays the variable (``θ₁ = θ - θ·wd·lr``, in the variable's dtype), then
    applies the RMSprop step to ``θ₁``. Returning ``θ₂ - θ`` rather than ``update - θ·wd·lr``
    makes ``optax.apply_updates`` land on Keras's ``θ₂`` exactly whenever ``θ₂ - θ`` is exact
    (``θ₂`` within a factor 2 of ``θ``: every ordinary step).
    """
    dtype = update.dtype
    theta = jnp.asarray(param).astype(dtype)
    decayed = theta - theta * jnp.asarray(weight_decay, dtype) * jnp.asarray(lr, dtype)
    return (decayed + update) - theta


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
    weight_decay: Any = None,
) -> None:
    """Raise ``TypeError``/``ValueError``, naming the argument, for values that mean nothing."""
    if not callable(learning_rate):
        _check_scalar("learning_rate", learning_rate, "a float or an optax schedule")
    for name, value in (("rho", rho), ("momentum", momentum), ("epsilon", epsilon)):
        _check_scalar(name, value, "a float")
    optional = (("clipvalue", clipvalue), ("clipnorm", clipnorm),
                ("global_clipnorm", global_clipnorm), ("weight_decay", weight_decay))
    for name, value in optional:
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
