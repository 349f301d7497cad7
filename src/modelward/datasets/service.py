"""Datasets service verbs: register a version, list, get, and resolve references.

Hashing, profiling and Parquet encoding happen in the SDK (``datasets/hashing.py``,
``datasets/profile.py``); the server records what it is sent once the blob is in the
artifact store, so it never imports pandas.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.datasets.schemas import (
    ColumnSchema,
    DatasetProfile,
    DatasetSummary,
    DatasetVersion,
    DatasetVersionCreate,
)
from modelward.datasets.tables import Dataset
from modelward.datasets.tables import DatasetVersion as DatasetVersionRow
from modelward.db.base import stored_now
from modelward.errors import InvalidInput, NotFound
from modelward.operations import operation
from modelward.uow import UnitOfWork
from modelward.validation import check_name

REF_RULE = "use 'name', 'name@latest' or 'name/<version>'"
_VERSION = re.compile(r"^[1-9][0-9]{0,9}$")
MAX_VERSION = 2**31 - 1  # the version column is a 32-bit INTEGER
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def parse_dataset_ref(ref: str) -> tuple[str, int | None]:
    """``name`` / ``name@latest`` → (name, None); ``name/3`` → (name, 3)."""
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(f"empty dataset reference: {REF_RULE}", field="dataset")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        if alias != "latest":
            raise InvalidInput(
                f"dataset reference {ref!r}: datasets have no alias {alias!r}; {REF_RULE}",
                field="dataset",
            )
        return check_name(name, "dataset"), None
    if "/" in ref:
        name, number = ref.rsplit("/", 1)
        if not _VERSION.match(number) or int(number) > MAX_VERSION:
            raise InvalidInput(
                f"dataset reference {ref!r}: version must be a whole number from 1 to "
                f"{MAX_VERSION}; {REF_RULE}",
                field="dataset",
            )
        return check_name(name, "dataset"), int(number)
    return check_name(ref, "dataset"), None


def resolve_dataset_version(session: Session, ref: str) -> DatasetVersionRow:
    """The version ``ref`` names, or ``NotFound(field="dataset")``."""
    name, number = parse_dataset_ref(ref)
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFound(f"no dataset named {name!r}", field="dataset")
    query = select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == dataset.id)
    if number is None:
        query = query.order_by(DatasetVersionRow.version.desc()).limit(1)
    else:
        query = query.where(DatasetVersionRow.version == number)
    row = session.scalar(query)
    if row is None:
        which = "versions" if number is None else f"version {number}"
        raise NotFound(f"dataset {name!r} has no {which}", field="dataset")
    return row


def to_public(row: DatasetVersionRow) -> DatasetVersion:
    return DatasetVersion(
        id=row.id,
        name=row.dataset.name,
        version=row.version,
        content_hash=row.content_hash,
        digest=row.digest,
        size_bytes=row.size_bytes,
        num_rows=row.num_rows,
        num_columns=row.num_columns,
        schema=[ColumnSchema.model_validate(c) for c in row.schema_],
        profile=DatasetProfile.model_validate(row.profile),
        description=row.description,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _check_consistent(body: DatasetVersionCreate) -> None:
    """Refuse a request whose schema, profile and counts disagree with each other."""
    names = [c.name for c in body.schema_]
    if len(set(names)) != len(names):
        raise InvalidInput("column names in the schema must be unique", field="schema")
    if body.num_columns != len(names):
        raise InvalidInput(
            f"num_columns is {body.num_columns} but the schema has {len(names)} columns",
            field="num_columns",
        )
    if [c.name for c in body.profile.columns] != names:
        raise InvalidInput(
            "the profile must describe the schema's columns, in order", field="profile"
        )
    if body.profile.num_rows != body.num_rows:
        raise InvalidInput("profile.num_rows differs from num_rows", field="profile")
    for col in body.profile.columns:
        if col.count + col.nulls != body.num_rows:
            raise InvalidInput(
                f"column {col.name!r}: count + nulls must equal num_rows", field="profile"
            )


def _lock_name(session: Session, name: str) -> None:
    """Serialise registrations of one dataset on PostgreSQL (SQLite writers already are)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(
        hashlib.sha256(f"dataset:{name}".encode()).digest()[:8], "big", signed=True
    )
    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


@operation("POST", "/api/v1/datasets", role=Role.developer, status_code=201)
def register_dataset_version(uow: UnitOfWork, body: DatasetVersionCreate) -> DatasetVersion:
    """Record an uploaded dataset version; the same content again returns the existing version."""
    _check_consistent(body)
    if not uow.artifacts.exists(body.digest):
        raise InvalidInput(
            f"no blob {body.digest} in the artifact store: upload the data first", field="digest"
        )
    session = uow.session
    _lock_name(session, body.name)
    dataset = session.scalar(select(Dataset).where(Dataset.name == body.name))
    now = stored_now()
    if dataset is None:
        dataset = Dataset(name=body.name, created_by=uow.actor, created_at=now)
        session.add(dataset)
        session.flush()
    else:
        same = session.scalar(
            select(DatasetVersionRow).where(
                DatasetVersionRow.dataset_id == dataset.id,
                DatasetVersionRow.content_hash == body.content_hash,
            )
        )
        if same is not None:
            return to_public(same)
    latest = session.scalar(
        select(func.max(DatasetVersionRow.version)).where(
            DatasetVersionRow.dataset_id == dataset.id
        )
    )
    row = DatasetVersionRow(
        dataset=dataset,
        version=(latest or 0) + 1,
        content_hash=body.content_hash,
        digest=body.digest,
        size_bytes=body.size_bytes,
        num_rows=body.num_rows,
        num_columns=body.num_columns,
        schema_=[c.model_dump(mode="json") for c in body.schema_],
        profile=body.profile.model_dump(mode="json"),
        description=body.description,
        created_by=uow.actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    out = to_public(row)
    summary = {"name": out.name, "version": out.version, "content_hash": out.content_hash}
    uow.audit("dataset.register", "dataset_version", out.ref, out.model_dump(mode="json"), summary)
    return out


@operation("GET", "/api/v1/datasets")
def list_datasets(uow: UnitOfWork) -> list[DatasetSummary]:
    """Every dataset with its latest version, by name."""
    V = DatasetVersionRow
    latest = (
        select(V.dataset_id, func.max(V.version).label("v"), func.count().label("n"))
        .group_by(V.dataset_id)
        .subquery()
    )
    query = (
        select(
            Dataset, latest.c.n, V.version, V.num_rows, V.num_columns, V.description, V.created_at
        )
        .join(latest, latest.c.dataset_id == Dataset.id)
        .join(V, (V.dataset_id == Dataset.id) & (V.version == latest.c.v))
        .order_by(Dataset.name)
    )
    return [
        DatasetSummary(
            id=ds.id,
            name=ds.name,
            latest_version=version,
            num_versions=n,
            num_rows=rows,
            num_columns=cols,
            description=description,
            created_by=ds.created_by,
            created_at=ds.created_at,
            updated_at=updated,
        )
        for ds, n, version, rows, cols, description, updated in uow.session.execute(query)
    ]


@operation("GET", "/api/v1/datasets/{name}/versions")
def list_dataset_versions(
    uow: UnitOfWork, name: str, content_hash: str | None = None
) -> list[DatasetVersion]:
    """The versions of a dataset, oldest first; ``content_hash`` keeps only the one with it."""
    check_name(name, "name")
    dataset = uow.session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        raise NotFound(f"no dataset named {name!r}", field="name")
    query = select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == dataset.id)
    if content_hash is not None:
        if not _HEX64.match(content_hash):
            raise InvalidInput(
                f"content_hash must be 64 lowercase hex digits, got {content_hash[:80]!r}",
                field="content_hash",
            )
        query = query.where(DatasetVersionRow.content_hash == content_hash)
    rows = uow.session.scalars(query.order_by(DatasetVersionRow.version))
    return [to_public(r) for r in rows]


@operation("GET", "/api/v1/dataset-versions/{ref:path}")
def get_dataset_version(uow: UnitOfWork, ref: str) -> DatasetVersion:
    """One dataset version by reference: ``name``, ``name@latest`` or ``name/3``."""
    return to_public(resolve_dataset_version(uow.session, ref))
