"""A benefit owner's entry for one period: the actual realised and the revised forecast, checked
field by field and written to the benefit's profile with an audit row (nothing on error)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy import select

from bigov.auth.service import record
from bigov.benefits.models import Benefit, BenefitProfile
from bigov.errors import NotFoundError, Problem, ValidationError
from bigov.governance.periods import parse_period, period_label

if TYPE_CHECKING:
    from bigov.workspace import Workspace

LIMIT = Decimal("1e15")


class ProfilePoint(BaseModel):
    period: str
    planned: Decimal | None
    forecast: Decimal | None
    actual: Decimal | None


def profile(ws: Workspace, code: str) -> list[ProfilePoint]:
    """The benefit's profile by month (one statement after the look-up)."""
    with ws.session() as s:
        bid = s.scalar(select(Benefit.id).where(Benefit.code == code))
        if bid is None:
            raise NotFoundError(f"no benefit {code!r}")
        return [
            ProfilePoint(
                period=period_label(p.period),
                planned=p.planned,
                forecast=p.forecast,
                actual=p.actual,
            )
            for p in s.scalars(
                select(BenefitProfile)
                .where(BenefitProfile.benefit_id == bid)
                .order_by(BenefitProfile.period)
            )
        ]


def _amount(raw: str, field: str, problems: list[Problem], *, required: bool) -> Decimal | None:
    raw = raw.strip().replace(",", "")
    if not raw:
        if required:
            problems.append(Problem("enter an amount (0 if none)", column=field))
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        problems.append(Problem(f"{raw!r} is not an amount", column=field, value=raw))
        return None
    if not value.is_finite() or abs(value) >= LIMIT or value != value.quantize(Decimal("0.01")):
        problems.append(Problem("at most 2 decimal places and below 10¹⁵", column=field, value=raw))
        return None
    return value


def record_period(
    ws: Workspace,
    code: str,
    period: str,
    actual: str,
    forecast: str,
    *,
    user: str,
    client_ip: str | None = None,
) -> ProfilePoint:
    """Write ``actual`` and the revised ``forecast`` for ``period``.

    Raises:
        ValidationError: every bad field (``Problem.column``: period, actual, forecast).
        NotFoundError: unknown benefit.
    """
    problems: list[Problem] = []
    try:
        month = parse_period(period.strip())
    except Exception:
        problems.append(Problem(f"{period!r} is not a month YYYY-MM", column="period"))
        month = None
    act = _amount(actual, "actual", problems, required=True)
    fc = _amount(forecast, "forecast", problems, required=False)
    if problems:
        raise ValidationError("nothing was saved: correct the fields shown", problems)
    assert month is not None
    with ws.session() as s:
        benefit = s.scalar(select(Benefit).where(Benefit.code == code))
        if benefit is None:
            raise NotFoundError(f"no benefit {code!r}")
        row = s.scalar(
            select(BenefitProfile).where(
                BenefitProfile.benefit_id == benefit.id, BenefitProfile.period == month
            )
        )
        before = None
        if row is None:
            row = BenefitProfile(
                code=f"BP-{code}-{period_label(month)}"[:64],
                benefit_id=benefit.id,
                period=month,
                currency=benefit.currency,
            )
            s.add(row)
        else:
            before = {"actual": str(row.actual), "forecast": str(row.forecast)}
        row.actual = act
        if fc is not None:
            row.forecast = fc
        row.written_by = user
        s.flush()
        record(
            s,
            who=user,
            ip=client_ip,
            action="update" if before else "create",
            kind="benefit_profile",
            code=f"{code}/{period_label(month)}",
            before=before,
            after={"actual": str(row.actual), "forecast": str(row.forecast)},
        )
        return ProfilePoint(
            period=period_label(month),
            planned=row.planned,
            forecast=row.forecast,
            actual=row.actual,
        )


__all__ = ["ProfilePoint", "profile", "record_period"]
