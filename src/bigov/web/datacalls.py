"""Data-call pages: "what I owe" on the home page, and the PMO's readiness board per node with
accept/return. Thin over ``ws.datacall`` (``bigov.datacall.service``): the states, due dates and
verdicts are the service's; the read models here only add the boards that need each request, in
one statement for the whole list (never a query per row)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select

from bigov.api.datacalls import _audit, _serialised
from bigov.auth.models import UserRole
from bigov.datacall.models import DataNeed, DataRequest, Verdict
from bigov.datacall.schemas import NodeBoard, RequestOut
from bigov.datacall.service import Filters, judge
from bigov.errors import BigovError, ConflictError, NotFoundError, ValidationError
from bigov.governance.models import GovernanceNode
from bigov.governance.periods import parse_period, period_label
from bigov.org.models import Person
from bigov.web.core import PageNotFoundError, UserDep, WebUser, redirect, render, state
from bigov.workspace import Workspace

router = APIRouter(include_in_schema=False)
PMO = (UserRole.ADMIN, UserRole.PMO)
STATES = ("requested", "returned", "submitted", "assured")


class Owed(BaseModel):
    """One open request on the owner's home page, with every board that needs it and the page
    where it is submitted (None when only an import or the API can satisfy it)."""

    request: RequestOut
    boards: list[tuple[str, str]]  # (code, name), earliest cut-off first
    submit_url: str | None


class NodeCounts(BaseModel):
    node: str
    name: str
    counts: dict[str, int]
    total: int


def _boards_of(ws: Workspace, codes: list[str]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if not codes:
        return out
    with ws.session() as s:
        rows = s.execute(
            select(DataRequest.code, GovernanceNode.code, GovernanceNode.name)
            .join(DataNeed, DataNeed.request_id == DataRequest.id)
            .join(GovernanceNode, GovernanceNode.id == DataNeed.node_id)
            .where(DataRequest.code.in_(codes))
            .order_by(DataRequest.code, DataNeed.cutoff_on, GovernanceNode.code)
        )
        for code, node, name in rows:
            if (node, name) not in out[code]:
                out[code].append((node, name))
    return out


def _submit_url(r: RequestOut) -> str | None:
    if r.subject is None:
        return None
    if r.kind == "status":
        return f"/items/{quote(r.subject, safe='')}/return"
    if r.kind == "benefit":
        return f"/benefits/{quote(r.subject, safe='')}#update"
    return None


def owed(ws: Workspace, email: str, *, today: dt.date | None = None) -> list[Owed]:
    """What the person with this email still owes (requested or returned), due first.

    One statement when they own no request at all (most users, and every user before the first
    call is opened); otherwise the service's fixed set plus one for the boards."""
    with ws.session() as s:
        has_any = s.scalar(
            select(DataRequest.id)
            .join(Person, Person.id == DataRequest.owner_id)
            .where(func.lower(Person.email) == email.strip().lower())
            .limit(1)
        )
    if has_any is None:
        return []
    requests = ws.datacall.owed_by(email, today=today)
    boards = _boards_of(ws, [r.code for r in requests])
    return [
        Owed(
            request=r,
            boards=boards.get(r.code) or [(r.node, r.node)],
            submit_url=_submit_url(r),
        )
        for r in requests
    ]


def _periods(ws: Workspace) -> list[str]:
    with ws.session() as s:
        months = s.scalars(
            select(DataRequest.period).distinct().order_by(DataRequest.period.desc())
        )
        return [period_label(m) for m in months]


def _node_counts(ws: Workspace, period: str) -> list[NodeCounts]:
    """Requests per state for every node that needs data in the period (a request several
    nodes need counts on each)."""
    states = {r.code: r.state for r in ws.datacall.requests(Filters(period=period))}
    with ws.session() as s:
        rows = s.execute(
            select(GovernanceNode.code, GovernanceNode.name, DataRequest.code)
            .join(DataNeed, DataNeed.node_id == GovernanceNode.id)
            .join(DataRequest, DataRequest.id == DataNeed.request_id)
            .where(DataRequest.period == parse_period(period))
            .distinct()
            .order_by(GovernanceNode.code)
        ).all()
    nodes: dict[str, NodeCounts] = {}
    for node, name, code in rows:
        nc = nodes.setdefault(
            node, NodeCounts(node=node, name=name, counts=dict.fromkeys(STATES, 0), total=0)
        )
        nc.counts[states[code]] += 1
        nc.total += 1
    return list(nodes.values())


def _pmo_only(user: WebUser, what: str) -> None:
    # the same 404 a missing page gets: the data-call boards do not reveal themselves
    if user.role not in PMO:
        raise PageNotFoundError(what)


def _period_or_latest(ws: Workspace, period: str | None) -> tuple[str | None, list[str]]:
    periods = _periods(ws)
    if period:
        try:
            chosen = period_label(parse_period(period))
        except BigovError:
            raise PageNotFoundError("data call for that period") from None
        return chosen, periods
    return (periods[0] if periods else None), periods


@router.get("/pmo/datacalls")
def datacalls_page(request: Request, user: UserDep, period: str | None = None) -> Response:
    """Every node's requests by state for one call (the latest opened by default)."""
    _pmo_only(user, "page")
    ws = state(request).ws
    chosen, periods = _period_or_latest(ws, period)
    nodes = _node_counts(ws, chosen) if chosen else []
    return render(
        request,
        "pmo/datacalls.html.j2",
        {"title": "Data calls", "period": chosen, "periods": periods, "nodes": nodes},
        user=user,
    )


def _board_page(
    request: Request,
    user: WebUser,
    node: str,
    period: str | None,
    *,
    error: str = "",
    error_for: str = "",
    comment: str = "",
    message: str = "",
    status: int = 200,
) -> Response:
    ws = state(request).ws
    chosen, periods = _period_or_latest(ws, period)
    if chosen is None:
        raise PageNotFoundError("data call")
    try:
        board: NodeBoard = ws.datacall.node_board(node, chosen)
    except NotFoundError:
        raise PageNotFoundError("governance node") from None
    return render(
        request,
        "pmo/datacall_board.html.j2",
        {
            "title": f"Data call {board.period} · {board.node}",
            "board": board,
            "periods": periods,
            "error": error,
            "error_for": error_for,
            "comment": comment,
            "message": message,
        },
        user=user,
        status=status,
    )


@router.get("/pmo/datacalls/{node}")
def board_page(request: Request, node: str, user: UserDep, period: str | None = None) -> Response:
    """The node's readiness board: each request with owner, due date and state."""
    _pmo_only(user, "page")
    return _board_page(request, user, node, period)


@router.post("/pmo/datacalls/{node}/verdict")
def verdict_post(
    request: Request,
    node: str,
    user: UserDep,
    code: Annotated[str, Form(max_length=200)] = "",
    period: Annotated[str, Form(max_length=16)] = "",
    verdict: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Accept or return one submitted request (the service's :func:`judge`, audited); a return
    without a comment shows the field's error and saves nothing."""
    _pmo_only(user, "page")
    st = state(request)
    board = f"/pmo/datacalls/{node}"
    try:
        if verdict not in ("accept", "return"):
            raise ValidationError("choose accept or return")
        # the API's own verdict path: the same audit record, write lock and version check (the
        # version the page showed, so a verdict never lands on data that changed since)
        with _serialised(st):
            judge(
                st.ws,
                code,
                Verdict.ACCEPTED if verdict == "accept" else Verdict.RETURNED,
                by=user.email,
                comment=comment or None,
                if_version=version or None,
                audit=_audit(request, user.principal, "datacall_verdict", code),
            )
    except NotFoundError:
        raise PageNotFoundError("data request") from None
    except (ValidationError, ConflictError) as problem:
        return _board_page(
            request,
            user,
            node,
            period or None,
            error=problem.message,
            error_for=code,
            comment=comment,
            status=422 if isinstance(problem, ValidationError) else 409,
        )
    return redirect(f"{quote(board)}?period={quote(period)}" if period else quote(board))


__all__ = ["Owed", "owed", "router"]
