"""Benefits (scoped list, detail with the profile by period)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from bigov.api.common import (
    PUT_RESPONSES,
    CodePath,
    Cursor,
    IfMatch,
    Limit,
    SafeStr,
    after_code,
    audited,
    aware,
    claim_version,
    etag_of,
    flush_or_conflict,
    next_page,
    not_found,
    resolve_code,
    where_given,
    written,
)
from bigov.auth.scope import Scope, scope_for
from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitKind,
    BenefitProfile,
    BenefitStatus,
)
from bigov.org.models import ManagementTeam, OrgUnit, Person
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem

router = APIRouter(prefix="/benefits", tags=["benefits"])
Owner = aliased(Person, name="benefit_owner")


class BenefitOut(BaseModel):
    code: str
    name: str
    kind: BenefitKind
    category: BenefitCategory
    status: BenefitStatus
    owner: str | None
    owner_unit: str | None
    realising_team: str | None
    measure: str | None
    unit: str | None
    currency: str | None
    updated_at: dt.datetime | None = None


class BenefitIn(BaseModel):
    """A benefit as written by PUT (the whole benefit: omitted fields become empty)."""

    model_config = ConfigDict(extra="forbid")
    name: SafeStr = Field(min_length=1, max_length=255)
    kind: BenefitKind = BenefitKind.BENEFIT
    category: BenefitCategory
    status: BenefitStatus = BenefitStatus.PLANNED
    description: SafeStr | None = Field(None, max_length=20000)
    owner: SafeStr | None = Field(None, max_length=64, description="Code of the owning person.")
    owner_unit: SafeStr | None = Field(None, max_length=64)
    realising_team: SafeStr | None = Field(None, max_length=64)
    measure: SafeStr | None = Field(None, max_length=255)
    unit: SafeStr | None = Field(None, max_length=32)
    currency: SafeStr | None = Field(None, pattern=r"^[A-Z]{3}$")


class ProfileRow(BaseModel):
    period: dt.date
    planned: Decimal | None
    forecast: Decimal | None
    actual: Decimal | None
    currency: str | None


class BenefitDetail(BenefitOut):
    profile: list[ProfileRow]


class BenefitPage(BaseModel):
    items: list[BenefitOut]
    next_cursor: str | None


def benefit_query(scope: Scope) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Benefit.code,
            Benefit.name,
            Benefit.kind,
            Benefit.category,
            Benefit.status,
            Owner.code.label("owner"),
            OrgUnit.code.label("owner_unit"),
            ManagementTeam.code.label("realising_team"),
            Benefit.measure,
            Benefit.unit,
            Benefit.currency,
            Benefit.updated_at,
        )
        .outerjoin(Owner, Owner.id == Benefit.owner_id)
        .outerjoin(OrgUnit, OrgUnit.id == Benefit.owner_unit_id)
        .outerjoin(ManagementTeam, ManagementTeam.id == Benefit.realising_team_id)
        .where(scope.benefits)
    )


@router.get("", response_model=BenefitPage)
def list_benefits(
    st: StateDep,
    user: UserDep,
    status: BenefitStatus | None = None,
    category: BenefitCategory | None = None,
    owner_unit: Annotated[SafeStr | None, Query(max_length=64)] = None,
    sort: Literal["code", "-code"] = "code",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Benefits in your scope, by code, a page at a time."""
    with scoped_read(st, user) as (s, scope):
        q = where_given(
            benefit_query(scope),
            (Benefit.status, status),
            (Benefit.category, category),
            (OrgUnit.code, owner_unit),
        )
        desc = sort == "-code"
        after = after_code(cursor, Benefit.code, desc=desc)
        if after is not None:
            q = q.where(after)
        q = q.order_by(Benefit.code.desc() if desc else Benefit.code).limit(limit + 1)
        rows = [_out(r) for r in s.execute(q)]
    rows, nxt = next_page(rows, limit, lambda last: [last.code])
    return BenefitPage(items=rows, next_cursor=nxt)


@router.get("/{code}", response_model=BenefitDetail, responses={404: {}})
def get_benefit(code: CodePath, st: StateDep, user: UserDep) -> Any:
    """One benefit with its planned / forecast / actual profile by period."""
    with scoped_read(st, user) as (s, scope):
        row = s.execute(benefit_query(scope).where(Benefit.code == code)).first()
        if row is None:
            raise not_found("benefit", code)
        profile = [
            ProfileRow.model_validate(dict(r._mapping))
            for r in s.execute(
                select(
                    BenefitProfile.period,
                    BenefitProfile.planned,
                    BenefitProfile.forecast,
                    BenefitProfile.actual,
                    BenefitProfile.currency,
                )
                .join(Benefit, Benefit.id == BenefitProfile.benefit_id)
                .where(Benefit.code == code)
                .order_by(BenefitProfile.period)
            )
        ]
    out = _out(row)
    return JSONResponse(
        BenefitDetail(**out.model_dump(), profile=profile).model_dump(mode="json"),
        headers={"ETag": etag_of(out.model_dump(mode="json"))},
    )


def _out(row: Any) -> BenefitOut:
    return BenefitOut.model_validate(aware(row))


def _read(s: Session, scope: Scope, code: str) -> BenefitOut | None:
    row = s.execute(benefit_query(scope).where(Benefit.code == code)).first()
    return _out(row) if row is not None else None


@router.put(
    "/{code}",
    response_model=BenefitOut,
    responses=PUT_RESPONSES,
)
def put_benefit(
    code: CodePath,
    body: BenefitIn,
    request: Request,
    st: StateDep,
    user: UserDep,
    if_match: IfMatch = None,
) -> Any:
    """Create or replace a benefit (If-Match to replace; 412 with the current one if stale)."""
    with st.writing() as s:
        scope = scope_for(s, user)
        row = s.scalar(select(Benefit).where(Benefit.code == code).with_for_update())
        current = _read(s, scope, code)
        if row is not None and current is None:
            raise not_found("benefit", code)
        if not scope.may_write_benefits():
            raise Problem(403, f"your role ({user.role.value}) may not change benefits")
        if row is not None and current is not None:
            before = current
            claim_version(
                s,
                Benefit,
                row,
                if_match,
                etag_of(before.model_dump(mode="json")),
                lambda: Problem(
                    412,
                    f"benefit {code} changed since you read it",
                    current=before.model_dump(mode="json"),
                ),
            )
        refs = {
            "owner_id": resolve_code(s, Person, body.owner, "owner"),
            "owner_unit_id": resolve_code(s, OrgUnit, body.owner_unit, "owner_unit"),
            "realising_team_id": resolve_code(
                s, ManagementTeam, body.realising_team, "realising_team"
            ),
        }
        if row is None:
            row = Benefit(code=code)
            s.add(row)
        fields = body.model_dump(exclude={"owner", "owner_unit", "realising_team"})
        for name, value in {**fields, **refs}.items():
            setattr(row, name, value)
        row.written_by = user.email
        flush_or_conflict(s, f"benefit {code} was created meanwhile; read it and retry")
        after = _read(s, scope, code)
        if after is None:
            raise Problem(403, f"benefit {code} would fall outside your scope")
        audited(s, request, user, kind="benefit", code=code, before=current, after=after)
    return written(after, created=current is None, etag=etag_of(after.model_dump(mode="json")))


# -- the profile: planned / forecast / actual by month ----------------------------------------
class ProfileIn(BaseModel):
    """One month of a benefit's profile as written by PUT (omitted values become empty)."""

    model_config = ConfigDict(extra="forbid")
    planned: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    forecast: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    actual: Decimal | None = Field(None, max_digits=18, decimal_places=2)
    currency: SafeStr | None = Field(None, pattern=r"^[A-Z]{3}$")


class ProfileOut(ProfileRow):
    benefit: str
    updated_at: dt.datetime | None = None


MonthPath = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def _profile(s: Session, scope: Scope, code: str, month: dt.date) -> ProfileOut | None:
    row = s.execute(
        select(
            Benefit.code.label("benefit"),
            BenefitProfile.period,
            BenefitProfile.planned,
            BenefitProfile.forecast,
            BenefitProfile.actual,
            BenefitProfile.currency,
            BenefitProfile.updated_at,
        )
        .join(Benefit, Benefit.id == BenefitProfile.benefit_id)
        .where(scope.benefits, Benefit.code == code, BenefitProfile.period == month)
    ).first()
    return ProfileOut.model_validate(aware(row)) if row is not None else None


def _row_code(code: str, period: str) -> str:
    """The profile row's own code: ``BP-<benefit>-<YYYY-MM>``, or a digest of the benefit's code
    where that would not fit the 64 characters a code may have."""
    plain = f"BP-{code}-{period}"
    if len(plain) <= 64:
        return plain
    return f"BP-{hashlib.sha256(code.encode()).hexdigest()[:24]}-{period}"


def _month_of(period: str) -> dt.date:
    try:
        return dt.date(int(period[:4]), int(period[5:7]), 1)
    except ValueError:
        raise Problem(422, f"field 'period': {period} is not a month") from None


@router.get("/{code}/profile/{period}", response_model=ProfileOut, responses={404: {}})
def get_profile_month(code: CodePath, period: MonthPath, st: StateDep, user: UserDep) -> Any:
    """One month of a benefit's profile, with its ETag."""
    with scoped_read(st, user) as (s, scope):
        row = _profile(s, scope, code, _month_of(period))
    if row is None:
        raise not_found("benefit profile", f"{code} {period}")
    return JSONResponse(
        row.model_dump(mode="json"), headers={"ETag": etag_of(row.model_dump(mode="json"))}
    )


@router.put("/{code}/profile/{period}", response_model=ProfileOut, responses=PUT_RESPONSES)
def put_profile_month(
    code: CodePath,
    period: MonthPath,
    body: ProfileIn,
    request: Request,
    st: StateDep,
    user: UserDep,
    if_match: IfMatch = None,
) -> Any:
    """Create or replace one month of a benefit's profile (If-Match to replace; 412 with the
    current one if stale). Benefit writers only, on benefits they may change."""
    month = _month_of(period)
    with st.writing() as s:
        scope = scope_for(s, user)
        benefit_id = s.scalar(select(Benefit.id).where(Benefit.code == code, scope.benefits))
        if benefit_id is None:
            raise not_found("benefit", code)
        if not scope.may_write_benefits():
            raise Problem(403, f"your role ({user.role.value}) may not change benefits")
        row = s.scalar(
            select(BenefitProfile)
            .where(BenefitProfile.benefit_id == benefit_id, BenefitProfile.period == month)
            .with_for_update()
        )
        before = _profile(s, scope, code, month)
        if row is not None and before is not None:
            current = before
            claim_version(
                s,
                BenefitProfile,
                row,
                if_match,
                etag_of(current.model_dump(mode="json")),
                lambda: Problem(
                    412,
                    f"benefit profile {code} {period} changed since you read it",
                    headers={"ETag": etag_of(current.model_dump(mode="json"))},
                    current=current.model_dump(mode="json"),
                ),
            )
        if row is None:
            row = BenefitProfile(code=_row_code(code, period), benefit_id=benefit_id, period=month)
            s.add(row)
        for name, value in body.model_dump().items():
            setattr(row, name, value)
        row.written_by = user.email
        flush_or_conflict(s, f"benefit profile {code} {period} was written meanwhile")
        after = _profile(s, scope, code, month)
        assert after is not None
        audited(
            s,
            request,
            user,
            kind="benefit_profile",
            code=f"{code}/{period}",
            before=before,
            after=after,
        )
    return written(after, created=before is None, etag=etag_of(after.model_dump(mode="json")))
