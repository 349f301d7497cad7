"""Performance estimation before labels arrive (confidence-based, binary classifiers).

A calibrator maps the model's positive-class score ``s`` to a calibrated probability ``q``.
It is fitted on the holdout dataset of the version's newest ``holdout`` evaluation: isotonic
regression (held out rows >= 1000) or Platt scaling (a logistic fit on ``logit(s)``),
``config.performance.calibration`` choosing explicitly. Then, per window, with ``q`` for
every logged prediction:

- expected accuracy (threshold 0.5) = mean(max(q, 1 - q));
- expected ROC AUC: each row is a positive with weight ``q`` and a negative with weight
  ``1 - q``; the AUC of those weighted pairs, ranked by ``s``, ties counting one half and a
  row never paired with itself:
  ``sum_{i != j} q_i (1 - q_j) [s_i > s_j or 1/2 if s_i = s_j] /
  (sum q * sum (1 - q) - sum q (1 - q))``.

Both are what the realized figures converge to when ``q`` is calibrated and production
follows the holdout's relation between score and outcome (covariate shift only).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelward.errors import InvalidInput
from modelward.evaluation.tables import Evaluation
from modelward.registry.tables import ModelVersion
from modelward.uow import UnitOfWork

ISOTONIC_MIN_ROWS = 1000
CALIBRATIONS = ("auto", "isotonic", "platt")
_CACHE: dict[tuple[str, str, str], Calibrator] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Calibrator:
    kind: str  # isotonic | platt
    x: tuple[float, ...]  # isotonic knots, or (slope, intercept) for Platt
    y: tuple[float, ...]
    rows: int

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        s = np.asarray(scores, dtype="float64")
        if self.kind == "isotonic":
            return np.clip(np.interp(s, self.x, self.y), 0.0, 1.0)
        slope, intercept = self.x
        z = slope * _logit(s) + intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def _logit(s: np.ndarray) -> np.ndarray:
    p = np.clip(s, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def label_key(value: Any) -> str:
    """Labels compared by text, an integral float read as the integer (1.0 is "1")."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def fit_calibrator(scores: np.ndarray, outcomes: np.ndarray, kind: str = "auto") -> Calibrator:
    """Fit ``q = c(s)`` on scores and 0/1 outcomes."""
    s = np.asarray(scores, dtype="float64")
    y = np.asarray(outcomes, dtype="float64")
    keep = np.isfinite(s)
    s, y = s[keep], y[keep]
    if s.size < 2 or np.unique(y).size < 2:
        raise InvalidInput(
            "the holdout needs both classes and at least 2 scored rows to calibrate on",
            field="evaluation",
        )
    if kind == "auto":
        kind = "isotonic" if s.size >= ISOTONIC_MIN_ROWS else "platt"
    if kind == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
        return Calibrator(
            "isotonic", tuple(iso.X_thresholds_.tolist()), tuple(iso.y_thresholds_.tolist()), s.size
        )
    return _platt(s, y)


def _platt(s: np.ndarray, y: np.ndarray) -> Calibrator:
    from scipy.optimize import minimize

    z = _logit(s)

    def loss(w: np.ndarray) -> float:
        t = w[0] * z + w[1]
        # log(1 + e^t) - y t, written to stay finite for large |t|
        return float(np.sum(np.logaddexp(0.0, t) - y * t))

    def grad(w: np.ndarray) -> np.ndarray:
        r = 1.0 / (1.0 + np.exp(-np.clip(w[0] * z + w[1], -500, 500))) - y
        return np.array([np.sum(r * z), np.sum(r)])

    fit = minimize(loss, np.array([1.0, 0.0]), jac=grad, method="BFGS")
    return Calibrator("platt", (float(fit.x[0]), float(fit.x[1])), (), s.size)


def expected_accuracy(q: np.ndarray) -> float | None:
    q = np.asarray(q, dtype="float64")
    return float(np.mean(np.maximum(q, 1.0 - q))) if q.size else None


def expected_roc_auc(scores: np.ndarray, q: np.ndarray) -> float | None:
    """Weighted AUC of rows as positives (weight q) against rows as negatives (1 - q)."""
    s = np.asarray(scores, dtype="float64")
    q = np.asarray(q, dtype="float64")
    if s.size < 2:
        return None
    values, group = np.unique(s, return_inverse=True)
    pos = np.bincount(group, weights=q, minlength=values.size)
    neg = np.bincount(group, weights=1.0 - q, minlength=values.size)
    self_pairs = q * (1.0 - q)
    below = np.cumsum(neg) - neg
    numerator = float(np.sum(pos * (below + 0.5 * neg)) - 0.5 * self_pairs.sum())
    denominator = float(q.sum() * (1.0 - q).sum() - self_pairs.sum())
    if denominator <= 1e-12:
        return None
    return min(1.0, max(0.0, numerator / denominator))


def newest_holdout(uow: UnitOfWork, version_id: int) -> Evaluation | None:
    from sqlalchemy import select

    query = (
        select(Evaluation)
        .where(Evaluation.version_id == version_id, Evaluation.name == "holdout")
        .order_by(Evaluation.created_at.desc(), Evaluation.id)
        .limit(1)
    )
    return uow.session.scalar(query)


def calibrator_for(
    uow: UnitOfWork, version: ModelVersion, evaluation: Evaluation, kind: str = "auto"
) -> Calibrator:
    """The calibrator of the version's scores on the evaluation's holdout (cached by digests)."""
    key = (evaluation.model_digest, evaluation.dataset_digest, kind)
    with _LOCK:
        found = _CACHE.get(key)
    if found is not None:
        return found
    scores, outcomes = _holdout_scores(uow, version, evaluation)
    calibrator = fit_calibrator(scores, outcomes, kind)
    with _LOCK:
        _CACHE[key] = calibrator
    return calibrator


def _holdout_scores(
    uow: UnitOfWork, version: ModelVersion, evaluation: Evaluation
) -> tuple[np.ndarray, np.ndarray]:
    from modelward.datasets.tables import DatasetVersion
    from modelward.evaluation.inputs import load_frame, load_model, signature_features
    from modelward.evaluation.scoring import resolve_features
    from modelward.monitoring.baseline import predict

    results = evaluation.results or {}
    target, positive = results.get("target"), results.get("positive_label")
    if target is None or positive is None:
        raise InvalidInput(
            "the newest holdout evaluation is not a binary classification", field="evaluation"
        )
    dataset = uow.session.get_one(DatasetVersion, evaluation.dataset_version_id)
    frame = load_frame(uow, dataset)
    model = load_model(uow, version)
    columns = resolve_features(model, frame, target, signature_features(version))
    _, score = predict(model, frame[columns])
    if score is None:
        raise InvalidInput("the model has no binary predict_proba", field="evaluation")
    hits = [label_key(v) == positive or str(v) == positive for v in frame[target]]
    outcomes = np.array(hits, dtype="float64")
    return score.to_numpy(dtype="float64"), outcomes
