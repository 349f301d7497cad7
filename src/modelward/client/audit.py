"""SDK verbs: the audit trail — read, verify, export, checkpoint."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from modelward.audit.schemas import (
    AuditEventPublic,
    AuditHead,
    AuditVerification,
    CheckpointCreate,
    CheckpointPublic,
)
from modelward.client.base import ClientBase
from modelward.errors import Conflict


def _iso(value: str | datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class AuditAPI(ClientBase):
    def list_audit_events(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        newest_first: bool = False,
        limit: int = 100,
    ) -> list[AuditEventPublic]:
        """One page of audit events matching every given filter.

        Parameters
        ----------
        action:
            An exact action (``token.create``) or a prefix ending in ``*`` (``token.*``).
        since, until:
            ISO 8601 strings or datetimes; ``since`` inclusive, ``until`` exclusive; a time
            without a zone is UTC.
        after_seq, before_seq:
            Keyset paging: only events with a larger (smaller) seq.
        """
        return self._call(  # type: ignore[no-any-return]
            "list_audit_events",
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            since=_iso(since),
            until=_iso(until),
            after_seq=after_seq,
            before_seq=before_seq,
            newest_first=newest_first,
            limit=limit,
        )

    def iter_audit_events(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        page_size: int = 1000,
    ) -> Iterator[AuditEventPublic]:
        """Every matching event in seq order, fetched a page at a time (any trail size)."""
        after: int | None = None
        while True:
            page = self.list_audit_events(
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                since=since,
                until=until,
                after_seq=after,
                limit=page_size,
            )
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].seq

    def get_audit_head(self) -> AuditHead:
        """The newest event's seq and hash."""
        return self._call("get_audit_head")  # type: ignore[no-any-return]

    def verify_audit(self, public_keys: Sequence[str] = ()) -> AuditVerification:
        """Recompute the chain; with public keys (hex or PEM), also check checkpoint signatures.

        The result's ``intact`` says whether it holds; otherwise ``first_broken_seq`` and
        ``reason`` (edited, deleted, reordered, checkpoint) say where and how it broke.
        """
        from modelward.audit.checkpoint import parse_public_key

        keys = [parse_public_key(k) for k in public_keys]
        return self._call("verify_audit", public_key=keys or None)  # type: ignore[no-any-return]

    def export_audit(
        self,
        out: TextIO,
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        format: str = "jsonl",
        actor: str | None = None,
        action: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
    ) -> int:
        """Write matching events to ``out`` as ``jsonl`` or ``csv``, in seq order; returns how many.

        Each record carries every hashed column, so the export can be re-verified elsewhere.
        """
        from modelward.audit.export import check_format, export_lines

        check_format(format)
        events = self.iter_audit_events(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            since=since,
            until=until,
        )
        count = 0

        def counted() -> Iterator[AuditEventPublic]:
            nonlocal count
            for event in events:
                count += 1
                yield event

        out.writelines(export_lines(counted(), format))
        return count

    def create_audit_checkpoint(self, private_key: str | Path | Any) -> CheckpointPublic:
        """Sign the current head with an Ed25519 key (a PEM file path or a loaded key) and store it.

        Signing happens here; only the signature and the public key are sent.
        """
        from modelward.audit.checkpoint import load_private_key, public_key_hex, sign

        key = load_private_key(private_key) if isinstance(private_key, str | Path) else private_key
        head = self.get_audit_head()
        if head.seq == 0:
            raise Conflict("nothing to checkpoint: the audit trail is empty", field="seq")
        body = self._model(
            CheckpointCreate,
            seq=head.seq,
            head_hash=head.hash,
            public_key=public_key_hex(key),
            signature=sign(key, head.seq, head.hash),
        )
        return self._call("create_audit_checkpoint", body=body)  # type: ignore[no-any-return]

    def list_audit_checkpoints(self) -> list[CheckpointPublic]:
        """Every stored checkpoint."""
        return self._call("list_audit_checkpoints")  # type: ignore[no-any-return]
