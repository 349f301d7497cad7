"""``modelward server``: the REST API over a store."""

from __future__ import annotations

import os

import typer

from modelward.cli.common import console


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8080, help="Port to listen on."),
    uri: str | None = typer.Option(
        None, help="Database URL; default $MODELWARD_URI or the embedded home."
    ),
    artifacts: str | None = typer.Option(None, help="Artifact root (folder or fsspec URL)."),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="Treat every caller as an admin (local experiments only)."
    ),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
    monitor_every: str | None = typer.Option(
        None,
        "--monitor-every",
        help="Also run 'monitor run' on this schedule (30s, 15m, 1h); one replica is enough.",
    ),
) -> None:
    """Serve the REST API (OpenAPI at /docs). Upgrades the database schema on start."""
    import uvicorn

    from modelward.api.app import create_app
    from modelward.config import local_user, resolve_location
    from modelward.store import Store

    every = None
    if monitor_every is not None:
        from modelward.monitoring.scheduler import parse_every

        every = parse_every(monitor_every)
    store = Store(resolve_location(uri or os.environ.get("MODELWARD_URI"), artifacts))
    app = create_app(store, auth=not no_auth, anonymous_actor=local_user())
    if every is not None:
        from modelward.monitoring.scheduler import start

        start(store, every)
        console.print(f"monitor run every {monitor_every}", highlight=False)
    mode = "WITHOUT authentication" if no_auth else "token authentication"
    console.print(
        f"modelward API on http://{host}:{port} ({mode}); OpenAPI at /docs", highlight=False
    )
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def register(app: typer.Typer) -> None:
    app.command("server")(serve)
