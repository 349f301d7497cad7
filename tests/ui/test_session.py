"""Signing in and out, the form token, and error pages: the UI's shared behaviour."""

from __future__ import annotations

import re

from ui_support import form_token


def test_pages_need_a_session_and_send_the_browser_to_sign_in(http) -> None:
    resp = http(None).get("/?tier=high")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=%2F%3Ftier%3Dhigh"


def test_a_wrong_token_is_refused_beside_the_field_and_a_right_one_signs_in(http) -> None:
    anon = http(None)
    bad = anon.post("/login", data={"token": "mw_not-a-token", "next": "/"})
    assert bad.status_code == 400
    assert 'id="token-error"' in bad.text and "unknown or revoked" in bad.text
    assert "mw_session" not in bad.headers.get("set-cookie", "")


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(http, site) -> None:
    anon = http(None)
    ok = anon.post("/login", data={"token": site.tokens["viewer"], "next": "/"})
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    away = anon.post("/login", data={"token": site.tokens["viewer"], "next": "//evil.example/"})
    assert away.headers["location"] == "/"


def test_unknown_pages_get_a_friendly_404_page_not_json(http) -> None:
    resp = http("viewer").get("/no/such/page")
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert "Not found" in resp.text and "Traceback" not in resp.text


def test_the_api_still_answers_json_errors(http) -> None:
    resp = http("viewer").get("/api/v1/no-such-route")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "not_found"


def test_a_form_without_its_token_is_refused(http) -> None:
    viewer = http("viewer")
    resp = viewer.post("/logout", data={})
    assert resp.status_code == 403
    assert "expired" in resp.text
    page = viewer.get("/")
    ok = viewer.post("/logout", data={"csrf": form_token(page.text)})
    assert ok.status_code == 303 and ok.headers["location"] == "/login"


def test_a_form_posted_from_another_origin_is_refused(http) -> None:
    viewer = http("viewer")
    token = form_token(viewer.get("/").text)
    resp = viewer.post("/logout", data={"csrf": token}, headers={"Origin": "http://evil.example"})
    assert resp.status_code == 403
    assert re.search(r"evil\.example", resp.text)


def test_log_in_through_the_browser(page_as, site) -> None:
    page = page_as(None)
    page.goto(page.base + "/?tier=high")
    assert "/login" in page.url
    page.fill("#token", "wrong")
    page.click("button[type=submit]")
    assert page.locator("#token-error").is_visible()
    page.fill("#token", site.tokens["viewer"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/\?tier=high$"))
    assert page.locator(".who").inner_text().startswith("ui-viewer")
