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
import numpy as np

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


# --------------------------------------------------------------------------------------------
# The other tf.keras losses (hinge, Huber, log-cosh, KL divergence, Poisson, cosine, MSLE, MAPE,
# the focal cross entropies), each written as tf-keras 2.21 writes it, constant for constant.


def _tf_maximum(x: jax.Array, floor: jax.Array | float) -> jax.Array:
    """``tf.maximum(x, floor)``: on a tie the gradient goes to ``x`` whole (``jnp.maximum`` halves it)."""
    return jnp.where(x < floor, jnp.asarray(floor, x.dtype), x)


def _tf_pow(x: jax.Array, exponent: float) -> jax.Array:
    """``tf.pow(x, exponent)``: an integer exponent (Keras's default ``gamma=2.0``) as repeated products.

    Both are within rounding of ``x**n`` (TF's ``pow`` is correctly rounded for squares, as the
    product is); the products compile to a few multiplications instead of XLA's general ``pow``.
    """
    if float(exponent).is_integer() and 0 < exponent <= 8:
        return jax.lax.integer_pow(x, int(exponent))
    return jnp.power(x, jnp.asarray(exponent, x.dtype))


def signed_labels(y_true: jax.Array) -> jax.Array:
    """Keras's ``_maybe_convert_labels``: when every label is 0 or 1, ``2 y - 1``; otherwise as given.

    The test is over the whole array (a batch of ``{0, 1}`` labels becomes ``{-1, 1}``, a batch
    holding any other value is kept).
    """
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2 * y_true - 1, y_true)


def hinge_per_sample(y_true: jax.Array, y_pred: jax.Array, squared: bool = False) -> jax.Array:
    """``mean(max(1 - y * p, 0)[**2], -1)`` with ``{0, 1}`` labels first mapped to ``{-1, 1}``."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    margins = _tf_maximum(1 - signed_labels(y_true) * y_pred, 0)
    return jnp.mean(jnp.square(margins) if squared else margins, axis=-1)


def categorical_hinge_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``max(max((1 - y) * p, -1) - sum(y * p, -1) + 1, 0)``."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    positive = jnp.sum(y_true * y_pred, axis=-1)
    negative = jnp.max((1 - y_true) * y_pred, axis=-1)
    return _tf_maximum(negative - positive + 1, 0)


def huber_per_sample(y_true: jax.Array, y_pred: jax.Array, delta: float) -> jax.Array:
    """``mean(0.5 e**2 if |e| <= delta else delta |e| - 0.5 delta**2, -1)``, ``e = p - y``, in float32.

    Keras casts both inputs (and ``delta``) to ``floatx()`` = float32 whatever their dtype, so
    the result is float32 for float64 inputs too.
    """
    y_true, y_pred = jnp.asarray(y_true).astype(jnp.float32), jnp.asarray(y_pred).astype(jnp.float32)
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    delta = jnp.asarray(delta, jnp.float32)
    error = y_pred - y_true
    abs_error = safe_abs(error)
    half = jnp.asarray(0.5, jnp.float32)
    quadratic = half * jnp.square(error)
    linear = delta * abs_error - half * jnp.square(delta)
    return jnp.mean(jnp.where(abs_error <= delta, quadratic, linear), axis=-1)


@jax.custom_jvp
def tf_softplus(x: jax.Array) -> jax.Array:
    """TensorFlow's softplus: ``x`` above ``-t``, ``exp(x)`` below ``t``, ``log1p(exp(x))`` between (``t = log(eps) + 2``)."""
    threshold = math.log(float(jnp.finfo(x.dtype).eps)) + 2
    exp = jnp.exp(x)
    return jnp.where(x > -threshold, x, jnp.where(x < threshold, exp, jnp.log1p(exp)))


@tf_softplus.defjvp
def _tf_softplus_jvp(primals, tangents):
    # TF's SoftplusGrad: g / (exp(-x) + 1).
    (x,), (x_dot,) = primals, tangents
    return tf_softplus(x), x_dot / (jnp.exp(-x) + 1)


def log_cosh_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``mean(x + softplus(-2 x) - log(2), -1)``, ``x = p - y``; ``log(2)`` is float32's, as Keras casts it."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    x = y_pred - y_true
    log_two = jnp.asarray(np.float32(math.log(2.0)), x.dtype)
    return jnp.mean(x + tf_softplus(-2 * x) - log_two, axis=-1)


def kl_divergence_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``sum(y * log(y / p), -1)`` with both clipped to ``[1e-7, 1]`` (gradient 1 on the bounds, as TF's clip)."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    lo, one = np.asarray(EPSILON, y_pred.dtype)[()], np.asarray(1, y_pred.dtype)[()]
    y_true, y_pred = clip_by_value(y_true, lo, one), clip_by_value(y_pred, lo, one)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``mean(p - y * log(p + 1e-7), -1)``."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + jnp.asarray(EPSILON, y_pred.dtype)), axis=-1)


def _l2_normalize(x: jax.Array, axis: int) -> jax.Array:
    """``tf.linalg.l2_normalize``: ``x * rsqrt(max(sum(x**2, axis), 1e-12))``."""
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    return x * jax.lax.rsqrt(_tf_maximum(square_sum, jnp.asarray(1e-12, x.dtype)))


def cosine_similarity_per_sample(y_true: jax.Array, y_pred: jax.Array, axis: int) -> jax.Array:
    """``-sum(l2_normalize(y, axis) * l2_normalize(p, axis), axis)`` (0 where either vector is 0)."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    axis = _validation.check_axis(axis, y_pred.ndim)
    return -jnp.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def squared_log_error_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``mean((log(max(p, 1e-7) + 1) - log(max(y, 1e-7) + 1))**2, -1)``."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    eps = jnp.asarray(EPSILON, y_pred.dtype)
    first = jnp.log(_tf_maximum(y_pred, eps) + 1)
    second = jnp.log(_tf_maximum(y_true, eps) + 1)
    return jnp.mean(jnp.square(first - second), axis=-1)


def absolute_percentage_error_per_sample(y_true: jax.Array, y_pred: jax.Array) -> jax.Array:
    """``100 * mean(|(y - p) / max(|y|, 1e-7)|, -1)``; the derivative at ``p == y`` is 0, as TF's."""
    y_true, y_pred = _regression_inputs(y_true, y_pred)
    eps = jnp.asarray(EPSILON, y_pred.dtype)
    ratio = safe_abs((y_true - y_pred) / _tf_maximum(safe_abs(y_true), eps))
    return jnp.asarray(100.0, y_pred.dtype) * jnp.mean(ratio, axis=-1)


def _focal_inputs(y_true: jax.Array, y_pred: jax.Array) -> tuple[jax.Array, jax.Array]:
    y_true, y_pred = promote(y_true, y_pred)
    _validation.check_broadcastable("y_true", y_true.shape, "y_pred", y_pred.shape)
    return y_true, y_pred


def categorical_focal_ce_per_sample(
    y_true: jax.Array, y_pred: jax.Array, alpha: float | tuple[float, ...], gamma: float, from_logits: bool,
    label_smoothing: float, axis: int,
) -> jax.Array:
    """``keras.losses.categorical_focal_crossentropy``.

    ``y`` smoothed towards ``1 / C`` (``C`` the size of the *last* axis, as Keras takes it);
    ``p = softmax(y_pred, axis)`` with ``from_logits``, then normalised over ``axis`` and
    clipped to ``[1e-7, 1 - 1e-7]``; ``sum(alpha * (1 - p)**gamma * -y log(p), axis)``. A list
    ``alpha`` weighs the classes of the last axis.
    """
    y_true, y_pred = _focal_inputs(y_true, y_pred)
    axis = _validation.check_axis(axis, y_pred.ndim)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            f"categorical_focal_crossentropy expects y_pred of shape (batch_size, num_classes) with "
            f"num_classes > 1; received y_pred.shape={y_pred.shape}.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        smoothing = jnp.asarray(label_smoothing, y_pred.dtype)
        y_true = y_true * (1 - smoothing) + smoothing / jnp.asarray(y_true.shape[-1], y_pred.dtype)
    output = jax.nn.softmax(y_pred, axis=axis) if from_logits else y_pred
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    output = clip_by_value(output, *epsilon_bounds(output.dtype))
    cross_entropy = -y_true * jnp.log(output)
    modulating = _tf_pow(1 - output, gamma)
    weighting = modulating * jnp.asarray(alpha, output.dtype)
    return jnp.sum(weighting * cross_entropy, axis=axis)


def binary_focal_ce_per_sample(
    y_true: jax.Array, y_pred: jax.Array, apply_class_balancing: bool, alpha: float, gamma: float,
    from_logits: bool, label_smoothing: float, axis: int,
) -> jax.Array:
    """``keras.losses.binary_focal_crossentropy``: ``mean(w * (1 - p_t)**gamma * bce, axis)``.

    ``y`` smoothed towards 0.5; ``p = sigmoid(y_pred)`` with ``from_logits``;
    ``p_t = y p + (1 - y)(1 - p)`` (unclipped); ``bce`` the backend binary cross entropy (clip
    and added epsilon, or the stable logits form); ``w = y alpha + (1 - y)(1 - alpha)`` with
    ``apply_class_balancing``, else 1.
    """
    y_true, y_pred = _focal_inputs(y_true, y_pred)
    if label_smoothing:
        smoothing = jnp.asarray(label_smoothing, y_pred.dtype)
        y_true = y_true * (1 - smoothing) + 0.5 * smoothing
    y_true = jnp.broadcast_to(y_true, jnp.broadcast_shapes(y_true.shape, y_pred.shape))
    y_pred = jnp.broadcast_to(y_pred, y_true.shape)
    probabilities = jax.nn.sigmoid(y_pred) if from_logits else y_pred
    p_t = y_true * probabilities + (1 - y_true) * (1 - probabilities)
    focal = _tf_pow(1 - p_t, gamma) * keras_binary_ce(y_true, y_pred, from_logits)
    if apply_class_balancing:
        alpha = jnp.asarray(alpha, y_pred.dtype)
        focal = (y_true * alpha + (1 - y_true) * (1 - alpha)) * focal
    return jnp.mean(focal, axis=_validation.check_axis(axis, focal.ndim))
