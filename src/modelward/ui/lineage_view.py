"""A version's lineage as a left-to-right graph of inline SVG: data and code feed the run,
the run (and the parent version) produce the version, the version serves on endpoints.

The drawing is a picture of the same facts the page lists as text; every node that has a
page is a link, so the graph is navigable with the keyboard as well as the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

NODE_W = 190
NODE_H = 46
COL_GAP = 56
ROW_GAP = 14
PAD = 10
MAX_PER_COLUMN = 12  # beyond this the text list below carries the rest

KIND_STYLE = {
    "dataset": ("#ddf4ff", "#54aeff"),
    "code": ("#f6f8fa", "#afb8c1"),
    "run": ("#fbefff", "#c297ff"),
    "parent": ("#f6f8fa", "#8c959f"),
    "version": ("#0b5cad", "#0b5cad"),
    "endpoint": ("#dafbe1", "#4ac26b"),
}


@dataclass
class Node:
    key: str
    kind: str
    title: str
    subtitle: str
    href: str | None = None


@dataclass
class Graph:
    """Columns of nodes, left to right, and edges (from key, to key)."""

    columns: list[list[Node]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)


def _page(name: str, version: int) -> str:
    return f"/models/{quote(name, safe='')}/versions/{version}"


def build_graph(lineage: Any, endpoints: list[tuple[str, str]]) -> Graph:
    """The graph of a ``VersionLineage``; ``endpoints`` are (name, how it serves the version)."""
    me = lineage.version
    feeds: list[Node] = [
        Node(
            key=f"d:{d.dataset}/{d.version}",
            kind="dataset",
            title=f"{d.dataset} v{d.version}",
            subtitle=f"dataset · {d.role}",
        )
        for d in lineage.datasets
    ]
    if lineage.code is not None and lineage.code.commit:
        dirty = " (uncommitted changes)" if lineage.code.dirty else ""
        branch = f"{lineage.code.branch} · " if lineage.code.branch else ""
        feeds.append(
            Node(
                key="code",
                kind="code",
                title=f"commit {lineage.code.commit[:10]}",
                subtitle=f"{branch}code{dirty}",
            )
        )
    makers: list[Node] = []
    if lineage.run is not None:
        makers.append(
            Node(
                key="run",
                kind="run",
                title=f"run {lineage.run.name}",
                subtitle=f"{lineage.run.experiment} · {lineage.run.status.lower()}",
                href=f"/runs/{quote(lineage.run.id, safe='')}",
            )
        )
    if lineage.parents:
        p = lineage.parents[0]
        makers.append(
            Node(
                key="parent",
                kind="parent",
                title=f"{p.name} v{p.version}",
                subtitle="parent version",
                href=_page(p.name, p.version),
            )
        )
    aliases = " ".join(f"@{a}" for a in me.aliases)
    centre = Node(
        key="version",
        kind="version",
        title=f"{me.name} v{me.version}",
        subtitle=aliases or me.flavor,
        href=_page(me.name, me.version),
    )
    served = [
        Node(
            key=f"e:{name}",
            kind="endpoint",
            title=name,
            subtitle=how,
            href=f"/deployments/{quote(name, safe='')}",
        )
        for name, how in endpoints
    ]
    graph = Graph()
    edges: list[tuple[str, str]] = []
    if makers:
        if feeds:
            graph.columns.append(feeds)
            target = "run" if lineage.run is not None else "version"
            edges += [(n.key, target) for n in feeds]
        graph.columns.append(makers)
        edges += [(n.key, "version") for n in makers]
    elif feeds:
        graph.columns.append(feeds)
        edges += [(n.key, "version") for n in feeds]
    graph.columns.append([centre])
    if served:
        graph.columns.append(served)
        edges += [("version", n.key) for n in served]
    graph.edges = edges
    return graph


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(graph: Graph, *, label: str) -> Markup:
    """The graph as an SVG picture; nodes with a page are ``<a>`` links."""
    shown, merged = _fold(graph.columns)
    tallest = max((len(c) for c in shown), default=1)
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP
    width = PAD * 2 + len(shown) * NODE_W + (len(shown) - 1) * COL_GAP
    where: dict[str, tuple[float, float]] = {}
    for i, col in enumerate(shown):
        x = PAD + i * (NODE_W + COL_GAP)
        block = len(col) * NODE_H + (len(col) - 1) * ROW_GAP
        top = (height - block) / 2
        for j, node in enumerate(col):
            where[node.key] = (x, top + j * (NODE_H + ROW_GAP))
    text = escape(label)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text}" class="lineage-graph">'
        f"<title>{text}</title>"
        '<defs><marker id="lineage-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#8c959f"/></marker></defs>'
        '<g fill="none" stroke="#8c959f" stroke-width="1.5">'
    ]
    drawn: set[tuple[str, str]] = set()
    for edge in graph.edges:
        src, dst = (merged.get(k, k) for k in edge)
        if src not in where or dst not in where or (src, dst) in drawn:
            continue
        drawn.add((src, dst))
        (x0, y0), (x1, y1) = where[src], where[dst]
        sx, sy = x0 + NODE_W, y0 + NODE_H / 2
        ex, ey = x1 - 2, y1 + NODE_H / 2
        mid = (sx + ex) / 2
        out.append(
            f'<path d="M{sx:.1f},{sy:.1f} C{mid:.1f},{sy:.1f} {mid:.1f},{ey:.1f} '
            f'{ex:.1f},{ey:.1f}" marker-end="url(#lineage-arrow)"/>'
        )
    out.append("</g>")
    for col in shown:
        for node in col:
            out.append(_node_svg(node, *where[node.key]))
    out.append("</svg>")
    return Markup("".join(out))


def _fold(columns: list[list[Node]]) -> tuple[list[list[Node]], dict[str, str]]:
    """Columns cut to ``MAX_PER_COLUMN`` nodes, the rest folded into one "+N more" node;
    and which node each folded one is drawn as (its edges go to the "more" node)."""
    shown: list[list[Node]] = []
    merged: dict[str, str] = {}
    for i, col in enumerate(columns):
        if len(col) <= MAX_PER_COLUMN:
            shown.append(col)
            continue
        keep, rest = col[: MAX_PER_COLUMN - 1], col[MAX_PER_COLUMN - 1 :]
        more = Node(
            key=f"more:{i}", kind="more", title=f"+{len(rest)} more", subtitle="listed below"
        )
        merged.update({n.key: more.key for n in rest})
        shown.append([*keep, more])
    return shown, merged


def _node_svg(node: Node, x: float, y: float) -> str:
    fill, stroke = KIND_STYLE.get(node.kind, ("#f6f8fa", "#afb8c1"))
    ink = "#ffffff" if node.kind == "version" else "#1b1f24"
    soft = "#ddf4ff" if node.kind == "version" else "#59636e"
    body = (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="6" '
        f'fill="{fill}" stroke="{stroke}"/>'
        f'<text x="{x + 10:.1f}" y="{y + 19:.1f}" font-size="13" font-weight="600" '
        f'fill="{ink}">{escape(_trim(node.title, 24))}</text>'
        f'<text x="{x + 10:.1f}" y="{y + 36:.1f}" font-size="11" fill="{soft}">'
        f"{escape(_trim(node.subtitle, 30))}</text>"
    )
    tip = escape(f"{node.title} ({node.subtitle})")
    if node.href is None:
        return f"<g><title>{tip}</title>{body}</g>"
    return f'<a href="{escape(node.href)}" class="lineage-node"><title>{tip}</title>{body}</a>'
