"""What every registry write shares: the writer lock and the stored clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from modelward.db.base import ms_to_datetime, now_ms
from modelward.uow import UnitOfWork


def stored_now() -> datetime:
    """Now, at the millisecond precision it is stored with, so what we return is what we read."""
    return ms_to_datetime(now_ms())  # type: ignore[return-value]


def lock_writes(uow: UnitOfWork) -> None:
    """Serialise registry writers on PostgreSQL as SQLite's BEGIN IMMEDIATE already does.

    Taken before reading what a change depends on (the last version number, where an
    alias pointed), so that read cannot be stale. It is the audit writer's lock, which
    every mutation takes anyway; taking it earlier costs nothing more.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        from modelward.audit.writer import PG_AUDIT_LOCK

        uow.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_AUDIT_LOCK})
