"""Registry tables: registered models, immutable versions, their inputs, aliases and tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modelward.db.base import Base, JSONType, Millis


class RegisteredModel(Base):
    __tablename__ = "registered_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)
    updated_at: Mapped[datetime] = mapped_column(Millis)
    # The last version number handed out; never decreases, so a deleted version's
    # number is never reused and "name/3" means one artifact forever.
    last_version: Mapped[int] = mapped_column(Integer, default=0)

    # Loaded on access: resolving ``name@alias`` must not pull every alias, its version
    # and that version's tags. Listings ask for them with selectinload.
    tags: Mapped[list[ModelTag]] = relationship(
        order_by="ModelTag.key", cascade="all, delete-orphan", lazy="select"
    )
    aliases: Mapped[list[ModelAlias]] = relationship(
        order_by="ModelAlias.alias", cascade="all, delete-orphan", lazy="select"
    )


class ModelTag(Base):
    __tablename__ = "model_tags"

    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    flavor: Mapped[str] = mapped_column(String(32))
    # What the flavor needs to load the artifact again (e.g. the types skops was told to trust).
    flavor_meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    run_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("runs.id"), nullable=True, index=True
    )
    parent_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id"), nullable=True, index=True
    )
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)

    model: Mapped[RegisteredModel] = relationship(lazy="joined", innerjoin=True)
    parent: Mapped[ModelVersion | None] = relationship(remote_side=[id], lazy="select")
    tags: Mapped[list[ModelVersionTag]] = relationship(
        order_by="ModelVersionTag.key", cascade="all, delete-orphan", lazy="selectin"
    )
    inputs: Mapped[list[ModelVersionInput]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class ModelVersionInput(Base):
    """A dataset version the model version was trained or evaluated on (copied from its run)."""

    __tablename__ = "model_version_inputs"

    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), primary_key=True)
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(64), primary_key=True)


class ModelVersionTag(Base):
    __tablename__ = "model_version_tags"

    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelAlias(Base):
    __tablename__ = "model_aliases"

    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(128), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(Millis)

    version: Mapped[ModelVersion] = relationship(lazy="joined", innerjoin=True)
