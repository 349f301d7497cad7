"""The FastAPI application: generated operation routes plus artifacts and health."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from modelward import __version__
from modelward.api.audit_export import install_audit_export
from modelward.api.deps import principal_dependency
from modelward.api.errors import ERROR_RESPONSES, install_error_handlers
from modelward.api.read_cache import ReadCache
from modelward.api.routes import install_operations
from modelward.artifacts.store import check_digest
from modelward.auth.roles import Principal, Role
from modelward.errors import InvalidInput
from modelward.operations import load_all
from modelward.store import Store

MAX_UPLOAD = 2 << 30  # 2 GiB: an upload is held in memory while its digest is checked
# Artifacts travel as raw bytes in both directions.
_BLOB = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def create_app(
    store: Store,
    *,
    auth: bool = True,
    anonymous_actor: str = "anonymous",
    read_cache: bool = True,
    ui: bool = True,
) -> FastAPI:
    """Build the API over ``store``; with ``auth=False`` every caller is an admin (tests, demo)."""
    app = FastAPI(
        title="modelward",
        version=__version__,
        description="Governed model lifecycle: tracking, registry, lineage, audit.",
        responses=ERROR_RESPONSES,
    )
    app.state.store = store
    app.state.auth = auth
    app.state.anonymous_actor = anonymous_actor
    app.state.read_cache = ReadCache() if read_cache else None
    app.state.ui = ui
    install_error_handlers(app)
    install_operations(app, load_all())
    _install_artifacts(app)
    install_audit_export(app)
    if ui:
        from modelward.ui import install_ui

        install_ui(app)

    @app.get("/api/v1/health", tags=["server"], operation_id="health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/whoami", tags=["server"], operation_id="whoami")
    async def whoami(principal: Principal = Depends(principal_dependency)) -> dict[str, str]:
        return {"name": principal.name, "role": principal.role.name}

    return app


def _install_artifacts(app: FastAPI) -> None:
    @app.put(
        "/api/v1/artifacts/{digest}",
        tags=["artifacts"],
        status_code=201,
        operation_id="put_artifact",
        openapi_extra={"requestBody": {"required": True, "content": _BLOB}},
    )
    async def put_artifact(
        digest: str, request: Request, principal: Principal = Depends(principal_dependency)
    ) -> dict[str, str]:
        """Upload a blob; the server refuses bytes that do not hash to ``digest``."""
        principal.require(Role.developer, "uploading an artifact")
        check_digest(digest)
        data = await _bounded_body(request)
        stored = await run_in_threadpool(request.app.state.store.artifacts.put_bytes, data, digest)
        return {"digest": stored}

    @app.get(
        "/api/v1/artifacts/{digest}",
        tags=["artifacts"],
        operation_id="get_artifact",
        response_class=Response,
        responses={200: {"content": _BLOB, "description": "the artifact's bytes"}},
    )
    async def get_artifact(
        digest: str, request: Request, principal: Principal = Depends(principal_dependency)
    ) -> Response:
        """Download a blob, verified against its digest before it is sent."""
        check_digest(digest)
        data = await run_in_threadpool(request.app.state.store.artifacts.get_bytes, digest)
        return Response(content=data, media_type="application/octet-stream")


async def _bounded_body(request: Request) -> bytes:
    """The upload, refused as soon as it passes ``MAX_UPLOAD`` rather than after."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD:
        raise InvalidInput(f"artifact larger than {MAX_UPLOAD} bytes", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise InvalidInput(f"artifact larger than {MAX_UPLOAD} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)
