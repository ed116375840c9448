"""Generate ``tests/golden/metrics.npz``: Keras 2 golden vectors for jaxent's metrics.

What it records
---------------
For every metric class jaxent mirrors (``Mean``, ``CategoricalCrossentropy``,
``SparseCategoricalCrossentropy``, ``BinaryCrossentropy``, ``Accuracy``, ``BinaryAccuracy``,
``MeanSquaredError``, ``MeanAbsoluteError``, and the argmax/top-k accuracies
``CategoricalAccuracy``, ``SparseCategoricalAccuracy``, ``TopKCategoricalAccuracy``,
``SparseTopKCategoricalAccuracy``, with ties, non-finite scores and out-of-range labels) and every option (``from_logits``,
``label_smoothing``, ``axis``, ``ignore_class``, ``threshold``, ``dtype``), a stream of several
``update_state`` calls on one Keras metric object with mixed sample weights (none, scalar,
``[B]``, ``[B, 1]``, per-timestep ``[B, T]``/``[B, T, 1]``/``[1, T]``, all zeros, some zeros),
recording ``result()``, ``total`` and ``count`` after every call. Inputs cover the edge cases of
``KERAS2_SEMANTICS.md`` §13 (probabilities exactly 0/1 and unnormalised rows, predictions
exactly at the threshold, NaN predictions for BinaryAccuracy, y_true that is not 0/1, float16,
bfloat16, int and bool inputs, rank-1 ``y``, ``ignore_class`` batches that are partly and wholly
ignored), plus every measured value of §13's tables (checked here against the numbers written
there) and NaN/inf entries at weight 0 (API.md difference 9).

Added for tracker issue 11: streams of the ``from_logits`` metrics (CCE, CCE with label
smoothing, SCCE, SCCE with ``ignore_class``, BCE) on float32 logits ~ +-1e4 with O(1) losses
(rows exact in float32, and random ``+-1e4 + N(0, 3)`` batches); and float64 metrics
(``dtype="float64"``) fed Python floats: ``BinaryAccuracy(threshold=<Python float>)`` at
predictions between ``t`` and ``f64(f32(t))``, Python float / list ``sample_weight`` for every
class and ``Mean``, Python ``values`` for ``Mean``, Python list ``y_true``, np.float64 weights
(exact) and ``label_smoothing`` in float64 (exact). See ``probe_float64.py`` for the rule.

How to run it (not run in CI; needs TensorFlow, which the jaxent test environment must not
have)::

    python3 -m venv /tmp/tfv
    /tmp/tfv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0
    /tmp/tfv/bin/python tests/golden/generate_metrics.py       # from the repository root

The output is deterministic: random inputs come from a fixed seed and the exact arrays fed to
Keras (as ``tf.constant`` tensors) are stored with the case.

Case conventions (file format: ``goldenio.py``)
-----------------------------------------------
``fn``      ``"metrics.<Class>"``.
``kwargs``  the constructor options (``dtype`` as a dtype name).
``inputs``  per update ``k`` (0, 1, ...): ``y_true_k`` and ``y_pred_k`` (``Mean``: ``values_k``)
            and ``sample_weight_k`` when one was passed.
``dtypes``  inputs stored as float32 that must be cast to ``bfloat16`` before the call.
``outputs`` after update ``k``: ``result_k`` (``result()``), ``total_k`` and ``count_k`` (the
            metric's two variables). ``<output>_documented``: where API.md difference 9 makes
            jaxent differ (a NaN/inf entry at weight 0 poisons Keras's total for ever), what
            jaxent must return instead: Keras on the same stream with the poisoned entries
            replaced by a finite value (they have weight 0, so any finite value gives the same).
``meta``    ``python_scalars``: inputs (``sample_weight_1``, ...) stored as float64 arrays that the
            update receives as Python floats or (nested) lists; ``numpy_scalars``: received as
            ``np.float64`` scalars (lists of them).
            ``steps`` (number of updates), ``result_dtype``, ``deviation`` (``"9"``),
            ``semantics`` (§13's printed value for the last result, where the case is one of
            its measured examples), ``note``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ml_dtypes  # noqa: E402  (installed with TensorFlow)
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "metrics.npz"
BF16 = np.dtype(ml_dtypes.bfloat16)
F32 = np.float32

# Shapes: batch, classes/features, timesteps. B differs from the others, so that a per-sample
# weight can never broadcast against another axis by accident.
B, C, T, D = 5, 4, 3, 2

CASES: list[dict] = []
rng = np.random.default_rng(20240604)


class Py:
    """An input given to Keras as a Python float / list (``numpy=True``: np.float64 scalars).

    Stored in the file as the float64 array that holds the value exactly, its name listed in
    ``meta["python_scalars"]`` (``meta["numpy_scalars"]``).
    """

    def __init__(self, value, numpy: bool = False):
        self.value, self.numpy = value, numpy

    def array(self) -> np.ndarray:
        return np.asarray(self.value, np.float64)

    def feed(self):
        a = self.array()
        if self.numpy:
            return a[()] if a.ndim == 0 else list(a)
        return a.tolist()


def _tensor(a):
    if isinstance(a, Py):
        return a.feed()
    return tf.constant(a, dtype=tf.bfloat16) if a.dtype == BF16 else tf.constant(a)


def run_keras(cls_name: str, kwargs: dict, steps: list[dict]) -> dict[str, np.ndarray]:
    """Feed ``steps`` to one Keras metric object; result/total/count after every update."""
    metric = getattr(keras.metrics, cls_name)(**kwargs)
    outputs = {}
    for k, step in enumerate(steps):
        args = [_tensor(step["values"])] if cls_name == "Mean" else [_tensor(step["y_true"]), _tensor(step["y_pred"])]
        weight = step.get("sample_weight")
        metric.update_state(*args, sample_weight=None if weight is None else _tensor(weight))
        outputs[f"result_{k}"] = metric.result().numpy()
        outputs[f"total_{k}"] = metric.total.numpy()
        outputs[f"count_{k}"] = metric.count.numpy()
    return outputs


def add(name: str, cls_name: str, steps: list[dict], kwargs: dict | None = None, *, semantics=None, note=None,
        documented=None, deviation=None):
    """Run Keras on the stream ``steps`` and append the case ``metrics.<cls_name>/<name>``.

    Entries of ``y_pred``/``values`` that are not finite and have weight 0 are difference 9:
    the case also gets the ``*_documented`` outputs of the sanitised stream when they differ.
    ``documented(steps)`` gives the outputs jaxent must return instead for another ``deviation``.
    """
    kwargs = dict(kwargs or {})
    steps = [
        {key: value if isinstance(value, Py) else np.asarray(value) for key, value in step.items() if value is not None}
        for step in steps
    ]
    outputs = run_keras(cls_name, kwargs, steps)
    meta = {"steps": len(steps), "result_dtype": str(outputs["result_0"].dtype)}
    for kind, numpy in (("python_scalars", False), ("numpy_scalars", True)):
        names = [f"{key}_{k}" for k, step in enumerate(steps) for key, v in step.items() if isinstance(v, Py) and v.numpy == numpy]
        if names:
            meta[kind] = names
    if note:
        meta["note"] = note
    if semantics is not None:
        got = float(outputs[f"result_{len(steps) - 1}"])
        assert abs(got - semantics) <= 2e-6 * max(1.0, abs(semantics)), (name, got, semantics)
        meta["semantics"] = semantics
    if documented is not None:
        meta["deviation"] = deviation
        outputs.update({f"{key}_documented": value for key, value in documented(steps).items()})
    clean = [_sanitised(step) for step in steps]
    if any(not np.array_equal(a.get(key), b.get(key), equal_nan=True)
           for a, b in zip(steps, clean) for key in a if not isinstance(a[key], Py)):
        documented = run_keras(cls_name, kwargs, clean)
        if any(not np.array_equal(outputs[key], documented[key], equal_nan=True) for key in outputs):
            meta["deviation"] = "9"
            meta["note"] = (note + "; " if note else "") + "Keras: 0 * NaN poisons the total; jaxent drops weight-0 entries"
            outputs.update({f"{key}_documented": value for key, value in documented.items()})
    inputs, dtypes = {}, {}
    for k, step in enumerate(steps):
        for key, value in step.items():
            value = value.array() if isinstance(value, Py) else value
            inputs[f"{key}_{k}"] = value
            if value.dtype == BF16:
                dtypes[f"{key}_{k}"] = "bfloat16"
    if "dtype" in kwargs:
        kwargs["dtype"] = np.dtype(kwargs["dtype"]).name
    CASES.append(
        {
            "name": f"metrics.{cls_name}/{name}",
            "fn": f"metrics.{cls_name}",
            "kwargs": kwargs,
            "inputs": inputs,
            "outputs": outputs,
            "dtypes": dtypes,
            "meta": meta,
        }
    )


def _sanitised(step: dict) -> dict:
    """``step`` with every non-finite prediction at weight 0 replaced by 0.5."""
    key = "values" if "values" in step else "y_pred"
    pred, weight = step[key], step.get("sample_weight")
    if isinstance(pred, Py) or isinstance(weight, Py):
        return step  # the Python-scalar streams have finite values
    if weight is None or not np.issubdtype(pred.dtype, np.floating) or np.all(np.isfinite(pred)):
        return step
    weight = np.asarray(weight, F32)
    # Align the weight with the prediction's leading axes (enough for the poison cases below).
    while weight.ndim < pred.ndim:
        weight = weight[..., None]
    zero = np.broadcast_to(weight == 0, pred.shape) if weight.shape[: pred.ndim] != () else np.zeros(pred.shape, bool)
    replaced = np.where(zero & ~np.isfinite(pred), pred.dtype.type(0.5), pred)
    return {**step, key: replaced}


# ---------------------------------------------------------------------------------------------
# Data.


def probs(outer: tuple[int, ...], classes: int = C, edge: bool = True) -> np.ndarray:
    """Probability rows (last axis); with ``edge``, one exact one-hot row and one unnormalised row."""
    p = rng.dirichlet(np.ones(classes), outer).astype(F32)
    if edge:
        flat = p.reshape(-1, classes)
        flat[0] = np.eye(classes, dtype=F32)[1]  # exact 0 and 1: the clip matters
        flat[-1] = flat[-1] * F32(1.7)  # unnormalised
    return p


def logits(outer: tuple[int, ...], classes: int = C) -> np.ndarray:
    x = (rng.standard_normal(outer + (classes,)) * 3).astype(F32)
    x.reshape(-1, classes)[0, 0] = 40.0  # saturated
    return x


def onehot(outer: tuple[int, ...], classes: int = C) -> np.ndarray:
    return np.eye(classes, dtype=F32)[rng.integers(0, classes, outer)]


def labels(outer: tuple[int, ...], classes: int = C, ignore: int | None = None, share: float = 0.3) -> np.ndarray:
    lab = rng.integers(0, classes, outer).astype(np.int64)
    if ignore is not None:
        lab = np.where(rng.uniform(size=outer) < share, ignore, lab)
    return lab


def weights(shape: tuple[int, ...], zeros: float = 0.3) -> np.ndarray:
    w = rng.choice([0.5, 1.0, 2.0, 3.0], shape).astype(F32)
    return np.where(rng.uniform(size=shape) < zeros, F32(0), w)


def plan_batch(b: int = B) -> list:
    """Sample weights for per-sample values of shape (B,): one per update."""
    return [None, F32(2.5), weights((b,)), weights((b, 1)), np.zeros((b,), F32)]


def plan_timesteps(b: int = B, t: int = T) -> list:
    """Sample weights for per-timestep values of shape (B, T)."""
    return [weights((b,)), weights((b, t)), weights((b, t, 1)), weights((1, t), zeros=0.0), np.zeros((b, t), F32)]


def stream(make, plan: list) -> list[dict]:
    """One update per weight of ``plan``; ``make()`` draws a fresh ``{y_true, y_pred}``."""
    return [{**make(), "sample_weight": w} for w in plan]


# ---------------------------------------------------------------------------------------------
# Streams per metric and option.


def gen_mean():
    add("vector", "Mean", [{"values": rng.standard_normal(B).astype(F32) * 3, "sample_weight": w} for w in plan_batch()])
    add(
        "matrix_per_sample_and_per_element_weights",
        "Mean",
        [
            {"values": rng.standard_normal((B, D)).astype(F32), "sample_weight": w}
            for w in [None, weights((B,)), weights((B, 1)), weights((B, D)), weights((1, D), zeros=0.0), F32(3.0)]
        ],
    )
    add(
        "rank3_mean_then_weight_fallback",
        "Mean",
        [
            {"values": rng.standard_normal((B, T, D)).astype(F32), "sample_weight": w}
            for w in [weights((B,)), None, weights((B, T)), weights((B, T, D)), weights((B,), zeros=0.0)]
        ],
        note="weights of rank 1 on (B, T, D) values: Keras averages the values over (T, D) first",
    )
    add(
        "float16_small_integers",
        "Mean",
        [
            {"values": rng.integers(-4, 5, (B,)).astype(np.float16), "sample_weight": w}
            for w in [None, rng.integers(0, 3, (B,)).astype(F32), F32(2.0)]
        ],
        {"dtype": "float16"},
        note="Keras keeps float16 variables; jaxent sums in float32 and rounds the result to float16",
    )


def gen_categorical():
    batch = lambda: {"y_true": onehot((B,)), "y_pred": probs((B,))}  # noqa: E731
    batch_logits = lambda: {"y_true": onehot((B,)), "y_pred": logits((B,))}  # noqa: E731
    steps = lambda: {"y_true": onehot((B, T)), "y_pred": probs((B, T))}  # noqa: E731
    steps_logits = lambda: {"y_true": onehot((B, T)), "y_pred": logits((B, T))}  # noqa: E731
    for opts, make_b, make_t in [
        ({}, batch, steps),
        ({"from_logits": True}, batch_logits, steps_logits),
        ({"label_smoothing": 0.1}, batch, steps),
        ({"from_logits": True, "label_smoothing": 0.2}, batch_logits, steps_logits),
    ]:
        tag = "_".join(f"{k}_{v}" for k, v in opts.items()) or "default"
        add(f"{tag}/batch", "CategoricalCrossentropy", stream(make_b, plan_batch()), opts)
        add(f"{tag}/timesteps", "CategoricalCrossentropy", stream(make_t, plan_timesteps()), opts)

    def axis1():
        y = onehot((B, T)).transpose(0, 2, 1)
        return {"y_true": np.ascontiguousarray(y), "y_pred": np.ascontiguousarray(probs((B, T)).transpose(0, 2, 1))}

    add("axis_1/timesteps", "CategoricalCrossentropy", stream(axis1, plan_timesteps()), {"axis": 1})
    add(
        "float16_inputs/batch",
        "CategoricalCrossentropy",
        stream(lambda: {"y_true": onehot((B,)).astype(np.float16), "y_pred": probs((B,)).astype(np.float16)}, plan_batch()[:4]),
        note="the metric casts float16 inputs to float32 first",
    )


def gen_sparse():
    for opts in [{}, {"from_logits": True}, {"ignore_class": -1}, {"ignore_class": -1, "from_logits": True}, {"ignore_class": 2}]:
        tag = "_".join(f"{k}_{v}" for k, v in opts.items()) or "default"
        ignore = opts.get("ignore_class")
        pred = logits if opts.get("from_logits") else probs

        def make_b(pred=pred, ignore=ignore):
            return {"y_true": labels((B,), ignore=ignore), "y_pred": pred((B,))}

        def make_t(pred=pred, ignore=ignore):
            return {"y_true": labels((B, T), ignore=ignore), "y_pred": pred((B, T))}

        batch_steps = stream(make_b, plan_batch())
        if ignore is not None:  # an update where everything is ignored adds nothing
            batch_steps.insert(2, {"y_true": np.full((B,), ignore, np.int64), "y_pred": pred((B,)), "sample_weight": weights((B,))})
        add(f"{tag}/batch", "SparseCategoricalCrossentropy", batch_steps, opts)
        add(f"{tag}/timesteps", "SparseCategoricalCrossentropy", stream(make_t, plan_timesteps()), opts)
    add(
        "ignore_class_-1/only_ignored",
        "SparseCategoricalCrossentropy",
        [{"y_true": np.full((B,), -1, np.int64), "y_pred": probs((B,)), "sample_weight": w} for w in [None, weights((B,))]],
        {"ignore_class": -1},
        note="a metric that only saw ignored labels is 0, not NaN",
    )
    add(
        "axis_1/timesteps",
        "SparseCategoricalCrossentropy",
        stream(lambda: {"y_true": labels((B, T)), "y_pred": np.ascontiguousarray(probs((B, T)).transpose(0, 2, 1))}, plan_timesteps()),
        {"axis": 1},
    )
    add(
        "labels_Bx1_float/batch",
        "SparseCategoricalCrossentropy",
        stream(lambda: {"y_true": labels((B, 1)).astype(F32), "y_pred": probs((B,))}, plan_batch()),
        note="float labels of shape (B, 1), truncated to integers",
    )


def gen_binary_crossentropy():
    def make(outer, from_logits):
        y = rng.integers(0, 2, outer + (D,)).astype(F32)
        if from_logits:
            p = (rng.standard_normal(outer + (D,)) * 4).astype(F32)
        else:
            p = rng.uniform(size=outer + (D,)).astype(F32)
            p.reshape(-1)[:3] = [0.0, 1.0, 0.5]  # clipped ends and the midpoint
        return {"y_true": y, "y_pred": p}

    for opts in [{}, {"from_logits": True}, {"label_smoothing": 0.2}, {"from_logits": True, "label_smoothing": 0.1}]:
        tag = "_".join(f"{k}_{v}" for k, v in opts.items()) or "default"
        fl = opts.get("from_logits", False)
        add(f"{tag}/batch", "BinaryCrossentropy", stream(lambda fl=fl: make((B,), fl), plan_batch()), opts)
        add(f"{tag}/timesteps", "BinaryCrossentropy", stream(lambda fl=fl: make((B, T), fl), plan_timesteps()), opts)
    add(
        "rank1_counts_once_per_update",
        "BinaryCrossentropy",
        [
            {"y_true": rng.integers(0, 2, (B,)).astype(F32), "y_pred": rng.uniform(size=(B,)).astype(F32), "sample_weight": w}
            for w in [None, F32(2.0), None]
        ],
    )
    add(
        "bfloat16_inputs/batch",
        "BinaryCrossentropy",
        stream(lambda: {k: v.astype(BF16) for k, v in make((B,), False).items()}, plan_batch()[:4]),
        note="the metric casts bfloat16 inputs to float32 first",
    )


def gen_regression():
    def make(outer, dtype=F32):
        if dtype == np.int32:
            return {"y_true": rng.integers(-3, 4, outer + (D,)).astype(dtype), "y_pred": rng.integers(-3, 4, outer + (D,)).astype(dtype)}
        return {"y_true": rng.standard_normal(outer + (D,)).astype(F32), "y_pred": rng.standard_normal(outer + (D,)).astype(F32)}

    for cls_name in ("MeanSquaredError", "MeanAbsoluteError"):
        add("batch", cls_name, stream(lambda: make((B,)), plan_batch()))
        add("timesteps", cls_name, stream(lambda: make((B, T)), plan_timesteps()))
        add("int_inputs/batch", cls_name, stream(lambda: make((B,), np.int32), plan_batch()[:4]), note="computed in float32")
        add(
            "rank1_then_column",
            cls_name,
            [
                {"y_true": rng.standard_normal(B).astype(F32), "y_pred": rng.standard_normal(B).astype(F32)},
                {"y_true": rng.standard_normal((B, 1)).astype(F32), "y_pred": rng.standard_normal(B).astype(F32), "sample_weight": F32(0.5)},
                {"y_true": rng.standard_normal(B).astype(F32), "y_pred": rng.standard_normal((B, 1)).astype(F32), "sample_weight": F32(3.0)},
            ],
            note="rank-1 y is one value per update; (B, 1) against (B,) is squeezed",
        )
    add("dtype_float16/batch", "MeanSquaredError", stream(lambda: make((B,)), plan_batch()[:3]), {"dtype": "float16"})


def gen_accuracy():
    def make(outer, dtype=F32):
        y = rng.integers(0, 3, outer + (D,))
        p = np.where(rng.uniform(size=y.shape) < 0.6, y, rng.integers(0, 3, y.shape)).astype(F32)
        if dtype == F32:
            p.reshape(-1)[:2] = [y.reshape(-1)[0] + 1e-7, y.reshape(-1)[1] - 0.1]  # near misses
        return {"y_true": y.astype(dtype), "y_pred": p.astype(dtype)}

    add("batch", "Accuracy", stream(lambda: make((B,)), plan_batch()))
    add("timesteps", "Accuracy", stream(lambda: make((B, T)), plan_timesteps()))
    add("int_inputs/batch", "Accuracy", stream(lambda: make((B,), np.int32), plan_batch()[:4]))
    add(
        "float32_cast_of_large_ints",
        "Accuracy",
        [{"y_true": np.array([16777217, 5], np.int32), "y_pred": np.array([16777216, 5], np.int32)}],
    )

    def make_binary(outer, threshold, y_dtype=F32):
        y = rng.integers(0, 2, outer + (D,)).astype(y_dtype)
        p = rng.uniform(-0.5, 1.5, outer + (D,)).astype(F32) if threshold == 0.0 else rng.uniform(size=outer + (D,)).astype(F32)
        flat = p.reshape(-1)
        flat[:4] = [threshold, np.nextafter(F32(threshold), F32(2)), np.nextafter(F32(threshold), F32(-2)), np.nan]
        if y_dtype == F32:
            y.reshape(-1)[4] = 0.7  # y_true is not thresholded: never matches
        return {"y_true": y, "y_pred": p}

    for opts in [{}, {"threshold": 0.7}, {"threshold": 0.0}]:
        threshold = opts.get("threshold", 0.5)
        tag = "_".join(f"{k}_{v}" for k, v in opts.items()) or "default"
        add(f"{tag}/batch", "BinaryAccuracy", stream(lambda t=threshold: make_binary((B,), t), plan_batch()), opts)
        add(f"{tag}/timesteps", "BinaryAccuracy", stream(lambda t=threshold: make_binary((B, T), t), plan_timesteps()), opts)
    add("bool_y_true/batch", "BinaryAccuracy", stream(lambda: make_binary((B,), 0.5, bool), plan_batch()[:4]))
    add(
        "rank1_elementwise",
        "BinaryAccuracy",
        [{"y_true": rng.integers(0, 2, B).astype(F32), "y_pred": rng.uniform(size=B).astype(F32), "sample_weight": w} for w in [None, weights((B,))]],
    )


# ---------------------------------------------------------------------------------------------
# KERAS2_SEMANTICS.md §13: every measured value (the generator checks Keras still prints it).

CCE_TRUE = np.array([[0, 1, 0], [0, 0, 1]], F32)
CCE_PRED = np.array([[0.05, 0.95, 0], [0.1, 0.8, 0.1]], F32)
SCCE_PRED = np.array([[0.5, 0.3, 0.2], [1, 0, 0], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]], F32)
SCCE_LABELS = np.array([0, -1, 1, -1], np.int64)
BCE_TRUE = np.array([[0, 1], [0, 0]], F32)
BCE_PRED = np.array([[0.6, 0.4], [0.4, 0.6]], F32)
MSE_PRED = np.array([[1, 1], [0, 0]], F32)


def gen_semantics_tables():
    a = lambda *x, dtype=F32: np.array(x, dtype)  # noqa: E731
    ar = np.arange(12, dtype=F32).reshape(2, 3, 2)
    mean_rows = [
        ("plain", a(1, 3, 5, 7), None, 4.0),
        ("sw_B", a(1, 3, 5, 7), a(1, 1, 0, 0), 2.0),
        ("matrix_sw_B", a([1, 2], [3, 4]), a(1, 3), 3.0),
        ("matrix_sw_Bx1", a([1, 2], [3, 4]), a([1], [3]), 3.0),
        ("matrix_sw_scalar", a([1, 2], [3, 4]), F32(2.0), 2.5),
        ("matrix_sw_1xD_columns", a([1, 2], [3, 4]), a([1, 3]), 2.75),
        ("rank3_sw_B_fallback", ar, a(1, 3), 7.0),
        ("rank3_sw_1xT", ar, a([1, 3, 0]), 5.0),
        ("sw_zeros", a(1, 2), a(0, 0), 0.0),
        ("sw_cancelling", a(1, 2), a(-1, 1), 0.0),
        ("empty", np.zeros((0,), F32), None, 0.0),
    ]
    for name, values, weight, expected in mean_rows:
        add(f"semantics/{name}", "Mean", [{"values": values, "sample_weight": weight}], semantics=expected)
    add("semantics/nan_at_weight_0", "Mean", [{"values": a(1, np.nan), "sample_weight": a(1, 0)}])
    add(
        "semantics/three_updates_1e8_1",
        "Mean",
        [{"values": a(1e8, 1)}, {"values": a(1e8, 1)}, {"values": a(1e8, 1)}],
        note="float32 state: Keras's total loses the 1s (jaxent keeps them: within rounding of the result)",
    )

    def one(cls_name, name, y_true, y_pred, weight=None, opts=None, expected=None):
        add(f"semantics/{name}", cls_name, [{"y_true": y_true, "y_pred": y_pred, "sample_weight": weight}], opts, semantics=expected)

    one("CategoricalCrossentropy", "doc", CCE_TRUE, CCE_PRED, expected=1.176939)
    one("CategoricalCrossentropy", "doc_sw", CCE_TRUE, CCE_PRED, a(0.3, 0.7), expected=1.627198)
    one("CategoricalCrossentropy", "doc_ls_0.1", CCE_TRUE, CCE_PRED, opts={"label_smoothing": 0.1}, expected=1.459136)
    one("CategoricalCrossentropy", "doc_float16", CCE_TRUE.astype(np.float16), CCE_PRED.astype(np.float16), expected=1.176928)
    one("SparseCategoricalCrossentropy", "doc", a(1, 2), CCE_PRED, expected=1.176939)
    one("SparseCategoricalCrossentropy", "ignore", SCCE_LABELS, SCCE_PRED, opts={"ignore_class": -1}, expected=0.6931472)
    add(
        "semantics/ignore_sw_then_all_ignored",
        "SparseCategoricalCrossentropy",
        [
            {"y_true": SCCE_LABELS, "y_pred": SCCE_PRED, "sample_weight": a(1, 2, 3, 4)},
            {"y_true": np.array([-1, -1], np.int64), "y_pred": SCCE_PRED[:2]},
        ],
        {"ignore_class": -1},
        semantics=0.6931472,
    )
    one("SparseCategoricalCrossentropy", "only_ignored", np.array([-1, -1], np.int64), SCCE_PRED[:2], opts={"ignore_class": -1}, expected=0.0)
    x = np.array([[[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]],
                  [[0.05, 0.05, 0.8, 0.1], [0.3, 0.3, 0.2, 0.2], [0.6, 0.1, 0.2, 0.1]]], F32)
    one("SparseCategoricalCrossentropy", "rank3_ignore_sw_B", np.array([[0, -1, 2], [-1, 0, 1]], np.int64), x,
        a(1, 3), {"ignore_class": -1})
    one("BinaryCrossentropy", "doc", BCE_TRUE, BCE_PRED, expected=0.8149242)
    one("BinaryCrossentropy", "doc_sw", BCE_TRUE, BCE_PRED, a(1, 0), expected=0.9162905)
    one("BinaryCrossentropy", "doc_ls_0.2", BCE_TRUE, BCE_PRED, opts={"label_smoothing": 0.2}, expected=0.7946510)
    one("BinaryCrossentropy", "rank1", a(0, 1, 1), a(0.6, 0.4, 0.9), expected=0.6459805)
    one("MeanSquaredError", "doc", BCE_TRUE, MSE_PRED, expected=0.25)
    one("MeanSquaredError", "doc_sw", BCE_TRUE, MSE_PRED, a(1, 0), expected=0.5)
    one("MeanAbsoluteError", "doc", BCE_TRUE, MSE_PRED, expected=0.25)
    one("MeanAbsoluteError", "doc_sw", BCE_TRUE, MSE_PRED, a(1, 0), expected=0.5)
    one("MeanAbsoluteError", "int", np.array([[1, 2]], np.int32), np.array([[2, 4]], np.int32), expected=1.5)
    for name, shape in [("columns", (-1, 1)), ("rank1", (-1,))]:
        add(
            f"semantics/two_updates_{name}",
            "MeanSquaredError",
            [
                {"y_true": a(0, 1).reshape(shape), "y_pred": a(1, 1).reshape(shape)},
                {"y_true": a(0, 0, 0, 2).reshape(shape), "y_pred": np.zeros(4, F32).reshape(shape)},
            ],
            semantics=5 / 6 if name == "columns" else 0.75,
        )
    one("Accuracy", "doc", a([1], [2], [3], [4]), a([0], [2], [3], [4]), expected=0.75)
    one("Accuracy", "doc_sw", a([1], [2], [3], [4]), a([0], [2], [3], [4]), a(1, 1, 0, 0), expected=0.5)
    one("Accuracy", "elements_sw_B", a([1, 2], [3, 4]), a([1, 0], [3, 4]), a(1, 0), expected=0.5)
    one("Accuracy", "near_misses", a(1, 1, np.nan), a(0.9, 1.0000001, np.nan), expected=0.0)
    one("BinaryAccuracy", "strict", a(1, 0, 1, 0), a(0.5, 0.5, 0.50000006, 0.4999999), expected=0.75)
    one("BinaryAccuracy", "y_true_not_thresholded", a(0.7, 1, 2), F32(0.9), expected=1 / 3)
    one("BinaryAccuracy", "logits_threshold_0", a(1, 0, 1), a(0, -1, 1e-30), opts={"threshold": 0.0}, expected=2 / 3)
    one("BinaryAccuracy", "doc", a([1], [1], [0], [0]), a([0.98], [1], [0], [0.6]), expected=0.75)
    one("BinaryAccuracy", "doc_sw", a([1], [1], [0], [0]), a([0.98], [1], [0], [0.6]), a(1, 0, 0, 1), expected=0.5)
    one("BinaryAccuracy", "elements_sw_B", a([1, 0], [1, 1]), a([0.7, 0.2], [0.2, 0.9]), a(1, 3), expected=0.625)


# ---------------------------------------------------------------------------------------------
# API.md difference 9: NaN/inf at weight 0.


def gen_poison():
    nan, inf = np.nan, np.inf
    w = np.array([1.0, 0.0, 2.0], F32)
    clean = lambda make: make(False)  # noqa: E731

    def three(cls_name, name, make, opts=None):
        steps = [{**clean(make), "sample_weight": w}, {**make(True), "sample_weight": w}, {**clean(make), "sample_weight": None}]
        add(f"poison/{name}", cls_name, steps, opts)

    def cce(poison):
        p = np.array([[0.2, 0.8], [0.5, 0.5], [0.6, 0.4]], F32)
        if poison:
            p[1] = [nan, inf]
        return {"y_true": np.array([[0, 1], [1, 0], [1, 0]], F32), "y_pred": p}

    def bce_logits(poison):
        return {"y_true": np.array([[1.0], [0.0], [1.0]], F32), "y_pred": np.array([[0.8], [inf if poison else 0.1], [0.3]], F32)}

    def regression(poison):
        return {"y_true": np.array([[1.0], [0.0], [1.0]], F32), "y_pred": np.array([[0.8], [-inf if poison else 0.1], [0.3]], F32)}

    def scce(poison):
        p = np.array([[0.2, 0.8], [0.5, 0.5], [0.6, 0.4]], F32)
        if poison:
            p[1] = nan
        return {"y_true": np.array([1, 0, 0], np.int64), "y_pred": p}

    three("CategoricalCrossentropy", "nan_inf_row_at_weight_0", cce)
    three("BinaryCrossentropy", "inf_logit_at_weight_0", bce_logits, {"from_logits": True})
    three("BinaryCrossentropy", "nan_prob_at_weight_0", lambda p: {**bce_logits(False), "y_pred": np.array([[0.8], [nan if p else 0.1], [0.3]], F32)})
    three("MeanSquaredError", "inf_at_weight_0", regression)
    three("MeanAbsoluteError", "inf_at_weight_0", regression)
    three("SparseCategoricalCrossentropy", "nan_row_at_weight_0", scce)
    add(
        "poison/mean_nan_at_weight_0",
        "Mean",
        [{"values": np.array([1.0, nan, 3.0], F32), "sample_weight": w}, {"values": np.array([2.0], F32)}],
    )
    # Not a deviation: Keras zeroes the loss at ignore_class positions before weighting.
    p = SCCE_PRED.copy()
    p[1] = nan
    p[3] = [inf, -inf, nan]
    add("poison/nan_at_ignore_class", "SparseCategoricalCrossentropy",
        [{"y_true": SCCE_LABELS, "y_pred": p, "sample_weight": np.array([1, 2, 3, 4], F32)}], {"ignore_class": -1})


# ---------------------------------------------------------------------------------------------
# Tracker issue 11: extreme logits (|x| ~ 1e4, O(1) losses) for the from_logits metrics.

ULP_1E4 = 2.0**-10  # float32 spacing in [8192, 16384)
EXTREME_ROWS = np.array(
    [
        [1e4, 1e4, 1e4, 1e4],
        [1e4, 1e4 - 0.5, 1e4 - 3, 1e4 - 1],
        [-1e4, -1e4 + 0.25, -1e4 + 1, -1e4 + 2],
        [1e4, -1e4, 0, 1e4 - 2],
        [-5e3, -5e3 - 0.5, -5e3 + 0.75, -5e3 - 1],
        [1e4 + 0.5, 1e4 + 0.25, 1e4 + 0.125, 1e4 + 0.375],
        [1e4 + ULP_1E4, 1e4, 1e4 - ULP_1E4, 1e4 + 2 * ULP_1E4],
        [3e4, 3e4 - 1, 3e4 + 1.5, 3e4 - 0.5],
    ],
    F32,
)
EXTREME_LABELS = np.array([0, 0, 3, 3, 2, 1, 3, 1], np.int64)
# Sigmoid CE rows with O(1) losses at |x| ~ 1e4 whose products x * z are exact in float32.
SIG_X = np.array([1e4, -1e4, -1e4 - 0.25, 1e4, -1e4, 12288, -3e4, 1e4], F32).reshape(4, 2)
SIG_Z = np.array([1 - 2**-13, 2**-13, 2**-12, 1, 0, 1 - 2**-12, 2**-15, 1 - 2**-14], F32).reshape(4, 2)


def gen_extreme_logits():
    r = np.random.default_rng(1111)
    assert np.array_equal((EXTREME_ROWS - F32(2e4)).astype(np.float64), EXTREME_ROWS.astype(np.float64) - 2e4)

    def near(shape, centre=1e4):
        return (centre + r.normal(0, 3, shape)).astype(F32)

    w8 = np.array([1, 0.5, 2, 0, 1, 3, 0.25, 1], F32)
    onehot = np.eye(4, dtype=F32)[EXTREME_LABELS]
    rand_lab = r.integers(0, 4, (B, T))
    for opts in ({"from_logits": True}, {"from_logits": True, "label_smoothing": 0.1}):
        tag = "_".join(f"{k}_{v}" for k, v in opts.items())
        add(f"{tag}/extreme_logits_1e4", "CategoricalCrossentropy", [
            {"y_true": onehot, "y_pred": EXTREME_ROWS},
            {"y_true": onehot, "y_pred": EXTREME_ROWS, "sample_weight": w8},
            {"y_true": onehot, "y_pred": EXTREME_ROWS - F32(2e4), "sample_weight": F32(2.0)},  # exact shift
            {"y_true": np.eye(4, dtype=F32)[rand_lab], "y_pred": near((B, T, 4)), "sample_weight": weights((B, T))},
            {"y_true": np.eye(4, dtype=F32)[r.integers(0, 4, B)], "y_pred": near((B, 4), -1e4)},
        ], opts, note="logits ~ +-1e4 with O(1) losses; the rows are exact in float32")
    for opts in ({"from_logits": True}, {"from_logits": True, "ignore_class": -1}):
        tag = "_".join(f"{k}_{v}" for k, v in opts.items())
        lab = EXTREME_LABELS if "ignore_class" not in opts else np.where(np.arange(8) % 3 == 1, -1, EXTREME_LABELS)
        add(f"{tag}/extreme_logits_1e4", "SparseCategoricalCrossentropy", [
            {"y_true": lab, "y_pred": EXTREME_ROWS},
            {"y_true": lab, "y_pred": EXTREME_ROWS, "sample_weight": w8},
            {"y_true": lab, "y_pred": EXTREME_ROWS - F32(2e4), "sample_weight": F32(2.0)},  # exact shift
            {"y_true": rand_lab, "y_pred": near((B, T, 4)), "sample_weight": weights((B, T))},
            {"y_true": r.integers(0, 4, B), "y_pred": near((B, 4), -1e4)},
        ], opts, note="logits ~ +-1e4 with O(1) losses; the rows are exact in float32")
    sign = np.where(r.uniform(size=(B, D)) < 0.5, F32(-1), F32(1))
    add("from_logits_True/extreme_logits_1e4", "BinaryCrossentropy", [
        {"y_true": SIG_Z, "y_pred": SIG_X},
        {"y_true": SIG_Z, "y_pred": SIG_X, "sample_weight": np.array([1, 0.5, 2, 0], F32)},
        {"y_true": np.where(sign > 0, 1 - r.integers(0, 16, (B, D)) * 2**-14, r.integers(0, 16, (B, D)) * 2**-14).astype(F32),
         "y_pred": (sign * near((B, D))).astype(F32), "sample_weight": F32(2.0)},
    ], {"from_logits": True}, note="labels within 2**-12 of 0/1 make the loss O(1) at |x| ~ 1e4; the third update's "
                                   "x * z are not exact in float32 (TF rounds them before subtracting)",
        documented=exact_sigmoid_stream, deviation=SIGMOID_ROUNDING)


SIGMOID_ROUNDING = (
    "jaxent is within float32 rounding of the exact loss; TF rounds x*z to float32 before subtracting it "
    "(an error up to ulp(x)/2 ~ 5e-4 at |x| ~ 1e4 with labels that are not 0 or 1)"
)


def exact_sigmoid_stream(steps: list[dict]) -> dict[str, np.ndarray]:
    """A BinaryCrossentropy(from_logits=True) stream in float64: per-sample exact losses, weighted sums."""
    total = count = 0.0
    outputs = {}
    for k, step in enumerate(steps):
        z, x = step["y_true"].astype(np.float64), step["y_pred"].astype(np.float64)
        per_sample = (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).mean(axis=-1)
        weight = np.broadcast_to(np.asarray(step.get("sample_weight", 1.0), np.float64), per_sample.shape)
        total, count = total + np.sum(weight * per_sample), count + np.sum(weight)
        outputs[f"result_{k}"], outputs[f"total_{k}"], outputs[f"count_{k}"] = (
            F32(total / count), F32(total), F32(count))
    return outputs


# ---------------------------------------------------------------------------------------------
# Tracker issue 11: Python floats with float64 metrics (see probe_float64.py). Keras casts a
# Python float / list sample_weight, y_true, values through float32 (f64(f32(x))), and a Python
# float threshold too; label_smoothing stays exact. 0.7, 0.1 and 1/3 are where it shows.

PY_W = [0.7, 0.1, 1 / 3]


def gen_python_scalars():
    y = np.ones((2, 4), np.float64)  # all ones: the flipped predictions change the count
    flips = {
        0.7: [0.7, 0.6999999999, 0.7000000001, 0.69999998],
        0.1: [0.1, 0.1000000005, 0.1000000016, 0.0999999],
        1 / 3: [1 / 3, 0.33333334, 0.3333333433, 0.3333],
    }
    for thr, preds in flips.items():
        p = np.array([preds, preds], np.float64)
        add(f"dtype_float64/python_float_threshold_{thr:.4g}", "BinaryAccuracy",
            [{"y_true": y, "y_pred": p}, {"y_true": y, "y_pred": p, "sample_weight": Py(0.7)},
             {"y_true": y, "y_pred": p, "sample_weight": np.array([0.7, 0.1], np.float64)}],
            {"threshold": thr, "dtype": "float64"},
            note=f"threshold f64(f32({thr:.4g})) = {float(F32(thr))!r}; predictions between it and the threshold flip")
    p = np.array([flips[0.7]] * 2, np.float64)
    add("default_dtype/python_float_threshold_0.7_float64_inputs", "BinaryAccuracy", [{"y_true": y, "y_pred": p}],
        {"threshold": 0.7}, note="float32 metric: y_pred is cast to float32 first")

    vals = np.array([0.5, 1.5, 2.25], np.float64)
    add("dtype_float64/python_float_sample_weights", "Mean", [
        {"values": vals, "sample_weight": Py(0.7)},
        {"values": vals * 2, "sample_weight": Py(0.1)},
        {"values": vals - 1, "sample_weight": Py(1 / 3)},
        {"values": vals, "sample_weight": Py(PY_W)},
        {"values": vals, "sample_weight": np.array(PY_W, np.float64)},
    ], {"dtype": "float64"})
    add("dtype_float64/python_values", "Mean", [
        {"values": Py(0.7)}, {"values": Py(PY_W)}, {"values": Py(PY_W), "sample_weight": Py(0.7)},
    ], {"dtype": "float64"})
    add("dtype_float64/numpy_float64_sample_weights", "Mean", [
        {"values": vals, "sample_weight": Py(0.7, numpy=True)},
        {"values": vals, "sample_weight": Py(PY_W, numpy=True)},
    ], {"dtype": "float64"}, note="np.float64 scalars are exact")

    probs = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], np.float64)
    logits3 = np.array([[1, 2, 3], [100, 0, -100], [0.5, -1, 2]], np.float64)
    onehot = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]], np.float64)
    sparse = np.array([1, 2, 0], np.int64)
    by = np.array([[0, 1], [0, 0], [1, 1]], np.float64)
    bp = np.array([[0.6, 0.4], [0.4, 0.6], [0.7, 0.2]], np.float64)
    bl = np.array([[1.5, -0.5], [20, 0.25], [-3, 7]], np.float64)
    classes = [
        ("CategoricalCrossentropy", {}, onehot, probs),
        ("CategoricalCrossentropy", {"from_logits": True}, onehot, logits3),
        ("SparseCategoricalCrossentropy", {}, sparse, probs),
        ("SparseCategoricalCrossentropy", {"ignore_class": 1}, sparse, probs),
        ("BinaryCrossentropy", {}, by, bp),
        ("BinaryCrossentropy", {"from_logits": True}, by, bl),
        ("MeanSquaredError", {}, by, bp),
        ("MeanAbsoluteError", {}, by, bp),
        ("Accuracy", {}, by, np.array([[0, 1], [0.7, 0], [1, 1]], np.float64)),
        ("BinaryAccuracy", {}, by, bp),
    ]
    for cls_name, opts, yt, yp in classes:
        tag = "_".join(f"{k}_{v}" for k, v in opts.items())
        add(f"dtype_float64/{tag + '/' if tag else ''}python_float_sample_weights", cls_name, [
            {"y_true": yt, "y_pred": yp, "sample_weight": Py(0.7)},
            {"y_true": yt, "y_pred": yp, "sample_weight": Py(PY_W)},
            {"y_true": yt, "y_pred": yp, "sample_weight": np.array(PY_W, np.float64)},
            {"y_true": yt, "y_pred": yp},
        ], {**opts, "dtype": "float64"})
    yl = [[0.7, 0.1], [1 / 3, 0.0], [0.7, 0.3]]
    for cls_name in ("MeanSquaredError", "BinaryCrossentropy"):
        add("dtype_float64/python_list_y_true", cls_name, [
            {"y_true": Py(yl), "y_pred": bp}, {"y_true": Py(yl), "y_pred": bp, "sample_weight": Py(0.1)},
        ], {"dtype": "float64"})
    add("dtype_float64/python_list_y_true", "CategoricalCrossentropy", [
        {"y_true": Py([[0.7, 0.3, 0.0], [0.0, 0.3, 0.7], [0.3, 0.7, 0.0]]), "y_pred": probs},
    ], {"dtype": "float64"})
    for ls in (0.1, 1 / 3):
        add(f"dtype_float64/label_smoothing_{ls:.4g}_exact", "CategoricalCrossentropy",
            [{"y_true": onehot, "y_pred": probs}, {"y_true": onehot, "y_pred": probs[::-1].copy()}],
            {"label_smoothing": ls, "dtype": "float64"}, note="label_smoothing is exact in float64")
        add(f"dtype_float64/label_smoothing_{ls:.4g}_exact", "BinaryCrossentropy",
            [{"y_true": by, "y_pred": bp}], {"label_smoothing": ls, "dtype": "float64"},
            note="label_smoothing is exact in float64")


# ---------------------------------------------------------------------------------------------
# Tracker issue 12: the argmax and top-k accuracies. Ties (tf.argmax takes the first maximum;
# tf.math.in_top_k counts tied scores at the boundary as in), non-finite scores, [B, 1] sparse
# labels, float labels, out-of-range labels, rank-3 inputs, sample weights, 16-bit and float64.


def gen_class_accuracy():
    r = np.random.default_rng(1212)

    def scores(outer, classes=C, ties=True, nonfinite=False):
        p = r.dirichlet(np.ones(classes), outer).astype(F32)
        flat = p.reshape(-1, classes)
        if ties:
            flat[0] = [0.4, 0.4, 0.1, 0.1][:classes] if classes == 4 else flat[0]  # argmax tie: first wins
            flat[1] = [0.1, 0.3, 0.3, 0.3][:classes] if classes == 4 else flat[1]  # top-2 tie at the boundary
        if nonfinite:
            flat[2, 1] = np.nan
            flat[3, 0] = np.inf
        return p

    def onehot_soft(outer, classes=C):
        y = np.eye(classes, dtype=F32)[r.integers(0, classes, outer)]
        y.reshape(-1, classes)[0] = [0.5, 0.5, 0, 0][:classes] if classes == 4 else y.reshape(-1, classes)[0]
        return y

    def sparse(outer, classes=C, trailing=False, kind="int"):
        lab = r.integers(0, classes, outer)
        lab = lab.astype(np.int64) if kind == "int" else lab.astype(F32)
        if kind == "float":
            lab.reshape(-1)[0] = 1.5  # a float label that is no class
        if kind == "out_of_range":
            lab.reshape(-1)[:2] = [-1, classes]
        return lab[..., None] if trailing else lab

    def batch(make_y, classes=C, **kw):
        return lambda: {"y_true": make_y((B,), classes), "y_pred": scores((B,), classes, **kw)}

    def steps_t(make_y, classes=C, **kw):
        return lambda: {"y_true": make_y((B, T), classes), "y_pred": scores((B, T), classes, ties=False, **kw)}

    add("batch", "CategoricalAccuracy", stream(batch(onehot_soft, nonfinite=True), plan_batch()))
    add("timesteps", "CategoricalAccuracy", stream(steps_t(onehot_soft), plan_timesteps()))
    add("dtype_float64/batch", "CategoricalAccuracy", stream(batch(onehot_soft), plan_batch()[:3]), {"dtype": "float64"})
    for half in (np.float16, BF16):
        add(f"{np.dtype(half).name}_inputs/batch", "CategoricalAccuracy", [
            {k: v.astype(half) for k, v in batch(onehot_soft)().items()} | {"sample_weight": w}
            for w in plan_batch()[:3]])

    for kind in ("int", "float", "out_of_range"):
        add(f"{kind}_labels/batch", "SparseCategoricalAccuracy",
            stream(batch(lambda o, c, kind=kind: sparse(o, c, kind=kind)), plan_batch()))
    add("labels_Bx1/batch", "SparseCategoricalAccuracy",
        stream(batch(lambda o, c: sparse(o, c, trailing=True), nonfinite=True), plan_batch()))
    add("timesteps", "SparseCategoricalAccuracy", stream(steps_t(lambda o, c: sparse(o, c)), plan_timesteps()))
    add("labels_BxTx1/timesteps", "SparseCategoricalAccuracy",
        stream(steps_t(lambda o, c: sparse(o, c, trailing=True)), plan_timesteps()[:3]))
    add("dtype_float64/batch", "SparseCategoricalAccuracy",
        stream(batch(lambda o, c: sparse(o, c)), plan_batch()[:3]), {"dtype": "float64"})
    add("bfloat16_inputs/batch", "SparseCategoricalAccuracy", [
        {"y_true": sparse((B,)), "y_pred": scores((B,)).astype(BF16), "sample_weight": w} for w in plan_batch()[:3]])

    for opts in ({}, {"k": 1}, {"k": 2}, {"k": 3}):
        tag = "_".join(f"{k}_{v}" for k, v in opts.items()) or "default_k5"
        add(f"{tag}/batch", "TopKCategoricalAccuracy", stream(batch(onehot_soft, nonfinite=True), plan_batch()), opts)
        add(f"{tag}/batch", "SparseTopKCategoricalAccuracy",
            stream(batch(lambda o, c: sparse(o, c, kind="out_of_range"), nonfinite=True), plan_batch()), opts)
    wide = 7  # more classes than the default k = 5
    add("k_2/timesteps", "TopKCategoricalAccuracy", stream(steps_t(onehot_soft, classes=wide), plan_timesteps()), {"k": 2})
    add("k_2/timesteps", "SparseTopKCategoricalAccuracy",
        stream(steps_t(lambda o, c: sparse(o, c), classes=wide), plan_timesteps()), {"k": 2})
    add("default_k5/wide_batch", "SparseTopKCategoricalAccuracy",
        stream(batch(lambda o, c: sparse(o, c, kind="float"), classes=wide), plan_batch()))
    add("k_2/labels_Bx1", "SparseTopKCategoricalAccuracy",
        stream(batch(lambda o, c: sparse(o, c, trailing=True)), plan_batch()[:3]), {"k": 2})
    # (A float64 top-k metric raises in Keras: tf.math.in_top_k takes float32 scores only.)
    add("k_2_float16_inputs/batch", "TopKCategoricalAccuracy", [
        {k: v.astype(np.float16) for k, v in batch(onehot_soft)().items()} | {"sample_weight": w}
        for w in plan_batch()[:3]], {"k": 2})


def main():
    gen_mean()
    gen_categorical()
    gen_sparse()
    gen_binary_crossentropy()
    gen_regression()
    gen_accuracy()
    gen_semantics_tables()
    gen_poison()
    gen_extreme_logits()
    gen_python_scalars()
    gen_class_accuracy()
    save_cases(OUT, CASES)
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case["fn"]] = counts.get(case["fn"], 0) + 1
    for fn, n in counts.items():
        print(f"{n:4d}  {fn}")
    deviations = [case["name"] for case in CASES if case["meta"].get("deviation")]
    print(f"{len(deviations)} deviation cases: {deviations}")
    print(f"{len(CASES)} cases, {sum(case['meta']['steps'] for case in CASES)} updates -> {OUT.name}")


if __name__ == "__main__":
    main()
