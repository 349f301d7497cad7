"""``modelward models …`` and ``modelward lineage`` in a subprocess, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import modelward as mw

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]


def modelward(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # The autouse fixture points MODELWARD_HOME at this test's own embedded home.
    full = dict(os.environ, COLUMNS="200", NO_COLOR="1", **(env or {}))
    return subprocess.run([*CLI, *args], env=full, capture_output=True, text=True, timeout=120)


@pytest.fixture
def home_client(fitted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> mw.Client:
    """The embedded home with credit-scorer v1 (from a run on credit-train) and v2 (child)."""
    monkeypatch.chdir(tmp_path)
    client = mw.Client()
    client.register_dataset("credit-train", fitted.X.assign(bad=fitted.y))
    with client.start_run("credit-risk", params={"C": 0.5}) as run:
        run.log_input("credit-train", role="training")
        v1 = run.log_model(fitted.model, "credit-scorer", description="baseline")
    client.create_model_version("credit-scorer", fitted.model, parent=v1)
    client.update_registered_model("credit-scorer", description="Probability of default")
    yield client
    client.close()


def test_models_list_show_versions_and_aliases(home_client: mw.Client) -> None:
    done = modelward("models", "alias", "set", "credit-scorer", "champion", "1")
    assert done.returncode == 0, done.stderr
    assert "credit-scorer@champion → version 1" in done.stdout

    listed = json.loads(modelward("models", "list", "--json").stdout)
    assert [(m["name"], m["latest_version"], m["aliases"]) for m in listed] == [
        ("credit-scorer", 2, {"champion": 1})
    ]
    table = modelward("models", "list").stdout
    assert "credit-scorer" in table and "Probability of default" in table

    shown = modelward("models", "show", "credit-scorer")
    assert shown.returncode == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if "sklearn" in line]
    assert len(rows) == 2
    assert "champion" in rows[1] and rows[1].lstrip("│ ").startswith("1")
    assert "champion" not in rows[0]
    as_json = json.loads(modelward("models", "show", "credit-scorer", "--json").stdout)
    assert [(v["version"], v["aliases"]) for v in as_json["versions"]] == [
        (2, []),
        (1, ["champion"]),
    ]

    versions = json.loads(modelward("models", "versions", "credit-scorer", "--json").stdout)
    assert [v["ref"] for v in versions] == ["credit-scorer/2", "credit-scorer/1"]
    aliases = json.loads(modelward("models", "alias", "list", "credit-scorer", "--json").stdout)
    assert [(a["alias"], a["version"]) for a in aliases] == [("champion", 1)]

    deleted = modelward("models", "alias", "delete", "credit-scorer", "champion")
    assert deleted.returncode == 0 and "was version 1" in deleted.stdout
    assert home_client.list_aliases("credit-scorer") == []


def test_delete_and_archive_from_the_cli(home_client: mw.Client) -> None:
    home_client.set_alias("credit-scorer", "champion", 1)
    refused = modelward("models", "delete", "credit-scorer/1", "--yes")
    assert refused.returncode == 1
    assert "credit-scorer@champion" in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1

    archived = modelward("models", "archive", "credit-scorer/2")
    assert archived.returncode == 0 and "archived credit-scorer/2" in archived.stdout
    assert home_client.get_version("credit-scorer/2").status == "archived"

    home_client.delete_alias("credit-scorer", "champion")
    home_client.restore_version("credit-scorer/2")
    home_client.create_model_version("credit-scorer", home_client.load_model("credit-scorer/1"))
    done = modelward("models", "delete", "credit-scorer/3", "--yes")
    assert done.returncode == 0 and "deleted credit-scorer/3" in done.stdout
    assert [v.version for v in home_client.list_versions("credit-scorer")] == [2, 1]

    bad = modelward("models", "archive", "credit-scorer/x")
    assert bad.returncode == 2 and "[ref]" in bad.stderr
    missing = modelward("models", "show", "fraud-detector")
    assert (
        missing.returncode == 1 and "no registered model named 'fraud-detector'" in missing.stderr
    )


def test_lineage_prints_a_tree_and_json(home_client: mw.Client) -> None:
    home_client.set_alias("credit-scorer", "candidate", 2)
    run_id = home_client.get_version("credit-scorer/1").run_id

    tree = modelward("lineage", "credit-scorer@candidate")
    assert tree.returncode == 0, tree.stderr
    out = tree.stdout
    assert "credit-scorer/2" in out and "@candidate" in out
    assert "parents" in out and "credit-scorer/1" in out
    assert "run: none recorded" in out  # v2 was registered without a run

    first = modelward("lineage", "credit-scorer/1").stdout
    assert run_id in first and "credit-risk" in first and "C=0.5" in first
    assert "training: credit-train/1" in first

    as_json = json.loads(modelward("lineage", "credit-scorer/1", "--json").stdout)
    assert as_json["run"]["id"] == run_id
    assert [d["dataset"] for d in as_json["datasets"]] == ["credit-train"]

    users = modelward("lineage", "--dataset", "credit-train/1")
    assert users.returncode == 0, users.stderr
    assert "credit-scorer/1" in users.stdout and "as training" in users.stdout
    assert "credit-scorer/2" not in users.stdout


def test_the_cli_works_the_same_against_a_server(live_server, admin_token, fitted) -> None:
    from modelward.client.transport import HttpTransport

    remote = mw.Client.over(HttpTransport(live_server.url, admin_token))
    remote.create_model_version("credit-scorer", fitted.model)
    remote.close()
    env = {"MODELWARD_URI": live_server.url, "MODELWARD_TOKEN": admin_token}
    done = modelward("models", "alias", "set", "credit-scorer", "champion", "1", env=env)
    assert done.returncode == 0, done.stderr
    shown = json.loads(modelward("models", "show", "credit-scorer", "--json", env=env).stdout)
    assert shown["aliases"] == {"champion": 1}
    refused = modelward("models", "alias", "set", "credit-scorer", "latest", "1", env=env)
    assert refused.returncode == 2 and "[alias]" in refused.stderr
