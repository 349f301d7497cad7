"""Runs through both transports on both stores: lifecycle, params, metrics, tags."""

from __future__ import annotations

import math

import pytest

import modelward as mw


def test_start_log_and_finish_a_run(client: mw.Client) -> None:
    with client.start_run("credit-risk", params={"C": 0.5, "penalty": "l2"}, name="lr") as run:
        run.log_metric("auc", 0.90, step=0)
        run.log_metrics({"auc": 0.91, "loss": 0.3}, step=1)
        run.set_tag("team", "risk")
        assert run.info.status == "RUNNING"
    info = client.get_run(run.id)
    assert info.status == "FINISHED" and info.end_time is not None
    assert info.end_time >= info.start_time
    assert info.name == "lr" and info.experiment == "credit-risk"
    assert info.params == {"C": "0.5", "penalty": "l2"}
    assert info.metrics == {"auc": 0.91, "loss": 0.3}
    assert info.tags["team"] == "risk"
    # the experiment was created on the way
    assert [e.name for e in client.list_experiments()] == ["credit-risk"]


def test_an_exception_in_the_block_marks_the_run_failed(client: mw.Client) -> None:
    with pytest.raises(ZeroDivisionError):
        with client.start_run("exp") as run:
            run.log_metric("loss", 1.0)
            raise ZeroDivisionError
    assert client.get_run(run.id).status == "FAILED"


def test_ending_twice_keeps_the_first_end(client: mw.Client) -> None:
    with client.start_run("exp") as run:
        run.end("KILLED")
    assert client.get_run(run.id).status == "KILLED"
    with pytest.raises(mw.Conflict) as exc:
        client.end_run(run.id, "FINISHED")
    assert exc.value.field == "status"
    assert client.get_run(run.id).status == "KILLED"


def test_params_are_immutable_but_relogging_the_same_value_is_fine(client: mw.Client) -> None:
    run = client.start_run("exp", params={"depth": 5})
    run.log_param("depth", "5")
    run.log_params({"lr": 0.1})
    with pytest.raises(mw.Conflict) as exc:
        run.log_param("depth", 6)
    assert exc.value.field == "params.depth" and "depth" in exc.value.message
    # the whole batch was refused: nothing of it was stored
    with pytest.raises(mw.Conflict):
        run.log_batch(metrics=[("m", 1.0)], params={"depth": "7", "new": "x"})
    info = client.get_run(run.id)
    assert info.params == {"depth": "5", "lr": "0.1"} and info.metrics == {}


def test_logging_to_an_ended_run_is_a_conflict_except_tags(client: mw.Client) -> None:
    for status in ("FINISHED", "FAILED"):
        run = client.start_run("exp")
        run.end(status)
        with pytest.raises(mw.Conflict) as exc:
            run.log_metric("auc", 0.5)
        assert exc.value.field == "run_id" and status in exc.value.message
        with pytest.raises(mw.Conflict):
            run.log_param("x", 1)
        run.set_tag("reviewed", "yes")
        run.set_tag("reviewed", "no")
        run.delete_tag("reviewed")
        run.set_tag("note", "ok")
        info = client.get_run(run.id)
        assert info.metrics == {} and info.params == {} and info.tags["note"] == "ok"
        assert "reviewed" not in info.tags


def test_metric_history_and_latest_value(client: mw.Client) -> None:
    run = client.start_run("exp")
    run.log_batch(
        metrics=[
            {"key": "loss", "value": 0.9, "step": 0, "timestamp": 1_000},
            ("loss", 0.5, 2, 3_000),
            ("loss", 0.7, 1, 2_000),
        ]
    )
    # an older step logged later does not replace the latest point
    run.log_metric("loss", 0.8, step=1, timestamp=4_000)
    history = client.get_metric_history(run.id, "loss")
    assert [(p.step, p.value) for p in history] == [(0, 0.9), (1, 0.7), (1, 0.8), (2, 0.5)]
    assert client.get_run(run.id).metrics["loss"] == 0.5
    run.log_metric("loss", 0.4, step=2, timestamp=5_000)  # same step, newer: it wins
    assert client.get_run(run.id).metrics["loss"] == 0.4
    assert client.get_metric_history(run.id, "missing") == []


def test_nan_and_infinities_round_trip(client: mw.Client) -> None:
    run = client.start_run("exp")
    run.log_metrics({"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")})
    metrics = client.get_run(run.id).metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf and metrics["ninf"] == -math.inf
    assert math.isnan(client.get_metric_history(run.id, "nan")[0].value)


def test_numpy_values_are_accepted(client: mw.Client) -> None:
    import numpy as np

    run = client.start_run("exp", params={"C": np.float64(0.5)})
    run.log_metric("auc", np.float32(0.75), step=np.int64(3))
    point = client.get_metric_history(run.id, "auc")[0]
    assert (point.value, point.step) == (0.75, 3)
    assert client.get_run(run.id).params == {"C": "0.5"}


def test_environment_is_captured_as_system_tags(client: mw.Client) -> None:
    import platform

    run = client.start_run("exp")
    tags = client.get_run(run.id).tags
    assert tags["mw.python"] == platform.python_version()
    assert "numpy" in tags["mw.packages"] and tags["mw.user"] and tags["mw.host"]
    bare = client.start_run("exp", capture_environment=False)
    assert client.get_run(bare.id).tags == {}


def test_unknown_and_deleted_runs(client: mw.Client) -> None:
    with pytest.raises(mw.NotFound) as exc:
        client.get_run("0" * 32)
    assert exc.value.field == "run_id"
    run = client.start_run("exp")
    assert client.delete_run(run.id).lifecycle == "deleted"
    with pytest.raises(mw.Conflict):
        run.log_metric("auc", 0.5)
    with pytest.raises(mw.Conflict) as renamed:
        client.update_run(run.id, name="renamed-while-deleted")
    assert renamed.value.field == "run_id"
    with pytest.raises(mw.Conflict):
        client.end_run(run.id)
    deleted = client.get_run(run.id)
    assert deleted.lifecycle == "deleted" and deleted.status == "RUNNING"
    assert deleted.name != "renamed-while-deleted"
    assert client.restore_run(run.id).lifecycle == "active"
    run.log_metric("auc", 0.5)


def test_rename_a_run(client: mw.Client) -> None:
    run = client.start_run("exp", name="first")
    assert client.update_run(run.id, name="second").name == "second"
    assert client.get_run(run.id).name == "second"


def test_one_audit_event_per_request(client: mw.Client) -> None:
    run = client.start_run("exp", params={"a": 1})
    run.log_batch(metrics=[(f"m{i % 7}", i / 10, i) for i in range(1000)], tags={"t": "1"})
    run.end()
    events = client.list_audit_events(entity_id=run.id, limit=1000)
    assert [e.action for e in events] == ["run.create", "run.log_batch", "run.end"]
    assert events[1].summary == {"run_id": run.id, "metrics": 1000, "params": 0, "tags": 1}
    assert client.verify_audit().intact
