"""Golden-vector parity with Keras 2 (tf-keras 2.21) for the losses, their gradients and to_categorical.

The vectors in ``golden/losses.npz`` were recorded from TensorFlow by
``golden/generate_losses.py`` (its docstring gives the case conventions). Each case is run
through jaxent under ``jax.jit`` (``to_categorical`` eagerly, it infers ``num_classes``) and
compared value for value and gradient for gradient:

* float32: ``rtol = atol = 2e-6`` (TF's CPU kernels are themselves only ulp-exact, §0);
* float64: ``rtol = 1e-12`` (run with x64 enabled);
* float16 / bfloat16: within 1 ulp of the 16-bit dtype. jaxent computes 16-bit inputs in
  float32 (API.md difference 2), so the reference is Keras in float32 on the same rounded
  inputs, cast to the 16-bit dtype; Keras's native 16-bit value is only in the case's meta;
* integers / bools: exactly.

Inputs named in a case's ``meta["python_scalars"]`` are passed as Python floats (or nested lists
of them), those in ``meta["numpy_scalars"]`` as ``np.float64`` scalars (or lists of them), closed
over rather than traced, since Keras treats them differently from arrays (a Python float becomes
float32 before it meets a float64 tensor). A kwarg named in ``numpy_scalars`` is passed as
``np.float64``; other kwargs are Python values as stored. The fused loss
``nn.linear_sparse_softmax_cross_entropy`` runs like the other functions (its reference is TF's
cross entropy of ``tf.matmul(features, kernel) + bias``).

Where API.md's "Deliberate differences from Keras 2" make jaxent differ, the file keeps Keras's
value and :data:`DELIBERATE_DIFFERENCES` below says what jaxent must do instead (and why). A
final group of tests runs deliberately wrong implementations through the same comparison and
checks that the golden cases reject them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.golden.goldenio import load_cases

# The one-class CCE case warns as Keras does; test_numerics pins the warning itself.
pytestmark = pytest.mark.filterwarnings("ignore:categorical_crossentropy expects:SyntaxWarning")

GOLDEN = Path(__file__).parent / "golden" / "losses.npz"
CASES = load_cases(GOLDEN)
BY_NAME = {case["name"]: case for case in CASES}

LOSS_CLASSES = {
    "losses.CategoricalCrossentropy",
    "losses.SparseCategoricalCrossentropy",
    "losses.BinaryCrossentropy",
    "losses.MeanSquaredError",
    "losses.MeanAbsoluteError",
}
SIXTEEN_BIT = {"float16", "bfloat16"}
RTOL32 = ATOL32 = 2e-6
RTOL64, ATOL64 = 1e-12, 1e-14

_LS = "API.md: label_smoothing outside [0, 1] is a ValueError (Keras accepts it silently)"
_SW = "API.md 6: sample_weight shapes Keras broadcasts into a larger (outer-product) result are a ValueError"
_INT = "API.md 7: integer y_pred in MSE/MAE is computed in float32 (Keras truncates to integers)"
_IGN = "API.md 4: an entirely ignored batch gives 0 for auto/sum_over_batch_size (Keras: 0/0 = NaN)"
_SIG = "README 12: at |x| ~ 1e4 with labels not 0/1, TF rounds x*z before subtracting; jaxent is exact to float32"
_SCE = "API.md 8: gradient is sum(labels)*softmax(logits) - labels (TF's kernel: softmax - labels)"

RAISES = "raises ValueError"
DOCUMENTED = "matches the *_documented outputs"

DELIBERATE_DIFFERENCES: dict[str, tuple[str, str]] = {
    # case name: (what jaxent must do, why). Keras's own value stays in the file as ``value``.
    "losses.categorical_crossentropy/label_smoothing_-0.1_out_of_range": (RAISES, _LS),
    "losses.categorical_crossentropy/label_smoothing_1.5_out_of_range": (RAISES, _LS),
    "losses.binary_crossentropy/label_smoothing_-0.1_out_of_range": (RAISES, _LS),
    "losses.CategoricalCrossentropy/ls-0.1_out_of_range_auto": (RAISES, _LS),
    "losses.MeanSquaredError/sw_Bx1x1_outer_product_auto": (RAISES, _SW),
    "losses.MeanSquaredError/sw_Bx1x1_outer_product_none": (RAISES, _SW),
    "losses.MeanSquaredError/sw_T_on_BxT_outer_product_sum": (RAISES, _SW),
    "losses.mean_squared_error/int_y_pred_truncates_in_keras": (DOCUMENTED, _INT),
    "losses.mean_squared_error/int_y_pred_int_mean": (DOCUMENTED, _INT),
    "losses.mean_absolute_error/int_y_pred_truncates_in_keras": (DOCUMENTED, _INT),
    "losses.mean_absolute_error/int_y_pred_int_mean": (DOCUMENTED, _INT),
    "losses.MeanSquaredError/int_y_pred_auto": (DOCUMENTED, _INT),
    "losses.MeanSquaredError/int_y_pred_auto_sw_B": (DOCUMENTED, _INT),
    "losses.MeanAbsoluteError/int_y_pred_auto": (DOCUMENTED, _INT),
    "losses.MeanAbsoluteError/int_y_pred_auto_sw_B": (DOCUMENTED, _INT),
    "losses.SparseCategoricalCrossentropy/ignore_minus1_all_auto_no_sw": (DOCUMENTED, _IGN),
    "losses.SparseCategoricalCrossentropy/ignore_minus1_all_auto_sw_B": (DOCUMENTED, _IGN),
    "losses.SparseCategoricalCrossentropy/ignore_minus1_all_sum_over_batch_size_no_sw": (DOCUMENTED, _IGN),
    "losses.SparseCategoricalCrossentropy/ignore_minus1_all_sum_over_batch_size_sw_B": (DOCUMENTED, _IGN),
    "losses.SparseCategoricalCrossentropy/rank3_ignore_255_all_auto_sw_B": (DOCUMENTED, _IGN),
    "losses.SparseCategoricalCrossentropy/rank3_ignore_255_all_sum_over_batch_size_sw_B": (DOCUMENTED, _IGN),
    "nn.softmax_cross_entropy_with_logits/labels_not_summing_to_one": (DOCUMENTED, _SCE),
    "nn.softmax_cross_entropy_with_logits/random_multi_hot": (DOCUMENTED, _SCE),
    # [.2, .3, .5] rounded to bfloat16 sums to 1.0009766, so difference 8 shows here too.
    "nn.softmax_cross_entropy_with_logits/table_rows_bfloat16": (DOCUMENTED, _SCE),
    "nn.sigmoid_cross_entropy_with_logits/extreme_1e4_rounded_products": (DOCUMENTED, _SIG),
    "nn.sigmoid_cross_entropy_with_logits/random_64x10_pm_1e4": (DOCUMENTED, _SIG),
    "backend.binary_crossentropy/from_logits_extreme_1e4_rounded_products": (DOCUMENTED, _SIG),
    "backend.binary_crossentropy/from_logits_random_64x10_pm_1e4": (DOCUMENTED, _SIG),
    "losses.binary_crossentropy/from_logits_extreme_1e4_rounded_products": (DOCUMENTED, _SIG),
    "losses.binary_crossentropy/from_logits_random_64x10_pm_1e4": (DOCUMENTED, _SIG),
}


# --------------------------------------------------------------------------------------------
# Running a case


def resolve(fn: str) -> Callable[..., Any]:
    """``"losses.MeanSquaredError"`` -> ``jaxent.losses.MeanSquaredError``."""
    module, _, attr = fn.rpartition(".")
    return getattr(importlib.import_module(f"jaxent.{module}"), attr)


def _needs_x64(case: dict) -> bool:
    arrays = list(case["inputs"].values())
    return case["meta"].get("result_dtype") == "float64" or any(a.dtype == np.float64 for a in arrays)


def _as_jax(case: dict, name: str) -> jax.Array:
    value = case["inputs"][name]
    dtype = case["dtypes"].get(name, value.dtype)
    if np.dtype(dtype) == np.int64 and not jax.config.jax_enable_x64:
        dtype = np.int32  # what jnp would do anyway, without the truncation warning
    return jnp.asarray(value, dtype=dtype)


def scalar_inputs(case: dict) -> dict[str, Any]:
    """The inputs the case passes as Python floats/lists or np.float64 scalars, by name."""
    scalars: dict[str, Any] = {}
    for name in case["meta"].get("python_scalars", []):
        if name in case["inputs"]:
            scalars[name] = case["inputs"][name].tolist()
    for name in case["meta"].get("numpy_scalars", []):
        if name in case["inputs"]:
            value = case["inputs"][name]
            scalars[name] = value[()] if value.ndim == 0 else list(value)
    return scalars


def _build_call(case: dict, impl: Callable[..., Any]) -> Callable[[dict], jax.Array]:
    kwargs = dict(case["kwargs"])
    for name in case["meta"].get("numpy_scalars", []):
        if name in kwargs:
            kwargs[name] = np.float64(kwargs[name])
    if case["fn"] in LOSS_CLASSES:
        loss = impl(**kwargs)

        def call(args):
            if "sample_weight" in args:
                return loss(args["y_true"], args["y_pred"], sample_weight=args["sample_weight"])
            return loss(args["y_true"], args["y_pred"])

        return call
    if "dtype" in kwargs:
        kwargs["dtype"] = jnp.dtype(kwargs["dtype"])
    return lambda args: impl(**args, **kwargs)


def run_case(case: dict, impl: Callable[..., Any] | None = None) -> dict[str, np.ndarray]:
    """jaxent's outputs for ``case``: ``value``, ``grad_<input>``, ``grad2_<input>`` as recorded.

    Values and first gradients come from one jitted ``value_and_grad``; call inside
    ``jax.enable_x64(True)`` for float64 cases.
    """
    fixed = scalar_inputs(case)
    base_call = _build_call(case, impl or resolve(case["fn"]))

    def call(arrays):
        return base_call({**arrays, **fixed})

    args = {name: _as_jax(case, name) for name in case["inputs"] if name not in fixed}
    grads = [k[len("grad_"):] for k in case["outputs"] if k.startswith("grad_") and not k.endswith("_documented")]
    second = [k[len("grad2_"):] for k in case["outputs"] if k.startswith("grad2_")]
    if case["fn"] == "utils.to_categorical":
        return {"value": np.asarray(call(args))}

    def total(diff, rest):
        value = call({**rest, **diff})
        return jnp.sum(value), value

    diff = {k: args[k] for k in grads}
    rest = {k: v for k, v in args.items() if k not in diff}
    if not diff:
        return {"value": np.asarray(jax.jit(lambda r: call(r))(rest))}
    (_, value), g = jax.jit(jax.value_and_grad(total, has_aux=True))(diff, rest)
    out = {"value": np.asarray(value)}
    out.update({f"grad_{k}": np.asarray(v) for k, v in g.items()})
    for k in second:

        def summed_grad(d, r, k=k):
            return jnp.sum(jax.grad(lambda d2: total(d2, r)[0])(d)[k])

        out[f"grad2_{k}"] = np.asarray(jax.jit(jax.grad(summed_grad))(diff, rest)[k])
    return out


def expected_outputs(case: dict) -> dict[str, np.ndarray]:
    """Keras's outputs, with the ``*_documented`` replacements for deliberate differences."""
    outputs = {k: v for k, v in case["outputs"].items() if not k.endswith("_documented")}
    if DELIBERATE_DIFFERENCES.get(case["name"], ("",))[0] == DOCUMENTED:
        for k in outputs:
            outputs[k] = case["outputs"].get(f"{k}_documented", outputs[k])
    return outputs


def _dtype_of(case: dict, output: str) -> str:
    if output == "value":
        return case["meta"]["result_dtype"]
    name = output.split("_", 1)[1]
    return case["dtypes"].get(name, case["inputs"][name].dtype.name)


def _ulp(x: np.ndarray, dtype: str) -> np.ndarray:
    info = jnp.finfo(dtype)
    mag = np.maximum(np.abs(x.astype(np.float64)), float(info.smallest_normal))
    return np.maximum(2.0 ** np.floor(np.log2(mag)) * float(info.eps), float(info.smallest_subnormal))


def assert_matches(
    actual: np.ndarray, expected: np.ndarray, dtype: str, what: str, keras_error: float = 0.0
) -> None:
    """Compare one output with the tolerance of its dtype (see the module docstring).

    ``keras_error`` is how far Keras's own float32 output is from the exact float64 one, where
    the generator measured it (the fused loss's features gradient sums products of ~1e4-sized
    kernel entries, so TF's rounding there reaches ~3e-3): the absolute tolerance is then at
    least twice that.
    """
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    if dtype in SIXTEEN_BIT:
        a, e = actual.astype(np.float64), expected.astype(np.float64)
        finite = np.isfinite(e)
        same_nonfinite = (np.isnan(a) & np.isnan(e)) | (a == e)
        tol = _ulp(e, dtype)
        ok = np.where(finite, np.abs(a - e) <= tol, same_nonfinite)
        assert ok.all(), (
            f"{what} ({dtype}): more than 1 ulp from Keras-in-float32 at {np.argwhere(~ok)[:5].tolist()}:"
            f"\n actual   {a[~ok][:5]}\n expected {e[~ok][:5]}"
        )
    elif np.issubdtype(np.dtype(dtype), np.floating):
        rtol, atol = (RTOL64, ATOL64) if dtype == "float64" else (RTOL32, ATOL32)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=max(atol, 2 * keras_error), err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


def check_case(case: dict, impl: Callable[..., Any] | None = None) -> None:
    expected = expected_outputs(case)
    actual = run_case(case, impl)
    assert str(actual["value"].dtype) == case["meta"]["result_dtype"], (
        f"result dtype {actual['value'].dtype}, expected {case['meta']['result_dtype']}"
    )
    keras_errors = case["meta"].get("tf_max_abs_error_vs_float64", {})
    for key, want in expected.items():
        assert_matches(actual[key], want, _dtype_of(case, key), f"{case['name']}: {key}", keras_errors.get(key, 0.0))


def _x64_scope(case: dict):
    return jax.enable_x64(True) if _needs_x64(case) else _null_scope()


class _null_scope:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------------------------
# The golden tests


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_matches_keras(case):
    behaviour = DELIBERATE_DIFFERENCES.get(case["name"], (None,))[0]
    with _x64_scope(case):
        if behaviour == RAISES:
            with pytest.raises(ValueError):
                run_case(case)
        else:
            check_case(case)


def test_deliberate_differences_table_matches_the_golden_file():
    """Every case the generator marked as a deliberate difference is handled here, and only those."""
    marked = {case["name"] for case in CASES if case["meta"].get("deviation")}
    assert marked == set(DELIBERATE_DIFFERENCES)
    for name, (behaviour, _) in DELIBERATE_DIFFERENCES.items():
        case = BY_NAME[name]
        documented = [k for k in case["outputs"] if k.endswith("_documented")]
        assert case["meta"]["deviation"].startswith("raises") == (behaviour == RAISES), name
        assert bool(documented) == (behaviour == DOCUMENTED), name


def test_golden_file_covers_the_edge_case_families():
    names = " ".join(BY_NAME)
    for family in [
        "eps_boundaries_exact", "unnormalised", "all_zero_row", "negative", "nonfinite", "axis1_rank4",
        "axis3_wraps", "ignore_255", "ignore_minus1_all", "label_smoothing_1.0", "sw_BxTx1", "sw_1xT",
        "sw_Bx1", "sw_scalar", "empty_batch", "rank1", "squeeze_y_pred_Bx1", "float16", "bfloat16",
        "float64", "random_64x10", "negative_labels_wrap",
    ]:
        assert family in names, family
    for reduction in ("auto", "none", "sum", "sum_over_batch_size"):
        assert any(c["kwargs"].get("reduction") == reduction for c in CASES), reduction


# --------------------------------------------------------------------------------------------
# The goldens must reject plausible wrong implementations. Each entry: a small implementation
# with one switch; with ``wrong=False`` it must pass the named case (which also checks this
# harness without jaxent), with ``wrong=True`` it must fail it.

_EPS = 1e-7


def _tf_clip(x, lo, hi):
    """TF's clip: gradient 1 on [lo, hi], boundaries included."""
    inside = (x >= lo) & (x <= hi)
    clipped = jnp.clip(x, lo, hi)
    return jnp.where(inside, x, jax.lax.stop_gradient(clipped))


def _bounds(dtype):
    eps = jnp.asarray(_EPS, dtype)
    return eps, jnp.asarray(1, dtype) - eps


def _bce(wrong):
    def bce(target, output, from_logits=False):
        lo, hi = _bounds(output.dtype)
        if wrong == "jnp_clip":
            p = jnp.clip(output, lo, hi)
        else:
            p = _tf_clip(output, lo, hi)
        if wrong == "single_epsilon":
            return -(target * jnp.log(p) + (1 - target) * jnp.log(1 - p))
        # keep XLA from folding 1 - p + eps into (1 + eps) - p
        one_minus_p = jax.lax.reduce_precision(1 - p, 8, 23)
        return -(target * jnp.log(p + _EPS) + (1 - target) * jnp.log(one_minus_p + _EPS))

    return bce


def _cce(wrong):
    def cce(target, output, from_logits=False, axis=-1):
        lo, hi = _bounds(output.dtype)
        if wrong:  # clip first, then normalise
            p = _tf_clip(output, lo, hi)
            p = p / jnp.sum(p, axis, keepdims=True)
        else:
            p = output / jnp.sum(output, axis, keepdims=True)
            p = _tf_clip(p, lo, hi)
        return -jnp.sum(target * jnp.log(p), axis)

    return cce


def _scce(wrong):
    def scce(target, output, from_logits=False, axis=-1, ignore_class=None):
        lo, hi = _bounds(output.dtype)
        if wrong:  # Keras 3: normalise, clip, log; no renormalisation
            p = _tf_clip(output / jnp.sum(output, -1, keepdims=True), lo, hi)
            logp = jnp.log(p)
        else:  # Keras 2: clip, log, then log-softmax renormalises
            logp = jax.nn.log_softmax(jnp.log(_tf_clip(output, lo, hi)), -1)
        return -jnp.take_along_axis(logp, target.astype(jnp.int32)[..., None], -1)[..., 0]

    return scce


def _mse_class(wrong):
    def make(reduction="auto", name=None):
        def loss(y_true, y_pred, sample_weight=None):
            per_sample = jnp.mean((y_pred - y_true) ** 2, -1)
            w = jnp.broadcast_to(jnp.reshape(sample_weight, (-1,)), per_sample.shape)
            total = jnp.sum(per_sample * w)
            return total / (jnp.sum(w) if wrong else per_sample.size)

        return loss

    return make


def _softmax_ce(wrong):
    def sce(labels, logits, axis=-1):
        value = jnp.sum(labels * (jax.nn.logsumexp(logits, axis, keepdims=True) - logits), axis)
        if wrong:  # TF kernel gradient softmax - labels: add (1 - sum(labels)) * lse, zero in value
            lse = jax.nn.logsumexp(logits, axis)
            value = value + jax.lax.stop_gradient(1 - jnp.sum(labels, axis)) * (lse - jax.lax.stop_gradient(lse))
        return value

    return sce


def _to_categorical(wrong):
    def to_categorical(y, num_classes=None, dtype=jnp.float32):
        y = np.asarray(y).astype(int)
        if y.ndim > 1 and y.shape[-1] == 1:
            y = y[..., 0]
        num_classes = num_classes or int(y.max()) + 1
        if wrong:  # jax.nn.one_hot: negative labels give all-zero rows
            return jax.nn.one_hot(y, num_classes, dtype=dtype)
        return jax.nn.one_hot(np.where(y < 0, y + num_classes, y), num_classes, dtype=dtype)

    return to_categorical


WRONG_IMPLEMENTATIONS = {
    # name: (implementation factory, wrong switch, golden case that must catch it)
    "bce_with_jnp_clip_half_gradient": (_bce, "jnp_clip", "backend.binary_crossentropy/prob_grid"),
    "bce_without_the_double_epsilon": (_bce, "single_epsilon", "backend.binary_crossentropy/prob_grid"),
    "cce_clip_before_normalise": (_cce, True, "backend.categorical_crossentropy/unnormalised_rows"),
    "scce_normalise_then_clip_keras3": (_scce, True, "backend.sparse_categorical_crossentropy/table_rows"),
    "sobs_divides_by_sum_of_weights": (_mse_class, True, "losses.MeanSquaredError/per_sample_auto_sw_B"),
    "softmax_ce_tf_kernel_gradient": (
        _softmax_ce, True, "nn.softmax_cross_entropy_with_logits/labels_not_summing_to_one",
    ),
    "to_categorical_without_negative_wrap": (
        _to_categorical, True, "utils.to_categorical/negative_labels_wrap",
    ),
}


@pytest.mark.parametrize("mutant", sorted(WRONG_IMPLEMENTATIONS))
def test_goldens_reject_plausible_wrong_implementations(mutant):
    factory, switch, case_name = WRONG_IMPLEMENTATIONS[mutant]
    case = BY_NAME[case_name]
    check_case(case, factory(False))  # the right version passes the same case
    with pytest.raises(AssertionError):
        check_case(case, factory(switch))
