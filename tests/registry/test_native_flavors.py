"""ONNX, XGBoost and LightGBM flavors: native formats through the registry and back."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelward as mw
from modelward.client.transport import LocalTransport
from modelward.registry.flavors import detect_flavor, get_flavor
from modelward.store import Store
from support import ADMIN


@pytest.fixture
def local(store: Store) -> Iterator[mw.Client]:
    yield mw.Client.over(LocalTransport(store, ADMIN))


def table(n: int = 300, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["income", "debt", "age", "tenure"])
    y = pd.Series((X["debt"] - X["income"] + rng.normal(0, 0.5, n) > 0).astype(int), name="bad")
    return X, y


def onnx_classifier() -> tuple[object, np.ndarray, object]:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    X, y = table()
    matrix = X.to_numpy(np.float32)
    model = LogisticRegression().fit(matrix, np.where(y == 1, "bad", "good"))
    return to_onnx(model, matrix[:1], target_opset=17), matrix, model


def test_onnx_round_trip_runs_the_same_graph(client: mw.Client) -> None:
    import onnxruntime as ort

    proto, matrix, _ = onnx_classifier()
    version = client.create_model_version("scorer-onnx", proto)
    assert version.flavor == "onnx"
    assert version.flavor_meta["classes"] == ["bad", "good"]
    assert version.flavor_meta["outputs"] == ["output_label", "output_probability"]
    session = client.load_model("scorer-onnx/1")
    assert isinstance(session, ort.InferenceSession)
    original = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    ours, theirs = session.run(None, {"X": matrix}), original.run(None, {"X": matrix})
    assert (ours[0] == theirs[0]).all()
    assert ours[1] == theirs[1]


def test_onnx_saves_from_bytes_and_from_a_file(local: mw.Client, tmp_path: Path) -> None:
    proto, _, _ = onnx_classifier()
    path = tmp_path / "scorer.onnx"
    path.write_bytes(proto.SerializeToString())
    from_bytes = local.create_model_version("scorer-onnx", path.read_bytes(), flavor="onnx")
    from_file = local.create_model_version("scorer-onnx", str(path), flavor="onnx")
    # The same graph is the same artifact, whichever way it was handed over.
    assert from_bytes.digest == from_file.digest


def test_onnx_refuses_what_is_not_a_graph(local: mw.Client, tmp_path: Path) -> None:
    with pytest.raises(mw.InvalidInput) as garbage:
        local.create_model_version("scorer-onnx", b"not a graph", flavor="onnx")
    assert garbage.value.field == "model"
    with pytest.raises(mw.InvalidInput) as absent:
        local.create_model_version("scorer-onnx", str(tmp_path / "none.onnx"), flavor="onnx")
    assert "no onnx file" in absent.value.message
    with pytest.raises(mw.InvalidInput):
        get_flavor("onnx").load(b"\x00garbage", {}, trusted=False, dst=None)
    assert local.list_registered_models() == []


def test_xgboost_classifier_round_trip_keeps_early_stopping(local: mw.Client) -> None:
    import xgboost as xgb

    X, y = table()
    model = xgb.XGBClassifier(n_estimators=200, max_depth=3, early_stopping_rounds=3)
    model.fit(X[:200], y[:200], eval_set=[(X[200:], y[200:])], verbose=False)
    assert model.best_iteration < 199  # stopped early, so the best iteration matters
    with local.start_run("xgb") as run:
        version = run.log_model(model, "scorer-xgb", signature=mw.infer_signature(X))
    assert version.flavor == "xgboost"
    meta = version.flavor_meta
    assert (meta["format"], meta["kind"], meta["n_classes"]) == ("ubj", "classifier", 2)
    assert meta["feature_names"] == list(X.columns)
    loaded = local.load_model(version.ref)
    assert isinstance(loaded, xgb.XGBClassifier)
    assert (loaded.predict_proba(X) == model.predict_proba(X)).all()
    assert (loaded.predict(X) == model.predict(X)).all()


def test_xgboost_regressor_and_booster_round_trip(local: mw.Client) -> None:
    import xgboost as xgb

    X, y = table()
    regressor = xgb.XGBRegressor(n_estimators=10, missing=-999.0).fit(X, X["age"])
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, y), num_boost_round=5)
    reg = local.create_model_version("xgb-reg", regressor)
    bst = local.create_model_version("xgb-booster", booster)
    assert (reg.flavor_meta["kind"], bst.flavor_meta["kind"]) == ("regressor", "booster")
    assert reg.flavor_meta["missing"] == -999.0
    loaded_reg = reg.load()
    assert isinstance(loaded_reg, xgb.XGBRegressor) and loaded_reg.missing == -999.0
    assert (loaded_reg.predict(X) == regressor.predict(X)).all()
    loaded_bst = bst.load()
    assert isinstance(loaded_bst, xgb.Booster)
    assert (loaded_bst.predict(xgb.DMatrix(X)) == booster.predict(xgb.DMatrix(X))).all()


def test_lightgbm_classifier_round_trip_keeps_its_labels(local: mw.Client) -> None:
    import lightgbm as lgb

    X, y = table()
    labels = np.where(y == 1, "bad", "good")
    model = lgb.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, labels)
    version = local.create_model_version("scorer-lgb", model, signature=mw.infer_signature(X))
    assert version.flavor == "lightgbm"
    meta = version.flavor_meta
    assert (meta["format"], meta["kind"], meta["classes"]) == (
        "text",
        "classifier",
        ["bad", "good"],
    )
    assert meta["objective"].startswith("binary")
    loaded = version.load()
    assert list(loaded.classes_) == ["bad", "good"]
    assert np.allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=0, atol=1e-12)
    assert (loaded.predict(X) == model.predict(X)).all()


def test_lightgbm_regressor_loads_as_a_booster(local: mw.Client) -> None:
    import lightgbm as lgb

    X, _ = table()
    model = lgb.LGBMRegressor(n_estimators=15, verbose=-1).fit(X, X["age"] * 2)
    loaded = local.create_model_version("lgb-reg", model).load()
    assert isinstance(loaded, lgb.Booster)
    assert np.allclose(loaded.predict(X), model.predict(X), rtol=0, atol=1e-12)


def test_detect_flavor_recognises_native_models() -> None:
    import lightgbm as lgb
    import xgboost as xgb

    proto, _, sklearn_model = onnx_classifier()
    assert detect_flavor(xgb.XGBClassifier()) == "xgboost"
    assert detect_flavor(lgb.LGBMRegressor()) == "lightgbm"
    assert detect_flavor(proto) == "onnx"
    assert detect_flavor(sklearn_model) == "sklearn"


def test_detecting_a_flavor_imports_no_optional_library() -> None:
    code = (
        "import sys, modelward\n"
        "from modelward.registry.flavors import detect_flavor\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "assert detect_flavor(LogisticRegression()) == 'sklearn'\n"
        "print(sorted(m for m in ('xgboost', 'lightgbm', 'onnx', 'onnxruntime') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_library_names_the_extra(
    local: mw.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = table()
    monkeypatch.setitem(sys.modules, "xgboost", None)  # what an uninstalled package looks like
    with pytest.raises(mw.InvalidInput) as refused:
        local.create_model_version("scorer-xgb", object(), flavor="xgboost")
    assert "pip install 'modelward[xgboost]'" in refused.value.message
    assert refused.value.field == "flavor"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(mw.InvalidInput) as refused:
        get_flavor("onnx").load(b"", {}, trusted=False, dst=None)
    assert "pip install 'modelward[onnx]'" in refused.value.message


def test_native_flavors_refuse_other_objects(local: mw.Client) -> None:
    import lightgbm as lgb
    import xgboost as xgb

    X, y = table()
    ranker = xgb.XGBRanker(n_estimators=2).fit(X, y, qid=np.repeat(np.arange(30), 10))
    with pytest.raises(mw.InvalidInput) as refused:
        local.create_model_version("scorer", ranker)
    assert "get_booster()" in refused.value.message
    with pytest.raises(mw.InvalidInput) as refused:
        local.create_model_version("scorer", lgb.LGBMClassifier(), flavor="xgboost")
    assert "LGBMClassifier" in refused.value.message and refused.value.field == "model"
    with pytest.raises(mw.InvalidInput) as unfitted:
        local.create_model_version("scorer", lgb.LGBMClassifier())
    assert unfitted.value.field == "model"
    with pytest.raises(mw.InvalidInput):
        get_flavor("lightgbm").load(b"\xff\xfe not a model", {}, trusted=False, dst=None)
    with pytest.raises(mw.InvalidInput):
        get_flavor("xgboost").load(b"garbage", {"kind": "classifier"}, trusted=False, dst=None)
    assert local.list_registered_models() == []
