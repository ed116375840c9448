"""jaxent: Keras 2 (tf.keras) losses, metrics and RMSprop as pure, jit-compiled JAX functions."""

__version__ = "0.1.0"
