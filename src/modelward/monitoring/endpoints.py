"""Endpoints: named deployments of a model version, every change audited and gated.

Deploying a version is a production decision, so it passes the same gate as moving the
production alias: a version the production alias already points at has passed it; any other
version of a model in the AI register must pass the policies guarding that alias now.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from modelward.monitoring.endpoint_schemas import (
    MAX_CONFIG_BYTES,
    EndpointCreate,
    EndpointPublic,
    EndpointUpdate,
)
from modelward.monitoring.tables import Endpoint
from modelward.operations import operation
from modelward.registry.references import resolve_version
from modelward.registry.tables import ModelAlias, ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork
from modelward.validation import check_name

BASE = "/api/v1/endpoints"


def get_endpoint_row(session: Session, name: str, field: str = "name") -> Endpoint:
    check_name(name, field)
    row = session.scalar(select(Endpoint).where(Endpoint.name == name))
    if row is None:
        raise NotFound(f"no endpoint named {name!r}", field=field)
    return row


def endpoint_public(session: Session, row: Endpoint) -> EndpointPublic:
    version = session.get_one(ModelVersion, row.version_id)
    return EndpointPublic(
        id=row.id,
        name=row.name,
        model=version.model.name,
        version=version.version,
        ref=f"{version.model.name}/{version.version}",
        digest=version.digest,
        mode=row.mode,
        status=row.status,
        config=row.config,
        config_version=row.config_version,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _check_config(config: dict[str, object]) -> None:
    if len(json.dumps(config, default=str)) > MAX_CONFIG_BYTES:
        raise InvalidInput(f"config: larger than {MAX_CONFIG_BYTES} bytes", field="config")


def deployment_gate(uow: UnitOfWork, version: ModelVersion) -> str:
    """Refuse to deploy a version its model's production policies would not let through."""
    from modelward.governance.gate import evaluate
    from modelward.governance.register import system_for_model

    system = system_for_model(uow.session, version.model_id)
    if system is None:
        return "ungoverned"
    alias = uow.session.get(ModelAlias, (version.model_id, system.production_alias))
    if alias is not None and alias.version_id == version.id:
        return f"@{system.production_alias}"
    report = evaluate(uow, version, system.production_alias)
    if report.governed and not report.passed:
        failed = [r.rule for r in report.results if r.outcome != "pass"]
        raise PolicyDenied(
            f"deploying {report.model}/{report.version} is refused: it is not "
            f"@{system.production_alias} and fails {', '.join(failed)}",
            field="model",
            gate=report.model_dump(mode="json"),
            failed=failed,
        )
    return "gate passed"


def _audit(uow: UnitOfWork, action: str, row: Endpoint, **summary: object) -> EndpointPublic:
    uow.session.flush()
    out = endpoint_public(uow.session, row)
    brief = {"ref": out.ref, "mode": out.mode, "status": out.status, **summary}
    uow.audit(action, "endpoint", row.name, out.model_dump(mode="json"), brief)
    return out


@operation("POST", BASE, role=Role.developer, status_code=201, tag="monitoring")
def create_endpoint(uow: UnitOfWork, body: EndpointCreate) -> EndpointPublic:
    """Deploy a version under a name (batch scoring now, online serving later)."""
    lock_writes(uow)
    _check_config(body.config)
    if uow.session.scalar(select(Endpoint.id).where(Endpoint.name == body.name)):
        raise Conflict(f"endpoint {body.name!r} already exists", field="name")
    version = resolve_version(uow.session, body.model, field="model")
    if version.status != "active":
        raise Conflict(f"{body.model} is archived; restore it to deploy it", field="model")
    gate = deployment_gate(uow, version)
    now = stored_now()
    row = Endpoint(
        name=body.name,
        model_id=version.model_id,
        version_id=version.id,
        mode=body.mode,
        status="active",
        config=body.config,
        config_version=1,
        created_by=uow.actor,
        created_at=now,
        updated_by=uow.actor,
        updated_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    from modelward.serving.plans import record_single

    record_single(uow, row)
    return _audit(uow, "endpoint.create", row, gate=gate)


@operation("PATCH", BASE + "/{name}", role=Role.developer, tag="monitoring")
def update_endpoint(uow: UnitOfWork, name: str, body: EndpointUpdate) -> EndpointPublic:
    """Deploy another version, change the mode, retire it, or change monitoring settings."""
    lock_writes(uow)
    row = get_endpoint_row(uow.session, name)
    summary: dict[str, object] = {}
    if body.model is not None:
        version = resolve_version(uow.session, body.model, field="model")
        if version.model_id != row.model_id:
            raise InvalidInput(
                "model: an endpoint serves one registered model; create another endpoint",
                field="model",
            )
        if version.id != row.version_id:
            summary["gate"] = deployment_gate(uow, version)
            summary["from_version"] = uow.session.get_one(ModelVersion, row.version_id).version
            row.version_id = version.id
            from modelward.serving.plans import record_single

            record_single(uow, row, reason="deployed another version")
    if body.config is not None:
        _check_config(body.config)
        if body.config != row.config:
            row.config = body.config
            row.config_version += 1
            summary["config_version"] = row.config_version
    for field in ("mode", "status"):
        value = getattr(body, field)
        if value is not None and value != getattr(row, field):
            summary[field] = {"from": getattr(row, field), "to": value}
            setattr(row, field, value)
    if not summary:
        return endpoint_public(uow.session, row)
    row.updated_by, row.updated_at = uow.actor, stored_now()
    return _audit(uow, "endpoint.update", row, **summary)


@operation("GET", BASE + "/{name}", tag="monitoring")
def get_endpoint(uow: UnitOfWork, name: str) -> EndpointPublic:
    return endpoint_public(uow.session, get_endpoint_row(uow.session, name))


@operation("GET", BASE, tag="monitoring")
def list_endpoints(uow: UnitOfWork) -> list[EndpointPublic]:
    rows = uow.session.scalars(select(Endpoint).order_by(Endpoint.name))
    return [endpoint_public(uow.session, r) for r in rows]
