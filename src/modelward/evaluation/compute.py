"""Evaluate a loaded model on a loaded frame: the results stored as evaluation evidence.

Pure functions: no store, no I/O. The caller loads the version and the dataset, then
stores what these return (see the evaluation results contract).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from modelward.errors import InvalidInput
from modelward.evaluation import explain, scoring
from modelward.evaluation.bootstrap import CONFIDENCE, paired_deltas
from modelward.evaluation.fairness import fairness_metrics
from modelward.evaluation.metrics import classification_metrics, regression_metrics
from modelward.evaluation.scoring import Scored
from modelward.evaluation.slices import slice_metrics

Progress = Callable[[str, float], None]

# Share of the whole run each phase ends at, so a caller can draw a single bar.
PHASE_END = {"scoring": 0.45, "metrics": 0.5, "slices": 0.6, "fairness": 0.65, "bootstrap": 1.0}
PHASE_START = {"scoring": 0.0, "metrics": 0.45, "slices": 0.5, "fairness": 0.6, "bootstrap": 0.65}


def run_evaluation(
    model: Any,
    frame: pd.DataFrame,
    target: str,
    *,
    features: list[str] | None = None,
    task: str | None = None,
    slice_by: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    against: Any = None,
    against_features: list[str] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    threshold: float = 0.5,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Score ``model`` (and ``against``, the champion) once and derive every result from that.

    ``features`` and ``against_features`` are each model's input columns (its signature); a
    champion fitted on other columns than the candidate is scored on its own.

    ``progress(phase, fraction)`` receives the overall fraction done (0..1) as each phase
    ("scoring", "metrics", "slices", "fairness", "bootstrap") starts and ends.
    """
    _check_options(frame, target, slice_by, sensitive, bootstrap, threshold)
    columns = scoring.resolve_features(model, frame, target, features)
    y = frame[target]
    task = scoring.resolve_task(model, y, task)
    scoring.check_target(y, target, task)
    report = _reporter(progress)
    report("scoring", 0.0)
    candidate = scoring.score(
        model, frame[columns], y, task, threshold=threshold,
        progress=lambda f: report("scoring", f * (0.5 if against is not None else 1.0)),
    )  # fmt: skip
    champion = None
    if against is not None:
        champion = _score_champion(
            against, frame, target, against_features, candidate, threshold, report
        )
    report("metrics", 0.0)
    found, undefined = _task_metrics(candidate)
    report("slices", 0.0)
    slices, missing = slice_metrics(candidate, frame, list(slice_by))
    undefined |= missing
    report("fairness", 0.0)
    fairness, missing = fairness_metrics(candidate, frame, list(sensitive))
    undefined |= missing
    results: dict[str, Any] = {
        "task": task,
        "rows": len(frame),
        "target": target,
        "positive_label": str(candidate.classes[1]) if candidate.binary else None,
        "threshold": float(threshold) if candidate.binary else None,
        "metrics": found,
        "latency_ms": candidate.latency_ms,
        "slices": slices,
        "fairness": fairness,
        "bootstrap": {"resamples": int(bootstrap), "seed": int(seed), "confidence": CONFIDENCE},
    }
    if champion is not None:
        report("bootstrap", 0.0)
        deltas, missing = _deltas(candidate, champion, found, bootstrap, seed, report)
        results["deltas"] = deltas
        undefined |= missing
    report("bootstrap", 1.0)
    results["undefined"] = {f"metrics.{k}" if "." not in k else k: v for k, v in undefined.items()}
    return results


def run_explanation(
    model: Any,
    frame: pd.DataFrame,
    target: str,
    *,
    features: list[str] | None = None,
    method: str = "auto",
    sample: int = 2000,
    n_repeats: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Global feature importance of ``model`` on (a sample of) ``frame``.

    SHAP (tree or linear explainer) when ``shap`` is installed and fits the model, else
    permutation importance on a sample of ``sample`` rows, stratified on the target for
    classification, scored by roc_auc (binary), accuracy (multiclass) or r2 (regression).
    """
    if sample < 10:
        raise InvalidInput("sample must be at least 10 rows", field="sample")
    if n_repeats < 1:
        raise InvalidInput("n_repeats must be at least 1", field="n_repeats")
    columns = scoring.resolve_features(model, frame, target, features)
    y = frame[target]
    task = scoring.resolve_task(model, y, None)
    scoring.check_target(y, target, task)
    n_classes = int(y.nunique()) if task == "classification" else 0
    if task == "classification" and n_classes == 2 and sample < len(frame):
        _require_both_classes(y)
    rows = explain.stratified_sample(y, sample, seed, stratify=task == "classification")
    return explain.explanation(
        model,
        frame[columns].iloc[rows],
        y.iloc[rows],
        task=task,
        n_classes=n_classes,
        method=method,
        n_repeats=n_repeats,
        seed=seed,
        progress=progress,
    )


def _require_both_classes(y: pd.Series) -> None:
    if y.value_counts().min() < 2:
        raise InvalidInput("each class needs at least 2 rows to explain by ROC AUC", field="target")


def _check_options(
    frame: pd.DataFrame,
    target: str,
    slice_by: Sequence[str],
    sensitive: Sequence[str],
    bootstrap: int,
    threshold: float,
) -> None:
    for field, names in (("slice_by", slice_by), ("sensitive", sensitive)):
        if isinstance(names, str):
            raise InvalidInput(f"{field} must be a list of column names", field=field)
        absent = [c for c in names if c not in frame.columns]
        if absent:
            raise InvalidInput(
                f"{field} columns not in the dataset: {', '.join(absent)}", field=field
            )
        if target in names:
            raise InvalidInput(f"{field} cannot include the target {target!r}", field=field)
    if not isinstance(bootstrap, int) or bootstrap < 0 or bootstrap > 100_000:
        raise InvalidInput("bootstrap must be an integer from 0 to 100000", field="bootstrap")
    if not 0.0 < float(threshold) < 1.0:
        raise InvalidInput("threshold must be between 0 and 1 (exclusive)", field="threshold")


def _reporter(progress: Progress | None) -> Callable[[str, float], None]:
    def report(phase: str, fraction: float) -> None:
        if progress is None:
            return
        start, end = PHASE_START[phase], PHASE_END[phase]
        progress(phase, start + (end - start) * fraction)

    return report


def _task_metrics(scored: Scored) -> tuple[dict[str, float], dict[str, str]]:
    if scored.task == "regression":
        return regression_metrics(scored.y, scored.pred)
    return classification_metrics(scored.y, scored.pred, scored.proba, len(scored.classes))


def _score_champion(
    against: Any,
    frame: pd.DataFrame,
    target: str,
    features: list[str] | None,
    candidate: Scored,
    threshold: float,
    report: Callable[[str, float], None],
) -> Scored:
    # The champion may have been fitted on other columns: ``features`` are its own.
    columns = scoring.resolve_features(against, frame, target, features)
    champion = scoring.score(
        against, frame[columns], frame[target], candidate.task, threshold=threshold,
        single_rows=0, progress=lambda f: report("scoring", 0.5 + f / 2),
    )  # fmt: skip
    if [str(c) for c in champion.classes] != [str(c) for c in candidate.classes]:
        raise InvalidInput(
            "the champion predicts other classes than the candidate: "
            f"{champion.classes} vs {candidate.classes}",
            field="against",
        )
    return champion


def _deltas(
    candidate: Scored,
    champion: Scored,
    found: dict[str, float],
    resamples: int,
    seed: int,
    report: Callable[[str, float], None],
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    theirs, _ = _task_metrics(champion)
    point = {m: found[m] - theirs[m] for m in found if m in theirs}
    undefined = {f"deltas.{m}": "undefined for the champion" for m in found if m not in theirs}
    deltas, missing = paired_deltas(
        candidate, champion, point, resamples, seed, progress=lambda f: report("bootstrap", f)
    )
    return deltas, undefined | missing
