"""PMO pages: import upload (the validation report as a table and as an XLSX to download),
batches, data quality, running and publishing cycles in the background, the governance design
editor, and user administration."""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response

from bigov.auth.models import UserRole
from bigov.errors import BigovError, ConflictError, NotFoundError, ValidationError
from bigov.web.core import (
    PageNotFoundError,
    UserDep,
    WebUser,
    redirect,
    render,
    require,
    state,
)
from bigov.web.jobs import Jobs, ThreadJobs

router = APIRouter(include_in_schema=False)
PMO = (UserRole.ADMIN, UserRole.PMO)
REPORTS_KEPT = 50
# uploads and error reports live here for the life of the process, never in the web root
_WORK = Path(tempfile.mkdtemp(prefix="bigov-web-"))
_REPORTS: dict[str, Path] = {}


def jobs(request: Request) -> Jobs:
    """The app's job runner (a thread runner until the job engine takes over)."""
    runner: Jobs | None = getattr(request.app.state, "web_jobs", None)
    if runner is None:
        runner = ThreadJobs()
        request.app.state.web_jobs = runner
    return runner


@router.get("/pmo")
def pmo_index(request: Request, user: UserDep) -> Response:
    require(user, *PMO)
    return render(request, "pmo/index.html.j2", {"title": "PMO"}, user=user)


# -- imports --


def _kinds() -> list[str]:
    from bigov.ingest.spec import kinds

    return kinds()


@router.get("/pmo/import")
def import_form(request: Request, user: UserDep) -> Response:
    require(user, *PMO)
    return render(
        request,
        "pmo/import.html.j2",
        {"title": "Import a file", "kinds": _kinds(), "problems": [], "result": None, "report": ""},
        user=user,
    )


@router.post("/pmo/import")
async def import_post(
    request: Request,
    user: UserDep,
    upload: Annotated[UploadFile, File()],
    kind: Annotated[str, Form(max_length=64)] = "",
    dry_run: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """One all-or-nothing batch: on any problem the table of problems and the XLSX report, and
    the data unchanged."""
    require(user, *PMO)
    from bigov.ingest.service import import_file, resolve_options
    from bigov.ingest.template import write_error_report

    st = state(request)
    # the file's own name (the importer goes by its suffix), never a path out of the folder
    name = Path(upload.filename or "upload").name
    if name in ("", ".", "..") or name.startswith("."):
        name = "upload" + Path(name).suffix
    folder = _WORK / secrets.token_hex(8)
    folder.mkdir()
    path = folder / name
    path.write_bytes(await upload.read())
    ctx: dict[str, object] = {"title": "Import a file", "kinds": _kinds(), "report": ""}
    try:
        options = resolve_options(kind=kind or None)
        result = import_file(st.ws, path, options=options, user=user.email, dry_run=bool(dry_run))
    except ValidationError as err:
        token = secrets.token_urlsafe(12)
        report = write_error_report(err.problems, folder / "errors.xlsx")
        _REPORTS[token] = report
        while len(_REPORTS) > REPORTS_KEPT:
            _REPORTS.pop(next(iter(_REPORTS)))
        ctx.update(problems=err.problems, message=str(err), result=None, report=token)
        return render(request, "pmo/import.html.j2", ctx, user=user, status=422)
    except BigovError as err:
        ctx.update(problems=[], message=str(err), result=None)
        return render(request, "pmo/import.html.j2", ctx, user=user, status=422)
    finally:
        path.unlink(missing_ok=True)
    ctx.update(problems=[], message="", result=result)
    return render(request, "pmo/import.html.j2", ctx, user=user)


@router.get("/pmo/import/errors/{token}")
def error_report(request: Request, token: str, user: UserDep) -> Response:
    require(user, *PMO)
    path = _REPORTS.get(token)
    if path is None or not path.is_file():
        raise PageNotFoundError("error report")
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="import-errors.xlsx",
    )


@router.get("/pmo/batches")
def batches_page(request: Request, user: UserDep) -> Response:
    require(user, *PMO)
    from bigov.ingest.service import batches

    rows = batches(state(request).ws, limit=200)
    return render(
        request, "pmo/batches.html.j2", {"title": "Import batches", "rows": rows}, user=user
    )


@router.get("/pmo/quality")
def quality_page(request: Request, user: UserDep) -> Response:
    require(user, *PMO)
    from bigov.analysis.quality import findings

    with state(request).ws.session() as s:
        report = findings(s)
    return render(
        request, "pmo/quality.html.j2", {"title": "Data quality", "report": report}, user=user
    )


# -- cycles --


@router.get("/pmo/cycles")
def cycles_page(request: Request, user: UserDep) -> Response:
    require(user, *PMO)
    st = state(request)
    from bigov.web import service

    with st.ws.session() as s:
        scope = user.scope(s)
        boards = service.boards(s, scope, st.ws.fiscal_year_start_month)
        recent = service.cycles(s, scope)[:60]
    return render(
        request,
        "pmo/cycles.html.j2",
        {
            "title": "Run and publish cycles",
            "boards": boards,
            "recent": recent,
            "period": dt.date.today().strftime("%Y-%m"),
            "errors": {},
        },
        user=user,
    )


@router.post("/pmo/cycles")
def run_cycles(
    request: Request,
    user: UserDep,
    period: Annotated[str, Form(max_length=7)] = "",
    node: Annotated[str, Form(max_length=64)] = "",
    publish: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Start a cycle run (one node, or every node due) in the background."""
    require(user, *PMO)
    from bigov.governance.periods import parse_period

    st = state(request)
    try:
        parse_period(period)
    except BigovError:
        return render(
            request,
            "message.html.j2",
            {"title": "Not started", "message": f"{period!r} is not a period YYYY-MM."},
            user=user,
            status=422,
        )
    ws = st.ws
    do_publish = bool(publish)

    def work(reporter: object) -> str:
        from bigov.progress import Reporter

        rep: Reporter = reporter  # type: ignore[assignment]
        if node:
            rep.start(f"cycle {node} {period}", 1)
            res = ws.governance.run_cycle(node, period, publish=do_publish, formats=())
            rep.advance()
            return f"{res.code}: {res.exceptions} exceptions, {res.owned_here} owned there"
        results = ws.governance.run_all(
            period, publish=do_publish, formats=(), reporter=rep, skip_published=True
        )
        return f"{len(results)} cycle(s) run for {period}"

    title = f"Cycle {node} {period}" if node else f"All nodes due in {period}"
    job = jobs(request).submit(title, work, owner=user.email)
    return redirect(f"/pmo/jobs/{job}")


@router.get("/pmo/jobs/{job_id}")
def job_page(request: Request, job_id: str, user: UserDep) -> Response:
    require(user, *PMO)
    job = jobs(request).get(job_id)
    if job is None:
        raise PageNotFoundError("job")
    template = (
        "pmo/job_progress.html.j2" if request.headers.get("hx-request") else "pmo/job.html.j2"
    )
    response = render(request, template, {"title": job.title, "job": job}, user=user)
    if job.status in ("done", "failed") and request.headers.get("hx-request"):
        # HTMX stops polling on 286
        response.status_code = 286
    return response


@router.post("/pmo/cycles/publish")
def publish(
    request: Request, user: UserDep, code: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    require(user, *PMO)
    try:
        state(request).ws.governance.publish(code)
    except NotFoundError:
        raise PageNotFoundError("cycle") from None
    except ConflictError:
        pass  # published already: the page shows it so
    return redirect("/pmo/cycles")


# -- governance design --


@router.get("/pmo/governance")
def design_page(request: Request, user: UserDep) -> Response:
    require(user, *PMO)
    st = state(request)
    folder = _WORK / secrets.token_hex(8)
    folder.mkdir()
    path = st.ws.governance.export_design(folder / "design.yaml")
    text = path.read_text(encoding="utf-8")
    path.unlink()
    design = st.ws.governance.design()
    return render(
        request,
        "pmo/governance.html.j2",
        {"title": "Governance design", "text": text, "problems": [], "design": design, "flash": ""},
        user=user,
    )


@router.post("/pmo/governance")
def design_post(
    request: Request,
    user: UserDep,
    design: Annotated[str, Form(max_length=2_000_000)] = "",
) -> Response:
    """Apply an edited design through the YAML import: the same validation, every problem
    listed, nothing changed unless all pass."""
    require(user, *PMO)
    st = state(request)
    folder = _WORK / secrets.token_hex(8)
    folder.mkdir()
    path = folder / "design.yaml"
    path.write_text(design, encoding="utf-8")
    try:
        counts = st.ws.governance.import_design(path, written_by=user.email)
    except ValidationError as err:
        return render(
            request,
            "pmo/governance.html.j2",
            {
                "title": "Governance design",
                "text": design,
                "problems": err.problems,
                "message": str(err),
                "design": st.ws.governance.design(),
                "flash": "",
            },
            user=user,
            status=422,
        )
    except BigovError as err:
        return render(
            request,
            "pmo/governance.html.j2",
            {
                "title": "Governance design",
                "text": design,
                "problems": [],
                "message": str(err),
                "design": st.ws.governance.design(),
                "flash": "",
            },
            user=user,
            status=422,
        )
    finally:
        path.unlink(missing_ok=True)
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    return render(
        request,
        "pmo/governance.html.j2",
        {
            "title": "Governance design",
            "text": design,
            "problems": [],
            "design": st.ws.governance.design(),
            "flash": f"Design saved: {summary}.",
        },
        user=user,
    )


# -- users --


def _users_page(
    request: Request, user: WebUser, *, error: str = "", flash: str = "", status: int = 200
) -> Response:
    from bigov.auth.service import list_users

    with state(request).ws.session() as s:
        users = list_users(s)
    return render(
        request,
        "admin/users.html.j2",
        {
            "title": "Users",
            "users": users,
            "roles": [r.value for r in UserRole],
            "error": error,
            "flash": flash,
        },
        user=user,
        status=status,
    )


@router.get("/admin/users")
def users_page(request: Request, user: UserDep) -> Response:
    require(user, UserRole.ADMIN)
    return _users_page(request, user)


@router.post("/admin/users")
def add_user_post(
    request: Request,
    user: UserDep,
    email: Annotated[str, Form(max_length=255)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
    units: Annotated[str, Form(max_length=1000)] = "",
    nodes: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    require(user, UserRole.ADMIN)
    from bigov.auth.service import add_user, record

    try:
        with state(request).ws.session() as s:
            add_user(
                s,
                email,
                role,
                password=password or None,
                units=units.replace(",", " ").split(),
                nodes=nodes.replace(",", " ").split(),
            )
            record(
                s,
                who=user.email,
                ip=request.client.host if request.client else None,
                action="create",
                kind="user",
                code=email.strip().lower(),
                before=None,
                after={"role": role, "units": units, "nodes": nodes},
            )
    except (ValidationError, ConflictError) as err:
        return _users_page(request, user, error=str(err).replace("--", ""), status=422)
    return _users_page(request, user, flash=f"User {email.strip().lower()} added.")


@router.post("/admin/users/disable")
def disable_user_post(
    request: Request, user: UserDep, email: Annotated[str, Form(max_length=255)] = ""
) -> Response:
    require(user, UserRole.ADMIN)
    from bigov.auth.service import disable_user

    if email.strip().lower() == user.email:
        return _users_page(request, user, error="You cannot disable yourself.", status=422)
    try:
        with state(request).ws.session() as s:
            disable_user(s, email)
    except NotFoundError:
        raise PageNotFoundError("user") from None
    return _users_page(request, user, flash=f"User {email} disabled.")
