"""The audit pages: the trail with filters and keyset paging, one event in full, the chain's
verification with its signed checkpoints, and the filtered trail as a download."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from modelward.audit.chain import GENESIS
from modelward.audit.checkpoint import parse_public_key
from modelward.audit.export import MEDIA_TYPES, check_format, chunked, export_lines
from modelward.audit.service import MAX_SEQ
from modelward.errors import InvalidInput, NotFound
from modelward.ui import audit_view as view
from modelward.ui import web

router = APIRouter(include_in_schema=False)
MAX_KEY_TEXT = 4096
CHECKPOINTS_SHOWN = 20


def _caller(request: Request, who: web.Viewer) -> view.Call:
    return functools.partial(web.call, request, who)


def _last_checkpoint(call: view.Call) -> dict[str, Any] | None:
    checkpoints = call("list_audit_checkpoints")
    if not checkpoints:
        return None
    cp = checkpoints[-1]
    event = view.event_at(call, cp.seq)
    return view.checkpoint_facts(cp, event.hash if event else None) | {"count": len(checkpoints)}


@router.get("/audit")
def audit(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    call = _caller(request, who)
    q = view.read_query(web.query_params(request))
    page = None
    if not q.errors:
        try:
            page = view.fetch_page(call, q)
        except InvalidInput as exc:  # a filter only the service can judge (length, NUL)
            q.errors[exc.field if exc.field in view.FILTERS else "actor"] = exc.message
    context = {
        "q": q,
        "page": page,
        "rows": [view.event_row(e) for e in page.events] if page else [],
        "head": call("get_audit_head"),
        "checkpoint": _last_checkpoint(call),
        "sizes": view.PAGE_SIZES,
        "entity_types": view.ENTITY_TYPES,
    }
    status = 400 if q.errors else 200
    return web.render(request, "audit.html", context, who=who, title="Audit", status=status)


def _seq_of(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not 1 <= int(text) <= MAX_SEQ:
        raise NotFound(f"no audit event with seq {text[:40]!r}", field="seq")
    return int(text)


@router.get("/audit/events/{seq}")
def audit_event(seq: str, request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    call = _caller(request, who)
    number = _seq_of(seq)
    around = call("list_audit_events", after_seq=max(number - 2, 0), limit=3)
    by_seq = {e.seq: e for e in around}
    event = by_seq.get(number)
    if event is None:
        head = call("get_audit_head")
        raise NotFound(f"no audit event with seq {number} (the newest is {head.seq})", field="seq")
    before = by_seq.get(number - 1)
    context = {
        "e": event,
        "time": view.clock(event.time_ms),
        "iso": view.iso_ms(event.time_ms),
        "before": before,
        "after": by_seq.get(number + 1),
        "chained": _chained(event, before),
        "links": view.entity_links(event),
        "summary": view.summary_text(event),
    }
    return web.render(request, "audit_event.html", context, who=who, title=f"Audit event {number}")


def _chained(event: Any, before: Any) -> bool | None:
    """Whether the event links to its predecessor's stored hash (None: no predecessor row)."""
    if event.seq == 1:
        return bool(event.prev_hash == GENESIS)
    return None if before is None else bool(before.hash == event.prev_hash)


def _auditor_key(params: dict[str, str], errors: dict[str, str]) -> str | None:
    text = params.get("public_key", "").strip()
    if not text:
        return None
    if len(text) > MAX_KEY_TEXT:
        errors["public_key"] = f"public_key: at most {MAX_KEY_TEXT} characters"
        return None
    try:
        return parse_public_key(text)
    except InvalidInput as exc:
        errors["public_key"] = exc.message
        return None


@router.get("/audit/verify")
def audit_verify(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    """Verification is a read, so a link or a GET form runs it; nothing is stored."""
    call = _caller(request, who)
    params = web.query_params(request)
    errors: dict[str, str] = {}
    key = _auditor_key(params, errors)
    result = None
    if not errors:
        result = call("verify_audit", public_key=[key] if key else None)
    checkpoints = call("list_audit_checkpoints")
    shown = []
    for cp in reversed(checkpoints[-CHECKPOINTS_SHOWN:]):
        event = view.event_at(call, cp.seq)
        shown.append(view.checkpoint_facts(cp, event.hash if event else None, key))
    context = {
        "result": result,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "key": key,
        "key_text": params.get("public_key", ""),
        "errors": errors,
        "checkpoints": shown,
        "checkpoint_count": len(checkpoints),
        "broken": view.event_at(call, result.first_broken_seq)
        if result and result.first_broken_seq
        else None,
    }
    status = 400 if errors else 200
    return web.render(
        request,
        "audit_verify.html",
        context,
        who=who,
        title="Verify the audit chain",
        status=status,
    )


@router.get("/audit/export.{fmt}")
def audit_export(fmt: str, request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    """The filtered events, oldest first, in the CLI's and the API's export format."""
    check_format(fmt)
    call = _caller(request, who)
    q = view.read_query(web.query_params(request))
    for name, message in q.errors.items():
        if name in view.FILTERS:
            raise InvalidInput(message, field=name)
    head = call("get_audit_head")
    pages = view.export_events(call, q.args, head.seq)
    events = (event for page in pages for event in page)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        chunked(export_lines(events, fmt)),
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
