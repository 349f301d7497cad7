"""Promotion requests and approvals: four eyes, bound to the version digest and policy versions.

A request names one version and one target alias. Approvers approve or reject it; whoever
created the version or opened the request cannot. An approval counts only while the version
digest and every policy version it was given under are unchanged, and until it expires.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.errors import Conflict, Forbidden, NotFound
from modelward.governance.schemas import (
    ApprovalPublic,
    DecisionCreate,
    PromotionCreate,
    PromotionPublic,
)
from modelward.governance.tables import Approval, PromotionRequest
from modelward.operations import operation
from modelward.registry.references import check_alias, resolve_version
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork


def approval_public(row: Approval) -> ApprovalPublic:
    return ApprovalPublic(
        id=row.id,
        request_id=row.request_id,
        approver=row.approver,
        approver_role=row.approver_role,
        decision=row.decision,  # type: ignore[arg-type]
        comment=row.comment,
        digest=row.digest,
        policies=row.policy_versions,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def promotion_public(session: Session, row: PromotionRequest) -> PromotionPublic:
    version = session.get_one(ModelVersion, row.version_id)
    approvals = session.scalars(
        select(Approval).where(Approval.request_id == row.id).order_by(Approval.id)
    )
    return PromotionPublic(
        id=row.id,
        model=version.model.name,
        version=version.version,
        digest=row.digest,
        target_alias=row.target_alias,
        policies=row.policy_versions,
        status=row.status,  # type: ignore[arg-type]
        comment=row.comment,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        expires_at=row.expires_at,
        closed_at=row.closed_at,
        approvals=[approval_public(a) for a in approvals],
    )


def open_request(session: Session, version: ModelVersion, alias: str) -> PromotionRequest | None:
    return session.scalar(
        select(PromotionRequest)
        .where(
            PromotionRequest.version_id == version.id,
            PromotionRequest.target_alias == alias,
            PromotionRequest.status == "open",
        )
        .order_by(PromotionRequest.id.desc())
        .limit(1)
    )


def approvals_context(
    session: Session, version: ModelVersion, alias: str, policies: dict[str, int]
) -> dict[str, Any]:
    """What the rules see under ``approvals``: only decisions that still bind count."""
    request = open_request(session, version, alias)
    empty = {"count": 0, "rejections": 0, "approvers": [], "request_id": 0}
    if request is None:
        return empty
    now = stored_now()
    if request.expires_at is not None and request.expires_at <= now:
        return {**empty, "request_id": request.id}
    valid = [
        a
        for a in session.scalars(select(Approval).where(Approval.request_id == request.id))
        if a.digest == version.digest and a.policy_versions == policies
    ]
    approvers = sorted(a.approver for a in valid if a.decision == "approve")
    return {
        "count": len(approvers),
        "rejections": sum(1 for a in valid if a.decision == "reject"),
        "approvers": approvers,
        "request_id": request.id,
    }


def record(uow: UnitOfWork, action: str, row: PromotionRequest, **summary: Any) -> PromotionPublic:
    uow.session.flush()
    out = promotion_public(uow.session, row)
    brief = {"ref": f"{out.model}/{out.version}", "alias": out.target_alias, **summary}
    uow.audit(action, "promotion_request", row.id, out.model_dump(mode="json"), brief)
    return out


@operation(
    "POST", "/api/v1/model-versions/{ref:path}/promotions", role=Role.developer, status_code=201
)
def request_promotion(uow: UnitOfWork, ref: str, body: PromotionCreate) -> PromotionPublic:
    """Ask for ``ref`` to be moved to an alias; earlier open requests for that alias lapse."""
    from modelward.governance.gate import policies_in_force

    lock_writes(uow)
    check_alias(body.alias)
    version = resolve_version(uow.session, ref)
    if version.status != "active":
        raise Conflict(f"{ref} is archived; restore it before requesting promotion", field="ref")
    now = stored_now()
    earlier = uow.session.scalars(
        select(PromotionRequest).where(
            PromotionRequest.model_id == version.model_id,
            PromotionRequest.target_alias == body.alias,
            PromotionRequest.status == "open",
        )
    )
    for old in earlier:
        old.status, old.closed_at = "superseded", now
        record(uow, "promotion.supersede", old)
    row = PromotionRequest(
        model_id=version.model_id,
        version_id=version.id,
        digest=version.digest,
        target_alias=body.alias,
        policy_versions=policies_in_force(uow.session, version, body.alias),
        status="open",
        comment=body.comment,
        requested_by=uow.actor,
        requested_at=now,
        expires_at=now + timedelta(days=body.expires_in_days) if body.expires_in_days else None,
    )
    uow.session.add(row)
    return record(uow, "promotion.request", row)


def _decide(
    uow: UnitOfWork, request_id: int, body: DecisionCreate, decision: str
) -> PromotionPublic:
    from modelward.governance.gate import policies_in_force

    lock_writes(uow)
    row = uow.session.get(PromotionRequest, request_id)
    if row is None:
        raise NotFound(f"no promotion request {request_id}", field="request_id")
    version = uow.session.get_one(ModelVersion, row.version_id)
    ref = f"{version.model.name}/{version.version}"
    if row.status != "open":
        raise Conflict(
            f"promotion request {request_id} ({ref} to {row.target_alias}) is {row.status}; "
            "open a new request",
            field="request_id",
        )
    now = stored_now()
    if row.expires_at is not None and row.expires_at <= now:
        raise Conflict(
            f"promotion request {request_id} expired at {row.expires_at:%Y-%m-%d %H:%M}Z",
            field="request_id",
        )
    _four_eyes(uow.actor, version, row, ref)
    _same_policies(row, policies_in_force(uow.session, version, row.target_alias))
    if version.digest != row.digest:
        raise Conflict(
            f"{ref} no longer has the digest the request was opened for", field="request_id"
        )
    if uow.session.scalar(
        select(Approval).where(Approval.request_id == row.id, Approval.approver == uow.actor)
    ):
        raise Conflict(
            f"{uow.actor} has already decided on request {request_id}", field="request_id"
        )
    uow.session.add(
        Approval(
            request_id=row.id,
            approver=uow.actor,
            approver_role=uow.principal.role.name,
            decision=decision,
            comment=body.comment,
            digest=row.digest,
            policy_versions=row.policy_versions,
            created_at=now,
            expires_at=row.expires_at,
        )
    )
    # A rejection keeps the request open, so the gate sees it (approvals.rejections) and
    # says why the promotion is blocked; a new request starts over.
    return record(uow, f"promotion.{decision}", row, approver=uow.actor)


def _four_eyes(actor: str, version: ModelVersion, row: PromotionRequest, ref: str) -> None:
    if actor == version.created_by:
        raise Forbidden(
            f"four eyes: {actor} created {ref} and cannot approve its promotion", field="request_id"
        )
    if actor == row.requested_by:
        raise Forbidden(
            f"four eyes: {actor} requested this promotion and cannot approve it",
            field="request_id",
        )


def _same_policies(row: PromotionRequest, now_in_force: dict[str, int]) -> None:
    if row.policy_versions == now_in_force:
        return
    changed = sorted(
        name
        for name in set(row.policy_versions) | set(now_in_force)
        if row.policy_versions.get(name) != now_in_force.get(name)
    )
    detail = ", ".join(
        f"{n} v{row.policy_versions.get(n, '-')} -> v{now_in_force.get(n, '-')}" for n in changed
    )
    raise Conflict(
        f"the policies changed since the request was opened ({detail}); open a new request",
        field="request_id",
    )


@operation("POST", "/api/v1/promotions/{request_id}/approve", role=Role.approver)
def approve_promotion(uow: UnitOfWork, request_id: int, body: DecisionCreate) -> PromotionPublic:
    """Approve a promotion request (not one you opened, nor of a version you created)."""
    return _decide(uow, request_id, body, "approve")


@operation("POST", "/api/v1/promotions/{request_id}/reject", role=Role.approver)
def reject_promotion(uow: UnitOfWork, request_id: int, body: DecisionCreate) -> PromotionPublic:
    """Reject a promotion request: it stays on record and the gate sees the rejection
    (``approvals.rejections``); after addressing it, open a new request."""
    return _decide(uow, request_id, body, "reject")


@operation("GET", "/api/v1/promotions/{request_id}")
def get_promotion(uow: UnitOfWork, request_id: int) -> PromotionPublic:
    row = uow.session.get(PromotionRequest, request_id)
    if row is None:
        raise NotFound(f"no promotion request {request_id}", field="request_id")
    return promotion_public(uow.session, row)


@operation("GET", "/api/v1/promotions")
def list_promotions(
    uow: UnitOfWork,
    model: str | None = None,
    status: Literal["open", "completed", "superseded", "rejected", "cancelled"] | None = None,
) -> list[PromotionPublic]:
    """Promotion requests, newest first, optionally of one model or in one status."""
    from modelward.registry.references import get_model_row

    query = select(PromotionRequest)
    if model is not None:
        query = query.where(
            PromotionRequest.model_id == get_model_row(uow.session, model, "model").id
        )
    if status is not None:
        query = query.where(PromotionRequest.status == status)
    rows = uow.session.scalars(query.order_by(PromotionRequest.id.desc()).limit(1000))
    return [promotion_public(uow.session, r) for r in rows]
