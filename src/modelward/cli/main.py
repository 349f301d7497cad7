"""Entry point: one Typer app with a sub-command per domain."""

from __future__ import annotations

import sys

import typer

from modelward.errors import ModelwardError

_app = typer.Typer(
    name="modelward",
    help="Governed model lifecycle: tracking, registry, evidence, policy gates, audit.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each command's module, in the order ``--help`` lists them. A command imports only its
# own module: ``modelward server`` starts without the other twenty (about 0.3 s).
MODULES = (
    "experiments",
    "runs",
    "datasets",
    "models",
    "evaluation",
    "register",
    "policy",
    "promotion",
    "card",
    "export",
    "deploy",
    "predictions",
    "monitor",
    "report",
    "alerts",
    "audit",
    "tokens",
    "db",
    "server",
    "serve",
    "demo",
)
COMMANDS = {
    **{name: name for name in MODULES if name not in ("report", "tokens", "evaluation")},
    "lineage": "models",
    "evaluate": "evaluation",
    "explain": "evaluation",
    "evaluations": "evaluation",
    "promote": "promotion",
    "labels": "predictions",
    "monitor-report": "report",
    "alert-rules": "alerts",
    "monitor-health": "alerts",
    "token": "tokens",
    "tokens": "tokens",
}
_registered: set[str] = set()


@_app.callback()
def _root() -> None:
    """Governed model lifecycle: tracking, registry, evidence, policy gates, audit."""
    # A callback keeps the app a group of commands even when only one is loaded: Typer
    # would otherwise run that one command with its name taken as an extra argument.


def _register(modules: tuple[str, ...] = MODULES) -> typer.Typer:
    import importlib

    for name in modules:
        if name not in _registered:
            importlib.import_module(f"modelward.cli.{name}").register(_app)
            _registered.add(name)
    return _app


def __getattr__(name: str) -> typer.Typer:
    # ``app`` is the whole CLI (tests drive it with typer's runner).
    if name == "app":
        return _register()
    raise AttributeError(name)


def main() -> None:
    try:  # typer may vendor its own click
        from typer._click import exceptions as click  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover
        from click import exceptions as click  # type: ignore[no-redef]

    command = COMMANDS.get(sys.argv[1]) if len(sys.argv) > 1 else None
    app = _register((command,) if command else MODULES)
    try:
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        exc.show()  # a bare group prints its help, as a user expects
        sys.exit(2)
    except click.UsageError as exc:
        _one_line(f"{exc.format_message()} (see --help)")
        sys.exit(2)
    except click.ClickException as exc:
        _one_line(exc.format_message())
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except ModelwardError as exc:
        from rich.markup import escape

        from modelward.cli.common import err_console

        if isinstance(exc.details.get("gate"), dict):  # a refused promotion: show every rule
            from modelward.cli.governance_view import print_gate

            print_gate(exc.details["gate"], to_stderr=True)

        err_console.print(f"[red]error:[/red] {escape(exc.headline)}", highlight=False)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a path given on the command line that cannot be read or written
        where = f": {exc.filename}" if exc.filename else ""
        _one_line(f"{exc.strerror or exc}{where}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _one_line(message: str) -> None:
    from rich.markup import escape

    from modelward.cli.common import err_console

    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
