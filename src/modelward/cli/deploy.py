"""``modelward deploy …``: endpoints, the named deployments monitoring watches."""

from __future__ import annotations

import json

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
    mode: str = typer.Option("batch", "--mode", help="batch (online arrives with the gateway)."),
    config: str = typer.Option(None, "--config", help="Monitoring settings as JSON."),
    as_json: bool = JsonOpt,
) -> None:
    """Deploy a version under NAME; gated like a move of the production alias."""
    out = get_client().create_endpoint(name, model, mode=mode, config=_config(config))
    if as_json:
        print_json(out)
        return
    console.print(f"endpoint {out.name} → {out.ref} ({out.mode})", highlight=False)


@sub.command("update")
def update(
    name: str,
    model: str = typer.Option(None, "--model"),
    mode: str = typer.Option(None, "--mode"),
    config: str = typer.Option(None, "--config", help="Monitoring settings as JSON."),
    as_json: bool = JsonOpt,
) -> None:
    """Deploy another version, or change the mode or monitoring settings."""
    fields = {"model": model, "mode": mode, "config": _config(config)}
    out = get_client().update_endpoint(name, **{k: v for k, v in fields.items() if v is not None})
    if as_json:
        print_json(out)
        return
    console.print(f"endpoint {out.name} → {out.ref} ({out.mode}, {out.status})", highlight=False)


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
    """One endpoint: version, mode, monitoring settings."""
    out = get_client().get_endpoint(name)
    if as_json:
        print_json(out)
        return
    print_table(f"endpoint {name}", ["field", "value"], [(c, getattr(out, c)) for c in COLUMNS])
    if out.config:
        console.print_json(json.dumps(out.config))


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="deploy")
