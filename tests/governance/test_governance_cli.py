"""The governance commands in a subprocess, as a risk team runs them, on each store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import modelward as mw
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.config import StoreLocation
from modelward.demo.scenario import HOLDOUT_DATASET, MODEL, TARGET
from modelward.store import Store

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only: the CLI runs the same SDK calls on either database, and the SDK and HTTP
    tests cover PostgreSQL; each command here is a process that takes a while to start."""
    return sqlite_url


@pytest.fixture
def location(db_url: str, tmp_path: Path) -> StoreLocation:
    return StoreLocation(db_url, str(tmp_path / "artifacts"))


@pytest.fixture
def home(location: StoreLocation, kit: Any) -> Iterator[mw.Client]:
    """The store the commands use, holding the governed credit model."""
    client = mw.Client(location.db_url, artifacts=location.artifact_root)
    kit.register(client)
    yield client
    client.close()


@pytest.fixture
def approvers(location: StoreLocation) -> Iterator[list[mw.Client]]:
    store = Store(location)
    yield [
        mw.Client.over(LocalTransport(store, Principal(name, Role.approver)))
        for name in ("alice", "bob")
    ]
    store.close()


def modelward(location: StoreLocation, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        COLUMNS="200",
        NO_COLOR="1",
        MODELWARD_URI=location.db_url,
        MODELWARD_ARTIFACTS=location.artifact_root,
    )
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def test_check_evaluate_card_and_promote_from_the_cli(
    home: mw.Client,
    approvers: list[mw.Client],
    location: StoreLocation,
    kit: Any,
    tmp_path: Path,
) -> None:
    ref = f"{MODEL}/2"
    check = modelward(location, "policy", "check", ref, "--to", "champion")
    assert check.returncode == 1, check.stderr
    assert "REFUSED" in check.stdout and "tier high" in check.stdout
    for rule in ("holdout-evaluation", "approvals", "explainability", "default-high v1"):
        assert rule in check.stdout

    refused = modelward(location, "promote", ref, "--to", "champion")
    assert refused.returncode == 1
    assert "REFUSED" in refused.stderr and "model-card" in refused.stderr
    assert "is refused" in refused.stderr and "Traceback" not in refused.stderr
    assert home.get_version(f"{MODEL}@champion").version == 1

    evaluated = modelward(
        location, "evaluate", ref,
        "--dataset", HOLDOUT_DATASET, "--target", TARGET,
        "--against", "champion", "--sensitive", kit.sensitive,
        "--bootstrap", "200", "--json",
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    stored = json.loads(evaluated.stdout)
    assert (stored["name"], stored["against_version"]) == ("holdout", 1)
    assert kit.sensitive in stored["results"]["fairness"]
    assert [e.id for e in home.list_evaluations(ref)] == [stored["id"]]
    home.explain(ref, dataset=HOLDOUT_DATASET, target=TARGET, n_repeats=2, sample=250)

    sections = dict(kit.card_sections)
    overview = sections.pop("overview")
    (tmp_path / "card.yaml").write_text(yaml.safe_dump(sections), encoding="utf-8")
    edited = modelward(
        location, "card", "edit", ref, "--from", str(tmp_path / "card.yaml"),
        "--set", f"overview={overview}",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    assert f"{ref} card v1" in edited.stdout and "still required" not in edited.stdout
    shown = modelward(location, "card", "show", ref)
    assert shown.returncode == 0, shown.stderr
    assert overview in shown.stdout and kit.card_sections["out_of_scope_uses"] in shown.stdout

    request = home.request_promotion(ref, "champion")
    for approver in approvers:
        approver.approve(request.id, "evidence reviewed")
    passing = modelward(location, "policy", "check", ref, "--to", "champion")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "PASS" in passing.stdout
    promoted = modelward(location, "promote", ref, "--to", "champion")
    assert promoted.returncode == 0, promoted.stderr
    assert f"{MODEL}@champion → version 2" in promoted.stdout
    assert home.get_promotion(request.id).status == "completed"


def test_exported_pack_verifies_and_a_tampered_one_does_not(
    home: mw.Client, location: StoreLocation, kit: Any, tmp_path: Path
) -> None:
    # Promoted with a recorded override, so the pack holds a gate decision to prove.
    home.set_alias(MODEL, "champion", 2, override="Emergency rollback of the pricing model.")
    key = tmp_path / "audit.pem"
    made = modelward(location, "audit", "keygen", "--out", str(key))
    assert made.returncode == 0, made.stderr
    public_key = Path(f"{key}.pub")

    pack = tmp_path / "pack.zip"
    exported = modelward(
        location, "export", "pack", f"{MODEL}@champion", str(pack), "--sign-with", str(key)
    )
    assert exported.returncode == 0, exported.stderr
    assert f"wrote {pack}" in exported.stdout and "signed checkpoint at seq" in exported.stdout

    verified = modelward(
        location, "audit", "verify", "--pack", str(pack), "--public-key-file", str(public_key)
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "pack verified" in verified.stdout

    override = home.list_audit_events(action="gate.override")[0]
    forged = tmp_path / "forged.zip"
    kit.tamper_event(pack, forged, override.seq, actor="someone-else")
    caught = modelward(
        location, "audit", "verify", "--pack", str(forged), "--public-key-file", str(public_key)
    )
    assert caught.returncode == 1
    assert "pack FAILED" in caught.stdout
    assert f"chain: seq {override.seq}:" in caught.stdout
