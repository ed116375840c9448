"""jaxent: Keras 2 (tf.keras) losses, metrics and RMSprop as pure, jit-compiled JAX functions."""

from jaxent import backend, losses, metrics, nn, optimizers, utils
from jaxent.utils import to_categorical

__version__ = "0.1.0"

__all__ = ["backend", "losses", "metrics", "nn", "optimizers", "utils", "to_categorical", "__version__"]
