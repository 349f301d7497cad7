"""Find a lean operation's route without walking the router's list of routes.

Starlette tries every route's regular expression in turn until one matches, about 120 of
them for the API and the web pages: for a small write that scan costs as much as the
thread-pool hop. This middleware answers the lean operations (``lean_routes``) from an
index keyed by method and the path's first resource segment, and hands every other
request to FastAPI unchanged.

It must pick the route the router would pick: the first in registration order whose path
and method both match. A lean route goes in the index only if no route registered before
it could match one of its paths with the same method; any doubt (a mount, an included
router, a greedy ``{…:path}`` template) counts as a possible match and leaves the route
to the router, which is never wrong, only slower.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.routing import Route

from modelward.errors import ModelwardError

Scope = dict[str, Any]
log = logging.getLogger("modelward.api")
_PARAM = re.compile(r"^{([^}:]+)(?::([^}]+))?}$")
_GREEDY = "*"  # a {name:path} segment: it can span several segments


def _segments(path: str) -> list[str | None]:
    """A template's segments: literal text, ``None`` for one parameter, ``*`` for a greedy one."""
    out: list[str | None] = []
    for part in path.split("/"):
        m = _PARAM.match(part)
        if m is None:
            out.append(part)
        else:
            out.append(_GREEDY if m.group(2) == "path" else None)
    return out


def _may_overlap(a: list[str | None], b: list[str | None]) -> bool:
    """Whether some path could match both templates (``True`` when unsure)."""
    if _GREEDY in a or _GREEDY in b:
        # Compare the literal prefixes only: beyond a greedy segment anything may match.
        for x, y in zip(a, b, strict=False):
            if x == _GREEDY or y == _GREEDY:
                return True
            if x is not None and y is not None and x != y:
                return False
        return True
    if len(a) != len(b):
        return False
    return all(x is None or y is None or x == y for x, y in zip(a, b, strict=True))


def _key(segments: list[str | None]) -> str | None:
    """The first segment after ``/api/v1``, when it is literal."""
    return segments[3] if len(segments) > 3 and isinstance(segments[3], str) else None


class LeanIndex:
    """Lean routes by (method, first resource segment), each known to win where it matches."""

    def __init__(self, routes: list[Any], endpoints: dict[int, Any]) -> None:
        self._by_key: dict[tuple[str, str], list[tuple[Route, Any]]] = {}
        earlier: list[tuple[set[str] | None, list[str | None]]] = []
        for route in routes:
            if not isinstance(route, Route):  # a mount or an included router: could be anything
                earlier.append((None, [_GREEDY]))
                continue
            segments = _segments(route.path)
            methods = set(route.methods or ())
            endpoint = endpoints.get(id(route))
            key = _key(segments)
            if endpoint is not None and key is not None and len(methods) == 1:
                (method,) = methods
                clash = any(
                    (seen is None or method in seen) and _may_overlap(other, segments)
                    for seen, other in earlier
                )
                if not clash:
                    self._by_key.setdefault((method, key), []).append((route, endpoint))
            earlier.append((methods, segments))

    def find(self, method: str, path: str) -> tuple[Any, dict[str, Any]] | None:
        parts = path.split("/", 4)
        if len(parts) < 4 or parts[1] != "api" or parts[2] != "v1":
            return None
        for route, endpoint in self._by_key.get((method, parts[3]), ()):
            m = route.path_regex.match(path)
            if m is not None:
                convert = route.param_convertors
                params = {k: convert[k].convert(v) for k, v in m.groupdict().items()}
                return endpoint, params
        return None


class LeanDispatch:
    """The outermost ASGI layer of the API: lean operations here, the rest to FastAPI.

    It sits in front of FastAPI's middleware as well as its router, so it answers errors
    itself, in the same shape FastAPI's handlers give.
    """

    def __init__(self, app: Any, endpoints: dict[int, Any]) -> None:
        self.app = app
        self._endpoints = endpoints
        self._index: LeanIndex | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        if self._index is None:  # built on first use: every route is registered by then
            self._index = LeanIndex(scope["app"].router.routes, self._endpoints)
        found = self._index.find(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        endpoint, params = found
        try:
            await endpoint({**scope, "path_params": params}, receive, send)
        except ClientDisconnect:
            return
        except ModelwardError as exc:  # the same shapes FastAPI's handlers give
            await _send_error(send, exc.http_status, exc.to_dict())
        except Exception as exc:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            error = {
                "code": "internal",
                "message": f"internal error ({type(exc).__name__}); see the server log",
                "field": None,
            }
            await _send_error(send, 500, error)


async def _send_error(send: Any, status: int, error: dict[str, Any]) -> None:
    body = json.dumps({"error": error}, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_lean_dispatch(app: Any, endpoints: dict[int, Any]) -> None:
    """Put ``LeanDispatch`` in front of the app's whole middleware stack."""
    build = app.build_middleware_stack
    app.state.lean_endpoints = endpoints
    app.build_middleware_stack = lambda: LeanDispatch(build(), endpoints)
