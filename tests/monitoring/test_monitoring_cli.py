"""The monitoring commands in a subprocess, as an operator runs them, on each store.

One endpoint serves two days of predictions from files; on the second day two numeric inputs
move by one and a half standard deviations. The commands must log them, flag exactly those
inputs on that day, raise one alert from a drift-share rule and walk it through its life.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import PIPE
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelward as mw
from modelward.errors import Conflict

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]
NUMERIC = ["income", "debt", "age", "tenure"]
SHIFTED = {"income", "debt"}
ENDPOINT = "credit-api"
DAY1 = datetime(2026, 1, 5, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
ROWS_PER_DAY = 480


def features(rows: int, seed: int, shifted: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {n: rng.normal(size=rows) for n in NUMERIC}
    data["region"] = rng.choice(["north", "south", "east"], size=rows, p=[0.5, 0.3, 0.2])
    out = pd.DataFrame(data)
    if shifted:
        for n in SHIFTED:
            out[n] += 1.5
    return out


@dataclass
class Fitted:
    train: pd.DataFrame
    target: pd.Series
    model: Any


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only: the CLI runs the same SDK calls on either database, and the SDK and HTTP
    tests cover PostgreSQL; each command here is a process that takes a while to start."""
    return sqlite_url


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = features(500, seed=1)
    noise = np.random.default_rng(2).normal(size=len(train))
    target = ((train["income"] - train["debt"] + noise) > 0).astype(int)
    encoder = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), ["region"]), remainder="passthrough"
    )
    model = make_pipeline(encoder, LogisticRegression(max_iter=500)).fit(train, target)
    return Fitted(train, target, model)


@dataclass
class Home:
    """Where the commands run (their environment) and the SDK on the same store."""

    env: dict[str, str]
    client: mw.Client
    tmp: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_all(args)[0]

    def run_all(self, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
        """Run independent commands at once, as several operators would (each command
        starts a Python process, so this keeps the module quick)."""
        full = dict(os.environ, COLUMNS="200", NO_COLOR="1", **self.env)
        started = [
            (args, subprocess.Popen([*CLI, *args], env=full, stdout=PIPE, stderr=PIPE, text=True))
            for args in commands
        ]
        done = []
        for args, proc in started:
            out, err = proc.communicate(timeout=120)
            done.append(subprocess.CompletedProcess(list(args), proc.returncode, out, err))
        return done

    def json(self, *args: str) -> Any:
        return parsed(self.run(*args, "--json"))


def parsed(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def home(db_url: str, tmp_path: Path, fitted: Fitted) -> Iterator[Home]:
    """The embedded home (MODELWARD_HOME, set for every test) or a fresh PostgreSQL database,
    holding credit-scorer/1 fitted on the registered training dataset."""
    if db_url.startswith("sqlite"):
        env: dict[str, str] = {}
        client = mw.Client()
    else:
        artifacts = str(tmp_path / "artifacts")
        env = {"MODELWARD_URI": db_url, "MODELWARD_ARTIFACTS": artifacts}
        client = mw.Client(db_url, artifacts=artifacts)
    train = client.register_dataset("credit-train", fitted.train.assign(default=fitted.target))
    with client.start_run("credit") as run:
        run.log_input(train, role="training")
        run.log_model(fitted.model, "credit-scorer", signature=mw.infer_signature(fitted.train))
    yield Home(env, client, tmp_path)
    client.close()


def predictions(
    fitted: Fitted, day: datetime, rows: int, prefix: str, seed: int | None = None, **how: Any
) -> pd.DataFrame:
    """A day of predictions with id, ts, prediction and score columns, spread over its hours."""
    x = features(rows, seed=day.day if seed is None else seed, **how)
    step = timedelta(days=1) / rows
    return x.assign(
        id=[f"{prefix}-{i:04d}" for i in range(rows)],
        ts=[day + i * step for i in range(rows)],
        prediction=fitted.model.predict(x),
        score=fitted.model.predict_proba(x)[:, 1],
    )


def drifted_inputs(rows: list[dict[str, Any]], day: datetime) -> set[str]:
    return {
        r["feature"]
        for r in rows
        if pd.Timestamp(r["window_start"]) == pd.Timestamp(day)
        and not r["feature"].startswith("__")
        and r["flagged"]
    }


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def log_command(path: Path, *extra: str) -> tuple[str, ...]:
    return (
        "predictions", "log", ENDPOINT, str(path), "--id-column", "id", "--ts-column", "ts",
        "--score-column", "score", *extra,
    )  # fmt: skip


def test_log_monitor_and_walk_an_alert_through_its_life(home: Home, fitted: Fitted) -> None:
    done = home.run("deploy", "create", ENDPOINT, "--model", "credit-scorer/1")
    assert done.returncode == 0, done.stderr
    assert f"endpoint {ENDPOINT} → credit-scorer/1 (batch)" in done.stdout

    first = predictions(fitted, DAY1, ROWS_PER_DAY, "d1")
    second = predictions(fitted, DAY2, ROWS_PER_DAY, "d2", shifted=True)
    pd.concat([first, second]).to_parquet(home.tmp / "predictions.parquet")
    logged, added = home.run_all(
        log_command(home.tmp / "predictions.parquet"),
        ("alert-rules", "add", ENDPOINT, "drift-share", "--metric", "drift.share",
         "--threshold", "0.3", "--window", "1d"),
    )  # fmt: skip
    assert logged.returncode == 0, logged.stderr
    rows = 2 * ROWS_PER_DAY
    assert f"{rows} rows, {rows} logged, 0 already logged, 48 segment(s)" in logged.stdout
    assert added.returncode == 0, added.stderr
    assert "alert rule drift-share on credit-api: drift.share" in added.stdout

    labels = pd.DataFrame({"id": [*first["id"][:300], "never-logged"], "label": [1] * 301})
    labels.to_csv(home.tmp / "labels.csv", index=False)
    done = home.run("labels", "log", ENDPOINT, str(home.tmp / "labels.csv"))
    assert done.returncode == 0, done.stderr
    assert "300 of 301 labels stored (0 relabels), 1 unknown id(s)" in done.stdout
    assert "unknown ids: never-logged" in done.stdout

    ran = home.json("monitor", "run", "--endpoint", ENDPOINT, "--until", "2026-01-07")
    summary = ran["endpoints"][0]
    assert (summary["endpoint"], summary["window"], summary["windows"]) == (ENDPOINT, "1d", 2)
    assert {f for f in summary["drifted_features"] if not f.startswith("__")} == SHIFTED
    assert summary["alerts"] == 1 and summary["skipped"] is None

    drift, alerts, health, missing = home.run_all(
        ("monitor", "drift", ENDPOINT, "--since", "2026-01-05", "--until", "2026-01-07", "--json"),
        ("alerts", "list", "--endpoint", ENDPOINT, "--json"),
        ("monitor-health", ENDPOINT, "--json"),
        ("alerts", "ack", "9999"),
    )
    check_drift(parsed(drift))
    check_health(parsed(health))
    assert missing.returncode == 1 and "9999" in one_line_error(missing)

    opened = parsed(alerts)
    assert [(a["rule"], a["status"]) for a in opened] == [("drift-share", "open")]
    alert_id = opened[0]["id"]
    acked = home.run("alerts", "ack", str(alert_id))
    assert acked.returncode == 0, acked.stderr
    assert f"alert {alert_id} acknowledged" in acked.stdout
    assert home.client.get_alert(alert_id).status == "acknowledged"
    assert home.json("alerts", "resolve", str(alert_id))["status"] == "resolved"
    assert home.client.list_alerts(ENDPOINT, status="open") == []
    with pytest.raises(Conflict, match="is resolved; it cannot become acknowledged"):
        home.client.acknowledge_alert(alert_id)


def check_drift(rows: list[dict[str, Any]]) -> None:
    assert drifted_inputs(rows, DAY1) == set()
    assert drifted_inputs(rows, DAY2) == SHIFTED
    share = {
        pd.Timestamp(r["window_start"]): r["statistic"]
        for r in rows
        if r["feature"] == "__dataset__"
    }
    assert share == {pd.Timestamp(DAY1): 0.0, pd.Timestamp(DAY2): pytest.approx(2 / 5)}


def check_health(health: dict[str, Any]) -> None:
    assert (health["endpoint"], health["model"], health["version"]) == (
        ENDPOINT,
        "credit-scorer",
        1,
    )
    assert health["score"] is not None and 0 <= health["score"] <= 100
    scored = {p["name"]: p["score"] for p in health["parts"] if p["score"] is not None}
    assert scored and all(0 <= s <= 100 for s in scored.values())


def test_bad_input_is_one_line_and_lenient_logging_counts(home: Home, fitted: Fitted) -> None:
    home.client.create_endpoint(ENDPOINT, "credit-scorer/1")
    partial = predictions(fitted, DAY1, 48, "p").drop(columns=["tenure"])
    partial.to_csv(home.tmp / "partial.csv", index=False)
    unknown, refused, accepted = home.run_all(
        ("monitor", "drift", "fraud-api"),
        log_command(home.tmp / "partial.csv"),
        log_command(home.tmp / "partial.csv", "--lenient", "--json"),
    )
    assert unknown.returncode == 1
    assert "fraud-api" in one_line_error(unknown)
    assert refused.returncode == 2
    assert "tenure" in one_line_error(refused)

    receipt = parsed(accepted)
    assert (receipt["rows"], receipt["new"], receipt["skipped"]) == (48, 48, 0)
    assert receipt["missing_columns"] == ["tenure"] and receipt["extra_columns"] == []
    # only the lenient command stored anything
    assert sum(s.rows for s in home.client.list_segments(ENDPOINT)) == 48
    quality = home.client.quality(ENDPOINT, since="2026-01-05", until="2026-01-06")
    tenure = quality[quality["feature"] == "tenure"].iloc[0]
    assert tenure["flagged"] and tenure["details"]["checks"]["null_rate"]["value"] == 1.0
