"""Every REST operation, fuzzed from the server's own OpenAPI document: nothing is a 500.

A real server on loopback over a fresh SQLite store, seeded so that generated requests
reach real rows: an experiment, a run with metrics, a dataset and a model version with an
alias. Schemathesis then sends schema-valid and schema-invalid requests to every operation
and checks that none is answered with a 5xx, that every 4xx carries the one error shape,
and that every response matches the schema the server documents.

``MODELWARD_FUZZ_EXAMPLES`` raises the number of requests per operation for a deeper run.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from modelward import Client
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.store import Store

# Per operation and generation mode; about a minute for the whole API on a busy machine.
EXAMPLES = int(os.environ.get("MODELWARD_FUZZ_EXAMPLES", "10"))


@dataclass(frozen=True)
class Seeded:
    """What the seed created, for path parameters that name real rows."""

    run_id: str
    digest: str
    spare_token_id: int
    admin_token_id: int
    admin_token: str
    request_id: int
    evaluation_id: str
    incident_id: int
    alert_id: int


@dataclass(frozen=True)
class Target:
    schema: Any
    seeded: Seeded
    url: str


def _seed(store: Store, tmp_path: Path) -> Seeded:
    import pandas as pd

    client = Client.over(LocalTransport(store, Principal("fuzz-seed", Role.admin)))
    admin = client.create_token("fuzz-admin", role="admin")
    spare = client.create_token("fuzz-spare", role="viewer")
    frame = pd.DataFrame({"amount": [1200.0, 800.5, 4300.0], "purpose": ["car", "tv", "car"]})
    dataset = client.register_dataset("credit-train", frame)
    weights = tmp_path / "model"
    weights.mkdir()
    (weights / "weights.txt").write_text("w = 0.5\n")
    with client.start_run("credit-risk", params={"C": "0.5"}, capture_environment=False) as run:
        run.log_metrics({"auc": 0.91, "loss": 0.3}, step=0)
        run.log_input(dataset, role="training")
        version = run.log_model(str(weights), "credit-scorer")
    client.set_alias("credit-scorer", "champion", version.version)
    client.update_registered_model("credit-scorer", tags={"team": "risk"})
    client.set_version_tag("credit-scorer/1", "team", "risk")
    # Left running, so that logging to it can succeed.
    live = client.start_run("credit-risk", tags={"team": "risk"}, capture_environment=False)
    live.log_metrics({"auc": 0.88}, step=0)
    client.log_run_artifact_bytes(live.id, b"w = 0.4\n", "model/weights.txt")
    governance = _seed_governance(client)
    alert = _seed_monitoring(client)
    return Seeded(live.id, version.digest, spare.id, admin.id, admin.token, *governance, alert)


def _seed_governance(client: Client) -> tuple[int, str, int]:
    """An AI system (which installs the default policies), a promotion request, an
    evaluation of a small scikit-learn model and an incident."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame(
        {"x": [0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.7, 0.6], "y": [0, 0, 1, 1, 1, 0, 1, 0]}
    )
    client.register_dataset("tiny-holdout", frame)
    model = LogisticRegression().fit(frame[["x"]], frame["y"])
    client.create_model_version("tiny", model)
    system = client.create_system(
        "credit-risk-scoring", risk_tier="low", datasets=["credit-train/1"], models=["tiny"]
    )
    evaluation = client.evaluate("tiny/1", dataset="tiny-holdout", target="y", bootstrap=0)
    request = client.request_promotion("credit-scorer/1", "candidate")
    incident = client.report_incident(system.name, title="late labels", severity="low")
    return request.id, evaluation.id, incident.id


def _seed_monitoring(client: Client) -> int:
    """Endpoint ``credit-api`` over a model with a training dataset, two days of logged
    predictions (the second shifted), an alert rule and the alert a monitor run opened."""
    import time

    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from modelward import infer_signature

    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(size=200), "y": (rng.random(200) > 0.5).astype(int)})
    dataset = client.register_dataset("watch-train", train)
    with client.start_run("watch", capture_environment=False) as run:
        run.log_input(dataset, role="training")
        model = LogisticRegression().fit(train[["x"]], train["y"])
        run.log_model(model, "watch", signature=infer_signature(train[["x"]]))
    client.create_endpoint("credit-api", "watch/1")
    day = 86_400_000
    start = (int(time.time() * 1000) // day - 3) * day
    features = pd.DataFrame({"x": np.r_[rng.normal(size=100), rng.normal(3, 1, size=100)]})
    stamps = np.r_[np.full(100, start + 3_600_000), np.full(100, start + day + 3_600_000)]
    ids = [f"p{i}" for i in range(200)]
    client.log_predictions("credit-api", features, np.zeros(200, int), ids=ids, timestamps=stamps)
    client.add_alert_rule("credit-api", "drifting", {"metric": "drift.share", "threshold": 0.0})
    client.monitor_run("credit-api")
    return client.list_alerts("credit-api")[0].id


def _real_path(path: str, seeded: Seeded) -> dict[str, Any]:
    """Path parameters naming seeded rows, for the operation at ``path``."""
    if path.startswith(("/api/v1/dataset-versions/", "/api/v1/lineage/datasets/")):
        return {"ref": "credit-train/1"}
    names = {
        "/api/v1/datasets/": "credit-train",
        "/api/v1/experiments/": "credit-risk",
        "/api/v1/systems/": "credit-risk-scoring",
        "/api/v1/policies/": "default-low",
        "/api/v1/endpoints/": "credit-api",
    }
    return {
        "request_id": seeded.request_id,
        "evaluation_id": seeded.evaluation_id,
        "incident_id": seeded.incident_id,
        "alert_id": seeded.alert_id,
        "endpoint": "credit-api",
        "rule": "drifting",
        "model": "credit-scorer",
        "dataset": "credit-train",
        "version": 1,
        "name": next((n for p, n in names.items() if path.startswith(p)), "credit-scorer"),
        "ref": "credit-scorer@champion",
        "alias": "champion",
        "run_id": seeded.run_id,
        "digest": seeded.digest,
        "token_id": seeded.spare_token_id,
    }


def _real_fields(path: str, seeded: Seeded) -> dict[str, Any]:
    """Body and query fields naming seeded rows: entities, keys and digests that exist."""
    return {
        "experiment": "credit-risk",
        "experiments": ["credit-risk"],
        "dataset": "credit-train/1",
        "digest": seeded.digest,
        "version": 1,
        "key": "auc" if path.endswith("/metric-history") else "team",
        "path": "model/weights.txt",
        "filter": "metrics.auc > 0.5 and tags.team = 'risk'",
        "order_by": ["metrics.auc desc"],
    }


def _realistic(path: str, values: Any, seeded: Seeded) -> Any:
    """A strategy: ``values`` as generated, with some of the fields naming rows made real."""
    if not isinstance(values, dict):
        return st.just(values)
    real = {k: v for k, v in _real_fields(path, seeded).items() if k in values}
    if not real:
        return st.just(values)
    chosen = st.sets(st.sampled_from(sorted(real)))
    return chosen.map(lambda keys: {**values, **{k: real[k] for k in keys}})


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only: conftest's ``store`` and ``live_server`` then run on one fresh file."""
    return sqlite_url


@pytest.fixture
def target(store: Store, live_server: Any, tmp_path: Path) -> Target:
    seeded = _seed(store, tmp_path)
    document = httpx.get(f"{live_server.url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(
        base_url=live_server.url, headers={"Authorization": f"Bearer {seeded.admin_token}"}
    )

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> Any:
        return _realistic(context.operation.path, body, seeded)

    @schema.hook
    def flatmap_query(context: Any, query: Any) -> Any:
        return _realistic(context.operation.path, query, seeded)

    @schema.hook
    def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
        # The fuzzer may revoke any token but the one it authenticates with.
        if path_parameters and path_parameters.get("token_id") == seeded.admin_token_id:
            path_parameters["token_id"] = seeded.spare_token_id
        return path_parameters

    return Target(schema, seeded, live_server.url)


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is ``{"error": {"code", "message", "field"}}`` with a readable message."""
    if not 400 <= response.status_code < 500:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {body!r}"
    error = body["error"]
    assert {"code", "message", "field"} <= set(error), f"error lacks a key: {error!r}"
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert error["field"] is None or isinstance(error["field"], str), error
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_shape,
]


def _fuzz(operation: Any, mode: GenerationMode, seeded: Seeded, seen: Counter[int]) -> None:
    """Up to EXAMPLES generated requests to one operation; raises the first failure, shrunk."""
    strategy = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    if names:
        # Half the time at seeded rows, so bodies and queries reach the code behind the
        # lookup instead of stopping at "not found".
        real = {k: v for k, v in _real_path(operation.path, seeded).items() if k in names}
        strategy |= operation.as_strategy(generation_mode=mode, path_parameters=real)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call_and_validate(checks=CHECKS)
        seen[response.status_code // 100] += 1

    run()


def test_no_request_is_answered_with_a_server_error(target: Target) -> None:
    failures: list[str] = []
    answered: dict[str, Counter[int]] = {}
    for result in target.schema.get_all_operations():
        operation = result.ok()
        seen = answered.setdefault(operation.label, Counter())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, target.seeded, seen)
            except Unsatisfiable:
                # Nothing to make invalid: the only inputs are free-form string path params.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as exc:  # every operation is reported
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(answered) >= 50, "the OpenAPI document lost operations"
    # The run reached the code behind validation, not only the 4xx in front of it.
    reached = [label for label, seen in answered.items() if seen[2]]
    assert len(reached) >= 0.6 * len(answered), sorted(set(answered) - set(reached))
    # ... and did so as the admin to the end: the fuzzer never locked itself out.
    whoami = httpx.get(
        f"{target.url}/api/v1/whoami",
        headers={"Authorization": f"Bearer {target.seeded.admin_token}"},
    )
    assert whoami.json() == {"name": "fuzz-admin", "role": "admin"}
