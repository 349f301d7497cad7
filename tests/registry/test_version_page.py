"""A page of a model's versions: newest first, the total over all pages, archived ones
included unless asked otherwise, and bad paging refused naming the field. Over each
transport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

import modelward as mw


def version_page(client: mw.Client, name: str, **paging: Any) -> Any:
    return client._transport.call("list_versions_page", name=name, **paging)


@pytest.fixture
def seven(client: mw.Client, tmp_path: Path) -> mw.Client:
    """credit-scorer with versions 1..7 (v2 archived) and @champion on v5."""
    for i in range(7):
        artifact = tmp_path / f"weights-{i}.txt"
        artifact.write_text(f"w{i}", encoding="utf-8")
        client.create_model_version("credit-scorer", artifact)
    client.archive_version("credit-scorer/2")
    client.set_alias("credit-scorer", "champion", 5)
    return client


def test_pages_are_newest_first_and_carry_the_total(seven: mw.Client) -> None:
    first = version_page(seven, "credit-scorer", offset=0, limit=3)
    assert (first.model, first.total, first.offset, first.limit) == ("credit-scorer", 7, 0, 3)
    assert [v.version for v in first.versions] == [7, 6, 5]
    assert first.versions[2].aliases == ["champion"] and first.versions[2].ref == "credit-scorer/5"
    second = version_page(seven, "credit-scorer", offset=3, limit=3)
    last = version_page(seven, "credit-scorer", offset=6, limit=3)
    assert [v.version for v in second.versions] == [4, 3, 2]
    assert [v.version for v in last.versions] == [1] and last.total == 7
    past = version_page(seven, "credit-scorer", offset=50, limit=3)
    assert past.versions == [] and past.total == 7
    # the pages hold what the full listing holds, in the same order
    full = [v.version for v in seven.list_versions("credit-scorer")]
    assert [v.version for p in (first, second, last) for v in p.versions] == full


def test_archived_versions_can_be_left_out_of_pages_and_total(seven: mw.Client) -> None:
    active = version_page(seven, "credit-scorer", offset=0, limit=10, include_archived=False)
    assert active.total == 6 and 2 not in [v.version for v in active.versions]
    archived = version_page(seven, "credit-scorer", offset=0, limit=10)
    assert {v.version: v.status for v in archived.versions}[2] == "archived"


@pytest.mark.parametrize(
    ("paging", "field"),
    [
        ({"offset": -1, "limit": 10}, "offset"),
        ({"offset": 10**12, "limit": 10}, "offset"),
        ({"offset": 0, "limit": 0}, "limit"),
        ({"offset": 0, "limit": 201}, "limit"),
    ],
)
def test_bad_paging_is_refused_naming_the_field(
    seven: mw.Client, paging: dict[str, int], field: str
) -> None:
    with pytest.raises(mw.InvalidInput) as bad:
        version_page(seven, "credit-scorer", **paging)
    assert bad.value.field == field and field in str(bad.value)


def test_an_unknown_model_is_not_found(client: mw.Client) -> None:
    with pytest.raises(mw.NotFound):
        version_page(client, "no-such-model", offset=0, limit=10)


def test_the_rest_route_answers_with_the_api_error_shape(
    seven: mw.Client, live_server: Any, admin_token: str
) -> None:
    bearer = {"Authorization": f"Bearer {admin_token}"}
    url = f"{live_server.url}/api/v1/models/credit-scorer/version-page"
    ok = httpx.get(url, params={"offset": 5, "limit": 5}, headers=bearer, timeout=30)
    assert ok.status_code == 200
    body = ok.json()
    assert body["total"] == 7 and [v["version"] for v in body["versions"]] == [2, 1]
    bad = httpx.get(url, params={"limit": "many"}, headers=bearer, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "limit"
    anonymous = httpx.get(url, timeout=30)
    assert anonymous.status_code == 401
