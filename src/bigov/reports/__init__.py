"""Renderers of MI packs — HTML, PDF, XLSX, charts. No domain logic: each renderer is a pure
function of a cycle's snapshot document returning bytes.

:data:`RENDERERS` is the plug-in list the cycle uses (format name → renderer); add a format by
adding an entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bigov.reports.filenames import safe_filename
from bigov.reports.html import render_html
from bigov.reports.pdf import render_pdf
from bigov.reports.xlsx import render_xlsx

Renderer = Callable[[dict[str, Any]], bytes]

RENDERERS: dict[str, Renderer] = {
    "html": render_html,
    "pdf": render_pdf,
    "xlsx": render_xlsx,
}

__all__ = ["RENDERERS", "Renderer", "render_html", "render_pdf", "render_xlsx", "safe_filename"]
