"""Generate ``tests/golden/losses_more.npz``: tf-keras 2.21 golden vectors for the other losses.

What it records
---------------
Values and gradients (w.r.t. ``y_pred``) of tf-keras 2.21 for ``hinge``, ``squared_hinge``,
``categorical_hinge``, ``huber``, ``log_cosh``, ``kl_divergence``, ``poisson``,
``cosine_similarity``, ``mean_squared_logarithmic_error``, ``mean_absolute_percentage_error``,
``categorical_focal_crossentropy``, ``binary_focal_crossentropy`` (functions and aliases) and
their Loss classes, on easy cases and the edges of each formula: ``{0, 1}`` against ``{-1, 1}``
hinge labels and margins exactly 0, ties in the categorical hinge's maximum, ``|error| == delta``
and error 0 in Huber, large and tiny ``|x|`` in log-cosh (TF's softplus thresholds), zeros,
values above 1 and the ``1e-7`` bound in KLD, ``y_pred = 0`` in Poisson, zero vectors and
other axes in the cosine, negatives and ``1e-7`` in MSLE, exact matches and ``y_true = 0`` in
MAPE, probabilities exactly 0 and 1, unnormalised rows, ``apply_class_balancing``, per-class
``alpha``, ``gamma`` 0 and non-integer, ``label_smoothing`` and ``from_logits`` both ways in the
focal losses; ranks 1-3, ``axis``, every reduction, ``sample_weight`` (per sample, with zeros,
scalar, per timestep), float64 and float16/bfloat16.

Also the tf-keras ``get_config()`` / ``serialize`` dict of every class (``fn == "config"``
cases, in ``meta``) and what ``keras.losses.get`` returns for every name and alias
(the ``identifiers`` case).

Conventions are those of ``generate_losses.py`` (whose ``add`` this script reuses): 16-bit
cases store Keras run in float32 on the 16-bit-rounded inputs, cast back (API.md difference
2), except Huber, whose result Keras computes in float32 and returns as float32 for every
input dtype: there the stored value is Keras's own.

How to run it (not in CI; needs TensorFlow)::

    /path/to/tf-venv/bin/python tests/golden/generate_losses_more.py    # from the repository root
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate_losses as g  # noqa: E402
from goldenio import save_cases  # noqa: E402
from tfkeras import keras  # noqa: E402

OUT = Path(__file__).resolve().parent / "losses_more.npz"
arr = g.arr

FUNCTIONS = ("hinge", "squared_hinge", "categorical_hinge", "huber", "log_cosh", "kl_divergence", "poisson",
             "cosine_similarity", "mean_squared_logarithmic_error", "mean_absolute_percentage_error",
             "categorical_focal_crossentropy", "binary_focal_crossentropy")
ALIASES = {"logcosh": "log_cosh", "kld": "kl_divergence", "KLD": "kl_divergence",
           "kullback_leibler_divergence": "kl_divergence", "msle": "mean_squared_logarithmic_error",
           "MSLE": "mean_squared_logarithmic_error", "mape": "mean_absolute_percentage_error",
           "MAPE": "mean_absolute_percentage_error"}
CLASSES = ("Hinge", "SquaredHinge", "CategoricalHinge", "Huber", "LogCosh", "KLDivergence", "Poisson",
           "CosineSimilarity", "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError",
           "CategoricalFocalCrossentropy", "BinaryFocalCrossentropy")
CLASS_OF = dict(zip(FUNCTIONS, CLASSES))

for _name in (*FUNCTIONS, *ALIASES):
    g.KERAS[f"losses.{_name}"] = getattr(keras.losses, _name)
for _cls in CLASSES:
    g.KERAS[f"losses.{_cls}"] = g._class_call(_cls)

FLOATX = {"losses.huber", "losses.Huber"}  # Keras computes in float32 and returns float32


def add(name, fn, inputs, kwargs=None, **kw):
    g.add(name, fn, inputs, kwargs, **kw)
    case = g.CASES[-1]
    dtype = g.dtype_name(next(np.asarray(v) for k, v in inputs.items() if k == "y_pred"))
    if fn.rpartition(".")[2] in CLASSES and dtype not in g.SIXTEEN:
        # The size of the terms a reduced loss sums (its weighted per-sample losses): a sum of
        # terms of both signs (the cosine) is off by a few ulps of them, not of the result.
        terms = g.run_keras(fn, {k: np.asarray(v) for k, v in inputs.items()},
                            {**(kwargs or {}), "reduction": "none"}, ())["value"]
        case["meta"]["terms_scale"] = float(np.max(np.abs(terms), initial=0.0))
    if fn in FLOATX and dtype in g.SIXTEEN:
        # Keras itself computes Huber in float32 (it casts the 16-bit inputs): its own value is
        # the reference, float32; the gradients come back in the inputs' 16-bit dtype.
        native = g.run_keras(fn, {k: np.asarray(v) for k, v in inputs.items()}, dict(kwargs or {}), ())
        case["outputs"]["value"] = native["value"]
        case["meta"]["result_dtype"] = "float32"
        case["meta"]["reference"] = "Keras's own value (computed in float32 from the 16-bit inputs)"
        case["meta"].pop("keras_native_value", None)


def add_dtypes(name, fn, inputs, kwargs=None, dtypes=("float16", "float64")):
    for dt in dtypes:
        cast = {}
        for k, v in inputs.items():
            v = np.asarray(v)
            if v.dtype == np.float32 and dt == "float64":
                v = np.array([float(str(x)) for x in v.ravel()], np.float64).reshape(v.shape)
            cast[k] = arr(v, dt) if v.dtype.kind == "f" else v
        add(f"{name}_{dt}", fn, cast, kwargs)


R = np.random.default_rng(2021)
Y2, P2 = arr([[0, 1], [0, 0]]), arr([[0.6, 0.4], [0.4, 0.6]])
REG_T, REG_P = arr(R.normal(size=(16, 6))), arr(R.normal(size=(16, 6)))
POS_T, POS_P = arr(R.poisson(2.0, size=(16, 6))), arr(R.gamma(2.0, size=(16, 6)))
DIR_T, DIR_P = arr(R.dirichlet(np.ones(5), 12)), arr(R.dirichlet(np.ones(5), 12))
ONEHOT = arr(np.eye(5)[R.integers(0, 5, 12)])
BITS = arr(R.integers(0, 2, (12, 5)))
PROBS = arr(R.uniform(size=(12, 5)))
LOGITS = arr(R.normal(scale=3.0, size=(12, 5)))
RANK3_T, RANK3_P = arr(R.normal(size=(3, 4, 5))), arr(R.normal(size=(3, 4, 5)))


def gen_hinge():
    signed = arr(R.choice([-1.0, 1.0], (16, 6)))
    for fn in ("losses.hinge", "losses.squared_hinge"):
        dtypes = ("float16", "bfloat16", "float64") if fn == "losses.hinge" else ("float64",)
        add("random_12x5_bits", fn, {"y_true": BITS, "y_pred": LOGITS})
        add("doc_binary_labels", fn, {"y_true": Y2, "y_pred": P2})
        add("signed_labels", fn, {"y_true": arr([[-1, 1, 1], [1, -1, -1]]), "y_pred": arr([[0.3, -2, 0.9], [1.5, 0.2, -0.4]])})
        add("not_binary_labels_kept", fn, {"y_true": arr([[-1, 0, 1], [0, 1, 1]]), "y_pred": arr([[0.3, -2, 0.9], [1.5, 0.2, -0.4]])})
        add("margin_exactly_zero", fn, {"y_true": arr([[1, 0, 1, 0]]), "y_pred": arr([[1.0, -1.0, 0.5, 2.0]])})
        if fn == "losses.hinge":
            add("rank1", fn, {"y_true": arr([0, 1, 1]), "y_pred": arr([0.2, 0.7, 1.3])})
            add("rank3", fn, {"y_true": arr(R.integers(0, 2, (3, 4, 5))), "y_pred": RANK3_P})
        add("random_16x6_signed", fn, {"y_true": signed, "y_pred": REG_P})
        add_dtypes("random_12x5_bits", fn, {"y_true": BITS, "y_pred": PROBS}, dtypes=dtypes)
    fn = "losses.categorical_hinge"
    add("doc", fn, {"y_true": Y2, "y_pred": P2})
    add("ties_in_the_maximum", fn, {"y_true": arr([[0, 0, 1], [1, 0, 0]]), "y_pred": arr([[0.5, 0.5, 0.2], [0.3, 0.7, 0.7]])})
    add("margin_exactly_zero", fn, {"y_true": arr([[0, 1, 0]]), "y_pred": arr([[0.25, 1.25, 0.0]])})
    add("rank3", fn, {"y_true": arr(np.eye(5)[R.integers(0, 5, (3, 4))]), "y_pred": RANK3_P})
    add("random_12x5", fn, {"y_true": ONEHOT, "y_pred": LOGITS})
    add_dtypes("random_12x5", fn, {"y_true": ONEHOT, "y_pred": PROBS}, dtypes=("float64",))


def gen_regression():
    fn = "losses.huber"
    add("doc", fn, {"y_true": Y2, "y_pred": arr([[0.6, 0.4], [2.0, 0.6]])})
    edge_t, edge_p = arr([[0, 0, 1, 1, 2]]), arr([[1.0, -1.0, 1.0, 3.0, 0.5]])  # |e| = 1, 1, 0, 2, 1.5
    add("abs_error_equal_delta_and_zero", fn, {"y_true": edge_t, "y_pred": edge_p})
    add("delta_2.0_abs_error_equal_delta", fn, {"y_true": edge_t, "y_pred": edge_p}, {"delta": 2.0})
    add("rank1", fn, {"y_true": arr([0, 1, 1]), "y_pred": arr([0.2, 2.7, 1.3])})
    add("random_16x6", fn, {"y_true": REG_T, "y_pred": 2 * REG_P})
    add_dtypes("random_16x6", fn, {"y_true": REG_T, "y_pred": 2 * REG_P})
    add_dtypes("abs_error_equal_delta_and_zero", fn, {"y_true": edge_t, "y_pred": edge_p}, dtypes=("float64",))

    fn = "losses.log_cosh"
    add("doc", fn, {"y_true": Y2, "y_pred": arr([[1, 1], [0, 0]])})
    add("large_and_tiny_errors", fn, {"y_true": arr(np.zeros((2, 6))),
                                      "y_pred": arr([[50, -50, 1e3, -1e3, 1e-4, 0], [6.9, -6.9, 7.0, -7.0, 6.97, -6.97]])})
    add("rank3", fn, {"y_true": RANK3_T, "y_pred": 4 * RANK3_P})
    add_dtypes("random_16x6", fn, {"y_true": REG_T, "y_pred": 4 * REG_P})

    fn = "losses.poisson"
    add("doc", fn, {"y_true": Y2, "y_pred": arr([[1, 1], [0, 0]])})
    add("zero_rates", fn, {"y_true": arr([[0, 1, 3], [2, 0, 0]]), "y_pred": arr([[0, 0, 1e-7], [1e-3, 0, 5]])})
    add("rank1", fn, {"y_true": arr([0, 1, 3]), "y_pred": arr([0.5, 1.5, 2.5])})
    add_dtypes("random_16x6", fn, {"y_true": POS_T, "y_pred": POS_P}, dtypes=("float32", "float64"))

    fn = "losses.mean_squared_logarithmic_error"
    add("doc", fn, {"y_true": Y2, "y_pred": arr([[1, 1], [1, 0]])})
    add("negatives_and_epsilon", fn, {"y_true": arr([[-1, 0, 1e-7, 2], [3, -0.5, 0, 1]]),
                                      "y_pred": arr([[0.5, -2, 1e-7, 1e-8], [-1, 0, 1e-7, 1]])})
    add_dtypes("random_16x6", fn, {"y_true": POS_T, "y_pred": POS_P}, dtypes=("float32", "float64"))

    fn = "losses.mean_absolute_percentage_error"
    add("doc", fn, {"y_true": arr([[2, 1], [4, -2]]), "y_pred": arr([[1, 1], [5, -1]])})
    add("exact_match_and_zero_targets", fn, {"y_true": arr([[1.5, 0, -2, 0], [3, 1e-8, 0, -1e-7]]),
                                             "y_pred": arr([[1.5, 0, -2, 1e-6], [2, 0.5, -0.25, 1e-7]])})
    add_dtypes("random_16x6", fn, {"y_true": REG_T, "y_pred": REG_P}, dtypes=("float32", "float64"))

    fn = "losses.cosine_similarity"
    add("doc", fn, {"y_true": arr([[0, 1], [1, 1]]), "y_pred": arr([[1, 0], [1, 1]])})
    add("zero_vectors_and_opposites", fn, {"y_true": arr([[0, 0, 0], [1, 2, 3], [0, 0, 0], [1, -1, 2]]),
                                           "y_pred": arr([[1, 2, 3], [0, 0, 0], [0, 0, 0], [-2, 2, -4]])})
    add("tiny_vectors_below_the_norm_floor", fn, {"y_true": arr([[1e-7, 0, 2e-7]]), "y_pred": arr([[3e-7, 1e-7, 0]])})
    add("axis0", fn, {"y_true": REG_T, "y_pred": REG_P}, {"axis": 0})
    add("rank3_axis1", fn, {"y_true": RANK3_T, "y_pred": RANK3_P}, {"axis": 1})
    add("rank1", fn, {"y_true": arr([1, 2, 3]), "y_pred": arr([3, 2, 1])})
    add_dtypes("random_16x6", fn, {"y_true": REG_T, "y_pred": REG_P}, dtypes=("float32", "float64"))

    fn = "losses.kl_divergence"
    add("doc", fn, {"y_true": Y2, "y_pred": P2})
    add("zeros_and_clipped_values", fn, {"y_true": arr([[0, 1, 0], [0.5, 0.5, 0], [1.5, -0.5, 0], [0.2, 0.3, 0.5]]),
                                         "y_pred": arr([[0, 0.9, 0.1], [0, 1, 0], [0.5, 0.5, 0], [1e-7, 1.0, 2.0]])})
    add("epsilon_bounds_exact", fn, {"y_true": arr([[0.3, 0.7, 0.0]]), "y_pred": arr([[g.EPS, 1.0, g.EPS]])})
    add("rank1", fn, {"y_true": arr([0.2, 0.8]), "y_pred": arr([0.5, 0.5])})
    add_dtypes("random_12x5", fn, {"y_true": DIR_T, "y_pred": DIR_P}, dtypes=("float32", "float64"))


def gen_focal():
    fn = "losses.categorical_focal_crossentropy"
    cce_t, cce_p = arr([[0, 1, 0], [0, 0, 1]]), arr([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    add("doc", fn, {"y_true": cce_t, "y_pred": cce_p})
    add("probabilities_0_and_1", fn, {"y_true": arr([[0, 1, 0], [1, 0, 0], [0, 0, 1]]),
                                      "y_pred": arr([[0, 1, 0], [0, 1, 0], [1, 0, 0]])})
    add("unnormalised_rows", fn, {"y_true": cce_t, "y_pred": arr([[0.5, 1.5, 2.0], [3, 1, 0]])})
    add("alpha_per_class", fn, {"y_true": cce_t, "y_pred": cce_p}, {"alpha": [0.2, 0.3, 0.5]})
    add("gamma_0", fn, {"y_true": cce_t, "y_pred": cce_p}, {"gamma": 0.0})
    add("gamma_1.5_alpha_1", fn, {"y_true": DIR_T, "y_pred": DIR_P}, {"gamma": 1.5, "alpha": 1.0})
    add("label_smoothing_0.1", fn, {"y_true": cce_t, "y_pred": cce_p}, {"label_smoothing": 0.1})
    add("from_logits", fn, {"y_true": ONEHOT, "y_pred": LOGITS}, {"from_logits": True})
    add("from_logits_extreme", fn, {"y_true": arr([[0, 1, 0], [1, 0, 0]]), "y_pred": arr([[100, 0, -100], [0, 0, 0]])},
        {"from_logits": True, "label_smoothing": 0.2})
    add("rank3_axis1_alpha_per_class", fn, {"y_true": arr(np.eye(4)[R.integers(0, 4, (2, 5))].transpose(0, 2, 1)),
                                            "y_pred": arr(R.dirichlet(np.ones(4), (2, 5)).transpose(0, 2, 1))},
        {"axis": 1, "alpha": [0.1, 0.2, 0.3, 0.4, 0.5]})
    add_dtypes("random_12x5", fn, {"y_true": ONEHOT, "y_pred": DIR_P}, dtypes=("float32", "float16", "bfloat16", "float64"))

    fn = "losses.binary_focal_crossentropy"
    add("doc", fn, {"y_true": Y2, "y_pred": P2})
    add("doc_class_balancing", fn, {"y_true": Y2, "y_pred": P2}, {"apply_class_balancing": True})
    edge_t = arr([[0, 1, 0, 1, 0, 1], [1, 0, 0.3, 0.7, 1, 0]])
    edge_p = arr([[0, 1, 1, 0, g.EPS, g.ONE_M_EPS], [g.EPS, g.ONE_M_EPS, 0, 1, 0.5, 0.5]])
    add("probabilities_0_1_and_epsilon", fn, {"y_true": edge_t, "y_pred": edge_p})
    add("probabilities_0_1_balancing_alpha_0.4", fn, {"y_true": edge_t, "y_pred": edge_p},
        {"apply_class_balancing": True, "alpha": 0.4})
    add("gamma_3.5", fn, {"y_true": BITS, "y_pred": PROBS}, {"gamma": 3.5})
    add("label_smoothing_0.2", fn, {"y_true": BITS, "y_pred": PROBS}, {"label_smoothing": 0.2})
    add("from_logits", fn, {"y_true": BITS, "y_pred": LOGITS}, {"from_logits": True})
    add("from_logits_extreme_balancing", fn, {"y_true": arr([[0, 1, 0, 1, 0.5]]), "y_pred": arr([[100, -100, -30, 30, 0]])},
        {"from_logits": True, "apply_class_balancing": True})
    add("axis0", fn, {"y_true": BITS, "y_pred": PROBS}, {"axis": 0})
    add("rank3", fn, {"y_true": arr(R.integers(0, 2, (3, 4, 5))), "y_pred": arr(R.uniform(size=(3, 4, 5)))})
    add_dtypes("random_12x5", fn, {"y_true": BITS, "y_pred": PROBS}, dtypes=("float16", "bfloat16", "float64"))
    add_dtypes("random_12x5_logits", fn, {"y_true": BITS, "y_pred": LOGITS}, dtypes=("float64",))


CLASS_DATA = {
    "Hinge": (BITS, LOGITS, {}),
    "SquaredHinge": (BITS, LOGITS, {}),
    "CategoricalHinge": (ONEHOT, LOGITS, {}),
    "Huber": (REG_T[:12, :5], 2 * REG_P[:12, :5], {"delta": 0.7}),
    "LogCosh": (REG_T[:12, :5], 4 * REG_P[:12, :5], {}),
    "KLDivergence": (DIR_T, DIR_P, {}),
    "Poisson": (POS_T[:12, :5], POS_P[:12, :5], {}),
    "CosineSimilarity": (REG_T[:12, :5], REG_P[:12, :5], {}),
    "MeanSquaredLogarithmicError": (POS_T[:12, :5], POS_P[:12, :5], {}),
    "MeanAbsolutePercentageError": (REG_T[:12, :5], REG_P[:12, :5], {}),
    "CategoricalFocalCrossentropy": (ONEHOT, LOGITS, {"from_logits": True, "alpha": [0.1, 0.2, 0.3, 0.2, 0.2]}),
    "BinaryFocalCrossentropy": (BITS, PROBS, {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}),
}
SW_B = arr([1, 0, 2, 0.5, 0, 1, 3, 1, 0, 0.25, 1, 2])


def gen_classes():
    for cls, (y_true, y_pred, options) in CLASS_DATA.items():
        fn = f"losses.{cls}"
        few = cls in ("Huber", "LogCosh", "CategoricalFocalCrossentropy", "BinaryFocalCrossentropy")
        for reduction in ("none", "sum", "sum_over_batch_size")[:3 if few else 1]:
            add(reduction, fn, {"y_true": y_true, "y_pred": y_pred}, {"reduction": reduction, **options})
        add("auto_sw_B_with_zeros", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": SW_B}, options)
        if few:
            add("sum_sw_Bx1", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": SW_B[:, None]},
                {"reduction": "sum", **options})
        if few:
            add("none_sw_scalar", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": arr(0.7)},
                {"reduction": "none", **options})
        if few:
            add("auto_sw_all_zeros", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": arr(np.zeros(12))},
                options)
        t3, p3 = y_true.reshape(3, 4, 5), y_pred.reshape(3, 4, 5)
        add("rank3_auto_sw_BxT", fn, {"y_true": t3, "y_pred": p3, "sample_weight": arr([[1, 0, 2, 1], [0, 0, 1, 3], [1, 1, 1, 0]])},
            options)
        if few:
            add_dtypes("auto_sw_B_with_zeros", fn, {"y_true": y_true, "y_pred": y_pred, "sample_weight": SW_B}, options,
                       dtypes=("float16", "float64"))
    # the squeeze rule: y_true (B, 2) against y_pred (B, 2, 1)
    for cls in ("Hinge", "Poisson", "MeanAbsolutePercentageError"):
        add("squeeze_y_pred_BxTx1_auto_sw_B", f"losses.{cls}",
            {"y_true": arr([[1, 0], [1, 1], [0, 0]]), "y_pred": arr([[[0.9], [0.2]], [[0.4], [0.7]], [[0.1], [0.3]]]),
             "sample_weight": arr([1, 2, 0])})
    add("axis0_sum", "losses.CosineSimilarity", {"y_true": REG_T[:12, :5], "y_pred": REG_P[:12, :5]},
        {"axis": 0, "reduction": "sum"})
    add("label_smoothing_axis0_auto", "losses.CategoricalFocalCrossentropy", {"y_true": ONEHOT, "y_pred": PROBS},
        {"axis": 0, "label_smoothing": 0.1, "gamma": 0.5})
    add("from_logits_label_smoothing_axis0_auto", "losses.BinaryFocalCrossentropy", {"y_true": BITS, "y_pred": LOGITS},
        {"from_logits": True, "label_smoothing": 0.1, "axis": 0})


def gen_configs():
    variants = {cls: [{}] for cls in CLASSES}
    variants["Huber"].append({"delta": 0.5, "reduction": "sum", "name": "h"})
    variants["CosineSimilarity"].append({"axis": 1})
    variants["CategoricalFocalCrossentropy"].append({"alpha": [0.1, 0.2, 0.7], "gamma": 1.0, "from_logits": True,
                                                     "label_smoothing": 0.1, "axis": 0})
    variants["BinaryFocalCrossentropy"].append({"apply_class_balancing": True, "alpha": 0.4, "gamma": 3.0,
                                                "from_logits": True, "label_smoothing": 0.2, "axis": 0,
                                                "reduction": "none"})
    for cls, options in ((c, o) for c, vs in variants.items() for o in vs):
        obj = getattr(keras.losses, cls)(**options)
        tag = "defaults" if not options else "options"
        g.CASES.append({"name": f"config/{cls}/{tag}", "fn": "config", "kwargs": {"class_name": cls, "args": options},
                        "inputs": {}, "outputs": {},
                        "meta": {"config": obj.get_config(), "serialized": keras.losses.serialize(obj)}})
    resolved = {}
    for name in (*FUNCTIONS, *ALIASES, *CLASSES, "huber_loss", "cosine", "cosine_proximity", "Logcosh", "KLDIVERGENCE"):
        try:
            got = keras.losses.get(name)
        except ValueError:
            resolved[name] = {"type": "error"}
            continue
        if isinstance(got, keras.losses.Loss):
            resolved[name] = {"type": "instance", "class_name": type(got).__name__, "config": got.get_config()}
        else:
            resolved[name] = {"type": "function", "name": got.__name__}
    g.CASES.append({"name": "identifiers", "fn": "identifiers", "inputs": {}, "outputs": {}, "meta": {"get": resolved}})


def main():
    gen_hinge()
    gen_regression()
    gen_focal()
    gen_classes()
    gen_configs()
    save_cases(OUT, g.CASES)
    counts: dict[str, int] = {}
    for case in g.CASES:
        counts[case["fn"]] = counts.get(case["fn"], 0) + 1
    for fn, n in counts.items():
        print(f"{n:4d}  {fn}")
    print(f"{len(g.CASES)} cases -> {OUT.name}")


if __name__ == "__main__":
    main()
