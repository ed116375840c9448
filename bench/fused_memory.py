"""``python -m bench.fused_memory [NxDxV ...]``: compiled temporaries of the fused loss per block size.

Compiles (never runs) the float32 / bfloat16 ``value_and_grad`` w.r.t. features and kernel of
the fused linear + sparse cross entropy with the default block size and with each fixed
block size, and of the materialised ``features @ kernel`` form, and prints their
``memory_analysis()`` temporaries as a Markdown table. Deterministic: no timing.
"""

from __future__ import annotations

import argparse
import sys

import jax

from bench import core
from bench.families.fused import BLOCKS, memory_table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fused_memory", description=__doc__.split("\n\n")[0])
    p.add_argument("shapes", nargs="*", default=["4096x512x65536"], help="NxDxV (default 4096x512x65536)")
    p.add_argument("--dtype", default="float32", help="comma list of float32, bfloat16 (default float32)")
    p.add_argument("--blocks", default=",".join(map(str, BLOCKS)), help="comma list of fixed block sizes")
    args = p.parse_args(argv)
    shapes = []
    for token in args.shapes:
        shape = core.split_shape(token, 3)
        if shape is None:
            p.error(f"cannot read {token!r}: use NxDxV")
        shapes.append(shape)
    print(f"compiled temporaries of value_and_grad w.r.t. features and kernel ({jax.devices()[0].device_kind}):\n")
    print(memory_table(shapes, args.dtype.split(","), [int(b) for b in args.blocks.split(",")]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
