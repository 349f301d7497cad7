"""The anchor: each workload driven through ``mlflow.MlflowClient`` (run in MLflow's own venv).

Usage::

    benchmarks/.venv-mlflow/bin/python benchmarks/mlflow_side.py WORKLOAD --params JSON --out FILE
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from typing import Any

import common

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
# The client prints a "View run at" link per finished run; it is not part of the work.
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunStatus  # noqa: E402


def _experiment_id(client: MlflowClient, name: str) -> str:
    exp = client.get_experiment_by_name(name)
    return exp.experiment_id if exp else client.create_experiment(name)


def _one_run(client: MlflowClient, exp_id: str):  # type: ignore[no-untyped-def]
    def run(params: dict[str, str], metrics: dict[str, float]) -> None:
        # Three requests, like the modelward side: create, one batch, terminate.
        run_id = client.create_run(exp_id).info.run_id
        ts = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(run_id, RunStatus.to_string(RunStatus.FINISHED))

    return run


def runs(p: dict[str, Any]) -> dict[str, Any]:
    client = MlflowClient(p["url"])
    exp_id = _experiment_id(client, p["experiment"])
    return common.create_runs(p["n"], p["chunk"], p["seed"], _one_run(client, exp_id))


def points(p: dict[str, Any]) -> dict[str, Any]:
    client = MlflowClient(p["url"])
    run_id = client.create_run(_experiment_id(client, p["experiment"])).info.run_id
    per_batch: list[float] = []
    for b in range(p["batches"]):
        batch = [Metric(k, v, ts, step) for k, v, step, ts in common.point_batch(b, p["size"])]
        t0 = time.perf_counter()
        client.log_batch(run_id, metrics=batch)
        per_batch.append(time.perf_counter() - t0)
    client.set_terminated(run_id)
    total_points = p["batches"] * p["size"]
    return {
        "points": total_points,
        "total_s": sum(per_batch),
        "points_per_s": total_points / sum(per_batch),
        "median_batch_s": common.median(per_batch),
        "median_points_per_s": p["size"] / common.median(per_batch),
    }


def _populate_part(args: tuple[str, str, int, int, int]) -> None:
    db_uri, exp_id, n, seed, skip = args
    client = MlflowClient(db_uri)
    common.create_runs(n, n, seed, _one_run(client, exp_id), skip=skip)


def populate(p: dict[str, Any]) -> dict[str, Any]:
    """Fill an experiment straight into the server's SQLite file, several writer processes.

    Through the server MLflow manages ~13 runs/s whatever the number of clients; its
    client on the database file directly does ~35/s per process, so 10,000 runs take
    minutes instead of a quarter of an hour. Same run shape as the ``runs`` workload.
    """
    client = MlflowClient(p["db_uri"])
    exp_id = _experiment_id(client, p["experiment"])
    workers, n = p["workers"], p["n"]
    sizes = [n // workers + (i < n % workers) for i in range(workers)]
    starts = [sum(sizes[:i]) for i in range(workers)]
    parts = [(p["db_uri"], exp_id, k, p["seed"], s) for k, s in zip(sizes, starts, strict=True)]
    t0 = time.perf_counter()
    if workers == 1:
        _populate_part(parts[0])
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            pool.map(_populate_part, parts)
    total = time.perf_counter() - t0
    return {
        "runs": n,
        "workers": workers,
        "total_s": total,
        "runs_per_s": n / total,
        "via": "sqlite",
    }


def search(p: dict[str, Any]) -> dict[str, Any]:
    client = MlflowClient(p["url"])
    exp_id = _experiment_id(client, p["experiment"])
    flt = f"metrics.{common.SEARCH_FILTER_KEY} > {common.SEARCH_THRESHOLD}"
    order = [f"metrics.{common.SEARCH_FILTER_KEY} DESC"]

    def once() -> list[Any]:
        return client.search_runs([exp_id], flt, order_by=order, max_results=p["max_results"])

    for _ in range(p["warmup"]):
        once()
    samples, found = [], []
    for _ in range(p["repeats"]):
        dt, found = common.timed(once)
        samples.append(dt)
    values = [r.data.metrics[common.SEARCH_FILTER_KEY] for r in found]
    return {**common.summarize(samples), **common.check_search(values, p["max_results"])}


def alias(p: dict[str, Any]) -> dict[str, Any]:
    """Register a version from a run's artifact URI (no model file needed), then resolve."""
    client = MlflowClient(p["url"])
    run = client.create_run(_experiment_id(client, p["experiment"]))
    name = p["model"]
    client.create_registered_model(name)
    mv = client.create_model_version(
        name, source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id
    )
    client.set_registered_model_alias(name, "champion", mv.version)
    for _ in range(p["warmup"]):
        client.get_model_version_by_alias(name, "champion")
    samples = []
    for _ in range(p["repeats"]):
        dt, got = common.timed(lambda: client.get_model_version_by_alias(name, "champion"))
        assert str(got.version) == str(mv.version)
        samples.append(dt)
    return common.summarize(samples)


if __name__ == "__main__":
    random.seed(0)
    common.main(
        {"runs": runs, "points": points, "populate": populate, "search": search, "alias": alias}
    )
