"""jaxent: Keras 2 (tf.keras) losses, metrics and RMSprop as pure, jit-compiled JAX functions."""

from jaxent import backend, losses, metrics, nn, optimizers, utils
from jaxent._validation import check_labels
from jaxent.utils import to_categorical

__version__ = "0.1.0"

__all__ = ["backend", "losses", "metrics", "nn", "optimizers", "utils", "check_labels", "to_categorical", "__version__"]
