"""Reading the trail: filters and paging, export as JSON Lines and CSV, on every transport."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from audit_helpers import local_client, populate, run_cli

import modelward as mw
from modelward.store import Store


def _make_history(client: mw.Client) -> None:
    for name in ("credit-risk", "fraud", "churn"):
        client.create_experiment(name)
    created = client.create_token("ci-bot", role="viewer")
    client.revoke_token(created.id)


def test_every_change_is_an_event_with_actor_action_and_entity(client: mw.Client) -> None:
    _make_history(client)
    events = client.list_audit_events(entity_type="experiment")
    assert [(e.action, e.entity_id) for e in events] == [
        ("experiment.create", "credit-risk"),
        ("experiment.create", "fraud"),
        ("experiment.create", "churn"),
    ]
    assert {e.actor for e in events} == {"test-admin"}
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    [revoked] = client.list_audit_events(action="token.revoke")
    assert revoked.entity_type == "token" and revoked.summary == {}


def test_filters_combine_and_prefixes_match(client: mw.Client) -> None:
    _make_history(client)
    token_actions = [e.action for e in client.list_audit_events(action="token.*")]
    assert "token.create" in token_actions and "token.revoke" in token_actions
    assert {e.action for e in client.list_audit_events(action="token.*")} <= {
        "token.create",
        "token.revoke",
    }
    assert [e.entity_id for e in client.list_audit_events(entity_id="fraud")] == ["fraud"]
    assert client.list_audit_events(actor="nobody") == []
    # '_' and '%' in a prefix are literal characters, not wildcards.
    assert client.list_audit_events(action="token_*") == []


def test_paging_walks_every_event_once(client: mw.Client) -> None:
    _make_history(client)
    everything = client.list_audit_events(limit=1000)
    first = client.list_audit_events(limit=2)
    rest = client.list_audit_events(after_seq=first[-1].seq, limit=1000)
    assert [e.seq for e in first + rest] == [e.seq for e in everything]
    newest = client.list_audit_events(newest_first=True, limit=2)
    assert [e.seq for e in newest] == [e.seq for e in everything[::-1][:2]]
    older = client.list_audit_events(newest_first=True, before_seq=newest[-1].seq, limit=1)
    assert older[0].seq == newest[-1].seq - 1
    assert [e.seq for e in client.iter_audit_events(page_size=2)] == [e.seq for e in everything]


def test_time_window_and_bad_filters(client: mw.Client) -> None:
    _make_history(client)
    now = datetime.now(UTC)
    assert len(client.list_audit_events(since=now - timedelta(minutes=5))) >= 5
    assert client.list_audit_events(since=(now + timedelta(minutes=5)).isoformat()) == []
    assert client.list_audit_events(until="2000-01-01") == []
    with pytest.raises(mw.InvalidInput) as bad_since:
        client.list_audit_events(since="last tuesday")
    assert bad_since.value.field == "since"
    with pytest.raises(mw.InvalidInput) as backwards:
        client.list_audit_events(since="2025-02-01", until="2025-01-01")
    assert backwards.value.field == "until"
    with pytest.raises(mw.InvalidInput) as too_many:
        client.list_audit_events(limit=0)
    assert too_many.value.field == "limit"


def _rehash(events: list[dict[str, object]]) -> None:
    """Re-verify an export with nothing but hashlib and json, as an outside auditor would."""
    prev = "0" * 64
    for e in events:
        summary = e["summary"]
        if not isinstance(summary, str):
            summary = json.dumps(summary, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        fields = [int(e["seq"]), int(e["time_ms"]), e["actor"], e["action"], e["entity_type"]]
        fields += [e["entity_id"], e["state_digest"], summary]
        payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        assert e["prev_hash"] == prev
        assert hashlib.sha256((prev + payload).encode()).hexdigest() == e["hash"]
        prev = str(e["hash"])


def test_export_jsonl_and_csv_can_be_verified_elsewhere(client: mw.Client) -> None:
    _make_history(client)
    total = len(client.list_audit_events(limit=1000))
    jsonl = io.StringIO()
    assert client.export_audit(jsonl, format="jsonl") == total
    records = [json.loads(line) for line in jsonl.getvalue().splitlines()]
    assert len(records) == total and records[0]["seq"] == 1
    _rehash(records)

    table = io.StringIO()
    assert client.export_audit(table, format="csv") == total
    rows = list(csv.DictReader(io.StringIO(table.getvalue())))
    assert len(rows) == total
    _rehash(rows)  # type: ignore[arg-type]

    with pytest.raises(mw.InvalidInput) as bad:
        client.export_audit(io.StringIO(), format="xml")
    assert bad.value.field == "format"


def test_the_export_route_streams_with_filters(store: Store, live_server, admin_token: str) -> None:
    populate(store)
    headers = {"Authorization": f"Bearer {admin_token}"}
    url = f"{live_server.url}/api/v1/audit/export"
    with httpx.Client(headers=headers) as http:
        with http.stream("GET", url, params={"format": "jsonl"}) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("application/x-ndjson")
            lines = [json.loads(line) for line in resp.iter_lines() if line]
        _rehash(lines)
        expected = local_client(store).list_audit_events(limit=1000)
        assert [r["seq"] for r in lines] == [e.seq for e in expected]

        resp = http.get(url, params={"format": "csv", "action": "token.*"})
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(resp.text)))
        assert rows and {r["action"] for r in rows} == {"token.create"}

        for params, field in (({"format": "xml"}, "format"), ({"since": "soon"}, "since")):
            bad = http.get(url, params=params)
            assert bad.status_code == 400
            assert bad.json()["error"]["field"] == field
    assert httpx.get(url).status_code == 401


def test_cli_list_and_export(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    n = populate(store)
    uri = store.location.db_url
    code, out, _ = run_cli(monkeypatch, capsys, uri, "audit", "list", "--json", "--limit", "3")
    assert code == 0
    listed = json.loads(out)
    assert [e["seq"] for e in listed] == [n, n - 1, n - 2]  # newest first
    code, out, _ = run_cli(
        monkeypatch, capsys, uri, "audit", "list", "--json", "--entity", "experiment:exp-2"
    )
    assert [e["entity_id"] for e in json.loads(out)] == ["exp-2"]

    target = tmp_path / "trail.csv"
    code, _, err = run_cli(
        monkeypatch, capsys, uri, "audit", "export", "--format", "csv", "--out", str(target),
        "--since", "2000-01-01",
    )  # fmt: skip
    assert code == 0 and f"exported {n} events" in err
    assert len(list(csv.DictReader(io.StringIO(target.read_text())))) == n

    code, out, _ = run_cli(monkeypatch, capsys, uri, "audit", "export")
    assert code == 0 and len(out.splitlines()) == n

    code, _, err = run_cli(monkeypatch, capsys, uri, "audit", "export", "--since", "yesterday")
    assert code == 2 and "since" in err
