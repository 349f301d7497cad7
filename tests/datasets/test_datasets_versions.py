"""Dataset versions through both transports on both stores: identity by content, refs, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import modelward as mw
from modelward.auth.roles import Principal, Role
from modelward.client.transport import HttpTransport, LocalTransport
from modelward.datasets.hashing import schema_of
from modelward.datasets.profile import profile_dataframe
from modelward.store import Store
from support import LiveServer, token_for


def applicants(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "amount": rng.gamma(2.0, 1500.0, n).round(2),
            "purpose": rng.choice(["car", "furniture", "education", "business"], n),
            "good": rng.random(n) > 0.3,
        }
    )


def events(client: mw.Client) -> list[object]:
    return client.list_audit_events(action="dataset.register", limit=1000)


def test_same_content_is_the_same_version(client: mw.Client) -> None:
    df = applicants()
    first = client.register_dataset("credit-train", df, description="training split")
    again = client.register_dataset("credit-train", df.copy(), description="ignored")

    assert (again.id, again.version, again.content_hash) == (first.id, 1, first.content_hash)
    assert again.description == "training split"
    assert [v.version for v in client.list_dataset_versions("credit-train")] == [1]
    assert len(events(client)) == 1


def test_changed_content_schema_or_order_is_a_new_version(client: mw.Client) -> None:
    df = applicants()
    changed_value = df.copy()
    changed_value.loc[0, "amount"] += 0.01
    renamed = df.rename(columns={"amount": "credit_amount"})
    retyped = df.astype({"age": "float64"})
    reordered = df.iloc[::-1].reset_index(drop=True)
    frames = [df, changed_value, renamed, retyped, reordered]

    versions = [client.register_dataset("credit-train", f) for f in frames]

    assert [v.version for v in versions] == [1, 2, 3, 4, 5]
    assert len({v.content_hash for v in versions}) == 5
    # Earlier content comes back as its own version, not as a sixth.
    assert client.register_dataset("credit-train", changed_value).version == 2
    assert len(events(client)) == 5
    assert client.get_dataset("credit-train/3").schema_[1].name == "credit_amount"


def test_the_same_content_under_another_name_is_that_dataset_s_version(client: mw.Client) -> None:
    df = applicants()
    a = client.register_dataset("credit-train", df)
    b = client.register_dataset("credit-copy", df)
    assert (b.name, b.version) == ("credit-copy", 1)
    assert a.content_hash == b.content_hash and a.id != b.id


def test_load_returns_the_registered_frame(client: mw.Client) -> None:
    df = applicants()
    df["segment"] = pd.Categorical(df["purpose"].str[:3])
    df["opened"] = pd.date_range("2024-01-01", periods=len(df), freq="D", tz="UTC")
    df["limit"] = pd.array([None if i % 7 == 0 else i * 100 for i in range(len(df))], dtype="Int64")
    version = client.register_dataset("credit-train", df)

    loaded = client.load_dataset("credit-train/1")

    pd.testing.assert_frame_equal(loaded, df)
    assert client.register_dataset("credit-train", loaded).version == version.version
    assert [c.model_dump() for c in version.schema_] == schema_of(df)
    assert (version.num_rows, version.num_columns) == (len(df), df.shape[1])


def test_object_string_columns_are_stored_as_they_load(client: mw.Client) -> None:
    df = pd.DataFrame({"purpose": pd.Series(["car", None, "education"], dtype=object)})
    version = client.register_dataset("purposes", df)

    loaded = client.load_dataset("purposes")

    assert str(loaded["purpose"].dtype) == version.schema_[0].dtype
    assert df["purpose"].dtype == object  # the caller's frame is left as it was
    assert loaded["purpose"].tolist()[::2] == ["car", "education"]
    assert loaded["purpose"].isna().tolist() == [False, True, False]
    assert client.register_dataset("purposes", loaded).version == 1


def test_references(client: mw.Client) -> None:
    client.register_dataset("credit-train", applicants(seed=1))
    second = client.register_dataset("credit-train", applicants(seed=2))

    assert client.get_dataset("credit-train").id == second.id
    assert client.get_dataset("credit-train@latest").id == second.id
    assert client.get_dataset("credit-train/1").version == 1
    assert client.get_dataset(second).id == second.id
    assert second.ref == "credit-train/2"


@pytest.mark.parametrize("ref", ["missing", "missing@latest", "credit-train/3"])
def test_unknown_references_are_not_found(client: mw.Client, ref: str) -> None:
    client.register_dataset("credit-train", applicants())
    with pytest.raises(mw.NotFound) as err:
        client.get_dataset(ref)
    assert err.value.field == "dataset"
    with pytest.raises(mw.NotFound):
        client.load_dataset(ref)


@pytest.mark.parametrize(
    "ref", ["credit-train@prod", "credit-train/0", "credit-train/x", "bad name", "credit-train/-1"]
)
def test_malformed_references_are_invalid(client: mw.Client, ref: str) -> None:
    client.register_dataset("credit-train", applicants())
    with pytest.raises(mw.InvalidInput) as err:
        client.get_dataset(ref)
    assert err.value.field == "dataset"


def test_list_datasets_and_versions(client: mw.Client) -> None:
    client.register_dataset("credit-train", applicants(seed=1), description="v1")
    client.register_dataset("credit-train", applicants(n=50, seed=2), description="v2")
    client.register_dataset("credit-holdout", applicants(n=40, seed=3))

    summaries = client.list_datasets()

    assert [s.name for s in summaries] == ["credit-holdout", "credit-train"]
    train = summaries[1]
    assert (train.latest_version, train.num_versions, train.num_rows) == (2, 2, 50)
    assert train.description == "v2"
    assert [v.description for v in client.list_dataset_versions("credit-train")] == ["v1", "v2"]
    with pytest.raises(mw.NotFound) as err:
        client.list_dataset_versions("missing")
    assert err.value.field == "name"


def test_named_index_is_data_unnamed_index_is_not(client: mw.Client) -> None:
    df = applicants()
    df.index = df.index + 1000
    plain = client.register_dataset("plain", df)
    keyed = client.register_dataset("keyed", df.rename_axis("applicant_id"))

    assert [c.name for c in plain.schema_] == list(applicants().columns)
    assert plain.content_hash == client.register_dataset("other", applicants()).content_hash
    assert keyed.schema_[0].name == "applicant_id"
    assert client.load_dataset("keyed")["applicant_id"].tolist() == list(range(1000, 1120))


def test_csv_and_parquet_files_register_by_content(client: mw.Client, tmp_path: Path) -> None:
    df = applicants().drop(columns=["amount"])  # ints, strings, bools survive CSV exactly
    csv = tmp_path / "applicants.csv"
    df.to_csv(csv, index=False)
    snappy, zstd = tmp_path / "a.parquet", tmp_path / "b.PARQUET"
    df.to_parquet(snappy, compression="snappy", index=False)
    pq.write_table(pa.Table.from_pandas(df), zstd, compression="zstd", row_group_size=17)

    from_frame = client.register_dataset("applicants", df)
    assert client.register_dataset("applicants", csv).version == from_frame.version
    assert client.register_dataset("applicants", str(snappy)).version == from_frame.version
    assert client.register_dataset("applicants", zstd).version == from_frame.version
    assert len(client.list_dataset_versions("applicants")) == 1
    pd.testing.assert_frame_equal(client.load_dataset("applicants"), df)


def test_bad_files_are_refused_naming_the_problem(client: mw.Client, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name,city\nJosé,Málaga\n".encode("latin-1"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    sheet = tmp_path / "data.xlsx"
    sheet.write_bytes(b"PK")
    cases = {
        latin1: "not UTF-8",
        empty: "empty",
        corrupt: "not a readable Parquet file",
        folder: "not a regular file",
        sheet: "unsupported file type '.xlsx'",
        tmp_path / "missing.csv": "no such file",
    }
    for path, reason in cases.items():
        with pytest.raises(mw.InvalidInput) as err:
            client.register_dataset("bad", path)
        assert err.value.field == "data"
        assert reason in err.value.message and str(path) in err.value.message
    with pytest.raises(mw.InvalidInput) as err:
        client.register_dataset("bad", [[1, 2], [3, 4]])
    assert err.value.field == "data" and "DataFrame" in err.value.message
    assert client.list_datasets() == []


def test_frames_that_cannot_be_stored_are_refused(client: mw.Client) -> None:
    mixed = pd.DataFrame({"code": pd.Series(["A1", 7, None], dtype=object)})
    duplicated = pd.DataFrame([[1, 2]], columns=["x", "x"])
    clash = pd.DataFrame({"id": [1, 2]}).set_index(pd.Index([5, 6], name="id"))
    cases = {
        "mixed": (mixed, "code"),
        "clash": (clash, "named index"),
        "duplicated": (duplicated, "duplicate column names: x"),
        "empty": (pd.DataFrame(index=range(3)), "no columns"),
    }
    for name, (frame, reason) in cases.items():
        with pytest.raises(mw.InvalidInput) as err:
            client.register_dataset(name, frame)
        assert err.value.field == "data" and reason in err.value.message
    assert client.list_datasets() == []


def test_invalid_name_and_description(client: mw.Client) -> None:
    with pytest.raises(mw.InvalidInput) as err:
        client.register_dataset("no spaces", applicants())
    assert err.value.field == "name"
    with pytest.raises(mw.InvalidInput) as err:
        client.register_dataset("ok", applicants(), description="x" * 5001)
    assert err.value.field == "description"
    assert client.list_datasets() == []


def register_body(df: pd.DataFrame, digest: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "forged",
        "content_hash": "a" * 64,
        "digest": digest,
        "size_bytes": 10,
        "num_rows": len(df),
        "num_columns": df.shape[1],
        "schema": schema_of(df),
        "profile": profile_dataframe(df),
    }
    return body | changes


def test_server_refuses_versions_without_blob_or_consistent_profile(client: mw.Client) -> None:
    from modelward.datasets.schemas import DatasetVersionCreate

    df = applicants()
    stored = client._transport.put_artifact(b"some bytes")
    bad_profile = profile_dataframe(df.drop(columns=["good"]))
    cases = {
        "digest": register_body(df, "0" * 64),
        "profile": register_body(df, stored, profile=bad_profile),
        "num_columns": register_body(df, stored, num_columns=9),
    }
    for field, body in cases.items():
        with pytest.raises(mw.InvalidInput) as err:
            client._call("register_dataset_version", body=DatasetVersionCreate(**body))
        assert err.value.field == field
    assert client.list_datasets() == []


def test_a_viewer_cannot_register(store: Store, live_server: LiveServer) -> None:
    viewer = mw.Client.over(HttpTransport(live_server.url, token_for(store, "viewer")))
    with pytest.raises(mw.Forbidden):
        viewer.register_dataset("credit-train", applicants())
    admin = mw.Client.over(LocalTransport(store, Principal("admin", Role.admin)))
    admin.register_dataset("credit-train", applicants())
    assert viewer.get_dataset("credit-train").version == 1
    pd.testing.assert_frame_equal(viewer.load_dataset("credit-train"), applicants())
    viewer.close()
