"""Keras 2's optimizer API in optax terms: :class:`RMSprop`, schedules, ``get``.

* :func:`rmsprop` / :class:`RMSprop` — Keras 2's RMSprop as an ``optax.GradientTransformation``
  (``_rmsprop.py``);
* :mod:`jaxent.optimizers.schedules` — Keras's learning-rate schedules as optax schedules;
* :func:`get`, :func:`serialize`, :func:`deserialize` — ``keras.optimizers.get`` and friends.
"""

from jaxent.optimizers import schedules
from jaxent.optimizers._get import deserialize, get, serialize
from jaxent.optimizers._rmsprop import RMSprop, RMSpropState, rmsprop

__all__ = ["RMSprop", "RMSpropState", "rmsprop", "schedules", "get", "serialize", "deserialize"]
