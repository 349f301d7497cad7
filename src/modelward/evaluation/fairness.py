"""Group fairness of a binary classifier's decisions, computed with Fairlearn.

Decisions are the thresholded predictions the metrics used, so a policy on
``fairness.sex.demographic_parity_difference`` judges the same behaviour as one on recall.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning

from modelward.evaluation.scoring import Scored
from modelward.evaluation.slices import group_labels

BINARY_ONLY = "fairness metrics need a binary classification"
GROUP_METRICS = ("selection_rate", "accuracy", "tpr", "fpr")


def fairness_metrics(
    scored: Scored, frame: pd.DataFrame, columns: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``{column: {parity and odds figures, "groups": {value: {...}}}}`` plus undefined paths."""
    if not columns:
        return {}, {}
    if not scored.binary:
        return {}, {f"fairness.{c}": BINARY_ONLY for c in columns}
    out: dict[str, Any] = {}
    undefined: dict[str, str] = {}
    for column in columns:
        labels, _ = group_labels(frame[column], "sensitive")
        out[column], missing = _one_column(scored.y, scored.pred, labels)
        undefined |= {f"fairness.{column}.{path}": why for path, why in missing.items()}
    return out, undefined


def _one_column(
    y: np.ndarray, pred: np.ndarray, labels: np.ndarray
) -> tuple[dict[str, Any], dict[str, str]]:
    # One MetricFrame serves both the per-group rows and the summary figures: Fairlearn's
    # demographic_parity_* and equalized_odds_difference are its between-groups difference
    # and ratio of these same columns, and each MetricFrame costs a pass over every row.
    frame = _metric_frame(y, pred, labels)
    # Fairlearn reports a rate over zero rows as 0.0; a group without positives (or without
    # negatives) has no TPR (FPR) at all, so it is reported undefined, and so is the odds gap.
    counts = pd.crosstab(pd.Series(labels, name="group"), pd.Series(y, name="y"))
    no_rate = {
        "tpr": {str(g) for g in counts.index if counts.get(1, {}).get(g, 0) == 0},
        "fpr": {str(g) for g in counts.index if counts.get(0, {}).get(g, 0) == 0},
    }
    diff, ratio = frame.difference(method="between_groups"), frame.ratio(method="between_groups")
    odds = math.nan if no_rate["tpr"] or no_rate["fpr"] else max(diff["tpr"], diff["fpr"])
    summary: dict[str, Any] = {}
    undefined: dict[str, str] = {}
    overall = {
        "demographic_parity_difference": float(diff["selection_rate"]),
        "demographic_parity_ratio": float(ratio["selection_rate"]),
        "equalized_odds_difference": float(odds),
    }
    for name, value in overall.items():
        _keep(summary, undefined, name, value)
    groups: dict[str, dict[str, float | int]] = {}
    for value, row in frame.by_group.iterrows():
        group: dict[str, float | int] = {"rows": int(row["rows"])}
        for name in GROUP_METRICS:
            rate = math.nan if str(value) in no_rate.get(name, ()) else float(row[name])
            _keep(group, undefined, name, rate, prefix=f"groups.{value}.")
        groups[str(value)] = group
    summary["groups"] = groups
    return summary, undefined


def _metric_frame(y: np.ndarray, pred: np.ndarray, labels: np.ndarray) -> Any:
    from fairlearn import metrics as flm
    from sklearn.metrics import accuracy_score

    with _quiet():
        return flm.MetricFrame(
            metrics={
                "rows": flm.count,
                "selection_rate": flm.selection_rate,
                "accuracy": accuracy_score,
                "tpr": flm.true_positive_rate,
                "fpr": flm.false_positive_rate,
            },
            y_true=y,
            y_pred=pred,
            sensitive_features=pd.Series(labels, name="group"),
        )


def _keep(
    into: dict[str, Any], undefined: dict[str, str], name: str, value: float, prefix: str = ""
) -> None:
    if math.isfinite(value):
        into[name] = value
    else:
        undefined[f"{prefix}{name}"] = "not defined for these groups (a zero division)"


class _quiet(warnings.catch_warnings):
    """Fairlearn and scikit-learn warn when a group has no positives or no negatives.

    That is an expected state of real data; the resulting NaN is reported as undefined, so
    the warning adds nothing and must not turn into an error where warnings are errors.
    """

    def __enter__(self) -> Any:
        out = super().__enter__()
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return out
