"""The FastAPI application: generated operation routes plus artifacts and health."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from modelward import __version__
from modelward.api.deps import principal_dependency
from modelward.api.errors import install_error_handlers
from modelward.api.routes import install_operations
from modelward.artifacts.store import check_digest
from modelward.auth.roles import Principal, Role
from modelward.operations import load_all
from modelward.store import Store

MAX_UPLOAD = 2 << 30


def create_app(store: Store, *, auth: bool = True, anonymous_actor: str = "anonymous") -> FastAPI:
    """Build the API over ``store``; with ``auth=False`` every caller is an admin (tests, demo)."""
    app = FastAPI(
        title="modelward",
        version=__version__,
        description="Governed model lifecycle: tracking, registry, lineage, audit.",
    )
    app.state.store = store
    app.state.auth = auth
    app.state.anonymous_actor = anonymous_actor
    install_error_handlers(app)
    install_operations(app, load_all())
    _install_artifacts(app)

    @app.get("/api/v1/health", tags=["server"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/whoami", tags=["server"])
    async def whoami(principal: Principal = Depends(principal_dependency)) -> dict[str, str]:
        return {"name": principal.name, "role": principal.role.name}

    return app


def _install_artifacts(app: FastAPI) -> None:
    @app.put("/api/v1/artifacts/{digest}", tags=["artifacts"], status_code=201)
    async def put_artifact(
        digest: str, request: Request, principal: Principal = Depends(principal_dependency)
    ) -> dict[str, str]:
        """Upload a blob; the server refuses bytes that do not hash to ``digest``."""
        principal.require(Role.developer, "uploading an artifact")
        check_digest(digest)
        data = await request.body()
        stored = await run_in_threadpool(request.app.state.store.artifacts.put_bytes, data, digest)
        return {"digest": stored}

    @app.get("/api/v1/artifacts/{digest}", tags=["artifacts"])
    async def get_artifact(
        digest: str, request: Request, principal: Principal = Depends(principal_dependency)
    ) -> Response:
        """Download a blob, verified against its digest before it is sent."""
        check_digest(digest)
        data = await run_in_threadpool(request.app.state.store.artifacts.get_bytes, digest)
        return Response(content=data, media_type="application/octet-stream")
