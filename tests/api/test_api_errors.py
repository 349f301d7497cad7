"""One error shape for every failure, bad bodies included, and a complete OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelward.store import Store


@pytest.fixture
def http(live_server: Any, admin_token: str) -> Any:
    with httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
    ) as client:
        yield client


def _error(resp: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    assert {"code", "message", "field"} <= set(body["error"])
    assert body["error"]["code"] == code and body["error"]["message"]
    if field is not None:
        assert body["error"]["field"] == field


def test_domain_errors_share_one_shape_and_name_the_field(http: httpx.Client) -> None:
    experiments = "/api/v1/experiments"
    _error(http.post(experiments, json={"name": "no spaces"}), 400, "invalid_input", "name")
    _error(http.get(f"{experiments}/missing"), 404, "not_found", "experiment")
    assert http.post(experiments, json={"name": "credit-risk"}).status_code == 201
    _error(http.post(experiments, json={"name": "credit-risk"}), 409, "conflict", "name")
    limit = http.get("/api/v1/audit/events", params={"limit": "many"})
    _error(limit, 400, "invalid_input", "limit")
    _error(http.delete("/api/v1/tokens/abc"), 400, "invalid_input", "token_id")
    _error(http.get("/api/v1/no-such-route"), 404, "not_found")
    _error(http.delete(experiments), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": ',  # truncated JSON
        b'{"name": "caf\xe9"}',  # Latin-1, not UTF-8
        b"\xff\xfe\x00\x00",  # not text at all
        b"[1, 2, 3]",  # JSON, but not an object
        b"",  # nothing
    ],
)
def test_a_malformed_body_is_400_never_500(http: httpx.Client, body: bytes) -> None:
    resp = http.post(
        "/api/v1/experiments", content=body, headers={"Content-Type": "application/json"}
    )
    _error(resp, 400, "invalid_input", "body")
    assert http.get("/api/v1/experiments").json() == []  # nothing was stored


def test_openapi_names_every_operation_and_docs_answer(store: Store, live_server: Any) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json")
    assert spec.status_code == 200
    operations = [op for path in spec.json()["paths"].values() for op in path.values()]
    ids = [op.get("operationId") for op in operations]
    assert all(ids) and len(ids) == len(set(ids))
    assert {"create_experiment", "verify_audit", "export_audit_events", "create_token"} <= set(ids)
    docs = httpx.get(f"{live_server.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


@pytest.mark.parametrize(
    ("method", "path", "status", "field"),
    [
        ("GET", f"/api/v1/audit/events?after_seq={2**70}", 400, "after_seq"),
        ("GET", "/api/v1/audit/events?before_seq=-1", 400, "before_seq"),
        ("GET", "/api/v1/audit/events?actor=%00", 400, "actor"),
        ("GET", "/api/v1/audit/export?entity_id=%00", 400, "entity_id"),
        ("GET", "/api/v1/audit/events?limit=100000", 400, "limit"),
        ("DELETE", f"/api/v1/tokens/{2**70}", 404, "token_id"),
    ],
)
def test_values_a_database_cannot_hold_are_refused_not_crashed_on(
    http: httpx.Client, method: str, path: str, status: int, field: str
) -> None:
    resp = http.request(method, path)
    _error(resp, status, "invalid_input" if status == 400 else "not_found", field)
