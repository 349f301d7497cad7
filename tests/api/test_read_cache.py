"""Reads reused by the server are never stale: every change moves the audit head."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from modelward import Client
from modelward.auth.roles import Principal, Role
from modelward.client.transport import HttpTransport, LocalTransport
from modelward.store import Store

ADMIN = Principal("test-admin", Role.admin)


def _remote(server: Any, token: str) -> Client:
    return Client.over(HttpTransport(server.url, token))


def _register(local: Client, tmp_path: Path, payload: bytes) -> int:
    weights = tmp_path / f"model-{payload.hex()}.bin"
    weights.write_bytes(payload)
    return local.create_model_version("scorer", str(weights), flavor="files").version


def test_a_moved_alias_is_seen_at_once_by_every_replica(
    store: Store, server_factory: Callable[..., Any], admin_token: str, tmp_path: Path
) -> None:
    local = Client.over(LocalTransport(store, ADMIN))
    v1 = _register(local, tmp_path, b"one")
    v2 = _register(local, tmp_path, b"two")
    a, b = server_factory(store), server_factory(store)
    with _remote(a, admin_token) as via_a, _remote(b, admin_token) as via_b:
        _check_replicas(local, via_a, via_b, v1, v2)


def _check_replicas(local: Client, via_a: Client, via_b: Client, v1: int, v2: int) -> None:
    via_a.set_alias("scorer", "champion", v1)
    assert via_b.get_version("scorer@champion").version == v1
    assert via_b.get_version("scorer@champion").version == v1  # answered from the cache
    via_a.set_alias("scorer", "champion", v2)  # written through the other replica
    assert via_b.get_version("scorer@champion").version == v2
    local.set_alias("scorer", "champion", v1)  # written without any server
    assert via_a.get_version("scorer@champion").version == v1
    assert via_b.get_version("scorer@champion").version == v1


def test_verify_over_http_sees_an_edit_made_behind_the_servers_back(
    store: Store, live_server: Any, admin_token: str
) -> None:
    with _remote(live_server, admin_token) as remote:
        for name in ("a", "b", "c"):
            remote.create_experiment(name)
        assert remote.verify_audit().intact
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2"))
        report = remote.verify_audit()
    assert not report.intact
    assert report.first_broken_seq == 2
