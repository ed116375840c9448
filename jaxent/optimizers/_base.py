"""What every Keras 2 optimizer of jaxent shares: :class:`KerasOptimizer` and :func:`finalize_variable_values`.

A tf-keras optimizer is its update rule plus the same plumbing (``Optimizer`` in
``tf_keras/src/optimizers/optimizer.py``): the learning rate (a float held in float32, or a
schedule), gradient clipping, decoupled weight decay, the moving average of the weights
(``use_ema``), the step counter, the Keras-only arguments (``name``, ``jit_compile``,
``is_legacy_optimizer``...) and ``get_config``. :class:`KerasOptimizer` is that plumbing once; a
subclass gives its constructor (Keras's signature), its rule (an optax transformation, see
``_rmsprop.py``, ``_sgd.py``, ``_adam.py``) and its state type.
"""

from __future__ import annotations

import abc
import inspect
from typing import Any, ClassVar

import jax
import numpy as np
import optax

from jaxent import _validation
from jaxent._objects import Module
from jaxent.optimizers import schedules
from jaxent.optimizers._transforms import (
    EmaState,
    KerasChainState,
    LearningRate,
    Scalar,
    clip_gradients,
    decay_weights,
    keras_chain,
    track_ema,
)

__all__ = ["KerasOptimizer", "finalize_variable_values"]

BASE_CONFIG_KEYS = ("name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
                    "ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer",
                    "learning_rate")
"""The keys of tf-keras 2.21's ``Optimizer.get_config()`` in its order; a class's own follow."""


def number(x: Any) -> Any:
    """A Python or NumPy int as a float (Keras computes ints as floats); anything else as it is."""
    return float(x) if isinstance(x, (int, np.integer)) and not isinstance(x, bool) else x


class KerasOptimizer(Module):
    """Base of jaxent's Keras optimizers: a frozen object with Keras's arguments and optax's ``init``/``update``.

    ``update`` is :func:`~jaxent.optimizers._transforms.keras_chain` of
    ``clip_gradients → rule → decay_weights → track_ema`` (the last only with ``use_ema``). The
    state is the subclass's ``State`` NamedTuple: ``(count, *the rule's slots, ema)``, ``ema``
    the moving averages or None.

    A subclass defines ``__init__`` with Keras's signature, calling :meth:`_keras_init` for the
    shared arguments, and :meth:`_rule`; and the class attributes ``State`` (the state type),
    ``RuleState`` (its rule's state type) and ``CONFIG_KEYS`` (its own ``get_config`` keys after
    ``learning_rate``).
    """

    State: ClassVar[type]
    RuleState: ClassVar[type]
    CONFIG_KEYS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # inspect.signature (and so optax.inject_hyperparams) sees Keras's named arguments only:
        # the catch-all **kwargs exists to give Keras's errors for its removed arguments.
        cls.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [p for n, p in inspect.signature(cls.__init__).parameters.items() if n not in ("self", "kwargs")]
        )

    def _keras_init(
        self,
        learning_rate: LearningRate,
        *,
        weight_decay: Scalar | None,
        clipnorm: Scalar | None,
        clipvalue: Scalar | None,
        global_clipnorm: Scalar | None,
        use_ema: bool,
        ema_momentum: Scalar,
        ema_overwrite_frequency: int | None,
        jit_compile: bool,
        name: str,
        kwargs: dict[str, Any],
    ) -> None:
        """Check and set the arguments every Keras optimizer has (``Optimizer.__init__``)."""
        _check_keras_only(kwargs, name=name, class_name=type(self).__name__)
        check = _validation.check_hyperparameter
        if not callable(learning_rate):
            check("learning_rate", learning_rate, expected="a float or an optax schedule", low=0.0, arrays=True)
        self.learning_rate = learning_rate
        optional = dict(expected="a float or None", optional=True, arrays=True)
        self.weight_decay = check("weight_decay", weight_decay, low=0.0, **optional)
        self.clipnorm = check("clipnorm", clipnorm, **optional)
        self.clipvalue = check("clipvalue", clipvalue, **optional)
        self.global_clipnorm = check("global_clipnorm", global_clipnorm, **optional)
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(
                "At most one of `clipnorm` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, global_clipnorm={global_clipnorm}."
            )
        self.use_ema = _validation.check_flag("use_ema", use_ema)
        if use_ema:  # Keras checks these only with use_ema
            check("ema_momentum", ema_momentum, arrays=True)
            if not isinstance(ema_momentum, jax.core.Tracer) and not 0 <= float(ema_momentum) <= 1:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency is not None and (
                isinstance(ema_overwrite_frequency, bool) or not isinstance(ema_overwrite_frequency, (int, np.integer))
                or ema_overwrite_frequency < 0
            ):
                raise ValueError(
                    "`ema_overwrite_frequency` must be an integer > 1 or None. "
                    f"Received: ema_overwrite_frequency={ema_overwrite_frequency}"
                )
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.jit_compile = jit_compile
        self.name = name

    # --- optax -----------------------------------------------------------------------------

    @abc.abstractmethod
    def _rule(self) -> optax.GradientTransformationExtraArgs:
        """The optimizer's own update rule (needs ``learning_rate=``, maybe ``count=``)."""

    def _chain(self) -> optax.GradientTransformationExtraArgs:
        """Keras's steps as optax pieces; built per call (closures only, nothing compiled)."""
        pieces = [
            clip_gradients(number(self.clipnorm), number(self.clipvalue), number(self.global_clipnorm)),
            self._rule(),
            decay_weights(number(self.weight_decay)),
        ]
        if self.use_ema:
            pieces.append(track_ema(number(self.ema_momentum), self.ema_overwrite_frequency))
        return keras_chain(self.learning_rate, *pieces)

    def _pack(self, state: KerasChainState) -> Any:
        ema = state.inner[3].average if self.use_ema else None
        return self.State(state.count, *state.inner[1], ema)

    def _unpack(self, state: Any) -> KerasChainState:
        inner = [optax.EmptyState(), self.RuleState(*state[1:-1]), optax.EmptyState()]
        if self.use_ema:
            inner.append(EmaState(state[-1]))
        return KerasChainState(state[0], tuple(inner))

    def init(self, params: optax.Params) -> Any:
        """The count, zero slots (and with ``use_ema`` the averages, equal to ``params``) (optax's ``init``)."""
        return self._pack(self._chain().init(params))

    def update(
        self, updates: optax.Updates, state: Any, params: optax.Params | None = None, **extra_args: Any
    ) -> tuple[optax.Updates, Any]:
        """The updates to add to ``params`` and the next state (optax's ``update``).

        ``params`` is needed with ``weight_decay`` and ``use_ema``; extra keyword arguments are
        ignored.
        """
        if params is None and (self.weight_decay is not None or self.use_ema):
            option = "weight_decay" if self.weight_decay is not None else "use_ema"
            raise ValueError(f"{type(self).__name__}({option}=...) needs the parameters: "
                             "call update(grads, state, params).")
        updates, new = self._chain().update(updates, self._unpack(state), params)
        return updates, self._pack(new)

    def as_optax(self) -> optax.GradientTransformationExtraArgs:
        """This optimizer as a real ``optax.GradientTransformationExtraArgs`` (same ``init``/``update``).

        For code that checks ``isinstance(tx, optax.GradientTransformation)``; optax's own
        combinators take the object directly.
        """
        return optax.GradientTransformationExtraArgs(self.init, self.update)

    # --- Keras -----------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """tf-keras 2.21's ``get_config()``: same keys, order and values.

        A float learning rate comes back as a NumPy float32 (Keras holds it in a float32
        variable), a schedule as ``schedules.serialize(schedule)``'s dict.

        Raises:
          TypeError: the learning rate is a plain optax schedule (no Keras config) or traced.
        """
        config = {key: getattr(self, key) for key in BASE_CONFIG_KEYS + self.CONFIG_KEYS
                  if key != "is_legacy_optimizer"}
        config["is_legacy_optimizer"] = False
        config["learning_rate"] = _serialize_learning_rate(self.learning_rate)
        return {key: config[key] for key in BASE_CONFIG_KEYS + self.CONFIG_KEYS}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        """The optimizer a :meth:`get_config` dict (jaxent's or tf-keras's) describes.

        A ``learning_rate`` dict is deserialized with :func:`schedules.deserialize`.
        """
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self)).parameters
        shown = (f"{key}={getattr(self, key)!r}" for key, param in defaults.items()
                 if not _is_default(getattr(self, key), param.default))
        return f"{type(self).__name__}({', '.join(shown)})"


def _is_keras_state(x: Any) -> bool:
    fields = getattr(type(x), "_fields", None)
    return bool(fields) and fields[0] == "count" and fields[-1] == "ema"


def finalize_variable_values(params: optax.Params, opt_state: Any) -> optax.Params:
    """``params`` with the moving averages of a ``use_ema`` optimizer swapped in.

    What Keras does at the end of ``fit`` (``Optimizer.finalize_variable_values``): every
    parameter is set to its moving average. ``opt_state`` is the state of a jaxent optimizer,
    or a state that contains exactly one (``optax.inject_hyperparams``, ``optax.MultiSteps``...).
    Without ``use_ema`` it returns ``params`` unchanged, as Keras does.

    Formula: ``θ ← avg`` for every parameter.

    Args:
      params: the parameters (the pytree the optimizer was initialised with).
      opt_state: the optimizer state.

    Returns:
      A pytree like ``params``: the averages (in each parameter's dtype), or ``params``.

    Raises:
      ValueError: ``opt_state`` holds no jaxent optimizer state, or several.

    Example:
      >>> import jax.numpy as jnp, optax
      >>> from jaxent.optimizers import SGD, finalize_variable_values
      >>> opt = SGD(0.1, use_ema=True, ema_momentum=0.5)
      >>> params = jnp.array(1.0)
      >>> updates, state = opt.update(jnp.array(1.0), opt.init(params), params)
      >>> params = optax.apply_updates(params, updates)
      >>> print(params, finalize_variable_values(params, state))  # avg = 0.5·1 + 0.5·0.9
      0.9 0.95

    Keras: ``Optimizer.finalize_variable_values`` (tf-keras 2.21).
    """
    found = [x for x in jax.tree.leaves(opt_state, is_leaf=_is_keras_state) if _is_keras_state(x)]
    if len(found) != 1:
        raise ValueError(
            f"finalize_variable_values needs the state of one jaxent optimizer; found {len(found)} "
            f"in {type(opt_state).__name__}."
        )
    average = found[0].ema
    if average is None:
        return params
    return jax.tree.map(lambda a, p: jax.numpy.asarray(a).astype(jax.numpy.asarray(p).dtype), average, params)


# --- helpers -------------------------------------------------------------------------------


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


def _check_keras_only(kwargs: dict[str, Any], *, name: Any, class_name: str) -> None:
    """Keras's checks of the extra keyword arguments, and jaxent's of what it lacks."""
    kwargs = dict(kwargs)
    kwargs.pop("is_legacy_optimizer", None)  # written by get_config; Keras drops it too
    if kwargs.get("mesh") is None:
        kwargs.pop("mesh", None)  # Keras's DTensor mesh: None is the default
    if kwargs.get("lr") is not None:
        raise ValueError(
            f"`lr` is deprecated in TF-Keras optimizer, and tf-keras >= 2.11 ignores it: it logs "
            f"a warning and trains with learning_rate (its default unless given), not "
            f"lr={kwargs['lr']}. Pass learning_rate= instead (drop lr= to keep what tf-keras did)."
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
                f"tf.keras.optimizers.legacy.{class_name}.{hint}"
            )
        if key == "mesh":
            raise ValueError(f"`mesh` (Keras's DTensor layout) is not supported: {class_name} is "
                             "elementwise, so shard the parameters with jax.sharding instead.")
        raise TypeError(
            f"{key} is not a valid argument, kwargs should be empty  for "
            "`optimizer_experimental.Optimizer`."
        )
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a string. Received: name={name!r}.")
