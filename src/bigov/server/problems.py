"""Every error as RFC 9457 problem details (``application/problem+json``), one shape for all.

Bad input answers 422 naming the field; a BigovError maps by kind (unknown code 404, conflict
409, invalid input 422, bad setting 400). Anything else is a bug: logged with its traceback on
the server, answered 500 without one."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError as SQLAlchemyDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bigov.errors import (
    BigovError,
    ConfigError,
    ConflictError,
    NotFoundError,
    ValidationError,
)

log = logging.getLogger("bigov.server")
PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many attempts",
    500: "Internal error",
}


class Problem(Exception):  # noqa: N818 - it is the RFC 9457 name
    """Raise from a handler to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "name") -> "name"; ("query", "limit") -> "limit"; ("path", "code") -> "code"
    parts = [str(p) for p in loc[1:]] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            if e.get("type") == "json_invalid":
                # loc is ("body", <character offset>): the body as a whole is malformed
                where = e.get("loc", ("body", "?"))[-1]
                errors.append({"field": "body", "reason": f"malformed JSON at character {where}"})
            else:
                errors.append(
                    {"field": _field(e.get("loc", ())), "reason": str(e.get("msg", "invalid"))}
                )
        first = errors[0] if errors else {"field": "body", "reason": "invalid"}
        return problem_response(422, f"field {first['field']!r}: {first['reason']}", errors=errors)

    @app.exception_handler(BigovError)
    async def _bigov(request: Request, exc: BigovError) -> JSONResponse:
        status = 500
        if isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, ConflictError):
            status = 409
        elif isinstance(exc, ValidationError):
            status = 422
        elif isinstance(exc, ConfigError):
            status = 400
        extra: dict[str, Any] = {}
        if isinstance(exc, ValidationError) and exc.problems:
            extra["errors"] = [
                {"field": p.column or "", "row": p.row, "reason": p.reason}
                for p in exc.problems[:100]
            ]
        if status == 500:
            log.error("unhandled %s: %s", type(exc).__name__, exc)
            return problem_response(500, "the server could not complete the request")
        return problem_response(status, str(exc), **extra)

    @app.exception_handler(SQLAlchemyDataError)
    async def _data(request: Request, exc: SQLAlchemyDataError) -> JSONResponse:
        # the database refused a value (out of range, unstorable character): bad input that got
        # past validation; the unit of work was rolled back, so nothing changed
        log.warning(
            "database refused a value on %s %s: %s",
            request.method,
            request.url.path,
            str(exc.orig).splitlines()[0] if exc.orig else exc,
        )
        return problem_response(422, "a value the database cannot store; nothing was changed")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "the server could not complete the request")
