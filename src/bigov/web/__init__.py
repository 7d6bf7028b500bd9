"""The web application: server-rendered pages (Jinja2 + HTMX) on the same FastAPI app as the
API, each role's work in a browser. :func:`install` mounts it; see ``docs/web.md``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from bigov.web.core import (
    STATIC_DIR,
    ForbiddenError,
    LoginRequiredError,
    PageNotFoundError,
    optional_user,
    render,
)


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and their error pages on ``app``."""
    from urllib.parse import quote

    from bigov.web import board, datacalls, home, other, pmo, work

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (home, board, work, pmo, datacalls, other):
        app.include_router(module.router)

    @app.exception_handler(LoginRequiredError)
    def _login(request: Request, exc: LoginRequiredError) -> Response:
        if request.headers.get("hx-request") == "true":
            # HTMX follows HX-Redirect with a full page load rather than swapping the form in
            return HTMLResponse("", headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='')}", status_code=303)

    @app.exception_handler(PageNotFoundError)
    def _missing(request: Request, exc: PageNotFoundError) -> Response:
        return render(
            request,
            "message.html.j2",
            {"title": "Page not found", "message": f"There is no {exc.what} you can see here."},
            user=optional_user(request),
            status=404,
        )

    @app.exception_handler(ForbiddenError)
    def _forbidden(request: Request, exc: ForbiddenError) -> Response:
        return render(
            request,
            "message.html.j2",
            {"title": "Not allowed", "message": exc.reason},
            user=optional_user(request),
            status=403,
        )


__all__ = ["install"]
