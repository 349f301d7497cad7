"""Appending an event inside the caller's transaction, with writers serialised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from modelward.audit.chain import GENESIS, canonical_json, event_hash, state_digest
from modelward.audit.tables import EVENT_COLUMNS, AuditEvent
from modelward.db.base import now_ms
from modelward.db.direct import Direct

# Any constant works; it only has to be the same for every modelward writer.
PG_AUDIT_LOCK = 0x6D77_6175_6469_74  # "mwaudit"

_HEAD = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_TABLE = cast(Table, AuditEvent.__table__)


@dataclass(frozen=True)
class AppendedEvent:
    seq: int
    time_ms: int
    hash: str


def append_event(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    state: Any,
    summary: dict[str, Any] | None = None,
) -> AppendedEvent:
    """Add one chained event to the session's transaction (committed with the change)."""
    # Straight to the driver: this runs on every write request, and SQLAlchemy's execution
    # path costs more than these two statements.
    direct = Direct.of(session)
    if direct.dialect.name == "postgresql":
        # Held until commit: the next writer reads the head only after ours is visible,
        # so two transactions can never chain onto the same predecessor.
        session.connection().execute(_LOCK, {"k": PG_AUDIT_LOCK})
    # On SQLite the transaction began with BEGIN IMMEDIATE, which already serialises writers.
    head = direct.first(_HEAD)
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    digest = state_digest(state)
    summary_text = canonical_json(summary or {})
    entity = str(entity_id)
    t = now_ms()
    digest_hash = event_hash(prev, seq, t, actor, action, entity_type, entity, digest, summary_text)
    row = (seq, t, actor, action, entity_type, entity, digest, summary_text, prev, digest_hash)
    direct.insert(_TABLE, EVENT_COLUMNS, [row])
    return AppendedEvent(seq, t, digest_hash)
