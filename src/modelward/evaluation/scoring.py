"""Scoring a model over a frame once, timing it the way a serving caller would feel it.

All metrics, slices, fairness numbers and bootstrap deltas come from the single pass made
here: predicting twice would double the cost on large holdouts and could disagree for
models with randomness at inference time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInput

TASKS = ("classification", "regression")
MAX_CLASSES = 50
BATCH_ROWS = 1000
SINGLE_ROW_SAMPLE = 200


@dataclass(frozen=True)
class Scored:
    """One model's predictions on the frame, in encoded form (see ``metrics``)."""

    task: str
    classes: list[Any]  # the model's labels, in ``proba`` column order; [] for regression
    y: np.ndarray  # class codes or float targets
    pred: np.ndarray  # class codes or float predictions
    proba: np.ndarray | None  # (rows, classes) float64; None without predict_proba
    latency_ms: dict[str, float | int]

    @property
    def binary(self) -> bool:
        return self.task == "classification" and len(self.classes) == 2


def resolve_features(model: Any, frame: pd.DataFrame, target: str, features: Sequence[str] | None):
    """The model's input columns: explicit ones, else what the model was fitted on, else all."""
    if target not in frame.columns:
        raise InvalidInput(f"target column {target!r} is not in the dataset", field="target")
    if features is not None:
        chosen = list(features)
    elif hasattr(model, "feature_names_in_"):
        chosen = [str(c) for c in model.feature_names_in_]
    else:
        chosen = [c for c in frame.columns if c != target]
    missing = [c for c in chosen if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"the dataset lacks model input columns: {', '.join(map(str, missing[:10]))}",
            field="features",
        )
    if target in chosen:
        raise InvalidInput(f"the target {target!r} cannot be a model input", field="features")
    if not chosen:
        raise InvalidInput("no model input columns", field="features")
    return chosen


def resolve_task(model: Any, y: pd.Series, task: str | None) -> str:
    """An explicit task wins; then what the model says it is; then the target's shape."""
    from sklearn.base import is_classifier, is_regressor

    if task is not None:
        if task not in TASKS:
            raise InvalidInput(
                f"task must be one of {', '.join(TASKS)}, not {task!r}", field="task"
            )
        return task
    if hasattr(model, "predict_proba") or is_classifier(model):
        return "classification"
    if is_regressor(model):
        return "regression"
    if not pd.api.types.is_float_dtype(y) and y.nunique() <= MAX_CLASSES:
        return "classification"
    return "regression"


def model_classes(model: Any, y: pd.Series, pred: np.ndarray | None) -> list[Any]:
    if hasattr(model, "classes_"):
        return list(model.classes_)
    seen = pd.unique(pd.concat([y, pd.Series(pred)], ignore_index=True).dropna())
    return sorted(seen, key=str)


def encode(values: Any, classes: list[Any], field: str) -> np.ndarray:
    """Labels -> codes into ``classes``; labels are matched by their text so 1 == "1"."""
    index = {str(c): i for i, c in enumerate(classes)}
    text = pd.Series(values).astype(str)
    codes = text.map(index)
    if codes.isna().any():
        unknown = sorted(set(text[codes.isna()]))[:5]
        raise InvalidInput(
            f"labels the model does not know: {', '.join(unknown)} (model classes: "
            f"{', '.join(index)})",
            field=field,
        )
    return codes.to_numpy(dtype=np.int64)


def check_target(y: pd.Series, target: str, task: str) -> None:
    if y.isna().any():
        raise InvalidInput(
            f"target column {target!r} has {int(y.isna().sum())} missing values", field="target"
        )
    if task == "regression" and not pd.api.types.is_numeric_dtype(y):
        raise InvalidInput(f"regression target {target!r} is not numeric", field="target")


def score(
    model: Any,
    x: pd.DataFrame,
    y: pd.Series,
    task: str,
    *,
    threshold: float = 0.5,
    batch_rows: int = BATCH_ROWS,
    single_rows: int = SINGLE_ROW_SAMPLE,
    progress: Callable[[float], None] | None = None,
) -> Scored:
    """Predict every row once in batches; also time single-row calls on a small sample."""
    use_proba = task == "classification" and hasattr(model, "predict_proba")
    method = model.predict_proba if use_proba else model.predict
    if len(x) == 0:
        raise InvalidInput("the dataset has no rows", field="dataset")
    outputs, batch_ms = _batched(method, x, batch_rows, progress)
    raw = np.concatenate(outputs)
    latency: dict[str, float | int] = {
        **_percentiles(batch_ms, ""),
        "batch_rows": int(min(batch_rows, len(x))),
        "batches": len(batch_ms),
        **_percentiles(_single_rows(method, x, single_rows), "single_row_"),
    }
    if task == "regression":
        pred = _as_float(raw, "predictions")
        return Scored(task, [], _as_float(y.to_numpy(), "target"), pred, None, latency)
    return _classified(model, y, raw, use_proba, threshold, latency)


def _classified(
    model: Any, y: pd.Series, raw: np.ndarray, use_proba: bool, threshold: float, latency: dict
) -> Scored:
    if not use_proba:
        classes = model_classes(model, y, raw)
        return Scored(
            "classification", classes, encode(y, classes, "target"),
            encode(raw, classes, "model"), None, latency,
        )  # fmt: skip
    classes = model_classes(model, y, None)
    proba = np.asarray(raw, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise InvalidInput(
            f"predict_proba returned shape {proba.shape} for {len(classes)} classes", field="model"
        )
    if len(classes) == 2:
        pred = (proba[:, 1] >= threshold).astype(np.int64)
    else:
        pred = proba.argmax(axis=1)
    return Scored("classification", classes, encode(y, classes, "target"), pred, proba, latency)


def _batched(
    method: Callable[[pd.DataFrame], Any],
    x: pd.DataFrame,
    batch_rows: int,
    progress: Callable[[float], None] | None,
) -> tuple[list[np.ndarray], list[float]]:
    outputs: list[np.ndarray] = []
    times: list[float] = []
    for start in range(0, len(x), batch_rows):
        batch = x.iloc[start : start + batch_rows]
        t0 = time.perf_counter_ns()
        out = method(batch)
        times.append((time.perf_counter_ns() - t0) / 1e6)
        outputs.append(np.asarray(out))
        if progress is not None:
            progress(min(1.0, (start + len(batch)) / len(x)))
    return outputs, times


def _single_rows(method: Callable[[pd.DataFrame], Any], x: pd.DataFrame, n: int) -> list[float]:
    # Evenly spread rows, so a sorted holdout does not time only its first stretch.
    picks = np.unique(np.linspace(0, len(x) - 1, num=min(n, len(x))).astype(np.int64))
    times: list[float] = []
    for i in picks:
        row = x.iloc[[int(i)]]
        t0 = time.perf_counter_ns()
        method(row)
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return times


def _percentiles(ms: list[float], prefix: str) -> dict[str, float]:
    if not ms:
        return {}
    p50, p95 = np.percentile(np.asarray(ms), [50, 95])
    return {f"{prefix}p50": float(p50), f"{prefix}p95": float(p95)}


def _as_float(values: Any, field: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} are not numeric", field=field) from None
