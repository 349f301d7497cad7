"""Helpers for the audit tests: real writes, raw SQL tampering, the real CLI entry point."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from sqlalchemy import text

import modelward as mw
from modelward.audit.chain import event_hash
from modelward.audit.tables import EVENT_COLUMNS
from modelward.auth.roles import Principal, Role
from modelward.client.transport import LocalTransport
from modelward.store import Store

ADMIN = Principal("test-admin", Role.admin)
CONTENT = list(EVENT_COLUMNS[1:])  # everything stored but the sequence number


def local_client(store: Store) -> mw.Client:
    """The SDK in-process over ``store`` (the store fixture closes the store)."""
    return mw.Client.over(LocalTransport(store, ADMIN))


def populate(store: Store, experiments: int = 6, tokens: int = 2) -> int:
    """Write events through real service calls; returns how many events exist."""
    client = local_client(store)
    for i in range(experiments):
        client.create_experiment(f"exp-{i}", description=f"experiment {i}")
    for i in range(tokens):
        client.create_token(f"svc-{i}", role="viewer")
    return experiments + tokens


def execute(store: Store, statement: str, **params: Any) -> None:
    """Raw SQL, the way someone with database access would tamper."""
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def row(store: Store, seq: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        found = conn.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq}).one()
    return dict(found._mapping)


def swap_rows(store: Store, a: int, b: int) -> None:
    """Exchange everything but seq between two rows: the events trade places."""
    ra, rb = row(store, a), row(store, b)
    assignments = ", ".join(f"{c} = :{c}" for c in CONTENT)
    with store.engine.begin() as conn:
        for target, source in ((a, rb), (b, ra)):
            values = {c: source[c] for c in CONTENT}
            conn.execute(
                text(f"UPDATE audit_events SET {assignments} WHERE seq = :seq"),
                {**values, "seq": target},
            )


def rehash_from(store: Store, start: int, end: int | None = None) -> None:
    """Recompute the hashes of events ``start..end`` (default: to the head), as a forger would."""
    prev = row(store, start - 1)["hash"] if start > 1 else "0" * 64
    with store.engine.begin() as conn:
        rows = conn.execute(
            text("SELECT * FROM audit_events WHERE seq >= :s AND seq <= :e ORDER BY seq"),
            {"s": start, "e": end if end is not None else 2**62},
        ).all()
        for r in rows:
            m = r._mapping
            h = event_hash(
                prev,
                m["seq"],
                m["time_ms"],
                m["actor"],
                m["action"],
                m["entity_type"],
                m["entity_id"],
                m["state_digest"],
                m["summary"],
            )
            conn.execute(
                text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": h, "s": m["seq"]},
            )
            prev = h


def run_cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    uri: str,
    *args: str,
) -> tuple[int, str, str]:
    """Run ``modelward ARGS`` through its real entry point; (exit code, stdout, stderr)."""
    from modelward.cli.main import main

    monkeypatch.setenv("MODELWARD_URI", uri)
    monkeypatch.setattr(sys, "argv", ["modelward", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else (0 if code is None else 1)), out.out, out.err
