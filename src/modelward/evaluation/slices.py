"""Per-group metrics: which rows a column value (or a numeric bin) covers, and how they score.

Numeric columns with many distinct values are cut into quintile bins so a policy can name a
slice (``slices.age."[19, 27)".recall``) that stays stable across datasets of the same shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInput
from modelward.evaluation.metrics import classification_metrics, regression_metrics
from modelward.evaluation.scoring import Scored

MAX_DISTINCT_BEFORE_BINNING = 20
MAX_GROUPS = 200
QUANTILES = 5
MISSING = "<missing>"


def group_labels(column: pd.Series, field: str) -> tuple[np.ndarray, list[str]]:
    """One text label per row (the value, or its quintile bin for wide numeric columns) and
    the distinct labels in reading order: bins by position, values by their text."""
    values = column.reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique(dropna=True) > MAX_DISTINCT_BEFORE_BINNING:
        labels, names = _quantile_bins(values.astype(np.float64))
    else:
        text = values.astype(object).map(_text, na_action="ignore").fillna(MISSING)
        labels = text.to_numpy(dtype=object)
        names = sorted(pd.unique(labels), key=str)
    distinct = len(pd.unique(labels))
    if distinct > MAX_GROUPS:
        raise InvalidInput(
            f"column {column.name!r} has {distinct} distinct values; at most {MAX_GROUPS} groups "
            "are reported",
            field=field,
        )
    present = set(pd.unique(labels))
    return labels, [name for name in names if name in present]


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(x: float) -> str:
    return f"{x:.6g}"


def _quantile_bins(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    finite = values.dropna().to_numpy()
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, QUANTILES + 1)))
    # Interior edges only; searchsorted(side="right") puts x == edge into the upper bin, so
    # bins read [a, b) and the last one is closed: [a, b].
    idx = np.searchsorted(edges[1:-1], values.to_numpy(), side="right")
    names = [f"[{_number(edges[i])}, {_number(edges[i + 1])})" for i in range(len(edges) - 1)]
    names[-1] = names[-1][:-1] + "]"
    labels = np.array([names[i] for i in np.clip(idx, 0, len(names) - 1)], dtype=object)
    labels[values.isna().to_numpy()] = MISSING
    return labels, [*names, MISSING]


def slice_metrics(
    scored: Scored, frame: pd.DataFrame, columns: list[str]
) -> tuple[dict[str, dict[str, dict[str, float | int]]], dict[str, str]]:
    """``{column: {value: {"rows": n, metric: value}}}`` plus undefined metric paths."""
    slices: dict[str, dict[str, dict[str, float | int]]] = {}
    undefined: dict[str, str] = {}
    for column in columns:
        labels, names = group_labels(frame[column], "slice_by")
        slices[column] = {}
        for value in names:
            mask = labels == value
            found, missing = _metrics_on(scored, mask)
            slices[column][value] = {"rows": int(mask.sum()), **found}
            undefined |= {f"slices.{column}.{value}.{m}": why for m, why in missing.items()}
    return slices, undefined


def _metrics_on(scored: Scored, mask: np.ndarray) -> tuple[dict[str, float], dict[str, str]]:
    y, pred = scored.y[mask], scored.pred[mask]
    if scored.task == "regression":
        return regression_metrics(y, pred)
    proba = None if scored.proba is None else scored.proba[mask]
    return classification_metrics(y, pred, proba, len(scored.classes))
