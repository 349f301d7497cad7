"""Slices and fairness: per-group figures, undefined ones named, numbers equal Fairlearn's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evalframes import binary_frame
from fairlearn import metrics as flm
from sklearn.linear_model import LinearRegression, LogisticRegression

from modelward.evaluation.compute import run_evaluation

FEATURES = ["x1", "x2", "noise"]


def _fitted(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(frame[FEATURES], frame["y"])


def test_slices_report_each_value_with_rows_and_metrics() -> None:
    frame = binary_frame(2000, seed=1)
    results = run_evaluation(_fitted(frame), frame, "y", slice_by=["group"], bootstrap=0)
    groups = results["slices"]["group"]
    assert set(groups) == {"a", "b"}
    assert groups["a"]["rows"] + groups["b"]["rows"] == 2000
    model = _fitted(frame)
    mask = frame["group"] == "a"
    p = model.predict_proba(frame.loc[mask, FEATURES])[:, 1]
    from sklearn.metrics import roc_auc_score

    assert groups["a"]["roc_auc"] == pytest.approx(roc_auc_score(frame.loc[mask, "y"], p))


def test_a_slice_with_one_class_leaves_auc_out_and_says_why() -> None:
    frame = binary_frame(1000, seed=2)
    frame["segment"] = np.where(frame["y"] == 1, "mixed", "pure")
    frame.loc[frame.index[:50], "segment"] = "mixed"  # some negatives in "mixed" too
    results = run_evaluation(_fitted(frame), frame, "y", slice_by=["segment"], bootstrap=0)
    pure = results["slices"]["segment"]["pure"]
    assert "roc_auc" not in pure and "accuracy" in pure
    assert results["undefined"]["slices.segment.pure.roc_auc"] == "only one class present"
    assert "roc_auc" in results["slices"]["segment"]["mixed"]


def test_wide_numeric_columns_are_cut_into_quintile_bins_in_order() -> None:
    frame = binary_frame(1000, seed=3)
    frame["age"] = np.arange(1000) % 80 + 18
    frame.loc[frame.index[:10], "age"] = np.nan
    results = run_evaluation(_fitted(frame), frame, "y", slice_by=["age"], bootstrap=0)
    bins = results["slices"]["age"]
    labels = list(bins)
    assert labels[0].startswith("[18, ") and labels[-2].endswith(", 97]")
    assert labels[-1] == "<missing>" and bins["<missing>"]["rows"] == 10
    assert sum(b["rows"] for b in bins.values()) == 1000
    assert all(180 <= bins[b]["rows"] <= 220 for b in labels[:-1])


def test_small_integer_columns_keep_their_values() -> None:
    frame = binary_frame(600, seed=4)
    frame["children"] = np.arange(600) % 4
    results = run_evaluation(_fitted(frame), frame, "y", slice_by=["children"], bootstrap=0)
    assert list(results["slices"]["children"]) == ["0", "1", "2", "3"]


def test_fairness_equals_fairlearn_on_the_thresholded_decisions() -> None:
    frame = binary_frame(3000, seed=5)
    frame["group"] = np.where(
        frame["x1"] + np.random.default_rng(0).normal(size=3000) > 0, "a", "b"
    )
    model = _fitted(frame)
    results = run_evaluation(model, frame, "y", sensitive=["group"], bootstrap=0)
    fair = results["fairness"]["group"]

    y = frame["y"].to_numpy()
    pred = (model.predict_proba(frame[FEATURES])[:, 1] >= 0.5).astype(int)
    s = frame["group"]
    expected = {
        "demographic_parity_difference": flm.demographic_parity_difference,
        "demographic_parity_ratio": flm.demographic_parity_ratio,
        "equalized_odds_difference": flm.equalized_odds_difference,
    }
    for name, fn in expected.items():
        assert fair[name] == pytest.approx(fn(y, pred, sensitive_features=s)), name
    assert fair["demographic_parity_difference"] > 0.2  # the groups differ by construction
    a = s == "a"
    assert fair["groups"]["a"]["rows"] == int(a.sum())
    assert fair["groups"]["a"]["selection_rate"] == pytest.approx(pred[a].mean())
    assert fair["groups"]["a"]["tpr"] == pytest.approx(pred[a & (y == 1)].mean())
    assert fair["groups"]["b"]["fpr"] == pytest.approx(pred[~a & (y == 0)].mean())


def test_a_group_without_positives_has_undefined_rates_not_a_crash() -> None:
    frame = binary_frame(800, seed=6)
    frame["region"] = np.where(frame["y"] == 1, "north", "south")
    frame.loc[frame.index[frame["y"] == 1][:30], "region"] = "south"
    results = run_evaluation(_fitted(frame), frame, "y", sensitive=["region"], bootstrap=0)
    north = results["fairness"]["region"]["groups"]["north"]
    assert "fpr" not in north and "tpr" in north
    assert "fairness.region.groups.north.fpr" in results["undefined"]
    assert "equalized_odds_difference" not in results["fairness"]["region"]


def test_fairness_is_undefined_for_regression() -> None:
    frame = binary_frame(300, seed=7).assign(t=lambda f: f["x1"] * 2.0)
    model = LinearRegression().fit(frame[["x1"]], frame["t"])
    results = run_evaluation(model, frame, "t", sensitive=["group"], bootstrap=0)
    assert results["fairness"] == {}
    assert results["undefined"]["fairness.group"] == "fairness metrics need a binary classification"
