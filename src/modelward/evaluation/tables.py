"""Evaluation evidence: immutable results bound to the version and dataset digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from modelward.db.base import Base, JSONType, Millis


class Evaluation(Base):
    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    model_digest: Mapped[str] = mapped_column(String(64))
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    dataset_digest: Mapped[str] = mapped_column(String(64))
    # The name policies use for it: ``evaluations.holdout.roc_auc``.
    name: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(16))
    against_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id"), nullable=True
    )
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    results: Mapped[dict[str, Any]] = mapped_column(JSONType)
    code_version: Mapped[dict[str, str]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)


class Explanation(Base):
    __tablename__ = "explanations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    model_digest: Mapped[str] = mapped_column(String(64))
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"))
    dataset_digest: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType)
    results: Mapped[dict[str, Any]] = mapped_column(JSONType)
    code_version: Mapped[dict[str, str]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)
