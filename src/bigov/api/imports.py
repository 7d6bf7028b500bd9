"""Imports over HTTP: a multipart upload that runs the same import as ``bigov import`` (one
all-or-nothing batch, upsert by code) and answers with the same report as its ``--json``, or
422 with every problem found. PMO and admin only; every import attempt is audited.

The uploaded file is written to a private temporary folder under a name made harmless
(:func:`upload_name`): a name such as ``../../etc/passwd`` or one holding control or
bidirectional characters can neither escape the folder nor disguise itself in provenance. The
body size is bounded by the server's limit (``BIGOV_SERVER_MAX_BODY_BYTES``: 413 before it is
read)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bigov.api.common import Limit
from bigov.auth.service import Principal, record
from bigov.errors import ValidationError
from bigov.ingest.schemas import BatchInfo, ImportProblem, ImportReport
from bigov.server.deps import StateDep, UserDep, client_ip
from bigov.server.problems import Problem

router = APIRouter(prefix="/imports", tags=["imports"])
MAX_PROBLEMS = 1000  # a report, not a dump: the count says how many more there were
_SUFFIX_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


class ImportRefused(BaseModel):
    """The 422 answer of a refused import (an RFC 9457 problem with the problems listed)."""

    type: str
    title: str
    status: int
    detail: str
    problem_count: int
    problems: list[ImportProblem]


def upload_name(raw: str | None) -> str:
    """The upload's file name as one harmless component: the last path part of what the client
    sent, letters, digits and ``. _ - @`` only, its suffix (which picks the importer) kept."""
    from bigov.reports.filenames import safe_filename

    last = (raw or "").replace("\\", "/").split("/")[-1]
    stem, dot, suffix = last.rpartition(".")
    if not dot or not stem:
        stem, suffix = last, ""
    suffix = suffix.lower()
    if not suffix or len(suffix) > 8 or not set(suffix) <= _SUFFIX_CHARS:
        suffix = ""
    return safe_filename(stem)[:120] + (f".{suffix}" if suffix else "")


def _may_import(user: Principal) -> None:
    if not user.sees_everything:
        raise Problem(403, f"your role ({user.role.value}) may not import; admin or pmo may")


def _save(upload: UploadFile, folder: Path, name: str) -> Path:
    target = folder / name
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    return target


def _options(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise Problem(422, f"field 'option': {item!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


@router.post(
    "",
    response_model=ImportReport,
    status_code=201,
    responses={200: {"model": ImportReport}, 403: {}, 413: {}, 422: {"model": ImportRefused}},
)
def post_import(
    request: Request,
    st: StateDep,
    user: UserDep,
    file: Annotated[UploadFile, File(description="CSV, XLSX, JSON or schedule file.")],
    mapping: Annotated[UploadFile | None, File(description="A mapping (YAML).")] = None,
    kind: Annotated[str | None, Form(max_length=64, pattern=r"^[a-z_]{1,64}$")] = None,
    preset: Annotated[str | None, Form(max_length=64, pattern=r"^[a-z0-9_-]{1,64}$")] = None,
    importer: Annotated[str | None, Form(max_length=32, pattern=r"^[a-z0-9_-]{1,32}$")] = None,
    dry_run: Annotated[bool, Form()] = False,
    option: Annotated[list[str] | None, Form(description="Importer option KEY=VALUE.")] = None,
) -> Any:
    """Import the uploaded file as one all-or-nothing batch (upsert by code): 201 with the
    report when committed, 200 for a `dry_run`, 422 with every problem when refused (nothing
    written). The report is the same as `bigov import --json` prints."""
    from bigov.ingest.service import import_file, resolve_options

    _may_import(user)
    name = upload_name(file.filename)
    extra = _options(option)
    lock: threading.Lock | nullcontext[None] = st.write_lock or nullcontext()
    with tempfile.TemporaryDirectory(prefix="bigov-upload-") as tmp:
        folder = Path(tmp)
        path = _save(file, folder, name)
        mapping_path = _save(mapping, folder, "mapping.yaml") if mapping is not None else None
        try:
            options = resolve_options(mapping=mapping_path, preset=preset, kind=kind, extra=extra)
            with lock:
                result = import_file(
                    st.ws, path, options=options, importer=importer, user=user.email,
                    dry_run=dry_run,
                )  # fmt: skip
        except ValidationError as err:
            problems = [ImportProblem.of(p) for p in err.problems]
            _audit(st, request, user, name, "import_refused", None, len(problems), dry_run)
            return JSONResponse(
                ImportRefused(
                    type="about:blank",
                    title="Unprocessable content",
                    status=422,
                    detail=str(err),
                    problem_count=len(problems),
                    problems=problems[:MAX_PROBLEMS],
                ).model_dump(mode="json"),
                status_code=422,
                media_type="application/problem+json",
            )
    report = ImportReport.of(result)
    _audit(st, request, user, name, "import", report, report.problems, dry_run)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if dry_run else 201)


def _audit(
    st: StateDep,
    request: Request,
    user: Principal,
    name: str,
    action: str,
    report: ImportReport | None,
    problems: int,
    dry_run: bool,
) -> None:
    code = f"batch-{report.batch_id}" if report and report.batch_id else name
    with st.ws.session() as s:
        record(
            s,
            who=user.email,
            ip=client_ip(request),
            action=action + ("_dry_run" if dry_run else ""),
            kind="import_batch",
            code=code[:64],
            before=None,
            after=report.model_dump(mode="json")
            if report
            else {"file_name": name, "problems": problems},
        )


@router.get("", response_model=list[BatchInfo])
def list_imports(st: StateDep, user: UserDep, limit: Limit = 50) -> Any:
    """The latest import batches, newest first (admin, pmo)."""
    from bigov.ingest.service import batches

    _may_import(user)
    # the same rows (and schema) `bigov batches --json` prints
    return batches(st.ws, limit=limit)
