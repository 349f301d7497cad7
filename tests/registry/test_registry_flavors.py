"""Flavors and loading: skops by default, pickle only when trusted, files, verified digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import update

import modelward as mw
from modelward.registry.tables import ModelVersion


def test_skops_round_trip_predicts_the_same(client: mw.Client, fitted) -> None:
    version = client.create_model_version("credit-scorer", fitted.model)
    assert version.flavor == "sklearn"
    assert version.flavor_meta["format"] == "skops"
    loaded = client.load_model("credit-scorer/1")
    assert loaded is not fitted.model
    assert (loaded.predict_proba(fitted.X) == fitted.model.predict_proba(fitted.X)).all()


def test_tree_models_round_trip_with_their_recorded_types(client: mw.Client, fitted) -> None:
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(fitted.X, fitted.y)
    version = client.create_model_version("credit-forest", forest)
    assert version.flavor_meta["untrusted_types"] == ["sklearn.tree._tree.Tree"]
    assert version.trusted is False
    loaded = version.load()
    assert (loaded.predict(fitted.X) == forest.predict(fitted.X)).all()


def test_pickle_needs_trusted_and_is_recorded(client: mw.Client, fitted) -> None:
    with pytest.raises(mw.InvalidInput) as refused:
        client.create_model_version("credit-scorer", fitted.model, flavor="pickle")
    assert refused.value.field == "trusted"
    with pytest.raises(mw.InvalidInput):
        client.create_model_version("credit-scorer", fitted.model, flavor="joblib")
    assert client.list_registered_models() == []

    pickled = client.create_model_version(
        "credit-scorer", fitted.model, flavor="pickle", trusted=True
    )
    dumped = client.create_model_version(
        "credit-scorer", fitted.model, flavor="joblib", trusted=True
    )
    assert (pickled.trusted, dumped.trusted) == (True, True)
    for ref in ("credit-scorer/1", "credit-scorer/2"):
        assert (client.load_model(ref).predict(fitted.X) == fitted.model.predict(fitted.X)).all()


def test_a_pickle_version_not_marked_trusted_is_never_loaded(
    client: mw.Client, store, fitted
) -> None:
    client.create_model_version("credit-scorer", fitted.model, flavor="pickle", trusted=True)
    # The server refuses to register such a version; an edited row must still not load.
    with store.engine.begin() as conn:
        conn.execute(update(ModelVersion).values(trusted=False))
    with pytest.raises(mw.Forbidden) as refused:
        client.load_model("credit-scorer/1")
    assert "pickle" in refused.value.message and "trusted" in refused.value.message


def test_the_server_refuses_an_untrusted_pickle_version(client: mw.Client, fitted) -> None:
    import pickle

    from modelward.registry.schemas import ModelVersionCreate

    data = pickle.dumps(fitted.model)
    digest = client._transport.put_artifact(data)
    body = ModelVersionCreate(digest=digest, size=len(data), flavor="pickle", trusted=False)
    with pytest.raises(mw.InvalidInput) as refused:
        client._call("create_model_version", name="credit-scorer", body=body)
    assert refused.value.field == "trusted"
    assert client.list_registered_models() == []


def test_a_version_must_point_at_an_uploaded_artifact(client: mw.Client) -> None:
    from modelward.registry.schemas import ModelVersionCreate

    body = ModelVersionCreate(digest="ab" * 32, size=10, flavor="sklearn")
    with pytest.raises(mw.NotFound) as missing:
        client._call("create_model_version", name="credit-scorer", body=body)
    assert missing.value.field == "digest"


def test_skops_types_outside_scikit_learn_need_trusted(client: mw.Client, fitted) -> None:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    risky = make_pipeline(FunctionTransformer(hashlib.sha256), fitted.model)
    with pytest.raises(mw.InvalidInput) as refused:
        client.create_model_version("credit-scorer", risky)
    assert refused.value.field == "trusted"
    assert "sha256" in refused.value.message
    version = client.create_model_version("credit-scorer", risky, trusted=True)
    assert any("sha256" in t for t in version.flavor_meta["untrusted_types"])
    assert client.load_model("credit-scorer/1").steps[0][1].func is hashlib.sha256


def test_flipping_one_stored_byte_makes_load_refuse(client: mw.Client, store, fitted) -> None:
    version = client.create_model_version("credit-scorer", fitted.model)
    blob = Path(store.artifacts.local_path(version.digest))
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(mw.IntegrityError) as refused:
        client.load_model("credit-scorer@latest")
    message = refused.value.message
    assert version.digest in message and actual in message
    assert "credit-scorer/1" in message


def test_files_flavor_stores_a_file_or_a_directory(client: mw.Client, tmp_path: Path) -> None:
    weights = tmp_path / "model"
    (weights / "sub").mkdir(parents=True)
    (weights / "config.json").write_text('{"layers": 3}')
    (weights / "sub" / "weights.bin").write_bytes(bytes(range(256)))
    directory = client.create_model_version("embedder", weights)
    single = client.create_model_version("embedder", weights / "config.json", flavor="files")
    assert (directory.flavor, single.flavor) == ("files", "files")
    assert directory.flavor_meta["kind"] == "directory" and directory.flavor_meta["files"] == 2

    out = client.load_model("embedder/1", dst=tmp_path / "restored")
    assert out == tmp_path / "restored" / "model"
    assert (out / "sub" / "weights.bin").read_bytes() == bytes(range(256))
    assert client.load_model("embedder/2").read_text() == '{"layers": 3}'

    # The same tree gives the same bytes, whatever the file times: one content address.
    import os

    os.utime(weights / "config.json", (1, 1))
    again = client.create_model_version("embedder", weights)
    assert again.digest == directory.digest

    with pytest.raises(mw.InvalidInput) as missing:
        client.create_model_version("embedder", tmp_path / "nope")
    assert missing.value.field == "model"
