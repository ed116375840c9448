"""Measure how far jaxent is from the golden values, in the units the golden tests use.

    python -m tests.measure_errors losses     # OBSERVED_ULPS / OBSERVED_RELATIVE of test_golden_losses.py
    python -m tests.measure_errors metrics    # OBSERVED_ULPS of test_golden_metrics.py
    python -m tests.measure_errors rmsprop    # OBSERVED_EPS of test_optimizers.py and test_schedules.py

Each replays every golden case exactly as its test does and prints the worst error per family
as a Python literal to paste into the test module (which allows ``MARGIN`` times it). Run it
from the repository root after a change that moves jaxent's rounding, read the diff, and say
in the commit message why the figures moved. Not collected by pytest.
"""

from __future__ import annotations

import collections
import sys

import jax
import numpy as np

from tests import ulps


def _print_table(name: str, table: dict, digits: int = 2) -> None:
    print(f"{name} = {{")
    for key in sorted(table):
        print(f"    {key!r}: {round(float(table[key]), digits)},")
    print("}")


def losses() -> None:
    from tests import test_golden_losses as T

    observed: dict[tuple[str, str, str], float] = collections.defaultdict(float)
    sixteen: dict[str, float] = collections.defaultdict(float)
    records = []
    for case in T.CASES:
        if T.DELIBERATE_DIFFERENCES.get(case["name"], (None,))[0] == T.RAISES:
            continue
        actual = T.replayed_outputs(case)
        for key, want in T.expected_outputs(case).items():
            dtype = T._dtype_of(case, key)
            a, e = actual[key].astype(np.float64), want.astype(np.float64)
            if dtype in T.SIXTEEN_BIT:
                finite = np.isfinite(e)
                sixteen[dtype] = max(sixteen[dtype], float((np.abs(a - e)[finite] / ulps.ulp(e[finite], dtype)).max(initial=0)))
                continue
            if case["fn"] in T.EXACT or not np.issubdtype(np.dtype(dtype), np.floating):
                if not np.array_equal(a, e, equal_nan=True):
                    print(f"NOT EXACT: {case['name']}: {key}")
                continue
            finite = np.isfinite(e)
            if not np.array_equal(np.isfinite(a), finite) or not np.array_equal(a[~finite], e[~finite], equal_nan=True):
                print(f"NON-FINITE MISMATCH: {case['name']}: {key}")
            a, e = a[finite], e[finite]
            if not e.size:
                continue
            err = np.abs(a - e)
            covered = err <= T.MARGIN * case["meta"].get("tf_max_abs_error_vs_float64", {}).get(key, 0.0)
            if (case["name"], key) in T.KERAS_TERM_ROUNDING:
                covered |= err <= T.MARGIN * T.KERAS_TERM_ROUNDING[case["name"], key][0] * np.abs(e)
            scale = min(1.0, float(np.abs(e).max()))
            need = np.where(covered, 0.0, err / np.maximum(ulps.ulp(e, dtype), ulps.ulp(scale, dtype)))
            family = (case["fn"], dtype, T._kind(key))
            observed[family] = max(observed[family], float(need.max()))
            records.append((family, dtype, e, err, covered))
    relative: dict[str, float] = collections.defaultdict(float)
    for family, dtype, e, err, covered in records:
        n = max(1.0, T.MARGIN * observed[family])
        beyond = ~covered & (err > n * ulps.ulp(e, dtype))
        if beyond.any():
            relative[dtype] = max(relative[dtype], float((err[beyond] / np.abs(e[beyond])).max()))
    _print_table("OBSERVED_ULPS", observed)
    print("OBSERVED_RELATIVE =", {k: float(f"{v:.3g}") for k, v in sorted(relative.items())})
    print("16-bit, ulps of the 16-bit dtype:", dict(sixteen))


def metrics() -> None:
    from tests import test_golden_metrics as T

    observed: dict[tuple[str, str, str], float] = collections.defaultdict(float)
    records = []
    for case in T.CASES:
        got = T.replayed(case)
        scales = T.scales(case)
        for key, want in T.expected_outputs(case).items():
            dtype = str(want.dtype)
            a, e = got[key].astype(np.float64), want.astype(np.float64)
            if not np.isfinite(e).all():
                if not np.array_equal(a, e, equal_nan=True):
                    print(f"NON-FINITE MISMATCH: {case['name']}: {key}")
                continue
            family = (case["fn"], dtype, key.rsplit("_", 1)[0])
            unit = ulps.ulp(e, dtype)
            if key in scales and dtype != "float16":
                unit = np.maximum(unit, ulps.ulp(scales[key], dtype))
            observed[family] = max(observed[family], float((np.abs(a - e) / unit).max()))
            records.append((family, dtype, key in scales and dtype != "float16", e, np.abs(a - e)))
    relative: dict[str, float] = collections.defaultdict(float)
    for family, dtype, scaled, e, err in records:
        n = max(1.0, T.MARGIN * observed[family])
        if scaled and (err > n * ulps.ulp(e, dtype)).any():
            relative[dtype] = max(relative[dtype], float((err / np.abs(e)).max()))
    _print_table("OBSERVED_ULPS", observed)
    print("OBSERVED_RELATIVE =", {k: float(f"{v:.3g}") for k, v in sorted(relative.items())})


def rmsprop() -> None:
    from tests import test_optimizers, test_schedules

    table = {}
    for case in test_optimizers.GOLDEN:
        with jax.enable_x64(case["meta"]["dtype"] == "float64"):
            table[case["name"]] = test_optimizers.golden_errors(case)
    _print_table("OBSERVED_EPS (test_optimizers.py)", {k: v[0] for k, v in table.items()})
    _print_table("OBSERVED_SLOT_EPS (test_optimizers.py)", {k: v[1] for k, v in table.items()})
    table = {case["name"]: test_schedules.trajectory_errors(case) for case in test_schedules.TRAJECTORIES}
    _print_table("OBSERVED_EPS (test_schedules.py)", table)


if __name__ == "__main__":
    {"losses": losses, "metrics": metrics, "rmsprop": rmsprop}[sys.argv[1]]()
