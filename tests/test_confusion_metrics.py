"""The confusion-matrix metrics against tf-keras 2.21 golden streams, exact counts, memory and configs.

``golden/confusion.npz`` (``golden/generate_confusion.py``; its docstring gives the cases) holds
streams of updates on one Keras metric with Keras's ``result()`` and confusion variables after
every update, and the results of merging the two halves of the stream in both orders. Each
case is replayed through jaxent (``init``, ``update`` per step, ``result``; the merges with
``merge`` in both orders) and compared, in float32 ulps of Keras's value (``tests/ulps.py``):

* counts (``accumulator``, ``true_positives``, ...) and results, in ulps of the largest
  |Keras| value of the output, within MARGIN (2) times the worst error observed
  (:data:`OBSERVED_ULPS`: 1 ulp for counts and for the counters', Precision's and Recall's
  results, 2 for ROC/PR AUC, 4 on the 1e5-score stream, 39 for PR_GAIN, whose gains cancel).
  Unweighted counts must be equal. Keras's bucketed scores (evenly spaced thresholds) are
  matched edge for edge: the grid-edge case gives the same counts exactly.

Planted mutations (``>=`` for ``>``, the trapezoid rule for PR-AUC instead of
Davis-Goadrich interpolation, the AUC padding ``1e-5`` for ``1e-7`` on either side) must fail
the golden cases. The compiled temporaries of ``AUC(200).update`` at N = 10^6 stay below 1/16
of a ``[T, N]`` float32 comparison.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxent import metrics
from jaxent.metrics import confusion
from tests import ulps
from tests.golden.goldenio import load_cases

CASES = load_cases(Path(__file__).parent / "golden" / "confusion.npz")
BY_NAME = {case["name"]: case for case in CASES}

# Worst observed |jaxent - Keras| over the golden cases, in float32 ulps of the largest |Keras|
# value of the output (a count vector's largest count; a result itself): measured with
# ``_errors`` below. The tests allow MARGIN times it, at least 1 ulp.
# * counts: 1 ulp (Keras's tn = total - fp and fn = total - tp in float32 leave an ulp of the
#   total, e.g. 4.8e-7 where the count is 0; jaxent counts them directly); 4 ulps on the 1e5
#   weighted stream (Keras sums 1e5 weights per threshold in float32).
# * results: 1 ulp for the counters, Precision and Recall; 2 for AUC (ROC, PR), 4 on the 1e5
#   stream; 39 for PR_GAIN (1 - (P/N) * fn/tp cancels: an ulp of a count becomes tens in the
#   gain), from the T = 11 interpolation case.
MARGIN = 2.0
OBSERVED_ULPS = {
    ("count", "stream_1e5"): 4.0,
    ("count", ""): 1.0,
    ("result", "PR_GAIN"): 39.0,
    ("result", "stream_1e5"): 4.0,
    ("result", "metrics.AUC"): 2.0,
    ("result", ""): 1.0,
}


def tolerance(case: dict, kind: str) -> float:
    """Allowed ulps for ``kind`` ("count" or "result") of ``case``: the first key of OBSERVED_ULPS in its name."""
    for (k, key), observed in OBSERVED_ULPS.items():
        if k == kind and key in case["name"]:
            return max(1.0, MARGIN * observed)
    raise AssertionError(kind)


_COUNTER = {
    "metrics.TruePositives": "true_positives",
    "metrics.FalsePositives": "false_positives",
    "metrics.TrueNegatives": "true_negatives",
    "metrics.FalseNegatives": "false_negatives",
}


def build(case: dict, cls: type | None = None) -> metrics.Metric:
    cls = cls or getattr(metrics, case["fn"].split(".", 1)[1])
    return cls(**case["kwargs"])


def _steps(case: dict) -> list[tuple]:
    inputs = case["inputs"]
    return [(inputs[f"y_true_{k}"], inputs[f"y_pred_{k}"], inputs.get(f"sample_weight_{k}"))
            for k in range(case["meta"]["steps"])]


def replay(case: dict, metric: metrics.Metric | None = None) -> dict[str, np.ndarray]:
    """jaxent's outputs for ``case``, named as the golden outputs.

    Each ``update``/``result``/``merge`` is its own compiled call, as a user makes them: metrics
    that count alike (``TruePositives`` and ``Precision`` at equal thresholds) share the update.
    """
    metric = metric or build(case)
    steps = _steps(case)
    counter = _COUNTER.get(case["fn"])
    out: dict[str, np.ndarray] = {}
    state = metric.init()
    for k, (y_true, y_pred, weight) in enumerate(steps):
        state = metric.update(state, y_true, y_pred, sample_weight=weight)
        out[f"result_{k}"] = np.asarray(metric.result(state))
        for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            out[f"{name}_{k}"] = np.asarray(getattr(state, name))
        if counter:
            out[f"accumulator_{k}"] = out[f"{counter}_{k}"]
    if "merged_ab" in case["outputs"]:
        split = case["meta"]["split"]
        halves = [metric.init(), metric.init()]
        for k, (y_true, y_pred, weight) in enumerate(steps):
            half = 0 if k < split else 1
            halves[half] = metric.update(halves[half], y_true, y_pred, sample_weight=weight)
        out["merged_ab"] = np.asarray(metric.result(metric.merge(halves[0], halves[1])))
        out["merged_ba"] = np.asarray(metric.result(metric.merge(halves[1], halves[0])))
    return out


def _errors(case: dict, got: dict[str, np.ndarray]) -> dict[str, float]:
    """Worst error in ulps of Keras's value per kind of output ("count", "result")."""
    worst = {"count": 0.0, "result": 0.0}
    for key, expected in case["outputs"].items():
        actual = got[key]
        assert np.shape(actual) == np.shape(expected), (case["name"], key, np.shape(actual), np.shape(expected))
        kind = "result" if key.startswith(("result", "merged")) else "count"
        scale = np.max(np.abs(expected), initial=0.0)
        ratio = ulps.excess(actual, expected, np.float32, 1.0, scale=np.full(np.shape(expected), scale))
        worst[kind] = max(worst[kind], float(np.max(ratio, initial=0.0)))
    return worst


def _check(case: dict, got: dict[str, np.ndarray]) -> None:
    errors = _errors(case, got)
    assert errors["count"] <= tolerance(case, "count"), (case["name"], errors)
    assert errors["result"] <= tolerance(case, "result"), (case["name"], errors)


def _unweighted(case: dict) -> bool:
    return not any(key.startswith("sample_weight") for key in case["inputs"]) and not case["kwargs"].get("label_weights")


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_golden(case):
    got = replay(case)
    _check(case, got)
    if _unweighted(case):  # integer counts: exact
        for key, expected in case["outputs"].items():
            if not key.startswith(("result", "merged")):
                np.testing.assert_array_equal(got[key], expected, err_msg=f"{case['name']} {key}")


def test_bucket_edges_match_keras_exactly():
    """Every score at a float32 grid point i / 199: Keras's bucketing, not a plain ``>``, decides (and jaxent agrees)."""
    case = BY_NAME["metrics.AUC/grid_edges_T200"]
    got = replay(case)
    for name in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
        np.testing.assert_array_equal(got[f"{name}_1"], case["outputs"][f"{name}_1"])
    # ... and the bucketing is not the plain comparison at every edge (the case would not test it otherwise).
    scores = case["inputs"]["y_pred_0"].astype(np.float32)
    thresholds = np.asarray(metrics.AUC().thresholds, np.float64).astype(np.float32)
    positives = case["inputs"]["y_true_0"] != 0
    plain = ((scores[None, :] > thresholds[:, None]) & positives).sum(axis=1)
    assert np.sum(plain != case["outputs"]["true_positives_0"]) > 0


# --------------------------------------------------------------------------------------------
# Mutations: each must fail some golden case.


def _fails(cases: list[dict], cls: type) -> bool:
    for case in cases:
        try:
            _check(case, replay(case, build(case, cls)))
        except AssertionError:
            return True
    return False


def _mutant_exceeded(scores, grid):
    """``>=`` for ``>``: thresholds at or below the score."""
    if grid.evenly:
        clipped = jnp.clip(scores, 0, 1)
        bucket = jnp.floor(clipped * np.asarray(len(grid.thresholds) - 1, scores.dtype))
        if grid.thresholds[0] < 0.0 or grid.thresholds[-1] > 1.0:
            bucket = jnp.maximum(bucket, 0)
        return bucket.astype(jnp.int32) + 1
    ordered = np.sort(np.asarray(grid.thresholds, np.float64)).astype(scores.dtype)
    return jnp.searchsorted(jnp.asarray(ordered), scores, side="right").astype(jnp.int32)


def test_mutation_greater_equal(monkeypatch):
    """``y_pred >= t`` instead of ``>``: fails on the searched path (a score at 0.5) and on the bucketed one."""
    monkeypatch.setattr(confusion, "_exceeded", _mutant_exceeded)
    confusion._count_sums.clear_cache()  # its compiled updates traced the real _exceeded
    try:
        for name in ("metrics.TruePositives/int_and_soft_labels", "metrics.AUC/grid_edges_T200"):
            assert _fails([BY_NAME[name]], None), name
    finally:
        confusion._count_sums.clear_cache()


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class _TrapezoidPR(metrics.AUC):
    """PR-AUC with the trapezoid rule on (recall, precision) instead of the interpolation of Keras."""

    def result(self, state):
        tp, fp, fn = state.true_positives, state.false_positives, state.false_negatives
        recall = jnp.where(tp + fn > 0, tp / jnp.where(tp + fn > 0, tp + fn, 1), 0)
        precision = jnp.where(tp + fp > 0, tp / jnp.where(tp + fp > 0, tp + fp, 1), 0)
        return jnp.sum((recall[:-1] - recall[1:]) * (precision[:-1] + precision[1:]) / 2)


@pytest.mark.parametrize("name", ["metrics.AUC/PR_interpolation_T200", "metrics.AUC/explicit_thresholds_PR"])
def test_mutation_trapezoid_pr_auc(name):
    assert _fails([BY_NAME[name]], _TrapezoidPR)


def _padded(pad: float, side: int) -> type:
    """AUC whose lower (side -1) or upper (side 1) padding threshold is ``pad`` away from [0, 1] instead of 1e-7."""

    @dataclasses.dataclass(frozen=True, eq=False, init=False)
    class Mutant(metrics.AUC):
        @property
        def grid(self):
            grid = metrics.AUC.grid.fget(self)
            low, high = (-pad, grid.thresholds[-1]) if side < 0 else (grid.thresholds[0], 1 + pad)
            return dataclasses.replace(grid, thresholds=(low, *grid.thresholds[1:-1], high))

    return Mutant


@pytest.mark.parametrize("side", [-1, 1])
def test_mutation_padding(side):
    """Padding 1e-5 for Keras's 1e-7 fails (scores between the two), Keras's own padding passes."""
    case = BY_NAME["metrics.AUC/explicit_thresholds"]
    assert _fails([case], _padded(1e-5, side))
    assert not _fails([case], _padded(1e-7, side))


# --------------------------------------------------------------------------------------------
# Exactness, merging, memory.


def test_counts_exact_past_2_24():
    """2^24 + 3 positives over several updates: float32 counters would stop at 2^24; the state keeps every one."""
    metric = metrics.TruePositives()
    ones = jnp.ones((1 << 22,), jnp.float32)
    state = metric.init()
    for _ in range(4):
        state = metric.update(state, ones, ones)
    state = metric.update(state, jnp.ones((3,)), jnp.ones((3,)))
    hi, lo = state.sums[0, 0, 0], state.sums[0, 0, 1]
    assert int(hi) + int(lo) == (1 << 24) + 3


def test_merge_and_psum_equal_one_stream():
    metric = metrics.AUC(num_thresholds=50)
    case = BY_NAME["metrics.AUC/default"]
    steps = _steps(case)
    whole = metric.init()
    for y_true, y_pred, weight in steps:
        whole = metric.update(whole, y_true, y_pred, sample_weight=weight)
    parts = [metric.update(metric.init(), *step[:2], sample_weight=step[2]) for step in steps]
    stacked = jax.tree.map(lambda *s: jnp.stack(s), *parts)
    summed = jax.vmap(lambda s: s, axis_name="d")(stacked)  # noqa: E731
    psummed = jax.vmap(lambda s: jax.lax.psum(s, "d"), axis_name="d")(summed)
    merged = parts[0]
    for part in parts[1:]:
        merged = metric.merge(merged, part)
    np.testing.assert_array_equal(metric.result(merged), metric.result(whole))
    first = jax.tree.map(lambda x: x[0], psummed)
    assert abs(float(metric.result(first)) - float(metric.result(whole))) <= 1e-6
    with pytest.raises(ValueError):
        metrics.AUC(num_thresholds=20).merge(metrics.AUC(num_thresholds=20).init(), merged)
    with pytest.raises(ValueError):
        metric.merge(merged, metrics.Mean().init())


def test_auc_update_memory_is_linear():
    """Compiled temporaries of ``AUC(200).update`` at N = 10^6: below 1/16 of a [T, N] float32 comparison."""
    n, metric = 10**6, metrics.AUC(num_thresholds=200)
    y = jax.ShapeDtypeStruct((n,), jnp.float32)
    compiled = jax.jit(lambda s, t, p: metric.update(s, t, p)).lower(metric.init(), y, y).compile()
    temp = compiled.memory_analysis().temp_size_in_bytes
    budget = 200 * n * 4 // 16
    assert temp < budget, (temp, budget)
    weighted = jax.jit(lambda s, t, p, w: metric.update(s, t, p, sample_weight=w)).lower(metric.init(), y, y, y).compile()
    assert weighted.memory_analysis().temp_size_in_bytes < budget


# --------------------------------------------------------------------------------------------
# Shapes, configs, identifiers.


def test_result_shapes_and_divide_no_nan():
    assert metrics.TruePositives().result(metrics.TruePositives().init()).shape == ()
    assert metrics.Precision([0.2, 0.4]).result(metrics.Precision([0.2, 0.4]).init()).shape == (2,)
    p = metrics.Precision()
    assert float(p.result(p.init())) == 0.0
    auc = metrics.AUC()
    assert float(auc.result(auc.init())) == 0.0


def test_validation():
    with pytest.raises(ValueError, match="must be in"):
        metrics.TruePositives(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="num_labels"):
        metrics.AUC(multi_label=True).init()
    with pytest.raises(ValueError, match="non-negative"):
        metrics.AUC(label_weights=[1.0, -1.0])


CONFIG_CASES = [case for case in CASES if "config" in case["meta"]]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=[case["name"] for case in CONFIG_CASES])
def test_config_matches_keras(case):
    metric = getattr(metrics, case["fn"].split(".", 1)[1])(**case["kwargs"], name="m")
    config = metric.get_config()
    assert config == case["meta"]["config"]
    again = type(metric).from_config(config)
    assert again == metric
    assert metrics.deserialize(metrics.serialize(metric)) == metric


def test_get_resolves_names():
    for name in ("TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC"):
        assert type(metrics.get(name)).__name__ == name
    assert isinstance(metrics.get("auc"), metrics.AUC)
    assert isinstance(metrics.get("precision"), metrics.Precision)
    assert isinstance(metrics.get("recall"), metrics.Recall)
    assert metrics.get({"class_name": "AUC", "config": {"curve": "PR"}}).curve == "PR"
