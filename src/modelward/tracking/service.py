"""Tracking service verbs: experiments and the life of a run.

Logging params, metrics and tags is in ``recording``, artifacts and inputs in
``attachments``, search in ``search``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.db.base import ms_to_datetime, now_ms, stored_now
from modelward.db.direct import Direct
from modelward.errors import Conflict, NotFound
from modelward.operations import operation
from modelward.tracking.queries import (
    RUN_COLUMNS,
    RUN_ROW,
    experiments_t,
    get_run_row,
    params_t,
    run_info,
    run_rows,
    runs_public,
    runs_t,
    tags_t,
)
from modelward.tracking.schemas import (
    ExperimentCreate,
    ExperimentPublic,
    RunCreate,
    RunInfo,
    RunPublic,
    RunUpdate,
)
from modelward.tracking.tables import Experiment
from modelward.uow import UnitOfWork
from modelward.validation import check_name

__all__ = ["get_run_row"]

_EXPERIMENT_ID = select(experiments_t.c.id).where(experiments_t.c.name == bindparam("name"))
_RUN_INSERT_COLUMNS = (
    "id",
    "experiment_id",
    "name",
    "status",
    "lifecycle",
    "start_time",
    "end_time",
    "created_by",
)
_KV = ("run_id", "key", "value")
_UPDATE_RUN = (
    update(runs_t)
    .where(runs_t.c.id == bindparam("b_id"))
    .values(name=bindparam("b_name"), status=bindparam("b_status"), end_time=bindparam("b_end"))
)


def _experiment_row(uow: UnitOfWork, name: str) -> Experiment:
    row = uow.session.scalar(select(Experiment).where(Experiment.name == name))
    if row is None:
        raise NotFound(f"no experiment named {name!r}", field="experiment")
    return row


def _insert_ignoring_duplicates(session: Session, table: Table, values: dict[str, object]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when the row was new.

    Two writers creating the same experiment at once both succeed, whichever commits first.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = session.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


@operation("POST", "/api/v1/experiments", role=Role.developer, status_code=201)
def create_experiment(uow: UnitOfWork, body: ExperimentCreate) -> ExperimentPublic:
    """Create an experiment."""
    if uow.session.scalar(select(Experiment.id).where(Experiment.name == body.name)):
        raise Conflict(f"experiment {body.name!r} already exists", field="name")
    row = Experiment(
        name=body.name,
        description=body.description,
        created_by=uow.actor,
        created_at=stored_now(),
    )
    uow.session.add(row)
    uow.session.flush()
    out = ExperimentPublic.model_validate(row, from_attributes=True)
    uow.audit("experiment.create", "experiment", row.name, out.model_dump(mode="json"))
    return out


@operation("GET", "/api/v1/experiments/{name}")
def get_experiment(uow: UnitOfWork, name: str) -> ExperimentPublic:
    """One experiment by name."""
    check_name(name, "experiment")
    return ExperimentPublic.model_validate(_experiment_row(uow, name), from_attributes=True)


@operation("GET", "/api/v1/experiments")
def list_experiments(uow: UnitOfWork) -> list[ExperimentPublic]:
    """Every experiment, oldest first."""
    rows = uow.session.scalars(select(Experiment).order_by(Experiment.id))
    return [ExperimentPublic.model_validate(r, from_attributes=True) for r in rows]


def _ensure_experiment(uow: UnitOfWork, name: str) -> int:
    """The experiment's id, creating (and auditing) it when it does not exist yet."""
    found = Direct.of(uow.session).first(_EXPERIMENT_ID, {"name": name})
    if found is not None:
        return int(found[0])
    created_at = now_ms()
    values = {"name": name, "description": "", "created_by": uow.actor, "created_at": created_at}
    inserted = _insert_ignoring_duplicates(uow.session, experiments_t, values)
    exp_id = int(uow.session.scalar(_EXPERIMENT_ID, {"name": name}))  # type: ignore[arg-type]
    if inserted:
        state = ExperimentPublic(
            id=exp_id,
            name=name,
            description="",
            created_by=uow.actor,
            created_at=datetime.fromtimestamp(created_at / 1000, tz=UTC),
        )
        uow.audit("experiment.create", "experiment", name, state.model_dump(mode="json"))
    return exp_id


@operation("POST", "/api/v1/runs", role=Role.developer, status_code=201)
def create_run(uow: UnitOfWork, body: RunCreate) -> RunPublic:
    """Start a run (status RUNNING) with its params and tags; creates the experiment if missing."""
    exp_id = _ensure_experiment(uow, body.experiment)
    run_id = uuid.uuid4().hex
    start = body.start_time if body.start_time is not None else now_ms()
    name = body.name or f"run-{run_id[:8]}"
    # Straight to the driver (db/direct.py): starting a run is a hot path.
    direct = Direct.of(uow.session)
    direct.insert(
        runs_t,
        _RUN_INSERT_COLUMNS,
        [(run_id, exp_id, name, "RUNNING", "active", start, None, uow.actor)],
    )
    if body.params:
        direct.insert(params_t, _KV, [(run_id, k, v) for k, v in body.params.items()])
    if body.tags:
        direct.insert(tags_t, _KV, [(run_id, k, v) for k, v in body.tags.items()])
    out = RunPublic(
        id=run_id,
        experiment_id=exp_id,
        experiment=body.experiment,
        name=name,
        status="RUNNING",
        lifecycle="active",
        start_time=datetime.fromtimestamp(start / 1000, tz=UTC),
        end_time=None,
        created_by=uow.actor,
        params=dict(body.params),
        tags=dict(body.tags),
    )
    uow.audit("run.create", "run", run_id, out.model_dump(mode="json"))
    return out


@operation("GET", "/api/v1/runs/{run_id}")
def get_run(uow: UnitOfWork, run_id: str) -> RunPublic:
    """A run with its params, latest metrics, tags and input datasets."""
    found = run_rows(uow.session, [run_id])
    if not found:
        raise NotFound(f"no run with id {run_id[:64]!r}", field="run_id")
    return runs_public(uow.session, found)[0]


def _stored_run(uow: UnitOfWork, run_id: str) -> dict[str, Any]:
    """The run's ``RUN_COLUMNS`` as stored (times in milliseconds), or ``NotFound``."""
    found = Direct.of(uow.session).first(RUN_ROW, {"run_id": run_id})
    if found is None:
        raise NotFound(f"no run with id {run_id[:64]!r}", field="run_id")
    return dict(zip(_RUN_ROW_NAMES, found, strict=True))


_RUN_ROW_NAMES = tuple(c.key for c in RUN_COLUMNS)


def _run_info(stored: dict[str, Any]) -> RunInfo:
    times = {k: ms_to_datetime(stored[k]) for k in ("start_time", "end_time")}
    return RunInfo.model_validate({**stored, **times})


@operation("PATCH", "/api/v1/runs/{run_id}", role=Role.developer)
def update_run(uow: UnitOfWork, run_id: str, body: RunUpdate) -> RunInfo:
    """Rename a run or end it (FINISHED, FAILED, KILLED); an ended run stays ended."""
    stored = _stored_run(uow, run_id)
    if stored["lifecycle"] != "active":
        raise Conflict(f"run {run_id} is deleted; restore it before changing it", field="run_id")
    changes: dict[str, Any] = {}
    if body.name is not None and body.name != stored["name"]:
        changes["name"] = body.name
    if body.status is not None and body.status != stored["status"]:
        if stored["status"] != "RUNNING":
            raise Conflict(
                f"run {run_id} already ended with status {stored['status']}; "
                f"it cannot become {body.status}",
                field="status",
            )
        changes["status"] = body.status
        changes["end_time"] = body.end_time if body.end_time is not None else now_ms()
    if not changes:
        return _run_info(stored)
    stored.update(changes)
    values = {
        "b_id": run_id,
        "b_name": stored["name"],
        "b_status": stored["status"],
        "b_end": stored["end_time"],
    }
    Direct.of(uow.session).execute(_UPDATE_RUN, values)
    out = _run_info(stored)
    action = "run.end" if "status" in changes else "run.update"
    uow.audit(action, "run", run_id, out.model_dump(mode="json"), summary=changes)
    return out


def _set_lifecycle(uow: UnitOfWork, run_id: str, lifecycle: str, action: str) -> RunInfo:
    row = get_run_row(uow.session, run_id)
    if row.lifecycle != lifecycle:
        row.lifecycle = lifecycle
        uow.session.flush()
        info = run_info(row)
        uow.audit(action, "run", run_id, info.model_dump(mode="json"))
        return info
    return run_info(row)


@operation("DELETE", "/api/v1/runs/{run_id}", role=Role.developer)
def delete_run(uow: UnitOfWork, run_id: str) -> RunInfo:
    """Mark a run deleted: kept for lineage and audit, hidden from search by default."""
    return _set_lifecycle(uow, run_id, "deleted", "run.delete")


@operation("POST", "/api/v1/runs/{run_id}/restore", role=Role.developer)
def restore_run(uow: UnitOfWork, run_id: str) -> RunInfo:
    """Bring a deleted run back."""
    return _set_lifecycle(uow, run_id, "active", "run.restore")


# Registering the remaining tracking verbs with the operation table.
from modelward.tracking import attachments as _attachments  # noqa: E402, F401
from modelward.tracking import recording as _recording  # noqa: E402, F401
from modelward.tracking import search as _search  # noqa: E402, F401
