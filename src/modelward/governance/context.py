"""The evidence context a policy sees: plain JSON values, absent evidence left out.

Policies never query the database; this module gathers, once per check, everything a rule
may ask about. Evidence that does not exist is absent (not null), so a rule that needs it
fails closed as ``missing: <path>``.
"""

from __future__ import annotations

from typing import Any

from modelward.db.base import now_ms
from modelward.evaluation.tables import Evaluation
from modelward.governance.cards import build_card, completeness
from modelward.governance.evidence import (
    aliases_of,
    card_evidence,
    latest_card,
    newest_evaluations,
    newest_explanation,
)
from modelward.governance.register import system_context, system_for_model
from modelward.registry.tables import ModelAlias, ModelVersion
from modelward.uow import UnitOfWork


def _ms(value: Any) -> int:
    return int(value.timestamp() * 1000)


def version_context(row: ModelVersion, aliases: list[str]) -> dict[str, Any]:
    return {
        "model": row.model.name,
        "version": row.version,
        "digest": row.digest,
        "flavor": row.flavor,
        "created_by": row.created_by,
        "created_at": _ms(row.created_at),
        "run_id": row.run_id or "",
        "trusted": bool(row.trusted),
        "has_signature": bool(row.signature),
        "parent_version": row.parent.version if row.parent is not None else 0,
        "aliases": aliases,
    }


def target_context(uow: UnitOfWork, row: ModelVersion, alias: str) -> dict[str, Any]:
    current = uow.session.get(ModelAlias, (row.model_id, alias))
    return {
        "alias": alias,
        "current_version": current.version.version if current is not None else 0,
        "current_digest": current.version.digest if current is not None else "",
    }


def evaluation_context(uow: UnitOfWork, row: Evaluation) -> dict[str, Any]:
    """One evaluation, its metrics lifted to the top: ``evaluations.holdout.roc_auc``."""
    from modelward.datasets.tables import DatasetVersion

    results = row.results
    dataset = uow.session.get_one(DatasetVersion, row.dataset_version_id)
    out: dict[str, Any] = {
        "id": row.id,
        "dataset": dataset.ref,
        "dataset_digest": row.dataset_digest,
        "rows": int(results.get("rows", 0)),
        "task": row.task,
        "created_at": _ms(row.created_at),
    }
    out.update({k: float(v) for k, v in (results.get("metrics") or {}).items()})
    for key in ("latency_ms", "slices", "fairness", "deltas"):
        if results.get(key) is not None:
            out[key] = results[key]
    if row.against_version_id is not None:
        against = uow.session.get_one(ModelVersion, row.against_version_id)
        out["against"] = {"version": against.version, "digest": against.digest}
    return out


def card_context(uow: UnitOfWork, row: ModelVersion, tier: str | None) -> dict[str, Any]:
    card_row = latest_card(uow.session, row.id)
    sections = card_row.sections if card_row is not None else {}
    score = completeness(build_card(card_evidence(uow, row), sections), tier)
    return {
        "card_version": card_row.card_version if card_row is not None else 0,
        "completeness": float(score["score"]),
        "missing": list(score["missing"]),
        "required_missing": list(score["required_missing"]),
    }


def build_context(
    uow: UnitOfWork, row: ModelVersion, alias: str, approvals: dict[str, Any]
) -> dict[str, Any]:
    """Everything the rules may read about promoting ``row`` to ``alias``."""
    session = uow.session
    system = system_for_model(session, row.model_id)
    context: dict[str, Any] = {
        "now": now_ms(),
        "version": version_context(row, aliases_of(session, row.id)),
        "target": target_context(uow, row, alias),
        "evaluations": {
            name: evaluation_context(uow, ev)
            for name, ev in newest_evaluations(session, row.id).items()
        },
        "card": card_context(uow, row, system.risk_tier if system is not None else None),
        "approvals": approvals,
        "monitoring": {},
    }
    if system is not None:
        context["system"] = system_context(session, system)
    explanation = newest_explanation(session, row.id)
    if explanation is not None:
        from modelward.datasets.tables import DatasetVersion

        results = explanation.results
        dataset = session.get_one(DatasetVersion, explanation.dataset_version_id)
        context["explainability"] = {
            "method": explanation.method,
            "dataset": dataset.ref,
            "rows": int(results.get("rows", 0)),
            "features": list(results.get("features", [])),
            "importance": dict(results.get("importance", {})),
            "created_at": _ms(explanation.created_at),
        }
    return context
