"""The monitor scheduler inside the server: ``monitor run`` on a timer, as its own actor."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select
from test_drift import DAY0, Scenario, deploy, log_hours, scenario, sdk

import modelward as mw
from modelward.audit.tables import AuditEvent
from modelward.errors import InvalidInput
from modelward.monitoring.scheduler import SCHEDULER, parse_every, start
from modelward.monitoring.windows import DAY_MS
from support import ADMIN

__all__ = ["scenario"]  # the session fixture, shared


def test_every_accepts_seconds_minutes_hours_and_names_the_option() -> None:
    assert (parse_every("30s"), parse_every("15m"), parse_every("1h")) == (30, 900, 3600)
    for bad in ("0s", "1d", "soon", ""):
        with pytest.raises(InvalidInput) as err:
            parse_every(bad)
        assert err.value.field == "monitor_every"


def test_the_scheduler_runs_the_monitor_until_stopped(
    sqlite_url: str, tmp_path: Any, scenario: Scenario
) -> None:
    client = mw.Client(sqlite_url, artifacts=str(tmp_path / "artifacts"))
    deploy(client, scenario)
    log_hours(sdk(client), scenario, DAY0, 2, 300, shifted=False)
    log_hours(sdk(client), scenario, DAY0 + DAY_MS, 2, 300, shifted=True, seed=300)
    store = client._transport.store  # type: ignore[attr-defined]

    def runs() -> list[str]:
        with store.unit_of_work(ADMIN, write=False) as uow:
            query = select(AuditEvent.actor).where(AuditEvent.action == "monitor.run")
            return list(uow.session.scalars(query))

    stop = start(store, 1)
    try:
        deadline = time.monotonic() + 60
        while not runs() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
    assert runs()[0] == SCHEDULER.name  # audited as the scheduler, not a person
    assert not client.drift("credit-api", since=DAY0, until=DAY0 + 2 * DAY_MS).empty
