"""Analysis over the whole organisation: roll-ups, benefits realisation, balance, attainment and
alignment gaps, as the analysis services compute them (nothing is added up here).

An answer is computed once per data version and kept for every server process
(:mod:`bigov.db.answers`): the same question asked again before any write is read back, so an
organisation-wide roll-up costs one indexed read instead of a pass over all the work. The
``X-Answer`` header says ``kept`` or ``computed``.

Organisation-wide answers are for those who see the organisation (admin, PMO, members of a
board that governs everything); a roll-up of one item is for anyone who may read that item."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.api.common import CODE_RE, not_found
from bigov.auth.scope import Scope
from bigov.db.answers import kept_answer
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem
from bigov.work.models import WorkItem

router = APIRouter(prefix="/analysis", tags=["analysis"])
AsAt = Annotated[dt.date | None, Query(description="As-at date (default today).")]


def answer(
    st: StateDep, question: str, params: dict[str, Any], compute: Callable[[Session], Any]
) -> Response:
    """The kept answer to ``question`` (computed now if this data version has none yet)."""
    body, kept = kept_answer(st.ws.session, question, params, compute, st.answers)
    return Response(
        body,
        media_type="application/json",
        headers={"X-Answer": "kept" if kept else "computed"},
    )


def _organisation(scope: Scope) -> None:
    if not scope.organisation:
        raise Problem(
            403,
            "organisation-wide analysis needs the admin or pmo role, or a "
            "seat on a board that governs the whole organisation",
        )


@router.get("/rollup")
def rollup(
    st: StateDep,
    user: UserDep,
    root: Annotated[str | None, Query(pattern=CODE_RE)] = None,
    as_at: AsAt = None,
) -> Any:
    """Cost, schedule and confidence rolled up the work hierarchy (of `root`, or of all)."""
    from bigov.analysis.rollups import rollup as run

    with scoped_read(st, user) as (s, scope):
        if root is None:
            _organisation(scope)
        elif s.scalar(select(WorkItem.id).where(WorkItem.code == root, scope.work)) is None:
            raise not_found("work item", root)
    day = as_at or dt.date.today()
    return answer(st, "rollup", {"root": root, "as_at": day}, lambda s: run(s, root, as_at=day))


@router.get("/benefits")
def benefits(
    st: StateDep,
    user: UserDep,
    by: Literal["benefit", "owner", "unit", "otc", "portfolio"] = "benefit",
    as_at: AsAt = None,
) -> Any:
    """Benefits realisation: planned against forecast and actual, grouped `by`."""
    from bigov.analysis.benefits import realisation

    with scoped_read(st, user) as (_, scope):
        _organisation(scope)
    day = as_at or dt.date.today()
    return answer(
        st, "benefits", {"by": by, "as_at": day}, lambda s: realisation(s, by=by, as_at=day)
    )


@router.get("/balance")
def balance(st: StateDep, user: UserDep, as_at: AsAt = None) -> Any:
    """Run / grow / transform split of spend and FTE against the board's target."""
    from bigov.analysis.balance import balance as run

    with scoped_read(st, user) as (_, scope):
        _organisation(scope)
    day = as_at or dt.date.today()
    return answer(st, "balance", {"as_at": day}, lambda s: run(s, as_at=day))


@router.get("/attainment")
def attainment(
    st: StateDep,
    user: UserDep,
    otc: Annotated[str | None, Query(pattern=CODE_RE)] = None,
    as_at: AsAt = None,
) -> Any:
    """Attainment of each OTC (or one) against its key results' trajectories."""
    from bigov.analysis.attainment import attainment as run
    from bigov.analysis.attainment import metrics_source

    with scoped_read(st, user) as (_, scope):
        _organisation(scope)
    day = as_at or dt.date.today()

    def compute(s: Session) -> Any:
        rows = run(s, otc, as_at=day, measures=metrics_source(st.ws))
        return [r.model_dump(mode="json") for r in rows]

    return answer(st, "attainment", {"otc": otc, "as_at": day}, compute)


@router.get("/gaps")
def gaps(st: StateDep, user: UserDep, as_at: AsAt = None) -> Any:
    """Objectives nobody works on, work serving no objective, benefits with no owner, …"""
    from bigov.analysis.alignment import gaps as run

    with scoped_read(st, user) as (_, scope):
        _organisation(scope)
    day = as_at or dt.date.today()
    return answer(st, "gaps", {"as_at": day}, lambda s: run(s, as_at=day))


@router.get("/capacity")
def capacity(
    st: StateDep,
    user: UserDep,
    start: Annotated[dt.date | None, Query(description="First month (inclusive).")] = None,
    end: Annotated[dt.date | None, Query(description="Months before this.")] = None,
) -> Any:
    """Committed demand against capacity per skill × team × month and per skill × month, with
    what is over-allocated."""
    from bigov.analysis.resources import capacity as run

    with scoped_read(st, user) as (_, scope):
        _organisation(scope)
    return answer(
        st, "capacity", {"start": start, "end": end}, lambda s: run(s, start=start, end=end)
    )


@router.get("/capacity/what-if")
def capacity_what_if(
    st: StateDep,
    user: UserDep,
    work_item: Annotated[str, Query(pattern=CODE_RE)],
    start: Annotated[dt.date | None, Query(description="First month (inclusive).")] = None,
    end: Annotated[dt.date | None, Query(description="Months before this.")] = None,
) -> Any:
    """What starting `work_item` would do to capacity: its demand added to the committed."""
    from bigov.analysis.resources import what_if

    with scoped_read(st, user) as (s, scope):
        _organisation(scope)
        if s.scalar(select(WorkItem.id).where(WorkItem.code == work_item)) is None:
            raise not_found("work item", work_item)
    return answer(
        st,
        "capacity_what_if",
        {"work_item": work_item, "start": start, "end": end},
        lambda s: what_if(s, work_item, start=start, end=end),
    )
