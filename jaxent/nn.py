"""Cross entropies on logits, the ``tf.nn`` level.

Each function is jitted once with its options static (inputs converted to arrays first), computes 16-bit
inputs in float32 and returns the dtype of ``logits``. The formulas live in
:mod:`jaxent._formulas`.
"""

from __future__ import annotations

import jax

from jaxent import _formulas
from jaxent._inputs import jit_entry
from jaxent._validation import label_checks
from jaxent.fused_ce import linear_sparse_softmax_cross_entropy

__all__ = [
    "linear_sparse_softmax_cross_entropy",
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
]


@jit_entry()
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
    return _formulas.sigmoid_ce(labels, logits).astype(logits.dtype)


@jit_entry(static=("axis",))
def softmax_cross_entropy_with_logits(
    labels: jax.typing.ArrayLike, logits: jax.typing.ArrayLike, axis: int = -1
) -> jax.Array:
    """Cross entropy between ``labels`` and ``softmax(logits)`` along ``axis``.

    ``loss = sum_c labels_c * (logsumexp(x) - x_c)``, computed max-shifted; the same as
    ``tf.nn.softmax_cross_entropy_with_logits``. The gradient w.r.t. ``logits`` is the true one,
    ``sum(labels) * softmax(x) - labels`` (TF returns ``softmax(x) - labels``, which agrees only
    when each label row sums to 1; README `#softmax-ce-gradient`). Any axis in ``[-rank, rank)`` works
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
    return _formulas.softmax_ce(labels, logits, axis).astype(logits.dtype)


@jit_entry(static=("check_labels",))
def sparse_softmax_cross_entropy_with_logits(
    labels: jax.typing.ArrayLike, logits: jax.typing.ArrayLike, *, check_labels: bool = False
) -> jax.Array:
    """Cross entropy between integer ``labels`` and ``softmax(logits)`` over the last axis.

    ``loss = logsumexp(x) - x[label]``; gradient ``softmax(x) - one_hot(label)``. The same as
    ``tf.nn.sparse_softmax_cross_entropy_with_logits``, except that a label outside
    ``[0, num_classes)`` gives NaN for its entry (and a clear error under
    :func:`jax.experimental.checkify.checkify`) instead of TF's run-time error (README `#out-of-range-labels`).

    Args:
      labels: integer class ids, shape ``logits.shape[:-1]``.
      logits: ``[..., num_classes]`` unnormalised log-probabilities.
      check_labels: add a :mod:`jax.experimental.checkify` check naming the first label outside
        ``[0, num_classes)`` (run the step under ``checkify.checkify``). Off by default: the
        check is an effect in the caller's jaxpr, which costs every jitted step JAX's fast
        dispatch path.

    Returns:
      Shape ``labels.shape``, in the dtype of ``logits``.

    Example:
      >>> sparse_softmax_cross_entropy_with_logits(jnp.array([2, 1]), jnp.array([[1.0, 2.0, 3.0], [100.0, 0.0, -100.0]]))
      Array([  0.40760595, 100.        ], dtype=float32)
    """
    _formulas.check_sparse_shapes(labels, logits)
    with label_checks(check_labels):
        loss, _ = _formulas.sparse_softmax_ce(labels, logits)
    return loss.astype(logits.dtype)
