"""Registered models: a name with a description, an owner and tags; versions hang off it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from modelward.auth.roles import Role
from modelward.errors import Conflict, NotFound
from modelward.operations import operation
from modelward.registry.references import get_model_row
from modelward.registry.schemas import (
    RegisteredModelCreate,
    RegisteredModelPublic,
    RegisteredModelUpdate,
)
from modelward.registry.tables import ModelTag, ModelVersion, RegisteredModel
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork


def model_public(uow: UnitOfWork, row: RegisteredModel) -> RegisteredModelPublic:
    latest = uow.session.scalar(
        select(func.max(ModelVersion.version)).where(
            ModelVersion.model_id == row.id, ModelVersion.status == "active"
        )
    )
    return RegisteredModelPublic(
        id=row.id,
        name=row.name,
        description=row.description,
        owner=row.owner,
        tags={t.key: t.value for t in row.tags},
        aliases={a.alias: a.version.version for a in row.aliases},
        latest_version=latest,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def new_model(uow: UnitOfWork, body: RegisteredModelCreate) -> RegisteredModel:
    now = stored_now()
    row = RegisteredModel(
        name=body.name,
        description=body.description,
        owner=body.owner or uow.actor,
        created_by=uow.actor,
        created_at=now,
        updated_at=now,
        last_version=0,
    )
    row.tags = [ModelTag(key=k, value=v) for k, v in sorted(body.tags.items())]
    uow.session.add(row)
    uow.session.flush()
    out = model_public(uow, row)
    uow.audit("model.create", "model", row.name, out.model_dump(mode="json"))
    return row


@operation("POST", "/api/v1/models", role=Role.developer, status_code=201)
def create_registered_model(uow: UnitOfWork, body: RegisteredModelCreate) -> RegisteredModelPublic:
    """Register a model name (versions can also create it on first use)."""
    lock_writes(uow)
    if uow.session.scalar(select(RegisteredModel.id).where(RegisteredModel.name == body.name)):
        raise Conflict(f"model {body.name!r} is already registered", field="name")
    return model_public(uow, new_model(uow, body))


@operation("GET", "/api/v1/models")
def list_registered_models(uow: UnitOfWork) -> list[RegisteredModelPublic]:
    """Every registered model, by name."""
    query = select(RegisteredModel).options(
        selectinload(RegisteredModel.tags), selectinload(RegisteredModel.aliases)
    )
    rows = uow.session.scalars(query.order_by(RegisteredModel.name))
    return [model_public(uow, r) for r in rows]


@operation("GET", "/api/v1/models/{name}")
def get_registered_model(uow: UnitOfWork, name: str) -> RegisteredModelPublic:
    """One registered model with its tags and aliases."""
    return model_public(uow, get_model_row(uow.session, name))


@operation("PATCH", "/api/v1/models/{name}", role=Role.developer)
def update_registered_model(
    uow: UnitOfWork, name: str, body: RegisteredModelUpdate
) -> RegisteredModelPublic:
    """Change a model's description or owner, or set some of its tags."""
    lock_writes(uow)
    row = get_model_row(uow.session, name)
    changes = body.model_dump(exclude_none=True)
    if not changes:
        return model_public(uow, row)
    if body.description is not None:
        row.description = body.description
    if body.owner is not None:
        row.owner = body.owner
    current = {t.key: t for t in row.tags}
    for key, value in sorted((body.tags or {}).items()):
        if key in current:
            current[key].value = value
        else:
            row.tags.append(ModelTag(key=key, value=value))
    row.updated_at = stored_now()
    uow.session.flush()
    out = model_public(uow, row)
    uow.audit("model.update", "model", row.name, out.model_dump(mode="json"), summary=changes)
    return out


@operation("DELETE", "/api/v1/models/{name}/tags", role=Role.developer)
def delete_model_tag(uow: UnitOfWork, name: str, key: str) -> RegisteredModelPublic:
    """Remove one tag from a registered model."""
    lock_writes(uow)
    row = get_model_row(uow.session, name)
    tag = next((t for t in row.tags if t.key == key), None)
    if tag is None:
        raise NotFound(f"model {name!r} has no tag {key!r}", field="key")
    row.tags.remove(tag)
    row.updated_at = stored_now()
    uow.session.flush()
    out = model_public(uow, row)
    uow.audit("model.tag_delete", "model", row.name, out.model_dump(mode="json"), {"key": key})
    return out
