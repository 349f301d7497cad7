"""Delayed labels: joined by prediction id, unknown ids reported, relabels kept as history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import event
from test_prediction_log import ENDPOINT, MonitoredClient, batch, deploy

import modelward as mw
from modelward.auth.roles import Principal, Role
from modelward.errors import InvalidInput
from modelward.monitoring.labels import labeled_predictions, labels_for
from modelward.monitoring.tables import Endpoint, LabelFact
from modelward.store import Store

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def logged(client: mw.Client) -> tuple[MonitoredClient, list[str]]:
    monitored = deploy(client)
    features, preds, ids = batch(40)
    times = [T0 + timedelta(minutes=i) for i in range(40)]
    monitored.log_predictions(ENDPOINT, features, preds, ids=ids, timestamps=times)
    return monitored, ids


def test_labels_join_by_id_and_unknown_ids_are_reported_not_stored(
    logged: tuple[MonitoredClient, list[str]],
) -> None:
    monitored, ids = logged
    unknown = [f"ghost-{i}" for i in range(25)]
    receipt = monitored.log_labels(ENDPOINT, ids[:10] + unknown, [1] * 10 + [0] * 25)
    assert (receipt.received, receipt.stored, receipt.unknown) == (35, 10, 25)
    assert receipt.unknown_ids == unknown[:20]
    events = monitored.list_audit_events(action="labels.log")
    assert len(events) == 1 and events[0].summary["stored"] == 10


def test_a_relabel_is_a_new_fact_and_the_latest_label_time_wins(
    logged: tuple[MonitoredClient, list[str]], store: Store
) -> None:
    monitored, ids = logged
    monitored.log_labels(ENDPOINT, ids[:3], ["good", "bad", "good"], label_time=T0)
    later = monitored.log_labels(ENDPOINT, ids[:1], ["bad"], label_time=T0 + timedelta(days=2))
    assert later.relabeled == 1
    # A late-arriving correction dated earlier does not override the newer label.
    monitored.log_labels(ENDPOINT, ids[:1], ["good"], label_time=T0 + timedelta(days=1))
    with store.unit_of_work(Principal("reader", Role.viewer), write=False) as uow:
        endpoint = uow.session.query(Endpoint).filter_by(name=ENDPOINT).one()
        current = labels_for(uow.session, endpoint.id, ids[:3])
        history = uow.session.query(LabelFact).filter_by(prediction_id=ids[0]).count()
        frame = labeled_predictions(uow, ENDPOINT, since=T0, until=T0 + timedelta(hours=1))
    assert current[ids[0]][0] == "bad" and current[ids[1]][0] == "bad"
    assert history == 3
    assert list(frame.columns) == [
        "prediction_id",
        "ts",
        "prediction",
        "score",
        "label",
        "label_time",
    ]
    assert sorted(frame["prediction_id"]) == sorted(ids[:3])
    first = frame.set_index("prediction_id").loc[ids[0]]
    assert first["label"] == "bad" and first["label_time"] == pd.Timestamp(T0 + timedelta(days=2))
    assert first["ts"] == pd.Timestamp(T0)


def test_labels_keep_their_type_and_windows_filter_prediction_time(
    logged: tuple[MonitoredClient, list[str]], store: Store
) -> None:
    monitored, ids = logged
    monitored.log_labels(ENDPOINT, ids, list(range(40)))
    with store.unit_of_work(Principal("reader", Role.viewer), write=False) as uow:
        window = labeled_predictions(
            uow, ENDPOINT, since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=20)
        )
    assert sorted(window["label"]) == list(range(10, 20))


def test_bad_label_batches_are_refused(logged: tuple[MonitoredClient, list[str]]) -> None:
    monitored, ids = logged
    with pytest.raises(InvalidInput) as dup:
        monitored.log_labels(ENDPOINT, [ids[0], ids[0]], [1, 0])
    assert dup.value.field == "ids"
    with pytest.raises(InvalidInput) as short:
        monitored.log_labels(ENDPOINT, ids[:3], [1, 0])
    assert short.value.field == "labels"
    with pytest.raises(InvalidInput) as missing:
        monitored.log_labels(ENDPOINT, ids[:2], [1, None])
    assert missing.value.field == "labels"


def test_cli_logs_predictions_and_labels_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    from typer.testing import CliRunner

    from modelward.cli.main import app

    if not hasattr(mw.Client, "log_predictions"):
        pytest.skip("the CLI needs PredictionsAPI in modelward.Client")
    monkeypatch.setenv("MODELWARD_URI", sqlite_url)
    monkeypatch.setenv("MODELWARD_ARTIFACTS", str(tmp_path / "artifacts"))
    with mw.Client(sqlite_url, artifacts=str(tmp_path / "artifacts")) as client:
        deploy(client)
    features, preds, ids = batch(12)
    features.assign(prediction=preds, id=ids, ts="2024-05-01T12:30:00Z").to_csv(
        tmp_path / "preds.csv", index=False
    )
    pd.DataFrame({"id": ids[:5] + ["ghost"], "label": [1, 0, 1, 0, 1, 0]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    runner = CliRunner()
    args = ["predictions", "log", ENDPOINT, str(tmp_path / "preds.csv")]
    out = runner.invoke(app, [*args, "--id-column", "id", "--ts-column", "ts"])
    assert out.exit_code == 0, out.output
    assert "12 logged" in out.output
    again = runner.invoke(app, [*args, "--id-column", "id", "--ts-column", "ts"])
    assert "12 already logged" in again.output
    listed = runner.invoke(app, ["predictions", "segments", ENDPOINT])
    assert "1 segment(s), 12 predictions" in listed.output
    labelled = runner.invoke(app, ["labels", "log", ENDPOINT, str(tmp_path / "labels.csv")])
    assert labelled.exit_code == 0, labelled.output
    assert "5 of 6 labels stored" in labelled.output and "ghost" in labelled.output


def test_labels_are_found_through_one_index_on_endpoint_and_id(
    logged: tuple[MonitoredClient, list[str]], store: Store
) -> None:
    # With an index on each column alone, SQLite read all of an endpoint's labels for every
    # id looked up, and a monitoring run slowed with the square of the labels stored.
    monitored, ids = logged
    monitored.log_labels(ENDPOINT, ids, [1] * len(ids))
    sent: list[tuple[str, Any]] = []

    def keep(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        if "label_facts" in statement:
            sent.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", keep)
    try:
        with store.unit_of_work(Principal("reader", Role.viewer), write=False) as uow:
            endpoint = uow.session.query(Endpoint).filter_by(name=ENDPOINT).one()
            assert len(labels_for(uow.session, endpoint.id, ids[:5])) == 5
            statement, params = sent[-1]
            conn = uow.session.connection()
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
            else:
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    finally:
        event.remove(store.engine, "before_cursor_execute", keep)
    text = " ".join(str(part) for row in plan for part in row)
    assert "ix_label_facts_endpoint_id_prediction_id" in text, text
