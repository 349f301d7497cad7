"""Retraining triggers: the action an alert rule starts when one of its alerts opens.

A trigger is a local command or a webhook (e.g. a GitHub Actions ``repository_dispatch`` or an
Airflow ``dagRuns`` call). The monitor run queues it with the alert and runs it once its own
transaction has committed, synchronously, bounded by its timeout (commands: 600 s unless the
rule says otherwise; a job queue is out of scope). Every run is a ``trigger_runs`` row with its
status (pending, succeeded, failed), exit code and the last 10 KB of output.

What retraining produces is an ordinary new model version: it goes through the same gate as any
other, so low/medium-tier versions may be promoted automatically where policy allows while
high/critical ones wait for their approvals.
"""

from __future__ import annotations

import json
import os
from typing import Any

from sqlalchemy import select

from modelward.errors import InvalidInput
from modelward.monitoring.alert_schemas import TriggerRunPublic
from modelward.monitoring.sinks import (
    WEBHOOK_TIMEOUT_S,
    check_argv,
    check_headers,
    check_timeout,
    check_url,
    post_json,
    run_command,
    tail,
)
from modelward.monitoring.tables import Alert, Endpoint, TriggerRun
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import stored_now
from modelward.uow import UnitOfWork

COMMAND_TIMEOUT_S = 600.0
_KEYS = {
    "command": {"kind", "argv", "cwd", "timeout"},
    "webhook": {"kind", "url", "body", "headers", "timeout"},
}


def check_trigger(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict) or value.get("kind") not in _KEYS:
        raise InvalidInput(f"{field}.kind: must be command or webhook", field=f"{field}.kind")
    kind = value["kind"]
    extra = sorted(set(value) - _KEYS[kind])
    if extra:
        raise InvalidInput(f"{field}.{extra[0]}: unknown key for a {kind} trigger", field=field)
    out: dict[str, Any] = {"kind": kind}
    if kind == "command":
        out["argv"] = check_argv(value.get("argv"), f"{field}.argv")
        cwd = value.get("cwd")
        if cwd is not None:
            if not isinstance(cwd, str) or not cwd or "\x00" in cwd:
                raise InvalidInput(f"{field}.cwd: must be a directory path", field=f"{field}.cwd")
            out["cwd"] = cwd
        out["timeout"] = check_timeout(value.get("timeout"), f"{field}.timeout", COMMAND_TIMEOUT_S)
        return out
    out["url"] = check_url(value.get("url"), f"{field}.url")
    if "body" in value:
        if not isinstance(value["body"], dict):
            raise InvalidInput(f"{field}.body: must be a JSON object", field=f"{field}.body")
        out["body"] = value["body"]
    if "headers" in value:
        out["headers"] = check_headers(value["headers"], f"{field}.headers")
    out["timeout"] = check_timeout(value.get("timeout"), f"{field}.timeout", WEBHOOK_TIMEOUT_S)
    return out


def store_uri(uow: UnitOfWork, *, secret: bool = False) -> str:
    """The store the monitor runs against: without its password for anything that leaves
    the machine (webhook bodies), with it for a command run here (which must open it)."""
    return uow.session.get_bind().engine.url.render_as_string(hide_password=not secret)


def trigger_context(uow: UnitOfWork, endpoint: Endpoint, alert: dict[str, Any]) -> dict[str, Any]:
    version = uow.session.get_one(ModelVersion, endpoint.version_id)
    return {
        "endpoint": endpoint.name,
        "model": version.model.name,
        "version": version.version,
        "alert_id": alert["id"],
        "metric": alert["metric"],
        "subject": alert["subject"],
        "severity": alert["severity"],
        "uri": store_uri(uow),
        "artifacts": uow.artifacts.root,
    }


def fill(template: Any, context: dict[str, Any], alert: dict[str, Any]) -> Any:
    """The spec's body with ``{{endpoint}}``-style placeholders replaced; a string that is
    exactly ``{{alert}}`` or ``{{context}}`` becomes that whole object."""
    if isinstance(template, dict):
        return {k: fill(v, context, alert) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, context, alert) for v in template]
    if not isinstance(template, str):
        return template
    if template == "{{alert}}":
        return alert
    if template == "{{context}}":
        return context
    for key, value in context.items():
        template = template.replace("{{" + key + "}}", str(value))
    return template


def _command_env(context: dict[str, Any], command_uri: str) -> dict[str, str]:
    env = {
        "MODELWARD_ENDPOINT": context["endpoint"],
        "MODELWARD_MODEL": context["model"],
        "MODELWARD_VERSION": str(context["version"]),
        "MODELWARD_ALERT_ID": str(context["alert_id"]),
        "MODELWARD_ALERT_METRIC": context["metric"],
    }
    if not os.environ.get("MODELWARD_URI"):  # otherwise the command inherits the server's
        env["MODELWARD_URI"] = command_uri
        env["MODELWARD_ARTIFACTS"] = context["artifacts"]
    return env


def _execute(
    trigger: dict[str, Any], context: dict[str, Any], alert: dict[str, Any], command_uri: str
) -> dict[str, Any]:
    if trigger["kind"] == "command":
        return run_command(
            trigger["argv"],
            json.dumps(alert),
            _command_env(context, command_uri),
            timeout=trigger.get("timeout", COMMAND_TIMEOUT_S),
            cwd=trigger.get("cwd"),
        )
    body = (
        fill(trigger["body"], context, alert)
        if "body" in trigger
        else {"context": context, "alert": alert}
    )
    result = post_json(
        trigger["url"],
        body,
        headers=trigger.get("headers"),
        timeout=trigger.get("timeout", WEBHOOK_TIMEOUT_S),
    )
    return {**result, "output": result.get("error") or f"HTTP {result.get('status')}"}


def run_trigger(
    uow: UnitOfWork,
    endpoint: Endpoint,
    trigger: dict[str, Any],
    alert_row: Alert,
    alert: dict[str, Any],
) -> TriggerRun:
    """Queue the trigger in this transaction; run it once the transaction has committed.

    A retraining command usually writes to the store itself (a new run, a new version): run
    inside the monitor's write transaction it would wait for the lock that transaction holds.
    So the run is recorded as ``pending`` now, executed after the commit, and its outcome
    recorded in a transaction of its own. A failure is recorded, never raised.
    """
    target = " ".join(trigger["argv"]) if trigger["kind"] == "command" else trigger["url"]
    run = TriggerRun(
        alert_id=alert_row.id,
        kind=trigger["kind"],
        target=target[:2000],
        status="pending",
        exit_code=None,
        output="",
        started_at=stored_now(),
    )
    uow.session.add(run)
    uow.session.flush()
    public = trigger_run_public(run).model_dump(mode="json")
    summary = {"alert_id": alert_row.id, "kind": run.kind, "status": run.status}
    uow.audit("trigger.queue", "trigger_run", run.id, public, summary)
    context = trigger_context(uow, endpoint, alert)
    command_uri = store_uri(uow, secret=True)
    run_id = run.id
    uow.after_commit.append(
        lambda: _run_and_record(uow, run_id, trigger, context, alert, command_uri)
    )
    return run


def _run_and_record(
    uow: UnitOfWork,
    run_id: int,
    trigger: dict[str, Any],
    context: dict[str, Any],
    alert: dict[str, Any],
    command_uri: str,
) -> None:
    from modelward.registry.writing import lock_writes

    started = stored_now()
    result = _execute(trigger, context, alert, command_uri)
    with uow.write_phase() as w:
        lock_writes(w)
        run = w.session.get_one(TriggerRun, run_id)
        run.started_at = started
        run.status = "succeeded" if result["ok"] else "failed"
        run.exit_code = result.get("exit_code")
        error = result.get("error")
        output = result.get("output", "")
        run.output = tail(output + (f"\n{error}" if error and error not in output else ""))
        run.finished_at = stored_now()
        w.session.flush()
        summary = {"alert_id": run.alert_id, "kind": run.kind, "status": run.status}
        public = trigger_run_public(run).model_dump(mode="json")
        w.audit("trigger.run", "trigger_run", run.id, public, summary)


def trigger_run_public(row: TriggerRun) -> TriggerRunPublic:
    return TriggerRunPublic.model_validate(row, from_attributes=True)


def runs_of(uow: UnitOfWork, alert_id: int) -> list[TriggerRunPublic]:
    rows = uow.session.scalars(
        select(TriggerRun).where(TriggerRun.alert_id == alert_id).order_by(TriggerRun.id)
    )
    return [trigger_run_public(r) for r in rows]
