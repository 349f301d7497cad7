"""Run artifacts (content-addressed, verified on download) and input datasets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import modelward as mw
from modelward.store import Store


def test_log_list_and_download_artifacts(client: mw.Client, tmp_path: Path) -> None:
    src = tmp_path / "out"
    (src / "plots").mkdir(parents=True)
    (src / "plots" / "roc.png").write_bytes(b"\x89PNG roc")
    (src / "report.txt").write_text("auc 0.91")
    with client.start_run("exp") as run:
        run.log_artifact(src / "report.txt")
        run.log_artifact(src / "plots", "figures")
        run.log_artifacts(src, "all")
        run.log_text("hello", "notes/readme.md")
    paths = [a.path for a in client.list_run_artifacts(run.id)]
    assert paths == [
        "all/plots/roc.png",
        "all/report.txt",
        "figures/plots/roc.png",
        "notes/readme.md",
        "report.txt",
    ]
    assert [a.path for a in client.list_run_artifacts(run.id, prefix="figures")] == [
        "figures/plots/roc.png"
    ]
    (report,) = [a for a in client.list_run_artifacts(run.id) if a.path == "report.txt"]
    assert report.size == 8 and len(report.digest) == 64
    assert client.read_run_artifact(run.id, "notes/readme.md") == b"hello"
    one = client.download_run_artifact(run.id, "report.txt", tmp_path / "dl1")
    assert one == tmp_path / "dl1" / "report.txt" and one.read_text() == "auc 0.91"
    folder = client.download_run_artifact(run.id, "figures", tmp_path / "dl2")
    assert (folder / "plots" / "roc.png").read_bytes() == b"\x89PNG roc"


def test_artifact_paths_are_validated_and_write_once(client: mw.Client, tmp_path: Path) -> None:
    run = client.start_run("exp")
    for bad in ("../escape.txt", "/etc/passwd", "a/../../b"):
        with pytest.raises(mw.InvalidInput) as exc:
            run.log_text("x", bad)
        assert exc.value.field == "artifact_file"
    run.log_text("first", "model/notes.txt")
    run.log_text("first", "model/notes.txt")  # the same bytes again: fine
    with pytest.raises(mw.Conflict) as exc:
        run.log_text("second", "model/notes.txt")
    assert exc.value.field == "path"
    assert client.read_run_artifact(run.id, "model/notes.txt") == b"first"
    with pytest.raises(mw.NotFound) as missing:
        client.read_run_artifact(run.id, "nope.txt")
    assert missing.value.field == "path"
    with pytest.raises(mw.NotFound):
        run.log_artifact(tmp_path / "does-not-exist")
    run.end()
    with pytest.raises(mw.Conflict):
        run.log_text("late", "late.txt")


def test_a_tampered_artifact_is_refused(client: mw.Client, store: Store) -> None:
    run = client.start_run("exp")
    record = run.log_text("the real bytes", "data.txt")
    blob = Path(store.artifacts.local_path(record.digest))  # type: ignore[arg-type]
    blob.write_bytes(b"the fake bytes")
    with pytest.raises(mw.IntegrityError) as exc:
        client.read_run_artifact(run.id, "data.txt")
    assert record.digest in exc.value.message


def test_inputs_record_dataset_versions_with_roles(client: mw.Client) -> None:
    train = client.register_dataset("credit-train", pd.DataFrame({"x": [1, 2, 3]}))
    holdout = client.register_dataset("credit-holdout", pd.DataFrame({"x": [4, 5]}))
    with client.start_run("exp") as run:
        first = run.log_input(train)
        run.log_input(train, role="training")  # recorded once
        run.log_input("credit-holdout@latest", role="evaluation")
    assert first.dataset == "credit-train" and first.version == 1 and first.role == "training"
    inputs = client.get_run(run.id).inputs
    assert [(i.dataset, i.version, i.role) for i in inputs] == [
        ("credit-train", 1, "training"),
        ("credit-holdout", 1, "evaluation"),
    ]
    assert inputs[1].content_hash == holdout.content_hash
    (found,) = client.search_runs("exp").runs
    assert len(found.inputs) == 2
    events = client.list_audit_events(entity_id=run.id, action="run.log_input")
    assert len(events) == 2


def test_bad_inputs_are_refused(client: mw.Client) -> None:
    run = client.start_run("exp")
    with pytest.raises(mw.NotFound) as exc:
        run.log_input("no-such-dataset")
    assert exc.value.field == "dataset"
    with pytest.raises(mw.InvalidInput) as bad:
        run.log_input(42)
    assert bad.value.field == "dataset"
    client.register_dataset("d", pd.DataFrame({"x": [1]}))
    with pytest.raises(mw.InvalidInput) as role:
        run.log_input("d/1", role="no spaces")
    assert role.value.field == "role"
    assert client.get_run(run.id).inputs == []


def test_log_model_registers_a_version_sourced_from_the_run(client: mw.Client) -> None:
    from sklearn.linear_model import LogisticRegression

    train = client.register_dataset("train", pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}))
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with client.start_run("exp") as run:
        run.log_input(train)
        version = run.log_model(model, "scorer", description="first")
    assert version.name == "scorer" and version.version == 1
    assert version.info.run_id == run.id
