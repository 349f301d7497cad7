"""Entry point: one Typer app with a sub-command per domain."""

from __future__ import annotations

import sys

import typer

from modelward.errors import ModelwardError

app = typer.Typer(
    name="modelward",
    help="Governed model lifecycle: tracking, registry, lineage, audit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from modelward.cli import audit, datasets, db, demo, experiments, models, runs, server, tokens

    for module in (experiments, runs, datasets, models, audit, tokens, db, server, demo):
        module.register(app)


_register()


def main() -> None:
    try:
        app()
    except ModelwardError as exc:
        from rich.markup import escape

        from modelward.cli.common import err_console

        err_console.print(f"[red]error:[/red] {escape(exc.headline)}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
