"""Who is calling: the principal behind the request's bearer token."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from modelward.auth.roles import Principal, Role
from modelward.auth.service import authenticate


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def lookup_principal(store: object, secret: str | None) -> Principal:
    """The principal behind ``secret``, or ``Unauthorized`` (runs in a worker thread)."""
    with Session(bind=store.engine) as session:  # type: ignore[attr-defined]
        return authenticate(session, secret)


async def principal_dependency(request: Request) -> Principal:
    app_state = request.app.state
    if not app_state.auth:
        return Principal(name=app_state.anonymous_actor, role=Role.admin)
    # Looked up on every request (an indexed read), so a revoked token stops at once.
    return await run_in_threadpool(lookup_principal, app_state.store, _bearer(request))
