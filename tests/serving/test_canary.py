"""Automated canary analysis in a live gateway: step up, complete, pause, roll back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from conftest import ENDPOINT, FEATURES, Served, applicants, rows
from support import LiveGateway


@pytest.fixture
def analysing(sqlite_served: Served) -> Iterator[LiveGateway]:
    gw = LiveGateway(sqlite_served.store, analysis_every=0.3)
    yield gw
    gw.stop()


def drive(gw: LiveGateway, until: object, limit: int = 1500) -> int:
    """Send single-row requests, and every 20 their outcomes as feedback, until
    ``until(runtime)`` holds; how many were sent."""
    url = f"{gw.url}/v1/endpoints/{ENDPOINT}"
    ids: list[str] = []
    labels: list[int] = []
    with httpx.Client(timeout=10) as http:
        for sent in range(1, limit + 1):
            applicant = applicants(1, seed=sent)
            row = {k: float(v) for k, v in applicant[FEATURES].iloc[0].items()}
            answer = http.post(f"{url}/predict", json={"instances": [row]})
            assert answer.status_code == 200
            ids.append(answer.json()["request_id"])
            labels.append(int(applicant["bad"].iloc[0]))
            if sent % 20 == 0:
                feedback = http.post(f"{url}/feedback", json={"ids": ids, "labels": labels})
                assert feedback.status_code == 201, feedback.text
                ids, labels = [], []
                time.sleep(0.05)
                if until(gw.runtime):  # type: ignore[operator]
                    return sent
    raise AssertionError(f"no change after {limit} requests")


def kind(rt: object) -> str:
    return rt.endpoints[ENDPOINT].kind  # type: ignore[attr-defined,no-any-return]


def test_a_worse_challenger_is_rolled_back_on_its_own(
    sqlite_served: Served, analysing: LiveGateway
) -> None:
    client = sqlite_served.client
    client.set_plan(
        ENDPOINT,
        "canary",
        challenger=sqlite_served.flipped,
        steps=[50, 100],
        step_every="1h",
        analysis={"min_requests": 40, "min_labels": 50},
    )
    analysing.wait_for(lambda rt: kind(rt) == "canary")
    drive(analysing, lambda rt: kind(rt) == "single")
    status = client.deployment_status(ENDPOINT)
    assert status.plan.kind == "single" and status.plan.primary == sqlite_served.good
    assert status.plan.reason.startswith("automatic rollback")
    canary = status.history[1]
    assert canary.state == "rolled_back" and canary.verdict["outcome"] == "fail"
    failed = [c["name"] for c in canary.verdict["checks"] if c["outcome"] == "fail"]
    # It answers the opposite of the truth: its accuracy on the returned outcomes collapses.
    assert "quality" in failed
    events = client.list_audit_events(action="endpoint.auto_rollback")
    assert len(events) == 1 and "quality" in str(events[0].summary)


def test_a_sound_challenger_steps_up_and_takes_over(
    sqlite_served: Served, analysing: LiveGateway
) -> None:
    client = sqlite_served.client
    client.set_plan(
        ENDPOINT,
        "canary",
        challenger=sqlite_served.better,
        steps=[20, 60],
        step_every="1s",
        analysis={"min_requests": 30},
    )
    analysing.wait_for(lambda rt: kind(rt) == "canary")
    drive(analysing, lambda rt: rt.endpoints[ENDPOINT].primary.ref == sqlite_served.better)
    status = client.deployment_status(ENDPOINT)
    assert status.plan.kind == "single" and status.plan.primary == sqlite_served.better
    assert [p.state for p in status.history[:2]] == ["active", "completed"]
    steps = client.list_audit_events(action="endpoint.canary_step")
    assert [e.summary["share"] for e in steps] == [60.0]
    assert client.list_audit_events(action="endpoint.canary_complete")


def test_too_little_traffic_pauses_instead_of_failing(
    sqlite_served: Served, analysing: LiveGateway
) -> None:
    client = sqlite_served.client
    client.set_plan(
        ENDPOINT,
        "canary",
        challenger=sqlite_served.flipped,
        steps=[50],
        analysis={"min_requests": 5000},
    )
    analysing.wait_for(lambda rt: kind(rt) == "canary")
    url = f"{analysing.url}/v1/endpoints/{ENDPOINT}/predict"
    for i in range(60):
        httpx.post(url, json={"instances": rows(1, seed=i)})
    analysing.runtime.flush()
    status = client.deployment_status(ENDPOINT)
    assert status.plan.kind == "canary"
    assert status.analysis is not None and status.analysis["outcome"] == "pause"
    assert sum(a.requests for a in status.arms) == 60
    time.sleep(1)
    assert client.deployment_status(ENDPOINT).plan.kind == "canary"
