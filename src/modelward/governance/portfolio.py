"""The portfolio: every AI system with what a risk officer asks first, in one read.

Per system: its production versions, health now and over past windows, unresolved alerts
per endpoint, open promotion requests, and which governance evidence exists for each
production version. Models outside the register are listed apart, since no policy guards
them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.governance.evidence import latest_card, newest_evaluations, newest_explanation
from modelward.governance.register import list_systems
from modelward.governance.tables import AISystem, AISystemModel, GateDecision, PromotionRequest
from modelward.monitoring.health import system_health_of
from modelward.monitoring.health_history import HealthTrend, system_trend
from modelward.monitoring.tables import Alert, Endpoint
from modelward.operations import operation
from modelward.registry.tables import ModelAlias, ModelVersion, RegisteredModel
from modelward.uow import UnitOfWork

TREND_WINDOWS = 14
EVIDENCE = ("evaluation", "explanation", "model card", "approval", "policy check")
UNRESOLVED = ("open", "acknowledged")


class EvidenceItem(BaseModel):
    name: str = Field(description="evaluation, explanation, model card, approval, policy check")
    present: bool
    detail: str


class ProductionVersion(BaseModel):
    model: str
    version: int
    evidence: list[EvidenceItem]
    complete: int = Field(description="how many evidence items exist")
    total: int


class EndpointAlerts(BaseModel):
    endpoint: str
    model: str
    version: int
    open_alerts: int = Field(description="alerts open or acknowledged")


class PendingPromotion(BaseModel):
    id: int
    model: str
    version: int
    target_alias: str
    requested_by: str
    requested_at: datetime
    approvals: int


class SystemRow(BaseModel):
    name: str
    risk_tier: str
    status: str
    business_owner: str
    technical_owner: str
    production_alias: str
    models: list[str]
    production: list[ProductionVersion]
    health: float | None = Field(description="the live health index, mean over endpoints")
    health_min: float | None
    trend: HealthTrend
    endpoints: list[EndpointAlerts]
    open_alerts: int
    pending: list[PendingPromotion]
    open_incidents: int


class UnregisteredModel(BaseModel):
    name: str
    owner: str
    versions: int
    aliases: dict[str, int]
    endpoints: list[EndpointAlerts]
    pending: int = Field(description="open promotion requests")


class Portfolio(BaseModel):
    systems: list[SystemRow]
    unregistered: list[UnregisteredModel]
    owners: list[str] = Field(description="every business or technical owner in the register")


def _endpoint_alerts(session: Session, model_ids: list[int]) -> list[EndpointAlerts]:
    if not model_ids:
        return []
    endpoints = list(
        session.scalars(
            select(Endpoint)
            .where(Endpoint.model_id.in_(model_ids), Endpoint.status == "active")
            .order_by(Endpoint.name)
        )
    )
    counts = dict(
        session.execute(
            select(Alert.endpoint_id, func.count())
            .where(Alert.endpoint_id.in_([e.id for e in endpoints]), Alert.status.in_(UNRESOLVED))
            .group_by(Alert.endpoint_id)
        ).all()
    )
    out = []
    for e in endpoints:
        version = session.get_one(ModelVersion, e.version_id)
        out.append(
            EndpointAlerts(
                endpoint=e.name,
                model=version.model.name,
                version=version.version,
                open_alerts=int(counts.get(e.id, 0)),
            )
        )
    return out


def _pending(session: Session, model_ids: list[int]) -> list[PendingPromotion]:
    if not model_ids:
        return []
    from modelward.governance.tables import Approval

    rows = session.scalars(
        select(PromotionRequest)
        .where(PromotionRequest.model_id.in_(model_ids), PromotionRequest.status == "open")
        .order_by(PromotionRequest.id.desc())
    )
    out = []
    for row in rows:
        version = session.get_one(ModelVersion, row.version_id)
        approvals = session.scalar(
            select(func.count())
            .select_from(Approval)
            .where(Approval.request_id == row.id, Approval.decision == "approve")
        )
        out.append(
            PendingPromotion(
                id=row.id,
                model=version.model.name,
                version=version.version,
                target_alias=row.target_alias,
                requested_by=row.requested_by,
                requested_at=row.requested_at,
                approvals=int(approvals or 0),
            )
        )
    return out


def evidence_of(uow: UnitOfWork, version: ModelVersion, alias: str) -> list[EvidenceItem]:
    """Which evidence exists for a production version, each with what was found."""
    from modelward.governance.gate import guarding

    session = uow.session
    evaluations = newest_evaluations(session, version.id)
    explanation = newest_explanation(session, version.id)
    card = latest_card(session, version.id)
    approved = session.scalar(
        select(PromotionRequest.id)
        .where(
            PromotionRequest.version_id == version.id,
            PromotionRequest.target_alias == alias,
            PromotionRequest.status == "completed",
        )
        .order_by(PromotionRequest.id.desc())
        .limit(1)
    )
    decision = session.scalar(
        select(GateDecision)
        .where(GateDecision.version_id == version.id, GateDecision.target_alias == alias)
        .order_by(GateDecision.id.desc())
        .limit(1)
    )
    # The gate's verdict when the version was moved, not a re-check today: a completed
    # request no longer counts as open approvals, so a re-check would always fail them.
    if decision is None:
        guarded = bool(guarding(session, version, alias))
        gate_passed = False
        gate_detail = "no gate decision recorded" if guarded else f"no policy guards @{alias}"
    elif decision.outcome == "pass":
        gate_passed = True
        when = decision.decided_at.strftime("%Y-%m-%d")
        gate_detail = f"passed {len(decision.results)} rules on {when}"
    else:
        gate_passed = False
        gate_detail = f"admin override by {decision.decided_by}: {decision.justification[:120]}"
    return [
        EvidenceItem(
            name="evaluation",
            present=bool(evaluations),
            detail=", ".join(sorted(evaluations)) if evaluations else "no evaluation",
        ),
        EvidenceItem(
            name="explanation",
            present=explanation is not None,
            detail=explanation.method if explanation is not None else "no explanation",
        ),
        EvidenceItem(
            name="model card",
            present=card is not None,
            detail=f"card version {card.card_version}" if card is not None else "no model card",
        ),
        EvidenceItem(
            name="approval",
            present=approved is not None,
            detail=f"promotion request {approved} completed"
            if approved is not None
            else f"no completed promotion request to @{alias}",
        ),
        EvidenceItem(name="policy check", present=gate_passed, detail=gate_detail),
    ]


def _production(uow: UnitOfWork, model_ids: list[int], alias: str) -> list[ProductionVersion]:
    out = []
    for model_id in model_ids:
        current = uow.session.get(ModelAlias, (model_id, alias))
        if current is None:
            continue
        version = current.version
        items = evidence_of(uow, version, alias)
        out.append(
            ProductionVersion(
                model=version.model.name,
                version=version.version,
                evidence=items,
                complete=sum(1 for i in items if i.present),
                total=len(items),
            )
        )
    return sorted(out, key=lambda p: p.model)


def _unregistered(uow: UnitOfWork) -> list[UnregisteredModel]:
    session = uow.session
    inside = select(AISystemModel.model_id)
    models = session.scalars(
        select(RegisteredModel)
        .where(RegisteredModel.id.not_in(inside))
        .order_by(RegisteredModel.name)
        .limit(200)
    )
    out = []
    for model in models:
        aliases = {
            a.alias: a.version.version
            for a in session.scalars(select(ModelAlias).where(ModelAlias.model_id == model.id))
        }
        versions = session.scalar(
            select(func.count()).select_from(ModelVersion).where(ModelVersion.model_id == model.id)
        )
        out.append(
            UnregisteredModel(
                name=model.name,
                owner=model.owner,
                versions=int(versions or 0),
                aliases=dict(sorted(aliases.items())),
                endpoints=_endpoint_alerts(session, [model.id]),
                pending=len(_pending(session, [model.id])),
            )
        )
    return out


# Not cached: the live health index ages with the clock (freshness) without any write.
@operation("GET", "/api/v1/portfolio", tag="register", cacheable=False)
def portfolio(
    uow: UnitOfWork,
    risk_tier: str | None = None,
    status: str | None = None,
    owner: str | None = None,
) -> Portfolio:
    """Every AI system matching the filters with its production versions, health and trend,
    unresolved alerts, open promotion requests and governance evidence; and the models
    outside the register."""
    session = uow.session
    rows = []
    for system in list_systems(uow, risk_tier=risk_tier, status=status, owner=owner):
        row = session.get_one(AISystem, system.id)
        model_ids = list(
            session.scalars(select(AISystemModel.model_id).where(AISystemModel.system_id == row.id))
        )
        health = system_health_of(uow, row)
        endpoints = _endpoint_alerts(session, model_ids)
        rows.append(
            SystemRow(
                name=row.name,
                risk_tier=row.risk_tier,
                status=row.status,
                business_owner=row.business_owner,
                technical_owner=row.technical_owner,
                production_alias=row.production_alias,
                models=[m.name for m in system.models],
                production=_production(uow, model_ids, row.production_alias),
                health=health.score,
                health_min=health.min,
                trend=system_trend(session, row, TREND_WINDOWS),
                endpoints=endpoints,
                open_alerts=sum(e.open_alerts for e in endpoints),
                pending=_pending(session, model_ids),
                open_incidents=system.open_incidents,
            )
        )
    owners: set[str] = set()
    for business, technical in session.execute(
        select(AISystem.business_owner, AISystem.technical_owner)
    ):
        owners.update(o for o in (business, technical) if o)
    return Portfolio(systems=rows, unregistered=_unregistered(uow), owners=sorted(owners))
