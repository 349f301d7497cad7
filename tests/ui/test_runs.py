"""Runs pages: experiments with their run counts, an experiment's runs table (sorted, filtered
and paged on the server, with chosen columns), one run with its metric histories, and runs
compared side by side."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from ui_support import screenshot

from modelward import Client, InvalidInput
from modelward.ui.format import iso, num

SWEEP = "ui-sweep"  # an experiment of its own: the demo's counts stay as they are
HISTORY = "ui-history"
RUNS = 90
GONE = 5  # this run of the sweep is deleted
BAD_FILTER = "metrics.auc > 0.8 or params.model = 'gbm'"


@dataclass
class Sweep:
    ids: list[str] = field(default_factory=list)  # every run, the deleted one included
    curve_a: str = ""
    curve_b: str = ""


def _sweep_run(dev: Client, i: int) -> str:
    params = {
        "depth": str(i % 7),
        "model": "gbm" if i % 2 else "lr",
        "batch size": str(2 ** (i % 4)),
    }
    if i == 11:
        params["w`eird"] = "yes"  # a key the filter language can only double-quote
    run = dev.start_run(
        SWEEP,
        params=params,
        tags={"team": f"t{i % 3}"},
        name=f"sweep-{i:03d}",
        capture_environment=False,
    )
    metrics: list[tuple[str, float, int]] = [("loss", round(1 / (i + 1), 6), 0)]
    if i % 9:  # every ninth run has no auc: it sorts last both ways
        metrics.append(("auc", round(0.1 + (i * 37) % 89 / 100, 2), 0))
    if i % 4 == 0:
        metrics += [("val auc", i / 100, 0), ("précision", 1 - i / 100, 0)]
    dev.log_batch(run.id, metrics=metrics)
    run.end()
    return run.id


def _curve(dev: Client, name: str, depth: str, scale: float, long: bool = False) -> str:
    run = dev.start_run(HISTORY, params={"model": "gbm", "depth": depth}, name=name)
    metrics = [("loss", round(scale / (s + 1), 6), s) for s in range(30)]
    if long:  # more points than a chart draws
        metrics += [("long", math.sin(s / 20), s) for s in range(450)]
    dev.log_batch(run.id, metrics=[*metrics, ("final", 0.5, 0)])
    run.end()
    return run.id


@pytest.fixture(scope="module")
def sweep(local: Callable[..., Client]) -> Sweep:
    dev = local("dev-dora", "developer")
    made = Sweep(ids=[_sweep_run(dev, i) for i in range(RUNS)])
    dev.delete_run(made.ids[GONE])
    made.curve_a = _curve(dev, "curve-a", "3", 1.0, long=True)
    made.curve_b = _curve(dev, "curve-b", "5", 2.0)
    return made


def _everything(local: Callable[..., Client], name: str, **search: Any) -> list[str]:
    return [r.id for r in local().search_runs(name, max_results=10_000, **search).runs]


def listed(page: str) -> list[str]:
    """Run ids in the runs table, top to bottom."""
    return re.findall(r'id="pick-([0-9a-f]{32})"', page)


def headers(page: str) -> dict[str, tuple[str, str, str]]:
    """Each key column's header: key -> (kind, aria-sort, link)."""
    found = re.findall(
        r'<th scope="col" class="[^"]*col-(metric|param|tag)" aria-sort="(\w+)">\s*'
        r'<a href="([^"]+)" title="sort by this \w+">([^<]*?)(?: [↓↑])?</a>',
        page,
    )
    return {html.unescape(k): (kind, s, html.unescape(h)) for kind, s, h, k in found}


def _started(page: str) -> str:
    found = re.search(r'aria-sort="(\w+)"><a href="[^"]*">Started', page)
    assert found, "no Started header"
    return found.group(1)


def _typed(page: str) -> str:
    """What the filter box holds."""
    found = re.search(r'<input id="filter" name="filter" [^>]*value="([^"]*)"', page)
    assert found, "no filter box"
    return html.unescape(found.group(1))


def follow(client: httpx.Client, link: str) -> str:
    resp = client.get(link)
    assert resp.status_code == 200, (link, resp.text[-2000:])
    return resp.text


def rel(page: str, which: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{which}">', page)
    return html.unescape(found.group(1)) if found else None


def _plain_error(page: str) -> None:
    assert "Traceback" not in page and 'File "' not in page


# --- the experiments ----------------------------------------------------------------------


def test_experiments_are_listed_with_run_counts_and_links(http, local, sweep) -> None:
    resp = http("viewer").get("/experiments")
    assert resp.status_code == 200
    for name in ("credit-risk", "fraud", SWEEP):
        row = re.search(
            rf'<tr>\s*<td><a href="/experiments/{name}">{name}</a></td>\s*'
            rf'<td class="num">([\d,]+)</td>\s*<td><time datetime="([^"]+)">',
            resp.text,
        )
        assert row, f"{name} is not listed"
        active = local().search_runs(name, max_results=10_000).runs
        assert int(row.group(1).replace(",", "")) == len(active)
        assert row.group(2) == iso(active[0].start_time)  # newest first
    sweep_row = re.search(rf'>{SWEEP}</a></td>\s*<td class="num">(\d+)<', resp.text)
    assert sweep_row and int(sweep_row.group(1)) == RUNS - 1  # the deleted run is not counted


# --- the runs table: sorting --------------------------------------------------------------


def test_a_metric_header_sorts_descending_then_ascending(http, local, sweep) -> None:
    viewer = http("viewer")
    first = follow(viewer, f"/experiments/{SWEEP}")
    assert listed(first) == _everything(local, SWEEP)[:50]  # newest first, 50 a page
    assert _started(first) == "descending"
    kind, sort, link = headers(first)["auc"]
    assert (kind, sort) == ("metric", "none")

    down = follow(viewer, link)
    assert headers(down)["auc"][1] == "descending"
    assert _started(down) == "none"  # the default order is no longer the one shown
    expected = _everything(local, SWEEP, order_by=["metrics.auc DESC"])
    assert listed(down) == expected[:50]

    up = follow(viewer, headers(down)["auc"][2])
    assert headers(up)["auc"][1] == "ascending"
    ascending = _everything(local, SWEEP, order_by=["metrics.auc ASC"])
    assert listed(up) == ascending[:50]
    # runs without an auc come last both ways
    no_auc = {sweep.ids[i] for i in range(0, RUNS, 9) if i != GONE}
    assert set(expected[-len(no_auc) :]) == no_auc == set(ascending[-len(no_auc) :])


def test_every_column_header_sorts_whatever_its_key(http, local, sweep) -> None:
    viewer = http("viewer")
    page = follow(viewer, f"/experiments/{SWEEP}")
    columns = headers(page)
    assert {"précision", "val auc", "batch size", "w`eird"} <= set(columns)
    for key, (_, _, link) in columns.items():
        resp = viewer.get(link)
        assert resp.status_code == 200, (key, re.findall(r'role="alert">([^<]*)', resp.text))
        assert headers(resp.text)[key][1] == "descending", key
    pick = viewer.get(columns["précision"][2])
    order = re.search(r"ordered by ([^<]+)</caption>", pick.text)
    assert order and html.unescape(order.group(1)) == "metrics.`précision` DESC"
    ranked = _everything(local, SWEEP, order_by=["metrics.`précision` DESC"])
    assert listed(pick.text) == ranked[:50]


# --- the runs table: filtering ------------------------------------------------------------


def test_the_filter_narrows_to_exactly_the_runs_search_returns(http, local, sweep) -> None:
    wanted = "metrics.auc > 0.5 and params.model = 'gbm' and tags.team != 't0'"
    resp = http("viewer").get(f"/experiments/{SWEEP}", params={"filter": wanted, "n": 100})
    assert resp.status_code == 200
    expected = _everything(local, SWEEP, filter=wanted)
    assert 0 < len(expected) < RUNS // 2
    assert listed(resp.text) == expected
    assert _typed(resp.text) == wanted  # the box still says what was asked
    assert f"{len(expected)} runs matching the filter" in resp.text

    none = http("viewer").get(f"/experiments/{SWEEP}", params={"filter": "metrics.auc > 5"})
    assert none.status_code == 200 and listed(none.text) == []
    assert "No runs match this filter." in none.text


def test_a_malformed_filter_is_a_400_said_beside_the_field_with_the_place_marked(
    http, local, sweep
) -> None:
    with pytest.raises(InvalidInput) as refused:
        local().search_runs(SWEEP, filter=BAD_FILTER)
    resp = http("viewer").get(f"/experiments/{SWEEP}", params={"filter": BAD_FILTER})
    assert resp.status_code == 400
    page = resp.text
    _plain_error(page)
    field_html = page.split('<div class="field grow has-error">')[1].split("</div>")[0]
    assert 'aria-invalid="true" aria-describedby="filter-error"' in field_html
    said = re.search(r'<p class="error" id="filter-error" role="alert">([^<]+)</p>', field_html)
    assert said and html.unescape(said.group(1)) == refused.value.message
    position = refused.value.details["position"]  # 18: the 'or'
    marked = re.search(r"<code class='filter-echo'>(.*?)<mark>(.)</mark>", field_html)
    assert marked and len(html.unescape(marked.group(1))) == position
    assert marked.group(2) == BAD_FILTER[position] == "o"
    assert _typed(field_html) == BAD_FILTER
    # the rest of the page is still there, and nothing is listed as if it matched
    assert "<summary>Columns</summary>" in page and 'aria-current="page">Runs<' in page
    assert listed(page) == [] and "No runs match" not in page


def test_a_malformed_order_is_said_beside_its_own_field(http, sweep) -> None:
    resp = http("viewer").get(f"/experiments/{SWEEP}", params={"order_by": "metrics.auc sideways"})
    assert resp.status_code == 400
    _plain_error(resp.text)
    assert 'id="order_by-error"' in resp.text and 'id="filter-error"' not in resp.text
    assert "<mark>s</mark>ideways" in resp.text


@pytest.mark.parametrize(
    ("asked", "field", "said"),
    [
        ({"filter": "metrics.auc > 0.5\x00"}, "filter", "filter contains a NUL character"),
        ({"filter": "metrics.auc > " + "1" * 20_000}, "filter", "the limit is 20000"),
        ({"order_by": "metrics." + "a" * 1_000}, "order_by", "at most 1000 characters"),
    ],
)
def test_input_refused_before_it_is_parsed_is_said_beside_its_field(
    http, sweep, asked, field, said
) -> None:
    resp = http("viewer").get(f"/experiments/{SWEEP}", params=asked)
    assert resp.status_code == 400
    _plain_error(resp.text)
    shown = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]+)</p>', resp.text)
    assert shown and said in shown.group(1)
    assert not re.match(rf"{field}(\.\d+)?: ", shown.group(1))  # beside it, it goes unnamed


def test_a_foreign_page_token_says_so_and_offers_the_first_page(http, sweep) -> None:
    resp = http("viewer").get(f"/experiments/{SWEEP}", params={"page": "not-a-token"})
    assert resp.status_code == 400
    _plain_error(resp.text)
    assert 'id="page-error"' in resp.text and "page_token" in resp.text
    assert f'<a href="/experiments/{SWEEP}">Start from the first page</a>' in resp.text


# --- the runs table: paging and columns ---------------------------------------------------


def _walk(viewer: httpx.Client, start: str) -> list[str]:
    """Every page from ``start`` following Next; the pages' HTML."""
    pages = [follow(viewer, start)]
    while link := rel(pages[-1], "next"):
        pages.append(follow(viewer, link))
    return pages


def test_paging_forward_and_back_visits_every_run_once(http, local, sweep) -> None:
    viewer = http("viewer")
    forward = _walk(viewer, f"/experiments/{SWEEP}?n=25&order_by=metrics.loss+DESC")
    assert len(forward) == math.ceil((RUNS - 1) / 25) == 4
    seen = [run for page in forward for run in listed(page)]
    assert seen == _everything(local, SWEEP, order_by=["metrics.loss DESC"])
    assert len(set(seen)) == len(seen) == RUNS - 1
    assert sweep.ids[GONE] not in seen
    for number, page in enumerate(forward, start=1):
        assert f"Page {number} · " in page and "ordered by metrics.loss DESC" in page
    assert rel(forward[0], "prev") is None and rel(forward[-1], "next") is None

    page = forward[-1]
    for number in range(len(forward) - 1, 0, -1):
        link = rel(page, "prev")
        assert link, f"no Previous on page {number + 1}"
        page = follow(viewer, link)
        assert listed(page) == listed(forward[number - 1]), f"page {number} differs"
        assert f"Page {number} · " in page
    assert rel(page, "prev") is None


def test_chosen_columns_and_the_filter_survive_sorting_and_paging(http, local, sweep) -> None:
    viewer = http("viewer")
    chosen = {"loss": "metric", "depth": "param", "team": "tag"}
    gbm = "params.model = 'gbm'"
    start = follow(
        viewer,
        f"/experiments/{SWEEP}?cols=1&m=loss&p=depth&t=team&n=25&filter={gbm}",
    )
    assert {k: v[0] for k, v in headers(start).items()} == chosen
    assert 'name="m" value="auc">' in start and 'name="m" value="loss" checked>' in start
    sorted_page = follow(viewer, headers(start)["depth"][2])
    assert {k: v[0] for k, v in headers(sorted_page).items()} == chosen
    assert headers(sorted_page)["depth"][1] == "descending"
    second = follow(viewer, rel(sorted_page, "next") or "")
    assert {k: v[0] for k, v in headers(second).items()} == chosen
    assert headers(second)["depth"][1] == "descending" and "Page 2 · " in second
    assert rel(second, "next") is None
    expected = _everything(local, SWEEP, filter=gbm, order_by=["params.depth DESC"])
    assert listed(sorted_page) + listed(second) == expected
    back = follow(viewer, rel(second, "prev") or "")
    assert listed(back) == listed(sorted_page)
    assert {k: v[0] for k, v in headers(back).items()} == chosen
    # picking other columns on page 2 stays on page 2
    again = viewer.get(f"/experiments/{SWEEP}", params=_column_form(second, ["auc"]))
    assert listed(again.text) == listed(second) and "Page 2 · " in again.text
    assert {k: v[0] for k, v in headers(again.text).items()} == {"auc": "metric"}


def _column_form(page: str, metrics: list[str]) -> list[tuple[str, str]]:
    """What the column picker sends with only ``metrics`` ticked."""
    form = page.split('<details class="columns"')[1].split("</form>")[0]
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)
    return [(k, html.unescape(v)) for k, v in hidden] + [("m", m) for m in metrics]


def test_deep_paging_keeps_addresses_short(http, sweep, monkeypatch) -> None:
    # Ten runs a page and a trail of three remembered pages instead of a hundred: the
    # served app runs in this process.
    from modelward.ui import runs_view
    from modelward.ui.pages import runs

    monkeypatch.setattr(runs, "MAX_BACK", 3)
    monkeypatch.setattr(runs_view, "PAGE_SIZES", (10, 25, 50, 100))
    viewer = http("viewer")
    pages = _walk(viewer, f"/experiments/{SWEEP}?n=10")
    assert len(pages) == 9
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} · " in page
        for link in filter(None, (rel(page, "next"), rel(page, "prev"))):
            remembered = parse_qs(urlsplit(link).query).get("back", [""])[0]
            assert len(remembered.split(".")) <= 3, f"page {number} links carry {remembered}"
    page = pages[-1]
    for number in (8, 7, 6):
        page = follow(viewer, rel(page, "prev") or "")
        assert listed(page) == listed(pages[number - 1]) and f"Page {number} · " in page
    assert rel(page, "prev") is None  # older pages were forgotten: the first page remains
    assert f'<a href="/experiments/{SWEEP}?n=10">First page</a>' in page


# --- one run ------------------------------------------------------------------------------


def _demo_run(local: Callable[..., Client], name: str) -> Any:
    (run,) = local().search_runs("credit-risk", filter=f"attributes.name = '{name}'").runs
    return run


def test_a_run_shows_its_params_inputs_tags_and_the_version_it_logged(http, local) -> None:
    run = _demo_run(local, "retrain")
    resp = http("viewer").get(f"/runs/{run.id}")
    assert resp.status_code == 200
    page = resp.text
    params = page.split('id="params-h"')[1].split("</section>")[0]
    for key, value in run.params.items():
        assert f'<tr><td>{key}</td><td class="wrap">{html.escape(value)}</td></tr>' in params
    inputs = page.split('id="inputs-h"')[1].split("</section>")[0]
    assert run.inputs
    for i in run.inputs:
        assert f"<td>{i.dataset}/{i.version}</td><td>{i.role}</td>" in inputs
    models = page.split('id="models-h"')[1].split("</section>")[0]
    version = local().get_version("credit-scorer/4")
    assert version.run_id == run.id and "champion" in version.aliases
    assert '<a href="/models/credit-scorer/versions/4">credit-scorer/4</a>' in models
    for alias in version.aliases:
        assert f'<span class="badge alias">@{alias}</span>' in models
    assert "Git commit" in page and "Environment tags" in page
    assert '<a href="/experiments/credit-risk">credit-risk</a>' in page


def test_a_run_shows_latest_metrics_and_a_chart_of_each_stepped_metric(http, local, sweep) -> None:
    run = local().get_run(sweep.curve_a)
    page = http("viewer").get(f"/runs/{run.id}").text
    latest = page.split('id="metrics-h"')[1].split("</section>")[0]
    for key in ("final", "long", "loss"):
        assert f'<tr><td>{key}</td><td class="num">' in latest
    assert '<td>loss</td><td class="num">0.0333</td>' in latest  # 1/30, the last step
    history = page.split('id="history-h"')[1].split("</section>")[0]
    figures = re.findall(r"<figure class=\"chart\">.*?</figure>", history, re.S)
    assert len(figures) == 2  # "final" has one point: nothing to draw
    long_fig, loss_fig = figures
    assert re.search(r'<svg [^>]*role="img" aria-label="loss over 30 logged steps">', loss_fig)
    assert "<figcaption>loss: 30 points</figcaption>" in loss_fig
    cells = re.findall(r"<tr><td>(-?\d+)</td><td>([^<]+)</td></tr>", loss_fig)
    points = local().get_metric_history(run.id, "loss")
    assert cells == [(str(p.step), num(p.value)) for p in points]
    # 450 points are drawn and tabled every third, and the last point is always kept
    assert "long: 450 points, 1 in 3 shown" in long_fig
    steps = [int(s) for s, _ in re.findall(r"<tr><td>(-?\d+)</td><td>([^<]+)</td></tr>", long_fig)]
    assert steps[:3] == [0, 3, 6] and steps[-1] == 449 and len(steps) == 151


# --- comparing runs -----------------------------------------------------------------------


def _compare_row(page: str, section: str, key: str) -> str:
    part = page.split(f'id="{section}"')[1].split("</section>")[0]
    row = re.search(
        rf'<tr( class="differs")?>\s*<th scope="row">{re.escape(key)}.*?</tr>', part, re.S
    )
    assert row, f"no {key} row under {section}"
    return row.group(0)


def test_two_runs_side_by_side_mark_the_rows_that_differ(http, sweep) -> None:
    resp = http("viewer").get(
        "/runs/compare", params=[("ids", sweep.curve_a), ("ids", sweep.curve_b)]
    )
    assert resp.status_code == 200
    page = resp.text
    assert "<h1>Compare 2 runs</h1>" in page
    depth = _compare_row(page, "params-h", "depth")
    assert 'class="differs"' in depth and "≠" in depth
    assert "<td>3</td><td>5</td>" in depth
    model = _compare_row(page, "params-h", "model")
    assert "differs" not in model and "≠" not in model
    final = _compare_row(page, "metrics-h", "final")
    assert "differs" not in final and final.count('<td class="num">0.5</td>') == 2
    assert 'class="differs"' in _compare_row(page, "metrics-h", "loss")
    long_row = _compare_row(page, "metrics-h", "long")  # only one of them logged it
    assert 'class="differs"' in long_row and '<td class="num">–</td>' in long_row
    overlay = page.split('id="overlay-h"')[1].split("</section>")[0]
    loss = re.search(
        r'<svg [^>]*role="img" aria-label="loss over steps for curve-a, curve-b">', overlay
    )
    assert loss, "no overlaid loss chart"
    assert (
        '<th scope="col">Step</th><th scope="col">curve-a</th><th scope="col">curve-b</th>'
        in overlay
    )
    assert "<tr><td>0</td><td>1</td><td>2</td></tr>" in overlay  # step 0: 1/1 and 2/1


@pytest.mark.parametrize(("count", "said"), [(1, "at least two"), (9, "at most 8 runs")])
def test_comparing_one_or_nine_runs_is_refused_readably(http, sweep, count, said) -> None:
    ids = [i for n, i in enumerate(sweep.ids) if n != GONE][:count]
    resp = http("viewer").get("/runs/compare", params=[("ids", i) for i in ids])
    assert resp.status_code == 400
    assert said in resp.text and "<h1>That did not work</h1>" in resp.text
    _plain_error(resp.text)


# --- not found ----------------------------------------------------------------------------


def test_unknown_runs_and_experiments_are_friendly_404_pages(http, sweep) -> None:
    viewer = http("viewer")
    unknown = "0123456789abcdef0123456789abcdef"
    for address, named in [
        (f"/runs/{unknown}", unknown),
        ("/experiments/no-such-experiment", "no-such-experiment"),
        (f"/runs/compare?ids={sweep.curve_a}&ids={unknown}", unknown),
    ]:
        resp = viewer.get(address)
        assert resp.status_code == 404, address
        assert "<h1>Not found</h1>" in resp.text and named in html.unescape(resp.text)
        _plain_error(resp.text)


# --- in the browser -----------------------------------------------------------------------


def test_sort_by_a_header_then_filter_with_enter(page_as, local, sweep) -> None:
    page = page_as("viewer")
    page.goto(f"{page.base}/experiments/{SWEEP}")
    screenshot(page, "runs")
    page.locator("table.runs thead a", has_text="auc").first.click()
    page.wait_for_url(re.compile(r"order_by=metrics\.auc\+DESC"))
    header = page.locator("table.runs th", has=page.locator("a", has_text=re.compile(r"^auc")))
    assert header.get_attribute("aria-sort") == "descending"
    ids = page.locator("table.runs tbody input[name=ids]").evaluate_all(
        "els => els.map(e => e.value)"
    )
    assert ids == _everything(local, SWEEP, order_by=["metrics.auc DESC"])[:50]

    page.fill("#filter", "params.model = 'lr' and metrics.auc >= 0.3")
    page.press("#filter", "Enter")
    page.wait_for_url(re.compile(r"filter=params\.model"))
    ids = page.locator("table.runs tbody input[name=ids]").evaluate_all(
        "els => els.map(e => e.value)"
    )
    expected = _everything(
        local,
        SWEEP,
        filter="params.model = 'lr' and metrics.auc >= 0.3",
        order_by=["metrics.auc DESC"],
    )
    assert ids == expected and expected  # the sort is kept while filtering


def test_tick_two_runs_and_compare_them(page_as, sweep) -> None:
    page = page_as("viewer")
    page.goto(f"{page.base}/experiments/{HISTORY}")
    page.check(f"#pick-{sweep.curve_a}")
    page.check(f"#pick-{sweep.curve_b}")
    page.get_by_role("button", name="Compare selected runs").click()
    page.wait_for_url(re.compile(r"/runs/compare\?ids="))
    assert page.locator("h1").inner_text() == "Compare 2 runs"
    assert page.locator("table.compare tr.differs", has_text="depth").count() == 1
    assert page.locator("figure.chart svg[role=img]").first.is_visible()
    screenshot(page, "run-compare")


def test_a_run_page_in_the_browser_has_charts_with_their_tables(page_as, sweep) -> None:
    page = page_as("viewer")
    page.goto(f"{page.base}/runs/{sweep.curve_a}")
    chart = page.get_by_role("img", name="loss over 30 logged steps")
    assert chart.is_visible()
    page.locator("figure.chart", has=chart).get_by_text("Data as a table").click()
    table = page.locator("figure.chart", has=chart).locator("table")
    assert table.is_visible() and table.locator("tbody tr").count() == 30
    screenshot(page, "run")


@pytest.mark.parametrize("address", ["runs", "run", "run-compare"])
def test_phone_width_pages_do_not_scroll_sideways(page_as, sweep, address) -> None:
    page = page_as("viewer", width=390, height=844)
    url = {
        "runs": f"/experiments/{SWEEP}",
        "run": f"/runs/{sweep.curve_a}",
        "run-compare": f"/runs/compare?ids={sweep.curve_a}&ids={sweep.curve_b}",
    }[address]
    page.goto(page.base + url)
    screenshot(page, f"{address}-phone")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 390, f"the page is {wide}px wide at 390px"
    wraps = page.locator(".table-wrap").evaluate_all(
        "els => els.map(e => [e.scrollWidth, e.clientWidth])"
    )
    assert all(client <= 390 for _, client in wraps)
    if address == "runs":  # the wide runs table scrolls inside its wrapper
        runs_wrap = page.locator(".table-wrap", has=page.locator("table.runs"))
        scroll, client = runs_wrap.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert scroll > client
