"""Web UI: server time and weight of the overview, model and runs pages, against MLflow's UI.

    .venv/bin/python benchmarks/ui_bench.py           # 10,000 runs, 500 versions, 1M predictions
    .venv/bin/python benchmarks/ui_bench.py --quick   # small sizes, a smoke test
    .venv/bin/python benchmarks/ui_bench.py --side modelward

modelward: one SQLite store is filled in process with the SDK — an experiment of --runs
runs (10 params, 10 metrics each, the shape of benchmarks/common.py), a model of
--versions versions in an AI system with its champion deployed as an endpoint, and
--predictions logged predictions over 30 days with a monitor run over them. Then
``modelward server`` (token authentication, as deployed) serves the pages and each is
fetched --repeats times over loopback by a signed-in client; the time is from request to
the last byte, so it includes the client's and the loopback's share.

MLflow: the same runs are written straight into its SQLite file (see run.py's notes on
fill rates), ``mlflow server`` serves its UI, and listing the experiment's runs is timed
the way the UI does it: the ``runs/search`` request its experiment page sends (100 runs,
newest first), and the page's weight is its HTML plus every script and stylesheet the
HTML loads (the runs table cannot draw before those have arrived).

Page weight counts the HTML and the static files it references, uncompressed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
import harness  # noqa: E402

MLFLOW_PY = str(HERE / ".venv-mlflow" / "bin" / "python")
MLFLOW_BIN = str(HERE / ".venv-mlflow" / "bin" / "mlflow")
MW_BIN = str(Path(sys.executable).parent / "modelward")
EXPERIMENT = "bench-ui"
MODEL = "bench-model"
ENDPOINT = "bench-api"
N_FEATURES = 8
DAY_MS = 86_400_000

FULL = {"runs": 10_000, "versions": 500, "predictions": 1_000_000, "repeats": 20}
QUICK = {"runs": 300, "versions": 20, "predictions": 20_000, "repeats": 5}


# ---------------------------------------------------------------- modelward: the fill


def fill_modelward(client: Any, cfg: dict[str, int]) -> dict[str, float]:
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    _runs(client, cfg["runs"])
    took["runs_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _versions_and_system(client, cfg["versions"])
    took["versions_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _predictions(client, cfg["predictions"])
    took["predictions_s"] = time.perf_counter() - t0
    return took


def _runs(client: Any, n: int) -> None:
    def one(params: dict[str, str], metrics: dict[str, float]) -> None:
        run = client.start_run(EXPERIMENT, params=params)
        ts = int(time.time() * 1000)
        run.log_batch(metrics=[(k, v, 0, ts) for k, v in metrics.items()])
        run.end()

    common.create_runs(n, max(n // 10, 1), 0, one)


def _frame(rows: int, seed: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(size=(rows, N_FEATURES)), columns=[f"x{i}" for i in range(N_FEATURES)]
    )


def _versions_and_system(client: Any, versions: int) -> None:
    from sklearn.linear_model import LogisticRegression

    import modelward as mw

    x = _frame(2000, 0)
    y = (x["x0"] > 0).astype("int64")
    train = client.register_dataset("bench-ui-train", x.assign(y=y))
    model = LogisticRegression().fit(x, y)
    signature = mw.infer_signature(x, y)
    with client.start_run("bench-ui-models", params={"C": "1.0"}) as run:
        run.log_input(train, role="training")
        for _ in range(versions):
            last = run.log_model(model, MODEL, signature=signature)
    client.set_alias(MODEL, "champion", last.version)
    client.create_system(
        "bench-system",
        risk_tier="medium",
        models=[MODEL],
        tier_rationale="benchmark",
        purpose="a benchmark system",
    )
    client.create_endpoint(ENDPOINT, f"{MODEL}@champion")


def _predictions(client: Any, total: int) -> None:
    import numpy as np

    batches = 10
    rows = total // batches
    start = (int(time.time() * 1000) // DAY_MS - 30) * DAY_MS
    for b in range(batches):
        x = _frame(rows, b + 1)
        if b >= batches // 2:  # the second half drifts on two features
            x["x1"] += 0.8
            x["x2"] *= 1.7
        rng = np.random.default_rng(100 + b)
        ts = start + b * 3 * DAY_MS + np.sort(rng.integers(0, 3 * DAY_MS, rows))
        predictions = (x["x0"].to_numpy() > 0).astype("int64")
        ids = [f"{b}-{i}" for i in range(rows)]
        client.log_predictions(ENDPOINT, x, predictions, ids=ids, timestamps=ts)
    client.monitor_run(ENDPOINT)


# ---------------------------------------------------------------- measuring pages


def page_weight(http: httpx.Client, html: str) -> dict[str, int]:
    """The HTML plus every script and stylesheet it references, uncompressed bytes."""
    refs = re.findall(r'<script[^>]+src="([^"]+)"', html)
    refs += re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    refs += re.findall(r'<link[^>]+href="([^"]+)"[^>]+rel="stylesheet"', html)
    assets = 0
    for ref in sorted(set(refs)):
        if ref.startswith(("http://", "https://")) and not ref.startswith(str(http.base_url)):
            continue
        resp = http.get(ref)
        resp.raise_for_status()
        assets += len(resp.content)
    return {"html_bytes": len(html.encode()), "asset_bytes": assets, "files": len(set(refs))}


def time_get(http: httpx.Client, path: str, repeats: int) -> dict[str, Any]:
    for _ in range(2):
        first = http.get(path)
        first.raise_for_status()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        resp = http.get(path)
        samples.append(time.perf_counter() - t0)
        resp.raise_for_status()
    out = common.summarize(samples)
    out.update(page_weight(http, first.text), path=path)
    return out


def modelward_pages(work: Path, cfg: dict[str, int]) -> dict[str, Any]:
    from modelward import Client

    uri = f"sqlite:///{work / 'modelward.db'}"
    artifacts = str(work / "modelward-artifacts")
    client = Client(uri, artifacts=artifacts)
    print(f"  modelward: filling {cfg['runs']:,} runs, {cfg['versions']} versions, "
          f"{cfg['predictions']:,} predictions …", flush=True)  # fmt: skip
    fill = fill_modelward(client, cfg)
    token = client.create_token("bench-viewer", role="viewer").token
    client.close()
    port = harness.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWARD_")}
    server = harness.Server(
        "modelward",
        [MW_BIN, "server", "--host", "127.0.0.1", "--port", str(port), "--uri", uri,
         "--artifacts", artifacts],
        f"http://127.0.0.1:{port}/api/v1/health", work / "modelward-server.log", env,
    )  # fmt: skip
    server.start()
    try:
        pages = {}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", cookies={"mw_session": token}, timeout=120
        ) as http:
            for name, path in _with_a_run(http).items():
                try:
                    pages[name] = time_get(http, path, cfg["repeats"])
                except httpx.HTTPStatusError as exc:  # recorded, so one page cannot sink the run
                    pages[name] = {"error": str(exc), "path": path}
                    print(f"  modelward {name:<14} FAILED: {exc}", flush=True)
                    continue
                print(f"  modelward {name:<14} p50 {pages[name]['p50_ms']:8.1f} ms", flush=True)
        rss = server.memory()
    finally:
        server.stop()
    return {"fill": fill, "pages": pages, "memory": rss}


PAGES = {
    "overview": "/",
    "model": f"/models/{MODEL}",
    "version": f"/models/{MODEL}/versions/1",
    # 100 runs a page, as many as MLflow's experiment page asks for.
    "runs": f"/experiments/{EXPERIMENT}?n=100",
    "runs_sorted": f"/experiments/{EXPERIMENT}?n=100&order_by=metrics.m0+desc",
    "runs_filtered": f"/experiments/{EXPERIMENT}?n=100&filter=metrics.m0+%3E+0.5",
    "monitoring": f"/monitoring/{ENDPOINT}",
}


def _with_a_run(http: httpx.Client) -> dict[str, str]:
    """The pages, plus one run's page and two runs side by side (ids read off the table)."""
    listing = http.get(PAGES["runs"])
    listing.raise_for_status()
    ids = re.findall(r'href="/runs/([0-9a-f]{32})"', listing.text)[:2]
    found = dict(PAGES)
    if len(ids) == 2:
        found["run"] = f"/runs/{ids[0]}"
        found["compare"] = f"/runs/compare?ids={ids[0]}&ids={ids[1]}"
    return found


# ---------------------------------------------------------------- MLflow


def mlflow_pages(work: Path, cfg: dict[str, int]) -> dict[str, Any]:
    db = f"sqlite:///{work / 'mlflow.db'}"
    port = harness.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MODELWARD_"))}
    server = harness.Server(
        "mlflow",
        [MLFLOW_BIN, "server", "--backend-store-uri", db, "--artifacts-destination",
         str(work / "mlflow-artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        f"http://127.0.0.1:{port}/health", work / "mlflow-server.log", env,
    )  # fmt: skip
    # The server creates the schema; the fill then writes straight into its file.
    server.start()
    server.settle()
    print(f"  mlflow: filling {cfg['runs']:,} runs straight into its SQLite file …", flush=True)
    out = work / "mlflow-populate.json"
    params = {"db_uri": db, "experiment": EXPERIMENT, "n": cfg["runs"], "seed": 0, "workers": 2}
    argv = [MLFLOW_PY, str(HERE / "mlflow_side.py"), "populate", "--params", json.dumps(params),
            "--out", str(out)]  # fmt: skip
    subprocess.run(argv, check=True, env=env)
    fill = json.loads(out.read_text())
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            found = http.get(
                "/ajax-api/2.0/mlflow/experiments/get-by-name",
                params={"experiment_name": EXPERIMENT},
            )
            found.raise_for_status()
            exp_id = found.json()["experiment"]["experiment_id"]
            body = {
                "experiment_ids": [exp_id],
                "filter": "",
                "run_view_type": "ACTIVE_ONLY",
                "max_results": 100,
                "order_by": ["attributes.start_time DESC"],
            }
            pages = {
                "runs": _time_post(http, "/ajax-api/2.0/mlflow/runs/search", body, cfg),
                "runs_sorted": _time_post(
                    http,
                    "/ajax-api/2.0/mlflow/runs/search",
                    {**body, "order_by": ["metrics.`m0` DESC"]},
                    cfg,
                ),
                "runs_filtered": _time_post(
                    http,
                    "/ajax-api/2.0/mlflow/runs/search",
                    {**body, "filter": "metrics.m0 > 0.5"},
                    cfg,
                ),
            }
            index = http.get("/")
            index.raise_for_status()
            weight = page_weight(http, index.text)
            for name, page in pages.items():
                page.update(weight)
                print(f"  mlflow    {name:<14} p50 {page['p50_ms']:8.1f} ms", flush=True)
        rss = server.memory()
    finally:
        server.stop()
    return {"fill": fill, "pages": pages, "memory": rss}


def _time_post(http: httpx.Client, path: str, body: dict, cfg: dict[str, int]) -> dict:
    for _ in range(2):
        resp = http.post(path, json=body)
        resp.raise_for_status()
    assert len(resp.json().get("runs", [])) == min(100, cfg["runs"]), resp.text[:200]
    samples = []
    for _ in range(cfg["repeats"]):
        t0 = time.perf_counter()
        resp = http.post(path, json=body)
        samples.append(time.perf_counter() - t0)
        resp.raise_for_status()
    return {**common.summarize(samples), "json_bytes": len(resp.content), "path": path}


# ---------------------------------------------------------------- report


def report(results: dict[str, Any]) -> None:
    mw = results.get("modelward", {}).get("pages", {})
    ml = results.get("mlflow", {}).get("pages", {})
    print()
    print(f"{'page':<15} {'modelward p50':>14} {'weight KB':>10} {'MLflow p50':>11} "
          f"{'MLflow KB':>10} {'ratio':>7}")  # fmt: skip
    for name in mw:
        ours = mw.get(name)
        theirs = ml.get(name)
        if ours is None or "error" in ours:
            continue
        kb = (ours["html_bytes"] + ours["asset_bytes"]) / 1024
        line = f"{name:<15} {ours['p50_ms']:>11.1f} ms {kb:>10.0f}"
        if theirs:
            tkb = (theirs["json_bytes"] + theirs["html_bytes"] + theirs["asset_bytes"]) / 1024
            ratio = theirs["p50_ms"] / ours["p50_ms"]
            line += f" {theirs['p50_ms']:>8.1f} ms {tkb:>10.0f} {ratio:>6.1f}x"
        print(line)
    print(f"load average now {harness.load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--side", choices=["both", "modelward", "mlflow"], default="both")
    parser.add_argument("--out", default=str(HERE / "results" / "ui.json"))
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    results: dict[str, Any] = {"config": cfg, "load_before": harness.load_average()}
    results["source"] = harness.source_state(HERE.parent)
    with tempfile.TemporaryDirectory(prefix="mw-ui-bench-") as tmp:
        work = Path(tmp)
        if args.side in ("both", "modelward"):
            results["modelward"] = modelward_pages(work, cfg)
        if args.side in ("both", "mlflow"):
            results["mlflow"] = mlflow_pages(work, cfg)
    results["load_after"] = harness.load_average()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    report(results)
    print(f"raw results: {args.out}  (medians: {statistics.__name__} of {cfg['repeats']} calls)")


if __name__ == "__main__":
    main()
