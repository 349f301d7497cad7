"""The web UI: server-rendered pages over the same operations as the REST API."""

from __future__ import annotations

from typing import Any


def install_ui(app: Any) -> None:
    """Serve the pages at ``/`` and their static files at ``/ui/static``."""
    from modelward.ui.routes import install

    install(app)
