"""The models pages: every registered model, one model's versions, and one version with its
lineage, signature, evaluations, explanations, card, policy checks, promotions (approve or
reject for approvers) and its compliance pack."""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from modelward.client.base import invalid_from_pydantic
from modelward.errors import Conflict, Forbidden, InvalidInput, NotFound
from modelward.governance.pack_export import export_pack
from modelward.governance.schemas import DecisionCreate
from modelward.operations import OPERATIONS, load_all
from modelward.ui import charts, lineage_view, web
from modelward.ui import format as fmt

router = APIRouter(include_in_schema=False)

PAGE = 50
MAX_PAGE_NUMBER = 1_000_000
MAX_EVALUATIONS = 10
MAX_BARS = 20
MAX_VALUE_SHOWN = 90
DECISIONS = ("approve", "reject")


def version_url(name: str, version: int) -> str:
    return f"/models/{quote(name, safe='')}/versions/{version}"


def _page_number(request: Request) -> int:
    """The asked page (1 when absent or not a page number; very large ones are capped)."""
    raw = web.query_params(request).get("page", "1")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 7:
        return MAX_PAGE_NUMBER if raw.isascii() and raw.isdigit() else 1
    return min(max(int(raw), 1), MAX_PAGE_NUMBER)


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE))


def _pager(base: str, page: int, total: int) -> dict[str, Any]:
    pages = _pages(total)
    return {
        "prev": f"{base}?page={page - 1}" if page > 1 else None,
        "next": f"{base}?page={page + 1}" if page < pages else None,
        "label": f"page {min(page, pages)} of {pages}",
        "show": pages > 1,
    }


# --- the list of models ----------------------------------------------------------------


@router.get("/models")
def models_list(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    models = web.call(request, who, "list_registered_models")
    systems = {m.name: s for s in web.call(request, who, "list_systems") for m in s.models}
    page = _page_number(request)
    if page > _pages(len(models)):
        return web.redirect(f"/models?page={_pages(len(models))}")
    shown = models[(page - 1) * PAGE : page * PAGE]
    context = {
        "rows": [{"m": m, "system": systems.get(m.name)} for m in shown],
        "total": len(models),
        "paging": _pager("/models", page, len(models)),
    }
    return web.render(request, "models_list.html", context, who=who, title="Models")


# --- one model ---------------------------------------------------------------------------


@router.get("/models/{name}")
def model_page(name: str, request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    if "@" in name:  # credit-scorer@champion: the version the alias points at now
        found = web.call(request, who, "get_model_version", ref=name)
        return web.redirect(version_url(found.name, found.version))
    model = web.call(request, who, "get_registered_model", name=name)
    page = _page_number(request)
    listing = web.call(
        request, who, "list_versions_page", name=name, offset=(page - 1) * PAGE, limit=PAGE
    )
    if page > _pages(listing.total):  # past the end: the last page
        return web.redirect(f"/models/{quote(name, safe='')}?page={_pages(listing.total)}")
    systems = web.call(request, who, "list_systems", model=name)
    open_requests = web.call(request, who, "list_promotions", model=name, status="open")
    context = {
        "m": model,
        "listing": listing,
        "system": systems[0] if systems else None,
        "open_requests": open_requests,
        "paging": _pager(f"/models/{quote(name, safe='')}", page, listing.total),
    }
    return web.render(request, "model.html", context, who=who, title=f"Model {model.name}")


# --- one version -------------------------------------------------------------------------


def _endpoints(request: Request, who: web.Viewer, name: str, number: int) -> list[Any]:
    """Endpoints serving the version, as primary or as a plan's challenger."""
    ref = f"{name}/{number}"
    out = []
    for e in web.call(request, who, "list_endpoints"):
        if e.model != name:
            continue
        if e.version == number:
            out.append({"name": e.name, "how": f"serves · {e.mode}", "status": e.status})
            continue
        plan = web.call(request, who, "get_deployment", name=e.name).plan
        if plan.challenger == ref and plan.state == "active":
            how = f"challenger · {plan.kind} {fmt.num(plan.share)}%"
            out.append({"name": e.name, "how": how, "status": e.status})
    return out


def _evaluation_view(ev: Any) -> dict[str, Any]:
    results = ev.results
    metrics = results.get("metrics") or {}
    deltas = results.get("deltas") or {}
    slices = []
    for feature, groups in (results.get("slices") or {}).items():
        keys = sorted({k for g in groups.values() for k in g if k != "rows"})
        rows = [
            [group, fmt.num(values.get("rows"))] + [fmt.num(values.get(k)) for k in keys]
            for group, values in groups.items()
        ]
        slices.append({"feature": feature, "head": ["Slice", "Rows", *keys], "rows": rows})
    fairness = []
    for attribute, found in (results.get("fairness") or {}).items():
        groups = found.get("groups") or {}
        keys = sorted({k for g in groups.values() for k in g if k != "rows"})
        fairness.append(
            {
                "attribute": attribute,
                "summary": [(k, fmt.num(v)) for k, v in found.items() if k != "groups"],
                "head": ["Group", "Rows", *keys],
                "rows": [
                    [group, fmt.num(values.get("rows"))] + [fmt.num(values.get(k)) for k in keys]
                    for group, values in groups.items()
                ],
            }
        )
    return {
        "ev": ev,
        "metrics": [(k, fmt.num(v), deltas.get(k)) for k, v in metrics.items()],
        "has_deltas": bool(deltas),
        "rows": results.get("rows"),
        "slices": slices,
        "fairness": fairness,
        "undefined": results.get("undefined") or {},
    }


def _explanation_view(ex: Any) -> dict[str, Any]:
    importance: dict[str, float] = ex.results.get("importance") or {}
    spread: dict[str, float] = ex.results.get("importance_std") or {}
    ranked = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)
    top = ranked[:MAX_BARS]
    svg = charts.bar_chart(
        top,
        label=f"feature importance of {ex.model} v{ex.version} by {ex.method}"
        + (f", top {len(top)} of {len(ranked)}" if len(ranked) > len(top) else ""),
        signed=any(v < 0 for _, v in top),
    )
    return {
        "ex": ex,
        "svg": svg,
        "head": ["Feature", "Importance", "± std"],
        "rows": [(f, fmt.num(v), fmt.num(spread.get(f))) for f, v in ranked],
        "shown": len(top),
        "total": len(ranked),
    }


def _policy_checks(request: Request, who: web.Viewer, ref: str) -> list[Any]:
    """The gate's report for every alias an enabled policy guards, where one guards it."""
    aliases = sorted(
        {a for p in web.call(request, who, "list_policies") if p.enabled for a in p.aliases}
    )
    reports = [web.call(request, who, "check_policy", ref=ref, to=a) for a in aliases]
    return [r for r in reports if r.governed]


def _values(values: dict[str, Any]) -> list[tuple[str, str]]:
    def show(v: Any) -> str:
        if isinstance(v, list):
            text = ", ".join(str(x) for x in v) or "none"
        elif isinstance(v, float):
            text = fmt.num(v)
        else:
            text = str(v)
        # the full value is in the gate report (API) and the compliance pack
        return text if len(text) <= MAX_VALUE_SHOWN else text[: MAX_VALUE_SHOWN - 1] + "…"

    return [(k, show(v)) for k, v in values.items()]


def _can(who: web.Viewer, op_name: str) -> bool:
    load_all()
    return who.can(OPERATIONS[op_name].role.name)


def _version_context(request: Request, who: web.Viewer, name: str, number: int) -> dict[str, Any]:
    ref = f"{name}/{number}"
    version = web.call(request, who, "get_model_version", ref=ref)
    model = web.call(request, who, "get_registered_model", name=name)
    lineage = web.call(request, who, "get_version_lineage", ref=ref)
    endpoints = _endpoints(request, who, name, number)
    graph = lineage_view.build_graph(lineage, [(e["name"], e["how"]) for e in endpoints])
    evaluations = web.call(request, who, "list_evaluations", ref=ref)
    explanations = web.call(request, who, "list_explanations", ref=ref)
    card = web.call(request, who, "get_card", ref=ref, format="html")
    promotions = [
        p for p in web.call(request, who, "list_promotions", model=name) if p.version == number
    ]
    checks = _policy_checks(request, who, ref)
    return {
        "v": version,
        "m": model,
        "lineage": lineage,
        "endpoints": endpoints,
        "graph_svg": lineage_view.render(
            graph, label=f"lineage of {name} v{number}: where it came from and where it serves"
        ),
        "evaluations": [_evaluation_view(e) for e in evaluations[:MAX_EVALUATIONS]],
        "evaluations_total": len(evaluations),
        "explanation": _explanation_view(explanations[0]) if explanations else None,
        "explanations_total": len(explanations),
        "card": card,
        "checks": checks,
        "gates": {r.target_alias: r for r in checks},
        "values": _values,
        "promotions": promotions,
        "can_decide": who.can("approver"),
        "can_export": _can(who, "record_pack_export"),
        "errors": {},
        "comments": {},
        "decided": None,
        "url": version_url(name, number),
    }


def _number_or_redirect(
    request: Request, who: web.Viewer, name: str, number: str
) -> int | Response:
    if number.isascii() and number.isdigit() and len(number) <= 12:
        return int(number)
    # /models/credit-scorer/versions/champion: an alias, shown at the version's own address
    try:
        found = web.call(request, who, "get_model_version", ref=f"{name}@{number}")
    except InvalidInput:  # neither a version number nor an alias name: no such page
        web.call(request, who, "get_registered_model", name=name)
        raise NotFound(f"{name} has no version or alias {number!r}", field="ref") from None
    return web.redirect(version_url(found.name, found.version))


@router.get("/models/{name}/versions/{number}")
def version_page(
    name: str, number: str, request: Request, who: web.Viewer = Depends(web.viewer)
) -> Response:
    n = _number_or_redirect(request, who, name, number)
    if isinstance(n, Response):
        return n
    context = _version_context(request, who, name, n)
    decided = web.query_params(request).get("decided", "")
    context["decided"] = int(decided) if decided.isdigit() else None
    return web.render(request, "version.html", context, who=who, title=f"{name} v{n}")


@router.get("/models/{name}/versions/{number}/card.html")
def version_card(
    name: str, number: str, request: Request, who: web.Viewer = Depends(web.viewer)
) -> Response:
    """The card page on its own, as the governance module renders it (for reading and print)."""
    n = _number_or_redirect(request, who, name, number)
    if isinstance(n, Response):
        return n
    card = web.call(request, who, "get_card", ref=f"{name}/{n}", format="html")
    return Response(
        card.html or "",
        media_type="text/html; charset=utf-8",
        headers={
            # The card is escaped already; this keeps it inert even so: no script, no fetch.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/models/{name}/versions/{number}/pack.zip")
async def version_pack(
    name: str, number: str, request: Request, who: web.Viewer = Depends(web.viewer)
) -> Response:
    """The compliance pack, built by the same export the SDK runs (unsigned: the newest stored
    checkpoint covering the version's events is included when there is one). A POST with
    the form token: the export is recorded in the audit trail."""
    await web.read_form(request, who)
    if not (number.isascii() and number.isdigit() and len(number) <= 12):
        raise NotFound(f"{name} has no version {number!r}", field="ref")
    n = int(number)
    data = await run_in_threadpool(_pack_bytes, request, who, f"{name}/{n}")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{safe}-v{n}-pack.zip"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


def _pack_bytes(request: Request, who: web.Viewer, ref: str) -> bytes:
    web.call(request, who, "get_model_version", ref=ref)  # unknown version: 404 before writing
    call = functools.partial(web.call, request, who)
    with tempfile.TemporaryDirectory(prefix="mw-pack-") as tmp:
        path = Path(tmp) / "pack.zip"
        export_pack(call, ref, path)
        return path.read_bytes()


# --- approve and reject ------------------------------------------------------------------


def _decision_body(comment: str) -> DecisionCreate:
    try:
        return DecisionCreate(comment=comment)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


@router.post("/promotions/{request_id}/{decision}")
async def decide(
    request_id: int, decision: str, request: Request, who: web.Viewer = Depends(web.viewer)
) -> Response:
    if decision not in DECISIONS:
        raise NotFound(f"no action {decision!r} on a promotion request; approve or reject")
    fields = await web.read_form(request, who)
    comment = fields.get("comment", "").strip()
    op = f"{decision}_promotion"
    load_all()
    # The operation's own role check, first: a viewer is refused naming the role needed.
    who.principal.require(OPERATIONS[op].role, op.replace("_", " "))
    promotion = await run_in_threadpool(
        web.call, request, who, "get_promotion", request_id=request_id
    )
    back = version_url(promotion.model, promotion.version)
    try:
        body = _decision_body(comment)
        await run_in_threadpool(web.call, request, who, op, request_id=request_id, body=body)
    except (Forbidden, Conflict, InvalidInput) as exc:
        # Four eyes, a closed or expired request, a too-long comment: said beside the form.
        context = await run_in_threadpool(
            _version_context, request, who, promotion.model, promotion.version
        )
        context["errors"] = {f"promotion-{request_id}": exc.message}
        context["comments"] = {request_id: comment}
        return web.render(
            request,
            "version.html",
            context,
            who=who,
            status=exc.http_status,
            title=f"{promotion.model} v{promotion.version}",
        )
    return web.redirect(f"{back}?decided={request_id}#promotion-{request_id}")
