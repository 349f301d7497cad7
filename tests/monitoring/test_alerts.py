"""Alert rules over monitor results: validation, dedup, cooldown, lifecycle, sinks."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from modelward import Client
from modelward.audit.tables import AuditEvent
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.errors import Conflict, Forbidden, InvalidInput
from modelward.monitoring import alert_service  # noqa: F401  (registers the alert operations)
from modelward.monitoring.alert_schemas import AlertPublic
from modelward.monitoring.alerts import evaluate_alerts
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.tables import MonitorResult
from modelward.registry.writing import stored_now
from modelward.store import Store
from support import ADMIN

DAY = 86_400_000


AlertClient = Client  # the SDK carries the alert verbs


def alerting(client: Client) -> AlertClient:
    return AlertClient.over(client._transport)  # type: ignore[return-value]


ENDPOINT = "credit-api"


class Receiver:
    """A real HTTP endpoint on loopback that keeps every JSON body it is sent."""

    def __init__(self, status: int = 200) -> None:
        received: list[Any] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def deploy(client: Client, tmp_path: Path, name: str = ENDPOINT) -> None:
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights", encoding="utf-8")
    client.create_model_version("scorer", artifact)
    client.create_endpoint(name, "scorer/1")


@pytest.fixture
def local(store: Store, tmp_path: Path) -> AlertClient:
    client = AlertClient.over(LocalTransport(store, ADMIN))
    deploy(client, tmp_path)
    return client  # type: ignore[return-value]


def result(
    kind: str,
    feature: str,
    statistic: float | None,
    *,
    flagged: bool = False,
    day: int = 0,
    method: str = "psi",
    rows: int = 100,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return dict(
        kind=kind,
        feature=feature,
        statistic=statistic,
        flagged=flagged,
        window="1d",
        window_start_ms=day * DAY,
        window_end_ms=(day + 1) * DAY,
        method=method,
        rows=rows,
        details=details or {},
    )


def monitor(
    store: Store, rows: list[dict[str, Any]], endpoint: str = ENDPOINT
) -> list[AlertPublic]:
    """Persist result rows as a monitor run does (upsert by window and feature), then call
    its alert hook."""
    with store.unit_of_work(ADMIN, write=True) as uow:
        ep = get_endpoint_row(uow.session, endpoint)
        found = []
        for r in rows:
            key = {k: r[k] for k in ("kind", "window", "window_start_ms", "feature")}
            row = uow.session.scalar(select(MonitorResult).filter_by(endpoint_id=ep.id, **key))
            if row is None:
                row = MonitorResult(
                    endpoint_id=ep.id,
                    baseline_digest="0" * 64,
                    config_version=ep.config_version,
                    threshold=None,
                    p_value=None,
                )
                uow.session.add(row)
            for name, value in r.items():
                setattr(row, name, value)
            row.computed_at = stored_now()
            found.append(row)
        uow.session.flush()
        return evaluate_alerts(uow, ep, found)


def audit_actions(store: Store, prefix: str) -> list[tuple[str, str]]:
    with store.unit_of_work(ADMIN, write=False) as uow:
        rows = uow.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
        return [(r.action, r.actor) for r in rows if r.action.startswith(prefix)]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"metric": "drift.magic", "threshold": 1}, "spec.metric"),
        ({"metric": "drift.share"}, "spec.threshold"),
        ({"metric": "drift.share", "threshold": "high"}, "spec.threshold"),
        ({"metric": "drift.share", "threshold": 0.5, "op": ">"}, "spec.op"),
        ({"metric": "drift.share", "threshold": 0.5, "severity": "fatal"}, "spec.severity"),
        ({"metric": "drift.share", "threshold": 0.5, "cooldown": "6 hours"}, "spec.cooldown"),
        ({"metric": "drift.share", "threshold": 0.5, "window": "0d"}, "spec.window"),
        ({"metric": "drift.share", "threshold": 0.5, "colour": "red"}, "spec.colour"),
        ({"metric": "health", "threshold": 50, "sinks": [{"kind": "pager"}]}, "spec.sinks[0].kind"),
        (
            {"metric": "health", "threshold": 50, "sinks": [{"kind": "webhook", "url": "ftp://x"}]},
            "spec.sinks[0].url",
        ),
        (
            {"metric": "health", "threshold": 50, "sinks": [{"kind": "command", "argv": []}]},
            "spec.sinks[0].argv",
        ),
        ({"metric": "health", "threshold": 50, "trigger": {"kind": "email"}}, "spec.trigger.kind"),
        (
            {
                "metric": "health",
                "threshold": 50,
                "trigger": {"kind": "command", "argv": ["x"], "timeout": -1},
            },
            "spec.trigger.timeout",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(
    local: AlertClient, spec: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        local.add_alert_rule(ENDPOINT, "r1", spec)
    assert caught.value.field == field
    assert field in caught.value.message


def test_rules_get_defaults_are_listed_disabled_and_audited(
    local: AlertClient, store: Store
) -> None:
    rule = local.add_alert_rule(
        ENDPOINT, "auc-low", {"metric": "performance.roc_auc", "threshold": 0.7}
    )
    assert rule.spec["op"] == "<="
    assert rule.spec["severity"] == "warning"
    assert rule.spec["cooldown"] == "6h"
    assert rule.spec["sinks"] == [{"kind": "audit"}]
    with pytest.raises(Conflict):
        local.add_alert_rule(ENDPOINT, "auc-low", {"metric": "health", "threshold": 50})
    assert local.disable_alert_rule(ENDPOINT, "auc-low").enabled is False
    assert [r.enabled for r in local.list_alert_rules(ENDPOINT)] == [False]
    # A disabled rule does not fire.
    assert monitor(store, [result("performance", "roc_auc", 0.5, method="realized")]) == []
    actions = [a for a, _ in audit_actions(store, "alert_rule.")]
    assert actions == ["alert_rule.create", "alert_rule.disable"]


def test_a_viewer_cannot_add_rules(store: Store, local: AlertClient) -> None:
    viewer = AlertClient.over(LocalTransport(store, Principal("val", Role.viewer)))
    with pytest.raises(Forbidden):
        viewer.add_alert_rule(ENDPOINT, "r", {"metric": "health", "threshold": 50})


def test_drifted_features_open_one_alert_each_and_notify_every_sink(
    local: AlertClient, store: Store, receiver: Receiver, tmp_path: Path
) -> None:
    out = tmp_path / "notified.jsonl"
    script = (
        "import json, os, sys; alert = json.load(sys.stdin); "
        "open(sys.argv[1], 'a').write(json.dumps([alert['subject'], "
        "os.environ['MODELWARD_ALERT_METRIC']]) + '\\n')"
    )
    sinks = [
        {"kind": "webhook", "url": receiver.url},
        {"kind": "command", "argv": [sys.executable, "-c", script, str(out)]},
        {"kind": "audit"},
    ]
    local.add_alert_rule(
        ENDPOINT, "drift", {"metric": "drift.feature", "severity": "critical", "sinks": sinks}
    )
    alerts = monitor(
        store,
        [
            result("drift", "age", 0.31, flagged=True),
            result("drift", "amount", 0.02),
            result("drift", "purpose", 0.4, flagged=True, method="jensenshannon"),
            result("drift", "__dataset__", 0.66),
        ],
    )
    assert sorted(a.subject for a in alerts) == ["age", "purpose"]
    assert all(a.opened and a.notified and a.severity == "critical" for a in alerts)
    bodies = sorted(receiver.received, key=lambda b: b["modelward"]["subject"])
    assert [b["modelward"]["subject"] for b in bodies] == ["age", "purpose"]
    assert "credit-api" in bodies[0]["text"] and "age" in bodies[0]["text"]
    lines = sorted(json.loads(line) for line in out.read_text().splitlines())
    assert lines == [["age", "drift.feature"], ["purpose", "drift.feature"]]
    notes = local.get_alert(alerts[0].id).details["notifications"]
    assert [n["kind"] for n in notes] == ["webhook", "command", "audit"]
    assert all(n["ok"] for n in notes)
    assert [a for a, _ in audit_actions(store, "alert.")].count("alert.notify") == 2


def test_a_repeat_counts_without_notifying_within_the_cooldown(
    local: AlertClient, store: Store, receiver: Receiver
) -> None:
    local.add_alert_rule(
        ENDPOINT,
        "share",
        {
            "metric": "drift.share",
            "threshold": 0.5,
            "sinks": [{"kind": "webhook", "url": receiver.url}],
        },
    )
    first = monitor(store, [result("drift", "__dataset__", 0.6, day=0)])
    again = monitor(store, [result("drift", "__dataset__", 0.8, day=1)])
    rerun = monitor(store, [result("drift", "__dataset__", 0.8, day=1)])  # same window again
    below = monitor(store, [result("drift", "__dataset__", 0.1, day=2)])
    assert [a.opened for a in first + again] == [True, False]
    assert again[0].id == first[0].id
    assert again[0].occurrences == 2 and again[0].notified is False
    assert again[0].value == 0.8
    assert rerun == [] and below == []
    assert len(receiver.received) == 1
    assert local.list_alerts(ENDPOINT)[0].occurrences == 2


def test_lifecycle_records_who_and_a_recurrence_opens_a_new_alert(
    local: AlertClient, store: Store
) -> None:
    local.add_alert_rule(
        ENDPOINT, "nulls", {"metric": "quality.null_rate", "threshold": 0.1, "cooldown": "1m"}
    )
    opened = monitor(store, [result("quality", "age", 0.3, method="null_rate")])[0]
    assert opened.subject == "age" and opened.status == "open"
    acked = local.acknowledge_alert(opened.id)
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", "test-admin")
    repeat = monitor(store, [result("quality", "age", 0.4, method="null_rate", day=1)])[0]
    assert repeat.id == opened.id and repeat.status == "acknowledged"
    resolved = local.resolve_alert(opened.id)
    assert (resolved.status, resolved.resolved_by) == ("resolved", "test-admin")
    with pytest.raises(Conflict):
        local.acknowledge_alert(opened.id)
    recurred = monitor(store, [result("quality", "age", 0.5, method="null_rate", day=2)])[0]
    assert recurred.id != opened.id and recurred.opened
    # Still within the 1m cooldown of the first notification: no second notification.
    assert recurred.notified is False
    assert [a.status for a in local.list_alerts(ENDPOINT)] == ["open", "resolved"]
    actions = [a for a, _ in audit_actions(store, "alert.")]
    assert actions == [
        "alert.open",
        "alert.notify",
        "alert.acknowledge",
        "alert.resolve",
        "alert.open",
    ]


def test_a_failing_webhook_is_recorded_and_the_run_goes_on(
    local: AlertClient, store: Store
) -> None:
    refused = Receiver(status=500)
    try:
        dead = "http://127.0.0.1:9/hook"  # discard port: nothing listens
        sinks = [
            {"kind": "webhook", "url": dead, "timeout": 1},
            {"kind": "webhook", "url": refused.url},
            {"kind": "audit"},
        ]
        local.add_alert_rule(
            ENDPOINT, "auc", {"metric": "performance.roc_auc", "threshold": 0.7, "sinks": sinks}
        )
        alerts = monitor(store, [result("performance", "roc_auc", 0.61, method="realized")])
    finally:
        refused.close()
    notes = local.get_alert(alerts[0].id).details["notifications"]
    assert [n["ok"] for n in notes] == [False, False, True]
    assert "ConnectError" in notes[0]["error"]
    assert notes[1]["status"] == 500


def test_metrics_read_the_right_rows(local: AlertClient, store: Store) -> None:
    local.add_alert_rule(ENDPOINT, "auc", {"metric": "performance.roc_auc", "threshold": 0.7})
    local.add_alert_rule(
        ENDPOINT, "est", {"metric": "performance.estimated.roc_auc", "threshold": 0.7}
    )
    local.add_alert_rule(
        ENDPOINT, "unseen", {"metric": "quality.unseen", "threshold": 0.05, "window": "1d"}
    )
    local.add_alert_rule(
        ENDPOINT, "volume", {"metric": "quality.volume", "op": "<=", "threshold": 0.5}
    )
    local.add_alert_rule(
        ENDPOINT, "hourly", {"metric": "quality.unseen", "threshold": 0.05, "window": "1h"}
    )
    alerts = monitor(
        store,
        [
            result("performance", "roc_auc", 0.8, method="realized"),
            result("performance", "estimated.roc_auc", 0.6, method="cbpe"),
            result("quality", "purpose", None, method="quality", details={"unseen": 0.2}),
            result("quality", "age", 0.9, method="null_rate"),
            result("quality", "__volume__", 0.2, method="volume"),
            result("quality", "job", 0.9, method="unseen", rows=0),
        ],
    )
    found = sorted((a.rule, a.subject, a.value) for a in alerts)
    assert found == [("est", "", 0.6), ("unseen", "purpose", 0.2), ("volume", "__volume__", 0.2)]


def test_the_alert_api_answers_on_every_transport_and_store(
    client: Client, store: Store, tmp_path: Path
) -> None:
    client = alerting(client)
    deploy(client, tmp_path)
    client.add_alert_rule(ENDPOINT, "share", {"metric": "drift.share", "threshold": 0.5})
    opened = monitor(store, [result("drift", "__dataset__", 0.75)])[0]
    listed = client.list_alerts(ENDPOINT, status="open")
    assert [(a.id, a.rule, a.metric, a.value) for a in listed] == [
        (opened.id, "share", "drift.share", 0.75)
    ]
    assert client.acknowledge_alert(opened.id).status == "acknowledged"
    assert client.list_alerts(status="open") == []
    assert client.get_alert(opened.id).trigger_runs == []
    with pytest.raises(InvalidInput):
        client.list_alerts(status="closed")


def test_cli_adds_rules_and_moves_alerts(
    local: AlertClient, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from modelward.cli import alerts as cli

    app = typer.Typer()
    cli.register(app)
    monkeypatch.setattr(cli, "get_client", lambda: local)
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "alert-rules",
            "add",
            ENDPOINT,
            "share",
            "--metric",
            "drift.share",
            "--threshold",
            "0.5",
            "--audit",
        ],
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["alert-rules", "list", ENDPOINT, "--json"])
    assert json.loads(listed.output)[0]["spec"]["sinks"] == [{"kind": "audit"}]
    opened = monitor(store, [result("drift", "__dataset__", 0.9)])[0]
    shown = runner.invoke(app, ["alerts", "list", "--status", "open", "--json"])
    assert [a["id"] for a in json.loads(shown.output)] == [opened.id]
    assert runner.invoke(app, ["alerts", "ack", str(opened.id)]).exit_code == 0
    resolved = runner.invoke(app, ["alerts", "resolve", str(opened.id)])
    assert f"alert {opened.id} resolved" in resolved.output
    detail = runner.invoke(app, ["alerts", "show", str(opened.id)])
    assert "notified audit" in detail.output


@pytest.mark.parametrize(
    ("metric", "op"),
    [
        ("performance.roc_auc", "<="),
        ("performance.estimated.accuracy", "<="),
        ("performance.rmse", ">="),
        ("performance.log_loss", ">="),
        ("health", "<="),
        ("drift.share", ">="),
    ],
)
def test_the_default_direction_alerts_when_the_metric_gets_worse(metric: str, op: str) -> None:
    from modelward.monitoring.alerts import validate_spec

    assert validate_spec({"metric": metric, "threshold": 0.5})["op"] == op
