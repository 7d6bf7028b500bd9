"""Sign-in, sign-out and each role's home page: what needs them now."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from bigov.auth.models import UserRole
from bigov.auth.web import attempt_sign_in, set_session
from bigov.server.deps import SESSION_COOKIE
from bigov.server.problems import Problem
from bigov.web import service
from bigov.web.core import UserDep, optional_user, redirect, render, state

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "bigov_login_csrf"


def _safe_next(value: str | None) -> str:
    # only a path on this site: never an absolute URL or a scheme-relative //host
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _login_page(
    request: Request, *, error: str = "", email: str = "", next_url: str = "/", status: int = 200
) -> Response:
    st = state(request)
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html.j2",
        {
            "title": "Sign in",
            "csrf": token,
            "next": next_url,
            "error": error,
            "email": email,
            "oidc": st.settings.oidc is not None,
        },
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF,
        st.signer.dumps(token),
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if optional_user(request) is not None:
        return redirect(_safe_next(next))
    return _login_page(request, next_url=_safe_next(next))


@router.post("/login")
def login_post(
    request: Request,
    email: Annotated[str, Form(max_length=255)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    """The sign-in form: double-submit CSRF (signed cookie against the hidden field), then the
    same password check, lock-out and session cookie as the API's sign-in."""
    st = state(request)
    cookie = request.cookies.get(LOGIN_CSRF, "")
    try:
        expected = str(st.signer.loads(cookie, max_age=3600)) if cookie else ""
    except Exception:  # itsdangerous BadSignature and malformed values alike
        expected = ""
    next_url = _safe_next(next)
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(
            request,
            error="The sign-in form had expired. Please try again.",
            email=email,
            next_url=next_url,
            status=403,
        )
    if not email.strip() or not password:
        return _login_page(
            request,
            error="Enter your email and password.",
            email=email,
            next_url=next_url,
            status=422,
        )
    try:
        user_id = attempt_sign_in(st, email, password)
    except Problem as problem:
        return _login_page(
            request,
            error=problem.detail or "wrong email or password",
            email=email,
            next_url=next_url,
            status=problem.status,
        )
    response = redirect(next_url)
    set_session(response, request, st, user_id)
    response.delete_cookie(LOGIN_CSRF, path="/login")
    return response


@router.post("/logout")
def logout(user: UserDep) -> Response:
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request, user: UserDep) -> Response:
    """What needs the user now, by role."""
    st = state(request)
    ctx: dict[str, object] = {"title": "Home"}
    with st.ws.session() as s:
        scope = user.scope(s)
        role = user.role
        if role in (UserRole.BOARD_MEMBER, UserRole.ADMIN, UserRole.PMO):
            my_boards = service.boards(s, scope, st.ws.fiscal_year_start_month)
            ctx["boards"] = my_boards if role is UserRole.BOARD_MEMBER else []
            if role is not UserRole.BOARD_MEMBER:
                drafts = [c for c in service.cycles(s, scope) if c.status == "draft"]
                ctx["drafts"] = drafts[:20]
                ctx["recent"] = service.cycles(s, scope)[:8]
        if role is UserRole.MANAGER or role is UserRole.VIEWER:
            ctx["items"] = service.items(s, scope, mine_only=role is UserRole.MANAGER, limit=50)
        if role is UserRole.MANAGER:
            ctx["assigned"] = service.assigned_to_me(s, scope)
            ctx["exceptions"] = service.exceptions_on_my_items(s, scope)
        if role is UserRole.BENEFIT_OWNER:
            ctx["benefits"] = service.benefits(s, scope, mine_only=True)
            ctx["assigned"] = service.assigned_to_me(s, scope)
    from bigov.web.datacalls import owed

    ctx["owed"] = owed(st.ws, user.email)
    if role in (UserRole.ADMIN, UserRole.PMO):
        from bigov.ingest.service import batches

        ctx["batches"] = list(batches(st.ws, limit=10))
    return render(request, "home.html.j2", ctx, user=user)
