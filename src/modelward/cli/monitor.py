"""``modelward monitor …``: run the monitors, and show drift, quality and performance."""

from __future__ import annotations

from typing import Any

import typer

from modelward.cli.common import JsonOpt, get_client, print_json, print_table

sub = typer.Typer(
    help="Monitors: drift, data quality and performance over time.", no_args_is_help=True
)

SinceOpt = typer.Option(None, "--since", help="Start of prediction time (ISO 8601; UTC).")
UntilOpt = typer.Option(None, "--until", help="End of prediction time (default now).")
WindowOpt = typer.Option("1d", "--window", help="Window size: 1h, 6h, 1d, 7d …")
RESULT_COLUMNS = ["window_start", "feature", "method", "statistic", "threshold", "p_value"]
RUN_COLUMNS = ["endpoint", "window", "windows", "drifted_windows", "quality_flags", "alerts"]


def _results(op: str, endpoint: str, since: Any, until: Any, window: str, as_json: bool) -> None:
    client = get_client()
    rows = client._call(op, endpoint=endpoint, since=since, until=until, window=window)
    if as_json:
        print_json(rows)
        return
    verdict = "drifted" if op == "drift_report" else "flagged"
    table = (
        [getattr(r, c) for c in RESULT_COLUMNS] + [r.flagged, r.rows, _note(r.details)]
        for r in rows
    )
    print_table(
        f"{endpoint}: {op.removesuffix('_report')}",
        [*RESULT_COLUMNS, verdict, "rows", "note"],
        table,
    )


def _note(details: dict[str, Any]) -> str:
    if details.get("reason"):
        return str(details["reason"])
    if details.get("failed"):
        return ", ".join(details["failed"])
    if details.get("status"):
        return str(details["status"])
    if details.get("drifted"):
        return ", ".join(details["drifted"])
    return ""


@sub.command("drift")
def drift(
    endpoint: str, since: str = SinceOpt, until: str = UntilOpt, window: str = WindowOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Drift per window and feature (computed from the stored profiles)."""
    _results("drift_report", endpoint, since, until, window, as_json)


@sub.command("quality")
def quality(
    endpoint: str, since: str = SinceOpt, until: str = UntilOpt, window: str = WindowOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Null rates, out-of-range and unseen values, type errors and volume per window."""
    _results("quality_report", endpoint, since, until, window, as_json)


@sub.command("performance")
def performance(
    endpoint: str, since: str = SinceOpt, until: str = UntilOpt, window: str = WindowOpt,
    as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Label coverage, realized and estimated metrics per window."""
    _results("performance_report", endpoint, since, until, window, as_json)


def _run(endpoint: str | None, since: str | None, until: str | None, as_json: bool) -> None:
    out = get_client()._call("monitor_run", endpoint=endpoint, since=since, until=until)
    if as_json:
        print_json(out)
        return
    rows = ([getattr(e, c) for c in RUN_COLUMNS] + [e.skipped or ""] for e in out.endpoints)
    print_table("monitor run", [*RUN_COLUMNS, "skipped"], rows)


@sub.command("run")
def run(
    endpoint: str = typer.Option(None, "--endpoint", help="One endpoint (default: all active)."),
    since: str = SinceOpt, until: str = UntilOpt, as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Compute and store every complete window since the last run; alert rules see them."""
    _run(endpoint, since, until, as_json)


@sub.command("backfill")
def backfill(
    endpoint: str = typer.Argument(None, help="One endpoint (default: all active)."),
    since: str = typer.Option(..., "--since", help="Recompute from here (ISO 8601; UTC)."),
    until: str = UntilOpt, as_json: bool = JsonOpt,
) -> None:  # fmt: skip
    """Recompute and store the windows of older logged predictions."""
    _run(endpoint, since, until, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="monitor")
