"""Dataset tables: a named dataset and its immutable, numbered versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modelward.db.base import Base, JSONType, Millis


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)

    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.version"
    )


class DatasetVersion(Base):
    """One registered content of a dataset: its hash, schema, profile and Parquet blob."""

    __tablename__ = "dataset_versions"
    # Explicit names: the shared naming convention only uses the first column, and both
    # constraints start with dataset_id.
    __table_args__ = (
        UniqueConstraint("dataset_id", "version", name="uq_dataset_versions_dataset_id_version"),
        UniqueConstraint(
            "dataset_id", "content_hash", name="uq_dataset_versions_dataset_id_content_hash"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # Identity of the content (see datasets/hashing.py); the blob digest identifies the bytes.
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    num_rows: Mapped[int] = mapped_column(BigInteger)
    num_columns: Mapped[int] = mapped_column(Integer)
    schema_: Mapped[list[dict[str, Any]]] = mapped_column("schema", JSONType)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)

    # Joined: every reader of a version wants its dataset's name (references, lineage).
    dataset: Mapped[Dataset] = relationship(back_populates="versions", lazy="joined")

    @property
    def ref(self) -> str:
        return f"{self.dataset.name}/{self.version}"
