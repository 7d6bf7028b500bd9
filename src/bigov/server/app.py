"""The app factory. ``create_app(settings)`` builds the FastAPI app on a workspace (opened from
``settings.db_url`` at start-up, or handed in by tests); ``app_from_env`` is what each uvicorn
worker process calls."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from bigov.db.settings import Setting
from bigov.errors import ConfigError
from bigov.server import problems
from bigov.server.deps import ServerState
from bigov.server.middleware import ServerMiddleware, query_counter
from bigov.server.settings import ServerSettings
from bigov.workspace import Workspace

API_PREFIX = "/api/v1"
SECRET_SETTING = "server_secret_key"


def shared_secret(ws: Workspace) -> str:
    """The cookie-signing key every server process of this workspace shares, created once."""
    with ws.session() as s:
        row = s.get(Setting, SECRET_SETTING)
        if row is not None:
            return row.value
    try:
        with ws.session() as s:
            s.add(Setting(key=SECRET_SETTING, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process created it first; read theirs
    with ws.session() as s:
        value = s.scalar(select(Setting.value).where(Setting.key == SECRET_SETTING))
    assert value is not None
    return value


def _before_execute(*_: Any, **__: Any) -> None:
    counter = query_counter.get()
    if counter is not None:
        counter[0] += 1


def _count_statements(ws: Workspace) -> None:
    # once per engine, however many apps are built on one workspace (tests)
    if not event.contains(ws.engine, "before_cursor_execute", _before_execute):
        event.listen(ws.engine, "before_cursor_execute", _before_execute)


def create_app(settings: ServerSettings, workspace: Workspace | None = None) -> FastAPI:
    """Build the app. With ``workspace`` the caller owns it (tests); otherwise the app opens
    ``settings.db_url`` on start-up and closes it on shutdown (graceful stop)."""
    from bigov.api import router as api_router
    from bigov.auth import web as auth_web
    from bigov.web import install as install_web

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = workspace is None
        ws = workspace if workspace is not None else Workspace.open(settings.db_url)
        secret = settings.secret_key or shared_secret(ws)
        _count_statements(ws)
        app.state.bigov = ServerState(
            ws=ws,
            settings=settings,
            signer=URLSafeTimedSerializer(secret, salt="bigov-session"),
            write_lock=threading.Lock() if ws.backend == "sqlite" else None,
        )
        if settings.oidc is not None:
            auth_web.configure_oidc(app, settings)
        try:
            yield
        finally:
            if own:
                ws.close()

    app = FastAPI(
        title="bigov",
        version="1",
        summary="Business Integrated Governance: the REST API",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    problems.install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        # static: no database access, so it is the baseline the benchmark compares against
        return JSONResponse({"status": "ok"})

    app.include_router(api_router.router, prefix=API_PREFIX)
    app.include_router(auth_web.router)
    install_web(app)  # the pages (bigov.web): same app, same sign-in and scope
    if settings.oidc is not None:
        from starlette.middleware.sessions import SessionMiddleware

        if not settings.secret_key:
            raise ConfigError(
                "OpenID Connect needs BIGOV_SERVER_SECRET_KEY (the sign-in state is signed with it)"
            )
        # only Authlib's short-lived sign-in state lives here; the bigov session is our cookie
        app.add_middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="bigov_oidc",
            same_site="lax",
            max_age=600,
        )
    app.add_middleware(
        ServerMiddleware,
        max_body_bytes=settings.max_body_bytes,
        count_queries=settings.count_queries,
    )
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn worker processes (``bigov serve`` passes settings by environment)."""
    log = logging.getLogger("bigov")
    if not log.handlers:
        # our lines only (access log as JSON, errors); Alembic's start-up chatter stays quiet
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return create_app(ServerSettings.from_env())
