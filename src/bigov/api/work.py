"""Work items and their status reports: scoped lists with filters, sorting and cursor pages;
detail by code with an ETag; PUT upserts guarded by If-Match (412 with the current version when
stale), each write audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session, aliased

from bigov.api.common import (
    PUT_RESPONSES,
    CodePath,
    Cursor,
    IfMatch,
    Limit,
    SafeStr,
    after_period_code,
    audited,
    aware,
    claim_version,
    decode_cursor,
    etag_of,
    flush_or_conflict,
    next_page,
    not_found,
    resolve_code,
    where_given,
    written,
)
from bigov.auth.scope import Scope, scope_for
from bigov.governance.models import GovernanceNode
from bigov.org.models import OrgUnit, Person
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem
from bigov.work.models import (
    Category,
    Confidence,
    Nature,
    Phase,
    Rag,
    StatusReport,
    WorkItem,
    WorkKind,
)
from bigov.work.schemas import StatusReportIn

router = APIRouter(tags=["work"])

Parent = aliased(WorkItem, name="parent_item")
Owner = aliased(Person, name="owner_person")


class WorkItemIn(BaseModel):
    """A work item as written by PUT (the whole item: omitted fields become empty)."""

    model_config = ConfigDict(extra="forbid")
    name: SafeStr = Field(min_length=1, max_length=255)
    kind: WorkKind
    parent: SafeStr | None = Field(None, max_length=64, description="Code of the parent item.")
    nature: Nature = Nature.CHANGE
    category: Category = Category.TRANSFORM
    phase: Phase = Phase.IDENTIFICATION
    description: SafeStr | None = Field(None, max_length=20000)
    owner: SafeStr | None = Field(None, max_length=64, description="Code of the SRO (a person).")
    governing_node: SafeStr | None = Field(None, max_length=64)
    org_unit: SafeStr | None = Field(None, max_length=64)
    baseline_start: dt.date | None = None
    baseline_finish: dt.date | None = None
    forecast_start: dt.date | None = None
    forecast_finish: dt.date | None = None
    actual_start: dt.date | None = None
    actual_finish: dt.date | None = None
    percent_complete: Decimal | None = Field(None, ge=0, le=100, decimal_places=2)
    whole_life_cost: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)


class WorkItemOut(BaseModel):
    code: str
    name: str
    kind: WorkKind
    parent: str | None
    nature: Nature
    category: Category
    phase: Phase
    description: str | None
    owner: str | None
    governing_node: str | None
    org_unit: str | None
    baseline_start: dt.date | None
    baseline_finish: dt.date | None
    forecast_start: dt.date | None
    forecast_finish: dt.date | None
    actual_start: dt.date | None
    actual_finish: dt.date | None
    percent_complete: Decimal | None
    whole_life_cost: Decimal | None
    updated_at: dt.datetime | None


class WorkItemPage(BaseModel):
    items: list[WorkItemOut]
    next_cursor: str | None


COLUMNS = (
    WorkItem.code,
    WorkItem.name,
    WorkItem.kind,
    Parent.code.label("parent"),
    WorkItem.nature,
    WorkItem.category,
    WorkItem.phase,
    WorkItem.description,
    Owner.code.label("owner"),
    GovernanceNode.code.label("governing_node"),
    OrgUnit.code.label("org_unit"),
    WorkItem.baseline_start,
    WorkItem.baseline_finish,
    WorkItem.forecast_start,
    WorkItem.forecast_finish,
    WorkItem.actual_start,
    WorkItem.actual_finish,
    WorkItem.percent_complete,
    WorkItem.whole_life_cost,
    WorkItem.updated_at,
)
SORTS: dict[str, Any] = {
    "code": WorkItem.code,
    "name": WorkItem.name,
    "kind": WorkItem.kind,
    "phase": WorkItem.phase,
    "nature": WorkItem.nature,
}
SortParam = Literal[
    "code", "-code", "name", "-name", "kind", "-kind", "phase", "-phase", "nature", "-nature"
]


def item_query(scope: Scope) -> Select[*tuple[Any, ...]]:
    """Work items with their references as codes, in the user's scope: one statement."""
    return (
        select(*COLUMNS)
        .outerjoin(Parent, Parent.id == WorkItem.parent_id)
        .outerjoin(Owner, Owner.id == WorkItem.owner_id)
        .outerjoin(GovernanceNode, GovernanceNode.id == WorkItem.governing_node_id)
        .outerjoin(OrgUnit, OrgUnit.id == WorkItem.org_unit_id)
        .where(scope.work)
    )


def _out(row: Any) -> WorkItemOut:
    return WorkItemOut.model_validate(aware(row))


def _etag(item: WorkItemOut) -> str:
    return etag_of(item.model_dump(mode="json"))


@router.get("/work-items", response_model=WorkItemPage)
def list_work_items(
    st: StateDep,
    user: UserDep,
    kind: WorkKind | None = None,
    phase: Phase | None = None,
    nature: Nature | None = None,
    category: Category | None = None,
    parent: Annotated[SafeStr | None, Query(max_length=64)] = None,
    unit: Annotated[
        SafeStr | None, Query(max_length=64, description="Org unit code (exact).")
    ] = None,
    sort: SortParam = "code",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Work items in your scope, filtered, sorted (`-` for descending) and a page at a time."""
    key = sort.lstrip("-")
    desc = sort.startswith("-")
    column = SORTS[key]
    with scoped_read(st, user) as (s, scope):
        q = where_given(
            item_query(scope),
            (WorkItem.kind, kind),
            (WorkItem.phase, phase),
            (WorkItem.nature, nature),
            (WorkItem.category, category),
            (Parent.code, parent),
            (OrgUnit.code, unit),
        )
        if cursor is not None:
            last_value, last_code = decode_cursor(cursor, 2)
            pair = tuple_(column, WorkItem.code)
            q = q.where(
                pair < tuple_(last_value, last_code)
                if desc
                else pair > tuple_(last_value, last_code)
            )
        order = [column.desc(), WorkItem.code.desc()] if desc else [column, WorkItem.code]
        rows = [_out(r) for r in s.execute(q.order_by(*order).limit(limit + 1))]
    rows, nxt = next_page(rows, limit, lambda last: [last.model_dump(mode="json")[key], last.code])
    return WorkItemPage(items=rows, next_cursor=nxt)


def _read_one(s: Session, scope: Scope, code: str, *, lock: bool = False) -> WorkItemOut | None:
    q = item_query(scope).where(WorkItem.code == code)
    if lock:
        # PostgreSQL: hold the row until commit so a concurrent PUT waits and then sees our
        # version (and gets 412); SQLite serialises writes with the server's write lock
        q = q.with_for_update(of=WorkItem)
    row = s.execute(q).first()
    return _out(row) if row is not None else None


@router.get("/work-items/{code}", response_model=WorkItemOut, responses={404: {}})
def get_work_item(code: CodePath, st: StateDep, user: UserDep) -> Any:
    """One work item by code, with its ETag (404 when absent or outside your scope)."""
    with scoped_read(st, user) as (s, scope):
        item = _read_one(s, scope, code)
    if item is None:
        raise not_found("work item", code)
    return JSONResponse(item.model_dump(mode="json"), headers={"ETag": _etag(item)})


def _is_ancestor(s: Session, item_id: int, parent_id: int) -> bool:
    """True when ``item_id`` is ``parent_id`` or one of its ancestors (the PUT would loop)."""
    up = (
        select(WorkItem.id, WorkItem.parent_id)
        .where(WorkItem.id == parent_id)
        .cte("ancestors", recursive=True)
    )
    up = up.union(select(WorkItem.id, WorkItem.parent_id).join(up, WorkItem.id == up.c.parent_id))
    return s.scalar(select(up.c.id).where(up.c.id == item_id)) is not None


@router.put(
    "/work-items/{code}",
    response_model=WorkItemOut,
    responses=PUT_RESPONSES,
)
def put_work_item(
    code: CodePath,
    body: WorkItemIn,
    request: Request,
    st: StateDep,
    user: UserDep,
    if_match: IfMatch = None,
) -> Any:
    """Create or replace a work item. Replacing needs `If-Match` with the ETag you read: a
    stale one answers 412 with the current version, so no edit is silently overwritten."""
    with st.writing() as s:
        scope = scope_for(s, user)
        current = _read_one(s, scope, code, lock=True)
        exists = current is not None or (
            s.scalar(select(WorkItem.id).where(WorkItem.code == code)) is not None
        )
        if exists and current is None:
            raise not_found("work item", code)
        if not scope.may_write_work():
            raise Problem(403, f"your role ({user.role.value}) may not change work items")
        item = s.scalar(select(WorkItem).where(WorkItem.code == code))
        if current is not None and item is not None:
            before = current

            def lost() -> Problem:
                latest = _read_one(s, scope, code)
                assert latest is not None
                return _stale(code, latest)

            claim_version(
                s, WorkItem, item, if_match, _etag(before), lambda: _stale(code, before), lost
            )
        refs = {
            "parent_id": resolve_code(s, WorkItem, body.parent, "parent"),
            "owner_id": resolve_code(s, Person, body.owner, "owner"),
            "governing_node_id": resolve_code(
                s, GovernanceNode, body.governing_node, "governing_node"
            ),
            "org_unit_id": resolve_code(s, OrgUnit, body.org_unit, "org_unit"),
        }
        fields = body.model_dump(exclude={"parent", "owner", "governing_node", "org_unit"})
        if item is None:
            item = WorkItem(code=code)
            s.add(item)
        elif refs["parent_id"] is not None and _is_ancestor(s, item.id, refs["parent_id"]):
            raise Problem(422, f"field 'parent': {body.parent} is {code} or lies below it")
        for name, value in {**fields, **refs}.items():
            setattr(item, name, value)
        item.written_by = user.email
        # two creates of one new code at once: the other committed first
        flush_or_conflict(s, f"work item {code} was created meanwhile; read it and retry")
        after = _read_one(s, scope, code)
        if after is None:
            # the write would put the item outside what this user may change
            s.rollback()
            raise Problem(403, f"work item {code} would fall outside your scope")
        audited(s, request, user, kind="work_item", code=code, before=current, after=after)
    return written(after, created=current is None, etag=_etag(after))


def _stale(code: str, latest: WorkItemOut) -> Problem:
    # the current version rides along (with its ETag) so the client can merge and retry
    return Problem(
        412,
        f"work item {code} changed since you read it",
        headers={"ETag": _etag(latest)},
        current=latest.model_dump(mode="json"),
    )


# -- status reports ---------------------------------------------------------------------------
class StatusReportOut(BaseModel):
    work_item: str
    period: dt.date
    confidence: Confidence | None
    overall: Rag | None
    schedule: Rag | None
    cost: Rag | None
    scope: Rag | None
    benefits: Rag | None
    risk: Rag | None
    resources: Rag | None
    narrative: str | None
    reported_on: dt.date | None


class StatusReportPage(BaseModel):
    items: list[StatusReportOut]
    next_cursor: str | None


REPORT_COLUMNS = (
    WorkItem.code.label("work_item"),
    StatusReport.period,
    StatusReport.confidence,
    StatusReport.overall,
    StatusReport.schedule,
    StatusReport.cost,
    StatusReport.scope,
    StatusReport.benefits,
    StatusReport.risk,
    StatusReport.resources,
    StatusReport.narrative,
    StatusReport.reported_on,
)


@router.get("/status-reports", response_model=StatusReportPage, tags=["status"])
def list_status_reports(
    st: StateDep,
    user: UserDep,
    work_item: Annotated[SafeStr | None, Query(max_length=64)] = None,
    period: Annotated[dt.date | None, Query(description="A month start, e.g. 2026-09-01.")] = None,
    confidence: Confidence | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Status reports of work in your scope, newest period first, then by item code."""
    with scoped_read(st, user) as (s, scope):
        q = where_given(
            select(*REPORT_COLUMNS)
            .join(WorkItem, WorkItem.id == StatusReport.work_item_id)
            .where(scope.work),
            (WorkItem.code, work_item),
            (StatusReport.period, period),
            (StatusReport.confidence, confidence),
        )
        after = after_period_code(cursor, StatusReport.period, WorkItem.code, newest_first=True)
        if after is not None:
            q = q.where(after)
        q = q.order_by(StatusReport.period.desc(), WorkItem.code).limit(limit + 1)
        rows = [StatusReportOut.model_validate(dict(r._mapping)) for r in s.execute(q)]
    rows, nxt = next_page(rows, limit, lambda last: [last.period.isoformat(), last.work_item])
    return StatusReportPage(items=rows, next_cursor=nxt)


PeriodPath = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def _month(period: str) -> dt.date:
    try:
        return dt.date(int(period[:4]), int(period[5:7]), 1)
    except ValueError:
        raise Problem(422, f"field 'period': {period} is not a month") from None


def _report(s: Session, scope: Scope, code: str, period: dt.date) -> StatusReportOut | None:
    row = s.execute(
        select(*REPORT_COLUMNS, StatusReport.updated_at)
        .join(WorkItem, WorkItem.id == StatusReport.work_item_id)
        .where(scope.work, WorkItem.code == code, StatusReport.period == period)
    ).first()
    if row is None:
        return None
    return StatusReportOut.model_validate(dict(row._mapping))


def _report_etag(report: StatusReportOut, updated: dt.datetime | None) -> str:
    if updated is not None and updated.tzinfo is None:
        updated = updated.replace(tzinfo=dt.UTC)  # SQLite hands UTC back naive
    stamp = updated.isoformat() if updated is not None else None
    return etag_of({**report.model_dump(mode="json"), "updated_at": stamp})


@router.put(
    "/work-items/{code}/status-reports/{period}",
    response_model=StatusReportOut,
    tags=["status"],
    responses=PUT_RESPONSES,
)
def put_status_report(
    code: CodePath,
    period: PeriodPath,
    body: StatusReportIn,
    request: Request,
    st: StateDep,
    user: UserDep,
    if_match: IfMatch = None,
) -> Any:
    """Create or replace a work item's status report for a month (If-Match to replace)."""
    month = _month(period)
    with st.writing() as s:
        scope = scope_for(s, user)
        item = _read_one(s, scope, code)
        if item is None:
            raise not_found("work item", code)
        if not scope.may_write_work():
            raise Problem(403, f"your role ({user.role.value}) may not change status reports")
        row = s.scalar(
            select(StatusReport)
            .join(WorkItem, WorkItem.id == StatusReport.work_item_id)
            .where(WorkItem.code == code, StatusReport.period == month)
            .with_for_update(of=StatusReport)
        )
        before = _report(s, scope, code, month)
        if row is not None and before is not None:
            current = before
            claim_version(
                s,
                StatusReport,
                row,
                if_match,
                _report_etag(current, row.updated_at),
                lambda: Problem(
                    412,
                    f"status report {code} {period} changed since you read it",
                    current=current.model_dump(mode="json"),
                ),
            )
        if row is None:
            item_id = s.scalar(select(WorkItem.id).where(WorkItem.code == code))
            row = StatusReport(code=f"SR-{code}-{period}", work_item_id=item_id, period=month)
            s.add(row)
        for name, value in body.model_dump().items():
            setattr(row, name, value)
        row.written_by = user.email
        flush_or_conflict(s, f"status report {code} {period} was written meanwhile")
        after = _report(s, scope, code, month)
        assert after is not None
        audited(
            s,
            request,
            user,
            kind="status_report",
            code=f"{code}/{period}",
            before=before,
            after=after,
        )
        tag = _report_etag(after, row.updated_at)
    return written(after, created=before is None, etag=tag)


@router.get(
    "/work-items/{code}/status-reports/{period}",
    response_model=StatusReportOut,
    tags=["status"],
    responses={404: {}},
)
def get_status_report(code: CodePath, period: PeriodPath, st: StateDep, user: UserDep) -> Any:
    """One status report with its ETag."""
    month = _month(period)
    with scoped_read(st, user) as (s, scope):
        report = _report(s, scope, code, month)
        updated = s.scalar(
            select(StatusReport.updated_at)
            .join(WorkItem, WorkItem.id == StatusReport.work_item_id)
            .where(WorkItem.code == code, StatusReport.period == month)
        )
    if report is None:
        raise not_found("status report", f"{code} {period}")
    return JSONResponse(
        report.model_dump(mode="json"), headers={"ETag": _report_etag(report, updated)}
    )


__all__ = ["router"]
