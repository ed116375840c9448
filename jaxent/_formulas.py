"""The per-entry formulas behind every public loss and metric, in one place.

Each function computes in the compute dtype (16-bit and integer inputs in float32) and returns
unreduced per-entry values without casting them back; the public modules (``nn``, ``backend``,
``losses``, ``metrics``) compile these, reduce them and cast the result. Nothing here is jitted
or public: the names say what is computed, and never repeat a public name.

Cross entropies on logits are formed relative to the row maximum ``m``
(``log(sum(exp(x - m))) - (x[label] - m)``), not as ``logsumexp(x) - x[label]``: at logits of
magnitude 1e4 the latter subtracts two numbers whose float32 rounding errors are each about
5e-4, while ``x - m`` is exact for every logit that matters.
"""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp

from jaxent import _validation
from jaxent._inputs import class_ids
from jaxent._numerics import EPSILON, as_compute, clip_by_value, epsilon_bounds, opaque_constant, promote, safe_abs

# --------------------------------------------------------------------------------------------
# On logits (the tf.nn level).


@jax.custom_jvp
def _sigmoid_ce(labels: jax.Array, logits: jax.Array) -> jax.Array:
    return jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))


@_sigmoid_ce.defjvp
def _sigmoid_ce_jvp(primals, tangents):
    # Autodiff of the stable form goes through |x| and max(x, 0), whose derivatives at 0 JAX
    # splits differently from TF; the closed form is exact everywhere and differentiable.
    (labels, logits), (labels_dot, logits_dot) = primals, tangents
    loss = _sigmoid_ce(labels, logits)
    # sigmoid(x) - z, written as (1 - z) - sigmoid(-x) for x >= 0 so that a tiny difference
    # (z = 1, x = 20: -2.06e-9) is not lost to sigmoid(x) rounding to 1.
    dloss_dlogits = jnp.where(logits >= 0, (1 - labels) - jax.nn.sigmoid(-logits), jax.nn.sigmoid(logits) - labels)
    return loss, dloss_dlogits * logits_dot - logits * labels_dot


def sigmoid_ce(labels: jax.Array, logits: jax.Array) -> jax.Array:
    """``max(x, 0) - x z + log1p(exp(-|x|))`` elementwise; shapes must be equal."""
    _validation.check_same_shape("labels", jnp.shape(labels), "logits", jnp.shape(logits))
    return _sigmoid_ce(*promote(labels, logits))


def softmax_ce(labels: jax.Array, logits: jax.Array, axis: int = -1) -> jax.Array:
    """``-sum(labels * log_softmax(logits), axis)``; ``log_softmax`` is formed relative to the maximum."""
    labels, logits = promote(labels, logits)
    axis = _validation.check_axis(axis, logits.ndim)
    _validation.check_broadcastable("labels", labels.shape, "logits", logits.shape)
    return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=axis), axis=axis)


# The double where of ignored rows, in the derivative only. A ``where`` on the [..., C] logits
# before the reduction makes XLA write a masked copy of them (it has several consumers); here
# the forward pass is the plain expression and only the tangent selects, at the element
# (log-sum-exp) or row (log-sum) level, so that no 0 * NaN is formed for an ignored row.


@jax.custom_jvp
def _masked_log_sum_exp(shifted: jax.Array, counted: jax.Array) -> jax.Array:
    """``log(sum(exp(shifted), -1))`` whose derivative is 0 on rows where ``counted`` (``[..., 1]``) is False."""
    return jnp.log(jnp.sum(jnp.exp(shifted), axis=-1))


@_masked_log_sum_exp.defjvp
def _masked_log_sum_exp_jvp(primals, tangents):
    (shifted, counted), (shifted_dot, _) = primals, tangents
    exp = jnp.exp(shifted)
    total = jnp.sum(exp, axis=-1)
    # Autodiff's own order (exp * (g / total) once transposed), with ignored rows selected away.
    return jnp.log(total), jnp.sum(jnp.where(counted, exp, 0) * shifted_dot, axis=-1) / jnp.where(counted[..., 0], total, 1)


@jax.custom_jvp
def _masked_log_sum(probabilities: jax.Array, valid: jax.Array) -> jax.Array:
    """``log(sum(probabilities, -1))`` whose derivative is 0 on rows where ``valid`` is False."""
    return jnp.log(jnp.sum(probabilities, axis=-1))


@_masked_log_sum.defjvp
def _masked_log_sum_jvp(primals, tangents):
    (probabilities, valid), (probabilities_dot, _) = primals, tangents
    total = jnp.sum(probabilities, axis=-1)
    return jnp.log(total), jnp.where(valid, jnp.sum(probabilities_dot, axis=-1) / jnp.where(valid, total, 1), 0)


def sparse_softmax_ce(
    labels: jax.Array, logits: jax.Array, ignore_class: int | None = None, *, probabilities: bool = False
) -> tuple[jax.Array, jax.Array]:
    """Sparse softmax cross entropy over the last axis, and the mask of entries that count.

    Returns ``(loss, valid)``: ``valid`` is False where the label equals ``ignore_class`` (loss 0,
    zero gradient there). A label outside ``[0, C)`` that is not ``ignore_class``, or a NaN float
    label, gives NaN, and an error under ``checkify`` when :func:`jaxent.check_labels` is on.
    Labels are compared as :func:`jaxent._inputs.class_ids` (``uint8`` labels do not wrap at
    256, a NaN label is not class 0).

    Ignored rows get an exactly zero gradient even when they hold NaN or inf (padding tokens):
    masking only the result would leave ``0 * d loss / d logits`` in the backward pass, NaN
    there. The log-sum-exp selects the ignored rows away in its derivative
    (:func:`_masked_log_sum_exp`), so the forward pass holds no masked copy of the logits; the
    picked logit needs nothing (its backward scatters the zero cotangent, no product).

    With ``probabilities=True``, ``logits`` holds positive scores ``p`` standing for the logits
    ``log(p)``: ``logsumexp(log p) - log p[label]`` is computed as ``log(sum(p)) - log(p[label])``,
    one ``log`` per row instead of a ``log`` and an ``exp`` per element.
    """
    logits = as_compute(logits)
    labels = class_ids(jnp.asarray(labels))
    num_classes = logits.shape[-1]
    _validation.check_sparse_labels(labels, num_classes, ignore_class)
    in_range = (labels >= 0) & (labels < num_classes)  # False for NaN
    if ignore_class is None:
        valid, counted = jnp.ones(labels.shape, bool), None
    else:
        valid = labels != ignore_class
        counted = valid[..., None]
    safe_labels = jnp.where(in_range, labels, 0).astype(jnp.int32)
    if probabilities:
        picked = jnp.take_along_axis(logits, safe_labels[..., None], axis=-1)[..., 0]
        if counted is None:
            loss = jnp.log(jnp.sum(logits, axis=-1)) - jnp.log(picked)
        else:
            loss = _masked_log_sum(logits, valid) - jnp.log(jnp.where(valid, picked, 1))
    else:
        # The maximum's own gradient cancels between the two terms; stop it so that ties in
        # the maximum do not split a zero.
        row_max = jax.lax.stop_gradient(jnp.max(logits, axis=-1, keepdims=True))
        shift = jnp.where(jnp.isfinite(row_max), row_max, 0)
        # Picked from the logits, then shifted: the same rounding as picking from
        # ``logits - shift``, without making XLA materialise the shifted [..., C] array.
        picked = jnp.take_along_axis(logits, safe_labels[..., None], axis=-1) - shift
        if counted is None:
            log_sum_exp = jnp.log(jnp.sum(jnp.exp(logits - shift), axis=-1))
        else:
            log_sum_exp = _masked_log_sum_exp(logits - shift, counted)
        loss = log_sum_exp - picked[..., 0]
    loss = jnp.where(in_range, loss, jnp.nan)
    return jnp.where(valid, loss, 0), valid


def check_sparse_shapes(labels: jax.Array, logits: jax.Array) -> None:
    """TF's static checks of ``sparse_softmax_cross_entropy_with_logits``: labels of rank ``logits - 1``."""
    if logits.ndim == 0:
        raise ValueError("`logits` cannot be a scalar.")
    if labels.ndim != logits.ndim - 1:
        raise ValueError(
            "`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
            f"labels.shape={labels.shape} and logits.shape={logits.shape}"
        )
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            "`labels.shape` must equal `logits.shape` except for the last dimension. Received: "
            f"labels.shape={labels.shape} and logits.shape={logits.shape}"
        )
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"`labels` must be integers (int32 or int64). Received: labels.dtype={labels.dtype}")


# --------------------------------------------------------------------------------------------
# Keras backend cross entropies (probabilities or logits).


def keras_categorical_ce(target: jax.Array, output: jax.Array, from_logits: bool, axis: int) -> jax.Array:
    """``keras.backend.categorical_crossentropy``: probabilities normalised, then clipped, then logged."""
    target, output = promote(target, output)
    _validation.check_same_shape("target", target.shape, "output", output.shape)
    axis = _validation.check_axis(axis, output.ndim)
    if from_logits:
        return softmax_ce(target, output, axis)
    probabilities = output / jnp.sum(output, axis=axis, keepdims=True)
    probabilities = clip_by_value(probabilities, *epsilon_bounds(output.dtype))
    return -jnp.sum(target * jnp.log(probabilities), axis=axis)


def keras_sparse_categorical_ce(
    target: jax.Array, output: jax.Array, from_logits: bool, axis: int, ignore_class: int | None
) -> tuple[jax.Array, jax.Array]:
    """``keras.backend.sparse_categorical_crossentropy`` and its validity mask.

    Probabilities are clipped, logged and renormalised by a log-softmax (computed as one log
    of the row sum); ``axis`` wraps modulo the rank; the labels may have the shape of ``output``
    without its class axis, that plus a trailing 1, or be flat, as Keras reshapes them.
    """
    output = as_compute(output)
    target = class_ids(jnp.asarray(target))  # floats truncate toward zero, as Keras's cast; NaN stays NaN
    axis = _validation.check_axis(axis, output.ndim, wrap=True)
    output = jnp.moveaxis(output, axis, -1)
    if not from_logits:
        output = clip_by_value(output, *epsilon_bounds(output.dtype))
    outer = output.shape[:-1]
    if target.shape != outer:
        if target.ndim == output.ndim - 1 or target.size != math.prod(outer):
            raise ValueError(
                "`target` must hold one label per position of `output` without its class axis. "
                f"Received: target.shape={target.shape} and output.shape={output.shape} (classes last)"
            )
        # Keras flattens the labels; for rank >= 3 it restores the outer shape afterwards.
        if output.ndim >= 3:
            target = target.reshape(outer)
        else:
            target = target.reshape(-1)
            output = output.reshape(-1, output.shape[-1])
    return sparse_softmax_ce(target, output, ignore_class, probabilities=not from_logits)


def keras_binary_ce(target: jax.Array, output: jax.Array, from_logits: bool) -> jax.Array:
    """``keras.backend.binary_crossentropy``: clip and an added epsilon inside both logs."""
    target, output = promote(target, output)
    if from_logits:
        return sigmoid_ce(target, output)
    _validation.check_broadcastable("target", target.shape, "output", output.shape)
    probabilities = clip_by_value(output, *epsilon_bounds(output.dtype))
    eps = opaque_constant(EPSILON, output.dtype)
    return -(target * jnp.log(probabilities + eps) + (1 - target) * jnp.log(1 - probabilities + eps))


# --------------------------------------------------------------------------------------------
# Per-sample losses (the keras.losses level).


def categorical_ce_per_sample(
    y_true: jax.Array, y_pred: jax.Array, from_logits: bool, label_smoothing: float, axis: int
) -> jax.Array:
    """``keras.losses.categorical_crossentropy``: ``y_true`` smoothed towards ``1 / C``, then the backend CE."""
    y_true, y_pred = promote(y_true, y_pred)
    axis = _validation.check_axis(axis, y_pred.ndim)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"categorical_crossentropy expects y_pred of shape (batch_size, num_classes) with "
            f"num_classes > 1; received y_pred.shape={y_pred.shape}: the loss is always ~0.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        smoothing = jnp.asarray(label_smoothing, y_pred.dtype)
        num_classes = jnp.asarray(y_true.shape[axis], y_pred.dtype)
        y_true = y_true * (1 - smoothing) + smoothing / num_classes
    return keras_categorical_ce(y_true, y_pred, from_logits, axis)


def binary_ce_per_sample(
    y_true: jax.Array, y_pred: jax.Array, from_logits: bool, label_smoothing: float, axis: int
) -> jax.Array:
    """``keras.losses.binary_crossentropy``: ``y_true`` smoothed towards 0.5, the backend CE averaged over ``axis``."""
    y_true, y_pred = promote(y_true, y_pred)
    if label_smoothing:
        smoothing = jnp.asarray(label_smoothing, y_pred.dtype)
        y_true = y_true * (1 - smoothing) + 0.5 * smoothing
    losses = keras_binary_ce(y_true, y_pred, from_logits)
    return jnp.mean(losses, axis=_validation.check_axis(axis, losses.ndim))


def _regression_inputs(y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array]:
    y_true, y_pred = promote(y_true, y_pred)
    if y_pred.ndim == 0:
        raise ValueError("`y_pred` must have rank >= 1 (the last axis is averaged); received a scalar")
    _validation.check_broadcastable("y_true", y_true.shape, "y_pred", y_pred.shape)
    return y_true, y_pred


def squared_error_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``mean((y_pred - y_true)**2, axis=-1)`` (shapes broadcast)."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    return jnp.mean(jnp.square(y_pred - y_true), axis=-1)


def absolute_error_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``mean(|y_pred - y_true|, axis=-1)`` with a zero derivative at 0 (shapes broadcast)."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    return jnp.mean(safe_abs(y_pred - y_true), axis=-1)
