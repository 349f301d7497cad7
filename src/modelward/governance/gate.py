"""The promotion gate: the policies guarding an alias, evaluated on the evidence context.

``check`` reports; ``enforce`` runs inside the alias move's transaction and either lets it
through (recording the decision), lets an admin override it with a written justification
(recorded as an override), or refuses it with every rule's outcome.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelward.audit.tables import AuditEvent
from modelward.auth.roles import Role
from modelward.db.base import now_ms
from modelward.errors import Forbidden, InvalidInput, PolicyDenied
from modelward.governance.approvals import approvals_context, open_request
from modelward.governance.context import build_context
from modelward.governance.gate_eval import CompiledPolicy
from modelward.governance.policies import PolicySnapshot, policy_snapshots
from modelward.governance.policy_doc import PolicySpec
from modelward.governance.register import system_for_model
from modelward.governance.results_table import summary_line
from modelward.governance.schemas import GateDecisionPublic, GateReport, RuleOutcome
from modelward.governance.tables import GateDecision
from modelward.monitoring.health import monitoring_context
from modelward.operations import operation
from modelward.registry.references import check_alias, resolve_version
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import stored_now
from modelward.uow import UnitOfWork

MIN_JUSTIFICATION = 20

_compiled: dict[tuple[str, int, str], CompiledPolicy] = {}


def _compile(row: PolicySnapshot) -> CompiledPolicy:
    """Compiled once per policy version and process: the hot path never parses CEL."""
    key = (row.name, row.version, row.digest)
    found = _compiled.get(key)
    if found is None:
        found = _compiled[key] = CompiledPolicy(PolicySpec.model_validate(row.spec), row.version)
    return found


def guarding(
    session: Session, version: ModelVersion, alias: str, system: Any = None
) -> list[PolicySnapshot]:
    """The enabled policies in force for this version's risk tier and target alias."""
    if system is None:
        system = system_for_model(session, version.model_id)
    if system is None:
        return []
    return [
        p
        for p in policy_snapshots(session)
        if p.enabled
        and system.risk_tier in p.spec["applies_to"]["risk_tiers"]
        and alias in p.spec["applies_to"]["aliases"]
    ]


def policies_in_force(session: Session, version: ModelVersion, alias: str) -> dict[str, int]:
    return {p.name: p.version for p in guarding(session, version, alias)}


@dataclass(frozen=True)
class _Stored:
    """What the gate reads from stored state for one version and alias, at one audit head."""

    head: int
    system: str | None
    tier: str | None
    policies: list[PolicySnapshot]
    evidence: dict[str, Any]


_STORED: OrderedDict[tuple[str, int, str], _Stored] = OrderedDict()
_STORED_MAX = 512
# Parts of the context that change with the clock, not with a write: always fresh.
_LIVE = ("now", "approvals", "monitoring")


def _stored(uow: UnitOfWork, version: ModelVersion, alias: str) -> _Stored:
    """The stored evidence, reused while the audit head has not moved.

    Every change to stored state writes an audit event in its own transaction, so an
    unchanged head means unchanged evidence (the read cache relies on the same fact).
    """
    session = uow.session
    head = int(session.scalar(select(func.max(AuditEvent.seq))) or 0)
    key = (str(session.get_bind().engine.url), version.id, alias)
    found = _STORED.get(key)
    if found is not None and found.head == head:
        _STORED.move_to_end(key)
        return found
    system = system_for_model(session, version.model_id)
    policies = guarding(session, version, alias, system) if system is not None else []
    context = build_context(uow, version, alias, {}, system)
    found = _Stored(
        head=head,
        system=system.name if system is not None else None,
        tier=system.risk_tier if system is not None else None,
        policies=policies,
        evidence={k: v for k, v in context.items() if k not in _LIVE},
    )
    _STORED[key] = found
    while len(_STORED) > _STORED_MAX:
        _STORED.popitem(last=False)
    return found


def evaluate(
    uow: UnitOfWork, version: ModelVersion, alias: str, *, with_context: bool = False
) -> GateReport:
    session = uow.session
    stored = _stored(uow, version, alias)
    policies = stored.policies
    versions = {p.name: p.version for p in policies}
    context = {
        **stored.evidence,
        "now": now_ms(),
        "approvals": approvals_context(session, version, alias, versions),
        "monitoring": monitoring_context(session, version.id),
    }
    results: list[RuleOutcome] = []
    for policy in policies:
        context["policy"] = {"name": policy.name, "version": policy.version}
        results.extend(RuleOutcome(**r.to_dict()) for r in _compile(policy).evaluate(context))
    context.pop("policy", None)
    return GateReport(
        model=version.model.name,
        version=version.version,
        digest=version.digest,
        target_alias=alias,
        system=stored.system,
        risk_tier=stored.tier,
        governed=bool(policies),
        passed=all(r.outcome == "pass" for r in results),
        policies=versions,
        results=results,
        context=context if with_context else None,
    )


# Not cached: approvals expire and "now" moves without any write.
@operation("GET", "/api/v1/model-versions/{ref:path}/gate", cacheable=False)
def check_policy(uow: UnitOfWork, ref: str, to: str, context: bool = False) -> GateReport:
    """Every rule guarding a move of ``ref`` to alias ``to``: outcome, values seen, message."""
    check_alias(to, "to")
    return evaluate(uow, resolve_version(uow.session, ref), to, with_context=context)


def decision_public(row: GateDecision, version: ModelVersion) -> GateDecisionPublic:
    return GateDecisionPublic(
        id=row.id,
        model=version.model.name,
        version=version.version,
        digest=version.digest,
        target_alias=row.target_alias,
        outcome=row.outcome,  # type: ignore[arg-type]
        policies=row.policy_versions,
        results=[RuleOutcome(**r) for r in row.results],
        justification=row.justification,
        request_id=row.request_id,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
    )


def enforce(
    uow: UnitOfWork, version: ModelVersion, alias: str, override: str | None
) -> dict[str, Any] | None:
    """Let a guarded alias move through, record why, or refuse it naming every failed rule.

    Returns a summary for the alias event (None when no policy guards the alias).
    """
    if not guarding(uow.session, version, alias):  # cheap: most aliases are not guarded
        if override is not None:
            raise InvalidInput(
                f"override: no policy guards {alias!r} for this model; nothing to override",
                field="override",
            )
        return None
    report = evaluate(uow, version, alias)
    if not report.passed and override is None:
        failed = [r for r in report.results if r.outcome != "pass"]
        raise PolicyDenied(
            f"moving {report.model}@{alias} to version {report.version} is refused: "
            f"{summary_line(cast(Any, report.results))}",
            field="alias",
            gate=report.model_dump(mode="json"),
            failed=[r.rule for r in failed],
        )
    outcome = "pass" if report.passed else "override"
    if outcome == "override":
        _check_override(uow, override)
    request = open_request(uow.session, version, alias)
    row = GateDecision(
        model_id=version.model_id,
        version_id=version.id,
        target_alias=alias,
        outcome=outcome,
        policy_versions=report.policies,
        results=[r.model_dump(mode="json") for r in report.results],
        justification=(override or "") if outcome == "override" else "",
        request_id=request.id if request is not None else None,
        decided_by=uow.actor,
        decided_at=stored_now(),
    )
    uow.session.add(row)
    if request is not None:
        from modelward.governance.approvals import record

        request.status, request.closed_at = "completed", row.decided_at
        record(uow, "promotion.complete", request)
    uow.session.flush()
    out = decision_public(row, version)
    summary = {"ref": f"{out.model}/{out.version}", "alias": alias, "outcome": outcome}
    uow.audit(f"gate.{outcome}", "gate_decision", row.id, out.model_dump(mode="json"), summary)
    return {"gate": outcome, "gate_decision": row.id}


def failed_results(report: GateReport) -> list[Any]:
    return [r for r in report.results if r.outcome != "pass"]


def _check_override(uow: UnitOfWork, justification: str | None) -> None:
    if uow.principal.role < Role.admin:
        raise Forbidden(
            "override: only the admin role may override a policy gate", field="override"
        )
    if justification is None or len(justification.strip()) < MIN_JUSTIFICATION:
        raise InvalidInput(
            f"override: write a justification of at least {MIN_JUSTIFICATION} characters",
            field="override",
        )
