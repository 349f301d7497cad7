"""The serving benchmark's other servers: `mlflow models serve`, MLServer and a bare floor.

Each is described by a ``Target``: how to start it, where to send a prediction, the body it
expects for one row and how to read the predicted class back. The model files come from
serve_model.py, run in each server's own environment.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MW_PY = str(ROOT / ".venv" / "bin" / "python")
MLFLOW_VENV = HERE / ".venv-mlflow"
MLSERVER_VENV = HERE / ".venv-mlserver"
MODEL_SCRIPT = str(HERE / "serve_model.py")


@dataclass
class Target:
    """One server under load and the request it is sent."""

    name: str
    server: harness.Server
    url: str
    path: str
    body: Callable[[list[float]], str]
    # The predicted classes in an answer; None for a server that predicts nothing.
    read: Callable[[dict[str, Any]], list[int]] | None
    notes: list[str] = field(default_factory=list)


# --- model files ----------------------------------------------------------------------------


def _run(argv: list[str], log: Path) -> None:
    with log.open("a") as fh:
        done = subprocess.run(argv, stdout=fh, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = log.read_text().strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{' '.join(argv[:3])} failed: {tail[0]} (see {log})")


def fit_model(work: Path) -> Path:
    """Fit once in modelward's environment; coefficients, request rows, expected classes."""
    out = work / "model"
    _run([MW_PY, MODEL_SCRIPT, "fit", "--out", str(out)], work / "prepare.log")
    return out


def save_mlflow_model(model: Path, work: Path) -> Path:
    out = work / "mlflow-model"
    py = str(MLFLOW_VENV / "bin" / "python")
    coef = str(model / "coefficients.json")
    _run([py, MODEL_SCRIPT, "mlflow", "--coef", coef, "--out", str(out)], work / "prepare.log")
    return out


def save_mlserver_model(model: Path, work: Path, name: str) -> Path:
    """A model repository folder: settings.json is written at start (it holds the ports)."""
    root = work / "mlserver-repo"
    py = str(MLSERVER_VENV / "bin" / "python")
    coef = str(model / "coefficients.json")
    argv = [py, MODEL_SCRIPT, "mlserver", "--coef", coef, "--out", str(root / name)]
    _run([*argv, "--name", name], work / "prepare.log")
    return root


# --- request bodies and answers -------------------------------------------------------------


def dataframe_split_body(features: list[str]) -> Callable[[list[float]], str]:
    def body(row: list[float]) -> str:
        return json.dumps({"dataframe_split": {"columns": features, "data": [row]}})

    return body


def v2_tensor_body(row: list[float]) -> str:
    """Open Inference Protocol v2: one [1, n] FP64 tensor."""
    tensor = {"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}
    return json.dumps({"inputs": [tensor]})


def read_v2(answer: dict[str, Any]) -> list[int]:
    outputs = {o["name"]: o for o in answer["outputs"]}
    chosen = outputs.get("predict") or answer["outputs"][0]
    return [int(v) for v in chosen["data"]]


def read_mlflow(answer: dict[str, Any]) -> list[int]:
    return [int(v) for v in answer["predictions"]]


# --- the servers ----------------------------------------------------------------------------


def mlflow_target(model_dir: Path, features: list[str], work: Path, env: dict) -> Target:
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        str(MLFLOW_VENV / "bin" / "mlflow"), "models", "serve", "-m", str(model_dir),
        "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "--workers", "1",
    ]  # fmt: skip
    # mlflow starts ``uvicorn`` by name, as from an activated environment. uvicorn reads
    # UVICORN_* options from the environment: no access log line per request, as everywhere.
    path = f"{MLFLOW_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    server_env = {**env, "PATH": path, "UVICORN_ACCESS_LOG": "false"}
    server = harness.Server("mlflow", argv, f"{url}/ping", work / "mlflow.log", server_env)
    notes = ["uvicorn access log off (UVICORN_ACCESS_LOG=false)"]
    return Target(
        "mlflow", server, url, "/invocations", dataframe_split_body(features), read_mlflow, notes
    )


def mlserver_target(repo: Path, name: str, workers: int, work: Path, env: dict) -> Target:
    """MLServer on ``repo``; ``workers`` is its parallel_workers setting.

    0 runs inference inside the server's event loop; 1 hands every request to a worker
    process over a queue and back. For a model that predicts in a fraction of a millisecond
    the hop costs more than the prediction, so 0 is MLServer's cheaper setting per request.
    """
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}"
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": harness.free_port(),
        "metrics_port": harness.free_port(),
        "parallel_workers": workers,
        # debug is MLServer's switch for the per-request access log; off, as everywhere here.
        "debug": False,
        "metrics_dir": str(work / "mlserver-metrics"),
        "environments_dir": str(work / "mlserver-envs"),
    }
    (repo / "settings.json").write_text(json.dumps(settings, indent=1))
    argv = [str(MLSERVER_VENV / "bin" / "mlserver"), "start", str(repo)]
    health = f"{url}/v2/models/{name}/ready"
    server = harness.Server("mlserver", argv, health, work / "mlserver.log", env)
    why = "inference in the server process" if workers == 0 else "inference in worker processes"
    notes = [f"parallel_workers={workers} ({why}); debug=false (no access log)"]
    return Target(
        "mlserver", server, url, f"/v2/models/{name}/infer", v2_tensor_body, read_v2, notes
    )


def floor_app() -> Any:
    """A Starlette handler that reads the body and answers a constant JSON: the floor."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def predict(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"predictions": [0]})

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"ready": True})

    routes = [Route("/predict", predict, methods=["POST"]), Route("/ready", ready)]
    return Starlette(routes=routes)


def floor_target(work: Path, env: dict, body: Callable[[list[float]], str]) -> Target:
    """uvicorn in modelward's environment, the same loop and HTTP parser the gateway gets."""
    port = harness.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [
        MW_PY, "-m", "uvicorn", "--factory", "serve_anchors:floor_app", "--app-dir", str(HERE),
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = harness.Server("floor", argv, f"{url}/ready", work / "floor.log", env)
    notes = ["bare Starlette handler on uvicorn: reads the body, answers a constant"]
    return Target("floor", server, url, "/predict", body, None, notes)


# --- versions -------------------------------------------------------------------------------


def versions(python: str, packages: list[str]) -> dict[str, str]:
    """Installed versions in one environment, and its Python."""
    code = (
        "import json, sys, importlib.metadata as m\n"
        "def v(p):\n"
        "    try:\n"
        "        return m.version(p)\n"
        "    except m.PackageNotFoundError:\n"
        "        return 'absent'\n"
        f"d = {{p: v(p) for p in {packages!r}}}\n"
        "d['python'] = sys.version.split()[0]\n"
        "print(json.dumps(d))"
    )
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
        return dict(json.loads(done.stdout))
    except (OSError, subprocess.SubprocessError, ValueError):
        return {"error": f"could not run {python}"}
