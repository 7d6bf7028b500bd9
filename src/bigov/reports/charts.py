"""Charts of an MI pack, drawn server-side with matplotlib (Agg) as inline SVG.

Each function takes the rows of a cycle document and returns an ``<svg>`` element as text, or ``""``
when there is nothing to draw. The SVG is deterministic (fixed hash salt, no dates, text kept as
text) and carries no namespace URLs or metadata, so a pack embeds it as is and stays a single
self-contained file. No domain logic: the figures come from the document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rcParams
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

rcParams["svg.hashsalt"] = "bigov"  # stable ids, so the same document gives the same pack
rcParams["svg.fonttype"] = "none"  # text stays text: smaller, searchable, crisp on a phone
rcParams["font.family"] = "sans-serif"
rcParams["font.size"] = 9

CONFIDENCE_COLOURS = {
    "green": "#2e7d32",
    "amber/green": "#9ccc65",
    "amber": "#ffb300",
    "amber/red": "#f4511e",
    "red": "#c62828",
}
LINE = {"budget": "#607d8b", "planned": "#607d8b", "forecast": "#1565c0", "actual": "#2e7d32"}

_STRIP = [
    re.compile(r"<\?xml[^>]*\?>\s*"),
    re.compile(r"<!DOCTYPE[^>]*>\s*", re.S),
    re.compile(r"<!--.*?-->\s*", re.S),
    re.compile(r"<metadata>.*?</metadata>\s*", re.S),
    re.compile(r'\s+xmlns(:\w+)?="[^"]*"'),
]


def _svg(fig: Figure, title: str) -> str:
    buf = io.StringIO()
    FigureCanvasSVG(fig).print_svg(  # type: ignore[no-untyped-call]
        buf, metadata={"Date": None, "Creator": None, "Format": None, "Type": None}
    )
    text = buf.getvalue()
    for pattern in _STRIP:
        text = pattern.sub("", text)
    # responsive: keep the viewBox, drop the fixed size, add an accessible name. The title
    # carries data (a measure's code): attribute-escaped (quotes too), and put in by a function
    # so that backslashes in it are not read as a regex replacement template.
    label = f'<svg role="img" aria-label="{escape(title, quote=True)}"'
    text = re.sub(r'<svg\s+width="[^"]*"\s+height="[^"]*"', lambda _m: label, text, count=1)
    return text.replace("xlink:href", "href").strip()


def _figure(height: float = 2.6) -> tuple[Figure, Any]:
    fig = Figure(figsize=(6.4, height))
    ax = fig.add_subplot(1, 1, 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _thin_ticks(ax: Any, labels: Sequence[str]) -> None:
    step = max(1, len(labels) // 12 + (1 if len(labels) % 12 else 0))
    ax.set_xticks(range(0, len(labels), step))
    ax.set_xticklabels([labels[i] for i in range(0, len(labels), step)], rotation=45, ha="right")


def confidence_trend(rows: list[dict[str, Any]]) -> str:
    """Stacked bars of items at each DCA level per month."""
    if not any(r.get("reports") for r in rows):
        return ""
    fig, ax = _figure()
    labels = [r["period"] for r in rows]
    bottom = [0] * len(rows)
    for level, colour in CONFIDENCE_COLOURS.items():
        vals = [int(r.get(level, 0)) for r in rows]
        ax.bar(range(len(rows)), vals, bottom=bottom, color=colour, label=level, width=0.7)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    _thin_ticks(ax, labels)
    ax.set_ylabel("items")
    ax.legend(ncol=5, fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, 1.18))
    fig.tight_layout()
    return _svg(fig, "Delivery confidence trend")


def cumulative_curve(
    rows: list[dict[str, Any]], series: Sequence[str], title: str, as_at: str
) -> str:
    """Cumulative lines (an S-curve) of ``series`` per month, with the as-at month marked."""
    if not rows:
        return ""
    fig, ax = _figure()
    labels = [r["period"] for r in rows]
    for name in series:
        xs = [i for i, r in enumerate(rows) if r.get(name) is not None]
        ys = [float(rows[i][name]) for i in xs]
        if xs:
            style = "--" if name in ("budget", "planned") else "-"
            ax.plot(xs, ys, style, color=LINE.get(name, "#444"), label=name, linewidth=1.6)
    if as_at in labels:
        ax.axvline(labels.index(as_at), color="#9e9e9e", linewidth=0.8, linestyle=":")
    _thin_ticks(ax, labels)
    ax.legend(fontsize=7, frameon=False)
    ax.yaxis.set_major_formatter(_thousands)
    fig.tight_layout()
    return _svg(fig, title)


def _thousands_fmt(value: float, _pos: int) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}m"
    if abs(value) >= 1_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:.0f}"


from matplotlib.ticker import FuncFormatter  # noqa: E402

_thousands = FuncFormatter(_thousands_fmt)


SPLIT_COLOURS = {
    "run": "#78909c",
    "grow": "#42a5f5",
    "transform": "#1565c0",
    "change": "#1565c0",
}


def run_change_split(actual: dict[str, Any], target: dict[str, Any]) -> str:
    """Stacked horizontal bars: the year's budget split by category (run / grow / transform, or
    run / change in older documents) against the target split (amounts or percentages)."""

    def shares(d: dict[str, Any]) -> dict[str, float]:
        values = {k: float(v or 0) for k, v in d.items() if k in SPLIT_COLOURS}
        total = sum(values.values())
        return {k: v / total * 100 for k, v in values.items()} if total else {}

    bars = [("Budget", shares(actual))]
    if target and shares(target):
        bars.append(("Target", shares(target)))
    if not bars[0][1]:
        return ""
    fig, ax = _figure(1.1 + 0.45 * len(bars))
    ax.grid(False)
    labelled: set[str] = set()
    for i, (_name, split) in enumerate(bars):
        left = 0.0
        for cat, share in split.items():
            label = cat if cat not in labelled else None
            labelled.add(cat)
            ax.barh(i, share, left=left, color=SPLIT_COLOURS[cat], label=label)
            if share >= 8:
                ax.text(
                    left + share / 2,
                    i,
                    f"{cat} {share:.0f}%",
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=8,
                )
            left += share
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([b[0] for b in bars])
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    fig.tight_layout()
    return _svg(fig, "Run / change split")


RAG_COLOURS = {"green": "#2e7d32", "amber": "#ffb300", "red": "#c62828"}


def measure_trend(rows: list[dict[str, Any]], title: str) -> str:
    """A measure per period as a line with each point coloured by its RAG, and its target as a
    dashed line where one is set."""
    points = [(i, r) for i, r in enumerate(rows) if r.get("value") is not None]
    if not points:
        return ""
    fig, ax = _figure(2.4)
    labels = [r["period"] for r in rows]
    ax.plot(
        [i for i, _ in points],
        [float(r["value"]) for _, r in points],
        "-",
        color="#1565c0",
        linewidth=1.4,
        label="actual",
        zorder=2,
    )
    ax.scatter(
        [i for i, _ in points],
        [float(r["value"]) for _, r in points],
        c=[RAG_COLOURS.get(r.get("rag") or "", "#9e9e9e") for _, r in points],
        s=28,
        zorder=3,
    )
    targets = [(i, float(r["target"])) for i, r in enumerate(rows) if r.get("target") is not None]
    if targets:
        ax.step(
            [i for i, _ in targets],
            [t for _, t in targets],
            "--",
            where="mid",
            color="#607d8b",
            linewidth=1.2,
            label="target",
        )
    _thin_ticks(ax, labels)
    ax.legend(fontsize=7, frameon=False)
    ax.yaxis.set_major_formatter(_thousands)
    fig.tight_layout()
    return _svg(fig, title)


__all__ = ["confidence_trend", "cumulative_curve", "measure_trend", "run_change_split"]
