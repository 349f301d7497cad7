"""Statements sent through the driver behave as SQLAlchemy's would, in the same transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelward.db.direct import Direct
from modelward.store import Store
from modelward.tracking.queries import experiments_t

_BY_NAME = select(experiments_t.c.id, experiments_t.c.name).where(
    experiments_t.c.name == bindparam("name")
)
_COLUMNS = ("name", "description", "created_by", "created_at")


def _row(name: str) -> tuple[str, str, str, int]:
    return (name, "", "tester", 1)


def test_writes_share_the_sessions_transaction(store: Store) -> None:
    with Session(bind=store.engine) as session:
        with session.begin():
            Direct.of(session).insert(experiments_t, _COLUMNS, [_row("kept")])
            # Visible to the ORM inside the same transaction, and to Direct.
            assert session.execute(_BY_NAME, {"name": "kept"}).first() is not None
            assert Direct.of(session).first(_BY_NAME, {"name": "kept"})[1] == "kept"
        with pytest.raises(RuntimeError), session.begin():
            Direct.of(session).insert(experiments_t, _COLUMNS, [_row("rolled-back")])
            raise RuntimeError("the change is abandoned")
    with store.engine.connect() as conn:
        names = {r.name for r in conn.execute(select(experiments_t.c.name))}
    assert names == {"kept"}


def test_a_new_transaction_gets_a_new_direct(store: Store) -> None:
    with Session(bind=store.engine) as session:
        with session.begin():
            first = Direct.of(session)
        with session.begin():
            assert Direct.of(session) is not first


def test_driver_errors_are_sqlalchemys(store: Store) -> None:
    with Session(bind=store.engine) as session, session.begin():
        direct = Direct.of(session)
        direct.insert(experiments_t, _COLUMNS, [_row("twice")])
        with pytest.raises(IntegrityError):
            direct.insert(experiments_t, _COLUMNS, [_row("twice")])
