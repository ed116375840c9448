"""Generate ``tests/golden/configs.json``: what tf-keras 2.21 says about configs and identifiers.

Not run in CI. It needs TensorFlow and tf-keras (see ``generate_rmsprop.py`` for the throwaway
virtualenv); run it from the repository root::

    python tests/golden/generate_configs.py

The file is the reference for every ``get_config()``, ``from_config()``, ``serialize`` and
``get(identifier)`` in jaxent. It is plain JSON (one file; dicts keep the key order tf-keras
gave them), with these sections:

``configs``
    ``{section: {case: {"class_name", "args", "config", "types", "serialized"}}}`` for the
    sections ``losses``, ``metrics``, ``schedules`` and ``optimizers``: the object built as
    ``class_name(**args)``, its ``get_config()``, the Python type of each config value that is
    not a plain JSON type (``{"learning_rate": "float32"}``: a NumPy float32 scalar), and
    ``keras.<section>.serialize(obj)``.
``get``
    ``{section: [{"identifier", "result"}]}``: what ``keras.losses.get``,
    ``keras.metrics.get`` and ``keras.optimizers.get`` return for each identifier. A result is
    one of ``{"type": "function", "name"}``, ``{"type": "instance", "class_name", "module",
    "config"}``, ``{"type": "str", "value"}`` (``metrics.get`` hands back unknown strings),
    ``{"type": "none"}``, or ``{"type": "error", "error", "message"}``. Identifiers that are
    not JSON (instances, functions) are described as ``{"__instance__": class_name}`` /
    ``{"__function__": name}``.
``compile_resolution``
    Per case: the ``loss`` and ``metrics`` passed to ``Model.compile``, the shapes of
    ``y_true`` and ``y_pred``, and the metric objects that ``compiled_metrics`` holds after
    one ``evaluate`` (name, class, wrapped function), plus the evaluated values.
``compile_config``
    ``model.get_compile_config()`` of a few small compiled models.
``deserialize_schedules``
    ``keras.optimizers.schedules.deserialize`` of a few dicts (names, case, legacy format).

Values that JSON cannot hold are converted: NumPy scalars to Python numbers (their type kept
in ``types``), tuples to lists.
"""

from __future__ import annotations

import copy
import json
import sys
import types as pytypes
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "configs.json"

L, M, S = keras.losses, keras.metrics, keras.optimizers.schedules

LOSS_CASES = {
    "categorical_crossentropy_defaults": ("CategoricalCrossentropy", {}),
    "categorical_crossentropy_options": (
        "CategoricalCrossentropy",
        {"from_logits": True, "label_smoothing": 0.1, "axis": 1, "reduction": "sum",
         "name": "cce"}),
    "sparse_categorical_crossentropy_defaults": ("SparseCategoricalCrossentropy", {}),
    "sparse_categorical_crossentropy_options": (
        "SparseCategoricalCrossentropy",
        {"from_logits": True, "ignore_class": -1, "reduction": "none", "name": "scce"}),
    "binary_crossentropy_defaults": ("BinaryCrossentropy", {}),
    "binary_crossentropy_options": (
        "BinaryCrossentropy",
        {"from_logits": True, "label_smoothing": 0.2, "axis": 0,
         "reduction": "sum_over_batch_size", "name": "bce"}),
    "mean_squared_error_defaults": ("MeanSquaredError", {}),
    "mean_squared_error_options": ("MeanSquaredError", {"reduction": "sum", "name": "m"}),
    "mean_absolute_error_defaults": ("MeanAbsoluteError", {}),
    "mean_absolute_error_options": ("MeanAbsoluteError", {"reduction": "none", "name": "a"}),
}

METRIC_CASES = {
    "mean_defaults": ("Mean", {}),
    "mean_options": ("Mean", {"name": "loss_avg", "dtype": "float64"}),
    "categorical_crossentropy_defaults": ("CategoricalCrossentropy", {}),
    "categorical_crossentropy_options": (
        "CategoricalCrossentropy",
        {"name": "cce", "dtype": "float64", "from_logits": True, "label_smoothing": 0.1,
         "axis": 0}),
    "sparse_categorical_crossentropy_defaults": ("SparseCategoricalCrossentropy", {}),
    "sparse_categorical_crossentropy_options": (
        "SparseCategoricalCrossentropy",
        {"name": "scce", "dtype": "float16", "from_logits": True, "ignore_class": 3,
         "axis": 1}),
    "binary_crossentropy_defaults": ("BinaryCrossentropy", {}),
    "binary_crossentropy_options": (
        "BinaryCrossentropy",
        {"name": "bce", "dtype": "float64", "from_logits": True, "label_smoothing": 0.2}),
    "accuracy_defaults": ("Accuracy", {}),
    "accuracy_options": ("Accuracy", {"name": "acc", "dtype": "float64"}),
    "binary_accuracy_defaults": ("BinaryAccuracy", {}),
    "binary_accuracy_options": (
        "BinaryAccuracy", {"name": "ba", "dtype": "float64", "threshold": 0.7}),
    "mean_squared_error_defaults": ("MeanSquaredError", {}),
    "mean_squared_error_options": ("MeanSquaredError", {"name": "m", "dtype": "float64"}),
    "mean_absolute_error_defaults": ("MeanAbsoluteError", {}),
    "mean_absolute_error_options": ("MeanAbsoluteError", {"name": "a", "dtype": "bfloat16"}),
    "categorical_accuracy_defaults": ("CategoricalAccuracy", {}),
    "categorical_accuracy_options": (
        "CategoricalAccuracy", {"name": "ca", "dtype": "float64"}),
    "sparse_categorical_accuracy_defaults": ("SparseCategoricalAccuracy", {}),
    "sparse_categorical_accuracy_options": (
        "SparseCategoricalAccuracy", {"name": "sca", "dtype": "float64"}),
    "top_k_categorical_accuracy_defaults": ("TopKCategoricalAccuracy", {}),
    "top_k_categorical_accuracy_options": (
        "TopKCategoricalAccuracy", {"k": 3, "name": "top3", "dtype": "float64"}),
    "sparse_top_k_categorical_accuracy_defaults": ("SparseTopKCategoricalAccuracy", {}),
    "sparse_top_k_categorical_accuracy_options": (
        "SparseTopKCategoricalAccuracy", {"k": 2, "name": "top2", "dtype": "float64"}),
}

SCHEDULE_CASES = {
    "exponential_decay": ("ExponentialDecay", {"initial_learning_rate": 0.1,
                                               "decay_steps": 10, "decay_rate": 0.5}),
    "exponential_decay_options": (
        "ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10.5,
                             "decay_rate": 0.96, "staircase": True, "name": "ed"}),
    "piecewise_constant_decay": (
        "PiecewiseConstantDecay", {"boundaries": [100, 200], "values": [1.0, 0.5, 0.1]}),
    "piecewise_constant_decay_name": (
        "PiecewiseConstantDecay",
        {"boundaries": [10.5], "values": [0.1, 0.01], "name": "pcd"}),
    "polynomial_decay": ("PolynomialDecay", {"initial_learning_rate": 0.1,
                                             "decay_steps": 100}),
    "polynomial_decay_options": (
        "PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 100,
                            "end_learning_rate": 0.01, "power": 0.5, "cycle": True,
                            "name": "pd"}),
    "inverse_time_decay": ("InverseTimeDecay", {"initial_learning_rate": 0.1,
                                                "decay_steps": 10, "decay_rate": 0.5}),
    "inverse_time_decay_options": (
        "InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 10,
                             "decay_rate": 0.5, "staircase": True, "name": "itd"}),
    "cosine_decay": ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 100}),
    "cosine_decay_options": (
        "CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 100, "alpha": 0.1,
                        "name": "cd", "warmup_target": 0.1, "warmup_steps": 10}),
    "cosine_decay_restarts": (
        "CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10}),
    "cosine_decay_restarts_options": (
        "CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 10,
                                "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.01, "name": "sgdr"}),
}

RMSPROP_CASES = {
    "defaults": {},
    "options": {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.9, "epsilon": 1e-6,
                "centered": True, "clipnorm": 1.0, "clipvalue": 0.5, "name": "opt"},
    "global_clipnorm": {"learning_rate": 0.1, "global_clipnorm": 2.0},
    "int_learning_rate": {"learning_rate": 1},
    "weight_decay_ema": {"weight_decay": 0.004, "use_ema": True, "ema_momentum": 0.9,
                         "ema_overwrite_frequency": 5},
    "jit_compile_false": {"jit_compile": False},
}


def plain(x):
    """``x`` as plain JSON values (NumPy scalars to numbers, tuples to lists)."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, tf.DType):
        return x.name
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, pytypes.FunctionType):
        return {"__function__": x.__name__}
    return {"__instance__": type(x).__name__}


def value_types(config: dict) -> dict:
    """Type names of the config values that are not plain JSON types."""
    return {k: type(v).__name__ for k, v in config.items()
            if not (v is None or isinstance(v, (bool, int, float, str, dict, list)))}


def config_case(module, serialize, class_name: str, args: dict) -> dict:
    obj = getattr(module, class_name)(**args)
    config = obj.get_config()
    return {"class_name": class_name, "args": plain(args), "config": plain(config),
            "types": value_types(config), "serialized": plain(serialize(obj))}


def optimizer_case(args: dict) -> dict:
    opt = keras.optimizers.RMSprop(**args)
    config = opt.get_config()
    return {"class_name": "RMSprop", "args": plain(args), "config": plain(config),
            "types": value_types(config), "serialized": plain(keras.optimizers.serialize(opt))}


def configs() -> dict:
    out = {
        "losses": {name: config_case(L, L.serialize, c, a) for name, (c, a) in LOSS_CASES.items()},
        "metrics": {name: config_case(M, M.serialize, c, a)
                    for name, (c, a) in METRIC_CASES.items()},
        "schedules": {name: config_case(S, S.serialize, c, a)
                      for name, (c, a) in SCHEDULE_CASES.items()},
        "optimizers": {name: optimizer_case(a) for name, a in RMSPROP_CASES.items()},
    }
    with_schedule = keras.optimizers.RMSprop(
        learning_rate=S.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10),
        momentum=0.5, clipnorm=1.0)
    config = with_schedule.get_config()
    out["optimizers"]["cosine_decay_schedule"] = {
        "class_name": "RMSprop",
        "args": {"learning_rate": {"__schedule__": "schedules.cosine_decay_options without name"},
                 "momentum": 0.5, "clipnorm": 1.0},
        "config": plain(config), "types": value_types(config),
        "serialized": plain(keras.optimizers.serialize(with_schedule))}
    legacy = keras.optimizers.legacy.RMSprop(learning_rate=0.01, momentum=0.5)
    out["optimizers"]["legacy_rmsprop"] = {
        "class_name": "legacy.RMSprop", "args": {"learning_rate": 0.01, "momentum": 0.5},
        "config": plain(legacy.get_config()), "types": value_types(legacy.get_config()),
        "serialized": plain(keras.optimizers.serialize(legacy))}
    return out


def describe(obj) -> dict:
    if obj is None:
        return {"type": "none"}
    if isinstance(obj, str):
        return {"type": "str", "value": obj}
    if isinstance(obj, pytypes.FunctionType):
        return {"type": "function", "name": obj.__name__}
    if isinstance(obj, type):
        return {"type": "class", "name": obj.__name__}
    config = obj.get_config() if hasattr(obj, "get_config") else None
    return {"type": "instance", "class_name": type(obj).__name__,
            "module": type(obj).__module__, "config": plain(config),
            "types": value_types(config or {})}


def probe(fn, identifier) -> dict:
    recorded = plain(identifier)  # before the call: tf-keras edits dict identifiers in place
    try:
        result = describe(fn(copy.deepcopy(identifier)))
    except Exception as e:  # noqa: BLE001 - we record whatever tf-keras raises
        result = {"type": "error", "error": type(e).__name__, "message": str(e)}
    return {"identifier": recorded, "result": result}


LOSS_IDS = [
    None, "mse", "MSE", "Mse", "mae", "MAE", "mean_squared_error", "mean_absolute_error",
    "MeanSquaredError", "MeanAbsoluteError", "meansquarederror", "mean_Squared_error",
    "categorical_crossentropy", "CategoricalCrossentropy", "categoricalcrossentropy",
    "Categorical_Crossentropy", "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy", "binary_crossentropy", "BinaryCrossentropy", "bce", "BCE",
    "crossentropy", "ce", "accuracy", "acc", "Loss", "kld", "huber", "Huber", "hinge", "foo", "",
    {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}},
    {"class_name": "MeanSquaredError", "config": {}},
    {"class_name": "meansquarederror", "config": {}},
    {"class_name": "mean_squared_error", "config": {}},
    {"class_name": "mse", "config": {}},
    {"class_name": "Foo", "config": {}},
    {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True},
     "module": "keras.losses", "registered_name": None},
    {"class_name": "CategoricalCrossentropy", "config": {"bogus": 1}},
    {"class_name": "function", "config": "mean_squared_error", "module": "keras.losses",
     "registered_name": "mean_squared_error"},
    {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
     "config": {"reduction": "sum", "name": "s", "from_logits": True, "ignore_class": None},
     "registered_name": None},
    {"config": {}},
    42, 1.5,
]

METRIC_IDS = [
    None, "accuracy", "acc", "ACC", "Acc", "Accuracy", "ACCURACY", "binary_accuracy",
    "BinaryAccuracy", "categorical_accuracy", "CategoricalAccuracy", "categoricalaccuracy",
    "sparse_categorical_accuracy", "SparseCategoricalAccuracy", "top_k_categorical_accuracy",
    "TopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy",
    "SparseTopKCategoricalAccuracy", "mse", "MSE", "Mse", "mae", "MAE", "mean_squared_error",
    "MeanSquaredError", "mean_absolute_error", "MeanAbsoluteError", "crossentropy", "ce",
    "CE", "binary_crossentropy", "bce", "BCE", "BinaryCrossentropy", "categorical_crossentropy",
    "CategoricalCrossentropy", "sparse_categorical_crossentropy",
    "SparseCategoricalCrossentropy", "Mean", "mean", "MEAN", "Metric", "AUC", "auc", "foo", "",
    {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}},
    {"class_name": "TopKCategoricalAccuracy", "config": {"k": 3, "name": "t3"}},
    {"class_name": "Accuracy", "config": {}},
    {"class_name": "accuracy", "config": {}},
    {"class_name": "acc", "config": {}},
    {"class_name": "categorical_accuracy", "config": {}},
    {"class_name": "Foo", "config": {}},
    {"module": "keras.metrics", "class_name": "BinaryAccuracy",
     "config": {"name": "ba", "dtype": "float64", "threshold": 0.7}, "registered_name": None},
    {"module": "keras.metrics", "class_name": "Mean", "config": {"name": "m",
                                                                 "dtype": "float32"},
     "registered_name": None},
    {"class_name": "Mean", "config": {"bogus": 1}},
    42,
]

OPTIMIZER_IDS = [
    None, "rmsprop", "RMSprop", "RMSPROP", "Rmsprop", "rmsProp", "adam", "Adam", "sgd", "SGD",
    "adamw", "nadam", "adagrad", "adadelta", "adamax", "ftrl", "lion", "Lion", "adafactor",
    "foo", "",
    {"class_name": "RMSprop", "config": {}},
    {"class_name": "rmsprop", "config": {}},
    {"class_name": "RMSprop", "config": {"learning_rate": 0.1}},
    {"class_name": "RMSprop", "config": {"learning_rate": 0.1, "is_legacy_optimizer": False}},
    {"class_name": "RMSprop", "config": {"learning_rate": 0.1, "is_legacy_optimizer": True}},
    {"class_name": "RMSPROP", "config": {"learning_rate": 0.1, "is_legacy_optimizer": False}},
    {"module": "keras.optimizers", "class_name": "RMSprop",
     "config": {"learning_rate": 0.1, "is_legacy_optimizer": False}, "registered_name": None},
    {"module": "keras.optimizers", "class_name": "RMSprop", "config": {"learning_rate": 0.1},
     "registered_name": None},
    {"module": "keras.optimizers", "class_name": "RMSprop",
     "config": {"name": "RMSprop", "weight_decay": None, "clipnorm": 1.0,
                "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                "ema_momentum": 0.99, "ema_overwrite_frequency": 100, "jit_compile": False,
                "is_legacy_optimizer": False,
                "learning_rate": {"module": "keras.optimizers.schedules",
                                  "class_name": "ExponentialDecay",
                                  "config": {"initial_learning_rate": 0.1, "decay_steps": 10,
                                             "decay_rate": 0.5, "staircase": False,
                                             "name": None},
                                  "registered_name": None},
                "rho": 0.9, "momentum": 0.0, "epsilon": 1e-07, "centered": False},
     "registered_name": None},
    {"class_name": "RMSprop",
     "config": {"is_legacy_optimizer": False,
                "learning_rate": {"class_name": "ExponentialDecay",
                                  "config": {"initial_learning_rate": 0.1, "decay_steps": 10,
                                             "decay_rate": 0.5}}}},
    {"class_name": "RMSprop", "config": {"is_legacy_optimizer": False, "decay": 0.1}},
    {"class_name": "RMSprop", "config": {"is_legacy_optimizer": False, "bogus": 1}},
    {"class_name": "RMSprop", "config": {"is_legacy_optimizer": False, "lr": 0.5}},
    {"class_name": "Adam", "config": {"is_legacy_optimizer": False}},
    {"class_name": "Foo", "config": {}},
    42,
]


def gets() -> dict:
    loss_ids = LOSS_IDS + [L.CategoricalCrossentropy(from_logits=True), L.mean_squared_error]
    metric_ids = METRIC_IDS + [M.CategoricalAccuracy(name="ca"), M.categorical_accuracy]
    optimizer_ids = OPTIMIZER_IDS + [keras.optimizers.RMSprop(0.5)]
    return {
        "losses": [probe(L.get, i) for i in loss_ids],
        "metrics": [probe(M.get, i) for i in metric_ids],
        "optimizers": [probe(keras.optimizers.get, i) for i in optimizer_ids],
    }


def deserialize_schedules() -> list:
    ids = [
        {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.1,
                                                      "decay_steps": 10, "decay_rate": 0.5}},
        {"module": "keras.optimizers.schedules", "class_name": "PolynomialDecay",
         "config": {"initial_learning_rate": 0.1, "decay_steps": 100}, "registered_name": None},
        {"class_name": "exponentialdecay", "config": {"initial_learning_rate": 0.1,
                                                      "decay_steps": 10, "decay_rate": 0.5}},
        {"class_name": "CosineDecay", "config": {"initial_learning_rate": 0.1,
                                                 "decay_steps": 10, "bogus": 1}},
        {"class_name": "LinearCosineDecay", "config": {"initial_learning_rate": 0.1,
                                                       "decay_steps": 10}},
        {"class_name": "Foo", "config": {}},
    ]
    return [probe(S.deserialize, i) for i in ids]


# --- how compile resolves 'accuracy' / 'crossentropy' from shapes ---------------------------

B, C, T = 4, 3, 2


def labels(kind: str, shape: tuple) -> np.ndarray:
    """The same draws for every shape of one kind, so ``[B]`` and ``[B, 1]`` hold equal labels."""
    rng = np.random.default_rng(len(kind))
    if kind == "sparse":
        return rng.integers(0, C, size=shape).astype(np.float32)
    if kind == "binary":
        return rng.integers(0, 2, size=shape).astype(np.float32)
    idx = rng.integers(0, shape[-1], size=shape[:-1])
    return np.eye(shape[-1], dtype=np.float32)[idx]


def predictions(shape: tuple) -> np.ndarray:
    rng = np.random.default_rng(shape[-1])
    p = rng.uniform(0.05, 1.0, size=shape).astype(np.float32)
    if shape[-1] > 1:
        p = p / p.sum(-1, keepdims=True)
    return p


SHAPE_CASES = {
    # name: (label kind, y_true shape, y_pred shape, loss)
    "binary_B1_vs_B1": ("binary", (B, 1), (B, 1), "binary_crossentropy"),
    "binary_B_vs_B1": ("binary", (B,), (B, 1), "binary_crossentropy"),
    "sparse_B_vs_BC": ("sparse", (B,), (B, C), "sparse_categorical_crossentropy"),
    "sparse_B1_vs_BC": ("sparse", (B, 1), (B, C), "sparse_categorical_crossentropy"),
    "onehot_BC_vs_BC": ("onehot", (B, C), (B, C), "categorical_crossentropy"),
    "multilabel_BC_vs_BC_binary_loss": ("binary", (B, C), (B, C), "binary_crossentropy"),
    "sparse_BT_vs_BTC": ("sparse", (B, T), (B, T, C), "sparse_categorical_crossentropy"),
    "sparse_BT1_vs_BTC": ("sparse", (B, T, 1), (B, T, C), "sparse_categorical_crossentropy"),
    "onehot_BTC_vs_BTC": ("onehot", (B, T, C), (B, T, C), "categorical_crossentropy"),
    "binary_BT1_vs_BT1": ("binary", (B, T, 1), (B, T, 1), "binary_crossentropy"),
    "sparse_B1_vs_BC_cce_object_loss": ("sparse", (B, 1), (B, C), "SparseCategoricalCrossentropy"),
    "onehot_BC_vs_BC_cce_object_loss": ("onehot", (B, C), (B, C), "CategoricalCrossentropy"),
    "binary_B_vs_B": ("binary", (B,), (B,), "binary_crossentropy"),
    "binary_B1_vs_B": ("binary", (B, 1), (B,), "binary_crossentropy"),
    "binary_B1_vs_B1_cce_loss": ("binary", (B, 1), (B, 1), "categorical_crossentropy"),
    "binary_B1_vs_B1_mse_loss": ("binary", (B, 1), (B, 1), "mse"),
    "onehot_BC_vs_BC_mse_loss": ("onehot", (B, C), (B, C), "mse"),
}

RESOLVED_METRICS = ["accuracy", "acc", "Accuracy", "ACC", "crossentropy", "ce", "CE",
                    "Crossentropy"]


def describe_metric(m) -> dict:
    out = {"name": m.name, "class_name": type(m).__name__}
    fn = getattr(m, "_fn", None)
    if fn is not None:
        out["fn"] = getattr(fn, "__name__", repr(fn))
    if hasattr(m, "get_config"):
        out["config"] = plain(m.get_config())
    return out


def compile_resolution() -> list:
    out = []
    for case, (kind, t_shape, p_shape, loss) in SHAPE_CASES.items():
        y_true, y_pred = labels(kind, t_shape), predictions(p_shape)
        inputs = keras.Input(shape=p_shape[1:])
        model = keras.Model(inputs, keras.layers.Activation("linear")(inputs))
        loss_arg = getattr(L, loss)() if loss[0].isupper() else loss
        model.compile(loss=loss_arg, metrics=list(RESOLVED_METRICS))
        entry = {"case": case, "loss": loss, "metrics": RESOLVED_METRICS,
                 "y_true_shape": list(t_shape), "y_pred_shape": list(p_shape)}
        try:
            values = model.evaluate(y_pred, y_true, batch_size=B, verbose=0, return_dict=True)
            entry["values"] = plain({k: float(v) for k, v in values.items()})
            entry["resolved"] = [describe_metric(m) for m in model.compiled_metrics.metrics]
            entry["resolved_loss"] = [describe_metric(m) for m in
                                      model.compiled_loss._losses]
        except Exception as e:  # noqa: BLE001
            # only the last line: the rest is a traceback naming this machine's paths
            last = [line for line in str(e).splitlines() if line.strip()][-1].strip()
            entry["error"] = {"error": type(e).__name__, "message": last}
        out.append(entry)
    return out


def compile_configs() -> dict:
    out = {}
    settings = {
        "strings": dict(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                        metrics=["accuracy", "mse"]),
        "objects": dict(
            optimizer=keras.optimizers.RMSprop(
                learning_rate=S.ExponentialDecay(0.1, 10, 0.5), clipnorm=1.0),
            loss=L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
            metrics=[M.CategoricalAccuracy(name="ca"), M.TopKCategoricalAccuracy(k=2),
                     "acc"],
            weighted_metrics=[M.Mean(name="wm")]),
        "functions": dict(optimizer=keras.optimizers.RMSprop(0.01),
                          loss=L.categorical_crossentropy, metrics=[M.categorical_accuracy],
                          loss_weights=[0.5]),
    }
    for name, kwargs in settings.items():
        inputs = keras.Input(shape=(C,))
        model = keras.Model(inputs, keras.layers.Dense(C, activation="softmax")(inputs))
        model.compile(**kwargs)
        out[name] = plain(model.get_compile_config())
    return out


def main() -> None:
    data = {
        "versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__},
        "configs": configs(),
        "get": gets(),
        "deserialize_schedules": deserialize_schedules(),
        "compile_resolution": compile_resolution(),
        "compile_config": compile_configs(),
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")  # Keras's key order kept
    print(f"wrote {OUT} (tf {tf.__version__}, tf-keras {keras.__version__})")


if __name__ == "__main__":
    main()
