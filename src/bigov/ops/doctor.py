"""``bigov doctor``: is the workspace consistent, and what can be repaired safely.

Checks (each finding names its check, subject and what is wrong):

* ``integrity`` — SQLite ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` (PostgreSQL
  enforces both itself; nothing to check there).
* ``raw_store`` — the metrics raw store against its catalogue (``metric_raw_file``): files left
  under a temporary ``.part`` name by a killed load, final files no catalogue row points at
  (a load killed between writing and committing), and catalogued files that are missing.
* ``batches`` — import and metrics batches still ``running``: the process that opened them died.
* ``packs`` — published cycles whose packs are not recorded or whose files are missing or
  changed on disk.
* ``snapshots`` — each cycle snapshot's hash recomputed from its stored document.
* ``codes_and_text`` — stored records against the code rule, and text holding control or bidi
  characters (data written before the rule existed).

``repair=True`` fixes what is safe to fix without losing data: it removes ``.part`` files and
orphan raw files (nothing reads them; their batch never committed), marks running batches
``failed``, re-renders missing packs from the cycle's frozen snapshot and strips control
characters from stored text. Repair assumes no
import or load is running at the same time (their batches are ``running`` while they work).
A corrupt database, a missing catalogued raw file or a snapshot whose hash differs cannot be
repaired here: restore from a backup.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel
from sqlalchemy import select, update

from bigov.db.base import utcnow
from bigov.db.batch import ImportBatch
from bigov.errors import BigovError

if TYPE_CHECKING:
    from bigov.workspace import Workspace

CHECKS = (
    "integrity",
    "raw_store",
    "batches",
    "packs",
    "snapshots",
    "links",
    "codes_and_text",
)
# the formats `bigov cycle run` writes for one node, used when a cycle has no pack recorded
DEFAULT_PACK_FORMATS = ("html", "pdf", "xlsx")


class Finding(BaseModel):
    """One thing found wrong (and whether it was repaired)."""

    check: str
    severity: Literal["error", "warning"]
    subject: str
    problem: str
    repairable: bool = False
    repaired: bool = False
    action: str | None = None


class DoctorReport(BaseModel):
    """What ``bigov doctor`` found; ``ok`` when nothing remains to be fixed."""

    workspace: str
    backend: str
    checks: list[str]
    skipped: dict[str, str]
    findings: list[Finding]

    @property
    def remaining(self) -> list[Finding]:
        return [f for f in self.findings if not f.repaired]

    @property
    def ok(self) -> bool:
        return not self.remaining


def diagnose(ws: Workspace, *, repair: bool = False, packs_dir: Path | None = None) -> DoctorReport:
    """Run every check (and repair what is safe to repair when ``repair``).

    ``packs_dir`` is where missing packs of a cycle with no recorded pack are re-rendered
    (default ``packs``, as ``bigov cycle run``); a recorded pack is re-rendered where it was.
    """
    report = DoctorReport(
        workspace=ws.describe(), backend=ws.backend, checks=list(CHECKS), skipped={}, findings=[]
    )
    _integrity(ws, report)
    _raw_store(ws, report, repair)
    _batches(ws, report, repair)
    _packs(ws, report, repair, packs_dir or Path("packs"))
    _snapshots(ws, report)
    _links(ws, report)
    _codes_and_text(ws, report, repair)
    return report


# -- checks ----------------------------------------------------------------------------------
def _integrity(ws: Workspace, report: DoctorReport) -> None:
    if ws.backend != "sqlite":
        report.skipped["integrity"] = "PostgreSQL enforces page and foreign key integrity"
        return
    with ws.engine.connect() as conn:
        rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
        if rows != ["ok"]:
            for message in rows[:20]:
                report.findings.append(
                    Finding(
                        check="integrity",
                        severity="error",
                        subject="database file",
                        problem=str(message),
                        action="restore from a backup (bigov restore)",
                    )
                )
        for table, rowid, parent, _fk in conn.exec_driver_sql("PRAGMA foreign_key_check").all():
            report.findings.append(
                Finding(
                    check="integrity",
                    severity="error",
                    subject=f"{table} row {rowid}",
                    problem=f"refers to a missing {parent} row",
                    action="restore from a backup, or correct the row",
                )
            )


def _raw_store(ws: Workspace, report: DoctorReport, repair: bool) -> None:
    from bigov.metrics.models import MetricRawFile

    try:
        store = ws.metrics.store
    except BigovError as err:
        report.skipped["raw_store"] = str(err)
        return
    raw = store.root / "raw"
    with ws.session() as s:
        catalogued = {
            path: batch
            for batch, path in s.execute(select(MetricRawFile.batch_id, MetricRawFile.path))
        }
    for rel in sorted(catalogued):
        if not (store.root / rel).is_file():
            report.findings.append(
                Finding(
                    check="raw_store",
                    severity="error",
                    subject=rel,
                    problem="catalogued raw file is missing (its periods cannot be recomputed)",
                    action="restore the metrics store from a backup",
                )
            )
    if not raw.is_dir():
        return
    for path in sorted(raw.iterdir()):
        rel = f"raw/{path.name}"
        if path.name.endswith(".part"):
            problem = "unfinished file of an interrupted load"
        elif path.suffix == ".parquet" and rel not in catalogued:
            problem = "raw file of a load that never committed (no catalogue row)"
        else:
            continue
        finding = Finding(
            check="raw_store",
            severity="warning",
            subject=rel,
            problem=problem,
            repairable=True,
            action="remove the file",
        )
        if repair:
            path.unlink(missing_ok=True)
            finding.repaired = True
        report.findings.append(finding)


def _batches(ws: Workspace, report: DoctorReport, repair: bool) -> None:
    with ws.session() as s:
        stuck = s.execute(
            select(ImportBatch.id, ImportBatch.source, ImportBatch.file_name).where(
                ImportBatch.status == "running"
            )
        ).all()
        for batch_id, source, file_name in stuck:
            finding = Finding(
                check="batches",
                severity="warning",
                subject=f"batch {batch_id} ({source}: {file_name or '—'})",
                problem="still 'running': the process that opened it stopped before finishing",
                repairable=True,
                action="mark it failed (it wrote nothing: its data never committed)",
            )
            if repair:
                s.execute(
                    update(ImportBatch)
                    .where(ImportBatch.id == batch_id, ImportBatch.status == "running")
                    .values(
                        status="failed",
                        finished_at=utcnow(),
                        message="interrupted; marked failed by bigov doctor --repair",
                    )
                )
                finding.repaired = True
            report.findings.append(finding)


def _packs(ws: Workspace, report: DoctorReport, repair: bool, packs_dir: Path) -> None:
    from bigov.governance.cycle_models import Cycle, CycleArtefact, CycleStatus

    with ws.session() as s:
        published = s.execute(
            select(Cycle.id, Cycle.code).where(Cycle.status == CycleStatus.PUBLISHED)
        ).all()
        artefacts: dict[int, list[tuple[str, str, str]]] = {}
        for cycle_id, fmt, path, sha in s.execute(
            select(
                CycleArtefact.cycle_id,
                CycleArtefact.format,
                CycleArtefact.path,
                CycleArtefact.sha256,
            )
        ):
            artefacts.setdefault(cycle_id, []).append((fmt, path, sha))
    for cycle_id, code in published:
        recorded = artefacts.get(cycle_id, [])
        # per output folder, the formats to render again
        todo: dict[Path, list[str]] = {}
        problems: list[str] = []
        if not recorded:
            problems.append("published without any pack recorded")
            todo[packs_dir] = list(DEFAULT_PACK_FORMATS)
        for fmt, path, sha in recorded:
            file = Path(path)
            if not file.is_file():
                problems.append(f"{fmt} pack missing ({path})")
                todo.setdefault(file.parent, []).append(fmt)
            elif _sha256(file) != sha:
                problems.append(f"{fmt} pack changed on disk since it was written ({path})")
                todo.setdefault(file.parent, []).append(fmt)
        if not problems:
            continue
        finding = Finding(
            check="packs",
            severity="error",
            subject=f"cycle {code}",
            problem="; ".join(problems),
            repairable=True,
            action="re-render the packs from the cycle's frozen snapshot",
        )
        if repair:
            try:
                for folder, formats in todo.items():
                    ws.governance.write_packs(code, folder, formats)
                finding.repaired = True
            except (BigovError, OSError) as err:
                finding.problem += f" (re-rendering failed: {err})"
        report.findings.append(finding)


def _snapshots(ws: Workspace, report: DoctorReport) -> None:
    from bigov.governance.cycle import doc_hash
    from bigov.governance.cycle_models import Cycle, CycleSnapshot

    with ws.session() as s:
        rows = s.execute(
            select(Cycle.code, CycleSnapshot.document, CycleSnapshot.sha256).join(
                Cycle, Cycle.id == CycleSnapshot.cycle_id
            )
        )
        for code, document, stored in rows:
            if doc_hash(document) != stored:
                report.findings.append(
                    Finding(
                        check="snapshots",
                        severity="error",
                        subject=f"cycle {code}",
                        problem="snapshot document does not match its stored hash",
                        action="restore from a backup; re-run the cycle as a new version",
                    )
                )


def _links(ws: Workspace, report: DoctorReport) -> None:
    """References a foreign key cannot guard: a decision answers an OTC *by version number*
    (``decision_otc``), so a version removed later (by hand, or by an old release's revert)
    leaves the decision pointing at nothing."""
    from bigov.governance.decision_links import DecisionOtc
    from bigov.raid.models import RaidItem
    from bigov.strategy.models import Otc, OtcVersion

    with ws.session() as s:
        rows = s.execute(
            select(RaidItem.code, Otc.code, DecisionOtc.otc_version)
            .join(RaidItem, RaidItem.id == DecisionOtc.raid_item_id)
            .join(Otc, Otc.id == DecisionOtc.otc_id)
            .outerjoin(
                OtcVersion,
                (OtcVersion.otc_id == DecisionOtc.otc_id)
                & (OtcVersion.version == DecisionOtc.otc_version),
            )
            .where(OtcVersion.id.is_(None))
            .order_by(RaidItem.code)
        )
        for raid, otc, version in rows:
            report.findings.append(
                Finding(
                    check="links",
                    severity="error",
                    subject=f"decision {raid}",
                    problem=f"answers {otc}@v{version}, which no longer exists",
                    action=f"re-point it by importing a decision_otc row for {raid}, "
                    "or restore from a backup",
                )
            )


def _codes_and_text(ws: Workspace, report: DoctorReport, repair: bool) -> None:
    """Stored records against the code rule and for control characters in text: data written
    before the rule existed. Text is cleaned on repair (as the import door cleans it); a code
    is only reported, since renaming a common reference is a decision for its owner."""
    from bigov.codes import code_problem, has_control, is_fact_kind, safe_repr, strip_control
    from bigov.db.base import Base, Entity, text_columns
    from bigov.db.registry import load_models

    load_models()  # every kind is checked, not only those this process happened to map
    mappers = [m for m in Base.registry.mappers if issubclass(m.class_, Entity)]
    for mapper in sorted(mappers, key=lambda m: m.class_.__tablename__):
        table = mapper.class_.__table__
        kind = table.name
        fact = is_fact_kind(kind)
        texts = [(mapper.attrs[key].columns[0], long) for key, long in text_columns(mapper)]
        bad_codes: list[str] = []
        dirty: dict[int, dict[str, str]] = {}
        with ws.engine.connect() as conn:
            query = select(table.c.id, table.c.code, *(col for col, _ in texts))
            for row in conn.execute(query).yield_per(5000):
                if code_problem(row[1], kind, fact=fact) is not None:
                    bad_codes.append(row[1])
                for (col, long_text), value in zip(texts, row[2:], strict=True):
                    if isinstance(value, str) and has_control(value, long_text=long_text):
                        clean = strip_control(value, long_text=long_text)
                        dirty.setdefault(row[0], {})[col.name] = clean
        if bad_codes:
            shown = ", ".join(safe_repr(c, 40) for c in bad_codes[:3])
            report.findings.append(
                Finding(
                    check="codes_and_text",
                    severity="warning",
                    subject=f"{kind}: {len(bad_codes)} code(s)",
                    problem=f"codes that break the code rule (e.g. {shown}); see docs/codes.md",
                    action="re-key these records in their master source and re-import",
                )
            )
        if dirty:
            finding = Finding(
                check="codes_and_text",
                severity="warning",
                subject=f"{kind}: {len(dirty)} row(s)",
                problem="text holding control or bidi characters (can stop exports and packs)",
                repairable=True,
                action="strip the characters, as the import door does",
            )
            if repair:
                with ws.engine.begin() as conn:
                    for row_id, values in dirty.items():
                        conn.execute(update(table).where(table.c.id == row_id).values(**values))
                finding.repaired = True
            report.findings.append(finding)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = ["CHECKS", "DoctorReport", "Finding", "diagnose"]
