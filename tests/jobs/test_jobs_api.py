"""/api/v1/jobs on the real app: admin and PMO see every job, anyone else the jobs they started
(another's is a 404 from the query); cancelling is audited and refused once a job has ended."""

from __future__ import annotations

from sqlalchemy import select

from bigov.auth.models import AuditEvent
from bigov.jobs.models import Job, JobState
from tests.server.conftest import Org, org  # noqa: F401 - the fixture, shared with the server tests


def _job(o: Org, started_by: str, state: JobState = JobState.QUEUED) -> int:
    with o.ws.session() as s:
        job = Job(kind="cycle.run", args={"node": "N-BOARD"}, state=state, started_by=started_by)
        job.log = "line one"
        s.add(job)
        s.flush()
        return job.id


def test_jobs_are_listed_to_their_starter_and_to_admin_and_pmo(org: Org) -> None:  # noqa: F811
    mine = _job(org, "mgr@example.org")
    other = _job(org, "pmo@example.org", JobState.SUCCEEDED)
    for who in ("admin", "pmo"):
        body = org.client.get("/api/v1/jobs", headers=org.auth(who)).json()
        assert [j["id"] for j in body["jobs"]] == [other, mine]
    body = org.client.get("/api/v1/jobs", headers=org.auth("mgr")).json()
    assert [j["id"] for j in body["jobs"]] == [mine]
    assert (
        body["jobs"][0]["state"] == "queued" and body["jobs"][0]["started_by"] == "mgr@example.org"
    )
    shown = org.client.get(f"/api/v1/jobs/{mine}", headers=org.auth("mgr"))
    assert shown.status_code == 200 and shown.json()["log"] == "line one"
    hidden = org.client.get(f"/api/v1/jobs/{other}", headers=org.auth("mgr"))
    assert hidden.status_code == 404
    assert org.client.get("/api/v1/jobs").status_code == 401
    assert org.client.get("/api/v1/jobs?state=bogus", headers=org.auth("admin")).status_code == 400
    # an id past 64 bits is the caller's error (422), not the database driver's overflow (500);
    # schemathesis found this one
    for query in ("before=9223372036854775808", "parent=9223372036854775808"):
        r = org.client.get(f"/api/v1/jobs?{query}", headers=org.auth("admin"))
        assert r.status_code == 422, query


def test_cancelling_a_job_is_audited_and_refused_once_it_ended(org: Org) -> None:  # noqa: F811
    mine = _job(org, "mgr@example.org")
    done = _job(org, "mgr@example.org", JobState.SUCCEEDED)
    theirs = _job(org, "admin@example.org")
    r = org.client.post(f"/api/v1/jobs/{mine}/cancel", headers=org.auth("mgr"))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert (
        org.client.post(f"/api/v1/jobs/{done}/cancel", headers=org.auth("mgr")).status_code == 409
    )
    assert (
        org.client.post(f"/api/v1/jobs/{theirs}/cancel", headers=org.auth("mgr")).status_code == 404
    )
    with org.ws.session() as s:
        events = s.execute(
            select(
                AuditEvent.user_email, AuditEvent.action, AuditEvent.entity_code, AuditEvent.after
            ).where(AuditEvent.entity_kind == "job")
        ).all()
    assert [(e[0], e[1], e[2]) for e in events] == [("mgr@example.org", "cancel", str(mine))]
    assert events[0][3] == {"state": "cancelled", "cancel_requested": True}
