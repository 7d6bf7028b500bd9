"""Project Online entity sets → bigov rows, batch by batch, with every bad row set aside.

:func:`plan_migration` touches no database. It returns the rows of each entity batch (in load
order), the rows it rejected with their reason, the source figures of every accepted project (for
the reconciliation), and the drivers, prioritisations and ratings the portfolio step writes.

What becomes what:

* **Projects** → a ``work_item`` per project (kind, nature, category from its enterprise project
  type, overridden by mapped custom fields; owner a ``person``; portfolio and programme work items
  from custom fields or the type), and monthly ``cost_line`` rows: budget = ProjectBaselineCost
  over the baseline dates, forecast = ProjectCost over start..finish, actual = ProjectActualCost
  from the actual start to the status date (or finish). Each is split into whole cents by the
  largest remainder, so every project's lines add up to its source figures exactly.
* **Tasks** → a ``milestone`` per milestone task; the project summary task fills project dates
  the Projects row lacks.
* **Resources** → ``skill`` per role (a generic resource is a role; a named one takes its role
  custom field, else its group), ``person`` per named resource, ``org_unit`` per department, and
  ``capacity`` by department, role and month from ResourceTimephasedDataSet.
* **AssignmentTimephasedDataSet** (else **Assignments**, spread evenly over weekdays) →
  ``demand`` by project, role and month: hours (rounded so each project's total is exact to the
  hundredth) and FTE.
* **Issues** and **Risks** → ``raid_item`` rows on their project.
* **BusinessDrivers**, **Prioritizations** and **PrioritizationDrivers** → drivers and
  prioritisations with their weights (written by the service, not as an import batch).

Rows are rejected — with file, row, column and reason — for: cells that cannot be typed, a missing
key or name, an unknown enterprise project type (when the mapping says ``reject``), negative cost
or work, a custom field value that is not one of bigov's, money without dates to place it in, and
children of a project that was rejected or is not in the export.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bigov.errors import Problem
from bigov.ingest.mapping import RecordSet
from bigov.ingest.parse import enum_key
from bigov.ingest.projectonline.config import MigrationConfig, Target
from bigov.ingest.projectonline.schema import header_key
from bigov.ingest.projectonline.source import EntityData, SourceRow
from bigov.ingest.schedule import allocate_money, fte_hours_in_month, slug, spread_by_month

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
PROJECT_CODE_LENGTH = 32  # as schedules: room for "-D-<skill:20>-YYYY-MM" in 64 characters
SKILL_CODE_LENGTH = 20
# Drivers and prioritisations: the portfolio service codes a weight "<prioritisation>/vN/<driver>",
# which must fit 64 characters with both prefixes.
NAME_CODE_LENGTH = 24
UNASSIGNED = "Unassigned work"  # the role of project work the export gives no assignment for

NATURES = ("run", "change")
CATEGORIES = ("run", "grow", "transform")
PHASES = ("identification", "definition", "delivery", "closure", "closed", "cancelled")

# Batches in load order: name → the entity sets whose rows it carries.
BATCHES: dict[str, tuple[str, ...]] = {
    "Projects": ("Projects",),
    "Resources": ("Resources", "ResourceTimephasedDataSet"),
    "Tasks": ("Tasks",),
    "Assignments": ("Assignments", "AssignmentTimephasedDataSet"),
    "Issues": ("Issues",),
    "Risks": ("Risks",),
}


@dataclass
class Counts:
    """Rows of one entity set: read, imported, rejected (with the reasons in the rejects)."""

    read: int = 0
    imported: int = 0
    rejected: int = 0


@dataclass
class ProjectFigures:
    """One accepted project's source figures, to reconcile against what bigov stores."""

    code: str
    name: str
    guid: str
    cost: Decimal = ZERO
    actual_cost: Decimal = ZERO
    baseline_cost: Decimal = ZERO
    work: Decimal = ZERO


@dataclass
class DriverSpec:
    code: str
    name: str
    description: str | None
    guid: str | None


@dataclass
class PrioritisationSpec:
    code: str
    name: str
    description: str | None
    guid: str
    effective_from: dt.date
    modified: dt.datetime | dt.date | None
    org_unit: str | None
    weights: dict[str, Decimal]
    method: str  # manual | calculated
    consistency_ratio: Decimal | None = None


@dataclass
class Reject:
    entity: str
    problem: Problem


@dataclass
class MigrationPlan:
    """Everything :func:`plan_migration` worked out (see the module docstring)."""

    batches: dict[str, list[RecordSet]] = field(default_factory=dict)
    counts: dict[str, Counts] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    projects: dict[str, ProjectFigures] = field(default_factory=dict)
    source_totals: dict[str, Decimal] = field(default_factory=dict)  # every row read
    guid_codes: dict[str, str] = field(default_factory=dict)  # ProjectId → code (accepted)
    name_codes: dict[str, str] = field(default_factory=dict)  # name key → code (accepted)
    drivers: list[DriverSpec] = field(default_factory=list)
    prioritisations: list[PrioritisationSpec] = field(default_factory=list)
    last_prioritisation: str | None = None
    ratings: dict[str, dict[str, float]] = field(default_factory=dict)
    unmapped_custom_fields: dict[str, list[str]] = field(default_factory=dict)
    analyses: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Rows:
    """Rows of one batch by kind and file, de-duplicated by code (first wins)."""

    def __init__(self) -> None:
        self.sets: dict[tuple[str, str], RecordSet] = {}
        self.codes: dict[str, set[str]] = defaultdict(set)

    def add(self, kind: str, values: dict[str, Any], where: SourceRow | None = None) -> None:
        code = values.get("code")
        if code is not None:
            if code in self.codes[kind]:
                return
            self.codes[kind].add(code)
        file = where.file if where else "(derived)"
        key = (kind, file)
        if key not in self.sets:
            self.sets[key] = RecordSet(kind, file, where.sheet if where else None)
        self.sets[key].add(values, where.row if where else None)

    def recordsets(self) -> list[RecordSet]:
        return [rs for rs in self.sets.values() if len(rs)]


def project_code_for(
    values: dict[str, Any], config: MigrationConfig, known: dict[str, str]
) -> str | None:
    """The bigov code of a Projects row: the one stored for its GUID by an earlier run, else by
    ``options.project_code`` (``name``, ``guid`` or ``field:<custom field>``)."""
    guid = values.get("ProjectId")
    if guid and guid in known:
        return known[guid]
    how = config.project_code.strip()
    if how.casefold() == "guid" and guid:
        return "PWA-" + str(guid).replace("-", "")[:12].upper()
    if how.casefold().startswith("field:"):
        wanted = header_key(how.split(":", 1)[1])
        for prop, value in values.items():
            if header_key(prop) == wanted and value:
                return slug(str(value), PROJECT_CODE_LENGTH)
    name = values.get("ProjectName")
    return slug(str(name), PROJECT_CODE_LENGTH) if name else None


def _money(value: Any) -> Decimal:
    if value is None:
        return ZERO
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def _hours(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(value)


def _span(start: dt.date | None, finish: dt.date | None) -> tuple[dt.date, dt.date] | None:
    if start is None:
        return None
    return start, max(start, finish or start)


def _spread(total: Decimal, span: tuple[dt.date, dt.date] | None) -> dict[dt.date, Decimal]:
    if total == 0 or span is None:
        return {}
    return allocate_money(total, spread_by_month(1.0, span[0], span[1]))


def _round_cumulative(values: list[tuple[Any, Decimal]]) -> dict[Any, Decimal]:
    """Round each value to hundredths so that the rounded values add up to the rounded total
    (each part is the difference of rounded running sums)."""
    out: dict[Any, Decimal] = {}
    running = Decimal(0)
    previous = ZERO
    for key, value in values:
        running += value
        rounded = running.quantize(CENT, ROUND_HALF_UP)
        out[key] = rounded - previous
        previous = rounded
    return out


def _short_hash(text: str, n: int = 8) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n].upper()


class _Planner:
    def __init__(
        self,
        data: dict[str, EntityData],
        config: MigrationConfig,
        known: dict[str, str],
        codes: dict[str, dict[str, str]],
    ) -> None:
        self.data = data
        self.config = config
        self.known = known
        self.codes = codes  # the mapping's code translations (owner, org_unit, portfolio, ...)
        self.plan = MigrationPlan()
        self.batches: dict[str, _Rows] = {name: _Rows() for name in BATCHES}
        self.bad_rows: dict[tuple[str, int | None, str | None], Problem] = {}
        for entity in data.values():
            self.plan.counts[entity.name] = Counts(read=len(entity.rows) + _dropped(entity))
            for p in entity.problems:
                self.bad_rows.setdefault((p.file or "", p.row, p.sheet), p)
            # a second, different record under one key was dropped when reading: reject it here
            for p in entity.problems:
                if "same key" in p.reason:
                    self._reject(entity.name, p)
        self.person_codes: dict[str, str] = {}
        self.spans: dict[str, tuple[dt.date, dt.date] | None] = {}  # project code -> dates
        self.summary_tasks: dict[str, dict[str, Any]] = {}

    # -- helpers -------------------------------------------------------------------------------

    def _reject(self, entity: str, problem: Problem) -> None:
        self.plan.rejects.append(Reject(entity, problem))
        self.plan.counts.setdefault(entity, Counts()).rejected += 1

    def _typing_problem(self, row: SourceRow) -> Problem | None:
        return self.bad_rows.get((row.file, row.row, row.sheet))

    def _accept(self, entity: str) -> None:
        self.plan.counts.setdefault(entity, Counts()).imported += 1

    def _translate(self, what: str, text: str) -> str | None:
        table = self.codes.get(what, {})
        return table.get(text) or table.get(text.strip())

    def org_unit(self, batch: str, name: str, where: SourceRow | None) -> str:
        code = self._translate("org_unit", name)
        if code:
            return code
        code = "OU-" + slug(name, 40)
        self.batches[batch].add(
            "org_unit", {"code": code, "name": name[:255], "kind": "department"}, where
        )
        return code

    def person(self, batch: str, name: str, where: SourceRow | None, **extra: Any) -> str:
        code = self._translate("owner", name) or self._translate("person", name)
        if code:
            return code
        code = "PER-" + slug(name, 40)
        values = {"code": code, "name": name[:255]}
        values.update({k: v for k, v in extra.items() if v is not None})
        self.batches[batch].add("person", values, where)
        return code

    def skill(self, batch: str, role: str, where: SourceRow | None) -> str:
        code = slug(role, SKILL_CODE_LENGTH)
        self.batches[batch].add("skill", {"code": code, "name": role[:255]}, where)
        return code

    def project_of(self, entity: str, row: SourceRow) -> str | None:
        """The accepted project a child row belongs to (by ProjectId, else ProjectName); rejects
        the row when there is none."""
        guid = row.values.get("ProjectId")
        if guid and guid in self.plan.guid_codes:
            return self.plan.guid_codes[guid]
        name = row.values.get("ProjectName")
        if not guid and name and header_key(str(name)) in self.plan.name_codes:
            return self.plan.name_codes[header_key(str(name))]
        rejected = guid in self.rejected_projects if guid else False
        reason = (
            f"its project {guid} was rejected"
            if rejected
            else f"no project with ProjectId {guid} in the export"
            if guid
            else "no ProjectId (nor a known ProjectName) to attach it to"
        )
        self._reject(entity, row.where("ProjectId", guid, reason))
        return None

    # -- entity sets ---------------------------------------------------------------------------

    def run(self) -> MigrationPlan:
        self.rejected_projects: set[str] = set()
        self._summary_tasks()
        self._projects()
        roles = self._resources()
        self._tasks()
        self._demand(roles)
        self._raid("Issues", "issue")
        self._raid("Risks", "risk")
        self._drivers()
        self._analyses()
        self._unmapped()
        for name, rows in self.batches.items():
            sets = rows.recordsets()
            if sets:
                self.plan.batches[name] = sets
        return self.plan

    def _summary_tasks(self) -> None:
        tasks = self.data.get("Tasks")
        if tasks is None:
            return
        for row in tasks.rows:
            if row.values.get("TaskIsProjectSummary") and row.values.get("ProjectId"):
                self.summary_tasks[row.values["ProjectId"]] = row.values

    def _projects(self) -> None:
        data = self.data.get("Projects")
        if data is None:
            self.plan.notes.append("the export has no Projects entity set")
            return
        totals: dict[str, Decimal] = defaultdict(Decimal)
        used: dict[str, str] = {}
        batch = "Projects"
        for row in data.rows:
            v = row.values
            for key, prop in (
                ("cost", "ProjectCost"),
                ("actual_cost", "ProjectActualCost"),
                ("baseline_cost", "ProjectBaselineCost"),
                ("work", "ProjectWork"),
            ):
                if v.get(prop) is not None:
                    totals[key] += Decimal(v[prop])
            guid = v.get("ProjectId")
            problem = self._project_problem(row)
            if problem is not None:
                if guid:
                    self.rejected_projects.add(guid)
                self._reject("Projects", problem)
                continue
            assert guid is not None
            entry = self.config.project_type(v.get("EnterpriseProjectTypeName"))
            assert entry is not None
            code = project_code_for(v, self.config, self.known)
            assert code is not None
            if code in used and used[code] != guid:
                code = f"{code[: PROJECT_CODE_LENGTH - 5]}-{guid[:4].upper()}"
                self.plan.notes.append(
                    f"two projects are named {v.get('ProjectName')!r}: the second is {code}"
                )
            used[code] = guid
            item, problem = self._work_item(row, code, entry)
            if problem is not None:
                self.rejected_projects.add(guid)
                self._reject("Projects", problem)
                continue
            self.batches[batch].add("work_item", item, row)
            self.spans[code] = _span(item["forecast_start"], item["forecast_finish"])
            self._cost_lines(row, code, item)
            self._ratings(row, code)
            figures = ProjectFigures(
                code=code,
                name=str(v["ProjectName"]),
                guid=guid,
                cost=_money(v.get("ProjectCost")),
                actual_cost=_money(v.get("ProjectActualCost")),
                baseline_cost=_money(v.get("ProjectBaselineCost")),
                work=_hours(v.get("ProjectWork")).quantize(CENT, ROUND_HALF_UP),
            )
            self.plan.projects[code] = figures
            self.plan.guid_codes[guid] = code
            self.plan.name_codes.setdefault(header_key(figures.name), code)
            self._accept("Projects")
        self.plan.source_totals = {
            k: totals[k].quantize(CENT, ROUND_HALF_UP)
            for k in ("cost", "actual_cost", "baseline_cost", "work")
        }

    def _project_problem(self, row: SourceRow) -> Problem | None:
        v = row.values
        typing = self._typing_problem(row)
        if typing is not None:
            return typing
        if not v.get("ProjectId"):
            return row.where("ProjectId", None, "ProjectId is empty")
        if not v.get("ProjectName"):
            return row.where("ProjectName", None, "ProjectName is empty")
        type_name = v.get("EnterpriseProjectTypeName")
        if self.config.project_type(type_name) is None and not type_name:
            return row.where(
                "EnterpriseProjectTypeName",
                None,
                "EnterpriseProjectTypeName is empty (unknown_project_type is reject)",
            )
        if self.config.project_type(type_name) is None:
            return row.where(
                "EnterpriseProjectTypeName",
                type_name,
                f"unknown enterprise project type {type_name!r}: add it under "
                "options.project_types of the mapping (unknown_project_type is reject)",
            )
        for prop in (
            "ProjectCost",
            "ProjectActualCost",
            "ProjectBaselineCost",
            "ProjectWork",
            "ProjectActualWork",
        ):
            value = v.get(prop)
            if value is not None and value < 0:
                return row.where(prop, value, f"{prop} is negative")
        pct = v.get("ProjectPercentCompleted")
        if pct is not None and not 0 <= pct <= 100:
            return row.where("ProjectPercentCompleted", pct, "percent complete outside 0..100")
        return None

    def _work_item(
        self, row: SourceRow, code: str, entry: Any
    ) -> tuple[dict[str, Any], Problem | None]:
        v = dict(row.values)
        summary = self.summary_tasks.get(v["ProjectId"], {})
        for prop, task_prop in (
            ("ProjectStartDate", "TaskStartDate"),
            ("ProjectFinishDate", "TaskFinishDate"),
            ("ProjectBaselineStartDate", "TaskBaselineStartDate"),
            ("ProjectBaselineFinishDate", "TaskBaselineFinishDate"),
            ("ProjectActualStartDate", "TaskActualStartDate"),
            ("ProjectActualFinishDate", "TaskActualFinishDate"),
        ):
            if v.get(prop) is None and summary.get(task_prop) is not None:
                v[prop] = summary[task_prop]
        row.values.update({k: val for k, val in v.items() if k not in row.values})
        fields: dict[str, Any] = {
            "nature": entry.nature,
            "category": entry.category,
            "phase": entry.phase,
            "portfolio": entry.portfolio,
        }
        for prop, value in v.items():
            mapped, target = self.config.custom_field_target(prop)
            if not mapped or target is None or value is None:
                continue
            text = str(value).split(";")[0].strip() if target != "description" else str(value)
            if not text:
                continue
            if target in ("nature", "category", "phase"):
                translated = enum_key(self.config.value_for(target, text))
                allowed = {"nature": NATURES, "category": CATEGORIES, "phase": PHASES}[target]
                if translated not in allowed:
                    return {}, row.where(
                        prop,
                        value,
                        f"custom field {prop}: {text!r} is not one of {', '.join(allowed)} "
                        f"(translate it under options.values.{target} of the mapping)",
                    )
                fields[target] = translated
            else:
                fields[target] = self.config.value_for(target, text)
        pct = v.get("ProjectPercentCompleted")
        phase = fields["phase"] or _phase(pct, v.get("ProjectActualStartDate"), v)
        parent = None
        portfolio = fields.get("portfolio")
        programme = fields.get("programme")
        portfolio_code = self._container("portfolio", portfolio, None, row) if portfolio else None
        if programme:
            parent = self._container("programme", programme, portfolio_code, row)
        elif portfolio_code:
            parent = portfolio_code
        item: dict[str, Any] = {
            "code": code,
            "name": str(v["ProjectName"])[:255],
            "kind": entry.kind,
            "parent": parent,
            "nature": fields["nature"],
            "category": fields["category"],
            "phase": phase,
            "description": fields.get("description") or v.get("ProjectDescription"),
            "owner": (
                self.person("Projects", str(v["ProjectOwnerName"]), row)
                if v.get("ProjectOwnerName")
                else None
            ),
            "org_unit": (
                self.org_unit("Projects", str(fields["org_unit"]), row)
                if fields.get("org_unit")
                else None
            ),
            "baseline_start": v.get("ProjectBaselineStartDate"),
            "baseline_finish": v.get("ProjectBaselineFinishDate"),
            "forecast_start": v.get("ProjectStartDate"),
            "forecast_finish": v.get("ProjectFinishDate"),
            "actual_start": v.get("ProjectActualStartDate"),
            "actual_finish": v.get("ProjectActualFinishDate"),
            "percent_complete": None if pct is None else Decimal(pct),
            "whole_life_cost": None if v.get("ProjectCost") is None else _money(v["ProjectCost"]),
        }
        for money, (start, finish) in (
            ("ProjectCost", ("ProjectStartDate", "ProjectFinishDate")),
            ("ProjectActualCost", ("ProjectActualStartDate", "ProjectStartDate")),
            ("ProjectBaselineCost", ("ProjectBaselineStartDate", "ProjectStartDate")),
        ):
            if _money(v.get(money)) != 0 and v.get(start) is None and v.get(finish) is None:
                return {}, row.where(
                    money, v.get(money), f"{money} without dates to place it in a period"
                )
        return item, None

    def _container(self, what: Target, name: str, parent: str | None, row: SourceRow) -> str:
        code = self._translate(what, name)
        if code:
            return code
        prefix = "PF-" if what == "portfolio" else "PG-"
        code = prefix + slug(name, 40)
        values: dict[str, Any] = {"code": code, "name": name[:255], "kind": what}
        if parent:
            values["parent"] = parent
        self.batches["Projects"].add("work_item", values, row)
        return code

    def _cost_lines(self, row: SourceRow, code: str, item: dict[str, Any]) -> None:
        v = row.values
        start, finish = item["forecast_start"], item["forecast_finish"]
        project_span = _span(start, finish)
        baseline_span = _span(item["baseline_start"], item["baseline_finish"]) or project_span
        status = v.get("ProjectStatusDate")
        actual_start = item["actual_start"] or start
        actual_end = item["actual_finish"] or (
            min(status, finish) if status and finish else status or finish
        )
        actual_span = _span(actual_start, actual_end)
        budget = _spread(_money(v.get("ProjectBaselineCost")), baseline_span)
        forecast = _spread(_money(v.get("ProjectCost")), project_span)
        actual = _spread(_money(v.get("ProjectActualCost")), actual_span)
        for period in sorted(set(budget) | set(forecast) | set(actual)):
            self.batches["Projects"].add(
                "cost_line",
                {
                    "code": f"{code}-C-{period:%Y-%m}",
                    "work_item": code,
                    "period": period,
                    "budget": budget.get(period, ZERO),
                    "forecast": forecast.get(period, ZERO),
                    "actual": actual.get(period),
                    "currency": str(v.get("ProjectCurrency") or self.config.currency)[:3].upper(),
                },
                row,
            )

    def _ratings(self, row: SourceRow, code: str) -> None:
        if not self.config.driver_ratings:
            return
        scale = {header_key(k): v for k, v in self.config.impact_scale.items()}
        for prop, value in row.values.items():
            for field_name, driver in self.config.driver_ratings.items():
                if header_key(field_name) != header_key(prop) or value is None:
                    continue
                text = str(value).strip()
                score = scale.get(header_key(text))
                if score is None:
                    try:
                        score = Decimal(text)
                    except ArithmeticError:
                        self.plan.notes.append(
                            f"{row.file} row {row.row}: {prop} {text!r} is not an impact rating"
                        )
                        continue
                driver_code = "DRV-" + slug(driver, NAME_CODE_LENGTH)
                self.plan.ratings.setdefault(code, {})[driver_code] = float(score)

    def _resources(self) -> dict[str, tuple[str, str | None]]:
        """{ResourceId: (role, org unit code)} of every accepted resource."""
        roles: dict[str, tuple[str, str | None]] = {}
        data = self.data.get("Resources")
        batch = "Resources"
        if data is not None:
            for row in data.rows:
                v = row.values
                problem = self._typing_problem(row)
                if problem is None and not v.get("ResourceId"):
                    problem = row.where("ResourceId", None, "ResourceId is empty")
                if problem is None and not v.get("ResourceName"):
                    problem = row.where("ResourceName", None, "ResourceName is empty")
                if problem is not None:
                    self._reject("Resources", problem)
                    continue
                role = self._role_of(v)
                org_name = self._prop(v, self.config.resource_org_field)
                org = self.org_unit(batch, str(org_name).split(";")[0], row) if org_name else None
                self.skill(batch, role, row)
                if not v.get("ResourceIsGeneric"):
                    self.person(
                        batch, str(v["ResourceName"]), row, email=v.get("ResourceEmailAddress"),
                        org_unit=org,
                    )  # fmt: skip
                roles[v["ResourceId"]] = (role, org)
                self._accept("Resources")
        capacity = self.data.get("ResourceTimephasedDataSet")
        if capacity is None:
            return roles
        hours: dict[tuple[str, str, dt.date], Decimal] = defaultdict(Decimal)
        for row in capacity.rows:
            v = row.values
            problem = self._typing_problem(row)
            rid = v.get("ResourceId")
            if problem is None and rid not in roles:
                problem = row.where("ResourceId", rid, "no such resource in Resources")
            if problem is None and v.get("TimeByDay") is None:
                problem = row.where("TimeByDay", None, "TimeByDay is empty")
            cap = v.get("Capacity")
            if problem is None and cap is not None and cap < 0:
                problem = row.where("Capacity", cap, "Capacity is negative")
            if problem is not None:
                self._reject("ResourceTimephasedDataSet", problem)
                continue
            assert rid is not None
            role, org = roles[rid]
            org = org or self.org_unit(batch, self.config.default_org_unit, None)
            day: dt.date = v["TimeByDay"]
            hours[(org, role, day.replace(day=1))] += Decimal(cap or 0)
            self._accept("ResourceTimephasedDataSet")
        for (org, role, period), total in sorted(hours.items()):
            fte = (total / Decimal(str(fte_hours_in_month(period)))).quantize(CENT)
            self.batches[batch].add(
                "capacity",
                {"org_unit": org, "skill": slug(role, SKILL_CODE_LENGTH), "period": period,
                 "fte": fte},
                None,
            )  # fmt: skip
        return roles

    def _prop(self, values: dict[str, Any], name: str | None) -> Any:
        if not name:
            return None
        key = header_key(name)
        for prop, value in values.items():
            if header_key(prop) == key:
                return value
        return None

    def _role_of(self, v: dict[str, Any]) -> str:
        role = self._prop(v, self.config.resource_role_field)
        if role:
            return str(role).split(";")[0].strip()
        if v.get("ResourceIsGeneric"):
            return str(v["ResourceName"])
        if v.get("ResourceGroup"):
            return str(v["ResourceGroup"])
        return "Unspecified role"

    def _tasks(self) -> None:
        data = self.data.get("Tasks")
        if data is None:
            return
        for row in data.rows:
            v = row.values
            problem = self._typing_problem(row)
            if problem is not None:
                self._reject("Tasks", problem)
                continue
            code = self.project_of("Tasks", row)
            if code is None:
                continue
            self._accept("Tasks")
            if not v.get("TaskIsMilestone") or v.get("TaskIsSummary"):
                continue
            index = v.get("TaskIndex")
            suffix = str(index) if index is not None else _short_hash(str(v.get("TaskId")), 6)
            self.batches["Tasks"].add(
                "milestone",
                {
                    "code": f"{code}-M{suffix}",
                    "work_item": code,
                    "name": str(v.get("TaskName") or f"Milestone {suffix}")[:255],
                    "baseline_date": v.get("TaskBaselineFinishDate")
                    or v.get("TaskBaselineStartDate"),
                    "forecast_date": v.get("TaskFinishDate") or v.get("TaskStartDate"),
                    "actual_date": v.get("TaskActualFinishDate"),
                },
                row,
            )

    def _demand(self, roles: dict[str, tuple[str, str | None]]) -> None:
        assignments = self.data.get("Assignments")
        timephased = self.data.get("AssignmentTimephasedDataSet")
        batch = "Assignments"
        by_assignment: dict[str, dict[str, Any]] = {}
        hours: dict[str, dict[tuple[str, dt.date], Decimal]] = defaultdict(
            lambda: defaultdict(Decimal)
        )
        actual: dict[str, dict[tuple[str, dt.date], Decimal]] = defaultdict(
            lambda: defaultdict(Decimal)
        )
        role_rows: dict[str, SourceRow] = {}

        def role_for(v: dict[str, Any]) -> str:
            rid = v.get("ResourceId")
            if rid in roles:
                return roles[rid][0]
            if rid and rid in by_assignment_resource:
                return by_assignment_resource[rid]
            name = v.get("ResourceName")
            return str(name) if name else "Unspecified role"

        by_assignment_resource: dict[str, str] = {}
        if assignments is not None:
            for row in assignments.rows:
                v = row.values
                problem = self._typing_problem(row)
                for prop in ("AssignmentWork", "AssignmentActualWork"):
                    if problem is None and v.get(prop) is not None and v[prop] < 0:
                        problem = row.where(prop, v[prop], f"{prop} is negative")
                if problem is not None:
                    self._reject("Assignments", problem)
                    continue
                code = self.project_of("Assignments", row)
                if code is None:
                    continue
                if v.get("AssignmentId"):
                    by_assignment[v["AssignmentId"]] = {**v, "_code": code, "_row": row}
                self._accept("Assignments")
        timephased_projects: set[str] = set()
        if timephased is not None:
            for row in timephased.rows:
                v = dict(row.values)
                problem = self._typing_problem(row)
                for prop in ("AssignmentWork", "AssignmentActualWork"):
                    if problem is None and v.get(prop) is not None and v[prop] < 0:
                        problem = row.where(prop, v[prop], f"{prop} is negative")
                if problem is None and v.get("TimeByDay") is None:
                    problem = row.where("TimeByDay", None, "TimeByDay is empty")
                if problem is not None:
                    self._reject("AssignmentTimephasedDataSet", problem)
                    continue
                parent = by_assignment.get(v.get("AssignmentId") or "")
                if parent is not None:
                    for k in ("ResourceId", "ResourceName", "ProjectId"):
                        if v.get(k) is None:
                            v[k] = parent.get(k)
                    row.values.setdefault("ProjectId", v.get("ProjectId"))
                code = self.project_of("AssignmentTimephasedDataSet", row)
                if code is None:
                    continue
                role = role_for(v)
                period = v["TimeByDay"].replace(day=1)
                hours[code][(role, period)] += _hours(v.get("AssignmentWork"))
                actual[code][(role, period)] += _hours(v.get("AssignmentActualWork"))
                role_rows.setdefault(role, row)
                timephased_projects.add(code)
                self._accept("AssignmentTimephasedDataSet")
        for a in by_assignment.values():
            code = a["_code"]
            if code in timephased_projects:
                continue
            work = _hours(a.get("AssignmentWork"))
            start, finish = a.get("AssignmentStartDate"), a.get("AssignmentFinishDate")
            if work == 0 or start is None:
                continue
            role = role_for(a)
            role_rows.setdefault(role, a["_row"])
            for period, share in spread_by_month(1.0, start, finish or start).items():
                hours[code][(role, period)] += work * Decimal(repr(share))
            done = _hours(a.get("AssignmentActualWork"))
            if done:
                end = a.get("AssignmentActualFinishDate") or finish or start
                for period, share in spread_by_month(1.0, start, end).items():
                    actual[code][(role, period)] += done * Decimal(repr(share))
        unplaced = [
            code
            for code, figures in self.plan.projects.items()
            if figures.work > 0 and code not in hours and self.spans.get(code)
        ]
        for code in unplaced:
            span = self.spans[code]
            assert span is not None
            total = self.plan.projects[code].work
            for period, share in spread_by_month(1.0, span[0], span[1]).items():
                hours[code][(UNASSIGNED, period)] += total * Decimal(repr(share))
        if unplaced:
            self.plan.notes.append(
                f"{len(unplaced)} project(s) have work but no assignments in the export: it is "
                f"demand of the role {UNASSIGNED!r}, spread over the project's weekdays "
                f"({', '.join(sorted(unplaced))})"
            )
        for code in sorted(hours):
            keys = sorted(hours[code])
            rounded = _round_cumulative([(k, hours[code][k]) for k in keys])
            for role, period in keys:
                skill = self.skill(batch, role, role_rows.get(role))
                per_fte = Decimal(str(fte_hours_in_month(period)))
                done = actual[code].get((role, period), Decimal(0))
                self.batches[batch].add(
                    "demand",
                    {
                        "code": f"{code}-D-{skill}-{period:%Y-%m}",
                        "work_item": code,
                        "skill": skill,
                        "period": period,
                        "hours": rounded[(role, period)],
                        "fte": (hours[code][(role, period)] / per_fte).quantize(
                            CENT, ROUND_HALF_UP
                        ),
                        "actual_fte": (done / per_fte).quantize(CENT, ROUND_HALF_UP)
                        if done
                        else None,
                    },
                    role_rows.get(role),
                )

    def _raid(self, entity: str, kind: str) -> None:
        data = self.data.get(entity)
        if data is None:
            return
        id_prop = "IssueId" if kind == "issue" else "RiskId"
        prefix = "ISS" if kind == "issue" else "RSK"
        for row in data.rows:
            v = row.values
            problem = self._typing_problem(row)
            if problem is None and not v.get("Title"):
                problem = row.where("Title", None, "Title is empty")
            if problem is None and not v.get(id_prop):
                problem = row.where(id_prop, None, f"{id_prop} is empty")
            if problem is not None:
                self._reject(entity, problem)
                continue
            code = self.project_of(entity, row)
            if code is None:
                continue
            who = v.get("AssignedToResource") or v.get("Owner")
            item: dict[str, Any] = {
                "code": f"{code}-{prefix}-{_short_hash(str(v[id_prop]))}",
                "kind": kind,
                "title": str(v["Title"])[:255],
                "description": v.get("Description") or v.get("Discussion"),
                "status": _raid_status(v.get("Status")),
                "owner": self.person(entity, str(who), row) if who else None,
                "work_item": code,
                "raised_on": v.get("CreatedDate"),
                "due_on": v.get("DueDate"),
                "response": _join(
                    v.get("MitigationPlan"), v.get("ContingencyPlan"), v.get("Resolution")
                ),
            }
            if kind == "risk":
                item["probability"] = _scale(v.get("Probability"), Decimal(20))
                item["impact"] = _scale(v.get("Impact"), Decimal(2))
            if item["status"] == "closed":
                item["closed_on"] = v.get("ModifiedDate")
            self.batches[entity].add("raid_item", item, row)
            self._accept(entity)

    def _drivers(self) -> None:
        drivers = self.data.get("BusinessDrivers")
        by_guid: dict[str, str] = {}
        seen: set[str] = set()
        if drivers is not None:
            for row in drivers.rows:
                v = row.values
                problem = self._typing_problem(row)
                if problem is None and not v.get("BusinessDriverName"):
                    problem = row.where("BusinessDriverName", None, "BusinessDriverName is empty")
                if problem is not None:
                    self._reject("BusinessDrivers", problem)
                    continue
                code = "DRV-" + slug(str(v["BusinessDriverName"]), NAME_CODE_LENGTH)
                if v.get("BusinessDriverId"):
                    by_guid[v["BusinessDriverId"]] = code
                if code not in seen:
                    seen.add(code)
                    self.plan.drivers.append(
                        DriverSpec(
                            code,
                            str(v["BusinessDriverName"])[:255],
                            v.get("BusinessDriverDescription"),
                            v.get("BusinessDriverId"),
                        )
                    )
                self._accept("BusinessDrivers")
        weights: dict[str, dict[str, Decimal]] = defaultdict(dict)
        links = self.data.get("PrioritizationDrivers")
        if links is not None:
            for row in links.rows:
                v = row.values
                problem = self._typing_problem(row)
                weight = v.get("BusinessDriverPriority")
                if problem is None and weight is None:
                    problem = row.where("BusinessDriverPriority", None, "no driver weight")
                if problem is None and weight is not None and weight < 0:
                    problem = row.where("BusinessDriverPriority", weight, "weight is negative")
                driver = by_guid.get(v.get("BusinessDriverId") or "")
                if problem is None and driver is None:
                    name = v.get("BusinessDriverName")
                    if not name:
                        problem = row.where(
                            "BusinessDriverId", v.get("BusinessDriverId"), "no such business driver"
                        )
                    else:
                        driver = "DRV-" + slug(str(name), NAME_CODE_LENGTH)
                        if driver not in seen:
                            seen.add(driver)
                            self.plan.drivers.append(DriverSpec(driver, str(name), None, None))
                if problem is not None or driver is None or weight is None:
                    self._reject("PrioritizationDrivers", problem or row.where(reason="bad row"))
                    continue
                key = v.get("PrioritizationId") or header_key(str(v.get("PrioritizationName")))
                weights[key][driver] = Decimal(weight)
                self._accept("PrioritizationDrivers")
        prios = self.data.get("Prioritizations")
        if prios is None:
            return
        latest: tuple[Any, str] | None = None
        for row in prios.rows:
            v = row.values
            problem = self._typing_problem(row)
            guid = v.get("PrioritizationId")
            name = v.get("PrioritizationName")
            if problem is None and not (guid and name):
                problem = row.where("PrioritizationId", guid, "PrioritizationId or name is empty")
            found = weights.get(guid or "") or weights.get(header_key(str(name)))
            if problem is None and not found:
                problem = row.where(
                    "PrioritizationId", guid, "no PrioritizationDrivers rows give its weights"
                )
            if problem is None and found and sum(found.values()) <= 0:
                problem = row.where("PrioritizationId", guid, "its driver weights are all zero")
            if problem is not None or not found:
                self._reject("Prioritizations", problem or row.where(reason="bad row"))
                continue
            assert guid is not None and name is not None
            code = "PRI-" + slug(str(name), NAME_CODE_LENGTH)
            modified = v.get("PrioritizationModifiedDate") or v.get("PrioritizationCreatedDate")
            department = v.get("DepartmentName")
            spec = PrioritisationSpec(
                code=code,
                name=str(name)[:255],
                description=v.get("PrioritizationDescription"),
                guid=guid,
                effective_from=modified or dt.date.today(),
                modified=modified,
                org_unit=self.org_unit("Projects", str(department), row) if department else None,
                weights=found,
                method="manual" if v.get("PrioritizationIsManual") else "calculated",
                consistency_ratio=v.get("PrioritizationConsistencyRatio"),
            )
            self.plan.prioritisations.append(spec)
            order = (modified or dt.date.min, code)
            if latest is None or order > latest:
                latest = order
            self._accept("Prioritizations")
        if latest is not None:
            self.plan.last_prioritisation = latest[1]

    def _analyses(self) -> None:
        data = self.data.get("PortfolioAnalyses")
        for entity in ("PortfolioAnalyses", "PortfolioAnalysisProjects"):
            if entity in self.data:
                self.plan.counts[entity].imported = 0
        if data is None:
            return
        by_guid = {p.guid: p.code for p in self.plan.prioritisations}
        for row in data.rows:
            v = row.values
            self.plan.analyses.append(
                {
                    "name": v.get("AnalysisName"),
                    "prioritisation": by_guid.get(v.get("PrioritizationId") or ""),
                    "prioritization_name": v.get("PrioritizationName"),
                    "horizon_start": v.get("PlanningHorizonStartDate"),
                    "horizon_end": v.get("PlanningHorizonEndDate"),
                }
            )

    def _unmapped(self) -> None:
        role_key = header_key(self.config.resource_role_field or "")
        org_key = header_key(self.config.resource_org_field or "")
        code_field = ""
        if self.config.project_code.casefold().startswith("field:"):
            code_field = header_key(self.config.project_code.split(":", 1)[1])
        for entity in ("Projects", "Tasks", "Resources"):
            data = self.data.get(entity)
            if data is None:
                continue
            left = [
                f
                for f in data.custom_fields
                if not self.config.custom_field_target(f)[0]
                and header_key(f) not in {role_key, org_key, code_field}
            ]
            if left:
                self.plan.unmapped_custom_fields[entity] = left


def _dropped(entity: EntityData) -> int:
    return sum(1 for p in entity.problems if "same key" in p.reason)


def _phase(pct: Any, actual_start: Any, v: dict[str, Any]) -> str:
    if (pct is not None and pct >= 100) or v.get("ProjectActualFinishDate"):
        return "closure"
    if (pct is not None and pct > 0) or actual_start:
        return "delivery"
    return "definition"


def _raid_status(text: Any) -> str:
    key = enum_key(str(text or ""))
    if any(w in key for w in ("closed", "resolved", "complete")):
        return "closed"
    if any(w in key for w in ("postponed", "progress")):
        return "in_progress"
    return "open"


def _scale(value: Any, step: Decimal) -> int | None:
    """A percentage (step 20) or a 1–10 impact (step 2) on the 1–5 scale."""
    if value is None:
        return None
    score = int((Decimal(value) / step).to_integral_value(ROUND_HALF_UP))
    return min(5, max(1, score))


def _join(*parts: Any) -> str | None:
    text = "\n\n".join(str(p).strip() for p in parts if p and str(p).strip())
    return text or None


def plan_migration(
    data: dict[str, EntityData],
    config: MigrationConfig,
    *,
    known: dict[str, str] | None = None,
    codes: dict[str, dict[str, str]] | None = None,
) -> MigrationPlan:
    """The whole export as batches of bigov rows, rejects and source figures (no database).

    ``known`` maps ProjectIds to the codes an earlier migration gave them (so a rename in PWA
    does not make a second project); ``codes`` are the mapping's code translations by field
    (``owner``, ``org_unit``, ``portfolio``, ``programme``: {text in PWA: bigov code}).
    """
    return _Planner(data, config, known or {}, codes or {}).run()
