"""``modelward demo``: the end-to-end credit-risk scenario, then the API on loopback."""

from __future__ import annotations

import os
from typing import Any

import typer

from modelward.cli.common import console, print_table

TOKEN_PREFIX = "demo-admin"


def demo(
    no_serve: bool = typer.Option(False, "--no-serve", help="Run the scenario and exit."),
    port: int = typer.Option(8080, help="Port to serve the API on afterwards."),
    host: str = typer.Option("127.0.0.1", help="Address to serve the API on afterwards."),
) -> None:
    """Train, register and audit credit-risk models on real data, then serve the API."""
    from modelward import Client
    from modelward.config import is_http
    from modelward.demo import scenario

    uri = os.environ.get("MODELWARD_URI")
    if not no_serve and not is_http(uri):
        _check_port(host, port)  # before a minute of scenario, not after it
    console.print(f"[bold]modelward demo[/bold] — store: {_where(uri)}", highlight=False)
    with Client() as client:
        result = scenario.run(client, console)
        render(result)
        gateway = result.serving.gateway if result.serving else None
        if no_serve or is_http(uri):
            if is_http(uri) and not no_serve:
                console.print("MODELWARD_URI is a server already; not starting another one.")
            if gateway is not None:
                gateway.stop()
            return
        token = _fresh_demo_token(client)
    try:
        _serve(host, port, token, gateway.url if gateway else None)
    finally:
        if gateway is not None:
            gateway.stop()


def _check_port(host: str, port: int) -> None:
    import socket

    from modelward.errors import InvalidInput

    try:
        socket.create_server((host, port)).close()
    except OSError as exc:
        raise InvalidInput(
            f"port: cannot serve the API on {host}:{port} ({exc.strerror or exc}); "
            "choose another with --port, or run with --no-serve",
            field="port",
        ) from None


def _where(uri: str | None) -> str:
    from modelward.config import home_dir

    if not uri:
        return f"{home_dir()} (embedded)"
    from sqlalchemy.engine import make_url

    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # an http:// URI is not a database URL
        return uri


def render(result: Any) -> None:
    """Versions and aliases, scored applicants, the champion's lineage, then the summary."""
    from modelward.cli.models import version_tree
    from modelward.demo.scenario import EXPERIMENT, MODEL

    aliases: dict[int, list[str]] = {}
    aliases.setdefault(result.champion.version, []).append("champion")
    aliases.setdefault(result.candidate.version, []).append("candidate")
    story = result.governance
    console.print()
    if story.refused:
        from modelward.cli.governance_view import print_gate

        console.print("[bold]the gate's first answer, before any evidence:[/bold]")
        print_gate(story.refused)
        console.print()
    print_table(
        f"{MODEL}: versions trained now (metrics on the holdout)",
        ["version", "model", "run", "AUC", "accuracy", "log loss", "aliases"],
        (
            [
                str(t.version),
                t.candidate.label,
                t.run_id[:8],
                f"{t.metrics['auc']:.3f}",
                f"{t.metrics['accuracy']:.3f}",
                f"{t.metrics['log_loss']:.3f}",
                ", ".join(aliases.get(t.version, [])),
            ]
            for t in result.trained
        ),
    )
    print_table(
        f"{MODEL}@champion scoring holdout applicants (loaded from the store)",
        ["purpose", "amount (DM)", "months", "actual", "P(bad)", "decision"],
        ([*row[:-2], f"{row[-2]:.3f}", row[-1]] for row in result.scored.itertuples(index=False)),
    )
    console.print(f"[bold]lineage of {MODEL}@champion[/bold]")
    console.print(version_tree(result.lineage))
    console.print()
    audit = result.audit
    chain = "[green]intact[/green]" if audit.intact else f"[red]BROKEN[/red] ({audit.message})"
    added = audit.head_seq - result.audit_events_before
    _print_canary(result.serving)
    _print_summary(
        [
            [
                "datasets",
                f"{result.train.ref} ({result.train.num_rows} rows, training), "
                f"{result.holdout.ref} ({result.holdout.num_rows} rows, evaluation)",
            ],
            ["experiment", f"{EXPERIMENT}: {len(result.trained)} runs tracked now"],
            ["versions", ", ".join(f"{MODEL}/{t.version}" for t in result.trained)],
            [
                "champion",
                f"{_alias_line(result.champion)} (promoted through the gate; "
                f"was v{result.previous_champion})",
            ],
            [
                "reload",
                "digest verified, predictions identical to the trained model"
                if result.reload_matches
                else "[red]predictions DIFFER from the trained model[/red]",
            ],
            ["AI system", f"{story.system.name}: tier {story.system.risk_tier}"],
            ["self-approval", f"refused: {story.self_approval}"],
            [
                "approvals",
                ", ".join(f"{a.approver} ({a.decision})" for a in story.request.approvals),
            ],
            ["compliance pack", _pack_line(story)],
            *_monitoring_rows(result.monitoring),
            *_serving_rows(result.serving),
            ["audit events", f"{audit.events_checked} in the chain ({added} written by this demo)"],
            ["audit chain", chain],
            ["time", f"{result.seconds:.1f} s"],
        ]
    )


def _monitoring_rows(watched: Any) -> list[list[str]]:
    alert = watched.alert
    runs = ", ".join(f"{r.kind} {r.status}" for r in alert.trigger_runs) if alert else ""
    health = "n/a" if watched.health.score is None else f"{watched.health.score:.0f}/100"
    return [
        [
            "monitoring",
            f"{watched.endpoint.name}: {watched.logged:,} predictions, {watched.labelled:,} "
            f"labels; drifted: {', '.join(watched.drifted_features) or 'none'}",
        ],
        [
            "drift alert",
            f"{alert.title} ({alert.status}); trigger: {runs or 'none'}" if alert else "none",
        ],
        [
            "retrained",
            f"{watched.retrained.model}/{watched.retrained.version} → champion after two approvals",
        ],
        ["report", f"{watched.report} (health {health})"],
    ]


def _serving_rows(served: Any) -> list[list[str]]:
    if served is None:
        return [["gateway", "not started (the demo ran against a server)"]]
    arms = ", ".join(f"{n:,} {arm}" for arm, n in sorted(served.by_arm.items()))
    plan = served.status.plan
    return [
        ["gateway", f"{served.url}/v1/endpoints/{served.status.endpoint}/predict (and /v2)"],
        [
            "canary",
            f"{served.primary} → {served.challenger}: {served.requests:,} live requests "
            f"({arms}); {' → '.join(served.steps)}; now {plan.kind} {plan.primary}",
        ],
    ]


def _print_canary(served: Any) -> None:
    """The last canary plan's analysis, check by check."""
    if served is None:
        return
    judged = [p for p in served.status.history if p.kind == "canary" and p.verdict]
    if not judged:
        return
    verdict = judged[0].verdict
    print_table(
        f"canary analysis of {judged[0].challenger}: {verdict['outcome']} ({judged[0].state})",
        ["check", "primary", "challenger", "limit", "outcome"],
        [
            (
                c["name"],
                _figure(c["primary"]),
                _figure(c["challenger"]),
                _figure(c["limit"]),
                c["outcome"],
            )
            for c in verdict["checks"]
        ],
    )


def _figure(value: Any) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _pack_line(story: Any) -> str:
    verdict = "[green]verified offline[/green]" if story.pack_report.ok else "[red]FAILED[/red]"
    return (
        f"{story.pack['path']} ({story.pack['events']} events, {story.pack['bound']} evidence "
        f"files bound, checkpoint seq {story.pack['checkpoint_seq']}): {verdict}; public key "
        f"{story.public_key}"
    )


def _print_summary(rows: list[list[str]]) -> None:
    from rich.table import Table

    table = Table(title="modelward demo: summary", show_header=False, title_style="bold")
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def _alias_line(trained: Any) -> str:
    from modelward.demo.scenario import MODEL

    return (
        f"{MODEL}/{trained.version}: {trained.candidate.label}, "
        f"holdout AUC {trained.metrics['auc']:.3f}"
    )


def _fresh_demo_token(client: Any) -> str:
    """An admin token for this demo server; earlier demo tokens are revoked first."""
    import time

    for old in client.list_tokens():
        if old.name.startswith(TOKEN_PREFIX) and old.revoked_at is None:
            client.revoke_token(old.id)
    name = f"{TOKEN_PREFIX}-{int(time.time() * 1000)}"
    return str(client.create_token(name, role="admin").token)


def _serve(host: str, port: int, token: str, gateway: str | None) -> None:
    from modelward.cli.server import serve
    from modelward.demo.scenario import MODEL

    site = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"
    base = f"{site}/api/v1"
    console.print()
    console.print(f"admin token for this server: [bold]{token}[/bold]", highlight=False)
    console.print(f"web UI: [bold]{site}/[/bold] (sign in with the token above)", highlight=False)
    console.print("try:", highlight=False)
    for path in (f"model-versions/{MODEL}@champion", f"lineage/model-versions/{MODEL}@champion"):
        console.print(
            f"  curl -H 'Authorization: Bearer {token}' {base}/{path}",
            highlight=False,
            soft_wrap=True,
        )
    if gateway:
        console.print(
            f"the gateway keeps serving credit-api: curl {gateway}/v1/endpoints/credit-api/predict"
            " -d '{\"instances\": [...]}', metrics at /metrics",
            highlight=False,
            soft_wrap=True,
        )
    console.print("Ctrl-C stops the servers.", highlight=False)
    serve(
        host=host,
        port=port,
        uri=None,  # $MODELWARD_URI or the embedded home, as for the scenario
        artifacts=None,
        no_auth=False,
        log_level="warning",
        monitor_every=None,
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
