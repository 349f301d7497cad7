"""Model card service verbs: write the human sections (a new card version each time), read the
card generated from the evidence and merged with them, as JSON, Markdown or HTML."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from modelward.auth.roles import Role
from modelward.governance.cards import (
    build_card,
    completeness,
    render_html,
    render_markdown,
    validate_sections,
)
from modelward.governance.evidence import card_evidence, latest_card
from modelward.governance.register import system_for_model
from modelward.governance.schemas import CardPublic, CardUpdate
from modelward.governance.tables import ModelCard
from modelward.operations import operation
from modelward.registry.references import resolve_version
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork

CardFormat = Literal["json", "markdown", "html"]


def card_public(
    uow: UnitOfWork, version: ModelVersion, row: ModelCard | None, fmt: CardFormat = "json"
) -> CardPublic:
    sections = row.sections if row is not None else {}
    card = build_card(card_evidence(uow, version), sections)
    system = system_for_model(uow.session, version.model_id)
    return CardPublic(
        model=version.model.name,
        version=version.version,
        card_version=row.card_version if row is not None else 0,
        sections=sections,
        card=card,
        completeness=completeness(card, system.risk_tier if system is not None else None),
        markdown=render_markdown(card) if fmt == "markdown" else None,
        html=render_html(card) if fmt == "html" else None,
        created_by=row.created_by if row is not None else None,
        created_at=row.created_at if row is not None else None,
    )


@operation("PUT", "/api/v1/model-versions/{ref:path}/card", role=Role.developer)
def update_card(uow: UnitOfWork, ref: str, body: CardUpdate) -> CardPublic:
    """Write human sections of a version's card; each write is a new, audited card version."""
    lock_writes(uow)
    version = resolve_version(uow.session, ref)
    given = validate_sections(body.sections)
    previous = latest_card(uow.session, version.id)
    merged = given if body.replace or previous is None else {**previous.sections, **given}
    sections = validate_sections(merged)
    if previous is not None and previous.sections == sections:
        return card_public(uow, version, previous)
    row = ModelCard(
        version_id=version.id,
        card_version=(previous.card_version + 1) if previous is not None else 1,
        sections=sections,
        created_by=uow.actor,
        created_at=stored_now(),
    )
    uow.session.add(row)
    uow.session.flush()
    out = card_public(uow, version, row)
    state = {
        "model": out.model,
        "version": out.version,
        "card_version": out.card_version,
        "sections": sections,
    }
    summary = {"ref": f"{out.model}/{out.version}", "card_version": out.card_version}
    uow.audit("model_card.update", "model_card", f"{out.model}/{out.version}", state, summary)
    return out


@operation("GET", "/api/v1/model-versions/{ref:path}/card")
def get_card(
    uow: UnitOfWork, ref: str, format: CardFormat = "json", card_version: int | None = None
) -> CardPublic:
    """A version's card: generated evidence merged with the human sections, and its score."""
    version = resolve_version(uow.session, ref)
    if card_version is None:
        row = latest_card(uow.session, version.id)
    else:
        row = uow.session.scalar(
            select(ModelCard).where(
                ModelCard.version_id == version.id, ModelCard.card_version == card_version
            )
        )
        if row is None and card_version != 0:
            from modelward.errors import NotFound

            raise NotFound(f"{ref} has no card version {card_version}", field="card_version")
    return card_public(uow, version, row, format)
