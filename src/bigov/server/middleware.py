"""Pure ASGI middleware: structured access log, request-size limit, security headers and the
per-request statement counter. Pure ASGI (not BaseHTTPMiddleware) so streaming bodies pass
through untouched and the cost per request stays a few microseconds."""

from __future__ import annotations

import contextvars
import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bigov.server.problems import PROBLEM, TITLES

access_log = logging.getLogger("bigov.access")
# statements run for the current request (a one-element list so threads can add to it)
query_counter: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "bigov_query_counter", default=None
)
# the user the request was made by, for the access log (set by the auth dependency)
request_user: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "bigov_request_user", default=None
)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    b"https://fastapi.tiangolo.com; frame-ancestors 'none'"
)


class ServerMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, count_queries: bool) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.count_queries = count_queries

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        counter: list[int] = [0]
        user: list[str] = []
        query_counter.set(counter)
        request_user.set(user)
        status = {"code": 500}
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _too_large(send, self.max_body)
            self._log(scope, 413, started, counter, user)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _BodyTooLargeError
            return message

        docs = scope["path"].endswith(("/docs", "/redoc"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                extra = list(SECURITY_HEADERS)
                own = {k.lower() for k, _ in message.get("headers", [])}
                if b"content-security-policy" in own:
                    # the web pages set their own (still strict) policy: never send two
                    extra = [h for h in extra if h[0] != b"content-security-policy"]
                if docs:
                    extra = [h for h in extra if h[0] != b"content-security-policy"]
                    extra.append((b"content-security-policy", DOCS_CSP))
                if self.count_queries:
                    extra.append((b"x-query-count", str(counter[0]).encode()))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except _BodyTooLargeError:
            status["code"] = 413
            await _too_large(send, self.max_body)
        finally:
            self._log(scope, status["code"], started, counter, user)

    def _log(
        self, scope: Scope, status: int, started: float, counter: list[int], user: list[str]
    ) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        client = scope.get("client")
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "client": client[0] if client else None,
            "user": user[0] if user else None,
            "queries": counter[0],
        }
        # json.dumps escapes control characters, so a hostile path cannot forge log lines
        access_log.info(json.dumps(line, separators=(",", ":")))


class _BodyTooLargeError(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": TITLES[413],
            "status": 413,
            "detail": f"request body larger than the limit of {limit} bytes",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
