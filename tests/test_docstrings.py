"""Every docstring example prints what it says."""

from __future__ import annotations

import doctest
import importlib

import jax.numpy as jnp
import pytest

MODULES = ["jaxent.nn", "jaxent.backend", "jaxent.losses", "jaxent.utils", "jaxent.optimizers", "jaxent.fused_ce",
           "jaxent.optimizers._rmsprop", "jaxent.optimizers._sgd", "jaxent.optimizers._adam",
           "jaxent.optimizers._adagrad", "jaxent.optimizers._adamax", "jaxent.optimizers._lion",
           "jaxent.optimizers._adadelta", "jaxent.optimizers._transforms", "jaxent.optimizers._get", "jaxent.optimizers.schedules",
           "jaxent._serialization", "jaxent._class_weight",
           "jaxent.metrics", "jaxent.metrics._base", "jaxent.metrics.accuracy", "jaxent.metrics.crossentropy", "jaxent.metrics.regression",
           "jaxent.metrics.probabilistic",
           "jaxent.metrics._get", "jaxent.metrics._state", "jaxent.metrics._stateful"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(module, extraglobs={"jnp": jnp}, optionflags=flags, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
