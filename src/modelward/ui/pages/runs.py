"""The runs pages: experiments, an experiment's runs table (sorted, filtered and paged on
the server by ``search_runs``), one run with its metric histories, and runs side by side."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from modelward.client.base import invalid_from_pydantic
from modelward.errors import InvalidInput
from modelward.tracking.schemas import RunSearch
from modelward.ui import runs_view as view
from modelward.ui import web
from modelward.ui.format import num

router = APIRouter(include_in_schema=False)
MAX_COMPARE = 8
MAX_HISTORY_KEYS = 24
BACK_SEP = "."  # never in a page token (URL-safe base64)
# Tokens of earlier pages kept in a page's address: about 5 kB, under any proxy's limit.
MAX_BACK = 100


@router.get("/experiments")
def experiments(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    rows = web.call(request, who, "list_experiment_summaries")
    return web.render(request, "experiments.html", {"rows": rows}, who=who, title="Experiments")


def _state(request: Request, keys: Any) -> view.TableState:
    q = request.query_params
    picked = q.get("cols") == "1"
    metrics, params, tags = view.choose_columns(
        keys, q.getlist("m"), q.getlist("p"), q.getlist("t"), picked
    )
    try:
        size = int(q.get("n", view.DEFAULT_PAGE_SIZE))
    except ValueError:
        size = view.DEFAULT_PAGE_SIZE
    return view.TableState(
        filter=q.get("filter", "").strip(),
        order_by=q.get("order_by", "").strip(),
        metrics=metrics,
        params=params,
        tags=tags,
        picked=picked,
        size=size if size in view.PAGE_SIZES else view.DEFAULT_PAGE_SIZE,
    )


@router.get("/experiments/{name}")
def experiment_runs(request: Request, name: str, who: web.Viewer = Depends(web.viewer)) -> Response:
    experiment = web.call(request, who, "get_experiment", name=name)
    keys = web.call(request, who, "get_experiment_keys", name=name)
    state = _state(request, keys)
    base = f"/experiments/{quote(name, safe='')}"
    token = request.query_params.get("page") or None
    found = _search(request, who, name, state, token)
    pages = _pages(request, state, base, token, found["next_token"])
    started = view.sort_link(state, base, "attributes.start_time")
    if not state.order_by:  # search_runs' own order: newest first
        started = {
            "href": state.url(base, order_by="attributes.start_time ASC"),
            "sort": "descending",
        }
    context = {
        "experiment": experiment,
        "keys": keys,
        "user_tags": view.user_tags(keys.tags),
        "state": state,
        "columns": _columns(state, base),
        "started": started,
        "page_sizes": view.PAGE_SIZES,
        "base": base,
        "token": token,
        **found,
        **pages,
    }
    status = 400 if found["errors"] else 200
    return web.render(request, "runs.html", context, who=who, status=status, title=f"Runs · {name}")


def _search(
    request: Request, who: web.Viewer, name: str, state: view.TableState, token: str | None
) -> dict[str, Any]:
    """One page of runs, or the errors to show beside the fields that caused them."""
    errors: dict[str, str] = {}
    markers: dict[str, Any] = {}
    try:
        body = RunSearch(
            experiments=[name],
            filter=state.filter,
            order_by=[state.order_by] if state.order_by else [],
            max_results=state.size,
            page_token=token,
        )
        page = web.call(request, who, "search_runs", body=body)
        return {"runs": page.runs, "next_token": page.next_page_token, "errors": {}, "markers": {}}
    except ValidationError as exc:
        err = invalid_from_pydantic(exc)
        # Shown beside its field, the message need not start by naming it.
        errors[_form_field(err.field)] = err.message.removeprefix(f"{err.field}: ")
    except InvalidInput as exc:
        field = _form_field(exc.field)
        errors[field] = exc.message
        typed = {"filter": state.filter, "order_by": state.order_by}.get(field)
        if typed is not None:
            markers[field] = view.filter_marker(typed, exc.details.get("position"))
    return {"runs": [], "next_token": None, "errors": errors, "markers": markers}


def _pages(
    request: Request, state: view.TableState, base: str, token: str | None, next_token: str | None
) -> dict[str, Any]:
    """Previous, next and first page links. A page's address carries the tokens of the
    pages before it (at most MAX_BACK of them), so going back needs no server-side state."""
    q = request.query_params
    back = [t for t in q.get("back", "").split(BACK_SEP) if t][-MAX_BACK:]
    page_no = 1
    if token:
        at = q.get("at", "")
        page_no = int(at) if at.isdigit() and int(at) >= len(back) + 2 else len(back) + 2
    trail = BACK_SEP.join([*back, token][-MAX_BACK:]) if token else ""
    next_url = None
    if next_token:
        next_url = state.url(base, page=next_token, back=trail, at=page_no + 1)
    prev_url = None
    if back:
        prev_url = state.url(base, page=back[-1], back=BACK_SEP.join(back[:-1]), at=page_no - 1)
    elif page_no == 2:
        prev_url = state.url(base)
    return {
        "prev_url": prev_url,
        "next_url": next_url,
        "first_url": state.url(base) if token else None,
        "page_no": page_no,
        "back": BACK_SEP.join(back),
    }


def _form_field(field: str | None) -> str:
    """Which part of the page an error from ``search_runs`` belongs beside."""
    if field and field.startswith("order_by"):
        return "order_by"
    if field and field.startswith("page_token"):
        return "page"
    return "filter"


def _columns(state: view.TableState, base: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, entity, keys in (
        ("metric", "metrics", state.metrics),
        ("param", "params", state.params),
        ("tag", "tags", state.tags),
    ):
        for key in keys:
            column = view.ident(entity, key)
            out.append({"kind": kind, "key": key, **view.sort_link(state, base, column)})
    return out


@router.get("/runs/compare")
def compare_runs(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    ids = list(dict.fromkeys(i for i in request.query_params.getlist("ids") if i))
    if len(ids) < 2:
        raise InvalidInput("choose at least two runs to compare (tick them in a runs table)")
    if len(ids) > MAX_COMPARE:
        raise InvalidInput(f"compare at most {MAX_COMPARE} runs at a time, not {len(ids)}")
    runs = [web.call(request, who, "get_run", run_id=i) for i in ids]
    names = _distinct_names(runs)
    overlays = []
    shared = sorted(set.union(*(set(r.metrics) for r in runs)))[:MAX_HISTORY_KEYS]
    for key in shared:
        histories = {
            n: web.call(request, who, "get_metric_history", run_id=r.id, key=key)
            for n, r in zip(names, runs, strict=True)
            if key in r.metrics
        }
        if any(len(h) > 1 for h in histories.values()):
            overlays.append(view.overlay_chart(key, histories))
    context = {
        "runs": runs,
        "names": names,
        "params": view.compare_rows([r.params for r in runs]),
        "metrics": view.compare_rows([r.metrics for r in runs], num),
        "attributes": view.compare_rows(
            [
                {"status": r.status, "experiment": r.experiment, "created_by": r.created_by}
                for r in runs
            ]
        ),
        "overlays": overlays,
    }
    return web.render(request, "run_compare.html", context, who=who, title="Compare runs")


def _distinct_names(runs: list[Any]) -> list[str]:
    """Run names as column heads, with the id's start where two runs share a name."""
    names = [r.name for r in runs]
    return [
        n if names.count(n) == 1 else f"{n} ({r.id[:6]})" for n, r in zip(names, runs, strict=True)
    ]


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: str, who: web.Viewer = Depends(web.viewer)) -> Response:
    run = web.call(request, who, "get_run", run_id=run_id)
    artifacts = web.call(request, who, "list_run_artifacts", run_id=run_id)
    models = web.call(request, who, "list_run_model_versions", run_id=run_id)
    charts = []
    for key in sorted(run.metrics)[:MAX_HISTORY_KEYS]:
        points = web.call(request, who, "get_metric_history", run_id=run_id, key=key)
        if len(points) > 1:
            charts.append(view.history_chart(key, points))
    system = {k: v for k, v in run.tags.items() if k.startswith(view.SYSTEM_TAG)}
    context = {
        "run": run,
        "artifacts": artifacts,
        "models": models,
        "charts": charts,
        "user_tags": {k: v for k, v in run.tags.items() if k not in system},
        "system_tags": system,
        "packages": _packages(system.get("mw.packages")),
        "more_metrics": max(len(run.metrics) - MAX_HISTORY_KEYS, 0),
    }
    return web.render(request, "run.html", context, who=who, title=f"Run {run.name}")


def _packages(raw: str | None) -> dict[str, str]:
    import json

    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
