"""``modelward evaluate``, ``modelward explain`` and ``modelward evaluations``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

from modelward.cli.common import JsonOpt, console, fmt, get_client, print_json, print_table


@contextmanager
def _progress(label: str, client: Any) -> Iterator[None]:
    """A bar driven by the service's phases in process; a spinner while a server works."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from modelward.client.transport import LocalTransport
    from modelward.progress import reporting

    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=True) as bar:
        local = isinstance(client._transport, LocalTransport)
        task = bar.add_task(label, total=1.0 if local else None)

        def report(phase: str, fraction: float) -> None:
            bar.update(
                task, description=f"{label}: {phase}", completed=max(0.0, min(fraction, 1.0))
            )

        update: Callable[[str, float], None] = report
        with reporting(update):
            yield


def _metrics_rows(results: dict[str, Any]) -> list[list[Any]]:
    deltas = results.get("deltas") or {}
    rows = []
    for name, value in (results.get("metrics") or {}).items():
        d = deltas.get(name)
        delta = f"{d['delta']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]" if d else ""
        rows.append([name, value, delta])
    return rows


def evaluate(
    ref: str = typer.Argument(..., help="Model version: name/3, name@candidate or name."),
    dataset: str = typer.Option(
        ..., "--dataset", help="Dataset version: name, name@latest, name/2."
    ),
    target: str = typer.Option(..., "--target", help="Column with the true label or value."),
    name: str = typer.Option("holdout", "--name", help="What policies call it: evaluations.NAME."),
    against: str = typer.Option(
        None, "--against", help="Compare with an alias (champion) or name/2."
    ),
    slice_by: list[str] = typer.Option([], "--slice-by", help="Metrics per value of this column."),
    sensitive: list[str] = typer.Option(
        [], "--sensitive", help="Fairness per group of this column."
    ),
    task: str = typer.Option(
        None, "--task", help="classification or regression (default: inferred)."
    ),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Resamples for the delta intervals."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = JsonOpt,
) -> None:
    """Evaluate a version on a registered dataset and store the result as evidence."""
    client = get_client()
    with _progress(f"evaluating {ref}", client):
        out = client.evaluate(
            ref,
            dataset=dataset,
            target=target,
            name=name,
            against=against,
            slice_by=slice_by,
            sensitive=sensitive,
            task=task,
            bootstrap=bootstrap,
            seed=seed,
        )
    if as_json:
        print_json(out)
        return
    vs = f" vs version {out.against_version}" if out.against_version else ""
    title = f"{out.model}/{out.version} on {out.dataset} ({out.results.get('rows')} rows){vs}"
    print_table(title, ["metric", "value", "delta [95% CI]"], _metrics_rows(out.results))
    latency = out.results.get("latency_ms") or {}
    console.print(f"batch latency ms: {fmt(latency)}", highlight=False)
    for column, groups in (out.results.get("fairness") or {}).items():
        keys = (
            "demographic_parity_difference",
            "demographic_parity_ratio",
            "equalized_odds_difference",
        )
        console.print(
            f"fairness by {column}: {fmt({k: groups.get(k) for k in keys})}", highlight=False
        )
    console.print(f"evaluation {out.id} stored as evaluations.{out.name}", highlight=False)


def explain(
    ref: str = typer.Argument(..., help="Model version: name/3, name@candidate or name."),
    dataset: str = typer.Option(..., "--dataset"),
    target: str = typer.Option(..., "--target"),
    method: str = typer.Option("auto", "--method", help="auto, permutation or shap."),
    sample: int = typer.Option(2000, "--sample", help="Rows (stratified) to explain on."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = JsonOpt,
) -> None:
    """Global feature importance of a version, stored as explainability evidence."""
    client = get_client()
    with _progress(f"explaining {ref}", client):
        out = client.explain(
            ref, dataset=dataset, target=target, method=method, sample=sample, seed=seed
        )
    if as_json:
        print_json(out)
        return
    importance = out.results.get("importance", {})
    rows = [[f, importance.get(f)] for f in out.results.get("features", [])[:20]]
    print_table(
        f"{out.model}/{out.version}: {out.method} importance on {out.dataset}",
        ["feature", "importance"],
        rows,
    )


def evaluations(
    ref: str, name: str = typer.Option(None, "--name"), as_json: bool = JsonOpt
) -> None:
    """List a version's evaluations, newest first."""
    items = get_client().list_evaluations(ref, name=name)
    if as_json:
        print_json(items)
        return
    rows = [
        [
            e.id,
            e.name,
            e.dataset,
            e.task,
            e.against_version,
            fmt(e.results.get("metrics")),
            e.created_at,
        ]
        for e in items
    ]
    print_table(
        f"evaluations of {ref}",
        ["id", "name", "dataset", "task", "against", "metrics", "created_at"],
        rows,
    )


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("explain")(explain)
    app.command("evaluations")(evaluations)
