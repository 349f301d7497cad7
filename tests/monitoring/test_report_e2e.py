"""The monitoring report from a real store: the last full week of predictions, its last three
days shifted, labels for the first four, a monitor run that raises an alert, then the page and
the chart, from the SDK on each transport and from ``modelward monitor-report``.

The week ends at today's midnight so that the alert, raised now, falls in the report's period
(the report lists alerts by when they were seen)."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import numpy as np
import pytest
from test_monitoring_cli import ENDPOINT, NUMERIC, SHIFTED, Fitted, fitted, predictions

import modelward as mw
from modelward.monitoring.report import collect, render_html, render_png

__all__ = ["fitted"]  # the module fixture, shared

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]
UNTIL = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
START = UNTIL - timedelta(days=7)
ROWS_PER_DAY = 240
SHIFTED_FROM = 4  # days 0-3 as in training, 4-6 shifted
LABELED_DAYS = 4
SECTIONS = ("summary", "drift", "distributions", "quality", "performance", "alerts")
STEADY = {*NUMERIC, "region"} - SHIFTED


def monitored_week(client: mw.Client, fit: Fitted) -> None:
    """Deploy, log the week, label its first days, add a drift rule and run the monitors."""
    train = client.register_dataset("credit-train", fit.train.assign(default=fit.target))
    with client.start_run("credit") as run:
        run.log_input(train, role="training")
        run.log_model(fit.model, "credit-scorer", signature=mw.infer_signature(fit.train))
    client.create_endpoint(ENDPOINT, "credit-scorer/1")
    client.add_alert_rule(
        ENDPOINT, "drift-share", {"metric": "drift.share", "threshold": 0.3, "window": "1d"}
    )
    for d in range(7):
        day = START + timedelta(days=d)
        batch = predictions(fit, day, ROWS_PER_DAY, f"d{d}", seed=10 + d, shifted=d >= SHIFTED_FROM)
        x = batch.drop(columns=["id", "ts", "prediction", "score"])
        client.log_predictions(
            ENDPOINT, x, batch["prediction"], ids=batch["id"], timestamps=batch["ts"],
            scores=batch["score"],
        )  # fmt: skip
        if d < LABELED_DAYS:
            noise = np.random.default_rng(d).normal(size=len(x))
            truth = ((x["income"] - x["debt"] + noise) > 0).astype(int)
            client.log_labels(ENDPOINT, batch["id"], truth)
    summary = client.monitor_run(ENDPOINT, until=UNTIL).endpoints[0]
    assert summary.windows == 7 and summary.alerts >= 1


def drifted_rows(html: str) -> dict[str, bool]:
    """Each feature row of the drift table: does any window say it drifted?"""
    drift = html[html.index('<section id="drift">') : html.index('<section id="distributions">')]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', drift)
    return {name: "drifted" in cells for name, cells in rows}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height


def test_collect_and_render_from_a_real_store(client: mw.Client, fitted: Fitted) -> None:
    monitored_week(client, fitted)
    now = datetime.now(UTC)
    data = collect(client, ENDPOINT, START, now, "1d")

    assert (data["endpoint"], data["version"], data["window"]) == (
        ENDPOINT,
        "credit-scorer/1",
        "1d",
    )
    assert data["rows"] == 7 * ROWS_PER_DAY
    assert data["label_coverage"] == pytest.approx(LABELED_DAYS / 7)
    starts = {r["window_start"] for r in data["drift"]}
    assert len(starts) == 8  # the week and today, still empty
    flagged = {r["feature"] for r in data["drift"] if r["flagged"]}
    assert SHIFTED <= flagged and not STEADY & flagged
    assert SHIFTED | STEADY <= set(data["distributions"])
    assert data["performance"] is not None and data["performance"]["metric"] == "roc_auc"
    realized = [p.get("realized") for p in data["performance"]["points"]]
    assert all(r is not None for r in realized[:LABELED_DAYS])
    assert not any(realized[LABELED_DAYS:])
    assert [(a["status"], a["severity"]) for a in data["alerts"]] == [("open", "warning")]

    html = render_html(data)
    for section in SECTIONS:
        assert f'id="{section}"' in html
    assert "No drift results" not in html and "No performance results" not in html
    rows = drifted_rows(html)
    assert all(rows[f] for f in SHIFTED) and not any(rows[f] for f in STEADY)
    assert "credit-scorer/1" in html and ENDPOINT in html
    alerts = html[html.index('<section id="alerts">') :]
    assert escape(data["alerts"][0]["title"]) in alerts and "No alerts" not in alerts
    assert png_size(render_png(data)) == (1200, 600)


def test_monitor_report_command_writes_the_page_and_the_chart(
    db_url: str, tmp_path: Path, fitted: Fitted
) -> None:
    artifacts = str(tmp_path / "artifacts")
    client = mw.Client(db_url, artifacts=artifacts)
    monitored_week(client, fitted)
    client.close()
    html, png = tmp_path / "out.html", tmp_path / "out.png"
    env = dict(
        os.environ, COLUMNS="200", NO_COLOR="1", MODELWARD_URI=db_url, MODELWARD_ARTIFACTS=artifacts
    )
    done = subprocess.run(
        [*CLI, "monitor-report", ENDPOINT, "--window", "7d",
         "--html", str(html), "--png", str(png)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"report written to {html}" in done.stdout and f"chart written to {png}" in done.stdout
    page = html.read_text(encoding="utf-8")
    assert all(f'id="{s}"' in page for s in SECTIONS)
    rows = drifted_rows(page)
    assert all(rows[f] for f in SHIFTED) and not any(rows[f] for f in STEADY)
    assert png_size(png.read_bytes()) == (1200, 600)
    assert (UNTIL - timedelta(days=1)).strftime("%Y-%m-%d") in page
