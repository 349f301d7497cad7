"""Drift over a 30-day window must not depend on how many predictions were logged.

Logs 30 days x 24 hourly segments (``--rows`` predictions each, 20 features) into an
embedded SQLite store, then times ``drift(..., window="30d")``: profiles are merged, rows
are never read. Prints the p50 and p95 of ``--repeats`` calls.

    .venv/bin/python benchmarks/drift_window_bench.py --rows 10000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

import modelward as mw
from modelward.client.monitoring import MonitoringAPI
from modelward.client.predictions import PredictionsAPI
from modelward.monitoring import log_service as _log_service  # noqa: F401
from modelward.monitoring import monitor_service as _monitor_service  # noqa: F401

HOUR_MS = 3_600_000
NUMERIC = [f"n{i:02d}" for i in range(15)]
CATEGORICAL = [f"q{j}" for j in range(5)]


class Monitoring(MonitoringAPI, PredictionsAPI):
    pass


def frame(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    data = {n: rng.normal(size=rows) for n in NUMERIC}
    data |= {n: rng.choice(["a", "b", "c"], size=rows) for n in CATEGORICAL}
    return pd.DataFrame(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000, help="predictions per hour")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    train = frame(5000, rng)
    y = (train["n00"] > 0).astype(int)
    encoder = make_column_transformer((OneHotEncoder(), CATEGORICAL), remainder="passthrough")
    model = make_pipeline(encoder, LogisticRegression(max_iter=500)).fit(train, y)
    with tempfile.TemporaryDirectory() as tmp:
        client = mw.Client(f"sqlite:///{Path(tmp) / 'store.db'}", artifacts=f"{tmp}/artifacts")
        dataset = client.register_dataset("train", train.assign(y=y))
        with client.start_run("bench") as run:
            run.log_input(dataset, role="training")
            run.log_model(model, "scorer", signature=mw.infer_signature(train))
        client.create_endpoint("api", "scorer/1")
        m = Monitoring.__new__(Monitoring)
        m._transport = client._transport
        start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
        hours = args.days * 24
        t0 = time.perf_counter()
        batch = frame(args.rows, rng)
        prediction, score = model.predict(batch), model.predict_proba(batch)[:, 1]
        for h in range(hours):
            ts = start + h * HOUR_MS + np.arange(args.rows) * (HOUR_MS // args.rows)
            ids = [f"{h}-{i}" for i in range(args.rows)]
            m.log_predictions("api", batch, prediction, ids=ids, timestamps=ts, scores=score)
        logged = time.perf_counter() - t0
        since, until = start, start + hours * HOUR_MS
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            df = m.drift("api", since=since, until=until, window=f"{args.days}d")
            times.append(time.perf_counter() - t0)
        rows = int(df.loc[df["feature"] == "__dataset__", "rows"].sum())
        print(f"logged {hours} segments x {args.rows} rows x 20 features in {logged:.1f} s")
        print(f"drift over {args.days}d ({rows:,} predictions, {len(df)} result rows):")
        print(f"  p50 {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
        client.close()


if __name__ == "__main__":
    main()
