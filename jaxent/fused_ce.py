"""Fused linear projection + sparse softmax cross entropy for large vocabularies.

The last layer of a language model projects ``N`` token features ``[N, D]`` onto a vocabulary
of ``V`` classes and takes the sparse softmax cross entropy of the ``[N, V]`` logits
``x = features @ kernel + bias``; per token, with ``lse = logsumexp(x)``::

    loss = (1 - label_smoothing) * (lse - x[label]) + label_smoothing * (lse - mean(x))
           + z_loss * lse**2

With ``N = 8192`` tokens and ``V = 128k`` the logits alone take 4 GiB in float32, and autodiff
keeps them (and the softmax) for the backward pass. Here they are never stored:

* the forward pass loops over vocabulary blocks of ``block_size`` columns, computing each
  ``[N, block_size]`` block of logits, folding it into an online (running-max) log-sum-exp
  in float32 together with the label logit and, for label smoothing, the sum of the logits;
* the backward pass (a :func:`jax.custom_vjp`) recomputes each block of logits from the saved
  per-token ``lse``, forms ``d loss / d logits`` for the block, accumulates ``d features``
  over blocks and writes that block's ``d kernel`` and ``d bias`` columns.

Temporaries are therefore ``O(N * block_size)`` instead of ``O(N * V)``; the residuals kept
between the passes are the inputs and one float32 per token. When ``V`` is not a multiple of
the block, the last block is shifted back to end at column ``V`` and its columns already seen
are masked out, so the kernel is never padded or copied.

With ``axis_name`` the same function is the vocabulary-parallel loss under
:func:`jax.shard_map`: each device holds a ``[D, V / devices]`` slice of the kernel (and bias),
and the per-shard maxima, sums of exponentials, label logits and logit sums are combined with
``lax.pmax`` / ``lax.psum`` across ``axis_name``.

Example (for 4096 tokens, ``D = 512``, ``V = 65536`` the compiled float32 value-and-gradient
needs 34 MiB of temporaries instead of 2 GiB, 60x less, with the default blocks of 1024):

  >>> features = jnp.array([[1.0, 0.0], [0.0, 2.0]])
  >>> kernel = jnp.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])  # [D, V]
  >>> linear_sparse_softmax_cross_entropy(features, kernel, jnp.array([2, 0]), label_smoothing=0.1)
  Array([0.50760597, 2.1429317 ], dtype=float32)
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from jaxent import _serialization, _validation
from jaxent._inputs import as_labels, jit_entry
from jaxent._objects import Module
from jaxent._reduction import Reduction, reduce_losses

__all__ = ["linear_sparse_softmax_cross_entropy", "LinearSparseCategoricalCrossentropy"]

DEFAULT_BLOCK_SIZE = 1024
"""Vocabulary columns per block when ``block_size`` is None (clipped to the vocabulary).

Chosen from ``python -m bench`` (bench/RESULTS.md): temporaries grow with the block (float32
value-and-gradient at N=4096, D=512, V=65536: 17 / 34 / 68 / 136 MiB for 512 / 1024 / 2048 /
4096 against 2 GiB materialised), and on the CPU blocks of 512 to 2048 were 4-21 % faster
than 4096 forward and backward at 2048x512x32768 and 4096x512x65536 (smaller blocks stay in cache). 1024 keeps
the temporaries 60x below the materialised logits and each block's matmul large.
"""

_LAYOUTS = ("dv", "vd")


def _vocab_axis(kernel_layout: str) -> int:
    """The kernel axis that holds the vocabulary: 1 for ``[D, V]`` ("dv"), 0 for ``[V, D]`` ("vd")."""
    return 1 if kernel_layout == "dv" else 0


@dataclasses.dataclass(frozen=True)
class _Config:
    """The static options of one fused computation (hashable: a ``custom_vjp`` static argument)."""

    kernel_layout: str
    block_size: int
    ignore_class: int | None
    label_smoothing: float
    z_loss: float
    axis_name: str | None

    @property
    def vocab_axis(self) -> int:
        return _vocab_axis(self.kernel_layout)


# Trace-time validation.


def _check_arrays(
    features: jax.Array, kernel: jax.Array, labels: jax.Array, bias: jax.Array | None, layout: str
) -> None:
    shapes = f"features.shape={features.shape}, kernel.shape={kernel.shape}, labels.shape={labels.shape}"
    if not jnp.issubdtype(features.dtype, jnp.floating) or not jnp.issubdtype(kernel.dtype, jnp.floating):
        raise TypeError(
            f"`features` and `kernel` must be floating point. Received: features.dtype={features.dtype}, "
            f"kernel.dtype={kernel.dtype}"
        )
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise TypeError(f"`labels` must be integers (int32 or int64). Received: labels.dtype={labels.dtype}")
    if features.ndim < 1 or kernel.ndim != 2:
        raise ValueError(f"`features` must have rank >= 1 and `kernel` rank 2. Received: {shapes}")
    depth_axis = 1 - _vocab_axis(layout)
    if features.shape[-1] != kernel.shape[depth_axis]:
        raise ValueError(
            f"`features.shape[-1]` must equal the feature size of `kernel` (axis {depth_axis} "
            f"for kernel_layout={layout!r}). Received: {shapes}"
        )
    if labels.shape != features.shape[:-1]:
        raise ValueError(f"`labels.shape` must equal `features.shape[:-1]`. Received: {shapes}")
    vocab = kernel.shape[_vocab_axis(layout)]
    if vocab == 0:
        raise ValueError(f"`kernel` must have at least one vocabulary column. Received: {shapes}")
    if bias is not None and bias.shape != (vocab,):
        raise ValueError(f"`bias.shape` must be (V,) = ({vocab},). Received: bias.shape={bias.shape}, {shapes}")
    if bias is not None and not jnp.issubdtype(bias.dtype, jnp.floating):
        raise TypeError(f"`bias` must be floating point. Received: bias.dtype={bias.dtype}")


# Blocks of the vocabulary.


def _num_blocks(vocab: int, block: int) -> int:
    return -(-vocab // block)


def _vocab_offset(vocab: int, axis_name: str | None) -> jax.Array:
    """The global id of this shard's first vocabulary column (0 without ``axis_name``)."""
    return jnp.int32(0) if axis_name is None else lax.axis_index(axis_name) * vocab


def _global_vocab_size(vocab: int, axis_name: str | None) -> int:
    return vocab if axis_name is None else vocab * lax.axis_size(axis_name)


def _block_start(i: jax.Array, vocab: int, block: int) -> tuple[jax.Array, jax.Array]:
    """First column of block ``i`` and the mask of its columns not seen in earlier blocks.

    The last block is moved back to end at ``vocab``; its columns before ``i * block`` belong
    to the previous block and are masked out.
    """
    start = jnp.minimum(i * block, vocab - block)
    fresh = start + jnp.arange(block) >= i * block
    return start, fresh


def _kernel_block(kernel: jax.Array, start: jax.Array, cfg: _Config) -> jax.Array:
    return lax.dynamic_slice_in_dim(kernel, start, cfg.block_size, axis=cfg.vocab_axis)


def _bias_block(bias: jax.Array | None, start: jax.Array, block: int) -> jax.Array:
    return jnp.float32(0) if bias is None else lax.dynamic_slice_in_dim(bias, start, block).astype(jnp.float32)


def _loop_over_blocks(step, num_blocks: int, init):
    """``step`` folded over blocks ``0 .. num_blocks - 1`` from ``init`` (a ``fori_loop``).

    Block 0 runs before the loop so that the carry takes the type ``step`` gives it: inside
    :func:`jax.shard_map` a carry made of constants would not vary over the mesh axes that the
    inputs vary over, and ``fori_loop`` requires the carry type to be unchanged by a step.
    """
    return lax.fori_loop(1, num_blocks, step, step(0, init))


def _varying_zero(*arrays: jax.Array | None) -> jax.Array:
    """A scalar int 0 that, inside :func:`jax.shard_map`, varies over every axis one of ``arrays`` varies over."""
    return sum((jnp.zeros_like(x, jnp.int32, shape=()) for x in arrays if x is not None), jnp.int32(0))


def _vary_as(x: jax.Array | None, zero: jax.Array) -> jax.Array | None:
    """``x + 0``: the same values, varying over the axes of ``zero`` as well (XLA drops the add)."""
    return None if x is None else x + zero.astype(x.dtype)


def _matmul(a: jax.Array, b: jax.Array, a_axis: int, b_axis: int, dtype: jnp.dtype) -> jax.Array:
    """``a`` and ``b`` contracted over ``a_axis`` and ``b_axis``, in ``dtype`` with float32 accumulation."""
    dimensions = (((a_axis,), (b_axis,)), ((), ()))
    return lax.dot_general(a.astype(dtype), b.astype(dtype), dimensions, preferred_element_type=jnp.float32)


def _block_logits(features: jax.Array, kernel_block: jax.Array, bias_block: jax.Array, cfg: _Config) -> jax.Array:
    """``features @ kernel_block + bias_block`` as ``[N, block]`` float32."""
    dtype = jnp.promote_types(features.dtype, kernel_block.dtype)
    return _matmul(features, kernel_block, 1, 1 - cfg.vocab_axis, dtype) + bias_block


# The forward pass.


def _label_hits(labels: jax.Array, columns: jax.Array) -> jax.Array:
    """``[N, block]`` mask of the (global) label column of each row."""
    return labels[:, None] == columns[None, :]


def _forward_stats(
    cfg: _Config, features: jax.Array, kernel: jax.Array, bias: jax.Array | None, labels: jax.Array
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Per-token float32 statistics over the whole vocabulary, all relative to the row maximum ``m``.

    Returns ``(m, log(sum(exp(x - m))), x[label] - m, mean(x) - m)``. Keeping every quantity
    relative to ``m`` makes the loss exact to float32 rounding at logits of any magnitude (at
    1e4, ``lse - x[label]`` formed at full magnitude is off by ~5e-4). The sum of the logits for
    label smoothing is kept relative to a per-token reference, the maximum of block 0.
    """
    vocab, block, n = kernel.shape[cfg.vocab_axis], cfg.block_size, features.shape[0]
    offset = _vocab_offset(vocab, cfg.axis_name)

    def step(i, carry):
        running_max, sum_exp, label_logit, reference, logit_sum = carry
        start, fresh = _block_start(i, vocab, block)
        logits = _block_logits(features, _kernel_block(kernel, start, cfg), _bias_block(bias, start, block), cfg)
        logits = jnp.where(fresh, logits, -jnp.inf)
        block_max = jnp.max(logits, axis=1)
        new_max = jnp.maximum(running_max, block_max)
        sum_exp = sum_exp * jnp.exp(running_max - new_max) + jnp.sum(jnp.exp(logits - new_max[:, None]), axis=1)
        hits = _label_hits(labels, offset + start + jnp.arange(block)) & fresh
        label_logit = label_logit + jnp.sum(jnp.where(hits, logits, 0), axis=1)
        if cfg.label_smoothing:
            if isinstance(i, int) and i == 0:  # block 0 runs before the loop: fix the reference
                reference = jnp.where(jnp.isfinite(block_max), block_max, 0)
            logit_sum = logit_sum + jnp.sum(jnp.where(fresh, logits - reference[:, None], 0), axis=1)
        return new_max, sum_exp, label_logit, reference, logit_sum

    zeros = jnp.zeros((n,), jnp.float32)
    init = (jnp.full((n,), -jnp.inf, jnp.float32), zeros, zeros, zeros, zeros)
    running_max, sum_exp, label_logit, reference, logit_sum = _loop_over_blocks(step, _num_blocks(vocab, block), init)
    if cfg.axis_name is not None:
        shard_max = running_max
        running_max = lax.pmax(shard_max, cfg.axis_name)
        sum_exp = lax.psum(sum_exp * jnp.exp(shard_max - running_max), cfg.axis_name)
        label_logit = lax.psum(label_logit, cfg.axis_name)
    # The maximum stands in for a finite shift: an all -inf row keeps 0 (its loss is then inf or NaN).
    shift = jnp.where(jnp.isfinite(running_max), running_max, 0)
    logit_mean = zeros
    if cfg.label_smoothing:
        logit_sum = logit_sum + vocab * (reference - shift)
        if cfg.axis_name is not None:
            logit_sum = lax.psum(logit_sum, cfg.axis_name)
        logit_mean = logit_sum / _global_vocab_size(vocab, cfg.axis_name)
    return shift, jnp.log(sum_exp * jnp.exp(running_max - shift)), label_logit - shift, logit_mean


def _label_masks(cfg: _Config, labels: jax.Array, num_classes: int) -> tuple[jax.Array, jax.Array]:
    """``(in_range, counted)``: labels in ``[0, V)``, and rows that are in range and not ignored.

    Compared as int32 (or wider): ``uint8`` labels against ``V = 256`` or ``ignore_class=-100``
    would wrap in their own dtype.
    """
    labels = as_labels(labels)
    in_range = (labels >= 0) & (labels < num_classes)
    counted = in_range if cfg.ignore_class is None else in_range & (labels != cfg.ignore_class)
    return in_range, counted


def _fused_loss(
    cfg: _Config, features: jax.Array, kernel: jax.Array, bias: jax.Array | None, labels: jax.Array
) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
    """Per-token loss ``[N]`` float32, and the per-token ``(m, log(sum(exp(x - m))))`` the backward needs."""
    num_classes = _global_vocab_size(kernel.shape[cfg.vocab_axis], cfg.axis_name)
    shift, log_sum_exp, label_logit, logit_mean = _forward_stats(cfg, features, kernel, bias, labels)
    smoothing = cfg.label_smoothing
    # The smoothed target logit first, so that the loss rounds once at its own magnitude.
    target_logit = (1 - smoothing) * label_logit + smoothing * logit_mean if smoothing else label_logit
    loss = log_sum_exp - target_logit
    if cfg.z_loss:
        loss = loss + cfg.z_loss * jnp.square(shift + log_sum_exp)
    in_range, _ = _label_masks(cfg, labels, num_classes)
    loss = jnp.where(in_range, loss, jnp.nan)
    if cfg.ignore_class is not None:
        loss = jnp.where(as_labels(labels) != cfg.ignore_class, loss, 0)
    return loss, (shift, log_sum_exp)


# The backward pass.


def _block_dlogits(
    cfg: _Config,
    logits: jax.Array,
    shift: jax.Array,
    log_sum_exp: jax.Array,
    row_scale: jax.Array,
    hits: jax.Array,
    fresh: jax.Array,
    num_classes: int,
) -> jax.Array:
    """``g * d loss / d logits`` for one block: ``g * (softmax * (1 + 2 z lse) - y_smoothed)``.

    The softmax is ``exp((x - m) - log(sum(exp(x - m))))``, exact at any magnitude of ``x``.
    """
    softmax = jnp.exp((logits - shift[:, None]) - log_sum_exp[:, None])
    if cfg.z_loss:
        softmax = softmax * (1 + 2 * cfg.z_loss * (shift + log_sum_exp))[:, None]
    target = (1 - cfg.label_smoothing) * hits.astype(jnp.float32) + cfg.label_smoothing / num_classes
    # ``where``, not a product, so that rows with a zero cotangent stay 0 even if their lse is inf.
    return jnp.where(fresh & (row_scale != 0)[:, None], (softmax - target) * row_scale[:, None], 0)


def _accumulate_block(total: jax.Array, update: jax.Array, start: jax.Array, axis: int) -> jax.Array:
    """``total`` with ``update`` added at ``start`` along ``axis`` (masked columns add 0)."""
    current = lax.dynamic_slice_in_dim(total, start, update.shape[axis], axis=axis)
    return lax.dynamic_update_slice_in_dim(total, current + update.astype(total.dtype), start, axis=axis)


def _fused_backward(cfg: _Config, residuals, cotangent: jax.Array):
    features, kernel, bias, labels, (shift, log_sum_exp) = residuals
    vocab, block = kernel.shape[cfg.vocab_axis], cfg.block_size
    num_classes = _global_vocab_size(vocab, cfg.axis_name)
    offset = _vocab_offset(vocab, cfg.axis_name)
    _, counted = _label_masks(cfg, labels, num_classes)
    row_scale = jnp.where(counted, cotangent, 0).astype(jnp.float32)
    dtype = jnp.promote_types(features.dtype, kernel.dtype)
    # The rows that contribute nothing (ignored, out of range, or weight 0 in the Loss class:
    # a zero cotangent) have zero dlogits, but ``features.T @ dlogits`` would still multiply
    # a NaN or inf feature there by 0 and poison every column of d kernel. Their features are
    # zeroed for the kernel's matmul only (the "double where"); the other rows are untouched.
    kernel_features = jnp.where((row_scale != 0)[:, None], features, jnp.zeros((), features.dtype))

    def step(i, carry):
        dfeatures, dkernel, dbias = carry
        start, fresh = _block_start(i, vocab, block)
        kernel_block = _kernel_block(kernel, start, cfg)
        logits = _block_logits(features, kernel_block, _bias_block(bias, start, block), cfg)
        hits = _label_hits(labels, offset + start + jnp.arange(block))
        dlogits = _block_dlogits(cfg, logits, shift, log_sum_exp, row_scale, hits, fresh, num_classes)
        # dlogits [N, block] is cast to the matmul dtype (bf16 stays bf16), accumulated in float32.
        dfeatures = dfeatures + _matmul(dlogits, kernel_block, 1, cfg.vocab_axis, dtype)
        if cfg.kernel_layout == "dv":
            dkernel_block = _matmul(kernel_features, dlogits, 0, 0, dtype)  # [D, block]
        else:
            dkernel_block = _matmul(dlogits, kernel_features, 0, 0, dtype)  # [block, D]
        dkernel = _accumulate_block(dkernel, dkernel_block, start, cfg.vocab_axis)
        if dbias is not None:
            dbias = _accumulate_block(dbias, jnp.sum(dlogits, axis=0), start, 0)
        return dfeatures, dkernel, dbias

    init = (
        jnp.zeros(features.shape, jnp.float32),
        jnp.zeros_like(kernel),
        None if bias is None else jnp.zeros_like(bias),
    )
    dfeatures, dkernel, dbias = _loop_over_blocks(step, _num_blocks(vocab, block), init)
    if cfg.axis_name is not None:
        dfeatures = lax.psum(dfeatures, cfg.axis_name)
    return dfeatures.astype(features.dtype), dkernel, dbias, None


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _fused(
    cfg: _Config, features: jax.Array, kernel: jax.Array, bias: jax.Array | None, labels: jax.Array
) -> jax.Array:
    return _fused_loss(cfg, features, kernel, bias, labels)[0]


def _fused_forward(cfg, features, kernel, bias, labels):
    loss, stats = _fused_loss(cfg, features, kernel, bias, labels)
    return loss, (features, kernel, bias, labels, stats)


_fused.defvjp(_fused_forward, _fused_backward)


# The public function.


@jit_entry(
    static=("ignore_class", "label_smoothing", "z_loss", "block_size", "kernel_layout", "axis_name", "check_labels"),
    optional=("bias",),
)
def linear_sparse_softmax_cross_entropy(
    features: jax.typing.ArrayLike,
    kernel: jax.typing.ArrayLike,
    labels: jax.typing.ArrayLike,
    *,
    bias: jax.typing.ArrayLike | None = None,
    ignore_class: int | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    block_size: int | None = None,
    kernel_layout: str = "dv",
    axis_name: str | None = None,
    check_labels: bool = False,
) -> jax.Array:
    """Sparse softmax cross entropy of ``features @ kernel + bias``, never storing the logits.

    With ``x = features @ kernel + bias`` (one row per token), ``lse = logsumexp(x)`` and
    ``ls = label_smoothing``, the loss of a token with label ``y`` over ``V`` classes is::

        loss = (1 - ls) * (lse - x[y]) + ls * (lse - mean(x)) + z_loss * lse**2

    that is :func:`jaxent.nn.sparse_softmax_cross_entropy_with_logits` with the one-hot label
    smoothed as Keras's categorical crossentropy smooths it (``onehot * (1 - ls) + ls / V``),
    plus the PaLM z-loss. Tokens labelled ``ignore_class`` get 0 and no gradient; a label
    outside ``[0, V)`` that is not ``ignore_class`` gives NaN for its token and, with
    ``check_labels=True`` under :func:`jax.experimental.checkify.checkify`, an error naming the
    label and the range.

    Memory: the ``[N, V]`` logits are never stored. The forward pass loops over blocks of
    ``block_size`` vocabulary columns with an online log-sum-exp; the backward pass
    (:func:`jax.custom_vjp`) recomputes each block from the saved ``lse``. Temporaries are
    ``O(N * block_size)``, residuals the inputs plus one float32 per token. Matmuls accumulate
    in float32 (``preferred_element_type``) and the softmax is float32 for 16-bit inputs; the
    gradients come back in the dtypes of ``features``, ``kernel`` and ``bias``. Reverse mode
    only (``jax.grad``, ``jax.vjp``); forward mode (``jax.jvp``) is not defined.

    Args:
      features: ``[..., D]`` float token features (any leading axes, flattened to ``N``).
      kernel: ``[D, V]`` (``kernel_layout="dv"``, a Flax ``Dense`` kernel) or ``[V, D]``
        (``"vd"``, tied embeddings) float projection.
      labels: ``features.shape[:-1]`` integer class ids (global ids with ``axis_name``).
      bias: optional ``[V]`` float bias.
      ignore_class: label value whose tokens get 0 and no gradient.
      label_smoothing: in ``[0, 1]``.
      z_loss: coefficient ``>= 0`` of ``lse**2``.
      block_size: vocabulary columns per block (default ``min(1024, V)``).
      kernel_layout: ``"dv"`` or ``"vd"``.
      axis_name: vocabulary-parallel mode, inside :func:`jax.shard_map` (with its default
        ``check_vma=True``): ``kernel`` (and ``bias``) hold this device's contiguous slice of
        the vocabulary, shards ordered by ``lax.axis_index(axis_name)``, while ``features``
        and ``labels`` are the same on every device of the axis; per-shard statistics are
        combined with ``pmax``/``psum``, every device gets the full loss and ``d features``
        is summed over the axis. Tokens may be sharded over other axes (data parallel), and
        need no option for it.
      check_labels: add the opt-in ``checkify`` check of the labels (an effect in the caller's jaxpr).

    Returns:
      ``labels.shape`` float32 per-token losses.

    Raises:
      ValueError, TypeError: at trace time, for mismatched shapes, non-integer labels or bad
        options (naming the argument and what was received).

    Example:
      >>> features = jnp.array([[1.0, 0.0], [0.0, 2.0]])
      >>> kernel = jnp.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])
      >>> linear_sparse_softmax_cross_entropy(features, kernel, jnp.array([2, 0]), block_size=2)
      Array([0.40760595, 2.1429317 ], dtype=float32)
    """
    options = _validation.check_options(
        {
            "ignore_class": ignore_class,
            "label_smoothing": label_smoothing,
            "z_loss": z_loss,
            "block_size": block_size,
            "kernel_layout": kernel_layout,
        }
    )
    _check_arrays(features, kernel, labels, bias, kernel_layout)
    vocab = kernel.shape[_vocab_axis(kernel_layout)]
    cfg = _Config(
        kernel_layout=kernel_layout,
        block_size=min(options["block_size"] or DEFAULT_BLOCK_SIZE, vocab),
        ignore_class=options["ignore_class"],
        label_smoothing=options["label_smoothing"],
        z_loss=options["z_loss"],
        axis_name=axis_name,
    )
    flat_labels = as_labels(labels.reshape(-1))  # after the dtype check: uint8 is accepted, compared as int32
    with _validation.label_checks(check_labels):
        _validation.check_sparse_labels(flat_labels, _global_vocab_size(vocab, axis_name), cfg.ignore_class)
    # Inside shard_map, give the inputs of the custom_vjp a common type, so that each gradient
    # varies over the axes its input does; JAX then sums a replicated input's gradient over the
    # axes it was broadcast along (the kernel under data parallelism). With ``axis_name`` the
    # tokens stay replicated over the vocabulary axis and their gradient is summed there.
    param_zero = _varying_zero(features, labels, kernel, bias)
    token_zero = _varying_zero(features, labels) if axis_name is not None else param_zero
    loss = _fused(
        cfg,
        _vary_as(features.reshape(-1, features.shape[-1]), token_zero),
        _vary_as(kernel, param_zero),
        _vary_as(bias, param_zero),
        _vary_as(flat_labels, token_zero),
    )
    return loss.reshape(labels.shape)


# The Loss class.


@dataclasses.dataclass(frozen=True, eq=False)
class LinearSparseCategoricalCrossentropy(Module):
    """:func:`linear_sparse_softmax_cross_entropy` as a Loss class, weighted and reduced.

    Called as ``loss(features, kernel, labels, bias=None, sample_weight=None)``. The per-token
    losses are weighted and reduced through the shared path of :mod:`jaxent._reduction` (the
    one every Keras Loss class uses): ``"auto"``/``"sum_over_batch_size"`` divides by the number
    of tokens not labelled ``ignore_class`` (0 when there is none), ``"sum"``, ``"none"``.
    A frozen pytree like every jaxent object. Not a :class:`jaxent.losses.Loss`: it takes features and a kernel,
    not ``(y_true, y_pred)``.

    Example:
      >>> loss = LinearSparseCategoricalCrossentropy(ignore_class=-1)
      >>> loss(jnp.array([[1.0, 0.0], [0.0, 2.0]]), jnp.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]), jnp.array([2, -1]))
      Array(0.40760595, dtype=float32)
    """

    ignore_class: int | None = None
    label_smoothing: float = 0.0
    z_loss: float = 0.0
    block_size: int | None = None
    kernel_layout: str = "dv"
    reduction: Reduction | str = dataclasses.field(default=Reduction.AUTO, kw_only=True)
    name: str | None = dataclasses.field(default="linear_sparse_categorical_crossentropy", kw_only=True)
    check_labels: bool = dataclasses.field(default=False, kw_only=True, metadata={"keras_config": False})

    def __post_init__(self) -> None:
        options = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for name, value in _validation.check_options(options).items():
            object.__setattr__(self, name, value)

    def get_config(self) -> dict[str, Any]:
        """Every option, Keras-style (``reduction`` as its string): ``from_config`` rebuilds the loss."""
        return _serialization.fields_config(self)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LinearSparseCategoricalCrossentropy:
        """The loss a :meth:`get_config` dict describes."""
        return cls(**config)

    def __call__(
        self,
        features: jax.typing.ArrayLike,
        kernel: jax.typing.ArrayLike,
        labels: jax.typing.ArrayLike,
        bias: jax.typing.ArrayLike | None = None,
        sample_weight: jax.typing.ArrayLike | None = None,
    ) -> jax.Array:
        return _reduced_linear_loss(self, features, kernel, labels, bias, sample_weight)


@jit_entry(optional=("bias", "sample_weight"), objects=("loss",))
def _reduced_linear_loss(
    loss: LinearSparseCategoricalCrossentropy,
    features: jax.Array,
    kernel: jax.Array,
    labels: jax.Array,
    bias: jax.Array | None,
    sample_weight: jax.Array | None,
) -> jax.Array:
    values = linear_sparse_softmax_cross_entropy(
        features,
        kernel,
        labels,
        bias=bias,
        ignore_class=loss.ignore_class,
        label_smoothing=loss.label_smoothing,
        z_loss=loss.z_loss,
        block_size=loss.block_size,
        kernel_layout=loss.kernel_layout,
        check_labels=loss.check_labels,
    )
    mask = None if loss.ignore_class is None else as_labels(labels) != loss.ignore_class
    return reduce_losses(values, sample_weight, loss.reduction, mask)
