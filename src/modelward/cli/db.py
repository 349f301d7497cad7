"""``modelward db …``: schema migrations."""

from __future__ import annotations

import os

import typer

from modelward.cli.common import console

sub = typer.Typer(help="Database schema.", no_args_is_help=True)


@sub.command("upgrade")
def upgrade(
    uri: str | None = typer.Option(
        None, help="Database URL; default $MODELWARD_URI or the embedded home."
    ),
    revision: str = typer.Option("head", help="Target revision."),
) -> None:
    """Upgrade the database schema (the server also does this on start)."""
    from modelward.config import resolve_location
    from modelward.db.engine import make_engine
    from modelward.db.migrate import current_revision
    from modelward.db.migrate import upgrade as run_upgrade

    location = resolve_location(uri or os.environ.get("MODELWARD_URI"))
    engine = make_engine(location.db_url)
    run_upgrade(engine, revision)
    console.print(f"database at revision {current_revision(engine)}", highlight=False)
    engine.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="db")
