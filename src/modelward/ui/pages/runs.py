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
# Every token of the pages before this one, so "Previous" needs no server-side state.
BACK_SEP = "."


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
    token = request.query_params.get("page") or None
    back = [t for t in request.query_params.get("back", "").split(BACK_SEP) if t]
    errors: dict[str, str] = {}
    marker = None
    runs: list[Any] = []
    next_token = None
    try:
        body = RunSearch(
            experiments=[name],
            filter=state.filter,
            order_by=[state.order_by] if state.order_by else [],
            max_results=state.size,
            page_token=token,
        )
        page = web.call(request, who, "search_runs", body=body)
        runs, next_token = page.runs, page.next_page_token
    except ValidationError as exc:
        err = invalid_from_pydantic(exc)
        errors[_form_field(err.field)] = err.message
    except InvalidInput as exc:
        field = _form_field(exc.field)
        errors[field] = exc.message
        if field == "filter":
            marker = view.filter_marker(state.filter, exc.details.get("position"))
    base = f"/experiments/{quote(name, safe='')}"
    here = BACK_SEP.join([*back, token]) if token else ""
    next_url = state.url(base, page=next_token, back=here) if next_token else None
    prev_url = None
    if token:
        prev_url = state.url(base, page=back[-1] if back else "", back=BACK_SEP.join(back[:-1]))
    columns = _columns(state, base)
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
        "runs": runs,
        "columns": columns,
        "started": started,
        "errors": errors,
        "marker": marker,
        "prev_url": prev_url,
        "next_url": next_url,
        "first_url": state.url(base) if token else None,
        "page_no": len(back) + (2 if token else 1),
        "page_sizes": view.PAGE_SIZES,
        "base": base,
    }
    status = 400 if errors else 200
    return web.render(request, "runs.html", context, who=who, status=status, title=f"Runs · {name}")


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
