"""Benefits (scoped list, detail with the profile by period)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import aliased

from bigov.api.common import CodePath, Cursor, Limit, decode_cursor, encode_cursor, not_found
from bigov.auth.scope import Scope
from bigov.benefits.models import (
    Benefit,
    BenefitCategory,
    BenefitKind,
    BenefitProfile,
    BenefitStatus,
)
from bigov.org.models import ManagementTeam, OrgUnit, Person
from bigov.server.deps import StateDep, UserDep, scoped_read

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
    owner_unit: Annotated[str | None, Query(max_length=64)] = None,
    sort: Literal["code", "-code"] = "code",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Benefits in your scope, by code, a page at a time."""
    with scoped_read(st, user) as (s, scope):
        q = benefit_query(scope)
        if status is not None:
            q = q.where(Benefit.status == status)
        if category is not None:
            q = q.where(Benefit.category == category)
        if owner_unit is not None:
            q = q.where(OrgUnit.code == owner_unit)
        desc = sort == "-code"
        if cursor is not None:
            (last,) = decode_cursor(cursor, 1)
            q = q.where(
                tuple_(Benefit.code) < tuple_(str(last))
                if desc
                else tuple_(Benefit.code) > tuple_(str(last))
            )
        q = q.order_by(Benefit.code.desc() if desc else Benefit.code).limit(limit + 1)
        rows = [BenefitOut.model_validate(dict(r._mapping)) for r in s.execute(q)]
    more = len(rows) > limit
    rows = rows[:limit]
    return BenefitPage(items=rows, next_cursor=encode_cursor([rows[-1].code]) if more else None)


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
    return BenefitDetail(**dict(row._mapping), profile=profile)
