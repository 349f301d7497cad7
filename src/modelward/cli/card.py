"""``modelward card …``: a version's model card, and its human-written sections."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from modelward.cli.common import JsonOpt, console, get_client, print_json, print_table

sub = typer.Typer(help="Model cards: generated evidence plus human sections.", no_args_is_help=True)


@sub.command("show")
def show(
    ref: str,
    format: str = typer.Option("markdown", "--format", help="markdown, html or json."),
    out: Path = typer.Option(None, "--out", help="Write to this file instead of printing."),
    card_version: int = typer.Option(None, "--card-version"),
) -> None:
    """Render a version's card."""
    if format not in ("markdown", "html", "json"):
        raise typer.BadParameter("must be markdown, html or json", param_hint="--format")
    card = get_client().get_card(ref, format=format, card_version=card_version)
    text = card.markdown if format == "markdown" else card.html
    if format == "json":
        text = json.dumps(card.model_dump(mode="json"), indent=2)
    if out is not None:
        out.write_text(text or "", encoding="utf-8")
        score = card.completeness["score"]
        console.print(
            f"wrote {out} (card v{card.card_version}, completeness {score:.0%})", highlight=False
        )
        return
    console.print(text, highlight=False, markup=False)


@sub.command("edit")
def edit(
    ref: str,
    section: list[str] = typer.Option(
        [], "--set", help="SECTION=TEXT, e.g. intended_use='Pricing ...'."
    ),
    from_file: Path = typer.Option(None, "--from", help="A JSON or YAML file of sections."),
    replace: bool = typer.Option(
        False, "--replace", help="Replace all sections instead of merging."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Write human sections (overview, intended_use, limitations, ...); a new card version."""
    sections: dict = {}  # type: ignore[type-arg]
    if from_file is not None:
        import yaml

        loaded = yaml.safe_load(from_file.read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise typer.BadParameter("must hold a mapping of section to text", param_hint="--from")
        sections.update(loaded)
    for item in section:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not SECTION=TEXT", param_hint="--set")
        sections[key.strip()] = value
    card = get_client().update_card(ref, sections, replace=replace)
    if as_json:
        print_json(card)
        return
    score = card.completeness
    console.print(
        f"{card.model}/{card.version} card v{card.card_version}: completeness {score['score']:.0%}",
        highlight=False,
    )
    if score["required_missing"]:
        print_table(
            "still required for the tier", ["field"], [[f] for f in score["required_missing"]]
        )


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="card")
