"""Small server-side SVG charts for the pages (a line per series), drawn with presentation
attributes only so they render under the page's strict CSP (no style attributes), each with a
text alternative and the data as a table next to it in the templates."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

COLOURS = ("#0b57a4", "#1e6b24", "#52606d", "#a4161a", "#8a4b00")
DASHES = ("", "6 3", "2 3", "", "")


def lines(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    y_labels: dict[float, str] | None = None,
    width: int = 640,
    height: int = 220,
) -> str:
    """An SVG line chart of ``series`` (name, values by label) over ``labels``; ``""`` when
    there is nothing to draw."""
    values = [v for _, vs in series for v in vs if v is not None]
    if not labels or not values:
        return ""
    left, right, top, bottom = 92, 28, 12, 36
    lo = min(values + list((y_labels or {}).keys()))
    hi = max(values + list((y_labels or {}).keys()))
    if hi == lo:
        hi = lo + 1
    w, h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (w * i / max(len(labels) - 1, 1))

    def y(v: float) -> float:
        return top + h - (v - lo) / (hi - lo) * h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title, quote=True)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#52606d"/>',
    ]
    ticks = y_labels or {lo: _short(lo), (lo + hi) / 2: _short((lo + hi) / 2), hi: _short(hi)}
    for v, text in ticks.items():
        parts.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + w}" y2="{y(v):.1f}" stroke="#e4e7eb"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#1f2933">'
            f"{escape(text)}</text>"
        )
    step = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        last = i == len(labels) - 1
        if (i % step == 0 and len(labels) - 1 - i >= step / 2) or last:
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + h + 16}" text-anchor="middle" fill="#1f2933">'
                f"{escape(label)}</text>"
            )
    for k, (name, vs) in enumerate(series):
        colour, dash = COLOURS[k % len(COLOURS)], DASHES[k % len(DASHES)]
        points = [(x(i), y(v)) for i, v in enumerate(vs) if v is not None]
        if not points:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{extra}/>'
        )
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        parts.append(
            f'<text x="{left + 4 + 110 * k}" y="{height - 4}" fill="{colour}">'
            f"— {escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def short(v: float) -> str:
    """A compact label for an amount (12.3m, 450k, 12)."""
    return _short(v)


def _short(v: float) -> str:
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.1f}m"
    if a >= 1e3:
        return f"{v / 1e3:.0f}k"
    return f"{v:.0f}" if v == round(v) else f"{v:.1f}"


__all__ = ["lines", "short"]
