"""``modelward demo`` end to end, in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import modelward as mw

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]
MODEL = "credit-scorer"


def cli_env(uri: str | None = None) -> dict[str, str]:
    """This test's home (set by conftest), optionally a database URI; no token, wide output."""
    env = {k: v for k, v in os.environ.items() if k not in ("MODELWARD_URI", "MODELWARD_TOKEN")}
    env.update(COLUMNS="200", NO_COLOR="1")
    if uri:
        env["MODELWARD_URI"] = uri
    return env


def modelward(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def run_demo(env: dict[str, str]) -> str:
    done = modelward("demo", "--no-serve", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "", done.stderr  # no tracebacks, no warnings for the user to wade through
    return done.stdout


def trained_versions(out: str) -> list[int]:
    """The version numbers the summary lists as registered by this run."""
    line = next(ln for ln in out.splitlines() if "│ versions" in ln)
    return [int(v) for v in re.findall(rf"{MODEL}/(\d+)", line)]


def assert_demo_state(client: mw.Client, out: str, versions: list[int], previous: int) -> None:
    """What the demo promises: the best new version reaches champion only through the gate,
    with evidence and two other people's approvals; then production traffic drifts, an alert
    retrains the model, and the retrained version passes the gate too; lineage, a loadable
    champion, a verified pack and a report."""
    assert re.search(r"audit chain\s*│\s*intact", out), out
    others = [v for v in versions if v != previous]
    aucs = {v: client.get_version_lineage(f"{MODEL}/{v}").run.metrics["auc"] for v in others}
    best = max(aucs, key=aucs.__getitem__)
    assert f"Evaluating {MODEL}/{best} against the champion" in out
    assert "REFUSED" in out and "approvals" in out
    assert re.search(r"self-approval\s*│\s*refused: four eyes", out), out

    # Two promotions this run, each completed by two approvers other than the requester:
    # the best new version, then the version retrained after the drift alert.
    completed = client.list_promotions(MODEL, status="completed")[:2]
    retrained, promoted = completed
    assert promoted.version == best and retrained.version > max(versions)
    for request in completed:
        approvers = {a.approver for a in request.approvals if a.decision == "approve"}
        assert len(approvers) == 2 and request.requested_by not in approvers
    champion = client.get_version(f"{MODEL}@champion")
    assert champion.version == retrained.version
    canary_plan = next(
        p for p in client.deployment_status("credit-api").history if p.kind == "canary"
    )
    assert client.get_endpoint("credit-api").version == champion.version, canary_plan.verdict
    gate = client.list_audit_events(action="gate.pass")
    assert gate and gate[-1].summary["ref"] == f"{MODEL}/{champion.version}"
    lineage = champion.lineage()
    assert lineage.run is not None and client.get_run(lineage.run.id).tags["demo"] == "retraining"
    assert {(d.dataset, d.role) for d in lineage.datasets} == {
        ("credit-train-retrained", "training"),
        ("credit-holdout-and-recent", "evaluation"),
    }

    # Monitoring: the shifted features drifted, the alert opened and was resolved.
    alerts = client.list_alerts("credit-api")
    assert alerts and all(a.status == "resolved" for a in alerts)
    drifted = re.search(r"drifted: ([^\n│]+)", out)
    assert drifted and "credit_amount" in drifted.group(1), out
    home = Path(os.environ["MODELWARD_HOME"])
    assert (home / "credit-api-report.html").read_text().count("<svg") >= 2
    assert (home / "credit-api-drift.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Serving: credit-api went online and the canary rolled the retrained champion out
    # through the gateway, step by step; every answer was logged.
    deployment = client.deployment_status("credit-api")
    assert deployment.mode == "online" and deployment.plan.kind == "single"
    canary = next(p for p in deployment.history if p.kind == "canary")
    assert canary.state == "completed" and canary.challenger == f"{MODEL}/{champion.version}"
    assert client.list_audit_events(action="endpoint.canary_complete")
    served = re.search(r"([\d,]+) live requests", out)
    assert served, out
    gateway_rows = client.read_segments("credit-api", since=canary.created_at, columns=[])
    assert len(gateway_rows) >= int(served.group(1).replace(",", ""))

    # The compliance pack verifies offline with the printed key.
    key = re.search(r"public key\s+([0-9a-f]{64})", out.replace("│", " ").replace("\n", " "))
    assert key, out
    assert mw.verify_pack(home / "credit-scorer-champion-pack.zip", key.group(1)).ok

    holdout = client.load_dataset("credit-holdout")
    scorer = client.load_model(f"{MODEL}@champion")
    p_bad = scorer.predict_proba(holdout.drop(columns=["creditability"]))
    assert p_bad.shape == (250, 2)


def check_demo_twice(env: dict[str, str], client: mw.Client) -> None:
    first = run_demo(env)
    assert trained_versions(first) == [1, 2, 3]
    assert_demo_state(client, first, [1, 2, 3], previous=1)
    promoted = client.get_version(f"{MODEL}@champion").version  # the retrained version, 4
    assert modelward("audit", "verify", env=env).returncode == 0

    # Same home again: datasets deduplicate by content, new versions, aliases move.
    second = run_demo(env)
    assert "same content as before" in second
    assert trained_versions(second) == [5, 6, 7]
    assert_demo_state(client, second, [5, 6, 7], previous=promoted)
    for name in ("credit-train", "credit-holdout"):
        assert [v.version for v in client.list_dataset_versions(name)] == [1]
    verified = modelward("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert client.verify_audit().intact


# Two whole demos (each about 130 s on a loaded 2-core machine, most of it the canary's
# timed steps): longer than the suite's 300 s default.
@pytest.mark.timeout(900)
def test_demo_on_the_embedded_home_runs_twice() -> None:
    env = cli_env()
    with mw.Client() as client:  # MODELWARD_HOME is this test's folder (conftest)
        check_demo_twice(env, client)
    assert (Path(os.environ["MODELWARD_HOME"]) / "modelward.db").exists()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_demo_on_postgresql(db_url: str) -> None:
    """Once on PostgreSQL (a second run on the same store is the embedded test's job)."""
    with mw.Client(db_url) as client:
        out = run_demo(cli_env(db_url))
        assert trained_versions(out) == [1, 2, 3]
        assert_demo_state(client, out, [1, 2, 3], previous=1)
        assert client.verify_audit().intact


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_serves_the_api_with_a_fresh_admin_token_until_interrupted() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "demo", "--port", str(port)],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:  # the token is printed just before the server starts
            lines.append(line)
            if "Ctrl-C stops the server" in line:
                break
        out = "".join(lines)
        token = re.search(r"admin token for this server: (mw_\S+)", out)
        assert token, out
        curl = f"curl -H 'Authorization: Bearer {token[1]}' {base}/model-versions/{MODEL}@champion"
        assert curl in out
        auth = {"Authorization": f"Bearer {token[1]}"}
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = httpx.get(f"{base}/model-versions/{MODEL}@champion", headers=auth)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, out
                time.sleep(0.1)
        assert resp.status_code == 200 and resp.json()["aliases"] == ["candidate", "champion"]
        assert httpx.get(f"{base}/whoami", headers=auth).json()["role"] == "admin"
        assert httpx.get(f"{base}/model-versions/{MODEL}@champion").status_code == 401
        assert f"web UI: http://127.0.0.1:{port}/" in out
        _signs_in_to_the_ui(f"http://127.0.0.1:{port}", token[1])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) in (0, 130)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _signs_in_to_the_ui(site: str, token: str) -> None:
    """The served demo's pages: the sign-in form takes the printed token, the overview
    lists the demo's AI system."""
    with httpx.Client(base_url=site) as browser:
        assert browser.get("/").status_code == 303  # to the sign-in page
        signed = browser.post("/login", data={"token": token, "next": "/"})
        assert signed.status_code == 303
        overview = browser.get("/")
        assert overview.status_code == 200 and "credit-risk-scoring" in overview.text


def test_each_served_demo_gets_a_new_admin_token_and_the_old_one_is_revoked() -> None:
    from modelward.cli.demo import _fresh_demo_token

    with mw.Client() as client:
        client.create_token("ci-bot", role="developer")
        first = _fresh_demo_token(client)
        second = _fresh_demo_token(client)
        assert first != second
        tokens = {t.prefix: t for t in client.list_tokens()}
        assert tokens[first[:10]].revoked_at is not None
        assert tokens[second[:10]].revoked_at is None and tokens[second[:10]].role == "admin"
        assert next(t for t in tokens.values() if t.name == "ci-bot").revoked_at is None


def test_a_taken_api_port_is_refused_before_the_scenario_runs() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = modelward("demo", "--port", str(port), env=cli_env())
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""  # nothing trained, nothing stored
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "--port" in lines[0], lines
