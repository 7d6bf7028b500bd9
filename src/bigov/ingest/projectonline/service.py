"""Migrate a Project Online export into a workspace, in order, and report on it.

:func:`migrate` is what ``bigov migrate projectonline`` (and the tests) call. The steps:

1. read the export (:mod:`.source`) and work out every batch (:mod:`.transform`), setting bad
   rows aside with their reason;
2. import the entity batches in load order — Projects, Resources, Tasks, Assignments, Issues,
   Risks — each one all-or-nothing through the ordinary import (``source = projectonline``); a
   batch the validator refuses is reported with every problem and the next batches still run;
3. remember each migrated project's GUID (:class:`~.models.ExternalRef`);
4. write business drivers, prioritisations (a new version only when the weights changed, so
   a second run writes none) and driver ratings through the portfolio service;
5. import the schedule folder (``schedules/`` under the source, or ``--schedules``), one batch per
   file (:mod:`.schedules`);
6. reconcile cost, actual cost, baseline cost and work between the source and what bigov now
   holds, project by project.

With ``dry_run`` everything is read, checked and validated against the workspace (all batches
at once, so their references resolve), and nothing is written.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import delete, func, select

from bigov.db.batch import ImportBatch
from bigov.errors import NotFoundError, ValidationError
from bigov.finance.models import CostLine
from bigov.ingest.mapping import Mapping, RecordSet, load_mapping, load_preset
from bigov.ingest.projectonline.config import MigrationConfig, config_from
from bigov.ingest.projectonline.models import ExternalRef
from bigov.ingest.projectonline.report import (
    BatchLine,
    EntityLine,
    MigrationReport,
    PrioritisationLine,
    ProjectLine,
    RejectLine,
    TotalLine,
)
from bigov.ingest.projectonline.schedules import SYSTEM, ScheduleFileResult, import_schedules
from bigov.ingest.projectonline.source import EntityData, SourceOptions, read_source
from bigov.ingest.projectonline.transform import (
    BATCHES,
    ZERO,
    MigrationPlan,
    Reject,
    plan_migration,
)
from bigov.progress import SILENT, Reporter
from bigov.resources.models import Demand
from bigov.work.models import Milestone, WorkItem
from bigov.workspace import Workspace

MEASURES = ("cost", "actual_cost", "baseline_cost", "work")


def load_migration_mapping(path: Path | None) -> tuple[Mapping, MigrationConfig]:
    """The mapping file given, else the shipped ``projectonline`` preset, and its settings."""
    mapping = load_mapping(path) if path else load_preset("projectonline")
    return mapping, config_from(mapping, str(path or "preset projectonline"))


def stored_codes(ws: Workspace) -> dict[str, str]:
    """ProjectId → code of every project an earlier migration stored."""
    with ws.session() as s:
        rows = s.execute(
            select(ExternalRef.external_id, ExternalRef.code).where(
                ExternalRef.system == SYSTEM, ExternalRef.kind == "work_item"
            )
        ).all()
    return dict(rows)


def migrate(
    ws: Workspace,
    source: Path,
    *,
    mapping: Path | None = None,
    schedules: Path | None = None,
    dry_run: bool = False,
    user: str | None = None,
    reporter: Reporter = SILENT,
) -> MigrationReport:
    """Migrate the export at ``source`` (see the module docstring).

    Raises:
        ConfigError: a bad mapping.
        ValidationError: an export that cannot be read at all (no entity set, a broken file,
            incomplete JSON pages); bad *rows* are reported, never raised.
    """
    from bigov.db.batch import current_user

    user = user or current_user()
    loaded, config = load_migration_mapping(mapping)
    reporter.start(f"reading {source.name}")
    source_data = read_source(
        source,
        SourceOptions(
            number_format=loaded.number_format,
            date_order=config.date_order,
            date_formats=loaded.date_formats,
        ),
    )
    reporter.finish()
    data = source_data.sets
    plan = plan_migration(data, config, known=stored_codes(ws), codes=loaded.codes)
    plan.notes[:0] = source_data.notes
    batches = _import_batches(ws, plan, source, user=user, dry_run=dry_run, reporter=reporter)
    if not dry_run:
        _remember_projects(ws, plan)
    prioritisations, rated = _portfolio(ws, plan, dry_run=dry_run, user=user)
    folder = schedules or (source / config.schedules if config.schedules else None)
    schedule_results: list[ScheduleFileResult] = []
    if folder is not None and folder.is_dir() and source.is_dir():
        schedule_results = import_schedules(
            ws,
            folder,
            user=user,
            dry_run=dry_run,
            currency=config.currency,
            planned={f.guid: (c, f.name) for c, f in plan.projects.items()},
            reporter=reporter,
        ).files
    elif schedules is not None:
        plan.notes.append(f"no schedule folder at {schedules}")
    bigov = _planned_figures(plan) if dry_run else _stored_figures(ws, list(plan.projects))
    return _report(
        source,
        dry_run,
        plan,
        batches,
        prioritisations,
        rated,
        schedule_results,
        bigov,
        data_tasks=_projects_with_tasks(data, plan),
    )


def _import_batches(
    ws: Workspace,
    plan: MigrationPlan,
    source: Path,
    *,
    user: str,
    dry_run: bool,
    reporter: Reporter,
) -> list[BatchLine]:
    from bigov.ingest.service import import_records

    lines: list[BatchLine] = []
    if dry_run:
        everything = _merged(plan)
        if not everything:
            return lines
        try:
            result = import_records(
                ws, everything, source=SYSTEM, file_name=source.name, user=user, dry_run=True
            )
            lines.append(BatchLine(name="all (dry run)", status="dry-run", counts=result.counts))
        except ValidationError as err:
            _batch_failed(plan, "all (dry run)", tuple(BATCHES), err, lines)
        return lines
    for name, sets in plan.batches.items():
        reporter.start(f"importing {name}")
        try:
            result = import_records(
                ws, sets, source=SYSTEM, file_name=f"{source.name}: {name}", user=user
            )
            removed = _prune(ws, plan, name)
            lines.append(
                BatchLine(
                    name=name,
                    status=result.status,
                    batch_id=result.batch_id,
                    counts=result.counts,
                    message=f"{removed} row(s) of an earlier migration no longer in the export "
                    "removed"
                    if removed
                    else None,
                )
            )
            if removed:
                plan.notes.append(
                    f"{name}: {removed} row(s) an earlier migration wrote are no longer in the "
                    "export (the months or milestones moved) and were removed"
                )
        except ValidationError as err:
            _batch_failed(plan, name, BATCHES[name], err, lines)
        finally:
            reporter.finish()
    return lines


# What a batch owns per migrated project: its rows of these kinds that an earlier migration
# wrote and this export no longer has (a project whose dates moved leaves months behind) go.
_PRUNED: dict[str, tuple[str, type[CostLine] | type[Milestone] | type[Demand]]] = {
    "Projects": ("cost_line", CostLine),
    "Tasks": ("milestone", Milestone),
    "Assignments": ("demand", Demand),
}


def _prune(ws: Workspace, plan: MigrationPlan, batch: str) -> int:
    """Delete the stale rows of ``batch``'s kind for the migrated projects; returns how many."""
    if batch not in _PRUNED or not plan.projects:
        return 0
    kind, model = _PRUNED[batch]
    planned = {
        str(row["code"])
        for rs in plan.batches.get(batch, [])
        if rs.kind == kind
        for row in rs.rows
        if row.get("code")
    }
    feed = select(ImportBatch.id).where(ImportBatch.source == SYSTEM)
    with ws.session() as s:
        items = select(WorkItem.id).where(WorkItem.code.in_(list(plan.projects)))
        stale = [
            (row_id, code)
            for row_id, code in s.execute(
                select(model.id, model.code).where(
                    model.work_item_id.in_(items), model.batch_id.in_(feed)
                )
            )
            if code not in planned
        ]
        if stale:
            s.execute(delete(model).where(model.id.in_([i for i, _ in stale])))
    return len(stale)


def _merged(plan: MigrationPlan) -> list[RecordSet]:
    """Every batch as one set of rows for a dry run: a row several batches carry (a person who
    owns a project and is a resource) is merged by code, as the batches would upsert it."""
    merged: dict[tuple[str, str], dict[str, object]] = {}
    out: list[RecordSet] = []
    for sets in plan.batches.values():
        for rs in sets:
            copy = RecordSet(rs.kind, rs.file, rs.sheet)
            for values, row in zip(rs.rows, rs.row_numbers, strict=True):
                code = values.get("code")
                key = (rs.kind, str(code))
                if code is not None and key in merged:
                    merged[key].update(values)
                    continue
                kept = dict(values)
                if code is not None:
                    merged[key] = kept
                copy.add(kept, row)
            if len(copy):
                out.append(copy)
    return out


def _batch_failed(
    plan: MigrationPlan,
    name: str,
    entities: tuple[str, ...],
    err: ValidationError,
    lines: list[BatchLine],
) -> None:
    """A refused batch: its rows count as rejected, each problem is a reject line."""
    lines.append(BatchLine(name=name, status="rejected", message=err.message))
    for entity in entities:
        counts = plan.counts.get(entity)
        if counts is not None:
            counts.rejected += counts.imported
            counts.imported = 0
    for problem in err.problems:
        plan.rejects.append(Reject(name, problem))
    if name == "Projects" or name.startswith("all"):
        plan.projects.clear()


def _remember_projects(ws: Workspace, plan: MigrationPlan) -> None:
    """Store (GUID → code) for the projects now in the workspace; unchanged pairs are left."""
    if not plan.projects:
        return
    with ws.session() as s:
        stored = set(s.scalars(select(WorkItem.code).where(WorkItem.code.in_(list(plan.projects)))))
        existing = {
            r.external_id: r
            for r in s.scalars(
                select(ExternalRef).where(
                    ExternalRef.system == SYSTEM, ExternalRef.kind == "work_item"
                )
            )
        }
        for code, figures in plan.projects.items():
            if code not in stored:
                continue
            ref = existing.get(figures.guid)
            name = figures.name[:255]
            if ref is None:
                s.add(
                    ExternalRef(
                        system=SYSTEM,
                        kind="work_item",
                        external_id=figures.guid,
                        code=code,
                        name=name,
                    )
                )
            elif ref.code != code or ref.name != name:
                ref.code, ref.name = code, name


def _portfolio(
    ws: Workspace, plan: MigrationPlan, *, dry_run: bool, user: str
) -> tuple[list[PrioritisationLine], int]:
    """Drivers, prioritisation versions (only when the weights moved) and ratings."""
    lines: list[PrioritisationLine] = []
    service = ws.portfolio
    have = {d.code for d in service.drivers()} if not dry_run else set()
    if not dry_run:
        for driver in plan.drivers:
            if driver.code not in have:
                service.add_driver(driver.code, driver.name, written_by=user)
    for spec in sorted(plan.prioritisations, key=lambda p: (str(p.effective_from), p.code)):
        total = sum(spec.weights.values())
        normal = {d: float(w / total) for d, w in spec.weights.items()}
        line = PrioritisationLine(
            code=spec.code,
            name=spec.name,
            method=spec.method,
            effective_from=str(spec.effective_from),
            weights={d: round(w, 6) for d, w in sorted(normal.items())},
        )
        lines.append(line)
        if dry_run:
            continue
        current: dict[str, float] | None = None
        try:
            info = service.prioritisation(spec.code)
            line.version = info.current_version
            if info.versions:
                current = info.versions[-1]["weights"]
        except NotFoundError:
            current = None
        if current is not None and {d: round(w, 6) for d, w in current.items()} == line.weights:
            continue
        reason = f"migrated from Project Online ({spec.method} prioritization"
        if spec.consistency_ratio is not None:
            reason += f", consistency ratio {spec.consistency_ratio}"
        info = service.prioritise(
            spec.code,
            weights={d: float(w) for d, w in spec.weights.items()},
            name=spec.name,
            org_unit=spec.org_unit if spec.org_unit and _exists_org(ws, spec.org_unit) else None,
            effective_from=spec.effective_from,
            reason=reason + ")",
            written_by=user,
        )
        line.version, line.written = info.current_version, True
    rated = 0
    if plan.ratings and not dry_run:
        stored = service.ratings()
        wanted = {
            item: {d: s for d, s in row.items() if stored.get(item, {}).get(d) != s}
            for item, row in plan.ratings.items()
            if item in plan.projects
        }
        wanted = {k: v for k, v in wanted.items() if v}
        known = {d.code for d in service.drivers()}
        unknown = sorted({d for row in wanted.values() for d in row} - known)
        if unknown:
            plan.notes.append(f"ratings against unknown drivers left out: {', '.join(unknown)}")
            wanted = {k: {d: s for d, s in v.items() if d in known} for k, v in wanted.items()}
        if any(wanted.values()):
            service.rate(wanted, note="Project Online impact rating", written_by=user)
    if plan.ratings:
        rated = sum(len(r) for k, r in plan.ratings.items() if k in plan.projects)
    return lines, rated


def _exists_org(ws: Workspace, code: str) -> bool:
    from bigov.org.models import OrgUnit

    with ws.session() as s:
        return s.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None


def _stored_figures(ws: Workspace, codes: list[str]) -> dict[str, dict[str, Decimal]]:
    """Cost, actual and baseline cost (cost lines) and work (demand hours) per work item."""
    out: dict[str, dict[str, Decimal]] = {c: dict.fromkeys(MEASURES, ZERO) for c in codes}
    if not codes:
        return out
    with ws.session() as s:
        for code, forecast, actual, budget in s.execute(
            select(
                WorkItem.code,
                func.sum(CostLine.forecast),
                func.sum(CostLine.actual),
                func.sum(CostLine.budget),
            )
            .join(CostLine, CostLine.work_item_id == WorkItem.id)
            .where(WorkItem.code.in_(codes))
            .group_by(WorkItem.code)
        ):
            out[code]["cost"] = _cents(forecast)
            out[code]["actual_cost"] = _cents(actual)
            out[code]["baseline_cost"] = _cents(budget)
        for code, hours in s.execute(
            select(WorkItem.code, func.sum(Demand.hours))
            .join(Demand, Demand.work_item_id == WorkItem.id)
            .where(WorkItem.code.in_(codes))
            .group_by(WorkItem.code)
        ):
            out[code]["work"] = _cents(hours)
    return out


def _cents(value: object) -> Decimal:
    if value is None:
        return ZERO
    # SQLite sums floats: the stored cents come back within a float's error of the exact sum
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _planned_figures(plan: MigrationPlan) -> dict[str, dict[str, Decimal]]:
    out: dict[str, dict[str, Decimal]] = {c: dict.fromkeys(MEASURES, ZERO) for c in plan.projects}
    for sets in plan.batches.values():
        for rs in sets:
            if rs.kind not in ("cost_line", "demand"):
                continue
            for row in rs.rows:
                code = row.get("work_item")
                if code not in out:
                    continue
                if rs.kind == "cost_line":
                    out[code]["cost"] += row.get("forecast") or ZERO
                    out[code]["actual_cost"] += row.get("actual") or ZERO
                    out[code]["baseline_cost"] += row.get("budget") or ZERO
                else:
                    out[code]["work"] += row.get("hours") or ZERO
    return out


def _projects_with_tasks(data: dict[str, EntityData], plan: MigrationPlan) -> set[str]:
    """Codes of projects the feed holds a schedule for (any task besides the summary)."""
    tasks = data.get("Tasks")
    out: set[str] = set()
    if tasks is None:
        return out
    for row in tasks.rows:
        guid = row.values.get("ProjectId")
        if row.values.get("TaskIsProjectSummary") or guid not in plan.guid_codes:
            continue
        out.add(plan.guid_codes[guid])
    return out


def _report(
    source: Path,
    dry_run: bool,
    plan: MigrationPlan,
    batches: list[BatchLine],
    prioritisations: list[PrioritisationLine],
    rated: int,
    schedule_results: list[ScheduleFileResult],
    bigov: dict[str, dict[str, Decimal]],
    *,
    data_tasks: set[str],
) -> MigrationReport:
    totals_bigov: dict[str, Decimal] = defaultdict(lambda: ZERO)
    totals_source: dict[str, Decimal] = defaultdict(lambda: ZERO)
    projects: list[ProjectLine] = []
    for code, figures in sorted(plan.projects.items()):
        source_values = {m: getattr(figures, m) for m in MEASURES}
        stored = bigov.get(code, dict.fromkeys(MEASURES, ZERO))
        projects.append(
            ProjectLine(
                code=code, name=figures.name, guid=figures.guid, source=source_values, bigov=stored
            )
        )
        for m in MEASURES:
            totals_source[m] += source_values[m]
            totals_bigov[m] += stored[m]
    totals = [
        TotalLine(
            measure=m,
            source_all_rows=plan.source_totals.get(m, ZERO),
            source_imported=totals_source[m],
            bigov=totals_bigov[m],
        )
        for m in MEASURES
    ]
    scheduled = {f.project for f in schedule_results if f.matched_by and f.status != "failed"}
    return MigrationReport(
        source=str(source),
        dry_run=dry_run,
        entities=[
            EntityLine(entity=name, read=c.read, imported=c.imported, rejected=c.rejected)
            for name, c in plan.counts.items()
        ],
        rejects=[
            RejectLine(
                entity=r.entity,
                file=r.problem.file,
                sheet=r.problem.sheet,
                row=r.problem.row,
                column=r.problem.column,
                value=r.problem.value,
                reason=r.problem.reason,
            )
            for r in plan.rejects
        ],
        batches=batches,
        totals=totals,
        projects=projects,
        drivers=[d.code for d in plan.drivers],
        prioritisations=prioritisations,
        last_prioritisation=plan.last_prioritisation,
        ratings=rated,
        analyses=[
            {k: (str(v) if v is not None else None) for k, v in a.items()} for a in plan.analyses
        ],
        schedules=schedule_results,
        projects_without_schedule=sorted(
            code for code in plan.projects if code not in scheduled and code not in data_tasks
        ),
        schedules_without_project=[
            f.file for f in schedule_results if not f.matched_by and f.status != "failed"
        ],
        unmapped_custom_fields=plan.unmapped_custom_fields,
        notes=plan.notes,
    )
