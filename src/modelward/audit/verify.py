"""Recomputing the chain: every event's hash from its stored columns, in seq order, streamed.

The scan reads raw driver rows in batches (a server-side cursor on PostgreSQL) and stops at
the first event that fails. Only then does it look around that event to say what happened:

- ``edited``: the row's columns no longer give its hash, or a predecessor's hash was rewritten;
- ``deleted``: a seq is missing, the row's predecessor is gone, or the chain ends before a
  checkpointed seq;
- ``reordered``: the row holds an event whose hash was computed for another seq, and that
  event's predecessor is still in the table;
- ``checkpoint``: a stored checkpoint does not verify with any of the given public keys.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.audit.chain import GENESIS, event_hash
from modelward.audit.checkpoint import parse_public_key, verify_signature
from modelward.audit.schemas import AuditVerification
from modelward.audit.tables import AuditCheckpoint

BATCH = 10_000
_COLUMNS = (
    "seq, time_ms, actor, action, entity_type, entity_id, state_digest, summary, prev_hash, hash"
)
# How far past its position a renumbered event is looked for, to tell a deletion from an edit.
_RENUMBER_WINDOW = 1000


@dataclass
class _Stop:
    """Where the scan stopped and why (``gap``, ``hash``, ``link`` or ``checkpoint``)."""

    kind: str
    seq: Any  # as stored: a tampered SQLite cell need not hold an int
    expected: int
    row: tuple[Any, ...] = ()  # every column, for ``hash``
    checkpoint_id: int | None = None


@dataclass
class _Break:
    seq: int
    reason: str
    message: str


def verify_chain(session: Session, public_keys: Sequence[str] = ()) -> AuditVerification:
    """Verify the whole trail, and the stored checkpoints (signatures only when keys are given)."""
    started = time.perf_counter()
    keys = [parse_public_key(k) for k in public_keys]
    checkpoints = list(session.execute(select(AuditCheckpoint)).scalars())
    brk, trusted = _check_signatures(checkpoints, keys)
    marks: dict[int, list[tuple[int, str]]] = {}
    for cp in trusted:
        marks.setdefault(cp.seq, []).append((cp.id, cp.head_hash))

    conn = session.connection()
    count, head_seq, head_hash, stop = _scan(conn, marks)
    if stop is not None:
        brk = _explain(conn, stop)
    else:
        late = [cp for cp in trusted if cp.seq > head_seq]
        if late:
            cp = min(late, key=lambda c: c.seq)
            brk = _Break(
                head_seq + 1,
                "deleted",
                f"the trail ends at seq {head_seq} but checkpoint #{cp.id} covers seq {cp.seq}: "
                f"events {head_seq + 1}..{cp.seq} were deleted",
            )
    return AuditVerification(
        intact=brk is None,
        events_checked=count,
        head_seq=head_seq,
        head_hash=head_hash,
        first_broken_seq=brk.seq if brk else None,
        reason=brk.reason if brk else None,  # type: ignore[arg-type]
        message=brk.message if brk else f"{count} events verified",
        checkpoints_checked=len(checkpoints),
        signatures_verified=len(trusted) if keys else 0,
        seconds=round(time.perf_counter() - started, 3),
    )


def _check_signatures(
    checkpoints: list[AuditCheckpoint], keys: list[str]
) -> tuple[_Break | None, list[AuditCheckpoint]]:
    """Checkpoints signed by one of ``keys`` (all of them when no key is given)."""
    if not keys:
        return None, checkpoints
    trusted: list[AuditCheckpoint] = []
    bad: list[AuditCheckpoint] = []
    for cp in checkpoints:
        sig = cp.signature.hex()
        ok = any(verify_signature(k, cp.seq, cp.head_hash, sig) for k in keys)
        (trusted if ok else bad).append(cp)
    if not bad:
        return None, trusted
    cp = min(bad, key=lambda c: c.seq)
    return (
        _Break(
            cp.seq,
            "checkpoint",
            f"checkpoint #{cp.id} at seq {cp.seq} is not signed by the given public key "
            "(forged, altered, or signed with another key)",
        ),
        trusted,
    )


def _cursor(conn: Any) -> Any:
    raw = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        # A named cursor streams from the server instead of loading every row into memory.
        return raw.cursor(name="modelward_audit_verify")
    return raw.cursor()


def _payload_sql(dialect: str, guard_blobs: bool = False) -> str:
    """SQL that renders each event's canonical array in the database, as ``event_hash`` does.

    Fewer Python objects per row makes the scan much faster. The database's JSON escaping
    matches Python's, and where it ever did not, the row would merely fail the fast check and
    be re-checked by ``event_hash`` from its columns; a match proves the columns are intact.
    """
    fields = ["seq", "time_ms", "actor", "action", "entity_type", "entity_id"]
    fields += ["state_digest", "summary"]
    if dialect == "postgresql":
        parts = [f"{c}::text" for c in fields[:2]] + [f"to_json({c})::text" for c in fields[2:]]
        return "'[' || " + " || ',' || ".join(parts) + " || ']'"
    if guard_blobs:  # a tampered SQLite cell can hold a BLOB, which json_array refuses
        fields = [f"iif(typeof({c})='blob',NULL,{c})" for c in fields]
    return "json_array(" + ", ".join(fields) + ")"


def _scan(conn: Any, marks: dict[int, list[tuple[int, str]]]) -> tuple[int, int, str, _Stop | None]:
    """Walk the chain; return (events checked, head seq, head hash, where it stopped)."""
    dialect = conn.dialect.name
    try:
        return _scan_with(conn, marks, _payload_sql(dialect))
    except Exception as exc:
        # Guarding every cell costs a tenth of the scan, so only a trail holding a BLOB pays.
        if dialect != "sqlite" or "BLOB" not in str(exc):
            raise
        return _scan_with(conn, marks, _payload_sql(dialect, guard_blobs=True))


def _scan_with(
    conn: Any, marks: dict[int, list[tuple[int, str]]], payload_sql: str
) -> tuple[int, int, str, _Stop | None]:
    sha256 = hashlib.sha256
    dialect = conn.dialect.name
    cur = _cursor(conn)
    point = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(f"SELECT seq, prev_hash, {payload_sql}, hash FROM audit_events ORDER BY seq")
        expected, prev, count = 1, GENESIS, 0
        while rows := cur.fetchmany(BATCH):
            for seq, prev_hash, payload, stored in rows:
                try:
                    ok = seq == expected and prev_hash == prev
                    ok = ok and sha256((prev + payload).encode()).hexdigest() == stored
                except TypeError:
                    ok = False
                if not ok and (stop := _check_row(point, dialect, seq, expected, prev)):
                    return count, expected - 1, prev, stop
                for cp_id, cp_hash in marks.get(seq, ()):
                    if cp_hash != stored:
                        stop = _Stop("checkpoint", seq, expected, checkpoint_id=cp_id)
                        return count, expected - 1, prev, stop
                prev = stored
                expected += 1
                count += 1
        return count, expected - 1, prev, None
    finally:
        point.close()
        cur.close()


def _check_row(point: Any, dialect: str, seq: Any, expected: int, prev: str) -> _Stop | None:
    """The authoritative check of one row, from its stored columns with ``event_hash``."""
    mark = "%s" if dialect == "postgresql" else "?"
    point.execute(f"SELECT {_COLUMNS} FROM audit_events WHERE seq = {mark}", (seq,))
    row = point.fetchone()
    _, t, actor, action, etype, eid, digest, summary, prev_hash, stored = row
    if seq != expected:
        return _Stop("gap", seq, expected)
    try:
        ok = event_hash(prev_hash, seq, t, actor, action, etype, eid, digest, summary) == stored
    except TypeError:  # a text column holding a number or a blob
        ok = False
    if not ok:
        return _Stop("hash", seq, expected, row)
    if prev_hash != prev:
        return _Stop("link", seq, expected)
    return None


def _explain(conn: Any, stop: _Stop) -> _Break:
    seq = stop.seq
    if stop.kind == "gap":
        return _gap(stop.expected, seq)
    if stop.kind == "checkpoint":
        return _Break(
            seq,
            "edited",
            f"the chain no longer passes through checkpoint #{stop.checkpoint_id}'s hash at seq "
            f"{seq}: events up to seq {seq} were rewritten and re-hashed",
        )
    if stop.kind == "link":
        if seq == 1:
            return _Break(1, "edited", "event 1 does not start from the genesis hash")
        # Either event seq-1 was edited and given a matching hash, or event seq's link was
        # forged along with its hash; the earlier of the two is the first possibly broken.
        return _Break(
            seq - 1,
            "edited",
            f"event {seq} was chained to a different hash than event {seq - 1}'s: event "
            f"{seq - 1} was edited and its hash rewritten (or event {seq}'s link was)",
        )
    return _mismatch(conn, stop)


def _gap(first: int, seq: Any) -> _Break:
    if isinstance(seq, int) and seq > first:
        missing = f"event {first} is" if seq == first + 1 else f"events {first}..{seq - 1} are"
        return _Break(first, "deleted", f"{missing} missing (the next stored event is {seq})")
    return _Break(first, "edited", f"expected event {first}, found a row with seq {seq!r}")


def _mismatch(conn: Any, stop: _Stop) -> _Break:
    """A row that does not hash: edited, or an intact event sitting at the wrong seq."""
    seq, t, actor, action, etype, eid, digest, summary, prev_hash, stored = stop.row
    origin = None
    for s in _origin_candidates(conn, seq, prev_hash, stored):
        try:
            if event_hash(prev_hash, s, t, actor, action, etype, eid, digest, summary) == stored:
                origin = s
                break
        except TypeError:
            break
    if origin is None:
        return _Break(seq, "edited", f"event {seq}'s stored columns no longer match its hash")
    if prev_hash == GENESIS or _has_row(conn, "hash", prev_hash):
        return _Break(
            seq,
            "reordered",
            f"the row at seq {seq} holds the event recorded as seq {origin}: rows were reordered",
        )
    return _Break(
        seq,
        "deleted",
        f"the row at seq {seq} holds the event recorded as seq {origin}, whose predecessor is "
        f"gone: events were deleted and the rest renumbered",
    )


def _origin_candidates(conn: Any, seq: int, prev_hash: Any, stored: Any) -> list[int]:
    """Seqs the row's event may have been recorded at, most likely first."""
    found: list[int] = []
    found += [s - 1 for s in _seqs_where(conn, "prev_hash", stored)]  # its successor, one after
    found += [s + 1 for s in _seqs_where(conn, "hash", prev_hash)]  # its predecessor, one before
    found += range(seq + 1, seq + 1 + _RENUMBER_WINDOW)  # renumbered after a deletion
    unique = dict.fromkeys(s for s in found if s >= 1 and s != seq)
    return list(unique)


def _seqs_where(conn: Any, column: str, value: Any) -> list[int]:
    cur = conn.connection.dbapi_connection.cursor()
    try:
        mark = "%s" if conn.dialect.name == "postgresql" else "?"
        cur.execute(f"SELECT seq FROM audit_events WHERE {column} = {mark} LIMIT 10", (value,))
        return [r[0] for r in cur.fetchall() if isinstance(r[0], int)]
    finally:
        cur.close()


def _has_row(conn: Any, column: str, value: Any) -> bool:
    return bool(_seqs_where(conn, column, value))
