"""Governance tables: AI systems, their models and data, incidents, policies, promotion
requests, approvals, model cards, gate decisions and the alias history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelward.db.base import Base, JSONType, Millis


class AISystem(Base):
    """An entry of the AI register: what a model is for, who answers for it, how risky it is."""

    __tablename__ = "ai_systems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    purpose: Mapped[str] = mapped_column(Text, default="")
    business_owner: Mapped[str] = mapped_column(String(200), default="")
    technical_owner: Mapped[str] = mapped_column(String(200), default="")
    risk_tier: Mapped[str] = mapped_column(String(16), index=True)
    tier_rationale: Mapped[str] = mapped_column(Text, default="")
    decision_type: Mapped[str] = mapped_column(String(16), default="advisory")
    human_in_the_loop: Mapped[bool] = mapped_column(Boolean, default=False)
    affected_people: Mapped[str] = mapped_column(Text, default="")
    regulatory_tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    limitations: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="proposed", index=True)
    # The alias that means "in production" for this system's models.
    production_alias: Mapped[str] = mapped_column(String(128), default="champion")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(Millis)


class AISystemModel(Base):
    """A registered model belongs to at most one AI system."""

    __tablename__ = "ai_system_models"

    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ai_systems.id"), index=True)


class AISystemDataset(Base):
    """A data source of a system: a dataset version it was built from or scores."""

    __tablename__ = "ai_system_datasets"

    system_id: Mapped[int] = mapped_column(ForeignKey("ai_systems.id"), primary_key=True)
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id"), primary_key=True
    )


class Incident(Base):
    __tablename__ = "ai_system_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("ai_systems.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(Millis)
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    reported_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)
    resolved_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)


class AliasMove(Base):
    """Every move of every alias, so "what was in production on 1 March" has an answer."""

    __tablename__ = "alias_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), index=True)
    alias: Mapped[str] = mapped_column(String(128))
    # None when the alias was deleted.
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    moved_by: Mapped[str] = mapped_column(String(200))
    moved_at: Mapped[datetime] = mapped_column(Millis, index=True)


class Policy(Base):
    """One version of a policy document; the newest version of a name is the one in force."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_policies_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)


class PromotionRequest(Base):
    """A request to point ``target_alias`` at one exact version, awaiting approvals."""

    __tablename__ = "promotion_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    target_alias: Mapped[str] = mapped_column(String(128))
    # {policy name: version} in force when the request was opened; approvals bind to it.
    policy_versions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(Millis)
    expires_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("request_id", "approver", name="uq_approvals_request_id_approver"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("promotion_requests.id"), index=True)
    approver: Mapped[str] = mapped_column(String(200))
    approver_role: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64))
    policy_versions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(Millis)
    expires_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)


class ModelCard(Base):
    """The human-written sections of a version's card; every edit is a new card version."""

    __tablename__ = "model_cards"
    __table_args__ = (
        UniqueConstraint("version_id", "card_version", name="uq_model_cards_version_id_card"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    card_version: Mapped[int] = mapped_column(Integer)
    sections: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)


class GateDecision(Base):
    """What the gate saw and decided when an alias under policy moved (passed or overridden)."""

    __tablename__ = "gate_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    target_alias: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    policy_versions: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    justification: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("promotion_requests.id"), nullable=True
    )
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(Millis)
