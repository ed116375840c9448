"""Generate ``tests/golden/metrics_more.npz``: tf-keras 2.21 metric streams for the other Mean-of-a-function metrics.

What it records
---------------
For ``Hinge``, ``SquaredHinge``, ``CategoricalHinge``, ``KLDivergence``, ``Poisson``,
``LogCoshError``, ``CosineSimilarity`` (``axis=-1`` and ``axis=1``), ``MeanSquaredLogarithmicError``,
``MeanAbsolutePercentageError`` and ``RootMeanSquaredError``: a stream of four ``update_state``
calls on one Keras metric object, with sample weights none, ``[B]`` with zeros, ``[B, 1]`` and
per-element (``RootMeanSquaredError``, ``CosineSimilarity(axis=1)``) or scalar, and an all-zero
weight; ``result()``, ``total`` and ``count`` after every call. Then the stream split in two
(updates 0-1 on metric ``a``, 2-3 on metric ``b``) and merged both ways: ``a.merge_state([b])``
and ``b.merge_state([a])`` (outputs ``merged_ab_*``, ``merged_ba_*``). Each case's ``meta`` holds
the metric's ``get_config()`` and ``keras.metrics.serialize`` dict. A last case,
``metrics.get/identifiers``, records what ``keras.metrics.get`` makes of each function and class
name (a function's name, an instance's config, or the string handed back unresolved) and
whether ``tf_keras.metrics`` exports the name, plus ``metrics.get("cosine_similarity")`` on a
small batch (its sign).

Inputs: labels exactly 0 and 1 and ``{-1, 1}`` labels (the hinges' ``{0, 1} -> {-1, 1}`` rule, which
looks at the whole batch: one case has a label 0.5 at weight 0 among 0/1 labels, which keeps the
whole batch unconverted), probabilities exactly 0 and 1 (KL divergence's clip), labels of 0
(MAPE's ``1e-7`` floor), negative values (MSLE's floor), all-zero vectors (cosine), large
errors (log-cosh's linear branch), int32 inputs (cast to float32 first).

How to run it (not run in CI; needs TensorFlow)::

    python3 -m venv /tmp/tfv
    /tmp/tfv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0
    /tmp/tfv/bin/python tests/golden/generate_metrics_more.py       # from the repository root

Deterministic (fixed seed). Case conventions as ``generate_metrics.py``: ``fn`` is
``"metrics.<Class>"``, ``kwargs`` the constructor options, ``inputs`` ``y_true_k``/``y_pred_k``/
``sample_weight_k`` per update ``k`` (a scalar weight as a 0-d array), ``outputs`` ``result_k``/``total_k``/``count_k`` and the
merged ``merged_ab_{result,total,count}``/``merged_ba_{...}``; ``meta["steps"]``, ``meta["split"]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "metrics_more.npz"
F32 = np.float32
B, C, T = 5, 4, 3
SPLIT = 2
rng = np.random.default_rng(20261208)
CASES: list[dict] = []


def _update(metric, step):
    weight = step.get("sample_weight")
    metric.update_state(tf.constant(step["y_true"]), tf.constant(step["y_pred"]),
                        sample_weight=None if weight is None else tf.constant(weight))


def _read(metric, prefix, outputs):
    outputs[f"{prefix}result"] = metric.result().numpy()
    outputs[f"{prefix}total"] = metric.total.numpy()
    outputs[f"{prefix}count"] = metric.count.numpy()


def add(name: str, cls_name: str, steps: list[dict], kwargs: dict | None = None) -> None:
    kwargs = dict(kwargs or {})
    steps = [{k: np.asarray(v) for k, v in step.items() if v is not None} for step in steps]
    make = lambda: getattr(keras.metrics, cls_name)(**kwargs)  # noqa: E731
    outputs: dict[str, np.ndarray] = {}
    metric = make()
    for k, step in enumerate(steps):
        _update(metric, step)
        _read(metric, "", outputs)
        for key in ("result", "total", "count"):
            outputs[f"{key}_{k}"] = outputs.pop(key)
    for order in ("ab", "ba"):
        a, b = make(), make()
        for step in steps[:SPLIT]:
            _update(a, step)
        for step in steps[SPLIT:]:
            _update(b, step)
        first, second = (a, b) if order == "ab" else (b, a)
        first.merge_state([second])
        _read(first, f"merged_{order}_", outputs)
    inputs = {f"{key}_{k}": value for k, step in enumerate(steps) for key, value in step.items()}
    CASES.append({"name": f"metrics.{cls_name}/{name}", "fn": f"metrics.{cls_name}", "kwargs": kwargs,
                  "inputs": inputs, "outputs": outputs,
                  "meta": {"steps": len(steps), "split": SPLIT, "config": make().get_config(),
                           "serialized": keras.metrics.serialize(make())}})


IDENTIFIERS = [
    "hinge", "squared_hinge", "categorical_hinge", "kld", "KLD", "kl_divergence", "kullback_leibler_divergence",
    "log_cosh", "logcosh", "poisson", "msle", "MSLE", "mean_squared_logarithmic_error", "mape", "MAPE",
    "mean_absolute_percentage_error", "cosine_similarity", "cosine", "huber", "rmse", "root_mean_squared_error",
    "binary_focal_crossentropy", "categorical_focal_crossentropy", "Hinge", "SquaredHinge", "CategoricalHinge",
    "KLDivergence", "Poisson", "LogCoshError", "CosineSimilarity", "MeanSquaredLogarithmicError",
    "MeanAbsolutePercentageError", "RootMeanSquaredError",
]


def gen_identifiers():
    """``keras.metrics.get(name)`` for each name, and whether ``tf_keras.metrics`` exports it."""
    resolved = {}
    for name in IDENTIFIERS:
        got = keras.metrics.get(name)
        if isinstance(got, str):
            resolved[name] = {"type": "string", "value": got}
        elif isinstance(got, keras.metrics.Metric):
            resolved[name] = {"type": "instance", "class_name": type(got).__name__, "config": got.get_config()}
        else:
            resolved[name] = {"type": "function", "name": got.__name__, "module": got.__module__}
        resolved[name]["exported"] = hasattr(keras.metrics, name)
    # the positive cosine: metrics.get("cosine_similarity") on a batch, for the sign
    y, p = np.array([[0.0, 1.0], [1.0, 1.0], [3.0, -4.0]], F32), np.array([[1.0, 0.0], [2.0, 2.0], [-3.0, 4.0]], F32)
    value = keras.metrics.get("cosine_similarity")(tf.constant(y), tf.constant(p)).numpy()
    CASES.append({"name": "metrics.get/identifiers", "fn": "metrics.get", "inputs": {"y_true": y, "y_pred": p},
                  "outputs": {"cosine_similarity": value}, "meta": {"resolved": resolved}})


def weights(shape, zeros=0.4):
    w = rng.uniform(0.1, 2.0, shape).astype(F32)
    w[rng.random(shape) < zeros] = 0
    return w


def plan(b=B):
    """Weights of the four updates: none, [B] with zeros, [B, 1], all zeros."""
    return [None, weights((b,)), weights((b, 1)), np.zeros((b,), F32)]


def plan_rank1(b=B):
    """For rank-1 inputs (a [B, 1] weight does not fit them in Keras): none, [B], a scalar, zeros."""
    return [None, weights((b,)), np.asarray(0.5, F32), np.zeros((b,), F32)]


def stream(make, plan_):
    return [{**make(), "sample_weight": w} for w in plan_]


def bits(shape):
    return rng.integers(0, 2, shape).astype(F32)


def probs(shape, edge=True):
    p = rng.dirichlet(np.ones(shape[-1]), shape[:-1]).astype(F32)
    if edge:
        p.reshape(-1, shape[-1])[0] = np.eye(shape[-1], dtype=F32)[0]  # exactly 0 and 1
    return p


def gen_hinges():
    for cls in ("Hinge", "SquaredHinge"):
        add("bits", cls, stream(lambda: {"y_true": bits((B, C)), "y_pred": rng.normal(0, 1.5, (B, C)).astype(F32)},
                                plan()))
        add("signed", cls, stream(lambda: {"y_true": 2 * bits((B, C)) - 1,
                                           "y_pred": rng.normal(0, 1.5, (B, C)).astype(F32)}, plan()))
        # a label 0.5 at weight 0: Keras's {0, 1} test sees it, and the batch is not converted
        y = bits((B, C))
        y[3, 1] = 0.5
        w = np.array([1, 0.5, 2, 0, 1], F32)
        steps = stream(lambda: {"y_true": bits((B, C)), "y_pred": rng.normal(0, 1.5, (B, C)).astype(F32)}, plan())
        steps[1] = {"y_true": y, "y_pred": rng.normal(0, 1.5, (B, C)).astype(F32), "sample_weight": w}
        add("nonbinary_label_at_weight_0", cls, steps)
        add("int32_rank1", cls, stream(lambda: {"y_true": rng.integers(0, 2, (B,)).astype(np.int32),
                                                "y_pred": rng.integers(-2, 3, (B,)).astype(np.int32)},
                                               [None, np.asarray(0.5, F32), np.asarray(2.0, F32),
                                                np.asarray(0.0, F32)]))  # one value per batch
    add("onehot", "CategoricalHinge", stream(
        lambda: {"y_true": np.eye(C, dtype=F32)[rng.integers(0, C, B)], "y_pred": rng.normal(0, 1, (B, C)).astype(F32)},
        plan()))
    add("probs", "CategoricalHinge", stream(lambda: {"y_true": probs((B, C)), "y_pred": probs((B, C))}, plan()))


def gen_probabilistic():
    add("probs", "KLDivergence", stream(lambda: {"y_true": probs((B, C)), "y_pred": probs((B, C))}, plan()))
    add("timesteps", "KLDivergence", stream(lambda: {"y_true": probs((B, T, C)), "y_pred": probs((B, T, C))},
                                            [None, weights((B,)), weights((B, T)), np.zeros((B, T), F32)]))
    add("counts", "Poisson", stream(lambda: {"y_true": rng.poisson(2.0, (B, C)).astype(F32),
                                             "y_pred": rng.uniform(0, 4, (B, C)).astype(F32)}, plan()))
    add("probs_with_zeros", "Poisson", stream(lambda: {"y_true": probs((B, C)), "y_pred": probs((B, C))}, plan()))


def regression_pair(scale=1.0, shape=(B, C)):
    return {"y_true": rng.normal(0, scale, shape).astype(F32), "y_pred": rng.normal(0, scale, shape).astype(F32)}


def gen_regression():
    add("normal", "LogCoshError", stream(lambda: regression_pair(), plan()))
    add("large_errors", "LogCoshError", stream(lambda: regression_pair(30.0), plan()))
    add("normal", "MeanSquaredLogarithmicError", stream(lambda: {"y_true": rng.uniform(0, 5, (B, C)).astype(F32),
                                                                 "y_pred": rng.uniform(0, 5, (B, C)).astype(F32)},
                                                        plan()))
    add("negative", "MeanSquaredLogarithmicError", stream(lambda: regression_pair(2.0), plan()))

    def mape_pair():
        pair = regression_pair(3.0)
        pair["y_true"][rng.random((B, C)) < 0.2] = 0  # 1e-7 floor: values ~1e7
        return pair

    add("normal", "MeanAbsolutePercentageError", stream(lambda: {"y_true": rng.uniform(1, 5, (B, C)).astype(F32),
                                                                 "y_pred": rng.uniform(1, 5, (B, C)).astype(F32)},
                                                        plan()))
    add("zero_labels", "MeanAbsolutePercentageError", stream(mape_pair, plan()))

    def cosine_pair(shape=(B, C)):
        pair = regression_pair(1.0, shape)
        pair["y_pred"].reshape(-1, shape[-1])[1] = 0  # a zero vector: similarity 0
        return pair

    add("normal", "CosineSimilarity", stream(cosine_pair, plan()))
    add("axis_1", "CosineSimilarity", stream(lambda: regression_pair(1.0, (B, T, C)),
                                             [None, weights((B,)), weights((B, C)), np.zeros((B, C), F32)]),
        {"axis": 1})
    add("normal", "RootMeanSquaredError", stream(lambda: regression_pair(), plan()))
    add("per_element_weights", "RootMeanSquaredError", stream(
        lambda: regression_pair(2.0), [weights((B, C)), weights((B,)), weights((B, C)), np.zeros((B, C), F32)]))
    add("rank1", "RootMeanSquaredError", stream(lambda: regression_pair(1.0, (B,)), plan_rank1()))
    add("int32", "RootMeanSquaredError", stream(lambda: {"y_true": rng.integers(-3, 4, (B, C)).astype(np.int32),
                                                         "y_pred": rng.integers(-3, 4, (B, C)).astype(np.int32)},
                                                plan()))


def main() -> None:
    gen_hinges()
    gen_probabilistic()
    gen_regression()
    gen_identifiers()
    save_cases(OUT, CASES)
    print(f"wrote {len(CASES)} cases to {OUT}")


if __name__ == "__main__":
    main()
