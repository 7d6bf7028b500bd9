"""The ``mpxj`` importer: MS Project, Primavera and other schedule files through MPXJ.

Reading is :func:`bigov.ingest.schedule.read_schedules` + :func:`schedule_to_records`; the rows
then load through the same validation and upsert as any other import. Keys such as
``work_item_code`` are accepted as the field ``work_item``; values the data model has no field for
(a demand's ``hours``) are dropped — the FTE is what bigov stores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bigov.db.settings import DEFAULTS
from bigov.ingest.mapping import RecordSet
from bigov.ingest.registry import ImportOptions, register
from bigov.ingest.spec import kind_spec

SCHEDULE_SUFFIXES = (
    ".mpp",
    ".mpx",
    ".mpt",
    ".xer",
    ".pmxml",
    ".pp",
    ".gan",
    ".planner",
    ".gnt",
    ".fts",
    ".pod",
    ".prx",
    ".sdef",
    ".spreadsheetml",
    ".cdpx",
    ".cdpz",
)


def rows_to_recordset(kind: str, rows: list[dict[str, Any]], file: str) -> RecordSet:
    """Importer-made dicts as a RecordSet: ``<ref>_code`` keys become the ref field, keys with
    no field are dropped."""
    spec = kind_spec(kind)
    names = set(spec.field_names())
    out = RecordSet(spec.kind, file, None)
    for i, row in enumerate(rows, start=1):
        values: dict[str, Any] = {}
        for key, value in row.items():
            target = key
            if key not in names and key.endswith("_code") and key[:-5] in spec.fields:
                target = key[:-5]
            if target in names:
                values[target] = value
        out.add(values, i)
    return out


@register
class MpxjImporter:
    """Project schedules (.mpp, MSPDI .xml, .xer, PMXML, ...) as a project with milestones,
    monthly cost lines and demand by role."""

    name = "mpxj"
    suffixes = (*SCHEDULE_SUFFIXES, ".xml")

    def accepts(self, path: Path, options: ImportOptions) -> bool:
        suffix = path.suffix.casefold()
        if suffix in SCHEDULE_SUFFIXES:
            return True
        if suffix == ".xml":  # MSPDI or PMXML; other XML is not ours
            try:
                with path.open("rb") as fh:  # the head only: the file may be large
                    head = fh.read(4096).decode("utf-8", errors="replace")
            except OSError:
                return False
            return "schemas.microsoft.com/project" in head or "<APIBusinessObjects" in head
        return False

    def read(self, path: Path, options: ImportOptions) -> list[RecordSet]:
        from bigov.ingest import schedule  # JPype/MPXJ start a JVM: only when needed

        out: list[RecordSet] = []
        chosen = options.extra.get("currency")  # --option currency=XXX: the user's word
        # import_file passes the workspace's currency; the settings default stands in for it
        # when an importer is driven directly
        fallback = str(
            chosen or options.extra.get("workspace_currency") or DEFAULTS["currency"]
        ).upper()
        for sched in schedule.read_schedules(path):
            options.warnings.extend(sched.warnings)
            if sched.currency is None and chosen is None and sched.tasks:
                shown = f" (symbol {sched.currency_symbol!r})" if sched.currency_symbol else ""
                options.warnings.append(
                    f"{path.name}: {sched.name} states no currency code{shown}; its amounts "
                    f"are taken as {fallback}, the workspace currency — pass --option "
                    "currency=XXX if that is wrong"
                )
            records = schedule.schedule_to_records(sched, default_currency=fallback)
            for kind, rows in records.items():
                if rows:
                    out.append(rows_to_recordset(kind, rows, path.name))
        return out
