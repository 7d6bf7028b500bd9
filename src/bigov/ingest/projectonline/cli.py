"""``bigov migrate projectonline SOURCE``: the whole Project Online migration in one command, and
the summary table ``bigov import FOLDER`` prints for a folder of schedules.

Thin: the commands call :func:`bigov.ingest.projectonline.service.migrate` /
:func:`~bigov.ingest.projectonline.schedules.import_schedules` and print what they return. The
services (and everything heavy they import) load inside the commands, so ``bigov --help`` stays
fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bigov.cli_support import (
    DbOption,
    ErrorHandlingGroup,
    JsonOption,
    RichReporter,
    console,
    open_workspace,
    print_json,
)

if TYPE_CHECKING:
    from bigov.ingest.projectonline.report import MigrationReport
    from bigov.ingest.projectonline.schedules import ScheduleFileResult

app = typer.Typer(
    name="migrate",
    cls=ErrorHandlingGroup,
    help="Bring a whole portfolio across from another tool (Project Online).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command("projectonline")
def projectonline(
    source: Annotated[
        Path,
        typer.Argument(help="Export folder: ProjectData JSON pages, or CSV/XLSX per entity set."),
    ],
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", "-m", help="Your copy of the projectonline preset (YAML)."),
    ] = None,
    schedules: Annotated[
        Path | None,
        typer.Option("--schedules", help="Folder of .mpp/.xml/.xer (default SOURCE/schedules)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write the migration report here (.xlsx)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read, check and validate; write nothing.")
    ] = False,
    user: Annotated[
        str | None, typer.Option("--user", help="Who migrates (default: login name).")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Migrate a Project Online (PWA) export: projects, schedules, resources, drivers,
    prioritisations, issues and risks, then reconcile and report."""
    from bigov.errors import ConfigError
    from bigov.ingest.projectonline.report import write_report_xlsx
    from bigov.ingest.projectonline.service import migrate

    if report is not None and report.suffix.casefold() != ".xlsx":
        raise ConfigError(f"the report is an .xlsx workbook, not {report.name!r}")
    # like `bigov import`, a migration may create the workspace it brings the data into
    with open_workspace(db, create=True) as ws:
        result = migrate(
            ws,
            source,
            mapping=mapping,
            schedules=schedules,
            dry_run=dry_run,
            user=user,
            reporter=RichReporter(enabled=not json_out),
        )
    if report is not None:
        write_report_xlsx(result, report)
    if json_out:
        print_json(result.as_json())
        return
    print_report(result)
    if report is not None:
        console.print(f"report written to {report}")


def print_report(report: MigrationReport) -> None:
    """The report as Rich tables (every value printed as text, never as markup)."""
    entities = Table("entity set", "read", "imported", "rejected", title="Entities")
    for e in report.entities:
        entities.add_row(e.entity, str(e.read), str(e.imported), str(e.rejected))
    console.print(entities)
    batches = Table("batch", "status", "id", "inserted", "updated", "unchanged", title="Batches")
    for b in report.batches:
        sums = [sum(c.get(k, 0) for c in b.counts.values()) for k in _COUNTS]
        batches.add_row(b.name, b.status, str(b.batch_id or ""), *(str(t) for t in sums))
    console.print(batches)
    totals = Table(
        "measure", "source (all rows)", "source (imported)", "bigov", "difference",
        title="Totals reconciled" if report.reconciled else "Totals: NOT reconciled",
    )  # fmt: skip
    for t in report.totals:
        totals.add_row(
            t.measure,
            f"{t.source_all_rows:,.2f}",
            f"{t.source_imported:,.2f}",
            f"{t.bigov:,.2f}",
            f"{t.difference:,.2f}",
        )
    console.print(totals)
    if report.rejects:
        rejected = Table("entity set", "file", "row", "column", "value", "reason", title="Rejected")
        for r in report.rejects:
            rejected.add_row(
                r.entity, r.file or "", "" if r.row is None else str(r.row), r.column or "",
                r.value or "", r.reason,
            )  # fmt: skip
        console.print(rejected)
    if report.prioritisations:
        prios = Table("prioritisation", "method", "effective", "version", "weights")
        for p in report.prioritisations:
            weights = ", ".join(f"{d} {w:.1%}" for d, w in p.weights.items())
            prios.add_row(
                p.code + (" (in force)" if p.code == report.last_prioritisation else ""),
                p.method, p.effective_from, str(p.version or ""), weights,
            )  # fmt: skip
        console.print(prios)
    if report.schedules:
        print_schedules(report.schedules)
    for label, values in (
        ("projects without a schedule", report.projects_without_schedule),
        ("schedules without a project", report.schedules_without_project),
    ):
        if values:
            console.print(f"{label}: " + ", ".join(values))
    for entity, fields in report.unmapped_custom_fields.items():
        console.print(f"unmapped custom fields of {entity}: " + ", ".join(fields))
    for note in report.notes:
        console.print(f"note: {note}")
    projects = next((e for e in report.entities if e.entity == "Projects"), None)
    console.print(
        ("dry run: " if report.dry_run else "")
        + (f"{projects.imported} of {projects.read} projects migrated; " if projects else "")
        + f"{len(report.rejects)} row(s) rejected; totals "
        + ("reconciled to the cent" if report.reconciled else "NOT reconciled (see Totals)")
    )


_COUNTS = ("inserted", "updated", "unchanged")


def print_schedules(files: list[ScheduleFileResult]) -> None:
    """One row per schedule file: project, how it matched, status, counts, message."""
    table = Table(
        "file", "project", "matched by", "status", "inserted", "updated", "unchanged", "message",
        title="Schedules",
    )  # fmt: skip
    for f in files:
        totals = [sum(c.get(k, 0) for c in f.counts.values()) for k in _COUNTS]
        table.add_row(
            f.file, f.project or "", f.matched_by or "no migrated project", f.status,
            *(str(t) for t in totals), f.message or "",
        )  # fmt: skip
    console.print(table)


def import_folder(
    folder: Path, *, db: Any, user: str | None, dry_run: bool, json_out: bool
) -> None:
    """``bigov import FOLDER``: every schedule file, one batch each, then the summary table.

    Exits 6 when any file failed (the others are imported all the same).
    """
    from bigov.errors import ValidationError
    from bigov.ingest.projectonline.schedules import import_schedules, schedule_files

    if not schedule_files(folder):
        raise ValidationError(
            f"{folder}: no schedule files (.mpp, MSPDI .xml, .xer, ...) in this folder",
            hint="bigov migrate projectonline FOLDER reads a Project Online export",
        )
    with open_workspace(db) as ws:
        result = import_schedules(
            ws, folder, user=user, dry_run=dry_run, reporter=RichReporter(enabled=not json_out)
        )
    if json_out:
        print_json(result.model_dump(mode="json"))
    else:
        print_schedules(result.files)
    if result.failed:
        raise typer.Exit(6)


def register(root: typer.Typer) -> None:
    """Mount ``bigov migrate``."""
    root.add_typer(app, name="migrate")
