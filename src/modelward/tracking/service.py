"""Tracking service verbs: experiments and the life of a run.

Logging params, metrics and tags is in ``recording``, artifacts and inputs in
``attachments``, search in ``search``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.db.base import now_ms, stored_now
from modelward.errors import Conflict, NotFound
from modelward.operations import operation
from modelward.tracking.queries import (
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
_INSERT_RUN = insert(runs_t)
_INSERT_PARAMS = insert(params_t)
_INSERT_TAGS = insert(tags_t)


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
    found = uow.session.scalar(_EXPERIMENT_ID, {"name": name})
    if found is not None:
        return int(found)
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
    session = uow.session
    session.execute(
        _INSERT_RUN,
        {
            "id": run_id,
            "experiment_id": exp_id,
            "name": name,
            "status": "RUNNING",
            "lifecycle": "active",
            "start_time": start,
            "end_time": None,
            "created_by": uow.actor,
        },
    )
    if body.params:
        rows = [{"run_id": run_id, "key": k, "value": v} for k, v in body.params.items()]
        session.execute(_INSERT_PARAMS, rows)
    if body.tags:
        rows = [{"run_id": run_id, "key": k, "value": v} for k, v in body.tags.items()]
        session.execute(_INSERT_TAGS, rows)
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


def _info_row(uow: UnitOfWork, run_id: str) -> dict[str, object]:
    found = run_rows(uow.session, [run_id])
    if not found:
        raise NotFound(f"no run with id {run_id[:64]!r}", field="run_id")
    return dict(found[0]._mapping)


@operation("PATCH", "/api/v1/runs/{run_id}", role=Role.developer)
def update_run(uow: UnitOfWork, run_id: str, body: RunUpdate) -> RunInfo:
    """Rename a run or end it (FINISHED, FAILED, KILLED); an ended run stays ended."""
    info = _info_row(uow, run_id)
    if info["lifecycle"] != "active":
        raise Conflict(f"run {run_id} is deleted; restore it before changing it", field="run_id")
    changes: dict[str, object] = {}
    if body.name is not None and body.name != info["name"]:
        changes["name"] = body.name
    if body.status is not None and body.status != info["status"]:
        if info["status"] != "RUNNING":
            raise Conflict(
                f"run {run_id} already ended with status {info['status']}; "
                f"it cannot become {body.status}",
                field="status",
            )
        changes["status"] = body.status
        changes["end_time"] = body.end_time if body.end_time is not None else now_ms()
    if not changes:
        return RunInfo.model_validate(info)
    uow.session.execute(update(runs_t).where(runs_t.c.id == run_id).values(**changes))
    info.update(changes)
    if "end_time" in changes:
        info["end_time"] = datetime.fromtimestamp(changes["end_time"] / 1000, tz=UTC)  # type: ignore[operator]
    out = RunInfo.model_validate(info)
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
