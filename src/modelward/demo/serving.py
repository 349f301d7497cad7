"""The serving half of ``modelward demo``: ``credit-api`` goes online with the previous
champion answering, a canary sends a rising share of live requests to the retrained version,
outcomes come back as feedback, and canary analysis steps it up to all traffic."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pandas as pd

import modelward as mw
from modelward.demo.monitoring import ENDPOINT

GATEWAY_PORT = 8081
STEPS = [25.0, 50.0, 100.0]
STEP_EVERY = "2s"
# The thresholds this rollout agreed on: at least 100 requests per arm before judging; a
# credit decision may take up to 50 ms longer; and since the challenger was retrained on a
# shifted population it is meant to score it differently (PSI about 0.2 on the holdout, and
# 0.5-0.6 measured on 100 live requests per arm), so prediction drift up to 2 is accepted:
# the returned outcomes (quality) decide instead. A broken model still fails on errors or
# quality.
ANALYSIS = {"min_requests": 100, "min_latency_delta_ms": 50.0, "max_prediction_drift": 2.0}
MAX_REQUESTS = 4000


@dataclass
class ServingResult:
    url: str
    primary: str
    challenger: str
    requests: int
    by_arm: dict[str, int]
    status: Any
    steps: list[str] = field(default_factory=list)
    gateway: Any = None


def go_online(client: mw.Client) -> str:
    """``credit-api`` answers online with the version it already serves; what that is."""
    endpoint = client.update_endpoint(ENDPOINT, mode="online", status="active")
    if client.deployment_status(ENDPOINT).plan.kind != "single":  # a run cut short
        client.set_plan(ENDPOINT, "single", reason="online serving begins")
    return endpoint.ref


def start_gateway(client: mw.Client) -> Any:
    """The gateway on its usual port, or on any free one when that is taken (another
    gateway, or another demo, already listens there)."""
    from modelward.serving.background import BackgroundGateway

    store = client._transport.store  # type: ignore[attr-defined]
    options: dict[str, Any] = {"flush_every": 0.5, "refresh_every": 0.25, "analysis_every": 0.5}
    try:
        return BackgroundGateway(store, port=GATEWAY_PORT, **options)
    except OSError:
        return BackgroundGateway(store, port=0, **options)


def requests_from(data: pd.DataFrame, target: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """Applicants as JSON rows, and their outcomes for feedback."""
    from modelward.demo.scenario import features

    rows = features(data).astype(object).where(features(data).notna(), None)
    records = [{k: _plain(v) for k, v in r.items()} for r in rows.to_dict("records")]
    return records, data[target].tolist()


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def drive(
    gateway: Any, client: mw.Client, data: pd.DataFrame, target: str, done: Any
) -> tuple[int, dict[str, int], list[str]]:
    """Send applicants through the gateway (and their outcomes as feedback) until ``done``."""
    records, outcomes = requests_from(data, target)
    predict = f"{gateway.url}/v1/endpoints/{ENDPOINT}/predict"
    feedback = f"{gateway.url}/v1/endpoints/{ENDPOINT}/feedback"
    by_arm: dict[str, int] = {}
    seen_shares: list[str] = []
    ids: list[str] = []
    labels: list[Any] = []
    with httpx.Client(timeout=10) as http:
        for sent in range(1, MAX_REQUESTS + 1):
            i = sent % len(records)
            answer = http.post(predict, json={"instances": [records[i]]}).json()
            by_arm[answer["arm"]] = by_arm.get(answer["arm"], 0) + 1
            ids.append(answer["request_id"])
            labels.append(_plain(outcomes[i]))
            if sent % 100 == 0:
                http.post(feedback, json={"ids": ids, "labels": labels})
                ids, labels = [], []
                live = gateway.runtime.endpoints[ENDPOINT]
                share = f"{live.kind} {live.share:g}%" if live.kind != "single" else "single"
                if not seen_shares or seen_shares[-1] != share:
                    seen_shares.append(share)
                if done(live):
                    return sent, by_arm, seen_shares
                time.sleep(0.02)
    return MAX_REQUESTS, by_arm, seen_shares


def run_story(
    client: mw.Client, steps: Any, model: str, data: pd.DataFrame, target: str
) -> ServingResult | None:
    """Each step of the serving story, reported on ``steps``; None over HTTP (the gateway
    needs the store itself)."""
    if not hasattr(client._transport, "store"):
        return None
    challenger = client.get_version(f"{model}@champion").ref
    with steps.step(f"Taking {ENDPOINT} online") as note:
        primary = go_online(client)
        gateway = start_gateway(client)
        note(f"{primary} answers; gateway on {gateway.url} (Open Inference Protocol v2 at /v2)")
    with steps.step(f"Canary: {challenger} gets {', '.join(f'{s:g}%' for s in STEPS)}") as note:
        client.set_plan(
            ENDPOINT,
            "canary",
            challenger=challenger,
            steps=STEPS,
            step_every=STEP_EVERY,
            analysis=ANALYSIS,
            reason="roll out the retrained version",
        )
        gateway_ready = time.monotonic() + 10
        while (
            gateway.runtime.endpoints[ENDPOINT].kind != "canary"
            and time.monotonic() < gateway_ready
        ):
            time.sleep(0.05)

        def decided(live: Any) -> bool:  # completed or rolled back
            return live.kind == "single"

        sent, by_arm, shares = drive(gateway, client, data, target, decided)
        note(f"{sent:,} live requests; " + " → ".join(shares))
    status = client.deployment_status(ENDPOINT)
    return ServingResult(
        url=gateway.url,
        primary=primary,
        challenger=challenger,
        requests=sent,
        by_arm=by_arm,
        status=status,
        steps=shares,
        gateway=gateway,
    )
