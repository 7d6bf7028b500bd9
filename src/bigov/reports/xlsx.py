"""The XLSX of a pack: the governed figures first (``Summary`` and ``Figures``, the same values as
the HTML pack's ``data-figure`` attributes and ``bigov figures``), then one sheet per list of the
cycle document, native Excel charts of the trends, and a provenance sheet tracing every figure to
its source rows (table, code, import batch).

Deterministic: the workbook's dates are the cycle's as-at date, so the same document gives the
same workbook content. No domain logic: values come from the document and :mod:`bigov.figures`.

Cells are typed: numbers are numbers (with a number format by what they measure), ISO dates are
dates, and every other string is written as a string cell — openpyxl would store text starting
with ``=`` as a live formula (``=HYPERLINK(...)``, DDE), so rows go through :func:`append_text`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bigov.figures.catalog import COUNT, FTE, MONEY, PCT
from bigov.figures.compute import figure_rows

MONEY_FORMAT = "#,##0.00"
PCT_FORMAT = '0.0"%"'  # values are percentages already (52.2 means 52.2 %)
FTE_FORMAT = "#,##0.0"
COUNT_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
UNIT_FORMATS = {MONEY: MONEY_FORMAT, PCT: PCT_FORMAT, FTE: FTE_FORMAT, COUNT: COUNT_FORMAT}

# columns whose values are numbers, by the words in their names; anything that does not parse
# as a number stays text
MONEY_HINTS = ("budget", "forecast", "actual", "planned", "at_stake", "amount")
PCT_HINTS = ("pct", "share")
FTE_HINTS = ("fte",)
COUNT_HINTS = ("days", "score", "items", "reports", "periods_open", "version", "rows")
NUMERIC_HINTS = (*MONEY_HINTS, *PCT_HINTS, *FTE_HINTS, *COUNT_HINTS, "value", "average", "limit")
# text columns that may hold digits (a code "2026", a period label): never converted
TEXT_KEYS = {"code", "ref", "name", "title", "subject", "key", "label", "period", "unit"}
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_WIDTH = 60


def _format_of(key: str) -> str | None:
    k = key.lower()
    if any(h in k for h in PCT_HINTS):
        return PCT_FORMAT
    if any(h in k for h in FTE_HINTS):
        return FTE_FORMAT
    if any(h in k for h in MONEY_HINTS):
        return MONEY_FORMAT
    if any(h in k for h in COUNT_HINTS):
        return COUNT_FORMAT
    return None


def _cell(key: str, value: Any) -> Any:
    """A document value as a typed cell value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return "; ".join(
            (
                f"{p.get('node')} ({p.get('reason')})"
                if isinstance(p, dict) and "node" in p
                else str(p)
                for p in value
            )
            if isinstance(value, list)
            else (f"{k}={v}" for k, v in value.items())
        )
    if isinstance(value, str) and key not in TEXT_KEYS:
        if NUMBER.match(value) and any(h in key.lower() for h in NUMERIC_HINTS):
            try:
                return Decimal(value)
            except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
                return value
        if ISO_DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
    return value


def _clean(value: Any) -> Any:
    """Text without the control characters XML 1.0 cannot hold (a vertical tab in a name would
    stop openpyxl with IllegalCharacterError, and with it a whole month of packs)."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def append_text(ws: Any, values: list[Any]) -> int:
    """Append a row, keeping every string a string cell (never a formula), whatever it begins
    with: the values are data, not instructions for the spreadsheet. Returns the row's index.

    (``ws.max_row`` scans every cell, so it is never asked per row: that made a pack's
    provenance sheet quadratic.)"""
    values = [_clean(v) for v in values]
    ws.append(values)
    row: int = ws._current_row
    for col, value in enumerate(values, start=1):
        if isinstance(value, str):
            ws.cell(row, col).data_type = "s"
    return row


def _fit(ws: Any, widths: dict[int, int]) -> None:
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = max(8, min(MAX_WIDTH, w + 2))


def _sheet(wb: Workbook, title: str, rows: list[dict[str, Any]], note: str | None = None) -> Any:
    ws = wb.create_sheet(title)
    if not rows:
        append_text(ws, [note or "No rows for this cycle."])
        return ws
    keys = list(rows[0].keys())
    for r in rows[1:]:
        for k in r:
            if k not in keys:
                keys.append(k)
    append_text(ws, keys)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top")
    widths = {i: len(k) for i, k in enumerate(keys, start=1)}
    formats = {i: _format_of(k) for i, k in enumerate(keys, start=1)}
    for r in rows:
        values = [_cell(k, r.get(k)) for k in keys]
        row = append_text(ws, values)
        for i, v in enumerate(values, start=1):
            cell = ws.cell(row, i)
            if isinstance(v, Decimal | int | float) and not isinstance(v, bool):
                if formats[i]:
                    cell.number_format = formats[i]
            elif isinstance(v, dt.date):
                cell.number_format = DATE_FORMAT
            widths[i] = max(widths[i], min(MAX_WIDTH, len(str(v)) if v is not None else 0))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    _fit(ws, widths)
    return ws


def _figures(wb: Workbook, doc: dict[str, Any]) -> None:
    """The ``Figures`` sheet: key, label, value, unit, as-at, definition."""
    ws = wb.create_sheet("Figures")
    append_text(ws, ["key", "label", "value", "unit", "as at", "definition"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    as_at = dt.date.fromisoformat(doc["period"]["as_at"])
    for r in figure_rows(doc):
        value = r["value"]
        number = Decimal(str(value)) if value is not None else None
        row = append_text(ws, [r["key"], r["label"], number, r["unit"], as_at, r["definition"]])
        ws.cell(row, 3).number_format = UNIT_FORMATS.get(r["unit"] or "", "General")
        ws.cell(row, 5).number_format = DATE_FORMAT
        ws.cell(row, 6).alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    _fit(ws, {1: 34, 2: 44, 3: 16, 4: 7, 5: 11, 6: 58})


def _summary(wb: Workbook, doc: dict[str, Any]) -> None:
    summary = wb.active
    assert summary is not None  # a new workbook always has one sheet
    summary.title = "Summary"
    node, period = doc["node"], doc["period"]
    for line in (
        ("organisation", doc["organisation"]),
        ("board", node["name"]),
        ("node", node["code"]),
        ("cycle", doc["cycle"]["code"]),
        ("period", period["label"]),
        ("covers", f"{period['start']} to {period['end']}"),
        ("as at", dt.date.fromisoformat(period["as_at"])),
        ("has data", "yes" if doc["has_data"] else "no"),
        ("escalation path", " → ".join(node["escalation_path"])),
    ):
        summary.cell(append_text(summary, list(line)), 1).font = Font(bold=True)
    summary["B7"].number_format = DATE_FORMAT
    append_text(summary, [])
    header = append_text(summary, ["figure", "value", "key"])
    for col in (1, 2, 3):
        summary.cell(header, col).font = Font(bold=True)
    for r in figure_rows(doc):
        value = Decimal(str(r["value"])) if r["value"] is not None else None
        row = append_text(summary, [r["label"], value, r["key"]])
        summary.cell(row, 2).number_format = UNIT_FORMATS.get(r["unit"] or "", "General")
    _fit(summary, {1: 48, 2: 22, 3: 34})


def _line_chart(ws: Any, title: str, y_title: str, anchor: str) -> None:
    """A native line chart of every numeric column of a curve sheet against its period."""
    if ws.max_row < 3:
        return
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = y_title
    chart.height, chart.width = 8, 18
    data = Reference(ws, min_col=2, max_col=ws.max_column, min_row=1, max_row=ws.max_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=ws.max_row))
    ws.add_chart(chart, anchor)


def _confidence_chart(ws: Any, levels: int) -> None:
    """A native stacked bar chart of live items by delivery confidence per month."""
    if ws.max_row < 2:
        return
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "Delivery confidence of live items"
    chart.y_axis.title = "items"
    chart.height, chart.width = 8, 18
    data = Reference(ws, min_col=2, max_col=1 + levels, min_row=1, max_row=ws.max_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=ws.max_row))
    ws.add_chart(chart, f"{get_column_letter(ws.max_column + 2)}2")


def render_xlsx(doc: dict[str, Any]) -> bytes:
    """The workbook of a cycle document as bytes."""
    wb = Workbook()
    _summary(wb, doc)
    _figures(wb, doc)
    _sheet(
        wb,
        "Exceptions",
        [{k: v for k, v in e.items() if k not in ("key",)} for e in doc["exceptions"]],
    )
    _sheet(wb, "Headline", doc["headline"])
    _sheet(wb, "Work", doc["work"])
    trend = _sheet(wb, "Confidence trend", doc["confidence_trend"])
    _confidence_chart(trend, 5)
    cost = _sheet(wb, "Cost curve", doc["cost_curve"])
    _line_chart(cost, "Cost, cumulative", doc.get("currency", ""), "F2")
    _sheet(wb, "Benefits", doc["benefits"])
    curve = _sheet(wb, "Benefits curve", doc["benefits_curve"])
    _line_chart(curve, "Benefits, cumulative", doc.get("currency", ""), "F2")
    _sheet(wb, "Resources", doc["resources"])
    rc = doc["run_change"]
    _sheet(
        wb,
        "Run-change",
        [
            {
                "split": "purpose",
                "part": k,
                "budget": v,
                "share_pct": (rc.get("shares") or {}).get(k),
                "target_pct": (rc.get("target") or {}).get(k),
            }
            for k, v in rc["budget"].items()
        ]
        + [
            {"split": "delivery", "part": k, "budget": v}
            for k, v in (rc.get("by_nature") or {}).items()
        ],
    )
    _sheet(wb, "Risks", doc["risks"])
    _sheet(
        wb,
        "Objectives",
        [
            {k: v for k, v in o.items() if k not in ("key_results", "benefits")}
            for o in doc["objectives"]
        ],
    )
    _sheet(
        wb,
        "Key results",
        [{"otc": o["code"], **k} for o in doc["objectives"] for k in o.get("key_results", [])],
    )
    _sheet(
        wb,
        "Measures",
        [
            {"definition": m["code"], "measure": m["measure"], "grain": m["grain"], **v}
            for m in doc.get("measures", [])
            for v in m["values"]
        ],
    )
    _sheet(wb, "Readiness", doc["readiness"])
    _sheet(wb, "Actions", doc["actions"])
    _sheet(wb, "Decisions in period", doc.get("decisions_log", []))
    _sheet(
        wb,
        "Earlier decisions",
        [
            {
                "code": d["code"],
                "title": d["title"],
                "cycle": d["cycle"],
                "effects": [f"{e['item']}: {', '.join(e['changes'])}" for e in d["effects"]],
            }
            for d in doc["decisions"]
        ],
    )
    _sheet(wb, "Provenance", doc["provenance"], "No source rows (no data in scope).")
    stamp = dt.datetime.fromisoformat(doc["period"]["as_at"])
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "bigov"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["append_text", "render_xlsx"]
