"""Schema upgrades: Alembic migrations, the same for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


# The newest migration; tests/db checks it matches the migrations folder. Knowing it
# lets a restart skip importing Alembic when the database is already current.
HEAD = "0007"


# Serialises creating a fresh PostgreSQL schema across processes ("mwschema").
PG_SCHEMA_LOCK = 0x6D77_7363_6865_6D61


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision``; a no-op when it is already there."""
    if revision == "head":
        stored = _stored_revision(engine)
        if stored == HEAD or (stored is None and create_fresh(engine)):
            return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _stored_revision(engine: Engine) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:  # no table yet: a fresh database
        return None


def create_fresh(engine: Engine) -> bool:
    """Create the head schema in one transaction and stamp it, if the database holds none of
    modelward's tables; whether it did. Replaying every migration on an empty database
    reaches the same tables (tests/db compares the two) at several times the cost, most of
    it importing Alembic and building each migration's operations."""
    import modelward.db.all_tables  # noqa: F401  (fills Base.metadata)
    from modelward.db.base import Base
    from modelward.db.engine import WRITE_OPTION

    with engine.execution_options(**{WRITE_OPTION: True}).connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_SCHEMA_LOCK})
        present = set(inspect(conn).get_table_names())
        if present & (set(Base.metadata.tables) | {"alembic_version"}):
            return False  # created meanwhile, or half there: the migrations decide
        Base.metadata.create_all(conn)
        version = _version_table()
        version.create(conn)
        conn.execute(version.insert().values(version_num=HEAD))
    return True


def _version_table() -> Table:
    """Alembic's own bookkeeping table, as Alembic creates it."""
    return Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
