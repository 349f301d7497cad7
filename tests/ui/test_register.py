"""The AI register: the inventory with filters, its CSV export, and a system's page with
owners, purpose, tier rationale, tags, models, data, incidents and the production timeline."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from ui_support import screenshot

SYSTEM = "credit-risk-scoring"


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_register_lists_systems_and_filters_by_tier_status_owner_and_tag(http) -> None:
    viewer = http("viewer")
    page = viewer.get("/register")
    assert page.status_code == 200
    assert f'<a href="/register/{SYSTEM}">{SYSTEM}</a>' in page.text
    assert "EU-AI-Act:Annex-III" in page.text and "Head of Retail Credit" in page.text
    assert 'href="/models/credit-scorer/versions/4">v4</a>' in page.text
    for params in (
        {"tier": "high"},
        {"status": "in_production"},
        {"owner": "ML platform team"},
        {"tag": "SR-11-7"},
    ):
        found = viewer.get("/register", params=params).text
        assert f">{SYSTEM}</a>" in found, params
        key, value = next(iter(params.items()))
        assert f'<option value="{value}" selected>' in found
        assert f'href="/register.csv?{key}=' in found  # the export keeps the filters
    for params in ({"tier": "low"}, {"tag": "GDPR:Art-9"}, {"owner": "nobody"}):
        found = viewer.get("/register", params=params).text
        assert f">{SYSTEM}</a>" not in found and "No AI system matches" in found, params


def test_a_bad_filter_is_shown_beside_its_field(http) -> None:
    resp = http("viewer").get("/register", params={"status": "sunset"})
    assert resp.status_code == 400
    assert 'id="status-error"' in resp.text and "Traceback" not in resp.text


def test_the_csv_export_is_a_download_with_the_same_filters(http) -> None:
    viewer = http("viewer")
    resp = viewer.get("/register.csv")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="ai-register-\d{8}\.csv"', resp.headers["content-disposition"]
    )
    rows = rows_of(resp.text)
    (row,) = [r for r in rows if r["name"] == SYSTEM]
    assert row["risk_tier"] == "high" and row["in_production"] == "credit-scorer/4"
    assert row["regulatory_tags"] == "EU-AI-Act:Annex-III;SR-11-7;GDPR:Art-22"
    assert row["human_in_the_loop"] == "true"
    none = viewer.get("/register.csv", params={"tier": "low"})
    assert none.status_code == 200 and rows_of(none.text) == []
    assert none.text.startswith("name,risk_tier,")


def test_exported_cells_never_run_as_spreadsheet_formulas(http, local) -> None:
    admin = local()
    system = admin.get_system(SYSTEM)
    before = {"limitations": system.limitations, "affected_people": system.affected_people}
    formula = '=HYPERLINK("http://evil.example","click")'
    admin.update_system(SYSTEM, limitations=formula, affected_people="@SUM(1+1)")
    try:
        (row,) = [
            r for r in rows_of(http("viewer").get("/register.csv").text) if r["name"] == SYSTEM
        ]
        assert row["limitations"] == "'" + formula
        assert row["affected_people"] == "'@SUM(1+1)"
        page = http("viewer").get(f"/register/{SYSTEM}").text
        assert "=HYPERLINK(&#34;http://evil.example&#34;" in page  # shown as text, escaped
    finally:
        admin.update_system(SYSTEM, **before)


def test_a_system_page_shows_what_the_register_knows(http) -> None:
    resp = http("viewer").get(f"/register/{SYSTEM}")
    assert resp.status_code == 200
    html = resp.text
    for text in (
        "Head of Retail Credit",
        "ML platform team",
        "Price consumer loans by their probability of default.",
        "EU AI Act Annex III, point 5(b)",
        "GDPR:Art-22",
        "Consumer-loan applicants",
        "not validated on other populations",
        "credit-holdout/1",
        "<dt>Human in the loop</dt><dd>yes</dd>",
        "<dt>Decision type</dt><dd>advisory</dd>",
    ):
        assert text in html, text
    assert 'href="/models/credit-scorer/versions/4">v4</a>' in html


def test_the_timeline_says_which_version_was_in_production_when(http, site) -> None:
    viewer = http("viewer")
    html = viewer.get(f"/register/{SYSTEM}").text
    api = (
        http(None)
        .get(
            f"/api/v1/systems/{SYSTEM}/history",
            headers={"Authorization": f"Bearer {site.tokens['viewer']}"},
        )
        .json()
    )
    assert [i["version"] for i in api] == [1, 2, 4]
    assert re.search(r'<svg [^>]*role="img" aria-label="Which version of each model', html)
    table = html.split('<table class="history">')[1].split("</table>")[0]
    versions = re.findall(r">v(\d+)</a>", table)
    assert versions == ["4", "2", "1"]  # newest first
    assert table.count('class="badge active">now<') == 1  # only v4 is still in effect
    for interval in api:
        start = datetime.fromisoformat(interval["from"]).strftime("%Y-%m-%d %H:%M UTC")
        assert start in table
    # The demo's first moves were seconds apart: how long each lasted tells them apart.
    lasted = re.findall(r"<td>(\d+ (?:s|min \d+ s|h \d+ min|d \d+ h)(?: so far)?)</td>", table)
    assert len(lasted) == 3 and lasted[0].endswith(" so far")
    v2 = api[1]
    span = datetime.fromisoformat(v2["until"]) - datetime.fromisoformat(v2["from"])
    seconds = int(span.total_seconds())
    assert seconds < 60 and lasted[1] == f"{seconds} s"


def test_incidents_are_newest_first_and_open_ones_are_flagged(http, local) -> None:
    developer = local("ops-dev", "developer")
    now = datetime.now(UTC)
    older = developer.report_incident(
        SYSTEM, title="Scores late by an hour", severity="low", occurred_at=now - timedelta(days=2)
    )
    newer = developer.report_incident(
        SYSTEM,
        title="Applicant ages misread",
        severity="high",
        occurred_at=now - timedelta(hours=1),
    )
    developer.resolve_incident(SYSTEM, older.id)
    html = http("viewer").get(f"/register/{SYSTEM}").text
    section = html.split('<table class="incidents">')[1]
    assert section.index("Applicant ages misread") < section.index("Scores late by an hour")
    assert re.search(r'<tr class="incident open">.*?Applicant ages misread', section, re.S)
    assert re.search(r'<tr class="incident resolved">.*?Scores late by an hour', section, re.S)
    assert re.search(r'class="badge open">\d+ open<', html)
    developer.resolve_incident(SYSTEM, newer.id)


def test_an_unknown_system_is_a_friendly_404_page(http) -> None:
    resp = http("viewer").get("/register/no-such-system")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert "no AI system named" in resp.text and "Traceback" not in resp.text


def test_browse_the_register_open_a_system_and_export_csv(page_as, tmp_path) -> None:
    page = page_as("viewer")
    page.goto(page.base + "/register")
    page.select_option("#f-tag", "SR-11-7")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"tag=SR-11-7"))
    screenshot(page, "register")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".csv"
    assert [r["name"] for r in rows_of(saved.read_text(encoding="utf-8"))] == [SYSTEM]
    page.get_by_role("link", name=SYSTEM).click()
    page.wait_for_url(re.compile(rf"/register/{SYSTEM}$"))
    timeline = page.locator("figure.timeline svg")
    assert timeline.is_visible()
    assert timeline.locator("rect").count() == 3
    assert page.locator("table.history tbody tr").count() == 3
    screenshot(page, "register-system")
    phone = page_as("viewer", width=390)
    phone.goto(phone.base + f"/register/{SYSTEM}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
