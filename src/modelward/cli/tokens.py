"""``modelward token …``: API tokens for a server (admin only)."""

from __future__ import annotations

import typer

from modelward.cli.common import JsonOpt, console, get_client, output, print_json

sub = typer.Typer(
    help="API tokens: each has a role; secrets are stored only as hashes.", no_args_is_help=True
)

COLUMNS = ["id", "name", "role", "prefix", "created_by", "created_at", "revoked_at"]


@sub.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who or what will use the token."),
    role: str = typer.Option("developer", "--role", help="viewer, developer, approver or admin."),
    as_json: bool = JsonOpt,
) -> None:
    """Create a token and print its secret (shown this once only)."""
    with get_client() as client:
        created = client.create_token(name, role=role)
    if as_json:
        print_json(created)
        return
    console.print(
        f"token #{created.id} {created.name!r} with role {created.role} created.\n"
        "Its secret is shown only now; store it safely (e.g. as MODELWARD_TOKEN):",
        highlight=False,
    )
    console.print(created.token, highlight=False, soft_wrap=True)


@sub.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """List tokens (never their secrets)."""
    with get_client() as client:
        tokens = client.list_tokens()
    output(tokens, as_json, COLUMNS)


@sub.command("revoke")
def revoke(
    token_id: int = typer.Argument(..., help="The token's id (see 'token list')."),
    as_json: bool = JsonOpt,
) -> None:
    """Revoke a token: requests that present it are refused from now on."""
    with get_client() as client:
        revoked = client.revoke_token(token_id)
    if as_json:
        print_json(revoked)
        return
    console.print(f"token #{revoked.id} {revoked.name!r} revoked", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="token")
    # The plural reads naturally too ("tokens list"); one spelling in the help.
    app.add_typer(sub, name="tokens", hidden=True)
