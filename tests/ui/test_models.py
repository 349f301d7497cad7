"""Model pages: every model with its aliases, one model's versions a page at a time, and one
version with its lineage graph, signature, evaluations, explanation, card, policy checks,
promotions (approve or reject for approvers) and its compliance pack."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

from ui_support import form_token, screenshot

from modelward import Client
from modelward.client.governance import verify_pack

MODEL = "credit-scorer"
CHAMPION = f"/models/{MODEL}/versions/4"
CANDIDATE = f"/models/{MODEL}/versions/3"  # the seeded request asks to make it @champion


def _request(local: Callable[..., Client], ref: str, alias: str) -> int:
    """A promotion request of its own, of a model outside the register (so the overview's
    pending approvals stay as seeded) and to an alias of its own (none supersedes another)."""
    return local("dev-dora", "developer").request_promotion(ref, alias, comment="please review").id


def _promotion(page_html: str, request_id: int) -> str:
    found = re.search(
        rf'<article class="promotion" id="promotion-{request_id}".*?</article>', page_html, re.S
    )
    assert found, f"request {request_id} is not on the page"
    return found.group(0)


def _rule_row(page_html: str, alias: str, rule: str) -> str:
    table = re.search(rf'<table class="policy" id="gate-{alias}">.*?</table>', page_html, re.S)
    assert table, f"no policy table for @{alias}"
    row = re.search(rf'<tr>\s*<th scope="row" data-label="Rule">{rule}<.*?</tr>', table[0], re.S)
    assert row, f"no row for rule {rule}"
    return row.group(0)


def _listed(page_html: str) -> list[int]:
    """The version numbers in a model page's table of versions, in order."""
    table = page_html.split('<table class="versions">')[1].split("</table>")[0]
    return [int(n) for n in re.findall(r'<th scope="row"><a href="[^"]+">v(\d+)</a></th>', table)]


# --- the list and one model -------------------------------------------------------------


def test_the_list_shows_every_model_with_its_aliases_and_system(http, local) -> None:
    resp = http("viewer").get("/models")
    assert resp.status_code == 200
    row = re.search(rf'<tr>\s*<th scope="row"><a href="/models/{MODEL}">.*?</tr>', resp.text, re.S)
    assert row, "credit-scorer is not listed"
    aliases = {a.alias: a.version for a in local().list_aliases(MODEL)}
    for alias, version in aliases.items():
        assert f'href="/models/{MODEL}/versions/{version}">@{alias} → v{version}</a>' in row[0]
    assert 'href="/register/credit-risk-scoring"' in row[0] and "tier-high" in row[0]
    other = re.search(r'<a href="/models/fraud-detector">.*?</tr>', resp.text, re.S)
    assert other and "not in the register" in other[0]


def test_a_model_lists_its_versions_with_aliases_and_open_requests(http, site) -> None:
    resp = http("viewer").get(f"/models/{MODEL}")
    assert resp.status_code == 200
    assert _listed(resp.text) == [4, 3, 2, 1]
    newest = resp.text.split('<table class="versions">')[1].split("</tr>")[1]
    assert '<span class="badge alias">@champion</span>' in newest
    assert 'Versions <span class="muted">(4)</span>' in resp.text
    waiting = resp.text.split('id="open-h"')[1].split("</section>")[0]
    assert f'href="{CANDIDATE}#promotion-{site.promotion_id}">v3 → @champion</a>' in waiting
    assert 'rel="next"' not in resp.text  # one page only


def test_versions_are_listed_a_page_at_a_time(http, monkeypatch) -> None:
    # Two a page instead of fifty: the served app runs in this process, so the four versions
    # of the demo's model make two pages (without registering a model the other pages show).
    from modelward.ui.pages import models

    monkeypatch.setattr(models, "PAGE", 2)
    viewer = http("viewer")
    first = viewer.get(f"/models/{MODEL}").text
    assert "page 1 of 2" in first and f'href="/models/{MODEL}?page=2" rel="next"' in first
    assert _listed(first) == [4, 3]
    assert 'Versions <span class="muted">(4)</span>' in first  # the total, over all pages
    second = viewer.get(f"/models/{MODEL}?page=2").text
    assert "page 2 of 2" in second and f'href="/models/{MODEL}?page=1" rel="prev"' in second
    assert _listed(second) == [2, 1]
    past = viewer.get(f"/models/{MODEL}?page=9")
    assert past.status_code == 303 and past.headers["location"] == f"/models/{MODEL}?page=2"
    beyond = viewer.get("/models?page=2")  # the demo's two models fill one page of two
    assert beyond.status_code == 303 and beyond.headers["location"] == "/models?page=1"


def test_an_alias_address_leads_to_the_version_it_points_at(http) -> None:
    viewer = http("viewer")
    for address in (f"/models/{MODEL}@champion", f"/models/{MODEL}/versions/champion"):
        resp = viewer.get(address)
        assert resp.status_code == 303 and resp.headers["location"] == CHAMPION


def test_unknown_models_versions_and_aliases_are_friendly_404_pages(http) -> None:
    viewer = http("viewer")
    for address, named in [
        ("/models/no-such-model", "no-such-model"),
        (f"/models/{MODEL}/versions/99", "99"),
        (f"/models/{MODEL}@no-such-alias", "no-such-alias"),
        (f"/models/{MODEL}/versions/not%20an%20alias", "not an alias"),
        ("/models/no-such-model/versions/1", "no-such-model"),
    ]:
        resp = viewer.get(address)
        assert resp.status_code == 404, address
        assert named in html.unescape(resp.text) and "Traceback" not in resp.text
        assert "<h1>Not found</h1>" in resp.text


# --- one version ------------------------------------------------------------------------


def test_the_lineage_graph_names_datasets_run_and_endpoints(http, local) -> None:
    lineage = local().get_version_lineage(f"{MODEL}/4")
    page = http("viewer").get(CHAMPION).text
    svg = re.search(r'<svg [^>]*role="img"[^>]*class="lineage-graph">.*?</svg>', page, re.S)
    assert svg, "no lineage graph"
    graph = svg.group(0)
    assert 'aria-label="lineage of credit-scorer v4' in graph
    training = [d for d in lineage.datasets if d.role == "training"]
    assert training, "the demo's v4 has a training dataset"
    for d in lineage.datasets:
        assert f"{d.dataset} v{d.version}" in html.unescape(graph)
    assert lineage.run is not None
    assert f'href="/runs/{lineage.run.id}"' in graph and f"run {lineage.run.name}" in graph
    assert 'href="/deployments/credit-api"' in graph and ">credit-api</text>" in graph
    # the same facts as text beside the picture
    listed = page.split('class="lineage-list"')[1].split("</section>")[0]
    assert f"{training[0].dataset} v{training[0].version} <span" in listed
    assert f'<a href="/runs/{lineage.run.id}">{lineage.run.name}</a>' in listed
    assert '<a href="/deployments/credit-api">credit-api</a>' in listed


def test_a_challenger_on_a_canary_is_drawn_serving_there(http) -> None:
    page = http("viewer").get("/models/fraud-detector/versions/2").text
    assert 'href="/deployments/fraud-api"' in page and "challenger · canary 10%" in page
    assert "No enabled policy guards an alias of this model" in page


def test_signature_evaluations_explanation_and_card_are_shown(http, local) -> None:
    client = local()
    version = client.get_version(f"{MODEL}/4")
    (evaluation,) = client.list_evaluations(f"{MODEL}/4")
    page = http("viewer").get(CHAMPION).text
    signature = page.split('id="signature-h"')[1].split("</section>")[0]
    assert version.signature is not None
    for column in version.signature.inputs:
        assert f"<td><code>{column.name}</code></td>" in signature
    evaluations = page.split('id="evaluations-h"')[1].split("</section>")[0]
    assert f"{evaluation.results['rows']:,} rows" in evaluations
    for feature in evaluation.results["slices"]:
        assert f"<caption>Slices by {feature}</caption>" in evaluations
    for attribute, found in evaluation.results["fairness"].items():
        assert f"<h3>Fairness across {attribute}</h3>" in evaluations
        ratio = f"{found['demographic_parity_ratio']:.4f}"
        assert f"<dt>demographic parity ratio</dt><dd>{ratio}</dd>" in evaluations
        for group in found["groups"]:
            assert f'<th scope="row">{html.escape(group)}</th>' in evaluations
    explain = page.split('id="explain-h"')[1].split("</section>")[0]
    assert re.search(
        r'<svg [^>]*role="img" aria-label="feature importance of credit-scorer', explain
    )
    assert (
        "Data as a table" in explain and "<td>status_of_existing_checking_account</td>" in explain
    )
    card = page.split('id="card-h"')[1].split("</section>")[0]
    assert '<iframe class="model-card"' in card and "sandbox" in card
    assert "Model card: credit-scorer version 4" in html.unescape(card)
    alone = http("viewer").get(f"{CHAMPION}/card.html")
    assert alone.status_code == 200 and "sandbox" in alone.headers["content-security-policy"]


def test_the_policy_table_shows_each_rule_with_the_value_seen_and_outcome(http, local) -> None:
    report = local().check_policy(f"{MODEL}/3", "champion")
    page = http("viewer").get(CANDIDATE).text
    failing = [o for o in report.results if o.outcome != "pass"]
    assert f"{len(failing)} of {len(report.results)} rules do not pass" in page
    for outcome in report.results:
        row = _rule_row(page, "champion", outcome.rule)
        assert f">{outcome.outcome}</span>" in row
        for key in outcome.values:
            assert f"<code>{key}</code> = " in row
        assert html.escape(outcome.message) in row
    approvals = _rule_row(page, "champion", "approvals")
    assert "<code>approvals.count</code> = " in approvals


# --- approve and reject -----------------------------------------------------------------


def test_a_viewer_sees_no_decision_buttons_and_a_posted_one_is_refused_naming_approver(
    http, local, site
) -> None:
    viewer = http("viewer")
    page = viewer.get(CANDIDATE).text
    assert "Approve</button>" not in page and "/approve" not in page and "/reject" not in page
    for decision in ("approve", "reject"):
        resp = viewer.post(
            f"/promotions/{site.promotion_id}/{decision}",
            data={"csrf": form_token(page), "comment": "x"},
        )
        assert resp.status_code == 403 and "needs approver or above" in resp.text
        assert "with role <strong>viewer</strong>" in resp.text
    assert local().get_promotion(site.promotion_id).approvals == []


def test_two_approvers_approve_the_seeded_request_in_the_browser(page_as, local, site) -> None:
    key = f"promotion-{site.promotion_id}"
    page = page_as("approver")
    page.goto(page.base + CANDIDATE)
    assert page.locator(f"#{key} button", has_text="Approve").is_visible()
    page.fill(f"#{key}-comment", "evidence reviewed")
    page.locator(f"#{key}").get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(rf"decided={site.promotion_id}#{key}$"))
    article = page.locator(f"#{key}")
    assert "is recorded" in article.locator("[role=status]").inner_text()
    first = article.locator("table.approvals tbody tr")
    assert first.count() == 1 and "ui-approver" in first.nth(0).inner_text()
    assert "evidence reviewed" in first.nth(0).inner_text()
    # the high tier's policy asks for two approvals: one is not enough
    rule = page.locator("#gate-champion tr", has_text="approvals.count")
    assert "approvals.count = 1" in rule.inner_text() and "fail" in rule.inner_text()

    second = page_as("approver2")
    second.goto(second.base + CANDIDATE)
    second.locator(f"#{key}").get_by_role("button", name="Approve").click()
    second.wait_for_url(re.compile(rf"#{key}$"))
    decisions = second.locator(f"#{key} table.approvals tbody tr")
    assert decisions.count() == 2 and "ui-approver-2" in decisions.nth(1).inner_text()
    rule = second.locator("#gate-champion tr", has_text="approvals.count")
    assert "approvals.count = 2" in rule.inner_text() and "pass" in rule.inner_text()
    promotion = local().get_promotion(site.promotion_id)
    assert [a.approver for a in promotion.approvals] == ["ui-approver", "ui-approver-2"]
    assert promotion.status == "open"  # approving does not move the alias: promoting does


def test_deciding_twice_or_with_a_too_long_comment_is_said_beside_the_form(http, local) -> None:
    request_id = _request(local, "fraud-detector/2", "review-twice")
    approver = http("approver")
    page = approver.get("/models/fraud-detector/versions/2").text
    token = form_token(page)
    url = f"/promotions/{request_id}/approve"
    long = approver.post(url, data={"csrf": token, "comment": "x" * 5001})
    assert long.status_code == 400
    assert f'id="promotion-{request_id}-error"' in long.text and "at most 5000" in long.text
    assert f'aria-describedby="promotion-{request_id}-error"' in long.text
    assert "x" * 5001 in long.text  # what was typed is kept
    ok = approver.post(url, data={"csrf": token, "comment": "fine"})
    assert ok.status_code == 303
    again = approver.post(url, data={"csrf": token, "comment": "twice"})
    assert again.status_code == 409 and "Traceback" not in again.text
    error = re.search(
        rf'<p class="error" id="promotion-{request_id}-error"[^>]*>(.*?)</p>', again.text
    )
    assert error and "ui-approver has already decided" in error.group(1)
    assert [a.comment for a in local().get_promotion(request_id).approvals] == ["fine"]
    missing = approver.post("/promotions/999999/approve", data={"csrf": token})
    assert missing.status_code == 404 and "no promotion request 999999" in missing.text


def test_reject_a_request_in_the_browser(page_as, local) -> None:
    request_id = _request(local, "fraud-detector/1", "review-reject")
    key = f"promotion-{request_id}"
    page = page_as("approver")
    page.goto(page.base + "/models/fraud-detector/versions/1")
    page.fill(f"#{key}-comment", "holdout AUC too low")
    page.locator(f"#{key}").get_by_role("button", name="Reject").click()
    page.wait_for_url(re.compile(rf"#{key}$"))
    row = page.locator(f"#{key} table.approvals tbody tr").nth(0)
    assert "reject" in row.inner_text() and "holdout AUC too low" in row.inner_text()
    decision = local().get_promotion(request_id).approvals[0]
    assert (decision.approver, decision.decision) == ("ui-approver", "reject")
    page.goto(page.base + "/models/fraud-detector")
    waiting = page.locator("#open-h + ul li", has_text="@review-reject")
    assert "0 approvals, 1 rejection so far" in waiting.inner_text()


# --- the compliance pack ----------------------------------------------------------------


def test_the_compliance_pack_downloads_and_verifies_offline(page_as, tmp_path: Path) -> None:
    page = page_as("viewer")
    page.goto(page.base + CHAMPION)
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the compliance pack").click()
    download = got.value
    assert download.suggested_filename == "credit-scorer-v4-pack.zip"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    report = verify_pack(path)
    checks = {c.name: c for c in report.checks}
    for name in ("manifest", "chain", "bindings", "files"):
        assert checks[name].ok, checks[name].detail
    # unsigned, as the page says: the only check it cannot pass is the signed checkpoint
    assert [c.name for c in report.checks if not c.ok] == ["checkpoint"]
    assert "not signed" in page.locator("#pack-h + p + p").inner_text()


def test_a_pack_needs_the_form_token_and_a_known_version(http) -> None:
    viewer = http("viewer")
    assert viewer.post(f"{CHAMPION}/pack.zip", data={"csrf": "forged"}).status_code == 403
    token = form_token(viewer.get(CHAMPION).text)
    missing = viewer.post(f"/models/{MODEL}/versions/99/pack.zip", data={"csrf": token})
    assert missing.status_code == 404 and "Traceback" not in missing.text


# --- in the browser: the main pages, a phone, the keyboard ------------------------------


def test_browse_from_the_list_to_a_version(page_as) -> None:
    page = page_as("viewer")
    page.goto(page.base + "/models")
    screenshot(page, "models")
    page.get_by_role("link", name="@champion → v4").first.click()
    page.wait_for_url(re.compile(rf"{CHAMPION}$"))
    assert page.locator("h1").inner_text().startswith("credit-scorer v4")
    graph = page.locator("svg.lineage-graph")
    assert graph.is_visible() and graph.get_attribute("role") == "img"
    assert page.locator("figure.chart svg[role=img]").first.is_visible()
    screenshot(page, "model-version")
    graph.locator("a[href='/deployments/credit-api']").click()
    page.wait_for_url(re.compile(r"/deployments/credit-api$"))


def test_the_version_page_fits_a_phone_and_the_keyboard_reaches_approve(page_as, local) -> None:
    request_id = _request(local, "fraud-detector/1", "review-keyboard")
    page = page_as("approver", width=375)
    page.goto(page.base + "/models/fraud-detector/versions/1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    page.goto(page.base + CANDIDATE)  # the policy table: one tile per rule on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    tile = page.locator("#gate-champion tbody tr").first
    assert tile.evaluate("e => getComputedStyle(e).display") == "block"
    page.goto(page.base + CHAMPION)
    assert page.evaluate("document.documentElement.scrollWidth") <= 376
    screenshot(page, "model-version-phone")
    page.goto(page.base + "/models/fraud-detector/versions/1")
    approve = page.locator(f"#promotion-{request_id}").get_by_role("button", name="Approve")
    for _ in range(200):
        page.keyboard.press("Tab")
        if approve.evaluate("b => b === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the Approve button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"#promotion-{request_id}$"))
    assert local().get_promotion(request_id).approvals[0].approver == "ui-approver"
