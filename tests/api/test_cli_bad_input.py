"""Bad input on the command line: exit code 1 or 2 and one readable line, never a traceback.

Most cases run ``modelward`` in-process through its real entry point (``main()``), each on a
fresh embedded home; a few run the installed command in a subprocess, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

FILES = {
    "ok.csv": b"amount,purpose\n1200,car\n800,tv\n",
    "latin1.csv": b"name\ncaf\xe9\n",
    "ragged.csv": b'a,b\n1,2\n"unterminated\n',
    "empty.csv": b"",
    "fake.parquet": b"not parquet at all",
    "notes.txt": b"hello",
}

# (arguments, exit code, a phrase the error must contain); {tmp} is a folder of FILES.
CASES = [
    # experiments
    (["experiments", "show", "missing"], 1, "no experiment named 'missing'"),
    (["experiments", "show", "bad name"], 2, "invalid name"),
    # runs: unknown ids, malformed filters and orderings
    (["runs", "show", "0123456789abcdef0123456789abcdef"], 1, "no run"),
    (["runs", "metrics", "deadbeef", "auc"], 1, "no run"),
    (["runs", "download", "deadbeef", "model/weights.txt"], 1, "no run"),
    (["runs", "list", "missing"], 1, "no experiment named 'missing'"),
    (["runs", "list", "credit-risk", "--filter", "metrics.auc >"], 2, "position 13"),
    (["runs", "list", "credit-risk", "--filter", "metrics.auc > 0.8 or"], 2, "position"),
    (["runs", "list", "credit-risk", "--filter", "colour = 'red'"], 2, "unknown name 'colour'"),
    (["runs", "list", "credit-risk", "--filter", 'params.C = "a\x00"'], 2, "NUL"),
    (["runs", "list", "credit-risk", "--order-by", "metrics.auc sideways"], 2, "order_by"),
    (["runs", "list", "credit-risk", "--max-results", "0"], 2, "max_results"),
    # datasets: missing and unreadable files, bad references
    (["datasets", "register", "credit", "{tmp}/missing.csv"], 2, "no such file"),
    (["datasets", "register", "credit", "{tmp}/latin1.csv"], 2, "UTF-8"),
    (["datasets", "register", "credit", "{tmp}/ragged.csv"], 2, "CSV"),
    (["datasets", "register", "credit", "{tmp}/empty.csv"], 2, "empty"),
    (["datasets", "register", "credit", "{tmp}/fake.parquet"], 2, "Parquet"),
    (["datasets", "register", "credit", "{tmp}/notes.txt"], 2, ".parquet or .csv"),
    (["datasets", "register", "bad name", "{tmp}/ok.csv"], 2, "invalid name"),
    (["datasets", "show", "missing/3"], 1, "no dataset named 'missing'"),
    (["datasets", "show", "credit@prod"], 2, "no alias"),
    (["datasets", "show", "credit/9999999999"], 2, "2147483647"),
    (["datasets", "versions", "missing"], 1, "no dataset named 'missing'"),
    # models and lineage: unknown and malformed references
    (["models", "show", "missing"], 1, "no registered model named 'missing'"),
    (["models", "archive", "missing@champion"], 1, "no registered model"),
    (["models", "archive", "credit-scorer@champion/2"], 2, "malformed model reference"),
    (["models", "delete", "credit-scorer/0"], 2, "whole number"),
    (["models", "delete", "credit-scorer/99999999999999999999"], 2, "malformed"),
    (["models", "alias", "set", "missing", "champion", "1"], 1, "no registered model"),
    (["models", "alias", "set", "credit-scorer", "latest", "1"], 2, "reserved"),
    (["models", "alias", "set", "credit-scorer", "champion", "4294967296"], 2, "2147483647"),
    (["lineage", "missing@champion"], 1, "no registered model"),
    (["lineage", "not a ref!"], 2, "malformed model reference"),
    (["lineage", "--dataset", "credit@v2"], 2, "no alias"),
    # audit and tokens
    (["audit", "list", "--since", "yesterday"], 2, "ISO 8601"),
    (["audit", "list", "--limit", "0"], 2, "limit"),
    (["audit", "export", "--format", "xml"], 2, "jsonl or csv"),
    (["audit", "verify", "--public-key", "not-a-key"], 2, "public_key"),
    (["audit", "checkpoint", "--key", "{tmp}/missing.pem"], 2, "cannot read key file"),
    (["audit", "checkpoint", "--key", "{tmp}/ok.csv"], 2, "PEM"),
    (["token", "create", "--name", "ci", "--role", "wizard"], 2, "unknown role"),
    (["token", "revoke", "4242"], 1, "no token"),
    # usage errors
    (["token", "revoke", "abc"], 2, "token_id"),
    (["runs", "list", "credit-risk", "--max-results", "many"], 2, "--max-results"),
    (["models", "no-such-command"], 2, "No such command"),
]

# Paths the CLI must write to but cannot: one line naming the path, exit 1.
KNOWN = [
    pytest.param(
        ["audit", "export", "--out", "{tmp}/no/such/dir/audit.jsonl"],
        1,
        "no/such/dir",
        id="audit-export-out-in-missing-folder",
    ),
    pytest.param(
        ["audit", "keygen", "--out", "{tmp}/no/such/dir/key.pem"],
        2,
        "no/such/dir",
        id="audit-keygen-out-in-missing-folder",
    ),
]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    for name, data in FILES.items():
        (folder / name).write_bytes(data)
    return folder


def _cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """``modelward ARGS`` through the real entry point: (exit code, stderr)."""
    from modelward.cli.main import main

    monkeypatch.setattr(sys, "argv", ["modelward", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException as exc:  # what a user would see as a traceback
        pytest.fail(f"modelward {' '.join(args)} raised {type(exc).__name__}: {exc}")
    return code, capsys.readouterr().err


def _assert_one_error_line(
    args: list[str], code: int, err: str, expected: int, phrase: str
) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == expected, f"modelward {args}: exit {code}, stderr {err!r}"
    assert len(lines) == 1, f"modelward {args}: {len(lines)} lines on stderr:\n{err}"
    assert lines[0].startswith("error: ") and "Traceback" not in err, err
    assert phrase in lines[0], f"{phrase!r} not in {lines[0]!r}"


def _id(args: list[str]) -> str:
    return " ".join(args).replace("{tmp}/", "")


@pytest.mark.parametrize(
    ("args", "expected", "phrase"),
    [pytest.param(*case, id=_id(case[0])) for case in CASES] + KNOWN,
)
def test_bad_input_is_one_line_and_an_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    files: Path,
    args: list[str],
    expected: int,
    phrase: str,
) -> None:
    args = [a.replace("{tmp}", str(files)) for a in args]
    code, err = _cli(monkeypatch, capsys, *args)
    _assert_one_error_line(args, code, err, expected, phrase)


@pytest.mark.parametrize(
    "variable",
    ["MODELWARD_URI=postgresql+psycopg://nobody@127.0.0.1:9/none", "MODELWARD_HOME={tmp}/ok.csv"],
)
def test_a_store_that_cannot_be_opened_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], files: Path, variable: str
) -> None:
    name, value = variable.replace("{tmp}", str(files)).split("=", 1)
    monkeypatch.setenv(name, value)
    code, err = _cli(monkeypatch, capsys, "experiments", "list")
    _assert_one_error_line(["experiments", "list"], code, err, 1, value)


def test_the_installed_command_reports_bad_input_the_same_way(tmp_path: Path, files: Path) -> None:
    env = {**os.environ, "MODELWARD_HOME": str(tmp_path / "home")}
    for args, expected, phrase in [
        (["models", "show", "missing"], 1, "no registered model"),
        (["runs", "list", "credit-risk", "--filter", "metrics.auc >"], 2, "position 13"),
        (["datasets", "register", "credit", f"{files}/missing.csv"], 2, "no such file"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "modelward", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        _assert_one_error_line(args, done.returncode, done.stderr, expected, phrase)
        assert done.stdout == "", done.stdout
