"""``GET /api/v1/audit/export``: the trail as JSON Lines or CSV, streamed from a database cursor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from modelward.api.deps import principal_dependency
from modelward.audit.export import MEDIA_TYPES, check_format, chunked, export_lines
from modelward.audit.service import event_public, events_query
from modelward.auth.roles import Principal, Role

ROWS_PER_FETCH = 2000
LINES_PER_CHUNK = 1000


def _stream(store: Any, query: Any, fmt: str) -> Iterator[str]:
    # One read transaction for the whole export: a consistent snapshot, never all in memory.
    with Session(bind=store.engine) as session, session.begin():
        rows = session.scalars(query, execution_options={"yield_per": ROWS_PER_FETCH})
        yield from chunked(export_lines(map(event_public, rows), fmt), LINES_PER_CHUNK)


def install_audit_export(app: FastAPI) -> None:
    @app.get(
        "/api/v1/audit/export",
        tags=["audit"],
        operation_id="export_audit_events",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
    )
    async def export_audit_events(
        request: Request,
        since: str | None = None,
        until: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
        fmt: str = Query("jsonl", alias="format", description="jsonl or csv"),
        principal: Principal = Depends(principal_dependency),
    ) -> StreamingResponse:
        """Export audit events (since inclusive, until exclusive, ISO 8601) in seq order."""
        principal.require(Role.viewer, "exporting the audit trail")
        check_format(fmt)
        # Built (and its filters validated) before the first byte, so bad input is a 400.
        query = events_query(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            since=since,
            until=until,
        )
        return StreamingResponse(
            _stream(request.app.state.store, query, fmt),
            media_type=MEDIA_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="audit.{fmt}"'},
        )
