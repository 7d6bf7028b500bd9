"""Metrics: the measures defined, and a measure's harmonised series at a grain (day … fiscal
year) with its targets and RAG, as the metrics service computes them (``bigov metrics
values``). A series for the whole organisation is for those who see the organisation; a unit's
series for anyone scoped to that unit (or a unit above it)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from bigov.api.common import CODE_RE, CodePath
from bigov.auth.scope import Scope, unit_subtree
from bigov.metrics.calendar import Grain
from bigov.metrics.schemas import PeriodValue
from bigov.org.models import OrgUnit
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem

router = APIRouter(prefix="/metrics", tags=["metrics"])


class MeasureOut(BaseModel):
    code: str
    name: str
    unit: str | None
    owner: str | None
    frequency: str
    time_aggregation: str
    org_rollup: str
    direction: str
    grains: list[str]
    entity_kind: str | None
    entity_code: str | None


@router.get("/measures", response_model=list[MeasureOut])
def list_measures(st: StateDep, user: UserDep) -> Any:
    """Every measure defined (reference data), by code."""
    from bigov.metrics.models import MetricMeasure

    with st.ws.session() as s:
        return [
            MeasureOut(
                code=m.code,
                name=m.name,
                unit=m.unit,
                owner=m.owner,
                frequency=m.frequency.value,
                time_aggregation=m.time_aggregation.value,
                org_rollup=m.org_rollup.value,
                direction=m.direction.value,
                grains=[g.strip() for g in m.grains.split(",") if g.strip()],
                entity_kind=m.entity_kind,
                entity_code=m.entity_code,
            )
            for m in s.scalars(select(MetricMeasure).order_by(MetricMeasure.code))
        ]


def _may_read_unit(st: StateDep, scope: Scope, org: str | None) -> None:
    if scope.organisation:
        return
    if org is None:
        raise Problem(
            403,
            "a measure across the whole organisation needs the admin or pmo role or a seat on "
            "a board that governs it; ask for one of your units with `org`",
        )
    units = scope.principal.unit_ids
    with st.ws.session() as s:
        mine = (
            s.scalar(
                select(OrgUnit.id).where(
                    OrgUnit.code == org, OrgUnit.id.in_(select(unit_subtree(units).c.id))
                )
            )
            if units
            else None
        )
    if mine is None:
        # the same answer for an unknown unit and one outside your scope
        raise Problem(404, f"no organisation unit {org}")


@router.get("/measures/{code}/values", response_model=list[PeriodValue])
def measure_values(
    code: CodePath,
    st: StateDep,
    user: UserDep,
    grain: Grain = Grain.MONTH,
    org: Annotated[
        str | None, Query(pattern=CODE_RE, description="An org unit (and the units below).")
    ] = None,
    as_at: Annotated[dt.date | None, Query(description="As known at (default now).")] = None,
    start: Annotated[dt.date | None, Query(description="First period start (local).")] = None,
    end: Annotated[dt.date | None, Query(description="Period starts before this.")] = None,
) -> Any:
    """The measure per period at `grain`, with target, variance and RAG (404 for an unknown
    measure)."""
    with scoped_read(st, user) as (_, scope):
        _may_read_unit(st, scope, org)
    return st.ws.metrics.values(
        code,
        grain=grain,
        org=org,
        as_at=as_at,
        start=dt.datetime.combine(start, dt.time()) if start else None,
        end=dt.datetime.combine(end, dt.time()) if end else None,
    )
