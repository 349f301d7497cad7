"""The deployments pages: every online endpoint's traffic plan, and one endpoint's plan,
canary progress, analysis, live traffic per arm, rollback and plan history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.ui import charts, web
from modelward.ui import format as fmt

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 5


@router.get("/deployments")
def deployments(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    rows = []
    for endpoint in web.call(request, who, "list_endpoints"):
        status = web.call(request, who, "get_deployment", name=endpoint.name)
        rows.append({"endpoint": endpoint, "status": status})
    return web.render(request, "deployments.html", {"rows": rows}, who=who, title="Deployments")


def _shares(plan: Any) -> list[tuple[str, float]]:
    if plan.kind == "single" or plan.challenger is None:
        return [(f"primary {plan.primary}", 100.0)]
    if plan.kind == "shadow":  # the primary answers everything; the share is only copied
        return [(f"primary {plan.primary}", 100.0)]
    return [
        (f"primary {plan.primary}", 100.0 - plan.share),
        (f"challenger {plan.challenger}", plan.share),
    ]


def _seconds_on_step(plan: Any) -> int:
    started = plan.step_started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return max(0, int((datetime.now(UTC) - started).total_seconds()))


def _live(request: Request, who: web.Viewer, name: str) -> dict[str, Any]:
    status = web.call(request, who, "get_deployment", name=name)
    traffic = web.call(request, who, "serving_traffic", name=name, period="30m")
    plan = status.plan
    share_svg = charts.share_bar(
        _shares(plan),
        label=f"traffic plan of {name}: " + ", ".join(f"{n} {v:.0f}%" for n, v in _shares(plan)),
    )
    series: dict[str, list[tuple[float, float]]] = {}
    for p in traffic.points:
        series.setdefault(p.arm, []).append((p.minute.timestamp(), float(p.requests)))
    rate_svg = (
        charts.line_chart(
            _plot(series), label=f"requests per minute per arm of {name}, last 30 min"
        )
        if series
        else None
    )
    return {
        "status": status,
        "plan": plan,
        "share_rows": [(n, f"{v:.1f}%") for n, v in _shares(plan)],
        "share_svg": share_svg,
        "on_step_s": _seconds_on_step(plan),
        "traffic": traffic,
        "rate_svg": rate_svg,
        "rate_rows": [
            (
                p.minute.strftime("%H:%M"),
                p.arm,
                p.requests,
                fmt.pct(p.error_rate, 2),
                fmt.num(p.latency_p95_ms),
            )
            for p in traffic.points
        ],
        "poll": POLL_SECONDS,
    }


@router.get("/deployments/{name}")
def deployment(request: Request, name: str, who: web.Viewer = Depends(web.viewer)) -> Response:
    context = _live(request, who, name) | {"name": name, "errors": {}, "reason": ""}
    return web.render(request, "deployment.html", context, who=who, title=f"Deployment {name}")


@router.get("/deployments/{name}/live")
def deployment_live(request: Request, name: str, who: web.Viewer = Depends(web.viewer)) -> Response:
    """The part of the page that changes: polled by htmx every few seconds."""
    context = _live(request, who, name) | {"name": name}
    return web.render(request, "deployment_live.html", context, who=who)


@router.post("/deployments/{name}/rollback")
async def rollback(request: Request, name: str, who: web.Viewer = Depends(web.viewer)) -> Response:
    fields = await web.read_form(request, who)
    reason = fields.get("reason", "").strip() or None
    try:
        await run_in_threadpool(web.call, request, who, "rollback", name=name, body=_body(reason))
    except (Conflict, NotFound, InvalidInput) as exc:
        if isinstance(exc, NotFound) and exc.field != "name":
            raise
        context = await run_in_threadpool(_live, request, who, name)
        context |= {"name": name, "errors": {"reason": exc.message}, "reason": reason or ""}
        return web.render(
            request,
            "deployment.html",
            context,
            who=who,
            status=exc.http_status,
            title=f"Deployment {name}",
        )
    return web.redirect(f"/deployments/{quote(name, safe='')}#history")


def _body(reason: str | None) -> Any:
    from modelward.serving.plan_schemas import RollbackRequest

    return RollbackRequest(reason=reason)


def _plot(series: dict[str, list[tuple[float, float]]]) -> dict[str, Sequence[tuple[float, float]]]:
    return {k: v for k, v in series.items()}
