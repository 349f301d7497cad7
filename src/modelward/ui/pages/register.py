"""The AI register: the inventory with filters and CSV export, and one page per system."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from modelward.client.register import EXPORT_COLUMNS, export_row
from modelward.errors import InvalidInput
from modelward.governance.register_schemas import RISK_TIERS, STATUSES
from modelward.ui import web
from modelward.ui.register_view import csv_text, duration, timeline

router = APIRouter(include_in_schema=False)

# Query parameter -> the list_systems argument.
FILTERS = {"tier": "risk_tier", "status": "status", "owner": "owner", "tag": "regulatory_tag"}


def _filtered(request: Request, who: web.Viewer) -> tuple[dict[str, str], list[Any]]:
    """The filters asked for and the systems matching them (InvalidInput names the field)."""
    params = web.query_params(request)
    chosen = {k: params.get(k, "").strip() for k in FILTERS}
    args = {FILTERS[k]: v for k, v in chosen.items() if v}
    return chosen, web.call(request, who, "list_systems", **args)


def _field_of(exc: InvalidInput) -> str:
    back = {v: k for k, v in FILTERS.items()}
    return back.get(exc.field or "", "tier")


@router.get("/register")
def register(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    errors: dict[str, str] = {}
    status = 200
    try:
        chosen, systems = _filtered(request, who)
    except InvalidInput as exc:
        params = web.query_params(request)
        chosen = {k: params.get(k, "").strip() for k in FILTERS}
        errors[_field_of(exc)] = exc.message
        systems, status = [], 400
    everyone = web.call(request, who, "list_systems") if any(chosen.values()) else systems
    owners = sorted({o for s in everyone for o in (s.business_owner, s.technical_owner) if o})
    tags = sorted({t for s in everyone for t in s.regulatory_tags})
    query = str(request.url.query)
    context = {
        "systems": systems,
        "chosen": chosen,
        "errors": errors,
        "tiers": RISK_TIERS,
        "statuses": STATUSES,
        "owners": owners,
        "tags": tags,
        "filtered": any(chosen.values()),
        "csv_url": "/register.csv" + (f"?{query}" if query else ""),
    }
    return web.render(
        request, "register_list.html", context, who=who, title="AI register", status=status
    )


@router.get("/register.csv")
def register_csv(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    _, systems = _filtered(request, who)
    body = csv_text(EXPORT_COLUMNS, (export_row(s) for s in systems))
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="ai-register-{stamp}.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/register/{name}")
def system_page(name: str, request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    system = web.call(request, who, "get_system", name=name)
    history = web.call(request, who, "system_history", name=name)
    now = datetime.now(UTC)
    svg = timeline(
        history,
        label=f"Which version of each model was at @{system.production_alias}, over time",
        now=now,
    )
    newest_first = sorted(
        history, key=lambda i: i.from_ or datetime.min.replace(tzinfo=UTC), reverse=True
    )
    lasted = [duration(i.from_, i.until, now) for i in newest_first]
    context = {
        "s": system,
        "history": list(zip(newest_first, lasted, strict=True)),
        "timeline": svg,
    }
    return web.render(request, "register_system.html", context, who=who, title=system.name)
