"""What a run records about the code and machine it ran on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from modelward.tracking import environment


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(environment, "_git_cache", {})


def test_commit_and_dirty_flag_of_the_working_directory(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text("print('v1')\n")
    _git(repo, "add", "train.py")
    _git(repo, "commit", "-q", "-m", "v1")
    head = _git(repo, "rev-parse", "HEAD")
    clean = environment.capture_environment(str(repo))
    assert clean["mw.git.commit"] == head and clean["mw.git.dirty"] == "false"
    assert clean["mw.git.branch"] == "main"

    (repo / "train.py").write_text("print('v2')\n")
    environment._git_cache.clear()
    assert environment.capture_environment(str(repo))["mw.git.dirty"] == "true"


def test_outside_a_repository_or_without_git_nothing_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    tags = environment.capture_environment(str(plain))
    assert "mw.git.commit" not in tags and tags["mw.python"]

    environment._git_cache.clear()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no git executable at all
    tags = environment.capture_environment(str(plain))
    assert "mw.git.commit" not in tags and "mw.packages" in tags


def test_package_versions_come_from_metadata() -> None:
    from importlib.metadata import version

    packages = json.loads(environment.capture_environment()["mw.packages"])
    assert packages["numpy"] == version("numpy")
    assert packages["scikit-learn"] == version("scikit-learn")
    assert set(packages) <= set(environment.KEY_PACKAGES)


def test_repeated_starts_reuse_a_recent_capture(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.txt").write_text("a")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-q", "-m", "a")
    first = environment.git_info(str(repo))
    (repo / "a.txt").write_text("changed")
    assert environment.git_info(str(repo)) == first  # within GIT_CACHE_S: no new git calls
