"""What the routers share: codes in paths, cursors and pages, ETags, the guarded write (If-Match,
compare-and-set, audit) and the problem answers they raise."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

from fastapi import Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel
from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bigov.auth.service import Principal, record
from bigov.codes import refuse_nul
from bigov.db.base import utcnow
from bigov.server.deps import client_ip
from bigov.server.problems import Problem

T = TypeVar("T")


SafeStr = Annotated[str, AfterValidator(refuse_nul)]

# a code as master sources write it; anything else (slashes, quotes, %, spaces) is refused
CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
CodePath = Annotated[str, Path(pattern=CODE_RE, description="The item's common reference code.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (at most 500).")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
]

IfMatch = Annotated[str | None, Header()]
# what a guarded PUT may answer besides 200, listed so the schema documents each
PUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {},
    403: {},
    404: {},
    412: {},
    422: {},
    428: {},
}


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The values a cursor carries; 422 naming ``cursor`` if it was not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise Problem(422, "field 'cursor': not a cursor this API returned")
    return values


def etag_of(body: dict[str, Any]) -> str:
    """A strong ETag: the hash of the representation (with its updated_at), so any change to
    the stored row changes it, on every backend alike."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def check_code(value: str, field: str) -> str:
    if not re.match(CODE_RE, value):
        raise Problem(422, f"field {field!r}: codes are letters, digits and . _ : - (≤64)")
    return value


def not_found(kind: str, code: str) -> Problem:
    # the same answer for "absent" and "out of your scope", so codes do not leak
    return Problem(404, f"no {kind} {code}")


def aware(row: Any) -> dict[str, Any]:
    """A row's mapping with ``updated_at`` made timezone-aware: SQLite hands UTC back naive, and
    the representation (hence the ETag) must be the same on every backend."""
    data = dict(row._mapping)
    if data.get("updated_at") is not None and data["updated_at"].tzinfo is None:
        data["updated_at"] = data["updated_at"].replace(tzinfo=dt.UTC)
    return data


def where_given(q: Any, *pairs: tuple[Any, Any]) -> Any:
    """``q`` narrowed by ``column == value`` for each filter the caller gave (None: not given)."""
    for column, value in pairs:
        if value is not None:
            q = q.where(column == value)
    return q


def after_code(cursor: str | None, column: Any, *, desc: bool = False) -> Any:
    """Keyset condition for ordering by a unique code (None: from the start)."""
    if cursor is None:
        return None
    (last,) = decode_cursor(cursor, 1)
    return column < str(last) if desc else column > str(last)


def after_period_code(
    cursor: str | None, period_col: Any, code_col: Any, *, newest_first: bool = False
) -> Any:
    """Keyset condition for (period, code) ordering from a cursor (None: from the start);
    ``newest_first`` for periods descending, codes still ascending."""
    if cursor is None:
        return None
    last_period, last_code = decode_cursor(cursor, 2)
    try:
        day = dt.date.fromisoformat(str(last_period))
    except ValueError:
        raise Problem(422, "field 'cursor': not a cursor this API returned") from None
    later = period_col < day if newest_first else period_col > day
    return or_(later, and_(period_col == day, code_col > str(last_code)))


def next_page(
    rows: list[T], limit: int, key: Callable[[T], list[Any]]
) -> tuple[list[T], str | None]:
    """The page (``rows`` was fetched with ``limit + 1`` to tell whether more follow) and the
    cursor of the next one, built from the last row shown."""
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1])) if more else None


def resolve_code(s: Session, model: Any, code: str | None, field: str) -> int | None:
    """The id of the ``model`` row with ``code`` (None stays None); 422 naming ``field`` if none."""
    if code is None:
        return None
    check_code(code, field)
    found = s.scalar(select(model.id).where(model.code == code))
    if found is None:
        raise Problem(422, f"field {field!r}: no such code {code}")
    return int(found)


def claim_version(
    s: Session,
    model: Any,
    row: Any,
    if_match: str | None,
    etag: str,
    stale: Callable[[], Problem],
    lost: Callable[[], Problem] | None = None,
) -> None:
    """Let a replace go ahead only on the version the client read: 428 without If-Match,
    ``stale()`` when it names another version, ``lost()`` (default ``stale()``, after a
    rollback) when a concurrent writer committed first."""
    if if_match is None:
        raise Problem(428, "send If-Match with the ETag of the version you edited")
    if if_match.strip() not in (etag, "*"):
        raise stale()
    # compare-and-set on the version read: a writer that read the same version and
    # committed first leaves no row to claim, whatever the backend's locking
    claimed = s.execute(
        update(model)
        .where(model.id == row.id, model.updated_at == row.updated_at)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], claimed).rowcount != 1:
        s.rollback()
        raise (lost or stale)()


def flush_or_conflict(s: Session, detail: str) -> None:
    """Flush the write; 409 with ``detail`` when a concurrent create of the same key won."""
    try:
        s.flush()
    except IntegrityError:
        raise Problem(409, detail) from None


def audited(
    s: Session,
    request: Request,
    user: Principal,
    *,
    kind: str,
    code: str,
    before: BaseModel | None,
    after: BaseModel,
) -> None:
    """Record the write in the audit trail, in the write's own transaction."""
    record(
        s,
        who=user.email,
        ip=client_ip(request),
        action="update" if before is not None else "create",
        kind=kind,
        code=code,
        before=before.model_dump(mode="json") if before else None,
        after=after.model_dump(mode="json"),
    )


def written(after: BaseModel, *, created: bool, etag: str) -> JSONResponse:
    """The answer to a PUT: the stored representation, 201 if new else 200, with its ETag."""
    return JSONResponse(
        after.model_dump(mode="json"), status_code=201 if created else 200, headers={"ETag": etag}
    )
