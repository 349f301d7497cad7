"""Lineage: where a model version came from, and which versions a dataset version fed.

A version's datasets are the ``model_version_inputs`` copied from its run when it was
registered, so they stay exact even if the run logs more inputs later. Looking the other
way, from a dataset version, both those rows and the runs' ``run_inputs`` are followed,
so a version whose run logged an evaluation set after registration is found too.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import select

from modelward.operations import operation
from modelward.registry.references import resolve_version
from modelward.registry.schemas import DatasetInput
from modelward.registry.tables import ModelAlias, ModelVersion, ModelVersionInput
from modelward.uow import UnitOfWork

MAX_PARAMS = 50
MAX_PARENTS = 1000
# Run tags the tracking domain captures for the code that ran (tracking/environment.py);
# MLflow's names are read too, for runs that arrive through an MLflow-compatible client.
COMMIT_TAGS = ("mw.git.commit", "mlflow.source.git.commit")
DIRTY_TAGS = ("mw.git.dirty",)
BRANCH_TAGS = ("mw.git.branch", "mlflow.source.git.branch")


class VersionNode(BaseModel):
    name: str
    version: int
    ref: str
    digest: str
    flavor: str
    status: str
    run_id: str | None
    aliases: list[str]
    created_by: str
    created_at: datetime


class CodeVersion(BaseModel):
    commit: str | None
    dirty: bool | None = None
    branch: str | None = None


class RunSummary(BaseModel):
    id: str
    name: str
    experiment: str
    status: str
    created_by: str
    start_time: datetime
    end_time: datetime | None
    params: dict[str, str] = Field(description=f"the first {MAX_PARAMS} params by key")
    params_total: int
    metrics: dict[str, float | None] = Field(description="latest value per metric key")


class VersionLineage(BaseModel):
    """A version, its run, the datasets it was trained or evaluated on, code and ancestors."""

    version: VersionNode
    run: RunSummary | None
    datasets: list[DatasetInput]
    code: CodeVersion | None
    parents: list[VersionNode] = Field(description="parent first, then its parent, …")


class DatasetRef(BaseModel):
    name: str
    version: int
    ref: str
    content_hash: str
    created_at: datetime


class DatasetUse(BaseModel):
    version: VersionNode
    roles: list[str]


class RunUse(BaseModel):
    id: str
    name: str
    experiment: str
    status: str
    roles: list[str]


class DatasetLineage(BaseModel):
    """Every run and model version that consumed a dataset version."""

    dataset: DatasetRef
    model_versions: list[DatasetUse]
    runs: list[RunUse]


def _node(uow: UnitOfWork, row: ModelVersion) -> VersionNode:
    aliases = uow.session.scalars(
        select(ModelAlias.alias).where(ModelAlias.version_id == row.id).order_by(ModelAlias.alias)
    )
    return VersionNode(
        name=row.model.name,
        version=row.version,
        ref=f"{row.model.name}/{row.version}",
        digest=row.digest,
        flavor=row.flavor,
        status=row.status,
        run_id=row.run_id,
        aliases=list(aliases),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _run_summary(uow: UnitOfWork, run_id: str) -> tuple[RunSummary, dict[str, str]]:
    from modelward.tracking.tables import Run, RunLatestMetric, RunParam, RunTag

    run = uow.session.get(Run, run_id)
    assert run is not None  # model_versions.run_id is a foreign key
    params = uow.session.scalars(
        select(RunParam).where(RunParam.run_id == run_id).order_by(RunParam.key)
    ).all()
    metrics = uow.session.scalars(
        select(RunLatestMetric)
        .where(RunLatestMetric.run_id == run_id)
        .order_by(RunLatestMetric.key)
    )
    tags = {
        t.key: t.value for t in uow.session.scalars(select(RunTag).where(RunTag.run_id == run_id))
    }
    summary = RunSummary(
        id=run.id,
        name=run.name,
        experiment=run.experiment.name,
        status=run.status,
        created_by=run.created_by,
        start_time=run.start_time,
        end_time=run.end_time,
        params={p.key: p.value for p in params[:MAX_PARAMS]},
        params_total=len(params),
        metrics={m.key: (None if m.is_nan else m.value) for m in metrics},
    )
    return summary, tags


def _first(tags: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((tags[k] for k in keys if k in tags), None)


def _code(tags: dict[str, str]) -> CodeVersion | None:
    commit = _first(tags, COMMIT_TAGS)
    if commit is None:
        return None
    dirty = _first(tags, DIRTY_TAGS)
    return CodeVersion(
        commit=commit,
        dirty=None if dirty is None else dirty.strip().lower() in ("true", "1", "yes"),
        branch=_first(tags, BRANCH_TAGS),
    )


def _parents(uow: UnitOfWork, row: ModelVersion) -> list[VersionNode]:
    chain: list[VersionNode] = []
    seen = {row.id}
    parent = row.parent
    while parent is not None and parent.id not in seen and len(chain) < MAX_PARENTS:
        chain.append(_node(uow, parent))
        seen.add(parent.id)
        parent = parent.parent
    return chain


@operation("GET", "/api/v1/lineage/model-versions/{ref:path}")
def get_version_lineage(uow: UnitOfWork, ref: str) -> VersionLineage:
    """A version's run, datasets, code commit, ancestors and aliases."""
    from modelward.registry.service import version_public

    row = resolve_version(uow.session, ref)
    run, tags = _run_summary(uow, row.run_id) if row.run_id else (None, {})
    return VersionLineage(
        version=_node(uow, row),
        run=run,
        datasets=version_public(row, uow).inputs,
        code=_code(tags),
        parents=_parents(uow, row),
    )


@operation("GET", "/api/v1/lineage/datasets/{ref:path}")
def get_dataset_lineage(uow: UnitOfWork, ref: str) -> DatasetLineage:
    """Every model version trained or evaluated on a dataset version, and every run that read it."""
    from modelward.datasets.service import resolve_dataset_version
    from modelward.tracking.tables import Run, RunInput

    dataset = resolve_dataset_version(uow.session, ref)
    roles: dict[int, set[str]] = {}
    direct = select(ModelVersionInput.model_version_id, ModelVersionInput.role).where(
        ModelVersionInput.dataset_version_id == dataset.id
    )
    via_run = (
        select(ModelVersion.id, RunInput.role)
        .join(RunInput, RunInput.run_id == ModelVersion.run_id)
        .where(RunInput.dataset_version_id == dataset.id)
    )
    for version_id, role in [*uow.session.execute(direct), *uow.session.execute(via_run)]:
        roles.setdefault(version_id, set()).add(role)
    rows = uow.session.scalars(select(ModelVersion).where(ModelVersion.id.in_(roles))).all()
    rows = sorted(rows, key=lambda r: (r.model.name, r.version))
    runs: dict[str, tuple[Run, set[str]]] = {}
    reads = select(Run, RunInput.role).join(RunInput, RunInput.run_id == Run.id)
    for run, role in uow.session.execute(reads.where(RunInput.dataset_version_id == dataset.id)):
        runs.setdefault(run.id, (run, set()))[1].add(role)
    return DatasetLineage(
        dataset=DatasetRef(
            name=dataset.dataset.name,
            version=dataset.version,
            ref=f"{dataset.dataset.name}/{dataset.version}",
            content_hash=dataset.content_hash,
            created_at=dataset.created_at,
        ),
        model_versions=[DatasetUse(version=_node(uow, r), roles=sorted(roles[r.id])) for r in rows],
        runs=[
            RunUse(
                id=run.id,
                name=run.name,
                experiment=run.experiment.name,
                status=run.status,
                roles=sorted(r),
            )
            for run, r in sorted(runs.values(), key=lambda x: x[0].start_time)
        ],
    )
