"""Registry service verbs: model versions and their tags, status and deletion.

Registered models live in ``registered_models.py``, aliases in ``aliases.py`` and lineage
in ``lineage.py``; importing this module registers the operations of all of them.
"""

from __future__ import annotations

from sqlalchemy import select

from modelward.auth.roles import Role
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.operations import operation
from modelward.registry.references import get_model_row, resolve_version
from modelward.registry.registered_models import new_model
from modelward.registry.schemas import (
    CODE_EXECUTING_FLAVORS,
    DatasetInput,
    ModelVersionCreate,
    ModelVersionPublic,
    RegisteredModelCreate,
    TagSet,
)
from modelward.registry.signature import ModelSignature
from modelward.registry.tables import (
    ModelAlias,
    ModelVersion,
    ModelVersionInput,
    ModelVersionTag,
    RegisteredModel,
)
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork
from modelward.validation import check_name


def aliases_of(uow: UnitOfWork, row: ModelVersion) -> list[str]:
    query = select(ModelAlias.alias).where(ModelAlias.version_id == row.id)
    return list(uow.session.scalars(query.order_by(ModelAlias.alias)))


def version_public(row: ModelVersion, uow: UnitOfWork) -> ModelVersionPublic:
    parent = row.parent
    return ModelVersionPublic(
        id=row.id,
        name=row.model.name,
        version=row.version,
        ref=f"{row.model.name}/{row.version}",
        digest=row.digest,
        size=row.size,
        flavor=row.flavor,
        flavor_meta=row.flavor_meta or {},
        signature=ModelSignature.model_validate(row.signature) if row.signature else None,
        run_id=row.run_id,
        inputs=_inputs(uow, row),
        parent=f"{parent.model.name}/{parent.version}" if parent is not None else None,
        trusted=row.trusted,
        description=row.description,
        status=row.status,  # type: ignore[arg-type]
        tags={t.key: t.value for t in row.tags},
        aliases=aliases_of(uow, row),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _inputs(uow: UnitOfWork, row: ModelVersion) -> list[DatasetInput]:
    if not row.inputs:
        return []
    from modelward.datasets.tables import DatasetVersion

    ids = {i.dataset_version_id for i in row.inputs}
    found = {
        d.id: d
        for d in uow.session.scalars(select(DatasetVersion).where(DatasetVersion.id.in_(ids)))
    }
    out = [
        DatasetInput(
            dataset=found[i.dataset_version_id].dataset.name,
            version=found[i.dataset_version_id].version,
            content_hash=found[i.dataset_version_id].content_hash,
            role=i.role,
        )
        for i in row.inputs
    ]
    return sorted(out, key=lambda d: (d.role, d.dataset, d.version))


def _check_create(uow: UnitOfWork, body: ModelVersionCreate) -> None:
    if body.flavor in CODE_EXECUTING_FLAVORS and not body.trusted:
        raise InvalidInput(
            f"flavor {body.flavor!r} can run arbitrary code when loaded; register it only with "
            "trusted=True (recorded on the version), or save scikit-learn models with the "
            "default 'sklearn' (skops) flavor",
            field="trusted",
        )
    if not uow.artifacts.exists(body.digest):
        raise NotFound(
            f"artifact {body.digest} is not in the artifact store; upload it first", field="digest"
        )


def _copy_run_inputs(uow: UnitOfWork, row: ModelVersion, run_id: str) -> None:
    from modelward.tracking.tables import RunInput

    inputs = uow.session.scalars(select(RunInput).where(RunInput.run_id == run_id))
    row.inputs = [
        ModelVersionInput(dataset_version_id=i.dataset_version_id, role=i.role) for i in inputs
    ]


@operation("POST", "/api/v1/models/{name}/versions", role=Role.developer, status_code=201)
def create_model_version(
    uow: UnitOfWork, name: str, body: ModelVersionCreate
) -> ModelVersionPublic:
    """Register an uploaded artifact as the next version of ``name`` (created if new)."""
    check_name(name, "name")
    _check_create(uow, body)
    lock_writes(uow)
    if body.run_id is not None:
        from modelward.tracking.service import get_run_row

        get_run_row(uow.session, body.run_id)
    parent = resolve_version(uow.session, body.parent, "parent") if body.parent else None
    model = uow.session.scalar(select(RegisteredModel).where(RegisteredModel.name == name))
    if model is None:
        model = new_model(uow, RegisteredModelCreate(name=name))
    model.last_version += 1
    model.updated_at = stored_now()
    row = ModelVersion(
        model=model,
        version=model.last_version,
        digest=body.digest,
        size=body.size,
        flavor=body.flavor,
        flavor_meta=body.flavor_meta,
        signature=body.signature.model_dump(mode="json") if body.signature else None,
        run_id=body.run_id,
        parent_version_id=parent.id if parent is not None else None,
        trusted=body.trusted,
        description=body.description,
        status="active",
        created_by=uow.actor,
        created_at=stored_now(),
    )
    row.tags = [ModelVersionTag(key=k, value=v) for k, v in sorted(body.tags.items())]
    if body.run_id is not None:
        _copy_run_inputs(uow, row, body.run_id)
    uow.session.add(row)
    uow.session.flush()
    out = version_public(row, uow)
    summary = {
        "digest": out.digest,
        "flavor": out.flavor,
        "trusted": out.trusted,
        "run_id": out.run_id,
    }
    uow.audit(
        "model_version.create", "model_version", out.ref, out.model_dump(mode="json"), summary
    )
    return out


@operation("GET", "/api/v1/models/{name}/versions")
def list_model_versions(
    uow: UnitOfWork, name: str, include_archived: bool = True
) -> list[ModelVersionPublic]:
    """The versions of a model, newest first."""
    model = get_model_row(uow.session, name)
    query = select(ModelVersion).where(ModelVersion.model_id == model.id)
    if not include_archived:
        query = query.where(ModelVersion.status == "active")
    rows = uow.session.scalars(query.order_by(ModelVersion.version.desc()))
    return [version_public(r, uow) for r in rows]


# Routes with a suffix after {ref:path} come before the bare ones of the same method:
# the router tries routes in order, and "{ref:path}" alone would also match "x/3/tags".


@operation("PUT", "/api/v1/model-versions/{ref:path}/tags", role=Role.developer)
def set_model_version_tag(uow: UnitOfWork, ref: str, body: TagSet) -> ModelVersionPublic:
    """Set (add or overwrite) one tag on a model version."""
    lock_writes(uow)
    row = resolve_version(uow.session, ref)
    tag = next((t for t in row.tags if t.key == body.key), None)
    if tag is None:
        row.tags.append(ModelVersionTag(key=body.key, value=body.value))
    else:
        tag.value = body.value
    uow.session.flush()
    out = version_public(row, uow)
    summary = {"key": body.key, "value": body.value}
    uow.audit(
        "model_version.tag_set", "model_version", out.ref, out.model_dump(mode="json"), summary
    )
    return out


@operation("DELETE", "/api/v1/model-versions/{ref:path}/tags", role=Role.developer)
def delete_model_version_tag(uow: UnitOfWork, ref: str, key: str) -> ModelVersionPublic:
    """Remove one tag from a model version."""
    lock_writes(uow)
    row = resolve_version(uow.session, ref)
    tag = next((t for t in row.tags if t.key == key), None)
    if tag is None:
        raise NotFound(
            f"model version {row.model.name}/{row.version} has no tag {key!r}", field="key"
        )
    row.tags.remove(tag)
    uow.session.flush()
    out = version_public(row, uow)
    uow.audit(
        "model_version.tag_delete",
        "model_version",
        out.ref,
        out.model_dump(mode="json"),
        {"key": key},
    )
    return out


def _set_status(uow: UnitOfWork, ref: str, status: str) -> ModelVersionPublic:
    lock_writes(uow)
    row = resolve_version(uow.session, ref)
    label = f"{row.model.name}/{row.version}"
    if status == "archived" and (aliases := aliases_of(uow, row)):
        names = ", ".join(f"{row.model.name}@{a}" for a in aliases)
        raise Conflict(
            f"cannot archive {label}: alias {names} points at it; move or delete the alias first",
            field="ref",
        )
    if row.status != status:
        row.status = status
        uow.session.flush()
        out = version_public(row, uow)
        action = "model_version.archive" if status == "archived" else "model_version.restore"
        uow.audit(action, "model_version", label, out.model_dump(mode="json"), {"status": status})
        return out
    return version_public(row, uow)


@operation("POST", "/api/v1/model-versions/{ref:path}/archive", role=Role.developer)
def archive_model_version(uow: UnitOfWork, ref: str) -> ModelVersionPublic:
    """Archive a version: kept for lineage and audit, no longer the latest."""
    return _set_status(uow, ref, "archived")


@operation("POST", "/api/v1/model-versions/{ref:path}/restore", role=Role.developer)
def restore_model_version(uow: UnitOfWork, ref: str) -> ModelVersionPublic:
    """Make an archived version active again."""
    return _set_status(uow, ref, "active")


@operation("GET", "/api/v1/model-versions/{ref:path}")
def get_model_version(uow: UnitOfWork, ref: str) -> ModelVersionPublic:
    """The version a reference (``name``, ``name/3``, ``name@alias``) points at."""
    return version_public(resolve_version(uow.session, ref), uow)


@operation("DELETE", "/api/v1/model-versions/{ref:path}", role=Role.developer)
def delete_model_version(uow: UnitOfWork, ref: str) -> ModelVersionPublic:
    """Delete a version no alias points at and no other version descends from."""
    lock_writes(uow)
    row = resolve_version(uow.session, ref)
    out = version_public(row, uow)
    if out.aliases:
        names = ", ".join(f"{out.name}@{a}" for a in out.aliases)
        raise Conflict(
            f"cannot delete {out.ref}: alias {names} points at it; move or delete the alias first",
            field="ref",
        )
    children = uow.session.scalars(
        select(ModelVersion).where(ModelVersion.parent_version_id == row.id)
    ).all()
    if children:
        names = ", ".join(f"{c.model.name}/{c.version}" for c in children)
        raise Conflict(f"cannot delete {out.ref}: it is the parent of {names}", field="ref")
    _refuse_if_served(uow, row, out.ref)
    uow.session.delete(row)
    uow.session.flush()
    summary = {"digest": out.digest}
    uow.audit(
        "model_version.delete", "model_version", out.ref, out.model_dump(mode="json"), summary
    )
    return out


def _refuse_if_served(uow: UnitOfWork, row: ModelVersion, ref: str) -> None:
    """A version an endpoint serves, or any traffic plan ever routed to, stays: the
    prediction log and the plan history refer to it."""
    from sqlalchemy import or_

    from modelward.monitoring.tables import Endpoint
    from modelward.serving.tables import TrafficPlan

    served = uow.session.scalar(select(Endpoint.name).where(Endpoint.version_id == row.id))
    routed = uow.session.execute(
        select(Endpoint.name, TrafficPlan.seq)
        .join(Endpoint, Endpoint.id == TrafficPlan.endpoint_id)
        .where(
            or_(
                TrafficPlan.primary_version_id == row.id,
                TrafficPlan.challenger_version_id == row.id,
            )
        )
        .limit(1)
    ).first()
    if served is not None or routed is not None:
        where = (
            f"endpoint {served} serves it"
            if served
            else (
                f"endpoint {routed[0]}'s plan {routed[1]} routed traffic to it"  # type: ignore[index]
            )
        )
        raise Conflict(f"cannot delete {ref}: {where}; archive it instead", field="ref")


from modelward.registry import aliases as _aliases  # noqa: E402, F401  (registers operations)
from modelward.registry import lineage as _lineage  # noqa: E402, F401  (registers operations)
