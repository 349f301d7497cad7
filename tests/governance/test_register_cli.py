"""``modelward register …`` in a subprocess, as a user runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import modelward as mw

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]


def modelward(*args: str) -> subprocess.CompletedProcess[str]:
    # The autouse fixture points MODELWARD_HOME at this test's own embedded home.
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


# A policy already in the store keeps the shipped defaults out (the first AI system installs
# them only into a store without policies): these tests are about the register, and move
# ``champion`` freely; the gate has its own tests.
REGISTER_ONLY_POLICY = """
name: register-tests
applies_to: {risk_tiers: [critical], aliases: [never-used]}
rules:
  - name: nothing
    expr: "true"
    message: never evaluated
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> mw.Client:
    """The embedded home with credit-scorer v1, v2 and dataset credit-train/1."""
    monkeypatch.chdir(tmp_path)
    artifact = tmp_path / "model.txt"
    artifact.write_text("weights", encoding="utf-8")
    client = mw.Client()
    client.create_model_version("credit-scorer", artifact)
    client.create_model_version("credit-scorer", artifact)
    client.apply_policy(REGISTER_ONLY_POLICY)
    client.register_dataset("credit-train", pd.DataFrame({"amount": [1.0, 2.0], "bad": [0, 1]}))
    yield client
    client.close()


def test_create_list_show_update_and_export(home: mw.Client, tmp_path: Path) -> None:
    made = modelward(
        "register", "create", "credit-decisions",
        "--risk-tier", "high",
        "--tier-rationale", "Consumer credit decisions",
        "--purpose", "Score loan applications",
        "--business-owner", "lending-ops",
        "--technical-owner", "risk-ml",
        "--decision-type", "automated",
        "--human-in-the-loop",
        "--tag", "EU-AI-Act:Annex-III", "--tag", "SR-11-7",
        "--model", "credit-scorer",
        "--dataset", "credit-train/1",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "registered AI system credit-decisions (high risk)" in made.stdout
    home.set_alias("credit-scorer", "champion", 2)

    table = modelward("register", "list").stdout
    row = next(line for line in table.splitlines() if "credit-decisions" in line)
    assert "high" in row and "lending-ops / risk-ml" in row and "credit-scorer/2" in row
    listed = json.loads(modelward("register", "list", "--risk-tier", "high", "--json").stdout)
    assert [(s["name"], s["regulatory_tags"]) for s in listed] == [
        ("credit-decisions", ["EU-AI-Act:Annex-III", "SR-11-7"])
    ]
    assert json.loads(modelward("register", "list", "--tag", "GDPR", "--json").stdout) == []

    shown = modelward("register", "show", "credit-decisions")
    assert shown.returncode == 0, shown.stderr
    assert "purpose: Score loan applications" in shown.stdout
    assert "credit-train/1" in shown.stdout
    shown_json = json.loads(modelward("register", "show", "credit-decisions", "--json").stdout)
    assert shown_json["models"] == [{"name": "credit-scorer", "production_version": 2}]

    updated = modelward(
        "register", "update", "credit-decisions", "--status", "in_production", "--clear-tags"
    )
    assert updated.returncode == 0, updated.stderr
    system = home.get_system("credit-decisions")
    assert (system.status, system.regulatory_tags, system.purpose) == (
        "in_production",
        [],
        "Score loan applications",
    )

    out = tmp_path / "register.csv"
    exported = modelward("register", "export", "--format", "csv", str(out))
    assert exported.returncode == 0 and "wrote 1 systems" in exported.stdout
    with open(out, encoding="utf-8", newline="") as f:
        [row_out] = list(csv.DictReader(f))
    assert (row_out["name"], row_out["in_production"], row_out["datasets"]) == (
        "credit-decisions",
        "credit-scorer/2",
        "credit-train/1",
    )


def test_attach_history_and_incidents(home: mw.Client) -> None:
    home.create_system("credit-decisions", risk_tier="medium")
    attached = modelward("register", "attach", "credit-decisions", "credit-scorer")
    assert attached.returncode == 0 and "attached credit-scorer" in attached.stdout
    home.set_alias("credit-scorer", "champion", 1)
    time.sleep(0.05)
    home.set_alias("credit-scorer", "champion", 2)

    timeline = json.loads(modelward("register", "history", "credit-decisions", "--json").stdout)
    assert [(i["version"], i["until"] is None) for i in timeline] == [(1, False), (2, True)]
    first = home.system_history("credit-decisions")[0]
    midway = (first.from_ + (first.until - first.from_) / 2).isoformat()
    at = json.loads(
        modelward("register", "history", "credit-decisions", "--at", midway, "--json").stdout
    )
    assert [(i["model"], i["version"]) for i in at] == [("credit-scorer", 1)]
    table = modelward("register", "history", "credit-decisions").stdout
    assert "champion" in table and "moved by" in table

    reported = modelward(
        "register", "incident", "report", "credit-decisions",
        "--title", "Scores drifted", "--severity", "high", "--occurred-at", "2026-03-01T09:30",
    )  # fmt: skip
    assert reported.returncode == 0, reported.stderr
    incident = home.get_system("credit-decisions").incidents[0]
    assert (incident.title, incident.status) == ("Scores drifted", "open")
    resolved = modelward("register", "incident", "resolve", "credit-decisions", str(incident.id))
    assert resolved.returncode == 0 and "resolved" in resolved.stdout
    assert home.get_system("credit-decisions").open_incidents == 0

    detached = modelward("register", "detach", "credit-decisions", "credit-scorer")
    assert detached.returncode == 0
    assert home.get_system("credit-decisions").models == []


def test_bad_input_is_one_line_naming_the_field(home: mw.Client) -> None:
    missing = modelward("register", "create", "credit-decisions", "--risk-tier", "high")
    assert missing.returncode == 2 and "[tier_rationale]" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    bad_tag = modelward(
        "register", "create", "credit-decisions", "--risk-tier", "low", "--tag", "EU AI Act"
    )
    assert bad_tag.returncode == 2 and "[regulatory_tags.0]" in bad_tag.stderr
    bad_at = modelward("register", "history", "credit-decisions", "--at", "yesterday")
    assert bad_at.returncode == 1 and "no AI system named" in bad_at.stderr
    assert home.list_systems() == []
    unknown = modelward("register", "show", "nothing-here")
    assert unknown.returncode == 1 and "[name]" in unknown.stderr
    bad_format = modelward("register", "export", "--format", "xml", "out.xml")
    assert bad_format.returncode == 2 and "[format]" in bad_format.stderr
