"""Appending an event inside the caller's transaction, with writers serialised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from modelward.audit.chain import GENESIS, canonical_json, event_hash, state_digest
from modelward.audit.tables import AuditEvent
from modelward.db.base import now_ms

# Any constant works; it only has to be the same for every modelward writer.
PG_AUDIT_LOCK = 0x6D77_6175_6469_74  # "mwaudit"

_HEAD = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_INSERT = insert(cast(Table, AuditEvent.__table__))


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
    # Core statements on the session's connection: the ORM's execution path costs more
    # than the statements themselves, and this runs once per write request.
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # Held until commit: the next writer reads the head only after ours is visible,
        # so two transactions can never chain onto the same predecessor.
        conn.execute(_LOCK, {"k": PG_AUDIT_LOCK})
    # On SQLite the transaction began with BEGIN IMMEDIATE, which already serialises writers.
    head = conn.execute(_HEAD).first()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    digest = state_digest(state)
    summary_text = canonical_json(summary or {})
    entity = str(entity_id)
    t = now_ms()
    digest_hash = event_hash(prev, seq, t, actor, action, entity_type, entity, digest, summary_text)
    conn.execute(
        _INSERT,
        {
            "seq": seq,
            "time_ms": t,
            "actor": actor,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity,
            "state_digest": digest,
            "summary": summary_text,
            "prev_hash": prev,
            "hash": digest_hash,
        },
    )
    return AppendedEvent(seq, t, digest_hash)
