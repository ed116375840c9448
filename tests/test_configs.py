"""Loss and metric identifiers and configs against tf-keras 2.21 (``tests/golden/configs.json``).

* ``get_config()`` of every loss and metric class equals tf-keras's dict (keys, order, values),
  ``serialize`` equals ``keras.<section>.serialize``, and ``from_config``/``deserialize`` round-trip.
* ``losses.get`` / ``metrics.get`` resolve every identifier of the recorded tables as Keras does
  (functions, instances, errors); where Keras returns an unknown name as a string, jaxent raises.
* ``metrics.get(name, y_true=, y_pred=)`` resolves ``"accuracy"``/``"crossentropy"`` as ``compile``
  does for every recorded shape pair, and the metric it builds gives Keras's evaluated value.
* The dicts of ``model.get_compile_config()`` deserialize to jaxent objects.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from jaxent import losses, metrics, optimizers

GOLDEN = json.loads((Path(__file__).parent / "golden" / "configs.json").read_text())
SECTIONS = {"losses": losses, "metrics": metrics}
REGISTRIES = {"losses": losses.REGISTRY, "metrics": importlib.import_module("jaxent.metrics._get").REGISTRY}


def _config_cases(section):
    return [pytest.param(section, name, case, id=f"{section}/{name}") for name, case in GOLDEN["configs"][section].items()]


@pytest.mark.parametrize(("section", "name", "case"), _config_cases("losses") + _config_cases("metrics"))
def test_get_config_and_serialize_match_tf_keras(section, name, case):
    module = SECTIONS[section]
    obj = getattr(module, case["class_name"])(**case["args"])
    config = obj.get_config()
    assert list(config) == list(case["config"]), name  # Keras's key order
    assert config == case["config"], name
    assert module.serialize(obj) == case["serialized"]
    assert type(obj).from_config(case["config"]) == obj
    assert module.deserialize(case["serialized"]) == obj
    assert module.get(case["serialized"]) == obj


def _get_rows(section):
    return [
        pytest.param(section, row, id=f"{section}/{json.dumps(row['identifier'])[:60]}")
        for row in GOLDEN["get"][section]
        if not (isinstance(row["identifier"], dict) and {"__instance__", "__function__"} & set(row["identifier"]))
    ]


def _is_shape_resolved(section, identifier):
    return section == "metrics" and identifier in ("accuracy", "acc", "ACC")


@pytest.mark.parametrize(("section", "row"), _get_rows("losses") + _get_rows("metrics"))
def test_get_resolves_identifiers_as_tf_keras(section, row):
    module = SECTIONS[section]
    identifier, result = row["identifier"], row["result"]
    if _is_shape_resolved(section, identifier):
        # Keras's bare get("accuracy") is the exact-match accuracy; jaxent asks for the shapes.
        with pytest.raises(ValueError, match="pass y_true= and y_pred="):
            module.get(identifier)
        return
    kind = result["type"]
    keras_name = result.get("name") or result.get("class_name") or result.get("value")
    known = keras_name in REGISTRIES[section].objects if isinstance(keras_name, str) else True
    if kind in ("function", "instance") and not known:
        with pytest.raises(ValueError, match="jaxent does not implement"):
            module.get(identifier)  # a Keras loss or metric jaxent lacks (kld, huber, AUC, ...)
    elif kind == "function":
        assert module.get(identifier).__name__ == result["name"]
    elif kind == "instance":
        got = module.get(identifier)
        assert type(got).__name__ == result["class_name"]
        assert got.get_config() == {k: v for k, v in result["config"].items() if k != "fn"} | (
            {"fn": result["config"]["fn"]} if "fn" in result["config"] else {}
        )
    elif kind == "none":
        assert module.get(identifier) is None
    elif isinstance(identifier, dict) and not isinstance(REGISTRIES[section].objects.get(identifier.get("class_name"), type), type):
        # Keras calls a metric *function* named in a dict with the config and fails; jaxent, as
        # Keras's losses do, returns the function.
        assert callable(module.get(identifier)) and not isinstance(module.get(identifier), type)
    elif section == "metrics" and identifier in ("auc", "precision", "recall"):
        # Keras hands these back unresolved; jaxent resolves them to the class (metrics.get's docstring).
        assert type(module.get(identifier)).__name__ == {"auc": "AUC", "precision": "Precision", "recall": "Recall"}[identifier]
    else:  # Keras raises, or (deliberate difference) returns an unknown name as a string
        with pytest.raises((ValueError, TypeError)):
            module.get(identifier)


def test_instances_and_functions_come_back_as_they_are():
    metric, loss = metrics.CategoricalAccuracy(name="ca"), losses.MeanSquaredError()
    assert metrics.get(metric) is metric and losses.get(loss) is loss
    assert metrics.get(metrics.categorical_accuracy) is metrics.categorical_accuracy
    assert losses.get(losses.mean_squared_error) is losses.mean_squared_error


RESOLVED = [c for c in GOLDEN["compile_resolution"] if "resolved" in c]


@pytest.mark.parametrize("case", RESOLVED, ids=[c["case"] for c in RESOLVED])
def test_shape_resolved_names_follow_compile(case):
    y_true, y_pred = np.zeros(case["y_true_shape"], np.float32), np.zeros(case["y_pred_shape"], np.float32)
    for want in case["resolved"]:
        metric = metrics.get(want["name"], y_true=y_true, y_pred=y_pred)
        assert isinstance(metric, metrics.MeanMetricWrapper)
        assert (metric.fn.__name__, metric.name) == (want["fn"], want["name"])
        shapes = metrics.get(want["name"], y_true=jnp.zeros(case["y_true_shape"]), y_pred=y_pred)
        assert shapes.fn is metric.fn  # arrays, or anything with a .shape


def test_compile_mode_wraps_functions_and_keeps_metrics():
    y_true, y_pred = jnp.array([[0.0], [1.0]]), jnp.array([[0.5], [2.0]])
    mse = metrics.get("mse", y_true=y_true, y_pred=y_pred)
    assert isinstance(mse, metrics.MeanMetricWrapper) and mse.name == "mse" and mse.fn is metrics.mean_squared_error
    assert float(mse.result(mse.update(mse.init(), y_true, y_pred))) == 0.625
    keep = metrics.Mean(name="m")
    assert metrics.get(keep, y_true=y_true, y_pred=y_pred) is keep
    with pytest.raises(ValueError, match="pass y_true= and y_pred="):
        metrics.get("ce", y_true=y_true)


def test_compile_config_dicts_deserialize_to_jaxent_objects():
    objects = GOLDEN["compile_config"]["objects"]
    loss = losses.get(objects["loss"])
    assert loss == losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    made = [metrics.get(m) for m in objects["metrics"][:2]] + [metrics.get(m) for m in objects["weighted_metrics"]]
    assert made == [metrics.CategoricalAccuracy(name="ca"), metrics.TopKCategoricalAccuracy(k=2), metrics.Mean(name="wm")]
    optimizer = optimizers.get(objects["optimizer"])
    assert optimizer.get_config()["learning_rate"] == objects["optimizer"]["config"]["learning_rate"]
    functions = GOLDEN["compile_config"]["functions"]
    assert losses.get(functions["loss"]) is losses.categorical_crossentropy
    assert metrics.get(functions["metrics"][0]) is metrics.categorical_accuracy


def test_metric_functions_round_trip_through_mean_metric_wrapper_configs():
    metric = metrics.MeanMetricWrapper(metrics.sparse_top_k_categorical_accuracy, name="top2", k=2)
    assert metric.get_config() == {"name": "top2", "dtype": "float32", "fn": metrics.sparse_top_k_categorical_accuracy, "k": 2}
    assert metrics.deserialize(metrics.serialize(metric)) == metric
    labels, scores = jnp.array([2, 0]), jnp.array([[0.1, 0.5, 0.4], [0.2, 0.5, 0.3]])
    assert float(metric.result(metric.update(metric.init(), labels, scores))) == 0.5


def test_linear_fused_loss_config_round_trips():
    loss = losses.LinearSparseCategoricalCrossentropy(ignore_class=-100, label_smoothing=0.1, reduction="sum")
    assert loss.get_config()["reduction"] == "sum"
    assert losses.deserialize(losses.serialize(loss)) == loss


def test_loss_function_wrapper_weights_and_reduces_a_function_and_round_trips():
    loss = losses.LossFunctionWrapper(losses.binary_crossentropy, reduction="sum", name="bce", label_smoothing=0.2)
    y_true, y_pred = jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]])
    want = losses.BinaryCrossentropy(label_smoothing=0.2, reduction="sum")(y_true, y_pred, sample_weight=[1.0, 0.5])
    assert float(loss(y_true, y_pred, sample_weight=[1.0, 0.5])) == float(want)
    assert loss.get_config() == {"reduction": "sum", "name": "bce", "fn": "binary_crossentropy", "label_smoothing": 0.2}
    assert losses.deserialize(losses.serialize(loss)) == loss
