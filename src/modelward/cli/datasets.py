"""``modelward datasets …``"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelward.cli.common import JsonOpt, console, err_console, get_client, print_json
from modelward.cli.common import print_table as table

sub = typer.Typer(
    help="Datasets: versions identified by content, with schema and profile.", no_args_is_help=True
)

PHASES = {
    "read": "reading",
    "hash": "hashing rows",
    "encode": "encoding Parquet",
    "profile": "profiling columns",
    "upload": "uploading",
    "register": "recording the version",
}


class ProgressBars:
    """Turns the SDK's ``progress(phase, done, total)`` calls into rich progress bars."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}
        self.uploaded = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "upload":
            self.uploaded = True
        if phase not in self.tasks:
            label = PHASES.get(phase, phase)
            if phase == "upload":
                label = f"{label} {total / 1e6:.1f} MB"
            self.tasks[phase] = self.progress.add_task(label, total=max(total, 1))
        self.progress.update(self.tasks[phase], completed=done)


@sub.command("register")
def register_(
    name: str = typer.Argument(..., help="Dataset name."),
    file: Path = typer.Argument(..., help="A .parquet or .csv (UTF-8) file."),
    description: str = typer.Option("", "--description", "-d", help="What this version holds."),
    as_json: bool = JsonOpt,
) -> None:
    """Register a file as the next version of a dataset (same content: same version)."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True) as bars:
        tracker = ProgressBars(bars)
        version = get_client().register_dataset(name, file, description, progress=tracker)
    if as_json:
        print_json(version)
        return
    state = "registered" if tracker.uploaded else "unchanged: the content is already"
    console.print(
        f"{state} [bold]{version.ref}[/bold] — {version.num_rows:,} rows × "
        f"{version.num_columns} columns, content {version.content_hash[:12]}",
        highlight=False,
    )


@sub.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """List datasets with their latest version."""
    items = get_client().list_datasets()
    if as_json:
        print_json(items)
        return
    header = ["name", "latest", "versions", "rows", "columns", "updated", "description"]
    table(
        None,
        header,
        (
            [d.name, d.latest_version, d.num_versions, d.num_rows, d.num_columns, d.updated_at]
            + [d.description]
            for d in items
        ),
    )


@sub.command("versions")
def versions(
    name: str = typer.Argument(..., help="Dataset name."), as_json: bool = JsonOpt
) -> None:
    """List the versions of a dataset."""
    items = get_client().list_dataset_versions(name)
    if as_json:
        print_json(items)
        return
    header = ["ref", "rows", "columns", "content", "created by", "created", "description"]
    table(
        None,
        header,
        (
            [v.ref, v.num_rows, v.num_columns, v.content_hash[:12], v.created_by, v.created_at]
            + [v.description]
            for v in items
        ),
    )


@sub.command("show")
def show(
    ref: str = typer.Argument(..., help="name, name@latest or name/3"), as_json: bool = JsonOpt
) -> None:
    """Show a dataset version: schema and profile summary."""
    version = get_client().get_dataset(ref)
    if as_json:
        print_json(version)
        return
    console.print(f"[bold]{version.ref}[/bold]  {version.description}", highlight=False)
    console.print(
        f"{version.num_rows:,} rows × {version.num_columns} columns · "
        f"{version.size_bytes / 1e6:.2f} MB Parquet · by {version.created_by} "
        f"at {version.created_at:%Y-%m-%d %H:%M:%S}\n"
        f"content {version.content_hash}\nblob    {version.digest}",
        highlight=False,
    )
    header = [
        "column",
        "dtype",
        "kind",
        "count",
        "nulls",
        "min",
        "p50",
        "max",
        "mean",
        "std",
        "top",
    ]
    table(None, header, (_summary_row(c) for c in version.profile.columns))


def _summary_row(col: Any) -> list[Any]:
    lo = mid = hi = mean = std = top = None
    if col.numeric is not None:
        n = col.numeric
        lo, mid, hi, mean, std = n.min, n.quantiles.get("p50"), n.max, n.mean, n.std
    elif col.datetime is not None:
        lo, hi = col.datetime.min, col.datetime.max
    elif col.categorical is not None:
        shown = [kv for kv in col.categorical.categories.items() if kv[0] != "__other__"][:3]
        top = f"{col.categorical.distinct} distinct: " + ", ".join(f"{k} ({v})" for k, v in shown)
    return [col.name, col.dtype, col.kind, col.count, col.nulls, lo, mid, hi, mean, std, top]


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="datasets")
