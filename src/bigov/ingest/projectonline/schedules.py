"""Bulk schedules: every ``.mpp`` / MSPDI ``.xml`` / ``.xer`` file of a folder, one project each,
matched to the migrated projects, one import batch per file.

Matching, in order: the project GUID the file carries (MS Project's project GUID is the PWA
``ProjectId``) against the GUIDs a Project Online migration stored; then the file's project name
against the migrated projects' names; then its code against a migrated project's code. A file
that matches nothing is imported as a project of its own and reported as a *schedule without a
project*.

One fact, one owner: a matched project's row, and any of its milestones, cost lines and demand
that the reporting feed supplied, stay the feed's (they are what the migration report reconciles);
the schedule adds the kinds the feed did not give for that project. A file that fails (unreadable,
several projects, bad rows) is reported and the others still import.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select

from bigov.db.batch import ImportBatch
from bigov.errors import BigovError
from bigov.finance.models import CostLine
from bigov.ingest.mapping import RecordSet
from bigov.ingest.projectonline.models import ExternalRef
from bigov.ingest.projectonline.schema import header_key
from bigov.progress import SILENT, Reporter
from bigov.resources.models import Demand
from bigov.work.models import Milestone, WorkItem
from bigov.workspace import Workspace

SYSTEM = "projectonline"
SCHEDULE_KINDS: dict[str, type[Milestone] | type[CostLine] | type[Demand]] = {
    "milestone": Milestone,
    "cost_line": CostLine,
    "demand": Demand,
}


class ScheduleFileResult(BaseModel):
    """What happened to one schedule file."""

    file: str
    status: str  # committed | dry-run | failed
    project: str | None = None  # the bigov code it landed on
    name: str | None = None
    matched_by: str | None = None  # guid | name | code | None (no migrated project)
    batch_id: int | None = None
    counts: dict[str, dict[str, int]] = {}
    kept_from_feed: list[str] = []  # kinds left to the reporting feed
    message: str | None = None


class BulkScheduleResult(BaseModel):
    """Every file of a bulk schedule import, in file order."""

    folder: str
    files: list[ScheduleFileResult]

    @property
    def failed(self) -> list[ScheduleFileResult]:
        return [f for f in self.files if f.status == "failed"]


def schedule_files(folder: Path) -> list[Path]:
    """The schedule files directly in ``folder`` (sorted), by what the ``mpxj`` importer takes."""
    from bigov.ingest.mpxj_importer import MpxjImporter
    from bigov.ingest.registry import ImportOptions

    importer = MpxjImporter()
    options = ImportOptions()
    return sorted(p for p in folder.iterdir() if p.is_file() and importer.accepts(p, options))


def _migrated(ws: Workspace) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """(GUID → code, name key → code, codes) of the projects a migration stored."""
    with ws.session() as s:
        rows = s.execute(
            select(ExternalRef.external_id, ExternalRef.code, ExternalRef.name).where(
                ExternalRef.system == SYSTEM, ExternalRef.kind == "work_item"
            )
        ).all()
    guids = {g.lower(): c for g, c, _ in rows}
    names = {header_key(n): c for _, c, n in rows if n}
    return guids, names, {c for _, c, _ in rows}


def _feed_kinds(ws: Workspace, code: str) -> list[str]:
    """The kinds the reporting feed (a ``projectonline`` batch) wrote for work item ``code``."""
    out: list[str] = []
    with ws.session() as s:
        item = s.scalar(select(WorkItem.id).where(WorkItem.code == code))
        if item is None:
            return out
        feed = select(ImportBatch.id).where(ImportBatch.source == SYSTEM)
        for kind, model in SCHEDULE_KINDS.items():
            found = s.scalar(
                select(model.id)
                .where(model.work_item_id == item, model.batch_id.in_(feed))
                .limit(1)
            )
            if found:
                out.append(kind)
    return out


def _guid(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(uuid.UUID(text.strip("{}")))
    except ValueError:
        return None


def import_schedules(
    ws: Workspace,
    folder: Path,
    *,
    user: str | None = None,
    dry_run: bool = False,
    currency: str | None = None,
    planned: dict[str, tuple[str, str]] | None = None,
    reporter: Reporter = SILENT,
) -> BulkScheduleResult:
    """Import every schedule file of ``folder`` (see the module docstring).

    ``planned`` adds projects a dry-run migration would create ({GUID: (code, name)}), so a dry
    run matches files as the real run will; with ``dry_run`` files are read and matched only.
    Never raises for a bad file: each failure is a ``failed`` entry naming the reason.
    """
    from bigov.ingest.mpxj_importer import rows_to_recordset
    from bigov.ingest.service import file_hash, import_records

    results: list[ScheduleFileResult] = []
    guids, names, codes = _migrated(ws)
    for planned_guid, (planned_code, name) in (planned or {}).items():
        guids.setdefault(planned_guid.lower(), planned_code)
        names.setdefault(header_key(name), planned_code)
        codes.add(planned_code)
    currency = currency or ws.setting("currency")
    files = schedule_files(folder)
    reporter.start(f"importing {len(files)} schedule file(s)", total=len(files))
    for path in files:
        result = ScheduleFileResult(file=path.name, status="failed")
        results.append(result)
        try:
            from bigov.ingest import schedule as sched_mod  # starts the JVM only when needed

            schedule = sched_mod.read_schedule(path)
            result.name = schedule.name
            guid = _guid(schedule.unique_id)
            code: str | None = None
            if guid and guid in guids:
                code, result.matched_by = guids[guid], "guid"
            elif header_key(schedule.name) in names:
                code, result.matched_by = names[header_key(schedule.name)], "name"
            elif schedule.code in codes:
                code, result.matched_by = schedule.code, "code"
            if code is not None:
                schedule = schedule.model_copy(update={"code": code})
            records = sched_mod.schedule_to_records(schedule, default_currency=currency)
            if code is not None:
                # the migrated project row is the feed's; so are the kinds it supplied
                records.pop("work_item", None)
                result.kept_from_feed = _feed_kinds(ws, code)
                for kind in result.kept_from_feed:
                    records.pop(kind, None)
            result.project = schedule.code
            sets: list[RecordSet] = [
                rows_to_recordset(kind, rows, path.name) for kind, rows in records.items() if rows
            ]
            if dry_run:
                result.status = "dry-run"
                continue
            if not sets:
                result.status = "committed"
                result.message = "nothing to add: the migrated project already holds it all"
                continue
            imported = import_records(
                ws,
                sets,
                source="mpxj",
                file_name=path.name,
                file_hash=file_hash(path),
                user=user,
                dry_run=dry_run,
            )
            result.status, result.batch_id, result.counts = (
                imported.status,
                imported.batch_id,
                imported.counts,
            )
        except BigovError as err:
            problems = getattr(err, "problems", [])
            detail = "; ".join(
                f"row {p.row} {p.column or ''}: {p.reason}".strip() for p in problems[:3]
            )
            result.message = (
                err.message
                + (f" — {detail}" if detail else "")
                + (f" ({err.hint})" if err.hint else "")
            )
        finally:
            reporter.advance()
    reporter.finish()
    return BulkScheduleResult(folder=str(folder), files=results)
