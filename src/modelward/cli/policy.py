"""``modelward policy …``: policies as code, and checking a version against them."""

from __future__ import annotations

from pathlib import Path

import typer

from modelward.cli.common import JsonOpt, console, get_client, output, print_json
from modelward.cli.governance_view import print_gate

sub = typer.Typer(help="Policies as code: YAML documents of CEL rules.", no_args_is_help=True)

COLUMNS = ["name", "version", "risk_tiers", "aliases", "enabled", "created_by", "created_at"]


@sub.command("apply")
def apply(path: Path = typer.Argument(..., help="A policy YAML file.")) -> None:
    """Save a policy; a new version when its text changed."""
    out = get_client().apply_policy(path.read_text(encoding="utf-8"))
    console.print(f"policy {out.name} v{out.version} ({len(out.rules)} rules)", highlight=False)


@sub.command("install-defaults")
def install_defaults(as_json: bool = JsonOpt) -> None:
    """Install the shipped low/medium/high/critical policies that are missing."""
    output(get_client().install_default_policies(), as_json, COLUMNS, "installed")


@sub.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """Every policy at the version in force."""
    output(get_client().list_policies(), as_json, COLUMNS)


@sub.command("show")
def show(
    name: str, version: int = typer.Option(None, "--version"), as_json: bool = JsonOpt
) -> None:
    """A policy's document (the version in force, or --version N)."""
    out = get_client().get_policy(name, version)
    if as_json:
        print_json(out)
        return
    console.print(f"# {out.name} v{out.version} by {out.created_by}", highlight=False)
    console.print(out.document, highlight=False, markup=False)


@sub.command("check")
def check(
    ref: str = typer.Argument(..., help="Model version: name@candidate, name/3."),
    to: str = typer.Option(..., "--to", help="Target alias, e.g. champion."),
    show_context: bool = typer.Option(False, "--context", help="Also print the evidence seen."),
    as_json: bool = JsonOpt,
) -> None:
    """Every rule guarding a move to --to: outcome, values seen, message. Exit 1 if refused."""
    report = get_client().check_policy(ref, to, context=show_context or as_json)
    if as_json:
        print_json(report)
    else:
        print_gate(report)
        if show_context:
            print_json(report.context)
    if not report.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="policy")
