"""Values no database can hold are refused with a 400 naming the field, never a 500.

Each case here was once a 500 (found by ``test_fuzz_openapi.py`` or by hand): integers
wider than their column, NUL characters (PostgreSQL text and JSONB refuse them), NaN in
JSON, text that is not valid Unicode. Every test runs on SQLite and PostgreSQL and checks
that nothing was stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import modelward as mw
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.store import Store

BIG = 2**70


@dataclass(frozen=True)
class Seeded:
    digest: str
    run_id: str
    dataset: dict[str, Any]  # a valid register-dataset body, but for a fresh content hash


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Seeded:
    """credit-scorer/1 (alias champion) from a finished run that read credit-train/1."""
    import pandas as pd

    client = mw.Client.over(LocalTransport(store, Principal("seed", Role.admin)))
    frame = pd.DataFrame({"amount": [1200.0, 800.5, 4300.0], "purpose": ["car", "tv", "car"]})
    dataset = client.register_dataset("credit-train", frame)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.txt").write_text("w = 0.5\n")
    with client.start_run("credit-risk", capture_environment=False) as run:
        run.log_input(dataset, role="training")
        version = run.log_model(str(tmp_path / "model"), "credit-scorer")
    client.set_alias("credit-scorer", "champion", version.version)
    body = dataset.model_dump(mode="json", by_alias=True)
    keep = ("name", "digest", "size_bytes", "num_rows", "num_columns", "schema", "profile")
    return Seeded(version.digest, run.id, {k: body[k] for k in keep} | {"content_hash": "e" * 64})


@pytest.fixture
def http(live_server: Any, admin_token: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as client:
        yield client


def _refused(resp: httpx.Response, field: str, case: object = "") -> str:
    """A 400 in the one error shape, naming ``field``; returns the message."""
    assert resp.status_code == 400, f"{case}: {resp.status_code} {resp.text}"
    error = resp.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == field, f"{case}: {error}"
    assert error["message"] and error["field"].isprintable(), f"{case}: {error}"
    return str(error["message"])


def _raw(http: httpx.Client, method: str, path: str, body: str) -> httpx.Response:
    """Send JSON text as is: NaN tokens and lone surrogate escapes survive."""
    headers = {"Content-Type": "application/json"}
    return http.request(method, path, content=body.encode(), headers=headers)


def test_an_alias_beyond_the_version_column_is_refused(http: httpx.Client, seeded: Seeded) -> None:
    for version in (2**31, BIG):
        body = {"version": version}
        resp = http.put("/api/v1/models/credit-scorer/aliases/candidate", json=body)
        assert "2147483647" in _refused(resp, "version", version)
    aliases = http.get("/api/v1/models/credit-scorer/aliases").json()
    assert [(a["alias"], a["version"]) for a in aliases] == [("champion", 1)]


MODEL_VERSION_CASES = [
    ('"size": 9223372036854775808', "size"),
    ('"size": 3, "flavor_meta": {"scale": NaN}', "flavor_meta"),
    ('"size": 3, "flavor_meta": {"scale": -Infinity}', "flavor_meta"),
    ('"size": 3, "flavor_meta": {"note": "a\\u0000b"}', "flavor_meta"),
    ('"size": 3, "flavor_meta": {"a\\u0000b": [1]}', "flavor_meta"),
    # Nested too deep to be served back as JSON.
    ('"size": 3, "flavor_meta": {"k": ' + "[" * 40 + "]" * 40 + "}", "flavor_meta"),
]


def test_a_model_version_a_database_cannot_hold_is_refused(
    http: httpx.Client, seeded: Seeded
) -> None:
    for fields, field in MODEL_VERSION_CASES:
        body = f'{{"digest": "{seeded.digest}", "flavor": "files", {fields}}}'
        resp = _raw(http, "POST", "/api/v1/models/credit-scorer/versions", body)
        _refused(resp, field, fields)
    versions = http.get("/api/v1/models/credit-scorer/versions").json()
    assert [v["version"] for v in versions] == [1]


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with the value at dotted ``path`` replaced."""
    out = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return out


DATASET_CASES = [
    ("description", "a\x00b", "description"),
    ("size_bytes", 2**63, "size_bytes"),
    ("num_rows", BIG, "num_rows"),
    ("schema.1.dtype", "str\x00", "schema.1.dtype"),
    ("profile.columns.0.dtype", "float\x00", "profile.columns.0.dtype"),
]


def test_a_dataset_version_a_database_cannot_hold_is_refused(
    http: httpx.Client, seeded: Seeded
) -> None:
    for path, value, field in DATASET_CASES:
        _refused(http.post("/api/v1/datasets", json=_with(seeded.dataset, path, value)), field)
    # A category label is a key: the field names it, escaped so that it prints.
    labels = "profile.columns.1.categorical.categories"
    body = _with(seeded.dataset, labels, {"car": 2, "t\x00v": 1})
    error = http.post("/api/v1/datasets", json=body).json()["error"]
    assert error["field"].startswith(labels) and "\\x00" in error["field"], error
    assert error["field"].isprintable(), error
    assert len(http.get("/api/v1/datasets/credit-train/versions").json()) == 1


def test_dataset_lookups_refuse_what_no_version_can_match(
    http: httpx.Client, seeded: Seeded
) -> None:
    for prefix in ("/api/v1/dataset-versions", "/api/v1/lineage/datasets"):
        for number in ("2147483648", "9999999999"):
            resp = http.get(f"{prefix}/credit-train/{number}")
            assert "2147483647" in _refused(resp, "dataset", (prefix, number))
    versions = "/api/v1/datasets/credit-train/versions"
    _refused(http.get(versions, params={"content_hash": "a\x00b"}), "content_hash")
    _refused(http.get(versions, params={"content_hash": "E" * 64}), "content_hash")
    assert http.get(versions, params={"content_hash": "f" * 64}).json() == []


NOT_UNICODE_CASES = [
    ("POST", "/api/v1/models", '{"name": "m2", "tags": {"k": "\\ud800"}}'),
    ("PATCH", "/api/v1/models/credit-scorer", '{"owner": "\\udc80x"}'),
    ("PUT", "/api/v1/model-versions/credit-scorer/1/tags", '{"key": "k", "value": "\\ud800"}'),
    ("POST", "/api/v1/models/credit-scorer/versions", '{"description": "caf\\udfff"}'),
    ("POST", "/api/v1/runs", '{"experiment": "credit-risk", "params": {"p": "\\udfff"}}'),
]


def test_a_lone_surrogate_escape_is_malformed_json(http: httpx.Client, seeded: Seeded) -> None:
    # JSON may spell half a UTF-16 pair (\ud800): no text, and no database, can hold it.
    for method, path, body in NOT_UNICODE_CASES:
        message = _refused(_raw(http, method, path, body), "body", body)
        assert "JSON" in message, message
    model = http.get("/api/v1/models/credit-scorer").json()
    assert model["tags"] == {} and model["owner"] == "seed"
    assert [m["name"] for m in http.get("/api/v1/models").json()] == ["credit-scorer"]
    assert http.get("/api/v1/model-versions/credit-scorer/1").json()["tags"] == {}


def test_a_nul_in_a_lookup_key_is_refused_or_matches_nothing(
    http: httpx.Client, store: Store, seeded: Seeded
) -> None:
    resp = http.get(f"/api/v1/runs/{seeded.run_id}/metric-history", params={"key": "a\x00b"})
    if store.engine.dialect.name == "postgresql":  # cannot even be compared with text there
        _refused(resp, "key")
    else:
        assert resp.status_code == 200 and resp.json() == []


def test_the_sdk_refuses_text_that_is_not_unicode_on_every_transport(
    client: mw.Client, tmp_path: Path
) -> None:
    # A file name with bytes that are not UTF-8 arrives in Python as lone surrogates.
    bad = b"caf\xff".decode("utf-8", "surrogateescape")
    client.create_registered_model("credit-scorer")
    client.create_experiment("credit-risk")
    with pytest.raises(mw.InvalidInput) as refused:
        client.update_registered_model("credit-scorer", tags={"source": bad})
    assert refused.value.field == "tags.source"
    with pytest.raises(mw.InvalidInput) as refused:
        client.start_run("credit-risk", params={"file": bad}, capture_environment=False)
    assert refused.value.field == "params.file"
    assert client.get_registered_model("credit-scorer").tags == {}
    assert client.search_runs("credit-risk").runs == []


def test_openapi_documents_the_error_shape_and_the_artifact_bytes(live_server: Any) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, f"{method} {path}: the API never answers 422"
            assert responses["4XX"]["content"]["application/json"]["schema"] == error, path
    blob = spec["paths"]["/api/v1/artifacts/{digest}"]
    assert set(blob["get"]["responses"]["200"]["content"]) == {"application/octet-stream"}
    assert set(blob["put"]["requestBody"]["content"]) == {"application/octet-stream"}
