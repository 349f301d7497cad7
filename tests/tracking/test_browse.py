"""Reads for browsing: each experiment's run count and newest run, the keys an experiment's
newest runs use, and the model versions a run produced. Over each transport and store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

import modelward as mw
from modelward.tracking.schemas import RunCreate

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, in ms


def call(client: mw.Client, op: str, **kwargs: Any) -> Any:
    return client._transport.call(op, **kwargs)


def run_at(client: mw.Client, experiment: str, start_ms: int, **fields: Any) -> str:
    """A run started at a known time (no environment tags: only what the test logs)."""
    body = RunCreate(experiment=experiment, start_time=start_ms, **fields)
    return str(call(client, "create_run", body=body).id)


def summaries(client: mw.Client) -> dict[str, Any]:
    return {s.name: s for s in call(client, "list_experiment_summaries")}


# --- experiment summaries -----------------------------------------------------------------


def test_summaries_count_runs_not_deleted_and_the_newest_start(client: mw.Client) -> None:
    client.create_experiment("empty", description="nothing yet")
    run_at(client, "credit-risk", T0)
    second = run_at(client, "credit-risk", T0 + 60_000)
    newest = run_at(client, "credit-risk", T0 + 120_000)
    client.delete_run(newest)

    found = summaries(client)
    assert list(found) == ["empty", "credit-risk"]  # in the order they were created
    empty, risk = found["empty"], found["credit-risk"]
    assert (empty.run_count, empty.last_run_time, empty.description) == (0, None, "nothing yet")
    assert risk.run_count == 2
    assert risk.last_run_time == client.get_run(second).start_time
    assert risk.created_by == "test-admin"

    client.restore_run(newest)
    risk = summaries(client)["credit-risk"]
    assert risk.run_count == 3 and risk.last_run_time == client.get_run(newest).start_time


def test_an_experiment_whose_runs_are_all_deleted_has_none(client: mw.Client) -> None:
    only = run_at(client, "scratch", T0)
    client.delete_run(only)
    scratch = summaries(client)["scratch"]
    assert (scratch.run_count, scratch.last_run_time) == (0, None)


# --- an experiment's keys -----------------------------------------------------------------


@pytest.fixture
def keyed(client: mw.Client) -> mw.Client:
    """Three runs of credit-risk: an old one, a new one, and a newer deleted one."""
    old = run_at(client, "credit-risk", T0, params={"zeta": "1", "alpha": "2"}, tags={"old": "y"})
    client.log_batch(old, metrics=[("old_auc", 0.7, 0), ("shared", 1.0, 0)])
    new = run_at(client, "credit-risk", T0 + 1_000, params={"beta": "x"}, tags={"team": "risk"})
    client.log_batch(new, metrics=[("shared", 2.0, 0), ("new_auc", 0.8, 0), ("new_auc", 0.9, 1)])
    gone = run_at(client, "credit-risk", T0 + 2_000, params={"gone": "1"}, tags={"gone": "1"})
    client.log_batch(gone, metrics=[("gone", 1.0, 0)])
    client.delete_run(gone)
    return client


def test_keys_are_sorted_and_skip_deleted_runs(keyed: mw.Client) -> None:
    keys = call(keyed, "get_experiment_keys", name="credit-risk")
    assert keys.experiment == "credit-risk"
    assert keys.metrics == ["new_auc", "old_auc", "shared"]
    assert keys.params == ["alpha", "beta", "zeta"]
    assert keys.tags == ["old", "team"]
    assert (keys.runs_read, keys.truncated) == (2, False)


def test_keys_come_from_the_newest_runs_asked_for(keyed: mw.Client) -> None:
    newest = call(keyed, "get_experiment_keys", name="credit-risk", runs=1)
    assert newest.metrics == ["new_auc", "shared"]
    assert newest.params == ["beta"] and newest.tags == ["team"]
    assert newest.runs_read == 1


def test_more_keys_than_the_limit_are_cut_and_flagged(client: mw.Client) -> None:
    from modelward.tracking.browse import MAX_KEYS

    run = run_at(client, "wide", T0)
    names = [f"m{i:04d}" for i in range(MAX_KEYS + 1)]
    client.log_batch(run, metrics=[(k, 0.5, 0) for k in names])
    keys = call(client, "get_experiment_keys", name="wide")
    assert keys.truncated is True
    assert keys.metrics == names[:MAX_KEYS]
    assert keys.params == [] and keys.tags == []


@pytest.mark.parametrize("runs", [0, -5, 100_001])
def test_a_bad_run_count_is_refused_naming_the_field(keyed: mw.Client, runs: int) -> None:
    with pytest.raises(mw.InvalidInput) as bad:
        call(keyed, "get_experiment_keys", name="credit-risk", runs=runs)
    assert bad.value.field == "runs" and "runs" in str(bad.value)


def test_keys_of_an_unknown_experiment_are_not_found_naming_it(client: mw.Client) -> None:
    with pytest.raises(mw.NotFound) as missing:
        call(client, "get_experiment_keys", name="no-such-experiment")
    assert "no-such-experiment" in str(missing.value)


# --- a run's model versions ---------------------------------------------------------------


def _version(client: mw.Client, tmp_path: Path, name: str, run_id: str) -> Any:
    artifact = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}.txt"
    artifact.write_text(str(artifact), encoding="utf-8")
    return client.create_model_version(name, artifact, run_id=run_id)


def test_a_runs_model_versions_are_listed_oldest_first_with_aliases(
    client: mw.Client, tmp_path: Path
) -> None:
    trained = run_at(client, "credit-risk", T0)
    other = run_at(client, "credit-risk", T0 + 1_000)
    made = [
        _version(client, tmp_path, "credit-scorer", trained),
        _version(client, tmp_path, "fraud-detector", trained),
        _version(client, tmp_path, "credit-scorer", other),
        _version(client, tmp_path, "credit-scorer", trained),
    ]
    client.set_alias("fraud-detector", "shadow", 1)
    client.set_alias("credit-scorer", "champion", 3)
    client.set_alias("credit-scorer", "candidate", 3)
    client.set_alias("credit-scorer", "elsewhere", 2)
    client.archive_version("credit-scorer/1")

    listed = call(client, "list_run_model_versions", run_id=trained)
    assert [v.ref for v in listed] == ["credit-scorer/1", "fraud-detector/1", "credit-scorer/3"]
    assert [v.aliases for v in listed] == [[], ["shadow"], ["candidate", "champion"]]
    assert [v.status for v in listed] == ["archived", "active", "active"]
    mine = [made[0], made[1], made[3]]
    assert [(v.name, v.version, v.digest) for v in listed] == [
        (m.name, m.version, m.digest) for m in mine
    ]
    assert {v.flavor for v in listed} == {"files"}
    assert [v.ref for v in call(client, "list_run_model_versions", run_id=other)] == [
        "credit-scorer/2"
    ]


def test_a_run_without_model_versions_has_none(client: mw.Client) -> None:
    assert call(client, "list_run_model_versions", run_id=run_at(client, "credit-risk", T0)) == []


def test_model_versions_of_an_unknown_run_are_not_found(client: mw.Client) -> None:
    with pytest.raises(mw.NotFound) as missing:
        call(client, "list_run_model_versions", run_id="0123456789abcdef0123456789abcdef")
    assert "0123456789abcdef0123456789abcdef" in str(missing.value)


# --- the REST routes ----------------------------------------------------------------------


def test_the_routes_answer_in_the_api_shape(store: Any, live_server: Any, admin_token: str) -> None:
    from modelward.auth.roles import Principal, Role
    from modelward.client.transport import LocalTransport

    local = mw.Client.over(LocalTransport(store, Principal("test-admin", Role.admin)))
    run_at(local, "credit-risk", T0, params={"C": "1"})
    bearer = {"Authorization": f"Bearer {admin_token}"}
    api = f"{live_server.url}/api/v1"
    listed = httpx.get(f"{api}/experiment-summaries", headers=bearer, timeout=30)
    assert listed.status_code == 200 and listed.json()[0]["run_count"] == 1
    keys = httpx.get(f"{api}/experiments/credit-risk/keys", headers=bearer, timeout=30)
    assert keys.status_code == 200 and keys.json()["params"] == ["C"]
    bad = httpx.get(
        f"{api}/experiments/credit-risk/keys", params={"runs": "many"}, headers=bearer, timeout=30
    )
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "runs"
    missing = httpx.get(f"{api}/runs/nope/model-versions", headers=bearer, timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{api}/experiment-summaries", timeout=30).status_code == 401
