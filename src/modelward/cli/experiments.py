"""``modelward experiments …``"""

from __future__ import annotations

import typer

from modelward.cli.common import JsonOpt, get_client, output, print_json, print_table

sub = typer.Typer(help="Experiments group related runs.", no_args_is_help=True)

COLUMNS = ["id", "name", "description", "created_by", "created_at"]


@sub.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """List experiments."""
    output(get_client().list_experiments(), as_json, COLUMNS)


@sub.command("create")
def create(
    name: str, description: str = typer.Option("", help="What the experiment is for.")
) -> None:
    """Create an experiment."""
    print_json(get_client().create_experiment(name, description))


@sub.command("show")
def show(name: str, as_json: bool = JsonOpt) -> None:
    """One experiment."""
    experiment = get_client().get_experiment(name)
    if as_json:
        print_json(experiment)
        return
    print_table(
        f"experiment {name}", ["field", "value"], [(c, getattr(experiment, c)) for c in COLUMNS]
    )


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="experiments")
