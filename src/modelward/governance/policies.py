"""Policies as code: YAML documents of CEL rules, versioned and audited like models."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.errors import NotFound
from modelward.governance.policy_doc import PolicySpec, parse_policy
from modelward.governance.schemas import PolicyApply, PolicyPublic, PolicyRule
from modelward.governance.tables import Policy
from modelward.operations import operation
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork
from modelward.validation import check_name

DEFAULTS = Path(__file__).parent / "default_policies"


def policy_public(row: Policy) -> PolicyPublic:
    spec = row.spec
    return PolicyPublic(
        name=row.name,
        version=row.version,
        digest=row.digest,
        description=spec.get("description", ""),
        risk_tiers=spec["applies_to"]["risk_tiers"],
        aliases=spec["applies_to"]["aliases"],
        enabled=row.enabled,
        rules=[PolicyRule(**r) for r in spec["rules"]],
        document=row.document,
        created_by=row.created_by,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class PolicySnapshot:
    """What the gate needs of a policy version, safe to share between requests."""

    name: str
    version: int
    digest: str
    spec: dict[str, Any]
    enabled: bool


_in_force: dict[str, tuple[tuple[Any, ...], list[PolicySnapshot]]] = {}


def policy_snapshots(session: Session) -> list[PolicySnapshot]:
    """The version in force of every policy, from a per-store cache.

    Policy versions are immutable rows that are only ever added, so (max id, count) names
    the set exactly; the gate asks on every guarded alias move and pays one small query.
    """
    key = str(session.get_bind().engine.url)
    marker = tuple(session.execute(select(func.max(Policy.id), func.count(Policy.id))).one())
    cached = _in_force.get(key)
    if cached is not None and cached[0] == marker:
        return cached[1]
    snapshots = [
        PolicySnapshot(r.name, r.version, r.digest, r.spec, r.enabled)
        for r in latest_policies(session)
    ]
    _in_force[key] = (marker, snapshots)
    return snapshots


def latest_policies(session: Session) -> list[Policy]:
    """The version in force of every policy name, as rows."""
    newest = (
        select(Policy.name, func.max(Policy.version).label("v")).group_by(Policy.name).subquery()
    )
    query = select(Policy).join(
        newest, (Policy.name == newest.c.name) & (Policy.version == newest.c.v)
    )
    return list(session.scalars(query.order_by(Policy.name)))


def _store(uow: UnitOfWork, document: str, spec: PolicySpec) -> tuple[Policy, bool]:
    """Save ``document`` as the next version of its policy, unless it is already in force."""
    digest = hashlib.sha256(document.encode()).hexdigest()
    current = uow.session.scalar(
        select(Policy).where(Policy.name == spec.name).order_by(Policy.version.desc()).limit(1)
    )
    if current is not None and current.digest == digest:
        return current, False
    row = Policy(
        name=spec.name,
        version=(current.version + 1) if current is not None else 1,
        document=document,
        digest=digest,
        spec=spec.model_dump(mode="json"),
        enabled=spec.enabled,
        created_by=uow.actor,
        created_at=stored_now(),
    )
    uow.session.add(row)
    uow.session.flush()
    out = policy_public(row)
    summary = {"name": row.name, "version": row.version, "enabled": row.enabled}
    uow.audit(
        "policy.apply", "policy", f"{row.name}/{row.version}", out.model_dump(mode="json"), summary
    )
    return row, True


# Approver: a policy decides what reaches production; developers propose, risk owners decide.
@operation("POST", "/api/v1/policies", role=Role.approver, status_code=201)
def apply_policy(uow: UnitOfWork, body: PolicyApply) -> PolicyPublic:
    """Save a policy document: a new version when it changed, the current one when not."""
    spec = parse_policy(body.document)
    lock_writes(uow)
    row, _ = _store(uow, body.document, spec)
    return policy_public(row)


@operation("GET", "/api/v1/policies")
def list_policies(uow: UnitOfWork) -> list[PolicyPublic]:
    """Every policy at the version in force."""
    return [policy_public(r) for r in latest_policies(uow.session)]


@operation("GET", "/api/v1/policies/{name}")
def get_policy(uow: UnitOfWork, name: str, version: int | None = None) -> PolicyPublic:
    """A policy at the version in force, or at ``version``."""
    check_name(name, "name")
    query = select(Policy).where(Policy.name == name)
    if version is not None:
        query = query.where(Policy.version == version)
    row = uow.session.scalar(query.order_by(Policy.version.desc()).limit(1))
    if row is None:
        which = f" version {version}" if version is not None else ""
        raise NotFound(f"no policy {name!r}{which}", field="name")
    return policy_public(row)


def ensure_default_policies(uow: UnitOfWork) -> list[PolicyPublic]:
    """Install each shipped default policy whose name the store does not have yet."""
    known = set(uow.session.scalars(select(Policy.name).distinct()))
    installed = []
    for path in sorted(DEFAULTS.glob("*.yaml")):
        document = path.read_text(encoding="utf-8")
        spec = parse_policy(document)
        if spec.name not in known:
            row, _ = _store(uow, document, spec)
            installed.append(policy_public(row))
    return installed


@operation("POST", "/api/v1/policies/install-defaults", role=Role.approver)
def install_default_policies(uow: UnitOfWork) -> list[PolicyPublic]:
    """Install the shipped per-tier policies that are missing; existing ones are kept."""
    lock_writes(uow)
    return ensure_default_policies(uow)
