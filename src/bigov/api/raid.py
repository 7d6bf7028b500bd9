"""RAID logs (risks, actions, issues, decisions, assumptions), scoped through what each entry
concerns: work or benefits in the user's scope, or the log of a node whose cycles they see.

Decisions and actions are RAID entries too (kind ``decision`` / ``action``), usually in a
board's own log: a board member records them on the nodes they sit on. Writes are PUT upserts
guarded by If-Match, like every other (:mod:`bigov.api.common`). Who may write an entry:
admin and pmo any; a manager those on work they may change; a benefit owner those on their
benefits; a board member those in the logs of their nodes (and the nodes below them)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, false, or_, select, true
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
from bigov.auth.models import UserRole
from bigov.auth.scope import Scope, scope_for
from bigov.benefits.models import Benefit
from bigov.governance.models import GovernanceNode
from bigov.org.models import Person
from bigov.raid.models import RaidItem, RaidKind, RaidStatus
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem
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
    updated_at: dt.datetime | None = None


class RaidIn(BaseModel):
    """A RAID entry as written by PUT (the whole entry: omitted fields become empty). It
    concerns a work item, a benefit or a node's own log (at least one)."""

    model_config = ConfigDict(extra="forbid")
    kind: RaidKind
    title: SafeStr = Field(min_length=1, max_length=255)
    description: SafeStr | None = Field(None, max_length=20000)
    status: RaidStatus = RaidStatus.OPEN
    owner: SafeStr | None = Field(None, max_length=64, description="Code of a person.")
    work_item: SafeStr | None = Field(None, max_length=64)
    benefit: SafeStr | None = Field(None, max_length=64)
    node: SafeStr | None = Field(None, max_length=64, description="A governance node's log.")
    probability: int | None = Field(None, ge=1, le=5)
    impact: int | None = Field(None, ge=1, le=5)
    proximity: dt.date | None = None
    raised_on: dt.date | None = None
    due_on: dt.date | None = None
    closed_on: dt.date | None = None
    response: SafeStr | None = Field(None, max_length=20000)


def raid_write_scope(scope: Scope) -> ColumnElement[bool]:
    """The entries the user may change (a subset of those they see)."""
    if scope.node_ids is None:
        return true()
    if scope.role is UserRole.MANAGER:
        return RaidItem.work_item_id.in_(select(WorkItem.id).where(scope.work))
    if scope.role is UserRole.BENEFIT_OWNER:
        return RaidItem.benefit_id.in_(select(Benefit.id).where(scope.benefits))
    if scope.role is UserRole.BOARD_MEMBER and scope.node_ids:
        return RaidItem.node_id.in_(sorted(scope.node_ids))
    return false()


RAID_WRITERS = frozenset(
    {UserRole.ADMIN, UserRole.PMO, UserRole.MANAGER, UserRole.BENEFIT_OWNER, UserRole.BOARD_MEMBER}
)


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
            RaidItem.updated_at,
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
            RaidOut.model_validate(aware(r))
            for r in s.execute(q.order_by(RaidItem.code).limit(limit + 1))
        ]
    rows, nxt = next_page(rows, limit, lambda last: [last.code])
    return RaidPage(items=rows, next_cursor=nxt)


def _read(s: Session, scope: Scope, code: str) -> RaidOut | None:
    row = s.execute(_query(scope).where(RaidItem.code == code)).first()
    return RaidOut.model_validate(aware(row)) if row is not None else None


def _etag(entry: RaidOut) -> str:
    return etag_of(entry.model_dump(mode="json"))


@router.get("/{code}", response_model=RaidOut, responses={404: {}})
def get_raid(code: CodePath, st: StateDep, user: UserDep) -> Any:
    """One RAID entry with its ETag."""
    with scoped_read(st, user) as (s, scope):
        entry = _read(s, scope, code)
    if entry is None:
        raise not_found("RAID entry", code)
    return JSONResponse(entry.model_dump(mode="json"), headers={"ETag": _etag(entry)})


@router.put("/{code}", response_model=RaidOut, responses=PUT_RESPONSES)
def put_raid(
    code: CodePath,
    body: RaidIn,
    request: Request,
    st: StateDep,
    user: UserDep,
    if_match: IfMatch = None,
) -> Any:
    """Create or replace a RAID entry — a risk, issue, assumption, or a board's decision or
    action (If-Match to replace; 412 with the current one if stale)."""
    if body.work_item is None and body.benefit is None and body.node is None:
        raise Problem(422, "field 'work_item': give the work item, benefit or node it concerns")
    with st.writing() as s:
        scope = scope_for(s, user)
        row = s.scalar(select(RaidItem).where(RaidItem.code == code).with_for_update())
        current = _read(s, scope, code)
        if row is not None and current is None:
            raise not_found("RAID entry", code)
        if user.role not in RAID_WRITERS:
            raise Problem(403, f"your role ({user.role.value}) may not change RAID entries")
        if row is not None and current is not None:
            before = current
            if (
                s.scalar(select(RaidItem.id).where(RaidItem.id == row.id, raid_write_scope(scope)))
                is None
            ):
                raise Problem(403, f"RAID entry {code} is not one you may change")
            claim_version(
                s,
                RaidItem,
                row,
                if_match,
                _etag(before),
                lambda: Problem(
                    412,
                    f"RAID entry {code} changed since you read it",
                    headers={"ETag": _etag(before)},
                    current=before.model_dump(mode="json"),
                ),
            )
        refs = {
            "owner_id": resolve_code(s, Person, body.owner, "owner"),
            "work_item_id": resolve_code(s, WorkItem, body.work_item, "work_item"),
            "benefit_id": resolve_code(s, Benefit, body.benefit, "benefit"),
            "node_id": resolve_code(s, GovernanceNode, body.node, "node"),
        }
        if row is None:
            row = RaidItem(code=code)
            s.add(row)
        fields = body.model_dump(exclude={"owner", "work_item", "benefit", "node"})
        for name, value in {**fields, **refs}.items():
            setattr(row, name, value)
        row.written_by = user.email
        flush_or_conflict(s, f"RAID entry {code} was created meanwhile; read it and retry")
        allowed = s.scalar(
            select(RaidItem.id).where(RaidItem.id == row.id, raid_write_scope(scope))
        )
        after = _read(s, scope, code)
        if after is None or allowed is None:
            # the write would put the entry outside what this user may change
            s.rollback()
            raise Problem(403, f"RAID entry {code} would fall outside what you may change")
        audited(s, request, user, kind="raid_item", code=code, before=current, after=after)
    return written(after, created=current is None, etag=_etag(after))
