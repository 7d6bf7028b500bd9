"""Renderers of MI packs — HTML, PDF, XLSX, charts. No domain logic: each renderer is a pure
function of a cycle's snapshot document returning bytes.

:data:`RENDERERS` is the plug-in list the cycle uses (format name → renderer); add a format by
adding an entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bigov.reports.filenames import safe_filename
from bigov.reports.html import render_html
from bigov.reports.pdf import render_pdf, render_pdf_from_html
from bigov.reports.xlsx import render_xlsx

Renderer = Callable[[dict[str, Any]], bytes]

RENDERERS: dict[str, Renderer] = {
    "html": render_html,
    "pdf": render_pdf,
    "xlsx": render_xlsx,
}


def render_formats(doc: dict[str, Any], formats: Sequence[str]) -> dict[str, bytes]:
    """The packs of one cycle document in ``formats`` (each a key of :data:`RENDERERS`), the
    PDF printed from the same HTML as the HTML pack instead of rendering it again."""
    out: dict[str, bytes] = {}
    html: bytes | None = None
    for fmt in formats:
        if fmt in ("html", "pdf") and RENDERERS[fmt] in (render_html, render_pdf):
            html = html if html is not None else render_html(doc)
            out[fmt] = html if fmt == "html" else render_pdf_from_html(html)
        else:
            out[fmt] = RENDERERS[fmt](doc)
    return out


__all__ = [
    "RENDERERS",
    "Renderer",
    "render_formats",
    "render_html",
    "render_pdf",
    "render_xlsx",
    "safe_filename",
]
