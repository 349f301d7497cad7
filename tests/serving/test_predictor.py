"""Predictors answer as the model's own library does, for every servable flavor.

Each model is registered in a real embedded store, its artifact read back and loaded with
``load_predictor`` exactly as the gateway does; the columns it gets are typed as the gateway
decodes them. ``filterwarnings = error`` turns any feature-name warning into a failure.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import modelward as mw
from modelward.client.transport import LocalTransport
from modelward.config import StoreLocation
from modelward.serving.predictor import Prediction, Predictor, load_predictor
from modelward.store import Store
from support import ADMIN

EXACT = {"rtol": 0, "atol": 1e-12}


@pytest.fixture
def store(sqlite_url: str, tmp_path: Path) -> Iterator[Store]:
    """One SQLite store: predictors read an artifact's bytes, whatever the database."""
    s = Store(StoreLocation(sqlite_url, str(tmp_path / "artifacts")))
    yield s
    s.close()


@pytest.fixture
def local(store: Store) -> Iterator[mw.Client]:
    yield mw.Client.over(LocalTransport(store, ADMIN))


def applicants(n: int = 300, seed: int = 11) -> tuple[pd.DataFrame, pd.Series]:
    """Doubles, integers, a boolean and a string column, with a target that uses them."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "income": rng.normal(3.0, 1.0, n),
            "debt": rng.normal(1.0, 0.5, n),
            "months": rng.integers(6, 60, n),
            "owner": rng.random(n) > 0.5,
            "region": rng.choice(["north", "south", "east"], n),
        }
    )
    score = X["debt"] - 0.4 * X["income"] + X["months"] / 60 - 0.3 * X["owner"]
    score += np.where(X["region"] == "south", 0.6, 0.0) + rng.normal(0, 0.3, n)
    return X, pd.Series((score > 0.2).astype(int), name="bad")


NUMERIC = ["income", "debt", "months", "owner"]


def columns(X: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns as the gateway decodes them: float64, int64, bool or str objects."""
    out = {}
    for name in X.columns:
        series = X[name]
        kind = series.dtype.kind
        out[name] = series.to_numpy(dtype=object if kind not in "fib" else None)
    return out


def serve(
    client: mw.Client, store: Store, name: str, model: Any, X: pd.DataFrame, **kwargs: Any
) -> Predictor:
    """Register ``model`` with X's signature, then load it from the store as the gateway does."""
    version = client.create_model_version(
        name, model, signature=kwargs.pop("signature", mw.infer_signature(X)), **kwargs
    )
    return load_predictor(
        version.flavor,
        store.artifacts.get_bytes(version.digest),
        version.flavor_meta,
        trusted=version.trusted,
        signature=version.signature.model_dump(),
    )


def answer(predictor: Predictor, X: pd.DataFrame) -> Prediction:
    return predictor.predict(columns(X), len(X))


def no_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, building any pandas DataFrame fails."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a DataFrame was built on the hot path")

    monkeypatch.setattr(pd.DataFrame, "__init__", refuse)


# --------------------------------------------------------------------------- scikit-learn


def test_a_dataframe_fitted_classifier_answers_from_a_matrix(
    local: mw.Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = applicants()
    model = LogisticRegression(max_iter=1000).fit(X[NUMERIC], y)
    predictor = serve(local, store, "scorer", model, X[NUMERIC])
    assert predictor.inputs == [
        ("income", "double"),
        ("debt", "double"),
        ("months", "long"),
        ("owner", "boolean"),
    ]
    expected_labels, expected_proba = model.predict(X[NUMERIC]), model.predict_proba(X[NUMERIC])
    one_row = columns(X[NUMERIC].iloc[[7]])
    no_frames(monkeypatch)
    result = predictor.predict(columns(X[NUMERIC]), len(X))
    assert (result.predictions == expected_labels).all()
    np.testing.assert_allclose(result.probabilities, expected_proba, **EXACT)
    assert result.classes == [0, 1]
    single = predictor.predict(one_row, 1)
    assert single.predictions.shape == (1,) and single.probabilities.shape == (1, 2)
    assert single.predictions[0] == expected_labels[7]


def test_columns_are_matched_by_name_whatever_the_signature_order(
    local: mw.Client, store: Store
) -> None:
    X, y = applicants()
    model = LogisticRegression(max_iter=1000).fit(X[NUMERIC], y)
    reordered = X[NUMERIC[::-1]]
    predictor = serve(local, store, "scorer", model, reordered)
    result = answer(predictor, reordered)
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X[NUMERIC]), **EXACT)


def test_a_numeric_pipeline_also_takes_the_matrix(
    local: mw.Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = applicants()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[NUMERIC], y)
    predictor = serve(local, store, "scorer", model, X[NUMERIC])
    expected = model.predict_proba(X[NUMERIC])
    no_frames(monkeypatch)
    result = answer(predictor, X[NUMERIC])
    np.testing.assert_allclose(result.probabilities, expected, **EXACT)
    assert (result.predictions == expected.argmax(axis=1)).all()


def test_a_pipeline_with_a_string_column_gets_a_dataframe(local: mw.Client, store: Store) -> None:
    X, y = applicants()
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), NUMERIC),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ]
    )
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    predictor = serve(local, store, "scorer", model, X)
    assert dict(predictor.inputs)["region"] == "string"
    result = answer(predictor, X)
    assert (result.predictions == model.predict(X)).all()
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X), **EXACT)
    unseen = X.iloc[[0]].assign(region="west")  # the encoder ignores categories it never saw
    assert answer(predictor, unseen).predictions[0] == model.predict(unseen)[0]


def test_models_that_keep_inner_names_fall_back_to_a_dataframe(
    local: mw.Client, store: Store
) -> None:
    # The calibrated copies inside were fitted on the DataFrame too and would warn on arrays.
    X, y = applicants()
    model = CalibratedClassifierCV(LogisticRegression(), cv=3).fit(X[NUMERIC], y)
    result = answer(serve(local, store, "calibrated", model, X[NUMERIC]), X[NUMERIC])
    assert (result.predictions == model.predict(X[NUMERIC])).all()
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X[NUMERIC]), **EXACT)


def test_labels_are_the_models_own_even_when_probabilities_tie(
    local: mw.Client, store: Store
) -> None:
    X, y = applicants()
    model = LogisticRegression().fit(X[NUMERIC], y)
    # A decision of 1e-20 is positive, so predict says 1, but both probabilities are 0.5.
    model.coef_[:] = 0.0
    model.intercept_[:] = 1e-20
    assert model.predict(X[NUMERIC].iloc[:1])[0] == 1
    result = answer(serve(local, store, "tied", model, X[NUMERIC]), X[NUMERIC].iloc[:3])
    assert (result.probabilities == 0.5).all()
    assert result.predictions.tolist() == [1, 1, 1]


def test_other_classifiers_and_regressors_answer_as_they_predict(
    local: mw.Client, store: Store
) -> None:
    X, y = applicants()
    knn = KNeighborsClassifier(n_neighbors=4).fit(X[NUMERIC], np.where(y == 1, "bad", "ok"))
    result = answer(serve(local, store, "knn", knn, X[NUMERIC]), X[NUMERIC])
    assert (result.predictions == knn.predict(X[NUMERIC])).all()
    assert result.classes == ["bad", "ok"]
    forest = RandomForestRegressor(n_estimators=5, random_state=0).fit(X[NUMERIC], X["debt"])
    result = answer(serve(local, store, "forest", forest, X[NUMERIC]), X[NUMERIC])
    np.testing.assert_allclose(result.predictions, forest.predict(X[NUMERIC]), **EXACT)
    assert result.probabilities is None and result.classes is None


class CountingScaler(StandardScaler):
    """A scaler that counts the rows it transforms (a class attribute survives pickling)."""

    rows = 0

    def transform(self, X: Any, copy: Any = None) -> Any:
        type(self).rows += len(X)
        return super().transform(X, copy=copy)


def test_a_pipeline_transforms_each_request_once_for_labels_and_probabilities(
    local: mw.Client, store: Store
) -> None:
    # A nearest-neighbours vote is not the argmax of its probabilities, so both are asked for.
    X, y = applicants()
    encode = ColumnTransformer(
        [("num", CountingScaler(), NUMERIC), ("cat", OneHotEncoder(), ["region"])]
    )
    model = make_pipeline(encode, KNeighborsClassifier(n_neighbors=4)).fit(X, y)
    predictor = serve(local, store, "knn-pipe", model, X, flavor="pickle", trusted=True)
    CountingScaler.rows = 0
    result = answer(predictor, X.iloc[:40])
    assert CountingScaler.rows == 40
    assert (result.predictions == model.predict(X.iloc[:40])).all()
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X.iloc[:40]), **EXACT)


def test_gradient_boosting_labels_are_its_own(local: mw.Client, store: Store) -> None:
    X, y = applicants()
    model = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X[NUMERIC], y)
    result = answer(serve(local, store, "gbc", model, X[NUMERIC]), X[NUMERIC])
    assert (result.predictions == model.predict(X[NUMERIC])).all()
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X[NUMERIC]), **EXACT)
    labels = np.where(y == 1, "bad", np.where(X["income"] > 3.5, "good", "fair"))
    three = GradientBoostingClassifier(n_estimators=20, random_state=0).fit(X[NUMERIC], labels)
    result = answer(serve(local, store, "gbc3", three, X[NUMERIC]), X[NUMERIC])
    assert (result.predictions == three.predict(X[NUMERIC])).all()


def test_a_model_fitted_on_an_array_takes_the_signature_order(
    local: mw.Client, store: Store
) -> None:
    X, y = applicants()
    model = LogisticRegression(max_iter=1000).fit(X[NUMERIC].to_numpy(float), y)
    result = answer(serve(local, store, "plain", model, X[NUMERIC]), X[NUMERIC])
    np.testing.assert_allclose(
        result.probabilities, model.predict_proba(X[NUMERIC].to_numpy(float)), **EXACT
    )


# --------------------------------------------------------------------------- XGBoost and LightGBM


def test_xgboost_classifiers_answer_labels_and_probabilities(
    local: mw.Client, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xgboost as xgb

    X, y = applicants()
    binary = xgb.XGBClassifier(n_estimators=60, max_depth=3, early_stopping_rounds=3, n_jobs=1)
    binary.fit(X[NUMERIC][:200], y[:200], eval_set=[(X[NUMERIC][200:], y[200:])], verbose=False)
    multi = xgb.XGBClassifier(n_estimators=10, max_depth=3, n_jobs=1)
    multi.fit(X[NUMERIC], pd.cut(X["debt"], 3, labels=False))
    predictors = [
        serve(local, store, f"xgb-{i}", m, X[NUMERIC]) for i, m in enumerate((binary, multi))
    ]
    expected = [(m.predict(X[NUMERIC]), m.predict_proba(X[NUMERIC])) for m in (binary, multi)]
    no_frames(monkeypatch)
    for predictor, (labels, proba) in zip(predictors, expected, strict=True):
        result = answer(predictor, X[NUMERIC])
        assert (result.predictions == labels).all()
        assert (result.probabilities == proba).all()
        assert result.classes == list(range(proba.shape[1]))


def test_xgboost_regressors_answer_values(local: mw.Client, store: Store) -> None:
    import xgboost as xgb

    X, _ = applicants()
    model = xgb.XGBRegressor(n_estimators=10).fit(X[NUMERIC], X["income"])
    result = answer(serve(local, store, "xgb-reg", model, X[NUMERIC]), X[NUMERIC])
    assert (result.predictions == model.predict(X[NUMERIC])).all()
    assert result.probabilities is None


def test_xgboost_takes_a_string_column_as_its_trained_categories(
    local: mw.Client, store: Store
) -> None:
    import xgboost as xgb

    X, y = applicants()
    X = X.assign(region=X["region"].astype("category"))
    model = xgb.XGBClassifier(n_estimators=10, enable_categorical=True).fit(X, y)
    signature = mw.infer_signature(X.assign(region=X["region"].astype(object)))
    predictor = serve(local, store, "xgb-cat", model, X, signature=signature)
    assert dict(predictor.inputs)["region"] == "string"
    assert (answer(predictor, X).probabilities == model.predict_proba(X)).all()
    for i in (0, 1, 2, 3):  # one row, one category: still the trained category's code
        row = answer(predictor, X.iloc[[i]])
        assert (row.probabilities == model.predict_proba(X.iloc[[i]])).all()


def test_lightgbm_classifier_with_labels_and_a_category(local: mw.Client, store: Store) -> None:
    import lightgbm as lgb

    X, y = applicants()
    X = X.assign(region=X["region"].astype("category"))
    labels = np.where(y == 1, "bad", "ok")
    model = lgb.LGBMClassifier(n_estimators=20, min_child_samples=5, verbose=-1).fit(X, labels)
    predictor = serve(local, store, "lgb", model, X)
    assert dict(predictor.inputs)["region"] == "category"
    result = answer(predictor, X)
    assert (result.predictions == model.predict(X)).all()
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X), **EXACT)
    assert result.classes == ["bad", "ok"]
    # A single row holds one category; it must still map to the code the model trained with,
    # also when the signature calls the column a plain string.
    as_strings = mw.infer_signature(X.assign(region=X["region"].astype(object)))
    by_string = serve(local, store, "lgb", model, X, signature=as_strings)
    assert dict(by_string.inputs)["region"] == "string"
    for i in (0, 1, 2, 3):
        expected = model.predict_proba(X.iloc[[i]])
        for served in (predictor, by_string):
            np.testing.assert_allclose(answer(served, X.iloc[[i]]).probabilities, expected, **EXACT)


def test_lightgbm_multiclass_and_regressor(local: mw.Client, store: Store) -> None:
    import lightgbm as lgb

    X, _ = applicants()
    target = pd.cut(X["debt"], 3, labels=["low", "mid", "high"]).astype(str)
    multi = lgb.LGBMClassifier(n_estimators=10, verbose=-1).fit(X[NUMERIC], target)
    result = answer(serve(local, store, "lgb-multi", multi, X[NUMERIC]), X[NUMERIC])
    assert (result.predictions == multi.predict(X[NUMERIC])).all()
    np.testing.assert_allclose(result.probabilities, multi.predict_proba(X[NUMERIC]), **EXACT)
    regressor = lgb.LGBMRegressor(n_estimators=10, verbose=-1).fit(X[NUMERIC], X["income"])
    result = answer(serve(local, store, "lgb-reg", regressor, X[NUMERIC]), X[NUMERIC])
    np.testing.assert_allclose(result.predictions, regressor.predict(X[NUMERIC]), **EXACT)
    assert result.probabilities is None


# --------------------------------------------------------------------------- ONNX


def onnx_run(proto: Any, feeds: dict[str, np.ndarray]) -> list[Any]:
    import onnxruntime as ort

    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


@pytest.mark.parametrize("zipmap", [True, False])
def test_onnx_classifier_answers_as_onnxruntime(
    local: mw.Client, store: Store, zipmap: bool
) -> None:
    from skl2onnx import to_onnx

    X, y = applicants()
    matrix = X[NUMERIC].to_numpy(np.float32)
    model = LogisticRegression(max_iter=1000).fit(matrix, np.where(y == 1, "bad", "ok"))
    proto = to_onnx(model, matrix[:1], target_opset=17, options={id(model): {"zipmap": zipmap}})
    result = answer(serve(local, store, "onnx", proto, X[NUMERIC]), X[NUMERIC])
    labels, probabilities = onnx_run(proto, {"X": matrix})
    if zipmap:
        probabilities = [[row["bad"], row["ok"]] for row in probabilities]
    assert (result.predictions == labels).all()
    np.testing.assert_allclose(result.probabilities, probabilities, rtol=0, atol=1e-7)
    assert result.classes == ["bad", "ok"]
    np.testing.assert_allclose(result.probabilities, model.predict_proba(matrix), atol=1e-5)


def test_onnx_pipeline_with_a_string_column_takes_one_input_per_column(
    local: mw.Client, store: Store
) -> None:
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    X, y = applicants()
    X = X[["income", "debt", "region"]]
    encode = ColumnTransformer(
        [
            ("num", StandardScaler(), ["income", "debt"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["region"]),
        ]
    )
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    types = [(c, FloatTensorType([None, 1])) for c in ("income", "debt")]
    proto = to_onnx(model, initial_types=[*types, ("region", StringTensorType([None, 1]))])
    result = answer(serve(local, store, "onnx-mixed", proto, X), X)
    assert (result.predictions == model.predict(X)).all()
    np.testing.assert_allclose(result.probabilities, model.predict_proba(X), atol=1e-5)
    assert result.classes == [0, 1]


def test_onnx_regressor_answers_one_value_per_row(local: mw.Client, store: Store) -> None:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LinearRegression

    X, _ = applicants()
    matrix = X[NUMERIC].to_numpy(np.float32)
    proto = to_onnx(LinearRegression().fit(matrix, X["income"]), matrix[:1])
    result = answer(serve(local, store, "onnx-reg", proto, X[NUMERIC]), X[NUMERIC])
    assert result.predictions.shape == (len(X),)
    assert (result.predictions == onnx_run(proto, {"X": matrix})[0].ravel()).all()
    assert result.probabilities is None


# --------------------------------------------------------------------------- refusals and failures


class Exploding:
    """Fails on every prediction, as a broken model would."""

    def predict(self, X: Any) -> Any:
        raise RuntimeError("this model is broken")


def test_untrusted_pickles_are_refused_and_trusted_failures_propagate(
    local: mw.Client, store: Store
) -> None:
    X, y = applicants()
    version = local.create_model_version(
        "broken", Exploding(), flavor="pickle", trusted=True, signature=mw.infer_signature(X)
    )
    data, signature = store.artifacts.get_bytes(version.digest), version.signature.model_dump()
    with pytest.raises(mw.Forbidden) as refused:
        load_predictor("pickle", data, {}, trusted=False, signature=signature)
    assert "trusted" in refused.value.message
    with pytest.raises(mw.Forbidden):
        load_predictor("joblib", data, {}, trusted=False, signature=signature)
    predictor = load_predictor("pickle", data, {}, trusted=True, signature=signature)
    with pytest.raises(RuntimeError, match="this model is broken"):
        answer(predictor, X)


@pytest.mark.parametrize("signature", [None, {"inputs": [], "outputs": []}])
def test_a_version_without_an_input_signature_is_refused(signature: Any) -> None:
    X, y = applicants()
    data = pickle.dumps(LogisticRegression().fit(X[NUMERIC], y))
    with pytest.raises(mw.InvalidInput) as refused:
        load_predictor("pickle", data, {}, trusted=True, signature=signature)
    assert refused.value.field == "signature"
    assert "cannot be served without an input signature" in refused.value.message


def test_load_failures_are_modelward_errors(local: mw.Client, store: Store) -> None:
    X, y = applicants()
    signature = mw.infer_signature(X[NUMERIC]).model_dump()
    with pytest.raises(mw.InvalidInput) as corrupt:
        load_predictor("sklearn", b"not a skops file", {}, trusted=False, signature=signature)
    assert corrupt.value.field == "model"
    with pytest.raises(mw.InvalidInput) as files:
        load_predictor("files", b"", {}, trusted=False, signature=signature)
    assert files.value.field == "flavor"
    model = LogisticRegression().fit(X[NUMERIC], y)
    with pytest.raises(mw.InvalidInput) as lacking:
        serve(local, store, "scorer", model, X[NUMERIC], signature=mw.infer_signature(X[["debt"]]))
    assert lacking.value.field == "signature" and "income" in lacking.value.message


def test_a_missing_input_column_is_named(local: mw.Client, store: Store) -> None:
    X, y = applicants()
    predictor = serve(local, store, "scorer", LogisticRegression().fit(X[NUMERIC], y), X[NUMERIC])
    partial = columns(X[NUMERIC])
    del partial["debt"]
    with pytest.raises(mw.InvalidInput) as missing:
        predictor.predict(partial, len(X))
    assert missing.value.field == "debt"
