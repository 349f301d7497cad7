"""Champion deltas: paired bootstrap intervals that are exact per resample and reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evalframes import binary_frame
from sklearn import metrics as skm
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

from modelward.errors import InvalidInput
from modelward.evaluation import bootstrap, scoring
from modelward.evaluation.compute import run_evaluation

FEATURES = ["x1", "x2", "noise"]


def _pair(n: int = 3000, seed: int = 0):
    frame = binary_frame(n, seed=seed)
    train = binary_frame(2000, seed=seed + 100)
    candidate = LogisticRegression().fit(train[FEATURES], train["y"])
    champion = LogisticRegression().fit(train[["x2", "noise"]], train["y"])  # lacks x1
    return frame, candidate, champion


def test_a_worse_champion_gives_a_positive_auc_delta_whose_interval_excludes_zero() -> None:
    frame, candidate, champion = _pair()
    results = run_evaluation(candidate, frame, "y", against=champion, bootstrap=300, seed=1)
    auc = results["deltas"]["roc_auc"]
    expected = results["metrics"]["roc_auc"] - skm.roc_auc_score(
        frame["y"], champion.predict_proba(frame[["x2", "noise"]])[:, 1]
    )
    assert auc["delta"] == pytest.approx(expected)
    assert 0 < auc["ci_low"] <= auc["delta"] <= auc["ci_high"]
    assert results["deltas"]["log_loss"]["ci_high"] < 0  # lower loss is better
    assert results["bootstrap"] == {"resamples": 300, "seed": 1, "confidence": 0.95}


def test_every_interval_contains_its_point_delta() -> None:
    frame, candidate, champion = _pair(seed=3)
    deltas = run_evaluation(candidate, frame, "y", against=champion, bootstrap=400)["deltas"]
    assert len(deltas) == 9  # every classification metric
    for name, d in deltas.items():
        assert d["ci_low"] <= d["delta"] <= d["ci_high"], name


def test_same_seed_same_interval_other_seed_other_interval() -> None:
    frame, candidate, champion = _pair(n=1500, seed=4)

    def run(seed: int) -> dict:
        return run_evaluation(candidate, frame, "y", against=champion, bootstrap=200, seed=seed)

    first, again, other = run(7), run(7), run(8)
    assert first["deltas"] == again["deltas"]
    assert first["deltas"]["roc_auc"]["ci_low"] != other["deltas"]["roc_auc"]["ci_low"]
    assert first["deltas"]["roc_auc"]["delta"] == other["deltas"]["roc_auc"]["delta"]


def test_comparing_a_model_with_itself_gives_zero_deltas() -> None:
    frame, candidate, _ = _pair(n=1000, seed=5)
    deltas = run_evaluation(candidate, frame, "y", against=candidate, bootstrap=100)["deltas"]
    for d in deltas.values():
        assert d == {"delta": 0.0, "ci_low": 0.0, "ci_high": 0.0}


def test_without_resamples_only_point_deltas_are_given() -> None:
    frame, candidate, champion = _pair(n=800, seed=6)
    deltas = run_evaluation(candidate, frame, "y", against=champion, bootstrap=0)["deltas"]
    assert set(deltas["roc_auc"]) == {"delta"}


def test_a_champion_with_other_classes_is_refused() -> None:
    frame, candidate, _ = _pair(n=600, seed=7)
    other = LogisticRegression().fit(frame[FEATURES], np.arange(600) % 3)
    with pytest.raises(InvalidInput, match="other classes") as err:
        run_evaluation(candidate, frame, "y", against=other, bootstrap=10)
    assert err.value.field == "against"


def test_regression_deltas() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=1000), "b": rng.normal(size=1000)})
    frame["t"] = 3 * frame["a"] + frame["b"] + rng.normal(scale=0.5, size=1000)
    good = LinearRegression().fit(frame[["a", "b"]], frame["t"])
    poor = LinearRegression().fit(frame[["b"]], frame["t"])
    deltas = run_evaluation(good, frame, "t", against=poor, bootstrap=200)["deltas"]
    assert deltas["rmse"]["ci_high"] < 0 and deltas["r2"]["ci_low"] > 0


def _resampled_equals_scikit_learn(scored: scoring.Scored, labels: np.ndarray) -> None:
    """One bootstrap weight vector gives exactly the metric of the materialised resample."""
    n = len(scored.y)
    rng = np.random.default_rng(3)
    rows = rng.integers(0, n, size=n)
    weights = np.bincount(rows, minlength=n).astype(np.float32)[None, :]
    got = bootstrap._statistics(scored)(weights)
    y, proba, pred = scored.y[rows], scored.proba[rows], scored.pred[rows]
    k = proba.shape[1]
    binary = k == 2
    avg = "binary" if binary else "macro"
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, average=avg, zero_division=0.0),
        "recall": skm.recall_score(y, pred, average=avg, zero_division=0.0),
        "f1": skm.f1_score(y, pred, average=avg, zero_division=0.0),
        "log_loss": skm.log_loss(y, proba, labels=np.arange(k)),
    }
    if binary:
        expected |= {
            "roc_auc": skm.roc_auc_score(y, proba[:, 1]),
            "pr_auc": skm.average_precision_score(y, proba[:, 1]),
            "brier": skm.brier_score_loss(y, proba[:, 1]),
        }
    else:
        onehot = np.eye(k)[y]
        expected |= {
            "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr"),
            "pr_auc": skm.average_precision_score(onehot, proba),
        }
    for name, value in expected.items():
        assert got[name][0] == pytest.approx(value, rel=1e-6, abs=1e-9), name


def test_vectorised_resample_metrics_equal_scikit_learn_binary_with_ties() -> None:
    frame, candidate, _ = _pair(n=2000, seed=8)
    scored = scoring.score(candidate, frame[FEATURES], frame["y"], "classification")
    tied = np.round(scored.proba, 2)  # many equal scores exercise the tie handling
    scored_tied = scoring.Scored(
        scored.task, scored.classes, scored.y, scored.pred, tied, scored.latency_ms
    )
    _resampled_equals_scikit_learn(scored, frame["y"].to_numpy())
    _resampled_equals_scikit_learn(scored_tied, frame["y"].to_numpy())


def test_vectorised_resample_metrics_equal_scikit_learn_multiclass() -> None:
    x, y = make_classification(
        n_samples=1500, n_features=6, n_informative=4, n_classes=3, random_state=1
    )
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)]).assign(label=y)
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    model.fit(frame.drop(columns="label"), y)
    scored = scoring.score(model, frame.drop(columns="label"), frame["label"], "classification")
    _resampled_equals_scikit_learn(scored, y)
