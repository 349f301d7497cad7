"""``modelward monitor-report``: an endpoint's monitoring as an HTML page and a PNG chart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from modelward.cli.common import console, fail, get_client
from modelward.errors import InvalidInput


def _until(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"until must be an ISO date or time (like 2026-03-08T00:00), got {text!r}",
            field="until",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def monitor_report(
    endpoint: str,
    window: str = typer.Option("7d", "--window", help="The period to cover, ending at --until."),
    every: str = typer.Option("1d", "--every", help="The monitor window of each column."),
    until: str = typer.Option(None, "--until", help="End of the period (ISO, UTC); now if unset."),
    html: Path = typer.Option(..., "--html", help="Where to write the HTML report."),
    png: Path = typer.Option(None, "--png", help="Also write the main chart as a 1200x600 PNG."),
) -> None:
    """Write ENDPOINT's drift, data quality, performance and alerts as a self-contained page."""
    from datetime import timedelta

    from modelward.monitoring.report import collect, parse_duration, render_html, render_png

    end = _until(until)
    start = end - timedelta(milliseconds=parse_duration(window, "window"))
    parse_duration(every, "every")
    try:
        data = collect(get_client(), endpoint, start, end, every)
    except NotImplementedError as exc:
        raise fail(f"monitoring report unavailable: {exc}") from None
    html.write_text(render_html(data), encoding="utf-8")
    console.print(f"report written to {html}", highlight=False)
    if png is not None:
        png.write_bytes(render_png(data))
        console.print(f"chart written to {png}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("monitor-report")(monitor_report)
