"""The monitoring report's charts, drawn with matplotlib's Agg renderer.

Figures are built without pyplot, so drawing a report changes no global backend and leaves
no figure behind. Every figure is drawn under fixed settings (font, sizes, SVG id salt) so
the same data gives the same bytes: the report can be diffed and attached to a ticket.
Text is never read as mathtext, since feature names are user text and may contain ``$``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_SIZE = (1200, 600)
HEATMAP_MAX_FEATURES = 25
# Statistic / threshold is clipped here: past twice the threshold the colour says enough.
RATIO_MAX = 2.0
MISSING_COLOUR = "#d0d7de"
REFERENCE_COLOUR = "#8c959f"
CURRENT_COLOUR = "#0969da"
ESTIMATED_COLOUR = "#bf8700"
ALERT_COLOUR = "#cf222e"


@contextmanager
def _style(salt: str) -> Iterator[None]:
    import matplotlib

    settings: dict[Any, Any] = {
        "font.family": "DejaVu Sans",
        "font.size": 9.0,
        "axes.titlesize": 10.0,
        "axes.labelsize": 9.0,
        "svg.fonttype": "none",
        "svg.hashsalt": salt,
        "text.parse_math": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(settings):
        yield


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def to_svg(draw: Any, *args: Any, salt: str) -> str:
    """The figure ``draw(*args)`` makes, as an ``<svg>`` element to inline in HTML.

    The root's fixed width and height are dropped (its viewBox stays) so CSS can fit the
    chart to a phone's width.
    """
    with _style(salt):
        fig = draw(*args)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)


def to_png(draw: Any, *args: Any) -> bytes:
    """The figure ``draw(*args)`` makes, as PNG bytes (no date or software stamp)."""
    with _style("png"):
        fig = draw(*args)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _ratio_grid(ratios: Sequence[Sequence[float | None]]) -> Any:
    import numpy as np

    values = np.array(
        [[np.nan if r is None else min(r, RATIO_MAX) for r in row] for row in ratios],
        dtype="float64",
    )
    return np.ma.masked_invalid(values)


def _window_axis(ax: Any, labels: Sequence[str]) -> None:
    step = max(1, len(labels) // 14)  # at most ~14 tick labels whatever the period
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=35, ha="right")
    ax.set_xlim(-0.5, len(labels) - 0.5)


def _heatmap(ax: Any, drift: dict[str, Any]) -> Any:
    import matplotlib

    features = drift["features"][:HEATMAP_MAX_FEATURES]
    grid = _ratio_grid(drift["ratios"][: len(features)])
    cmap = matplotlib.colormaps["RdYlGn_r"].with_extremes(bad=MISSING_COLOUR)
    image = ax.imshow(grid, cmap=cmap, vmin=0.0, vmax=RATIO_MAX, aspect="auto")
    for row, flags in enumerate(drift["flagged"][: len(features)]):
        for col, flagged in enumerate(flags):
            if flagged:
                ax.text(col, row, "×", ha="center", va="center", color="black", fontsize=11)
    ax.set_yticks(range(len(features)), features)
    ax.set_title("Drift by feature and window (× = drifted)", loc="left")
    ax.tick_params(axis="x", labelbottom=False)
    return image


def _share_line(ax: Any, drift: dict[str, Any]) -> None:
    import numpy as np

    share = np.array([np.nan if s is None else s for s in drift["share"]], dtype="float64")
    x = np.arange(len(share))
    ax.plot(x, share, marker="o", color=CURRENT_COLOUR, linewidth=1.5, markersize=3)
    if drift.get("share_threshold") is not None:
        ax.axhline(drift["share_threshold"], color=ALERT_COLOUR, linestyle="--", linewidth=1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("drifted share")
    _window_axis(ax, drift["windows"])


def drift_figure(drift: dict[str, Any], size: tuple[float, float] | None = None) -> Figure:
    """Heatmap of statistic / threshold (features x windows) over the drifted-share line."""
    rows = min(len(drift["features"]), HEATMAP_MAX_FEATURES)
    width, height = size or (9.0, 2.6 + 0.26 * max(rows, 1))
    fig = _figure(width, height)
    top, bottom = fig.subplots(2, 1, height_ratios=[max(rows, 2), 2.2], sharex=True)
    image = _heatmap(top, drift)
    _share_line(bottom, drift)
    bar = fig.colorbar(image, ax=[top, bottom], shrink=0.8, pad=0.01)
    bar.set_label("statistic / threshold")
    return fig


def drift_png(drift: dict[str, Any]) -> bytes:
    """The drift chart at exactly 1200 x 600 pixels."""
    width, height = PNG_SIZE
    return to_png(drift_figure, drift, (width / 100, height / 100))


def distribution_figure(dist: dict[str, Any]) -> Figure:
    """Reference vs current shares over the baseline's bins (or categories), side by side."""
    import numpy as np

    labels = dist["labels"]
    x = np.arange(len(labels))
    fig = _figure(9.0, 3.0)
    ax = fig.subplots()
    ax.bar(x - 0.2, dist["reference_share"], 0.4, label="reference", color=REFERENCE_COLOUR)
    ax.bar(x + 0.2, dist["current_share"], 0.4, label="current", color=CURRENT_COLOUR)
    ax.set_xticks(x, labels, rotation=35 if len(labels) > 4 else 0, ha="right")
    ax.set_ylabel("share of rows")
    ax.set_title(dist["feature"], loc="left")
    ax.legend(frameon=False, loc="upper right")
    return fig


def performance_figure(perf: dict[str, Any]) -> Figure:
    """Realized and estimated metric lines over label-coverage bars and the holdout line."""
    import numpy as np

    def series(key: str) -> Any:
        return np.array([np.nan if v is None else v for v in perf[key]], dtype="float64")

    x = np.arange(len(perf["windows"]))
    fig = _figure(9.0, 3.4)
    ax = fig.subplots()
    cover = ax.twinx()
    cover.bar(x, series("label_coverage"), 0.6, color="#eaeef2", label="label coverage")
    cover.set_ylim(0, 1.05)
    cover.set_ylabel("label coverage")
    ax.set_zorder(cover.get_zorder() + 1)  # lines over the coverage bars
    ax.patch.set_visible(False)
    ax.plot(x, series("realized"), marker="o", color=CURRENT_COLOUR, label="realized")
    ax.plot(
        x,
        series("estimated"),
        marker="s",
        linestyle="--",
        color=ESTIMATED_COLOUR,
        label="estimated",
    )
    if perf.get("holdout") is not None:
        ax.axhline(perf["holdout"], color=REFERENCE_COLOUR, linestyle=":", label="holdout")
    ax.set_ylabel(perf["metric"])
    ax.set_title(f"{perf['metric']} by window", loc="left")
    ax.legend(frameon=False, loc="lower left", ncols=4)
    _window_axis(ax, perf["windows"])
    return fig
