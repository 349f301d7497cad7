"""Operation routes served straight from ASGI, without FastAPI's per-request machinery.

``dispatch.LeanDispatch`` sends these requests here before FastAPI sees them (FastAPI
still documents the routes in OpenAPI, and routes them itself to the same endpoint when
the dispatcher's index leaves one out). What FastAPI no longer does for them is build a
``Request``, solve the dependency graph and hop to the thread pool twice (once for the
token, once for the operation): that machinery cost more than the operation itself for a
small write such as starting a run or logging a batch.

Only operations whose inputs are text path parameters and at most one JSON body take
this path; their parsing needs nothing FastAPI would do differently. Operations with
query parameters or typed path parameters keep FastAPI's validation.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from modelward.api.deps import lookup_principal
from modelward.auth.roles import Principal, Role
from modelward.operations import Operation

_JSON_HEADERS = [(b"content-type", b"application/json")]
# The operations' own threads: asyncio's hand-off costs a third of anyio's, which
# Starlette's run_in_threadpool uses. 40 threads, as anyio's default limit.
_WORKERS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="modelward-op")
Scope = dict[str, Any]


def is_lean(op: Operation) -> bool:
    """Whether every input of ``op`` is a text path parameter or its JSON body."""
    for p in op.params:
        if p.name == op.body_param:
            continue
        if p.name not in op.path_params or op.hints.get(p.name) is not str:
            return False
    return True


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, secret = value.decode("latin-1").partition(" ")
            return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None
    return None


async def _read_all(receive: Any) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def lean_endpoint(op: Operation) -> Any:
    """The ASGI application that serves ``op`` in place of FastAPI's route handler."""
    from modelward.api.routes import answer, parse_body

    body_name = op.body_param
    body_model: type[BaseModel] | None = op.hints[body_name] if body_name else None
    status = op.status_code

    def serve(state: Any, secret: str | None, kwargs: dict[str, Any]) -> bytes | None:
        # The token is looked up on every request (an indexed read), so a revoked token
        # stops at once; it shares the operation's thread-pool hop.
        principal = (
            lookup_principal(state.store, secret)
            if state.auth
            else Principal(name=state.anonymous_actor, role=Role.admin)
        )
        return answer(state.store, state.read_cache, principal, op, kwargs)

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        kwargs: dict[str, Any] = dict(scope.get("path_params", {}))
        if body_model is not None:
            kwargs[body_name] = parse_body(await _read_all(receive), body_model)  # type: ignore[index]
        state = scope["app"].state
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(_WORKERS, serve, state, _bearer(scope), kwargs)
        if body is None:
            # Like Starlette's Response: no length on a 204, an explicit 0 otherwise.
            headers = [] if status == 204 else [(b"content-length", b"0")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
