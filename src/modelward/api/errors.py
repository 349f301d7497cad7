"""One error shape for every failure: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelward.client.base import clean_message, printable
from modelward.errors import ModelwardError

log = logging.getLogger("modelward.api")


class ErrorBody(BaseModel):
    code: str = Field(
        description="invalid_input, unauthorized, forbidden, not_found, conflict, ..."
    )
    message: str = Field(description="what is wrong and why, readable as is")
    field: str | None = Field(description="the request field at fault, if one is")
    details: dict[str, Any] | None = Field(default=None, description="e.g. a filter position")


class ErrorResponse(BaseModel):
    """The one shape of every error the API returns."""

    error: ErrorBody


# Documented on every route: clients parse one shape for every 4xx.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorResponse, "description": "Client error: the request cannot be served"}
}

# What FastAPI raises when a body is not even decodable (e.g. not UTF-8).
_UNPARSABLE_BODY = "There was an error parsing the body"


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, "field": field}}
    )


_SOURCES = ("body", "query", "path", "header", "cookie")


def _field(loc: tuple[object, ...]) -> str | None:
    """``("query", "limit")`` → ``limit``; the whole body → ``body``."""
    parts = [printable(p) for p in (loc[1:] if loc and loc[0] in _SOURCES else loc)]
    return ".".join(parts) or (str(loc[0]) if loc else None)


def _page(request: Request) -> bool:
    """Whether the failure belongs to a web page (answered as HTML) rather than the API."""
    from modelward.ui.web import is_ui_path

    return request.app.state.ui and is_ui_path(request.url.path)


async def _error_page(request: Request, status: int, message: str) -> Response:
    from modelward.ui.web import plain_error_page

    return await run_in_threadpool(plain_error_page, request, status, message)


def install_error_handlers(app: FastAPI) -> None:
    from modelward.ui.web import LoginRequired

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        from modelward.ui.web import login_redirect

        return login_redirect(request)

    @app.exception_handler(ModelwardError)
    async def _domain(request: Request, exc: ModelwardError) -> Response:
        if _page(request):
            from modelward.ui.web import error_page

            return await run_in_threadpool(error_page, request, exc)
        return JSONResponse(status_code=exc.http_status, content={"error": exc.to_dict()})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        err = exc.errors()[0]
        field = _field(tuple(err.get("loc", ())))
        if _page(request):
            msg = clean_message(str(err.get("msg")))
            return await _error_page(request, 400, f"{field}: {msg}" if field else msg)
        msg = clean_message(str(err.get("msg")))
        if err.get("type") == "json_invalid":  # loc is ("body", <character offset>)
            where = field
            field = "body"
            msg = f"malformed JSON at character {where}: {err.get('ctx', {}).get('error', msg)}"
        message = f"{field}: {msg}" if field else msg
        return _error(400, "invalid_input", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if _page(request):
            message = {
                404: "There is no page at this address.",
                405: "This page cannot be used that way.",
            }
            return await _error_page(
                request, exc.status_code, message.get(exc.status_code, str(exc.detail))
            )
        code = {400: "invalid_input", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "error"
        )
        if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
            return _error(400, code, "body: cannot be decoded; send UTF-8 JSON", "body")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if _page(request):
            return await _error_page(
                request,
                500,
                f"The server hit an internal error ({type(exc).__name__}); "
                "it is in the server log.",
            )
        return _error(500, "internal", f"internal error ({type(exc).__name__}); see the server log")
