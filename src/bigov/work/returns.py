"""The monthly return of a work item, as a project manager fills it in: delivery confidence and a
RAG per dimension, the narrative, forecast cost by month, milestone forecasts, and the item's
risks and issues.

* :func:`prefill` — what the form starts from: this month's draft if there is one, otherwise last
  month's report and the item's current forecasts, milestones and open risks.
* :func:`validate` — every field checked, every problem named (``Problem.column`` is the form
  field); nothing is written.
* :func:`save` — a draft (kept in ``monthly_return``) or a submission: the status report, cost
  forecasts, milestone forecasts and RAID entries are written in one unit of work, with an audit
  row. Nothing is written unless every field is valid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bigov.auth.service import record as audit
from bigov.db.base import utcnow
from bigov.errors import NotFoundError, Problem, ValidationError
from bigov.finance.models import CostLine
from bigov.governance.periods import add_months, parse_period, period_label
from bigov.org.models import Person
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.work.models import Confidence, Milestone, Rag, StatusReport, WorkItem
from bigov.work.return_models import MonthlyReturn, ReturnStatus

if TYPE_CHECKING:
    from bigov.workspace import Workspace

DIMENSIONS = ("overall", "schedule", "cost", "scope", "benefits", "risk", "resources")
FORECAST_MONTHS = 6
NARRATIVE_MAX = 4000
MONEY_MAX = Decimal("1e15")


class RiskEntry(BaseModel):
    code: str | None = None  # None: a new entry
    kind: str = "risk"
    title: str = ""
    status: str = "open"
    probability: int | None = None
    impact: int | None = None


class MonthlyReturnData(BaseModel):
    """A return's values, validated (what a draft stores and a submission writes)."""

    period: str
    confidence: str | None = None
    rags: dict[str, str | None] = Field(default_factory=dict)
    narrative: str = ""
    costs: dict[str, str] = Field(default_factory=dict)  # YYYY-MM -> forecast (decimal text)
    milestones: dict[str, str | None] = Field(default_factory=dict)  # code -> ISO date
    risks: list[RiskEntry] = Field(default_factory=list)


class ReturnView(BaseModel):
    """What the form shows: the values, where they came from, and the labels it needs."""

    item: str
    item_name: str
    period: str
    status: str  # new | draft | submitted
    source: str  # where the values came from
    data: MonthlyReturnData
    milestone_names: dict[str, str]
    risk_titles: dict[str, str]


def default_period(ws: Workspace, item: str) -> str:
    """The month a return is due for: the one after the item's latest report, else this one."""
    with ws.session() as s:
        item_id = _item_id(s, item)
        last = s.scalar(
            select(func.max(StatusReport.period)).where(StatusReport.work_item_id == item_id)
        )
    if last is None:
        return period_label(dt.date.today().replace(day=1))
    return period_label(add_months(last, 1))


def _item_id(s: Session, code: str) -> int:
    found = s.scalar(select(WorkItem.id).where(WorkItem.code == code))
    if found is None:
        raise NotFoundError(f"no work item {code!r}")
    return int(found)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _months(period: dt.date) -> list[dt.date]:
    return [add_months(period, i) for i in range(FORECAST_MONTHS)]


def prefill(ws: Workspace, item: str, period: str) -> ReturnView:
    """The form's starting values (five statements)."""
    month = parse_period(period)
    with ws.session() as s:
        wi = s.scalar(select(WorkItem).where(WorkItem.code == item))
        if wi is None:
            raise NotFoundError(f"no work item {item!r}")
        stones = list(
            s.scalars(
                select(Milestone)
                .where(Milestone.work_item_id == wi.id, Milestone.actual_date.is_(None))
                .order_by(Milestone.baseline_date, Milestone.code)
            )
        )
        risks = list(
            s.scalars(
                select(RaidItem)
                .where(
                    RaidItem.work_item_id == wi.id,
                    RaidItem.kind.in_([RaidKind.RISK, RaidKind.ISSUE]),
                    RaidItem.status != RaidStatus.CLOSED,
                )
                .order_by(RaidItem.code)
            )
        )
        names = {m.code: m.name for m in stones}
        titles = {r.code: r.title for r in risks}
        saved = s.scalar(
            select(MonthlyReturn).where(
                MonthlyReturn.work_item_id == wi.id, MonthlyReturn.period == month
            )
        )
        if saved is not None:
            data = MonthlyReturnData.model_validate(saved.payload)
            return ReturnView(
                item=item,
                item_name=wi.name,
                period=period_label(month),
                status=saved.status.value,
                source=f"your {saved.status.value} of {saved.updated_at:%Y-%m-%d %H:%M}",
                data=data,
                milestone_names=names,
                risk_titles=titles,
            )
        last = s.scalar(
            select(StatusReport)
            .where(StatusReport.work_item_id == wi.id, StatusReport.period < month)
            .order_by(StatusReport.period.desc())
            .limit(1)
        )
        months = _months(month)
        costs: dict[str, Decimal] = {period_label(m): Decimal(0) for m in months}
        for p, total in s.execute(
            select(CostLine.period, func.sum(CostLine.forecast))
            .where(CostLine.work_item_id == wi.id, CostLine.period.in_(months))
            .group_by(CostLine.period)
        ):
            costs[period_label(p)] = Decimal(str(total or 0))
        data = MonthlyReturnData(
            period=period_label(month),
            confidence=last.confidence.value if last and last.confidence else None,
            rags={
                d: (getattr(last, d).value if last and getattr(last, d) else None)
                for d in DIMENSIONS
            },
            narrative=(last.narrative or "") if last else "",
            costs={k: f"{v:.2f}" for k, v in costs.items()},
            milestones={m.code: _iso(m.forecast_date or m.baseline_date) for m in stones},
            risks=[
                RiskEntry(
                    code=r.code,
                    kind=r.kind.value,
                    title=r.title,
                    status=r.status.value,
                    probability=r.probability,
                    impact=r.impact,
                )
                for r in risks
            ],
        )
        source = (
            f"last month's return ({period_label(last.period)})" if last else "no earlier return"
        )
        return ReturnView(
            item=item,
            item_name=wi.name,
            period=period_label(month),
            status="new",
            source=source,
            data=data,
            milestone_names=names,
            risk_titles=titles,
        )


def validate(
    form: dict[str, Any], view: ReturnView, *, submitting: bool
) -> tuple[MonthlyReturnData, list[Problem]]:
    """Read the posted form against the view it was shown from: the values (as typed, for
    showing again) and every problem, each naming its field."""
    problems: list[Problem] = []

    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    confidence = text("confidence") or None
    levels = [c.value for c in Confidence]
    if confidence is not None and confidence not in levels:
        problems.append(Problem(f"choose one of {', '.join(levels)}", column="confidence"))
    if submitting and confidence is None:
        problems.append(Problem("choose a delivery confidence", column="confidence"))
    rags: dict[str, str | None] = {}
    for d in DIMENSIONS:
        value = text(f"rag_{d}") or None
        if value is not None and value not in [r.value for r in Rag]:
            problems.append(Problem("choose green, amber or red", column=f"rag_{d}"))
        rags[d] = value
    if submitting and rags.get("overall") is None:
        problems.append(Problem("give an overall RAG", column="rag_overall"))
    narrative = text("narrative")
    if len(narrative) > NARRATIVE_MAX:
        problems.append(
            Problem(
                f"at most {NARRATIVE_MAX} characters ({len(narrative)} given)", column="narrative"
            )
        )
    if "\x00" in narrative:
        problems.append(Problem("contains a NUL character", column="narrative"))
    if submitting and rags.get("overall") in ("amber", "red") and not narrative:
        problems.append(
            Problem("explain an amber or red overall status in the narrative", column="narrative")
        )
    costs: dict[str, str] = {}
    for month in view.data.costs:
        name = f"cost_{month}"
        raw = text(name).replace(",", "")
        costs[month] = raw
        if raw == "":
            problems.append(Problem(f"enter the forecast for {month} (0 if none)", column=name))
            continue
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            problems.append(Problem(f"{raw!r} is not an amount", column=name, value=raw))
            continue
        if not amount.is_finite() or amount < 0:
            problems.append(Problem("must be zero or more", column=name, value=raw))
        elif amount >= MONEY_MAX or amount != amount.quantize(Decimal("0.01")):
            problems.append(
                Problem("at most 2 decimal places and below 10¹⁵", column=name, value=raw)
            )
    milestones: dict[str, str | None] = {}
    for code in view.data.milestones:
        name = f"ms_{code}"
        raw = text(name)
        milestones[code] = raw or None
        if raw:
            try:
                dt.date.fromisoformat(raw)
            except ValueError:
                problems.append(
                    Problem(f"{raw!r} is not a date (YYYY-MM-DD)", column=name, value=raw)
                )
    risks: list[RiskEntry] = []
    for i, r in enumerate(view.data.risks):
        entry = RiskEntry(code=r.code, kind=r.kind, title=r.title)
        entry.status = text(f"risk_{i}_status") or r.status
        if entry.status not in [x.value for x in RaidStatus]:
            problems.append(
                Problem("choose open, in_progress or closed", column=f"risk_{i}_status")
            )
        entry.probability = _score(text(f"risk_{i}_p"), f"risk_{i}_p", problems)
        entry.impact = _score(text(f"risk_{i}_i"), f"risk_{i}_i", problems)
        risks.append(entry)
    new_title = text("new_risk_title")
    if new_title:
        kind = text("new_risk_kind") or "risk"
        if kind not in ("risk", "issue"):
            problems.append(Problem("choose risk or issue", column="new_risk_kind"))
        if len(new_title) > 255:
            problems.append(Problem("at most 255 characters", column="new_risk_title"))
        risks.append(
            RiskEntry(
                code=None,
                kind=kind,
                title=new_title,
                probability=_score(text("new_risk_p"), "new_risk_p", problems),
                impact=_score(text("new_risk_i"), "new_risk_i", problems),
            )
        )
    data = MonthlyReturnData(
        period=view.period,
        confidence=confidence,
        rags=rags,
        narrative=narrative,
        costs=costs,
        milestones=milestones,
        risks=risks,
    )
    return data, problems


def _score(raw: str, field: str, problems: list[Problem]) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        problems.append(Problem("a whole number from 1 to 5", column=field, value=raw))
        return None
    return int(raw)


def save(
    ws: Workspace,
    item: str,
    form: dict[str, Any],
    *,
    submit: bool,
    user: str,
    client_ip: str | None = None,
) -> ReturnView:
    """Validate the posted form and keep it as a draft, or submit it.

    Raises:
        ValidationError: every problem (``Problem.column`` = form field); nothing written.
        ConflictError-like ValidationError when the month's return was already submitted.
    """
    period = str(form.get("period", ""))
    view = prefill(ws, item, period)
    if view.status == "submitted":
        raise ValidationError(
            f"the return for {view.period} was submitted already",
            [Problem("already submitted: open next month's return", column="period")],
        )
    data, problems = validate(form, view, submitting=submit)
    if problems:
        raise ValidationError("the return was not saved: correct the fields shown", problems)
    month = parse_period(view.period)
    payload = data.model_dump(mode="json")
    with ws.session() as s:
        item_id = _item_id(s, item)
        row = s.scalar(
            select(MonthlyReturn)
            .where(MonthlyReturn.work_item_id == item_id, MonthlyReturn.period == month)
            .with_for_update()
        )
        if row is None:
            row = MonthlyReturn(
                work_item_id=item_id, period=month, status=ReturnStatus.DRAFT, payload=payload
            )
            s.add(row)
        row.payload = payload
        if submit:
            row.status = ReturnStatus.SUBMITTED
            row.submitted_at = utcnow()
            row.submitted_by = user
            _write(s, item_id, item, month, data, user)
        s.flush()
        audit(
            s,
            who=user,
            ip=client_ip,
            action="submit" if submit else "draft",
            kind="monthly_return",
            code=f"{item}/{view.period}",
            before=None,
            after=payload,
        )
    return prefill(ws, item, view.period)


def _write(
    s: Session, item_id: int, item: str, month: dt.date, data: MonthlyReturnData, user: str
) -> None:
    """A submission's effects on the model (inside the caller's unit of work)."""
    me = s.scalar(select(Person.id).where(func.lower(Person.email) == user.lower()))
    report = s.scalar(
        select(StatusReport).where(
            StatusReport.work_item_id == item_id, StatusReport.period == month
        )
    )
    if report is None:
        report = StatusReport(
            code=f"SR-{item}-{period_label(month)}"[:64], work_item_id=item_id, period=month
        )
        s.add(report)
    report.confidence = Confidence(data.confidence) if data.confidence else None
    for d in DIMENSIONS:
        value = data.rags.get(d)
        setattr(report, d, Rag(value) if value else None)
    report.narrative = data.narrative or None
    report.reported_by_id = me
    report.reported_on = dt.date.today()
    report.written_by = user
    months = {parse_period(k): Decimal(v) for k, v in data.costs.items()}
    lines: dict[dt.date, list[CostLine]] = {}
    for line in s.scalars(
        select(CostLine)
        .where(CostLine.work_item_id == item_id, CostLine.period.in_(list(months)))
        .order_by(CostLine.id)
    ):
        lines.setdefault(line.period, []).append(line)
    for m, total in months.items():
        existing = lines.get(m, [])
        current = sum((ln.forecast for ln in existing), Decimal(0))
        if total == current:
            continue
        if existing:
            # the change lands on the month's first line: the split across funding sources and
            # capex/opex stays as the finance extract set it
            existing[0].forecast += total - current
            existing[0].written_by = user
        else:
            s.add(
                CostLine(
                    code=f"CL-{item}-{period_label(m)}-F"[:64],
                    work_item_id=item_id,
                    period=m,
                    budget=Decimal(0),
                    forecast=total,
                    written_by=user,
                )
            )
    stones = {
        m.code: m
        for m in s.scalars(
            select(Milestone).where(
                Milestone.work_item_id == item_id, Milestone.code.in_(list(data.milestones))
            )
        )
    }
    for code, value in data.milestones.items():
        if code in stones:
            stones[code].forecast_date = dt.date.fromisoformat(value) if value else None
            stones[code].written_by = user
    existing_risks = {
        r.code: r
        for r in s.scalars(
            select(RaidItem).where(
                RaidItem.work_item_id == item_id,
                RaidItem.code.in_([r.code for r in data.risks if r.code]),
            )
        )
    }
    n = 0
    for entry in data.risks:
        if entry.code and entry.code in existing_risks:
            r = existing_risks[entry.code]
            r.status = RaidStatus(entry.status)
            r.probability = entry.probability
            r.impact = entry.impact
            if r.status is RaidStatus.CLOSED and r.closed_on is None:
                r.closed_on = dt.date.today()
            r.written_by = user
        elif entry.code is None:
            n += 1
            code = f"{entry.kind[:3].upper()}-{item}-{month:%Y%m}-{n}"[:64]
            while s.scalar(select(RaidItem.id).where(RaidItem.code == code)) is not None:
                n += 1
                code = f"{entry.kind[:3].upper()}-{item}-{month:%Y%m}-{n}"[:64]
            s.add(
                RaidItem(
                    code=code,
                    kind=RaidKind(entry.kind),
                    title=entry.title,
                    work_item_id=item_id,
                    owner_id=me,
                    probability=entry.probability,
                    impact=entry.impact,
                    raised_on=dt.date.today(),
                    written_by=user,
                )
            )


__all__ = [
    "DIMENSIONS",
    "MonthlyReturnData",
    "ReturnView",
    "RiskEntry",
    "default_period",
    "prefill",
    "save",
    "validate",
]
