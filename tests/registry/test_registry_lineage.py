"""Lineage: from a version to its run, datasets, code and parents; from a dataset to versions."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

import modelward as mw


@dataclass
class Trained:
    commit: str
    v1: object
    v2: object
    run1: str
    run2: str


def _git_repo(path: Path) -> str:
    path.mkdir()

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=path, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    git("init", "-q")
    (path / "train.py").write_text("print('train')\n")
    git("add", "train.py")
    git("-c", "user.name=ci", "-c", "user.email=ci@example.org", "commit", "-qm", "train")
    return git("rev-parse", "HEAD")


@pytest.fixture
def trained(client: mw.Client, fitted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Trained:
    """Two runs: v1 on train+holdout, v2 (child of v1) on train, then an extra input later."""
    commit = _git_repo(tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    frame = fitted.X.assign(bad=fitted.y)
    client.register_dataset("credit-train", frame.iloc[:150])
    client.register_dataset("credit-holdout", frame.iloc[150:])
    client.register_dataset("credit-recent", frame.iloc[100:])
    with client.start_run("credit-risk", params={"C": 0.5, "max_iter": 500}) as run1:
        run1.log_input("credit-train/1", role="training")
        run1.log_input("credit-holdout", role="evaluation")
        run1.log_metrics({"auc": 0.91})
        v1 = run1.log_model(fitted.model, "credit-scorer", signature=mw.infer_signature(fitted.X))
    with client.start_run("credit-risk", params={"C": 0.1}) as run2:
        run2.log_input("credit-train", role="training")
        v2 = run2.log_model(fitted.model, "credit-scorer", parent=v1)
        # Logged after registration: the version's own inputs stay as they were.
        run2.log_input("credit-recent", role="evaluation")
    client.set_alias("credit-scorer", "candidate", v2.version)
    return Trained(commit, v1, v2, run1.id, run2.id)


def test_version_lineage_names_run_datasets_code_parents_and_aliases(
    client: mw.Client, trained: Trained
) -> None:
    lineage = client.get_version("credit-scorer@candidate").lineage()
    assert lineage.version.ref == "credit-scorer/2"
    assert lineage.version.aliases == ["candidate"]
    assert lineage.run is not None
    assert (lineage.run.id, lineage.run.experiment, lineage.run.status) == (
        trained.run2,
        "credit-risk",
        "FINISHED",
    )
    assert lineage.run.params == {"C": "0.1"}
    assert [(d.dataset, d.version, d.role) for d in lineage.datasets] == [
        ("credit-train", 1, "training")
    ]
    assert lineage.code is not None
    assert (lineage.code.commit, lineage.code.dirty) == (trained.commit, False)
    assert [p.ref for p in lineage.parents] == ["credit-scorer/1"]

    first = client.get_version_lineage("credit-scorer/1")
    assert first.run.metrics == {"auc": 0.91}
    assert first.run.params == {"C": "0.5", "max_iter": "500"}
    assert [(d.dataset, d.role) for d in first.datasets] == [
        ("credit-holdout", "evaluation"),
        ("credit-train", "training"),
    ]
    train = client.get_dataset("credit-train/1")
    assert first.datasets[1].content_hash == train.content_hash
    assert first.parents == []


def test_dataset_lineage_finds_every_version_trained_or_evaluated_on_it(
    client: mw.Client, trained: Trained
) -> None:
    train = client.get_dataset_lineage("credit-train/1")
    assert train.dataset.ref == "credit-train/1"
    assert [(u.version.ref, u.roles) for u in train.model_versions] == [
        ("credit-scorer/1", ["training"]),
        ("credit-scorer/2", ["training"]),
    ]
    assert [r.id for r in train.runs] == [trained.run1, trained.run2]

    holdout = client.get_dataset_lineage("credit-holdout")
    assert [(u.version.ref, u.roles) for u in holdout.model_versions] == [
        ("credit-scorer/1", ["evaluation"])
    ]
    # Logged by the run after the version was registered: found through run_inputs.
    recent = client.get_dataset_lineage("credit-recent")
    assert [(u.version.ref, u.roles) for u in recent.model_versions] == [
        ("credit-scorer/2", ["evaluation"])
    ]
    with pytest.raises(mw.NotFound) as missing:
        client.get_dataset_lineage("credit-unknown")
    assert missing.value.field == "dataset"


def test_a_version_without_a_run_has_an_empty_lineage(client: mw.Client, fitted) -> None:
    client.create_model_version("credit-scorer", fitted.model)
    lineage = client.get_version_lineage("credit-scorer")
    assert (lineage.run, lineage.code, lineage.datasets, lineage.parents) == (None, None, [], [])
    assert lineage.version.ref == "credit-scorer/1"
