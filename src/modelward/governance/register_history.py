"""What a system had in production, and when: its models' production-alias moves as intervals.

Each move of the alias opens an interval that the next move closes: ``[from, until)``. A
move that deletes the alias opens an interval with no version. Asked about one instant, the
answer is the interval containing it, for every model of the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.audit.service import parse_instant
from modelward.db.base import ms_to_datetime
from modelward.errors import InvalidInput
from modelward.governance.register import BASE, get_system_row
from modelward.governance.register_schemas import AliasInterval
from modelward.governance.tables import AISystem, AISystemModel, AliasMove
from modelward.operations import operation
from modelward.registry.tables import ModelAlias, RegisteredModel
from modelward.uow import UnitOfWork


@dataclass(frozen=True)
class _Move:
    version: int | None
    at: datetime
    by: str


def _moves(session: Session, model: RegisteredModel, alias: str) -> list[_Move]:
    rows = session.scalars(
        select(AliasMove)
        .where(AliasMove.model_id == model.id, AliasMove.alias == alias)
        .order_by(AliasMove.moved_at, AliasMove.id)
    )
    moves = [_Move(r.version, r.moved_at, r.moved_by) for r in rows]
    if not moves:
        # An alias set before moves were recorded: known from its last change only.
        current = session.get(ModelAlias, (model.id, alias))
        if current is not None:
            moves = [_Move(current.version.version, current.updated_at, current.updated_by)]
    return moves


def _interval(
    model: str,
    alias: str,
    version: int | None,
    start: datetime | None,
    end: datetime | None,
    by: str | None,
) -> AliasInterval:
    fields = {"model": model, "alias": alias, "version": version, "from": start, "until": end}
    return AliasInterval.model_validate({**fields, "moved_by": by})


def _intervals(model: str, alias: str, moves: list[_Move]) -> list[AliasInterval]:
    if not moves:
        return []
    ends: list[datetime | None] = [m.at for m in moves[1:]] + [None]
    return [
        _interval(model, alias, m.version, m.at, end, m.by)
        for m, end in zip(moves, ends, strict=True)
    ]


def _at(model: str, alias: str, moves: list[_Move], instant: datetime) -> AliasInterval:
    for interval in reversed(_intervals(model, alias, moves)):
        if interval.from_ is not None and interval.from_ <= instant:
            return interval
    # Before the first move the alias did not exist yet.
    first = moves[0].at if moves else None
    return _interval(model, alias, None, None, first, None)


def _system_models(session: Session, system: AISystem) -> list[RegisteredModel]:
    query = (
        select(RegisteredModel)
        .join(AISystemModel, AISystemModel.model_id == RegisteredModel.id)
        .where(AISystemModel.system_id == system.id)
        .order_by(RegisteredModel.name)
    )
    return list(session.scalars(query))


def production_history(
    session: Session, system: AISystem, at: datetime | None = None
) -> list[AliasInterval]:
    """The system's production timeline, or (with ``at``) one interval per model."""
    alias = system.production_alias
    out: list[AliasInterval] = []
    for model in _system_models(session, system):
        moves = _moves(session, model, alias)
        if at is None:
            out.extend(_intervals(model.name, alias, moves))
        else:
            out.append(_at(model.name, alias, moves, at))
    return out


@operation("GET", BASE + "/{name}/history", tag="register")
def system_history(uow: UnitOfWork, name: str, at: str | None = None) -> list[AliasInterval]:
    """Which version each model's production alias pointed at: at ``at``, or over time.

    ``at`` is an ISO 8601 date or date-time (a date means its midnight UTC; a time without a
    zone is UTC).
    """
    system = get_system_row(uow.session, name)
    return production_history(uow.session, system, _instant(at))


def _instant(at: str | None) -> datetime | None:
    ms = parse_instant(at, "at")
    try:
        return ms_to_datetime(ms)
    except (OverflowError, ValueError, OSError):  # an offset pushed it out of the calendar
        raise InvalidInput(f"at: {at!r} is out of range", field="at") from None
