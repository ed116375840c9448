"""Keras 2's learning-rate schedules as optax schedules (``keras.optimizers.schedules``).

Each class takes tf-keras 2.21's constructor arguments with its defaults, is an immutable,
hashable configuration object, and is called on the optimizer's step count like any optax
schedule: ``schedule(count) -> learning rate``, a float32 array computed in float32 with
Keras's order of operations (so values agree with tf-keras to float32 rounding). ``count`` is
an int32 array (optax's counters, :class:`jaxent.optimizers.RMSpropState`'s ``count``), a
Python int, or an array of steps (the schedules are elementwise). They work under ``jax.jit``
and ``jax.vmap`` and add nothing but a few arithmetic ops to a training step.

Pass one as the learning rate of :func:`jaxent.optimizers.rmsprop` /
:class:`jaxent.optimizers.RMSprop` (which evaluate it at the count *before* the update, as
Keras does: the first update uses ``schedule(0)``), or of any optax optimizer.

Configs: ``get_config()`` returns tf-keras's dict, ``Class.from_config(config)`` rebuilds the
schedule, and :func:`serialize` / :func:`deserialize` use Keras's ``{"module":
"keras.optimizers.schedules", "class_name", "config", "registered_name"}`` form (which is also
how :meth:`jaxent.optimizers.RMSprop.get_config` stores a schedule learning rate).

Deliberate differences from tf-keras (each checked at construction):

1. Values are always float32. tf-keras computes in the dtype of ``initial_learning_rate``
   (an integer one makes ``ExponentialDecay`` fail and ``PolynomialDecay`` compute in
   integers); integer ``PiecewiseConstantDecay`` values give an int32 learning rate there,
   which its optimizer then casts to float, giving the same numbers as here.
2. ``decay_steps`` / ``first_decay_steps`` must be > 0 and ``PiecewiseConstantDecay``'s
   boundaries non-decreasing (tf-keras accepts them and returns NaN or inf, or fails at the
   first call); ``t_mul`` must be > 0 and ``warmup_steps`` >= 0.
"""

from __future__ import annotations

import abc
import inspect
import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxent import _serialization, _validation
from jaxent._objects import Module

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]


class LearningRateSchedule(Module):
    """Base class: a schedule is called on the step count and has a Keras config.

    A frozen :class:`jaxent._objects.Module` without arrays: equal by value (types included),
    hashable, usable as a static argument of ``jax.jit``, picklable. Subclasses set their
    constructor arguments as attributes of the same names and define ``__call__(step)``;
    ``get_config()`` returns those attributes in the constructor's order, and
    ``from_config(config)`` calls the constructor with the config's entries (as
    ``keras.optimizers.schedules.LearningRateSchedule`` does).
    """

    @abc.abstractmethod
    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        """The learning rate at ``step`` (float32, the shape of ``step``)."""

    def get_config(self) -> dict[str, Any]:
        """tf-keras 2.21's config dict of this schedule: the constructor's arguments, in order."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        return {n: getattr(self, n) for n in names}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """The schedule that ``config`` (a :meth:`get_config` dict) describes."""
        return cls(**config)


# --- float32 arithmetic in Keras's order ----------------------------------------------------
#
# Keras evaluates each schedule op by op, every op rounded to float32. Under jit, XLA rewrites
# ``x / constant`` and ``x / broadcast(y)`` (vmap makes those) into ``x * (1/y)``, folds
# constants together, and the CPU backend contracts ``a·b + c`` into a fused multiply-add.
# Each moves a value by an ulp, and where a floor or ceil follows (staircase, cycle, SGDR's
# restart index) by a whole step. The helpers below keep the operands out of those rewrites
# at no run-time cost; divisions are then exact, and the remaining contractions (which LLVM
# still finds in a few products) cost at most 1 ulp of the schedule's largest value.

_PI = np.float32(math.pi)


def _c(x: Any) -> jax.Array:
    """A float32 constant that XLA does not fold into the ops around it."""
    return jax.lax.optimization_barrier(jnp.asarray(x, jnp.float32))


def _div(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a / b`` as a true float32 division (never a multiplication by a reciprocal).

    The divisor goes through a select that depends on ``a`` (NaN only where ``a`` is NaN, where
    the quotient is NaN anyway) and a barrier, so it has ``a``'s shape and batch dimensions and
    is neither a constant nor a broadcast, even under ``vmap``.
    """
    return a / jax.lax.optimization_barrier(jnp.where(a == a, b, jnp.nan))


def _mul(a: jax.Array, b: jax.Array) -> jax.Array:
    """``a · b`` meant to be rounded on its own before an add (Keras's two roundings).

    The identity select (NaN stays NaN) separates the product from the add that follows, which
    stops most fused multiply-add contractions.
    """
    product = a * b
    return jnp.where(product == product, product, jnp.nan)


def _step(step: jax.typing.ArrayLike) -> jax.Array:
    """The step as float32, as Keras casts ``iterations`` (``tf.cast(step, float32)``)."""
    return jnp.asarray(step).astype(jnp.float32)


def _half_cosine(fraction: jax.Array) -> jax.Array:
    """``0.5·(1 + cos(π·fraction))`` in float32."""
    return _c(0.5) * (_c(1.0) + jnp.cos(_c(_PI) * fraction))


# --- argument checks (the one path: jaxent._validation) -------------------------------------


def _number(name: str, value: Any, **bounds: Any) -> Any:
    """A finite real number (a Python or NumPy scalar), returned as given."""
    return _validation.check_hyperparameter(name, value, expected="a real number", **bounds)


def _positive(name: str, value: Any) -> Any:
    return _number(name, value, low=0.0, low_open=True)


def _as_tuple(values: Sequence[Any]) -> tuple[Any, ...]:
    """``values`` as a tuple of Python numbers (hashable; NumPy scalars unwrapped)."""
    if isinstance(values, (np.ndarray, jax.Array)):
        return tuple(np.asarray(values).ravel().tolist())
    return tuple(v.item() if isinstance(v, np.generic) else v for v in values)


class _StepDecay(LearningRateSchedule):
    """The arguments of the decays driven by ``step / decay_steps`` (exponential, inverse time)."""

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: str | None = None) -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.decay_rate = _number("decay_rate", decay_rate)
        self.staircase = _validation.check_flag("staircase", staircase)
        self.name = _validation.check_name(name)

    def _exponent(self, step: jax.typing.ArrayLike) -> jax.Array:
        """``step / decay_steps``, floored with ``staircase``."""
        p = _div(_step(step), _c(self.decay_steps))
        return jnp.floor(p) if self.staircase else p


# --- the schedules ---------------------------------------------------------------------------


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate · decay_rate ** (step / decay_steps)`` (``keras.optimizers.schedules.ExponentialDecay``).

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``, so the rate drops
    every ``decay_steps`` steps. Computed in float32: ``lr0 · pow(rate, step / decay_steps)``.

    Example::

      >>> from jaxent.optimizers.schedules import ExponentialDecay
      >>> s = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
      >>> print(s(0), s(5), s(10))
      0.1 0.07071068 0.05
      >>> print(ExponentialDecay(0.1, 10, 0.5, staircase=True)(19))
      0.05
    """

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        return _c(self.initial_learning_rate) * jnp.power(_c(self.decay_rate), self._exponent(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` on the ``i``-th interval of ``boundaries`` (``keras.optimizers.schedules.PiecewiseConstantDecay``).

    ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] <
    step <= boundaries[i]``, ``values[-1]`` after ``boundaries[-1]`` (each boundary belongs to
    the interval *before* it). As in Keras, boundaries are compared in the step's dtype: for an
    integer step count (the optimizer's) a float boundary is truncated toward zero (``10.5``
    acts as ``10``). Boundaries must be non-decreasing.

    Example::

      >>> from jaxent.optimizers.schedules import PiecewiseConstantDecay
      >>> s = PiecewiseConstantDecay(boundaries=[100, 200], values=[1.0, 0.5, 0.1])
      >>> print(s(100), s(101), s(200), s(201))
      1.0 0.5 0.5 0.1
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float],
                 name: str | None = None) -> None:
        boundaries, values = _as_tuple(boundaries), _as_tuple(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={list(boundaries)} of length {len(boundaries)}, and "
                f"values={list(values)} of length {len(values)}."
            )
        for i, b in enumerate(boundaries):
            _number(f"boundaries[{i}]", b)
        for i, v in enumerate(values):
            _number(f"values[{i}]", v)
        if any(b > c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"`boundaries` must be non-decreasing. Received: boundaries={list(boundaries)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = _validation.check_name(name)

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": list(self.boundaries), "values": list(self.values),
                "name": self.name}

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        step = jnp.asarray(step)
        if jnp.issubdtype(step.dtype, jnp.integer):
            info = jnp.iinfo(step.dtype)
            # Keras casts each boundary to the step's integer dtype (truncation); clamping to
            # the dtype's range keeps every comparison with a representable step the same.
            bounds = [min(max(math.trunc(b), int(info.min)), int(info.max))
                      for b in self.boundaries]
            bounds = np.asarray(bounds, step.dtype)
        else:
            bounds = np.asarray(self.boundaries, step.dtype)
        # the number of boundaries strictly below the step is the index of its interval
        index = jnp.sum(step[..., None] > bounds, axis=-1)
        return jnp.asarray(self.values, jnp.float32)[index]


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate`` (``keras.optimizers.schedules.PolynomialDecay``).

    ``(lr0 - end) · (1 - step / decay_steps) ** power + end``, with the step capped at
    ``decay_steps`` (the rate then stays at ``end``). With ``cycle=True`` the step is not
    capped; instead ``decay_steps`` is multiplied by ``ceil(step / decay_steps)`` (1 at step 0),
    so the rate jumps back up after each multiple of ``decay_steps``.

    Example::

      >>> from jaxent.optimizers.schedules import PolynomialDecay
      >>> s = PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.01)
      >>> print(s(0), s(50), s(100), s(150))
      0.1 0.055 0.01 0.01
      >>> print(PolynomialDecay(0.1, 100, 0.01, cycle=True)(150))
      0.0325
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str | None = None) -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.end_learning_rate = _number("end_learning_rate", end_learning_rate)
        self.power = _number("power", power)
        self.cycle = _validation.check_flag("cycle", cycle)
        self.name = _validation.check_name(name)

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        s, decay_steps = _step(step), _c(self.decay_steps)
        if self.cycle:
            multiplier = jnp.where(s == 0, _c(1.0), jnp.ceil(_div(s, decay_steps)))
            decay_steps = decay_steps * multiplier
        else:
            s = jnp.minimum(s, decay_steps)
        p = _div(s, decay_steps)
        lr0, end = _c(self.initial_learning_rate), _c(self.end_learning_rate)
        return _mul(lr0 - end, jnp.power(_c(1.0) - p, _c(self.power))) + end


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate · step / decay_steps)`` (``keras.optimizers.schedules.InverseTimeDecay``).

    With ``staircase=True``, ``step / decay_steps`` is floored. (tf-keras's legacy optimizers'
    ``decay=d`` argument is ``InverseTimeDecay(lr, decay_steps=1, decay_rate=d)``.)

    Example::

      >>> from jaxent.optimizers.schedules import InverseTimeDecay
      >>> s = InverseTimeDecay(0.1, decay_steps=10, decay_rate=0.5)
      >>> print(s(0), s(10), s(15))
      0.1 0.06666667 0.057142857
    """

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        return _div(_c(self.initial_learning_rate), _c(1.0) + _mul(_c(self.decay_rate), self._exponent(step)))


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with optional linear warmup (``keras.optimizers.schedules.CosineDecay``).

    Without warmup (``warmup_target=None``)::

        lr(step) = lr0 · ((1 - alpha) · 0.5 · (1 + cos(π · min(step, decay_steps) / decay_steps)) + alpha)

    With ``warmup_target``: the rate rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps`` steps (``lr0 + (target - lr0) · step /
    warmup_steps``), then decays from ``warmup_target`` as above, the step counted from the
    end of the warmup and capped at ``decay_steps``. ``warmup_steps`` is ignored when
    ``warmup_target`` is None (as in Keras).

    Example::

      >>> from jaxent.optimizers.schedules import CosineDecay
      >>> s = CosineDecay(0.1, decay_steps=100)
      >>> print(s(0), s(50), s(100), s(200))  # float32 cos(π/2) is not 0: Keras's digits too
      0.1 0.049999997 0.0 0.0
      >>> w = CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
      >>> print(w(5), w(10), w(60))
      0.05 0.1 0.049999997
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 name: str | None = None, warmup_target: float | None = None, warmup_steps: float = 0) -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.alpha = _number("alpha", alpha)
        self.name = _validation.check_name(name)
        self.warmup_target = _validation.check_hyperparameter(
            "warmup_target", warmup_target, expected="a real number or None", optional=True)
        self.warmup_steps = _number("warmup_steps", warmup_steps, low=0.0)

    def _decay(self, s: jax.Array, decay_steps: jax.Array, decay_from: jax.Array) -> jax.Array:
        # Keras forms (1 - alpha) from the Python float before rounding it to float32
        decayed = _mul(_c(1 - self.alpha), _half_cosine(_div(s, decay_steps))) + _c(self.alpha)
        return decay_from * decayed

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        s, decay_steps = _step(step), _c(self.decay_steps)
        lr0 = _c(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(jnp.minimum(s, decay_steps), decay_steps, lr0)
        target, warmup_steps = _c(self.warmup_target), _c(self.warmup_steps)
        s = jnp.minimum(s, decay_steps + warmup_steps)
        warming = _mul(target - lr0, _div(s, warmup_steps)) + lr0
        return jnp.where(s < warmup_steps, warming,
                         self._decay(s - warmup_steps, decay_steps, target))


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts, SGDR (``keras.optimizers.schedules.CosineDecayRestarts``).

    The first period lasts ``first_decay_steps`` steps, each next one ``t_mul`` times longer;
    period ``i`` starts at ``m_mul ** i · initial_learning_rate`` and decays along a half
    cosine towards ``alpha · initial_learning_rate``::

        lr = lr0 · ((1 - alpha) · m_mul**i · 0.5 · (1 + cos(π · f)) + alpha)

    where ``i`` is the period index and ``f`` the fraction of it elapsed (for ``t_mul != 1``
    found from the geometric series, ``i = floor(log(1 - (step/first)(1 - t_mul)) /
    log(t_mul))``, in float32 as Keras computes it).

    Example::

      >>> from jaxent.optimizers.schedules import CosineDecayRestarts
      >>> s = CosineDecayRestarts(0.1, first_decay_steps=10)
      >>> print(s(0), s(5), s(10), s(20), s(30))  # restarts at 10 and 30 (periods 10, 20)
      0.1 0.049999997 0.1 0.049999997 0.1
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: float, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str | None = None) -> None:
        self.initial_learning_rate = _number("initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _positive("first_decay_steps", first_decay_steps)
        self.t_mul = _positive("t_mul", t_mul)
        self.m_mul = _number("m_mul", m_mul)
        self.alpha = _number("alpha", alpha)
        self.name = _validation.check_name(name)

    def __call__(self, step: jax.typing.ArrayLike) -> jax.Array:
        fraction = _div(_step(step), _c(self.first_decay_steps))
        t_mul, m_mul, alpha, one = _c(self.t_mul), _c(self.m_mul), _c(self.alpha), _c(1.0)
        if np.float32(self.t_mul) == 1:  # Keras's tf.cond(t_mul == 1), decided in float32
            restart = jnp.floor(fraction)
            fraction = fraction - restart
        else:
            restart = jnp.floor(_div(jnp.log(one - _mul(fraction, one - t_mul)), jnp.log(t_mul)))
            elapsed = _div(one - jnp.power(t_mul, restart), one - t_mul)
            fraction = _div(fraction - elapsed, jnp.power(t_mul, restart))
        cosine = _c(0.5) * jnp.power(m_mul, restart) * (one + jnp.cos(_c(_PI) * fraction))
        return _c(self.initial_learning_rate) * (_mul(one - alpha, cosine) + alpha)


# --- serialization ---------------------------------------------------------------------------

_KERAS_ONLY = ("tf-keras has it, jaxent does not; an optax schedule (a callable of the step "
               "count, e.g. optax.cosine_decay_schedule or your own function) can be passed "
               "as the learning rate instead")

REGISTRY = _serialization.Registry(
    kind="decay",
    module="keras.optimizers.schedules",
    objects={cls.__name__: cls for cls in (
        ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
        CosineDecay, CosineDecayRestarts)},
    instance_types=(LearningRateSchedule,),
    unsupported={"LinearCosineDecay": _KERAS_ONLY, "NoisyLinearCosineDecay": _KERAS_ONLY},
)
"""Keras's schedule class names (exact case, as ``keras.optimizers.schedules.deserialize``)."""


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``keras.optimizers.schedules.serialize``: the schedule as a Keras dict.

    Example::

      >>> from jaxent.optimizers.schedules import ExponentialDecay, serialize
      >>> serialize(ExponentialDecay(0.1, 10, 0.5))  # doctest: +NORMALIZE_WHITESPACE
      {'module': 'keras.optimizers.schedules', 'class_name': 'ExponentialDecay',
       'config': {'initial_learning_rate': 0.1, 'decay_steps': 10, 'decay_rate': 0.5,
                  'staircase': False, 'name': None}, 'registered_name': None}
    """
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            "Only jaxent.optimizers.schedules objects have a Keras config. Received: "
            f"{schedule!r} (of type {type(schedule).__name__}); a plain optax schedule cannot "
            "be serialized."
        )
    return _serialization.serialize(schedule, REGISTRY)


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """``keras.optimizers.schedules.deserialize``: the schedule a Keras dict describes.

    Accepts both tf-keras formats (with or without ``module`` / ``registered_name``); class
    names are matched exactly, as in Keras.

    Example::

      >>> from jaxent.optimizers.schedules import deserialize
      >>> deserialize({"class_name": "CosineDecay",
      ...              "config": {"initial_learning_rate": 0.1, "decay_steps": 100}})
      CosineDecay(initial_learning_rate=0.1, decay_steps=100, alpha=0.0, name=None, warmup_target=None, warmup_steps=0)
    """
    if not isinstance(config, dict):
        raise TypeError(f"A schedule config must be a dict. Received: {config!r}.")
    return _serialization.deserialize(config, REGISTRY)
