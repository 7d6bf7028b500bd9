"""Read project schedules (MS Project, Primavera P6 and every other format MPXJ reads).

:func:`read_schedules` (or :func:`read_schedule` for a one-project file) opens a file with MPXJ's
``UniversalProjectReader``, which detects the format from the content, and converts what it reads
at once into the plain, typed models of :mod:`bigov.ingest.schedule_models`. Java objects never
leave the small adapter layer at the bottom of this module (the functions prefixed ``_j``).

Resource demand is worked out per assignment and calendar month: from the file's timephased data
when it has some, otherwise by spreading the assignment's work evenly over the working days
(Monday to Friday) between its start and finish. Hours become FTE with :data:`HOURS_PER_FTE_DAY`.
:func:`schedule_to_records` turns a schedule into bigov rows (work item, milestones, cost lines,
skills, demand) for the importer; it touches no database.

MPXJ runs in a Java virtual machine (JPype), started once per process on first use.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from bigov import safeload
from bigov.errors import ConfigError, ValidationError
from bigov.ingest.schedule_models import (
    MonthAmount,
    ResourceKind,
    RoleDemand,
    Schedule,
    ScheduleAssignment,
    ScheduleResource,
    ScheduleTask,
)

__all__ = [
    "HOURS_PER_FTE_DAY",
    "aggregate_demand",
    "allocate_money",
    "ensure_jvm",
    "file_currency",
    "fte_hours_in_month",
    "read_schedule",
    "read_schedules",
    "schedule_to_records",
    "spread_by_month",
    "weekdays_between",
]

HOURS_PER_FTE_DAY = 7.5
"""Hours one full-time person works on a working day. A month's FTE is its hours divided by
``HOURS_PER_FTE_DAY`` times the number of weekdays (Monday to Friday) in that month; public holidays
are ignored because a schedule file does not say which country's apply."""

JAVA_HINT = (
    "MPXJ needs a Java runtime (11 or later): install one, e.g. `apt-get install "
    "default-jre-headless`, or set JAVA_HOME to an installed JDK/JRE"
)

_CENT = Decimal("0.01")
_ZERO = Decimal("0.00")
_MONEY_EPSILON = Decimal("0.005")

# ------------------------------------------------------------------------------------------------
# Calendar months and even spreading (pure Python, no Java)
# ------------------------------------------------------------------------------------------------


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return dt.date(day.year, day.month, 1)


def _next_month(first: dt.date) -> dt.date:
    return (
        dt.date(first.year + 1, 1, 1)
        if first.month == 12
        else dt.date(first.year, first.month + 1, 1)
    )


def _month_end(first: dt.date) -> dt.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def months_between(start: dt.date, finish: dt.date) -> list[dt.date]:
    """First days of every month from ``start``'s to ``finish``'s, inclusive (empty if reversed)."""
    months: list[dt.date] = []
    current, last = month_start(start), month_start(finish)
    while current <= last:
        months.append(current)
        current = _next_month(current)
    return months


def weekdays_between(start: dt.date, finish: dt.date) -> int:
    """Number of Mondays..Fridays from ``start`` to ``finish``, both included (0 if reversed)."""
    if finish < start:
        return 0
    days = (finish - start).days + 1
    weeks, rest = divmod(days, 7)
    first = start.weekday()
    return weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def fte_hours_in_month(period: dt.date, hours_per_day: float = HOURS_PER_FTE_DAY) -> float:
    """Hours one full-time person works in ``period``'s month (weekdays × ``hours_per_day``)."""
    first = month_start(period)
    return weekdays_between(first, _month_end(first)) * hours_per_day


def spread_by_month(total: float, start: dt.date, finish: dt.date) -> dict[dt.date, float]:
    """Split ``total`` evenly over the weekdays from ``start`` to ``finish`` (inclusive), by month.

    Returns {first day of month: share}, only for months that get a share; the shares add up to
    ``total`` (to float precision) and have its sign. A ``finish`` before ``start`` counts as
    ``start``; a span with no weekday at all (a weekend) is spread over its calendar days instead.
    A zero total gives an empty mapping.
    """
    if total == 0:
        return {}
    if finish < start:
        finish = start
    weights: dict[dt.date, float] = {}
    for first in months_between(start, finish):
        lo, hi = max(start, first), min(finish, _month_end(first))
        weights[first] = float(weekdays_between(lo, hi))
    if sum(weights.values()) == 0:
        for first in weights:
            lo, hi = max(start, first), min(finish, _month_end(first))
            weights[first] = float((hi - lo).days + 1)
    return _share(total, weights)


def _share(total: float, weights: Mapping[dt.date, float]) -> dict[dt.date, float]:
    """Split ``total`` in proportion to positive ``weights``; the last share absorbs rounding."""
    items = [(k, w) for k, w in sorted(weights.items()) if w > 0]
    weight_sum = sum(w for _, w in items)
    if not items or weight_sum <= 0:
        return {}
    shares = {k: total * w / weight_sum for k, w in items[:-1]}
    rest = total - sum(shares.values())
    # Float error can only flip the sign of the last share when it is ~0; keep the sign of total.
    shares[items[-1][0]] = rest if rest * total >= 0 else 0.0
    return shares


def allocate_money(total: Decimal, weights: Mapping[dt.date, float]) -> dict[dt.date, Decimal]:
    """Split an amount into cents in proportion to ``weights`` so that the parts add up exactly.

    Uses the largest-remainder method on whole cents; each part has the sign of ``total``. Keys with
    zero weight get nothing. If no weight is positive, the result is empty.
    """
    items = [(k, w) for k, w in sorted(weights.items()) if w > 0]
    weight_sum = sum(w for _, w in items)
    cents = int((abs(total) / _CENT).to_integral_value(ROUND_HALF_UP))
    if not items or weight_sum <= 0 or cents == 0:
        return {}
    sign = -1 if total < 0 else 1
    exact = [cents * w / weight_sum for _, w in items]
    parts = [int(x) for x in exact]
    order = sorted(range(len(items)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[: cents - sum(parts)]:
        parts[i] += 1
    return {k: Decimal(sign * p) * _CENT for (k, _), p in zip(items, parts, strict=True) if p}


def _add_into(target: dict[dt.date, Decimal], parts: Mapping[dt.date, Decimal]) -> None:
    for key, value in parts.items():
        target[key] = target.get(key, _ZERO) + value


# ------------------------------------------------------------------------------------------------
# Demand aggregation
# ------------------------------------------------------------------------------------------------


def aggregate_demand(
    assignments: Iterable[ScheduleAssignment],
    kinds: Mapping[int, ResourceKind],
    *,
    hours_per_day: float = HOURS_PER_FTE_DAY,
) -> tuple[RoleDemand, ...]:
    """Sum the monthly work and cost of people's assignments by (role, month).

    Only assignments of ``work`` resources (people) count: ``kinds`` maps a resource unique id to
    its kind; ids not in it (role-only assignments) count as people. FTE is hours over
    :func:`fte_hours_in_month`. Sorted by role, then month.
    """
    hours: dict[tuple[str, dt.date], float] = defaultdict(float)
    cost: dict[tuple[str, dt.date], Decimal] = defaultdict(lambda: _ZERO)
    for assignment in assignments:
        if kinds.get(assignment.resource_unique_id, "work") != "work":
            continue
        for month in assignment.months:
            key = (assignment.role, month.period)
            hours[key] += month.hours
            cost[key] += month.cost
    return tuple(
        RoleDemand(
            role=role,
            period=period,
            hours=hours[(role, period)],
            fte=hours[(role, period)] / fte_hours_in_month(period, hours_per_day),
            cost=cost[(role, period)],
        )
        for role, period in sorted(hours)
    )


# ------------------------------------------------------------------------------------------------
# Public entry points
# ------------------------------------------------------------------------------------------------


def read_schedules(path: str | os.PathLike[str]) -> list[Schedule]:
    """Read every project in a schedule file (a Primavera XER or PMXML file can hold several).

    Raises:
        ValidationError: the file is missing, empty, corrupt, not a schedule, or holds no tasks.
        ConfigError: no Java runtime could be started.
    """
    file = Path(path)
    _check_file(file)
    ensure_jvm()
    declared = file_currency(file)
    return [_convert_project(project, file, declared) for project in _jread_all(file)]


def read_schedule(path: str | os.PathLike[str]) -> Schedule:
    """Read a schedule file that holds one project (raises ValidationError if it holds several)."""
    schedules = read_schedules(path)
    if len(schedules) > 1:
        names = ", ".join(s.name for s in schedules)
        raise ValidationError(
            f"{path}: holds {len(schedules)} projects ({names}); read them with read_schedules()"
        )
    return schedules[0]


def _check_file(file: Path) -> None:
    if not file.exists():
        raise ValidationError(f"{file}: file not found")
    if not file.is_file():
        raise ValidationError(f"{file}: not a file")
    if file.stat().st_size == 0:
        raise ValidationError(f"{file}: the file is empty")
    safeload.check_size(file, "schedule")


# ------------------------------------------------------------------------------------------------
# Java adapter: the only code that sees JPype objects (typed Any). Convert, then let go.
# ------------------------------------------------------------------------------------------------

_JVM_LOCK = threading.Lock()
_JVM_OPTIONS = (
    "-Djava.awt.headless=true",
    # MPXJ's dependencies log through Log4j 2 with no backend bundled: without these the JVM writes
    # "could not find a logging provider" to stderr. Route Log4j to its simple logger, switched off.
    "-Dlog4j2.loggerContextFactory=org.apache.logging.log4j.simple.SimpleLoggerContextFactory",
    "-Dorg.apache.logging.log4j.simplelog.level=OFF",
)


def ensure_jvm() -> None:
    """Start the Java VM with the MPXJ jars once per process; safe to call from any thread.

    Raises:
        ConfigError: no Java runtime was found, or a JVM was already started without MPXJ.
    """
    import jpype

    if not jpype.isJVMStarted():
        with _JVM_LOCK:
            if not jpype.isJVMStarted():
                import mpxj  # noqa: F401  (importing it puts the MPXJ jars on the class path)

                try:
                    jvm_path = jpype.getDefaultJVMPath()
                    jpype.startJVM(jvm_path, *_JVM_OPTIONS, convertStrings=False)
                except (jpype.JVMNotFoundException, jpype.JVMNotSupportedException) as exc:
                    raise ConfigError(f"no usable Java runtime: {exc}", hint=JAVA_HINT) from None
    try:
        jpype.JClass("org.mpxj.reader.UniversalProjectReader")
    except TypeError:
        try:
            jpype.JClass("net.sf.mpxj.reader.UniversalProjectReader")
        except TypeError:
            raise ConfigError(
                "the Java VM was started without the MPXJ jars on its class path",
                hint="call bigov.ingest.schedule.ensure_jvm() before anything else starts Java",
            ) from None
        raise ConfigError(
            "the installed mpxj package is too old (it predates the org.mpxj package)",
            hint="upgrade it: pip install 'mpxj>=16'",
        ) from None


def _java_reason(exc: Any) -> str:
    """One line from a Java exception and its causes (message of each, de-duplicated)."""
    parts: list[str] = []
    current = exc
    while current is not None and len(parts) < 4:
        message = current.getMessage()
        text = str(message) if message is not None else str(current.getClass().getSimpleName())
        text = " ".join(text.split())
        if text and text not in parts:
            parts.append(text)
        current = current.getCause()
    return ": ".join(parts) or "unreadable"


def _jread_all(file: Path) -> list[Any]:
    import jpype

    reader = jpype.JClass("org.mpxj.reader.UniversalProjectReader")()
    try:
        projects = reader.readAll(str(file))
    except jpype.JException as exc:
        raise ValidationError(
            f"{file}: cannot read the schedule: {_java_reason(exc)}",
            hint="check that the file is a complete, unprotected schedule file",
        ) from None
    result = list(projects) if projects is not None else []
    if not result:
        raise ValidationError(
            f"{file}: not a schedule MPXJ recognises (corrupt, truncated or unsupported format)"
        )
    return result


def _s(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value.doubleValue())


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(float(value.doubleValue()))).quantize(_CENT, ROUND_HALF_UP)


def _dt(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime(
        int(value.getYear()),
        int(value.getMonthValue()),
        int(value.getDayOfMonth()),
        int(value.getHour()),
        int(value.getMinute()),
        int(value.getSecond()),
    )


def _hours(duration: Any, properties: Any) -> float:
    import jpype

    if duration is None:
        return 0.0
    hours_unit = jpype.JClass("org.mpxj.TimeUnit").HOURS
    return float(duration.convertUnits(hours_unit, properties).getDuration())


_KINDS: dict[str, ResourceKind] = {
    "WORK": "work",
    "MATERIAL": "material",
    "COST": "cost",
    "NON_LABOR": "non_labor",
}
_CURRENCY_BY_SYMBOL = {"£": "GBP", "€": "EUR", "₹": "INR"}
_SCHEDULE_SUFFIXES = (".xml", ".mpp", ".mpx", ".mpt", ".xer", ".pmxml", ".pp", ".gan", ".planner")


def _convert_project(project: Any, file: Path, declared: str | None = None) -> Schedule:
    import jpype

    try:
        return _jconvert(project, file, declared)
    except jpype.JException as exc:
        raise ValidationError(f"{file}: cannot read the schedule: {_java_reason(exc)}") from None


def _jtask(task: Any) -> ScheduleTask:
    parent = task.getParentTask()
    percent = task.getActivityPercentComplete()
    if percent is None:
        percent = task.getPercentageComplete()
    return ScheduleTask(
        unique_id=int(task.getUniqueID()),
        wbs=_s(task.getWBS()),
        outline_number=_s(task.getOutlineNumber()),
        activity_id=_s(task.getActivityID()),
        name=_s(task.getName()) or "",
        outline_level=_int(task.getOutlineLevel()) or 0,
        parent_unique_id=None if parent is None else _int(parent.getUniqueID()),
        is_summary=bool(task.getSummary()),
        is_milestone=bool(task.getMilestone()),
        is_active=bool(task.getActive()),
        baseline_start=_dt(task.getBaselineStart()),
        baseline_finish=_dt(task.getBaselineFinish()),
        forecast_start=_dt(task.getStart()),
        forecast_finish=_dt(task.getFinish()),
        actual_start=_dt(task.getActualStart()),
        actual_finish=_dt(task.getActualFinish()),
        percent_complete=_float(percent) or 0.0,
        cost=_money(task.getCost()),
        baseline_cost=_money(task.getBaselineCost()),
        actual_cost=_money(task.getActualCost()),
        remaining_cost=_money(task.getRemainingCost()),
    )


def _jresource(resource: Any) -> ScheduleResource | None:
    name = _s(resource.getName())
    uid = _int(resource.getUniqueID())
    if name is None or uid is None:
        return None  # MS Project always writes a blank resource (UID 0) that is not a resource
    kind = _KINDS.get(str(resource.getType()), "work") if resource.getType() is not None else "work"
    primary_role = resource.getPrimaryRole()
    return ScheduleResource(
        unique_id=uid,
        name=name,
        kind=kind,
        group=_s(resource.getGroup()),
        code=_s(resource.getCode()),
        role=None if primary_role is None else _s(primary_role.getName()),
        is_role=bool(resource.getRole()),
    )


def _jmonth_ranges(months: Sequence[dt.date]) -> Any:
    import jpype

    local_date_time = jpype.JClass("java.time.LocalDateTime")
    date_range = jpype.JClass("org.mpxj.LocalDateTimeRange")
    ranges = jpype.JClass("java.util.ArrayList")()
    for first in months:
        after = _next_month(first)
        ranges.add(
            date_range(
                local_date_time.of(first.year, first.month, 1, 0, 0),
                local_date_time.of(after.year, after.month, 1, 0, 0),
            )
        )
    return ranges


def _has_timephased_work(assignment: Any) -> bool:
    return bool(
        assignment.getRawTimephasedPlannedWork()
        or assignment.getRawTimephasedActualRegularWork()
        or assignment.getRawTimephasedRemainingRegularWork()
    )


def _jassignment_months(
    assignment: Any,
    properties: Any,
    start: dt.datetime,
    finish: dt.datetime,
    work_hours: float,
    cost: Decimal,
) -> tuple[bool, tuple[MonthAmount, ...]]:
    """Work and cost of one assignment by month: timephased from the file, else spread evenly.

    Totals always equal the assignment's own work and cost: the file's timephased values give the
    shape (MPXJ's month sums can differ slightly from the totals, e.g. for rate changes).
    """
    import jpype

    hours: dict[dt.date, float] = {}
    cost_weights: dict[dt.date, float] = {}
    timephased = False
    if _has_timephased_work(assignment):
        months = months_between(start.date(), finish.date())
        ranges = _jmonth_ranges(months)
        hours_unit = jpype.JClass("org.mpxj.TimeUnit").HOURS
        work_values = assignment.getTimephasedWork(ranges, hours_unit)
        cost_values = assignment.getTimephasedCost(ranges)
        raw_hours = {
            m: max(0.0, float(w.getDuration())) if w is not None else 0.0
            for m, w in zip(months, work_values, strict=True)
        }
        raw_cost = {
            m: max(0.0, float(c.doubleValue())) if c is not None else 0.0
            for m, c in zip(months, cost_values, strict=True)
        }
        if sum(raw_hours.values()) > 0:
            timephased = True
            hours = _share(work_hours, raw_hours) if work_hours > 0 else {}
            cost_weights = raw_cost if sum(raw_cost.values()) > 0 else raw_hours
    if not timephased:
        hours = spread_by_month(work_hours, start.date(), finish.date())
        cost_weights = spread_by_month(1.0, start.date(), finish.date())
    money = allocate_money(cost, cost_weights)
    periods = sorted(set(hours) | set(money))
    return timephased, tuple(
        MonthAmount(period=p, hours=hours.get(p, 0.0), cost=money.get(p, _ZERO)) for p in periods
    )


def _jassignments(
    project: Any,
    properties: Any,
    tasks: Mapping[int, ScheduleTask],
    resources: Mapping[int, ScheduleResource],
    warnings: list[str],
) -> list[ScheduleAssignment]:
    result: list[ScheduleAssignment] = []
    undated = 0
    for assignment in project.getResourceAssignments():
        resource = assignment.getResource()
        role_resource = assignment.getRole()  # Primavera: the role the resource is booked as
        if resource is None and role_resource is None:
            continue  # MS Project's "unassigned" placeholder: the task's cost covers it
        task_uid = _int(assignment.getTaskUniqueID())
        task = tasks.get(task_uid) if task_uid is not None else None
        if task is None or not task.is_active:
            continue
        holder: Any = resource if resource is not None else role_resource
        holder_uid = _int(holder.getUniqueID())
        info = resources.get(holder_uid) if holder_uid is not None else None
        if holder_uid is None or info is None:
            continue
        role = info.group or _s(role_resource.getName() if role_resource is not None else None)
        role = role or info.role or info.name
        start = _dt(assignment.getStart()) or task.forecast_start
        finish = _dt(assignment.getFinish()) or task.forecast_finish or start
        kind = info.kind
        work_hours = (
            _hours(assignment.getWork(), properties) if kind in ("work", "non_labor") else 0.0
        )
        cost = _money(assignment.getCost()) or _ZERO
        if start is None or finish is None:
            undated += 1
            continue
        timephased, months = _jassignment_months(
            assignment, properties, start, finish, max(work_hours, 0.0), cost
        )
        result.append(
            ScheduleAssignment(
                task_unique_id=task.unique_id,
                resource_unique_id=holder_uid,
                role=role,
                start=start,
                finish=finish,
                work_hours=work_hours,
                cost=cost,
                actual_cost=_money(assignment.getActualCost()),
                baseline_cost=_money(assignment.getBaselineCost()),
                timephased=timephased,
                months=months,
            )
        )
    if undated:
        warnings.append(f"{undated} assignment(s) without start/finish dates left out of demand")
    return result


_XML_CURRENCY_CODE = re.compile(r"<(?:\w+:)?CurrencyCode>\s*([A-Za-z]{3})\s*</", re.ASCII)
_PMXML_CURRENCY = re.compile(r"<(?:\w+:)?Currency>(.*?)</(?:\w+:)?Currency>", re.DOTALL)
_PMXML_FIELD = r"<(?:\w+:)?{0}>\s*([^<]*?)\s*</(?:\w+:)?{0}>"
_TEXT_SCHEDULES = (".xml", ".pmxml", ".xer", ".mpx")
# MPXJ's file types of MS Project, whose resource pools (resources, no tasks) are files of their own
_MS_PROJECT_TYPES = frozenset({"MPP", "MPX", "MSPDI", "MPT"})


def file_currency(file: Path) -> str | None:
    """The ISO currency code a schedule file states where MPXJ passes on only a symbol: MSPDI
    ``CurrencyCode``, Primavera PMXML ``Currency/Id`` and XER ``CURRTYPE`` (the currency with
    exchange rate 1 — the base currency — when the file lists several). None when it states
    none or is binary (.mpp)."""
    if file.suffix.casefold() not in _TEXT_SCHEDULES:
        return None
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if file.suffix.casefold() == ".xer":
        return _xer_currency(text)
    code = _XML_CURRENCY_CODE.search(text)
    if code is not None:
        return code.group(1).upper()
    found: list[tuple[str, str]] = []
    for block in _PMXML_CURRENCY.findall(text):
        ident = re.search(_PMXML_FIELD.format("Id"), block)
        rate = re.search(_PMXML_FIELD.format("ExchangeRate"), block)
        if ident is not None and re.fullmatch(r"[A-Za-z]{3}", ident.group(1)):
            found.append((ident.group(1).upper(), rate.group(1) if rate else ""))
    return _base_currency(found)


def _base_currency(found: list[tuple[str, str]]) -> str | None:
    """The base currency of (code, exchange rate) pairs: the one at rate 1, else the only one."""
    for code, rate in found:
        try:
            if float(rate) == 1.0:
                return code
        except ValueError:
            continue
    codes = {code for code, _ in found}
    return codes.pop() if len(codes) == 1 else None


def _xer_currency(text: str) -> str | None:
    fields: list[str] = []
    found: list[tuple[str, str]] = []
    table = ""
    for line in text.splitlines():
        cells = line.rstrip("\r").split("\t")
        if cells[0] == "%T":
            table = cells[1].strip() if len(cells) > 1 else ""
        elif table == "CURRTYPE" and cells[0] == "%F":
            fields = cells[1:]
        elif table == "CURRTYPE" and cells[0] == "%R" and fields:
            row = dict(zip(fields, cells[1:], strict=False))
            code = row.get("curr_short_name", "").strip()
            if re.fullmatch(r"[A-Za-z]{3}", code):
                found.append((code.upper(), row.get("base_exch_rate", "").strip()))
    return _base_currency(found)


def _currency(properties: Any) -> tuple[str | None, str | None]:
    symbol = _s(properties.getCurrencySymbol())
    code = _s(properties.getCurrencyCode())
    if code is not None and re.fullmatch(r"[A-Za-z]{3}", code):
        return code.upper(), symbol
    return (_CURRENCY_BY_SYMBOL.get(symbol) if symbol else None), symbol


def _project_name(properties: Any, summary: ScheduleTask | None, file: Path) -> str:
    name = (
        _s(properties.getProjectTitle())
        or _s(properties.getName())
        or (summary.name if summary is not None and summary.name else None)
        or file.stem
    )
    lowered = name.lower()
    for suffix in _SCHEDULE_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _jconvert(project: Any, file: Path, declared: str | None = None) -> Schedule:
    properties = project.getProjectProperties()
    warnings = [_java_reason(e) for e in project.getIgnoredErrors()]
    summary: ScheduleTask | None = None
    tasks: list[ScheduleTask] = []
    for jtask in project.getTasks():
        if bool(jtask.getNull()) or jtask.getUniqueID() is None:
            continue  # blank rows in MS Project
        task = _jtask(jtask)
        if task.outline_level == 0 and task.parent_unique_id is None and summary is None:
            summary = task
        else:
            tasks.append(task)
    resources: dict[int, ScheduleResource] = {}
    for jresource in project.getResources():
        resource = _jresource(jresource)
        if resource is not None:
            resources[resource.unique_id] = resource
    pool = str(properties.getFileType() or "").upper() in _MS_PROJECT_TYPES
    if not tasks and not (resources and pool):
        # (a Primavera file lists its global resources whatever it holds: without tasks it is
        # cut short, not a pool)
        raise ValidationError(f"{file}: the schedule holds no tasks (empty or truncated file?)")
    if not tasks:
        # a resource pool (MS Project's shared resources file): its roles are worth having
        warnings.append(
            f"{file.name}: a resource-only file (no tasks): its {len(resources)} resource(s) "
            "give skills; no project, costs or demand"
        )
    by_uid = {t.unique_id: t for t in tasks}
    assignments = _jassignments(project, properties, by_uid, resources, warnings)
    kinds = {uid: r.kind for uid, r in resources.items()}
    currency, symbol = _currency(properties)
    currency = currency or declared
    name = _project_name(properties, summary, file)
    project_id = _s(properties.getProjectID())
    guid = properties.getGUID()
    unique_id = _s(properties.getUniqueID()) or (None if guid is None else str(guid))
    totals = _project_totals(summary, tasks)
    own = _duration_weighted_percent(tasks)
    if own is not None and abs(own - totals.percent_complete) > PERCENT_DISAGREEMENT:
        warnings.append(
            f"{file.name}: the schedule's own figures disagree: its top-level % complete is "
            f"{totals.percent_complete:.1f} % but its tasks' durations give {own:.1f} %; "
            "the top-level figure was kept — check the file's progress data"
        )
    return Schedule(
        source_file=str(file),
        file_format=_s(properties.getFileType()),
        application=_s(properties.getFileApplication()),
        name=name,
        project_id=project_id,
        unique_id=unique_id,
        code=slug(project_id or name, _PROJECT_CODE_LENGTH),
        currency=currency,
        currency_symbol=symbol,
        status_date=_dt(properties.getStatusDate()),
        start=totals.start or _dt(properties.getStartDate()),
        finish=totals.finish or _dt(properties.getFinishDate()),
        baseline_start=totals.baseline_start,
        baseline_finish=totals.baseline_finish,
        actual_start=totals.actual_start,
        actual_finish=totals.actual_finish,
        percent_complete=totals.percent_complete,
        cost=totals.cost,
        baseline_cost=totals.baseline_cost,
        actual_cost=totals.actual_cost,
        remaining_cost=totals.remaining_cost,
        summary_task=summary,
        tasks=tuple(tasks),
        resources=tuple(resources.values()),
        assignments=tuple(assignments),
        demand=aggregate_demand(assignments, kinds),
        warnings=tuple(warnings),
    )


# ------------------------------------------------------------------------------------------------
# Project-level roll-up (pure Python)
# ------------------------------------------------------------------------------------------------


class _Totals:
    """Project dates, progress and money: the summary task's, else a roll-up of top-level tasks."""

    def __init__(self, source: ScheduleTask | None, top: Sequence[ScheduleTask]) -> None:
        if source is not None:
            self.start, self.finish = source.forecast_start, source.forecast_finish
            self.baseline_start, self.baseline_finish = (
                source.baseline_start,
                source.baseline_finish,
            )
            self.actual_start, self.actual_finish = source.actual_start, source.actual_finish
            self.percent_complete = source.percent_complete
            self.cost, self.baseline_cost = source.cost, source.baseline_cost
            self.actual_cost, self.remaining_cost = source.actual_cost, source.remaining_cost
            return
        self.start = _min(t.forecast_start for t in top)
        self.finish = _max(t.forecast_finish for t in top)
        self.baseline_start = _min(t.baseline_start for t in top)
        self.baseline_finish = _max(t.baseline_finish for t in top)
        self.actual_start = _min(t.actual_start for t in top)
        finished = all(t.actual_finish is not None for t in top)
        self.actual_finish = _max(t.actual_finish for t in top) if finished else None
        weights = [_span_days(t) for t in top]
        weight_sum = sum(weights)
        self.percent_complete = (
            sum(t.percent_complete * w for t, w in zip(top, weights, strict=True)) / weight_sum
            if weight_sum
            else 0.0
        )
        self.cost = _sum(t.cost for t in top)
        self.baseline_cost = _sum(t.baseline_cost for t in top)
        self.actual_cost = _sum(t.actual_cost for t in top)
        self.remaining_cost = _sum(t.remaining_cost for t in top)


PERCENT_DISAGREEMENT = 10.0
"""Percentage points between a schedule's top-level % complete and its tasks' own
duration-weighted progress above which the import warns."""


def _duration_weighted_percent(tasks: Sequence[ScheduleTask]) -> float | None:
    """% complete of the active leaf tasks weighted by their duration in weekdays (None when
    no task has dates)."""
    leaf = [
        t
        for t in tasks
        if t.is_active and not t.is_summary and t.forecast_start and t.forecast_finish
    ]
    weights = [_span_days(t) for t in leaf]
    total = sum(weights)
    if not total:
        return None
    return sum(t.percent_complete * w for t, w in zip(leaf, weights, strict=True)) / total


def _project_totals(summary: ScheduleTask | None, tasks: Sequence[ScheduleTask]) -> _Totals:
    uids = {t.unique_id for t in tasks}
    top = [t for t in tasks if t.is_active and (t.parent_unique_id not in uids)]
    return _Totals(summary, top)


def _span_days(task: ScheduleTask) -> int:
    if task.forecast_start is None or task.forecast_finish is None:
        return 1
    return max(1, weekdays_between(task.forecast_start.date(), task.forecast_finish.date()))


def _min(values: Iterable[dt.datetime | None]) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _max(values: Iterable[dt.datetime | None]) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, _ZERO) if present else None


# ------------------------------------------------------------------------------------------------
# bigov records
# ------------------------------------------------------------------------------------------------

_PROJECT_CODE_LENGTH = 32  # leaves room for "-D-<skill:20>-YYYY-MM" within a 64-character code
_SKILL_CODE_LENGTH = 20


def slug(text: str, max_length: int = 40) -> str:
    """A stable, upper-case code from free text: letters, digits and single hyphens.

    Text longer than ``max_length`` is cut and suffixed with a short hash of the whole text, so
    that different long names stay different.
    """
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").upper() or "X"
    if len(cleaned) <= max_length:
        return cleaned
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:6].upper()
    return f"{cleaned[: max_length - 7].rstrip('-')}-{digest}"


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENT, ROUND_HALF_UP)


def _phase(schedule: Schedule) -> str:
    if schedule.percent_complete >= 100 or schedule.actual_finish is not None:
        return "closure"
    if schedule.percent_complete > 0 or schedule.actual_start is not None:
        return "delivery"
    return "definition"


def _date(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


def _span(start: dt.datetime | None, finish: dt.datetime | None) -> tuple[dt.date, dt.date] | None:
    """The dates from ``start`` to ``finish`` (or just ``start``); None without a start."""
    if start is None:
        return None
    return start.date(), max(start, finish or start).date()


def _spread_money(
    amount: Decimal | None, span: tuple[dt.date, dt.date] | None
) -> dict[dt.date, Decimal]:
    if amount is None or amount == 0 or span is None:
        return {}
    return allocate_money(amount, spread_by_month(1.0, span[0], span[1]))


def _task_forecast(
    task: ScheduleTask, assignments: Sequence[ScheduleAssignment]
) -> dict[dt.date, Decimal]:
    """The task's assignments month by month, plus cost not on them (fixed cost) spread evenly."""
    assigned: dict[dt.date, Decimal] = {}
    for assignment in assignments:
        _add_into(assigned, {m.period: m.cost for m in assignment.months})
    assigned_total = sum(assigned.values(), _ZERO)
    task_cost = task.cost if task.cost is not None else assigned_total
    residual = task_cost - assigned_total
    if residual >= 0:
        _add_into(
            assigned, _spread_money(residual, _span(task.forecast_start, task.forecast_finish))
        )
        return assigned
    # The task costs less than its assignments (not a normal schedule): keep their shape.
    return allocate_money(task_cost, {k: float(v) for k, v in assigned.items()})


def _task_actual(task: ScheduleTask, status: dt.datetime | None) -> dict[dt.date, Decimal]:
    """Actual cost from the actual start to the actual finish, else the status date."""
    start = task.actual_start or task.forecast_start
    end = task.actual_finish
    if end is None and status is not None and start is not None and status >= start:
        end = status
    return _spread_money(task.actual_cost, _span(start, end or task.forecast_finish))


def _monthly_costs(
    schedule: Schedule,
) -> tuple[dict[dt.date, Decimal], dict[dt.date, Decimal], dict[dt.date, Decimal]]:
    """Budget (baseline cost), forecast (cost) and actual cost by month, from the leaf tasks.

    Forecast follows the task's assignments month by month (as the demand does) plus any cost not
    on an assignment (fixed cost) spread over the task; budget is spread over the baseline dates
    (else the current ones); actual cost from the actual start to the actual finish (or the
    status date). Whatever the project totals hold beyond the tasks (MS Project fixed cost on the
    project summary) is spread over the project.
    """
    budget: dict[dt.date, Decimal] = {}
    forecast: dict[dt.date, Decimal] = {}
    actual: dict[dt.date, Decimal] = {}
    by_task: dict[int, list[ScheduleAssignment]] = defaultdict(list)
    for assignment in schedule.assignments:
        by_task[assignment.task_unique_id].append(assignment)
    for task in schedule.leaf_tasks:
        if not task.is_active:
            continue
        baseline_span = _span(task.baseline_start, task.baseline_finish)
        forecast_span = _span(task.forecast_start, task.forecast_finish)
        _add_into(budget, _spread_money(task.baseline_cost, baseline_span or forecast_span))
        _add_into(forecast, _task_forecast(task, by_task.get(task.unique_id, [])))
        _add_into(actual, _task_actual(task, schedule.status_date))
    project_span = _span(schedule.start, schedule.finish)
    baseline_span = _span(schedule.baseline_start, schedule.baseline_finish)
    actual_span = _span(schedule.actual_start, schedule.actual_finish or schedule.status_date)
    for target, total, span in (
        (budget, schedule.baseline_cost, baseline_span or project_span),
        (forecast, schedule.cost, project_span),
        (actual, schedule.actual_cost, actual_span or project_span),
    ):
        residual = (total or _ZERO) - sum(target.values(), _ZERO)
        if residual > _MONEY_EPSILON:
            _add_into(target, _spread_money(residual, span))
    return budget, forecast, actual


def schedule_to_records(
    schedule: Schedule, *, default_currency: str = "GBP"
) -> dict[str, list[dict[str, Any]]]:
    """The schedule as bigov rows ready for the importer (no database access).

    Returns a mapping with these keys, each a list of plain dicts:

    * ``work_item``: one row, kind ``project``: code, name, kind, nature, category, phase,
      baseline/forecast/actual start and finish (dates), percent_complete (Decimal).
    * ``milestone``: code ``<project>-M<uid>``, work_item_code, name, baseline/forecast/actual date.
    * ``cost_line``: one per month with money: code ``<project>-C-<YYYY-MM>``, work_item_code,
      period (first of the month), budget (baseline cost), forecast (cost), actual (actual cost, or
      None for a month with none), currency (the file's, else ``default_currency``).
    * ``skill``: one per role in the demand: code, name.
    * ``demand``: code ``<project>-D-<skill>-<YYYY-MM>``, work_item_code, skill_code, period, fte,
      hours (Decimals to 2 places).
    """
    project = schedule.code
    currency = schedule.currency or default_currency
    if not schedule.tasks:
        # a resource pool: each work resource's role (its group, else its role, else its name,
        # as demand names roles) becomes a skill
        roles = {
            slug(r.group or r.role or r.name, _SKILL_CODE_LENGTH): r.group or r.role or r.name
            for r in schedule.resources
            if r.kind == "work"
        }
        return {"skill": [{"code": c, "name": n} for c, n in sorted(roles.items())]}
    work_item: dict[str, Any] = {
        "code": project,
        "name": schedule.name,
        "kind": "project",
        "nature": "change",
        "category": "transform",
        "phase": _phase(schedule),
        "baseline_start": _date(schedule.baseline_start),
        "baseline_finish": _date(schedule.baseline_finish),
        "forecast_start": _date(schedule.start),
        "forecast_finish": _date(schedule.finish),
        "actual_start": _date(schedule.actual_start),
        "actual_finish": _date(schedule.actual_finish),
        "percent_complete": _decimal(schedule.percent_complete),
    }
    milestones = [
        {
            "code": f"{project}-M{task.unique_id}",
            "work_item_code": project,
            "name": task.name or f"Milestone {task.unique_id}",
            "baseline_date": _date(task.baseline_finish or task.baseline_start),
            "forecast_date": _date(task.forecast_finish or task.forecast_start),
            "actual_date": _date(task.actual_finish or task.actual_start),
        }
        for task in schedule.milestones
    ]
    budget, forecast, actual = _monthly_costs(schedule)
    cost_lines = [
        {
            "code": f"{project}-C-{period:%Y-%m}",
            "work_item_code": project,
            "period": period,
            "budget": budget.get(period, _ZERO),
            "forecast": forecast.get(period, _ZERO),
            "actual": actual.get(period),
            "currency": currency,
        }
        for period in sorted(set(budget) | set(forecast) | set(actual))
        if budget.get(period) or forecast.get(period) or actual.get(period)
    ]
    skills: dict[str, str] = {}
    fte: dict[tuple[str, dt.date], float] = defaultdict(float)
    hours: dict[tuple[str, dt.date], float] = defaultdict(float)
    for row in schedule.demand:
        # Roles that differ only in case or punctuation share a skill code: add them up.
        skill_code = slug(row.role, _SKILL_CODE_LENGTH)
        skills.setdefault(skill_code, row.role)
        fte[(skill_code, row.period)] += row.fte
        hours[(skill_code, row.period)] += row.hours
    demand = [
        {
            "code": f"{project}-D-{skill_code}-{period:%Y-%m}",
            "work_item_code": project,
            "skill_code": skill_code,
            "period": period,
            "fte": _decimal(fte[(skill_code, period)]),
            "hours": _decimal(hours[(skill_code, period)]),
        }
        for skill_code, period in sorted(hours)
    ]
    return {
        "work_item": [work_item],
        "milestone": milestones,
        "cost_line": cost_lines,
        "skill": [{"code": code, "name": name} for code, name in sorted(skills.items())],
        "demand": demand,
    }
