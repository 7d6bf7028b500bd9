"""What every part of the demo generator shares: its constants, calendar helpers and the plans of
work items and regions that the builder fills in before anything is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from bigov.work.models import Category, Nature, Phase, WorkKind

WRITTEN_BY = "bigov demo"
DEFAULT_AS_OF = dt.date(2026, 11, 15)
# multiplier of business units, portfolios, programmes and everything under them
SCALES: dict[str, int] = {"small": 1, "large": 25}
_FY_START_MONTH = 4  # the demo organisation's fiscal year starts in April (UK convention)


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
