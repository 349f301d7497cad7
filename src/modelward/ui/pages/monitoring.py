"""The monitoring pages: every endpoint's health and drift verdict, and one endpoint's drift
heatmap, distributions, data quality, performance as labels arrive, and its alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from modelward.errors import InvalidInput, NotFound
from modelward.ui import monitoring_view as view
from modelward.ui import web

router = APIRouter(include_in_schema=False)
WINDOWS = ("1h", "6h", "1d", "7d")
SIZE_HOURS = {"1h": 1, "6h": 6, "1d": 24, "7d": 168}
MAX_PERIODS = 60


@router.get("/monitoring")
def monitoring(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    rows = []
    for endpoint in web.call(request, who, "list_endpoints"):
        health = web.call(request, who, "endpoint_health", name=endpoint.name)
        open_alerts = web.call(request, who, "list_alerts", endpoint=endpoint.name, status="open")
        drift = web.call(request, who, "drift_report", endpoint=endpoint.name)
        judged = [r for r in drift if r.feature == "__dataset__" and r.rows]
        rows.append(
            {
                "endpoint": endpoint,
                "health": health,
                "open_alerts": len(open_alerts),
                "last_window": judged[-1] if judged else None,
            }
        )
    return web.render(request, "monitoring.html", {"rows": rows}, who=who, title="Monitoring")


def _choices(params: dict[str, str]) -> tuple[str, int, dict[str, str]]:
    errors: dict[str, str] = {}
    window = params.get("window", "1d")
    if window not in WINDOWS:
        errors["window"] = f"choose one of {', '.join(WINDOWS)}"
        window = "1d"
    raw = params.get("periods", "7")
    try:
        periods = int(raw)
        if not 1 <= periods <= MAX_PERIODS:
            raise ValueError
    except ValueError:
        errors["periods"] = f"a whole number of windows from 1 to {MAX_PERIODS}"
        periods = 7
    return window, periods, errors


@router.get("/monitoring/{name}")
def endpoint_monitoring(
    request: Request, name: str, who: web.Viewer = Depends(web.viewer)
) -> Response:
    endpoint = web.call(request, who, "get_endpoint", name=name)
    params = web.query_params(request)
    window, periods, errors = _choices(params)
    now = datetime.now(UTC)
    since = (now - timedelta(hours=SIZE_HOURS[window] * periods)).isoformat()
    period = {"endpoint": name, "since": since, "window": window}
    drift = web.call(request, who, "drift_report", **period)
    heat = view.drift_heatmap(drift, window, name)
    with_rows = [r.window_start for r in drift if r.rows]
    feature = params.get("feature") or _first_drifted(drift) or (heat["features"] or [""])[0]
    start = params.get("start") or (max(with_rows).isoformat() if with_rows else now.isoformat())
    dist = None
    try:
        d = web.call(
            request,
            who,
            "feature_distribution",
            endpoint=name,
            feature=feature,
            start=start,
            window=window,
        )
        dist = {"d": d} | view.distribution_charts(d)
    except (InvalidInput, NotFound) as exc:  # a feature or window chosen in the form
        errors[exc.field or "start"] = exc.message
    quality = view.quality_rows(web.call(request, who, "quality_report", **period))
    perf = view.performance_view(
        web.call(request, who, "performance_report", **period), window, name
    )
    alerts = web.call(request, who, "list_alerts", endpoint=name, limit=20)
    health = web.call(request, who, "endpoint_health", name=name)
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "name": name,
        "window": window,
        "windows": WINDOWS,
        "periods": periods,
        "heat": heat,
        "feature": feature,
        "start": start,
        "dist": dist,
        "quality": quality,
        "perf": perf,
        "alerts": alerts,
        "health": health,
        "errors": errors,
    }
    return web.render(
        request,
        "monitoring_endpoint.html",
        context,
        who=who,
        title=f"Monitoring {name}",
        status=400 if errors else 200,
    )


def _first_drifted(drift: list[Any]) -> str | None:
    for r in reversed(drift):
        if r.flagged and not r.feature.startswith("__"):
            return str(r.feature)
    return None


@router.post("/monitoring/{name}/alerts/{alert_id}/{action}")
async def alert_action(
    request: Request,
    name: str,
    alert_id: int,
    action: str,
    who: web.Viewer = Depends(web.viewer),
) -> Response:
    await web.read_form(request, who)
    ops = {"acknowledge": "acknowledge_alert", "resolve": "resolve_alert"}
    if action not in ops:
        raise InvalidInput("action: must be acknowledge or resolve", field="action")
    await run_in_threadpool(web.call, request, who, ops[action], alert_id=alert_id)
    return web.redirect(f"/monitoring/{quote(name, safe='')}#alerts")
