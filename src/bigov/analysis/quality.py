"""Data-quality findings: faults in the integrated data set reported with the offending codes,
instead of a crash or a silently wrong total.

The other analysis functions stay correct on such data (cycle-safe closures, foreign-currency
rows left out of money totals and counted); this module says what is wrong so it can be fixed
at the master source.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from bigov.analysis._common import reporting_currency
from bigov.benefits.models import Benefit, BenefitCategory, BenefitProfile
from bigov.finance.models import CostLine
from bigov.org.models import OrgUnit
from bigov.resources.models import Capacity, Demand
from bigov.strategy.models import KeyResultActual, Otc
from bigov.work.models import (
    Category,
    Contribution,
    Dependency,
    Nature,
    Phase,
    StatusReport,
    WorkItem,
)

PERIOD_TABLES: tuple[Any, ...] = (
    CostLine,
    BenefitProfile,
    StatusReport,
    Capacity,
    Demand,
    KeyResultActual,
)


class Finding(BaseModel):
    """One fault. ``check`` is a stable identifier (e.g. ``work_hierarchy_cycle``); ``codes`` are
    the common reference codes of the offending rows; ``severity`` is ``error`` when a total
    would be wrong without the guard, else ``warning``."""

    check: str
    severity: str
    message: str
    codes: list[str]


class QualityReport(BaseModel):
    """Every finding, grouped by check in a fixed order."""

    findings: list[Finding]

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def of(self, check: str) -> list[Finding]:
        """The findings of one check."""
        return [f for f in self.findings if f.check == check]


def findings(session: Session) -> QualityReport:
    """Run every check; a fixed number of queries at any data size.

    Checks: ``work_hierarchy_cycle``, ``org_hierarchy_cycle``, ``dependency_cycle``,
    ``work_weights_over_100``, ``otc_weights_over_100``, ``benefit_profile_currency``,
    ``cost_line_currency``, ``off_calendar_period`` (a period not on the first of a month),
    ``purpose_delivery_mismatch`` (live work whose run / grow / transform purpose and business-as-
    usual / change delivery flag disagree, which is why the two change shares differ).
    """
    out: list[Finding] = []
    out += _hierarchy_cycles(session, WorkItem, "work_hierarchy_cycle", "work hierarchy")
    out += _hierarchy_cycles(session, OrgUnit, "org_hierarchy_cycle", "organisation structure")
    out += _dependency_cycles(session)
    out += _weights(session)
    out += _currencies(session)
    out += _off_calendar(session)
    out += _purpose_vs_delivery(session)
    return QualityReport(findings=out)


def _hierarchy_cycles(session: Session, model: Any, check: str, what: str) -> list[Finding]:
    rows = session.execute(select(model.id, model.parent_id, model.code)).all()
    parent = {i: p for i, p, _c in rows}
    code = {i: c for i, _p, c in rows}
    cycles: list[list[str]] = []
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    for start in parent:
        path: list[int] = []
        node: int | None = start
        while node is not None and node in parent and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node) :]
            cycles.append(sorted(code[i] for i in cycle))
        for i in path:
            state[i] = 2
    return [
        Finding(
            check=check,
            severity="error",
            message=f"cycle in the {what}: {' → '.join(c)}; roll-ups treat it as one subtree",
            codes=c,
        )
        for c in sorted(cycles)
    ]


def _dependency_cycles(session: Session) -> list[Finding]:
    edges = session.execute(select(Dependency.predecessor_id, Dependency.successor_id)).all()
    graph: dict[int, list[int]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    components = [c for c in _strongly_connected(graph) if len(c) > 1 or c[0] in graph[c[0]]]
    if not components:
        return []
    ids = {i for c in components for i in c}
    code = dict(
        session.execute(select(WorkItem.id, WorkItem.code).where(WorkItem.id.in_(ids))).all()
    )
    out = []
    for comp in components:
        codes = sorted(code[i] for i in comp)
        out.append(
            Finding(
                check="dependency_cycle",
                severity="error",
                message=f"dependencies form a cycle among {', '.join(codes)}",
                codes=codes,
            )
        )
    return sorted(out, key=lambda f: f.codes)


def _strongly_connected(graph: dict[int, list[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iterative (deep chains must not hit Python's recursion limit)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    result: list[list[int]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            succ = graph[node]
            while i < len(succ):
                nxt = succ[i]
                i += 1
                if nxt not in index:
                    work.append((node, i))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                result.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _weights(session: Session) -> list[Finding]:
    out: list[Finding] = []
    for check, key, other, label in (
        ("work_weights_over_100", WorkItem.code, Otc.code, "work item"),
        ("otc_weights_over_100", Otc.code, WorkItem.code, "OTC"),
    ):
        rows = session.execute(
            select(key, func.sum(Contribution.weight))
            .join(WorkItem, WorkItem.id == Contribution.work_item_id)
            .join(Otc, Otc.id == Contribution.otc_id)
            .group_by(key)
            .having(func.sum(Contribution.weight) > Decimal("1.0001"))
            .order_by(key)
        ).all()
        del other
        for code, total in rows:
            share = Decimal(str(total)) * 100
            out.append(
                Finding(
                    check=check,
                    severity="warning",
                    message=f"contribution weights of {label} {code} add up to {share:,.1f}%",
                    codes=[code],
                )
            )
    return out


def _currencies(session: Session) -> list[Finding]:
    currency = reporting_currency(session)
    profile_currency = func.coalesce(BenefitProfile.currency, Benefit.currency, currency)
    rows = session.execute(
        select(Benefit.code, BenefitProfile.code, profile_currency, Benefit.currency)
        .join(BenefitProfile, BenefitProfile.benefit_id == Benefit.id)
        .where(
            Benefit.category != BenefitCategory.NON_FINANCIAL,
            (profile_currency != currency)
            | (
                BenefitProfile.currency.is_not(None)
                & Benefit.currency.is_not(None)
                & (BenefitProfile.currency != Benefit.currency)
            ),
        )
        .order_by(BenefitProfile.code)
    ).all()
    out = [
        Finding(
            check="benefit_profile_currency",
            severity="error",
            message=(
                f"benefit {bcode} profile row {pcode} is in {cur}, not {currency}"
                + (f" (the benefit says {bcur})" if bcur and bcur != cur else "")
                + "; left out of money totals"
            ),
            codes=[bcode, pcode],
        )
        for bcode, pcode, cur, bcur in rows
    ]
    lines = session.execute(
        select(CostLine.code, CostLine.currency, WorkItem.code)
        .join(WorkItem, WorkItem.id == CostLine.work_item_id)
        .where(CostLine.currency != currency)
        .order_by(CostLine.code)
    ).all()
    out += [
        Finding(
            check="cost_line_currency",
            severity="error",
            message=f"cost line {code} of {wcode} is in {cur}, not {currency}; left out of totals",
            codes=[wcode, code],
        )
        for code, cur, wcode in lines
    ]
    return out


def _off_calendar(session: Session) -> list[Finding]:
    out: list[Finding] = []
    for model in PERIOD_TABLES:
        rows = session.execute(
            select(model.code, model.period)
            .where(extract("day", model.period) != 1)
            .order_by(model.code)
        ).all()
        out += [
            Finding(
                check="off_calendar_period",
                severity="warning",
                message=(
                    f"{model.__tablename__.replace('_', ' ')} {code} has period "
                    f"{period.isoformat()}, not the first of a month"
                ),
                codes=[code],
            )
            for code, period in rows
        ]
    return out


def _purpose_vs_delivery(session: Session) -> list[Finding]:
    """Live work delivered as business as usual whose purpose is grow or transform, and change
    work whose purpose is run. Both are legitimate (a BAU team growing a service), so these are
    warnings: they say which items make the change share by purpose differ from the change share
    by delivery (see docs/figures.md)."""
    rows = session.execute(
        select(WorkItem.code, WorkItem.nature, WorkItem.category)
        .where(WorkItem.phase.not_in([Phase.CLOSED, Phase.CANCELLED]))
        .order_by(WorkItem.code)
    ).all()
    bau_change = [c for c, n, cat in rows if n == Nature.RUN and cat != Category.RUN]
    change_run = [c for c, n, cat in rows if n == Nature.CHANGE and cat == Category.RUN]
    out = []
    if bau_change:
        out.append(
            Finding(
                check="purpose_delivery_mismatch",
                severity="warning",
                message=(
                    f"{len(bau_change)} live item(s) are delivered as business as usual but their "
                    "purpose is grow or transform: the change share by purpose counts them, the "
                    "change share by delivery does not"
                ),
                codes=bau_change,
            )
        )
    if change_run:
        out.append(
            Finding(
                check="purpose_delivery_mismatch",
                severity="warning",
                message=(
                    f"{len(change_run)} live item(s) are delivered as change but their purpose is "
                    "run: the change share by delivery counts them, the change share by purpose "
                    "does not"
                ),
                codes=change_run,
            )
        )
    return out


__all__ = ["Finding", "QualityReport", "findings"]
