"""``class_weight_to_sample_weight``: the sample weights ``Model.fit(class_weight=...)`` builds."""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxent._inputs import as_labels, jit_entry

__all__ = ["class_weight_to_sample_weight"]


def _weight_table(class_weight: Mapping[int, float]) -> np.ndarray:
    """``class_weight`` as a float32 table indexed by class id, checked as tf-keras checks it."""
    if not isinstance(class_weight, Mapping):
        raise TypeError("`class_weight` must be a dict mapping class ids to weights. "
                        f"Received: class_weight={class_weight!r} "
                        f"(of type {type(class_weight).__name__}).")
    keys = list(class_weight)
    try:
        ordered = sorted(keys)
        valid_keys = ordered == list(range(len(keys)))
    except TypeError:
        valid_keys = False
    if not valid_keys or not keys:
        raise ValueError(
            "Expected `class_weight` to be a dict with keys from 0 to one less than the number "
            f"of classes, found {class_weight}"
        )
    weights = [class_weight[key] for key in ordered]
    for key, weight in zip(ordered, weights):
        is_real = isinstance(weight, numbers.Real) or (
            isinstance(weight, np.ndarray) and weight.ndim == 0
            and (np.issubdtype(weight.dtype, np.floating) or np.issubdtype(weight.dtype, np.integer)))
        if isinstance(weight, (bool, np.bool_)) or not is_real:
            raise TypeError(f"`class_weight` values must be real numbers. Received: "
                            f"class_weight[{key!r}]={weight!r}.")
    return np.asarray(weights, np.float32)


_NOT_A_CLASS = -1
"""The id given to a sample whose label is NaN: outside ``[0, n)``, so its weight is NaN."""


def _class_ids(y_true: jax.Array) -> jax.Array:
    """The class of each sample: argmax of one-hot rows, else the rounded label (tf-keras's rule).

    Integer labels are widened first (:func:`jaxent._inputs.as_labels`: ``uint8`` labels are
    compared with ``n`` > 255 classes without wrapping). A NaN label, or a one-hot row holding
    a NaN, gets an id outside every table, hence weight NaN: XLA's cast would make it class 0
    and ``jnp.argmax`` would pick the NaN's position, both silently plausible weights.
    """
    if y_true.ndim >= 2 and y_true.shape[-1] > 1:
        ids = jnp.argmax(y_true, axis=-1)
        if jnp.issubdtype(y_true.dtype, jnp.floating):
            ids = jnp.where(jnp.any(jnp.isnan(y_true), axis=-1), _NOT_A_CLASS, ids)
        return ids
    labels = y_true[..., 0] if y_true.ndim >= 2 else y_true
    if jnp.issubdtype(labels.dtype, jnp.integer):
        return as_labels(labels)
    # tf.round rounds half to even, as jnp.round does; int32 holds every valid class id
    return jnp.where(jnp.isnan(labels), _NOT_A_CLASS, jnp.round(labels)).astype(jnp.int32)


def class_weight_to_sample_weight(
    y_true: jax.typing.ArrayLike,
    class_weight: Mapping[int, float],
    sample_weight: jax.typing.ArrayLike | None = None,
) -> jax.Array:
    """The per-sample weights that ``Model.fit(class_weight=...)`` gives the loss.

    ``keras.Model.fit(x, y, class_weight={0: w0, 1: w1, ...}, sample_weight=sw)`` turns the
    class weights into sample weights before the loss sees them; this is that step::

        class(y) = argmax(y, -1)          if rank(y) >= 2 and y.shape[-1] > 1  (one-hot / soft)
                 = round(squeeze(y, -1))  if rank(y) >= 2 and y.shape[-1] == 1
                 = round(y)               if rank(y) == 1                     (sparse labels)
        weight   = class_weight[class(y)]                 # shape y.shape[:-1], or [B] for rank 1
        weight   = sample_weight * weight                 # if sample_weight is given

    (``round`` rounds half to even, as ``tf.round``; so float labels 0.5 and 2.5 are classes
    0 and 2.) Pass the result as ``sample_weight`` to a jaxent loss or metric. Measured on
    tf-keras 2.21 by recording what ``fit`` hands to ``train_step``
    (``tests/golden/generate_class_weight.py``).

    Keras's rules that carry over: the keys must be exactly ``0 .. n-1`` (else ``ValueError``
    with Keras's message; extra weights for classes that never occur are fine); a
    ``sample_weight`` of shape ``[B]`` multiplies per-timestep weights ``[B, T]`` (it gets
    trailing axes of size 1); one-hot ``[B, T, C]`` sequence labels give ``[B, T]`` weights.
    Beware one Keras rule that also carries over: sparse *sequence* labels ``[B, T]`` with
    ``T > 1`` are taken for one-hot rows and argmax'ed over ``T``; give them as ``[B, T, 1]``.

    Differences from tf-keras (each a case where Keras silently gives a wrong number or
    fails at run time):

    1. A label outside ``[0, n)`` gets weight NaN, so the loss shows it (Keras raises
       ``indices[i] = 3 is not in [0, 3)`` on CPU, and gathers 0 on GPU).
    2. The weights are float32, or ``sample_weight``'s floating dtype. Keras keeps integer
       class weights as int32 (its losses cast them back to float: same numbers) and casts
       class weights to an integer ``sample_weight``'s dtype (``0.5`` becomes ``0``).
    3. A ``sample_weight`` with more axes than the class weights (e.g. ``[B, 1]`` with sparse
       ``[B]`` labels) raises ``ValueError``: Keras broadcasts it into a ``[B, B]`` outer
       product.

    Args:
      y_true: labels as given to ``fit``: sparse ``[B]`` or ``[B, 1]`` (integers, or floats
        that are rounded), one-hot or soft ``[B, C]``, or sequences ``[B, T, C]`` /
        ``[B, T, 1]``.
      class_weight: a Python dict ``{class_id: weight}`` (static: it is read when tracing).
      sample_weight: optional weights multiplied in: a scalar, ``[B]``, or any shape that
        broadcasts to the class weights' shape after trailing axes of size 1 are added.

    Returns:
      The weights, of shape ``y_true.shape[:-1]`` (``[B]`` for rank-1 labels).

    Works under ``jax.jit`` and ``jax.vmap`` (the dict is a Python constant).

    Example::

      >>> import jax.numpy as jnp
      >>> from jaxent.utils import class_weight_to_sample_weight
      >>> y = jnp.array([0, 1, 2, 1])
      >>> class_weight_to_sample_weight(y, {0: 1.0, 1: 2.0, 2: 0.5})
      Array([1. , 2. , 0.5, 2. ], dtype=float32)
      >>> one_hot = jnp.eye(3)[y]
      >>> class_weight_to_sample_weight(one_hot, {0: 1.0, 1: 2.0, 2: 0.5},
      ...                               sample_weight=jnp.array([1.0, 0.5, 2.0, 0.0]))
      Array([1., 1., 1., 0.], dtype=float32)
    """
    return _class_weights(y_true, sample_weight, table=_table_of(class_weight))


def _table_of(class_weight: Mapping[int, float]) -> tuple[float, ...]:
    """The checked float32 weight table of ``class_weight`` as a hashable tuple, memoised by its items."""
    try:
        return _memoised_table(tuple(class_weight.items()))
    except (TypeError, AttributeError):  # not a dict, or unhashable weights: check it as it is
        return tuple(_weight_table(class_weight).tolist())


@functools.lru_cache(maxsize=256)
def _memoised_table(items: tuple[tuple[int, float], ...]) -> tuple[float, ...]:
    return tuple(_weight_table(dict(items)).tolist())


@jit_entry(static=("table",), optional=("sample_weight",))
def _class_weights(y_true: jax.Array, sample_weight: jax.Array | None, *, table: tuple[float, ...]) -> jax.Array:
    """The weights of :func:`class_weight_to_sample_weight`, with the dict read into a static ``table``."""
    if not (jnp.issubdtype(y_true.dtype, jnp.integer) or jnp.issubdtype(y_true.dtype, jnp.floating)
            or y_true.dtype == jnp.bool_):
        raise TypeError(f"`y_true` must hold numbers. Received dtype {y_true.dtype}.")
    if y_true.ndim >= 2 and y_true.shape[-1] == 0:
        raise ValueError(f"`y_true` has an empty last axis: shape {y_true.shape}.")
    ids = _class_ids(y_true.astype(jnp.int32) if y_true.dtype == jnp.bool_ else y_true)
    n = len(table)
    valid = (ids >= 0) & (ids < n)
    weights = jnp.where(valid, jnp.asarray(table, jnp.float32)[jnp.clip(ids, 0, n - 1)], jnp.nan)
    if sample_weight is None:
        return weights
    sample_weight = jnp.asarray(sample_weight)
    dtype = sample_weight.dtype if jnp.issubdtype(sample_weight.dtype, jnp.floating) else jnp.float32
    if sample_weight.ndim > weights.ndim:
        raise ValueError(
            f"`sample_weight` of shape {sample_weight.shape} has more axes than the class "
            f"weights of shape {weights.shape} (from y_true of shape {y_true.shape}); Keras "
            "would broadcast them into an outer product. Give sample_weight the shape "
            f"{weights.shape[:1]} or {weights.shape}."
        )
    expanded = sample_weight.reshape(sample_weight.shape + (1,) * (weights.ndim - sample_weight.ndim))
    try:
        out_shape = jnp.broadcast_shapes(expanded.shape, weights.shape)
    except ValueError:
        out_shape = None
    if out_shape != weights.shape:
        raise ValueError(
            f"`sample_weight` of shape {sample_weight.shape} does not broadcast to the class "
            f"weights of shape {weights.shape} (from y_true of shape {y_true.shape})."
        )
    return expanded.astype(dtype) * weights.astype(dtype)
