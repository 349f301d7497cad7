"""``modelward promote`` and ``modelward promotion …``: requests, approvals, moves."""

from __future__ import annotations

import typer

from modelward.cli.common import JsonOpt, console, fmt, get_client, print_json, print_table

sub = typer.Typer(help="Promotion requests and their approvals.", no_args_is_help=True)

COLUMNS = ["id", "ref", "alias", "status", "approvals", "requested_by", "requested_at"]


def _rows(items: list) -> list[list]:  # type: ignore[type-arg]
    return [
        [
            p.id,
            f"{p.model}/{p.version}",
            p.target_alias,
            p.status,
            ", ".join(f"{a.approver}:{a.decision}" for a in p.approvals),
            p.requested_by,
            p.requested_at,
        ]
        for p in items
    ]


def _show(p, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        print_json(p)
        return
    print_table(f"promotion request {p.id}", COLUMNS, _rows([p]))
    for a in p.approvals:
        console.print(
            f"  {a.decision} by {a.approver} ({a.approver_role}) {fmt(a.created_at)}: {a.comment}",
            highlight=False,
            markup=False,
        )


@sub.command("request")
def request(
    ref: str = typer.Argument(..., help="Model version: name/3 or name@candidate."),
    to: str = typer.Option(..., "--to", help="Target alias, e.g. champion."),
    comment: str = typer.Option("", "--comment"),
    expires_in_days: int = typer.Option(None, "--expires-in-days"),
    as_json: bool = JsonOpt,
) -> None:
    """Ask approvers to let REF move to --to."""
    _show(
        get_client().request_promotion(ref, to, comment=comment, expires_in_days=expires_in_days),
        as_json,
    )


@sub.command("approve")
def approve(
    request_id: int, comment: str = typer.Option("", "--comment"), as_json: bool = JsonOpt
) -> None:
    """Approve a request (you may not approve your own version or request)."""
    _show(get_client().approve(request_id, comment), as_json)


@sub.command("reject")
def reject(
    request_id: int, comment: str = typer.Option("", "--comment"), as_json: bool = JsonOpt
) -> None:
    """Reject a request; it closes."""
    _show(get_client().reject(request_id, comment), as_json)


@sub.command("list")
def list_(
    model: str = typer.Option(None, "--model"),
    status: str = typer.Option(None, "--status", help="open, completed, superseded, rejected."),
    as_json: bool = JsonOpt,
) -> None:
    """Promotion requests, newest first."""
    items = get_client().list_promotions(model, status)
    if as_json:
        print_json(items)
        return
    print_table("promotion requests", COLUMNS, _rows(items))


@sub.command("show")
def show(request_id: int, as_json: bool = JsonOpt) -> None:
    _show(get_client().get_promotion(request_id), as_json)


def promote(
    ref: str = typer.Argument(..., help="Model version: name/3 or name@candidate."),
    to: str = typer.Option(..., "--to", help="Target alias, e.g. champion."),
    override: str = typer.Option(
        None, "--override", help="Admin only: move despite failed rules, with this justification."
    ),
) -> None:
    """Move alias --to onto REF, through the policy gate (exit 1 and the rule table if refused)."""
    client = get_client()
    version = client.get_version(ref)
    out = client.set_alias(version.name, to, version.version, override=override)
    how = " (override recorded)" if override else ""
    console.print(f"{out.model}@{out.alias} → version {out.version}{how}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="promotion")
    app.command("promote")(promote)
