"""The gateway in a background thread of this process (the demo, tests, notebooks)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from modelward.store import Store


class BackgroundGateway:
    """``modelward serve`` on ``host:port`` (0 picks a free port) in a daemon thread, with
    its lifespan: startup reads the plans, ``stop()`` finishes requests and writes the log.

    The port is bound before anything else, in the caller's thread: a port already taken
    raises ``OSError`` here, and nothing can take it between the check and the serving.
    """

    def __init__(
        self, store: Store, *, host: str = "127.0.0.1", port: int = 0, **options: Any
    ) -> None:
        import uvicorn

        sock = socket.create_server((host, port))

        from modelward.serving.gateway import MAX_BODY, Gateway
        from modelward.serving.runtime import Runtime

        max_body = options.pop("max_body", MAX_BODY)
        self.runtime = Runtime(store, **options)
        self.app = Gateway(self.runtime, max_body=max_body)
        config = uvicorn.Config(
            self.app, host=host, port=port, log_level="warning", lifespan="on", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="gateway", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                sock.close()
                raise RuntimeError(f"the gateway did not start on {host}:{port}")
            time.sleep(0.01)
        self.url = f"http://{host}:{sock.getsockname()[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
