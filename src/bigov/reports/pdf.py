"""The PDF MI pack: the HTML pack printed by WeasyPrint (its print stylesheet: A4, one agenda
section per page, rows never split). No network and no files: the HTML is self-contained, and the
URL fetcher WeasyPrint is given refuses every URL but ``data:`` — so even markup that slipped into
the pack (an ``<img src=http://…>`` or an ``<a rel=attachment href=file:///…>``) fetches nothing
and embeds nothing; a refused URL is skipped with a WeasyPrint log line, the pack still renders."""

from __future__ import annotations

import re
import warnings
from typing import Any

from bigov.reports.html import render_html


def render_pdf(doc: dict[str, Any]) -> bytes:
    """The pack of a cycle document as PDF bytes."""
    return html_to_pdf(render_html(doc).decode("utf-8"))


def render_pdf_from_html(html: bytes) -> bytes:
    """The PDF of an HTML pack already rendered (the HTML and PDF of a cycle are rendered from
    one HTML: laying out the pack twice was a third of a PDF's time)."""
    return html_to_pdf(html.decode("utf-8"))


def html_to_pdf(html: str) -> bytes:
    """HTML text printed to PDF bytes with nothing fetched but ``data:`` URLs."""
    html_cls, fetcher = _weasyprint_html(), _url_fetcher()
    pdf: bytes = html_cls(
        string=_resolved_css(html), base_url=None, url_fetcher=fetcher
    ).write_pdf()
    return pdf


_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_ROOT = re.compile(r":root\s*\{([^}]*)\}")
_VAR = re.compile(r"var\((--[\w-]+)\)")


def _resolved_css(html: str) -> str:
    """The pack with its stylesheet's custom properties (``var(--ink)``) replaced by their
    values from ``:root``: WeasyPrint resolves a ``var()`` for every element that inherits it,
    about a tenth of a PDF's time. Only the first ``<style>`` block (the pack's own, before any
    data) is touched; a name ``:root`` does not define is left as it was."""
    style = _STYLE.search(html)
    if style is None:
        return html
    css = style.group(1)
    root = _ROOT.search(css)
    if root is None:
        return html
    values = dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", root.group(1)))
    resolved = _VAR.sub(lambda m: values.get(m.group(1), m.group(0)).strip(), css)
    return html[: style.start(1)] + resolved + html[style.end(1) :]


def pdf_text(doc: dict[str, Any]) -> str:
    """The text WeasyPrint lays out on the pages of the PDF, page by page — what a reader of the
    PDF sees (used by tests and checks; no PDF text extractor needed)."""
    html_cls = _weasyprint_html()
    document = html_cls(
        string=_resolved_css(render_html(doc).decode("utf-8")),
        base_url=None,
        url_fetcher=_url_fetcher(),
    ).render()
    pages: list[str] = []
    for page in document.pages:
        parts: list[str] = []
        _walk(page._page_box, parts)
        pages.append(" ".join(parts))
    return "\n\f".join(pages)


def _weasyprint_html() -> Any:
    """WeasyPrint's HTML class, imported on first use (it is heavy). WeasyPrint warns at import when
    the system lacks HarfBuzz-Subset, an optional library today; that is about the host, not the
    pack, so the warning is not allowed to fail a run that treats warnings as errors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML
    return HTML


def _url_fetcher() -> Any:
    """WeasyPrint's own fetcher limited to ``data:`` URLs, redirects off: anything else (file,
    http, ftp, relative paths) is refused before any I/O. The pack has no packaged assets (its CSS
    is inline and its charts inline SVG), so nothing else is ever legitimately needed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint.urls import URLFetcher
    return URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def _walk(box: Any, out: list[str]) -> None:
    text = getattr(box, "text", None)
    if isinstance(text, str) and text.strip():
        out.append(text.strip())
    for child in getattr(box, "children", []) or []:
        _walk(child, out)


__all__ = ["html_to_pdf", "pdf_text", "render_pdf", "render_pdf_from_html"]
