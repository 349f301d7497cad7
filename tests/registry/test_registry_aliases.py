"""Aliases: set, move, delete; every move is an audited event."""

from __future__ import annotations

import pytest

import modelward as mw


def test_alias_moves_are_audited_with_from_and_to(client: mw.Client, fitted, audit_events) -> None:
    for _ in range(3):
        client.create_model_version("credit-scorer", fitted.model)
    first = client.set_alias("credit-scorer", "champion", 1)
    assert (first.model, first.alias, first.version, first.updated_by) == (
        "credit-scorer",
        "champion",
        1,
        "test-admin",
    )
    client.set_alias("credit-scorer", "champion", 3)
    client.set_alias("credit-scorer", "champion", 3)  # not a move: nothing to record
    client.set_alias("credit-scorer", "candidate", client.get_version("credit-scorer/2"))

    assert client.get_version("credit-scorer@champion").version == 3
    assert client.get_version("credit-scorer/3").aliases == ["champion"]
    assert client.get_registered_model("credit-scorer").aliases == {"candidate": 2, "champion": 3}
    assert [(a.alias, a.version) for a in client.list_aliases("credit-scorer")] == [
        ("candidate", 2),
        ("champion", 3),
    ]
    moves = audit_events("model_alias.set")
    assert [(e[1], e[2]["from_version"], e[2]["to_version"]) for e in moves] == [
        ("credit-scorer@champion", None, 1),
        ("credit-scorer@champion", 1, 3),
        ("credit-scorer@candidate", None, 2),
    ]
    assert all(e[0] == "test-admin" for e in moves)

    removed = client.delete_alias("credit-scorer", "candidate")
    assert removed.version == 2
    with pytest.raises(mw.NotFound) as gone:
        client.get_version("credit-scorer@candidate")
    assert gone.value.field == "ref"
    assert client.get_version("credit-scorer/2").aliases == []
    deleted = audit_events("model_alias.delete")
    assert [(e[1], e[2]["from_version"], e[2]["to_version"]) for e in deleted] == [
        ("credit-scorer@candidate", 2, None)
    ]


@pytest.mark.parametrize("alias", ["3", "latest", "LATEST", "bad alias", "-x", "a/b"])
def test_reserved_and_malformed_aliases_are_refused(client: mw.Client, fitted, alias: str) -> None:
    client.create_model_version("credit-scorer", fitted.model)
    with pytest.raises(mw.InvalidInput) as refused:
        client.set_alias("credit-scorer", alias, 1)
    assert refused.value.field == "alias"
    assert client.list_aliases("credit-scorer") == []


def test_alias_to_a_missing_version_or_model_is_not_found(client: mw.Client, fitted) -> None:
    client.create_model_version("credit-scorer", fitted.model)
    with pytest.raises(mw.NotFound) as no_version:
        client.set_alias("credit-scorer", "champion", 7)
    assert no_version.value.field == "version"
    with pytest.raises(mw.NotFound) as no_model:
        client.set_alias("fraud-detector", "champion", 1)
    assert no_model.value.field == "name"
    with pytest.raises(mw.InvalidInput) as not_a_number:
        client.set_alias("credit-scorer", "champion", "one")  # type: ignore[arg-type]
    assert not_a_number.value.field == "version"
    with pytest.raises(mw.NotFound) as no_alias:
        client.delete_alias("credit-scorer", "champion")
    assert no_alias.value.field == "alias"
    assert client.list_aliases("credit-scorer") == []


def test_a_viewer_cannot_move_an_alias(live_server, admin_token, fitted) -> None:
    from modelward.client.transport import HttpTransport

    admin = mw.Client.over(HttpTransport(live_server.url, admin_token))
    admin.create_model_version("credit-scorer", fitted.model)
    viewer_token = admin.create_token("dashboard", role="viewer").token
    viewer = mw.Client.over(HttpTransport(live_server.url, viewer_token))
    with pytest.raises(mw.Forbidden):
        viewer.set_alias("credit-scorer", "champion", 1)
    with pytest.raises(mw.Forbidden):
        viewer.delete_version("credit-scorer/1")
    assert viewer.get_version("credit-scorer/1").aliases == []
    admin.close()
    viewer.close()
