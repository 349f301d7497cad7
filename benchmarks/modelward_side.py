"""modelward: each workload driven through ``modelward.Client`` over HTTP (run in ``.venv``).

Usage: ``.venv/bin/python benchmarks/modelward_side.py WORKLOAD --params JSON --out FILE``
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import common

import modelward


def _one_run(client: modelward.Client, experiment: str):  # type: ignore[no-untyped-def]
    def run(params: dict[str, str], metrics: dict[str, float]) -> None:
        # Three requests, like the MLflow side: create (with params), one batch, end.
        r = client.start_run(experiment, params=params)
        ts = int(time.time() * 1000)
        r.log_batch(metrics=[(k, v, 0, ts) for k, v in metrics.items()])
        r.end()

    return run


def runs(p: dict[str, Any]) -> dict[str, Any]:
    client = modelward.Client(p["url"])
    return common.create_runs(p["n"], p["chunk"], p["seed"], _one_run(client, p["experiment"]))


def points(p: dict[str, Any]) -> dict[str, Any]:
    client = modelward.Client(p["url"])
    run = client.start_run(p["experiment"])
    per_batch: list[float] = []
    for b in range(p["batches"]):
        batch = common.point_batch(b, p["size"])
        t0 = time.perf_counter()
        run.log_batch(metrics=batch)
        per_batch.append(time.perf_counter() - t0)
    run.end()
    total_points = p["batches"] * p["size"]
    return {
        "points": total_points,
        "total_s": sum(per_batch),
        "points_per_s": total_points / sum(per_batch),
        "median_batch_s": common.median(per_batch),
        "median_points_per_s": p["size"] / common.median(per_batch),
    }


def search(p: dict[str, Any]) -> dict[str, Any]:
    client = modelward.Client(p["url"])
    flt = f"metrics.{common.SEARCH_FILTER_KEY} > {common.SEARCH_THRESHOLD}"
    order = [f"metrics.{common.SEARCH_FILTER_KEY} desc"]

    def once() -> Any:
        return client.search_runs(
            p["experiment"], flt, order_by=order, max_results=p["max_results"]
        )

    for _ in range(p["warmup"]):
        once()
    samples, page = [], None
    for _ in range(p["repeats"]):
        dt, page = common.timed(once)
        samples.append(dt)
    values = [r.metrics[common.SEARCH_FILTER_KEY] for r in page.runs] if page else []
    return {**common.summarize(samples), **common.check_search(values, p["max_results"])}


def alias(p: dict[str, Any]) -> dict[str, Any]:
    """Log a small scikit-learn model from a run (skops), alias it, then resolve the alias."""
    from sklearn.linear_model import LogisticRegression

    client = modelward.Client(p["url"])
    model = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.2], [0.1, 0.9]], [0, 1, 1, 0])
    with client.start_run(p["experiment"]) as run:
        version = run.log_model(model, p["model"])
    client.set_alias(p["model"], "champion", version.version)
    ref = f"{p['model']}@champion"
    for _ in range(p["warmup"]):
        client.get_version(ref)
    samples = []
    for _ in range(p["repeats"]):
        dt, got = common.timed(lambda: client.get_version(ref))
        assert got.version == version.version
        samples.append(dt)
    return common.summarize(samples)


_INSERT = (
    "INSERT INTO audit_events (seq, time_ms, actor, action, entity_type, entity_id, "
    "state_digest, summary, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _generate_events(db: Path, n: int) -> float:
    """Append ``n`` chained events straight into the table (the service path is per-request)."""
    from modelward.audit.chain import GENESIS, event_hash

    t0 = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    prev, t = GENESIS, int(time.time() * 1000) - n
    actor, action, etype, summary = "bench", "run.update", "run", '{"status":"FINISHED"}'
    digest = "ab" * 32
    batch: list[tuple[Any, ...]] = []
    for seq in range(1, n + 1):
        eid = f"{seq:032x}"
        h = event_hash(prev, seq, t + seq, actor, action, etype, eid, digest, summary)
        batch.append((seq, t + seq, actor, action, etype, eid, digest, summary, prev, h))
        prev = h
        if len(batch) == 50_000:
            conn.executemany(_INSERT, batch)
            batch.clear()
    conn.executemany(_INSERT, batch)
    conn.commit()
    conn.close()
    return time.perf_counter() - t0


def audit(p: dict[str, Any]) -> dict[str, Any]:
    """Verify ``events`` chained events: through the CLI, and through the SDK in-process."""
    folder = Path(p["dir"])
    folder.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{folder / 'audit.db'}"
    modelward.Client(uri, artifacts=str(folder / "artifacts")).close()  # creates the tables
    generate_s = _generate_events(folder / "audit.db", p["events"])
    env = {**os.environ, "MODELWARD_URI": uri, "MODELWARD_ARTIFACTS": str(folder / "artifacts")}
    cli = str(Path(sys.executable).parent / "modelward")
    t0 = time.perf_counter()
    done = subprocess.run([cli, "audit", "verify"], env=env, capture_output=True, text=True)
    cli_s = time.perf_counter() - t0
    if done.returncode != 0 or "intact" not in done.stdout:
        raise RuntimeError(f"audit verify failed ({done.returncode}): {done.stdout}{done.stderr}")
    with modelward.Client(uri, artifacts=str(folder / "artifacts")) as client:
        fn_s, report = common.timed(client.verify_audit)
    assert report.intact and report.events_checked >= p["events"], report
    return {
        "events": report.events_checked,
        "generated_by": "direct INSERTs with modelward.audit.chain.event_hash in a loop",
        "generate_s": generate_s,
        "verify_cli_s": cli_s,
        "verify_fn_s": fn_s,
        "verify_reported_s": report.seconds,
        "cli_output": done.stdout.strip(),
    }


if __name__ == "__main__":
    common.main({"runs": runs, "points": points, "search": search, "alias": alias, "audit": audit})
