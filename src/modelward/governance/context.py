"""The evidence context a policy sees: plain JSON values, absent evidence left out.

Policies never query the database; this module gathers, once per check, everything a rule
may ask about. Evidence that does not exist is absent (not null), so a rule that needs it
fails closed as ``missing: <path>``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from modelward.db.base import now_ms
from modelward.evaluation.tables import Evaluation
from modelward.governance.cards import build_card, completeness
from modelward.governance.evidence import (
    latest_card,
    newest_evaluations,
    newest_explanation,
)
from modelward.governance.register import system_context
from modelward.monitoring.health import monitoring_context
from modelward.registry.service import aliases_of
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


def _version_and_digest(uow: UnitOfWork, *where: Any) -> tuple[int, str]:
    found = uow.session.execute(select(ModelVersion.version, ModelVersion.digest).where(*where))
    row = found.first()
    return (row[0], row[1]) if row is not None else (0, "")


def _dataset_ref(uow: UnitOfWork, dataset_version_id: int) -> str:
    from modelward.datasets.tables import Dataset, DatasetVersion

    name, number = uow.session.execute(
        select(Dataset.name, DatasetVersion.version)
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(DatasetVersion.id == dataset_version_id)
    ).one()
    return f"{name}/{number}"


def target_context(uow: UnitOfWork, row: ModelVersion, alias: str) -> dict[str, Any]:
    number, digest = _version_and_digest(
        uow,
        ModelVersion.id == ModelAlias.version_id,
        ModelAlias.model_id == row.model_id,
        ModelAlias.alias == alias,
    )
    return {"alias": alias, "current_version": number, "current_digest": digest}


def evaluation_context(uow: UnitOfWork, row: Evaluation) -> dict[str, Any]:
    """One evaluation, its metrics lifted to the top: ``evaluations.holdout.roc_auc``."""
    results = row.results
    out: dict[str, Any] = {
        "id": row.id,
        "dataset": _dataset_ref(uow, row.dataset_version_id),
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
        number, digest = _version_and_digest(uow, ModelVersion.id == row.against_version_id)
        out["against"] = {"version": number, "digest": digest}
    return out


def _presence_evidence(
    uow: UnitOfWork, row: ModelVersion, context: dict[str, Any], evaluations: list[Evaluation]
) -> dict[str, Any]:
    """The card's evidence reduced to what completeness looks at: which parts exist.

    The full evidence (profiles, lineage, run) costs tens of queries; the gate only needs to
    know whether each part is there, and the same ``build_card`` then scores it.
    """
    inputs = [i.role for i in row.inputs if i.role == "training"]
    return {
        "version": {**context["version"], "signature": row.signature},
        "system": context.get("system"),
        "training_data": [{"ref": "", "role": role} for role in inputs],
        "evaluations": [
            {"id": e.id, "name": e.name, "task": e.task, "results": _presence(e.results)}
            for e in evaluations
        ],
        "explainability": context.get("explainability"),
        "lineage": {"run": {"id": row.run_id} if row.run_id else None},
        "deployment": {"aliases": context["version"]["aliases"]},
    }


def _presence(results: dict[str, Any]) -> dict[str, Any]:
    # Slices and per-group tables can be large and do not change what is present.
    fairness = {column: {"present": True} for column in results.get("fairness") or {}}
    return {"metrics": results.get("metrics") or {}, "fairness": fairness}


def card_context(
    uow: UnitOfWork, row: ModelVersion, context: dict[str, Any], evaluations: list[Evaluation]
) -> dict[str, Any]:
    card_row = latest_card(uow.session, row.id)
    sections = card_row.sections if card_row is not None else {}
    tier = context["system"]["risk_tier"] if "system" in context else None
    evidence = _presence_evidence(uow, row, context, evaluations)
    score = completeness(build_card(evidence, sections), tier)
    return {
        "card_version": card_row.card_version if card_row is not None else 0,
        "completeness": float(score["score"]),
        "missing": list(score["missing"]),
        "required_missing": list(score["required_missing"]),
    }


def build_context(
    uow: UnitOfWork, row: ModelVersion, alias: str, approvals: dict[str, Any], system: Any
) -> dict[str, Any]:
    """Everything the rules may read about promoting ``row`` to ``alias``.

    A handful of narrow queries: the gate runs inside every guarded alias move.
    """
    session = uow.session
    evaluations = newest_evaluations(session, row.id)
    context: dict[str, Any] = {
        "now": now_ms(),
        "version": version_context(row, aliases_of(uow, row)),
        "target": target_context(uow, row, alias),
        "evaluations": {name: evaluation_context(uow, ev) for name, ev in evaluations.items()},
        "approvals": approvals,
        "monitoring": monitoring_context(session, row.id),
    }
    if system is not None:
        context["system"] = system_context(session, system)
    explanation = newest_explanation(session, row.id)
    if explanation is not None:
        results = explanation.results
        context["explainability"] = {
            "method": explanation.method,
            "dataset": _dataset_ref(uow, explanation.dataset_version_id),
            "rows": int(results.get("rows", 0)),
            "features": list(results.get("features", [])),
            "importance": dict(results.get("importance", {})),
            "created_at": _ms(explanation.created_at),
        }
    context["card"] = card_context(uow, row, context, list(evaluations.values()))
    return context
