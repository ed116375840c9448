"""The benchmark families, in report order; each module owns its sizes, inputs, peers and counts.

======================  ==================================================================
``losses``              loss functions and Loss classes vs optax, ``jnp``, Keras 3
``metrics``             metric updates vs a ``jnp`` sum, Keras 3
``optimizers``          RMSprop steps vs optax, ``jnp``, Keras 3
``fused``               the fused linear + sparse CE vs the materialised logits (and block sizes)
``train_step``          a jitted MLP train step with jaxent's loss and metric vs optax's
``dispatch``            every public callable at a tiny size vs a jitted ``jnp`` equivalent
======================  ==================================================================

A new op is one entry in its family's table; a new family is a module with a ``FAMILY``
object (a :class:`bench.core.Family`) added to :data:`FAMILIES`.
"""

from __future__ import annotations

import fnmatch

from bench.core import Family, Op, UsageError
from bench.families import dispatch, fused, losses, metrics, optimizers, train_step

FAMILIES: list[Family] = [m.FAMILY for m in (losses, metrics, optimizers, fused, train_step, dispatch)]
BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}


def all_ops() -> list[Op]:
    return [op for family in FAMILIES for op in family.ops()]


def select_ops(patterns: str | None) -> list[Op]:
    """Ops whose name matches any comma-separated glob (``*ce``, ``metric.*``, ``rmsprop*``).

    Without patterns: every op except those marked ``default=False``; ``all`` selects every op.
    A family name (``losses``, ``dispatch``, ...) selects its default ops.
    """
    ops = all_ops()
    if not patterns:
        return [op for op in ops if op.default]
    wanted = [p.strip() for p in patterns.split(",") if p.strip()]
    if "all" in wanted:
        return ops
    chosen = [op for op in ops
              if any(fnmatch.fnmatchcase(op.name, p) or (p == op.family and op.default) for p in wanted)]
    if not chosen:
        raise UsageError(f"--ops {patterns!r} matches no op, family or 'all'; see python -m bench --list")
    return chosen
