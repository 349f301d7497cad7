"""Tampering with the stored trail through raw SQL: verify names the first broken event.

Runs on SQLite and PostgreSQL; events come from real service calls.
"""

from __future__ import annotations

import pytest
from audit_helpers import execute, local_client, populate, rehash_from, row, run_cli, swap_rows

from modelward.store import Store


def test_intact_trail_verifies_and_the_cli_exits_0(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    n = populate(store)
    report = local_client(store).verify_audit()
    assert report.intact and report.reason is None and report.first_broken_seq is None
    assert report.events_checked == n and report.head_seq == n
    assert report.head_hash == row(store, n)["hash"]

    code, out, _ = run_cli(monkeypatch, capsys, store.location.db_url, "audit", "verify")
    assert code == 0
    assert "intact" in out and f"{n} events" in out


def test_an_empty_trail_is_intact(store: Store) -> None:
    report = local_client(store).verify_audit()
    assert report.intact and report.events_checked == 0 and report.head_seq == 0
    assert report.head_hash == "0" * 64


@pytest.mark.parametrize(
    ("column", "expression", "value"),
    [
        ("actor", ":v", "mallory"),
        ("action", ":v", "experiment.delete"),
        ("entity_id", ":v", "someone-else"),
        ("state_digest", ":v", "0" * 64),
        ("summary", ":v", '{"approved":true}'),
        ("time_ms", "time_ms + :v", 1),
        ("hash", ":v", "f" * 64),
        ("prev_hash", ":v", "e" * 64),
    ],
)
def test_an_edited_column_is_named_as_edited(
    store: Store, column: str, expression: str, value: object
) -> None:
    populate(store)
    execute(store, f"UPDATE audit_events SET {column} = {expression} WHERE seq = 3", v=value)
    report = local_client(store).verify_audit()
    assert not report.intact
    assert (report.first_broken_seq, report.reason) == (3, "edited")
    assert report.events_checked == 2


def test_the_cli_prints_the_broken_seq_and_reason_and_exits_1(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(store)
    execute(store, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 5")
    code, out, _ = run_cli(monkeypatch, capsys, store.location.db_url, "audit", "verify")
    assert code == 1
    assert "BROKEN at seq 5 (edited)" in out

    code, out, _ = run_cli(monkeypatch, capsys, store.location.db_url, "audit", "verify", "--json")
    assert code == 1
    assert '"first_broken_seq": 5' in out and '"reason": "edited"' in out


def test_an_edited_row_given_a_matching_hash_is_named_as_edited(store: Store) -> None:
    populate(store)
    execute(store, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    rehash_from(store, 3, 3)  # row 3 is self-consistent again; event 4 still links to the old hash
    report = local_client(store).verify_audit()
    assert (report.first_broken_seq, report.reason) == (3, "edited")
    assert "its hash rewritten" in report.message


@pytest.mark.parametrize(("deleted", "message"), [([4], "event 4 is"), ([4, 5, 6], "events 4..6")])
def test_a_deleted_row_is_named_as_the_gap(store: Store, deleted: list[int], message: str) -> None:
    populate(store)
    for seq in deleted:
        execute(store, "DELETE FROM audit_events WHERE seq = :s", s=seq)
    report = local_client(store).verify_audit()
    assert (report.first_broken_seq, report.reason) == (4, "deleted")
    assert message in report.message and "missing" in report.message


def test_deleting_the_first_event_is_caught(store: Store) -> None:
    populate(store)
    execute(store, "DELETE FROM audit_events WHERE seq = 1")
    report = local_client(store).verify_audit()
    assert (report.first_broken_seq, report.reason) == (1, "deleted")


def test_a_deletion_hidden_by_renumbering_is_still_a_deletion(store: Store) -> None:
    n = populate(store)
    execute(store, "DELETE FROM audit_events WHERE seq = 4")
    for seq in range(5, n + 1):  # close the gap so seqs look contiguous again
        execute(store, "UPDATE audit_events SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    report = local_client(store).verify_audit()
    assert (report.first_broken_seq, report.reason) == (4, "deleted")


@pytest.mark.parametrize(("a", "b"), [(3, 5), (2, 3)])
def test_swapped_rows_are_named_as_reordered_at_the_first(store: Store, a: int, b: int) -> None:
    populate(store)
    swap_rows(store, a, b)
    report = local_client(store).verify_audit()
    assert (report.first_broken_seq, report.reason) == (a, "reordered")
    assert f"recorded as seq {b}" in report.message


def test_a_tampered_trail_can_still_be_listed(store: Store) -> None:
    populate(store)
    execute(store, "UPDATE audit_events SET summary = 'not json' WHERE seq = 2")
    client = local_client(store)
    events = client.list_audit_events()
    assert events[1].summary == {"unparsed": "not json"}
    assert client.verify_audit().first_broken_seq == 2


def test_events_with_unusual_text_verify(store: Store) -> None:
    from sqlalchemy.orm import Session

    from modelward.audit.writer import append_event

    odd = 'zoë "q" \\ \n\t\x01\x7f 😀 \u2028 </x>'
    with Session(bind=store.engine) as session, session.begin():
        append_event(
            session, odd, "note.add", "note", odd, {"text": odd}, summary={odd: [odd, 1.5]}
        )
        append_event(session, "plain", "note.add", "note", "2", None)
    report = local_client(store).verify_audit()
    assert report.intact and report.events_checked == 2
    execute(store, "UPDATE audit_events SET actor = :v WHERE seq = 1", v=odd + " ")
    assert local_client(store).verify_audit().first_broken_seq == 1


def test_a_cell_of_the_wrong_type_is_an_edit_not_a_crash(store: Store) -> None:
    populate(store)
    if store.engine.dialect.name == "sqlite":  # SQLite cells can hold any type
        execute(store, "UPDATE audit_events SET actor = X'00ff' WHERE seq = 3")
    else:
        execute(store, "UPDATE audit_events SET time_ms = -1 WHERE seq = 3")
    report = local_client(store).verify_audit()
    assert (report.first_broken_seq, report.reason) == (3, "edited")
