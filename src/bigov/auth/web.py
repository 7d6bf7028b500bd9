"""Browser sign-in: the form (with a CSRF token), sign-out, and OpenID Connect through Authlib.

The session cookie is HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS
(directly or through a trusted proxy), so a development server on plain HTTP still works."""

from __future__ import annotations

import hmac
import html
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from bigov.auth.models import AppUser
from bigov.auth.service import SignInError, sign_in
from bigov.server.deps import SESSION_COOKIE, ServerState, StateDep, new_session_cookie
from bigov.server.problems import Problem
from bigov.server.settings import ServerSettings

router = APIRouter(prefix="/auth", include_in_schema=False)
CSRF_COOKIE = "bigov_csrf"


def set_session(response: Response, request: Request, st: ServerState, user_id: int) -> str:
    """Put the signed session cookie on ``response``; returns its CSRF token."""
    value, csrf = new_session_cookie(st, user_id)
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=st.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return csrf


def attempt_sign_in(st: ServerState, email: str, password: str) -> int:
    """The user id for a right password; a Problem (401, or 429 when locked) otherwise. The
    failure count is committed even though the sign-in fails."""
    failure: SignInError | None = None
    user_id = 0
    with st.ws.session() as s:
        try:
            user_id = sign_in(
                s,
                email,
                password,
                max_failures=st.settings.lockout_failures,
                lock_minutes=st.settings.lockout_minutes,
            ).id
        except SignInError as err:
            failure = err
    if failure is not None:
        raise Problem(429 if failure.locked else 401, str(failure))
    return user_id


@router.get("/login")
def login_form(request: Request, st: StateDep) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    oidc = (
        '<p><a href="/auth/oidc/login">Sign in with your organisation</a></p>'
        if (st.settings.oidc)
        else ""
    )
    page = (
        "<!doctype html><title>bigov: sign in</title>"
        '<form method="post" action="/auth/login">'
        f'<input type="hidden" name="csrf_token" value="{html.escape(token)}">'
        '<label>Email <input name="email" type="email" autocomplete="username"></label>'
        '<label>Password <input name="password" type="password" '
        'autocomplete="current-password"></label>'
        f"<button>Sign in</button></form>{oidc}"
    )
    response = HTMLResponse(page)
    response.set_cookie(
        CSRF_COOKIE,
        st.signer.dumps(token),
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/auth",
    )
    return response


@router.post("/login")
def login_post(
    request: Request,
    st: StateDep,
    email: Annotated[str, Form(max_length=255)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=128)],
) -> RedirectResponse:
    """The form post: double-submit CSRF check (signed cookie against the form field)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    try:
        expected = str(st.signer.loads(cookie, max_age=3600)) if cookie else ""
    except Exception:  # itsdangerous BadSignature and malformed values alike
        expected = ""
    if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        raise Problem(403, "CSRF token missing or wrong; reload the sign-in page")
    user_id = attempt_sign_in(st, email, password)
    response = RedirectResponse("/api/v1/me", status_code=303)
    set_session(response, request, st, user_id)
    response.delete_cookie(CSRF_COOKIE, path="/auth")
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/auth/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def configure_oidc(app: FastAPI, settings: ServerSettings) -> None:
    """Register the OpenID Connect client (discovery by metadata URL) on the app state. The
    routes below answer 404 until this has run."""
    from authlib.integrations.starlette_client import OAuth

    assert settings.oidc is not None
    oauth = OAuth()
    oauth.register(
        "oidc",
        server_metadata_url=settings.oidc.metadata_url,
        client_id=settings.oidc.client_id,
        client_secret=settings.oidc.client_secret,
        client_kwargs={"scope": "openid email profile"},
    )
    app.state.oidc = oauth


@router.get("/oidc/login")
async def oidc_login(request: Request) -> Any:
    oauth = getattr(request.app.state, "oidc", None)
    if oauth is None:
        raise Problem(404, "OpenID Connect is not configured")
    redirect = str(request.url_for("oidc_callback"))
    return await oauth.oidc.authorize_redirect(request, redirect)


@router.get("/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Any:
    oauth = getattr(request.app.state, "oidc", None)
    st: ServerState = request.app.state.bigov
    if oauth is None or st.settings.oidc is None:
        raise Problem(404, "OpenID Connect is not configured")
    token = await oauth.oidc.authorize_access_token(request)
    claims = token.get("userinfo") or {}
    email = str(claims.get(st.settings.oidc.email_claim, "")).strip().lower()
    with st.ws.session() as s:
        user = s.scalar(select(AppUser).where(AppUser.email == email))
        user_id = user.id if user is not None and not user.disabled else None
    if user_id is None:
        # roles and scope stay local: the provider proves who, bigov decides what
        raise Problem(403, "no enabled bigov user for this identity; ask an administrator")
    response = RedirectResponse("/api/v1/me", status_code=303)
    set_session(response, request, st, user_id)
    return response
