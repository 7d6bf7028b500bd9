"""The organisation structure (units) and the strategy (OTIGs and current OTCs): reference
data every signed-in user may read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import aliased

from bigov.org.models import OrgUnit, Person
from bigov.server.deps import StateDep, UserDep
from bigov.strategy.models import Otc, Otig

router = APIRouter(tags=["org", "strategy"])
ParentUnit = aliased(OrgUnit, name="parent_unit")


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    parent: str | None
    cost_centre: str | None


class OtigOut(BaseModel):
    code: str
    name: str
    kind: str
    owner: str | None


class OtcOut(BaseModel):
    code: str
    kind: str
    title: str
    status: str
    version: int
    owner: str | None


@router.get("/org/units", response_model=list[UnitOut])
def list_units(st: StateDep, user: UserDep) -> Any:
    """Every organisation unit with its parent, by code."""
    with st.ws.session() as s:
        rows = s.execute(
            select(
                OrgUnit.code,
                OrgUnit.name,
                OrgUnit.kind,
                ParentUnit.code.label("parent"),
                OrgUnit.cost_centre,
            )
            .outerjoin(ParentUnit, ParentUnit.id == OrgUnit.parent_id)
            .order_by(OrgUnit.code)
        )
        return [UnitOut(**{**r._mapping, "kind": r.kind.value}) for r in rows]


@router.get("/strategy/otigs", response_model=list[OtigOut])
def list_otigs(st: StateDep, user: UserDep) -> Any:
    """The board's opportunities, threats, imperatives and goals."""
    with st.ws.session() as s:
        rows = s.execute(
            select(Otig.code, Otig.name, Otig.kind, Person.code.label("owner"))
            .outerjoin(Person, Person.id == Otig.owner_id)
            .order_by(Otig.code)
        )
        return [OtigOut(**{**r._mapping, "kind": r.kind.value}) for r in rows]


@router.get("/strategy/otcs", response_model=list[OtcOut])
def list_otcs(st: StateDep, user: UserDep) -> Any:
    """Objectives, targets and challenges at their current version."""
    with st.ws.session() as s:
        rows = s.execute(
            select(
                Otc.code, Otc.kind, Otc.title, Otc.status, Otc.version, Person.code.label("owner")
            )
            .outerjoin(Person, Person.id == Otc.owner_id)
            .order_by(Otc.code)
        )
        return [
            OtcOut(**{**r._mapping, "kind": r.kind.value, "status": r.status.value}) for r in rows
        ]
