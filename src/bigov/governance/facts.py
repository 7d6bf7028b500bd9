"""The figures of one period for the whole enterprise, loaded in a fixed number of grouped queries.

:class:`Facts` is what a cycle snapshot is cut from. Running every node's cycle for a period loads
it once and cuts one document per node, so the cost of ``cycle run --all`` grows with the data, not
with data × nodes. Nothing here renders or decides; it only reads.

Money and quantities are Decimal here; the snapshot document stores them as strings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, func, null, select
from sqlalchemy.orm import Session

from bigov.benefits.models import Benefit, BenefitEnabler, BenefitProfile
from bigov.db.registry import load_models
from bigov.finance.models import CostLine
from bigov.governance.models import AgendaItem, InformationDefinition
from bigov.governance.periods import CyclePeriod, add_months
from bigov.governance.sources import SourceSpec
from bigov.governance.topology import Topology
from bigov.org.models import ManagementTeam, Person
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.resources.models import Capacity, Demand, Skill
from bigov.strategy.models import Otc
from bigov.work.models import Confidence, Contribution, StatusReport

ZERO = Decimal("0")
TREND_MONTHS = 12


@dataclass
class CostFacts:
    """An item's cost by month (for the pack's S-curve) and its source rows. Totals and variances
    are not kept here: they come from :func:`bigov.analysis.rollups.rollup`."""

    months: dict[dt.date, list[Decimal]] = field(default_factory=dict)  # [budget, forecast, actual]
    rows: list[tuple[str, int | None]] = field(default_factory=list)  # (code, batch)


@dataclass
class StatusFacts:
    period: dt.date
    confidence: str | None
    overall: str | None
    narrative: str | None
    code: str
    batch_id: int | None
    reported_on: dt.date | None


@dataclass
class BenefitFacts:
    id: int
    code: str
    name: str
    status: str
    category: str
    owner: str | None
    unit_id: int | None
    kind: str = "benefit"
    enablers: list[int] = field(default_factory=list)
    # source rows of the profile; its figures come from bigov.analysis.benefits
    rows: list[tuple[str, int | None]] = field(default_factory=list)
    # the first month the profile plans any value: before it, no actuals are owed
    first_planned: dt.date | None = None


@dataclass
class SourceStats:
    """Per work item (key None = rows not linked to an item): rows in the period window, and the
    latest freshness date of those rows."""

    by_item: dict[int | None, tuple[int, dt.date | None]] = field(default_factory=dict)
    total_in_period: int = 0
    latest: dt.date | None = None
    # per key: the newest write (updated_at) and newest import batch of those rows, so a data
    # call can tell a resubmission from the version an assurer judged
    written: dict[int | None, tuple[dt.datetime | None, int | None]] = field(default_factory=dict)


class Facts:
    """Every figure a cycle pack of ``period`` can need, for all work items at once."""

    def __init__(self, session: Session, topo: Topology, period: CyclePeriod) -> None:
        self.session = session
        self.topo = topo
        self.period = period
        month, start = period.month, period.start
        self.trend_start = add_months(month, -(TREND_MONTHS - 1))
        people = dict(session.execute(select(Person.id, Person.name)).all())
        self.people = people

        self.cost: dict[int, CostFacts] = defaultdict(CostFacts)
        for r in session.execute(
            select(
                CostLine.work_item_id,
                CostLine.period,
                CostLine.budget,
                CostLine.forecast,
                CostLine.actual,
                CostLine.code,
                CostLine.batch_id,
            )
        ):
            c = self.cost[r.work_item_id]
            budget, forecast = Decimal(r.budget or 0), Decimal(r.forecast or 0)
            actual = Decimal(r.actual) if r.actual is not None and r.period <= month else ZERO
            m = c.months.setdefault(r.period, [ZERO, ZERO, ZERO])
            m[0] += budget
            m[1] += forecast
            m[2] += actual
            c.rows.append((r.code, r.batch_id))

        self.status: dict[int, list[StatusFacts]] = defaultdict(list)
        for sr in session.execute(
            select(
                StatusReport.work_item_id,
                StatusReport.period,
                StatusReport.confidence,
                StatusReport.overall,
                StatusReport.narrative,
                StatusReport.code,
                StatusReport.batch_id,
                StatusReport.reported_on,
            )
            .where(StatusReport.period <= month)
            .where(StatusReport.period >= add_months(self.trend_start, -1))
            .order_by(StatusReport.period)
        ):
            self.status[sr.work_item_id].append(
                StatusFacts(
                    sr.period,
                    sr.confidence.value if sr.confidence else None,
                    sr.overall.value if sr.overall else None,
                    sr.narrative,
                    sr.code,
                    sr.batch_id,
                    sr.reported_on,
                )
            )

        team_unit = dict(
            session.execute(select(ManagementTeam.id, ManagementTeam.org_unit_id)).all()
        )
        self.benefits: dict[int, BenefitFacts] = {}
        for b in session.execute(
            select(
                Benefit.id,
                Benefit.code,
                Benefit.name,
                Benefit.status,
                Benefit.category,
                Benefit.owner_id,
                Benefit.owner_unit_id,
                Benefit.realising_team_id,
                Benefit.kind,
            )
        ):
            unit = b.owner_unit_id or (
                team_unit.get(b.realising_team_id) if b.realising_team_id else None
            )
            self.benefits[b.id] = BenefitFacts(
                b.id,
                b.code,
                b.name,
                b.status.value,
                b.category.value,
                people.get(b.owner_id) if b.owner_id else None,
                unit,
                b.kind.value,
            )
        for bid, wid in session.execute(
            select(BenefitEnabler.benefit_id, BenefitEnabler.work_item_id)
        ):
            self.benefits[bid].enablers.append(wid)
        for bp in session.execute(
            select(
                BenefitProfile.benefit_id,
                BenefitProfile.code,
                BenefitProfile.batch_id,
                BenefitProfile.period,
                BenefitProfile.planned,
            )
        ):
            bf = self.benefits[bp.benefit_id]
            bf.rows.append((bp.code, bp.batch_id))
            if bp.planned and (bf.first_planned is None or bp.period < bf.first_planned):
                bf.first_planned = bp.period

        self.benefits_by_item: dict[int, list[int]] = defaultdict(list)
        self.benefits_by_unit: dict[int, list[int]] = defaultdict(list)
        for bf in self.benefits.values():
            for wid in bf.enablers:
                self.benefits_by_item[wid].append(bf.id)
            if bf.unit_id is not None:
                self.benefits_by_unit[bf.unit_id].append(bf.id)

        self.skills = dict(session.execute(select(Skill.id, Skill.name)).all())
        # demand and capacity of the cycle window, as (item, skill, unit) → FTE summed over months
        self.demand: list[tuple[int, int, int | None, Decimal]] = [
            (r.work_item_id, r.skill_id, r.org_unit_id, Decimal(r.fte))
            for r in session.execute(
                select(
                    Demand.work_item_id,
                    Demand.skill_id,
                    Demand.org_unit_id,
                    func.sum(Demand.fte).label("fte"),
                )
                .where(Demand.period >= start, Demand.period <= month)
                .group_by(Demand.work_item_id, Demand.skill_id, Demand.org_unit_id)
            )
        ]
        self.capacity: list[tuple[int, int, Decimal]] = [
            (r.org_unit_id, r.skill_id, Decimal(r.fte))
            for r in session.execute(
                select(Capacity.org_unit_id, Capacity.skill_id, func.sum(Capacity.fte).label("fte"))
                .where(Capacity.period >= start, Capacity.period <= month)
                .group_by(Capacity.org_unit_id, Capacity.skill_id)
            )
        ]

        self.demand_by_item: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        self.demand_by_unit: dict[int | None, list[tuple[int, Decimal]]] = defaultdict(list)
        for item_id, skill, unit, fte in self.demand:
            self.demand_by_item[item_id].append((skill, fte))
            self.demand_by_unit[unit].append((skill, fte))
        self.capacity_by_unit: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
        self.capacity_total: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for unit, skill, fte in self.capacity:
            self.capacity_by_unit[unit].append((skill, fte))
            self.capacity_total[skill] += fte

        self.raid: list[dict[str, Any]] = []
        for ri in session.execute(
            select(
                RaidItem.code,
                RaidItem.kind,
                RaidItem.title,
                RaidItem.status,
                RaidItem.owner_id,
                RaidItem.work_item_id,
                RaidItem.node_id,
                RaidItem.probability,
                RaidItem.impact,
                RaidItem.due_on,
                RaidItem.raised_on,
                RaidItem.batch_id,
            )
            .where(RaidItem.status != RaidStatus.CLOSED)
            .where(RaidItem.kind.in_([RaidKind.RISK, RaidKind.ISSUE, RaidKind.ACTION]))
            .order_by(RaidItem.code)
        ):
            if ri.raised_on is not None and ri.raised_on > period.as_at:
                continue  # raised after the as-at date: not yet known to this cycle
            score = ri.probability * ri.impact if ri.probability and ri.impact else None
            self.raid.append(
                {
                    "code": ri.code,
                    "kind": ri.kind.value,
                    "title": ri.title,
                    "status": ri.status.value,
                    "owner": people.get(ri.owner_id) if ri.owner_id else None,
                    "work_item_id": ri.work_item_id,
                    "node_id": ri.node_id,
                    "score": score,
                    "due_on": ri.due_on.isoformat() if ri.due_on else None,
                    "batch_id": ri.batch_id,
                }
            )

        self.raid_by_item: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.raid_by_node: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for entry in self.raid:
            if entry["work_item_id"] is not None:
                self.raid_by_item[entry["work_item_id"]].append(entry)
            if entry["node_id"] is not None:
                self.raid_by_node[entry["node_id"]].append(entry)

        self.otcs: dict[int, dict[str, Any]] = {
            r.id: {
                "code": r.code,
                "kind": r.kind.value,
                "title": r.title,
                "status": r.status.value,
                "version": r.version,
                "effective_from": r.effective_from.isoformat() if r.effective_from else None,
                "portfolio_id": r.portfolio_id,
            }
            for r in session.execute(
                select(
                    Otc.id,
                    Otc.code,
                    Otc.kind,
                    Otc.title,
                    Otc.status,
                    Otc.version,
                    Otc.effective_from,
                    Otc.portfolio_id,
                )
            )
        }
        self.contributions: dict[int, set[int]] = defaultdict(set)  # item → otcs
        for wid, oid in session.execute(select(Contribution.work_item_id, Contribution.otc_id)):
            self.contributions[wid].add(oid)

        self.agenda: dict[int, list[dict[str, Any]]] = defaultdict(list)
        defs: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for d in session.scalars(
            select(InformationDefinition).order_by(InformationDefinition.code)
        ):
            defs[d.agenda_item_id].append(
                {
                    "code": d.code,
                    "title": d.title,
                    "source": d.source,
                    "grain": d.grain,
                    "form": d.form.value,
                    "required": d.required,
                    "freshness_days": d.freshness_days,
                    "owner": people.get(d.owner_id) if d.owner_id else None,
                }
            )
        for a in session.scalars(
            select(AgendaItem).order_by(AgendaItem.node_id, AgendaItem.sequence)
        ):
            self.agenda[a.node_id].append(
                {
                    "code": a.code,
                    "sequence": a.sequence,
                    "section": a.section.value,
                    "title": a.title,
                    "information": defs.get(a.id, []),
                }
            )
        self._source_stats: dict[str, SourceStats] = {}

    def benefits_of(self, node_id: int) -> list[BenefitFacts]:
        """The benefits in a node's scope: every benefit for a node that governs everything,
        else those enabled by the work it governs or owned by its organisation units."""
        topo = self.topo
        if topo.governs_everything(node_id):
            return list(self.benefits.values())
        ids = {bid for iid in topo.scope(node_id) for bid in self.benefits_by_item.get(iid, ())}
        ids |= {bid for u in topo.units_of(node_id) for bid in self.benefits_by_unit.get(u, ())}
        return [self.benefits[bid] for bid in sorted(ids)]

    def latest_status(self, item_id: int) -> tuple[StatusFacts | None, StatusFacts | None]:
        """(latest status report up to the period, the one before it)."""
        reports = self.status.get(item_id, [])
        if not reports:
            return None, None
        return reports[-1], (reports[-2] if len(reports) > 1 else None)

    def source_stats(self, spec: SourceSpec) -> SourceStats:
        """Rows in the cycle window and freshest date, per work item, of one source (cached)."""
        cache_key = f"{spec.key}|{spec.table}"
        cached = self._source_stats.get(cache_key)
        if cached is None:
            cached = self._source_stats[cache_key] = source_stats(self.session, spec, self.period)
        return cached


def source_stats(session: Session, spec: SourceSpec, period: CyclePeriod) -> SourceStats:
    """Rows of one source in ``period``'s window and their freshest date, per work item: what
    readiness reads, and what a data call's requests read too (so the two never disagree)."""
    table: Table = load_models().tables[spec.table]
    stats = SourceStats()
    fresh_col = table.c[spec.fresh] if spec.fresh in table.c else table.c.get("updated_at")
    item_col = table.c[spec.item] if spec.item else None
    group_cols = [item_col] if item_col is not None else []
    cols: list[Any] = [*group_cols, func.count().label("n")]
    cols.append(func.max(fresh_col).label("latest") if fresh_col is not None else func.count())
    extra: list[Any] = [
        func.max(table.c[c]) if c in table.c else null() for c in ("updated_at", "batch_id")
    ]
    q = select(*cols, *extra).select_from(table)
    # a benefit's rows count for the work items that enable it: through the row's benefit_id,
    # or, for the benefit table itself, its own id
    via: Any = None
    if spec.via_benefit:
        if "benefit_id" in table.c:
            via = table.c.benefit_id
        elif spec.table == "benefit":
            via = table.c.id
    if via is not None:
        q = (
            select(
                BenefitEnabler.work_item_id,
                func.count().label("n"),
                func.max(fresh_col).label("latest") if fresh_col is not None else func.count(),
                *extra,
            )
            .select_from(table)
            .join(BenefitEnabler, BenefitEnabler.benefit_id == via)
            .group_by(BenefitEnabler.work_item_id)
        )
        item_col = BenefitEnabler.__table__.c.work_item_id  # type: ignore[assignment]
    elif item_col is not None:
        q = q.group_by(item_col)
    if spec.period and spec.period in table.c:
        q = q.where(table.c[spec.period] >= period.start, table.c[spec.period] <= period.month)
    if spec.raid_kind:
        q = q.where(table.c.kind == spec.raid_kind)
    for row in session.execute(q):
        if item_col is not None:
            key, n, latest, updated, batch = row[0], int(row[1]), row[2], row[3], row[4]
        else:
            key, n, latest, updated, batch = None, int(row[0]), row[1], row[2], row[3]
        latest_date = _as_date(latest)
        stats.by_item[key] = (n, latest_date)
        stats.written[key] = (_as_datetime(updated), batch)
        stats.total_in_period += n
        if latest_date and (stats.latest is None or latest_date > stats.latest):
            stats.latest = latest_date
    return stats


def _as_datetime(value: Any) -> dt.datetime | None:
    # SQLite hands timestamps back naive (stored as UTC) or, through an aggregate, as text
    if isinstance(value, str) and value:
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def confidence_score(value: str | None) -> int | None:
    """5 (green) .. 1 (red) for a stored DCA value, None when unknown."""
    if value is None:
        return None
    return Confidence(value).score


__all__ = ["Facts", "SourceStats", "confidence_score", "source_stats"]
