"""The monitoring report: a self-contained page a person reads, and a PNG for a ticket."""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from modelward.cli.report import register
from modelward.client.monitoring import results_frame
from modelward.errors import InvalidInput
from modelward.monitoring.monitor_schemas import MonitorResultPublic, ResultRow
from modelward.monitoring.report import (
    drift_part,
    drift_view,
    feature_distribution,
    label_coverage,
    normalize,
    parse_duration,
    performance_part,
    quality_part,
    records,
    render_html,
    render_png,
)

DAY = 86_400_000
START = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp() * 1000)
SECTIONS = ("summary", "drift", "distributions", "quality", "performance", "alerts")


def sample(feature: str = "income", days: int = 7) -> dict[str, Any]:
    """A week of an endpoint whose ``feature`` drifts from day 4 on."""
    drift = []
    for d in range(days):
        ws = START + d * DAY
        for name, stat in ((feature, 0.05 + 0.06 * d), ("age", 0.02), ("region", 0.01 * d)):
            drift.append(
                {
                    "window_start": ws,
                    "window_end": ws + DAY,
                    "feature": name,
                    "method": "psi",
                    "statistic": stat,
                    "threshold": 0.2,
                    "flagged": stat > 0.2,
                }
            )
    drift.append(
        {
            "window_start": START,
            "window_end": START + DAY,
            "feature": "__score__",
            "method": "psi",
            "statistic": None,
            "threshold": 0.2,
            "flagged": False,
        }
    )
    return {
        "endpoint": "credit-api",
        "version": "credit-scorer/3",
        "window": "1d",
        "since": START,
        "until": START + days * DAY,
        "rows": 12_345,
        "label_coverage": 0.42,
        "health": {"score": 71.5, "status": "degraded"},
        "drift": drift,
        "drift_share_threshold": 0.5,
        "distributions": {
            feature: {
                "kind": "numeric",
                "labels": ["[0, 10)", "[10, 20]", "> 20"],
                "reference": [50, 50, 0],
                "current": [20, 60, 20],
            },
            "region": {
                "kind": "categorical",
                "labels": ["north", "south", "(unseen)"],
                "reference": [70, 30, 0],
                "current": [40, 40, 20],
            },
        },
        "quality": [
            {
                "feature": feature,
                "null_rate": 0.01,
                "out_of_range": 0.2,
                "unseen": None,
                "type_errors": 0.0,
                "flags": ["out of range"],
            },
            {
                "feature": "region",
                "null_rate": 0.0,
                "out_of_range": None,
                "unseen": 0.2,
                "type_errors": 0.0,
                "flags": [],
            },
        ],
        "performance": {
            "metric": "roc_auc",
            "holdout": 0.84,
            "points": [
                {
                    "window_start": START + d * DAY,
                    "window_end": START + (d + 1) * DAY,
                    "realized": None if d == 6 else 0.83 - 0.02 * d,
                    "estimated": 0.82 - 0.015 * d,
                    "label_coverage": max(0.0, 0.9 - 0.15 * d),
                }
                for d in range(days)
            ],
        },
        "alerts": [
            {
                "status": "open",
                "severity": "high",
                "title": f"{feature} drifted (psi 0.29)",
                "first_seen": START + 4 * DAY,
                "last_seen": START + 6 * DAY,
            },
        ],
    }


class _Page(HTMLParser):
    """What a browser would find: element ids, scripts, external references."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for key, value in attrs:
            if key == "id" and value:
                self.ids.add(value)
            if key in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample())


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    return struct.unpack(">II", data[16:24])


def test_report_has_every_section_and_no_script_or_external_asset(page: str) -> None:
    html = page
    page = _parse(html)
    assert set(SECTIONS) <= page.ids
    assert "script" not in page.tags and page.external == []
    assert page.tags.count("svg") == 4  # drift, two distributions, performance
    assert page.tags.count("figcaption") == 4 and page.tags.count("details") == 5
    assert '<meta name="viewport"' in html


def test_header_states_endpoint_version_period_rows_coverage_and_health(page: str) -> None:
    html = page
    for text in (
        "credit-api",
        "credit-scorer/3",
        "2026-03-01 00:00 UTC",
        "2026-03-08 00:00 UTC",
        "12,345",
        "42.0%",
        "71.5 / 100 (degraded)",
    ):
        assert text in html


def test_numbers_behind_the_charts_are_readable_as_tables(page: str) -> None:
    html = page
    # the heatmap cell of the drifted feature on the last day, and its drifted share
    assert "0.41 / 0.2 drifted" in html
    assert "insufficient data" in html  # a window without a statistic says so
    assert "33.3%" in html  # 1 of 3 features drifted on day 4
    assert "20.0%" in html  # current share of the unseen region
    assert "0.84" in html and "roc_auc" in html  # holdout reference


def test_most_drifted_features_come_first(page: str) -> None:
    html = page
    drift = html[html.index('id="drift"') :]
    assert drift.index(">income<") < drift.index(">region<") < drift.index(">age<")


def test_user_text_is_escaped_in_the_page_and_the_charts() -> None:
    hostile = '<img src=x onerror="alert(1)">$x^2$ & co'
    data = sample(feature=hostile)
    data["endpoint"] = "<b>api</b>"
    html = render_html(data)
    page = _parse(html)
    assert "img" not in page.tags and "b" not in page.tags and page.external == []
    assert "&lt;b&gt;api&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=" in html
    # in the SVG text too, and kept literally (no mathtext)
    assert re.search(r"<text[^>]*>[^<]*&lt;img src=x[^<]*\$x\^2\$ &amp; co", html)


def test_empty_period_still_renders_every_section() -> None:
    data = sample()
    for key in ("drift", "distributions", "quality", "alerts"):
        data[key] = [] if key != "distributions" else {}
    data["performance"] = None
    html = render_html(data)
    assert set(SECTIONS) <= _parse(html).ids
    assert "<svg" not in html
    assert "No drift results in this period." in html
    assert "No alerts in this period." in html


def test_html_is_deterministic(page: str) -> None:
    assert render_html(sample()) == page


def test_png_is_1200_by_600_and_deterministic() -> None:
    first = render_png(sample())
    assert _png_size(first) == (1200, 600)
    assert render_png(sample()) == first
    assert render_png(sample(days=3)) != first


def test_png_needs_drift_results() -> None:
    data = sample()
    data["drift"] = []
    with pytest.raises(InvalidInput, match="no drift results"):
        render_png(data)


def test_many_features_and_windows_stay_readable() -> None:
    data = sample(days=30)
    for i in range(40):
        data["drift"].append(
            {
                "window_start": START,
                "window_end": START + DAY,
                "feature": f"f{i:02d}",
                "method": "psi",
                "statistic": 0.01 * i,
                "threshold": 0.1,
                "flagged": i > 10,
            }
        )
    html = render_html(data)
    assert "most\ndrifted of 44 features" in html
    assert _png_size(render_png(data)) == (1200, 600)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": ""}, "endpoint"),
        ({"since": "yesterday"}, "since"),
        ({"until": START - 1}, "until"),
        ({"rows": "many"}, "rows"),
        ({"drift": [1]}, "drift[0]"),
        ({"health": "good"}, "health"),
        ({"alerts": ["x"]}, "alerts[0]"),
        ({"distributions": {"age": [1, 2]}}, "distributions.age"),
    ],
)
def test_bad_report_data_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        render_html({**sample(), **change})
    assert info.value.field == field


def test_bad_drift_row_names_its_position() -> None:
    data = sample()
    data["drift"][2]["statistic"] = "high"
    with pytest.raises(InvalidInput) as info:
        render_html(data)
    assert info.value.field == "drift[2].statistic"


def test_durations() -> None:
    assert parse_duration("7d") == 7 * DAY
    assert parse_duration("12h") == DAY // 2
    for bad in ("", "7", "0d", "1y", "-1d"):
        with pytest.raises(InvalidInput):
            parse_duration(bad)


def test_distribution_from_baseline_and_profiles() -> None:
    spec = {"kind": "numeric", "edges": [0.0, 10.0, 20.0]}
    ref = {"bins": [5, 5], "underflow": 0, "overflow": 0}
    cur = {"bins": [1, 2], "underflow": 0, "overflow": 3}
    dist = feature_distribution(spec, ref, cur)
    assert dist == {
        "kind": "numeric",
        "labels": ["[0, 10)", "[10, 20]", "> 20"],
        "reference": [5, 5, 0],
        "current": [1, 2, 3],
    }
    spec = {"kind": "categorical", "categories": ["a", "b"]}
    ref = {"categories": {"a": 3, "b": 1}, "unseen": 0}
    cur = {"categories": {"b": 2}, "unseen": 4}
    dist = feature_distribution(spec, ref, cur)
    assert dist["labels"] == ["a", "b", "(unseen)"]
    assert (dist["reference"], dist["current"]) == ([3, 1, 0], [0, 2, 4])


def _result(
    kind: str, day: int, feature: str, method: str, statistic: float | None, **kw: Any
) -> MonitorResultPublic:
    row = ResultRow(
        kind=kind,
        window_start_ms=START + day * DAY,
        window_end_ms=START + (day + 1) * DAY,
        feature=feature,
        method=method,
        statistic=statistic,
        threshold=kw.pop("threshold", None),
        p_value=kw.pop("p_value", None),
        flagged=kw.pop("flagged", False),
        rows=kw.pop("rows", 100),
        details=kw,
    )
    return row.public("credit-api", "1d", "0" * 64)


def test_monitor_results_become_report_data() -> None:
    drift = records(
        results_frame(
            [
                _result("drift", 0, "income", "psi", 0.3, threshold=0.2, flagged=True),
                _result(
                    "drift",
                    0,
                    "age",
                    "ks",
                    0.08,
                    threshold=0.05,
                    p_value=0.01,
                    effect=0.08,
                    min_effect=0.1,
                ),
                _result("drift", 0, "__dataset__", "share", 0.5, threshold=0.4, flagged=True),
            ],
            "drift",
        )
    )
    rows = drift_part(drift)
    assert [r["ratio"] for r in rows] == [None, pytest.approx(0.8), None]
    view = drift_view(normalize({**sample(), "drift": rows, "drift_share_threshold": None}))
    assert view["features"] == ["income", "age"]  # the dataset verdict is the share line
    assert view["ratios"] == [[pytest.approx(1.5)], [pytest.approx(0.8)]]
    assert (view["share"], view["share_threshold"]) == ([0.5], 0.4)

    quality = quality_part(
        records(
            results_frame(
                [
                    _result(
                        "quality",
                        d,
                        "income",
                        "quality",
                        v,
                        flagged=v > 0.05,
                        checks={"null_rate": {"value": v}, "out_of_range": {"value": 0.0}},
                        failed=["null_rate"] if v > 0.05 else [],
                    )
                    for d, v in enumerate((0.01, 0.2, 0.03))
                ]
                + [_result("quality", 1, "__volume__", "volume", 3.0, flagged=True)],
                "quality",
            )
        )
    )
    assert quality == [
        {
            "feature": "__volume__",
            "null_rate": None,
            "out_of_range": None,
            "unseen": None,
            "type_errors": None,
            "flags": ["volume"],
        },
        {
            "feature": "income",
            "null_rate": 0.2,
            "out_of_range": 0.0,
            "unseen": None,
            "type_errors": None,
            "flags": ["null rate"],
        },
    ]

    performance = records(
        results_frame(
            [
                _result("performance", 0, "label_coverage", "coverage", 0.5, rows=200, labeled=100),
                _result("performance", 0, "roc_auc", "realized", 0.8, holdout=0.84),
                _result("performance", 0, "accuracy", "realized", 0.7),
                _result("performance", 0, "estimated.roc_auc", "estimated", 0.79),
                _result("performance", 1, "label_coverage", "coverage", 0.0, rows=200, labeled=0),
            ],
            "performance",
        )
    )
    perf = performance_part(performance)
    assert perf is not None and (perf["metric"], perf["holdout"]) == ("roc_auc", 0.84)
    assert perf["points"][0] == {
        "window_start": START,
        "window_end": START + DAY,
        "label_coverage": 0.5,
        "realized": 0.8,
        "estimated": 0.79,
    }
    assert label_coverage(performance) == 0.25
    html = render_html({**sample(), "drift": rows, "quality": quality, "performance": perf})
    assert "0.08 / 0.05 (p 0.01)" in html and "⚠ null rate" in html


def test_monitor_report_command_rejects_a_bad_period(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("other")(lambda: None)
    register(app)
    runner = CliRunner()
    out = tmp_path / "r.html"
    for args, field in (
        (["--window", "7x"], "window"),
        (["--until", "soon"], "until"),
        (["--every", "0h"], "every"),
    ):
        result = runner.invoke(app, ["monitor-report", "credit-api", "--html", str(out), *args])
        assert isinstance(result.exception, InvalidInput) and result.exception.field == field
    assert not out.exists()
