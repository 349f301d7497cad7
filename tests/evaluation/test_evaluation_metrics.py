"""Task metrics and latency from ``run_evaluation`` agree with scikit-learn computed directly."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from evalframes import binary_frame
from sklearn import metrics as skm
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from modelward.errors import InvalidInput
from modelward.evaluation.compute import run_evaluation

FEATURES = ["x1", "x2", "noise"]


def _strict_json(results: dict) -> dict:
    # allow_nan=False fails on NaN/inf: stored evidence must be plain JSON.
    return json.loads(json.dumps(results, allow_nan=False))


def test_binary_metrics_match_scikit_learn() -> None:
    train, test = binary_frame(2000, seed=1), binary_frame(3000, seed=2)
    model = LogisticRegression().fit(train[FEATURES], train["y"])
    results = run_evaluation(model, test, "y", bootstrap=0)

    p = model.predict_proba(test[FEATURES])[:, 1]
    y, pred = test["y"].to_numpy(), (p >= 0.5).astype(int)
    m = results["metrics"]
    assert results["task"] == "classification" and results["rows"] == 3000
    assert results["positive_label"] == "1" and results["threshold"] == 0.5
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, p))
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, p))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, p))
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, p))
    assert 0.0 <= m["ece"] < 0.1  # a logistic model on logistic data is well calibrated
    assert _strict_json(results) == results
    assert all(type(v) is float for v in m.values())


def test_threshold_changes_decisions_not_scores() -> None:
    frame = binary_frame(2000, seed=3)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    low = run_evaluation(model, frame, "y", bootstrap=0, threshold=0.2)["metrics"]
    high = run_evaluation(model, frame, "y", bootstrap=0, threshold=0.8)["metrics"]
    assert low["recall"] > high["recall"] and low["precision"] < high["precision"]
    assert low["roc_auc"] == high["roc_auc"]


def test_multiclass_metrics_match_scikit_learn() -> None:
    x, y = make_classification(
        n_samples=1500, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)]).assign(label=y)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    model.fit(frame.drop(columns="label"), frame["label"])
    results = run_evaluation(model, frame, "label", bootstrap=0)

    proba = model.predict_proba(frame.drop(columns="label"))
    pred = proba.argmax(axis=1)
    m = results["metrics"]
    assert results["positive_label"] is None and results["threshold"] is None
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"))
    onehot = np.eye(3)[y]
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(onehot, proba))
    assert m["brier"] == pytest.approx(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))


def test_regression_metrics_match_scikit_learn() -> None:
    x, y = make_regression(n_samples=800, n_features=4, noise=10.0, random_state=0)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(t=y)
    model = LinearRegression().fit(frame[["a", "b", "c", "d"]], frame["t"])
    results = run_evaluation(model, frame, "t", bootstrap=0)

    pred = model.predict(frame[["a", "b", "c", "d"]])
    m = results["metrics"]
    assert results["task"] == "regression" and results["positive_label"] is None
    assert m["rmse"] == pytest.approx(skm.root_mean_squared_error(y, pred))
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, pred))
    assert m["r2"] == pytest.approx(skm.r2_score(y, pred))
    assert m["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, pred))


def test_mape_skips_zero_targets_and_is_undefined_when_all_are_zero() -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0], "t": [0.0, 2.0, 4.0, 6.0, 9.0]})
    model = LinearRegression().fit(frame[["a"]], frame["t"])
    pred = model.predict(frame[["a"]])
    m = run_evaluation(model, frame, "t", bootstrap=0)["metrics"]
    assert m["mape"] == pytest.approx(skm.mean_absolute_percentage_error(frame["t"][1:], pred[1:]))

    zeros = frame.assign(t=0.0)
    results = run_evaluation(model, zeros, "t", bootstrap=0)
    assert "mape" not in results["metrics"]
    assert results["undefined"]["metrics.mape"] == "every target value is 0"
    assert "r2" not in results["metrics"] and "metrics.r2" in results["undefined"]


def test_pipeline_that_imputes_accepts_missing_features() -> None:
    frame = binary_frame(1500, seed=4)
    model = make_pipeline(SimpleImputer(), LogisticRegression())
    model.fit(frame[FEATURES], frame["y"])
    holes = frame.copy()
    holes.loc[holes.index[::7], "x1"] = np.nan
    results = run_evaluation(model, holes, "y", bootstrap=0)
    assert results["rows"] == 1500 and results["metrics"]["roc_auc"] > 0.75


def test_string_labels_on_the_credit_data(credit: pd.DataFrame, credit_model) -> None:
    results = run_evaluation(credit_model, credit, "creditability", bootstrap=0)
    # scikit-learn orders classes, so "good" is classes_[1], the positive class.
    assert results["positive_label"] == "good"
    proba = credit_model.predict_proba(credit.drop(columns="creditability"))[:, 1]
    expected = skm.roc_auc_score(credit["creditability"] == "good", proba)
    assert results["metrics"]["roc_auc"] == pytest.approx(expected)


def test_model_without_predict_proba_reports_label_metrics_only() -> None:
    frame = binary_frame(1000, seed=5)
    model = LinearSVC().fit(frame[FEATURES], frame["y"])
    results = run_evaluation(model, frame, "y", bootstrap=0)
    assert set(results["metrics"]) == {"accuracy", "precision", "recall", "f1"}
    assert results["undefined"]["metrics.roc_auc"] == "the model has no predict_proba"


def test_features_come_from_the_fitted_model_so_extra_columns_are_ignored() -> None:
    frame = binary_frame(1000, seed=6)
    model = LogisticRegression().fit(frame[["x1", "x2"]], frame["y"])
    results = run_evaluation(model, frame, "y", slice_by=["group"], bootstrap=0)
    assert results["metrics"]["accuracy"] > 0.7


def test_latency_is_reported_per_batch_and_per_row() -> None:
    frame = binary_frame(2500, seed=7)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    latency = run_evaluation(model, frame, "y", bootstrap=0)["latency_ms"]
    assert latency["batches"] == 3 and latency["batch_rows"] == 1000
    for key in ("p50", "p95", "single_row_p50", "single_row_p95"):
        assert latency[key] > 0
    assert latency["p95"] >= latency["p50"]


def test_progress_walks_through_the_phases_once() -> None:
    frame = binary_frame(3000, seed=8)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    champion = LogisticRegression().fit(frame[["x2"]], frame["y"])
    seen: list[tuple[str, float]] = []
    run_evaluation(
        model, frame, "y", sensitive=["group"], against=champion, bootstrap=50,
        progress=lambda phase, fraction: seen.append((phase, fraction)),
    )  # fmt: skip
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    order = list(dict.fromkeys(phase for phase, _ in seen))
    assert order == ["scoring", "metrics", "slices", "fairness", "bootstrap"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": "nope"}, "target"),
        ({"slice_by": ["nope"]}, "slice_by"),
        ({"sensitive": "group"}, "sensitive"),
        ({"threshold": 1.5}, "threshold"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"task": "ranking"}, "task"),
        ({"features": ["x1", "missing"]}, "features"),
    ],
)
def test_bad_options_are_refused_with_the_field_named(kwargs: dict, field: str) -> None:
    frame = binary_frame(200, seed=9)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    target = kwargs.pop("target", "y")
    with pytest.raises(InvalidInput) as err:
        run_evaluation(model, frame, target, **kwargs)
    assert err.value.field == field


def test_labels_the_model_never_saw_are_refused() -> None:
    frame = binary_frame(200, seed=10)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    frame.loc[0, "y"] = 7
    with pytest.raises(InvalidInput, match="labels the model does not know: 7"):
        run_evaluation(model, frame, "y", bootstrap=0)


def test_missing_target_values_are_refused() -> None:
    frame = binary_frame(200, seed=11).astype({"y": float})
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    frame.loc[3, "y"] = np.nan
    with pytest.raises(InvalidInput, match="1 missing values") as err:
        run_evaluation(model, frame, "y", bootstrap=0)
    assert err.value.field == "target"
