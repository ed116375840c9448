"""Cross entropies on logits, the ``tf.nn`` level.

Each function is compiled with :func:`jax.jit` (options static), computes 16-bit inputs in
float32 and returns the dtype of ``logits``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxent import _validation
from jaxent._numerics import as_compute, promote
from jaxent.fused_ce import linear_sparse_softmax_cross_entropy

__all__ = [
    "linear_sparse_softmax_cross_entropy",
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
]


@jax.custom_jvp
def _sigmoid_cross_entropy(labels: jax.Array, logits: jax.Array) -> jax.Array:
    return jnp.maximum(logits, 0) - logits * labels + jnp.log1p(jnp.exp(-jnp.abs(logits)))


@_sigmoid_cross_entropy.defjvp
def _sigmoid_cross_entropy_jvp(primals, tangents):
    # Autodiff of the stable form above goes through |x| and max(x, 0), whose derivatives at
    # 0 JAX splits differently from TF; the closed form is exact everywhere and differentiable.
    (labels, logits), (labels_dot, logits_dot) = primals, tangents
    loss = _sigmoid_cross_entropy(labels, logits)
    # sigmoid(x) - z, written as (1 - z) - sigmoid(-x) for x >= 0 so that a tiny difference
    # (z = 1, x = 20: -2.06e-9) is not lost to sigmoid(x) rounding to 1.
    dloss_dlogits = jnp.where(logits >= 0, (1 - labels) - jax.nn.sigmoid(-logits), jax.nn.sigmoid(logits) - labels)
    return loss, dloss_dlogits * logits_dot - logits * labels_dot


def sigmoid_cross_entropy(labels: jax.Array, logits: jax.Array) -> jax.Array:
    """Elementwise sigmoid cross entropy in the compute dtype of ``logits`` (no cast back)."""
    _validation.check_same_shape("labels", jnp.shape(labels), "logits", jnp.shape(logits))
    return _sigmoid_cross_entropy(*promote(labels, logits))


@jax.jit
def sigmoid_cross_entropy_with_logits(labels: jax.typing.ArrayLike, logits: jax.typing.ArrayLike) -> jax.Array:
    """Elementwise binary cross entropy of ``sigmoid(logits)`` against ``labels``.

    ``loss = max(x, 0) - x * z + log1p(exp(-|x|))`` with ``x = logits``, ``z = labels``; the same
    as ``tf.nn.sigmoid_cross_entropy_with_logits``. Defined with :func:`jax.custom_jvp` so that
    ``d/dx = sigmoid(x) - z`` and ``d/dz = -x`` everywhere (``x = 0`` included), finite for any
    finite logits, and twice differentiable (``d²/dx² = sigmoid(x) * (1 - sigmoid(x))``).

    Args:
      labels: targets, any float array of the shape of ``logits`` (values outside ``[0, 1]``
        are used as given, as in TF).
      logits: unnormalised log-odds, any shape.

    Returns:
      The elementwise loss, shape and dtype of ``logits``.

    Raises:
      ValueError: if the shapes differ (naming both).

    Example:
      >>> sigmoid_cross_entropy_with_logits(jnp.array([0.0, 1.0]), jnp.array([1.0, -1.0]))
      Array([1.3132617, 1.3132617], dtype=float32)
    """
    logits = jnp.asarray(logits)
    return sigmoid_cross_entropy(labels, logits).astype(logits.dtype)


def softmax_cross_entropy(labels: jax.Array, logits: jax.Array, axis: int = -1) -> jax.Array:
    """Softmax cross entropy over ``axis`` in the compute dtype of ``logits`` (no cast back)."""
    labels, logits = promote(labels, logits)
    axis = _validation.check_axis(axis, logits.ndim)
    _validation.check_broadcastable("labels", labels.shape, "logits", logits.shape)
    return -jnp.sum(labels * jax.nn.log_softmax(logits, axis=axis), axis=axis)


@functools.partial(jax.jit, static_argnames=("axis",))
def softmax_cross_entropy_with_logits(
    labels: jax.typing.ArrayLike, logits: jax.typing.ArrayLike, axis: int = -1
) -> jax.Array:
    """Cross entropy between ``labels`` and ``softmax(logits)`` along ``axis``.

    ``loss = sum_c labels_c * (logsumexp(x) - x_c)``, computed max-shifted; the same as
    ``tf.nn.softmax_cross_entropy_with_logits``. The gradient w.r.t. ``logits`` is the true one,
    ``sum(labels) * softmax(x) - labels`` (TF returns ``softmax(x) - labels``, which agrees only
    when each label row sums to 1; API.md difference 8). Any axis in ``[-rank, rank)`` works
    (TF rejects negative axes other than -1).

    Args:
      labels: class probabilities (one-hot, smoothed or any weights), broadcastable to ``logits``.
      logits: unnormalised log-probabilities, rank >= 1.
      axis: the class axis.

    Returns:
      ``logits``'s shape without ``axis``, in the dtype of ``logits``.

    Example:
      >>> softmax_cross_entropy_with_logits(jnp.array([0.0, 0.0, 1.0]), jnp.array([1.0, 2.0, 3.0]))
      Array(0.40760595, dtype=float32)
    """
    logits = jnp.asarray(logits)
    return softmax_cross_entropy(labels, logits, axis).astype(logits.dtype)


def sparse_softmax_cross_entropy(
    labels: jax.Array, logits: jax.Array, ignore_class: int | None = None, *, probabilities: bool = False
) -> tuple[jax.Array, jax.Array]:
    """Sparse softmax cross entropy (classes on the last axis) in the compute dtype of ``logits``.

    Returns ``(loss, valid)``: ``valid`` is False where the label equals ``ignore_class``; the loss
    is 0 there, with a zero gradient. A label outside ``[0, C)`` that is not ``ignore_class``
    gives NaN for its entry and an error under ``checkify``.

    With ``probabilities=True``, ``logits`` holds positive scores ``p`` standing for the logits
    ``log(p)``: ``logsumexp(log p) - log p[label]`` is computed as ``log(sum(p)) - log(p[label])``,
    one ``log`` per row instead of a ``log`` and an ``exp`` per element.
    """
    logits = as_compute(logits)
    labels = jnp.asarray(labels)
    num_classes = logits.shape[-1]
    in_range = (labels >= 0) & (labels < num_classes)
    kept = in_range if ignore_class is None else in_range | (labels == ignore_class)
    _validation.check_label_values(labels, num_classes, kept, ignore_class)
    valid = jnp.ones(labels.shape, bool) if ignore_class is None else labels != ignore_class
    safe_labels = jnp.where(in_range, labels, 0)
    label_logits = jnp.take_along_axis(logits, safe_labels[..., None], axis=-1)[..., 0]
    if probabilities:
        loss = jnp.log(jnp.sum(logits, axis=-1)) - jnp.log(label_logits)
    else:
        loss = jax.nn.logsumexp(logits, axis=-1) - label_logits
    loss = jnp.where(in_range, loss, jnp.nan)
    return jnp.where(valid, loss, 0), valid


def _check_sparse_shapes(labels: jax.Array, logits: jax.Array) -> None:
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


@jax.jit
def sparse_softmax_cross_entropy_with_logits(labels: jax.typing.ArrayLike, logits: jax.typing.ArrayLike) -> jax.Array:
    """Cross entropy between integer ``labels`` and ``softmax(logits)`` over the last axis.

    ``loss = logsumexp(x) - x[label]``; gradient ``softmax(x) - one_hot(label)``. The same as
    ``tf.nn.sparse_softmax_cross_entropy_with_logits``, except that a label outside
    ``[0, num_classes)`` gives NaN for its entry (and a clear error under
    :func:`jax.experimental.checkify.checkify`) instead of TF's run-time error (difference 3).

    Args:
      labels: integer class ids, shape ``logits.shape[:-1]``.
      logits: ``[..., num_classes]`` unnormalised log-probabilities.

    Returns:
      Shape ``labels.shape``, in the dtype of ``logits``.

    Example:
      >>> sparse_softmax_cross_entropy_with_logits(jnp.array([2, 1]), jnp.array([[1.0, 2.0, 3.0], [100.0, 0.0, -100.0]]))
      Array([  0.4076059, 100.       ], dtype=float32)
    """
    labels, logits = jnp.asarray(labels), jnp.asarray(logits)
    _check_sparse_shapes(labels, logits)
    loss, _ = sparse_softmax_cross_entropy(labels, logits)
    return loss.astype(logits.dtype)
