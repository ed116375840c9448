"""Golden-vector parity with Keras 2 (tf-keras 2.21) for the metric classes, update by update.

The vectors in ``golden/metrics.npz`` were recorded from TensorFlow by
``golden/generate_metrics.py`` (its docstring gives the case conventions): each case is a
stream of ``update_state`` calls on one Keras metric with mixed sample weights, with Keras's
``result()``, ``total`` and ``count`` after every call. Each case is replayed through jaxent
(``init`` once, every ``update`` and ``result`` inside one ``jax.jit``) and compared after
every update:

* float32 / float64 (``dtype="float64"``, replayed with x64 enabled) results, totals and
  counts: within 2x the worst error observed for the metric, dtype and output
  (:data:`OBSERVED_ULPS`, from ``python -m tests.measure_errors metrics``), at least 1 ulp, in
  ulps (``tests/ulps.py``) of Keras's value or of the size of the terms summed so far (the
  largest |total| yet, :func:`scales`: a ``Mean`` of values of both signs cancels), but never
  more than 2x the worst relative error observed where that size decides (9.9e-7 in float32).
  Observed: results and totals within 1-2 ulps (``Mean``: 3-4 of the terms' size), counts and
  the accuracies' totals exact. Keras sums in float32, jaxent in compensated two-float; short
  streams agree to float32 rounding;
* float16 metrics (``dtype="float16"``): results, totals and counts within 1 float16 ulp and
  no absolute slack (observed 1.0 for results, 0.93 for totals: Keras keeps float16 totals,
  jaxent sums in float32 and rounds the result).

The cases of one metric class are replayed together, inside one ``jax.jit``.

Inputs named in a case's ``meta["python_scalars"]`` (``"sample_weight_1"``, ...) are passed as
Python floats or lists, those in ``meta["numpy_scalars"]`` as ``np.float64`` scalars (lists of
them); they are closed over by the jitted replay instead of traced (Keras rounds a Python float
through float32 before casting it to a float64 metric's dtype).

Where API.md's "Deliberate differences" make jaxent differ, the file keeps Keras's value and
:data:`DELIBERATE_DIFFERENCES` says what jaxent does instead and why. A last group of tests runs
deliberately wrong metrics through the same comparison and checks the golden cases reject them
(also rounding-sized ones: values 8 float32 ulps high, a total one ulp high after every update,
Python-float weights kept in float64).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxent import metrics
from tests import ulps
from tests.golden.goldenio import load_cases

GOLDEN = Path(__file__).parent / "golden" / "metrics.npz"
CASES = load_cases(GOLDEN)
BY_NAME = {case["name"]: case for case in CASES}

# Tolerances (module docstring), from ``python -m tests.measure_errors metrics``: the worst
# |jaxent - Keras| per (metric, dtype of Keras's output, output) in ulps of max(|Keras|, the
# size of the summed terms, :func:`scales`); 2x this, at least 1 ulp, is allowed. Families not
# listed (every count, the accuracies' totals, float64 Mean, ...) were observed exact.
MARGIN = 2.0
OBSERVED_ULPS: dict[tuple[str, str, str], float] = {
    ("metrics.BinaryAccuracy", "float32", "result"): 1.0,
    ("metrics.BinaryAccuracy", "float32", "total"): 1.0,
    ("metrics.BinaryAccuracy", "float64", "result"): 1.0,
    ("metrics.BinaryCrossentropy", "float32", "result"): 1.0,
    ("metrics.BinaryCrossentropy", "float32", "total"): 1.0,
    ("metrics.BinaryCrossentropy", "float64", "result"): 1.0,
    ("metrics.BinaryCrossentropy", "float64", "total"): 1.0,
    ("metrics.CategoricalCrossentropy", "float32", "result"): 2.0,
    ("metrics.CategoricalCrossentropy", "float32", "total"): 2.0,
    ("metrics.CategoricalCrossentropy", "float64", "result"): 1.0,
    ("metrics.CategoricalCrossentropy", "float64", "total"): 1.0,
    ("metrics.Mean", "float32", "result"): 3.0,
    ("metrics.Mean", "float32", "total"): 4.0,
    ("metrics.MeanAbsoluteError", "float32", "result"): 1.0,
    ("metrics.MeanAbsoluteError", "float32", "total"): 1.0,
    ("metrics.MeanSquaredError", "float32", "result"): 1.0,
    ("metrics.MeanSquaredError", "float32", "total"): 1.0,
    ("metrics.MeanSquaredError", "float64", "result"): 1.0,
    ("metrics.MeanSquaredError", "float64", "total"): 1.0,
    ("metrics.SparseCategoricalAccuracy", "float64", "result"): 1.0,
    ("metrics.SparseCategoricalCrossentropy", "float32", "result"): 2.0,
    ("metrics.SparseCategoricalCrossentropy", "float32", "total"): 2.0,
    ("metrics.SparseCategoricalCrossentropy", "float64", "result"): 2.0,
    ("metrics.SparseCategoricalCrossentropy", "float64", "total"): 2.0,
}
# Worst |jaxent - Keras| / |Keras| where the size of the summed terms decides: the allowance in
# ulps of that size is capped at 2x this times |Keras|, so a total or result of 0 never passes
# for a nonzero Keras value (float64: never needed, so no such allowance).
OBSERVED_RELATIVE = {"float32": 9.86e-7, "float64": 0.0}

_POISON = (
    "API.md 9: entries of weight 0 contribute nothing even when NaN/inf (Keras multiplies them by 0 "
    "and its total stays NaN for ever); jaxent matches Keras on the stream with those entries made finite"
)
_SIGMOID = "README 12: at |x| ~ 1e4 with labels not 0/1, TF rounds x*z before subtracting; jaxent is exact to float32"
DELIBERATE_DIFFERENCES: dict[str, str] = {
    "metrics.Mean/semantics/nan_at_weight_0": _POISON,
    "metrics.Mean/poison/mean_nan_at_weight_0": _POISON,
    "metrics.CategoricalCrossentropy/poison/nan_inf_row_at_weight_0": _POISON,
    "metrics.SparseCategoricalCrossentropy/poison/nan_row_at_weight_0": _POISON,
    "metrics.BinaryCrossentropy/poison/inf_logit_at_weight_0": _POISON,
    "metrics.BinaryCrossentropy/poison/nan_prob_at_weight_0": _POISON,
    "metrics.MeanSquaredError/poison/inf_at_weight_0": _POISON,
    "metrics.MeanAbsoluteError/poison/inf_at_weight_0": _POISON,
    "metrics.BinaryCrossentropy/from_logits_True/extreme_logits_1e4": _SIGMOID,
}


def build(case: dict, cls: type | None = None) -> metrics.Metric:
    """The jaxent metric of ``case`` (``cls`` overrides the class, for the mutation tests)."""
    if cls is None:
        cls = getattr(metrics, case["fn"].split(".", 1)[1])
    return cls(**case["kwargs"])


def _scalar_names(case: dict) -> set[str]:
    return set(case["meta"].get("python_scalars", [])) | set(case["meta"].get("numpy_scalars", []))


def step_inputs(case: dict) -> list[dict[str, np.ndarray]]:
    """Per update: the call's arguments by name, bfloat16 restored, Python/NumPy scalars as such."""
    python, numpy = set(case["meta"].get("python_scalars", [])), set(case["meta"].get("numpy_scalars", []))
    steps = []
    for k in range(case["meta"]["steps"]):
        step = {}
        for key in ("values", "y_true", "y_pred", "sample_weight"):
            name = f"{key}_{k}"
            if name in case["inputs"]:
                value = case["inputs"][name]
                if case["dtypes"].get(name) == "bfloat16":
                    value = jnp.asarray(value, jnp.bfloat16)
                elif name in python:
                    value = value.tolist()
                elif name in numpy:
                    value = value[()] if value.ndim == 0 else list(value)
                step[key] = value
        steps.append(step)
    return steps


def needs_x64(case: dict) -> bool:
    """float64 metrics and float64 inputs replay with x64 enabled."""
    scalars = _scalar_names(case)
    arrays = [v for k, v in case["inputs"].items() if k not in scalars]
    return case["kwargs"].get("dtype") == "float64" or any(a.dtype == np.float64 for a in arrays)


def x64_scope(case: dict):
    return jax.enable_x64(True) if needs_x64(case) else contextlib.nullcontext()


def _stream(metric: metrics.Metric, case: dict):
    """``(f, traced)``: ``f(traced)`` traces the case's stream, result/total/count after every update."""
    scalars = _scalar_names(case)
    steps = step_inputs(case)
    # Python/NumPy scalars stay Python objects at trace time: closed over, not traced.
    fixed = [{key: v for key, v in step.items() if f"{key}_{k}" in scalars} for k, step in enumerate(steps)]
    traced = [{key: v for key, v in step.items() if f"{key}_{k}" not in scalars} for k, step in enumerate(steps)]

    def run(steps):
        state, outputs = metric.init(), {}
        for k, step in enumerate(steps):
            step = {**step, **fixed[k]}
            weight = step.get("sample_weight")
            if isinstance(metric, metrics.Mean):
                state = metric.update(state, step["values"], weight)
            else:
                state = metric.update(state, step["y_true"], step["y_pred"], weight)
            outputs[f"result_{k}"] = metric.result(state)
            outputs[f"total_{k}"] = state.total
            outputs[f"count_{k}"] = state.count
        return outputs

    return run, traced


def replay_many(metrics_and_cases: list[tuple[metrics.Metric, dict]]) -> list[dict[str, np.ndarray]]:
    """Each case's stream through its metric, all inside one ``jax.jit`` (one XLA compilation)."""
    streams = [_stream(metric, case) for metric, case in metrics_and_cases]

    @jax.jit
    def run(all_steps):
        return [f(steps) for (f, _), steps in zip(streams, all_steps)]

    return [{k: np.asarray(v) for k, v in out.items()} for out in run([traced for _, traced in streams])]


def replay(metric: metrics.Metric, case: dict) -> dict[str, np.ndarray]:
    """Run the case's stream through jaxent (one jitted program): result/total/count after every update."""
    return replay_many([(metric, case)])[0]


@functools.cache
def _replayed_group(fn: str, x64: bool) -> dict[str, dict[str, np.ndarray] | Exception]:
    """The streams of every case of one metric class and x64 setting, replayed together by name;
    if that fails, each case alone (one that fails gets its exception)."""
    cases = [case for case in CASES if case["fn"] == fn and needs_x64(case) == x64]
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        try:
            return {case["name"]: out for case, out in zip(cases, replay_many([(build(c), c) for c in cases]))}
        except Exception:
            outputs: dict[str, dict[str, np.ndarray] | Exception] = {}
            for case in cases:
                try:
                    outputs[case["name"]] = replay(build(case), case)
                except Exception as error:
                    outputs[case["name"]] = error
            return outputs


def replayed(case: dict) -> dict[str, np.ndarray]:
    """jaxent's outputs for ``case`` as the golden test computes them (batched by metric class)."""
    out = _replayed_group(case["fn"], needs_x64(case))[case["name"]]
    if isinstance(out, Exception):
        raise out
    return out


def expected_outputs(case: dict) -> dict[str, np.ndarray]:
    """What jaxent must return: Keras's outputs, or the documented ones for a deviation."""
    outputs = case["outputs"]
    return {key: outputs.get(f"{key}_documented", value) for key, value in outputs.items() if "_documented" not in key}


def allowed_ulps(case: dict, key: str, dtype: str) -> float:
    """How many ulps output ``key`` of ``case`` may be off (module docstring)."""
    if dtype == "float16":
        return 1.0
    return max(1.0, MARGIN * OBSERVED_ULPS.get((case["fn"], dtype, key.rsplit("_", 1)[0]), 0.0))


def scales(case: dict) -> dict[str, float]:
    """The size of the terms each total and result was summed from: the largest |total| so far.

    Update ``k`` adds the batch's weighted sum to the total in float arithmetic; when they
    cancel (a ``Mean`` of values of both signs), the new total carries an error of a few ulps
    of the largest of them, and ``|batch| <= |total before| + |total after|``. Results are
    totals divided by the count.
    """
    expected, out, largest = expected_outputs(case), {}, 0.0
    for k in range(case["meta"]["steps"]):
        total, count = expected[f"total_{k}"].astype(np.float64), expected[f"count_{k}"].astype(np.float64)
        if np.isfinite(total):
            largest = max(largest, float(abs(total)))
        out[f"total_{k}"] = largest
        out[f"result_{k}"] = largest / float(count) if count else 0.0
    return out


def mismatches(case: dict, got: dict[str, np.ndarray]) -> list[str]:
    """Every output of ``got`` that differs from the case's expectation beyond tolerance."""
    problems, scale = [], scales(case)
    for key, want in expected_outputs(case).items():
        value, dtype = got[key], str(want.dtype)
        if key.startswith("result_") and value.dtype != want.dtype:
            problems.append(f"{key}: dtype {value.dtype} != Keras {want.dtype}")
        n = allowed_ulps(case, key, dtype)
        cancelling = {} if dtype == "float16" or key not in scale else {"scale": scale[key], "cap": MARGIN * OBSERVED_RELATIVE[dtype]}
        excess = ulps.excess(value, want, dtype, n, **cancelling)
        if not (excess <= 1).all():
            problems.append(f"{key}: jaxent {value!r} != expected {want!r} ({float(excess.max()):.3g} x the allowed error)")
    return problems


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_metric_stream_matches_keras_after_every_update(name):
    case = BY_NAME[name]
    got = replayed(case)
    problems = mismatches(case, got)
    assert not problems, "\n".join(problems)
    if DELIBERATE_DIFFERENCES.get(name) == _POISON:
        # The file really records Keras going NaN where jaxent stays finite.
        last = case["meta"]["steps"] - 1
        assert np.isnan(case["outputs"][f"result_{last}"]), name
        assert np.isfinite(got[f"result_{last}"]), name


def test_deliberate_differences_are_exactly_the_flagged_cases():
    flagged = {case["name"] for case in CASES if case["meta"].get("deviation")}
    assert flagged == set(DELIBERATE_DIFFERENCES)


def test_golden_file_covers_every_metric_and_option():
    seen: dict[str, set[str]] = {}
    for case in CASES:
        seen.setdefault(case["fn"], set()).update(case["kwargs"])
    assert seen == {
        "metrics.Mean": {"dtype"},
        "metrics.CategoricalCrossentropy": {"from_logits", "label_smoothing", "axis", "dtype"},
        "metrics.SparseCategoricalCrossentropy": {"from_logits", "ignore_class", "axis", "dtype"},
        "metrics.BinaryCrossentropy": {"from_logits", "label_smoothing", "dtype"},
        "metrics.Accuracy": {"dtype"},
        "metrics.BinaryAccuracy": {"threshold", "dtype"},
        "metrics.MeanSquaredError": {"dtype"},
        "metrics.MeanAbsoluteError": {"dtype"},
        "metrics.CategoricalAccuracy": {"dtype"},
        "metrics.SparseCategoricalAccuracy": {"dtype"},
        "metrics.TopKCategoricalAccuracy": {"k"},
        "metrics.SparseTopKCategoricalAccuracy": {"k"},
    }
    weight_ranks = {np.ndim(v) for case in CASES for k, v in case["inputs"].items() if k.startswith("sample_weight")}
    assert weight_ranks == {0, 1, 2, 3}
    assert sum(case["meta"]["steps"] for case in CASES) >= 300


# Wrong implementations the golden cases must reject.


@dataclasses.dataclass(frozen=True)
class _GreaterOrEqualBinaryAccuracy(metrics.BinaryAccuracy):
    def call(self, y_true, y_pred):
        return (y_true == (y_pred >= self.threshold)).astype(y_true.dtype)


@dataclasses.dataclass(frozen=True)
class _ThresholdingBothBinaryAccuracy(metrics.BinaryAccuracy):
    def call(self, y_true, y_pred):
        return ((y_true > self.threshold) == (y_pred > self.threshold)).astype(y_true.dtype)


@dataclasses.dataclass(frozen=True)
class _CountingIgnoredSparse(metrics.SparseCategoricalCrossentropy):
    def values_and_mask(self, y_true, y_pred):
        return super().values_and_mask(y_true, y_pred)[0], None


@dataclasses.dataclass(frozen=True)
class _RoundingAccuracy(metrics.Accuracy):
    def call(self, y_true, y_pred):
        return (y_true == jnp.round(y_pred)).astype(y_true.dtype)


@pytest.mark.parametrize(
    "cls, name",
    [
        (_GreaterOrEqualBinaryAccuracy, "metrics.BinaryAccuracy/default/batch"),
        (_ThresholdingBothBinaryAccuracy, "metrics.BinaryAccuracy/semantics/y_true_not_thresholded"),
        (_CountingIgnoredSparse, "metrics.SparseCategoricalCrossentropy/semantics/ignore"),
        (_RoundingAccuracy, "metrics.Accuracy/semantics/near_misses"),
    ],
)
def test_golden_cases_reject_a_wrong_implementation(cls, name):
    case = BY_NAME[name]
    assert mismatches(case, replay(build(case, cls), case)), f"{name} does not tell {cls.__name__} apart"


# Rounding-sized mutants: jaxent's own metric with every value 8 float32 ulps high, or with its
# total one ulp high after every update, or fed Python floats without TF's float32 rounding.

_EIGHT_ULP = 1 + 8 * float(np.finfo(np.float32).eps)


@dataclasses.dataclass(frozen=True)
class _EightUlpMeanSquaredError(metrics.MeanSquaredError):
    def call(self, y_true, y_pred):
        return super().call(y_true, y_pred) * _EIGHT_ULP


@dataclasses.dataclass(frozen=True)
class _DriftingMeanSquaredError(metrics.MeanSquaredError):
    def update(self, state, *args, **kwargs):
        state = super().update(state, *args, **kwargs)
        return dataclasses.replace(state, sums=state.sums.at[0].set(jnp.nextafter(state.total_hi, jnp.inf)))


@pytest.mark.parametrize(
    "cls, name",
    [
        (_EightUlpMeanSquaredError, "metrics.MeanSquaredError/batch"),
        (_DriftingMeanSquaredError, "metrics.MeanSquaredError/timesteps"),
    ],
)
def test_golden_cases_reject_a_metric_a_few_ulps_off(cls, name):
    case = BY_NAME[name]
    assert mismatches(case, replay(build(case, cls), case)), f"{name} does not tell {cls.__name__} apart"


def test_golden_cases_reject_python_floats_kept_in_float64():
    """A float64 metric sees Python-float weights as f64(f32(w)) in Keras; np.float64 skips that rounding."""
    case = BY_NAME["metrics.MeanSquaredError/dtype_float64/python_float_sample_weights"]
    meta = dict(case["meta"], numpy_scalars=case["meta"]["python_scalars"], python_scalars=[])
    case = {**case, "meta": meta}
    with x64_scope(case):
        assert mismatches(case, replay(build(case), case))


def test_golden_cases_reject_the_loss_class_reduction():
    case = BY_NAME["metrics.MeanSquaredError/semantics/doc_sw"]
    loss = jaxent_losses_mse_auto(case)
    assert not np.isclose(loss, case["outputs"]["result_0"], rtol=1e-3)


def jaxent_losses_mse_auto(case: dict) -> float:
    """The Loss class's value on the case's only update: weighted sum / number of samples."""
    from jaxent.losses import MeanSquaredError

    (step,) = step_inputs(case)
    return float(MeanSquaredError()(step["y_true"], step["y_pred"], step["sample_weight"]))
