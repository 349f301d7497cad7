"""Logical artifact paths (``plots/roc.png``) are relative and may not climb out."""

from __future__ import annotations

import re

from modelward.errors import InvalidInput

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_PATH = 1000


def validate_artifact_path(path: str, field: str = "path") -> str:
    """Return ``path`` normalised to forward slashes, or refuse it with a reason."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput("artifact path must be a non-empty string", field=field)
    if len(path) > MAX_PATH:
        raise InvalidInput(f"artifact path longer than {MAX_PATH} characters", field=field)
    if "\x00" in path:
        raise InvalidInput("artifact path contains a NUL byte", field=field)
    norm = path.replace("\\", "/")
    if norm.startswith("/") or _WINDOWS_DRIVE.match(norm):
        raise InvalidInput(f"artifact path {path!r} is absolute; use a relative path", field=field)
    parts = norm.split("/")
    if any(p == ".." for p in parts):
        raise InvalidInput(f"artifact path {path!r} contains '..'", field=field)
    return "/".join(p for p in parts if p not in ("", "."))
