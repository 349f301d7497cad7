"""The lean operations' index answers exactly the requests the router would give them."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Match, Route

from modelward.api.app import create_app
from modelward.api.dispatch import LeanIndex
from modelward.config import StoreLocation
from modelward.store import Store

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Values that collide with literal segments of other routes, or span two segments.
SAMPLES = ("abc", "search", "batch", "versions", "m@champion", "m/3", "x/evaluations")
_PARAM = re.compile(r"{[^}]+}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root: Path = tmp_path_factory.mktemp("dispatch")
    store = Store(StoreLocation(f"sqlite:///{root}/mw.db", str(root / "artifacts")))
    yield create_app(store, auth=False)
    store.close()


def _index(app: Any) -> tuple[LeanIndex, dict[int, Any]]:
    endpoints = app.state.lean_endpoints
    return LeanIndex(app.router.routes, endpoints), endpoints


def _router_choice(app: Any, method: str, path: str) -> tuple[Any, dict[str, Any]] | None:
    """What Starlette's router does: the first route whose path and method both match."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "app": app}
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return route, child.get("path_params", {})
    return None


def _sample_paths(app: Any) -> set[str]:
    paths = set()
    for route in app.router.routes:
        if not isinstance(route, Route) or not route.path.startswith("/api/v1/"):
            continue
        holes = len(_PARAM.findall(route.path))
        for values in itertools.product(SAMPLES, repeat=min(holes, 2)):
            filled = iter(values + values[-1:] * holes)
            paths.add(_PARAM.sub(lambda _, f=filled: next(f), route.path))
    return paths


def test_every_indexed_answer_is_the_routers_answer(app: Any) -> None:
    index, endpoints = _index(app)
    taken = 0
    for path in sorted(_sample_paths(app)):
        for method in METHODS:
            found = index.find(method, path)
            if found is None:
                continue  # left to the router, which is always right
            taken += 1
            chosen = _router_choice(app, method, path)
            assert chosen is not None, f"{method} {path}: the router matches nothing"
            route, params = chosen
            endpoint, found_params = found
            assert endpoints.get(id(route)) is endpoint, f"{method} {path}: another route wins"
            assert found_params == params, f"{method} {path}"
    assert taken > 100


def test_the_tracking_writes_take_the_lean_path(app: Any) -> None:
    index, _ = _index(app)
    for method, path in [
        ("POST", "/api/v1/runs"),
        ("POST", "/api/v1/runs/0123abcd/batch"),
        ("PATCH", "/api/v1/runs/0123abcd"),
        ("GET", "/api/v1/runs/0123abcd"),
    ]:
        assert index.find(method, path) is not None, f"{method} {path}"
    # Typed path parameters and query parameters keep FastAPI's validation.
    assert index.find("GET", "/api/v1/promotions/7") is None
    assert index.find("GET", "/api/v1/audit/events") is None


def test_lean_answers_and_errors_over_http(live_server: Any, admin_token: str) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=live_server.url, headers=auth) as http:
        created = http.post("/api/v1/runs", json={"experiment": "lean", "params": {"a": "1"}})
        assert created.status_code == 201
        assert created.headers["content-type"] == "application/json"
        run_id = created.json()["id"]
        batch = {"metrics": [{"key": "auc", "value": 0.9, "step": 0, "timestamp": 1}]}
        assert http.post(f"/api/v1/runs/{run_id}/batch", json=batch).json()["metrics"] == 1

        missing = http.post("/api/v1/runs/nope/batch", json=batch)
        assert missing.status_code == 404
        assert missing.json()["error"]["field"] == "run_id"
        malformed = http.post(f"/api/v1/runs/{run_id}/batch", content=b"{not json")
        assert malformed.status_code == 400
        assert malformed.json()["error"]["field"] == "body"
        anonymous = httpx.post(f"{live_server.url}/api/v1/runs/{run_id}/batch", json=batch)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["field"] == "authorization"
        # Refused requests stored nothing: the run has exactly the one batch.
        assert http.get(f"/api/v1/runs/{run_id}").json()["metrics"] == {"auc": 0.9}


def test_an_unexpected_failure_is_a_500_in_the_one_error_shape(
    store: Store, live_server: Any, admin_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    with store.engine.begin() as conn:  # a store broken behind the server's back
        conn.exec_driver_sql("DROP TABLE run_latest_metrics")
    with httpx.Client(base_url=live_server.url, headers=auth) as http:
        run_id = http.post("/api/v1/runs", json={"experiment": "broken"}).json()["id"]
        batch = {"metrics": [{"key": "auc", "value": 0.9, "step": 0, "timestamp": 1}]}
        failed = http.post(f"/api/v1/runs/{run_id}/batch", json=batch)
        assert failed.status_code == 500
        assert failed.json()["error"]["code"] == "internal"
        assert "Traceback" not in failed.text
        assert http.get("/api/v1/health").status_code == 200
    assert any("unexpected error on POST" in r.getMessage() for r in caplog.records)


def test_every_operation_is_documented_where_it_is_served(app: Any) -> None:
    # Lean operations get FastAPI's route only when the schema is built: it must still
    # describe each one as for any other route, path parameters, body, answer and errors.
    from modelward.api.lean_routes import is_lean
    from modelward.operations import load_all

    spec = app.openapi()
    components = spec["components"]["schemas"]
    lean = 0
    for op in load_all().values():
        path = re.sub(r"{(\w+):path}", r"{\1}", op.path)  # as OpenAPI writes a greedy one
        entry = spec["paths"][path][op.method.lower()]
        assert entry["operationId"] == op.name
        assert "4XX" in entry["responses"], op.name
        documented = {p["name"] for p in entry.get("parameters", []) if p["in"] == "path"}
        assert documented == set(op.path_params), op.name
        if op.body_param:
            ref = entry["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in components, op.name
        if op.adapter is not None:
            answer = entry["responses"][str(op.status_code)]["content"]["application/json"]
            assert answer["schema"], op.name
        lean += is_lean(op)
    assert lean > 60
