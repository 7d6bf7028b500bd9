"""RAID logs (risks, actions, issues, decisions, assumptions), scoped through what each entry
concerns: work or benefits in the user's scope, or the log of a node whose cycles they see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import aliased

from bigov.api.common import (
    CodePath,
    Cursor,
    Limit,
    SafeStr,
    after_code,
    next_page,
    not_found,
    where_given,
)
from bigov.auth.scope import Scope
from bigov.benefits.models import Benefit
from bigov.governance.models import GovernanceNode
from bigov.org.models import Person
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.work.models import WorkItem

router = APIRouter(prefix="/raid", tags=["raid"])
Item = aliased(WorkItem, name="raid_work_item")
Ben = aliased(Benefit, name="raid_benefit")


class RaidOut(BaseModel):
    code: str
    kind: RaidKind
    title: str
    status: RaidStatus
    owner: str | None
    work_item: str | None
    benefit: str | None
    node: str | None
    probability: int | None
    impact: int | None
    due_on: dt.date | None
    closed_on: dt.date | None


class RaidPage(BaseModel):
    items: list[RaidOut]
    next_cursor: str | None


def raid_scope(scope: Scope) -> ColumnElement[bool]:
    """An entry is visible when what it concerns is: its work item, its benefit or its node."""
    if scope.node_ids is None:
        return true()
    nodes = RaidItem.node_id.in_(sorted(scope.node_ids)) if scope.node_ids else false()
    work = RaidItem.work_item_id.in_(select(WorkItem.id).where(scope.work))
    benefits = RaidItem.benefit_id.in_(select(Benefit.id).where(scope.benefits))
    return or_(work, benefits, nodes)


def _query(scope: Scope) -> Any:
    return (
        select(
            RaidItem.code,
            RaidItem.kind,
            RaidItem.title,
            RaidItem.status,
            Person.code.label("owner"),
            Item.code.label("work_item"),
            Ben.code.label("benefit"),
            GovernanceNode.code.label("node"),
            RaidItem.probability,
            RaidItem.impact,
            RaidItem.due_on,
            RaidItem.closed_on,
        )
        .outerjoin(Person, Person.id == RaidItem.owner_id)
        .outerjoin(Item, Item.id == RaidItem.work_item_id)
        .outerjoin(Ben, Ben.id == RaidItem.benefit_id)
        .outerjoin(GovernanceNode, GovernanceNode.id == RaidItem.node_id)
        .where(raid_scope(scope))
    )


@router.get("", response_model=RaidPage)
def list_raid(
    st: StateDep,
    user: UserDep,
    kind: RaidKind | None = None,
    status: RaidStatus | None = None,
    work_item: Annotated[SafeStr | None, Query(max_length=64)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """RAID entries you may see, by code, a page at a time."""
    with scoped_read(st, user) as (s, scope):
        q = where_given(
            _query(scope),
            (RaidItem.kind, kind),
            (RaidItem.status, status),
            (Item.code, work_item),
        )
        after = after_code(cursor, RaidItem.code)
        if after is not None:
            q = q.where(after)
        rows = [
            RaidOut.model_validate(dict(r._mapping))
            for r in s.execute(q.order_by(RaidItem.code).limit(limit + 1))
        ]
    rows, nxt = next_page(rows, limit, lambda last: [last.code])
    return RaidPage(items=rows, next_cursor=nxt)


@router.get("/{code}", response_model=RaidOut, responses={404: {}})
def get_raid(code: CodePath, st: StateDep, user: UserDep) -> Any:
    with scoped_read(st, user) as (s, scope):
        row = s.execute(_query(scope).where(RaidItem.code == code)).first()
    if row is None:
        raise not_found("RAID entry", code)
    return RaidOut.model_validate(dict(row._mapping))
