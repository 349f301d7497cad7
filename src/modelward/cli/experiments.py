"""``modelward experiments …``"""

from __future__ import annotations

import typer

from modelward.cli.common import JsonOpt, get_client, output, print_json

sub = typer.Typer(help="Experiments group related runs.", no_args_is_help=True)


@sub.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """List experiments."""
    output(get_client().list_experiments(), as_json, ["id", "name", "description", "created_by", "created_at"])


@sub.command("create")
def create(name: str, description: str = typer.Option("", help="What the experiment is for.")) -> None:
    """Create an experiment."""
    print_json(get_client().create_experiment(name, description))


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="experiments")
