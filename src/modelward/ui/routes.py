"""Mount every page module, the static files, and the login session."""

from __future__ import annotations

import importlib
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from modelward.auth.service import authenticate
from modelward.errors import Unauthorized
from modelward.ui import web

# Each module defines ``router``; a page belongs to exactly one of them.
PAGE_MODULES = (
    "overview",
    "register",
    "models",
    "runs",
    "deployments",
    "monitoring",
    "audit",
)

session_router = APIRouter(include_in_schema=False)


@session_router.get("/login")
def login_form(request: Request) -> Response:
    params = web.query_params(request)
    return web.render(
        request,
        "login.html",
        {"next": web.safe_next(params.get("next")), "error": None, "auth": request.app.state.auth},
        title="Sign in",
    )


@session_router.post("/login")
async def login(request: Request) -> Response:
    web._same_origin(request)
    raw = (await request.body())[: web.MAX_FORM]
    from urllib.parse import parse_qs

    form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    token = form.get("token", "").strip()
    target = web.safe_next(form.get("next"))
    error = None
    if not token:
        error = "Paste an API token (modelward token create --role viewer)."
    else:
        try:
            await run_in_threadpool(_check_token, request, token)
        except Unauthorized:
            error = "This token is unknown or revoked."
    if error:
        context = {"next": target, "error": error, "auth": True, "token_field": "token"}
        return web.render(request, "login.html", context, status=400, title="Sign in")
    response = web.redirect(target)
    response.set_cookie(
        web.COOKIE,
        token,
        max_age=web.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def _check_token(request: Request, token: str) -> None:
    with Session(bind=request.app.state.store.engine) as session:
        authenticate(session, token)


@session_router.post("/logout")
async def logout(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    await web.read_form(request, who)
    response = web.redirect("/login")
    response.delete_cookie(web.COOKIE, path="/")
    return response


def install(app: FastAPI) -> None:
    static = files("modelward.ui") / "static"
    app.mount("/ui/static", StaticFiles(directory=str(static)), name="ui-static")
    app.include_router(session_router)
    for name in PAGE_MODULES:
        module: Any = importlib.import_module(f"modelward.ui.pages.{name}")
        app.include_router(module.router)
