"""What the UI tests look at: the demo's store plus work that is still open.

The demo leaves everything finished (promotions decided, alerts resolved, the canary
complete). The pages under test need open work too: a promotion waiting for approvals,
a canary in progress on a second endpoint, an open alert, and a token per role.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modelward import Client
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.config import StoreLocation
from modelward.store import Store

ROLES = ("viewer", "developer", "approver", "admin")


@dataclass
class Site:
    """The seeded store and the tokens of its people."""

    home: Path
    location: StoreLocation
    tokens: dict[str, str] = field(default_factory=dict)
    promotion_id: int = 0
    alert_id: int = 0  # stays open: pages count it
    drill_alert_id: int = 0  # acknowledged and resolved by a browser test
    canary_endpoint: str = "fraud-api"


def run_demo(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWARD_")}
    env.update(MODELWARD_HOME=str(home), COLUMNS="200", NO_COLOR="1")
    done = subprocess.run(
        [sys.executable, "-m", "modelward", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def seed(home: Path) -> Site:
    location = StoreLocation(f"sqlite:///{home / 'modelward.db'}", str(home / "artifacts"))
    store = Store(location)
    try:
        site = Site(home=home, location=location)
        admin = Client.over(LocalTransport(store, Principal("ops-admin", Role.admin)))
        dev = Client.over(LocalTransport(store, Principal("dev-dora", Role.developer)))
        for role in ROLES:
            site.tokens[role] = admin.create_token(f"ui-{role}", role=role).token
        site.tokens["approver2"] = admin.create_token("ui-approver-2", role="approver").token
        site.promotion_id = dev.request_promotion(
            "credit-scorer/3", "champion", comment="challenger from the October retrain"
        ).id
        _canary(dev, site.canary_endpoint)
        for rule in ("health-watch", "health-drill"):
            dev.add_alert_rule(
                "credit-api",
                rule,
                {"metric": "health", "op": "<=", "threshold": 99, "severity": "warning"},
            )
        # A re-run over the last days: the rule sees the stored windows again.
        since = datetime.now(UTC) - timedelta(days=3)
        dev.monitor_run("credit-api", since=since)
        # The demo's own drift rule may open again on the re-run (which window drifts
        # depends on the day's sample); the pages under test only need the two below.
        alerts = admin.list_alerts(endpoint="credit-api", status="open")
        by_rule = {a.rule: a.id for a in alerts if a.rule in ("health-watch", "health-drill")}
        assert len(by_rule) == 2, f"the seed's health rules opened {sorted(by_rule)}"
        site.alert_id, site.drill_alert_id = by_rule["health-watch"], by_rule["health-drill"]
        return site
    finally:
        store.close()


def _canary(dev: Client, endpoint: str) -> None:
    """A model outside the AI register (no gate) serving online with a canary in progress."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import modelward as mw

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"amount": rng.gamma(2.0, 60.0, 600), "hour": rng.integers(0, 24, 600).astype("int64")}
    )
    label = (frame["amount"] > 150).astype("int64")
    train = dev.register_dataset("fraud-train", frame.assign(fraud=label))
    versions = []
    for c in (1.0, 0.1):
        with dev.start_run("fraud", params={"C": c}) as run:
            run.log_input(train, role="training")
            model = LogisticRegression(C=c, max_iter=200).fit(frame, label)
            run.log_metrics({"auc": 0.9 if c == 1.0 else 0.88})
            sig = mw.infer_signature(frame, label)
            versions.append(run.log_model(model, "fraud-detector", signature=sig))
    dev.create_endpoint(endpoint, f"fraud-detector/{versions[0].version}", mode="online")
    dev.set_plan(
        endpoint,
        "canary",
        challenger=f"fraud-detector/{versions[1].version}",
        steps=[10, 50, 100],
        auto=False,
    )
