"""The monitoring half of ``modelward demo``: four weeks of scoring traffic whose population
shifts, outcomes arriving a week later, a drift alert whose trigger retrains the model, the
new version through the gate, and a report a person can read."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

import modelward as mw
from modelward.demo import traffic
from modelward.demo.governance import APPROVERS, acting_as, try_promotion

ENDPOINT = "credit-api"
RULE = "population-drift"
REPORT_HTML = "credit-api-report.html"
REPORT_PNG = "credit-api-drift.png"


@dataclass
class MonitoringResult:
    endpoint: Any
    logged: int
    labelled: int
    run: Any
    drifted_features: list[str]
    alert: Any
    retrained: Any
    promoted: Any
    health: Any
    report: str


def deploy(client: mw.Client, model: str) -> Any:
    """``credit-api`` serves ``model@champion`` in batch mode (created once, then updated)."""
    try:
        client.get_endpoint(ENDPOINT)
    except mw.NotFound:
        return client.create_endpoint(ENDPOINT, f"{model}@champion", mode="batch")
    return client.update_endpoint(ENDPOINT, model=f"{model}@champion", status="active")


def score_and_log(client: mw.Client, model: str, data: pd.DataFrame, target: str) -> pd.DataFrame:
    """Score four weeks of applicants with the champion and log every prediction (backfill)."""
    from modelward.demo.scenario import POSITIVE, features

    now = int(time.time() * 1000)
    applicants = traffic.applicants(data, target, now)
    run = f"{now:x}"  # each demo run adds its own traffic
    applicants["__id__"] = run + "-" + applicants["__id__"]
    scorer = client.load_model(f"{model}@champion")
    X = features(applicants.drop(columns=["__ts__", "__id__"]))
    p_bad = scorer.predict_proba(X)[:, list(scorer.classes_).index(POSITIVE)]
    client.log_predictions(
        ENDPOINT,
        X,
        scorer.predict(X),
        ids=applicants["__id__"],
        timestamps=applicants["__ts__"],
        scores=1.0 - p_bad,  # the positive class of the baseline's score (classes_[1])
    )
    return applicants


def outcomes(client: mw.Client, applicants: pd.DataFrame, target: str, now: int) -> pd.DataFrame:
    """Outcomes known a week after each decision: labels joined by id, and the labelled
    production data the retraining job reads."""
    from modelward.demo.retrain import RECENT_DATASET, RECENT_HOLDOUT

    known = traffic.labelled(applicants, now)
    label_time = known["__ts__"] + traffic.LABEL_LAG_DAYS * traffic.DAY_MS
    client.log_labels(ENDPOINT, known["__id__"], known[target], label_time=label_time)
    shifted = known[known["__ts__"] >= known["__ts__"].min() + traffic.SHIFT_DAY * traffic.DAY_MS]
    shifted = shifted.sort_values("__ts__").drop(columns=["__ts__", "__id__"])
    cut = len(shifted) * 2 // 3  # the newest third judges the retrained model
    for name, part, what in (
        (RECENT_DATASET, shifted.iloc[:cut], "for retraining"),
        (RECENT_HOLDOUT, shifted.iloc[cut:], "the newest, held out for evaluation"),
    ):
        client.register_dataset(
            name, part.reset_index(drop=True), f"labelled production applicants, {what}"
        )
    return known


def alert_rule(client: mw.Client) -> None:
    """Drift on a fifth of the (importance-weighted) features for a day starts retraining."""
    if any(r.name == RULE for r in client.list_alert_rules(ENDPOINT)):
        return
    spec = {
        "metric": "drift.share",
        "threshold": 0.2,
        "window": "1d",
        "severity": "critical",
        "cooldown": "1m",
        "sinks": [{"kind": "audit"}],
        "trigger": {
            "kind": "command",
            "argv": [sys.executable, "-m", "modelward.demo.retrain"],
            "timeout": 900,
        },
    }
    client.add_alert_rule(ENDPOINT, RULE, spec)


def newest_alert(client: mw.Client) -> Any:
    alerts = [a for a in client.list_alerts(ENDPOINT) if a.metric.startswith("drift.")]
    return client.get_alert(max(alerts, key=lambda a: a.id).id) if alerts else None


def retrained_request(client: mw.Client, model: str, alert: Any, after: int) -> Any:
    """The promotion request the trigger's retraining opened; when the trigger did not run
    (an alert still open from an earlier demo run), the demo runs the job itself."""
    opened = [p for p in client.list_promotions(model, status="open") if p.id > after]
    if not opened:
        from modelward.demo import retrain

        saved = os.environ.get("MODELWARD_ALERT_ID")
        os.environ["MODELWARD_ALERT_ID"] = str(alert.id if alert else "manual")
        try:
            retrain.main()
        finally:
            os.environ.pop("MODELWARD_ALERT_ID")
            if saved is not None:
                os.environ["MODELWARD_ALERT_ID"] = saved
        opened = [p for p in client.list_promotions(model, status="open") if p.id > after]
    return opened[0]


def approve_and_promote(client: mw.Client, model: str, request: Any) -> Any:
    for name in APPROVERS:
        acting_as(client, name).approve(request.id, "retrained on recent data; evidence reviewed")
    refused = try_promotion(client, model, request.version)
    if refused is not None:
        failed = [r["rule"] for r in refused["results"] if r["outcome"] != "pass"]
        raise mw.Conflict(f"the retrained version fails the gate: {', '.join(failed)}")
    # credit-api keeps answering with the version it has: the serving story rolls the new
    # champion out to it by a canary.
    return client.get_version(f"{model}@champion")


def write_report(client: mw.Client, since: int, until: int) -> str:
    from modelward.config import home_dir
    from modelward.monitoring.report import collect, render_html, render_png

    data = collect(client, ENDPOINT, since, until, "1d")
    html, png = home_dir() / REPORT_HTML, home_dir() / REPORT_PNG
    html.write_text(render_html(data), encoding="utf-8")
    png.write_bytes(render_png(data))
    return str(html)


def run_story(client: mw.Client, steps: Any, model: str, data: pd.DataFrame, target: str) -> Any:
    """Each step of the monitoring story, through the public SDK, reported on ``steps``."""
    with steps.step(f"Deploying {ENDPOINT} (batch scoring)") as note:
        endpoint = deploy(client, model)
        note(f"{ENDPOINT} → {endpoint.ref}")
    with steps.step("Scoring four weeks of applicants; the population shifts in week 3") as note:
        applicants = score_and_log(client, model, data, target)
        note(f"{len(applicants):,} predictions logged, backdated over {traffic.DAYS} days")
    now = int(time.time() * 1000)
    with steps.step("Outcomes arrive a week after each decision") as note:
        known = outcomes(client, applicants, target, now)
        note(f"{len(known):,} labels joined by prediction id")
    with steps.step("Monitoring: drift alert with a retraining trigger") as note:
        alert_rule(client)
        requests = client.list_promotions(model)
        after = max((p.id for p in requests), default=0)
        since = int(applicants["__ts__"].min())
        summary = client.monitor_run(ENDPOINT, since=since).endpoints[0]
        alert = newest_alert(client)
        note(
            f"{summary.windows} daily windows, {summary.drifted_windows} drifted "
            f"({', '.join(summary.drifted_features[:4])}); "
            + (f"alert {alert.id}: {alert.title}" if alert else "no alert")
        )
    with steps.step("Retrained version, evaluated and explained, asks for promotion") as note:
        request = retrained_request(client, model, newest_alert(client), after)
        note(f"{request.model}/{request.version}: promotion request {request.id}")
    with steps.step("Two approvals; the retrained version passes the gate") as note:
        promoted = approve_and_promote(client, model, request)
        note(f"{model}@champion → v{promoted.version}")
    alert = newest_alert(client)
    if alert is not None and alert.status != "resolved":
        with steps.step(f"Resolving alert {alert.id}: the retrained version is champion"):
            client.resolve_alert(alert.id)
    with steps.step("Monitoring report and health") as note:
        report = write_report(client, since, now)
        health = client.endpoint_health(ENDPOINT)
        score = "n/a" if health.score is None else f"{health.score:.0f}/100"
        note(f"{os.path.basename(report)}; health {score}")
    return MonitoringResult(
        endpoint=client.get_endpoint(ENDPOINT),
        logged=len(applicants),
        labelled=len(known),
        run=summary,
        drifted_features=summary.drifted_features,
        alert=newest_alert(client),
        retrained=request,
        promoted=promoted,
        health=health,
        report=report,
    )
