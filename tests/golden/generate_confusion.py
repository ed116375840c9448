"""Generate ``tests/golden/confusion.npz``: tf-keras 2.21 golden streams for the confusion-matrix metrics.

What it records
---------------
Streams of ``update_state`` calls on one Keras metric object for ``TruePositives``,
``FalsePositives``, ``TrueNegatives``, ``FalseNegatives``, ``Precision``, ``Recall`` and ``AUC``,
with sample weights (none, scalar, ``[B]``, ``[B, 1]``, the inputs' shape, some and all zeros),
recording ``result()`` and every confusion variable after each update. Inputs cover the edges:
scores exactly at the thresholds (and at the float32 grid points ``i / (T - 1)`` of AUC's
bucketed path), scores outside ``[0, 1]``, ties at the ``k``-th place for ``top_k``,
``class_id``, integer and soft (0.3) labels, all-positive and all-negative streams, explicit
and evenly spaced thresholds (both of Keras's counting paths), every AUC curve and summation
method, ``from_logits``, ``multi_label`` and ``label_weights``, and a stream of 1e5 scores.

Each case also records merges: the stream's first updates on one Keras metric, the rest on
another, ``a.merge_state([b])`` (``merged_ab``) and ``b.merge_state([a])`` (``merged_ba``).

``configs``: ``get_config()`` of a few metrics, stored in the case meta (``meta["config"]``)
with Keras's automatic name suffixes avoided by explicit names.

How to run it (not run in CI; needs TensorFlow)::

    python3 -m venv /tmp/tfv
    /tmp/tfv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0
    /tmp/tfv/bin/python tests/golden/generate_confusion.py       # from the repository root

Case conventions (file format: ``goldenio.py``)
-----------------------------------------------
``fn``      ``"metrics.<Class>"``.
``kwargs``  the constructor options.
``inputs``  per update ``k``: ``y_true_k``, ``y_pred_k`` and ``sample_weight_k`` when one was passed.
``outputs`` after update ``k``: ``result_k`` and ``<variable>_k`` (``accumulator``,
            ``true_positives``, ``false_positives``, ``true_negatives``, ``false_negatives``);
            ``merged_ab`` / ``merged_ba`` (results of the merges, split after ``meta["split"]`` updates).
``meta``    ``steps``, ``split``, ``config`` (``get_config()`` where recorded), ``note``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "confusion.npz"
F32 = np.float32
CASES: list[dict] = []
rng = np.random.default_rng(20261208)


def _variables(metric) -> dict[str, np.ndarray]:
    return {v.name.split("/")[-1].split(":")[0]: v.numpy() for v in metric.variables}


def _feed(metric, step: dict) -> None:
    weight = step.get("sample_weight")
    metric.update_state(tf.constant(step["y_true"]), tf.constant(step["y_pred"]),
                        sample_weight=None if weight is None else tf.constant(weight))


def add(name: str, cls_name: str, steps: list[dict], kwargs: dict | None = None, *, note: str | None = None,
        config: bool = False) -> None:
    kwargs = dict(kwargs or {})
    make = lambda: getattr(keras.metrics, cls_name)(**kwargs)  # noqa: E731
    metric = make()
    outputs = {}
    for k, step in enumerate(steps):
        _feed(metric, step)
        outputs[f"result_{k}"] = metric.result().numpy()
        outputs.update({f"{key}_{k}": value for key, value in _variables(metric).items()})
    split = max(1, len(steps) // 2)
    if len(steps) > 1:
        for label, (first, second) in {"ab": (0, 1), "ba": (1, 0)}.items():
            parts = [make(), make()]
            for step in steps[:split]:
                _feed(parts[0], step)
            for step in steps[split:]:
                _feed(parts[1], step)
            parts[first].merge_state([parts[second]])
            outputs[f"merged_{label}"] = parts[first].result().numpy()
    inputs = {f"{key}_{k}": np.asarray(value) for k, step in enumerate(steps) for key, value in step.items()}
    meta = {"steps": len(steps), "split": split}
    if note:
        meta["note"] = note
    if config:
        named = getattr(keras.metrics, cls_name)(**kwargs, name="m")
        meta["config"] = _plain(named.get_config())
    CASES.append({"name": f"metrics.{cls_name}/{name}", "fn": f"metrics.{cls_name}", "kwargs": kwargs,
                  "inputs": inputs, "outputs": outputs, "meta": meta})


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListWrapper":
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [float(v) for v in value.reshape(-1)]
    if isinstance(value, np.floating):
        return float(value)
    return value


# --------------------------------------------------------------------------------------------
# Inputs.


def scores(shape, edges=(0.0, 0.25, 0.5, 0.75, 1.0), share=0.3) -> np.ndarray:
    """Uniform scores in [0, 1], a share of them exactly at ``edges``."""
    s = rng.random(shape).astype(F32)
    at = rng.random(shape) < share
    s[at] = rng.choice(np.asarray(edges, F32), size=int(at.sum()))
    return s


def labels(shape, p=0.4) -> np.ndarray:
    return (rng.random(shape) < p).astype(F32)


def weights(shape, zeros=0.3) -> np.ndarray:
    w = rng.uniform(0.1, 2.0, shape).astype(F32)
    w[rng.random(shape) < zeros] = 0.0
    return w


def binary_stream(b=12, shape_tail=(), kinds=("none", "batch", "scalar", "zeros"), **kw) -> list[dict]:
    """Updates: unweighted, [B] weights with zeros, scalar, all-zero weights (``"full"``: [B, 1] or the inputs' shape)."""
    steps = []
    for kind in kinds:
        shape = (b, *shape_tail)
        step = {"y_true": labels(shape), "y_pred": scores(shape, **kw)}
        if kind == "batch":
            step["sample_weight"] = weights((b,))
        elif kind == "full":
            step["sample_weight"] = weights(shape if shape_tail else (b, 1))
        elif kind == "scalar":
            step["sample_weight"] = np.asarray(2.5, F32)
        elif kind == "zeros":
            step["sample_weight"] = np.zeros((b,), F32)
        steps.append(step)
    return steps


def grid_edges(t: int) -> np.ndarray:
    """AUC's float32 grid points ``i / (T - 1)`` (bucketing differs from ``>`` at a few of them)."""
    return (np.arange(t, dtype=np.float64) / (t - 1)).astype(F32)


# --------------------------------------------------------------------------------------------
# Cases.


COUNTERS = ("TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives")


def gen_counts():
    """The same streams for the four counters and Precision/Recall (one compiled update each in jaxent)."""
    default = binary_stream(kinds=("none", "batch", "full", "scalar", "zeros"))
    listed = binary_stream(edges=(0.1, 0.3, 0.5, 0.9))
    even = binary_stream(edges=(0.0, 0.25, 0.5, 0.75, 1.0))
    two_d = binary_stream(b=6, shape_tail=(3,), kinds=("none", "full", "batch"), edges=(0.7,))
    for cls in (*COUNTERS, "Precision", "Recall"):
        add("default", cls, default, config=cls in ("TruePositives", "Precision", "Recall"))
        add("thresholds_list", cls, listed, {"thresholds": [0.3, 0.1, 0.9, 0.5]}, config=cls == "FalsePositives")
        add("even_thresholds_bucketed", cls, even, {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]},
            note="evenly spaced: Keras's bucket path without padding")
        add("thresholds_float_2d", cls, two_d, {"thresholds": 0.7})
    soft = [
        {"y_true": np.array([0, 1, 2, -1, 1], np.int32), "y_pred": np.array([0.9, 0.6, 0.7, 0.8, 0.5], F32)},
        {"y_true": np.array([0.0, 0.3, 1.0, 0.7], F32), "y_pred": np.array([0.9, 0.9, 0.9, 0.2], F32)},
    ]
    add("int_and_soft_labels", "TruePositives", soft, {"thresholds": [0.5, 0.25, 0.75]})
    add("int_and_soft_labels", "Recall", soft, {"thresholds": [0.5, 0.25, 0.75]})
    positive = [{"y_true": np.ones((8,), F32), "y_pred": scores((8,))} for _ in range(3)]
    negative = [{"y_true": np.zeros((8,), F32), "y_pred": scores((8,)), "sample_weight": weights((8,))} for _ in range(3)]
    for cls in ("FalseNegatives", "Recall", "Precision"):
        add("all_positive", cls, positive, {"thresholds": [0.0, 0.5, 1.0]})
    for cls in ("TrueNegatives", "Precision", "Recall"):
        add("all_negative", cls, negative, {"thresholds": [0.0, 0.5, 1.0]})
    add("out_of_range_scores", "FalsePositives", [
        {"y_true": np.zeros((6,), F32), "y_pred": np.array([-0.5, 0.0, 1.0, 1.5, 0.5, 0.5000001], F32)},
    ] * 2, {"thresholds": [0.0, 0.5, 1.0]}, note="bucket path: clipped to [0, 1]")


def _tied(b=10, c=5) -> np.ndarray:
    """Scores with ties at the k-th place (k = 2): rows like [.8, .5, .5, .5, .1]."""
    s = scores((b, c), edges=(0.5,), share=0.5)
    s[0] = [0.8, 0.5, 0.5, 0.5, 0.1]
    s[1] = [0.5, 0.5, 0.5, 0.5, 0.5]
    s[2] = [0.1, 0.9, 0.9, 0.9, 0.2]
    return s


def tied_stream() -> list[dict]:
    steps = []
    for kind in ("none", "batch", "full", "zeros"):
        step = {"y_true": labels((10, 5)), "y_pred": _tied()}
        if kind == "batch":
            step["sample_weight"] = weights((10,))
        elif kind == "full":
            step["sample_weight"] = weights((10, 1))
        elif kind == "zeros":
            step["sample_weight"] = np.zeros((10,), F32)
        steps.append(step)
    return steps


def gen_precision_recall():
    tied = tied_stream()
    for cls in ("Precision", "Recall"):
        add("top_k_2_ties", cls, tied, {"top_k": 2})
        add("top_k_1_threshold", cls, tied, {"top_k": 1, "thresholds": 0.5})
        add("class_id_2", cls, tied, {"class_id": 2})
        add("top_k_2_class_id_2", cls, tied, {"top_k": 2, "class_id": 2}, config=True)
        add("top_k_3_thresholds_list", cls, tied, {"top_k": 3, "thresholds": [0.4, 0.6]})
        add("nothing_positive", cls, [{"y_true": np.zeros((4,), F32), "y_pred": np.zeros((4,), F32)}] * 2)


def gen_auc():
    default = binary_stream(b=40, edges=tuple(grid_edges(200)[::3]))
    add("default", "AUC", default, config=True)
    add("PR_interpolation_T200", "AUC", default, {"curve": "PR"})
    t11 = binary_stream(b=30, edges=tuple(grid_edges(11)))
    for curve in ("ROC", "PR", "PR_GAIN"):
        for method in ("interpolation", "minoring", "majoring"):
            kwargs = {"num_thresholds": 11, "curve": curve, "summation_method": method}
            add(f"{curve}_{method}_T11", "AUC", t11, kwargs)
    add("T3", "AUC", binary_stream(edges=(0.0, 0.5, 1.0)), {"num_thresholds": 3})
    add("grid_edges_T200", "AUC", [
        {"y_true": labels((200,), 0.5), "y_pred": grid_edges(200)} for _ in range(2)],
        note="every score at a float32 grid point: bucketing, not >")
    add("out_of_range_scores", "AUC", [
        {"y_true": np.array([1, 0, 1, 0, 1, 0], F32), "y_pred": np.array([-0.5, -1e-8, 1.0, 1.5, 1 + 1e-6, 0.5], F32)},
    ] * 2, {"num_thresholds": 5})
    padding = np.array([-5e-6, -5e-8, 0.0, 1.0, 1.0 + 6e-8, 1.0 + 2.4e-7, 1.000005, 0.3, 0.5, 0.7], F32)
    add("explicit_thresholds", "AUC", [
        {"y_true": labels((10,), 0.5), "y_pred": padding},
        {"y_true": labels((20,), 0.5), "y_pred": scores((20,), edges=(0.1, 0.45, 0.8)), "sample_weight": weights((20,))},
        {"y_true": np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], F32), "y_pred": padding},
    ], {"thresholds": [0.8, 0.1, 0.45]}, config=True, note="comparison path; scores beside the padding thresholds")
    add("explicit_thresholds_PR", "AUC", [
        {"y_true": np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], F32), "y_pred": padding},
        {"y_true": labels((20,), 0.5), "y_pred": scores((20,), edges=(0.1, 0.45, 0.8))},
    ], {"thresholds": [0.8, 0.1, 0.45], "curve": "PR"})
    add("explicit_even_thresholds", "AUC", binary_stream(edges=(0.25, 0.5, 0.75)), {"thresholds": [0.25, 0.5, 0.75]},
        note="evenly spaced once padded with 0 and 1: the bucket path")
    logits = lambda shape: rng.normal(0, 3, shape).astype(F32)  # noqa: E731
    add("from_logits", "AUC", [{"y_true": labels((16,)), "y_pred": logits((16,))} for _ in range(3)],
        {"from_logits": True, "num_thresholds": 50})
    add("soft_labels", "AUC", [
        {"y_true": np.array([0.0, 0.3, 0.7, 1.0, 0.5, 0.0], F32), "y_pred": np.array([0.2, 0.4, 0.6, 0.8, 0.1, 0.9], F32)},
    ] * 2, {"num_thresholds": 7})
    add("soft_labels_explicit", "AUC", [
        {"y_true": np.array([0.0, 0.3, 0.7, 1.0, 0.5, 0.0], F32), "y_pred": np.array([0.2, 0.4, 0.6, 0.8, 0.1, 0.9], F32)},
    ] * 2, {"thresholds": [0.3, 0.65]})
    add("all_positive", "AUC", [{"y_true": np.ones((10,), F32), "y_pred": scores((10,))} for _ in range(2)])
    add("all_negative", "AUC", [{"y_true": np.zeros((10,), F32), "y_pred": scores((10,))} for _ in range(2)],
        {"curve": "PR"})
    add("label_weights_flat", "AUC", binary_stream(b=8, shape_tail=(3,), kinds=("none", "full", "batch")), {"label_weights": [1.0, 0.5, 2.0],
        "num_thresholds": 20}, config=True)
    multi = binary_stream(b=10, shape_tail=(3,), kinds=("none", "batch", "full"))
    add("multi_label", "AUC", multi, {"multi_label": True, "num_labels": 3, "num_thresholds": 20}, config=True)
    add("multi_label_weights_PR", "AUC", multi, {
        "multi_label": True, "num_labels": 3, "label_weights": [1.0, 0.0, 3.0], "curve": "PR", "num_thresholds": 20})
    add("multi_label_explicit", "AUC", binary_stream(b=10, shape_tail=(3,), kinds=("none", "batch"), edges=(0.2, 0.6)), {
        "multi_label": True, "num_labels": 3, "thresholds": [0.6, 0.2]})
    n = 100_000
    big = [{"y_true": labels((n,), 0.3), "y_pred": rng.random((n,)).astype(F32) ** 2, "sample_weight": weights((n,))},
           {"y_true": labels((n,), 0.3), "y_pred": scores((n,), edges=tuple(grid_edges(200)[::5]))}]
    add("stream_1e5_ROC", "AUC", big)
    add("stream_1e5_PR", "AUC", big, {"curve": "PR"})


def main():
    gen_counts()
    gen_precision_recall()
    gen_auc()
    save_cases(OUT, CASES)
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case["fn"]] = counts.get(case["fn"], 0) + 1
    for fn, count in counts.items():
        print(f"{count:4d}  {fn}")
    print(f"{len(CASES)} cases, {sum(case['meta']['steps'] for case in CASES)} updates -> {OUT.name}")


if __name__ == "__main__":
    main()
