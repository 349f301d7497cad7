"""What every registry write shares: the writer lock and the stored clock."""

from __future__ import annotations

from sqlalchemy import text

from modelward.db.base import stored_now
from modelward.uow import UnitOfWork

__all__ = ["lock_writes", "stored_now"]


def lock_writes(uow: UnitOfWork) -> None:
    """Serialise registry writers on PostgreSQL as SQLite's BEGIN IMMEDIATE already does.

    Taken before reading what a change depends on (the last version number, where an
    alias pointed), so that read cannot be stale. It is the audit writer's lock, which
    every mutation takes anyway; taking it earlier costs nothing more.
    """
    if uow.session.get_bind().dialect.name == "postgresql":
        from modelward.audit.writer import PG_AUDIT_LOCK

        uow.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_AUDIT_LOCK})
