"""Loss and metric objects are frozen pytrees, and jaxent keeps no compile cache of its own.

* An object is frozen after ``__init__`` (``replace`` makes a changed copy), so the three ways a
  user's ``jax.jit`` sees it (an ordinary argument, closed over, a static argument) give the
  object's own numbers, never those of an earlier object or an earlier value.
* Array attributes (and pytrees of arrays) are traced leaves; everything else is static,
  hashable and compared with its type; a mutable object is refused at construction.
* No global cache: ``jaxent._compile`` is gone, deleting an object frees its arrays, threads
  tracing different configurations get their own numbers, and a metric state pickles across
  processes.
* Inputs are converted as TensorFlow converts them, before the jit boundary, and anything
  else is a clear error naming the argument.
* The label check is an explicit static option (``check_labels=True``), not a context.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import gc
import importlib
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import checkify

import jaxent
from jaxent import losses, metrics
from jaxent._objects import FrozenInstanceError


class ScaledMSE(losses.Loss):
    """A custom loss written the Keras way: its own attribute set in ``__init__``."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * jnp.mean(jnp.square(y_pred - y_true), axis=-1)


class WeightedMSE(losses.Loss):
    """A loss with an array attribute of the inputs' shape."""

    def __init__(self, w, **kwargs):
        super().__init__(**kwargs)
        self.w = w

    def call(self, y_true, y_pred):
        return jnp.mean(self.w * jnp.square(y_pred - y_true), axis=-1)


class WeightedError(metrics.MeanMetricWrapper):
    """A metric subclass whose only attribute of its own is an array."""

    def __init__(self, w):
        super().__init__(name="weighted_error")
        self.w = w

    def call(self, y_true, y_pred):
        return self.w * jnp.mean(y_pred - y_true, axis=-1)


Y_TRUE = jnp.array([[0.0], [1.0]])
Y_PRED = jnp.array([[1.0], [2.0]])  # mean squared error 1.0, mean error 1.0
LABELS = jnp.array([0, 5])  # 5 is out of range for 3 classes
PROBS = jnp.array([[0.5, 0.3, 0.2], [0.1, 0.8, 0.1]])
ONE_HOT = jax.nn.one_hot(jnp.array([0, 1]), 3)


def _call(loss, y_true, y_pred):
    return loss(y_true, y_pred)


# --------------------------------------------------------------------------------------------
# Frozen objects: every way into jit gives the object's own numbers.


def test_a_new_object_gets_its_own_numbers_after_an_attempt_to_mutate_an_old_one():
    # The old layer allowed `a.scale = 3.0` and the static-arg jit then handed ScaledMSE(3.0)
    # the compiled function of a's first configuration: 1.0 instead of 3.0.
    step = jax.jit(_call, static_argnums=0)
    a = ScaledMSE(1.0)
    assert float(step(a, Y_TRUE, Y_PRED)) == 1.0
    try:
        a.scale = 3.0
    except AttributeError:
        pass
    assert float(step(ScaledMSE(3.0), Y_TRUE, Y_PRED)) == 3.0
    assert a.scale == 1.0 and float(step(a, Y_TRUE, Y_PRED)) == 1.0


def test_assigning_or_deleting_an_attribute_after_init_raises_frozen_instance_error_naming_it():
    a = ScaledMSE(1.0)
    with pytest.raises(FrozenInstanceError, match="scale"):
        a.scale = 3.0
    with pytest.raises(FrozenInstanceError, match="scale"):
        del a.scale
    with pytest.raises(FrozenInstanceError, match="label_smoothing"):
        losses.CategoricalCrossentropy().label_smoothing = 0.5
    with pytest.raises(FrozenInstanceError, match="name"):
        metrics.Mean().name = "other"
    assert issubclass(FrozenInstanceError, AttributeError)
    assert a.scale == 1.0 and float(a(Y_TRUE, Y_PRED)) == 1.0


def test_replace_makes_a_changed_copy_with_its_own_numbers():
    step = jax.jit(_call, static_argnums=0)
    a = ScaledMSE(1.0)
    b = a.replace(scale=3.0)
    assert (a.scale, b.scale) == (1.0, 3.0)
    assert b == ScaledMSE(3.0) and hash(b) == hash(ScaledMSE(3.0)) and a != b
    assert [float(step(x, Y_TRUE, Y_PRED)) for x in (a, b, a)] == [1.0, 3.0, 1.0]
    smoothed = losses.CategoricalCrossentropy().replace(label_smoothing=0.5)
    assert smoothed == losses.CategoricalCrossentropy(label_smoothing=0.5)
    assert float(smoothed(ONE_HOT, PROBS)) == float(losses.CategoricalCrossentropy(label_smoothing=0.5)(ONE_HOT, PROBS))
    assert float(smoothed(ONE_HOT, PROBS)) != float(losses.CategoricalCrossentropy()(ONE_HOT, PROBS))


@pytest.mark.parametrize("scale", [2.0, jnp.array(2.0)], ids=["float-attribute", "array-attribute"])
def test_an_object_as_argument_closed_over_or_static_gives_the_same_numbers(scale):
    loss = ScaledMSE(scale)
    results = {
        "eager": loss(Y_TRUE, Y_PRED),
        "argument": jax.jit(_call)(loss, Y_TRUE, Y_PRED),
        "closed over": jax.jit(lambda y, p: loss(y, p))(Y_TRUE, Y_PRED),
    }
    if not isinstance(scale, jax.Array):  # an object holding arrays is not hashable: no static argument
        results["static"] = jax.jit(_call, static_argnums=0)(loss, Y_TRUE, Y_PRED)
    assert {name: float(value) for name, value in results.items()} == dict.fromkeys(results, 2.0)


def test_two_instances_alternated_under_one_jit_give_their_own_numbers():
    as_static = jax.jit(_call, static_argnums=0)
    as_argument = jax.jit(_call)
    a, b = ScaledMSE(1.0), ScaledMSE(5.0)
    assert [float(as_static(x, Y_TRUE, Y_PRED)) for x in (a, b, a, b)] == [1.0, 5.0, 1.0, 5.0]
    assert [float(as_argument(x, Y_TRUE, Y_PRED)) for x in (a, b, a, b)] == [1.0, 5.0, 1.0, 5.0]
    c, d = ScaledMSE(jnp.array(1.0)), ScaledMSE(jnp.array(5.0))  # one trace, arrays traced
    assert [float(as_argument(x, Y_TRUE, Y_PRED)) for x in (c, d, c, d)] == [1.0, 5.0, 1.0, 5.0]


def test_keras_style_subclass_gets_its_own_numbers():
    assert float(ScaledMSE(1.0)(Y_TRUE, Y_PRED)) == 1.0
    assert float(ScaledMSE(10.0)(Y_TRUE, Y_PRED)) == 10.0
    assert float(ScaledMSE(1.0)(Y_TRUE, Y_PRED)) == 1.0
    assert ScaledMSE(1.0) == ScaledMSE(1.0) and ScaledMSE(1.0) != ScaledMSE(10.0)


def test_array_attributes_are_traced_inputs_not_constants():
    jitted = jax.jit(lambda scale: ScaledMSE(scale)(Y_TRUE, Y_PRED))  # a traced attribute
    assert [float(jitted(scale)) for scale in (2.0, 3.0)] == [2.0, 3.0]
    assert float(ScaledMSE(jnp.array(4.0))(Y_TRUE, Y_PRED)) == 4.0
    assert float(ScaledMSE(np.array(5.0))(Y_TRUE, Y_PRED)) == 5.0
    assert jax.tree.leaves(ScaledMSE(jnp.array(4.0))) == [4.0]
    assert jax.tree.leaves(ScaledMSE(4.0)) == []


def test_keras_style_metric_subclass_gets_its_own_numbers():
    class Scaled(metrics.MeanMetricWrapper):
        def __init__(self, scale):
            super().__init__(name="scaled")
            self.scale = scale

        def call(self, y_true, y_pred):
            return self.scale * jnp.mean(y_pred - y_true, axis=-1)

    results = [float(m.result(m.update(m.init(), Y_TRUE, Y_PRED))) for m in (Scaled(1.0), Scaled(10.0))]
    assert results == [1.0, 10.0]


def test_dataclass_metric_subclass_fields_are_part_of_the_configuration():
    @dataclasses.dataclass(frozen=True, eq=False)
    class Offset(metrics.MeanMetricWrapper):
        offset: float = 0.0

        def call(self, y_true, y_pred):
            return jnp.mean(y_pred - y_true, axis=-1) + self.offset

    a, b = Offset(offset=1.0), Offset(offset=2.0)
    assert a != b
    assert [float(m.result(m.update(m.init(), Y_TRUE, Y_PRED))) for m in (a, b)] == [2.0, 3.0]


# --------------------------------------------------------------------------------------------
# What an object may hold.


class _Params:
    """A plain mutable holder, as a model's parameters often are."""

    def __init__(self, w):
        self.w = w


class HoldsParams(losses.Loss):
    def __init__(self, params, **kwargs):
        super().__init__(**kwargs)
        self.params = params

    def call(self, y_true, y_pred):
        return self.params.w * jnp.mean(jnp.square(y_pred - y_true), axis=-1)


def test_a_loss_holding_a_mutable_object_is_refused_at_construction_naming_the_attribute():
    # The old layer keyed the object by identity: after params.w = 5, even a NEW HoldsParams(params)
    # reused the first trace and returned 1.0 (the baked-in w). Now construction refuses it.
    params = _Params(jnp.array(1.0))
    with pytest.raises(TypeError, match=r"HoldsParams\.params"):
        HoldsParams(params)
    with pytest.raises(TypeError, match=r"ScaledMSE\.scale = \[1\.0, 2\.0\].*tuple"):
        ScaledMSE([1.0, 2.0])  # a list: mutable, refused before any call
    with pytest.raises(TypeError, match=r"ScaledMSE\.scale"):
        ScaledMSE({"a": 1.0})  # a dict of Python floats: neither arrays nor hashable


class DictScaled(losses.Loss):
    """A loss holding a dict of arrays: a pytree of arrays, traced like an array attribute."""

    def __init__(self, params, **kwargs):
        super().__init__(**kwargs)
        self.params = params

    def call(self, y_true, y_pred):
        return self.params["scale"] * jnp.mean(jnp.square(y_pred - y_true), axis=-1)


def test_a_pytree_of_arrays_is_a_traced_attribute():
    a, b = DictScaled({"scale": jnp.array(2.0)}), DictScaled({"scale": jnp.array(7.0)})
    assert len(jax.tree.leaves(a)) == 1
    assert [float(x(Y_TRUE, Y_PRED)) for x in (a, b)] == [2.0, 7.0]
    step = jax.jit(_call)
    assert [float(step(x, Y_TRUE, Y_PRED)) for x in (a, b, a)] == [2.0, 7.0, 2.0]


def test_metrics_differing_only_in_an_array_attribute_are_unequal_and_their_states_do_not_merge():
    m1, m2 = WeightedError(jnp.array(1.0)), WeightedError(jnp.array(2.0))
    assert m1 != m2 and m1 == WeightedError(jnp.array(1.0))
    s1 = m1.update(m1.init(), Y_TRUE, Y_PRED)
    s2 = m2.update(m2.init(), Y_TRUE, Y_PRED)
    assert (float(m1.result(s1)), float(m2.result(s2))) == (1.0, 2.0)
    # The old layer merged them silently into 1.5, the mean of two different metrics.
    with pytest.raises(ValueError):
        m1.merge(s1, s2)
    with pytest.raises(ValueError):
        m2.merge(s1, s2)
    assert float(m1.result(m1.merge(s1, m1.update(m1.init(), Y_TRUE, Y_PRED)))) == 1.0


class SlottedMSE(losses.Loss):
    __slots__ = ("k",)

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def call(self, y_true, y_pred):
        return self.k * jnp.mean(jnp.square(y_pred - y_true), axis=-1)


def test_a_slots_subclass_works_and_is_frozen_or_is_refused_clearly():
    # The old layer built it and then failed at the first call: "'SlottedMSE' object has no attribute 'k'".
    try:
        a, b = SlottedMSE(2.0), SlottedMSE(4.0)
    except TypeError as error:
        assert "__slots__" in str(error)
        return
    assert [float(x(Y_TRUE, Y_PRED)) for x in (a, b, a)] == [2.0, 4.0, 2.0]
    assert float(jax.jit(_call)(b, Y_TRUE, Y_PRED)) == 4.0
    assert float(jax.jit(_call, static_argnums=0)(a, Y_TRUE, Y_PRED)) == 2.0
    assert a != b and a == SlottedMSE(2.0) and hash(a) == hash(SlottedMSE(2.0))
    with pytest.raises(FrozenInstanceError, match="k"):
        a.k = 3.0


# --------------------------------------------------------------------------------------------
# Equality and hashing.


def _scaled_mse(y_true, y_pred, scale):
    return scale * losses.mean_squared_error(y_true, y_pred)


def test_loss_function_wrapper_options_are_compared_with_their_type():
    as_bool = losses.LossFunctionWrapper(_scaled_mse, scale=True)
    as_int = losses.LossFunctionWrapper(_scaled_mse, scale=1)
    as_float = losses.LossFunctionWrapper(_scaled_mse, scale=1.0)
    assert as_bool != as_int and as_int != as_float and as_bool != as_float
    assert as_int == losses.LossFunctionWrapper(_scaled_mse, scale=1)
    assert hash(as_int) == hash(losses.LossFunctionWrapper(_scaled_mse, scale=1))


def test_loss_function_wrapper_accepts_an_array_keyword():
    loss = losses.LossFunctionWrapper(_scaled_mse, scale=jnp.array(3.0))
    assert float(loss(Y_TRUE, Y_PRED)) == 3.0
    other = losses.LossFunctionWrapper(_scaled_mse, scale=jnp.array(5.0))
    assert [float(jax.jit(_call)(x, Y_TRUE, Y_PRED)) for x in (loss, other)] == [3.0, 5.0]
    assert loss != other
    with pytest.raises(TypeError, match="hash"):
        hash(loss)


def test_equal_configurations_are_equal_with_one_hash_and_array_holders_are_unhashable():
    for make in (
        lambda: ScaledMSE(2.0),
        lambda: losses.CategoricalCrossentropy(label_smoothing=0.1),
        lambda: losses.SparseCategoricalCrossentropy(ignore_class=1),
        lambda: metrics.Mean(),
        lambda: metrics.BinaryAccuracy(threshold=0.3),
    ):
        assert make() == make() and hash(make()) == hash(make()), make()
    assert ScaledMSE(1) != ScaledMSE(1.0) and ScaledMSE(1.0) != ScaledMSE(True)
    arrays = (jnp.array(1.0), jnp.array(2.0))
    assert ScaledMSE(arrays) == ScaledMSE((jnp.array(1.0), jnp.array(2.0)))  # arrays compared by value
    assert ScaledMSE(arrays) != ScaledMSE((jnp.array(1.0), jnp.array(3.0)))
    for holder in (ScaledMSE(jnp.array(4.0)), ScaledMSE(arrays), WeightedError(jnp.array(1.0))):
        with pytest.raises(TypeError, match=rf"{type(holder).__name__} is not hashable.*(scale|w)"):
            hash(holder)


# --------------------------------------------------------------------------------------------
# No cache of jaxent's own.


def test_jaxent_has_no_compile_module():
    with pytest.raises(ImportError):
        importlib.import_module("jaxent._compile")


@pytest.mark.parametrize("how", ["eager", "jit-argument"])
def test_deleting_a_loss_frees_its_array_attribute(how):
    w = jnp.ones((256, 256))
    ref = weakref.ref(w)
    loss = WeightedMSE(w)
    y = jnp.zeros((256, 256))
    value = loss(y, y + 1.0) if how == "eager" else jax.jit(_call)(loss, y, y + 1.0)
    assert float(value) == 1.0
    del loss, w, value
    gc.collect()
    assert ref() is None, "a compiled-function cache still holds the loss's array"


def test_threads_with_different_label_smoothing_get_the_serial_values():
    y = jnp.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    p = jnp.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])
    smoothing = [0.1, 0.2, 0.3, 0.4] * 2  # two threads per configuration
    step = jax.jit(_call)  # one user jit shared by every thread, the object as its argument

    def compute(ls):
        loss = losses.CategoricalCrossentropy(label_smoothing=ls)
        return (
            float(loss(y, p)),
            float(jnp.mean(losses.categorical_crossentropy(y, p, label_smoothing=ls))),
            float(step(loss, y, p)),
        )

    barrier = threading.Barrier(len(smoothing))

    def in_thread(ls):
        barrier.wait()
        return compute(ls)

    with concurrent.futures.ThreadPoolExecutor(len(smoothing)) as pool:
        concurrent_values = list(pool.map(in_thread, smoothing))
    serial = [compute(ls) for ls in smoothing]
    assert concurrent_values == serial
    assert len({values[0] for values in serial}) == 4  # the four configurations differ


def test_stateful_metric_counts_every_update_from_concurrent_threads():
    values = jnp.ones((1000,))  # enough work per call to let the threads interleave
    for _ in range(3):
        metric = metrics.Mean().stateful()
        barrier = threading.Barrier(8)

        def update():
            barrier.wait()
            for _ in range(30):
                metric.update_state(values)

        threads = [threading.Thread(target=update) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert float(metric.count) == 8 * 30 * values.size  # the old facade lost updates (30000 of 240000)
        assert float(metric.result()) == 1.0


_CHILD = textwrap.dedent(
    """
    import pickle, sys
    import jax.numpy as jnp
    from jaxent import metrics

    with open(sys.argv[1], "rb") as f:
        state = pickle.load(f)
    metric = metrics.Mean()
    merged = metric.merge(state, metric.update(metric.init(), jnp.array([4.0])))
    print(float(metric.result(state)), float(metric.result(merged)), float(merged.count))
    """
)


def test_a_pickled_metric_state_is_usable_in_another_process(tmp_path):
    metric = metrics.Mean()
    state = metric.update(metric.init(), jnp.array([1.0, 2.0, 3.0]))
    path = tmp_path / "state.pkl"
    path.write_bytes(pickle.dumps(state))
    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(jaxent.__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env["PYTHONHASHSEED"] = "2" if env.get("PYTHONHASHSEED") == "1" else "1"  # str hashes differ from ours
    env["JAX_PLATFORMS"] = "cpu"
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split() == ["2.0", "2.5", "4.0"]


# --------------------------------------------------------------------------------------------
# Inputs: converted as TensorFlow converts them, or a TypeError naming the argument.


class _ObjectArray:
    def __repr__(self):
        return "_ObjectArray()"


BAD_INPUTS = {
    "None": None,
    "ragged list": [[1.0, 2.0], [3.0]],
    "dict": {"a": 1.0},
    "object array": np.array([_ObjectArray(), _ObjectArray()], dtype=object),
}


@pytest.mark.parametrize("argument", ["y_true", "y_pred", "sample_weight"])
@pytest.mark.parametrize("bad", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_unusable_inputs_are_a_type_error_naming_the_argument(bad, argument):
    if bad == "None" and argument == "sample_weight":
        pytest.skip("sample_weight=None means unweighted")
    inputs = {"y_true": jnp.ones((2, 1)), "y_pred": jnp.ones((2, 1)), "sample_weight": None, argument: BAD_INPUTS[bad]}
    with pytest.raises(TypeError, match=f"`{argument}`"):
        losses.MeanSquaredError()(**inputs)
    if argument != "sample_weight":
        with pytest.raises(TypeError, match=f"`{argument}`"):
            losses.mean_squared_error(inputs["y_true"], inputs["y_pred"])
        metric = metrics.MeanSquaredError()
        with pytest.raises(TypeError, match=f"`{argument}`"):
            metric.update(metric.init(), inputs["y_true"], inputs["y_pred"])


class _HasArray:
    def __array__(self, dtype=None, copy=None):
        return np.array([[1.0], [2.0]], np.float32)


class _HasJaxArray:
    def __jax_array__(self):
        return jnp.array([[1.0], [2.0]])


def test_objects_that_jnp_asarray_accepts_are_accepted():
    want = float(losses.MeanSquaredError()(jnp.zeros((2, 1)), jnp.array([[1.0], [2.0]])))
    assert want == 2.5
    assert float(losses.MeanSquaredError()(jnp.zeros((2, 1)), _HasArray())) == want
    assert float(losses.MeanSquaredError()(jnp.zeros((2, 1)), _HasJaxArray())) == want
    assert float(jnp.mean(losses.mean_squared_error(np.zeros((2, 1)), _HasArray()))) == want
    in_jit = jax.jit(lambda a, b: losses.mean_squared_error([a, b], [b, a]))(jnp.zeros(3), jnp.ones(3))
    np.testing.assert_array_equal(in_jit, [1.0, 1.0])  # a list of tracers is one array


def test_complex_inputs_are_refused():
    # The old layer dropped the imaginary part: MeanSquaredError()([[1+2j]], [[1+0j]]) was 0.
    with pytest.raises(TypeError, match=r"`y_true`.*complex"):
        losses.MeanSquaredError()([[1 + 2j]], [[1 + 0j]])
    with pytest.raises(TypeError, match=r"`y_pred`.*complex"):
        losses.mean_squared_error(jnp.zeros((1, 1)), jnp.array([[1 + 2j]]))
    metric = metrics.Mean()
    with pytest.raises(TypeError, match="complex"):
        metric.update(metric.init(), np.array([1 + 1j]))


def test_python_ints_outside_int32_raise_overflow_error_naming_the_argument():
    assert not jax.config.jax_enable_x64
    # The old layer wrapped around: -1.29e9 and 1.8e19.
    with pytest.raises(OverflowError, match="3000000000"):
        metrics.Mean().stateful()([3_000_000_000])
    with pytest.raises(OverflowError, match=r"`y_true`.*3000000000"):
        losses.mean_squared_error([[3_000_000_000]], [[3e9]])
    with pytest.raises(OverflowError, match=r"`sample_weight`"):
        losses.MeanSquaredError()(Y_TRUE, Y_PRED, sample_weight=[1, 2**31])
    assert float(losses.mean_squared_error([[2**31 - 1]], [[2**31 - 1]])[0]) == 0.0  # int32's edge is fine


def test_python_floats_become_float32_before_the_jit_boundary():
    want = np.float64(np.float32(0.7)) * (1.0 + 4.0) / 2  # f64(f32(0.7)), as tf.convert_to_tensor makes it
    with jax.enable_x64(True):
        y_true = jnp.zeros((2, 1), jnp.float64)
        y_pred = jnp.array([[1.0], [2.0]], jnp.float64)
        loss = losses.MeanSquaredError()
        eager = loss(y_true, y_pred, sample_weight=0.7)
        in_user_jit = jax.jit(lambda l, t, p: l(t, p, 0.7))(loss, y_true, y_pred)
        metric = metrics.MeanSquaredError(dtype=jnp.float64)
        state = metric.update(metric.init(), y_true, y_pred, sample_weight=0.7)
        assert eager.dtype == in_user_jit.dtype == jnp.float64
        assert float(eager) == float(in_user_jit) == want
        assert float(state.total) == np.float64(np.float32(0.7)) * 5.0


# --------------------------------------------------------------------------------------------
# The label check: an explicit static option.

def test_check_labels_option_raises_under_checkify_naming_the_label():
    checks = {
        "function": lambda y, p: losses.sparse_categorical_crossentropy(y, p, check_labels=True),
        "class": lambda y, p: losses.SparseCategoricalCrossentropy(check_labels=True)(y, p),
    }
    for name, fn in checks.items():
        err, value = checkify.checkify(jax.jit(fn))(LABELS, PROBS)
        with pytest.raises(checkify.JaxRuntimeError, match=r"sparse label 5 is outside the valid range \[0, 3\)"):
            err.throw()
        assert np.isnan(value).any(), name
        err, _ = checkify.checkify(jax.jit(fn))(jnp.array([0, 2]), PROBS)
        assert err.get() is None, name


def test_without_check_labels_there_is_no_effect_and_with_it_one():
    unchecked = losses.SparseCategoricalCrossentropy()
    checked = losses.SparseCategoricalCrossentropy(check_labels=True)
    assert checked != unchecked
    assert jax.make_jaxpr(lambda y, p: losses.sparse_categorical_crossentropy(y, p))(LABELS, PROBS).effects == set()
    assert jax.make_jaxpr(_call)(unchecked, LABELS, PROBS).effects == set()
    assert jax.make_jaxpr(
        lambda y, p: losses.sparse_categorical_crossentropy(y, p, check_labels=True)
    )(LABELS, PROBS).effects != set()
    assert jax.make_jaxpr(_call)(checked, LABELS, PROBS).effects != set()


def test_a_step_traced_in_a_thread_pool_still_gets_the_label_check():
    # A context variable set around the step did not reach a worker thread; the option does.
    loss = losses.SparseCategoricalCrossentropy(check_labels=True)
    step = checkify.checkify(jax.jit(lambda y, p: loss(y, p)))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        err, _ = pool.submit(step, LABELS, PROBS).result()
    with pytest.raises(checkify.JaxRuntimeError, match="sparse label 5"):
        err.throw()


# --------------------------------------------------------------------------------------------
# Objects as jit arguments leave no effect (the public callables themselves: test_training_step.py).

OBJECTS = {
    "CategoricalCrossentropy": (losses.CategoricalCrossentropy(label_smoothing=0.1), (ONE_HOT, PROBS)),
    "SparseCategoricalCrossentropy": (losses.SparseCategoricalCrossentropy(ignore_class=1), (jnp.array([0, 2]), PROBS)),
    "BinaryCrossentropy": (losses.BinaryCrossentropy(), (jnp.round(PROBS), PROBS)),
    "MeanSquaredError": (losses.MeanSquaredError(), (Y_TRUE, Y_PRED)),
    "ScaledMSE(array)": (ScaledMSE(jnp.array(2.0)), (Y_TRUE, Y_PRED)),
}


@pytest.mark.parametrize("name", list(OBJECTS))
def test_a_loss_object_as_a_jit_argument_leaves_no_effect(name):
    loss, args = OBJECTS[name]
    assert jax.make_jaxpr(_call)(loss, *args).effects == set()


def test_a_metric_object_as_a_jit_argument_leaves_no_effect():
    metric = metrics.SparseCategoricalCrossentropy(ignore_class=1)

    def step(m, state, y, p):
        return m.result(m.update(state, y, p))

    assert jax.make_jaxpr(step)(metric, metric.init(), jnp.array([0, 2]), PROBS).effects == set()
    assert np.isfinite(float(jax.jit(step)(metric, metric.init(), jnp.array([0, 2]), PROBS)))
