"""The database goes away under a live gateway: it keeps answering from the plans it last
read, keeps the log in memory, and writes all of it once the database is back."""

from __future__ import annotations

import time

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from conftest import ENDPOINT, Served, rows
from support import LiveGateway


def allow_connections(admin_url: str, database: str, allowed: bool) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {allowed}'))
        if not allowed:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"
                ),
                {"d": database},
            )
    engine.dispose()


def test_a_database_outage_is_ridden_out(
    served: Served, db_url: str, request: pytest.FixtureRequest
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("needs a PostgreSQL database to take away (SQLite is a local file)")
    admin_url = request.getfixturevalue("pg_admin_url")
    database = make_url(db_url).database
    assert database
    gw = LiveGateway(served.store, flush_every=3600, refresh_every=0.2)
    url = f"{gw.url}/v1/endpoints/{ENDPOINT}/predict"
    try:
        before = [
            httpx.post(url, json={"instances": rows(1)}).json()["request_id"] for _ in range(10)
        ]
        assert gw.runtime.flush()
        allow_connections(admin_url, database, False)
        during = []
        for i in range(50):
            r = httpx.post(url, json={"instances": rows(1, seed=i)}, timeout=10)
            assert r.status_code == 200
            during.append(r.json()["request_id"])
        time.sleep(0.5)  # a few failed plan reads: the gateway must keep its plans
        assert not gw.runtime.db_ok
        assert not gw.runtime.flush() and gw.runtime.buffer.depth == 50
        assert httpx.post(url, json={"instances": rows(1)}).status_code == 200
        allow_connections(admin_url, database, True)
        deadline = time.monotonic() + 20
        while not gw.runtime.flush():
            assert time.monotonic() < deadline, "the log was not written after the outage"
            time.sleep(0.2)
    finally:
        allow_connections(admin_url, database, True)
        gw.stop()
    logged = set(served.client.read_segments(ENDPOINT, columns=[])["__id__"])
    assert set(before) | set(during) <= logged and len(logged) == 61
    assert "modelward_gateway_log_dropped_total 0.0" in gw.runtime.metrics.exposition().decode()
