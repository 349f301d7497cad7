"""Prediction-log ingest: rows per second from the SDK into a store, end to end.

    .venv/bin/python benchmarks/ingest_bench.py [--rows 100000] [--batches 5]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A model trained on 2,000 rows of 20 numeric features is deployed as an endpoint of a fresh
embedded store (a SQLite file) and, when --postgres is given (or
MODELWARD_TEST_POSTGRES_URL is set), of a fresh PostgreSQL database. Each batch of --rows
predictions with its own ids and timestamps spread over two hours is logged with
``client.log_predictions``: id dedup, hourly segments, profiles against the baseline,
Parquet upload and one registering transaction. The first call also builds the baseline
and is timed apart. A last call re-sends a logged batch (every id is skipped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from typing import Any

import numpy as np
import pandas as pd

N_FEATURES = 20
HOUR_MS = 3_600_000


def deploy(client: Any) -> None:
    from sklearn.linear_model import LogisticRegression

    import modelward as mw
    from modelward.monitoring.endpoint_schemas import EndpointCreate

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(2000, N_FEATURES)), columns=_names())
    y = (x["f00"] + rng.normal(size=2000) > 0).astype(int)
    dataset = client.register_dataset("ingest-train", x.assign(y=y))
    with client.start_run("ingest") as run:
        run.log_input(dataset, role="training")
        version = run.log_model(
            LogisticRegression().fit(x, y), "ingest-model", signature=mw.infer_signature(x)
        )
    client._call("create_endpoint", body=EndpointCreate(name="ingest", model=version.ref))


def _names() -> list[str]:
    return [f"f{i:02d}" for i in range(N_FEATURES)]


def batch(rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(rng.normal(size=(rows, N_FEATURES)), columns=_names())
    predictions = (features["f00"].to_numpy() > 0).astype("int64")
    ids = [f"{seed}-{i}" for i in range(rows)]
    start = 1_750_000_000_000 // HOUR_MS * HOUR_MS
    timestamps = start + np.sort(rng.integers(0, 2 * HOUR_MS, rows))
    return features, predictions, ids, timestamps


def run(uri: str, rows: int, batches: int) -> dict[str, Any]:
    import modelward.monitoring.endpoints  # noqa: F401  (registers the endpoint verbs)
    import modelward.monitoring.log_service  # noqa: F401  (registers the log verbs)
    from modelward import Client

    with tempfile.TemporaryDirectory() as tmp:
        artifacts = os.path.join(tmp, "artifacts")
        client = Client(uri or f"sqlite:///{tmp}/store.db", artifacts=artifacts)
        deploy(client)
        warm = batch(rows, 0)
        started = time.perf_counter()
        client.log_predictions("ingest", warm[0], warm[1], ids=warm[2], timestamps=warm[3])
        first = time.perf_counter() - started
        work = [batch(rows, seed) for seed in range(1, batches + 1)]
        times = []
        for features, predictions, ids, ts in work:
            started = time.perf_counter()
            receipt = client.log_predictions(
                "ingest", features, predictions, ids=ids, timestamps=ts
            )
            times.append(time.perf_counter() - started)
            assert receipt.new == rows
        features, predictions, ids, ts = work[0]
        started = time.perf_counter()
        again = client.log_predictions("ingest", features, predictions, ids=ids, timestamps=ts)
        relog = time.perf_counter() - started
        assert again.skipped == rows
        client.close()
    median = statistics.median(times)
    return {
        "first_call_s": round(first, 3),
        "median_s": round(median, 3),
        "rows_per_s": round(rows / median),
        "best_rows_per_s": round(rows / min(times)),
        "relog_rows_per_s": round(rows / relog),
    }


def _fresh_postgres(admin_url: str) -> tuple[str, Any]:
    import sqlalchemy as sa

    name = f"mw_ingest_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return url, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("MODELWARD_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(f"{args.rows} rows x {N_FEATURES} features per batch, {args.batches} batches")
    print(f"sqlite     {run('', args.rows, args.batches)}")
    if args.postgres:
        url, drop = _fresh_postgres(args.postgres)
        try:
            print(f"postgresql {run(url, args.rows, args.batches)}")
        finally:
            drop()


if __name__ == "__main__":
    main()
