"""Hot statements sent on the driver's own connection as SQL compiled once per database.

SQLAlchemy spends 30-60 µs on each statement it executes, the driver about 3 µs; a
tracked run's three writes send about a dozen statements, each in the transaction the
session already opened. ``Direct`` runs such statements inside that same transaction,
with the SQL text still produced by SQLAlchemy's compiler (never from input) and the
driver's errors still raised as SQLAlchemy's exceptions, so callers see no difference.

Only statements whose values the driver takes as they are (text, integers, floats,
booleans, bytes, ``None``) may go this way: no type conversion happens in either
direction. Statements must be module-level constants: they are cached by identity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

# (id of the statement, database, inserted columns) → (SQL text, parameter order or None,
# values the statement carries itself, such as a LIMIT)
_Compiled = tuple[str, tuple[str, ...] | None, dict[str, Any]]
_compiled: dict[tuple[int, str, tuple[str, ...]], _Compiled] = {}


class Direct:
    """The session's transaction, addressed through the driver."""

    def __init__(self, session: Session) -> None:
        conn = session.connection()
        self.dialect = conn.dialect
        self._dbapi: Any = conn.connection.dbapi_connection

    @staticmethod
    def of(session: Session) -> Direct:
        """The session's ``Direct``, made once per transaction."""
        found = session.info.get("direct")
        if found is None:
            found = session.info["direct"] = Direct(session)
        return found  # type: ignore[no-any-return]

    def _sql(self, stmt: Any, columns: tuple[str, ...] = ()) -> _Compiled:
        key = (id(stmt), self.dialect.name, columns)
        found = _compiled.get(key)
        if found is None:
            keys = list(columns) if columns else None
            compiled = stmt.compile(dialect=self.dialect, column_keys=keys)
            order = tuple(compiled.positiontup or ()) if self.dialect.positional else None
            own = {k: v for k, v in compiled.params.items() if v is not None}
            found = _compiled[key] = (str(compiled), order, own)
        return found

    def _run(self, sql: str, params: Any, many: bool) -> Any:
        cursor = self._dbapi.cursor()
        try:
            if many:
                cursor.executemany(sql, params)
            else:
                cursor.execute(sql, params)
        except self.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise sa_exc.DBAPIError.instance(
                sql, params, exc, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from exc
        return cursor

    @staticmethod
    def _bind(order: tuple[str, ...] | None, own: dict[str, Any], params: Mapping[str, Any]) -> Any:
        if own:
            params = {**own, **params}
        return params if order is None else tuple(params[name] for name in order)

    def first(self, stmt: Any, params: Mapping[str, Any] | None = None) -> Any:
        """The first row of a query (a tuple), or ``None``."""
        sql, order, own = self._sql(stmt)
        cursor = self._run(sql, self._bind(order, own, params or {}), many=False)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def execute(self, stmt: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> int:
        """Run a write once, or once per mapping; returns the rows it touched."""
        sql, order, own = self._sql(stmt)
        if isinstance(params, Mapping):
            cursor = self._run(sql, self._bind(order, own, params), many=False)
        else:
            cursor = self._run(sql, [self._bind(order, own, p) for p in params], many=True)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def insert(self, target: Any, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
        """INSERT of plain tuples in ``columns`` order into a table, or through an INSERT
        statement (an upsert), one statement for all rows."""
        stmt = target
        if isinstance(target, Table):
            stmt = _inserts.get(target.name)
            if stmt is None:
                stmt = _inserts[target.name] = insert(target)
        sql, order, _ = self._sql(stmt, columns)
        if order is None:
            params: Any = [dict(zip(columns, row, strict=True)) for row in rows]
        elif order == columns:
            params = rows
        else:
            at = [columns.index(name) for name in order]
            params = [tuple(row[i] for i in at) for row in rows]
        self._run(sql, params, many=True).close()


_inserts: dict[str, Any] = {}


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    """Drop a session's ``Direct`` when its transaction ends: the connection goes back to
    the pool, and a later transaction in the same session may get another one."""
    if transaction.parent is None:
        session.info.pop("direct", None)
