"""``modelward runs …``: search runs, show one, its metric history and artifacts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

from modelward.cli.common import JsonOpt, console, get_client, output, print_json, print_table

sub = typer.Typer(help="Runs: params, metrics, tags, inputs and artifacts.", no_args_is_help=True)

RUN_COLUMNS = ["id", "name", "status", "start_time", "metrics", "params"]


def _plain(value: Any) -> Any:
    """JSON-ready data with NaN and infinities as "NaN" / "Infinity", as the API sends them."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, BaseModel):
        return json.loads(value.model_dump_json())
    return value


@sub.command("list")
def list_(
    experiments: list[str] = typer.Argument(..., help="Experiment name(s)."),
    filter_: str = typer.Option(
        "", "--filter", "-f", help="e.g. 'metrics.auc > 0.8 and params.depth = \"5\"'"
    ),
    order_by: list[str] = typer.Option(
        None, "--order-by", "-o", help='e.g. "metrics.auc desc"; repeat for more keys.'
    ),
    max_results: int = typer.Option(100, "--max-results", "-n", help="Page size (≤ 10,000)."),
    page_token: str = typer.Option(None, "--page-token", help="Token printed after a page."),
    include_deleted: bool = typer.Option(False, "--include-deleted", help="Show deleted runs."),
    as_json: bool = JsonOpt,
) -> None:
    """Search the runs of experiments; newest first unless --order-by says otherwise."""
    page = get_client().search_runs(
        experiments,
        filter_,
        order_by=order_by or None,
        max_results=max_results,
        page_token=page_token,
        include_deleted=include_deleted,
    )
    if as_json:
        print_json(_plain(page))
        return
    output(page.runs, False, RUN_COLUMNS, title=f"runs of {', '.join(experiments)}")
    if page.next_page_token:
        console.print(f"more runs: --page-token {page.next_page_token}", highlight=False)


@sub.command("show")
def show(run_id: str, as_json: bool = JsonOpt) -> None:
    """A run: status, times, params, latest metrics, tags, inputs and artifacts."""
    client = get_client()
    run = client.get_run(run_id)
    artifacts = client.list_run_artifacts(run_id)
    if as_json:
        print_json({**_plain(run), "artifacts": _plain(artifacts)})
        return
    fields = ["id", "name", "experiment", "status", "lifecycle", "start_time", "end_time"]
    print_table(f"run {run.id}", ["field", "value"], [(f, getattr(run, f)) for f in fields])
    for title, values in (("params", run.params), ("metrics", run.metrics), ("tags", run.tags)):
        if values:
            print_table(title, ["key", "value"], sorted(values.items()))
    if run.inputs:
        output(run.inputs, False, ["dataset", "version", "role", "content_hash"], title="inputs")
    if artifacts:
        output(artifacts, False, ["path", "size", "digest"], title="artifacts")


@sub.command("metrics")
def metrics(run_id: str, key: str, as_json: bool = JsonOpt) -> None:
    """Every logged point of one metric of a run."""
    points = get_client().get_metric_history(run_id, key)
    if as_json:
        print_json(_plain(points))
        return
    rows = [(p.step, p.value, datetime.fromtimestamp(p.timestamp / 1000, tz=UTC)) for p in points]
    print_table(f"{key} of run {run_id}", ["step", "value", "time"], rows)


@sub.command("artifacts")
def artifacts(
    run_id: str,
    prefix: str = typer.Option(None, "--prefix", help="Only paths at or under this folder."),
    as_json: bool = JsonOpt,
) -> None:
    """The artifacts logged by a run."""
    found = get_client().list_run_artifacts(run_id, prefix=prefix)
    output(found, as_json, ["path", "size", "digest", "created_at"])


@sub.command("download")
def download(
    run_id: str,
    path: str,
    dest: Path = typer.Option(Path("."), "--dest", "-d", help="Folder to write into."),
) -> None:
    """Download an artifact (or a folder of them), verified against its digest."""
    written = get_client().download_run_artifact(run_id, path, dest)
    console.print(f"downloaded {written}", highlight=False)


@sub.command("delete")
def delete(run_id: str) -> None:
    """Mark a run deleted (kept for lineage; hidden from search)."""
    info = get_client().delete_run(run_id)
    console.print(f"run {info.id} deleted", highlight=False)


@sub.command("restore")
def restore(run_id: str) -> None:
    """Bring a deleted run back."""
    info = get_client().restore_run(run_id)
    console.print(f"run {info.id} restored", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="runs")
