"""Task metrics on encoded labels, with every undefined value named instead of stored.

Classification inputs are class *codes*: ``y`` and ``pred`` hold indices into the model's
``classes_`` and ``proba`` has one column per class in that order. For a binary model the
positive class is code 1 (``classes_[1]``), as scikit-learn treats it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

CLASSIFICATION_METRICS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
)
REGRESSION_METRICS = ("rmse", "mae", "mape", "r2")
PROBA_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")
ECE_BINS = 15
NO_PROBA = "the model has no predict_proba"

Metrics = dict[str, float]
Undefined = dict[str, str]


class UndefinedMetric(Exception):
    """A metric that cannot be computed on these rows; the message says why."""


def metric_names(task: str) -> tuple[str, ...]:
    return CLASSIFICATION_METRICS if task == "classification" else REGRESSION_METRICS


def classification_metrics(
    y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, n_classes: int
) -> tuple[Metrics, Undefined]:
    """Every classification metric on these rows; the undefined ones with their reason."""
    binary = n_classes == 2
    fns: dict[str, Callable[[], float]] = {
        "accuracy": lambda: _accuracy(y, pred),
        "precision": lambda: _prf(y, pred, binary, skm.precision_score),
        "recall": lambda: _prf(y, pred, binary, skm.recall_score),
        "f1": lambda: _prf(y, pred, binary, skm.f1_score),
    }
    if proba is not None:
        fns |= {
            "roc_auc": lambda: _roc_auc(y, proba),
            "pr_auc": lambda: _pr_auc(y, proba),
            "log_loss": lambda: _log_loss(y, proba),
            "brier": lambda: _brier(y, proba),
            "ece": lambda: expected_calibration_error(y, proba),
        }
    found, undefined = _collect(fns)
    if proba is None:
        undefined |= {name: NO_PROBA for name in PROBA_METRICS}
    return found, undefined


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> tuple[Metrics, Undefined]:
    fns: dict[str, Callable[[], float]] = {
        "rmse": lambda: float(skm.root_mean_squared_error(y, pred)),
        "mae": lambda: float(skm.mean_absolute_error(y, pred)),
        "mape": lambda: _mape(y, pred),
        "r2": lambda: _r2(y, pred),
    }
    return _collect(fns)


def _collect(fns: dict[str, Callable[[], float]]) -> tuple[Metrics, Undefined]:
    found: Metrics = {}
    undefined: Undefined = {}
    for name, fn in fns.items():
        try:
            value = fn()
        except UndefinedMetric as exc:
            undefined[name] = str(exc)
            continue
        except ValueError as exc:  # scikit-learn's refusal, e.g. non-finite predictions
            undefined[name] = str(exc).splitlines()[0]
            continue
        if math.isfinite(value):
            found[name] = value
        else:
            undefined[name] = "not a finite number"
    return found, undefined


def _require_rows(y: np.ndarray) -> None:
    if len(y) == 0:
        raise UndefinedMetric("no rows")


def _accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    _require_rows(y)
    return float(np.mean(y == pred))


def _prf(y: np.ndarray, pred: np.ndarray, binary: bool, fn: Callable[..., float]) -> float:
    _require_rows(y)
    if binary:
        # NaN marks a zero division (no predicted or no actual positives): undefined, not 0.
        value = float(fn(y, pred, pos_label=1, average="binary", zero_division=np.nan))
        if math.isnan(value):
            raise UndefinedMetric("zero division: no positive predictions or no positive rows")
        return value
    # Macro over the classes present in y or pred; a class never predicted scores 0.
    return float(fn(y, pred, average="macro", zero_division=0.0))


def _require_all_classes(y: np.ndarray, n_classes: int) -> None:
    present = np.unique(y)
    if len(present) < 2:
        raise UndefinedMetric("only one class present")
    if len(present) < n_classes:
        raise UndefinedMetric(f"only {len(present)} of {n_classes} classes present")


def _roc_auc(y: np.ndarray, proba: np.ndarray) -> float:
    k = proba.shape[1]
    _require_all_classes(y, k)
    if k == 2:
        return float(skm.roc_auc_score(y, proba[:, 1]))
    return float(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=np.arange(k))
    )


def _pr_auc(y: np.ndarray, proba: np.ndarray) -> float:
    k = proba.shape[1]
    _require_all_classes(y, k)
    if k == 2:
        return float(skm.average_precision_score(y, proba[:, 1], pos_label=1))
    onehot = np.eye(k, dtype=np.int8)[y]
    return float(skm.average_precision_score(onehot, proba, average="macro"))


def _log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    _require_rows(y)
    return float(skm.log_loss(y, proba, labels=np.arange(proba.shape[1])))


def _brier(y: np.ndarray, proba: np.ndarray) -> float:
    _require_rows(y)
    if proba.shape[1] == 2:
        return float(skm.brier_score_loss(y, proba[:, 1], pos_label=1))
    return float(np.mean(np.sum((proba - np.eye(proba.shape[1])[y]) ** 2, axis=1)))


def ece_bins(confidence: np.ndarray) -> np.ndarray:
    """Bin index (0..14) of each top-label confidence; 1.0 falls into the last bin."""
    return np.minimum((confidence * ECE_BINS).astype(np.int64), ECE_BINS - 1)


def expected_calibration_error(y: np.ndarray, proba: np.ndarray) -> float:
    """Top-label ECE: weighted mean over 15 equal-width bins of |accuracy - confidence|."""
    _require_rows(y)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(np.float64)
    bins = ece_bins(confidence)
    gap = np.bincount(bins, weights=correct - confidence, minlength=ECE_BINS)
    return float(np.abs(gap).sum() / len(y))


def _mape(y: np.ndarray, pred: np.ndarray) -> float:
    nonzero = y != 0
    if not nonzero.any():
        raise UndefinedMetric("every target value is 0")
    # Rows with y == 0 are left out: their percentage error has no finite value.
    return float(skm.mean_absolute_percentage_error(y[nonzero], pred[nonzero]))


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    if len(y) < 2:
        raise UndefinedMetric("fewer than 2 rows")
    if np.all(y == y[0]):
        raise UndefinedMetric("the target is constant")
    return float(skm.r2_score(y, pred))
