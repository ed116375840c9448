"""Keras 2's optimizer API in optax terms: :class:`RMSprop`, schedules, ``get``.

* :func:`rmsprop` / :class:`RMSprop`, :func:`sgd` / :class:`SGD`, :func:`adam` / :class:`Adam`,
  :func:`adamw` / :class:`AdamW`, :func:`adagrad` / :class:`Adagrad`, :func:`adamax` /
  :class:`Adamax`, :func:`adadelta` / :class:`Adadelta`, :func:`lion` / :class:`Lion` — Keras
  2's optimizers, frozen objects with optax's ``init``/``update`` (one file each: ``_rmsprop.py``,
  ``_sgd.py``, ``_adam.py``, ``_adagrad.py``, ``_adamax.py``, ``_adadelta.py``, ``_lion.py``;
  the shared plumbing in ``_base.py``), and :func:`finalize_variable_values` for ``use_ema``;
* the pieces every Keras optimizer shares, as optax transformations (``_transforms.py``):
  :func:`keras_chain` (Keras's step counter and learning rate), :func:`clip_gradients`,
  :func:`decay_weights`; and RMSprop's rule, :func:`scale_by_keras_rms`;
* :mod:`jaxent.optimizers.schedules` — Keras's learning-rate schedules as optax schedules;
* :func:`get`, :func:`serialize`, :func:`deserialize` — ``keras.optimizers.get`` and friends.

Example (a Keras line ``optimizer=RMSprop(learning_rate=CosineDecay(...), clipnorm=1.0)``)::

  >>> import jax.numpy as jnp, optax
  >>> from jaxent.optimizers import RMSprop, schedules
  >>> opt = RMSprop(learning_rate=schedules.CosineDecay(0.1, decay_steps=100), clipnorm=1.0)
  >>> params = {"w": jnp.array(10.0)}
  >>> updates, state = opt.update({"w": jnp.array(10.0)}, opt.init(params))
  >>> print(optax.apply_updates(params, updates)["w"])  # clipped g = 1, lr schedule(0) = 0.1
  9.683772
"""

from jaxent.optimizers import schedules
from jaxent.optimizers._adadelta import Adadelta, AdadeltaState, adadelta
from jaxent.optimizers._adagrad import Adagrad, AdagradState, adagrad
from jaxent.optimizers._adam import Adam, AdamState, AdamW, adam, adamw
from jaxent.optimizers._adamax import Adamax, AdamaxState, adamax
from jaxent.optimizers._base import finalize_variable_values
from jaxent.optimizers._get import deserialize, get, serialize
from jaxent.optimizers._lion import Lion, LionState, lion
from jaxent.optimizers._rmsprop import RMSprop, RMSpropState, rmsprop
from jaxent.optimizers._sgd import SGD, SGDState, sgd

__all__ = ["RMSprop", "RMSpropState", "rmsprop", "SGD", "SGDState", "sgd", "Adam", "AdamState", "adam",
           "AdamW", "adamw", "Adagrad", "AdagradState", "adagrad", "Adamax", "AdamaxState", "adamax",
           "Adadelta", "AdadeltaState", "adadelta", "Lion", "LionState", "lion",
           "finalize_variable_values", "schedules", "get", "serialize", "deserialize"]
