"""The empty, documented import workbook (``bigov template``) and the error report writer."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from bigov.errors import ConfigError, Problem
from bigov.ingest.csv_guard import guard
from bigov.ingest.spec import kind_spec, kinds

REPORT_HEADER = ["file", "sheet", "row", "column", "value", "reason"]


def write_template(path: Path, *, only: list[str] | None = None) -> Path:
    """An XLSX with a README sheet and one sheet per kind whose header row is the kind's fields.

    Each header cell carries a comment with the field's type, whether it is required and the
    allowed values, so the workbook re-imports as is once filled (no documentation rows to skip).
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    wanted = [kind_spec(k).kind for k in only] if only else kinds()
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    readme.append(["bigov import workbook"])
    readme["A1"].font = Font(bold=True, size=14)
    for line in (
        "One sheet per kind of record; the sheet name is the kind. Row 1 holds the field names:",
        "keep it, fill rows from row 2, delete sheets you do not need, then run",
        "    bigov import THIS.xlsx",
        "Every record has a code (its common reference, unique per kind). References to other",
        "records are given by their code (parent, owner, work_item, ...), defined in the database",
        "already or anywhere in this workbook. Fact rows (cost lines, status reports, profiles,",
        "capacity, demand, links) may leave code empty: it is derived from their natural key.",
        "Dates: yyyy-mm-dd (or real Excel dates). Periods are month starts (yyyy-mm-01).",
        "Hover over a header cell for the field's type, whether it is required, allowed values.",
        "",
    ):
        readme.append([line])
    readme.append(["sheet", "field", "required", "type", "allowed values / reference"])
    for cell in readme[readme.max_row]:
        cell.font = Font(bold=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for kind in wanted:
        spec = kind_spec(kind)
        ws = wb.create_sheet(kind[:31])
        ws.append(spec.field_names())
        code_note = (
            "required"
            if spec.code_required
            else "optional; derived from " + " / ".join(spec.natural_key) + " when empty"
        )
        notes = {"code": f"code: {code_note}; text, up to 64 characters"}
        readme.append([kind, "code", "yes" if spec.code_required else "no", "text", ""])
        for f in spec.fields.values():
            notes[f.name] = f"{f.name}: {f.describe()}"
            readme.append(
                [
                    kind,
                    f.name,
                    "yes" if f.required else "no",
                    f.type,
                    ", ".join(f.choices) if f.enum else (f.ref or ""),
                ]
            )
        for cell in ws[1]:
            cell.font = bold
            cell.fill = fill
            cell.comment = Comment(notes[str(cell.value)], "bigov")
            ws.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) + 2)
        ws.freeze_panes = "A2"
    readme.column_dimensions["A"].width = 24
    readme.column_dimensions["B"].width = 22
    wb.save(path)
    return path


def write_error_report(problems: Sequence[Problem], path: Path) -> Path:
    """The problems as a table a data owner can work through: XLSX or CSV by the suffix.

    Raises:
        ConfigError: a suffix other than .xlsx or .csv.
    """
    rows = [
        [
            p.file or "",
            p.sheet or "",
            p.row if p.row is not None else "",
            p.column or "",
            p.value or "",
            p.reason,
        ]
        for p in problems
    ]
    suffix = path.suffix.casefold()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(REPORT_HEADER)
            # the values are the rejected data itself: guarded so a spreadsheet shows, not runs them
            w.writerows([guard(c) if isinstance(c, str) else c for c in row] for row in rows)
        return path
    if suffix == ".xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        wb = Workbook()
        ws = wb.active
        ws.title = "problems"
        ws.append(REPORT_HEADER)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append(row)
            # string cells, never formulas: the values are data (the row index is tracked, as
            # ws.max_row scans every cell)
            for col, value in enumerate(row, start=1):
                if isinstance(value, str):
                    ws.cell(ws._current_row, col).data_type = "s"
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
        for letter, width in zip("ABCDEF", (24, 16, 6, 28, 30, 80), strict=True):
            ws.column_dimensions[letter].width = width
        wb.save(path)
        return path
    raise ConfigError(f"error report must be .xlsx or .csv, not {path.name!r}")
