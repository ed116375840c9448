"""``keras.metrics.get`` / ``serialize`` / ``deserialize``, and what ``compile`` makes of a metric identifier.

:func:`compile_variant` is the rule tf-keras's ``compile`` uses to turn ``"accuracy"``/``"acc"``
and ``"crossentropy"``/``"ce"`` (any case) into the binary, sparse or categorical variant
from the label and prediction shapes; :func:`get` applies it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from jaxent import _serialization
from jaxent import losses as _losses
from jaxent.losses import (
    binary_crossentropy,
    categorical_crossentropy,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)
from jaxent.metrics import accuracy as _accuracy
from jaxent.metrics._base import Mean, MeanMetricWrapper, Metric
from jaxent.metrics import confusion as _confusion
from jaxent.metrics import probabilistic as _probabilistic
from jaxent.metrics import regression as _regression
from jaxent.metrics.crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from jaxent.metrics.regression import MeanAbsoluteError, MeanSquaredError

__all__ = ["get", "serialize", "deserialize", "compile_variant"]

_FUNCTIONS = (
    _accuracy.accuracy,
    _accuracy.binary_accuracy,
    _accuracy.categorical_accuracy,
    _accuracy.sparse_categorical_accuracy,
    _accuracy.top_k_categorical_accuracy,
    _accuracy.sparse_top_k_categorical_accuracy,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    mean_squared_error,
    mean_absolute_error,
    _losses.hinge,
    _losses.squared_hinge,
    _losses.categorical_hinge,
    _losses.log_cosh,
    _losses.poisson,
    _losses.mean_squared_logarithmic_error,
    _losses.mean_absolute_percentage_error,
    _regression.cosine_similarity,  # tf-keras's metrics.cosine_similarity: the positive cosine
)
# Names tf-keras's metrics.get resolves to a function of another name.
_ALIASES = {
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "logcosh": _losses.log_cosh,
    "kullback_leibler_divergence": _losses.kl_divergence,
    "msle": _losses.mean_squared_logarithmic_error, "MSLE": _losses.mean_squared_logarithmic_error,
    "mape": _losses.mean_absolute_percentage_error, "MAPE": _losses.mean_absolute_percentage_error,
}
# Functions tf_keras.metrics exports whose names its metrics.get hands back as the string itself
# (compile then fails calling it): jaxent resolves them to the function.
UNRESOLVED_BY_KERAS = {
    "kl_divergence": _losses.kl_divergence, "kld": _losses.kl_divergence, "KLD": _losses.kl_divergence,
    "binary_focal_crossentropy": _losses.binary_focal_crossentropy,
    "categorical_focal_crossentropy": _losses.categorical_focal_crossentropy,
}
_CLASSES = (
    Mean,
    MeanMetricWrapper,
    _accuracy.Accuracy,
    _accuracy.BinaryAccuracy,
    _accuracy.CategoricalAccuracy,
    _accuracy.SparseCategoricalAccuracy,
    _accuracy.TopKCategoricalAccuracy,
    _accuracy.SparseTopKCategoricalAccuracy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    BinaryCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    _confusion.TruePositives,
    _confusion.FalsePositives,
    _confusion.TrueNegatives,
    _confusion.FalseNegatives,
    _confusion.Precision,
    _confusion.Recall,
    _confusion.AUC,
    _regression.MeanSquaredLogarithmicError,
    _regression.MeanAbsolutePercentageError,
    _regression.RootMeanSquaredError,
    _regression.LogCoshError,
    _regression.CosineSimilarity,
    _probabilistic.Hinge,
    _probabilistic.SquaredHinge,
    _probabilistic.CategoricalHinge,
    _probabilistic.KLDivergence,
    _probabilistic.Poisson,
)
_NOT_IN_JAXENT = (
    "jaxent implements Keras's mean, accuracy, cross-entropy, regression (MSE, MAE, MSLE, MAPE, RMSE, "
    "log-cosh, cosine similarity), hinge, KL divergence, Poisson and confusion-matrix (TruePositives ... "
    "Recall, AUC) metrics"
)
REGISTRY = _serialization.Registry(
    kind="metric function",
    module="keras.metrics",
    objects={
        **{fn.__name__: fn for fn in _FUNCTIONS},
        **_ALIASES,
        **UNRESOLVED_BY_KERAS,
        **{cls.__name__: cls for cls in _CLASSES},
        # tf-keras hands these back unresolved (compile then fails at evaluate); jaxent resolves them.
        "auc": _confusion.AUC, "precision": _confusion.Precision, "recall": _confusion.Recall,
    },
    instance_types=(Metric,),
    accept_callables=True,
    unsupported={
        **{name: _NOT_IN_JAXENT for name in (
            "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
            "MeanIoU", "IoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "F1Score", "FBetaScore", "R2Score",
            "Sum", "MeanTensor", "MeanRelativeError")},
        "cosine": "tf-keras's metrics.get returns 'cosine' unresolved: use 'cosine_similarity' or CosineSimilarity",
        "rmse": "tf-keras's metrics.get returns 'rmse' unresolved: use 'RootMeanSquaredError'",
        "root_mean_squared_error": "tf-keras's metrics.get returns it unresolved: use 'RootMeanSquaredError'",
        "Metric": "the abstract base class: subclass jaxent.metrics.MeanMetricWrapper and define call",
    },
)

_NEEDS_SHAPES = frozenset({"accuracy", "acc", "ACC", "crossentropy", "ce"})


SHAPE_RESOLVED_NAMES = frozenset({"accuracy", "acc", "crossentropy", "ce"})
"""Metric strings that tf-keras ``compile`` resolves from shapes (compared after ``.lower()``)."""


def compile_variant(
    y_true_shape: Sequence[int], y_pred_shape: Sequence[int]
) -> Literal["binary", "sparse_categorical", "categorical"]:
    """Which variant tf-keras ``compile`` picks for ``"accuracy"``/``"crossentropy"``.

    The rule (tf-keras 2.21, measured with ``Model.evaluate``; the loss plays no part)::

        binary              if y_pred.shape[-1] == 1
        sparse_categorical  elif rank(y_true) < rank(y_pred)
                            or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
        categorical         otherwise

    So ``"accuracy"`` is ``binary_accuracy``, ``sparse_categorical_accuracy`` or
    ``categorical_accuracy`` (and ``"crossentropy"`` the matching crossentropy). Note the
    consequences Keras has: multi-label ``[B, C]`` sigmoid outputs get *categorical* accuracy
    even with a binary crossentropy loss, and rank-1 ``[B]`` predictions are categorical over
    the batch (binary only when ``B == 1``).

    Example::

      >>> compile_variant((32,), (32, 10)), compile_variant((32, 1), (32, 1))
      ('sparse_categorical', 'binary')
    """
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    if not y_true_shape or not y_pred_shape:
        raise ValueError("compile_variant needs labels and predictions of rank >= 1. Received: "
                         f"y_true shape {y_true_shape}, y_pred shape {y_pred_shape}.")
    if y_pred_shape[-1] == 1:
        return "binary"
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1):
        return "sparse_categorical"
    return "categorical"


def _shape(x: Any) -> tuple[int, ...]:
    shape = getattr(x, "shape", None)
    return tuple(np.shape(x) if shape is None else shape)


def metric_function(identifier: Any) -> Any:
    """The metric function a name (``"mse"``), a serialized function dict or a function itself names."""
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    resolved = _serialization.get(identifier, REGISTRY)
    if isinstance(resolved, (type, Metric)) or not callable(resolved):
        raise ValueError(f"{identifier!r} does not name a metric function")
    return resolved


def get(identifier: Any, *, y_true: Any = None, y_pred: Any = None) -> Any:
    """``keras.metrics.get``, or with ``y_true``/``y_pred`` what ``compile(metrics=[...])`` makes of it.

    Without ``y_true``/``y_pred``, as ``keras.metrics.get``: a function name or alias gives the
    function (``"mse"``; exact names; ``"cosine_similarity"`` is the *positive* cosine,
    ``"kullback_leibler_divergence"`` KL divergence, ``"logcosh"``/``"msle"``/``"mape"`` and
    their upper-case forms the log-cosh, MSLE and MAPE functions), a class name an instance with the defaults, a
    ``{"class_name", "config"}`` dict ``Class.from_config(config)``, and metrics and functions
    come back as they are. ``"accuracy"``, ``"acc"``, ``"crossentropy"`` and ``"ce"`` depend
    on the shapes, so they need ``y_true`` and ``y_pred`` (``ValueError`` otherwise: Keras's
    bare ``get("accuracy")`` is the exact-match accuracy, rarely what a script means).

    Deliberate difference: tf-keras 2.21's ``metrics.get`` hands ``"kl_divergence"``, ``"kld"``,
    ``"KLD"``, ``"binary_focal_crossentropy"`` and ``"categorical_focal_crossentropy"`` back as
    the string itself, which ``compile`` then fails to call (``TypeError``), although
    ``tf.keras.metrics`` exports those functions: jaxent resolves them to the functions
    (:data:`UNRESOLVED_BY_KERAS`). The other names it returns unresolved (``"cosine"``,
    ``"rmse"``, ``"root_mean_squared_error"``, ``"huber"``, unknown names) raise ``ValueError``.

    With ``y_true`` and ``y_pred`` (arrays, or anything with a ``.shape``: the first batch),
    the result is always a metric, as ``compile`` builds it: ``"accuracy"``/``"acc"`` and
    ``"crossentropy"``/``"ce"`` in any case become ``MeanMetricWrapper(fn, name=<as written>)``
    with ``fn`` the binary, sparse categorical or categorical variant that tf-keras picks from
    the shapes (``binary`` if ``y_pred.shape[-1] == 1``, else ``sparse`` if ``y_true`` has a
    lower rank or a last axis of 1, else ``categorical``; the loss plays no part); any other
    function is wrapped the same way, named as written.

    ``"auc"``, ``"precision"`` and ``"recall"`` give ``AUC()``, ``Precision()`` and
    ``Recall()`` with the defaults (named ``"auc"``, ``"precision"``, ``"recall"``), as the
    class names do. tf-keras 2.21's ``get`` hands these three strings back unresolved and
    ``compile`` then fails at the first evaluation; jaxent resolves them instead, since each
    names one metric plainly. Other lower-case names of classes stay errors.

    Example:
      >>> labels, probs = jnp.array([2, 1]), jnp.array([[0.1, 0.3, 0.6], [0.5, 0.2, 0.3]])
      >>> metric = get("accuracy", y_true=labels, y_pred=probs)
      >>> metric.fn.__name__, metric.name
      ('sparse_categorical_accuracy', 'accuracy')
      >>> metric.result(metric.update(metric.init(), labels, probs))
      Array(0.5, dtype=float32)
      >>> get("mse").__name__, get("CategoricalAccuracy").name, get("auc").name
      ('mean_squared_error', 'categorical_accuracy', 'auc')
    """
    identifier = _with_wrapped_function(identifier)
    compiling = y_true is not None or y_pred is not None
    if isinstance(identifier, str) and (
        identifier.lower() in SHAPE_RESOLVED_NAMES if compiling else identifier in _NEEDS_SHAPES
    ):
        if y_true is None or y_pred is None:
            raise ValueError(
                f"metric {identifier!r} is resolved from the label and prediction shapes, as tf-keras compile "
                "resolves it (binary, sparse categorical or categorical): pass y_true= and y_pred= "
                "(arrays or anything with a .shape)"
            )
        variant = compile_variant(_shape(y_true), _shape(y_pred))
        kind = "accuracy" if identifier.lower() in ("accuracy", "acc") else "crossentropy"
        return MeanMetricWrapper(REGISTRY.objects[f"{variant}_{kind}"], name=identifier)
    resolved = _serialization.get(identifier, REGISTRY)
    if compiling and not isinstance(resolved, Metric):
        name = identifier if isinstance(identifier, str) else getattr(resolved, "__name__", None)
        return MeanMetricWrapper(resolved, name=name)
    return resolved


def serialize(metric: Any) -> dict[str, Any]:
    """``keras.metrics.serialize``: ``{"module", "class_name", "config", "registered_name"}`` (tf-keras 2.21's format)."""
    if isinstance(metric, MeanMetricWrapper) and metric.fn is not None:
        config = metric.get_config()
        config["fn"] = _serialization.serialize_function(config["fn"])
        return {"module": REGISTRY.module, "class_name": "MeanMetricWrapper", "config": config, "registered_name": None}
    return _serialization.serialize(metric, REGISTRY)


def deserialize(config: Mapping[str, Any]) -> Any:
    """``keras.metrics.deserialize``: the metric (or function) a :func:`serialize` (or tf-keras) dict describes."""
    return _serialization.deserialize(_with_wrapped_function(config), REGISTRY)


def _with_wrapped_function(identifier: Any) -> Any:
    """A ``MeanMetricWrapper`` dict with its ``fn`` (a name or a function dict) resolved to the function."""
    if not isinstance(identifier, Mapping) or identifier.get("class_name") != "MeanMetricWrapper":
        return identifier
    inner = identifier.get("config")
    if not isinstance(inner, Mapping) or "fn" not in inner:
        return identifier
    return {**identifier, "config": {**inner, "fn": metric_function(inner["fn"])}}
