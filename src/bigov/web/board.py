"""Board member pages: my boards, the live pack with drill-down, decisions and actions at the
sitting, earlier packs and the diff against the previous cycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bigov.auth.models import UserRole
from bigov.errors import NotFoundError, ValidationError
from bigov.figures.format import figure as show_figure
from bigov.governance import sitting
from bigov.server.deps import ServerState
from bigov.web import service
from bigov.web.core import (
    ForbiddenError,
    PageNotFoundError,
    UserDep,
    WebUser,
    dec,
    redirect,
    render,
    state,
)
from bigov.web.pack import definition, figure_rows, live_pack, pack_css, provenance_for

router = APIRouter(include_in_schema=False)
DECIDERS = (UserRole.BOARD_MEMBER, UserRole.ADMIN, UserRole.PMO)
_CACHE_LIMIT = 64


def _cycle(
    st: ServerState, user: WebUser, node: str, period: str, v: int | None
) -> service.CycleRef:
    with st.ws.session() as s:
        ref = service.find_cycle(s, user.scope(s), node, period, v)
    if ref is None:
        raise PageNotFoundError("cycle")
    return ref


def document(st: ServerState, ref: service.CycleRef) -> dict[str, Any]:
    """A cycle's frozen document; a published one never changes, so it is kept (bounded)."""
    key = f"doc {ref.code}"
    cached = st.published.get(key)
    if cached is not None:
        return dict(cached)
    doc = st.ws.governance.cycle_document(ref.code)
    if ref.status == "published":
        if len(st.published) >= _CACHE_LIMIT:
            st.published.pop(next(iter(st.published)))
        st.published[key] = doc
    return doc


def _base(ref: service.CycleRef) -> str:
    return f"/pack/{ref.node}/{ref.period}"


def _live_body(st: ServerState, ref: service.CycleRef, doc: dict[str, Any]) -> str:
    """The live pack's HTML; a published cycle's never changes, so it is kept (bounded)."""
    key = f"live {ref.code}"
    cached = st.published.get(key)
    if isinstance(cached, str):
        return cached
    body = live_pack(doc, _base(ref))
    if ref.status == "published":
        if len(st.published) >= _CACHE_LIMIT:
            st.published.pop(next(iter(st.published)))
        st.published[key] = body
    return body


@router.get("/boards")
def my_boards(request: Request, user: UserDep) -> Response:
    st = state(request)
    if user.role not in DECIDERS:
        raise ForbiddenError("boards are for board members and the PMO")
    with st.ws.session() as s:
        scope = user.scope(s)
        boards = service.boards(s, scope, st.ws.fiscal_year_start_month)
        history = service.cycles(s, scope)
    by_node: dict[str, list[service.CycleRef]] = {}
    for c in history:
        by_node.setdefault(c.node, []).append(c)
    return render(
        request,
        "boards.html.j2",
        {"title": "Boards", "boards": boards, "history": by_node},
        user=user,
    )


@router.get("/boards/{node}/readiness")
def readiness(request: Request, node: str, user: UserDep, period: str) -> Response:
    """A fragment: is the data ready for the board's next sitting?"""
    st = state(request)
    with st.ws.session() as s:
        scope = user.scope(s)
        visible = {b.code for b in service.boards(s, scope, st.ws.fiscal_year_start_month)}
    if node not in visible:
        raise PageNotFoundError("board")
    try:
        rows = st.ws.governance.check(node, period)
    except Exception as exc:  # a bad period or a node without design: say so in the panel
        return render(
            request, "partials/readiness.html.j2", {"rows": [], "error": str(exc)}, user=user
        )
    return render(
        request,
        "partials/readiness.html.j2",
        {"rows": rows, "error": "", "period": period},
        user=user,
    )


@router.get("/pack/{node}/{period}")
def pack(request: Request, node: str, period: str, user: UserDep, v: int | None = None) -> Response:
    st = state(request)
    ref = _cycle(st, user, node, period, v)
    return _pack_page(request, st, user, ref)


def _pack_page(
    request: Request,
    st: ServerState,
    user: WebUser,
    ref: service.CycleRef,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    """The live pack of one cycle; with ``errors``, again with the sitting form as it was sent
    (422), every bad field named."""
    doc = document(st, ref)
    with st.ws.session() as s:
        scope = user.scope(s)
        versions = list(service.cycles(s, scope, node=ref.node))
        previous = service.previous_cycle(s, scope, ref)
    return render(
        request,
        "pack.html.j2",
        {
            "title": f"{doc['node']['name']} — {ref.period} pack",
            "ref": ref,
            "body": _live_body(st, ref, doc),
            "earlier": versions,
            "previous": previous,
            "recorded": sitting.recorded_at(st.ws, ref.code),
            "may_decide": user.role in DECIDERS,
            "people": sitting.node_people(st.ws, ref.node),
            "subjects": sorted(
                {
                    e["subject"]
                    for e in doc["exceptions"]
                    if e["role"] == "owned" and e["subject_kind"] == "work_item"
                }
            ),
            "objectives": doc.get("objectives", []),
            "errors": errors or {},
            "form": form or {},
            "base": _base(ref),
            "breadcrumbs": [("Boards", "/boards"), (f"{ref.node} {ref.period}", None)],
        },
        user=user,
        status=200 if errors is None else 422,
    )


@router.get("/assets/pack.css")
def pack_stylesheet() -> Response:
    return Response(pack_css(), media_type="text/css")


@router.get("/pack/{node}/{period}/figure/{key}")
def figure(
    request: Request, node: str, period: str, key: str, user: UserDep, v: int | None = None
) -> Response:
    st = state(request)
    ref = _cycle(st, user, node, period, v)
    doc = document(st, ref)
    values = doc.get("governed") or {}
    if key not in values:
        from bigov.figures.compute import governed

        values = governed(doc)
    if key not in values:
        raise PageNotFoundError("figure")
    what, headings, rows = figure_rows(doc, key)
    codes = {
        c[1] for r in rows for c in r if isinstance(c, tuple) and c[0] in ("item", "exception")
    }
    return render(
        request,
        "figure.html.j2",
        {
            "title": definition(key)["label"],
            "ref": ref,
            "key": key,
            "value": show_figure(key, values.get(key), doc.get("currency", "GBP")),
            "raw": values.get(key),
            "d": definition(key),
            "what": what,
            "headings": headings,
            "rows": rows,
            "provenance": provenance_for(doc, codes, key),
            "cur": doc.get("currency", "GBP"),
            "breadcrumbs": [
                ("Boards", "/boards"),
                (f"{ref.node} {ref.period}", _base(ref)),
                (definition(key)["label"], None),
            ],
        },
        user=user,
    )


@router.get("/pack/{node}/{period}/exception/{code}")
def exception(
    request: Request, node: str, period: str, code: str, user: UserDep, v: int | None = None
) -> Response:
    st = state(request)
    ref = _cycle(st, user, node, period, v)
    doc = document(st, ref)
    found = next((e for e in doc["exceptions"] if e["code"] == code), None)
    if found is None:
        raise PageNotFoundError("exception")
    with st.ws.session() as s:
        scope = user.scope(s)
        history = service.exception_history(s, scope, code)
        item_ok = found["subject_kind"] == "work_item" and service.item_visible(
            s, scope, found["subject"]
        )
    decided = [d for d in sitting.recorded_at(st.ws, ref.code) if found["subject"] in d.items]
    return render(
        request,
        "exception.html.j2",
        {
            "title": found["title"],
            "ref": ref,
            "e": found,
            "history": history,
            "item_ok": item_ok,
            "decided": decided,
            "cur": doc.get("currency", "GBP"),
            "base": _base(ref),
            "may_decide": user.role in DECIDERS,
            "breadcrumbs": [
                ("Boards", "/boards"),
                (f"{ref.node} {ref.period}", _base(ref)),
                (code, None),
            ],
        },
        user=user,
    )


@router.post("/pack/{node}/{period}/decisions")
def record_decision(
    request: Request,
    node: str,
    period: str,
    user: UserDep,
    kind: Annotated[str, Form(max_length=16)] = "decision",
    title: Annotated[str, Form(max_length=1000)] = "",
    decided_on: Annotated[str, Form(max_length=32)] = "",
    items: Annotated[list[str] | None, Form()] = None,
    otcs: Annotated[list[str] | None, Form()] = None,
    exception: Annotated[str, Form(max_length=64)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    due_on: Annotated[str, Form(max_length=32)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Record a decision or action at the cycle's sitting; every bad field named, nothing
    written on error."""
    st = state(request)
    if user.role not in DECIDERS:
        raise ForbiddenError("only board members and the PMO record decisions")
    ref = _cycle(st, user, node, period, None)
    entry = sitting.SittingRecord(
        kind=kind,
        title=title,
        decided_on=decided_on,
        items=[i for i in (items or []) for i in i.replace(",", " ").split()],
        otcs=[o for o in (otcs or []) if o],
        exception=exception or None,
        owner=owner,
        due_on=due_on,
        description=description,
    )
    try:
        done = sitting.record(st.ws, ref.code, entry, written_by=user.email)
    except ValidationError as err:
        errors: dict[str, str] = {}
        for p in err.problems:
            errors.setdefault(p.column or "title", p.reason)
        return _pack_page(request, st, user, ref, errors=errors, form=entry.model_dump())
    except NotFoundError as err:
        raise PageNotFoundError(str(err)) from None
    return redirect(f"{_base(ref)}?recorded={done.code}#sitting")


@router.get("/pack/{node}/{period}/diff")
def diff(request: Request, node: str, period: str, user: UserDep) -> Response:
    """This cycle against the node's previous one: headline figures, exceptions opened and
    closed, items whose delivery confidence moved."""
    st = state(request)
    ref = _cycle(st, user, node, period, None)
    with st.ws.session() as s:
        prev = service.previous_cycle(s, user.scope(s), ref)
    if prev is None:
        return render(
            request,
            "message.html.j2",
            {"title": "Nothing to compare", "message": f"{ref.code} is the board's first cycle."},
            user=user,
        )
    now, then = document(st, ref), document(st, prev)
    cur = now.get("currency", "GBP")
    a, b = now.get("governed") or {}, then.get("governed") or {}
    figures = []
    for key in a:
        x, y = dec(a.get(key)), dec(b.get(key))
        if x == y:
            continue
        figures.append(
            {
                "key": key,
                "label": definition(key)["label"],
                "then": show_figure(key, b.get(key), cur),
                "now": show_figure(key, a.get(key), cur),
                "change": (x - y) if x is not None and y is not None else None,
            }
        )
    owned_now = {e["code"]: e for e in now["exceptions"] if e["role"] == "owned"}
    owned_then = {e["code"]: e for e in then["exceptions"] if e["role"] == "owned"}
    was = {w["code"]: w.get("confidence") for w in then["work"]}
    moved = [
        {
            "code": w["code"],
            "name": w["name"],
            "then": was.get(w["code"]),
            "now": w.get("confidence"),
        }
        for w in now["work"]
        if w["code"] in was and was.get(w["code"]) != w.get("confidence")
    ]
    return render(
        request,
        "diff.html.j2",
        {
            "title": f"{ref.node}: {prev.period} → {ref.period}",
            "ref": ref,
            "prev": prev,
            "figures": figures,
            "opened": [owned_now[c] for c in owned_now if c not in owned_then],
            "closed": [owned_then[c] for c in owned_then if c not in owned_now],
            "moved": moved,
            "zero": Decimal(0),
            "breadcrumbs": [
                ("Boards", "/boards"),
                (f"{ref.node} {ref.period}", _base(ref)),
                ("changes", None),
            ],
        },
        user=user,
    )
