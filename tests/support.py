"""Helpers shared by test modules (import them from here: every directory's conftest.py is
imported as the module ``conftest``, so ``from conftest import …`` picks an arbitrary one)."""

from __future__ import annotations

import threading
import time

import numpy as np

from modelward import Client
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.store import Store

ADMIN = Principal("test-admin", Role.admin)


class LiveServer:
    """uvicorn serving the API on a free loopback port, in a background thread."""

    def __init__(self, store: Store, auth: bool = True, keep_alive: float = 5) -> None:
        import uvicorn

        from modelward.api.app import create_app

        self.app = create_app(store, auth=auth)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_keep_alive=keep_alive,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def token_for(store: Store, role: str, name: str | None = None) -> str:
    local = Client.over(LocalTransport(store, ADMIN))
    return local.create_token(name or f"t-{role}", role=role).token


class LiveGateway:
    """The online gateway on a free loopback port, in a background thread (fast timers)."""

    def __init__(
        self,
        store: Store,
        *,
        flush_every: float = 0.2,
        refresh_every: float = 0.2,
        analysis_every: float = 3600.0,
        max_body: int = 1_048_576,
    ) -> None:
        from modelward.serving.background import BackgroundGateway

        self.gateway = BackgroundGateway(
            store,
            flush_every=flush_every,
            refresh_every=refresh_every,
            analysis_every=analysis_every,
            max_body=max_body,
        )
        self.runtime, self.url = self.gateway.runtime, self.gateway.url

    def wait_for(self, condition: object, timeout: float = 15.0) -> None:
        """Until ``condition(runtime)`` holds (plans are re-read in the background)."""
        deadline = time.monotonic() + timeout
        while not condition(self.runtime):  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise AssertionError("the gateway did not reach the expected state in time")
            time.sleep(0.05)

    def stop(self) -> None:
        self.gateway.stop()


class Exploding:
    """A model that raises on every prediction (registered as a trusted pickle).

    It lives here, not in a conftest, so that pickle finds its class again by name.
    """

    classes_ = np.array([0, 1])

    def predict(self, x: object) -> object:
        raise RuntimeError("this model is broken")

    def predict_proba(self, x: object) -> object:
        raise RuntimeError("this model is broken")
