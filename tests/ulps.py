"""Comparisons in units in the last place (ulp), shared by the golden tests.

``ulp(x, dtype)`` is the spacing of ``dtype`` at ``|x|``: ``2**floor(log2|x|) * eps``, and the
spacing of the smallest normal number below it. A tolerance is a number of ulps:

    |actual - expected| <= max(n * ulp(expected), min(n * ulp(scale), cap * |expected|))

* ``n`` ulps of the expected value itself;
* where the expected value is the small difference of larger terms (``softmax - labels`` near
  0, ``lse - x[label]`` near 0, a mean of values of both signs), float arithmetic leaves an
  absolute error of a few ulps of those terms, not of the result: ``scale`` is their size, but
  the allowance never exceeds ``cap`` times the expected value itself, so that 0 or a sign
  flip never passes for a nonzero expected value (``scale=None``: no such allowance);
* NaN where NaN is expected, the same infinity where one is expected; an expected 0 admits
  ``n`` subnormal-sized ulps, i.e. only 0.

The golden test modules measure their worst errors with ``python -m tests.measure_errors``
and set ``n`` (and ``cap``) from them with a stated margin.
"""

from __future__ import annotations

import chex
import jax.numpy as jnp
import numpy as np


def ulp(x, dtype) -> np.ndarray:
    """The spacing of ``dtype`` at ``|x|`` (float64 array; ``x`` is read as float64)."""
    info = jnp.finfo(dtype)
    magnitude = np.maximum(np.abs(np.asarray(x, np.float64)), float(info.smallest_normal))
    return 2.0 ** np.floor(np.log2(magnitude)) * float(info.eps)


def allowed(expected, dtype, n: float, scale=None, cap: float | None = None, *, relative: float = 0.0,
            absolute: float = 0.0) -> np.ndarray:
    """The largest admitted ``|actual - expected|`` per element (see the module docstring).

    ``relative`` admits that fraction of ``|expected|`` too, ``absolute`` that much everywhere:
    for the few outputs whose reference is known to be off by more than ``n`` ulps, with the
    reason stated where they are used.
    """
    e = np.asarray(expected, np.float64)
    tol = np.maximum(n * ulp(e, dtype), np.maximum(relative * np.abs(e), absolute))
    if scale is not None:
        term = n * ulp(np.broadcast_to(np.asarray(scale, np.float64), e.shape), dtype)
        if cap is not None:
            term = np.minimum(term, cap * np.abs(e))
        tol = np.maximum(tol, term)
    return tol


def excess(actual, expected, dtype, n: float, scale=None, cap: float | None = None, **extra: float) -> np.ndarray:
    """``|actual - expected| / allowed`` per element (<= 1 passes); inf where non-finite values differ."""
    a, e = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    finite = np.isfinite(e)
    same_nonfinite = (np.isnan(a) & np.isnan(e)) | (a == e)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.abs(a - e) / allowed(e, dtype, n, scale, cap, **extra)
        ratio = np.where(np.abs(a - e) == 0, 0.0, ratio)
    return np.where(finite, np.where(np.isfinite(a), ratio, np.inf), np.where(same_nonfinite, 0.0, np.inf))


def assert_within(actual, expected, dtype, n: float, scale=None, cap: float | None = None, *, what: str = "",
                  **extra: float) -> None:
    """Fail, naming the first offending elements, when ``actual`` is outside the tolerance around ``expected``."""
    chex.assert_equal_shape([np.asarray(actual), np.asarray(expected)], custom_message=what)
    ratio = excess(actual, expected, dtype, n, scale, cap, **extra)
    if (ratio <= 1).all():
        return
    a, e = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    bad = np.argwhere(~(ratio <= 1))[:5]
    rows = [f"  at {tuple(int(i) for i in index)}: actual {a[tuple(index)]!r}, expected {e[tuple(index)]!r}, "
            f"{ratio[tuple(index)]:.3g} x the allowed error" for index in bad]
    limits = f"{n:g} ulp of {dtype}"
    if scale is not None:
        limits += f" (of max(|expected|, {np.max(scale):.3g}), at most {cap:g} x |expected|)"
    limits += "".join(f", {key} {value:g}" for key, value in extra.items() if value)
    raise AssertionError(f"{what}: {int((~(ratio <= 1)).sum())} element(s) beyond {limits}:\n" + "\n".join(rows))
