"""The one weighting and reduction path shared by every loss class and every metric.

Before weighting, :func:`squeeze_last` aligns ``y_true`` and ``y_pred`` as Keras does for every
Loss class and metric call.

Keras aligns ``sample_weight`` with the values it weights in two steps: first its rank is
adjusted (a trailing axis of size 1 is squeezed when the weight has one axis more, an axis
of size 1 is appended when it has one axis fewer), then it is broadcast. jaxent accepts only
the broadcasts that keep the values' shape (README `#sample-weight-shapes`); Keras silently builds
outer products such as ``(B, 1, B)`` for the rest.

Entries whose weight is 0 (including masked ``ignore_class`` positions) are dropped with
``where``, not multiplied by 0, so a NaN or inf there cannot poison a total or a gradient.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp


class Reduction(str, enum.Enum):
    """How a Loss class reduces its weighted per-sample losses (``tf.keras.losses.Reduction``).

    ``AUTO`` and ``SUM_OVER_BATCH_SIZE`` divide the weighted sum by the number of entries
    (the number of valid entries when a mask such as ``ignore_class`` applies), never by the
    sum of the weights; ``SUM`` sums; ``NONE`` returns the weighted losses.
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def validate(cls, reduction: object) -> "Reduction":
        """``reduction`` as a :class:`Reduction`; plain strings are accepted."""
        try:
            return cls(reduction)
        except ValueError:
            keys = tuple(member.value for member in cls)
            raise ValueError(f"Invalid Reduction Key: {reduction!r}. Expected keys are {keys}") from None


def squeeze_last(y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Drop a trailing axis of size 1 from whichever of the two has one axis more (Keras rule).

    Applied to every input (Keras skips it for NumPy inputs; README `#tensor-semantics`).
    """
    rank_difference = y_pred.ndim - y_true.ndim
    if rank_difference == 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    elif rank_difference == -1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true, y_pred


def _adjust_weight_rank(weight: jax.Array, ndim: int) -> jax.Array:
    """Keras's rank adjustment of a weight against values of rank ``ndim``."""
    if weight.ndim == ndim + 1 and ndim >= 0 and weight.ndim > 0:
        if weight.shape[-1] != 1:
            raise ValueError(
                f"`sample_weight` of shape {weight.shape} has one axis more than the values of rank "
                f"{ndim} it weights, so its last axis must be 1 to be squeezed; got {weight.shape[-1]}"
            )
        return weight[..., 0]
    if weight.ndim == ndim - 1 and weight.ndim > 0:
        return weight[..., None]
    return weight


def _fits(weight_shape: Sequence[int], shape: Sequence[int]) -> bool:
    """Whether a weight of the same rank broadcasts to ``shape`` without enlarging it."""
    return len(weight_shape) == len(shape) and all(w in (1, s) for w, s in zip(weight_shape, shape))


def _shape_error(sample_weight: jax.Array, shape: Sequence[int], what: str) -> ValueError:
    shape = tuple(shape)
    allowed = ["a scalar"]
    if shape:
        allowed += [f"{per_sample}" for per_sample in (shape[:1], shape[:1] + (1,)) if per_sample != shape]
    allowed.append(f"{shape} (or any shape of that rank that broadcasts to it)")
    return ValueError(
        f"`sample_weight` of shape {tuple(sample_weight.shape)} cannot weight {what} of shape {shape}; "
        f"expected {', '.join(allowed)}"
    )


def broadcast_weights(sample_weight: jax.typing.ArrayLike, shape: Sequence[int], dtype: jnp.dtype) -> jax.Array:
    """``sample_weight`` aligned the Keras way and broadcast to ``shape``, in ``dtype``.

    Accepts a scalar, ``[B]``, ``[B, 1]``, per-timestep ``[B, T]`` (also ``[B, T, 1]``, ``[1, T]``)
    or the full shape; anything else is a ``ValueError`` naming both shapes.
    """
    shape = tuple(shape)
    weight = jnp.asarray(sample_weight).astype(dtype)
    if weight.ndim == 0:
        return jnp.broadcast_to(weight, shape)
    adjusted = _adjust_weight_rank(weight, len(shape))
    if not _fits(adjusted.shape, shape):
        raise _shape_error(weight, shape, "losses")
    return jnp.broadcast_to(adjusted, shape)


def _masked_weights(
    shape: Sequence[int], dtype: jnp.dtype, sample_weight: jax.typing.ArrayLike | None, mask: jax.Array | None
) -> jax.Array | None:
    """Broadcast weights with masked entries set to 0; None when neither is given."""
    weights = None if sample_weight is None else broadcast_weights(sample_weight, shape, dtype)
    if mask is None:
        return weights
    mask = jnp.broadcast_to(mask, shape)
    return mask.astype(dtype) if weights is None else jnp.where(mask, weights, 0)


def _weighted(values: jax.Array, weights: jax.Array | None) -> jax.Array:
    """``values * weights`` with zero-weight entries exactly 0, whatever their value."""
    if weights is None:
        return values
    return jnp.where(weights != 0, values * weights, 0)


# --------------------------------------------------------------------------------------------
# Masked inputs: the "double where".
#
# ``_weighted`` drops a weight-0 entry from the value, but the formula that produced it has
# already run: its backward pass multiplies the zero cotangent by ``d loss / d y_pred`` at that
# entry, which is NaN when ``y_pred`` (or ``y_true``) is NaN or inf there (0 * inf, 0 * NaN).
# So the inputs of a dropped entry are replaced by a safe value *before* the formula. That is
# only exact for formulas whose entry ``i`` depends on nothing but slice ``i`` of the inputs
# along one axis: jaxent's own per-sample formulas, marked by the modules that define them. A
# user's ``call`` may mix rows (batch statistics), so its inputs are never touched.

_PER_ENTRY = "_jaxent_per_entry"

_SAFE_INPUT = 1
"""The value masked inputs take: finite in every formula (probabilities 1 normalise to 1/C,
clip to 1 - eps, log to 0; logits 1; regression 1 - 1 = 0)."""


def register_per_entry(*computations: object) -> None:
    """Declare functions or methods whose output entry ``i`` depends only on slice ``i`` of ``y_true``/``y_pred``.

    Only these get their masked inputs replaced (:func:`mask_inputs`); a subclass that overrides
    one of them is not marked, and keeps its inputs as given. The mark is an attribute of the
    function itself: no registry beside it.
    """
    for computation in computations:
        setattr(computation, _PER_ENTRY, True)


def is_per_entry(*computations: object) -> bool:
    """Whether every one of ``computations`` was marked by :func:`register_per_entry`."""
    return all(getattr(computation, _PER_ENTRY, False) for computation in computations)


def kept_entries(sample_weight: jax.typing.ArrayLike | None, shape: Sequence[int]) -> jax.Array | None:
    """Where ``sample_weight``, aligned with per-entry values of ``shape`` the Keras way, is not 0.

    None without weights, or when the weight does not fit ``shape`` (the reduction then raises
    its own error, or, for a metric, averages over trailing axes first: a per-sample weight of
    lower rank covers all of its sample's entries, as it does here).
    """
    if sample_weight is None:
        return None
    weight = jnp.asarray(sample_weight)
    shape = tuple(shape)
    adjusted = _adjust_weight_rank(weight, len(shape)) if weight.ndim > 0 else weight
    if 0 < adjusted.ndim < len(shape):
        adjusted = adjusted.reshape(adjusted.shape + (1,) * (len(shape) - adjusted.ndim))
    if adjusted.ndim > 0 and not _fits(adjusted.shape, shape):
        return None
    return jnp.broadcast_to(adjusted != 0, shape)


def mask_inputs(
    keep: jax.Array | None, axis: int | None, *inputs: jax.Array
) -> tuple[jax.Array, ...]:
    """``inputs`` with every entry feeding a dropped value (``keep`` False) replaced by 1.

    ``keep`` has the shape of the per-entry values, which a formula computes by reducing
    ``axis`` of its inputs; ``keep`` gets that axis back (size 1) and applies to every input
    it broadcasts to without changing its shape (sparse labels of another rank pass through:
    the sparse formulas mask out-of-range labels themselves). With ``axis`` None, or an axis
    that does not fit, the inputs are returned as they are.
    """
    if keep is None or axis is None:
        return inputs
    masked = []
    for x in inputs:
        ndim = keep.ndim + 1
        if x.ndim != ndim or not -ndim <= axis < ndim:
            masked.append(x)
            continue
        expanded = jnp.expand_dims(keep, axis % ndim)
        try:
            fits = jnp.broadcast_shapes(expanded.shape, x.shape) == x.shape
        except ValueError:
            fits = False
        masked.append(jnp.where(expanded, x, jnp.asarray(_SAFE_INPUT, x.dtype)) if fits else x)
    return tuple(masked)


def mask_weightless_inputs(
    values_and_mask: Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array | None]],
    computations: tuple[object, ...],
    axis: int,
    y_true: jax.Array,
    y_pred: jax.Array,
    sample_weight: jax.typing.ArrayLike | None,
) -> tuple[jax.Array, jax.Array]:
    """``y_true``/``y_pred`` with the inputs of weight-0 entries replaced by 1, before ``values_and_mask`` runs.

    What a Loss class or metric calls first: ``computations`` are the functions its values come
    from (nothing is replaced unless all were registered with :func:`register_per_entry`),
    ``axis`` the axis they reduce. The values' shape is read with ``eval_shape`` (a trace, no
    computation), so the weight is aligned with the values exactly as the reduction aligns it.
    """
    if sample_weight is None or not is_per_entry(*computations):
        return y_true, y_pred
    shape = jax.eval_shape(values_and_mask, y_true, y_pred)[0].shape
    return mask_inputs(kept_entries(sample_weight, shape), axis, y_true, y_pred)


def divide_no_nan(numerator: jax.Array, denominator: jax.Array) -> jax.Array:
    """``numerator / denominator``, and 0 (with a zero gradient) where the denominator is 0."""
    nonzero = denominator != 0
    return jnp.where(nonzero, numerator / jnp.where(nonzero, denominator, 1), 0)


def reduce_losses(
    losses: jax.Array,
    sample_weight: jax.typing.ArrayLike | None = None,
    reduction: Reduction | str = Reduction.AUTO,
    mask: jax.Array | None = None,
) -> jax.Array:
    """Weight per-sample ``losses`` and reduce them as a Keras ``Loss`` class does.

    ``SUM_OVER_BATCH_SIZE`` (and ``AUTO``) = ``sum(w * l) / n`` where ``n`` is the number of
    entries, or the number of entries where ``mask`` is True; 0 when ``n`` is 0 (an empty
    batch, or a batch where every entry is masked: Keras 2 gives NaN there).
    """
    reduction = Reduction.validate(reduction)
    weights = _masked_weights(losses.shape, losses.dtype, sample_weight, mask)
    weighted = _weighted(losses, weights)
    if reduction is Reduction.NONE:
        return weighted
    total = jnp.sum(weighted)
    if reduction is Reduction.SUM:
        return total
    count = losses.size if mask is None else jnp.sum(jnp.broadcast_to(mask, losses.shape))
    return divide_no_nan(total, jnp.asarray(count, losses.dtype))


def weighted_sum_and_count(
    values: jax.Array, sample_weight: jax.typing.ArrayLike | None = None, mask: jax.Array | None = None
) -> tuple[jax.Array, jax.Array]:
    """``(sum(w * v), sum(w))`` over ``values`` as a Keras ``Mean`` metric accumulates them.

    Weights are aligned as for losses; when the weight still has fewer axes than the values
    (e.g. values ``[B, T, D]`` with weights ``[B]``), the values are first averaged over their
    trailing axes down to the weight's rank (Keras's fallback; not with a mask, whose weights
    Keras combines at the values' shape first). Without weights every entry counts 1.
    """
    if sample_weight is None and mask is None:
        return jnp.sum(values), jnp.asarray(values.size, values.dtype)
    if sample_weight is not None:
        weight = jnp.asarray(sample_weight)
        adjusted = _adjust_weight_rank(weight, values.ndim)
        if 0 < adjusted.ndim < values.ndim and mask is None:
            values = jnp.mean(values, axis=tuple(range(adjusted.ndim, values.ndim)))
            sample_weight = adjusted
        elif adjusted.ndim > 0 and not _fits(adjusted.shape, values.shape):
            raise _shape_error(weight, values.shape, "values")
    weights = _masked_weights(values.shape, values.dtype, sample_weight, mask)
    return jnp.sum(_weighted(values, weights)), jnp.sum(weights)
