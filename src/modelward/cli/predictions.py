"""``modelward predictions …`` and ``modelward labels …``: the prediction log from files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelward.cli.common import JsonOpt, console, get_client, print_json, print_table

predictions_app = typer.Typer(
    help="The prediction log: batches of an endpoint's predictions, by hour.",
    no_args_is_help=True,
)
labels_app = typer.Typer(
    help="Delayed ground truth, joined to logged predictions by id.", no_args_is_help=True
)


def _take(frame: Any, column: str | None, option: str) -> Any:
    """Remove ``column`` from the frame and return it (None when not asked for)."""
    from modelward.errors import InvalidInput

    if column is None:
        return None
    if column not in frame.columns:
        raise InvalidInput(f"{option}: the file has no column {column!r}", field=option)
    return frame.pop(column)


@predictions_app.command("log")
def log_(
    endpoint: str = typer.Argument(..., help="Endpoint name."),
    file: Path = typer.Argument(..., help="A .parquet or .csv file: features and predictions."),
    id_column: str = typer.Option(None, "--id-column", help="Prediction ids (default: new)."),
    ts_column: str = typer.Option(
        None, "--ts-column", help="Prediction times (default: now); past times backfill."
    ),
    prediction_column: str = typer.Option(
        "prediction", "--prediction-column", help="What the model returned."
    ),
    score_column: str = typer.Option(
        None, "--score-column", help="Positive-class probability (binary classifiers)."
    ),
    lenient: bool = typer.Option(
        False, "--lenient", help="Log missing input columns as nulls and drop extra ones."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Log a file of predictions; ids already logged are skipped."""
    from modelward.datasets.readers import read_data

    frame = read_data(file)
    ids = _take(frame, id_column, "--id-column")
    timestamps = _take(frame, ts_column, "--ts-column")
    predictions = _take(frame, prediction_column, "--prediction-column")
    scores = _take(frame, score_column, "--score-column")
    receipt = get_client().log_predictions(
        endpoint,
        frame,
        predictions,
        ids=ids,
        timestamps=timestamps,
        scores=scores,
        lenient=lenient,
    )
    if as_json:
        print_json(receipt)
        return
    console.print(
        f"{endpoint}: {receipt.rows} rows, {receipt.new} logged, {receipt.skipped} already "
        f"logged, {len(receipt.segments)} segment(s)",
        highlight=False,
    )
    for label, names in (("missing", receipt.missing_columns), ("extra", receipt.extra_columns)):
        if names:
            console.print(f"{label} columns: {', '.join(names)}", highlight=False)
    if receipt.type_errors:
        errors = ", ".join(f"{k}={v}" for k, v in receipt.type_errors.items())
        console.print(f"values that are not numbers: {errors}", highlight=False)


@predictions_app.command("segments")
def segments(
    endpoint: str = typer.Argument(..., help="Endpoint name."),
    since: str = typer.Option(None, "--since", help="ISO date or time (UTC unless zoned)."),
    until: str = typer.Option(None, "--until", help="ISO date or time, exclusive."),
    as_json: bool = JsonOpt,
) -> None:
    """The endpoint's prediction segments, oldest hour first."""
    found = get_client().list_segments(endpoint, since, until)
    if as_json:
        print_json(found)
        return
    print_table(
        f"{endpoint}: {len(found)} segment(s), {sum(s.rows for s in found)} predictions",
        ["id", "hour", "version", "rows", "first", "last", "digest"],
        ([s.id, s.hour, s.version, s.rows, s.min_ts, s.max_ts, s.digest[:12]] for s in found),
    )


@labels_app.command("log")
def labels_log(
    endpoint: str = typer.Argument(..., help="Endpoint name."),
    file: Path = typer.Argument(..., help="A .parquet or .csv file of ids and labels."),
    id_column: str = typer.Option("id", "--id-column", help="The prediction ids."),
    label_column: str = typer.Option("label", "--label-column", help="The true labels."),
    label_time_column: str = typer.Option(
        None, "--label-time-column", help="When each label became known (default: now)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Log ground-truth labels for logged predictions; unknown ids are reported."""
    from modelward.datasets.readers import read_data

    frame = read_data(file)
    ids = _take(frame, id_column, "--id-column")
    labels = _take(frame, label_column, "--label-column")
    times = _take(frame, label_time_column, "--label-time-column")
    receipt = get_client().log_labels(endpoint, ids, labels, label_time=times)
    if as_json:
        print_json(receipt)
        return
    console.print(
        f"{endpoint}: {receipt.stored} of {receipt.received} labels stored "
        f"({receipt.relabeled} relabels), {receipt.unknown} unknown id(s)",
        highlight=False,
    )
    if receipt.unknown_ids:
        console.print(f"unknown ids: {', '.join(receipt.unknown_ids)}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(predictions_app, name="predictions")
    app.add_typer(labels_app, name="labels")
