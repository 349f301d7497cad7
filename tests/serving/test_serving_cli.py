"""The deploy commands for traffic plans, in a subprocess, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ENDPOINT, Served

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def env(sqlite_served: Served, sqlite_url: str, tmp_path: object) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "MODELWARD_TOKEN"}
    out.update(
        MODELWARD_URI=sqlite_url,
        MODELWARD_ARTIFACTS=str(tmp_path / "artifacts"),  # type: ignore[operator]
        COLUMNS="200",
        NO_COLOR="1",
    )
    return out


def test_canary_status_and_rollback_from_the_command_line(
    sqlite_served: Served, env: dict[str, str]
) -> None:
    made = run(
        "deploy", "update", ENDPOINT, "--plan", "canary", "--challenger", sqlite_served.better,
        "--steps", "10,50", "--every", "30s", "--reason", "trial of v2", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "plan 2 canary scorer/1 ← 10% → scorer/2" in made.stdout
    status = run("deploy", "status", ENDPOINT, "--json", env=env)
    assert status.returncode == 0, status.stderr
    deployment = json.loads(status.stdout)["deployment"]
    assert deployment["plan"]["steps"] == [10.0, 50.0]
    assert [a["arm"] for a in deployment["arms"]] == ["primary", "challenger"]
    table = run("deploy", "status", ENDPOINT, env=env)
    assert "canary analysis: pause" in table.stdout and "trial of v2" in table.stdout
    back = run("deploy", "rollback", ENDPOINT, "--reason", "not today", env=env)
    assert back.returncode == 0 and "rolled back to plan 3" in back.stdout


def test_bad_plans_exit_2_with_one_line_and_unknown_endpoints_exit_1(
    sqlite_served: Served, env: dict[str, str]
) -> None:
    bad = run("deploy", "update", ENDPOINT, "--plan", "canary", "--steps", "a,b", env=env)
    assert bad.returncode == 2 and "--steps" in bad.stderr
    missing = run("deploy", "update", ENDPOINT, "--plan", "ab", "--challenger", "scorer/2", env=env)
    assert missing.returncode == 2 and "key" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    unknown = run("deploy", "rollback", "nowhere", env=env)
    assert unknown.returncode == 1 and "nowhere" in unknown.stderr
