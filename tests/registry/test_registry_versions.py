"""Model versions: numbering, immutable fields, tags, archiving, deletion."""

from __future__ import annotations

import pytest

import modelward as mw


def test_versions_are_numbered_per_model_and_record_what_was_registered(
    client: mw.Client, fitted, audit_events
) -> None:
    signature = mw.infer_signature(fitted.X, fitted.y)
    v1 = client.create_model_version(
        "credit-scorer", fitted.model, signature=signature, description="baseline", tags={"k": "v"}
    )
    v2 = client.create_model_version("credit-scorer", fitted.model, parent=v1)
    other = client.create_model_version("fraud-detector", fitted.model)
    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert v1.ref == "credit-scorer/1" and v1.name == "credit-scorer"
    assert v1.flavor == "sklearn" and v1.status == "active" and v1.trusted is False
    assert len(v1.digest) == 64 and v1.size > 0
    assert v1.signature == signature
    assert (v1.description, v1.tags, v1.parent) == ("baseline", {"k": "v"}, None)
    assert v2.parent == "credit-scorer/1"
    assert v1.created_by == "test-admin" and v1.run_id is None

    stored = client.get_version("credit-scorer/1")
    assert stored.info == v1.info
    assert [v.version for v in client.list_versions("credit-scorer")] == [2, 1]

    created = audit_events("model_version.create")
    assert [e[1] for e in created] == ["credit-scorer/1", "credit-scorer/2", "fraud-detector/1"]
    assert created[0][2]["digest"] == v1.digest and created[0][2]["flavor"] == "sklearn"


def test_parent_can_be_a_number_a_reference_or_another_model(client: mw.Client, fitted) -> None:
    client.create_model_version("credit-scorer", fitted.model)
    client.set_alias("credit-scorer", "champion", 1)
    by_number = client.create_model_version("credit-scorer", fitted.model, parent=1)
    by_alias = client.create_model_version(
        "credit-scorer", fitted.model, parent="credit-scorer@champion"
    )
    across = client.create_model_version(
        "credit-scorer-lite", fitted.model, parent="credit-scorer/2"
    )
    assert (by_number.parent, by_alias.parent, across.parent) == (
        "credit-scorer/1",
        "credit-scorer/1",
        "credit-scorer/2",
    )
    with pytest.raises(mw.NotFound) as missing:
        client.create_model_version("credit-scorer", fitted.model, parent=9)
    assert missing.value.field == "parent"
    with pytest.raises(mw.InvalidInput) as bad:
        client.create_model_version("credit-scorer", fitted.model, parent="credit-scorer/x")
    assert bad.value.field == "parent"
    assert [v.version for v in client.list_versions("credit-scorer")] == [3, 2, 1]


def test_bad_version_input_is_refused_and_nothing_is_stored(client: mw.Client, fitted) -> None:
    with pytest.raises(mw.InvalidInput) as bad_name:
        client.create_model_version("bad name", fitted.model)
    assert bad_name.value.field == "name"
    with pytest.raises(mw.InvalidInput) as bad_sig:
        client.create_model_version(
            "credit-scorer", fitted.model, signature={"inputs": [{"name": "a", "type": "complex"}]}
        )
    assert bad_sig.value.field.startswith("signature.inputs.0.type")
    with pytest.raises(mw.InvalidInput) as bad_run:
        client.create_model_version("credit-scorer", fitted.model, run_id="not-a-run")
    assert bad_run.value.field == "run_id"
    with pytest.raises(mw.NotFound) as no_run:
        client.create_model_version("credit-scorer", fitted.model, run_id="0" * 32)
    assert no_run.value.field == "run_id"
    with pytest.raises(mw.InvalidInput) as long_tag:
        client.create_model_version("credit-scorer", fitted.model, tags={"k": "v" * 8001})
    assert long_tag.value.field == "tags"
    with pytest.raises(mw.InvalidInput) as unknown_flavor:
        client.create_model_version("credit-scorer", fitted.model, flavor="tensorflow")
    assert unknown_flavor.value.field == "flavor"
    with pytest.raises(mw.InvalidInput) as wrong_object:
        client.create_model_version("credit-scorer", fitted.model, flavor="onnx")
    assert wrong_object.value.field == "model"
    with pytest.raises(mw.InvalidInput) as undetectable:
        client.create_model_version("credit-scorer", {"weights": [1, 2]})
    assert undetectable.value.field == "flavor"
    assert client.list_registered_models() == []


def test_version_tags_are_mutable_and_audited(client: mw.Client, fitted, audit_events) -> None:
    client.create_model_version("credit-scorer", fitted.model)
    assert client.set_version_tag("credit-scorer/1", "validated", "yes").tags == {
        "validated": "yes"
    }
    assert client.set_version_tag("credit-scorer", "validated", "no").tags == {"validated": "no"}
    assert client.delete_version_tag("credit-scorer/1", "validated").tags == {}
    with pytest.raises(mw.NotFound) as missing:
        client.delete_version_tag("credit-scorer/1", "validated")
    assert missing.value.field == "key"
    assert [e[2] for e in audit_events("model_version.tag_set")] == [
        {"key": "validated", "value": "yes"},
        {"key": "validated", "value": "no"},
    ]
    assert audit_events("model_version.tag_delete")[0][2] == {"key": "validated"}


def test_archiving_hides_a_version_from_latest(client: mw.Client, fitted, audit_events) -> None:
    for _ in range(2):
        client.create_model_version("credit-scorer", fitted.model)
    assert client.get_version("credit-scorer").version == 2
    assert client.archive_version("credit-scorer/2").status == "archived"
    assert client.get_version("credit-scorer").version == 1
    assert client.get_version("credit-scorer/2").status == "archived"
    assert client.get_registered_model("credit-scorer").latest_version == 1
    assert [v.version for v in client.list_versions("credit-scorer", include_archived=False)] == [1]
    with pytest.raises(mw.Conflict) as aliased_archived:
        client.set_alias("credit-scorer", "champion", 2)
    assert aliased_archived.value.field == "version"
    assert client.restore_version("credit-scorer/2").status == "active"
    assert client.get_version("credit-scorer").version == 2
    assert [e[2] for e in audit_events("model_version.archive")] == [{"status": "archived"}]
    assert [e[2] for e in audit_events("model_version.restore")] == [{"status": "active"}]


def test_delete_is_refused_while_an_alias_points_at_the_version(
    client: mw.Client, fitted, audit_events
) -> None:
    for _ in range(2):
        client.create_model_version("credit-scorer", fitted.model)
    client.set_alias("credit-scorer", "champion", 1)
    with pytest.raises(mw.Conflict) as refused:
        client.delete_version("credit-scorer/1")
    assert "credit-scorer@champion" in refused.value.message
    with pytest.raises(mw.Conflict):
        client.archive_version("credit-scorer@champion")
    assert client.get_version("credit-scorer/1").status == "active"

    client.set_alias("credit-scorer", "champion", 2)
    deleted = client.delete_version("credit-scorer/1")
    assert deleted.ref == "credit-scorer/1"
    with pytest.raises(mw.NotFound):
        client.get_version("credit-scorer/1")
    assert audit_events("model_version.delete")[0][1:] == (
        "credit-scorer/1",
        {"digest": deleted.digest},
    )


def test_a_deleted_number_is_never_reused_and_parents_are_kept(client: mw.Client, fitted) -> None:
    client.create_model_version("credit-scorer", fitted.model)
    client.create_model_version("credit-scorer", fitted.model, parent=1)
    with pytest.raises(mw.Conflict) as parent:
        client.delete_version("credit-scorer/1")
    assert "credit-scorer/2" in parent.value.message
    client.delete_version("credit-scorer/2")
    assert client.create_model_version("credit-scorer", fitted.model).version == 3
    assert [v.version for v in client.list_versions("credit-scorer")] == [3, 1]


def test_concurrent_writers_get_distinct_version_numbers(store, fitted) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from modelward.auth.roles import Principal, Role
    from modelward.client.transport import LocalTransport

    writer = mw.Client.over(LocalTransport(store, Principal("trainer", Role.developer)))

    def register(i: int) -> int:
        return writer.create_model_version(
            "credit-scorer", fitted.model, tags={"i": str(i)}
        ).version

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = sorted(pool.map(register, range(12)))
    assert numbers == list(range(1, 13))
    assert writer.get_registered_model("credit-scorer").latest_version == 12
