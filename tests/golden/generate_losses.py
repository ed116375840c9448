"""Generate ``tests/golden/losses.npz``: Keras 2 golden vectors for jaxent's losses.

What it records
---------------
Values and gradients of Keras 2 (tf-keras) for every loss-level function jaxent mirrors:
``utils.to_categorical``, the ``nn`` logits ops (``tf.nn.*_cross_entropy_with_logits``), the
``backend`` crossentropies, the ``losses`` functions and the ``losses`` Loss classes, on the
edge-case families of ``KERAS2_SEMANTICS.md`` §0-§12 (probabilities exactly 0/1, ε and 1-ε,
unnormalised/all-zero/negative rows, logits ±100/±1e4/0, non-last axes, ``ignore_class``,
label smoothing, every accepted ``sample_weight`` shape and every reduction, empty batches,
rank-1 ``y``, the y_true/y_pred squeeze rule, float16/bfloat16/float64, random batches).

Added for tracker issue 11:

* extreme logits (``gen_extreme_logits``): every logits path (``nn`` sparse/softmax/sigmoid
  CE, the ``backend`` and ``losses`` crossentropies with ``from_logits=True``, their Loss
  classes) on float32 logits ~ +-1e4 with O(1) losses: hand-made rows that are exact in
  float32 (equal entries, offsets of 0.25..3, one-ulp spreads, mixed signs, -5e3, 3e4), and
  random ``+-1e4 + N(0, 3)`` batches; non-last axes, smoothed labels, ``ignore_class``,
  sample weights. TF's sparse/softmax values are exact to float32 rounding here. Sigmoid CE:
  "exact_products" cases have every ``x * z`` exact in float32; in "rounded_products" (and
  the random ``pm_1e4`` batches) TF rounds ``x * z`` before subtracting it, which the stored
  value keeps (up to ulp(x)/2 ~ 5e-4 from the exact loss).
* the fused loss ``nn.linear_sparse_softmax_cross_entropy`` (``gen_fused``; jaxent only):
  features/kernel/bias chosen so that ``features @ kernel + bias`` is exact in float32
  (small-integer features, kernel and bias on a 1/4 grid, logits ~ +-1e4..3e4); the reference
  is TF's sparse softmax CE of ``tf.matmul(features, kernel) + bias`` (value, and gradients
  w.r.t. features, kernel, bias through ``tf.matmul``), with ``ignore_class`` (those tokens:
  0, zero gradient), ``label_smoothing`` (TF softmax CE on ``onehot * (1 - ls) + ls / V``),
  ``kernel_layout="vd"`` and rank-3 features. ``meta["tf_max_abs_error_vs_float64"]`` gives
  how far TF's float32 value and gradients are from the exact float64 ones (the features
  gradient sums ~1e4-sized kernel entries, so TF's own rounding there is up to ~3e-3).
* Python floats with float64 tensors (``gen_python_scalars``; see ``probe_float64.py``): Loss
  classes with a Python float / list ``sample_weight`` on float64 ``y_pred`` (every class and
  reduction), np.float64 weights (exact), Python list / float ``y_true``, ``label_smoothing``
  and epsilon in float64 (exact), and ``metrics.binary_accuracy`` with a Python float
  ``threshold`` (Keras uses f64(f32(t))) or an np.float64 one (exact).

How to run it (not run in CI; needs TensorFlow, which the jaxent test environment must not
have)::

    python3 -m venv /tmp/tfv
    /tmp/tfv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0
    /tmp/tfv/bin/python tests/golden/generate_losses.py        # from the repository root

The output is deterministic: every random input comes from a fixed seed, and the exact arrays
fed to Keras are stored with the case (TF's CPU kernels differ by an ulp between SIMD packets
and the scalar tail, so tests must never regenerate inputs). One machine dependence: NumPy's
float64 ``exp`` differs in the last bit between CPUs with and without AVX-512, so the three
cases whose float64 inputs are NumPy softmaxes (``*random_64x10_probs*_f64``) may change in the
last bit when the file is regenerated on another CPU; every other case is byte-identical.

Case conventions (file format: ``goldenio.py``)
-----------------------------------------------
``fn``      dotted jaxent name relative to the package: ``"nn.sigmoid_cross_entropy_with_logits"``,
            ``"backend.categorical_crossentropy"``, ``"losses.binary_crossentropy"``,
            ``"utils.to_categorical"``, ``"nn.linear_sparse_softmax_cross_entropy"``,
            ``"metrics.binary_accuracy"``, or a Loss class such as ``"losses.MeanSquaredError"``.
``kwargs``  functions: keyword options of the call (``from_logits``, ``axis``, ...; for
            ``to_categorical`` ``dtype`` is a dtype name string).
            Loss classes: the **constructor** options (``reduction``, ``from_logits``, ...).
``inputs``  keyword arguments of the call, named as in API.md (``labels``/``logits``,
            ``target``/``output``, ``y_true``/``y_pred``, ``y``). For Loss classes the call-time
            argument ``sample_weight`` is an input too; absent means not passed.
``dtypes``  inputs stored as float32 that must be cast to ``bfloat16`` before the call.
``outputs`` ``value``: Keras's result (see 16-bit below).
            ``grad_<input>``: d sum(value) / d input, from ``tf.GradientTape`` (for reduced Loss
            classes value is a scalar, so this is d loss / d y_pred). Recorded for
            y_pred/output/logits, and for labels (nn ops) and target (backend ops) where
            differentiable. Unconnected gradients are stored as zeros.
            ``grad2_<input>``: d/d input of sum(grad_<input>) (second derivative; elementwise
            ops only).
            ``<output>_documented``: where API.md's "Deliberate differences" make jaxent differ
            from Keras, what jaxent must return instead (``value`` stays Keras's).
``meta``    ``python_scalars``: inputs (stored as float64 arrays holding the exact values) that
            the call passes as Python floats, or nested lists of them, instead of arrays; a
            kwarg named there (``threshold``) is a Python float as stored anyway.
            ``numpy_scalars``: inputs passed as ``np.float64`` scalars (lists of them), and
            kwargs passed as ``np.float64``.
            ``result_dtype`` (dtype of jaxent's value), ``deviation`` (API.md difference, for
            cases where jaxent deliberately differs; ``"raises"`` marks the ones where jaxent
            must raise ``ValueError`` instead of returning), ``note``, and for 16-bit cases
            ``keras_native_value`` (what Keras computes natively in 16 bits).

16-bit cases: API.md difference 2 says jaxent computes float16/bfloat16 in float32 and casts
back. The stored ``value`` / ``grad_*`` are therefore Keras run in float32 on the same
(16-bit-rounded) inputs, cast to the 16-bit dtype; Keras's native 16-bit value is kept in
``meta`` only as documentation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ml_dtypes  # noqa: E402  (installed with TensorFlow)
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from goldenio import save_cases  # noqa: E402
from tfkeras import keras, tf  # noqa: E402

OUT = Path(__file__).resolve().parent / "losses.npz"

DTYPES = {
    "float16": np.dtype(np.float16),
    "bfloat16": np.dtype(ml_dtypes.bfloat16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
    "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64),
    "bool": np.dtype(bool),
}
SIXTEEN = ("float16", "bfloat16")

EPS = np.float32(1e-7)
ONE_M_EPS = np.float32(1) - EPS  # 0.99999988 = 1 - 2**-23

# The argument that carries predictions, per call convention; it sets the case dtype.
PRIMARY = ("y_pred", "output", "logits")

CASES: list[dict] = []


def arr(values, dtype="float32"):
    return np.asarray(values, dtype=np.float64 if dtype in SIXTEEN else None).astype(DTYPES[dtype])


def dtype_name(a: np.ndarray) -> str:
    return "bfloat16" if a.dtype == DTYPES["bfloat16"] else a.dtype.name


# --------------------------------------------------------------------------------------------
# Keras callables, keyed by the jaxent name. Each takes the inputs as TF tensors, by the
# jaxent argument names, plus the case kwargs.


def _class_call(cls_name):
    def call(y_true, y_pred, sample_weight=None, **ctor):
        return getattr(keras.losses, cls_name)(**ctor)(y_true, y_pred, sample_weight=sample_weight)

    return call


KERAS = {
    "nn.sigmoid_cross_entropy_with_logits": lambda labels, logits: (
        tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    ),
    "nn.softmax_cross_entropy_with_logits": lambda labels, logits, axis=-1: (
        tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits, axis=axis)
    ),
    "nn.sparse_softmax_cross_entropy_with_logits": lambda labels, logits: (
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    ),
    "backend.categorical_crossentropy": keras.backend.categorical_crossentropy,
    "backend.sparse_categorical_crossentropy": keras.backend.sparse_categorical_crossentropy,
    "backend.binary_crossentropy": keras.backend.binary_crossentropy,
    "losses.categorical_crossentropy": keras.losses.categorical_crossentropy,
    "losses.sparse_categorical_crossentropy": keras.losses.sparse_categorical_crossentropy,
    "losses.binary_crossentropy": keras.losses.binary_crossentropy,
    "losses.mean_squared_error": keras.losses.mean_squared_error,
    "losses.mean_absolute_error": keras.losses.mean_absolute_error,
    "losses.mse": keras.losses.mse,
    "losses.MSE": keras.losses.MSE,
    "losses.mae": keras.losses.mae,
    "losses.MAE": keras.losses.MAE,
}


def fused_reference(features, kernel, labels, bias=None, ignore_class=None, label_smoothing=0.0, kernel_layout="dv"):
    """TF reference for the fused loss: CE of ``features @ kernel + bias`` with tf.matmul and tf.nn.

    Sparse CE (``tf.nn.sparse_softmax_cross_entropy_with_logits``), or with label smoothing the
    softmax CE on ``onehot * (1 - ls) + ls / V``; ``ignore_class`` tokens are 0 (tf.where, so
    their gradient is 0 too).
    """
    flat = tf.reshape(features, [-1, features.shape[-1]])
    logits = tf.matmul(flat, kernel, transpose_b=kernel_layout == "vd")
    if bias is not None:
        logits = logits + bias
    vocab = logits.shape[-1]
    flat_labels = tf.reshape(labels, [-1])
    valid = None if ignore_class is None else tf.not_equal(flat_labels, ignore_class)
    safe = flat_labels if valid is None else tf.where(valid, flat_labels, tf.zeros_like(flat_labels))
    if label_smoothing:
        target = tf.one_hot(safe, vocab, dtype=logits.dtype) * (1 - label_smoothing) + label_smoothing / vocab
        loss = tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=logits)
    else:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe, logits=logits)
    if valid is not None:
        loss = tf.where(valid, loss, tf.zeros_like(loss))
    return tf.reshape(loss, tf.shape(labels))


KERAS["nn.linear_sparse_softmax_cross_entropy"] = fused_reference
KERAS["metrics.binary_accuracy"] = keras.metrics.binary_accuracy
for _fn in ("categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
            "sparse_top_k_categorical_accuracy"):
    KERAS[f"metrics.{_fn}"] = getattr(keras.metrics, _fn)
for _cls in (
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "BinaryCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
):
    KERAS[f"losses.{_cls}"] = _class_call(_cls)

# Inputs whose gradient is recorded (when floating).
DIFF = {
    "nn.sigmoid_cross_entropy_with_logits": ("labels", "logits"),
    "nn.softmax_cross_entropy_with_logits": ("labels", "logits"),
    "nn.sparse_softmax_cross_entropy_with_logits": ("logits",),
    "backend.categorical_crossentropy": ("target", "output"),
    "backend.sparse_categorical_crossentropy": ("output",),
    "backend.binary_crossentropy": ("target", "output"),
    "nn.linear_sparse_softmax_cross_entropy": ("features", "kernel", "bias"),
    "metrics.binary_accuracy": (),
    "metrics.categorical_accuracy": (),
    "metrics.sparse_categorical_accuracy": (),
    "metrics.top_k_categorical_accuracy": (),
    "metrics.sparse_top_k_categorical_accuracy": (),
}


def feed(name, value, python=(), numpy=()):
    """What Keras is given for input ``name``: a tf.constant, or a Python / NumPy scalar (list)."""
    if name in python:
        return value.tolist()  # Python float, or nested lists of Python floats
    if name in numpy:
        return value[()] if value.ndim == 0 else list(value)  # np.float64 scalars
    return tf.constant(value)


def run_keras(fn, inputs, kwargs, diff, second=(), python=(), numpy=()):
    """Keras's value and gradients of sum(value) for numpy ``inputs`` fed as tf.constant.

    Inputs named in ``python`` / ``numpy`` are fed as Python floats (lists) / np.float64
    scalars instead (never differentiated); kwargs named in ``numpy`` become np.float64.
    """
    tensors = {k: feed(k, v, python, numpy) for k, v in inputs.items()}
    kwargs = {k: (np.float64(v) if k in numpy else v) for k, v in kwargs.items()}
    call = KERAS[fn]
    with tf.GradientTape(persistent=True) as outer:
        for k in diff:
            outer.watch(tensors[k])
        with tf.GradientTape(persistent=True) as tape:
            for k in diff:
                tape.watch(tensors[k])
            value = call(**tensors, **kwargs)
            total = tf.reduce_sum(value)
        grads = {}
        for k in diff:
            g = tape.gradient(total, tensors[k])
            grads[k] = tf.zeros_like(tensors[k]) if g is None else tf.convert_to_tensor(g)
        sums = {k: tf.reduce_sum(grads[k]) for k in second}
    out = {"value": value.numpy()}
    for k in diff:
        out[f"grad_{k}"] = grads[k].numpy()
    for k in second:
        g2 = outer.gradient(sums[k], tensors[k])
        out[f"grad2_{k}"] = (tf.zeros_like(tensors[k]) if g2 is None else g2).numpy()
    return out


DIFF8 = "API.md 8: gradient is sum(labels)*softmax - labels (TF kernel: softmax - labels)"


def float32_run(fn):
    """The documented jaxent output for integer inputs (API.md difference 7): Keras in float32."""

    def documented(inputs, kwargs, outputs):
        f = {k: (v.astype(np.float32) if k in ("y_true", "y_pred") else v) for k, v in inputs.items()}
        return {"value": run_keras(fn, f, kwargs, ())["value"]}

    return documented


SIGMOID_ROUNDING = (
    "jaxent is within float32 rounding of the exact loss; TF rounds x*z to float32 before subtracting it "
    "(an error up to ulp(x)/2 ~ 5e-4 at |x| ~ 1e4 with labels that are not 0 or 1)"
)


def exact_sigmoid_ce(inputs, kwargs, outputs):
    """The value jaxent must give where TF rounds ``x * z``: the stable formula in float64, rounded once."""
    labels, logits = next(pair for pair in (("labels", "logits"), ("target", "output"), ("y_true", "y_pred"))
                          if pair[1] in inputs)
    z, x = inputs[labels].astype(np.float64), inputs[logits].astype(np.float64)
    loss = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    if "y_true" in inputs:  # losses.binary_crossentropy: the mean over the last axis
        loss = loss.mean(axis=-1)
    return {"value": loss.astype(outputs["value"].dtype)}


def true_softmax_gradient(inputs, kwargs, outputs):
    """API.md difference 8: d/dlogits = sum(labels) * softmax - labels.

    TF autodiff of the composite sum(labels * (logsumexp(x) - x)) over ``axis``; 16-bit inputs
    in float32 and cast back, like the other 16-bit references.
    """
    dtype = inputs["logits"].dtype
    sixteen = dtype in (DTYPES["float16"], DTYPES["bfloat16"])
    cast = (lambda a: a.astype(np.float32)) if sixteen else (lambda a: a)
    labels = tf.constant(cast(inputs["labels"]))
    logits = tf.constant(cast(inputs["logits"]))
    axis = kwargs.get("axis", -1)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        lse = tf.reduce_logsumexp(logits, axis, keepdims=True)
        total = tf.reduce_sum(labels * (lse - logits))
    return {"grad_logits": tape.gradient(total, logits).numpy().astype(dtype)}


def add(name, fn, inputs, kwargs=None, *, second=(), deviation=None, documented=None, note=None,
        no_grad=(), python_scalars=(), numpy_scalars=(), extra_meta=None):
    """Run Keras on ``inputs`` and append the case ``<fn>/<name>``.

    ``documented``: callable returning extra ``<output>_documented`` arrays (deviations).
    ``python_scalars`` / ``numpy_scalars``: inputs (stored as float64 arrays holding the exact
    values) that are passed as Python floats (lists) / np.float64 scalars; kwargs named there
    are documentation (Python floats) / passed as np.float64. Recorded in ``meta``.
    """
    kwargs = dict(kwargs or {})
    inputs = {k: np.asarray(v) for k, v in inputs.items()}
    primary = next((inputs[k] for k in PRIMARY if k in inputs), None)
    case_dtype = dtype_name(primary) if primary is not None else None
    diff = [
        k
        for k in DIFF.get(fn, ("y_pred",))
        if k in inputs and np.issubdtype(inputs[k].dtype.type, np.floating)
        or k in inputs and inputs[k].dtype == DTYPES["bfloat16"]
    ]
    diff = [k for k in diff if k not in no_grad and k not in python_scalars and k not in numpy_scalars]
    meta = dict(extra_meta or {})
    if python_scalars:
        meta["python_scalars"] = sorted(python_scalars)
    if numpy_scalars:
        meta["numpy_scalars"] = sorted(numpy_scalars)
    if note:
        meta["note"] = note
    if deviation:
        meta["deviation"] = deviation
    if case_dtype in SIXTEEN:
        dt16 = DTYPES[case_dtype]
        # Keras's own 16-bit computation, for the record.
        try:
            native = run_keras(fn, inputs, kwargs, ())["value"]
            if native.size <= 64:
                meta["keras_native_value"] = native.astype(np.float32).tolist()
        except Exception as exc:  # pragma: no cover - documentation only
            meta["keras_native_value"] = f"raises {type(exc).__name__}"
        # Reference: float32 on the 16-bit-rounded inputs (y_true is rounded to y_pred's
        # dtype, as Keras casts it), result and gradients cast back to 16 bits.
        ref_inputs = {}
        for k, v in inputs.items():
            if k != "sample_weight" and (v.dtype.kind == "f" or v.dtype == DTYPES["bfloat16"]):
                v = v.astype(dt16).astype(np.float32)
            ref_inputs[k] = v
        ref = run_keras(fn, ref_inputs, kwargs, diff, second)
        outputs = {"value": ref["value"].astype(dt16)}
        for k in diff:
            outputs[f"grad_{k}"] = ref[f"grad_{k}"].astype(inputs[k].dtype)
        for k in second:
            outputs[f"grad2_{k}"] = ref[f"grad2_{k}"].astype(inputs[k].dtype)
        meta["reference"] = f"Keras in float32 on the {case_dtype}-rounded inputs, cast to {case_dtype}"
    else:
        outputs = run_keras(fn, inputs, kwargs, diff, second, python_scalars, numpy_scalars)
    result_dtype = dtype_name(outputs["value"])
    if fn == "nn.softmax_cross_entropy_with_logits" and documented is None and "grad_logits" in outputs:
        # Label rows that do not sum to 1 in the computation (e.g. [.2,.3,.5] rounded to
        # bfloat16) make TF's kernel gradient differ from the true one jaxent returns.
        # Python-float labels reach Keras as f64(f32(labels)): check with what it saw.
        seen = {k: (v.astype(np.float32).astype(v.dtype) if k in python_scalars else v) for k, v in inputs.items()}
        true = true_softmax_gradient(seen, kwargs, outputs)["grad_logits"]
        kernel = outputs["grad_logits"]
        tol = {"float64": 1e-13, "float32": 1e-6}.get(result_dtype, 0.0)
        if not np.allclose(true.astype(np.float64), kernel.astype(np.float64), rtol=tol, atol=tol, equal_nan=True):
            documented = true_softmax_gradient
            meta["deviation"] = DIFF8 + "; here because the label rows do not sum to 1 in the compute dtype"
    if documented is not None:
        extra = documented(inputs, kwargs, outputs)
        for k, v in extra.items():
            outputs[f"{k}_documented"] = np.asarray(v)
        if "value" in extra:
            result_dtype = dtype_name(np.asarray(extra["value"]))
    meta["result_dtype"] = result_dtype
    dtypes = {k: "bfloat16" for k, v in inputs.items() if v.dtype == DTYPES["bfloat16"]}
    for k, v in list(outputs.items()):
        if v.dtype == DTYPES["bfloat16"]:
            outputs[k] = v.astype(np.float32)
    CASES.append(
        {
            "name": f"{fn}/{name}",
            "fn": fn,
            "kwargs": kwargs,
            "inputs": inputs,
            "outputs": outputs,
            "dtypes": dtypes,
            "meta": meta,
        }
    )


def add_dtypes(name, fn, inputs, kwargs=None, dtypes=("float16", "bfloat16", "float64"), **kw):
    """The same case with every floating input cast to each of ``dtypes``."""
    for dt in dtypes:
        cast = {}
        for k, v in inputs.items():
            v = np.asarray(v)
            if v.dtype == np.float32 and dt == "float64":
                # back to the decimals the float32 case was written with (0.2, not 0.200000003)
                v = np.array([float(str(x)) for x in v.ravel()], np.float64).reshape(v.shape)
            cast[k] = arr(v, dt) if v.dtype.kind == "f" else v
        add(f"{name}_{dt}", fn, cast, kwargs, **kw)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------------------------
# utils.to_categorical (§1). NumPy-level in Keras: fed NumPy, as Keras documents.


def gen_to_categorical():
    fn = "utils.to_categorical"

    def tc(name, y, num_classes=None, dtype=None):
        y = np.asarray(y)
        kwargs = {"num_classes": num_classes}
        if dtype is not None:
            kwargs["dtype"] = dtype
        value = keras.utils.to_categorical(y, num_classes=num_classes, dtype=dtype or "float32")
        CASES.append(
            {
                "name": f"{fn}/{name}",
                "fn": fn,
                "kwargs": kwargs,
                "inputs": {"y": y},
                "outputs": {"value": value},
                "meta": {"result_dtype": value.dtype.name},
            }
        )

    tc("identity_4", arr([0, 1, 2, 3], "int64"), 4)
    tc("trailing_one_dropped_infer", arr([[0], [2], [1]], "int64"))
    tc("rank2_labels_infer", arr([[0, 1, 2], [2, 1, 0]], "int64"))
    tc("rank3_trailing_one_dropped", arr([[[0], [1], [3]], [[2], [2], [0]]], "int64"), 5)
    tc("scalar_label", arr(2, "int64"))
    tc("shape_1_not_squeezed", arr([1], "int64"))
    tc("shape_1x1", arr([[1]], "int64"))
    tc("zeros_2x1x1_one_class", np.zeros((2, 1, 1), np.int64))
    tc("negative_labels_wrap", arr([0, -1], "int64"), 3)
    tc("negative_labels_wrap_to_first", arr([-3, -2, 1], "int64"), 3)
    tc("float_labels_truncate", arr([0.7, 1.9], "float32"), 3)
    tc("negative_float_labels_truncate_toward_zero", arr([-0.5, -1.7, 2.2], "float32"), 3)
    tc("num_classes_zero_means_infer", arr([0, 2], "int64"), 0)
    tc("empty_with_num_classes", np.zeros((0,), np.int64), 3)
    tc("dtype_float32_explicit", arr([1, 0, 2], "int64"), 3, "float32")
    tc("dtype_int32", arr([1, 0, 2], "int64"), 3, "int32")
    tc("dtype_bool", arr([1, 0, 2], "int64"), 3, "bool")
    tc("dtype_float64", arr([1, 0, 2], "int64"), 4, "float64")
    tc("int32_input", arr([3, 1], "int32"), 4)
    rng = np.random.default_rng(1)
    tc("random_64_of_10", rng.integers(0, 10, size=64).astype(np.int64), 10)
    tc("random_8x8_infer", rng.integers(0, 7, size=(8, 8)).astype(np.int64))


# --------------------------------------------------------------------------------------------
# nn (§2-§4)

LOGIT_GRID = [-1e4, -100, -20, -1, 0, 1, 20, 100, 1e4]


def gen_nn():
    fn = "nn.sigmoid_cross_entropy_with_logits"
    labels = np.array([[0.0] * 9, [1.0] * 9, [0.3] * 9])
    logits = np.array([LOGIT_GRID] * 3)
    add("grid_f32", fn, {"labels": arr(labels), "logits": arr(logits)}, second=("logits",))
    add("grid_f64", fn, {"labels": arr(labels, "float64"), "logits": arr(logits, "float64")},
        second=("logits",))
    for dt in SIXTEEN:
        add(f"grid_{dt}", fn, {"labels": arr(labels, dt), "logits": arr(logits, dt)})
    add("second_derivative_points", fn, {"labels": arr([0.0, 1.0, 0.3]), "logits": arr([0.0, 1.0, -2.0])},
        second=("logits",))
    add("labels_outside_0_1", fn, {"labels": arr([2.0, -1.0]), "logits": arr([1.0, -1.0])})
    add("nonfinite_logits", fn, {"labels": arr([1.0, 1.0, 0.0, 0.0]),
                                 "logits": arr([np.inf, -np.inf, np.inf, -np.inf])})
    add("scalar", fn, {"labels": arr(0.3), "logits": arr(-0.7)})
    add("empty", fn, {"labels": np.zeros((0, 3), np.float32), "logits": np.zeros((0, 3), np.float32)})
    rng = np.random.default_rng(2)
    add("rank3", fn, {"labels": arr(rng.uniform(size=(2, 3, 4))), "logits": arr(rng.normal(0, 3, (2, 3, 4)))})
    lab, lg = rng.uniform(size=(64, 10)), rng.normal(0, 4, (64, 10))
    add("random_64x10_f32", fn, {"labels": arr(lab), "logits": arr(lg)})
    add("random_64x10_f64", fn, {"labels": arr(lab, "float64"), "logits": arr(lg, "float64")})

    fn = "nn.softmax_cross_entropy_with_logits"
    table_labels = [[0, 0, 1], [0, 1, 0], [0, 1, 0], [0.2, 0.3, 0.5]]
    table_logits = [[1, 2, 3], [100, 0, -100], [1e4, 0, -1e4], [0, 0, 0]]
    add("table_rows", fn, {"labels": arr(table_labels), "logits": arr(table_logits)})
    add_dtypes("table_rows", fn, {"labels": arr(table_labels), "logits": arr(table_logits)})
    add("rank1_scalar_result", fn, {"labels": arr([0, 0, 1]), "logits": arr([1, 2, 3])})
    add("one_class", fn, {"labels": arr([[1], [1]]), "logits": arr([[3], [-2]])})
    add("empty_batch", fn, {"labels": np.zeros((0, 3), np.float32), "logits": np.zeros((0, 3), np.float32)})
    rng = np.random.default_rng(3)
    lg3 = rng.normal(0, 2, (2, 3, 4))
    lab3 = softmax(rng.normal(0, 2, (2, 3, 4)), axis=1)
    add("axis1_rank3", fn, {"labels": arr(lab3), "logits": arr(lg3)}, {"axis": 1})
    add("axis2_rank3", fn, {"labels": arr(softmax(lg3 * 0.5, 2)), "logits": arr(lg3)}, {"axis": 2})
    lab2 = softmax(rng.normal(0, 2, (3, 5)), axis=0)
    add("axis0_rank2", fn, {"labels": arr(lab2), "logits": arr(rng.normal(0, 2, (3, 5)))}, {"axis": 0})
    lg4 = rng.normal(0, 2, (2, 3, 2, 2))
    lab4 = np.eye(3)[rng.integers(0, 3, (2, 2, 2))].transpose(0, 3, 1, 2)
    add("axis1_rank4", fn, {"labels": arr(lab4), "logits": arr(lg4)}, {"axis": 1})
    add("labels_broadcast_1xC", fn, {"labels": arr([[0.1, 0.2, 0.7]]), "logits": arr([[1, 2, 3], [3, 0, -1]])},
        note="TF broadcasts (1,C) labels against (N,C) logits; TF's gradient w.r.t. such labels "
             "fails (Reshape error), so only d/dlogits is recorded", no_grad=("labels",))
    lg = rng.normal(0, 3, (64, 10))
    onehot = np.eye(10)[rng.integers(0, 10, 64)]
    add("random_64x10_onehot", fn, {"labels": arr(onehot), "logits": arr(lg)})
    add("random_64x10_onehot_f64", fn, {"labels": arr(onehot, "float64"), "logits": arr(lg, "float64")})
    soft = rng.dirichlet(np.ones(10), 64)
    add("random_64x10_soft_labels", fn, {"labels": arr(soft), "logits": arr(lg)},
        note="soft label rows sum to 1 only to float32 rounding")
    add("nonfinite_logits", fn, {"labels": arr([[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
                                 "logits": arr([[1, -np.inf, 2], [1, -np.inf, 2], [np.inf, 0, 1]])},
        no_grad=("labels", "logits"), note="values only: gradients at infinite logits are not specified")

    add("labels_not_summing_to_one", fn,
        {"labels": arr([[2, 0, 0], [-1, 0, 2], [1, 1, 0], [0.55, 0.55, 0.05]]), "logits": arr([[1, 2, 3]] * 4)},
        deviation=DIFF8, documented=true_softmax_gradient)
    mh = (rng.uniform(size=(8, 5)) < 0.4).astype(np.float64)
    add("random_multi_hot", fn, {"labels": arr(mh), "logits": arr(rng.normal(0, 2, (8, 5)))},
        deviation=DIFF8, documented=true_softmax_gradient)

    fn = "nn.sparse_softmax_cross_entropy_with_logits"
    add("table_rows", fn, {"labels": arr([2, 1, 1], "int32"), "logits": arr(table_logits[:3])})
    add("table_rows_int64_labels", fn, {"labels": arr([2, 1, 1], "int64"), "logits": arr(table_logits[:3])})
    add_dtypes("table_rows", fn, {"labels": arr([2, 1, 1], "int32"), "logits": arr(table_logits[:3])})
    add("rank1_logits_scalar_label", fn, {"labels": arr(1, "int32"), "logits": arr([1, 2, 3])})
    add("rank3", fn, {"labels": arr([[0, 1, 2], [3, 0, 1]], "int32"),
                      "logits": arr(np.arange(24).reshape(2, 3, 4) / 7)})
    add("empty_batch", fn, {"labels": np.zeros((0,), np.int32), "logits": np.zeros((0, 3), np.float32)})
    add("nonfinite_logits", fn, {"labels": arr([1, 1, 0], "int32"),
                                 "logits": arr([[-np.inf, 1, 2], [1, -np.inf, 2], [np.inf, 0, 0]])},
        no_grad=("logits",), note="values only: gradients at infinite logits are not specified")
    lg = rng.normal(0, 3, (64, 10))
    lab = rng.integers(0, 10, 64).astype(np.int32)
    add("random_64x10", fn, {"labels": lab, "logits": arr(lg)})
    add("random_64x10_f64", fn, {"labels": lab, "logits": arr(lg, "float64")})


# --------------------------------------------------------------------------------------------
# backend (§5-§7)


def gen_backend():
    fn = "backend.categorical_crossentropy"
    add("normal_rows", fn, {"target": arr([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0.2, 0.3, 0.5]]),
                            "output": arr([[.9, .05, .05], [.05, .89, .06], [.05, .01, .94], [.5, .3, .2],
                                           [.5, .3, .2]])})
    add("unnormalised_rows", fn, {"target": arr([[1, 0, 0], [0, 0, 1], [0.5, 0.5, 0]]),
                                  "output": arr([[2, 1, 1], [0.1, 0.1, 0.1], [3, 5, 0.5]])},
        note="normalise, then clip: [2,1,1] class 0 -> ln 2")
    add("saturated_rows", fn, {"target": arr([[0, 1, 0], [1, 0, 0], [1, 0, 0]]),
                               "output": arr([[1, 0, 0], [1, 0, 0], [5e-8, 1, 0]])})
    add("eps_boundaries_exact", fn, {"target": arr([[1, 0], [0, 1], [1, 0]]),
                                     "output": arr([[EPS, ONE_M_EPS], [EPS, ONE_M_EPS], [5e-8, 1]])},
        note="normalised entries exactly eps / 1-eps pass gradient (TF clip)")
    add("negative_entries", fn, {"target": arr([[1, 0, 0], [0, 1, 0]]),
                                 "output": arr([[-0.5, 1, 0.5], [-0.5, 1, 0.5]])})
    add("all_zero_row_nan", fn, {"target": arr([[1, 0, 0]]), "output": arr([[0, 0, 0]])})
    add("from_logits", fn, {"target": arr([[0, 0, 1], [0, 1, 0], [0, 1, 0], [0.2, 0.3, 0.5]]),
                            "output": arr([[1, 2, 3], [100, 0, -100], [1e4, 0, -1e4], [0, 0, 0]])},
        {"from_logits": True})
    add("rank1_scalar_result", fn, {"target": arr([0, 1, 0]), "output": arr([.2, .7, .1])})
    add("empty_batch", fn, {"target": np.zeros((0, 3), np.float32), "output": np.zeros((0, 3), np.float32)})
    add("empty_batch_from_logits", fn, {"target": np.zeros((0, 3), np.float32),
                                        "output": np.zeros((0, 3), np.float32)}, {"from_logits": True})
    dt_t = [[1, 0, 0], [0, 1, 0], [1, 0, 0]]
    dt_o = [[.5, .3, .2], [1, 0, 0], [1, 0, 0]]
    add_dtypes("dtype_rows", fn, {"target": arr(dt_t), "output": arr(dt_o)})
    add_dtypes("from_logits_rows", fn, {"target": arr([[0, 0, 1], [0, 1, 0]]),
                                        "output": arr([[1, 2, 3], [100, 0, -100]])}, {"from_logits": True})
    rng = np.random.default_rng(4)
    p3 = softmax(rng.normal(0, 2, (2, 3, 4)), axis=1)
    t3 = np.eye(3)[rng.integers(0, 3, (2, 4))].transpose(0, 2, 1)
    add("axis1_rank3", fn, {"target": arr(t3), "output": arr(p3)}, {"axis": 1})
    add("axis_minus2_rank3", fn, {"target": arr(t3), "output": arr(p3)}, {"axis": -2})
    add("axis1_rank3_from_logits", fn, {"target": arr(t3), "output": arr(rng.normal(0, 2, (2, 3, 4)))},
        {"from_logits": True, "axis": 1})
    p4 = rng.uniform(0.01, 1, (2, 3, 2, 2))
    t4 = np.eye(3)[rng.integers(0, 3, (2, 2, 2))].transpose(0, 3, 1, 2)
    add("axis1_rank4_unnormalised", fn, {"target": arr(t4), "output": arr(p4)}, {"axis": 1})
    add("axis0_rank2", fn, {"target": arr(np.eye(3)[[0, 2, 1, 1]].T), "output": arr(rng.uniform(0.05, 1, (3, 4)))},
        {"axis": 0})
    lg = rng.normal(0, 2, (64, 10))
    onehot = np.eye(10)[rng.integers(0, 10, 64)]
    add("random_64x10_probs_onehot", fn, {"target": arr(onehot), "output": arr(softmax(lg))})
    add("random_64x10_probs_soft", fn, {"target": arr(rng.dirichlet(np.ones(10), 64)), "output": arr(softmax(lg))})
    add("random_64x10_unnormalised", fn, {"target": arr(onehot), "output": arr(rng.uniform(0, 1, (64, 10)))})
    add("random_64x10_logits", fn, {"target": arr(onehot), "output": arr(lg * 2)}, {"from_logits": True})
    add("random_64x10_probs_f64", fn, {"target": arr(onehot, "float64"), "output": arr(softmax(lg), "float64")})

    fn = "backend.sparse_categorical_crossentropy"
    add("table_rows", fn, {"target": arr([0, 1, 0, 0, 1, 0], "int64"),
                           "output": arr([[.5, .3, .2], [1, 0, 0], [1, 0, 0], [2, 1, 1], [.05, .95, 0],
                                          [.1, .1, .1]])},
        note="clip, log, then renormalise: [1,0,0] class 0 -> 2.384186e-07, [2,1,1] -> ln 3")
    add("eps_boundaries_exact", fn, {"target": arr([0, 2, 0], "int64"),
                                     "output": arr([[EPS, ONE_M_EPS, 0], [0, ONE_M_EPS, EPS], [2e-7, 1, 0]])})
    add("negative_and_all_zero_rows", fn, {"target": arr([0, 1], "int64"),
                                           "output": arr([[-0.5, 1, 0.5], [0, 0, 0]])})
    add("int32_target", fn, {"target": arr([1, 2], "int32"), "output": arr([[.05, .95, 0], [.1, .8, .1]])})
    add("float_target_truncates", fn, {"target": arr([1.7, 0.3, 2.9, -0.7]),
                                       "output": arr([[.2, .5, .3], [.6, .3, .1], [.3, .3, .4], [.5, .25, .25]])})
    add("target_Nx1", fn, {"target": arr([[1], [2]], "int64"), "output": arr([[.05, .95, 0], [.1, .8, .1]])})
    add("from_logits", fn, {"target": arr([2, 1, 1], "int64"),
                            "output": arr([[1, 2, 3], [100, 0, -100], [1e4, 0, -1e4]])}, {"from_logits": True})
    add("rank1_output_scalar_target", fn, {"target": arr(1, "int64"), "output": arr([.2, .7, .1])})
    add("empty_batch", fn, {"target": np.zeros((0,), np.int64), "output": np.zeros((0, 3), np.float32)})
    p3 = softmax(np.arange(24).reshape(2, 3, 4) / 7)
    add("rank3_target_BT", fn, {"target": arr([[0, 1, 2], [3, 0, 1]], "int64"), "output": arr(p3)})
    add("rank3_target_BT1", fn, {"target": arr([[[0], [1], [2]], [[3], [0], [1]]], "int64"), "output": arr(p3)})
    add("rank3_target_flat", fn, {"target": arr([0, 1, 2, 3, 0, 1], "int64"), "output": arr(p3)})
    add("axis1_rank3", fn, {"target": arr([[0, 1, 2, 0], [2, 2, 1, 0]], "int64"), "output": arr(p3)}, {"axis": 1})
    add("axis_minus2_rank3", fn, {"target": arr([[0, 1, 2, 0], [2, 2, 1, 0]], "int64"), "output": arr(p3)},
        {"axis": -2})
    p_wrap = softmax(rng.normal(0, 2, (3, 2, 2)), axis=0)
    add("axis3_wraps_to_0_rank3", fn, {"target": arr([[0, 2], [1, 1]], "int64"), "output": arr(p_wrap)}, {"axis": 3})
    add("axis4_wraps_to_1_rank3", fn, {"target": arr([[0, 1], [1, 0], [1, 1]], "int64"), "output": arr(p_wrap)},
        {"axis": 4})
    add("axis_minus4_wraps_to_last_rank3", fn, {"target": arr([[0, 1], [1, 0], [1, 1]], "int64"),
                                               "output": arr(p_wrap)}, {"axis": -4})
    p4 = softmax(rng.normal(0, 2, (2, 3, 4, 2)), axis=1)
    add("axis1_rank4", fn, {"target": rng.integers(0, 3, (2, 4, 2)).astype(np.int64), "output": arr(p4)},
        {"axis": 1})
    add("axis1_rank4_from_logits", fn, {"target": rng.integers(0, 3, (2, 4, 2)).astype(np.int64),
                                        "output": arr(rng.normal(0, 2, (2, 3, 4, 2)))},
        {"axis": 1, "from_logits": True})
    out4 = arr([[.5, .3, .2], [1, 0, 0], [.2, .5, .3], [.1, .1, .8]])
    add("ignore_minus1_partly", fn, {"target": arr([0, -1, 1, -1], "int64"), "output": out4}, {"ignore_class": -1})
    add("ignore_minus1_all", fn, {"target": arr([-1, -1], "int64"), "output": out4[:2]}, {"ignore_class": -1})
    add("ignore_valid_class_0", fn, {"target": arr([0, 2, 1, 0], "int64"), "output": out4}, {"ignore_class": 0})
    add("ignore_255_rank3", fn, {"target": arr([[0, 255, 2], [255, 0, 1]], "int64"), "output": arr(p3)},
        {"ignore_class": 255})
    add("ignore_255_rank3_all", fn, {"target": np.full((2, 3), 255, np.int64), "output": arr(p3)},
        {"ignore_class": 255})
    add("ignore_minus1_from_logits", fn, {"target": arr([2, -1, 1], "int64"),
                                          "output": arr([[1, 2, 3], [100, 0, -100], [1e4, 0, -1e4]])},
        {"ignore_class": -1, "from_logits": True})
    add("ignore_minus1_empty", fn, {"target": np.zeros((0,), np.int64), "output": np.zeros((0, 3), np.float32)},
        {"ignore_class": -1})
    dt_o = [[.5, .3, .2], [1, 0, 0], [2, 1, 1], [.05, .95, 0], [.1, .1, .1]]
    add_dtypes("dtype_rows", fn, {"target": arr([0, 1, 0, 1, 2], "int64"), "output": arr(dt_o)})
    add_dtypes("from_logits_rows", fn, {"target": arr([2, 1], "int64"), "output": arr([[1, 2, 3], [100, 0, -100]])},
               {"from_logits": True})
    lg = rng.normal(0, 2, (64, 10))
    lab = rng.integers(0, 10, 64).astype(np.int64)
    add("random_64x10_probs", fn, {"target": lab, "output": arr(softmax(lg))})
    add("random_64x10_unnormalised", fn, {"target": lab, "output": arr(rng.uniform(0, 1, (64, 10)))})
    add("random_64x10_logits", fn, {"target": lab, "output": arr(lg * 2)}, {"from_logits": True})
    lab_ign = np.where(rng.uniform(size=64) < 0.3, 255, lab).astype(np.int64)
    add("random_64x10_ignore_255", fn, {"target": lab_ign, "output": arr(softmax(lg))}, {"ignore_class": 255})
    add("random_64x10_probs_f64", fn, {"target": lab, "output": arr(softmax(lg), "float64")})

    fn = "backend.binary_crossentropy"
    ps = [0, 1, 0.5, EPS, ONE_M_EPS, 2e-7, 0.3]
    add("prob_grid", fn, {"target": arr([[0] * 7, [1] * 7]), "output": arr([ps, ps])},
        note="clip and +eps: t=1,p=0 -> -ln(2 eps); t=0,p=1 -> -ln(2^-23 + eps)")
    add("labels_outside_0_1", fn, {"target": arr([2, -1]), "output": arr([0.3, 0.3])})
    add("probs_outside_0_1", fn, {"target": arr([1, 1, 0, 0]), "output": arr([1.5, -0.5, 1.5, -0.5])})
    add("from_logits_grid", fn, {"target": arr([[0] * 9, [1] * 9, [0.3] * 9]), "output": arr([LOGIT_GRID] * 3)},
        {"from_logits": True})
    add("target_broadcast_1", fn, {"target": arr([1.0]), "output": arr([0.2, 0.5, 0.9])},
        note="probability path has no shape check; (1,) broadcasts against (3,)")
    add("scalar", fn, {"target": arr(1.0), "output": arr(0.25)})
    add("empty", fn, {"target": np.zeros((0, 2), np.float32), "output": np.zeros((0, 2), np.float32)})
    add("rank3", fn, {"target": arr(rng.integers(0, 2, (2, 3, 4))), "output": arr(rng.uniform(size=(2, 3, 4)))})
    add_dtypes("dtype_points", fn, {"target": arr([1, 0, 0.3]), "output": arr([0, 1, 0.5])})
    add_dtypes("from_logits_points", fn, {"target": arr([1, 0, 0.3]), "output": arr([-20, 20, 1])},
               {"from_logits": True})
    t = rng.integers(0, 2, (64, 10)).astype(np.float64)
    add("random_64x10_probs", fn, {"target": arr(t), "output": arr(rng.uniform(size=(64, 10)))})
    add("random_64x10_soft_target", fn, {"target": arr(rng.uniform(size=(64, 10))),
                                         "output": arr(rng.uniform(size=(64, 10)))})
    add("random_64x10_logits", fn, {"target": arr(t), "output": arr(rng.normal(0, 4, (64, 10)))},
        {"from_logits": True})
    add("random_64x10_probs_f64", fn, {"target": arr(t, "float64"), "output": arr(rng.uniform(size=(64, 10)), "float64")})


# --------------------------------------------------------------------------------------------
# losses functions (§8-§11)

RAISES = "raises"


def gen_loss_functions():
    rng = np.random.default_rng(5)
    fn = "losses.categorical_crossentropy"
    yt = arr([[0, 1, 0], [0, 0, 1]])
    yp = arr([[.05, .95, 0], [.1, .8, .1]])
    lg = arr([[1, 2, 3], [100, 0, -100]])
    add("basic", fn, {"y_true": yt, "y_pred": yp})
    for ls in (0.1, 0.2, 1.0):
        add(f"label_smoothing_{ls}", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": ls})
        add(f"label_smoothing_{ls}_from_logits", fn, {"y_true": yt, "y_pred": lg},
            {"label_smoothing": ls, "from_logits": True})
    add("from_logits", fn, {"y_true": yt, "y_pred": lg}, {"from_logits": True})
    for ls in (-0.1, 1.5):
        add(f"label_smoothing_{ls}_out_of_range", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": ls},
            deviation=f"{RAISES}: API.md: label_smoothing outside [0, 1] is a ValueError in jaxent "
                      "(Keras accepts it)")
    add("eps_boundaries_exact", fn, {"y_true": arr([[1, 0], [0, 1]]), "y_pred": arr([[EPS, ONE_M_EPS]] * 2)})
    add("unnormalised_and_saturated", fn, {"y_true": arr([[1, 0, 0], [0, 1, 0], [1, 0, 0]]),
                                           "y_pred": arr([[2, 1, 1], [1, 0, 0], [-0.5, 1, 0.5]])})
    add("one_class", fn, {"y_true": arr([[1]]), "y_pred": arr([[0.7]])})
    add("int_y_true", fn, {"y_true": arr([[0, 1, 0], [0, 0, 1]], "int32"), "y_pred": yp})
    add("rank1_scalar_result", fn, {"y_true": arr([0, 1, 0]), "y_pred": arr([.2, .7, .1])})
    add("empty_batch", fn, {"y_true": np.zeros((0, 3), np.float32), "y_pred": np.zeros((0, 3), np.float32)})
    p3 = softmax(rng.normal(0, 2, (2, 3, 4)), axis=1)
    t3 = np.eye(3)[rng.integers(0, 3, (2, 4))].transpose(0, 2, 1)
    add("axis1_rank3_ls0.3", fn, {"y_true": arr(t3), "y_pred": arr(p3)}, {"axis": 1, "label_smoothing": 0.3})
    add("axis1_rank3_from_logits_ls0.1", fn, {"y_true": arr(t3), "y_pred": arr(rng.normal(0, 2, (2, 3, 4)))},
        {"axis": 1, "from_logits": True, "label_smoothing": 0.1})
    t4 = np.eye(4)[rng.integers(0, 4, (2, 3, 2))].transpose(0, 3, 1, 2)
    add("axis1_rank4", fn, {"y_true": arr(t4), "y_pred": arr(softmax(rng.normal(0, 2, (2, 4, 3, 2)), 1))},
        {"axis": 1})
    add("axis0_rank2_ls0.2", fn, {"y_true": arr(np.eye(3)[[0, 2, 1, 1]].T),
                                  "y_pred": arr(softmax(rng.normal(0, 1, (3, 4)), 0))},
        {"axis": 0, "label_smoothing": 0.2})
    add_dtypes("basic", fn, {"y_true": yt, "y_pred": yp})
    add_dtypes("label_smoothing_0.1", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": 0.1})
    add_dtypes("from_logits_ls0.2", fn, {"y_true": yt, "y_pred": lg}, {"from_logits": True, "label_smoothing": 0.2})
    add("f32_y_true_f16_y_pred", fn, {"y_true": yt, "y_pred": arr(yp, "float16")})
    lg = rng.normal(0, 2, (64, 10))
    onehot = np.eye(10)[rng.integers(0, 10, 64)]
    add("random_64x10_probs", fn, {"y_true": arr(onehot), "y_pred": arr(softmax(lg))})
    add("random_64x10_probs_ls0.1", fn, {"y_true": arr(onehot), "y_pred": arr(softmax(lg))}, {"label_smoothing": 0.1})
    add("random_64x10_logits_ls0.2", fn, {"y_true": arr(onehot), "y_pred": arr(lg)},
        {"from_logits": True, "label_smoothing": 0.2})

    fn = "losses.sparse_categorical_crossentropy"
    yp = arr([[.05, .95, 0], [.1, .8, .1]])
    add("basic", fn, {"y_true": arr([1, 2], "int64"), "y_pred": yp})
    add("float_labels", fn, {"y_true": arr([1.0, 2.0]), "y_pred": yp})
    add("float_labels_truncate", fn, {"y_true": arr([1.7, 0.4]), "y_pred": yp})
    add("labels_Nx1", fn, {"y_true": arr([[1], [2]], "int32"), "y_pred": yp})
    add("from_logits", fn, {"y_true": arr([2, 1], "int64"), "y_pred": arr([[1, 2, 3], [100, 0, -100]])},
        {"from_logits": True})
    add("eps_boundaries_exact", fn, {"y_true": arr([0, 2], "int64"),
                                     "y_pred": arr([[EPS, ONE_M_EPS, 0], [0, ONE_M_EPS, EPS]])})
    add("unnormalised_and_saturated", fn, {"y_true": arr([0, 0, 1], "int64"),
                                           "y_pred": arr([[2, 1, 1], [1, 0, 0], [1, 0, 0]])})
    out4 = arr([[.5, .3, .2], [1, 0, 0], [.2, .5, .3], [.1, .1, .8]])
    add("ignore_minus1_partly", fn, {"y_true": arr([0, -1, 1, -1], "int64"), "y_pred": out4}, {"ignore_class": -1})
    add("ignore_minus1_all", fn, {"y_true": arr([-1, -1, -1, -1], "int64"), "y_pred": out4}, {"ignore_class": -1})
    p3 = softmax(np.arange(24).reshape(2, 3, 4) / 7)
    add("rank3", fn, {"y_true": arr([[0, 1, 2], [3, 0, 1]], "int64"), "y_pred": arr(p3)})
    add("rank3_ignore_255", fn, {"y_true": arr([[0, 255, 2], [255, 0, 1]], "int64"), "y_pred": arr(p3)},
        {"ignore_class": 255})
    add("axis1_rank3", fn, {"y_true": arr([[0, 1, 2, 0], [2, 2, 1, 0]], "int64"), "y_pred": arr(p3)}, {"axis": 1})
    add("axis3_wraps_rank3", fn, {"y_true": arr([[0, 1, 1, 0], [1, 0, 1, 1], [0, 0, 1, 1]], "int64"),
                                  "y_pred": arr(softmax(rng.normal(0, 2, (2, 3, 4)), 0))}, {"axis": 3})
    add("rank1_y_pred_scalar", fn, {"y_true": arr(2, "int64"), "y_pred": arr([.2, .3, .5])})
    add("empty_batch", fn, {"y_true": np.zeros((0,), np.int64), "y_pred": np.zeros((0, 3), np.float32)})
    add_dtypes("basic", fn, {"y_true": arr([1, 2], "int64"), "y_pred": yp})
    add_dtypes("from_logits", fn, {"y_true": arr([2, 1], "int64"), "y_pred": arr([[1, 2, 3], [100, 0, -100]])},
               {"from_logits": True})
    lg = rng.normal(0, 2, (64, 10))
    lab = rng.integers(0, 10, 64).astype(np.int64)
    add("random_64x10_probs", fn, {"y_true": lab, "y_pred": arr(softmax(lg))})
    add("random_64x10_logits", fn, {"y_true": lab, "y_pred": arr(lg)}, {"from_logits": True})

    fn = "losses.binary_crossentropy"
    yt = arr([[0, 1], [0, 0]])
    yp = arr([[.6, .4], [.4, .6]])
    add("basic", fn, {"y_true": yt, "y_pred": yp})
    for ls in (0.1, 0.2, 1.0):
        add(f"label_smoothing_{ls}", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": ls})
    lg = arr([[-18.6, 0.51], [2.94, -12.8]])
    add("from_logits", fn, {"y_true": yt, "y_pred": lg}, {"from_logits": True})
    for ls in (0.1, 0.2, 1.0):
        add(f"label_smoothing_{ls}_from_logits", fn, {"y_true": arr([[0, 1], [0, 0]]), "y_pred": lg},
            {"from_logits": True, "label_smoothing": ls})
    add("label_smoothing_-0.1_out_of_range", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": -0.1},
        deviation=f"{RAISES}: API.md: label_smoothing outside [0, 1] is a ValueError in jaxent "
                  "(Keras accepts it)")
    add("axis0", fn, {"y_true": yt, "y_pred": yp}, {"axis": 0})
    add("axis1_rank3", fn, {"y_true": arr(rng.integers(0, 2, (2, 3, 4))), "y_pred": arr(rng.uniform(size=(2, 3, 4)))},
        {"axis": 1})
    add("axis0_rank3", fn, {"y_true": arr(rng.integers(0, 2, (3, 2, 4))), "y_pred": arr(rng.uniform(size=(3, 2, 4)))},
        {"axis": 0})
    add("rank1_scalar_result", fn, {"y_true": arr([0, 1]), "y_pred": arr([.6, .4])})
    add("rank3_zeros_vs_quarter", fn, {"y_true": np.zeros((2, 3, 4), np.float32),
                                       "y_pred": np.full((2, 3, 4), 0.25, np.float32)})
    ps = [0, 1, 0.5, EPS, ONE_M_EPS, 2e-7, 0.3]
    add("prob_grid_mean", fn, {"y_true": arr([[0] * 7, [1] * 7]), "y_pred": arr([ps, ps])})
    add("int_y_true", fn, {"y_true": arr([[0, 1], [1, 0]], "int32"), "y_pred": yp})
    add("bool_y_true", fn, {"y_true": np.array([[False, True], [True, False]]), "y_pred": yp})
    add("empty_batch", fn, {"y_true": np.zeros((0, 2), np.float32), "y_pred": np.zeros((0, 2), np.float32)})
    add_dtypes("basic", fn, {"y_true": yt, "y_pred": yp})
    add_dtypes("saturated", fn, {"y_true": arr([[1, 0, 0.3]]), "y_pred": arr([[0, 1, 0.5]])})
    add_dtypes("from_logits_ls0.2", fn, {"y_true": yt, "y_pred": lg}, {"from_logits": True, "label_smoothing": 0.2})
    t = rng.integers(0, 2, (64, 10)).astype(np.float64)
    add("random_64x10_probs", fn, {"y_true": arr(t), "y_pred": arr(rng.uniform(size=(64, 10)))})
    add("random_64x10_logits_ls0.1", fn, {"y_true": arr(t), "y_pred": arr(rng.normal(0, 4, (64, 10)))},
        {"from_logits": True, "label_smoothing": 0.1})

    diff7 = "API.md 7: integer y_pred is computed in float32 (Keras truncates to integers)"
    for fn, other in (("losses.mean_squared_error", "mse"), ("losses.mean_absolute_error", "mae")):
        add("basic", fn, {"y_true": arr([[0, 1], [0, 0]]), "y_pred": arr([[1, 1], [1, 0]])})
        add("rank1_scalar_result", fn, {"y_true": arr([1, 2, 3]), "y_pred": arr([2, 2, 2])})
        add("broadcast_y_true_Nx1", fn, {"y_true": arr([[1], [2]]), "y_pred": np.zeros((2, 3), np.float32)})
        add("equal_gives_zero_grad", fn, {"y_true": arr([[0.5, 1, -2]]), "y_pred": arr([[0.5, 1, -2]])})
        add("bool_y_true", fn, {"y_true": np.array([[True, False, True]]), "y_pred": arr([[0.2, 0.3, 1.5]])})
        add("int_y_true", fn, {"y_true": arr([[1, 2, 3]], "int32"), "y_pred": arr([[0.2, 0.3, 1.5]])})
        add("rank3", fn, {"y_true": arr(rng.normal(size=(2, 3, 4))), "y_pred": arr(rng.normal(size=(2, 3, 4)))})
        add("empty_batch", fn, {"y_true": np.zeros((0, 3), np.float32), "y_pred": np.zeros((0, 3), np.float32)})
        add("int_y_pred_truncates_in_keras", fn, {"y_true": arr([[1.5, 2.5]]), "y_pred": arr([[1, 2]], "int32")},
            deviation=diff7, documented=float32_run(fn))
        add("int_y_pred_int_mean", fn, {"y_true": arr([[0, 1]], "int32"), "y_pred": arr([[1, 2], [3, 3]], "int32")},
            deviation=diff7, documented=float32_run(fn))
        add_dtypes("basic", fn, {"y_true": arr([[0, 1], [0, 0]]), "y_pred": arr([[1, 1], [1, 0]])})
        add_dtypes("three_values", fn, {"y_true": arr([[.1, .2, .3]]), "y_pred": arr([[.3, .1, .7]])})
        add("f16_overflow_in_keras", fn, {"y_true": arr([[0, 0, 0], [0, 0, 0]]),
                                          "y_pred": arr([[300, 0, 0], [200, 200, 200]], "float16")},
            note="Keras in f16: 300^2 and the sum 3*200^2 overflow to inf")
        add("f32_y_true_f16_y_pred", fn, {"y_true": arr([[1.1, 2]]), "y_pred": arr([[1.5, 2.5]], "float16")},
            note="Keras casts y_true to y_pred's dtype first: 1.1 -> 1.099609 (float16)")
        x, y = rng.normal(size=(64, 10)), rng.normal(size=(64, 10))
        add("random_64x10", fn, {"y_true": arr(x), "y_pred": arr(y)})
        add("random_64x10_f64", fn, {"y_true": arr(x, "float64"), "y_pred": arr(y, "float64")})
        for alias in (other, other.upper()):
            add("alias_basic", f"losses.{alias}", {"y_true": arr([[0, 1], [0, 0.5]]), "y_pred": arr([[1, 1], [1, 0]])})


# --------------------------------------------------------------------------------------------
# Loss classes (§12)

REDUCTIONS = ("auto", "none", "sum", "sum_over_batch_size")


def gen_loss_classes():
    rng = np.random.default_rng(6)

    # MSE / MAE on the §12 data: per-sample losses (B,) = (3,).
    y3, p3 = arr([[0, 1], [0, 0], [1, 1]]), arr([[1, 1], [1, 0], [.5, 0]])
    sw_b = {
        "no_sw": None,
        "sw_B": arr([.7, .3, 1]),
        "sw_Bx1": arr([[.7], [.3], [1]]),
        "sw_scalar": arr(2.0),
        "sw_zeros": arr([0, 0, 0]),
    }
    for cls in ("MeanSquaredError", "MeanAbsoluteError"):
        fn = f"losses.{cls}"
        for red in REDUCTIONS:
            for swn, sw in sw_b.items():
                if cls == "MeanAbsoluteError" and (swn not in ("no_sw", "sw_B") or red == "sum_over_batch_size"):
                    continue  # MAE shares the weighting path with MSE; a few cases suffice
                if red == "sum_over_batch_size" and swn not in ("no_sw", "sw_B"):
                    continue  # same as "auto" outside a distribution strategy
                inputs = {"y_true": y3, "y_pred": p3}
                if sw is not None:
                    inputs["sample_weight"] = sw
                add(f"per_sample_{red}_{swn}", fn, inputs, {"reduction": red})

    # Per-timestep losses (B,T) = (2,3) from rank-3 y.
    yt = arr(np.arange(12).reshape(2, 3, 2) / 10)
    yp = arr(np.arange(12)[::-1].reshape(2, 3, 2) / 10)
    sw_bt = {
        "no_sw": None,
        "sw_scalar": arr(0.5),
        "sw_B": arr([1, 3]),
        "sw_Bx1": arr([[1], [3]]),
        "sw_BxT": arr([[1, 0, 2], [3, 1, 0]]),
        "sw_BxTx1": arr([[[1], [0], [2]], [[3], [1], [0]]]),
        "sw_1xT": arr([[1, 0, 2]]),
    }
    for cls in ("MeanSquaredError", "MeanAbsoluteError"):
        fn = f"losses.{cls}"
        for red in REDUCTIONS:
            for swn, sw in sw_bt.items():
                if cls == "MeanAbsoluteError" and (red != "auto" or swn not in ("sw_B", "sw_BxT", "sw_1xT")):
                    continue
                if red == "sum_over_batch_size" and swn not in ("sw_BxT", "sw_1xT"):
                    continue
                inputs = {"y_true": yt, "y_pred": yp}
                if sw is not None:
                    inputs["sample_weight"] = sw
                add(f"per_timestep_{red}_{swn}", fn, inputs, {"reduction": red})

    fn = "losses.MeanSquaredError"
    for red in ("auto", "none"):
        add(f"squeeze_y_pred_Bx1_{red}", fn, {"y_true": arr([1, 2, 3]), "y_pred": arr([[1.5], [2], [2]])},
            {"reduction": red}, note="tensors: y_pred (B,1) squeezed to (B,) -> 0.4166667 (NumPy inputs: 0.75)")
        add(f"squeeze_y_true_Bx1_{red}", fn, {"y_true": arr([[1], [2], [3]]), "y_pred": arr([1.5, 2, 2])},
            {"reduction": red})
    for red in REDUCTIONS:
        add(f"rank1_y_scalar_loss_{red}", fn, {"y_true": arr([1, 2, 3, 4]), "y_pred": arr([2, 2, 2, 2])},
            {"reduction": red})
        add(f"rank1_y_scalar_loss_{red}_sw_scalar", fn,
            {"y_true": arr([1, 2, 3, 4]), "y_pred": arr([2, 2, 2, 2]), "sample_weight": arr(3.0)}, {"reduction": red})
        add(f"empty_batch_{red}", fn, {"y_true": np.zeros((0, 2), np.float32), "y_pred": np.zeros((0, 2), np.float32)},
            {"reduction": red})
    add("empty_batch_auto_sw_B", fn, {"y_true": np.zeros((0, 2), np.float32), "y_pred": np.zeros((0, 2), np.float32),
                                      "sample_weight": np.zeros((0,), np.float32)}, {"reduction": "auto"})
    for red in ("auto", "none"):
        add(f"sw_Bx1x1_outer_product_{red}", fn, {"y_true": y3, "y_pred": p3, "sample_weight": arr([[[.7]], [[.3]], [[1]]])},
            {"reduction": red},
            deviation=f"{RAISES}: API.md 6: sample_weight (B,1,1) on (B,) losses; Keras broadcasts to (B,1,B)")
    add("sw_T_on_BxT_outer_product_sum", fn, {"y_true": arr(rng.normal(size=(2, 3, 2))),
                                              "y_pred": arr(rng.normal(size=(2, 3, 2))),
                                              "sample_weight": arr([[[[1, 2, 3]]]])},
        {"reduction": "sum"},
        deviation=f"{RAISES}: API.md 6: sample_weight (1,1,1,T) on (B,T) losses; Keras broadcasts to (1,1,B,T)")
    for red in ("auto", "sum"):
        add_dtypes(f"per_sample_{red}", fn, {"y_true": y3, "y_pred": p3}, {"reduction": red})
        add_dtypes(f"per_sample_{red}_sw_B", fn, {"y_true": y3, "y_pred": p3, "sample_weight": arr([.5, .25, 1])},
                   {"reduction": red}, dtypes=("float16", "bfloat16"))
        add(f"per_sample_{red}_sw_B_float64", fn, {"y_true": arr(y3, "float64"), "y_pred": arr(p3, "float64"),
                                                   "sample_weight": arr([.7, .3, 1], "float64")}, {"reduction": red})
    add("per_timestep_none_sw_BxT_float16", fn, {"y_true": arr(yt, "float16"), "y_pred": arr(yp, "float16"),
                                                 "sample_weight": arr([[1, 0, 2], [3, 1, 0]])}, {"reduction": "none"})
    big = np.zeros((70000, 1), np.float16)
    big_p = np.full((70000, 1), 0.5, np.float16)
    for red in ("auto", "sum"):
        add(f"float16_70000_elements_{red}", fn, {"y_true": big, "y_pred": big_p}, {"reduction": red},
            note="Keras in f16: element count 70000 -> inf, SOBS 0; SUM 17504")

    diff7 = "API.md 7: integer y_pred is computed in float32 (Keras truncates to integers)"
    for cls in ("MeanSquaredError", "MeanAbsoluteError"):
        fn = f"losses.{cls}"
        add("int_y_pred_auto", fn, {"y_true": arr([[1, 2]], "int32"), "y_pred": arr([[2, 4]], "int32")},
            {"reduction": "auto"}, deviation=diff7, documented=float32_run(fn))
        add("int_y_pred_auto_sw_B", fn, {"y_true": arr([[1, 2], [0, 0]], "int32"), "y_pred": arr([[2, 4], [1, 0]], "int32"),
                                         "sample_weight": arr([.5, .5])},
            {"reduction": "auto"}, deviation=diff7, documented=float32_run(fn))
        add("random_64x10_auto_sw_B", fn, {"y_true": arr(rng.normal(size=(64, 10))), "y_pred": arr(rng.normal(size=(64, 10))),
                                           "sample_weight": arr(rng.uniform(size=64))}, {"reduction": "auto"})

    fn = "losses.BinaryCrossentropy"
    yt, yp = arr([[0, 1], [0, 0]]), arr([[.6, .4], [.4, .6]])
    for red in REDUCTIONS:
        add(f"basic_{red}", fn, {"y_true": yt, "y_pred": yp}, {"reduction": red})
        add(f"basic_{red}_sw_B", fn, {"y_true": yt, "y_pred": yp, "sample_weight": arr([1, 0])}, {"reduction": red})
    grad_y = arr([[0, 1], [1, 0], [1, 1]])
    grad_p = arr([[.3, .6], [.8, .1], [.5, .5]])
    for red in ("auto", "sum"):
        add(f"gradient_example_{red}_sw_B", fn, {"y_true": grad_y, "y_pred": grad_p, "sample_weight": arr([1, 2, 0])},
            {"reduction": red})
    add("from_logits_auto", fn, {"y_true": yt, "y_pred": arr([[-18.6, 0.51], [2.94, -12.8]])},
        {"from_logits": True})
    add("from_logits_ls0.2_sum", fn, {"y_true": yt, "y_pred": arr([[-18.6, 0.51], [2.94, -12.8]])},
        {"from_logits": True, "label_smoothing": 0.2, "reduction": "sum"})
    add("ls0.2_auto", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": 0.2})
    add("axis0_none", fn, {"y_true": yt, "y_pred": yp}, {"axis": 0, "reduction": "none"})
    add("rank1_y_auto", fn, {"y_true": arr([0, 1, 1]), "y_pred": arr([.6, .4, .9])})
    add("squeeze_y_pred_Bx1_auto", fn, {"y_true": arr([0, 1, 1]), "y_pred": arr([[.6], [.4], [.9]])})
    add("squeeze_y_pred_Bx1_none", fn, {"y_true": arr([0, 1, 1]), "y_pred": arr([[.6], [.4], [.9]])},
        {"reduction": "none"})
    add("y_Bx1_none_sw_B", fn, {"y_true": arr([[0], [1], [1]]), "y_pred": arr([[.6], [.4], [.9]]),
                                "sample_weight": arr([1, 2, 3])}, {"reduction": "none"})
    add("saturated_eps_auto", fn, {"y_true": arr([[1, 0, 1, 0]]), "y_pred": arr([[0, 1, EPS, ONE_M_EPS]])})
    yt3 = arr(rng.integers(0, 2, (2, 3, 4)))
    pp3 = arr(rng.uniform(size=(2, 3, 4)))
    for red in ("auto", "none"):
        add(f"per_timestep_{red}_sw_BxT", fn, {"y_true": yt3, "y_pred": pp3, "sample_weight": arr([[1, 0, 2], [3, 1, 0]])},
            {"reduction": red})
        add(f"per_timestep_{red}_sw_B", fn, {"y_true": yt3, "y_pred": pp3, "sample_weight": arr([1, 3])},
            {"reduction": red})
    add("empty_batch_auto", fn, {"y_true": np.zeros((0, 2), np.float32), "y_pred": np.zeros((0, 2), np.float32)})
    add_dtypes("basic_auto", fn, {"y_true": yt, "y_pred": yp})
    add_dtypes("saturated_sum", fn, {"y_true": arr([[1, 0, 0.25]]), "y_pred": arr([[0, 1, 0.5]])}, {"reduction": "sum"})
    t = arr(rng.integers(0, 2, (64, 10)))
    add("random_64x10_auto_sw_B", fn, {"y_true": t, "y_pred": arr(rng.uniform(size=(64, 10))),
                                       "sample_weight": arr(rng.uniform(size=64))})
    add("random_64x10_logits_sum", fn, {"y_true": t, "y_pred": arr(rng.normal(0, 4, (64, 10)))},
        {"from_logits": True, "reduction": "sum"})

    fn = "losses.CategoricalCrossentropy"
    yt, yp = arr([[0, 1, 0], [0, 0, 1]]), arr([[.05, .95, 0], [.1, .8, .1]])
    for red in REDUCTIONS:
        add(f"basic_{red}", fn, {"y_true": yt, "y_pred": yp}, {"reduction": red})
        add(f"basic_{red}_sw_B", fn, {"y_true": yt, "y_pred": yp, "sample_weight": arr([.3, .7])}, {"reduction": red})
    add("ls0.1_sum", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": 0.1, "reduction": "sum"})
    add("ls1.0_auto", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": 1.0})
    add("from_logits_ls0.2_auto_sw_Bx1", fn, {"y_true": yt, "y_pred": arr([[1, 2, 3], [100, 0, -100]]),
                                              "sample_weight": arr([[2], [0.5]])},
        {"from_logits": True, "label_smoothing": 0.2})
    add("ls-0.1_out_of_range_auto", fn, {"y_true": yt, "y_pred": yp}, {"label_smoothing": -0.1},
        deviation=f"{RAISES}: API.md: label_smoothing outside [0, 1] is a ValueError in jaxent (Keras accepts it)")
    add("eps_boundaries_auto", fn, {"y_true": arr([[1, 0], [0, 1]]), "y_pred": arr([[EPS, ONE_M_EPS]] * 2)})
    p3 = softmax(rng.normal(0, 2, (2, 3, 4)), axis=1)
    t3 = np.eye(3)[rng.integers(0, 3, (2, 4))].transpose(0, 2, 1)
    add("axis1_rank3_auto_sw_B", fn, {"y_true": arr(t3), "y_pred": arr(p3), "sample_weight": arr([1, 3])}, {"axis": 1})
    pt = softmax(rng.normal(0, 2, (2, 3, 4)))
    tt = np.eye(4)[rng.integers(0, 4, (2, 3))]
    for swn, sw in (("sw_BxT", arr([[1, 0, 2], [3, 1, 0]])), ("sw_1xT", arr([[1, 0, 2]])),
                    ("sw_BxTx1", arr([[[1], [0], [2]], [[3], [1], [0]]]))):
        add(f"per_timestep_auto_{swn}", fn, {"y_true": arr(tt), "y_pred": arr(pt), "sample_weight": sw})
    add("empty_batch_sum", fn, {"y_true": np.zeros((0, 3), np.float32), "y_pred": np.zeros((0, 3), np.float32)},
        {"reduction": "sum"})
    add_dtypes("basic_auto", fn, {"y_true": yt, "y_pred": yp})
    add_dtypes("from_logits_auto", fn, {"y_true": yt, "y_pred": arr([[1, 2, 3], [100, 0, -100]])},
               {"from_logits": True})
    lg = rng.normal(0, 2, (64, 10))
    onehot = arr(np.eye(10)[rng.integers(0, 10, 64)])
    add("random_64x10_probs_auto_sw_B", fn, {"y_true": onehot, "y_pred": arr(softmax(lg)),
                                             "sample_weight": arr(rng.uniform(size=64))})
    add("random_64x10_logits_ls0.1_sum", fn, {"y_true": onehot, "y_pred": arr(lg)},
        {"from_logits": True, "label_smoothing": 0.1, "reduction": "sum"})

    fn = "losses.SparseCategoricalCrossentropy"
    out4 = arr([[.5, .3, .2], [1, 0, 0], [.2, .5, .3], [.1, .1, .8]])
    lab = arr([0, -1, 1, -1], "int64")
    sws = {"no_sw": None, "sw_B": arr([1, 2, 3, 4]), "sw_scalar": arr(2.0), "sw_Bx1": arr([[1], [2], [3], [4]])}
    for red in REDUCTIONS:
        for swn, sw in sws.items():
            inputs = {"y_true": lab, "y_pred": out4}
            if sw is not None:
                inputs["sample_weight"] = sw
            add(f"ignore_minus1_partly_{red}_{swn}", fn, inputs, {"ignore_class": -1, "reduction": red})

    def all_ignored_zero(inputs, kwargs, outputs):
        return {"value": np.zeros_like(outputs["value"])}

    diff4 = "API.md 4: loss of an entirely ignored batch is 0 for auto/sum_over_batch_size (Keras: NaN)"
    for red in REDUCTIONS:
        for swn, sw in (("no_sw", None), ("sw_B", arr([1, 2]))):
            inputs = {"y_true": arr([-1, -1], "int64"), "y_pred": out4[:2]}
            if sw is not None:
                inputs["sample_weight"] = sw
            dev = red in ("auto", "sum_over_batch_size")
            add(f"ignore_minus1_all_{red}_{swn}", fn, inputs, {"ignore_class": -1, "reduction": red},
                deviation=diff4 if dev else None, documented=all_ignored_zero if dev else None)
    p3 = softmax(np.arange(24).reshape(2, 3, 4) / 7)
    l3 = arr([[0, -1, 2], [-1, 0, 1]], "int64")
    for red, swn, sw in (("auto", "no_sw", None), ("auto", "sw_B", arr([1, 3])), ("sum", "no_sw", None),
                         ("auto", "sw_BxT", arr([[1, 2, 0], [3, 1, 2]])), ("none", "sw_B", arr([1, 3])),
                         ("sum_over_batch_size", "sw_1xT", arr([[1, 2, 3]])),
                         ("auto", "sw_BxTx1", arr([[[1], [2], [0]], [[3], [1], [2]]]))):
        inputs = {"y_true": l3, "y_pred": arr(p3)}
        if sw is not None:
            inputs["sample_weight"] = sw
        add(f"rank3_ignore_minus1_{red}_{swn}", fn, inputs, {"ignore_class": -1, "reduction": red})
    add("rank3_labels_BxTx1_ignore_255_auto", fn, {"y_true": arr([[[0], [255], [2]], [[255], [0], [1]]], "int64"),
                                                   "y_pred": arr(p3)}, {"ignore_class": 255})
    for red in REDUCTIONS:
        dev = red in ("auto", "sum_over_batch_size")
        add(f"rank3_ignore_255_all_{red}_sw_B", fn, {"y_true": np.full((2, 3), 255, np.int64), "y_pred": arr(p3),
                                                     "sample_weight": arr([1, 3])},
            {"ignore_class": 255, "reduction": red},
            deviation=diff4 if dev else None, documented=all_ignored_zero if dev else None)
    add("labels_Bx1_auto", fn, {"y_true": arr([[1], [2]], "int64"), "y_pred": arr([[.05, .95, 0], [.1, .8, .1]])})
    add("labels_Bx1_ignore_auto_sw_B", fn, {"y_true": arr([[1], [-1], [2]], "int64"),
                                            "y_pred": arr([[.05, .95, 0], [.3, .3, .4], [.1, .8, .1]]),
                                            "sample_weight": arr([2, 1, 3])}, {"ignore_class": -1})
    add("from_logits_auto", fn, {"y_true": arr([2, 1, 1], "int64"),
                                 "y_pred": arr([[1, 2, 3], [100, 0, -100], [1e4, 0, -1e4]])}, {"from_logits": True})
    add("from_logits_ignore_sum", fn, {"y_true": arr([2, -1, 1], "int64"),
                                       "y_pred": arr([[1, 2, 3], [100, 0, -100], [1e4, 0, -1e4]])},
        {"from_logits": True, "ignore_class": -1, "reduction": "sum"})
    add("eps_boundaries_auto", fn, {"y_true": arr([0, 2], "int64"),
                                    "y_pred": arr([[EPS, ONE_M_EPS, 0], [0, ONE_M_EPS, EPS]])})
    for red in ("auto", "sum", "none"):
        add(f"empty_batch_ignore_{red}", fn, {"y_true": np.zeros((0,), np.int64), "y_pred": np.zeros((0, 3), np.float32)},
            {"ignore_class": -1, "reduction": red})
    add_dtypes("ignore_minus1_partly_auto", fn, {"y_true": lab, "y_pred": out4}, {"ignore_class": -1})
    add_dtypes("ignore_minus1_partly_sum_sw_B", fn, {"y_true": lab, "y_pred": out4, "sample_weight": arr([1, 2, 3, 4])},
               {"ignore_class": -1, "reduction": "sum"}, dtypes=("float16", "bfloat16"))
    lg = rng.normal(0, 2, (64, 10))
    l64 = rng.integers(0, 10, 64).astype(np.int64)
    l64_ign = np.where(rng.uniform(size=64) < 0.3, 255, l64).astype(np.int64)
    add("random_64x10_probs_auto", fn, {"y_true": l64, "y_pred": arr(softmax(lg))})
    add("random_64x10_logits_ignore_255_auto_sw_B", fn, {"y_true": l64_ign, "y_pred": arr(lg),
                                                         "sample_weight": arr(rng.uniform(size=64))},
        {"from_logits": True, "ignore_class": 255})
    add("random_64x10_probs_ignore_255_sum_f64", fn, {"y_true": l64_ign, "y_pred": arr(softmax(lg), "float64")},
        {"ignore_class": 255, "reduction": "sum"})


# --------------------------------------------------------------------------------------------
# Extreme logits (tracker issue 11): |x| ~ 1e4 with O(1) losses, every logits path.

ULP_1E4 = 2.0**-10  # float32 spacing in [8192, 16384): offsets that are multiples are exact

# Rows of four logits ~ +-1e4 whose softmax CE is O(1) for the label (except where noted), all
# exactly representable in float32, so Keras and jaxent see the same numbers.
EXTREME_ROWS = np.array(
    [
        [1e4, 1e4, 1e4, 1e4],  # ln 4
        [1e4, 1e4 - 0.5, 1e4 - 3, 1e4 - 1],
        [-1e4, -1e4 + 0.25, -1e4 + 1, -1e4 + 2],
        [1e4, -1e4, 0, 1e4 - 2],  # mixed signs
        [-5e3, -5e3 - 0.5, -5e3 + 0.75, -5e3 - 1],  # negative offset
        [1e4 + 0.5, 1e4 + 0.25, 1e4 + 0.125, 1e4 + 0.375],
        [1e4 + ULP_1E4, 1e4, 1e4 - ULP_1E4, 1e4 + 2 * ULP_1E4],  # one-ulp spread
        [3e4, 3e4 - 1, 3e4 + 1.5, 3e4 - 0.5],
    ]
)
EXTREME_LABELS = np.array([0, 0, 3, 3, 2, 1, 3, 1])
assert np.array_equal(EXTREME_ROWS.astype(np.float32).astype(np.float64), EXTREME_ROWS)


def extreme_random(rng, shape, centre=1e4, scale=3.0):
    """``centre + N(0, scale)`` rounded to float32 (the stored float32 values are what Keras sees)."""
    return arr(centre + rng.normal(0, scale, shape))


def smooth(onehot, ls):
    return onehot * (1 - ls) + ls / onehot.shape[-1]


def gen_extreme_logits():
    rng = np.random.default_rng(11)
    x = arr(EXTREME_ROWS)
    x64 = arr(EXTREME_ROWS, "float64")
    lab = EXTREME_LABELS.astype(np.int32)
    onehot = np.eye(4)[EXTREME_LABELS]
    rand = extreme_random(rng, (64, 10))
    rand_neg = extreme_random(rng, (64, 10), centre=-1e4)
    rand_lab = rng.integers(0, 10, 64).astype(np.int32)
    rand_onehot = np.eye(10)[rand_lab]
    two = arr([[1e4, 1e4], [1e4, 1e4 - 1], [-1e4 + 0.5, -1e4]])

    fn = "nn.sparse_softmax_cross_entropy_with_logits"
    add("extreme_rows_1e4", fn, {"labels": lab, "logits": x})
    add("extreme_rows_1e4_f64", fn, {"labels": lab, "logits": x64})
    add("extreme_two_class_1e4", fn, {"labels": arr([0, 1, 1], "int32"), "logits": two}, note="[1e4, 1e4] -> ln 2")
    add("extreme_rows_1e4_rank3", fn, {"labels": lab.reshape(2, 4), "logits": x.reshape(2, 4, 4)})
    add("random_64x10_1e4_plus_normal3", fn, {"labels": rand_lab, "logits": rand})
    add("random_64x10_minus_1e4_plus_normal3", fn, {"labels": rand_lab, "logits": rand_neg})

    fn = "nn.softmax_cross_entropy_with_logits"
    add("extreme_rows_1e4_onehot", fn, {"labels": arr(onehot), "logits": x})
    add("extreme_rows_1e4_onehot_f64", fn, {"labels": arr(onehot, "float64"), "logits": x64})
    add("extreme_rows_1e4_smoothed_0.1", fn, {"labels": arr(smooth(onehot, 0.1)), "logits": x})
    add("extreme_rows_1e4_axis0", fn, {"labels": arr(onehot.T), "logits": arr(EXTREME_ROWS.T)}, {"axis": 0})
    add("extreme_rows_1e4_rank3_axis1", fn,
        {"labels": arr(onehot.reshape(2, 4, 4).transpose(0, 2, 1)),
         "logits": arr(EXTREME_ROWS.reshape(2, 4, 4).transpose(0, 2, 1))},
        {"axis": 1})
    add("random_64x10_1e4_plus_normal3_onehot", fn, {"labels": arr(rand_onehot), "logits": rand})
    add("random_64x10_minus_1e4_plus_normal3_smoothed_0.2", fn, {"labels": arr(smooth(rand_onehot, 0.2)), "logits": rand_neg})

    # Sigmoid CE at |x| ~ 1e4 is O(1) only for labels within ~1e-4 of 0 (x < 0) or 1 (x > 0).
    # "exact products": every x * z is exact in float32, so TF's max(x,0) - x*z + log1p(..) is
    # exact too. "rounded products": x * z (x > 0, z near 1) needs more bits than float32 has;
    # TF rounds it before subtracting (an error up to ulp(x)/2 ~ 5e-4), a fused multiply-add
    # would not: these cases pin what TF's unfused formula gives.
    sig_x = arr([1e4, -1e4, -1e4 - 0.25, 1e4, -1e4, 12288, -3e4, 1e4, 1e4, -1e4])
    sig_z = arr([1 - 2**-13, 2**-13, 2**-12, 1, 0, 1 - 2**-12, 2**-15, 1 - 2**-14, 1 - 3 * 2**-14, 3 * 2**-14])
    assert np.array_equal((sig_x * sig_z).astype(np.float64), sig_x.astype(np.float64) * sig_z)
    sig_rx = arr([3e4, 1e4 + 0.5, 1e4 + 0.125, 2e4 + 0.5])
    sig_rz = arr([1 - 2**-15, 1 - 2**-14, 1 - 2**-13, 1 - 2**-14])
    assert not np.any((sig_rx * sig_rz).astype(np.float64) == sig_rx.astype(np.float64) * sig_rz)
    sign = np.where(rng.uniform(size=(64, 10)) < 0.5, -1.0, 1.0)
    sig_rand = arr(sign * (1e4 + rng.normal(0, 3, (64, 10))))
    sig_rand_z = arr(np.where(sign > 0, 1 - rng.integers(0, 16, (64, 10)) * 2**-14, rng.integers(0, 16, (64, 10)) * 2**-14))
    rounded = {"deviation": SIGMOID_ROUNDING, "documented": exact_sigmoid_ce}
    fn = "nn.sigmoid_cross_entropy_with_logits"
    add("extreme_1e4_exact_products", fn, {"labels": sig_z, "logits": sig_x})
    add("extreme_1e4_exact_products_f64", fn, {"labels": arr(sig_z, "float64"), "logits": arr(sig_x, "float64")})
    add("extreme_1e4_rounded_products", fn, {"labels": sig_rz, "logits": sig_rx},
        note="TF rounds x*z to float32 before subtracting it from x: up to ulp(x)/2 from the exact loss", **rounded)
    add("random_64x10_pm_1e4", fn, {"labels": sig_rand_z, "logits": sig_rand}, **rounded)

    fn = "backend.categorical_crossentropy"
    add("from_logits_extreme_rows_1e4", fn, {"target": arr(onehot), "output": x}, {"from_logits": True})
    add("from_logits_extreme_rows_1e4_axis0", fn, {"target": arr(onehot.T), "output": arr(EXTREME_ROWS.T)},
        {"from_logits": True, "axis": 0})
    add("from_logits_random_64x10_1e4", fn, {"target": arr(rand_onehot), "output": rand}, {"from_logits": True})
    fn = "backend.sparse_categorical_crossentropy"
    lab64 = EXTREME_LABELS.astype(np.int64)
    add("from_logits_extreme_rows_1e4", fn, {"target": lab64, "output": x}, {"from_logits": True})
    add("from_logits_extreme_rows_1e4_ignore_minus1", fn,
        {"target": np.where(np.arange(8) % 3 == 1, -1, lab64).astype(np.int64), "output": x},
        {"from_logits": True, "ignore_class": -1})
    add("from_logits_extreme_rows_1e4_ignore_valid_3", fn, {"target": lab64, "output": x},
        {"from_logits": True, "ignore_class": 3})
    rand_lab_ign = np.where(rng.uniform(size=64) < 0.3, 255, rand_lab).astype(np.int64)
    add("from_logits_random_64x10_1e4_ignore_255", fn, {"target": rand_lab_ign, "output": rand},
        {"from_logits": True, "ignore_class": 255})
    add("from_logits_random_64x10_minus_1e4", fn, {"target": rand_lab.astype(np.int64), "output": rand_neg},
        {"from_logits": True})
    fn = "backend.binary_crossentropy"
    add("from_logits_extreme_1e4_exact_products", fn, {"target": sig_z, "output": sig_x}, {"from_logits": True})
    add("from_logits_extreme_1e4_rounded_products", fn, {"target": sig_rz, "output": sig_rx}, {"from_logits": True},
        **rounded)
    add("from_logits_random_64x10_pm_1e4", fn, {"target": sig_rand_z, "output": sig_rand}, {"from_logits": True},
        **rounded)

    fn = "losses.categorical_crossentropy"
    for ls in (0.0, 0.1):
        add(f"from_logits_extreme_rows_1e4_ls{ls}", fn, {"y_true": arr(onehot), "y_pred": x},
            {"from_logits": True, "label_smoothing": ls})
        add(f"from_logits_random_64x10_1e4_ls{ls}", fn, {"y_true": arr(rand_onehot), "y_pred": rand},
            {"from_logits": True, "label_smoothing": ls})
    add("from_logits_extreme_rows_1e4_axis0_ls0.1", fn, {"y_true": arr(onehot.T), "y_pred": arr(EXTREME_ROWS.T)},
        {"from_logits": True, "label_smoothing": 0.1, "axis": 0})
    add("from_logits_extreme_rows_1e4_f64_ls0.1", fn, {"y_true": arr(onehot, "float64"), "y_pred": x64},
        {"from_logits": True, "label_smoothing": 0.1})
    fn = "losses.sparse_categorical_crossentropy"
    add("from_logits_extreme_rows_1e4", fn, {"y_true": lab64, "y_pred": x}, {"from_logits": True})
    add("from_logits_extreme_rows_1e4_ignore_minus1", fn,
        {"y_true": np.where(np.arange(8) % 3 == 1, -1, lab64).astype(np.int64), "y_pred": x},
        {"from_logits": True, "ignore_class": -1})
    add("from_logits_random_64x10_1e4", fn, {"y_true": rand_lab.astype(np.int64), "y_pred": rand}, {"from_logits": True})
    fn = "losses.binary_crossentropy"
    add("from_logits_extreme_1e4_exact_products", fn, {"y_true": sig_z.reshape(2, 5), "y_pred": sig_x.reshape(2, 5)},
        {"from_logits": True})
    add("from_logits_extreme_1e4_rounded_products", fn, {"y_true": sig_rz.reshape(2, 2), "y_pred": sig_rx.reshape(2, 2)},
        {"from_logits": True}, **rounded)
    add("from_logits_random_64x10_pm_1e4", fn, {"y_true": sig_rand_z, "y_pred": sig_rand}, {"from_logits": True}, **rounded)

    sw8 = arr([1, 0.5, 2, 0, 1, 3, 0.25, 1])
    fn = "losses.CategoricalCrossentropy"
    for red in ("auto", "sum", "none"):
        add(f"from_logits_extreme_rows_1e4_{red}", fn, {"y_true": arr(onehot), "y_pred": x},
            {"from_logits": True, "reduction": red})
    add("from_logits_extreme_rows_1e4_auto_sw_B", fn, {"y_true": arr(onehot), "y_pred": x, "sample_weight": sw8},
        {"from_logits": True})
    add("from_logits_extreme_rows_1e4_ls0.1_sum_sw_B", fn, {"y_true": arr(onehot), "y_pred": x, "sample_weight": sw8},
        {"from_logits": True, "label_smoothing": 0.1, "reduction": "sum"})
    add("from_logits_random_64x10_1e4_auto", fn, {"y_true": arr(rand_onehot), "y_pred": rand}, {"from_logits": True})
    fn = "losses.SparseCategoricalCrossentropy"
    for red in ("auto", "sum", "none"):
        add(f"from_logits_extreme_rows_1e4_{red}", fn, {"y_true": lab64, "y_pred": x},
            {"from_logits": True, "reduction": red})
    add("from_logits_extreme_rows_1e4_auto_sw_B", fn, {"y_true": lab64, "y_pred": x, "sample_weight": sw8},
        {"from_logits": True})
    add("from_logits_extreme_rows_1e4_ignore_minus1_auto_sw_B", fn,
        {"y_true": np.where(np.arange(8) % 3 == 1, -1, lab64).astype(np.int64), "y_pred": x, "sample_weight": sw8},
        {"from_logits": True, "ignore_class": -1})
    add("from_logits_random_64x10_1e4_ignore_255_sum", fn, {"y_true": rand_lab_ign, "y_pred": rand},
        {"from_logits": True, "ignore_class": 255, "reduction": "sum"})
    fn = "losses.BinaryCrossentropy"
    for red in ("auto", "sum", "none"):
        add(f"from_logits_extreme_1e4_exact_products_{red}", fn,
            {"y_true": sig_z.reshape(2, 5), "y_pred": sig_x.reshape(2, 5)},
            {"from_logits": True, "reduction": red})
    add("from_logits_extreme_1e4_exact_products_auto_sw_B", fn, {"y_true": sig_z.reshape(5, 2), "y_pred": sig_x.reshape(5, 2),
                                                  "sample_weight": arr([1, 0.5, 2, 0, 3])}, {"from_logits": True})
    add("from_logits_random_64x10_pm_1e4_auto", fn, {"y_true": sig_rand_z, "y_pred": sig_rand}, {"from_logits": True})


# --------------------------------------------------------------------------------------------
# nn.linear_sparse_softmax_cross_entropy (jaxent's fused loss; no Keras namesake). The
# reference is TF's CE of tf.matmul(features, kernel) + bias (fused_reference), on inputs
# chosen so that the matmul is exact in float32: small-integer features and kernel entries on
# a 1/4 grid, so every product and partial sum is a multiple of 1/4 below 2**16.


def fused_float64_reference(inputs, kwargs):
    """Exact float64 value and gradients of the fused loss (documentation of TF's rounding)."""
    f = inputs["features"].astype(np.float64).reshape(-1, inputs["features"].shape[-1])
    k = inputs["kernel"].astype(np.float64)
    if kwargs.get("kernel_layout") == "vd":
        k = k.T
    logits = f @ k + (0 if "bias" not in inputs else inputs["bias"].astype(np.float64))
    labels = inputs["labels"].reshape(-1)
    ignore, ls = kwargs.get("ignore_class"), kwargs.get("label_smoothing", 0.0)
    valid = np.ones(labels.shape, bool) if ignore is None else labels != ignore
    target = np.eye(logits.shape[1])[np.where(valid, labels, 0)] * (1 - ls) + ls / logits.shape[1]
    m = logits.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(1))
    value = np.where(valid, (target * (lse[:, None] - logits)).sum(1), 0.0)
    g = np.where(valid[:, None], np.exp(logits - lse[:, None]) - target, 0.0)
    grads = {"features": g @ k.T, "kernel": f.T @ g, "bias": g.sum(0)}
    if kwargs.get("kernel_layout") == "vd":
        grads["kernel"] = grads["kernel"].T
    return value, grads


def add_fused(name, inputs, kwargs=None):
    """Check that the logits are exact in float32 (also through tf.matmul), then add the case.

    ``meta["tf_max_abs_error_vs_float64"]``: TF's distance from the exact float64 outputs.
    """
    kwargs = dict(kwargs or {})
    fn = "nn.linear_sparse_softmax_cross_entropy"
    f = inputs["features"].astype(np.float64).reshape(-1, inputs["features"].shape[-1])
    k = inputs["kernel"].astype(np.float64)
    logits64 = f @ (k.T if kwargs.get("kernel_layout") == "vd" else k)
    if "bias" in inputs:
        logits64 = logits64 + inputs["bias"]
    assert np.array_equal(logits64.astype(np.float32).astype(np.float64), logits64), f"{name}: logits not exact in f32"
    flat = inputs["features"].reshape(-1, f.shape[1])
    tf_logits = tf.matmul(flat, inputs["kernel"], transpose_b=kwargs.get("kernel_layout") == "vd").numpy()
    if "bias" in inputs:
        tf_logits = tf_logits + inputs["bias"]
    assert np.array_equal(tf_logits.astype(np.float64), logits64), f"{name}: tf.matmul is not exact"
    value64, grads64 = fused_float64_reference(inputs, kwargs)
    before = len(CASES)
    add(name, fn, inputs, kwargs,
        note="reference: TF CE of tf.matmul(features, kernel) + bias; the logits are exact in float32")
    case = CASES[before]
    exact = {"value": value64, **{f"grad_{key}": g for key, g in grads64.items()}}
    errors = {
        key: float(np.max(np.abs(case["outputs"][key] - exact[key].reshape(case["outputs"][key].shape)), initial=0.0))
        for key in exact
        if key in case["outputs"]
    }
    case["meta"]["tf_max_abs_error_vs_float64"] = errors
    case["meta"]["max_abs_logit"] = float(np.max(np.abs(logits64)))


def gen_fused():
    rng = np.random.default_rng(12)
    # One-hot features pick a kernel row: the logits are EXTREME_ROWS, exactly.
    add_fused("onehot_features_extreme_rows_1e4", {"features": arr(np.eye(8)), "kernel": arr(EXTREME_ROWS),
                                                   "labels": EXTREME_LABELS.astype(np.int32)})
    # Small-integer features (rows summing to >= 4) on a kernel 2500 + k/4: logits ~ 1e4..3e4
    # with an O(1)-O(10) spread.
    n, d, v = 32, 6, 12
    feats = rng.integers(0, 3, (n, d))
    feats[:, 0] = np.maximum(0, 4 - feats[:, 1:].sum(1))
    feats = arr(feats)
    kernel = arr(2500 + rng.integers(-4, 5, (d, v)) / 4)
    labels = rng.integers(0, v, n).astype(np.int32)
    bias = arr(rng.integers(-6, 7, v) / 4)
    add_fused("small_int_features_kernel_2500", {"features": feats, "kernel": kernel, "labels": labels})
    add_fused("small_int_features_kernel_2500_bias", {"features": feats, "kernel": kernel, "labels": labels, "bias": bias})
    ignored = np.where(np.arange(n) % 4 == 1, -100, labels).astype(np.int32)
    add_fused("small_int_features_kernel_2500_bias_ignore_minus100",
              {"features": feats, "kernel": kernel, "labels": ignored, "bias": bias}, {"ignore_class": -100})
    add_fused("small_int_features_kernel_2500_ignore_valid_0", {"features": feats, "kernel": kernel, "labels": labels},
              {"ignore_class": 0})
    add_fused("small_int_features_kernel_2500_ls0.1", {"features": feats, "kernel": kernel, "labels": labels},
              {"label_smoothing": 0.1})
    add_fused("small_int_features_kernel_2500_bias_ignore_minus100_ls0.1",
              {"features": feats, "kernel": kernel, "labels": ignored, "bias": bias},
              {"ignore_class": -100, "label_smoothing": 0.1})
    add_fused("small_int_features_kernel_2500_vd", {"features": feats, "kernel": arr(kernel.T), "labels": labels},
              {"kernel_layout": "vd"})
    add_fused("rank3_features_kernel_2500", {"features": feats.reshape(4, 8, d), "kernel": kernel,
                                            "labels": labels.reshape(4, 8)})
    # Negative logits ~ -1e4 and a bias that carries the magnitude (features 0 -> logits = bias).
    feats = arr(rng.integers(0, 2, (16, 4)))
    kernel = arr(-2500 + rng.integers(-8, 9, (4, 10)) / 4)
    bias = arr(-1e4 + rng.integers(-12, 13, 10) / 4)
    add_fused("binary_features_negative_kernel_bias_minus_1e4",
              {"features": feats, "kernel": kernel, "labels": rng.integers(0, 10, 16).astype(np.int32), "bias": bias})


# --------------------------------------------------------------------------------------------
# Python floats against float64 tensors (tracker issue 11; see probe_float64.py). Keras turns
# a Python float (or list of them) given as sample_weight / y_true / threshold into a float32
# tensor before casting it to float64; label_smoothing and epsilon stay exact. Values are
# chosen where float32 rounding shows (0.7, 0.1, 1/3).

PY_LOSS_CLASSES = [
    ("CategoricalCrossentropy", {}, "cce"),
    ("CategoricalCrossentropy", {"from_logits": True}, "cce_logits"),
    ("SparseCategoricalCrossentropy", {}, "scce"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "scce_ignore"),
    ("BinaryCrossentropy", {}, "bce"),
    ("BinaryCrossentropy", {"from_logits": True}, "bce_logits"),
    ("MeanSquaredError", {}, "mse"),
    ("MeanAbsoluteError", {}, "mae"),
]


def py_loss_data(tag):
    """(y_true, y_pred) float64 data for a Loss class of PY_LOSS_CLASSES, batch 3."""
    probs = arr([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], "float64")
    logits = arr([[1, 2, 3], [100, 0, -100], [0.5, -1, 2]], "float64")
    onehot = arr([[0, 1, 0], [0, 0, 1], [1, 0, 0]], "float64")
    return {
        "cce": (onehot, probs),
        "cce_logits": (onehot, logits),
        "scce": (arr([1, 2, 0], "int64"), probs),
        "scce_ignore": (arr([1, 2, 0], "int64"), probs),
        "bce": (arr([[0, 1], [0, 0], [1, 1]], "float64"), arr([[0.6, 0.4], [0.4, 0.6], [0.7, 0.2]], "float64")),
        "bce_logits": (arr([[0, 1], [0, 0], [1, 1]], "float64"), arr([[1.5, -0.5], [20, 0.25], [-3, 7]], "float64")),
        "mse": (arr([[0, 1], [0, 0], [1, 1]], "float64"), arr([[0.6, 0.4], [0.4, 0.6], [0.7, 0.2]], "float64")),
        "mae": (arr([[0, 1], [0, 0], [1, 1]], "float64"), arr([[0.6, 0.4], [0.4, 0.6], [0.7, 0.2]], "float64")),
    }[tag]


def py(value):
    """A Python float / list as the float64 array that stores it exactly."""
    return np.asarray(value, np.float64)


def gen_python_scalars():
    note = "Keras: a Python float becomes float32 before the cast to float64 (f64(f32(x)))"
    for cls, opts, tag in PY_LOSS_CLASSES:
        fn = f"losses.{cls}"
        y_true, y_pred = py_loss_data(tag)
        pre = "".join(f"{k}_{v}_".replace("from_logits_True", "from_logits") for k, v in opts.items())
        for red in REDUCTIONS:
            add(f"{pre}python_float_sw_0.7_{red}_float64", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": py(0.7)},
                {**opts, "reduction": red}, python_scalars=("sample_weight",), note=note)
        add(f"{pre}python_list_sw_auto_float64", fn,
            {"y_true": y_true, "y_pred": y_pred, "sample_weight": py([0.7, 0.1, 1 / 3])},
            {**opts}, python_scalars=("sample_weight",), note=note)
        add(f"{pre}python_float_sw_1_3_sum_float64", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": py(1 / 3)},
            {**opts, "reduction": "sum"}, python_scalars=("sample_weight",), note=note)
    for cls, opts, tag in (PY_LOSS_CLASSES[6], PY_LOSS_CLASSES[4], PY_LOSS_CLASSES[3]):
        fn = f"losses.{cls}"
        y_true, y_pred = py_loss_data(tag)
        add("numpy_float64_sw_0.7_auto_float64", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": py(0.7)},
            {**opts}, numpy_scalars=("sample_weight",), note="np.float64 scalar: exact (TF infers float64)")
        add("numpy_float64_list_sw_sum_float64", fn,
            {"y_true": y_true, "y_pred": y_pred, "sample_weight": py([0.7, 0.1, 1 / 3])},
            {**opts, "reduction": "sum"}, numpy_scalars=("sample_weight",), note="list of np.float64: exact")

    # y_true as Python lists / floats with float64 y_pred. Categorical rows use 0.7/0.3, whose
    # float32 roundings still sum to exactly 1 (so TF's softmax-CE kernel gradient is the true one).
    yt_reg = [[0.7, 0.1, 0.2], [1 / 3, 0.1, 0.7]]
    yt_cat = [[0.7, 0.3, 0.0], [0.0, 0.3, 0.7]]
    yp = arr([[0.5, 0.25, 0.25], [0.2, 0.3, 0.5]], "float64")
    lg = arr([[1, 2, 3], [0.5, -1, 2]], "float64")
    for fn, y_true, y_pred, opts in (
        ("losses.mean_squared_error", yt_reg, yp, {}),
        ("losses.mean_absolute_error", yt_reg, yp, {}),
        ("losses.binary_crossentropy", yt_reg, yp, {}),
        ("losses.binary_crossentropy", yt_reg, lg, {"from_logits": True}),
        ("losses.categorical_crossentropy", yt_cat, yp, {}),
        ("losses.categorical_crossentropy", yt_cat, lg, {"from_logits": True}),
        ("losses.MeanSquaredError", yt_reg, yp, {}),
        ("losses.BinaryCrossentropy", yt_reg, yp, {"reduction": "sum"}),
        ("losses.CategoricalCrossentropy", yt_cat, yp, {}),
    ):
        tag = "_from_logits" if opts.get("from_logits") else ""
        add(f"python_list_y_true{tag}_float64", fn, {"y_true": py(y_true), "y_pred": y_pred}, opts,
            python_scalars=("y_true",), note=note)
    add("python_list_labels_float64", "nn.softmax_cross_entropy_with_logits", {"labels": py(yt_cat), "logits": lg},
        python_scalars=("labels",), note=note)
    add("python_float_y_true_0.7_float64", "losses.mean_squared_error", {"y_true": py(0.7), "y_pred": yp},
        python_scalars=("y_true",), note=note)
    add("python_float_y_true_0.7_float64", "losses.MeanSquaredError", {"y_true": py(0.7), "y_pred": yp},
        python_scalars=("y_true",), note=note)
    add("python_float_y_true_0.7_python_float_sw_0.1_sum_float64", "losses.MeanAbsoluteError",
        {"y_true": py(0.7), "y_pred": yp, "sample_weight": py(0.1)}, {"reduction": "sum"},
        python_scalars=("sample_weight", "y_true"), note=note)

    # label_smoothing is exact in float64 (convert_to_tensor(ls, dtype=y_pred.dtype)).
    ex = "label_smoothing is exact in float64 (no float32 rounding)"
    onehot = arr([[0, 1, 0], [0, 0, 1]], "float64")
    probs = arr([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], "float64")
    logits = arr([[1, 2, 3], [100, 0, -100]], "float64")
    for ls in (0.1, 1 / 3):
        t = f"{ls:.4g}"
        add(f"ls{t}_float64_exact", "losses.categorical_crossentropy", {"y_true": onehot, "y_pred": probs},
            {"label_smoothing": ls}, note=ex)
        add(f"from_logits_ls{t}_float64_exact", "losses.categorical_crossentropy", {"y_true": onehot, "y_pred": logits},
            {"label_smoothing": ls, "from_logits": True}, note=ex)
        add(f"ls{t}_float64_exact", "losses.binary_crossentropy",
            {"y_true": arr([[0, 1], [0, 0]], "float64"), "y_pred": arr([[0.6, 0.4], [0.4, 0.6]], "float64")},
            {"label_smoothing": ls}, note=ex)
        add(f"ls{t}_auto_float64_exact", "losses.CategoricalCrossentropy", {"y_true": onehot, "y_pred": probs},
            {"label_smoothing": ls}, note=ex)
        add(f"from_logits_ls{t}_sum_float64_exact", "losses.BinaryCrossentropy",
            {"y_true": arr([[0, 1], [0, 0]], "float64"), "y_pred": arr([[1.5, -0.5], [20, 0.25]], "float64")},
            {"label_smoothing": ls, "from_logits": True, "reduction": "sum"}, note=ex)

    # epsilon is exact 1e-7 in float64 (clip bounds and BCE's +eps).
    add("eps_float64_exact", "backend.binary_crossentropy",
        {"target": arr([1, 0, 1, 0, 1], "float64"), "output": arr([0, 1, 1e-7, 1 - 1e-7, 2e-7], "float64")},
        note="float64: eps = 1e-7 exactly: t=1,p=0 -> 15.424948470398375")
    add("eps_float64_exact", "backend.categorical_crossentropy",
        {"target": arr([[1, 0], [0, 1]], "float64"), "output": arr([[0, 1], [1e-7, 1 - 1e-7]], "float64")})

    # metrics.binary_accuracy: threshold Python float -> f64(f32(t)) against float64 y_pred.
    fn = "metrics.binary_accuracy"
    flips = {
        0.7: [0.7, 0.6999999999, 0.7000000001, 0.69999998],
        0.1: [0.1, 0.1000000005, 0.1000000016, 0.0999999],
        1 / 3: [1 / 3, 0.33333334, 0.3333333433, 0.3333],
    }
    for thr, preds in flips.items():
        t = f"{thr:.4g}"
        y_true = arr([[1, 1, 1, 1], [0, 0, 0, 0]], "float64")
        y_pred = arr([preds, preds], "float64")
        add(f"python_float_threshold_{t}_float64", fn, {"y_true": y_true, "y_pred": y_pred}, {"threshold": thr},
            python_scalars=("threshold",),
            note=f"threshold f64(f32({t})) = {float(np.float32(thr))!r}: predictions between it and {t} flip")
        add(f"numpy_float64_threshold_{t}_float64", fn, {"y_true": y_true, "y_pred": y_pred}, {"threshold": thr},
            numpy_scalars=("threshold",), note="np.float64 threshold: exact")
    add("python_float_threshold_0.7_float32", fn, {"y_true": arr([[1, 1, 0]]), "y_pred": arr([[0.7, 0.70000005, 0.7]])},
        {"threshold": 0.7}, python_scalars=("threshold",))


# --------------------------------------------------------------------------------------------
# Tracker issue 12: the argmax and top-k accuracy functions. tf.argmax takes the first maximum
# and never a NaN; tf.math.in_top_k counts ties at the boundary as in and gives False for a row
# with a non-finite score or an out-of-range label; [B, 1] labels keep their trailing 1.


def gen_class_accuracy():
    r = np.random.default_rng(1213)
    nan, inf = np.nan, np.inf
    scores = arr([[0.4, 0.4, 0.1, 0.1], [0.1, 0.3, 0.3, 0.3], [0.2, nan, 0.5, 0.3], [inf, 0.2, 0.5, 0.3],
                  [nan, nan, nan, nan], [0.25, 0.25, 0.25, 0.25], [-1.0, 2.0, 0.5, 2.0], [0.7, 0.1, 0.1, 0.1]])
    onehot = arr(np.eye(4)[[1, 2, 2, 0, 0, 3, 3, 0]])
    onehot[0] = [0.5, 0.5, 0, 0]  # a tie in y_true: the first maximum is the label
    sparse = np.array([1, 2, 2, 0, 0, 3, 3, 0], np.int64)
    rand = arr(r.dirichlet(np.ones(6), (5, 3)))
    rand_sparse = r.integers(0, 6, (5, 3)).astype(np.int64)

    fn = "metrics.categorical_accuracy"
    add("ties_nan_inf", fn, {"y_true": onehot, "y_pred": scores})
    add("rank3", fn, {"y_true": arr(np.eye(6)[rand_sparse]), "y_pred": rand})
    add("float64", fn, {"y_true": arr(onehot, "float64"), "y_pred": arr(scores, "float64")})
    fn = "metrics.sparse_categorical_accuracy"
    add("ties_nan_inf", fn, {"y_true": sparse, "y_pred": scores})
    add("labels_Bx1", fn, {"y_true": sparse[:, None], "y_pred": scores})
    add("float_labels", fn, {"y_true": arr([1, 2, 2.5, 0, 0, 3, 3, 1.0]), "y_pred": scores})
    add("rank3", fn, {"y_true": rand_sparse, "y_pred": rand})
    add("rank3_labels_BxTx1", fn, {"y_true": rand_sparse[..., None], "y_pred": rand})
    add("float64", fn, {"y_true": sparse, "y_pred": arr(scores, "float64")})
    for k in (1, 2, 3, 5):
        add(f"k{k}_ties_nan_inf", "metrics.top_k_categorical_accuracy", {"y_true": onehot, "y_pred": scores}, {"k": k})
        add(f"k{k}_ties_nan_inf", "metrics.sparse_top_k_categorical_accuracy",
            {"y_true": np.array([1, 2, 2, 0, -1, 3, 4, 0], np.int64), "y_pred": scores}, {"k": k})
    add("k2_rank3", "metrics.top_k_categorical_accuracy", {"y_true": arr(np.eye(6)[rand_sparse]), "y_pred": rand},
        {"k": 2})
    fn = "metrics.sparse_top_k_categorical_accuracy"
    add("k2_labels_Bx1", fn, {"y_true": sparse[:, None], "y_pred": scores}, {"k": 2})
    add("k2_float_labels_truncate", fn, {"y_true": arr([1.9, 2.2, 2.5, 0.4, 0, 3, 3.7, 1.0]), "y_pred": scores},
        {"k": 2})
    add("k2_rank3", fn, {"y_true": rand_sparse, "y_pred": rand}, {"k": 2})


def main():
    gen_to_categorical()
    gen_nn()
    gen_backend()
    gen_loss_functions()
    gen_loss_classes()
    gen_extreme_logits()
    gen_fused()
    gen_python_scalars()
    gen_class_accuracy()
    save_cases(OUT, CASES)
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case["fn"]] = counts.get(case["fn"], 0) + 1
    for fn, n in counts.items():
        print(f"{n:4d}  {fn}")
    print(f"{len(CASES)} cases -> {OUT.name}")


if __name__ == "__main__":
    main()
