"""The XLSX of a pack's underlying figures, with a provenance sheet tracing every figure to its
source rows (table, code, import batch).

Deterministic: the workbook's dates are the cycle's as-at date, so the same document gives the
same workbook content. No domain logic: one sheet per list in the document.

Every string is written as a string cell: openpyxl would store text starting with ``=`` as a
live formula (``=HYPERLINK(...)``, DDE), so rows go through :func:`append_text`.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

NUMERIC_HINTS = ("budget", "forecast", "actual", "planned", "pct", "fte", "score", "days", "value")


def _cell(key: str, value: Any) -> Any:
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
    if isinstance(value, str) and any(h in key for h in NUMERIC_HINTS):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return value


def append_text(ws: Any, values: list[Any]) -> None:
    """Append a row, keeping every string a string cell (never a formula), whatever it begins
    with: the values are data, not instructions for the spreadsheet."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _sheet(wb: Workbook, title: str, rows: list[dict[str, Any]], note: str | None = None) -> None:
    ws = wb.create_sheet(title)
    if not rows:
        append_text(ws, [note or "No rows for this cycle."])
        return
    keys = list(rows[0].keys())
    for r in rows[1:]:
        for k in r:
            if k not in keys:
                keys.append(k)
    append_text(ws, keys)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        append_text(ws, [_cell(k, r.get(k)) for k in keys])
    ws.freeze_panes = "A2"
    for i, k in enumerate(keys, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(48, len(k) + 4))


def render_xlsx(doc: dict[str, Any]) -> bytes:
    """The workbook of a cycle document as bytes."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None  # a new workbook always has one sheet
    summary.title = "Summary"
    node, period = doc["node"], doc["period"]
    for row in (
        ("organisation", doc["organisation"]),
        ("node", f"{node['code']} {node['name']}"),
        ("cycle", doc["cycle"]["code"]),
        ("period", period["label"]),
        ("covers", f"{period['start']} to {period['end']}"),
        ("as at", period["as_at"]),
        ("has data", "yes" if doc["has_data"] else "no"),
        ("escalation path", " → ".join(node["escalation_path"])),
        ("exceptions", len(doc["exceptions"])),
        ("work items", len(doc["work"])),
        ("source rows traced", len(doc["provenance"])),
    ):
        append_text(summary, list(row))
    summary.column_dimensions["A"].width = 20
    summary.column_dimensions["B"].width = 60
    _sheet(wb, "Exceptions", doc["exceptions"])
    _sheet(wb, "Headline", doc["headline"])
    _sheet(wb, "Work", doc["work"])
    _sheet(wb, "Confidence trend", doc["confidence_trend"])
    _sheet(wb, "Cost curve", doc["cost_curve"])
    _sheet(wb, "Benefits", doc["benefits"])
    _sheet(wb, "Benefits curve", doc["benefits_curve"])
    _sheet(wb, "Resources", doc["resources"])
    rc = doc["run_change"]
    _sheet(
        wb,
        "Run-change",
        [{"measure": f"budget {k}", "value": v} for k, v in rc["budget"].items()]
        + [{"measure": f"category {k}", "value": v} for k, v in rc["by_category"].items()]
        + [{"measure": f"target {k}", "value": v} for k, v in rc["target"].items()]
        + [
            {"measure": "change %", "value": rc["change_pct"]},
            {"measure": "target change %", "value": rc["target_change_pct"]},
        ],
    )
    figures = doc.get("figures") or {}
    _sheet(
        wb,
        "Figures",
        [
            {"figure": f"{group} {key}", "value": value}
            for group in ("cost", "benefits", "confidence", "milestones")
            for key, value in (figures.get(group) or {}).items()
        ],
        "No analysis figures in this document.",
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
    _sheet(
        wb,
        "Decisions",
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
    stamp = dt.datetime.fromisoformat(period["as_at"])
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "bigov"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["append_text", "render_xlsx"]
