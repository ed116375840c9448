"""The pieces every Keras 2 optimizer shares, as small optax transformations.

A tf-keras optimizer's ``apply_gradients`` does, in this order (KERAS2_SEMANTICS.md §14, §17):

1. evaluate the learning rate: ``schedule(iterations)``, the count *before* this update;
2. clip the gradients (:func:`clip_gradients`: ``clipnorm``, else ``global_clipnorm``, else
   ``clipvalue``);
3. decay the weights, decoupled: ``θ ← θ - θ·weight_decay·lr`` (:func:`decay_weights`);
4. the optimizer's own rule (RMSprop's :func:`jaxent.optimizers._rmsprop.scale_by_keras_rms`,
   Adam's, SGD's...), which uses the learning rate;
5. the moving average of the weights when ``use_ema`` (:func:`track_ema`, last in the chain:
   it sees ``count``, ``params`` and the final update);
6. ``iterations += 1``.

:func:`keras_chain` runs the pieces in that order. It is ``optax.chain`` plus Keras's one step
counter: it evaluates the learning rate at the count once and hands it, with the count, to every
piece as the extra arguments ``learning_rate=`` and ``count=`` (optax's
``GradientTransformationExtraArgs`` convention; pieces that do not need them ignore them).

Nothing here is jitted: the user's step is compiled once, with these functions inlined.

Rounding: TensorFlow's CPU kernels (which produced the goldens) round every elementwise op to
the variable's dtype, 16-bit ones included, and compute ``rsqrt(x)`` as ``1 / sqrt(x)`` (two
roundings). XLA instead keeps 16-bit intermediates in float32 inside a fusion, rewrites
``a / sqrt(b)`` into ``a * rsqrt(b)`` (an approximation on CPU: 34% of float32 values differ
by an ulp) and may contract ``a·b + c`` into one fused multiply-add. :class:`Rounded` does
arithmetic op by op the way TensorFlow does, under ``jit`` too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = [
    "EmaState",
    "KerasChainState",
    "Rounded",
    "clip_gradients",
    "decay_weights",
    "keras_chain",
    "learning_rate_at",
    "track_ema",
]

Scalar = float | int | jax.Array
"""A hyperparameter: a Python or NumPy number, or a 0-d JAX array (possibly traced)."""

LearningRate = Scalar | optax.Schedule
"""A float, or a callable of the int32 step count (an optax or jaxent schedule)."""


# --- arithmetic rounded op by op, as TensorFlow's kernels do ------------------------------


def _kept(x: jax.Array) -> jax.Array:
    """``x``, as a value XLA cannot fuse into the next op's arithmetic (no FMA, no rsqrt rewrite).

    An identity select (NaN stays NaN) costs a compare per element inside the same fused kernel.
    """
    return jnp.where(x == x, x, jnp.nan)


class Rounded:
    """Elementwise arithmetic in ``dtype`` with one rounding per op, as TensorFlow's CPU kernels.

    16-bit dtypes compute each op in float32 (exact for products, correctly rounded for sums,
    quotients and square roots: float32 has more than twice their precision plus two bits) and
    round the result to the 16-bit format before the next op; other dtypes compute natively,
    each result kept apart from the next op (:func:`_kept`). Values are held in the compute
    dtype; :meth:`out` returns them in ``dtype``.

    Example:
      >>> import jax.numpy as jnp
      >>> r = Rounded(jnp.float16)
      >>> print(r.out(r.rsqrt(r.const(3.0))))  # 1 / f16(sqrt(3)): Keras's float16 rsqrt
      0.577
    """

    def __init__(self, dtype: jnp.dtype) -> None:
        self.dtype = jnp.dtype(dtype)
        self.narrow = self.dtype.itemsize < 4
        self.compute = jnp.dtype(jnp.float32) if self.narrow else self.dtype

    def round(self, x: jax.Array) -> jax.Array:
        """``x`` rounded to ``dtype`` (held in the compute dtype).

        The select between the two conversions is needed: without it LLVM drops the
        float32 -> float16 -> float32 round trip inside XLA's CPU kernels (measured: 6% of
        ``0.9·ν + 0.1·g²`` in float16 came out unrounded), whatever ``xla_allow_excess_precision``.
        """
        return _kept(x.astype(self.dtype)).astype(self.compute)

    def const(self, x: Scalar) -> jax.Array:
        """A hyperparameter or array converted to ``dtype`` (one rounding), in the compute dtype.

        A Python or NumPy number is rounded from its exact value, as TensorFlow converts a
        Python float (``1 - 0.9`` straight to float16, not through float32).
        """
        if isinstance(x, (int, float, np.generic)):
            return jnp.asarray(np.asarray(x, self.dtype)).astype(self.compute)
        x = jnp.asarray(x)
        if x.dtype == self.dtype:
            return x.astype(self.compute)
        return self.round(x)

    def cast(self, x: Scalar) -> jax.Array:
        """A hyperparameter as Keras's ``tf.cast(x, dtype)`` gives it: a Python number goes through float32.

        ``tf.cast`` first makes a float32 tensor of a Python float, so float64 variables see
        ``f64(f32(x))`` (SGD's momentum, Adam's betas in ``β^t``, the weight decay).
        """
        if isinstance(x, (int, float, np.generic)):
            return self.const(np.float32(x))
        return self.const(x)

    def mul(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return self.round(a * b)

    def add(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return self.round(a + b)

    def sub(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return self.round(a - b)

    def div(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return self.round(a / b)

    def sqrt(self, x: jax.Array) -> jax.Array:
        return self.round(jnp.sqrt(x))

    def maximum(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return jnp.maximum(a, b)

    def pow(self, a: jax.Array, b: jax.Array) -> jax.Array:
        return self.round(jnp.power(a, b))

    def rsqrt(self, x: jax.Array) -> jax.Array:
        """``1 / sqrt(x)`` with both roundings (TensorFlow's ``rsqrt`` on CPU)."""
        return self.round(1 / self.round(jnp.sqrt(x)))

    def out(self, x: jax.Array) -> jax.Array:
        return x.astype(self.dtype)


# --- the learning rate and the chain ------------------------------------------------------


def learning_rate_at(learning_rate: LearningRate, count: jax.Array) -> jax.Array:
    """The learning rate of the update at ``count``: ``schedule(count)``, or ``learning_rate`` in float32.

    Keras holds a float learning rate in a float32 variable (float64 parameters see
    ``f64(f32(lr))``) and calls a schedule with the count before the increment.
    """
    if callable(learning_rate):
        return jnp.asarray(learning_rate(count))
    return jnp.asarray(learning_rate).astype(jnp.float32)


class KerasChainState(NamedTuple):
    """State of :func:`keras_chain`: Keras's ``iterations`` and each piece's state."""

    count: jax.Array
    """int32 scalar, the number of updates so far."""
    inner: tuple[Any, ...]
    """The states of the pieces, in order."""


def keras_chain(
    learning_rate: LearningRate, *transforms: optax.GradientTransformation
) -> optax.GradientTransformationExtraArgs:
    """``optax.chain`` with Keras's step counter and learning rate shared by every piece.

    Each update evaluates ``lr = learning_rate_at(learning_rate, count)`` once, runs the pieces
    in order, passing ``learning_rate=lr, count=count`` to those that take extra arguments, and
    increments ``count``. Gradients are first cast to their parameter's dtype when ``params``
    is given (Keras's gradients have their variable's dtype).

    Args:
      learning_rate: a float, or a schedule (a callable of the int32 count).
      *transforms: the pieces, e.g. ``clip_gradients(...)``, a rule, ``decay_weights(...)``.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` whose state is a :class:`KerasChainState`.

    Example:
      >>> import jax.numpy as jnp
      >>> chain = keras_chain(0.1, decay_weights(0.5))
      >>> params = jnp.array(2.0)
      >>> updates, state = chain.update(jnp.array(0.0), chain.init(params), params)
      >>> print(updates, state.count)  # θ·wd·lr = 2·0.5·f32(0.1), rounded in float32
      -0.100000024 1

    Keras: ``Optimizer.apply_gradients`` (its ``iterations`` and ``_learning_rate``).
    """
    pieces = tuple(optax.with_extra_args_support(t) for t in transforms)

    def init_fn(params: optax.Params) -> KerasChainState:
        return KerasChainState(jnp.zeros([], jnp.int32), tuple(t.init(params) for t in pieces))

    def update_fn(
        updates: optax.Updates, state: KerasChainState, params: optax.Params | None = None, **extra_args: Any
    ) -> tuple[optax.Updates, KerasChainState]:
        if params is not None:
            updates = jax.tree.map(lambda g, p: jnp.asarray(g).astype(jnp.asarray(p).dtype), updates, params)
        extra_args = {**extra_args, "learning_rate": learning_rate_at(learning_rate, state.count),
                      "count": state.count}
        inner = []
        for piece, piece_state in zip(pieces, state.inner, strict=True):
            updates, piece_state = piece.update(updates, piece_state, params, **extra_args)
            inner.append(piece_state)
        return updates, KerasChainState(optax.safe_int32_increment(state.count), tuple(inner))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


# --- gradient clipping (Keras's `_clip_gradients`) -----------------------------------------

_ClipRule = Callable[[optax.Updates, Scalar], optax.Updates]


def _accumulation_dtype(*dtypes: jnp.dtype) -> jnp.dtype:
    """The dtype norms are accumulated in: the widest of ``dtypes``, at least float32."""
    result = jnp.dtype(jnp.float32)
    for dtype in dtypes:
        result = jnp.promote_types(result, dtype)
    return result


def _clip_by_norm(grads: optax.Updates, clipnorm: Scalar) -> optax.Updates:
    """``g·c / max(‖g‖₂, c)`` for each gradient ``g`` (``tf.clip_by_norm``)."""

    def clip(g: jax.Array) -> jax.Array:
        acc = _accumulation_dtype(g.dtype)
        g_acc, c = g.astype(acc), jnp.asarray(clipnorm, acc)
        norm = jnp.sqrt(jnp.sum(jnp.square(g_acc)))
        return (g_acc * c / jnp.maximum(norm, c)).astype(g.dtype)

    return jax.tree.map(clip, grads)


def _clip_by_global_norm(grads: optax.Updates, clipnorm: Scalar) -> optax.Updates:
    """Every gradient times ``c·min(1/n, 1/c)``, ``n`` the global norm (``tf.clip_by_global_norm``).

    A non-finite ``n`` makes every gradient NaN, as in TensorFlow.
    """
    leaves = jax.tree.leaves(grads)
    acc = _accumulation_dtype(*(g.dtype for g in leaves))
    norm = jnp.sqrt(sum((jnp.sum(jnp.square(g.astype(acc))) for g in leaves), jnp.zeros([], acc)))
    c = jnp.asarray(clipnorm, acc)
    scale = c * jnp.minimum(1 / norm, 1 / c) + (norm - norm)
    return jax.tree.map(lambda g: g * scale.astype(g.dtype), grads)


def _clip_by_value(grads: optax.Updates, clipvalue: Scalar) -> optax.Updates:
    """Every element clipped to ``[-v, v]`` (``tf.clip_by_value``)."""

    def clip(g: jax.Array) -> jax.Array:
        v = jnp.asarray(clipvalue, g.dtype)
        return jnp.minimum(jnp.maximum(g, -v), v)

    return jax.tree.map(clip, grads)


def _first_enabled(grads: optax.Updates, rules: tuple[tuple[Scalar | None, _ClipRule], ...]) -> optax.Updates:
    """Apply the first enabled ``(threshold, rule)``; a threshold that is None or <= 0 is off.

    A traced threshold (``optax.inject_hyperparams``) is tested at run time with ``where``.
    """
    if not rules:
        return grads
    (threshold, rule), rest = rules[0], rules[1:]
    if threshold is None:
        return _first_enabled(grads, rest)
    if not isinstance(threshold, jax.core.Tracer):
        return rule(grads, threshold) if threshold > 0 else _first_enabled(grads, rest)
    enabled = threshold > 0
    return jax.tree.map(lambda a, b: jnp.where(enabled, a, b), rule(grads, threshold), _first_enabled(grads, rest))


def clip_gradients(
    clipnorm: Scalar | None = None, clipvalue: Scalar | None = None, global_clipnorm: Scalar | None = None
) -> optax.GradientTransformation:
    """Keras's gradient clipping: the first enabled rule of ``clipnorm``, ``global_clipnorm``, ``clipvalue``.

    Formula, for gradients ``g`` (each rule is off when its value is None or ``<= 0``)::

        clipnorm c:         g ← g·c / max(‖g‖₂, c)            per variable
        global_clipnorm c:  g ← g·c·min(1/n, 1/c),  n = sqrt(Σ_i ‖g_i‖₂²)
        clipvalue v:        g ← clip(g, -v, v)                elementwise

    Args:
      clipnorm: the largest L2 norm of each gradient.
      clipvalue: the largest absolute value of each gradient element.
      global_clipnorm: the largest L2 norm of all gradients together.

    Returns:
      A stateless ``optax.GradientTransformation``.

    Example:
      >>> import jax.numpy as jnp
      >>> clip = clip_gradients(clipnorm=1.0, clipvalue=0.1)  # clipnorm wins
      >>> print(clip.update(jnp.array([3.0, -4.0]), clip.init(None))[0])
      [ 0.6 -0.8]

    Keras: ``Optimizer._clip_gradients`` (tf-keras 2.21), clipping before everything else.

    Differs from Keras: norms of 16-bit gradients are accumulated in float32 (Keras accumulates
    in 16 bits, which overflows).
    """
    rules = ((clipnorm, _clip_by_norm), (global_clipnorm, _clip_by_global_norm), (clipvalue, _clip_by_value))

    def update_fn(
        updates: optax.Updates, state: optax.EmptyState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, optax.EmptyState]:
        del params
        return _first_enabled(updates, rules), state

    return optax.GradientTransformation(lambda params: optax.EmptyState(), update_fn)


# --- decoupled weight decay ---------------------------------------------------------------


def decay_weights(weight_decay: Scalar | None) -> optax.GradientTransformationExtraArgs:
    """Keras's decoupled weight decay, ``θ ← θ - θ·weight_decay·lr`` applied before the rule's step.

    Placed *after* the rule in :func:`keras_chain`, it receives the rule's update ``u`` and
    returns the update that takes ``θ`` to Keras's two assignments' result::

        θ₁ = θ - θ·wd·lr        (in θ's dtype)
        θ₂ = θ₁ + u
        update = θ₂ - θ         (exact whenever θ₂ is within a factor 2 of θ, so
                                 optax.apply_updates lands on θ₂)

    Args:
      weight_decay: the decay coefficient; None (or 0) turns the piece into the identity.

    Returns:
      A stateless ``optax.GradientTransformationExtraArgs`` that needs ``params`` and the
      ``learning_rate=`` extra argument (:func:`keras_chain` passes it).

    Example:
      >>> import jax.numpy as jnp
      >>> wd = decay_weights(0.5)
      >>> print(wd.update(jnp.array(-0.1), wd.init(None), jnp.array(2.0), learning_rate=0.1)[0])  # -0.1 - 2·0.5·0.1
      -0.20000005

    Keras: ``Optimizer._apply_weight_decay`` (tf-keras 2.21).
    """

    def update_fn(
        updates: optax.Updates,
        state: optax.EmptyState,
        params: optax.Params | None = None,
        *,
        learning_rate: jax.Array | None = None,
        **extra_args: Any,
    ) -> tuple[optax.Updates, optax.EmptyState]:
        del extra_args
        if weight_decay is None:
            return updates, state
        if params is None:
            raise ValueError("weight_decay needs the parameters: call update(grads, state, params).")
        if learning_rate is None:
            raise ValueError("decay_weights needs the learning rate: call it through keras_chain.")

        def decay(u: jax.Array, p: jax.Array) -> jax.Array:
            theta = jnp.asarray(p).astype(u.dtype)
            r = Rounded(u.dtype)
            t = r.const(theta)
            decayed = r.sub(t, r.mul(r.mul(t, r.cast(weight_decay)), r.const(learning_rate)))
            return r.out(r.sub(r.add(decayed, r.const(u)), t))

        return jax.tree.map(decay, updates, params), state

    return optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update_fn)


# --- the moving average of the weights (use_ema) ------------------------------------------


class EmaState(NamedTuple):
    """State of :func:`track_ema`: the moving average of each parameter, in its dtype."""

    average: optax.Params


def track_ema(ema_momentum: Scalar = 0.99, ema_overwrite_frequency: int | None = None) -> optax.GradientTransformationExtraArgs:
    """Keras's ``use_ema``: a moving average of the parameters, and every k steps θ set to it.

    Last in :func:`keras_chain`: it receives the update ``u`` the earlier pieces computed and,
    with ``θ' = θ + u`` (what ``optax.apply_updates`` gives), per parameter::

        avg ← m·avg + (1 - m)·θ'                 (avg starts as θ at init; Keras's
                                                  arithmetic form, each op rounded)
        if k and (count + 1) % k == 0:  θ' ← avg  (count: updates before this one, so the
                                                  overwrite follows updates k, 2k, ...)
        update = θ' - θ

    Args:
      ema_momentum: ``m``, in ``[0, 1]``.
      ema_overwrite_frequency: ``k``; None (or 0) never overwrites.

    Returns:
      An ``optax.GradientTransformationExtraArgs`` (state :class:`EmaState`) that needs
      ``params`` and the ``count=`` extra argument (:func:`keras_chain` passes it).

    Example:
      >>> import jax.numpy as jnp
      >>> ema = track_ema(0.5, ema_overwrite_frequency=1)
      >>> params = jnp.array(1.0)
      >>> u, state = ema.update(jnp.array(-0.1), ema.init(params), params, count=jnp.array(0))
      >>> print(u, state.average)  # avg = 0.5·1 + 0.5·0.9; θ overwritten by it
      -0.050000012 0.95

    Keras: ``Optimizer._update_model_variables_moving_average`` and the overwrite in
    ``_distributed_apply_gradients_fn`` (tf-keras 2.21).
    """

    def init_fn(params: optax.Params) -> EmaState:
        return EmaState(jax.tree.map(lambda p: jnp.array(p, copy=True), params))

    def update_fn(
        updates: optax.Updates,
        state: EmaState,
        params: optax.Params | None = None,
        *,
        count: jax.Array | None = None,
        **extra_args: Any,
    ) -> tuple[optax.Updates, EmaState]:
        del extra_args
        if params is None:
            raise ValueError("use_ema needs the parameters: call update(grads, state, params).")
        if count is None:
            raise ValueError("track_ema needs the step count: call it through keras_chain.")
        overwrite = None
        if ema_overwrite_frequency:
            overwrite = (count + 1) % ema_overwrite_frequency == 0

        def leaf(u: jax.Array, p: jax.Array, avg: jax.Array) -> tuple[jax.Array, jax.Array]:
            p = jnp.asarray(p)
            r = Rounded(p.dtype)
            theta = r.const(p)
            new = r.add(theta, r.const(u))
            avg = r.add(r.mul(r.const(ema_momentum), r.const(avg)), r.mul(r.const(1 - ema_momentum), new))
            if overwrite is not None:
                new = jnp.where(overwrite, avg, new)
            return r.out(r.sub(new, theta)).astype(jnp.asarray(u).dtype), r.out(avg)

        averages, treedef = jax.tree.flatten(state.average)
        stepped = [leaf(u, p, a) for u, p, a in
                   zip(treedef.flatten_up_to(updates), treedef.flatten_up_to(params), averages)]
        return (treedef.unflatten([out[0] for out in stepped]),
                EmaState(treedef.unflatten([out[1] for out in stepped])))

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


# --- per-leaf rules ------------------------------------------------------------------------


def map_slots(
    leaf: Callable[..., tuple[jax.Array, ...]], n_out: int, slots: optax.Updates, *trees: optax.Updates
) -> tuple[optax.Updates, ...]:
    """``leaf(slot, *others)`` on every leaf of ``slots`` (and the matching leaves of ``trees``).

    ``leaf`` returns ``n_out`` arrays; the result is ``n_out`` trees shaped like ``slots`` (the
    updates and the new slots of an elementwise rule).

    Example:
      >>> import jax.numpy as jnp
      >>> doubled, summed = map_slots(lambda s, g: (2 * s, s + g), 2, {"w": jnp.ones(2)}, {"w": jnp.ones(2)})
      >>> print(doubled["w"], summed["w"])
      [2. 2.] [2. 2.]
    """
    leaves, treedef = jax.tree.flatten(slots)
    stepped = [leaf(*args) for args in zip(leaves, *(treedef.flatten_up_to(t) for t in trees))]
    return tuple(treedef.unflatten([out[i] for out in stepped]) for i in range(n_out))
