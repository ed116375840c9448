"""tf-keras 2.21 as the golden generators use it; imported by the generators only, never by tests.

Run the generators in a throwaway virtualenv with ``tensorflow-cpu==2.21.0`` and
``tf-keras==2.21.0``; this module pins those versions so a file is never written by another.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

warnings.filterwarnings("ignore")

assert tf.__version__ == "2.21.0", tf.__version__
assert keras.__version__ == "2.21.0", keras.__version__

__all__ = ["tf", "keras"]
