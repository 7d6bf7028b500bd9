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


def test_html_is_a_decision_document_with_the_boards_exceptions_first(
    pg_doc: dict[str, Any],
) -> None:
    html = render_html(pg_doc).decode()
    order = [
        html.index(f'id="{s}"')
        for s in (
            "summary",
            "decisions",
            "exceptions",
            "strategy",
            "money",
            "benefits",
            "people",
            "risks",
            "actions",
            "appendix-a",
            "appendix-b",
        )
    ]
    assert order == sorted(order)
    summary = html[html.index('id="summary"') : html.index('id="decisions"')]
    assert "Project 2: forecast 8.0% over budget" in summary  # PG owns PRJ-2's overspend
    exceptions = html[html.index('id="exceptions"') : html.index('id="strategy"')]
    assert "Project 2: forecast 8.0% over budget" in exceptions
    assert "PB2 (tolerance 5.0) → PG (tolerance 10.0)" in exceptions
    # PRJ-3 is beyond PG's tolerance: passed on to PF, listed in section 1, not a card of PG
    decisions = html[html.index('id="decisions"') : html.index('id="exceptions"')]
    assert "Project 3: forecast 15.0% over budget" in decisions
    assert "Project 3: forecast 15.0% over budget" not in exceptions


def test_html_is_deterministic(pg_doc: dict[str, Any]) -> None:
    assert render_html(pg_doc) == render_html(pg_doc)


def test_xlsx_has_figures_and_provenance(pg_doc: dict[str, Any]) -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(pg_doc)))
    assert {"Summary", "Figures", "Exceptions", "Work", "Cost curve", "Provenance"} <= set(
        wb.sheetnames
    )
    prov = list(wb["Provenance"].iter_rows(values_only=True))
    assert prov[0] == ("figure", "table", "code", "batch_id")
    cost_rows = [r for r in prov if r[0] == "PRJ-3 cost"]
    assert len(cost_rows) == 6 and all(r[1] == "cost_line" for r in cost_rows)
    assert {r[2] for r in cost_rows} == {f"CL-PRJ-3-2026{m:02d}" for m in range(1, 7)}
    work = {r[0]: r for r in wb["Work"].iter_rows(values_only=True)}
    header = list(work["code"])
    assert work["PRJ-3"][header.index("forecast")] == 690
    # numbers are numbers, with a number format; no formula anywhere; charts are native
    assert wb["Work"].cell(2, header.index("forecast") + 1).number_format == "#,##0.00"
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if isinstance(cell.value, str):
                    assert not re.fullmatch(r"-?\d+(\.\d+)?", cell.value) or sheet.title in (
                        "Summary",
                        "Provenance",
                    ), (sheet.title, cell.coordinate, cell.value)
    assert wb["Cost curve"]._charts and wb["Confidence trend"]._charts
    figures = {r[0]: r[2] for r in wb["Figures"].iter_rows(min_row=2, values_only=True)}
    assert figures["cost.forecast_outturn"] == pytest.approx(
        float(pg_doc["governed"]["cost.forecast_outturn"])
    )


@pytest.mark.slow
def test_pdf_renders_and_reads_as_the_pack(pg_doc: dict[str, Any]) -> None:
    from bigov.reports.pdf import pdf_text

    pdf = RENDERERS["pdf"](pg_doc)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    text = pdf_text(pg_doc)
    pages = text.split("\f")
    assert len(pages) >= 3  # one agenda section per printed page at least from progress on
    assert "PG board" in pages[0]
    assert "Project 2: forecast 8.0% over budget" in text
    assert "Project 3: forecast 15.0% over budget" in text
    assert "8. Actions and decisions" in text
    assert re.search(r"Page 1 of \d+", pages[0])


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
