"""The migration report: what was read, imported and rejected (with why), the totals reconciled
between the source and bigov, the schedule matching, and what the mapping left unmapped.

:class:`MigrationReport` is what the service returns, the CLI prints and ``--json`` dumps;
:func:`write_report_xlsx` writes it as a workbook whose every string is a text cell (a value from
PWA that starts with ``=`` stays text, never a formula).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from bigov.ingest.projectonline.schedules import ScheduleFileResult


class EntityLine(BaseModel):
    entity: str
    read: int
    imported: int
    rejected: int


class RejectLine(BaseModel):
    entity: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    reason: str


class BatchLine(BaseModel):
    name: str
    status: str  # committed | rejected | dry-run | empty
    batch_id: int | None = None
    counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    message: str | None = None


class TotalLine(BaseModel):
    """One measure: the source (every row read, and the rows imported) against bigov."""

    measure: str  # cost | actual_cost | baseline_cost | work
    source_all_rows: Decimal
    source_imported: Decimal
    bigov: Decimal

    @property
    def difference(self) -> Decimal:
        return self.bigov - self.source_imported

    @property
    def reconciled(self) -> bool:
        return self.difference == 0


class ProjectLine(BaseModel):
    """One project's figures, source against bigov (cost, actual cost, baseline cost, work)."""

    code: str
    name: str
    guid: str
    source: dict[str, Decimal]
    bigov: dict[str, Decimal]

    @property
    def reconciled(self) -> bool:
        return all(self.source[k] == self.bigov.get(k) for k in self.source)


class PrioritisationLine(BaseModel):
    code: str
    name: str
    method: str
    effective_from: str
    weights: dict[str, float]
    version: int | None = None
    written: bool = False  # a new version was written by this run


class MigrationReport(BaseModel):
    """Everything one ``bigov migrate projectonline`` run did (or, dry, would do)."""

    source: str
    dry_run: bool
    entities: list[EntityLine]
    rejects: list[RejectLine]
    batches: list[BatchLine]
    totals: list[TotalLine]
    projects: list[ProjectLine]
    drivers: list[str]
    prioritisations: list[PrioritisationLine]
    last_prioritisation: str | None
    ratings: int = 0
    analyses: list[dict[str, Any]] = Field(default_factory=list)
    schedules: list[ScheduleFileResult] = Field(default_factory=list)
    projects_without_schedule: list[str] = Field(default_factory=list)
    schedules_without_project: list[str] = Field(default_factory=list)
    unmapped_custom_fields: dict[str, list[str]] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @property
    def reconciled(self) -> bool:
        """Every total and every project agrees to the cent (hundredth of an hour for work)."""
        return all(t.reconciled for t in self.totals) and all(p.reconciled for p in self.projects)

    @property
    def changed(self) -> bool:
        """True when this run inserted or updated any row."""
        return any(
            c.get("inserted", 0) or c.get("updated", 0)
            for b in self.batches
            for c in b.counts.values()
        ) or any(p.written for p in self.prioritisations)

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON data (with the derived differences and flags)."""
        data = self.model_dump(mode="json")
        for total, out in zip(self.totals, data["totals"], strict=True):
            out["difference"] = str(total.difference)
            out["reconciled"] = total.reconciled
        for project, out in zip(self.projects, data["projects"], strict=True):
            out["reconciled"] = project.reconciled
        data["reconciled"] = self.reconciled
        data["changed"] = self.changed
        return data


def _text_row(ws: Any, values: list[Any]) -> None:
    ws.append([float(v) if isinstance(v, Decimal) else v for v in values])
    row = ws.max_row
    for col, value in enumerate(values, start=1):
        if isinstance(value, str):
            ws.cell(row, col).data_type = "s"  # data stays text, never a formula


def write_report_xlsx(report: MigrationReport, path: Path) -> Path:
    """Write the report as a workbook: Summary, Entities, Rejected, Totals, Projects, Schedules,
    Prioritisations, Unmapped fields."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {
        "Entities": (
            ["entity set", "read", "imported", "rejected"],
            [[e.entity, e.read, e.imported, e.rejected] for e in report.entities],
        ),
        "Rejected": (
            ["entity set", "file", "sheet", "row", "column", "value", "reason"],
            [
                [
                    r.entity,
                    r.file or "",
                    r.sheet or "",
                    r.row,
                    r.column or "",
                    r.value or "",
                    r.reason,
                ]
                for r in report.rejects
            ],
        ),
        "Batches": (
            ["batch", "status", "batch id", "inserted", "updated", "unchanged", "message"],
            [
                [b.name, b.status, b.batch_id, *_totals(b.counts), b.message or ""]
                for b in report.batches
            ],
        ),
        "Totals": (
            [
                "measure",
                "source (all rows)",
                "source (imported)",
                "bigov",
                "difference",
                "reconciled",
            ],
            [
                [
                    t.measure,
                    t.source_all_rows,
                    t.source_imported,
                    t.bigov,
                    t.difference,
                    "yes" if t.reconciled else "NO",
                ]
                for t in report.totals
            ],
        ),
        "Projects": (
            ["code", "name", "ProjectId"]
            + [f"{side} {m}" for m in _MEASURES for side in ("source", "bigov")]
            + ["reconciled"],
            [
                [p.code, p.name, p.guid]
                + [
                    v
                    for m in _MEASURES
                    for v in (p.source.get(m, Decimal(0)), p.bigov.get(m, Decimal(0)))
                ]
                + ["yes" if p.reconciled else "NO"]
                for p in report.projects
            ],
        ),
        "Schedules": (
            [
                "file",
                "status",
                "project",
                "matched by",
                "batch id",
                "kept from the feed",
                "message",
            ],
            [
                [
                    f.file,
                    f.status,
                    f.project or "",
                    f.matched_by or "no migrated project",
                    f.batch_id,
                    ", ".join(f.kept_from_feed),
                    f.message or "",
                ]
                for f in report.schedules
            ],
        ),
        "Prioritisations": (
            ["code", "name", "method", "effective from", "driver", "weight", "version"],
            [
                [p.code, p.name, p.method, p.effective_from, d, w, p.version]
                for p in report.prioritisations
                for d, w in p.weights.items()
            ],
        ),
        "Unmapped fields": (
            ["entity set", "custom field"],
            [[e, f] for e, fields in report.unmapped_custom_fields.items() for f in fields],
        ),
    }
    bold = Font(bold=True)
    for label, value in (
        ("source", report.source),
        ("dry run", "yes" if report.dry_run else "no"),
        ("reconciled", "yes" if report.reconciled else "NO"),
        ("prioritisation in force", report.last_prioritisation or ""),
        ("driver ratings", report.ratings),
        ("projects without a schedule", ", ".join(report.projects_without_schedule)),
        ("schedules without a project", ", ".join(report.schedules_without_project)),
        *(("note", n) for n in report.notes),
    ):
        _text_row(summary, [label, value])
        summary.cell(summary.max_row, 1).font = bold
    summary.column_dimensions["A"].width = 30
    summary.column_dimensions["B"].width = 90
    for title, (header, rows) in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            _text_row(ws, row)
        ws.freeze_panes = "A2"
    wb.save(path)
    return path


_MEASURES = ("cost", "actual_cost", "baseline_cost", "work")


def _totals(counts: dict[str, dict[str, int]]) -> list[int]:
    return [sum(c.get(k, 0) for c in counts.values()) for k in ("inserted", "updated", "unchanged")]
