"""/datacalls: who owes what for each sitting. Reads are scoped (your own requests, and those on
the work, benefits and nodes in your scope); opening a call and verdicts are the PMO's; a
submission is its owner's (or a writer's in scope). Every write is audited in its own
transaction; a submission that replaces data needs ``If-Match`` with the version read."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bigov.api.common import (
    Cursor,
    IfMatch,
    Limit,
    SafeStr,
    audited,
    decode_cursor,
    next_page,
    not_found,
)
from bigov.auth.models import UserRole
from bigov.auth.scope import Scope, my_people, scope_for
from bigov.auth.service import Principal
from bigov.datacall import service as dc
from bigov.datacall.models import Channel, DataRequest, RequestKind, Verdict
from bigov.datacall.schemas import (
    BenefitSubmission,
    NodeBoard,
    OpenResult,
    Rates,
    RequestDetail,
    RequestOut,
    StatusSubmission,
)
from bigov.errors import ConflictError, NotFoundError
from bigov.governance.models import GovernanceNode
from bigov.server.deps import ServerState, StateDep, UserDep
from bigov.server.problems import Problem

router = APIRouter(prefix="/datacalls", tags=["datacalls"])

RequestCode = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,159}$", description="The request's code."),
]
PERIOD_RE = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD_RE, description="YYYY-MM")]
NodeCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
ASSURERS = frozenset({UserRole.ADMIN, UserRole.PMO})


class RequestPage(BaseModel):
    items: list[RequestOut]
    next_cursor: str | None


class OpenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str = Field(pattern=PERIOD_RE)
    node: SafeStr | None = Field(None, max_length=64)


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verdict: Literal["accepted", "returned"]
    comment: SafeStr | None = Field(None, max_length=4000)


def _visible(s: Session, user: Principal) -> tuple[Scope, ColumnElement[bool]]:
    scope = scope_for(s, user)
    return scope, dc.visible_requests(scope.work, scope.benefits, scope.node_ids, my_people(user))


@contextmanager
def _serialised(st: ServerState) -> Iterator[None]:
    # SQLite has one writer: the server's lock serialises writes as st.writing() does
    lock: threading.Lock | None = st.write_lock
    if lock is None:
        yield
        return
    with lock:
        yield


def _audit(request: Request, user: Principal, kind: str, code: str) -> dc.AuditHook:
    def hook(s: Session, before: BaseModel | None, after: BaseModel) -> None:
        audited(s, request, user, kind=kind, code=code, before=before, after=after)

    return hook


def _etag(version: str | None) -> str:
    return f'"{version or "none"}"'


@router.get("/requests", response_model=RequestPage)
def list_requests(
    st: StateDep,
    user: UserDep,
    period: PeriodQuery = None,
    node: Annotated[SafeStr | None, Query(max_length=64)] = None,
    owner: Annotated[SafeStr | None, Query(max_length=255, description="Email.")] = None,
    state: Literal["requested", "submitted", "returned", "assured"] | None = None,
    kind: Literal["status", "benefit", "definition"] | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Requests you may see (your own and those in your scope), by due date then code."""
    with st.ws.session() as s:
        _, visible = _visible(s, user)
    try:
        rows = dc.list_requests(
            st.ws,
            dc.Filters(period=period, node=node, owner=owner, state=state, kind=kind),
            visible=visible,
        )
    except NotFoundError:
        rows = []  # an unknown owner or node filter: nothing matches (codes do not leak)
    if cursor is not None:
        due, code = decode_cursor(cursor, 2)
        rows = [r for r in rows if (r.due_on.isoformat(), r.code) > (str(due), str(code))]
    page, nxt = next_page(rows, limit, lambda last: [last.due_on.isoformat(), last.code])
    return RequestPage(items=page, next_cursor=nxt)


@router.get("/mine", response_model=list[RequestOut])
def mine(st: StateDep, user: UserDep, period: PeriodQuery = None) -> Any:
    """What you owe: your requests still requested or returned, due first."""
    try:
        return dc.owed_by(st.ws, user.email, period=period)
    except NotFoundError:
        return []  # a user who is nobody's owner (no person with their email) owes nothing


@router.get("/requests/{code}", response_model=RequestDetail, responses={404: {}})
def get_request(code: RequestCode, st: StateDep, user: UserDep) -> Any:
    """One request with its needs, submissions and verdicts; the ETag names the data's version."""
    with st.ws.session() as s:
        _, visible = _visible(s, user)
    try:
        detail = dc.get_request(st.ws, code, visible=visible)
    except NotFoundError:
        raise not_found("data request", code) from None
    return JSONResponse(detail.model_dump(mode="json"), headers={"ETag": _etag(detail.version)})


@router.post("/open", response_model=OpenResult, responses={403: {}, 404: {}, 400: {}})
def open_call(body: OpenIn, request: Request, st: StateDep, user: UserDep) -> Any:
    """Open a period's data call (all nodes due, or one): the PMO's. Opening again changes
    nothing."""
    if user.role not in ASSURERS:
        raise Problem(403, f"your role ({user.role.value}) may not open data calls")
    with _serialised(st):
        return dc.open_call(
            st.ws,
            body.period,
            body.node,
            by=user.email,
            audit=_audit(
                request, user, "datacall", body.period + (f"/{body.node}" if body.node else "")
            ),
        )


def _may_submit(s: Session, user: Principal, scope: Scope, row: DataRequest) -> bool:
    if user.role in ASSURERS:
        return True
    if s.scalar(
        select(DataRequest.id).where(
            DataRequest.id == row.id, DataRequest.owner_id.in_(my_people(user))
        )
    ):
        return True
    if row.kind is RequestKind.STATUS:
        return scope.may_write_work()
    if row.kind is RequestKind.BENEFIT:
        return scope.may_write_benefits()
    return False


@router.post(
    "/requests/{code}/submission",
    response_model=RequestDetail,
    responses={403: {}, 404: {}, 409: {}, 412: {}, 422: {}, 428: {}},
)
def submit(
    code: RequestCode,
    request: Request,
    st: StateDep,
    user: UserDep,
    body: Annotated[dict[str, Any], Body()],
    if_match: IfMatch = None,
) -> Any:
    """Submit the data a request asks for: a status report (status requests) or a benefit's
    actual (benefit requests). Replacing data already there needs `If-Match` with the ETag of
    the request as you read it. A definition's data comes by import."""
    with st.ws.session() as s:
        scope, visible = _visible(s, user)
        row = s.scalar(select(DataRequest).where(DataRequest.code == code, visible))
        if row is None:
            raise not_found("data request", code)
        if not _may_submit(s, user, scope, row):
            raise Problem(403, f"your role ({user.role.value}) may not submit {code}")
        kind = row.kind
    current = dc.get_request(st.ws, code)
    if current.version is not None and if_match is None:
        raise Problem(428, "data is already submitted: send If-Match with the request's ETag")
    if if_match is not None and if_match.strip() not in (_etag(current.version), "*"):
        raise Problem(
            412,
            f"the data of {code} changed since you read it",
            headers={"ETag": _etag(current.version)},
        )
    version = None if if_match is None or if_match.strip() == "*" else current.version
    hook = _audit(request, user, "datacall_submission", code)
    try:
        with _serialised(st):
            if kind is RequestKind.STATUS:
                detail = dc.submit_status(
                    st.ws,
                    code,
                    StatusSubmission.model_validate(body),
                    by=user.email,
                    channel=Channel.API,
                    if_version=version,
                    audit=hook,
                )
            elif kind is RequestKind.BENEFIT:
                detail = dc.submit_benefit(
                    st.ws,
                    code,
                    BenefitSubmission.model_validate(body),
                    by=user.email,
                    channel=Channel.API,
                    if_version=version,
                    audit=hook,
                )
            else:
                raise Problem(409, f"{code} asks for {current.source} data: submit it by import")
    except PydanticValidationError as exc:
        errors = [
            {"field": ".".join(str(x) for x in e["loc"]) or "body", "reason": e["msg"]}
            for e in exc.errors()
        ]
        raise Problem(
            422, f"field {errors[0]['field']!r}: {errors[0]['reason']}", errors=errors
        ) from None
    except ConflictError as exc:
        raise Problem(412, str(exc)) from None
    return JSONResponse(detail.model_dump(mode="json"), headers={"ETag": _etag(detail.version)})


@router.post(
    "/requests/{code}/verdict",
    response_model=RequestDetail,
    responses={403: {}, 404: {}, 409: {}, 412: {}, 422: {}},
)
def verdict(
    code: RequestCode,
    body: VerdictIn,
    request: Request,
    st: StateDep,
    user: UserDep,
    if_match: IfMatch = None,
) -> Any:
    """Accept or return (with a comment) the submitted data: the PMO's or assurer's. With
    `If-Match`, only the version you looked at is judged."""
    if user.role not in ASSURERS:
        with st.ws.session() as s:
            _, visible = _visible(s, user)
            seen = s.scalar(select(DataRequest.id).where(DataRequest.code == code, visible))
        if seen is None:
            raise not_found("data request", code)
        raise Problem(403, f"your role ({user.role.value}) may not assure data")
    version = None if if_match is None else if_match.strip().strip('"')
    with _serialised(st):
        try:
            detail = dc.judge(
                st.ws,
                code,
                Verdict(body.verdict),
                by=user.email,
                comment=body.comment,
                if_version=None if version in (None, "*") else version,
                audit=_audit(request, user, "datacall_verdict", code),
            )
        except NotFoundError:
            raise not_found("data request", code) from None
    return JSONResponse(detail.model_dump(mode="json"), headers={"ETag": _etag(detail.version)})


@router.get("/nodes/{code}", response_model=NodeBoard, responses={404: {}})
def node_board(code: NodeCode, st: StateDep, user: UserDep, period: PeriodQuery = None) -> Any:
    """A node's readiness board for a period (default: last month): its requests by state."""
    with st.ws.session() as s:
        scope = scope_for(s, user)
        nid = s.scalar(select(GovernanceNode.id).where(GovernanceNode.code == code))
    if nid is None or (scope.node_ids is not None and nid not in scope.node_ids):
        raise not_found("governance node", code)
    label = period or (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    return dc.node_board(st.ws, code, label)


@router.get("/rates", response_model=list[Rates], responses={403: {}})
def rates(
    st: StateDep,
    user: UserDep,
    by: Literal["owner", "unit", "node"] = "owner",
    period: Annotated[list[str] | None, Query(max_length=24)] = None,
    node: Annotated[SafeStr | None, Query(max_length=64)] = None,
) -> Any:
    """Timeliness and first-time-right per owner, unit or node (organisation-wide readers)."""
    with st.ws.session() as s:
        scope = scope_for(s, user)
    if not scope.organisation:
        raise Problem(403, "data-call rates are organisation-wide: admin, PMO or a main board")
    for p in period or []:
        if not re.match(PERIOD_RE, p):
            raise Problem(422, f"field 'period': {p!r} is not YYYY-MM")
    try:
        return dc.rates(st.ws, by, periods=period, node=node)
    except NotFoundError:
        raise not_found("governance node", node or "") from None


ICS = "text/calendar; charset=utf-8"


@router.get("/calendar/nodes/{code}.ics", response_class=Response, responses={404: {}})
def node_calendar(
    code: NodeCode,
    st: StateDep,
    user: UserDep,
    start: Annotated[str | None, Query(alias="from", pattern=PERIOD_RE)] = None,
    months: Annotated[int, Query(ge=1, le=60)] = 12,
) -> Response:
    """A node's sittings and data cut-offs as iCalendar (the design everyone may read)."""
    first = start or dt.date.today().strftime("%Y-%m")
    try:
        data = dc.node_calendar(st.ws, code, first, months)
    except NotFoundError:
        raise not_found("governance node", code) from None
    return Response(data, media_type=ICS)


@router.get("/calendar/me.ics", response_class=Response)
def my_calendar(
    st: StateDep,
    user: UserDep,
    start: Annotated[str | None, Query(alias="from", pattern=PERIOD_RE)] = None,
    months: Annotated[int, Query(ge=1, le=60)] = 12,
) -> Response:
    """Your due dates and the sittings of the nodes you sit on, as iCalendar."""
    first = start or dt.date.today().strftime("%Y-%m")
    try:
        data = dc.person_calendar(
            st.ws, user.email, first, months, base_url=st.ws.setting("public_url")
        )
    except NotFoundError:
        from bigov.datacall.calendar import to_ics

        data = to_ics(f"{user.email} — data owed and sittings", [])
    return Response(data, media_type=ICS)


__all__ = ["router"]
