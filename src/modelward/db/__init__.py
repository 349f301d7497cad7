"""Relational store: SQLAlchemy 2 models' base, engines and Alembic migrations."""

from modelward.db.base import Base
from modelward.db.engine import make_engine

__all__ = ["Base", "make_engine"]
