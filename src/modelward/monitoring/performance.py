"""Performance over time: realized metrics once labels arrive, estimated ones before.

Per window of prediction time:

- ``label_coverage``: labelled predictions / predictions logged, with the median label lag
  (label time - prediction time, seconds) in its details.
- realized (method ``realized``, one row per task metric, from
  ``evaluation.metrics``): computed on the labelled predictions; compared with the version's
  newest ``holdout`` evaluation (``details.holdout``, ``details.delta``); flagged when worse
  than the holdout by more than ``tolerance`` (default 0.05) with at least ``min_labels``
  (default 30) labels.
- estimated (method ``estimated``, features ``estimated.accuracy`` and
  ``estimated.roc_auc``; binary classifiers logging scores, with a holdout evaluation): see
  ``estimation``. Once the window has ``min_labels`` labels its status is ``confirmed`` when
  the realized figure lies within ``confirm_tolerance`` (default 0.05) of the estimate, else
  ``withdrawn``; before that ``pending``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from modelward.errors import InvalidInput
from modelward.evaluation.metrics import classification_metrics, regression_metrics
from modelward.monitoring import estimation
from modelward.monitoring.drift import _integer, _mapping, _number
from modelward.monitoring.estimation import label_key
from modelward.monitoring.monitor_schemas import ResultRow
from modelward.monitoring.profiles import PREDICTION
from modelward.monitoring.tables import Endpoint, PredictionSegment
from modelward.monitoring.windows import Span
from modelward.registry.tables import ModelVersion
from modelward.uow import UnitOfWork

COVERAGE = "label_coverage"
LOWER_IS_BETTER = {"log_loss", "brier", "ece", "rmse", "mae", "mape"}
ESTIMATED = ("accuracy", "roc_auc")


@dataclass(frozen=True)
class PerformanceSettings:
    tolerance: float = 0.05
    confirm_tolerance: float = 0.05
    min_labels: int = 30
    calibration: str = "auto"


def performance_settings(config: dict[str, Any]) -> PerformanceSettings:
    raw = _mapping(config.get("performance"), "config.performance")
    calibration = raw.get("calibration", "auto")
    if calibration not in estimation.CALIBRATIONS:
        raise InvalidInput(
            f"config.performance.calibration: must be one of {', '.join(estimation.CALIBRATIONS)}",
            field="config.performance.calibration",
        )
    return PerformanceSettings(
        tolerance=_number(raw.get("tolerance", 0.05), "config.performance.tolerance", 0.0, 1e9),
        confirm_tolerance=_number(
            raw.get("confirm_tolerance", 0.05), "config.performance.confirm_tolerance", 0.0, 1e9
        ),
        min_labels=_integer(
            raw.get("min_labels", 30), "config.performance.min_labels", 1, 10_000_000
        ),
        calibration=calibration,
    )


@dataclass
class Task:
    kind: str  # classification | regression
    classes: list[str]
    holdout: dict[str, float]
    evaluation: Any  # the newest holdout Evaluation, or None


def task_of(uow: UnitOfWork, version: ModelVersion, baseline: dict[str, Any]) -> Task:
    evaluation = estimation.newest_holdout(uow, version.id)
    spec = baseline["features"].get(PREDICTION, {})
    results = evaluation.results if evaluation is not None else {}
    kind = results.get("task") or (
        "classification" if spec.get("kind") == "categorical" else "regression"
    )
    classes = [str(c) for c in spec.get("categories", [])] if kind == "classification" else []
    positive = results.get("positive_label")
    if positive is not None and positive in classes and len(classes) == 2:
        classes = [c for c in classes if c != positive] + [positive]
    return Task(kind, classes, dict(results.get("metrics", {})), evaluation)


def predictions_per_window(
    uow: UnitOfWork, endpoint: Endpoint, digest: str, spans: list[Span]
) -> list[int]:
    query = (
        select(PredictionSegment.hour_ms, func.sum(PredictionSegment.rows))
        .where(
            PredictionSegment.endpoint_id == endpoint.id,
            PredictionSegment.baseline_digest == digest,
            PredictionSegment.hour_ms >= spans[0][0],
            PredictionSegment.hour_ms < spans[-1][1],
        )
        .group_by(PredictionSegment.hour_ms)
    )
    starts = np.array([s[0] for s in spans], dtype=np.int64)
    counts = [0] * len(spans)
    for hour, rows in uow.session.execute(query):
        counts[int(np.searchsorted(starts, int(hour), side="right")) - 1] += int(rows)
    return counts


def _window_of(ts: pd.Series, spans: list[Span]) -> np.ndarray:
    # Whatever the resolution pandas gives the times, count milliseconds since the epoch.
    epoch = pd.Timestamp(0, tz="UTC")
    ms = ((ts - epoch) // pd.Timedelta(milliseconds=1)).to_numpy(dtype=np.int64)
    starts = np.array([s[0] for s in spans], dtype=np.int64)
    idx = np.searchsorted(starts, ms, side="right") - 1
    ends = np.array([s[1] for s in spans], dtype=np.int64)
    inside = (idx >= 0) & (ms < ends[np.clip(idx, 0, len(spans) - 1)])
    return np.where(inside, idx, -1)


def realized_metrics(task: Task, labeled: pd.DataFrame) -> tuple[dict[str, float], dict[str, str]]:
    if labeled.empty:
        return {}, {}
    if task.kind == "regression":
        y = pd.to_numeric(labeled["label"], errors="coerce").to_numpy(dtype="float64")
        pred = pd.to_numeric(labeled["prediction"], errors="coerce").to_numpy(dtype="float64")
        ok = np.isfinite(y) & np.isfinite(pred)
        return regression_metrics(y[ok], pred[ok])
    y_text = [label_key(v) for v in labeled["label"]]
    p_text = [label_key(v) for v in labeled["prediction"]]
    classes = list(task.classes)
    for value in sorted(set(y_text) | set(p_text)):
        if value not in classes:
            classes.append(value)
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[v] for v in y_text], dtype=np.int64)
    pred = np.array([index[v] for v in p_text], dtype=np.int64)
    proba = None
    scores = pd.to_numeric(labeled["score"], errors="coerce").to_numpy(dtype="float64")
    if len(classes) == 2 and np.isfinite(scores).all():
        proba = np.column_stack([1.0 - scores, scores])
    return classification_metrics(y, pred, proba, len(classes))


def _degraded(metric: str, value: float, holdout: float | None, tolerance: float) -> bool:
    if holdout is None:
        return False
    if metric in LOWER_IS_BETTER:
        return value > holdout + tolerance
    return value < holdout - tolerance


def _bound(metric: str, holdout: float | None, tolerance: float) -> float | None:
    if holdout is None:
        return None
    return holdout + tolerance if metric in LOWER_IS_BETTER else holdout - tolerance


def _row(span: Span, feature: str, method: str, value: float | None, **kw: Any) -> ResultRow:
    return ResultRow(
        kind="performance",
        window_start_ms=span[0],
        window_end_ms=span[1],
        feature=feature,
        method=method,
        statistic=value,
        threshold=kw.pop("threshold", None),
        p_value=None,
        flagged=kw.pop("flagged", False),
        rows=kw.pop("rows", 0),
        details=kw,
    )


def window_rows(
    span: Span,
    task: Task,
    predictions: int,
    labeled: pd.DataFrame,
    scores: np.ndarray | None,
    calibrator: estimation.Calibrator | None,
    settings: PerformanceSettings,
) -> list[ResultRow]:
    """The performance rows of one window."""
    n = len(labeled)
    lag = (labeled["label_time"] - labeled["ts"]).dt.total_seconds() if n else pd.Series([])
    coverage = n / predictions if predictions else None
    out = [
        _row(
            span, COVERAGE, "coverage", coverage, rows=predictions, labeled=n,
            label_lag_s_median=float(lag.median()) if n else None,
            **({"reason": "no data"} if predictions == 0 else {}),
        )
    ]  # fmt: skip
    found, undefined = realized_metrics(task, labeled)
    enough = n >= settings.min_labels
    for metric, value in found.items():
        holdout = task.holdout.get(metric)
        out.append(
            _row(
                span, metric, "realized", value, rows=n,
                threshold=_bound(metric, holdout, settings.tolerance),
                flagged=enough and _degraded(metric, value, holdout, settings.tolerance),
                holdout=holdout, delta=None if holdout is None else value - holdout,
                coverage=coverage, enough_labels=enough,
            )
        )  # fmt: skip
    if calibrator is not None and scores is not None:
        out += _estimated_rows(span, task, scores, calibrator, found, enough, settings)
    if undefined:
        out[0].details["undefined"] = undefined
    return out


def _estimated_rows(
    span: Span,
    task: Task,
    scores: np.ndarray,
    calibrator: estimation.Calibrator,
    realized: dict[str, float],
    enough: bool,
    settings: PerformanceSettings,
) -> list[ResultRow]:
    s = scores[np.isfinite(scores)]
    q = calibrator(s)
    values = {
        "accuracy": estimation.expected_accuracy(q),
        "roc_auc": estimation.expected_roc_auc(s, q),
    }
    out = []
    for metric, value in values.items():
        holdout = task.holdout.get(metric)
        actual = realized.get(metric) if enough else None
        if value is None:
            status = "insufficient data"
        elif actual is None:
            status = "pending"
        else:
            close = abs(actual - value) <= settings.confirm_tolerance
            status = "confirmed" if close else "withdrawn"
        out.append(
            _row(
                span, f"estimated.{metric}", "estimated", value, rows=int(s.size),
                threshold=_bound(metric, holdout, settings.tolerance),
                flagged=value is not None and _degraded(metric, value, holdout, settings.tolerance),
                holdout=holdout, realized=actual, status=status, calibration=calibrator.kind,
            )
        )  # fmt: skip
    return out


def window_scores(
    uow: UnitOfWork, endpoint: Endpoint, digest: str, spans: list[Span]
) -> list[np.ndarray]:
    """The logged scores of each window (read from the segments' score column only)."""
    from modelward.monitoring.prediction_log import SCORE, decode_present

    query = select(PredictionSegment).where(
        PredictionSegment.endpoint_id == endpoint.id,
        PredictionSegment.baseline_digest == digest,
        PredictionSegment.hour_ms >= spans[0][0],
        PredictionSegment.hour_ms < spans[-1][1],
    )
    parts: list[list[np.ndarray]] = [[] for _ in spans]
    starts = np.array([s[0] for s in spans], dtype=np.int64)
    for segment in uow.session.scalars(query):
        frame = decode_present(uow.artifacts.get_bytes(segment.digest, "segment"), [SCORE])
        if SCORE not in frame.columns:
            continue
        i = int(np.searchsorted(starts, segment.hour_ms, side="right")) - 1
        parts[i].append(pd.to_numeric(frame[SCORE], errors="coerce").to_numpy(dtype="float64"))
    return [np.concatenate(p) if p else np.array([]) for p in parts]


def compute_performance(
    uow: UnitOfWork,
    endpoint: Endpoint,
    version: ModelVersion,
    baseline: dict[str, Any],
    spans: list[Span],
    settings: PerformanceSettings,
) -> list[ResultRow]:
    """Realized (and, where possible, estimated) performance of each window."""
    from modelward.monitoring.labels import labeled_predictions
    from modelward.monitoring.monitor_schemas import instant

    if not spans:
        return []
    task = task_of(uow, version, baseline)
    digest = baseline["digest"]
    counts = predictions_per_window(uow, endpoint, digest, spans)
    labeled = labeled_predictions(uow, endpoint, instant(spans[0][0]), instant(spans[-1][1]))
    where = _window_of(labeled["ts"], spans)
    calibrator, scores = None, None
    if _estimable(task, baseline):
        calibrator = estimation.calibrator_for(uow, version, task.evaluation, settings.calibration)
        scores = window_scores(uow, endpoint, digest, spans)
    out = []
    for i, span in enumerate(spans):
        rows = labeled[where == i]
        window_score = scores[i] if scores is not None else None
        if window_score is not None and window_score.size == 0:
            window_score = None
        out += window_rows(span, task, counts[i], rows, window_score, calibrator, settings)
    return out


def _estimable(task: Task, baseline: dict[str, Any]) -> bool:
    from modelward.monitoring.profiles import SCORE

    results = task.evaluation.results if task.evaluation is not None else {}
    return (
        task.kind == "classification"
        and SCORE in baseline["features"]
        and results.get("positive_label") is not None
    )
