"""Each command imports only its own module; every command is still found and listed."""

from __future__ import annotations

import importlib
import subprocess
import sys

import typer

from modelward.cli import main

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]


def _commands_of(module: str) -> list[str]:
    app = typer.Typer()
    importlib.import_module(f"modelward.cli.{module}").register(app)
    groups = [g.name for g in app.registered_groups]
    return [c.name for c in app.registered_commands] + groups  # type: ignore[misc]


def test_every_command_is_routed_to_the_module_that_defines_it() -> None:
    for module in main.MODULES:
        for command in _commands_of(module):
            assert main.COMMANDS.get(command) == module, command
    assert set(main.COMMANDS.values()) == set(main.MODULES)


def test_help_lists_every_command() -> None:
    out = subprocess.run([*CLI, "--help"], capture_output=True, text=True, check=True).stdout
    for command in main.COMMANDS:
        if command != "tokens":  # a hidden alias of ``token``
            assert command in out, command


def test_a_command_loads_only_its_own_module() -> None:
    probe = (
        "import sys\n"
        "sys.argv = ['modelward', 'db', '--help']\n"
        "from modelward.cli.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('modelward.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().splitlines()[-1]
    assert "modelward.cli.db" in loaded
    assert "modelward.cli.alerts" not in loaded and "modelward.cli.deploy" not in loaded


def test_a_single_command_module_still_takes_its_name() -> None:
    # With one command loaded, Typer would run it directly and refuse its name.
    for argv in (["server", "--help"], ["lineage", "--help"], ["demo", "--help"]):
        done = subprocess.run([*CLI, *argv], capture_output=True, text=True)
        assert done.returncode == 0, (argv, done.stderr)
        assert f"Usage: -c {argv[0]} " in done.stdout  # the program name is python's -c
