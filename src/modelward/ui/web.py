"""What every page shares: who is looking, calling the services, rendering, forms.

Pages are server-rendered. A page handler is a plain function (FastAPI runs it in the
thread pool) that calls the same operations the REST API exposes, through
``run_operation``, as the logged-in principal, and renders a Jinja2 template. No rule
lives only in the UI: the services enforce roles and validation; the UI only decides
which buttons to show.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from modelward.auth.roles import Principal, Role
from modelward.auth.service import authenticate
from modelward.client.transport import run_operation
from modelward.errors import Forbidden, InvalidInput, ModelwardError, Unauthorized
from modelward.operations import OPERATIONS, load_all
from modelward.ui import format as fmt

COOKIE = "mw_session"
SESSION_SECONDS = 12 * 3600
MAX_FORM = 64 * 1024


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


@dataclass(frozen=True)
class Viewer:
    """The principal behind a page request, and what the page may offer them."""

    principal: Principal
    csrf: str
    auth: bool

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        return self.principal.role.name

    def can(self, role: str) -> bool:
        """Whether an action needing ``role`` should be offered (the server checks anyway)."""
        return self.principal.role >= Role[role]


def csrf_for(secret: str) -> str:
    """A form token only the holder of the session's secret can compute."""
    return hmac.new(secret.encode(), b"modelward-ui-form", hashlib.sha256).hexdigest()[:32]


def _authenticate(request: Request) -> Principal:
    state = request.app.state
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise LoginRequired()
    with Session(bind=state.store.engine) as session:
        try:
            return authenticate(session, secret)
        except Unauthorized:
            raise LoginRequired() from None


def viewer(request: Request) -> Viewer:
    """Dependency: the logged-in viewer, or a redirect to the login page."""
    state = request.app.state
    if not state.auth:
        principal = Principal(name=state.anonymous_actor, role=Role.admin)
        return Viewer(principal, csrf_for("no-auth:" + state.anonymous_actor), auth=False)
    principal = _authenticate(request)
    return Viewer(principal, csrf_for(request.cookies[COOKIE]), auth=True)


def call(request: Request, who: Viewer, op_name: str, /, **kwargs: Any) -> Any:
    """Run one service operation as ``who``, exactly as the REST API would."""
    load_all()
    return run_operation(request.app.state.store, who.principal, OPERATIONS[op_name], kwargs)


# --- forms -------------------------------------------------------------------------


async def read_form(request: Request, who: Viewer) -> dict[str, str]:
    """The posted fields, after the same-origin and form-token checks."""
    _same_origin(request)
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raise InvalidInput(f"form larger than {MAX_FORM} bytes", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the form is not UTF-8 text", field="body") from None
    fields = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    sent = fields.pop("csrf", "") or request.headers.get("x-form-token", "")
    if not hmac.compare_digest(sent, who.csrf):
        raise Forbidden("the form has expired or came from another site; reload the page")
    return fields


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise Forbidden(f"a form from {origin} may not act on this server")


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else goes to the overview."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def redirect(url: str) -> RedirectResponse:
    """After a successful POST: see the result with a GET (no resubmission on reload)."""
    return RedirectResponse(url, status_code=303)


# --- rendering -----------------------------------------------------------------------


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("modelward.ui", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(fmt.FILTERS)
    env.globals["quote"] = lambda s: quote(str(s), safe="")
    return env


NAV = [
    ("/", "Overview"),
    ("/register", "AI register"),
    ("/models", "Models"),
    ("/experiments", "Runs"),
    ("/deployments", "Deployments"),
    ("/monitoring", "Monitoring"),
    ("/audit", "Audit"),
]
# Pages under another address that belong to a section of the navigation.
SECTION_OF = {"/runs": "/experiments", "/promotions": "/models"}


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    who: Viewer | None = None,
    status: int = 200,
    title: str = "",
) -> HTMLResponse:
    path = request.url.path
    first = "/" + path.strip("/").split("/", 1)[0]
    section = SECTION_OF.get(first) or max(
        (href for href, _ in NAV if path == href or path.startswith(href + "/")),
        key=len,
        default="/",
    )
    html = (
        environment()
        .get_template(template)
        .render(
            **context,
            who=who,
            nav=NAV,
            section=section,
            title=title,
            path=path,
            full_path=str(request.url.path)
            + (f"?{request.url.query}" if request.url.query else ""),
        )
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, exc: ModelwardError) -> Response:
    """A domain error as a page: what went wrong, and for a 403 which role is needed."""
    if isinstance(exc, Unauthorized):
        return login_redirect(request)
    who = _maybe_viewer(request)
    return render(
        request,
        "error.html",
        {"status": exc.http_status, "code": exc.code, "message": exc.message, "field": exc.field},
        who=who,
        status=exc.http_status,
        title=_ERROR_TITLES.get(exc.http_status, "Something went wrong"),
    )


def plain_error_page(request: Request, status: int, message: str) -> Response:
    """A page for an error that did not come from a service (unknown path, a crash)."""
    who = _maybe_viewer(request)
    return render(
        request,
        "error.html",
        {"status": status, "code": "", "message": message, "field": None},
        who=who,
        status=status,
        title=_ERROR_TITLES.get(status, "Something went wrong"),
    )


_ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Refused",
    500: "Something went wrong",
}


def _maybe_viewer(request: Request) -> Viewer | None:
    try:
        return viewer(request)
    except (LoginRequired, ModelwardError):
        return None
    except Exception:  # an error page must render even if the store is unreachable
        return None


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        # htmx follows redirects in place; tell it to load the login page instead.
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return redirect(f"/login?next={quote(target, safe='')}")


def is_ui_path(path: str) -> bool:
    """Paths the UI answers with pages (everything but the API, docs and artifacts)."""
    return not (
        path.startswith("/api/")
        or path in ("/api", "/docs", "/redoc", "/openapi.json")
        or path.startswith("/docs/")
    )


def query_params(request: Request) -> dict[str, str]:
    """The query string's last value per key, for filter forms that echo what was asked."""
    return {k: v[-1] for k, v in parse_qs(request.url.query, keep_blank_values=True).items()}
