"""Shared test helpers: eager and jitted runs of the same call, float64 scope."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
