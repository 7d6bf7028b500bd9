"""Sign-in for scripts and single-page clients: POST /session sets the cookie and returns the
CSRF token the client must send back in X-CSRF-Token on every write."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from bigov.api.common import SafeStr
from bigov.auth.web import attempt_sign_in, set_session
from bigov.server.deps import SESSION_COOKIE, StateDep, UserDep

router = APIRouter(tags=["session"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: SafeStr = Field(max_length=255)
    password: SafeStr = Field(max_length=1024)


class SignedIn(BaseModel):
    email: str
    role: str
    csrf_token: str


class Me(BaseModel):
    email: str
    role: str
    units: list[int]
    nodes: list[int]


@router.post("/session", response_model=SignedIn, responses={401: {}, 429: {}})
def create_session(body: SignIn, request: Request, response: Response, st: StateDep) -> Any:
    """Sign in with email and password (locked out after repeated failures: 429)."""
    user_id = attempt_sign_in(st, body.email, body.password)
    csrf = set_session(response, request, st, user_id)
    from bigov.auth.service import principal_for_user

    with st.ws.session() as s:
        p = principal_for_user(s, user_id)
    assert p is not None
    return SignedIn(email=p.email, role=p.role.value, csrf_token=csrf)


@router.delete("/session", status_code=204)
def delete_session(user: UserDep) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def me(user: UserDep) -> Any:
    """Who the credentials belong to, and the ids of the units and nodes they are scoped to."""
    return Me(
        email=user.email,
        role=user.role.value,
        units=sorted(user.unit_ids),
        nodes=sorted(user.node_ids),
    )
