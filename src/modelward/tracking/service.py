"""Tracking service verbs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from modelward.auth.roles import Role
from modelward.errors import Conflict, NotFound
from modelward.operations import operation
from modelward.tracking.schemas import ExperimentCreate, ExperimentPublic
from modelward.tracking.tables import Experiment
from modelward.uow import UnitOfWork
from modelward.validation import check_name


def _experiment_row(uow: UnitOfWork, name: str) -> Experiment:
    row = uow.session.scalar(select(Experiment).where(Experiment.name == name))
    if row is None:
        raise NotFound(f"no experiment named {name!r}", field="experiment")
    return row


@operation("POST", "/api/v1/experiments", role=Role.developer, status_code=201)
def create_experiment(uow: UnitOfWork, body: ExperimentCreate) -> ExperimentPublic:
    """Create an experiment."""
    if uow.session.scalar(select(Experiment.id).where(Experiment.name == body.name)):
        raise Conflict(f"experiment {body.name!r} already exists", field="name")
    row = Experiment(
        name=body.name, description=body.description, created_by=uow.actor, created_at=datetime.now(UTC)
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
