"""``modelward token create|list|revoke`` against a store that a live server also serves."""

from __future__ import annotations

import json
import sys
from typing import Any

import httpx
import pytest

from modelward.store import Store


def _cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], uri: str, *args: str
) -> tuple[int, str, str]:
    """``modelward ARGS`` through the real entry point; (exit code, stdout, stderr)."""
    from modelward.cli.main import main

    monkeypatch.setenv("MODELWARD_URI", uri)
    monkeypatch.setattr(sys, "argv", ["modelward", *args])
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out, out.err


def test_create_use_list_and_revoke_a_token(
    store: Store,
    live_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = store.location.db_url
    code, out, _ = _cli(
        monkeypatch, capsys, uri, "token", "create", "--role", "developer", "--name", "ci", "--json"
    )
    assert code == 0
    created = json.loads(out)
    secret = created["token"]
    assert created["role"] == "developer" and secret.startswith("mw_")

    auth = {"Authorization": f"Bearer {secret}"}
    url = f"{live_server.url}/api/v1/experiments"
    assert httpx.post(url, json={"name": "from-ci"}, headers=auth).status_code == 201

    code, out, _ = _cli(monkeypatch, capsys, uri, "token", "list", "--json")
    assert code == 0
    [listed] = json.loads(out)
    assert listed["name"] == "ci" and "token" not in listed and secret not in out
    assert listed["prefix"] == secret[:10]  # enough to recognise it, not to use it

    code, out, _ = _cli(monkeypatch, capsys, uri, "token", "revoke", str(created["id"]))
    assert code == 0 and "revoked" in out
    assert httpx.post(url, json={"name": "too-late"}, headers=auth).status_code == 401


def test_the_secret_is_printed_once_in_human_output(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = store.location.db_url
    code, out, _ = _cli(
        monkeypatch, capsys, uri, "token", "create", "--name", "ops", "--role", "admin"
    )
    assert code == 0
    secrets = [w for w in out.split() if w.startswith("mw_")]
    assert len(secrets) == 1 and "shown only now" in out
    code, out, _ = _cli(monkeypatch, capsys, uri, "token", "list")
    assert code == 0 and "ops" in out and secrets[0] not in out


def test_bad_token_commands_fail_with_one_line(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = store.location.db_url
    code, _, err = _cli(
        monkeypatch, capsys, uri, "token", "create", "--name", "x", "--role", "wizard"
    )
    assert code == 2 and "unknown role 'wizard'" in err and "Traceback" not in err
    code, _, err = _cli(monkeypatch, capsys, uri, "token", "revoke", "999")
    assert code == 1 and "no token with id 999" in err
    code, _, err = _cli(monkeypatch, capsys, uri, "token", "create", "--name", "bad name")
    assert code == 2 and "name" in err
    code, out, _ = _cli(monkeypatch, capsys, uri, "token", "list", "--json")
    assert json.loads(out) == []  # nothing was stored by the failed commands
