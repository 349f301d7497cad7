"""``modelward datasets …`` in a subprocess, as a user runs it against the embedded home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]


def modelward(*args: str | Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MODELWARD_HOME=str(home), COLUMNS="200", NO_COLOR="1")
    for var in ("MODELWARD_URI", "MODELWARD_TOKEN", "MODELWARD_ARTIFACTS"):
        env.pop(var, None)
    return subprocess.run(
        [*CLI, *map(str, args)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_register_list_and_show(tmp_path: Path) -> None:
    home = tmp_path / "home"
    csv = tmp_path / "applicants.csv"
    pd.DataFrame(
        {"age": [23, 35, 51, 42], "purpose": ["car", "car", "education", "business"]}
    ).to_csv(csv, index=False)

    first = modelward("datasets", "register", "credit-train", csv, "-d", "4 applicants", home=home)
    assert first.returncode == 0, first.stderr
    assert "registered credit-train/1" in first.stdout and "4 rows × 2 columns" in first.stdout

    again = modelward("datasets", "register", "credit-train", csv, home=home)
    assert (
        again.returncode == 0 and "unchanged" in again.stdout and "credit-train/1" in again.stdout
    )

    listed = json.loads(modelward("datasets", "list", "--json", home=home).stdout)
    assert [(d["name"], d["latest_version"], d["num_rows"]) for d in listed] == [
        ("credit-train", 1, 4)
    ]

    shown = json.loads(modelward("datasets", "show", "credit-train/1", "--json", home=home).stdout)
    assert [c["name"] for c in shown["schema"]] == ["age", "purpose"]
    assert shown["profile"]["columns"][0]["numeric"]["max"] == 51.0

    table = modelward("datasets", "show", "credit-train", home=home)
    assert table.returncode == 0
    assert "age" in table.stdout and "int64" in table.stdout and "car (2)" in table.stdout
    assert "4 applicants" in table.stdout


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name\nJosé\n".encode("latin-1"))

    bad = modelward("datasets", "register", "people", latin1, home=home)
    assert bad.returncode == 2
    assert "not UTF-8" in bad.stderr and "Traceback" not in bad.stderr

    wrong_type = modelward("datasets", "register", "people", tmp_path / "x.json", home=home)
    assert wrong_type.returncode == 2 and "unsupported file type" in wrong_type.stderr

    missing = modelward("datasets", "show", "people/1", home=home)
    assert missing.returncode == 1 and "no dataset named 'people'" in missing.stderr
    assert json.loads(modelward("datasets", "list", "--json", home=home).stdout) == []
