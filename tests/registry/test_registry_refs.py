"""References ``name``, ``name/3`` and ``name@alias``, accepted by every verb."""

from __future__ import annotations

import pytest

import modelward as mw
from modelward.registry.references import ModelRef, parse_model_ref


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("credit-scorer", ModelRef("credit-scorer")),
        ("credit-scorer@latest", ModelRef("credit-scorer")),
        ("credit-scorer/3", ModelRef("credit-scorer", version=3)),
        ("credit_scorer.v2@champion", ModelRef("credit_scorer.v2", alias="champion")),
    ],
)
def test_references_parse_into_name_version_or_alias(ref: str, parsed: ModelRef) -> None:
    assert parse_model_ref(ref) == parsed


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "credit-scorer/",
        "credit-scorer/0",
        "credit-scorer/-1",
        "credit-scorer/3/4",
        "credit-scorer/x",
        "credit-scorer@",
        "@champion",
        "/3",
        "credit-scorer@3",
        "credit-scorer@cham pion",
        "credit-scorer@a@b",
        "credit-scorer/1@champion",
        "credit scorer",
        "credit-scorer/99999999999",
        "credit-scorer/٣",
    ],
)
def test_malformed_references_are_invalid_input_naming_ref(ref: str) -> None:
    with pytest.raises(mw.InvalidInput) as refused:
        parse_model_ref(ref)
    assert refused.value.field == "ref"


def test_every_verb_accepts_every_reference_form(client: mw.Client, fitted) -> None:
    for _ in range(3):
        client.create_model_version("credit-scorer", fitted.model)
    client.set_alias("credit-scorer", "champion", 2)
    assert client.get_version("credit-scorer").version == 3
    assert client.get_version("credit-scorer@latest").version == 3
    assert client.get_version("credit-scorer/1").version == 1
    assert client.get_version("credit-scorer@champion").version == 2
    assert client.set_version_tag("credit-scorer@champion", "k", "v").version == 2
    assert client.get_version_lineage("credit-scorer@champion").version.ref == "credit-scorer/2"
    assert client.archive_version("credit-scorer/1").version == 1
    assert client.delete_version("credit-scorer").version == 3
    assert client.load_model("credit-scorer@champion").predict(fitted.X).tolist() == (
        fitted.model.predict(fitted.X).tolist()
    )


@pytest.mark.parametrize("ref", ["credit-scorer/x", "credit-scorer@", "a@b/3", "credit scorer"])
def test_malformed_references_are_refused_by_every_transport(client: mw.Client, ref: str) -> None:
    for verb in (client.get_version, client.archive_version, client.get_version_lineage):
        with pytest.raises(mw.InvalidInput) as refused:
            verb(ref)
        assert refused.value.field == "ref"


def test_unknown_model_version_or_alias_is_not_found(client: mw.Client, fitted) -> None:
    client.create_model_version("credit-scorer", fitted.model)
    for ref, words in [
        ("fraud-detector", "no registered model named 'fraud-detector'"),
        ("credit-scorer/9", "has no version 9"),
        ("credit-scorer@champion", "has no alias 'champion'"),
    ]:
        with pytest.raises(mw.NotFound) as missing:
            client.get_version(ref)
        assert words in missing.value.message
        assert missing.value.field == "ref"


def test_malformed_reference_over_raw_http_is_a_400_naming_ref(live_server, admin_token) -> None:
    import httpx

    resp = httpx.get(
        f"{live_server.url}/api/v1/model-versions/credit-scorer/x",
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["field"] == "ref"
