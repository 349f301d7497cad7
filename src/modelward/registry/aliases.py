"""Aliases (``candidate``, ``champion``, …): movable names for versions, every move audited."""

from __future__ import annotations

from sqlalchemy import select

from modelward.auth.roles import Role
from modelward.errors import Conflict, NotFound
from modelward.governance.tables import AliasMove
from modelward.operations import operation
from modelward.registry.references import check_alias, get_model_row, get_version_row
from modelward.registry.schemas import AliasPublic, AliasSet
from modelward.registry.tables import ModelAlias, RegisteredModel
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork


def _public(model: RegisteredModel, row: ModelAlias) -> AliasPublic:
    return AliasPublic(
        model=model.name,
        alias=row.alias,
        version=row.version.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _record_move(uow: UnitOfWork, model: RegisteredModel, alias: str, version: int | None) -> None:
    """Keep the alias's history: what it pointed at, from when, moved by whom."""
    uow.session.add(
        AliasMove(
            model_id=model.id,
            alias=alias,
            version=version,
            moved_by=uow.actor,
            moved_at=stored_now(),
        )
    )


def _check_unguarded_removal(uow: UnitOfWork, row: ModelAlias) -> None:
    """Taking a model out of a guarded alias (production) is an approver's decision."""
    from modelward.auth.roles import Role
    from modelward.errors import Forbidden
    from modelward.governance.gate import guarding

    if uow.principal.role >= Role.approver:
        return
    if guarding(uow.session, row.version, row.alias):
        raise Forbidden(
            f"alias {row.alias!r} is guarded by policy: removing it needs the approver role",
            field="alias",
        )


def _state(model: str, alias: str, before: int | None, after: int | None) -> dict[str, object]:
    return {"model": model, "alias": alias, "from_version": before, "to_version": after}


@operation("GET", "/api/v1/models/{name}/aliases")
def list_aliases(uow: UnitOfWork, name: str) -> list[AliasPublic]:
    """A model's aliases and the versions they point at."""
    model = get_model_row(uow.session, name)
    rows = uow.session.scalars(
        select(ModelAlias).where(ModelAlias.model_id == model.id).order_by(ModelAlias.alias)
    )
    return [_public(model, r) for r in rows]


@operation("PUT", "/api/v1/models/{name}/aliases/{alias}", role=Role.developer)
def set_alias(uow: UnitOfWork, name: str, alias: str, body: AliasSet) -> AliasPublic:
    """Point ``alias`` at a version (creating or moving it); the move is audited."""
    lock_writes(uow)
    check_alias(alias)
    model = get_model_row(uow.session, name)
    target = get_version_row(uow.session, model, body.version, field="version")
    if target.status != "active":
        raise Conflict(
            f"{name}/{body.version} is archived; restore it before pointing an alias at it",
            field="version",
        )
    row = uow.session.get(ModelAlias, (model.id, alias))
    before = row.version.version if row is not None else None
    if before == target.version:
        return _public(model, row)  # type: ignore[arg-type]  # not a move: nothing to record
    from modelward.governance.gate import enforce

    gate = enforce(uow, target, alias, body.override)
    now = stored_now()
    if row is None:
        row = ModelAlias(model_id=model.id, alias=alias, version=target)
        uow.session.add(row)
    row.version = target
    row.version_id = target.id
    row.updated_by = uow.actor
    row.updated_at = now
    model.updated_at = now
    _record_move(uow, model, alias, target.version)
    uow.session.flush()
    state = _state(name, alias, before, target.version)
    summary = {**state, **gate} if gate else state
    uow.audit("model_alias.set", "model_alias", f"{name}@{alias}", state, summary=summary)
    return _public(model, row)


@operation("DELETE", "/api/v1/models/{name}/aliases/{alias}", role=Role.developer)
def delete_alias(uow: UnitOfWork, name: str, alias: str) -> AliasPublic:
    """Remove an alias; the version it pointed at is untouched."""
    lock_writes(uow)
    check_alias(alias)
    model = get_model_row(uow.session, name)
    row = uow.session.get(ModelAlias, (model.id, alias))
    if row is None:
        raise NotFound(f"model {name!r} has no alias {alias!r}", field="alias")
    _check_unguarded_removal(uow, row)
    out = _public(model, row)
    uow.session.delete(row)
    model.updated_at = stored_now()
    _record_move(uow, model, alias, None)
    uow.session.flush()
    state = _state(name, alias, out.version, None)
    uow.audit("model_alias.delete", "model_alias", f"{name}@{alias}", state, summary=state)
    return out
