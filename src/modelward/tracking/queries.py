"""Reads shared by the tracking verbs: one run's row, and many runs' data in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BindParameter, Table, bindparam, select
from sqlalchemy.orm import Session

from modelward.db.base import Base
from modelward.db.direct import Direct
from modelward.errors import Conflict, NotFound
from modelward.tracking.schemas import RunInfo, RunInputPublic, RunPublic
from modelward.tracking.tables import (
    Experiment,
    Run,
    RunArtifact,
    RunInput,
    RunLatestMetric,
    RunMetricChunk,
    RunParam,
    RunTag,
)

# The Core tables behind the ORM classes (typed as Table for the checker).
runs_t = cast(Table, Run.__table__)
params_t = cast(Table, RunParam.__table__)
tags_t = cast(Table, RunTag.__table__)
latest_t = cast(Table, RunLatestMetric.__table__)
chunks_t = cast(Table, RunMetricChunk.__table__)
artifacts_t = cast(Table, RunArtifact.__table__)
inputs_t = cast(Table, RunInput.__table__)
experiments_t = cast(Table, Experiment.__table__)

# The columns a RunInfo is built from, in one place for every query that lists runs.
RUN_COLUMNS = (
    runs_t.c.id,
    runs_t.c.experiment_id,
    experiments_t.c.name.label("experiment"),
    runs_t.c.name,
    runs_t.c.status,
    runs_t.c.lifecycle,
    runs_t.c.start_time,
    runs_t.c.end_time,
    runs_t.c.created_by,
)


# Statements built once: the hot paths run them thousands of times a second.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_RUN_STATE = select(runs_t.c.status, runs_t.c.lifecycle).where(runs_t.c.id == bindparam("run_id"))
_RUN_ROWS = (
    select(*RUN_COLUMNS)
    .join(experiments_t, experiments_t.c.id == runs_t.c.experiment_id)
    .where(runs_t.c.id.in_(_IDS))
)
RUN_ROW = (
    select(*RUN_COLUMNS)
    .join(experiments_t, experiments_t.c.id == runs_t.c.experiment_id)
    .where(runs_t.c.id == bindparam("run_id"))
)
_PARAMS_OF = select(params_t.c.run_id, params_t.c.key, params_t.c.value).where(
    params_t.c.run_id.in_(_IDS)
)
_LATEST_OF = select(latest_t.c.run_id, latest_t.c.key, latest_t.c.value, latest_t.c.is_nan).where(
    latest_t.c.run_id.in_(_IDS)
)
_TAGS_OF = select(tags_t.c.run_id, tags_t.c.key, tags_t.c.value).where(tags_t.c.run_id.in_(_IDS))


def get_run_row(session: Session, run_id: str) -> Run:
    """The run with ``run_id`` (ORM row), or ``NotFound``."""
    row = session.get(Run, run_id) if isinstance(run_id, str) and len(run_id) <= 64 else None
    if row is None:
        raise NotFound(f"no run with id {str(run_id)[:64]!r}", field="run_id")
    return row


def run_info(row: Run) -> RunInfo:
    return RunInfo(
        id=row.id,
        experiment_id=row.experiment_id,
        experiment=row.experiment.name,
        name=row.name,
        status=row.status,  # type: ignore[arg-type]
        lifecycle=row.lifecycle,  # type: ignore[arg-type]
        start_time=row.start_time,
        end_time=row.end_time,
        created_by=row.created_by,
    )


def writable_status(session: Session, run_id: str, *, ended_ok: bool = False) -> str:
    """Refuse writes to a deleted run, and (unless ``ended_ok``) to one that has ended."""
    found = Direct.of(session).first(_RUN_STATE, {"run_id": run_id})
    if found is None:
        raise NotFound(f"no run with id {run_id[:64]!r}", field="run_id")
    status, lifecycle = found
    if lifecycle != "active":
        raise Conflict(f"run {run_id} is deleted; restore it before logging to it", field="run_id")
    if status != "RUNNING" and not ended_ok:
        raise Conflict(
            f"run {run_id} has ended with status {status}; only tags can still change",
            field="run_id",
        )
    return str(status)


def runs_public(session: Session, rows: Sequence[Any]) -> list[RunPublic]:
    """Runs from ``RUN_COLUMNS`` rows, with their data loaded in four queries (no N+1)."""
    ids = [r.id for r in rows]
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    inputs: dict[str, list[RunInputPublic]] = {i: [] for i in ids}
    if ids:
        by_ids = {"ids": ids}
        # .all() fetches in one call; iterating a result fetches row by row, which costs
        # more than the query itself for a thousand runs.
        for run_id, key, value in session.execute(_PARAMS_OF, by_ids).all():
            params[run_id][key] = value
        nan = float("nan")
        for run_id, key, value, is_nan in session.execute(_LATEST_OF, by_ids).all():
            metrics[run_id][key] = nan if is_nan else value
        for run_id, key, value in session.execute(_TAGS_OF, by_ids).all():
            tags[run_id][key] = value
        for run_id, item in run_inputs(session, ids):
            inputs[run_id].append(item)
    # Built without re-validation: every value comes from typed columns just read.
    return [
        RunPublic.model_construct(
            id=r.id,
            experiment_id=r.experiment_id,
            experiment=r.experiment,
            name=r.name,
            status=r.status,
            lifecycle=r.lifecycle,
            start_time=r.start_time,
            end_time=r.end_time,
            created_by=r.created_by,
            params=params[r.id],
            metrics=metrics[r.id],
            tags=tags[r.id],
            inputs=inputs[r.id],
        )
        for r in rows
    ]


def run_inputs(session: Session, ids: Sequence[str]) -> list[tuple[str, RunInputPublic]]:
    """The dataset versions the runs consumed, oldest first."""
    import modelward.datasets.tables  # noqa: F401  (registers the tables joined below)

    versions_t = Base.metadata.tables["dataset_versions"]
    datasets_t = Base.metadata.tables["datasets"]
    q = (
        select(
            inputs_t.c.run_id,
            inputs_t.c.role,
            versions_t.c.id,
            versions_t.c.version,
            versions_t.c.content_hash,
            datasets_t.c.name,
        )
        .join(versions_t, versions_t.c.id == inputs_t.c.dataset_version_id)
        .join(datasets_t, datasets_t.c.id == versions_t.c.dataset_id)
        .where(inputs_t.c.run_id.in_(ids))
        .order_by(inputs_t.c.created_at, versions_t.c.id, inputs_t.c.role)
    )
    return [
        (
            run_id,
            RunInputPublic(
                dataset_version_id=dv_id,
                dataset=name,
                version=version,
                content_hash=content_hash,
                role=role,
            ),
        )
        for run_id, role, dv_id, version, content_hash, name in session.execute(q).all()
    ]


def run_rows(session: Session, ids: Sequence[str]) -> list[Any]:
    """``RUN_COLUMNS`` rows for ``ids``, in the order given."""
    found = {r.id: r for r in session.execute(_RUN_ROWS, {"ids": list(ids)})}
    return [found[i] for i in ids if i in found]
