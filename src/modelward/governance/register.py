"""The AI register: what each AI system is for, who answers for it, how risky it is, which
models and data it runs on and what went wrong with it.

Every mutation takes the writer lock first and writes its audit event in the same
transaction, with the system as it stands after the change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.governance.register_schemas import (
    RISK_TIERS,
    STATUSES,
    TIERS_NEEDING_RATIONALE,
    EvaluationSummary,
    IncidentCreate,
    IncidentPublic,
    SystemCreate,
    SystemDataset,
    SystemModel,
    SystemPublic,
    SystemUpdate,
)
from modelward.governance.tables import AISystem, AISystemDataset, AISystemModel, Incident
from modelward.operations import operation
from modelward.registry.references import get_model_row
from modelward.registry.tables import ModelAlias, RegisteredModel
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork
from modelward.validation import check_name

BASE = "/api/v1/systems"
# Shown in a system's evaluation summary, in this order, when the evaluation has them.
SUMMARY_METRICS = ("roc_auc", "accuracy", "f1", "pr_auc", "log_loss", "rmse", "mae", "r2")
# An incident reported this far ahead of the clock has not happened yet: a typo.
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
MAX_ID = 2**31 - 1  # the id column is a 32-bit INTEGER


# ------------------------------------------------------------ reading


def get_system_row(session: Session, name: str, field: str = "name") -> AISystem:
    check_name(name, field)
    row = session.scalar(select(AISystem).where(AISystem.name == name))
    if row is None:
        raise NotFound(f"no AI system named {name!r} in the register", field=field)
    return row


def system_for_model(session: Session, model_id: int) -> AISystem | None:
    """The AI system a registered model belongs to, if any."""
    return session.scalar(  # one query: the gate asks on every alias move
        select(AISystem)
        .join(AISystemModel, AISystemModel.system_id == AISystem.id)
        .where(AISystemModel.model_id == model_id)
    )


def open_incident_count(session: Session, system: AISystem) -> int:
    query = select(Incident.id).where(Incident.system_id == system.id, Incident.status == "open")
    return len(session.scalars(query).all())


def system_context(session: Session, system: AISystem) -> dict[str, Any]:
    """The ``system`` part of the evidence policies see: plain JSON values only."""
    return {
        "name": system.name,
        "risk_tier": system.risk_tier,
        "status": system.status,
        "decision_type": system.decision_type,
        "human_in_the_loop": bool(system.human_in_the_loop),
        "business_owner": system.business_owner,
        "technical_owner": system.technical_owner,
        "purpose": system.purpose,
        "affected_people": system.affected_people,
        "regulatory_tags": [str(t) for t in system.regulatory_tags or []],
        "limitations": system.limitations,
        "open_incidents": open_incident_count(session, system),
    }


def _models(session: Session, system: AISystem) -> list[tuple[RegisteredModel, Any]]:
    """(model, production version row or None) for every model of the system, by name."""
    query = (
        select(RegisteredModel)
        .join(AISystemModel, AISystemModel.model_id == RegisteredModel.id)
        .where(AISystemModel.system_id == system.id)
        .order_by(RegisteredModel.name)
    )
    out = []
    for model in session.scalars(query):
        alias = session.get(ModelAlias, (model.id, system.production_alias))
        out.append((model, None if alias is None else alias.version))
    return out


def _datasets(session: Session, system: AISystem) -> list[SystemDataset]:
    from modelward.datasets.tables import DatasetVersion

    query = (
        select(DatasetVersion)
        .join(AISystemDataset, AISystemDataset.dataset_version_id == DatasetVersion.id)
        .where(AISystemDataset.system_id == system.id)
    )
    found = [
        SystemDataset(
            ref=d.ref, dataset=d.dataset.name, version=d.version, content_hash=d.content_hash
        )
        for d in session.scalars(query)
    ]
    return sorted(found, key=lambda d: (d.dataset, d.version))


def incident_public(system: AISystem, row: Incident) -> IncidentPublic:
    return IncidentPublic(
        id=row.id,
        system=system.name,
        occurred_at=row.occurred_at,
        severity=row.severity,
        title=row.title,
        description=row.description,
        status=row.status,  # type: ignore[arg-type]
        reported_by=row.reported_by,
        created_at=row.created_at,
        resolved_at=row.resolved_at,
    )


def _incidents(session: Session, system: AISystem) -> list[IncidentPublic]:
    query = select(Incident).where(Incident.system_id == system.id)
    rows = session.scalars(query.order_by(Incident.occurred_at.desc(), Incident.id.desc()))
    return [incident_public(system, r) for r in rows]


def _evaluation_summary(session: Session, model: str, version: Any) -> EvaluationSummary | None:
    from modelward.datasets.tables import DatasetVersion
    from modelward.evaluation.tables import Evaluation

    row = session.scalar(
        select(Evaluation)
        .where(Evaluation.version_id == version.id)
        .order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    metrics = (row.results or {}).get("metrics") or {}
    picked = {
        m: float(metrics[m])
        for m in SUMMARY_METRICS
        if isinstance(metrics.get(m), int | float) and not isinstance(metrics.get(m), bool)
    }
    dataset = session.get(DatasetVersion, row.dataset_version_id)
    return EvaluationSummary(
        model=model,
        version=version.version,
        name=row.name,
        created_at=row.created_at,
        metrics=picked,
        dataset=dataset.ref if dataset is not None else "",
    )


def system_public(session: Session, row: AISystem) -> SystemPublic:
    models = _models(session, row)
    summaries = [_evaluation_summary(session, m.name, v) for m, v in models if v is not None]
    incidents = _incidents(session, row)
    return SystemPublic(
        id=row.id,
        name=row.name,
        risk_tier=row.risk_tier,
        tier_rationale=row.tier_rationale,
        purpose=row.purpose,
        business_owner=row.business_owner,
        technical_owner=row.technical_owner,
        decision_type=row.decision_type,
        human_in_the_loop=bool(row.human_in_the_loop),
        affected_people=row.affected_people,
        regulatory_tags=list(row.regulatory_tags or []),
        limitations=row.limitations,
        status=row.status,
        production_alias=row.production_alias,
        models=[
            SystemModel(name=m.name, production_version=None if v is None else v.version)
            for m, v in models
        ],
        datasets=_datasets(session, row),
        incidents=incidents,
        open_incidents=sum(1 for i in incidents if i.status == "open"),
        evaluations=[s for s in summaries if s is not None],
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


# ------------------------------------------------------------ writing helpers


def _audit(uow: UnitOfWork, action: str, row: AISystem, summary: dict[str, Any]) -> SystemPublic:
    uow.session.flush()
    out = system_public(uow.session, row)
    uow.audit(action, "ai_system", row.name, out.model_dump(mode="json"), summary=summary)
    return out


def _touch(uow: UnitOfWork, row: AISystem) -> None:
    row.updated_by = uow.actor
    row.updated_at = stored_now()


def _attach(uow: UnitOfWork, system: AISystem, model_name: str) -> bool:
    """Attach a model; False when it already belongs to this system."""
    model = get_model_row(uow.session, model_name, field="model")
    current = uow.session.get(AISystemModel, model.id)
    if current is not None:
        if current.system_id == system.id:
            return False
        other = uow.session.get(AISystem, current.system_id)
        owner = other.name if other is not None else "another system"
        raise Conflict(
            f"model {model_name!r} already belongs to AI system {owner!r}; detach it there first",
            field="model",
        )
    uow.session.add(AISystemModel(model_id=model.id, system_id=system.id))
    return True


def _dataset_version(uow: UnitOfWork, ref: str, field: str) -> Any:
    from modelward.datasets.service import resolve_dataset_version

    try:
        return resolve_dataset_version(uow.session, ref)
    except (InvalidInput, NotFound) as exc:
        raise type(exc)(exc.message, field=field) from None


def _link(uow: UnitOfWork, system: AISystem, version: Any) -> bool:
    """Link a dataset version; False when it is already linked."""
    if uow.session.get(AISystemDataset, (system.id, version.id)) is not None:
        return False
    uow.session.add(AISystemDataset(system_id=system.id, dataset_version_id=version.id))
    return True


# ------------------------------------------------------------ systems


@operation("POST", BASE, role=Role.developer, status_code=201, tag="register")
def create_system(uow: UnitOfWork, body: SystemCreate) -> SystemPublic:
    """Enter an AI system in the register, with the models and data it runs on."""
    lock_writes(uow)
    if uow.session.scalar(select(AISystem.id).where(AISystem.name == body.name)):
        raise Conflict(f"AI system {body.name!r} is already in the register", field="name")
    now = stored_now()
    fields = body.model_dump(exclude={"models", "datasets"})
    row = AISystem(**fields, created_by=uow.actor, created_at=now, updated_by=uow.actor)
    row.updated_at = now
    uow.session.add(row)
    uow.session.flush()
    for name in dict.fromkeys(body.models):
        _attach(uow, row, name)
    for ref in dict.fromkeys(body.datasets):
        _link(uow, row, _dataset_version(uow, ref, "datasets"))
    summary = {"risk_tier": body.risk_tier, "models": body.models, "datasets": body.datasets}
    out = _audit(uow, "ai_system.create", row, summary)
    _first_system_installs_policies(uow)
    return out


def _first_system_installs_policies(uow: UnitOfWork) -> None:
    """A register without policies would guard nothing: the first system brings the defaults."""
    from modelward.governance.policies import ensure_default_policies
    from modelward.governance.tables import Policy

    if uow.session.scalar(select(Policy.id).limit(1)) is None:
        ensure_default_policies(uow)


@operation("GET", BASE, tag="register")
def list_systems(
    uow: UnitOfWork,
    risk_tier: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    regulatory_tag: str | None = None,
    model: str | None = None,
) -> list[SystemPublic]:
    """Systems matching every given filter, by name; ``owner`` is business or technical."""
    query = select(AISystem)
    if risk_tier is not None:
        query = query.where(AISystem.risk_tier == _one_of(risk_tier, RISK_TIERS, "risk_tier"))
    if status is not None:
        query = query.where(AISystem.status == _one_of(status, STATUSES, "status"))
    if owner is not None:
        query = query.where(
            (AISystem.business_owner == owner) | (AISystem.technical_owner == owner)
        )
    if model is not None:
        found = get_model_row(uow.session, model, field="model")
        query = query.join(AISystemModel, AISystemModel.system_id == AISystem.id).where(
            AISystemModel.model_id == found.id
        )
    rows = uow.session.scalars(query.order_by(AISystem.name)).all()
    if regulatory_tag is not None:
        # Tags are a JSON list, matched here the same way on every database.
        rows = [r for r in rows if regulatory_tag in (r.regulatory_tags or [])]
    return [system_public(uow.session, r) for r in rows]


def _one_of(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise InvalidInput(
            f"{field}: {value[:60]!r} is not one of {', '.join(allowed)}", field=field
        )
    return value


@operation("GET", BASE + "/{name}", tag="register")
def get_system(uow: UnitOfWork, name: str) -> SystemPublic:
    """One system with its models, data, incidents and latest production evaluations."""
    return system_public(uow.session, get_system_row(uow.session, name))


def _changes(row: AISystem, body: SystemUpdate) -> dict[str, dict[str, Any]]:
    """{field: {"from": old, "to": new}} for every field the update really changes."""
    changed = {}
    for field, new in body.model_dump(exclude_none=True).items():
        old = getattr(row, field)
        if field == "regulatory_tags":
            old = list(old or [])
        if old != new:
            changed[field] = {"from": old, "to": new}
    return changed


@operation("PATCH", BASE + "/{name}", role=Role.developer, tag="register")
def update_system(uow: UnitOfWork, name: str, body: SystemUpdate) -> SystemPublic:
    """Change some fields of a system; changing its risk tier needs the approver role."""
    lock_writes(uow)
    row = get_system_row(uow.session, name)
    changes = _changes(row, body)
    if not changes:
        return system_public(uow.session, row)
    if "risk_tier" in changes:
        # Otherwise a developer could lower the tier to escape the policies guarding it.
        uow.principal.require(Role.approver, "changing an AI system's risk tier")
    tier = changes.get("risk_tier", {}).get("to", row.risk_tier)
    rationale = changes.get("tier_rationale", {}).get("to", row.tier_rationale)
    if tier in TIERS_NEEDING_RATIONALE and not rationale.strip():
        raise InvalidInput(
            f"tier_rationale: a {tier} risk tier needs a written rationale", field="tier_rationale"
        )
    for field, change in changes.items():
        setattr(row, field, change["to"])
    _touch(uow, row)
    return _audit(uow, "ai_system.update", row, changes)


# ------------------------------------------------------------ models and data


@operation("PUT", BASE + "/{name}/models/{model}", role=Role.developer, tag="register")
def attach_model(uow: UnitOfWork, name: str, model: str) -> SystemPublic:
    """Make a registered model part of a system (a model belongs to at most one)."""
    lock_writes(uow)
    row = get_system_row(uow.session, name)
    if not _attach(uow, row, model):
        return system_public(uow.session, row)
    _touch(uow, row)
    return _audit(uow, "ai_system.attach_model", row, {"model": model})


@operation("DELETE", BASE + "/{name}/models/{model}", role=Role.developer, tag="register")
def detach_model(uow: UnitOfWork, name: str, model: str) -> SystemPublic:
    """Take a model out of a system; its versions and aliases are untouched."""
    lock_writes(uow)
    row = get_system_row(uow.session, name)
    found = get_model_row(uow.session, model, field="model")
    link = uow.session.get(AISystemModel, found.id)
    if link is None or link.system_id != row.id:
        raise NotFound(f"model {model!r} is not part of AI system {name!r}", field="model")
    uow.session.delete(link)
    _touch(uow, row)
    return _audit(uow, "ai_system.detach_model", row, {"model": model})


DATASET_PATH = BASE + "/{name}/datasets/{dataset}/{version}"


@operation("PUT", DATASET_PATH, role=Role.developer, tag="register")
def link_dataset(uow: UnitOfWork, name: str, dataset: str, version: int) -> SystemPublic:
    """Record a dataset version as a data source of a system."""
    lock_writes(uow)
    row = get_system_row(uow.session, name)
    found = _dataset_version(uow, f"{dataset}/{version}", "dataset")
    if not _link(uow, row, found):
        return system_public(uow.session, row)
    _touch(uow, row)
    return _audit(uow, "ai_system.link_dataset", row, {"dataset": found.ref})


@operation("DELETE", DATASET_PATH, role=Role.developer, tag="register")
def unlink_dataset(uow: UnitOfWork, name: str, dataset: str, version: int) -> SystemPublic:
    """Remove a dataset version from a system's data sources."""
    lock_writes(uow)
    row = get_system_row(uow.session, name)
    found = _dataset_version(uow, f"{dataset}/{version}", "dataset")
    link = uow.session.get(AISystemDataset, (row.id, found.id))
    if link is None:
        raise NotFound(f"{found.ref} is not a data source of AI system {name!r}", field="dataset")
    uow.session.delete(link)
    _touch(uow, row)
    return _audit(uow, "ai_system.unlink_dataset", row, {"dataset": found.ref})


# ------------------------------------------------------------ incidents


@operation("POST", BASE + "/{name}/incidents", role=Role.developer, status_code=201, tag="register")
def report_incident(uow: UnitOfWork, name: str, body: IncidentCreate) -> IncidentPublic:
    """Record something that went wrong with a system; it stays open until resolved."""
    lock_writes(uow)
    row = get_system_row(uow.session, name)
    now = stored_now()
    occurred = _stored_instant(body.occurred_at)
    if (occurred - now).total_seconds() * 1000 > MAX_CLOCK_SKEW_MS:
        raise InvalidInput("occurred_at: is in the future", field="occurred_at")
    incident = open_incident(uow, row, body.title, body.description, body.severity, occurred)
    return incident_public(row, incident)


def open_incident(
    uow: UnitOfWork,
    system: AISystem,
    title: str,
    description: str,
    severity: str,
    occurred: datetime | None = None,
) -> Incident:
    """Record an open incident on ``system`` and its audit event (the caller holds the lock)."""
    now = stored_now()
    incident = Incident(
        system_id=system.id,
        occurred_at=occurred or now,
        severity=severity,
        title=title,
        description=description,
        status="open",
        reported_by=uow.actor,
        created_at=now,
    )
    uow.session.add(incident)
    uow.session.flush()
    summary = {"incident": incident.id, "severity": severity, "title": title}
    _audit(uow, "ai_system.incident_report", system, summary)
    return incident


def _stored_instant(value: datetime) -> datetime:
    """UTC at millisecond precision: what is returned now is what a later read returns."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted out of the calendar by its offset
        raise InvalidInput("occurred_at: is out of range", field="occurred_at") from None
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@operation(
    "POST", BASE + "/{name}/incidents/{incident_id}/resolve", role=Role.developer, tag="register"
)
def resolve_incident(uow: UnitOfWork, name: str, incident_id: int) -> IncidentPublic:
    """Close an open incident."""
    lock_writes(uow)
    row = get_system_row(uow.session, name)
    incident = None
    if 1 <= incident_id <= MAX_ID:
        incident = uow.session.scalar(
            select(Incident).where(Incident.id == incident_id, Incident.system_id == row.id)
        )
    if incident is None:
        raise NotFound(f"AI system {name!r} has no incident {incident_id}", field="incident_id")
    if incident.status == "resolved":
        raise Conflict(f"incident {incident_id} is already resolved", field="incident_id")
    incident.status = "resolved"
    incident.resolved_at = stored_now()
    summary = {"incident": incident.id, "status": "resolved"}
    _audit(uow, "ai_system.incident_resolve", row, summary)
    return incident_public(row, incident)


from modelward.governance import register_history as _history  # noqa: E402, F401
