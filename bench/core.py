"""What every family shares: sizes, ops, the family interface, deterministic inputs, Keras 3.

A *family* (one module under :mod:`bench.families`) owns everything about one group of ops:
its problem sizes per size class and backend, its input makers, its table of ops with their
implementations (jaxent and its peers), how one figure is compiled and called, and its
byte and FLOP counts. The runner (:mod:`bench.__main__`) only loops over families, ops,
sizes, dtypes and modes; adding an op is one entry in its family's table.

An *op* is one quantity (e.g. the sparse softmax cross entropy of logits, or one RMSprop
step); its *implementations* are jaxent's and its peers' (optax, a hand-written ``jnp``
version, Keras 3 on its JAX backend, ...). Every implementation of an op computes the same
thing from the same inputs, so times compare like for like; the runner checks that the
values agree.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

EPS = 1e-7
F32 = jnp.float32
SIZE_CLASSES = ("toy", "quick", "small", "medium", "large")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}

class UsageError(ValueError):
    """A command-line choice that selects nothing or cannot be read (reported without a traceback)."""


# ---------------------------------------------------------------------------------------------
# Sizes.


def backend_kind() -> str:
    """``"cpu"`` or ``"accelerator"``: the key of every family's size presets."""
    return "cpu" if jax.default_backend() == "cpu" else "accelerator"


def format_count(n: int) -> str:
    """``n`` with an SI suffix: 1030000 -> ``1.03M``."""
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f}{unit}" if value == int(value) else f"{value:.3g}{unit}"
    return str(n)


def parse_count(text: str) -> int:
    """``4M`` -> 4000000, ``20k`` -> 20000, ``1000`` -> 1000 (ValueError otherwise)."""
    scale = {"k": 10**3, "m": 10**6, "g": 10**9}.get(text[-1:].lower())
    return int(float(text[:-1]) * scale) if scale else int(text)


@dataclasses.dataclass(frozen=True)
class Size:
    """One problem size of one family.

    ``group`` selects which ops take it (the losses family has ``"clf"`` classification shapes
    and ``"lm"`` language-model shapes; most families have one group), ``shape`` is what the
    family's input makers read, ``label`` is how tables print it and ``elements`` is the x
    axis of the time-against-size figure.
    """

    family: str
    group: str
    shape: tuple[int, ...]
    label: str = dataclasses.field(compare=False)
    elements: int = dataclasses.field(compare=False)


def shape_label(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def split_shape(token: str, parts: int) -> tuple[int, ...] | None:
    """``"4096x1000"`` -> ``(4096, 1000)`` when it has ``parts`` integer parts, else None."""
    pieces = token.lower().split("x")
    if len(pieces) != parts:
        return None
    try:
        return tuple(int(p) for p in pieces)
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Ops and the family interface.


@dataclasses.dataclass(frozen=True)
class Op:
    """One benchmarked quantity with all its implementations.

    ``impls()`` returns ``({impl: object}, {impl: why skipped})``, resolved when the op runs
    (Keras 3 is optional); what an implementation object is depends on the family (a loss
    objective, a metric, an optimizer factory, ...). ``make_inputs(size, dtype)`` returns the
    inputs every implementation receives. ``spec`` holds the family's per-op settings (the
    arguments to differentiate, an optimizer configuration, ...). ``default=False`` leaves the
    op out of a run unless ``--ops`` names it.
    """

    name: str
    family: str
    impls: Callable[[], tuple[dict[str, Any], dict[str, str]]]
    make_inputs: Callable[[Size, Any], Any]
    modes: tuple[str, ...]
    groups: tuple[str, ...] = ("main",)
    dtypes: tuple[str, ...] | None = None  # None: every dtype asked for
    ce: bool = False  # a cross entropy: reported against one sum(exp(x)) pass on the CPU
    default: bool = True
    doc: str = ""
    spec: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, hash=False)


@dataclasses.dataclass
class Prepared:
    """One implementation ready to time: ``call()`` runs it once (asynchronously).

    ``value(out)`` maps ``call()``'s result to a float that every implementation of the op
    must agree on (None: not compared). ``compiled`` (when the family compiles ahead of time)
    gives the memory analysis and the optimized HLO.
    """

    call: Callable[[], Any]
    value: Callable[[Any], float] | None = None
    compiled: Any = None
    lower_s: float | None = None
    compile_s: float | None = None


def compile_ahead(fn: Callable, *example: Any, donate: tuple[int, ...] = ()) -> tuple[Any, float, float]:
    """``(compiled, lower_s, compile_s)`` of ``jax.jit(fn)`` for ``example``."""
    t0 = time.perf_counter()
    lowered = jax.jit(fn, donate_argnums=donate).lower(*example)
    t1 = time.perf_counter()
    compiled = lowered.compile()
    return compiled, t1 - t0, time.perf_counter() - t1


def first_call(fn: Callable, *args: Any) -> tuple[Any, float]:
    """``(fn(*args), seconds)``, blocking: the trace + compile + run cost of a first call."""
    t0 = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - t0


class Family:
    """The interface of one family module (see :mod:`bench.families`).

    Subclasses set ``name``, ``title`` (the table heading), ``presets`` (``{backend_kind:
    {size class: {group: [shape, ...]}}}``) and implement :meth:`ops` and :meth:`prepare`;
    the other methods have defaults for families without byte counts. ``target`` is the ratio
    the family is held to (drawn as a dashed line), when it has one.
    """

    name: str = ""
    title: str = ""
    presets: dict[str, dict[str, dict[str, list]]] = {}
    target: float | None = None

    # sizes ------------------------------------------------------------------------------
    def make_size(self, group: str, shape: Sequence[int]) -> Size:
        shape = tuple(int(d) for d in shape)
        return Size(self.name, group, shape, shape_label(shape), math.prod(shape))

    def parse_token(self, token: str) -> list[Size]:
        """Sizes an explicit ``--sizes`` token (not a size class) stands for in this family."""
        return []

    def sizes(self, tokens: Sequence[str], backend: str | None = None) -> list[Size]:
        """This family's sizes for ``--sizes`` tokens (size classes and explicit shapes), in order."""
        presets = self.presets.get(backend or backend_kind(), {})
        out: list[Size] = []
        for token in tokens:
            if token in SIZE_CLASSES:
                for group, shapes in presets.get(token, {}).items():
                    out += [self.make_size(group, (s,) if isinstance(s, int) else s) for s in shapes]
            else:
                out += self.parse_token(token)
        return list(dict.fromkeys(out))

    # ops --------------------------------------------------------------------------------
    def ops(self) -> list[Op]:
        raise NotImplementedError

    def prepare(self, op: Op, impl: str, obj: Any, mode: str, inputs: Any) -> Prepared:
        raise NotImplementedError

    # counts (None: not meaningful for this family) ---------------------------------------
    def min_bytes(self, op: Op, size: Size, inputs: Any, mode: str) -> int | None:
        return None

    def flops(self, op: Op, size: Size, mode: str) -> int | None:
        return None

    def big_elements(self, op: Op, size: Size, inputs: Any) -> int | None:
        """Element count of one full-size buffer, for the HLO traffic count (None: not counted)."""
        return None

    def min_passes(self, op: Op, inputs: Any, mode: str, big: int) -> int | None:
        return None

    def extras(self, op: Op, size: Size, dtype: Any, seconds: float, budget: float, clock: str) -> dict[str, Any]:
        """Family-specific fields added to jaxent's record (e.g. the ``sum(exp)`` floor)."""
        return {}

    def context(self, sizes: Sequence[Size], budget: float, clock: str) -> dict[str, Any] | None:
        """Measurements made once per run for this family (e.g. the matmul rate), or None."""
        return None


# ---------------------------------------------------------------------------------------------
# Deterministic inputs: fixed keys, so every implementation sees the same numbers.


def key(i: int) -> jax.Array:
    return jax.random.key(i)


def logits(shape, dtype):
    return (2.0 * jax.random.normal(key(1), shape, F32)).astype(dtype)


def probabilities(shape, dtype):
    return jax.nn.softmax(jax.random.normal(key(2), shape, F32), axis=-1).astype(dtype)


def sigmoid_probabilities(shape, dtype):
    return jax.nn.sigmoid(2.0 * jax.random.normal(key(3), shape, F32)).astype(dtype)


def int_labels(shape, classes):
    return jax.random.randint(key(4), shape[:-1], 0, classes, jnp.int32)


def one_hot(shape, dtype):
    return jax.nn.one_hot(int_labels(shape, shape[-1]), shape[-1], dtype=dtype)


def bits(shape, dtype):
    return jax.random.bernoulli(key(5), 0.5, shape).astype(dtype)


def targets(shape, dtype):
    return jax.random.normal(key(6), shape, F32).astype(dtype)


def weights(shape, dtype):
    return jax.random.uniform(key(7), shape[:1], F32, 0.0, 2.0).astype(dtype)


def up(x):
    """16-bit floats in float32, as jaxent computes them (the hand-written baselines do the same)."""
    x = jnp.asarray(x)
    return x.astype(F32) if x.dtype in (jnp.bfloat16, jnp.float16) else x


# ---------------------------------------------------------------------------------------------
# Keras 3, optional.


@functools.cache
def keras_module() -> tuple[Any, str | None]:
    """``(keras, None)`` when Keras 3 runs on JAX here, else ``(None, why)``.

    ``KERAS_BACKEND`` is set to ``jax`` before the import; a Keras already imported with another
    backend, Keras 2, or no Keras at all is skipped.
    """
    if os.environ.get("JAXENT_BENCH_NO_KERAS"):
        return None, "disabled (--no-keras)"
    os.environ.setdefault("KERAS_BACKEND", "jax")
    try:
        keras = importlib.import_module("keras")
    except Exception as error:  # ImportError, or a broken install
        return None, f"keras not importable ({type(error).__name__}: {error})"
    version = getattr(keras, "__version__", "0")
    if int(version.split(".")[0]) < 3:
        return None, f"keras {version} is not Keras 3"
    if keras.backend.backend() != "jax":
        return None, f"keras runs on {keras.backend.backend()!r}, not jax (set KERAS_BACKEND=jax)"
    return keras, None


def with_keras(found: dict[str, Any], skipped: dict[str, str], make: Callable[[Any], Any] | None) -> None:
    """Add the Keras 3 implementation ``make(keras)`` to ``found``, or why not to ``skipped``."""
    if make is None:
        return
    keras, why = keras_module()
    if keras is None:
        skipped["keras"] = why
    else:
        found["keras"] = make(keras)


def tree_bytes(tree: Any) -> int:
    return sum(int(np.prod(x.shape)) * jnp.dtype(x.dtype).itemsize for x in jax.tree.leaves(tree))
