"""The overview: every AI system with its risk, production version, health and open work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from modelward.errors import InvalidInput
from modelward.governance.register_schemas import RISK_TIERS, STATUSES
from modelward.ui import web
from modelward.ui.register_view import sparkline

router = APIRouter(include_in_schema=False)

# Query parameter -> the operation's argument.
FILTERS = {"tier": "risk_tier", "owner": "owner", "status": "status"}


def trend_view(trend: Any) -> dict[str, Any]:
    scores = [p.score for p in trend.points]
    known = [s for s in scores if s is not None]
    if known:
        label = (
            f"window health over the last {len(trend.points)} monitor windows: "
            f"{known[0]:.0f} to {known[-1]:.0f}"
        )
    else:
        label = "no monitor windows yet"
    return {"svg": sparkline(scores, label=label, width=96) if known else None, "label": label}


@router.get("/")
def overview(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    params = web.query_params(request)
    chosen = {k: params.get(k, "").strip() for k in FILTERS}
    args = {FILTERS[k]: v for k, v in chosen.items() if v}
    errors: dict[str, str] = {}
    status = 200
    try:
        data = web.call(request, who, "portfolio", **args)
        systems, unregistered, owners = data.systems, data.unregistered, data.owners
    except InvalidInput as exc:
        back = {v: k for k, v in FILTERS.items()}
        errors[back.get(exc.field or "", "tier")] = exc.message
        status = 400
        systems, unregistered = [], []
        everyone = web.call(request, who, "list_systems")
        owners = sorted({o for s in everyone for o in (s.business_owner, s.technical_owner) if o})
    trends = {s.name: trend_view(s.trend) for s in systems}
    context = {
        "systems": systems,
        "unregistered": unregistered,
        "owners": owners,
        "trends": trends,
        "chosen": chosen,
        "errors": errors,
        "tiers": RISK_TIERS,
        "statuses": STATUSES,
        "filtered": bool(args),
    }
    return web.render(request, "overview.html", context, who=who, title="Overview", status=status)
