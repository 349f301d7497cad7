"""What a run records: params, metrics and tags (one batch verb), and metric history.

The batch path is the hot one: a batch's points are stored as one packed chunk per key
(``metric_chunks``), params and tags by Core ``executemany``, one query per table to
compare with what is stored, and one audit event per request carrying a digest of the
whole batch instead of one event per metric.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from modelward.auth.roles import Role
from modelward.db.base import now_ms
from modelward.db.direct import Direct
from modelward.errors import Conflict, NotFound
from modelward.operations import operation
from modelward.tracking import metric_chunks
from modelward.tracking.queries import (
    chunks_t,
    get_run_row,
    latest_t,
    params_t,
    tags_t,
    writable_status,
)
from modelward.tracking.schemas import (
    BatchResult,
    LogBatch,
    MetricPoint,
    MetricTuple,
)
from modelward.uow import UnitOfWork

_KEYS: BindParameter[Any] = bindparam("keys", expanding=True)
_STORED_PARAMS = select(params_t.c.key, params_t.c.value).where(
    params_t.c.run_id == bindparam("run_id"), params_t.c.key.in_(_KEYS)
)
_STORED_TAGS = select(tags_t.c.key, tags_t.c.value).where(
    tags_t.c.run_id == bindparam("run_id"), tags_t.c.key.in_(_KEYS)
)
_UPDATE_TAG = (
    update(tags_t)
    .where(tags_t.c.run_id == bindparam("b_run"), tags_t.c.key == bindparam("b_key"))
    .values(value=bindparam("b_value"))
)
_INSERT_PARAMS = insert(params_t)
_INSERT_TAGS = insert(tags_t)
_upserts: dict[str, Any] = {}


def batch_digest(run_id: str, body: LogBatch) -> str:
    """SHA-256 of the run id and the batch's JSON: the audit event's proof of what was logged."""
    return hashlib.sha256(f"{run_id}\n{body.model_dump_json()}".encode()).hexdigest()


@operation("POST", "/api/v1/runs/{run_id}/batch", role=Role.developer)
def log_batch(uow: UnitOfWork, run_id: str, body: LogBatch) -> BatchResult:
    """Log up to 1,000 metric points, 100 params and 100 tags to a run in one transaction."""
    session = uow.session
    writable_status(session, run_id, ended_ok=not (body.metrics or body.params))
    new_params = _log_params(session, run_id, body.params)
    changed_tags = _log_tags(session, run_id, body.tags)
    if body.metrics:
        _log_metrics(session, run_id, body.metrics)
    result = BatchResult(
        run_id=run_id, metrics=len(body.metrics), params=new_params, tags=changed_tags
    )
    if body.metrics or new_params or changed_tags:
        state = {**result.model_dump(), "sha256": batch_digest(run_id, body)}
        uow.audit("run.log_batch", "run", run_id, state, summary=result.model_dump())
    return result


def _log_params(session: Session, run_id: str, params: dict[str, str]) -> int:
    """Insert params not stored yet; a different value for a stored key is a Conflict."""
    if not params:
        return 0
    stored = dict(session.execute(_STORED_PARAMS, {"run_id": run_id, "keys": list(params)}).all())
    for key, value in params.items():
        if key in stored and stored[key] != value:
            raise Conflict(
                f"param {key!r} is already {stored[key][:100]!r} in run {run_id}; "
                f"params cannot change (refused {value[:100]!r})",
                field=f"params.{key}",
            )
    rows = [{"run_id": run_id, "key": k, "value": v} for k, v in params.items() if k not in stored]
    if rows:
        session.execute(_INSERT_PARAMS, rows)
    return len(rows)


def _log_tags(session: Session, run_id: str, tags: dict[str, str]) -> int:
    """Insert new tags and overwrite changed ones; returns how many changed."""
    if not tags:
        return 0
    stored = dict(session.execute(_STORED_TAGS, {"run_id": run_id, "keys": list(tags)}).all())
    new = [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items() if k not in stored]
    changed = [
        {"b_run": run_id, "b_key": k, "b_value": v}
        for k, v in tags.items()
        if k in stored and stored[k] != v
    ]
    if new:
        session.execute(_INSERT_TAGS, new)
    if changed:
        session.execute(_UPDATE_TAG, changed)
    return len(new) + len(changed)


_LATEST_COLUMNS = ("run_id", "key", "value", "is_nan", "step", "timestamp")
_CHUNK_COLUMNS = ("run_id", "key", "points", "data")


def _log_metrics(session: Session, run_id: str, metrics: list[MetricTuple]) -> None:
    """Append each key's points as one chunk and move each key's latest point forward."""
    now = now_ms()
    by_key: dict[str, tuple[list[float], list[int], list[int]]] = {}
    for key, value, step, timestamp in metrics:
        points = by_key.get(key)
        if points is None:
            points = by_key[key] = ([], [], [])
        points[0].append(value)
        points[1].append(step)
        points[2].append(now if timestamp is None else timestamp)
    chunks = []
    latest = []
    for key, (values, steps, stamps) in by_key.items():
        chunks.append((run_id, key, len(values), metric_chunks.pack(values, steps, stamps)))
        # The latest point has the highest (step, timestamp); a later-logged tie wins.
        _, _, i = max(zip(steps, stamps, range(len(steps)), strict=True))
        nan = math.isnan(values[i])
        latest.append((run_id, key, 0.0 if nan else values[i], nan, steps[i], stamps[i]))
    direct = Direct.of(session)
    direct.insert(chunks_t, _CHUNK_COLUMNS, chunks)
    _advance_latest(direct, latest)


def _advance_latest(direct: Direct, rows: list[tuple[Any, ...]]) -> None:
    """Upsert each key's newest point; a stored point with a higher (step, timestamp) stays."""
    dialect = direct.dialect.name
    stmt = _upserts.get(dialect)
    if stmt is None:
        stmt = _upserts[dialect] = _latest_upsert(dialect)
    direct.insert(stmt, _LATEST_COLUMNS, rows)


def _latest_upsert(dialect: str) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(latest_t)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[latest_t.c.run_id, latest_t.c.key],
        set_={
            "value": new.value,
            "is_nan": new.is_nan,
            "step": new.step,
            "timestamp": new.timestamp,
        },
        where=or_(
            new.step > latest_t.c.step,
            and_(new.step == latest_t.c.step, new.timestamp >= latest_t.c.timestamp),
        ),
    )


@operation("DELETE", "/api/v1/runs/{run_id}/tags", role=Role.developer)
def delete_run_tag(uow: UnitOfWork, run_id: str, key: str) -> None:
    """Remove one tag from a run."""
    writable_status(uow.session, run_id, ended_ok=True)
    result = uow.session.execute(
        delete(tags_t).where(tags_t.c.run_id == run_id, tags_t.c.key == key)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"run {run_id} has no tag {key[:250]!r}", field="key")
    uow.audit("run.delete_tag", "run", run_id, {"run_id": run_id, "key": key})


@operation("GET", "/api/v1/runs/{run_id}/metric-history")
def get_metric_history(uow: UnitOfWork, run_id: str, key: str) -> list[MetricPoint]:
    """Every point of one metric, by step then time then logging order."""
    get_run_row(uow.session, run_id)
    q = (
        select(chunks_t.c.data)
        .where(chunks_t.c.run_id == run_id, chunks_t.c.key == key)
        .order_by(chunks_t.c.id)
    )
    points = metric_chunks.history(uow.session.scalars(q))
    return [
        MetricPoint(key=key, value=value, step=step, timestamp=ts) for value, step, ts in points
    ]
