"""What the training code ran on, captured client-side when a run starts.

Stored as system tags (``mw.*``) so they show with the run and can be searched:
``tags.`mw.git.commit` = "…"``. Nothing here imports the packages it reports on.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from functools import lru_cache
from importlib import metadata

from modelward.config import local_user

KEY_PACKAGES = ("numpy", "pandas", "scikit-learn", "xgboost", "lightgbm", "torch")
GIT_TIMEOUT_S = 5.0
# Starting many runs in a loop should not fork git for each one; a commit or edit made
# while a process runs is still picked up within this many seconds.
GIT_CACHE_S = 10.0

_git_cache: dict[str, tuple[float, dict[str, str]]] = {}
_git_lock = threading.Lock()


def _git(args: list[str], cwd: str) -> str | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):  # no git, or it hung
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_info(cwd: str | None = None) -> dict[str, str]:
    """Commit, dirty flag and branch of the repository holding ``cwd``; empty outside one."""
    cwd = os.path.abspath(cwd or os.getcwd())
    now = time.monotonic()
    with _git_lock:
        cached = _git_cache.get(cwd)
        if cached and now - cached[0] < GIT_CACHE_S:
            return dict(cached[1])
    info: dict[str, str] = {}
    commit = _git(["rev-parse", "HEAD"], cwd)
    if commit:
        info["mw.git.commit"] = commit
        status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
        if status is not None:
            info["mw.git.dirty"] = "true" if status else "false"
        branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
        if branch and branch != "HEAD":
            info["mw.git.branch"] = branch
    with _git_lock:
        _git_cache[cwd] = (now, info)
    return dict(info)


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Versions of the key ML packages installed, read from their metadata."""
    found = {}
    for name in KEY_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


@lru_cache(maxsize=1)
def _static() -> dict[str, str]:
    return {
        "mw.python": platform.python_version(),
        "mw.packages": json.dumps(package_versions(), sort_keys=True),
        "mw.host": socket.gethostname(),
        "mw.user": local_user(),
        "mw.os": f"{platform.system()} {platform.release()}",
    }


def capture_environment(cwd: str | None = None) -> dict[str, str]:
    """System tags describing this machine, interpreter, packages, code and entry point."""
    tags = {**_static(), **git_info(cwd)}
    entry = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if entry and entry != "-c":
        tags["mw.source"] = os.path.basename(entry)[:250]
    return tags
