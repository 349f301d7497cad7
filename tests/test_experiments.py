"""Experiments through both transports on both stores."""

from __future__ import annotations

import pytest

import modelward as mw


def test_create_list_get_experiment(client: mw.Client) -> None:
    created = client.create_experiment("credit-risk", description="PD model")
    assert created.name == "credit-risk"
    assert [e.name for e in client.list_experiments()] == ["credit-risk"]
    assert client.get_experiment("credit-risk").description == "PD model"


def test_duplicate_and_invalid_names_are_refused(client: mw.Client) -> None:
    client.create_experiment("credit-risk")
    with pytest.raises(mw.Conflict) as dup:
        client.create_experiment("credit-risk")
    assert dup.value.field == "name"
    with pytest.raises(mw.InvalidInput) as bad:
        client.create_experiment("no spaces please")
    assert bad.value.field == "name"
    with pytest.raises(mw.NotFound):
        client.get_experiment("missing")
    assert len(client.list_experiments()) == 1
