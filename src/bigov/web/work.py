"""Project manager pages: my items, an item (confidence trend, milestones, RAID, exceptions),
and the monthly return form (draft until submitted)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bigov.errors import NotFoundError, ValidationError
from bigov.server.deps import client_ip
from bigov.web import charts, service
from bigov.web.core import ForbiddenError, PageNotFoundError, UserDep, redirect, render, state
from bigov.work import returns

router = APIRouter(include_in_schema=False)
LEVELS = ["green", "amber/green", "amber", "amber/red", "red"]


@router.get("/items")
def my_items(request: Request, user: UserDep, mine: bool = False) -> Response:
    st = state(request)
    with st.ws.session() as s:
        scope = user.scope(s)
        rows = service.items(s, scope, mine_only=mine)
    return render(
        request,
        "items.html.j2",
        {"title": "My items" if mine else "Items", "items": rows, "mine": mine},
        user=user,
    )


def _visible_item(request: Request, user: UserDep, code: str) -> service.ItemDetail:
    st = state(request)
    with st.ws.session() as s:
        detail = service.item_detail(s, user.scope(s), code)
    if detail is None:
        raise PageNotFoundError("work item")
    return detail


@router.get("/items/{code}")
def item(request: Request, code: str, user: UserDep) -> Response:
    detail = _visible_item(request, user, code)
    trend = detail.trend[-24:]
    chart = charts.lines(
        [p.period for p in trend],
        [("delivery confidence", [float(p.score) if p.score else None for p in trend])],
        title=f"Delivery confidence of {code} by month",
        y_labels={5.0: "green", 4.0: "amber/green", 3.0: "amber", 2.0: "amber/red", 1.0: "red"},
    )
    return render(
        request,
        "item.html.j2",
        {
            "title": f"{detail.item.name} ({code})",
            "d": detail,
            "trend": trend,
            "chart": chart,
            "may_write": user.role.value in ("admin", "pmo", "manager"),
            "breadcrumbs": [("Items", "/items"), (code, None)],
        },
        user=user,
    )


def _may_write(request: Request, user: UserDep, code: str) -> None:
    st = state(request)
    with st.ws.session() as s:
        scope = user.scope(s)
        if not service.item_visible(s, scope, code):
            raise PageNotFoundError("work item")
        if not scope.may_write_work():
            raise ForbiddenError(f"your role ({user.label}) may not write monthly returns")


def _form_page(
    request: Request,
    user: UserDep,
    view: returns.ReturnView,
    *,
    errors: dict[str, str],
    values: dict[str, Any] | None = None,
    flash: str = "",
    status: int = 200,
) -> Response:
    data = view.data if values is None else returns.MonthlyReturnData.model_validate(values)
    return render(
        request,
        "return.html.j2",
        {
            "title": f"Monthly return {view.period}: {view.item_name}",
            "view": view,
            "data": data,
            "errors": errors,
            "levels": LEVELS,
            "rags": ["green", "amber", "red"],
            "dimensions": returns.DIMENSIONS,
            "flash": flash,
            "breadcrumbs": [
                ("Items", "/items"),
                (view.item, f"/items/{view.item}"),
                (f"return {view.period}", None),
            ],
        },
        user=user,
        status=status,
    )


@router.get("/items/{code}/return")
def return_form(
    request: Request, code: str, user: UserDep, period: str | None = None, saved: str = ""
) -> Response:
    _may_write(request, user, code)
    st = state(request)
    try:
        month = period or returns.default_period(st.ws, code)
        view = returns.prefill(st.ws, code, month)
    except NotFoundError:
        raise PageNotFoundError("work item") from None
    except Exception:
        raise PageNotFoundError("period") from None
    flash = {
        "draft": "Draft saved. It is not submitted yet.",
        "submitted": "Return submitted.",
    }.get(saved, "")
    return _form_page(request, user, view, errors={}, flash=flash)


@router.post("/items/{code}/return")
async def return_post(request: Request, code: str, user: UserDep) -> Response:
    """Save a draft or submit; on any invalid field the form comes back with every problem
    named and nothing saved."""
    _may_write(request, user, code)
    st = state(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    submit = form.get("action") == "submit"
    try:
        view = returns.save(
            st.ws, code, form, submit=submit, user=user.email, client_ip=client_ip(request)
        )
    except ValidationError as err:
        try:
            shown = returns.prefill(st.ws, code, form.get("period", ""))
        except Exception:
            raise PageNotFoundError("period") from None
        data, _ = returns.validate(form, shown, submitting=submit)
        errors: dict[str, str] = {}
        for p in err.problems:
            errors.setdefault(p.column or "period", p.reason)
        return _form_page(request, user, shown, errors=errors, values=data.model_dump(), status=422)
    except NotFoundError:
        raise PageNotFoundError("work item") from None
    state_word = "submitted" if submit else "draft"
    return redirect(f"/items/{code}/return?period={view.period}&saved={state_word}")
