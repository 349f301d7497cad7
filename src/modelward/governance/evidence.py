"""The stored evidence about one version, gathered once for the gate, the card and the pack."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.datasets.tables import DatasetVersion
from modelward.evaluation.service import evaluation_public, explanation_public
from modelward.evaluation.tables import Evaluation, Explanation
from modelward.governance.register import system_for_model, system_public
from modelward.governance.tables import AISystem, ModelCard
from modelward.registry.service import version_public
from modelward.registry.tables import ModelVersion
from modelward.uow import UnitOfWork


def newest_evaluations(session: Session, version_id: int) -> dict[str, Evaluation]:
    """The newest evaluation of each name (``holdout``, ``stress``, …) of a version."""
    rows = session.scalars(
        select(Evaluation)
        .where(Evaluation.version_id == version_id)
        .order_by(Evaluation.created_at, Evaluation.id)
    )
    return {row.name: row for row in rows}  # later rows win


def newest_explanation(session: Session, version_id: int) -> Explanation | None:
    return session.scalar(
        select(Explanation)
        .where(Explanation.version_id == version_id)
        .order_by(Explanation.created_at.desc(), Explanation.id.desc())
        .limit(1)
    )


def latest_card(session: Session, version_id: int) -> ModelCard | None:
    return session.scalar(
        select(ModelCard)
        .where(ModelCard.version_id == version_id)
        .order_by(ModelCard.card_version.desc())
        .limit(1)
    )


def card_evidence(uow: UnitOfWork, row: ModelVersion) -> dict[str, Any]:
    """Everything a model card is generated from (see governance/cards.py)."""
    from modelward.registry.lineage import get_version_lineage

    session = uow.session
    system = system_for_model(session, row.model_id)
    public = version_public(row, uow)
    lineage = get_version_lineage(uow, public.ref)
    training = []
    for used in public.inputs:
        if used.role != "training":  # a holdout is evaluation data, not training data
            continue
        dv = session.scalar(
            select(DatasetVersion).where(DatasetVersion.content_hash == used.content_hash)
        )
        if dv is None:
            continue
        training.append(
            {
                "ref": used.ref,
                "digest": dv.digest,
                "num_rows": dv.num_rows,
                "num_columns": dv.num_columns,
                "schema": dv.schema_,
                "profile": dv.profile,
                "role": used.role,
            }
        )
    explanation = newest_explanation(session, row.id)
    production_alias = system.production_alias if system is not None else "champion"
    return {
        "version": {
            **public.model_dump(mode="json", exclude={"inputs", "flavor_meta", "tags"}),
            "model": row.model.name,
            "parent_version": row.parent.version if row.parent is not None else None,
        },
        "system": system_public(session, system).model_dump(mode="json") if system else None,
        "training_data": training,
        "evaluations": [
            evaluation_public(e, uow).model_dump(mode="json")
            for e in newest_evaluations(session, row.id).values()
        ],
        "explainability": _explanation(explanation, uow),
        "lineage": {
            "run": lineage.run.model_dump(mode="json") if lineage.run else None,
            "datasets": [d.model_dump(mode="json") for d in lineage.datasets],
            "parent": row.parent.version if row.parent is not None else None,
            "code": lineage.code.model_dump(mode="json") if lineage.code else None,
        },
        "deployment": {
            "aliases": public.aliases,
            "production_alias": production_alias,
            "in_production": production_alias in public.aliases,
        },
    }


def _explanation(row: Explanation | None, uow: UnitOfWork) -> dict[str, Any] | None:
    if row is None:
        return None
    public = explanation_public(row, uow)
    return {
        "method": public.method,
        "features": public.results.get("features", []),
        "importance": public.results.get("importance", {}),
        "rows": public.results.get("rows", 0),
        "dataset": public.dataset,
        "created_at": public.created_at.isoformat(),
    }


def tier_of(system: AISystem | None) -> str | None:
    return system.risk_tier if system is not None else None
