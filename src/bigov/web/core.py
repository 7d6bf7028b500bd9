"""What every page shares: the template environment, the signed-in user (the API's session
cookie, with its CSRF token checked on every write), the page's Content-Security-Policy, and the
answers for "sign in first", "not found" and "not allowed".

Pages are server-rendered Jinja2 with HTMX for partial updates; nothing here computes a figure.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session

from bigov.auth.models import UserRole
from bigov.auth.scope import Scope, scope_for
from bigov.auth.service import Principal, principal_for_user
from bigov.figures import format as fmt
from bigov.server.deps import SESSION_COOKIE, ServerState, read_session_cookie
from bigov.server.middleware import request_user

STATIC_DIR = Path(__file__).parent / "static"
HTMX = "vendor/htmx-2.0.11/htmx.min.js"
# scripts and styles from this server only (no inline code, no CDN); images may be data: URIs
# because the pack's charts are SVG documents embedded as images (their own styles stay inside)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

ROLE_LABEL = {
    UserRole.ADMIN: "Administrator",
    UserRole.PMO: "PMO",
    UserRole.BOARD_MEMBER: "Board member",
    UserRole.MANAGER: "Project manager",
    UserRole.BENEFIT_OWNER: "Benefit owner",
    UserRole.VIEWER: "Viewer",
}


class LoginRequiredError(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class PageNotFoundError(Exception):
    """Absent or outside the user's scope: the same 404 page either way, so codes do not leak."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class ForbiddenError(Exception):
    """Signed in, but the role may not do this (403)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebUser:
    """The signed-in user as a page sees them, with the CSRF token their forms must carry."""

    principal: Principal
    csrf: str
    # the scope, built once per request (a board member's costs a topology load) and reused by
    # every session the request opens: its predicates are plain SQL, bound to no session
    _scope: list[Scope] = field(default_factory=list, compare=False, repr=False)

    def scope(self, s: Session) -> Scope:
        if not self._scope:
            self._scope.append(scope_for(s, self.principal))
        return self._scope[0]

    @property
    def role(self) -> UserRole:
        return self.principal.role

    @property
    def email(self) -> str:
        return self.principal.email

    @property
    def label(self) -> str:
        return ROLE_LABEL[self.principal.role]

    def is_(self, *roles: UserRole) -> bool:
        return self.principal.role in roles

    @property
    def pmo(self) -> bool:
        return self.principal.role in (UserRole.ADMIN, UserRole.PMO)


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("bigov.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = fmt.money
    env.filters["pct"] = fmt.signed_pct
    env.filters["share"] = fmt.pct
    env.filters["num"] = fmt.number
    env.filters["rag"] = lambda v: (str(v) if v else "none").replace("/", "-")
    env.filters["urlpart"] = lambda v: quote(str(v), safe="")
    env.filters["month"] = _month
    env.globals["htmx"] = HTMX
    return env


def _month(value: Any) -> str:
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value or "")[:7]


TEMPLATES = _env()


def state(request: Request) -> ServerState:
    st: ServerState = request.app.state.bigov
    return st


def optional_user(request: Request) -> WebUser | None:
    """The user of a valid session cookie, or None."""
    st = state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    data = read_session_cookie(st, cookie) if cookie else None
    if data is None:
        return None
    with st.ws.session() as s:
        principal = principal_for_user(s, data["uid"])
    if principal is None:
        return None
    who = request_user.get()
    if who is not None:
        who.append(principal.email)
    return WebUser(principal, str(data.get("csrf", "")))


async def web_user(request: Request) -> WebUser:
    """The signed-in user; a redirect to /login without a session; for a write, 403 unless the
    form field ``csrf_token`` (or HTMX's ``X-CSRF-Token`` header) matches the session's."""
    user = optional_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequiredError(target)
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get("x-csrf-token", "")
        if not sent:
            form = await request.form()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else ""
        if not sent or not hmac.compare_digest(sent.encode(), user.csrf.encode()):
            raise ForbiddenError("the form's security token is missing or out of date: reload")
    return user


UserDep = Annotated[WebUser, Depends(web_user)]


def require(user: WebUser, *roles: UserRole) -> None:
    if user.role not in roles:
        raise ForbiddenError(f"this page is for {', '.join(ROLE_LABEL[r] for r in roles)}")


def scope_of(st: ServerState, user: WebUser) -> Scope:
    """The user's scope built on a fresh session (for services that open their own)."""
    with st.ws.session() as s:
        return user.scope(s)


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    user: WebUser | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page (or, for an HTMX request, the same template: templates decide what to show)."""
    html = TEMPLATES.get_template(template).render(
        request=request,
        user=user,
        path=request.url.path,
        htmx_request=request.headers.get("hx-request") == "true",
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=headers)
    response.headers["content-security-policy"] = CSP
    return response


def redirect(url: str) -> Response:
    """After a successful POST: see-other, so a reload does not post again."""
    return RedirectResponse(url, status_code=303)


def dec(value: Any) -> Decimal | None:
    return fmt.to_decimal(value)


__all__ = [
    "CSP",
    "STATIC_DIR",
    "TEMPLATES",
    "ForbiddenError",
    "LoginRequiredError",
    "PageNotFoundError",
    "UserDep",
    "WebUser",
    "optional_user",
    "redirect",
    "render",
    "require",
    "scope_of",
    "state",
    "web_user",
]
