"""Retraining triggers: a command or a webhook started when an alert opens, every run recorded."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from modelward import Client
from modelward.client.transport import LocalTransport
from modelward.monitoring import alert_service  # noqa: F401  (registers the alert operations)
from modelward.monitoring.alert_schemas import AlertPublic
from modelward.monitoring.alerts import evaluate_alerts
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.sinks import MAX_OUTPUT_CHARS
from modelward.monitoring.tables import MonitorResult
from modelward.registry.writing import stored_now
from modelward.store import Store
from support import ADMIN

DAY = 86_400_000
ENDPOINT = "churn-api"


AlertClient = Client  # the SDK carries the alert verbs


@pytest.fixture
def local(store: Store, tmp_path: Path) -> AlertClient:
    client = AlertClient.over(LocalTransport(store, ADMIN))
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights", encoding="utf-8")
    client.create_model_version("churn", artifact)
    client.create_endpoint(ENDPOINT, "churn/1")
    return client  # type: ignore[return-value]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[Any]]]:
    received: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append(
                {
                    "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "body": json.loads(body),
                }
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def drifted(store: Store, day: int) -> list[AlertPublic]:
    """A monitor run whose window ``day`` has the dataset drifted."""
    with store.unit_of_work(ADMIN, write=True) as uow:
        ep = get_endpoint_row(uow.session, ENDPOINT)
        row = MonitorResult(
            endpoint_id=ep.id,
            kind="drift",
            window="1d",
            window_start_ms=day * DAY,
            window_end_ms=(day + 1) * DAY,
            feature="__dataset__",
            method="share",
            statistic=0.8,
            threshold=0.5,
            p_value=None,
            flagged=True,
            rows=500,
            details={},
            baseline_digest="0" * 64,
            config_version=1,
            computed_at=stored_now(),
        )
        uow.session.add(row)
        uow.session.flush()
        return evaluate_alerts(uow, ep, [row])


def rule(client: AlertClient, trigger: dict[str, Any]) -> None:
    spec = {"metric": "drift.share", "threshold": 0.5, "trigger": trigger}
    client.add_alert_rule(ENDPOINT, "retrain", spec)


def script(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_command_runs_once_when_the_alert_opens(
    local: AlertClient, store: Store, tmp_path: Path
) -> None:
    seen = tmp_path / "seen.json"
    code = (
        "import json, os, sys; alert = json.load(sys.stdin); "
        "keys = ['MODELWARD_ENDPOINT', 'MODELWARD_MODEL', 'MODELWARD_VERSION', "
        "'MODELWARD_ALERT_ID', 'MODELWARD_ALERT_METRIC', 'MODELWARD_URI']; "
        "open('seen.json', 'w').write(json.dumps({'env': {k: os.environ[k] for k in keys}, "
        "'alert': alert['id'], 'cwd': os.getcwd()})); print('retraining started')"
    )
    rule(local, {"kind": "command", "argv": script(code), "cwd": str(tmp_path)})
    opened = drifted(store, 0)[0]
    drifted(store, 1)  # a repeat starts nothing
    runs = local.get_alert(opened.id).trigger_runs
    assert len(runs) == 1
    run = runs[0]
    assert (run.status, run.exit_code, run.kind) == ("succeeded", 0, "command")
    assert "retraining started" in run.output
    assert run.finished_at is not None and run.finished_at >= run.started_at
    written = json.loads(seen.read_text())
    assert written["alert"] == opened.id
    env = written["env"]
    assert env["MODELWARD_ENDPOINT"] == ENDPOINT
    assert (env["MODELWARD_MODEL"], env["MODELWARD_VERSION"]) == ("churn", "1")
    assert env["MODELWARD_ALERT_ID"] == str(opened.id)
    assert env["MODELWARD_ALERT_METRIC"] == "drift.share"
    assert env["MODELWARD_URI"] == store.location.db_url


def test_a_failing_command_is_recorded_with_the_tail_of_its_output(
    local: AlertClient, store: Store
) -> None:
    code = f"import sys; print('x' * {MAX_OUTPUT_CHARS + 500}); print('boom'); sys.exit(3)"
    rule(local, {"kind": "command", "argv": script(code)})
    opened = drifted(store, 0)[0]
    run = local.get_alert(opened.id).trigger_runs[0]
    assert (run.status, run.exit_code) == ("failed", 3)
    assert len(run.output) == MAX_OUTPUT_CHARS
    assert "boom" in run.output


def test_a_command_past_its_timeout_fails(local: AlertClient, store: Store) -> None:
    rule(local, {"kind": "command", "argv": script("import time; time.sleep(30)"), "timeout": 0.5})
    opened = drifted(store, 0)[0]
    run = local.get_alert(opened.id).trigger_runs[0]
    assert (run.status, run.exit_code) == ("failed", None)
    assert "timed out" in run.output


def test_a_missing_program_fails_without_stopping_the_run(local: AlertClient, store: Store) -> None:
    rule(local, {"kind": "command", "argv": ["/nonexistent/retrain"]})
    opened = drifted(store, 0)[0]
    run = local.get_alert(opened.id).trigger_runs[0]
    assert run.status == "failed" and "cannot start" in run.output
    assert local.list_alerts(ENDPOINT)[0].status == "open"


def test_a_webhook_posts_the_body_the_spec_gives(
    local: AlertClient,
    store: Store,
    receiver: tuple[str, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = receiver
    monkeypatch.setenv("DISPATCH_TOKEN", "s3cret")
    body = {
        "event_type": "retrain-{{model}}",
        "client_payload": {"endpoint": "{{endpoint}}", "alert": "{{alert}}"},
    }
    rule(
        local,
        {
            "kind": "webhook",
            "url": f"{url}/repos/acme/churn/dispatches",
            "body": body,
            "headers": {"Authorization": "Bearer ${DISPATCH_TOKEN}"},
        },
    )
    opened = drifted(store, 0)[0]
    [sent] = received
    assert sent["path"] == "/repos/acme/churn/dispatches"
    assert sent["auth"] == "Bearer s3cret"
    assert sent["body"]["event_type"] == "retrain-churn"
    assert sent["body"]["client_payload"]["endpoint"] == ENDPOINT
    assert sent["body"]["client_payload"]["alert"]["id"] == opened.id
    run = local.get_alert(opened.id).trigger_runs[0]
    assert (run.kind, run.status) == ("webhook", "succeeded")
    # The token comes from the environment at send time; the stored rule keeps the reference.
    assert local.list_alert_rules(ENDPOINT)[0].spec["trigger"]["headers"] == {
        "Authorization": "Bearer ${DISPATCH_TOKEN}"
    }


def test_every_trigger_run_is_audited(local: AlertClient, store: Store) -> None:
    from modelward.audit.tables import AuditEvent

    rule(local, {"kind": "command", "argv": script("print('ok')")})
    drifted(store, 0)
    with store.unit_of_work(ADMIN, write=False) as uow:
        actions = list(uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    # Queued with the alert, run after the monitor's transaction commits (a retraining command
    # writes to the store itself), then its outcome recorded in a transaction of its own.
    assert actions[-4:] == ["alert.open", "alert.notify", "trigger.queue", "trigger.run"]


def test_a_retraining_command_can_write_to_the_same_store(local: AlertClient, store: Store) -> None:
    """The command runs after the monitor's transaction has committed: were it run inside,
    its own write would wait for the lock the monitor holds."""
    code = (
        "import os, modelward as mw; "
        "mw.Client(os.environ['MODELWARD_URI']).create_experiment("
        "'retrain-' + os.environ['MODELWARD_ALERT_ID'])"
    )
    rule(local, {"kind": "command", "argv": script(code), "timeout": 120})
    alert = drifted(store, 0)[0]
    runs = local.get_alert(alert.id).trigger_runs
    assert [(r.status, r.exit_code) for r in runs] == [("succeeded", 0)], runs[0].output
    assert local.get_experiment(f"retrain-{alert.id}").name == f"retrain-{alert.id}"
