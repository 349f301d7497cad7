"""The chain under load: concurrent writers never fork it, a killed server never breaks it."""

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
from audit_helpers import ADMIN, local_client
from sqlalchemy import text

from modelward.client.transport import run_operation
from modelward.operations import OPERATIONS, load_all
from modelward.store import Store
from modelward.tracking.schemas import ExperimentCreate

THREADS, WRITES = 4, 50


def test_concurrent_writers_never_fork_the_chain(store: Store) -> None:
    load_all()
    op = OPERATIONS["create_experiment"]
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(WRITES):
                body = ExperimentCreate(name=f"w{t}-{i}")
                run_operation(store, ADMIN, op, {"body": body})
        except BaseException as exc:  # reported below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []

    total = THREADS * WRITES
    report = local_client(store).verify_audit()
    assert report.intact, report.message
    assert report.events_checked == total
    with store.engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_events ORDER BY seq"))]
        prevs = conn.execute(text("SELECT COUNT(DISTINCT prev_hash) FROM audit_events")).scalar()
    assert seqs == list(range(1, total + 1))
    assert prevs == total  # no two events chained onto the same predecessor


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(store: Store, tmp_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [sys.executable, "-c", "from modelward.cli.main import main; main()", "server"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--no-auth"]
    cmd += ["--uri", store.location.db_url, "--artifacts", str(tmp_path / "server-artifacts")]
    env = {**os.environ, "MODELWARD_HOME": str(tmp_path / "server-home")}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    raise AssertionError("server did not start:\n" + (tmp_path / "server.log").read_text())


def test_a_server_killed_mid_request_leaves_a_consistent_store(
    store: Store, tmp_path: Path
) -> None:
    proc, url = _start_server(store, tmp_path)
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer(t: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as http:
            i = 0
            while not stop.is_set():
                name = f"k{t}-{i}"
                try:
                    resp = http.post("/api/v1/experiments", json={"name": name})
                except httpx.HTTPError:
                    return  # the server is gone
                if resp.status_code == 201:
                    acknowledged.append(name)
                i += 1

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    try:
        for th in threads:
            th.start()
        deadline = time.monotonic() + 20
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # while requests are in flight
        proc.wait(timeout=10)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for th in threads:
            th.join(timeout=15)
    assert len(acknowledged) >= 60

    report = local_client(store).verify_audit()
    assert report.intact, report.message
    with store.engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT name FROM experiments"))}
        events = [
            r[0]
            for r in conn.execute(
                text("SELECT entity_id FROM audit_events WHERE action = 'experiment.create'")
            )
        ]
    assert sorted(events) == sorted(stored)  # every entity has its event, and no event is extra
    assert set(acknowledged) <= stored  # nothing the server acknowledged was lost
