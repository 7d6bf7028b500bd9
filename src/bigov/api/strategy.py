"""OTCs with their version history, and a change of strategy as a new version.

A change of an objective, target or challenge is never an overwrite: it is a new version from
an effective date (:func:`bigov.strategy.service.revise_otc_in`), the previous one closed the
day before, and history kept. The new version is guarded by If-Match on the OTC as read, so
two people revising one OTC at once cannot both build on the same version: the second gets
412 and the current one. Strategy is the board's: admin, pmo, and members of a board that
governs the whole organisation may revise it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bigov.api.common import (
    PUT_RESPONSES,
    CodePath,
    IfMatch,
    SafeStr,
    audited,
    aware,
    claim_version,
    etag_of,
    not_found,
    written,
)
from bigov.auth.scope import scope_for
from bigov.org.models import Person
from bigov.server.deps import StateDep, UserDep, scoped_read
from bigov.server.problems import Problem
from bigov.strategy.models import Otc, OtcKind, OtcStatus, OtcVersion

router = APIRouter(prefix="/strategy/otcs", tags=["strategy"])


class OtcVersionOut(BaseModel):
    version: int
    title: str
    description: str | None
    status: OtcStatus
    effective_from: dt.date
    effective_to: dt.date | None
    change_reason: str | None


class OtcDetail(BaseModel):
    code: str
    kind: OtcKind
    title: str
    description: str | None
    status: OtcStatus
    version: int
    effective_from: dt.date
    owner: str | None
    updated_at: dt.datetime | None
    versions: list[OtcVersionOut]


class OtcRevision(BaseModel):
    """A new version of an OTC from ``effective_from`` (after the current version's start);
    fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid")
    effective_from: dt.date
    reason: SafeStr = Field(min_length=1, max_length=2000)
    title: SafeStr | None = Field(None, min_length=1, max_length=255)
    description: SafeStr | None = Field(None, max_length=20000)
    status: OtcStatus | None = None


def _detail(s: Session, code: str) -> OtcDetail | None:
    row = s.execute(
        select(
            Otc.id,
            Otc.code,
            Otc.kind,
            Otc.title,
            Otc.description,
            Otc.status,
            Otc.version,
            Otc.effective_from,
            Person.code.label("owner"),
            Otc.updated_at,
        )
        .outerjoin(Person, Person.id == Otc.owner_id)
        .where(Otc.code == code)
    ).first()
    if row is None:
        return None
    versions = [
        OtcVersionOut.model_validate(dict(v._mapping))
        for v in s.execute(
            select(
                OtcVersion.version,
                OtcVersion.title,
                OtcVersion.description,
                OtcVersion.status,
                OtcVersion.effective_from,
                OtcVersion.effective_to,
                OtcVersion.change_reason,
            )
            .where(OtcVersion.otc_id == row.id)
            .order_by(OtcVersion.version)
        )
    ]
    data = aware(row)
    data.pop("id")
    return OtcDetail(**data, versions=versions)


def _etag(otc: OtcDetail) -> str:
    return etag_of(otc.model_dump(mode="json"))


@router.get("/{code}", response_model=OtcDetail, responses={404: {}})
def get_otc(code: CodePath, st: StateDep, user: UserDep) -> Any:
    """One OTC at its current version, with every version (oldest first) and its ETag."""
    with scoped_read(st, user) as (s, _):
        otc = _detail(s, code)
    if otc is None:
        raise not_found("OTC", code)
    return JSONResponse(otc.model_dump(mode="json"), headers={"ETag": _etag(otc)})


@router.post("/{code}/versions", response_model=OtcDetail, status_code=201, responses=PUT_RESPONSES)
def revise_otc(
    code: CodePath,
    body: OtcRevision,
    request: Request,
    st: StateDep,
    user: UserDep,
    if_match: IfMatch = None,
) -> Any:
    """Record a change of strategy: a new version of the OTC from `effective_from`. Send
    `If-Match` with the ETag of the OTC you read (412 with the current one when stale)."""
    from bigov.strategy.service import revise_otc_in

    with st.writing() as s:
        scope = scope_for(s, user)
        if not scope.organisation:
            raise Problem(
                403,
                "changing strategy needs the admin or pmo role, or a seat on a board that "
                "governs the whole organisation",
            )
        row = s.scalar(select(Otc).where(Otc.code == code).with_for_update())
        before = _detail(s, code)
        if row is None or before is None:
            raise not_found("OTC", code)
        current = before
        claim_version(
            s,
            Otc,
            row,
            if_match,
            _etag(current),
            lambda: Problem(
                412,
                f"OTC {code} changed since you read it",
                headers={"ETag": _etag(current)},
                current=current.model_dump(mode="json"),
            ),
        )
        s.refresh(row)
        revise_otc_in(
            s,
            row,
            effective_from=body.effective_from,
            reason=body.reason,
            title=body.title,
            description=body.description,
            status=body.status,
            written_by=user.email,
        )
        row.written_by = user.email
        s.flush()
        after = _detail(s, code)
        assert after is not None
        audited(s, request, user, kind="otc", code=code, before=before, after=after)
    return written(after, created=True, etag=_etag(after))
