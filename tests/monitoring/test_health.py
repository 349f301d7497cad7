"""The health index: each part's arithmetic, the weighted mean without n/a parts, the roll-up
per AI system, and the monitoring evidence policies see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from modelward import Client
from modelward.client.transport import LocalTransport
from modelward.datasets.tables import DatasetVersion
from modelward.evaluation.tables import Evaluation
from modelward.monitoring import alert_service  # noqa: F401  (registers the health operations)
from modelward.monitoring.alert_schemas import EndpointHealth, HealthPart
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.health import (
    drifted_share,
    health_of,
    monitoring_context,
    relative_score,
    weighted_score,
)
from modelward.monitoring.tables import (
    Alert,
    AlertRule,
    LabelFact,
    MonitorResult,
    PredictionId,
    PredictionSegment,
)
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import stored_now
from modelward.store import Store
from support import ADMIN

HOUR = 3_600_000
DAY = 24 * HOUR
NOW = 1_800_000_000_000  # a fixed clock: ages are exact
ENDPOINT = "fraud-api"


AlertClient = Client  # the SDK carries the health verbs


def deploy(client: Client, tmp_path: Path, *names: str) -> None:
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights", encoding="utf-8")
    client.create_model_version("fraud", artifact)
    for name in names:
        client.create_endpoint(name, "fraud/1")


@pytest.fixture
def local(store: Store, tmp_path: Path) -> AlertClient:
    client = AlertClient.over(LocalTransport(store, ADMIN))
    deploy(client, tmp_path, ENDPOINT)
    return client  # type: ignore[return-value]


def add(store: Store, endpoint: str, make: Any) -> None:
    """Rows made by ``make(endpoint_row)`` in one transaction (what the log and monitors store)."""
    with store.unit_of_work(ADMIN, write=True) as uow:
        for row in make(get_endpoint_row(uow.session, endpoint)):
            uow.session.add(row)
            uow.session.flush()


def segment(ep: Any, newest_ms: int) -> PredictionSegment:
    return PredictionSegment(
        endpoint_id=ep.id,
        version_id=ep.version_id,
        hour_ms=newest_ms - newest_ms % HOUR,
        digest="a" * 64,
        rows=10,
        min_ts_ms=newest_ms - 1000,
        max_ts_ms=newest_ms,
        source="batch",
        profile={},
        baseline_digest="0" * 64,
        created_at=stored_now(),
    )


def drift_row(ep: Any, feature: str, flagged: bool, kind: str = "drift") -> MonitorResult:
    return MonitorResult(
        endpoint_id=ep.id,
        kind=kind,
        window="1d",
        window_start_ms=NOW - 2 * DAY,
        window_end_ms=NOW - DAY,
        feature=feature,
        method="psi",
        statistic=0.3 if flagged else 0.01,
        threshold=0.2,
        p_value=None,
        flagged=flagged,
        rows=100,
        details={},
        baseline_digest="0" * 64,
        config_version=1,
        computed_at=stored_now(),
    )


def health(store: Store, endpoint: str = ENDPOINT, governance: bool = True) -> EndpointHealth:
    with store.unit_of_work(ADMIN, write=False) as uow:
        return health_of(
            uow, get_endpoint_row(uow.session, endpoint), governance=governance, now=NOW
        )


def parts(out: EndpointHealth) -> dict[str, float | None]:
    return {p.name: p.score for p in out.parts}


@pytest.mark.parametrize(
    ("age_hours", "score"), [(0, 100.0), (24, 100.0), (36, 75.0), (60, 25.0), (72, 0.0), (200, 0.0)]
)
def test_freshness_falls_from_one_cadence_to_three(
    local: AlertClient, store: Store, age_hours: int, score: float
) -> None:
    add(store, ENDPOINT, lambda ep: [segment(ep, NOW - age_hours * HOUR)])
    assert parts(health(store))["freshness"] == score


def test_freshness_follows_the_configured_cadence(local: AlertClient, store: Store) -> None:
    local.update_endpoint(ENDPOINT, config={"health": {"cadence": "1h"}})
    add(store, ENDPOINT, lambda ep: [segment(ep, NOW - 2 * HOUR)])
    assert parts(health(store))["freshness"] == 50.0


def test_stability_is_the_share_of_features_and_outputs_not_drifted(
    local: AlertClient, store: Store
) -> None:
    flags = {
        "amount": True,
        "country": True,
        "hour": False,
        "device": False,
        "__prediction__": True,
        "__score__": False,
        "__dataset__": True,
    }
    add(store, ENDPOINT, lambda ep: [drift_row(ep, f, flag) for f, flag in flags.items()])
    out = {p.name: p for p in health(store).parts}
    assert out["feature_stability"].score == 50.0
    assert out["feature_stability"].values["drifted"] == ["amount", "country"]
    assert out["prediction_stability"].score == 50.0


def test_importance_weights_the_drifted_share() -> None:
    assert drifted_share({"a": True, "b": False}, {"a": 3.0, "b": 1.0}) == (0.75, True)
    assert drifted_share({"a": True, "b": False}, {}) == (0.5, False)
    assert drifted_share({"a": True, "b": False}, {"zzz": 1.0}) == (0.5, False)


def test_relative_performance_caps_at_100_and_inverts_errors() -> None:
    assert relative_score("roc_auc", 0.72, 0.8) == pytest.approx(90.0)
    assert relative_score("roc_auc", 0.9, 0.8) == pytest.approx(112.5)  # capped by the part
    assert relative_score("rmse", 2.0, 1.5) == pytest.approx(75.0)
    assert relative_score("r2", 0.5, -0.1) is None


def holdout(store: Store, client: AlertClient, metrics: dict[str, float]) -> None:
    data = client.register_dataset("fraud-holdout", pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}))
    with store.unit_of_work(ADMIN, write=True) as uow:
        version = uow.session.get_one(
            ModelVersion, get_endpoint_row(uow.session, ENDPOINT).version_id
        )
        dv = uow.session.scalar(
            select(DatasetVersion).where(DatasetVersion.content_hash == data.content_hash)
        )
        assert dv is not None
        uow.session.add(
            Evaluation(
                id="e" * 32,
                version_id=version.id,
                model_digest=version.digest,
                dataset_version_id=dv.id,
                dataset_digest=dv.content_hash,
                name="holdout",
                task="binary",
                config={},
                results={"metrics": metrics},
                code_version={},
                created_by="test-admin",
                created_at=stored_now(),
            )
        )


def perf_row(ep: Any, feature: str, value: float, day: int) -> MonitorResult:
    return MonitorResult(
        endpoint_id=ep.id,
        kind="performance",
        window="1d",
        window_start_ms=day * DAY,
        window_end_ms=(day + 1) * DAY,
        feature=feature,
        method="realized",
        statistic=value,
        threshold=None,
        p_value=None,
        flagged=False,
        rows=100,
        details={},
        baseline_digest="0" * 64,
        config_version=1,
        computed_at=stored_now(),
    )


def test_performance_is_relative_to_the_holdout_realized_first(
    local: AlertClient, store: Store
) -> None:
    holdout(store, local, {"roc_auc": 0.8, "accuracy": 0.75})
    assert parts(health(store))["performance"] is None  # no results yet
    add(store, ENDPOINT, lambda ep: [perf_row(ep, "estimated.roc_auc", 0.76, day=5)])
    estimated = {p.name: p for p in health(store).parts}["performance"]
    assert estimated.score == 95.0 and estimated.values["source"] == "estimated"
    add(
        store,
        ENDPOINT,
        lambda ep: [perf_row(ep, "roc_auc", 0.6, day=3), perf_row(ep, "roc_auc", 0.72, day=4)],
    )
    realized = {p.name: p for p in health(store).parts}["performance"]
    assert realized.score == 90.0 and realized.values["source"] == "realized"
    assert realized.values["window"] == "1d"


def test_label_coverage_counts_labeled_predictions_of_the_window(
    local: AlertClient, store: Store
) -> None:
    assert parts(health(store))["label_coverage"] is None  # never labeled: n/a

    def rows(ep: Any) -> list[Any]:
        seg = segment(ep, NOW - HOUR)
        made: list[Any] = [seg]
        for i, ts in enumerate([NOW - HOUR, NOW - 2 * HOUR, NOW - 3 * HOUR, NOW - 4 * HOUR]):
            made.append(
                PredictionId(endpoint_id=ep.id, prediction_id=f"p{i}", segment_id=1, ts_ms=ts)
            )
        old = PredictionId(
            endpoint_id=ep.id, prediction_id="old", segment_id=1, ts_ms=NOW - 60 * DAY
        )
        made.append(old)
        for pid in ("p0", "p0", "old"):  # a relabel counts once; the old one is out of window
            made.append(
                LabelFact(
                    endpoint_id=ep.id,
                    prediction_id=pid,
                    label="1",
                    label_time_ms=NOW,
                    received_at_ms=NOW,
                )
            )
        return made

    add(store, ENDPOINT, rows)
    coverage = {p.name: p for p in health(store).parts}["label_coverage"]
    assert coverage.score == 25.0
    assert (coverage.values["labeled"], coverage.values["predictions"]) == (1, 4)
    local.update_endpoint(ENDPOINT, config={"health": {"label_coverage_target": 0.5}})
    assert parts(health(store))["label_coverage"] == 50.0


def test_governance_counts_the_card_for_an_unguarded_model(
    local: AlertClient, store: Store
) -> None:
    card = local.get_card("fraud/1").completeness["score"]
    part = {p.name: p for p in health(store).parts}["governance"]
    assert part.score == round(100 * card, 2)
    assert part.values["governed"] is False


def test_missing_parts_are_shown_and_left_out_of_the_mean(local: AlertClient, store: Store) -> None:
    out = health(store)
    scores = parts(out)
    assert scores["freshness"] == 0.0  # nothing logged yet
    na = {
        "feature_stability",
        "prediction_stability",
        "performance",
        "label_coverage",
        "latency",
        "errors",
    }
    assert {name for name, s in scores.items() if s is None} == na
    governance = scores["governance"]
    assert governance is not None
    assert out.score == round((0.0 * 1 + governance * 1) / 2, 2)


def test_the_index_is_the_weighted_mean_of_the_parts_present(
    local: AlertClient, store: Store
) -> None:
    holdout(store, local, {"roc_auc": 0.8})
    flags = {"amount": True, "hour": False, "__prediction__": False}
    add(
        store,
        ENDPOINT,
        lambda ep: [
            segment(ep, NOW),
            perf_row(ep, "roc_auc", 0.72, day=1),
            *(drift_row(ep, f, v) for f, v in flags.items()),
        ],
    )
    out = health(store, governance=False)
    # freshness 100 (w1), features 50 (w2), predictions 100 (w1), performance 90 (w2)
    assert out.score == round((100 + 2 * 50 + 100 + 2 * 90) / 6, 2)
    local.update_endpoint(ENDPOINT, config={"health": {"weights": {"performance": 0}}})
    assert health(store, governance=False).score == 75.0


def test_weighted_score_of_nothing_is_none() -> None:
    na = HealthPart(name="freshness", score=None, weight=1.0, detail="n/a")
    assert weighted_score([na]) is None
    zero = HealthPart(name="errors", score=10.0, weight=0.0, detail="")
    assert weighted_score([na, zero]) is None


def test_a_system_rolls_up_its_endpoints_on_every_transport(
    client: Client, store: Store, tmp_path: Path
) -> None:
    sdk = AlertClient.over(client._transport)
    deploy(sdk, tmp_path, "fraud-eu", "fraud-us")
    sdk.create_system("fraud-screening", risk_tier="low", models=["fraud"])
    add(store, "fraud-eu", lambda ep: [segment(ep, 2**41)])  # far in the future: fresh
    eu, us = sdk.endpoint_health("fraud-eu"), sdk.endpoint_health("fraud-us")
    assert eu.score is not None and us.score is not None and eu.score > us.score
    rolled = sdk.system_health("fraud-screening")
    assert [h.endpoint for h in rolled.endpoints] == ["fraud-eu", "fraud-us"]
    assert rolled.score == round((eu.score + us.score) / 2, 2)
    assert rolled.min == us.score


def test_monitoring_context_counts_open_drift_alerts_of_the_version(
    local: AlertClient, store: Store
) -> None:
    with store.unit_of_work(ADMIN, write=False) as uow:
        version_id = get_endpoint_row(uow.session, ENDPOINT).version_id

    def alerts(ep: Any) -> list[Any]:
        rule = AlertRule(
            id=1,
            endpoint_id=ep.id,
            name="d",
            spec={"metric": "drift.feature"},
            enabled=True,
            created_by="t",
            created_at=stored_now(),
        )
        now = stored_now()
        made: list[Any] = [rule]
        for key, status in [
            ("drift.feature|age", "open"),
            ("drift.feature|amount", "resolved"),
            ("drift.share|", "acknowledged"),
            ("quality.unseen|x", "open"),
        ]:
            made.append(
                Alert(
                    endpoint_id=ep.id,
                    rule_id=1,
                    severity="warning",
                    status=status,
                    dedup_key=key,
                    title=key,
                    details={},
                    occurrences=1,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
        return made

    add(store, ENDPOINT, alerts)
    add(store, ENDPOINT, lambda ep: [segment(ep, 2**41)])
    with store.unit_of_work(ADMIN, write=False) as uow:
        context = monitoring_context(uow.session, version_id)
        assert monitoring_context(uow.session, version_id + 1000) == {"drift_events": 0}
    assert context == {"drift_events": 2, "health": 100.0}
