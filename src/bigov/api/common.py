"""What the routers share: codes in paths, cursors, ETags and the problem answers they raise."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator

from bigov.server.problems import Problem


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it at the edge rather than fail in the database
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


SafeStr = Annotated[str, AfterValidator(_no_nul)]

# a code as master sources write it; anything else (slashes, quotes, %, spaces) is refused
CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
CodePath = Annotated[str, Path(pattern=CODE_RE, description="The item's common reference code.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (at most 500).")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
]


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
