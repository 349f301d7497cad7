"""Migrations: a fresh database upgraded to head matches the tables exactly, on both databases."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import modelward.db.all_tables  # noqa: F401
from modelward.db.base import Base
from modelward.db.engine import make_engine
from modelward.db.migrate import HEAD, alembic_config, current_revision, upgrade


def _head(engine) -> str:  # type: ignore[no-untyped-def]
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()  # type: ignore[return-value]


def test_upgrade_to_head_leaves_no_autogenerate_diff(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    assert current_revision(engine) == _head(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == [], f"tables and migrations disagree: {diff}"


def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    first = current_revision(engine)
    upgrade(engine)
    assert current_revision(engine) == first
    engine.dispose()


def test_cli_db_upgrade(sqlite_url: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "modelward.cli", "db", "upgrade", "--uri", sqlite_url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    engine = make_engine(sqlite_url)
    assert f"database at revision {_head(engine)}" in out.stdout
    engine.dispose()


def test_the_known_head_is_the_newest_migration(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    assert HEAD == _head(engine), "update modelward.db.migrate.HEAD with the new migration"
    engine.dispose()
