"""``modelward alerts …``, ``modelward alert-rules …`` and ``modelward monitor-health``."""

from __future__ import annotations

import json
from typing import Any

import typer

from modelward.cli.common import JsonOpt, console, get_client, output, print_json, print_table

alerts = typer.Typer(help="Alerts raised by monitor results.", no_args_is_help=True)
rules = typer.Typer(help="Alert rules of an endpoint.", no_args_is_help=True)

ALERT_COLUMNS = [
    "id",
    "endpoint",
    "rule",
    "severity",
    "status",
    "title",
    "occurrences",
    "last_seen_at",
]
RULE_COLUMNS = ["name", "enabled", "created_by", "created_at"]


@alerts.command("list")
def list_(
    endpoint: str = typer.Option(None, "--endpoint", help="Only this endpoint's alerts."),
    status: str = typer.Option(None, "--status", help="open, acknowledged or resolved."),
    severity: str = typer.Option(None, "--severity", help="info, warning or critical."),
    limit: int = typer.Option(100, "--limit"),
    as_json: bool = JsonOpt,
) -> None:
    """Newest alerts first."""
    found = get_client().list_alerts(endpoint, status=status, severity=severity, limit=limit)
    output(found, as_json, ALERT_COLUMNS)


@alerts.command("show")
def show(alert_id: int, as_json: bool = JsonOpt) -> None:
    """One alert: its facts, notification outcomes and retraining runs."""
    out = get_client().get_alert(alert_id)
    if as_json:
        print_json(out)
        return
    fields = [
        "endpoint",
        "rule",
        "metric",
        "subject",
        "severity",
        "status",
        "title",
        "value",
        "threshold",
        "occurrences",
        "first_seen_at",
        "last_seen_at",
        "acknowledged_by",
        "resolved_by",
    ]
    print_table(f"alert {out.id}", ["field", "value"], [(f, getattr(out, f)) for f in fields])
    for note in out.details.get("notifications", []):
        state = "ok" if note.get("ok") else f"failed: {note.get('error', '')}"
        console.print(
            f"notified {note.get('kind')} {note.get('target')}: {state}",
            highlight=False,
            markup=False,
        )
    if out.trigger_runs:
        print_table(
            "trigger runs",
            ["id", "kind", "target", "status", "exit_code"],
            [(r.id, r.kind, r.target, r.status, r.exit_code) for r in out.trigger_runs],
        )


def _step(alert_id: int, verb: str, as_json: bool) -> None:
    client = get_client()
    out = client.acknowledge_alert(alert_id) if verb == "ack" else client.resolve_alert(alert_id)
    if as_json:
        print_json(out)
        return
    console.print(f"alert {out.id} {out.status}: {out.title}", highlight=False, markup=False)


@alerts.command("ack")
def ack(alert_id: int, as_json: bool = JsonOpt) -> None:
    """Acknowledge an open alert (repeats keep counting on it)."""
    _step(alert_id, "ack", as_json)


@alerts.command("resolve")
def resolve(alert_id: int, as_json: bool = JsonOpt) -> None:
    """Resolve an alert; a recurrence opens a new one."""
    _step(alert_id, "resolve", as_json)


def _json_list(text: str | None, option: str) -> list[Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint=option) from None
    return value if isinstance(value, list) else [value]


def _spec(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


@rules.command("add")
def add(
    endpoint: str,
    name: str,
    metric: str = typer.Option(
        ...,
        "--metric",
        help="drift.share, drift.feature, quality.*, "
        "performance.<metric>, performance.estimated.<metric>, health.",
    ),
    op: str = typer.Option(
        None, "--op", help=">= or <= (default: <= for performance and health, >= otherwise)."
    ),
    threshold: float = typer.Option(None, "--threshold"),
    window: str = typer.Option(None, "--window", help="Only results of windows this size."),
    severity: str = typer.Option(None, "--severity", help="info, warning (default), critical."),
    cooldown: str = typer.Option(None, "--cooldown", help="Quiet period, default 6h."),
    webhook: list[str] = typer.Option(None, "--webhook", help="POST alerts to this URL."),
    command: str = typer.Option(None, "--command", help='Sink argv as JSON: ["cmd", "arg"].'),
    audit: bool = typer.Option(False, "--audit", help="Record each notification in the audit."),
    trigger: str = typer.Option(None, "--trigger", help="Retraining trigger as a JSON object."),
    as_json: bool = JsonOpt,
) -> None:
    """Add a rule to ENDPOINT; with no sink given, notifications go to the audit log."""
    sinks: list[dict[str, Any]] = [{"kind": "webhook", "url": u} for u in webhook or []]
    argv = _json_list(command, "--command")
    if argv is not None:
        sinks.append({"kind": "command", "argv": argv})
    if audit:
        sinks.append({"kind": "audit"})
    spec = _spec(
        metric=metric,
        op=op,
        threshold=threshold,
        window=window,
        severity=severity,
        cooldown=cooldown,
        sinks=sinks or None,
    )
    if trigger is not None:
        try:
            spec["trigger"] = json.loads(trigger)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"not JSON: {exc}", param_hint="--trigger") from None
    out = get_client().add_alert_rule(endpoint, name, spec)
    if as_json:
        print_json(out)
        return
    console.print(
        f"alert rule {out.name} on {out.endpoint}: {out.spec['metric']}",
        highlight=False,
        markup=False,
    )


@rules.command("list")
def list_rules(endpoint: str, as_json: bool = JsonOpt) -> None:
    found = get_client().list_alert_rules(endpoint)
    if as_json:
        print_json(found)
        return
    print_table(
        f"alert rules of {endpoint}",
        ["name", "metric", "condition", "severity", "enabled"],
        [
            (r.name, r.spec["metric"], _condition(r.spec), r.spec["severity"], r.enabled)
            for r in found
        ],
    )


def _condition(spec: dict[str, Any]) -> str:
    if spec.get("threshold") is None:
        return "flagged"
    return f"{spec['op']} {spec['threshold']:g}"


@rules.command("disable")
def disable(endpoint: str, name: str) -> None:
    """Stop evaluating a rule; its alerts stay."""
    out = get_client().disable_alert_rule(endpoint, name)
    console.print(
        f"alert rule {out.name} on {out.endpoint} disabled", highlight=False, markup=False
    )


def health(
    name: str,
    system: bool = typer.Option(
        False, "--system", help="NAME is an AI system: roll up its endpoints."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """The 0–100 health index of endpoint NAME and its parts (n/a parts are left out)."""
    client = get_client()
    out = client.system_health(name) if system else client.endpoint_health(name)
    if as_json:
        print_json(out)
        return
    if system:
        console.print(
            f"system {out.system}: {_score(out.score)} (min {_score(out.min)})",
            highlight=False,
            markup=False,
        )
        print_table(
            None,
            ["endpoint", "version", "score"],
            [(h.endpoint, f"{h.model}/{h.version}", _score(h.score)) for h in out.endpoints],
        )
        return
    console.print(
        f"endpoint {out.endpoint} ({out.model}/{out.version}): {_score(out.score)}",
        highlight=False,
        markup=False,
    )
    print_table(
        None,
        ["part", "score", "weight", "detail"],
        [(p.name, _score(p.score), p.weight, p.detail) for p in out.parts],
    )


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def register(app: typer.Typer) -> None:
    app.add_typer(alerts, name="alerts")
    app.add_typer(rules, name="alert-rules")
    app.command("monitor-health")(health)
