"""Run every benchmark against MLflow's server and ``modelward server`` in one go.

    .venv/bin/python benchmarks/run.py [--quick] [--keep] [--side S] [--only N ...]

Starts both servers on loopback (SQLite backends in a scratch folder), runs each workload
as a subprocess in the right virtual environment (MLflow's client in
``benchmarks/.venv-mlflow``, modelward's in ``.venv``), prints both figures and the ratio,
and writes ``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import report  # noqa: E402

MLFLOW_PY = str(HERE / ".venv-mlflow" / "bin" / "python")
MLFLOW_BIN = str(HERE / ".venv-mlflow" / "bin" / "mlflow")
MW_PY = str(ROOT / ".venv" / "bin" / "python")
MW_BIN = str(ROOT / ".venv" / "bin" / "modelward")

FULL = {
    "runs": 1000, "chunk": 100, "batches": 100, "batch_size": 1000, "search_large": 10_000,
    "search_repeats": 9, "search_warmup": 1, "alias_repeats": 50, "alias_warmup": 5,
    "restarts": 3, "audit_events": 1_000_000, "populate_workers": 2,
    "settle_max_s": 60,
}  # fmt: skip
QUICK = {
    "runs": 50, "chunk": 10, "batches": 5, "batch_size": 1000, "search_large": 200,
    "search_repeats": 3, "search_warmup": 1, "alias_repeats": 10, "alias_warmup": 2,
    "restarts": 1, "audit_events": 20_000, "populate_workers": 1,
    "settle_max_s": 8,
}  # fmt: skip

SIDES = {
    "mlflow": (MLFLOW_PY, HERE / "mlflow_side.py"),
    "modelward": (MW_PY, HERE / "modelward_side.py"),
}


def snapshot_source(work: Path) -> Path:
    """Copy modelward's source so the whole run measures one version of it.

    The tree may be edited while a long run goes on; a server started on one version and
    a client started later on another would measure neither.
    """
    dst = work / "src"
    shutil.copytree(ROOT / "src" / "modelward", dst / "modelward", ignore=_PYCACHE)
    # Compiled as pip compiles an installed package (MLflow's is): otherwise the first
    # cold start would also pay for compiling every module to bytecode.
    compileall.compile_dir(str(dst), quiet=1)
    return dst


_PYCACHE = shutil.ignore_patterns("__pycache__")


def clean_env(work: Path, source: Path) -> dict[str, str]:
    """The caller's environment minus anything that would point a client elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELWARD_", "MLFLOW_"))}
    env["MODELWARD_HOME"] = str(work / "home")
    # Ahead of the editable install on sys.path; MLflow's venv never imports modelward.
    env["PYTHONPATH"] = str(source)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Bench:
    def __init__(
        self, cfg: dict[str, Any], work: Path, sides: list[str], only: set[int] | None = None
    ) -> None:
        self.cfg, self.work, self.sides = cfg, work, sides
        self.only = only
        self.env = clean_env(work, snapshot_source(work))
        self._check_snapshot()
        self.results: dict[str, dict[str, Any]] = {}
        ml_port, mw_port = harness.free_port(), harness.free_port()
        self.url = {
            "mlflow": f"http://127.0.0.1:{ml_port}",
            "modelward": f"http://127.0.0.1:{mw_port}",
        }
        self.ml_db = f"sqlite:///{work / 'mlflow.db'}"
        self.servers = {
            "mlflow": harness.Server(
                "mlflow",
                [MLFLOW_BIN, "server", "--backend-store-uri", self.ml_db,
                 "--artifacts-destination", str(work / "mlflow-artifacts"),
                 "--host", "127.0.0.1", "--port", str(ml_port), "--workers", "1"],
                f"{self.url['mlflow']}/health", work / "mlflow-server.log", self.env,
            ),
            "modelward": harness.Server(
                "modelward",
                [MW_BIN, "server", "--host", "127.0.0.1", "--port", str(mw_port),
                 "--uri", f"sqlite:///{work / 'modelward.db'}",
                 "--artifacts", str(work / "modelward-artifacts"), "--no-auth"],
                f"{self.url['modelward']}/api/v1/health", work / "modelward-server.log", self.env,
            ),
        }  # fmt: skip

    def _check_snapshot(self) -> None:
        probe = [MW_PY, "-c", "import modelward; print(modelward.__file__)"]
        where = subprocess.run(probe, env=self.env, capture_output=True, text=True).stdout
        if not where.startswith(str(self.work)):
            raise RuntimeError(f"modelward imported from {where.strip()!r}, not the snapshot")

    def record(self, workload: str, side: str, value: Any) -> None:
        self.results.setdefault(workload, {})[side] = value

    def side(self, side: str, workload: str, params: dict[str, Any], key: str = "") -> Any:
        """Run one workload script in its side's venv; an error is recorded, not raised."""
        py, script = SIDES[side]
        out = self.work / f"{side}-{key or workload}.json"
        log = self.work / f"{side}-{key or workload}.log"
        argv = [py, str(script), workload, "--params", json.dumps(params), "--out", str(out)]
        print(f"  {side:<9} {key or workload} …", end="", flush=True)
        t0 = time.perf_counter()
        with log.open("w") as fh:
            rc = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT, env=self.env).returncode
        took = time.perf_counter() - t0
        if rc != 0:
            tail = log.read_text().strip().splitlines()[-1:] or ["no output"]
            print(f" FAILED ({took:.0f} s): {tail[0]}")
            result: Any = {"error": tail[0], "log": str(log)}
        else:
            result = json.loads(out.read_text())
            print(f" done ({took:.0f} s)")
        result["wall_s"] = round(took, 1)
        result["load_after"] = harness.load_average()
        self.record(key or workload, side, result)
        return result

    def both(self, workload: str, params: dict[str, Any], key: str = "") -> None:
        for side in self.sides:
            self.side(side, workload, {**params, "url": self.url[side]}, key)

    def wanted(self, workload: int) -> bool:
        return self.only is None or workload in self.only

    def run(self) -> dict[str, dict[str, Any]]:
        c = self.cfg
        try:
            print("servers: first start on an empty database")
            for name in self.sides:
                seconds = self.servers[name].start()
                settled = self.servers[name].settle(c["settle_max_s"])
                self.record("cold_start_fresh", name, {"seconds": seconds, "settle_s": settled})
            # Search of 1,000 runs reads the experiment workload 1 fills.
            if self.wanted(1) or self.wanted(3):
                print("1. create runs")
                self.both(
                    "runs",
                    {"experiment": "bench-runs", "n": c["runs"], "chunk": c["chunk"], "seed": 1},
                )
            if self.wanted(2):
                print("2. metric points into one run")
                self.both(
                    "points",
                    {
                        "experiment": "bench-points",
                        "batches": c["batches"],
                        "size": c["batch_size"],
                    },
                )
            if self.wanted(3):
                print("3. search runs")
                self.search()
            if self.wanted(4):
                print("4. resolve name@alias")
                alias = {"experiment": "bench-alias", "model": "bench-model"}
                self.both(
                    "alias", {**alias, "repeats": c["alias_repeats"], "warmup": c["alias_warmup"]}
                )
            if self.wanted(5):
                print("5. memory after the workloads, then restarts on the filled database")
                self.memory_and_restarts()
        finally:
            for server in self.servers.values():
                server.stop()
        if "modelward" in self.sides and self.wanted(6):
            print("6. audit verify")
            self.side(
                "modelward", "audit", {"events": c["audit_events"], "dir": str(self.work / "audit")}
            )
        return self.results

    def search(self) -> None:
        c = self.cfg
        large = c["search_large"]
        fill = {"experiment": "bench-search", "n": large, "seed": 1000}
        if "mlflow" in self.sides:
            ml = {**fill, "db_uri": self.ml_db, "workers": c["populate_workers"]}
            self.side("mlflow", "populate", ml, "populate")
        if "modelward" in self.sides:
            mw = {**fill, "url": self.url["modelward"], "chunk": max(1, large // 10)}
            self.side("modelward", "runs", mw, "populate")
        common = {"repeats": c["search_repeats"], "warmup": c["search_warmup"], "max_results": 1000}
        self.both("search", {**common, "experiment": "bench-runs"}, "search_small")
        self.both("search", {**common, "experiment": "bench-search"}, "search_large")

    def memory_and_restarts(self) -> None:
        for name in self.sides:
            server = self.servers[name]
            self.record("memory", name, server.memory())
            server.stop()
        for name in self.sides:
            times = []
            for _ in range(self.cfg["restarts"]):
                times.append(self.servers[name].start())
                self.servers[name].stop()
            median = sorted(times)[len(times) // 2]
            self.record("cold_start_restart", name, {"seconds": median, "samples_s": times})


def _exit_on_sigterm() -> None:
    # Unwind through the ``finally`` blocks so the servers (own sessions) are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def main() -> None:
    _exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--side", choices=sorted(SIDES), action="append", help="only this side")
    parser.add_argument(
        "--only",
        type=int,
        choices=range(1, 7),
        action="append",
        metavar="N",
        help="only workload N (1-6; repeatable); search (3) also runs workload 1",
    )
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    sides = args.side or list(SIDES)
    if "mlflow" in sides and not Path(MLFLOW_BIN).exists():
        sys.exit(
            f"no MLflow environment at {Path(MLFLOW_BIN).parent.parent}: python3 -m venv "
            "benchmarks/.venv-mlflow && benchmarks/.venv-mlflow/bin/pip install "
            "-r benchmarks/requirements-mlflow.txt (or pass --side modelward)"
        )
    work = Path(tempfile.mkdtemp(prefix="modelward-bench-"))
    print(f"scratch folder: {work}")
    info = harness.machine_info(MLFLOW_PY, MW_PY)
    load_before = harness.load_average()
    source = harness.source_state(ROOT)
    print(f"load average before: {load_before} (the machine is shared; figures move with it)")
    started = time.time()
    try:
        results = Bench(cfg, work, sides, set(args.only) if args.only else None).run()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    doc = {
        "mode": "quick" if args.quick else "full",
        "command": " ".join([".venv/bin/python", "benchmarks/run.py", *sys.argv[1:]]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_s": round(time.time() - started, 1),
        "load_before": load_before,
        "load_after": harness.load_average(),
        "machine": info,
        "source": source,
        "config": cfg,
        "only": sorted(args.only) if args.only else None,
        "results": results,
        "summary": report.summary(results, cfg),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    print()
    print(report.table(doc["summary"]))
    print(
        f"\nwall time {doc['wall_s']} s; load average {load_before} before, "
        f"{doc['load_after']} after; results in {out}"
    )


if __name__ == "__main__":
    main()
