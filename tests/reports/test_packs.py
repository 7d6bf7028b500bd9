"""The HTML, PDF and XLSX packs rendered from a cycle document."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from bigov.reports import RENDERERS, render_html, render_xlsx


def test_html_is_self_contained(pg_doc: dict[str, Any]) -> None:
    html = render_html(pg_doc).decode()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)
    assert "<link" not in html and "@import" not in html
    assert not re.search(r"url\((?!#)", html)  # only in-document references (SVG clip paths)
    assert html.count("<svg") >= 2  # confidence trend and cost S-curve drawn inline
    assert 'name="viewport"' in html and "@media print" in html


def test_html_follows_the_agenda_with_exceptions_first(pg_doc: dict[str, Any]) -> None:
    html = render_html(pg_doc).decode()
    order = [
        html.index(f'id="{s}"')
        for s in ("preparation", "progress", "enablers", "prediction", "actions")
    ]
    assert order == sorted(order)
    progress = html[html.index('id="progress"') : html.index('id="enablers"')]
    assert progress.index("PRJ-2 cost forecast 8.0% over budget") < progress.index(
        "Delivery status"
    )
    assert (
        "PB3 (beyond tolerance 5.0) → PG (beyond tolerance 10.0) → PF (within tolerance 20.0)"
        in progress
    )


def test_html_is_deterministic(pg_doc: dict[str, Any]) -> None:
    assert render_html(pg_doc) == render_html(pg_doc)


def test_xlsx_has_figures_and_provenance(pg_doc: dict[str, Any]) -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(pg_doc)))
    assert {"Summary", "Exceptions", "Work", "Cost curve", "Provenance"} <= set(wb.sheetnames)
    prov = list(wb["Provenance"].iter_rows(values_only=True))
    assert prov[0] == ("figure", "table", "code", "batch_id")
    cost_rows = [r for r in prov if r[0] == "PRJ-3 cost"]
    assert len(cost_rows) == 6 and all(r[1] == "cost_line" for r in cost_rows)
    assert {r[2] for r in cost_rows} == {f"CL-PRJ-3-2026{m:02d}" for m in range(1, 7)}
    work = {r[0]: r for r in wb["Work"].iter_rows(values_only=True)}
    header = list(work["code"])
    assert work["PRJ-3"][header.index("forecast")] == 690


@pytest.mark.slow
def test_pdf_renders_and_reads_as_the_pack(pg_doc: dict[str, Any]) -> None:
    from bigov.reports.pdf import pdf_text

    pdf = RENDERERS["pdf"](pg_doc)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    text = pdf_text(pg_doc)
    pages = text.split("\f")
    assert len(pages) >= 3  # one agenda section per printed page at least from progress on
    assert "PG board" in pages[0]
    assert "PRJ-3 cost forecast 15.0% over budget" in text
    assert (
        "Path: PB3 (beyond tolerance 5.0) → PG (beyond tolerance 10.0) → PF (within tolerance 20.0)"
        in text
    )
    assert "5. Actions" in text


def test_pack_of_a_period_without_data(pg_doc: dict[str, Any]) -> None:
    empty = {
        **pg_doc,
        "has_data": False,
        "work": [],
        "headline": [],
        "cost_curve": [],
        "confidence_trend": [],
        "benefits": [],
        "benefits_curve": [],
        "exceptions": [],
    }
    html = render_html(empty).decode()
    assert "No data for this period" in html
    assert "This board governs no work items." in html
    render_xlsx(empty)
