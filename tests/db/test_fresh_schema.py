"""A fresh database gets the head schema in one step; it must be the very schema that
replaying every migration builds, and the migrations must be able to move it afterwards."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from alembic import command
from sqlalchemy import Engine, inspect, text

import modelward.db.all_tables  # noqa: F401
from modelward.db.base import Base
from modelward.db.engine import make_engine
from modelward.db.migrate import HEAD, alembic_config, create_fresh, current_revision, upgrade


def describe(engine: Engine) -> dict[str, Any]:
    """Every table as the database reports it: columns, keys, indexes, constraints."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        columns = [
            (
                c["name"],
                str(c["type"]),
                c["nullable"],
                str(c.get("default")),
                c.get("autoincrement"),
            )
            for c in insp.get_columns(table)
        ]
        fks = sorted(
            (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"],
             tuple(fk["referred_columns"]), tuple(sorted(fk.get("options", {}).items())))
            for fk in insp.get_foreign_keys(table)
        )  # fmt: skip
        out[table] = {
            "columns": columns,
            "pk": insp.get_pk_constraint(table),
            "fks": fks,
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
            "uniques": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in insp.get_unique_constraints(table)
            ),
            "checks": sorted(
                (c["name"] or "", c["sqltext"]) for c in insp.get_check_constraints(table)
            ),
        }
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            for name, sql in conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type='table'")
            ):
                out[name]["without_rowid"] = "WITHOUT ROWID" in sql.upper()
    return out


def empty(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "base")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    assert inspect(engine).get_table_names() == []


def test_a_fresh_database_gets_exactly_the_migrated_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        migrated = describe(engine)
        assert len(migrated) == len(Base.metadata.tables) + 1
        if engine.dialect.name == "sqlite":  # the clustered tables kept their layout
            assert sum(t["without_rowid"] for t in migrated.values()) >= 2
        empty(engine)
        assert create_fresh(engine) is True
        assert current_revision(engine) == HEAD
        fresh = describe(engine)
        assert set(fresh) == set(migrated)
        for table in migrated:
            assert fresh[table] == migrated[table], table
        # The migrations take over from a schema created this way, down and back up.
        empty(engine)
        command.upgrade(alembic_config(engine), "head")
        assert describe(engine) == migrated
    finally:
        engine.dispose()


def test_a_database_with_modelwards_tables_is_left_to_the_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        command.upgrade(alembic_config(engine), "0006")
        assert create_fresh(engine) is False
        assert current_revision(engine) == "0006"
        upgrade(engine)  # the one remaining migration
        assert current_revision(engine) == HEAD
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {
            "alembic_version"
        }
    finally:
        engine.dispose()


def test_processes_opening_one_fresh_database_at_once_agree_on_one_schema(db_url: str) -> None:
    code = (
        "import sys; from modelward.db.engine import make_engine; "
        "from modelward.db.migrate import upgrade; e = make_engine(sys.argv[1]); upgrade(e)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == HEAD
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()
