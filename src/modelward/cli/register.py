"""``modelward register …``: the AI register of systems, their models, data and incidents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from modelward.cli.common import JsonOpt, console, fmt, get_client, print_json, print_table

sub = typer.Typer(
    help="The AI register: systems, their risk, owners, models, data and incidents.",
    no_args_is_help=True,
)
incident_sub = typer.Typer(help="Incidents of an AI system.", no_args_is_help=True)
sub.add_typer(incident_sub, name="incident")

LIST_COLUMNS = ["name", "risk tier", "status", "owners", "in production", "open incidents"]
HISTORY_COLUMNS = ["model", "alias", "version", "from (UTC)", "until (UTC)", "moved by"]


def _in_production(system: Any) -> list[str]:
    return [f"{m.name}/{m.production_version}" for m in system.models if m.production_version] or [
        "-"
    ]


def _owners(system: Any) -> str:
    return " / ".join(o for o in (system.business_owner, system.technical_owner) if o)


def _print_systems(systems: list[Any]) -> None:
    rows = [
        [s.name, s.risk_tier, s.status, _owners(s), _in_production(s), s.open_incidents]
        for s in systems
    ]
    print_table(None, LIST_COLUMNS, rows)


def _print_system(s: Any) -> None:
    console.print(f"[bold]{escape(s.name)}[/bold]  {s.risk_tier} risk, {s.status}", highlight=False)
    facts = [
        ("purpose", s.purpose),
        ("tier rationale", s.tier_rationale),
        ("business owner", s.business_owner),
        ("technical owner", s.technical_owner),
        (
            "decisions",
            f"{s.decision_type}, human in the loop: {'yes' if s.human_in_the_loop else 'no'}",
        ),
        ("affected people", s.affected_people),
        ("regulatory tags", s.regulatory_tags),
        ("limitations", s.limitations),
        ("production alias", s.production_alias),
    ]
    for label, value in facts:
        if value:
            console.print(f"{label}: {escape(fmt(value))}", highlight=False)
    if s.models:
        rows = [[m.name, m.production_version] for m in s.models]
        print_table("models", ["model", f"@{s.production_alias}"], rows)
    if s.datasets:
        rows = [[d.ref, d.content_hash[:12]] for d in s.datasets]
        print_table("data sources", ["dataset", "content"], rows)
    if s.evaluations:
        rows = [
            [f"{e.model}/{e.version}", e.name, e.dataset, e.metrics, e.created_at]
            for e in s.evaluations
        ]
        print_table("latest evaluations", ["version", "name", "dataset", "metrics", "at"], rows)
    if s.incidents:
        rows = [[i.id, i.severity, i.status, i.title, i.occurred_at] for i in s.incidents]
        print_table("incidents", ["id", "severity", "status", "title", "occurred"], rows)


def _fields(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


TierOpt = typer.Option(None, "--risk-tier", help="low, medium, high or critical.")
RationaleOpt = typer.Option(
    None, "--tier-rationale", help="Why this tier (needed for high/critical)."
)
PurposeOpt = typer.Option(None, "--purpose", help="What the system decides or supports.")
BusinessOpt = typer.Option(None, "--business-owner", help="Who answers for its use.")
TechnicalOpt = typer.Option(None, "--technical-owner", help="Who answers for how it works.")
DecisionOpt = typer.Option(None, "--decision-type", help="advisory or automated.")
HumanOpt = typer.Option(
    None, "--human-in-the-loop/--no-human-in-the-loop", help="Whether a person reviews decisions."
)
AffectedOpt = typer.Option(None, "--affected-people", help="Who its decisions affect.")
TagOpt = typer.Option(None, "--tag", help="Regulatory tag, e.g. EU-AI-Act:Annex-III (repeatable).")
LimitationsOpt = typer.Option(None, "--limitations", help="Known limitations.")
StatusOpt = typer.Option(None, "--status", help="proposed, in_development, in_production, retired.")
AliasOpt = typer.Option(None, "--production-alias", help="The alias meaning in production.")


@sub.command("create")
def create(
    name: str,
    risk_tier: str = typer.Option(..., "--risk-tier", help="low, medium, high or critical."),
    tier_rationale: str | None = RationaleOpt,
    purpose: str | None = PurposeOpt,
    business_owner: str | None = BusinessOpt,
    technical_owner: str | None = TechnicalOpt,
    decision_type: str | None = DecisionOpt,
    human_in_the_loop: bool | None = HumanOpt,
    affected_people: str | None = AffectedOpt,
    tag: list[str] | None = TagOpt,
    limitations: str | None = LimitationsOpt,
    status: str | None = StatusOpt,
    production_alias: str | None = AliasOpt,
    model: list[str] | None = typer.Option(None, "--model", help="Model to attach (repeatable)."),
    dataset: list[str] | None = typer.Option(
        None, "--dataset", help="Data source NAME/VERSION (repeatable)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Enter an AI system in the register."""
    fields = _fields(
        tier_rationale=tier_rationale,
        purpose=purpose,
        business_owner=business_owner,
        technical_owner=technical_owner,
        decision_type=decision_type,
        human_in_the_loop=human_in_the_loop,
        affected_people=affected_people,
        regulatory_tags=tag,
        limitations=limitations,
        status=status,
        production_alias=production_alias,
        models=model,
        datasets=dataset,
    )
    system = get_client().create_system(name, risk_tier=risk_tier, **fields)
    if as_json:
        print_json(system)
        return
    console.print(
        f"registered AI system {escape(system.name)} ({system.risk_tier} risk)", highlight=False
    )


@sub.command("update")
def update(
    name: str,
    risk_tier: str | None = TierOpt,
    tier_rationale: str | None = RationaleOpt,
    purpose: str | None = PurposeOpt,
    business_owner: str | None = BusinessOpt,
    technical_owner: str | None = TechnicalOpt,
    decision_type: str | None = DecisionOpt,
    human_in_the_loop: bool | None = HumanOpt,
    affected_people: str | None = AffectedOpt,
    tag: list[str] | None = typer.Option(
        None, "--tag", help="Regulatory tag (repeatable); replaces the current tags."
    ),
    clear_tags: bool = typer.Option(False, "--clear-tags", help="Remove every regulatory tag."),
    limitations: str | None = LimitationsOpt,
    status: str | None = StatusOpt,
    production_alias: str | None = AliasOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Change some fields of a system (changing the risk tier needs the approver role)."""
    fields = _fields(
        risk_tier=risk_tier,
        tier_rationale=tier_rationale,
        purpose=purpose,
        business_owner=business_owner,
        technical_owner=technical_owner,
        decision_type=decision_type,
        human_in_the_loop=human_in_the_loop,
        affected_people=affected_people,
        regulatory_tags=[] if clear_tags else (tag or None),
        limitations=limitations,
        status=status,
        production_alias=production_alias,
    )
    system = get_client().update_system(name, **fields)
    if as_json:
        print_json(system)
        return
    console.print(f"updated AI system {escape(system.name)}", highlight=False)


@sub.command("list")
def list_(
    risk_tier: str | None = TierOpt,
    status: str | None = StatusOpt,
    owner: str | None = typer.Option(None, "--owner", help="Business or technical owner."),
    tag: str | None = typer.Option(None, "--tag", help="Systems with this regulatory tag."),
    model: str | None = typer.Option(None, "--model", help="The system of this model."),
    as_json: bool = JsonOpt,
) -> None:
    """List the systems of the register, by name."""
    systems = get_client().list_systems(
        risk_tier=risk_tier, status=status, owner=owner, regulatory_tag=tag, model=model
    )
    if as_json:
        print_json(systems)
        return
    _print_systems(systems)


@sub.command("show")
def show(name: str, as_json: bool = JsonOpt) -> None:
    """A system: its facts, models in production, data sources, evaluations and incidents."""
    system = get_client().get_system(name)
    if as_json:
        print_json(system)
        return
    _print_system(system)


@sub.command("history")
def history(
    name: str,
    at: str | None = typer.Option(
        None, "--at", help="ISO date or date-time (UTC unless a zone is given)."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """What each model of the system had in production: at --at, or over time."""
    intervals = get_client().system_history(name, at=at)
    if as_json:
        print_json([i.model_dump(mode="json") for i in intervals])
        return
    rows = [
        [
            i.model,
            i.alias,
            "unset" if i.version is None else i.version,
            i.from_,
            i.until,
            i.moved_by,
        ]
        for i in intervals
    ]
    print_table(None, HISTORY_COLUMNS, rows)


@sub.command("attach")
def attach(name: str, model: str) -> None:
    """Make registered model MODEL part of system NAME."""
    get_client().attach_model(name, model)
    console.print(f"attached {escape(model)} to {escape(name)}", highlight=False)


@sub.command("detach")
def detach(name: str, model: str) -> None:
    """Take MODEL out of system NAME."""
    get_client().detach_model(name, model)
    console.print(f"detached {escape(model)} from {escape(name)}", highlight=False)


@sub.command("link")
def link(name: str, dataset: str = typer.Argument(..., help="NAME/VERSION")) -> None:
    """Record dataset version DATASET as a data source of system NAME."""
    get_client().link_dataset(name, dataset)
    console.print(f"linked {escape(dataset)} to {escape(name)}", highlight=False)


@sub.command("unlink")
def unlink(name: str, dataset: str = typer.Argument(..., help="NAME/VERSION")) -> None:
    """Remove dataset version DATASET from the data sources of system NAME."""
    get_client().unlink_dataset(name, dataset)
    console.print(f"unlinked {escape(dataset)} from {escape(name)}", highlight=False)


@incident_sub.command("report")
def incident_report(
    name: str,
    title: str = typer.Option(..., "--title", help="One line: what went wrong."),
    severity: str = typer.Option(..., "--severity", help="low, medium, high or critical."),
    occurred_at: str | None = typer.Option(
        None, "--occurred-at", help="ISO date-time (UTC unless a zone is given); default now."
    ),
    description: str = typer.Option("", "--description", help="What happened, in detail."),
    as_json: bool = JsonOpt,
) -> None:
    """Record an incident of system NAME."""
    incident = get_client().report_incident(
        name, title=title, severity=severity, occurred_at=occurred_at, description=description
    )
    if as_json:
        print_json(incident)
        return
    console.print(f"incident {incident.id} reported for {escape(name)}", highlight=False)


@incident_sub.command("resolve")
def incident_resolve(name: str, incident_id: int) -> None:
    """Close incident INCIDENT_ID of system NAME."""
    incident = get_client().resolve_incident(name, incident_id)
    console.print(f"incident {incident.id} of {escape(name)} resolved", highlight=False)


@sub.command("export")
def export(
    out: Path = typer.Argument(..., help="File to write."),
    format: str = typer.Option("csv", "--format", help="csv or json."),
) -> None:
    """Write the whole register to OUT, one row per system."""
    count = get_client().export_register(out, format=format)
    console.print(f"wrote {count} systems to {escape(str(out))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="register")
