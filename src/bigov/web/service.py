"""The read models the pages show, each a fixed number of statements whatever the size of the
data, always under the user's scope (the same SQL predicates the API composes, so a page can
never show a row the API would refuse). Cycles are read from their frozen documents; no figure
is computed here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from bigov.api.cycles import _visible as cycle_visible
from bigov.api.work import WorkItemOut, _read_one
from bigov.auth.scope import Scope, my_people
from bigov.benefits.models import Benefit, BenefitProfile
from bigov.governance.cycle_models import Cycle, CycleException, CycleStatus
from bigov.governance.models import GovernanceNode
from bigov.governance.periods import add_months, is_due, parse_period, period_label
from bigov.org.models import Person
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.work.models import Milestone, StatusReport, WorkItem

CONFIDENCE_SCORE = {"green": 5, "amber/green": 4, "amber": 3, "amber/red": 2, "red": 1}


class CycleRef(BaseModel):
    code: str
    node: str
    node_name: str
    period: str
    version: int
    status: str
    as_at: dt.date
    owned: int | None = None
    exceptions: int | None = None


class Board(BaseModel):
    code: str
    name: str
    cadence: str
    parent: str | None
    latest: CycleRef | None
    next_period: str


class ItemRow(BaseModel):
    code: str
    name: str
    kind: str
    phase: str
    owner: str | None
    confidence: str | None
    period: str | None


class TrendPoint(BaseModel):
    period: str
    confidence: str | None
    score: int | None
    overall: str | None


class RaidRow(BaseModel):
    code: str
    kind: str
    title: str
    status: str
    owner: str | None
    item: str | None
    due_on: dt.date | None
    score: int | None


class ExceptionRow(BaseModel):
    code: str
    period: str
    title: str
    message: str
    rule: str
    origin: str
    owner: str
    status: str
    subject: str
    subject_kind: str
    at_stake: Decimal | None


class MilestoneRow(BaseModel):
    code: str
    name: str
    baseline_date: dt.date | None
    forecast_date: dt.date | None
    actual_date: dt.date | None
    is_key: bool


class ItemDetail(BaseModel):
    item: WorkItemOut
    trend: list[TrendPoint]
    milestones: list[MilestoneRow]
    raid: list[RaidRow]
    exceptions: list[ExceptionRow]


class BenefitRow(BaseModel):
    code: str
    name: str
    status: str
    owner: str | None
    unit: str | None
    planned: Decimal
    forecast: Decimal
    actual: Decimal


# -- cycles and boards --


def _cycle_ref(c: Cycle, code: str, name: str) -> CycleRef:
    summary = c.summary or {}
    return CycleRef(
        code=c.code,
        node=code,
        node_name=name,
        period=period_label(c.period),
        version=c.version,
        status=c.status.value,
        as_at=c.as_at,
        owned=summary.get("owned_here"),
        exceptions=summary.get("exceptions"),
    )


def cycles(s: Session, scope: Scope, *, node: str | None = None) -> list[CycleRef]:
    """Cycles the user may read, newest first (one statement)."""
    q = (
        select(Cycle, GovernanceNode.code, GovernanceNode.name)
        .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
        .where(cycle_visible(scope))
        .order_by(Cycle.period.desc(), GovernanceNode.code, Cycle.version.desc())
    )
    if node is not None:
        q = q.where(GovernanceNode.code == node)
    return [_cycle_ref(c, code, name) for c, code, name in s.execute(q)]


def find_cycle(
    s: Session, scope: Scope, node: str, period: str, version: int | None = None
) -> CycleRef | None:
    """One cycle (the latest version unless ``version``), or None when absent or out of scope."""
    try:
        month = parse_period(period)
    except Exception:
        return None
    q = (
        select(Cycle, GovernanceNode.code, GovernanceNode.name)
        .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
        .where(cycle_visible(scope), GovernanceNode.code == node, Cycle.period == month)
        .order_by(Cycle.version.desc())
        .limit(1)
    )
    if version is not None:
        q = q.where(Cycle.version == version)
    row = s.execute(q).first()
    return _cycle_ref(row[0], row[1], row[2]) if row else None


def previous_cycle(s: Session, scope: Scope, ref: CycleRef) -> CycleRef | None:
    """The node's latest cycle before ``ref``'s period (what a diff compares against)."""
    month = parse_period(ref.period)
    row = s.execute(
        select(Cycle, GovernanceNode.code, GovernanceNode.name)
        .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
        .where(cycle_visible(scope), GovernanceNode.code == ref.node, Cycle.period < month)
        .order_by(Cycle.period.desc(), Cycle.version.desc())
        .limit(1)
    ).first()
    return _cycle_ref(row[0], row[1], row[2]) if row else None


def boards(s: Session, scope: Scope, fiscal_start: int) -> list[Board]:
    """The boards a user sits on (every board for PMO), each with its latest cycle and the
    period of its next sitting (two statements)."""
    q = select(GovernanceNode).order_by(GovernanceNode.code)
    if scope.node_ids is not None:
        q = q.where(GovernanceNode.id.in_(sorted(scope.principal.node_ids)))
    nodes = list(s.scalars(q))
    parents = dict(s.execute(select(GovernanceNode.id, GovernanceNode.code)).all())
    latest: dict[str, CycleRef] = {}
    for ref in cycles(s, scope):
        latest.setdefault(ref.node, ref)
    out = []
    for n in nodes:
        last = latest.get(n.code)
        base = parse_period(last.period) if last else dt.date.today().replace(day=1)
        month = add_months(base, 1) if last else base
        for _ in range(12):
            if is_due(n.cadence, month, fiscal_start):
                break
            month = add_months(month, 1)
        out.append(
            Board(
                code=n.code,
                name=n.name,
                cadence=n.cadence.value,
                parent=parents.get(n.parent_id) if n.parent_id else None,
                latest=last,
                next_period=period_label(month),
            )
        )
    return out


# -- work --


def _latest_report() -> Any:
    """Each item's latest status report period (a grouped subquery, joined once)."""
    return (
        select(StatusReport.work_item_id, func.max(StatusReport.period).label("period"))
        .group_by(StatusReport.work_item_id)
        .subquery("latest_report")
    )


def items(s: Session, scope: Scope, *, mine_only: bool = False, limit: int = 300) -> list[ItemRow]:
    """Work items in scope with their latest delivery confidence (one statement); with
    ``mine_only`` the items the user owns (as SRO, by email)."""
    latest = _latest_report()
    owner = aliased(Person, name="item_owner")
    q = (
        select(
            WorkItem.code,
            WorkItem.name,
            WorkItem.kind,
            WorkItem.phase,
            owner.name.label("owner"),
            StatusReport.confidence,
            StatusReport.period,
        )
        .outerjoin(owner, owner.id == WorkItem.owner_id)
        .outerjoin(latest, latest.c.work_item_id == WorkItem.id)
        .outerjoin(
            StatusReport,
            and_(StatusReport.work_item_id == WorkItem.id, StatusReport.period == latest.c.period),
        )
        .where(scope.work)
        .order_by(WorkItem.code)
        .limit(limit)
    )
    if mine_only:
        q = q.where(WorkItem.owner_id.in_(my_people(scope.principal)))
    return [
        ItemRow(
            code=r.code,
            name=r.name,
            kind=r.kind.value,
            phase=r.phase.value,
            owner=r.owner,
            confidence=r.confidence.value if r.confidence else None,
            period=period_label(r.period) if r.period else None,
        )
        for r in s.execute(q)
    ]


def item_visible(s: Session, scope: Scope, code: str) -> bool:
    return s.scalar(select(WorkItem.id).where(scope.work, WorkItem.code == code)) is not None


def _raid_rows(s: Session, where: Any, limit: int = 100) -> list[RaidRow]:
    owner = aliased(Person, name="raid_owner")
    rows = s.execute(
        select(RaidItem, owner.name, WorkItem.code)
        .outerjoin(owner, owner.id == RaidItem.owner_id)
        .outerjoin(WorkItem, WorkItem.id == RaidItem.work_item_id)
        .where(where)
        .order_by(RaidItem.due_on.is_(None), RaidItem.due_on, RaidItem.code)
        .limit(limit)
    )
    return [
        RaidRow(
            code=r.code,
            kind=r.kind.value,
            title=r.title,
            status=r.status.value,
            owner=oname,
            item=wcode,
            due_on=r.due_on,
            score=(r.probability or 0) * (r.impact or 0) or None,
        )
        for r, oname, wcode in rows
    ]


def _exception_rows(s: Session, where: Any, limit: int = 50) -> list[ExceptionRow]:
    origin = aliased(GovernanceNode, name="exc_origin")
    owner = aliased(GovernanceNode, name="exc_owner")
    rows = s.execute(
        select(CycleException, origin.code, owner.code)
        .join(origin, origin.id == CycleException.origin_node_id)
        .join(owner, owner.id == CycleException.owner_node_id)
        .where(where)
        .order_by(CycleException.period.desc(), CycleException.code)
        .limit(limit)
    )
    return [
        ExceptionRow(
            code=e.code,
            period=period_label(e.period),
            title=e.title,
            message=e.message,
            rule=e.rule,
            origin=ocode,
            owner=wcode,
            status=e.status.value,
            subject=e.subject_code,
            subject_kind=e.subject_kind,
            at_stake=e.at_stake,
        )
        for e, ocode, wcode in rows
    ]


def item_detail(s: Session, scope: Scope, code: str) -> ItemDetail | None:
    """One item in scope with its confidence trend, milestones, RAID and exceptions (five
    statements), or None when absent or out of scope."""
    item = _read_one(s, scope, code)
    if item is None:
        return None
    item_id = s.scalar(select(WorkItem.id).where(WorkItem.code == code))
    trend = [
        TrendPoint(
            period=period_label(r.period),
            confidence=r.confidence.value if r.confidence else None,
            score=CONFIDENCE_SCORE.get(r.confidence.value) if r.confidence else None,
            overall=r.overall.value if r.overall else None,
        )
        for r in s.scalars(
            select(StatusReport)
            .where(StatusReport.work_item_id == item_id)
            .order_by(StatusReport.period)
        )
    ]
    milestones = [
        MilestoneRow.model_validate(m, from_attributes=True)
        for m in s.scalars(
            select(Milestone)
            .where(Milestone.work_item_id == item_id)
            .order_by(Milestone.baseline_date, Milestone.code)
        )
    ]
    raid = _raid_rows(s, RaidItem.work_item_id == item_id)
    exceptions = _exception_rows(s, CycleException.work_item_id == item_id)
    return ItemDetail(
        item=item, trend=trend, milestones=milestones, raid=raid, exceptions=exceptions
    )


def assigned_to_me(s: Session, scope: Scope) -> list[RaidRow]:
    """Open actions (and risks, issues) the user owns, by their person's email."""
    return _raid_rows(
        s,
        and_(
            RaidItem.owner_id.in_(my_people(scope.principal)),
            RaidItem.status != RaidStatus.CLOSED,
            RaidItem.kind.in_([RaidKind.ACTION, RaidKind.RISK, RaidKind.ISSUE]),
        ),
    )


def exceptions_on_my_items(s: Session, scope: Scope, limit: int = 30) -> list[ExceptionRow]:
    """Exceptions raised on the items the user owns, in the latest period any was raised (the
    earlier periods of the same breaches are on each item's page)."""
    mine = select(WorkItem.id).where(WorkItem.owner_id.in_(my_people(scope.principal)))
    latest = (
        select(func.max(CycleException.period))
        .where(CycleException.work_item_id.in_(mine))
        .scalar_subquery()
    )
    return _exception_rows(
        s,
        and_(CycleException.work_item_id.in_(mine), CycleException.period == latest),
        limit,
    )


def exception_history(s: Session, scope: Scope, thread: str) -> list[ExceptionRow]:
    """Every period of one breach (its thread code ``X-…``), newest first, if its item is in
    scope (an exception on no item follows the cycle scope of its owner node)."""
    rows = _exception_rows(
        s,
        and_(
            or_(
                CycleException.code == thread,
                CycleException.code.startswith(thread + "/", autoescape=True),
            ),
            or_(
                CycleException.work_item_id.is_(None),
                CycleException.work_item_id.in_(select(WorkItem.id).where(scope.work)),
            ),
        ),
    )
    return rows


def latest_top_cycle(s: Session, scope: Scope) -> CycleRef | None:
    """The latest cycle of a board at the top of the escalation chain (the main board) that the
    user may read: the frozen, governed view of the whole strategy."""
    row = s.execute(
        select(Cycle, GovernanceNode.code, GovernanceNode.name)
        .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
        .where(cycle_visible(scope), GovernanceNode.parent_id.is_(None))
        .order_by(Cycle.period.desc(), Cycle.version.desc(), GovernanceNode.code)
        .limit(1)
    ).first()
    return _cycle_ref(row[0], row[1], row[2]) if row else None


def latest_published(s: Session, scope: Scope, node: str) -> CycleRef | None:
    row = s.execute(
        select(Cycle, GovernanceNode.code, GovernanceNode.name)
        .join(GovernanceNode, GovernanceNode.id == Cycle.node_id)
        .where(
            cycle_visible(scope),
            GovernanceNode.code == node,
            Cycle.status == CycleStatus.PUBLISHED,
        )
        .order_by(Cycle.period.desc(), Cycle.version.desc())
        .limit(1)
    ).first()
    return _cycle_ref(row[0], row[1], row[2]) if row else None


# -- benefits --


def benefits(
    s: Session,
    scope: Scope,
    *,
    mine_only: bool = False,
    limit: int = 200,
    code: str | None = None,
) -> list[BenefitRow]:
    """Benefits in scope with their whole-life planned, forecast and actual totals (one
    statement, grouped)."""
    owner = aliased(Person, name="ben_owner")
    q = (
        select(
            Benefit.code,
            Benefit.name,
            Benefit.status,
            owner.name.label("owner"),
            Benefit.unit,
            func.coalesce(func.sum(BenefitProfile.planned), 0).label("planned"),
            func.coalesce(func.sum(BenefitProfile.forecast), 0).label("forecast"),
            func.coalesce(func.sum(BenefitProfile.actual), 0).label("actual"),
        )
        .outerjoin(owner, owner.id == Benefit.owner_id)
        .outerjoin(BenefitProfile, BenefitProfile.benefit_id == Benefit.id)
        .where(scope.benefits)
        .group_by(Benefit.code, Benefit.name, Benefit.status, owner.name, Benefit.unit)
        .order_by(Benefit.code)
        .limit(limit)
    )
    if mine_only:
        q = q.where(Benefit.owner_id.in_(my_people(scope.principal)))
    if code is not None:
        q = q.where(Benefit.code == code)
    return [
        BenefitRow(
            code=r.code,
            name=r.name,
            status=r.status.value,
            owner=r.owner,
            unit=r.unit,
            planned=Decimal(str(r.planned)),
            forecast=Decimal(str(r.forecast)),
            actual=Decimal(str(r.actual)),
        )
        for r in s.execute(q)
    ]


__all__ = [
    "BenefitRow",
    "Board",
    "CycleRef",
    "ItemDetail",
    "ItemRow",
    "assigned_to_me",
    "benefits",
    "boards",
    "cycles",
    "exception_history",
    "exceptions_on_my_items",
    "find_cycle",
    "item_detail",
    "items",
    "previous_cycle",
]
