"""The overview: every AI system with its risk, production version, health and open work."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from modelward.ui import web

router = APIRouter(include_in_schema=False)


@router.get("/")
def overview(request: Request, who: web.Viewer = Depends(web.viewer)) -> Response:
    systems = web.call(request, who, "list_systems")
    return web.render(request, "overview.html", {"systems": systems}, who=who, title="Overview")
