"""``modelward models …`` and ``modelward lineage REF``."""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape
from rich.tree import Tree

from modelward.cli.common import JsonOpt, console, fmt, get_client, output, print_json, print_table

sub = typer.Typer(help="Registered models, their versions and aliases.", no_args_is_help=True)
alias_sub = typer.Typer(
    help="Movable names (candidate, champion, …) for versions.", no_args_is_help=True
)
sub.add_typer(alias_sub, name="alias")

MODEL_COLUMNS = ["name", "latest_version", "aliases", "owner", "description", "updated_at"]
VERSION_COLUMNS = ["version", "status", "aliases", "flavor", "run_id", "created_by", "created_at"]


def _version_rows(versions: list[Any]) -> list[list[Any]]:
    return [
        [v.version, v.status, v.aliases, v.flavor, v.run_id, v.created_by, v.created_at]
        for v in versions
    ]


@sub.command("list")
def list_(as_json: bool = JsonOpt) -> None:
    """List registered models."""
    output(get_client().list_registered_models(), as_json, MODEL_COLUMNS)


@sub.command("show")
def show(name: str, as_json: bool = JsonOpt) -> None:
    """A model, its tags, and its versions with their aliases."""
    client = get_client()
    model = client.get_registered_model(name)
    versions = client.list_versions(name)
    if as_json:
        print_json({**model.model_dump(mode="json"), "versions": [v.info for v in versions]})
        return
    console.print(f"[bold]{model.name}[/bold]  owner {escape(model.owner)}", highlight=False)
    if model.description:
        console.print(escape(model.description), highlight=False)
    if model.tags:
        console.print(f"tags: {escape(fmt(model.tags))}", highlight=False)
    print_table(f"versions of {model.name}", VERSION_COLUMNS, _version_rows(versions))


@sub.command("versions")
def versions(
    name: str,
    active_only: bool = typer.Option(False, "--active", help="Leave out archived versions."),
    as_json: bool = JsonOpt,
) -> None:
    """List a model's versions, newest first."""
    found = get_client().list_versions(name, include_archived=not active_only)
    if as_json:
        print_json([v.info for v in found])
        return
    print_table(
        None,
        [*VERSION_COLUMNS, "digest"],
        [[*r, v.digest] for r, v in zip(_version_rows(found), found, strict=True)],
    )


@sub.command("archive")
def archive(ref: str) -> None:
    """Archive a version (NAME/3, NAME@ALIAS or NAME for the latest)."""
    version = get_client().archive_version(ref)
    console.print(f"archived {version.ref}", highlight=False)


@sub.command("delete")
def delete(
    ref: str, yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
) -> None:
    """Delete a version; refused while an alias points at it."""
    client = get_client()
    target = client.get_version(ref)
    if not yes:
        typer.confirm(f"delete {target.ref} (sha256:{target.digest[:12]})?", abort=True)
    client.delete_version(target.ref)
    console.print(f"deleted {target.ref}", highlight=False)


@alias_sub.command("set")
def alias_set(name: str, alias: str, version: int) -> None:
    """Point ALIAS of model NAME at VERSION."""
    out = get_client().set_alias(name, alias, version)
    console.print(f"{out.model}@{out.alias} → version {out.version}", highlight=False)


@alias_sub.command("delete")
def alias_delete(name: str, alias: str) -> None:
    """Remove ALIAS from model NAME."""
    out = get_client().delete_alias(name, alias)
    console.print(f"removed {out.model}@{out.alias} (was version {out.version})", highlight=False)


@alias_sub.command("list")
def alias_list(name: str, as_json: bool = JsonOpt) -> None:
    """List the aliases of model NAME."""
    output(
        get_client().list_aliases(name), as_json, ["alias", "version", "updated_by", "updated_at"]
    )


def _node_label(node: Any) -> str:
    aliases = f"  [green]@{', @'.join(node.aliases)}[/green]" if node.aliases else ""
    archived = "  [yellow](archived)[/yellow]" if node.status != "active" else ""
    return (
        f"[bold]{escape(node.ref)}[/bold]{aliases}{archived}  {node.flavor}  "
        f"sha256:{node.digest[:12]}  by {escape(node.created_by)} {fmt(node.created_at)}"
    )


def version_tree(lineage: Any) -> Tree:
    """A version's lineage as a rich Tree: run, datasets, code, parents."""
    tree = Tree(_node_label(lineage.version))
    run = lineage.run
    if run is None:
        tree.add("run: [dim]none recorded[/dim]")
    else:
        branch = tree.add(
            f"run [bold]{run.id}[/bold] {escape(run.name)}  experiment "
            f"[bold]{escape(run.experiment)}[/bold]  {run.status}"
        )
        if run.params:
            more = (
                f" (+{run.params_total - len(run.params)} more)"
                if run.params_total > len(run.params)
                else ""
            )
            branch.add(f"params: {escape(fmt(run.params))}{more}")
        if run.metrics:
            branch.add(f"metrics: {escape(fmt(run.metrics))}")
    code = lineage.code
    if code is not None:
        dirty = " [yellow](uncommitted changes)[/yellow]" if code.dirty else ""
        on = f" on {escape(code.branch)}" if code.branch else ""
        tree.add(f"code: git {escape(code.commit or '')}{on}{dirty}")
    datasets = tree.add("datasets" if lineage.datasets else "datasets: [dim]none recorded[/dim]")
    for d in lineage.datasets:
        datasets.add(
            f"{escape(d.role)}: [bold]{escape(d.dataset)}/{d.version}[/bold]  "
            f"content {d.content_hash[:12]}"
        )
    if lineage.parents:
        parents = tree.add("parents")
        for node in lineage.parents:
            parents = parents.add(_node_label(node))
    return tree


def dataset_tree(lineage: Any) -> Tree:
    """A dataset version's users as a rich Tree: model versions, then runs."""
    d = lineage.dataset
    tree = Tree(f"dataset [bold]{escape(d.ref)}[/bold]  content {d.content_hash[:12]}")
    versions = tree.add(
        "model versions" if lineage.model_versions else "model versions: [dim]none[/dim]"
    )
    for use in lineage.model_versions:
        versions.add(f"{_node_label(use.version)}  as {escape(', '.join(use.roles))}")
    runs = tree.add("runs" if lineage.runs else "runs: [dim]none[/dim]")
    for run in lineage.runs:
        runs.add(
            f"{run.id} {escape(run.name)}  experiment {escape(run.experiment)}  "
            f"as {escape(', '.join(run.roles))}"
        )
    return tree


def lineage(
    ref: str = typer.Argument(..., help="NAME/3, NAME@ALIAS or NAME; a dataset with --dataset."),
    dataset: bool = typer.Option(
        False, "--dataset", help="REF is a dataset version: show its users."
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Show where a model version came from (or, with --dataset, what a dataset fed)."""
    client = get_client()
    found = client.get_dataset_lineage(ref) if dataset else client.get_version_lineage(ref)
    if as_json:
        print_json(found)
        return
    console.print(dataset_tree(found) if dataset else version_tree(found))


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="models")
    app.command("lineage")(lineage)
