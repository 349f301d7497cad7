"""Reads for browsing experiments: what each holds, which keys its runs use, and which
model versions a run produced. Each is a handful of grouped queries, whatever the size of
the experiment, so a listing of 10,000 runs never costs a query per run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from modelward.db.base import Base
from modelward.operations import operation
from modelward.tracking.queries import (
    experiments_t,
    get_run_row,
    latest_t,
    params_t,
    runs_t,
    tags_t,
)
from modelward.uow import UnitOfWork
from modelward.validation import check_name

MAX_KEYS = 500
# Reading every run's keys costs ~0.1 s at 10,000 runs; the newest runs say what the
# experiment records now, which is what a table of it needs.
DEFAULT_KEY_RUNS = 500
MAX_KEY_RUNS = 100_000


class ExperimentSummary(BaseModel):
    name: str
    description: str
    created_by: str
    created_at: datetime
    run_count: int = Field(description="runs not deleted")
    last_run_time: datetime | None = Field(description="start of the newest run not deleted")


class ExperimentKeys(BaseModel):
    """The metric, param and tag keys used by an experiment's runs, sorted."""

    experiment: str
    metrics: list[str]
    params: list[str]
    tags: list[str]
    runs_read: int = Field(description="how many of the newest runs were read")
    truncated: bool = Field(False, description=f"a kind had more than {MAX_KEYS} keys")


class RunModelVersion(BaseModel):
    """A model version registered from a run."""

    ref: str = Field(description="name/version")
    name: str
    version: int
    flavor: str
    digest: str
    status: str
    aliases: list[str]
    created_at: datetime


@operation("GET", "/api/v1/experiment-summaries")
def list_experiment_summaries(uow: UnitOfWork) -> list[ExperimentSummary]:
    """Every experiment with how many runs it has and when its newest run started."""
    counts = (
        select(
            runs_t.c.experiment_id,
            func.count().label("n"),
            func.max(runs_t.c.start_time).label("last"),
        )
        .where(runs_t.c.lifecycle == "active")
        .group_by(runs_t.c.experiment_id)
        .subquery()
    )
    q = (
        select(
            experiments_t.c.name,
            experiments_t.c.description,
            experiments_t.c.created_by,
            experiments_t.c.created_at,
            counts.c.n,
            counts.c.last,
        )
        .outerjoin(counts, counts.c.experiment_id == experiments_t.c.id)
        .order_by(experiments_t.c.id)
    )
    return [
        ExperimentSummary(
            name=name,
            description=description,
            created_by=created_by,
            created_at=created_at,
            run_count=n or 0,
            last_run_time=last,
        )
        for name, description, created_by, created_at, n, last in uow.session.execute(q).all()
    ]


def _keys(uow: UnitOfWork, table: Any, run_ids: Any) -> list[str]:
    q = (
        select(table.c.key)
        .where(table.c.run_id.in_(run_ids))
        .distinct()
        .order_by(table.c.key)
        .limit(MAX_KEYS + 1)
    )
    return list(uow.session.scalars(q).all())


@operation("GET", "/api/v1/experiments/{name}/keys")
def get_experiment_keys(uow: UnitOfWork, name: str, runs: int = DEFAULT_KEY_RUNS) -> ExperimentKeys:
    """The metric, param and tag keys used by the experiment's ``runs`` newest runs not
    deleted (at most 500 of each kind)."""
    from modelward.errors import InvalidInput, NotFound

    check_name(name, "experiment")
    if not 1 <= runs <= MAX_KEY_RUNS:
        raise InvalidInput(f"runs: must be between 1 and {MAX_KEY_RUNS}, got {runs}", field="runs")
    exp_id = uow.session.scalar(select(experiments_t.c.id).where(experiments_t.c.name == name))
    if exp_id is None:
        raise NotFound(f"no experiment named {name!r}", field="name")
    newest = (
        select(runs_t.c.id)
        .where(runs_t.c.experiment_id == exp_id, runs_t.c.lifecycle == "active")
        .order_by(runs_t.c.start_time.desc(), runs_t.c.id)  # search_runs' default order
        .limit(runs)
    )
    ids = newest.subquery()
    read = uow.session.scalar(select(func.count()).select_from(ids)) or 0
    tables = {"m": latest_t, "p": params_t, "t": tags_t}
    found = {kind: _keys(uow, t, select(ids.c.id)) for kind, t in tables.items()}
    truncated = any(len(v) > MAX_KEYS for v in found.values())
    return ExperimentKeys(
        experiment=name,
        metrics=found["m"][:MAX_KEYS],
        params=found["p"][:MAX_KEYS],
        tags=found["t"][:MAX_KEYS],
        runs_read=int(read),
        truncated=truncated,
    )


@operation("GET", "/api/v1/runs/{run_id}/model-versions")
def list_run_model_versions(uow: UnitOfWork, run_id: str) -> list[RunModelVersion]:
    """The model versions registered from this run, oldest first, with their aliases."""
    import modelward.registry.tables  # noqa: F401  (registers the tables read below)

    get_run_row(uow.session, run_id)
    versions_t = Base.metadata.tables["model_versions"]
    models_t = Base.metadata.tables["registered_models"]
    aliases_t = Base.metadata.tables["model_aliases"]
    rows = uow.session.execute(
        select(
            versions_t.c.id,
            models_t.c.name,
            versions_t.c.version,
            versions_t.c.flavor,
            versions_t.c.digest,
            versions_t.c.status,
            versions_t.c.created_at,
        )
        .join(models_t, models_t.c.id == versions_t.c.model_id)
        .where(versions_t.c.run_id == run_id)
        .order_by(versions_t.c.created_at, versions_t.c.id)
    ).all()
    aliases: dict[int, list[str]] = {r.id: [] for r in rows}
    if rows:
        q = (
            select(aliases_t.c.version_id, aliases_t.c.alias)
            .where(aliases_t.c.version_id.in_(list(aliases)))
            .order_by(aliases_t.c.alias)
        )
        for version_id, alias in uow.session.execute(q).all():
            aliases[version_id].append(alias)
    return [
        RunModelVersion(
            ref=f"{r.name}/{r.version}",
            name=r.name,
            version=r.version,
            flavor=r.flavor,
            digest=r.digest,
            status=r.status,
            aliases=aliases[r.id],
            created_at=r.created_at,
        )
        for r in rows
    ]
