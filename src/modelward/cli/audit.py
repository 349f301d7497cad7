"""``modelward audit …``: list, verify, export and checkpoint the audit trail."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.markup import escape

from modelward.audit.schemas import AuditVerification
from modelward.cli.common import JsonOpt, console, err_console, get_client, output, print_json
from modelward.errors import InvalidInput

sub = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

EVENT_COLUMNS = ["seq", "time", "actor", "action", "entity_type", "entity_id", "summary"]


def _entity(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    etype, _, eid = value.partition(":")
    return etype or None, eid or None


@sub.command("list")
def list_(
    actor: str = typer.Option(None, help="Only events by this actor."),
    action: str = typer.Option(None, help="An action, or a prefix ending in '*' (token.*)."),
    entity: str = typer.Option(None, help="TYPE or TYPE:ID, e.g. experiment:credit-risk."),
    since: str = typer.Option(None, help="ISO 8601 date or time (inclusive)."),
    until: str = typer.Option(None, help="ISO 8601 date or time (exclusive)."),
    limit: int = typer.Option(50, help="At most this many events."),
    oldest_first: bool = typer.Option(False, "--oldest-first", help="Oldest events first."),
    as_json: bool = JsonOpt,
) -> None:
    """List audit events, newest first."""
    entity_type, entity_id = _entity(entity)
    with get_client() as client:
        events = client.list_audit_events(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            since=since,
            until=until,
            newest_first=not oldest_first,
            limit=limit,
        )
    output(events, as_json, EVENT_COLUMNS)


def _read_keys(keys: list[str], files: list[Path]) -> list[str]:
    out = list(keys)
    for path in files:
        try:
            out.append(path.read_text())
        except OSError as exc:
            raise InvalidInput(
                f"cannot read public key file {path}: {exc.strerror}", field="public_key_file"
            ) from None
    return out


@sub.command("verify")
def verify(
    public_key: list[str] = typer.Option(
        [], "--public-key", help="Ed25519 public key (hex) that signed the checkpoints; repeatable."
    ),
    public_key_file: list[Path] = typer.Option(
        [], "--public-key-file", help="File holding such a key (hex or PEM); repeatable."
    ),
    pack: Path = typer.Option(
        None, "--pack", help="Verify a compliance pack offline instead of the store."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Recompute the hash chain: exit 0 when intact, 1 when broken (naming the first break).

    With --pack, check a compliance pack on its own: manifest, chain, signed checkpoint and
    the binding of each evidence file to its audit event. No store is opened.
    """
    keys = _read_keys(public_key, public_key_file)
    if pack is not None:
        _verify_pack(pack, keys, as_json)
        return
    with get_client() as client:
        report = client.verify_audit(keys)
    if as_json:
        print_json(report)
    elif report.intact:
        console.print(
            f"[green]audit trail intact[/green]: {report.events_checked} events, head seq "
            f"{report.head_seq} hash {report.head_hash} ({report.seconds:.2f} s)",
            highlight=False,
            soft_wrap=True,
        )
        _print_checkpoints(report, bool(keys))
    else:
        console.print(
            f"[red]audit trail BROKEN[/red] at seq {report.first_broken_seq} "
            f"({report.reason}): {report.message}",
            highlight=False,
            soft_wrap=True,
        )
    if not report.intact:
        raise typer.Exit(1)


def _verify_pack(path: Path, keys: list[str], as_json: bool) -> None:
    from dataclasses import asdict

    from modelward.governance.pack_format import verify_pack

    if len(keys) > 1:
        raise InvalidInput("--pack takes one --public-key", field="public_key")
    report = verify_pack(path, keys[0] if keys else None)
    if as_json:
        print_json(asdict(report))
    else:
        for check in report.checks:
            mark = "[green]ok[/green]  " if check.ok else "[red]FAIL[/red]"
            console.print(f"{mark} {check.name}: {escape(check.detail)}", highlight=False)
        verdict = "[green]pack verified[/green]" if report.ok else "[red]pack FAILED[/red]"
        span = f"events {report.first_seq}..{report.last_seq}"
        console.print(f"{verdict}: {span}, key from {report.key_source}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def _print_checkpoints(report: AuditVerification, keyed: bool) -> None:
    checked = report.checkpoints_checked
    if keyed:
        signed = report.signatures_verified
        console.print(
            f"checkpoints: {signed} of {checked} signed by the given key", highlight=False
        )
        if signed == 0:
            err_console.print("[yellow]warning:[/yellow] no checkpoint is signed by the given key")
    elif checked:
        console.print(
            f"checkpoints: the chain passes through all {checked} (signatures not checked: "
            "give --public-key)",
            highlight=False,
            soft_wrap=True,
        )


@sub.command("export")
def export(
    since: str = typer.Option(None, help="ISO 8601 date or time (inclusive)."),
    until: str = typer.Option(None, help="ISO 8601 date or time (exclusive)."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
    out: Path = typer.Option(None, "--out", help="File to write; default standard output."),
) -> None:
    """Export audit events in seq order as JSON Lines or CSV."""
    from modelward.audit.export import check_format

    check_format(fmt)
    with get_client() as client:
        if out is None:
            client.export_audit(sys.stdout, since=since, until=until, format=fmt)
            return
        with out.open("w", encoding="utf-8", newline="") as fh:
            count = client.export_audit(fh, since=since, until=until, format=fmt)
    err_console.print(f"exported {count} events to {out}", highlight=False)


@sub.command("keygen")
def keygen(
    out: Path = typer.Option(..., "--out", help="Where to write the private key (PEM)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Create an Ed25519 key for checkpoints; prints the public key (also written to OUT.pub)."""
    from modelward.audit.checkpoint import generate_private_key_pem

    pem, public_hex = generate_private_key_pem()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(out, flags, 0o600)  # private from the first byte
    except FileExistsError:
        raise InvalidInput(f"{out} exists; pass --force to overwrite it", field="out") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}", field="out") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = out.with_name(out.name + ".pub")
    pub.write_text(public_hex + "\n")
    console.print(f"private key written to {out} (keep it away from the database)", highlight=False)
    console.print(f"public key: {public_hex}", highlight=False, soft_wrap=True)
    console.print(f"public key written to {pub}", highlight=False)


@sub.command("checkpoint")
def checkpoint(
    key: Path = typer.Option(..., "--key", help="Ed25519 private key (PEM) from 'audit keygen'."),
    as_json: bool = JsonOpt,
) -> None:
    """Sign the chain's head here and store the signed checkpoint (the key is never sent)."""
    with get_client() as client:
        created = client.create_audit_checkpoint(key)
    if as_json:
        print_json(created)
        return
    console.print(
        f"checkpoint #{created.id} at seq {created.seq} (hash {created.head_hash}) "
        f"signed by {created.public_key}",
        highlight=False,
        soft_wrap=True,
    )


@sub.command("checkpoints")
def checkpoints(as_json: bool = JsonOpt) -> None:
    """List stored checkpoints."""
    with get_client() as client:
        rows = client.list_audit_checkpoints()
    output(rows, as_json, ["id", "seq", "head_hash", "time", "actor", "public_key"])


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="audit")
