"""The SDK's HTTP connections: reused, recovered when the server drops them, shared by threads."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import modelward as mw
from modelward.client.http_pool import query_string
from modelward.client.transport import HttpTransport
from modelward.errors import ModelwardError
from modelward.store import Store
from support import LiveServer, token_for


def test_a_connection_the_server_closed_while_idle_is_replaced(store: Store) -> None:
    server = LiveServer(store, keep_alive=0.2)
    try:
        client = mw.Client.over(HttpTransport(server.url, token_for(store, "developer")))
        run = client.start_run("idle", params={"a": "1"})
        time.sleep(0.6)  # the server has closed the kept-alive connection by now
        run.log_batch(metrics=[("auc", 0.9, 0, 1)])  # a POST: must be sent once, not lost
        time.sleep(0.6)
        run.end()
        got = client.get_run(run.id)
        assert got.metrics == {"auc": 0.9} and got.status == "FINISHED"
    finally:
        server.stop()


def test_threads_share_one_client(live_server: Any, store: Store) -> None:
    client = mw.Client.over(HttpTransport(live_server.url, token_for(store, "developer")))
    run = client.start_run("threads")

    def log(i: int) -> None:
        for step in range(10):
            run.log_batch(metrics=[(f"m{i}", float(step), step, 1)])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(log, range(8)))
    assert client.get_run(run.id).metrics == {f"m{i}": 9.0 for i in range(8)}


def test_a_server_that_is_gone_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    client = mw.Client(f"http://127.0.0.1:{port}")
    with pytest.raises(ModelwardError) as caught:
        client.list_experiments()
    assert caught.value.field == "uri"
    assert f"cannot reach http://127.0.0.1:{port}" in str(caught.value)


def test_a_server_that_stops_mid_session_is_named(store: Store) -> None:
    server = LiveServer(store)
    client = mw.Client.over(HttpTransport(server.url, token_for(store, "viewer")))
    assert client.list_experiments() == []
    server.stop()
    with pytest.raises(ModelwardError) as caught:
        client.list_experiments()
    assert caught.value.field == "uri"


def test_query_values_are_sent_the_way_the_api_reads_them() -> None:
    sent = query_string({"flag": True, "off": False, "n": 3, "keys": ["a b", "c&d"], "gone": None})
    assert sent == "flag=true&off=false&n=3&keys=a+b&keys=c%26d"


def test_a_base_path_prefix_is_kept(store: Store) -> None:
    server = LiveServer(store)
    try:
        with pytest.raises(ModelwardError) as caught:
            mw.Client(server.url + "/under/a/prefix").list_experiments()
        # The prefix reached the server: it answered 404 for a path it does not serve.
        assert "404" in str(caught.value) or caught.value.http_status == 404
    finally:
        server.stop()
    assert threading.active_count() >= 1
