"""Declarative base shared by every domain's tables, and the column types they use."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, MetaData, TypeDecorator
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic diffs identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Millis(TypeDecorator[datetime]):
    """A UTC instant stored as integer milliseconds: exact, sortable, same on every database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None or isinstance(value, int):
            return value
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(value / 1000, tz=UTC)


# JSONB on PostgreSQL, JSON text on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")


def ms_to_datetime(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


def stored_now() -> datetime:
    """Now, at the millisecond precision it is stored with: what a create returns is what a
    later read returns, and the audited state digest can be recomputed from the row."""
    return datetime.fromtimestamp(now_ms() / 1000, tz=UTC)
