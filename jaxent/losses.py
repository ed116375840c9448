"""Keras 2 loss functions and Loss classes (``tf.keras.losses``).

Functions return per-sample losses (one axis reduced); each is compiled with its options
static and its inputs converted to arrays first. Loss classes are immutable configuration:
calling one squeezes a trailing axis of size 1 the Keras way, computes the per-sample losses,
then weights and reduces them through the one shared path of :mod:`jaxent._reduction`.
Everything computes 16-bit inputs in float32 and returns the dtype of ``y_pred`` (float32
for integer ``y_pred``). The formulas live in :mod:`jaxent._formulas`.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import jax

from jaxent import _formulas, _reduction, _serialization, _validation, backend
from jaxent._inputs import as_array, as_optional_array, jit_entry
from jaxent._numerics import result_dtype
from jaxent._objects import Module, split_keyword_arrays
from jaxent._reduction import Reduction, reduce_losses, squeeze_last
from jaxent.fused_ce import LinearSparseCategoricalCrossentropy

__all__ = [
    "Reduction",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "mse",
    "MSE",
    "mae",
    "MAE",
    "Loss",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "LinearSparseCategoricalCrossentropy",
    "LossFunctionWrapper",
    "get",
    "serialize",
    "deserialize",
]


# Public functions.


@jit_entry(static=("from_logits", "label_smoothing", "axis"))
def categorical_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Categorical cross entropy per sample (``keras.losses.categorical_crossentropy``).

    ``y_true`` is cast to ``y_pred``'s dtype and smoothed, ``y = y * (1 - ls) + ls / C``, then
    :func:`jaxent.backend.categorical_crossentropy` is applied: probabilities are normalised
    then clipped to ``[1e-7, 1 - 1e-7]``, ``loss = -sum(y * log(p), axis)``.

    Args:
      y_true: one-hot (or soft) targets, the shape of ``y_pred``.
      y_pred: probabilities or, with ``from_logits=True``, logits.
      from_logits: whether ``y_pred`` holds logits.
      label_smoothing: in ``[0, 1]`` (Keras accepts any float; jaxent raises ``ValueError``).
      axis: the class axis.

    Example:
      >>> categorical_crossentropy(jnp.array([[0, 1, 0], [0, 0, 1]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array([0.05129331, 2.3025851 ], dtype=float32)
    """
    options = _validation.check_options({"from_logits": from_logits, "label_smoothing": label_smoothing})
    values = _formulas.categorical_ce_per_sample(y_true, y_pred, options["from_logits"], options["label_smoothing"], axis)
    return values.astype(result_dtype(y_pred.dtype))


def sparse_categorical_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
    *,
    check_labels: bool = False,
) -> jax.Array:
    """Categorical cross entropy with integer labels (``keras.losses.sparse_categorical_crossentropy``).

    Exactly :func:`jaxent.backend.sparse_categorical_crossentropy`: probabilities are clipped,
    logged and renormalised; ``ignore_class`` positions get 0.

    Example (Keras 2 gives ``[0.05129344, 2.3025851]``; jaxent's first value, 0.05129343, is 4
    float32 ulps below: the renormalisation subtracts log-probabilities of size ~1 and both round
    at that scale, so the example checks Keras's values to 2 float32 ulps of 1):
      >>> import numpy as np
      >>> loss = sparse_categorical_crossentropy(jnp.array([1, 2]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      >>> np.testing.assert_allclose(loss, [0.05129344, 2.3025851], atol=2.4e-7)
    """
    return backend.sparse_categorical_crossentropy(
        y_true, y_pred, from_logits=from_logits, axis=axis, ignore_class=ignore_class, check_labels=check_labels
    )


@jit_entry(static=("from_logits", "label_smoothing", "axis"))
def binary_crossentropy(
    y_true: jax.typing.ArrayLike,
    y_pred: jax.typing.ArrayLike,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:
    """Binary cross entropy averaged over ``axis`` (``keras.losses.binary_crossentropy``).

    ``y = y_true * (1 - ls) + 0.5 * ls``, then ``mean(backend.binary_crossentropy(y, y_pred), axis)``
    with Keras's clip-and-add epsilon on probabilities, or the stable logits form.

    Example:
      >>> binary_crossentropy(jnp.array([[0, 1], [0, 0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
      Array([0.9162905 , 0.71355796], dtype=float32)
    """
    options = _validation.check_options({"from_logits": from_logits, "label_smoothing": label_smoothing})
    values = _formulas.binary_ce_per_sample(y_true, y_pred, options["from_logits"], options["label_smoothing"], axis)
    return values.astype(result_dtype(y_pred.dtype))


@jit_entry()
def mean_squared_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``mean((y_pred - y_true)**2, axis=-1)`` (``keras.losses.mean_squared_error``).

    Shapes broadcast. Integer ``y_pred`` is computed in float32 (Keras truncates to integers).

    Example:
      >>> mean_squared_error(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array([0.5, 0.5], dtype=float32)
    """
    return _formulas.squared_error_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


@jit_entry()
def mean_absolute_error(y_true: jax.typing.ArrayLike, y_pred: jax.typing.ArrayLike) -> jax.Array:
    """``mean(|y_pred - y_true|, axis=-1)`` (``keras.losses.mean_absolute_error``).

    The gradient at ``y_pred == y_true`` is 0, as in TF.

    Example:
      >>> mean_absolute_error(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array([0.5, 0.5], dtype=float32)
    """
    return _formulas.absolute_error_per_sample(y_true, y_pred).astype(result_dtype(y_pred.dtype))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


# Loss classes.


@dataclasses.dataclass(frozen=True, eq=False)
class Loss(Module):
    """Base of the Loss classes (``tf.keras.losses.Loss``): per-sample losses, weighted and reduced.

    Subclasses define :meth:`call`, the per-sample losses. Instances are frozen pytrees
    (:class:`jaxent._objects.Module`): pass one to :func:`jax.jit` as an ordinary argument,
    close over it, or (without array attributes) pass it as a static argument; all three give
    its own numbers. A subclass may set its own attributes in ``__init__``, the Keras way
    (``self.scale = scale``): arrays become pytree leaves, other values static configuration;
    afterwards the object is frozen (``loss.replace(scale=...)`` gives a changed copy).

    ``loss(y_true, y_pred, sample_weight=None)`` squeezes a trailing axis of size 1 (the Keras
    rule), weights the per-sample losses by ``sample_weight`` (scalar, ``[B]``, ``[B, 1]``,
    per-timestep ``[B, T]`` or the losses' shape) and reduces them by ``reduction``:
    ``"auto"``/``"sum_over_batch_size"`` = weighted sum / number of entries, ``"sum"``,
    ``"none"``. Entries with weight 0 contribute nothing, even if NaN.

    Example:
      >>> class Hinge(Loss):
      ...     def call(self, y_true, y_pred):
      ...         return jnp.mean(jnp.maximum(1 - y_true * y_pred, 0), axis=-1)
      >>> Hinge(reduction="sum")(jnp.array([[1.0], [-1.0]]), jnp.array([[0.5], [0.5]]))
      Array(2., dtype=float32)
    """

    reduction: Reduction | str = dataclasses.field(default=Reduction.AUTO, kw_only=True)
    name: str | None = dataclasses.field(default=None, kw_only=True)

    keras_function: ClassVar[str | None] = None
    """The name of the Keras loss function a built-in class wraps (its config's ``"fn"``)."""

    def __post_init__(self) -> None:
        options = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for name, value in _validation.check_options(options).items():
            object.__setattr__(self, name, value)

    def get_config(self) -> dict[str, Any]:
        """tf-keras 2.21's config: ``reduction``, ``name``, the options, and ``fn`` for a built-in loss.

        A subclass with attributes of its own overrides this, as in Keras.

        Example:
          >>> CategoricalCrossentropy(label_smoothing=0.1).get_config()
          {'reduction': 'auto', 'name': 'categorical_crossentropy', 'from_logits': False, 'label_smoothing': 0.1, 'axis': -1, 'fn': 'categorical_crossentropy'}
        """
        config = _serialization.fields_config(self)
        if self.keras_function is not None:
            config["fn"] = self.keras_function
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Loss":
        """The loss a :meth:`get_config` dict describes (Keras's ``"fn"`` entry is accepted and ignored)."""
        return cls(**{name: value for name, value in config.items() if name != "fn"})

    @abc.abstractmethod
    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        """Per-sample losses for ``y_true`` and ``y_pred`` (unweighted, unreduced)."""

    def losses_and_mask(self, y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array | None]:
        """Per-sample losses and the mask of entries that count (None: all of them)."""
        return self.call(y_true, y_pred), None

    def __call__(
        self,
        y_true: jax.typing.ArrayLike,
        y_pred: jax.typing.ArrayLike,
        sample_weight: jax.typing.ArrayLike | None = None,
    ) -> jax.Array:
        return _reduced_loss(
            self, as_array(y_true, "y_true"), as_array(y_pred, "y_pred"), as_optional_array(sample_weight, "sample_weight")
        )


@jax.jit
def _reduced_loss(loss: Loss, y_true: jax.Array, y_pred: jax.Array, sample_weight: jax.Array | None) -> jax.Array:
    """A Loss call: the loss is a pytree argument, so JAX's cache keys its static configuration."""
    y_true, y_pred = squeeze_last(y_true, y_pred)
    y_true, y_pred = _mask_weightless_inputs(loss, y_true, y_pred, sample_weight)
    losses, mask = loss.losses_and_mask(y_true, y_pred)
    return reduce_losses(losses, sample_weight, loss.reduction, mask).astype(result_dtype(y_pred.dtype))


def _mask_weightless_inputs(
    loss: Loss, y_true: jax.Array, y_pred: jax.Array, sample_weight: jax.Array | None
) -> tuple[jax.Array, jax.Array]:
    """The "double where" of :func:`jaxent._reduction.mask_weightless_inputs` for jaxent's own losses."""
    if isinstance(loss, LossFunctionWrapper):
        computations, axis = (loss.fn,), dict(loss.fn_kwargs).get("axis", -1)
    else:
        computations, axis = (type(loss).call, type(loss).losses_and_mask), getattr(loss, "axis", -1)
    return _reduction.mask_weightless_inputs(loss.losses_and_mask, computations, axis, y_true, y_pred, sample_weight)


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class LossFunctionWrapper(Loss):
    """A per-sample loss function as a Loss class (``tf.keras.losses.LossFunctionWrapper``).

    ``LossFunctionWrapper(fn, reduction="auto", name=None, **kwargs)`` weights and reduces
    ``fn(y_true, y_pred, **kwargs)`` as every Loss class does; it is what Keras's ``compile``
    makes of a loss given as a function or a name (``losses.get("mse")`` is the function).

    Example:
      >>> loss = LossFunctionWrapper(mean_squared_error, reduction="sum")
      >>> loss(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(1., dtype=float32)
    """

    fn: Callable[..., jax.Array] | None = dataclasses.field(
        default=None, kw_only=True, repr=False, metadata={"keras_config": False}
    )
    fn_kwargs: tuple[tuple[str, Any], ...] = dataclasses.field(
        default=(), kw_only=True, repr=False, metadata={"keras_config": False}
    )
    fn_arrays: dict[str, jax.Array] | None = dataclasses.field(
        default=None, kw_only=True, repr=False, metadata={"keras_config": False}
    )

    def __init__(
        self, fn: Callable[..., jax.Array], reduction: Reduction | str = Reduction.AUTO, name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"`fn` must be a function of (y_true, y_pred). Received: fn={fn!r}")
        fn_kwargs, fn_arrays = split_keyword_arrays(kwargs)
        for field, value in (("fn", fn), ("fn_kwargs", fn_kwargs), ("fn_arrays", fn_arrays), ("reduction", reduction),
                             ("name", name)):
            object.__setattr__(self, field, value)
        self.__post_init__()

    def get_config(self) -> dict[str, Any]:
        """``reduction``, ``name``, ``fn`` (the function's name, as Keras writes it) and its keyword arguments."""
        return {**_serialization.fields_config(self), "fn": self.fn.__name__, **self.keyword_arguments()}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Loss":
        """The loss of a :meth:`get_config` dict; ``fn`` names a loss function (or is one)."""
        config = dict(config)
        return cls(get(config.pop("fn")), **config)

    def keyword_arguments(self) -> dict[str, Any]:
        """The keyword arguments ``fn`` is called with, in the order they were given."""
        return {**dict(self.fn_kwargs), **(self.fn_arrays or {})}

    def call(self, y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
        return self.fn(y_true, y_pred, **self.keyword_arguments())


@dataclasses.dataclass(frozen=True, eq=False)
class _SmoothedCrossentropy(Loss):
    """The options shared by the categorical and binary cross entropy classes."""

    from_logits: bool = False
    label_smoothing: float = 0.0
    axis: int = -1


@dataclasses.dataclass(frozen=True, eq=False)
class CategoricalCrossentropy(_SmoothedCrossentropy):
    """:func:`categorical_crossentropy` as a Loss class (``tf.keras.losses.CategoricalCrossentropy``).

    Example:
      >>> CategoricalCrossentropy()(jnp.array([[0, 1, 0], [0, 0, 1]]), jnp.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]))
      Array(1.1769392, dtype=float32)
    """

    name: str | None = dataclasses.field(default="categorical_crossentropy", kw_only=True)
    keras_function: ClassVar[str] = "categorical_crossentropy"

    def call(self, y_true, y_pred):
        return _formulas.categorical_ce_per_sample(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)


@dataclasses.dataclass(frozen=True, eq=False)
class SparseCategoricalCrossentropy(Loss):
    """:func:`sparse_categorical_crossentropy` as a Loss class.

    With ``ignore_class``, ignored positions are left out: ``"auto"`` averages over the valid
    entries only (Keras 2 returns NaN when none is valid; jaxent returns 0, README `#all-ignored-batch`).
    ``check_labels=True`` (beyond Keras) adds the ``checkify`` check naming an out-of-range label.

    Example:
      >>> loss = SparseCategoricalCrossentropy(ignore_class=-1)
      >>> loss(jnp.array([0, -1, 1, -1]), jnp.array([[.5, .3, .2], [1, 0, 0], [.2, .5, .3], [.1, .1, .8]]))
      Array(0.6931472, dtype=float32)
    """

    from_logits: bool = False
    ignore_class: int | None = None
    name: str | None = dataclasses.field(default="sparse_categorical_crossentropy", kw_only=True)
    check_labels: bool = dataclasses.field(default=False, kw_only=True, metadata={"keras_config": False})
    keras_function: ClassVar[str] = "sparse_categorical_crossentropy"

    def call(self, y_true, y_pred):
        return self.losses_and_mask(y_true, y_pred)[0]

    def losses_and_mask(self, y_true, y_pred):
        with _validation.label_checks(self.check_labels):
            losses, valid = _formulas.keras_sparse_categorical_ce(y_true, y_pred, self.from_logits, -1, self.ignore_class)
        return losses, None if self.ignore_class is None else valid


@dataclasses.dataclass(frozen=True, eq=False)
class BinaryCrossentropy(_SmoothedCrossentropy):
    """:func:`binary_crossentropy` as a Loss class (``tf.keras.losses.BinaryCrossentropy``).

    Example:
      >>> BinaryCrossentropy(from_logits=True)(jnp.array([0.0, 1.0, 0.0, 0.0]), jnp.array([-18.6, 0.51, 2.94, -12.8]))
      Array(0.865458, dtype=float32)
    """

    name: str | None = dataclasses.field(default="binary_crossentropy", kw_only=True)
    keras_function: ClassVar[str] = "binary_crossentropy"

    def call(self, y_true, y_pred):
        return _formulas.binary_ce_per_sample(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanSquaredError(Loss):
    """:func:`mean_squared_error` as a Loss class (``tf.keras.losses.MeanSquaredError``).

    Example:
      >>> MeanSquaredError()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(0.5, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_squared_error", kw_only=True)
    keras_function: ClassVar[str] = "mean_squared_error"

    def call(self, y_true, y_pred):
        return _formulas.squared_error_per_sample(y_true, y_pred)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanAbsoluteError(Loss):
    """:func:`mean_absolute_error` as a Loss class (``tf.keras.losses.MeanAbsoluteError``).

    Example:
      >>> MeanAbsoluteError()(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [1.0, 0.0]]))
      Array(0.5, dtype=float32)
    """

    name: str | None = dataclasses.field(default="mean_absolute_error", kw_only=True)
    keras_function: ClassVar[str] = "mean_absolute_error"

    def call(self, y_true, y_pred):
        return _formulas.absolute_error_per_sample(y_true, y_pred)


# Entry i of these depends only on slice i of y_true/y_pred: weight-0 entries get safe inputs.
_reduction.register_per_entry(
    Loss.losses_and_mask,
    *(cls.call for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                           MeanSquaredError, MeanAbsoluteError)),
    SparseCategoricalCrossentropy.losses_and_mask,
    categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
    mean_squared_error, mean_absolute_error,
)


# Identifiers and configs (keras.losses.get / serialize / deserialize).

_NOT_IN_JAXENT = "jaxent implements Keras's cross entropies, MSE and MAE; optax.losses has many others"
REGISTRY = _serialization.Registry(
    kind="loss function",
    module="keras.losses",
    objects={
        **{fn.__name__: fn for fn in (categorical_crossentropy, sparse_categorical_crossentropy,
                                      binary_crossentropy, mean_squared_error, mean_absolute_error)},
        "mse": mean_squared_error, "MSE": mean_squared_error,
        "mae": mean_absolute_error, "MAE": mean_absolute_error,
        "bce": binary_crossentropy, "BCE": binary_crossentropy,
        **{cls.__name__: cls for cls in (CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryCrossentropy,
                                         MeanSquaredError, MeanAbsoluteError, LinearSparseCategoricalCrossentropy,
                                         LossFunctionWrapper)},
    },
    accept_callables=True,
    accept_none=True,
    unsupported={
        **{name: _NOT_IN_JAXENT for name in (
            "mean_absolute_percentage_error", "mape", "MAPE", "MeanAbsolutePercentageError",
            "mean_squared_logarithmic_error", "msle", "MSLE", "MeanSquaredLogarithmicError",
            "kl_divergence", "kld", "KLD", "kullback_leibler_divergence", "KLDivergence",
            "hinge", "Hinge", "squared_hinge", "SquaredHinge", "categorical_hinge", "CategoricalHinge",
            "huber", "huber_loss", "Huber", "log_cosh", "logcosh", "LogCosh", "poisson", "Poisson",
            "cosine_similarity", "CosineSimilarity", "binary_focal_crossentropy", "BinaryFocalCrossentropy",
            "categorical_focal_crossentropy", "CategoricalFocalCrossentropy")},
        "Loss": "the abstract base class: subclass jaxent.losses.Loss and define call",
    },
)


def get(identifier: Any) -> Any:
    """``keras.losses.get``: a loss from a name, a config dict, an instance or a function.

    A function name or alias gives the function (``"mse"`` -> :func:`mean_squared_error`; names
    are matched exactly, as Keras does: ``"MSE"`` works, ``"Mse"`` does not); a class name gives
    an instance with the defaults; a dict as :func:`serialize` (or tf-keras) writes it gives
    ``Class.from_config(config)``; ``None``, functions and ``Loss`` objects come back as they
    are. A Keras loss jaxent does not implement, or an unknown name, is a ``ValueError``
    (tf-keras returns an unknown dict's ``class_name`` as a string instead).

    Example:
      >>> get("mse") is mean_squared_error, get("CategoricalCrossentropy")
      (True, CategoricalCrossentropy(reduction=<Reduction.AUTO: 'auto'>, name='categorical_crossentropy', from_logits=False, label_smoothing=0.0, axis=-1))
    """
    return _serialization.get(identifier, REGISTRY)


def serialize(loss: Any) -> dict[str, Any] | None:
    """``keras.losses.serialize``: ``{"module", "class_name", "config", "registered_name"}`` (tf-keras 2.21's format)."""
    return _serialization.serialize(loss, REGISTRY)


def deserialize(config: Mapping[str, Any]) -> Any:
    """``keras.losses.deserialize``: the loss a :func:`serialize` (or tf-keras) dict describes."""
    return _serialization.deserialize(config, REGISTRY)
