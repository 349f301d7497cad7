"""Where the store lives: the embedded home, the database URI and the artifact root."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from modelward.errors import ModelwardError


def home_dir() -> Path:
    """The embedded home: ``$MODELWARD_HOME`` or ``~/.modelward``."""
    return Path(os.environ.get("MODELWARD_HOME") or Path.home() / ".modelward").expanduser()


@dataclass(frozen=True)
class StoreLocation:
    """A database URL plus an artifact root (a folder or any fsspec URL)."""

    db_url: str
    artifact_root: str


def resolve_location(uri: str | None = None, artifact_root: str | None = None) -> StoreLocation:
    """Resolve an explicit URI, ``$MODELWARD_URI`` or the embedded home into a location.

    A database URI keeps its artifacts in ``$MODELWARD_ARTIFACTS`` when set, otherwise
    in ``artifacts/`` under the embedded home.
    """
    uri = uri or os.environ.get("MODELWARD_URI")
    root = artifact_root or os.environ.get("MODELWARD_ARTIFACTS")
    home = home_dir()
    if not uri:
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ModelwardError(
                f"cannot use {home} as the modelward home: {exc.strerror or exc}", field="uri"
            ) from None
        return StoreLocation(f"sqlite:///{home / 'modelward.db'}", root or str(home / "artifacts"))
    return StoreLocation(uri, root or str(home / "artifacts"))


def is_http(uri: str | None) -> bool:
    return bool(uri) and uri.split("://", 1)[0] in ("http", "https")  # type: ignore[union-attr]


def local_user() -> str:
    """The OS user, the actor of every embedded write."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (some containers): fall back to the uid
        return f"uid:{os.getuid()}"
