"""search_runs through both transports on both stores."""

from __future__ import annotations

import pytest

import modelward as mw


def _populate(client: mw.Client) -> dict[str, str]:
    """Five finished runs plus one running; returns run name → id."""
    specs = [
        ("a", {"depth": "5", "model": "xgb"}, {"team": "risk"}, {"auc": 0.91, "loss": 0.2}),
        ("b", {"depth": "3", "model": "lr"}, {"team": "risk"}, {"auc": 0.85}),
        ("c", {"depth": "5", "model": "XGB"}, {"team": "ops"}, {"auc": 0.70, "loss": 0.5}),
        ("d", {"depth": "8", "model": "rf"}, {"team": "risk", "model type": "forest"}, {}),
        ("e", {"depth": "5"}, {}, {"auc": float("nan")}),
    ]
    ids = {}
    for name, params, tags, metrics in specs:
        run = client.start_run("credit", params=params, tags=tags, name=name)
        if metrics:
            run.log_metrics(metrics, step=0)
        run.end("FAILED" if name == "c" else "FINISHED")
        ids[name] = run.id
    ids["running"] = client.start_run("credit", name="running").id
    return ids


def _names(page: mw.client.tracking.RunPage) -> list[str]:  # type: ignore[name-defined]
    return [r.name for r in page.runs]


def test_filters_select_runs(client: mw.Client) -> None:
    _populate(client)

    def names(text: str) -> set[str]:
        return set(_names(client.search_runs("credit", text)))

    assert names("metrics.auc > 0.8") == {"a", "b"}
    assert names('metrics.auc > 0.8 and params.depth = "5" and tags.team = "risk"') == {"a"}
    assert names("metrics.auc != 0.91") == {"b", "c", "e"}  # NaN differs from everything
    assert names("params.depth IN ('3', '8')") == {"b", "d"}
    assert names("params.depth NOT IN ('3', '8')") == {"a", "c", "e"}
    assert names("params.model LIKE 'x%'") == {"a"}  # LIKE is case-sensitive everywhere
    assert names("params.model ILIKE 'x%'") == {"a", "c"}
    assert names("params.model NOT LIKE 'x%'") == {"b", "c", "d"}
    assert names("tags.`model type` = 'forest'") == {"d"}
    assert names("attributes.status = 'FAILED'") == {"c"}
    assert names("attributes.status = 'running'") == {"running"}
    assert names("attributes.name IN ('a', 'e')") == {"a", "e"}
    assert names("attributes.end_time > 0 and metrics.loss < 1") == {"a", "c"}
    assert names("") == {"a", "b", "c", "d", "e", "running"}


def test_hostile_values_stay_literal(client: mw.Client) -> None:
    run = client.start_run("credit", params={"x": "'; DROP TABLE runs; --"})
    page = client.search_runs("credit", 'params.x = "\'; DROP TABLE runs; --"')
    assert [r.id for r in page.runs] == [run.id]
    assert client.search_runs("credit", "params.x = '%'").runs == []
    assert client.search_runs("credit", "params.x LIKE '\\'%'").runs[0].id == run.id
    with pytest.raises(mw.InvalidInput) as exc:
        client.search_runs("credit", "metrics.auc > 0 or 1=1")
    assert exc.value.field == "filter" and "position 16" in exc.value.message
    assert client.get_run(run.id).params["x"] == "'; DROP TABLE runs; --"


def test_order_by_puts_runs_lacking_the_key_last(client: mw.Client) -> None:
    _populate(client)
    by_auc = _names(client.search_runs("credit", order_by=["metrics.auc desc"]))
    assert by_auc[:3] == ["a", "b", "c"] and set(by_auc[3:]) == {"d", "e", "running"}
    by_auc_asc = _names(client.search_runs("credit", order_by=["metrics.auc"]))
    assert by_auc_asc[:3] == ["c", "b", "a"]
    by_depth = _names(
        client.search_runs(
            "credit", "params.depth = '5'", order_by=["params.model", "metrics.loss"]
        )
    )
    assert by_depth == ["c", "a", "e"]  # "XGB" < "xgb" bytewise; e has no model
    newest_first = _names(client.search_runs("credit"))
    assert newest_first == ["running", "e", "d", "c", "b", "a"]
    oldest_first = _names(client.search_runs("credit", order_by=["attributes.start_time asc"]))
    assert oldest_first == list(reversed(newest_first))


def test_pagination_walks_every_run_once(client: mw.Client) -> None:
    _populate(client)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = client.search_runs(
            "credit", order_by=["metrics.auc desc"], max_results=4, page_token=token
        )
        seen += _names(page)
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    assert pages == 2 and len(seen) == 6 and len(set(seen)) == 6
    first = client.search_runs("credit", order_by=["metrics.auc desc"], max_results=4)
    with pytest.raises(mw.InvalidInput) as exc:
        client.search_runs("credit", "metrics.auc > 0", page_token=first.next_page_token)
    assert exc.value.field == "page_token"
    with pytest.raises(mw.InvalidInput):
        client.search_runs("credit", page_token="not-a-token")


def test_each_run_carries_its_data(client: mw.Client) -> None:
    ids = _populate(client)
    (a,) = client.search_runs("credit", "attributes.name = 'a'").runs
    assert a.id == ids["a"] and a.experiment == "credit" and a.status == "FINISHED"
    assert a.params == {"depth": "5", "model": "xgb"}
    assert a.metrics == {"auc": 0.91, "loss": 0.2}
    assert a.tags["team"] == "risk" and "mw.python" in a.tags


def test_deleted_runs_are_hidden_unless_asked(client: mw.Client) -> None:
    ids = _populate(client)
    client.delete_run(ids["a"])
    assert "a" not in _names(client.search_runs("credit"))
    assert "a" in _names(client.search_runs("credit", include_deleted=True))


def test_several_experiments_and_unknown_ones(client: mw.Client) -> None:
    client.start_run("one", name="x")
    client.start_run("two", name="y")
    assert set(_names(client.search_runs(["one", "two"]))) == {"x", "y"}
    with pytest.raises(mw.NotFound) as exc:
        client.search_runs(["one", "missing"])
    assert exc.value.field == "experiments" and "missing" in exc.value.message
    with pytest.raises(mw.InvalidInput) as bad:
        client.search_runs("one", max_results=10_001)
    assert bad.value.field == "max_results"
