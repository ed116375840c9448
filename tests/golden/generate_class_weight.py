"""Generate ``tests/golden/class_weight.npz``: the sample weights ``Model.fit(class_weight=...)`` uses.

Not run in CI. It needs TensorFlow and tf-keras (see ``generate_rmsprop.py`` for the throwaway
virtualenv); run it from the repository root::

    python tests/golden/generate_class_weight.py

Each case runs one epoch of ``Model.fit(x, y, class_weight=..., sample_weight=...,
batch_size=len(y), shuffle=False)`` on a model whose ``train_step`` records the
``sample_weight`` it receives (eagerly, ``run_eagerly=True``), i.e. exactly what fit's data
pipeline built from ``class_weight`` before any loss sees it:

  inputs   ``y_true`` (the labels given to fit) and, when given, ``sample_weight``
  outputs  ``sample_weight``: what ``train_step`` received (absent when fit raised)
  kwargs   ``{}``; the class weights are in ``meta`` because JSON object keys are strings
  meta     ``class_weight``: ``[[class_id, weight], ...]``; ``weight_dtype``: the dtype of the
           received sample weight; ``error``/``message``: what fit raised, if it did
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "class_weight.npz"

SPARSE = np.array([0, 1, 2, 2, 1, 0], np.int64)
ONEHOT = np.eye(3, dtype=np.float32)[SPARSE]
CW3 = {0: 1.0, 1: 2.0, 2: 0.5}
SW = np.array([1.0, 0.5, 2.0, 0.0, 3.0, 1.5], np.float32)
SOFT = np.array([[0.2, 0.7, 0.1], [0.5, 0.5, 0.0], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4],
                 [0.0, 0.0, 0.0], [0.6, 0.2, 0.2]], np.float32)
ROUNDING = np.array([0.4, 0.5, 1.5, 2.5, 1.49, 0.51], np.float32)
SEQ_SPARSE = np.array([[0, 2], [1, 1], [2, 0], [0, 0], [1, 2], [2, 1]], np.int64)

CASES = {
    # name: (y_true, class_weight, sample_weight or None)
    "sparse_B": (SPARSE, CW3, None),
    "sparse_B_int32": (SPARSE.astype(np.int32), CW3, None),
    "sparse_B1": (SPARSE[:, None], CW3, None),
    "onehot_BC": (ONEHOT, CW3, None),
    "soft_labels_argmax_first_max": (SOFT, CW3, None),
    "float_labels_B_round_half_even": (ROUNDING, CW3, None),
    "float_labels_B1_round_half_even": (ROUNDING[:, None], CW3, None),
    "sparse_B_times_sample_weight": (SPARSE, CW3, SW),
    "onehot_BC_times_sample_weight": (ONEHOT, CW3, SW),
    "sparse_B1_times_sample_weight": (SPARSE[:, None], CW3, SW),
    "int_class_weights": (SPARSE, {0: 1, 1: 2, 2: 3}, None),
    "int_class_weights_float_sample_weight": (SPARSE, {0: 1, 1: 2, 2: 3}, SW),
    "keys_out_of_order": (SPARSE, {2: 0.5, 0: 1.0, 1: 2.0}, None),
    "binary_B1": (np.array([[0.0], [1.0], [1.0], [0.0], [1.0], [0.0]], np.float32),
                  {0: 0.25, 1: 4.0}, None),
    "onehot_BTC": (np.eye(3, dtype=np.float32)[SEQ_SPARSE], CW3, None),
    "onehot_BTC_times_sample_weight": (np.eye(3, dtype=np.float32)[SEQ_SPARSE], CW3, SW),
    "sparse_BT_is_argmaxed_over_T": (SEQ_SPARSE, CW3, None),
    "sparse_BT1": (SEQ_SPARSE[..., None], CW3, None),
    "more_weights_than_classes": (SPARSE, {0: 1.0, 1: 2.0, 2: 0.5, 3: 9.0}, None),
    "missing_class_id": (SPARSE, {0: 1.0, 2: 0.5}, None),
    "keys_not_from_zero": (SPARSE + 1, {1: 1.0, 2: 2.0, 3: 0.5}, None),
    "label_out_of_range": (np.array([0, 1, 3, 2, 1, 0], np.int64), CW3, None),
    "negative_label": (np.array([0, 1, -1, 2, 1, 0], np.int64), CW3, None),
    "sample_weight_B1": (SPARSE, CW3, SW[:, None]),
}


class Recorder(keras.Model):
    """A model whose training step only records the sample weight fit hands it."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.received = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        _, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        self.received.append(sample_weight)
        return {}


def run_case(name: str, y, class_weight: dict, sample_weight) -> dict:
    model = Recorder()
    model.compile(run_eagerly=True)
    x = np.zeros((len(y), 1), np.float32)
    inputs = {"y_true": y} if sample_weight is None else {"y_true": y,
                                                          "sample_weight": sample_weight}
    meta = {"class_weight": [[k, v] for k, v in class_weight.items()]}
    outputs = {}
    try:
        model.fit(x, y, sample_weight=sample_weight, class_weight=class_weight,
                  batch_size=len(y), shuffle=False, epochs=1, verbose=0)
        (received,) = model.received
        outputs["sample_weight"] = received.numpy()
        meta["weight_dtype"] = received.dtype.name
    except Exception as e:  # noqa: BLE001 - the error is what we record
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        meta["error"] = type(e).__name__
        # one line that says what went wrong (the rest is a traceback naming local paths):
        # TensorFlow's gather error, or the first line of Keras's own message
        gather = [line for line in lines if "not in [" in line]
        meta["message"] = (gather or lines or [""])[0]
    return {"name": name, "fn": "utils.class_weight_to_sample_weight", "kwargs": {},
            "inputs": inputs, "outputs": outputs, "meta": meta}


def main() -> None:
    cases = [run_case(name, *args) for name, args in CASES.items()]
    save_cases(OUT, cases)
    print(f"wrote {len(cases)} cases to {OUT.name} (tf {tf.__version__}, "
          f"tf-keras {keras.__version__})")


if __name__ == "__main__":
    main()
