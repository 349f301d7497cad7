"""Helpers for the UI tests (a module of its own: every conftest.py is imported as
``conftest``, so importing from one picks whichever was loaded last)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

SHOTS = Path(os.environ.get("MODELWARD_UI_SCREENSHOTS", "build/ui-screenshots"))


def form_token(html: str) -> str:
    """The form token a page embeds in its forms."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


def screenshot(page: Any, name: str) -> Path:
    """Save the page as a test artifact (README pictures are copied from here)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
