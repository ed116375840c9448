"""Keras backend cross entropies on probabilities or logits (``keras.backend`` level).

Each function is jitted once with its options static (inputs converted to arrays first), computes 16-bit
inputs in float32 and returns the dtype of ``output``; the formulas live in :mod:`jaxent._formulas`. Unlike Keras, ``output`` never carries hidden
logits: pass logits with ``from_logits=True`` (README `#no-logits-recovery`).
"""

from __future__ import annotations

import jax

from jaxent import _formulas, _validation
from jaxent._inputs import jit_entry
from jaxent._numerics import EPSILON, result_dtype

__all__ = ["epsilon", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"]


def epsilon() -> float:
    """The fuzz factor used for clipping probabilities, ``1e-7`` (``keras.backend.epsilon()``)."""
    return EPSILON


@jit_entry(static=("from_logits", "axis"))
def categorical_crossentropy(
    target: jax.typing.ArrayLike, output: jax.typing.ArrayLike, from_logits: bool = False, axis: int = -1
) -> jax.Array:
    """Categorical cross entropy between a one-hot (or soft) ``target`` and ``output``.

    Probabilities (``from_logits=False``) are **normalised, then clipped**:
    ``p = clip(output / sum(output, axis), eps, 1 - eps)``, ``loss = -sum(target * log(p), axis)``
    with ``eps = 1e-7``; the clip passes gradient at its boundaries, as in TF. Logits use
    :func:`jaxent.nn.softmax_cross_entropy_with_logits`. Mirrors
    ``keras.backend.categorical_crossentropy``.

    Args:
      target: same shape as ``output``.
      output: probabilities (rows need not sum to 1) or logits.
      from_logits: whether ``output`` holds logits.
      axis: the class axis.

    Returns:
      ``output``'s shape without ``axis``, in the dtype of ``output``.

    Example:
      >>> categorical_crossentropy(jnp.array([1.0, 0.0, 0.0]), jnp.array([0.5, 0.3, 0.2]))
      Array(0.6931472, dtype=float32)
    """
    from_logits = _validation.check_option("from_logits", from_logits)
    return _formulas.keras_categorical_ce(target, output, from_logits, axis).astype(result_dtype(output.dtype))


@jit_entry(static=("from_logits", "axis", "ignore_class", "check_labels"))
def sparse_categorical_crossentropy(
    target: jax.typing.ArrayLike,
    output: jax.typing.ArrayLike,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
    *,
    check_labels: bool = False,
) -> jax.Array:
    """Categorical cross entropy with integer ``target`` labels.

    Probabilities are **clipped, logged, then renormalised** by a log-softmax:
    ``p~ = clip(output, eps, 1 - eps)``, ``loss = -log(p~[target] / sum(p~))`` (so an
    unnormalised row ``[2, 1, 1]`` gives ``log 3``, unlike :func:`categorical_crossentropy`).
    ``axis`` is taken modulo the rank, as in Keras. ``target`` may have the shape of ``output``
    without its class axis, that plus a trailing 1, or be flat. Mirrors
    ``keras.backend.sparse_categorical_crossentropy``.

    Positions whose label equals ``ignore_class`` get loss 0 and zero gradient (the loss and
    metric classes also leave them out of their means). Any other label outside
    ``[0, num_classes)`` gives NaN there, and with ``check_labels=True`` an error under
    ``checkify`` (README `#out-of-range-labels`).

    Example (Keras 2 gives ``[0.6931471, 0]``; jaxent's first value, 0.6931472, is the float32
    neighbour above: the renormalisation subtracts log-probabilities of size ~1 and both round at
    that scale, so the example checks Keras's values to 2 float32 ulps of 1):
      >>> import numpy as np
      >>> loss = sparse_categorical_crossentropy(jnp.array([0, -1]), jnp.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0]]),
      ...                                        ignore_class=-1)
      >>> np.testing.assert_allclose(loss, [0.6931471, 0.0], atol=2.4e-7)
    """
    options = _validation.check_options({"from_logits": from_logits, "ignore_class": ignore_class})
    with _validation.label_checks(check_labels):
        loss, _ = _formulas.keras_sparse_categorical_ce(target, output, options["from_logits"], axis, options["ignore_class"])
    return loss.astype(result_dtype(output.dtype))


@jit_entry(static=("from_logits",))
def binary_crossentropy(
    target: jax.typing.ArrayLike, output: jax.typing.ArrayLike, from_logits: bool = False
) -> jax.Array:
    """Elementwise binary cross entropy.

    Probabilities use Keras's **double epsilon**, a clip and an added ``eps`` inside both logs:
    ``p = clip(output, eps, 1 - eps)``,
    ``loss = -(t * log(p + eps) + (1 - t) * log(1 - p + eps))``; so a saturated wrong
    prediction costs 15.42495 for ``t = 1`` but 15.33324 for ``t = 0`` in float32. Logits use
    :func:`jaxent.nn.sigmoid_cross_entropy_with_logits` (shapes must match). Mirrors
    ``keras.backend.binary_crossentropy``.

    Example:
      >>> binary_crossentropy(jnp.array([1.0, 0.0]), jnp.array([0.0, 0.5]))
      Array([15.424949  ,  0.69314694], dtype=float32)
    """
    from_logits = _validation.check_option("from_logits", from_logits)
    return _formulas.keras_binary_ce(target, output, from_logits).astype(result_dtype(output.dtype))
