"""Alignment gaps between strategy and work: what the board asked for that nobody is doing, what
is being done (and paid for) that serves nothing the board asked for, and loose ends in benefits
and business plans.

A fixed number of queries; hierarchy walks go through the cycle-safe closure.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bigov.analysis._common import ZERO, cost_sums, org_closure, reporting_currency, work_closure
from bigov.analysis.rollups import CostFigures
from bigov.benefits.models import Benefit
from bigov.finance.models import CostLine
from bigov.org.models import BusinessPlan, BusinessPlanTarget, ManagementTeam
from bigov.strategy.models import Otc, OtcKind, OtcStatus
from bigov.work.models import Contribution, Nature, Phase, WorkItem

LIVE_OTC = (OtcStatus.DRAFT, OtcStatus.ACTIVE)
DEAD_PHASES = (Phase.CLOSED, Phase.CANCELLED)
WEIGHT_TOLERANCE = Decimal("0.0001")


class OtcGap(BaseModel):
    """An OTC (objective, target or challenge) lacking what it needs."""

    code: str
    title: str
    kind: str
    detail: str = ""


class UnalignedWork(BaseModel):
    """A live work item serving no live OTC, with its own cost (so totals never double count)."""

    code: str
    name: str
    kind: str
    nature: str
    category: str
    reason: str
    cost: CostFigures


class UngovernedWork(BaseModel):
    """A live work item no node governs directly (as `bigov governance propose` sees it): none
    names it as its governing node, and no node's scope names it, an ancestor of it, or its org
    unit. A board with no scope (a main board) sees all work but is no one's own board, so it
    does not count."""

    code: str
    name: str
    kind: str
    phase: str


class BenefitGap(BaseModel):
    """A benefit missing an owner, a measure or a realising team (``missing`` lists which)."""

    code: str
    name: str
    missing: list[str]


class WeightGap(BaseModel):
    """Contribution weights that do not add up: per OTC (should sum to 100 %) or per work item
    (should not exceed 100 %). ``total`` is a fraction (1 = 100 %)."""

    scope: str  # "otc" or "work_item"
    code: str
    total: Decimal
    parts: dict[str, Decimal] = Field(default_factory=dict)


class AlignmentReport(BaseModel):
    """Every gap found; each list is ordered by code. ``unaligned_cost`` totals the own cost of
    the unaligned work (reporting currency)."""

    objectives_without_work: list[OtcGap]
    objectives_without_funded_work: list[OtcGap]
    unaligned_work: list[UnalignedWork]
    unaligned_cost: CostFigures
    benefits_without_owner: list[BenefitGap]
    benefits_without_measure: list[BenefitGap]
    benefits_without_realising_team: list[BenefitGap]
    targets_without_business_plan: list[OtcGap]
    challenges_without_innovation: list[OtcGap]
    otc_weights_not_100: list[WeightGap]
    work_weights_over_100: list[WeightGap]
    ungoverned_work: list[UngovernedWork]

    @property
    def count(self) -> int:
        """Number of gaps of every kind together."""
        return sum(len(v) for _k, v in self if isinstance(v, list))


def gaps(session: Session, *, as_at: dt.date | None = None) -> AlignmentReport:
    """All alignment gaps in the workspace.

    Rules a caller may rely on:

    * Only *live* OTCs count (draft or active); only *live* work (not closed or cancelled).
    * Work serves an OTC when it, an ancestor or a descendant contributes to it (a portfolio is
      aligned through its programmes; a project through its programme). Run work is also
      aligned when its organisation unit (or a unit above it) has a management team whose
      business plan takes a live Target.
    * An objective is *funded* when the work serving it (contributors and their subtrees) has a
      positive budget in total.
    * Challenges need at least one live contributing work item ("innovation activity").
    * Live work is *governed* when it names a governing node or a node's scope names it (being
      under a governed parent is not enough: each accountable item needs its own board).
    * Per-OTC weights must sum to 1 (± 0.0001) over all contributors, closed ones included
      (weights are set over the whole life of the OTC); per work item not above 1.
    * Money is as at ``as_at`` (default today): actual to date, forecast outturn, whole-life
      budget (see :func:`~bigov.analysis._common.cost_sums`).
    """
    as_at = as_at or dt.date.today()
    closure = work_closure()
    currency = reporting_currency(session)
    otcs = session.execute(
        select(Otc.id, Otc.code, Otc.title, Otc.kind).where(Otc.status.in_(LIVE_OTC))
    ).all()
    items = {
        wid: (code, name, kind, nature, category, unit)
        for wid, code, name, kind, nature, category, unit in session.execute(
            select(
                WorkItem.id,
                WorkItem.code,
                WorkItem.name,
                WorkItem.kind,
                WorkItem.nature,
                WorkItem.category,
                WorkItem.org_unit_id,
            ).where(WorkItem.phase.not_in(DEAD_PHASES))
        ).all()
    }
    # every contribution, whatever the phase of the work: weights are set over all contributors
    all_contributions = session.execute(
        select(
            Contribution.work_item_id,
            Contribution.otc_id,
            Contribution.weight,
            Otc.status,
            WorkItem.code,
        )
        .join(Otc, Otc.id == Contribution.otc_id)
        .join(WorkItem, WorkItem.id == Contribution.work_item_id)
    ).all()
    contributions = [row[:4] for row in all_contributions if row[0] in items]
    # run work serves Targets through its management team's business plan: a unit whose team
    # has a plan taking a live Target aligns the run work of that unit and every unit below it
    org = org_closure()
    planned_units = set(
        session.scalars(
            select(org.c.descendant_id)
            .join(ManagementTeam, ManagementTeam.org_unit_id == org.c.ancestor_id)
            .join(BusinessPlan, BusinessPlan.management_team_id == ManagementTeam.id)
            .join(BusinessPlanTarget, BusinessPlanTarget.business_plan_id == BusinessPlan.id)
            .join(Otc, Otc.id == BusinessPlanTarget.otc_id)
            .where(Otc.status.in_(LIVE_OTC))
            .distinct()
        ).all()
    )
    live_otc_ids = {row[0] for row in otcs}
    otc_code = {row[0]: row[1] for row in otcs}

    # Budget of the work serving each live OTC: contributors and their subtrees, each item once.
    served = (
        select(Contribution.otc_id, closure.c.descendant_id)
        .join(closure, closure.c.ancestor_id == Contribution.work_item_id)
        .distinct()
        .subquery("served")
    )
    funded = {
        otc_id: Decimal(str(total or 0))
        for otc_id, total in session.execute(
            select(served.c.otc_id, func.sum(CostLine.budget))
            .join(CostLine, CostLine.work_item_id == served.c.descendant_id)
            .where(CostLine.currency == currency)
            .group_by(served.c.otc_id)
        ).all()
    }

    # Items aligned to a live OTC through themselves, an ancestor or a descendant.
    live_contributors = select(Contribution.work_item_id).where(
        Contribution.otc_id.in_(select(Otc.id).where(Otc.status.in_(LIVE_OTC)))
    )
    aligned = set(
        session.scalars(
            select(closure.c.descendant_id).where(closure.c.ancestor_id.in_(live_contributors))
        ).all()
    ) | set(
        session.scalars(
            select(closure.c.ancestor_id).where(closure.c.descendant_id.in_(live_contributors))
        ).all()
    )
    own_cost = {
        wid: (b, f, a)
        for wid, b, f, a in session.execute(
            select(
                CostLine.work_item_id,
                *cost_sums(as_at),
            )
            .where(CostLine.currency == currency)
            .group_by(CostLine.work_item_id)
        ).all()
    }
    withdrawn_only = {wid for wid, _o, _w, status in contributions if status not in LIVE_OTC}
    unaligned = [
        UnalignedWork(
            code=code,
            name=name,
            kind=kind.value,
            nature=nature.value,
            category=category.value,
            reason=(
                "serves only withdrawn or achieved OTCs"
                if wid in withdrawn_only
                else "no contribution to any OTC"
            ),
            cost=CostFigures.of(*own_cost.get(wid, (None, None, None))),
        )
        for wid, (code, name, kind, nature, category, unit) in items.items()
        if wid not in aligned and not (nature == Nature.RUN and unit in planned_units)
    ]
    unaligned.sort(key=lambda u: u.code)
    unaligned_cost = CostFigures.of(
        sum((u.cost.budget for u in unaligned), ZERO),
        sum((u.cost.forecast for u in unaligned), ZERO),
        sum((u.cost.actual for u in unaligned), ZERO),
    )

    contributors_of: dict[int, list[int]] = {}
    for wid, otc_id, _w, _s in contributions:
        contributors_of.setdefault(otc_id, []).append(wid)
    objectives = [o for o in otcs if o[3] == OtcKind.OBJECTIVE]
    no_work = [_gap(o) for o in objectives if not contributors_of.get(o[0])]
    no_funded = [
        _gap(o, f"budget of serving work {funded.get(o[0], ZERO):,.2f} {currency}")
        for o in objectives
        if contributors_of.get(o[0]) and funded.get(o[0], ZERO) <= 0
    ]
    planned_targets = set(session.scalars(select(BusinessPlanTarget.otc_id).distinct()).all())
    no_plan = [_gap(o) for o in otcs if o[3] == OtcKind.TARGET and o[0] not in planned_targets]
    no_innovation = [
        _gap(o) for o in otcs if o[3] == OtcKind.CHALLENGE and not contributors_of.get(o[0])
    ]

    benefits = session.execute(
        select(
            Benefit.code,
            Benefit.name,
            Benefit.owner_id,
            Benefit.measure,
            Benefit.measure_code,
            Benefit.realising_team_id,
        ).where(
            or_(
                Benefit.owner_id.is_(None),
                Benefit.realising_team_id.is_(None),
                (func.coalesce(Benefit.measure, "") == "")
                & (func.coalesce(Benefit.measure_code, "") == ""),
            )
        )
    ).all()
    no_owner, no_measure, no_team = [], [], []
    for code, name, owner, measure, measure_code, team in sorted(benefits):
        missing = []
        if owner is None:
            missing.append("owner")
        if not measure and not measure_code:
            missing.append("measure")
        if team is None:
            missing.append("realising team")
        gap = BenefitGap(code=code, name=name, missing=missing)
        if owner is None:
            no_owner.append(gap)
        if "measure" in missing:
            no_measure.append(gap)
        if team is None:
            no_team.append(gap)

    per_otc: dict[int, dict[str, Decimal]] = {}
    per_item: dict[int, dict[str, Decimal]] = {}
    for wid, otc_id, weight, status, wcode in all_contributions:
        w = Decimal(str(weight))
        if status in LIVE_OTC and otc_id in live_otc_ids:
            per_otc.setdefault(otc_id, {})[wcode] = w
            per_item.setdefault(wid, {})[otc_code[otc_id]] = w
    item_code = {row[0]: row[4] for row in all_contributions}
    otc_weights = [
        WeightGap(scope="otc", code=otc_code[oid], total=sum(parts.values(), ZERO), parts=parts)
        for oid, parts in per_otc.items()
        if abs(sum(parts.values(), ZERO) - 1) > WEIGHT_TOLERANCE
    ]
    item_weights = [
        WeightGap(scope="work_item", code=item_code[wid], total=sum(p.values(), ZERO), parts=p)
        for wid, p in per_item.items()
        if sum(p.values(), ZERO) > 1 + WEIGHT_TOLERANCE
    ]

    # governed as `governance propose` sees it (Topology.origin, the lowest node governing an
    # item): a node's own item, a scoped ancestor, or the item's org unit in a node's scope; a
    # direct-scope test alone called work under a programme board or a management team
    # ungoverned. A node with no scope sees everything but is no item's origin.
    from bigov.governance.topology import Topology

    topo = Topology(session)
    dead = {p.value for p in DEAD_PHASES}
    ungoverned = [
        UngovernedWork(code=i.code, name=i.name, kind=i.kind, phase=i.phase)
        for i in sorted(topo.items.values(), key=lambda i: i.code)
        if i.phase not in dead and topo.origin(i.id) is None
    ]

    def by_code(rows: list[OtcGap]) -> list[OtcGap]:
        return sorted(rows, key=lambda g: g.code)

    return AlignmentReport(
        objectives_without_work=by_code(no_work),
        objectives_without_funded_work=by_code(no_funded),
        unaligned_work=unaligned,
        unaligned_cost=unaligned_cost,
        benefits_without_owner=no_owner,
        benefits_without_measure=no_measure,
        benefits_without_realising_team=no_team,
        targets_without_business_plan=by_code(no_plan),
        challenges_without_innovation=by_code(no_innovation),
        otc_weights_not_100=sorted(otc_weights, key=lambda g: g.code),
        work_weights_over_100=sorted(item_weights, key=lambda g: g.code),
        ungoverned_work=ungoverned,
    )


def _gap(row: tuple[int, str, str, OtcKind] | object, detail: str = "") -> OtcGap:
    _id, code, title, kind = row  # type: ignore[misc]
    return OtcGap(code=code, title=title, kind=kind.value, detail=detail)


__all__ = [
    "AlignmentReport",
    "BenefitGap",
    "OtcGap",
    "UnalignedWork",
    "UngovernedWork",
    "WeightGap",
    "gaps",
]
