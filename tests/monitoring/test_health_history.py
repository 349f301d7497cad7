"""The health trend: each past drift window's health recomputed from the stored monitor
results, the same arithmetic as the live index, and the mean per window for an AI system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import modelward as mw
from modelward.client.transport import HttpTransport, LocalTransport
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.health import health_of
from modelward.monitoring.health_history import HealthTrend
from modelward.monitoring.tables import MonitorResult
from modelward.registry.writing import stored_now
from modelward.store import Store
from support import ADMIN, token_for

DAY = 24 * 3_600_000
START = 1_790_000_000_000 - 1_790_000_000_000 % DAY
FEATURES = ("age", "amount", "duration", "purpose")


def result(ep: Any, day: int, feature: str, flagged: bool, config: int = 1) -> MonitorResult:
    return MonitorResult(
        endpoint_id=ep.id,
        kind="drift",
        window="1d",
        window_start_ms=START + day * DAY,
        window_end_ms=START + (day + 1) * DAY,
        feature=feature,
        method="psi",
        statistic=0.3 if flagged else 0.01,
        threshold=0.2,
        p_value=None,
        flagged=flagged,
        rows=100,
        details={},
        baseline_digest="0" * 64,
        config_version=config,
        computed_at=stored_now(),
    )


def store_windows(store: Store, endpoint: str, drifted: list[int], prediction: list[bool]) -> None:
    """Day ``i``: the first ``drifted[i]`` features drifted, the prediction as given."""
    with store.unit_of_work(ADMIN, write=True) as uow:
        ep = get_endpoint_row(uow.session, endpoint)
        for day, (count, pred) in enumerate(zip(drifted, prediction, strict=True)):
            for i, feature in enumerate(FEATURES):
                uow.session.add(result(ep, day, feature, i < count))
            uow.session.add(result(ep, day, "__prediction__", pred))
        uow.session.flush()


@pytest.fixture
def client(store: Store, tmp_path: Path) -> mw.Client:
    c = mw.Client.over(LocalTransport(store, ADMIN))
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights", encoding="utf-8")
    c.create_model_version("fraud", artifact)
    c.create_endpoint("fraud-api", "fraud/1")
    c.create_endpoint("fraud-eu", "fraud/1")
    return c


def trend(client: mw.Client, name: str, **kw: Any) -> HealthTrend:
    return client._transport.call("endpoint_health_trend", name=name, **kw)


def test_each_window_scores_its_own_drift_oldest_first(client: mw.Client, store: Store) -> None:
    store_windows(store, "fraud-api", [0, 1, 2, 4], [False, False, True, True])
    out = trend(client, "fraud-api")
    assert [p.window_end_ms for p in out.points] == [START + d * DAY for d in (1, 2, 3, 4)]
    assert [p.parts["feature_stability"] for p in out.points] == [100.0, 75.0, 50.0, 0.0]
    assert [p.parts["prediction_stability"] for p in out.points] == [100.0, 100.0, 0.0, 0.0]
    # No holdout evaluation: performance is n/a and the default weights 2:1 remain.
    assert all(p.parts["performance"] is None for p in out.points)
    assert [p.score for p in out.points] == [100.0, round((2 * 75 + 100) / 3, 2), 33.33, 0.0]
    assert out.change == -100.0 and out.direction == "down"


def test_the_newest_window_agrees_with_the_live_index(client: mw.Client, store: Store) -> None:
    store_windows(store, "fraud-api", [1, 3], [False, True])
    newest = trend(client, "fraud-api").points[-1]
    with store.unit_of_work(ADMIN, write=False) as uow:
        live = health_of(uow, get_endpoint_row(uow.session, "fraud-api"), governance=False)
    parts = {p.name: p.score for p in live.parts}
    assert newest.parts["feature_stability"] == parts["feature_stability"] == 25.0
    assert newest.parts["prediction_stability"] == parts["prediction_stability"] == 0.0


def test_only_the_newest_windows_and_the_newest_configuration_count(
    client: mw.Client, store: Store
) -> None:
    store_windows(store, "fraud-api", [0, 0, 0, 2, 4], [False] * 5)
    with store.unit_of_work(ADMIN, write=True) as uow:
        ep = get_endpoint_row(uow.session, "fraud-api")
        # A re-run with a newer monitor configuration replaces day 4's verdict.
        for feature in FEATURES:
            uow.session.add(result(ep, 4, feature, False, config=2))
    out = trend(client, "fraud-api", windows=2)
    assert [p.parts["feature_stability"] for p in out.points] == [50.0, 100.0]
    assert out.direction == "up" and out.change == pytest.approx(100 - (2 * 50 + 100) / 3, 0.01)


def test_no_windows_means_no_trend_and_bad_counts_are_refused(client: mw.Client) -> None:
    out = trend(client, "fraud-api")
    assert out.points == [] and out.direction == "unknown" and out.change is None
    for bad in (0, 91):
        with pytest.raises(mw.InvalidInput) as refused:
            trend(client, "fraud-api", windows=bad)
        assert refused.value.field == "windows"
    with pytest.raises(mw.NotFound):
        trend(client, "no-such-endpoint")


def test_a_system_trend_is_the_mean_of_its_endpoints_per_window(
    client: mw.Client, store: Store, live_server: Any
) -> None:
    client.create_system("fraud-screening", risk_tier="low", models=["fraud"])
    store_windows(store, "fraud-api", [0, 4], [False, False])
    store_windows(store, "fraud-eu", [0, 0], [False, False])
    remote = mw.Client.over(HttpTransport(live_server.url, token_for(store, "viewer", "v")))
    try:
        out = remote._transport.call("system_health_trend", name="fraud-screening")
    finally:
        remote.close()
    assert out.subject == "fraud-screening"
    assert [p.parts["feature_stability"] for p in out.points] == [100.0, 50.0]
    assert [p.score for p in out.points] == [100.0, pytest.approx((100 / 3 + 100) / 2, abs=0.01)]
