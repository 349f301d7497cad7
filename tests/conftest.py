"""Real stores and real servers: SQLite files, PostgreSQL databases, uvicorn on loopback.

PostgreSQL tests need ``MODELWARD_TEST_POSTGRES_URL`` (``.ci/run`` sets it). Without it they
are skipped with that reason; with it set but unreachable they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelward import Client
from modelward.client.transport import HttpTransport, LocalTransport
from modelward.config import StoreLocation
from modelward.store import Store
from support import ADMIN, LiveServer

PG_ENV = "MODELWARD_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches ~/.modelward or inherits a URI or token from the shell."""
    monkeypatch.setenv("MODELWARD_HOME", str(tmp_path / "home"))
    for var in ("MODELWARD_URI", "MODELWARD_TOKEN", "MODELWARD_ARTIFACTS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests skipped: {PG_ENV} is not set")
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # set but unreachable: that is a failure, not a skip
        pytest.fail(f"{PG_ENV}={url} is set but PostgreSQL does not answer: {exc}")
    finally:
        engine.dispose()
    return url


def _fresh_pg_database(admin_url: str) -> tuple[str, object]:
    import sqlalchemy as sa

    name = f"mw_test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url, drop = _fresh_pg_database(request.getfixturevalue("pg_admin_url"))
    yield url
    drop()  # type: ignore[operator]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    s = Store(StoreLocation(db_url, str(tmp_path / "artifacts")))
    yield s
    s.close()


@pytest.fixture
def live_server(store: Store) -> Iterator[LiveServer]:
    server = LiveServer(store)
    yield server
    server.stop()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., LiveServer]]:
    """Start more servers (replicas) over any store; all stop at the end of the test."""
    started: list[LiveServer] = []

    def start(store: Store, auth: bool = True) -> LiveServer:
        started.append(LiveServer(store, auth=auth))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def admin_token(store: Store) -> str:
    local = Client.over(LocalTransport(store, ADMIN))
    return local.create_token("test-admin", role="admin").token


@pytest.fixture(params=["local", "http"])
def client(request: pytest.FixtureRequest, store: Store) -> Iterator[Client]:
    """The SDK over each transport, on each store: the same calls must behave the same."""
    if request.param == "local":
        c = Client.over(LocalTransport(store, ADMIN))
        yield c
        return
    server: LiveServer = request.getfixturevalue("live_server")
    token = request.getfixturevalue("admin_token")
    c = Client.over(HttpTransport(server.url, token))
    yield c
    c.close()
