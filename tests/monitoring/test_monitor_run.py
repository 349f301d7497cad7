"""Monitor run: stores every complete window once, picks up where it left off, audits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from test_drift import DAY0, ENDPOINT, Monitoring, Scenario, deploy, log_hours, scenario, sdk

import modelward as mw
from modelward.audit.tables import AuditEvent
from modelward.monitoring.tables import MonitorResult
from modelward.monitoring.windows import DAY_MS
from support import ADMIN

__all__ = ["scenario"]  # the session fixture, shared


@pytest.fixture
def setup(sqlite_url: str, tmp_path: Any, scenario: Scenario) -> tuple[mw.Client, Monitoring]:
    client = mw.Client(sqlite_url, artifacts=str(tmp_path / "artifacts"))
    deploy(client, scenario)
    m = sdk(client)
    log_hours(m, scenario, DAY0, 2, 300, shifted=False)
    log_hours(m, scenario, DAY0 + DAY_MS, 2, 300, shifted=True, seed=300)
    return client, m


def _count(client: mw.Client, model: Any, *where: Any) -> int:
    store = client._transport.store  # type: ignore[attr-defined]
    with store.unit_of_work(ADMIN, write=False) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)))


def test_run_stores_each_window_once_and_resumes(setup: tuple[mw.Client, Monitoring]) -> None:
    client, m = setup
    first = m.monitor_run(until="2026-01-07").endpoints[0]
    assert (first.endpoint, first.window, first.windows) == (ENDPOINT, "1d", 2)
    assert set(first.drifted_features) >= {"n02", "n05", "n09", "q1", "q3"}
    stored = _count(client, MonitorResult)
    assert stored == first.results > 0
    again = m.monitor_run(until="2026-01-07").endpoints[0]
    assert again.skipped == "no complete window" and again.windows == 0
    backfill = m.monitor_backfill(ENDPOINT, since="2026-01-05", until="2026-01-07").endpoints[0]
    assert backfill.windows == 2
    assert _count(client, MonitorResult) == stored  # upserted by the unique key
    drift = _count(client, MonitorResult, MonitorResult.kind == "drift")
    assert drift == 2 * 23
    assert _count(client, AuditEvent, AuditEvent.action == "monitor.run") == 2


def test_an_endpoint_without_predictions_is_skipped(
    sqlite_url: str, tmp_path: Any, scenario: Scenario
) -> None:
    client = mw.Client(sqlite_url, artifacts=str(tmp_path / "artifacts"))
    deploy(client, scenario)
    out = sdk(client).monitor_run().endpoints[0]
    assert out.skipped == "no predictions logged" and out.results == 0


def test_stored_drift_matches_the_on_the_fly_view(setup: tuple[mw.Client, Monitoring]) -> None:
    client, m = setup
    m.monitor_run(until="2026-01-07")
    view = m.drift(ENDPOINT, since="2026-01-05", until="2026-01-07", window="1d")
    store = client._transport.store  # type: ignore[attr-defined]
    with store.unit_of_work(ADMIN, write=False) as uow:
        query = select(MonitorResult).where(MonitorResult.kind == "drift")
        rows = uow.session.scalars(query).all()
        stored = {(r.window_start_ms, r.feature): (r.statistic, r.flagged) for r in rows}
    for _, r in view.iterrows():
        key = (int(r["window_start"].timestamp() * 1000), r["feature"])
        statistic, flagged = stored[key]
        assert flagged == r["drifted"]
        assert statistic == pytest.approx(r["statistic"], nan_ok=True)
