"""Business agility: how fast and how far the portfolio answers a change of strategy.

From the versioned OTCs (every version after the first is a change) and the decision log (RAID
items of kind ``decision`` and lifecycle gate decisions): the time from a change to the first
decision answering it, the share of the affected work that was realigned, and the spend still
going to work whose objective was withdrawn.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from statistics import median

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.analysis._common import PCT, ZERO, cost_sums, reporting_currency, work_closure
from bigov.analysis.rollups import CostFigures
from bigov.finance.models import CostLine
from bigov.raid.models import RaidItem, RaidKind
from bigov.strategy.models import Otc, OtcStatus, OtcVersion
from bigov.work.models import Contribution, GateDecision, WorkItem

LIVE = (OtcStatus.DRAFT, OtcStatus.ACTIVE)


class Response(BaseModel):
    """A decision answering a change: a RAID decision (on the OTC or on affected work) or a gate."""

    code: str
    kind: str  # "decision" or "gate"
    decided_on: dt.date
    work_item: str | None = None


class StrategyChange(BaseModel):
    """One change (a new version of an OTC) and the portfolio's answer to it. Decisions count when
    made from the change's effective date until the next version (or the as-at date). *Affected*
    work: the OTC's contributors and their subtrees; *realigned*: those with a decision (RAID or
    gate) in that window."""

    otc: str
    version: int
    effective_from: dt.date
    status: str
    reason: str | None
    responses: list[Response]
    first_response: dt.date | None
    days_to_response: int | None
    affected: list[str]
    realigned: list[str]


class WithdrawnSpend(BaseModel):
    """Cost from the withdrawal date on of work that serves a withdrawn OTC and no live one."""

    otc: str
    withdrawn_on: dt.date
    work_items: list[str]
    cost: CostFigures


class AgilityReport(BaseModel):
    """Changes in order of date; ``median_days_to_response`` over the answered ones;
    ``realigned_pct`` = distinct realigned items / distinct affected items."""

    as_at: dt.date
    currency: str
    changes: list[StrategyChange]
    unanswered: int
    median_days_to_response: float | None
    realigned_pct: Decimal | None
    withdrawn_spend: list[WithdrawnSpend]
    withdrawn_spend_total: CostFigures = Field(default_factory=CostFigures)


def agility(
    session: Session, *, as_at: dt.date | None = None, since: dt.date | None = None
) -> AgilityReport:
    """Agility measures for the changes that took effect from ``since`` (any) to ``as_at``
    (today). A fixed number of queries at any data size."""
    as_at = as_at or dt.date.today()
    currency = reporting_currency(session)
    versions = session.execute(
        select(
            OtcVersion.otc_id,
            Otc.code,
            OtcVersion.version,
            OtcVersion.effective_from,
            OtcVersion.status,
            OtcVersion.change_reason,
        )
        .join(Otc, Otc.id == OtcVersion.otc_id)
        .order_by(OtcVersion.otc_id, OtcVersion.version)
    ).all()
    closure = work_closure()
    served: dict[int, set[int]] = {}
    for oid, wid in session.execute(
        select(Contribution.otc_id, closure.c.descendant_id)
        .join(closure, closure.c.ancestor_id == Contribution.work_item_id)
        .distinct()
    ).all():
        served.setdefault(oid, set()).add(wid)
    code = dict(session.execute(select(WorkItem.id, WorkItem.code)).all())
    decisions = session.execute(
        select(RaidItem.code, RaidItem.raised_on, RaidItem.otc_id, RaidItem.work_item_id).where(
            RaidItem.kind == RaidKind.DECISION, RaidItem.raised_on.is_not(None)
        )
    ).all()
    gates = session.execute(
        select(GateDecision.code, GateDecision.decided_on, GateDecision.work_item_id)
    ).all()

    changes: list[StrategyChange] = []
    next_start: dict[tuple[int, int], dt.date] = {}
    for oid, _c, version, eff, _s, _r in versions:
        if version > 1:
            next_start[(oid, version - 1)] = eff
    for oid, ocode, version, eff, status, reason in versions:
        if version <= 1 or eff > as_at or (since is not None and eff < since):
            continue
        window_end = min(
            next_start.get((oid, version), as_at + dt.timedelta(days=1)),
            as_at + dt.timedelta(days=1),
        )
        affected = served.get(oid, set())
        responses = [
            Response(code=c, kind="decision", decided_on=d, work_item=code.get(w) if w else None)
            for c, d, o, w in decisions
            if d is not None
            and eff <= d < window_end
            and (o == oid or (w is not None and w in affected))
        ] + [
            Response(code=c, kind="gate", decided_on=d, work_item=code.get(w))
            for c, d, w in gates
            if eff <= d < window_end and w in affected
        ]
        responses.sort(key=lambda r: (r.decided_on, r.code))
        realigned = sorted({r.work_item for r in responses if r.work_item})
        first = responses[0].decided_on if responses else None
        changes.append(
            StrategyChange(
                otc=ocode,
                version=version,
                effective_from=eff,
                status=status.value,
                reason=reason,
                responses=responses,
                first_response=first,
                days_to_response=(first - eff).days if first else None,
                affected=sorted(code[w] for w in affected if w in code),
                realigned=realigned,
            )
        )
    changes.sort(key=lambda c: (c.effective_from, c.otc))
    answered = [c.days_to_response for c in changes if c.days_to_response is not None]
    all_affected = {w for c in changes for w in c.affected}
    all_realigned = {w for c in changes for w in c.realigned}
    realigned_pct = (
        (Decimal(len(all_realigned)) / len(all_affected) * 100).quantize(PCT)
        if all_affected
        else None
    )

    # spend still going to work whose objective was withdrawn (and that serves nothing live)
    otc_status = dict(session.execute(select(Otc.id, Otc.status)).all())
    withdrawn_on: dict[int, dt.date] = {}
    for oid, _c, _v, eff, status, _r in versions:
        if otc_status.get(oid) == OtcStatus.WITHDRAWN and status == OtcStatus.WITHDRAWN:
            withdrawn_on[oid] = min(eff, withdrawn_on.get(oid, eff))
    live_served = {w for oid, ws in served.items() if otc_status.get(oid) in LIVE for w in ws}
    spend: list[WithdrawnSpend] = []
    targets = {
        oid: sorted(w for w in served.get(oid, set()) if w not in live_served)
        for oid in withdrawn_on
    }
    wanted = {w for ws in targets.values() for w in ws}
    cost_rows = (
        session.execute(
            select(
                CostLine.work_item_id,
                CostLine.period,
                *cost_sums(as_at),
            )
            .where(CostLine.work_item_id.in_(wanted), CostLine.currency == currency)
            .group_by(CostLine.work_item_id, CostLine.period)
        ).all()
        if wanted
        else []
    )
    otc_code = {oid: c for oid, c, *_rest in versions}
    for oid, items in sorted(targets.items(), key=lambda t: otc_code[t[0]]):
        since_day = withdrawn_on[oid]
        b = f = a = ZERO
        for wid, period, cb, cf, ca in cost_rows:
            if wid in items and period >= since_day:
                b += Decimal(str(cb or 0))
                f += Decimal(str(cf or 0))
                a += Decimal(str(ca or 0))
        spend.append(
            WithdrawnSpend(
                otc=otc_code[oid],
                withdrawn_on=since_day,
                work_items=sorted(code[w] for w in items),
                cost=CostFigures.of(b, f, a),
            )
        )
    return AgilityReport(
        as_at=as_at,
        currency=currency,
        changes=changes,
        unanswered=len(changes) - len(answered),
        median_days_to_response=float(median(answered)) if answered else None,
        realigned_pct=realigned_pct,
        withdrawn_spend=spend,
        withdrawn_spend_total=CostFigures.of(
            sum((s.cost.budget for s in spend), ZERO),
            sum((s.cost.forecast for s in spend), ZERO),
            sum((s.cost.actual for s in spend), ZERO),
        ),
    )


__all__ = ["AgilityReport", "Response", "StrategyChange", "WithdrawnSpend", "agility"]
