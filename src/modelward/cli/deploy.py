"""``modelward deploy …``: endpoints, the named deployments monitoring watches."""

from __future__ import annotations

import json
from typing import Any

import typer

from modelward.cli.common import JsonOpt, console, get_client, output, print_json, print_table

sub = typer.Typer(help="Endpoints: named deployments of a model version.", no_args_is_help=True)

COLUMNS = ["name", "ref", "mode", "status", "config_version", "updated_by", "updated_at"]


def _config(text: str | None) -> dict | None:  # type: ignore[type-arg]
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--config") from None
    if not isinstance(value, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--config")
    return value


@sub.command("create")
def create(
    name: str,
    model: str = typer.Option(..., "--model", help="The version: name@champion, name/3."),
    mode: str = typer.Option(
        "batch", "--mode", help="batch, or online (served by modelward serve)."
    ),
    config: str = typer.Option(None, "--config", help="Monitoring settings as JSON."),
    as_json: bool = JsonOpt,
) -> None:
    """Deploy a version under NAME; gated like a move of the production alias."""
    out = get_client().create_endpoint(name, model, mode=mode, config=_config(config))
    if as_json:
        print_json(out)
        return
    console.print(f"endpoint {out.name} → {out.ref} ({out.mode})", highlight=False)


def _steps(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"expected percents separated by commas such as 5,25,50,100, got {text!r}",
            param_hint="--steps",
        ) from None


@sub.command("update")
def update(
    name: str,
    model: str = typer.Option(None, "--model", help="Deploy another version (alone)."),
    mode: str = typer.Option(None, "--mode", help="batch or online."),
    config: str = typer.Option(None, "--config", help="Monitoring settings as JSON."),
    plan: str = typer.Option(
        None, "--plan", help="Route online traffic: single, canary, shadow or ab."
    ),
    challenger: str = typer.Option(None, "--challenger", help="The version under trial."),
    primary: str = typer.Option(None, "--primary", help="The primary version (default: current)."),
    steps: str = typer.Option(None, "--steps", help="Canary shares in percent: 5,25,50,100."),
    every: str = typer.Option(None, "--every", help="Shortest time on each canary step: 5m."),
    share: float = typer.Option(None, "--share", help="Percent to the challenger (ab, shadow)."),
    key: str = typer.Option(
        None, "--key", help="A-B: the request field that keeps callers on one arm."
    ),
    manual: bool = typer.Option(
        False, "--manual", help="Do not let canary analysis step up or roll back on its own."
    ),
    analysis: str = typer.Option(None, "--analysis", help="Analysis thresholds as JSON."),
    reason: str = typer.Option(None, "--reason", help="Why, for the audit trail."),
    as_json: bool = JsonOpt,
) -> None:
    """Change an endpoint: another version, the mode, monitoring settings, or a traffic plan
    (canary, shadow, A-B) gated like a move of the production alias."""
    client = get_client()
    fields = {"model": model, "mode": mode, "config": _config(config)}
    if any(v is not None for v in fields.values()):
        out = client.update_endpoint(name, **{k: v for k, v in fields.items() if v is not None})
        if plan is None:
            if as_json:
                print_json(out)
                return
            console.print(
                f"endpoint {out.name} → {out.ref} ({out.mode}, {out.status})", highlight=False
            )
            return
    if plan is None:
        raise typer.BadParameter("give --model, --mode, --config or --plan", param_hint="--plan")
    wanted = {
        "primary": primary,
        "challenger": challenger,
        "steps": _steps(steps),
        "step_every": every,
        "share": share,
        "key": key,
        "auto": not manual,
        "analysis": _config(analysis) if analysis else None,
        "reason": reason,
    }
    made = client.set_plan(name, plan, **{k: v for k, v in wanted.items() if v is not None})
    if as_json:
        print_json(made)
        return
    console.print(f"endpoint {name}: plan {made.seq} {_describe(made)}", highlight=False)


def _describe(plan: Any) -> str:
    if plan.kind == "single":
        return f"single → {plan.primary}"
    if plan.kind == "canary":
        steps = ", ".join(f"{s:g}%" for s in plan.steps)
        return (
            f"canary {plan.primary} ← {plan.share:g}% → {plan.challenger} "
            f"(steps {steps}, each ≥ {plan.step_every_s}s, {'auto' if plan.auto else 'manual'})"
        )
    if plan.kind == "shadow":
        return f"{plan.primary} answers; {plan.share:g}% copied to shadow {plan.challenger}"
    return f"A-B {plan.primary} / {plan.challenger} ({plan.share:g}% by {plan.key})"


@sub.command("rollback")
def rollback(
    name: str,
    reason: str = typer.Option(None, "--reason", help="Why, for the audit trail."),
    as_json: bool = JsonOpt,
) -> None:
    """Return the endpoint to the plan before its current one."""
    out = get_client().rollback_endpoint(name, reason)
    if as_json:
        print_json(out)
        return
    console.print(
        f"endpoint {name}: rolled back to plan {out.seq}: {_describe(out)}", highlight=False
    )


@sub.command("retire")
def retire(name: str) -> None:
    """Stop an endpoint; its prediction log stays."""
    out = get_client().update_endpoint(name, status="retired")
    console.print(f"endpoint {out.name} retired", highlight=False)


@sub.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    output(get_client().list_endpoints(), as_json, COLUMNS)


@sub.command("status")
def status(name: str, as_json: bool = JsonOpt) -> None:
    """One endpoint: its plan, each arm's traffic this step, the canary analysis, history."""
    client = get_client()
    out = client.get_endpoint(name)
    deployment = client.deployment_status(name)
    if as_json:
        print_json({"endpoint": out, "deployment": deployment})
        return
    print_table(f"endpoint {name}", ["field", "value"], [(c, getattr(out, c)) for c in COLUMNS])
    plan = deployment.plan
    console.print(f"plan {plan.seq}: {_describe(plan)}", highlight=False)
    if deployment.arms:
        print_table(
            "this step",
            ["arm", "version", "requests", "errors", "error rate", "p50 ms", "p95 ms", "p99 ms"],
            [
                (
                    a.arm,
                    a.version,
                    a.requests,
                    a.errors,
                    _num(a.error_rate),
                    _num(a.latency_p50_ms),
                    _num(a.latency_p95_ms),
                    _num(a.latency_p99_ms),
                )
                for a in deployment.arms
            ],
        )
    if deployment.analysis:
        verdict = deployment.analysis
        print_table(
            f"canary analysis: {verdict['outcome']}",
            ["check", "primary", "challenger", "limit", "outcome", "detail"],
            [
                (
                    c["name"],
                    _num(c["primary"]),
                    _num(c["challenger"]),
                    _num(c["limit"]),
                    c["outcome"],
                    c["message"],
                )
                for c in verdict["checks"]
            ],
        )
    print_table(
        "plans",
        ["seq", "plan", "state", "by", "at", "reason"],
        [
            (p.seq, _describe(p), p.state, p.created_by, p.created_at, p.reason)
            for p in deployment.history
        ],
    )
    if out.config:
        console.print_json(json.dumps(out.config))


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="deploy")


from modelward.cli.deploy_manifest import add_manifest_command  # noqa: E402

add_manifest_command(sub)
