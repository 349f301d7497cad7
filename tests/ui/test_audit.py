"""The audit pages: events with filters and keyset paging, one event in full with a link to
what it changed, the chain's verification with the last signed checkpoint, and export."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from seed import Site
from sqlalchemy import text
from ui_support import screenshot

from modelward import Client
from modelward.audit.checkpoint import load_private_key, public_key_hex
from modelward.config import StoreLocation
from modelward.store import Store
from modelward.ui import audit_view
from support import LiveServer

ROW_SEQ = re.compile(r'<a href="/audit/events/(\d+)" aria-label="Event \d+">')


def seqs_on(page_html: str) -> list[int]:
    """The seqs of the events table's rows, top to bottom."""
    return [int(s) for s in ROW_SEQ.findall(page_html)]


def link(page_html: str, label: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)"[^>]*>{re.escape(label)}</a>', page_html)
    return html.unescape(found.group(1)) if found else None


def expected(local: Callable[..., Client], **filters: Any) -> list[int]:
    events = local().list_audit_events(**filters, newest_first=True, limit=10_000)
    return [e.seq for e in events]


def test_a_viewer_sees_the_newest_events_the_head_and_the_last_checkpoint(http, local) -> None:
    resp = http("viewer").get("/audit")
    assert resp.status_code == 200
    head = local().get_audit_head()
    newest = expected(local)[:50]
    assert seqs_on(resp.text) == newest and newest[0] == head.seq
    assert head.hash in resp.text and head.hash[:12] + "…" in resp.text
    checkpoint = local().list_audit_checkpoints()[-1]
    card = resp.text.split("Last signed checkpoint", 1)[1].split("</div>", 1)[0]
    assert f'<a href="/audit/events/{checkpoint.seq}">event {checkpoint.seq}</a>' in card
    assert checkpoint.actor in card and "SHA256:" in card and checkpoint.public_key in card
    assert "valid for the public key stored with it" in card
    assert f"event {checkpoint.seq} still carries the signed hash" in card
    assert '<div class="table-wrap"><table class="audit">' in resp.text


@pytest.mark.parametrize(
    "filters",
    [
        {"actor": "root"},
        {"action": "token.*"},
        {"action": "model_alias.set"},
        {"entity_type": "endpoint", "entity_id": "credit-api"},
        {"entity_type": "model_version"},
        {"actor": "ops-admin", "action": "token.create"},
    ],
)
def test_filters_narrow_the_events_as_the_api_does(http, local, filters) -> None:
    resp = http("viewer").get("/audit", params=filters | {"size": "200"})
    assert resp.status_code == 200
    want = expected(local, **filters)
    assert want, f"the seeded store has no event for {filters}"
    assert seqs_on(resp.text) == want[:200]
    for name, value in filters.items():
        assert f'name="{name}" type="text" value="{value}"' in resp.text


def test_a_time_range_keeps_since_and_drops_until(http, local) -> None:
    events = local().list_audit_events(limit=10_000)
    first, last = events[10], events[30]
    since, until = first.time.isoformat(), last.time.isoformat()
    resp = http("viewer").get("/audit", params={"since": since, "until": until, "size": "200"})
    assert resp.status_code == 200
    shown = seqs_on(resp.text)
    assert shown == expected(local, since=since, until=until)
    assert first.seq in shown and last.seq not in shown
    # The inputs show the instants in UTC, as a datetime-local input takes them.
    assert f'value="{audit_view.local_input(since)}"' in resp.text


def _walk(client: httpx.Client, start: str, label: str) -> Iterator[list[int]]:
    url: str | None = start
    while url:
        page = client.get(url)
        assert page.status_code == 200
        yield seqs_on(page.text)
        url = link(page.text, label)


def test_paging_visits_every_event_once_in_both_directions(http, local) -> None:
    # Enough events of one kind for four pages, whatever the demo happened to write.
    admin = local()
    for i in range(len(expected(local, entity_type="token")), 95):
        admin.create_token(f"audit-paging-{i}", role="viewer")
    viewer = http("viewer")
    filters = {"entity_type": "token"}
    want = expected(local, **filters)
    assert len(want) >= 95
    older = list(_walk(viewer, "/audit?entity_type=token&size=25", "Older ›"))
    assert all(len(p) == 25 for p in older[:-1]) and len(older) == -(-len(want) // 25)
    assert [s for p in older for s in p] == want
    # From the oldest page back up: the same events, each page newest first.
    oldest = link(viewer.get("/audit?entity_type=token&size=25").text, "Oldest »")
    assert oldest
    newer = list(_walk(viewer, oldest, "‹ Newer"))
    assert newer[0] == want[-25:]
    assert sorted(s for p in newer for s in p) == sorted(want)
    assert [s for p in reversed(newer) for s in p] == want
    # Jumping to a seq starts the page there, and the filters stay on.
    at = want[40]
    jumped = seqs_on(viewer.get("/audit", params=filters | {"at": str(at)}).text)
    assert jumped == want[40:90]


def test_bad_filters_are_named_beside_their_fields(http) -> None:
    viewer = http("viewer")
    cases = [
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until", "must be later than since"),
        ({"since": "2026-13-45"}, "since", "not an ISO 8601 date or time"),
        ({"until": "yesterday"}, "until", "not an ISO 8601 date or time"),
        ({"size": "7"}, "size", "choose 25, 50, 100 or 200"),
        ({"at": "-3"}, "at", "an event number"),
        ({"actor": "x" * 1001}, "actor", "at most 1000 characters"),
    ]
    for params, field, message in cases:
        resp = viewer.get("/audit", params=params)
        assert resp.status_code == 400, params
        error = re.search(
            rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', resp.text
        )
        assert error and message in html.unescape(error.group(1)), params
        assert f'aria-describedby="{field}-error"' in resp.text
        assert "Traceback" not in resp.text and "Download" not in resp.text


def test_an_event_page_shows_the_whole_event_and_links_to_what_it_changed(http, local) -> None:
    viewer = http("viewer")
    event = local().list_audit_events(entity_type="model_version", limit=1)[0]
    name, number = event.entity_id.split("/")
    resp = viewer.get(f"/audit/events/{event.seq}")
    assert resp.status_code == 200
    for value in (event.state_digest, event.prev_hash, event.hash, str(event.time_ms)):
        assert value in resp.text
    assert "matches</span> event" in resp.text or event.seq == 1
    version_page = f"/models/{name}/versions/{number}"
    assert f'<a href="{version_page}">model version {name}/{number}</a>' in resp.text
    assert viewer.get(version_page).status_code == 200
    plan = local().list_audit_events(action="endpoint.plan", limit=1)[0]
    endpoint_html = viewer.get(f"/audit/events/{plan.seq}").text
    for page in (f"/deployments/{plan.entity_id}", f"/monitoring/{plan.entity_id}"):
        assert f'href="{page}"' in endpoint_html
    system = local().list_audit_events(entity_type="ai_system", limit=1)[0]
    assert f'href="/register/{system.entity_id}"' in viewer.get(f"/audit/events/{system.seq}").text
    # A token has no page: the event says so rather than guessing an address.
    token = local().list_audit_events(entity_type="token", limit=1)[0]
    assert "no page shows this entity" in viewer.get(f"/audit/events/{token.seq}").text


def test_an_unknown_event_is_a_friendly_404(http, local) -> None:
    viewer = http("viewer")
    head = local().get_audit_head().seq
    for seq in (str(head + 1000), "0", "not-a-number"):
        resp = viewer.get(f"/audit/events/{seq}")
        assert resp.status_code == 404, seq
        assert resp.headers["content-type"].startswith("text/html")
        assert "no audit event with seq" in resp.text and "Traceback" not in resp.text


def _api_export(http, site: Site, **params: str) -> str:
    bearer = {"Authorization": f"Bearer {site.tokens['viewer']}"}
    resp = http(None).get("/api/v1/audit/export", params=params, headers=bearer)
    assert resp.status_code == 200
    return str(resp.text)


def test_the_export_is_exactly_the_filtered_events_in_the_api_format(http, local, site) -> None:
    filters = {"action": "token.*"}
    resp = http("viewer").get("/audit/export.jsonl", params=filters)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/x-ndjson")
    disposition = resp.headers["content-disposition"]
    assert re.fullmatch(r'attachment; filename="audit-\d{8}-\d{6}\.jsonl"', disposition)
    lines = resp.text.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == sorted(expected(local, **filters))
    assert resp.text == _api_export(http, site, **filters, format="jsonl")
    page = http("viewer").get("/audit", params=filters).text
    assert 'href="/audit/export.jsonl?action=token.%2A"' in page


def test_the_export_pages_through_a_trail_larger_than_a_page(http, site, monkeypatch) -> None:
    monkeypatch.setattr(audit_view, "EXPORT_PAGE", 7)  # the server runs in this process
    for fmt in ("jsonl", "csv"):
        resp = http("viewer").get(f"/audit/export.{fmt}")
        assert resp.status_code == 200
        assert resp.text == _api_export(http, site, format=fmt)


def test_a_bad_export_filter_is_a_400_page(http) -> None:
    resp = http("viewer").get("/audit/export.jsonl", params={"since": "soon"})
    assert resp.status_code == 400 and "since: not an ISO 8601" in html.unescape(resp.text)
    assert http("viewer").get("/audit/export.xml").status_code == 400


def test_verify_with_the_auditors_public_key(http, local, site) -> None:
    key = public_key_hex(load_private_key(site.home / "audit-signing-key.pem"))
    resp = http("viewer").get("/audit/verify", params={"public_key": key})
    assert resp.status_code == 200
    count = len(local().list_audit_checkpoints())
    assert "The audit chain is intact." in resp.text
    assert f"{count} checked; {count} signed with the public key you gave" in resp.text
    forged = http("viewer").get("/audit/verify", params={"public_key": "ab" * 32})
    assert "The audit chain is broken at" in forged.text and "(checkpoint)" in forged.text
    bad = http("viewer").get("/audit/verify", params={"public_key": "not a key"})
    assert bad.status_code == 400 and 'id="public_key-error"' in bad.text


def test_verify_filter_and_export_in_the_browser(page_as, local, tmp_path) -> None:
    page = page_as("viewer")
    page.goto(page.base + "/audit")
    page.get_by_role("button", name="Verify chain").click()
    page.wait_for_url(re.compile(r"/audit/verify"))
    verdict = page.locator("#result .notice").inner_text()
    head = local().get_audit_head().seq
    assert "The audit chain is intact." in verdict and f"{head:,} events verified" in verdict
    page.goto(page.base + "/audit")
    page.get_by_label("Action").fill("token.*")
    page.get_by_label("Action").press("Enter")
    page.wait_for_url(re.compile(r"action=token"))
    want = expected(local, action="token.*")
    assert page.locator("table.audit tbody tr").count() == min(len(want), 50)  # one page
    screenshot(page, "audit")
    with page.expect_download() as download:
        page.get_by_role("link", name="JSON Lines").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".jsonl"
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == sorted(want)
    page.locator("table.audit tbody a").first.click()
    page.wait_for_url(re.compile(rf"/audit/events/{want[0]}$"))
    screenshot(page, "audit-event")
    phone = page_as("viewer", width=390)
    for path in ("/audit", f"/audit/events/{want[0]}", "/audit/verify"):
        phone.goto(phone.base + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path


@pytest.fixture
def tampered(site: Site, tmp_path: Path) -> Iterator[tuple[str, Store]]:
    """A server on a copy of the site's store (other tests read the original)."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(site.home / "modelward.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    store = Store(StoreLocation(f"sqlite:///{copy}", str(tmp_path / "artifacts")))
    server = LiveServer(store, auth=True)
    yield server.url, store
    server.stop()
    store.close()


def test_verification_names_the_first_broken_event_of_a_tampered_store(
    tampered, site, browser
) -> None:
    url, store = tampered
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 5"))
    cookies = {"mw_session": site.tokens["viewer"]}
    with httpx.Client(base_url=url, cookies=cookies, timeout=30) as viewer:
        resp = viewer.get("/audit/verify")
    assert resp.status_code == 200
    assert "The audit chain is broken at" in resp.text
    assert '<a href="/audit/events/5">event 5</a></strong>' in resp.text
    said = html.unescape(resp.text)
    assert "(edited)" in said and "Event 5's stored columns no longer match its hash" in said
    assert "4 events verified before the break" in resp.text and "by mallory" in resp.text
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.add_cookies([{"name": "mw_session", "value": site.tokens["viewer"], "url": url}])
        page = context.new_page()
        page.goto(url + "/audit")
        page.get_by_role("button", name="Verify chain").click()
        alert = page.get_by_role("alert")
        assert "broken at event 5" in alert.inner_text()
        screenshot(page, "audit-broken")
        alert.get_by_role("link", name="event 5").first.click()
        page.wait_for_url(re.compile(r"/audit/events/5$"))
        assert "mallory" in page.locator("dl.event").inner_text()
    finally:
        context.close()
