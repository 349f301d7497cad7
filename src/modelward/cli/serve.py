"""``modelward serve``: the online gateway over the store's endpoints and traffic plans."""

from __future__ import annotations

import os

import typer

from modelward.cli.common import console


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind."),
    port: int = typer.Option(8081, help="Port to listen on (the REST API's default is 8080)."),
    endpoint: list[str] = typer.Option(
        None,
        "--endpoint",
        help="Serve only these endpoints (repeatable); default every online one.",
    ),
    uri: str | None = typer.Option(
        None, help="Database URL; default $MODELWARD_URI or the embedded home."
    ),
    artifacts: str | None = typer.Option(None, help="Artifact root (folder or fsspec URL)."),
    flush_every: float = typer.Option(
        1.0, min=0.05, max=60, help="Seconds between prediction log writes (what SIGKILL can lose)."
    ),
    refresh_every: float = typer.Option(
        1.0, min=0.05, max=300, help="Seconds between reads of the traffic plans."
    ),
    analysis_every: float = typer.Option(
        10.0, min=0.1, max=3600, help="Seconds between canary analyses."
    ),
    max_body: int = typer.Option(
        1_048_576, min=1024, help="Largest request body in bytes; larger ones get 413."
    ),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
) -> None:
    """Serve the online endpoints: friendly JSON at /v1/endpoints/NAME/predict, Open Inference
    Protocol v2 at /v2/models/NAME/infer, Prometheus metrics at /metrics. Plan changes take
    effect within --refresh-every, without a restart. SIGTERM finishes the requests in flight
    and writes the prediction log before exiting."""
    import sys

    import uvicorn

    # The log flush runs in a background thread; when it holds the GIL a request waits up to
    # the switch interval (5 ms by default) for every step of its own. 0.2 ms keeps the
    # flush from adding to the latency of the requests that arrive while it runs.
    sys.setswitchinterval(0.0002)

    from modelward.config import is_http, resolve_location
    from modelward.errors import InvalidInput
    from modelward.serving.gateway import Gateway
    from modelward.serving.runtime import Runtime
    from modelward.store import Store

    target = uri or os.environ.get("MODELWARD_URI")
    if is_http(target):
        raise InvalidInput(
            "uri: the gateway opens the database and artifact store itself; give a sqlite:/// "
            "or postgresql+psycopg:// URL (and --artifacts), not a server's address",
            field="uri",
        )
    store = Store(resolve_location(target, artifacts))
    runtime = Runtime(
        store,
        only=endpoint or None,
        flush_every=flush_every,
        refresh_every=refresh_every,
        analysis_every=analysis_every,
        freeze_gc=True,
    )
    app = Gateway(runtime, max_body=max_body)
    console.print(f"modelward gateway on http://{host}:{port}", highlight=False)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
