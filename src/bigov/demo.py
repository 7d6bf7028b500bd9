"""A deterministic, seeded, scalable synthetic enterprise: "Northwind Utilities plc".

:func:`generate` fills an empty workspace with a credible UK multi-utility — organisation, strategy
(OTIGs, versioned OTCs, key results), run and change work, governance nodes with tolerances and
standing agendas, benefits with profiles, three fiscal years of monthly costs, resource capacity
and demand, RAID logs and monthly status reports — plus a few *deliberate gaps* (listed in
:data:`DELIBERATE_GAPS`) so that later analysis has something true to find.

Callers may rely on:

* the same ``seed``, ``scale`` and ``as_of`` give the same rows (codes, values, links); only the
  audit timestamps and the import batch's own times differ between runs;
* every row carries the batch id of one ``ImportBatch(source="demo")`` and
  ``written_by="bigov demo"``;
* the whole run is one transaction: an error or an interruption leaves the database as it was.

Rows are built in memory with pre-assigned ids and written with bulk inserts in foreign-key order,
so ``scale="large"`` (×25 business units, portfolios and programmes) stays in the range of a minute.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy import Connection, Table, delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bigov import demo_names as names
from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitContribution,
    BenefitEnabler,
    BenefitKind,
    BenefitProfile,
    BenefitStatus,
)
from bigov.db.base import Base, Entity, utcnow
from bigov.db.batch import ImportBatch
from bigov.db.registry import load_models
from bigov.db.settings import Setting
from bigov.errors import ConfigError, ConflictError
from bigov.finance.models import CostLine, Expenditure, FundingSource
from bigov.governance.models import (
    AgendaItem,
    AgendaSection,
    Cadence,
    GovernanceNode,
    InfoForm,
    InformationDefinition,
    NodeKind,
    NodeMember,
    NodeScope,
    Tolerance,
    ToleranceDimension,
)
from bigov.org.models import (
    BusinessPlan,
    BusinessPlanTarget,
    ManagementTeam,
    OrgUnit,
    OrgUnitKind,
    Person,
    Role,
)
from bigov.progress import SILENT, Reporter
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.resources.models import Capacity, Demand, Skill
from bigov.strategy.models import (
    Direction,
    KeyResult,
    KeyResultActual,
    Otc,
    OtcKind,
    OtcStatus,
    OtcVersion,
    Otig,
    OtigKind,
    OtigOtc,
    Trajectory,
)
from bigov.work.models import (
    Category,
    Confidence,
    Contribution,
    Dependency,
    DependencyKind,
    GateDecision,
    GateOutcome,
    Milestone,
    Nature,
    Phase,
    Rag,
    StatusReport,
    WorkItem,
    WorkKind,
)
from bigov.workspace import Workspace

WRITTEN_BY = "bigov demo"
DEFAULT_AS_OF = dt.date(2026, 11, 15)
# multiplier of business units, portfolios, programmes and everything under them
SCALES: dict[str, int] = {"small": 1, "large": 25}
_CHUNK = 5000  # rows per bulk insert: large enough to amortise round trips, small enough for memory
_FY_START_MONTH = 4  # the demo organisation's fiscal year starts in April (UK convention)


class OperationalMeasure(NamedTuple):
    """An operational measure the metrics context generates observations for."""

    code: str
    name: str
    unit: str
    frequency: str  # hourly | daily
    aggregation: str  # sum | last | weighted_mean | max
    org_unit_code: str


OPERATIONAL_MEASURES: tuple[OperationalMeasure, ...] = (
    OperationalMeasure(
        "CALLS-HANDLED", "Calls handled", "calls", "hourly", "sum", "DEP-RET-CONTACT"
    ),
    OperationalMeasure(
        "ABANDON-RATE", "Call abandonment rate", "%", "hourly", "weighted_mean", "DEP-RET-CONTACT"
    ),
    OperationalMeasure(
        "PEAK-QUEUE-TIME", "Longest queue time", "s", "hourly", "max", "DEP-RET-CONTACT"
    ),
    OperationalMeasure(
        "COMPLAINTS", "Complaints received", "complaints", "daily", "sum", "DEP-RET-CX"
    ),
    OperationalMeasure("BILLS-ISSUED", "Bills issued", "bills", "daily", "sum", "DEP-RET-BILLING"),
    OperationalMeasure(
        "FIRST-TIME-FIX", "First-time fix rate", "%", "daily", "weighted_mean", "DEP-NET-FIELD"
    ),
    OperationalMeasure(
        "BACKLOG", "Open field work orders", "jobs", "daily", "last", "DEP-NET-FIELD"
    ),
    OperationalMeasure("LEAKAGE", "Leakage", "Ml/d", "daily", "weighted_mean", "DEP-NET-ASSETS"),
    OperationalMeasure(
        "SUPPLY-INTERRUPTIONS",
        "Supply interruptions over 3 hours",
        "count",
        "daily",
        "sum",
        "DEP-NET-CONTROL",
    ),
    OperationalMeasure(
        "POLLUTION-INCIDENTS", "Pollution incidents", "count", "daily", "sum", "DEP-WAS-SEWER"
    ),
    OperationalMeasure(
        "AP-INVOICES",
        "Invoices paid within 30 days",
        "%",
        "daily",
        "weighted_mean",
        "DEP-FIN-CONTROL",
    ),
    OperationalMeasure(
        "SYSTEM-AVAILABILITY",
        "Customer systems availability",
        "%",
        "hourly",
        "weighted_mean",
        "DEP-DIG-ITOPS",
    ),
    OperationalMeasure(
        "IT-INCIDENTS", "Priority 1 and 2 IT incidents", "count", "daily", "sum", "DEP-DIG-ITOPS"
    ),
)

# The planted gaps (codes of the small scale; at large scale region 1 carries the same codes and
# every other region the same gaps with its suffix). Tests check that analysis finds each.
DELIBERATE_GAPS: dict[str, tuple[str, ...]] = {
    # active objectives that no work item contributes to
    "objectives_without_work": ("OTC-O-06", "OTC-O-10"),
    # an objective whose only contributors are proposals with no budget (no cost lines)
    "objectives_without_funded_work": ("OTC-O-09",),
    # projects with cost but no contribution to any OTC (nor any ancestor's)
    "work_without_otc": ("PRJ-ENT-003", "PRJ-NET-002", "PRJ-ENT-004", "PRJ-CUST-002"),
    "benefits_without_owner": ("BEN-0007", "BEN-0023", "BEN-0041"),
    "benefits_without_measure": ("BEN-0015",),
    # a target delegated to a management team but taken into none of its business plans
    "targets_without_business_plan": ("OTC-T-06",),
    # a challenge with no innovation work contributing to it
    "challenges_without_innovation": ("OTC-C-03",),
    # an OTC whose contributors' weights sum to 0.85, not 1
    "contribution_weights_not_one": ("OTC-O-05",),
    # a live project that no governance node governs
    "work_without_governing_node": ("PRJ-AUTO-004",),
}

_UNGOVERNED = "AUTO-004"
_NO_OWNER_BENEFITS = (7, 23, 41)
_NO_MEASURE_BENEFITS = (15,)
_WEIGHTS_OFF: dict[str, Decimal] = {"O-05": Decimal("0.85")}
_NO_PLAN_TARGETS = ("T-06",)
_HOT_SKILLS = ("SK-DATA", "SK-ARCH")  # deliberately under-supplied: over-allocated in peak months


class DemoReport(BaseModel):
    """What :func:`generate` wrote."""

    organisation: str
    scale: str
    seed: int
    as_of: dt.date
    batch_id: int
    rows: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# -- dates -------------------------------------------------------------------------------------
def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    """Month starts m with month(start) <= m < end."""
    out: list[dt.date] = []
    m = _month(start)
    while m < end:
        out.append(m)
        m = _add_months(m, 1)
    return out


def _fiscal_year(day: dt.date) -> int:
    """Named by the calendar year in which it ends (FY2027 = April 2026 – March 2027)."""
    return day.year + 1 if day.month >= _FY_START_MONTH else day.year


def _money(value: float) -> Decimal:
    return Decimal(f"{max(value, 0.0):.2f}")


def _qty(value: float, places: int = 2) -> Decimal:
    return Decimal(f"{value:.{places}f}")


# -- writing -----------------------------------------------------------------------------------
class _Writer:
    """Collects rows per table with pre-assigned ids and bulk-inserts them in foreign-key order.

    Ids are assigned here rather than returned by the database so that rows can reference each
    other before anything is written (one executemany per table instead of a flush per row).
    """

    def __init__(self, conn: Connection, batch_id: int) -> None:
        self.conn = conn
        self.batch_id = batch_id
        self.pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.next_id: dict[str, int] = {}
        self.counts: dict[str, int] = defaultdict(int)
        self.streaming = False  # once structure is written, big tables are written in chunks
        self.tables: dict[str, Table] = {t.name: t for t in Base.metadata.sorted_tables}

    def reserve(self, model: type[Entity]) -> int:
        """The id the next row of ``model`` will get (for rows written later with ``id=``)."""
        name = model.__tablename__
        if name not in self.next_id:
            table = self.tables[name]
            self.next_id[name] = int(self.conn.scalar(select(func.max(table.c.id))) or 0) + 1
        row_id = self.next_id[name]
        self.next_id[name] = row_id + 1
        return row_id

    def add(self, model: type[Entity], **values: Any) -> int:
        name = model.__tablename__
        row_id = int(values["id"]) if "id" in values else self.reserve(model)
        values["id"] = row_id
        values["batch_id"] = self.batch_id
        values["written_by"] = WRITTEN_BY
        rows = self.pending[name]
        rows.append(values)
        if self.streaming and len(rows) >= _CHUNK:
            self._write(name)
        return row_id

    def flush(self) -> None:
        """Write every pending row, parents before children."""
        for table in Base.metadata.sorted_tables:
            if self.pending.get(table.name):
                self._write(table.name)

    def _write(self, name: str) -> None:
        rows = self.pending.pop(name)
        keys: dict[str, None] = {}
        for row in rows:
            keys.update(dict.fromkeys(row))
        # executemany needs one key set per statement; optional columns left out become NULL
        full = [r if len(r) == len(keys) else {k: r.get(k) for k in keys} for r in rows]
        table = self.tables[name]
        for i in range(0, len(full), _CHUNK):
            self.conn.execute(insert(table), full[i : i + _CHUNK])
        self.counts[name] += len(rows)

    def fix_sequences(self) -> None:
        """PostgreSQL: move each id sequence past the ids assigned here."""
        if self.conn.dialect.name != "postgresql":
            return
        for name in sorted(self.counts):
            table = self.tables[name]
            self.conn.execute(
                select(
                    func.setval(
                        func.pg_get_serial_sequence(name, "id"),
                        select(func.max(table.c.id)).scalar_subquery(),
                    )
                )
            )


def _clear(conn: Connection) -> None:
    """Delete every row of the P3M tables (children first); settings and batch history stay."""
    keep = {"setting", "alembic_version", "import_batch"}
    # only tables that exist: a context whose models are loaded may not be migrated in yet
    present = set(inspect(conn).get_table_names())
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in keep or table.name not in present:
            continue
        for fk in table.foreign_keys:
            # self-references (parent_id) are cut first so the delete never trips on row order
            if fk.column.table is table and fk.parent.nullable:
                conn.execute(update(table).values({fk.parent.name: None}))
        conn.execute(delete(table))


# -- the plan of one work item -------------------------------------------------------------------
@dataclass
class _Item:
    id: int
    code: str
    name: str
    kind: WorkKind
    nature: Nature
    category: Category
    phase: Phase
    org_unit_id: int
    owner_id: int
    manager_id: int
    node_id: int | None
    parent: _Item | None = None
    infra: bool = False
    start: dt.date | None = None  # baseline start
    finish: dt.date | None = None  # baseline finish
    f_start: dt.date | None = None
    f_finish: dt.date | None = None
    a_start: dt.date | None = None
    a_finish: dt.date | None = None
    wlc: float = 0.0  # whole-life budget, GBP
    annual: float = 0.0  # run items: budget of the first fiscal year, GBP
    growth: float = 0.0  # run items: budget growth per year
    capex_share: float = 0.0
    health: str = "good"  # good | watch | troubled
    overrun: float = 0.0  # final forecast at completion / budget - 1
    slip: int = 0  # final forecast finish - baseline finish, days
    onset: dt.date | None = None  # when trouble began to show
    funded: bool = True
    description: str | None = None
    objectives: tuple[str, ...] = ()  # keys of the OTCs it contributes to
    skills: list[tuple[str, float, int]] = field(default_factory=list)  # (skill, FTE, team id)
    milestones: list[tuple[str, dt.date]] = field(default_factory=list)  # (name, forecast)
    status: dict[dt.date, tuple[int, int, int]] = field(default_factory=dict)  # conf, cost, sched
    children: list[_Item] = field(default_factory=list)


@dataclass
class _Region:
    index: int
    sfx: str  # code suffix: "" for the first region, "-R02" ...
    nsfx: str  # name suffix
    bu: dict[str, int] = field(default_factory=dict)  # BU short -> org unit id
    bu_code: dict[str, str] = field(default_factory=dict)
    dept: dict[tuple[str, str], int] = field(default_factory=dict)
    # (team org unit id, BU short, department suffix, skills supplied, team code)
    teams: list[tuple[int, str, str, tuple[str, ...], str]] = field(default_factory=list)
    director: dict[str, int] = field(default_factory=dict)
    heads: dict[str, list[int]] = field(default_factory=dict)
    benefit_owners: dict[str, list[int]] = field(default_factory=dict)
    mt: dict[str, int] = field(default_factory=dict)
    mt_node: dict[str, int] = field(default_factory=dict)
    portfolios: dict[str, _Item] = field(default_factory=dict)
    programmes: dict[str, _Item] = field(default_factory=dict)
    pg_node: dict[str, int] = field(default_factory=dict)
    otc: dict[str, int] = field(default_factory=dict)
    otc_kind: dict[str, str] = field(default_factory=dict)
    otig: dict[str, int] = field(default_factory=dict)
    contributions: dict[str, list[int]] = field(default_factory=dict)  # OTC key -> item ids
    items: list[_Item] = field(default_factory=list)
    first_benefit: int = 0  # sequence number of the region's first benefit


_TOLERANCES: dict[NodeKind, tuple[float, float, float, float, float]] = {
    # cost %, schedule days, benefit %, risk score, lowest confidence score tolerated
    NodeKind.MAIN_BOARD: (20, 180, 25, 20, 1),
    NodeKind.BOARD_SUBGROUP: (15, 120, 20, 16, 2),
    NodeKind.PORTFOLIO_DIRECTION: (15, 120, 20, 16, 2),
    NodeKind.PORTFOLIO_PROGRESS: (10, 90, 15, 15, 2),
    NodeKind.FINANCE: (10, 90, 15, 16, 2),
    NodeKind.BUSINESS_SUPPORT: (10, 90, 15, 15, 2),
    NodeKind.ASSURANCE: (10, 60, 15, 12, 3),
    NodeKind.PROGRAMME_BOARD: (7.5, 60, 10, 12, 3),
    NodeKind.MANAGEMENT_TEAM: (5, 30, 10, 12, 3),
    NodeKind.PROJECT_BOARD: (5, 30, 10, 10, 3),
}
_DIMENSIONS = (
    ToleranceDimension.COST_PCT,
    ToleranceDimension.SCHEDULE_DAYS,
    ToleranceDimension.BENEFIT_PCT,
    ToleranceDimension.RISK_SCORE,
    ToleranceDimension.CONFIDENCE,
)
_CONF = list(Confidence)  # best first: index 0 green .. 4 red
_RAG = (Rag.GREEN, Rag.AMBER, Rag.RED)

_Info = tuple[str, str, InfoForm]
_AgendaSpec = tuple[AgendaSection, str, tuple[_Info, ...]]

_PREP: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.PREPARATION,
        "Minutes and actions from the last meeting",
        (("Open actions", "raid.action", InfoForm.TABLE),),
    ),
)
_CHANGE_PROGRESS: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.PROGRESS,
        "Delivery status and confidence trend",
        (
            ("Status and DCA by item", "work.status", InfoForm.TABLE),
            ("Delivery confidence trend", "work.status", InfoForm.TREND),
        ),
    ),
    (
        AgendaSection.PROGRESS,
        "Exceptions and escalations",
        (("Items outside tolerance", "work.status", InfoForm.EXCEPTIONS),),
    ),
    (
        AgendaSection.PROGRESS,
        "Cost and resources",
        (
            ("Spend against budget and forecast", "finance.cost", InfoForm.CHART),
            ("Resource demand against capacity", "resources.demand", InfoForm.CHART),
        ),
    ),
)
_ENABLERS: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.ENABLERS,
        "Changed objectives and drivers",
        (("Objective and target attainment", "strategy.attainment", InfoForm.TABLE),),
    ),
    (
        AgendaSection.ENABLERS,
        "Risks, issues and risk appetite",
        (
            ("Risks above appetite", "raid.risk", InfoForm.EXCEPTIONS),
            ("Open issues", "raid.issue", InfoForm.TABLE),
        ),
    ),
)
_PREDICTION: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.PREDICTION,
        "Outcomes and benefits forecast",
        (("Benefits: plan, forecast and actual", "benefits.profile", InfoForm.CHART),),
    ),
    (
        AgendaSection.PREDICTION,
        "Forecast cost, priorities and balance",
        (
            ("Forecast outturn against budget", "finance.cost", InfoForm.TABLE),
            ("Confidence outlook", "work.status", InfoForm.NARRATIVE),
        ),
    ),
)
_ACTIONS: tuple[_AgendaSpec, ...] = (
    (
        AgendaSection.ACTIONS,
        "Decisions, actions and escalations",
        (("Decisions log", "raid.decision", InfoForm.TABLE),),
    ),
)


def _agenda_for(kind: NodeKind, measures: Sequence[str]) -> tuple[_AgendaSpec, ...]:
    """The standing agenda of a node of ``kind`` (``measures``: metrics a team reviews)."""
    if kind is NodeKind.MANAGEMENT_TEAM:
        kpis: tuple[_Info, ...] = (
            ("Targets and KPIs", "strategy.attainment", InfoForm.TABLE),
            *((f"{m} trend", f"metrics.{m}", InfoForm.TREND) for m in measures),
        )
        progress: tuple[_AgendaSpec, ...] = (
            (AgendaSection.PROGRESS, "Business plan performance", kpis),
            (
                AgendaSection.PROGRESS,
                "Cost against budget",
                (("Run cost against budget", "finance.cost", InfoForm.CHART),),
            ),
            (
                AgendaSection.PROGRESS,
                "Resource actuals, demand and availability",
                (("Demand against capacity by skill", "resources.demand", InfoForm.TABLE),),
            ),
            (
                AgendaSection.PROGRESS,
                "Change we receive and benefits we realise",
                (
                    ("Benefits realised by this team", "benefits.profile", InfoForm.TABLE),
                    ("Change landing on this team", "work.status", InfoForm.EXCEPTIONS),
                ),
            ),
        )
    elif kind in (NodeKind.MAIN_BOARD, NodeKind.BOARD_SUBGROUP):
        progress = (
            (
                AgendaSection.PROGRESS,
                "Organisation performance",
                (
                    ("Strategy attainment", "strategy.attainment", InfoForm.TABLE),
                    ("Customer calls handled", "metrics.CALLS-HANDLED", InfoForm.TREND),
                ),
            ),
            (
                AgendaSection.PROGRESS,
                "Escalations from committees",
                (("Exceptions escalated", "work.status", InfoForm.EXCEPTIONS),),
            ),
            (
                AgendaSection.PROGRESS,
                "Run and change spend",
                (("Spend by run, grow and transform", "finance.cost", InfoForm.CHART),),
            ),
        )
    elif kind is NodeKind.FINANCE:
        progress = (
            (
                AgendaSection.PROGRESS,
                "Spend against budget",
                (
                    ("Run and change spend", "finance.cost", InfoForm.TABLE),
                    ("Cost exceptions", "finance.cost", InfoForm.EXCEPTIONS),
                ),
            ),
            (
                AgendaSection.PROGRESS,
                "Business cases and benefits",
                (("Cashable benefits", "benefits.profile", InfoForm.TABLE),),
            ),
        )
    elif kind is NodeKind.BUSINESS_SUPPORT:
        progress = (
            (
                AgendaSection.PROGRESS,
                "Data quality and new entities",
                (
                    ("Status reports missing or late", "work.status", InfoForm.EXCEPTIONS),
                    ("Resource demand without a supplier", "resources.demand", InfoForm.EXCEPTIONS),
                ),
            ),
        )
    elif kind is NodeKind.ASSURANCE:
        progress = (
            (
                AgendaSection.PROGRESS,
                "Review findings and delivery confidence",
                (
                    ("Delivery confidence by item", "work.status", InfoForm.TABLE),
                    ("Red and amber/red items", "work.status", InfoForm.EXCEPTIONS),
                ),
            ),
        )
    else:
        progress = _CHANGE_PROGRESS
    return _PREP + progress + _ENABLERS + _PREDICTION + _ACTIONS


# -- the builder -------------------------------------------------------------------------------
class _Builder:
    """Builds the enterprise region by region; every choice comes from one seeded generator."""

    def __init__(
        self, w: _Writer, rng: random.Random, scale: str, as_of: dt.date, reporter: Reporter
    ) -> None:
        self.w = w
        self.rng = rng
        self.regions = SCALES[scale]
        self.as_of = as_of
        self.reporter = reporter
        self.now_month = _month(as_of)  # actuals exist for months before this one
        self.last_period = _add_months(self.now_month, -1)  # latest status report period
        self.fy = _fiscal_year(as_of)
        self.fys = (self.fy - 1, self.fy, self.fy + 1)
        self.window_start = dt.date(self.fy - 2, _FY_START_MONTH, 1)
        self.window_end = dt.date(self.fy + 1, _FY_START_MONTH, 1)
        self.window = _months(self.window_start, self.window_end)
        self.strategy_start = self.window_start
        self.used_names: set[str] = set()
        self.person_seq = 0
        self.raid_seq: dict[RaidKind, int] = defaultdict(int)
        self.benefit_seq = 0
        self.dep_seq = 0
        self.roles: dict[str, int] = {}
        self.skills: dict[str, int] = {}
        self.items: list[_Item] = []
        self.all_regions: list[_Region] = []
        self.funding: dict[tuple[int, Nature], int] = {}
        self.funding_root: dict[int, int] = {}
        self.funding_total: dict[tuple[int, Nature], float] = defaultdict(float)
        self.nodes: dict[str, int] = {}
        self.node_kind: dict[int, NodeKind] = {}
        self.node_parent: dict[int, int | None] = {}
        self.kr_ids: dict[str, int] = {}

    # -- helpers ----------------------------------------------------------------------------
    def _stage(self, task: str, total: int | None = None) -> None:
        self.reporter.finish()
        self.reporter.start(task, total)

    def person(self, org_unit_id: int | None, role: str, name: str | None = None) -> int:
        rng = self.rng
        if name is None:
            for _ in range(20):  # unique names while the pool lasts (always at small scale)
                name = f"{rng.choice(names.FIRST_NAMES)} {rng.choice(names.SURNAMES)}"
                if name not in self.used_names:
                    break
        assert name is not None
        self.used_names.add(name)
        self.person_seq += 1
        first, _, last = name.partition(" ")
        email = f"{first}.{last}.{self.person_seq}".lower().replace("'", "")
        return self.w.add(
            Person,
            code=f"PER-{self.person_seq:05d}",
            name=name,
            email=f"{email}@{names.EMAIL_DOMAIN}",
            org_unit_id=org_unit_id,
            role_id=self.roles[role],
        )

    def raid(self, kind: RaidKind, title: str, **values: Any) -> int:
        self.raid_seq[kind] += 1
        prefix = {
            RaidKind.RISK: "RSK",
            RaidKind.ISSUE: "ISS",
            RaidKind.ACTION: "ACT",
            RaidKind.DECISION: "DEC",
            RaidKind.ASSUMPTION: "ASM",
        }[kind]
        row: dict[str, Any] = {
            "code": f"{prefix}-{self.raid_seq[kind]:05d}",
            "kind": kind,
            "title": title,
            "description": None,
            "status": RaidStatus.OPEN,
            "owner_id": None,
            "work_item_id": None,
            "benefit_id": None,
            "otc_id": None,
            "org_unit_id": None,
            "node_id": None,
            "probability": None,
            "impact": None,
            "proximity": None,
            "raised_on": None,
            "due_on": None,
            "closed_on": None,
            "response": None,
        }
        row.update(values)
        return self.w.add(RaidItem, **row)

    def day_between(self, start: dt.date, end: dt.date) -> dt.date:
        span = max((end - start).days, 0)
        return start + dt.timedelta(days=self.rng.randint(0, span))

    # -- top level --------------------------------------------------------------------------
    def build(self) -> None:
        self._stage("organisation")
        self.central()
        for index in range(self.regions):
            sfx = "" if index == 0 else f"-R{index + 1:02d}"
            nsfx = "" if index == 0 else f" (Region {index + 1:02d})"
            reg = _Region(index, sfx, nsfx)
            self.all_regions.append(reg)
            self.region_org(reg)
            self.reporter.advance()
        self._stage("strategy", self.regions)
        for reg in self.all_regions:
            self.region_strategy(reg)
            self.reporter.advance()
        self._stage("work and governance", self.regions)
        for reg in self.all_regions:
            self.region_work(reg)
            self.reporter.advance()
        self._stage("RAID, milestones and gates", len(self.items))
        for item in self.items:
            self.item_details(item)
            self.reporter.advance()
        self.node_raid()
        self._stage("benefits", self.regions)
        for reg in self.all_regions:
            self.region_benefits(reg)
            self.reporter.advance()
        self._stage("writing organisation, strategy and work")
        self.w.flush()
        self.w.streaming = True
        self._stage("status reports", len(self.items))
        self.status_reports()
        self._stage("costs", len(self.items))
        self.costs()
        self._stage("resources", len(self.items))
        self.resources()
        self._stage("key result actuals")
        self.key_result_actuals()
        self.w.flush()
        self.reporter.finish()

    # -- organisation and central governance --------------------------------------------------
    def central(self) -> None:
        w = self.w
        for code, name, description in names.ROLES:
            self.roles[code] = w.add(Role, code=code, name=name, description=description)
        for code, name, description in names.SKILLS:
            self.skills[code] = w.add(Skill, code=code, name=name, description=description)
        self.root = w.add(
            OrgUnit,
            code="ORG-NW",
            name=names.ORGANISATION_NAME,
            kind=OrgUnitKind.GROUP,
            parent_id=None,
            cost_centre="1000",
            description="The group",
        )

        def fn(code: str, name: str, cc: str) -> int:
            return w.add(
                OrgUnit,
                code=code,
                name=name,
                kind=OrgUnitKind.FUNCTION,
                parent_id=self.root,
                cost_centre=cc,
                description=None,
            )

        self.fn_exec = fn("FN-EXEC", "Executive Office", "1010")
        self.fn_pmo = fn("FN-PMO", "Portfolio Office", "1020")
        self.fn_assure = fn("FN-ASSURE", "Internal Audit & Assurance", "1030")
        self.fn_innov = fn("FN-INNOV", "Innovation Lab", "1040")
        p = self.person
        self.chair = p(self.fn_exec, "ROLE-NED")
        self.neds = [p(self.fn_exec, "ROLE-NED") for _ in range(3)]
        self.ceo = p(self.fn_exec, "ROLE-CEO")
        self.coo = p(self.fn_exec, "ROLE-EXEC")
        self.transformation_dir = p(self.fn_exec, "ROLE-EXEC")
        self.secretary = p(self.fn_exec, "ROLE-SEC")
        self.pmo_head = p(self.fn_pmo, "ROLE-DIR")
        self.pmo_analysts = [p(self.fn_pmo, "ROLE-PMO") for _ in range(3 + self.regions // 5)]
        self.assurance = [p(self.fn_assure, "ROLE-ASSURE") for _ in range(2)]
        self.innovation_lead = p(self.fn_innov, "ROLE-HEAD")
        self.portfolio_directors = {
            key: p(self.fn_exec, "ROLE-DIR") for key, *_ in names.PORTFOLIOS
        }
        self.cfo = p(self.fn_exec, "ROLE-EXEC")

        board = self.node(
            "GOV-BOARD",
            "Main Board",
            NodeKind.MAIN_BOARD,
            None,
            self.chair,
            Cadence.QUARTERLY,
            25,
            self.root,
            "Sets strategy and risk appetite; holds the executive to account.",
            [*self.neds, self.ceo, self.cfo, self.coo],
            (),
        )
        self.node(
            "GOV-OPS",
            "Operational Performance Committee",
            NodeKind.BOARD_SUBGROUP,
            board,
            self.coo,
            Cadence.MONTHLY,
            18,
            self.fn_exec,
            "Business performance against targets and business plans.",
            [self.ceo, self.cfo],
            ("CALLS-HANDLED", "FIRST-TIME-FIX"),
        )
        self.node(
            "GOV-PRODUCT",
            "Product & Customer Committee",
            NodeKind.BOARD_SUBGROUP,
            board,
            self.ceo,
            Cadence.MONTHLY,
            19,
            self.fn_exec,
            "Products, tariffs and customer experience.",
            [self.coo],
            (),
        )
        change = self.node(
            "GOV-CHANGE",
            "Change Committee",
            NodeKind.BOARD_SUBGROUP,
            board,
            self.ceo,
            Cadence.MONTHLY,
            20,
            self.fn_exec,
            "The change portfolio as a whole: balance, envelopes, escalations.",
            [self.transformation_dir, self.cfo],
            (),
        )
        pdg = self.node(
            "GOV-PDG",
            "Portfolio Direction Group",
            NodeKind.PORTFOLIO_DIRECTION,
            board,
            self.ceo,
            Cadence.QUARTERLY,
            14,
            self.fn_exec,
            "Strategic objectives of the change portfolios, priorities and balance.",
            [self.transformation_dir, self.cfo, *self.portfolio_directors.values()],
            (),
        )
        self.node(
            "GOV-PPG",
            "Portfolio Progress Group",
            NodeKind.PORTFOLIO_PROGRESS,
            pdg,
            self.transformation_dir,
            Cadence.MONTHLY,
            15,
            self.fn_pmo,
            "Delivery of the portfolios; front-door approvals; delegated OTCs.",
            [self.pmo_head, *self.portfolio_directors.values()],
            (),
        )
        self.node(
            "GOV-INVEST",
            "Investment Committee",
            NodeKind.FINANCE,
            board,
            self.cfo,
            Cadence.MONTHLY,
            16,
            self.fn_exec,
            "Money across run and change: funding, reallocation, business cases.",
            [self.ceo, self.transformation_dir],
            (),
        )
        self.node(
            "GOV-PMO",
            "Business Support (PMO hub)",
            NodeKind.BUSINESS_SUPPORT,
            change,
            self.pmo_head,
            Cadence.MONTHLY,
            9,
            self.fn_pmo,
            "Standards, data quality and support for boards and teams.",
            self.pmo_analysts,
            (),
        )
        self.node(
            "GOV-ASSURE",
            "Assurance Panel",
            NodeKind.ASSURANCE,
            board,
            self.assurance[0],
            Cadence.QUARTERLY,
            12,
            self.fn_assure,
            "Independent reviews and delivery confidence assessments.",
            self.assurance[1:],
            (),
        )
        self.scope("GOV-BOARD", org_unit_id=self.root)
        self.scope("GOV-INVEST", org_unit_id=self.root)
        self.scope("GOV-PMO", org_unit_id=self.root)
        fy_names = {fy: f"{fy - 1}/{fy % 100:02d}" for fy in self.fys}
        for fy in self.fys:
            root = self.w.add(
                FundingSource,
                code=f"FUND-FY{fy}",
                name=f"Group funding {fy_names[fy]}",
                parent_id=None,
                nature=None,
                fiscal_year=fy,
                amount=None,
                currency="GBP",
                description="The one organisation-wide pot for run and change.",
            )
            self.funding_root[fy] = root
            for nature, label in ((Nature.RUN, "Run"), (Nature.CHANGE, "Change")):
                self.funding[(fy, nature)] = self.w.add(
                    FundingSource,
                    code=f"FUND-FY{fy}-{nature.value.upper()}",
                    name=f"{label} envelope {fy_names[fy]}",
                    parent_id=root,
                    nature=nature,
                    fiscal_year=fy,
                    amount=None,
                    currency="GBP",
                    description=f"The {label.lower()} share of the group pot.",
                )

    def node(
        self,
        code: str,
        name: str,
        kind: NodeKind,
        parent: int | None,
        chair: int,
        cadence: Cadence,
        sitting_day: int,
        org_unit_id: int | None,
        purpose: str,
        members: Sequence[int],
        measures: Sequence[str],
    ) -> int:
        w = self.w
        node_id = w.add(
            GovernanceNode,
            code=code,
            name=name,
            kind=kind,
            parent_id=parent,
            chair_id=chair,
            cadence=cadence,
            sitting_day=sitting_day,
            org_unit_id=org_unit_id,
            purpose=purpose,
        )
        self.nodes[code] = node_id
        self.node_kind[node_id] = kind
        self.node_parent[node_id] = parent
        seen: list[int] = []
        for person_id in [chair, *members, self.rng.choice(self.pmo_analysts)]:
            if person_id in seen:
                continue
            role = (
                "chair"
                if not seen
                else ("secretary" if person_id in self.pmo_analysts else "member")
            )
            seen.append(person_id)
            w.add(
                NodeMember,
                code=f"NM-{code}-{len(seen):02d}",
                node_id=node_id,
                person_id=person_id,
                role=role,
            )
        for dimension, limit in zip(_DIMENSIONS, _TOLERANCES[kind], strict=True):
            w.add(
                Tolerance,
                code=f"TOL-{code}-{dimension.value.upper()}",
                node_id=node_id,
                dimension=dimension,
                limit=_qty(limit, 4),
            )
        grain = "quarter" if cadence is Cadence.QUARTERLY else "month"
        freshness = 30 if cadence is Cadence.QUARTERLY else 10
        for seq, (section, title, infos) in enumerate(_agenda_for(kind, measures), start=1):
            agenda_id = w.add(
                AgendaItem,
                code=f"AG-{code}-{seq:02d}",
                node_id=node_id,
                sequence=seq,
                section=section,
                title=title,
            )
            for n, (info_title, source, form) in enumerate(infos, start=1):
                w.add(
                    InformationDefinition,
                    code=f"INF-{code}-{seq:02d}-{n}",
                    agenda_item_id=agenda_id,
                    title=info_title,
                    source=source,
                    grain=grain,
                    form=form,
                    required=form is not InfoForm.NARRATIVE,
                    freshness_days=freshness,
                    owner_id=self.rng.choice(self.pmo_analysts),
                )
        return node_id

    def scope(
        self,
        node_code: str,
        *,
        work_item_id: int | None = None,
        org_unit_id: int | None = None,
        otc_id: int | None = None,
    ) -> None:
        target = work_item_id or org_unit_id or otc_id
        kind = "W" if work_item_id else ("U" if org_unit_id else "O")
        self.w.add(
            NodeScope,
            code=f"NS-{node_code}-{kind}{target}",
            node_id=self.nodes[node_code],
            work_item_id=work_item_id,
            org_unit_id=org_unit_id,
            otc_id=otc_id,
        )

    def region_org(self, reg: _Region) -> None:
        w, p = self.w, self.person
        for bu in names.BUSINESS_UNITS:
            bu_code = f"BU-{bu.code}{reg.sfx}"
            bu_id = w.add(
                OrgUnit,
                code=bu_code,
                name=f"{bu.name}{reg.nsfx}",
                kind=OrgUnitKind.BUSINESS_UNIT,
                parent_id=self.root,
                cost_centre=f"{2000 + 100 * len(reg.bu) + 1000 * reg.index}",
                description=None,
            )
            reg.bu[bu.short] = bu_id
            reg.bu_code[bu.short] = bu_code
            director = p(bu_id, "ROLE-EXEC" if bu.short == "FIN" else "ROLE-DIR")
            reg.director[bu.short] = director
            reg.heads[bu.short] = []
            for dept_sfx, dept_name, teams in bu.departments:
                dept_id = w.add(
                    OrgUnit,
                    code=f"DEP-{bu.short}-{dept_sfx}{reg.sfx}",
                    name=f"{dept_name}{reg.nsfx}",
                    kind=OrgUnitKind.DEPARTMENT,
                    parent_id=bu_id,
                    cost_centre=None,
                    description=None,
                )
                reg.dept[(bu.short, dept_sfx)] = dept_id
                reg.heads[bu.short].append(p(dept_id, "ROLE-HEAD"))
                for n, team in enumerate(teams, start=1):
                    team_code = f"TM-{bu.short}-{dept_sfx}-{n}{reg.sfx}"
                    team_id = w.add(
                        OrgUnit,
                        code=team_code,
                        name=f"{team}{reg.nsfx}",
                        kind=OrgUnitKind.TEAM,
                        parent_id=dept_id,
                        cost_centre=None,
                        description=None,
                    )
                    p(team_id, "ROLE-TL")
                    reg.teams.append(
                        (team_id, bu.short, dept_sfx, names.TEAM_SKILLS[dept_sfx], team_code)
                    )
            reg.benefit_owners[bu.short] = [p(bu_id, "ROLE-BO"), p(bu_id, "ROLE-BCM")]
            p(bu_id, "ROLE-FBP")
            mt_code = f"MT-{bu.code}{reg.sfx}"
            reg.mt[bu.short] = w.add(
                ManagementTeam,
                code=mt_code,
                name=f"{bu.name} Management Team{reg.nsfx}",
                org_unit_id=bu_id,
                lead_id=director,
            )
            for fy in self.fys:
                w.add(
                    BusinessPlan,
                    code=f"PLAN-{mt_code}-FY{fy}",
                    management_team_id=reg.mt[bu.short],
                    fiscal_year=fy,
                    title=f"{bu.name} business plan {fy - 1}/{fy % 100:02d}{reg.nsfx}",
                    status="approved" if fy <= self.fy else "draft",
                    summary=f"How {bu.name} will meet its targets in FY{fy}.",
                )
            measures = [
                m.code
                for m in OPERATIONAL_MEASURES
                if m.org_unit_code.startswith(f"DEP-{bu.short}-")
            ]
            node_code = f"GOV-{mt_code}"
            reg.mt_node[bu.short] = self.node(
                node_code,
                f"{bu.name} Management Team{reg.nsfx}",
                NodeKind.MANAGEMENT_TEAM,
                self.nodes["GOV-OPS"],
                director,
                Cadence.MONTHLY,
                self.rng.randint(6, 11),
                bu_id,
                f"Runs {bu.name} and its business plan; realises benefits.",
                reg.heads[bu.short] + reg.benefit_owners[bu.short][1:],
                measures,
            )
            self.scope(node_code, org_unit_id=bu_id)
            self.scope("GOV-OPS", org_unit_id=bu_id)

    # -- strategy ---------------------------------------------------------------------------
    def region_strategy(self, reg: _Region) -> None:
        w, rng = self.w, self.rng
        for key, kind, name, description in names.OTIGS:
            reg.otig[key] = w.add(
                Otig,
                code=f"OTIG-{key}{reg.sfx}",
                name=name,
                kind=OtigKind(kind),
                description=description,
                owner_id=rng.choice([self.ceo, self.coo, self.cfo]),
                raised_on=self.day_between(
                    _add_months(self.strategy_start, -6), self.strategy_start
                ),
            )
        # Portfolios are created here because objectives are delegated to them.
        for key, code, name, bu, description in names.PORTFOLIOS:
            item = self.new_item(
                reg,
                f"{code}{reg.sfx}",
                f"{name}{reg.nsfx}",
                WorkKind.PORTFOLIO,
                Nature.CHANGE,
                Category.TRANSFORM,
                Phase.DELIVERY,
                reg.bu[bu],
                self.portfolio_directors[key],
                self.portfolio_directors[key],
                self.nodes["GOV-PPG"],
                None,
            )
            item.start = self.window_start
            item.finish = _add_months(self.window_end, 24)
            item.description = description
            reg.portfolios[key] = item
        for kind, key, title, description, delegate, otigs, priority in names.OTCS:
            code = f"OTC-{key}{reg.sfx}"
            owner = (
                self.portfolio_directors.get(delegate)
                or reg.director.get(delegate)
                or self.innovation_lead
            )
            effective = self.strategy_start if priority < 4 else _add_months(self.strategy_start, 6)
            revised = self.revision(key)
            final_title = revised[1] if revised and revised[1] else title
            status = OtcStatus.WITHDRAWN if revised and revised[3] else OtcStatus.ACTIVE
            otc_id = w.add(
                Otc,
                code=code,
                kind=OtcKind(kind),
                title=final_title,
                description=description,
                status=status,
                owner_id=owner,
                portfolio_id=reg.portfolios[delegate].id if kind == "objective" else None,
                management_team_id=reg.mt[delegate] if kind == "target" else None,
                innovation_unit_id=self.fn_innov if kind == "challenge" else None,
                priority=priority,
                version=2 if revised else 1,
                effective_from=revised[0] if revised else effective,
            )
            reg.otc[key] = otc_id
            reg.otc_kind[key] = kind
            # versions exactly as StrategyService.add_otc / revise_otc record them
            w.add(
                OtcVersion,
                code=f"{code}@v1",
                otc_id=otc_id,
                version=1,
                title=title,
                description=description,
                status=OtcStatus.ACTIVE,
                effective_from=effective,
                effective_to=revised[0] if revised else None,
                change_reason="created",
            )
            if revised:
                w.add(
                    OtcVersion,
                    code=f"{code}@v2",
                    otc_id=otc_id,
                    version=2,
                    title=final_title,
                    description=description,
                    status=status,
                    effective_from=revised[0],
                    effective_to=None,
                    change_reason=revised[2],
                )
            for otig in otigs:
                w.add(
                    OtigOtc, code=f"OO-{otig}-{key}{reg.sfx}", otig_id=reg.otig[otig], otc_id=otc_id
                )
            for n, (kr_name, unit, base, target, direction, trajectory, measure) in enumerate(
                names.KEY_RESULTS.get(key, ()), start=1
            ):
                if key == "O-03" and revised:
                    target = 400_000  # the revision raised the target
                self.kr_ids[f"KR-{key}-{n}{reg.sfx}"] = w.add(
                    KeyResult,
                    code=f"KR-{key}-{n}{reg.sfx}",
                    name=kr_name,
                    otc_id=otc_id,
                    management_team_id=reg.mt[delegate] if kind == "target" else None,
                    unit=unit,
                    baseline=_qty(base, 4),
                    baseline_date=self.strategy_start,
                    target=_qty(target, 4),
                    target_date=self.target_date(key),
                    direction=Direction(direction),
                    trajectory=Trajectory(trajectory),
                    measure_code=measure or None,
                )
            if kind == "objective":
                self.scope("GOV-PDG", otc_id=otc_id)
            elif kind == "target":
                self.scope(f"GOV-MT-{self.bu_spec(delegate).code}{reg.sfx}", otc_id=otc_id)
        for bu_short, kpis in names.TEAM_KPIS.items():
            for n, (kr_name, unit, base, target, direction, measure) in enumerate(kpis, start=1):
                w.add(
                    KeyResult,
                    code=f"KPI-MT-{self.bu_spec(bu_short).code}-{n}{reg.sfx}",
                    name=kr_name,
                    otc_id=None,
                    management_team_id=reg.mt[bu_short],
                    unit=unit,
                    baseline=_qty(base, 4),
                    baseline_date=self.strategy_start,
                    target=_qty(target, 4),
                    target_date=dt.date(self.fy, 3, 31),
                    direction=Direction(direction),
                    trajectory=Trajectory.LINEAR,
                    measure_code=measure or None,
                )
        # targets go into their management team's business plans (one planted exception)
        for kind, key, _t, _d, delegate, _o, _p in names.OTCS:
            if kind != "target" or key in _NO_PLAN_TARGETS:
                continue
            mt_code = f"MT-{self.bu_spec(delegate).code}{reg.sfx}"
            for fy in self.fys:
                plan_code = f"PLAN-{mt_code}-FY{fy}"
                w.add(
                    BusinessPlanTarget,
                    code=f"BPT-{plan_code}-{key}",
                    business_plan_id=self._plan_id(plan_code),
                    otc_id=reg.otc[key],
                )

    def _plan_id(self, code: str) -> int:
        for row in self.w.pending["business_plan"]:
            if row["code"] == code:
                return int(row["id"])
        raise KeyError(code)

    @staticmethod
    def bu_spec(short: str) -> names.BusinessUnitSpec:
        return next(b for b in names.BUSINESS_UNITS if b.short == short)

    def revision(self, key: str) -> tuple[dt.date, str | None, str, bool] | None:
        """(effective from, new title, reason, withdrawn) of the OTCs the board revised."""
        s = self.strategy_start
        if key == "O-03":
            return (
                _add_months(s, 12),
                "Install 400,000 smart meters by March 2028",
                "The regulator's final determination raised the smart metering allowance; "
                "the board raised the target to match.",
                False,
            )
        if key == "O-07":
            return (
                _add_months(s, 14),
                "Replace end-of-life finance and HR systems by December 2027",
                "ERP supplier re-plan after a failed data migration rehearsal; the board "
                "accepted a six-month delay.",
                False,
            )
        if key == "O-11":
            return (
                _add_months(s, 15),
                None,
                "Withdrawn after the market review showed low take-up; the pilot is "
                "stopped and its budget released.",
                True,
            )
        return None

    def target_date(self, key: str) -> dt.date:
        end = dt.date(self.fy + 1, 3, 31)
        return {
            "O-05": dt.date(self.fy, 3, 31),
            "O-06": dt.date(self.fy + 3, 3, 31),
            "O-07": dt.date(self.fy, 12, 31),
        }.get(key, dt.date(self.fy, 3, 31) if key.startswith("T-") else end)

    # -- work -------------------------------------------------------------------------------
    def new_item(
        self,
        reg: _Region,
        code: str,
        name: str,
        kind: WorkKind,
        nature: Nature,
        category: Category,
        phase: Phase,
        org_unit_id: int,
        owner_id: int,
        manager_id: int,
        node_id: int | None,
        parent: _Item | None,
    ) -> _Item:
        item_id = self.w.reserve(WorkItem)
        item = _Item(
            item_id,
            code,
            name,
            kind,
            nature,
            category,
            phase,
            org_unit_id,
            owner_id,
            manager_id,
            node_id,
            parent,
        )
        if parent is not None:
            parent.children.append(item)
        self.items.append(item)
        reg.items.append(item)
        return item

    def region_work(self, reg: _Region) -> None:
        rng = self.rng
        for spec in names.PROGRAMMES:
            pf = reg.portfolios[spec.portfolio]
            sro = rng.choice([reg.director[spec.bu], *reg.heads[spec.bu][:1]])
            pgm = self.person(reg.bu[spec.bu], "ROLE-PGM")
            node_code = f"GOV-PG-{spec.code}{reg.sfx}"
            node_id = self.node(
                node_code,
                f"{spec.name} Programme Board{reg.nsfx}",
                NodeKind.PROGRAMME_BOARD,
                self.nodes["GOV-PPG"],
                sro,
                Cadence.MONTHLY,
                rng.randint(10, 13),
                reg.bu[spec.bu],
                f"Directs the {spec.name} programme.",
                [pgm, reg.benefit_owners[spec.bu][1], rng.choice(self.assurance)],
                (),
            )
            prog = self.new_item(
                reg,
                f"PG-{spec.code}{reg.sfx}",
                f"{spec.name}{reg.nsfx}",
                WorkKind.PROGRAMME,
                Nature.CHANGE,
                Category.TRANSFORM,
                Phase.DELIVERY,
                reg.bu[spec.bu],
                sro,
                pgm,
                node_id,
                pf,
            )
            prog.infra = spec.infra
            reg.programmes[spec.code] = prog
            reg.pg_node[spec.code] = node_id
            for n, project_name in enumerate(spec.projects, start=1):
                key = f"{spec.code}-{n:03d}"
                phase = self.pick_phase()
                if key == _UNGOVERNED:
                    phase = Phase.DELIVERY
                self.project(
                    reg,
                    f"PRJ-{key}{reg.sfx}",
                    f"{project_name}{reg.nsfx}",
                    prog,
                    spec.bu,
                    phase,
                    spec.infra,
                    node_code,
                    objectives=spec.objectives,
                    governed=key != _UNGOVERNED,
                )
        seqs: dict[str, int] = defaultdict(int)
        for pf_key, project_name, bu, role in names.STANDALONE_PROJECTS:
            seqs[pf_key] += 1
            code = f"PRJ-{pf_key}-{seqs[pf_key]:03d}{reg.sfx}"
            phase = {"unfunded": Phase.IDENTIFICATION, "withdrawn": Phase.CANCELLED}.get(
                role, Phase.DELIVERY if role == "unaligned" else Phase.DEFINITION
            )
            objectives: tuple[str, ...] = ()
            if role == "unfunded":
                objectives = ("O-09",)
            elif role == "withdrawn":
                objectives = ("O-11",)
            elif role.startswith("innovation-"):
                objectives = (role.removeprefix("innovation-"),)
            item = self.project(
                reg,
                code,
                f"{project_name}{reg.nsfx}",
                reg.portfolios[pf_key],
                bu,
                phase,
                pf_key == "NET",
                "GOV-PPG",
                objectives=objectives,
                governed=True,
                big=False,
            )
            if role == "unfunded":
                item.funded = False
            if role.startswith("innovation-"):
                item.org_unit_id = self.fn_innov
                item.category = Category.GROW
        for bu, sfx_code, name, category, dept in names.WORKSTREAMS:
            head = rng.choice(reg.heads[bu])
            ws = self.new_item(
                reg,
                f"WS-{bu}-{sfx_code}{reg.sfx}",
                f"{name}{reg.nsfx}",
                WorkKind.WORKSTREAM,
                Nature.RUN,
                Category(category),
                Phase.DELIVERY,
                reg.dept[(bu, dept)],
                head,
                head,
                reg.mt_node[bu],
                None,
            )
            ws.start = self.window_start
            ws.a_start = ws.start
            ws.annual = rng.uniform(0.6, 9.0) * 1e6
            ws.growth = (
                rng.uniform(0.08, 0.15) if ws.category is Category.GROW else rng.uniform(0.0, 0.04)
            )
            ws.overrun = rng.choice([-0.03, -0.01, 0.0, 0.01, 0.02, 0.04, 0.07, 0.12])
            ws.health = (
                "good" if ws.overrun <= 0.05 else ("watch" if ws.overrun < 0.1 else "troubled")
            )
            ws.onset = _add_months(self.now_month, -rng.randint(3, 9))
            ws.capex_share = 0.3 if sfx_code in ("MAINS", "RESERVOIR", "INFRA") else 0.0
            team = self.team_for(reg, bu, dept)
            for skill in names.TEAM_SKILLS[dept][:2]:
                ws.skills.append((skill, round(rng.uniform(2, 14), 1), team))
            self.scope(f"GOV-MT-{self.bu_spec(bu).code}{reg.sfx}", work_item_id=ws.id)
        for code, name, bu, description in names.PRODUCTS:
            owner = rng.choice(reg.heads[bu])
            prd = self.new_item(
                reg,
                f"{code}{reg.sfx}",
                f"{name}{reg.nsfx}",
                WorkKind.PRODUCT,
                Nature.RUN,
                Category.GROW,
                Phase.DELIVERY,
                reg.bu[bu],
                owner,
                owner,
                self.nodes["GOV-PRODUCT"],
                None,
            )
            prd.start = self.window_start
            prd.a_start = prd.start
            prd.annual = rng.uniform(0.3, 1.5) * 1e6
            prd.growth = rng.uniform(0.1, 0.25)
            prd.overrun = rng.choice([0.0, 0.02, 0.06])
            prd.onset = _add_months(self.now_month, -4)
            prd.capex_share = 0.2
            prd.skills.append(
                ("SK-DEV", round(rng.uniform(2, 6), 1), self.team_for(reg, "DIG", "DELIVERY"))
            )
            prd.description = description
            self.scope("GOV-PRODUCT", work_item_id=prd.id)
        for pf in reg.portfolios.values():
            self.scope("GOV-PPG", work_item_id=pf.id)
            self.scope("GOV-PDG", work_item_id=pf.id)
            self.scope("GOV-CHANGE", work_item_id=pf.id)
            self.scope("GOV-ASSURE", work_item_id=pf.id)
        self.contributions(reg)
        self.dependencies(reg)
        self.write_items(reg)

    def team_for(self, reg: _Region, bu: str, dept: str) -> int:
        return next(t[0] for t in reg.teams if t[1] == bu and t[2] == dept)

    def pick_phase(self) -> Phase:
        roll = self.rng.random()
        if roll < 0.06:
            return Phase.IDENTIFICATION
        if roll < 0.16:
            return Phase.DEFINITION
        if roll < 0.76:
            return Phase.DELIVERY
        if roll < 0.83:
            return Phase.CLOSURE
        if roll < 0.985:
            return Phase.CLOSED
        return Phase.CANCELLED

    def project(
        self,
        reg: _Region,
        code: str,
        name: str,
        parent: _Item,
        bu: str,
        phase: Phase,
        infra: bool,
        parent_node: str,
        *,
        objectives: tuple[str, ...],
        governed: bool,
        big: bool | None = None,
    ) -> _Item:
        rng = self.rng
        sro = rng.choice(reg.heads[bu])
        pm = self.person(reg.bu[bu], "ROLE-PM")
        wlc = rng.lognormvariate(14.9, 0.7)  # median ~£3m, a long tail of big projects
        has_board = big if big is not None else wlc > 4e6
        node_id: int | None = self.nodes[parent_node] if governed else None
        item = self.new_item(
            reg,
            code,
            name,
            WorkKind.PROJECT,
            Nature.CHANGE,
            rng.choice([Category.TRANSFORM, Category.TRANSFORM, Category.GROW]),
            phase,
            reg.bu[bu],
            sro,
            pm,
            node_id,
            parent,
        )
        if governed and has_board:
            item.node_id = self.node(
                f"GOV-{code}",
                f"{name} Project Board",
                NodeKind.PROJECT_BOARD,
                self.nodes[parent_node],
                sro,
                rng.choice([Cadence.MONTHLY, Cadence.MONTHLY, Cadence.FORTNIGHTLY]),
                rng.randint(3, 8),
                reg.bu[bu],
                f"Directs the {name} project.",
                [pm, rng.choice(reg.benefit_owners[bu])],
                (),
            )
            self.scope(f"GOV-{code}", work_item_id=item.id)
        item.infra = infra
        item.wlc = wlc
        item.capex_share = rng.uniform(0.55, 0.85) if infra else rng.uniform(0.2, 0.5)
        item.objectives = objectives
        self.plan_dates(item)
        pool = (
            ["SK-CIVIL", "SK-FIELD", "SK-PM", "SK-BA", "SK-DATA"]
            if infra
            else ["SK-DEV", "SK-TEST", "SK-BA", "SK-ARCH", "SK-DATA", "SK-PM", "SK-CHANGE"]
        )
        chosen = rng.sample(pool, rng.randint(2, 4))
        if "SK-PM" not in chosen:
            chosen.append("SK-PM")
        for skill in chosen:
            suppliers = [t for t in reg.teams if skill in t[3]]
            own = [t for t in suppliers if t[1] == bu]
            team = rng.choice(own or suppliers)[0]
            fte = 0.5 if skill == "SK-PM" else round(rng.uniform(0.5, 0.4 + wlc / 1.5e6), 1)
            item.skills.append((skill, fte, team))
        return item

    def plan_dates(self, item: _Item) -> None:
        """Baseline, forecast and actual dates and the health of a project, by its phase."""
        rng, as_of = self.rng, self.as_of
        months = rng.randint(10, 30)
        phase = item.phase
        if phase is Phase.IDENTIFICATION:
            start = as_of + dt.timedelta(days=rng.randint(60, 300))
        elif phase is Phase.DEFINITION:
            start = as_of - dt.timedelta(days=rng.randint(20, 150))
        elif phase is Phase.DELIVERY:
            start = as_of - dt.timedelta(days=rng.randint(120, 24 * 30))
            months = max(months, (as_of - start).days // 30 + rng.randint(3, 14))
        elif phase is Phase.CLOSURE:
            months = rng.randint(10, 24)
            start = as_of - dt.timedelta(days=months * 30 + rng.randint(-40, 20))
        elif phase is Phase.CLOSED:
            months = rng.randint(8, 18)
            end = self.day_between(_add_months(self.window_start, 4), as_of - dt.timedelta(days=45))
            start = end - dt.timedelta(days=months * 30)
        else:  # cancelled
            start = as_of - dt.timedelta(days=rng.randint(240, 480))
        item.start = start
        item.finish = start + dt.timedelta(days=months * 30)
        roll = rng.random()
        live = phase in (Phase.DELIVERY, Phase.CLOSURE)
        if phase is Phase.CANCELLED or (live and roll < 0.15):
            item.health = "troubled"
            item.slip = rng.randint(60, 240)
            item.overrun = rng.uniform(0.12, 0.35)
        elif (live and roll < 0.45) or (phase is Phase.CLOSED and roll < 0.3):
            item.health = "watch"
            item.slip = rng.randint(10, 60)
            item.overrun = rng.uniform(0.03, 0.09)
        else:
            item.slip = rng.randint(-10, 10)
            item.overrun = rng.uniform(-0.04, 0.03)
        item.onset = _add_months(self.now_month, -rng.randint(2, 8))
        item.f_start = (
            item.start
            if phase is not Phase.DEFINITION
            else (item.start + dt.timedelta(days=rng.randint(0, 30)))
        )
        item.f_finish = item.finish + dt.timedelta(days=item.slip)
        if item.f_finish <= as_of and phase in (Phase.DELIVERY, Phase.DEFINITION):
            item.f_finish = as_of + dt.timedelta(days=rng.randint(30, 200))
            item.slip = (item.f_finish - item.finish).days
        if phase is Phase.CLOSURE:
            item.f_finish = as_of + dt.timedelta(days=rng.randint(5, 60))
            item.slip = (item.f_finish - item.finish).days
        if phase not in (Phase.IDENTIFICATION,) and start <= as_of:
            item.a_start = item.start
        if phase is Phase.CLOSED:
            item.a_finish = item.f_finish
            if item.a_finish > as_of - dt.timedelta(days=30):
                item.a_finish = as_of - dt.timedelta(days=30)
                item.f_finish = item.a_finish
        if phase is Phase.CANCELLED:
            item.a_finish = as_of - dt.timedelta(days=rng.randint(20, 120))
            item.f_finish = item.a_finish
        item.milestones = self.plan_milestones(item)

    def plan_milestones(self, item: _Item) -> list[tuple[str, dt.date]]:
        assert item.start and item.finish and item.f_finish
        names_ = names.MILESTONES_INFRA if item.infra else names.MILESTONES_CHANGE
        picked = [
            names_[0],
            *sorted(self.rng.sample(names_[1:-1], 4), key=names_.index),
            names_[-1],
        ]
        span = (item.finish - item.start).days
        out = []
        for i, name in enumerate(picked):
            frac = i / (len(picked) - 1)
            base = item.start + dt.timedelta(days=int(span * frac))
            out.append((name, base + dt.timedelta(days=int(item.slip * frac))))
        return out

    def contributions(self, reg: _Region) -> None:
        """Projects → their objectives, workstreams → targets; weights per OTC sum to 1 (except
        the planted one)."""
        by_otc: dict[str, list[_Item]] = defaultdict(list)
        for item in reg.items:
            for key in item.objectives:
                if item.kind is WorkKind.PROJECT:
                    by_otc[key].append(item)
        target_ws = {
            "T-01": ("RET-CONTACT", "RET-COMPLAINTS"),
            "T-02": ("NET-FIELD",),
            "T-03": ("NET-CONTROL",),  # NET-FIELD serves T-02 only: its weights stay ≤ 100 %
            "T-04": ("FIN-AP",),
            "T-05": ("DIG-INFRA", "DIG-APPS"),
            "T-06": ("WAT-QUALITY", "WAT-TREAT"),
        }
        for key, suffixes in target_ws.items():
            for s in suffixes:
                by_otc[key].extend(i for i in reg.items if i.code == f"WS-{s}{reg.sfx}")
        for key in sorted(by_otc):
            contributors = by_otc[key]
            raw = [self.rng.uniform(0.5, 2.0) for _ in contributors]
            total = Decimal(_WEIGHTS_OFF.get(key, Decimal("1")))
            weights = [(total * Decimal(r / sum(raw))).quantize(Decimal("0.0001")) for r in raw]
            weights[-1] = total - sum(weights[:-1], Decimal("0"))
            for item, weight in zip(contributors, weights, strict=True):
                self.w.add(
                    Contribution,
                    code=f"CTB-{item.code}-{key}",
                    work_item_id=item.id,
                    otc_id=reg.otc[key],
                    weight=weight,
                )
            reg.contributions[key] = [i.id for i in contributors]

    def dependencies(self, reg: _Region) -> None:
        """Edges only from an earlier project to a later one, so the graph cannot have a cycle."""
        projects = [i for i in reg.items if i.kind is WorkKind.PROJECT]
        edges: list[tuple[_Item, _Item]] = []
        for a, b in itertools.pairwise(projects):
            if a.parent is b.parent and self.rng.random() < 0.45:
                edges.append((a, b))
        for _ in range(6):
            i, j = sorted(self.rng.sample(range(len(projects)), 2))
            if projects[i].parent is not projects[j].parent:
                edges.append((projects[i], projects[j]))
        seen: list[tuple[int, int]] = []
        for a, b in edges:
            if (a.id, b.id) in seen:
                continue
            seen.append((a.id, b.id))
            self.dep_seq += 1
            roll = self.rng.random()
            kind = (
                DependencyKind.FINISH_TO_START
                if roll < 0.7
                else DependencyKind.START_TO_START
                if roll < 0.9
                else DependencyKind.NEEDS
            )
            self.w.add(
                Dependency,
                code=f"DPN-{self.dep_seq:05d}",
                predecessor_id=a.id,
                successor_id=b.id,
                kind=kind,
                description=f"{b.name} needs {a.name}"
                + (" to finish first" if kind is DependencyKind.FINISH_TO_START else ""),
            )

    def write_items(self, reg: _Region) -> None:
        for prog in reg.programmes.values():
            # a programme spans its projects
            kids = [c for c in prog.children if c.start and c.finish]
            prog.start = min(c.start for c in kids if c.start)
            prog.finish = max(c.finish for c in kids if c.finish)
            prog.f_start = min(c.f_start or c.start for c in kids if c.start)
            prog.f_finish = max(c.f_finish or c.finish for c in kids if c.finish)
            prog.a_start = min((c.a_start for c in kids if c.a_start), default=None)
            prog.wlc = sum(c.wlc for c in kids if c.phase is not Phase.CANCELLED)
        for item in reg.items:
            pct = None
            if item.kind is WorkKind.PROJECT and item.a_start and item.f_finish:
                if item.phase is Phase.CLOSED:
                    pct = 100.0
                else:
                    span = max((item.f_finish - item.a_start).days, 1)
                    pct = min(max((self.as_of - item.a_start).days / span * 100, 0), 99)
            self.w.add(
                WorkItem,
                id=item.id,
                code=item.code,
                name=item.name,
                kind=item.kind,
                parent_id=item.parent.id if item.parent else None,
                nature=item.nature,
                category=item.category,
                phase=item.phase,
                description=item.description,
                owner_id=item.owner_id,
                governing_node_id=item.node_id,
                org_unit_id=item.org_unit_id,
                baseline_start=item.start,
                baseline_finish=item.finish,
                forecast_start=item.f_start or item.start,
                forecast_finish=item.f_finish or item.finish,
                actual_start=item.a_start,
                actual_finish=item.a_finish,
                percent_complete=None if pct is None else _qty(pct),
                whole_life_cost=_money(item.wlc) if item.wlc and item.funded else None,
            )

    # -- per item: milestones, gates, RAID ----------------------------------------------------
    def item_details(self, item: _Item) -> None:
        w, as_of = self.w, self.as_of
        if item.kind is WorkKind.PROJECT:
            started = item.a_start is not None
            for n, (name, forecast) in enumerate(item.milestones, start=1):
                assert item.start and item.finish
                frac = (n - 1) / (len(item.milestones) - 1)
                base = item.start + dt.timedelta(days=int((item.finish - item.start).days * frac))
                done = (
                    started
                    and forecast < as_of
                    and (item.a_finish is None or forecast <= item.a_finish)
                )
                if item.phase is Phase.CANCELLED and item.a_finish and forecast > item.a_finish:
                    done = False
                w.add(
                    Milestone,
                    code=f"MS-{item.code}-{n:02d}",
                    work_item_id=item.id,
                    name=name,
                    baseline_date=base,
                    forecast_date=forecast,
                    actual_date=forecast if done else None,
                    is_key=name in ("Go-live", "Commissioning complete", "Asset handed over"),
                )
            self.gates(item)
        self.item_raid(item)

    def gates(self, item: _Item) -> None:
        assert item.start
        node = item.node_id or self.nodes["GOV-PPG"]
        front_door = self.nodes["GOV-PPG"]
        order = [Phase.DEFINITION, Phase.DELIVERY, Phase.CLOSURE, Phase.CLOSED]
        reached = {
            Phase.IDENTIFICATION: 0,
            Phase.DEFINITION: 1,
            Phase.DELIVERY: 2,
            Phase.CLOSURE: 3,
            Phase.CLOSED: 4,
            Phase.CANCELLED: 2,
        }[item.phase]
        dates = {
            Phase.DEFINITION: item.start - dt.timedelta(days=self.rng.randint(30, 90)),
            Phase.DELIVERY: item.start + dt.timedelta(days=self.rng.randint(45, 120)),
            Phase.CLOSURE: (item.f_finish or item.finish or item.start)
            - dt.timedelta(days=self.rng.randint(20, 60)),
            Phase.CLOSED: item.a_finish or item.start,
        }
        for phase in order[:reached]:
            day = min(dates[phase], self.as_of - dt.timedelta(days=1))
            outcome = (
                GateOutcome.APPROVED_WITH_CONDITIONS
                if self.rng.random() < 0.2
                else (GateOutcome.APPROVED)
            )
            if phase is Phase.DELIVERY and self.rng.random() < 0.15:
                self.w.add(
                    GateDecision,
                    code=f"GATE-{item.code}-{phase.value}-1",
                    work_item_id=item.id,
                    to_phase=phase,
                    outcome=GateOutcome.DEFERRED,
                    decided_on=day - dt.timedelta(days=28),
                    node_id=node,
                    notes="Deferred: business case to show benefits by year.",
                )
            self.w.add(
                GateDecision,
                code=f"GATE-{item.code}-{phase.value}",
                work_item_id=item.id,
                to_phase=phase,
                outcome=outcome,
                decided_on=day,
                node_id=front_door if phase is Phase.DEFINITION else node,
                notes="Conditions: confirm resource release before mobilisation."
                if outcome is GateOutcome.APPROVED_WITH_CONDITIONS
                else None,
            )
        if item.phase is Phase.CANCELLED and item.a_finish:
            parent_node = self.node_parent.get(node) or node
            self.w.add(
                GateDecision,
                code=f"GATE-{item.code}-cancelled",
                work_item_id=item.id,
                to_phase=Phase.CANCELLED,
                outcome=GateOutcome.APPROVED,
                decided_on=item.a_finish,
                node_id=parent_node,
                notes="Stopped: the business case no longer holds; budget released.",
            )

    def item_raid(self, item: _Item) -> None:
        rng, as_of = self.rng, self.as_of
        if item.kind is WorkKind.PORTFOLIO:
            return
        trouble = {"good": 0, "watch": 1, "troubled": 2}[item.health]
        closed = item.phase in (Phase.CLOSED, Phase.CANCELLED)
        start = item.a_start or item.start or self.window_start
        raised_from = max(start, self.window_start)
        raised_to = max(raised_from, min(as_of, item.a_finish or as_of))
        n_risks = {WorkKind.PROJECT: rng.randint(2, 4), WorkKind.PROGRAMME: rng.randint(2, 3)}.get(
            item.kind, rng.randint(1, 2)
        )
        common = {"work_item_id": item.id, "org_unit_id": item.org_unit_id}
        for title, response in rng.sample(names.RISKS, n_risks + trouble):
            probability = min(5, rng.randint(1, 3) + trouble)
            impact = min(5, rng.randint(2, 4) + (trouble > 1))
            raised = self.day_between(raised_from, raised_to)
            is_closed = closed or rng.random() < 0.15
            self.raid(
                RaidKind.RISK,
                title,
                description=f"{title} on {item.name}.",
                status=RaidStatus.CLOSED
                if is_closed
                else rng.choice([RaidStatus.OPEN, RaidStatus.IN_PROGRESS]),
                owner_id=item.manager_id,
                probability=probability,
                impact=impact,
                proximity=as_of + dt.timedelta(days=rng.randint(15, 240)),
                raised_on=raised,
                closed_on=min(as_of, raised + dt.timedelta(days=60)) if is_closed else None,
                response=response,
                **common,
            )
        for title, response in rng.sample(names.ISSUES, rng.randint(0, 1) + trouble):
            raised = self.day_between(raised_from, raised_to)
            self.raid(
                RaidKind.ISSUE,
                title,
                status=RaidStatus.CLOSED if closed else RaidStatus.IN_PROGRESS,
                owner_id=item.manager_id,
                impact=min(5, 2 + trouble + rng.randint(0, 1)),
                raised_on=raised,
                closed_on=min(as_of, raised + dt.timedelta(days=45)) if closed else None,
                response=response,
                **common,
            )
        for title in rng.sample(names.ACTIONS, rng.randint(1, 2) + trouble):
            raised = self.day_between(
                max(raised_from, raised_to - dt.timedelta(days=90)), raised_to
            )
            due = raised + dt.timedelta(days=rng.randint(14, 60))
            done = closed or (due < as_of and rng.random() < 0.7)
            self.raid(
                RaidKind.ACTION,
                title,
                status=RaidStatus.CLOSED if done else RaidStatus.OPEN,
                owner_id=rng.choice([item.manager_id, item.owner_id]),
                raised_on=raised,
                due_on=due,
                closed_on=min(due, as_of) if done else None,
                **common,
            )
        if item.kind is not WorkKind.WORKSTREAM:
            for title in rng.sample(names.DECISIONS, rng.randint(0, 2)):
                raised = self.day_between(raised_from, raised_to)
                self.raid(
                    RaidKind.DECISION,
                    title,
                    status=RaidStatus.CLOSED,
                    owner_id=item.owner_id,
                    raised_on=raised,
                    closed_on=raised,
                    node_id=item.node_id,
                    **common,
                )
            if rng.random() < 0.5:
                self.raid(
                    RaidKind.ASSUMPTION,
                    rng.choice(names.ASSUMPTIONS),
                    owner_id=item.manager_id,
                    raised_on=raised_from,
                    **common,
                )

    def node_raid(self) -> None:
        """Each node keeps a small log of its own, separate from the items it governs."""
        rng, as_of = self.rng, self.as_of
        for code, node_id in self.nodes.items():
            kind = self.node_kind[node_id]
            if kind is NodeKind.PROJECT_BOARD:
                continue
            if kind is not NodeKind.MANAGEMENT_TEAM or rng.random() < 0.5:
                title, response = rng.choice(names.NODE_RISKS)
                self.raid(
                    RaidKind.RISK,
                    title,
                    node_id=node_id,
                    owner_id=None,
                    probability=rng.randint(2, 4),
                    impact=rng.randint(2, 5),
                    proximity=as_of + dt.timedelta(days=rng.randint(30, 180)),
                    raised_on=as_of - dt.timedelta(days=rng.randint(20, 200)),
                    response=response,
                    status=RaidStatus.OPEN,
                    description=f"Held on the {code} log.",
                )
            raised = as_of - dt.timedelta(days=rng.randint(5, 40))
            self.raid(
                RaidKind.ACTION,
                rng.choice(names.ACTIONS),
                node_id=node_id,
                raised_on=raised,
                due_on=raised + dt.timedelta(days=rng.randint(14, 45)),
                status=RaidStatus.OPEN,
            )

    # -- benefits ---------------------------------------------------------------------------
    def region_benefits(self, reg: _Region) -> None:
        rng = self.rng
        for spec in names.PROGRAMMES:
            prog = reg.programmes[spec.code]
            projects = [c for c in prog.children if c.phase is not Phase.CANCELLED]
            for project in projects:
                for template in rng.sample(spec.benefits, 1 + (rng.random() < 0.35)):
                    name, category, measure, unit, code, low, high = template
                    short = project.name.removesuffix(reg.nsfx)
                    enablers = [project]
                    if rng.random() < 0.25:
                        enablers.append(rng.choice(projects))
                    self.benefit(
                        reg,
                        f"{name}: {short}",
                        BenefitKind.BENEFIT,
                        category,
                        measure,
                        unit,
                        code,
                        rng.uniform(low, high),
                        spec.bu,
                        enablers,
                        list(spec.objectives),
                    )
            for dis in names.DISBENEFITS:
                if dis[0] == spec.code and projects:
                    _, name, category, measure, unit = dis
                    self.benefit(
                        reg,
                        name,
                        BenefitKind.DISBENEFIT,
                        category,
                        measure,
                        unit,
                        "",
                        rng.uniform(20_000, 200_000) if unit == "GBP" else rng.uniform(2, 30),
                        spec.bu,
                        [rng.choice(projects)],
                        list(spec.objectives),
                    )
        for ws_sfx, name, category, measure, unit, code in names.RUN_BENEFITS:
            ws = next(i for i in reg.items if i.code == f"WS-{ws_sfx}{reg.sfx}")
            bu = ws_sfx.split("-")[0]
            targets = [k for k, v in reg.contributions.items() if ws.id in v]
            value = rng.uniform(100_000, 900_000) if unit == "GBP" else rng.uniform(2, 10)
            self.benefit(
                reg,
                name,
                BenefitKind.BENEFIT,
                category,
                measure,
                unit,
                code,
                value,
                bu,
                [ws],
                targets,
            )
        for item in reg.items:
            objectives = item.objectives
            if item.kind is WorkKind.PRODUCT or (objectives and objectives[0].startswith("C-")):
                bu = next((b for b, i in reg.bu.items() if i == item.org_unit_id), "RET")
                self.benefit(
                    reg,
                    f"Revenue growth: {item.name.removesuffix(reg.nsfx)}",
                    BenefitKind.BENEFIT,
                    "cashable",
                    "Net revenue (GBP)",
                    "GBP",
                    "",
                    rng.uniform(100_000, 600_000),
                    bu,
                    [item],
                    list(objectives),
                )

    def benefit(
        self,
        reg: _Region,
        name: str,
        kind: BenefitKind,
        category: str,
        measure: str,
        unit: str,
        measure_code: str,
        annual: float,
        bu: str,
        enablers: list[_Item],
        otcs: list[str],
    ) -> None:
        rng, w = self.rng, self.w
        self.benefit_seq += 1
        code = f"BEN-{self.benefit_seq:04d}"
        if not reg.first_benefit:
            reg.first_benefit = self.benefit_seq
        local = self.benefit_seq - reg.first_benefit + 1  # the planted gaps repeat per region
        no_owner = local in _NO_OWNER_BENEFITS
        no_measure = local in _NO_MEASURE_BENEFITS
        lead = enablers[0]
        financial = category != "non_financial"
        # benefits start after the enabling change lands; run benefits are already flowing
        if lead.kind is WorkKind.PROJECT:
            assert lead.finish and lead.f_finish
            plan_start = _add_months(lead.finish, rng.randint(1, 3))
            fc_start = _add_months(lead.f_finish, rng.randint(1, 3))
        else:
            plan_start = _add_months(self.window_start, rng.randint(0, 6))
            fc_start = plan_start
        plan_start = min(plan_start, _add_months(self.window_end, -9))
        fc_start = min(max(fc_start, plan_start), _add_months(self.window_end, -6))
        factor = {
            "good": rng.uniform(0.95, 1.05),
            "watch": rng.uniform(0.8, 0.95),
            "troubled": rng.uniform(0.55, 0.8),
        }[lead.health]
        has_actuals = fc_start < self.now_month and lead.phase is not Phase.IDENTIFICATION
        if lead.phase in (Phase.IDENTIFICATION, Phase.DEFINITION):
            status = (
                BenefitStatus.IDENTIFIED
                if lead.phase is Phase.IDENTIFICATION
                else (BenefitStatus.PLANNED)
            )
        elif has_actuals:
            status = BenefitStatus.REALISING
        else:
            status = BenefitStatus.PLANNED
        benefit_id = w.add(
            Benefit,
            code=code,
            name=name,
            kind=kind,
            category=BenefitCategory(category),
            status=status,
            description=f"{name}, enabled by {lead.name}.",
            owner_id=None if no_owner else rng.choice(reg.benefit_owners[bu]),
            owner_unit_id=reg.bu[bu],
            realising_team_id=reg.mt[bu],
            measure=None if no_measure else measure,
            measure_code=None if no_measure else (measure_code or None),
            unit=unit,
            currency="GBP" if financial else None,
        )
        seen: list[int] = []
        for enabler in enablers:
            if enabler.id not in seen:
                seen.append(enabler.id)
                w.add(
                    BenefitEnabler,
                    code=f"BEE-{code}-{enabler.code}",
                    benefit_id=benefit_id,
                    work_item_id=enabler.id,
                )
        for key in otcs:
            if key in reg.otc:
                w.add(
                    BenefitContribution,
                    code=f"BEC-{code}-{key}",
                    benefit_id=benefit_id,
                    otc_id=reg.otc[key],
                )
        currency = "GBP" if financial else None
        # The profiles stop at the window's end, so a forecast that merely starts later than plan
        # would fall short over the window even when the benefit is healthy. The business case
        # forecasts a catch-up instead: over the window the forecast totals the plan times the
        # health factor, so only watched and troubled benefits fall short, by their factor.
        plan_total = sum(self.ramp(m, plan_start, annual, financial) for m in self.window)
        shape_total = sum(self.ramp(m, fc_start, annual, financial) for m in self.window)
        catch_up = plan_total / shape_total if shape_total else 1.0
        for m in self.window:
            planned = self.ramp(m, plan_start, annual, financial)
            forecast = self.ramp(m, fc_start, annual, financial) * catch_up * factor
            if planned == 0 and forecast == 0:
                continue
            actual = None
            if m < self.now_month and has_actuals and m >= fc_start:
                actual = _money(forecast * rng.uniform(0.85, 1.1))
            w.add(
                BenefitProfile,
                code=f"BPR-{code}-{m:%Y-%m}",
                benefit_id=benefit_id,
                period=m,
                planned=_money(planned),
                forecast=_money(forecast),
                actual=actual,
                currency=currency,
            )
        if lead.health == "troubled" and lead.kind is WorkKind.PROJECT:
            self.raid(
                RaidKind.RISK,
                f"Benefit at risk: {name}",
                benefit_id=benefit_id,
                owner_id=None if no_owner else reg.director[bu],
                probability=4,
                impact=3,
                proximity=fc_start,
                raised_on=self.as_of - dt.timedelta(days=30),
                response="Benefit owner to re-profile with the programme.",
                org_unit_id=reg.bu[bu],
            )

    @staticmethod
    def ramp(month: dt.date, start: dt.date, annual: float, financial: bool) -> float:
        """Money per month builds up over six months; a non-financial level over a year."""
        if month < start:
            return 0.0
        k = (month.year - start.year) * 12 + month.month - start.month + 1
        if financial:
            return annual / 12 * min(1.0, k / 6)
        return annual * min(1.0, k / 12)

    # -- status reports ---------------------------------------------------------------------
    def ramp_at(self, item: _Item, period: dt.date) -> float:
        assert item.onset
        if period < item.onset:
            return 0.0
        span = max((self.last_period - item.onset).days, 30)
        return min(1.0, (period - item.onset).days / span + 0.25)

    def status_reports(self) -> None:
        first = _add_months(self.last_period, -17)
        for item in self.items:
            if item.kind in (WorkKind.PORTFOLIO, WorkKind.PROGRAMME):
                continue
            if item.a_start is None:
                self.reporter.advance()
                continue
            end = min(
                _add_months(self.last_period, 1),
                _add_months(_month(item.a_finish), 1) if item.a_finish else self.window_end,
            )
            base = 0 if item.health == "good" and self.rng.random() < 0.6 else 1
            if item.health == "troubled":
                base = 1
            for period in _months(max(item.a_start, first), end):
                ramp = self.ramp_at(item, period)
                cost_var = item.overrun * (ramp if item.health != "good" else 1)
                slip = item.slip * (ramp if item.health != "good" else 1)
                cost_sev = 0 if cost_var <= 0.05 else (1 if cost_var <= 0.10 else 2)
                sched_sev = 0 if slip <= 30 else (1 if slip <= 90 else 2)
                conf = base + max(cost_sev, sched_sev) + (cost_sev == sched_sev == 2)
                if self.rng.random() < 0.08:
                    conf += self.rng.choice((-1, 1))
                conf = min(4, max(0, conf))
                item.status[period] = (conf, cost_sev, sched_sev)
                self.write_status(item, period, conf, cost_sev, sched_sev, cost_var, slip)
            self.reporter.advance()
        for item in self.items:
            if item.kind is WorkKind.PROGRAMME:
                periods = sorted({p for c in item.children for p in c.status})
                for period in periods:
                    rows = [c.status[period] for c in item.children if period in c.status]
                    worst = max(r[0] for r in rows)
                    mean = sum(r[0] for r in rows) / len(rows)
                    conf = max(round(mean), worst - 1)
                    cost = max(
                        round(sum(r[1] for r in rows) / len(rows)), min(1, max(r[1] for r in rows))
                    )
                    sched = max(
                        round(sum(r[2] for r in rows) / len(rows)), min(1, max(r[2] for r in rows))
                    )
                    good = sum(r[0] <= 1 for r in rows)
                    worst_child = next(
                        c
                        for c in item.children
                        if period in c.status and c.status[period][0] == worst
                    )
                    narrative = (
                        f"{good} of {len(rows)} projects green or amber/green. "
                        f"Main concern: {worst_child.name} "
                        f"({_CONF[worst].value})."
                    )
                    self.write_status(item, period, conf, cost, sched, 0.0, 0.0, narrative)

    def write_status(
        self,
        item: _Item,
        period: dt.date,
        conf: int,
        cost_sev: int,
        sched_sev: int,
        cost_var: float,
        slip: float,
        narrative: str | None = None,
    ) -> None:
        rng = self.rng
        confidence = _CONF[conf]
        if narrative is None:
            upcoming = [n for n, d in item.milestones if d >= period]
            hot = [s for s, _f, _t in item.skills if s in _HOT_SKILLS]
            template = rng.choice(names.NARRATIVES[confidence.value])
            narrative = template.format(
                milestone=upcoming[0] if upcoming else "Handover to operations",
                slip_weeks=max(1, round(slip / 7)),
                cost_pct=max(1, round(cost_var * 100)),
                skill=next(
                    (n for c, n, _d in names.SKILLS if hot and c == hot[0]), "business analysis"
                ),
            )
        overall = _RAG[0] if conf <= 1 else (_RAG[1] if conf == 2 else _RAG[2])
        self.w.add(
            StatusReport,
            code=f"SR-{item.code}-{period:%Y-%m}",
            work_item_id=item.id,
            period=period,
            confidence=confidence,
            overall=overall,
            schedule=_RAG[sched_sev],
            cost=_RAG[cost_sev],
            scope=_RAG[1] if item.health == "troubled" and rng.random() < 0.4 else _RAG[0],
            benefits=_RAG[min(2, max(0, conf - 1))],
            risk=_RAG[min(2, max(0, conf - 1))],
            resources=_RAG[1]
            if any(s in _HOT_SKILLS for s, _f, _t in item.skills) and rng.random() < 0.5
            else _RAG[0],
            narrative=narrative,
            reported_by_id=item.manager_id,
            reported_on=_add_months(period, 1) + dt.timedelta(days=rng.randint(1, 6)),
        )

    # -- costs ------------------------------------------------------------------------------
    def costs(self) -> None:
        for item in self.items:
            self.reporter.advance()
            if item.kind in (WorkKind.PORTFOLIO, WorkKind.PROGRAMME) or not item.funded:
                continue
            lines = self.run_costs(item) if item.nature is Nature.RUN else self.change_costs(item)
            for period, budget, forecast, actual in lines:
                fy = _fiscal_year(period)
                funding = self.funding[(fy, item.nature)]
                self.funding_total[(fy, item.nature)] += budget
                parts = [(Expenditure.OPEX, 1 - item.capex_share)]
                if item.capex_share > 0:
                    parts.append((Expenditure.CAPEX, item.capex_share))
                for expenditure, share in parts:
                    self.w.add(
                        CostLine,
                        code=f"CL-{item.code}-{period:%Y-%m}-{expenditure.value}",
                        work_item_id=item.id,
                        period=period,
                        funding_source_id=funding,
                        expenditure=expenditure,
                        budget=_money(budget * share),
                        forecast=_money(forecast * share),
                        actual=None if actual is None else _money(actual * share),
                        currency="GBP",
                    )
        for (fy, nature), total in sorted(self.funding_total.items()):
            self.w.conn.execute(
                update(self.w.tables["funding_source"])
                .where(self.w.tables["funding_source"].c.id == self.funding[(fy, nature)])
                .values(amount=_money(round(total * 1.03, -5)))
            )
        for fy, root in self.funding_root.items():
            total = sum(v for (y, _n), v in self.funding_total.items() if y == fy)
            self.w.conn.execute(
                update(self.w.tables["funding_source"])
                .where(self.w.tables["funding_source"].c.id == root)
                .values(amount=_money(round(total * 1.05, -5)))
            )

    def run_costs(self, item: _Item) -> Iterator[tuple[dt.date, float, float, float | None]]:
        rng = self.rng
        for period in self.window:
            years = _fiscal_year(period) - self.fys[0]
            budget = item.annual / 12 * (1 + item.growth) ** years
            budget *= 1 + 0.04 * ((period.month % 3) - 1)  # a little quarterly seasonality
            overrun = item.overrun * (
                self.ramp_at(item, period) if period >= self.window_start else 0
            )
            forecast = budget * (1 + overrun)
            actual = None
            if period < self.now_month:
                actual = forecast * rng.uniform(0.97, 1.03)
                forecast = actual
            yield period, budget, forecast, actual

    def change_costs(self, item: _Item) -> Iterator[tuple[dt.date, float, float, float | None]]:
        """Budget on the baseline months; actuals to date; the rest of the forecast at completion
        (budget × (1 + overrun)) spread over the remaining forecast months."""
        rng = self.rng
        assert item.start and item.finish and item.f_start and item.f_finish
        base_months = _months(item.start, item.finish)
        rate = item.wlc / max(len(base_months), 1)
        fc_months = _months(item.f_start, item.f_finish)
        stop = _month(item.a_finish) if item.a_finish else None
        eac = item.wlc * (1 + item.overrun)
        spent = 0.0
        actuals: dict[dt.date, float] = {}
        for m in fc_months:
            if m >= self.now_month or (stop and m > stop):
                break
            ramp = self.ramp_at(item, m) if item.health != "good" else 1.0
            value = rate * (1 + item.overrun * ramp) * rng.uniform(0.9, 1.1)
            actuals[m] = value
            spent += value
        remaining = [m for m in fc_months if m >= self.now_month and (stop is None or m <= stop)]
        if item.phase is Phase.CANCELLED:
            remaining = []
        rest = max(eac - spent, rate * 0.2 * len(remaining)) / max(len(remaining), 1)
        budget_set = set(base_months)
        for m in self.window:
            budget = rate if m in budget_set else 0.0
            if item.phase is Phase.CANCELLED and stop and m > stop:
                budget = 0.0  # a stopped project's remaining budget is released
            if m in actuals:
                yield m, budget, actuals[m], actuals[m]
            elif m in remaining:
                yield m, budget, rest, None
            elif budget:
                yield m, budget, 0.0, (0.0 if m < self.now_month else None)

    # -- resources --------------------------------------------------------------------------
    def resources(self) -> None:
        rng = self.rng
        demand: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0.0] * len(self.window))
        index = {m: i for i, m in enumerate(self.window)}
        for item in self.items:
            self.reporter.advance()
            if not item.skills:
                continue
            if item.nature is Nature.RUN:
                months = self.window
            else:
                assert item.f_start and item.f_finish
                end = min(item.f_finish, item.a_finish or item.f_finish)
                months = [m for m in _months(item.f_start, end) if m in index]
            committed = item.phase not in (Phase.IDENTIFICATION, Phase.DEFINITION)
            n = len(months)
            for skill, fte, team in item.skills:
                for k, m in enumerate(months):
                    # ramp up and down at the ends of a project; flat for run work
                    shape = (
                        1.0
                        if item.nature is Nature.RUN
                        else min(1.0, 0.4 + 0.3 * min(k, n - 1 - k))
                    )
                    value = round(fte * shape * rng.uniform(0.9, 1.1), 1)
                    if value <= 0:
                        continue
                    demand[(team, skill)][index[m]] += value
                    self.w.add(
                        Demand,
                        code=f"DM-{item.code}-{skill}-{m:%Y-%m}",
                        work_item_id=item.id,
                        skill_id=self.skills[skill],
                        org_unit_id=team,
                        period=m,
                        fte=_qty(value),
                        status="committed" if committed else "proposed",
                        actual_fte=_qty(value * rng.uniform(0.8, 1.05))
                        if m < self.now_month and committed
                        else None,
                    )
        for reg in self.all_regions:
            for team_id, _bu, _dept, skills, team_code in reg.teams:
                for skill in skills:
                    profile = demand.get((team_id, skill))
                    average = sum(profile) / len(profile) if profile else 0.0
                    # capacity is flat; peaks in demand above it show as over-allocation
                    headroom = 0.9 if skill in _HOT_SKILLS else rng.uniform(1.1, 1.35)
                    base = max(1.0, round(average * headroom * 2) / 2)
                    for m in self.window:
                        holiday = 0.9 if m.month in (8, 12) else 1.0
                        self.w.add(
                            Capacity,
                            code=f"CP-{team_code}-{skill}-{m:%Y-%m}",
                            org_unit_id=team_id,
                            skill_id=self.skills[skill],
                            period=m,
                            fte=_qty(base * holiday),
                        )

    # -- key result actuals -----------------------------------------------------------------
    def key_result_actuals(self) -> None:
        """Monthly reported values for key results that no metrics series feeds."""
        rng = self.rng
        for reg in self.all_regions:
            for key, results in names.KEY_RESULTS.items():
                progress = 0.0 if not reg.contributions.get(key) else rng.uniform(0.5, 1.1)
                for n, (_name, _unit, base, target, _dir, _traj, measure) in enumerate(
                    results, start=1
                ):
                    if measure or base == target:
                        continue
                    kr_code = f"KR-{key}-{n}{reg.sfx}"
                    kr_id = self.kr_ids[kr_code]
                    horizon = max(len(_months(self.strategy_start, self.target_date(key))), 1)
                    for k, m in enumerate(_months(self.strategy_start, self.now_month)):
                        frac = min(1.0, (k + 1) / horizon) * progress
                        value = base + (target - base) * frac
                        value += (target - base) * rng.uniform(-0.03, 0.03)
                        self.w.add(
                            KeyResultActual,
                            code=f"KRA-{kr_code}-{m:%Y-%m}",
                            key_result_id=kr_id,
                            period=m,
                            value=_qty(value, 4),
                        )


def generate(
    ws: Workspace,
    *,
    scale: str = "small",
    seed: int = 42,
    reporter: Reporter = SILENT,
    as_of: dt.date | None = None,
    force: bool = False,
) -> DemoReport:
    """Fill ``ws`` with the demo enterprise and return what was written.

    Args:
        scale: ``small`` (a mid-size organisation) or ``large`` (×25, for benchmarks).
        seed: the same seed (with the same scale and ``as_of``) gives the same data.
        reporter: receives start/advance/finish per stage.
        as_of: the "today" of the data (actuals before it, forecasts after); default 2026-11-15
            so the result never depends on the clock.
        force: replace existing data (every P3M table is cleared first, in the same transaction).

    Raises:
        ConfigError: unknown scale.
        ConflictError: the workspace holds data and ``force`` is False, or the demo's codes
            collide with rows that survived (nothing is written in either case).
    """
    if scale not in SCALES:
        raise ConfigError(f"unknown demo scale {scale!r}", hint=f"use one of {', '.join(SCALES)}")
    day = as_of or DEFAULT_AS_OF
    if not force and not ws.is_empty():
        raise ConflictError(
            f"{ws.describe()} already holds data; the demo will not overwrite it",
            hint="pass --force to replace it, or choose another --db",
        )
    load_models()
    started = time.perf_counter()
    try:
        with ws.session() as session:
            conn = session.connection()
            if force:
                reporter.start("clearing existing data")
                _clear(conn)
                reporter.finish()
            batch = ImportBatch(
                source="demo",
                kind="demo enterprise",
                user=WRITTEN_BY,
                status="running",
                counts={},
                message=f"scale={scale} seed={seed} as_of={day.isoformat()}",
            )
            session.add(batch)
            session.flush()
            writer = _Writer(conn, batch.id)
            _Builder(writer, random.Random(seed), scale, day, reporter).build()
            writer.fix_sequences()
            _settings(session)
            rows = dict(sorted(writer.counts.items()))
            batch.status = "committed"
            batch.finished_at = utcnow()
            batch.counts = {"inserted": sum(rows.values()), "tables": rows}
            batch_id = batch.id
    except IntegrityError as exc:
        raise ConflictError(
            "the demo's codes collide with data already in the workspace",
            hint="pass --force to replace everything, or use an empty --db",
        ) from exc
    return DemoReport(
        organisation=names.ORGANISATION_NAME,
        scale=scale,
        seed=seed,
        as_of=day,
        batch_id=batch_id,
        rows=rows,
        seconds=round(time.perf_counter() - started, 3),
    )


def _settings(session: Session) -> None:
    for key, value in (
        ("organisation_name", names.ORGANISATION_NAME),
        ("fiscal_year_start_month", str(_FY_START_MONTH)),
        ("currency", "GBP"),
    ):
        session.merge(Setting(key=key, value=value))


__all__ = [
    "DELIBERATE_GAPS",
    "OPERATIONAL_MEASURES",
    "SCALES",
    "DemoReport",
    "OperationalMeasure",
    "generate",
]
