"""The optional monitor scheduler inside ``modelward server``: ``monitor run`` on a timer.

``monitor run`` is idempotent (results are upserted by window, an open alert is deduplicated
in the database), so replicas that all run the scheduler compute the same rows and start a
trigger once; still, one replica is enough and cheaper.
"""

from __future__ import annotations

import logging
import re
import threading

from modelward.auth.roles import Principal, Role
from modelward.errors import InvalidInput
from modelward.store import Store

log = logging.getLogger("modelward.scheduler")

SCHEDULER = Principal("modelward-scheduler", Role.admin)
_EVERY = re.compile(r"^([1-9][0-9]{0,5})([smh])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_every(text: str) -> int:
    """``30s``, ``15m``, ``1h`` in seconds."""
    match = _EVERY.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(
            f"monitor-every: expected a duration like 30s, 15m or 1h, got {text!r}",
            field="monitor_every",
        )
    return int(match.group(1)) * _SECONDS[match.group(2)]


def start(store: Store, every_s: int) -> threading.Event:
    """Run ``monitor run`` for every active endpoint every ``every_s`` seconds, in a daemon
    thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_loop, args=(store, every_s, stop), name="modelward-monitor", daemon=True
    )
    thread.start()
    return stop


def _loop(store: Store, every_s: int, stop: threading.Event) -> None:
    from modelward.client.transport import run_operation
    from modelward.operations import load_all

    operation = load_all()["monitor_run"]
    while not stop.wait(every_s):
        try:
            summary = run_operation(store, SCHEDULER, operation, {})
            log.info("monitor run: %s", summary.model_dump(mode="json"))
        except Exception:  # one failed run must not end the schedule
            log.exception("monitor run failed; next attempt in %s s", every_s)
