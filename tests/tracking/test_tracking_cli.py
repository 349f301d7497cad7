"""``modelward experiments …`` and ``modelward runs …`` against an embedded home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modelward as mw
from modelward.cli.main import app

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("MODELWARD_HOME", str(path))
    monkeypatch.setenv("COLUMNS", "250")
    return path


@pytest.fixture
def runs(home: Path) -> list[str]:
    """Three finished runs in experiment ``credit``, oldest first."""
    with mw.Client() as client:
        ids = []
        for i, auc in enumerate([0.7, 0.9, 0.8]):
            with client.start_run("credit", params={"depth": i}, name=f"r{i}") as run:
                run.log_metric("auc", auc, step=0)
                run.log_metric("auc", auc + 0.01, step=1)
                run.log_text("notes", "notes.txt")
            ids.append(run.id)
    return ids


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_experiments_create_list_show(home: Path) -> None:
    created = json.loads(invoke("experiments", "create", "credit", "--description", "PD"))
    assert created["name"] == "credit"
    listed = json.loads(invoke("experiments", "list", "--json"))
    assert [e["name"] for e in listed] == ["credit"]
    assert "credit" in invoke("experiments", "list") and "PD" in invoke(
        "experiments", "show", "credit"
    )


def test_runs_list_filters_and_orders(runs: list[str]) -> None:
    page = json.loads(
        invoke(
            "runs",
            "list",
            "credit",
            "--filter",
            "metrics.auc > 0.75",
            "--order-by",
            "metrics.auc desc",
            "--json",
        )
    )
    assert [r["name"] for r in page["runs"]] == ["r1", "r2"]
    assert page["runs"][0]["metrics"] == {"auc": 0.91}
    table = invoke("runs", "list", "credit", "--max-results", "2")
    assert "r2" in table and "r1" in table and "r0" not in table and "--page-token" in table


def test_runs_show_and_metric_history(runs: list[str]) -> None:
    shown = json.loads(invoke("runs", "show", runs[0], "--json"))
    assert shown["params"] == {"depth": "0"} and shown["status"] == "FINISHED"
    assert [a["path"] for a in shown["artifacts"]] == ["notes.txt"]
    text = invoke("runs", "show", runs[0])
    assert "depth" in text and "notes.txt" in text and "mw.python" in text
    points = json.loads(invoke("runs", "metrics", runs[0], "auc", "--json"))
    assert [(p["step"], p["value"]) for p in points] == [(0, 0.7), (1, 0.71)]
    assert "0.71" in invoke("runs", "metrics", runs[0], "auc")


def test_runs_download_delete_restore(runs: list[str], tmp_path: Path) -> None:
    invoke("runs", "download", runs[0], "notes.txt", "--dest", str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "notes.txt").read_text() == "notes"
    invoke("runs", "delete", runs[0])
    page = json.loads(invoke("runs", "list", "credit", "--json"))
    assert runs[0] not in [r["id"] for r in page["runs"]]
    invoke("runs", "restore", runs[0])
    page = json.loads(invoke("runs", "list", "credit", "--json"))
    assert runs[0] in [r["id"] for r in page["runs"]]


def _modelward(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MODELWARD_HOME=str(home), NO_COLOR="1", COLUMNS="200")
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_errors_are_one_line_with_exit_codes(runs: list[str], home: Path) -> None:
    bad = _modelward(home, "runs", "list", "credit", "--filter", "metrics.auc >> 1")
    assert bad.returncode == 2
    assert "unexpected token '>'" in bad.stderr and "position 13" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = _modelward(home, "runs", "show", "0" * 32)
    assert missing.returncode == 1 and "no run with id" in missing.stderr
    unknown = _modelward(home, "runs", "list", "nope")
    assert unknown.returncode == 1 and "no experiment named 'nope'" in unknown.stderr
