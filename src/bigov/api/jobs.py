"""/api/v1/jobs: background jobs, read-only plus cancel. Admin and PMO see every job; anyone
else sees the jobs they started (in the query itself: another's job is a 404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from bigov.api.common import SafeStr
from bigov.auth.service import Principal, record
from bigov.jobs.schemas import JobDetail, JobView
from bigov.server.deps import StateDep, UserDep, client_ip

router = APIRouter(tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=2**62)]


def _visible_to(user: Principal) -> str | None:
    return None if user.sees_everything else user.email


@router.get("/jobs")
def list_jobs(
    st: StateDep,
    user: UserDep,
    state: Annotated[SafeStr | None, Query(max_length=32)] = None,
    kind: Annotated[SafeStr | None, Query(max_length=64)] = None,
    parent: Annotated[
        int | None, Query(ge=1, le=2**62, description="The jobs a job was split into.")
    ] = None,
    every: Annotated[
        bool, Query(alias="all", description="Include the jobs split jobs were split into.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    # ids are 64-bit: a larger one is a 422, not an overflow in the database driver (a 500)
    before: Annotated[
        int | None, Query(ge=1, le=2**62, description="Jobs older than this id.")
    ] = None,
) -> dict[str, Any]:
    """Jobs, newest first: kind, state, who started them, progress, result or error."""
    rows: list[JobView] = st.ws.jobs.list(
        state=state,
        kind=kind,
        parent=parent,
        top_level=not every,
        visible_to=_visible_to(user),
        limit=limit,
        before=before,
    )
    return {
        "jobs": [r.model_dump(mode="json") for r in rows],
        "next_before": rows[-1].id if len(rows) == limit else None,
    }


@router.get("/jobs/{job_id}")
def show_job(st: StateDep, user: UserDep, job_id: JobId) -> JobDetail:
    """One job with its arguments and log."""
    return st.ws.jobs.show(job_id, visible_to=_visible_to(user))


@router.post("/jobs/{job_id}/cancel")
def cancel_job(st: StateDep, user: UserDep, job_id: JobId, request: Request) -> JobView:
    """Cancel a job: one not started ends at once, a running one at its next progress report
    (its work in progress rolled back). 409 when it has finished."""

    def audit(s: Any, before: dict[str, Any], after: dict[str, Any]) -> None:
        record(
            s,
            who=user.email,
            ip=client_ip(request),
            action="cancel",
            kind="job",
            code=str(job_id),
            before=before,
            after=after,
        )

    return st.ws.jobs.cancel(job_id, visible_to=_visible_to(user), on_write=audit)
