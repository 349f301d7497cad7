"""``search_runs``: parsed filters and orderings turned into one SQLAlchemy query.

Metric conditions test ``run_latest_metrics`` (one row per run and key) through EXISTS
subqueries; orderings outer-join the same tables so runs lacking the key sort last.
Every user value is a bound parameter.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, not_, or_, select
from sqlalchemy.sql import Select

from modelward.db.base import Millis
from modelward.errors import InvalidInput, NotFound
from modelward.operations import operation
from modelward.tracking.filters import ATTRIBUTES, Condition, parse_filter, parse_order_by
from modelward.tracking.queries import (
    experiments_t,
    latest_t,
    params_t,
    run_rows,
    runs_public,
    runs_t,
    tags_t,
)
from modelward.tracking.schemas import RunPage, RunSearch
from modelward.uow import UnitOfWork

_KEYED = {"params": params_t, "tags": tags_t}


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    ops = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        "<=": column.__le__,
        ">": column.__gt__,
        ">=": column.__ge__,
    }
    return ops[op](value)  # type: ignore[no-any-return]


def like_to_glob(pattern: str) -> str:
    """A LIKE pattern (``%``, ``_``, backslash escapes) as a case-sensitive SQLite GLOB."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            i += 1
            ch = pattern[i]
            out.append(f"[{ch}]" if ch in "*?[" else ch)
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        else:
            out.append(f"[{ch}]" if ch in "*?[" else ch)
        i += 1
    return "".join(out)


def _string_test(column: Any, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
    """String comparisons that behave the same on SQLite and PostgreSQL."""
    negated = op.startswith("not ")
    base = op.removeprefix("not ")
    if base == "in":
        test = column.in_(list(value))
    elif base == "like":
        # SQLite's LIKE ignores case; GLOB does not, which is what LIKE means on PostgreSQL.
        if dialect == "sqlite":
            test = column.op("GLOB", is_comparison=True)(like_to_glob(value))
        else:
            test = column.like(value, escape="\\")
    elif base == "ilike":
        test = column.ilike(value, escape="\\")
    else:
        test = _compare(column, op, value)
        return test
    return not_(test) if negated else test


def condition_sql(cond: Condition, dialect: str) -> ColumnElement[bool]:
    """One parsed condition as a boolean SQL expression over ``runs``."""
    ident, op, value = cond.ident, cond.op, cond.value
    if ident.entity == "metrics":
        # NaN is stored as a flag: it satisfies only "!=".
        test = _compare(latest_t.c.value, op, value)
        test = or_(latest_t.c.is_nan, test) if op == "!=" else and_(~latest_t.c.is_nan, test)
        return exists().where(latest_t.c.run_id == runs_t.c.id, latest_t.c.key == ident.key, test)
    if ident.entity in _KEYED:
        t = _KEYED[ident.entity]
        test = _string_test(t.c.value, op, value, dialect)
        return exists().where(t.c.run_id == runs_t.c.id, t.c.key == ident.key, test)
    column = runs_t.c[ATTRIBUTES[ident.key][0]]
    return _string_test(column, op, value, dialect)


def _order_columns(
    query: Select[Any], items: list[str], dialect: str
) -> tuple[Select[Any], list[Any]]:
    """Outer-join what each order item needs; missing values sort last either way."""
    order: list[Any] = []
    for n, item in enumerate(parse_order_by(items)):
        ident = item.ident
        column: Any
        missing: Any
        if ident.entity == "attributes":
            column = runs_t.c[ATTRIBUTES[ident.key][0]]
            missing = column.is_(None)
        else:
            table = latest_t if ident.entity == "metrics" else _KEYED[ident.entity]
            alias = table.alias(f"order_{n}")
            on = and_(alias.c.run_id == runs_t.c.id, alias.c.key == ident.key)
            query = query.outerjoin(alias, on)
            column = alias.c.value
            missing = column.is_(None)
            if table is latest_t:
                missing = or_(missing, alias.c.is_nan)
        if dialect == "postgresql" and ident.entity in ("params", "tags", "attributes"):
            # Byte order, as SQLite sorts, whatever collation the database was created with.
            if not isinstance(column.type, Millis):
                column = column.collate("C")
        order.append(case((missing, 1), else_=0))
        order.append(column.desc() if item.descending else column.asc())
    return query, order


def _fingerprint(body: RunSearch) -> str:
    raw = json.dumps([body.experiments, body.filter, body.order_by, body.include_deleted])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _encode_token(offset: int, body: RunSearch) -> str:
    raw = json.dumps({"o": offset, "q": _fingerprint(body)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str | None, body: RunSearch) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset, fingerprint = int(data["o"]), str(data["q"])
    except Exception:
        raise InvalidInput(
            "page_token is not a token this server issued", field="page_token"
        ) from None
    if fingerprint != _fingerprint(body) or offset < 0:
        raise InvalidInput(
            "page_token belongs to a different search (experiments, filter or order changed)",
            field="page_token",
        )
    return offset


def _experiment_ids(uow: UnitOfWork, names: list[str]) -> list[int]:
    q = select(experiments_t.c.name, experiments_t.c.id).where(experiments_t.c.name.in_(names))
    found = dict(uow.session.execute(q).all())
    missing = [n for n in names if n not in found]
    if missing:
        raise NotFound(f"no experiment named {', '.join(map(repr, missing))}", field="experiments")
    return list(found.values())


@operation("POST", "/api/v1/runs/search", write=False)
def search_runs(uow: UnitOfWork, body: RunSearch) -> RunPage:
    """Runs of the experiments matching a filter, ordered and paginated."""
    conditions = parse_filter(body.filter)
    offset = _decode_token(body.page_token, body)
    dialect = uow.session.get_bind().dialect.name
    # Ids first: sorting narrow rows is cheaper; the page's full rows are read by key after.
    query: Any = select(runs_t.c.id)
    query, order = _order_columns(query, body.order_by, dialect)
    query = query.where(runs_t.c.experiment_id.in_(_experiment_ids(uow, body.experiments)))
    if not body.include_deleted:
        query = query.where(runs_t.c.lifecycle == "active")
    for cond in conditions:
        query = query.where(condition_sql(cond, dialect))
    query = query.order_by(*order, runs_t.c.start_time.desc(), runs_t.c.id)
    ids = uow.session.scalars(query.offset(offset).limit(body.max_results + 1)).all()
    more = len(ids) > body.max_results
    ids = ids[: body.max_results]
    token = _encode_token(offset + len(ids), body) if more else None
    rows = run_rows(uow.session, ids)
    return RunPage(runs=runs_public(uow.session, rows), next_page_token=token)
