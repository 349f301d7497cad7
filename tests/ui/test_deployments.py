"""Deployments pages: every endpoint's plan, one endpoint's canary progress, analysis,
live traffic per arm, rollback (developer and up) and the plan history."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from sqlalchemy import select
from ui_support import form_token, screenshot

from modelward import Client
from modelward.auth.roles import Principal, Role
from modelward.monitoring.tables import Endpoint
from modelward.serving.arm_stats import ArmStats
from modelward.serving.log_writer import _write_stats
from modelward.serving.tables import TrafficPlan
from modelward.store import Store


def _fresh_canary(local: Callable[..., Client], name: str) -> None:
    """An endpoint of its own (going online starts a single plan) now in a canary."""
    dev = local("dev-dora", "developer")
    dev.create_endpoint(name, "fraud-detector/1", mode="online")
    dev.set_plan(name, "canary", challenger="fraud-detector/2", steps=[10, 50, 100], auto=False)


def _served(store: Store, name: str, requests: dict[str, tuple[int, int]]) -> None:
    """Record traffic the way a gateway replica flushes it: per arm and minute."""
    minute = time.time_ns() // 1_000_000 // 60_000 * 60_000
    with store.unit_of_work(Principal("gateway:test", Role.admin), write=True) as uow:
        endpoint = uow.session.scalar(select(Endpoint).where(Endpoint.name == name))
        assert endpoint is not None
        plan = uow.session.scalar(
            select(TrafficPlan)
            .where(TrafficPlan.endpoint_id == endpoint.id)
            .order_by(TrafficPlan.seq.desc())
        )
        assert plan is not None
        batch = {}
        for arm, (n, errors) in requests.items():
            s = ArmStats()
            for i in range(n):
                s.observe(12.0 + i % 5, error=i < errors)
            batch[(endpoint.id, plan.id, plan.step_index, arm, minute)] = s
        _write_stats(uow, batch, "test-replica")


def test_the_list_shows_every_endpoint_with_its_plan_and_shares(http, site) -> None:
    resp = http("viewer").get("/deployments")
    assert resp.status_code == 200
    row = re.search(r"<tr>\s*<td><a href=\"/deployments/fraud-api\">.*?</tr>", resp.text, re.S)
    assert row, "fraud-api is not listed"
    text = row.group(0)
    assert "online" in text and "canary" in text and "step 1 of 3" in text
    assert "fraud-detector/1" in text and "fraud-detector/2" in text and "10%" in text
    assert 'href="/deployments/credit-api"' in resp.text


def test_the_canary_page_shows_shares_progress_analysis_and_history(http, site) -> None:
    resp = http("viewer").get("/deployments/fraud-api")
    assert resp.status_code == 200
    html = resp.text
    assert 'role="img"' in html and "primary fraud-detector/1: 90%" in html
    assert "challenger fraud-detector/2" in html and "10.0%" in html
    assert 'aria-current="step">10%' in html and "Step 1 of 3" in html
    assert "Analysis of this step" in html and "sample" in html
    assert 'id="history"' in html and "canary" in html
    # htmx polls the live part; without script the page is complete and has a Refresh link.
    assert 'hx-get="/deployments/fraud-api/live"' in html and 'hx-trigger="every 5s"' in html
    live = http("viewer").get("/deployments/fraud-api/live")
    assert live.status_code == 200 and "<html" not in live.text and "Step 1 of 3" in live.text


def test_live_traffic_per_arm_comes_from_the_gateways_statistics(
    http, local, site_store, site
) -> None:
    _fresh_canary(local, "fraud-traffic")
    _served(site_store, "fraud-traffic", {"primary": (90, 0), "challenger": (10, 2)})
    html = http("viewer").get("/deployments/fraud-traffic").text
    assert "Last 30 minutes" in html and "No requests in the last 30 minutes" not in html
    assert re.search(r"<td>challenger</td><td>10</td><td>0\.333</td><td>20\.00%</td>", html)
    assert re.search(r"<td>primary</td><td>90</td><td>3</td><td>0\.00%</td>", html)
    # the same figures over the REST API, for any client
    bearer = {"Authorization": f"Bearer {site.tokens['viewer']}"}
    url = "/api/v1/endpoints/fraud-traffic/traffic"
    api = http(None).get(url, params={"period": "1h"}, headers=bearer)
    totals = {t["arm"]: t for t in api.json()["totals"]}
    assert totals["challenger"]["errors"] == 2 and totals["primary"]["requests"] == 90
    bad = http(None).get(url, params={"period": "2d"}, headers=bearer)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "period"


def test_a_viewer_sees_no_rollback_and_a_posted_one_is_refused_naming_developer(
    http, local
) -> None:
    _fresh_canary(local, "fraud-viewer")
    viewer = http("viewer")
    page = viewer.get("/deployments/fraud-viewer").text
    assert "Roll back" not in page and "/rollback" not in page
    resp = viewer.post(
        "/deployments/fraud-viewer/rollback", data={"csrf": form_token(page), "reason": "x"}
    )
    assert resp.status_code == 403 and "developer" in resp.text
    assert local().deployment_status("fraud-viewer").plan.kind == "canary"


def test_a_rollback_with_nothing_to_return_to_is_explained_on_the_page(http, local) -> None:
    local("dev-dora", "developer").create_endpoint(
        "fraud-one-plan", "fraud-detector/1", mode="online"
    )
    dev = http("developer")
    page = dev.get("/deployments/fraud-one-plan").text
    resp = dev.post(
        "/deployments/fraud-one-plan/rollback", data={"csrf": form_token(page), "reason": ""}
    )
    assert resp.status_code == 409
    assert 'id="reason-error"' in resp.text and "nothing to return to" in resp.text
    assert "Traceback" not in resp.text


def test_unknown_endpoint_is_a_friendly_404(http) -> None:
    resp = http("viewer").get("/deployments/no-such-endpoint")
    assert resp.status_code == 404 and "no-such-endpoint" in resp.text


def test_roll_back_a_canary_in_the_browser(page_as, local) -> None:
    _fresh_canary(local, "fraud-browser")
    page = page_as("developer")
    page.goto(page.base + "/deployments")
    screenshot(page, "deployments")
    page.click("a[href='/deployments/fraud-browser']")
    assert page.locator("#progress").inner_text().startswith("Step 1 of 3")
    screenshot(page, "deployment")
    page.fill("#reason", "challenger answers too slowly")
    page.click("button:has-text('Roll back')")
    page.wait_for_url(re.compile(r"/deployments/fraud-browser#history$"))
    history = page.locator("#history tbody tr")
    assert "challenger answers too slowly" in history.nth(0).inner_text()
    assert "rolled_back" in history.nth(1).inner_text()
    assert local().deployment_status("fraud-browser").plan.kind == "single"


def test_the_deployment_page_fits_a_phone(page_as) -> None:
    page = page_as("viewer", width=390)
    page.goto(page.base + "/deployments/fraud-api")
    assert page.locator("#progress").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    screenshot(page, "deployment-phone")
