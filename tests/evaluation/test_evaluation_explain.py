"""Explanations rank the features a model relies on above the ones it ignores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from evalframes import binary_frame
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression

from modelward.errors import InvalidInput
from modelward.evaluation.compute import run_explanation
from modelward.evaluation.explain import shap_available

FEATURES = ["x1", "x2", "noise"]


def test_permutation_ranks_the_informative_feature_above_noise() -> None:
    frame = binary_frame(3000, seed=1)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    result = run_explanation(model, frame, "y", method="permutation", sample=1000, seed=3)
    assert result["method"] == "permutation" and result["scoring"] == "roc_auc"
    assert result["rows"] == 1000 and result["seed"] == 3
    assert result["features"][0] == "x1" and result["features"][-1] == "noise"
    assert result["importance"]["x1"] > 10 * abs(result["importance"]["noise"])
    assert set(result["importance_std"]) == set(FEATURES)
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_the_sample_keeps_class_proportions() -> None:
    frame = binary_frame(5000, seed=2)
    frame.loc[frame.index[:4500], "y"] = 0  # about 10% positives overall
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    share = frame["y"].mean()
    result = run_explanation(model, frame, "y", method="permutation", sample=500, n_repeats=2)
    assert abs(result["rows"] - 500) <= 2
    # Stratification is what makes a rare positive class still scorable by ROC AUC.
    assert share < 0.2 and result["scoring"] == "roc_auc"


def test_regression_is_scored_by_r2() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"signal": rng.normal(size=600), "noise": rng.normal(size=600)})
    frame["t"] = 4 * frame["signal"] + rng.normal(scale=0.1, size=600)
    model = RandomForestRegressor(n_estimators=20, random_state=0)
    model.fit(frame[["signal", "noise"]], frame["t"])
    result = run_explanation(model, frame, "t", method="permutation", n_repeats=3)
    assert result["scoring"] == "r2" and result["features"] == ["signal", "noise"]


@pytest.mark.skipif(shap_available(), reason="checks the behaviour without the optional shap")
def test_auto_falls_back_to_permutation_and_shap_on_request_is_refused() -> None:
    frame = binary_frame(800, seed=4)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    assert run_explanation(model, frame, "y", n_repeats=2)["method"] == "permutation"
    with pytest.raises(InvalidInput, match="shap is not installed") as err:
        run_explanation(model, frame, "y", method="shap")
    assert err.value.field == "method"


def test_unknown_method_is_refused() -> None:
    frame = binary_frame(100, seed=5)
    model = LogisticRegression().fit(frame[FEATURES], frame["y"])
    with pytest.raises(InvalidInput) as err:
        run_explanation(model, frame, "y", method="lime")
    assert err.value.field == "method"
