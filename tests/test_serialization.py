"""jaxent._serialization: the shared Keras identifier resolver, and the golden configs file.

The rules are tf-keras 2.21's as recorded in ``tests/golden/configs.json``
(``tests/golden/generate_configs.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jaxent import _serialization, losses
from jaxent._serialization import Registry, deserialize, get, lookup, serialize
from jaxent.metrics._get import SHAPE_RESOLVED_NAMES, compile_variant

GOLDEN = json.loads((Path(__file__).parent / "golden" / "configs.json").read_text())


class Scale:
    def __init__(self, factor=2.0, name="scale"):
        self.factor, self.name = factor, name

    def get_config(self):
        return {"factor": self.factor, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __call__(self, x):
        return self.factor * x


def double(x):
    return 2 * x


REGISTRY = Registry(kind="thing", module="my.things",
                    objects={"Scale": Scale, "double": double, "dbl": double},
                    instance_types=(Scale,), unsupported={"Triple": "use 3 * x"})


# --- strings -------------------------------------------------------------------------------


def test_strings_match_exact_names_and_aliases_and_instantiate_classes():
    assert get("double", REGISTRY) is double and get("dbl", REGISTRY) is double
    made = get("Scale", REGISTRY)
    assert isinstance(made, Scale) and made.factor == 2.0
    assert lookup("Scale", REGISTRY) is Scale  # lookup never instantiates
    for wrong_case in ("scale", "Double", "SCALE"):
        with pytest.raises(ValueError, match=f"Unknown thing: '{wrong_case}'. Known names: "
                                             "'dbl', 'double', 'Scale'."):
            get(wrong_case, REGISTRY)


def test_case_insensitive_registry_matches_any_case():
    registry = Registry(kind="optimizer", module="m", objects={"rmsprop": Scale},
                        case_insensitive=True, unsupported={"adam": "use optax.adam"})
    for name in ("rmsprop", "RMSprop", "RMSPROP"):
        assert isinstance(get(name, registry), Scale)
    with pytest.raises(ValueError, match="'ADAM'. It is a Keras optimizer that jaxent does not "
                                         "implement: use optax.adam. Known names: 'rmsprop'."):
        get("ADAM", registry)


def test_unsupported_names_say_so():
    with pytest.raises(ValueError, match="Unknown thing: 'Triple'. It is a Keras thing that "
                                         "jaxent does not implement: use 3 \\* x."):
        get("Triple", REGISTRY)


# --- dicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [{"class_name": "Scale", "config": {"factor": 3.0}},
     {"module": "my.things", "class_name": "Scale", "config": {"factor": 3.0},
      "registered_name": None}],
    ids=["legacy_format", "tf_keras_2_21_format"],
)
def test_dicts_build_classes_with_from_config(config):
    made = get(config, REGISTRY)
    assert isinstance(made, Scale) and made.factor == 3.0
    assert config["config"] == {"factor": 3.0}  # the caller's dict is left alone


def test_dicts_naming_functions_return_them():
    assert get({"class_name": "dbl", "config": {}}, REGISTRY) is double
    function_dict = {"module": "builtins", "class_name": "function", "config": "double",
                     "registered_name": "function"}
    assert get(function_dict, REGISTRY) is double
    assert serialize(double, REGISTRY) == function_dict
    assert deserialize(serialize(double, REGISTRY), REGISTRY) is double


def test_bad_dicts_raise_clear_errors():
    with pytest.raises(ValueError, match="Unknown `config` as a `dict`.*needs a 'class_name'"):
        get({"config": {}}, REGISTRY)
    with pytest.raises(TypeError, match="The config of 'Scale' must be a dict"):
        get({"class_name": "Scale", "config": [1]}, REGISTRY)
    with pytest.raises(TypeError, match="bogus"):
        get({"class_name": "Scale", "config": {"bogus": 1}}, REGISTRY)
    with pytest.raises(ValueError, match="Unknown thing: 'Foo'"):
        get({"class_name": "Foo", "config": {}}, REGISTRY)  # tf-keras returns 'Foo' here
    with pytest.raises(ValueError, match="names a class, not a function"):
        get({"class_name": "function", "config": "Scale"}, REGISTRY)


def test_missing_or_none_config_means_no_arguments():
    assert get({"class_name": "Scale"}, REGISTRY).factor == 2.0
    assert get({"class_name": "Scale", "config": None}, REGISTRY).factor == 2.0


# --- objects, callables, None ----------------------------------------------------------------


def test_instances_callables_and_none():
    scale = Scale(5.0)
    assert get(scale, REGISTRY) is scale
    with pytest.raises(ValueError, match="Could not interpret thing identifier: <function"):
        get(lambda x: x, REGISTRY)
    with pytest.raises(ValueError, match="Could not interpret thing identifier: None"):
        get(None, REGISTRY)
    with pytest.raises(ValueError, match="Could not interpret thing identifier: 42"):
        get(42, REGISTRY)
    lenient = Registry(kind="loss function", module="keras.losses", objects={},
                       accept_callables=True, accept_none=True)
    fn = lambda y_true, y_pred: 0.0  # noqa: E731
    assert get(fn, lenient) is fn and get(None, lenient) is None


def test_serialize_objects_and_round_trip():
    scale = Scale(4.0, name="s")
    assert serialize(scale, REGISTRY) == {"module": "my.things", "class_name": "Scale",
                                          "config": {"factor": 4.0, "name": "s"},
                                          "registered_name": None}
    assert get(serialize(scale, REGISTRY), REGISTRY).get_config() == scale.get_config()
    assert serialize(None, REGISTRY) is None
    with pytest.raises(TypeError, match="has no get_config"):
        serialize(lambda x: x, REGISTRY)


def test_tf_keras_serializes_functions_in_this_form():
    compiled = GOLDEN["compile_config"]["functions"]  # loss and metric given as functions
    for entry in [compiled["loss"], *compiled["metrics"]]:
        def fn():
            pass

        fn.__name__ = entry["config"]
        assert _serialization.serialize_function(fn) == entry


# --- the golden tables, read with jaxent's losses -------------------------------------------


def jaxent_loss_registry() -> Registry:
    """What ``keras.losses.get`` accepts, limited to the names jaxent implements.

    This mirrors tf-keras's ``keras.losses`` names (functions, aliases, classes); the lead's
    ``losses.get`` registry is expected to look like it.
    """
    names = {}
    for fn in ("categorical_crossentropy", "sparse_categorical_crossentropy",
               "binary_crossentropy", "mean_squared_error", "mean_absolute_error"):
        names[fn] = getattr(losses, fn)
    names.update(mse=losses.mean_squared_error, MSE=losses.mean_squared_error,
                 mae=losses.mean_absolute_error, MAE=losses.mean_absolute_error,
                 bce=losses.binary_crossentropy, BCE=losses.binary_crossentropy)
    for cls in ("CategoricalCrossentropy", "SparseCategoricalCrossentropy",
                "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError"):
        names[cls] = getattr(losses, cls)
    return Registry(kind="loss function", module="keras.losses", objects=names,
                    accept_callables=True, accept_none=True,
                    unsupported={"kld": "not in jaxent", "huber": "not in jaxent",
                                 "Huber": "not in jaxent", "hinge": "not in jaxent",
                                 "Loss": "the abstract base class"})


def test_loss_string_identifiers_resolve_as_tf_keras_does():
    registry = jaxent_loss_registry()
    rows = [r for r in GOLDEN["get"]["losses"] if isinstance(r["identifier"], str)]
    assert len(rows) >= 30
    for row in rows:
        identifier, result = row["identifier"], row["result"]
        keras_name = result.get("name", result.get("class_name"))
        if result["type"] != "error" and keras_name not in registry.objects:
            with pytest.raises(ValueError, match="jaxent does not implement"):
                get(identifier, registry)  # a Keras loss that jaxent lacks (kld, huber, ...)
        elif result["type"] == "function":
            assert get(identifier, registry).__name__ == result["name"], identifier
        elif result["type"] == "instance":
            assert type(get(identifier, registry)).__name__ == result["class_name"], identifier
        else:
            assert result["type"] == "error"
            with pytest.raises(ValueError, match=f"Unknown loss function: '{identifier}'"):
                get(identifier, registry)


# --- compile's shape rule ----------------------------------------------------------------------


def test_compile_variant_matches_tf_keras_compile():
    resolved_cases = [c for c in GOLDEN["compile_resolution"] if "resolved" in c]
    assert len(resolved_cases) >= 14
    for case in resolved_cases:
        variant = compile_variant(case["y_true_shape"], case["y_pred_shape"])
        for metric in case["resolved"]:
            assert metric["name"].lower() in SHAPE_RESOLVED_NAMES
            kind = "accuracy" if metric["name"].lower() in ("accuracy", "acc") else "crossentropy"
            assert metric["fn"] == f"{variant}_{kind}", (case["case"], metric)


def test_compile_variant_rejects_scalars():
    with pytest.raises(ValueError, match="rank >= 1"):
        compile_variant((), (3,))


# --- the golden configs file covers what the lead needs ----------------------------------------


def test_configs_file_covers_every_class_of_the_porting_api():
    configs = GOLDEN["configs"]
    assert GOLDEN["versions"] == {"tensorflow": "2.21.0", "tf_keras": "2.21.0"}
    assert {e["class_name"] for e in configs["losses"].values()} == {
        "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
        "MeanSquaredError", "MeanAbsoluteError"}
    assert {e["class_name"] for e in configs["metrics"].values()} == {
        "Mean", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy",
        "Accuracy", "BinaryAccuracy", "MeanSquaredError", "MeanAbsoluteError",
        "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
        "SparseTopKCategoricalAccuracy"}
    for section in ("losses", "metrics", "schedules", "optimizers"):
        for entry in configs[section].values():
            assert {"class_name", "args", "config", "types", "serialized"} <= set(entry)
    assert {"strings", "objects", "functions"} <= set(GOLDEN["compile_config"])
    assert {"losses", "metrics", "optimizers"} <= set(GOLDEN["get"])
