"""Monitoring pages: every endpoint's health and drift verdict, and one endpoint's drift
heatmap, distributions, quality, performance with label coverage, and its alerts."""

from __future__ import annotations

import re

from ui_support import form_token, screenshot


def test_the_list_shows_health_open_alerts_and_the_last_drift_verdict(http, site) -> None:
    resp = http("viewer").get("/monitoring")
    assert resp.status_code == 200
    row = re.search(r"<tr>\s*<td><a href=\"/monitoring/credit-api\">.*?</tr>", resp.text, re.S)
    assert row, "credit-api is not listed"
    text = row.group(0)
    assert 'class="health' in text and "credit-scorer/4" in text
    assert "open" in text  # the seeded open alert
    assert "drifted" in text or "stable" in text


def test_the_endpoint_page_shows_drift_distribution_quality_and_performance(http) -> None:
    resp = http("viewer").get("/monitoring/credit-api")
    assert resp.status_code == 200
    html = resp.text
    # the heatmap, its data table, and drifted cells named in it
    assert re.search(r'<svg[^>]*role="img"[^>]*aria-label="drift of each feature', html)
    assert "Data as a table" in html and re.search(r"<td>\d\.\d+ drifted</td>", html)
    # a drifted feature's distribution, training vs window, with its counts
    assert "Training data (baseline)" in html and "This window" in html
    # The feature shown first is one the heatmap's table marks drifted (which one depends on
    # where the day's windows fall against the demo's shift).
    chosen = re.search(r'<select id="feature"[^>]*>.*?<option selected>([^<]+)</option>', html)
    assert chosen, "no feature is chosen for the distribution"
    assert re.search(
        rf"<tr><td>{re.escape(chosen.group(1))}</td>(<td>[^<]*</td>)*?<td>[^<]* drifted</td>", html
    )
    assert "Training count" in html
    assert "Data quality" in html and "null_rate" in html
    assert "Label coverage" in html and re.search(r"<td>\d+\.\d%</td>", html)
    assert "Acknowledge" not in html  # a viewer may not act on alerts


def test_a_chosen_feature_and_window_size_are_shown(http) -> None:
    resp = http("viewer").get(
        "/monitoring/credit-api", params={"window": "6h", "periods": "8", "feature": "purpose"}
    )
    assert resp.status_code == 200
    assert "purpose (categorical)" in resp.text and "car (new)" in resp.text


def test_bad_choices_are_named_beside_the_field(http) -> None:
    resp = http("viewer").get(
        "/monitoring/credit-api", params={"window": "2h", "periods": "0", "feature": "nope"}
    )
    assert resp.status_code == 400
    assert 'id="window-error"' in resp.text and 'id="periods-error"' in resp.text
    assert 'id="feature-error"' in resp.text and "Traceback" not in resp.text


def test_the_distribution_operation_answers_over_the_api(http, site) -> None:
    bearer = {"Authorization": f"Bearer {site.tokens['viewer']}"}
    drift = http(None).get("/api/v1/endpoints/credit-api/drift", headers=bearer).json()
    start = max(r["window_start"] for r in drift if r["rows"])
    resp = http(None).get(
        "/api/v1/endpoints/credit-api/distribution",
        params={"feature": "credit_amount", "start": start},
        headers=bearer,
    )
    body = resp.json()
    assert resp.status_code == 200 and body["kind"] == "numeric"
    assert len(body["labels"]) == len(body["reference"]) == len(body["current"])
    assert sum(body["current"]) == body["rows"] > 0
    missing = http(None).get(
        "/api/v1/endpoints/credit-api/distribution",
        params={"feature": "nope", "start": start},
        headers=bearer,
    )
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "feature"


def test_a_viewer_cannot_acknowledge_and_is_told_the_role(http, site) -> None:
    viewer = http("viewer")
    page = viewer.get("/monitoring/credit-api").text
    resp = viewer.post(
        f"/monitoring/credit-api/alerts/{site.alert_id}/acknowledge",
        data={"csrf": form_token(page)},
    )
    assert resp.status_code == 403 and "developer" in resp.text


def test_unknown_endpoint_is_a_friendly_404(http) -> None:
    resp = http("viewer").get("/monitoring/no-such-endpoint")
    assert resp.status_code == 404 and "no-such-endpoint" in resp.text


def test_acknowledge_then_resolve_an_alert_in_the_browser(page_as, local, site) -> None:
    page = page_as("developer")
    page.goto(page.base + "/monitoring")
    screenshot(page, "monitoring")
    page.click("a[href='/monitoring/credit-api']")
    assert page.locator("figure.chart svg").first.is_visible()
    screenshot(page, "monitoring-endpoint")
    row = page.locator(f"#alert-{site.drill_alert_id}")
    row.locator("button:has-text('Acknowledge')").click()
    page.wait_for_url(re.compile(r"#alerts$"))
    row = page.locator(f"#alert-{site.drill_alert_id}")
    assert "acknowledged by ui-developer" in row.inner_text()
    row.locator("button:has-text('Resolve')").click()
    page.wait_for_url(re.compile(r"#alerts$"))
    assert "resolved by ui-developer" in page.locator(f"#alert-{site.drill_alert_id}").inner_text()
    assert local().get_alert(site.drill_alert_id).status == "resolved"
