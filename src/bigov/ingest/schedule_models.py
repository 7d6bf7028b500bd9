"""The neutral, typed shape of a project schedule read from MS Project, Primavera and friends.

These models hold plain Python values only (no Java objects): :func:`bigov.ingest.schedule.
read_schedule` converts what MPXJ reads into them straight away. Dates and times are naive local
times, as the scheduling tools store them. Money is :class:`~decimal.Decimal` rounded to cents in
the schedule's currency; work is in hours; percentages are 0..100.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

ResourceKind = Literal["work", "material", "cost", "non_labor"]
"""``work`` = people (hours); ``material`` = consumables (units); ``cost`` = a cost-only resource;
``non_labor`` = Primavera equipment (hours, but not people, so it is not in the demand)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleTask(_Frozen):
    """One task, activity, WBS element or summary row of a schedule."""

    unique_id: int
    """The tool's stable unique id (MS Project UID, Primavera task_id)."""
    wbs: str | None = None
    """The WBS code (MS Project WBS field; for Primavera activities, the WBS they sit in)."""
    outline_number: str | None = None
    activity_id: str | None = None
    """Primavera's user-facing activity id (``A1000``); None for MS Project."""
    name: str
    outline_level: int
    """0 for MS Project's project summary task, 1 for top-level tasks, and so on."""
    parent_unique_id: int | None = None
    is_summary: bool = False
    is_milestone: bool = False
    is_active: bool = True
    baseline_start: dt.datetime | None = None
    baseline_finish: dt.datetime | None = None
    forecast_start: dt.datetime | None = None
    """The scheduled (current) start: the tool's Start field."""
    forecast_finish: dt.datetime | None = None
    actual_start: dt.datetime | None = None
    actual_finish: dt.datetime | None = None
    percent_complete: float = 0.0
    """The task's own measure of progress (for Primavera, the activity's percent-complete type)."""
    cost: Decimal | None = None
    """Total (forecast at completion) cost."""
    baseline_cost: Decimal | None = None
    actual_cost: Decimal | None = None
    remaining_cost: Decimal | None = None


class ScheduleResource(_Frozen):
    """A resource (or, for Primavera, a role) of a schedule."""

    unique_id: int
    name: str
    kind: ResourceKind
    group: str | None = None
    code: str | None = None
    role: str | None = None
    """Primavera primary role name, when the file has one."""
    is_role: bool = False
    """True for a Primavera role (MPXJ reads roles as resources)."""


class MonthAmount(_Frozen):
    """Work and cost falling in one calendar month (``period`` is the first day of the month)."""

    period: dt.date
    hours: float
    cost: Decimal


class ScheduleAssignment(_Frozen):
    """A resource assigned to a task, with its work and cost split by calendar month."""

    task_unique_id: int
    resource_unique_id: int
    role: str
    """What the demand is grouped by: resource group, else the Primavera role, else the name."""
    start: dt.datetime | None = None
    finish: dt.datetime | None = None
    work_hours: float
    cost: Decimal
    actual_cost: Decimal | None = None
    baseline_cost: Decimal | None = None
    timephased: bool
    """True when the months come from timephased data in the file, False when spread evenly."""
    months: tuple[MonthAmount, ...] = ()


class RoleDemand(_Frozen):
    """Resource demand of one role in one calendar month."""

    role: str
    period: dt.date
    hours: float
    fte: float
    """Hours over the hours one full-time person works that month (see ``HOURS_PER_FTE_DAY``)."""
    cost: Decimal


class Schedule(_Frozen):
    """One project read from a schedule file."""

    source_file: str
    file_format: str | None = None
    """MPXJ's name for the format: ``MPP``, ``MSPDI``, ``XER``, ``PMXML``, ..."""
    application: str | None = None
    name: str
    project_id: str | None = None
    """The file's own project id (Primavera ``proj_short_name``), if it has one."""
    unique_id: str | None = None
    """The file's project unique id or GUID, if any."""
    code: str
    """Stable bigov code derived from the project id, else the name, else the file name."""
    currency: str | None = None
    """ISO 4217 code when the file says (or its currency symbol is unambiguous)."""
    currency_symbol: str | None = None
    status_date: dt.datetime | None = None
    start: dt.datetime | None = None
    finish: dt.datetime | None = None
    baseline_start: dt.datetime | None = None
    baseline_finish: dt.datetime | None = None
    actual_start: dt.datetime | None = None
    actual_finish: dt.datetime | None = None
    percent_complete: float = 0.0
    cost: Decimal | None = None
    baseline_cost: Decimal | None = None
    actual_cost: Decimal | None = None
    remaining_cost: Decimal | None = None
    summary_task: ScheduleTask | None = None
    """MS Project's project summary task (outline level 0); None when the format has none."""
    tasks: tuple[ScheduleTask, ...] = ()
    """Every task except the project summary task, in file order."""
    resources: tuple[ScheduleResource, ...] = ()
    assignments: tuple[ScheduleAssignment, ...] = ()
    demand: tuple[RoleDemand, ...] = ()
    """Hours, FTE and cost by (role, month), sorted by role then month."""
    warnings: tuple[str, ...] = ()
    """Problems MPXJ recovered from while reading, and anything skipped."""

    @property
    def milestones(self) -> tuple[ScheduleTask, ...]:
        """The milestone tasks, in file order."""
        return tuple(t for t in self.tasks if t.is_milestone)

    @property
    def leaf_tasks(self) -> tuple[ScheduleTask, ...]:
        """Tasks that are not summaries (the ones that carry work and cost)."""
        return tuple(t for t in self.tasks if not t.is_summary)
