"""jaxent's benchmark suite: ``python -m bench --help``.

Times jaxent against its peers (optax, hand-written ``jnp``, Keras 3 on JAX, the materialised
logits, a jitted ``jnp`` call) on whatever backend JAX picks, family by family, with a
memory-bandwidth roofline measured in the same run. The modules: :mod:`bench.families` (one
module per family: its sizes, inputs, peers and byte/FLOP counts), :mod:`bench.core` (the
family interface, sizes, deterministic inputs, Keras 3), :mod:`bench.roofline` (bandwidth,
HLO statistics), :mod:`bench.report` (ratios, tables, JSON, figures), :mod:`bench.__main__`
(the command line and the run loop) and :mod:`bench.fused_memory` (compiled memory per block
size), and :mod:`bench.timing` (the timers, the progress line and the environment record).
"""
