"""Performance over time: realized metrics as delayed labels arrive, and estimated ones."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_drift import DAY0, ENDPOINT, Monitoring, Scenario, deploy, frame, scenario, sdk

import modelward as mw
from modelward.monitoring.estimation import (
    expected_accuracy,
    expected_roc_auc,
    fit_calibrator,
)
from modelward.monitoring.windows import DAY_MS, HOUR_MS

__all__ = ["scenario"]  # the session fixture, shared


def outcomes(x: pd.DataFrame, seed: int) -> np.ndarray:
    """The ground truth, drawn the way the training target was."""
    rng = np.random.default_rng(seed)
    return ((x["n00"] + x["n01"] + rng.normal(size=len(x))) > 0).astype(int).to_numpy()


@pytest.fixture
def monitored(sqlite_url: str, tmp_path: Any, scenario: Scenario) -> tuple[Monitoring, Any]:
    client = mw.Client(sqlite_url, artifacts=str(tmp_path / "artifacts"))
    deploy(client, scenario)
    holdout = frame(3000, seed=7)
    client.register_dataset("credit-holdout", holdout.assign(default=outcomes(holdout, 8)))
    client.evaluate("credit-scorer/1", dataset="credit-holdout", target="default", bootstrap=0)
    m = sdk(client)
    x = frame(2400, seed=9)
    ids = [f"p{i}" for i in range(len(x))]
    ts = DAY0 + np.arange(len(x)) * (DAY_MS // len(x))
    m.log_predictions(
        ENDPOINT, x, scenario.model.predict(x), ids=ids, timestamps=ts,
        scores=scenario.model.predict_proba(x)[:, 1],
    )  # fmt: skip
    return m, (ids, outcomes(x, 10), ts)


def _one(df: pd.DataFrame, feature: str) -> pd.Series:
    return df[df["feature"] == feature].iloc[0]


def test_coverage_grows_as_delayed_labels_arrive(monitored: tuple[Monitoring, Any]) -> None:
    m, (ids, y, ts) = monitored
    before = m.performance(ENDPOINT, since="2026-01-05", until="2026-01-06", window="1d")
    coverage = _one(before, "label_coverage")
    assert coverage["statistic"] == 0.0 and coverage["rows"] == 2400
    assert "accuracy" not in set(before["feature"])
    assert _one(before, "estimated.accuracy")["details"]["status"] == "pending"

    label_time = [int(t) + 3 * HOUR_MS for t in ts[:600]]
    m.log_labels(ENDPOINT, ids[:600], y[:600].tolist(), label_time=label_time)
    quarter = m.performance(ENDPOINT, since="2026-01-05", until="2026-01-06", window="1d")
    assert _one(quarter, "label_coverage")["statistic"] == pytest.approx(0.25)
    assert _one(quarter, "label_coverage")["details"]["label_lag_s_median"] == pytest.approx(
        3 * 3600
    )

    m.log_labels(ENDPOINT, ids[600:], y[600:].tolist())
    full = m.performance(ENDPOINT, since="2026-01-05", until="2026-01-06", window="1d")
    assert _one(full, "label_coverage")["statistic"] == pytest.approx(1.0)
    accuracy = _one(full, "accuracy")
    assert accuracy["method"] == "realized" and accuracy["rows"] == 2400
    # The model predicts the positive class above a score of 0.5.
    expected_acc = np.mean((_scores(monitored) > 0.5) == (y == 1))
    assert accuracy["statistic"] == pytest.approx(expected_acc)
    holdout = accuracy["details"]["holdout"]
    assert accuracy["details"]["delta"] == pytest.approx(accuracy["statistic"] - holdout)
    assert not accuracy["flagged"]


def _scores(monitored: tuple[Monitoring, Any]) -> Any:
    m, _ = monitored
    from modelward.monitoring.prediction_log import decode_segment

    segments = m.list_segments(ENDPOINT)
    parts = [decode_segment(m._transport.get_artifact(s.digest)) for s in segments]
    data = pd.concat(parts).sort_values("__id__", key=lambda s: s.str[1:].astype(int))
    return data["__score__"].to_numpy()


def test_estimated_performance_is_confirmed_by_the_labels(
    monitored: tuple[Monitoring, Any],
) -> None:
    m, (ids, y, _) = monitored
    m.log_labels(ENDPOINT, ids, y.tolist())
    df = m.performance(ENDPOINT, since="2026-01-05", until="2026-01-06", window="1d")
    for metric in ("accuracy", "roc_auc"):
        estimated, realized = _one(df, f"estimated.{metric}"), _one(df, metric)
        assert estimated["statistic"] == pytest.approx(realized["statistic"], abs=0.05)
        assert estimated["details"]["status"] == "confirmed"
        assert estimated["details"]["realized"] == realized["statistic"]


def test_expected_metrics_match_their_definitions() -> None:
    rng = np.random.default_rng(0)
    s = rng.uniform(size=400)
    q = s  # a calibrated score is its own probability
    assert expected_accuracy(q) == pytest.approx(np.mean(np.maximum(q, 1 - q)))
    pos, neg = q[:, None], (1 - q)[None, :]
    gt = (s[:, None] > s[None, :]).astype(float)
    np.fill_diagonal(gt, 0.0)
    weights = pos * neg
    np.fill_diagonal(weights, 0.0)
    assert expected_roc_auc(s, q) == pytest.approx(float((weights * gt).sum() / weights.sum()))
    # Simulated outcomes converge to the expectation.
    y = rng.uniform(size=(200, s.size)) < q
    from sklearn.metrics import roc_auc_score

    mean_auc = np.mean([roc_auc_score(row, s) for row in y])
    assert expected_roc_auc(s, q) == pytest.approx(mean_auc, abs=0.01)
    assert expected_roc_auc(np.array([0.3]), np.array([0.3])) is None


@pytest.mark.parametrize("kind", ["isotonic", "platt"])
def test_calibrators_recover_the_true_probability(kind: str) -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(size=20_000)
    score = truth**2  # monotone but miscalibrated
    y = rng.uniform(size=truth.size) < truth
    c = fit_calibrator(score, y, kind)
    grid = np.array([0.04, 0.25, 0.64])
    assert c(grid) == pytest.approx(np.sqrt(grid), abs=0.05 if kind == "isotonic" else 0.1)


def test_a_period_without_predictions_reports_empty_windows(
    monitored: tuple[Monitoring, Any],
) -> None:
    # Days before anything was logged: no segment at all, yet windows with zero rows.
    m, _ = monitored
    empty = m.performance(ENDPOINT, since="2025-12-01", until="2025-12-03", window="1d")
    coverage = empty[empty["feature"] == "label_coverage"]
    assert len(coverage) == 2 and (coverage["rows"] == 0).all()
