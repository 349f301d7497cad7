"""``modelward export pack``: the compliance pack of a version, for an auditor."""

from __future__ import annotations

from pathlib import Path

import typer

from modelward.cli.common import JsonOpt, console, get_client, print_json

sub = typer.Typer(help="Export evidence for people outside modelward.", no_args_is_help=True)


@sub.command("pack")
def pack(
    ref: str = typer.Argument(..., help="Model version: name@champion, name/3."),
    out: Path = typer.Argument(..., help="The zip to write."),
    sign_with: Path = typer.Option(
        None, "--sign-with", help="Ed25519 private key (PEM): sign a checkpoint at the head first."
    ),
    checkpoint_id: int = typer.Option(None, "--checkpoint", help="Use this stored checkpoint."),
    as_json: bool = JsonOpt,
) -> None:
    """Card, lineage, evaluations, policy results, approvals and their audit proof, in a zip."""
    summary = get_client().export_pack(ref, out, sign_with=sign_with, checkpoint_id=checkpoint_id)
    if as_json:
        print_json(summary)
        return
    signed = (
        f"signed checkpoint at seq {summary['checkpoint_seq']}"
        if summary["checkpoint_seq"]
        else "NO signed checkpoint (pass --sign-with)"
    )
    console.print(
        f"wrote {out}: {summary['files']} files, {summary['events']} audit events, "
        f"{summary['bound']} bound to their event, {signed}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="export")
