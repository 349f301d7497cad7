"""Tokens and roles over a live server: every route checks who is calling."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import text

import modelward as mw
from modelward.auth.roles import Principal, Role
from modelward.auth.schemas import TokenCreated
from modelward.client.transport import LocalTransport
from modelward.store import Store

ADMIN = Principal("test-admin", Role.admin)


def token_for(store: Store, role: str, name: str | None = None) -> TokenCreated:
    """A token with ``role``, created in-process by an admin."""
    return mw.Client.over(LocalTransport(store, ADMIN)).create_token(name or f"t-{role}", role=role)


def _http(server: Any, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def _assert_error(resp: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert set(error) >= {"code", "message", "field"}
    assert error["code"] == code and error["message"]
    if field is not None:
        assert error["field"] == field


def test_no_wrong_or_revoked_token_is_401(store: Store, live_server: Any) -> None:
    with _http(live_server) as anonymous:
        _assert_error(anonymous.get("/api/v1/experiments"), 401, "unauthorized", "authorization")
        _assert_error(
            anonymous.post("/api/v1/experiments", json={"name": "x"}), 401, "unauthorized"
        )
    with _http(live_server, "mw_not-a-real-token") as wrong:
        _assert_error(wrong.get("/api/v1/audit/verify"), 401, "unauthorized", "authorization")
    dev = token_for(store, "developer")
    with _http(live_server, dev.token) as http:
        assert http.post("/api/v1/experiments", json={"name": "before"}).status_code == 201
        mw.Client.over(LocalTransport(store, ADMIN)).revoke_token(dev.id)
        _assert_error(http.post("/api/v1/experiments", json={"name": "after"}), 401, "unauthorized")
        _assert_error(http.get("/api/v1/experiments"), 401, "unauthorized")
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}  # not a bearer token at all
    _assert_error(
        httpx.get(f"{live_server.url}/api/v1/experiments", headers=basic), 401, "unauthorized"
    )


def test_a_viewer_reads_but_cannot_write(store: Store, live_server: Any) -> None:
    viewer = token_for(store, "viewer").token
    with _http(live_server, viewer) as http:
        assert http.get("/api/v1/experiments").json() == []
        assert http.get("/api/v1/audit/events").status_code == 200
        verified = http.get("/api/v1/audit/verify")
        assert verified.status_code == 200 and verified.json()["intact"] is True
        assert http.get("/api/v1/whoami").json() == {"name": "t-viewer", "role": "viewer"}
        _assert_error(http.post("/api/v1/experiments", json={"name": "x"}), 403, "forbidden")
        body = {"seq": 1, "head_hash": "a" * 64, "public_key": "b" * 64, "signature": "c" * 128}
        _assert_error(http.post("/api/v1/audit/checkpoints", json=body), 403, "forbidden")
        _assert_error(http.put(f"/api/v1/artifacts/{'0' * 64}", content=b"x"), 403, "forbidden")
        assert http.get("/api/v1/experiments").json() == []  # nothing was written


def test_a_developer_writes_but_cannot_manage_tokens(store: Store, live_server: Any) -> None:
    dev = token_for(store, "developer").token
    with _http(live_server, dev) as http:
        created = http.post("/api/v1/experiments", json={"name": "credit-risk"})
        assert created.status_code == 201 and created.json()["created_by"] == "t-developer"
        _assert_error(
            http.post("/api/v1/tokens", json={"name": "mine", "role": "admin"}), 403, "forbidden"
        )
        _assert_error(http.get("/api/v1/tokens"), 403, "forbidden")
        _assert_error(http.delete("/api/v1/tokens/1"), 403, "forbidden")
    events = mw.Client.over(LocalTransport(store, ADMIN)).list_audit_events(action="experiment.*")
    assert [(e.actor, e.entity_id) for e in events] == [("t-developer", "credit-risk")]


def test_an_admin_manages_tokens_and_secrets_are_stored_only_as_hashes(
    store: Store,
    live_server: Any,
) -> None:
    admin = token_for(store, "admin").token
    with _http(live_server, admin) as http:
        resp = http.post("/api/v1/tokens", json={"name": "ci-bot", "role": "developer"})
        assert resp.status_code == 201
        created = resp.json()
        secret = created["token"]
        assert secret.startswith("mw_") and created["role"] == "developer"
        listed = http.get("/api/v1/tokens")
        assert listed.status_code == 200
        assert secret not in listed.text and all("token" not in t for t in listed.json())
        _assert_error(
            http.post("/api/v1/tokens", json={"name": "x", "role": "wizard"}),
            400,
            "invalid_input",
            "role",
        )
        _assert_error(http.delete("/api/v1/tokens/9999"), 404, "not_found", "token_id")
        with _http(live_server, secret) as bot:
            assert bot.post("/api/v1/experiments", json={"name": "by-bot"}).status_code == 201
            assert http.delete(f"/api/v1/tokens/{created['id']}").json()["revoked_at"] is not None
            _assert_error(bot.get("/api/v1/experiments"), 401, "unauthorized")
    with store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM api_tokens"))]
    assert not any(secret in str(value) for r in rows for value in r)
    assert any(hashlib.sha256(secret.encode()).hexdigest() in r for r in rows)


def test_every_role_may_verify_the_audit_trail(store: Store, live_server: Any) -> None:
    for role in ("viewer", "developer", "approver", "admin"):
        with _http(live_server, token_for(store, role).token) as http:
            assert http.get("/api/v1/audit/verify").json()["intact"] is True
