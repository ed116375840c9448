"""Fused linear + sparse softmax cross entropy against the materialised ``features @ kernel``.

Sizes are ``NxDxV`` (tokens, features, vocabulary). Every implementation maps ``(features,
kernel, labels)`` to the mean per-token loss; timed forward and forward + backward w.r.t.
``features`` and ``kernel``. Two ops:

* ``linear_sparse_softmax_ce``: jaxent's fused loss (default block policy) against jaxent's
  and optax's sparse cross entropy of the materialised ``[N, V]`` logits;
* ``linear_sparse_softmax_ce.blocks`` (only when ``--ops`` names it): the default block
  policy against fixed block sizes, with each one's compiled temporary memory; the figures
  the default was chosen from.

``python -m bench.fused_memory 4096x512x65536 --dtype float32`` prints the compiled temporary
memory (``memory_analysis()``, nothing is run) of every block size against the materialised
form (:func:`memory_table`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

import jaxent
from bench import core, roofline
from bench.core import DTYPES, F32, Op, Prepared, Size
from bench.families.losses import optax_sparse_ce
from jaxent import fused_ce

PRESETS = {
    "cpu": {
        "toy": {"main": [(64, 32, 512)]},
        "quick": {"main": [(512, 128, 4096)]},
        "small": {"main": [(512, 256, 8192)]},
        "medium": {"main": [(1024, 256, 16384)]},
        "large": {"main": [(2048, 512, 32768)]},
    },
    "accelerator": {
        "toy": {"main": [(64, 32, 512)]},
        "quick": {"main": [(2048, 512, 32768)]},
        "small": {"main": [(2048, 512, 32768)]},
        "medium": {"main": [(8192, 2048, 131072)]},
        "large": {"main": [(16384, 4096, 262144)]},
    },
}

# The fixed block sizes the default policy is compared with (op ``.blocks``, and the memory table).
BLOCKS = (256, 512, 1024, 2048, 4096, 8192)


def make_inputs(size: Size, dtype):
    n, d, v = size.shape
    features = jax.random.normal(core.key(9), (n, d), F32).astype(dtype)
    kernel = (jax.random.normal(core.key(10), (d, v), F32) / math.sqrt(d)).astype(dtype)
    labels = jax.random.randint(core.key(11), (n,), 0, v, jnp.int32)
    return features, kernel, labels


def fused_mean(block_size: int | None = None):
    fn = jaxent.nn.linear_sparse_softmax_cross_entropy
    return lambda f, k, y: jnp.mean(fn(f, k, y, block_size=block_size))


def materialised_mean(f, k, y):
    return jnp.mean(jaxent.nn.sparse_softmax_cross_entropy_with_logits(y, f @ k))


def optax_mean(f, k, y):
    return jnp.mean(optax_sparse_ce(y, f @ k))


def _versus_materialised():
    return {"jaxent": fused_mean(), "jaxent_materialised": materialised_mean, "optax": optax_mean}, {}


def _versus_blocks():
    return {"jaxent": fused_mean(), **{f"block={b}": fused_mean(b) for b in BLOCKS}}, {}


OPS = [
    Op("linear_sparse_softmax_ce", "fused", _versus_materialised, make_inputs, ("fwd", "fwd+bwd"),
       doc="nn.linear_sparse_softmax_cross_entropy(features, kernel, labels) vs features @ kernel + CE"),
    Op("linear_sparse_softmax_ce.blocks", "fused", _versus_blocks, make_inputs, ("fwd", "fwd+bwd"), default=False,
       doc=f"the default block policy vs block_size in {list(BLOCKS)}"),
]


class Fused(core.Family):
    name = "fused"
    title = "Fused linear + sparse softmax CE (grad w.r.t. features and kernel; temp = compiled temporaries)"
    presets = PRESETS

    def make_size(self, group, shape):
        n, _, v = shape
        return Size(self.name, group, tuple(shape), core.shape_label(shape), n * v)

    def parse_token(self, token):
        shape = core.split_shape(token, 3)
        return [] if shape is None else [self.make_size("main", shape)]

    def ops(self):
        return list(OPS)

    def prepare(self, op, impl, obj, mode, inputs):
        fn = obj if mode == "fwd" else jax.value_and_grad(obj, argnums=(0, 1))
        compiled, lower_s, compile_s = core.compile_ahead(fn, *inputs)
        value = (lambda out: float(out)) if mode == "fwd" else (lambda out: float(out[0]))
        return Prepared(lambda: compiled(*inputs), value, compiled, lower_s, compile_s)

    def min_bytes(self, op, size, inputs, mode):
        read = core.tree_bytes(inputs)
        return read + (core.tree_bytes(inputs[:2]) if mode == "fwd+bwd" else 0)

    def flops(self, op, size, mode):
        """Matmul flops: 2NDV forward, 6NDV with the backward."""
        n, d, v = size.shape
        return (2 if mode == "fwd" else 6) * n * d * v

    def big_elements(self, op, size, inputs):
        n, _, v = size.shape
        return n * v  # any N x V buffer means the logits were materialised

    def context(self, sizes, budget, clock):
        if not sizes:
            return None
        n, d, v = max(sizes, key=lambda s: s.elements).shape
        return {"matmul": roofline.matmul_rate(n, d, v, F32, budget=max(budget, 0.2), clock=clock)}


FAMILY = Fused()


# ---------------------------------------------------------------------------------------------
# Compiled memory of each block size (nothing runs).


def temp_bytes(fn, shape: Sequence[int], dtype) -> int | None:
    """Compiled temporary bytes of ``value_and_grad(fn)`` w.r.t. features and kernel at ``shape``."""
    n, d, v = shape
    args = (jax.ShapeDtypeStruct((n, d), dtype), jax.ShapeDtypeStruct((d, v), dtype),
            jax.ShapeDtypeStruct((n,), jnp.int32))
    compiled = jax.jit(jax.value_and_grad(fn, argnums=(0, 1))).lower(*args).compile()
    stats = compiled.memory_analysis()
    return None if stats is None else int(stats.temp_size_in_bytes)


def memory_table(shapes: Sequence[Sequence[int]], dtypes: Sequence[str], blocks: Sequence[int] = BLOCKS) -> str:
    """A Markdown table: temporaries of the default and of each block size, and the ratio to the materialised form."""
    lines = ["| N x D x V | dtype | block | temp | materialised / this |", "|---|---|---|---:|---:|"]
    for shape in shapes:
        for name in dtypes:
            dtype = DTYPES[name]
            full = temp_bytes(materialised_mean, shape, dtype)
            n, _, v = shape
            default = min(fused_ce.DEFAULT_BLOCK_SIZE, v)
            rows = [("materialised", full)] + [(f"default ({default})", temp_bytes(fused_mean(), shape, dtype))]
            rows += [(str(b), temp_bytes(fused_mean(b), shape, dtype)) for b in blocks if b <= v]
            for label, temp in rows:
                ratio = "-" if not temp or full is None else f"{full / temp:.1f}x"
                mib = "-" if temp is None else f"{temp / 2**20:.1f} MiB"
                lines.append(f"| {core.shape_label(shape)} | {name} | {label} | {mib} | {ratio} |")
    return "\n".join(lines)
