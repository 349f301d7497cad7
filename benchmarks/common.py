"""What both sides of every benchmark share: the workload shape, timing and the result file.

Standard library only: this module is imported by the MLflow side (its own virtual
environment) and by the modelward side, so the two generate exactly the same data.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

N_PARAMS = 10
N_METRICS = 10
# m0 is uniform in [0, 1): the search filter ``metrics.m0 > 0.5`` keeps about half the runs.
SEARCH_FILTER_KEY = "m0"
SEARCH_THRESHOLD = 0.5


def run_shape(rng: random.Random) -> tuple[dict[str, str], dict[str, float]]:
    """The params and final metrics of one benchmark run (10 of each)."""
    params = {f"p{i}": str(rng.randint(0, 1000)) for i in range(N_PARAMS)}
    metrics = {f"m{i}": rng.random() for i in range(N_METRICS)}
    return params, metrics


def point_batch(batch: int, size: int) -> list[tuple[str, float, int, int]]:
    """One batch of metric points (key, value, step, timestamp_ms) for the points workload.

    Ten keys, each batch advancing their steps, so no two points in the run collide.
    """
    per_key = max(1, size // N_METRICS)
    ts = int(time.time() * 1000)
    return [
        (f"m{i % N_METRICS}", float(i), batch * per_key + i // N_METRICS, ts) for i in range(size)
    ]


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def summarize(latencies_s: list[float]) -> dict[str, Any]:
    """Latency samples in seconds → p50/min/max in milliseconds plus the raw samples."""
    ms = [v * 1000 for v in latencies_s]
    return {
        "p50_ms": median(ms),
        "min_ms": min(ms),
        "max_ms": max(ms),
        "samples_ms": [round(v, 3) for v in ms],
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def create_runs(
    n: int, chunk: int, seed: int, one_run: Callable[[dict, dict], None], skip: int = 0
) -> dict:
    """Create ``n`` runs via ``one_run(params, metrics)``; throughput overall and per chunk.

    ``skip`` starts further along the seeded sequence, so parallel writers together
    produce exactly the runs one writer would.
    """
    rng = random.Random(seed)
    for _ in range(skip):
        run_shape(rng)
    chunk_rates: list[float] = []
    t_all = time.perf_counter()
    t_chunk, in_chunk = t_all, 0
    for _ in range(n):
        params, metrics = run_shape(rng)
        one_run(params, metrics)
        in_chunk += 1
        if in_chunk == chunk:
            now = time.perf_counter()
            chunk_rates.append(chunk / (now - t_chunk))
            t_chunk, in_chunk = now, 0
    total = time.perf_counter() - t_all
    return {
        "runs": n,
        "total_s": total,
        "runs_per_s": n / total,
        "chunk_size": chunk,
        "median_chunk_runs_per_s": median(chunk_rates) if chunk_rates else n / total,
        "chunk_runs_per_s": [round(r, 2) for r in chunk_rates],
    }


def check_search(values: list[float], expected_max: int) -> dict[str, Any]:
    """Both sides must return the same thing: filtered, ordered, capped. Say if not."""
    ok_filter = all(v > SEARCH_THRESHOLD for v in values)
    ok_order = all(a >= b for a, b in zip(values, values[1:], strict=False))
    return {
        "returned": len(values),
        "filter_ok": ok_filter,
        "order_ok": ok_order,
        "capped_ok": len(values) <= expected_max,
    }


def main(workloads: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
    """``python <side>.py WORKLOAD --params JSON --out FILE``: run one workload, write JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=sorted(workloads))
    parser.add_argument("--params", default="{}", help="workload parameters as JSON")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    args = parser.parse_args()
    result = workloads[args.workload](json.loads(args.params))
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}), file=sys.stderr)
