"""Oversized or malformed tracking input is refused with the field named; nothing is stored."""

from __future__ import annotations

import httpx
import pytest

import modelward as mw
from modelward.client.transport import HttpTransport
from modelward.store import Store


@pytest.mark.parametrize(
    ("call", "field", "reason"),
    [
        (lambda r: r.log_param("k" * 251, "v"), "params", "251 characters"),
        (lambda r: r.log_param("depth", "x" * 6001), "params.depth", "6001 characters"),
        (lambda r: r.set_tag("note", "x" * 8001), "tags.note", "8001 characters"),
        (lambda r: r.log_metric("m" * 251, 1.0), "metrics.0.key", "251 characters"),
        (lambda r: r.log_metric("auc", 1.0, step=float("nan")), "metrics.0.step", "finite"),
        (lambda r: r.log_metric("auc", 1.0, step=1.5), "metrics.0.step", "integer"),
        (lambda r: r.log_metric("a\x00uc", 1.0), "metrics.0.key", "NUL"),
        (lambda r: r.log_param("depth", "5\x00"), "params.depth", "NUL"),
        (lambda r: r.set_tag("t\x00", "v"), "tags", "NUL"),
        (lambda r: r.log_metric("auc", "high"), "metrics.0.value", "number"),
        (
            lambda r: r.log_batch(metrics=[("m", 1.0)] * 1001),
            "metrics",
            "at most 1000 metrics",
        ),
        (lambda r: r.log_params({f"p{i}": i for i in range(101)}), "params", "at most 100"),
        (lambda r: r.set_tags({f"t{i}": i for i in range(101)}), "tags", "at most 100"),
    ],
)
def test_limits_name_the_field(client: mw.Client, call, field: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    run = client.start_run("exp", capture_environment=False)
    with pytest.raises(mw.InvalidInput) as exc:
        call(run)
    assert exc.value.field == field
    assert reason in exc.value.message
    info = client.get_run(run.id)
    assert info.params == {} and info.metrics == {} and info.tags == {}


def test_limits_at_the_boundary_are_accepted(client: mw.Client) -> None:
    run = client.start_run("exp", capture_environment=False)
    run.log_batch(
        metrics=[("k" * 250, float(i), i) for i in range(1000)],
        params={f"p{i}": "x" * 6000 for i in range(100)},
        tags={f"t{i}": "y" * 8000 for i in range(100)},
    )
    info = client.get_run(run.id)
    assert len(info.params) == 100 and len(info.tags) == 100
    assert len(client.get_metric_history(run.id, "k" * 250)) == 1000


def test_start_run_refuses_bad_names(client: mw.Client) -> None:
    with pytest.raises(mw.InvalidInput) as exc:
        client.start_run("no spaces please")
    assert exc.value.field == "experiment"
    with pytest.raises(mw.InvalidInput) as exc:
        client.start_run("exp", name="x" * 251)
    assert exc.value.field == "name"
    with pytest.raises(mw.InvalidInput) as exc:
        client.end_run(client.start_run("exp").id, status="PAUSED")
    assert exc.value.field == "status"
    assert [e.name for e in client.list_experiments()] == ["exp"]


def test_the_server_refuses_what_a_raw_http_caller_sends(
    live_server, admin_token: str, store: Store
) -> None:  # type: ignore[no-untyped-def]
    """The SDK validates first, but the server must not trust it."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=live_server.url, headers=headers) as http:
        run = http.post("/api/v1/runs", json={"experiment": "exp"}).json()
        too_many = {"metrics": [{"key": "m", "value": 1.0}] * 1001}
        resp = http.post(f"/api/v1/runs/{run['id']}/batch", json=too_many)
        assert resp.status_code == 400
        assert resp.json()["error"]["field"] == "metrics"
        bad_step = {"metrics": [{"key": "m", "value": 1.0, "step": "NaN"}]}
        resp = http.post(f"/api/v1/runs/{run['id']}/batch", json=bad_step)
        assert resp.status_code == 400 and resp.json()["error"]["field"] == "metrics.0.step"
        resp = http.post(f"/api/v1/runs/{run['id']}/batch", content=b"\xff\xfe not json")
        assert resp.status_code == 400
        bad_filter = {"experiments": ["exp"], "filter": "metrics.auc >> 1"}
        resp = http.post("/api/v1/runs/search", json=bad_filter)
        error = resp.json()["error"]
        assert resp.status_code == 400 and error["field"] == "filter"
        assert error["message"].endswith("at position 13") and error["details"] == {"position": 13}
        assert http.get(f"/api/v1/runs/{run['id']}").json()["metrics"] == {}
        # Start and end are shown as dates: past the year 9999 is refused, never a 500.
        too_late = 253_402_300_800_000
        resp = http.post("/api/v1/runs", json={"experiment": "exp", "start_time": too_late})
        assert resp.status_code == 400 and resp.json()["error"]["field"] == "start_time"
        resp = http.patch(f"/api/v1/runs/{run['id']}", json={"end_time": too_late})
        assert resp.status_code == 400 and resp.json()["error"]["field"] == "end_time"
        assert http.get(f"/api/v1/runs/{run['id']}").json()["status"] == "RUNNING"


def test_a_viewer_cannot_log(live_server, admin_token: str, store: Store) -> None:  # type: ignore[no-untyped-def]
    admin = mw.Client.over(HttpTransport(live_server.url, admin_token))
    secret = admin.create_token("reader", role="viewer").token
    viewer = mw.Client.over(HttpTransport(live_server.url, secret))
    run = admin.start_run("exp")
    with pytest.raises(mw.Forbidden):
        viewer.start_run("exp")
    with pytest.raises(mw.Forbidden):
        viewer.log_batch(run.id, metrics=[("auc", 1.0)])
    assert viewer.get_run(run.id).metrics == {}
    assert len(viewer.search_runs("exp").runs) == 1
    viewer.close()
    admin.close()
