"""Linear pipelines compiled to NumPy: same answers as scikit-learn, or not used at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from modelward.serving.linear import CompiledLinear, compile_linear
from modelward.serving.predictor import SklearnPredictor

rng = np.random.default_rng(3)
X = rng.normal(5, 3, (500, 6))
BINARY = (X[:, 0] + X[:, 1] > 10).astype(int)
THREE = np.digitize(X[:, 2], [4, 6])


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression().fit(X, BINARY),
        make_pipeline(StandardScaler(), LogisticRegression(C=0.3)).fit(X, BINARY),
        make_pipeline(StandardScaler(with_mean=False), LogisticRegression()).fit(X, BINARY),
        make_pipeline(StandardScaler(), StandardScaler(), LogisticRegression()).fit(X, THREE),
        make_pipeline(StandardScaler(), LogisticRegression()).fit(
            X, np.array(["a", "b", "c"])[THREE]
        ),
    ],
)
def test_compiled_classifiers_answer_like_scikit_learn(model: object) -> None:
    compiled = compile_linear(model, 6)
    assert isinstance(compiled, CompiledLinear)
    fresh = rng.normal(5, 6, (300, 6))
    assert np.allclose(compiled.predict_proba(fresh), model.predict_proba(fresh), rtol=1e-12)  # type: ignore[attr-defined]
    assert (compiled.predict(fresh) == model.predict(fresh)).all()  # type: ignore[attr-defined]


@pytest.mark.parametrize("final", [LinearRegression(), Ridge(alpha=2.0)])
def test_compiled_regressors_answer_like_scikit_learn(final: object) -> None:
    model = make_pipeline(StandardScaler(), final).fit(X, X @ np.arange(6) + 1)
    compiled = compile_linear(model, 6)
    assert compiled is not None
    fresh = rng.normal(5, 6, (300, 6))
    assert np.allclose(compiled.predict(fresh), model.predict(fresh), rtol=1e-12)


@pytest.mark.parametrize(
    "model",
    [
        RandomForestClassifier(n_estimators=3, random_state=0).fit(X, BINARY),
        make_pipeline(MinMaxScaler(), LogisticRegression()).fit(X, BINARY),
    ],
)
def test_anything_else_keeps_the_scikit_learn_model(model: object) -> None:
    assert compile_linear(model, 6) is None


def test_the_predictor_uses_the_compiled_form_for_a_numeric_pipeline() -> None:
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, BINARY)
    predictor = SklearnPredictor(model, [(c, "double") for c in frame.columns])
    columns = {c: frame[c].to_numpy()[:50] for c in frame.columns}
    out = predictor.predict(columns, 50)
    assert isinstance(predictor._runner, CompiledLinear)
    assert np.allclose(out.probabilities, model.predict_proba(frame.iloc[:50]), rtol=1e-12)  # type: ignore[arg-type]
    assert (out.predictions == model.predict(frame.iloc[:50])).all()
