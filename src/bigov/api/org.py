"""The organisation structure (units) and the strategy (OTIGs and current OTCs): reference
data every signed-in user may read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import aliased

from bigov.org.models import OrgUnit, Person
from bigov.server.deps import ServerState, StateDep, UserDep
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


def _listed(st: ServerState, q: Any, out: type[BaseModel], *enums: str) -> list[Any]:
    """Every row of ``q`` as ``out``, the ``enums`` columns by their value."""
    with st.ws.session() as s:
        return [
            out(**{**r._mapping, **{name: getattr(r, name).value for name in enums}})
            for r in s.execute(q)
        ]


@router.get("/org/units", response_model=list[UnitOut])
def list_units(st: StateDep, user: UserDep) -> Any:
    """Every organisation unit with its parent, by code."""
    q = (
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
    return _listed(st, q, UnitOut, "kind")


def _owned(
    st: ServerState, model: Any, out: type[BaseModel], columns: tuple[Any, ...], enums: str
) -> list[Any]:
    """Every ``model`` row (``columns`` and its owner's code) by code, as ``out``."""
    q = (
        select(*columns, Person.code.label("owner"))
        .outerjoin(Person, Person.id == model.owner_id)
        .order_by(model.code)
    )
    return _listed(st, q, out, *enums.split())


@router.get("/strategy/otigs", response_model=list[OtigOut])
def list_otigs(st: StateDep, user: UserDep) -> Any:
    """The board's opportunities, threats, imperatives and goals."""
    return _owned(st, Otig, OtigOut, (Otig.code, Otig.name, Otig.kind), "kind")


@router.get("/strategy/otcs", response_model=list[OtcOut])
def list_otcs(st: StateDep, user: UserDep) -> Any:
    """Objectives, targets and challenges at their current version."""
    columns = (Otc.code, Otc.kind, Otc.title, Otc.status, Otc.version)
    return _owned(st, Otc, OtcOut, columns, "kind status")
