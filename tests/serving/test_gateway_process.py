"""``modelward serve`` as a real process: nothing answered is lost on SIGTERM, and on
SIGKILL nothing older than one flush interval."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

import modelward as mw
from conftest import ENDPOINT, build_versions, rows

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(port: int, flush_every: float) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "modelward"),
        "serve",
        "--port",
        str(port),
        "--flush-every",
        str(flush_every),
    ]
    proc = subprocess.Popen(command, env=os.environ.copy(), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"gateway did not become ready: {proc.stderr.read()!r}")  # type: ignore[union-attr]


def hammer(port: int, stop: threading.Event, answered: list[str]) -> None:
    url = f"http://127.0.0.1:{port}/v1/endpoints/{ENDPOINT}/predict"
    body = {"instances": rows(1)}
    with httpx.Client(timeout=5) as http:
        while not stop.is_set():
            try:
                r = http.post(url, json=body)
            except httpx.HTTPError:
                return  # the gateway has stopped accepting
            if r.status_code == 200:
                answered.append(r.json()["request_id"])


def logged(client: mw.Client) -> set[str]:
    return set(client.read_segments(ENDPOINT, columns=[])["__id__"])


def test_sigterm_under_load_loses_no_answered_prediction() -> None:
    client = mw.Client()  # the embedded home the process also opens
    build_versions(client)
    port = free_port()
    proc = start_gateway(port, flush_every=5.0)  # long: the shutdown flush must do the work
    stop, answered = threading.Event(), []  # type: ignore[var-annotated]
    workers = [threading.Thread(target=hammer, args=(port, stop, answered)) for _ in range(4)]
    for w in workers:
        w.start()
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    # uvicorn finishes the requests in flight, runs the shutdown (the log flush), then
    # re-raises the signal so the parent sees how it ended.
    assert proc.wait(timeout=60) in (0, -signal.SIGTERM)
    proc.stderr.close()  # type: ignore[union-attr]
    stop.set()
    for w in workers:
        w.join(timeout=10)
    assert len(answered) > 50
    assert logged(client) == set(answered)


def test_sigkill_loses_at_most_the_last_flush_interval() -> None:
    client = mw.Client()
    build_versions(client)
    port = free_port()
    proc = start_gateway(port, flush_every=0.5)
    url = f"http://127.0.0.1:{port}/v1/endpoints/{ENDPOINT}/predict"
    with httpx.Client(timeout=5) as http:
        early = [
            http.post(url, json={"instances": rows(1)}).json()["request_id"] for _ in range(100)
        ]
        time.sleep(1.5)  # three flush intervals: the first 100 are written by now
        late = [http.post(url, json={"instances": rows(1)}).json()["request_id"] for _ in range(20)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stderr.close()  # type: ignore[union-attr]
    found = logged(client)
    assert set(early) <= found
    assert found <= set(early) | set(late)
