"""What a run attaches: artifacts (logical paths to content-addressed blobs) and inputs
(the dataset versions it consumed, with their role)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select

from modelward.artifacts import validate_artifact_path
from modelward.auth.roles import Role
from modelward.db.base import stored_now
from modelward.errors import Conflict, NotFound
from modelward.operations import operation
from modelward.tracking.queries import artifacts_t, get_run_row, run_inputs, writable_status
from modelward.tracking.schemas import (
    RunArtifactCreate,
    RunArtifactPublic,
    RunInputCreate,
    RunInputPublic,
)
from modelward.tracking.tables import RunArtifact, RunInput
from modelward.uow import UnitOfWork


def _artifact_public(row: Any) -> RunArtifactPublic:
    return RunArtifactPublic(
        path=row.path, digest=row.digest, size=row.size, created_at=row.created_at
    )


@operation("POST", "/api/v1/runs/{run_id}/artifacts", role=Role.developer, status_code=201)
def log_run_artifact(uow: UnitOfWork, run_id: str, body: RunArtifactCreate) -> RunArtifactPublic:
    """Record an uploaded blob under a logical path of the run (paths are write-once)."""
    path = validate_artifact_path(body.path, field="path")
    writable_status(uow.session, run_id)
    if not uow.artifacts.exists(body.digest):
        raise NotFound(
            f"artifact {body.digest} is not in the store; upload its bytes first", field="digest"
        )
    stored = uow.session.get(RunArtifact, (run_id, path))
    if stored is not None:
        if stored.digest != body.digest:
            raise Conflict(
                f"run {run_id} already has a different artifact at {path!r}", field="path"
            )
        return _artifact_public(stored)
    row = RunArtifact(
        run_id=run_id, path=path, digest=body.digest, size=body.size, created_at=stored_now()
    )
    uow.session.add(row)
    uow.session.flush()
    out = _artifact_public(row)
    uow.audit("run.log_artifact", "run", run_id, {"run_id": run_id, **out.model_dump(mode="json")})
    return out


@operation("GET", "/api/v1/runs/{run_id}/artifacts")
def list_run_artifacts(
    uow: UnitOfWork, run_id: str, prefix: str | None = None
) -> list[RunArtifactPublic]:
    """The run's artifacts, optionally those at or under ``prefix``, by path."""
    get_run_row(uow.session, run_id)
    q = select(artifacts_t).where(artifacts_t.c.run_id == run_id).order_by(artifacts_t.c.path)
    if prefix:
        p = validate_artifact_path(prefix, field="prefix")
        q = q.where(
            or_(artifacts_t.c.path == p, artifacts_t.c.path.startswith(p + "/", autoescape=True))
        )
    return [_artifact_public(r) for r in uow.session.execute(q)]


@operation("GET", "/api/v1/runs/{run_id}/artifact")
def get_run_artifact(uow: UnitOfWork, run_id: str, path: str) -> RunArtifactPublic:
    """One artifact record of a run (its digest says which blob to fetch)."""
    norm = validate_artifact_path(path, field="path")
    get_run_row(uow.session, run_id)
    row = uow.session.get(RunArtifact, (run_id, norm))
    if row is None:
        raise NotFound(f"run {run_id} has no artifact at {norm!r}", field="path")
    return _artifact_public(row)


@operation("POST", "/api/v1/runs/{run_id}/inputs", role=Role.developer, status_code=201)
def log_run_input(uow: UnitOfWork, run_id: str, body: RunInputCreate) -> RunInputPublic:
    """Record that the run consumed a dataset version, in a role ("training", "evaluation", …)."""
    from modelward.datasets.service import resolve_dataset_version

    writable_status(uow.session, run_id)
    version = resolve_dataset_version(uow.session, body.dataset)
    key = and_(
        RunInput.run_id == run_id,
        RunInput.dataset_version_id == version.id,
        RunInput.role == body.role,
    )
    if uow.session.scalar(select(RunInput.run_id).where(key)) is None:
        uow.session.add(
            RunInput(
                run_id=run_id,
                dataset_version_id=version.id,
                role=body.role,
                created_at=stored_now(),
            )
        )
        uow.session.flush()
        state = {"run_id": run_id, "dataset_version_id": version.id, "role": body.role}
        uow.audit("run.log_input", "run", run_id, state)
    found = [item for _, item in run_inputs(uow.session, [run_id])]
    return next(i for i in found if i.dataset_version_id == version.id and i.role == body.role)
