"""Evaluate a classifier on a 100,000-row holdout: MLflow's ``mlflow.models.evaluate`` against
``modelward``'s ``Client.evaluate``, side by side.

    .venv/bin/python benchmarks/evaluate_bench.py [--rows 100000] [--repeats 3] [--quick]

The driver (this file, in ``.venv``) generates the holdout (30 numeric features, fixed seed),
fits a LogisticRegression on 20,000 other rows, and writes both to a scratch folder. Each
side then runs in its own virtual environment, one child process per repetition:

* setup (untimed, once per side): MLflow logs the model to a local SQLite store; modelward
  registers the model version (alias ``candidate``) and the holdout dataset in an embedded
  store.
* measure: the child loads the holdout frame and the model, notes its peak RSS, runs the
  evaluation, then reports wall time and the peak RSS added on top of that baseline.

MLflow's default evaluator runs with ``log_model_explainability: False`` so neither side
computes explanations; both compute metrics on one scoring pass and store the result.
Figures are medians over the repetitions; the ratio is MLflow / modelward (above 1 means
modelward is faster or smaller). A modelward-only row adds a champion comparison with
1,000 paired-bootstrap resamples, which MLflow's evaluate has no counterpart for.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MLFLOW_PY = HERE / ".venv-mlflow" / "bin" / "python"
MW_PY = ROOT / ".venv" / "bin" / "python"
N_FEATURES = 30
TRAIN_ROWS = 20_000
SEED = 20240611


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


def make_workload(work: Path, rows: int) -> None:
    """The holdout (``holdout.npz``) and the fitted models (pickles), identical for both."""
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(
        n_samples=rows + TRAIN_ROWS, n_features=N_FEATURES, n_informative=12,
        n_redundant=6, flip_y=0.05, random_state=SEED,
    )  # fmt: skip
    np.savez(work / "holdout.npz", x=x[TRAIN_ROWS:], y=y[TRAIN_ROWS:])
    xt, yt = x[:TRAIN_ROWS], y[:TRAIN_ROWS]
    names = [f"f{i}" for i in range(N_FEATURES)]
    import pandas as pd

    frame = pd.DataFrame(xt, columns=names)
    candidate = LogisticRegression(max_iter=1000).fit(frame, yt)
    champion = LogisticRegression(max_iter=1000).fit(frame[names[:10]], yt)
    for name, model in (("candidate", candidate), ("champion", champion)):
        (work / f"{name}.pkl").write_bytes(pickle.dumps(model))


def child(side: str, step: str, work: Path, extra: dict[str, Any] | None = None) -> dict:
    py = MLFLOW_PY if side == "mlflow" else MW_PY
    out = work / f"{side}-{step}-{time.monotonic_ns()}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELWARD_", "MLFLOW_"))}
    env |= {"MODELWARD_HOME": str(work / "mw-home"), "PYTHONUNBUFFERED": "1"}
    argv = [str(py), __file__, "--child", side, step, str(work), json.dumps(extra or {}), str(out)]
    # cwd: MLflow's default artifact root is relative to it; keep it in the scratch folder.
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=work)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{side} {step} failed: {' | '.join(tail)}")
    return json.loads(out.read_text())


def measure(side: str, step: str, work: Path, repeats: int, extra: dict | None = None) -> dict:
    samples = [child(side, step, work, extra) for _ in range(repeats)]
    return {
        "wall_s": statistics.median(s["wall_s"] for s in samples),
        "added_rss_mb": statistics.median(s["added_rss_mb"] for s in samples),
        "samples_s": [round(s["wall_s"], 3) for s in samples],
        "note": samples[0].get("note", ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10,000 rows, one repetition")
    parser.add_argument("--side", choices=["mlflow", "modelward"], action="append")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    rows, repeats = (10_000, 1) if args.quick else (args.rows, args.repeats)
    sides = args.side or ["mlflow", "modelward"]
    if "mlflow" in sides and not MLFLOW_PY.exists():
        sys.exit(
            "no MLflow environment: python3 -m venv benchmarks/.venv-mlflow && "
            "benchmarks/.venv-mlflow/bin/pip install -r benchmarks/requirements-mlflow.txt"
        )
    work = Path(tempfile.mkdtemp(prefix="mw-eval-bench-"))
    try:
        print(f"workload: {rows:,} holdout rows x {N_FEATURES} features, LogisticRegression")
        make_workload(work, rows)
        results: dict[str, dict] = {}
        for side in sides:
            child(side, "setup", work)
            results[side] = measure(side, "evaluate", work, repeats)
            print(f"  {side:<9} {_line(results[side])}")
        if "modelward" in sides:
            results["modelward_vs_champion"] = measure("modelward", "against", work, repeats)
            line = _line(results["modelward_vs_champion"])
            print(f"  modelward with champion + 1,000 bootstrap: {line}")
        _ratios(results)
        print(json.dumps(results, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _line(r: dict) -> str:
    note = f" {r['note']}" if r["note"] else ""
    return f"{r['wall_s']:.2f} s (median of {r['samples_s']}), +{r['added_rss_mb']:.0f} MB{note}"


def _ratios(results: dict[str, dict]) -> None:
    if "mlflow" in results and "modelward" in results:
        ml, mw = results["mlflow"], results["modelward"]
        wall = ml["wall_s"] / mw["wall_s"]
        rss = ml["added_rss_mb"] / max(mw["added_rss_mb"], 1.0)
        print(f"ratio MLflow / modelward: wall {wall:.2f}x, added peak RSS {rss:.2f}x")


# ---------------------------------------------------------------------------------------
# Children (each runs in its side's virtual environment)
# ---------------------------------------------------------------------------------------


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _holdout(work: Path):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    data = np.load(work / "holdout.npz")
    frame = pd.DataFrame(data["x"], columns=[f"f{i}" for i in range(N_FEATURES)])
    frame["y"] = data["y"]
    return frame


def _model(work: Path, name: str = "candidate") -> Any:
    return pickle.loads((work / f"{name}.pkl").read_bytes())  # noqa: S301 - our own file


def _mlflow_db(work: Path) -> str:
    # MLflow 3 refuses new file stores; a SQLite file matches modelward's embedded store.
    return f"sqlite:///{work / 'mlflow.db'}"


def mlflow_setup(work: Path) -> dict:
    import mlflow

    mlflow.set_tracking_uri(_mlflow_db(work))
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(_model(work), name="model")
    (work / "mlflow-model-uri").write_text(f"runs:/{run.info.run_id}/model")
    return {}


def mlflow_evaluate(work: Path) -> tuple[float, str, float]:
    import mlflow

    mlflow.set_tracking_uri(_mlflow_db(work))
    uri = (work / "mlflow-model-uri").read_text()
    frame, _ = _holdout(work), _model(work)
    base = _peak_mb()
    t0 = time.perf_counter()
    with mlflow.start_run():
        result = mlflow.models.evaluate(
            uri, frame, targets="y", model_type="classifier",
            evaluator_config={"log_model_explainability": False},
        )  # fmt: skip
    wall = time.perf_counter() - t0
    assert "roc_auc" in result.metrics, sorted(result.metrics)
    return wall, f"roc_auc={result.metrics['roc_auc']:.4f}", base


def modelward_setup(work: Path) -> dict:
    import modelward

    with modelward.Client() as client:
        client.register_dataset("bench-holdout", _holdout(work), "evaluation benchmark holdout")
        for alias in ("candidate", "champion"):
            version = client.create_model_version("bench-model", _model(work, alias))
            client.set_alias("bench-model", alias, version)
    return {}


def modelward_evaluate(work: Path, against: str | None) -> tuple[float, str, float]:
    import modelward

    client = modelward.Client()
    frame, _ = _holdout(work), _model(work)
    del frame  # loaded for a baseline comparable with MLflow's; the store reads its own copy
    base = _peak_mb()
    t0 = time.perf_counter()
    result = client.evaluate(
        "bench-model@candidate", dataset="bench-holdout", target="y", name="holdout",
        against=against, bootstrap=1000,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    auc = result.results["metrics"]["roc_auc"]
    return wall, f"roc_auc={auc:.4f}", base


def run_child(side: str, step: str, work: Path, out: Path) -> None:
    if step == "setup":
        (mlflow_setup if side == "mlflow" else modelward_setup)(work)
        out.write_text("{}")
        return
    if side == "mlflow":
        wall, note, base = mlflow_evaluate(work)
    else:
        wall, note, base = modelward_evaluate(work, "champion" if step == "against" else None)
    added = max(0.0, _peak_mb() - base)
    out.write_text(json.dumps({"wall_s": wall, "added_rss_mb": added, "note": note}))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, side, step, work, _extra, out = sys.argv
        run_child(side, step, Path(work), Path(out))
    else:
        main()
