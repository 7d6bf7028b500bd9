"""The audit trail of writes made through the server (admin and PMO only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from bigov.api.common import SafeStr
from bigov.auth.schemas import AuditPage, audit_events
from bigov.auth.service import audit_rows
from bigov.server.deps import StateDep, UserDep
from bigov.server.problems import Problem

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=AuditPage)
def audit(
    st: StateDep,
    user: UserDep,
    entity: Annotated[
        SafeStr | None, Query(max_length=128, description="Entity code (exact).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Events older than this id.")
    ] = None,
) -> Any:
    """Who changed what, when, from where, with the fields before and after; newest first."""
    if not user.sees_everything:
        raise Problem(403, "the audit trail is for the admin and pmo roles")
    with st.ws.session() as s:
        rows = audit_rows(s, entity=entity, limit=limit, before_id=before)
    return AuditPage(
        events=audit_events(rows), next_before=rows[-1]["id"] if len(rows) == limit else None
    )
