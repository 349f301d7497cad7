"""Traffic plans: how an endpoint's online traffic is split, every change audited and gated.

A plan routes to a primary version and, for canary, shadow and A-B plans, a challenger. A
version that answers callers (the primary, a canary or an A-B challenger) must pass the same
gate as a move of the production alias; a shadow challenger answers no-one, so it is not
gated. A rollback reinstates the plan before the current one and is never refused by the
gate: backing out must always be possible.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.durations import parse_duration_ms
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.monitoring.endpoints import deployment_gate, get_endpoint_row
from modelward.monitoring.tables import Endpoint
from modelward.operations import operation
from modelward.registry.references import resolve_version
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.serving.plan_schemas import (
    DEFAULT_STEP_EVERY,
    DEFAULT_STEPS,
    DeploymentStatus,
    PlanPublic,
    PlanRequest,
    RollbackRequest,
)
from modelward.serving.tables import TrafficPlan
from modelward.uow import UnitOfWork

BASE = "/api/v1/endpoints/{name}"
HISTORY = 20


def version_ref(session: Session, version_id: int | None) -> str | None:
    if version_id is None:
        return None
    version = session.get_one(ModelVersion, version_id)
    return f"{version.model.name}/{version.version}"


def plan_public(session: Session, endpoint: Endpoint, plan: TrafficPlan) -> PlanPublic:
    return PlanPublic(
        seq=plan.seq,
        endpoint=endpoint.name,
        kind=plan.kind,  # type: ignore[arg-type]
        primary=version_ref(session, plan.primary_version_id) or "",
        challenger=version_ref(session, plan.challenger_version_id),
        share=plan.share,
        steps=list(plan.steps or []),
        step_index=plan.step_index,
        step_every_s=plan.step_every_s,
        step_started_at=plan.step_started_at,
        key=plan.key_field,
        auto=plan.auto,
        thresholds=dict(plan.thresholds or {}),
        state=plan.state,
        verdict=plan.verdict,
        reason=plan.reason,
        created_by=plan.created_by,
        created_at=plan.created_at,
        ended_at=plan.ended_at,
    )


def current_plan(session: Session, endpoint: Endpoint) -> TrafficPlan | None:
    query = (
        select(TrafficPlan)
        .where(TrafficPlan.endpoint_id == endpoint.id, TrafficPlan.state == "active")
        .order_by(TrafficPlan.seq.desc())
        .limit(1)
    )
    return session.scalar(query)


def _next_seq(session: Session, endpoint: Endpoint) -> int:
    query = select(func.max(TrafficPlan.seq)).where(TrafficPlan.endpoint_id == endpoint.id)
    return int(session.scalar(query) or 0) + 1


def install_plan(
    uow: UnitOfWork, endpoint: Endpoint, plan: TrafficPlan, *, ending: str = "superseded"
) -> TrafficPlan:
    """Make ``plan`` the endpoint's plan; the one it replaces ends as ``ending``."""
    now = stored_now()
    before = current_plan(uow.session, endpoint)
    if before is not None:
        before.state, before.ended_at = ending, now
    plan.endpoint_id, plan.seq = endpoint.id, _next_seq(uow.session, endpoint)
    plan.state, plan.created_by, plan.created_at = "active", uow.actor, now
    plan.step_started_at = now
    uow.session.add(plan)
    endpoint.version_id = plan.primary_version_id
    endpoint.updated_by, endpoint.updated_at = uow.actor, now
    uow.session.flush()
    return plan


def record_single(uow: UnitOfWork, endpoint: Endpoint, reason: str | None = None) -> None:
    """The plan of an endpoint deployed or switched to one version without a trial."""
    plan = TrafficPlan(kind="single", primary_version_id=endpoint.version_id, share=0.0)
    plan.steps, plan.thresholds, plan.reason = [], {}, reason
    install_plan(uow, endpoint, plan)


def _audit(
    uow: UnitOfWork, action: str, endpoint: Endpoint, plan: TrafficPlan, **extra: object
) -> PlanPublic:
    uow.session.flush()
    out = plan_public(uow.session, endpoint, plan)
    summary = {"seq": out.seq, "kind": out.kind, "primary": out.primary, **extra}
    if out.challenger:
        summary["challenger"] = out.challenger
        summary["share"] = out.share
    uow.audit(action, "endpoint", endpoint.name, out.model_dump(mode="json"), summary)
    return out


# ------------------------------------------------------------------ building a plan


def _routed_version(uow: UnitOfWork, endpoint: Endpoint, ref: str, field: str) -> ModelVersion:
    version = resolve_version(uow.session, ref, field=field)
    if version.model_id != endpoint.model_id:
        raise InvalidInput(
            f"{field}: {ref} is not a version of the endpoint's model; an endpoint serves one "
            "registered model",
            field=field,
        )
    if version.status != "active":
        raise Conflict(
            f"{field}: {ref} is archived; restore it to route traffic to it", field=field
        )
    return version


def _steps(body: PlanRequest) -> list[float]:
    """Rising percents in (0, 100]; the first below 100, so there is a primary to compare
    with. Given only a share, the canary has that one step."""
    steps = body.steps
    if steps is None:
        steps = [body.share] if body.share is not None else list(DEFAULT_STEPS)
    if not steps:
        raise InvalidInput("steps: give at least one share", field="steps")
    for i, (a, b) in enumerate(zip([0.0, *steps], steps, strict=False)):
        if not 0 < b <= 100:
            raise InvalidInput(f"steps[{i}]: {b} is not a percent in (0, 100]", field="steps")
        if b <= a:
            raise InvalidInput(f"steps[{i}]: {b} does not rise above {a}", field="steps")
    if steps[0] >= 100:
        raise InvalidInput(
            "steps[0]: the first step must leave traffic on the primary to compare with",
            field="steps",
        )
    return [float(s) for s in steps]


def _check_shape(body: PlanRequest) -> None:
    if body.kind == "single":
        extras = [
            f for f in ("challenger", "share", "steps", "key") if getattr(body, f) is not None
        ]
        if extras:
            raise InvalidInput(
                f"{extras[0]}: a single plan routes to one version; leave out {', '.join(extras)}",
                field=extras[0],
            )
        return
    if body.challenger is None:
        raise InvalidInput(f"challenger: a {body.kind} plan needs a challenger", field="challenger")
    if body.kind == "ab" and body.key is None:
        raise InvalidInput(
            "key: an A-B plan needs the request field that keeps a caller on one arm "
            "(e.g. customer_id)",
            field="key",
        )
    if body.kind != "ab" and body.key is not None:
        raise InvalidInput("key: only A-B plans route by a key", field="key")
    if body.kind != "canary" and body.steps is not None:
        raise InvalidInput("steps: only canary plans have steps", field="steps")


def build_plan(
    uow: UnitOfWork, endpoint: Endpoint, body: PlanRequest
) -> tuple[TrafficPlan, dict[str, str]]:
    """A new plan row from a request, with the gate's outcome per routed version."""
    from modelward.serving.analysis import Thresholds

    _check_shape(body)
    if body.kind != "single" and endpoint.mode != "online":
        raise Conflict(
            f"kind: endpoint {endpoint.name!r} serves batch scoring; make it online "
            "(deploy update --mode online) before splitting traffic",
            field="kind",
        )
    primary = (
        _routed_version(uow, endpoint, body.primary, "primary")
        if body.primary is not None
        else uow.session.get_one(ModelVersion, endpoint.version_id)
    )
    gates: dict[str, str] = {}
    if primary.id != endpoint.version_id:
        gates["primary"] = deployment_gate(uow, primary)
    plan = TrafficPlan(kind=body.kind, primary_version_id=primary.id, auto=body.auto)
    plan.steps, plan.step_index, plan.reason = [], 0, body.reason
    plan.thresholds = Thresholds.from_dict(body.analysis).to_dict()
    plan.step_every_s = (
        parse_duration_ms(body.step_every or DEFAULT_STEP_EVERY, "step_every") // 1000
    )
    plan.share = 0.0
    if body.kind == "single":
        return plan, gates
    challenger = _routed_version(uow, endpoint, body.challenger or "", "challenger")
    if challenger.id == primary.id:
        raise InvalidInput("challenger: is the primary version itself", field="challenger")
    if body.kind in ("canary", "ab"):
        gates["challenger"] = deployment_gate(uow, challenger)
    plan.challenger_version_id = challenger.id
    plan.key_field = body.key
    if body.kind == "canary":
        plan.steps = _steps(body)
        plan.share = plan.steps[0]
    else:
        plan.share = float(
            body.share if body.share is not None else (50 if body.kind == "ab" else 100)
        )
    return plan, gates


# ------------------------------------------------------------------ operations


@operation("PUT", BASE + "/plan", role=Role.developer, tag="serving")
def set_plan(uow: UnitOfWork, name: str, body: PlanRequest) -> PlanPublic:
    """Route the endpoint's online traffic by a new plan (single, canary, shadow or A-B)."""
    lock_writes(uow)
    endpoint = get_endpoint_row(uow.session, name)
    if endpoint.status != "active":
        raise Conflict(f"endpoint {name!r} is retired", field="name")
    plan, gates = build_plan(uow, endpoint, body)
    install_plan(uow, endpoint, plan)
    return _audit(uow, "endpoint.plan", endpoint, plan, gate=gates)


@operation("POST", BASE + "/rollback", role=Role.developer, tag="serving")
def rollback(uow: UnitOfWork, name: str, body: RollbackRequest) -> PlanPublic:
    """Return to the plan before the current one, in one step."""
    lock_writes(uow)
    endpoint = get_endpoint_row(uow.session, name)
    current = current_plan(uow.session, endpoint)
    previous = _previous(uow.session, endpoint, current)
    plan = reinstated(previous)
    plan.reason = body.reason or f"rollback of plan {current.seq if current else '?'}"
    install_plan(uow, endpoint, plan, ending="rolled_back")
    return _audit(
        uow, "endpoint.rollback", endpoint, plan, from_seq=current.seq if current else None
    )


def _previous(session: Session, endpoint: Endpoint, current: TrafficPlan | None) -> TrafficPlan:
    if current is None:
        raise NotFound(f"endpoint {endpoint.name!r} has no plan to roll back", field="name")
    query = (
        select(TrafficPlan)
        .where(TrafficPlan.endpoint_id == endpoint.id, TrafficPlan.seq < current.seq)
        .order_by(TrafficPlan.seq.desc())
        .limit(1)
    )
    previous = session.scalar(query)
    if previous is None:
        raise Conflict(
            f"endpoint {endpoint.name!r} has had one plan only: there is nothing to return to",
            field="name",
        )
    return previous


def reinstated(previous: TrafficPlan) -> TrafficPlan:
    """A fresh copy of an earlier plan's routing, starting again from its first step."""
    plan = TrafficPlan(
        kind=previous.kind,
        primary_version_id=previous.primary_version_id,
        challenger_version_id=previous.challenger_version_id,
        key_field=previous.key_field,
        auto=previous.auto,
        step_every_s=previous.step_every_s,
    )
    plan.steps, plan.step_index = list(previous.steps or []), 0
    plan.thresholds = dict(previous.thresholds or {})
    plan.share = plan.steps[0] if previous.kind == "canary" and plan.steps else previous.share
    return plan


@operation("GET", BASE + "/plan", tag="serving")
def get_deployment(uow: UnitOfWork, name: str) -> DeploymentStatus:
    """The endpoint's plan, what each arm has served in the current step, the analysis
    verdict computed now, and the plan history (newest first)."""
    from modelward.serving.canary import arm_summaries, judge_plan

    endpoint = get_endpoint_row(uow.session, name)
    plan = current_plan(uow.session, endpoint)
    if plan is None:  # deployed before plans existed: it serves its version alone
        plan = TrafficPlan(kind="single", primary_version_id=endpoint.version_id, share=0.0)
        plan.seq, plan.steps, plan.step_index, plan.step_every_s = 0, [], 0, 0
        plan.thresholds, plan.auto, plan.state = {}, False, "active"
        plan.created_by, plan.created_at = endpoint.created_by, endpoint.created_at
        plan.step_started_at = endpoint.created_at
    query = (
        select(TrafficPlan)
        .where(TrafficPlan.endpoint_id == endpoint.id)
        .order_by(TrafficPlan.seq.desc())
        .limit(HISTORY)
    )
    history = [plan_public(uow.session, endpoint, p) for p in uow.session.scalars(query)]
    verdict = (
        judge_plan(uow, endpoint, plan) if plan.id is not None and plan.kind != "single" else None
    )
    return DeploymentStatus(
        endpoint=endpoint.name,
        mode=endpoint.mode,
        status=endpoint.status,
        plan=plan_public(uow.session, endpoint, plan),
        arms=arm_summaries(uow, plan) if plan.id is not None else [],
        analysis=verdict.to_dict() if verdict is not None else None,
        history=history,
    )


def step_due(plan: TrafficPlan, now_ms: int) -> bool:
    started = int(plan.step_started_at.timestamp() * 1000)
    return now_ms - started >= plan.step_every_s * 1000
