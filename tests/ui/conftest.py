"""The UI under test: the demo's store plus open work, served by a real uvicorn on
127.0.0.1, looked at by httpx and by a real headless Chromium driven by Playwright.

All UI tests share one seeded site per pytest worker (the demo takes about a minute);
they carry the ``xdist_group("ui")`` mark so one worker runs them all. Tests that change
state (an approval, a rollback) make the state they change themselves where they can.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from seed import Site, run_demo, seed

from modelward import Client
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.store import Store
from support import LiveServer

CHROMIUM = os.environ.get("MODELWARD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.xdist_group("ui"))


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    home = tmp_path_factory.mktemp("ui-site")
    prebuilt = os.environ.get("MODELWARD_TEST_DEMO_HOME")
    if prebuilt:  # a home left by 'modelward demo --no-serve', copied: faster iterations
        shutil.copytree(prebuilt, home, dirs_exist_ok=True)
    else:
        run_demo(home)
    return seed(home)


@pytest.fixture(scope="session")
def site_store(site: Site) -> Iterator[Store]:
    store = Store(site.location)
    yield store
    store.close()


@pytest.fixture(scope="session")
def ui_server(site_store: Store) -> Iterator[LiveServer]:
    server = LiveServer(site_store, auth=True)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local(site_store: Store) -> Callable[..., Client]:
    """An in-process SDK client on the site's store acting as ``name`` with ``role``."""

    def make(name: str = "ops-admin", role: str = "admin") -> Client:
        return Client.over(LocalTransport(site_store, Principal(name, Role[role])))

    return make


@pytest.fixture
def http(ui_server: LiveServer, site: Site) -> Iterator[Callable[[str | None], httpx.Client]]:
    """An httpx client signed in as a role (``None``: not signed in); no redirects followed."""
    opened: list[httpx.Client] = []

    def make(role: str | None) -> httpx.Client:
        cookies = {"mw_session": site.tokens[role]} if role else {}
        c = httpx.Client(base_url=ui_server.url, cookies=cookies, timeout=30)
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: playwright is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_as(browser: Any, ui_server: LiveServer, site: Site) -> Iterator[Callable[..., Any]]:
    """A fresh browser page signed in as ``role`` (the session cookie set directly)."""
    contexts: list[Any] = []

    def make(role: str | None, width: int = 1280, height: int = 900) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        if role:
            ctx.add_cookies(
                [{"name": "mw_session", "value": site.tokens[role], "url": ui_server.url}]
            )
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        page.base = ui_server.url
        return page

    yield make
    for ctx in contexts:
        ctx.close()
