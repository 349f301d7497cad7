"""Audit service verbs: read the trail, verify it, checkpoint it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select

from modelward.audit.chain import GENESIS
from modelward.audit.checkpoint import verify_signature
from modelward.audit.schemas import (
    AuditEventPublic,
    AuditHead,
    AuditVerification,
    CheckpointCreate,
    CheckpointPublic,
)
from modelward.audit.tables import AuditCheckpoint, AuditEvent
from modelward.audit.verify import verify_chain
from modelward.auth.roles import Role
from modelward.db.base import now_ms
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.operations import operation
from modelward.uow import UnitOfWork

MAX_PAGE = 10_000
MAX_SEQ = 2**63 - 1  # BIGINT: larger numbers cannot even be compared on every database
MAX_FILTER = 1000


def parse_instant(value: str | datetime | None, field: str) -> int | None:
    """An ISO 8601 date or date-time as epoch ms; a time without a zone is taken as UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"{field}: not an ISO 8601 date or time: {text[:60]!r} "
                "(for example 2025-01-31 or 2025-01-31T09:30:00Z)",
                field=field,
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def event_public(row: Any) -> AuditEventPublic:
    """An event row as the public schema; a tampered row is shown as stored, never refused."""
    try:
        summary = json.loads(row.summary)
    except (TypeError, ValueError):
        summary = None
    if not isinstance(summary, dict):
        summary = {"unparsed": row.summary}
    time_ms = row.time_ms if isinstance(row.time_ms, int) else 0
    return AuditEventPublic(
        seq=row.seq,
        time=_instant(time_ms),
        time_ms=time_ms,
        actor=_text(row.actor),
        action=_text(row.action),
        entity_type=_text(row.entity_type),
        entity_id=_text(row.entity_id),
        state_digest=_text(row.state_digest),
        summary=summary,
        prev_hash=_text(row.prev_hash),
        hash=_text(row.hash),
    )


def _instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _check_text(value: str | None, field: str) -> None:
    # PostgreSQL refuses NUL in text outright; refusing it everywhere keeps both stores alike.
    if value is not None and ("\x00" in value or len(value) > MAX_FILTER):
        raise InvalidInput(
            f"{field}: must be at most {MAX_FILTER} characters without NUL", field=field
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def events_query(
    *,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after_seq: int | None = None,
    before_seq: int | None = None,
    newest_first: bool = False,
) -> Select[Any]:
    """The events matching every given filter, in seq order; bad filters name their field."""
    for field, text in (
        ("actor", actor),
        ("action", action),
        ("entity_type", entity_type),
        ("entity_id", entity_id),
    ):
        _check_text(text, field)
    for field, seq in (("after_seq", after_seq), ("before_seq", before_seq)):
        if seq is not None and not 0 <= seq <= MAX_SEQ:
            raise InvalidInput(f"{field}: must be between 0 and {MAX_SEQ}, got {seq}", field=field)
    ev = AuditEvent
    q = select(ev)
    if actor:
        q = q.where(ev.actor == actor)
    if action:
        if action.endswith("*"):
            prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            q = q.where(ev.action.like(prefix + "%", escape="\\"))
        else:
            q = q.where(ev.action == action)
    if entity_type:
        q = q.where(ev.entity_type == entity_type)
    if entity_id:
        q = q.where(ev.entity_id == entity_id)
    since_ms, until_ms = parse_instant(since, "since"), parse_instant(until, "until")
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise InvalidInput("until: must be later than since", field="until")
    if since_ms is not None:
        q = q.where(ev.time_ms >= since_ms)
    if until_ms is not None:
        q = q.where(ev.time_ms < until_ms)
    if after_seq is not None:
        q = q.where(ev.seq > after_seq)
    if before_seq is not None:
        q = q.where(ev.seq < before_seq)
    return q.order_by(ev.seq.desc() if newest_first else ev.seq)


@operation("GET", "/api/v1/audit/events")
def list_audit_events(
    uow: UnitOfWork,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    after_seq: int | None = None,
    before_seq: int | None = None,
    newest_first: bool = False,
    limit: int = 100,
) -> list[AuditEventPublic]:
    """List audit events matching the filters; page with after_seq (or before_seq, newest first).

    ``action`` ending in ``*`` matches a prefix (``token.*``); ``since`` is inclusive and
    ``until`` exclusive, both ISO 8601.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: must be between 1 and {MAX_PAGE}, got {limit}", field="limit")
    q = events_query(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
        after_seq=after_seq,
        before_seq=before_seq,
        newest_first=newest_first,
    )
    return [event_public(r) for r in uow.session.scalars(q.limit(limit))]


@operation("GET", "/api/v1/audit/head")
def get_audit_head(uow: UnitOfWork) -> AuditHead:
    """The newest event's seq and hash (seq 0 and the genesis hash for an empty trail)."""
    row = uow.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return AuditHead(seq=row[0], hash=row[1]) if row else AuditHead(seq=0, hash=GENESIS)


@operation("GET", "/api/v1/audit/verify")
def verify_audit(uow: UnitOfWork, public_key: list[str] | None = None) -> AuditVerification:
    """Recompute the hash chain and check checkpoints; names the first broken event.

    With ``public_key`` (hex, repeatable), every stored checkpoint must also carry a valid
    signature by one of those keys.
    """
    return verify_chain(uow.session, public_key or ())


def _checkpoint_public(row: AuditCheckpoint) -> CheckpointPublic:
    return CheckpointPublic(
        id=row.id,
        seq=row.seq,
        head_hash=row.head_hash,
        time=_instant(row.time_ms),
        actor=row.actor,
        public_key=row.public_key,
        signature=row.signature.hex(),
    )


@operation("POST", "/api/v1/audit/checkpoints", role=Role.admin, status_code=201)
def create_audit_checkpoint(uow: UnitOfWork, body: CheckpointCreate) -> CheckpointPublic:
    """Store a signed checkpoint of the chain; the signature is checked, the key never sent."""
    if not verify_signature(body.public_key, body.seq, body.head_hash, body.signature):
        raise InvalidInput(
            "signature: does not verify for this seq and head_hash with the given public_key",
            field="signature",
        )
    stored = uow.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == body.seq))
    if stored is None:
        raise NotFound(f"no audit event with seq {body.seq}", field="seq")
    if stored != body.head_hash:
        raise Conflict(
            f"head_hash: the chain's hash at seq {body.seq} is {stored}, not {body.head_hash}",
            field="head_hash",
        )
    row = AuditCheckpoint(
        seq=body.seq,
        head_hash=body.head_hash,
        time_ms=now_ms(),
        actor=uow.actor,
        public_key=body.public_key,
        signature=bytes.fromhex(body.signature),
    )
    uow.session.add(row)
    uow.session.flush()
    out = _checkpoint_public(row)
    uow.audit("audit.checkpoint", "audit_checkpoint", row.id, out.model_dump(mode="json"))
    return out


@operation("GET", "/api/v1/audit/checkpoints")
def list_audit_checkpoints(uow: UnitOfWork) -> list[CheckpointPublic]:
    """Every stored checkpoint, oldest first."""
    rows = uow.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))
    return [_checkpoint_public(r) for r in rows]
