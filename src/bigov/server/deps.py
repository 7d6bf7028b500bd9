"""Request dependencies: the workspace, the signed-in user (bearer token or session cookie with
CSRF check), their scope, and where the request came from."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bigov.auth.scope import Scope, scope_for
from bigov.auth.service import Principal, principal_for_token, principal_for_user
from bigov.server.middleware import request_user
from bigov.server.problems import Problem
from bigov.server.settings import ServerSettings
from bigov.workspace import Workspace

SESSION_COOKIE = "bigov_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ServerState:
    """What every request shares: the workspace, settings, the cookie signer and, on SQLite,
    the lock that serialises writes (one process; SQLite has one writer anyway)."""

    ws: Workspace
    settings: ServerSettings
    signer: URLSafeTimedSerializer
    write_lock: threading.Lock | None
    # what a published cycle answers never changes: kept per app instance, bounded by callers
    published: dict[str, Any] = field(default_factory=dict)
    # the kept analysis answers this process served last (bigov.db.answers), by key
    answers: dict[str, tuple[int, str]] = field(default_factory=dict)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A unit of work for a write: serialised on SQLite, row-locked by the caller on
        PostgreSQL (``with_for_update``)."""
        if self.write_lock is None:
            with self.ws.session() as s:
                yield s
            return
        with self.write_lock, self.ws.session() as s:
            yield s


def state(request: Request) -> ServerState:
    st: ServerState = request.app.state.bigov
    return st


StateDep = Annotated[ServerState, Depends(state)]


def new_session_cookie(st: ServerState, user_id: int) -> tuple[str, str]:
    """A signed cookie value for a signed-in user and the CSRF token bound to it."""
    csrf = secrets.token_urlsafe(24)
    return st.signer.dumps({"uid": user_id, "csrf": csrf}), csrf


def read_session_cookie(st: ServerState, value: str) -> dict[str, Any] | None:
    try:
        data = st.signer.loads(value, max_age=st.settings.session_hours * 3600)
    except BadSignature:
        return None
    return data if isinstance(data, dict) and isinstance(data.get("uid"), int) else None


def current_user(request: Request, st: StateDep) -> Principal:
    """The signed-in user; 401 without valid credentials, 403 for a cookie write without the
    CSRF token. Bearer tokens need no CSRF token: browsers never send them on their own."""
    auth = request.headers.get("authorization")
    principal: Principal | None = None
    if auth:
        scheme, _, secret = auth.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Problem(401, "use 'Authorization: Bearer <token>'", headers=_challenge())
        with st.ws.session() as s:
            principal = principal_for_token(s, secret.strip())
        if principal is None:
            raise Problem(401, "token unknown, expired or revoked", headers=_challenge())
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        data = read_session_cookie(st, cookie) if cookie else None
        if data is None:
            raise Problem(401, "sign in or send a bearer token", headers=_challenge())
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), str(data.get("csrf", "")).encode()):
                raise Problem(403, "CSRF token missing or wrong (send it in X-CSRF-Token)")
        with st.ws.session() as s:
            principal = principal_for_user(s, data["uid"])
        if principal is None:
            raise Problem(401, "session no longer valid", headers=_challenge())
    who = request_user.get()
    if who is not None:
        who.append(principal.email)
    return principal


def _challenge() -> dict[str, str]:
    return {"WWW-Authenticate": 'Bearer realm="bigov"'}


UserDep = Annotated[Principal, Depends(current_user)]


def client_ip(request: Request) -> str | None:
    """The client address (uvicorn resolves X-Forwarded-For from trusted proxies only)."""
    return request.client.host if request.client else None


@contextmanager
def scoped_read(st: ServerState, user: Principal) -> Iterator[tuple[Session, Scope]]:
    """A read unit of work with the user's scope built on it."""
    with st.ws.session() as s:
        yield s, scope_for(s, user)
