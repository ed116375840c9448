"""Probe: where tf-keras 2.21 rounds a Python float through float32 before using it in float64.

Not a generator: it prints a Markdown table and writes nothing. For every argument that can be
given as a Python float (or list) while the tensors are float64, it runs Keras three times:

* ``python``:  the argument as the Python float / list the user wrote (``0.7``),
* ``exact``:   the same value as a float64 array (``np.float64(0.7)``),
* ``rounded``: the value rounded to float32 and widened back (``np.float64(np.float32(0.7))``),

and reports which of ``exact`` / ``rounded`` the ``python`` result equals bit for bit. Keras
turns a Python float into a tensor with ``tf.convert_to_tensor`` (float32) wherever it calls
``tf.cast(x, dtype)`` on it, but converts it exactly wherever it passes ``dtype=`` to
``tf.convert_to_tensor`` or lets a float64 tensor's operator convert it.

Run from the repository root with the tf-keras virtualenv of the generators::

    /tmp/tfv/bin/python tests/golden/probe_float64.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tfkeras import keras, tf  # noqa: E402

F64 = np.float64
ROWS: list[tuple[str, str, str, str]] = []


def exact(x: Any) -> np.ndarray:
    return np.asarray(x, F64)


def rounded(x: Any) -> np.ndarray:
    return np.asarray(x, F64).astype(np.float32).astype(F64)


def fmt(a: np.ndarray) -> str:
    a = np.asarray(a)
    if a.size == 1:
        return repr(float(a.reshape(())))
    return "[" + ", ".join(repr(float(v)) for v in a.reshape(-1)[:4]) + (", ...]" if a.size > 4 else "]")


def probe(argument: str, kind: str, python_value: Any, run: Callable[[Any], Any]) -> str:
    """Run ``run`` on the three forms of ``python_value``; add a table row; return the verdict."""
    got = np.asarray(run(python_value))
    ex = np.asarray(run(exact(python_value)))
    ro = np.asarray(run(rounded(python_value)))
    same_ex = np.array_equal(got, ex, equal_nan=True)
    same_ro = np.array_equal(got, ro, equal_nan=True)
    if same_ro and not same_ex:
        verdict = "**f64(f32(x))**"
    elif same_ex and not same_ro:
        verdict = "exact f64"
    elif same_ex and same_ro:
        verdict = "indistinguishable here"
    else:
        verdict = "neither (!)"
    dtype = got.dtype.name
    numbers = f"python {fmt(got)} ({dtype}); exact-f64 input {fmt(ex)}; f32-rounded input {fmt(ro)}"
    ROWS.append((argument, kind, verdict, numbers))
    return verdict


def t(x, dtype=F64):
    return tf.constant(np.asarray(x, dtype))


# -------------------------------------------------------------------------------------------
# Data where float32 rounding of 0.7 / 0.1 / 1/3 shows.

Y2 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], F64)
P2 = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]], F64)
L2 = np.array([[1.0, 2.0, 3.0], [100.0, 0.0, -100.0]], F64)
SPARSE = np.array([1, 2], np.int64)
BY = np.array([[0.0, 1.0], [0.0, 0.0]], F64)
BP = np.array([[0.6, 0.4], [0.4, 0.6]], F64)


def loss_cases():
    """(name, constructor kwargs, y_true, y_pred) for every Loss class."""
    return [
        ("CategoricalCrossentropy", {}, Y2, P2),
        ("CategoricalCrossentropy", {"from_logits": True}, Y2, L2),
        ("SparseCategoricalCrossentropy", {}, SPARSE, P2),
        ("SparseCategoricalCrossentropy", {"ignore_class": 1}, np.array([1, 2, 0], np.int64),
         np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], F64)),
        ("BinaryCrossentropy", {}, BY, BP),
        ("BinaryCrossentropy", {"from_logits": True}, BY, L2[:, :2]),
        ("MeanSquaredError", {}, BY, BP),
        ("MeanAbsoluteError", {}, BY, BP),
    ]


def probe_binary_accuracy():
    # f64(f32(0.7)) = 0.699999988079071 < 0.7; f64(f32(0.1)) = 0.10000000149 > 0.1;
    # f64(f32(1/3)) = 0.3333333432674408 > 1/3. Predictions between t and f64(f32(t)) flip.
    for thr, preds in (
        (0.7, [0.7, 0.6999999999, 0.7000000001, 0.69999998]),
        (0.1, [0.1, 0.1000000005, 0.1000000016, 0.0999999]),
        (1 / 3, [1 / 3, 0.33333334, 0.3333333433, 0.3333]),
    ):
        y_true = np.ones((1, 4), F64)
        y_pred = np.array([preds], F64)
        probe(
            "`metrics.binary_accuracy(y_true, y_pred, threshold=t)`",
            f"threshold Python float {thr!r}; y_pred float64 {preds}",
            thr,
            lambda v: keras.metrics.binary_accuracy(t(y_true), t(y_pred), threshold=v),
        )
        probe(
            "`BinaryAccuracy(threshold=t, dtype='float64')`",
            f"threshold Python float {thr!r}; y_pred float64 {preds} (one update, result)",
            thr,
            lambda v: _metric_result(keras.metrics.BinaryAccuracy(threshold=v, dtype="float64"), t(y_true), t(y_pred)),
        )
        probe(
            "`BinaryAccuracy(threshold=t)` (dtype float32)",
            f"threshold Python float {thr!r}; y_pred float64 {preds}",
            thr,
            lambda v: _metric_result(keras.metrics.BinaryAccuracy(threshold=v), t(y_true), t(y_pred)),
        )


def _metric_result(metric, *args, sample_weight=None):
    metric.update_state(*args, sample_weight=sample_weight)
    return np.array([metric.result().numpy(), metric.total.numpy(), metric.count.numpy()])


def probe_loss_sample_weight():
    for cls, opts, yt, yp in loss_cases():
        for red in ("auto", "none", "sum", "sum_over_batch_size"):
            loss = getattr(keras.losses, cls)(reduction=red, **opts)
            tag = ", ".join(f"{k}={v}" for k, v in opts.items())
            probe(
                f"`losses.{cls}({tag})` sample_weight",
                f"Python float 0.7, float64 y_pred, reduction={red}",
                0.7,
                lambda v: loss(t(yt, yt.dtype), t(yp), sample_weight=v),
            )
        loss = getattr(keras.losses, cls)(**opts)
        weights = [0.7, 0.1, 1 / 3][: len(yp)]
        probe(
            f"`losses.{cls}({tag})` sample_weight",
            f"Python list {[round(w, 4) for w in weights]}, float64 y_pred, reduction=auto",
            weights,
            lambda v: loss(t(yt, yt.dtype), t(yp), sample_weight=v),
        )
        if yt.dtype == F64:
            probe(
                f"`losses.{cls}({tag})` sample_weight",
                "Python float 0.7, float64 y_pred, reduction=auto, y_true as Python list",
                0.7,
                lambda v: loss(yt.tolist(), t(yp), sample_weight=v),
            )


def probe_y_true_python():
    # y_true with values that float32 rounds (0.7, 0.1, 1/3).
    yt = [[0.7, 0.1, 0.2], [1 / 3, 0.1, 0.7]]
    yp = np.array([[0.5, 0.25, 0.25], [0.2, 0.3, 0.5]], F64)
    lg = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], F64)
    fns = [
        ("`losses.mean_squared_error`", lambda y: keras.losses.mean_squared_error(y, t(yp))),
        ("`losses.mean_absolute_error`", lambda y: keras.losses.mean_absolute_error(y, t(yp))),
        ("`losses.binary_crossentropy`", lambda y: keras.losses.binary_crossentropy(y, t(yp))),
        ("`losses.binary_crossentropy(from_logits=True)`",
         lambda y: keras.losses.binary_crossentropy(y, t(lg), from_logits=True)),
        ("`losses.categorical_crossentropy`", lambda y: keras.losses.categorical_crossentropy(y, t(yp))),
        ("`losses.categorical_crossentropy(from_logits=True)`",
         lambda y: keras.losses.categorical_crossentropy(y, t(lg), from_logits=True)),
        ("`backend.binary_crossentropy`", lambda y: keras.backend.binary_crossentropy(y, t(yp))),
        ("`backend.categorical_crossentropy`", lambda y: keras.backend.categorical_crossentropy(y, t(yp))),
        ("`nn.sigmoid_cross_entropy_with_logits` labels",
         lambda y: tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=t(lg))),
        ("`nn.softmax_cross_entropy_with_logits` labels",
         lambda y: tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=t(lg))),
        ("`losses.MeanSquaredError()`", lambda y: keras.losses.MeanSquaredError()(y, t(yp))),
        ("`losses.BinaryCrossentropy()`", lambda y: keras.losses.BinaryCrossentropy()(y, t(yp))),
        ("`losses.CategoricalCrossentropy()`", lambda y: keras.losses.CategoricalCrossentropy()(y, t(yp))),
    ]
    for name, fn in fns:
        try:
            probe(f"{name} y_true", "Python list [[0.7, 0.1, 0.2], [1/3, 0.1, 0.7]], float64 y_pred", yt, fn)
        except Exception as exc:  # record, do not stop
            ROWS.append((f"{name} y_true", "Python list, float64 y_pred", f"raises {type(exc).__name__}", str(exc)[:80]))
    probe("`losses.mean_squared_error` y_true", "Python float 0.7 (scalar), float64 y_pred (2,3)", 0.7,
          lambda y: keras.losses.mean_squared_error(y, t(yp)))
    probe("`losses.MeanSquaredError()` y_true", "Python float 0.7 (scalar), float64 y_pred (2,3)", 0.7,
          lambda y: keras.losses.MeanSquaredError()(y, t(yp)))


def probe_label_smoothing():
    for ls in (0.1, 1 / 3):
        probe("`losses.categorical_crossentropy(label_smoothing=ls)`", f"ls Python float {ls!r}, float64", ls,
              lambda v: keras.losses.categorical_crossentropy(t(Y2), t(P2), label_smoothing=v))
        probe("`losses.categorical_crossentropy(from_logits=True, label_smoothing=ls)`", f"ls {ls!r}, float64", ls,
              lambda v: keras.losses.categorical_crossentropy(t(Y2), t(L2), from_logits=True, label_smoothing=v))
        probe("`losses.binary_crossentropy(label_smoothing=ls)`", f"ls {ls!r}, float64", ls,
              lambda v: keras.losses.binary_crossentropy(t(BY), t(BP), label_smoothing=v))
        probe("`losses.CategoricalCrossentropy(label_smoothing=ls)`", f"ls {ls!r}, float64", ls,
              lambda v: keras.losses.CategoricalCrossentropy(label_smoothing=v)(t(Y2), t(P2)))
        probe("`losses.BinaryCrossentropy(label_smoothing=ls)`", f"ls {ls!r}, float64", ls,
              lambda v: keras.losses.BinaryCrossentropy(label_smoothing=v)(t(BY), t(BP)))
        probe("`metrics.CategoricalCrossentropy(label_smoothing=ls, dtype='float64')`", f"ls {ls!r}, float64", ls,
              lambda v: _metric_result(keras.metrics.CategoricalCrossentropy(label_smoothing=v, dtype="float64"),
                                       t(Y2), t(P2)))
        probe("`metrics.BinaryCrossentropy(label_smoothing=ls, dtype='float64')`", f"ls {ls!r}, float64", ls,
              lambda v: _metric_result(keras.metrics.BinaryCrossentropy(label_smoothing=v, dtype="float64"),
                                       t(BY), t(BP)))


def probe_metric_weights():
    vals = np.array([0.5, 1.5, 2.25], F64)
    for sw in (0.7, 0.1, 1 / 3):
        probe("`Mean(dtype='float64').update_state` sample_weight", f"Python float {sw!r}, float64 values", sw,
              lambda v: _metric_result(keras.metrics.Mean(dtype="float64"), t(vals), sample_weight=v))
    probe("`Mean(dtype='float64').update_state` sample_weight", "Python list [0.7, 0.1, 1/3]", [0.7, 0.1, 1 / 3],
          lambda v: _metric_result(keras.metrics.Mean(dtype="float64"), t(vals), sample_weight=v))
    probe("`Mean(dtype='float64').update_state` values", "Python list [0.7, 0.1, 1/3]", [0.7, 0.1, 1 / 3],
          lambda v: _metric_result(keras.metrics.Mean(dtype="float64"), v))
    probe("`Mean(dtype='float64').update_state` values", "Python float 0.7", 0.7,
          lambda v: _metric_result(keras.metrics.Mean(dtype="float64"), v))
    probe("`Mean()` (float32) sample_weight", "Python float 0.7, float64 values", 0.7,
          lambda v: _metric_result(keras.metrics.Mean(), t(vals), sample_weight=v))
    for cls, opts, yt, yp in loss_cases() + [("Accuracy", {}, BY, np.array([[0.0, 1.0], [0.7, 0.0]], F64)),
                                             ("BinaryAccuracy", {}, BY, BP)]:
        tag = ", ".join(f"{k}={v}" for k, v in opts.items())
        probe(f"`metrics.{cls}({tag}dtype='float64')` sample_weight", "Python float 0.7", 0.7,
              lambda v: _metric_result(getattr(keras.metrics, cls)(dtype="float64", **opts), t(yt, yt.dtype), t(yp),
                                       sample_weight=v))
        n = len(yp)
        probe(f"`metrics.{cls}({tag}dtype='float64')` sample_weight", "Python list", [0.7, 0.1, 1 / 3][:n],
              lambda v: _metric_result(getattr(keras.metrics, cls)(dtype="float64", **opts), t(yt, yt.dtype), t(yp),
                                       sample_weight=v))
    y_list = [[0.7, 0.1], [1 / 3, 0.0]]
    probe("`metrics.MeanSquaredError(dtype='float64')` y_true", "Python list", y_list,
          lambda v: _metric_result(keras.metrics.MeanSquaredError(dtype="float64"), v, t(BP)))
    probe("`metrics.BinaryCrossentropy(dtype='float64')` y_true", "Python list", y_list,
          lambda v: _metric_result(keras.metrics.BinaryCrossentropy(dtype="float64"), v, t(BP)))


def probe_epsilon():
    """Not a user argument: compare Keras's float64 clip/epsilon results with both formulas."""
    e = 1e-7
    e32 = float(np.float32(1e-7))
    rows = [
        ("`backend.binary_crossentropy` clip ε and +ε", "float64 target 1, output 0",
         keras.backend.binary_crossentropy(t([1.0]), t([0.0])), -np.log(e + e), -np.log(e32 + e32)),
        ("`backend.binary_crossentropy` 1-ε side", "float64 target 0, output 1",
         keras.backend.binary_crossentropy(t([0.0]), t([1.0])), -np.log(1 - (1 - e) + e), -np.log(1 - (1 - e32) + e32)),
        ("`backend.categorical_crossentropy` clip ε", "float64 target [1,0], output [0,1]",
         keras.backend.categorical_crossentropy(t([[1.0, 0.0]]), t([[0.0, 1.0]])), -np.log(e), -np.log(e32)),
        ("`backend.sparse_categorical_crossentropy` clip ε", "float64 target 0, output [0,1]",
         keras.backend.sparse_categorical_crossentropy(tf.constant([0]), t([[0.0, 1.0]])),
         -(np.log(e) - np.log(e + (1 - e))), -(np.log(e32) - np.log(e32 + (1 - e32)))),
    ]
    for argument, kind, got, want_exact, want_rounded in rows:
        got = np.asarray(got).reshape(-1)[0]
        if got == want_exact and got != want_rounded:
            verdict = "exact f64"
        elif got == want_rounded and got != want_exact:
            verdict = "**f64(f32(x))**"
        else:
            verdict = f"close to exact by {abs(got - want_exact):.3g}, to rounded by {abs(got - want_rounded):.3g}"
        ROWS.append((argument, kind, verdict, f"Keras {got!r}; exact-ε formula {want_exact!r}; "
                                              f"f32-ε formula {want_rounded!r}"))


def main():
    probe_binary_accuracy()
    probe_loss_sample_weight()
    probe_y_true_python()
    probe_label_smoothing()
    probe_metric_weights()
    probe_epsilon()
    print("| argument | input kind | what tf-keras 2.21 does | example numbers |")
    print("| --- | --- | --- | --- |")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
