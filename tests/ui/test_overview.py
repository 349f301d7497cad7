"""The overview: every AI system with its tier, production version, health and trend, open
alerts, pending approvals and governance evidence; filters; the models outside the register."""

from __future__ import annotations

import re

from ui_support import screenshot

SYSTEM = "credit-risk-scoring"


def system_row(html: str, name: str = SYSTEM) -> str:
    rows = re.findall(r"<tr>\s*<th scope=\"row\" data-label=\"AI system\">.*?</tr>", html, re.S)
    found = [r for r in rows if f">{name}</a>" in r]
    assert found, f"no overview row for {name}"
    return found[0]


def test_each_system_row_links_its_production_version_alerts_and_approvals(http, site) -> None:
    resp = http("viewer").get("/")
    assert resp.status_code == 200
    row = system_row(resp.text)
    assert f'href="/register/{SYSTEM}"' in row
    assert 'class="badge tier-high"' in row and "in production" in row
    assert 'href="/models/credit-scorer/versions/4"' in row
    # The seeded open alert on credit-api is counted and links to that endpoint's monitoring.
    assert re.search(r'href="/monitoring/credit-api"[^>]*>[1-9]\d* <span', row)
    # The seeded open request for v3 waits for approvals and links to the version page.
    assert 'href="/models/credit-scorer/versions/3">credit-scorer v3 → @champion</a>' in row
    assert re.search(r'class="health (good|fair|poor)"', row)
    assert '<svg class="spark"' in row and 'role="img"' in row and "window health" in row


def test_the_page_says_what_the_api_says(http, site) -> None:
    api = http(None).get(
        "/api/v1/portfolio", headers={"Authorization": f"Bearer {site.tokens['viewer']}"}
    )
    assert api.status_code == 200
    (system,) = [s for s in api.json()["systems"] if s["name"] == SYSTEM]
    row = system_row(http("viewer").get("/").text)
    assert f'title="health {round(system["health"])} of 100">{round(system["health"])}<' in row
    (production,) = system["production"]
    assert f"{production['complete']}/{production['total']}</span>" in row
    for item in production["evidence"]:
        if not item["present"]:
            assert item["name"] in row.split("missing:")[1]
    change = system["trend"]["change"]
    assert change is not None and f"{change:+.1f}" in row
    assert len(system["trend"]["points"]) == 14  # the demo has 28 daily windows


def test_models_outside_the_register_are_listed_apart(http) -> None:
    html = http("viewer").get("/").text
    assert "<h2>Not in the register</h2>" in html
    apart = html.split("<h2>Not in the register</h2>")[1]
    assert 'href="/models/fraud-detector"' in apart
    assert 'href="/monitoring/fraud-api"' in apart
    assert 'href="/models/credit-scorer"' not in apart


def test_filters_are_echoed_and_narrow_the_rows(http) -> None:
    viewer = http("viewer")
    high = viewer.get("/", params={"tier": "high", "owner": "Head of Retail Credit"}).text
    assert system_row(high)
    assert '<option value="high" selected>' in high
    assert '<option value="Head of Retail Credit" selected>' in high
    low = viewer.get("/", params={"tier": "low"}).text
    assert f">{SYSTEM}</a>" not in low and "No AI system matches these filters." in low
    assert '<option value="low" selected>' in low
    retired = viewer.get("/", params={"status": "retired"}).text
    assert "No AI system matches these filters." in retired


def test_a_bad_filter_is_shown_beside_its_field(http) -> None:
    resp = http("viewer").get("/", params={"tier": "extreme"})
    assert resp.status_code == 400
    assert 'id="tier-error"' in resp.text and "is not one of low, medium, high" in resp.text
    assert 'aria-describedby="tier-error"' in resp.text and "Traceback" not in resp.text


def test_browse_the_overview_and_filter_by_tier(page_as) -> None:
    page = page_as("viewer")
    page.goto(page.base + "/")
    row = page.locator("table.overview tbody tr", has_text=SYSTEM)
    assert row.locator("a", has_text="credit-scorer v4").is_visible()
    assert row.locator("svg.spark").is_visible()
    screenshot(page, "overview")
    page.select_option("#f-tier", "low")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"tier=low"))
    assert page.get_by_text("No AI system matches these filters.").is_visible()
    assert page.locator("#f-tier").input_value() == "low"
    page.select_option("#f-tier", "high")
    page.get_by_role("button", name="Filter").press("Enter")  # the keyboard submits too
    page.wait_for_url(re.compile(r"tier=high"))
    page.get_by_role("link", name=SYSTEM).click()
    page.wait_for_url(re.compile(rf"/register/{SYSTEM}$"))
    assert page.locator("h1").inner_text().startswith(SYSTEM)


def test_on_a_phone_each_system_is_a_tile_without_sideways_scrolling(page_as) -> None:
    page = page_as("viewer", width=390)
    page.goto(page.base + "/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row = page.locator("table.overview tbody tr", has_text=SYSTEM)
    assert row.evaluate("e => getComputedStyle(e).display") == "block"
    label = row.locator('td[data-label="Governance evidence"]')
    assert label.evaluate("e => getComputedStyle(e, '::before').content") == '"Governance evidence"'
    assert label.is_visible()
    screenshot(page, "overview-phone")
